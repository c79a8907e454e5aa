"""optimkit.compat.ansr: the seed-compatible ansr_minimize / EarlyStopCallback."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds

from optimkit.compat.ansr import EarlyStopCallback, OptimizeResult, WindowEarlyStopCallback, ansr_minimize
from optimkit.errors import OptimkitValueError
from optimkit.functions import shubert as shubert01


class CountingSphere:
    """A picklable sphere that counts its calls (in this process)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: np.ndarray, offset: float = 0.0) -> float:
        self.calls += 1
        return float(np.sum((x - offset) ** 2))


def sphere(x: np.ndarray) -> float:
    return float(np.sum(x**2))


def test_result_fields_and_budget() -> None:
    res = ansr_minimize(sphere, ((-5, 5),) * 3, maxiter=640, popsize=16, seed=1)
    assert isinstance(res, OptimizeResult)
    assert res.nit == 40 and res.nfev == 640
    assert res.fun == pytest.approx(sphere(res.x))
    assert np.all(np.abs(res.x) <= 5)
    assert res.restarts >= 0


def test_solves_sphere_and_args_are_passed() -> None:
    res = ansr_minimize(CountingSphere(), ((-5, 5),) * 4, args=(1.5,), maxiter=20_000, p_self=0.05)
    np.testing.assert_allclose(res.x, 1.5, atol=0.05)


def test_same_seed_same_run_other_seed_other_run() -> None:
    a = ansr_minimize(sphere, ((-5, 5),) * 3, maxiter=640, seed=7)
    b = ansr_minimize(sphere, ((-5, 5),) * 3, maxiter=640, seed=7)
    c = ansr_minimize(sphere, ((-5, 5),) * 3, maxiter=640, seed=8)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.fun == b.fun and a.fun != c.fun
    g1 = ansr_minimize(sphere, ((-5, 5),) * 3, maxiter=640, seed=np.random.default_rng(3))
    g2 = ansr_minimize(sphere, ((-5, 5),) * 3, maxiter=640, seed=np.random.default_rng(3))
    assert g1.fun == g2.fun


def test_early_stop_on_the_objective_costs_no_evaluation() -> None:
    f = CountingSphere()
    cb = EarlyStopCallback(f, stop_residual=1e-2)
    res = ansr_minimize(f, ((-5, 5),) * 2, maxiter=50_000, popsize=16, callback=cb)
    assert res.fun <= 1e-2 and res.nit < 50_000 // 16
    assert f.calls == res.nfev == 16 * res.nit  # every call counted, none spent by the callback
    assert cb.num_evaluations == 0


def test_early_stop_on_another_function_is_counted() -> None:
    f, g = CountingSphere(), CountingSphere()
    cb = EarlyStopCallback(g, stop_residual=1e-2)
    res = ansr_minimize(f, ((-5, 5),) * 2, maxiter=50_000, popsize=16, callback=cb)
    assert res.fun <= 1e-2
    assert cb.num_evaluations == g.calls > 0
    assert g.calls <= res.nit  # only when the best point changed
    assert res.nfev == f.calls + g.calls


def test_plain_callback_and_stop_iteration() -> None:
    seen: list[np.ndarray] = []

    def cb(x: np.ndarray) -> bool:
        seen.append(x)
        if len(seen) == 3:
            raise StopIteration
        return False

    res = ansr_minimize(sphere, ((-1, 1),) * 2, popsize=8, callback=cb)
    assert res.nit == 3 and len(seen) == 3


def test_self_instead_neighbour_alias() -> None:
    a = ansr_minimize(sphere, ((-5, 5),) * 3, maxiter=640, p_self=0.2, seed=3)
    b = ansr_minimize(sphere, ((-5, 5),) * 3, maxiter=640, self_instead_neighbour=0.2, seed=3)
    assert a.fun == b.fun
    with pytest.raises(OptimkitValueError, match="self_instead_neighbour"):
        ansr_minimize(sphere, ((-5, 5),), p_self=0.3, self_instead_neighbour=0.2)


