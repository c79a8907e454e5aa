"""Kept as an import path: the code lives in :mod:`optimkit.algorithms.auto`."""

from __future__ import annotations

from ..algorithms.auto import *  # noqa: F403
from ..algorithms.auto import __all__  # noqa: F401
