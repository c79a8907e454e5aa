"""Exception and warning types of optimkit.

Every error also subclasses a builtin exception, so ``except ValueError`` keeps
working for code written against nevergrad or scipy.
"""

from __future__ import annotations

__all__ = [
    "OptimkitError",
    "OptimkitValueError",
    "OptimkitTypeError",
    "OptimkitRuntimeError",
    "TellNotAskedNotSupportedError",
    "UnsupportedParametrizationError",
    "UnpicklableObjectiveError",
    "TooManyFailuresError",
    "EvaluationTimeoutError",
    "WorkerDiedError",
    "UnsatisfiableResourcesError",
    "CheckpointError",
    "CheckpointExistsError",
    "LoadError",
    "DumpError",
    "OptimkitEarlyStopping",
    "OptimkitWarning",
    "NanLossWarning",
    "FailedConstraintWarning",
    "NomadCrashWarning",
    "EvaluationFailedWarning",
    "InefficientSettingsWarning",
]


class OptimkitError(Exception):
    """Base class of all optimkit errors."""


class OptimkitValueError(ValueError, OptimkitError):
    """An option or argument has an invalid value; the message names it and its accepted range."""


class OptimkitTypeError(TypeError, OptimkitError):
    """An argument has the wrong type."""


class OptimkitRuntimeError(RuntimeError, OptimkitError):
    """Something went wrong while running an optimization."""


class TellNotAskedNotSupportedError(NotImplementedError, OptimkitError):
    """The optimizer cannot use a candidate it did not ask."""


class UnsupportedParametrizationError(OptimkitValueError):
    """The optimizer (or code path) cannot handle this parametrization."""


class UnpicklableObjectiveError(OptimkitTypeError):
    """The objective function cannot be serialized for the chosen executor."""


class TooManyFailuresError(OptimkitRuntimeError):
    """``minimize`` stopped: more evaluations failed than ``max_failures`` (or ``max_consecutive_failures``
    in a row) allow. ``num_failures`` holds the count, ``last_exception`` the last failure."""

    def __init__(self, message: str, num_failures: int = 0, last_exception: BaseException | None = None) -> None:
        super().__init__(message)
        self.num_failures = num_failures
        self.last_exception = last_exception


class EvaluationTimeoutError(TimeoutError, OptimkitError):
    """An evaluation ran longer than ``minimize``'s ``eval_timeout`` (recorded as a failure)."""


class WorkerDiedError(OptimkitRuntimeError):
    """The process running an evaluation died (crashed, was killed, or called ``os._exit``)."""


class UnsatisfiableResourcesError(OptimkitValueError):
    """No node of the Ray cluster has the resources each evaluation requests."""


class CheckpointError(OptimkitValueError):
    """The ``checkpoint`` path of ``minimize`` cannot be used (folder missing or not writable, a
    folder given, another class or parametrization in the file)."""


class CheckpointExistsError(FileExistsError, OptimkitError):
    """The ``checkpoint`` file exists: ``minimize`` needs ``resume=True`` or ``overwrite=True``."""


class LoadError(OptimkitValueError):
    """A dump file is truncated, corrupted or not an optimkit dump of the expected class."""


class DumpError(OptimkitTypeError):
    """The optimizer's state holds something a dump cannot store (the message names the dump's path
    and the object's path in the state); nothing was written."""


class OptimkitEarlyStopping(StopIteration, OptimkitError):
    """Raised by callbacks (``EarlyStopping``) to end ``minimize`` cleanly."""


class OptimkitWarning(UserWarning):
    """Base class of optimkit warnings."""


class NanLossWarning(OptimkitWarning):
    """A NaN loss was told: it is kept in the record and treated as the worst loss."""


class FailedConstraintWarning(OptimkitWarning):
    """No candidate satisfying the cheap constraints was found within the allowed tries."""


class NomadCrashWarning(OptimkitWarning):
    """A NOMAD local search crashed; the run goes on from the best point it reached."""


class EvaluationFailedWarning(OptimkitWarning):
    """An evaluation was lost (worker died) after all retries; it was told as failed."""


class InefficientSettingsWarning(OptimkitWarning):
    """The settings work but are wasteful (for instance num_workers > 1 without an executor)."""
