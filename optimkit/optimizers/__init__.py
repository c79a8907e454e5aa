"""Optimizers: the ``registry`` of named optimizers, also reachable as attributes (``ok.optimizers.ANSR``).

The code lives in :mod:`optimkit.algorithms` (one package per algorithm) over the framework of
:mod:`optimkit.core`; the submodules of this package keep the import paths of optimkit 0.1.
"""

from __future__ import annotations

from typing import Any

from .. import algorithms  # noqa: F401 - importing the algorithms registers them
from ..algorithms.random_search import RandomSearch
from ..core import ConfiguredOptimizer, Optimizer, registry
from . import ansr, auto, base, eanomad, nes, random_search, snes, xnes  # noqa: F401 - 0.1 import paths

__all__ = ["Optimizer", "ConfiguredOptimizer", "registry", "RandomSearch", "base", "random_search"]


def __getattr__(name: str) -> Any:
    if name in registry:
        return registry[name]
    raise AttributeError(f"module 'optimkit.optimizers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(registry))
