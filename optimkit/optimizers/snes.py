"""SNES: separable natural evolution strategies, a diagonal XNES for high dimension (minimizes).

The search distribution is ``N(mean, diag(sigma)^2)`` with one step size per variable; a sample,
the update and the memory are all linear in the dimension, so tens of thousands of variables are
fine. With utilities ``u_k`` from the ranks and ``s_k = (x_k - mean) / sigma`` (Wierstra et al. 2014,
Algorithm 6)::

    mean  += lr_mean * sigma * sum_k u_k s_k
    sigma *= exp(lr_sigma / 2 * sum_k u_k (s_k^2 - 1))

References
----------
Schaul, Glasmachers, Schmidhuber (2011). High dimensions and heavy tails for natural evolution
strategies. GECCO.
Wierstra, Schaul, Glasmachers, Sun, Peters, Schmidhuber (2014). Natural evolution strategies. JMLR 15.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..core import ConfiguredOptimizer, registry
from ..errors import OptimkitValueError
from ..parametrization import Parameter
from ._nes_common import (
    MAX_GROWTH,
    NESOptimizer,
    absurd,
    check_family_options,
    check_mean,
    check_options,
    clean_losses,
    clip_whitened,
    default_popsize,
    injection_radius,
    push_history,
    rank_utilities,
    stop_reason,
)

__all__ = ["SNES", "ConfSNES", "SNESParams", "SNESState", "snes_init", "snes_ask", "snes_tell", "snes_restart"]

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class SNESParams:
    """Constants of an SNES run; ``None`` options take the defaults of Wierstra et al. (2014), Table 1.

    Parameters
    ----------
    dimension: number of variables (>= 1).
    popsize: samples per generation, >= 2; None gives ``4 + floor(3 ln d)``.
    sigma: initial step size of every variable (> 0).
    lr_mean: learning rate of the mean (default 1).
    lr_sigma: learning rate of the step sizes (default ``(3 + ln d) / (5 sqrt(d))``).
    restarts: how many IPOP restarts (population doubled each time) are allowed when the
        distribution collapses; ``math.inf`` for no limit.
    """

    dimension: int
    popsize: int | None = None
    sigma: float = 1.0
    lr_mean: float | None = None
    lr_sigma: float | None = None
    restarts: int | float = 0

    def __post_init__(self) -> None:
        if not isinstance(self.dimension, (int, np.integer)) or isinstance(self.dimension, bool) \
                or self.dimension < 1:
            raise OptimkitValueError(f"dimension must be an integer >= 1, got {self.dimension!r}")
        check_options(popsize=self.popsize, sigma=self.sigma, lr_mean=self.lr_mean,
                      lr_sigma=self.lr_sigma, restarts=self.restarts)

    @property
    def initial_popsize(self) -> int:
        return int(self.popsize) if self.popsize is not None else default_popsize(self.dimension)

    @property
    def eta_mean(self) -> float:
        return float(self.lr_mean) if self.lr_mean is not None else 1.0

    @property
    def eta_sigma(self) -> float:
        d = self.dimension
        return float(self.lr_sigma) if self.lr_sigma is not None else (3 + math.log(d)) / (5 * math.sqrt(d))


@dataclass
class SNESState:
    """The distribution ``N(mean, diag(sigma)^2)`` and the run's bookkeeping (see ``XNESState``)."""

    mean: Vector
    sigma: Vector
    popsize: int
    generation: int = 0
    num_restarts: int = 0
    best_history: tuple[float, ...] = ()
    stop: str | None = None


def snes_init(params: SNESParams, mean: ArrayLike | None = None) -> SNESState:
    """The initial state: ``N(mean, sigma^2 I)`` (``mean`` defaults to zeros)."""
    d = params.dimension
    return SNESState(mean=check_mean(mean, d), sigma=np.full(d, float(params.sigma)),
                     popsize=params.initial_popsize)


def snes_ask(state: SNESState, z: ArrayLike) -> Matrix:
    """Map standard normal draws ``z`` (one row per sample) to points ``mean + sigma * z``."""
    return state.mean + state.sigma * np.asarray(z, dtype=np.float64)


