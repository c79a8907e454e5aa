"""Containers: ``Tuple``, ``Dict`` and ``Instrumentation`` (constants allowed among their content).

The standardized data of a container is the concatenation of its content's data, in order
(``Dict`` and the keyword part of ``Instrumentation`` in sorted key order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import rng as _rng
from ..errors import OptimkitValueError
from .core import Parameter, as_parameter

__all__ = ["Container", "Tuple", "Dict", "Instrumentation"]


class Container(Parameter):
    """Base of parameters holding other parameters (``_content`` maps keys to parameters)."""

    __slots__ = ("_content", "_slices", "_dim")

    def __init__(self, content: dict[Any, Any]) -> None:
        super().__init__()
        self._content: dict[Any, Parameter] = {k: as_parameter(v) for k, v in content.items()}
        self._setup()

    def _ordered_keys(self) -> list[Any]:
        return list(self._content)

    def _setup(self) -> None:
        self._slices: list[tuple[Any, slice]] = []
        start = 0
        for key in self._ordered_keys():
            d = self._content[key].dimension
            self._slices.append((key, slice(start, start + d)))
            start += d
        self._dim = start

    def __getitem__(self, key: Any) -> Parameter:
        return self._content[key]

    def __len__(self) -> int:
        return len(self._content)

    @property
    def dimension(self) -> int:
        return self._dim

    def _raw(self) -> NDArray[np.float64]:
        parts = [self._content[k]._raw() for k, _ in self._slices]
        return np.concatenate(parts) if parts else np.zeros(0)

    def _sigmas(self) -> NDArray[np.float64]:
        parts = [self._content[k]._sigmas() for k, _ in self._slices]
        return np.concatenate(parts) if parts else np.ones(0)

    def _set_raw(self, raw: NDArray[np.float64], rng: _rng.RandomLike | None) -> None:
        for key, sl in self._slices:
            child = self._content[key]
            child._set_raw(raw[sl], rng)
            child._std_cache = None

    def _new_like(self) -> Container:
        new = super()._new_like()
        new._content = {k: v._new_like() for k, v in self._content.items()}
        new._slices = self._slices
        new._dim = self._dim
        return new

    def spawn_child(self, new_value: Any = None) -> Container:
        child = super().spawn_child()
        for key, sub in child._content.items():
            sub._parent_uid = self._content[key]._uid
            sub._generation = self._content[key]._generation + 1
        if new_value is not None:
            child.value = new_value
        return child

    def _propagate_random_state(self) -> None:
        for sub in self._content.values():
            sub._random_state = self._random_state
            sub._propagate_random_state()

    def _sample_into(self, rng: _rng.RandomLike, ref: Parameter) -> None:
        assert isinstance(ref, Container)
        for key, sub in self._content.items():
            sub._sample_into(rng, ref._content[key])
        self._std_cache = None

    def satisfies_constraints(self) -> bool:
        return all(sub.satisfies_constraints() for sub in self._content.values()) and super().satisfies_constraints()

    def _has_constraints(self) -> bool:
        return bool(self._constraints) or any(sub._has_constraints() for sub in self._content.values())

    def _set_content_values(self, values: dict[Any, Any]) -> None:
        for key, val in values.items():
            self._content[key].value = val


class Tuple(Container):
    """A tuple of parameters (or constants); the value is a tuple of their values.

    Examples
    --------
    >>> import optimkit as ok
    >>> ok.p.Tuple(ok.p.Scalar(), "const").value
    (0.0, 'const')
    """

    __slots__ = ()

    def __init__(self, *params: Any) -> None:
        super().__init__(dict(enumerate(params)))

    def _get_value(self) -> Any:
        return tuple(p.value for p in self._content.values())

    def _set_value(self, value: Any) -> None:
        vals = tuple(value)
        if len(vals) != len(self._content):
            raise OptimkitValueError(f"Tuple expects {len(self._content)} values, got {len(vals)}")
        self._set_content_values(dict(enumerate(vals)))

    def _default_name(self) -> str:
        return "Tuple(" + ",".join(p.name for p in self._content.values()) + ")"


class Dict(Container):
    """A dict of parameters (or constants); the value is a dict of their values.

    Examples
    --------
    >>> import optimkit as ok
    >>> ok.p.Dict(lr=ok.p.Log(lower=1e-4, upper=1.0), layers=3).dimension
    1
    """

    __slots__ = ()

    def __init__(self, **params: Any) -> None:
        super().__init__(params)

    def _ordered_keys(self) -> list[Any]:
        return sorted(self._content)

    def _get_value(self) -> Any:
        return {k: p.value for k, p in self._content.items()}

    def _set_value(self, value: Any) -> None:
        if not isinstance(value, dict) or set(value) != set(self._content):
            raise OptimkitValueError(f"Dict expects a dict with keys {sorted(self._content)}, got {value!r}")
        self._set_content_values(value)

    def keys(self) -> Any:
        return self._content.keys()

    def _default_name(self) -> str:
        return "Dict(" + ",".join(f"{k}={p.name}" for k, p in self._content.items()) + ")"


class Instrumentation(Container):
    """Positional and keyword arguments of a function: the value is ``(args, kwargs)``.

    Examples
    --------
    >>> import optimkit as ok
    >>> inst = ok.p.Instrumentation(ok.p.Scalar(), "blublu", amount=ok.p.Scalar(init=2.0))
    >>> inst.args, inst.kwargs
    ((0.0, 'blublu'), {'amount': 2.0})
    """

    __slots__ = ("_num_args",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._num_args = len(args)
        content: dict[Any, Any] = dict(enumerate(args))
        content.update(kwargs)
        super().__init__(content)

    def _ordered_keys(self) -> list[Any]:
        return list(range(self._num_args)) + sorted(k for k in self._content if isinstance(k, str))

    def _new_like(self) -> Instrumentation:
        new = super()._new_like()
        assert isinstance(new, Instrumentation)  # internal invariant, not user input
        new._num_args = self._num_args
        return new

    @property
    def args(self) -> tuple[Any, ...]:
        return tuple(self._content[i].value for i in range(self._num_args))

    @property
    def kwargs(self) -> dict[str, Any]:
        return {k: p.value for k, p in self._content.items() if isinstance(k, str)}

    def _get_value(self) -> Any:
        return self.args, self.kwargs

    def _set_value(self, value: Any) -> None:
        try:
            args, kwargs = value
            args = tuple(args)
            kwargs = dict(kwargs)
        except (TypeError, ValueError) as exc:
            raise OptimkitValueError(f"Instrumentation expects a value (args, kwargs), got {value!r}") from exc
        if len(args) != self._num_args or set(kwargs) != {k for k in self._content if isinstance(k, str)}:
            raise OptimkitValueError(
                f"Instrumentation expects {self._num_args} args and kwargs "
                f"{sorted(k for k in self._content if isinstance(k, str))}, got {value!r}"
            )
        values: dict[Any, Any] = dict(enumerate(args))
        values.update(kwargs)
        self._set_content_values(values)

    def _default_name(self) -> str:
        parts = [self._content[i].name for i in range(self._num_args)]
        parts += [f"{k}={p.name}" for k, p in self._content.items() if isinstance(k, str)]
        return "Instrumentation(" + ",".join(parts) + ")"
