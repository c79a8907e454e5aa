"""The ask/tell optimizer ``CMA`` (minimizes): a thin adapter over the core (:mod:`.core`, CMA-ES
from the ``cmaes`` package with IPOP/BIPOP restarts), its family ``ConfCMA`` and the registered
names ``CMA`` and ``BIPOPCMA``, at the bottom.

The adapter queues a generation's rows for one-at-a-time asks, collects tells in any order and
calls cmaes's ``tell`` once ``popsize`` of the generation's own points are in (with the box
transformation, a candidate carries the sample it was mapped from, in its tag, for that tell); it owns the random
draws (the parametrization's ``random_state``) and hands them to the core as seeds and uniforms.
Its state is plain data (numpy arrays, numbers, lists, a deque of rows, the core's ``State``
dataclass) plus the ``cmaes.CMA`` object of the current run, which dumps store as the dict of its
attributes (plain data and a numpy ``RandomState``) and loading rebuilds: no foreign class in a dump.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...core import ConfiguredOptimizer, Optimizer, registry
from ...errors import OptimkitValueError
from ...parametrization import Parameter, UnitBox
from ...rng import integers, normal, uniform
from . import core
from .core import Vector

__all__ = ["CMA", "ConfCMA", "UNBOUNDED_WIDTH"]

#: Coordinates without bounds count as this wide in the standardized space (so the default
#: ``sigma=0.2`` starts them with the standard deviation 1.0, the parametrization's own scale).
UNBOUNDED_WIDTH = 5.0
_SEED_HIGH = 2**31 - 1  # cmaes seeds a np.random.RandomState: any int in [0, 2**32) works on every platform

_Told = tuple[NDArray[np.float64], float]


class CMA(Optimizer):
    """CMA-ES (Hansen & Ostermeier 2001) from the ``cmaes`` package, restarted until the budget is spent. Minimizes.

    cmaes (CyberAgent; the ``cma`` extra) does the maths: sampling, the update and its stopping
    tests; optimkit adds the bounds handling (``bound_handling``), the restarts,
    IPOP (Auger & Hansen 2005; the default) or BIPOP (Hansen 2009), and the stopping tests of that
    literature that cmaes lacks (:func:`optimkit.algorithms.cma.core.stop_reason`). It works on the
    parametrization's standardized data: coordinates with finite bounds (``Array(lower=, upper=)``,
    ``Log``, bounded ``Scalar``) are searched in their box, which cmaes keeps its samples in; the
    others (``Choice`` logits, unbounded arrays, ``arctan``/``tanh`` bounds) are unbounded there.
    By default a run resamples (cmaes's handling); once a run stops pressed against the box, the
    next ones map their samples into it (pycma's box transformation,
    :func:`optimkit.algorithms.cma.core.to_box`), which converges onto bounds where a resampled and
    clipped distribution stalls (a corner optimum, a linear slope).

    Asks hand out the rows of the current generation; tells are collected in any order and cmaes's
    update runs as soon as ``popsize`` of them are in. An abandoned ask is re-issued. Foreign points
    (tell-not-asked candidates, suggestions, points drawn before the last update) are kept as bests
    and steer the search: at the next update, each of the best of them that beats the generation's
    worst point replaces it (at most half the generation), moved along the line to the mean into
    the bounding box of the generation's own points (as injected solutions are clipped, Hansen 2011).

    Parameters
    ----------
    parametrization, budget, num_workers, seed
        As for every optimizer.
    popsize : int >= 2, optional
        Population of the first run; default ``4 + floor(3 ln d)``.
    sigma : float > 0
        Initial step size relative to the box: each coordinate starts with the standard deviation
        ``sigma * width`` (0.2 of ``[-5, 5]`` is the ``sigma0 = 2`` of CMA-ES on BBOB); unbounded
        coordinates count as 5 standardized units wide (a deviation of 1.0 at the default).
    mean : value of the parametrization, optional
        Initial mean, given as a value; default: the parametrization's current value.
    restarts : int >= 0 or math.inf
        Restarts allowed when a run stops (default: until the budget is spent).
    restart_strategy : "ipop" or "bipop"
        IPOP: each restart multiplies the population by ``popsize_multiplier``, from a mean drawn
        uniformly in the box. BIPOP: alternates those large runs with small ones (random smaller
        population and step size), choosing the regime that spent fewer evaluations.
    popsize_multiplier : float >= 1
        Population growth from one large run to the next (2, as in the literature).
    lr_adapt : bool
        cmaes's learning-rate adaptation (Nomura et al. 2023), for noisy and multimodal problems.
    bound_handling : "adaptive", "transform" or "resample"
        ``"resample"``: cmaes's own handling (a sample outside the box is drawn again, up to 100
        times, then clipped): stalls before an optimum on the bounds of several coordinates (a
        corner, a linear slope). ``"transform"``: cmaes samples without bounds and each sample is
        mapped into the box, linearly inside, quadratically within 2.5% of the width of a bound,
        reflected beyond (pycma's default ``BoundTransform``): reaches such optima, but folds the
        landscape at the bounds, which slows ill-conditioned and periodic functions whose optimum
        is inside (``docs/optimizers/cma.md``). ``"adaptive"`` (default): resamples until a run stops
        with at least half of its last generation clipped onto a bound (a run held there for 10
        generations in a row stops), then transforms.

    Examples
    --------
    >>> import optimkit as ok
    >>> param = ok.p.Array(shape=(4,), lower=-5.0, upper=5.0)
    >>> opt = ok.optimizers.registry["CMA"](parametrization=param, budget=1500)
    >>> opt.parametrization.random_state.seed(0)
    >>> rec = opt.minimize(lambda x: float(((x - 1.0) ** 2).sum()))
    >>> bool(((rec.value - 1.0) ** 2).sum() < 1e-8)
    True

    References
    ----------
    Hansen, Ostermeier (2001). Completely derandomized self-adaptation in evolution strategies. Evol. Comput. 9(2).
    Auger, Hansen (2005). A restart CMA evolution strategy with increasing population size. CEC.
    Hansen (2009). Benchmarking a BI-population CMA-ES on the BBOB-2009 function testbed. GECCO workshops.
    Hansen (2011). Injecting external solutions into CMA-ES. INRIA research report RR-7748.
    Nomura, Shibata (2024). cmaes: a simple yet practical Python library for CMA-ES. arXiv:2402.01373.
    """

    requires = ("cmaes",)

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, popsize: int | None = None, sigma: float = 0.2, mean: Any = None,
                 restarts: int | float = math.inf, restart_strategy: str = "ipop", popsize_multiplier: float = 2.0,
                 lr_adapt: bool = False, bound_handling: str = "adaptive") -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        self._params = core.Params(dimension=self.dimension, popsize=popsize, sigma=sigma, restarts=restarts,
                                   restart_strategy=restart_strategy, popsize_multiplier=popsize_multiplier,
                                   lr_adapt=lr_adapt, bound_handling=bound_handling)
        core.load_cmaes()  # fail now, naming the extra, when cmaes is missing
        self._space = self._make_space(mean)
        # the first run is made at the first ask: the seed may still be set after construction
        self._state: core.State | None = None
        # (cmaes's sample or None where it is the point, the point, its value or None, update drawn at)
        self._queue: deque[tuple[Vector | None, Vector, Any, int]] = deque()
        self._own: list[_Told] = []  # told samples of the current generation
        self._foreign: list[_Told] = []  # told points from elsewhere, until the next update
        self._updates = 0
        self._batch_gens: list[int] = []
        self._batch_samples: NDArray[np.float64] | None = None  # cmaes's samples of the last ask_batch (or None)

    def _make_space(self, mean: Any) -> core.Space:
        d = self.dimension
        box = UnitBox(self.parametrization, bound=UNBOUNDED_WIDTH / 2)
        widths = box.widths
        lo, hi = box.to_data(np.zeros(d)), box.to_data(np.ones(d))
        # bounds that are linear in the standardized space (clipping, bouncing); arctan/tanh bounds map
        # the whole standardized line into the box, so those coordinates are unbounded there
        linear = box.bounded & (np.abs((hi - lo) - widths) <= 1e-9 * widths)
        lower, upper = np.where(linear, lo, -np.inf), np.where(linear, hi, np.inf)
        data = np.zeros(d) if mean is None else self._data_of_value(mean, "mean")
        if not np.all((lower <= data) & (data <= upper)):
            raise OptimkitValueError(f"mean must lie within the parametrization's bounds, got {mean!r}")
        return core.Space(mean=data, std=self._params.sigma * widths, lower=lower, upper=upper)


    # ------------------------------------------------------------------ dumps
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        if self._state is not None:  # the cmaes.CMA object as its attributes: plain data, generator included
            state["_state"] = replace(self._state, cma=dict(vars(self._state.cma)))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        run = state.get("_state")
        if run is not None and "transform" not in vars(run):  # dumped before runs chose their handling
            run.transform = state["_params"].bound_handling == "transform"
        if run is not None and isinstance(run.cma, dict):
            cls = core.load_cmaes().CMA
            cma = cls.__new__(cls)  # as pickle rebuilds it, without cmaes's __setstate__ (which drops the generator)
            cma.__dict__.update(run.cma)
            state["_state"] = replace(run, cma=cma)
        super().__setstate__(state)

    # ------------------------------------------------------------------ introspection
    @property
    def state(self) -> core.State | None:
        """The current run (``core.State``: the ``cmaes.CMA`` object and the restart bookkeeping);
        None before the first ask."""
        return self._state

    @property
    def space(self) -> core.Space:
        """The search space in standardized data: initial mean and deviations, box given to cmaes."""
        return self._space

    @property
    def popsize(self) -> int:
        """The population of the current run."""
        return self._params.initial_popsize if self._state is None else self._state.popsize

    @property
    def _batch_size(self) -> int:
        return self.popsize

    # ------------------------------------------------------------------ asks
    def _generation(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """A new generation from the current run (the first run starts here): cmaes's samples and
        the points to evaluate."""
        if self._state is None:
            self._state = core.init(self._params, self._space, int(integers(self._rng, 0, _SEED_HIGH)))
        samples = core.ask(self._params, self._state)
        return samples, (core.to_box(self._space, samples) if self._state.transform else samples)

    @staticmethod
    def _mapped(samples: NDArray[np.float64], rows: NDArray[np.float64]) -> list[Vector | None]:
        """cmaes's samples where the box transformation moved them, None elsewhere."""
        if samples is rows:
            return [None] * len(rows)
        moved = np.any(samples != rows, axis=1).tolist()
        return [sample if m else None for sample, m in zip(samples, moved)]

    def _next(self) -> tuple[Vector | None, Vector, Any, int]:
        if not self._queue:
            samples, rows = self._generation()
            values = self._bulk_values(rows)  # once per generation: an ask does no arithmetic
            n, gen = len(rows), self._updates
            self._queue.extend(zip(self._mapped(samples, rows), rows, [None] * n if values is None else values,
                                   [gen] * n))
        return self._queue.popleft()

    def _internal_ask_candidate(self) -> Parameter:
        sample, row, value, gen = self._queue.popleft() if self._queue else self._next()
        candidate = self._spawn(row, value)
        candidate._tag = gen if sample is None else (gen, sample)
        return candidate

    def _internal_ask_batch(self, n: int) -> NDArray[np.float64]:
        if not self._queue and n == self.popsize:  # the common case: one whole generation
            self._batch_gens = [self._updates] * n
            samples, rows = self._generation()
        else:
            taken = [self._next() for _ in range(n)]
            self._batch_gens = [gen for *_, gen in taken]
            rows = np.stack([row for _, row, _, _ in taken])
            samples = np.stack([row if sample is None else sample for sample, row, _, _ in taken])
        self._batch_samples = None if samples is rows or np.array_equal(samples, rows) else samples
        return rows

    def _batch_bookkeeping(self, data: NDArray[np.float64]) -> tuple[list[int], NDArray[np.float64]]:
        """The updates and cmaes's samples of the rows of the last ask_batch (``data``), forgotten here."""
        n, rows = len(data), np.asarray(data, dtype=np.float64)
        gens = self._batch_gens if len(self._batch_gens) == n else [-1] * n
        samples = self._batch_samples if self._batch_samples is not None and len(self._batch_samples) == n else rows
        self._batch_gens, self._batch_samples = [], None
        return gens, samples

    def _internal_abandon(self, candidate: Parameter) -> None:
        tag = candidate._tag
        gen, sample = tag if tag.__class__ is tuple else ((tag if isinstance(tag, int) else -1), None)
        self._queue.appendleft((sample, np.array(self._data_of(candidate), dtype=np.float64), None, gen))

    def _internal_abandon_batch(self, data: NDArray[np.float64]) -> None:
        gens, samples = self._batch_bookkeeping(data)
        rows = np.asarray(data, dtype=np.float64)
        for sample, row, gen in reversed(list(zip(self._mapped(samples, rows), rows, gens))):
            self._queue.appendleft((None if sample is None else sample.copy(), row.copy(), None, gen))

    def _internal_detach_batch(self, data: NDArray[np.float64]) -> list[Parameter]:
        gens, samples = self._batch_bookkeeping(data)
        rows = np.asarray(data, dtype=np.float64)
        candidates = []
        for sample, row, gen in zip(self._mapped(samples, rows), rows, gens):
            candidate = self._spawn(row.copy())
            candidate._tag = gen if sample is None else (gen, sample.copy())
            candidates.append(candidate)
        return candidates

    # ------------------------------------------------------------------ tells
    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        tag, own = candidate._tag, self._own
        if tag == self._updates and tag.__class__ is int:
            own.append((self._data_of(candidate), loss))
        elif tag.__class__ is tuple and tag[0] == self._updates:
            own.append((tag[1], loss))
        else:
            self._foreign.append((self._data_of(candidate), loss))
            return
        if len(own) >= self.popsize:
            self._update()

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        self._foreign.append((np.array(self._data_of(candidate), dtype=np.float64), loss))

    def _internal_tell_batch(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        gens, samples = self._batch_bookkeeping(data)
        rows = np.asarray(data, dtype=np.float64)
        if not self._own and len(rows) == self.popsize and gens.count(self._updates) == len(rows):
            self._own = list(zip(samples, losses.tolist()))  # the common case: one whole generation
            self._update(samples)
            return
        for sample, row, loss, gen in zip(samples, rows, losses.tolist(), gens):
            if gen == self._updates:
                self._own.append((sample, loss))
                if len(self._own) >= self.popsize:
                    self._update()
            else:
                self._foreign.append((row, loss))

    def _update(self, rows: NDArray[np.float64] | None = None) -> None:
        """cmaes's tell on the generation (foreign points injected), then a restart if it stopped and may.

        ``rows``: the generation's samples as one array, when a batch told them all (else ``self._own``'s).
        """
        state = self._state
        if state is None:  # pragma: no cover - own points exist only once a run was asked
            return
        own, foreign = self._own, self._foreign
        self._own, self._foreign = [], []
        self._queue.clear()  # drawn from the old distribution: stale
        self._updates += 1
        params = self._params
        if foreign:
            x = np.array([row for row, _ in own])
            y = np.array([loss for _, loss in own], dtype=np.float64)
            self._inject(state, x, y, foreign)
            state = core.tell(params, state, x, y.tolist())
        else:
            points = rows if rows is not None else [row for row, _ in own]
            state = core.tell(params, state, points, [loss for _, loss in own])
        if state.stop is not None and core.can_restart(params, state):
            rng, d = self._rng, self.dimension
            seed = int(integers(rng, 0, _SEED_HIGH))
            state = core.restart(params, self._space, state, seed, uniform(rng, d), normal(rng, d), uniform(rng, 2))
        self._state = state

    def _inject(self, state: core.State, x: NDArray[np.float64], y: Vector, foreign: list[_Told]) -> None:
        """Replace the worst own points (rows of ``x``, losses ``y``, in place) by better foreign ones,
        at most half the generation, each moved along the line to the mean into the bounding box of
        the generation's own points and the mean."""
        mean = np.asarray(state.cma.mean, dtype=np.float64)
        lo, hi = np.minimum(x.min(axis=0), mean), np.maximum(x.max(axis=0), mean)
        worst_first = np.argsort(-y, kind="stable")
        foreign.sort(key=lambda told: told[1])
        for slot, (data, loss) in zip(worst_first[: len(y) // 2], foreign):
            if not loss < y[slot]:
                break
            step = np.asarray(data, dtype=np.float64) - mean
            with np.errstate(divide="ignore", invalid="ignore"):
                limits = np.where(step > 0, (hi - mean) / step, np.where(step < 0, (lo - mean) / step, np.inf))
            x[slot] = mean + min(1.0, float(limits.min())) * step
            y[slot] = loss


class ConfCMA(ConfiguredOptimizer):
    """A configured :class:`CMA` (options as there, validated now), e.g. ``ConfCMA(restart_strategy="bipop")``.

    Parameters
    ----------
    popsize, sigma, mean, restarts, restart_strategy, popsize_multiplier, lr_adapt, bound_handling, seed
        As for :class:`CMA`.

    Examples
    --------
    >>> import optimkit as ok
    >>> family = ok.families.ConfCMA(restart_strategy="bipop", popsize=8)
    >>> opt = family(parametrization=3, budget=100)
    >>> opt.name
    "ConfCMA(popsize=8, restart_strategy='bipop')"
    """

    def __init__(self, *, popsize: int | None = None, sigma: float = 0.2, mean: Any = None,
                 restarts: int | float = math.inf, restart_strategy: str = "ipop", popsize_multiplier: float = 2.0,
                 lr_adapt: bool = False, bound_handling: str = "adaptive", seed: Any = None) -> None:
        core.Params(dimension=1, popsize=popsize, sigma=sigma, restarts=restarts, restart_strategy=restart_strategy,
                    popsize_multiplier=popsize_multiplier, lr_adapt=lr_adapt, bound_handling=bound_handling)
        super().__init__(CMA, {"popsize": popsize, "sigma": sigma, "mean": mean, "restarts": restarts,
                               "restart_strategy": restart_strategy, "popsize_multiplier": popsize_multiplier,
                               "lr_adapt": lr_adapt, "bound_handling": bound_handling, "seed": seed})


registry.register(CMA)
registry.register_name("BIPOPCMA", ConfCMA(restart_strategy="bipop").set_name("BIPOPCMA"))
