"""The SNES core: separable natural evolution strategies, a diagonal XNES for high dimension (minimizes).

The search distribution is ``N(mean, diag(sigma)^2)`` with one step size per variable; a sample,
the update and the memory are all linear in the dimension, so tens of thousands of variables are
fine. With utilities ``u_k`` from the ranks and ``s_k = (x_k - mean) / sigma`` (Wierstra et al. 2014,
Algorithm 6)::

    mean  += lr_mean * sigma * sum_k u_k s_k
    sigma *= exp(lr_sigma / 2 * sum_k u_k (s_k^2 - 1))

Same functions and contracts as the XNES core (``xnes.py``): ``init``, ``ask``, ``tell``, ``restart``.

Examples
--------
>>> import numpy as np
>>> from optimkit.algorithms.nes import snes
>>> params = snes.Params(dimension=20, sigma=1.0)
>>> state = snes.init(params)
>>> rng = np.random.default_rng(0)
>>> for _ in range(300):
...     x = snes.ask(params, state, rng.standard_normal((state.popsize, 20)))
...     state = snes.tell(params, state, x, np.sum((x - 1.0) ** 2, axis=1))
>>> bool(np.abs(state.mean - 1.0).max() < 1e-3)
True

References
----------
Schaul, Glasmachers, Schmidhuber (2011). High dimensions and heavy tails for natural evolution
strategies. GECCO.
Wierstra, Schaul, Glasmachers, Sun, Peters, Schmidhuber (2014). Natural evolution strategies. JMLR 15.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike

from . import common
from .common import Matrix, Vector

__all__ = ["Params", "State", "init", "ask", "tell", "restart"]


@dataclass(frozen=True)
class Params(common.Params):
    """Constants of an SNES run: the shared options (:class:`common.Params`).

    Parameters
    ----------
    dimension, popsize, sigma, lr_mean, restarts, restart_strategy, scales
        As in :class:`optimkit.algorithms.nes.common.Params`; variable ``i`` starts with the step
        ``sigma * scales[i]``.
    lr_sigma : float > 0, optional
        Learning rate of the step sizes; default ``(3 + ln d) / (5 sqrt(d))``.
    """

    @property
    def eta_sigma(self) -> float:
        """Learning rate of the step sizes."""
        d = self.dimension
        return float(self.lr_sigma) if self.lr_sigma is not None else (3 + math.log(d)) / (5 * math.sqrt(d))


@dataclass
class State:
    """The distribution ``N(mean, diag(sigma)^2)`` and the run's bookkeeping (as in ``xnes.State``)."""

    mean: Vector
    sigma: Vector
    popsize: int
    generation: int = 0
    num_restarts: int = 0
    best_history: tuple[float, ...] = ()
    stop: str | None = None
    evaluations: int = 0
    median_history: tuple[float, ...] = ()
    runs: common.Runs = field(default_factory=common.Runs)


def _start(params: Params, mean: ArrayLike | None, popsize: int, num_restarts: int, runs: common.Runs) -> State:
    """A fresh run: ``N(mean, (sigma0 diag(scales))^2)``."""
    sigma = common.initial_scales(params) * (float(params.sigma) * runs.sigma_factor)
    return State(mean=common.check_mean(mean, params.dimension), sigma=sigma, popsize=popsize,
                 num_restarts=num_restarts, runs=runs)


def init(params: Params, mean: ArrayLike | None = None) -> State:
    """The initial state: ``N(mean, sigma^2 diag(scales)^2)`` (``mean`` defaults to zeros)."""
    return _start(params, mean, params.initial_popsize, 0, common.Runs())


def ask(params: Params, state: State, z: ArrayLike) -> Matrix:
    """Map standard normal draws ``z`` (one row per sample) to points ``mean + sigma * z``.

    ``params`` is not read (the distribution is all in ``state``); it is there for the shared signature.
    """
    x: Matrix = state.mean + state.sigma * np.asarray(z, dtype=np.float64)
    return x


def tell(params: Params, state: State, x: ArrayLike, losses: ArrayLike, foreign: ArrayLike | None = None,
         z: ArrayLike | None = None) -> State:
    """One natural-gradient update from the points ``x`` (rows) and their ``losses`` (minimized).

    Same contract as the XNES ``tell``: >= 2 points, foreign rows clipped, ``z`` (the draws that made
    ``x``) skips the whitening, NaN counts as worst, the state never holds non-finite numbers.
    """
    xs, y, history, medians = common.open_tell("SNES", state, x, losses)
    d = xs.shape[1]
    if z is not None and foreign is None:
        s = np.asarray(z, dtype=np.float64)
    else:
        guarded = common.guard_steps((xs - state.mean) / state.sigma, foreign)
        if guarded is None:
            return replace(state, best_history=history, median_history=medians, stop="numerical")
        s = guarded
    u = common.rank_utilities(y, cleaned=True)
    mean = state.mean + (u @ s) * (params.eta_mean * state.sigma)
    g_sigma = u @ (s * s)
    g_sigma -= float(u.sum())
    g_sigma *= params.eta_sigma / 2
    np.minimum(g_sigma, 700.0, out=g_sigma)
    sigma = state.sigma * np.exp(g_sigma)
    high, low = float(sigma.max()), float(sigma.min())
    if not (math.isfinite(float(mean.sum())) and 0 < low and high < math.inf):
        return replace(state, best_history=history, median_history=medians, stop="numerical")
    # the axes are the coordinates: one test covers Hansen's "no effect axis" and "no effect coordinate"
    no_effect = "no_effect_coord" if np.any(mean + 0.1 * sigma == mean) else None
    sigma0 = params.sigma * state.runs.sigma_factor * float(common.initial_scales(params).max())
    reason = common.stop_reason(y, state, history, medians, dimension=d, max_std=high,
                                condition=(high / low) ** 2, sigma0=sigma0, no_effect=no_effect,
                                budget=common.run_budget(state.runs), tol_fun_floor=params.tol_fun_floor)
    return State(mean=mean, sigma=sigma, popsize=state.popsize, generation=state.generation + 1,
                 num_restarts=state.num_restarts, best_history=history, stop=reason,
                 evaluations=state.evaluations + len(y), median_history=medians, runs=state.runs)


def restart(params: Params, state: State, mean: ArrayLike, draws: ArrayLike | None = None) -> State:
    """A new run at ``mean`` after ``state``'s, IPOP or BIPOP: as the XNES ``restart``."""
    popsize, runs = common.next_run(params, state, draws)
    return _start(params, mean, popsize, state.num_restarts + 1, runs)
