"""The loops behind ``Optimizer.minimize``: sequential, executor-based and vectorized.

They drive an optimizer through its public methods only (``ask``/``tell``/``abandon``, the batch
protocol ``ask_data``/``tell_data``/``abandon_data``, ``dump``, counters): :class:`Steppable`
names what they use, so this module never imports the optimizer.
"""

from __future__ import annotations

import concurrent.futures as cf
import pickle
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .. import errors
from ..parametrization import Array, Parameter

__all__ = ["Runner", "Steppable", "check_minimize_options", "check_picklable"]


class Steppable(Protocol):
    """What the ``minimize`` loops need of an optimizer: its public ask/tell and batch protocol."""

    name: str
    budget: int | None
    num_workers: int
    parametrization: Parameter
    current_bests: dict[str, Any]

    @property
    def num_ask(self) -> int: ...
    @property
    def num_tell(self) -> int: ...
    @property
    def preferred_batch_size(self) -> int: ...
    def ask(self) -> Parameter: ...
    def tell(self, candidate: Parameter, loss: Any, constraint_violation: Any = None,
             penalty_style: Any = None) -> None: ...
    def abandon(self, candidate: Parameter) -> None: ...
    def ask_data(self, n: int) -> NDArray[np.float64]: ...
    def values_of(self, data: NDArray[np.float64]) -> NDArray[np.float64]: ...
    def tell_data(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None: ...
    def abandon_data(self, data: NDArray[np.float64]) -> None: ...
    def dump(self, filepath: Any) -> None: ...


def check_minimize_options(
    opt: Steppable, fn: Any, executor: Any, max_time: Any, checkpoint_every: Any, vectorized: bool
) -> None:
    """Validate ``minimize``'s arguments before anything runs (each error names the argument)."""
    if opt.budget is None:
        raise errors.OptimkitValueError("minimize needs a budget: create the optimizer with budget=N")
    if not callable(fn):
        raise errors.OptimkitTypeError(f"objective_function must be callable, got {fn!r}")
    if max_time is not None and (not isinstance(max_time, (int, float)) or max_time <= 0):
        raise errors.OptimkitValueError(f"max_time must be None or a number > 0, got {max_time!r}")
    if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 1):
        raise errors.OptimkitValueError(f"checkpoint_every must be None or an int >= 1, got {checkpoint_every!r}")
    if vectorized and executor is not None:
        raise errors.OptimkitValueError("vectorized=True evaluates in this process: do not pass an executor")
    if executor is not None:
        if not hasattr(executor, "submit"):
            raise errors.OptimkitTypeError("executor must have a submit(fn, *args, **kwargs) method")
        check_picklable(fn, executor)


def check_picklable(fn: Callable[..., Any], executor: Any) -> None:
    if isinstance(executor, cf.ProcessPoolExecutor):
        try:
            pickle.dumps(fn)
        except Exception as exc:  # noqa: BLE001 - turned into one clear error
            name = getattr(fn, "__qualname__", repr(fn))
            raise errors.UnpicklableObjectiveError(
                f"objective_function {name!r} cannot be pickled, which {type(executor).__name__} needs "
                f"({type(exc).__name__}: {exc}); define it at module level, or use a thread pool or RayExecutor"
            ) from exc


