"""Crash-safe checkpoint/resume: SIGKILL a seeded ``minimize(..., checkpoint=path)`` run in a child
process, resume from the checkpoint in another process, and check the counters and that the
resumed asks are exactly those of an uninterrupted run.

Two kills: one while the run is blocked inside the objective (a known checkpoint), one at an
arbitrary moment of a run that checkpoints after every tell (the dump must be atomic: the
checkpoint always loads).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import optimkit as ok

REPO = Path(__file__).resolve().parents[1]
SEED = 7
DIM = 3
OPTIMIZERS = ["RandomSearch", "ANSR", "XNES"]

CHILD = r'''
import json, os, sys, time
import numpy as np
import optimkit as ok

mode, name, ckpt, log, budget, every, hold, extra = sys.argv[1:9]
budget, every, hold, extra = int(budget), int(every), int(hold), int(extra)


def objective(x):
    x = np.asarray(x, dtype=float)
    with open(log, "a") as f:
        f.write(json.dumps([float(v) for v in x]) + "\n")
        f.flush()
    if hold and sum(1 for _ in open(log)) >= hold:
        open(log + ".holding", "w").close()
        time.sleep(600)  # blocked inside the objective until SIGKILLed
    return float(np.sum(np.square(x - 0.5)))


if mode == "run":
    param = ok.p.Array(shape=(__DIM__,))
    param.random_state.seed(__SEED__)
    opt = ok.optimizers.registry[name](parametrization=param, budget=budget)
    opt.minimize(objective, checkpoint=ckpt, checkpoint_every=every)
else:  # resume from the checkpoint
    opt = ok.optimizers.base.load(ckpt)
    print(json.dumps({"num_ask": opt.num_ask, "num_tell": opt.num_tell}), flush=True)
    if extra:  # a few more asks by hand (the budget of that run is huge)
        for _ in range(extra):
            cand = opt.ask()
            opt.tell(cand, objective(cand.value))
    else:  # finish the run as minimize would have (resume=True: the checkpoint exists)
        opt.minimize(objective, checkpoint=ckpt, checkpoint_every=every, resume=True)
    print(json.dumps({"num_ask": opt.num_ask, "num_tell": opt.num_tell}), flush=True)
'''.replace("__DIM__", str(DIM)).replace("__SEED__", str(SEED))


def reference_asks(name: str, n: int) -> np.ndarray:
    """The first ``n`` asks of an uninterrupted seeded sequential run (same objective)."""
    param = ok.p.Array(shape=(DIM,))
    param.random_state.seed(SEED)
    opt = ok.optimizers.registry[name](parametrization=param, budget=10**6)
    asks = []
    for _ in range(n):
        cand = opt.ask()
        x = np.asarray(cand.value, dtype=float)
        asks.append(x)
        opt.tell(cand, float(np.sum(np.square(x - 0.5))))
    return np.array(asks)


def read_log(path: Path) -> np.ndarray:
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # the line being written when the process was killed
            break
    return np.array(rows, dtype=float).reshape(-1, DIM)


def start(tmp_path: Path, *argv: object) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.Popen(
        [sys.executable, str(script), *map(str, argv)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def wait_until(predicate, proc: subprocess.Popen, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"child exited ({proc.returncode}) before {what}: {proc.stderr.read()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate(timeout=30)
            raise AssertionError(f"child never reached {what}")
        time.sleep(0.01)


def sigkill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps it and closes its pipes
    assert proc.returncode == -signal.SIGKILL


def resume(tmp_path: Path, name: str, ckpt: Path, log: Path, budget: int, every: int, extra: int):
    proc = start(tmp_path, "resume", name, ckpt, log, budget, every, 0, extra)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    first, last = (json.loads(line) for line in out.strip().splitlines()[-2:])
    return first, last


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_sigkill_inside_objective_then_resume_matches_uninterrupted_run(tmp_path, name):
    budget, every, hold = 40, 5, 23  # killed during evaluation 23: last checkpoint after 20 tells
    ckpt, log = tmp_path / "run.ckpt", tmp_path / "first.jsonl"
    proc = start(tmp_path, "run", name, ckpt, log, budget, every, hold, 0)
    wait_until(lambda: Path(str(log) + ".holding").exists(), proc, "the held evaluation")
    sigkill(proc)

    log2 = tmp_path / "resumed.jsonl"
    loaded, final = resume(tmp_path, name, ckpt, log2, budget, every, extra=0)
    assert loaded == {"num_ask": 20, "num_tell": 20}
    assert final == {"num_ask": budget, "num_tell": budget}
    reference = reference_asks(name, budget)
    np.testing.assert_array_equal(read_log(log)[:hold], reference[:hold])  # the first process, for sanity
    np.testing.assert_array_equal(read_log(log2), reference[20:budget])
    assert not list(tmp_path.glob(".run.ckpt.tmp*"))  # the finishing run leaves no temp file behind


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_sigkill_at_any_moment_leaves_a_loadable_checkpoint(tmp_path, name):
    """Checkpoint after every tell and kill mid-run: whatever was being written, the last
    complete checkpoint loads, and resuming from it continues the uninterrupted sequence."""
    ckpt, log = tmp_path / "run.ckpt", tmp_path / "first.jsonl"
    proc = start(tmp_path, "run", name, ckpt, log, 10**6, 1, 0, 0)
    wait_until(lambda: log.exists() and log.stat().st_size > 0 and len(read_log(log)) >= 60, proc, "60 evaluations")
    sigkill(proc)

    extra = 15
    loaded, final = resume(tmp_path, name, ckpt, tmp_path / "resumed.jsonl", 10**6, 1, extra=extra)
    k = loaded["num_tell"]
    evaluated = len(read_log(log))
    assert loaded["num_ask"] == k and evaluated - 1 <= k <= evaluated  # at most the evaluation in flight is lost
    assert final == {"num_ask": k + extra, "num_tell": k + extra}
    reference = reference_asks(name, k + extra)
    np.testing.assert_array_equal(read_log(tmp_path / "resumed.jsonl"), reference[k:])
