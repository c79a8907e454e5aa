"""COCO BBOB benchmark: optimkit registry optimizers and the field's references on the ``bbob`` suite.

Run (``cocoex`` comes with the ``bench`` extra: ``pip install -e .[bench]``)::

    .venv/bin/python benchmarks/bbob.py --quick                       # a few functions, d=2, 100 x d
    .venv/bin/python benchmarks/bbob.py --solvers XNES,pycma-IPOP --dims 2,5 --instances 1-5 \\
        --resume benchmarks/results/bbob.csv                          # adds the missing cells only
    .venv/bin/python benchmarks/bbob.py report benchmarks/results/bbob.csv --out docs/images

What one run is, for every solver alike: one bbob problem (function, dimension, instance) of COCO's
``bbob`` suite, the box ``[-5, 5]^d`` of the suite, one seeded run with a budget of
``budget-multiplier x d`` evaluations, stopped early once ``f - f_opt <= 1e-8`` (COCO's final
target: nothing is left to measure after it). The run records the evaluations at which each of
COCO's 51 targets ``f_opt + 10^k``, ``k = 2, 1.8, ..., -8``, was first reached (empty: never),
the best ``f - f_opt``, the wall time and the framework time (wall time minus the time spent in
the objective). ``f_opt`` comes from ``cocoex.bare_problem.BareProblem(...).best_value()``, which
equals the suite problem's value at its optimum for every bbob problem (checked on functions
1-24, dimensions 2-20, instances 1-5, and on dimensions 2, 3 and 40, instances 6-15, 71 and 80).
Instances are instance numbers (any from 1 up, e.g. the
held-out 6-15); dimensions are those of the suite, 2, 3, 5, 10, 20 and 40.

Solvers (``--solvers``, comma-separated):

- any optimkit registry name (``XNES``, ``Auto``, ...), used as a new user would: registry
  defaults, ``ok.p.Array(shape=(d,), lower=-5, upper=5)``, ``parametrization.random_state.seed``,
  a plain ask/tell loop;
- ``pycma-IPOP``: pycma's ``CMAEvolutionStrategy`` in an ask/tell loop, IPOP restarts (population
  doubled at each restart, ``incpopsize=2``) until the budget is spent, ``sigma0 = 2``, bounds
  ``[-5, 5]``, each start uniform in ``[-4, 4]^d``;
- ``cmaes-IPOP``: the same restart loop over ``cmaes.CMA`` (CyberAgent);
- ``ng-NAME``: any nevergrad registry name, e.g. ``ng-NGOpt``, ``ng-CMA``, on
  ``ng.p.Array(shape=(d,), lower=-5, upper=5)``.

Rows go to the CSV as they finish (one per run), so an interrupted run loses nothing; ``--resume
CSV`` appends to CSV and skips the (solver, function, dimension, instance, budget, seed) cells it
already holds, so the expensive peers run once and their rows are reused. ``--redo SOLVERS``
drops those solvers' rows first (after their code changed). The ``library`` column records the
version (and optimkit's git commit) that produced a row.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
             "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import functools  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterable, Sequence  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, as_completed  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

#: COCO's 51 target exponents: f_opt + 10^k for k = 2, 1.8, ..., -8.
TARGET_EXPONENTS: tuple[float, ...] = tuple(round(2.0 - 0.2 * k, 1) + 0.0 for k in range(51))
TARGETS = np.array([10.0**e for e in TARGET_EXPONENTS])
FINAL_TARGET = 1e-8
TARGET_COLUMNS = [f"evals_1e{e:+.1f}" for e in TARGET_EXPONENTS]
KEY_COLUMNS = ["solver", "function", "dimension", "instance", "budget", "seed"]
#: The dimensions of COCO's ``bbob`` suite.
BBOB_DIMENSIONS = (2, 3, 5, 10, 20, 40)
COLUMNS = KEY_COLUMNS + ["library", "evaluations", "best_delta", "wall_s", "framework_s"] + TARGET_COLUMNS
PEERS = ("pycma-IPOP", "cmaes-IPOP")
QUICK_FUNCTIONS, QUICK_DIMS, QUICK_INSTANCES, QUICK_BUDGET_MULTIPLIER = [1, 3, 8, 10, 15, 21], [2], [1], 100
DEFAULT_CSV = "bench_out/bbob.csv"


class Stop(Exception):
    """Raised by the objective when the budget is spent or the final target is reached."""


class Recorder:
    """A bbob problem as an objective that records first hits of the 51 targets and its own time.

    Parameters
    ----------
    problem : callable
        The problem (``cocoex`` problem): ``problem(x) -> float``.
    f_opt : float
        The optimal value of the problem.
    budget : int
        Evaluations allowed; the call after the last one raises `Stop`, and so does the call
        after ``f - f_opt <= 1e-8``.
    """

    def __init__(self, problem: Callable[[np.ndarray], float], f_opt: float, budget: int) -> None:
        self.problem = problem
        self.f_opt = f_opt
        self.budget = budget
        self.evaluations = 0
        self.best_delta = np.inf
        self.hits: list[int | None] = [None] * len(TARGETS)
        self._next = 0  # index of the first target not reached yet
        self.objective_s = 0.0

    @property
    def done(self) -> bool:
        return self.evaluations >= self.budget or self.best_delta <= FINAL_TARGET

    def __call__(self, x: Any) -> float:
        start = time.perf_counter()
        if self.done:
            raise Stop
        value = float(self.problem(np.asarray(x, dtype=float)))
        self.evaluations += 1
        delta = value - self.f_opt
        if delta < self.best_delta:
            self.best_delta = delta
            while self._next < len(TARGETS) and delta <= TARGETS[self._next]:
                self.hits[self._next] = self.evaluations
                self._next += 1
        self.objective_s += time.perf_counter() - start
        return value


# ----------------------------------------------------------------------------------------- solvers
@functools.cache
def _git_commit() -> str:
    """optimkit's commit, with ``+dirty`` when ``optimkit/`` has uncommitted changes ("?" without git)."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=here, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "../optimkit"], capture_output=True,
                               text=True, cwd=here, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "?"
    return (head.stdout.strip() or "?") + ("+dirty" if dirty.stdout.strip() else "")


