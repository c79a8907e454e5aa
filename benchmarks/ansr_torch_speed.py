"""Speed of ``optimkit.torch.ANSR``: batched (vmap) mode vs closure mode, 1 vs 2 intra-op threads.

Workloads:

* ``regression``: the seed README's 1-16-1 Tanh regression (49 parameters, 50 points),
  popsize 8, sigma 0.05, bound 5, seed 0; batched mode with ``batch_size=8``;
* ``transformer``: the copy-task transformer of ``ansr_torch_rows.py`` (796 parameters),
  popsize 64, batched mode with ``batch_size=64`` (closure mode: one member at a time);
  it runs ``--steps // 50`` steps.

Each configuration runs in a fresh subprocess (``torch.set_num_threads`` is process-wide and
the first calls pay one-off costs), times ``--steps`` steps after a short warm-up, and writes a
CSV row: workload, mode, threads, steps, seconds, ms per step, final loss.

Usage::

    .venv/bin/python benchmarks/ansr_torch_speed.py --out bench_out/ansr_torch_speed.csv
    .venv/bin/python benchmarks/ansr_torch_speed.py --steps 5000 --workloads regression
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(workload: str, mode: str, threads: int, steps: int) -> dict[str, object]:
    """Time ``steps`` ANSR steps in this process (called in a subprocess)."""
    import torch
    from torch import nn

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from optimkit.torch import ANSR

    torch.set_num_threads(threads)
    if workload == "regression":
        torch.manual_seed(0)
        x = torch.linspace(-1, 1, 50).unsqueeze(1)
        y = 2.0 * x + 3.0 * x**2
        model: nn.Module = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
        options = dict(popsize=8, sigma=0.05, bound=5.0, seed=0)
        batch = 8

        def loss_of(out: torch.Tensor) -> torch.Tensor:
            return nn.functional.mse_loss(out, y)
    else:
        from ansr_torch_rows import copy_task, cross_entropy

        model, data = copy_task(0)
        x = data["train"]
        options = dict(popsize=64, sigma=0.05, p_self=0.05, bound=20.0, seed=0)
        batch = 64

        def loss_of(out: torch.Tensor) -> torch.Tensor:
            return cross_entropy(out, x)

    if mode == "batched":
        opt = ANSR(model.parameters(), model=model, batch_size=batch, **options)  # type: ignore[arg-type]

        def step() -> torch.Tensor:
            return opt.step(loss_of, x)
    else:
        opt = ANSR(model.parameters(), **options)  # type: ignore[arg-type]

        def step() -> torch.Tensor:
            return opt.step(lambda: loss_of(model(x)))

    for _ in range(min(20, steps)):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    seconds = time.perf_counter() - start
    return dict(workload=workload, mode=mode, threads=threads, steps=steps, seconds=round(seconds, 3),
                ms_per_step=round(1000 * seconds / steps, 3), loss=float(loss))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workloads", nargs="+", default=["regression", "transformer"],
                        choices=["regression", "transformer"])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=Path("bench_out/ansr_torch_speed.csv"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(one_run(**json.loads(args.child))))
        return

    rows = []
    for workload in args.workloads:
        steps = args.steps if workload == "regression" else max(1, args.steps // 50)
        for threads in args.threads:
            for mode in ("closure", "batched"):
                spec = json.dumps(dict(workload=workload, mode=mode, threads=threads, steps=steps))
                # leave the thread count to torch.set_num_threads, not to the environment
                env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
                out = subprocess.run([sys.executable, "-W", "ignore", __file__, "--child", spec],
                                     capture_output=True, text=True, check=True, env=env)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(f"{workload:12s} {mode:8s} threads={threads}: {row['seconds']:8.3f} s for {steps} steps "
                      f"({row['ms_per_step']} ms/step), loss {row['loss']:.4g}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
