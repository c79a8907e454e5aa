"""Drop-in front end for the ``EANOMAD`` package: ``from optimkit.compat.eanomad import EANOMAD``.

Same constructor and ``run(generations) -> (best_x, best_fit)``, **maximizing** ``objective_fn``
as the original does (optimkit minimizes ``-objective_fn`` underneath, with the EA-NOMAD core of
:mod:`optimkit.algorithms.eanomad` and the NOMAD children of :mod:`optimkit.nomad`). Differences
from the original, all deliberate:

- NOMAD really searches: the blackbox hands NOMAD its value with ``setBBO`` and reports success (the
  original returns the value, so under NOMAD 4 every local search stopped after one evaluation),
  and results are read from ``x_single_best`` (or ``x_best`` on older PyNomad);
- NOMAD runs in child processes: a NOMAD crash ends one local search with a
  :class:`~optimkit.errors.NomadCrashWarning`, not the run; NOMAD's own generator is seeded;
- ``seed=0`` is a real seed, and no global random state is touched;
- selection weights come from ranks, so any sign of fitness works (the original needs positive
  fitness); ``n_elites`` is honoured; offspring are mutated once (not twice);
- ``use_ray=True`` runs each generation's local searches as parallel Ray tasks through
  :class:`optimkit.executors.RayExecutor` (the original funnels them through one actor), one task
  per individual, each with its own NOMAD seed (a ``SeedSequence`` child); ``use_ray=None`` uses
  Ray only if a Ray session is already running. A Ray session the user started is never shut
  down here; a local one that ``use_ray=True`` had to start stays up for later runs and ends with
  the interpreter (or ``ray.shutdown()``);
- positions stay in the box ``[min(low, data), max(high, data)]`` (data: ``init_pop``/``init_vec``),
  where mutation draws its random values (the original uses ``[low, high]`` for mutation and leaves
  NOMAD's ``+-bounds`` box unclipped).

Without Ray the objective is evaluated in this process, while up to ``num_workers`` NOMAD searches
(children) run at once, so NOMAD's own work overlaps the evaluations.
"""

from __future__ import annotations

import math
import os
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..algorithms.eanomad import (
    DEFAULT_NOMAD_OPTIONS,
    Params,
    Task,
    ask,
    draw_ask,
    draw_init,
    draw_tell,
    init,
    tell,
)
from ..errors import NomadCrashWarning, OptimkitValueError
from ..executors import RayExecutor
from ..nomad import Scheduler, WorkerPool, check_pynomad, merge_options, process_pool
from ..validation import check_choice, check_int, check_real

__all__ = ["EANOMAD"]

_MODES = {"pure": "pure", "hybrid": "hybrid", "EA": "pure", "rEA": "hybrid"}


