"""The ask/tell optimizers ``XNES`` and ``SNES`` (both minimize): thin adapters over the pure cores
``xnes.py`` and ``snes.py``, with their families ``ConfXNES``/``ConfSNES``, registered at the bottom.

The adapter queues a generation's rows for one-at-a-time asks, collects tells in any order and
runs the core's ``tell`` once ``popsize`` losses are in; it owns the random draws (the
parametrization's ``random_state``: samples, restart means, BIPOP's uniforms) and hands them to the
core. It also turns the bounds into the defaults that need them: the initial step size
(:func:`relative_scales`) and uniform restart means in the box.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ...core import ConfiguredOptimizer, Optimizer, registry
from ...errors import InefficientSettingsWarning, OptimkitValueError
from ...parametrization import Parameter, UnitBox
from ...rng import normal, uniform
from . import common, snes, xnes
from .common import Vector

__all__ = ["NESOptimizer", "XNES", "SNES", "ConfXNES", "ConfSNES", "relative_scales", "BOX_FRACTION"]

#: ``sigma=None``: the initial step size of a coordinate with finite bounds is this fraction of the
#: box's width (BBOB practice: sigma0 = 2 on [-5, 5]); other coordinates start with 1.0.
BOX_FRACTION = 0.2


def relative_scales(parametrization: Parameter, fraction: float = BOX_FRACTION) -> Vector:
    """The default initial standard deviation of each coordinate, in the standardized space.

    ``fraction * width`` for a coordinate with finite bounds mapped linearly (``UnitBox.widths``), 1.0
    (the parametrization's own mutation scale) for the others: a unit box whose unbounded coordinates
    are ``1 / fraction`` wide gives both at once.
    """
    scales: Vector = UnitBox(parametrization, bound=0.5 / fraction).widths * fraction
    return scales


class NESOptimizer(Optimizer):
    """The ask/tell adapter shared by ``XNES`` and ``SNES`` (minimizes), over the core module ``_algorithm``.

    It works on the parametrization's standardized data. Asks hand out the rows of the current
    generation (a fresh one is drawn from the current distribution when they run out); told points
    are collected in any order and the distribution is updated as soon as ``popsize`` of them are in.
    A point drawn before the last update, a suggestion and a told-not-asked candidate are used too,
    as "foreign" points whose whitened steps are clipped. An abandoned candidate is put back and asked
    again first. When the run has converged or stalled (see :func:`common.stop_reason`) and ``restarts``
    allow it, a new run starts (:func:`common.next_run`: IPOP or BIPOP) around a random mean:
    uniform in the box for bounded coordinates, ``mean0 + sigma0 * N(0, 1)`` for the others.
    """

    _algorithm: ClassVar[ModuleType]  # the core: xnes or snes

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, mean: Any = None, **options: Any) -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        core = self._algorithm
        if options.get("sigma") is None:  # relative to the bounds
            scales = relative_scales(self.parametrization)
            top = float(scales.max())
            options["sigma"] = top
            options["scales"] = None if float(scales.min()) == top else tuple((scales / top).tolist())
        self._params: common.Params = core.Params(dimension=self.dimension, **options)
        self._mean0 = self._mean_data(mean)
        self._state: Any = core.init(self._params, self._mean0)
        self._queue: deque[tuple[Vector, int]] = deque()  # (row, update it was drawn at)
        self._told_x: list[NDArray[np.float64]] = []
        self._told_y: list[Vector] = []
        self._told_foreign: list[NDArray[np.bool_]] = []
        self._num_told_now = 0
        self._updates = 0
        self._batch_gens: list[int] = []

    def _mean_data(self, mean: Any) -> Vector:
        if mean is None:
            return np.zeros(self.dimension)
        return common.check_mean(self._data_of_value(mean, "mean"), self.dimension)

    @property
    def state(self) -> Any:
        """The current search distribution (``xnes.State`` or ``snes.State``; standardized space)."""
        return self._state

    @property
    def _batch_size(self) -> int:
        return int(self._state.popsize)

    # ------------------------------------------------------------------ asks
    def _next(self) -> tuple[Vector, int]:
        if not self._queue:
            state = self._state
            z = normal(self._rng, (state.popsize, self.dimension))
            rows = self._algorithm.ask(self._params, state, z)
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

    def _internal_abandon(self, candidate: Parameter) -> None:
        gen = candidate._tag if isinstance(candidate._tag, int) else -1
        self._queue.appendleft((np.array(self._data_of(candidate), dtype=np.float64), gen))

    def _internal_abandon_batch(self, data: NDArray[np.float64]) -> None:
        gens = self._batch_gens if len(self._batch_gens) == len(data) else [-1] * len(data)
        self._batch_gens = []
        for row, gen in reversed(list(zip(np.asarray(data, dtype=np.float64), gens))):
            self._queue.appendleft((row.copy(), gen))

    def _internal_detach_batch(self, data: NDArray[np.float64]) -> list[Parameter]:
        gens = self._batch_gens if len(self._batch_gens) == len(data) else [-1] * len(data)
        self._batch_gens = []
        candidates = [self._spawn(np.array(row)) for row in data]
        for cand, gen in zip(candidates, gens):
            cand._tag = gen
        return candidates

    # ------------------------------------------------------------------ tells
    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        gen = candidate._tag if isinstance(candidate._tag, int) else -1
        self._receive(self._data_of(candidate)[None, :], np.array([loss]), np.array([gen]))

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        self._receive(self._data_of(candidate)[None, :], np.array([loss]), np.array([-1]))

    def _internal_tell_batch(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        gens = np.asarray(self._batch_gens if len(self._batch_gens) == len(data) else [-1] * len(data))
        self._batch_gens = []
        self._receive(np.asarray(data, dtype=np.float64), np.asarray(losses, dtype=np.float64), gens)

    def _receive(self, x: NDArray[np.float64], y: Vector, gens: NDArray[np.int_]) -> None:
        """Collect told rows (a row from another update than the current one is foreign)."""
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
        """The core's tell on the collected generation, then a restart if it stopped and may."""
        x, y = np.concatenate(self._told_x), np.concatenate(self._told_y)
        foreign = np.concatenate(self._told_foreign)
        self._told_x, self._told_y, self._told_foreign, self._num_told_now = [], [], [], 0
        self._queue.clear()  # drawn from the old distribution: stale
        self._updates += 1
        core, params = self._algorithm, self._params
        state = core.tell(params, self._state, x, y, foreign if foreign.any() else None)
        if state.stop is not None and common.can_restart(params, state):
            state = core.restart(params, state, self._restart_mean(), self._restart_draws())
        self._state = state

    def _restart_mean(self) -> Vector:
        """Uniform in the box for bounded coordinates, ``mean0 + sigma0 * N(0, 1)`` for the others."""
        params = self._params
        mean: Vector = self._mean0 + (params.sigma * common.initial_scales(params)) * normal(self._rng, self.dimension)
        box = UnitBox(self.parametrization)
        if box.bounded.any():
            inside = box.to_data(uniform(self._rng, self.dimension))
            mean[box.bounded] = inside[box.bounded]
        return mean

    def _restart_draws(self) -> Vector | None:
        """BIPOP's two uniforms (population and step size of a small run), from the optimizer's generator."""
        if self._params.restart_strategy != "bipop":
            return None
        draws: Vector = uniform(self._rng, 2)
        return draws


class XNES(NESOptimizer):
    """Exponential natural evolution strategies with a full covariance (Glasmachers et al. 2010). Minimizes.

    Works in the parametrization's standardized space, so bounded arrays, ``Log`` scalars and
    ``Choice`` logits all work. Each generation of ``popsize`` asks is drawn from
    ``N(mean, sigma^2 B B^T)``; the update (:func:`optimkit.algorithms.nes.xnes.tell`) runs once
    ``popsize`` losses are told, in any order. Tell-not-asked candidates and suggestions are used as
    extra points of the generation (their whitened steps clipped to ``sqrt(d) + 2``); an abandoned ask
    is re-issued. Cost per generation: ``O(popsize d^2 + d^3)``; for more than a few hundred variables
    prefer :class:`SNES`.

    Parameters
    ----------
    parametrization, budget, num_workers, seed
        As for every optimizer.
    popsize : int >= 2, optional
        Samples per generation; default ``4 + floor(3 ln d)``.
    sigma : float > 0, optional
        Initial step size in the standardized space (1.0 is the parametrization's own mutation scale).
        Default (None): relative to the bounds, ``0.2 x`` the box's width for a bounded coordinate
        (:func:`relative_scales`; 2.0 in value space on ``[-5, 5]``), 1.0 for an unbounded one.
    mean : value of the parametrization, optional
        Initial mean, given as a value (what ``parametrization.value`` holds); default: its current value.
    lr_mean, lr_sigma, lr_b : float > 0, optional
        Learning rates; defaults 1 and ``3 (3 + ln d) / (5 d sqrt(d))`` (Wierstra et al. 2014).
    restarts : int >= 0 or math.inf
        Restarts allowed when a run has converged or stalled; default ``math.inf``: restart until the
        budget is spent. A new run starts at a random mean (uniform in the box where there are bounds).
    restart_strategy : {"ipop", "bipop"}
        ``"ipop"`` (default): each restart doubles the population. ``"bipop"``: alternate those runs with
        short runs of a smaller, random population and step size (Hansen 2009).

    Examples
    --------
    >>> from optimkit.optimizers.xnes import XNES   # also ok.optimizers.registry["XNES"]
    >>> opt = XNES(parametrization=3, budget=1500, seed=0)
    >>> rec = opt.minimize(lambda x: float(((x - 1.0) ** 2).sum()))
    >>> bool(((rec.value - 1.0) ** 2).sum() < 1e-6)
    True

    References
    ----------
    Glasmachers, Schaul, Sun, Wierstra, Schmidhuber (2010). Exponential natural evolution strategies. GECCO.
    Auger, Hansen (2005). A restart CMA evolution strategy with increasing population size. CEC.
    Hansen (2009). Benchmarking a BI-population CMA-ES on the BBOB-2009 function testbed. GECCO.
    """

    _algorithm: ClassVar[ModuleType] = xnes

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, popsize: int | None = None, sigma: float | None = None, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, lr_b: float | None = None,
                 restarts: int | float = math.inf, restart_strategy: str = "ipop") -> None:
        super().__init__(parametrization, budget, num_workers, seed=seed, mean=mean, popsize=popsize,
                         sigma=sigma, lr_mean=lr_mean, lr_sigma=lr_sigma, lr_b=lr_b, restarts=restarts,
                         restart_strategy=restart_strategy)
        if self.dimension > 1000:
            warnings.warn(f"XNES keeps a {self.dimension}x{self.dimension} matrix and costs O(d^3) per "
                          "generation; SNES (separable) is linear in the dimension", InefficientSettingsWarning,
                          stacklevel=2)


