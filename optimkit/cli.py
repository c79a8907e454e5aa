"""The ``optimkit`` command line: ``list``, ``run`` and ``compare``, built on the library.

A user error (a bad option, an objective that cannot be imported, raises or returns no float, an
``--out`` that is not a folder) is one line on stderr with a hint, exit status 2, not a traceback
(``--traceback`` shows it); Ctrl-C prints one line and exits with status 130 (128 + SIGINT).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import signal
import sys
import time
import traceback
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
    """A user error reported as one line, with an optional hint on how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f" (hint: {self.hint})" if self.hint else "")


class ObjectiveError(CliError):
    """The user's objective raised, or returned something that is not a loss."""


class _Objective:
    """The user's objective as the optimizer calls it: its exceptions become one-line
    :class:`ObjectiveError`s naming it, and a vector result is refused unless multi-objective.

    Defined at module level so a process pool can pickle it (by reference to the user's function).
    """

    def __init__(self, fn: Callable[..., Any], spec: str, multi_objective: bool) -> None:
        self.fn = fn
        self.spec = spec
        self.multi_objective = multi_objective

    def __call__(self, x: Any) -> Any:
        try:
            value = self.fn(x)
        except Exception as exc:  # noqa: BLE001 - reported as one line naming the objective
            raise ObjectiveError(
                f"the objective {self.spec} raised {type(exc).__name__}: {exc}",
                "call it on one point in Python, or rerun with --traceback to see where",
            ) from exc
        if not self.multi_objective and np.ndim(value) > 0 and np.size(value) > 1:
            raise ObjectiveError(
                f"the objective {self.spec} returned {np.size(value)} values, not one loss",
                "return a float, or pass --multi-objective to minimize each value (a Pareto front)",
            )
        return value


def _ignore_sigint() -> None:
    """Initializer of pool workers: Ctrl-C is handled once, by the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _prepare_out(out: Path) -> None:
    """Create the ``--out`` folder now, so that a bad path fails before any evaluation."""
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {str(out)!r} is a file, not a folder", "give a folder name, e.g. --out results/")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(
            f"cannot create the --out folder {str(out)!r}: {exc.strerror or exc}",
            "give a folder you can write to",
        ) from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise CliError(f"the --out folder {str(out)!r} is not writable", "give a folder you can write to")


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
        if not module_name or not attr:
            raise CliError(f"--function {spec!r} must read module:function", "e.g. --function myobjectives:loss")
        cwd = os.getcwd()
        if cwd not in sys.path and "" not in sys.path:  # as `python -m`: modules of the current folder
            sys.path.insert(0, cwd)
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise CliError(
                f"cannot import module {module_name!r} for --function {spec!r}: {exc}",
                f"run optimkit from the folder that holds {module_name.replace('.', '/')}.py, "
                "or install its package",
            ) from exc
        except Exception as exc:  # noqa: BLE001 - the module's own code failed: one line naming it
            raise CliError(
                f"importing module {module_name!r} raised {type(exc).__name__}: {exc}",
                "run `python -c 'import " + module_name + "'` to see the traceback",
            ) from exc
        user_fn = getattr(module, attr, None)
        if not callable(user_fn):
            public = sorted(n for n, v in vars(module).items() if callable(v) and not n.startswith("_"))
            raise CliError(
                f"module {module_name!r} has no callable {attr!r}",
                f"its callables: {', '.join(public[:8])}" + (", ..." if len(public) > 8 else "")
                if public else None,
            )
        return user_fn, 5.0, attr
    known = ", ".join(sorted(FUNCTIONS))
    raise CliError(f"unknown function {spec!r}", f"use one of {known}, or module:function")


def _optimizer(name: str) -> Any:
    if name not in registry:
        import difflib

        close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.5)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise CliError(f"unknown optimizer {name!r}{hint}", "`optimkit list` shows them")
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
    multi_objective: bool = False,
) -> dict[str, Any]:
    """Run one optimizer on one problem; return a result row (with the convergence trace).

    A vector result of the objective is refused unless ``multi_objective`` (then each value is an
    objective, and the row gains the size of the Pareto front).
    """
    if dim < 1:
        raise CliError(f"--dim must be >= 1, got {dim}")
    if budget < 1:
        raise CliError(f"--budget must be >= 1, got {budget}")
    if workers < 1:
        raise CliError(f"--workers must be >= 1, got {workers}")
    user_fn, default_bound, fname = _objective(function, dim)
    fn = _Objective(user_fn, function, multi_objective)
    b = default_bound if bound is None else bound
    if not (math.isfinite(b) and b > 0):
        raise CliError(f"--bound must be a finite number > 0, got {b}")
    factory = _optimizer(optimizer)
    param = Array(shape=(dim,), lower=-b, upper=b)
    opt = factory(parametrization=param, budget=budget, num_workers=workers)
    opt.parametrization.random_state = np.random.RandomState(seed)
    trace = _Trace()
    opt.register_callback("tell", trace)
    if progress:
        opt.register_callback("tell", callbacks.ProgressBar())
    if out is not None:
        _prepare_out(out)
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

            executor = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint)
            try:
                rec = opt.minimize(fn, executor=executor)
            finally:  # on Ctrl-C or an error, do not wait for the queued evaluations
                executor.shutdown(wait=True, cancel_futures=True)
        else:
            rec = opt.minimize(fn)
    except errors.OptimkitTypeError as exc:
        hint = "make the objective return a float" + (" (or a vector with --multi-objective)" if multi_objective else "")
        raise CliError(f"{optimizer} on {fname}-{dim}D: {exc}", hint) from exc
    except (ValueError, TypeError) as exc:
        if isinstance(exc, CliError):
            raise
        raise CliError(f"{optimizer} on {fname}-{dim}D: {exc}") from exc
    elapsed = time.perf_counter() - start
    final = fn(rec.value)
    extra = {"pareto points": len(opt.pareto_front())} if multi_objective else {}
    return {
        "optimizer": optimizer,
        "function": f"{fname}-{dim}D",
        "seed": seed,
        "budget": budget,
        "evaluations": opt.num_tell,
        "best loss": float(np.min(final)) if np.ndim(final) else float(final),
        "time (s)": elapsed,
        **extra,
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
        p.add_argument(
            "--multi-objective", action="store_true",
            help="the objective returns a vector: minimize each value (without it, a vector is an error)",
        )
        p.add_argument("--traceback", action="store_true", help="on an error, show the Python traceback too")

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
        if args.command != "list":
            _prepare_out(args.out)
        if args.command == "list":
            width = max(len(n) for n in registry)
            for name in sorted(registry, key=str.lower):
                print(f"{name.ljust(width)}  {describe(registry[name])}")
            return 0
        if args.command == "run":
            row = run_one(
                args.optimizer, args.function, args.dim, args.budget, args.seed, args.workers,
                args.ray, args.out, args.bound, not args.no_progress, args.multi_objective,
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
                    args.ray, args.out, args.bound, not args.no_progress, args.multi_objective,
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
        if getattr(args, "traceback", False):
            traceback.print_exception(exc, file=sys.stderr)
        print(f"optimkit: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "optimkit: interrupted by Ctrl-C (hint: the log in the --out folder holds the evaluations "
            "made so far)",
            file=sys.stderr,
        )
        return 130


def _one_line(exc: BaseException) -> str:
    """``exc``'s message on one line (an objective's message may span several)."""
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
