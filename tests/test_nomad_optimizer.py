"""The registry optimizer NOMAD (MADS on the whole problem, with restarts): it converges, restarts when
the mesh collapses, stays in bounds, reproduces, validates its options, survives crashes."""

from __future__ import annotations

import math
import os
import signal
import warnings

import numpy as np
import pytest

import optimkit as ok
from optimkit.algorithms import mads
from optimkit.errors import NomadCrashWarning, OptimkitValueError

pytestmark = pytest.mark.nomad
pytest.importorskip("PyNomad")

FAST = {"quad_model": False}  # the quick settings where the test is about restarts, not precision


def shifted_sphere(x: np.ndarray) -> float:
    return float(np.sum((np.asarray(x) - 0.3) ** 2))


def test_converges_on_a_small_sphere_within_budget() -> None:
    opt = ok.optimizers.registry["NOMAD"](ok.p.Array(shape=(3,), lower=-1, upper=1), budget=150, seed=0)
    rec = opt.minimize(shifted_sphere)
    assert opt.num_tell == 150
    assert shifted_sphere(rec.value) < 1e-6


def test_restarts_when_the_mesh_collapses_and_spends_the_budget() -> None:
    opt = ok.optimizers.registry["NOMAD"](ok.p.Array(shape=(2,), lower=-1, upper=1), budget=400, seed=1,
                                          min_mesh_size=1e-4, **FAST)
    values = []
    for _ in range(400):
        cand = opt.ask()
        values.append(cand.value.copy())
        opt.tell(cand, shifted_sphere(cand.value))
    opt.close()
    assert opt.num_runs >= 3  # a 2-D sphere collapses the mesh long before 400 evaluations
    assert opt.num_tell == 400
    # later runs start at random points, far from the first run's optimum
    assert max(np.abs(v - 0.3).max() for v in values[200:]) > 0.2
    assert shifted_sphere(opt.recommend().value) < 1e-3  # a mesh of 1e-4 of the box: that precision


def test_finite_restarts_then_random_points() -> None:
    opt = ok.families.ConfNOMAD(restarts=0, min_mesh_size=1e-3, **FAST)(ok.p.Array(shape=(2,), lower=0, upper=1),
                                                                        budget=300)
    opt.parametrization.random_state.seed(3)
    opt.minimize(shifted_sphere)
    assert opt.num_runs == 1 and opt.num_tell == 300


def test_run_cut_by_max_bb_eval_resumes_from_its_best() -> None:
    params = mads.Params(max_bb_eval=10)
    state = mads.init(params, np.full(2, 0.5))
    state, run = mads.ask(params, state, mads.AskDraws(np.array([0.9, 0.9]), 1), 10)
    assert run is not None
    state = mads.tell(params, state, run, np.array([0.2, 0.4]), 0.1, 10)  # spent its cap: not converged
    _, nxt = mads.ask(params, state, mads.AskDraws(np.array([0.9, 0.9]), 2), 10)
    assert nxt is not None and nxt.x0.tolist() == [0.2, 0.4]
    best = mads.Params(restart_from="best")
    state, run = mads.ask(best, mads.init(best, np.zeros(2)), mads.AskDraws(np.array([0.9, 0.9]), 1), 10)
    state = mads.tell(best, state, run, np.array([0.7, 0.1]), 0.5, 3)  # the mesh collapsed after 3
    assert mads.ask(best, state, mads.AskDraws(np.array([0.9, 0.9]), 2), 10)[1].x0.tolist() == [0.7, 0.1]  # type: ignore[union-attr]


def test_respects_bounds_and_starts_from_x0() -> None:
    param = ok.p.Array(shape=(3,), lower=[-1.0, 0.0, 2.0], upper=[1.0, 5.0, 3.0])
    opt = ok.optimizers.registry["NOMAD"](param, budget=200, seed=2, x0=np.array([0.5, 4.0, 2.5]), **FAST)
    for i in range(200):
        cand = opt.ask()
        if i == 0:
            np.testing.assert_allclose(cand.value, [0.5, 4.0, 2.5])
        assert np.all(cand.value >= param._lower - 1e-12) and np.all(cand.value <= param._upper + 1e-12)
        opt.tell(cand, float(np.sum((cand.value - np.array([-2.0, 6.0, 1.0])) ** 2)))  # optimum outside
    opt.close()
    np.testing.assert_allclose(opt.recommend().value, [-1.0, 5.0, 2.0], atol=1e-6)


