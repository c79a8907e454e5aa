"""Evidence for the rules of ``Auto``: the candidate optimizers on the regimes each rule covers.

Usage: OMP_NUM_THREADS=1 python benchmarks/auto_rules.py [--seeds 5] [--csv out.csv] [--regimes discrete,mixed]

The continuous rules of ``Auto`` come from COCO's bbob suite (``benchmarks/bbob.py``, see
``docs/optimizers/auto.md``); this script covers the regimes that suite does not: discrete and
mixed parametrizations, many workers, very high dimension and a known start.

Regimes (median final loss over seeds, lower is better; RandomSearch as the baseline):
- discrete: 12 ``Choice(5)`` and 4 ``TransitionChoice(7)`` against a hidden target (loss = mismatches);
- mixed: an ``Instrumentation`` of an Array(4), a Log, an integer Scalar and a Choice;
- smooth small-dimensional: ellipsoid and Rosenbrock 10-D, budget 200 x d;
- high dimension: sphere 500-D, budget 10 x d;
- low budget from a known start: sphere 20-D started near the optimum, budget 10 x d;
- parallel: Shubert 8-D with 32 workers (asks before tells, batch of 32).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import optimkit as ok  # noqa: E402
from optimkit.functions import ellipsoid, rosenbrock, shubert, sphere  # noqa: E402

TARGET_C = [i % 5 for i in range(12)]
TARGET_T = [1, 5, 3, 6]


def discrete_problem() -> tuple[ok.p.Parameter, Callable[..., float]]:
    param = ok.p.Instrumentation(*[ok.p.Choice(range(5)) for _ in range(12)], *[ok.p.TransitionChoice(range(7)) for _ in range(4)])

    def f(*args: Any) -> float:
        c, t = args[:12], args[12:]
        return float(sum(a != b for a, b in zip(c, TARGET_C)) + sum(abs(a - b) for a, b in zip(t, TARGET_T)))

    return param, f


def mixed_problem() -> tuple[ok.p.Parameter, Callable[..., float]]:
    param = ok.p.Instrumentation(
        ok.p.Array(shape=(4,), lower=-3, upper=3),
        lr=ok.p.Log(lower=1e-5, upper=1.0),
        layers=ok.p.Scalar(lower=1, upper=10).set_integer_casting(),
        act=ok.p.Choice(["relu", "tanh", "gelu", "silu"]),
    )

    def f(x: np.ndarray, lr: float, layers: int, act: str) -> float:
        return float(np.sum((x - 1) ** 2) + (np.log10(lr) + 3) ** 2 + 0.3 * (layers - 4) ** 2 + (act != "gelu"))

    return param, f


def run_case(name: str, param_factory: Callable[[], ok.p.Parameter], f: Callable[..., float], budget: int,
             seed: int, workers: int = 1) -> float:
    param = param_factory()
    opt = ok.optimizers.registry[name](parametrization=param, budget=budget, num_workers=workers)
    opt.parametrization.random_state.seed(seed)
    best = np.inf
    while opt.num_ask < budget:
        cands = [opt.ask() for _ in range(min(workers, budget - opt.num_ask))]
        for c in cands:
            loss = f(*c.args, **c.kwargs)
            best = min(best, loss)
            opt.tell(c, loss)
    if hasattr(opt, "close"):
        opt.close()
    return float(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--csv", default=None)
    parser.add_argument("--optimizers", nargs="*", default=["ANSR", "ANSRMultimodal", "XNES", "SNES", "CMA",
                                                             "EANOMAD", "EANOMADHybrid", "RandomSearch", "Auto"])
    parser.add_argument("--regimes", default="", help="comma-separated substrings of the regimes to run (default: all)")
    args = parser.parse_args()
    names = [n for n in args.optimizers if n in ok.optimizers.registry]
    dparam, dfun = discrete_problem()
    mparam, mfun = mixed_problem()
    start20 = np.full(20, 0.3)
    regimes: list[tuple[str, Callable[[], ok.p.Parameter], Callable[..., float], int, int]] = [
        ("discrete 16 choices", lambda: discrete_problem()[0], dfun, 1000, 1),
        ("mixed", lambda: mixed_problem()[0], mfun, 600, 1),
        ("ellipsoid 10-D", lambda: ok.p.Array(shape=(10,), lower=-5, upper=5), ellipsoid, 2000, 1),
        ("rosenbrock 10-D", lambda: ok.p.Array(shape=(10,), lower=-5, upper=5), rosenbrock, 2000, 1),
        ("sphere 500-D", lambda: ok.p.Array(shape=(500,), lower=-5, upper=5), sphere, 5000, 1),
        ("sphere 20-D from a known start", lambda: ok.p.Array(init=start20, lower=-5, upper=5), sphere, 200, 1),
        ("shubert 8-D, 32 workers", lambda: ok.p.Array(shape=(8,), lower=-10, upper=10), shubert, 4096, 32),
    ]
    del dparam, mparam
    if args.regimes:
        wanted = args.regimes.split(",")
        regimes = [r for r in regimes if any(w in r[0] for w in wanted)]
    rows = []
    for regime, pf, f, budget, workers in regimes:
        for name in names:
            start = time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                losses = [run_case(name, pf, f, budget, seed, workers) for seed in range(args.seeds)]
            rows.append({"regime": regime, "optimizer": name, "budget": budget, "workers": workers,
                         "median": float(np.median(losses)), "min": float(np.min(losses)),
                         "max": float(np.max(losses)), "cpu_s": time.process_time() - start})
            r = rows[-1]
            print(f"{regime:32s} {name:15s} median {r['median']:.4g}  [{r['min']:.4g}, {r['max']:.4g}]  {r['cpu_s']:.1f}s",
                  flush=True)
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