class Runner:
    """The loops of ``minimize`` (sequential, executor, vectorized)."""

    def __init__(
        self,
        opt: Steppable,
        fn: Callable[..., Any],
        verbosity: int,
        constraints: list[Callable[[Any], float]],
        max_time: float | None,
        checkpoint: Any,
        every: int,
    ) -> None:
        self.opt, self.fn, self.verbosity = opt, fn, verbosity
        self.constraints, self.max_time = constraints, max_time
        self.checkpoint, self.every = checkpoint, every
        self.start = time.monotonic()
        self.budget = opt.budget if opt.budget is not None else 0
        self._last_print = self.start

    def _out_of_time(self) -> bool:
        return self.max_time is not None and time.monotonic() - self.start > self.max_time

    def _tell(self, cand: Parameter, loss: Any) -> None:
        opt = self.opt
        if self.constraints:
            value = cand.value
            opt.tell(cand, loss, constraint_violation=[float(c(value)) for c in self.constraints])
        else:
            opt.tell(cand, loss)
        if self.verbosity:
            self._report(cand, loss)
        if self.checkpoint is not None and opt.num_tell % self.every == 0:
            opt.dump(self.checkpoint)

    def _report(self, cand: Parameter, loss: Any) -> None:
        now = time.monotonic()
        opt = self.opt
        if self.verbosity >= 2 or now - self._last_print > 1.0:
            best = opt.current_bests["minimum"].minimum if opt.current_bests else float("nan")
            print(f"[{opt.name}] tell {opt.num_tell}/{opt.budget}: loss={loss} best={best:.6g} ({now - self.start:.1f}s)")
            self._last_print = now

    def run_sequential(self) -> None:
        opt, fn = self.opt, self.fn
        single = isinstance(opt.parametrization, Array)  # fn(value): no args tuple, no kwargs dict
        plain = not (self.constraints or self.verbosity or self.checkpoint is not None)
        ask, tell = opt.ask, (opt.tell if plain else self._tell)
        timed = self.max_time is not None
        try:
            # the asks left, counted here: one property read per stretch, not per evaluation
            while (left := self.budget - opt.num_ask) > 0:
                for _ in range(left):
                    if timed and self._out_of_time():
                        return
                    cand = ask()
                    try:
                        loss = fn(cand.value) if single else fn(*cand.args, **cand.kwargs)
                    except BaseException:
                        opt.abandon(cand)
                        raise
                    tell(cand, loss)
        except errors.OptimkitEarlyStopping:
            pass

    def run_executor(self, executor: Any, batch_mode: bool) -> None:
        opt, fn = self.opt, self.fn
        pending: list[tuple[Parameter, Any]] = []
        waiter = getattr(executor, "wait", None)
        waiter = waiter if callable(waiter) else None
        stop = False
        sleep = 1e-4
        try:
            while True:
                progressed = False
                if pending:
                    if batch_mode:
                        finished = pending if all(f.done() for _, f in pending) else []
                        keep: list[tuple[Parameter, Any]] = [] if finished else pending
                    else:
                        finished, keep = [], []
                        for item in pending:
                            (finished if item[1].done() else keep).append(item)
                    pending = keep
                    for i, (cand, fut) in enumerate(finished):
                        try:
                            loss = fut.result()
                        except BaseException:
                            for other, ofut in finished[i:] + pending:
                                opt.abandon(other)
                                if hasattr(ofut, "cancel"):
                                    ofut.cancel()
                            pending = []
                            raise
                        self._tell(cand, loss)
                        progressed = True
                if not stop and (opt.num_ask >= self.budget or self._out_of_time()):
                    stop = True
                if not stop and (not batch_mode or not pending):
                    n_new = min(opt.num_workers - len(pending), self.budget - opt.num_ask)
                    for _ in range(n_new):
                        try:
                            cand = opt.ask()
                        except errors.OptimkitEarlyStopping:
                            stop = True
                            break
                        try:
                            fut = executor.submit(fn, *cand.args, **cand.kwargs)
                        except BaseException:
                            opt.abandon(cand)
                            raise
                        pending.append((cand, fut))
                        progressed = True
                if not pending:
                    if stop or opt.num_ask >= self.budget:
                        break
                    continue
                if progressed:
                    sleep = 1e-4
                    continue
                futures = [f for _, f in pending]
                if waiter is not None:  # e.g. RayExecutor.wait: one blocking call for all futures
                    waiter(futures, timeout=0.5)
                elif all(isinstance(f, cf.Future) for f in futures):
                    cf.wait(futures, timeout=0.5, return_when=cf.FIRST_COMPLETED)
                else:
                    time.sleep(sleep)
                    sleep = min(sleep * 2, 0.01)
        except BaseException:
            for cand, fut in pending:
                opt.abandon(cand)
                if hasattr(fut, "cancel"):
                    fut.cancel()
            raise

    def run_vectorized(self) -> None:
        opt, fn = self.opt, self.fn
        if not isinstance(opt.parametrization, Array):
            raise errors.UnsupportedParametrizationError(
                f"vectorized=True needs a single Array parametrization, got {opt.parametrization.name}"
            )
        if self.constraints:
            raise errors.UnsupportedParametrizationError("vectorized=True does not support constraints")
        last_dump = opt.num_tell
        try:
            while opt.num_ask < self.budget:
                if self.max_time is not None and self._out_of_time():
                    break
                n = min(opt.preferred_batch_size, self.budget - opt.num_ask)
                data = opt.ask_data(n)
                try:
                    out = fn(opt.values_of(data))
                    losses = np.asarray(out, dtype=np.float64).reshape(-1)
                except BaseException:
                    opt.abandon_data(data)
                    raise
                if losses.shape[0] != n:
                    opt.abandon_data(data)
                    raise errors.OptimkitValueError(
                        f"vectorized objective must return {n} losses (one per row), got shape {np.shape(out)}"
                    )
                opt.tell_data(data, losses)
                if self.verbosity:
                    self._report(opt.current_bests["minimum"].parameter, float(np.nanmin(losses)))
                if self.checkpoint is not None and opt.num_tell - last_dump >= self.every:
                    opt.dump(self.checkpoint)
                    last_dump = opt.num_tell
        except errors.OptimkitEarlyStopping:
            pass
