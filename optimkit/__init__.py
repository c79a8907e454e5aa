"""optimkit: derivative-free optimization with a nevergrad-style ask/tell API.

``import optimkit as ok`` (or ``as ng``): ``ok.p`` parametrization, ``ok.optimizers`` (registry),
``ok.families``, ``ok.callbacks``, ``ok.executors``, ``ok.errors``.
"""

from __future__ import annotations

from . import callbacks, errors, executors, families, optimizers, p, parametrization
from .core import load
from .core.optimizer import load_unsafe_pickle

__version__ = "0.1.0"
__all__ = [
    "p", "parametrization", "optimizers", "families", "callbacks", "executors", "errors", "load", "load_unsafe_pickle",
    "__version__",
]
