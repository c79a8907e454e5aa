"""The ask/tell ``Optimizer`` base class, ``ConfiguredOptimizer`` families and the ``registry``.

The public methods (``ask``, ``tell``, ``recommend``, ``minimize``) do the bookkeeping
(counters, bests, Pareto front, callbacks, constraints, NaN handling) and call small
``_internal_*`` hooks that each algorithm implements (see ``docs/internals.md``).
Everything on the per-candidate path is kept cheap: a few attribute updates and no copies.
"""

from __future__ import annotations

import difflib
import hashlib
import heapq
import inspect
import io
import json
import math
import os
import pickle
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .. import errors
from .. import rng as _rng
from ..parametrization import Array, Parameter
from . import pareto as _pareto

X = TypeVar("X", bound="Optimizer")
Loss = Any

__all__ = ["Optimizer", "ConfiguredOptimizer", "Registry", "registry", "MultiValue", "load"]

_MAGIC = b"OPTIMKIT-DUMP\n"
_MAX_CONSTRAINT_TRIES = 100
_BEST_NAMES = ("optimistic", "pessimistic", "average", "minimum")
_NUM_RUNNERS_UP = 16  # archived besides the bests; 64 cost a quarter of all tells in improving runs
_NO_DATA = np.zeros(0)


class MultiValue:
    """Statistics of the losses told for one point (repeated evaluations of noisy objectives).

    ``optimistic``/``pessimistic`` are the mean minus/plus ``0.1 * sqrt(variance / (1 + count))``,
    with a large prior variance for a single evaluation, as in nevergrad.
    """

    __slots__ = (
        "parameter", "count", "mean", "square", "minimum", "variance", "optimistic", "pessimistic", "data", "first",
    )

    def __init__(self, parameter: Parameter, loss: float, data: NDArray[np.float64] | None = None) -> None:
        self.parameter = parameter
        self.data: NDArray[np.float64] = _NO_DATA if data is None else data  # the point's standardized data
        self.first: Any = self.data.item(0) if self.data.shape[0] else None  # a cheap pre-check (a float)
        self.count = 1
        self.mean = loss
        self.square = loss * loss
        self.minimum = loss
        self.variance = 1.0e6
        self.optimistic = loss - 70.71067811865476  # 0.1 * sqrt(1e6 / 2)
        self.pessimistic = loss + 70.71067811865476

    def add_evaluation(self, loss: float) -> None:
        """Account for one more evaluation of the same point."""
        self.minimum = min(self.minimum, loss)
        self.mean = (self.count * self.mean + loss) / (self.count + 1)
        self.square = max((self.count * self.square + loss * loss) / (self.count + 1), self.mean**2)
        self.count += 1
        if not math.isfinite(self.mean):  # an infinite (failed) evaluation: no spread to speak of
            self.variance, self.optimistic, self.pessimistic = math.inf, self.mean, self.mean
            return
        self.variance = math.sqrt(self.count / (self.count - 1.0)) * max(self.square - self.mean**2, 0.0)
        delta = 0.1 * math.sqrt(self.variance / (1 + self.count))
        self.optimistic = self.mean - delta
        self.pessimistic = self.mean + delta

    def get_estimation(self, name: str) -> float:
        """The loss estimate used for the ``current_bests`` entry ``name``."""
        if name == "average":
            return float(self.mean)
        return float(getattr(self, name))

    @property
    def optimistic_confidence_bound(self) -> float:
        return float(self.optimistic)

    @property
    def pessimistic_confidence_bound(self) -> float:
        return float(self.pessimistic)

    def __repr__(self) -> str:
        return f"MultiValue(mean={self.mean:g}, count={self.count}, parameter={self.parameter!r})"


