"""The ANSR README's benchmark table, rerun with optimkit's ask/tell ``ANSR`` (numpy rows).

Rows (after ``examples/benchmark.py`` of https://github.com/fxeqxmulfx/ansr): sphere 128-D
(bound 5), Shubert 64-D (bound 10), Hilly 128-D (bound 3), each scaled to [0, 1] per pair
(``optimkit.functions.sphere01 / shubert / hilly``); ANSR popsize 64, sigma 0.05, p_self 0.05
and 0.95; early stop once the best loss is <= 0.01, at most 5000 epochs. All particles start
uniformly in the box (as the numpy ``ansr_minimize`` without ``x0``). Each run goes through the
public path, ``ANSR(...).minimize(f, vectorized=True)`` with an ``EarlyStopping`` callback.

The transformer and AdamW rows need torch: they live in ``benchmarks/ansr_torch_rows.py``;
``--with-torch`` runs them too (hook: :func:`torch_rows`) and merges them into the same CSV and
table. ``--shubert-example`` also reruns the README's 64-D Shubert example through
``optimkit.compat.ansr`` (default and periodic settings, seeds 42, 1, 2).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_table.py --out bench_out/ansr_table.csv \\
        --plots docs/images
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import optimkit as ok  # noqa: E402
from optimkit import functions as F  # noqa: E402
from optimkit.callbacks import EarlyStopping  # noqa: E402
from optimkit.optimizers.ansr import ANSR  # noqa: E402

FIELDS = ["optimizer", "task", "dim", "options", "seed", "steps", "evaluations", "loss", "restarts",
          "train_acc", "test_acc", "train_acc_dropout", "test_acc_dropout", "seconds"]
TASKS = {"sphere": (F.sphere01, 128, 5.0), "shubert": (F.shubert, 64, 10.0), "hilly": (F.hilly, 128, 3.0)}
PUBLISHED = {  # README table (steps are the 0-based index of the last step, i.e. epochs - 1)
    ("sphere", 0.05): "66 steps, 9.49e-03", ("sphere", 0.95): "227 steps, 9.44e-03",
    ("shubert", 0.05): "1162 steps, 1.35e-03, 43 restarts",
    ("hilly", 0.05): "4999 steps, 2.19e-01, 4354 restarts", ("hilly", 0.95): "4999 steps, 3.63e-02, 354 restarts",
}


def ansr_run(task: str, p_self: float, seed: int, max_epochs: int = 5000, stop: float = 0.01,
             popsize: int = 64, sigma: float = 0.05) -> tuple[dict[str, object], list[float]]:
    """One ANSR run on ``task``; returns the CSV row and the best loss after each epoch."""
    fn, dim, bound = TASKS[task]
    param = ok.p.Array(shape=(dim,), lower=-bound, upper=bound)
    opt = ANSR(param, budget=max_epochs * popsize, popsize=popsize, sigma=sigma, p_self=p_self, seed=seed)
    trace: list[float] = []

    def reached(o: ANSR) -> bool:
        if not o.current_bests:
            return False
        trace.append(o.current_bests["minimum"].minimum)
        return trace[-1] <= stop

    opt.register_callback("ask", EarlyStopping(reached))
    start = time.perf_counter()
    rec = opt.minimize(fn, vectorized=True)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    if len(trace) < opt.num_epochs:  # the budget ran out: the last epoch was not checked yet
        trace.append(opt.current_bests["minimum"].minimum)
    del rec  # recommend() is the pessimistic best (re-evaluated points win); report the minimum
    loss = float(opt.current_bests["minimum"].minimum)
    row = {"optimizer": "ANSR (optimkit)", "task": f"{task} {dim}D",
           "dim": dim, "options": f"popsize={popsize}, sigma={sigma}, p_self={p_self}, bound={bound:g}",
           "seed": seed, "steps": opt.num_epochs, "evaluations": opt.num_tell, "loss": loss,
           "restarts": opt.restarts, "seconds": round(seconds, 2)}
    return row, trace


def torch_rows(seeds: list[int], max_epochs: int, out: Path) -> list[dict[str, object]]:
    """Hook for the transformer and AdamW rows (``benchmarks/ansr_torch_rows.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import ansr_torch_rows  # type: ignore[import-not-found]

    torch_out = out.with_name(out.stem + "_torch.csv")
    ansr_torch_rows.main(["--seeds", *map(str, seeds), "--max-epochs", str(max_epochs), "--out", str(torch_out)])
    with torch_out.open() as handle:
        return list(csv.DictReader(handle))


def shubert_example(seeds: tuple[int, ...] = (42, 1, 2)) -> list[str]:
    """The README's example (64-D Shubert, ``EarlyStopCallback(shubert)``) via the compat layer."""
    from optimkit.compat.ansr import EarlyStopCallback, ansr_minimize

    def shubert(x: np.ndarray) -> float:  # the README's function (value = 396.7309 * F.shubert)
        return float(F.shubert(x)) * (F.SHUBERT_MAX - F.SHUBERT_MIN)

    lines = []
    for label, kwargs in (("default", {}), ("periodic sigma=0.04 p_self=0.05", {"sigma": 0.04, "p_self": 0.05})):
        for seed in seeds:
            start = time.perf_counter()
            res = ansr_minimize(shubert, ((-10, 10), (-10, 10)) * 32, callback=EarlyStopCallback(shubert),
                                seed=seed, **kwargs)
            lines.append(f"| {label} | {seed} | {res.fun:.4g} | {res.nfev} | {res.nit} | {res.restarts} | "
                         f"{time.perf_counter() - start:.1f} |")
    return ["| options | seed | fun | nfev | nit | restarts | seconds |", "|---|---|---|---|---|---|---|", *lines]


def summarize(rows: list[dict[str, object]]) -> str:
    """Markdown table: median (range) per configuration, next to the published figures."""
    def cell(values: list[float], fmt: str) -> str:
        if not values:
            return "-"
        return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"

    lines = ["| optimizer | task | options | epochs | evaluations | loss | restarts | published |",
             "|---|---|---|---|---|---|---|---|"]
    for key in dict.fromkeys((str(r["optimizer"]), str(r["task"]), str(r["options"])) for r in rows):
        group = [r for r in rows if (str(r["optimizer"]), str(r["task"]), str(r["options"])) == key]

        def col(name: str, group: list[dict[str, object]] = group) -> list[float]:
            return [float(r[name]) for r in group if r.get(name, "") not in ("", None)]  # type: ignore[arg-type]

        task = key[1].split()[0]
        p_self = next((float(o.split("=")[1]) for o in key[2].split(", ") if o.startswith("p_self")), None)
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {cell(col('steps'), '.0f')} | "
                     f"{cell(col('evaluations'), '.0f')} | {cell(col('loss'), '.3g')} | "
                     f"{cell(col('restarts'), '.0f')} | {PUBLISHED.get((task, p_self), '-')} |")
    return "\n".join(lines)


