"""Evaluations per second of ANSR's front ends on a cheap 128-D objective (popsize 64).

* ``ansr_minimize`` (``optimkit.compat.ansr``): the original's loop and draws, one call per point;
* ``ANSR(Array(128)).minimize(f)``: the ask/tell path, one ``Parameter`` per evaluation;
* ``ANSR(Array(128)).minimize(f, vectorized=True)``: one call per epoch of 64 rows;
* the random draws alone, per epoch: the original's sequence and optimkit's (merged calls;
  normals only for the coordinates that can move).

Targets (issue 3): ask/tell >= 150,000 evaluations/s, vectorized >= 400,000; the original
``ansr_minimize`` runs about 170,000-200,000/s and its draws cost about 157 us per epoch.
Run with one BLAS thread; the medians of ``--repeats`` runs are printed as a Markdown table.

Usage::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_speed.py --repeats 7
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
    perturb = core.perturb

    def spy(state: core.State, noise: object, guide: object) -> core.State:
        g = core.perturb.__wrapped__  # type: ignore[attr-defined]
        if callable(noise):
            def counted(size: object) -> object:
                shares.append(float(np.prod(size)) / state.pos.size)
                return noise(size)  # type: ignore[operator]
            return g(state, counted, guide)  # type: ignore[no-any-return]
        return g(state, noise, guide)  # type: ignore[no-any-return]

    spy.__wrapped__ = perturb  # type: ignore[attr-defined]
    core.perturb = spy  # type: ignore[assignment]
    try:
        core.ANSR(DIM, budget=epochs * POPSIZE, seed=0).minimize(rows, vectorized=True)
    finally:
        core.perturb = perturb  # type: ignore[assignment]
    return statistics.median(shares)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=400)
    args = parser.parse_args(argv)
    cases = {
        "ansr_minimize (compat, original draws)": lambda: rate_compat(args.epochs),
        "ANSR.minimize (ask/tell)": lambda: rate_ask_tell(args.epochs, False),
        "ANSR.minimize(vectorized=True)": lambda: rate_ask_tell(4 * args.epochs, True),
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
    print("| front end | evaluations/s (wall), median | range | evaluations per CPU second, median | range |")
    print("|---|---|---|---|---|")
    for name, case in cases.items():
        case()  # warm-up
        rates = [case() for _ in range(args.repeats)]
        wall, cpu = [r[0] for r in rates], [r[1] for r in rates]
        print(f"| {name} | {statistics.median(wall):,.0f} | {min(wall):,.0f}-{max(wall):,.0f} | "
              f"{statistics.median(cpu):,.0f} | {min(cpu):,.0f}-{max(cpu):,.0f} |", flush=True)
    share = moving_share()
    print(f"| draws per epoch, original sequence | {draw_cost(core.draw_reference):.0f} us | |")
    print(f"| draws per epoch, optimkit, normals for all coordinates | {draw_cost(core.draw_fast):.0f} us | |")
    print(f"| draws per epoch, optimkit, normals for the {share:.0%} that can move (median on this run) | "
          f"{draw_cost(core.draw_fast, share):.0f} us | |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average after: {load:.2f}")


if __name__ == "__main__":
    main()
