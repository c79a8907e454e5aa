"""``minimize`` reliability (issue 13): per-evaluation timeouts under every executor, ``max_time``
while evaluations hang, the failure policy, dying workers, unmeetable Ray resources, checkpoints
that are never silently overwritten (resume / overwrite), the final checkpoint on Ctrl-C and on
errors, a ``tell`` that raises, and ``verbosity=1`` on short runs.

Objectives that run in child processes are pickled by value (cloudpickle), so a child imports
numpy only, not this module. Ray tests start one local Ray for the module, at the end of the file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

import optimkit as ok
from optimkit import errors

cloudpickle.register_pickle_by_value(sys.modules[__name__])
REPO = Path(__file__).resolve().parents[1]


def sphere(x):
    return float(np.sum(np.square(x)))


def hang_right_half(x):
    """Hangs (60 s) for candidates with x[0] > 0.5, else the sphere."""
    if x[0] > 0.5:
        time.sleep(60)
    return float(np.sum(np.square(x)))


def exit_always(x):
    os._exit(3)  # the worker process dies mid-evaluation


class HangOnce:
    """Hangs the first evaluation only (the first to create ``marker``), for ``seconds``; writes its pid."""

    def __init__(self, marker, seconds):
        self.marker, self.seconds = str(marker), seconds

    def __call__(self, x):
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return float(np.sum(np.square(x)))
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        time.sleep(self.seconds)
        return float(np.sum(np.square(x)))


def recorder(opt):
    """Record every told (value, loss) of ``opt`` through a tell callback."""
    told = []
    opt.register_callback("tell", lambda o, cand, loss: told.append((np.array(cand.value, dtype=float), loss)))
    return told


# ------------------------------------------------------------------ eval_timeout, sequential
def test_sequential_eval_timeout_kills_the_hanging_evaluation_and_tells_it_failed():
    opt = ok.optimizers.RandomSearch(parametrization=ok.p.Array(shape=(2,), lower=0.0, upper=1.0), budget=8, seed=3)
    told = recorder(opt)
    start = time.monotonic()
    with pytest.warns(errors.EvaluationFailedWarning, match="eval_timeout=0.4"):
        opt.minimize(hang_right_half, eval_timeout=0.4, max_consecutive_failures=None)
    elapsed = time.monotonic() - start
    assert opt.num_tell == opt.num_ask == 8
    hung = [loss for x, loss in told if x[0] > 0.5]
    assert hung and all(loss == float("inf") for loss in hung)  # told as failed, late result ignored
    assert all(np.isfinite(loss) for x, loss in told if x[0] <= 0.5)
    assert elapsed < 8 * 0.4 + 6  # each hang ended by the timeout, never the 60 s sleep


def test_worker_that_dies_every_time_stops_the_run_with_an_error():
    """Finding 11: an objective that kills its worker every time must not give a "successful" run."""
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=100, seed=0)
    with pytest.raises(errors.TooManyFailuresError, match="failed in a row.*max_consecutive_failures=10") as info:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", errors.EvaluationFailedWarning)
            opt.minimize(exit_always, eval_timeout=30)  # a child process: the dying one is replaced
    assert info.value.num_failures == 11
    assert isinstance(info.value.last_exception, errors.WorkerDiedError)
    assert "exit code 3" in str(info.value)
    assert opt.num_tell == 11 < opt.budget


def test_max_time_returns_while_an_evaluation_hangs_in_the_child_process():
    opt = ok.optimizers.RandomSearch(parametrization=ok.p.Array(shape=(2,), lower=0.0, upper=1.0), budget=50, seed=3)
    start = time.monotonic()
    opt.minimize(hang_right_half, eval_timeout=float("inf"), max_time=1.0)  # no limit per evaluation
    assert time.monotonic() - start < 4.0
    assert opt.num_tell == opt.num_ask < 50  # the hanging candidate was abandoned, not told


# ------------------------------------------------------------------ eval_timeout, pools
def test_thread_pool_eval_timeout_gives_up_on_the_future_and_warns():
    release = threading.Event()
    calls = []

    def objective(x):
        calls.append(1)
        if len(calls) == 1:
            release.wait(30)  # a thread cannot be killed: it stays busy until released
        return float(np.sum(np.square(x)))

    opt = ok.optimizers.RandomSearch(parametrization=2, budget=10, num_workers=2, seed=0)
    told = recorder(opt)
    with ThreadPoolExecutor(max_workers=2) as pool:
        start = time.monotonic()
        with pytest.warns(errors.EvaluationFailedWarning, match="stays busy"):
            opt.minimize(objective, executor=pool, eval_timeout=0.3)
        elapsed = time.monotonic() - start
        release.set()
    assert elapsed < 5.0
    assert opt.num_tell == 10 and sum(loss == float("inf") for _, loss in told) == 1


def test_pool_whose_workers_are_all_stuck_stops_instead_of_hanging():
    release = threading.Event()
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=100, num_workers=2, seed=0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        start = time.monotonic()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", errors.EvaluationFailedWarning)
            with pytest.raises(errors.TooManyFailuresError, match="EvaluationTimeoutError"):
                opt.minimize(lambda x: release.wait(30), executor=pool, eval_timeout=0.2, max_consecutive_failures=4)
        elapsed = time.monotonic() - start
        release.set()
    assert elapsed < 5.0 and opt.num_tell == 5  # queued evaluations timed out too, once workers were stuck


def test_process_pool_eval_timeout(tmp_path):
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=8, num_workers=2, seed=0)
    told = recorder(opt)
    pool = ProcessPoolExecutor(max_workers=2)
    try:
        list(pool.map(abs, range(-20, 0)))  # start the workers first
        start = time.monotonic()
        with pytest.warns(errors.EvaluationFailedWarning, match="ProcessPoolExecutor cannot stop"):
            opt.minimize(HangOnce(tmp_path / "hung", 5.0), executor=pool, eval_timeout=1.0)
        elapsed = time.monotonic() - start
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # waits for the stuck worker (5 s at most)
    assert elapsed < 4.5
    assert opt.num_tell == 8 and sum(loss == float("inf") for _, loss in told) == 1


def test_max_time_returns_while_a_pool_evaluation_hangs():
    release = threading.Event()

    def objective(x):
        if x[0] > 0:
            release.wait(30)
        return float(np.sum(np.square(x)))

    opt = ok.optimizers.RandomSearch(parametrization=2, budget=1000, num_workers=2, seed=0)
    with ThreadPoolExecutor(max_workers=2) as pool:
        start = time.monotonic()
        opt.minimize(objective, executor=pool, max_time=0.5)
        elapsed = time.monotonic() - start
        release.set()
    assert elapsed < 2.0
    assert opt.num_ask == opt.num_tell  # the hanging candidates were abandoned (re-issued by a later run)


# ------------------------------------------------------------------ failure policy
def test_max_failures_stops_with_the_error_after_the_final_checkpoint(tmp_path):
    def flaky(x):
        if x[0] > 0:
            raise ValueError(f"simulation diverged at {x[0]:.3f}")
        return float(np.sum(np.square(x)))

    ckpt = tmp_path / "run.ckpt"
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=200, seed=1)
    with pytest.warns(errors.EvaluationFailedWarning, match="the objective raised"):
        with pytest.raises(errors.TooManyFailuresError, match=r"4 evaluations .* max_failures=3.*ValueError: simulation") as info:
            opt.minimize(flaky, max_failures=3, checkpoint=ckpt, checkpoint_every=1000)
    assert isinstance(info.value, RuntimeError) and info.value.num_failures == 4
    assert isinstance(info.value.last_exception, ValueError)
    assert type(opt).load(ckpt).num_tell == opt.num_tell  # the final checkpoint has every tell


def test_without_max_failures_an_objective_error_is_reraised_and_abandoned():
    def broken(x):
        raise KeyError("missing input")

    opt = ok.optimizers.RandomSearch(parametrization=2, budget=20, seed=0)
    with pytest.raises(KeyError, match="missing input"):
        opt.minimize(broken, eval_timeout=30)  # also through the child process
    assert opt.num_ask == opt.num_tell == 0


def test_nan_is_a_told_loss_not_a_failure():
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=15, seed=0)
    with pytest.warns(errors.NanLossWarning):
        opt.minimize(lambda x: float("nan"), max_failures=0, max_consecutive_failures=1)
    assert opt.num_tell == 15


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"eval_timeout": 0}, "eval_timeout"),
        ({"max_failures": -1}, "max_failures"),
        ({"max_consecutive_failures": 0}, "max_consecutive_failures"),
        ({"resume": True, "overwrite": True}, "exclude each other"),
        ({"resume": True}, "give checkpoint=path"),
        ({"vectorized": True, "eval_timeout": 1.0}, "vectorized=True"),
    ],
)
def test_bad_reliability_options(kwargs, match):
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=5)
    with pytest.raises(errors.OptimkitValueError, match=match):
        opt.minimize(sphere, **kwargs)
    assert opt.num_ask == 0


# ------------------------------------------------------------------ tell raising
def test_tell_raising_abandons_the_candidate_and_a_later_minimize_goes_on():
    calls = []

    def returns_a_dict_once(x):
        calls.append(1)
        return {"loss": 1.0} if len(calls) == 5 else float(np.sum(np.square(x)))

    opt = ok.optimizers.registry["ANSR"](parametrization=3, budget=80, popsize=8, seed=0)
    with pytest.raises(TypeError):
        opt.minimize(returns_a_dict_once)
    assert opt.num_ask == opt.num_tell == 4  # the fifth candidate was abandoned, not left in flight
    opt.minimize(sphere)
    assert opt.num_tell == 80 and opt.num_epochs == 10  # every epoch completes (finding 2)


# ------------------------------------------------------------------ checkpoints
def asks_of(opt, budget, **kwargs):
    asks = []

    def objective(x):
        asks.append(np.array(x, dtype=float))
        return float(np.sum(np.square(x - 0.3)))

    opt.minimize(objective, **kwargs)
    return np.array(asks)


def ansr(budget):
    return ok.optimizers.registry["ANSR"](parametrization=3, budget=budget, popsize=6, seed=5)


def test_existing_checkpoint_is_refused_then_resumed_or_overwritten(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    first = asks_of(ansr(10), 10, checkpoint=ckpt)

    newcomer = ansr(25)
    with pytest.raises(errors.CheckpointExistsError, match=r"run\.ckpt.*resume=True.*overwrite=True") as info:
        newcomer.minimize(sphere, checkpoint=ckpt)
    assert isinstance(info.value, FileExistsError)
    assert newcomer.num_ask == 0 and type(newcomer).load(ckpt).num_tell == 10  # the file is untouched

    resumed = ansr(25)  # this run's budget: 15 more evaluations
    rest = asks_of(resumed, 25, checkpoint=ckpt, resume=True)
    assert resumed.num_tell == 25 and len(rest) == 15
    np.testing.assert_array_equal(np.concatenate([first, rest]), asks_of(ansr(25), 25))  # identical continuation
    assert type(resumed).load(ckpt).num_tell == 25

    fresh = ansr(7)
    asks_of(fresh, 7, checkpoint=ckpt, overwrite=True)
    assert fresh.num_tell == 7 and type(fresh).load(ckpt).num_tell == 7


def test_resume_without_a_file_starts_from_scratch_and_keeps_callbacks(tmp_path):
    opt = ansr(12)
    told = recorder(opt)
    opt.minimize(sphere, checkpoint=tmp_path / "new.ckpt", resume=True)
    assert opt.num_tell == 12 == len(told)
    again = ansr(20)
    told_again = recorder(again)
    again.minimize(sphere, checkpoint=tmp_path / "new.ckpt", resume=True)
    assert again.num_tell == 20 and len(told_again) == 8  # this run's callback, registered once


def test_resume_refuses_another_optimizer_or_parametrization(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    ansr(6).minimize(sphere, checkpoint=ckpt)
    other = ok.optimizers.RandomSearch(parametrization=3, budget=10)
    with pytest.raises(errors.OptimkitValueError, match="run.ckpt"):
        other.minimize(sphere, checkpoint=ckpt, resume=True)
    wider = ok.optimizers.registry["ANSR"](parametrization=4, budget=10, popsize=6)
    with pytest.raises(errors.CheckpointError, match="same parametrization"):
        wider.minimize(sphere, checkpoint=ckpt, resume=True)
    assert other.num_ask == wider.num_ask == 0


def test_checkpoint_path_and_dumpability_are_checked_before_the_first_evaluation(tmp_path):
    calls = []

    def counted(x):
        calls.append(1)
        return 0.0

    opt = ok.optimizers.RandomSearch(parametrization=2, budget=5)
    with pytest.raises(errors.CheckpointError, match="is a folder"):
        opt.minimize(counted, checkpoint=tmp_path)
    with pytest.raises(errors.CheckpointError, match="does not exist"):
        opt.minimize(counted, checkpoint=tmp_path / "missing" / "run.ckpt")
    param = ok.p.Array(shape=(2,))
    param.register_cheap_constraint(lambda x: x[0] > -10)  # a lambda: cannot be stored in a dump
    constrained = ok.optimizers.RandomSearch(parametrization=param, budget=5)
    with pytest.raises(errors.CheckpointError, match=r"checkpoint='[^']*run\.ckpt'") as info:
        constrained.minimize(counted, checkpoint=tmp_path / "run.ckpt")
    assert ".tmp" not in str(info.value).split(";")[0]  # names the checkpoint, not a temp file
    assert calls == []


CTRL_C_CHILD = r"""
import sys, time
import numpy as np
import optimkit as ok

