"""optimkit's Optuna sampler against Optuna's own: ``OptimkitSampler`` ("Auto", "XNES", "ANSR") vs
``TPESampler`` and ``CmaEsSampler`` on sphere, Rosenbrock and Rastrigin (2-, 5- and 10-D) at equal
trial counts.

Every sampler runs the same Optuna objective (``suggest_float`` per coordinate in ``[-5, 5]``) for
``--trials`` trials (default 200) on an in-memory study, for ``--seeds`` seeds. Sphere and
Rastrigin are shifted by a fixed vector (drawn once per function and dimension from
``default_rng(0)`` in ``[-2, 2]``) so that the optimum is not the centre of the box, where
optimizers that start at the centre would be favoured; Rosenbrock's optimum is already at
``(1, ..., 1)``. ``OptimkitSampler`` gets ``budget=trials`` (``Auto`` picks from it). Rows go to a
CSV (sampler, function, dim, budget, seed, best loss, nfev, seconds); the script prints markdown
tables of the median best loss and of the median wall time per trial.

Usage::

    nice -n 10 .venv/bin/python benchmarks/optuna_samplers.py --seeds 5 --csv bench_out/optuna_samplers.csv
    .venv/bin/python benchmarks/optuna_samplers.py --quick      # smoke run: 2 seeds, 60 trials, 2-D
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import optuna  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from optimkit import functions as F  # noqa: E402
from optimkit.integrations.optuna import OptimkitSampler  # noqa: E402

FUNCTIONS: dict[str, Callable[[Any], Any]] = {"sphere": F.sphere, "rosenbrock": F.rosenbrock, "rastrigin": F.rastrigin}
SHIFTED = {"sphere", "rastrigin"}
SAMPLERS: dict[str, Callable[[int, int], optuna.samplers.BaseSampler]] = {
    "OptimkitSampler(Auto)": lambda seed, budget: OptimkitSampler("Auto", seed=seed, budget=budget),
    "OptimkitSampler(XNES)": lambda seed, budget: OptimkitSampler("XNES", seed=seed, budget=budget),
    "OptimkitSampler(ANSR)": lambda seed, budget: OptimkitSampler("ANSR", seed=seed, budget=budget),
    "TPESampler": lambda seed, budget: optuna.samplers.TPESampler(seed=seed),
    "CmaEsSampler": lambda seed, budget: optuna.samplers.CmaEsSampler(seed=seed),
}


def shift_of(function: str, dim: int) -> np.ndarray:
    if function not in SHIFTED:
        return np.zeros(dim)
    index = list(FUNCTIONS).index(function)
    return np.random.default_rng([0, index, dim]).uniform(-2.0, 2.0, dim)


def run(sampler_name: str, function: str, dim: int, trials: int, seed: int) -> tuple[float, float]:
    """(best loss, seconds) of one study."""
    f, shift = FUNCTIONS[function], shift_of(function, dim)

    def objective(trial: optuna.Trial) -> float:
        x = np.array([trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(dim)])
        return float(f(x - shift))

    study = optuna.create_study(sampler=SAMPLERS[sampler_name](seed, trials))
    start = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return float(study.best_value), time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5, 10])
    parser.add_argument("--samplers", nargs="+", default=list(SAMPLERS), choices=list(SAMPLERS))
    parser.add_argument("--csv", type=Path, default=Path("bench_out/optuna_samplers.csv"))
    parser.add_argument("--quick", action="store_true", help="2 seeds, 60 trials, 2-D only")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.trials, args.dims = 2, 60, [2]
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning and the like
    args.csv.parent.mkdir(parents=True, exist_ok=True)
    results: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    with args.csv.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sampler", "function", "dim", "budget", "seed", "best_loss", "nfev", "seconds"])
        for function in FUNCTIONS:
            for dim in args.dims:
                for name in args.samplers:
                    for seed in range(args.seeds):
                        best, seconds = run(name, function, dim, args.trials, seed)
                        results.setdefault((name, function, dim), []).append((best, seconds))
                        writer.writerow([name, function, dim, args.trials, seed, f"{best:.6g}", args.trials,
                                         f"{seconds:.3f}"])
                        fh.flush()
                print(f"done {function} {dim}-D", file=sys.stderr, flush=True)
    names = args.samplers
    print(f"Median best loss after {args.trials} trials ({args.seeds} seeds; lower is better):\n")
    print("| function | dim | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for function in FUNCTIONS:
        for dim in args.dims:
            cells = []
            medians = {n: statistics.median(b for b, _ in results[(n, function, dim)]) for n in names}
            best = min(medians.values())
            for n in names:
                text = f"{medians[n]:.3g}"
                cells.append(f"**{text}**" if medians[n] == best else text)
            print(f"| {function} | {dim} | " + " | ".join(cells) + " |")
    print(f"\nMedian wall time per trial (ms; objective included, {len(FUNCTIONS)} functions x {args.seeds} seeds):\n")
    print("| dim | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for dim in args.dims:
        cells = [
            f"{1000 * statistics.median(s for f in FUNCTIONS for _, s in results[(n, f, dim)]) / args.trials:.2f}"
            for n in names
        ]
        print(f"| {dim} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
