"""Restarted local runs in the unit box: the bookkeeping the cores of ``NOMAD`` (:mod:`.mads`) and
``BOBYQA`` (:mod:`.bobyqa`) share, written once.

A run is a local search from a start point with an evaluation cap. The first run starts from the
first start point; after a run cut by its cap (not converged), the next one goes on from the best
point so far; otherwise each algorithm picks a fresh start (a random point, or the best point with
``from_best``). Every function here is pure; everything minimizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..validation import check_int

__all__ = ["UNBUDGETED_EVALS_PER_DIM", "State", "check_restarts", "init", "run_budget", "start_point", "finish",
           "note_best", "state_from_plain"]

Array = NDArray[np.float64]

#: Evaluations per run without a budget (and without a per-run cap), per dimension.
UNBUDGETED_EVALS_PER_DIM = 1000


@dataclass
class State:
    """Where the restarts stand: the first start point, runs started and finished, the best point
    (unit box) and loss so far, and whether the last finished run ended on its evaluation cap."""

    start: Array
    num_started: int = 0
    num_finished: int = 0
    best: Array | None = None
    best_loss: float = math.inf
    resume: bool = False


def check_restarts(value: Any) -> float:
    """``restarts`` checked: an int >= 0, or ``math.inf`` (restart until the budget is spent)."""
    if isinstance(value, float) and math.isinf(value) and value > 0:
        return math.inf
    try:
        return check_int("restarts", value, 0)
    except ValueError as exc:
        raise type(exc)(f"{exc} (or math.inf: restart until the budget is spent)") from None


def init(start: Array) -> State:
    """The state before the first run, which starts from ``start`` (clipped to the unit box)."""
    return State(np.clip(np.asarray(start, dtype=np.float64), 0.0, 1.0))


def run_budget(max_evals: int | None, remaining: int | None, dimension: int) -> int:
    """Evaluation cap of the next run: ``max_evals``, at most the ``remaining`` budget (>= 1); without
    ``max_evals``, the rest of the budget (:data:`UNBUDGETED_EVALS_PER_DIM` per dimension without one).

    Examples
    --------
    >>> run_budget(None, 250, 4), run_budget(100, 250, 4), run_budget(None, None, 4)
    (250, 100, 4000)
    """
    cap = max_evals if max_evals is not None else UNBUDGETED_EVALS_PER_DIM * dimension
    if remaining is not None:
        cap = min(cap, remaining) if max_evals is not None else remaining
    return max(1, int(cap))


def start_point(state: State, restarts: float, fresh: Array, from_best: bool = False) -> Array | None:
    """The next run's start: None once ``restarts`` restarts are spent; the first start point; the best
    point after a run cut by its cap (or after any run, ``from_best``); else ``fresh``.

    Examples
    --------
    >>> state = init(np.full(2, 0.5))
    >>> start_point(state, math.inf, np.zeros(2)).tolist()
    [0.5, 0.5]
    >>> state = finish(replace(state, num_started=1), 40, np.array([0.2, 0.3]), 1.0, 12)  # converged at 12
    >>> start_point(state, math.inf, np.zeros(2)).tolist(), start_point(state, 0, np.zeros(2))
    ([0.0, 0.0], None)
    """
    if state.num_started > restarts:
        return None
    if state.num_started == 0:
        x0 = state.start
    elif state.best is not None and (state.resume or from_best):
        x0 = state.best
    else:
        x0 = fresh
    return np.array(x0, dtype=np.float64)


def finish(state: State, cap: int, best: Array | None, loss: float, num_evals: int) -> State:
    """A run with evaluation cap ``cap`` ended at ``best`` (unit box) with ``loss`` after ``num_evals``."""
    new = replace(state, num_finished=state.num_finished + 1, resume=num_evals >= cap)
    if best is not None and loss < state.best_loss:
        new.best, new.best_loss = np.asarray(best, dtype=np.float64).copy(), float(loss)
    return new


def note_best(state: State, unit: Array, loss: float) -> None:
    """Keep ``unit`` as the best point (in place) when ``loss`` beats the best so far."""
    if loss < state.best_loss:
        state.best, state.best_loss = np.array(unit, dtype=np.float64), float(loss)


def state_from_plain(plain: dict[str, Any]) -> State:
    """The :class:`State` of a dump (``dataclasses.asdict`` of one)."""
    return State(np.asarray(plain["start"], dtype=np.float64), int(plain["num_started"]), int(plain["num_finished"]),
                 None if plain["best"] is None else np.asarray(plain["best"], dtype=np.float64),
                 float(plain["best_loss"]), bool(plain["resume"]))
