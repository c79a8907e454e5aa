"""The parent's handle on one NOMAD search running in a :class:`~optimkit.nomad.NomadWorker`.

NOMAD minimizes; so does everything here. The parent keeps the best point it told, which is the
search's result even if the child dies: a crash ends the search with a
:class:`~optimkit.errors.NomadCrashWarning` that names it, never an exception.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import NomadCrashWarning, OptimkitValueError
from .options import NOMAD_SEED_LIMIT
from .process import NomadWorker
from .protocol import DONE, LOSSES, POINTS, START, pack_floats, receive, send, unpack_floats

__all__ = ["SearchResult", "NomadSearch"]


@dataclass
class SearchResult:
    """Outcome of one local search (minimizing): best point told and its loss (None if none)."""

    x: list[float]
    loss: float | None
    num_evals: int
    crash: str | None = None


class NomadSearch:
    """One NOMAD search from ``x0`` in ``[lower, upper]`` with ``max_bb_eval`` evaluations.

    Points come out of :meth:`next_points`; each must get its loss through :meth:`tell` (by
    index). The search ends by itself (``result`` is set, :meth:`next_points` returns ``[]``),
    by :meth:`abort`, or when its child dies.
    """

    def __init__(self, worker: NomadWorker, x0: Sequence[float], lower: Sequence[float],
                 upper: Sequence[float], max_bb_eval: int, seed: int, options: Sequence[str]) -> None:
        self.worker: NomadWorker | None = worker
        worker.reset_log()
        self.x0 = [float(v) for v in x0]
        self.n = len(self.x0)
        self.best_x = list(self.x0)
        self.best_loss: float | None = None
        self.num_evals = 0
        self.result: SearchResult | None = None
        self._points: list[list[float]] = []  # current block from NOMAD
        self._losses: list[float | None] = []
        seed = int(seed) % NOMAD_SEED_LIMIT
        opts = ["DISPLAY_DEGREE 0", f"MAX_BB_EVAL {int(max_bb_eval)}", f"SEED {int(seed)}", *options]
        start = {"x0": self.x0, "lb": [float(v) for v in lower], "ub": [float(v) for v in upper],
                 "seed": int(seed), "options": opts}
        self._send(START, json.dumps(start).encode())

    @property
    def done(self) -> bool:
        """Whether the search has ended (``result`` is set)."""
        return self.result is not None

    def point(self, index: int) -> list[float]:
        """Point ``index`` of the current block."""
        return list(self._points[index])

    def pending(self) -> list[tuple[int, list[float]]]:
        """Points of the current block whose loss is still unknown, with their indices."""
        return [(k, p) for k, (p, v) in enumerate(zip(self._points, self._losses)) if v is None]

    def next_points(self) -> list[tuple[int, list[float]]]:
        """Block until NOMAD proposes points (returned) or ends (returns ``[]``, see ``result``).

        Raises :class:`~optimkit.errors.OptimkitValueError` if NOMAD rejected the options.
        """
        if self.result is not None or self._points:
            return self.pending() if self._points else []
        worker = self._worker()
        try:
            message = receive(worker.sock) if worker.alive else None
        except OSError:  # the child died with our last message unread (connection reset)
            message = None
        if message is None:
            self._crashed()
        elif message[0] == POINTS:
            flat = unpack_floats(message[1])
            self._points = [list(flat[i:i + self.n]) for i in range(0, len(flat), self.n)]
            self._losses = [None] * len(self._points)
            return self.pending()
        elif message[0] == DONE:
            self._finish(None)
        else:  # ERROR: bad options and the like: a user error, not a crash
            self._finish(None)
            raise OptimkitValueError(f"nomad_options: NOMAD rejected the options: {message[1].decode()}")
        return []

    def tell(self, index: int, loss: float) -> None:
        """Give the loss of point ``index`` of the current block; sends the block when complete."""
        if self.result is not None or index >= len(self._points) or self._losses[index] is not None:
            return  # stale (search ended or aborted): nothing to do
        loss = float(loss)
        self._losses[index] = loss
        self.num_evals += 1
        if math.isfinite(loss) and (self.best_loss is None or loss < self.best_loss):
            self.best_loss, self.best_x = loss, list(self._points[index])
        if all(v is not None for v in self._losses):
            losses = [v if v is not None and math.isfinite(v) else math.nan for v in self._losses]
            self._points, self._losses = [], []
            self._send(LOSSES, pack_floats(losses))

    def abort(self) -> SearchResult:
        """Stop now: kill the worker, keep the best point told."""
        if self.result is None:
            if self.worker is not None:
                self.worker.close()
            self._finish(None)
        return self.outcome()

    def outcome(self) -> SearchResult:
        """The result of the ended search (``RuntimeError`` while it runs)."""
        if self.result is None:
            raise RuntimeError("the NOMAD search is still running: no result yet")
        return self.result

    def release_worker(self) -> NomadWorker | None:
        """Hand back the worker of a finished search for reuse (None if it died)."""
        worker, self.worker = self.worker, None
        return worker if worker is not None and worker.alive and self.result is not None else None

    # ------------------------------------------------------------------ internals
    def _worker(self) -> NomadWorker:
        if self.worker is None:  # pragma: no cover - a running search always owns its worker
            raise RuntimeError("internal error: a running NOMAD search has no worker")
        return self.worker


    def _send(self, kind: bytes, payload: bytes) -> None:
        try:
            send(self._worker().sock, kind, payload)
        except OSError:
            self._crashed()

    def _crashed(self) -> None:
        worker = self._worker()
        message = worker.describe_death()
        worker.close()
        warnings.warn(f"{message}; the local search ends at the best point it reached "
                      f"({self.num_evals} evaluations)", NomadCrashWarning, stacklevel=4)
        self._finish(message)

    def _finish(self, crash: str | None) -> None:
        self._points, self._losses = [], []
        self.result = SearchResult(list(self.best_x), self.best_loss, self.num_evals, crash)
