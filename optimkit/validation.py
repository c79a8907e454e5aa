"""The one option-validation helper: every optimizer, compat layer and front end checks its
options here, so that each bad value raises an :class:`~optimkit.errors.OptimkitValueError` that
names the option, the value and the accepted range, in the same words everywhere."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

import numpy as np

from .errors import OptimkitValueError

__all__ = ["check_int", "check_real", "check_choice", "check_bool", "resolve_alias"]


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    left = "(" if low_open or math.isinf(low) else "["
    right = ")" if high_open or math.isinf(high) else "]"
    return f"{left}{low:g}, {high:g}{right}"


def check_int(name: str, value: Any, low: float = -math.inf, high: float = math.inf) -> int:
    """``value`` as an ``int`` if it is an integer (not a bool) in ``[low, high]``, else raise."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and low <= int(value) <= high:
        return int(value)
    raise OptimkitValueError(f"{name} must be an integer in {_interval(low, high, False, False)}, got {value!r}")


def check_real(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
    finite: bool = True,
) -> float:
    """``value`` as a ``float`` if it is a real number (not a bool) in the interval, else raise.

    ``low_open``/``high_open`` exclude the ends; ``finite=False`` admits ``inf`` where the interval does.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        v = float(value)
        ok = v == v and (math.isfinite(v) or not finite)
        ok = ok and (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
        if ok:
            return v
    what = "a finite number" if finite else "a number"
    raise OptimkitValueError(f"{name} must be {what} in {_interval(low, high, low_open, high_open)}, got {value!r}")


def check_choice(name: str, value: Any, choices: Collection[Any]) -> Any:
    """``value`` if it is one of ``choices``, else raise naming them."""
    try:
        if value in choices:
            return value
    except TypeError:  # unhashable value
        pass
    shown = ", ".join(repr(c) for c in choices)
    raise OptimkitValueError(f"{name} must be one of {shown}, got {value!r}")


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a bool (numpy's included), else raise."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise OptimkitValueError(f"{name} must be True or False, got {value!r}")


def resolve_alias(name: str, value: Any, alias: str, alias_value: Any, default: Any) -> Any:
    """The value of an option that also has an alias (``p_self`` / ``self_instead_neighbour``).

    ``None`` means "not given" for either; both given with different values raise, naming both;
    neither given gives ``default``. Front ends declare both with a ``None`` default for this.
    """
    if value is None:
        return default if alias_value is None else alias_value
    if alias_value is not None and not (alias_value == value):
        raise OptimkitValueError(
            f"{name}={value!r} and its alias {alias}={alias_value!r} disagree: give only one of them"
        )
    return value
