"""``ok.p``: the parametrization namespace (as ``ng.p`` in nevergrad)."""

from __future__ import annotations

from .parametrization import (
    Array,
    Choice,
    Constant,
    Dict,
    Instrumentation,
    Log,
    Parameter,
    Scalar,
    TransitionChoice,
    Tuple,
)

__all__ = ["Array", "Scalar", "Log", "Choice", "TransitionChoice", "Tuple", "Dict", "Instrumentation", "Parameter", "Constant"]
