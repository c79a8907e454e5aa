"""Module-level objectives (picklable, for process pools)."""

from __future__ import annotations

from typing import Any

import numpy as np


def sphere(x: Any) -> float:
    return float(np.sum(np.asarray(x, dtype=float) ** 2))


def shifted_sphere(x: Any) -> float:
    return float(np.sum((np.asarray(x, dtype=float) - 0.5) ** 2))
