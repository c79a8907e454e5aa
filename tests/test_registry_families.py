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
