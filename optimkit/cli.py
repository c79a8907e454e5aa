"""The ``optimkit`` command line: ``list``, ``run`` and ``compare``, built on the library.

Errors are one clear line on stderr (exit status 2), not a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from . import callbacks, errors  # noqa: E402
from .core import ConfiguredOptimizer  # noqa: E402
from .functions import FUNCTIONS  # noqa: E402
from .optimizers import registry  # noqa: E402
from .parametrization import Array  # noqa: E402

__all__ = ["main", "run_one", "describe"]


class CliError(Exception):
    """A user error reported as one line."""


def describe(obj: Any) -> str:
    """First line of the docstring of an optimizer class; for a family member, that of the class it
    configures followed by the member's own settings (``[sigma=0.04, p_self=0.05]``)."""
    settings = ""
    if isinstance(obj, ConfiguredOptimizer):
        settings = f" [{obj.settings}]" if obj.settings else ""
        obj = obj.optimizer_class
    doc = (getattr(obj, "__doc__", None) or "").strip()
    line = doc.splitlines()[0].rstrip(".") if doc else ""
    return line + settings


def _objective(spec: str, dim: int) -> tuple[Callable[..., Any], float, str]:
    if spec in FUNCTIONS:
        fn, bound = FUNCTIONS[spec]
        return fn, bound, spec
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise CliError(f"cannot import module {module_name!r} for --function {spec!r}: {exc}") from exc
        user_fn = getattr(module, attr, None)
        if not callable(user_fn):
            raise CliError(f"module {module_name!r} has no callable {attr!r}")
        return user_fn, 5.0, attr
    known = ", ".join(sorted(FUNCTIONS))
    raise CliError(f"unknown function {spec!r}: use one of {known}, or module:function")


def _optimizer(name: str) -> Any:
    if name not in registry:
        import difflib

        close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CliError(f"unknown optimizer {name!r}{hint}; `optimkit list` shows them")
    return registry[name]


class _Trace:
    """Tell callback recording the best loss after each evaluation."""

    def __init__(self) -> None:
        self.best: list[float] = []
        self._best = np.inf

    def __call__(self, opt: Any, candidate: Any, loss: Any) -> None:
        value = float(np.min(loss)) if np.ndim(loss) else float(loss)
        if value < self._best:
            self._best = value
        self.best.append(self._best)


