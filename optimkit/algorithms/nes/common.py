"""What XNES and SNES share: their options (:class:`Params`), the rank-based utilities, the opening
of a tell (input checks, whitened steps of foreign points), the stopping tests and the restarts
(IPOP and BIPOP: :class:`Runs`, :func:`next_run`).

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
from ...validation import check_choice, check_int, check_real

__all__ = [
    "Params", "Runs", "Generation", "Vector", "Matrix", "default_popsize", "check_mean", "initial_scales",
    "utility_weights", "clean_losses", "rank_utilities", "open_tell", "guard_steps", "clip_whitened",
    "injection_radius", "absurd", "push_history", "stop_reason", "can_restart", "restart_popsize", "next_run",
    "run_budget",
    "RESTART_STRATEGIES", "TOL_X", "TOL_FUN", "MAX_CONDITION", "MAX_GROWTH", "STAGNATION_MAX",
]

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]

TOL_X = 1e-11            # stop when every standard deviation is below TOL_X * the run's initial sigma
TOL_FUN = 1e-12          # stop when recent losses agree to TOL_FUN * max(Params.tol_fun_floor, |best|)
MAX_CONDITION = 1e14     # stop when the condition number of the covariance exceeds this
MAX_GROWTH = 512         # restarts double the population up to MAX_GROWTH times the initial one
STAGNATION_MAX = 20_000  # the stagnation window, in generations, is at most this long
RESTART_STRATEGIES = ("ipop", "bipop")


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
        Initial step size; the initial distribution is ``N(mean, sigma^2 diag(scales)^2)``.
    lr_mean : float > 0, optional
        Learning rate of the mean (default 1).
    lr_sigma : float > 0, optional
        Learning rate of the step size(s) (default: the algorithm's).
    restarts : int >= 0 or math.inf
        Restarts allowed when the distribution has converged or stalled (see :func:`stop_reason`).
    restart_strategy : {"ipop", "bipop"}
        ``"ipop"``: every restart doubles the population (Auger and Hansen 2005). ``"bipop"``: restarts
        alternate that large-population regime with short runs of a small, random population and a
        smaller, random step size, the regime whose finished runs spent fewer evaluations going next
        (Hansen 2009); see :func:`next_run`.
    scales : tuple of float > 0, optional
        Initial standard deviation of each variable relative to ``sigma`` (default all 1).
    tol_fun_floor : float >= 0
        A run has converged (``"tol_fun"``) when its recent losses agree to ``TOL_FUN * max(tol_fun_floor,
        |best|)``: absolute for losses below ``tol_fun_floor`` (Hansen's TolFun), relative above; 0 makes
        it purely relative.
    """

    dimension: int
    popsize: int | None = None
    sigma: float = 1.0
    lr_mean: float | None = None
    lr_sigma: float | None = None
    restarts: int | float = 0
    restart_strategy: str = "ipop"
    scales: tuple[float, ...] | None = None
    tol_fun_floor: float = 1.0

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
        check_choice("restart_strategy", self.restart_strategy, RESTART_STRATEGIES)
        check_real("tol_fun_floor", self.tol_fun_floor, 0.0)
        if self.scales is not None:
            scales = np.asarray(self.scales, dtype=np.float64)
            if scales.shape != (self.dimension,) or not np.all(np.isfinite(scales)) or not np.all(scales > 0):
                raise OptimkitValueError(f"scales must be {self.dimension} finite numbers > 0 (one per variable), "
                                         f"got {self.scales!r}")

    @property
    def initial_popsize(self) -> int:
        """The population of the first run (restarts double it)."""
        return int(self.popsize) if self.popsize is not None else default_popsize(self.dimension)

    @property
    def eta_mean(self) -> float:
        """Learning rate of the mean."""
        return float(self.lr_mean) if self.lr_mean is not None else 1.0


@dataclass(frozen=True)
class Runs:
    """What the restart strategy remembers across runs (:func:`next_run`).

    Parameters
    ----------
    regime : {"large", "small"}
        The regime of the current run (IPOP runs are all ``"large"``; the first run is too).
    num_large : int
        Large-regime restarts so far: the large population is ``initial_popsize * 2^num_large``.
    large_evaluations, small_evaluations : int
        Evaluations spent by the finished runs of each regime.
    sigma_factor : float
        The current run's initial step size relative to ``Params.sigma`` (BIPOP's small runs: < 1).
    stops : tuple of str
        Why each finished run stopped (:func:`stop_reason`), oldest first.
    """

    regime: str = "large"
    num_large: int = 0
    large_evaluations: int = 0
    small_evaluations: int = 0
    sigma_factor: float = 1.0
    stops: tuple[str, ...] = ()


