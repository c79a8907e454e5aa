"""``NomadSearchOptimizer``: the ask/tell plumbing of optimizers whose points come from NOMAD
searches in child processes (``EANOMAD``, ``NOMAD``), written once.

A subclass keeps a :class:`optimkit.nomad.Scheduler` in ``_scheduler`` and a
:class:`~optimkit.parametrization.UnitBox` in ``_box``, and implements ``_next_unit()`` (the next
point in the unit box and its routing tag ``(job id, index)``, or ``None`` for a point of its own).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import Optimizer
from ..nomad import Scheduler
from ..parametrization import Parameter, UnitBox

__all__ = ["NomadSearchOptimizer"]


class NomadSearchOptimizer(Optimizer):
    """Base of the optimizers driving NOMAD child searches (see the module docstring)."""

    _scheduler: Scheduler
    _box: UnitBox

    def close(self) -> None:
        """Stop the NOMAD child processes now (interrupted searches are replayed if asked again)."""
        self._scheduler.suspend()

    def minimize(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().minimize(*args, **kwargs)
        finally:
            self.close()

    def _next_unit(self) -> tuple[tuple[int, int] | None, NDArray[np.float64]]:
        raise NotImplementedError  # pragma: no cover - each subclass has its own

    def _internal_ask_candidate(self) -> Parameter:
        tag, unit = self._next_unit()
        candidate = self._spawn(np.ascontiguousarray(self._box.to_data(unit)))
        candidate._tag = (tag, unit)
        return candidate

    def _internal_abandon(self, candidate: Parameter) -> None:
        if candidate._tag is not None and candidate._tag[0] is not None:
            self._scheduler.abandon(*candidate._tag[0])
