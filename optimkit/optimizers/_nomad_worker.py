"""NOMAD local searches in child processes, driven point by point from the parent.

PyNomad runs its own evaluation loop and can kill its process (PyNomad 4.6 dies with SIGSEGV on a
2-D sphere started at ``[0.5, 0.5]`` in ``[-1, 1]^2`` with default options). So each search runs
in a child process (a plain ``python`` started with :mod:`subprocess`, never a fork of the user's
process and never a re-import of the user's ``__main__``), and the child's blackbox sends every
point to the parent over a socket and waits for its loss: the parent turns NOMAD's loop inside
out and can serve the points through ``ask``/``tell``. NOMAD minimizes; so does everything here.

A child that dies ends its search with the best point the parent told it, with a
:class:`optimkit.errors.NomadCrashWarning` that names the crash; the worker is replaced for the
next search. Children are daemons in spirit: they exit when their socket closes (parent gone),
and :meth:`NomadWorker.close` (also run by a ``weakref.finalize`` at garbage collection and at
interpreter exit) kills them.
"""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# ---------------------------------------------------------------------------------------------
# Wire protocol: 1 type byte + 4-byte little-endian payload length + payload.
# parent -> child: b"S" json start, b"L" float64 losses (NaN = failed evaluation), b"Q" quit.
# child -> parent: b"H" json hello, b"I" import error text, b"P" float64 points (m x n),
#                  b"D" json result, b"E" error text (Python-level error inside PyNomad.optimize).
# ---------------------------------------------------------------------------------------------
_HEADER = struct.Struct("<cI")


def _send(sock: socket.socket, kind: bytes, payload: bytes = b"") -> None:
    sock.sendall(_HEADER.pack(kind, len(payload)) + payload)


def _recv(sock: socket.socket) -> tuple[bytes, bytes] | None:
    """One message, or None at end of stream. One ``recv`` call in the usual case: the protocol
    is strictly request/response, so at most one message is ever in flight per direction."""
    data = b""
    need = _HEADER.size
    while len(data) < need:
        chunk = sock.recv(max(65536, need - len(data)))
        if not chunk:
            return None
        data += chunk
        if len(data) >= _HEADER.size:
            need = _HEADER.size + _HEADER.unpack_from(data)[1]
    return data[:1], data[_HEADER.size:need]


def _pack(values: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(values)}d", *values)


def _unpack(payload: bytes) -> tuple[float, ...]:
    return struct.unpack(f"<{len(payload) // 8}d", payload)


# --------------------------------------------------------------------------------- child side
def _child_main(fd: int) -> None:  # pragma: no cover - runs in the child process
    """Serve NOMAD searches over the socket ``fd`` until told to quit or the parent goes away."""
    sock = socket.socket(fileno=fd)
    try:
        import PyNomad
    except ImportError as exc:
        _send(sock, b"I", str(exc).encode())
        return
    _send(sock, b"H", json.dumps({"pid": os.getpid()}).encode())

    def exchange(points: list[list[float]]) -> tuple[float, ...]:
        try:
            _send(sock, b"P", _pack([c for p in points for c in p]))
            message = _recv(sock)
        except OSError:
            message = None
        if message is None or message[0] != b"L":
            os._exit(0)  # parent gone or search aborted: leave without unwinding through NOMAD
        return _unpack(message[1])

    def set_output(x: Any, loss: float) -> bool:
        if not math.isfinite(loss):
            return False  # failed evaluation for NOMAD
        x.setBBO(repr(loss).encode("utf-8"))
        return True

    def blackbox(x: Any) -> int:
        (loss,) = exchange([[x.get_coord(i) for i in range(x.size())]])
        return int(set_output(x, loss))

    def blackbox_block(block: Any) -> list[bool]:
        points = [block.get_x(k) for k in range(block.size())]
        losses = exchange([[p.get_coord(i) for i in range(p.size())] for p in points])
        return [set_output(p, loss) for p, loss in zip(points, losses)]

    while True:
        message = _recv(sock)
        if message is None or message[0] == b"Q":
            return
        start = json.loads(message[1])
        block = any(o.split()[0].upper() == "BB_MAX_BLOCK_SIZE" and int(o.split()[1]) > 1
                    for o in start["options"])
        # PyNomad keeps one static RNG: it reseeds from the SEED option only when the value differs
        # from the stored seed, so store another value first (measured: same seed, same points).
        PyNomad.setSeed(start["seed"] + 1)
        try:
            res = PyNomad.optimize(blackbox_block if block else blackbox, start["x0"], start["lb"],
                                   start["ub"], start["options"])
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            _send(sock, b"E", f"{type(exc).__name__}: {exc}".encode())
            continue
        x = res.get("x_single_best", res.get("x_best"))
        f = res.get("f_single_best", res.get("f_best"))
        _send(sock, b"D", json.dumps({"x": list(x) if x else None, "f": f,
                                      "nb_evals": res.get("nb_evals"),
                                      "stop_reason": str(res.get("stop_reason", ""))}).encode())


