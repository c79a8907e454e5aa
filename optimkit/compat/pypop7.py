"""pypop7-compatible front ends: ``XNES(problem, options).optimize()`` and ``SNES`` (minimize).

A pypop7 user switches by changing the import::

    from optimkit.compat.pypop7 import XNES      # was: from pypop7.optimizers.nes.xnes import XNES

    problem = {"fitness_function": rosenbrock, "ndim_problem": 2,
               "lower_boundary": -5 * np.ones(2), "upper_boundary": 5 * np.ones(2)}
    options = {"max_function_evaluations": 5000, "seed_rng": 2022, "mean": 3 * np.ones(2), "sigma": 0.1}
    results = XNES(problem, options).optimize()   # results["best_so_far_y"] < 1e-10

Same as pypop7 0.0.82: the keys, the defaults (``n_individuals = 4 + floor(3 ln d)``, the learning rates),
the result dict, and the random streams: ``seed_rng`` (or ``seed_initialization``/``seed_optimization``)
gives the same initial mean and the same samples as pypop7, so with ``sigma=1.0`` (XNES) and until the
first restart a run follows pypop7's trajectory up to floating-point rounding.

Differences from pypop7 0.0.82, all deliberate:

- ``sigma`` is honoured by ``XNES`` (pypop7 overwrites it and always starts with ``A = I``); its default
  is 1.0, which is what pypop7 effectively uses. ``SNES`` needs ``sigma`` as in pypop7, with a clear error.
- A key that pypop7 does not know either (a typo) raises ``OptimkitValueError`` with the closest valid
  key; pypop7 ignores it silently. Keys pypop7 knows but this layer does not implement (``n_parents``,
  ``early_stopping_*``, ``sigma_threshold``, ``stagnation``, ``fitness_diff``...)
  give an ``OptimkitWarning`` and are ignored. The caller's dicts are never modified.
- Restarts (``is_restart``, default True as in pypop7) double the population from a uniform random mean
  in the initial box, but fire on a collapsed distribution (relative criteria, see
  ``optimkit.algorithms.nes.common.stop_reason``, with a purely relative ``tol_fun``:
  ``tol_fun_floor=0``) instead of pypop7's absolute 1e-12 improvement test,
  which restarts a run that is still converging once the loss is about 1e-12. With ``is_restart=False``
  a collapsed run ends early and ``termination_signal`` says ``"DISTRIBUTION_COLLAPSE"``.
- ``time_function_evaluations`` is timed per generation (the evaluation loop), not per call.
- ``termination_signal`` is the name of pypop7's ``Terminations`` member as a string; ``fitness`` is
  None (``saving_fitness`` is not implemented). NaN losses rank worst and are never the best.
- Like pypop7, the search is not confined to the boundaries (``success`` says whether the best point
  lies inside them).
"""

from __future__ import annotations

import difflib
import math
import time
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from ..algorithms.nes import common, snes, xnes
from ..errors import OptimkitValueError, OptimkitWarning
from ..validation import check_int, check_real

__all__ = ["XNES", "SNES"]

_PROBLEM_KEYS = {"fitness_function", "ndim_problem", "lower_boundary", "upper_boundary",
                 "initial_lower_boundary", "initial_upper_boundary", "problem_name"}
_OPTION_KEYS = {"max_function_evaluations", "max_runtime", "fitness_threshold", "seed_rng", "seed_initialization",
                "seed_optimization", "n_individuals", "mean", "x", "sigma", "lr_mean", "lr_sigma", "is_restart",
                "verbose", "saving_fitness"}
# keys pypop7 reads but this layer does not implement: a warning, not an error
_IGNORED_KEYS = {"n_parents", "sigma_threshold", "stagnation", "fitness_diff", "early_stopping_evaluations",
                 "early_stopping_threshold", "n_function_evaluations", "time_function_evaluations", "runtime",
                 "best_so_far_y"}


