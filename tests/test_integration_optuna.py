"""``optimkit.integrations.optuna.OptimkitSampler`` on real Optuna studies (in memory and SQLite)."""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")
pytestmark = pytest.mark.optuna

import optimkit as ok  # noqa: E402
from optimkit.errors import OptimkitTypeError, OptimkitValueError, UnsupportedParametrizationError  # noqa: E402
from optimkit.integrations.optuna import OptimkitSampler, parametrization_from_search_space  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)
ROOT = Path(__file__).resolve().parents[1]


def quadratic(trial: Any, dim: int = 5) -> float:
    return float(sum((trial.suggest_float(f"x{i}", -5.0, 5.0) - 1.0) ** 2 for i in range(dim)))


def _best(sampler: Any, n_trials: int, seed: int) -> float:
    study = optuna.create_study(sampler=sampler)
    study.optimize(quadratic, n_trials=n_trials)
    return float(study.best_value)


def test_beats_random_sampling_on_a_quadratic_at_equal_trials() -> None:
    ours = [_best(OptimkitSampler("Auto", seed=s, budget=120), 120, s) for s in range(3)]
    random = [_best(optuna.samplers.RandomSampler(seed=s), 120, s) for s in range(3)]
    assert all(a < b for a, b in zip(ours, random)), (ours, random)
    assert np.median(ours) < np.median(random) / 5, (ours, random)


def test_every_trial_is_told_once_and_maximize_is_negated() -> None:
    sampler = OptimkitSampler(ok.families.ConfANSR(popsize=8), seed=1, budget=60)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(lambda t: -quadratic(t, 2), n_trials=60)
    opt = sampler.optimizer
    assert opt is not None and opt.num_tell == 60
    assert sampler.told_trials == frozenset(range(60))
    assert opt.num_tell_not_asked == 1  # trial 0, sampled before there was a search space
    # the optimizer minimized the negated values: its best loss is minus the study's best value
    assert opt.recommend().loss == pytest.approx(-study.best_value)
    assert study.best_value > -0.5


def test_same_seed_same_trials() -> None:
    def params(seed: int) -> list[dict[str, Any]]:
        study = optuna.create_study(sampler=OptimkitSampler("ANSR", seed=seed))
        study.optimize(lambda t: quadratic(t, 3), n_trials=20)
        return [t.params for t in study.trials]

    assert params(4) == params(4)
    assert params(4) != params(5)


def test_a_pickled_sampler_goes_on_where_it_stopped() -> None:
    sampler = OptimkitSampler("ANSR", seed=2)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: quadratic(t, 2), n_trials=10)
    copy = pickle.loads(pickle.dumps(sampler))
    assert copy.told_trials == frozenset(range(10)) and copy.optimizer.num_tell == 10
    study.sampler = copy
    study.optimize(lambda t: quadratic(t, 2), n_trials=5)
    assert copy.told_trials == frozenset(range(15)) and copy.optimizer.num_tell == 15