# -------------------------------------------------------------------------------- parent side
NOMAD_INSTALL_HINT = "EA-NOMAD needs PyNomad (NOMAD 4.x): pip install optimkit[nomad]"

#: NOMAD 4.6 seeds its generator in time proportional to the SEED value (measured: setSeed(1e6)
#: takes 44 ms, SEED 5e6 adds 0.3 s to a 30-evaluation run, and 1e8 or more seems to hang), so
#: seeds are reduced modulo this (costs < 1 ms; seed + 1 is used too).
NOMAD_SEED_LIMIT = 2**16 - 1

#: Options the worker sets itself (from the search's arguments); users may not pass them.
MANAGED_OPTIONS = frozenset({"DIMENSION", "X0", "LOWER_BOUND", "UPPER_BOUND", "MAX_BB_EVAL", "SEED",
                             "BB_OUTPUT_TYPE"})


def check_pynomad() -> str:
    """Return the installed PyNomadBBO version; raise an ImportError naming the extra if missing."""
    import importlib.metadata
    import importlib.util

    if importlib.util.find_spec("PyNomad") is None:
        raise ImportError(NOMAD_INSTALL_HINT)
    try:
        return importlib.metadata.version("PyNomadBBO")
    except importlib.metadata.PackageNotFoundError:  # built from source: trust the module
        return "unknown"


def normalize_options(options: Mapping[str, Any] | Iterable[str] | None) -> tuple[str, ...]:
    """NOMAD options as ``"KEY value"`` strings from a mapping or strings; reject managed keys."""
    from ..errors import OptimkitValueError

    if options is None:
        return ()
    if isinstance(options, str):
        options = [options]
    items = [f"{k} {v}" for k, v in options.items()] if isinstance(options, Mapping) else list(options)
    out = []
    for item in items:
        if not isinstance(item, str) or len(item.split()) < 2:
            raise OptimkitValueError(
                f"nomad_options: {item!r} is not a NOMAD option; use 'KEY value' strings or a dict")
        key = item.split()[0].upper()
        if key in MANAGED_OPTIONS:
            raise OptimkitValueError(
                f"nomad_options: {key} is set by optimkit (from max_bb_eval, bounds, seed); "
                f"accepted: any other NOMAD option")
        out.append(item.strip())
    return tuple(out)


def merge_options(defaults: Iterable[str], overrides: Iterable[str]) -> tuple[str, ...]:
    """Defaults with each key the user gave replaced by the user's line."""
    keys = {o.split()[0].upper() for o in overrides}
    return tuple(o for o in defaults if o.split()[0].upper() not in keys) + tuple(overrides)


def _finalize_worker(proc: subprocess.Popen[bytes], sock: socket.socket, log: Any) -> None:
    for action in (sock.close, proc.kill, log.close):
        try:
            action()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - kill cannot be ignored
        pass


class NomadWorker:
    """One child process that runs NOMAD searches one after the other."""

    def __init__(self) -> None:
        parent_sock, child_sock = socket.socketpair()
        # NOMAD's own prints (and a dying child's last words) go to a file, never to our protocol.
        self._log = tempfile.TemporaryFile(mode="a+b")
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", "1")
        code = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__nomad_child__')"
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, os.path.abspath(__file__), str(child_sock.fileno())],
                pass_fds=(child_sock.fileno(),), stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=subprocess.STDOUT, env=env, close_fds=True)
        finally:
            child_sock.close()
        self.sock = parent_sock
        self._finalizer = weakref.finalize(self, _finalize_worker, self.proc, self.sock, self._log)
        message = _recv(self.sock)
        if message is None or message[0] != b"H":
            reason = message[1].decode() if message else self.describe_death()
            self.close()
            raise ImportError(f"{NOMAD_INSTALL_HINT} (worker: {reason})")

    @property
    def alive(self) -> bool:
        return self._finalizer.alive and self.proc.poll() is None

    def fileno(self) -> int:
        return self.sock.fileno()

    def describe_death(self) -> str:
        """Exit status (signal name) and the last lines the child printed."""
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            code = None
        if code is not None and code < 0:
            status = f"killed by {signal.Signals(-code).name}"
        else:
            status = f"exited with status {code}"
        try:
            self._log.seek(0, os.SEEK_END)
            self._log.seek(max(0, self._log.tell() - 600))
            tail = self._log.read().decode(errors="replace").strip().splitlines()[-3:]
        except (OSError, ValueError):
            tail = []
        return f"NOMAD process {self.proc.pid} {status}" + (f"; last output: {' | '.join(tail)}" if tail else "")

    def reset_log(self) -> None:
        """Forget what the child printed so far (each search starts a fresh log; the file is in append mode)."""
        try:
            self._log.truncate(0)
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        """Kill the child and release its socket and log (idempotent)."""
        self._finalizer()