class Optimizer:
    """Base class of ask/tell optimizers (nevergrad style). Optimizers minimize.

    Parameters
    ----------
    parametrization : int or Parameter
        The dimension of a plain ``Array``, or a parametrization (``ok.p.*``).
    budget : int, optional
        The number of evaluations ``minimize`` runs.
    num_workers : int
        How many evaluations may be in flight at once (asks before the matching tells).
    seed : int, optional
        Reseeds ``parametrization.random_state`` (the one generator every draw comes from).
    """

    recast = False
    no_parallelization = False
    _admit = _admit_bests = math.inf  # class default: an optimizer loaded from an older dump decides exactly

    def __init__(
        self,
        parametrization: int | Parameter,
        budget: int | None = None,
        num_workers: int = 1,
        *,
        seed: Any = None,
    ) -> None:
        if isinstance(parametrization, (int, np.integer)) and not isinstance(parametrization, bool):
            if parametrization < 1:
                raise errors.OptimkitValueError(f"parametrization (a dimension) must be >= 1, got {parametrization}")
            parametrization = Array(shape=(int(parametrization),))
        if not isinstance(parametrization, Parameter):
            raise errors.OptimkitTypeError(
                f"parametrization must be an int (dimension) or an optimkit Parameter, got {type(parametrization).__name__}"
            )
        if budget is not None and (not isinstance(budget, (int, np.integer)) or isinstance(budget, bool) or budget < 0):
            raise errors.OptimkitValueError(f"budget must be None or an int >= 0, got {budget!r}")
        if not isinstance(num_workers, (int, np.integer)) or isinstance(num_workers, bool) or num_workers < 1:
            raise errors.OptimkitValueError(f"num_workers must be an int >= 1, got {num_workers!r}")
        self.parametrization = parametrization
        if seed is not None:
            parametrization.random_state = _rng.as_random_state(seed)
        else:
            parametrization.random_state  # noqa: B018 - create the shared generator now
        self.budget = None if budget is None else int(budget)
        self.num_workers = int(num_workers)
        self.name = type(self).__name__
        self._num_ask = 0
        self._num_tell = 0
        self._num_tell_not_asked = 0
        self._callbacks: dict[str, list[Callable[..., Any]]] = {"ask": [], "tell": []}
        self._suggestions: deque[Parameter] = deque()
        self._suggested: set[int] = set()
        self._asked: dict[int, Parameter] = {}
        self._archive: dict[bytes, MultiValue] = {}  # points that were a best when told
        self._archive_max = 10_000
        self._top_losses: list[float] = []  # max-heap (negated) of the best single losses seen
        self._runner_up = math.inf  # losses below this are archived even if not a best
        self._distinct_bests: tuple[MultiValue, ...] = ()
        self._admit = self._admit_bests = math.inf  # a loss >= _admit enters neither bests nor archive
        self.current_bests: dict[str, MultiValue] = {}
        self._num_objectives: int | None = None
        self._pareto: _pareto.ParetoFront | None = None
        self._fast = isinstance(parametrization, Array)
        self._check_constraints = parametrization._has_constraints()
        self._warned: set[str] = set()
        self._batch_pending: list[Parameter] = []
        self._noisy = False

    # ------------------------------------------------------------------ properties
    @property
    def dimension(self) -> int:
        """Dimension of the standardized space."""
        return self.parametrization.dimension

    @property
    def num_ask(self) -> int:
        """Number of candidates asked (abandoned ones excluded)."""
        return self._num_ask

    @property
    def num_tell(self) -> int:
        """Number of losses told (including tell-not-asked)."""
        return self._num_tell

    @property
    def num_tell_not_asked(self) -> int:
        """Number of losses told for candidates this optimizer did not ask."""
        return self._num_tell_not_asked

    @property
    def num_objectives(self) -> int:
        """Number of objectives (known after the first tell; 0 before)."""
        return self._num_objectives or 0

    @property
    def _rng(self) -> _rng.RandomLike:
        return self.parametrization.random_state

    def _spawn(self, data: NDArray[np.float64], value: NDArray[np.float64] | None = None) -> Parameter:
        """A child of the parametrization with standardized ``data`` (float64, flat, trusted).

        ``value``: a row of ``_bulk_values(rows)`` for the same data, computed once per batch.
        """
        if self._fast:
            return self.parametrization._fast_child(data, value)  # type: ignore[attr-defined, no-any-return]
        return self.parametrization.spawn_child().set_standardized_data(data, reference=self.parametrization)

    def _bulk_values(self, rows: NDArray[np.float64]) -> NDArray[np.float64] | None:
        """Values of many rows of standardized data at once (plain Arrays), else None.

        Population methods call it once per generation and hand the rows to ``_spawn``, so that
        asking a candidate costs no arithmetic.
        """
        param = self.parametrization
        if self._fast and param._value_is_raw:  # type: ignore[attr-defined]
            return param._values_from_data(rows)  # type: ignore[attr-defined, no-any-return]
        return None

    def _data_of(self, candidate: Parameter) -> NDArray[np.float64]:
        cache = candidate._std_cache
        if cache is not None and cache[0] is self.parametrization:
            return cache[1]
        try:
            return candidate.get_standardized_data(reference=self.parametrization)
        except (ValueError, AttributeError, TypeError, KeyError) as exc:
            raise errors.OptimkitValueError(
                f"candidate {candidate!r} does not match this optimizer's parametrization "
                f"({self.parametrization.name}); spawn it with parametrization.spawn_child()"
            ) from exc

    # ------------------------------------------------------------------ callbacks
    def register_callback(self, name: str, callback: Callable[..., Any]) -> None:
        """Call ``callback(optimizer)`` at each ask, or ``callback(optimizer, candidate, loss)`` at each tell."""
        if name not in ("ask", "tell"):
            raise errors.OptimkitValueError(f"callback name must be 'ask' or 'tell', got {name!r}")
        if not callable(callback):
            raise errors.OptimkitTypeError(f"callback must be callable, got {callback!r}")
        self._callbacks[name].append(callback)

    def remove_all_callbacks(self) -> None:
        """Remove every registered callback."""
        self._callbacks = {"ask": [], "tell": []}

    # ------------------------------------------------------------------ ask
    def suggest(self, *args: Any, **kwargs: Any) -> None:
        """Queue a value to be asked next (last suggested, first asked), as ``suggest(*args, **kwargs)``."""
        from ..parametrization import Instrumentation

        if isinstance(self.parametrization, Instrumentation):
            value: Any = (args, kwargs)
        else:
            if len(args) != 1 or kwargs:
                raise errors.OptimkitValueError(
                    "suggest expects exactly one positional value for a non-Instrumentation parametrization"
                )
            value = args[0]
        self._suggestions.append(self.parametrization.spawn_child(new_value=value))

    def ask(self) -> Parameter:
        """A candidate to evaluate; tell its loss with ``tell(candidate, loss)``."""
        for callback in self._callbacks["ask"]:
            callback(self)
        if self._suggestions:
            candidate = self._suggestions.pop()
            self._suggested.add(candidate._uid)
        else:
            candidate = self._internal_ask_candidate()
            if self._check_constraints:
                candidate = self._constrained(candidate)
        self._asked[candidate._uid] = candidate
        self._num_ask += 1
        return candidate

    def _constrained(self, candidate: Parameter) -> Parameter:
        for _ in range(_MAX_CONSTRAINT_TRIES - 1):
            if candidate.satisfies_constraints():
                return candidate
            # the optimizer learns that this region is infeasible, then proposes again
            self._internal_tell_candidate(candidate, math.inf)
            candidate = self._internal_ask_candidate()
        if not candidate.satisfies_constraints():
            warnings.warn(
                f"no candidate satisfying the cheap constraints found in {_MAX_CONSTRAINT_TRIES} tries; "
                "asking an unsatisfying one",
                errors.FailedConstraintWarning,
                stacklevel=3,
            )
        return candidate

    # ------------------------------------------------------------------ tell
    def tell(
        self,
        candidate: Parameter,
        loss: Loss,
        constraint_violation: Any = None,
        penalty_style: Any = None,
    ) -> None:
        """Tell the loss (a float, or a vector for several objectives) of ``candidate``.

        NaN losses are kept in ``candidate.loss`` but count as the worst loss (one warning).
        ``constraint_violation`` (a float or vector, > 0 when violated) adds a penalty to the loss.
        """
        if not isinstance(candidate, Parameter):
            raise errors.OptimkitTypeError(f"tell expects a Parameter candidate, got {type(candidate).__name__}")
        if loss.__class__ is float and loss == loss and self._num_objectives == 1 and constraint_violation is None:
            value = candidate._loss = loss  # the common case: nothing to convert or check
        else:
            if isinstance(loss, (float, int, np.floating, np.integer)):
                value = self._scalar_loss(candidate, float(loss))
            else:
                value = self._tell_vector(candidate, loss)
            if constraint_violation is not None:
                value = value + self._penalty(value, constraint_violation, penalty_style)
        self._update_bests(candidate, value)
        uid = candidate._uid
        if self._asked.pop(uid, None) is not None and uid not in self._suggested:
            self._internal_tell_candidate(candidate, value)
        else:
            self._tell_other(candidate, value)
        self._num_tell += 1
        for callback in self._callbacks["tell"]:
            callback(self, candidate, candidate._loss if candidate._losses is None else candidate._losses)

    def _tell_other(self, candidate: Parameter, loss: float) -> None:
        """A suggestion (asked, popped from ``_asked`` already) or a candidate never asked."""
        uid = candidate._uid
        if uid in self._suggested:
            self._suggested.discard(uid)
            self._tell_suggestion(candidate, loss)
        else:
            self._num_tell_not_asked += 1
            self._internal_tell_not_asked(candidate, loss)

    def _tell_vector(self, candidate: Parameter, loss: Any) -> float:
        try:
            arr = np.asarray(loss, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise errors.OptimkitTypeError(f"loss must be a float or a vector of floats, got {loss!r}") from exc
        if arr.ndim > 1 or arr.size == 0:
            raise errors.OptimkitValueError(f"loss must be a float or a 1-D vector, got shape {arr.shape}")
        if arr.size == 1:
            return self._scalar_loss(candidate, float(arr.ravel()[0]))
        if self._num_objectives is None:
            self._num_objectives = arr.size
            self._pareto = _pareto.ParetoFront(arr.size)
        elif self._num_objectives != arr.size:
            raise errors.OptimkitValueError(
                f"expected {self._num_objectives} objectives (as in the first tell), got {arr.size}"
            )
        arr = arr.copy()
        candidate._losses = arr
        candidate._loss = float(arr[0])
        if np.isnan(arr).any():
            self._warn_once("nan", "a NaN loss was told: it is kept in the record and treated as +inf")
        assert self._pareto is not None
        self._pareto.add(candidate, np.where(np.isnan(arr), np.inf, arr))
        return self._pareto.scalarize(np.where(np.isnan(arr), np.inf, arr))

    def _scalar_loss(self, candidate: Parameter, value: float) -> float:
        """Record a scalar loss on ``candidate``; the loss the optimizer sees (NaN counts as +inf)."""
        if self._num_objectives is None:
            self._num_objectives = 1
        elif self._num_objectives != 1:
            if math.isinf(value) or value != value:  # a failed evaluation: worst on every objective
                return self._tell_vector(candidate, np.full(self._num_objectives, value))
            raise errors.OptimkitValueError(
                f"expected {self._num_objectives} objectives (as in the first tell), got a scalar loss"
            )
        candidate._loss = value
        if value != value:
            self._warn_once("nan", "a NaN loss was told: it is kept in the record and treated as +inf")
            return math.inf
        return value

    def _penalty(self, loss: float, violation: Any, penalty_style: Any) -> float:
        a, b, c, d, e, f = (1e5, 1.0, 0.5, 1.0, 0.5, 1.0) if penalty_style is None else penalty_style
        viol = np.maximum(np.asarray(violation, dtype=np.float64), 0.0)
        if not viol.any():
            return 0.0
        return float((a + max(loss, 0.0)) * (f + self._num_tell) ** e * (b * np.sum(viol**c)) ** d)

    def _tell_suggestion(self, candidate: Parameter, loss: float) -> None:
        try:
            self._internal_tell_not_asked(candidate, loss)
        except errors.TellNotAskedNotSupportedError:
            self._warn_once(
                "suggest",
                f"{self.name} cannot learn from suggested points: the suggestion is evaluated and can be "
                "recommended, but does not steer the search",
            )

    def _warn_once(self, key: str, message: str, category: type[Warning] = errors.OptimkitWarning) -> None:
        if key not in self._warned:
            self._warned.add(key)
            if key == "nan":
                category = errors.NanLossWarning
            warnings.warn(message, category, stacklevel=3)

    def _update_bests(self, candidate: Parameter, loss: float) -> None:
        """Update the archive and ``current_bests`` (nevergrad's estimates, kept cheap).

        Only points that were a best, or among the 16 best losses, when told are archived (as
        ``MultiValue`` records keyed by their data). Any other point costs a few float comparisons
        and a check that it is not a re-evaluation of a current best; re-evaluations of such
        points are counted as new points.
        """
        bests = self.current_bests
        cache = candidate._std_cache
        data = cache[1] if cache is not None and cache[0] is self.parametrization else self._data_of(candidate)
        if not bests:
            mv = MultiValue(candidate, loss, self._own_memory(candidate, data))
            self._archive[data.tobytes()] = mv
            for name in _BEST_NAMES:
                bests[name] = mv
            self._bests_changed()
            return
        if loss >= self._admit:  # the common case, decided by one comparison (see _bests_changed)
            self._check_reevaluation(data, loss)
            return
        # a new point has a single evaluation: its estimates are loss -/+ 70.71, loss, loss
        new_opt = loss - 70.71067811865476 < bests["optimistic"].optimistic
        new_pes = loss + 70.71067811865476 < bests["pessimistic"].pessimistic
        new_avg = loss < bests["average"].mean
        new_min = loss < bests["minimum"].minimum
        if not (new_opt or new_pes or new_avg or new_min) and loss >= self._runner_up:
            self._check_reevaluation(data, loss)
            return
        new_best = new_opt or new_pes or new_avg or new_min
        if not new_best:
            # among the best losses seen so far: archive it, a later reboot may need it
            top = self._top_losses
            if len(top) < _NUM_RUNNERS_UP:
                heapq.heappush(top, -loss)
            else:
                heapq.heapreplace(top, -loss)
                self._runner_up = -top[0]
        key = data.tobytes()
        archive = self._archive
        entry = archive.get(key)
        if entry is not None:
            self._reevaluate(entry, loss)
            return
        if len(archive) >= self._archive_max:
            self._prune_archive()
        archive[key] = mv = MultiValue(candidate, loss, self._own_memory(candidate, data))
        if not new_best:  # a runner-up: the bests stay, only the bound may move
            self._admit = max(self._admit_bests, self._runner_up)
            return
        if new_opt:
            bests["optimistic"] = mv
        if new_pes:
            bests["pessimistic"] = mv
        if new_avg:
            bests["average"] = mv
        if new_min:
            bests["minimum"] = mv
        self._bests_changed()

    @staticmethod
    def _own_memory(candidate: Parameter, data: NDArray[np.float64]) -> NDArray[np.float64]:
        """``data`` and ``candidate`` without memory shared with a batch, for the archive: a kept row
        view would keep its whole batch (popsize rows of data and values) alive."""
        cache = candidate._std_cache
        cached = cache is not None and cache[1] is data
        own = candidate._own_memory()
        if cached and own is not None:
            return own
        return data.copy() if data.base is not None else data

    def _check_reevaluation(self, data: NDArray[np.float64], loss: float) -> None:
        """A point that enters no best: if it is one of the current bests, count the new evaluation."""
        first = data.item(0) if data.shape[0] else None
        for mv in self._distinct_bests:
            if mv.first == first and np.array_equal(mv.data, data):
                self._reevaluate(mv, loss)
                return

    def _bests_changed(self) -> None:
        """After a change of the bests: the distinct bests, and the admission bound ``_admit``, the
        lowest loss at which a new point surely passes none of the tests of :meth:`_update_bests`
        (``nextafter`` covers the rounding of ``loss -/+ 70.71``; a new runner-up only lowers the
        ``_runner_up`` part, see there)."""
        bests = self.current_bests
        self._distinct_bests = tuple({id(b): b for b in bests.values()}.values())
        self._admit_bests = max(
            math.nextafter(bests["optimistic"].optimistic + 70.71067811865476, math.inf),
            math.nextafter(bests["pessimistic"].pessimistic - 70.71067811865476, math.inf),
            bests["average"].mean,
            bests["minimum"].minimum,
        )
        self._admit = max(self._admit_bests, self._runner_up)

    def _reevaluate(self, mv: MultiValue, loss: float) -> None:
        bests = self.current_bests
        if loss != mv.mean:
            self._noisy = True  # the same point gave two different losses
        before = {name: mv.get_estimation(name) for name in _BEST_NAMES if bests[name] is mv}
        mv.add_evaluation(loss)
        for name in _BEST_NAMES:
            if name in before:
                if mv.get_estimation(name) > before[name]:  # got worse: another point may be better now
                    bests[name] = min(self._archive.values(), key=lambda m, n=name: m.get_estimation(n))  # type: ignore[misc]
            elif mv.get_estimation(name) < bests[name].get_estimation(name):
                bests[name] = mv
        self._bests_changed()

    def _prune_archive(self) -> None:
        """Keep the current bests and the best tenth of the archive by average loss."""
        keep = heapq.nsmallest(self._archive_max // 10, self._archive.items(), key=lambda kv: kv[1].mean)
        self._archive = dict(keep)
        for mv in self.current_bests.values():
            self._archive[mv.data.tobytes()] = mv

    # ------------------------------------------------------------------ abandon
    def _abandon(self, candidate: Parameter) -> None:
        """``candidate`` was asked but will never be told: forget it and let the optimizer re-issue it."""
        if self._asked.pop(candidate._uid, None) is None:
            return
        self._num_ask -= 1
        if candidate._uid in self._suggested:
            self._suggested.discard(candidate._uid)
            self._suggestions.append(candidate)  # asked again first
            return
        self._internal_abandon(candidate)

    # ------------------------------------------------------------------ recommend
    def provide_recommendation(self) -> Parameter:
        """The best candidate so far, as a Parameter.

        The point with the lowest loss; for a noisy objective (a point re-evaluated with a
        different loss), the point with the best pessimistic estimate, as in nevergrad.
        """
        data = self._internal_provide_recommendation()
        if data is not None:
            rec = self._spawn(np.asarray(data, dtype=np.float64).ravel())
            entry = self._archive.get(self._data_of(rec).tobytes())
            return rec if entry is None else entry.parameter
        if not self.current_bests:
            return self.parametrization.spawn_child()
        # as nevergrad for deterministic functions: the best loss seen; once a re-evaluated point
        # gave a different loss (a noisy objective), the best pessimistic estimate
        return self.current_bests["pessimistic" if self._noisy else "minimum"].parameter

    def recommend(self) -> Parameter:
        """Alias of ``provide_recommendation``."""
        return self.provide_recommendation()

    def pareto_front(
        self, size: int | None = None, subset: str = "random", subset_tentatives: int = 12
    ) -> list[Parameter]:
        """The non-dominated candidates told so far (multi-objective), or the best one (single objective).

        With ``size``, a subset of at most ``size`` points chosen by ``subset``: ``"random"``,
        ``"loss-covering"``, ``"domain-covering"`` or ``"hypervolume"`` (the best of ``subset_tentatives``
        random subsets for the last three).
        """
        if self._pareto is None:
            return [self.provide_recommendation()] if self.current_bests else []
        return self._pareto.select(
            size, subset, subset_tentatives, self._rng, lambda c: np.asarray(self._data_of(c))
        )

    # ------------------------------------------------------------------ hooks
    def _internal_ask_candidate(self) -> Parameter:
        data = self._internal_ask_batch(1)
        return self._spawn(np.ascontiguousarray(data[0]))

    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        return None

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        raise errors.TellNotAskedNotSupportedError(
            f"{self.name} cannot use candidates it did not ask (tell-not-asked)"
        )

    def _internal_abandon(self, candidate: Parameter) -> None:
        return None

    def _internal_provide_recommendation(self) -> NDArray[np.float64] | None:
        return None

    def _internal_ask_batch(self, n: int) -> NDArray[np.float64]:
        if type(self)._internal_ask_candidate is Optimizer._internal_ask_candidate:
            raise NotImplementedError(f"{type(self).__name__} implements neither ask hook")
        return np.stack([np.asarray(self._data_of(self._ask_for_batch())) for _ in range(n)])

    def _ask_for_batch(self) -> Parameter:
        cand = self._internal_ask_candidate()
        self._batch_pending.append(cand)
        return cand

    def _internal_tell_batch(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        pending: list[Parameter] = getattr(self, "_batch_pending", [])
        self._batch_pending = []
        for i, loss in enumerate(losses):
            cand = pending[i] if i < len(pending) else self._spawn(np.ascontiguousarray(data[i]))
            self._internal_tell_candidate(cand, float(loss))

    @property
    def _batch_size(self) -> int:
        return max(self.num_workers, 1)

    def _tell_batch(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        """Tell a batch from the vectorized path: counters, bests, NaN handling, callbacks."""
        internal = losses
        i = int(losses.argmin())  # the first NaN, if there is one
        best = float(losses[i])
        if best != best:
            self._warn_once("nan", "a NaN loss was told: it is kept in the record and treated as +inf")
            internal = np.where(np.isnan(losses), np.inf, losses)
            i = int(internal.argmin())
            best = float(internal[i])
        if self._num_objectives is None:
            self._num_objectives = 1
        bests = self.current_bests
        if not bests or best < self._admit:  # else it enters neither the bests nor the archive
            cand = self._spawn(data[i].copy())  # a copy: the archive must not keep the batch alive
            cand._loss = float(losses[i])
            self._update_bests(cand, best)
        self._internal_tell_batch(data, internal)
        self._num_tell += data.shape[0]
        if self._callbacks["tell"]:
            for row, loss in zip(data, losses):
                cand = self._spawn(np.ascontiguousarray(row))
                cand._loss = float(loss)
                for callback in self._callbacks["tell"]:
                    callback(self, cand, float(loss))


    def _internal_abandon_batch(self, data: NDArray[np.float64]) -> None:
        """A batch from ``_internal_ask_batch`` will never be told (default: abandon its rows one by one)."""
        pending: list[Parameter] = getattr(self, "_batch_pending", [])
        self._batch_pending = []
        for cand in pending:
            self._internal_abandon(cand)

    # ------------------------------------------------------------------ minimize
    def minimize(
        self,
        objective_function: Callable[..., Loss],
        executor: Any = None,
        batch_mode: bool = False,
        verbosity: int = 0,
        constraint_violation: Iterable[Callable[[Any], float]] | None = None,
        max_time: float | None = None,
        *,
        vectorized: bool = False,
        checkpoint: str | os.PathLike[str] | None = None,
        checkpoint_every: int | None = None,
    ) -> Parameter:
        """Run the optimization until the budget is spent; return the recommendation.

        Parameters
        ----------
        objective_function : callable
            Called as ``objective_function(*candidate.args, **candidate.kwargs)``; returns the loss.
        executor : object with ``submit(fn, *args, **kwargs)``, optional
            Evaluate in parallel (``ProcessPoolExecutor``, ``ok.executors.RayExecutor``...), keeping
            ``num_workers`` evaluations in flight. Without one, evaluations run in this thread.
        batch_mode : bool
            With an executor: submit ``num_workers`` candidates, wait for all, tell them, repeat.
            Otherwise (default) tell each result as it completes and submit a new candidate at once.
        verbosity : int
            0 silent, 1 a line every so often, 2 a line per evaluation.
        constraint_violation : list of callables, optional
            Each maps the candidate's value to a violation (> 0 when violated), penalizing the loss.
        max_time : float, optional
            Stop asking after this many seconds (running evaluations are still told).
        vectorized : bool
            Single-``Array`` problems only: ``objective_function`` takes a 2-D array of candidates
            (one per row) and returns a 1-D array of losses. No executor.
        checkpoint : path, optional
            Dump the optimizer atomically to this file every ``checkpoint_every`` tells (default:
            every ``num_workers`` tells) and at the end; resume with ``type(opt).load(path)``.
        """
        if self.budget is None:
            raise errors.OptimkitValueError("minimize needs a budget: create the optimizer with budget=N")
        if not callable(objective_function):
            raise errors.OptimkitTypeError(f"objective_function must be callable, got {objective_function!r}")
        if max_time is not None and (not isinstance(max_time, (int, float)) or max_time <= 0):
            raise errors.OptimkitValueError(f"max_time must be None or a number > 0, got {max_time!r}")
        if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 1):
            raise errors.OptimkitValueError(f"checkpoint_every must be None or an int >= 1, got {checkpoint_every!r}")
        constraints = list(constraint_violation) if constraint_violation is not None else []
        every = checkpoint_every or self.num_workers
        from .runner import Runner, check_picklable

        runner = Runner(self, objective_function, verbosity, constraints, max_time, checkpoint, every)
        if vectorized:
            if executor is not None:
                raise errors.OptimkitValueError("vectorized=True evaluates in this process: do not pass an executor")
            runner.run_vectorized()
        elif executor is None:
            if self.num_workers > 1:
                self._warn_once(
                    "workers",
                    f"num_workers={self.num_workers} but no executor: evaluating one at a time",
                    errors.InefficientSettingsWarning,
                )
            runner.run_sequential()
        else:
            if not hasattr(executor, "submit"):
                raise errors.OptimkitTypeError("executor must have a submit(fn, *args, **kwargs) method")
            check_picklable(objective_function, executor)
            runner.run_executor(executor, batch_mode)
        if checkpoint is not None:
            self.dump(checkpoint)
        return self.provide_recommendation()

    # ------------------------------------------------------------------ dump / load
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        kept: dict[str, list[Callable[..., Any]]] = {}
        for name, cbs in self._callbacks.items():
            kept[name] = []
            for cb in cbs:
                try:
                    pickle.dumps(cb)
                except Exception:  # noqa: BLE001 - unpicklable callbacks are dropped, with a warning
                    warnings.warn(f"callback {cb!r} cannot be pickled and is not saved", errors.OptimkitWarning, stacklevel=2)
                else:
                    kept[name].append(cb)
        state["_callbacks"] = kept
        return state

    def enable_pickling(self) -> None:
        """Kept for nevergrad compatibility: optimkit optimizers are always picklable."""

    def dump(self, filepath: str | os.PathLike[str]) -> None:
        """Save the optimizer (state, generator, bests) to ``filepath`` atomically.

        The file is written to a temporary name, flushed to disk and renamed over ``filepath``:
        a crash never leaves a half-written dump. Asked-but-untold candidates are re-issued
        after ``load``.
        """
        payload = pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)
        header = {
            "format": 1,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
        path = os.fspath(filepath)
        directory = os.path.dirname(os.path.abspath(path))
        tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}")
        with open(tmp, "wb") as fh:
            fh.write(_MAGIC)
            fh.write(json.dumps(header).encode() + b"\n")
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        try:
            fd = os.open(directory, os.O_RDONLY)
        except OSError:  # pragma: no cover - platforms without directory fds
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @classmethod
    def load(cls: type[X], filepath: str | os.PathLike[str]) -> X:
        """Load an optimizer saved with ``dump``; raises ``LoadError`` on truncated or foreign files."""
        obj = load(filepath)
        if not isinstance(obj, cls):
            raise errors.LoadError(
                f"{os.fspath(filepath)!r} holds a {type(obj).__name__}, not a {cls.__name__}"
            )
        return obj

    def _after_load(self) -> None:
        # candidates in flight when dumped will never be told: re-issue them
        inflight = list(self._asked.values())
        for cand in inflight:
            self._abandon(cand)

    def __repr__(self) -> str:
        return (
            f"Instance of {self.name}(parametrization={self.parametrization.name}, budget={self.budget}, "
            f"num_workers={self.num_workers})"
        )


def load(filepath: str | os.PathLike[str]) -> Any:
    """Load any optimkit dump (see ``Optimizer.dump``)."""
    path = os.fspath(filepath)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise errors.LoadError(f"cannot read optimizer dump {path!r}: {exc}") from exc
    if not raw.startswith(_MAGIC):
        raise errors.LoadError(f"{path!r} is not an optimkit optimizer dump (no optimkit header)")
    buf = io.BytesIO(raw[len(_MAGIC) :])
    try:
        header = json.loads(buf.readline().decode())
        size, digest = int(header["size"]), str(header["sha256"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise errors.LoadError(f"{path!r} has a corrupted optimkit header") from exc
    payload = buf.read()
    if len(payload) != size:
        raise errors.LoadError(
            f"{path!r} is truncated: expected {size} bytes of optimizer state, found {len(payload)}"
        )
    if hashlib.sha256(payload).hexdigest() != digest:
        raise errors.LoadError(f"{path!r} is corrupted: checksum mismatch")
    try:
        obj = pickle.loads(payload)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure becomes one clear error
        raise errors.LoadError(f"{path!r} could not be unpickled ({type(exc).__name__}: {exc})") from exc
    if isinstance(obj, Optimizer):
        obj._after_load()
    return obj


# ---------------------------------------------------------------------- families and registry
class ConfiguredOptimizer:
    """A family member: an optimizer class with a fixed configuration, callable like a class.

    ``ConfiguredOptimizer(OptimizerClass, config)(parametrization, budget=None, num_workers=1)``
    builds ``OptimizerClass(parametrization, budget, num_workers, **config)`` (with
    ``as_config=True``: ``OptimizerClass(parametrization, budget, num_workers, config=self)``).
    """

    recast = False
    no_parallelization = False

    def __init__(self, OptimizerClass: type[Optimizer], config: dict[str, Any], as_config: bool = False) -> None:
        self._OptimizerClass = OptimizerClass
        cfg = {k: v for k, v in config.items() if k not in ("self", "__class__")}
        self._config = cfg
        self._as_config = as_config
        self.name = self._default_repr()

    def config(self) -> dict[str, Any]:
        """The configuration (a copy)."""
        return dict(self._config)

    def _default_repr(self) -> str:
        defaults: dict[str, Any] = {}
        if type(self) is not ConfiguredOptimizer:
            for pname, p in inspect.signature(type(self).__init__).parameters.items():
                if p.default is not inspect.Parameter.empty:
                    defaults[pname] = p.default
        shown = []
        for k, v in self._config.items():
            if k in defaults and _same(defaults[k], v):
                continue
            shown.append(f"{k}={v!r}")
        head = type(self).__name__ if type(self) is not ConfiguredOptimizer else self._OptimizerClass.__name__
        return f"{head}({', '.join(shown)})"

    def __call__(self, parametrization: int | Parameter, budget: int | None = None, num_workers: int = 1) -> Optimizer:
        if self._as_config:
            opt = self._OptimizerClass(parametrization, budget, num_workers, config=self)  # type: ignore[call-arg]
        else:
            opt = self._OptimizerClass(parametrization, budget, num_workers, **self._config)
        opt.name = self.name
        return opt

    def set_name(self, name: str, register: bool = False) -> ConfiguredOptimizer:
        """Rename (and optionally register under that name); returns self."""
        self.name = str(name)
        if register:
            registry.register_name(self.name, self)
        return self

    def load(self, filepath: str | os.PathLike[str]) -> Optimizer:
        """Load a dump of an optimizer of this family."""
        return self._OptimizerClass.load(filepath)

    def __repr__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._config == self._config

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self._config.items(), key=lambda kv: kv[0]))))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b) or (a is None and b is None)
    except Exception:  # noqa: BLE001 - incomparable means different
        return False


class Registry(dict):  # type: ignore[type-arg]
    """Name -> optimizer class or ``ConfiguredOptimizer``; unknown names raise a ``KeyError`` with close names."""

    def register(self, obj: Any) -> Any:
        """Decorator: register a class under its own name."""
        self.register_name(obj.__name__, obj)
        return obj

    def register_name(self, name: str, obj: Any, info: dict[str, Any] | None = None) -> None:
        """Register ``obj`` under ``name`` (replacing a previous one)."""
        del info
        self[name] = obj

    def __missing__(self, key: Any) -> Any:
        close = difflib.get_close_matches(str(key), [str(k) for k in self], n=5, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise KeyError(f"{key!r} is not a registered optimizer.{hint} (see optimkit.optimizers.registry)")


registry = Registry()