def snes_tell(params: SNESParams, state: SNESState, x: ArrayLike, losses: ArrayLike,
              foreign: ArrayLike | None = None, z: ArrayLike | None = None) -> SNESState:
    """One natural-gradient update from the points ``x`` (rows) and their ``losses`` (minimized).

    Same contract as ``xnes_tell``: >= 2 points, foreign rows clipped, ``z`` (the draws that made
    ``x``) skips the whitening, NaN counts as worst, the state never holds non-finite numbers.
    """
    xs = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = clean_losses(losses)
    n, d = xs.shape
    if y.size != n or n < 2:
        raise OptimkitValueError(f"snes_tell needs >= 2 points and one loss per point, got {n} points "
                                 f"and {y.size} losses")
    history = push_history(state.best_history, y, d, state.popsize)
    if z is not None and foreign is None:
        s = np.asarray(z, dtype=np.float64)
    else:
        s = (xs - state.mean) / state.sigma
        if foreign is not None and np.any(foreign):
            mask = np.asarray(foreign, dtype=bool)
            s[mask] = clip_whitened(s[mask], injection_radius(d))
        if absurd(s):
            return replace(state, best_history=history, stop="numerical")
    u = rank_utilities(y, cleaned=True)
    mean = state.mean + (u @ s) * (params.eta_mean * state.sigma)
    g_sigma = u @ (s * s)
    g_sigma -= float(u.sum())
    g_sigma *= params.eta_sigma / 2
    np.minimum(g_sigma, 700.0, out=g_sigma)
    sigma = state.sigma * np.exp(g_sigma)
    high, low = float(sigma.max()), float(sigma.min())
    if not (math.isfinite(float(mean.sum())) and 0 < low and high < math.inf):
        return replace(state, best_history=history, stop="numerical")
    reason = stop_reason(y, history, dimension=d, popsize=state.popsize, max_std=high,
                         condition=(high / low) ** 2, sigma0=params.sigma)
    return SNESState(mean=mean, sigma=sigma, popsize=state.popsize, generation=state.generation + 1,
                     num_restarts=state.num_restarts, best_history=history, stop=reason)


def snes_restart(params: SNESParams, state: SNESState, mean: ArrayLike) -> SNESState:
    """IPOP restart: ``N(mean, sigma0^2 I)`` with the population size doubled (at most ``MAX_GROWTH`` x)."""
    return SNESState(mean=check_mean(mean, params.dimension), sigma=np.full(params.dimension, float(params.sigma)),
                     popsize=min(2 * state.popsize, MAX_GROWTH * params.initial_popsize),
                     num_restarts=state.num_restarts + 1)


@registry.register
class SNES(NESOptimizer):
    """Separable natural evolution strategies (Schaul et al. 2011), for high dimension. Minimizes.

    Like :class:`XNES` (same ask/tell behaviour, same options except ``lr_b``) but with one step size
    per variable: a generation costs ``O(popsize d)``, so tens of thousands of variables are fine.

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
    """

    _core = {"params": SNESParams, "init": snes_init, "ask": snes_ask, "tell": snes_tell, "restart": snes_restart}

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, popsize: int | None = None, sigma: float = 1.0, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, restarts: int | float = 0) -> None:
        super().__init__(parametrization, budget, num_workers, seed=seed, mean=mean, popsize=popsize,
                         sigma=sigma, lr_mean=lr_mean, lr_sigma=lr_sigma, restarts=restarts)


class ConfSNES(ConfiguredOptimizer):
    """A configured :class:`SNES` (options as there, validated now), e.g. ``ConfSNES(popsize=50)(parametrization=10_000)``."""

    def __init__(self, *, popsize: int | None = None, sigma: float = 1.0, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, restarts: int | float = 0,
                 seed: Any = None) -> None:
        check_family_options(mean, popsize=popsize, sigma=sigma, lr_mean=lr_mean, lr_sigma=lr_sigma,
                             restarts=restarts)
        super().__init__(SNES, {"popsize": popsize, "sigma": sigma, "mean": mean, "lr_mean": lr_mean,
                                "lr_sigma": lr_sigma, "restarts": restarts, "seed": seed})
