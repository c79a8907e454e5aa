"""Where ANSR is the right choice: many workers, vectorized objectives, high dimension, periodic landscapes.

Four measurements, each a Markdown table on stdout (medians over ``--seeds`` seeds; lower losses are
better). Objectives are shifted by a fixed random vector inside the box, so that no method profits
from starting at the centre of the box (``optimkit.functions`` put the minimum at the origin):

1. **many parallel workers**: ``num_workers`` = 32 and 64 candidates asked, evaluated and told per
   round, a fixed number of rounds (the wall time of a parallel run is the number of rounds), on a
   shifted sphere and Rastrigin in 20-D and Shubert in 16-D;
2. **vectorized objectives**: evaluations per second of ``minimize(f, vectorized=True)`` (which runs
   ``ask_batch``/``tell_batch``) on a cheap 100-D sphere, all framework time (the fastest of three
   runs per seed: on a shared machine the slower ones measure the neighbours);
3. **very high dimension**: d = 1000, a budget of 50 x d, shifted sphere, separable ellipsoid and
   Rastrigin, SNES against the ANSR presets (final loss and wall time);
4. **periodic landscapes**: Shubert 16-D and Rastrigin 10-D at 1000 x d evaluations, one at a time.

``--seed-means M`` instead runs the ANSR entries and RandomSearch on BBOB functions 1-24 (d = 2
and 5, instances 1-5; d = 10, instances 1-2) with seeds 1-8, each with the budget of 1000 x d
but stopped at M x d, and prints the mean fraction of pairs reached per group: the sampling
noise of the single-seed table at the early checkpoints. ``--groups CSV`` instead prints, from a
``benchmarks/bbob.py`` CSV, the fraction of (problem, target) pairs the ANSR entries and
RandomSearch reach at 10, 100 and 1000 x d per dimension and BBOB function group (bold: below
RandomSearch), the table of ``docs/benchmarks.md``.

Usage (one BLAS thread; about 10 minutes on one core with --seeds 2)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_where.py --seeds 2
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_where.py --quick
    .venv/bin/python benchmarks/ansr_where.py --groups bench_out/bbob_ansr.csv
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_where.py --seed-means 10   # about 3 minutes
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import optimkit as ok  # noqa: E402
from optimkit import functions  # noqa: E402

Batch = Callable[[np.ndarray], np.ndarray]


def shifted(name: str, dimension: int) -> tuple[Batch, float]:
    """A row-wise objective with its minimum moved to a fixed point of the box, and the box half-width."""
    bound = functions.FUNCTIONS[name][1]
    shift = np.random.default_rng(12345).uniform(-0.6 * bound, 0.6 * bound, dimension)
    if name == "sphere":
        return (lambda xs: np.sum((xs - shift) ** 2, axis=1)), bound
    if name == "ellipsoid":
        weights = 10.0 ** (6.0 * np.arange(dimension) / max(dimension - 1, 1))
        return (lambda xs: ((xs - shift) ** 2) @ weights), bound
    if name == "rastrigin":
        def rastrigin(xs: np.ndarray) -> np.ndarray:
            z = xs - shift
            out: np.ndarray = 10.0 * dimension + np.sum(z ** 2 - 10.0 * np.cos(2.0 * np.pi * z), axis=1)
            return out
        return rastrigin, bound
    single = functions.FUNCTIONS[name][0]
    return (lambda xs: np.array([single(row - shift) for row in xs])), bound


def build(solver: str, dimension: int, bound: float, budget: int, num_workers: int,
          seed: int) -> ok.Optimizer:
    param = ok.p.Array(shape=(dimension,), lower=-bound, upper=bound)
    opt: ok.Optimizer = ok.optimizers.registry[solver](param, budget=budget, num_workers=num_workers)
    opt.parametrization.random_state.seed(seed)
    return opt


def run_rounds(solver: str, name: str, dimension: int, workers: int, rounds: int, seed: int) -> float:
    """``rounds`` rounds of ``workers`` asks, then their tells; the best loss seen."""
    f, bound = shifted(name, dimension)
    opt = build(solver, dimension, bound, workers * rounds, workers, seed)
    best = np.inf
    for _ in range(rounds):
        cands = [opt.ask() for _ in range(workers)]
        losses = f(np.array([c.value for c in cands]))
        for c, loss in zip(cands, losses):
            opt.tell(c, float(loss))
        best = min(best, float(losses.min()))
    return best


def run_vectorized(solver: str, name: str, dimension: int, budget: int, seed: int) -> tuple[float, float]:
    """``minimize(f, vectorized=True)``: (best loss seen, seconds)."""
    f, bound = shifted(name, dimension)
    opt = build(solver, dimension, bound, budget, 1, seed)
    seen = [np.inf]

    def tracked(xs: np.ndarray) -> np.ndarray:
        losses = f(xs)
        seen[0] = min(seen[0], float(losses.min()))
        return losses

    start = time.perf_counter()
    opt.minimize(tracked, vectorized=True)
    return seen[0], time.perf_counter() - start


def run_single(solver: str, name: str, dimension: int, budget: int, seed: int) -> float:
    """Plain ask/tell, one candidate at a time: the best loss seen."""
    f, bound = shifted(name, dimension)
    opt = build(solver, dimension, bound, budget, 1, seed)
    best = np.inf
    for _ in range(budget):
        cand = opt.ask()
        loss = float(f(cand.value[None, :])[0])
        opt.tell(cand, loss)
        best = min(best, loss)
    return best


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    sys.stdout.flush()


def fmt(x: float) -> str:
    return f"{x:.3g}"


GROUP_SOLVERS = ["ANSRUnimodal", "ANSRMultimodal", "ANSRPeriodic", "ANSR", "RandomSearch"]


def group_tables(csv: str) -> None:
    """Fraction of pairs reached at 10 / 100 / 1000 x d per dimension and group, from a bbob.py CSV."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bbob import read_rows
    from bbob_report import CHECKPOINTS, GROUPS, SHORT, fraction_reached, runtimes

    rows = [r for r in read_rows(csv) if int(r["budget"]) == 1000 * int(r["dimension"])]
    for d in sorted({int(r["dimension"]) for r in rows}):
        at_d = [r for r in rows if int(r["dimension"]) == d]
        fractions: dict[tuple[str, str], list[float]] = {}
        for solver in GROUP_SOLVERS:
            for group, functions_ in GROUPS.items():
                sel = [r for r in at_d if r["solver"] == solver and int(r["function"]) in functions_]
                times = runtimes(sel)
                fractions[solver, group] = [fraction_reached(times, c) for c in CHECKPOINTS]
        instances = sorted({int(r["instance"]) for r in at_d if r["solver"] in GROUP_SOLVERS})
        body = []
        for solver in GROUP_SOLVERS:
            cells = []
            for group in GROUPS:
                pairs = zip(fractions[solver, group], fractions["RandomSearch", group])
                cells.append(" / ".join(("**%.2f**" if a < b - 1e-12 else "%.2f") % a for a, b in pairs))
            body.append([solver] + cells)
        table(f"d = {d} (instances {instances}): fraction of pairs reached at 10 / 100 / 1000 x d",
              ["solver"] + [SHORT[g] for g in GROUPS], body)


