"""Merge CSVs of ``benchmarks/bbob.py`` runs into one (the evidence behind ``docs/optimizers/auto.md``).

Usage::

    .venv/bin/python benchmarks/bbob_merge.py OUT.csv NEW.csv [NEW.csv ...] [--old OLD.csv] [--replace CMA,Auto]

Rows of the ``NEW`` files come first (the first file wins on a duplicate cell: solver, function,
dimension, instance, budget, seed); then the rows of ``--old`` whose cell is not held yet and
whose solver is not named in ``--replace`` (solvers whose code changed since ``OLD`` ran: only
their new rows count). ``OUT`` may be ``OLD`` itself.
"""

from __future__ import annotations

import argparse
import csv

KEY = ("solver", "function", "dimension", "instance", "budget", "seed")


def _read(path: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("new", nargs="+")
    parser.add_argument("--old", default=None)
    parser.add_argument("--replace", default="", help="comma-separated solvers whose --old rows are dropped")
    args = parser.parse_args()
    replace = {name for name in args.replace.split(",") if name}
    seen: set[tuple[str, ...]] = set()
    rows: list[dict[str, str]] = []
    fields: list[str] = []
    sources = [(path, False) for path in args.new] + ([(args.old, True)] if args.old else [])
    for path, old in sources:
        head, body = _read(path)
        fields = fields or head
        for row in body:
            key = tuple(row[k] for k in KEY)
            if key in seen or (old and row["solver"] in replace):
                continue
            seen.add(key)
            rows.append(row)
    with open(args.out, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {args.out}")


if __name__ == "__main__":
    main()
