"""Import path kept for the natural evolution strategies :class:`XNES` and :class:`SNES` (both minimize).

The code lives in :mod:`optimkit.algorithms.nes` (cores ``xnes.py``, ``snes.py``, ``common.py``; the
optimizers in ``optimizer.py``); this module gathers the names of ``optimizers.xnes`` and
``optimizers.snes``, and importing it registers ``"XNES"`` and ``"SNES"``.
"""

from __future__ import annotations

from .snes import SNES, ConfSNES, SNESParams, SNESState, snes_ask, snes_init, snes_restart, snes_tell
from .xnes import XNES, ConfXNES, XNESParams, XNESState, xnes_ask, xnes_init, xnes_restart, xnes_tell

__all__ = ["XNES", "SNES", "ConfXNES", "ConfSNES", "XNESParams", "XNESState", "SNESParams", "SNESState",
           "xnes_init", "xnes_ask", "xnes_tell", "xnes_restart", "snes_init", "snes_ask", "snes_tell",
           "snes_restart"]
