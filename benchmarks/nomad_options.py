"""NOMAD option trade-off behind EA-NOMAD's defaults, and the EANOMAD quick start.

1. ``calls``: one NOMAD call of 100 evaluations on a 5-D and a 20-D quadratic (optimum inside the
   box), in this process (``PyNomad.optimize``) and through optimkit's child-process worker, for
   NOMAD's defaults, optimkit's defaults (``DIRECTION_TYPE ORTHO 2N``, ``QUAD_MODEL_SEARCH no``,
   ``NM_SEARCH no``) and neighbours: median seconds per call and median final loss.
2. ``crashes``: how often a 1-D / 2-D / 3-D sphere search started on a grid of quarters crashes,
   NOMAD's defaults vs optimkit's (run in children, so a crash costs nothing but the warning).
3. ``quickstart``: the README quick start of the original package through
   ``optimkit.compat.eanomad`` (pure, population 32, dimension 10, ``-sum(x**2)``, subset 5,
   bounds 0.2, max_bb_eval 100, n_mutate_coords 2, 100 generations, seed 0): wall time and best
   fitness (targets: > -1e-3, < 120 s). ``--quick-nomad-defaults G`` also runs G generations with
   NOMAD's default options for the per-generation cost.

CSV rows: part, variant, dim, trials, seconds (median per call / run), quality, extra.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/nomad_options.py --out bench_out/nomad_options.csv
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import optimkit.nomad as nw  # noqa: E402
from optimkit.algorithms.eanomad import DEFAULT_NOMAD_OPTIONS  # noqa: E402
from optimkit.errors import NomadCrashWarning  # noqa: E402

VARIANTS = {
    "nomad-defaults": (),
    "optimkit-default": DEFAULT_NOMAD_OPTIONS,
    "optimkit-default+no-opportunistic": (*DEFAULT_NOMAD_OPTIONS, "EVAL_OPPORTUNISTIC no"),
    "optimkit-default+model-sort": (*DEFAULT_NOMAD_OPTIONS, "EVAL_QUEUE_SORT QUADRATIC_MODEL"),
    "optimkit-default+lexicographic-sort": (*DEFAULT_NOMAD_OPTIONS, "EVAL_QUEUE_SORT LEXICOGRAPHICAL"),
    "optimkit-default+no-opportunistic+block": (*DEFAULT_NOMAD_OPTIONS, "EVAL_OPPORTUNISTIC no",
                                                "BB_MAX_BLOCK_SIZE 64"),
    "ortho-n+1-neg": ("DIRECTION_TYPE ORTHO N+1 NEG", "QUAD_MODEL_SEARCH no", "NM_SEARCH no"),
}
#: NOMAD's own defaults, spelled out (optimkit's defaults are overridden key by key).
NOMAD_DEFAULTS_OVERRIDE = ("DIRECTION_TYPE ORTHO N+1 QUAD", "QUAD_MODEL_SEARCH yes", "NM_SEARCH yes")
TARGET = 0.37


def quadratic(x: list[float]) -> float:
    return sum((c - TARGET) ** 2 for c in x)


def calls(trials: int, dims: list[int], writer: csv.writer) -> None:
    import PyNomad

    def bb(x) -> int:  # noqa: ANN001 - PyNomad's EvalPoint
        x.setBBO(repr(quadratic([x.get_coord(i) for i in range(x.size())])).encode())
        return 1

    pool = nw.WorkerPool()
    print("| dim | options | in-process s/call | worker s/call | median final loss |")
    print("|---|---|---|---|---|")
    for dim in dims:
        for name, opts in VARIANTS.items():
            if any(o.startswith("BB_MAX_BLOCK_SIZE") for o in opts):
                continue  # block evaluation: quick start only
            inproc, child, losses = [], [], []
            for seed in range(1, trials + 1):
                t = time.perf_counter()
                PyNomad.setSeed(seed + 1)
                PyNomad.optimize(bb, [0.8] * dim, [-1] * dim, [1] * dim,
                                 ["DISPLAY_DEGREE 0", "MAX_BB_EVAL 100", f"SEED {seed}", *opts])
                inproc.append(time.perf_counter() - t)
                t = time.perf_counter()
                res = nw.run_search(quadratic, [0.8] * dim, [-1] * dim, [1] * dim, 100, seed, opts, pool=pool)
                child.append(time.perf_counter() - t)
                losses.append(res.loss)
            row = (statistics.median(inproc), statistics.median(child), statistics.median(losses))
            print(f"| {dim} | {name} | {row[0]:.4f} | {row[1]:.4f} | {row[2]:.2e} |", flush=True)
            writer.writerow(["calls-inprocess", name, dim, trials, f"{row[0]:.5f}", f"{row[2]:.3e}", ""])
            writer.writerow(["calls-worker", name, dim, trials, f"{row[1]:.5f}", f"{row[2]:.3e}", ""])
    pool.close()


def crashes(trials: int, writer: csv.writer) -> None:
    """Start points on a grid of quarters (like the crashing ``[0.5, 0.5]``)."""
    pool = nw.WorkerPool()
    rng = np.random.default_rng(0)
    grid = np.array([-0.75, -0.5, -0.25, 0.25, 0.5, 0.75])
    print("\n| dim | options | crashed / trials |")
    print("|---|---|---|")
    for dim in (1, 2, 3):
        for name in ("nomad-defaults", "optimkit-default"):
            crashed = 0
            for seed in range(trials):
                x0 = rng.choice(grid, dim).tolist()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", NomadCrashWarning)
                    nw.run_search(lambda x: sum(c * c for c in x), x0, [-1] * dim, [1] * dim, 100, seed,
                                  VARIANTS[name], pool=pool)
                crashed += any(issubclass(w.category, NomadCrashWarning) for w in caught)
            print(f"| {dim} | {name} | {crashed} / {trials} |", flush=True)
            writer.writerow(["crashes", name, dim, trials, "", crashed, ""])
    pool.close()


def quickstart(generations: int, options: tuple[str, ...] | None, writer: csv.writer, label: str) -> None:
    from optimkit.compat.eanomad import EANOMAD

    def sphere(x: np.ndarray) -> float:
        return -float(np.sum(x ** 2))

    kwargs = {} if options is None else {"nomad_options": options}
    t = time.perf_counter()
    opt = EANOMAD("pure", population_size=32, dimension=10, objective_fn=sphere, subset_size=5, bounds=0.2,
                  max_bb_eval=100, n_mutate_coords=2, seed=0, progress=False, **kwargs)
    _, best_fit = opt.run(generations)
    seconds = time.perf_counter() - t
    print(f"\nquick start [{label}], {generations} generations: best fitness {best_fit:.3e}, "
          f"{seconds:.1f} s, {opt.num_evals} evaluations, load average {os.getloadavg()[0]:.1f}", flush=True)
    writer.writerow(["quickstart", label, 10, generations, f"{seconds:.2f}", f"{best_fit:.3e}",
                     f"evals={opt.num_evals};load={os.getloadavg()[0]:.1f}"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=9)
    parser.add_argument("--crash-trials", type=int, default=20)
    parser.add_argument("--call-dims", default="5,20")
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--quick-nomad-defaults", type=int, default=0, metavar="G")
    parser.add_argument("--quick-variants", default="", help="comma-separated VARIANTS names to run the "
                        "quick start with too (e.g. optimkit-default+no-opportunistic)")
    parser.add_argument("--parts", default="calls,crashes,quickstart")
    parser.add_argument("--out", default="bench_out/nomad_options.csv")
    args = parser.parse_args()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    parts = args.parts.split(",")
    with open(args.out, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["part", "variant", "dim", "trials", "seconds", "quality", "extra"])
        if "calls" in parts:
            calls(args.trials, [int(d) for d in args.call_dims.split(",")], writer)
        if "crashes" in parts:
            crashes(args.crash_trials, writer)
        if "quickstart" in parts:
            quickstart(args.generations, None, writer, "optimkit-default")
            for name in filter(None, args.quick_variants.split(",")):
                quickstart(args.generations, VARIANTS[name], writer, name)
            if args.quick_nomad_defaults:
                quickstart(args.quick_nomad_defaults, NOMAD_DEFAULTS_OVERRIDE, writer, "nomad-defaults")


if __name__ == "__main__":
    main()
