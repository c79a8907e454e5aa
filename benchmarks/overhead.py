"""Framework cost per ask+tell pair on a trivial objective: optimkit vs nevergrad, in one run.

Usage: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/overhead.py [--repeats 5] [--csv out.csv]

CPU time (time.process_time) of this single-threaded process, so that other load on the
machine distorts less than with wall time. Rows: RandomSearch on Array(10) and Array(100) — an explicit ask/tell loop and ``minimize`` —
for optimkit and nevergrad (``pip install -e .[bench]``), and optimkit's vectorized path
(``minimize(f, vectorized=True)``, per candidate) and the public batch API (a user loop of
``ask_batch``/``tell_batch``, per candidate). Medians over repeats; ratios nevergrad/optimkit.
Last, ANSR's throughput through a user loop of ``ask_batch``/``tell_batch`` at Array(128),
popsize 64, on a cheap vectorized objective (evaluations per CPU second).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

import optimkit as ok  # noqa: E402


def _trivial(x: np.ndarray) -> float:
    return 1.0 + float(x[0])


def time_ask_tell(make: Callable[[], object], n: int) -> float:
    opt = make()
    ask, tell = opt.ask, opt.tell  # type: ignore[attr-defined]
    start = time.process_time()
    for _ in range(n):
        cand = ask()
        tell(cand, _trivial(cand.value))
    return (time.process_time() - start) / n * 1e6


def time_minimize(make: Callable[[], object], n: int) -> float:
    opt = make()
    start = time.process_time()
    opt.minimize(_trivial)  # type: ignore[attr-defined]
    return (time.process_time() - start) / n * 1e6


def time_vectorized(dim: int, n: int) -> float:
    opt = ok.optimizers.RandomSearch(parametrization=dim, budget=n, seed=0)
    start = time.process_time()
    opt.minimize(lambda X: 1.0 + X[:, 0], vectorized=True)
    return (time.process_time() - start) / n * 1e6


def time_batch_api(dim: int, n: int, batch: int = 1024) -> float:
    opt = ok.optimizers.RandomSearch(parametrization=dim, budget=n, seed=0)
    start = time.process_time()
    while opt.num_tell < n:
        x = opt.ask_batch(batch)
        opt.tell_batch(x, 1.0 + x[:, 0])
    return (time.process_time() - start) / n * 1e6


def ansr_batch_throughput(n: int, dim: int = 128, popsize: int = 64) -> float:
    opt = ok.optimizers.registry["ANSR"](parametrization=dim, budget=n, seed=0, popsize=popsize)
    start = time.process_time()
    while opt.num_tell < n:
        x = opt.ask_batch(popsize)
        opt.tell_batch(x, np.einsum("ij,ij->i", x, x))
    return n / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=20_000, help="pairs per optimkit measurement")
    parser.add_argument("--n-nevergrad", type=int, default=2_000, help="pairs per nevergrad measurement")
    parser.add_argument("--csv", default=None)
    args = parser.parse_args()
    try:
        import nevergrad as ng
    except ImportError:  # pragma: no cover - the bench extra is optional
        ng = None
        print("nevergrad not installed (pip install -e .[bench]): its rows are skipped", file=sys.stderr)
    rows = []
    for dim in (10, 100):
        cases: dict[str, tuple[Callable[[], float], int]] = {
            "optimkit ask+tell": (
                lambda d=dim: time_ask_tell(
                    lambda: ok.optimizers.RandomSearch(parametrization=d, budget=args.n, seed=0), args.n
                ),
                args.n,
            ),
            "optimkit minimize": (
                lambda d=dim: time_minimize(
                    lambda: ok.optimizers.RandomSearch(parametrization=d, budget=args.n, seed=0), args.n
                ),
                args.n,
            ),
            "optimkit vectorized (per candidate)": (lambda d=dim: time_vectorized(d, 20 * args.n), 20 * args.n),
            "optimkit ask_batch/tell_batch (per cand.)": (lambda d=dim: time_batch_api(d, 20 * args.n), 20 * args.n),
        }
        if ng is not None:
            cases["nevergrad ask+tell"] = (
                lambda d=dim: time_ask_tell(
                    lambda: ng.optimizers.RandomSearch(parametrization=d, budget=args.n_nevergrad), args.n_nevergrad
                ),
                args.n_nevergrad,
            )
            cases["nevergrad minimize"] = (
                lambda d=dim: time_minimize(
                    lambda: ng.optimizers.RandomSearch(parametrization=d, budget=args.n_nevergrad),
                    args.n_nevergrad,
                ),
                args.n_nevergrad,
            )
        results: dict[str, float] = {}
        for _ in range(args.repeats):  # interleave sides so that machine noise hits both alike
            for name, (fn, _n) in cases.items():
                results.setdefault(name, [])  # type: ignore[arg-type]
                results[name].append(fn())  # type: ignore[attr-defined]
        for name, vals in results.items():
            rows.append({"dim": dim, "case": name, "median_us": statistics.median(vals), "min_us": min(vals)})  # type: ignore[arg-type]
    print(f"{'dim':>4}  {'case':<38} {'median µs':>10} {'min µs':>9}")
    for r in rows:
        print(f"{r['dim']:>4}  {r['case']:<38} {r['median_us']:>10.3f} {r['min_us']:>9.3f}")
    if ng is not None:
        print()
        for dim in (10, 100):
            by = {r["case"]: r["median_us"] for r in rows if r["dim"] == dim}
            print(
                f"dim {dim}: nevergrad/optimkit ask+tell = {by['nevergrad ask+tell'] / by['optimkit ask+tell']:.0f}x, "
                f"minimize = {by['nevergrad minimize'] / by['optimkit minimize']:.0f}x"
            )
    ansr = [ansr_batch_throughput(20 * args.n) for _ in range(args.repeats)]
    print(f"\nANSR Array(128), popsize 64, ask_batch/tell_batch user loop: median {statistics.median(ansr):,.0f} "
          f"evaluations per CPU second (min {min(ansr):,.0f})")
    rows.append({"dim": 128, "case": "ANSR ask_batch/tell_batch evals per s", "median_us": statistics.median(ansr),
                 "min_us": min(ansr)})
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


if __name__ == "__main__":
    main()
