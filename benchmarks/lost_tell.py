"""One tell in 20,000 dropped (issue 13): the final loss of each optimizer, median over seeds, against
runs where every tell arrives (4-D shifted sphere in [-2, 2]^4, plain ask/tell loop).

Usage: OMP_NUM_THREADS=1 python benchmarks/lost_tell.py [--seeds 5]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import optimkit as ok  # noqa: E402
from optimkit import errors  # noqa: E402


def sphere(x: np.ndarray) -> float:
    return float(np.sum((x - 0.3) ** 2))


def final_loss(name: str, seed: int, drop: int | None, budget: int = 20_000) -> float:
    opt = ok.optimizers.registry[name](parametrization=ok.p.Array(shape=(4,), lower=-2, upper=2), budget=budget)
    opt.parametrization.random_state = np.random.RandomState(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", errors.OptimkitWarning)
        for i in range(budget):
            cand = opt.ask()
            if i != drop:
                opt.tell(cand, sphere(cand.value))
    loss = opt.recommend().loss
    return float("nan") if loss is None else float(loss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--optimizers", nargs="+", default=["ANSRUnimodal", "XNES", "SNES", "CMA"])
    args = parser.parse_args()
    print("| optimizer | median final loss, all told | one tell of 20,000 dropped |")
    print("|---|---|---|")
    for name in args.optimizers:
        clean = [final_loss(name, s, None) for s in range(args.seeds)]
        dropped = [final_loss(name, s, 1234) for s in range(args.seeds)]
        print(f"| {name} | {statistics.median(clean):.2e} | {statistics.median(dropped):.2e} |")


if __name__ == "__main__":
    main()