class Generation(Protocol):
    """The bookkeeping every NES state carries (``xnes.State``, ``snes.State``)."""

    popsize: int
    generation: int
    num_restarts: int
    evaluations: int
    best_history: tuple[float, ...]
    median_history: tuple[float, ...]
    runs: Runs
    stop: str | None


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


def initial_scales(params: Params) -> Vector:
    """The initial standard deviation of each variable relative to ``sigma`` (``params.scales``, or ones)."""
    if params.scales is None:
        return np.ones(params.dimension)
    return np.asarray(params.scales, dtype=np.float64)


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
              ) -> tuple[Matrix, Vector, tuple[float, ...], tuple[float, ...]]:
    """The points as rows, their losses (NaN as ``+inf``) and the best- and median-loss histories with
    this generation.

    Raises ``OptimkitValueError`` (naming ``name``'s tell) unless there are >= 2 points and one loss each.
    """
    xs = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = clean_losses(losses)
    n, d = xs.shape
    if y.size != n or n < 2:
        raise OptimkitValueError(f"{name} tell needs >= 2 points and one loss per point, got {n} points "
                                 f"and {y.size} losses")
    best, median = push_history(state.best_history, state.median_history, y, d, state.popsize,
                                state.generation + 1)
    return xs, y, best, median


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


# ---------------------------------------------------------------------- stopping
def _tol_fun_window(dimension: int, popsize: int) -> int:
    """``10 + ceil(30 d / popsize)`` generations (Hansen's TolFun / TolHistFun history)."""
    return 10 + math.ceil(30 * dimension / popsize)


def _stagnation_window(dimension: int, popsize: int, generation: int) -> int:
    """The stagnation window: pycma's ``100 + 100 d^1.5 / popsize`` generations (longer than ``cmaes.m``'s
    ``120 + 30 d / popsize``: NES learns slower than CMA-ES) or a fifth of the run's generations,
    whichever is longer, at most ``STAGNATION_MAX``."""
    return int(min(STAGNATION_MAX, max(100 + math.ceil(100 * dimension**1.5 / popsize), math.ceil(0.2 * generation))))


