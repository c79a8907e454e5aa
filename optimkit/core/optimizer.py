"""The ask/tell ``Optimizer`` base class (nevergrad style): the public methods and the hooks.

The public methods (``ask``, ``tell``, ``recommend``, ``minimize``, the batch protocol
``ask_data``/``tell_data``/``abandon_data``) do the bookkeeping (counters, bests, Pareto front,
callbacks, constraints, NaN handling) and call small ``_internal_*`` hooks that each algorithm
implements (see ``docs/internals.md``). Everything on the per-candidate path is kept cheap: a few
attribute updates and no copies. The bests live in :mod:`.bests`, the batch protocol in
:mod:`.batch`, the dump format in :mod:`.persistence`, the ``minimize`` loops in :mod:`.runner`.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .. import errors
from .. import rng as _rng
from ..parametrization import Array, Parameter
from ..parametrization.structure import same_structure
from . import pareto as _pareto
from .batch import BatchProtocol
from .persistence import read_dump, read_pickle_unsafe, write_dump
from .runner import (
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    FailurePolicy,
    Runner,
    check_minimize_options,
    prepare_checkpoint,
)

X = TypeVar("X", bound="Optimizer")
Loss = Any

__all__ = ["Optimizer", "load", "load_unsafe_pickle"]

_MAX_CONSTRAINT_TRIES = 100


class Optimizer(BatchProtocol):
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
    #: importable modules (optional extras) this optimizer needs, e.g. ``("PyNomad",)``
    requires: tuple[str, ...] = ()

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
        self._asked: dict[int, tuple[Parameter, int]] = {}  # uid -> (candidate, ask serial), oldest first
        self._serial = 0  # asks ever made (abandons included): the age of an asked candidate
        self._next_lost_check = 32
        self._lost: dict[int, None] = {}  # uids abandoned as lost (an ordered set, bounded)
        self.lost_after: int | None = None
        self._lock = threading.RLock()
        self._init_bests()
        self._num_objectives: int | None = None
        self._pareto: _pareto.ParetoFront | None = None
        self._fast = isinstance(parametrization, Array)
        self._check_constraints = parametrization._has_constraints()
        self._warned: set[str] = set()
        self._batch_pending: list[Parameter] = []
        self._init_batches()

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

    def _data_of_value(self, value: Any, option: str) -> NDArray[np.float64]:
        """The finite standardized data of ``value`` (a value of the parametrization given as the
        option ``option``, e.g. an initial mean); one clear error otherwise."""
        try:
            data = self.parametrization.spawn_child(new_value=value).get_standardized_data(
                reference=self.parametrization)
        except Exception as exc:  # noqa: BLE001 - any refusal of the value becomes one clear error
            raise errors.OptimkitValueError(
                f"{option} must be a value of the parametrization ({self.parametrization.name}) with dimension "
                f"{self.dimension}, got {value!r} ({exc})") from exc
        arr = np.array(data, dtype=np.float64).ravel()
        if arr.size != self.dimension or not np.all(np.isfinite(arr)):
            raise errors.OptimkitValueError(f"{option} must be a finite value of the parametrization, got {value!r}")
        return arr

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
        child = self.parametrization.spawn_child(new_value=value)
        if not np.all(np.isfinite(child.get_standardized_data(reference=self.parametrization))):
            raise errors.OptimkitValueError(f"suggest expects finite values, got {value!r}")
        with self._lock:
            self._suggestions.append(child)

    def ask(self) -> Parameter:
        """A candidate to evaluate; tell its loss with ``tell(candidate, loss)``.

        Thread-safe. A candidate that stays untold while ``lost_after`` newer asks are made is
        treated as lost: abandoned (re-issued by the algorithm), with one warning; a late tell of
        it is still used.
        """
        with self._lock:
            for callback in self._callbacks["ask"]:
                callback(self)
            if self._suggestions:
                candidate = self._suggestions.pop()
                self._suggested.add(candidate._uid)
            else:
                candidate = self._internal_ask_candidate()
                if self._check_constraints:
                    candidate = self._constrained(candidate)
            self._serial += 1
            self._asked[candidate._uid] = (candidate, self._serial)
            self._num_ask += 1
            if self._serial >= self._next_lost_check:  # every 32 asks: abandon the lost candidates
                self._abandon_lost()
            return candidate

    @property
    def lost_limit(self) -> int:
        """How many newer asks an untold candidate survives before it is abandoned as lost:
        ``lost_after`` when set, else ``max(100, 20 * num_workers, 2 * preferred_batch_size)``.

        A candidate abandoned as lost and told later is still counted and used (as a point from
        elsewhere when the algorithm can use one); the algorithm may have re-issued it meanwhile."""
        if self.lost_after is not None:
            return int(self.lost_after)
        return max(100, 20 * self.num_workers, 2 * self._batch_size)

    def _abandon_lost(self) -> None:
        self._next_lost_check = self._serial + 32
        limit = self.lost_limit
        while self._asked:
            candidate, serial = next(iter(self._asked.values()))
            if self._serial - serial <= limit:
                return
            self._warn_once(
                "lost",
                f"{self.name}: a candidate asked {self._serial - serial} asks ago was never told; it is "
                "abandoned as lost (see Optimizer.lost_after). Tell or abandon() every asked candidate.",
            )
            self._lost[candidate._uid] = None
            if len(self._lost) > 4096:
                del self._lost[next(iter(self._lost))]
            self.abandon(candidate)

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

        NaN losses are kept in ``candidate.loss`` but count as the worst loss (one warning); ``None``,
        strings, bytes and complex numbers raise ``TypeError``. ``constraint_violation`` (a float or
        vector, > 0 when violated) adds a penalty to the loss. A candidate this optimizer did not ask
        (tell-not-asked) must have the parametrization's structure. Thread-safe.
        """
        if not isinstance(candidate, Parameter):
            raise errors.OptimkitTypeError(f"tell expects a Parameter candidate, got {type(candidate).__name__}")
        with self._lock:
            uid = candidate._uid
            if uid not in self._asked and uid not in self._lost:
                self._check_structure(candidate)
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
            if self._asked.pop(uid, None) is not None and uid not in self._suggested:
                self._internal_tell_candidate(candidate, value)
            else:
                self._tell_other(candidate, value)
            self._num_tell += 1
            for callback in self._callbacks["tell"]:
                callback(self, candidate, candidate._loss if candidate._losses is None else candidate._losses)

    def _check_structure(self, candidate: Parameter) -> None:
        cache = candidate._std_cache
        if cache is not None and cache[0] is self.parametrization:
            return
        if not same_structure(candidate, self.parametrization):
            raise errors.OptimkitValueError(
                f"candidate {candidate.name} does not have this optimizer's parametrization structure "
                f"({self.parametrization.name}); spawn candidates with parametrization.spawn_child()"
            )

    def _tell_other(self, candidate: Parameter, loss: float) -> None:
        """A suggestion (asked, popped from ``_asked`` already), a candidate abandoned as lost, or a
        candidate never asked."""
        uid = candidate._uid
        if uid in self._suggested:
            self._suggested.discard(uid)
            self._tell_suggestion(candidate, loss)
        elif self._lost.pop(uid, 0) is None:  # a late tell: used as a point from elsewhere when possible
            self._num_ask += 1  # it was asked after all (abandoning it had uncounted it)
            self._tell_suggestion(candidate, loss, warn=False)
        else:
            self._num_tell_not_asked += 1
            self._internal_tell_not_asked(candidate, loss)

    def _tell_vector(self, candidate: Parameter, loss: Any) -> float:
        try:  # None, strings, bytes, complex numbers and dicts are no dtype of real numbers: refused
            arr = np.asarray(loss) if not isinstance(loss, (bytearray, memoryview)) else np.empty(0, dtype=object)
        except (TypeError, ValueError):  # e.g. a ragged list
            arr = np.empty(0, dtype=object)
        if arr.dtype.kind not in "fiub":
            raise errors.OptimkitTypeError(
                f"loss must be a float or a vector of floats, got {loss!r} ({type(loss).__name__})"
                + (": did the objective forget to return its value?" if loss is None else "")
            )
        arr = arr.astype(np.float64)
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

    def _tell_suggestion(self, candidate: Parameter, loss: float, warn: bool = True) -> None:
        try:
            self._internal_tell_not_asked(candidate, loss)
        except errors.TellNotAskedNotSupportedError:
            if warn:
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

    # ------------------------------------------------------------------ abandon
    def abandon(self, candidate: Parameter) -> None:
        """``candidate`` was asked but will never be told (its evaluation failed or was cancelled):
        forget it, so that the optimizer re-issues it or moves on (a suggestion is asked again)."""
        with self._lock:
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
        different loss), the point with the best pessimistic estimate, as in nevergrad. Thread-safe.
        """
        with self._lock:
            return self._recommendation()

    def _recommendation(self) -> Parameter:
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
        with self._lock:
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

    _internal_ask_candidate.serves_from_batches = True  # type: ignore[attr-defined]

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
        resume: bool = False,
        overwrite: bool = False,
        eval_timeout: float | None = None,
        max_failures: int | None = None,
        max_consecutive_failures: int | None = DEFAULT_MAX_CONSECUTIVE_FAILURES,
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
            0 silent; 1 a line at the first tell, then every tenth of the budget or every 2 s
            (whichever comes first), and a summary line at the end; 2 a line per evaluation.
        constraint_violation : list of callables, optional
            Each maps the candidate's value to a violation (> 0 when violated), penalizing the loss.
        max_time : float, optional
            Stop after this many seconds: no new asks, and evaluations still running are stopped
            where the executor can stop them and abandoned (a later ``minimize`` re-issues them).
            Checked between evaluations when they run in this thread (see ``eval_timeout``).
        vectorized : bool
            Single-``Array`` problems only: ``objective_function`` takes a 2-D array of candidates
            (one per row) and returns a 1-D array of losses. No executor, no ``eval_timeout`` or
            ``max_failures``.
        checkpoint : path, optional
            Dump the optimizer atomically to this file before the first evaluation (so a bad path
            fails at once), every ``checkpoint_every`` tells (default: every ``num_workers`` tells),
            and whatever ends the run: the budget, ``max_time``, an exception, Ctrl-C (then the
            exception is re-raised). An existing file is never silently replaced: see ``resume``
            and ``overwrite``.
        checkpoint_every : int, optional
            Tells between two checkpoints.
        resume : bool
            Continue from ``checkpoint`` if the file exists: its state (counters, bests, generator,
            in-flight candidates re-issued) is loaded into this optimizer, which must have the same
            class, parametrization and ``num_workers``; this optimizer keeps its budget and callbacks,
            and runs until that budget. Without a file, the run starts from scratch.
        overwrite : bool
            Start over even if ``checkpoint`` exists (the file is replaced).
        eval_timeout : float, optional
            Seconds one evaluation may run. A longer one is stopped (without an executor each
            evaluation then runs in a reusable child process, killed and replaced on timeout; Ray
            tasks are cancelled with ``force=True``; a running ``concurrent.futures`` evaluation cannot
            be stopped: its worker stays busy, with a warning), its late result is ignored, and it
            is told as failed (loss ``inf``).
        max_failures : int, optional
            Failed evaluations tolerated before the run stops with ``ok.errors.TooManyFailuresError``
            (after the final checkpoint). A failure is an evaluation that raised, timed out or lost
            its worker; it is told with loss ``inf``. None (default): no limit, and an exception
            raised by the objective ends the run at once (re-raised, the candidate abandoned).
            A NaN loss is a told loss, not a failure.
        max_consecutive_failures : int, optional
            Failures tolerated in a row (default 10; None: no limit), so that an objective that
            always fails (a worker killed every time) stops the run with ``TooManyFailuresError``
            instead of telling ``inf`` until the budget is spent.

        Raises
        ------
        ok.errors.TooManyFailuresError
            Past ``max_failures`` or ``max_consecutive_failures``; names the count and the last failure.
        ok.errors.CheckpointExistsError
            ``checkpoint`` exists and neither ``resume`` nor ``overwrite`` is given.
        ok.errors.CheckpointError
            ``checkpoint`` cannot be written, or holds another class or parametrization (``resume``).

        If ``tell`` rejects what the objective returned (a string, a dict...), the candidate is
        abandoned and the error re-raised: the optimizer stays consistent and a later ``minimize``
        goes on.
        """
        policy = FailurePolicy(eval_timeout, max_failures, max_consecutive_failures)
        check_minimize_options(
            self, objective_function, executor, max_time, checkpoint_every, vectorized,
            policy=policy, checkpoint=checkpoint, resume=resume, overwrite=overwrite,
        )
        constraints = list(constraint_violation) if constraint_violation is not None else []
        if checkpoint is not None:
            prepare_checkpoint(self, checkpoint, resume=resume, overwrite=overwrite)
        every = checkpoint_every or self.num_workers
        if executor is None and not vectorized and self.num_workers > 1:
            self._warn_once(
                "workers",
                f"num_workers={self.num_workers} but no executor: evaluating one at a time",
                errors.InefficientSettingsWarning,
            )
        runner = Runner(self, objective_function, verbosity, constraints, max_time, checkpoint, every, policy)
        runner.run(executor, batch_mode, vectorized)
        return self.provide_recommendation()

    # ------------------------------------------------------------------ dump / load
    #: attributes that are not state (dumps and pickles leave them out; ``__setstate__`` remakes the lock)
    _transient_attributes: tuple[str, ...] = ("_lock",)
    #: the ``ConfiguredOptimizer`` that built this optimizer (None when built from its class)
    _family: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_callbacks"] = {"ask": [], "tell": []}  # callbacks are never saved: register them after load
        for name in self._transient_attributes:
            state.pop(name, None)  # locks are not state: a new one is made when loading
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def enable_pickling(self) -> None:
        """Kept for nevergrad compatibility: optimkit optimizers are always picklable."""

    def dump(self, filepath: str | os.PathLike[str]) -> None:
        """Save the optimizer (state, generator, bests) to ``filepath`` atomically, as plain data.

        The file is written to a temporary name, flushed to disk and renamed over ``filepath``:
        a crash never leaves a half-written dump. Asked-but-untold candidates are re-issued
        after ``load``. Callbacks are not saved (register them again after ``load``); functions
        the state refers to (cheap constraints, functions in a ``Choice``) are saved by importable
        name, and a lambda or local function raises ``DumpError`` before anything is written.
        Loading a dump never runs code from the file (see ``docs/reliability.md``).
        """
        with self._lock:
            self._close_open_batch()
            write_dump(self, filepath)

    @classmethod
    def load(cls: type[X], filepath: str | os.PathLike[str]) -> X:
        """Load an optimizer saved with ``dump``; raises ``LoadError`` on truncated, foreign, crafted
        or other-version files, or when the dump holds another class. The loaded optimizer has no
        callbacks."""
        obj = load(filepath)
        if not isinstance(obj, cls):
            raise errors.LoadError(
                f"{os.fspath(filepath)!r} holds a {type(obj).__name__}, not a {cls.__name__}"
            )
        return obj

    def _after_load(self) -> None:
        # candidates in flight when dumped will never be told: re-issue them
        for cand, _ in list(self._asked.values()):
            self.abandon(cand)

    def __repr__(self) -> str:
        return (
            f"Instance of {self.name}(parametrization={self.parametrization.name}, budget={self.budget}, "
            f"num_workers={self.num_workers})"
        )


