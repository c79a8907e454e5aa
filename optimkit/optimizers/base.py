"""The ask/tell ``Optimizer`` base, ``ConfiguredOptimizer`` and the ``registry``: kept as an import
path; the framework lives in :mod:`optimkit.core`."""

from __future__ import annotations

from ..core import ConfiguredOptimizer, MultiValue, Optimizer, Registry, load, registry

__all__ = ["Optimizer", "ConfiguredOptimizer", "Registry", "registry", "MultiValue", "load"]
