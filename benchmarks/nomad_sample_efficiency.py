"""Sample efficiency and wall time of the registry optimizer ``NOMAD`` (issue 12, item 4).

1. ``efficiency``: evaluations to reach ``f - f_opt < 1e-2`` and ``< 1e-5`` on shifted sphere,
   ellipsoid (condition 1e6) and rosenbrock in ``[-5, 5]^d``, d = 2, 5, 10, budget ``B x d``
   (``--budget-per-dim``, default 200; 100 for d = 10), for NOMAD settings (quadratic-model search
   on/off, poll directions, Nelder-Mead, an earlier restart, caps on the model search's own
   evaluations: ``QUAD_MODEL_MAX_EVAL``), and the wall time of each run.
2. ``overhead``: optimkit's ``NOMAD`` (one run, ``restarts=0``) against a bare in-process
   ``PyNomad.optimize`` with the same options, start, bounds and ``MAX_BB_EVAL`` on a cheap
   objective (5-D sphere): seconds per evaluation, median of ``--repeats`` runs.

CSV rows (``--out``): part, variant, function, dim, budget, seed, best_loss, nfev, seconds,
evals_to_1e-2, evals_to_1e-5 (empty: not reached). A markdown summary is printed.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/nomad_sample_efficiency.py \\
        --out bench_out/nomad_sample_efficiency.csv
    .venv/bin/python benchmarks/nomad_sample_efficiency.py --quick   # a minute: d = 2, 1 seed
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import optimkit as ok  # noqa: E402
from optimkit.algorithms.mads import Params, nomad_lines  # noqa: E402
from optimkit.functions import ellipsoid, rosenbrock, sphere  # noqa: E402

FUNCTIONS: dict[str, tuple[Callable[[Any], Any], float]] = {  # function, offset of its optimum
    "sphere": (sphere, 0.0),
    "ellipsoid": (ellipsoid, 0.0),
    "rosenbrock": (rosenbrock, 1.0),
}
TARGETS = (1e-2, 1e-5)

VARIANTS: dict[str, dict[str, Any]] = {
    "quad-on (ORTHO 2N)": {},
    "quad-off (ORTHO 2N)": {"quad_model": False},
    "quad-on ORTHO N+1 NEG": {"direction_type": "ORTHO N+1 NEG"},
    "quad-on + Nelder-Mead": {"nm_search": True},
    "quad-on min_mesh_size 1e-7": {"min_mesh_size": 1e-7},
    "quad-on capped 100": {"nomad_options": ("QUAD_MODEL_MAX_EVAL 100",)},
    "quad-on capped 500": {"nomad_options": ("QUAD_MODEL_MAX_EVAL 500",)},
    "quad-on capped 100 + last-success order": {"nomad_options": ("QUAD_MODEL_MAX_EVAL 100",
                                                                 "EVAL_QUEUE_SORT DIR_LAST_SUCCESS")},
}
#: Settings that depend on the dimension.
DIM_VARIANTS: dict[str, Callable[[int], dict[str, Any]]] = {
    "quad-on capped 50 x d^2": lambda d: {"nomad_options": (f"QUAD_MODEL_MAX_EVAL {min(2000, 50 * d * d)}",)},
}


def evals_to(losses: list[float], target: float) -> int | None:
    """1-based index of the first loss below ``target`` (None: never)."""
    for i, loss in enumerate(losses):
        if loss < target:
            return i + 1
    return None


def run_one(options: dict[str, Any] | Callable[[int], dict[str, Any]], name: str, d: int, budget: int,
            seed: int) -> dict[str, Any]:
    if callable(options):
        options = options(d)
    function, optimum = FUNCTIONS[name]
    shift = np.random.default_rng(1000 + seed).uniform(-3.0, 3.0, d)

    def objective(x: Any) -> float:
        return float(function(np.asarray(x) - shift + optimum))

    opt = ok.optimizers.registry["NOMAD"](ok.p.Array(shape=(d,), lower=-5.0, upper=5.0), budget=budget,
                                          seed=seed, **options)
    losses = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(budget):
            cand = opt.ask()
            loss = objective(cand.value)
            opt.tell(cand, loss)
            losses.append(loss)
    seconds = time.perf_counter() - start
    opt.close()
    row = {"best_loss": min(losses), "nfev": len(losses), "seconds": seconds}
    for target in TARGETS:
        row[f"evals_to_{target:g}"] = evals_to(losses, target)
    return row


def part_efficiency(dims: list[int], seeds: int, per_dim: int, writer: Any, variants: list[str]) -> None:
    summary: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for d in dims:
        budget = (per_dim if d < 10 else min(per_dim, 100)) * d
        for name in FUNCTIONS:
            for variant in variants:
                for seed in range(seeds):
                    row = run_one({**VARIANTS, **DIM_VARIANTS}[variant], name, d, budget, seed)
                    row.update(part="efficiency", variant=variant, function=name, dim=d, budget=budget, seed=seed)
                    writer.writerow(row)
                    summary.setdefault((variant, name, d), []).append(row)
                    print(f"  {variant:30s} {name:10s} d={d:2d} seed={seed} best={row['best_loss']:.2e} "
                          f"to1e-2={row['evals_to_0.01']} to1e-5={row['evals_to_1e-05']} "
                          f"{row['seconds']:.1f}s", file=sys.stderr, flush=True)
    print("\n| d | function | budget | settings | evals to 1e-2 | evals to 1e-5 | reached 1e-5 | s/run |")
    print("|---|---|---|---|---|---|---|---|")
    for (variant, name, d), rows in sorted(summary.items(), key=lambda kv: (kv[0][2], kv[0][1])):
        cells = []
        for target in TARGETS:
            hits = [r[f"evals_to_{target:g}"] for r in rows]
            cells.append(_median_hits(hits))
        reached = sum(r["evals_to_1e-05"] is not None for r in rows)
        seconds = statistics.median(r["seconds"] for r in rows)
        print(f"| {d} | {name} | {rows[0]['budget']} | {variant} | {cells[0]} | {cells[1]} | "
              f"{reached}/{len(rows)} | {seconds:.2f} |")
    print("\nTotals per settings (sum over problems of the median evaluations to 1e-5, an unreached "
          "target counted as the budget; total seconds):\n")
    print("| settings | evals to 1e-5, summed | problems reached (all seeds) | seconds, summed |")
    print("|---|---|---|---|")
    for variant in variants:
        total, solved, secs = 0.0, 0, 0.0
        for (v, _name, _d), rows in summary.items():
            if v != variant:
                continue
            hits = [r["evals_to_1e-05"] if r["evals_to_1e-05"] is not None else r["budget"] for r in rows]
            total += statistics.median(hits)
            solved += all(r["evals_to_1e-05"] is not None for r in rows)
            secs += sum(r["seconds"] for r in rows)
        print(f"| {variant} | {total:.0f} | {solved} | {secs:.1f} |")


def _median_hits(hits: list[int | None]) -> str:
    """Median of the hitting evaluations, an unreached target counting as infinite."""
    values = sorted(math.inf if h is None else h for h in hits)
    med = statistics.median(values)
    return "not reached" if math.isinf(med) else f"{med:.0f}"


def part_overhead(repeats: int, writer: Any, quad: bool) -> None:
    import PyNomad

    d, max_bb_eval = 5, 400
    shift = np.linspace(-2.0, 2.0, d)
    params = Params(quad_model=quad)
    lines = ["DISPLAY_DEGREE 0", f"MAX_BB_EVAL {max_bb_eval}", "SEED 11", *nomad_lines(params)]
    bare_t, bare_n, ok_t, ok_n = [], [], [], []
    x0 = [0.0] * d
    for _ in range(repeats):
        count = [0]

        def blackbox(x: Any, count: list[int] = count) -> int:
            v = np.array([x.get_coord(i) for i in range(d)])
            count[0] += 1
            x.setBBO(repr(float(np.sum((v - shift) ** 2))).encode())
            return 1

        start = time.perf_counter()
        PyNomad.optimize(blackbox, x0, [-5.0] * d, [5.0] * d, lines)
        bare_t.append(time.perf_counter() - start)
        bare_n.append(count[0])

        opt = ok.optimizers.registry["NOMAD"](ok.p.Array(shape=(d,), lower=-5.0, upper=5.0), budget=max_bb_eval,
                                              seed=0, restarts=0, quad_model=quad)
        n = 0
        start = time.perf_counter()
        while True:  # one run: stop when NOMAD ends it (later asks would be random points)
            cand = opt.ask()
            if cand._tag is None or cand._tag[0] is None:
                opt.abandon(cand)
                break
            opt.tell(cand, float(np.sum((cand.value - shift) ** 2)))
            n += 1
            if n >= max_bb_eval:
                break
        opt.close()
        ok_t.append(time.perf_counter() - start)
        ok_n.append(n)
    variant = "quad-on" if quad else "quad-off"
    for label, times, counts in (("bare PyNomad.optimize", bare_t, bare_n), ("optimkit NOMAD", ok_t, ok_n)):
        writer.writerow({"part": "overhead", "variant": f"{label}, {variant}", "function": "sphere", "dim": d,
                         "budget": max_bb_eval, "seed": 0, "nfev": statistics.median(counts),
                         "seconds": statistics.median(times)})
    per_bare = statistics.median(t / n for t, n in zip(bare_t, bare_n))
    per_ok = statistics.median(t / n for t, n in zip(ok_t, ok_n))
    print(f"| {variant} | {statistics.median(bare_n):.0f} | {statistics.median(bare_t):.3f} | "
          f"{statistics.median(ok_n):.0f} | {statistics.median(ok_t):.3f} | {1e3 * per_bare:.3f} | "
          f"{1e3 * per_ok:.3f} | {per_ok / per_bare:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="efficiency,overhead")
    parser.add_argument("--dims", default="2,5,10")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget-per-dim", type=int, default=200)
    parser.add_argument("--variants", default=",".join([*VARIANTS, *DIM_VARIANTS]),
                        help="comma-separated names of VARIANTS and DIM_VARIANTS")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="d = 2, one seed, two settings, 2 repeats")
    parser.add_argument("--out", default="bench_out/nomad_sample_efficiency.csv")
    args = parser.parse_args()
    dims = [int(v) for v in args.dims.split(",")]
    variants = [v.strip() for v in args.variants.split(",")]
    if args.quick:
        dims, args.seeds, args.repeats, variants = [2], 1, 2, variants[:2]
    fields = ["part", "variant", "function", "dim", "budget", "seed", "best_loss", "nfev", "seconds",
              "evals_to_0.01", "evals_to_1e-05"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        if "efficiency" in args.parts:
            part_efficiency(dims, args.seeds, args.budget_per_dim, writer, variants)
        if "overhead" in args.parts:
            print("\n| settings | bare evals | bare s | optimkit evals | optimkit s | bare ms/eval | "
                  "optimkit ms/eval | ratio |")
            print("|---|---|---|---|---|---|---|---|")
            for quad in (False, True):
                part_overhead(args.repeats, writer, quad)


if __name__ == "__main__":
    main()
