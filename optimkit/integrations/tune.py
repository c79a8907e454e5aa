"""Ray Tune with optimkit: :class:`OptimkitSearch`, a ``ray.tune.search.Searcher`` that runs an
optimkit optimizer behind Tune's ``suggest`` / ``on_trial_complete`` loop.

Tune asks the searcher for a configuration per trial (``suggest``: one ``ask`` of the optimizer),
runs the trial, and reports its result (``on_trial_complete``: one ``tell``, the metric negated
for ``mode="max"``, since optimkit minimizes). Everything else Tune offers keeps working: trial
schedulers such as ASHA (a trial stopped early is told its last reported value), fault-tolerant
trials (an errored trial's candidate is abandoned and re-issued), logging callbacks, and
``Tuner.restore`` (the searcher's checkpoint holds the optimizer's own dump, so a restored
experiment continues the same search).

Tune search spaces (``tune.uniform``, ``quniform``, ``loguniform``, ``qloguniform``, ``randn``,
``qrandn``, ``randint``, ``qrandint``, ``lograndint``, ``qlograndint``, ``choice`` and plain
constants, in nested dicts) are converted by :func:`convert_search_space`; an ``ok.p.Dict`` can
be given instead.

This module imports Ray Tune (the ``tune`` extra): ``import optimkit`` does not import it.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import tempfile
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from ray.tune.result import DEFAULT_METRIC
from ray.tune.search import Searcher
from ray.tune.search.sample import (
    Categorical,
    Domain,
    Float,
    Function,
    Integer,
    LogUniform,
    Normal,
    Quantized,
    Uniform,
)

from ..core import ConfiguredOptimizer, Optimizer, registry
from ..core import load as load_optimizer
from ..errors import (
    LoadError,
    OptimkitRuntimeError,
    OptimkitTypeError,
    OptimkitValueError,
    OptimkitWarning,
    TellNotAskedNotSupportedError,
    UnsupportedParametrizationError,
)
from ..parametrization import Choice, Constant, Log, Parameter, Scalar
from ..parametrization import Dict as DictParam
from ..rng import as_random_state
from ..validation import check_choice, check_int

__all__ = ["OptimkitSearch", "ConvertedSpace", "Grid", "convert_search_space", "SUPPORTED_DOMAINS"]

#: The Tune domains :func:`convert_search_space` converts (named in its error messages).
SUPPORTED_DOMAINS = (
    "tune.uniform, tune.quniform, tune.loguniform, tune.qloguniform, tune.randn, tune.qrandn, "
    "tune.randint, tune.qrandint, tune.lograndint, tune.qlograndint, tune.choice, plain constants, "
    "nested dicts of these, and ok.p parameters"
)

#: Version of the searcher checkpoint written by :meth:`OptimkitSearch.save`.
CHECKPOINT_VERSION = 1
_CHECKPOINT_FORMAT = "optimkit.integrations.tune.OptimkitSearch"
_STATE_MEMBER = "searcher.json"
_DUMP_MEMBER = "optimizer.dump"

#: Half-width of the interval that rounds to one integer (just under 1/2, so that no rounding
#: rule can step outside the allowed integers).
_HALF = 0.5 - 1e-9

Path = tuple[str, ...]


# ---------------------------------------------------------------------------- search spaces
@dataclass(frozen=True)
class Grid:
    """Rounding of one quantized Tune domain: the optimizer's value ``x`` becomes
    ``q * clip(round(x / q), low, high)`` in the trial's config (an ``int`` where ``integer``).

    Parameters
    ----------
    path : tuple of str
        Where the parameter sits in the config (``("model", "width")`` for ``config["model"]["width"]``).
    q : float
        The quantization step.
    low, high : float
        The smallest and largest allowed multiples of ``q``, as indices (``-inf``/``inf`` when unbounded).
    integer : bool
        Whether the config holds an ``int`` (``tune.qrandint``) or a float.
    """

    path: Path
    q: float
    low: float
    high: float
    integer: bool

    def apply(self, x: Any) -> int | float:
        """The config value of the optimizer's value ``x``."""
        k = min(max(float(np.round(float(x) / self.q)), self.low), self.high)
        value = k * self.q
        # 12 significant digits: 0.1 * 63 is 6.3 in the config, not 6.300000000000001
        return int(round(value)) if self.integer else float(f"{value:.12g}")

    def to_json(self) -> dict[str, Any]:
        """Plain data (non-finite indices as strings)."""
        return {"path": list(self.path), "q": self.q, "low": _json_float(self.low),
                "high": _json_float(self.high), "integer": self.integer}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Grid:
        """Inverse of :meth:`to_json`."""
        return cls(tuple(str(p) for p in data["path"]), float(data["q"]), float(data["low"]),
                   float(data["high"]), bool(data["integer"]))


