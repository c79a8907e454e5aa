"""The framework: the ask/tell ``Optimizer`` with its hooks, the bests and archive, persistence
(dump/load), the ``minimize`` runner, Pareto fronts, ``ConfiguredOptimizer`` and the ``registry``.

Algorithms (``optimkit.algorithms``) build on these names; nothing here imports an algorithm.
"""

from __future__ import annotations

from .optimizer import ConfiguredOptimizer, MultiValue, Optimizer, Registry, load, registry

__all__ = ["Optimizer", "ConfiguredOptimizer", "Registry", "registry", "MultiValue", "load"]