def seed_means(checkpoint: int, seeds: range = range(1, 9)) -> None:
    """Mean fraction of pairs reached at ``checkpoint`` x d over ``seeds``, runs sized for 1000 x d."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bbob import Recorder, Stop, bbob_problem
    from bbob_report import GROUPS, SHORT

    cells = [(2, i) for i in range(1, 6)] + [(5, i) for i in range(1, 6)] + [(10, 1), (10, 2)]
    problems = {}
    for d, i in cells:
        for f in range(1, 25):
            problems[f, d, i] = bbob_problem(f, d, i)
    groups = [g for g in GROUPS if SHORT[g] != "f1-24"]
    body = []
    for solver in GROUP_SOLVERS:
        reached: dict[tuple[int, str], list[float]] = {}
        for seed in seeds:
            for (f, d, _), (problem, f_opt) in problems.items():
                fun = Recorder(problem, f_opt, checkpoint * d)
                opt = build(solver, d, 5.0, 1000 * d, 1, seed)
                try:
                    while True:
                        cand = opt.ask()
                        opt.tell(cand, fun(cand.value))
                except Stop:
                    pass
                group = next(g for g in groups if f in GROUPS[g])
                reached.setdefault((d, group), []).extend(hit is not None for hit in fun.hits)
        body.append([solver] + [f"{np.mean(reached[d, g]):.3f}" for d in (2, 5, 10) for g in groups])
    table(f"mean fraction of pairs reached at {checkpoint} x d over seeds {seeds.start}-{seeds.stop - 1}",
          ["solver"] + [f"{d}-D {SHORT[g]}" for d in (2, 5, 10) for g in groups], body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per cell (the median is shown)")
    parser.add_argument("--quick", action="store_true", help="one seed, fewer rounds and a smaller budget")
    parser.add_argument("--sections", default="1,2,3,4", help="measurements, e.g. 2 or 1,4 (default all)")
    parser.add_argument("--groups", metavar="CSV", help="only print the per-group table of a bbob.py CSV")
    parser.add_argument("--seed-means", type=int, metavar="M", help="only print the 8-seed means at M x d")
    args = parser.parse_args()
    if args.seed_means:
        seed_means(args.seed_means)
        return
    if args.groups:
        group_tables(args.groups)
        return
    seeds = range(1, 2 if args.quick else args.seeds + 1)
    scale = 0.25 if args.quick else 1.0
    med = statistics.median
    warnings.simplefilter("ignore")
    sections = {int(x) for x in args.sections.split(",")}

    peers = ["ANSRUnimodal", "ANSRMultimodal", "ANSRPeriodic", "ANSR", "XNES", "SNES", "CMA", "RandomSearch"]
    rounds = max(int(30 * scale), 4)
    problems = [("sphere", 20), ("rastrigin", 20), ("shubert", 16)]
    for workers in (32, 64) if 1 in sections else ():  # 1. many parallel workers, fixed rounds
        rows = [[s] + [fmt(med(run_rounds(s, n, d, workers, rounds, seed) for seed in seeds))
                       for n, d in problems] for s in peers]
        table(f"{workers} workers, {rounds} rounds ({workers * rounds} evaluations): best loss",
              ["solver"] + [f"{n} {d}-D" for n, d in problems], rows)

    budget = int(64 * 300 * scale)
    rows = []
    vectorized = ["ANSR", "ANSRUnimodal", "SNES", "XNES", "CMA", "RandomSearch"]
    for s in vectorized if 2 in sections else []:  # 2. vectorized objectives
        runs = [run_vectorized(s, "sphere", 100, budget, seed) for seed in seeds for _ in range(3)]
        fastest = min(t for _, t in runs)
        rows.append([s, f"{budget / fastest:,.0f}", fmt(med(v for v, _ in runs))])
    if rows:
        table(f"vectorized sphere 100-D, {budget} evaluations", ["solver", "evaluations / s", "best loss"],
              rows)

    d, budget = 1000, int(50 * 1000 * scale)
    rows = []
    high = ["ANSRUnimodal", "ANSRMultimodal", "ANSR", "SNES", "RandomSearch"]
    for s in high if 3 in sections else []:  # 3. very high dimension
        cells, times = [], []
        for name in ("sphere", "ellipsoid", "rastrigin"):
            runs = [run_vectorized(s, name, d, budget, seed) for seed in seeds]
            cells.append(fmt(med(v for v, _ in runs)))
            times.append(med(t for _, t in runs))
        rows.append([s] + cells + [f"{sum(times):.1f}"])
    if rows:
        table(f"d = 1000, {budget} evaluations (vectorized): best loss",
              ["solver", "sphere", "ellipsoid", "rastrigin", "seconds (3 functions)"], rows)

    if 4 not in sections:  # 4. periodic landscapes, one evaluation at a time
        return
    problems = [("shubert", 16), ("rastrigin", 10)]
    rows = [[s] + [fmt(med(run_single(s, n, dd, int(1000 * dd * scale), seed) for seed in seeds))
                   for n, dd in problems] for s in peers]
    table(f"periodic landscapes, {int(1000 * scale)} x d evaluations: best loss",
          ["solver"] + [f"{n} {dd}-D" for n, dd in problems], rows)


if __name__ == "__main__":
    main()
