"""Auto: each rule fires, and it is never worse than RandomSearch at equal budget on cheap cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import optimkit as ok
from optimkit.algorithms import auto as auto_module
from optimkit.functions import FUNCTIONS
from optimkit.optimizers.auto import choose

needs_nomad = pytest.mark.skipif(not auto_module._available("NOMAD"), reason="needs PyNomad (the nomad extra)")
needs_cma = pytest.mark.skipif(not auto_module._available("CMA"), reason="needs cmaes (the cma extra)")
needs_nlopt = pytest.mark.skipif(not auto_module._available("BOBYQA"), reason="needs nlopt (the nlopt extra)")
chain = [needs_nlopt, needs_cma]


@pytest.mark.parametrize(
    "param, budget, workers, expected",
    [
        (ok.p.Instrumentation(ok.p.Choice(["a", "b"]), x=ok.p.Scalar()), 100, 1, "SNES"),
        (ok.p.Array(shape=(10,)), 10_000, 32, "ANSRUnimodal"),
        pytest.param(ok.p.Array(init=np.full(10, 0.3), lower=-1, upper=1), 200, 1, "EANOMADHybrid", marks=needs_nomad),
        (ok.p.Array(shape=(1000,)), 10_000, 1, "ANSRUnimodal"),
        pytest.param(ok.p.Array(shape=(10,), lower=-5, upper=5), 10_000, 1, "BOBYQA>CMA", marks=chain),
        pytest.param(ok.p.Array(shape=(10,)), None, 1, "BOBYQA>CMA", marks=chain),
        pytest.param(ok.p.Array(shape=(2,), lower=-5, upper=5), 2000, 1, "BOBYQA>CMA", marks=chain),
        pytest.param(ok.p.Array(shape=(1,), lower=0, upper=1), None, 1, "BOBYQA>CMA", marks=chain),
        pytest.param(ok.p.Array(shape=(2,), lower=-5, upper=5), 2000, 4, "CMA", marks=needs_cma),  # BOBYQA's extra asks: random
        pytest.param(ok.p.Array(shape=(20,), lower=-5, upper=5), 20_000, 1, "BOBYQA>CMA", marks=chain),
        pytest.param(ok.p.Array(shape=(21,), lower=-5, upper=5), 21_000, 1, "CMA", marks=needs_cma),
        pytest.param(ok.p.Array(shape=(100,)), 1000, 8, "CMA", marks=needs_cma),
        pytest.param(ok.p.Array(shape=(5,), lower=0, upper=9).set_integer_casting(), 5000, 1, "CMA", marks=needs_cma),
        pytest.param(ok.p.Instrumentation(x=ok.p.Array(shape=(3,), lower=-5, upper=5),
                                          n=ok.p.Scalar(lower=1, upper=8).set_integer_casting()), 4000, 1, "CMA",
                     marks=needs_cma),  # rounded coordinates: no quadratic-model phase
    ],
)
def test_each_rule_fires(param, budget, workers, expected) -> None:  # type: ignore[no-untyped-def]
    name, reason = choose(param, budget, workers)
    assert name == expected and reason
    opt = ok.optimizers.Auto(parametrization=param, budget=budget, num_workers=workers)
    assert opt.choice == expected and opt.name == f"Auto({expected})"
    first = expected.split(">")[0]
    assert type(opt.optimizer).__name__ == {"ANSRUnimodal": "ANSR", "EANOMADHybrid": "EANOMAD"}.get(first, first)


def _without(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    """Auto as if the optimizers ``names`` were not installed."""
    real = auto_module._available
    monkeypatch.setattr(auto_module, "_available", lambda name: name not in names and real(name))


@needs_nomad
def test_nomad_alone_without_cmaes(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, "CMA")
    opt = ok.optimizers.Auto(parametrization=ok.p.Array(shape=(2,), lower=-5, upper=5), budget=500)
    assert opt.choice == "NOMAD" and opt._switch_at is None


@needs_nomad
@needs_cma
def test_nomad_takes_the_first_phase_without_nlopt_up_to_dimension_5(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, "BOBYQA")
    assert choose(ok.p.Array(shape=(5,), lower=-5, upper=5), 5000, 1)[0] == "NOMAD>CMA"
    assert choose(ok.p.Array(shape=(6,), lower=-5, upper=5), 6000, 1)[0] == "CMA"


@needs_cma
def test_falls_back_to_cma_without_nlopt_and_pynomad(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, "NOMAD", "BOBYQA")
    assert choose(ok.p.Array(shape=(2,), lower=-5, upper=5), 2000, 1)[0] == "CMA"


def _shifted_sphere(x: np.ndarray) -> float:
    return float(((np.asarray(x) - 1.0) ** 2).sum())


@needs_cma
@pytest.mark.parametrize("first", [pytest.param("BOBYQA", marks=needs_nlopt), pytest.param("NOMAD", marks=needs_nomad)])
def test_chain_hands_over_to_cma_from_the_first_phases_best_point(first: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if first == "NOMAD":
        _without(monkeypatch, "BOBYQA")
    opt = ok.optimizers.Auto(parametrization=ok.p.Array(shape=(2,), lower=-5, upper=5), budget=260)
    assert opt.choice == f"{first}>CMA"
    opt.parametrization.random_state.seed(0)
    switch = auto_module.FIRST_PHASE * 2
    for _ in range(switch - 1):
        cand = opt.ask()
        opt.tell(cand, _shifted_sphere(cand.value))
    assert type(opt.optimizer).__name__ == first
    late, last = opt.ask(), opt.ask()  # two asked by the first phase; the first tell hands over
    opt.tell(last, _shifted_sphere(last.value))
    cma = opt.optimizer
    assert type(cma).__name__ == "CMA" and cma.budget == 260 - switch
    assert cma._params.bound_handling == "adaptive"  # CMA's default: resamples until a run stops pressed on the box
    np.testing.assert_allclose(cma._space.mean, opt.parametrization.spawn_child(
        new_value=opt.recommend().value).get_standardized_data(reference=opt.parametrization), atol=1e-9)
    opt.tell(late, _shifted_sphere(late.value))  # asked by the first phase, told to CMA as tell-not-asked
    assert cma.num_tell_not_asked == 1 and opt.num_tell == switch + 1
    best = opt.recommend().loss
    rec = opt.minimize(_shifted_sphere)
    assert opt.num_tell == 260 and rec.loss <= best and rec.loss < 1e-3


@needs_cma
@pytest.mark.parametrize("first", [pytest.param("BOBYQA", marks=needs_nlopt), pytest.param("NOMAD", marks=needs_nomad)])
def test_chain_batches_and_dump_load_across_the_hand_over(first: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if first == "NOMAD":
        _without(monkeypatch, "BOBYQA")

    def make() -> ok.optimizers.Auto:
        opt = ok.optimizers.Auto(parametrization=ok.p.Array(shape=(2,), lower=-5, upper=5), budget=300)
        opt.parametrization.random_state.seed(3)
        return opt

    batch = make()
    while batch.num_tell < 300:
        rows = batch.ask_data(min(batch.preferred_batch_size, 300 - batch.num_tell))
        batch.tell_data(rows, np.array([_shifted_sphere(v) for v in batch.values_of(rows)]))
    assert batch.choice == f"{first}>CMA" and batch._phase == 1 and batch.num_tell == 300
    opt = make()
    for _ in range(190):
        cand = opt.ask()
        opt.tell(cand, _shifted_sphere(cand.value))
    opt.dump(tmp_path / "auto.pkl")
    loaded = ok.optimizers.Auto.load(tmp_path / "auto.pkl")
    for _ in range(30):  # crosses the hand-over at 200 tells
        a, b = opt.ask(), loaded.ask()
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))
        opt.tell(a, _shifted_sphere(a.value))
        loaded.tell(b, _shifted_sphere(b.value))
    assert type(opt.optimizer).__name__ == type(loaded.optimizer).__name__ == "CMA"
    opt.close()
    loaded.close()


def test_falls_back_to_xnes_without_cmaes(monkeypatch: pytest.MonkeyPatch) -> None:
    _without(monkeypatch, "CMA")
    opt = ok.optimizers.Auto(parametrization=ok.p.Array(shape=(8,), lower=-5, upper=5), budget=500)
    assert opt.choice == "XNES" and "not installed" in opt.reason
    assert type(opt.optimizer).__name__ == "XNES"


@needs_cma
def test_continuous_choice_restarts_and_spends_its_budget() -> None:
    """The continuous rule's optimizer keeps improving on a multimodal function (restarts)."""
    fn, bound = FUNCTIONS["rastrigin"]
    opt = ok.optimizers.Auto(parametrization=ok.p.Array(shape=(3,), lower=-bound, upper=bound), budget=3000)
    opt.parametrization.random_state.seed(0)
    opt.minimize(fn)
    assert opt.num_tell == 3000
    assert fn(opt.provide_recommendation().value) < 1.0


