"""EA-NOMAD: a genetic algorithm whose individuals are refined by NOMAD local searches (minimizes).

Positions live in the unit box ``[0, 1]^d`` (``optimkit.parametrization.UnitBox``, the same box as
ANSR's). Each generation: **pure** mode runs a NOMAD search on every individual, over a random
slice of ``subset_size`` (<= 49) coordinates inside a ``+-bounds`` box clipped to ``[0, 1]``, with
``max_bb_eval`` evaluations, and each individual becomes the best point of its search; **hybrid**
mode compares each individual with the initial vector, runs NOMAD only on a novel mask of fewer
than 50 changed coordinates and just evaluates the others. Then the ``n_elites`` best survive
unchanged, and the rest of the population is bred from them: parents drawn in proportion to
rank weights (best ``n`` .. worst ``1``, ties averaged: well defined for losses of any sign, zero
or infinite, unlike fitness-proportional weights), uniform (``crossover_rate`` = probability that a
gene comes from the first parent) or fitness-biased crossover (the first parent's gene with
probability ``(w1 / (w1 + w2)) ** crossover_exponent``), then random-reset mutation of
``n_mutate_coords`` coordinates.

NOMAD runs in child processes (:mod:`._nomad_worker`); its loop is turned inside out so that
every point it wants comes out of ``ask`` and its loss goes back with ``tell``. With
``num_workers = k``, k searches run at once. Each search's NOMAD seed is a ``SeedSequence`` child
of a draw from the optimizer's generator.

References
----------
Audet, Le Digabel, Rochon Montplaisir, Tribes (2022). Algorithm 1027: NOMAD version 4. ACM TOMS 48(3).
EA-NOMAD, the original package (``EANOMAD`` on PyPI), whose options this follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from ..core import ConfiguredOptimizer, Optimizer, registry
from ..errors import OptimkitValueError
from ..parametrization import UnitBox
from ..rng import as_generator
from . import _nomad_worker as nw

__all__ = ["Params", "State", "Task", "DEFAULT_NOMAD_OPTIONS", "init", "rank_weights", "breed",
           "plan_generation", "finish_generation", "EANOMAD", "ConfEANOMAD"]

Array = NDArray[np.float64]

#: Chosen by measurement (benchmarks/nomad_options.py, docs/benchmarks_eanomad.md): ~15x less NOMAD
#: time per evaluation than NOMAD's defaults, and ORTHO 2N polls avoid the 1-2-D crashes of the
#: default direction type that hybrid mode's tiny sub-problems hit.
DEFAULT_NOMAD_OPTIONS = ("DIRECTION_TYPE ORTHO 2N", "QUAD_MODEL_SEARCH no", "NM_SEARCH no")
MAX_SUBSET = 49


@dataclass(frozen=True)
class Params:
    """EA-NOMAD options, validated at construction (each error names the option and its range).

    ``subset_size``/``n_mutate_coords`` None mean ``min(20, d)``/``min(2, d)``; ``n_elites`` None
    means half the population. ``bounds`` is the half-width of NOMAD's box in unit-box units;
    ``bound`` the half-width of the standardized box of coordinates without bounds.
    """

    mode: str = "pure"
    population_size: int = 16
    subset_size: int | None = None
    bounds: float = 0.1
    max_bb_eval: int = 50
    n_elites: int | None = None
    n_mutate_coords: int | None = None
    crossover_rate: float = 0.5
    crossover_type: str = "uniform"
    crossover_exponent: float = 1.0
    nomad_options: tuple[str, ...] = ()
    bound: float = 10.0

    def __post_init__(self) -> None:
        if self.mode not in ("pure", "hybrid"):
            raise OptimkitValueError(f"mode must be 'pure' or 'hybrid', got {self.mode!r}")
        _int("population_size", self.population_size, 2)
        _int("subset_size", self.subset_size, 1, MAX_SUBSET, none_ok=True)
        _int("max_bb_eval", self.max_bb_eval, 1)
        _int("n_elites", self.n_elites, 1, self.population_size, none_ok=True)
        _int("n_mutate_coords", self.n_mutate_coords, 1 if self.mode == "hybrid" else 0, none_ok=True)
        _real("bounds", self.bounds, 0.0)
        _real("bound", self.bound, 0.0)
        _real("crossover_exponent", self.crossover_exponent, 0.0)
        if not _is_real(self.crossover_rate) or not 0.0 <= self.crossover_rate < 1.0:
            raise OptimkitValueError(f"crossover_rate must be a number in [0, 1), got {self.crossover_rate!r}")
        if self.crossover_type not in ("uniform", "fitness"):
            raise OptimkitValueError(
                f"crossover_type must be 'uniform' or 'fitness', got {self.crossover_type!r}")
        object.__setattr__(self, "nomad_options", nw.normalize_options(self.nomad_options))

    @property
    def elites(self) -> int:
        return self.n_elites if self.n_elites is not None else max(1, self.population_size // 2)

    def resolve(self, dimension: int) -> Params:
        """Dimension-dependent defaults filled in and checked against ``dimension``."""
        subset = min(20, dimension) if self.subset_size is None else self.subset_size
        mutate = min(2, dimension) if self.n_mutate_coords is None else self.n_mutate_coords
        if subset > dimension:
            raise OptimkitValueError(f"subset_size must be in [1, min(49, dimension={dimension})], got {subset}")
        if mutate > dimension:
            raise OptimkitValueError(f"n_mutate_coords must be in [0, dimension={dimension}], got {mutate}")
        return replace(self, subset_size=subset, n_mutate_coords=mutate, n_elites=self.elites)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


def _real(name: str, value: Any, low: float) -> None:
    if not _is_real(value) or not low < value:
        raise OptimkitValueError(f"{name} must be a finite number > {low:g}, got {value!r}")


def _int(name: str, value: Any, low: int, high: float = math.inf, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        rng = f"[{low}, {high}]" if math.isfinite(high) else f">= {low}"
        raise OptimkitValueError(f"{name} must be an integer {rng}{' or None' if none_ok else ''}, got {value!r}")


@dataclass
class State:
    """Population (rows in the unit box), their losses (inf: unknown) and the hybrid reference."""

    population: Array
    losses: Array
    reference: Array | None = None
    generation: int = 0


@dataclass
class Task:
    """One individual's work in a generation: a NOMAD search on ``coords`` or (no coords) an evaluation."""

    index: int
    x: Array  # full unit vector the search starts from
    coords: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    lower: Array = field(default_factory=lambda: np.zeros(0))
    upper: Array = field(default_factory=lambda: np.zeros(0))
    seed: int = 0
    max_bb_eval: int = 0
    loss: float = math.inf  # the individual's loss when known (not asked again)

    @property
    def is_search(self) -> bool:
        return self.coords.size > 0

    def job(self) -> nw.Job:
        """The scheduler's job: NOMAD on the slice (sub-vectors), or one evaluation (full vector)."""
        x0 = (self.x[self.coords] if self.is_search else self.x).tolist()
        known = {tuple(x0): self.loss} if math.isfinite(self.loss) else {}
        if not self.is_search:
            return nw.Job(self.index, x0, history=known)
        return nw.Job(self.index, x0, self.lower.tolist(), self.upper.tolist(), self.max_bb_eval, self.seed, known)

    def full(self, sub: Any) -> Array:
        """The full vector of a point of this task's job."""
        if not self.is_search or len(sub) != self.coords.size:
            return np.asarray(sub, dtype=np.float64)
        x: Array = self.x.copy()
        x[self.coords] = sub
        return x


