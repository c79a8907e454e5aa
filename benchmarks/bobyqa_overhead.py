"""What BOBYQA costs per evaluation, layer by layer, on a cheap objective (a shifted ellipsoid).

Three ways to run the same restarted BOBYQA for ``--evals`` evaluations in each dimension:

- ``bare NLopt``: ``nlopt.opt(LN_BOBYQA).optimize`` calling the objective itself (NLopt's own time);
- ``BobyqaRun``: the same runs turned inside out (:mod:`optimkit.algorithms.bobyqa.loop`): a thread
  per run, two thread hand-overs per evaluation;
- ``optimkit BOBYQA``: the registry optimizer through ``ask``/``tell`` (the framework on top).

Prints the median over ``--repeats`` of the microseconds per evaluation, objective excluded, and the
ratios to bare NLopt. One thread (``OMP_NUM_THREADS=1``) is set before numpy loads.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bobyqa_overhead.py --dims 2,5,10 --evals 20000 --repeats 3
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

RHO_BEGIN, RHO_END = 0.35, 1e-10


class Objective:
    """A shifted ellipsoid on the unit box that counts its calls and its own time."""

    def __init__(self, dim: int) -> None:
        self.shift = np.linspace(0.2, 0.8, dim)
        self.weights = np.logspace(0, 3, dim)
        self.calls = 0
        self.seconds = 0.0

    def __call__(self, x: np.ndarray) -> float:
        start = time.perf_counter()
        value = float((self.weights * (np.asarray(x) - self.shift) ** 2).sum())
        self.calls += 1
        self.seconds += time.perf_counter() - start
        return value


def bare(dim: int, evals: int, fun: Objective) -> None:
    import nlopt

    rng = np.random.default_rng(0)
    while fun.calls < evals:
        opt = nlopt.opt(nlopt.LN_BOBYQA, dim)
        opt.set_lower_bounds(np.zeros(dim))
        opt.set_upper_bounds(np.ones(dim))
        opt.set_min_objective(lambda x, grad: fun(x))
        opt.set_initial_step(RHO_BEGIN)
        opt.set_xtol_abs(RHO_END)
        opt.set_maxeval(evals - fun.calls)
        try:
            opt.optimize(0.1 + 0.8 * rng.random(dim))
        except Exception:  # noqa: BLE001, S110 - a roundoff limit ends the run, as in optimkit
            pass


def inverted(dim: int, evals: int, fun: Objective) -> None:
    from optimkit.algorithms.bobyqa import BobyqaRun

    rng = np.random.default_rng(0)
    while fun.calls < evals:
        run = BobyqaRun(0.1 + 0.8 * rng.random(dim), RHO_BEGIN, RHO_END, evals - fun.calls).start()
        while not run.done:
            run.send(fun(run.point))


def through_optimkit(dim: int, evals: int, fun: Objective) -> None:
    import optimkit as ok

    opt = ok.optimizers.BOBYQA(ok.p.Array(shape=(dim,), lower=0.0, upper=1.0), budget=evals, seed=0)
    for _ in range(evals):
        cand = opt.ask()
        opt.tell(cand, fun(cand.value))
    opt.close()


WAYS: dict[str, Callable[[int, int, Objective], None]] = {
    "bare NLopt": bare, "BobyqaRun": inverted, "optimkit BOBYQA": through_optimkit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", default="2,5,10")
    parser.add_argument("--evals", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print("| d | " + " | ".join(f"{name} (µs / eval)" for name in WAYS) + " | ratio to bare |")
    print("|---|" + "---|" * (len(WAYS) + 1))
    for dim in (int(d) for d in args.dims.split(",")):
        medians = {}
        for name, way in WAYS.items():
            times = []
            for _ in range(args.repeats):
                fun = Objective(dim)
                start = time.perf_counter()
                way(dim, args.evals, fun)
                times.append(1e6 * (time.perf_counter() - start - fun.seconds) / fun.calls)
            medians[name] = statistics.median(times)
        ratios = " / ".join(f"{medians[name] / medians['bare NLopt']:.0f}x" for name in list(WAYS)[1:])
        print(f"| {dim} | " + " | ".join(f"{medians[name]:.1f}" for name in WAYS) + f" | {ratios} |", flush=True)


if __name__ == "__main__":
    main()
