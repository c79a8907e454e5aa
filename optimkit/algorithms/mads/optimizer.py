"""NOMAD (MADS) on the whole problem as an ask/tell optimizer, with restarts until the budget is spent.

NOMAD runs in child processes through :class:`optimkit.nomad.Scheduler` (the machinery EA-NOMAD
uses): its loop is turned inside out, so every point it wants comes out of ``ask`` and its loss goes
back with ``tell``. With ``num_workers = k``, k runs go on at once (one child process each). Each
run's NOMAD seed is drawn from the optimizer's generator. Registered as ``NOMAD``.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

import numpy as np

from ...core import ConfiguredOptimizer, registry
from ...nomad import Job, Scheduler, check_pynomad
from ...parametrization import UnitBox
from ...rng import uniform
from .. import restarts as shared
from ..scheduled import NomadSearchOptimizer
from . import core
from .core import Array, Params, Run, State

__all__ = ["NOMAD", "ConfNOMAD"]


class NOMAD(NomadSearchOptimizer):
    """MADS (NOMAD 4 through PyNomad) on the whole problem, restarted until the budget is spent (minimizes).

    The search works in the unit box ``[0, 1]^d`` (bounded coordinates map onto their bounds,
    the others onto ``[-bound, bound]`` of the standardized space). The first run starts from
    the parametrization's value (or ``x0``); NOMAD ends a run when its mesh collapses or after
    ``max_bb_eval`` evaluations, and the next run starts from a random point (or, see
    ``restart_from``, the best point) with a fresh mesh; a run cut by ``max_bb_eval`` goes on
    from its best point.

    Parameters
    ----------
    parametrization, budget, num_workers, seed : as for every optimizer; ``num_workers`` runs go on
        at once (one NOMAD child process each), each handing out one point at a time.
    x0 : value of the parametrization, optional
        Start of the first run (default: the parametrization's value).
    max_bb_eval, initial_frame_size, min_mesh_size, quad_model, nm_search, direction_type,
    restarts, restart_from, nomad_options, bound : see :class:`~optimkit.algorithms.mads.Params`.

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.registry["NOMAD"](ok.p.Array(shape=(3,), lower=-1, upper=1), budget=120, seed=0)
    >>> rec = opt.minimize(lambda x: float(((x - 0.3) ** 2).sum()))
    >>> bool(((rec.value - 0.3) ** 2).sum() < 1e-3)
    True

    Notes
    -----
    More asks outstanding than the runs can hand out (NOMAD waits for a loss before its next point)
    get uniform random points of the box; their losses, and those of candidates told but never
    asked, count for the best point (a ``restart_from="best"`` start) and the recommendation only.
    An abandoned candidate is asked again. With a finite ``restarts``, asks after the last run get
    random points too. Child processes end with ``minimize``, :meth:`close`, garbage collection or
    exit; an interrupted run (``dump``/``load``, a new ``minimize``) restarts NOMAD with the same
    seed and replays the losses already told, so it goes on exactly where it was. A NOMAD child that
    crashes ends its run (a :class:`~optimkit.errors.NomadCrashWarning`), not the optimization.

    References
    ----------
    Audet, Dennis (2006). Mesh adaptive direct search algorithms for constrained optimization.
    Audet, Le Digabel, Rochon Montplaisir, Tribes (2022). Algorithm 1027: NOMAD version 4. ACM TOMS 48(3).
    """

    requires = ("PyNomad",)

    def __init__(self, parametrization: Any, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, x0: Any = None, max_bb_eval: int | None = None,
                 initial_frame_size: float | None = None, min_mesh_size: float | None = None,
                 quad_model: bool = True, nm_search: bool = False, direction_type: str = "ORTHO 2N",
                 restarts: float = math.inf, restart_from: str = "random", nomad_options: Any = None,
                 bound: float = 10.0) -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        check_pynomad()
        self._params = Params(max_bb_eval, initial_frame_size, min_mesh_size, quad_model, nm_search,
                              direction_type, restarts, restart_from, nomad_options, bound)
        self._box = UnitBox(self.parametrization, self._params.bound)
        data = np.zeros(self.dimension)
        if x0 is not None:
            data = self.parametrization.spawn_child(new_value=x0).get_standardized_data(
                reference=self.parametrization)
        self._state: State = core.init(self._params, self._box.from_data(np.asarray(data, dtype=np.float64)))
        self._runs: dict[int, Run] = {}  # started runs that have not ended, by key
        self._evals: dict[int, int] = {}  # evaluations told to each of them
        self._scheduler = Scheduler(self.num_workers, core.nomad_lines(self._params))

    @property
    def num_runs(self) -> int:
        """Number of NOMAD runs started (the first one and the restarts)."""
        return self._state.num_started

    # ------------------------------------------------------------------ hooks
    def _internal_tell_candidate(self, candidate: Any, loss: float) -> None:
        tag, unit = candidate._tag if candidate._tag is not None else (None, None)
        if tag is not None and tag[0] in self._scheduler.running:
            key = self._scheduler.job_key(tag[0])
            if self._scheduler.tell(tag[0], tag[1], loss):
                self._evals[key] = self._evals.get(key, 0) + 1
                self._collect()
        self._note_best(self._unit_of(candidate) if unit is None else unit, loss)

    def _internal_tell_not_asked(self, candidate: Any, loss: float) -> None:
        self._note_best(self._unit_of(candidate), loss)

    # ------------------------------------------------------------------ unit-box side of ask/tell
    def _next_unit(self) -> tuple[tuple[int, int] | None, Array]:
        """Next point (unit box) and its routing tag ``(job id, index)``; None tag for a random point."""
        while True:
            self._start_runs()
            got = self._scheduler.next_point()
            ended = self._collect()
            if got is not None:
                jid, k, x = got
                return (jid, k), np.asarray(x, dtype=np.float64)
            if not ended:
                return None, np.asarray(uniform(self._rng, self.dimension), dtype=np.float64)

    def _start_runs(self) -> None:
        """Start runs until ``num_workers`` go on (or the restarts are spent)."""
        while len(self._runs) < self.num_workers:
            remaining = None if self.budget is None else self.budget - self.num_ask
            cap = core.run_budget(self._params, remaining, self.dimension)
            state, run = core.ask(self._params, self._state,
                                  core.draw_ask(self._params, self.dimension, self._rng), cap)
            if run is None:
                return
            self._state = state
            self._runs[run.key] = run
            self._evals[run.key] = 0
            ones = [1.0] * self.dimension
            self._scheduler.submit([Job(run.key, run.x0.tolist(), [0.0] * self.dimension, ones,
                                        run.max_bb_eval, run.seed)])

    def _collect(self) -> bool:
        """Take the results of ended runs into the state; whether any ended."""
        results = self._scheduler.results
        if not results:
            return False
        for key in sorted(results):
            x, loss = results.pop(key)
            run = self._runs.pop(key)
            best = np.asarray(x, dtype=np.float64) if math.isfinite(loss) else None
            self._state = core.tell(self._params, self._state, run, best, loss, self._evals.pop(key, 0))
        return True

    def _note_best(self, unit: Array, loss: float) -> None:
        shared.note_best(self._state, unit, loss)

    def _unit_of(self, candidate: Any) -> Array:
        return self._box.from_data(np.asarray(self._data_of(candidate), dtype=np.float64))

    # ------------------------------------------------------------------ dump / load: plain data only
    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        sched = self._scheduler.__getstate__()  # a copy: running searches as jobs that replay them
        state["_scheduler"] = {
            "jobs": [_job_to_plain(job) for job in sched["queue"]],
            "results": {int(k): [list(x), float(v)] for k, (x, v) in sched["results"].items()},
        }
        state["_state"] = asdict(self._state)
        state["_runs"] = {key: asdict(run) for key, run in self._runs.items()}
        state["_params"] = asdict(self._params)
        state.pop("_box")
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        plain = state.pop("_scheduler")
        restore = getattr(super(), "__setstate__", None)  # the base remakes what is not state (its lock)
        if restore is not None:
            restore(state)
        else:
            self.__dict__.update(state)
        params = state["_params"]
        self._params = Params(**{**params, "nomad_options": tuple(params["nomad_options"])})
        self._box = UnitBox(self.parametrization, self._params.bound)
        self._state = shared.state_from_plain(state["_state"])
        self._runs = {int(key): Run(int(r["key"]), np.asarray(r["x0"], dtype=np.float64), int(r["max_bb_eval"]),
                                    int(r["seed"])) for key, r in state["_runs"].items()}
        self._scheduler = Scheduler(self.num_workers, core.nomad_lines(self._params))
        self._scheduler.submit(_job_from_plain(job) for job in plain["jobs"])
        self._scheduler.results.update({int(k): (list(x), float(v)) for k, (x, v) in plain["results"].items()})


def _job_to_plain(job: Job) -> dict[str, Any]:
    return {"key": int(job.key), "x0": [float(v) for v in job.x0],
            "lower": None if job.lower is None else list(job.lower),
            "upper": None if job.upper is None else list(job.upper),
            "max_bb_eval": int(job.max_bb_eval), "seed": int(job.seed),
            "history": [[*point, loss] for point, loss in job.history.items()]}


def _job_from_plain(plain: dict[str, Any]) -> Job:
    history = {tuple(float(v) for v in row[:-1]): float(row[-1]) for row in plain["history"]}
    return Job(plain["key"], plain["x0"], plain["lower"], plain["upper"], plain["max_bb_eval"], plain["seed"],
               history)


class ConfNOMAD(ConfiguredOptimizer):
    """NOMAD family: ``ConfNOMAD(quad_model=False, max_bb_eval=200)(parametrization, budget)``.

    Options are those of :class:`NOMAD` (keyword-only), validated now.

    Examples
    --------
    >>> ConfNOMAD(restarts=2, restart_from="best").config()["restarts"]
    2
    """

    def __init__(self, *, x0: Any = None, max_bb_eval: int | None = None, initial_frame_size: float | None = None,
                 min_mesh_size: float | None = None, quad_model: bool = True, nm_search: bool = False,
                 direction_type: str = "ORTHO 2N", restarts: float = math.inf, restart_from: str = "random",
                 nomad_options: Any = None, bound: float = 10.0, seed: Any = None) -> None:
        Params(max_bb_eval, initial_frame_size, min_mesh_size, quad_model, nm_search, direction_type, restarts,
               restart_from, nomad_options, bound)
        super().__init__(NOMAD, {k: v for k, v in locals().items() if k not in ("self", "__class__")})


registry.register(NOMAD)
