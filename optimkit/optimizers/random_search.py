"""Kept as an import path: the code lives in :mod:`optimkit.algorithms.random_search`."""

from __future__ import annotations

from ..algorithms.random_search import *  # noqa: F403
from ..algorithms.random_search import __all__  # noqa: F401
