"""The one random-number adapter of optimkit, on numpy's public API only.

nevergrad users seed ``parametrization.random_state`` (a ``np.random.RandomState``: ``.seed(42)``,
or assign a seeded one); scientific-Python users hand over a ``np.random.Generator``. Some
algorithms want ``Generator`` methods (faster ziggurat normals, exponentials) on the *same* stream.
:class:`SharedRandomState` is a ``RandomState`` built on a bit generator it also lends to a
``Generator`` (``.generator``): seeding one reseeds both, and draws from either advance the one
stream. :func:`as_random_state` turns any seed into one; :func:`as_generator` gives the
``Generator`` view. Nothing here touches numpy's global generator: an unseeded run draws its seed
from the operating system.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from .errors import OptimkitTypeError

RandomLike = Union[np.random.RandomState, np.random.Generator]  # noqa: UP007 - runtime alias on 3.10

__all__ = [
    "RandomLike", "SharedRandomState", "as_random_state", "as_generator", "normal", "uniform", "integers",
]


def _rebuild(state: Any) -> SharedRandomState:
    rs = SharedRandomState()
    rs.set_state(state)
    return rs


class SharedRandomState(np.random.RandomState):
    """A ``RandomState`` (legacy seeding: ``SharedRandomState(42)`` draws as ``RandomState(42)``)
    whose bit generator is shared with ``self.generator``, a ``np.random.Generator``.

    ``seed``/``set_state`` act on the shared bit generator, so they move both views; pickling
    and copying keep the sharing.
    """

    def __init__(self, seed: Any = None) -> None:
        bit_generator = np.random.MT19937()
        super().__init__(bit_generator)
        self.seed(seed)  # legacy seeding, as RandomState(seed); None: entropy from the OS
        self.generator = np.random.Generator(bit_generator)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.get_state(),))


def as_random_state(seed: Any) -> RandomLike:
    """Turn ``seed`` (None, an int, a ``RandomState``, a ``Generator`` or a ``SeedSequence``) into the
    generator of a parametrization. A ``Generator`` is used as it is; a plain ``RandomState``'s
    state is copied into a :class:`SharedRandomState` (same draws from then on)."""
    if isinstance(seed, (SharedRandomState, np.random.Generator)):
        return seed
    if isinstance(seed, np.random.RandomState):
        shared = SharedRandomState()
        shared.set_state(seed.get_state())
        return shared
    if seed is None:
        return SharedRandomState()
    if isinstance(seed, np.random.SeedSequence):
        return SharedRandomState(int(seed.generate_state(1)[0]))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise OptimkitTypeError(f"seed must be an int >= 0, got {seed!r}")
        return SharedRandomState(int(seed))
    raise OptimkitTypeError(f"seed must be None, an int, a RandomState or a Generator, got {seed!r}")


def as_generator(rng: Any) -> np.random.Generator:
    """The ``Generator`` view of ``rng``'s stream (``rng`` itself if it is one).

    A plain ``RandomState`` that is not a :class:`SharedRandomState` cannot lend its stream through
    numpy's public API: pass it through :func:`as_random_state` first.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, SharedRandomState):
        return rng.generator
    raise OptimkitTypeError(
        f"as_generator needs a Generator or a SharedRandomState (see as_random_state), got {type(rng).__name__}"
    )


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
