"""Pieces shared by XNES and SNES (``xnes.py``, ``snes.py``): option checks, rank-based
utilities, stopping tests and the generation bookkeeping of the ask/tell adapters.

Both algorithms minimize. Everything here is pure numpy except :class:`NESOptimizer`, the thin
ask/tell adapter over a core.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..core import Optimizer
from ..errors import OptimkitValueError
from ..parametrization import Parameter

__all__ = ["NESOptimizer", "default_popsize", "check_options", "check_family_options", "check_mean",
           "rank_utilities", "utility_weights", "clean_losses", "stop_reason", "push_history", "can_restart",
           "clip_whitened", "injection_radius", "absurd", "TOL_X", "TOL_FUN", "MAX_CONDITION", "MAX_GROWTH"]

Vector = NDArray[np.float64]

TOL_X = 1e-12            # stop when every standard deviation is below TOL_X * initial sigma
TOL_FUN = 1e-12          # stop when recent losses agree to this relative precision
MAX_CONDITION = 1e14     # stop when the scale ratio of the distribution's axes exceeds this
MAX_GROWTH = 512         # restarts double the population up to MAX_GROWTH times the initial one


def default_popsize(dimension: int) -> int:
    """``4 + floor(3 ln d)``, the population size of Wierstra et al. (2014), Table 1."""
    return 4 + int(math.floor(3.0 * math.log(dimension)))


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _positive(name: str, value: Any, optional: bool) -> None:
    if value is None and optional:
        return
    if not _is_real(value) or not math.isfinite(float(value)) or float(value) <= 0:
        extra = " or None for the default" if optional else ""
        raise OptimkitValueError(f"{name} must be a finite number > 0{extra}, got {value!r}")


def check_options(*, popsize: Any = None, sigma: Any = 1.0, lr_mean: Any = None, lr_sigma: Any = None,
                  lr_b: Any = None, restarts: Any = 0) -> None:
    """Validate the options shared by XNES and SNES; raise ``OptimkitValueError`` naming the bad one."""
    if popsize is not None and (not isinstance(popsize, (int, np.integer)) or isinstance(popsize, bool)
                                or popsize < 2):
        raise OptimkitValueError(f"popsize must be an integer >= 2 (or None for 4 + floor(3 ln d)), "
                                 f"got {popsize!r}")
    _positive("sigma", sigma, optional=False)
    for name, value in (("lr_mean", lr_mean), ("lr_sigma", lr_sigma), ("lr_b", lr_b)):
        _positive(name, value, optional=True)
    unlimited = isinstance(restarts, float) and restarts == math.inf
    if not (unlimited or (isinstance(restarts, (int, np.integer)) and not isinstance(restarts, bool)
                          and restarts >= 0)):
        raise OptimkitValueError(f"restarts must be an integer >= 0 (or math.inf), got {restarts!r}")


def check_mean(mean: ArrayLike | None, dimension: int) -> Vector:
    """The initial mean as a float vector of length ``dimension`` (zeros when None)."""
    if mean is None:
        return np.zeros(dimension)
    try:
        arr = np.asarray(mean, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise OptimkitValueError(f"mean must be {dimension} finite numbers, got {mean!r}") from exc
    if arr.size != dimension:
        raise OptimkitValueError(f"mean must have length {dimension} (the dimension), got length {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise OptimkitValueError(f"mean must be finite, got non-finite entries in {arr!r}")
    return arr


@functools.lru_cache(maxsize=64)
def utility_weights(n: int) -> Vector:
    """Utilities by rank, best first: ``max(0, log(n/2 + 1) - log(k))`` normalized to sum 1, minus ``1/n``."""
    w = np.maximum(0.0, math.log(n / 2.0 + 1.0) - np.log(np.arange(1, n + 1)))
    out: Vector = w / w.sum() - 1.0 / n
    out.flags.writeable = False
    return out


def clean_losses(losses: ArrayLike) -> Vector:
    """Losses as a float vector, NaN replaced by ``+inf`` (the worst)."""
    y = np.asarray(losses, dtype=np.float64).ravel()
    return np.where(y != y, np.inf, y) if np.isnan(y.sum()) else y


def rank_utilities(losses: ArrayLike, cleaned: bool = False) -> Vector:
    """Rank-based utilities of a population (best = lowest loss gets the largest utility).

    ``w_k = max(0, log(n/2 + 1) - log(k))`` for rank ``k = 1..n``, normalized to sum 1, minus
    ``1/n``, so they sum to 0. Tied losses share the mean of their utilities, so a population
    whose losses are all equal gives all-zero utilities (no update) instead of a random one.
    NaN counts as the worst loss (``cleaned=True``: ``losses`` is a float vector without NaN already).
    """
    y = np.asarray(losses, dtype=np.float64) if cleaned else clean_losses(losses)
    n = y.size
    w = utility_weights(n)
    order = np.argsort(y, kind="stable")
    ranked = y[order]
    utilities = np.empty(n)
    if np.all(ranked[1:] != ranked[:-1]):  # no ties: the common, fast case
        utilities[order] = w
        return utilities
    _, group = np.unique(ranked, return_inverse=True)
    if group[-1] == 0:  # all tied: exactly no information
        return np.zeros(n)
    shared = np.bincount(group, weights=w) / np.bincount(group)
    utilities[order] = shared[group]
    return utilities


def stop_reason(losses: Vector, best_history: tuple[float, ...], *, dimension: int, popsize: int,
                max_std: float, condition: float, sigma0: float) -> str | None:
    """Why the distribution should stop (then restart), or None.

    ``losses`` are the generation's (NaN already mapped to ``+inf``). Criteria:
    ``"flat_fitness"``: every loss of the generation is equal (no ranking information);
    ``"tol_x"``: every standard deviation is below ``TOL_X * sigma0``;
    ``"condition"``: the axes' scale ratio (squared) exceeds ``MAX_CONDITION``;
    ``"tol_fun"``: the generation's losses and the best losses of the last ``10 + ceil(30 d / popsize)``
    generations agree to ``TOL_FUN`` relative precision (a converged local minimum).
    """
    low, high = float(losses.min()), float(losses.max())
    if low == high:
        return "flat_fitness"
    if max_std < TOL_X * sigma0:
        return "tol_x"
    if not condition <= MAX_CONDITION:
        return "condition"
    window = 10 + math.ceil(30 * dimension / popsize)
    if len(best_history) >= window and math.isfinite(high):
        recent = best_history[-window:]
        low, high = min(low, min(recent)), max(high, max(recent))
        if math.isfinite(low) and high - low <= TOL_FUN * max(abs(low), 1e-300):
            return "tol_fun"
    return None


def push_history(history: tuple[float, ...], losses: Vector, dimension: int, popsize: int
                 ) -> tuple[float, ...]:
    """Append the generation's best loss (NaN mapped already), keeping only what :func:`stop_reason` reads."""
    keep = 10 + math.ceil(30 * dimension / popsize)
    return (*history[1 - keep:], float(losses.min()))


