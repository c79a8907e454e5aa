"""RayExecutor: submit/done/result, objective shipped once, resources, lifecycle, bad input,
and ``Optimizer.minimize`` on Ray (steady-state and batch).

Ray is started once for the module (2 CPUs, no dashboard). Objectives live in this module,
which Ray workers cannot import, so the module is pickled by value.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from optimkit.errors import (  # noqa: E402
    OptimkitValueError,
    UnpicklableObjectiveError,
)
from optimkit.executors import (  # noqa: E402
    Executor,
    RayExecutor,
    RayFuture,
    SequentialExecutor,
)

pytestmark = pytest.mark.ray
REPO = Path(__file__).resolve().parents[1]
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the whole module, started lazily by a RayExecutor that owns it.

    Teardown checks that the owner stops it (tests use other executors, which must not).
    """
    if ray.is_initialized():
        ray.shutdown()
    owner = RayExecutor(num_cpus=2, resources={"slot": 2}, log_to_driver=False)
    assert not ray.is_initialized()  # the constructor starts nothing ...
    assert owner.submit(abs, -1).result() == 1  # ... the first submit does
    assert ray.is_initialized() and owner.started_ray
    yield owner
    owner.shutdown()
    assert not ray.is_initialized(), "the executor that started Ray must stop it"


def square(x):
    return x * x


def wait_for_file(path, value):
    """Return ``value`` once ``path`` exists (lets a test hold an evaluation running)."""
    while not os.path.exists(path):
        time.sleep(0.01)
    return value


def raise_value_error(log_path):
    with open(log_path, "a") as f:
        f.write("attempt\n")
    raise ValueError("objective failed on purpose")


def assigned_resources():
    return ray.get_runtime_context().get_assigned_resources()


class CountingObjective:
    """Counts how often it is pickled (in the driver) and unpickled (in each worker)."""

    def __init__(self):
        self.pickled = 0

    def __getstate__(self):
        self.pickled += 1  # runs in the process that serializes
        return {"pickled": self.pickled}

    def __setstate__(self, state):
        self.pickled = state["pickled"]
        key = "OPTIMKIT_TEST_UNPICKLED"
        os.environ[key] = str(int(os.environ.get(key, "0")) + 1)  # per worker process

    def __call__(self, x):
        return os.getpid(), int(os.environ.get("OPTIMKIT_TEST_UNPICKLED", "0")), x


# ------------------------------------------------------------------ SequentialExecutor
def test_sequential_executor_runs_at_once_and_reraises():
    ex = SequentialExecutor()
    assert isinstance(ex, Executor)
    fut = ex.submit(square, 3)
    assert fut.done() and fut.result() == 9
    bad = ex.submit(int, "not a number")
    assert bad.done()
    with pytest.raises(ValueError):
        bad.result()


# ------------------------------------------------------------------ futures
def test_concurrent_style_loop_gets_every_result(ray_session):
    ex = RayExecutor()
    assert isinstance(ex, Executor)
    pending = {ex.submit(square, i): i for i in range(12)}
    results = {}
    while pending:
        for fut in [f for f in pending if f.done()]:
            results[pending.pop(fut)] = fut.result()
        time.sleep(0.005)
    assert results == {i: i * i for i in range(12)}
    ex.shutdown()


def test_done_does_not_block_and_kwargs_pass_through(ray_session, tmp_path):
    ex = RayExecutor()
    gate = tmp_path / "go"
    fut = ex.submit(wait_for_file, str(gate), value="ok")
    assert isinstance(fut, RayFuture)
    assert not fut.done()  # the evaluation waits for the gate: done() must answer at once
    quick = ex.submit(square, 5)
    done, not_done = ex.wait([fut, quick], timeout=60)  # blocks until one is done: the quick one
    assert done == [quick] and not_done == [fut]
    gate.touch()
    assert fut.result(timeout=60) == "ok"
    assert fut.done()
    assert ex.wait([fut, quick]) == ([fut, quick], [])


def test_objective_is_shipped_once_and_unpickled_once_per_worker(ray_session):
    ex = RayExecutor()
    objective = CountingObjective()
    first = ex.submit(objective, -1).result()
    pickled_after_first = objective.pickled
    futures = [ex.submit(objective, i) for i in range(20)]
    outputs = [first] + [f.result() for f in futures]
    assert objective.pickled == pickled_after_first  # no re-serialization per evaluation
    assert sorted(x for _, _, x in outputs) == list(range(-1, 20))
    per_worker = {}
    for pid, unpickled, _ in outputs:
        per_worker.setdefault(pid, set()).add(unpickled)
    assert all(counts == {1} for counts in per_worker.values()), per_worker


def test_objective_exception_keeps_its_type_and_is_not_retried(ray_session, tmp_path):
    log = tmp_path / "attempts.txt"
    fut = RayExecutor(max_retries=3).submit(raise_value_error, str(log))
    with pytest.raises(ValueError, match="on purpose"):
        fut.result()
    assert log.read_text().count("attempt") == 1
    assert isinstance(fut.exception(), ValueError)


