"""optimkit.integrations.tune: the search-space conversion and the searcher's bookkeeping without
Ray running, then real ``tune.Tuner(...).fit()`` runs on a local Ray with 2 CPUs: two trials at
once, an erroring trial, ASHA stopping trials, and a restore after an interrupted experiment
(ray#30861: the restored searcher must keep using the optimizer).

Ray is started once for the module. Trainables live in this module, which Ray workers cannot
import, so the module is pickled by value.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("ray.tune")
pytestmark = pytest.mark.tune

import ray  # noqa: E402
from ray import tune  # noqa: E402
from ray.tune import Callback  # noqa: E402
from ray.tune.experiment import Trial  # noqa: E402
from ray.tune.schedulers import ASHAScheduler  # noqa: E402

import optimkit as ok  # noqa: E402
from optimkit.errors import (  # noqa: E402
    LoadError,
    OptimkitRuntimeError,
    OptimkitValueError,
    UnsupportedParametrizationError,
)
from optimkit.integrations.tune import OptimkitSearch, convert_search_space  # noqa: E402

ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])


# ---------------------------------------------------------------------------- no Ray running
def _samples(space: Any, n: int = 400) -> list[dict[str, Any]]:
    conv = convert_search_space(space)
    param = conv.parametrization
    param.random_state.seed(0)
    return [conv.to_config(param.sample().value) for _ in range(n)]


def test_space_conversion_covers_what_tune_samples() -> None:
    space = {
        "lr": tune.loguniform(1e-4, 1e-1),
        "x": tune.uniform(-2.0, 3.0),
        "q": tune.quniform(0.0, 1.0, 0.25),
        "n": tune.randint(1, 4),
        "m": tune.qrandint(0, 10, 5),
        "w": tune.lograndint(1, 100),
        "g": tune.qloguniform(0.1, 10.0, 0.1),
        "z": tune.randn(1.0, 2.0),
        "act": tune.choice(["relu", "tanh"]),
        "model": {"depth": tune.randint(2, 5), "name": "mlp"},
        "const": 7,
    }
    conv = convert_search_space(space)
    assert conv.parametrization.dimension == 11  # 9 scalars + a 2-way choice
    configs = _samples(space)
    assert {c["n"] for c in configs} == {1, 2, 3}  # randint: upper bound exclusive
    assert {c["m"] for c in configs} == {0, 5, 10}  # qrandint, q > 1: upper bound inclusive
    assert {c["q"] for c in configs} == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert {c["act"] for c in configs} == {"relu", "tanh"}
    assert {c["model"]["depth"] for c in configs} == {2, 3, 4}
    assert all(isinstance(c["n"], int) and isinstance(c["w"], int) and isinstance(c["m"], int) for c in configs)
    assert all(1e-4 <= c["lr"] <= 1e-1 and -2.0 <= c["x"] <= 3.0 and 1 <= c["w"] <= 99 for c in configs)
    assert all(0.1 <= c["g"] <= 10.0 and round(c["g"] * 10) == pytest.approx(c["g"] * 10) for c in configs)
    assert all(c["const"] == 7 and c["model"]["name"] == "mlp" for c in configs)
    assert len({c["z"] for c in configs}) > 300  # randn: continuous, unbounded
    # a config goes back to the parametrization's value, nested or flattened as Tune's results are
    first = configs[0]
    assert conv.to_config(conv.from_config(first)) == first
    flat = {"model/depth": first["model"]["depth"], "model/name": "mlp", **{k: v for k, v in first.items() if k != "model"}}
    assert conv.to_config(conv.from_config(flat)) == first


@pytest.mark.parametrize(
    ("space", "what"),
    [
        ({"a": tune.grid_search([1, 2])}, "grid_search"),
        ({"a": tune.sample_from(lambda spec: 1)}, "sample_from"),
        ({"nested": {"a": [tune.uniform(0, 1), 2]}}, "list"),
        ({"a": tune.choice([{"b": tune.uniform(0, 1)}, 3])}, "conditional"),
    ],
)
def test_unsupported_space_names_the_parameter_and_the_supported_types(space: Any, what: str) -> None:
    with pytest.raises(UnsupportedParametrizationError) as info:
        convert_search_space(space)
    message = str(info.value)
    assert what in message and "tune.uniform" in message and "tune.choice" in message
    assert ("nested/a" if "nested" in space else "'a'") in message
    with pytest.raises(ValueError):  # optimkit errors are builtin errors too
        OptimkitSearch("RandomSearch", space=space)


def test_bad_arguments_raise_clear_errors() -> None:
    with pytest.raises(OptimkitValueError, match="mode"):
        OptimkitSearch(mode="maximize")
    with pytest.raises(OptimkitValueError, match="on_error"):
        OptimkitSearch(on_error="ignore")
    with pytest.raises(OptimkitValueError, match="NotAnOptimizer"):
        OptimkitSearch("NotAnOptimizer")
    with pytest.raises(TypeError, match="points_to_evaluate"):
        OptimkitSearch(points_to_evaluate={"x": 1})
    with pytest.raises(OptimkitRuntimeError, match="no search space"):
        OptimkitSearch(metric="loss", mode="min").suggest("t")
    with pytest.raises(OptimkitRuntimeError, match="no mode"):
        OptimkitSearch(space={"x": tune.uniform(0, 1)}).suggest("t")
    searcher = OptimkitSearch(space={"x": tune.uniform(0, 1)}, mode="min")
    with pytest.raises(OptimkitValueError, match="disagrees"):
        searcher.set_search_properties(None, "max", {})


def test_searcher_negates_max_suggests_points_first_and_names_a_missing_metric() -> None:
    points = [{"x": 0.5, "act": "tanh"}, {"x": -1.0, "act": "relu"}]
    searcher = OptimkitSearch(
        "RandomSearch", space={"x": tune.uniform(-2, 2), "act": tune.choice(["relu", "tanh"])},
        metric="acc", mode="max", points_to_evaluate=points, budget=10, seed=0,
    )
    assert [searcher.suggest("a"), searcher.suggest("b")] == points  # in order, before any ask
    searcher.on_trial_complete("a", {"acc": 0.75, "config": points[0]})
    searcher.on_trial_result("b", {"acc": 0.5})
    searcher.on_trial_complete("b", {"acc": 0.25})
    opt = searcher.optimizer
    assert opt is not None and opt.num_tell == 2
    assert opt.recommend().loss == -0.75 and opt.recommend().value == points[0]  # max negated
    searcher.suggest("c")
    with pytest.raises(OptimkitValueError, match=r"no metric 'acc'.*\['config', 'loss'\]"):
        searcher.on_trial_complete("c", {"loss": 1.0, "config": {}})
    searcher.on_trial_complete("c", error=True)  # what Tune does next: the trial errored
    assert searcher.stats == {"told": 2, "told_not_asked": 0, "errored": 1, "abandoned": 1}
    assert opt.num_ask == 2  # the abandoned candidate no longer counts


def test_an_erroring_point_to_evaluate_is_told_the_worst_loss_not_queued_again() -> None:
    point = {"x": 0.25}
    searcher = OptimkitSearch("RandomSearch", space={"x": tune.uniform(0, 1)}, metric="m", mode="min",
                              points_to_evaluate=[point], seed=0)
    assert searcher.suggest("a") == point
    searcher.on_trial_complete("a", error=True)
    assert searcher.suggest("b") != point
    assert searcher.optimizer is not None and searcher.optimizer.num_tell == 1
    assert searcher.stats["abandoned"] == 0


@pytest.mark.parametrize(("on_error", "told", "loss"), [("abandon", 0, None), ("inf", 1, math.inf), ("last", 1, 3.0)])
def test_on_error(on_error: str, told: int, loss: float | None) -> None:
    searcher = OptimkitSearch("RandomSearch", space={"x": tune.uniform(0, 1)}, metric="m", mode="min",
                              on_error=on_error, seed=0)
    searcher.suggest("t")
    searcher.on_trial_result("t", {"m": 3.0})
    searcher.on_trial_complete("t", error=True)
    opt = searcher.optimizer
    assert opt is not None and opt.num_tell == told
    if loss is not None:
        assert opt.recommend().loss == loss


def test_results_evaluated_elsewhere_are_told_not_asked() -> None:
    searcher = OptimkitSearch("RandomSearch", space={"opt": {"lr": tune.loguniform(1e-3, 1.0)}},
                              metric="val/loss", mode="min", seed=0)
    searcher.add_evaluated_point({"opt": {"lr": 0.01}}, 0.5)
    searcher.add_evaluated_point({"opt": {"lr": 0.02}}, 9.0, error=True)  # skipped with on_error="abandon"
    # a trial this searcher did not ask (re-run after a restore), result flattened as Tune passes it
    searcher.on_trial_complete("other", {"val/loss": 0.25, "config/opt/lr": 0.1})
    opt = searcher.optimizer
    assert opt is not None and opt.num_tell == 2 and searcher.stats["told_not_asked"] == 2
    assert opt.recommend().value["opt"]["lr"] == pytest.approx(0.1) and opt.recommend().loss == 0.25


def test_budget_concurrency_and_search_properties() -> None:
    searcher = OptimkitSearch("RandomSearch", max_concurrent=2, seed=0)
    assert searcher.set_search_properties("loss", "min", {"x": tune.uniform(0, 1), "c": 1}, num_samples=3)
    assert searcher.suggest("a") is not None and searcher.suggest("b") is not None
    assert searcher.suggest("c") is None  # two in flight
    opt = searcher.optimizer
    assert opt is not None and opt.budget == 3 and opt.num_workers == 2
    searcher.on_trial_complete("a", {"loss": 1.0})
    third = searcher.suggest("c")
    assert third is not None and third["c"] == 1 and 0 <= third["x"] <= 1
    searcher.on_trial_complete("b", {"loss": 2.0})
    assert searcher.suggest("d") == OptimkitSearch.FINISHED  # the budget (num_samples) is asked
    # an explicit budget wins over num_samples; a space given to the searcher refuses Tune's domains
    own = OptimkitSearch("RandomSearch", space={"x": tune.uniform(0, 1)}, budget=5)
    assert not own.set_search_properties("loss", "min", {"x": tune.uniform(0, 1)}, num_samples=3)
    assert own.set_search_properties(None, None, {"const": 1}, num_samples=3)
    own.suggest("a")
    assert own.optimizer is not None and own.optimizer.budget == 5


def test_save_restore_round_trip_is_plain_json_plus_the_optimizer_dump(tmp_path: Path) -> None:
    space = {"x": tune.uniform(-1, 1), "q": tune.quniform(0, 1, 0.5), "act": tune.choice(["a", "b"])}
    searcher = OptimkitSearch("SNES", space=space, metric="loss", mode="min", seed=3)
    configs = []
    for i in range(5):
        config = searcher.suggest(f"t{i}")
        assert config is not None
        configs.append(config)
        if i < 4:
            searcher.on_trial_result(f"t{i}", {"loss": config["x"] ** 2})
            searcher.on_trial_complete(f"t{i}", {"loss": config["x"] ** 2})
    searcher.on_trial_result("t4", {"loss": 0.5})
    path = tmp_path / "searcher.ckpt"
    searcher.save(str(path))
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["optimizer.dump", "searcher.json"]
        state = json.loads(zf.read("searcher.json"))
    assert state["live"] == ["t4"] and state["last"] == {"t4": 0.5} and state["grids"][0]["q"] == 0.5
    restored = OptimkitSearch()
    restored.restore(str(path))
    assert restored.metric == "loss" and restored.mode == "min"
    opt = restored.optimizer
    assert opt is not None and opt.num_tell == 4 and type(opt).__name__ == "SNES"
    # the restored searcher continues the same search: its next suggestion is the saved optimizer's
    # (SNES re-issues t4's abandoned candidate first), not a random one
    assert restored.suggest("t5") == configs[4]
    # t4 is re-run by Tune after a restore: its result is told to the restored optimizer
    restored.on_trial_complete("t4", {"loss": 0.5, "config": {"x": 0.1, "q": 0.5, "act": "a"}})
    assert opt.num_tell == 5 and restored.stats["told_not_asked"] == 1
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(LoadError, match="not a readable OptimkitSearch checkpoint"):
        OptimkitSearch().restore(str(bad))


# ---------------------------------------------------------------------------- real Tune runs
@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


class Recording(ok.optimizers.RandomSearch):
    """RandomSearch that records what it is told, so that tests can compare with Tune's results."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.told: list[tuple[float, float]] = []
        self.max_in_flight = 0

    def ask(self) -> Any:
        candidate = super().ask()
        self.max_in_flight = max(self.max_in_flight, self.num_ask - self.num_tell)
        return candidate

    def tell(self, candidate: Any, loss: Any, *args: Any, **kwargs: Any) -> None:
        self.told.append((candidate.value["x"], float(loss)))
        super().tell(candidate, loss, *args, **kwargs)


