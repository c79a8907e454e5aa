"""Issue 13, findings 7, 12 and 15 (suggest): bad losses and foreign candidates are refused."""

from __future__ import annotations

import numpy as np
import pytest

import optimkit as ok
from optimkit import errors


@pytest.mark.parametrize("loss", [None, "1.5", b"1", bytearray(b"1"), 1 + 1j, np.complex128(2.0), {"loss": 1.0}, [1.0, None]])
def test_bad_losses_raise_type_error_naming_the_value(loss: object) -> None:
    opt = ok.optimizers.registry["ANSR"](parametrization=2, budget=10)
    cand = opt.ask()
    with pytest.raises(TypeError, match="loss must be"):
        opt.tell(cand, loss)
    assert opt.num_tell == 0
    opt.tell(cand, 1.0)  # the candidate is still asked: a good loss goes in
    assert opt.num_tell == 1


def test_none_loss_hints_at_a_missing_return() -> None:
    opt = ok.optimizers.registry["RandomSearch"](parametrization=2, budget=10)
    with pytest.raises(TypeError, match="forget to return"):
        opt.minimize(lambda x: None)
    assert opt.num_tell == 0


def test_nan_stays_worst_with_one_warning() -> None:
    opt = ok.optimizers.registry["RandomSearch"](parametrization=2, budget=10)
    with pytest.warns(errors.NanLossWarning):
        opt.tell(opt.ask(), float("nan"))
    opt.tell(opt.ask(), 3.0)
    assert opt.recommend().loss == 3.0


def test_choice_candidate_told_to_array_optimizer_is_refused() -> None:
    opt = ok.optimizers.registry["ANSR"](parametrization=ok.p.Array(shape=(2,)), budget=100, seed=0)
    opt.tell(opt.ask(), 5.0)
    alien = ok.p.Choice(["relu", "tanh"]).spawn_child()
    with pytest.raises(errors.OptimkitValueError, match="structure"):
        opt.tell(alien, -1.0)
    assert opt.recommend().value.shape == (2,)
    same = ok.p.Array(shape=(2,), lower=-1, upper=1).spawn_child(new_value=np.zeros(2))  # same structure: fine
    opt.tell(same, 0.5)
    assert opt.num_tell_not_asked == 1


def test_suggest_of_nan_values_raises() -> None:
    opt = ok.optimizers.registry["XNES"](parametrization=3, budget=10)
    with pytest.raises(errors.OptimkitValueError, match="finite"):
        opt.suggest(np.array([1.0, np.nan, 0.0]))
