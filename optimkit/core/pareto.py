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
        """Insert ``candidate`` if no point of the front dominates it; drop the points it dominates."""
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
        """At most ``size`` points of the front, chosen by ``subset``."""
        if subset not in SUBSETS:
            raise OptimkitValueError(f"subset must be one of {SUBSETS}, got {subset!r}")
        if size is not None and (not isinstance(size, int) or size < 1):
            raise OptimkitValueError(f"size must be None or an int >= 1, got {size!r}")
        if tentatives < 1:
            raise OptimkitValueError(f"subset_tentatives must be >= 1, got {tentatives!r}")
        n = len(self.candidates)
        if size is None or n <= size:
            return list(self.candidates)
        if subset == "random":
            idx = _choice(rng, n, size)
            return [self.candidates[i] for i in idx]
        if subset == "domain-covering":
            points = np.stack([data_of(c) for c in self.candidates])
        else:
            points = self.losses
        best_idx, best_score = None, -np.inf
        ref = np.max(self.losses, axis=0) + 1.0
        for _ in range(tentatives):
            idx = _choice(rng, n, size)
            if subset == "hypervolume":
                score = hypervolume(self.losses[idx], ref)
            else:  # covering: minimize the largest distance from any point to the subset
                dist = np.linalg.norm(points[:, None, :] - points[None, idx, :], axis=2).min(axis=1)
                score = -float(dist.max())
            if score > best_score:
                best_idx, best_score = idx, score
        assert best_idx is not None
        return [self.candidates[i] for i in best_idx]


def _choice(rng: _rng.RandomLike, n: int, size: int) -> NDArray[np.int64]:
    keys = _rng.uniform(rng, n)
    return np.sort(np.argsort(keys)[:size])


def hypervolume(points: NDArray[np.float64], reference: NDArray[np.float64]) -> float:
    """Exact hypervolume dominated by ``points`` (minimization) up to ``reference`` (slicing; small fronts)."""
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
