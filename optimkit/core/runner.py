"""The loops behind ``Optimizer.minimize``: sequential, executor-based and vectorized, with their
failure policy (per-evaluation timeout, failure limits) and checkpoints.

They drive an optimizer through its public methods only (``ask``/``tell``/``abandon``, the batch
protocol ``ask_data``/``tell_data``/``abandon_data``, ``dump``/``load``, counters): :class:`Steppable`
names what they use, so this module never imports the optimizer.

Reliability rules (``docs/reliability.md``):

- a *failure* is an evaluation that raised (counted only with ``max_failures`` set; otherwise the
  exception ends the run), timed out (``eval_timeout``) or lost its worker (the process died); it
  is told with the loss ``inf``. A NaN loss is a told loss, not a failure;
- more than ``max_failures`` failures in all, or more than ``max_consecutive_failures`` in a row,
  stop the run with :class:`~optimkit.errors.TooManyFailuresError`;
- whatever ends the run (budget, ``max_time``, an exception, Ctrl-C), in-flight candidates are
  abandoned (re-issued later) and the final checkpoint is written before ``minimize`` returns or
  re-raises.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from .. import errors
from ..parametrization import Array, Parameter
from ..validation import check_bool, check_int, check_real

__all__ = [
    "Runner",
    "Steppable",
    "FailurePolicy",
    "ChildProcessEvaluator",
    "check_minimize_options",
    "check_picklable",
    "prepare_checkpoint",
    "DEFAULT_MAX_CONSECUTIVE_FAILURES",
]

#: ``minimize``'s default ``max_consecutive_failures``: a run whose evaluations all fail (an
#: objective that kills its worker, a hang under ``eval_timeout``) stops instead of telling ``inf``
#: until the budget is spent.
DEFAULT_MAX_CONSECUTIVE_FAILURES = 10

#: Longest single wait of the executor loop (seconds): the loop re-checks deadlines at least this often.
_MAX_WAIT = 0.5

_CORE_DIR = os.path.dirname(os.path.abspath(__file__))


def _warn(message: str, category: type[Warning]) -> None:
    """Warn, pointing at the first frame outside ``optimkit/core`` (the user's ``minimize`` call)."""
    level, frame = 2, sys._getframe(1)  # stacklevel 2 is _warn's caller
    while frame is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _CORE_DIR:
        level, frame = level + 1, frame.f_back  # type: ignore[assignment]
    warnings.warn(message, category, stacklevel=level)


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


@dataclass(frozen=True)
class FailurePolicy:
    """When an evaluation counts as failed, and how many failures a run tolerates.

    Parameters
    ----------
    eval_timeout : float or None
        Seconds one evaluation may run; a longer one is stopped and told as failed.
    max_failures : int or None
        Failures tolerated in all (None: no limit, and an exception raised by the objective ends the
        run at once instead of counting as a failure).
    max_consecutive_failures : int or None
        Failures tolerated in a row (None: no limit).

    Examples
    --------
    >>> FailurePolicy(eval_timeout=2.0, max_failures=5).max_consecutive_failures
    10
    """

    eval_timeout: float | None = None
    max_failures: int | None = None
    max_consecutive_failures: int | None = DEFAULT_MAX_CONSECUTIVE_FAILURES

    def __post_init__(self) -> None:
        if self.eval_timeout is not None:
            object.__setattr__(
                self, "eval_timeout", check_real("eval_timeout", self.eval_timeout, 0.0, low_open=True, finite=False)
            )
        if self.max_failures is not None:
            object.__setattr__(self, "max_failures", check_int("max_failures", self.max_failures, 0))
        if self.max_consecutive_failures is not None:
            object.__setattr__(
                self, "max_consecutive_failures", check_int("max_consecutive_failures", self.max_consecutive_failures, 1)
            )


def check_minimize_options(
    opt: Steppable,
    fn: Any,
    executor: Any,
    max_time: Any,
    checkpoint_every: Any,
    vectorized: bool,
    *,
    policy: FailurePolicy | None = None,
    checkpoint: Any = None,
    resume: Any = False,
    overwrite: Any = False,
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
    resume, overwrite = check_bool("resume", resume), check_bool("overwrite", overwrite)
    if resume and overwrite:
        raise errors.OptimkitValueError(
            "resume=True (continue from the checkpoint) and overwrite=True (start over) exclude each other"
        )
    if (resume or overwrite) and checkpoint is None:
        which = "resume=True" if resume else "overwrite=True"
        raise errors.OptimkitValueError(f"{which} applies to a checkpoint: give checkpoint=path too")
    if policy is not None and vectorized and (policy.eval_timeout is not None or policy.max_failures is not None):
        raise errors.OptimkitValueError(
            "vectorized=True evaluates whole batches in this process: eval_timeout and max_failures "
            "apply to single evaluations (drop vectorized=True, or these options)"
        )
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


# ----------------------------------------------------------------------------- checkpoints
def prepare_checkpoint(opt: Steppable, checkpoint: Any, *, resume: bool, overwrite: bool) -> None:
    """Check ``checkpoint`` before the first evaluation, and load it into ``opt`` with ``resume``.

    The path must name a file (existing or not) in an existing, writable folder. An existing file
    is refused unless ``resume`` (its state is loaded into ``opt``, which must be of the same class
    and parametrization; ``opt`` keeps its own budget and callbacks) or ``overwrite`` (it is
    replaced). Then ``opt`` is dumped to the path once, so a path or serialization problem raises
    now, naming the checkpoint, rather than at the first checkpoint.
    """
    path = os.fspath(checkpoint)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise errors.CheckpointError(f"checkpoint={path!r} is a folder; give a file path, e.g. {os.path.join(path, 'run.ckpt')!r}")
    if not os.path.isdir(folder):
        raise errors.CheckpointError(f"the folder of checkpoint={path!r} does not exist ({folder!r}); create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise errors.CheckpointError(f"the folder of checkpoint={path!r} ({folder!r}) is not writable")
    if os.path.exists(path):
        if resume:
            _resume_from(opt, path)
        elif not overwrite:
            raise errors.CheckpointExistsError(
                f"checkpoint={path!r} already exists (a checkpoint of another run?); pass resume=True to "
                "continue from it, or overwrite=True to start over and replace it"
            )
    try:
        opt.dump(path)
    except Exception as exc:  # noqa: BLE001 - one clear error naming the checkpoint
        raise errors.CheckpointError(
            f"cannot write checkpoint={path!r} ({type(exc).__name__}: {exc}); nothing was evaluated"
        ) from exc


def _resume_from(opt: Steppable, path: str) -> None:
    """Load the dump at ``path`` into ``opt`` (same class, same parametrization)."""
    loaded = type(opt).load(path)  # type: ignore[attr-defined]  # LoadError names the path
    if type(loaded) is not type(opt):
        raise errors.CheckpointError(
            f"checkpoint={path!r} holds a {type(loaded).__name__}, not a {type(opt).__name__}: resume it "
            "with an optimizer of its class, or pass overwrite=True to start over"
        )
    mine, theirs = opt.parametrization.name, loaded.parametrization.name
    if mine != theirs or opt.num_workers != loaded.num_workers:
        raise errors.CheckpointError(
            f"checkpoint={path!r} is a run of {loaded!r} on {theirs}, this optimizer is {opt!r} on {mine}; "
            "resume with the same parametrization and num_workers, or pass overwrite=True to start over"
        )
    state = dict(vars(loaded))
    for name in ("_callbacks", *getattr(opt, "_transient_attributes", ())):
        state.pop(name, None)  # this run's callbacks stay registered (not doubled), its lock stays
    state["budget"] = opt.budget  # the budget of this run: a resumed run may be given more
    vars(opt).update(state)


# ----------------------------------------------------------------------------- child process
# The program of the child process that runs evaluations for minimize(eval_timeout=...) without an
# executor. It imports nothing of optimkit (fast to start) and talks through its stdin/stdout:
# frames of an 8-byte big-endian length and a pickle. The objective's own prints go to stderr.
_CHILD_PROGRAM = r"""
import os, pickle, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's business
inp, out = os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)
devnull = os.open(os.devnull, os.O_RDONLY)
os.dup2(devnull, 0)
def read():
    head = inp.read(8)
    if len(head) < 8:
        sys.exit(0)
    return inp.read(int.from_bytes(head, "big"))
def write(kind, value):
    try:
        data = pickle.dumps((kind, value), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        data = pickle.dumps(("error", RuntimeError(f"the result could not be pickled: {exc!r} ({value!r})")))
    out.write(len(data).to_bytes(8, "big") + data)
    out.flush()
sys.path[:] = pickle.loads(read())
fn = None
while True:
    message = read()
    try:
        fn_bytes, args, kwargs = pickle.loads(message)
        if fn_bytes is not None:
            fn = pickle.loads(fn_bytes)
    except BaseException as exc:
        write("unloadable", f"{type(exc).__name__}: {exc}")
        continue
    write("started", None)  # the parent's eval_timeout clock starts now, not at the child's start-up
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:
        write("error", exc)
    else:
        write("value", value)
"""


def _pickle_objective(fn: Callable[..., Any]) -> bytes:
    """``fn`` pickled for the child process: by value with cloudpickle (a dependency; where it is installed)
    (lambdas, closures, functions of ``__main__``), else by reference with pickle."""
    try:
        import cloudpickle

        return bytes(cloudpickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL))
    except ImportError:
        pass
    except Exception as exc:  # noqa: BLE001 - one clear error naming the objective
        raise _unpicklable(fn, exc) from exc
    try:
        return pickle.dumps(fn, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - one clear error naming the objective
        raise _unpicklable(fn, exc) from exc


def _unpicklable(fn: Callable[..., Any], exc: BaseException) -> errors.UnpicklableObjectiveError:
    name = getattr(fn, "__qualname__", repr(fn))
    return errors.UnpicklableObjectiveError(
        f"objective_function {name!r} cannot be pickled ({type(exc).__name__}: {exc}), which "
        "eval_timeout without an executor needs (each evaluation runs in a child process that can be "
        "stopped); define it at module level, or install cloudpickle"
    )


def _read_frames(stream: IO[bytes], inbox: queue.Queue[tuple[str, Any]], proc: subprocess.Popen[bytes]) -> None:
    """Reader thread: turn the child's frames into ``(kind, value)`` items; ``("died", code)`` at EOF."""
    try:
        while True:
            head = stream.read(8)
            if len(head) < 8:
                break
            data = stream.read(int.from_bytes(head, "big"))
            try:
                inbox.put(pickle.loads(data))
            except Exception as exc:  # noqa: BLE001 - reported to the waiting future
                inbox.put(("error", errors.OptimkitRuntimeError(f"the child's result could not be unpickled: {exc!r}")))
    except (OSError, ValueError):  # the pipe was closed by kill()
        pass
    try:
        code = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - closed its stdout but lingers
        code = None
    inbox.put(("died", code))


class _ChildFuture:
    """The evaluation running in a :class:`ChildProcessEvaluator`'s child process."""

    __slots__ = ("_owner", "_inbox", "_outcome", "_started")

    def __init__(self, owner: ChildProcessEvaluator, inbox: queue.Queue[tuple[str, Any]]) -> None:
        self._owner, self._inbox = owner, inbox
        self._outcome: tuple[str, Any] | None = None
        self._started = False

    def poll(self, timeout: float | None) -> bool:
        """Whether the evaluation finished, waiting up to ``timeout`` s (None: until it does)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._outcome is None:
            left = None if deadline is None else deadline - time.monotonic()
            try:
                item = self._inbox.get(timeout=left) if left is None or left > 0 else self._inbox.get_nowait()
            except queue.Empty:
                return False
            if item[0] == "started":
                self._started = True
                continue
            self._outcome = item
            self._owner._finished(self, item)
        return True

    def running(self) -> bool:
        """Whether the child has started the evaluation (its objective and arguments are loaded)."""
        self.poll(0)
        return self._started and self._outcome is None

    def done(self) -> bool:
        return self.poll(0)

    def result(self) -> Any:
        self.poll(None)
        kind, value = self._outcome  # type: ignore[misc]
        if kind == "value":
            return value
        if kind == "error":
            raise value
        if kind == "unloadable":
            raise errors.UnpicklableObjectiveError(
                f"the child process evaluating the objective (eval_timeout) could not load it: {value}; "
                "define the objective in an importable module"
            )
        raise errors.WorkerDiedError(f"the child process running the evaluation died (exit code {value})")

    def kill(self) -> None:
        """Stop the evaluation: kill the child process (a new one serves the next evaluation)."""
        if self._outcome is None:
            self._owner.kill()


class ChildProcessEvaluator:
    """Run evaluations one at a time in a reusable child process that can be killed.

    ``minimize(eval_timeout=s)`` without an executor uses it: a Python thread cannot be stopped,
    a process can. The child starts at the first ``submit`` (it imports nothing of optimkit); an
    evaluation that times out is stopped by killing it, and a child that died (killed, crashed,
    ``os._exit``) is replaced at the next ``submit``. The objective is pickled once, by value with
    cloudpickle where it is installed. Its prints go to standard error.

    Parameters
    ----------
    fn : callable
        The objective; ``submit`` must be given this very function.

    Examples
    --------
    >>> with ChildProcessEvaluator(abs) as ev:
    ...     ev.submit(abs, -3).result()
    3
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self._fn_bytes = _pickle_objective(fn)
        self._proc: subprocess.Popen[bytes] | None = None
        self._inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._sent_fn = False
        self._running: _ChildFuture | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", _CHILD_PROGRAM], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._inbox = queue.Queue()
        assert proc.stdout is not None and proc.stdin is not None  # noqa: S101 - PIPE above
        threading.Thread(target=_read_frames, args=(proc.stdout, self._inbox, proc), daemon=True).start()
        self._proc, self._sent_fn = proc, False
        self._send(pickle.dumps(list(sys.path)))
        return proc

    def _send(self, data: bytes) -> None:
        assert self._proc is not None and self._proc.stdin is not None  # noqa: S101 - started
        self._proc.stdin.write(len(data).to_bytes(8, "big") + data)
        self._proc.stdin.flush()

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> _ChildFuture:
        """Start ``fn(*args, **kwargs)`` in the child process (one evaluation at a time)."""
        if fn is not self.fn:
            raise errors.OptimkitValueError("ChildProcessEvaluator.submit: fn must be the function it was created with")
        if self._running is not None:
            raise errors.OptimkitRuntimeError("ChildProcessEvaluator runs one evaluation at a time")
        for attempt in (0, 1):
            if self._proc is None or self._proc.poll() is not None:
                self._start()
            message = pickle.dumps((None if self._sent_fn else self._fn_bytes, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
            try:
                self._send(message)
            except (BrokenPipeError, OSError):  # the idle child died: start another, once
                self.kill()
                if attempt:
                    raise
                continue
            self._sent_fn = True
            break
        self._running = _ChildFuture(self, self._inbox)
        return self._running

    def _finished(self, future: _ChildFuture, outcome: tuple[str, Any]) -> None:
        if future is self._running:
            self._running = None
        if outcome[0] == "died":
            self._proc = None

    def wait(self, futures: list[Any], timeout: float | None = None) -> None:
        """Block until the running evaluation finishes, or ``timeout`` seconds."""
        for future in futures:
            if isinstance(future, _ChildFuture) and future.poll(timeout):
                return

    def kill(self) -> None:
        """Kill the child process now (the running evaluation is lost)."""
        proc, self._proc, self._running = self._proc, None, None
        if proc is not None:
            proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:  # pragma: no cover - already broken
                    pass

    def shutdown(self, wait: bool = True) -> None:
        """End the child process (at once if an evaluation is still running)."""
        proc = self._proc
        if proc is None:
            return
        if self._running is None and proc.stdin is not None:
            try:
                proc.stdin.close()  # the child exits at end of input
                proc.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def __enter__(self) -> ChildProcessEvaluator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


# ----------------------------------------------------------------------------- the loops
class _Job:
    """One evaluation in flight: its candidate, future and clock (identity equality)."""

    __slots__ = ("cand", "fut", "started", "submitted")

    def __init__(self, cand: Parameter, fut: Any, started: float) -> None:
        self.cand, self.fut, self.started, self.submitted = cand, fut, started, started


def _stop_future(fut: Any) -> bool:
    """Stop an evaluation: ``kill()`` where the future has one (Ray, the child process), else
    ``cancel()`` (only a queued ``concurrent.futures`` evaluation can be); whether it stopped."""
    kill = getattr(fut, "kill", None)
    if callable(kill):
        kill()
        return True
    cancel = getattr(fut, "cancel", None)
    return bool(cancel()) if callable(cancel) else False


def _queued(fut: Any) -> bool:
    """Whether an evaluation waits to start: futures with ``running()`` (``concurrent.futures``, the
    child process) say so; others (Ray) count as running from submission."""
    running = getattr(fut, "running", None)
    return callable(running) and not running() and not fut.done()


class Runner:
    """The loops of ``minimize`` (sequential, executor, vectorized) and their failure policy."""

    def __init__(
        self,
        opt: Steppable,
        fn: Callable[..., Any],
        verbosity: int,
        constraints: list[Callable[[Any], float]],
        max_time: float | None,
        checkpoint: Any,
        every: int,
        policy: FailurePolicy | None = None,
    ) -> None:
        self.opt, self.fn, self.verbosity = opt, fn, verbosity
        self.constraints, self.max_time = constraints, max_time
        self.checkpoint, self.every = checkpoint, every
        self.policy = policy if policy is not None else FailurePolicy()
        self.start = time.monotonic()
        self.deadline = math.inf if max_time is None else self.start + max_time
        self.budget = opt.budget if opt.budget is not None else 0
        self.num_failures = 0
        self.num_consecutive_failures = 0
        self.last_failure: BaseException | None = None
        self._warned: set[str] = set()
        self._busy_workers = 0  # pool workers still running an evaluation the run gave up on
        self._first_tell = opt.num_tell
        self._last_print = self.start
        self._print_every = max(1, (self.budget - opt.num_tell) // 10)
        self._last_print_tell: int | None = None

    # -- dispatch, final checkpoint, summary
    def run(self, executor: Any, batch_mode: bool, vectorized: bool) -> None:
        """Run the loop that fits; write the final checkpoint whatever ends the run, then re-raise."""
        try:
            if vectorized:
                self.run_vectorized()
            elif executor is not None:
                self.run_executor(executor, batch_mode)
            elif self.policy.eval_timeout is not None:
                with ChildProcessEvaluator(self.fn) as child:
                    self.run_executor(child, False, in_flight=1)
            else:
                self.run_sequential()
        except BaseException as exc:
            self._final_checkpoint(exc)
            self._summary(exc)
            raise
        self._final_checkpoint(None)
        self._summary(None)

    def _final_checkpoint(self, exc: BaseException | None) -> None:
        if self.checkpoint is None:
            return
        try:
            self.opt.dump(self.checkpoint)
        except Exception as dump_exc:
            if exc is None:
                raise errors.CheckpointError(
                    f"cannot write the final checkpoint={os.fspath(self.checkpoint)!r} ({type(dump_exc).__name__}: {dump_exc})"
                ) from dump_exc
            note = f"the final checkpoint {os.fspath(self.checkpoint)!r} could not be written: {dump_exc!r}"
            if hasattr(exc, "add_note"):
                exc.add_note(note)
            _warn(note, errors.OptimkitWarning)

    def _summary(self, exc: BaseException | None) -> None:
        if not self.verbosity:
            return
        opt = self.opt
        best = opt.current_bests["minimum"].minimum if opt.current_bests else float("nan")
        told = opt.num_tell - self._first_tell
        failed = f", {self.num_failures} failed" if self.num_failures else ""
        end = "done" if exc is None or isinstance(exc, errors.OptimkitEarlyStopping) else f"stopped by {type(exc).__name__}"
        print(
            f"[{opt.name}] {end}: {told} evaluations told{failed} in {time.monotonic() - self.start:.1f}s "
            f"(tell {opt.num_tell}/{opt.budget}), best loss {best:.6g}",
            flush=True,
        )

    # -- helpers
    def _out_of_time(self, now: float | None = None) -> bool:
        return self.max_time is not None and (time.monotonic() if now is None else now) > self.deadline

    def _tell(self, cand: Parameter, loss: Any) -> None:
        """Tell a result; if ``tell`` raises (a loss of the wrong type), abandon ``cand`` and re-raise."""
        opt = self.opt
        try:
            if self.constraints:
                value = cand.value
                opt.tell(cand, loss, constraint_violation=[float(c(value)) for c in self.constraints])
            else:
                opt.tell(cand, loss)
        except BaseException:
            opt.abandon(cand)  # no-op if the tell was recorded (a tell callback raised)
            raise
        self.num_consecutive_failures = 0
        self._after_tell(loss)

    def _after_tell(self, loss: Any) -> None:
        if self.verbosity:
            self._report(loss)
        if self.checkpoint is not None and self.opt.num_tell % self.every == 0:
            self.opt.dump(self.checkpoint)

    def _fail(self, cand: Parameter, exc: BaseException, kind: str) -> None:
        """Record a failed evaluation: tell it as ``inf``, count it, stop past the limits."""
        self.num_failures += 1
        self.num_consecutive_failures += 1
        self.last_failure = exc
        try:
            self.opt.tell(cand, math.inf)
        except BaseException:
            self.opt.abandon(cand)
            raise
        self._after_tell(math.inf)
        policy = self.policy
        name = getattr(self.fn, "__qualname__", None) or f"a {type(self.fn).__qualname__} object"
        if policy.max_failures is not None and self.num_failures > policy.max_failures:
            limit = f"{self.num_failures} evaluations of {name} failed (more than max_failures={policy.max_failures})"
        elif (
            policy.max_consecutive_failures is not None
            and self.num_consecutive_failures > policy.max_consecutive_failures
        ):
            limit = (
                f"{self.num_consecutive_failures} evaluations of {name} failed in a row (more than "
                f"max_consecutive_failures={policy.max_consecutive_failures})"
            )
        else:
            if kind not in self._warned:
                self._warned.add(kind)
                _warn(
                    f"an evaluation of {name} failed ({kind}: {type(exc).__name__}: {exc}); it is told with "
                    "loss inf (further failures of this kind are not reported)",
                    errors.EvaluationFailedWarning,
                )
            return
        raise errors.TooManyFailuresError(
            f"{limit}; the run stops after {self.opt.num_tell} tells. Last failure: {type(exc).__name__}: {exc}",
            num_failures=self.num_failures,
            last_exception=exc,
        ) from exc

    def _report(self, loss: Any) -> None:
        opt = self.opt
        now = time.monotonic()
        told, every, last = opt.num_tell, self._print_every, self._last_print_tell
        if (
            self.verbosity >= 2
            or last is None  # the first tell (or batch) of the run
            or told // every > last // every  # crossed a tenth of the budget
            or now - self._last_print > 2.0
        ):
            best = opt.current_bests["minimum"].minimum if opt.current_bests else float("nan")
            failed = f" failed={self.num_failures}" if self.num_failures else ""
            print(
                f"[{opt.name}] tell {told}/{opt.budget}: loss={loss} best={best:.6g}{failed} ({now - self.start:.1f}s)",
                flush=True,
            )
            self._last_print, self._last_print_tell = now, told

    # -- sequential
    def run_sequential(self) -> None:
        """Evaluate in this thread, one candidate at a time (``max_time`` is checked between evaluations)."""
        opt, fn = self.opt, self.fn
        single = isinstance(opt.parametrization, Array)  # fn(value): no args tuple, no kwargs dict
        tolerant = self.policy.max_failures is not None
        plain = not (self.constraints or self.verbosity or self.checkpoint is not None or tolerant)
        ask, tell = opt.ask, (opt.tell if plain else self._tell)
        timed = self.max_time is not None
        try:
            # the asks left, counted here: one property read per stretch, not per evaluation
            while (left := self.budget - opt.num_ask) > 0:
                for _ in range(left):
                    if timed and self._out_of_time():
                        return
                    cand = ask()
                    if plain:
                        try:
                            tell(cand, fn(cand.value) if single else fn(*cand.args, **cand.kwargs))
                        except BaseException:
                            opt.abandon(cand)  # the objective or tell raised: forget the candidate
                            raise
                        continue
                    try:
                        loss = fn(cand.value) if single else fn(*cand.args, **cand.kwargs)
                    except Exception as exc:
                        if not tolerant:
                            opt.abandon(cand)
                            raise
                        self._fail(cand, exc, "the objective raised")
                        continue
                    except BaseException:
                        opt.abandon(cand)
                        raise
                    tell(cand, loss)
        except errors.OptimkitEarlyStopping:
            pass

    # -- executor
    def _finish(self, job: _Job) -> None:
        """Tell a finished evaluation (or record its failure)."""
        fut = job.fut
        try:
            loss = fut.result()
        except errors.WorkerDiedError as exc:
            self._fail(job.cand, exc, "its worker died")
            return
        except Exception as exc:
            if self.policy.max_failures is None:
                self.opt.abandon(job.cand)
                raise
            self._fail(job.cand, exc, "the objective raised")
            return
        except BaseException:
            self.opt.abandon(job.cand)
            raise
        lost = getattr(fut, "failure", None)  # RayFuture: the worker died after all its retries
        if isinstance(lost, BaseException):
            self._fail(job.cand, lost, "its worker died")
            return
        self._tell(job.cand, loss)

    def _expire(self, pending: list[_Job], now: float, executor: Any) -> None:
        """Stop the evaluations that ran longer than ``eval_timeout``; tell them as failed."""
        timeout = self.policy.eval_timeout
        assert timeout is not None  # noqa: S101 - called only with a timeout
        for job in list(pending):
            fut = job.fut
            if _queued(fut):
                # still queued (pool) or loading (child process): the clock starts when it runs, unless
                # workers were left busy by stuck evaluations, when waiting in the queue times out too
                if not (self._busy_workers and now - job.submitted > timeout):
                    job.started = now
                    continue
            if now - job.started <= timeout or fut.done():
                continue
            pending.remove(job)
            if not _stop_future(fut):
                self._busy_workers += 1
                self._warn_busy(executor)
            exc = errors.EvaluationTimeoutError(f"the evaluation ran longer than eval_timeout={timeout:g} s")
            self._fail(job.cand, exc, "timeout")

    def _warn_busy(self, executor: Any) -> None:
        if "busy" in self._warned:
            return
        self._warned.add("busy")
        kind = type(executor).__name__
        _warn(
            f"{kind} cannot stop a running evaluation: the timed-out one is told as failed and its result "
            f"ignored, but its {'process' if isinstance(executor, cf.ProcessPoolExecutor) else 'thread'} "
            "stays busy until the objective returns (and leaving the executor waits for it); "
            "ok.executors.RayExecutor, or minimize without an executor, stop timed-out evaluations",
            errors.EvaluationFailedWarning,
        )

    def _wait_time(self, pending: list[_Job], now: float) -> float:
        wait = _MAX_WAIT
        if self.max_time is not None:
            wait = min(wait, self.deadline - now)
        timeout = self.policy.eval_timeout
        if timeout is not None and math.isfinite(timeout):
            if any(_queued(j.fut) for j in pending):
                wait = min(wait, 0.05)  # notice soon when a queued evaluation starts
            wait = min(wait, min(j.started + timeout for j in pending) - now)
        return max(wait, 1e-3)

    def run_executor(self, executor: Any, batch_mode: bool, in_flight: int | None = None) -> None:
        """Keep ``in_flight`` (default ``num_workers``) evaluations running on ``executor``."""
        opt, fn = self.opt, self.fn
        limit = in_flight if in_flight is not None else opt.num_workers
        timed_evals = self.policy.eval_timeout is not None
        pending: list[_Job] = []
        waiter = getattr(executor, "wait", None)
        waiter = waiter if callable(waiter) else None
        stop = False
        sleep = 1e-4
        try:
            while True:
                progressed = False
                if pending:
                    if timed_evals:
                        self._expire(pending, time.monotonic(), executor)
                    if batch_mode:
                        finished = list(pending) if all(j.fut.done() for j in pending) else []
                    else:
                        finished = [j for j in pending if j.fut.done()]
                    for job in finished:
                        pending.remove(job)
                        self._finish(job)
                        progressed = True
                if self._out_of_time():
                    return  # what is still running is stopped and abandoned below
                if not stop and opt.num_ask >= self.budget:
                    stop = True
                if not stop and (not batch_mode or not pending):
                    n_new = min(limit - len(pending), self.budget - opt.num_ask)
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
                        pending.append(_Job(cand, fut, time.monotonic()))
                        progressed = True
                if not pending:
                    if stop or opt.num_ask >= self.budget:
                        break
                    continue
                if progressed:
                    sleep = 1e-4
                    continue
                wait = self._wait_time(pending, time.monotonic())
                futures = [j.fut for j in pending]
                if waiter is not None:  # RayExecutor.wait, ChildProcessEvaluator.wait: one blocking call
                    waiter(futures, timeout=wait)
                elif all(isinstance(f, cf.Future) for f in futures):
                    cf.wait(futures, timeout=wait, return_when=cf.FIRST_COMPLETED)
                else:
                    time.sleep(min(sleep, wait))
                    sleep = min(sleep * 2, 0.01)
        finally:
            for job in pending:  # an exception, Ctrl-C or max_time: in-flight work is re-issued later
                opt.abandon(job.cand)
                try:
                    _stop_future(job.fut)
                except Exception:  # noqa: BLE001, S110 - best effort while leaving; never masks the cause
                    pass

    # -- vectorized
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
                try:
                    opt.tell_data(data, losses)
                except BaseException:
                    opt.abandon_data(data)
                    raise
                if self.verbosity:
                    self._report(float(np.nanmin(losses)) if np.isfinite(losses).any() else float("inf"))
                if self.checkpoint is not None and opt.num_tell - last_dump >= self.every:
                    opt.dump(self.checkpoint)
                    last_dump = opt.num_tell
        except errors.OptimkitEarlyStopping:
            pass