@dataclass
class SearchResult:
    """Outcome of one local search (minimizing): best point told and its loss (None if none)."""

    x: list[float]
    loss: float | None
    num_evals: int
    crash: str | None = None


class NomadSearch:
    """Parent-side handle of one NOMAD search running on a :class:`NomadWorker`.

    Points come out of :meth:`next_points` (or :meth:`poll`); each must get its loss through
    :meth:`tell` (by index). The parent keeps the best point told, which is the result even if
    the child dies.
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
        self._send(b"S", json.dumps(start).encode())

    @property
    def done(self) -> bool:
        return self.result is not None

    def pending(self) -> list[tuple[int, list[float]]]:
        """Points of the current block whose loss is still unknown, with their indices."""
        return [(k, p) for k, (p, v) in enumerate(zip(self._points, self._losses)) if v is None]

    def next_points(self) -> list[tuple[int, list[float]]]:
        """Block until NOMAD proposes points (returned) or ends (returns ``[]``, see ``result``)."""
        if self.result is not None or self._points:
            return self.pending() if self._points else []
        assert self.worker is not None  # internal invariant: a running search owns a worker
        message = _recv(self.worker.sock) if self.worker.alive else None
        if message is None:
            self._crashed()
        elif message[0] == b"P":
            flat = _unpack(message[1])
            self._points = [list(flat[i:i + self.n]) for i in range(0, len(flat), self.n)]
            self._losses = [None] * len(self._points)
            return self.pending()
        elif message[0] == b"D":
            self._finish(None)
        else:  # b"E": bad options and the like: a user error, not a crash
            from ..errors import OptimkitValueError

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
            self._send(b"L", _pack(losses))

    def abort(self) -> SearchResult:
        """Stop now: kill the worker, keep the best point told."""
        if self.result is None:
            if self.worker is not None:
                self.worker.close()
            self._finish(None)
        assert self.result is not None
        return self.result

    def release_worker(self) -> NomadWorker | None:
        """Hand back the worker of a finished search for reuse (None if it died)."""
        worker, self.worker = self.worker, None
        return worker if worker is not None and worker.alive and self.result is not None else None

    def _send(self, kind: bytes, payload: bytes) -> None:
        try:
            assert self.worker is not None
            _send(self.worker.sock, kind, payload)
        except OSError:
            self._crashed()

    def _crashed(self) -> None:
        assert self.worker is not None
        message = self.worker.describe_death()
        self.worker.close()
        warnings.warn(f"{message}; the local search ends at the best point it reached "
                      f"({self.num_evals} evaluations)", _crash_warning(), stacklevel=4)
        self._finish(message)

    def _finish(self, crash: str | None) -> None:
        self._points, self._losses = [], []
        self.result = SearchResult(list(self.best_x), self.best_loss, self.num_evals, crash)


def _crash_warning() -> type[Warning]:
    from ..errors import NomadCrashWarning

    return NomadCrashWarning


class WorkerPool:
    """Idle NOMAD workers kept for reuse (a child starts in ~0.1-0.3 s; a search can take 10 ms)."""

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
    """Run one NOMAD search to its end, evaluating ``objective`` (minimized) in this process."""
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
    assert search.result is not None
    return search.result


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
    ``key -> (x, loss)``. The order of points depends only on the order of tells, not on timing.
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
        return not self.queue and not self.running

    def submit(self, jobs: Iterable[Job]) -> None:
        self.queue.extend(jobs)

    def next_point(self) -> tuple[int, int, list[float]] | None:
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
        run.told[tuple(run.search._points[index])] = float(loss)
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
                    self._finish_search(jid, run)
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
        if job.is_search:
            if self._pool is None:
                self._pool = WorkerPool()
            assert job.lower is not None and job.upper is not None
            search = self._pool.start(job.x0, job.lower, job.upper, job.max_bb_eval, job.seed, self.options)
        self.running[jid] = _Running(job, search)

    def _finish_search(self, jid: int, run: _Running) -> None:
        del self.running[jid]
        assert run.search is not None and run.search.result is not None
        result = run.search.result
        if self._pool is not None:
            self._pool.recycle(run.search)
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


_PROCESS_POOL: WorkerPool | None = None


def process_pool() -> WorkerPool:
    """A pool shared by this process (used inside Ray workers so tasks reuse their NOMAD child)."""
    global _PROCESS_POOL
    if _PROCESS_POOL is None:
        _PROCESS_POOL = WorkerPool()
    return _PROCESS_POOL


if __name__ == "__nomad_child__":  # started by NomadWorker through runpy
    _child_main(int(sys.argv[1]))
