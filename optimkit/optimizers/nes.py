"""Natural evolution strategies: :class:`XNES` (full covariance) and :class:`SNES` (separable).

Both minimize. The code lives in ``xnes.py``, ``snes.py`` and ``_nes_common.py`` (one algorithm per
file); this module gathers the public names and registers ``"XNES"`` and ``"SNES"`` on import.
"""

from __future__ import annotations

from .snes import SNES, ConfSNES, SNESParams, SNESState, snes_ask, snes_init, snes_restart, snes_tell
from .xnes import XNES, ConfXNES, XNESParams, XNESState, xnes_ask, xnes_init, xnes_restart, xnes_tell

__all__ = ["XNES", "SNES", "ConfXNES", "ConfSNES", "XNESParams", "XNESState", "SNESParams", "SNESState",
           "xnes_init", "xnes_ask", "xnes_tell", "xnes_restart", "snes_init", "snes_ask", "snes_tell",
           "snes_restart"]
