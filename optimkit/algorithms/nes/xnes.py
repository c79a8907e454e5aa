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
the standard normal draws), ``tell(params, state, x, losses)``, ``restart(params, state, mean, draws)``
(IPOP or BIPOP, ``draws``: BIPOP's uniforms); each returns a new value and never modifies its arguments.

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
from dataclasses import dataclass, field, replace

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
    dimension, popsize, sigma, lr_mean, restarts, restart_strategy, scales
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
    ``generation`` and ``evaluations`` count the current run's updates and told points; ``runs``
    remembers the earlier runs (their regimes, evaluations and stop reasons, ``runs.stops``).
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
    evaluations: int = 0
    median_history: tuple[float, ...] = ()
    runs: common.Runs = field(default_factory=common.Runs)


def _start(params: Params, mean: ArrayLike | None, popsize: int, num_restarts: int, runs: common.Runs) -> State:
    """A fresh run: ``N(mean, (sigma0 diag(scales))^2)`` as ``sigma B`` with ``det(B) = 1``."""
    d = params.dimension
    scales = common.initial_scales(params)
    size = float(np.exp(np.mean(np.log(scales))))  # the geometric mean: det(B) = 1
    return State(mean=common.check_mean(mean, d), sigma=float(params.sigma) * runs.sigma_factor * size,
                 b=np.diag(scales / size), b_inv=np.diag(size / scales), popsize=popsize,
                 num_restarts=num_restarts, runs=runs)


def init(params: Params, mean: ArrayLike | None = None) -> State:
    """The initial state: ``N(mean, sigma^2 diag(scales)^2)`` (``mean`` defaults to zeros)."""
    return _start(params, mean, params.initial_popsize, 0, common.Runs())


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
    xs, y, history, medians = common.open_tell("XNES", state, x, losses)
    d = xs.shape[1]
    if z is not None and foreign is None:
        s = np.asarray(z, dtype=np.float64)
    else:
        guarded = common.guard_steps(((xs - state.mean) @ state.b_inv.T) * (1.0 / state.sigma), foreign)
        if guarded is None:
            return replace(state, best_history=history, median_history=medians, stop="numerical")
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
        return replace(state, best_history=history, median_history=medians, stop="numerical")
    b, b_inv = state.b @ pair[0], pair[1] @ state.b_inv
    norm_b, norm_inv = float(np.vdot(b, b)), float(np.vdot(b_inv, b_inv))
    if not math.isfinite(norm_b * norm_inv + float(mean.sum())):
        return replace(state, best_history=history, median_history=medians, stop="numerical")
    # standard deviations sigma ||row_i(B)||; ||B||_F^2 ||B^-1||_F^2 / d ~ cond(B B^T)
    std = np.sqrt(np.einsum("ij,ij->i", b, b)) * sigma
    axis = b[:, state.generation % d] * (0.1 * sigma)  # one principal direction per generation, in turn
    no_effect = ("no_effect_axis" if np.array_equal(mean + axis, mean) else
                 "no_effect_coord" if np.any(mean + 0.2 * std == mean) else None)
    sigma0 = params.sigma * state.runs.sigma_factor * float(common.initial_scales(params).max())
    reason = common.stop_reason(y, state, history, medians, dimension=d, max_std=float(std.max()),
                                condition=norm_b * norm_inv / d, sigma0=sigma0, no_effect=no_effect,
                                budget=common.run_budget(state.runs), tol_fun_floor=params.tol_fun_floor)
    return State(mean=mean, sigma=sigma, b=b, b_inv=b_inv, popsize=state.popsize, generation=state.generation + 1,
                 num_restarts=state.num_restarts, best_history=history, stop=reason,
                 evaluations=state.evaluations + len(y), median_history=medians, runs=state.runs)


def restart(params: Params, state: State, mean: ArrayLike, draws: ArrayLike | None = None) -> State:
    """A new run at ``mean`` after ``state``'s (see :func:`common.next_run`): IPOP doubles the population
    and starts from ``sigma``; BIPOP alternates that with small runs (``draws``: two uniforms in [0, 1)
    giving their population and their smaller step size)."""
    popsize, runs = common.next_run(params, state, draws)
    return _start(params, mean, popsize, state.num_restarts + 1, runs)
