"""The XNES core: exponential natural evolution strategies with a full covariance (minimizes).

The search distribution is ``N(mean, A A^T)`` with ``A = sigma * B`` and ``det(B) = 1``. Each
generation draws ``x_k = mean + sigma * B z_k``, ranks the losses into utilities ``u_k`` and follows
the natural gradient (Wierstra et al. 2014, Algorithm 5)::

    s_k = B^-1 (x_k - mean) / sigma            G_delta = sum_k u_k s_k
    G_M = sum_k u_k (s_k s_k^T - I)            G_sigma = tr(G_M) / d,   G_B = G_M - G_sigma I
    mean += lr_mean * sigma * B G_delta
    sigma *= exp(lr_sigma / 2 * G_sigma)
    B = B expm(lr_b / 2 * G_B),   B^-1 = expm(-lr_b / 2 * G_B) B^-1

``G_B`` is symmetric, so one eigendecomposition gives both ``expm`` and ``expm(-.)`` exactly (the
same matrix exponential as ``scipy.linalg.expm``, at half the cost; a closed form for d = 2); ``B^-1``
is carried along, never recomputed. Sampling and the update are vectorized over the population.

Pure functions with the house signature: ``init(params, mean)``, ``ask(params, state, z)`` (``z``:
the standard normal draws), ``tell(params, state, x, losses)``, ``restart(params, state, mean)``;
each returns a new value and never modifies its arguments.

Examples
--------
>>> import numpy as np
>>> from optimkit.algorithms.nes import xnes
>>> params = xnes.Params(dimension=3, popsize=8, sigma=0.5)
>>> state = xnes.init(params, mean=[1.0, 1.0, 1.0])
>>> rng = np.random.default_rng(0)
>>> for _ in range(200):
...     x = xnes.ask(params, state, rng.standard_normal((state.popsize, 3)))
...     state = xnes.tell(params, state, x, np.sum(x ** 2, axis=1))
>>> bool(np.abs(state.mean).max() < 1e-6)
True

References
----------
Glasmachers, Schaul, Sun, Wierstra, Schmidhuber (2010). Exponential natural evolution strategies. GECCO.
Wierstra, Schaul, Glasmachers, Sun, Peters, Schmidhuber (2014). Natural evolution strategies. JMLR 15.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from ...validation import check_real
from . import common
from .common import Matrix, Vector

__all__ = ["Params", "State", "init", "ask", "tell", "restart"]


@dataclass(frozen=True)
class Params(common.Params):
    """Constants of an XNES run: the shared options (:class:`common.Params`) and ``lr_b``.

    Parameters
    ----------
    dimension, popsize, sigma, lr_mean, restarts
        As in :class:`optimkit.algorithms.nes.common.Params`.
    lr_sigma, lr_b : float > 0, optional
        Learning rates of the step size and of the shape ``B``; default ``3 (3 + ln d) / (5 d sqrt(d))``.
    """

    lr_b: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.lr_b is not None:
            check_real("lr_b", self.lr_b, 0.0, low_open=True)

    @property
    def eta_sigma(self) -> float:
        """Learning rate of the step size."""
        d = self.dimension
        return float(self.lr_sigma) if self.lr_sigma is not None else 0.6 * (3 + math.log(d)) / (d * math.sqrt(d))

    @property
    def eta_b(self) -> float:
        """Learning rate of the shape ``B``."""
        d = self.dimension
        return float(self.lr_b) if self.lr_b is not None else 0.6 * (3 + math.log(d)) / (d * math.sqrt(d))


@dataclass
class State:
    """The search distribution ``N(mean, sigma^2 B B^T)`` and the run's bookkeeping.

    ``stop`` names the criterion that fired at the last update (see :func:`common.stop_reason`),
    ``"numerical"`` when the update would have produced non-finite numbers (then it was not applied).
    """

    mean: Vector
    sigma: float
    b: Matrix
    b_inv: Matrix
    popsize: int
    generation: int = 0
    num_restarts: int = 0
    best_history: tuple[float, ...] = ()
    stop: str | None = None


def init(params: Params, mean: ArrayLike | None = None) -> State:
    """The initial state: ``N(mean, sigma^2 I)`` (``mean`` defaults to zeros)."""
    d = params.dimension
    return State(mean=common.check_mean(mean, d), sigma=float(params.sigma), b=np.eye(d), b_inv=np.eye(d),
                 popsize=params.initial_popsize)


def ask(params: Params, state: State, z: ArrayLike) -> Matrix:
    """Map standard normal draws ``z`` (one row per sample) to points ``mean + sigma * B z``.

    ``params`` is not read (the distribution is all in ``state``); it is there for the signature
    every algorithm shares.
    """
    x: Matrix = state.mean + (np.asarray(z, dtype=np.float64) @ state.b.T) * state.sigma
    return x


def _sym_expm_pair(m: Matrix) -> tuple[Matrix, Matrix] | None:
    """``(expm(m), expm(-m))`` of a symmetric, traceless ``m`` through one eigendecomposition.

    For d = 2 the closed form is exact and cheaper: ``m = [[a, b], [b, -a]]`` has ``m^2 = r^2 I`` with
    ``r = hypot(a, b)``, so ``expm(+-m) = cosh(r) I +- sinh(r) / r m``. None when it would overflow.
    """
    if m.shape[0] == 2:
        a, b = 0.5 * float(m[0, 0] - m[1, 1]), 0.5 * float(m[0, 1] + m[1, 0])
        r = math.hypot(a, b)
        if not r < 700.0:
            return None
        c, k = math.cosh(r), (math.sinh(r) / r if r > 1e-150 else 1.0)
        ka, kb = k * a, k * b
        return np.array([[c + ka, kb], [kb, c - ka]]), np.array([[c - ka, -kb], [-kb, c + ka]])
    w, v = np.linalg.eigh(m)
    if not float(np.abs(w).max()) < 700.0:
        return None
    ew = np.exp(w)
    return (v * ew) @ v.T, (v / ew) @ v.T


def tell(params: Params, state: State, x: ArrayLike, losses: ArrayLike, foreign: ArrayLike | None = None,
         z: ArrayLike | None = None) -> State:
    """One natural-gradient update from the points ``x`` (rows) and their ``losses`` (minimized).

    Any number of points >= 2 may be given (normally ``state.popsize``). Rows flagged in
    ``foreign`` were not drawn from this distribution: their whitened steps are clipped to length
    ``sqrt(d) + 2``. ``z``, when given, are the draws that made ``x`` with :func:`ask` from this
    state (it skips the whitening ``B^-1 (x - mean) / sigma``). NaN losses count as worst.
    The returned state never holds non-finite numbers: an update that would is dropped and
    ``stop`` says ``"numerical"``.
    """
    xs, y, history = common.open_tell("XNES", state, x, losses)
    d = xs.shape[1]
    if z is not None and foreign is None:
        s = np.asarray(z, dtype=np.float64)
    else:
        guarded = common.guard_steps(((xs - state.mean) @ state.b_inv.T) * (1.0 / state.sigma), foreign)
        if guarded is None:
            return replace(state, best_history=history, stop="numerical")
        s = guarded
    u = common.rank_utilities(y, cleaned=True)
    su = s.T * u
    g_m = su @ s  # G_M = sum u (s s^T - I) = g_m - sum(u) I
    trace = float(g_m.trace()) / d
    g_sigma = trace - float(u.sum())
    g_m.flat[:: d + 1] -= trace  # now G_B = G_M - G_sigma I
    mean = state.mean + (state.b @ su.sum(axis=1)) * (params.eta_mean * state.sigma)
    sigma = state.sigma * math.exp(min(params.eta_sigma / 2 * g_sigma, 700.0))
    g_m *= params.eta_b / 2
    pair = _sym_expm_pair(g_m) if math.isfinite(float(g_m.sum())) and 0 < sigma < math.inf else None
    if pair is None:
        return replace(state, best_history=history, stop="numerical")
    b, b_inv = state.b @ pair[0], pair[1] @ state.b_inv
    norm_b, norm_inv = float(np.vdot(b, b)), float(np.vdot(b_inv, b_inv))
    if not math.isfinite(norm_b * norm_inv + float(mean.sum())):
        return replace(state, best_history=history, stop="numerical")
    # ||B||_F bounds the largest standard deviation / sigma; ||B||_F^2 ||B^-1||_F^2 / d ~ cond(B B^T)
    reason = common.stop_reason(y, history, dimension=d, popsize=state.popsize,
                                max_std=sigma * math.sqrt(norm_b), condition=norm_b * norm_inv / d,
                                sigma0=params.sigma)
    return State(mean=mean, sigma=sigma, b=b, b_inv=b_inv, popsize=state.popsize, generation=state.generation + 1,
                 num_restarts=state.num_restarts, best_history=history, stop=reason)


def restart(params: Params, state: State, mean: ArrayLike) -> State:
    """IPOP restart: ``N(mean, sigma0^2 I)`` with the population doubled (see :func:`common.restart_popsize`)."""
    d = params.dimension
    return State(mean=common.check_mean(mean, d), sigma=float(params.sigma), b=np.eye(d), b_inv=np.eye(d),
                 popsize=common.restart_popsize(params, state), num_restarts=state.num_restarts + 1)
