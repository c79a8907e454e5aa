"""XNES/SNES before and after issue 12: restarts on by default, IPOP or BIPOP, sigma relative to the bounds.

Each configuration runs as a new user would (``registry`` name, ``minimize``, an
``Array(shape=(d,), lower, upper)``) on multimodal functions of ``optimkit.functions`` (rastrigin,
shubert and hilly, even dimensions only, on their usual boxes) and on multimodal BBOB functions (``cocoex``, instance 1,
``[-5, 5]^d``: f15 rotated Rastrigin, f17 Schaffer F7, f20 Schwefel, f21 and f22 Gallagher), budget
``1000 x d``, dimensions 2, 5 and 10, a few seeds. Configurations:

- ``before``: the old defaults, ``sigma=1.0, restarts=0``;
- ``ipop``: the new defaults (``sigma`` relative to the bounds, ``restarts=math.inf``, IPOP);
- ``bipop``: the new defaults with ``restart_strategy="bipop"``.

Writes one CSV row per run (optimizer, config, function, dim, budget, seed, best loss, precision for
BBOB, nfev, restarts, time) and prints a markdown table: per algorithm, configuration and dimension,
the median over functions and seeds of the log10 best-loss ratio to ``before`` (negative: better), the
share of runs better than ``before``, and the median evaluations used and restarts made.

    nice -n 10 .venv/bin/python benchmarks/nes_restarts.py --out bench_out/nes_restarts.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import optimkit as ok
from optimkit.functions import hilly, rastrigin, shubert

CONFIGS: dict[str, dict[str, Any]] = {
    "before": {"sigma": 1.0, "restarts": 0},
    "ipop": {},
    "bipop": {"restart_strategy": "bipop"},
}
OWN = {"rastrigin": (rastrigin, 5.12), "shubert": (shubert, 10.0), "hilly": (hilly, 3.0)}
BBOB = (15, 17, 20, 21, 22)


def problems(dim: int) -> list[tuple[str, Callable[[np.ndarray], float], float, float]]:
    """(name, objective, half-width of the box, optimum value) for one dimension."""
    out: list[tuple[str, Callable[[np.ndarray], float], float, float]] = []
    for name, (func, bound) in OWN.items():
        if dim % 2 and name in ("shubert", "hilly"):  # defined on pairs of coordinates
            continue
        out.append((name, lambda x, f=func: float(f(x)), bound, 0.0))
    try:
        import cocoex
        from cocoex.bare_problem import BareProblem
    except ImportError:  # the bench extra is not installed: optimkit's functions only
        return out
    suite = cocoex.Suite("bbob", "", f"dimensions:{dim} instance_indices:1")
    for function in BBOB:
        problem = suite.get_problem_by_function_dimension_instance(function, dim, 1)
        fopt = float(BareProblem("bbob", function, dim, 1).best_value())
        out.append((f"bbob-f{function}", lambda x, p=problem, s=suite: float(p(x)), 5.0, fopt))
    return out


def run(algo: str, config: str, func: Callable[[np.ndarray], float], bound: float, dim: int, budget: int,
        seed: int) -> tuple[float, int, int, float]:
    param = ok.p.Array(shape=(dim,), lower=-bound, upper=bound)
    opt = ok.optimizers.registry[algo](param, budget=budget, seed=seed, **CONFIGS[config])
    start = time.perf_counter()
    rec = opt.minimize(func)
    return func(rec.value), opt.num_tell, int(opt.state.num_restarts), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5, 10])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--algos", nargs="+", default=["XNES", "SNES"])
    parser.add_argument("--out", default="bench_out/nes_restarts.csv")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for dim in args.dims:
        budget = 1000 * dim
        for fname, func, bound, fopt in problems(dim):
            for algo in args.algos:
                for config in CONFIGS:
                    for seed in range(args.seeds):
                        best, nfev, restarts, seconds = run(algo, config, func, bound, dim, budget, seed)
                        rows.append({"optimizer": algo, "config": config, "function": fname, "dim": dim,
                                     "budget": budget, "seed": seed, "best_loss": best,
                                     "precision": best - fopt, "nfev": nfev, "restarts": restarts,
                                     "time": round(seconds, 3)})
            print(f"done d={dim} {fname}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(table(rows))


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: per algorithm, configuration and dimension, against ``before`` on the same run."""
    before = {(r["optimizer"], r["function"], r["dim"], r["seed"]): r["precision"] for r in rows
              if r["config"] == "before"}
    lines = ["| optimizer | config | d | median log10(precision / before's) | runs better than before "
             "| runs worse | median restarts | median evaluations |", "|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["optimizer"], r["config"], r["dim"]) for r in rows if r["config"] != "before"},
                  key=lambda k: (k[0], list(CONFIGS).index(k[1]), k[2]))
    for algo, config, dim in keys:
        mine = [r for r in rows if (r["optimizer"], r["config"], r["dim"]) == (algo, config, dim)]
        ratios, better, worse = [], 0, 0
        for r in mine:
            old = before[(algo, r["function"], dim, r["seed"])]
            new = r["precision"]
            ratios.append(math.log10(max(new, 1e-12)) - math.log10(max(old, 1e-12)))
            better += new < old * (1 - 1e-9)
            worse += new > old * (1 + 1e-9)
        lines.append(f"| {algo} | {config} | {dim} | {np.median(ratios):+.2f} | {better}/{len(mine)} | "
                     f"{worse}/{len(mine)} | {np.median([r['restarts'] for r in mine]):.0f} | "
                     f"{np.median([r['nfev'] for r in mine]):.0f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