def push_history(best: tuple[float, ...], median: tuple[float, ...], losses: Vector, dimension: int,
                 popsize: int, generation: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Append the best and median losses of generation ``generation`` (counted from 1; NaN mapped
    already), keeping only what :func:`stop_reason` reads."""
    keep = max(_tol_fun_window(dimension, popsize), _stagnation_window(dimension, popsize, generation))
    return (*best[1 - keep:], float(losses.min())), (*median[1 - keep:], float(np.median(losses)))


def _no_better(history: tuple[float, ...], window: int) -> bool:
    """The median of the newest 30% of the last ``window`` entries is no better than that of the oldest 30%."""
    recent = history[-window:]
    part = max(1, int(0.3 * window))
    return bool(np.median(recent[-part:]) >= np.median(recent[:part]))


def stop_reason(losses: Vector, state: Generation, best_history: tuple[float, ...],
                median_history: tuple[float, ...], *, dimension: int, max_std: float, condition: float,
                sigma0: float, no_effect: str | None = None, budget: float = math.inf,
                tol_fun_floor: float = 1.0) -> str | None:
    """Why the run should stop (then restart), or None; the tests of Hansen's CMA-ES (``cmaes.m``, pycma).

    ``losses`` are the generation's (NaN already mapped to ``+inf``), ``state`` the state before it,
    the histories include it. ``max_std`` is the largest standard deviation of the new distribution,
    ``condition`` its covariance's condition number, ``sigma0`` the run's initial step size and
    ``no_effect`` the core's own test (``"no_effect_axis"``, ``"no_effect_coord"``). Criteria, in order:

    - ``"flat_fitness"``: every loss of the generation is equal (no ranking information);
    - ``"tol_x"``: every standard deviation is below ``TOL_X * sigma0`` (the step size collapsed);
    - ``"condition"``: the covariance's condition number exceeds ``MAX_CONDITION``;
    - ``"no_effect_axis"``/``"no_effect_coord"``: a tenth of a standard deviation along a principal
      axis, or a fifth along a coordinate, no longer changes the mean in floating point;
    - ``"tol_fun"``: the generation's losses and the best losses of the last ``10 + ceil(30 d /
      popsize)`` generations lie within ``TOL_FUN * max(tol_fun_floor, |best|)`` (a converged minimum);
    - ``"stagnation"``: over the last ``max(100 + ceil(100 d^1.5 / popsize), generation / 5)`` generations
      (at most ``STAGNATION_MAX``), the newest half holds no better loss than the oldest, and the
      median of the newest 30% of both the best and the median losses is no better than that of the
      oldest 30% (Hansen's ``cmaes.m``, with pycma's "no new best in the last half");
    - ``"run_budget"``: the run has spent ``budget`` evaluations (BIPOP's small runs, :func:`run_budget`).
    """
    low, high = float(losses.min()), float(losses.max())
    popsize = state.popsize
    if low == high:
        return "flat_fitness"
    if max_std < TOL_X * sigma0:
        return "tol_x"
    if not condition <= MAX_CONDITION:
        return "condition"
    if no_effect is not None:
        return no_effect
    window = _tol_fun_window(dimension, popsize)
    if len(best_history) >= window and math.isfinite(high):
        recent = best_history[-window:]
        low, high = min(low, min(recent)), max(high, max(recent))
        if math.isfinite(low) and high - low <= TOL_FUN * max(tol_fun_floor, abs(low), 1e-300):
            return "tol_fun"
    window = _stagnation_window(dimension, popsize, state.generation + 1)
    if (len(best_history) >= window and min(best_history[-(window // 2):]) >= min(best_history[-window:])
            and _no_better(best_history, window) and _no_better(median_history, window)):
        return "stagnation"
    if state.evaluations + losses.size >= budget:
        return "run_budget"
    return None


# ---------------------------------------------------------------------- restarts
def can_restart(params: Params, state: Generation) -> bool:
    """Whether a stopped run may restart (``params.restarts`` not used up)."""
    return bool(state.num_restarts < params.restarts)


def _large_popsize(params: Params, num_large: int) -> int:
    return params.initial_popsize << min(num_large, MAX_GROWTH.bit_length() - 1)  # x 2^num_large, capped


def restart_popsize(params: Params, state: Generation) -> int:
    """IPOP: the population of the next run, twice the current one, at most ``MAX_GROWTH`` x the initial."""
    return min(2 * state.popsize, MAX_GROWTH * params.initial_popsize)


def run_budget(runs: Runs) -> float:
    """The evaluations a run of ``runs.regime`` may spend: BIPOP's small runs get half of what the large
    regime has spent (as pycma's ``bipop``); other runs are not limited."""
    return 0.5 * runs.large_evaluations if runs.regime == "small" else math.inf


def next_run(params: Params, state: Generation, draws: ArrayLike | None = None) -> tuple[int, Runs]:
    """The population and the :class:`Runs` (regime, step-size factor...) of the run after ``state``'s.

    IPOP (``params.restart_strategy == "ipop"``): the population doubles (:func:`restart_popsize`),
    the step size is ``sigma``. BIPOP (Hansen 2009): the evaluations of the finished run go to its
    regime's account; when the small regime has spent less than the large one, the next run is
    small: population ``floor(lambda_def (lambda_large / lambda_def)^(u1^2))`` (at least 2), where
    ``lambda_large`` is the last large population, step size ``sigma 10^(-2 u2)``, and at most half
    the large regime's evaluations (:func:`run_budget`); otherwise it is large, with the large
    population doubled. ``draws`` holds ``u1, u2``, uniform in ``[0, 1)``, drawn by the caller's
    generator (read by a BIPOP restart into the small regime only).
    """
    runs = state.runs
    stops = (*runs.stops, state.stop or "restart")
    if params.restart_strategy == "ipop":
        return restart_popsize(params, state), Runs(num_large=runs.num_large + 1, stops=stops,
                                                    large_evaluations=runs.large_evaluations + state.evaluations)
    large = runs.large_evaluations + (state.evaluations if runs.regime == "large" else 0)
    small = runs.small_evaluations + (state.evaluations if runs.regime == "small" else 0)
    if small < large:
        u = np.asarray(() if draws is None else draws, dtype=np.float64).ravel()
        if u.size != 2 or not np.all((u >= 0) & (u <= 1)):
            raise OptimkitValueError(f"a BIPOP restart into the small regime needs draws: two uniforms in "
                                     f"[0, 1], got {draws!r}")
        ratio = _large_popsize(params, runs.num_large) / params.initial_popsize
        popsize = max(2, int(math.floor(params.initial_popsize * ratio ** (float(u[0]) ** 2))))
        return popsize, Runs(regime="small", num_large=runs.num_large, large_evaluations=large,
                             small_evaluations=small, sigma_factor=10.0 ** (-2.0 * float(u[1])), stops=stops)
    num_large = runs.num_large + 1
    return _large_popsize(params, num_large), Runs(num_large=num_large, large_evaluations=large,
                                                   small_evaluations=small, stops=stops)