@dataclass(frozen=True)
class ConvertedSpace:
    """A Tune search space as an optimkit parametrization (an ``ok.p.Dict`` mirroring the config's
    nesting) plus the roundings its quantized domains need.

    ``to_config(candidate.value)`` is the trial's config; ``from_config(config)`` the value of a
    config (for ``points_to_evaluate`` and results the optimizer did not ask).

    Parameters
    ----------
    parametrization : ok.p.Dict
        What the optimizer searches over.
    grids : tuple of Grid
        The quantized domains (empty for an explicit parametrization).
    """

    parametrization: DictParam
    grids: tuple[Grid, ...] = ()

    def to_config(self, value: Mapping[str, Any]) -> dict[str, Any]:
        """The Tune config of a value of :attr:`parametrization` (quantized domains rounded)."""
        config: dict[str, Any] = _deep_copy_dicts(value)
        for grid in self.grids:
            node = config
            for key in grid.path[:-1]:
                node = node[key]
            node[grid.path[-1]] = grid.apply(node[grid.path[-1]])
        return config

    def from_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The value of :attr:`parametrization` for a Tune config (nested, or flattened with ``/``);
        keys outside the parametrization are ignored."""
        try:
            return _value_from_config(self.parametrization, config, ())
        except OptimkitValueError:
            if not any(isinstance(k, str) and "/" in k for k in config):
                raise
        return _value_from_config(self.parametrization, _unflatten(config), ())


def convert_search_space(space: Mapping[str, Any] | DictParam) -> ConvertedSpace:
    """Convert a Tune search space (a dict of Tune domains, constants, nested dicts and ``ok.p``
    parameters) or an ``ok.p.Dict`` into a :class:`ConvertedSpace`.

    Each domain becomes a parameter whose values cover exactly what Tune would sample:
    ``uniform`` a bounded ``Scalar``, ``loguniform`` a ``Log``, ``randn(mean, sd)`` an unbounded
    ``Scalar`` at ``mean`` with step ``sd``, ``randint(lower, upper)`` an integer ``Scalar`` over
    ``lower .. upper - 1`` (``lograndint`` a ``Log``), ``choice`` a ``Choice``; the quantized ones
    (``q...``) the same over the multiples of ``q`` inside the bounds, rounded by a :class:`Grid`.

    Parameters
    ----------
    space : dict or ok.p.Dict
        The search space (Tune's ``param_space``), or a parametrization whose value is the config.

    Returns
    -------
    ConvertedSpace

    Raises
    ------
    UnsupportedParametrizationError
        For ``tune.grid_search``, ``tune.sample_from``, domains inside lists and other types; the
        message names the parameter and the supported types.

    Examples
    --------
    >>> from ray import tune
    >>> from optimkit.integrations.tune import convert_search_space
    >>> space = convert_search_space({"lr": tune.loguniform(1e-4, 1e-1), "layers": tune.randint(1, 4)})
    >>> space.parametrization.dimension
    2
    >>> space.to_config({"lr": 0.01, "layers": 3})
    {'lr': 0.01, 'layers': 3}
    """
    if isinstance(space, DictParam):
        return ConvertedSpace(space)
    if not isinstance(space, Mapping):
        raise OptimkitTypeError(
            f"space must be a dict (a Tune search space) or an ok.p.Dict, got {type(space).__name__}"
        )
    grids: list[Grid] = []
    param = _convert_node(space, (), grids)
    if not isinstance(param, DictParam):  # pragma: no cover - a Mapping always converts to a Dict
        raise OptimkitTypeError("space must convert to an ok.p.Dict")
    return ConvertedSpace(param, tuple(grids))


def _name(path: Path) -> str:
    return "/".join(path) if path else "<root>"


def _unsupported(path: Path, what: str) -> UnsupportedParametrizationError:
    return UnsupportedParametrizationError(
        f"search space parameter {_name(path)!r} is {what}, which OptimkitSearch cannot convert; "
        f"supported: {SUPPORTED_DOMAINS}"
    )


def _contains_domain(node: Any) -> bool:
    if isinstance(node, (Domain, Parameter)):
        return True
    if isinstance(node, Mapping):
        return any(_contains_domain(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_contains_domain(v) for v in node)
    return False


def _convert_node(node: Any, path: Path, grids: list[Grid]) -> Any:
    if isinstance(node, Parameter):
        return node
    if isinstance(node, Domain):
        return _convert_domain(node, path, grids)
    if isinstance(node, Mapping):
        if len(node) == 1 and "grid_search" in node:
            return _raise(_unsupported(path, "a tune.grid_search (Tune's grid search expands a config "
                                             "into several trials; a searcher cannot)"))
        if len(node) == 1 and "eval" in node:
            return _raise(_unsupported(path, "an 'eval' expression"))
        content: dict[str, Any] = {}
        for key, value in node.items():
            if not isinstance(key, str):
                raise OptimkitTypeError(
                    f"search space keys must be strings, got {key!r} under {_name(path)!r}"
                )
            content[key] = _convert_node(value, (*path, key), grids)
        return DictParam(**content)
    if isinstance(node, (list, tuple)) and _contains_domain(node):
        return _raise(_unsupported(path, "a list holding search domains (use a dict instead)"))
    return node  # a constant


def _raise(exc: Exception) -> Any:
    raise exc


def _grid_index(bound: float, q: float, up: bool) -> float:
    """``bound``'s index on the multiples of ``q``, rounded inwards (as Tune does)."""
    if not math.isfinite(bound):
        return bound
    scaled = bound / q
    nearest = round(scaled)
    if math.isclose(scaled, nearest):
        return float(nearest)
    return float(math.floor(scaled) if up else math.ceil(scaled))


def _convert_domain(domain: Domain, path: Path, grids: list[Grid]) -> Parameter:
    if isinstance(domain, Function):
        raise _unsupported(path, "a tune.sample_from function")
    sampler = domain.get_sampler()  # type: ignore[no-untyped-call]
    q: float | None = None
    if isinstance(sampler, Quantized):
        q = float(sampler.q)
        sampler = sampler.get_sampler()  # type: ignore[no-untyped-call]
        if not (q > 0 and math.isfinite(q)):
            raise OptimkitValueError(f"search space parameter {_name(path)!r}: q must be > 0, got {q!r}")
    if isinstance(domain, Categorical):
        if not isinstance(sampler, Uniform):
            raise _unsupported(path, f"a categorical domain with a {type(sampler).__name__} sampler")
        categories = list(domain.categories)
        if any(_contains_domain(c) for c in categories):
            raise _unsupported(path, "a tune.choice among search spaces (conditional spaces)")
        return Choice(categories)
    if not isinstance(domain, (Float, Integer)):
        raise _unsupported(path, f"a {type(domain).__name__} domain")
    lower, upper = float(domain.lower), float(domain.upper)
    integer = isinstance(domain, Integer)
    if isinstance(sampler, Normal):
        if integer:
            raise _unsupported(path, "an integer domain with a normal sampler")
        param: Parameter = Scalar(init=float(sampler.mean))
        if sampler.sd > 0:
            param = Scalar(init=float(sampler.mean)).set_mutation(sigma=float(sampler.sd))
        if q is not None:
            grids.append(Grid(path, q, _grid_index(lower, q, False), _grid_index(upper, q, True), False))
        return param
    if not isinstance(sampler, (Uniform, LogUniform)):
        raise _unsupported(path, f"a {type(domain).__name__} domain with a {type(sampler).__name__} sampler")
    log = isinstance(sampler, LogUniform)
    if not (math.isfinite(lower) and math.isfinite(upper)):
        raise OptimkitValueError(
            f"search space parameter {_name(path)!r} needs finite bounds, got ({lower}, {upper})"
        )
    cls = Log if log else Scalar
    if q is not None and not (integer and q == 1):
        low = _grid_index(lower, q, False)
        high = _grid_index(upper, q, True)
        if high < low:
            raise OptimkitValueError(
                f"search space parameter {_name(path)!r}: no multiple of q={q:g} lies in [{lower:g}, {upper:g}]"
            )
        if log and low < 1:
            low = 1.0  # log domains hold positive values only
        grids.append(Grid(path, q, low, high, integer))
        return cls(lower=(low - 0.5) * q, upper=(high + 0.5) * q)
    if integer:  # lower inclusive, upper exclusive
        last = upper - 1
        if last < lower:
            raise OptimkitValueError(
                f"search space parameter {_name(path)!r}: randint({lower:g}, {upper:g}) holds no integer"
            )
        return cls(lower=lower - _HALF, upper=last + _HALF).set_integer_casting()
    if not upper > lower:
        raise OptimkitValueError(
            f"search space parameter {_name(path)!r}: lower must be < upper, got ({lower:g}, {upper:g})"
        )
    return cls(lower=lower, upper=upper)


def _deep_copy_dicts(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy_dicts(v) for k, v in value.items()}
    return value


def _unflatten(config: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a/b": 1}`` -> ``{"a": {"b": 1}}`` (nested dicts pass through)."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        parts = key.split("/") if isinstance(key, str) else [key]
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        leaf = _unflatten(value) if isinstance(value, Mapping) else value
        existing = node.get(parts[-1])
        if isinstance(leaf, dict) and isinstance(existing, dict):
            existing.update(leaf)
        else:
            node[parts[-1]] = leaf
    return out


def _value_from_config(param: DictParam, config: Mapping[str, Any], path: Path) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key in param.keys():
        sub = param[key]
        if isinstance(sub, Constant):
            value[key] = sub.value
            continue
        if key not in config:
            raise OptimkitValueError(
                f"config has no value for search space parameter {_name((*path, key))!r}; "
                f"keys present: {sorted(str(k) for k in config)}"
            )
        if isinstance(sub, DictParam) and isinstance(config[key], Mapping):
            value[key] = _value_from_config(sub, config[key], (*path, key))
        else:
            value[key] = config[key]
    return value


def _json_float(x: float) -> float | str:
    return x if math.isfinite(x) else repr(x)


def _config_of(result: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The trial config inside a Tune result (nested under ``"config"``, or flattened ``"config/..."``)."""
    config = result.get("config")
    if isinstance(config, Mapping):
        return config
    flat = {k[len("config/"):]: v for k, v in result.items() if isinstance(k, str) and k.startswith("config/")}
    return flat or None


# ---------------------------------------------------------------------------- the searcher
_ON_ERROR = ("abandon", "inf", "last")


class OptimkitSearch(Searcher):
    """A Ray Tune ``Searcher`` running an optimkit optimizer (the analogue of Tune's
    ``NevergradSearch``). optimkit minimizes: with ``mode="max"`` the metric is negated before it
    is told.

    Each ``suggest`` is one ``ask`` of the optimizer; each completed trial is one ``tell`` of its
    final ``metric``. A trial that errors is handled by ``on_error``; a trial stopped early by a
    scheduler (ASHA, HyperBand, a ``stop`` criterion...) is told its last reported value (Tune
    hands it over like a finished trial, with its last result). ``save``/``restore`` (called by
    Tune at each experiment checkpoint and by ``Tuner.restore``) write the optimizer's own dump
    plus this searcher's bookkeeping as JSON, in one zip file: a restored experiment continues
    the same search.

    Parameters
    ----------
    optimizer : str, ConfiguredOptimizer or Optimizer subclass
        A registry name (``"Auto"``, ``"ANSR"``, ``"XNES"``, ``"SNES"``, ``"RandomSearch"``...), a
        family member (``ok.families.ConfXNES(sigma=0.5)``) or an optimizer class.
    space : dict or ok.p.Dict, optional
        The search space: a Tune search space (see :func:`convert_search_space`) or an ``ok.p.Dict``
        whose value is the config. Without it, the Tuner's ``param_space`` is used.
    metric : str, optional
        The result key to optimize (else ``TuneConfig(metric=...)``).
    mode : {"min", "max"}, optional
        Whether the metric is minimized or maximized (else ``TuneConfig(mode=...)``).
    points_to_evaluate : list of dict, optional
        Configs evaluated first, in order (``optimizer.suggest``).
    budget : int, optional
        The optimizer's budget. Default: Tune's ``num_samples`` where Tune passes it (with a
        ``param_space``), else none.
    max_concurrent : int, optional
        At most this many trials in flight (``suggest`` returns None beyond); also the optimizer's
        ``num_workers``. ``TuneConfig(max_concurrent_trials=n)`` sets it too.
    on_error : {"abandon", "inf", "last"}
        An errored trial: ``"abandon"`` its candidate (the optimizer replaces it; population
        methods re-issue the same point, so a configuration that fails every time is better told
        ``"inf"``), tell it ``+inf`` (the worst loss), or tell its ``"last"`` reported value
        (abandon if none). A point of ``points_to_evaluate`` that errors is told ``+inf`` rather
        than abandoned (abandoning would queue it again).
    seed : int or numpy generator, optional
        Seeds the parametrization's generator (every draw of the optimizer comes from it).

    Examples
    --------
    >>> from ray import tune
    >>> from optimkit.integrations.tune import OptimkitSearch
    >>> searcher = OptimkitSearch(
    ...     "RandomSearch", space={"lr": tune.loguniform(1e-4, 1e-1), "act": tune.choice(["relu", "tanh"])},
    ...     metric="accuracy", mode="max", budget=4, seed=0)
    >>> config = searcher.suggest("trial_1")
    >>> sorted(config)
    ['act', 'lr']
    >>> searcher.on_trial_complete("trial_1", {"accuracy": 0.9, "done": True})
    >>> searcher.optimizer.num_tell, searcher.optimizer.recommend().loss
    (1, -0.9)

    With a Tuner (see ``docs/integrations/tune.md``)::

        tuner = tune.Tuner(train, param_space=space, tune_config=tune.TuneConfig(
            search_alg=OptimkitSearch("Auto"), metric="loss", mode="min", num_samples=64))
    """

    def __init__(
        self,
        optimizer: str | ConfiguredOptimizer | type[Optimizer] = "Auto",
        space: Mapping[str, Any] | DictParam | None = None,
        metric: str | None = None,
        mode: str | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        *,
        budget: int | None = None,
        max_concurrent: int | None = None,
        on_error: str = "abandon",
        seed: Any = None,
    ) -> None:
        if metric is not None and not isinstance(metric, str):
            raise OptimkitTypeError(f"metric must be a str (one result key), got {metric!r}")
        if mode is not None:
            check_choice("mode", mode, ("min", "max"))
        super().__init__(metric=metric, mode=mode)
        self._factory = _resolve_factory(optimizer)
        self._space: ConvertedSpace | None = None if space is None else convert_search_space(space)
        self._space_given = space is not None
        if points_to_evaluate is not None and (
            isinstance(points_to_evaluate, (str, bytes, Mapping))
            or not isinstance(points_to_evaluate, Sequence)
            or not all(isinstance(p, Mapping) for p in points_to_evaluate)
        ):
            raise OptimkitTypeError(
                f"points_to_evaluate must be a list of config dicts, got {points_to_evaluate!r}"
            )
        self._points = [dict(p) for p in points_to_evaluate or ()]
        #: how many points_to_evaluate the optimizer still has queued, and the trials running one
        self._points_queued = 0
        self._point_trials: set[str] = set()
        self._budget = None if budget is None else check_int("budget", budget, 1)
        self._max_concurrent = None if max_concurrent is None else check_int("max_concurrent", max_concurrent, 1)
        self._on_error = check_choice("on_error", on_error, _ON_ERROR)
        self._seed = seed
        self._num_samples: int | None = None
        self._optimizer: Optimizer | None = None
        #: trial id -> the candidate it runs (None for trials restored from a checkpoint)
        self._live: dict[str, Parameter | None] = {}
        #: trial id -> the last reported value of the metric
        self._last: dict[str, float] = {}
        self._stats = {"told": 0, "told_not_asked": 0, "errored": 0, "abandoned": 0}

    # ------------------------------------------------------------------ properties
    @property
    def optimizer(self) -> Optimizer | None:
        """The optimizer (built at the first ``suggest``, or restored), or None before."""
        return self._optimizer

    @property
    def space(self) -> ConvertedSpace | None:
        """The converted search space, or None while Tune has not passed one."""
        return self._space

    @property
    def stats(self) -> dict[str, int]:
        """Counts of trials ``told`` (asked by this searcher), ``told_not_asked`` (results of trials
        restored from a checkpoint or added with ``add_evaluated_point``), ``errored`` and
        ``abandoned``."""
        return dict(self._stats)

    # ------------------------------------------------------------------ Tune's setup calls
    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        """Called by Tune with ``TuneConfig``'s metric and mode, the Tuner's ``param_space`` and
        ``num_samples``. Returns False (as Tune expects) when this searcher already has its own
        space and ``config`` holds search domains too."""
        if metric is not None:
            if self._metric is not None and self._metric != metric:
                raise OptimkitValueError(
                    f"metric={metric!r} from Tune disagrees with OptimkitSearch(metric={self._metric!r}): give one"
                )
            self._metric = metric
        if mode is not None:
            check_choice("mode", mode, ("min", "max"))
            if self._mode is not None and self._mode != mode:
                raise OptimkitValueError(
                    f"mode={mode!r} from Tune disagrees with OptimkitSearch(mode={self._mode!r}): give one"
                )
            self._mode = mode
        num_samples = spec.get("num_samples")
        if isinstance(num_samples, numbers.Integral) and not isinstance(num_samples, bool):
            self._num_samples = int(num_samples) if int(num_samples) > 0 else None
        if self._space_given or self._optimizer is not None:
            return not _contains_domain(config)
        if config:
            self._space = convert_search_space(config)
        return True

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        """Called by Tune's ``ConcurrencyLimiter`` (``max_concurrent_trials``): this searcher limits
        the trials in flight itself and uses the value as the optimizer's ``num_workers``."""
        self._max_concurrent = check_int("max_concurrent", max_concurrent, 1)
        return True

    # ------------------------------------------------------------------ ask
    def _ensure_optimizer(self) -> tuple[Optimizer, ConvertedSpace]:
        """The optimizer (built now from the space, budget and concurrency if not yet) and the space."""
        if self._optimizer is not None and self._space is not None:
            return self._optimizer, self._space
        if self._space is None:
            raise OptimkitRuntimeError(
                "OptimkitSearch has no search space: pass space= or give the Tuner a param_space"
            )
        param = self._space.parametrization
        if param.dimension == 0:
            raise OptimkitValueError("the search space holds no parameter to search (only constants)")
        if self._seed is not None:
            param.random_state = as_random_state(self._seed)
        budget = self._budget if self._budget is not None else self._num_samples
        optimizer = self._factory(param, budget, self._max_concurrent or 1)
        for point in reversed(self._points):  # optimizer.suggest is LIFO: the first point is asked first
            optimizer.suggest(self._space.from_config(point))
        self._points_queued = len(self._points)
        self._optimizer = optimizer
        return optimizer, self._space

    def _check_metric_mode(self) -> tuple[str, str]:
        if self._mode is None:
            raise OptimkitRuntimeError(
                "OptimkitSearch has no mode: pass mode='min' or 'max' to it or to tune.TuneConfig"
            )
        if self._metric is None:
            self._metric = DEFAULT_METRIC
        return self._metric, self._mode

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        """The config of a new trial (one ``ask``); None while ``max_concurrent`` trials run;
        ``Searcher.FINISHED`` once the optimizer's budget is asked."""
        self._check_metric_mode()
        optimizer, space = self._ensure_optimizer()
        if self._max_concurrent is not None and self._num_in_flight() >= self._max_concurrent:
            return None
        if optimizer.budget is not None and optimizer.num_ask >= optimizer.budget:
            return Searcher.FINISHED  # type: ignore[return-value]
        candidate = optimizer.ask()
        self._live[trial_id] = candidate
        if self._points_queued > 0:  # the optimizer asks its queued suggestions first
            self._points_queued -= 1
            self._point_trials.add(trial_id)
        return space.to_config(candidate.value)

    def _num_in_flight(self) -> int:
        # trials restored from a checkpoint are not counted: Tune may not run them again
        return sum(1 for cand in self._live.values() if cand is not None)

    # ------------------------------------------------------------------ tell
    def _metric_in(self, result: Mapping[str, Any]) -> float | None:
        metric = self._metric or DEFAULT_METRIC
        if metric in result:
            raw = result[metric]
        else:
            node: Any = result
            for part in metric.split("/"):
                if not isinstance(node, Mapping) or part not in node:
                    return None
                node = node[part]
            raw = node
        if isinstance(raw, bool) or not isinstance(raw, numbers.Real):
            raise OptimkitTypeError(f"metric {metric!r} must be a real number, got {raw!r}")
        return float(raw)

    def _loss(self, value: float) -> float:
        return -value if self._mode == "max" else value

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """Keep the trial's last reported metric (told if a scheduler stops the trial)."""
        if self._metric is None:
            return
        value = self._metric_in(result)
        if value is not None:
            self._last[trial_id] = value

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """Tell the trial's final metric (or its last reported one); handle errors by ``on_error``.

        Raises
        ------
        OptimkitValueError
            If ``result`` lacks the metric and no earlier result had it (the message names the
            metric and the keys present).
        """
        if error:
            self._complete_errored(trial_id)
            return
        last = self._last.get(trial_id)
        value = None if result is None else self._metric_in(result)
        if value is None and result is not None and last is None:
            raise OptimkitValueError(
                f"trial {trial_id} reported no metric {self._metric!r}; keys present: {sorted(result)}"
            )
        if value is None:
            value = last
        candidate = self._live.pop(trial_id, None)
        self._last.pop(trial_id, None)
        if self._optimizer is None or self._space is None:
            return
        optimizer, space = self._optimizer, self._space
        if value is None:  # removed before it reported anything: run it again later
            self._abandon(optimizer, trial_id, candidate)
            return
        self._point_trials.discard(trial_id)
        if candidate is not None:
            optimizer.tell(candidate, self._loss(value))
            self._stats["told"] += 1
            return
        config = None if result is None else _config_of(result)
        if config is None:
            warnings.warn(
                f"the result of trial {trial_id} (not asked by this searcher) has no config: not told",
                OptimkitWarning,
                stacklevel=2,
            )
            return
        self._tell_not_asked(optimizer, space, config, value)

    def _complete_errored(self, trial_id: str) -> None:
        self._stats["errored"] += 1
        candidate = self._live.pop(trial_id, None)
        last = self._last.pop(trial_id, None)
        point = trial_id in self._point_trials
        self._point_trials.discard(trial_id)
        optimizer = self._optimizer
        if optimizer is None or candidate is None:
            return
        if self._on_error == "last" and last is not None:
            optimizer.tell(candidate, self._loss(last))
            self._stats["told"] += 1
        elif self._on_error == "inf" or point:
            # an abandoned point_to_evaluate would be queued again (and fail again): the worst loss
            optimizer.tell(candidate, math.inf)
            self._stats["told"] += 1
        else:
            self._abandon(optimizer, trial_id, candidate)

    def _abandon(self, optimizer: Optimizer, trial_id: str, candidate: Parameter | None) -> None:
        if candidate is None:
            return
        optimizer.abandon(candidate)
        self._stats["abandoned"] += 1
        if trial_id in self._point_trials:  # the optimizer queued the point again
            self._point_trials.discard(trial_id)
            self._points_queued += 1

    def _tell_not_asked(
        self, optimizer: Optimizer, space: ConvertedSpace, config: Mapping[str, Any], value: float
    ) -> None:
        candidate = optimizer.parametrization.spawn_child(new_value=space.from_config(config))
        try:
            optimizer.tell(candidate, self._loss(value))
        except TellNotAskedNotSupportedError as exc:
            warnings.warn(f"a result was not told: {exc}", OptimkitWarning, stacklevel=3)
            return
        self._stats["told_not_asked"] += 1

    def add_evaluated_point(
        self,
        parameters: dict[str, Any],
        value: float,
        error: bool = False,
        pruned: bool = False,
        intermediate_values: list[float] | None = None,
    ) -> None:
        """Tell the optimizer a config evaluated elsewhere (tell-not-asked); errored points are
        skipped (told the worst value with ``on_error="inf"``), pruned ones told their value."""
        del intermediate_values
        self._check_metric_mode()
        optimizer, space = self._ensure_optimizer()
        if error:
            self._stats["errored"] += 1
            if self._on_error != "inf":
                return
            value = math.inf if self._mode == "min" else -math.inf
        self._tell_not_asked(optimizer, space, parameters, float(value))

    # ------------------------------------------------------------------ checkpoints
    def save(self, checkpoint_path: str) -> None:
        """Write the optimizer's dump and this searcher's bookkeeping (JSON) to one zip file,
        atomically. Called by Tune at each experiment checkpoint."""
        optimizer = self._optimizer
        if optimizer is None and self._space is not None:
            optimizer = self._ensure_optimizer()[0]
        state = {
            "format": _CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "metric": self._metric,
            "mode": self._mode,
            "on_error": self._on_error,
            "budget": self._budget,
            "num_samples": self._num_samples,
            "max_concurrent": self._max_concurrent,
            "grids": [g.to_json() for g in (self._space.grids if self._space is not None else ())],
            "live": sorted(self._live),
            "points_queued": self._points_queued,
            "point_trials": sorted(self._point_trials & set(self._live)),
            "last": {tid: _json_float(v) for tid, v in self._last.items()},
            "stats": self._stats,
        }
        path = os.fspath(checkpoint_path)
        directory = os.path.dirname(os.path.abspath(path))
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            archive = os.path.join(tmp, "searcher.zip")
            with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(_STATE_MEMBER, json.dumps(state, indent=1, allow_nan=False))
                if optimizer is not None:
                    dump = os.path.join(tmp, _DUMP_MEMBER)
                    optimizer.dump(dump)
                    zf.write(dump, _DUMP_MEMBER)
            os.replace(archive, path)

    def restore(self, checkpoint_path: str) -> None:
        """Restore a checkpoint written by :meth:`save` (the optimizer through ``optimkit.load``).

        Trials in flight at save time are re-run by Tune; their results are told to the restored
        optimizer as points it did not ask (its own candidates were abandoned by the load).
        """
        path = os.fspath(checkpoint_path)
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if _STATE_MEMBER not in names:
                    raise LoadError(f"{path!r} is not an OptimkitSearch checkpoint (no {_STATE_MEMBER})")
                state = json.loads(zf.read(_STATE_MEMBER))
                optimizer = None
                if _DUMP_MEMBER in names:
                    with tempfile.TemporaryDirectory() as tmp:
                        optimizer = load_optimizer(zf.extract(_DUMP_MEMBER, tmp))
        except (zipfile.BadZipFile, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise LoadError(f"{path!r} is not a readable OptimkitSearch checkpoint: {exc}") from exc
        if not isinstance(state, dict) or state.get("format") != _CHECKPOINT_FORMAT:
            raise LoadError(f"{path!r} is not an OptimkitSearch checkpoint")
        if state.get("version") != CHECKPOINT_VERSION:
            raise LoadError(
                f"{path!r} is an OptimkitSearch checkpoint of version {state.get('version')!r}; "
                f"this optimkit reads version {CHECKPOINT_VERSION}"
            )
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise LoadError(f"{path!r} holds a {type(optimizer).__name__}, not an optimizer")
        self._metric = state["metric"]
        self._mode = state["mode"]
        self._on_error = check_choice("on_error", state["on_error"], _ON_ERROR)
        self._budget = state["budget"]
        self._num_samples = state["num_samples"]
        self._max_concurrent = state["max_concurrent"]
        self._live = {str(tid): None for tid in state["live"]}
        # the load abandoned the points in flight: the optimizer queued them again
        self._points_queued = int(state["points_queued"]) + len(state["point_trials"])
        self._point_trials = set()
        self._last = {str(tid): float(v) for tid, v in state["last"].items()}
        self._stats = {k: int(state["stats"].get(k, 0)) for k in self._stats}
        if optimizer is not None:
            if not isinstance(optimizer.parametrization, DictParam):
                raise LoadError(f"{path!r}: the optimizer's parametrization is not an ok.p.Dict")
            grids = tuple(Grid.from_json(g) for g in state["grids"])
            self._space = ConvertedSpace(optimizer.parametrization, grids)
            self._optimizer = optimizer
            self._points = []  # queued in the restored optimizer already


def _resolve_factory(optimizer: Any) -> ConfiguredOptimizer | type[Optimizer]:
    if isinstance(optimizer, str):
        try:
            found = registry[optimizer]
        except KeyError as exc:
            raise OptimkitValueError(str(exc.args[0])) from exc
        return found  # type: ignore[no-any-return]
    if isinstance(optimizer, ConfiguredOptimizer):
        return optimizer
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer
    raise OptimkitTypeError(
        "optimizer must be a registry name (str), a ConfiguredOptimizer or an Optimizer subclass, "
        f"got {optimizer!r}"
    )
