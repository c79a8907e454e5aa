"""``same_structure``: whether two parameters describe the same space (a candidate of one can be
told to an optimizer of the other)."""

from __future__ import annotations

from .choice import _BaseChoice
from .container import Container
from .core import Parameter
from .data import Array

__all__ = ["same_structure"]


def same_structure(a: Parameter, b: Parameter) -> bool:
    """True when ``a`` and ``b`` are parameters of the same kind and layout: the same classes, shapes,
    container keys and numbers of options, recursively (values, bounds and names may differ)."""
    if type(a) is not type(b) or a.dimension != b.dimension:
        return False
    if isinstance(a, Array):
        return bool(a._shape == b._shape)  # type: ignore[attr-defined]
    if isinstance(a, _BaseChoice):
        return len(a._choices) == len(b._choices) and a._reps == b._reps  # type: ignore[attr-defined]
    if isinstance(a, Container):
        other = b._content  # type: ignore[attr-defined]
        return list(a._content) == list(other) and all(same_structure(v, other[k]) for k, v in a._content.items())
    return True