ckpt, marker = sys.argv[1:3]
calls = []

def objective(x):
    calls.append(1)
    if len(calls) == 23:
        open(marker, "w").close()
        time.sleep(60)  # interrupted here by SIGINT
    return float(np.sum(np.square(x)))

opt = ok.optimizers.registry["ANSR"](parametrization=3, budget=1000, popsize=8, seed=0)
opt.minimize(objective, checkpoint=ckpt, checkpoint_every=1000)
"""


def test_ctrl_c_writes_a_final_checkpoint(tmp_path):
    script, ckpt, marker = tmp_path / "child.py", tmp_path / "run.ckpt", tmp_path / "holding"
    script.write_text(CTRL_C_CHILD)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(ckpt), str(marker)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    loaded = ok.optimizers.registry["ANSR"].load(ckpt)
    assert loaded.num_tell == loaded.num_ask == 22  # everything told before Ctrl-C (checkpoint_every=1000)
    assert loaded.num_epochs == 2


# ------------------------------------------------------------------ verbosity
def test_verbosity_1_reports_as_it_goes_even_for_a_short_run(capsys):
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=30, seed=0)
    opt.minimize(sphere, verbosity=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[RandomSearch] tell 1/30: loss=")
    assert any("tell 3/30" in line for line in lines) and any("tell 30/30" in line for line in lines)
    assert "done: 30 evaluations told" in lines[-1] and "best loss" in lines[-1]
    assert len(lines) <= 13  # every tenth of the budget, not every tell


# ------------------------------------------------------------------ Ray
@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray
    ray.shutdown()


def gone(pid, limit=10.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.ray
def test_ray_eval_timeout_kills_the_task(ray_local, tmp_path):
    executor = ok.executors.RayExecutor()
    # a Ray evaluation's clock starts at submission: start the two workers first
    ok.optimizers.RandomSearch(parametrization=2, budget=4, num_workers=2).minimize(sphere, executor=executor)
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=6, num_workers=2, seed=0)
    told = recorder(opt)
    start = time.monotonic()
    with pytest.warns(errors.EvaluationFailedWarning, match="timeout"):
        opt.minimize(HangOnce(tmp_path / "hung", 60), executor=executor, eval_timeout=3.0)
    assert time.monotonic() - start < 30
    assert opt.num_tell == 6 and sum(loss == float("inf") for _, loss in told) == 1
    assert gone(int((tmp_path / "hung").read_text()))  # ray.cancel(force=True) killed the worker


@pytest.mark.ray
def test_ray_worker_dying_every_time_stops_the_run(ray_local):
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=50, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.EvaluationFailedWarning)
        with pytest.raises(errors.TooManyFailuresError, match="max_consecutive_failures=2") as info:
            opt.minimize(exit_always, executor=ok.executors.RayExecutor(max_retries=0), max_consecutive_failures=2)
    assert info.value.num_failures == 3 and opt.num_tell == 3


@pytest.mark.ray
def test_ray_unmeetable_resources_fail_fast_naming_them(ray_local):
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=5)
    start = time.monotonic()
    executor = ok.executors.RayExecutor(resources_per_eval={"num_gpus": 1})
    with pytest.raises(errors.UnsatisfiableResourcesError, match=r"'num_gpus': 1.*'GPU': 1\.0.*'CPU': 2\.0"):
        opt.minimize(sphere, executor=executor)
    assert time.monotonic() - start < 10 and opt.num_ask == 0
    waited = ok.executors.RayExecutor(resources_per_eval={"resources": {"tpu": 1}}, resource_timeout=1.0)
    with pytest.raises(errors.UnsatisfiableResourcesError, match="waited resource_timeout=1 s"):
        waited.start()

