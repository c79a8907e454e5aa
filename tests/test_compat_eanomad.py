"""The EANOMAD-compatible front end (maximizes), including Ray-parallel local searches."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from test_nomad_worker import nomad_children

from optimkit.compat.eanomad import EANOMAD
from optimkit.errors import OptimkitValueError

pytest.importorskip("PyNomad")
pytestmark = pytest.mark.nomad


def neg_sphere(x: np.ndarray) -> float:
    return -float(np.sum(x ** 2))


SMALL = dict(subset_size=3, bounds=0.2, max_bb_eval=20, n_mutate_coords=1, progress=False)


def test_pure_run_maximizes_and_returns_best() -> None:
    opt = EANOMAD("pure", 6, 5, neg_sphere, seed=0, **SMALL)
    start = max(neg_sphere(x) for x in opt.pop)
    best_x, best_fit = opt.run(4)
    assert best_x.shape == (5,)
    assert best_fit == pytest.approx(neg_sphere(best_x))
    assert best_fit > start / 5 and best_fit > -0.2
    assert 4 * 6 * 20 - 3 * 3 <= opt.num_evals < 4 * 6 * 20  # elites: start point known
    assert nomad_children() == []


def test_objective_exception_leaves_no_process() -> None:
    calls = []

    def bad(x: np.ndarray) -> float:
        calls.append(1)
        if len(calls) == 30:
            raise ValueError("bad fitness")
        return neg_sphere(x)

    opt = EANOMAD("pure", 4, 4, bad, seed=0, **SMALL)
    with pytest.raises(ValueError, match="bad fitness"):
        opt.run(3)
    assert nomad_children() == []


def test_seed_zero_is_a_real_seed_and_aliases() -> None:
    a = EANOMAD("EA", 4, 4, neg_sphere, seed=0, **SMALL).run(2)
    b = EANOMAD("pure", 4, 4, neg_sphere, seed=0, **SMALL).run(2)
    c = EANOMAD("pure", 4, 4, neg_sphere, seed=1, **SMALL).run(2)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0], c[0])


def test_hybrid_edits_few_coordinates_of_init_vec() -> None:
    init = np.full(20, 0.5)
    opt = EANOMAD("rEA", 6, None, lambda x: -float(np.sum((x - 0.4) ** 2)), init_vec=init, seed=0,
                  subset_size=3, bounds=0.2, max_bb_eval=10, n_mutate_coords=1, progress=False)
    best_x, best_fit = opt.run(3)
    assert best_fit > -float(np.sum((init - 0.4) ** 2))
    assert np.count_nonzero(best_x != init) < 20
    assert opt.low == -1.0 and opt.high == 1.0


def test_init_pop_is_used() -> None:
    pop = np.full((4, 3), 0.25)
    opt = EANOMAD("pure", 4, 3, neg_sphere, init_pop=pop, seed=0, **{**SMALL, "subset_size": 2})
    assert np.allclose(opt.pop, 0.25)
    opt.run(1)


@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(subset_size=50, dimension=60), "subset_size"),
    (dict(subset_size=6, dimension=5), "subset_size"),
    (dict(optimizer_type="hybrid"), "init_vec"),
    (dict(crossover_rate=1.0), "crossover_rate"),
    (dict(crossover_rate=-0.5), "crossover_rate"),
    (dict(init_pop=np.zeros((3, 5))), "init_pop"),
    (dict(init_pop=np.zeros((4, 5)), init_vec=np.zeros(5)), "init_pop and init_vec"),
    (dict(bounds=0.0), "bounds"),
    (dict(bounds=-0.1), "bounds"),
    (dict(optimizer_type="GA"), "optimizer_type"),
    (dict(optimizer_type="hybrid", init_vec=np.zeros(5), n_mutate_coords=0), "n_mutate_coords"),
])
def test_bad_input_names_the_option(kwargs: dict, name: str) -> None:
    args = dict(optimizer_type="pure", population_size=4, dimension=5, objective_fn=neg_sphere, subset_size=2)
    args.update(kwargs)
    with pytest.raises(OptimkitValueError, match=name):
        EANOMAD(**args)


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # Ray workers cannot import tests
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.mark.ray
def test_ray_runs_local_searches_and_keeps_user_session(ray_session) -> None:
    opt = EANOMAD("pure", 4, 4, neg_sphere, use_ray=True, seed=0, **SMALL)
    best_x, best_fit = opt.run(2)
    assert best_fit == pytest.approx(neg_sphere(best_x))
    assert 2 * 4 * 20 - 2 <= opt.num_evals <= 2 * 4 * 20  # elites: start point known, not re-evaluated
    assert ray_session.is_initialized()  # the user's session is left alone
    auto = EANOMAD("pure", 4, 4, neg_sphere, seed=0, **SMALL)  # use_ray=None: a running session is used
    assert auto.use_ray


@pytest.mark.ray
def test_ray_hybrid_mode(ray_session) -> None:
    init = np.zeros(6)
    opt = EANOMAD("hybrid", 4, None, neg_sphere, init_vec=init, use_ray=True, seed=0,
                  subset_size=2, bounds=0.2, max_bb_eval=10, n_mutate_coords=1, progress=False)
    best_x, best_fit = opt.run(2)
    assert best_fit == pytest.approx(neg_sphere(best_x))


class _InlineExecutor:
    """A ``submit`` executor that runs the task here; the first task's worker is 'lost' (inf, as
    ``RayFuture.result()`` reports a worker lost after all retries)."""

    def __init__(self) -> None:
        self.calls = 0

    def submit(self, fn, *args):
        from optimkit.executors import SequentialExecutor

        self.calls += 1
        if self.calls == 1:
            return SequentialExecutor().submit(lambda: float("inf"))
        return SequentialExecutor().submit(fn, *args)


def test_ray_task_body_and_lost_worker_without_ray() -> None:
    """The Ray path's task body (one local search per task) and a lost worker, on a stand-in executor."""
    opt = EANOMAD("pure", 4, 4, neg_sphere, seed=0, use_ray=False, **SMALL)
    start = opt.state.population.copy()
    opt._executor = executor = _InlineExecutor()
    best_fit, best_x = opt.step()
    assert executor.calls == 4  # one task per individual
    assert best_fit == pytest.approx(neg_sphere(best_x)) and best_fit > -4.0
    assert 3 * 20 - 3 <= opt.num_evals <= 3 * 20  # the lost task's evaluations are not counted
    assert opt.state.population.shape == start.shape
    from optimkit.nomad import process_pool

    assert len(process_pool()) == len(nomad_children()) == 1  # the task body's one child, reused
    process_pool().close()  # (in a Ray worker it lives as long as the worker)
    assert nomad_children() == []


@pytest.mark.ray
def test_ray_goes_through_ray_executor(ray_session, monkeypatch: pytest.MonkeyPatch) -> None:
    from optimkit.executors import RayExecutor

    submitted = []
    real_submit = RayExecutor.submit

    def submit(self, fn, *args, **kwargs):
        submitted.append(fn)
        return real_submit(self, fn, *args, **kwargs)

    monkeypatch.setattr(RayExecutor, "submit", submit)
    opt = EANOMAD("pure", 4, 4, neg_sphere, use_ray=True, seed=0, **SMALL)
    opt.run(2)
    assert len(submitted) == 2 * 4 and len({id(fn) for fn in submitted}) == 1  # one task body, shipped once
    assert ray_session.is_initialized()
