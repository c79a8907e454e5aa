"""XNES: exponential natural evolution strategies with a full covariance (minimizes).

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

References
----------
Glasmachers, Schaul, Sun, Wierstra, Schmidhuber (2010). Exponential natural evolution strategies. GECCO.
Wierstra, Schaul, Glasmachers, Sun, Peters, Schmidhuber (2014). Natural evolution strategies. JMLR 15.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..core import ConfiguredOptimizer, registry
from ..errors import InefficientSettingsWarning, OptimkitValueError
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

__all__ = ["XNES", "ConfXNES", "XNESParams", "XNESState", "xnes_init", "xnes_ask", "xnes_tell", "xnes_restart"]

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]


@dataclass(frozen=True)
class XNESParams:
    """Constants of an XNES run; ``None`` options take the defaults of Wierstra et al. (2014), Table 1.

    Parameters
    ----------
    dimension: number of variables (>= 1).
    popsize: samples per generation, >= 2; None gives ``4 + floor(3 ln d)``.
    sigma: initial step size (> 0); the initial distribution is ``N(mean, sigma^2 I)``.
    lr_mean: learning rate of the mean (default 1).
    lr_sigma, lr_b: learning rates of the step size and of the shape ``B``
        (default ``3 (3 + ln d) / (5 d sqrt(d))``).
    restarts: how many IPOP restarts (population doubled each time) are allowed when the
        distribution collapses; ``math.inf`` for no limit.
    """

    dimension: int
    popsize: int | None = None
    sigma: float = 1.0
    lr_mean: float | None = None
    lr_sigma: float | None = None
    lr_b: float | None = None
    restarts: int | float = 0

    def __post_init__(self) -> None:
        if not isinstance(self.dimension, (int, np.integer)) or isinstance(self.dimension, bool) \
                or self.dimension < 1:
            raise OptimkitValueError(f"dimension must be an integer >= 1, got {self.dimension!r}")
        check_options(popsize=self.popsize, sigma=self.sigma, lr_mean=self.lr_mean,
                      lr_sigma=self.lr_sigma, lr_b=self.lr_b, restarts=self.restarts)

    @property
    def initial_popsize(self) -> int:
        return int(self.popsize) if self.popsize is not None else default_popsize(self.dimension)

    @property
    def eta_mean(self) -> float:
        return float(self.lr_mean) if self.lr_mean is not None else 1.0

    @property
    def eta_sigma(self) -> float:
        d = self.dimension
        return float(self.lr_sigma) if self.lr_sigma is not None else 0.6 * (3 + math.log(d)) / (d * math.sqrt(d))

    @property
    def eta_b(self) -> float:
        d = self.dimension
        return float(self.lr_b) if self.lr_b is not None else 0.6 * (3 + math.log(d)) / (d * math.sqrt(d))


@dataclass
class XNESState:
    """The search distribution ``N(mean, sigma^2 B B^T)`` and the run's bookkeeping.

    ``stop`` names the criterion that fired at the last update (see ``_nes_common.stop_reason``),
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


def xnes_init(params: XNESParams, mean: ArrayLike | None = None) -> XNESState:
    """The initial state: ``N(mean, sigma^2 I)`` (``mean`` defaults to zeros)."""
    d = params.dimension
    return XNESState(mean=check_mean(mean, d), sigma=float(params.sigma), b=np.eye(d), b_inv=np.eye(d),
                     popsize=params.initial_popsize)


def xnes_ask(state: XNESState, z: ArrayLike) -> Matrix:
    """Map standard normal draws ``z`` (one row per sample) to points ``mean + sigma * B z``."""
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


