"""Configurable optimizer families (``ok.families.ConfANSR(...)(parametrization, budget)``)."""

from __future__ import annotations

from .algorithms.ansr import ConfANSR
from .algorithms.bobyqa import ConfBOBYQA
from .algorithms.cma import ConfCMA
from .algorithms.eanomad import ConfEANOMAD
from .algorithms.mads import ConfNOMAD
from .algorithms.nes import ConfSNES, ConfXNES
from .algorithms.random_search import ConfRandomSearch
from .core import ConfiguredOptimizer

__all__ = ["ConfiguredOptimizer", "ConfANSR", "ConfXNES", "ConfSNES", "ConfEANOMAD", "ConfNOMAD", "ConfRandomSearch",
           "ConfCMA", "ConfBOBYQA"]
