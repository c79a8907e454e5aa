"""ANSR's pure core: options, state and the epoch's update rules (minimizes).

A population of ``popsize`` particles lives in the unit box ``[0, 1]^d``. Each epoch every particle
is evaluated, each keeps its own best (:func:`update_bests`), the losers of pairs whose best losses
have converged are restarted at random, never the global best (:func:`find_losers`,
:func:`restart`), and every coordinate moves to ``guide + |guide - pos| * N(0, sigma)`` clipped to
the box (:func:`perturb`), ``guide`` being the particle's own best with probability ``p_self``, else
the best of a uniformly chosen *other* particle (:func:`guides_from_uniform`).

The functions are pure (a new :class:`State` each time, inputs untouched) and take their random
draws as arguments: :func:`tell` calls ``draw(num_restarts, dim)`` for the epoch's
``(fresh, noise, guide)``. They are written once over an array namespace
(:mod:`optimkit.algorithms.ansr.xp`): the numpy ask/tell optimizer, :mod:`optimkit.compat.ansr`
and the torch front end :mod:`optimkit.torch` all run them. Every function takes
``(params, state, ...)`` in that order.

References: Wu (2014), Across neighbourhood search for numerical optimization, arXiv:1401.3376;
restarts as in https://github.com/fxeqxmulfx/ansr.

Examples
--------
>>> import numpy as np
>>> from optimkit.algorithms.ansr import core
>>> params = core.Params(popsize=3, sigma=0.5, p_self=1.0, restart_tolerance=0.0)
>>> state = core.init(params, np.array([[0.2], [0.6], [0.5]]))
>>> state = core.tell(params, state, np.array([3.0, 1.0, 2.0]),
...                   lambda k, d: (np.empty((2 * k, d)), np.zeros((3, d)), None))
>>> state.best_index, state.num_epochs, state.pos[:, 0].tolist()
(1, 1, [0.2, 0.6, 0.5])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ...validation import check_int, check_real, resolve_alias
from .xp import Array, namespace

__all__ = ["Params", "State", "Draw", "init", "ask", "tell", "evolve", "update_bests", "find_losers",
           "converged_losers", "restart", "perturb", "inject", "guides_from_uniform", "P_SELF_DEFAULT",
           "resolve_p_self"]

Draw = Callable[[int, int], "tuple[Array, Any, Any]"]
"""``draw(num_restarts, dim) -> (fresh, noise, guide)``, the random draws of one epoch (see :func:`evolve`)."""


@dataclass(frozen=True)
class Params:
    """ANSR options, validated at construction (each error names the option and its range).

    Parameters
    ----------
    popsize : int
        Number of particles (>= 2), the evaluations of one epoch.
    sigma : float
        Step scale (> 0), relative to the guide-to-particle distance.
    p_self : float
        Probability in [0, 1] that a coordinate follows the particle's own best.
    restart_tolerance : float
        Relative difference (>= 0) of two best losses under which the worse particle restarts
        (0: never).
    bound : float
        Half-width (> 0, finite) of the box where the space has no bounds of its own.
    """

    popsize: int = 64
    sigma: float = 0.05
    p_self: float = 0.95
    restart_tolerance: float = 1e-8
    bound: float = 10.0

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "popsize", check_int("popsize", self.popsize, 2))
        set_(self, "sigma", check_real("sigma", self.sigma, 0.0, low_open=True))
        set_(self, "p_self", check_real("p_self", self.p_self, 0.0, 1.0))
        set_(self, "restart_tolerance", check_real("restart_tolerance", self.restart_tolerance, 0.0))
        set_(self, "bound", check_real("bound", self.bound, 0.0, low_open=True))


class _Default(float):
    """A float default that a front end can tell from the same value passed explicitly."""

    __slots__ = ()


P_SELF_DEFAULT: float = _Default(0.95)
"""The default of ``p_self`` in the front ends (reads as ``0.95``); see :func:`resolve_p_self`."""


def resolve_p_self(p_self: float, self_instead_neighbour: float | None) -> float:
    """``p_self`` from a front end that also accepts the original's name ``self_instead_neighbour``.

    ``p_self`` left at :data:`P_SELF_DEFAULT` counts as not given; both given with different values
    raise an :class:`~optimkit.errors.OptimkitValueError` naming both.
    """
    given = None if p_self is P_SELF_DEFAULT else p_self
    return resolve_alias("p_self", given, "self_instead_neighbour", self_instead_neighbour, 0.95)  # type: ignore[no-any-return]


@dataclass
class State:
    """Population in the unit box: positions to evaluate, per-particle bests, counters.

    The arrays are numpy arrays or torch tensors (all of one library): ``pos`` and ``best_pos``
    (popsize, d), ``best_loss`` (popsize,), ``inf`` where a particle has no best yet.
    """

    pos: Array
    best_pos: Array
    best_loss: Array
    best_index: int = 0  # argmin of best_loss, the global best (never restarted)
    num_epochs: int = 0
    num_restarts: int = 0


def init(params: Params, uniforms: Array, x0: Array | None = None) -> State:
    """First state from ``uniforms`` (popsize, d) in [0, 1), copied; ``x0`` (unit box) seeds particle 0."""
    xp = namespace(uniforms)
    pos = xp.float_copy(uniforms)
    if x0 is not None:
        pos[0] = xp.clip01_(xp.copy(xp.asarray(x0, pos)))
    return State(pos, xp.zeros_like(pos), xp.full(params.popsize, math.inf, pos))


def ask(params: Params, state: State) -> Array:
    """Positions (unit box) the current epoch must evaluate, one row per particle."""
    return state.pos


def tell(params: Params, state: State, losses: Array, draw: Draw) -> State:
    """One epoch from the losses of :func:`ask`'s rows: bests, restarts, perturbation."""
    return evolve(params, update_bests(params, state, losses), draw)


