"""Registry lookups and ConfiguredOptimizer families."""

from __future__ import annotations

from pathlib import Path

import pytest

import optimkit as ok
from optimkit.optimizers.base import ConfiguredOptimizer


def test_registry_lookup_and_attribute() -> None:
    assert ok.optimizers.registry["RandomSearch"] is ok.optimizers.RandomSearch
    opt = ok.optimizers.registry["RandomSearch"](parametrization=4, budget=10)
    assert opt.budget == 10 and opt.dimension == 4


def test_unknown_name_lists_close_names() -> None:
    with pytest.raises(KeyError, match="RandomSearch"):
        ok.optimizers.registry["RandomSerch"]
    with pytest.raises(AttributeError):
        ok.optimizers.NotAnOptimizer  # noqa: B018


def test_configured_optimizer_config_name_repr_load(tmp_path: Path) -> None:
    conf = ok.families.ConfRandomSearch(middle_point=True)
    assert conf.config() == {"middle_point": True, "scale": 1.0, "seed": None}
    assert repr(conf) == "ConfRandomSearch(middle_point=True)"
    opt = conf(parametrization=3, budget=5)
    first = opt.ask()
    assert first.value.tolist() == [0.0, 0.0, 0.0]
    opt.tell(first, 1.0)
    assert opt.name == "ConfRandomSearch(middle_point=True)"
    conf.set_name("MiddleRandom", register=True)
    assert ok.optimizers.registry["MiddleRandom"] is conf and repr(conf) == "MiddleRandom"
    opt.dump(tmp_path / "o.pkl")
    assert conf.load(tmp_path / "o.pkl").num_ask == 1
    plain = ConfiguredOptimizer(ok.optimizers.RandomSearch, {"scale": 2.0})
    assert repr(plain) == "RandomSearch(scale=2.0)" and plain(2, 3).scale == 2.0
    assert ok.families.ConfRandomSearch(middle_point=True) == ok.families.ConfRandomSearch(middle_point=True)


def test_family_validates_at_construction_and_seeds() -> None:
    with pytest.raises(ValueError, match="scale"):
        ok.families.ConfRandomSearch(scale=-1.0)
    a = ok.families.ConfRandomSearch(seed=3)(parametrization=2, budget=5)
    b = ok.families.ConfRandomSearch(seed=3)(parametrization=2, budget=5)
    assert a.ask().value.tolist() == b.ask().value.tolist()


def test_family_equality_includes_the_class_and_compares_arrays() -> None:
    import numpy as np

    assert ConfiguredOptimizer(ok.optimizers.ANSR, {}) != ConfiguredOptimizer(ok.optimizers.XNES, {})
    assert ConfiguredOptimizer(ok.optimizers.ANSR, {}) == ConfiguredOptimizer(ok.optimizers.ANSR, {})
    a = ConfiguredOptimizer(ok.optimizers.RandomSearch, {"x": np.array([1.0, 2.0])})
    b = ConfiguredOptimizer(ok.optimizers.RandomSearch, {"x": np.array([1.0, 2.0])})
    c = ConfiguredOptimizer(ok.optimizers.RandomSearch, {"x": np.array([1.0, 3.0])})
    assert a == b and a != c and hash(a) == hash(b)
    assert len({a, b, c}) == 2
    assert ok.families.ConfANSR(sigma=0.1) != ok.families.ConfANSR(sigma=0.2)


def test_as_config_hands_the_family_to_the_class() -> None:
    class Configured(ok.optimizers.RandomSearch):
        def __init__(self, parametrization, budget=None, num_workers=1, *, config):  # type: ignore[no-untyped-def]
            super().__init__(parametrization, budget, num_workers, scale=config.config()["scale"])

    conf = ConfiguredOptimizer(Configured, {"scale": 3.0}, as_config=True)
    assert conf(2, 10).scale == 3.0
