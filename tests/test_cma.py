"""CMA over the cmaes package: the same run as bare cmaes, IPOP/BIPOP restarts, bounds, seeding,
dump/load, foreign points, the batch path and option validation."""

from __future__ import annotations

import copy
import math
import os
import sys

import numpy as np
import pytest

cmaes = pytest.importorskip("cmaes", reason="CMA needs cmaes (the cma extra), which is not installed")

import optimkit as ok  # noqa: E402
from optimkit.algorithms.cma import CMA, ConfCMA, core  # noqa: E402
from optimkit.errors import OptimkitValueError  # noqa: E402


def sphere(x: np.ndarray) -> float:
    return float(np.sum((np.asarray(x) - 1.0) ** 2))


def _run(opt: CMA, n: int, f=sphere) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    asked = []
    for _ in range(n):
        cand = opt.ask()
        asked.append(np.array(cand.value, dtype=float))
        opt.tell(cand, f(cand.value))
    return asked


def _trace(opt: CMA, budget: int, f=sphere) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """(regime, popsize) of each run, in order, while spending ``budget`` evaluations."""
    runs: list[tuple[str, int]] = []
    for _ in range(budget):
        cand = opt.ask()
        state = opt.state
        assert state is not None
        if not runs or state.num_restarts + 1 > len(runs):
            runs.append((state.regime, state.popsize))
        opt.tell(cand, f(cand.value))
    return runs


# ---------------------------------------------------------------------- the same maths as cmaes
def test_asks_are_bare_cmaes_samples_in_the_standardized_space() -> None:
    """Unbounded Array (standardized data = value): the rows are those of a cmaes.CMA with the seed
    drawn from the optimizer's generator, mean 0 and sigma 0.2 x 5 = 1 (to rounding: optimkit
    draws a generation as one matrix product)."""
    opt = CMA(parametrization=4, budget=400, restarts=0)
    opt.parametrization.random_state = np.random.RandomState(7)
    seed = np.random.RandomState(7).randint(0, 2**31 - 1)
    bare = cmaes.CMA(mean=np.zeros(4), sigma=1.0, seed=seed)
    for _ in range(20):
        rows = [bare.ask() for _ in range(bare.population_size)]
        mine = [opt.ask() for _ in range(bare.population_size)]
        np.testing.assert_allclose(np.stack([c.value for c in mine]), np.stack(rows), rtol=1e-12, atol=1e-12)
        for cand in reversed(mine):  # any order
            opt.tell(cand, sphere(cand.value))
        bare.tell([(x, sphere(x)) for x in rows])
    assert opt.state is not None
    np.testing.assert_allclose(opt.state.cma.mean, bare.mean, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("dim", "lower", "start"), [(3, 0.5, 1.0), (10, -0.2, 1.0), (8, 2.0, 2.0)])
def test_generation_drawn_at_once_is_cmaes_asks_with_resampling_and_clipping(dim: int, lower: float,
                                                                             start: float) -> None:
    """core.ask draws a whole generation from the run's generator: the rows of popsize calls of
    cmaes's ask (resampled outside the box; at the corner (8, 2.0), 100 failures and a clipped
    draw), to rounding, and the generator ends in the same state (the same number of draws)."""
    def make() -> cmaes.CMA:
        return cmaes.CMA(mean=np.full(dim, start), sigma=1.0, seed=1, bounds=np.tile([lower, 3.0], (dim, 1)),
                         population_size=9)
    mine, bare = make(), make()
    state = core.State(cma=mine, popsize=9, sigma=0.2)
    clipped = 0
    for _ in range(6):
        rows = core.ask(core.Params(dimension=dim), state)
        expected = np.array([bare.ask() for _ in range(9)])
        np.testing.assert_allclose(rows, expected, rtol=0, atol=1e-14)
        assert str(mine._rng.get_state()) == str(bare._rng.get_state())
        clipped += int(np.sum(np.any(rows == lower, axis=1)))
        told = [(x, float(np.sum((x - 5.0) ** 2))) for x in rows]
        mine.tell(list(told))
        bare.tell(list(told))
    assert (clipped > 0) == (lower == start)