def test_resources_per_eval_are_requested(ray_session):
    whole_node = RayExecutor(resources_per_eval={"num_cpus": 2})
    assert whole_node.submit(assigned_resources).result().get("CPU") == 2.0
    custom = RayExecutor(resources_per_eval={"num_cpus": 0, "resources": {"slot": 1}})
    got = custom.submit(assigned_resources).result()
    assert got.get("slot") == 1.0 and "CPU" not in got


def test_executor_never_shuts_down_a_ray_it_did_not_start(ray_session):
    assert ray_session.started_ray
    with RayExecutor() as ex:  # Ray is already up: this executor only uses it
        assert ex.submit(square, 4).result() == 16
        assert not ex.started_ray
    assert ray.is_initialized()
    assert ray_session.submit(square, 5).result() == 25


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs, option",
    [
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"num_cpus": 0}, "num_cpus"),
        ({"address": "auto", "num_cpus": 2}, "num_cpus"),
        ({"resources_per_eval": {"gpus": 1}}, "resources_per_eval"),
        ({"resources_per_eval": {"num_gpus": -1}}, "num_gpus"),
        ({"connect_timeout": 0}, "connect_timeout"),
    ],
)
def test_bad_options_raise_value_error_naming_the_option(kwargs, option):
    with pytest.raises(OptimkitValueError, match=option):
        RayExecutor(**kwargs)


def test_unpicklable_objective_is_named(ray_session):
    import threading

    lock = threading.Lock()

    def holds_a_lock(x):
        with lock:
            return x

    with pytest.raises(UnpicklableObjectiveError, match="holds_a_lock"):
        RayExecutor().submit(holds_a_lock, 1)


UNREACHABLE_SCRIPT = textwrap.dedent(
    """
    import os
    import ray
    from optimkit.errors import OptimkitRuntimeError, OptimkitValueError
    from optimkit.executors import ClusterConnectionError, RayExecutor

    for address in ["127.0.0.1:1", "ray://127.0.0.1:1"]:
        try:
            RayExecutor(address=address, connect_timeout=5).submit(abs, -1)
        except ClusterConnectionError as exc:
            assert isinstance(exc, OptimkitRuntimeError) and isinstance(exc, ConnectionError)
            assert address in str(exc), exc
            print("unreachable-ok", address)
    assert not ray.is_initialized()

    os.environ["RAY_ADDRESS"] = "127.0.0.1:1"  # as `ray job submit` sets it, here unreachable
    try:
        RayExecutor(num_cpus=1).start()
    except OptimkitValueError as exc:
        assert "num_cpus" in str(exc) and "RAY_ADDRESS" in str(exc), exc
        print("env-num-cpus-ok")
    try:
        RayExecutor().start()
    except ClusterConnectionError as exc:
        assert "RAY_ADDRESS" in str(exc), exc
        print("env-unreachable-ok")
    assert not ray.is_initialized()
    print("done-ok")
    """
)


def test_unreachable_address_fails_fast_in_a_fresh_process():
    """A process without Ray (``address`` only matters when Ray is not up yet): clear error, no hang."""
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", UNREACHABLE_SCRIPT],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # the bound: an unreachable address must not hang
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "unreachable-ok 127.0.0.1:1\n" in proc.stdout and "unreachable-ok ray://127.0.0.1:1\n" in proc.stdout
    assert "env-num-cpus-ok" in proc.stdout and "env-unreachable-ok" in proc.stdout
    assert "done-ok" in proc.stdout


# ------------------------------------------------------------------ minimize on Ray
def sphere(x):
    return float(sum(v * v for v in x))


def _instrumented(name, budget, num_workers):
    import optimkit as ok

    opt = ok.optimizers.registry[name](parametrization=3, budget=budget, num_workers=num_workers)
    opt.parametrization.random_state.seed(3)
    asked, told = [], []
    ask = opt.ask

    def recording_ask(*args, **kwargs):
        candidate = ask(*args, **kwargs)
        asked.append(candidate.uid)
        return candidate

    opt.ask = recording_ask
    opt.register_callback("tell", lambda o, candidate, loss: told.append((candidate.uid, loss, candidate.value)))
    return opt, asked, told


@pytest.mark.parametrize("name", ["RandomSearch", "ANSR", "XNES", "EANOMAD"])
@pytest.mark.parametrize("batch_mode", [False, True])
def test_minimize_on_ray_tells_each_asked_candidate_once(ray_session, batch_mode, name):
    budget = 17  # not a multiple of num_workers: the last batch is partial
    opt, asked, told = _instrumented(name, budget, num_workers=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no evaluation may be reported as failed
        recommendation = opt.minimize(sphere, executor=RayExecutor(), batch_mode=batch_mode)
    told_uids = [uid for uid, _, _ in told]
    assert len(told_uids) == len(set(told_uids)) == budget
    assert sorted(told_uids) == sorted(asked)
    assert opt.num_ask == opt.num_tell == budget
    assert all(loss == sphere(value) for _, loss, value in told)  # each told with its own result
    if name == "RandomSearch":  # recommends its best told point
        assert sphere(recommendation.value) == pytest.approx(min(loss for _, loss, _ in told))
