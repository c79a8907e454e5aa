"""Import path kept for ``SNES``: the code lives in :mod:`optimkit.algorithms.nes`.

The old names of the pure core are the new ones: ``SNESParams`` is ``snes.Params``, ``SNESState``
is ``snes.State``, ``snes_init/snes_tell/snes_restart`` are ``snes.init/tell/restart``.
``snes_ask(state, z)`` keeps its old argument order (``snes.ask(params, state, z)`` is the new one).
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from ..algorithms.nes import snes
from ..algorithms.nes.common import Matrix
from ..algorithms.nes.optimizer import SNES, ConfSNES

__all__ = ["SNES", "ConfSNES", "SNESParams", "SNESState", "snes_init", "snes_ask", "snes_tell", "snes_restart"]

SNESParams = snes.Params
SNESState = snes.State
snes_init = snes.init
snes_tell = snes.tell
snes_restart = snes.restart


def snes_ask(state: SNESState, z: ArrayLike) -> Matrix:
    """Map standard normal draws ``z`` (rows) to points ``mean + sigma * z``: ``snes.ask`` in its old
    ``(state, z)`` argument order."""
    return snes.ask(SNESParams(dimension=state.mean.shape[0], popsize=state.popsize), state, z)