@pytest.mark.parametrize("function, dim, budget", [("sphere", 3, 300), ("rastrigin", 8, 800), ("rosenbrock", 8, 800)])
def test_auto_not_worse_than_random_search(function: str, dim: int, budget: int) -> None:
    fn, bound = FUNCTIONS[function]
    results: dict[str, list[float]] = {"Auto": [], "RandomSearch": []}
    for name in results:
        for seed in range(3):
            opt = ok.optimizers.registry[name](
                parametrization=ok.p.Array(shape=(dim,), lower=-bound, upper=bound), budget=budget
            )
            opt.parametrization.random_state.seed(seed)
            results[name].append(fn(opt.minimize(fn).value))
    assert np.median(results["Auto"]) <= np.median(results["RandomSearch"])


def _auto_2d(param: object, budget: int | None, num_workers: int) -> ok.optimizers.Auto:
    """Auto on a 2-D box whatever the contract check asks for: the chain's rule."""
    return ok.optimizers.Auto(parametrization=ok.p.Array(shape=(2,), lower=-2, upper=2), budget=budget,
                              num_workers=num_workers)


@pytest.mark.parametrize("check", ["check_reproducible", "check_dump_load_continues", "check_objective_raises"])
@pytest.mark.parametrize("first", [pytest.param("BOBYQA", marks=chain), pytest.param("NOMAD", marks=[needs_nomad, needs_cma])])
def test_contract_of_the_chain(check: str, first: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from optimkit.testing import contract

    if first == "NOMAD":
        _without(monkeypatch, "BOBYQA")
    assert _auto_2d(None, 100, 1).choice == f"{first}>CMA"
    getattr(contract, check)(_auto_2d)
