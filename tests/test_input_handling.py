"""Issue 13, findings 13, 15 and 16: non-finite Pareto points, ``set_mutation(exponent=)``, bounds
that make no sense, and ``ParametersLogger.load_flattened`` with one column per coordinate.

The CLI's findings (14) are in ``test_cli.py``, the torch ANSR's (15) in ``test_torch_ansr.py``.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import optimkit as ok
from optimkit.core.pareto import ParetoFront, hypervolume
from optimkit.errors import OptimkitValueError

# ---------------------------------------------------------------- 13: Pareto subsets with NaN / inf


def _front_with_non_finite_points() -> ok.optimizers.base.Optimizer:
    opt = ok.optimizers.RandomSearch(parametrization=2, budget=20)
    opt.parametrization.random_state.seed(0)
    losses = [[0.0, 3.0], [1.0, 2.0], [2.0, 1.0], [3.0, 0.0], [math.inf, -1.0], [-1.0, math.nan]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ok.errors.NanLossWarning)
        for loss in losses:
            opt.tell(opt.ask(), loss)
    return opt


@pytest.mark.parametrize("subset", ["loss-covering", "hypervolume"])
def test_covering_and_hypervolume_subsets_skip_non_finite_points(subset: str) -> None:
    opt = _front_with_non_finite_points()
    assert len(opt.pareto_front()) == 6
    chosen = opt.pareto_front(size=3, subset=subset)
    assert len(chosen) == 3
    assert all(np.all(np.isfinite(c.losses)) for c in chosen)  # 4 finite points to choose from


@pytest.mark.parametrize("subset", ["random", "loss-covering", "domain-covering", "hypervolume"])
def test_subsets_fill_with_non_finite_points_only_when_needed(subset: str) -> None:
    opt = _front_with_non_finite_points()
    chosen = opt.pareto_front(size=5, subset=subset)
    assert len(chosen) == 5 and len({c.uid for c in chosen}) == 5
    if subset in ("loss-covering", "hypervolume"):
        assert sum(np.all(np.isfinite(c.losses)) for c in chosen) == 4


def test_all_points_non_finite_still_gives_a_subset() -> None:
    front = ParetoFront(2)
    for i, loss in enumerate([[math.inf, 0.0], [0.0, math.inf], [math.nan, -1.0], [-1.0, math.nan]]):
        front.add(f"c{i}", np.asarray(loss))
    rng = np.random.RandomState(0)
    for subset in ("loss-covering", "hypervolume"):
        assert len(front.select(2, subset, 12, rng, lambda c: np.zeros(1))) == 2
    assert not np.isnan(front.losses).any()  # NaN counts as +inf inside the front


def test_hypervolume_needs_a_finite_reference() -> None:
    assert hypervolume(np.array([[0.0, 1.0], [1.0, 0.0], [math.nan, 0.0]]), np.array([2.0, 2.0])) == 3.0
    with pytest.raises(OptimkitValueError, match="reference must be finite"):
        hypervolume(np.array([[0.0, 1.0]]), np.array([math.inf, 2.0]))


# ---------------------------------------------------------------- 15: set_mutation(exponent=) and bounds


def test_exponent_makes_steps_multiplicative_as_nevergrad() -> None:
    x = ok.p.Array(init=[1.0, 4.0]).set_mutation(exponent=2.0)
    assert x.value.tolist() == [1.0, 4.0]
    child = x.spawn_child().set_standardized_data([1.0, -1.0])
    np.testing.assert_allclose(child.value, [2.0, 2.0])  # x2 and /2: nevergrad gives the same
    half = ok.p.Array(init=[1.0, 4.0]).set_mutation(sigma=0.5, exponent=2.0)
    np.testing.assert_allclose(half.spawn_child().set_standardized_data([1.0, -1.0]).value, [2**0.5, 4 / 2**0.5])
    scalar = ok.p.Scalar(init=3.0).set_mutation(exponent=10.0)
    assert scalar.spawn_child().set_standardized_data([1.0]).value == pytest.approx(30.0)
    np.testing.assert_allclose(child.get_standardized_data(reference=x), [1.0, -1.0])


def test_exponent_keeps_bounds_in_value_space_and_samples_log_uniform() -> None:
    x = ok.p.Array(init=[1.0, 4.0]).set_bounds(0.5, 8.0).set_mutation(exponent=2.0)
    np.testing.assert_allclose(x.spawn_child().set_standardized_data([10.0, -10.0]).value, [8.0, 0.5])
    x.random_state.seed(0)
    samples = np.array([x.sample().value for _ in range(400)])
    assert samples.min() >= 0.5 and samples.max() <= 8.0
    assert np.median(samples) == pytest.approx(2.0, rel=0.15)  # geometric middle of [0.5, 8]


def test_exponent_is_used_by_an_optimizer() -> None:
    param = ok.p.Array(init=[1.0, 1.0]).set_bounds(1e-3, 1e3).set_mutation(exponent=10.0)
    opt = ok.optimizers.XNES(parametrization=param, budget=300)
    opt.parametrization.random_state.seed(0)
    asked: list[float] = []
    rec = opt.minimize(lambda v: asked.extend(v.tolist()) or float(np.sum(np.log10(v / 30.0) ** 2)))
    np.testing.assert_allclose(rec.value, [30.0, 30.0], rtol=1e-3)
    assert min(asked) > 0.0 and max(asked) / min(asked) > 100  # multiplicative steps over decades


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ok.p.Array(init=[1.0]).set_mutation(exponent=1.0), r"exponent.*\(1, inf\)"),
        (lambda: ok.p.Array(init=[1.0]).set_mutation(exponent=0.5), r"exponent.*\(1, inf\)"),
        (lambda: ok.p.Array(init=[1.0]).set_mutation(exponent=math.inf), r"exponent.*\(1, inf\)"),
        (lambda: ok.p.Array(init=[-1.0, 4.0]).set_mutation(exponent=2.0), "positive value"),
        (lambda: ok.p.Array(init=[1.0]).set_bounds(-1.0, 2.0).set_mutation(exponent=2.0), "positive bounds"),
        (lambda: ok.p.Log(init=1.0).set_mutation(exponent=3.0), "already logarithmic"),
        (lambda: ok.p.Array(init=[1.0]).set_mutation(exponent=2.0).set_mutation(exponent=3.0), "already logarithmic"),
    ],
)
def test_bad_exponent_raises_naming_it_and_changes_nothing(make, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(OptimkitValueError, match=match):
        make()
    x = ok.p.Array(init=[1.0, 2.0])
    with pytest.raises(OptimkitValueError):
        x.set_mutation(sigma=3.0, exponent=0.5)
    assert x.sigma == 1.0 and x.spawn_child().set_standardized_data([1.0, 1.0]).value.tolist() == [2.0, 3.0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"lower": math.inf}, "lower must be a finite number"),
        ({"upper": -math.inf}, "upper must be a finite number"),
        ({"lower": math.nan}, "lower must be a finite number"),
        ({"lower": 1.0, "upper": 1.0}, "lower must be < upper"),
        ({"lower": 2.0, "upper": 1.0}, "lower must be < upper"),
        ({"lower": [0.0, 3.0], "upper": 2.0}, "lower must be < upper"),
        ({"lower": "a"}, "lower and upper must be None, numbers"),
    ],
)
def test_nonsense_bounds_raise_naming_the_option(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(OptimkitValueError, match=match):
        ok.p.Array(shape=(2,), **kwargs)


def test_one_sided_infinite_bounds_mean_no_bound() -> None:
    assert ok.p.Array(shape=(2,), lower=-math.inf, upper=math.inf).bounds == (None, None)
    x = ok.p.Array(shape=(2,), lower=[0.0, -math.inf], upper=1.0)
    x.random_state.seed(0)
    samples = np.array([x.sample().value for _ in range(200)])
    assert np.all(np.isfinite(samples)) and samples[:, 0].min() >= 0.0 and samples.max() <= 1.0
    with pytest.raises(OptimkitValueError, match="needs finite lower and upper bounds"):
        ok.p.Array(shape=(2,)).set_bounds([0.0, -math.inf], 1.0, method="tanh")


# ---------------------------------------------------------------- 16: one column per coordinate


def test_load_flattened_has_one_column_per_coordinate_as_nevergrad(tmp_path: Path) -> None:
    inst = ok.p.Instrumentation(ok.p.Array(shape=(30,)), ok.p.Choice(["a", "b"]), "constant",
                                w=ok.p.Array(shape=(2, 2)), lr=ok.p.Log(lower=1e-3, upper=1.0))
    opt = ok.optimizers.RandomSearch(parametrization=inst, budget=4, seed=0)
    logger = ok.callbacks.ParametersLogger(tmp_path / "log.jsonl")
    opt.register_callback("tell", logger)
    opt.minimize(lambda x, choice, const, w, lr: float(np.sum(x**2) + lr))
    raw = logger.load()[0]
    assert isinstance(raw["0"], list) and raw["1"] in ("a", "b") and isinstance(raw["lr"], float)
    rows = logger.load_flattened()
    assert len(rows) == 4
    for row in rows:
        assert not any(isinstance(v, (list, dict)) for v in row.values())
    row = rows[0]
    # nevergrad's names: parameter path, then "#i" (or "#i_j") per coordinate, 24 at most
    assert [f"0#{i}" for i in range(24)] == [k for k in row if k.startswith("0#") and k != "0#sigma"]
    assert {"w#0_0", "w#0_1", "w#1_0", "w#1_1", "lr", "lr#sigma", "1", "0#sigma"} <= set(row)
    assert row["w#1_0"] == raw["w"][1][0] and row["0#3"] == raw["0"][3]
    assert isinstance(row["#lineage"], str)
    assert len([k for k in logger.load_flattened(max_list_elements=30)[0] if k.startswith("0#")]) == 31
    with pytest.raises(OptimkitValueError, match="max_list_elements"):
        logger.load_flattened(max_list_elements=-1)


def test_load_flattened_splits_lists_of_older_logs(tmp_path: Path) -> None:
    path = tmp_path / "old.jsonl"
    path.write_text(json.dumps({"#loss": 1.0, "#lineage": ["3"], "#parents_uids": ["3", "4"], "#value": [1.0, 2.0]}) + "\n")
    row = ok.callbacks.ParametersLogger(path).load_flattened()[0]
    assert row == {"#loss": 1.0, "#lineage#0": "3", "#parents_uids#0": "3", "#parents_uids#1": "4",
                   "#value#0": 1.0, "#value#1": 2.0}