def xnes_tell(params: XNESParams, state: XNESState, x: ArrayLike, losses: ArrayLike,
              foreign: ArrayLike | None = None, z: ArrayLike | None = None) -> XNESState:
    """One natural-gradient update from the points ``x`` (rows) and their ``losses`` (minimized).

    Any number of points >= 2 may be given (normally ``state.popsize``). Rows flagged in
    ``foreign`` were not drawn from this distribution: their whitened steps are clipped to length
    ``sqrt(d) + 2``. ``z``, when given, are the draws that made ``x`` with :func:`xnes_ask` from
    this state (it skips the whitening ``B^-1 (x - mean) / sigma``). NaN losses count as worst.
    The returned state never holds non-finite numbers: an update that would is dropped and
    ``stop`` says ``"numerical"``.
    """
    xs = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = clean_losses(losses)
    n, d = xs.shape
    if y.size != n or n < 2:
        raise OptimkitValueError(f"xnes_tell needs >= 2 points and one loss per point, got {n} points "
                                 f"and {y.size} losses")
    history = push_history(state.best_history, y, d, state.popsize)
    if z is not None and foreign is None:
        s = np.asarray(z, dtype=np.float64)
    else:
        s = ((xs - state.mean) @ state.b_inv.T) * (1.0 / state.sigma)
        if foreign is not None and np.any(foreign):
            mask = np.asarray(foreign, dtype=bool)
            s[mask] = clip_whitened(s[mask], injection_radius(d))
        if absurd(s):
            return replace(state, best_history=history, stop="numerical")
    u = rank_utilities(y, cleaned=True)
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
    reason = stop_reason(y, history, dimension=d, popsize=state.popsize, max_std=sigma * math.sqrt(norm_b),
                         condition=norm_b * norm_inv / d, sigma0=params.sigma)
    return XNESState(mean=mean, sigma=sigma, b=b, b_inv=b_inv, popsize=state.popsize,
                     generation=state.generation + 1, num_restarts=state.num_restarts,
                     best_history=history, stop=reason)


def xnes_restart(params: XNESParams, state: XNESState, mean: ArrayLike) -> XNESState:
    """IPOP restart: ``N(mean, sigma0^2 I)`` with the population size doubled (at most ``MAX_GROWTH`` x)."""
    d = params.dimension
    return XNESState(mean=check_mean(mean, d), sigma=float(params.sigma), b=np.eye(d), b_inv=np.eye(d),
                     popsize=min(2 * state.popsize, MAX_GROWTH * params.initial_popsize),
                     num_restarts=state.num_restarts + 1)



@registry.register
class XNES(NESOptimizer):
    """Exponential natural evolution strategies with a full covariance (Glasmachers et al. 2010). Minimizes.

    Works in the parametrization's standardized space, so bounded arrays, ``Log`` scalars and
    ``Choice`` logits all work. Each generation of ``popsize`` asks is drawn from
    ``N(mean, sigma^2 B B^T)``; the update runs once ``popsize`` losses are told, in any order.
    Tell-not-asked candidates and suggestions are used as extra points of the generation (their
    whitened steps clipped to ``sqrt(d) + 2``); an abandoned ask is re-issued. Cost per generation:
    ``O(popsize d^2 + d^3)``; for more than a few hundred variables prefer :class:`SNES`.

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
    """

    _core = {"params": XNESParams, "init": xnes_init, "ask": xnes_ask, "tell": xnes_tell, "restart": xnes_restart}

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


class ConfXNES(ConfiguredOptimizer):
    """A configured :class:`XNES` (options as there, validated now), e.g. ``ConfXNES(restarts=5)(parametrization=10)``."""

    def __init__(self, *, popsize: int | None = None, sigma: float = 1.0, mean: Any = None,
                 lr_mean: float | None = None, lr_sigma: float | None = None, lr_b: float | None = None,
                 restarts: int | float = 0, seed: Any = None) -> None:
        check_family_options(mean, popsize=popsize, sigma=sigma, lr_mean=lr_mean, lr_sigma=lr_sigma, lr_b=lr_b,
                             restarts=restarts)
        super().__init__(XNES, {"popsize": popsize, "sigma": sigma, "mean": mean, "lr_mean": lr_mean,
                                "lr_sigma": lr_sigma, "lr_b": lr_b, "restarts": restarts, "seed": seed})
