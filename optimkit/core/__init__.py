"""The framework: the ask/tell ``Optimizer`` with its hooks and batch protocol, the bests and
archive, persistence (dump/load), the ``minimize`` runner, Pareto fronts, ``ConfiguredOptimizer``
and the ``registry``.

Algorithms (``optimkit.algorithms``) build on these names; nothing here imports an algorithm.
"""

from __future__ import annotations

from .bests import MultiValue
from .optimizer import Optimizer, load
from .registry import ConfiguredOptimizer, Registry, registry

__all__ = ["Optimizer", "ConfiguredOptimizer", "Registry", "registry", "MultiValue", "load"]