def _gen(rng: Any) -> np.random.Generator:
    """A Generator on ``rng``'s own stream (a RandomState shares its bit generator)."""
    return as_generator(rng)


def init(params: Params, dimension: int, rng: Any, reference: Array | None = None) -> State:
    """Initial population: uniform in the box (pure), or copies of ``reference`` (hybrid)."""
    mu = params.population_size
    if params.mode == "hybrid":
        if reference is None:
            raise OptimkitValueError("hybrid mode needs an initial vector (init_vec)")
        pop = np.tile(np.asarray(reference, dtype=np.float64), (mu, 1))
    else:
        pop = _gen(rng).random((mu, dimension))
    return State(pop, np.full(mu, np.inf), None if reference is None else np.array(reference, dtype=np.float64))


def rank_weights(losses: Array) -> Array:
    """Selection weights from ranks: best gets ``n``, worst ``1``, ties share; sums to 1."""
    weights = losses.size + 1 - rankdata(losses, method="average")
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def breed(parents: Array, parent_losses: Array, params: Params, n_offspring: int, rng: Any) -> Array:
    """Offspring of the elites: rank-weighted parent draws, crossover, random-reset mutation."""
    gen = _gen(rng)
    p, d = parents.shape
    w = rank_weights(parent_losses)
    i1, i2 = gen.choice(p, size=n_offspring, p=w), gen.choice(p, size=n_offspring, p=w)
    genes = gen.random((n_offspring, d))
    if params.crossover_type == "uniform":
        take_first = genes < params.crossover_rate
    else:
        bias = (w[i1] / (w[i1] + w[i2])) ** params.crossover_exponent
        take_first = genes < bias[:, None]
    children = np.where(take_first, parents[i1], parents[i2])
    m = int(params.n_mutate_coords or 0)
    if m:
        cols = np.argsort(gen.random((n_offspring, d)), axis=1)[:, :m]
        children[np.arange(n_offspring)[:, None], cols] = gen.random((n_offspring, m))
    return children