class EANOMAD:
    """Evolutionary algorithm with NOMAD local searches, maximizing ``objective_fn``.

    Parameters
    ----------
    optimizer_type : "pure" | "hybrid" (aliases "EA" | "rEA")
    population_size : int >= 2
    dimension : int, optional if ``init_pop`` or ``init_vec`` is given
    objective_fn : callable(ndarray) -> float, the fitness to **maximize**
    subset_size : coordinates per NOMAD search (pure mode), in [1, min(49, dimension)]
    bounds : half-width (> 0) of NOMAD's box around the current point, in units of x
    max_bb_eval : NOMAD evaluations per local search
    n_elites : survivors per generation (default half the population)
    n_mutate_coords : coordinates reset at random in each offspring (> 0 in hybrid mode)
    crossover_rate : in [0, 1): uniform crossover takes each gene from the first parent with this probability
    crossover_type : "uniform" or "fitness" (first parent's gene with probability
        ``(w1 / (w1 + w2)) ** crossover_exponent``, ``w`` the rank weights)
    crossover_exponent : > 0
    init_pop : (population_size, dimension) array, optional; init_vec : (dimension,) array, optional
        (hybrid mode needs ``init_vec``: changes are counted against it)
    low, high : range of the random initial population and of mutation
    use_ray : bool or None (see module notes); seed : int or None
    num_workers : NOMAD searches at once without Ray (default ``min(4, cpu count)``)
    nomad_options : NOMAD options overriding the defaults (``optimkit.algorithms.eanomad``)

    Examples
    --------
    >>> import numpy as np
    >>> from optimkit.compat.eanomad import EANOMAD
    >>> opt = EANOMAD("pure", 8, 4, lambda x: -float(np.sum(x ** 2)), subset_size=2, bounds=0.2,
    ...               max_bb_eval=20, n_mutate_coords=1, seed=0, progress=False)
    >>> best_x, best_fit = opt.run(3)
    >>> best_fit > -0.5
    True
    """

    def __init__(self, optimizer_type: str, population_size: int, dimension: int | None = None,
                 objective_fn: Callable[[NDArray[np.float64]], float] | None = None, subset_size: int = 20,
                 bounds: float = 0.1, max_bb_eval: int = 200, n_elites: int | None = None,
                 n_mutate_coords: int = 5, crossover_rate: float = 0.5, crossover_type: str = "uniform",
                 crossover_exponent: float = 1.0, init_pop: Any = None, init_vec: Any = None,
                 low: float = -1.0, high: float = 1.0, use_ray: bool | None = None, seed: int | None = None,
                 *, num_workers: int | None = None, nomad_options: Any = None, progress: bool = True) -> None:
        mode = _MODES[check_choice("optimizer_type", optimizer_type, tuple(_MODES))]
        if not callable(objective_fn):
            raise OptimkitValueError(f"objective_fn must be a callable returning a fitness, got {objective_fn!r}")
        if init_pop is not None and init_vec is not None:
            raise OptimkitValueError("init_pop and init_vec: give at most one of them")
        if mode == "hybrid" and init_vec is None:
            raise OptimkitValueError("init_vec is required in hybrid mode (changes are counted against it)")
        check_real("bounds", bounds, 0.0, low_open=True)
        low, high = check_real("low", low), check_real("high", high)
        if not low < high:
            raise OptimkitValueError(f"low and high must satisfy low < high, got low={low!r}, high={high!r}")
        data = None
        if init_vec is not None:
            data = np.array(init_vec, dtype=np.float64)
            if data.ndim != 1:
                raise OptimkitValueError(f"init_vec must be a 1-D array, got shape {data.shape}")
            dimension = data.size
        elif init_pop is not None:
            data = np.array(init_pop, dtype=np.float64)
            if data.ndim != 2 or data.shape[0] != population_size or (dimension not in (None, data.shape[1])):
                raise OptimkitValueError(
                    f"init_pop must have shape (population_size={population_size}, dimension), got {data.shape}")
            dimension = data.shape[1]
        dimension = check_int("dimension", dimension, 1)
        if data is not None and not np.all(np.isfinite(data)):
            raise OptimkitValueError("init_pop/init_vec must hold finite numbers")
        self.low = float(min(low, data.min())) if data is not None else float(low)
        self.high = float(max(high, data.max())) if data is not None else float(high)
        self._scale = self.high - self.low
        self.params = Params(mode, population_size, subset_size, float(bounds) / self._scale, max_bb_eval,
                             n_elites, n_mutate_coords, crossover_rate, crossover_type,
                             crossover_exponent, nomad_options).resolve(dimension)
        check_pynomad()
        self.obj = objective_fn
        self.D = dimension
        self.mu = int(population_size)
        self.rng = np.random.default_rng(seed)
        self.use_ray = _want_ray(use_ray)
        # Ray joined (or, for use_ray=True, a local Ray started) now, as the original does
        self._executor = RayExecutor(log_to_driver=False).start() if self.use_ray else None
        self.num_workers = num_workers or max(1, min(4, os.cpu_count() or 1))
        self.progress = progress
        self._options = merge_options(DEFAULT_NOMAD_OPTIONS, self.params.nomad_options)
        reference = None if init_vec is None or data is None else self._to_unit(data)
        self.state = init(self.params, draw_init(self.params, self.D, self.rng), reference)
        if init_pop is not None and data is not None:
            self.state.population = self._to_unit(data)
        self.generation = 1
        self.num_evals = 0
        self._best_fit = -math.inf
        self._best_x: NDArray[np.float64] | None = None
        self._local_search: _LocalSearch | None = None  # the Ray task body, shipped once
        self._pool: WorkerPool | None = None

    # ------------------------------------------------------------------ public API
    def run(self, generations: int) -> tuple[NDArray[np.float64], float]:
        """Run ``generations`` generations; return ``(best_x, best_fit)`` (fitness maximized)."""
        from tqdm import tqdm

        bar = tqdm(range(int(generations)), desc="Generations", unit="gen", disable=not self.progress)
        try:
            for _ in bar:
                self.step()
                bar.set_postfix(best_fit=f"{self._best_fit: .4f}")
        finally:
            bar.close()
            self.close()
        assert self._best_x is not None  # at least one generation ran
        return self._best_x.copy(), self._best_fit

    def step(self) -> tuple[float, NDArray[np.float64]]:
        """One generation (local searches or evaluations, then breeding); returns ``(best_fit, best_x)``."""
        tasks = ask(self.params, self.state, draw_ask(self.params, self.state, self.rng))
        results = self._run_ray(tasks) if self._executor is not None else self._run_local(tasks)
        self.state = tell(self.params, self.state, results, [], draw_tell(self.params, self.state, self.rng))
        self.generation += 1
        return self._best_fit, (self._best_x.copy() if self._best_x is not None else np.empty(0))

    step_pure = step_hybrid = step

    def close(self) -> None:
        """Stop the NOMAD child processes (``run`` does it when it returns; ``step`` restarts them)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @property
    def pop(self) -> NDArray[np.float64]:
        """The current population in x units (rows)."""
        return self._to_x(self.state.population)

    def __repr__(self) -> str:
        return f"EANOMAD(mode={self.params.mode!r}, mu={self.mu}, D={self.D}, gen={self.generation}, " \
               f"best={self._best_fit:.3e})"

    # ------------------------------------------------------------------ internals
    def _to_unit(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.clip((x - self.low) / self._scale, 0.0, 1.0)

    def _to_x(self, unit: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.low + unit * self._scale

    def _loss(self, unit: NDArray[np.float64]) -> float:
        x = self._to_x(unit)
        fit = float(self.obj(x))
        self.num_evals += 1
        if fit > self._best_fit:
            self._best_fit, self._best_x = fit, x.copy()
        return -fit if fit == fit else math.inf

    def _run_local(self, tasks: list[Task]) -> dict[int, tuple[NDArray[np.float64], float]]:
        if self._pool is None:  # NOMAD children are reused from generation to generation
            self._pool = WorkerPool()
        scheduler = Scheduler(self.num_workers, self._options, pool=self._pool)
        scheduler.submit(t.job() for t in tasks)
        by_key = {t.index: t for t in tasks}
        waiting: deque[tuple[int, int, list[float]]] = deque()
        try:
            while True:
                while len(waiting) < self.num_workers:
                    got = scheduler.next_point()
                    if got is None:
                        break
                    waiting.append(got)
                if not waiting:
                    break
                # evaluate the whole batch before asking again: each told search computes its next
                # point in its own process while the others' points are evaluated here
                while waiting:
                    jid, k, sub = waiting.popleft()
                    task = by_key[scheduler.job_key(jid)]
                    scheduler.tell(jid, k, self._loss(task.full(sub)))
        finally:
            scheduler.close()
        return {key: (by_key[key].full(x), loss) for key, (x, loss) in scheduler.results.items()}

    def _run_ray(self, tasks: list[Task]) -> dict[int, tuple[NDArray[np.float64], float]]:
        """The generation's tasks as parallel Ray tasks (through :class:`~optimkit.executors.RayExecutor`)."""
        if self._executor is None:  # pragma: no cover - step() calls this only with an executor
            raise RuntimeError("internal error: no Ray executor")
        if self._local_search is None:
            self._local_search = _LocalSearch(self.obj, self.low, self._scale, self._options)
        futures = [self._executor.submit(self._local_search, task) for task in tasks]
        results = {}
        for task, future in zip(tasks, futures):
            outcome = future.result()
            if not isinstance(outcome, tuple):  # worker lost after all retries (warned): keep the individual
                results[task.index] = (task.x.copy(), task.loss)
                continue
            x, loss, n_evals, crash, best_x, best_fit = outcome
            results[task.index] = (x, loss)
            self.num_evals += n_evals
            if crash:
                warnings.warn(crash, NomadCrashWarning, stacklevel=3)
            if best_fit > self._best_fit:
                self._best_fit, self._best_x = best_fit, best_x
        return results


