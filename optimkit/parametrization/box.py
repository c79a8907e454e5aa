"""``UnitBox``: the map between the unit box ``[0, 1]^d`` and standardized data.

Box-based optimizers (ANSR, EA-NOMAD) keep their positions in ``[0, 1]^d``. Coordinates of
an ``Array`` with finite lower and upper bounds map linearly onto those bounds in value space
(log space for ``Log``); every other coordinate maps onto ``[-bound, bound]`` of the
standardized space. Both directions are vectorized over rows.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..errors import OptimkitValueError
from .container import Container
from .core import Parameter
from .data import Array

__all__ = ["UnitBox"]


def _leaves(param: Parameter, start: int = 0) -> list[tuple[Parameter, int]]:
    if isinstance(param, Container):
        out: list[tuple[Parameter, int]] = []
        for key, sl in param._slices:
            out.extend(_leaves(param._content[key], start + sl.start))
        return out
    return [(param, start)]


class UnitBox:
    """Map rows of ``[0, 1]^d`` to standardized data of ``parametrization`` and back.

    Parameters
    ----------
    parametrization : Parameter
        The reference (the optimizer's parametrization).
    bound : float
        Half-width of the standardized box used for coordinates without finite bounds.
    """

    def __init__(self, parametrization: Parameter, bound: float = 10.0) -> None:
        if not math.isfinite(bound) or bound <= 0:
            raise OptimkitValueError(f"bound must be finite and > 0, got {bound!r}")
        d = parametrization.dimension
        self.dimension = d
        self.bound = float(bound)
        self._offset = np.full(d, -self.bound)
        self._scale = np.full(d, 2 * self.bound)
        self._nonlinear: list[tuple[Array, slice, NDArray[np.bool_]]] = []
        self.bounded = np.zeros(d, dtype=bool)
        for leaf, start in _leaves(parametrization):
            if not isinstance(leaf, Array) or leaf._lower is None or leaf._upper is None:
                continue
            lo, up = leaf._lower, leaf._upper
            mask = np.isfinite(lo) & np.isfinite(up)
            if not mask.any():
                continue
            sl = slice(start, start + leaf.dimension)
            sig = leaf._sigmas()
            idx = np.arange(start, start + leaf.dimension)[mask]
            self.bounded[idx] = True
            if leaf._method in ("arctan", "tanh"):
                self._nonlinear.append((leaf, sl, mask))
                continue
            self._offset[idx] = ((lo - leaf._raw_data) / sig)[mask]
            self._scale[idx] = ((up - lo) / sig)[mask]

    @property
    def widths(self) -> NDArray[np.float64]:
        """Width of the box along each coordinate in the standardized space (``upper - lower`` over
        the mutation scale for bounded coordinates, ``2 * bound`` elsewhere; nonlinear bounds: ``2 * bound``).
        Step sizes relative to the bounds start from it, e.g. ``0.2 * widths``."""
        widths: NDArray[np.float64] = self._scale.copy()
        return widths

    def to_data(self, unit: NDArray[np.float64]) -> NDArray[np.float64]:
        """Rows (or one row) of the unit box -> standardized data."""
        data = np.multiply(unit, self._scale)  # one allocation, then in place
        data += self._offset
        for leaf, sl, mask in self._nonlinear:
            lo, up = leaf._lower, leaf._upper
            assert lo is not None and up is not None
            v = lo + unit[..., sl] * (up - lo)
            c, h = (up + lo) / 2, (up - lo) / 2
            z = np.clip((v - c) / h, -1 + 1e-12, 1 - 1e-12)
            raw = c + h * (np.tan(z * np.pi / 2) if leaf._method == "arctan" else np.arctanh(z))
            part = (raw - leaf._raw_data) / leaf._sigmas()
            data[..., sl] = np.where(mask, part, data[..., sl])
        out: NDArray[np.float64] = data
        return out

    def from_data(self, data: NDArray[np.float64]) -> NDArray[np.float64]:
        """Standardized data -> unit box (clipped to ``[0, 1]``)."""
        unit = (data - self._offset) / self._scale
        for leaf, sl, mask in self._nonlinear:
            lo, up = leaf._lower, leaf._upper
            assert lo is not None and up is not None
            raw = leaf._raw_data + leaf._sigmas() * data[..., sl]
            c, h = (up + lo) / 2, (up - lo) / 2
            t = (raw - c) / h
            v = c + h * ((2 / np.pi) * np.arctan(t) if leaf._method == "arctan" else np.tanh(t))
            unit[..., sl] = np.where(mask, (v - lo) / (up - lo), unit[..., sl])
        clipped: NDArray[np.float64] = np.clip(unit, 0.0, 1.0)
        return clipped