def load(filepath: str | os.PathLike[str]) -> Any:
    """Load any optimkit dump (see ``Optimizer.dump``); raises ``LoadError`` on unreadable, truncated,
    corrupted, foreign, crafted or other-version files. Loading runs no code from the file: it
    rebuilds plain data and optimkit's allowed classes only (pickled format 2 dumps need the
    explicitly unsafe ``optimkit.load_unsafe_pickle``)."""
    obj = read_dump(filepath)
    if isinstance(obj, Optimizer):
        obj._after_load()
    return obj


def load_unsafe_pickle(filepath: str | os.PathLike[str]) -> Any:
    """UNSAFE: load a format 2 dump (a pickle, written by optimkit 0.1) — this RUNS CODE from the file.

    Unpickling executes whatever the file says: a crafted file can run any command with your
    rights. Use it only on files you wrote yourself, then ``dump`` the optimizer again to get a
    safe plain-data dump (read by ``optimkit.load``). The size and checksum are checked first,
    which guards against truncated or corrupted files only, not against a crafted one. Callbacks
    saved in old dumps are dropped (register them again), and in-flight candidates are re-issued,
    as with ``optimkit.load``.

    Parameters
    ----------
    filepath : path
        A format 2 optimkit dump.

    Returns
    -------
    The unpickled object (an optimizer).
    """
    obj = read_pickle_unsafe(filepath)
    if isinstance(obj, Optimizer):
        obj.remove_all_callbacks()
        obj._after_load()
    return obj
