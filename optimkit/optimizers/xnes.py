"""Import path kept for ``XNES``: the code lives in :mod:`optimkit.algorithms.nes`.

The old names of the pure core are the new ones: ``XNESParams`` is ``xnes.Params``, ``XNESState``
is ``xnes.State``, ``xnes_init/xnes_tell/xnes_restart`` are ``xnes.init/tell/restart``.
``xnes_ask(state, z)`` keeps its old argument order (``xnes.ask(params, state, z)`` is the new one).
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from ..algorithms.nes import xnes
from ..algorithms.nes.common import Matrix
from ..algorithms.nes.optimizer import XNES, ConfXNES

__all__ = ["XNES", "ConfXNES", "XNESParams", "XNESState", "xnes_init", "xnes_ask", "xnes_tell", "xnes_restart"]

XNESParams = xnes.Params
XNESState = xnes.State
xnes_init = xnes.init
xnes_tell = xnes.tell
xnes_restart = xnes.restart


def xnes_ask(state: XNESState, z: ArrayLike) -> Matrix:
    """Map standard normal draws ``z`` (rows) to points ``mean + sigma * B z``: ``xnes.ask`` in its old
    ``(state, z)`` argument order."""
    return xnes.ask(XNESParams(dimension=state.mean.shape[0], popsize=state.popsize), state, z)
