"""Standard test functions (all minimized), vectorized over rows.

Each function takes a 1-D point (returns a float) or a 2-D array of points, one per row
(returns a 1-D array of losses). ``shubert``, ``hilly`` and ``sphere01`` are defined as in
the ANSR benchmark (https://github.com/fxeqxmulfx/ansr, ``examples/benchmark.py``): the
coordinates are taken in pairs ``(x, y)``, each pair's value is scaled to ``[0, 1]`` and the
loss is the mean over pairs, so the global minimum is 0 whatever the dimension (which must
be even). ``FUNCTIONS`` maps a name to ``(function, default bound)``; the default domain is
``[-bound, bound]^d``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import OptimkitValueError

__all__ = ["sphere", "sphere01", "ellipsoid", "rosenbrock", "rastrigin", "shubert", "hilly",
           "FUNCTIONS", "SHUBERT_MIN", "SHUBERT_MAX", "HILLY_MIN", "HILLY_MAX"]

Loss = float | NDArray[np.float64]

SHUBERT_MIN, SHUBERT_MAX = -186.7309, 210.0
HILLY_MIN, HILLY_MAX = -229.91931214214105, 39.701816104859866


def _rows(x: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        return a[None, :], True
    if a.ndim != 2:
        raise OptimkitValueError(f"x must be a point (1-D) or one point per row (2-D), got shape {a.shape}")
    return a, False


def _out(values: NDArray[np.float64], single: bool) -> Loss:
    return float(values[0]) if single else values


def _pairs(x: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    a, single = _rows(x)
    if a.shape[1] % 2:
        raise OptimkitValueError(f"this function takes coordinates in pairs: the dimension must be "
                                 f"even, got {a.shape[1]}")
    return a[:, 0::2], a[:, 1::2], single


def sphere(x: ArrayLike) -> Loss:
    """``sum(x**2)``; minimum 0 at the origin."""
    a, single = _rows(x)
    return _out(np.einsum("ij,ij->i", a, a), single)


def sphere01(x: ArrayLike) -> Loss:
    """Sphere scaled per pair to [0, 1] on [-5, 5]: ``mean((x**2 + y**2) / 50)`` over pairs."""
    u, v, single = _pairs(x)
    return _out(np.mean((u * u + v * v) / 50.0, axis=1), single)


def ellipsoid(x: ArrayLike) -> Loss:
    """``sum(10**(6 i / (d - 1)) x_i**2)`` (condition number 1e6); minimum 0 at the origin."""
    a, single = _rows(x)
    d = a.shape[1]
    weights = 10.0 ** (6.0 * np.arange(d) / max(d - 1, 1))
    return _out((a * a) @ weights, single)


def rosenbrock(x: ArrayLike) -> Loss:
    """``sum(100 (x_{i+1} - x_i**2)**2 + (1 - x_i)**2)``; minimum 0 at all-ones."""
    a, single = _rows(x)
    head, tail = a[:, :-1], a[:, 1:]
    return _out(np.sum(100.0 * (tail - head * head) ** 2 + (1.0 - head) ** 2, axis=1), single)


def rastrigin(x: ArrayLike) -> Loss:
    """``10 d + sum(x**2 - 10 cos(2 pi x))``; minimum 0 at the origin."""
    a, single = _rows(x)
    return _out(10.0 * a.shape[1] + np.sum(a * a - 10.0 * np.cos(2.0 * math.pi * a), axis=1), single)


_I = np.arange(1.0, 6.0)


def shubert(x: ArrayLike) -> Loss:
    """Shubert per pair, scaled to [0, 1]: ``(s(x) s(y) - SHUBERT_MIN) / (SHUBERT_MAX - SHUBERT_MIN)``.

    ``s(t) = sum_{i=1..5} i cos((i + 1) t + i)``; 18 global minima per pair in [-10, 10]^2.
    The ANSR README's ``shubert`` (``mean(s(x) s(y)) + 186.7309``) is this function times 396.7309.
    """
    u, v, single = _pairs(x)
    su = np.cos(u[..., None] * (_I + 1.0) + _I) @ _I
    sv = np.cos(v[..., None] * (_I + 1.0) + _I) @ _I
    return _out(np.mean((su * sv - SHUBERT_MIN) / (SHUBERT_MAX - SHUBERT_MIN), axis=1), single)


def hilly(x: ArrayLike) -> Loss:
    """The ANSR benchmark's Hilly terrain per pair (negated, scaled to [0, 1] on [-3, 3]^2)."""
    u, v, single = _pairs(x)

    def bump(a: float, cx: float, cy: float, w: float) -> NDArray[np.float64]:
        return a * np.exp(-((u - cx) ** 2 + (v - cy) ** 2) / w)

    h = (20.0 + u * u + v * v - 10.0 * np.cos(2.0 * math.pi * u) - 10.0 * np.cos(2.0 * math.pi * v)
         - bump(30.0, 1.0, 0.0, 0.1) + bump(200.0, -math.pi * 0.47, math.pi * 0.2, 0.1)
         + bump(100.0, 0.5, -0.5, 0.01) - bump(60.0, 1.33, 2.0, 0.02)
         - bump(40.0, -1.3, -0.2, 0.5) + bump(60.0, 1.5, -1.5, 0.1))
    return _out(np.mean((-h - HILLY_MIN) / (HILLY_MAX - HILLY_MIN), axis=1), single)


FUNCTIONS: dict[str, tuple[Callable[[ArrayLike], Loss], float]] = {
    "sphere": (sphere, 5.0),
    "sphere01": (sphere01, 5.0),
    "ellipsoid": (ellipsoid, 5.0),
    "rosenbrock": (rosenbrock, 5.0),
    "rastrigin": (rastrigin, 5.12),
    "shubert": (shubert, 10.0),
    "hilly": (hilly, 3.0),
}
