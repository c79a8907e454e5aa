"""Framework cost of optimkit's ``CMA`` over the bare ``cmaes`` package, on a cheap objective.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/cma_overhead.py [--repeats 7] [--csv out.csv]

On a shifted sphere in ``[-5, 5]^d`` (d = 10 and 40, a fixed budget of ``--budget-per-dim`` x d
evaluations), three loops run the same restarted CMA-ES (IPOP: on ``should_stop()``, a new run
from a uniform mean with twice the population; sigma 2 = 0.2 of the box):

- ``cmaes``: the bare library's ask/tell loop, restarts written out as in cmaes's IPOP example;
- ``optimkit ask+tell``: ``CMA`` (its default bounds handling, ``"adaptive"``: here, where no run
  is pressed against the box, the bare loop's: cmaes resamples a point outside it, then clips) in
  an explicit ask/tell loop;
- ``ask+tell transform``: the same with ``bound_handling="transform"`` (pycma's box transformation);
- ``optimkit minimize``: the same optimizer through ``minimize``;
- ``optimkit batches``: the batch protocol, ``ask_data(popsize)`` / ``tell_data`` (the objective
  still called once per point).

Wall time (``time.perf_counter``; ``--clock cpu``: CPU time, ``time.process_time``, which other
load on the machine distorts less) of each whole run, one thread; the cases are interleaved over
``--repeats`` repeats and the medians and minima reported, with their ratios to the bare loop
(the target is at most 1.10) and the final losses (the same quality). CSV rows: dim, budget, case, repeat,
seconds, best loss.

``--quality [--dims 10] [--seeds 5]``: the median best loss at 1000 x d evaluations of the bare
cmaes IPOP loop, ``CMA`` and ``BIPOPCMA`` on five functions of ``[-5, 5]^d`` (shifted sphere,
ellipsoid, Rosenbrock, shifted Rastrigin, Schaffer F7).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import cmaes  # noqa: E402
import numpy as np  # noqa: E402

import optimkit as ok  # noqa: E402
from optimkit.algorithms.cma import CMA  # noqa: E402

LOW, HIGH = -5.0, 5.0


def sphere(x: np.ndarray) -> float:
    return float(np.sum((x - 1.0) ** 2))


def rastrigin(x: np.ndarray) -> float:
    z = x - 1.0
    return float(10 * len(z) + np.sum(z**2 - 10 * np.cos(2 * np.pi * z)))


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def ellipsoid(x: np.ndarray) -> float:
    d = len(x)
    return float(np.sum(10.0 ** (6 * np.arange(d) / (d - 1)) * (x - 1.0) ** 2))


def schaffer(x: np.ndarray) -> float:
    s = np.sqrt(x[:-1] ** 2 + x[1:] ** 2)
    return float(np.mean(np.sqrt(s) + np.sqrt(s) * np.sin(50 * s**0.2) ** 2)) ** 2


def bare_cmaes(dim: int, budget: int, seed: int, f: Callable[[np.ndarray], float] = sphere) -> float:
    """cmaes's own ask/tell loop with IPOP restarts (as in cmaes's examples/ipop_cmaes.py)."""
    rng = np.random.RandomState(seed)
    bounds = np.tile([LOW, HIGH], (dim, 1))
    sigma = 0.2 * (HIGH - LOW)
    opt = cmaes.CMA(mean=np.zeros(dim), sigma=sigma, bounds=bounds, seed=seed)
    best, spent = math.inf, 0
    while spent < budget:
        solutions = []
        for _ in range(opt.population_size):
            x = opt.ask()
            y = f(x)
            best = min(best, y)
            solutions.append((x, y))
        spent += opt.population_size
        opt.tell(solutions)
        if opt.should_stop():
            opt = cmaes.CMA(mean=rng.uniform(LOW, HIGH, dim), sigma=sigma, bounds=bounds, seed=int(rng.randint(2**31)),
                            population_size=2 * opt.population_size)
    return best


def _optimkit(dim: int, budget: int, seed: int, bound_handling: str = "adaptive") -> ok.optimizers.base.Optimizer:
    param = ok.p.Array(shape=(dim,), lower=LOW, upper=HIGH)
    return CMA(param, budget=budget, seed=seed, bound_handling=bound_handling)


def optimkit_ask_tell(dim: int, budget: int, seed: int, bound_handling: str = "adaptive") -> float:
    opt = _optimkit(dim, budget, seed, bound_handling)
    ask, tell = opt.ask, opt.tell
    for _ in range(budget):
        cand = ask()
        tell(cand, sphere(cand.value))
    return float(opt.recommend().loss)


def optimkit_minimize(dim: int, budget: int, seed: int) -> float:
    opt = _optimkit(dim, budget, seed)
    return float(opt.minimize(sphere).loss)


def optimkit_batches(dim: int, budget: int, seed: int) -> float:
    """The batch protocol (a generation at a time), the objective still called once per point."""
    opt = _optimkit(dim, budget, seed)
    while opt.num_tell < budget:
        data = opt.ask_data(min(opt.preferred_batch_size, budget - opt.num_tell))
        opt.tell_data(data, np.array([sphere(x) for x in opt.values_of(data)]))
    return float(opt.recommend().loss)


def optimkit_ask_tell_transform(dim: int, budget: int, seed: int) -> float:
    """The box transformation (samples mapped into the box, none resampled)."""
    return optimkit_ask_tell(dim, budget, seed, "transform")


CASES: dict[str, Callable[[int, int, int], float]] = {
    "cmaes": bare_cmaes,
    "optimkit ask+tell": optimkit_ask_tell,
    "ask+tell transform": optimkit_ask_tell_transform,
    "optimkit minimize": optimkit_minimize,
    "optimkit batches": optimkit_batches,
}


def quality(dim: int, budget: int, seeds: int) -> None:
    """Median best loss of the bare cmaes IPOP loop, ``CMA`` and ``BIPOPCMA`` (same budget, seeds 0..)."""
    print(f"quality at d = {dim}, budget {budget}, median best loss over {seeds} seeds")
    print(f"{'function':<11} {'cmaes IPOP':>11} {'CMA':>11} {'BIPOPCMA':>11}")
    param = ok.p.Array(shape=(dim,), lower=LOW, upper=HIGH)
    for f in (sphere, ellipsoid, rosenbrock, rastrigin, schaffer):
        bests: dict[str, list[float]] = {"cmaes": [], "CMA": [], "BIPOPCMA": []}
        for seed in range(seeds):
            bests["cmaes"].append(bare_cmaes(dim, budget, seed, f))
            for name in ("CMA", "BIPOPCMA"):
                opt = ok.optimizers.registry[name](parametrization=param, budget=budget)
                opt.parametrization.random_state.seed(seed)
                bests[name].append(float(opt.minimize(f).loss))
        print(f"{f.__name__:<11} " + " ".join(f"{statistics.median(v):>11.3g}" for v in bests.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 40])
    parser.add_argument("--budget-per-dim", type=int, default=500)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--csv", default=None)
    parser.add_argument("--quality", action="store_true",
                        help="instead: median best loss on 5 functions, bare cmaes IPOP vs CMA vs BIPOPCMA")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    if args.quality:
        for dim in args.dims:
            quality(dim, 1000 * dim, args.seeds)
        return
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    rows: list[dict[str, object]] = []
    print(f"{'dim':>4} {'budget':>7}  {'case':<18} {args.clock + ' s':>9} {'ratio':>6} {'min s':>7} {'ratio':>6} "
          f"{'median best loss':>17}")
    for dim in args.dims:
        budget = args.budget_per_dim * dim
        times: dict[str, list[float]] = {name: [] for name in CASES}
        losses: dict[str, list[float]] = {name: [] for name in CASES}
        for rep in range(args.repeats):  # interleaved, so that machine noise hits every case alike
            for name, run in CASES.items():
                start = clock()
                loss = run(dim, budget, rep)
                seconds = clock() - start
                times[name].append(seconds)
                losses[name].append(loss)
                rows.append({"dim": dim, "budget": budget, "case": name, "repeat": rep, "seconds": seconds,
                             "best_loss": loss})
        base, base_min = statistics.median(times["cmaes"]), min(times["cmaes"])
        for name in CASES:
            med, low = statistics.median(times[name]), min(times[name])
            print(f"{dim:>4} {budget:>7}  {name:<18} {med:>9.3f} {med / base:>6.3f} {low:>7.3f} {low / base_min:>6.3f} "
                  f"{statistics.median(losses[name]):>17.3g}")
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