def _mixed(trial: Any) -> float:
    a = trial.suggest_float("a", -1.0, 1.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    q = trial.suggest_float("q", 0.0, 2.0, step=0.25)
    n = trial.suggest_int("n", 1, 10, step=3)
    units = trial.suggest_int("units", 1, 1000, log=True)
    layers = trial.suggest_int("layers", 1, 4)
    act = trial.suggest_categorical("act", ["relu", "tanh", None])
    trial.suggest_int("const", 3, 3)  # a single-value distribution: not part of the search
    return (a - 0.3) ** 2 + math.log10(lr) ** 2 + (q - 1.25) ** 2 + (n - 7) ** 2 + abs(units - 64) / 100 + (
        layers - 2
    ) ** 2 + (act != "tanh")


@pytest.mark.parametrize("optimizer", ["Auto", ok.families.ConfANSR(popsize=8)], ids=["Auto", "ANSR"])
def test_log_step_int_and_categorical_spaces_are_respected(optimizer: Any) -> None:
    sampler = OptimkitSampler(optimizer, seed=0, budget=60)
    study = optuna.create_study(sampler=sampler)
    study.optimize(_mixed, n_trials=60)
    assert sampler.optimizer is not None and sampler.optimizer.num_ask == 59  # all but trial 0 asked
    assert sorted(sampler.search_space) == ["a", "act", "layers", "lr", "n", "q", "units"]
    for t in study.trials:
        p = t.params
        assert -1.0 <= p["a"] <= 1.0
        assert 1e-4 <= p["lr"] <= 1.0
        assert p["q"] in {0.25 * k for k in range(9)}
        assert p["n"] in {1, 4, 7, 10} and isinstance(p["n"], int)
        assert 1 <= p["units"] <= 1000 and isinstance(p["units"], int)
        assert p["layers"] in {1, 2, 3, 4}
        assert p["act"] in {"relu", "tanh", None}
        assert p["const"] == 3
    # the whole grid is reachable: the extreme points of the stepped ranges were sampled
    for name in ("a", "lr", "q", "n", "units", "layers", "act"):  # every parameter is explored
        assert len({t.params[name] for t in study.trials}) > 1, name
    assert study.best_value < min(t.value for t in study.trials[:10])


def test_parametrization_from_search_space() -> None:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    param = parametrization_from_search_space(
        {
            "lr": FloatDistribution(1e-4, 1.0, log=True),
            "x": FloatDistribution(-2.0, 3.0),
            "k": IntDistribution(0, 9),
            "c": CategoricalDistribution(["a", "b", "c"]),
        }
    )
    assert isinstance(param, ok.p.Dict)
    assert isinstance(param["lr"], ok.p.Log) and isinstance(param["c"], ok.p.Choice)
    assert param.dimension == 6  # three scalars and one logit per choice
    lower, upper = param["x"].bounds
    assert lower is not None and upper is not None and (lower[0], upper[0]) == (-2.0, 3.0)
    lower, upper = param["k"].bounds  # widened by half a step: every integer owns an equal interval
    assert lower is not None and upper is not None and (lower[0], upper[0]) == (-0.5, 9.5)


def test_failed_and_pruned_trials_are_abandoned_by_default() -> None:
    def objective(trial: Any) -> float:
        loss = quadratic(trial, 2)
        if trial.number % 5 == 1:
            raise ValueError("simulated failure")
        if trial.number % 5 == 2:
            trial.report(loss + 100.0, step=0)
            raise optuna.TrialPruned()
        return loss

    sampler = OptimkitSampler(ok.families.ConfANSR(popsize=4), seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=40, catch=(ValueError,))
    complete = {t.number for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE}
    opt = sampler.optimizer
    assert opt is not None and len(complete) == 24
    assert sampler.told_trials == complete and opt.num_tell == 24
    # every asked candidate was told or abandoned (abandoned ones leave num_ask)
    assert opt.num_ask == opt.num_tell - opt.num_tell_not_asked
    assert math.isfinite(opt.recommend().loss)


class Recording(ok.optimizers.RandomSearch):
    """RandomSearch that records every loss it is told."""

    def __init__(self, parametrization: Any, budget: Any = None, num_workers: int = 1) -> None:
        super().__init__(parametrization, budget, num_workers)
        self.losses: list[float] = []

    def _internal_tell_candidate(self, candidate: Any, loss: float) -> None:
        self.losses.append(loss)
        super()._internal_tell_candidate(candidate, loss)

    def _internal_tell_not_asked(self, candidate: Any, loss: float) -> None:
        self.losses.append(loss)
        super()._internal_tell_not_asked(candidate, loss)


def test_failed_trials_told_inf_and_pruned_trials_their_last_value() -> None:
    def objective(trial: Any) -> float:
        loss = quadratic(trial, 2)
        if trial.number % 5 == 1:
            raise ValueError("simulated failure")
        if trial.number % 5 == 2:
            trial.report(1000.0 + trial.number, step=3)
            raise optuna.TrialPruned()
        return loss

    sampler = OptimkitSampler(Recording, seed=0, on_fail="inf", on_prune="last")
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=20, catch=(ValueError,))
    opt = sampler.optimizer
    assert isinstance(opt, Recording)
    assert sampler.told_trials == frozenset(range(20)) and opt.num_tell == 20
    assert opt.losses.count(math.inf) == 4  # trials 1, 6, 11, 16 failed
    assert {1002.0, 1007.0, 1012.0, 1017.0} <= set(opt.losses)  # pruned: their last reported value


def test_enqueued_trials_warm_start_the_optimizer() -> None:
    sampler = OptimkitSampler(ok.families.ConfANSR(popsize=8), seed=0)
    study = optuna.create_study(sampler=sampler)
    study.enqueue_trial({"x0": 1.0, "x1": 1.0})  # the optimum: loss 0
    study.optimize(lambda t: quadratic(t, 2), n_trials=12)
    opt = sampler.optimizer
    assert opt is not None and 0 in sampler.told_trials and opt.num_tell == 12
    assert opt.num_tell_not_asked >= 1
    assert opt.recommend().value == {"x0": 1.0, "x1": 1.0}  # the optimizer knows the warm start
    # a partly fixed trial: the sampler's ask is abandoned and the values that ran are told
    study.enqueue_trial({"x0": -4.0})
    study.optimize(lambda t: quadratic(t, 2), n_trials=1)
    assert 12 in sampler.told_trials and study.trials[12].params["x0"] == -4.0
    assert opt.num_tell == 13 and opt.num_ask == opt.num_tell - opt.num_tell_not_asked


