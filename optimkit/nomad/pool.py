"""Idle NOMAD workers kept for reuse, and one search run to its end on them.

A child starts in about 0.05-0.3 s and a search can take 10 ms, so workers are reused from search
to search. :func:`process_pool` is one pool per process: Ray workers use it so that successive
tasks reuse their NOMAD child.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

from .process import NomadWorker
from .search import NomadSearch, SearchResult

__all__ = ["WorkerPool", "run_search", "process_pool"]


class WorkerPool:
    """NOMAD workers: idle ones ready for the next search, and every one started (to close them)."""

    def __init__(self) -> None:
        self._idle: list[NomadWorker] = []
        self._all: weakref.WeakSet[NomadWorker] = weakref.WeakSet()

    def start(self, x0: Sequence[float], lower: Sequence[float], upper: Sequence[float],
              max_bb_eval: int, seed: int, options: Sequence[str]) -> NomadSearch:
        """Start a search on an idle worker, or on a new one."""
        while self._idle:
            worker = self._idle.pop()
            if worker.alive:
                break
        else:
            worker = NomadWorker()
            self._all.add(worker)
        return NomadSearch(worker, x0, lower, upper, max_bb_eval, seed, options)

    def recycle(self, search: NomadSearch) -> None:
        """Take back the worker of a finished search (a dead one is dropped)."""
        worker = search.release_worker()
        if worker is not None:
            self._idle.append(worker)

    def close(self) -> None:
        """Kill every worker this pool started (idle or busy)."""
        for worker in list(self._all):
            worker.close()
        self._idle.clear()

    def __len__(self) -> int:
        return sum(1 for w in list(self._all) if w.alive)


def run_search(objective: Callable[[list[float]], float], x0: Sequence[float], lower: Sequence[float],
               upper: Sequence[float], max_bb_eval: int, seed: int, options: Sequence[str] = (),
               pool: WorkerPool | None = None) -> SearchResult:
    """Run one NOMAD search to its end, evaluating ``objective`` (minimized) in this process.

    Without ``pool`` the search gets a worker of its own, closed at the end.
    """
    own = pool is None
    pool = WorkerPool() if pool is None else pool
    search = pool.start(x0, lower, upper, max_bb_eval, seed, options)
    try:
        while True:
            points = search.next_points()
            if not points:
                break
            for k, x in points:
                search.tell(k, objective(x))
        pool.recycle(search)
    finally:
        if not search.done:
            search.abort()
        if own:
            pool.close()
    return search.outcome()


_PROCESS_POOL: WorkerPool | None = None


def process_pool() -> WorkerPool:
    """A pool shared by this process (used inside Ray workers so tasks reuse their NOMAD child)."""
    global _PROCESS_POOL
    if _PROCESS_POOL is None:
        _PROCESS_POOL = WorkerPool()
    return _PROCESS_POOL
