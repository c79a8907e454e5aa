"""CMA-ES over the ``cmaes`` package (CyberAgent), with IPOP/BIPOP restarts (minimizes).

- :mod:`~optimkit.algorithms.cma.core`: ``Params``, ``Space``, ``State`` and ``init/ask/tell/restart``
  around a ``cmaes.CMA`` object, plus the restart literature's stopping tests;
- :mod:`~optimkit.algorithms.cma.optimizer`: the ask/tell optimizer :class:`CMA` and its family
  :class:`ConfCMA` (registered as ``"CMA"``, IPOP, and ``"BIPOPCMA"``).

``cmaes`` is imported when a run starts (the ``cma`` extra), so this package imports without it.
"""

from __future__ import annotations

from . import core
from .optimizer import CMA, ConfCMA

__all__ = ["CMA", "ConfCMA", "core"]
