"""The ask/tell ``ANSR`` optimizer over ANSR's pure core, its ``ConfANSR`` family and the presets.

The adapter keeps the epoch's bookkeeping (which particles are asked, told or abandoned, scouts
beyond the epoch, the batch path) and leaves the algorithm to :mod:`optimkit.algorithms.ansr.core`,
with the draws of :func:`optimkit.algorithms.ansr.draws.draw_fast` on the optimizer's generator.
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...core import ConfiguredOptimizer, Optimizer, registry
from ...parametrization import Parameter
from ...parametrization.box import UnitBox
from ...validation import check_bool, check_int
from .core import Params, State, init, inject, tell
from .draws import as_generator, draw_fast, drawer

__all__ = ["ANSR", "ConfANSR"]

Array = NDArray[np.float64]
_KEYS = itertools.count()

@registry.register
class ANSR(Optimizer):
    """Across Neighbourhood Search with Restarts, ask/tell (minimizes).

    Parameters: ``parametrization`` (the unit box maps onto its finite bounds in value space,
    elsewhere onto ``[-bound, bound]`` of the standardized space), ``budget``, ``num_workers``,
    ``seed``, and the options of :class:`Params`.

    ``ask`` hands out the current epoch's particles (an abandoned one is handed out again);
    the epoch update runs once all of them are told, in any order. Asks beyond the epoch
    (``num_workers > 1``, or asks running ahead of tells) never block and never change the
    epoch: they get *scouts*, points drawn like an ANSR move from a random particle's best
    (``best + |best - pos| * N(0, sigma)``). A scout's loss, like any told point that was
    not asked, replaces the worst particle's best when it is lower. All particles start
    uniformly in the box; ``suggest(x0)`` gives a starting point this way. ``restarts``
    counts restarted particles. ``minimize(f, vectorized=True)`` evaluates epoch by epoch.

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.base.registry["ANSR"](parametrization=8, budget=6400, seed=0, sigma=0.12, p_self=0.0)
    >>> rec = opt.minimize(lambda x: float((x ** 2).sum()))
    >>> bool((rec.value ** 2).sum() < 1e-6)
    True
    """

    def __init__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1,
                 *, seed: Any = None, popsize: int = 64, sigma: float = 0.05, p_self: float = 0.95,
                 restart_tolerance: float = 1e-8, bound: float = 10.0) -> None:
        self._params = Params(popsize=popsize, sigma=sigma, p_self=p_self, restart_tolerance=restart_tolerance, bound=bound)
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        self._box = UnitBox(self.parametrization, self._params.bound)
        self._state: State | None = None  # drawn at the first ask, after any reseeding
        self._queue: deque[int] = deque()
        self._losses = np.empty(popsize)
        self._told, self._num_told = [False] * popsize, 0
        self._data = np.empty((popsize, self.dimension))
        self._pending: deque[tuple[NDArray[np.intp], Array]] = deque()
        self._key = f"ANSR-{id(self)}-{next(_KEYS)}"  # marks own candidates, survives dump/load
        self._tags = [(self._key, i) for i in range(popsize)]

    restarts = property(lambda self: 0 if self._state is None else self._state.num_restarts, doc="Restarted particles so far.")
    num_epochs = property(lambda self: 0 if self._state is None else self._state.num_epochs, doc="Completed epochs.")
    popsize = property(lambda self: self._params.popsize, doc="Particles per epoch (as resolved by a budget-aware family).")
    params = property(lambda self: self._params, doc="The options in use, a :class:`Params`.")

    def _ensure_state(self) -> State:
        if self._state is None:
            self._start_epoch(init(self._params, as_generator(self._rng).random((self._params.popsize, self.dimension))))
        return self._state  # type: ignore[return-value]

    def _start_epoch(self, state: State) -> None:
        self._state = state
        self._data = self._box.to_data(state.pos)
        self._values: Any = None  # (data rows, value rows) of the epoch: made at its first single ask
        self._queue = deque(range(self._params.popsize))
        self._told, self._num_told = [False] * self._params.popsize, 0

    def _draw(self) -> Any:
        return drawer(as_generator(self._rng), self._params, draw_fast)

    def _scouts(self, n: int) -> Array:
        state, gen = self._ensure_state(), as_generator(self._rng)
        j = gen.integers(0, self._params.popsize, size=n)
        step = np.abs(state.best_pos[j] - state.pos[j]) * gen.normal(0.0, self._params.sigma, (n, self.dimension))
        scouts: Array = np.clip(state.best_pos[j] + step, 0.0, 1.0)
        return scouts

    def _record(self, index: int, loss: float) -> None:
        if not self._told[index]:
            self._told[index], self._losses[index], self._num_told = True, loss, self._num_told + 1
            if self._num_told == self._params.popsize:
                self._start_epoch(tell(self._params, self._state, self._losses, self._draw()))  # type: ignore[arg-type]

    def _internal_ask_candidate(self) -> Parameter:
        if self._state is None:
            self._ensure_state()
        if self._queue:
            index = self._queue.popleft()
            if self._values.__class__ is not tuple:  # the epoch's first single ask: its rows in bulk
                bulk = self._bulk_values(self._data)
                self._values = (list(self._data), [None] * len(self._data) if bulk is None else list(bulk))
            rows, values = self._values
            candidate = self._spawn(rows[index], values[index])
            candidate._tag = self._tags[index]
        else:
            unit = self._scouts(1)
            candidate = self._spawn(self._box.to_data(unit)[0])
            candidate._tag = (self._key, unit[0])  # a scout
        return candidate

    def _own_tag(self, candidate: Parameter) -> Any:
        tag = candidate._tag
        return tag[1] if tag.__class__ is tuple and tag[0] == self._key else None

    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        tag = candidate._tag
        what = tag[1] if tag.__class__ is tuple and tag[0] == self._key else None  # = _own_tag, inlined
        if what.__class__ is int:
            self._record(what, loss)
        else:  # a scout, or a candidate from elsewhere
            self._state = inject(self._params, self._ensure_state(), self._unit_of(candidate) if what is None else what, loss)

    def _unit_of(self, candidate: Parameter) -> Array:
        return self._box.from_data(np.asarray(self._data_of(candidate), dtype=np.float64))

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        self._state = inject(self._params, self._ensure_state(), self._unit_of(candidate), loss)

    def _internal_abandon(self, candidate: Parameter) -> None:
        what = self._own_tag(candidate)
        if what.__class__ is int and not self._told[what]:
            self._queue.appendleft(what)

    # batch path (minimize(..., vectorized=True)): the epoch's particles in bulk
    _batch_size = property(lambda self: self._params.popsize)

    def _internal_ask_batch(self, n: int) -> Array:
        self._ensure_state()
        k = min(n, len(self._queue))
        if k == self._params.popsize:
            index = np.arange(k)
            self._queue.clear()
        else:
            index = np.array([self._queue.popleft() for _ in range(k)], dtype=np.intp)
        scouts = self._scouts(n - k) if n > k else np.empty((0, self.dimension))
        self._pending.append((index, scouts))
        data = self._data if k == self._params.popsize else self._data[index]  # no copy: read-only use
        return np.concatenate([data, self._box.to_data(scouts)]) if len(scouts) else data

    def _internal_tell_batch(self, data: Array, losses: Array) -> None:
        index, scouts = self._pending.popleft()
        k = len(index)
        for i, unit in enumerate(scouts):
            self._state = inject(self._params, self._ensure_state(), unit, float(losses[k + i]))
        if k == self._params.popsize and not self._num_told:
            self._start_epoch(tell(self._params, self._state, losses[:k], self._draw()))  # type: ignore[arg-type]
            return
        for i in range(k):
            self._record(int(index[i]), float(losses[i]))

    def _internal_abandon_batch(self, data: Array) -> None:
        self._queue.extendleft(int(i) for i in self._pending.pop()[0][::-1])

    def _internal_detach_batch(self, data: Array) -> list[Parameter]:
        index, scouts = self._pending.pop()
        candidates = [self._spawn(np.array(row)) for row in data]
        for cand, i in zip(candidates, index):
            cand._tag = self._tags[int(i)]
        for cand, unit in zip(candidates[len(index):], scouts):
            cand._tag = (self._key, unit)  # a scout
        return candidates


#: Budget-aware presets: evaluations per particle the population size aims at (``budget / EVALS_PER_PARTICLE``
#: particles, so that a run lasts that many epochs), and the fewest particles.
EVALS_PER_PARTICLE = 200
MIN_POPSIZE = 8
#: Budget-aware presets: the step scale grows towards this value as the population shrinks.
MAX_SIGMA = 0.3


class ConfANSR(ConfiguredOptimizer):
    """ANSR family, ``ConfANSR(popsize=64, sigma=0.05, p_self=0.95, ...)(parametrization, budget)``.

    Presets (tuning guide: ``docs/optimizers/ansr.md``): ``ANSRUnimodal`` (one basin: sigma 0.12,
    p_self 0, follow the neighbours), ``ANSRMultimodal`` (smooth multimodal terrain: sigma 0.3,
    p_self 0.95, stay in one's basin), ``ANSRPeriodic`` (narrow periodic basins such as Shubert:
    sigma 0.04, p_self 0.05, restarts keep the diversity). The three presets are budget-aware:
    see :meth:`resolve`. The published ``ANSR`` keeps its defaults whatever the budget.

    Parameters
    ----------
    popsize : int
        Particles (>= 2); with ``budget_aware`` the most particles, and the number without a budget.
    sigma : float
        Step scale (> 0); with ``budget_aware`` the step scale of ``popsize`` particles.
    p_self : float
        Probability in [0, 1] that a coordinate follows the particle's own best.
    restart_tolerance : float
        Relative difference (>= 0) of two best losses under which the worse particle restarts.
    bound : float
        Half-width (> 0) of the box where the space has no bounds of its own.
    budget_aware : bool
        ``True``: population size, step scale and ``p_self`` follow from the budget, the dimension
        and ``num_workers`` when the optimizer is built (:meth:`resolve`); without a budget the
        options as given. ``False`` (default): the options as given.
    seed : int, optional
        Reseeds the optimizer's generator.

    Examples
    --------
    >>> import optimkit as ok
    >>> conf = ok.families.ConfANSR(sigma=0.12, p_self=0.0, budget_aware=True)
    >>> conf.resolve(dimension=5, budget=5000)
    {'popsize': 25, 'sigma': 0.229687, 'p_self': 0.0}
    >>> conf(parametrization=5, budget=5000).popsize, conf(parametrization=5).popsize
    (25, 64)
    """

    def __init__(self, *, popsize: int = 64, sigma: float = 0.05, p_self: float = 0.95,
                 restart_tolerance: float = 1e-8, bound: float = 10.0, budget_aware: bool = False,
                 seed: int | None = None) -> None:
        Params(popsize=popsize, sigma=sigma, p_self=p_self, restart_tolerance=restart_tolerance, bound=bound)
        budget_aware = check_bool("budget_aware", budget_aware)
        config = {"popsize": popsize, "sigma": sigma, "p_self": p_self,
                  "restart_tolerance": restart_tolerance, "bound": bound, "budget_aware": budget_aware,
                  "seed": seed}
        super().__init__(ANSR, {k: v for k, v in config.items()
                                if not (k == "seed" and v is None) and not (k == "budget_aware" and not v)})

    @property
    def settings(self) -> str:
        """The options that differ from the defaults; a budget-aware member adds its rule in brackets."""
        text = super().settings
        if self._config.get("budget_aware"):
            text += f" [{self.rule}]"
        return text

    def _default_repr(self) -> str:
        plain = ConfiguredOptimizer.settings.fget(self)  # type: ignore[attr-defined]
        return f"{type(self).__name__}({plain})"  # the name without the rule

    @property
    def rule(self) -> str:
        """The budget-aware rule in words (empty when the member is not budget-aware)."""
        if not self._config.get("budget_aware"):
            return ""
        cap, sigma, p_self = self._config["popsize"], self._config["sigma"], self._config["p_self"]
        return (f"popsize = max(num_workers, clip(budget / {EVALS_PER_PARTICLE}, {MIN_POPSIZE}, {cap})), "
                f"sigma = {sigma} + max({MAX_SIGMA} - {sigma}, 0) * (1 - popsize / {cap}), "
                f"p_self = min({p_self}, 1 - 1/d); "
                f"no budget: popsize={cap}, sigma={sigma}, p_self={p_self}")

    def resolve(self, dimension: int, budget: int | None, num_workers: int = 1) -> dict[str, Any]:
        """The population size, step scale and ``p_self`` an optimizer of this member gets.

        Budget-aware members with a budget: ``popsize = clip(round(budget / 200), 8, popsize)``
        particles, so that a run lasts about 200 epochs (the few epochs of 64 particles leave a
        small budget with little search beyond the random first epoch), but at least
        ``num_workers`` (each worker gets a particle); a step scale that grows from ``sigma`` (at
        ``popsize`` particles, the option) towards 0.3 as the population shrinks,
        ``sigma + max(0.3 - sigma, 0) * max(1 - popsize / popsize_option, 0)``: fewer particles
        have bests closer together, the step is proportional to those distances, and a
        population of a few particles that follow each other (``p_self`` near 0) otherwise
        collapses before it reaches the minimum; and ``p_self`` at most
        ``1 - 1/d``, so that on average at least one coordinate per move follows a neighbour (a
        particle sitting on its own best does not move along the coordinates that follow that
        best). Otherwise the options as given.
        """
        cap, sigma, p_self = self._config["popsize"], self._config["sigma"], self._config["p_self"]
        if not self._config.get("budget_aware") or budget is None:
            return {"popsize": cap, "sigma": sigma, "p_self": p_self}
        dimension = check_int("dimension", dimension, 1)
        budget = check_int("budget", budget, 1)
        popsize = max(int(num_workers), min(max(round(budget / EVALS_PER_PARTICLE), MIN_POPSIZE), cap), 2)
        grown = sigma + max(MAX_SIGMA - sigma, 0.0) * max(1.0 - popsize / cap, 0.0)
        return {"popsize": popsize, "sigma": round(grown, 6),
                "p_self": min(p_self, 1.0 - 1.0 / dimension)}

    def __call__(self, parametrization: int | Parameter, budget: int | None = None,
                 num_workers: int = 1) -> Optimizer:
        if not self._config.get("budget_aware"):
            return super().__call__(parametrization, budget, num_workers)
        options = {k: v for k, v in self._config.items() if k != "budget_aware"}
        dimension = parametrization if isinstance(parametrization, int) else parametrization.dimension
        options.update(self.resolve(dimension, budget, num_workers))
        opt = ANSR(parametrization, budget, num_workers, **options)
        opt.name = self.name
        opt._family = self  # as ConfiguredOptimizer.__call__: dumps check their member
        return opt


def _register_preset(name: str, sigma: float, p_self: float) -> None:
    registry.register_name(name, ConfANSR(sigma=sigma, p_self=p_self, budget_aware=True).set_name(name))


_register_preset("ANSRUnimodal", sigma=0.12, p_self=0.0)
_register_preset("ANSRMultimodal", sigma=0.3, p_self=0.95)
_register_preset("ANSRPeriodic", sigma=0.04, p_self=0.05)
