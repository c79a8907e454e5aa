"""The ask/tell optimizers ``XNES`` and ``SNES`` (both minimize): thin adapters over the pure cores
``xnes.py`` and ``snes.py``, with their families ``ConfXNES``/``ConfSNES``, registered at the bottom.

The adapter queues a generation's rows for one-at-a-time asks, collects tells in any order and
runs the core's ``tell`` once ``popsize`` losses are in; it owns the random draws (the
parametrization's ``random_state``) and hands them to the core.
"""

from __future__ import annotations

import warnings
from collections import deque
from types import ModuleType
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from ...core import ConfiguredOptimizer, Optimizer, registry
from ...errors import InefficientSettingsWarning, OptimkitValueError
from ...parametrization import Parameter
from ...rng import normal
from . import common, snes, xnes
from .common import Vector

__all__ = ["NESOptimizer", "XNES", "SNES", "ConfXNES", "ConfSNES"]


class NESOptimizer(Optimizer):
    """The ask/tell adapter shared by ``XNES`` and ``SNES`` (minimizes), over the core module ``_algorithm``.

    It works on the parametrization's standardized data. Asks hand out the rows of the current
    generation (a fresh one is drawn from the current distribution when they run out); told points
    are collected in any order and the distribution is updated as soon as ``popsize`` of them are in.
    A point drawn before the last update, a suggestion and a told-not-asked candidate are used too,
    as "foreign" points whose whitened steps are clipped. An abandoned candidate is put back and asked
    again first. When the distribution collapses (see :func:`common.stop_reason`) and ``restarts``
    allow it, the run restarts around a random point ``mean0 + sigma0 * N(0, I)`` with twice the
    population.
    """

    _algorithm: ClassVar[ModuleType]  # the core: xnes or snes

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, mean: Any = None, **options: Any) -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        core = self._algorithm
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
        try:
            data = self.parametrization.spawn_child(new_value=mean).get_standardized_data(
                reference=self.parametrization)
        except Exception as exc:  # noqa: BLE001 - any refusal of the value becomes one clear error
            raise OptimkitValueError(f"mean must be a value of the parametrization ({self.parametrization.name}) "
                                     f"with dimension {self.dimension}, got {mean!r} ({exc})") from exc
        return common.check_mean(data, self.dimension)

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
            new_mean = self._mean0 + params.sigma * normal(self._rng, self.dimension)
            state = core.restart(params, state, new_mean)
        self._state = state


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
    sigma : float > 0
        Initial step size in the standardized space (1.0 is the parametrization's own mutation scale).
    mean : value of the parametrization, optional
        Initial mean, given as a value (what ``parametrization.value`` holds); default: its current value.
    lr_mean, lr_sigma, lr_b : float > 0, optional
        Learning rates; defaults 1 and ``3 (3 + ln d) / (5 d sqrt(d))`` (Wierstra et al. 2014).
    restarts : int >= 0 or math.inf
        IPOP restarts allowed when the distribution collapses (population doubled each time).

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
    """

    _algorithm: ClassVar[ModuleType] = xnes

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, popsize: int | None = None, sigma: float = 1.0, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, lr_b: float | None = None,
                 restarts: int | float = 0) -> None:
        super().__init__(parametrization, budget, num_workers, seed=seed, mean=mean, popsize=popsize,
                         sigma=sigma, lr_mean=lr_mean, lr_sigma=lr_sigma, lr_b=lr_b, restarts=restarts)
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
    sigma : float > 0
        Initial step size of every variable in the standardized space.
    mean : value of the parametrization, optional
        Initial mean, given as a value; default: the parametrization's current value.
    lr_mean, lr_sigma : float > 0, optional
        Learning rates; defaults 1 and ``(3 + ln d) / (5 sqrt(d))`` (Wierstra et al. 2014).
    restarts : int >= 0 or math.inf
        IPOP restarts allowed when the distribution collapses (population doubled each time).

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
                 seed: Any = None, popsize: int | None = None, sigma: float = 1.0, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, restarts: int | float = 0) -> None:
        super().__init__(parametrization, budget, num_workers, seed=seed, mean=mean, popsize=popsize,
                         sigma=sigma, lr_mean=lr_mean, lr_sigma=lr_sigma, restarts=restarts)


def _check_family(params_type: type[common.Params], mean: Any, options: dict[str, Any]) -> None:
    """Validate a family's options now, before any parametrization (so any dimension) is known."""
    params_type(dimension=1, **options)
    if mean is not None:
        try:
            arr = np.asarray(mean, dtype=np.float64)
        except (TypeError, ValueError):
            return  # a structured value (Dict, Instrumentation): checked against the parametrization later
        if not np.all(np.isfinite(arr)):
            raise OptimkitValueError(f"mean must be finite, got {mean!r}")


class ConfXNES(ConfiguredOptimizer):
    """A configured :class:`XNES` (options as there, validated now), e.g. ``ConfXNES(restarts=5)(parametrization=10)``."""

    def __init__(self, *, popsize: int | None = None, sigma: float = 1.0, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, lr_b: float | None = None,
                 restarts: int | float = 0, seed: Any = None) -> None:
        options = {"popsize": popsize, "sigma": sigma, "lr_mean": lr_mean, "lr_sigma": lr_sigma, "lr_b": lr_b,
                   "restarts": restarts}
        _check_family(xnes.Params, mean, options)
        super().__init__(XNES, {"popsize": popsize, "sigma": sigma, "mean": mean, "lr_mean": lr_mean,
                                "lr_sigma": lr_sigma, "lr_b": lr_b, "restarts": restarts, "seed": seed})


class ConfSNES(ConfiguredOptimizer):
    """A configured :class:`SNES` (options as there, validated now), e.g. ``ConfSNES(popsize=50)(parametrization=10_000)``."""

    def __init__(self, *, popsize: int | None = None, sigma: float = 1.0, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, restarts: int | float = 0,
                 seed: Any = None) -> None:
        options = {"popsize": popsize, "sigma": sigma, "lr_mean": lr_mean, "lr_sigma": lr_sigma,
                   "restarts": restarts}
        _check_family(snes.Params, mean, options)
        super().__init__(SNES, {"popsize": popsize, "sigma": sigma, "mean": mean, "lr_mean": lr_mean,
                                "lr_sigma": lr_sigma, "restarts": restarts, "seed": seed})


registry.register(XNES)
registry.register(SNES)
