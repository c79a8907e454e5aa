"""The ``Parameter`` base class: values, standardized data, lineage and constraints.

Every parameter has a *raw* internal vector. Its standardized data with respect to a
reference is ``(raw - reference.raw) / reference.sigma``: optimizers work on those flat
float vectors of length ``dimension`` and never see the structure of the value.
Objects are kept light (``__slots__``, ids from a counter, no deep copies) because one
is created per asked candidate.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from .. import rng as _rng
from ..errors import OptimkitTypeError, OptimkitValueError

P = TypeVar("P", bound="Parameter")
Constraint = Callable[[Any], Any]

_UIDS = itertools.count()

__all__ = ["Parameter", "Constant", "as_parameter"]


class Parameter:
    """Base class of all parameters (abstract: use ``Array``, ``Scalar``, ``Choice``...)."""

    __slots__ = (
        "_uid",
        "_parent_uid",
        "_parents",
        "_generation",
        "_loss",
        "_losses",
        "_random_state",
        "_constraints",
        "_name",
        "_tag",
        "_std_cache",
        "__weakref__",
    )

    def __init__(self) -> None:
        self._uid = next(_UIDS)
        self._parent_uid: int | None = None
        self._parents: list[str] | None = None
        self._generation = 0
        self._loss: float | None = None
        self._losses: NDArray[np.float64] | None = None
        self._random_state: _rng.RandomLike | None = None
        self._constraints: tuple[Constraint, ...] = ()
        self._name: str | None = None
        self._tag: Any = None
        self._std_cache: tuple[Parameter, NDArray[np.float64]] | None = None

    # ------------------------------------------------------------------ value
    @property
    def value(self) -> Any:
        """The value handed to the objective."""
        return self._get_value()

    @value.setter
    def value(self, value: Any) -> None:
        self._set_value(value)
        self._std_cache = None

    def _get_value(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_value(self, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def args(self) -> tuple[Any, ...]:
        """Positional arguments for the objective: ``(value,)`` except for ``Instrumentation``."""
        return (self.value,)

    @property
    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the objective: empty except for ``Instrumentation``."""
        return {}

    @property
    def dimension(self) -> int:
        """Length of the standardized data."""
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------- standardized data
    def _raw(self) -> NDArray[np.float64]:
        """Flat internal representation (length ``dimension``)."""
        raise NotImplementedError  # pragma: no cover

    def _sigmas(self) -> NDArray[np.float64]:
        """Flat scale of the standardized space (length ``dimension``)."""
        raise NotImplementedError  # pragma: no cover

    def _set_raw(self, raw: NDArray[np.float64], rng: _rng.RandomLike | None) -> None:
        raise NotImplementedError  # pragma: no cover

    def get_standardized_data(self, *, reference: Parameter | None = None) -> NDArray[np.float64]:
        """Flat float data of this parameter relative to ``reference`` (default: itself)."""
        ref = self if reference is None else reference
        cache = self._std_cache
        if cache is not None and cache[0] is ref:
            return cache[1]
        data = (self._raw() - ref._raw()) / ref._sigmas()
        data.flags.writeable = False
        self._std_cache = (ref, data)
        return data

    def _own_memory(self) -> NDArray[np.float64] | None:
        """Copy the arrays this parameter shares with a batch (``_fast_child`` rows): an archive
        keeps it, and a row would keep its whole batch alive. Returns the cached data, if any."""
        cache = self._std_cache
        if cache is None:
            return None
        if cache[1].base is not None:
            self._std_cache = cache = (cache[0], cache[1].copy())
        return cache[1]

    def set_standardized_data(self: P, data: Any, *, reference: Parameter | None = None) -> P:
        """Set the value from flat standardized data relative to ``reference`` (default: itself)."""
        ref = self if reference is None else reference
        arr = np.array(data, dtype=np.float64).ravel()
        if arr.shape[0] != ref.dimension:
            raise OptimkitValueError(
                f"standardized data must have length {ref.dimension} (the parametrization's dimension), "
                f"got {arr.shape[0]}"
            )
        self._set_raw(ref._raw() + ref._sigmas() * arr, ref.random_state)
        arr.flags.writeable = False
        self._std_cache = (ref, arr)
        return self

    # ------------------------------------------------------------ lineage
    @property
    def uid(self) -> str:
        """Unique id of this parameter (hex string)."""
        return f"{self._uid:x}"

    @property
    def parents_uids(self) -> list[str]:
        """Uids of the parameters this one was spawned from."""
        if self._parents is not None:
            return list(self._parents)
        return [] if self._parent_uid is None else [f"{self._parent_uid:x}"]

    @property
    def generation(self) -> int:
        """How many spawns separate this parameter from the original."""
        return self._generation

    @property
    def loss(self) -> float | None:
        """The (first) loss told for this candidate, or None."""
        return self._loss

    @property
    def losses(self) -> NDArray[np.float64]:
        """All objectives told for this candidate (an array), or an empty array."""
        if self._losses is None:
            return np.zeros(0) if self._loss is None else np.array([self._loss])
        return self._losses

    def _new_like(self: P) -> P:
        """A shallow structural copy with a fresh uid (subclasses copy their own fields)."""
        new = object.__new__(type(self))
        new._uid = next(_UIDS)
        new._parent_uid = None
        new._parents = None
        new._generation = self._generation
        new._loss = None
        new._losses = None
        new._random_state = self._random_state
        new._constraints = self._constraints
        new._name = self._name
        new._tag = None
        new._std_cache = None
        return new

    def spawn_child(self: P, new_value: Any = None) -> P:
        """A new parameter of the same structure, child of this one; its value is ``new_value`` if given."""
        if self._random_state is None:
            self.random_state  # noqa: B018 - create it so that children share one generator
        child = self._new_like()
        child._parent_uid = self._uid
        child._generation = self._generation + 1
        if new_value is not None:
            child.value = new_value
        return child

    def copy(self: P) -> P:
        """An independent copy with the same value and a new uid."""
        new = self._new_like()
        new._parent_uid = self._parent_uid
        new._parents = self._parents
        return new

    # ------------------------------------------------------------ randomness
    @property
    def random_state(self) -> _rng.RandomLike:
        """The generator all draws of this parameter (and of optimizers using it) come from.

        A ``np.random.RandomState`` (an :class:`optimkit.rng.SharedRandomState`) seeded from the
        operating system at first access, as in nevergrad; seed it (``.random_state.seed(42)``) or assign a seeded ``RandomState`` or
        ``Generator`` before the first ask to make a run reproducible.
        """
        if self._random_state is None:
            self._random_state = _rng.SharedRandomState()  # seeded from the OS, never the global RNG
            self._propagate_random_state()
        return self._random_state

    @random_state.setter
    def random_state(self, rng: Any) -> None:
        self._random_state = _rng.as_random_state(rng)
        self._propagate_random_state()

    def _propagate_random_state(self) -> None:
        """Containers hand the generator to their content."""

    def sample(self: P) -> P:
        """A new child with a random value (uniform in bounded boxes, else around the reference)."""
        child = self.spawn_child()
        child._sample_into(self.random_state, self)
        return child

    def _sample_into(self, rng: _rng.RandomLike, ref: Parameter) -> None:
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------ constraints
    def register_cheap_constraint(self: P, func: Constraint) -> P:
        """Add a cheap constraint on the value: ``func(value)`` returns a bool, or a float >= 0 when satisfied.

        Optimizers re-sample an asked candidate until it satisfies all constraints (a bounded number
        of tries, then a ``FailedConstraintWarning``).
        """
        if not callable(func):
            raise OptimkitTypeError(f"register_cheap_constraint expects a callable, got {func!r}")
        self._constraints = self._constraints + (func,)
        return self

    def satisfies_constraints(self) -> bool:
        """Whether the current value satisfies every registered cheap constraint."""
        if not self._constraints:
            return True
        value = self.value
        for func in self._constraints:
            out = func(value)
            if isinstance(out, (bool, np.bool_)):
                if not out:
                    return False
            elif float(out) < 0:
                return False
        return True

    def _has_constraints(self) -> bool:
        return bool(self._constraints)

    # ------------------------------------------------------------ naming
    @property
    def name(self) -> str:
        """A readable name (set with ``set_name``)."""
        return self._name if self._name is not None else self._default_name()

    def _default_name(self) -> str:
        return type(self).__name__

    def set_name(self: P, name: str) -> P:
        """Name this parameter (shown in reprs and logs)."""
        self._name = str(name)
        return self

    def __repr__(self) -> str:
        try:
            value = self.value
        except Exception:  # noqa: BLE001 - a repr must never raise
            value = "?"
        return f"{self.name}:{value}"

    # ------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for cls in type(self).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if slot == "__weakref__" or slot in state:
                    continue
                if hasattr(self, slot):
                    state[slot] = getattr(self, slot)
        state["_std_cache"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for key, val in state.items():
            object.__setattr__(self, key, val)


class Constant(Parameter):
    """A fixed value (dimension 0): constants given to ``Instrumentation``/``Tuple``/``Dict``."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        super().__init__()
        if isinstance(value, Parameter):
            raise OptimkitTypeError("Constant cannot wrap a Parameter")
        self._value = value

    def _get_value(self) -> Any:
        return self._value

    def _set_value(self, value: Any) -> None:
        if value is not self._value and not _equal(value, self._value):
            raise OptimkitValueError(f"Constant value cannot be changed from {self._value!r} to {value!r}")

    @property
    def dimension(self) -> int:
        return 0

    def _raw(self) -> NDArray[np.float64]:
        return np.zeros(0)

    def _sigmas(self) -> NDArray[np.float64]:
        return np.ones(0)

    def _set_raw(self, raw: NDArray[np.float64], rng: _rng.RandomLike | None) -> None:
        return None

    def _new_like(self) -> Constant:
        new = super()._new_like()
        new._value = self._value
        return new

    def _sample_into(self, rng: _rng.RandomLike, ref: Parameter) -> None:
        return None

    def _default_name(self) -> str:
        return repr(self._value)


def _equal(a: Any, b: Any) -> bool:
    try:
        return bool(np.all(a == b))
    except Exception:  # noqa: BLE001 - incomparable values are simply different
        return False


def as_parameter(obj: Any) -> Parameter:
    """``obj`` itself if it is a Parameter, else a ``Constant`` holding it."""
    return obj if isinstance(obj, Parameter) else Constant(obj)
