"""The Pareto front kept by the base optimizer for multi-objective losses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import rng as _rng
from ..errors import OptimkitValueError

__all__ = ["ParetoFront", "hypervolume"]

SUBSETS = ("random", "loss-covering", "domain-covering", "hypervolume")


class ParetoFront:
    """Non-dominated (candidate, losses) pairs, updated in O(front size) per tell with numpy."""

    def __init__(self, num_objectives: int) -> None:
        self.num_objectives = num_objectives
        self.candidates: list[Any] = []
        self.losses = np.zeros((0, num_objectives))
        self._low = np.full(num_objectives, np.inf)
        self._high = np.full(num_objectives, -np.inf)

    def add(self, candidate: Any, losses: NDArray[np.float64]) -> bool:
        """Insert ``candidate`` if no point of the front dominates it; drop the points it dominates.

        A NaN objective counts as ``+inf`` (the worst value), so comparisons stay well defined.
        """
        losses = np.where(np.isnan(losses), np.inf, np.asarray(losses, dtype=np.float64))
        finite = np.isfinite(losses)
        self._low = np.where(finite, np.minimum(self._low, losses), self._low)
        self._high = np.where(finite, np.maximum(self._high, losses), self._high)
        front = self.losses
        if front.shape[0]:
            dominated_by = np.all(front <= losses, axis=1) & np.any(front < losses, axis=1)
            if dominated_by.any() or np.any(np.all(front == losses, axis=1)):
                return False
            dominates = np.all(losses <= front, axis=1) & np.any(losses < front, axis=1)
            if dominates.any():
                keep = ~dominates
                self.candidates = [c for c, k in zip(self.candidates, keep) if k]
                front = front[keep]
        self.candidates.append(candidate)
        self.losses = np.vstack([front, losses[None, :]])
        return True

    def scalarize(self, losses: NDArray[np.float64]) -> float:
        """Scalar loss for single-objective optimizers: Chebyshev distance to the ideal point,
        each objective normalized by the range seen so far."""
        span = np.where(self._high > self._low, self._high - self._low, 1.0)
        low = np.where(np.isfinite(self._low), self._low, 0.0)
        return float(np.max((losses - low) / span))

    def select(
        self,
        size: int | None,
        subset: str,
        tentatives: int,
        rng: _rng.RandomLike,
        data_of: Callable[[Any], NDArray[np.float64]],
    ) -> list[Any]:
        """At most ``size`` points of the front, chosen by ``subset``.

        Points with a non-finite objective (``inf``, or NaN told as ``inf``) have no place in a
        distance or a volume: ``"loss-covering"`` and ``"hypervolume"`` choose among the points whose
        objectives are all finite, and fill the subset with the others (in the front's order) only
        when there are fewer than ``size`` finite points.
        """
        if subset not in SUBSETS:
            raise OptimkitValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise OptimkitValueError(f"size must be None or an int >= 1, got {size!r}")
        if isinstance(tentatives, bool) or not isinstance(tentatives, int) or tentatives < 1:
            raise OptimkitValueError(f"subset_tentatives must be an int >= 1, got {tentatives!r}")
        n = len(self.candidates)
        if size is None or n <= size:
            return list(self.candidates)
        if subset == "random":
            return [self.candidates[i] for i in _choice(rng, n, size)]
        if subset == "domain-covering":
            return [self.candidates[i] for i in _covering(np.stack([data_of(c) for c in self.candidates]),
                                                          size, tentatives, rng)]
        finite = np.flatnonzero(np.all(np.isfinite(self.losses), axis=1))
        if finite.size <= size:  # every finite point, then the worst ones to fill the subset
            rest = np.flatnonzero(~np.all(np.isfinite(self.losses), axis=1))[: size - finite.size]
            return [self.candidates[i] for i in np.sort(np.concatenate([finite, rest]))]
        losses = self.losses[finite]
        if subset == "loss-covering":
            chosen = _covering(losses, size, tentatives, rng)
        else:
            reference = np.max(losses, axis=0) + 1.0
            best_idx, best_volume = _choice(rng, finite.size, size), -1.0
            for attempt in range(tentatives):
                idx = best_idx if attempt == 0 else _choice(rng, finite.size, size)
                volume = hypervolume(losses[idx], reference)
                if volume > best_volume:
                    best_idx, best_volume = idx, volume
            chosen = best_idx
        return [self.candidates[i] for i in finite[chosen]]


def _covering(
    points: NDArray[np.float64], size: int, tentatives: int, rng: _rng.RandomLike
) -> NDArray[np.int64]:
    """The best of ``tentatives`` random subsets: the smallest largest distance from a point to the subset."""
    best_idx, best_radius = _choice(rng, points.shape[0], size), np.inf
    for attempt in range(tentatives):
        idx = best_idx if attempt == 0 else _choice(rng, points.shape[0], size)
        radius = float(np.linalg.norm(points[:, None, :] - points[None, idx, :], axis=2).min(axis=1).max())
        if radius < best_radius:
            best_idx, best_radius = idx, radius
    return best_idx


def _choice(rng: _rng.RandomLike, n: int, size: int) -> NDArray[np.int64]:
    keys = _rng.uniform(rng, n)
    return np.sort(np.argsort(keys)[:size])


def hypervolume(points: NDArray[np.float64], reference: NDArray[np.float64]) -> float:
    """Exact hypervolume dominated by ``points`` (minimization) up to ``reference`` (slicing; small fronts).

    Points not strictly below ``reference`` on every objective (NaN included) add nothing;
    ``reference`` must be finite.
    """
    reference = np.asarray(reference, dtype=np.float64)
    if not np.all(np.isfinite(reference)):
        raise OptimkitValueError(f"reference must be finite, got {reference!r}")
    pts = points[np.all(points < reference, axis=1)]
    if pts.shape[0] == 0:
        return 0.0
    if pts.shape[1] == 1:
        return float(reference[0] - pts[:, 0].min())
    order = np.argsort(pts[:, 0])
    pts = pts[order]
    volume = 0.0
    for i in range(pts.shape[0]):
        upper = pts[i + 1, 0] if i + 1 < pts.shape[0] else reference[0]
        width = upper - pts[i, 0]
        if width > 0:
            volume += width * hypervolume(pts[: i + 1, 1:], reference[1:])
    return float(volume)