def evolve(params: Params, state: State, draw: Draw) -> State:
    """Restarts and perturbation after :func:`update_bests`.

    ``draw(k, d)`` gives the epoch's draws for ``k`` restarts: ``fresh`` (2k, d) uniforms for
    :func:`restart`, and ``noise`` and ``guide`` for :func:`perturb`.
    """
    losers = find_losers(params, state)
    fresh, noise, guide = draw(len(losers), state.pos.shape[1])
    return perturb(params, restart(params, state, losers, fresh), noise, guide)


def update_bests(params: Params, state: State, losses: Array) -> State:
    """Keep each particle's best (NaN counts as +inf) and the index of the global best."""
    xp = namespace(state.pos)
    losses = xp.asarray(losses, state.best_loss)
    improved = losses < state.best_loss  # NaN never improves: it counts as +inf
    best_loss, best_pos = xp.where_rows(improved, (losses, state.best_loss), (state.pos, state.best_pos))
    return State(state.pos, best_pos, best_loss, xp.argmin(best_loss), state.num_epochs, state.num_restarts)


def find_losers(params: Params, state: State) -> Array:
    """Sorted indices of the particles to restart (see :func:`converged_losers`)."""
    return converged_losers(state.best_loss, state.best_index, params.restart_tolerance)


def converged_losers(best_loss: Array, best_index: int, restart_tolerance: float) -> Array:
    """Sorted indices of the particles that lose a converged pair.

    A pair converged when ``(hi - lo) / |hi| < restart_tolerance`` (``hi >= lo`` its best losses,
    ``hi`` finite and non-zero); its loser has the larger loss (on a tie the lower index), and the
    global best never loses. Same result as checking all pairs: in the order "global best first,
    then loss ascending, ties by index descending" each particle beats all later ones, and its
    predecessor is the closest of them, so comparing neighbours in that order decides all, O(p log p).
    """
    xp = namespace(best_loss)
    p = best_loss.shape[0]
    key = xp.flip(best_loss)  # reversed: a stable sort then ranks ties by index descending
    key[p - 1 - best_index] = -math.inf
    order = (p - 1) - xp.argsort_stable(key)
    ranked = best_loss[order]
    hi, lo = ranked[1:], ranked[:-1]
    # (hi - lo) < tol |hi| is false for hi = 0, hi or lo infinite (NaN), and tol = 0: no other test needed
    if xp.may_overflow(ranked, restart_tolerance):
        with xp.quiet_overflow():
            converged = hi - lo < restart_tolerance * abs(hi)
    else:
        converged = hi - lo < restart_tolerance * abs(hi)
    pairs = xp.flatnonzero(converged)
    return xp.sort(order[pairs + 1]) if pairs.shape[0] else pairs


