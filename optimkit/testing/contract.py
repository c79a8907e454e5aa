"""A reusable contract suite: what every registered optimizer must do.

Each check takes a factory ``make(parametrization, budget, num_workers) -> Optimizer`` (a registry
entry works) and raises ``AssertionError`` with a message when the contract is broken.
``tests/test_contract.py`` runs them over every name of ``optimkit.optimizers.registry``.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
import tempfile
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import errors
from ..core import Optimizer
from ..parametrization import Array, Choice, Instrumentation, Log, Parameter, Scalar

Factory = Callable[..., Optimizer]

__all__ = [
    "check_ask_tell_any_order",
    "check_reproducible",
    "check_dump_load_continues",
    "check_improves_on_sphere",
    "check_mixed_parametrization",
    "check_objective_raises",
    "check_nan_losses",
    "check_tell_not_asked",
    "check_parallel_minimize",
    "check_batch_api",
    "check_batch_matches_vectorized",
    "check_batch_partly_told",
    "check_lost_tell_does_not_stall",
    "check_threads",
    "check_strict_losses",
    "check_foreign_candidate",
    "ALL_CHECKS",
]


def _sphere(x: Any) -> float:
    return float(np.sum((np.asarray(x, dtype=float) - 0.5) ** 2))


def _make(factory: Factory, param: int | Parameter, budget: int, num_workers: int = 1, seed: int = 0) -> Optimizer:
    opt = factory(param, budget, num_workers)
    opt.parametrization.random_state = np.random.RandomState(seed)
    return opt


def check_ask_tell_any_order(factory: Factory) -> None:
    """Ask a batch, tell it in reverse order, twice; counters add up."""
    opt = _make(factory, 4, 200, num_workers=8)
    for _ in range(2):
        cands = [opt.ask() for _ in range(8)]
        for c in reversed(cands):
            opt.tell(c, _sphere(c.value))
    assert opt.num_ask == 16 and opt.num_tell == 16, (opt.num_ask, opt.num_tell)
    assert opt.recommend().value.shape == (4,)


def check_reproducible(factory: Factory) -> None:
    """Same seed, same asks (over a couple of generations)."""
    runs = []
    for _ in range(2):
        opt = _make(factory, 3, 100, seed=123)
        values = []
        for _ in range(30):
            c = opt.ask()
            values.append(np.asarray(c.value, dtype=float).copy())
            opt.tell(c, _sphere(c.value))
        runs.append(np.stack(values))
    np.testing.assert_array_equal(runs[0], runs[1], err_msg="same seed gave different asks")


def check_dump_load_continues(factory: Factory) -> None:
    """After dump/load, the loaded optimizer asks exactly what the original asks."""
    opt = _make(factory, 3, 200, seed=5)
    for _ in range(25):
        c = opt.ask()
        opt.tell(c, _sphere(c.value))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "opt.pkl")
        opt.dump(path)
        loaded = type(opt).load(path)
    assert loaded.num_ask == opt.num_ask and loaded.num_tell == opt.num_tell
    for _ in range(15):
        a, b = opt.ask(), loaded.ask()
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value), err_msg="resumed run diverged")
        opt.tell(a, _sphere(a.value))
        loaded.tell(b, _sphere(b.value))
    for o in (opt, loaded):
        _close(o)


def check_improves_on_sphere(factory: Factory, budget: int = 3000) -> None:
    """Beats the starting point clearly on a shifted 4-D sphere in a bounded box."""
    param = Array(shape=(4,), lower=-2.0, upper=2.0)
    opt = _make(factory, param, budget, seed=1)
    rec = opt.minimize(_sphere)
    assert _sphere(rec.value) < 0.2 * _sphere(np.zeros(4)), f"poor result {_sphere(rec.value)}"
    assert opt.num_tell == budget
    _close(opt)


def check_mixed_parametrization(factory: Factory) -> None:
    """Works on an Instrumentation of Array, Log, Scalar(int) and Choice."""
    inst = Instrumentation(
        Array(shape=(2,), lower=-1, upper=1),
        lr=Log(lower=1e-3, upper=1.0),
        n=Scalar(lower=1, upper=5).set_integer_casting(),
        act=Choice(["a", "b", "c"]),
    )

    def f(x: np.ndarray, lr: float, n: int, act: str) -> float:
        return float(np.sum(x**2) + (math.log10(lr) + 2) ** 2 + (n - 3) ** 2 + (act != "b"))

    opt = _make(factory, inst, 120, seed=2)
    rec = opt.minimize(f)
    assert opt.num_tell == 120
    assert 1e-3 <= rec.kwargs["lr"] <= 1.0 and rec.kwargs["act"] in "abc"
    _close(opt)


def check_objective_raises(factory: Factory) -> None:
    """An objective that raises: the error reaches the caller, the optimizer goes on afterwards."""
    opt = _make(factory, 3, 60)
    calls = {"n": 0}

    def flaky(x: np.ndarray) -> float:
        calls["n"] += 1
        if calls["n"] == 7:
            raise RuntimeError("boom")
        return _sphere(x)

    try:
        opt.minimize(flaky)
    except RuntimeError:
        pass
    else:  # pragma: no cover - the contract is broken
        raise AssertionError("the objective's exception did not reach the caller")
    assert opt.num_ask == opt.num_tell == 6, (opt.num_ask, opt.num_tell)
    opt.recommend()
    opt.minimize(flaky)
    assert opt.num_tell == 60
    _close(opt)


def check_nan_losses(factory: Factory) -> None:
    """NaN losses never make the state non-finite; the run goes on."""
    opt = _make(factory, 3, 120)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.NanLossWarning)
        for i in range(120):
            c = opt.ask()
            opt.tell(c, float("nan") if i % 3 == 0 else _sphere(c.value))
            assert np.all(np.isfinite(np.asarray(c.value, dtype=float))), "non-finite candidate after NaN losses"
    loss = opt.recommend().loss
    assert loss is not None and math.isfinite(loss), f"recommendation's loss is {loss}"
    _close(opt)


def check_tell_not_asked(factory: Factory) -> None:
    """Tell-not-asked is either used or refused with TellNotAskedNotSupportedError."""
    opt = _make(factory, 3, 50)
    cand = opt.parametrization.spawn_child(new_value=np.full(3, 0.5))
    try:
        opt.tell(cand, 0.0)
    except errors.TellNotAskedNotSupportedError:
        return
    assert opt.num_tell_not_asked == 1
    assert opt.recommend().loss == 0.0
    for _ in range(10):
        c = opt.ask()
        opt.tell(c, _sphere(c.value))
    _close(opt)


def check_parallel_minimize(factory: Factory) -> None:
    """num_workers > 1 with a thread pool: every asked candidate is told exactly once."""
    opt = _make(factory, 3, 80, num_workers=4)
    with cf.ThreadPoolExecutor(max_workers=4) as ex:
        opt.minimize(_sphere, executor=ex)
    assert opt.num_ask == opt.num_tell == 80
    _close(opt)


def check_batch_api(factory: Factory) -> None:
    """ask_batch/tell_batch: values in the bounds, rows told in any order and in several calls,
    foreign rows refused, other parametrizations pointed to ask(), the budget spent."""
    param = Array(shape=(2, 3), lower=-2.0, upper=2.0)
    opt = _make(factory, param, 240, seed=3)
    x = opt.ask_batch(6)
    assert x.shape == (6, 2, 3) and x.dtype == np.float64, x.shape
    assert np.all((x >= -2.0) & (x <= 2.0)), "ask_batch row outside the bounds"
    losses = np.array([_sphere(row) for row in x])
    try:
        opt.tell_batch(x[:1] + 10.0, losses[:1])
    except errors.OptimkitValueError:
        pass
    else:  # pragma: no cover - the contract is broken
        raise AssertionError("a row that was not asked was accepted")
    opt.tell_batch(x[3:][::-1], losses[3:][::-1])
    opt.tell_batch(list(x[:3]), list(losses[:3]))
    assert opt.num_tell == 6 and opt.num_ask == 6, (opt.num_ask, opt.num_tell)
    while opt.num_tell < 240:
        x = opt.ask_batch(min(opt.preferred_batch_size, 240 - opt.num_tell))
        opt.tell_batch(x, [_sphere(row) for row in x])
    assert opt.num_ask == opt.num_tell == 240 and not opt._asked, (opt.num_ask, opt.num_tell)
    rec = opt.recommend()
    assert rec.value.shape == (2, 3) and rec.loss is not None and math.isfinite(rec.loss)
    _close(opt)
    other = _make(factory, Instrumentation(Array(shape=(2,)), act=Choice(["a", "b"])), 20)
    try:
        other.ask_batch(2)
    except errors.UnsupportedParametrizationError as exc:
        assert "ask()" in str(exc), str(exc)
    else:  # pragma: no cover - the contract is broken
        raise AssertionError("ask_batch accepted an Instrumentation")
    _close(other)


def check_batch_partly_told(factory: Factory) -> None:
    """A batch partly told when the next is asked is detached: its untold rows are told later
    (through tell_batch, beside the next batch's rows) and the run goes on to its budget."""
    opt = _make(factory, Array(shape=(3,), lower=-2.0, upper=2.0), 200, seed=5)
    n = max(3, min(opt.preferred_batch_size, 16))
    x = opt.ask_batch(n)
    opt.tell_batch(x[:2], [_sphere(row) for row in x[:2]])
    y = opt.ask_batch(n)
    assert len(opt._asked) == n - 2, (len(opt._asked), n)
    both = np.vstack([x[2:], y])
    opt.tell_batch(both, [_sphere(row) for row in both])
    assert opt.num_tell == opt.num_ask == 2 * n and not opt._asked, (opt.num_ask, opt.num_tell, len(opt._asked))
    while opt.num_tell < 200:
        z = opt.ask_batch(min(opt.preferred_batch_size, 200 - opt.num_tell))
        opt.tell_batch(z, [_sphere(row) for row in z])
    assert opt.num_ask == opt.num_tell == 200 and not opt._asked, (opt.num_ask, opt.num_tell, len(opt._asked))
    rec = opt.recommend()
    assert rec.loss is not None and rec.loss <= min(_sphere(row) for row in both) + 1e-12
    _close(opt)


def check_batch_matches_vectorized(factory: Factory) -> None:
    """Same seed: ask_batch rows are those of minimize(f, vectorized=True)."""
    seen: list[np.ndarray] = []

    def f(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        losses: np.ndarray = np.sum((x - 0.5) ** 2, axis=1)
        return losses

    a = _make(factory, 3, 60, seed=11)
    a.minimize(f, vectorized=True)
    _close(a)
    b = _make(factory, 3, 60, seed=11)
    for rows in seen:
        x = b.ask_batch(len(rows))
        np.testing.assert_array_equal(x, rows, err_msg="ask_batch differs from minimize(vectorized=True)")
        b.tell_batch(x, np.sum((x - 0.5) ** 2, axis=1))
    _close(b)


def check_lost_tell_does_not_stall(factory: Factory) -> None:
    """One asked candidate is never told: it is abandoned as lost and the run ends as well as a run
    without the drop (within a factor 1000 of its loss; tests/test_lost_candidates.py compares medians)."""
    results = []
    for drop in (None, 5):
        opt = _make(factory, 3, 3000, seed=4)
        lost = None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", errors.OptimkitWarning)
            for i in range(3000):
                c = opt.ask()
                if i == drop:
                    lost = c
                else:
                    opt.tell(c, _sphere(c.value))
        assert lost is None or lost._uid not in opt._asked, "the lost candidate was never abandoned"
        loss = opt.recommend().loss
        assert loss is not None
        results.append(loss)
        _close(opt)
    # a stalled run stays near its first epochs' loss (orders of magnitude off); the runs diverge
    # after the drop, so only a coarse bound holds for every seed
    assert results[1] <= 1000 * results[0] + 1e-6, f"the dropped tell hurt: {results[0]} -> {results[1]}"


def check_threads(factory: Factory, threads: int = 4, pairs: int = 300) -> None:
    """ask/tell/recommend from several threads at once: no tell lost, no crash."""
    opt = _make(factory, 3, threads * pairs, num_workers=threads, seed=6)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(pairs):
                c = opt.ask()
                opt.tell(c, _sphere(c.value))
                opt.recommend()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not failures, f"a thread failed: {failures[0]!r}"
    assert opt.num_ask == opt.num_tell == threads * pairs, (opt.num_ask, opt.num_tell)
    _close(opt)


def check_strict_losses(factory: Factory) -> None:
    """None, strings, bytes and complex losses raise TypeError; the candidate can still be told."""
    opt = _make(factory, 2, 20)
    c = opt.ask()
    for bad in (None, "1.5", b"1", 1 + 2j, np.complex128(1.0), [1.0, "x"]):
        try:
            opt.tell(c, bad)
        except TypeError:
            continue
        raise AssertionError(f"loss {bad!r} was accepted")  # pragma: no cover - the contract is broken
    opt.tell(c, 1.0)
    assert opt.num_tell == 1
    _close(opt)


def check_foreign_candidate(factory: Factory) -> None:
    """A candidate of another structure (same dimension) is refused and never recommended."""
    opt = _make(factory, 2, 20)
    c = opt.ask()
    opt.tell(c, 1.0)
    alien = Choice(["relu", "tanh"]).spawn_child()
    try:
        opt.tell(alien, -100.0)
    except ValueError:
        pass
    else:  # pragma: no cover - the contract is broken
        raise AssertionError("a Choice candidate was accepted by an optimizer on Array(2)")
    assert np.asarray(opt.recommend().value).shape == (2,)
    _close(opt)


def _close(opt: Optimizer) -> None:
    close = getattr(opt, "close", None)
    if callable(close):
        close()


ALL_CHECKS = [
    check_ask_tell_any_order,
    check_reproducible,
    check_dump_load_continues,
    check_improves_on_sphere,
    check_mixed_parametrization,
    check_objective_raises,
    check_nan_losses,
    check_tell_not_asked,
    check_parallel_minimize,
    check_batch_api,
    check_batch_partly_told,
    check_batch_matches_vectorized,
    check_lost_tell_does_not_stall,
    check_threads,
    check_strict_losses,
    check_foreign_candidate,
]
