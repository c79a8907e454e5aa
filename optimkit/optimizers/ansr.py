"""ANSR: Across Neighbourhood Search with Restarts (minimizes).

A population of ``popsize`` particles lives in the unit box ``[0, 1]^d``. Each epoch every particle
is evaluated, each keeps its own best, the losers of pairs whose best losses have converged are
restarted at random (never the global best), and every coordinate moves to ``guide + |guide - pos|
* N(0, sigma)`` clipped to the box, ``guide`` being the particle's own best with probability
``p_self``, else the best of a uniformly chosen *other* particle.

The numpy core (``init/ask/tell``; its random draws live in ``_ansr_draws``) is shared by the
ask/tell ``ANSR`` below and :mod:`optimkit.compat.ansr`. References: Wu (2014), Across
neighbourhood search for numerical optimization, arXiv:1401.3376; restarts as in
https://github.com/fxeqxmulfx/ansr.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import ConfiguredOptimizer, Optimizer, registry
from ..errors import OptimkitValueError
from ..parametrization import Parameter
from ..parametrization.box import UnitBox
from ._ansr_draws import (
    as_generator,
    bernoulli_positions,
    draw_fast,
    draw_reference,
    guides_from_uniform,
    neighbour_index,
)

__all__ = ["Params", "State", "init", "ask", "tell", "evolve", "update_bests", "find_losers", "restart",
           "perturb", "inject", "ANSR", "ConfANSR",
           # the draws (module _ansr_draws), re-exported: the core's one namespace
           "guides_from_uniform", "bernoulli_positions", "neighbour_index", "draw_fast", "draw_reference",
           "as_generator"]

Array = NDArray[np.float64]
_KEYS = itertools.count()


@dataclass(frozen=True)
class Params:
    """ANSR options, validated at construction (each error names the option): ``popsize`` >= 2
    particles (evaluations per epoch); ``sigma`` > 0, step scale relative to ``|guide - pos|``;
    ``p_self`` in [0, 1], probability that a coordinate follows the particle's own best;
    ``restart_tolerance`` >= 0, relative difference of two best losses under which the worse
    particle restarts (0: never); ``bound`` > 0, finite, half-width of the box where unbounded."""

    popsize: int = 64
    sigma: float = 0.05
    p_self: float = 0.95
    restart_tolerance: float = 1e-8
    bound: float = 10.0

    def __post_init__(self) -> None:
        if isinstance(self.popsize, bool) or not isinstance(self.popsize, (int, np.integer)) or self.popsize < 2:
            raise OptimkitValueError(f"popsize must be an integer >= 2, got {self.popsize!r}")
        _check_real("sigma", self.sigma, 0.0, math.inf, low_open=True)
        _check_real("p_self", self.p_self, 0.0, 1.0)
        _check_real("restart_tolerance", self.restart_tolerance, 0.0, math.inf)
        _check_real("bound", self.bound, 0.0, math.inf, low_open=True)
        object.__setattr__(self, "popsize", int(self.popsize))


def _check_real(name: str, value: Any, low: float, high: float, low_open: bool = False) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not (ok and math.isfinite(value) and (value > low if low_open else value >= low) and value <= high):
        interval = f"{'(' if low_open else '['}{low:g}, {'inf)' if math.isinf(high) else f'{high:g}]'}"
        raise OptimkitValueError(f"{name} must be a finite number in {interval}, got {value!r}")


@dataclass
class State:
    """Population in the unit box: positions to evaluate, per-particle bests, counters."""

    pos: Array  # (popsize, d) positions of the current epoch
    best_pos: Array  # (popsize, d) each particle's best position
    best_loss: Array  # (popsize,) each particle's best loss (inf: none yet)
    best_index: int = 0  # argmin of best_loss, the global best (never restarted)
    num_epochs: int = 0
    num_restarts: int = 0


# ---------------------------------------------------------------- pure numpy core
def init(params: Params, uniforms: Array, x0: Array | None = None) -> State:
    """First state from ``uniforms`` (popsize, d) in [0, 1); ``x0`` (unit box) seeds particle 0."""
    pos = np.array(uniforms, dtype=np.float64)
    if x0 is not None:
        pos[0] = np.clip(x0, 0.0, 1.0)
    return State(pos, np.zeros_like(pos), np.full(params.popsize, np.inf))


def ask(state: State) -> Array:
    """Positions (unit box) the current epoch must evaluate, one row per particle."""
    return state.pos


def update_bests(state: State, losses: Array) -> State:
    """Keep each particle's best (NaN counts as +inf) and the index of the global best."""
    losses = np.asarray(losses, dtype=np.float64)
    rows = (losses < state.best_loss).nonzero()[0]  # NaN never improves: it counts as +inf
    best_loss, best_pos = state.best_loss.copy(), state.best_pos.copy()
    best_loss[rows], best_pos[rows] = losses[rows], state.pos[rows]
    return State(state.pos, best_pos, best_loss, int(best_loss.argmin()), state.num_epochs, state.num_restarts)


