"""Configurable optimizer families (``ok.families.ConfANSR(...)(parametrization, budget)``)."""

from __future__ import annotations

from .optimizers.base import ConfiguredOptimizer
from .optimizers.random_search import ConfRandomSearch

__all__ = ["ConfiguredOptimizer", "ConfRandomSearch"]
