"""EA-NOMAD parallel scaling: 1 vs 2 workers on an objective that sleeps 2 ms per call.

Paths measured (the same EA-NOMAD generations each time; only the wall time changes):

* ``adapter-threads``: ``EANOMAD(..., num_workers=k).minimize(f, executor=ThreadPoolExecutor(k))``:
  k NOMAD searches (children) at once, k evaluations in flight;
* ``adapter-ray``: the same with ``executor=ok.executors.RayExecutor()`` (if importable);
* ``compat-ray``: ``optimkit.compat.eanomad.EANOMAD(..., use_ray=True)`` on a Ray of k CPUs: each
  local search is one Ray task (NOMAD in a child of the Ray worker).

Target: speed-up >= 1.7x with 2 workers. Projection for the Ray-task path: a generation of ``N``
tasks costs ``T(k) = N * s + ceil(N / k) * t`` (``s``: serial cost per task in the driver, ``t``:
one task's time), solved from the measured ``T(1)`` and ``T(2)``; the speed-up printed for 16 and
64 workers assumes a population of 64 (and 256) individuals and as many cores.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/eanomad_scaling.py --out bench_out/eanomad_scaling.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import optimkit as ok  # noqa: E402
from optimkit.algorithms.eanomad import EANOMAD as AskTellEANOMAD  # noqa: E402

DIM, POP, SUBSET, MAX_BB_EVAL, SLEEP = 10, 8, 5, 40, 0.002


def slow_sphere(x: np.ndarray) -> float:
    time.sleep(SLEEP)
    return float(np.sum(x ** 2))


def neg_slow_sphere(x: np.ndarray) -> float:
    time.sleep(SLEEP)
    return -float(np.sum(x ** 2))


def adapter(workers: int, generations: int, executor_kind: str) -> tuple[float, int]:
    budget = generations * POP * MAX_BB_EVAL
    opt = AskTellEANOMAD(ok.p.Array(shape=(DIM,), lower=-1, upper=1), budget=budget, num_workers=workers,
                         seed=0, population_size=POP, subset_size=SUBSET, max_bb_eval=MAX_BB_EVAL)
    if executor_kind == "threads":
        executor = ThreadPoolExecutor(workers)
    else:
        from optimkit.executors import RayExecutor

        executor = RayExecutor()
    t = time.perf_counter()
    opt.minimize(slow_sphere, executor=executor)
    seconds = time.perf_counter() - t
    if hasattr(executor, "shutdown"):
        executor.shutdown()
    return seconds, opt.num_tell


def compat_ray(workers: int, generations: int) -> tuple[float, int]:
    import ray

    from optimkit.compat.eanomad import EANOMAD

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    try:
        opt = EANOMAD("pure", POP, DIM, neg_slow_sphere, subset_size=SUBSET, bounds=0.2, max_bb_eval=MAX_BB_EVAL,
                      n_mutate_coords=2, use_ray=True, seed=0, progress=False)
        opt.step()  # warm-up: Ray workers and their NOMAD children start
        evals0 = opt.num_evals
        t = time.perf_counter()
        for _ in range(generations):
            opt.step()
        return time.perf_counter() - t, opt.num_evals - evals0
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--paths", default="adapter-threads,adapter-ray,compat-ray")
    parser.add_argument("--out", default="bench_out/eanomad_scaling.csv")
    args = parser.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with open(args.out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "workers", "generations", "evaluations", "seconds", "speedup", "load"])
        print("| path | workers | evaluations | seconds | speed-up |")
        print("|---|---|---|---|---|")
        for path in args.paths.split(","):
            times = {}
            for k in (1, 2):
                try:
                    if path == "compat-ray":
                        seconds, evals = compat_ray(k, args.generations)
                    else:
                        seconds, evals = adapter(k, args.generations, path.split("-")[1])
                except ImportError as exc:
                    print(f"| {path} | skipped: {exc} | | | |")
                    break
                times[k] = seconds
                speed = times[1] / seconds
                load = os.getloadavg()[0]
                print(f"| {path} | {k} | {evals} | {seconds:.2f} | {speed:.2f}x |", flush=True)
                writer.writerow([path, k, args.generations, evals, f"{seconds:.3f}", f"{speed:.3f}", f"{load:.1f}"])
                rows.append((path, k, seconds))
            if path == "compat-ray" and len(times) == 2:
                project(times[1] / args.generations, times[2] / args.generations)


def project(t1: float, t2: float) -> None:
    """Fit T(k) = N s + ceil(N/k) t to one generation's times and extrapolate."""
    n = POP
    t = (t1 - t2) / (n - math.ceil(n / 2))
    s = max(t1 / n - t, 0.0)
    work = (MAX_BB_EVAL + 1) * SLEEP  # sleeping evaluations of one search
    print(f"\nper task: t = {t * 1e3:.1f} ms ({(t - work) * 1e3:.1f} ms beyond the {work * 1e3:.0f} ms of "
          f"sleeping evaluations), s = {s * 1e3:.2f} ms serial driver overhead")
    for pop in (64, 256):
        base = pop * (s + t)
        for k in (16, 64):
            tk = pop * s + math.ceil(pop / k) * t
            print(f"projection: population {pop}, {k} workers: {base / tk:.1f}x "
                  f"(ideal {min(k, pop)}x)")


if __name__ == "__main__":
    main()