def find_losers(best_loss: Array, best_index: int, restart_tolerance: float) -> NDArray[np.intp]:
    """Sorted indices of the particles that lose a converged pair.

    A pair converged when ``(hi - lo) / |hi| < restart_tolerance`` (``hi >= lo`` its best losses,
    ``hi`` finite and non-zero); its loser has the larger loss (on a tie the lower index), and the
    global best never loses. Same result as checking all pairs: in the order "global best first,
    then loss ascending, ties by index descending" each particle beats all later ones, and its
    predecessor is the closest of them, so comparing neighbours in that order decides all, O(p log p).
    """
    key = best_loss[::-1].copy()  # reversed: a stable sort then ranks ties by index descending
    key[-1 - best_index] = -np.inf
    order = (best_loss.shape[0] - 1) - key.argsort(kind="stable")
    ranked = best_loss[order]
    hi, lo = ranked[1:], ranked[:-1]
    # (hi - lo) < tol |hi| is false for hi = 0, hi or lo infinite, and tol = 0: no other test needed
    # ranked[1:] ascends: these three bound every |loss|; if nothing can overflow, skip the errstate
    if (abs(float(ranked[0])) + abs(float(ranked[1])) + abs(float(ranked[-1]))) * (2.0 + restart_tolerance) < math.inf:
        converged = hi - lo < restart_tolerance * np.abs(hi)
    else:
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN, never converged
            converged = hi - lo < restart_tolerance * np.abs(hi)
    losers: NDArray[np.intp] = order[converged.nonzero()[0] + 1]
    losers.sort()
    return losers


def restart(state: State, losers: NDArray[np.intp], fresh: Array) -> State:
    """Restart ``losers``: ``fresh`` (2k, d) uniforms, the first k their bests, the rest positions."""
    if (k := len(losers)) == 0:
        return state
    best_pos, pos, best_loss = state.best_pos.copy(), state.pos.copy(), state.best_loss.copy()
    best_pos[losers], pos[losers], best_loss[losers] = fresh[:k], fresh[k:], np.inf
    return replace(state, pos=pos, best_pos=best_pos, best_loss=best_loss, num_restarts=state.num_restarts + k)


def perturb(state: State, noise: Any, guide: Any) -> State:
    """Move each coordinate to ``clip(g + |g - pos| * noise, 0, 1)``, ``g`` its guide's best position.

    ``noise``: N(0, sigma) draws, (p, d), or ``noise(n)`` giving n draws for the coordinates with
    ``|g - pos| > 0`` in C order (the others land on ``g`` whatever the draw). ``guide``: None (own
    best), (p, d) particle indices, or ``(flat, index)``: own best, but at the flat indices ``flat``
    the bests' flat entries ``index`` (see :func:`neighbour_index`)."""
    d, best = state.pos.shape[1], state.best_pos
    if guide is None:
        g = best
    elif isinstance(guide, tuple):
        g, (flat, index) = best.copy(), guide
        g.reshape(-1)[flat] = best.reshape(-1)[index]
    else:
        g = np.take(best, guide * d + np.arange(d))
    if callable(noise):
        g_flat, pos_flat = g.reshape(-1), state.pos.reshape(-1)
        moving = (g_flat != pos_flat).nonzero()[0]  # bool: 4x faster than on floats
        if 2 * moving.size <= g.size:  # few can move: touch only those (g is in the box already)
            new = g.copy() if g is best else g
            gm = g_flat[moving]
            new.reshape(-1)[moving] = _clip01(_step(gm, pos_flat[moving], noise(moving.size)))
            return State(new, best, state.best_loss, state.best_index, state.num_epochs + 1, state.num_restarts)
        noise = noise(g.shape)
    new = _clip01(_step(g, state.pos, noise))
    return State(new, state.best_pos, state.best_loss, state.best_index, state.num_epochs + 1, state.num_restarts)


def _step(g: Array, pos: Array, noise: Array) -> Array:
    """``g + |g - pos| * noise`` in one new array."""
    step = np.subtract(g, pos)
    np.abs(step, out=step)
    step *= noise
    step += g
    return step


def _clip01(x: Array) -> Array:
    """Clip ``x`` to [0, 1] in place (two ufuncs cost less than ``np.clip``)."""
    np.maximum(x, 0.0, out=x)
    return np.minimum(x, 1.0, out=x)


