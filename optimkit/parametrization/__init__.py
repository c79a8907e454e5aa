"""Parametrization: describe what the objective takes (``ok.p``), nevergrad style."""

from __future__ import annotations

from .box import UnitBox
from .choice import Choice, TransitionChoice
from .container import Container, Dict, Instrumentation, Tuple
from .core import Constant, Parameter
from .data import BOUND_METHODS, Array, Log, Scalar

__all__ = [
    "Parameter",
    "Constant",
    "Array",
    "Scalar",
    "Log",
    "Choice",
    "TransitionChoice",
    "Tuple",
    "Dict",
    "Instrumentation",
    "Container",
    "UnitBox",
    "BOUND_METHODS",
]
