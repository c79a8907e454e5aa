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
    "LoadError",
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


class LoadError(OptimkitValueError):
    """A dump file is truncated, corrupted or not an optimkit dump of the expected class."""


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