def restart(params: Params, state: State, losers: Array, fresh: Array) -> State:
    """Restart ``losers``: ``fresh`` (2k, d) uniforms, the first k their bests, the rest positions."""
    if (k := len(losers)) == 0:
        return state
    xp = namespace(state.pos)
    best_pos, pos, best_loss = xp.copy(state.best_pos), xp.copy(state.pos), xp.copy(state.best_loss)
    best_pos[losers], pos[losers], best_loss[losers] = fresh[:k], fresh[k:], math.inf
    return replace(state, pos=pos, best_pos=best_pos, best_loss=best_loss, num_restarts=state.num_restarts + k)


def guides_from_uniform(choice: Array, p_self: float) -> Array:
    """Guide of each coordinate from one uniform ``u``: own best if ``u <= p_self``, else
    ``(u - p_self) / (1 - p_self)``, again uniform, picks one of the ``p - 1`` other particles."""
    xp = namespace(choice)
    p = choice.shape[0]
    rows = xp.arange(p, choice)[:, None]
    other = xp.clip_(xp.to_index((choice - p_self) * ((p - 1) / (1.0 - p_self))), 0, p - 2)
    other += other >= rows  # skip the particle itself
    return xp.where(choice <= p_self, rows, other) if p_self > 0.0 else other


def perturb(params: Params, state: State, noise: Any, guide: Any) -> State:
    """Move each coordinate to ``clip(g + |g - pos| * noise, 0, 1)``, ``g`` its guide's best position.

    ``noise``: N(0, sigma) draws, (p, d), or ``noise(n)`` giving n draws for the coordinates with
    ``|g - pos| > 0`` in C order (the others land on ``g`` whatever the draw). ``guide``: None (own
    best), (p, d) particle indices (see :func:`guides_from_uniform`), or ``(flat, index)``: own
    best, but at the flat indices ``flat`` the bests' flat entries ``index``.
    """
    xp = namespace(state.pos)
    best = state.best_pos
    if guide is None:
        g = best
    elif isinstance(guide, tuple):
        g, (flat, index) = xp.copy(best), guide
        g.reshape(-1)[flat] = best.reshape(-1)[index]
    else:
        g = xp.take_rows(best, guide)
    if callable(noise):
        g_flat, pos_flat = g.reshape(-1), state.pos.reshape(-1)
        moving = xp.flatnonzero(g_flat != pos_flat)  # bool: 4x faster than on floats
        n = moving.shape[0]
        if 2 * n <= g_flat.shape[0]:  # few can move: touch only those (g is in the box already)
            new = xp.copy(g) if g is best else g
            gm = g_flat[moving]
            new.reshape(-1)[moving] = _move(xp, gm, pos_flat[moving], noise(n))
            return State(new, best, state.best_loss, state.best_index, state.num_epochs + 1, state.num_restarts)
        noise = noise(g.shape)
    new = _move(xp, g, state.pos, noise)
    return State(new, best, state.best_loss, state.best_index, state.num_epochs + 1, state.num_restarts)


def _move(xp: Any, g: Array, pos: Array, noise: Array) -> Array:
    """``clip(g + |g - pos| * noise, 0, 1)`` in one new array."""
    step = g - pos
    xp.abs_(step)
    step *= noise
    step += g
    return xp.clip01_(step)


def inject(params: Params, state: State, point: Array, loss: float) -> State:
    """Tell-not-asked: ``point`` (unit box) replaces the worst particle's best if ``loss`` beats it."""
    xp = namespace(state.pos)
    worst = xp.argmax(state.best_loss)
    if not loss < state.best_loss[worst]:
        return state
    best_pos, best_loss = xp.copy(state.best_pos), xp.copy(state.best_loss)
    best_pos[worst], best_loss[worst] = xp.clip01_(xp.copy(xp.asarray(point, best_pos))), loss
    return replace(state, best_pos=best_pos, best_loss=best_loss, best_index=xp.argmin(best_loss))
