"""EA-NOMAD's pure core: options, population state, and one generation as ``ask`` then ``tell``.

Positions live in the unit box ``[0, 1]^d`` (the same box as ANSR's). A generation is

1. :func:`ask`: one :class:`Task` per individual. **pure** mode: a NOMAD search on a random slice
   of ``subset_size`` (<= 49) coordinates inside a ``+-bounds`` box clipped to ``[0, 1]``, with
   ``max_bb_eval`` evaluations; **hybrid** mode: a search only on a novel mask of fewer than 50
   coordinates changed from the reference vector (a mask no earlier individual of the generation
   has), a plain evaluation otherwise;
2. the tasks run (NOMAD in child processes, :mod:`optimkit.nomad`), outside this module;
3. :func:`tell`: each individual becomes the best point of its task, extra points replace worse
   individuals, the ``n_elites`` best survive and the rest is bred from them (:func:`breed`):
   parents drawn in proportion to :func:`rank_weights`, uniform or fitness-biased crossover,
   random-reset mutation of ``n_mutate_coords`` coordinates.

Every function here is pure and takes ``(params, state, ...)``; the random draws come in as
arguments (``draw_*`` makes them from a generator, in the order the optimizer has always drawn
them), so tests can inject them. Everything minimizes.

References
----------
Audet, Le Digabel, Rochon Montplaisir, Tribes (2022). Algorithm 1027: NOMAD version 4. ACM TOMS 48(3).
EA-NOMAD, the original package (``EANOMAD`` on PyPI), whose options this follows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.stats import rankdata

from ...errors import OptimkitValueError
from ...nomad import NOMAD_SEED_LIMIT, Job, normalize_options
from ...rng import RandomLike, as_generator
from ...validation import check_choice, check_int, check_real

__all__ = [
    "DEFAULT_NOMAD_OPTIONS", "MAX_SUBSET", "Params", "State", "Task", "AskDraws", "BreedDraws", "ExtraDraws",
    "init", "ask", "tell", "rank_weights", "breed", "extra_point",
    "draw_init", "draw_ask", "draw_tell", "draw_breed", "draw_extra",
]

Array = NDArray[np.float64]
Indices = NDArray[np.intp]

#: Chosen by measurement (``benchmarks/nomad_options.py``, ``docs/benchmarks.md``): ~15x less NOMAD
#: time per evaluation than NOMAD's defaults, and ORTHO 2N polls avoid the 1-2-D crashes of the
#: default direction type that hybrid mode's tiny sub-problems hit.
DEFAULT_NOMAD_OPTIONS = ("DIRECTION_TYPE ORTHO 2N", "QUAD_MODEL_SEARCH no", "NM_SEARCH no")

#: Most coordinates one NOMAD search works on.
MAX_SUBSET = 49


@dataclass(frozen=True)
class Params:
    """EA-NOMAD options, validated at construction (each error names the option and its range).

    Parameters
    ----------
    mode : "pure" or "hybrid"
    population_size : int >= 2
    subset_size : coordinates per NOMAD search in [1, 49]; None: ``min(20, d)``
    bounds : half-width (> 0) of NOMAD's box around the current point, in unit-box units
    max_bb_eval : NOMAD evaluations per search (>= 1)
    n_elites : survivors per generation in [1, population_size]; None: half the population
    n_mutate_coords : coordinates reset at random per offspring (>= 1 in hybrid mode); None: ``min(2, d)``
    crossover_rate : in [0, 1), uniform crossover's probability of the first parent's gene
    crossover_type : "uniform" or "fitness"
    crossover_exponent : > 0, sharpness of the fitness bias
    nomad_options : NOMAD option lines (a dict or ``"KEY value"`` strings), stored normalized
    bound : half-width (> 0) of the standardized box of coordinates without bounds

    Examples
    --------
    >>> params = Params(population_size=8).resolve(dimension=5)
    >>> params.subset_size, params.n_elites, params.n_mutate_coords
    (5, 4, 2)
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
        checked: dict[str, Any] = {
            "mode": check_choice("mode", self.mode, ("pure", "hybrid")),
            "population_size": check_int("population_size", self.population_size, 2),
        }
        if self.subset_size is not None:
            checked["subset_size"] = check_int("subset_size", self.subset_size, 1, MAX_SUBSET)
        checked["max_bb_eval"] = check_int("max_bb_eval", self.max_bb_eval, 1)
        if self.n_elites is not None:
            checked["n_elites"] = check_int("n_elites", self.n_elites, 1, checked["population_size"])
        if self.n_mutate_coords is not None:
            low = 1 if checked["mode"] == "hybrid" else 0
            checked["n_mutate_coords"] = check_int("n_mutate_coords", self.n_mutate_coords, low)
        checked["bounds"] = check_real("bounds", self.bounds, 0.0, low_open=True)
        checked["bound"] = check_real("bound", self.bound, 0.0, low_open=True)
        checked["crossover_exponent"] = check_real("crossover_exponent", self.crossover_exponent, 0.0,
                                                   low_open=True)
        checked["crossover_rate"] = check_real("crossover_rate", self.crossover_rate, 0.0, 1.0, high_open=True)
        checked["crossover_type"] = check_choice("crossover_type", self.crossover_type, ("uniform", "fitness"))
        checked["nomad_options"] = normalize_options(self.nomad_options)
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @property
    def elites(self) -> int:
        """Survivors per generation (``n_elites``, or half the population)."""
        return self.n_elites if self.n_elites is not None else max(1, self.population_size // 2)

    def resolve(self, dimension: int) -> Params:
        """Dimension-dependent defaults filled in and checked against ``dimension``."""
        subset = min(20, dimension) if self.subset_size is None else self.subset_size
        mutate = min(2, dimension) if self.n_mutate_coords is None else self.n_mutate_coords
        check_int("subset_size", subset, 1, min(MAX_SUBSET, dimension))
        check_int("n_mutate_coords", mutate, 0, dimension)
        return replace(self, subset_size=subset, n_mutate_coords=mutate, n_elites=self.elites)


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
    coords: Indices = field(default_factory=lambda: np.zeros(0, dtype=np.intp))
    lower: Array = field(default_factory=lambda: np.zeros(0))
    upper: Array = field(default_factory=lambda: np.zeros(0))
    seed: int = 0
    max_bb_eval: int = 0
    loss: float = math.inf  # the individual's loss when known (not asked again)

    @property
    def is_search(self) -> bool:
        return self.coords.size > 0

    def job(self) -> Job:
        """The scheduler's job: NOMAD on the slice (sub-vectors), or one evaluation (full vector)."""
        x0 = (self.x[self.coords] if self.is_search else self.x).tolist()
        known = {tuple(x0): self.loss} if math.isfinite(self.loss) else {}
        if not self.is_search:
            return Job(self.index, x0, history=known)
        return Job(self.index, x0, self.lower.tolist(), self.upper.tolist(), self.max_bb_eval, self.seed, known)

    def full(self, sub: Any) -> Array:
        """The full vector of a point of this task's job."""
        if not self.is_search or len(sub) != self.coords.size:
            return np.asarray(sub, dtype=np.float64)
        x: Array = self.x.copy()
        x[self.coords] = sub
        return x


class AskDraws(NamedTuple):
    """Draws of :func:`ask`: entropy of the generation's NOMAD seeds, one permutation of the
    coordinates per individual (pure mode; None in hybrid mode)."""

    entropy: int
    permutations: Indices | None


class BreedDraws(NamedTuple):
    """Draws of :func:`breed` for ``n`` offspring of dimension ``d``: uniforms picking the first and
    second parents (``(n,)`` each), choosing genes (``(n, d)``), ordering coordinates for mutation
    (``(n, d)``) and the mutated values (``(n, m)``); the last two are None without mutation."""

    first: Array
    second: Array
    genes: Array
    mutation_order: Array | None
    mutation_values: Array | None


class ExtraDraws(NamedTuple):
    """Draws of :func:`extra_point`: the coordinates moved and their steps in ``[-1, 1)``."""

    coords: Indices
    steps: Array


# ----------------------------------------------------------------------------------- steps
def init(params: Params, uniforms: Array | None, reference: Array | None = None) -> State:
    """Initial population: ``uniforms`` (pure, ``(population_size, d)`` in ``[0, 1)``), or copies of
    ``reference`` (hybrid, where ``uniforms`` is not used)."""
    mu = params.population_size
    if params.mode == "hybrid":
        if reference is None:
            raise OptimkitValueError("hybrid mode needs an initial vector (init_vec)")
        pop = np.tile(np.asarray(reference, dtype=np.float64), (mu, 1))
    elif uniforms is None:
        raise OptimkitValueError("pure mode needs the initial population's uniforms (see draw_init)")
    else:
        pop = np.asarray(uniforms, dtype=np.float64)
    return State(pop, np.full(mu, np.inf), None if reference is None else np.array(reference, dtype=np.float64))


def ask(params: Params, state: State, draws: AskDraws) -> list[Task]:
    """The generation's tasks, one per individual (``params`` resolved for the dimension)."""
    mu, d = state.population.shape
    seeds = np.random.SeedSequence(draws.entropy).spawn(mu)
    tasks, seen = [], set()
    for i, x in enumerate(state.population):
        if params.mode == "pure":
            if draws.permutations is None:
                raise OptimkitValueError("pure mode needs one permutation per individual (see draw_ask)")
            coords = np.sort(draws.permutations[i][: params.subset_size])
        else:
            if state.reference is None:
                raise OptimkitValueError("hybrid mode needs the state's reference vector (see init)")
            coords = np.flatnonzero(x != state.reference)
            if not 0 < coords.size <= MAX_SUBSET or coords.tobytes() in seen:
                tasks.append(Task(i, x.copy(), loss=float(state.losses[i])))
                continue
            seen.add(coords.tobytes())
        lower = np.clip(x[coords] - params.bounds, 0.0, 1.0)
        upper = np.clip(x[coords] + params.bounds, 0.0, 1.0)
        seed = int(seeds[i].generate_state(1)[0] % NOMAD_SEED_LIMIT)
        tasks.append(Task(i, x.copy(), coords, lower, upper, seed, params.max_bb_eval, float(state.losses[i])))
    return tasks


def tell(params: Params, state: State, results: dict[int, tuple[Array, float]],
         extra: list[tuple[Array, float]], draws: BreedDraws) -> State:
    """Take each task's best point (``results``: index -> (x, loss)), let ``extra`` points replace
    worse individuals, keep the elites and breed the rest (next generation's state)."""
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
    children = breed(params, elites, elite_losses, draws)
    new_losses = np.concatenate([elite_losses, np.full(len(children), np.inf)])
    return State(np.vstack([elites, children]), new_losses, state.reference, state.generation + 1)


def rank_weights(losses: Array) -> Array:
    """Selection weights from ranks: best gets ``n``, worst ``1``, ties share; sums to 1.

    Examples
    --------
    >>> rank_weights(np.array([3.0, -1.0, 3.0])).tolist()
    [0.25, 0.5, 0.25]
    """
    weights = losses.size + 1 - rankdata(losses, method="average")
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def breed(params: Params, parents: Array, parent_losses: Array, draws: BreedDraws) -> Array:
    """Offspring of ``parents``: rank-weighted parent picks, crossover, random-reset mutation."""
    n = draws.first.size
    w = rank_weights(parent_losses)
    cdf = w.cumsum()
    cdf /= cdf[-1]
    i1 = cdf.searchsorted(draws.first, side="right")  # the inversion numpy's choice(p=w) does
    i2 = cdf.searchsorted(draws.second, side="right")
    if params.crossover_type == "uniform":
        take_first = draws.genes < params.crossover_rate
    else:
        bias = (w[i1] / (w[i1] + w[i2])) ** params.crossover_exponent
        take_first = draws.genes < bias[:, None]
    children: Array = np.where(take_first, parents[i1], parents[i2])
    if draws.mutation_order is not None and draws.mutation_values is not None:
        m = draws.mutation_values.shape[1]
        cols = np.argsort(draws.mutation_order, axis=1)[:, :m]
        children[np.arange(n)[:, None], cols] = draws.mutation_values
    return children


def extra_point(params: Params, best: Array, draws: ExtraDraws) -> Array:
    """A point off the generation's plan: ``best`` moved by ``steps * bounds`` on ``coords``, clipped."""
    x = np.array(best, dtype=np.float64)
    x[draws.coords] = np.clip(x[draws.coords] + draws.steps * params.bounds, 0.0, 1.0)
    return x


# ----------------------------------------------------------------------------------- draws
def draw_init(params: Params, dimension: int, rng: RandomLike) -> Array | None:
    """Draws of :func:`init`: the uniform initial population (pure mode), None (hybrid)."""
    if params.mode == "hybrid":
        return None
    return as_generator(rng).random((params.population_size, dimension))


def draw_ask(params: Params, state: State, rng: RandomLike) -> AskDraws:
    """Draws of :func:`ask`: seed entropy, then one permutation per individual (pure mode)."""
    gen = as_generator(rng)
    entropy = int(gen.integers(2**63))
    if params.mode != "pure":
        return AskDraws(entropy, None)
    mu, d = state.population.shape
    return AskDraws(entropy, np.array([gen.permutation(d) for _ in range(mu)], dtype=np.intp).reshape(mu, d))


def draw_breed(params: Params, n_offspring: int, dimension: int, rng: RandomLike) -> BreedDraws:
    """Draws of :func:`breed` for ``n_offspring`` children (``params`` resolved)."""
    gen = as_generator(rng)
    first, second = gen.random(n_offspring), gen.random(n_offspring)
    genes = gen.random((n_offspring, dimension))
    m = int(params.n_mutate_coords or 0)
    if not m:
        return BreedDraws(first, second, genes, None, None)
    order = gen.random((n_offspring, dimension))
    return BreedDraws(first, second, genes, order, gen.random((n_offspring, m)))


def draw_tell(params: Params, state: State, rng: RandomLike) -> BreedDraws:
    """Draws of :func:`tell`: those of breeding the non-elite part of the population."""
    return draw_breed(params, params.population_size - params.elites, state.population.shape[1], rng)


def draw_extra(params: Params, dimension: int, rng: RandomLike) -> ExtraDraws:
    """Draws of :func:`extra_point`: ``subset_size`` coordinates and a step in ``[-1, 1)`` for each."""
    gen = as_generator(rng)
    coords = gen.permutation(dimension)[: params.subset_size]
    return ExtraDraws(coords, gen.uniform(-1, 1, coords.size))
