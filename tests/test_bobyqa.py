"""BOBYQA (NLopt's LN_BOBYQA turned inside out, restarted): the core's plans, the inverted run,
and the optimizer's restarts, replays, failed evaluations and threads."""

from __future__ import annotations

import math
import re
import threading
from pathlib import Path

import numpy as np
import pytest

import optimkit as ok
from optimkit.algorithms import bobyqa
from optimkit.algorithms.bobyqa import AskDraws, BobyqaRun, Params
from optimkit.errors import OptimkitValueError

pytest.importorskip("nlopt", reason="BOBYQA needs nlopt (the nlopt extra)")


def _sphere(x: np.ndarray) -> float:
    return float(((np.asarray(x, dtype=float) - 0.3) ** 2).sum())


def _make(dim: int = 3, budget: int | None = 300, seed: int = 0, **kwargs: object) -> ok.optimizers.BOBYQA:
    return ok.optimizers.BOBYQA(ok.p.Array(shape=(dim,), lower=-1, upper=1), budget=budget, seed=seed, **kwargs)


# ----------------------------------------------------------------------------------------- core
@pytest.mark.parametrize("option, value, words", [
    ("rho_begin", 0.0, "rho_begin must be a finite number in (0, 0.5]"),
    ("rho_begin", 0.7, "rho_begin must be a finite number in (0, 0.5]"),
    ("rho_end", 0.5, "rho_end must be a finite number in (0, 0.35)"),
    ("max_evals", 0, "max_evals must be an integer in [1, inf)"),
    ("restarts", -1, "restarts must be an integer"),
    ("margin", 0.5, "margin must be a finite number in [0, 0.5)"),
    ("bound", 0, "bound must be a finite number in (0, inf)"),
])
def test_options_are_checked_by_name(option: str, value: float, words: str) -> None:
    with pytest.raises(OptimkitValueError, match=re.escape(words)):
        Params(**{option: value})
    with pytest.raises(OptimkitValueError, match=option):
        ok.families.ConfBOBYQA(**{option: value})


def test_core_plans_first_start_random_restarts_in_the_margin_and_resumes_a_cut_run() -> None:
    params = Params(margin=0.2)
    state = bobyqa.init(params, np.array([0.5, 2.0]))  # clipped to the box
    state, run = bobyqa.ask(params, state, AskDraws(np.array([0.0, 1.0])), 40)
    assert run is not None and run.x0.tolist() == [0.5, 1.0] and run.max_evals == 40
    state = bobyqa.tell(params, state, run, np.array([0.1, 0.1]), 3.0, 17)  # converged
    state, run = bobyqa.ask(params, state, AskDraws(np.array([0.0, 1.0])), 40)
    assert run is not None and np.allclose(run.x0, [0.2, 0.8])  # uniform in [0.2, 0.8]
    state = bobyqa.tell(params, state, run, np.array([0.4, 0.6]), 1.0, 40)  # cut by its cap
    state, run = bobyqa.ask(params, state, AskDraws(np.array([0.0, 1.0])), 40)
    assert run is not None and run.x0.tolist() == [0.4, 0.6] and state.best_loss == 1.0
    limited = Params(restarts=0)
    state, run = bobyqa.ask(limited, bobyqa.init(limited, np.zeros(2)), AskDraws(np.zeros(2)), 5)
    assert run is not None and bobyqa.ask(limited, state, AskDraws(np.zeros(2)), 5)[1] is None


def test_failed_evaluations_reach_the_model_as_the_runs_worst() -> None:
    assert bobyqa.model_loss(float("nan"), 7.0) == 7.0
    assert bobyqa.model_loss(float("-inf"), 7.0) == 7.0
    assert bobyqa.model_loss(float("inf"), -math.inf) == bobyqa.core.FIRST_FAILURE_LOSS
    assert bobyqa.model_loss(-2.5, 7.0) == -2.5


# ----------------------------------------------------------------------------------------- the inverted run
def test_a_run_converges_with_few_evaluations_and_replays_to_the_same_point() -> None:
    run = BobyqaRun(np.array([0.9, 0.1, 0.5]), 0.35, 1e-9, 500).start()
    points, losses = [], []
    while not run.done:
        points.append(run.point.copy())
        losses.append(_sphere(run.point))
        run.send(losses[-1])
    assert run.num_evals == len(points) < 150  # a quadratic: the model is exact after 2d+1 points
    assert np.allclose(run.best, 0.3, atol=1e-6) and run.best_loss < 1e-12
    again = BobyqaRun(np.array([0.9, 0.1, 0.5]), 0.35, 1e-9, 500).replay(losses[:20])
    np.testing.assert_array_equal(again.point, points[20])
    again.stop()
    assert again.done and again.point is None and not again._thread.is_alive()


