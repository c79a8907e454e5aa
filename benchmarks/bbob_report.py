"""Post-processing of ``benchmarks/bbob.py`` runs: runtime ECDFs and a table of ECDF areas.

Run::

    .venv/bin/python benchmarks/bbob.py report benchmarks/results/bbob.csv --out docs/images \\
        --table benchmarks/results/bbob_table.md

The runtime of a (problem, target) pair is the number of evaluations at which the run first
reached the target, divided by the dimension (infinite when never reached). As in COCO's
postprocessing, the runtime ECDF of a solver is the fraction of its (problem, target) pairs with
a runtime at most x, drawn against x = evaluations / dimension on a log axis, aggregated over the
51 targets and the problems (functions x instances) of a function group, one panel per group and
one figure per dimension (``bbob_ecdf_d<d>.png``). The ECDF area is the area under that curve
over log10(evaluations / dimension) from 0 to log10(budget multiplier), divided by the width: 1
when every target is reached within d evaluations, 0 when none is reached within the budget.
"""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bbob import TARGET_COLUMNS, read_rows  # noqa: E402

#: COCO's five function groups of the bbob suite, plus all 24 functions.
GROUPS: dict[str, tuple[int, ...]] = {
    "separable f1-5": (1, 2, 3, 4, 5),
    "low/moderate conditioning f6-9": (6, 7, 8, 9),
    "high conditioning f10-14": (10, 11, 12, 13, 14),
    "multimodal, global structure f15-19": (15, 16, 17, 18, 19),
    "multimodal, weak structure f20-24": (20, 21, 22, 23, 24),
    "all functions f1-24": tuple(range(1, 25)),
}
SHORT = {name: name.rsplit(" ", 1)[1] for name in GROUPS}  # "f1-5", ..., "f1-24"
CHECKPOINTS = (10, 100, 1000)


def runtimes(rows: Sequence[dict[str, str]]) -> np.ndarray:
    """The (problem, target) runtimes of some rows, in evaluations / dimension (inf: never reached)."""
    out = np.full((len(rows), len(TARGET_COLUMNS)), np.inf)
    for k, row in enumerate(rows):
        d = float(row["dimension"])
        for j, col in enumerate(TARGET_COLUMNS):
            if row[col] != "":
                out[k, j] = float(row[col]) / d
    return out.ravel()


def fraction_reached(times: np.ndarray, at: float) -> float:
    """The ECDF at ``at`` evaluations / dimension: the fraction of pairs reached by then."""
    return float(np.mean(times <= at)) if times.size else math.nan


def ecdf_area(times: np.ndarray, budget_multiplier: float) -> float:
    """Normalized area under the runtime ECDF over log10(evaluations / d) in [0, log10(budget_multiplier)].

    A pair reached after r <= budget_multiplier evaluations per dimension contributes
    ``1 - clip(log10 r, 0, L) / L`` (``L = log10(budget_multiplier)``), a pair never reached 0.

    Example: ``ecdf_area(np.array([1.0, 10.0, np.inf]), 100)`` is ``(1 + 0.5 + 0) / 3 = 0.5``.
    """
    if times.size == 0:
        return math.nan
    width = math.log10(budget_multiplier)
    if width <= 0:
        return fraction_reached(times, budget_multiplier)
    reached = times <= budget_multiplier
    logs = np.clip(np.log10(np.where(reached, times, 1.0)), 0.0, width)
    return float(np.mean(np.where(reached, 1.0 - logs / width, 0.0)))


