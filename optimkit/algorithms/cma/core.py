"""The CMA core: CMA-ES from the ``cmaes`` package (CyberAgent) with IPOP/BIPOP restarts (minimizes).

cmaes does the maths: sampling, the update and its stopping tests (``should_stop()``: tolfun,
tolx, tolxup, no-effect coordinate and axis, condition of the covariance). This module adds what a
restarted CMA-ES needs around it:

- the search space (:class:`Space`): the initial mean, the initial standard deviation of each
  coordinate (``sigma`` times the width of the box) and the box;
- the bounds handling (``Params.bound_handling``, per run: ``State.transform``): ``"resample"``
  hands the box to cmaes, which resamples points outside it and then clips them; ``"transform"``
  lets cmaes sample without bounds and maps each sample into the box (:func:`to_box`: the identity
  inside, a quadratic near each bound, reflected beyond it; the mapping of pycma's default
  ``BoundTransform``), so the distribution keeps adapting where the optimum lies on a bound;
  ``"adaptive"`` (the default) resamples until a run ends pressed against the box (at least half
  of its last generation clipped onto a bound, :func:`pressed`), then transforms;
- the stopping tests of the restart literature that cmaes does not have (:func:`stop_reason`):
  ``"equalfunvals"`` and ``"stagnation"`` (Hansen 2009), ``"maxiter"`` (pycma's default) and
  ``"pressed"`` (a resampling run held against the box, with ``"adaptive"``);
- the restart rules (:func:`restart`): IPOP (Auger & Hansen 2005), population multiplied by
  ``popsize_multiplier`` at each restart, and BIPOP (Hansen 2009), which alternates that regime with
  runs of a small random population and step size, choosing the regime that spent fewer evaluations.

Functions with the house signature: ``init(params, space, seed)``, ``ask(params, state)`` (the
samples, in cmaes's space), ``to_box(space, x)`` (what to evaluate, when ``state.transform``),
``tell(params, state, x, losses)`` (the samples, as asked), ``restart(params, space, state, seed, unit, normal, u)``; the
random draws (the seed of each run's cmaes generator, the uniforms and normals of a restart) are
their arguments, so a whole run is a function of the draws handed in. Unlike the NES cores, the
distribution lives in a ``cmaes.CMA`` object (with its own generator, seeded by ``init`` and
``restart``), which ``ask`` and ``tell`` advance in place: ``tell`` returns the same
:class:`State`, updated. (A pickled ``cmaes.CMA`` loses its generator; the ``CMA`` optimizer
stores the object's attributes instead, generator included.)

Examples
--------
>>> import numpy as np
>>> from optimkit.algorithms.cma import core
>>> params = core.Params(dimension=3, restarts=2)
>>> space = core.Space.box(lower=np.full(3, -5.0), upper=np.full(3, 5.0), sigma=params.sigma)
>>> state = core.init(params, space, seed=0)
>>> for _ in range(100):
...     x = core.ask(params, state)
...     y = core.to_box(space, x) if state.transform else x
...     state = core.tell(params, state, x, np.sum((y - 1.0) ** 2, axis=1).tolist())
>>> bool(np.abs(state.cma.mean - 1.0).max() < 1e-3)
True

References
----------
Hansen, Ostermeier (2001). Completely derandomized self-adaptation in evolution strategies. Evol. Comput. 9(2).
Auger, Hansen (2005). A restart CMA evolution strategy with increasing population size. CEC.
Hansen (2009). Benchmarking a BI-population CMA-ES on the BBOB-2009 function testbed. GECCO workshops.
Hansen (2006-). pycma, ``cma.transformations.BoxConstraintsLinQuadTransformation`` (its default ``BoundTransform``).
Nomura, Shibata (2024). cmaes: a simple yet practical Python library for CMA-ES. arXiv:2402.01373.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import OptimkitValueError
from ...validation import check_bool, check_choice, check_int, check_real

__all__ = [
    "Params", "Space", "State", "init", "ask", "to_box", "tell", "restart", "stop_reason", "can_restart", "pressed",
    "PRESSED_GENERATIONS",
    "default_popsize", "load_cmaes", "MAX_GROWTH", "STRATEGIES", "BOUND_HANDLINGS", "TRANSFORM_MARGIN",
    "Vector", "Matrix",
]

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]

STRATEGIES = ("ipop", "bipop")
BOUND_HANDLINGS = ("adaptive", "transform", "resample")
#: Width of the quadratic zone of the box transformation on each side of a bound, as a fraction
#: of the box's width (pycma's default margin on BBOB's ``[-5, 5]``: 0.25).
TRANSFORM_MARGIN = 0.025
MAX_GROWTH = 512  # restarts grow the population up to this factor of the initial one
PRESSED_GENERATIONS = 10  # "adaptive": a resampling run pressed against the box this long stops
STAGNATION_MAX = 20_000  # generations kept in the stagnation histories (Hansen 2009)


def load_cmaes() -> Any:
    """The ``cmaes`` module (the ``cma`` extra); a ``ModuleNotFoundError`` naming it when missing."""
    try:
        import cmaes
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "CMA needs the cmaes package (CyberAgent): pip install 'optimkit[cma]'", name="cmaes"
        ) from exc
    return cmaes


def default_popsize(dimension: int) -> int:
    """``4 + floor(3 ln d)``, the default population of CMA-ES (Hansen 2016, eq. 48; cmaes's default)."""
    return 4 + int(math.floor(3.0 * math.log(dimension)))


@dataclass(frozen=True)
class Params:
    """Options of a restarted CMA-ES run, validated at construction.

    Parameters
    ----------
    dimension : int >= 1
        Number of variables.
    popsize : int >= 2, optional
        Population of the first run; default ``4 + floor(3 ln d)``.
    sigma : float > 0
        Initial step size relative to the box: each coordinate starts with the standard deviation
        ``sigma * width`` (0.2: the ``sigma0 = 2`` of CMA-ES on BBOB's ``[-5, 5]``).
    restarts : int >= 0 or math.inf
        Restarts allowed when a run stops (of any kind: large and small BIPOP runs both count).
    restart_strategy : "ipop" or "bipop"
        IPOP: every restart multiplies the population by ``popsize_multiplier``. BIPOP: alternates
        those large runs with small runs (random smaller population and step size).
    popsize_multiplier : float >= 1
        Growth of the population from one large run to the next (2 in the literature).
    lr_adapt : bool
        cmaes's learning-rate adaptation (LRA-CMA-ES, Nomura et al. 2023), for noisy or multimodal problems.
    bound_handling : "adaptive", "transform" or "resample"
        How samples are kept in the box: ``"transform"`` maps cmaes's unbounded samples into it
        (:func:`to_box`); ``"resample"`` gives the box to cmaes (resampling, then clipping);
        ``"adaptive"`` resamples until a run stops :func:`pressed` against the box, and transforms
        in every run after that one.
    """

    dimension: int
    popsize: int | None = None
    sigma: float = 0.2
    restarts: int | float = math.inf
    restart_strategy: str = "ipop"
    popsize_multiplier: float = 2.0
    lr_adapt: bool = False
    bound_handling: str = "adaptive"

    def __post_init__(self) -> None:
        check_int("dimension", self.dimension, 1)
        if self.popsize is not None:
            check_int("popsize", self.popsize, 2)
        check_real("sigma", self.sigma, 0.0, low_open=True)
        if not (isinstance(self.restarts, float) and self.restarts == math.inf):
            check_int("restarts (or math.inf)", self.restarts, 0)
        check_choice("restart_strategy", self.restart_strategy, STRATEGIES)
        check_real("popsize_multiplier", self.popsize_multiplier, 1.0)
        check_bool("lr_adapt", self.lr_adapt)
        check_choice("bound_handling", self.bound_handling, BOUND_HANDLINGS)

    @property
    def initial_popsize(self) -> int:
        """The population of the first run."""
        return int(self.popsize) if self.popsize is not None else default_popsize(self.dimension)


@dataclass(frozen=True)
class Space:
    """Where a run searches: the initial ``mean``, the standard deviation of each coordinate at the
    start of a large run (``std``) and the box (``lower``/``upper``, ``-inf``/``inf`` where a
    coordinate has no bound; cmaes keeps its samples inside).

    Restarts draw their mean uniformly in the box, and ``mean + std * N(0, 1)`` along unbounded
    coordinates.
    """

    mean: Vector
    std: Vector
    lower: Vector
    upper: Vector

    def __post_init__(self) -> None:
        d = self.mean.shape
        if not (self.std.shape == self.lower.shape == self.upper.shape == d and len(d) == 1):
            raise OptimkitValueError("mean, std, lower and upper must be vectors of the same length")
        if not (np.all(np.isfinite(self.mean)) and np.all(np.isfinite(self.std)) and np.all(self.std > 0)):
            raise OptimkitValueError(f"the mean must be finite and std finite and > 0, got {self.mean}, {self.std}")
        if not np.all(self.lower < self.upper):
            raise OptimkitValueError("each lower bound must be below its upper bound")
        if not np.all((self.lower <= self.mean) & (self.mean <= self.upper)):
            raise OptimkitValueError(f"mean must lie in the box, got {self.mean} outside [{self.lower}, {self.upper}]")

    @classmethod
    def box(cls, lower: ArrayLike, upper: ArrayLike, sigma: float = 0.2, mean: ArrayLike | None = None) -> Space:
        """The space of the box ``[lower, upper]`` (finite), mean at its centre unless given."""
        lo, up = np.asarray(lower, dtype=np.float64).ravel(), np.asarray(upper, dtype=np.float64).ravel()
        centre = (lo + up) / 2 if mean is None else np.asarray(mean, dtype=np.float64).ravel()
        return cls(mean=centre, std=sigma * (up - lo), lower=lo, upper=up)

    @property
    def bounded(self) -> NDArray[np.bool_]:
        """Coordinates with both bounds finite."""
        mask: NDArray[np.bool_] = np.isfinite(self.lower) & np.isfinite(self.upper)
        return mask

    def bounds(self, transformed: bool = False) -> Matrix | None:
        """The ``(d, 2)`` bounds for cmaes, or None when no coordinate is bounded (``transformed``:
        without the coordinates that :func:`to_box` maps into their box)."""
        lower, upper = self.lower, self.upper
        if transformed:
            bounded = self.bounded
            lower, upper = np.where(bounded, -np.inf, lower), np.where(bounded, np.inf, upper)
        if not (np.any(np.isfinite(lower)) or np.any(np.isfinite(upper))):
            return None
        return np.stack([lower, upper], axis=1)


@dataclass
class State:
    """One CMA-ES run (the ``cmaes.CMA`` object, ``cma``) and the restart bookkeeping.

    ``regime`` is ``"first"``, ``"large"`` or ``"small"`` (BIPOP); ``num_large`` counts the large
    restarts (the population of a large run is ``popsize * popsize_multiplier ** num_large``);
    ``evaluations`` are those told to the current run, ``large_evaluations``/``small_evaluations``
    those of the finished runs of each regime (the first run counts as small, as in cmaes's BIPOP
    example, so the first restart is large). ``best_history``/``median_history`` are the best and
    median losses of the run's generations (the stagnation test), ``equal_history`` whether the
    best and the k-th best loss were equal (the equalfunvals test). ``stop`` names the test that
    fired at the last tell, or None; ``pressed_streak`` counts the latest generations in a row that
    were :func:`pressed` against the box (adaptive resampling runs only; > 0: the last one was).
    ``transform``: whether this run's samples are mapped into the box (:func:`to_box`) or cmaes
    keeps them there (resampling).
    """

    cma: Any
    popsize: int
    sigma: float
    regime: str = "first"
    num_restarts: int = 0
    num_large: int = 0
    evaluations: int = 0
    large_evaluations: int = 0
    small_evaluations: int = 0
    best_history: list[float] = field(default_factory=list)
    median_history: list[float] = field(default_factory=list)
    equal_history: list[bool] = field(default_factory=list)
    stop: str | None = None
    transform: bool = False
    pressed_streak: int = 0

    @property
    def generation(self) -> int:
        """Generations of the current run (cmaes's counter)."""
        return int(self.cma.generation)


def _new_cma(params: Params, space: Space, mean: Vector, popsize: int, sigma: float, seed: int, transform: bool) -> Any:
    """A ``cmaes.CMA`` with per-coordinate initial deviations ``sigma / params.sigma * space.std``
    (``transform``: without the bounds that :func:`to_box` maps into)."""
    cmaes = load_cmaes()
    std = space.std * (sigma / params.sigma)
    scale = float(np.exp(np.mean(np.log(std))))  # geometric mean: the covariance has determinant 1
    ratio = std / scale
    cov = None if np.all(np.abs(ratio - 1.0) < 1e-12) else np.diag(ratio**2)
    with np.errstate(divide="ignore"):  # popsize 2 (one parent): cmaes divides by its zero rank-mu rate, harmlessly
        bounds = space.bounds(transformed=transform)
        return cmaes.CMA(mean=np.array(mean, dtype=np.float64), sigma=scale, bounds=bounds, seed=seed,
                         population_size=popsize, cov=cov, lr_adapt=params.lr_adapt)


def init(params: Params, space: Space, seed: int) -> State:
    """The first run: mean ``space.mean``, deviations ``space.std``, population ``params.initial_popsize``."""
    if space.mean.shape != (params.dimension,):
        raise OptimkitValueError(f"the space has dimension {space.mean.shape[0]}, the params {params.dimension}")
    popsize, transform = params.initial_popsize, params.bound_handling == "transform"
    return State(cma=_new_cma(params, space, space.mean, popsize, params.sigma, seed, transform), popsize=popsize,
                 sigma=params.sigma, transform=transform)


def ask(params: Params, state: State) -> Matrix:
    """One generation (``state.popsize`` rows) of cmaes's distribution, in cmaes's space (:func:`to_box`
    gives the points to evaluate when the run transforms; :func:`tell` takes these rows).

    The rows are those of ``popsize`` calls of cmaes's ``ask``, drawn at once: the same normal
    draws from the run's generator, in the same order (a row outside the box cmaes holds is drawn
    again, up to ``n_max_resampling`` times, then a last draw is clipped, as cmaes does), each
    ``mean + sigma * B diag(D) z`` computed as one matrix product (equal to cmaes's to rounding).
    ``params`` is not read; it is there for the signature every algorithm shares.
    """
    cma, n = state.cma, state.popsize
    try:
        B, D = cma._eigen_decomposition()
        rng, mean, sigma, bounds, tries = cma._rng, cma._mean, cma._sigma, cma._bounds, cma._n_max_resampling
    except AttributeError:  # pragma: no cover - a cmaes without these internals: its own ask, row by row
        return np.array([cma.ask() for _ in range(n)])
    factor = B.dot(np.diag(D)).T  # a row z of normals gives the step z (B diag(D))^T
    x: Matrix = mean + sigma * rng.randn(n, mean.shape[0]).dot(factor)
    if bounds is None:
        return x
    lower, upper = bounds[:, 0], bounds[:, 1]
    feasible = np.all((x >= lower) & (x <= upper), axis=1)
    if feasible.all():
        return x
    # cmaes's sequence: sample i takes draws until one is feasible (at most ``tries``), else one
    # more draw, clipped. Walk the draws in that order, drawing as many more as rows are missing.
    rows: list[Vector] = []
    attempts = 0
    while True:
        for row, ok in zip(x, feasible.tolist()):
            if attempts == tries:
                rows.append(np.clip(row, lower, upper))
                attempts = 0
            elif ok:
                rows.append(row)
                attempts = 0
            else:
                attempts += 1
        if len(rows) == n:
            return np.array(rows)
        x = mean + sigma * rng.randn(n - len(rows), mean.shape[0]).dot(factor)
        feasible = np.all((x >= lower) & (x <= upper), axis=1)


def to_box(space: Space, x: Matrix) -> Matrix:
    """The points to evaluate for the samples ``x`` (rows, from :func:`ask`) of a run that
    transforms (``state.transform``; the others evaluate ``x`` itself): each coordinate with both bounds mapped into
    ``[lower, upper]``: the identity on ``[lower + a, upper - a]`` (``a``: ``TRANSFORM_MARGIN`` of the
    width), ``lower + (t - lower + a)^2 / 4a`` below it and ``upper - (t - upper - a)^2 / 4a`` above,
    where ``t`` is ``x`` reflected into ``[lower - a, upper + a]`` (a periodic, continuous map with a
    continuous derivative inside; each bound is reached at one point of each period, where the map
    has a maximum or minimum, so CMA-ES converges onto a bound as onto an interior optimum).
    """
    bounded = space.bounded
    lower, upper = space.lower, space.upper
    margin = TRANSFORM_MARGIN * (upper - lower)  # inf - inf = nan where unbounded: never compared true
    with np.errstate(invalid="ignore"):
        outside = bounded & ((x < lower + margin) | (x > upper - margin))
    if not outside.any():
        return x
    index = np.nonzero(outside)
    column = index[-1]
    lo, width, a = lower[column], upper[column] - lower[column], margin[column]
    span = width + 2.0 * a  # [lower - a, upper + a], reflected at both ends: the period is 2 span
    t = np.mod(x[index] - (lo - a), 2.0 * span)
    t = np.where(t > span, 2.0 * span - t, t)
    mapped = np.where(t < 2.0 * a, lo + t**2 / (4.0 * a),
                      np.where(t > width, lo + width - (t - span) ** 2 / (4.0 * a), lo - a + t))
    y = np.array(x, dtype=np.float64, copy=True)
    y[index] = np.clip(mapped, lo, lo + width)  # clip: rounding only
    return y


def tell(params: Params, state: State, x: Matrix | Sequence[ArrayLike], losses: Sequence[float]) -> State:
    """cmaes's update from exactly ``state.popsize`` points (rows of ``x``: an array or a list of
    vectors) and their losses (minimized; NaN counts as ``+inf``), then the stopping tests
    (``state.stop``). Returns ``state``, updated."""
    n, d = state.popsize, params.dimension
    if len(x) != n or len(losses) != n:
        raise OptimkitValueError(f"CMA tell needs {n} points and one loss each, got {len(x)} points and "
                                 f"{len(losses)} losses")
    if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.shape == (n, d):
        points: list[Vector] = list(x)
    else:
        points = [np.asarray(row, dtype=np.float64) for row in x]
        if any(point.shape != (d,) for point in points):
            raise OptimkitValueError(f"CMA tell needs points of dimension {d}")
    values = [float(loss) for loss in losses]
    if any(value != value for value in values):
        values = [math.inf if value != value else value for value in values]
    bounds = getattr(state.cma, "_bounds", None)
    if params.bound_handling == "adaptive" and not state.transform and bounds is not None:
        rows = x if isinstance(x, np.ndarray) and x.shape == (n, d) else np.array(points)
        state.pressed_streak = state.pressed_streak + 1 if _pressed(bounds[:, 0], bounds[:, 1], rows) else 0
    state.cma.tell(list(zip(points, values)))
    state.evaluations += n
    state.stop = stop_reason(params, state, sorted(values))
    return state


def pressed(space: Space, points: Matrix) -> bool:
    """Whether a generation (rows ``points``, as evaluated) is pressed against the box: at least
    half of its points lie exactly on one same bound of some coordinate. A resampling run gets there
    only when cmaes, failing to draw inside the box 100 times, clips its samples: when the optimum
    lies on bounds of several coordinates at once (a corner, a linear slope), which resampling
    approaches ever more slowly and the box transformation reaches.

    >>> space = Space.box(lower=[-1.0, -1.0], upper=[1.0, 1.0])
    >>> pressed(space, np.array([[1.0, 0.2], [1.0, -0.3], [0.5, 0.1]])), pressed(space, np.array([[0.9, 0.2]]))
    (True, False)
    """
    return _pressed(space.lower, space.upper, np.asarray(points, dtype=np.float64))


def _pressed(lower: Vector, upper: Vector, x: Matrix) -> bool:
    if x.ndim != 2 or len(x) == 0:
        return False
    on = np.maximum(np.count_nonzero(x == lower, axis=0), np.count_nonzero(x == upper, axis=0))
    return bool(np.any(2 * on >= len(x)))


def stop_reason(params: Params, state: State, sorted_losses: Sequence[float]) -> str | None:
    """Why the run should stop after its last generation (whose losses, sorted, are given), or None.

    ``"should_stop"``: a test of cmaes (tolfun, tolx, tolxup, no-effect coordinate or axis,
    condition of the covariance above 1e14); ``"equalfunvals"``: in more than a third of the last
    ``d`` generations the best and the ``(1 + ceil(0.1 + popsize / 4))``-th best loss were equal;
    ``"stagnation"``: over the last ``max(120 + 30 d / popsize, 20% of the generations)`` (at most
    20,000), the medians of the most recent 30% of both the best and the median losses are not
    better than those of the first 30% (both Hansen 2009); ``"maxiter"``: the run reached
    ``100 + 150 (d + 3)^2 / sqrt(popsize)`` generations (pycma's default); ``"pressed"``
    (``bound_handling="adaptive"``, a resampling run): its last ``PRESSED_GENERATIONS`` generations
    were each :func:`pressed` against the box (``state.pressed_streak``, counted by :func:`tell`),
    so the next run transforms.
    """
    d, lam = params.dimension, state.popsize
    k = min(lam - 1, int(math.ceil(0.1 + lam / 4)))
    best, median, equal = state.best_history, state.median_history, state.equal_history
    best.append(float(sorted_losses[0]))
    median.append(float(sorted_losses[lam // 2]))
    equal.append(bool(sorted_losses[0] == sorted_losses[k]))
    if len(equal) > d:
        del equal[0]
    if len(best) >= 2 * STAGNATION_MAX:  # trimmed by halves: amortized O(1) per generation
        del best[:STAGNATION_MAX], median[:STAGNATION_MAX]
    if state.cma.should_stop():
        return "should_stop"
    if state.pressed_streak >= PRESSED_GENERATIONS:
        return "pressed"
    if len(equal) == d and sum(equal) > d / 3:
        return "equalfunvals"
    g = state.generation
    if g >= 100 + 150 * (d + 3) ** 2 / math.sqrt(lam):
        return "maxiter"
    window = min(STAGNATION_MAX, max(int(120 + 30 * d / lam), int(0.2 * g)))
    # slowly varying: tested every 1 + window // 40 generations, so a long run stays cheap
    if len(best) >= window and g % (1 + window // 40) == 0:
        part = max(1, int(0.3 * window))
        for history in (best, median):
            recent = np.asarray(history[-window:], dtype=np.float64)
            old, new = np.median(recent[:part]), np.median(recent[-part:])
            if not new >= old:  # improved (NaN-safe: losses are never NaN here)
                return None
        return "stagnation"
    return None


def can_restart(params: Params, state: State) -> bool:
    """Whether a stopped run may restart (``params.restarts`` not used up)."""
    return bool(state.num_restarts < params.restarts)


def restart(params: Params, space: Space, state: State, seed: int, unit: ArrayLike, normal: ArrayLike,
            u: ArrayLike) -> State:
    """The next run after ``state`` stopped: a new ``cmaes.CMA`` (seeded with ``seed``).

    Its mean is ``lower + unit * (upper - lower)`` along bounded coordinates and
    ``space.mean + space.std * normal`` along the others (``unit``: d uniforms in [0, 1),
    ``normal``: d standard normals). The run transforms (:func:`to_box`) with
    ``bound_handling="transform"``, and with ``"adaptive"`` once a run stopped :func:`pressed`
    against the box (its last generation pressed: ``pressed_streak > 0``; this run or an earlier
    one). IPOP: a large run, population ``popsize * popsize_multiplier ** num_large`` (at most
    ``MAX_GROWTH`` times the first), step size ``sigma``. BIPOP: a small run
    when the small runs spent fewer evaluations than the large ones, with population
    ``floor(popsize * (large / popsize) ** (u[0] ** 2))`` (``large``: the latest large population)
    and step size ``sigma * 10 ** (-2 u[1])`` (Hansen 2009), else a large run.
    """
    uu = np.asarray(u, dtype=np.float64).ravel()
    small, large = state.small_evaluations, state.large_evaluations
    if state.regime == "large":
        large += state.evaluations
    else:
        small += state.evaluations
    popsize0, num_large = params.initial_popsize, state.num_large
    cap = MAX_GROWTH * popsize0

    def large_popsize(n: int) -> int:
        return int(min(cap, round(popsize0 * params.popsize_multiplier**n)))

    if params.restart_strategy == "bipop" and small < large:
        regime = "small"
        popsize = max(popsize0, int(math.floor(popsize0 * (large_popsize(num_large) / popsize0) ** (uu[0] ** 2))))
        sigma = params.sigma * 10.0 ** (-2.0 * float(uu[1]))
    else:
        regime, num_large = "large", num_large + 1
        popsize, sigma = large_popsize(num_large), params.sigma
    bounded = space.bounded
    lo, up = np.where(bounded, space.lower, 0.0), np.where(bounded, space.upper, 0.0)
    mean = np.where(bounded, lo + np.asarray(unit, dtype=np.float64) * (up - lo),
                    space.mean + space.std * np.asarray(normal, dtype=np.float64))
    mean = np.clip(mean, space.lower, space.upper)  # one-sided bounds
    transform = state.transform or (params.bound_handling == "adaptive" and state.pressed_streak > 0)
    return State(cma=_new_cma(params, space, mean, popsize, sigma, seed, transform), popsize=popsize, sigma=sigma,
                 regime=regime, num_restarts=state.num_restarts + 1, num_large=num_large,
                 large_evaluations=large, small_evaluations=small, transform=transform)
