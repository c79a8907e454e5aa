"""Issue 14, part 1: the public batch ask/tell (``ask_batch`` / ``tell_batch``)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import optimkit as ok
from optimkit import errors


def _f(x: np.ndarray) -> np.ndarray:
    return np.sum((x.reshape(len(x), -1) - 0.5) ** 2, axis=1)


def test_values_shape_bounds_and_budget() -> None:
    param = ok.p.Array(shape=(4, 2), lower=0.0, upper=1.0)
    opt = ok.optimizers.registry["SNES"](parametrization=param, budget=300, seed=0)
    x = opt.ask_batch(7)
    assert x.shape == (7, 4, 2) and x.dtype == np.float64
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert opt.num_ask == 7
    opt.tell_batch(x, _f(x))
    assert opt.num_tell == 7


def test_losses_as_list_numpy_and_torch() -> None:
    torch = pytest.importorskip("torch")
    opt = ok.optimizers.registry["XNES"](parametrization=3, budget=100, seed=0)
    x = opt.ask_batch(6)
    opt.tell_batch(x[:2], list(_f(x[:2])))
    opt.tell_batch(torch.as_tensor(x[2:4]), torch.as_tensor(_f(x[2:4]), dtype=torch.float32))
    opt.tell_batch(x[4:], _f(x[4:]))
    assert opt.num_tell == 6
    assert opt.recommend().loss == pytest.approx(float(_f(x).min()), rel=1e-6)


def test_rows_in_any_order_over_calls_reach_the_algorithm() -> None:
    opt = ok.optimizers.registry["ANSR"](parametrization=3, budget=1000, seed=0)
    n = opt.preferred_batch_size
    x = opt.ask_batch(n)
    order = np.random.default_rng(0).permutation(n)
    for part in np.array_split(order, 5):
        opt.tell_batch(x[part], _f(x[part]))
    assert opt.num_epochs == 1  # the epoch completed although told in pieces, shuffled


def test_bad_rows_and_losses_raise_and_tell_nothing() -> None:
    opt = ok.optimizers.registry["XNES"](parametrization=3, budget=100, seed=0)
    x = opt.ask_batch(4)
    with pytest.raises(errors.OptimkitValueError, match="not asked"):
        opt.tell_batch(np.vstack([x[:1], x[:1] + 1.0]), [1.0, 2.0])
    with pytest.raises(errors.OptimkitValueError, match="losses"):
        opt.tell_batch(x, [1.0, 2.0])
    with pytest.raises(errors.OptimkitValueError, match="shape"):
        opt.tell_batch(x[:, :2], _f(x))
    with pytest.raises(TypeError):
        opt.tell_batch(x, [None, 1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        opt.tell_batch(x, np.array([1j, 1.0, 2.0, 3.0]))
    assert opt.num_tell == 0
    opt.tell_batch(x, _f(x))
    with pytest.raises(errors.OptimkitValueError, match="told already"):
        opt.tell_batch(x[:1], [0.0])
    with pytest.raises(errors.OptimkitValueError, match="n must be"):
        opt.ask_batch(0)


def test_other_parametrizations_point_to_ask() -> None:
    opt = ok.optimizers.registry["XNES"](parametrization=ok.p.Dict(a=ok.p.Scalar(), b=ok.p.Choice([1, 2])), budget=10)
    with pytest.raises(errors.UnsupportedParametrizationError, match=r"ask\(\)"):
        opt.ask_batch(3)


def test_untold_rows_are_detached_told_later_or_lost() -> None:
    opt = ok.optimizers.registry["XNES"](parametrization=3, budget=2000, seed=0)
    x = opt.ask_batch(5)
    opt.tell_batch(x[:2], _f(x[:2]))
    y = opt.ask_batch(5)  # the first batch is detached: its 3 untold rows are ordinary asked candidates
    assert len(opt._asked) == 3
    opt.tell_batch(np.vstack([y, x[2:]]), np.concatenate([_f(y), _f(x[2:])]))
    assert opt.num_tell == opt.num_ask == 10 and not opt._asked
    # rows never told: abandoned as lost after lost_limit newer asks, the run goes on
    opt.lost_after = 50
    z = opt.ask_batch(5)
    opt.tell_batch(z[:1], _f(z[:1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.OptimkitWarning)
        for _ in range(30):
            w = opt.ask_batch(5)
            opt.tell_batch(w, _f(w))
    assert not any(np.array_equal(c.value, z[1]) for c, _ in opt._asked.values())


def test_callbacks_nan_and_bests_as_single_tells() -> None:
    opt = ok.optimizers.registry["SNES"](parametrization=2, budget=100, seed=0)
    seen: list[float] = []
    opt.register_callback("tell", lambda o, c, loss: seen.append(loss))
    x = opt.ask_batch(4)
    losses = np.array([3.0, np.nan, 1.0, 2.0])
    with pytest.warns(errors.NanLossWarning):
        opt.tell_batch(x[[2, 1]], losses[[2, 1]])
    opt.tell_batch(x[[0, 3]], losses[[0, 3]])
    assert len(seen) == 4 and np.isnan(seen[1])
    rec = opt.recommend()
    assert rec.loss == 1.0
    np.testing.assert_array_equal(rec.value, x[2])


def test_dump_load_mid_batch(tmp_path: Path) -> None:
    opt = ok.optimizers.registry["XNES"](parametrization=3, budget=500, seed=0)
    x = opt.ask_batch(opt.preferred_batch_size)
    opt.tell_batch(x[:3], _f(x[:3]))
    opt.dump(tmp_path / "opt.dump")
    loaded = ok.load(tmp_path / "opt.dump")
    assert loaded.num_tell == 3
    # the untold rows are re-issued first (abandoned as single asks are, so last first)
    y = loaded.ask_batch(len(x) - 3)
    np.testing.assert_array_equal(y[::-1], x[3:])
    loaded.tell_batch(y, _f(y))
    # the original goes on as it was
    opt.tell_batch(x[3:], _f(x[3:]))
    assert opt.num_tell == loaded.num_tell == len(x)


def test_same_rows_as_vectorized_minimize() -> None:
    seen: list[np.ndarray] = []

    def f(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return _f(x)

    ok.optimizers.registry["ANSR"](parametrization=4, budget=256, seed=3).minimize(f, vectorized=True)
    opt = ok.optimizers.registry["ANSR"](parametrization=4, budget=256, seed=3)
    for rows in seen:
        x = opt.ask_batch(len(rows))
        np.testing.assert_array_equal(x, rows)
        opt.tell_batch(x, _f(x))


def test_rows_changed_in_place_are_refused() -> None:
    opt = ok.optimizers.registry["XNES"](parametrization=3, budget=100, seed=0)
    x = opt.ask_batch(4)
    x[0] += 1.0  # the user evaluated other values than those asked
    with pytest.raises(errors.OptimkitValueError, match="not asked"):
        opt.tell_batch(x, _f(x))
    assert opt.num_tell == 0
    x[0] -= 1.0
    opt.tell_batch(x, _f(x))
    assert opt.num_tell == 4

