"""BOBYQA with restarts: Powell's bounded trust-region method with quadratic models, run after run.

Positions live in the unit box ``[0, 1]^d`` (the same box as NOMAD's, ANSR's and EA-NOMAD's). One
run is a BOBYQA search (NLopt's ``LN_BOBYQA``) from a start point with a trust region of radius
``rho_begin`` (a fraction of the box's width) that shrinks to ``rho_end``, where the run ends by
itself; or after ``max_evals`` evaluations. Then the next run starts:

1. :func:`init`: the state, with the first start point (the parametrization's value, or ``x0``);
2. :func:`ask`: plans the next run (:class:`Run`): the first start point; after a run cut by its
   ``max_evals`` (not converged), its best point with a fresh trust region; after a converged
   run, a uniform random point of the box shrunk by ``margin`` of its width on each side; None
   once ``restarts`` restarts are spent;
3. :func:`tell`: takes a finished run's best point, loss and evaluation count.

The runs themselves (NLopt, turned inside out by :mod:`.loop`) happen outside this module. Every
function here is pure and takes ``(params, state, ...)``; the random draws come in as arguments
(:func:`draw_ask` makes them from a generator). Everything minimizes.

References
----------
Powell (2009). The BOBYQA algorithm for bound constrained optimization without derivatives.
Technical report DAMTP 2009/NA06, University of Cambridge.
Johnson. The NLopt nonlinear-optimization package, https://github.com/stevengj/nlopt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ...rng import RandomLike, uniform
from ...validation import check_int, check_real
from .. import restarts as shared
from ..restarts import State

__all__ = ["Params", "State", "Run", "AskDraws", "init", "ask", "tell", "draw_ask", "run_budget", "model_loss"]

Array = NDArray[np.float64]

#: The loss BOBYQA is given for a non-finite loss before the run has seen a finite one.
FIRST_FAILURE_LOSS = 1e30


@dataclass(frozen=True)
class Params:
    """BOBYQA options, validated at construction (each error names the option and its range).

    Parameters
    ----------
    rho_begin : float in (0, 0.5]
        Initial trust-region radius, as a fraction of the box's width along each coordinate
        (Powell's ``RHOBEG``). 0.35, from the bbob runs of ``docs/optimizers/bobyqa.md``.
    rho_end : float in (0, rho_begin)
        Trust-region radius at which a run has converged and the next one starts (``RHOEND``,
        NLopt's ``xtol_abs``), as a fraction of the box's width.
    max_evals : int >= 1 or None
        Evaluations per run; None: the rest of the budget (1000 per dimension without a budget).
        A run that spends it goes on from its best point.
    restarts : int >= 0 or math.inf
        Runs after the first; ``math.inf``: restart until the budget is spent.
    margin : float in [0, 0.5)
        A random restart starts uniformly in the box shrunk by this fraction of its width on each
        side.
    bound : float > 0
        Half-width of the standardized box of coordinates without bounds.

    Examples
    --------
    >>> Params().restarts, Params(rho_begin=0.2).rho_begin
    (inf, 0.2)
    """

    rho_begin: float = 0.35
    rho_end: float = 1e-10
    max_evals: int | None = None
    restarts: float = math.inf
    margin: float = 0.1
    bound: float = 10.0

    def __post_init__(self) -> None:
        checked: dict[str, Any] = {"rho_begin": check_real("rho_begin", self.rho_begin, 0.0, 0.5, low_open=True)}
        checked["rho_end"] = check_real("rho_end", self.rho_end, 0.0, checked["rho_begin"], low_open=True,
                                        high_open=True)
        if self.max_evals is not None:
            checked["max_evals"] = check_int("max_evals", self.max_evals, 1)
        checked["restarts"] = shared.check_restarts(self.restarts)
        checked["margin"] = check_real("margin", self.margin, 0.0, 0.5, high_open=True)
        checked["bound"] = check_real("bound", self.bound, 0.0, low_open=True)
        for name, value in checked.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Run:
    """One planned BOBYQA run: its key (the run's number), start point and evaluation cap."""

    key: int
    x0: Array
    max_evals: int


class AskDraws(NamedTuple):
    """Draws of :func:`ask`: a uniform point of ``[0, 1)^d`` (a random restart's start), drawn for
    every run, used or not."""

    uniforms: Array


# ----------------------------------------------------------------------------------- steps
def init(params: Params, start: Array) -> State:
    """The state before the first run, which starts from ``start`` (clipped to the unit box)."""
    return shared.init(start)


def run_budget(params: Params, remaining: int | None, dimension: int) -> int:
    """Evaluation cap of the next run: ``max_evals``, at most the ``remaining`` budget (>= 1).

    Examples
    --------
    >>> run_budget(Params(), 250, 4), run_budget(Params(max_evals=100), 250, 4), run_budget(Params(), None, 4)
    (250, 100, 4000)
    """
    return shared.run_budget(params.max_evals, remaining, dimension)


def ask(params: Params, state: State, draws: AskDraws, max_evals: int) -> tuple[State, Run | None]:
    """The next run and the state that counts it; None (state unchanged) once restarts are spent.

    Examples
    --------
    >>> state = init(Params(), np.full(2, 0.5))
    >>> state, run = ask(Params(), state, AskDraws(np.array([0.0, 1.0])), 50)
    >>> run.x0.tolist(), run.max_evals
    ([0.5, 0.5], 50)
    >>> state = tell(Params(), state, run, np.array([0.2, 0.3]), 1.0, 12)  # converged after 12
    >>> ask(Params(), state, AskDraws(np.array([0.0, 1.0])), 50)[1].x0.tolist()
    [0.1, 0.9]
    """
    u = np.clip(np.asarray(draws.uniforms, dtype=np.float64), 0.0, 1.0)
    x0 = shared.start_point(state, params.restarts, params.margin + (1.0 - 2.0 * params.margin) * u)
    if x0 is None:
        return state, None
    run = Run(state.num_started, x0, int(max_evals))
    return replace(state, num_started=state.num_started + 1), run


def tell(params: Params, state: State, run: Run, best: Array | None, loss: float, num_evals: int) -> State:
    """``run`` ended at ``best`` (unit box) with ``loss`` after ``num_evals`` evaluations."""
    return shared.finish(state, run.max_evals, best, loss, num_evals)


def model_loss(loss: float, worst: float) -> float:
    """The loss BOBYQA's model is given: ``loss`` when finite, else the worst finite loss of the run
    so far (``worst``; :data:`FIRST_FAILURE_LOSS` before any), so that a failed evaluation reads as
    a plateau at the run's worst and never poisons the quadratic model with NaN or infinity.

    Examples
    --------
    >>> model_loss(2.0, 5.0), model_loss(float("nan"), 5.0), model_loss(float("inf"), -math.inf)
    (2.0, 5.0, 1e+30)
    """
    if math.isfinite(loss):
        return float(loss)
    return float(worst) if math.isfinite(worst) else FIRST_FAILURE_LOSS


# ----------------------------------------------------------------------------------- draws
def draw_ask(params: Params, dimension: int, rng: RandomLike) -> AskDraws:
    """Draws of :func:`ask`: a uniform point of ``[0, 1)^d``."""
    return AskDraws(np.asarray(uniform(rng, dimension), dtype=np.float64))
