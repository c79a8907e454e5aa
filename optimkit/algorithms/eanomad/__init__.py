"""EA-NOMAD: a genetic algorithm whose individuals are refined by NOMAD local searches (minimizes).

- :mod:`.core`: the pure core: :class:`Params`, :class:`State`, :class:`Task`, ``init/ask/tell``
  (one generation: ``ask`` plans the local searches, ``tell`` takes their results and breeds),
  the named steps :func:`rank_weights`, :func:`breed`, :func:`extra_point`, and the ``draw_*``
  functions that make their random draws;
- :mod:`.optimizer`: the ask/tell adapter :class:`EANOMAD` and the family :class:`ConfEANOMAD`,
  registered as ``EANOMAD`` (pure mode) and ``EANOMADHybrid``.

NOMAD runs in child processes (:mod:`optimkit.nomad`); the seed-compatible front end of the
original package is :mod:`optimkit.compat.eanomad`.
"""

from __future__ import annotations

from .core import (
    DEFAULT_NOMAD_OPTIONS,
    MAX_SUBSET,
    AskDraws,
    BreedDraws,
    ExtraDraws,
    Params,
    State,
    Task,
    ask,
    breed,
    draw_ask,
    draw_breed,
    draw_extra,
    draw_init,
    draw_tell,
    extra_point,
    init,
    rank_weights,
    tell,
)
from .optimizer import EANOMAD, ConfEANOMAD

__all__ = [
    "DEFAULT_NOMAD_OPTIONS", "MAX_SUBSET", "Params", "State", "Task", "AskDraws", "BreedDraws", "ExtraDraws",
    "init", "ask", "tell", "rank_weights", "breed", "extra_point",
    "draw_init", "draw_ask", "draw_tell", "draw_breed", "draw_extra",
    "EANOMAD", "ConfEANOMAD",
]
