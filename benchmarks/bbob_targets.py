"""The targets of issue 12, checked on a merged CSV of ``benchmarks/bbob.py`` runs.

Usage::

    .venv/bin/python benchmarks/bbob_targets.py [benchmarks/results/bbob_auto.csv]

Per dimension: ``Auto``'s fraction of (problem, target) pairs reached at 10, 100 and 1000 x d
against pycma IPOP-CMA-ES's and nevergrad NGOpt's, and its ECDF area against every other optimkit
optimizer's, each comparison on the cells (function, instance) both ran. Prints a markdown table.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bbob_report import common_cells, ecdf_area, fraction_reached, runtimes  # noqa: E402

PEERS = ("pycma-IPOP", "ng-NGOpt")
OPTIMKIT = ("CMA", "BIPOPCMA", "XNES", "SNES", "ANSRUnimodal", "ANSR", "RandomSearch", "NOMAD", "BOBYQA")


def _stats(rows: list[dict[str, str]], solver: str) -> tuple[float, list[float], int]:
    t = runtimes([r for r in rows if r["solver"] == solver])
    return ecdf_area(t, 1000), [fraction_reached(t, m) for m in (10, 100, 1000)], len(t) // 51


def _versus(a: float, b: float) -> str:
    if a >= b - 1e-12:
        return f"{a:.3f} vs {b:.3f} met"
    digits = 3 if b - a >= 5e-4 else 5
    return f"{a:.{digits}f} vs {b:.{digits}f} **missed by {b - a:.{digits}f}**"


def targets(rows: list[dict[str, str]]) -> str:
    lines = ["| d | comparison (same runs) | cells | 10 x d | 100 x d | 1000 x d | ECDF area |",
             "|---|---|---|---|---|---|---|"]
    for d in sorted({r["dimension"] for r in rows}, key=int):
        drows = [r for r in rows if r["dimension"] == d]
        for peer in PEERS:
            sub = common_cells(drows, ["Auto", peer])
            if not any(r["solver"] == peer for r in sub):
                lines.append(f"| {d} | Auto vs {peer} | 0 | not run | | | |")
                continue
            area_a, fr_a, n = _stats(sub, "Auto")
            area_p, fr_p, _ = _stats(sub, peer)
            lines.append(f"| {d} | Auto vs {peer} | {n} | " + " | ".join(_versus(a, b) for a, b in zip(fr_a, fr_p))
                         + f" | {area_a:.3f} vs {area_p:.3f} |")
        for other in OPTIMKIT:
            sub = common_cells(drows, ["Auto", other])
            if not any(r["solver"] == other for r in sub):
                continue
            area_a, fr_a, n = _stats(sub, "Auto")
            area_o, fr_o, _ = _stats(sub, other)
            lines.append(f"| {d} | Auto vs {other} (area) | {n} | {fr_a[0]:.3f} / {fr_o[0]:.3f} | "
                         f"{fr_a[1]:.3f} / {fr_o[1]:.3f} | {fr_a[2]:.3f} / {fr_o[2]:.3f} | {_versus(area_a, area_o)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/bbob_auto.csv"
    with open(path, newline="") as fh:
        print(targets(list(csv.DictReader(fh))))