def library_version(solver: str) -> str:
    """The library (and version) behind a solver name, for the ``library`` column."""
    if solver == "pycma-IPOP":
        import cma

        return f"cma {cma.__version__}"
    if solver == "cmaes-IPOP":
        import cmaes

        return f"cmaes {cmaes.__version__}"
    if solver.startswith("ng-"):
        import nevergrad

        return f"nevergrad {nevergrad.__version__}"
    import optimkit

    return f"optimkit {optimkit.__version__}@{_git_commit()}"


def check_solver(solver: str) -> None:
    """Raise ``SystemExit`` with a readable message when a solver name is unknown."""
    if solver in PEERS:
        return
    if solver.startswith("ng-"):
        import nevergrad as ng

        if solver[3:] not in ng.optimizers.registry:
            raise SystemExit(f"unknown nevergrad optimizer {solver[3:]!r} (from solver {solver!r})")
        return
    import optimkit as ok

    if solver not in ok.optimizers.registry:
        raise SystemExit(f"unknown solver {solver!r}: not in optimkit's registry "
                         f"({', '.join(sorted(ok.optimizers.registry))}), nor {', '.join(PEERS)}, nor ng-NAME")


def _start(rng: np.random.Generator, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """An IPOP start: uniform in the box shrunk by 10% of its width on each side ([-4, 4] on bbob)."""
    margin = 0.1 * (upper - lower)
    start: np.ndarray = rng.uniform(lower + margin, upper - margin)
    return start


def run_pycma(fun: Recorder, lower: np.ndarray, upper: np.ndarray, seed: int) -> None:
    """IPOP-CMA-ES with pycma: restarts with a doubled population until the budget is spent."""
    import cma

    rng = np.random.default_rng(seed)
    popsize = 4 + int(3 * np.log(lower.size))
    while True:
        options = {"popsize": popsize, "bounds": [list(lower), list(upper)], "maxfevals": fun.budget - fun.evaluations,
                   "seed": int(rng.integers(1, 2**31 - 1)), "verbose": -9, "verb_disp": 0, "verb_log": 0}
        es = cma.CMAEvolutionStrategy(_start(rng, lower, upper), 0.2 * float(np.max(upper - lower)), options)
        while not es.stop():
            xs = es.ask()
            es.tell(xs, [fun(x) for x in xs])
        popsize *= 2


def run_cmaes(fun: Recorder, lower: np.ndarray, upper: np.ndarray, seed: int) -> None:
    """IPOP-CMA-ES with cmaes (CyberAgent): restarts with a doubled population until the budget is spent."""
    from cmaes import CMA

    rng = np.random.default_rng(seed)
    popsize = 4 + int(3 * np.log(lower.size))
    bounds = np.stack([lower, upper], axis=1)
    while True:
        es = CMA(mean=_start(rng, lower, upper), sigma=0.2 * float(np.max(upper - lower)), bounds=bounds,
                 seed=int(rng.integers(2**31 - 1)), population_size=popsize)
        while not es.should_stop():
            xs = [es.ask() for _ in range(es.population_size)]
            es.tell([(x, fun(x)) for x in xs])
        popsize *= 2


_NG_FLOAT_OF_ARRAY = "return float(model.predict(trans(np.asarray(x, dtype=X[0].dtype).flatten()[None, :])))"


def patch_nevergrad_for_numpy2() -> bool:
    """Let nevergrad's meta-model (used by ``NGOpt``) run on numpy >= 2.4; True when a patch was applied.

    nevergrad 1.0.12's ``metamodel.learn_on_k_best`` calls ``float()`` on the one-element array a
    model predicts, which numpy 2.4 rejects (``TypeError: only 0-dimensional arrays can be converted
    to Python scalars``), so NGOpt crashes as soon as it consults its meta-model. The patch takes
    element 0 of that array instead, nothing else; a nevergrad without that expression is left alone.
    """
    import inspect
    import textwrap

    from nevergrad.optimization import metamodel, optimizerlib

    source = textwrap.dedent(inspect.getsource(metamodel.learn_on_k_best))
    if _NG_FLOAT_OF_ARRAY not in source:
        return False
    fixed = _NG_FLOAT_OF_ARRAY.replace("float(model.predict(", "float(np.ravel(model.predict(").replace(
        "[None, :])))", "[None, :])))[0])")
    namespace = dict(vars(metamodel))
    exec(compile(source.replace(_NG_FLOAT_OF_ARRAY, fixed), metamodel.__file__, "exec"), namespace)  # noqa: S102
    metamodel.learn_on_k_best = namespace["learn_on_k_best"]
    optimizerlib.learn_on_k_best = namespace["learn_on_k_best"]
    return True


def run_nevergrad(name: str, fun: Recorder, lower: np.ndarray, upper: np.ndarray, seed: int) -> None:
    import gc

    import nevergrad as ng

    patch_nevergrad_for_numpy2()
    param = ng.p.Array(shape=(lower.size,), lower=lower, upper=upper)
    param.random_state = np.random.RandomState(seed)
    opt = ng.optimizers.registry[name](parametrization=param, budget=fun.budget)
    try:
        while True:
            cand = opt.ask()
            opt.tell(cand, fun(cand.value))
    finally:  # nevergrad's recast optimizers (Powell, SQP...) stop their threads when collected
        del opt
        gc.collect()


def run_optimkit(name: str, fun: Recorder, lower: np.ndarray, upper: np.ndarray, seed: int) -> None:
    import optimkit as ok

    uniform = bool(np.all(lower == lower[0]) and np.all(upper == upper[0]))  # bbob: [-5, 5] on every coordinate
    param = ok.p.Array(shape=(lower.size,), lower=float(lower[0]) if uniform else lower,
                       upper=float(upper[0]) if uniform else upper)
    opt = ok.optimizers.registry[name](parametrization=param, budget=fun.budget)
    opt.parametrization.random_state.seed(seed)
    try:
        while True:
            cand = opt.ask()
            opt.tell(cand, fun(cand.value))
    finally:
        close = getattr(opt, "close", None)
        if callable(close):
            close()


def bbob_problem(function: int, dimension: int, instance: int) -> tuple[Any, float]:
    """COCO's bbob problem (function, dimension, instance number) and its ``f_opt``.

    The suite is built for the instance number itself (``instances: N``): the suite option
    ``instance_indices`` selects the N-th instance of the current year's list instead (index 6 is
    instance 71 there), whose ``f_opt`` is not ``BareProblem``'s for instance N.
    """
    import cocoex
    from cocoex.bare_problem import BareProblem

    suite = cocoex.Suite("bbob", f"instances: {instance}", f"function_indices:{function} dimensions:{dimension}")
    problem = suite.get_problem(0)
    if (problem.id_function, problem.dimension, problem.id_instance) != (function, dimension, instance):
        raise RuntimeError(f"cocoex gave {problem.id} for function {function}, dimension {dimension}, "
                           f"instance {instance}")
    return problem, float(BareProblem("bbob", function, dimension, instance).best_value())


def run_one(solver: str, function: int, dimension: int, instance: int, budget_multiplier: int,
            seed: int) -> dict[str, Any]:
    """One run of ``solver`` on one bbob problem; returns its CSV row."""
    problem, f_opt = bbob_problem(function, dimension, instance)
    budget = budget_multiplier * dimension
    fun = Recorder(problem, f_opt, budget)
    lower, upper = np.array(problem.lower_bounds, dtype=float), np.array(problem.upper_bounds, dtype=float)
    library = library_version(solver)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if solver == "pycma-IPOP":
                run_pycma(fun, lower, upper, seed)
            elif solver == "cmaes-IPOP":
                run_cmaes(fun, lower, upper, seed)
            elif solver.startswith("ng-"):
                run_nevergrad(solver[3:], fun, lower, upper, seed)
            else:
                run_optimkit(solver, fun, lower, upper, seed)
        except Stop:
            pass
    wall = time.perf_counter() - start
    if fun.evaluations != problem.evaluations:  # every evaluation went through the recorder
        raise RuntimeError(f"{solver} on {problem.id}: {problem.evaluations} evaluations, {fun.evaluations} recorded")
    row: dict[str, Any] = {"solver": solver, "function": function, "dimension": dimension, "instance": instance,
                           "budget": budget, "seed": seed, "library": library, "evaluations": fun.evaluations,
                           "best_delta": repr(float(fun.best_delta)), "wall_s": f"{wall:.4f}",
                           "framework_s": f"{max(wall - fun.objective_s, 0.0):.4f}"}
    row.update({col: "" if hit is None else str(hit) for col, hit in zip(TARGET_COLUMNS, fun.hits)})
    problem.free()
    return row


# ----------------------------------------------------------------------------------------- the CSV
def row_key(row: dict[str, Any]) -> tuple[str, int, int, int, int, int]:
    return (str(row["solver"]), int(row["function"]), int(row["dimension"]), int(row["instance"]),
            int(row["budget"]), int(row["seed"]))


def read_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a harness CSV (an empty list when the file does not exist)."""
    if not Path(path).exists():
        return []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(COLUMNS) - set(reader.fieldnames or [])
        if missing:
            raise SystemExit(f"{path} is not a bbob harness CSV: columns {sorted(missing)} are missing")
        return list(reader)


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def parse_ints(text: str) -> list[int]:
    """``"1-5,7"`` -> ``[1, 2, 3, 4, 5, 7]``."""
    out: list[int] = []
    for part in text.split(","):
        if "-" in part.strip()[1:]:
            lo, hi = part.split("-", 1)
            out.extend(range(int(lo), int(hi) + 1))
        elif part.strip():
            out.append(int(part))
    return out


def _tasks(solvers: Sequence[str], functions: Sequence[int], dims: Sequence[int], instances: Sequence[int],
           budget_multiplier: int, seed: int) -> list[tuple[str, int, int, int, int, int]]:
    # dimension-major, then instance, function, solver: partial runs cover whole (d, instance) slices
    return [(s, f, d, i, budget_multiplier, seed) for d in dims for i in instances for f in functions for s in solvers]


def run(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bbob.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--solvers", default="XNES,SNES,ANSR,ANSRUnimodal,RandomSearch,Auto,pycma-IPOP,cmaes-IPOP",
                        help="comma-separated: optimkit registry names, pycma-IPOP, cmaes-IPOP, ng-NAME")
    parser.add_argument("--functions", default="1-24", help="bbob function numbers, e.g. 1-24 or 1,3,8")
    parser.add_argument("--dims", default="2,5", help="dimensions, e.g. 2,5,10,20")
    parser.add_argument("--instances", default="1-5", help="instance numbers, e.g. 1-5")
    parser.add_argument("--budget-multiplier", type=int, default=1000, help="budget = multiplier x dimension")
    parser.add_argument("--seed", type=int, default=1, help="the seed of every run (default 1)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--quick", action="store_true",
                        help="development run: functions 1,3,8,10,15,21, d=2, instance 1, 100 x d")
    parser.add_argument("--csv", default=None, help=f"output CSV (default {DEFAULT_CSV}); must not exist")
    parser.add_argument("--resume", metavar="CSV", default=None,
                        help="append to CSV, skipping the cells it already holds")
    parser.add_argument("--redo", default="", help="with --resume: drop these solvers' rows first (comma-separated)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --csv")
    args = parser.parse_args(argv)

    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    functions, dims, instances = parse_ints(args.functions), parse_ints(args.dims), parse_ints(args.instances)
    budget_multiplier = args.budget_multiplier
    if args.quick:
        functions, dims, instances = QUICK_FUNCTIONS, QUICK_DIMS, QUICK_INSTANCES
        budget_multiplier = QUICK_BUDGET_MULTIPLIER
    if not set(functions) <= set(range(1, 25)):
        parser.error(f"--functions must lie in 1-24, got {functions}")
    if not set(dims) <= set(BBOB_DIMENSIONS):
        parser.error(f"--dims must be among the bbob suite's dimensions {BBOB_DIMENSIONS}, got {dims}")
    if min(instances, default=1) < 1:
        parser.error(f"--instances must be instance numbers >= 1, got {instances}")
    if budget_multiplier < 1 or args.jobs < 1:
        parser.error("--budget-multiplier and --jobs must be at least 1")
    for solver in solvers:
        check_solver(solver)
    if args.resume and args.csv:
        parser.error("give either --csv or --resume, not both")
    path = Path(args.resume or args.csv or DEFAULT_CSV)
    existing = read_rows(path) if args.resume else []
    if not args.resume and path.exists() and not args.overwrite:
        parser.error(f"{path} exists: use --resume {path} to add to it or --overwrite to replace it")
    redo = {s.strip() for s in args.redo.split(",") if s.strip()}
    if redo and not args.resume:
        parser.error("--redo needs --resume")
    existing = [r for r in existing if r["solver"] not in redo]
    done = {row_key(r) for r in existing}
    tasks = [t for t in _tasks(solvers, functions, dims, instances, budget_multiplier, args.seed)
             if (t[0], t[1], t[2], t[3], t[4] * t[2], t[5]) not in done]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_rows(path, existing)  # the header (and the kept rows, when resuming)
    print(f"{len(tasks)} runs to do ({len(done)} cells already in {path})", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    failures: list[str] = []
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)

        def record(row: dict[str, Any], k: int) -> None:
            writer.writerow(row)
            fh.flush()
            reached = sum(1 for c in TARGET_COLUMNS if row[c] != "")
            print(f"[{k}/{len(tasks)} {time.perf_counter() - t0:7.1f}s] {row['solver']:>14} f{row['function']:<2} "
                  f"d={row['dimension']} i={row['instance']}: {reached:2d}/51 targets, "
                  f"{row['evaluations']} evals, {float(row['framework_s']):.2f}s framework", file=sys.stderr, flush=True)

        if args.jobs == 1:
            for k, task in enumerate(tasks, 1):
                try:
                    row = run_one(*task)
                except Exception as exc:  # one broken solver must not end the other runs
                    failures.append(f"{task}: {type(exc).__name__}: {exc}")
                    print(f"[{k}/{len(tasks)}] FAILED {failures[-1]}", file=sys.stderr, flush=True)
                else:
                    record(row, k)
        else:
            with ProcessPoolExecutor(max_workers=args.jobs) as pool:
                futures = {pool.submit(run_one, *task): task for task in tasks}
                for k, future in enumerate(as_completed(futures), 1):
                    error = future.exception()
                    if error is not None:
                        failures.append(f"{futures[future]}: {type(error).__name__}: {error}")
                        print(f"[{k}/{len(tasks)}] FAILED {failures[-1]}", file=sys.stderr, flush=True)
                    else:
                        record(future.result(), k)
    if failures:
        print(f"{len(failures)} runs failed (no row written; a --resume retries them):\n  " + "\n  ".join(failures),
              file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``bbob.py [run] ...`` runs the benchmark; ``bbob.py report CSV ...`` draws and tabulates it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "report":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bbob_report import main as report_main

        return report_main(argv[1:])
    if argv and argv[0] == "run":
        argv = argv[1:]
    return run(argv)


if __name__ == "__main__":
    raise SystemExit(main())