def _check_keys(kind: str, given: dict[str, Any], known: set[str], ignored: set[str]) -> None:
    for key in given:
        if key in known:
            continue
        if key in ignored:
            warnings.warn(f"{kind}[{key!r}] is a pypop7 option that optimkit.compat.pypop7 does not "
                          f"implement; it is ignored", OptimkitWarning, stacklevel=4)
            continue
        close = difflib.get_close_matches(str(key), sorted(known | ignored), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise OptimkitValueError(f"unknown {kind} key {key!r}{hint}; accepted keys: {sorted(known)}")


class _NES:
    """Shared driver: pypop7's problem/options dicts over optimkit's pure XNES/SNES core ``_algorithm``."""

    _algorithm: ClassVar[ModuleType]  # optimkit.algorithms.nes.xnes or .snes
    _sigma_required = False

    def __init__(self, problem: dict[str, Any], options: dict[str, Any]) -> None:
        problem, options = dict(problem), dict(options)  # never touch the caller's dicts
        _check_keys("problem", problem, _PROBLEM_KEYS, set())
        _check_keys("options", options, _OPTION_KEYS, _IGNORED_KEYS)
        self.fitness_function: Callable[..., Any] | None = problem.get("fitness_function")
        self.ndim_problem = check_int("problem['ndim_problem']", problem.get("ndim_problem"), 1)
        self.lower_boundary = problem.get("lower_boundary")
        self.upper_boundary = problem.get("upper_boundary")
        self.initial_lower_boundary = problem.get("initial_lower_boundary", self.lower_boundary)
        self.initial_upper_boundary = problem.get("initial_upper_boundary", self.upper_boundary)
        self.max_function_evaluations = options.get("max_function_evaluations", math.inf)
        self.max_runtime = options.get("max_runtime", math.inf)
        self.fitness_threshold = options.get("fitness_threshold", -math.inf)
        for name in ("max_function_evaluations", "max_runtime"):
            check_real(f"options[{name!r}]", getattr(self, name), 0.0, low_open=True, finite=False)
        # pypop7's seeding, draw for draw: seed_rng -> (seed_initialization, seed_optimization), the first
        # drawing initial (and restart) means, the second the samples, so a run starts exactly as pypop7's
        self.seed_rng = options.get("seed_rng")
        self.rng = np.random.default_rng(self.seed_rng)
        drawn = [self.rng.integers(np.iinfo(np.int64).max) for _ in range(2)]
        self.seed_initialization = options.get("seed_initialization", drawn[0])
        self.seed_optimization = options.get("seed_optimization", drawn[1])
        self.rng_initialization = np.random.default_rng(self.seed_initialization)
        self.rng_optimization = np.random.default_rng(self.seed_optimization)
        self.n_individuals = options.get("n_individuals")
        if self._sigma_required and options.get("sigma") is None:
            raise OptimkitValueError(f"options['sigma'] (the initial step size, a number > 0) is required "
                                     f"by {type(self).__name__}")
        self.sigma = 1.0 if options.get("sigma") is None else options["sigma"]
        self.is_restart = bool(options.get("is_restart", True))
        self.verbose = options.get("verbose", 10)
        restarts = math.inf if self.is_restart else 0
        try:
            self.params = self._make_params(options, restarts)
        except OptimkitValueError as exc:  # name the pypop7 key rather than optimkit's option
            raise OptimkitValueError(str(exc).replace("popsize", "options['n_individuals']")
                                     .replace("sigma must", "options['sigma'] must")) from exc
        mean = options.get("mean", options.get("x"))
        if mean is None and (self.initial_lower_boundary is None or self.initial_upper_boundary is None):
            raise OptimkitValueError("give options['mean'] or both problem['lower_boundary'] and "
                                     "problem['upper_boundary'] (the initial mean is drawn between them)")
        try:
            self.mean = None if mean is None else common.check_mean(mean, self.ndim_problem)
        except OptimkitValueError as exc:
            raise OptimkitValueError(f"options['mean']: {exc}") from exc

    def _make_params(self, options: dict[str, Any], restarts: float) -> common.Params:
        raise NotImplementedError

    def _final_sigma(self, state: Any) -> Any:
        raise NotImplementedError

    def _random_mean(self) -> np.ndarray:
        low = np.broadcast_to(np.asarray(self.initial_lower_boundary, dtype=np.float64), (self.ndim_problem,))
        high = np.broadcast_to(np.asarray(self.initial_upper_boundary, dtype=np.float64), (self.ndim_problem,))
        return np.asarray(self.rng_initialization.uniform(low, high), dtype=np.float64)

    def optimize(self, fitness_function: Callable[..., Any] | None = None, args: Any = None) -> dict[str, Any]:
        """Run until the budget, ``max_runtime`` or ``fitness_threshold``; return pypop7's result dict."""
        start = time.time()
        func = fitness_function if fitness_function is not None else self.fitness_function
        if not callable(func):
            raise OptimkitValueError(f"problem['fitness_function'] must be callable, got {func!r}")
        core, params = self._algorithm, self.params
        initial_mean = self.mean.copy() if self.mean is not None else self._random_mean()
        state = core.init(params, initial_mean)
        best_x, best_y, nfev, fev_time, signal = None, math.inf, 0, 0.0, "NO_TERMINATION"
        generations, budget = 0, self.max_function_evaluations
        timed, threshold = math.isfinite(self.max_runtime), self.fitness_threshold
        while signal == "NO_TERMINATION":
            z = self.rng_optimization.standard_normal((state.popsize, self.ndim_problem))
            x = core.ask(params, state, z)
            values: list[float] = []
            t0 = time.time()
            for k in range(len(x)):
                value = float(func(x[k]) if args is None else func(x[k], args=args))
                values.append(value)
                nfev += 1
                if value < best_y:  # NaN never compares smaller
                    best_x, best_y = x[k].copy(), value
                    if best_y <= threshold:
                        signal = "FITNESS_THRESHOLD"
                if nfev >= budget:
                    signal = "MAX_FUNCTION_EVALUATIONS"
                elif timed and time.time() - start >= self.max_runtime:
                    signal = "MAX_RUNTIME"
                if signal != "NO_TERMINATION":
                    break
            fev_time += time.time() - t0
            if signal != "NO_TERMINATION":
                break
            y = np.array(values)
            state = core.tell(params, state, x, y, z=z)
            generations += 1
            if self.verbose and generations % int(self.verbose) == 0:
                print(f"  * Generation {generations:d}: best_so_far_y {best_y:7.5e}, min(y) {np.min(y):7.5e} "
                      f"& Evaluations {nfev:d}")
            if state.stop is not None:
                if common.can_restart(params, state):
                    state, generations = core.restart(params, state, self._random_mean()), 0
                else:
                    signal = "DISTRIBUTION_COLLAPSE"
        success = best_x is not None and not np.isnan(best_y)
        if success and self.lower_boundary is not None and self.upper_boundary is not None:
            success = bool(np.all(np.asarray(self.lower_boundary) <= best_x)
                           and np.all(best_x <= np.asarray(self.upper_boundary)))
        return {"best_so_far_x": best_x, "best_so_far_y": best_y, "n_function_evaluations": nfev,
                "runtime": time.time() - start, "termination_signal": signal,
                "time_function_evaluations": fev_time, "fitness": None, "success": bool(success),
                "mean": state.mean.copy(), "initial_mean": initial_mean, "sigma": self._final_sigma(state),
                "_n_restart": state.num_restarts, "_n_generations": generations}


class XNES(_NES):
    """Exponential NES with a full covariance, under pypop7's ``XNES`` interface (minimizes).

    Options used: ``max_function_evaluations``, ``max_runtime``, ``fitness_threshold``, ``seed_rng``,
    ``n_individuals`` (default ``4 + floor(3 ln d)``), ``mean`` (or ``x``; default uniform in the
    boundaries), ``sigma`` (default 1.0), ``lr_mean``, ``lr_sigma`` (also the shape's rate), ``is_restart``,
    ``verbose`` (print every that many generations; pypop7's default 10; 0 or False for silence).
    See the module docstring for what differs from pypop7.

    References
    ----------
    Glasmachers et al. (2010), Exponential natural evolution strategies, GECCO.
    """

    _algorithm: ClassVar[ModuleType] = xnes

    def _make_params(self, options: dict[str, Any], restarts: float) -> xnes.Params:
        lr_sigma = options.get("lr_sigma")
        return xnes.Params(dimension=self.ndim_problem, popsize=self.n_individuals, sigma=self.sigma,
                           lr_mean=options.get("lr_mean"), lr_sigma=lr_sigma, lr_b=lr_sigma, restarts=restarts,
                           restart_strategy="ipop", tol_fun_floor=0.0)

    def _final_sigma(self, state: Any) -> float:
        return float(state.sigma)


class SNES(_NES):
    """Separable NES (one step size per variable), under pypop7's ``SNES`` interface (minimizes).

    Same options as :class:`XNES`, except that ``sigma`` is required (as in pypop7). Linear in the
    dimension per sample: fine for tens of thousands of variables.

    References
    ----------
    Schaul, Glasmachers, Schmidhuber (2011), High dimensions and heavy tails for natural evolution
    strategies, GECCO.
    """

    _algorithm: ClassVar[ModuleType] = snes
    _sigma_required = True

    def _make_params(self, options: dict[str, Any], restarts: float) -> snes.Params:
        return snes.Params(dimension=self.ndim_problem, popsize=self.n_individuals, sigma=self.sigma,
                           lr_mean=options.get("lr_mean"), lr_sigma=options.get("lr_sigma"), restarts=restarts,
                           restart_strategy="ipop", tol_fun_floor=0.0)

    def _final_sigma(self, state: Any) -> Any:
        return np.array(state.sigma, dtype=np.float64)