# ----------------------------------------------------------------------------------------- the optimizer
def test_restarts_until_the_budget_is_spent() -> None:
    opt = _make(dim=2, budget=400)
    rec = opt.minimize(_sphere)
    assert opt.num_tell == 400 and opt.num_runs > 3  # each converged run restarts from a random point
    assert _sphere(rec.value) < 1e-12


def test_reaches_a_tight_target_on_a_quadratic_in_fewer_evaluations_than_cma() -> None:
    def hits(name: str) -> int:
        opt = ok.optimizers.registry[name](ok.p.Array(shape=(5,), lower=-5, upper=5), budget=3000, seed=1)
        for i in range(3000):
            c = opt.ask()
            loss = float(((c.value - 1.0) ** 2 * np.logspace(0, 3, 5)).sum())
            opt.tell(c, loss)
            if loss < 1e-8:
                return i + 1
        return 3000

    pytest.importorskip("cmaes")
    assert hits("BOBYQA") * 5 < hits("CMA")


def test_dump_load_in_the_middle_of_a_run_continues_exactly(tmp_path: Path) -> None:
    opt = _make(dim=3, budget=200, seed=4, num_workers=2)
    pending = [opt.ask(), opt.ask()]  # one waiting point from each of the two runs
    assert pending[0]._tag[0][0] != pending[1]._tag[0][0]
    for c in pending:
        opt.tell(c, _sphere(c.value))
    for _ in range(60):
        c = opt.ask()
        opt.tell(c, _sphere(c.value))
    opt.dump(tmp_path / "b.dump")
    loaded = ok.optimizers.BOBYQA.load(tmp_path / "b.dump")
    for _ in range(80):  # crosses restarts
        a, b = opt.ask(), loaded.ask()
        np.testing.assert_array_equal(a.value, b.value)
        opt.tell(a, _sphere(a.value))
        loaded.tell(b, _sphere(b.value))
    assert opt.num_runs == loaded.num_runs > 2
    opt.close()
    loaded.close()


def test_an_abandoned_point_is_asked_again_and_extra_asks_are_random() -> None:
    opt = _make(dim=2, budget=100, seed=2)
    first = opt.ask()
    extra = opt.ask()  # the run waits for first's loss: a random point
    assert first._tag[0] is not None and extra._tag[0] is None
    opt.abandon(first)
    again = opt.ask()
    np.testing.assert_array_equal(again.value, first.value)
    opt.tell(extra, _sphere(extra.value))
    opt.tell(again, _sphere(again.value))
    assert opt.num_tell == 2
    opt.close()


def test_nan_losses_keep_the_search_going() -> None:
    opt = _make(dim=2, budget=300, seed=3)
    with pytest.warns(ok.errors.NanLossWarning):
        for _ in range(300):
            c = opt.ask()
            x = np.asarray(c.value)
            opt.tell(c, float("nan") if x[0] > 0.6 else _sphere(x))
    assert opt.num_tell == 300 and _sphere(opt.recommend().value) < 1e-10
    opt.close()


def test_close_and_collection_end_the_runs_threads() -> None:
    def bobyqa_threads() -> int:
        return sum(t.name == "optimkit-bobyqa" for t in threading.enumerate())

    before = bobyqa_threads()
    opt = _make(dim=2, budget=100, num_workers=3)
    cands = [opt.ask() for _ in range(3)]
    assert bobyqa_threads() == before + 3
    opt.close()
    assert bobyqa_threads() == before
    for c in cands:  # the runs are replayed where they were
        opt.tell(c, _sphere(c.value))
    assert opt.num_tell == 3 and bobyqa_threads() == before + 3
    del opt, cands
    import gc

    gc.collect()
    assert bobyqa_threads() == before


def test_without_nlopt_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nlopt" else real(name, *a))
    with pytest.raises(ImportError, match=r"optimkit\[nlopt\]"):
        _make()


def test_a_forked_child_replays_its_runs_instead_of_waiting_on_the_parents_threads() -> None:
    import multiprocessing

    opt = _make(dim=2, budget=100, seed=5)
    for _ in range(7):
        c = opt.ask()
        opt.tell(c, _sphere(c.value))
    _FORKED[:] = [opt]  # inherited by the forked child, with the run whose thread only the parent has
    with multiprocessing.get_context("fork").Pool(1) as pool:
        got = pool.apply_async(_ask_tell_ask).get(timeout=60)
    np.testing.assert_array_equal(got, _ask_tell_ask())
    _FORKED.clear()
    opt.close()


_FORKED: list[ok.optimizers.BOBYQA] = []


def _ask_tell_ask() -> np.ndarray:
    opt = _FORKED[0]
    c = opt.ask()
    opt.tell(c, _sphere(c.value))  # the run's next point: in a child, from a replay of the run
    return np.asarray(opt.ask().value)