def test_x0_becomes_particle_zero() -> None:
    seen: list[np.ndarray] = []

    def f(x: np.ndarray) -> float:
        seen.append(x.copy())
        return sphere(x)

    ansr_minimize(f, ((-5, 5), (0, 1)), x0=np.array([1.0, 0.25]), maxiter=8, popsize=8)
    np.testing.assert_allclose(seen[0], [1.0, 0.25])


def test_scipy_bounds_and_map_like_workers() -> None:
    calls: list[int] = []

    def my_map(fn, rows):  # noqa: ANN001
        calls.append(len(rows))
        return map(fn, rows)

    res = ansr_minimize(sphere, Bounds([-1, -1], [1, 1]), maxiter=64, popsize=8, workers=my_map)
    assert calls == [8] * 8 and res.nfev == 64


def test_process_pool_gives_the_same_run() -> None:
    serial = ansr_minimize(CountingSphere(), ((-5, 5),) * 3, maxiter=256, popsize=16, seed=4)
    pooled = ansr_minimize(CountingSphere(), ((-5, 5),) * 3, maxiter=256, popsize=16, seed=4, workers=2)
    assert serial.fun == pooled.fun and serial.nfev == pooled.nfev


def test_readme_shubert_example_runs_unchanged() -> None:
    shubert_bounds = ((-10, 10), (-10, 10))

    def shubert(x: np.ndarray) -> float:  # the ANSR README's function, verbatim in behaviour
        i = np.array((1, 2, 3, 4, 5))
        x = x.reshape(-1, 1)
        index_0 = np.arange(x.size) % 2 == 0
        index_1 = np.logical_not(index_0)
        return (np.sum(np.sum(i * np.cos((i + 1) * x[index_0] + i), axis=1)
                       * np.sum(i * np.cos((i + 1) * x[index_1] + i), axis=1)) / x.size * 2 + 186.7309)

    x = np.random.default_rng(0).uniform(-10, 10, 64)
    assert shubert(x) == pytest.approx(396.7309 * shubert01(x))
    result = ansr_minimize(shubert, shubert_bounds * 32, callback=EarlyStopCallback(shubert),
                           seed=42, maxiter=6400)  # the full 100k run lives in benchmarks/
    assert result.nfev == 6400 and result.fun < shubert(x)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"popsize": 1}, "popsize"),
    ({"sigma": 0.0}, "sigma"),
    ({"p_self": 1.2}, "p_self"),
    ({"restart_tolerance": -1.0}, "restart_tolerance"),
    ({"bounds": ((1.0, 1.0),)}, "bounds"),
    ({"bounds": ((2.0, 1.0),)}, "bounds"),
    ({"bounds": ((0.0, np.inf),)}, "bounds"),
    ({"bounds": ()}, "bounds"),
    ({"x0": np.array([6.0, 0.0])}, "x0"),
    ({"x0": np.array([0.0])}, "x0"),
    ({"maxiter": 0}, "maxiter"),
    ({"workers": 0}, "workers"),
])
def test_bad_input_names_the_option(kwargs: dict, name: str) -> None:
    call = {"func": sphere, "bounds": ((-5, 5), (-5, 5)), **kwargs}
    with pytest.raises(OptimkitValueError, match=name):
        ansr_minimize(**call)


# Recorded from a local run of the reference implementation (fxeqxmulfx/ansr, src/ansr/ansr.py,
# numpy 2.4): the same seed must give the same run, bit for bit.
REFERENCE_RUNS = [
    ({"maxiter": 640, "seed": 0}, 2.564549219170041,
     [0.597981363689617, 0.7833591492627265, -1.2351518970569062, 0.2602224861787512], 0),
    ({"maxiter": 2000, "popsize": 16, "p_self": 0.0, "seed": 3}, 0.06610002428762096,
     [-0.0003765343851354075, -0.257096020394024, -0.0009459355938412628, -0.0007899448624257843], 3),
    ({"maxiter": 2000, "popsize": 16, "p_self": 1.0, "seed": 3}, 11.866561949511432,
     [0.6180971873088996, -1.0034377886954724, 1.129094919024391, -3.033607602278763], 0),
    ({"maxiter": 3000, "popsize": 8, "p_self": 0.5, "restart_tolerance": 0.05, "seed": 9}, 3.627082390483051e-14,
     [1.7707935917599116e-07, 5.241310496728602e-09, -6.940372720976029e-08, -8.329211986790597e-09], 98),
]