def inject(state: State, point: Array, loss: float) -> State:
    """Tell-not-asked: ``point`` (unit box) replaces the worst particle's best if ``loss`` beats it."""
    worst = int(np.argmax(state.best_loss))
    if not loss < state.best_loss[worst]:
        return state
    best_pos, best_loss = state.best_pos.copy(), state.best_loss.copy()
    best_pos[worst], best_loss[worst] = np.clip(point, 0.0, 1.0), loss
    return replace(state, best_pos=best_pos, best_loss=best_loss, best_index=int(np.argmin(best_loss)))


def tell(state: State, params: Params, losses: Array, rng: Any) -> State:
    """One epoch from the losses of :func:`ask`'s rows: bests, restarts, perturbation."""
    return evolve(update_bests(state, losses), params, rng)


def evolve(state: State, params: Params, rng: Any, draw: Any = draw_fast) -> State:
    """Restarts and perturbation after :func:`update_bests`, with the draws of ``draw``."""
    losers = find_losers(state.best_loss, state.best_index, params.restart_tolerance)
    fresh, noise, guide = draw(as_generator(rng), params, len(losers), state.pos.shape[1])
    return perturb(restart(state, losers, fresh), noise, guide)


# ---------------------------------------------------------------- ask/tell adapter
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

    def _scouts(self, n: int) -> Array:
        state, gen = self._ensure_state(), as_generator(self._rng)
        j = gen.integers(0, self._params.popsize, size=n)
        step = np.abs(state.best_pos[j] - state.pos[j]) * gen.normal(0.0, self._params.sigma, (n, self.dimension))
        return np.clip(state.best_pos[j] + step, 0.0, 1.0)

    def _record(self, index: int, loss: float) -> None:
        if not self._told[index]:
            self._told[index], self._losses[index], self._num_told = True, loss, self._num_told + 1
            if self._num_told == self._params.popsize:
                self._start_epoch(tell(self._state, self._params, self._losses, self._rng))  # type: ignore[arg-type]

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
            self._state = inject(self._ensure_state(), self._unit_of(candidate) if what is None else what, loss)

    def _unit_of(self, candidate: Parameter) -> Array:
        return self._box.from_data(np.asarray(self._data_of(candidate), dtype=np.float64))

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        self._state = inject(self._ensure_state(), self._unit_of(candidate), loss)

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
            self._state = inject(self._ensure_state(), unit, float(losses[k + i]))
        if k == self._params.popsize and not self._num_told:
            self._start_epoch(tell(self._state, self._params, losses[:k], self._rng))  # type: ignore[arg-type]
            return
        for i in range(k):
            self._record(int(index[i]), float(losses[i]))

    def _internal_abandon_batch(self, data: Array) -> None:
        self._queue.extendleft(int(i) for i in self._pending.pop()[0][::-1])


class ConfANSR(ConfiguredOptimizer):
    """ANSR family, ``ConfANSR(popsize=64, sigma=0.05, p_self=0.95, ...)(parametrization, budget)``.

    Presets (tuning guide: ``docs/optimizers/ansr.md``): ``ANSRUnimodal`` (one basin: sigma 0.12,
    p_self 0, follow the neighbours), ``ANSRMultimodal`` (smooth multimodal terrain: sigma 0.3,
    p_self 0.95, stay in one's basin), ``ANSRPeriodic`` (narrow periodic basins such as Shubert:
    sigma 0.04, p_self 0.05, restarts keep the diversity). ``seed`` reseeds the generator."""

    def __init__(self, *, popsize: int = 64, sigma: float = 0.05, p_self: float = 0.95,
                 restart_tolerance: float = 1e-8, bound: float = 10.0, seed: int | None = None) -> None:
        Params(popsize=popsize, sigma=sigma, p_self=p_self, restart_tolerance=restart_tolerance, bound=bound)
        config = {"popsize": popsize, "sigma": sigma, "p_self": p_self,
                  "restart_tolerance": restart_tolerance, "bound": bound, "seed": seed}
        super().__init__(ANSR, {k: v for k, v in config.items() if k != "seed" or v is not None})


registry.register_name("ANSRUnimodal", ConfANSR(sigma=0.12, p_self=0.0).set_name("ANSRUnimodal"))
registry.register_name("ANSRMultimodal", ConfANSR(sigma=0.3, p_self=0.95).set_name("ANSRMultimodal"))
registry.register_name("ANSRPeriodic", ConfANSR(sigma=0.04, p_self=0.05).set_name("ANSRPeriodic"))