class _LocalSearch:
    """The Ray task body: one individual's local search (or evaluation), maximizing ``objective``.

    Runs in a Ray worker, with NOMAD in a child of that worker (reused from task to task through
    :func:`optimkit.nomad.process_pool`). One instance per front end, so that
    :class:`~optimkit.executors.RayExecutor` ships it (and the objective) once.
    """

    def __init__(self, objective: Callable[[NDArray[np.float64]], float], low: float, scale: float,
                 options: tuple[str, ...]) -> None:
        self.objective, self.low, self.scale, self.options = objective, low, scale, options

    def __call__(self, task: Task) -> tuple[Any, ...]:
        """``(x, loss, num_evals, crash, best_x, best_fit)``: the task's result (unit box, loss
        minimized), its evaluations, a crash message or None, and the best point seen (x units)."""
        best: list[Any] = [-math.inf, None]
        scheduler = Scheduler(1, self.options, pool=process_pool())  # the worker's NOMAD child is reused
        scheduler.submit([task.job()])
        n_evals = 0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NomadCrashWarning)
            try:
                while (got := scheduler.next_point()) is not None:
                    x = self.low + task.full(got[2]) * self.scale
                    fit = float(self.objective(x))
                    n_evals += 1
                    if fit > best[0]:
                        best[:] = [fit, x]
                    scheduler.tell(got[0], got[1], -fit if fit == fit else math.inf)
            finally:
                scheduler.close()
        crash = next((str(w.message) for w in caught if issubclass(w.category, NomadCrashWarning)), None)
        x_best, loss = scheduler.results[task.index]
        return task.full(x_best), loss, n_evals, crash, best[1], best[0]


def _want_ray(use_ray: bool | None) -> bool:
    if use_ray is False:
        return False
    try:
        import ray
    except ImportError as exc:
        if use_ray:
            raise ImportError("use_ray=True needs Ray: pip install optimkit[ray]", name="ray") from exc
        return False
    return True if use_ray else bool(ray.is_initialized())
