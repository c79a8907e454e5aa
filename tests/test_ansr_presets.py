"""ANSR presets (issue 12): budget- and dimension-aware population size, step scale and p_self."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import optimkit as ok
from optimkit.algorithms.ansr.optimizer import ANSR, ConfANSR
from optimkit.errors import OptimkitValueError

registry = ok.optimizers.registry
PRESETS = {"ANSRUnimodal": (0.12, 0.0), "ANSRMultimodal": (0.3, 0.95), "ANSRPeriodic": (0.04, 0.05)}


def sphere(x: np.ndarray) -> float:
    return float(np.sum((np.asarray(x) - 0.3) ** 2))


def expected(sigma: float, p_self: float, d: int, budget: int, workers: int = 1) -> tuple[int, float, float]:
    """The documented rule, written out again."""
    popsize = max(workers, min(max(round(budget / 200), 8), 64))
    return popsize, sigma + max(0.3 - sigma, 0) * max(1 - popsize / 64, 0), min(p_self, 1 - 1 / d)


CELLS = [(2, 2000), (5, 5000), (10, 10_000), (20, 20_000), (3, 300), (40, 1_000_000)]


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize(("d", "budget"), CELLS)
def test_preset_resolves_popsize_sigma_p_self(name: str, d: int, budget: int) -> None:
    sigma, p_self = PRESETS[name]
    opt = registry[name](ok.p.Array(shape=(d,), lower=-5, upper=5), budget=budget)
    popsize, step, follow = expected(sigma, p_self, d, budget)
    assert isinstance(opt, ANSR) and opt.popsize == popsize
    assert opt.params.sigma == pytest.approx(step, abs=1e-6) and opt.params.p_self == pytest.approx(follow)
    resolved = {"popsize": popsize, "sigma": opt.params.sigma, "p_self": follow}
    assert registry[name].resolve(d, budget) == resolved
    assert len(opt._internal_ask_batch(popsize)) == popsize  # the epoch is the resolved population


def test_rule_values_at_the_tuned_dimensions() -> None:
    uni = registry["ANSRUnimodal"]
    assert [uni.resolve(d, 1000 * d)["popsize"] for d in (2, 5, 10, 20)] == [10, 25, 50, 64]
    assert [uni.resolve(d, 1000 * d)["sigma"] for d in (2, 5, 10, 20)] == [0.271875, 0.229687, 0.159375, 0.12]
    periodic = registry["ANSRPeriodic"]
    assert [periodic.resolve(d, 1000 * d)["sigma"] for d in (2, 5, 20)] == [0.259375, 0.198438, 0.04]
    assert registry["ANSRMultimodal"].resolve(2, 2000)["sigma"] == 0.3  # already at 0.3: unchanged
    assert [registry["ANSRMultimodal"].resolve(d, 1000 * d)["p_self"] for d in (2, 5, 20)] == [0.5, 0.8, 0.95]
    assert uni.resolve(2, 100)["popsize"] == 8  # never fewer than 8 particles


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_without_budget_the_preset_keeps_the_published_population(name: str) -> None:
    sigma, p_self = PRESETS[name]
    opt = registry[name](parametrization=6)
    assert (opt.popsize, opt.params.sigma, opt.params.p_self) == (64, sigma, p_self)


def test_num_workers_get_a_particle_each() -> None:
    opt = registry["ANSRUnimodal"](parametrization=10, budget=2000, num_workers=96)
    assert opt.popsize == 96 and opt.params.sigma == 0.12  # more particles than the option: no larger step
    assert registry["ANSRUnimodal"](parametrization=10, budget=2000, num_workers=16).popsize == 16


def test_ansr_itself_keeps_the_published_defaults_whatever_the_budget() -> None:
    for budget in (None, 200, 20_000):
        opt = registry["ANSR"](parametrization=4, budget=budget)
        params = opt.params
        assert (opt.popsize, params.sigma, params.p_self, params.restart_tolerance) == (64, 0.05, 0.95, 1e-8)
    conf = ConfANSR(sigma=0.2)  # not budget-aware by default: options as given
    assert conf(parametrization=4, budget=400).popsize == 64 and "budget_aware" not in conf.config()


def test_settings_and_config_show_the_rule() -> None:
    preset = registry["ANSRPeriodic"]
    assert repr(preset) == "ANSRPeriodic" and preset.config()["budget_aware"] is True
    assert "budget_aware=True" in preset.settings and "clip(budget / 200, 8, 64)" in preset.settings
    assert "1 - 1/d" in preset.rule and ConfANSR().rule == ""
    assert repr(ConfANSR(popsize=32, budget_aware=True)) == "ConfANSR(popsize=32, budget_aware=True)"
    assert ConfANSR(budget_aware=True) != ConfANSR()


def test_budget_aware_is_validated() -> None:
    with pytest.raises(OptimkitValueError, match="budget_aware"):
        ConfANSR(budget_aware="yes")  # type: ignore[arg-type]
    with pytest.raises(OptimkitValueError, match="budget"):
        registry["ANSRUnimodal"].resolve(3, 0)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_dump_and_load_of_a_preset_continue_the_same_run(name: str, tmp_path: Path) -> None:
    preset = registry[name]
    opt = preset(ok.p.Array(shape=(3,), lower=-1, upper=1), budget=600)
    opt.parametrization.random_state.seed(3)
    for _ in range(25):
        c = opt.ask()
        opt.tell(c, sphere(c.value))
    path = tmp_path / "preset.pkl"
    opt.dump(path)
    other = preset.load(path)
    assert other.popsize == opt.popsize == 8 and other.name == name
    for _ in range(30):
        a, b = opt.ask(), other.ask()
        np.testing.assert_array_equal(a.value, b.value)
        opt.tell(a, sphere(a.value))
        other.tell(b, sphere(b.value))


def test_budget_aware_preset_beats_the_fixed_population_at_a_small_budget() -> None:
    """2-D sphere, 300 evaluations: 8 particles over 37 epochs end lower than 64 particles over 4."""
    fixed = ConfANSR(sigma=0.12, p_self=0.0)
    aware, published = [], []
    for seed in range(5):
        for conf, out in ((registry["ANSRUnimodal"], aware), (fixed, published)):
            opt = conf(ok.p.Array(shape=(2,), lower=-5, upper=5), budget=300)
            opt.parametrization.random_state.seed(seed)
            out.append(sphere(opt.minimize(sphere).value))
    assert np.median(aware) < np.median(published) / 3
