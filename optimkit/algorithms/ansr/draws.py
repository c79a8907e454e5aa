"""ANSR's random draws on numpy, one epoch at a time, in as few and as cheap calls as the algorithm allows.

:func:`draw_fast` is what the ask/tell ``ANSR`` uses; :func:`draw_reference` reproduces the draw
sequence of the reference implementation (``ansr.ansr_minimize``: same seed, same run). Both take
``(gen, params, k, d)`` and return ``(fresh, noise, guide)`` as
:func:`optimkit.algorithms.ansr.core.evolve` consumes them; :func:`drawer` binds the generator and
the options into the ``draw(k, d)`` that :func:`~optimkit.algorithms.ansr.core.tell` takes.

Examples
--------
>>> import numpy as np
>>> from optimkit.algorithms.ansr import Params, draw_reference, drawer
>>> fresh, noise, guide = drawer(np.random.default_rng(0), Params(popsize=4), draw_reference)(1, 3)
>>> fresh.shape, noise.shape, guide.shape
((2, 3), (4, 3), (4, 3))
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...rng import as_generator as _as_generator
from ...rng import as_random_state
from .core import Draw, Params, guides_from_uniform

__all__ = ["bernoulli_positions", "neighbour_index", "draw_fast", "draw_reference", "drawer", "as_generator"]

Array = NDArray[np.float64]


def bernoulli_positions(gen: np.random.Generator, n: int, q: float) -> NDArray[np.intp]:
    """Sorted positions of the successes of ``n`` Bernoulli(q) trials, from geometric gaps
    (about ``n q`` draws instead of ``n``)."""
    m = int(n * q + 6.0 * math.sqrt(n * q) + 16)
    scale = -math.log1p(-q)
    hits = _geometric_sums(gen, m, scale)  # = cumsum of gaps, 1 + the positions
    while hits[-1] < n:  # rare: the gaps did not cover the n trials yet
        hits = np.concatenate([hits, hits[-1] + _geometric_sums(gen, m, scale)])
    positions = hits[: hits.searchsorted(n, side="right")]
    positions -= 1
    return positions


def _geometric_sums(gen: np.random.Generator, m: int, scale: float) -> NDArray[np.intp]:
    """Running sums of ``m`` geometric gaps ``ceil(E / scale)`` (``E`` standard exponential,
    ``scale = -log1p(-q)``): numpy's own inversion for ``q < 1/3``, the same draws as
    ``gen.geometric(q, m)`` without its per-draw call."""
    gaps = np.ceil(gen.standard_exponential(m) / scale).astype(np.intp)
    return gaps.cumsum(out=gaps)


def draw_fast(gen: np.random.Generator, params: Params, k: int, d: int) -> tuple[Array, Any, Any]:
    """Draws of one epoch with ``k`` restarts in few, cheap calls: restart and guide uniforms share
    one call (with ``p_self >= 0.9`` the few neighbour-guided coordinates come from geometric gaps,
    their neighbours from one uniform each); normals only where a coordinate can move (see
    :func:`~optimkit.algorithms.ansr.core.perturb`)."""
    p, p_self, sigma = params.popsize, params.p_self, params.sigma
    u = gen.random((rows, d)) if (rows := 2 * k + (p if p_self < 0.9 else 0)) else np.empty((0, d))
    if 0.9 <= p_self < 1.0:
        flat = bernoulli_positions(gen, p * d, 1.0 - p_self)
        guide: Any = (flat, neighbour_index(gen.random(flat.size), flat, p, d))
    else:
        guide = None if p_self >= 1.0 else guides_from_uniform(u[2 * k:], p_self)

    def noise(size: Any) -> Array:  # = gen.normal(0, sigma, size), without its argument handling
        z: Array = gen.standard_normal(size)
        z *= sigma
        return z

    return u[: 2 * k], noise, guide


def neighbour_index(choice: Array, flat: NDArray[np.intp], p: int, d: int) -> NDArray[np.intp]:
    """Flat index, in the (p, d) bests, of the guide of each flat position ``flat``: the same
    coordinate of another particle, ``1 + floor(u (p - 1))`` rows further (cyclically), uniform over
    the ``p - 1`` others. ``u < 1`` keeps ``floor(u (p - 1)) <= p - 2``: the product of ``p - 1``
    and the largest double below 1 rounds down."""
    index = (choice * (p - 1)).astype(np.intp)
    index += 1
    index *= d
    index += flat
    index %= p * d
    return index


def draw_reference(gen: np.random.Generator, params: Params, k: int, d: int) -> tuple[Array, Array, Any]:
    """The reference implementation's draw sequence: same seed, same run as ``ansr.ansr_minimize``."""
    p, p_self = params.popsize, params.p_self
    fresh = gen.random((2 * k, d))  # = its uniform((k, d)) calls for the bests, then positions
    noise = gen.normal(0.0, params.sigma, (p, d))
    if p_self == 1.0:
        return fresh, noise, None
    rows, use_self = np.arange(p)[:, None], gen.uniform(size=(p, d)) <= p_self if p_self != 0.0 else None
    other = gen.integers(0, p - 1, size=(p, d))
    other += other >= rows
    return fresh, noise, other if use_self is None else np.where(use_self, rows, other)


def drawer(gen: np.random.Generator, params: Params,
           draw: Callable[[np.random.Generator, Params, int, int], tuple[Array, Any, Any]] = draw_fast) -> Draw:
    """``draw(k, d)`` for :func:`~optimkit.algorithms.ansr.core.tell`: ``draw`` on ``gen`` with ``params``."""
    return functools.partial(draw, gen, params)


def as_generator(rng: Any) -> np.random.Generator:
    """A ``Generator`` on ``rng``'s own stream (see :func:`optimkit.rng.as_generator`): its ziggurat
    normals are ~1.6x faster than the polar method, and seeding ``rng`` reseeds them."""
    return _as_generator(rng if isinstance(rng, np.random.Generator) else as_random_state(rng))
