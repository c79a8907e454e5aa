"""Optimizers: the ``registry`` of named optimizers, also reachable as attributes (``ok.optimizers.ANSR``)."""

from __future__ import annotations

from typing import Any

from ..core import ConfiguredOptimizer, Optimizer, registry

# importing the algorithm modules registers their optimizers and presets
from . import ansr, auto, base, eanomad, random_search, snes, xnes  # noqa: F401
from .random_search import RandomSearch

__all__ = ["Optimizer", "ConfiguredOptimizer", "registry", "RandomSearch", "base", "random_search"]


def __getattr__(name: str) -> Any:
    if name in registry:
        return registry[name]
    raise AttributeError(f"module 'optimkit.optimizers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(registry))
