"""EA-NOMAD as an ask/tell optimizer: the :mod:`.core` generations served point by point.

NOMAD runs in child processes (:mod:`optimkit.nomad`); its loop is turned inside out so that
every point it wants comes out of ``ask`` and its loss goes back with ``tell``. With
``num_workers = k``, k searches run at once. Each search's NOMAD seed is a ``SeedSequence`` child
of a draw from the optimizer's generator. Registered as ``EANOMAD`` (pure mode) and
``EANOMADHybrid``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ...core import ConfiguredOptimizer, registry
from ...nomad import Scheduler, check_pynomad, merge_options
from ...parametrization import UnitBox
from ..scheduled import NomadSearchOptimizer
from . import core
from .core import DEFAULT_NOMAD_OPTIONS, Array, Params, State, Task

__all__ = ["EANOMAD", "ConfEANOMAD"]


class EANOMAD(NomadSearchOptimizer):
    """EA-NOMAD as an ask/tell optimizer (minimizes); ``registry["EANOMAD"]`` is pure mode.

    Parameters
    ----------
    parametrization, budget, num_workers, seed : as for every optimizer; ``num_workers`` NOMAD
        searches run at once (one child process each), so that many asks can be outstanding.
    mode : "pure" or "hybrid" (hybrid starts from the parametrization's initial value).
    population_size, subset_size, bounds, max_bb_eval, n_elites, n_mutate_coords, crossover_rate,
    crossover_type, crossover_exponent, bound : see :class:`~optimkit.algorithms.eanomad.Params`.
    nomad_options : dict or "KEY value" strings, NOMAD options overriding
        :data:`~optimkit.algorithms.eanomad.DEFAULT_NOMAD_OPTIONS`.

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.registry["EANOMAD"](ok.p.Array(shape=(4,), lower=-1, upper=1), budget=300,
    ...                                           population_size=4, subset_size=2, max_bb_eval=20, seed=0)
    >>> rec = opt.minimize(lambda x: float((x ** 2).sum()))
    >>> bool((rec.value ** 2).sum() < 0.5)
    True

    Notes
    -----
    Extra asks (more outstanding than the running searches can give) get a perturbation of the
    best point: it, and any tell-not-asked candidate, replaces the worst individual if better.
    Child processes end with ``minimize``, :meth:`close`, an exception, garbage collection or exit.
    Interrupted searches (``dump``/``load``, a new ``minimize`` after one ended) restart NOMAD with
    the same seed and replay the losses already told: a loaded optimizer asks what the original would.
    """

    requires = ("PyNomad",)

    def __init__(self, parametrization: Any, budget: int | None = None, num_workers: int = 1, *,
                 seed: Any = None, mode: str = "pure", population_size: int = 16,
                 subset_size: int | None = None, bounds: float = 0.1, max_bb_eval: int = 50,
                 n_elites: int | None = None, n_mutate_coords: int | None = None,
                 crossover_rate: float = 0.5, crossover_type: str = "uniform",
                 crossover_exponent: float = 1.0, nomad_options: Any = None, bound: float = 10.0) -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        check_pynomad()
        self._params = Params(mode, population_size, subset_size, bounds, max_bb_eval, n_elites,
                              n_mutate_coords, crossover_rate, crossover_type, crossover_exponent,
                              nomad_options, bound).resolve(self.dimension)
        self._box = UnitBox(self.parametrization, self._params.bound)
        self._reference = self._box.from_data(np.zeros(self.dimension)) if mode == "hybrid" else None
        self._state: State | None = None  # drawn at the first ask, so that seeding before it counts
        self._tasks: dict[int, Task] = {}
        self._extra: list[tuple[Array, float]] = []
        self._best: tuple[Array | None, float] = (None, math.inf)
        options = merge_options(DEFAULT_NOMAD_OPTIONS, self._params.nomad_options)
        self._scheduler = Scheduler(self.num_workers, options)

    @property
    def generation(self) -> int:
        """Number of completed generations."""
        return 0 if self._state is None else self._state.generation

    # ------------------------------------------------------------------ hooks
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

    # ------------------------------------------------------------------ unit-box side of ask/tell
    def _next_unit(self) -> tuple[tuple[int, int] | None, Array]:
        """Next point (unit box) and its routing tag; None tag for an extra point."""
        while True:
            if self._scheduler.idle:
                self._new_generation()
            got = self._scheduler.next_point()
            if got is not None:
                jid, k, sub = got
                return (jid, k), self._tasks[self._scheduler.job_key(jid)].full(sub)
            if not self._scheduler.idle:
                return None, self._extra_point()

    def _new_generation(self) -> None:
        params, rng = self._params, self._rng
        if self._state is None:
            self._state = core.init(params, core.draw_init(params, self.dimension, rng), self._reference)
        elif self._tasks:
            results = {key: (self._tasks[key].full(x), loss)
                       for key, (x, loss) in self._scheduler.results.items()}
            self._state = core.tell(params, self._state, results, self._extra,
                                    core.draw_tell(params, self._state, rng))
            self._scheduler.results.clear()
            self._extra = []
        tasks = core.ask(params, self._state, core.draw_ask(params, self._state, rng))
        self._tasks = {t.index: t for t in tasks}
        self._scheduler.submit(t.job() for t in tasks)

    def _extra_point(self) -> Array:
        """An extra point: the best point told, moved at random on ``subset_size`` coordinates."""
        if self._state is None:  # pragma: no cover - extras come only once a generation runs
            raise RuntimeError("internal error: an extra point was asked before the first generation")
        best = self._state.population[0] if self._best[0] is None else self._box.from_data(self._best[0])
        return core.extra_point(self._params, best, core.draw_extra(self._params, self.dimension, self._rng))


class ConfEANOMAD(ConfiguredOptimizer):
    """EA-NOMAD family: ``ConfEANOMAD(mode="hybrid", max_bb_eval=50)(parametrization, budget)``.

    Options are those of :class:`EANOMAD` (keyword-only), validated now.

    Examples
    --------
    >>> ConfEANOMAD(mode="hybrid", max_bb_eval=20).config()["max_bb_eval"]
    20
    """

    def __init__(self, *, mode: str = "pure", population_size: int = 16, subset_size: int | None = None,
                 bounds: float = 0.1, max_bb_eval: int = 50, n_elites: int | None = None,
                 n_mutate_coords: int | None = None, crossover_rate: float = 0.5,
                 crossover_type: str = "uniform", crossover_exponent: float = 1.0,
                 nomad_options: Any = None, bound: float = 10.0, seed: Any = None) -> None:
        Params(mode, population_size, subset_size, bounds, max_bb_eval, n_elites, n_mutate_coords,
               crossover_rate, crossover_type, crossover_exponent, nomad_options, bound)
        super().__init__(EANOMAD, {k: v for k, v in locals().items() if k not in ("self", "__class__")})


registry.register(EANOMAD)
registry.register_name("EANOMADHybrid", ConfEANOMAD(mode="hybrid"))
