"""The algorithms, one package each: a pure core (frozen ``Params``, ``State``, ``init/ask/tell``
taking their random draws as arguments, argument order ``(params, state, ...)``) and a thin ask/tell
adapter over the framework (:mod:`optimkit.core`). Importing this package registers every
optimizer and preset in ``optimkit.core.registry``.
"""

from __future__ import annotations

from . import ansr, auto, bobyqa, cma, eanomad, mads, nes, random_search

__all__ = ["ansr", "nes", "cma", "bobyqa", "eanomad", "mads", "random_search", "auto"]