def plot(traces: dict[tuple[str, float], list[list[float]]], folder: Path) -> None:
    """One PNG per function: median best loss per epoch (band: min-max over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    for task in TASKS:
        fig, ax = plt.subplots(figsize=(6, 4))
        for (name, p_self), runs in traces.items():
            if name != task:
                continue
            n = max(len(t) for t in runs)
            arr = np.array([t + [t[-1]] * (n - len(t)) for t in runs])
            epochs = np.arange(1, n + 1)
            ax.plot(epochs, np.median(arr, axis=0), label=f"p_self={p_self}")
            ax.fill_between(epochs, arr.min(axis=0), arr.max(axis=0), alpha=0.2)
        ax.set_yscale("log")
        ax.axhline(0.01, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("epoch (64 evaluations)")
        ax.set_ylabel("best loss (scaled to [0, 1])")
        ax.set_title(f"ANSR on {task} {TASKS[task][1]}-D (median and range over seeds)")
        ax.legend()
        fig.savefig(folder / f"ansr_{task}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--max-epochs", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("bench_out/ansr_table.csv"))
    parser.add_argument("--plots", type=Path, default=None, help="folder for the convergence PNGs")
    parser.add_argument("--with-torch", action="store_true", help="also run the transformer/AdamW rows")
    parser.add_argument("--shubert-example", action="store_true")
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, object]] = []
    traces: dict[tuple[str, float], list[list[float]]] = {}
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for task in args.tasks:
            for p_self in (0.05, 0.95):
                for seed in args.seeds:
                    row, trace = ansr_run(task, p_self, seed, args.max_epochs)
                    writer.writerow(row)
                    handle.flush()
                    rows.append(row)
                    traces.setdefault((task, p_self), []).append(trace)
                    print(f"{task} p_self={p_self} seed={seed}: epochs={row['steps']} loss={row['loss']:.4g} "
                          f"restarts={row['restarts']} {row['seconds']}s", flush=True)
        if args.with_torch:
            for row in torch_rows(args.seeds, args.max_epochs, args.out):
                writer.writerow(row)
                rows.append(row)
    print(summarize(rows))
    if args.plots is not None:
        plot(traces, args.plots)
    if args.shubert_example:
        print("\n".join(shubert_example()))


if __name__ == "__main__":
    main()
