"""EA-NOMAD's earlier import path: ``optimkit.optimizers.eanomad`` (kept working).

EA-NOMAD lives in :mod:`optimkit.algorithms.eanomad`; this module re-exports its names. The four
core functions below keep their earlier signatures (``state`` before ``params``, a generator
instead of draws) and call the core in the house order ``(params, state, ...)`` with the same
draws, so code written against them gets the same results.
"""

from __future__ import annotations

from ..algorithms.eanomad import (
    DEFAULT_NOMAD_OPTIONS,
    EANOMAD,
    MAX_SUBSET,
    ConfEANOMAD,
    Params,
    State,
    Task,
    rank_weights,
)
from ..algorithms.eanomad import core as _core
from ..algorithms.eanomad.core import Array
from ..rng import RandomLike

__all__ = ["Params", "State", "Task", "DEFAULT_NOMAD_OPTIONS", "MAX_SUBSET", "init", "rank_weights", "breed",
           "plan_generation", "finish_generation", "EANOMAD", "ConfEANOMAD"]


def init(params: Params, dimension: int, rng: RandomLike, reference: Array | None = None) -> State:
    """:func:`optimkit.algorithms.eanomad.init` drawing from ``rng``."""
    return _core.init(params, _core.draw_init(params, dimension, rng), reference)


def breed(parents: Array, parent_losses: Array, params: Params, n_offspring: int, rng: RandomLike) -> Array:
    """:func:`optimkit.algorithms.eanomad.breed` drawing from ``rng``."""
    draws = _core.draw_breed(params, n_offspring, parents.shape[1], rng)
    return _core.breed(params, parents, parent_losses, draws)


def plan_generation(state: State, params: Params, rng: RandomLike) -> list[Task]:
    """:func:`optimkit.algorithms.eanomad.ask` drawing from ``rng``."""
    return _core.ask(params, state, _core.draw_ask(params, state, rng))


def finish_generation(state: State, params: Params, results: dict[int, tuple[Array, float]],
                      extra: list[tuple[Array, float]], rng: RandomLike) -> State:
    """:func:`optimkit.algorithms.eanomad.tell` drawing from ``rng``."""
    return _core.tell(params, state, results, extra, _core.draw_tell(params, state, rng))
