"""Thin helpers so that every draw works with a ``RandomState`` or a ``Generator``.

nevergrad users seed ``parametrization.random_state`` (a ``np.random.RandomState``,
``.seed(42)``); scientific-Python users hand over a ``np.random.Generator``. Optimizers
call these helpers with the one generator they own and never touch global state.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

RandomLike = Union[np.random.RandomState, np.random.Generator]  # noqa: UP007 - runtime alias on 3.10

__all__ = ["RandomLike", "normal", "uniform", "integers", "as_random_state", "spawn_seed"]


def normal(rng: RandomLike, size: Any = None) -> Any:
    """Standard normal draws (float64)."""
    return rng.standard_normal(size)


def uniform(rng: RandomLike, size: Any = None) -> Any:
    """Uniform draws in ``[0, 1)`` (float64)."""
    return rng.random(size)


def integers(rng: RandomLike, low: int, high: int, size: Any = None) -> Any:
    """Integers in ``[low, high)``."""
    if isinstance(rng, np.random.Generator):
        return rng.integers(low, high, size=size)
    return rng.randint(low, high, size=size)


def spawn_seed(rng: RandomLike) -> int:
    """A fresh 32-bit seed drawn from ``rng`` (for child processes, NOMAD, Ray tasks)."""
    return int(integers(rng, 0, 2**31 - 1))


def as_random_state(seed: Any) -> RandomLike:
    """Turn ``seed`` (None, int, RandomState, Generator, SeedSequence) into a generator."""
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    if seed is None:
        return np.random.RandomState(np.random.randint(2**31 - 1))
    if isinstance(seed, np.random.SeedSequence):
        return np.random.RandomState(int(seed.generate_state(1)[0]))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return np.random.RandomState(int(seed))
    from .errors import OptimkitTypeError

    raise OptimkitTypeError(f"seed must be None, an int, a RandomState or a Generator, got {seed!r}")


