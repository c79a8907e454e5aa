"""Many NOMAD searches (and plain evaluations) interleaved point by point, resumable after pickling.

The :class:`Scheduler` turns a queue of :class:`Job` s into a stream of points to evaluate, so an
ask/tell optimizer can serve several NOMAD searches at once through ``ask``/``tell``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .pool import WorkerPool
from .search import NomadSearch

__all__ = ["Job", "Scheduler"]


@dataclass
class Job:
    """A unit of scheduled work: a NOMAD search from ``x0`` in ``[lower, upper]`` or (no bounds) one
    evaluation of ``x0``. ``history`` holds the (point, loss) pairs a search was told before it was
    interrupted: a restart replays them to NOMAD (same seed, same points) without asking anyone."""

    key: int
    x0: list[float]
    lower: list[float] | None = None
    upper: list[float] | None = None
    max_bb_eval: int = 0
    seed: int = 0
    history: dict[tuple[float, ...], float] = field(default_factory=dict)

    @property
    def is_search(self) -> bool:
        return self.lower is not None


class _Running:
    """A started job: its search (None for a plain evaluation), the indices asked and not yet told,
    and the losses still to replay."""

    def __init__(self, job: Job, search: NomadSearch | None) -> None:
        self.job, self.search = job, search
        self.asked: set[int] = set()
        self.replay = dict(job.history)
        self.told: dict[tuple[float, ...], float] = {}


class Scheduler:
    """Runs queued :class:`Job` s, at most ``max_active`` at once, one point at a time.

    :meth:`next_point` gives ``(job_id, index, x)`` to evaluate (blocking only while a started
    search computes its next point) or None when every running job waits for losses and no job
    can start; :meth:`tell` routes a loss back. Finished jobs land in ``results`` as
    ``key -> (x, loss)``; :meth:`job_key` names the job a point belongs to. The order of points
    depends only on the order of tells, not on timing.
    Pickling (and :meth:`suspend`) keeps no process: a running search becomes a job that restarts
    NOMAD with the same seed and replays the losses already told, so it goes on exactly where it
    was (if NOMAD proposes a point it was never told, the replay stops and the search goes on
    from there, its best point included).
    """

    def __init__(self, max_active: int, options: Sequence[str], pool: WorkerPool | None = None) -> None:
        self.max_active = max_active
        self.options = tuple(options)
        self.queue: list[Job] = []
        self.running: dict[int, _Running] = {}
        self.results: dict[int, tuple[list[float], float]] = {}
        self._next_id = 0
        self._pool: WorkerPool | None = pool
        self._own_pool = pool is None

    @property
    def idle(self) -> bool:
        """Whether no job is queued or running."""
        return not self.queue and not self.running

    def submit(self, jobs: Iterable[Job]) -> None:
        """Queue ``jobs`` (started in order, as running ones finish)."""
        self.queue.extend(jobs)

    def job_key(self, jid: int) -> int:
        """The ``key`` of running job ``jid`` (the one a point from :meth:`next_point` belongs to)."""
        return self.running[jid].job.key

    def next_point(self) -> tuple[int, int, list[float]] | None:
        """The next point to evaluate, ``(job_id, index, x)``, or None (see the class notes)."""
        while True:
            for jid, run in list(self.running.items()):
                got = self._askable(jid, run)
                if got is not None:
                    return got
            if not self.queue or len(self.running) >= self.max_active:
                return None
            self._start(self.queue.pop(0))

    def tell(self, jid: int, index: int, loss: float) -> bool:
        """Route a loss; False if the job is gone (stale point, e.g. from before a restart)."""
        run = self.running.get(jid)
        if run is None or index not in run.asked:
            return False
        run.asked.discard(index)
        if run.search is None:
            del self.running[jid]
            self.results[run.job.key] = (list(run.job.x0), float(loss))
            return True
        run.told[tuple(run.search.point(index))] = float(loss)
        run.search.tell(index, loss)
        return True

    def abandon(self, jid: int, index: int) -> None:
        """The point will never be told: hand it out again at the next :meth:`next_point`."""
        run = self.running.get(jid)
        if run is not None:
            run.asked.discard(index)

    def suspend(self) -> None:
        """Kill the workers; running jobs go back to the front of the queue, to be replayed."""
        restarts = [self._restart_job(run) for run in self.running.values()]
        for run in self.running.values():
            if run.search is not None:
                run.search.abort()
        self.running.clear()
        self.queue[:0] = restarts
        if self._pool is not None and self._own_pool:
            self._pool.close()
            self._pool = None

    def close(self) -> None:
        """Same as :meth:`suspend`: no process is left."""
        self.suspend()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["queue"] = [self._restart_job(run) for run in self.running.values()] + self.queue
        state["results"] = dict(self.results)
        state["running"], state["_pool"], state["_own_pool"] = {}, None, True
        return state

    # ------------------------------------------------------------------ internals
    def _askable(self, jid: int, run: _Running) -> tuple[int, int, list[float]] | None:
        if run.search is None:
            known = run.replay.get(tuple(run.job.x0))
            if known is not None:  # evaluated before: no need to ask again
                del self.running[jid]
                self.results[run.job.key] = (list(run.job.x0), known)
                return None
            if 0 in run.asked:
                return None
            run.asked.add(0)
            return jid, 0, list(run.job.x0)
        while True:
            points = run.search.pending()
            if not points:  # block told: wait for NOMAD's next block (or its end)
                points = run.search.next_points()
                if run.search.done:
                    self._finish_search(jid, run, run.search)
                    return None
            if run.replay and all(tuple(x) in run.replay for _, x in points):
                for k, x in points:
                    run.told[tuple(x)] = run.replay[tuple(x)]
                    run.search.tell(k, run.replay[tuple(x)])
                continue
            run.replay = {}
            for k, x in points:
                if k not in run.asked:
                    run.asked.add(k)
                    return jid, k, x
            return None

    def _start(self, job: Job) -> None:
        jid, self._next_id = self._next_id, self._next_id + 1
        search = None
        if job.lower is not None and job.upper is not None:
            if self._pool is None:
                self._pool = WorkerPool()
            search = self._pool.start(job.x0, job.lower, job.upper, job.max_bb_eval, job.seed, self.options)
        self.running[jid] = _Running(job, search)

    def _finish_search(self, jid: int, run: _Running, search: NomadSearch) -> None:
        del self.running[jid]
        result = search.outcome()
        if self._pool is not None:
            self._pool.recycle(search)
        x, loss = result.x, result.loss
        for point, value in run.replay.items():  # a crash during a replay: keep the best told
            if loss is None or value < loss:
                x, loss = list(point), value
        if loss is None:  # died before any evaluation: evaluate the start point instead
            self.queue.insert(0, Job(run.job.key, run.job.x0))
            return
        self.results[run.job.key] = (list(x), loss)

    @staticmethod
    def _restart_job(run: _Running) -> Job:
        """The job that continues ``run``: same search, with every loss told so far to replay."""
        return replace(run.job, history={**run.replay, **run.told})