def plan_generation(state: State, params: Params, rng: Any) -> list[Task]:
    """The generation's tasks, one per individual (``params`` resolved for the dimension)."""
    gen = _gen(rng)
    mu, d = state.population.shape
    seeds = np.random.SeedSequence(int(gen.integers(2**63))).spawn(mu)
    tasks, seen = [], set()
    for i, x in enumerate(state.population):
        if params.mode == "pure":
            coords = np.sort(gen.permutation(d)[: params.subset_size])
        else:
            assert state.reference is not None  # init() guarantees it in hybrid mode
            coords = np.flatnonzero(x != state.reference)
            if not 0 < coords.size <= MAX_SUBSET or coords.tobytes() in seen:
                tasks.append(Task(i, x.copy(), loss=float(state.losses[i])))
                continue
            seen.add(coords.tobytes())
        lower = np.clip(x[coords] - params.bounds, 0.0, 1.0)
        upper = np.clip(x[coords] + params.bounds, 0.0, 1.0)
        seed = int(seeds[i].generate_state(1)[0] % nw.NOMAD_SEED_LIMIT)
        tasks.append(Task(i, x.copy(), coords, lower, upper, seed, params.max_bb_eval, float(state.losses[i])))
    return tasks


def finish_generation(state: State, params: Params, results: dict[int, tuple[Array, float]],
                      extra: list[tuple[Array, float]], rng: Any) -> State:
    """Take each task's best point, let ``extra`` points replace worse individuals, breed."""
    pop, losses = state.population.copy(), state.losses.copy()
    for i, (x, loss) in results.items():
        pop[i], losses[i] = x, loss
    for x, loss in sorted(extra, key=lambda e: e[1]):
        worst = int(np.argmax(losses))
        if loss < losses[worst]:
            pop[worst], losses[worst] = x, loss
    order = np.argsort(losses, kind="stable")
    k = params.elites
    elites, elite_losses = pop[order[:k]], losses[order[:k]]
    children = breed(elites, elite_losses, params, params.population_size - k, rng)
    new_losses = np.concatenate([elite_losses, np.full(len(children), np.inf)])
    return State(np.vstack([elites, children]), new_losses, state.reference, state.generation + 1)


