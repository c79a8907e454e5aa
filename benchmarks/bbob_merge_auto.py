"""Merge the Auto evidence CSVs into benchmarks/results/bbob_auto.csv (first file wins on a duplicate cell).

Usage: .venv/bin/python benchmarks/bbob_merge_auto.py (after the runs listed in docs/optimizers/auto.md)
Sources: bench_out/bbob_auto_d2.csv and bench_out/bbob_auto_d5.csv (Auto at d = 2, 5 after its rule
changed), bench_out/bbob_auto.csv (d = 2, 5), bench_out/bbob_d10.csv, bench_out/bbob_ng10.csv,
bench_out/bbob_d20*.csv, then the peer rows of benchmarks/results/bbob.csv (read only) not yet held.
"""

from __future__ import annotations

import csv
import glob
from pathlib import Path

KEY = ("solver", "function", "dimension", "instance", "budget", "seed")
RERUN = {"2": "bench_out/bbob_auto_d2.csv", "5": "bench_out/bbob_auto_d5.csv"}  # Auto after its rule changed
sources = ["bench_out/bbob_auto_d2.csv", "bench_out/bbob_auto_d5.csv", "bench_out/bbob_auto.csv", "bench_out/bbob_d10.csv", "bench_out/bbob_ng10.csv",
           *sorted(glob.glob("bench_out/bbob_d20*.csv")), "benchmarks/results/bbob.csv"]
seen: set[tuple[str, ...]] = set()
rows: list[dict[str, str]] = []
fields: list[str] | None = None
for src in sources:
    if not Path(src).exists():
        continue
    with open(src, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = fields or list(reader.fieldnames or [])
        for row in reader:
            key = tuple(row[k] for k in KEY)
            if row["solver"] == "Auto" and RERUN.get(row["dimension"], src) != src:
                continue  # Auto's rule changed there (the NOMAD>CMA chain): only the rerun counts
            if key not in seen:
                seen.add(key)
                rows.append(row)
assert fields is not None
with open("benchmarks/results/bbob_auto.csv", "w", newline="") as fh:
    writer = csv.DictWriter(fh, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
print(f"{len(rows)} rows -> benchmarks/results/bbob_auto.csv")
