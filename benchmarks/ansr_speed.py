"""Evaluations per second of ANSR's front ends on a cheap 128-D objective (popsize 64).

* ``ansr_minimize`` (``optimkit.compat.ansr``): the original's loop and draws, one call per point;
* ``ANSR(Array(128)).minimize(f)``: the ask/tell path, one ``Parameter`` per evaluation;
* ``ANSR(Array(128)).minimize(f, vectorized=True)``: one call per epoch of 64 rows;
* the random draws alone, per epoch: the original's sequence and optimkit's (merged calls;
  normals only for the coordinates that can move).

Targets (issue 3): ask/tell >= 150,000 evaluations/s, vectorized >= 400,000; the original
``ansr_minimize`` runs about 170,000-200,000/s and its draws cost about 157 us per epoch.
Run with one BLAS thread; the medians of ``--repeats`` runs are printed as a Markdown table.

``--root PATH`` imports optimkit from another checkout (e.g. a ``git worktree`` of an older
commit), so that two versions can be timed alternately on the same machine.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_speed.py --repeats 7
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_speed.py --root /tmp/before
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np

if "--root" in sys.argv:  # before the imports below: time another checkout
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--root") + 1]).resolve()))
else:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from optimkit.compat.ansr import ansr_minimize  # noqa: E402
from optimkit.optimizers import ansr as core  # noqa: E402

DIM, POPSIZE = 128, 64


def point(x: np.ndarray) -> float:
    return float(x @ x)


def rows(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def timed(run: object, evaluations: int) -> tuple[float, float]:
    """Evaluations per wall-clock second and per CPU second of this process (robust to a busy machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()  # type: ignore[operator]
    return evaluations / (time.perf_counter() - wall), evaluations / (time.process_time() - cpu)


def rate_compat(epochs: int) -> tuple[float, float]:
    return timed(lambda: ansr_minimize(point, ((-5.0, 5.0),) * DIM, maxiter=epochs * POPSIZE, popsize=POPSIZE,
                                       seed=0), epochs * POPSIZE)


def rate_ask_tell(epochs: int, vectorized: bool) -> tuple[float, float]:
    opt = core.ANSR(DIM, budget=epochs * POPSIZE, popsize=POPSIZE, seed=0)
    return timed(lambda: opt.minimize(rows if vectorized else point, vectorized=vectorized), epochs * POPSIZE)


def core_epoch_cost(p_self: float, epochs: int = 400) -> float:
    """Microseconds per epoch of the numpy core alone (bests, restarts, draws, perturbation), through the
    former module's ``tell(state, params, losses, rng)`` that every checkout has, on sphere losses."""
    params = core.Params(popsize=POPSIZE, p_self=p_self)
    gen = np.random.default_rng(0)
    start = core.init(params, gen.random((POPSIZE, DIM)))

    def run() -> None:
        state = start
        for _ in range(epochs):
            state = core.tell(state, params, rows(state.pos - 0.5), gen)

    run()
    return min(timeit.repeat(run, number=1, repeat=5)) / epochs * 1e6


def draw_cost(draw: object, normals: float = 1.0) -> float:
    """Microseconds per epoch for the draws (no restarts, p_self = 0.95); ``normals``: the share of
    coordinates that get a normal draw (optimkit draws them lazily, in :func:`core.perturb`)."""
    gen = np.random.default_rng(0)
    params = core.Params(popsize=POPSIZE)

    def one() -> None:
        _, noise, _ = draw(gen, params, 0, DIM)  # type: ignore[operator]
        if callable(noise):
            noise(int(normals * POPSIZE * DIM))

    return min(timeit.repeat(one, number=200, repeat=5)) / 200 * 1e6


def moving_share(epochs: int = 300) -> float:
    """Share of coordinates with |guide - pos| > 0 (the ones that need a normal) on the sphere run."""
    shares: list[float] = []
    # the module whose perturb the optimizer calls: the core package behind the shim, or (older checkouts) this one
    module: object = getattr(core, "_core", core)
    perturb = module.perturb  # type: ignore[attr-defined]

    def spy(*args: object) -> object:  # (params, state, noise, guide), or (state, noise, guide) before
        state, noise = args[-3], args[-2]
        if callable(noise):
            def counted(size: object) -> object:
                shares.append(float(np.prod(size)) / state.pos.size)  # type: ignore[attr-defined]
                return noise(size)
            return perturb(*args[:-2], counted, args[-1])
        return perturb(*args)

    module.perturb = spy  # type: ignore[attr-defined]
    try:
        core.ANSR(DIM, budget=epochs * POPSIZE, seed=0).minimize(rows, vectorized=True)
    finally:
        module.perturb = perturb  # type: ignore[attr-defined]
    return statistics.median(shares)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=400)
    parser.add_argument("--root", type=Path, default=None, help="import optimkit from this checkout")
    args = parser.parse_args(argv)
    cases = {
        "ansr_minimize (compat, original draws)": lambda: rate_compat(args.epochs),
        "ANSR.minimize (ask/tell)": lambda: rate_ask_tell(args.epochs, False),
        "ANSR.minimize(vectorized=True)": lambda: rate_ask_tell(4 * args.epochs, True),
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"optimkit from {Path(core.__file__).resolve().parents[2]}")
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print("| front end | evaluations/s (wall), median | range | evaluations per CPU second, median | range |")
    print("|---|---|---|---|---|")
    for name, case in cases.items():
        case()  # warm-up
        rates = [case() for _ in range(args.repeats)]
        wall, cpu = [r[0] for r in rates], [r[1] for r in rates]
        print(f"| {name} | {statistics.median(wall):,.0f} | {min(wall):,.0f}-{max(wall):,.0f} | "
              f"{statistics.median(cpu):,.0f} | {min(cpu):,.0f}-{max(cpu):,.0f} |", flush=True)
    for p_self in (0.95, 0.5):
        print(f"| core epoch alone (tell), p_self {p_self} | {core_epoch_cost(p_self):.0f} us | |", flush=True)
    share = moving_share()
    print(f"| draws per epoch, original sequence | {draw_cost(core.draw_reference):.0f} us | |")
    print(f"| draws per epoch, optimkit, normals for all coordinates | {draw_cost(core.draw_fast):.0f} us | |")
    print(f"| draws per epoch, optimkit, normals for the {share:.0%} that can move (median on this run) | "
          f"{draw_cost(core.draw_fast, share):.0f} us | |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average after: {load:.2f}")


if __name__ == "__main__":
    main()