def _quadratic(config: dict[str, Any]) -> None:
    start = time.time()
    if config["x"] > 3.5:  # one trial of the seeded search (seed=5)
        raise RuntimeError("diverged")
    for i in range(4):  # a loss that improves with training: a stopped trial's last value is its best
        time.sleep(0.05)
        tune.report({"loss": (config["x"] - 1.0) ** 2 + (config["y"] + 2.0) ** 2 + 1.0 / (i + 1),
                     "start": start, "end": time.time()})


@pytest.mark.ray
def test_tuner_runs_two_at_once_abandons_errors_and_tells_asha_stopped_trials(ray_session: None, tmp_path: Path) -> None:
    searcher = OptimkitSearch(Recording, seed=5)
    tuner = tune.Tuner(
        _quadratic,
        param_space={"x": tune.uniform(-5.0, 5.0), "y": tune.uniform(-5.0, 5.0), "tag": "t"},
        tune_config=tune.TuneConfig(
            search_alg=searcher, metric="loss", mode="min", num_samples=8, max_concurrent_trials=2,
            reuse_actors=True, scheduler=ASHAScheduler(max_t=4, grace_period=1, reduction_factor=2),
        ),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name="asha", verbose=0),
    )
    grid = tuner.fit()
    opt = searcher.optimizer
    assert isinstance(opt, Recording) and opt.budget == 8 and opt.num_workers == 2
    # the erroring trial is in the result grid, abandoned, and the run completed
    assert grid.num_errors == 1 and "diverged" in str(grid.errors[0]) and len(grid) == 8
    assert searcher.stats["errored"] == 1 and searcher.stats["abandoned"] == 1
    finished = [r for r in grid if r.error is None]
    assert opt.num_tell == len(finished) == 7
    # every trial, ASHA-stopped ones included, was told the last value it reported
    told = sorted(opt.told)
    assert told == sorted((r.config["x"], r.metrics["loss"]) for r in finished)
    assert any(r.metrics["training_iteration"] < 4 for r in finished)  # ASHA stopped some early
    # two trials were in flight at once (and never more); their running times may not overlap on a
    # loaded machine, so the overlap of the recorded spans is only bounded
    assert opt.max_in_flight == 2
    spans = [(r.metrics["start"], r.metrics["end"]) for r in finished]
    overlaps = [sum(s <= t < e for s, e in spans) for t, _ in spans]
    assert max(overlaps) <= 2


