"""BOBYQA (NLopt) on the whole problem as an ask/tell optimizer, with restarts until the budget is spent.

NLopt's loop is turned inside out by :class:`.loop.BobyqaRun` (a thread that waits while the
caller works): every point BOBYQA wants comes out of ``ask`` and its loss goes back with ``tell``.
With ``num_workers = k``, k runs go on at once. Registered as ``BOBYQA``.
"""

from __future__ import annotations

import math
import os
import weakref
from dataclasses import asdict
from typing import Any

import numpy as np

from ...core import ConfiguredOptimizer, Optimizer, registry
from ...parametrization import Parameter, UnitBox
from ...rng import uniform
from .. import restarts as shared
from . import core
from .core import Array, Params, Run, State
from .loop import BobyqaRun, check_nlopt

__all__ = ["BOBYQA", "ConfBOBYQA"]


def _stop_all(loops: dict[int, BobyqaRun]) -> None:
    """End the runs' threads (the optimizer is closed or collected)."""
    for loop in list(loops.values()):
        loop.stop()
    loops.clear()


class BOBYQA(Optimizer):
    """BOBYQA (Powell's trust-region method with quadratic models, through NLopt), restarted until
    the budget is spent (minimizes).

    The search works in the unit box ``[0, 1]^d`` (bounded coordinates map onto their bounds,
    the others onto ``[-bound, bound]`` of the standardized space). The first run starts from
    the parametrization's value (or ``x0``) with a trust region of radius ``rho_begin`` (a fraction
    of the box's width); BOBYQA fits a quadratic model to ``2d + 1`` points and moves to the
    model's minimum in the trust region, which shrinks to ``rho_end``, where the run ends; the next
    run starts from a random point with a fresh trust region (a run cut by ``max_evals`` goes on
    from its best point). Each evaluation costs NLopt's own time (2.5 µs at d = 2, 95 µs at
    d = 20) and two thread hand-overs: the model search of a frugal method at the price of a cheap
    one (``docs/optimizers/bobyqa.md``).

    Parameters
    ----------
    parametrization, budget, num_workers, seed : as for every optimizer; ``num_workers`` runs go on
        at once, each handing out one point at a time.
    x0 : value of the parametrization, optional
        Start of the first run (default: the parametrization's value).
    rho_begin, rho_end, max_evals, restarts, margin, bound : see
        :class:`~optimkit.algorithms.bobyqa.Params`.

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.registry["BOBYQA"](ok.p.Array(shape=(3,), lower=-1, upper=1), budget=100, seed=0)
    >>> rec = opt.minimize(lambda x: float(((x - 0.3) ** 2).sum()))
    >>> bool(((rec.value - 0.3) ** 2).sum() < 1e-8)
    True

    Notes
    -----
    More asks outstanding than the runs can hand out (BOBYQA waits for a loss before its next
    point) get uniform random points of the box; their losses, and those of candidates told but
    never asked, count for the recommendation only. An abandoned candidate is asked again. A
    non-finite loss reaches BOBYQA as the worst finite loss of its run (the record keeps the real
    one). Runs end with ``minimize``, :meth:`close`, garbage collection or exit; an interrupted run
    (``dump``/``load``, a new ``minimize``) starts again from its plan and replays the losses
    already told, so it goes on exactly where it was.

    References
    ----------
    Powell (2009). The BOBYQA algorithm for bound constrained optimization without derivatives.
    DAMTP 2009/NA06. Johnson, The NLopt nonlinear-optimization package.
    """

    requires = ("nlopt",)

    def __init__(self, parametrization: Any, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, x0: Any = None, rho_begin: float = 0.35, rho_end: float = 1e-10,
                 max_evals: int | None = None, restarts: float = math.inf, margin: float = 0.1,
                 bound: float = 10.0) -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        check_nlopt()
        self._params = Params(rho_begin, rho_end, max_evals, restarts, margin, bound)
        self._box = UnitBox(self.parametrization, self._params.bound)
        data = np.zeros(self.dimension)
        if x0 is not None:
            data = self.parametrization.spawn_child(new_value=x0).get_standardized_data(
                reference=self.parametrization)
        self._state: State = core.init(self._params, self._box.from_data(np.asarray(data, dtype=np.float64)))
        self._runs: dict[int, Run] = {}  # started runs that have not ended, by key
        self._told: dict[int, list[float]] = {}  # the losses each of them was given, in order
        self._handed: set[int] = set()  # runs whose waiting point is out (asked, not told)
        self._worst: dict[int, float] = {}  # each run's worst finite loss (for non-finite ones)
        self._new_loops()

    def _new_loops(self) -> None:
        self._loops: dict[int, BobyqaRun] = {}  # the runs' NLopt threads (not state: replayed)
        self._finalizer = weakref.finalize(self, _stop_all, self._loops)

    @property
    def num_runs(self) -> int:
        """Number of BOBYQA runs started (the first one and the restarts)."""
        return self._state.num_started

    def close(self) -> None:
        """End the runs' NLopt threads now (interrupted runs are replayed if asked again)."""
        with self._lock:
            _stop_all(self._loops)

    def minimize(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().minimize(*args, **kwargs)
        finally:
            self.close()

    # ------------------------------------------------------------------ hooks
    def _internal_ask_candidate(self) -> Parameter:
        key, unit = self._next_unit()
        candidate = self._spawn(np.ascontiguousarray(self._box.to_data(unit)))
        candidate._tag = (None if key is None else (key, len(self._told[key])), unit)
        return candidate

    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        tag, unit = candidate._tag if candidate._tag is not None else (None, None)
        if tag is not None and tag[0] in self._handed and tag[1] == len(self._told[tag[0]]):
            self._send(tag[0], loss)
        self._note_best(self._unit_of(candidate) if unit is None else unit, loss)

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        self._note_best(self._unit_of(candidate), loss)

    def _internal_abandon(self, candidate: Parameter) -> None:
        tag = candidate._tag[0] if candidate._tag is not None else None
        if tag is not None and tag[0] in self._handed and tag[1] == len(self._told[tag[0]]):
            self._handed.discard(tag[0])  # its point is asked again

    # ------------------------------------------------------------------ the runs
    def _next_unit(self) -> tuple[int | None, Array]:
        """Next point (unit box) and the key of the run it belongs to (None: a random point)."""
        self._start_runs()
        for key in sorted(self._runs):
            if key in self._handed:
                continue
            loop = self._loop(key)
            if loop.point is not None:
                self._handed.add(key)
                return key, loop.point
        return None, np.asarray(uniform(self._rng, self.dimension), dtype=np.float64)

    def _start_runs(self) -> None:
        """Start runs until ``num_workers`` go on (or the restarts are spent); a run that ends
        without a point (NLopt refused it) is finished at once."""
        for _ in range(self.num_workers):
            if len(self._runs) >= self.num_workers:
                return
            remaining = None if self.budget is None else self.budget - self.num_ask
            cap = core.run_budget(self._params, remaining, self.dimension)
            state, run = core.ask(self._params, self._state, core.draw_ask(self._params, self.dimension, self._rng),
                                  cap)
            if run is None:
                return
            self._state = state
            self._runs[run.key], self._told[run.key], self._worst[run.key] = run, [], -math.inf
            if self._loop(run.key).done:
                self._finish(run.key)

    def _loop(self, key: int) -> BobyqaRun:
        """The run's NLopt thread, started (and brought up to date by replay) when missing."""
        loop = self._loops.get(key)
        if loop is None or loop.pid != os.getpid():  # (a forked process: the thread stayed behind)
            run = self._runs[key]
            loop = BobyqaRun(run.x0, self._params.rho_begin, self._params.rho_end, run.max_evals)
            self._loops[key] = loop.replay(self._told[key])
        return loop

    def _send(self, key: int, loss: float) -> None:
        """Give run ``key`` the loss of its waiting point; finish it if it ends."""
        self._handed.discard(key)
        if math.isfinite(loss):
            self._worst[key] = max(self._worst[key], loss)
        value = core.model_loss(loss, self._worst[key])
        self._told[key].append(value)
        loop = self._loop(key)
        loop.send(value)
        if loop.done:
            self._finish(key)

    def _finish(self, key: int) -> None:
        loop = self._loops.pop(key)
        run = self._runs.pop(key)
        self._told.pop(key)
        self._worst.pop(key)
        self._handed.discard(key)
        self._state = core.tell(self._params, self._state, run, loop.best, loop.best_loss, loop.num_evals)

    def _note_best(self, unit: Array, loss: float) -> None:
        shared.note_best(self._state, unit, loss)

    def _unit_of(self, candidate: Parameter) -> Array:
        return self._box.from_data(np.asarray(self._data_of(candidate), dtype=np.float64))

    # ------------------------------------------------------------------ dump / load: plain data only
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        for name in ("_loops", "_finalizer", "_box"):
            state.pop(name)
        state["_params"] = asdict(self._params)
        state["_state"] = asdict(self._state)
        state["_runs"] = {key: asdict(run) for key, run in self._runs.items()}
        state["_told"] = {key: list(losses) for key, losses in self._told.items()}
        state["_handed"] = sorted(self._handed)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._params = Params(**state["_params"])
        self._box = UnitBox(self.parametrization, self._params.bound)
        self._state = shared.state_from_plain(state["_state"])
        self._runs = {int(key): Run(int(r["key"]), np.asarray(r["x0"], dtype=np.float64), int(r["max_evals"]))
                      for key, r in state["_runs"].items()}
        self._told = {int(key): [float(v) for v in losses] for key, losses in state["_told"].items()}
        self._worst = {int(key): float(v) for key, v in state["_worst"].items()}
        self._handed = {int(key) for key in state["_handed"]}
        self._new_loops()


class ConfBOBYQA(ConfiguredOptimizer):
    """BOBYQA family: ``ConfBOBYQA(rho_begin=0.2, max_evals=200)(parametrization, budget)``.

    Options are those of :class:`BOBYQA` (keyword-only), validated now.

    Examples
    --------
    >>> ConfBOBYQA(restarts=2, rho_begin=0.2).config()["restarts"]
    2
    """

    def __init__(self, *, x0: Any = None, rho_begin: float = 0.35, rho_end: float = 1e-10,
                 max_evals: int | None = None, restarts: float = math.inf, margin: float = 0.1,
                 bound: float = 10.0, seed: Any = None) -> None:
        Params(rho_begin, rho_end, max_evals, restarts, margin, bound)
        super().__init__(BOBYQA, {k: v for k, v in locals().items() if k not in ("self", "__class__")})


registry.register(BOBYQA)
