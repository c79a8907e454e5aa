"""optimkit.compat.pypop7: pypop7's XNES/SNES interface over optimkit's NES core."""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np
import pytest

from optimkit.compat.pypop7 import SNES, XNES
from optimkit.errors import OptimkitValueError, OptimkitWarning


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def sphere(x: np.ndarray) -> float:
    return float(np.dot(x, x))


def seed_problem() -> tuple[dict, dict]:
    """The example of pypop7's XNES docstring (pypop7 prints 1.3565728021697798e-18)."""
    problem = {"fitness_function": rosenbrock, "ndim_problem": 2,
               "lower_boundary": -5 * np.ones((2,)), "upper_boundary": 5 * np.ones((2,))}
    options = {"max_function_evaluations": 5000, "seed_rng": 2022, "mean": 3 * np.ones((2,)), "sigma": 0.1,
               "verbose": 0}
    return problem, options


def test_seed_example_reaches_1e_10() -> None:
    problem, options = seed_problem()
    results = XNES(problem, options).optimize()
    assert results["best_so_far_y"] < 1e-10
    assert results["n_function_evaluations"] == 5000
    assert results["termination_signal"] == "MAX_FUNCTION_EVALUATIONS"
    assert rosenbrock(results["best_so_far_x"]) == results["best_so_far_y"]
    assert results["runtime"] > 0 and results["success"] is True
    for key in ("time_function_evaluations", "mean", "initial_mean", "sigma", "_n_restart", "_n_generations"):
        assert key in results
    np.testing.assert_array_equal(results["initial_mean"], [3.0, 3.0])


def test_same_example_as_pypop7_side_by_side() -> None:
    pypop7_xnes = pytest.importorskip("pypop7.optimizers.nes.xnes")
    problem, options = seed_problem()
    theirs = pypop7_xnes.XNES(problem, dict(options)).optimize()
    ours = XNES(problem, options).optimize()
    assert ours["best_so_far_y"] <= max(theirs["best_so_far_y"], 1e-16)


@pytest.mark.parametrize("algo", ["XNES", "SNES"])
def test_parity_with_pypop7_under_the_same_seed(algo: str) -> None:
    """Same seed, same random streams, same maths: the same run up to floating-point rounding."""
    module = pytest.importorskip(f"pypop7.optimizers.nes.{algo.lower()}")
    problem = {"fitness_function": lambda x: sphere(x * np.arange(1, 7)), "ndim_problem": 6,
               "lower_boundary": -5 * np.ones(6), "upper_boundary": 5 * np.ones(6)}
    options = {"max_function_evaluations": 1500, "seed_rng": 3, "sigma": 1.0, "verbose": 0,
               "is_restart": False}
    theirs = getattr(module, algo)(problem, dict(options)).optimize()
    ours = (XNES if algo == "XNES" else SNES)(problem, options).optimize()
    np.testing.assert_allclose(ours["initial_mean"], theirs["initial_mean"], rtol=1e-15)
    assert ours["n_function_evaluations"] == theirs["n_function_evaluations"] == 1500
    assert ours["best_so_far_y"] == pytest.approx(theirs["best_so_far_y"], rel=1e-6)
    np.testing.assert_allclose(ours["best_so_far_x"], theirs["best_so_far_x"], rtol=1e-6, atol=1e-12)


def test_snes_and_its_required_sigma() -> None:
    problem, options = seed_problem()
    problem["fitness_function"] = sphere
    results = SNES(problem, options).optimize()
    assert results["best_so_far_y"] < 1e-20 and np.shape(results["sigma"]) == (2,)
    del options["sigma"]
    with pytest.raises(OptimkitValueError, match="sigma"):
        SNES(problem, options)
    XNES(problem, options)  # XNES defaults sigma to 1.0, what pypop7 effectively uses


def test_options_are_not_mutated_and_runs_are_reproducible() -> None:
    problem, options = seed_problem()
    options["seed_rng"] = 5
    before_p, before_o = copy.deepcopy(problem), copy.deepcopy(options)
    first = XNES(problem, options).optimize()
    second = XNES(problem, options).optimize()
    assert set(problem) == set(before_p) and set(options) == set(before_o)
    for key in options:
        np.testing.assert_array_equal(options[key], before_o[key])
    assert first["best_so_far_y"] == second["best_so_far_y"]
    np.testing.assert_array_equal(first["best_so_far_x"], second["best_so_far_x"])
    other = XNES(problem, dict(options, seed_rng=6, max_function_evaluations=300)).optimize()
    short = XNES(problem, dict(options, max_function_evaluations=300)).optimize()
    assert other["best_so_far_y"] != short["best_so_far_y"]


def test_typos_are_errors_and_unimplemented_pypop7_keys_warn() -> None:
    problem, options = seed_problem()
    with pytest.raises(OptimkitValueError, match="max_function_evaluations"):
        XNES(problem, {**options, "max_function_evaluation": 10})  # did you mean ...
    with pytest.raises(OptimkitValueError, match="fitness_function"):
        XNES({**problem, "fitnes_function": sphere}, options)
    with pytest.warns(OptimkitWarning, match="n_parents"):
        XNES(problem, {**options, "n_parents": 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        XNES(problem, {**options, "saving_fitness": 0, "is_restart": True})


@pytest.mark.parametrize("bad, word", [
    ({"sigma": 0.0}, "sigma"), ({"sigma": -1.0}, "sigma"), ({"n_individuals": 1}, "n_individuals"),
    ({"mean": np.ones(3)}, "mean"), ({"mean": np.array([np.nan, 1.0])}, "mean"),
    ({"lr_mean": 0.0}, "lr_mean"), ({"max_function_evaluations": 0}, "max_function_evaluations"),
])
def test_bad_options_name_the_key(bad: dict, word: str) -> None:
    problem, options = seed_problem()
    for cls in (XNES, SNES):
        with pytest.raises(OptimkitValueError, match=word):
            cls(problem, {**options, **bad})


def test_threshold_runtime_nan_and_collapse() -> None:
    problem, options = seed_problem()
    res = XNES(problem, {**options, "fitness_threshold": 1e-3}).optimize()
    assert res["termination_signal"] == "FITNESS_THRESHOLD" and res["n_function_evaluations"] < 5000
    res = XNES(problem, {**options, "max_function_evaluations": math.inf, "max_runtime": 0.05}).optimize()
    assert res["termination_signal"] == "MAX_RUNTIME"
    calls = iter(range(10**6))
    noisy = {**problem, "fitness_function": lambda x: math.nan if next(calls) % 4 == 0 else sphere(x)}
    res = XNES(noisy, options).optimize()  # NaN ranks worst; never the best
    assert 0 <= res["best_so_far_y"] < 0.5 and np.all(np.isfinite(res["mean"]))  # starts at 18
    flat = {**problem, "fitness_function": lambda x: 1.0}
    res = SNES(flat, {**options, "is_restart": False}).optimize()
    assert res["termination_signal"] == "DISTRIBUTION_COLLAPSE" and res["n_function_evaluations"] < 5000
    res = XNES(flat, {k: v for k, v in options.items() if k != "mean"}).optimize()  # restarts, mean drawn
    assert res["_n_restart"] > 0 and res["n_function_evaluations"] == 5000
    assert np.all(np.abs(res["initial_mean"]) <= 5)