def absurd(whitened: NDArray[np.float64]) -> bool:
    """Whitened steps beyond 1e100 standard deviations (or non-finite): numerical breakdown, not data."""
    return not float(np.abs(whitened).max()) < 1e100


def clip_whitened(whitened: NDArray[np.float64], radius: float) -> NDArray[np.float64]:
    """Shrink rows of whitened steps longer than ``radius`` onto that radius (as pycma's injection).

    Used for points that were not drawn from the current distribution (told-not-asked points,
    suggestions, stale points from before the last update), so one far point cannot blow up the
    update.
    """
    norms = np.sqrt(np.einsum("ij,ij->i", whitened, whitened))
    scale = np.minimum(1.0, radius / np.maximum(norms, 1e-300))
    clipped: NDArray[np.float64] = whitened * scale[:, None]
    return clipped


def can_restart(params: Any, state: Any) -> bool:
    """Whether a stopped run may restart (``params.restarts`` not used up)."""
    return bool(state.num_restarts < params.restarts)


def injection_radius(dimension: int) -> float:
    """``sqrt(d) + 2``: a few standard deviations above the typical length of a N(0, I) draw."""
    return math.sqrt(dimension) + 2.0


class NESOptimizer(Optimizer):
    """The ask/tell adapter shared by ``XNES`` and ``SNES`` (minimizes), over the pure core ``_core``.

    It works on the parametrization's standardized data. Asks hand out the rows of the current
    generation (a fresh one is drawn from the current distribution when they run out); told points
    are collected in any order and the distribution is updated as soon as ``popsize`` of them are in.
    A point drawn before the last update, a suggestion and a told-not-asked candidate are used too,
    as "foreign" points whose whitened steps are clipped. An abandoned candidate is put back and asked
    again first. When the distribution collapses (see :func:`stop_reason`) and ``restarts`` allow it,
    the run restarts around a random point ``mean0 + sigma0 * N(0, I)`` with twice the population.
    """

    _core: ClassVar[dict[str, Any]] = {}

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, mean: Any = None, **options: Any) -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        self._params = self._core["params"](dimension=self.dimension, **options)
        self._mean0 = self._mean_data(mean)
        self._state = self._core["init"](self._params, self._mean0)
        self._queue: deque[tuple[Vector, int]] = deque()
        self._told_x: list[NDArray[np.float64]] = []
        self._told_y: list[Vector] = []
        self._told_foreign: list[NDArray[np.bool_]] = []
        self._num_told_now = 0
        self._updates = 0
        self._batch_gens: list[int] = []

    def _mean_data(self, mean: Any) -> Vector:
        if mean is None:
            return np.zeros(self.dimension)
        try:
            data = self.parametrization.spawn_child(new_value=mean).get_standardized_data(
                reference=self.parametrization)
        except Exception as exc:  # noqa: BLE001 - any refusal of the value becomes one clear error
            raise OptimkitValueError(f"mean must be a value of the parametrization ({self.parametrization.name}) "
                                     f"with dimension {self.dimension}, got {mean!r} ({exc})") from exc
        return check_mean(data, self.dimension)

    @property
    def state(self) -> Any:
        """The current search distribution (``XNESState`` or ``SNESState``; standardized space)."""
        return self._state

    @property
    def _batch_size(self) -> int:
        return int(self._state.popsize)

    def _next(self) -> tuple[Vector, int]:
        if not self._queue:
            state = self._state
            z = self._rng.standard_normal((state.popsize, self.dimension))
            rows = self._core["ask"](state, z)
            self._queue.extend((row, self._updates) for row in rows)
        return self._queue.popleft()

    def _internal_ask_candidate(self) -> Parameter:
        data, gen = self._next()
        candidate = self._spawn(data)
        candidate._tag = gen
        return candidate

    def _internal_ask_batch(self, n: int) -> NDArray[np.float64]:
        rows = [self._next() for _ in range(n)]
        self._batch_gens = [gen for _, gen in rows]
        return np.stack([row for row, _ in rows])

    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        gen = candidate._tag if isinstance(candidate._tag, int) else -1
        self._receive(self._data_of(candidate)[None, :], np.array([loss]), np.array([gen]))

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        self._receive(self._data_of(candidate)[None, :], np.array([loss]), np.array([-1]))

    def _internal_tell_batch(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        gens = np.asarray(self._batch_gens if len(self._batch_gens) == len(data) else [-1] * len(data))
        self._batch_gens = []
        self._receive(np.asarray(data, dtype=np.float64), np.asarray(losses, dtype=np.float64), gens)

    def _internal_abandon(self, candidate: Parameter) -> None:
        gen = candidate._tag if isinstance(candidate._tag, int) else -1
        self._queue.appendleft((np.array(self._data_of(candidate), dtype=np.float64), gen))

    def _internal_abandon_batch(self, data: NDArray[np.float64]) -> None:
        gens = self._batch_gens if len(self._batch_gens) == len(data) else [-1] * len(data)
        self._batch_gens = []
        for row, gen in reversed(list(zip(np.asarray(data, dtype=np.float64), gens))):
            self._queue.appendleft((row.copy(), gen))

    def _receive(self, x: NDArray[np.float64], y: Vector, gens: NDArray[np.int_]) -> None:
        start = 0
        while start < len(y):
            stop = min(len(y), start + self._state.popsize - self._num_told_now)
            self._told_x.append(x[start:stop])
            self._told_y.append(y[start:stop])
            self._told_foreign.append(gens[start:stop] != self._updates)
            self._num_told_now += stop - start
            start = stop
            if self._num_told_now >= self._state.popsize:
                self._update()

    def _update(self) -> None:
        x, y = np.concatenate(self._told_x), np.concatenate(self._told_y)
        foreign = np.concatenate(self._told_foreign)
        self._told_x, self._told_y, self._told_foreign, self._num_told_now = [], [], [], 0
        self._queue.clear()  # drawn from the old distribution: stale
        self._updates += 1
        core, params = self._core, self._params
        state = core["tell"](params, self._state, x, y, foreign if foreign.any() else None)
        if state.stop is not None and can_restart(params, state):
            new_mean = self._mean0 + params.sigma * self._rng.standard_normal(self.dimension)
            state = core["restart"](params, state, new_mean)
        self._state = state


def check_family_options(mean: Any, **options: Any) -> None:
    """Validate a ``ConfXNES``/``ConfSNES`` configuration before any parametrization is known."""
    check_options(**options)
    if mean is not None:
        try:
            arr = np.asarray(mean, dtype=np.float64)
        except (TypeError, ValueError):
            return  # a structured value (Dict, Instrumentation): checked against the parametrization later
        if not np.all(np.isfinite(arr)):
            raise OptimkitValueError(f"mean must be finite, got {mean!r}")
