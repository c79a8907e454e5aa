"""XNES / SNES restarts (on by default, IPOP and BIPOP), stop reasons and the step size relative to the bounds."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

import optimkit as ok
from optimkit.algorithms.nes import SNES, XNES, ConfSNES, ConfXNES, common, snes, xnes
from optimkit.algorithms.nes.optimizer import BOX_FRACTION, relative_scales
from optimkit.core import registry
from optimkit.errors import OptimkitValueError


def sphere(x: np.ndarray) -> float:
    return float(np.sum(np.asarray(x) ** 2))


def record_runs(opt: XNES | SNES) -> list[tuple[int, int, str]]:
    """(num_tell when it started, popsize, regime) of every run, through a tell callback."""
    runs = [(0, opt.state.popsize, opt.state.runs.regime)]

    def watch(optimizer: XNES | SNES, *_: object) -> None:
        st = optimizer.state
        if st.num_restarts + 1 > len(runs):
            runs.append((optimizer.num_tell, st.popsize, st.runs.regime))

    opt.register_callback("tell", watch)
    return runs


@pytest.mark.parametrize("name", ["XNES", "SNES"])
def test_registry_names_restart_until_the_budget_is_spent(name: str) -> None:
    opt = registry[name](parametrization=ok.p.Array(shape=(3,), lower=-5, upper=5), budget=4000, seed=0)
    assert opt._params.restarts == math.inf and opt._params.restart_strategy == "ipop"
    runs = record_runs(opt)
    rec = opt.minimize(lambda x: sphere(x - 1.0))
    assert opt.num_ask == opt.num_tell == 4000  # no idling, no early end: the whole budget is used
    assert sphere(rec.value - 1.0) < 1e-10  # the best of all runs
    initial = opt._params.initial_popsize
    assert len(runs) >= 3 and [p for _, p, _ in runs[:3]] == [initial, 2 * initial, 4 * initial]
    assert opt.state.runs.stops[0] in {"tol_fun", "tol_x", "no_effect_coord", "no_effect_axis"}
    assert runs[1][0] < 2000  # the first run converged and restarted promptly


@pytest.mark.parametrize("cls", [XNES, SNES])
def test_restarts_zero_keeps_one_run(cls: type) -> None:
    opt = cls(parametrization=3, budget=2000, seed=0, restarts=0)
    opt.minimize(sphere)
    assert opt.state.num_restarts == 0 and opt.state.popsize == opt._params.initial_popsize
    assert opt.state.stop is not None  # converged, and went on sampling the stopped distribution


def test_bipop_alternates_a_large_and_a_small_regime() -> None:
    opt = XNES(parametrization=ok.p.Array(shape=(2,), lower=-5, upper=5), budget=6000, seed=3,
               restart_strategy="bipop")
    runs = record_runs(opt)
    opt.minimize(lambda x: sphere(x - 0.5))
    regimes = [r for _, _, r in runs]
    assert regimes[0] == "large" and "small" in regimes and regimes.count("large") >= 2
    initial = opt._params.initial_popsize
    large = [p for _, p, r in runs if r == "large"]
    assert large == [initial * 2**k for k in range(len(large))]  # doubled each time the regime is used
    for i, (_, popsize, regime) in enumerate(runs):
        if regime == "small":  # between the default and the last large population
            last_large = max(p for _, p, r in runs[:i] if r == "large")
            assert 2 <= popsize <= last_large
    st = opt.state.runs
    assert st.small_evaluations <= st.large_evaluations + opt._params.initial_popsize * 8


def test_bipop_budget_accounting_in_the_core() -> None:
    params = xnes.Params(dimension=4, popsize=8, sigma=2.0, restart_strategy="bipop", restarts=math.inf)
    state = dataclasses.replace(xnes.init(params), evaluations=800, stop="tol_fun")
    small = xnes.restart(params, state, np.zeros(4), draws=[0.5, 0.5])
    assert small.runs.regime == "small" and small.runs.large_evaluations == 800
    assert small.popsize == 8 and small.sigma == pytest.approx(2.0 * 10**-1.0)  # ratio 1 before a large run
    assert common.run_budget(small.runs) == 400  # half the large regime's evaluations
    state = dataclasses.replace(small, evaluations=900, stop="run_budget")
    large = xnes.restart(params, state, np.zeros(4), draws=[0.5, 0.5])
    assert (large.runs.regime, large.popsize, large.sigma) == ("large", 16, 2.0)
    assert (large.runs.small_evaluations, large.runs.stops) == (900, ("tol_fun", "run_budget"))
    state = dataclasses.replace(large, evaluations=1600, stop="stagnation")
    small = xnes.restart(params, state, np.zeros(4), draws=[1.0, 0.0])
    assert small.runs.regime == "small" and small.popsize == 16 and small.sigma == 2.0  # u = 1: lambda_large
    with pytest.raises(OptimkitValueError, match="draws"):
        xnes.restart(params, state, np.zeros(4))  # the small regime needs its uniforms
    ipop = xnes.Params(dimension=4, popsize=8, restarts=math.inf)
    assert xnes.restart(ipop, xnes.init(ipop), np.zeros(4)).popsize == 16


@pytest.mark.parametrize("strategy", ["ipop", "bipop"])
@pytest.mark.parametrize("cls", [XNES, SNES])
def test_restarts_survive_dump_and_load(tmp_path: Path, cls: type, strategy: str) -> None:
    def loss(x: np.ndarray) -> float:
        return sphere(x - 0.3) + 0.1 * float(np.sum(1 - np.cos(6 * x)))

    opt = cls(parametrization=ok.p.Array(shape=(3,), lower=-2, upper=2), budget=3000, seed=5,
              restart_strategy=strategy)
    while opt.state.num_restarts < 2:
        cand = opt.ask()
        opt.tell(cand, loss(cand.value))
    for _ in range(5):  # some asks in flight: re-issued after load
        opt.ask()
    path = tmp_path / "nes.dump"
    opt.dump(path)
    clone = cls.load(path)

    def continue_run(o: XNES | SNES) -> list[list[float]]:
        seen = []
        for _ in range(600):
            cand = o.ask()
            seen.append(cand.value.tolist())
            o.tell(cand, loss(cand.value))
        return seen

    original = cls.load(path)
    assert continue_run(clone) == continue_run(original)
    assert clone.state.num_restarts >= 2 and clone.state.runs == original.state.runs
    np.testing.assert_array_equal(clone.state.mean, original.state.mean)


def test_batch_path_keeps_working_across_restarts() -> None:
    opt = SNES(parametrization=ok.p.Array(shape=(4,), lower=-3, upper=3), budget=5000, seed=2)
    sizes: list[int] = []

    def batch_sphere(xs: np.ndarray) -> np.ndarray:
        sizes.append(len(xs))
        return np.sum((xs - 1.0) ** 2, axis=1)

    rec = opt.minimize(batch_sphere, vectorized=True)
    assert opt.num_tell == 5000 and opt.state.num_restarts >= 2 and sphere(rec.value - 1.0) < 1e-10
    assert max(sizes) == opt.state.popsize > opt._params.initial_popsize  # batches follow the population


def test_sigma_default_follows_the_bounds() -> None:
    bounded = ok.p.Array(shape=(3,), lower=-5, upper=5)  # standardized width 6 (mutation scale 10/6)
    np.testing.assert_allclose(relative_scales(bounded), BOX_FRACTION * 6)
    opt = XNES(bounded, seed=0)
    assert opt.state.sigma == pytest.approx(BOX_FRACTION * 6)
    values = np.array([opt.ask().value for _ in range(opt.state.popsize)])
    assert 0.5 < float(np.std(values)) < 5  # sigma0 = 2 in value space on [-5, 5], as in BBOB practice
    assert XNES(3, seed=0).state.sigma == 1.0  # unbounded: the parametrization's own mutation scale
    assert XNES(bounded, sigma=0.5).state.sigma == 0.5  # an explicit float is used as given
    mixed = ok.p.Dict(a=ok.p.Array(shape=(2,), lower=0.0, upper=1.0), b=ok.p.Array(shape=(2,)))
    scales = relative_scales(mixed)
    box = ok.p.Dict(a=ok.p.Array(shape=(2,), lower=0.0, upper=1.0), b=ok.p.Array(shape=(2,)))
    bounded_mask = ok.parametrization.UnitBox(box).bounded
    assert np.all(scales[~bounded_mask] == pytest.approx(1.0))
    np.testing.assert_allclose(scales[bounded_mask], BOX_FRACTION * ok.parametrization.UnitBox(box).widths[bounded_mask])
    s_opt = SNES(mixed, seed=0)
    np.testing.assert_allclose(s_opt.state.sigma, scales)
    x_opt = XNES(mixed, seed=0)
    stds = x_opt.state.sigma * np.sqrt(np.sum(x_opt.state.b**2, axis=1))
    np.testing.assert_allclose(stds, scales)
    assert np.linalg.det(x_opt.state.b) == pytest.approx(1.0)


def test_restart_means_are_uniform_in_the_box() -> None:
    opt = XNES(ok.p.Array(shape=(2,), lower=-5, upper=5), budget=400, seed=1)
    means = []

    def keep(optimizer: XNES, *_: object) -> None:
        if optimizer.state.generation == 0:
            means.append(optimizer.parametrization.spawn_child().set_standardized_data(optimizer.state.mean).value)

    opt.register_callback("tell", keep)
    opt.minimize(lambda x: 1.0)  # flat: every generation stops and restarts
    means = np.array(means)
    assert len(means) > 30 and np.all(np.abs(means) <= 5)
    assert means.min() < -3 and means.max() > 3  # spread over the whole box, not around the centre


def test_stop_reasons() -> None:
    rng = np.random.default_rng(0)

    def run(params: common.Params, core: object, state: object, loss: object, generations: int) -> object:
        for _ in range(generations):
            z = rng.standard_normal((state.popsize, params.dimension))
            x = core.ask(params, state, z)
            state = core.tell(params, state, x, loss(x), z=z)
            if state.stop is not None:
                return state
        return state

    for core in (xnes, snes):
        params = core.Params(dimension=3, sigma=1.0)
        st = run(params, core, core.init(params), lambda x: np.sum(x**2, axis=1), 3000)
        assert st.stop in {"tol_fun", "tol_x"} and np.abs(st.mean).max() < 1e-4
        st = run(params, core, core.init(params, mean=[1e20, 0.0, 0.0]), lambda x: np.sum(x[:, 1:] ** 2, axis=1), 50)
        assert st.stop in {"no_effect_coord", "no_effect_axis"}
        st = run(params, core, core.init(params), lambda x: rng.random(len(x)), 3000)
        assert st.stop == "stagnation" and st.generation >= 120  # noise only: no progress
        st = run(params, core, core.init(params), lambda x: np.ones(len(x)), 5)
        assert st.stop == "flat_fitness" and st.generation == 1
        ellipsoid = core.Params(dimension=2, sigma=1.0, lr_sigma=0.5)
        st = run(ellipsoid, core, core.init(ellipsoid), lambda x: x[:, 0] ** 2 + 1e16 * x[:, 1] ** 2, 3000)
        assert st.stop in {"condition", "tol_fun", "tol_x"}
    assert common.TOL_X == 1e-11 and common.MAX_CONDITION == 1e14  # Hansen's defaults


def test_small_runs_stop_on_their_budget() -> None:
    params = snes.Params(dimension=2, popsize=6, restart_strategy="bipop", restarts=math.inf)
    state = dataclasses.replace(snes.init(params), evaluations=120, stop="tol_fun")
    state = snes.restart(params, state, np.zeros(2), draws=[0.0, 0.5])
    rng = np.random.default_rng(1)
    while state.stop is None:
        x = snes.ask(params, state, rng.standard_normal((state.popsize, 2)))
        state = snes.tell(params, state, x, np.sum((x - 3.0) ** 2, axis=1))
    assert state.stop == "run_budget" and state.evaluations == 60


@pytest.mark.parametrize("bad, word", [
    ({"restart_strategy": "cma"}, "restart_strategy"), ({"restart_strategy": None}, "restart_strategy"),
    ({"restarts": -1}, "restarts"), ({"restarts": 2.5}, "restarts"), ({"sigma": 0.0}, "sigma"),
])
def test_bad_restart_options_name_the_option(bad: dict, word: str) -> None:
    for factory in (XNES, SNES):
        with pytest.raises(OptimkitValueError, match=word):
            factory(3, **bad)
    for family in (ConfXNES, ConfSNES):
        with pytest.raises(OptimkitValueError, match=word):
            family(**bad)
    with pytest.raises(OptimkitValueError, match="scales"):
        xnes.Params(dimension=3, scales=(1.0, 2.0))
    with pytest.raises(OptimkitValueError, match="tol_fun_floor"):
        snes.Params(dimension=3, tol_fun_floor=-1.0)


def test_families_default_to_restarts_and_take_a_strategy() -> None:
    assert "restarts" not in repr(ConfXNES()) and "sigma" not in repr(ConfSNES())
    conf = ConfSNES(restart_strategy="bipop", restarts=4)
    opt = conf(parametrization=5, budget=100)
    assert opt._params.restart_strategy == "bipop" and opt._params.restarts == 4
    assert "restart_strategy='bipop'" in repr(conf)
    assert ConfXNES()(parametrization=2)._params.restarts == math.inf