class SNES(NESOptimizer):
    """Separable natural evolution strategies (Schaul et al. 2011), for high dimension. Minimizes.

    Like :class:`XNES` (same ask/tell behaviour, same options except ``lr_b``) but with one step size
    per variable (:mod:`optimkit.algorithms.nes.snes`): a generation costs ``O(popsize d)``, so tens of
    thousands of variables are fine.

    Parameters
    ----------
    parametrization, budget, num_workers, seed
        As for every optimizer.
    popsize : int >= 2, optional
        Samples per generation; default ``4 + floor(3 ln d)``.
    sigma : float > 0, optional
        Initial step size of every variable in the standardized space; default (None): relative to the
        bounds, as in :class:`XNES`.
    mean : value of the parametrization, optional
        Initial mean, given as a value; default: the parametrization's current value.
    lr_mean, lr_sigma : float > 0, optional
        Learning rates; defaults 1 and ``(3 + ln d) / (5 sqrt(d))`` (Wierstra et al. 2014).
    restarts : int >= 0 or math.inf
        Restarts allowed when a run has converged or stalled; default ``math.inf`` (as :class:`XNES`).
    restart_strategy : {"ipop", "bipop"}
        As in :class:`XNES`.

    Examples
    --------
    >>> from optimkit.optimizers.snes import SNES   # also ok.optimizers.registry["SNES"]
    >>> opt = SNES(parametrization=50, budget=5000, seed=0)
    >>> rec = opt.minimize(lambda x: float(((x - 1.0) ** 2).sum()))
    >>> bool(((rec.value - 1.0) ** 2).sum() < 0.05)
    True

    References
    ----------
    Schaul, Glasmachers, Schmidhuber (2011). High dimensions and heavy tails for natural evolution
    strategies. GECCO.
    """

    _algorithm: ClassVar[ModuleType] = snes

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, popsize: int | None = None, sigma: float | None = None, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, restarts: int | float = math.inf,
                 restart_strategy: str = "ipop") -> None:
        super().__init__(parametrization, budget, num_workers, seed=seed, mean=mean, popsize=popsize,
                         sigma=sigma, lr_mean=lr_mean, lr_sigma=lr_sigma, restarts=restarts,
                         restart_strategy=restart_strategy)