def test_threads_of_one_process_share_the_sampler() -> None:
    sampler = OptimkitSampler(ok.families.ConfANSR(popsize=4), seed=0, num_workers=2)
    study = optuna.create_study(sampler=sampler)
    study.optimize(lambda t: quadratic(t, 2), n_trials=30, n_jobs=2)
    opt = sampler.optimizer
    assert opt is not None and sampler.told_trials == frozenset(range(30)) and opt.num_tell == 30
    assert opt.num_ask == opt.num_tell - opt.num_tell_not_asked


_WORKER = textwrap.dedent(
    """
    import json, sys, time
    import optuna
    import optimkit as ok
    from optimkit.integrations.optuna import OptimkitSampler

    url, name, n_trials, total, seed, out = sys.argv[1:]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = OptimkitSampler(ok.families.ConfANSR(popsize=6), seed=int(seed), num_workers=2)
    study = optuna.load_study(study_name=name, storage=url, sampler=sampler)

    def objective(trial):
        time.sleep(0.01)  # let the other process finish trials in between
        return sum((trial.suggest_float(f"x{i}", -5, 5) - 1) ** 2 for i in range(3))

    study.optimize(objective, n_trials=int(n_trials))
    deadline = time.time() + 120
    while len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))) < int(total):
        if time.time() > deadline:
            raise SystemExit("the other process never finished")
        time.sleep(0.05)
    sampler.sync(study)
    opt = sampler.optimizer
    json.dump({"told": sorted(sampler.told_trials), "num_tell": opt.num_tell, "num_ask": opt.num_ask,
               "num_tell_not_asked": opt.num_tell_not_asked}, open(out, "w"))
    """
)


def test_two_processes_share_one_sqlite_study(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    optuna.create_study(study_name="shared", storage=url)
    script = tmp_path / "worker.py"
    script.write_text(_WORKER)
    n, total = 10, 20
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), url, "shared", str(n), str(total), str(seed), str(tmp_path / f"{seed}.json")],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for seed in (1, 2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-3000:]
    study = optuna.load_study(study_name="shared", storage=url)
    complete = {t.number for t in study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))}
    assert complete == set(range(total))  # no trial lost
    for seed in (1, 2):
        report = json.loads((tmp_path / f"{seed}.json").read_text())
        assert set(report["told"]) == complete  # every trial told to this process's optimizer...
        assert report["num_tell"] == total  # ...exactly once
        # its own trials were asked, the other process's were told as not asked
        assert report["num_ask"] + report["num_tell_not_asked"] == total
        assert report["num_tell_not_asked"] >= n
        assert n - 2 <= report["num_ask"] <= n  # its own trials, but the first ones (no search space yet)


def test_a_sampler_refuses_the_opposite_direction() -> None:
    sampler = OptimkitSampler("ANSR", seed=0)
    optuna.create_study(sampler=sampler).optimize(lambda t: quadratic(t, 2), n_trials=3)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with pytest.raises(OptimkitValueError, match="minimize.*maximize"):
        study.optimize(lambda t: quadratic(t, 2), n_trials=1)


def test_multi_objective_studies_are_refused() -> None:
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=OptimkitSampler())
    with pytest.raises(ValueError, match="single-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


class _Custom(optuna.distributions.BaseDistribution):  # type: ignore[misc]
    def to_external_repr(self, param_value_in_internal_repr: float) -> Any:
        return param_value_in_internal_repr

    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        return float(param_value_in_external_repr)

    def single(self) -> bool:
        return False

    def _contains(self, param_value_in_internal_repr: float) -> bool:
        return True


def test_unsupported_distribution_names_the_parameter_and_the_supported_types() -> None:
    with pytest.raises(UnsupportedParametrizationError, match=r"'width'.*_Custom.*FloatDistribution.*Categorical"):
        parametrization_from_search_space({"width": _Custom()})
    sampler = OptimkitSampler(seed=0)
    study = optuna.create_study(sampler=sampler)
    study.add_trial(optuna.trial.create_trial(params={"width": 1.0}, distributions={"width": _Custom()}, value=1.0))
    with pytest.raises(ValueError, match="'width'"):
        sampler.infer_relative_search_space(study, study.trials[0])


def test_options_are_validated() -> None:
    with pytest.raises(OptimkitValueError, match="on_fail"):
        OptimkitSampler(on_fail="ignore")
    with pytest.raises(OptimkitValueError, match="on_prune"):
        OptimkitSampler(on_prune="skip")
    with pytest.raises(OptimkitValueError, match="XNSE"):
        OptimkitSampler("XNSE")
    with pytest.raises(OptimkitTypeError, match="optimizer"):
        OptimkitSampler(3)  # type: ignore[arg-type]
    with pytest.raises(OptimkitValueError, match="budget"):
        OptimkitSampler(budget=0)
    with pytest.raises(OptimkitTypeError, match="independent_sampler"):
        OptimkitSampler(independent_sampler="random")  # type: ignore[arg-type]
    assert repr(OptimkitSampler("XNES", seed=3)) == "OptimkitSampler('XNES', seed=3)"
