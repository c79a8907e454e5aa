"""The array operations ANSR's core needs, for numpy arrays and torch tensors alike.

:func:`namespace` returns the operations for an array's library: :data:`NUMPY`, or a
:class:`TorchNamespace` (made on first use, so torch is imported only when a tensor comes
along). Each operation computes the same IEEE values in both libraries, so the core
(:mod:`optimkit.algorithms.ansr.core`) gives bit-identical results on numpy and on float64
torch tensors for the same draws. The numpy versions work in place where they can: the ask/tell
optimizer runs them tens of thousands of times per second.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

__all__ = ["Array", "namespace", "NumpyNamespace", "TorchNamespace", "NUMPY"]

Array = Any  # a numpy ndarray or a torch Tensor


class _Shared:
    """The operations spelled the same in numpy and torch."""

    @staticmethod
    def argmin(x: Array) -> int:
        return int(x.argmin())

    @staticmethod
    def argmax(x: Array) -> int:
        return int(x.argmax())


class NumpyNamespace(_Shared):
    """ANSR's array operations on numpy arrays (indices are ``np.intp``)."""

    name = "numpy"

    @staticmethod
    def asarray(values: Any, like: Array) -> Array:
        """``values`` as a float array of ``like``'s dtype (no copy when it is one already)."""
        return np.asarray(values, dtype=like.dtype)

    @staticmethod
    def copy(x: Array) -> Array:
        return x.copy()

    @staticmethod
    def float_copy(x: Any) -> Array:
        """A float64 copy of ``x`` (an array or nested sequence)."""
        return np.array(x, dtype=np.float64)

    @staticmethod
    def zeros_like(x: Array) -> Array:
        return np.zeros_like(x)

    @staticmethod
    def full(n: int, value: float, like: Array) -> Array:
        return np.full(n, value, dtype=like.dtype)

    @staticmethod
    def arange(n: int, like: Array) -> Array:
        return np.arange(n)

    @staticmethod
    def flip(x: Array) -> Array:
        """A reversed copy of a 1-D array."""
        return x[::-1].copy()

    @staticmethod
    def argsort_stable(x: Array) -> Array:
        return x.argsort(kind="stable")

    @staticmethod
    def sort(x: Array) -> Array:
        x.sort()
        return x

    @staticmethod
    def flatnonzero(mask: Array) -> Array:
        """Indices of the true entries of a 1-D boolean array."""
        return mask.nonzero()[0]

    @staticmethod
    def where(cond: Array, a: Array, b: Array) -> Array:
        return np.where(cond, a, b)

    @staticmethod
    def where_rows(mask: Array, *pairs: tuple[Array, Array]) -> list[Array]:
        """For each ``(new, old)``: a copy of ``old`` whose rows (or entries) where ``mask`` holds
        come from ``new`` (the rows found once for all pairs)."""
        rows = mask.nonzero()[0]
        out = []
        for new, old in pairs:
            merged = old.copy()
            merged[rows] = new[rows]
            out.append(merged)
        return out

    @staticmethod
    def abs_(x: Array) -> Array:
        return np.abs(x, out=x)

    @staticmethod
    def clip01_(x: Array) -> Array:
        """Clip to [0, 1] in place (two ufuncs cost less than ``np.clip``)."""
        np.maximum(x, 0.0, out=x)
        return np.minimum(x, 1.0, out=x)

    @staticmethod
    def clip_(x: Array, low: float, high: float) -> Array:
        """Clip in place (two ufuncs cost less than ``np.clip``)."""
        np.maximum(x, low, out=x)
        return np.minimum(x, high, out=x)

    @staticmethod
    def to_index(x: Array) -> Array:
        """Truncate toward zero into an index array."""
        return x.astype(np.intp)

    @staticmethod
    def take_rows(best: Array, guide: Array) -> Array:
        """``out[i, j] = best[guide[i, j], j]``."""
        d = best.shape[1]
        return np.take(best, guide * d + np.arange(d))

    @staticmethod
    def may_overflow(ranked: Array, tol: float) -> bool:
        """Whether the convergence test on ``ranked`` losses can overflow or meet ``inf - inf``."""
        # ranked[1:] ascends: these three bound every |loss|
        return not (abs(float(ranked[0])) + abs(float(ranked[1])) + abs(float(ranked[-1]))) * (2.0 + tol) < math.inf

    @staticmethod
    def quiet_overflow() -> Any:
        """A context that silences numpy's overflow and ``inf - inf`` warnings."""
        return np.errstate(invalid="ignore", over="ignore")


class TorchNamespace(_Shared):
    """ANSR's array operations on torch tensors (indices are ``torch.int64``, on the tensor's device)."""

    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch

    def asarray(self, values: Any, like: Array) -> Array:
        return self.torch.as_tensor(values, dtype=like.dtype, device=like.device)

    @staticmethod
    def copy(x: Array) -> Array:
        return x.clone()

    @staticmethod
    def float_copy(x: Array) -> Array:
        """A copy of a floating point tensor (its dtype kept)."""
        return x.clone()

    def zeros_like(self, x: Array) -> Array:
        return self.torch.zeros_like(x)

    def full(self, n: int, value: float, like: Array) -> Array:
        return self.torch.full((n,), value, dtype=like.dtype, device=like.device)

    def arange(self, n: int, like: Array) -> Array:
        return self.torch.arange(n, device=like.device)

    def flip(self, x: Array) -> Array:
        return self.torch.flip(x, (0,))

    def argsort_stable(self, x: Array) -> Array:
        return self.torch.sort(x, stable=True).indices

    def sort(self, x: Array) -> Array:
        return self.torch.sort(x).values

    @staticmethod
    def flatnonzero(mask: Array) -> Array:
        return mask.nonzero().reshape(-1)

    def where(self, cond: Array, a: Array, b: Array) -> Array:
        return self.torch.where(cond, a, b)

    def where_rows(self, mask: Array, *pairs: tuple[Array, Array]) -> list[Array]:
        return [self.torch.where(mask if old.dim() == 1 else mask[:, None], new, old) for new, old in pairs]

    @staticmethod
    def abs_(x: Array) -> Array:
        return x.abs_()

    @staticmethod
    def clip01_(x: Array) -> Array:
        return x.clamp_(0.0, 1.0)

    @staticmethod
    def clip_(x: Array, low: float, high: float) -> Array:
        return x.clamp_(low, high)

    def to_index(self, x: Array) -> Array:
        return x.to(self.torch.int64)

    def take_rows(self, best: Array, guide: Array) -> Array:
        return self.torch.gather(best, 0, guide)

    @staticmethod
    def may_overflow(ranked: Array, tol: float) -> bool:
        return False  # torch never warns on overflow or inf - inf

    @staticmethod
    def quiet_overflow() -> Any:
        return contextlib.nullcontext()


NUMPY = NumpyNamespace()
_TORCH: list[TorchNamespace] = []


def namespace(x: Array) -> Any:
    """The operations for ``x``'s library: a :class:`TorchNamespace` for torch tensors,
    :data:`NUMPY` for anything else (numpy arrays, sequences)."""
    if isinstance(x, np.ndarray) or not type(x).__module__.startswith("torch"):
        return NUMPY
    if not _TORCH:
        _TORCH.append(TorchNamespace())
    return _TORCH[0]
