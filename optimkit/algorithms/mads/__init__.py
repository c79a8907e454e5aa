"""NOMAD on its own: MADS (NOMAD 4 through PyNomad) on the whole problem, restarted until the budget is spent.

- :mod:`.core`: the pure core: :class:`Params`, :class:`State`, :class:`Run`, ``init/ask/tell``
  (``ask`` plans the next run: its start point, evaluation cap and NOMAD seed; ``tell`` takes a
  finished run's best point), :func:`nomad_lines` (the NOMAD options of ``Params``) and
  :func:`draw_ask` (the random draws of a restart);
- :mod:`.optimizer`: the ask/tell adapter :class:`NOMAD` and the family :class:`ConfNOMAD`,
  registered as ``NOMAD``.

NOMAD runs in child processes (:mod:`optimkit.nomad`), as for EA-NOMAD's local searches.
"""

from __future__ import annotations

from .core import (
           DIRECTION_TYPES,
           AskDraws,
           Params,
           Run,
           State,
           ask,
           draw_ask,
           init,
           nomad_lines,
           run_budget,
           tell,
)
from .optimizer import NOMAD, ConfNOMAD

__all__ = ["DIRECTION_TYPES", "Params", "State", "Run", "AskDraws", "init", "ask", "tell", "draw_ask",
           "nomad_lines", "run_budget", "NOMAD", "ConfNOMAD"]