def select(rows: Sequence[dict[str, str]], budget_multiplier: int | None) -> tuple[list[dict[str, str]], int]:
    """The rows of one budget multiplier (the only one present when None)."""
    multipliers = sorted({int(r["budget"]) // int(r["dimension"]) for r in rows})
    if budget_multiplier is None:
        if len(multipliers) != 1:
            raise SystemExit(f"rows hold budget multipliers {multipliers}: choose one with --budget-multiplier")
        budget_multiplier = multipliers[0]
    kept = [r for r in rows if int(r["budget"]) == budget_multiplier * int(r["dimension"])]
    if not kept:
        raise SystemExit(f"no rows with budget multiplier {budget_multiplier} (present: {multipliers})")
    return kept, budget_multiplier


def common_cells(rows: Sequence[dict[str, str]], solvers: Sequence[str]) -> list[dict[str, str]]:
    """Only the rows of the (function, dimension, instance) cells that every solver ran."""
    cells: dict[str, set[tuple[str, str, str]]] = {s: set() for s in solvers}
    for r in rows:
        if r["solver"] in cells:
            cells[r["solver"]].add((r["function"], r["dimension"], r["instance"]))
    shared = set.intersection(*cells.values()) if cells else set()
    return [r for r in rows if (r["function"], r["dimension"], r["instance"]) in shared]


def _subset(rows: Sequence[dict[str, str]], solver: str, dim: int | None, functions: Sequence[int]) -> list[dict[str, str]]:
    return [r for r in rows if r["solver"] == solver and int(r["function"]) in functions
            and (dim is None or int(r["dimension"]) == dim)]


def tables(rows: Sequence[dict[str, str]], solvers: Sequence[str], dims: Sequence[int], budget_multiplier: int) -> str:
    """Markdown: per solver and dimension, the ECDF area and the fraction reached at 10, 100, 1000 x d
    (all functions), then the ECDF area per function group."""
    checkpoints = [c for c in CHECKPOINTS if c <= budget_multiplier]
    dim_keys: list[int | None] = list(dims) + ([None] if len(dims) > 1 else [])
    head = ["solver", "d", "runs", "ECDF area"] + [f"reached at {c} x d" for c in checkpoints] + ["framework µs / eval"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for d in dim_keys:
        for s in solvers:
            sub = _subset(rows, s, d, GROUPS["all functions f1-24"])
            if not sub:
                continue
            t = runtimes(sub)
            evals = sum(int(r["evaluations"]) for r in sub)
            framework = sum(float(r["framework_s"]) for r in sub) / max(evals, 1) * 1e6
            cells = [s, "all" if d is None else str(d), str(len(sub)), f"{ecdf_area(t, budget_multiplier):.3f}"]
            cells += [f"{fraction_reached(t, c):.3f}" for c in checkpoints] + [f"{framework:.0f}"]
            lines.append("| " + " | ".join(cells) + " |")
    groups = [g for g in GROUPS if g != "all functions f1-24"]
    head2 = ["solver", "d"] + [SHORT[g] for g in groups]
    lines += ["", f"ECDF area (fraction reached at {budget_multiplier} x d) per function group:", "",
              "| " + " | ".join(head2) + " |", "|" + "---|" * len(head2)]
    for d in dim_keys:
        for s in solvers:
            if not _subset(rows, s, d, GROUPS["all functions f1-24"]):
                continue
            cells = [s, "all" if d is None else str(d)]
            for g in groups:
                t = runtimes(_subset(rows, s, d, GROUPS[g]))
                cells.append("" if t.size == 0 else
                             f"{ecdf_area(t, budget_multiplier):.2f} ({fraction_reached(t, budget_multiplier):.2f})")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_dimension(rows: Sequence[dict[str, str]], solvers: Sequence[str], dim: int, budget_multiplier: int,
                   path: Path) -> None:
    """One figure for one dimension: a runtime-ECDF panel per function group, one line per solver."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5), sharex=True, sharey=True)
    styles = ["-", "--", "-.", ":"]
    colours = plt.get_cmap("tab10").colors  # type: ignore[attr-defined]
    x_lo, x_hi = 0.5, budget_multiplier * 1.5
    for ax, (group, functions) in zip(axes.ravel(), GROUPS.items()):
        for k, s in enumerate(solvers):
            sub = _subset(rows, s, dim, functions)
            if not sub:
                continue
            t = np.sort(runtimes(sub))
            t = t[np.isfinite(t)]
            n = len(sub) * len(TARGET_COLUMNS)
            xs = np.concatenate([[x_lo], np.maximum(t, x_lo), [budget_multiplier]])
            ys = np.concatenate([[0.0], np.arange(1, t.size + 1) / n, [t.size / n]])
            ax.step(xs, ys, where="post", color=colours[k % len(colours)], linestyle=styles[k % len(styles)],
                    linewidth=1.8, label=s)  # styles differ too: identical runs (Auto = XNES) stay visible
            ax.plot([budget_multiplier], [t.size / n], marker="x", color=colours[k % len(colours)], markersize=8)
        ax.set_xscale("log")
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(True, which="major", alpha=0.4)
        problems = len({(r["function"], r["instance"]) for r in rows if int(r["dimension"]) == dim
                        and int(r["function"]) in functions})
        ax.set_title(f"{group}\n({problems} problems x 51 targets)", fontsize=10)
    for ax in axes[1]:
        ax.set_xlabel("evaluations / dimension")
    for ax in axes[:, 0]:
        ax.set_ylabel("fraction of (problem, target) pairs")
    handles, labels = axes.ravel()[-1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=9)
    fig.suptitle(f"bbob, d = {dim}: runtime ECDFs over 51 targets 1e2..1e-8, budget {budget_multiplier} x d "
                 f"(x: budget end)")
    fig.tight_layout(rect=(0, 0, 0.86, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bbob.py report", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("csv", help="a CSV written by benchmarks/bbob.py")
    parser.add_argument("--out", default=None, help="folder for the ECDF pictures (none drawn when omitted)")
    parser.add_argument("--prefix", default="bbob_", help="file name prefix of the pictures (default bbob_)")
    parser.add_argument("--table", default=None, help="also write the markdown table to this file")
    parser.add_argument("--solvers", default=None, help="comma-separated solvers, in this order (default: all)")
    parser.add_argument("--dims", default=None, help="comma-separated dimensions (default: all)")
    parser.add_argument("--budget-multiplier", type=int, default=None,
                        help="use the rows of this budget multiplier (default: the only one present)")
    parser.add_argument("--common", action="store_true",
                        help="keep only the (function, dimension, instance) cells that every solver ran")
    args = parser.parse_args(argv)

    rows, budget_multiplier = select(read_rows(args.csv), args.budget_multiplier)
    solvers = ([s.strip() for s in args.solvers.split(",") if s.strip()] if args.solvers
               else list(dict.fromkeys(r["solver"] for r in rows)))
    rows = [r for r in rows if r["solver"] in solvers]
    if args.common:
        rows = common_cells(rows, solvers)
    dims = ([int(d) for d in args.dims.split(",")] if args.dims else sorted({int(r["dimension"]) for r in rows}))
    rows = [r for r in rows if int(r["dimension"]) in dims]
    if not rows:
        raise SystemExit("no rows left to report")
    text = tables(rows, solvers, dims, budget_multiplier)
    print(text)
    if args.table:
        Path(args.table).parent.mkdir(parents=True, exist_ok=True)
        Path(args.table).write_text(text)
    if args.out:
        for d in dims:
            path = Path(args.out) / f"{args.prefix}ecdf_d{d}.png"
            plot_dimension(rows, solvers, d, budget_multiplier, path)
            print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
