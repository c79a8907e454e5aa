"""Scaling of ``minimize(..., executor=RayExecutor(), batch_mode=False)`` with the number of workers.

An objective that sleeps ``--sleep`` seconds (default 50 ms), budget 200, ``num_workers`` 1, 2 and 4,
on a local Ray and on a simulated 2-node cluster (``ray.cluster_utils.Cluster``: a head that runs
no evaluations and two 2-CPU worker nodes). For each run: wall time, speed-up over the same
budget evaluated sequentially in this process (no executor), parallel efficiency, and the
per-evaluation overhead ``wall * num_workers / budget - sleep`` (time a worker slot spends per
evaluation beyond the objective: scheduling, transfer, polling, ask/tell). A last run with a
zero-cost objective and 8 workers measures the driver's serial cost per evaluation, which bounds
the throughput whatever the number of workers.

Last, the cost of one ``done()`` poll (``minimize`` polls every pending future, so the driver's
cost per evaluation grows with the number of workers). From these, the model
``speed-up(W) = min(W * T / (T + overhead), T / (driver_cost + W * poll))`` gives, for an objective
of T seconds, the largest W at which the efficiency ``speed-up / W`` stays >= 80%.

Run (about 1-2 minutes)::

    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/ray_scaling.py --csv bench_out/ray_scaling.csv

Prints a markdown table (the one in ``docs/benchmarks.md``) and writes CSV rows.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from pathlib import Path

import ray
from ray._common.utils import reset_ray_address
from ray.cluster_utils import Cluster

import optimkit as ok
from optimkit.executors import RayExecutor


def make_sleeper(seconds: float):
    def sleeper(x):
        time.sleep(seconds)
        return float(sum(v * v for v in x))

    return sleeper


def run(budget: int, num_workers: int, objective, executor) -> float:
    opt = ok.optimizers.registry["RandomSearch"](parametrization=2, budget=budget, num_workers=num_workers)
    opt.parametrization.random_state.seed(0)
    start = time.perf_counter()
    opt.minimize(objective, executor=executor, batch_mode=False)
    wall = time.perf_counter() - start
    assert opt.num_tell == budget
    return wall


def run_wait_loop(budget: int, num_workers: int, objective, executor: RayExecutor) -> float:
    """The steady-state loop of ``minimize``, but sleeping in ``executor.wait`` instead of polling."""
    opt = ok.optimizers.registry["RandomSearch"](parametrization=2, budget=budget, num_workers=num_workers)
    opt.parametrization.random_state.seed(0)
    start = time.perf_counter()
    pending = {}
    while opt.num_ask < budget or pending:
        while opt.num_ask < budget and len(pending) < num_workers:
            cand = opt.ask()
            pending[executor.submit(objective, *cand.args, **cand.kwargs)] = cand
        done, _ = executor.wait(list(pending))
        for fut in done:
            opt.tell(pending.pop(fut), fut.result())
    wall = time.perf_counter() - start
    assert opt.num_tell == budget
    return wall


def bench_setting(
    name: str, budget: int, sleep: float, workers: list[int], sequential: float, runner=run
) -> list[dict]:
    rows = []
    ex = RayExecutor()
    objective = make_sleeper(sleep)
    runner(2 * max(workers), max(workers), objective, ex)  # warm-up: start the worker processes
    for w in workers:
        wall = runner(budget, w, objective, ex)
        overhead = wall * w / budget - sleep
        rows.append(
            {
                "setting": name,
                "num_workers": w,
                "budget": budget,
                "sleep_ms": sleep * 1e3,
                "wall_s": round(wall, 3),
                "speedup": round(sequential / wall, 2),
                "efficiency": round(sequential / wall / w, 3),
                "overhead_ms": round(overhead * 1e3, 2),
            }
        )
        print(rows[-1], flush=True)
    # driver cost: zero-cost objective, many workers: the driver is the bottleneck
    n = 4 * budget
    wall0 = runner(n, 2 * max(workers), make_sleeper(0.0), ex)
    rows.append(
        {
            "setting": name,
            "num_workers": 2 * max(workers),
            "budget": n,
            "sleep_ms": 0.0,
            "wall_s": round(wall0, 3),
            "speedup": float("nan"),
            "efficiency": float("nan"),
            "overhead_ms": round(wall0 / n * 1e3, 2),  # serial driver cost per evaluation
        }
    )
    print(rows[-1], flush=True)
    # cost of one done() poll on a running evaluation (minimize polls each pending future)
    fut = ex.submit(make_sleeper(2.0), [0.0])
    n_polls = 2000
    t0 = time.perf_counter()
    for _ in range(n_polls):
        fut.done()
    poll = (time.perf_counter() - t0) / n_polls
    fut.result()
    for r in rows:
        r["poll_us"] = round(poll * 1e6, 1)
    print(f"{name}: done() costs {poll * 1e6:.1f} us", flush=True)
    return rows


def max_workers_at_80(t_eval: float, overhead: float, driver_cost: float, poll: float) -> int:
    """Largest W with speed-up(W) / W >= 0.8 (0 if even W=1 falls short), where
    speed-up(W) = min(W * T / (T + o), T / (c + W * p)): latency-bound (o per evaluation) or bound by
    the driver's serial cost, c per evaluation plus one done() poll (p) per pending future."""
    if t_eval / (t_eval + overhead) < 0.8:
        return 0
    w = 1
    while t_eval / (driver_cost + (w + 1) * poll) >= 0.8 * (w + 1) and w < 100_000:
        w += 1
    return w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--sleep", type=float, default=0.05)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args()

    objective = make_sleeper(args.sleep)
    opt = ok.optimizers.registry["RandomSearch"](parametrization=2, budget=args.budget)
    start = time.perf_counter()
    opt.minimize(objective)
    sequential = time.perf_counter() - start
    print(f"sequential, no executor: {sequential:.3f} s", flush=True)

    rows = []
    ray.init(num_cpus=max(args.workers), include_dashboard=False, log_to_driver=False)
    rows += bench_setting("local Ray", args.budget, args.sleep, args.workers, sequential)
    rows += bench_setting("local Ray, wait() loop", args.budget, args.sleep, args.workers, sequential, run_wait_loop)
    ray.shutdown()

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    reset_ray_address()  # do not advertise it to other ray.init() calls on this machine
    per_node = max(1, max(args.workers) // 2)
    for _ in range(2):
        cluster.add_node(num_cpus=per_node)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    rows += bench_setting("2-node cluster", args.budget, args.sleep, args.workers, sequential)
    ray.shutdown()
    cluster.shutdown()

    if args.csv is not None:
        args.csv.parent.mkdir(parents=True, exist_ok=True)
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
          f"Python {sys.version.split()[0]}, Ray {ray.__version__}; sequential {sequential:.2f} s\n")
    print("| setting | num_workers | wall (s) | speed-up | efficiency | overhead / eval (ms) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if r["sleep_ms"] == 0.0:
            print(f"| {r['setting']} | {r['num_workers']} (0 ms objective, {r['budget']} evals) | {r['wall_s']} "
                  f"| - | - | driver cost {r['overhead_ms']} |")
        else:
            print(f"| {r['setting']} | {r['num_workers']} | {r['wall_s']} | {r['speedup']} | {r['efficiency']} "
                  f"| {r['overhead_ms']} |")
    print("\nlargest num_workers with efficiency >= 80% (model above):")
    for setting in ("local Ray", "local Ray, wait() loop", "2-node cluster"):
        sub = [r for r in rows if r["setting"] == setting]
        driver = [r for r in sub if r["sleep_ms"] == 0.0][0]["overhead_ms"] / 1e3
        poll = sub[0]["poll_us"] / 1e6 if "wait" not in setting else 0.0
        for label, overhead in (
            ("overhead at 1 worker", sub[0]["overhead_ms"] / 1e3),
            ("largest measured overhead", max(r["overhead_ms"] for r in sub if r["sleep_ms"] > 0) / 1e3),
        ):
            fits = {t: max_workers_at_80(t, overhead, driver, poll) for t in (0.01, 0.1, 1.0)}
            print(f"- {setting}, {label} {overhead * 1e3:.1f} ms (driver {driver * 1e3:.2f} ms, "
                  f"poll {poll * 1e6:.0f} us): " + ", ".join(f"T={t:g} s -> W <= {w}" for t, w in fits.items()))


if __name__ == "__main__":
    main()