def test_same_seed_same_asks_other_seed_other_asks() -> None:
    def asks(seed: int) -> np.ndarray:
        opt = ok.optimizers.registry["NOMAD"](4, budget=60, seed=seed, min_mesh_size=1e-2, **FAST)
        out = []
        for _ in range(60):
            cand = opt.ask()
            out.append(cand.value.copy())
            opt.tell(cand, shifted_sphere(cand.value))
        opt.close()
        return np.array(out)

    a, b, c = asks(7), asks(7), asks(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dump_load_continues_mid_run(tmp_path: os.PathLike[str]) -> None:
    opt = ok.optimizers.registry["NOMAD"](3, budget=200, seed=4, **FAST)
    for _ in range(20):
        cand = opt.ask()
        opt.tell(cand, shifted_sphere(cand.value))
    path = os.path.join(tmp_path, "nomad.dump")
    opt.dump(path)
    loaded = ok.optimizers.registry["NOMAD"].load(path)
    assert "_scheduler" not in loaded.__getstate__() or isinstance(loaded.__getstate__()["_scheduler"], dict)
    for _ in range(30):
        a, b = opt.ask(), loaded.ask()
        np.testing.assert_array_equal(a.value, b.value)
        opt.tell(a, shifted_sphere(a.value))
        loaded.tell(b, shifted_sphere(b.value))
    opt.close()
    loaded.close()


def test_parallel_asks_come_from_concurrent_runs_or_random_points() -> None:
    opt = ok.optimizers.registry["NOMAD"](3, budget=100, num_workers=2, seed=5, **FAST)
    cands = [opt.ask() for _ in range(3)]  # two runs, one point each; the third is a random point
    tags = [c._tag[0] for c in cands]
    assert tags[0] is not None and tags[1] is not None and tags[0][0] != tags[1][0] and tags[2] is None
    opt.abandon(cands[0])
    again = opt.ask()  # an abandoned point is asked again
    np.testing.assert_array_equal(again.value, cands[0].value)
    for c in (again, *cands[1:]):
        opt.tell(c, shifted_sphere(c.value))
    opt.close()


def test_tell_not_asked_becomes_the_best_and_a_restart_point() -> None:
    opt = ok.optimizers.registry["NOMAD"](2, budget=50, seed=6, restart_from="best", **FAST)
    point = opt.parametrization.spawn_child(new_value=np.array([0.3, 0.3]))
    opt.tell(point, 0.0)
    assert opt.num_tell_not_asked == 1 and opt.recommend().loss == 0.0
    assert opt._state.best is not None and opt._state.best_loss == 0.0
    opt.close()


@pytest.mark.parametrize(
    "options, name",
    [({"max_bb_eval": 0}, "max_bb_eval"), ({"initial_frame_size": 2.0}, "initial_frame_size"),
     ({"min_mesh_size": -1.0}, "min_mesh_size"), ({"quad_model": "yes"}, "quad_model"),
     ({"direction_type": "SPIRAL"}, "direction_type"), ({"restarts": -1}, "restarts"),
     ({"restarts": 1.5}, "restarts"), ({"restart_from": "x0"}, "restart_from"),
     ({"nomad_options": {"MAX_BB_EVAL": 3}}, "nomad_options"), ({"bound": 0.0}, "bound")],
)
def test_validation_errors_name_the_option(options: dict[str, object], name: str) -> None:
    with pytest.raises(OptimkitValueError, match=name):
        ok.families.ConfNOMAD(**options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=name):
        ok.optimizers.registry["NOMAD"](2, budget=10, **options)


def test_options_reach_nomad() -> None:
    params = mads.Params(quad_model=False, direction_type="ortho n+1 neg", initial_frame_size=0.25,
                         min_mesh_size=1e-6, nomad_options={"NM_SEARCH": "yes"})
    assert mads.nomad_lines(params) == ("DIRECTION_TYPE ORTHO N+1 NEG", "QUAD_MODEL_SEARCH no",
                                        "INITIAL_FRAME_SIZE * 0.25", "MIN_MESH_SIZE * 1e-06", "NM_SEARCH yes")
    assert mads.Params(restarts=math.inf).restarts == math.inf


def test_crashing_objective_and_child_do_not_end_the_run() -> None:
    opt = ok.optimizers.registry["NOMAD"](3, budget=80, seed=8, **FAST)
    calls = {"n": 0}

    def flaky(x: np.ndarray) -> float:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("boom")
        return shifted_sphere(x)

    with pytest.raises(RuntimeError, match="boom"):
        opt.minimize(flaky)
    assert opt.num_ask == opt.num_tell == 4
    for _ in range(5):
        cand = opt.ask()
        opt.tell(cand, shifted_sphere(cand.value))
    # kill the running NOMAD child: its run ends with a warning, the next run starts
    (run,) = opt._scheduler.running.values()
    assert run.search is not None and run.search.worker is not None
    os.kill(run.search.worker.proc.pid, signal.SIGKILL)
    runs = opt.num_runs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.minimize(flaky)
    assert any(issubclass(w.category, NomadCrashWarning) for w in caught)
    assert opt.num_tell == 80 and opt.num_runs > runs
    assert shifted_sphere(opt.recommend().value) < shifted_sphere(np.zeros(3))
