"""Former home of ANSR, kept as an import path: the code lives in :mod:`optimkit.algorithms.ansr`.

Everything this module exported is still here. ``Params``, ``State``, ``init``, the draws, ``ANSR``
and ``ConfANSR`` are the package's own objects. The epoch's steps keep this module's former
argument order, ``(state, ...)`` with ``params`` after the state where they took it, and call the
core, whose functions all take ``(params, state, ...)``: new code should use the core's.
"""

from __future__ import annotations

from typing import Any

from ..algorithms.ansr import core as _core
from ..algorithms.ansr.core import Params, State, guides_from_uniform, init
from ..algorithms.ansr.draws import (
    as_generator,
    bernoulli_positions,
    draw_fast,
    draw_reference,
    drawer,
    neighbour_index,
)
from ..algorithms.ansr.optimizer import ANSR, ConfANSR
from ..algorithms.ansr.xp import Array

__all__ = ["Params", "State", "init", "ask", "tell", "evolve", "update_bests", "find_losers", "restart",
           "perturb", "inject", "ANSR", "ConfANSR",
           "guides_from_uniform", "bernoulli_positions", "neighbour_index", "draw_fast", "draw_reference",
           "as_generator"]

_ANY = Params()  # the steps below never read params: any valid one will do


def ask(state: State) -> Array:
    """:func:`optimkit.algorithms.ansr.core.ask` in the former argument order."""
    return _core.ask(_ANY, state)


def tell(state: State, params: Params, losses: Array, rng: Any) -> State:
    """:func:`optimkit.algorithms.ansr.core.tell` with :func:`draw_fast` on ``rng``."""
    return _core.tell(params, state, losses, drawer(as_generator(rng), params, draw_fast))


def evolve(state: State, params: Params, rng: Any, draw: Any = draw_fast) -> State:
    """:func:`optimkit.algorithms.ansr.core.evolve` with ``draw(gen, params, k, d)`` on ``rng``."""
    return _core.evolve(params, state, drawer(as_generator(rng), params, draw))


def update_bests(state: State, losses: Array) -> State:
    """:func:`optimkit.algorithms.ansr.core.update_bests` in the former argument order."""
    return _core.update_bests(_ANY, state, losses)


def find_losers(best_loss: Array, best_index: int, restart_tolerance: float) -> Array:
    """:func:`optimkit.algorithms.ansr.core.converged_losers` (its former name)."""
    return _core.converged_losers(best_loss, best_index, restart_tolerance)


def restart(state: State, losers: Array, fresh: Array) -> State:
    """:func:`optimkit.algorithms.ansr.core.restart` in the former argument order."""
    return _core.restart(_ANY, state, losers, fresh)


def perturb(state: State, noise: Any, guide: Any) -> State:
    """:func:`optimkit.algorithms.ansr.core.perturb` in the former argument order."""
    return _core.perturb(_ANY, state, noise, guide)


def inject(state: State, point: Array, loss: float) -> State:
    """:func:`optimkit.algorithms.ansr.core.inject` in the former argument order."""
    return _core.inject(_ANY, state, point, loss)
