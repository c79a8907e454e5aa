"""optimkit's XNES/SNES against pypop7's, side by side: same problems, budgets, seeds and options.

Run (pypop7 is a benchmark-only extra: ``pip install -e .[bench]``)::

    .venv/bin/python benchmarks/nes_vs_pypop7.py            # all rows, 5 seeds
    .venv/bin/python benchmarks/nes_vs_pypop7.py --quick    # 2 seeds, smaller budgets (smoke run)

Both sides get the same ``problem`` and ``options`` dicts (pypop7's keys) and the same Python
objective; optimkit goes through ``optimkit.compat.pypop7``. Rows write CSV lines
(optimizer, function, dim, budget, seed, best, nfev, seconds) to ``--csv`` and print a markdown
table of median final best, median wall time and the wall and CPU time ratios per row (pypop7 / optimkit). Threads are pinned to 1 before numpy
is imported, so the wall times compare single-core work.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from optimkit.compat import pypop7 as ours  # noqa: E402


def sphere(x: np.ndarray) -> float:
    return float(np.dot(x, x))


def ellipsoid(x: np.ndarray) -> float:
    d = x.size
    return float(np.dot(10.0 ** (6.0 * np.arange(d) / max(d - 1, 1)), x * x))


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rastrigin(x: np.ndarray) -> float:
    return float(10.0 * x.size + np.sum(x * x - 10.0 * np.cos(2.0 * np.pi * x)))


# (algorithm, function, dim, budget, half-width of the box, sigma, mean or None for uniform in the box)
ROWS: list[tuple[str, Callable[[np.ndarray], float], int, int, float, float, float | None]] = [
    ("XNES", rosenbrock, 2, 5_000, 5.0, 0.1, 3.0),   # pypop7's docstring example
    ("XNES", rosenbrock, 10, 30_000, 5.0, 1.0, None),
    ("XNES", sphere, 10, 5_000, 5.0, 1.0, None),
    ("XNES", sphere, 64, 40_000, 5.0, 1.0, None),
    ("XNES", ellipsoid, 10, 20_000, 5.0, 1.0, None),
    ("XNES", rastrigin, 10, 100_000, 5.12, 1.0, None),
    ("SNES", sphere, 1000, 100_000, 5.0, 1.0, None),
]


def run_one(lib: str, algo: str, fn: Callable[[np.ndarray], float], dim: int, budget: int, half: float,
            sigma: float, mean: float | None, seed: int) -> tuple[float, int, float, float]:
    problem = {"fitness_function": fn, "ndim_problem": dim,
               "lower_boundary": -half * np.ones(dim), "upper_boundary": half * np.ones(dim)}
    options: dict[str, Any] = {"max_function_evaluations": budget, "seed_rng": seed, "sigma": sigma,
                               "verbose": 0, "saving_fitness": 0}
    if mean is not None:
        options["mean"] = mean * np.ones(dim)
    if lib == "pypop7":
        if algo == "XNES":
            from pypop7.optimizers.nes.xnes import XNES as cls
        else:
            from pypop7.optimizers.nes.snes import SNES as cls
    else:
        cls = ours.XNES if algo == "XNES" else ours.SNES
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cls(problem, options).optimize()
    return (float(res["best_so_far_y"]), int(res["n_function_evaluations"]), time.perf_counter() - start,
            time.process_time() - cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="2 seeds and a tenth of each budget")
    parser.add_argument("--csv", default="bench_out/nes_vs_pypop7.csv")
    args = parser.parse_args(argv)
    seeds = list(range(2 if args.quick else args.seeds))
    os.makedirs(os.path.dirname(args.csv) or ".", exist_ok=True)
    table = ["| optimizer | function | dim | budget | pypop7 median best | optimkit median best | "
             "pypop7 median s | optimkit median s | wall speed-up | CPU speed-up | as good? |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    with open(args.csv, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["library", "optimizer", "function", "dim", "budget", "seed", "best", "nfev", "seconds",
                         "cpu_seconds"])
        for algo, fn, dim, budget, half, sigma, mean in ROWS:
            budget = budget // 10 if args.quick else budget
            results: dict[str, list[tuple[float, int, float, float]]] = {"pypop7": [], "optimkit": []}
            for seed in seeds:
                for lib in ("pypop7", "optimkit"):  # alternate, so machine load hits both alike
                    out = run_one(lib, algo, fn, dim, budget, half, sigma, mean, seed)
                    results[lib].append(out)
                    writer.writerow([lib, algo, fn.__name__, dim, budget, seed, repr(out[0]), out[1], f"{out[2]:.4f}",
                                     f"{out[3]:.4f}"])
                    fh.flush()
            best = {lib: statistics.median(r[0] for r in rs) for lib, rs in results.items()}
            secs = {lib: statistics.median(r[2] for r in rs) for lib, rs in results.items()}
            cpu = {lib: statistics.median(r[3] for r in rs) for lib, rs in results.items()}
            # same seed, same streams: runs that never restart agree up to rounding ("tie")
            tie = abs(best["optimkit"] - best["pypop7"]) <= 1e-6 * abs(best["pypop7"])
            verdict = "tie (same run)" if tie else ("yes" if best["optimkit"] < best["pypop7"] else "no")
            table.append(f"| {algo} | {fn.__name__} | {dim} | {budget} | {best['pypop7']:.3g} | "
                         f"{best['optimkit']:.3g} | {secs['pypop7']:.3f} | {secs['optimkit']:.3f} | "
                         f"{secs['pypop7'] / secs['optimkit']:.2f}x | {cpu['pypop7'] / cpu['optimkit']:.2f}x | "
                         f"{verdict} |")
            print(table[-1], file=sys.stderr, flush=True)
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
