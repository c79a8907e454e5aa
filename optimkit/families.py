"""Configurable optimizer families (``ok.families.ConfANSR(...)(parametrization, budget)``)."""

from __future__ import annotations

from .core import ConfiguredOptimizer
from .optimizers.ansr import ConfANSR
from .optimizers.eanomad import ConfEANOMAD
from .optimizers.random_search import ConfRandomSearch
from .optimizers.snes import ConfSNES
from .optimizers.xnes import ConfXNES

__all__ = ["ConfiguredOptimizer", "ConfANSR", "ConfXNES", "ConfSNES", "ConfEANOMAD", "ConfRandomSearch"]
