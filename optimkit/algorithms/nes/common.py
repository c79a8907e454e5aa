"""What XNES and SNES share: their options (:class:`Params`), the rank-based utilities, the opening
of a tell (input checks, whitened steps of foreign points), the stopping tests and the IPOP restart.

Pure numpy, no framework: the cores ``xnes.py`` and ``snes.py`` are written on these pieces.
Both algorithms minimize.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import OptimkitValueError
from ...validation import check_int, check_real

__all__ = [
    "Params", "Generation", "Vector", "Matrix", "default_popsize", "check_mean", "utility_weights",
    "clean_losses", "rank_utilities", "open_tell", "guard_steps", "clip_whitened", "injection_radius", "absurd",
    "push_history", "stop_reason", "can_restart", "restart_popsize", "TOL_X", "TOL_FUN", "MAX_CONDITION",
    "MAX_GROWTH",
]

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]

TOL_X = 1e-12            # stop when every standard deviation is below TOL_X * initial sigma
TOL_FUN = 1e-12          # stop when recent losses agree to this relative precision
MAX_CONDITION = 1e14     # stop when the scale ratio of the distribution's axes exceeds this
MAX_GROWTH = 512         # restarts double the population up to MAX_GROWTH times the initial one


def default_popsize(dimension: int) -> int:
    """``4 + floor(3 ln d)``, the population size of Wierstra et al. (2014), Table 1."""
    return 4 + int(math.floor(3.0 * math.log(dimension)))


@dataclass(frozen=True)
class Params:
    """The options XNES and SNES share; ``None`` takes the defaults of Wierstra et al. (2014), Table 1.

    Each algorithm extends it with its own learning-rate defaults (``eta_sigma``; XNES adds ``lr_b``).

    Parameters
    ----------
    dimension : int >= 1
        Number of variables.
    popsize : int >= 2, optional
        Samples per generation; default ``4 + floor(3 ln d)``.
    sigma : float > 0
        Initial step size; the initial distribution is ``N(mean, sigma^2 I)``.
    lr_mean : float > 0, optional
        Learning rate of the mean (default 1).
    lr_sigma : float > 0, optional
        Learning rate of the step size(s) (default: the algorithm's).
    restarts : int >= 0 or math.inf
        IPOP restarts (population doubled each time) allowed when the distribution collapses.
    """

    dimension: int
    popsize: int | None = None
    sigma: float = 1.0
    lr_mean: float | None = None
    lr_sigma: float | None = None
    restarts: int | float = 0

    def __post_init__(self) -> None:
        check_int("dimension", self.dimension, 1)
        if self.popsize is not None:
            check_int("popsize", self.popsize, 2)
        check_real("sigma", self.sigma, 0.0, low_open=True)
        for name in ("lr_mean", "lr_sigma"):
            value = getattr(self, name)
            if value is not None:
                check_real(name, value, 0.0, low_open=True)
        if not (isinstance(self.restarts, float) and self.restarts == math.inf):
            check_int("restarts (or math.inf)", self.restarts, 0)

    @property
    def initial_popsize(self) -> int:
        """The population of the first run (restarts double it)."""
        return int(self.popsize) if self.popsize is not None else default_popsize(self.dimension)

    @property
    def eta_mean(self) -> float:
        """Learning rate of the mean."""
        return float(self.lr_mean) if self.lr_mean is not None else 1.0


class Generation(Protocol):
    """The bookkeeping every NES state carries (``xnes.State``, ``snes.State``)."""

    popsize: int
    num_restarts: int
    best_history: tuple[float, ...]


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


# ---------------------------------------------------------------------- utilities
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

    Examples
    --------
    >>> from optimkit.algorithms.nes.common import rank_utilities
    >>> rank_utilities([3.0, 1.0, 4.0, 2.0]).round(4).tolist()
    [-0.25, 0.4804, -0.25, 0.0196]
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


# ---------------------------------------------------------------------- the opening of a tell
def open_tell(name: str, state: Generation, x: ArrayLike, losses: ArrayLike
              ) -> tuple[Matrix, Vector, tuple[float, ...]]:
    """The points as rows, their losses (NaN as ``+inf``) and the best-loss history with this generation.

    Raises ``OptimkitValueError`` (naming ``name``'s tell) unless there are >= 2 points and one loss each.
    """
    xs = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = clean_losses(losses)
    n, d = xs.shape
    if y.size != n or n < 2:
        raise OptimkitValueError(f"{name} tell needs >= 2 points and one loss per point, got {n} points "
                                 f"and {y.size} losses")
    return xs, y, push_history(state.best_history, y, d, state.popsize)


def guard_steps(s: Matrix, foreign: ArrayLike | None) -> Matrix | None:
    """Whitened steps ``s`` with the ``foreign`` rows clipped (in place); None on numerical breakdown.

    Foreign rows were not drawn from the current distribution (told-not-asked points, suggestions,
    stale points from before the last update): see :func:`clip_whitened`.
    """
    if foreign is not None and np.any(foreign):
        mask = np.asarray(foreign, dtype=bool)
        s[mask] = clip_whitened(s[mask], injection_radius(s.shape[1]))
    return None if absurd(s) else s


def absurd(whitened: Matrix) -> bool:
    """Whitened steps beyond 1e100 standard deviations (or non-finite): numerical breakdown, not data."""
    return not float(np.abs(whitened).max()) < 1e100


def clip_whitened(whitened: Matrix, radius: float) -> Matrix:
    """Shrink rows of whitened steps longer than ``radius`` onto that radius (as pycma's injection),
    so one far point cannot blow up the update."""
    norms = np.sqrt(np.einsum("ij,ij->i", whitened, whitened))
    scale = np.minimum(1.0, radius / np.maximum(norms, 1e-300))
    clipped: Matrix = whitened * scale[:, None]
    return clipped


def injection_radius(dimension: int) -> float:
    """``sqrt(d) + 2``: a few standard deviations above the typical length of a N(0, I) draw."""
    return math.sqrt(dimension) + 2.0


# ---------------------------------------------------------------------- stopping and restarts
def push_history(history: tuple[float, ...], losses: Vector, dimension: int, popsize: int
                 ) -> tuple[float, ...]:
    """Append the generation's best loss (NaN mapped already), keeping only what :func:`stop_reason` reads."""
    keep = 10 + math.ceil(30 * dimension / popsize)
    return (*history[1 - keep:], float(losses.min()))


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


def can_restart(params: Params, state: Generation) -> bool:
    """Whether a stopped run may restart (``params.restarts`` not used up)."""
    return bool(state.num_restarts < params.restarts)


def restart_popsize(params: Params, state: Generation) -> int:
    """IPOP: the population of the next run, twice the current one, at most ``MAX_GROWTH`` x the initial."""
    return min(2 * state.popsize, MAX_GROWTH * params.initial_popsize)
