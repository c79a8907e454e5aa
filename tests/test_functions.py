"""optimkit.functions: values, minima, vectorization, the registry."""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimkit import functions as F
from optimkit.errors import OptimkitValueError


def readme_shubert(x: np.ndarray) -> float:
    """The ANSR README's (unscaled) Shubert, written independently of optimkit.functions."""
    total = 0.0
    for a, b in zip(x[0::2], x[1::2]):
        sa = sum(i * math.cos((i + 1) * a + i) for i in range(1, 6))
        sb = sum(i * math.cos((i + 1) * b + i) for i in range(1, 6))
        total += sa * sb
    return total / len(x) * 2 + 186.7309


def test_known_values() -> None:
    assert F.sphere(np.array([1.0, 2.0])) == 5.0
    assert F.sphere01(np.array([5.0, 5.0, 0.0, 0.0])) == pytest.approx(0.5)
    assert F.rosenbrock(np.ones(6)) == 0.0
    assert F.rosenbrock(np.zeros(2)) == 1.0
    assert F.rastrigin(np.zeros(5)) == 0.0
    assert F.rastrigin(np.array([1.0])) == pytest.approx(1.0)
    assert F.ellipsoid(np.array([1.0, 1.0])) == pytest.approx(1.0 + 1e6)


def test_shubert_is_the_readme_function_scaled() -> None:
    x = np.random.default_rng(0).uniform(-10, 10, 8)
    assert F.shubert(x) * (F.SHUBERT_MAX - F.SHUBERT_MIN) == pytest.approx(readme_shubert(x))
    # one of the 18 global minima of a pair, repeated: the scaled value is about 0
    assert F.shubert(np.array([-7.0835, 4.858] * 3)) == pytest.approx(0.0, abs=1e-4)


def test_hilly_range_and_minimum() -> None:
    g = np.linspace(-3, 3, 301)
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    values = F.hilly(grid)
    assert values.min() >= -1e-9 and values.max() <= 1.0 + 1e-9
    best = grid[np.argmin(values)]
    np.testing.assert_allclose(best, [-1.48, 0.62], atol=0.03)  # the tallest hill, negated


@pytest.mark.parametrize("name", list(F.FUNCTIONS))
def test_rows_match_single_points_and_the_registry(name: str) -> None:
    fn, bound = F.FUNCTIONS[name]
    assert bound > 0
    x = np.random.default_rng(1).uniform(-bound, bound, (5, 6))
    rows = fn(x)
    assert isinstance(rows, np.ndarray) and rows.shape == (5,)
    singles = [fn(r) for r in x]
    assert all(isinstance(v, float) for v in singles)
    np.testing.assert_allclose(rows, singles)


def test_bad_shapes() -> None:
    with pytest.raises(OptimkitValueError, match="even"):
        F.shubert(np.zeros(3))
    with pytest.raises(OptimkitValueError, match="shape"):
        F.sphere(np.zeros((2, 2, 2)))