@pytest.mark.parametrize(("kwargs", "fun", "x", "restarts"), REFERENCE_RUNS)
def test_same_seed_same_run_as_the_reference(kwargs: dict, fun: float, x: list, restarts: int) -> None:
    res = ansr_minimize(sphere, ((-5, 5),) * 4, **kwargs)
    assert res.fun == fun
    assert res.x.tolist() == x
    assert res.restarts == restarts and res.nfev == kwargs["maxiter"]


@pytest.mark.slow
def test_readme_shubert_periodic_settings_stop_early() -> None:
    """64-D Shubert, sigma=0.04, p_self=0.05, seed 2: stops at fun <= 0.1 after 62,272 evaluations,
    as the original does with this seed (seeds 42 and 1: benchmarks/ansr_table.py --shubert-example)."""
    def shubert(x: np.ndarray) -> float:
        return float(shubert01(x)) * 396.7309

    res = ansr_minimize(shubert, ((-10, 10), (-10, 10)) * 32, callback=EarlyStopCallback(shubert),
                        seed=2, sigma=0.04, p_self=0.05)
    assert res.fun <= 0.1 and res.nfev == 62_272


def test_window_early_stop_like_the_original() -> None:
    f = CountingSphere()
    cb = WindowEarlyStopCallback(f, window_size=5, min_difference=1e9)
    res = ansr_minimize(f, ((-5, 5),) * 2, popsize=8, callback=cb)
    assert res.nit == 6 and f.calls == res.nfev == 48  # checked at epochs 1 and 6, no extra call
    direct = WindowEarlyStopCallback(sphere, window_size=2, min_difference=0.5)
    answers = [direct(np.array([v])) for v in (3.0, 1.0, 2.97)]  # residuals 9, 1, 8.82: checked 1st, 3rd
    assert answers == [False, False, True] and direct.num_evaluations == 3


def test_alias_conflict_raises_even_when_p_self_is_given_at_its_default_value() -> None:
    import inspect

    with pytest.raises(OptimkitValueError, match="p_self=0.95 and its alias self_instead_neighbour=0.2"):
        ansr_minimize(sphere, ((-5, 5),), maxiter=64, p_self=0.95, self_instead_neighbour=0.2)
    same = ansr_minimize(sphere, ((-5, 5),) * 2, maxiter=640, p_self=0.2, self_instead_neighbour=0.2, seed=1)
    alias = ansr_minimize(sphere, ((-5, 5),) * 2, maxiter=640, self_instead_neighbour=0.2, seed=1)
    assert same.fun == alias.fun
    assert repr(inspect.signature(ansr_minimize).parameters["p_self"].default) == "0.95"


def test_func_wrapper_passes_args_and_pickles() -> None:
    import pickle

    from optimkit.compat.ansr import FuncWrapper

    wrapped = pickle.loads(pickle.dumps(FuncWrapper(np.dot, (np.array([1.0, 2.0]),))))
    assert wrapped(np.array([3.0, 4.0])) == 11.0
    assert wrapped.args[0].tolist() == [1.0, 2.0]


def test_torch_callbacks_work_on_plain_losses() -> None:
    from optimkit.compat.ansr import TorchEarlyStopCallback, TorchWindowEarlyStopCallback

    stop = TorchEarlyStopCallback()  # the original's default: 0.1
    assert [stop(v) for v in (0.5, 0.1, 0.01)] == [False, True, True]
    window = TorchWindowEarlyStopCallback(window_size=2, min_difference=0.25)
    # compared at calls 0 (against inf), 2 (1.0 -> 0.7: improved 0.3) and 4 (0.7 -> 0.5: only 0.2)
    assert [window(v) for v in (1.0, 0.9, 0.7, 0.6, 0.5)] == [False, False, False, False, True]