class _CrashDriver(Callback):
    """Raise in the driver loop (as a killed driver would stop it) once 3 trials have finished,
    while the marker file exists."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def on_step_begin(self, iteration: int, trials: list[Trial], **info: Any) -> None:
        if os.path.exists(self.marker) and sum(t.status == Trial.TERMINATED for t in trials) >= 3:
            raise RuntimeError("driver crashed")


def _sphere(config: dict[str, Any]) -> None:
    tune.report({"loss": (config["x"] - 1.0) ** 2 + (config["y"] + 2.0) ** 2})


@pytest.mark.ray
def test_tuner_restore_continues_the_optimizer(
    ray_session: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TUNE_GLOBAL_CHECKPOINT_S", "0")  # an experiment checkpoint at every step
    marker = tmp_path / "crash"
    marker.touch()
    tuner = tune.Tuner(
        _sphere,
        param_space={"x": tune.uniform(-5.0, 5.0), "y": tune.uniform(-5.0, 5.0), "c": 3},
        tune_config=tune.TuneConfig(search_alg=OptimkitSearch("SNES", seed=1), metric="loss", mode="min",
                                    num_samples=8, max_concurrent_trials=2, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=str(tmp_path), name="exp", verbose=0,
                                  callbacks=[_CrashDriver(str(marker))]),
    )
    with pytest.raises(RuntimeError, match="driver crashed"):
        tuner.fit()
    exp = tmp_path / "exp"
    saved = OptimkitSearch()
    saved.restore_from_dir(str(exp))
    assert saved.optimizer is not None and type(saved.optimizer).__name__ == "SNES"
    told_before = saved.optimizer.num_tell
    assert told_before >= 3
    # what the saved optimizer asks next (from a copy of the checkpoint): the restored run must run these
    ckpt = max(exp.glob("searcher-state-*.pkl"))
    replay = OptimkitSearch()
    replay.restore(str(shutil.copy(ckpt, tmp_path / "replay.ckpt")))
    expected = [replay.suggest(f"r{i}") for i in range(2)]

    marker.unlink()
    grid = tune.Tuner.restore(str(exp), _sphere).fit()
    assert grid.num_errors == 0 and len(grid) == 8
    final = OptimkitSearch()
    final.restore_from_dir(str(exp))
    assert final.optimizer is not None
    assert final.optimizer.num_tell == 8 > told_before  # kept growing from the saved value
    configs = [r.config for r in grid]
    assert all(c["c"] == 3 for c in configs)  # the space came back from the checkpoint, constants too
    for config in expected:  # the optimizer's own next points ran (not a random fallback)
        assert config is not None
        assert any(c["x"] == pytest.approx(config["x"]) and c["y"] == pytest.approx(config["y"]) for c in configs)
