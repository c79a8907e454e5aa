"""Held-out suites: optimkit optimizers and pycma on another cocoex suite, ranked per problem.

Suites such as ``bbob-noisy`` and ``bbob-mixint`` have no ``f_opt`` at hand here (``BareProblem``
knows ``bbob`` only), so instead of targets each solver's best value at 10, 100 and ``--mult`` x d
is ranked among the solvers on each problem (1 = best, ties share their mean rank) and the ranks
are averaged over the suite's functions, instance 1, seed 1. Every solver runs as in
``benchmarks/bbob.py`` (``run_optimkit``: registry defaults on an ``Array`` with the problem's
bounds, plain ask/tell; ``run_pycma``: IPOP-CMA-ES), two runs at a time, one thread each.

    .venv/bin/python benchmarks/heldout_suites.py bbob-noisy --dims 5,10 --solvers Auto,CMA,pycma-IPOP
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bbob  # noqa: E402

MULTIPLIERS = (10, 100)


class Tracker:
    """The problem as an objective that keeps the best value at the checkpoints and its own time."""

    def __init__(self, problem: Any, budget: int, checkpoints: set[int]) -> None:
        self.problem, self.budget, self.checkpoints = problem, budget, checkpoints
        self.evaluations, self.best, self.objective_s = 0, np.inf, 0.0
        self.at: dict[int, float] = {}

    def __call__(self, x: Any) -> float:
        start = time.perf_counter()
        if self.evaluations >= self.budget:
            raise bbob.Stop
        value = float(self.problem(np.asarray(x, dtype=float)))
        self.evaluations += 1
        self.best = min(self.best, value)
        if self.evaluations in self.checkpoints:
            self.at[self.evaluations] = self.best
        self.objective_s += time.perf_counter() - start
        return value


def run(task: tuple[str, str, int, int, int]) -> tuple[str, int, int, list[float], float, int]:
    """One solver on one problem: (solver, d, function, best at each checkpoint, framework s, evaluations)."""
    import cocoex

    suite_name, solver, index, d, mult = task
    problem = cocoex.Suite(suite_name, "instances: 1", f"dimensions:{d}").get_problem(index)
    marks = [m * d for m in (*MULTIPLIERS, mult)]
    fun = Tracker(problem, mult * d, set(marks))
    lower, upper = np.array(problem.lower_bounds, dtype=float), np.array(problem.upper_bounds, dtype=float)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if solver == "pycma-IPOP":
                bbob.run_pycma(fun, lower, upper, 1)  # type: ignore[arg-type]
            else:
                bbob.run_optimkit(solver, fun, lower, upper, 1)  # type: ignore[arg-type]
        except bbob.Stop:
            pass
    wall = time.perf_counter() - start
    function = int(problem.id_function)
    problem.free()
    return solver, d, function, [fun.at.get(m, fun.best) for m in marks], wall - fun.objective_s, fun.evaluations


def main() -> None:
    import cocoex

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("suite")
    parser.add_argument("--dims", default="5,10")
    parser.add_argument("--mult", type=int, default=1000)
    parser.add_argument("--solvers", default="Auto,CMA,pycma-IPOP")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    solvers = args.solvers.split(",")
    dims = [int(d) for d in args.dims.split(",")]
    tasks = [(args.suite, s, i, d, args.mult) for d in dims
             for i in range(len(cocoex.Suite(args.suite, "instances: 1", f"dimensions:{d}"))) for s in solvers]
    with Pool(args.jobs) as pool:
        results = pool.map(run, tasks, chunksize=1)
    print(f"| suite | d | solver | mean rank at {' / '.join(str(m) for m in (*MULTIPLIERS, args.mult))} x d "
          "| framework µs / eval |\n|---|---|---|---|---|")
    for d in dims:
        for solver in solvers:
            mine = [r for r in results if r[0] == solver and r[1] == d]
            ranks = []
            for k in range(len(MULTIPLIERS) + 1):
                per_problem = []
                for r in mine:
                    values = sorted(o[3][k] for o in results if o[1] == d and o[2] == r[2])
                    per_problem.append(1 + float(np.mean([i for i, v in enumerate(values) if v == r[3][k]])))
                ranks.append(float(np.mean(per_problem)))
            us = 1e6 * sum(r[4] for r in mine) / max(1, sum(r[5] for r in mine))
            print(f"| {args.suite} | {d} | {solver} | {' / '.join(f'{v:.2f}' for v in ranks)} | {us:.0f} |", flush=True)


if __name__ == "__main__":
    main()
