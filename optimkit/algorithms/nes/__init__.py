"""Natural evolution strategies (both minimize): XNES, full covariance, and SNES, separable.

- :mod:`~optimkit.algorithms.nes.xnes` and :mod:`~optimkit.algorithms.nes.snes`: the pure cores,
  each a frozen ``Params``, a ``State`` and ``init/ask/tell/restart`` taking their random draws;
- :mod:`~optimkit.algorithms.nes.common`: what both share (options, utilities, stopping, restarts);
- :mod:`~optimkit.algorithms.nes.optimizer`: the ask/tell optimizers :class:`XNES` and :class:`SNES`
  and their families :class:`ConfXNES`, :class:`ConfSNES` (registered as ``"XNES"``, ``"SNES"``).
"""

from __future__ import annotations

from . import common, snes, xnes
from .optimizer import SNES, XNES, ConfSNES, ConfXNES, NESOptimizer

__all__ = ["XNES", "SNES", "ConfXNES", "ConfSNES", "NESOptimizer", "xnes", "snes", "common"]
