"""NOMAD local searches in child processes: they really search, crashes are contained, nothing leaks."""

from __future__ import annotations

import gc
import pickle
import warnings

import pytest

import optimkit.nomad as nw
from optimkit.errors import NomadCrashWarning, OptimkitValueError

pytestmark = pytest.mark.nomad
pytest.importorskip("PyNomad")

FAST = ("DIRECTION_TYPE ORTHO 2N", "QUAD_MODEL_SEARCH no", "NM_SEARCH no")


def nomad_children() -> list[int]:
    """Pids of live NOMAD children of this process (Linux /proc)."""
    import os

    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"__nomad_child__" in cmd:
            pids.append(int(entry))
    return pids


def quadratic(x: list[float]) -> float:
    return sum((c - 0.3) ** 2 for c in x)


def test_nomad_really_moves_the_point() -> None:
    x0 = [0.6, 0.0, 0.5]
    result = nw.run_search(quadratic, x0, [-1.0] * 3, [1.0] * 3, max_bb_eval=60, seed=1, options=FAST)
    assert result.crash is None
    assert result.num_evals == 60  # the original's blackbox stopped NOMAD after one evaluation
    assert result.x != x0
    assert result.loss is not None and result.loss < 0.05 < quadratic(x0) / 4
    assert result.loss == pytest.approx(quadratic(result.x))


def test_block_evaluation_serves_several_points_at_once() -> None:
    pool = nw.WorkerPool()
    try:
        search = pool.start([0.5] * 3, [0.0] * 3, [1.0] * 3, 40, 3, (*FAST, "BB_MAX_BLOCK_SIZE 6"))
        sizes = []
        while points := search.next_points():
            sizes.append(len(points))
            for k, x in reversed(points):  # any order
                search.tell(k, quadratic(x))
        assert max(sizes) > 1
        assert search.result is not None and search.result.loss is not None
        assert search.result.loss < quadratic([0.5] * 3)
    finally:
        pool.close()


def test_crash_is_contained_and_the_run_goes_on() -> None:
    """PyNomad 4.6 segfaults on this 2-D sphere with default options: one search ends, not the process."""
    pool = nw.WorkerPool()
    try:
        with pytest.warns(NomadCrashWarning, match="SIGSEGV"):
            result = nw.run_search(lambda x: sum(c * c for c in x), [0.5, 0.5], [-1.0, -1.0], [1.0, 1.0],
                                   max_bb_eval=100, seed=0, options=(), pool=pool)
        assert result.crash is not None and "ArrayOfDouble" in result.crash
        assert result.x == [0.5, 0.5] and result.loss == 0.5  # best point it reached
        again = nw.run_search(quadratic, [0.5] * 3, [-1.0] * 3, [1.0] * 3, 30, 0, FAST, pool=pool)
        assert again.crash is None and again.loss is not None and again.loss < quadratic([0.5] * 3)
    finally:
        pool.close()
    assert nomad_children() == []


def test_same_seed_same_points_different_seed_different_points() -> None:
    def trace(seed: int, pool: nw.WorkerPool) -> list[tuple[float, ...]]:
        seen: list[tuple[float, ...]] = []

        def f(x: list[float]) -> float:
            seen.append(tuple(x))
            return quadratic(x)

        nw.run_search(f, [0.5] * 4, [-1.0] * 4, [1.0] * 4, 40, seed, FAST, pool=pool)
        return seen

    pool = nw.WorkerPool()
    try:
        a, b, c = trace(7, pool), trace(7, pool), trace(8, pool)
    finally:
        pool.close()
    assert a == b
    assert a != c


def test_workers_end_with_close_and_garbage_collection() -> None:
    pool = nw.WorkerPool()
    search = pool.start([0.5] * 3, [0.0] * 3, [1.0] * 3, 50, 0, FAST)
    assert search.next_points()  # mid-search: the child waits for a loss
    assert len(nomad_children()) == 1
    pool.close()
    assert nomad_children() == []
    worker = nw.NomadWorker()
    proc = worker.proc
    del worker
    gc.collect()
    assert proc.wait(timeout=10) is not None
    assert nomad_children() == []


def test_child_exits_when_parent_side_goes_away() -> None:
    worker = nw.NomadWorker()
    nw.NomadSearch(worker, [0.5] * 3, [0.0] * 3, [1.0] * 3, 50, 0, FAST).next_points()
    worker.sock.close()  # as if the parent died while NOMAD waits in its blackbox
    assert worker.proc.wait(timeout=10) == 0
    worker.close()


def test_scheduler_replays_interrupted_searches_exactly() -> None:
    def drive(sched: nw.Scheduler, n: int) -> list[list[float]]:
        seen = []
        for _ in range(n):
            got = sched.next_point()
            if got is None:
                break
            seen.append(got[2])
            sched.tell(got[0], got[1], quadratic(got[2]))
        return seen

    sched = nw.Scheduler(2, FAST)
    sched.submit([nw.Job(0, [0.9] * 3, [0.0] * 3, [1.0] * 3, 40, 1), nw.Job(1, [0.2, 0.4, 0.6])])
    drive(sched, 15)
    clone = pickle.loads(pickle.dumps(sched))  # no process in the pickle
    assert clone.running == {} and clone.queue[0].key == 0 and len(clone.queue[0].history) == 15
    assert len(nomad_children()) == 1  # pickling leaves the live search alone
    live = drive(sched, 10)
    replayed = drive(clone, 10)  # replays 15 told losses without asking, then goes on identically
    assert live == replayed
    sched.suspend()
    assert len(nomad_children()) == 1  # only the clone's search is left
    rest = drive(sched, 1000)  # resumes after suspension too
    assert len(rest) == 40 - 25 + 1  # the rest of the search, then the evaluation job
    drive(clone, 1000)
    clone.close()
    sched.close()
    assert set(sched.results) == {0, 1} and sched.results == clone.results
    assert sched.results[0][1] < quadratic([0.9] * 3)
    assert nomad_children() == []


def test_options_are_validated() -> None:
    assert nw.normalize_options({"DIRECTION_TYPE": "ORTHO 2N"}) == ("DIRECTION_TYPE ORTHO 2N",)
    assert nw.merge_options(FAST, ("NM_SEARCH yes",))[-1] == "NM_SEARCH yes"
    with pytest.raises(OptimkitValueError, match="MAX_BB_EVAL"):
        nw.normalize_options(["MAX_BB_EVAL 10"])
    with pytest.raises(OptimkitValueError, match="nomad_options"):
        nw.normalize_options(["NOVALUE"])


def test_missing_pynomad_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "PyNomad" else real(name, *a))
    with pytest.raises(ImportError, match=r"pip install optimkit\[nomad\]"):
        nw.check_pynomad()


def test_no_warning_without_crash() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nw.run_search(quadratic, [0.5] * 3, [0.0] * 3, [1.0] * 3, 20, 0, FAST)
