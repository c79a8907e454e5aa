"""Continuous parameters: ``Array``, ``Scalar`` and ``Log``.

The value is ``cast(bound_transform(raw))`` (``exp`` in between for ``Log``), where
``raw`` is the internal vector the standardized data is measured on:
``data = (raw - reference_raw) / sigma``. Bound transforms (all vectorized over rows):

- ``clipping``: ``clip(raw, lower, upper)``
- ``bouncing``: ``raw`` reflected back into ``[lower, upper]``
- ``arctan``: ``c + h * (2 / pi) * arctan((raw - c) / h)`` with centre ``c`` and half-width ``h``
- ``tanh``: ``c + h * tanh((raw - c) / h)``

so that near the centre ``raw`` and the value agree and ``sigma`` keeps value units.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import rng as _rng
from ..errors import OptimkitTypeError, OptimkitValueError
from ..validation import check_real
from .core import Parameter

BOUND_METHODS = ("clipping", "bouncing", "arctan", "tanh")
_EDGE = 1.0 - 1e-12

__all__ = ["Array", "Scalar", "Log", "BOUND_METHODS"]


def _as_flat(x: Any, size: int, name: str) -> NDArray[np.float64] | None:
    if x is None:
        return None
    arr = np.asarray(x, dtype=np.float64)
    if arr.size == 1:
        return np.full(size, float(arr.ravel()[0]))
    if arr.size != size:
        raise OptimkitValueError(f"{name} must be a scalar or have {size} elements, got shape {arr.shape}")
    flat: NDArray[np.float64] = arr.ravel().copy()
    return flat


class Array(Parameter):
    """A float array parameter.

    Parameters
    ----------
    shape : tuple of int, optional
        Shape of the array (exactly one of ``shape`` and ``init``).
    init : array-like, optional
        Initial value (its shape is the parameter's shape).
    lower, upper : float or array-like, optional
        Bounds (``clipping`` by default, see ``set_bounds``). With both bounds and no ``init``,
        the initial value is the middle and ``sigma`` is a sixth of the range, as in nevergrad.

    Examples
    --------
    >>> import optimkit as ok
    >>> x = ok.p.Array(shape=(3,), lower=-1, upper=1)
    >>> x.value.tolist()
    [0.0, 0.0, 0.0]
    """

    __slots__ = (
        "_shape",
        "_raw_data",
        "_sigma",
        "_lower",
        "_upper",
        "_method",
        "_int",
        "_log",
        "_vcache",
        "_trivial",
    )

    def __init__(
        self,
        shape: tuple[int, ...] | int | None = None,
        init: Any = None,
        lower: Any = None,
        upper: Any = None,
    ) -> None:
        super().__init__()
        if (shape is None) == (init is None):
            raise OptimkitValueError("Array needs exactly one of 'shape' and 'init'")
        if init is not None:
            init_arr = np.array(init, dtype=np.float64)
            if not np.all(np.isfinite(init_arr)):
                raise OptimkitValueError(f"Array init must be finite, got {init!r}")
            self._shape: tuple[int, ...] = init_arr.shape
        else:
            shp = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)  # type: ignore[arg-type]
            if not all(isinstance(s, (int, np.integer)) and s > 0 for s in shp):
                raise OptimkitValueError(f"Array shape must be a tuple of positive ints, got {shape!r}")
            self._shape = tuple(int(s) for s in shp)
            init_arr = np.zeros(self._shape)
        self._sigma: float | NDArray[np.float64] = 1.0
        self._lower: NDArray[np.float64] | None = None
        self._upper: NDArray[np.float64] | None = None
        self._method = "clipping"
        self._int = False
        self._log = False
        self._vcache: Any = None
        self._raw_data = init_arr.ravel().copy()
        self._trivial = True
        if lower is not None or upper is not None:
            self.set_bounds(lower, upper, _init_given=init is not None)

    # ------------------------------------------------------------ transforms
    def _forward(self, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        """raw (..., d) -> value array (..., d) before reshape/cast."""
        lo, up = self._lower, self._upper
        out = raw
        if lo is not None or up is not None:
            method = self._method
            if method == "clipping" or lo is None or up is None:
                # two ufuncs: several times cheaper than np.clip's Python wrapper on small arrays
                out = np.maximum(raw, lo) if lo is not None else raw.copy()
                if up is not None:
                    np.minimum(out, up, out=out)
            elif method == "bouncing":
                width = up - lo
                t = np.mod(raw - lo, 2 * width)
                out = lo + np.where(t > width, 2 * width - t, t)
            else:
                c, h = (up + lo) / 2, (up - lo) / 2
                if method == "arctan":
                    out = c + h * (2 / np.pi) * np.arctan((raw - c) / h)
                else:
                    out = c + h * np.tanh((raw - c) / h)
        if self._log:
            out = np.exp(out)
        return out

    def _backward(self, value: NDArray[np.float64]) -> NDArray[np.float64]:
        """value (..., d) in value space -> raw (..., d)."""
        out = value
        if self._log:
            out = np.log(out)
        lo, up = self._lower, self._upper
        if lo is not None and up is not None and self._method in ("arctan", "tanh"):
            c, h = (up + lo) / 2, (up - lo) / 2
            z = np.clip((out - c) / h, -_EDGE, _EDGE)
            out = c + h * (np.tan(z * np.pi / 2) if self._method == "arctan" else np.arctanh(z))
        return out

    def _check_value(self, value: Any) -> NDArray[np.float64]:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise OptimkitTypeError(f"{self.name} expects a numeric value, got {value!r}") from exc
        if arr.shape != self._shape:
            if arr.size == 1 and int(np.prod(self._shape)) == 1:
                arr = arr.reshape(self._shape)
            else:
                raise OptimkitValueError(
                    f"{self.name} expects a value of shape {self._shape}, got shape {arr.shape}"
                )
        flat = arr.ravel()
        if self._log and np.any(flat <= 0):
            raise OptimkitValueError(f"{self.name} (Log) expects positive values, got {value!r}")
        if self._lower is not None or self._upper is not None:
            space = np.log(flat) if self._log else flat
            tol = 1e-9 * (1 + np.abs(space))
            if (self._lower is not None and np.any(space < self._lower - tol)) or (
                self._upper is not None and np.any(space > self._upper + tol)
            ):
                raise OptimkitValueError(
                    f"{self.name} value {value!r} is outside its bounds "
                    f"[{self._bound_repr(self._lower)}, {self._bound_repr(self._upper)}]"
                )
        return flat

    def _bound_repr(self, b: NDArray[np.float64] | None) -> str:
        if b is None:
            return "None"
        vals = np.exp(b) if self._log else b
        return f"{vals[0]:g}" if np.all(vals == vals[0]) else np.array2string(vals, precision=4)

    # ------------------------------------------------------------ value
    def _get_value(self) -> Any:
        v = self._vcache
        if v is None:
            if self._trivial:
                v = self._raw_data.reshape(self._shape) if len(self._shape) > 1 else self._raw_data
            else:
                out = self._forward(self._raw_data)
                if self._int:
                    out = np.round(out).astype(np.int64)
                v = out.reshape(self._shape) if len(self._shape) > 1 else out
            self._vcache = v
        return v

    def _set_value(self, value: Any) -> None:
        flat = self._check_value(value)
        raw = self._backward(flat.copy())
        self._raw_data = raw if raw is not flat else raw.copy()
        self._vcache = None

    @property
    def dimension(self) -> int:
        return int(self._raw_data.shape[0])

    def _raw(self) -> NDArray[np.float64]:
        raw: NDArray[np.float64] = self._raw_data
        return raw

    def _sigmas(self) -> NDArray[np.float64]:
        s = self._sigma
        if isinstance(s, np.ndarray):
            return s
        return np.full(self._raw_data.shape[0], s)

    def _set_raw(self, raw: NDArray[np.float64], rng: _rng.RandomLike | None) -> None:
        self._raw_data = raw
        self._vcache = None

    def _new_like(self) -> Array:
        new = super()._new_like()
        new._shape = self._shape
        new._raw_data = self._raw_data
        new._sigma = self._sigma
        new._lower = self._lower
        new._upper = self._upper
        new._method = self._method
        new._int = self._int
        new._log = self._log
        new._vcache = self._vcache
        new._trivial = self._trivial
        return new

    @property
    def _value_is_raw(self) -> bool:
        """Whether a value inside the bounds is its own raw data (no casting, log or squashing)."""
        return not self._int and not self._log and self._method == "clipping"

    def _fast_child(self, data: NDArray[np.float64], value: NDArray[np.float64] | None = None) -> Array:
        """Child with standardized ``data`` (trusted, flat, float64, right length) w.r.t. self.

        ``value``: its value, already computed in bulk by ``_values_from_data`` (only when
        ``_value_is_raw``); the child then does no arithmetic at all.
        """
        new = object.__new__(type(self))
        new._uid = next(_UIDS_REF)
        new._parent_uid = self._uid
        new._parents = None
        new._generation = self._generation + 1
        new._loss = None
        new._losses = None
        new._random_state = self._random_state
        new._constraints = self._constraints
        new._name = self._name
        new._tag = None
        new._std_cache = (self, data)
        new._shape = self._shape
        s = self._sigma
        if value is not None:
            new._raw_data = value if value.ndim == 1 else value.reshape(-1)
        elif s.__class__ is float and s == 1.0:
            new._raw_data = self._raw_data + data
        else:
            new._raw_data = self._raw_data + s * data
        new._sigma = s
        new._lower = self._lower
        new._upper = self._upper
        new._method = self._method
        new._int = self._int
        new._log = self._log
        new._vcache = value
        new._trivial = self._trivial
        return new

    def _own_memory(self) -> NDArray[np.float64] | None:
        if self._raw_data.base is not None:  # a row of the batch's values (see _fast_child)
            self._raw_data = self._raw_data.copy()
            self._vcache = None  # recomputed from the copy when asked
        return super()._own_memory()

    def _values_from_data(self, data: NDArray[np.float64]) -> NDArray[Any]:
        """Vectorized: rows of standardized data (n, d) w.r.t. self -> values (n, *shape)."""
        s = self._sigma
        if s.__class__ is float and s == 1.0:  # the default: one pass over the rows
            raw = np.add(data, self._raw_data)
        else:
            raw = np.multiply(data, s)  # one allocation, then in place: batches can be large
            raw += self._raw_data
        lo, up = self._lower, self._upper
        if not self._log and self._method == "clipping" and (lo is not None or up is not None):
            if lo is not None:
                np.maximum(raw, lo, out=raw)
            if up is not None:
                np.minimum(raw, up, out=raw)
            out = raw
        else:
            out = raw if self._trivial else self._forward(raw)
        if self._int:
            out = np.round(out).astype(np.int64)
        values: NDArray[Any] = out.reshape((data.shape[0],) + self._shape)
        return values

    def _update_trivial(self) -> None:
        self._trivial = self._lower is None and self._upper is None and not self._int and not self._log
        self._vcache = None

    # ------------------------------------------------------------ configuration
    def set_bounds(
        self,
        lower: Any = None,
        upper: Any = None,
        method: str = "clipping",
        full_range_sampling: bool | None = None,
        *,
        _init_given: bool = True,
    ) -> Array:
        """Bound the value to ``[lower, upper]`` with ``method`` in clipping, bouncing, arctan, tanh.

        ``lower`` and ``upper`` are None, a number or one number per element. ``lower=-inf`` and
        ``upper=inf`` mean "no bound on that side" (per element with ``clipping``); ``lower=inf``,
        ``upper=-inf``, NaN and ``lower >= upper`` raise an ``OptimkitValueError``.
        ``full_range_sampling`` is accepted for nevergrad compatibility: ``sample()`` is always
        uniform over the box where both bounds are finite.
        """
        del full_range_sampling
        if method not in BOUND_METHODS:
            raise OptimkitValueError(f"set_bounds: method must be one of {BOUND_METHODS}, got {method!r}")
        size = self.dimension
        try:
            lo = _as_flat(lower, size, "lower")
            up = _as_flat(upper, size, "upper")
        except (TypeError, ValueError) as exc:
            if isinstance(exc, OptimkitValueError):
                raise
            raise OptimkitValueError(
                f"set_bounds: lower and upper must be None, numbers or arrays of numbers, got lower={lower!r}, "
                f"upper={upper!r}"
            ) from exc
        for name, b, wrong in (("lower", lo, np.inf), ("upper", up, -np.inf)):
            if b is not None and (np.any(np.isnan(b)) or np.any(b == wrong)):
                side = "no lower bound: -inf" if name == "lower" else "no upper bound: inf"
                raise OptimkitValueError(
                    f"set_bounds: {name} must be a finite number (or None, or {side}), got {name}={b.tolist()!r}"
                )
        if lo is not None and up is not None and np.any(lo >= up):
            raise OptimkitValueError(
                f"set_bounds: lower must be < upper everywhere, got lower={lower!r}, upper={upper!r}"
            )
        if method != "clipping" and (
            lo is None or up is None or not np.all(np.isfinite(lo)) or not np.all(np.isfinite(up))
        ):
            raise OptimkitValueError(
                f"set_bounds: method {method!r} needs finite lower and upper bounds on every element "
                "(use method='clipping' for bounds on one side)"
            )
        current = self._forward(self._raw_data) if not self._trivial else self._raw_data.copy()
        if self._log:
            if (lo is not None and np.any(lo <= 0)) or (up is not None and np.any(up <= 0)):
                raise OptimkitValueError("set_bounds: Log bounds must be positive")
            lo = None if lo is None else np.log(lo)
            up = None if up is None else np.log(up)
        if lo is not None and np.all(np.isinf(lo)):
            lo = None
        if up is not None and np.all(np.isinf(up)):
            up = None
        old = (self._lower, self._upper, self._method)
        self._lower, self._upper, self._method = lo, up, method
        self._update_trivial()
        if not _init_given:
            if lo is not None and up is not None and np.all(np.isfinite(lo)) and np.all(np.isfinite(up)):
                mid = (lo + up) / 2
                self._raw_data = self._backward(np.exp(mid) if self._log else mid)
                self._sigma = (up - lo) / 6 if not np.allclose(up - lo, (up - lo)[0]) else float((up - lo)[0] / 6)
            else:
                base = np.zeros(size)
                if lo is not None:
                    base = np.maximum(base, lo + 1.0)
                if up is not None:
                    base = np.minimum(base, up - 1.0)
                self._raw_data = self._backward(np.exp(base) if self._log else base)
            self._vcache = None
            return self
        try:
            self._raw_data = self._backward(self._check_value(current.reshape(self._shape)).copy())
        except OptimkitValueError:
            self._lower, self._upper, self._method = old
            self._update_trivial()
            raise
        self._vcache = None
        return self

    def set_mutation(self, sigma: Any = None, exponent: float | None = None) -> Array:
        """Set the scale of the standardized space, and optionally switch to logarithmic mode.

        Parameters
        ----------
        sigma : float or array-like, optional
            Scale of the standardized space (``> 0``, scalar or one per element): a step of one
            unit of standardized data moves the value by ``sigma``.
        exponent : float, optional
            As in nevergrad: the value becomes ``exponent ** raw``, so that a step of one unit of
            standardized data multiplies the value by ``exponent ** sigma`` (by ``exponent`` with
            the default ``sigma=1``). Must be ``> 1``; the value (and the bounds, which stay in
            value space) must be positive. Applied after ``sigma``; a ``Log`` parameter, or one
            already switched, raises (set its step with ``sigma``).

        Returns
        -------
        Array
            ``self``.

        Examples
        --------
        >>> import optimkit as ok
        >>> x = ok.p.Array(init=[1.0, 4.0]).set_mutation(exponent=2.0)
        >>> x.spawn_child().set_standardized_data([1.0, -1.0]).value.round(6).tolist()
        [2.0, 2.0]
        """
        if sigma is not None:
            try:
                arr = np.asarray(sigma, dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise OptimkitValueError(f"set_mutation: sigma must be a number > 0, got {sigma!r}") from exc
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise OptimkitValueError(f"set_mutation: sigma must be finite and > 0, got {sigma!r}")
            if arr.size == 1:
                new_sigma: float | NDArray[np.float64] = float(arr.ravel()[0])
            elif arr.size == self.dimension:
                new_sigma = arr.ravel().copy()
            else:
                raise OptimkitValueError(f"set_mutation: sigma must be a scalar or have {self.dimension} elements")
            if exponent is not None:
                self._check_exponent(exponent)
            self._sigma = new_sigma
        if exponent is not None:
            self._to_log(self._check_exponent(exponent))
        return self

    def _check_exponent(self, exponent: Any) -> float:
        """``exponent`` if this parameter can switch to logarithmic mode with it, else raise."""
        e = check_real(
            "set_mutation: exponent (value = exponent ** data; below 1 use 1 / exponent)", exponent, 1.0,
            low_open=True,
        )
        if self._log:
            raise OptimkitValueError(
                f"set_mutation: {self.name} is already logarithmic (a Log, or exponent was set before): "
                "set its step with set_mutation(sigma=...)"
            )
        value = self._forward(self._raw_data)
        if np.any(value <= 0):
            raise OptimkitValueError(
                f"set_mutation: exponent needs a positive value (value = exponent ** data), got "
                f"{value.tolist()!r}: set a positive value first"
            )
        for name, b in (("lower", self._lower), ("upper", self._upper)):
            if b is not None and np.any(b <= 0):
                raise OptimkitValueError(
                    f"set_mutation: exponent needs positive bounds (value = exponent ** data), got {name}="
                    f"{b.tolist()!r}"
                )
        return e

    def _to_log(self, exponent: float) -> None:
        """Switch to logarithmic mode: same value and bounds, steps multiply by ``exponent ** sigma``."""
        value = self._forward(self._raw_data)
        self._log = True
        if self._lower is not None:
            self._lower = np.log(self._lower)
        if self._upper is not None:
            self._upper = np.log(self._upper)
        self._raw_data = self._backward(value)
        self._sigma = self._sigma * math.log(exponent)
        self._update_trivial()
        self._std_cache = None

    @property
    def sigma(self) -> float | NDArray[np.float64]:
        """Scale of the standardized space."""
        return self._sigma

    def set_integer_casting(self) -> Array:
        """Round the value to integers (the standardized space stays continuous)."""
        self._int = True
        self._update_trivial()
        return self

    @property
    def bounds(self) -> tuple[NDArray[np.float64] | None, NDArray[np.float64] | None]:
        """(lower, upper) in value space, flat, or None where unbounded."""
        conv = np.exp if self._log else (lambda b: b)
        return (
            None if self._lower is None else conv(self._lower),
            None if self._upper is None else conv(self._upper),
        )

    # ------------------------------------------------------------ sampling
    def _sample_into(self, rng: _rng.RandomLike, ref: Parameter) -> None:
        assert isinstance(ref, Array)
        d = self.dimension
        lo, up = self._lower, self._upper
        if lo is not None and up is not None and np.all(np.isfinite(lo)) and np.all(np.isfinite(up)):
            v = lo + _rng.uniform(rng, d) * (up - lo)
            self._raw_data = self._backward(np.exp(v) if self._log else v)
        elif lo is not None and up is not None:  # clipping, some elements bounded on one side only
            both = np.isfinite(lo) & np.isfinite(up)
            uniform = _rng.uniform(rng, d)
            gauss = ref._raw_data + ref._sigma * _rng.normal(rng, d)
            with np.errstate(invalid="ignore"):
                self._raw_data = np.where(both, lo + uniform * (up - lo), gauss)
        else:
            self._raw_data = ref._raw_data + ref._sigma * _rng.normal(rng, d)
        self._vcache = None
        self._std_cache = None

    def _default_name(self) -> str:
        return f"Array{{{self._shape}}}"


from .core import _UIDS as _UIDS_REF  # noqa: E402 - shared id counter


class Scalar(Array):
    """A float (or int, with ``set_integer_casting``) parameter.

    With both bounds and no ``init``, starts at the middle with ``sigma`` a sixth of the range.

    Examples
    --------
    >>> import optimkit as ok
    >>> ok.p.Scalar(lower=0, upper=10).value
    5.0
    """

    __slots__ = ()

    def __init__(self, init: float | None = None, lower: float | None = None, upper: float | None = None) -> None:
        if init is not None and not isinstance(init, (int, float, np.integer, np.floating)):
            raise OptimkitTypeError(f"Scalar init must be a number, got {init!r}")
        super().__init__(init=np.array([0.0 if init is None else float(init)]))
        self._shape = (1,)
        if lower is not None or upper is not None:
            self.set_bounds(lower, upper, _init_given=init is not None)

    def _get_value(self) -> Any:
        v = self._vcache
        if v is None:
            out = self._forward(self._raw_data) if not self._trivial else self._raw_data
            v = int(round(float(out[0]))) if self._int else float(out[0])
            self._vcache = v
        return v

    def _default_name(self) -> str:
        return "Scalar"


class Log(Scalar):
    """A positive float whose standardized space is logarithmic (multiplicative steps).

    Parameters
    ----------
    init : float, optional
        Initial value (> 0). Defaults to the geometric middle of the bounds.
    lower, upper : float, optional
        Positive bounds.
    exponent : float, optional
        Multiplicative factor of one unit of standardized data (default 2, or chosen so that the
        range spans 6 units when both bounds are given).
    """

    __slots__ = ()

    def __init__(
        self,
        init: float | None = None,
        lower: float | None = None,
        upper: float | None = None,
        exponent: float | None = None,
    ) -> None:
        if init is None and (lower is None or upper is None):
            raise OptimkitValueError("Log needs an init or both lower and upper bounds")
        if init is not None and init <= 0:
            raise OptimkitValueError(f"Log init must be > 0, got {init!r}")
        if exponent is not None and (not math.isfinite(exponent) or exponent <= 1):
            raise OptimkitValueError(f"Log exponent must be > 1, got {exponent!r}")
        Array.__init__(self, init=np.array([0.0]))
        self._shape = (1,)
        self._log = True
        self._raw_data = np.array([0.0 if init is None else math.log(init)])
        self._sigma = math.log(2.0 if exponent is None else exponent)
        self._update_trivial()
        if lower is not None or upper is not None:
            self.set_bounds(lower, upper, _init_given=init is not None)
            if exponent is not None:
                self._sigma = math.log(exponent)

    def _default_name(self) -> str:
        return "Log"
