"""Pareto fronts: kept as an import path; the code lives in :mod:`optimkit.core.pareto`."""

from __future__ import annotations

from ..core.pareto import *  # noqa: F403
from ..core.pareto import __all__  # noqa: F401
