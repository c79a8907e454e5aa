"""``make demo``: run the registered optimizers on a standard function and print a results table."""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import optimkit as ok  # noqa: E402
from optimkit.functions import FUNCTIONS  # noqa: E402

DEMO_OPTIMIZERS = ("ANSR", "XNES", "SNES", "EANOMAD", "RandomSearch")


def run(function: str = "rastrigin", dim: int = 10, budget: int = 5000, seed: int = 0) -> list[dict[str, object]]:
    """Run every demo optimizer that is registered; return one row per optimizer."""
    fn, bound = FUNCTIONS[function]
    rows = []
    for name in DEMO_OPTIMIZERS:
        if name not in ok.optimizers.registry:
            continue
        param = ok.p.Array(shape=(dim,), lower=-bound, upper=bound)
        opt = ok.optimizers.registry[name](parametrization=param, budget=budget)
        opt.parametrization.random_state = np.random.RandomState(seed)
        opt.register_callback("tell", ok.callbacks.ProgressBar())
        start = time.perf_counter()
        rec = opt.minimize(fn)
        rows.append(
            {
                "optimizer": name,
                "function": f"{function}-{dim}D",
                "budget": budget,
                "best loss": float(fn(rec.value)),
                "evaluations": opt.num_tell,
                "time (s)": time.perf_counter() - start,
            }
        )
    return rows


def format_table(rows: list[dict[str, object]]) -> str:
    """A plain-text table."""
    if not rows:
        return "(no rows)"
    cols = list(rows[0])
    cells = [[f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def main() -> None:
    rows = run()
    print()
    print(format_table(rows))


if __name__ == "__main__":
    main()