def test_same_quality_as_bare_cmaes_on_a_bounded_sphere() -> None:
    """Array in [-5, 5]^5: the run is cmaes's with sigma 2 and bounds [-5, 5], up to the scale of the
    standardized space, so both reach the same loss on the shifted sphere (one run, no restart)."""
    d, budget = 5, 1200
    opt = CMA(ok.p.Array(shape=(d,), lower=-5.0, upper=5.0), budget=budget, restarts=0, seed=3)
    rec = opt.minimize(sphere)
    seed = np.random.RandomState(3).randint(0, 2**31 - 1)
    bare = cmaes.CMA(mean=np.zeros(d), sigma=2.0, bounds=np.tile([-5.0, 5.0], (d, 1)), seed=seed)
    best = math.inf
    for _ in range(budget // bare.population_size):
        sols = [(x, sphere(x)) for x in (bare.ask() for _ in range(bare.population_size))]
        best = min(best, min(y for _, y in sols))
        bare.tell(sols)
    assert rec.loss is not None and rec.loss < 1e-10 and best < 1e-10
    assert abs(math.log10(rec.loss) - math.log10(best)) < 1.5, (rec.loss, best)


# ---------------------------------------------------------------------- restarts
def test_ipop_restarts_double_the_population_and_spend_the_budget() -> None:
    opt = CMA(parametrization=2, budget=4000, seed=0)
    runs = _trace(opt, 4000)
    assert opt.num_tell == 4000
    assert len(runs) >= 3, runs
    sizes = [size for _, size in runs]
    assert sizes[:3] == [6, 12, 24], sizes  # 4 + floor(3 ln 2) = 6, doubled at each restart
    assert all(regime in ("first", "large") for regime, _ in runs)
    assert opt.recommend().loss is not None and opt.recommend().loss < 1e-12  # type: ignore[operator]


def test_bipop_alternates_small_and_large_runs() -> None:
    opt = ConfCMA(restart_strategy="bipop")(parametrization=2, budget=6000)
    opt.parametrization.random_state.seed(1)
    runs = _trace(opt, 6000)
    regimes = [regime for regime, _ in runs]
    assert regimes[0] == "first" and regimes[1] == "large", regimes
    assert "small" in regimes, regimes
    latest_large = 6
    for regime, size in runs[1:]:
        if regime == "large":
            assert size == 2 * latest_large
            latest_large = size
        else:  # between the default and the latest large population
            assert 6 <= size <= latest_large
    state = opt.state
    assert state is not None and state.small_evaluations > 0 and state.large_evaluations > 0


def test_restarts_limit_and_no_restart() -> None:
    for restarts in (0, 1):
        opt = CMA(parametrization=2, budget=3000, seed=0, restarts=restarts)
        opt.minimize(sphere)
        assert opt.state is not None and opt.state.num_restarts == restarts
        assert opt.num_tell == 3000


def test_restart_rule_of_the_core() -> None:
    """IPOP grows by popsize_multiplier, capped at MAX_GROWTH x; the new mean is uniform in the box."""
    params = core.Params(dimension=3, popsize=4, popsize_multiplier=3.0)
    space = core.Space.box(np.zeros(3), np.ones(3) * 10.0)
    state = core.init(params, space, seed=0)
    state = core.restart(params, space, state, 1, unit=[0.0, 0.5, 1.0], normal=np.zeros(3), u=[0.5, 0.5])
    assert state.popsize == 12 and state.regime == "large" and state.num_restarts == 1
    np.testing.assert_allclose(state.cma.mean, [0.0, 5.0, 10.0])
    state.num_large = 20
    state = core.restart(params, space, state, 2, unit=np.full(3, 0.5), normal=np.zeros(3), u=[0.5, 0.5])
    assert state.popsize == core.MAX_GROWTH * 4


def test_stop_reasons_beyond_cmaes() -> None:
    """A flat objective stops each run after d = 3 generations by equalfunvals (Hansen 2009), long
    before cmaes's tolfun (23 generations): runs of 3 x 7, 3 x 14, 3 x 28 evaluations."""
    opt = CMA(parametrization=3, budget=200, seed=0)
    reasons = []
    for _ in range(200):
        cand, state = opt.ask(), opt.state
        opt.tell(cand, 1.0)
        if opt.state is not state:
            assert state is not None
            reasons.append((state.stop, state.generation))
    assert reasons == [("equalfunvals", 3)] * 3


def test_lr_adapt_and_popsize_two_run() -> None:
    for options in ({"lr_adapt": True}, {"popsize": 2}):
        opt = CMA(parametrization=3, budget=600, seed=0, **options)  # type: ignore[arg-type]
        rec = opt.minimize(sphere)
        assert opt.num_tell == 600 and sphere(rec.value) < 1e-4, options


# ---------------------------------------------------------------------- space and bounds
def test_bounds_respected_and_sigma_relative_to_each_width() -> None:
    param = ok.p.Array(shape=(3,), lower=[0.0, -1.0, -100.0], upper=[1.0, 10.0, 100.0])
    opt = CMA(param, budget=1500, seed=2, mean=np.array([0.9, 9.0, 0.0]))
    values = np.stack(_run(opt, 1500, f=lambda x: float(np.sum((x - [1.0, 10.0, 100.0]) ** 2))))
    assert np.all(values >= [0.0, -1.0, -100.0]) and np.all(values <= [1.0, 10.0, 100.0])
    widths = opt.space.upper - opt.space.lower
    np.testing.assert_allclose(opt.space.std, 0.2 * widths)
    assert opt.recommend().loss < 1e-6  # type: ignore[operator]  # the corner optimum is reached


def test_box_transformation_identity_inside_continuous_periodic_and_reaching_each_bound() -> None:
    space = core.Space.box(lower=[-5.0, 0.0], upper=[5.0, 1.0])
    t = np.linspace(-40.0, 40.0, 400_001)
    x = np.stack([t, t / 10.0], axis=1)
    y = core.to_box(space, x)
    assert np.all(y >= space.lower) and np.all(y <= space.upper)
    margin = core.TRANSFORM_MARGIN * (space.upper - space.lower)  # 0.25 and 0.025
    inside = (x > space.lower + margin) & (x < space.upper - margin)
    np.testing.assert_array_equal(y[inside], x[inside])  # exactly the sample inside
    steps = np.abs(np.diff(y, axis=0))
    assert steps.max(axis=0) == pytest.approx([2e-4, 2e-5], rel=1e-6)  # continuous, slope at most 1
    period = 2 * (10.0 + 2 * 0.25)
    shifted = core.to_box(space, x + [period, period / 10.0])
    np.testing.assert_allclose(shifted, y, atol=1e-9)
    assert np.isclose(y[:, 0], 5.0).any() and np.isclose(y[:, 0], -5.0).any()


def _slope(x: np.ndarray) -> float:
    """A linear slope whose optimum is the corner (5, ..., 5) of [-5, 5]^d (loss 0 there)."""
    weights = 10.0 ** (np.arange(len(x)) / max(len(x) - 1, 1))
    return float(np.sum(weights * (5.0 - np.asarray(x))))


def test_optimum_on_the_bounds_reached_by_the_transformation_not_by_resampling() -> None:
    param = ok.p.Array(shape=(10,), lower=-5.0, upper=5.0)
    losses = {}
    for handling in core.BOUND_HANDLINGS:
        opt = CMA(param, budget=2000, seed=3, bound_handling=handling)
        losses[handling] = opt.minimize(_slope).loss
    assert losses["transform"] < 1e-6, losses
    assert losses["resample"] > 1e-2, losses  # resampled, then clipped: the distribution stalls before the corner


def test_adaptive_resamples_until_a_run_stops_pressed_against_the_box() -> None:
    """The default: runs resample (cmaes holds the box) until one stops with at least half of its
    last generation clipped onto a bound; the next runs transform, and reach the corner optimum."""
    param = ok.p.Array(shape=(10,), lower=-5.0, upper=5.0)
    opt = CMA(param, budget=4000, seed=3)
    assert opt._params.bound_handling == "adaptive"
    runs: list[tuple[bool, bool]] = []  # (transform, cmaes holds the bounds) of each run
    for _ in range(4000):
        cand, state = opt.ask(), opt.state
        assert state is not None
        if len(runs) == state.num_restarts:
            runs.append((state.transform, state.cma._bounds is not None))
        opt.tell(cand, _slope(cand.value))
    assert runs[0] == (False, True) and len(runs) >= 2 and all(run == (True, False) for run in runs[1:]), runs
    assert opt.recommend().loss < 1e-5  # type: ignore[operator]
    # an optimum inside the box: every run resamples
    opt = CMA(ok.p.Array(shape=(3,), lower=-5.0, upper=5.0), budget=3000, seed=3)
    for _ in range(3000):
        cand = opt.ask()
        assert opt.state is not None and not opt.state.transform
        opt.tell(cand, sphere(cand.value))
    assert opt.state is not None and opt.state.num_restarts >= 2


def test_restart_switches_to_the_transformation_on_a_pressed_generation() -> None:
    space = core.Space.box(lower=np.full(3, -1.0), upper=np.full(3, 1.0))
    pressed = np.array([[1.0, 0.2, 0.0], [1.0, -0.5, 0.3], [0.4, 0.1, 0.2]])  # 2 of 3 on the upper bound of x0
    inside = np.array([[0.9, 0.2, 0.0], [1.0, -0.5, 0.3], [0.4, 0.1, -1.0]])  # at most 1 of 3 on one bound
    assert core.pressed(space, pressed) and not core.pressed(space, inside)
    draws = {"unit": np.full(3, 0.5), "normal": np.zeros(3), "u": [0.5, 0.5]}
    losses = [0.3, 0.1, 0.2]
    for handling, last, expected in [("adaptive", pressed, True), ("adaptive", inside, False),
                                     ("resample", pressed, False), ("transform", inside, True)]:
        params = core.Params(dimension=3, popsize=3, bound_handling=handling)
        state = core.init(params, space, seed=0)
        assert state.transform == (handling == "transform")
        state = core.tell(params, state, last, losses)  # the run's last generation
        new = core.restart(params, space, state, 1, **draws)
        assert new.transform == expected, (handling, last)
        assert (new.cma._bounds is None) == expected  # cmaes holds the box only when resampling
        new = core.tell(params, new, np.vstack([inside, inside]), losses * 2)  # IPOP doubled the population
        assert core.restart(params, space, new, 2, **draws).transform == expected  # once on, it stays on


def test_a_resampling_run_pressed_against_the_box_stops_after_some_generations() -> None:
    """"adaptive": a run whose generations stay pressed (half clipped onto one bound) for
    PRESSED_GENERATIONS generations in a row stops ("pressed"); an unpressed generation resets the
    count; the restart then transforms. "resample" never stops for that."""
    space = core.Space.box(lower=np.full(3, -1.0), upper=np.full(3, 1.0))
    rng = np.random.default_rng(0)

    def generation(pressed: bool) -> np.ndarray:
        rows = rng.uniform(-0.5, 0.5, size=(6, 3))
        if pressed:
            rows[:3, 1] = 1.0  # 3 of 6 on the upper bound of x1
        return rows

    for handling in ("adaptive", "resample"):
        params = core.Params(dimension=3, popsize=6, bound_handling=handling)
        state = core.init(params, space, seed=0)
        pattern = [True] * 4 + [False] + [True] * core.PRESSED_GENERATIONS
        stops = []
        for pressed in pattern:
            state = core.tell(params, state, generation(pressed), rng.uniform(size=6).tolist())
            stops.append(state.stop)
        if handling == "adaptive":
            assert stops[:-1] == [None] * (len(pattern) - 1) and stops[-1] == "pressed", stops
            draws = {"unit": np.full(3, 0.5), "normal": np.zeros(3), "u": [0.5, 0.5]}
            assert core.restart(params, space, state, 1, **draws).transform
        else:
            assert "pressed" not in stops and state.pressed_streak == 0


def test_samples_moved_by_the_transformation_are_told_and_survive_dump_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    param = ok.p.Array(shape=(4,), lower=-5.0, upper=5.0)
    opt = CMA(param, budget=2000, seed=8, bound_handling="transform")
    _run(opt, 300, f=_slope)
    state = opt.state
    assert state is not None and np.any(np.abs(state.cma.mean) > 3.0)  # beyond the box (data space [-3, 3])
    pending = [opt.ask() for _ in range(3)]
    assert any(isinstance(cand._tag, tuple) for cand in pending)  # each carries the sample it stands for
    path = os.fspath(tmp_path / "cma.dump")
    opt.dump(path)
    loaded = CMA.load(path)  # in flight when dumped: re-issued there, with their samples
    for cand in pending:
        opt.abandon(cand)
    for other in (opt, loaded):
        reissued = [other.ask() for _ in range(3)]
        assert sorted(c.value.tobytes() for c in reissued) == sorted(c.value.tobytes() for c in pending)
        for cand in reissued:
            other.tell(cand, _slope(cand.value))
    np.testing.assert_array_equal(np.stack(_run(opt, 600, f=_slope)), np.stack(_run(loaded, 600, f=_slope)))
    assert opt.recommend().loss < 1e-8  # type: ignore[operator]


def test_dump_of_a_run_without_its_handling_flag_keeps_transforming(tmp_path,  # type: ignore[no-untyped-def]
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A dump made before runs recorded ``transform`` (when "transform" was the default) loads
    with the handling its options say."""
    opt = CMA(ok.p.Array(shape=(4,), lower=-5.0, upper=5.0), budget=600, seed=8, bound_handling="transform")
    _run(opt, 200, f=_slope)
    assert opt.state is not None and opt.state.transform
    new_getstate = CMA.__getstate__

    def old_getstate(self: CMA) -> dict:  # type: ignore[type-arg]
        state = new_getstate(self)
        for name in ("transform", "pressed_streak"):
            del vars(state["_state"])[name]  # as an earlier revision pickled its State
        return state

    monkeypatch.setattr(CMA, "__getstate__", old_getstate)
    path = os.fspath(tmp_path / "old.dump")
    opt.dump(path)
    monkeypatch.undo()
    loaded = CMA.load(path)
    assert loaded.state is not None and loaded.state.transform and loaded.state.pressed_streak == 0
    np.testing.assert_array_equal(np.stack(_run(opt, 300, f=_slope)), np.stack(_run(loaded, 300, f=_slope)))


def test_unbounded_and_arctan_coordinates_have_no_cmaes_bounds() -> None:
    param = ok.p.Instrumentation(ok.p.Array(shape=(2,)), ok.p.Array(shape=(1,), lower=0, upper=1).set_bounds(
        0, 1, method="arctan"), ok.p.Scalar(lower=-2.0, upper=2.0))
    opt = CMA(param, budget=50, seed=0)
    assert np.isinf(opt.space.lower[:3]).all() and np.isfinite(opt.space.lower[3])
    np.testing.assert_allclose(opt.space.std[:3], 1.0)  # 0.2 x 5 standardized units
    opt.minimize(lambda a, b, c: float(np.sum(a**2) + b[0] + c**2))
    assert opt.num_tell == 50


# ---------------------------------------------------------------------- seeding, dump/load
def test_same_seed_same_asks_across_restarts() -> None:
    runs = [np.stack(_run(CMA(parametrization=2, budget=1500, seed=11), 1500)) for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    other = np.stack(_run(CMA(parametrization=2, budget=1500, seed=12), 1500))
    assert not np.array_equal(runs[0], other)


@pytest.mark.parametrize("strategy", ["ipop", "bipop"])
def test_dump_load_mid_generation_continues_identically(tmp_path, strategy: str) -> None:  # type: ignore[no-untyped-def]
    opt = ConfCMA(restart_strategy=strategy)(parametrization=3, budget=3000)
    opt.parametrization.random_state.seed(4)
    _run(opt, 1203)  # past a restart, in the middle of a generation
    assert opt.state is not None and opt.state.num_restarts >= 1
    twin = copy.deepcopy(opt)  # the pickling protocol: the same continuation
    pending = opt.ask()  # in flight when dumped: re-issued after load
    path = os.fspath(tmp_path / "cma.dump")
    opt.dump(path)
    loaded = CMA.load(path)
    opt.abandon(pending)
    twin.abandon(twin.ask())
    for other in (loaded, twin):
        assert other.num_ask == opt.num_ask and other.num_tell == opt.num_tell
    expected = np.stack(_run(opt, 400))  # crosses generations and restarts
    np.testing.assert_array_equal(expected, np.stack(_run(loaded, 400)))
    np.testing.assert_array_equal(expected, np.stack(_run(twin, 400)))


def test_deepcopy_continues_identically() -> None:
    opt = CMA(parametrization=3, budget=1000, seed=5)
    _run(opt, 55)
    twin = copy.deepcopy(opt)
    np.testing.assert_array_equal(np.stack(_run(opt, 200)), np.stack(_run(twin, 200)))


# ---------------------------------------------------------------------- ask/tell protocol
def test_abandoned_ask_is_reissued_and_tells_in_any_order() -> None:
    opt = CMA(parametrization=3, budget=100, seed=0)
    first, second = opt.ask(), opt.ask()
    opt.abandon(second)
    again = opt.ask()
    np.testing.assert_array_equal(again.value, second.value)
    opt.tell(again, sphere(again.value))
    opt.tell(first, sphere(first.value))
    assert opt.num_ask == opt.num_tell == 2


def test_foreign_better_points_steer_the_update() -> None:
    """A told-not-asked point better than the generation replaces its worst: the mean moves toward it."""
    target = np.full(4, 3.0)

    def f(x: np.ndarray) -> float:
        return float(np.sum((x - target) ** 2))

    means = []
    for inject in (False, True):
        opt = CMA(ok.p.Array(shape=(4,), lower=-5.0, upper=5.0), budget=100, seed=0)
        if inject:
            opt.tell(opt.parametrization.spawn_child(new_value=target), 0.0)
        _run(opt, opt.popsize, f)
        assert opt.state is not None
        means.append(np.asarray(opt.state.cma.mean) * 5.0 / 3.0)  # standardized -> value
    assert np.linalg.norm(means[1] - target) < np.linalg.norm(means[0] - target)


def test_batch_protocol_matches_single_asks_and_vectorized_minimize() -> None:
    singles = CMA(parametrization=3, budget=300, seed=9)
    batches = CMA(parametrization=3, budget=300, seed=9)
    for _ in range(10):
        data = batches.ask_data(batches.preferred_batch_size)
        rows = [singles.ask() for _ in range(len(data))]
        np.testing.assert_array_equal(np.stack([c.value for c in rows]), batches.values_of(data))
        batches.tell_data(data, np.array([sphere(x) for x in batches.values_of(data)]))
        for c in rows:
            singles.tell(c, sphere(c.value))
    opt = CMA(parametrization=5, budget=3000, seed=0)
    rec = opt.minimize(lambda xs: np.sum((xs - 1.0) ** 2, axis=1), vectorized=True)
    assert opt.num_tell == 3000 and sphere(rec.value) < 1e-10


# ---------------------------------------------------------------------- options
@pytest.mark.parametrize("option, value", [
    ("popsize", 1), ("sigma", 0.0), ("sigma", -1.0), ("restarts", -1), ("restarts", 1.5),
    ("restart_strategy", "lpop"), ("popsize_multiplier", 0.5), ("lr_adapt", "yes"),
])
def test_bad_options_name_the_option(option: str, value: object) -> None:
    with pytest.raises(OptimkitValueError, match=option):
        CMA(parametrization=3, **{option: value})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=option):
        ConfCMA(**{option: value})  # type: ignore[arg-type]


def test_mean_outside_the_bounds_is_refused() -> None:
    with pytest.raises(OptimkitValueError, match="mean"):
        CMA(ok.p.Array(shape=(2,), lower=0.0, upper=1.0), mean=np.array([0.5, 3.0]))


def test_registry_names_and_family() -> None:
    assert ok.optimizers.registry["CMA"] is CMA
    bipop = ok.optimizers.registry["BIPOPCMA"]
    assert bipop.config()["restart_strategy"] == "bipop"
    assert bipop(parametrization=2).name == "BIPOPCMA"
    assert ok.families.ConfCMA is ConfCMA
    assert CMA.requires == ("cmaes",) and bipop.requires == ("cmaes",)


def test_missing_cmaes_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cmaes", None)  # import cmaes now fails
    with pytest.raises(ModuleNotFoundError, match="cmaes") as info:
        CMA(parametrization=2)
    assert info.value.name == "cmaes"