def _check_family(params_type: type[common.Params], mean: Any, options: dict[str, Any]) -> None:
    """Validate a family's options now, before any parametrization (so any dimension) is known."""
    params_type(dimension=1, **{**options, "sigma": 1.0 if options["sigma"] is None else options["sigma"]})
    if mean is not None:
        try:
            arr = np.asarray(mean, dtype=np.float64)
        except (TypeError, ValueError):
            return  # a structured value (Dict, Instrumentation): checked against the parametrization later
        if not np.all(np.isfinite(arr)):
            raise OptimkitValueError(f"mean must be finite, got {mean!r}")


class ConfXNES(ConfiguredOptimizer):
    """A configured :class:`XNES` (options as there, validated now), e.g. ``ConfXNES(restarts=5)(parametrization=10)``.

    ``restarts`` is a count or ``math.inf`` (the default: restart until the budget is spent) and
    ``restart_strategy`` is ``"ipop"`` or ``"bipop"``.
    """

    def __init__(self, *, popsize: int | None = None, sigma: float | None = None, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, lr_b: float | None = None,
                 restarts: int | float = math.inf, restart_strategy: str = "ipop", seed: Any = None) -> None:
        options = {"popsize": popsize, "sigma": sigma, "lr_mean": lr_mean, "lr_sigma": lr_sigma, "lr_b": lr_b,
                   "restarts": restarts, "restart_strategy": restart_strategy}
        _check_family(xnes.Params, mean, options)
        super().__init__(XNES, {**options, "mean": mean, "seed": seed})


class ConfSNES(ConfiguredOptimizer):
    """A configured :class:`SNES` (options as there, validated now), e.g. ``ConfSNES(popsize=50)(parametrization=10_000)``.

    ``restarts`` and ``restart_strategy`` as in :class:`ConfXNES`.
    """

    def __init__(self, *, popsize: int | None = None, sigma: float | None = None, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, restarts: int | float = math.inf,
                 restart_strategy: str = "ipop", seed: Any = None) -> None:
        options = {"popsize": popsize, "sigma": sigma, "lr_mean": lr_mean, "lr_sigma": lr_sigma,
                   "restarts": restarts, "restart_strategy": restart_strategy}
        _check_family(snes.Params, mean, options)
        super().__init__(SNES, {**options, "mean": mean, "seed": seed})


registry.register(XNES)
registry.register(SNES)