def run_one(
    optimizer: str,
    function: str,
    dim: int,
    budget: int,
    seed: int = 0,
    workers: int = 1,
    ray_address: str | None = None,
    out: Path | None = None,
    bound: float | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run one optimizer on one problem; return a result row (with the convergence trace)."""
    if dim < 1:
        raise CliError(f"--dim must be >= 1, got {dim}")
    if budget < 1:
        raise CliError(f"--budget must be >= 1, got {budget}")
    if workers < 1:
        raise CliError(f"--workers must be >= 1, got {workers}")
    fn, default_bound, fname = _objective(function, dim)
    b = default_bound if bound is None else bound
    factory = _optimizer(optimizer)
    param = Array(shape=(dim,), lower=-b, upper=b)
    opt = factory(parametrization=param, budget=budget, num_workers=workers)
    opt.parametrization.random_state = np.random.RandomState(seed)
    trace = _Trace()
    opt.register_callback("tell", trace)
    if progress:
        opt.register_callback("tell", callbacks.ProgressBar())
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        log = out / f"{optimizer}-{fname}-{dim}D-seed{seed}.jsonl"
        log.unlink(missing_ok=True)
        opt.register_callback("tell", callbacks.ParametersLogger(log))
    executor: Any = None
    start = time.perf_counter()
    try:
        if ray_address is not None:
            from .executors import RayExecutor

            address = None if ray_address == "local" else ray_address
            with RayExecutor(address=address) as executor:
                rec = opt.minimize(fn, executor=executor)
        elif workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(max_workers=workers) as executor:
                rec = opt.minimize(fn, executor=executor)
        else:
            rec = opt.minimize(fn)
    except ValueError as exc:
        raise CliError(f"{optimizer} on {fname}-{dim}D: {exc}") from exc
    elapsed = time.perf_counter() - start
    final = fn(rec.value)
    return {
        "optimizer": optimizer,
        "function": f"{fname}-{dim}D",
        "seed": seed,
        "budget": budget,
        "evaluations": opt.num_tell,
        "best loss": float(np.min(final)) if np.ndim(final) else float(final),
        "time (s)": elapsed,
        "trace": trace.best,
    }


def _table(rows: Sequence[dict[str, Any]]) -> str:
    cols = [c for c in rows[0] if c != "trace"]
    cells = [[f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Median over seeds per optimizer (for compare)."""
    out = []
    for name in dict.fromkeys(r["optimizer"] for r in rows):
        mine = [r for r in rows if r["optimizer"] == name]
        losses = [r["best loss"] for r in mine]
        out.append(
            {
                "optimizer": name,
                "function": mine[0]["function"],
                "seeds": len(mine),
                "budget": mine[0]["budget"],
                "median best loss": float(np.median(losses)),
                "min": float(np.min(losses)),
                "max": float(np.max(losses)),
                "median time (s)": float(np.median([r["time (s)"] for r in mine])),
            }
        )
    return out


def _plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    names = list(dict.fromkeys(r["optimizer"] for r in rows))
    positive = all(min(r["trace"]) > 0 for r in rows if r["trace"])
    for name in names:
        traces = [np.asarray(r["trace"]) for r in rows if r["optimizer"] == name and r["trace"]]
        if not traces:
            continue
        n = min(len(t) for t in traces)
        med = np.median(np.stack([t[:n] for t in traces]), axis=0)
        ax.plot(np.arange(1, n + 1), med, label=name)
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best loss (median over seeds)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _write_results(rows: list[dict[str, Any]], out: Path, stem: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / f"{stem}.json").open("w") as fh:
        json.dump([{k: v for k, v in r.items() if k != "trace"} for r in rows], fh, indent=1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optimkit", description="Derivative-free optimization from the shell.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the registered optimizers")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--function", required=True, help=f"one of {', '.join(sorted(FUNCTIONS))}, or module:function")
        p.add_argument("--dim", type=int, required=True)
        p.add_argument("--budget", type=int, required=True)
        p.add_argument("--workers", type=int, default=1, help="evaluations in parallel (process pool)")
        p.add_argument("--ray", default=None, metavar="ADDRESS", help="evaluate on Ray ('auto', 'local' or an address)")
        p.add_argument("--out", type=Path, default=Path("optimkit-out"), help="folder for the log, table and plot")
        p.add_argument("--bound", type=float, default=None, help="search in [-bound, bound]^dim (default: the function's)")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")

    run = sub.add_parser("run", help="run one optimizer on a function")
    run.add_argument("optimizer")
    run.add_argument("--seed", type=int, default=0)
    common(run)
    cmp_ = sub.add_parser("compare", help="run several optimizers on the same problem and seeds")
    cmp_.add_argument("optimizers", nargs="+")
    cmp_.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ...)")
    common(cmp_)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``optimkit`` console script."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            width = max(len(n) for n in registry)
            for name in sorted(registry, key=str.lower):
                print(f"{name.ljust(width)}  {describe(registry[name])}")
            return 0
        if args.command == "run":
            row = run_one(
                args.optimizer, args.function, args.dim, args.budget, args.seed, args.workers,
                args.ray, args.out, args.bound, not args.no_progress,
            )
            stem = f"run-{args.optimizer}-{row['function']}"
            rows = [row]
            print(_table(rows))
        else:
            for name in args.optimizers:
                _optimizer(name)
            if args.seeds < 1:
                raise CliError(f"--seeds must be >= 1, got {args.seeds}")
            rows = [
                run_one(
                    name, args.function, args.dim, args.budget, seed, args.workers,
                    args.ray, args.out, args.bound, not args.no_progress,
                )
                for name in args.optimizers
                for seed in range(args.seeds)
            ]
            stem = f"compare-{rows[0]['function']}"
            print(_table(_summarize(rows)))
        _write_results(rows, args.out, stem)
        _plot(rows, args.out / f"{stem}.png", f"{rows[0]['function']}, budget {args.budget}")
        print(f"\nlog, table and plot written to {args.out}/ ({stem}.png)")
        return 0
    except (CliError, errors.OptimkitError) as exc:
        print(f"optimkit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
