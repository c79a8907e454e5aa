"""Real faults on a local multi-node Ray cluster (``ray.cluster_utils.Cluster``), no mocks.

- worker processes die mid-evaluation (``os._exit`` inside the objective): retried up to
  ``max_retries``, then reported as ``inf`` with an ``EvaluationFailedWarning``;
- a whole node is removed while it runs evaluations: they are re-run elsewhere.

In every case each asked candidate is told exactly once and ``num_tell`` equals the number of
evaluations completed. Objectives log each attempt to a file (``start``/``end`` lines with the
Ray node id) so the tests can see the retries that really happened.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
import warnings

import numpy as np
import pytest

ray = pytest.importorskip("ray")
from ray._common.utils import reset_ray_address  # noqa: E402
from ray.cluster_utils import Cluster  # noqa: E402

from optimkit.errors import EvaluationFailedWarning  # noqa: E402
from optimkit.executors import RayExecutor  # noqa: E402

pytestmark = pytest.mark.ray
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

# detect dead nodes within ~1.5 s instead of Ray's default tens of seconds
FAST_FAILURE_DETECTION = {
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 500,
    "health_check_timeout_ms": 500,
    "health_check_failure_threshold": 3,
}


@pytest.fixture(scope="module")
def cluster():
    """A head node that runs no evaluations and one 2-CPU worker node; the driver connects."""
    if ray.is_initialized():
        ray.shutdown()
    c = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "include_dashboard": False, "_system_config": FAST_FAILURE_DETECTION},
    )
    # Cluster advertises itself in /tmp/ray/ray_current_cluster, where any plain ray.init() on this
    # machine (other test sessions) would join it: withdraw that, the driver uses the explicit address
    reset_ray_address()
    c.add_node(num_cpus=2)
    c.wait_for_nodes()
    # the driver joins the running cluster the way a user does: RayExecutor(address=...)
    RayExecutor(address=c.address, log_to_driver=False).start()
    yield c
    ray.shutdown()
    c.shutdown()


def key_of(x) -> str:
    return hashlib.sha1(np.asarray(x, dtype=float).tobytes()).hexdigest()[:12]


class FaultyObjective:
    """Sphere loss; logs each attempt and kills its worker process for chosen evaluations.

    ``die`` is ``"first"`` (the worker dies at the first attempt of a chosen evaluation, the retry
    succeeds) or ``"always"``. An evaluation is chosen when ``choose(key)`` is true.
    """

    def __init__(self, log_path, die="first", every=3, sleep=0.0):
        self.log_path, self.die, self.every, self.sleep = str(log_path), die, every, sleep

    def chosen(self, key):
        return int(key, 16) % self.every == 0

    def _log(self, line):
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, (line + "\n").encode())  # one small O_APPEND write: atomic
        finally:
            os.close(fd)

    def attempts(self):
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path) as f:
            return [line.split() for line in f if line.strip()]

    def __call__(self, x):
        key = key_of(x)
        node = ray.get_runtime_context().get_node_id()
        first = not any(k == key for _, k, _ in self.attempts())
        self._log(f"start {key} {node}")
        if self.chosen(key) and (self.die == "always" or first):
            os._exit(1)  # the worker process dies mid-evaluation
        time.sleep(self.sleep)
        self._log(f"end {key} {node}")
        return float(np.sum(np.square(x)))


def count(attempts, event):
    out = {}
    for ev, key, _ in attempts:
        if ev == event:
            out[key] = out.get(key, 0) + 1
    return out


def instrumented(budget, num_workers, seed=0):
    import optimkit as ok

    opt = ok.optimizers.registry["RandomSearch"](parametrization=2, budget=budget, num_workers=num_workers)
    opt.parametrization.random_state.seed(seed)
    asked, told = [], []
    ask = opt.ask

    def recording_ask(*args, **kwargs):
        candidate = ask(*args, **kwargs)
        asked.append(candidate.uid)
        return candidate

    opt.ask = recording_ask
    opt.register_callback("tell", lambda o, candidate, loss: told.append((candidate.uid, key_of(candidate.value), loss)))
    return opt, asked, told


def assert_each_asked_told_once(opt, asked, told, budget):
    uids = [uid for uid, _, _ in told]
    assert len(uids) == len(set(uids)) == budget
    assert sorted(uids) == sorted(asked)
    assert opt.num_ask == opt.num_tell == budget


# ------------------------------------------------------------------ executor level
def test_joined_cluster_is_never_shut_down(cluster):
    alive = [n for n in ray.nodes() if n["Alive"]]
    assert len(alive) == 2 and ray.cluster_resources().get("CPU") == 2.0
    with RayExecutor(address=cluster.address) as ex:
        assert not ex.started_ray
        assert ex.submit(abs, -2).result() == 2
    assert ray.is_initialized()
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2


def test_worker_death_is_retried_then_succeeds(cluster, tmp_path):
    objective = FaultyObjective(tmp_path / "log", die="first", every=2)
    points = [np.array([float(i), 1.0]) for i in range(8)]
    ex = RayExecutor(max_retries=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EvaluationFailedWarning)
        results = [f.result() for f in [ex.submit(objective, p) for p in points]]
    assert results == [float(np.sum(p * p)) for p in points]
    starts, ends = count(objective.attempts(), "start"), count(objective.attempts(), "end")
    keys = [key_of(p) for p in points]
    killed = [k for k in keys if objective.chosen(k)]
    assert killed, "the fault must be injected at least once"
    assert all(starts[k] == 2 and ends[k] == 1 for k in killed)
    assert all(starts[k] == 1 and ends[k] == 1 for k in keys if k not in killed)


def test_worker_dying_every_time_is_reported_as_failed(cluster, tmp_path):
    objective = FaultyObjective(tmp_path / "log", die="always", every=1)
    fut = RayExecutor(max_retries=1).submit(objective, np.array([1.0, 2.0]))
    with pytest.warns(EvaluationFailedWarning, match="after 1 retries"):
        assert fut.result() == float("inf")
    assert count(objective.attempts(), "start") == {key_of([1.0, 2.0]): 2}  # 1 try + 1 retry
    assert fut.result() == float("inf")  # cached: no second warning, no re-run


# ------------------------------------------------------------------ minimize level
@pytest.mark.parametrize("batch_mode", [False, True])
def test_minimize_survives_dying_workers(cluster, tmp_path, batch_mode):
    budget = 9
    objective = FaultyObjective(tmp_path / "log", die="first", every=4)
    opt, asked, told = instrumented(budget, num_workers=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EvaluationFailedWarning)
        opt.minimize(objective, executor=RayExecutor(max_retries=2), batch_mode=batch_mode)
    assert_each_asked_told_once(opt, asked, told, budget)
    assert all(np.isfinite(loss) for _, _, loss in told)
    starts = count(objective.attempts(), "start")
    retried = [k for _, k, _ in told if objective.chosen(k)]
    assert retried and all(starts[k] == 2 for k in retried)


def test_minimize_tells_lost_evaluations_as_inf(cluster, tmp_path):
    budget = 9
    objective = FaultyObjective(tmp_path / "log", die="always", every=3)
    opt, asked, told = instrumented(budget, num_workers=3, seed=1)
    with pytest.warns(EvaluationFailedWarning):
        opt.minimize(objective, executor=RayExecutor(max_retries=0))
    assert_each_asked_told_once(opt, asked, told, budget)
    lost = [loss for _, k, loss in told if objective.chosen(k)]
    assert lost and all(loss == float("inf") for loss in lost)
    assert all(np.isfinite(loss) for _, k, loss in told if not objective.chosen(k))
    assert np.isfinite(opt.provide_recommendation().value).all()


def test_node_removed_mid_run(cluster, tmp_path):
    """A second node joins, runs evaluations, and is killed while some are in flight."""
    doomed = cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()
    doomed_id = doomed.node_id
    budget = 16
    objective = FaultyObjective(tmp_path / "log", every=10**9, sleep=0.4)  # never kills a worker
    opt, asked, told = instrumented(budget, num_workers=4, seed=2)
    removed = []

    def remove_doomed_node_while_busy(o, candidate, loss):
        if removed or o.num_tell < 2:
            return
        for _ in range(600):  # wait until an evaluation is running on the doomed node
            attempts = objective.attempts()
            running = count([a for a in attempts if a[2] == doomed_id], "start")
            done = count([a for a in attempts if a[2] == doomed_id], "end")
            if any(n > done.get(k, 0) for k, n in running.items()):
                break
            time.sleep(0.05)
        cluster.remove_node(doomed)
        removed.append(time.monotonic())

    opt.register_callback("tell", remove_doomed_node_while_busy)
    with warnings.catch_warnings():
        warnings.simplefilter("error", EvaluationFailedWarning)
        opt.minimize(objective, executor=RayExecutor(max_retries=3), batch_mode=False)
    assert removed, "the node must have been removed during the run"
    assert_each_asked_told_once(opt, asked, told, budget)
    assert all(np.isfinite(loss) for _, _, loss in told)
    attempts = objective.attempts()
    interrupted = {k for k, n in count([a for a in attempts if a[2] == doomed_id], "start").items()
                   if n > count([a for a in attempts if a[2] == doomed_id], "end").get(k, 0)}
    assert interrupted, "some evaluation was running on the node when it died"
    ends = count(attempts, "end")
    assert all(ends.get(k) == 1 for k in interrupted)  # re-run elsewhere, told once
