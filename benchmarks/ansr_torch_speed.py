"""Speed of ``optimkit.torch.ANSR``: batched (vmap) mode vs closure mode, 1 vs 2 intra-op threads,
optionally side by side with other implementations (an older optimkit checkout, the original).

Workloads:

* ``regression``: the seed README's 1-16-1 Tanh regression (49 parameters, 50 points),
  popsize 8, sigma 0.05, bound 5, seed 0; batched mode with ``batch_size=8``;
* ``transformer``: the copy-task transformer of ``ansr_torch_rows.py`` (796 parameters),
  popsize 64, batched mode with ``batch_size=64`` (closure mode: one member at a time);
  it runs ``--steps // 50`` steps.

Each configuration runs in a fresh subprocess (``torch.set_num_threads`` is process-wide and
the first calls pay one-off costs), times ``--steps`` steps after a short warm-up, and writes a
CSV row: implementation, workload, mode, threads, steps, seconds, ms per step, final loss.
``--repeats`` runs every configuration that many times, interleaving the implementations, and
prints the median ms per step of each one and the ratios between them.

Implementations (``--impl NAME=SPEC``, repeatable; default: this checkout as ``optimkit``):

* ``NAME=optimkit:ROOT``: ``optimkit.torch.ANSR`` imported from the checkout at ``ROOT``;
* ``NAME=original:FILE``: the ``ANSR`` class of a local copy of the original package's
  ``src/ansr/ansr_torch.py`` (its ``p_self`` is called ``self_instead_neighbour``).

Usage::

    .venv/bin/python benchmarks/ansr_torch_speed.py --out bench_out/ansr_torch_speed.csv
    .venv/bin/python benchmarks/ansr_torch_speed.py --steps 5000 --workloads regression --threads 1 \\
        --repeats 3 --impl after=optimkit:. --impl before=optimkit:/tmp/before \\
        --impl original=original:/tmp/ansr_original/ansr_torch.py
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def load_ansr(spec: str) -> Any:
    """The ``ANSR`` class named by an implementation spec (see the module docstring)."""
    kind, _, where = spec.partition(":")
    if kind == "original":
        module_spec = importlib.util.spec_from_file_location("ansr_original_torch", where)
        assert module_spec is not None and module_spec.loader is not None
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module.ANSR
    sys.path.insert(0, str(Path(where or ROOT).resolve()))
    for name in [n for n in sys.modules if n == "optimkit" or n.startswith("optimkit.")]:
        del sys.modules[name]
    from optimkit.torch import ANSR

    return ANSR


def one_run(impl: str, spec: str, workload: str, mode: str, threads: int, steps: int) -> dict[str, object]:
    """Time ``steps`` ANSR steps in this process (called in a subprocess)."""
    import torch
    from torch import nn

    sys.path.insert(0, str(ROOT / "benchmarks"))
    ANSR = load_ansr(spec)

    torch.set_num_threads(threads)
    if workload == "regression":
        torch.manual_seed(0)
        x = torch.linspace(-1, 1, 50).unsqueeze(1)
        y = 2.0 * x + 3.0 * x**2
        model: nn.Module = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
        options: dict[str, Any] = dict(popsize=8, sigma=0.05, bound=5.0, seed=0)
        batch = 8

        def loss_of(out: torch.Tensor) -> torch.Tensor:
            return nn.functional.mse_loss(out, y)
    else:
        from ansr_torch_rows import copy_task, cross_entropy

        model, data = copy_task(0)
        x = data["train"]
        options = dict(popsize=64, sigma=0.05, bound=20.0, seed=0)
        options["self_instead_neighbour" if spec.startswith("original") else "p_self"] = 0.05
        batch = 64

        def loss_of(out: torch.Tensor) -> torch.Tensor:
            return cross_entropy(out, x)

    if mode == "batched":
        opt = ANSR(model.parameters(), model=model, batch_size=batch, **options)

        def step() -> torch.Tensor:
            return opt.step(loss_of, x)  # type: ignore[no-any-return]
    else:
        opt = ANSR(model.parameters(), **options)

        def step() -> torch.Tensor:
            return opt.step(lambda: loss_of(model(x)))  # type: ignore[no-any-return]

    for _ in range(min(20, steps)):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    seconds = time.perf_counter() - start
    return dict(impl=impl, workload=workload, mode=mode, threads=threads, steps=steps, seconds=round(seconds, 3),
                ms_per_step=round(1000 * seconds / steps, 4), loss=float(loss))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--workloads", nargs="+", default=["regression", "transformer"],
                        choices=["regression", "transformer"])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--impl", action="append", default=None, metavar="NAME=SPEC",
                        help="an implementation to time (repeatable); default: optimkit=optimkit:<this checkout>")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench_out/ansr_torch_speed.csv"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(one_run(**json.loads(args.child))))
        return

    impls = dict(item.split("=", 1) for item in (args.impl or [f"optimkit=optimkit:{ROOT}"]))
    rows = []
    # leave the thread count to torch.set_num_threads, not to the environment
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env.pop("PYTHONPATH", None)
    for repeat in range(args.repeats):
        for workload in args.workloads:
            steps = args.steps if workload == "regression" else max(1, args.steps // 50)
            for threads in args.threads:
                for mode in ("closure", "batched"):
                    for impl, spec in impls.items():
                        child = json.dumps(dict(impl=impl, spec=spec, workload=workload, mode=mode,
                                                threads=threads, steps=steps))
                        out = subprocess.run([sys.executable, "-W", "ignore", __file__, "--child", child],
                                             capture_output=True, text=True, check=True, env=env, cwd="/")
                        row = json.loads(out.stdout.strip().splitlines()[-1])
                        rows.append(row)
                        print(f"[{repeat}] {impl:10s} {workload:12s} {mode:8s} threads={threads}: "
                              f"{row['seconds']:8.3f} s for {steps} steps ({row['ms_per_step']} ms/step), "
                              f"loss {row['loss']:.4g}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    print("\n| implementation | workload | threads | closure ms/step (median) | batched ms/step (median) "
          "| closure / batched |")
    print("|---|---|---|---|---|---|")
    medians: dict[tuple[str, str, int, str], float] = {}
    for key in sorted({(r["impl"], r["workload"], r["threads"], r["mode"]) for r in rows}):
        medians[key] = statistics.median(float(r["ms_per_step"]) for r in rows  # type: ignore[arg-type]
                                         if (r["impl"], r["workload"], r["threads"], r["mode"]) == key)
    for impl in impls:
        for workload in args.workloads:
            for threads in args.threads:
                c, b = medians[(impl, workload, threads, "closure")], medians[(impl, workload, threads, "batched")]
                print(f"| {impl} | {workload} | {threads} | {c:.3f} | {b:.3f} | {c / b:.2f}x |")
    names = list(impls)
    if len(names) > 1:
        print("\nratios (row implementation / column implementation, median ms per step):")
        for workload in args.workloads:
            for threads in args.threads:
                for mode in ("closure", "batched"):
                    cells = [f"{a}/{b} {medians[(a, workload, threads, mode)] / medians[(b, workload, threads, mode)]:.2f}"
                             for i, a in enumerate(names) for b in names[i + 1:]]
                    print(f"  {workload} {mode} threads={threads}: " + ", ".join(cells))


if __name__ == "__main__":
    main()
