"""NOMAD on its own: MADS (mesh adaptive direct search) runs on the whole problem, with restarts.

Positions live in the unit box ``[0, 1]^d`` (the same box as ANSR's and EA-NOMAD's). One run is a
NOMAD search on the whole box from a start point, with at most ``max_bb_eval`` evaluations; NOMAD
ends a run by itself when its mesh collapses (``MIN_MESH_SIZE``/``MIN_FRAME_SIZE``, or the mesh's
minimum precision). Then the next run starts:

1. :func:`init`: the state, with the first start point (the parametrization's value, or ``x0``);
2. :func:`ask`: plans the next run (:class:`Run`): the first start point; after a run that ended
   on its ``max_bb_eval`` (not converged), its best point with a fresh mesh; after a collapsed
   mesh (or a crashed child), a uniform random point (``restart_from="random"``) or the best
   point so far (``restart_from="best"``); None once ``restarts`` restarts are spent;
3. :func:`tell`: takes a finished run's best point and evaluation count.

The runs themselves (NOMAD in child processes, :mod:`optimkit.nomad`) happen outside this module.
Every function here is pure and takes ``(params, state, ...)``; the random draws come in as
arguments (:func:`draw_ask` makes them from a generator). Everything minimizes.

References
----------
Audet, Dennis (2006). Mesh adaptive direct search algorithms for constrained optimization. SIAM J.
Optim. 17(1). Audet, Le Digabel, Rochon Montplaisir, Tribes (2022). Algorithm 1027: NOMAD version 4.
ACM TOMS 48(3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ...nomad import NOMAD_SEED_LIMIT, normalize_options
from ...rng import RandomLike, integers, uniform
from ...validation import check_bool, check_choice, check_int, check_real
from .. import restarts as shared
from ..restarts import State

__all__ = ["DIRECTION_TYPES", "Params", "State", "Run", "AskDraws", "init", "ask", "tell", "draw_ask",
           "nomad_lines", "run_budget"]

Array = NDArray[np.float64]

#: NOMAD's poll direction types offered (``DIRECTION_TYPE``). NOMAD's own default, ``ORTHO N+1 QUAD``,
#: crashes PyNomad 4.6 in 1 to 3 dimensions (measured in ``docs/benchmarks.md``).
DIRECTION_TYPES = ("ORTHO 2N", "ORTHO N+1 NEG", "ORTHO N+1 QUAD", "N+1 UNI")



@dataclass(frozen=True)
class Params:
    """MADS options, validated at construction (each error names the option and its range).

    Parameters
    ----------
    max_bb_eval : int >= 1 or None
        Evaluations per run (NOMAD's ``MAX_BB_EVAL``); None: the rest of the budget (1000 per
        dimension without a budget). A run that spends it restarts from its best point.
    initial_frame_size : float in (0, 1] or None
        NOMAD's initial frame size (the first poll step), as a fraction of the box's width along
        each coordinate; None: NOMAD's default (a tenth of the box).
    min_mesh_size : float in (0, 0.1] or None
        Mesh size (fraction of the box) at which a run stops and the next starts; None: NOMAD's
        default (the mesh's minimum precision, about 1e-13).
    quad_model : bool
        NOMAD's quadratic-model search (``QUAD_MODEL_SEARCH``): fewer evaluations to a target,
        more time per evaluation.
    nm_search : bool
        NOMAD's Nelder-Mead search (``NM_SEARCH``).
    direction_type : str
        Poll directions, one of :data:`DIRECTION_TYPES` (any case).
    restarts : int >= 0 or math.inf
        Runs after the first; ``math.inf``: restart until the budget is spent.
    restart_from : "random" or "best"
        Start point of a run after a collapsed mesh: a uniform random point of the box, or the
        best point so far with a fresh mesh.
    nomad_options : dict or "KEY value" strings
        Further NOMAD options (not those optimkit sets: bounds, ``X0``, ``MAX_BB_EVAL``, ``SEED``).
    bound : float > 0
        Half-width of the standardized box of coordinates without bounds.

    Examples
    --------
    >>> Params(quad_model=False, initial_frame_size=0.2).restarts
    inf
    >>> nomad_lines(Params(quad_model=False, initial_frame_size=0.2))[:2]
    ('DIRECTION_TYPE ORTHO 2N', 'QUAD_MODEL_SEARCH no')
    """

    max_bb_eval: int | None = None
    initial_frame_size: float | None = None
    min_mesh_size: float | None = None
    quad_model: bool = True
    nm_search: bool = False
    direction_type: str = "ORTHO 2N"
    restarts: float = math.inf
    restart_from: str = "random"
    nomad_options: tuple[str, ...] = ()
    bound: float = 10.0

    def __post_init__(self) -> None:
        checked: dict[str, Any] = {}
        if self.max_bb_eval is not None:
            checked["max_bb_eval"] = check_int("max_bb_eval", self.max_bb_eval, 1)
        if self.initial_frame_size is not None:
            checked["initial_frame_size"] = check_real("initial_frame_size", self.initial_frame_size, 0.0, 1.0,
                                                       low_open=True)
        if self.min_mesh_size is not None:
            checked["min_mesh_size"] = check_real("min_mesh_size", self.min_mesh_size, 0.0, 0.1, low_open=True)
        checked["quad_model"] = check_bool("quad_model", self.quad_model)
        checked["nm_search"] = check_bool("nm_search", self.nm_search)
        direction = self.direction_type.upper() if isinstance(self.direction_type, str) else self.direction_type
        checked["direction_type"] = check_choice("direction_type", direction, DIRECTION_TYPES)
        checked["restarts"] = shared.check_restarts(self.restarts)
        checked["restart_from"] = check_choice("restart_from", self.restart_from, ("random", "best"))
        checked["nomad_options"] = normalize_options(self.nomad_options)
        checked["bound"] = check_real("bound", self.bound, 0.0, low_open=True)
        for name, value in checked.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Run:
    """One planned NOMAD run: its key (the run's number), start point, evaluation cap and NOMAD seed."""

    key: int
    x0: Array
    max_bb_eval: int
    seed: int


class AskDraws(NamedTuple):
    """Draws of :func:`ask`: a uniform point of the box (a random restart's start) and the run's
    NOMAD seed (in ``[0, NOMAD_SEED_LIMIT)``). Both are drawn for every run, used or not."""

    uniforms: Array
    seed: int


# ----------------------------------------------------------------------------------- steps
def init(params: Params, start: Array) -> State:
    """The state before the first run, which starts from ``start`` (clipped to the unit box)."""
    return shared.init(start)


def run_budget(params: Params, remaining: int | None, dimension: int) -> int:
    """Evaluation cap of the next run: ``max_bb_eval``, at most the ``remaining`` budget (>= 1).

    Examples
    --------
    >>> run_budget(Params(), 250, 4), run_budget(Params(max_bb_eval=100), 250, 4), run_budget(Params(), None, 4)
    (250, 100, 4000)
    """
    return shared.run_budget(params.max_bb_eval, remaining, dimension)


def ask(params: Params, state: State, draws: AskDraws, max_bb_eval: int) -> tuple[State, Run | None]:
    """The next run and the state that counts it; None (state unchanged) once restarts are spent.

    Examples
    --------
    >>> state = init(Params(), np.full(2, 0.5))
    >>> state, run = ask(Params(), state, AskDraws(np.array([0.1, 0.9]), 7), 50)
    >>> run.x0.tolist(), run.max_bb_eval, run.seed
    ([0.5, 0.5], 50, 7)
    >>> state = tell(Params(), state, run, np.array([0.2, 0.3]), 1.0, 12)  # the mesh collapsed at 12
    >>> ask(Params(), state, AskDraws(np.array([0.1, 0.9]), 8), 50)[1].x0.tolist()
    [0.1, 0.9]
    """
    fresh = np.clip(np.asarray(draws.uniforms, dtype=np.float64), 0.0, 1.0)
    x0 = shared.start_point(state, params.restarts, fresh, from_best=params.restart_from == "best")
    if x0 is None:
        return state, None
    run = Run(state.num_started, x0, int(max_bb_eval), int(draws.seed) % NOMAD_SEED_LIMIT)
    return replace(state, num_started=state.num_started + 1), run


def tell(params: Params, state: State, run: Run, best: Array | None, loss: float, num_evals: int) -> State:
    """``run`` ended at ``best`` (unit box) with ``loss`` after ``num_evals`` evaluations."""
    return shared.finish(state, run.max_bb_eval, best, loss, num_evals)


def nomad_lines(params: Params) -> tuple[str, ...]:
    """NOMAD option lines of ``params`` (then the user's ``nomad_options``, which win key by key)."""
    lines = [f"DIRECTION_TYPE {params.direction_type}",
             f"QUAD_MODEL_SEARCH {'yes' if params.quad_model else 'no'}",
             f"NM_SEARCH {'yes' if params.nm_search else 'no'}"]
    if params.initial_frame_size is not None:
        lines.append(f"INITIAL_FRAME_SIZE * {params.initial_frame_size!r}")
    if params.min_mesh_size is not None:
        lines.append(f"MIN_MESH_SIZE * {params.min_mesh_size!r}")
    keys = {o.split()[0].upper() for o in params.nomad_options}
    return tuple(line for line in lines if line.split()[0] not in keys) + params.nomad_options


# ----------------------------------------------------------------------------------- draws
def draw_ask(params: Params, dimension: int, rng: RandomLike) -> AskDraws:
    """Draws of :func:`ask`: a uniform point of the box, then a NOMAD seed."""
    uniforms = np.asarray(uniform(rng, dimension), dtype=np.float64)
    return AskDraws(uniforms, int(integers(rng, 0, NOMAD_SEED_LIMIT)))
