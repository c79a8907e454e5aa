"""Auto: each rule fires, and it is never worse than RandomSearch at equal budget on cheap cases."""

from __future__ import annotations

import numpy as np
import pytest

import optimkit as ok
from optimkit.functions import FUNCTIONS
from optimkit.optimizers.auto import choose


@pytest.mark.parametrize(
    "param, budget, workers, expected",
    [
        (ok.p.Instrumentation(ok.p.Choice(["a", "b"]), x=ok.p.Scalar()), 100, 1, "SNES"),
        (ok.p.Array(shape=(10,)), 10_000, 32, "ANSRUnimodal"),
        (ok.p.Array(init=np.full(10, 0.3), lower=-1, upper=1), 200, 1, "EANOMADHybrid"),
        (ok.p.Array(shape=(1000,)), 10_000, 1, "ANSRUnimodal"),
        (ok.p.Array(shape=(10,)), 10_000, 1, "XNES"),
        (ok.p.Array(shape=(10,)), None, 1, "XNES"),
        (ok.p.Array(shape=(10,)), 1000, 1, "SNES"),
    ],
)
def test_each_rule_fires(param, budget, workers, expected) -> None:  # type: ignore[no-untyped-def]
    name, reason = choose(param, budget, workers)
    assert name == expected and reason
    opt = ok.optimizers.Auto(parametrization=param, budget=budget, num_workers=workers)
    assert opt.choice == expected and opt.name == f"Auto({expected})"
    assert type(opt.optimizer).__name__ == {"ANSRUnimodal": "ANSR", "EANOMADHybrid": "EANOMAD"}.get(expected, expected)


@pytest.mark.parametrize("function, dim, budget", [("sphere", 4, 400), ("rastrigin", 4, 600), ("rosenbrock", 4, 600)])
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
