"""The batch protocol: many candidates at once as rows of standardized data (single-``Array``
parametrizations), for population methods and vectorized objectives.

``ask_data(n)`` / ``tell_data(data, losses)`` / ``abandon_data(data)`` do the same bookkeeping as
``ask``/``tell``/``abandon`` (counters, callbacks, bests, NaN handling) around the algorithm's batch
hooks ``_internal_ask_batch`` / ``_internal_tell_batch`` / ``_internal_abandon_batch``, whose
defaults serve batches from single asks. ``minimize(f, vectorized=True)`` runs on this protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import errors
from ..parametrization import Array, Parameter
from .bests import BestsKeeper

__all__ = ["BatchProtocol"]


class BatchProtocol(BestsKeeper):
    """The batch part of an :class:`~optimkit.core.Optimizer` (a mixin; the optimizer provides the
    attributes and single-candidate hooks declared here)."""

    num_workers: int
    _fast: bool
    _check_constraints: bool
    _callbacks: dict[str, list[Callable[..., Any]]]
    _num_ask: int
    _num_tell: int
    _num_objectives: int | None
    _batch_pending: list[Parameter]

    def _spawn(self, data: NDArray[np.float64], value: NDArray[np.float64] | None = None) -> Parameter:
        raise NotImplementedError  # pragma: no cover - provided by the Optimizer

    def _internal_ask_candidate(self) -> Parameter:
        raise NotImplementedError  # pragma: no cover - provided by the Optimizer

    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        raise NotImplementedError  # pragma: no cover - provided by the Optimizer

    def _internal_abandon(self, candidate: Parameter) -> None:
        raise NotImplementedError  # pragma: no cover - provided by the Optimizer

    def _warn_once(self, key: str, message: str, category: type[Warning] = errors.OptimkitWarning) -> None:
        raise NotImplementedError  # pragma: no cover - provided by the Optimizer

    def _internal_ask_batch(self, n: int) -> NDArray[np.float64]:
        if getattr(type(self)._internal_ask_candidate, "serves_from_batches", False):
            raise NotImplementedError(f"{type(self).__name__} implements neither ask hook")
        return np.stack([np.asarray(self._data_of(self._ask_for_batch())) for _ in range(n)])

    def _ask_for_batch(self) -> Parameter:
        cand = self._internal_ask_candidate()
        self._batch_pending.append(cand)
        return cand

    def _internal_tell_batch(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        pending, self._batch_pending = self._batch_pending, []
        for i, loss in enumerate(losses):
            cand = pending[i] if i < len(pending) else self._spawn(np.ascontiguousarray(data[i]))
            self._internal_tell_candidate(cand, float(loss))

    def _internal_abandon_batch(self, data: NDArray[np.float64]) -> None:
        """A batch from ``_internal_ask_batch`` will never be told (default: abandon its rows one by one)."""
        pending, self._batch_pending = self._batch_pending, []
        for cand in pending:
            self._internal_abandon(cand)

    @property
    def _batch_size(self) -> int:
        return max(self.num_workers, 1)

    # ------------------------------------------------------------------ batch protocol
    @property
    def preferred_batch_size(self) -> int:
        """How many rows :meth:`ask_data` hands out best at once (a population method's generation)."""
        return int(self._batch_size)

    def ask_data(self, n: int) -> NDArray[np.float64]:
        """``n`` candidates at once as rows of standardized data, shape ``(n, dimension)``.

        Single-``Array`` parametrizations without cheap constraints only (others raise
        ``UnsupportedParametrizationError``); the ask callbacks run once. Tell the rows back, in
        the same order, with :meth:`tell_data`, or give them up with :meth:`abandon_data`, before
        asking the next batch. :meth:`values_of` maps the rows to the objective's values.
        """
        if not self._fast:
            raise errors.UnsupportedParametrizationError(
                f"batches need a single Array parametrization, got {self.parametrization.name}: use ask()"
            )
        if self._check_constraints:
            raise errors.UnsupportedParametrizationError("batches do not support cheap constraints: use ask()")
        for callback in self._callbacks["ask"]:
            callback(self)
        data = self._internal_ask_batch(n)
        self._num_ask += n
        return data

    def values_of(self, data: NDArray[np.float64]) -> NDArray[np.float64]:
        """The values (what the objective takes) of rows of standardized data, shape ``(n, *shape)``."""
        param = self.parametrization
        if not isinstance(param, Array):
            raise errors.UnsupportedParametrizationError(f"values_of needs a single Array parametrization, got {param.name}")
        return param._values_from_data(data)

    def tell_data(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        """Tell the 1-D float ``losses`` of the rows of the last :meth:`ask_data`: counters, bests
        (the batch's best row enters them as a single tell would: no other row can be a best),
        NaN handling and callbacks, then the algorithm's batch update."""
        n = data.shape[0]
        if losses.shape != (n,):
            raise errors.OptimkitValueError(f"tell_data expects {n} losses (one per row), got shape {losses.shape}")
        internal = losses
        first = int(losses.argmin())  # argmin stops at the first NaN: no NaN pass otherwise
        loss = value = float(losses[first])
        if loss != loss:
            self._warn_once("nan", "a NaN loss was told: it is kept in the record and treated as +inf")
            internal = np.where(np.isnan(losses), np.inf, losses)
            first = int(internal.argmin())
            loss, value = float(internal[first]), float(losses[first])
        if self._num_objectives is None:
            self._num_objectives = 1
        elif self._num_objectives != 1:
            raise errors.OptimkitValueError(f"tell_data takes one loss per row; this run has {self._num_objectives} objectives")
        self._update_bests_row(data[first], value, loss, self._spawn)
        self._internal_tell_batch(data, internal)
        self._num_tell += n
        if self._callbacks["tell"]:
            for row, loss in zip(data, losses):
                cand = self._spawn(np.ascontiguousarray(row))
                cand._loss = float(loss)
                for callback in self._callbacks["tell"]:
                    callback(self, cand, float(loss))

    def abandon_data(self, data: NDArray[np.float64]) -> None:
        """The rows of the last :meth:`ask_data` will never be told: the algorithm re-issues them."""
        self._num_ask -= data.shape[0]
        self._internal_abandon_batch(data)
