"""Discrete parameters: ``Choice`` (unordered) and ``TransitionChoice`` (ordered).

``Choice`` keeps one logit per option (per repetition): the index is drawn by softmax
sampling (the Gumbel-max trick) from the parameter's generator when standardized data is set.
Setting a value puts a logit gap on the chosen option large enough that the same value comes
back with probability ``1 - 1e-12``.

``TransitionChoice`` keeps one position per repetition: the index is
``floor(n * (1/2 + arctan(position) / pi))``, so a small step in the standardized space
moves to a neighbouring option and position 0 is the middle option.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import rng as _rng
from ..errors import OptimkitValueError
from .core import Parameter, _equal

__all__ = ["Choice", "TransitionChoice"]


class _BaseChoice(Parameter):
    __slots__ = ("_choices", "_reps", "_raw_data", "_indices")

    def __init__(self, choices: Iterable[Any] | int, repetitions: int | None = None) -> None:
        super().__init__()
        if isinstance(choices, (int, np.integer)) and not isinstance(choices, bool):
            options: list[Any] = list(range(int(choices)))
        else:
            options = list(choices)  # type: ignore[arg-type]
        if len(options) < 1:
            raise OptimkitValueError("choices must contain at least one option")
        if repetitions is not None and (not isinstance(repetitions, (int, np.integer)) or repetitions < 1):
            raise OptimkitValueError(f"repetitions must be None or an int >= 1, got {repetitions!r}")
        self._choices = tuple(p.value if isinstance(p, Parameter) else p for p in options)
        self._reps = repetitions

    @property
    def choices(self) -> tuple[Any, ...]:
        """The options."""
        return self._choices

    @property
    def _num(self) -> int:
        return 1 if self._reps is None else self._reps

    @property
    def indices(self) -> NDArray[np.int64]:
        """Chosen index (one per repetition)."""
        indices: NDArray[np.int64] = self._indices.copy()
        return indices

    def _get_value(self) -> Any:
        if self._reps is None:
            return self._choices[int(self._indices[0])]
        return tuple(self._choices[int(i)] for i in self._indices)

    def _index_of(self, value: Any) -> int:
        for i, c in enumerate(self._choices):
            if c is value:
                return i
        for i, c in enumerate(self._choices):
            if _equal(c, value):
                return i
        raise OptimkitValueError(f"{value!r} is not one of the choices {self._choices!r}")

    def _set_value(self, value: Any) -> None:
        if self._reps is None:
            idx = np.array([self._index_of(value)])
        else:
            vals = tuple(value)
            if len(vals) != self._reps:
                raise OptimkitValueError(f"expected {self._reps} values (repetitions), got {len(vals)}")
            idx = np.array([self._index_of(v) for v in vals])
        self._indices = idx.astype(np.int64)
        self._raw_data = self._raw_for_indices(self._indices)

    def _raw_for_indices(self, idx: NDArray[np.int64]) -> NDArray[np.float64]:
        raise NotImplementedError  # pragma: no cover

    def _raw(self) -> NDArray[np.float64]:
        return self._raw_data

    def _sigmas(self) -> NDArray[np.float64]:
        return np.ones(self._raw_data.shape[0])

    @property
    def dimension(self) -> int:
        return int(self._raw_data.shape[0])

    def _new_like(self) -> _BaseChoice:
        new = super()._new_like()
        new._choices = self._choices
        new._reps = self._reps
        new._raw_data = self._raw_data
        new._indices = self._indices
        return new


class Choice(_BaseChoice):
    """Unordered choice among ``choices`` (softmax sampling over one logit per option).

    Parameters
    ----------
    choices : iterable or int
        The options (an int ``n`` means ``range(n)``).
    repetitions : int, optional
        Draw this many independent choices; the value is then a tuple.

    Examples
    --------
    >>> import optimkit as ok
    >>> c = ok.p.Choice(["a", "b", "c"])
    >>> c.dimension
    3
    """

    __slots__ = ()

    def __init__(self, choices: Iterable[Any] | int, repetitions: int | None = None) -> None:
        super().__init__(choices, repetitions)
        n = len(self._choices)
        self._raw_data = np.zeros(n * self._num)
        self._indices = np.zeros(self._num, dtype=np.int64)

    def _raw_for_indices(self, idx: NDArray[np.int64]) -> NDArray[np.float64]:
        n = len(self._choices)
        gap = math.log(1e12 * max(n - 1, 1))
        raw = np.zeros((self._num, n))
        raw[np.arange(self._num), idx] = gap
        return raw.ravel()

    def _set_raw(self, raw: NDArray[np.float64], rng: _rng.RandomLike | None) -> None:
        self._raw_data = raw
        n = len(self._choices)
        logits = raw.reshape(self._num, n)
        if rng is None:
            rng = self.random_state
        gumbel = -np.log(-np.log(np.clip(_rng.uniform(rng, logits.shape), 1e-300, 1.0 - 1e-16)))
        self._indices = np.argmax(logits + gumbel, axis=1).astype(np.int64)

    @property
    def probabilities(self) -> NDArray[np.float64]:
        """Softmax probabilities of each option (per repetition)."""
        logits = self._raw_data.reshape(self._num, len(self._choices))
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        probs: NDArray[np.float64] = p[0] if self._reps is None else p
        return probs

    def _sample_into(self, rng: _rng.RandomLike, ref: Parameter) -> None:
        self._indices = _rng.integers(rng, 0, len(self._choices), self._num).astype(np.int64)
        self._raw_data = self._raw_for_indices(self._indices)
        self._std_cache = None

    def _default_name(self) -> str:
        return f"Choice({len(self._choices)})"


class TransitionChoice(_BaseChoice):
    """Ordered choice: neighbouring options are one small step apart.

    Parameters
    ----------
    choices : iterable or int
        The ordered options.
    repetitions : int, optional
        Number of independent choices (the value is then a tuple).

    Examples
    --------
    >>> import optimkit as ok
    >>> ok.p.TransitionChoice(["Solid", "Liquid", "Gas"]).value
    'Liquid'
    """

    __slots__ = ()

    def __init__(self, choices: Iterable[Any] | int, repetitions: int | None = None) -> None:
        super().__init__(choices, repetitions)
        self._indices = np.full(self._num, len(self._choices) // 2, dtype=np.int64)
        self._raw_data = self._raw_for_indices(self._indices)

    def _raw_for_indices(self, idx: NDArray[np.int64]) -> NDArray[np.float64]:
        n = len(self._choices)
        return np.tan(np.pi * ((idx + 0.5) / n - 0.5))

    def _set_raw(self, raw: NDArray[np.float64], rng: _rng.RandomLike | None) -> None:
        self._raw_data = raw
        n = len(self._choices)
        pos = n * (0.5 + np.arctan(raw) / np.pi)
        self._indices = np.clip(np.floor(pos), 0, n - 1).astype(np.int64)

    def _sample_into(self, rng: _rng.RandomLike, ref: Parameter) -> None:
        self._indices = _rng.integers(rng, 0, len(self._choices), self._num).astype(np.int64)
        self._raw_data = self._raw_for_indices(self._indices)
        self._std_cache = None

    def _default_name(self) -> str:
        return f"TransitionChoice({len(self._choices)})"
