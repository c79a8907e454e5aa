"""optimkit.rng: one generator per run, shared between its RandomState and Generator views."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import optimkit as ok
from optimkit import errors
from optimkit.rng import SharedRandomState, as_generator, as_random_state


def test_shared_random_state_draws_as_a_legacy_random_state() -> None:
    legacy, shared = np.random.RandomState(42), SharedRandomState(42)
    assert legacy.random() == shared.random() and legacy.standard_normal(3).tolist() == shared.standard_normal(3).tolist()
    legacy.seed(7)
    shared.seed(7)
    assert legacy.randint(0, 100, 5).tolist() == shared.randint(0, 100, 5).tolist()


def test_both_views_advance_one_stream_and_seeding_moves_both() -> None:
    a, b = SharedRandomState(1), SharedRandomState(1)
    a.generator.standard_normal(4)
    b.generator.standard_normal(4)
    assert a.random() == b.random()  # the Generator's draws moved the RandomState's stream too
    a.seed(3)
    b.seed(3)
    assert as_generator(a).random() == as_generator(b).random()


@pytest.mark.parametrize("clone", [lambda r: pickle.loads(pickle.dumps(r)), copy.deepcopy])
def test_copies_keep_the_sharing(clone) -> None:  # type: ignore[no-untyped-def]
    rs = SharedRandomState(5)
    rs.standard_normal()  # leaves a cached gaussian in the legacy state
    twin = clone(rs)
    assert twin.standard_normal() == rs.standard_normal()
    twin.generator.random(3)
    rs.generator.random(3)
    assert twin.random() == rs.random()


def test_as_random_state_accepts_the_usual_seeds() -> None:
    given = np.random.RandomState(9)
    copied = as_random_state(given)
    assert isinstance(copied, SharedRandomState) and copied.random() == given.random()
    gen = np.random.default_rng(0)
    assert as_random_state(gen) is gen and as_generator(gen) is gen
    assert as_random_state(np.random.SeedSequence(4)).random() == as_random_state(np.random.SeedSequence(4)).random()
    for bad in ("1", 1.5, True, -1):
        with pytest.raises(errors.OptimkitTypeError, match="seed"):
            as_random_state(bad)
    with pytest.raises(errors.OptimkitTypeError, match="as_random_state"):
        as_generator(np.random.RandomState(0))


def test_nevergrad_style_seeding_reproduces_a_run() -> None:
    def run() -> list[float]:
        opt = ok.optimizers.registry["ANSR"](parametrization=3, budget=200)
        opt.parametrization.random_state.seed(42)
        opt.minimize(lambda x: float((x**2).sum()))
        return opt.recommend().value.tolist()

    assert run() == run()
