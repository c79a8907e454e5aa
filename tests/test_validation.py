"""optimkit.validation: the one helper every option goes through; errors name option, value and range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimkit import errors
from optimkit.validation import check_bool, check_choice, check_int, check_real, resolve_alias


def test_valid_values_come_back_converted() -> None:
    assert check_int("popsize", np.int64(8), 2) == 8 and type(check_int("popsize", 8, 2)) is int
    assert check_real("sigma", 1, 0.0, low_open=True) == 1.0
    assert check_real("restarts", math.inf, 0.0, finite=False) == math.inf
    assert check_choice("mode", "pure", ("pure", "hybrid")) == "pure"
    assert check_bool("flag", np.bool_(True)) is True


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: check_int("popsize", 1, 2), r"popsize must be an integer in \[2, inf\), got 1"),
        (lambda: check_int("popsize", 2.0, 2), r"popsize must be an integer"),
        (lambda: check_int("popsize", True, 0), r"popsize"),
        (lambda: check_real("sigma", 0.0, 0.0, low_open=True), r"sigma must be a finite number in \(0, inf\), got 0.0"),
        (lambda: check_real("p_self", 1.5, 0.0, 1.0), r"p_self must be a finite number in \[0, 1\], got 1.5"),
        (lambda: check_real("p_self", float("nan"), 0.0, 1.0), r"p_self .* got nan"),
        (lambda: check_real("bound", math.inf, 0.0), r"bound must be a finite number"),
        (lambda: check_real("sigma", "0.1", 0.0), r"sigma .* got '0.1'"),
        (lambda: check_choice("mode", "x", ("pure", "hybrid")), r"mode must be one of 'pure', 'hybrid', got 'x'"),
        (lambda: check_choice("mode", [1], ("pure",)), r"mode must be one of"),
        (lambda: check_bool("flag", 1), r"flag must be True or False, got 1"),
    ],
)
def test_invalid_values_raise_a_value_error_naming_the_option(call, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(errors.OptimkitValueError, match=message):
        call()
    with pytest.raises(ValueError):  # also a builtin ValueError
        call()


def test_aliases_agree_or_raise() -> None:
    assert resolve_alias("p_self", None, "self_instead_neighbour", None, 0.95) == 0.95
    assert resolve_alias("p_self", None, "self_instead_neighbour", 0.2, 0.95) == 0.2
    assert resolve_alias("p_self", 0.2, "self_instead_neighbour", 0.2, 0.95) == 0.2
    with pytest.raises(errors.OptimkitValueError, match="p_self=0.95 and its alias self_instead_neighbour=0.2"):
        resolve_alias("p_self", 0.95, "self_instead_neighbour", 0.2, 0.95)
