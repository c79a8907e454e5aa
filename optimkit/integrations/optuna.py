"""``OptimkitSampler``: any optimkit optimizer (ANSR, XNES, Auto...) as an Optuna sampler.

Optuna asks its sampler for the parameters of each trial and reports the trial's result after it
ran; an optimkit optimizer asks candidates and is told their losses. The sampler joins the two:

- the *relative* search space (the parameters every completed trial has, as Optuna's
  ``IntersectionSearchSpace`` computes it) becomes an ``ok.p.Dict`` of ``Scalar``/``Log``/``Choice``
  (:func:`parametrization_from_search_space`); each trial's relative parameters come from one
  ``ask()``; other parameters are sampled by an independent sampler (``RandomSampler`` by default).
  The optimizer is built at the first trial that has a search space, and rebuilt when that space
  changes.
- results are told as they arrive: the sampler's own trials through the candidate it asked, every
  other finished trial of the study (trials run by other processes sharing the study through a
  database, ``study.enqueue_trial`` warm starts, trials sampled independently) as a candidate it
  did not ask (``tell-not-asked``) before the next sampling. Each trial is told at most once to
  each optimizer, tracked by trial number.

Optimizers minimize; a ``"maximize"`` study's values are negated.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from .. import errors
from .. import rng as _rng
from ..core import ConfiguredOptimizer, Optimizer
from ..optimizers import registry
from ..parametrization import Choice, Dict, Log, Parameter, Scalar
from ..validation import check_bool, check_choice, check_int

__all__ = ["OptimkitSampler", "parametrization_from_search_space"]

SUPPORTED_DISTRIBUTIONS = (FloatDistribution, IntDistribution, CategoricalDistribution)
_SUPPORTED_NAMES = "FloatDistribution (log or step), IntDistribution (log or step), CategoricalDistribution"
_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


def _check_supported(name: str, distribution: BaseDistribution) -> None:
    if not isinstance(distribution, SUPPORTED_DISTRIBUTIONS):
        raise errors.UnsupportedParametrizationError(
            f"parameter {name!r} has a {type(distribution).__name__}, which OptimkitSampler does not "
            f"support; supported: {_SUPPORTED_NAMES}"
        )


def _param_of(distribution: BaseDistribution) -> Parameter:
    """The optimkit parameter for one Optuna distribution (see ``_to_optuna`` for the way back).

    Stepped and integer distributions get a continuous ``Scalar`` (``Log`` for log-scaled ints)
    widened by half a step on each side, so that every grid point owns an interval of the same
    width; the value is snapped to the grid when handed to Optuna.
    """
    if isinstance(distribution, CategoricalDistribution):
        return Choice(list(distribution.choices))
    if isinstance(distribution, IntDistribution):
        low, high, step = float(distribution.low), float(distribution.high), float(distribution.step)
        if distribution.log:
            return Log(lower=low - 0.5, upper=high + 0.5)
        return Scalar(lower=low - step / 2, upper=high + step / 2)
    if isinstance(distribution, FloatDistribution):
        if distribution.log:
            return Log(lower=distribution.low, upper=distribution.high)
        if distribution.step is not None:
            half = distribution.step / 2
            return Scalar(lower=distribution.low - half, upper=distribution.high + half)
        return Scalar(lower=distribution.low, upper=distribution.high)
    raise AssertionError("checked by _check_supported")  # pragma: no cover


def parametrization_from_search_space(search_space: Mapping[str, BaseDistribution]) -> Dict:
    """An ``ok.p.Dict`` with one parameter per entry of an Optuna search space.

    ``FloatDistribution`` becomes a bounded ``Scalar`` (``Log`` when ``log=True``),
    ``IntDistribution`` a ``Scalar`` (``Log`` when ``log=True``) snapped to its integer grid by the
    sampler, ``CategoricalDistribution`` a ``Choice``. Any other distribution raises an
    :class:`~optimkit.errors.UnsupportedParametrizationError` naming the parameter.

    Parameters
    ----------
    search_space : mapping of str to optuna.distributions.BaseDistribution
        Parameter names and their distributions (``single()`` ones included: a constant range).

    Examples
    --------
    >>> import optuna
    >>> from optimkit.integrations.optuna import parametrization_from_search_space
    >>> space = {"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True),
    ...          "act": optuna.distributions.CategoricalDistribution(["relu", "tanh"])}
    >>> param = parametrization_from_search_space(space)
    >>> sorted(param.value), param.dimension
    (['act', 'lr'], 3)
    """
    params: dict[str, Parameter] = {}
    for name, distribution in search_space.items():
        _check_supported(name, distribution)
        params[name] = _param_of(distribution)
    return Dict(**params)


def _to_optuna(distribution: BaseDistribution, value: Any) -> Any:
    """The external Optuna value of an optimkit value: snapped to the grid and clipped to the range."""
    if isinstance(distribution, CategoricalDistribution):
        return value
    low, high = distribution.low, distribution.high  # type: ignore[attr-defined]
    if isinstance(distribution, IntDistribution):
        if distribution.log:
            return int(min(max(round(float(value)), low), high))
        k = round((float(value) - low) / distribution.step)
        return int(min(max(low + k * distribution.step, low), high))
    step = distribution.step  # type: ignore[attr-defined]
    if step is not None:
        k = min(max(round((float(value) - low) / step), 0), round((high - low) / step))
        return float(min(low + k * step, high))
    return float(min(max(float(value), low), high))


def _contains(distribution: BaseDistribution, value: Any) -> bool:
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False


@dataclass
class _Asked:
    """A candidate this sampler asked for a trial, with the optimizer it came from."""

    build: int
    candidate: Parameter
    values: dict[str, Any]


class OptimkitSampler(BaseSampler):
    """An Optuna sampler driven by an optimkit optimizer. Minimizes (``"maximize"`` studies are negated).

    The relative search space of the study (the parameters that every completed trial has) is
    converted to an ``ok.p.Dict`` (:func:`parametrization_from_search_space`) and each trial's
    values come from the optimizer's ``ask()``; the other parameters come from
    ``independent_sampler``. The optimizer is built when the study first has a search space and
    rebuilt when the space changes. Before each sampling, every finished trial of the study the
    optimizer was not told yet (trials of other processes sharing the study through a database,
    ``study.enqueue_trial`` warm starts) is told to it, once, as a candidate it did not ask
    (optimizers that cannot learn from those are warned about once and skip them).

    Parameters
    ----------
    optimizer : str, ConfiguredOptimizer or Optimizer subclass
        A registry name (``"Auto"``, ``"ANSR"``, ``"XNES"``...), a family member
        (``ok.families.ConfANSR(popsize=16)``) or an optimizer class.
    seed : int, optional
        Seeds the optimizer (each rebuild gets its own child seed) and the default independent
        sampler: the same seed gives the same trials in a single-process study.
    budget : int, optional
        The number of trials you plan to run, handed to the optimizer (``Auto`` picks by it).
    num_workers : int
        How many trials run at once (Optuna's ``n_jobs`` times the number of processes).
    on_fail : {"abandon", "inf"}
        Failed trials: abandoned (the optimizer forgets them; population methods re-issue the
        point), or told ``+inf``.
    on_prune : {"abandon", "last", "inf"}
        Pruned trials: abandoned, told their last reported intermediate value (abandoned if they
        reported none), or told ``+inf``.
    independent_sampler : optuna.samplers.BaseSampler, optional
        Samples the parameters outside the relative search space (default
        ``optuna.samplers.RandomSampler(seed)``).
    warn_independent_sampling : bool
        Warn (once per parameter) when a parameter is sampled independently while the optimizer runs.

    Examples
    --------
    >>> import optuna
    >>> from optimkit.integrations.optuna import OptimkitSampler
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> sampler = OptimkitSampler("XNES", seed=0, budget=40)
    >>> study = optuna.create_study(sampler=sampler)
    >>> study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1) ** 2, n_trials=40)
    >>> study.best_value < 0.1, sampler.optimizer.num_tell
    (True, 40)
    """

    def __init__(
        self,
        optimizer: str | ConfiguredOptimizer | type[Optimizer] = "Auto",
        *,
        seed: int | None = None,
        budget: int | None = None,
        num_workers: int = 1,
        on_fail: str = "abandon",
        on_prune: str = "abandon",
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
    ) -> None:
        self._factory = _resolve_optimizer(optimizer)
        self._optimizer_arg = optimizer
        if seed is not None:
            seed = check_int("seed", seed, 0)
        self._seed = seed
        self._budget = None if budget is None else check_int("budget", budget, 1)
        self._num_workers = check_int("num_workers", num_workers, 1)
        self._on_fail = check_choice("on_fail", on_fail, ("abandon", "inf"))
        self._on_prune = check_choice("on_prune", on_prune, ("abandon", "last", "inf"))
        self._warn_independent = check_bool("warn_independent_sampling", warn_independent_sampling)
        if independent_sampler is not None and not isinstance(independent_sampler, BaseSampler):
            raise errors.OptimkitTypeError(
                f"independent_sampler must be an optuna.samplers.BaseSampler, got {type(independent_sampler).__name__}"
            )
        self._independent = independent_sampler if independent_sampler is not None else RandomSampler(seed=seed)
        self._seeds = np.random.SeedSequence(seed)
        self._search_space_calc = IntersectionSearchSpace()
        self._lock = threading.RLock()
        self._study_name: str | None = None
        self._direction: StudyDirection | None = None
        self._space: dict[str, BaseDistribution] = {}
        self._optimizer: Optimizer | None = None
        self._build = 0
        self._asked: dict[int, _Asked] = {}  # trial number -> what this sampler asked for it
        self._told: set[int] = set()  # trial numbers told to the current optimizer
        self._settled: set[int] = set()  # finished trials needing nothing more (told, abandoned, skipped)
        self._not_asked_ok = True
        self._warned: set[str] = set()

    # ------------------------------------------------------------------ public state
    @property
    def optimizer(self) -> Optimizer | None:
        """The optimkit optimizer in use (``None`` before the study has a search space)."""
        return self._optimizer

    @property
    def told_trials(self) -> frozenset[int]:
        """Numbers of the trials told to the current optimizer (each exactly once)."""
        with self._lock:
            return frozenset(self._told)

    @property
    def search_space(self) -> dict[str, BaseDistribution]:
        """The relative search space the current optimizer works on."""
        return dict(self._space)

    def __repr__(self) -> str:
        options = [repr(self._optimizer_arg)]
        defaults = {"seed": None, "budget": None, "num_workers": 1, "on_fail": "abandon", "on_prune": "abandon"}
        given = {
            "seed": self._seed, "budget": self._budget, "num_workers": self._num_workers,
            "on_fail": self._on_fail, "on_prune": self._on_prune,
        }
        options += [f"{k}={v!r}" for k, v in given.items() if v != defaults[k]]
        return f"OptimkitSampler({', '.join(options)})"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]  # a lock does not pickle; the copy gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ Optuna's hooks
    def reseed_rng(self) -> None:
        with self._lock:
            self._independent.reseed_rng()
            self._seeds = np.random.SeedSequence()
            if self._optimizer is not None:
                self._optimizer.parametrization.random_state = _rng.as_random_state(self._next_seed())

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        self._check_study(study)
        space: dict[str, BaseDistribution] = {}
        for name, distribution in self._search_space_calc.calculate(study).items():
            _check_supported(name, distribution)
            if not distribution.single():  # a constant: Optuna sets it without asking a sampler
                space[name] = distribution
        return space

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        self._check_study(study)
        if not search_space:
            return {}
        with self._lock:
            if search_space != self._space or self._optimizer is None:
                self._rebuild(search_space)
            self.sync(study)
            assert self._optimizer is not None
            candidate = self._optimizer.ask()
            values = {name: _to_optuna(dist, candidate.value[name]) for name, dist in search_space.items()}
            self._asked[trial.number] = _Asked(self._build, candidate, values)
            return dict(values)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        self._check_study(study)
        if self._warn_independent and self._optimizer is not None and param_name not in self._warned:
            self._warned.add(param_name)
            warnings.warn(
                f"parameter {param_name!r} of trial {trial.number} is sampled by "
                f"{type(self._independent).__name__}, not by the optimizer: it is not in every completed "
                "trial (a conditional or changing search space)",
                errors.OptimkitWarning,
                stacklevel=2,
            )
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._independent.after_trial(study, trial, state, values)
        if self._study_problem(study) is not None:
            return  # refused at the next sampling call, which raises
        with self._lock:
            if self._optimizer is None:
                self._asked.pop(trial.number, None)
                return  # told later, when the optimizer is built
            self._settle(trial, state, values)

    # ------------------------------------------------------------------ telling
    def sync(self, study: optuna.Study) -> int:
        """Tell the optimizer every finished trial of ``study`` it was not told yet; the number told.

        Called before each sampling; call it yourself to bring the optimizer up to date at the end
        of a run that other processes share.
        """
        with self._lock:
            if self._optimizer is None:
                return 0
            before = len(self._told)
            for trial in study.get_trials(deepcopy=False, states=_FINISHED):
                if trial.number not in self._settled:
                    self._settle(trial, trial.state, trial.values)
            return len(self._told) - before

    def _loss(self, state: TrialState, values: Sequence[float] | None) -> float | None:
        """The loss to tell for a finished trial, or None to abandon it."""
        if state == TrialState.COMPLETE and values is not None:
            value = float(values[0])
            return -value if self._direction == StudyDirection.MAXIMIZE else value
        if state == TrialState.FAIL and self._on_fail == "inf":
            return math.inf
        if state == TrialState.PRUNED:
            if self._on_prune == "inf":
                return math.inf
            if self._on_prune == "last" and values:
                value = float(values[0])
                return -value if self._direction == StudyDirection.MAXIMIZE else value
        return None

    def _settle(self, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        """Tell (or abandon) one finished trial, once. Called under the lock with an optimizer."""
        number = trial.number
        if number in self._settled:
            return
        optimizer = self._optimizer
        assert optimizer is not None
        loss = self._loss(state, values)
        asked = self._asked.pop(number, None)
        if asked is not None and asked.build != self._build:
            asked = None  # from a previous optimizer: told as a trial like any other
        params = {name: trial.params.get(name, _MISSING) for name in self._space}
        if asked is not None and any(
            params[name] is not _MISSING and params[name] != value for name, value in asked.values.items()
        ):
            optimizer.abandon(asked.candidate)  # some values were fixed (enqueue_trial): tell what ran
            asked = None
        self._settled.add(number)
        if loss is None:
            if asked is not None:
                optimizer.abandon(asked.candidate)
            return
        if asked is not None:
            optimizer.tell(asked.candidate, loss)
            self._told.add(number)
            return
        candidate = self._candidate_of(number, params)
        if candidate is None or not self._not_asked_ok:
            return
        try:
            optimizer.tell(candidate, loss)
        except errors.TellNotAskedNotSupportedError:
            self._not_asked_ok = False
            warnings.warn(
                f"{optimizer.name} cannot learn from trials it did not sample (other processes, "
                "enqueue_trial): those trials do not steer its search",
                errors.OptimkitWarning,
                stacklevel=3,
            )
            return
        self._told.add(number)

    def _candidate_of(self, number: int, params: dict[str, Any]) -> Parameter | None:
        """A candidate of the optimizer's parametrization holding a trial's values (None if it cannot)."""
        assert self._optimizer is not None
        missing = [name for name, value in params.items() if value is _MISSING]
        outside = [
            name for name, value in params.items() if value is not _MISSING and not _contains(self._space[name], value)
        ]
        if missing or outside:
            self._warn_once(
                "skip",
                f"trial {number} is not told to the optimizer: "
                + (f"it has no value for {missing}" if missing else f"{outside} lie outside the search space")
                + " (warned once)",
            )
            return None
        param = self._optimizer.parametrization
        return param.spawn_child(new_value={name: _from_optuna(params[name]) for name in params})

    # ------------------------------------------------------------------ internals
    def _rebuild(self, search_space: dict[str, BaseDistribution]) -> None:
        param = parametrization_from_search_space(search_space)
        param.random_state = _rng.as_random_state(self._next_seed())
        self._optimizer = self._factory(param, self._budget, self._num_workers)
        self._space = dict(search_space)
        self._build += 1
        self._told = set()
        self._settled = set()
        self._not_asked_ok = True

    def _next_seed(self) -> int:
        child = self._seeds.spawn(1)[0]
        return int(child.generate_state(1)[0])

    def _study_problem(self, study: optuna.Study) -> str | None:
        directions = study.directions
        if len(directions) != 1:
            return (
                f"OptimkitSampler optimizes single-objective studies; study {study.study_name!r} has "
                f"{len(directions)} objectives"
            )
        if self._direction is not None and directions[0] != self._direction:
            return (
                f"this OptimkitSampler started on a study that {_verb(self._direction)}s; study "
                f"{study.study_name!r} {_verb(directions[0])}s (direction {directions[0].name.lower()!r}): "
                "use a new sampler for it"
            )
        if self._study_name is not None and study.study_name != self._study_name:
            return (
                f"this OptimkitSampler is in use on study {self._study_name!r}; study {study.study_name!r} "
                "needs its own sampler (the optimizer's state belongs to one study)"
            )
        return None

    def _check_study(self, study: optuna.Study) -> None:
        problem = self._study_problem(study)
        if problem is not None:
            raise errors.OptimkitValueError(problem)
        if self._direction is None:
            self._direction = study.direction
            self._study_name = study.study_name

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, errors.OptimkitWarning, stacklevel=4)


_MISSING: Any = object()


def _from_optuna(value: Any) -> Any:
    """An Optuna value as optimkit takes it (numpy scalars as Python numbers)."""
    return value.item() if isinstance(value, np.generic) else value


def _verb(direction: StudyDirection) -> str:
    return "maximize" if direction == StudyDirection.MAXIMIZE else "minimize"


def _resolve_optimizer(optimizer: Any) -> Any:
    """A callable ``(parametrization, budget, num_workers) -> Optimizer`` for the ``optimizer`` option."""
    if isinstance(optimizer, str):
        try:
            return registry[optimizer]
        except KeyError as exc:
            raise errors.OptimkitValueError(f"optimizer: {exc.args[0]}") from None
    if isinstance(optimizer, ConfiguredOptimizer):
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer
    raise errors.OptimkitTypeError(
        "optimizer must be a registry name, a ConfiguredOptimizer or an Optimizer subclass, "
        f"got {optimizer!r}"
    )
