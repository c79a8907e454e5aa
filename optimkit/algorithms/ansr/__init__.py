"""ANSR, Across Neighbourhood Search with Restarts (minimizes).

- :mod:`.core`: frozen ``Params``, ``State`` and the pure ``init/ask/tell`` with the epoch's named
  steps, written once over an array namespace (:mod:`.xp`) for numpy arrays and torch tensors;
- :mod:`.draws`: the numpy random draws of an epoch (optimkit's fast ones, the original's sequence);
- :mod:`.optimizer`: the ask/tell ``ANSR`` optimizer, ``ConfANSR`` and the registered presets.

:mod:`optimkit.compat.ansr` and :mod:`optimkit.torch` are thin front ends over the same core.
"""

from __future__ import annotations

from .core import (
    P_SELF_DEFAULT,
    Draw,
    Params,
    State,
    ask,
    converged_losers,
    evolve,
    find_losers,
    guides_from_uniform,
    init,
    inject,
    perturb,
    resolve_p_self,
    restart,
    tell,
    update_bests,
)
from .draws import as_generator, bernoulli_positions, draw_fast, draw_reference, drawer, neighbour_index
from .optimizer import ANSR, ConfANSR

__all__ = ["Params", "State", "Draw", "init", "ask", "tell", "evolve", "update_bests", "find_losers",
           "converged_losers", "restart", "perturb", "inject", "guides_from_uniform", "P_SELF_DEFAULT",
           "resolve_p_self", "bernoulli_positions", "neighbour_index", "draw_fast", "draw_reference", "drawer",
           "as_generator", "ANSR", "ConfANSR"]
