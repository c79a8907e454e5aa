"""Batches: many candidates at once, for population methods and vectorized objectives
(single-``Array`` parametrizations).

The public batch API, ``ask_batch(n)`` / ``tell_batch(values, losses)``, hands out and takes back
rows of *values* (what the objective takes). Rows may be told in any order and in several calls;
while a batch is told whole and in order, it runs on the batch protocol below at no extra cost.
When it is not (a new batch asked, a dump) before all its rows are told, the batch is *detached*:
its told rows reach the algorithm, its untold rows become ordinary asked candidates, told later with
``tell_batch`` or abandoned as lost like any candidate.

The batch protocol: rows of standardized data.

``ask_data(n)`` / ``tell_data(data, losses)`` / ``abandon_data(data)`` do the same bookkeeping as
``ask``/``tell``/``abandon`` (counters, callbacks, bests, NaN handling) around the algorithm's batch
hooks ``_internal_ask_batch`` / ``_internal_tell_batch`` / ``_internal_abandon_batch``, whose
defaults serve batches from single asks. ``minimize(f, vectorized=True)`` runs on this protocol.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import errors
from ..parametrization import Array, Parameter
from ..validation import check_int
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
    _asked: dict[int, tuple[Parameter, int]]
    _lock: threading.RLock
    _serial: int
    _next_lost_check: int
    parametrization: Parameter

    def _abandon_lost(self) -> None:
        raise NotImplementedError  # pragma: no cover - provided by the Optimizer

    def tell(self, candidate: Parameter, loss: Any, constraint_violation: Any = None,
             penalty_style: Any = None) -> None:
        raise NotImplementedError  # pragma: no cover - provided by the Optimizer

    def _init_batches(self) -> None:
        self._open: _OpenBatch | None = None  # the last ask_batch, while some of its rows are untold
        self._detached: dict[bytes, Parameter] = {}  # row bytes -> candidate, for detached batches

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

    def _internal_detach_batch(self, data: NDArray[np.float64]) -> list[Parameter]:
        """The rows of the batch from ``_internal_ask_batch`` as candidates, as single asks would have
        made them (so that ``_internal_tell_candidate``/``_internal_abandon`` take them one by one)."""
        pending, self._batch_pending = self._batch_pending, []
        if len(pending) != len(data):
            raise NotImplementedError(f"{type(self).__name__} cannot detach a batch")  # pragma: no cover
        return pending

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
        self._check_batchable("ask_data")
        with self._lock:
            return self._ask_rows(n)

    def _ask_rows(self, n: int) -> NDArray[np.float64]:
        """The bookkeeping of a batch ask (callbacks, counters, lost candidates) around the hook."""
        for callback in self._callbacks["ask"]:
            callback(self)
        data = self._internal_ask_batch(n)
        self._num_ask += n
        self._serial += n
        if self._serial >= self._next_lost_check and self._asked:
            self._abandon_lost()
        return data

    def _check_batchable(self, method: str) -> None:
        if not self._fast:
            raise errors.UnsupportedParametrizationError(
                f"{method} needs a single Array parametrization, got {self.parametrization.name}: use ask()"
            )
        if self._check_constraints:
            raise errors.UnsupportedParametrizationError(f"{method} does not support cheap constraints: use ask()")

    def detach_data(self, data: NDArray[np.float64]) -> list[Parameter]:
        """The rows of the last :meth:`ask_data` become ordinary asked candidates, one per row (tell
        them with ``tell``, give them up with ``abandon``)."""
        with self._lock:
            candidates = self._internal_detach_batch(data)
            for cand in candidates:
                self._asked[cand._uid] = (cand, self._serial)
            return candidates

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
        with self._lock:
            self._tell_rows(data, losses)

    def _tell_rows(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        """A whole batch from ``_internal_ask_batch``, in order: bookkeeping, update, callbacks."""
        internal = self._record_rows(data, losses)
        self._internal_tell_batch(data, internal)
        self._run_tell_callbacks(data, losses)

    def _record_rows(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> NDArray[np.float64]:
        """The bookkeeping of told rows (objectives, NaN, bests, the tell count); the losses the
        algorithm sees (NaN as +inf)."""
        n = data.shape[0]
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
        self._num_tell += n
        return internal

    def _run_tell_callbacks(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        if self._callbacks["tell"]:
            for row, loss in zip(data, losses):
                cand = self._spawn(np.ascontiguousarray(row))
                cand._loss = float(loss)
                for callback in self._callbacks["tell"]:
                    callback(self, cand, float(loss))

    def abandon_data(self, data: NDArray[np.float64]) -> None:
        """The rows of the last :meth:`ask_data` will never be told: the algorithm re-issues them."""
        with self._lock:
            self._num_ask -= data.shape[0]
            self._internal_abandon_batch(data)

    # ------------------------------------------------------------------ public batch API
    def ask_batch(self, n: int) -> NDArray[np.float64]:
        """``n`` candidates at once: a float array of values, shape ``(n, *shape)`` (bounds applied).

        Single-``Array`` parametrizations without cheap constraints (others raise an error that
        points to ``ask()``). Evaluate the rows, then give them back with :meth:`tell_batch`, in
        any order and in as many calls as you like. Population methods hand out whole generations
        (see ``preferred_batch_size``); with the same seed the rows are those of
        ``minimize(f, vectorized=True)``. Thread-safe.

        Examples
        --------
        >>> import optimkit as ok
        >>> opt = ok.optimizers.registry["XNES"](parametrization=ok.p.Array(shape=(3,)), budget=600, seed=0)
        >>> for _ in range(opt.budget // opt.preferred_batch_size):
        ...     X = opt.ask_batch(opt.preferred_batch_size)
        ...     opt.tell_batch(X, ((X - 1.0) ** 2).sum(axis=1))
        >>> bool(abs(opt.recommend().value - 1.0).max() < 1e-3)
        True
        """
        if n.__class__ is not int or n < 1:
            n = check_int("n", n, 1)
        self._check_batchable("ask_batch")
        with self._lock:
            if self._open is not None:
                self._close_open_batch()
            data = self._ask_rows(n)
            values: NDArray[np.float64] = self.parametrization._values_from_data(data)  # type: ignore[attr-defined]
            if values.dtype != np.float64:  # integer casting
                values = values.astype(np.float64)
            self._open = _OpenBatch(data, values)
            return values

    def tell_batch(self, values: Any, losses: Any) -> None:
        """Tell the losses of rows from :meth:`ask_batch`: ``values`` of shape ``(k, *shape)`` (numpy,
        a list, or a torch tensor on any device), ``losses`` a 1-D array-like of ``k`` floats.

        Rows may come in any order and in several calls. Rows that were not asked (or were told
        already) raise ``OptimkitValueError`` and nothing is told. Callbacks, NaN handling, bests
        and counters behave as with single tells. Thread-safe.
        """
        with self._lock:
            self._tell_batch(values, losses)

    def _tell_batch(self, values: Any, losses: Any) -> None:
        batch = self._open
        if batch is not None and values is batch.values and batch.num_told == 0:
            y = _as_losses(losses, len(values))  # the array handed out, told whole: check it is unchanged
            if float(values.sum()) == batch.checksum:
                self._open = None
                self._tell_rows(batch.data, y)
                return
        param = self.parametrization
        x = _as_real(values, "values")
        shape = tuple(param._shape)  # type: ignore[attr-defined]
        if x.ndim != 1 + len(shape) or x.shape[1:] != shape:
            raise errors.OptimkitValueError(
                f"tell_batch expects values of shape (k, {', '.join(map(str, shape))}), got {x.shape}"
            )
        k = x.shape[0]
        y = _as_losses(losses, k)
        if k == 0:
            return
        if batch is not None and batch.num_told == 0 and x is not batch.values and x.shape == batch.values.shape \
                and np.array_equal(x, batch.values):
            self._open = None  # the whole batch, in order, unchanged: the batch protocol as it is
            self._tell_rows(batch.data, y)
            return
        if batch is not None and batch.pristine is None:  # rows as handed out (the array may have changed)
            batch.pristine = np.asarray(self.values_of(batch.data), dtype=np.float64)
            batch.told, batch.losses = np.zeros(len(batch.data), dtype=bool), np.empty(len(batch.data))
        rows = x.reshape(k, -1)
        targets: list[int | Parameter] = []
        taken: set[int] = set()  # rows of the open batch (identical rows may repeat) taken by this call
        seen: set[bytes] = set()
        for i in range(k):
            key = rows[i].tobytes()
            free = [] if batch is None else [
                j for j in batch.row_index().get(key, ()) if not batch.told[j] and j not in taken]
            if free:
                targets.append(free[0])
                taken.add(free[0])
            elif key in self._detached and key not in seen:
                targets.append(self._detached[key])
                seen.add(key)
            else:
                raise errors.OptimkitValueError(
                    f"row {i} of tell_batch was not asked by ask_batch, or was told already: "
                    "tell each asked row once"
                )
        told = [i for i, t in enumerate(targets) if isinstance(t, int)]
        if told:
            assert batch is not None
            index = np.array([targets[i] for i in told], dtype=np.intp)
            internal = self._record_rows(batch.data[index], y[told])
            batch.told[index] = True
            batch.losses[index] = internal
            batch.num_told += len(told)
            self._run_tell_callbacks(batch.data[index], y[told])
        for i, target in enumerate(targets):
            if not isinstance(target, int):
                del self._detached[rows[i].tobytes()]
                self.tell(target, float(y[i]))
        if batch is not None and batch.num_told == len(batch.data):
            self._open = None
            self._internal_tell_batch(batch.data, batch.losses)

    def _close_open_batch(self) -> None:
        """Detach the open batch (see the module docstring) when some of its rows are untold."""
        batch, self._open = self._open, None
        if batch is None:
            return
        candidates = self.detach_data(batch.data)
        values = batch.pristine if batch.pristine is not None else self.values_of(batch.data)
        rows = np.asarray(values, dtype=np.float64).reshape(len(candidates), -1)
        for j, cand in enumerate(candidates):
            if batch.num_told and batch.told[j]:
                del self._asked[cand._uid]
                self._internal_tell_candidate(cand, float(batch.losses[j]))
            else:
                self._detached[rows[j].tobytes()] = cand
        if len(self._detached) > 4 * max(len(self._asked), 1024):  # forget rows abandoned as lost
            self._detached = {k: c for k, c in self._detached.items() if c._uid in self._asked}


_NO_ROWS: NDArray[Any] = np.empty(0)


class _OpenBatch:
    """The rows of the last ``ask_batch`` while some are untold."""

    __slots__ = ("data", "values", "checksum", "pristine", "told", "losses", "num_told", "_index")

    def __init__(self, data: NDArray[np.float64], values: NDArray[np.float64]) -> None:
        self.data, self.values = data, values
        self.checksum = float(values.sum())  # the array handed out may be changed in place: noticed
        self.pristine: NDArray[np.float64] | None = None
        self.told = _NO_ROWS  # made by _tell_batch when rows come in pieces
        self.losses = _NO_ROWS
        self.num_told = 0
        self._index: dict[bytes, list[int]] | None = None

    def row_index(self) -> dict[bytes, list[int]]:
        """Row bytes -> the rows holding them (a population may hold identical rows)."""
        if self._index is None:
            assert self.pristine is not None
            rows = self.pristine.reshape(len(self.pristine), -1)
            self._index = {}
            for j in range(len(rows)):
                self._index.setdefault(rows[j].tobytes(), []).append(j)
        return self._index


def _to_numpy(obj: Any) -> Any:
    if hasattr(obj, "detach") and hasattr(obj, "cpu"):  # a torch tensor, on any device
        return obj.detach().cpu().numpy()
    return obj


def _as_real(obj: Any, name: str) -> NDArray[np.float64]:
    """``obj`` (numpy, a list, a torch tensor on any device) as a float64 array; TypeError otherwise."""
    arr = obj if obj.__class__ is np.ndarray else np.asarray(_to_numpy(obj))
    if arr.dtype.kind not in "fiu":
        raise errors.OptimkitTypeError(
            f"{name} must be real numbers, got dtype {arr.dtype}"
            + (" (None: did the objective forget to return its value?)" if arr.dtype.kind == "O" else "")
        )
    out: NDArray[np.float64] = arr.astype(np.float64, copy=False)
    return out


def _as_losses(obj: Any, k: int) -> NDArray[np.float64]:
    arr = _as_real(obj, "losses")
    if arr.shape != (k,):
        raise errors.OptimkitValueError(f"tell_batch expects {k} losses (one per row), got shape {arr.shape}")
    return arr