# ---------------------------------------------------------------------------- ask/tell adapter
@registry.register
class EANOMAD(Optimizer):
    """EA-NOMAD as an ask/tell optimizer (minimizes); ``registry["EANOMAD"]`` is pure mode.

    Parameters
    ----------
    parametrization, budget, num_workers, seed : as for every optimizer; ``num_workers`` NOMAD
        searches run at once (one child process each), so that many asks can be outstanding.
    mode : "pure" or "hybrid" (hybrid starts from the parametrization's initial value).
    population_size, subset_size, bounds, max_bb_eval, n_elites, n_mutate_coords, crossover_rate,
    crossover_type, crossover_exponent, bound : see :class:`Params`.
    nomad_options : dict or "KEY value" strings, NOMAD options overriding :data:`DEFAULT_NOMAD_OPTIONS`.

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.registry["EANOMAD"](ok.p.Array(shape=(4,), lower=-1, upper=1), budget=300,
    ...                                           population_size=4, subset_size=2, max_bb_eval=20, seed=0)
    >>> rec = opt.minimize(lambda x: float((x ** 2).sum()))
    >>> bool((rec.value ** 2).sum() < 0.5)
    True

    Extra asks (more outstanding than the running searches can give) get a perturbation of the
    best point: it, and any tell-not-asked candidate, replaces the worst individual if better.
    Child processes end with ``minimize``, :meth:`close`, an exception, garbage collection or exit.
    Interrupted searches (``dump``/``load``, a new ``minimize`` after one ended) restart NOMAD with
    the same seed and replay the losses already told: a loaded optimizer asks what the original would.
    """

    def __init__(self, parametrization: Any, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, mode: str = "pure", population_size: int = 16,
                 subset_size: int | None = None, bounds: float = 0.1, max_bb_eval: int = 50,
                 n_elites: int | None = None, n_mutate_coords: int | None = None,
                 crossover_rate: float = 0.5, crossover_type: str = "uniform",
                 crossover_exponent: float = 1.0, nomad_options: Any = None, bound: float = 10.0) -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        nw.check_pynomad()
        self._params = Params(mode, population_size, subset_size, bounds, max_bb_eval, n_elites,
                              n_mutate_coords, crossover_rate, crossover_type, crossover_exponent,
                              nomad_options, bound).resolve(self.dimension)
        self._box = UnitBox(self.parametrization, self._params.bound)
        self._reference = self._box.from_data(np.zeros(self.dimension)) if mode == "hybrid" else None
        self._state: State | None = None  # drawn at the first ask, so that seeding before it counts
        self._tasks: dict[int, Task] = {}
        self._extra: list[tuple[Array, float]] = []
        self._best: tuple[Array | None, float] = (None, math.inf)
        options = nw.merge_options(DEFAULT_NOMAD_OPTIONS, self._params.nomad_options)
        self._scheduler = nw.Scheduler(self.num_workers, options)

    @property
    def generation(self) -> int:
        """Number of completed generations."""
        return 0 if self._state is None else self._state.generation

    def close(self) -> None:
        """Stop the NOMAD child processes now (searches restart from their best points if asked again)."""
        self._scheduler.suspend()

    def minimize(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().minimize(*args, **kwargs)
        finally:
            self.close()

    # ------------------------------------------------------------------ hooks
    def _internal_ask_candidate(self) -> Any:
        tag, unit = self._next_unit()
        candidate = self._spawn(np.ascontiguousarray(self._box.to_data(unit)))
        candidate._tag = (tag, unit)
        return candidate

    def _internal_tell_candidate(self, candidate: Any, loss: float) -> None:
        tag, unit = candidate._tag if candidate._tag is not None else (None, None)
        if tag is None or not self._scheduler.tell(tag[0], tag[1], loss):
            self._internal_tell_not_asked(candidate, loss, unit)
        elif loss < self._best[1]:
            self._best = (self._data_of(candidate).copy(), loss)

    def _internal_tell_not_asked(self, candidate: Any, loss: float, unit: Array | None = None) -> None:
        data = np.asarray(self._data_of(candidate), dtype=np.float64)
        self._extra.append((self._box.from_data(data) if unit is None else unit, loss))
        if loss < self._best[1]:
            self._best = (data.copy(), loss)

    def _internal_abandon(self, candidate: Any) -> None:
        if candidate._tag is not None and candidate._tag[0] is not None:
            self._scheduler.abandon(*candidate._tag[0])

    # ------------------------------------------------------------------ unit-box core of ask/tell
    def _next_unit(self) -> tuple[tuple[int, int] | None, Array]:
        """Next point (unit box) and its routing tag; None tag for an extra point."""
        while True:
            if self._scheduler.idle:
                self._new_generation()
            got = self._scheduler.next_point()
            if got is not None:
                jid, k, sub = got
                task = self._tasks[self._scheduler.running[jid].job.key]
                return (jid, k), task.full(sub)
            if not self._scheduler.idle:
                return None, self._filler()

    def _new_generation(self) -> None:
        if self._state is None:
            self._state = init(self._params, self.dimension, self._rng, self._reference)
        elif self._tasks:
            results = {key: (self._tasks[key].full(x), loss)
                       for key, (x, loss) in self._scheduler.results.items()}
            self._state = finish_generation(self._state, self._params, results, self._extra, self._rng)
            self._scheduler.results.clear()
            self._extra = []
        tasks = plan_generation(self._state, self._params, self._rng)
        self._tasks = {t.index: t for t in tasks}
        self._scheduler.submit(t.job() for t in tasks)

    def _filler(self) -> Array:
        """An extra point: the best point told, moved at random on ``subset_size`` coordinates."""
        assert self._state is not None  # extras come only once a generation runs
        best = self._state.population[0] if self._best[0] is None else self._box.from_data(self._best[0])
        gen, x = _gen(self._rng), np.array(best, dtype=np.float64)
        coords = gen.permutation(self.dimension)[: self._params.subset_size]
        x[coords] = np.clip(x[coords] + gen.uniform(-1, 1, coords.size) * self._params.bounds, 0.0, 1.0)
        return x


class ConfEANOMAD(ConfiguredOptimizer):
    """EA-NOMAD family: ``ConfEANOMAD(mode="hybrid", max_bb_eval=50)(parametrization, budget)``.

    Options are those of :class:`EANOMAD` (keyword-only), validated now.
    """

    def __init__(self, *, mode: str = "pure", population_size: int = 16, subset_size: int | None = None,
                 bounds: float = 0.1, max_bb_eval: int = 50, n_elites: int | None = None,
                 n_mutate_coords: int | None = None, crossover_rate: float = 0.5,
                 crossover_type: str = "uniform", crossover_exponent: float = 1.0,
                 nomad_options: Any = None, bound: float = 10.0, seed: Any = None) -> None:
        Params(mode, population_size, subset_size, bounds, max_bb_eval, n_elites, n_mutate_coords,
               crossover_rate, crossover_type, crossover_exponent, nomad_options, bound)
        super().__init__(EANOMAD, {k: v for k, v in locals().items() if k not in ("self", "__class__")})


registry.register_name("EANOMADHybrid", ConfEANOMAD(mode="hybrid"))
