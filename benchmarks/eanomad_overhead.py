"""EA-NOMAD quick timing: a short ask/tell run, a short compat run and one NOMAD child's start-up.

Meant to compare two checkouts of optimkit on the same machine (the code is found on
``PYTHONPATH``, so the same script times either)::

    OMP_NUM_THREADS=1 PYTHONPATH=/path/to/before .venv/bin/python benchmarks/eanomad_overhead.py --label before
    OMP_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/eanomad_overhead.py --label after

Each path runs ``--repeats`` times; the medians are printed, with the final losses (same seed,
same draws: they must be equal across checkouts). The objective is a cheap 10-D sphere, so the
time is optimkit's and NOMAD's own work (child processes, sockets, the evolutionary loop).
CSV rows: label, path, repeat, seconds, result.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np

import optimkit as ok

DIM, POP, SUBSET, MAX_BB_EVAL, BUDGET, GENERATIONS = 10, 8, 5, 30, 1500, 4


def sphere(x: np.ndarray) -> float:
    return float(np.sum((x - 0.3) ** 2))


def neg_sphere(x: np.ndarray) -> float:
    return -float(np.sum(x ** 2))


def ask_tell() -> tuple[float, float]:
    from optimkit.optimizers.eanomad import EANOMAD

    t = time.perf_counter()
    opt = EANOMAD(ok.p.Array(shape=(DIM,), lower=-1, upper=1), budget=BUDGET, seed=0, population_size=POP,
                  subset_size=SUBSET, max_bb_eval=MAX_BB_EVAL)
    rec = opt.minimize(sphere)
    return time.perf_counter() - t, sphere(rec.value)


def compat() -> tuple[float, float]:
    from optimkit.compat.eanomad import EANOMAD

    t = time.perf_counter()
    opt = EANOMAD("pure", POP, DIM, neg_sphere, subset_size=SUBSET, bounds=0.2, max_bb_eval=MAX_BB_EVAL,
                  n_mutate_coords=2, seed=0, progress=False, use_ray=False)
    _, best_fit = opt.run(GENERATIONS)
    return time.perf_counter() - t, best_fit


def child_start() -> tuple[float, float]:
    try:
        from optimkit.nomad import NomadWorker
    except ImportError:  # checkouts before optimkit.nomad existed
        from optimkit.optimizers._nomad_worker import NomadWorker  # type: ignore[no-redef]

    t = time.perf_counter()
    worker = NomadWorker()
    seconds = time.perf_counter() - t
    worker.close()
    return seconds, 0.0


PATHS = {"ask-tell": ask_tell, "compat": compat, "child-start": child_start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--label", default="current")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument("--out", default="bench_out/eanomad_overhead.csv")
    args = parser.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    print(f"optimkit from {Path(ok.__file__).parent}")
    with open(args.out, "a", newline="") as fh:
        writer = csv.writer(fh)
        for name in args.paths.split(","):
            times, results = [], []
            for r in range(args.repeats):
                seconds, result = PATHS[name]()
                times.append(seconds)
                results.append(result)
                writer.writerow([args.label, name, r, f"{seconds:.4f}", repr(result)])
            print(f"{args.label:>8} {name:<12} median {statistics.median(times):.3f} s  "
                  f"min {min(times):.3f} s  results {sorted(set(results))}", flush=True)


if __name__ == "__main__":
    main()
