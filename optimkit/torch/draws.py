"""ANSR's random draws of one epoch on torch, from the optimizer's own ``torch.Generator``.

The torch counterpart of :mod:`optimkit.algorithms.ansr.draws`: the same three draws, in the
layout :func:`optimkit.algorithms.ansr.core.evolve` consumes, made on the population's device
and dtype so that a step never leaves the device.
"""

from __future__ import annotations

from typing import Any

import torch

from optimkit.algorithms.ansr.core import Params, guides_from_uniform

__all__ = ["draw_torch"]


def draw_torch(gen: torch.Generator, params: Params, like: torch.Tensor, k: int, d: int, *, as_numpy: bool = False
               ) -> tuple[Any, Any, Any]:
    """``(fresh, noise, guide)`` for ``k`` restarts: ``fresh`` (2k, d) uniforms, ``noise`` (popsize, d)
    N(0, sigma), and ``guide`` from one uniform per coordinate (None when ``p_self == 1``).

    ``as_numpy``: the same draws as numpy views (CPU tensors only), the guides computed by the core
    on numpy, for a step that runs the core on numpy views of its CPU tensors.

    Examples
    --------
    >>> import torch
    >>> from optimkit.algorithms.ansr import Params
    >>> gen = torch.Generator().manual_seed(0)
    >>> fresh, noise, guide = draw_torch(gen, Params(popsize=4, p_self=0.5), torch.empty(0), 1, 3)
    >>> tuple(fresh.shape), tuple(noise.shape), tuple(guide.shape)
    ((2, 3), (4, 3), (4, 3))
    """
    p = params.popsize
    fresh = torch.rand(2 * k, d, generator=gen, device=like.device, dtype=like.dtype) if k else like.new_empty((0, d))
    noise = torch.randn(p, d, generator=gen, device=like.device, dtype=like.dtype).mul_(params.sigma)
    if params.p_self >= 1.0:
        return (fresh.numpy(), noise.numpy(), None) if as_numpy else (fresh, noise, None)
    choice = torch.rand(p, d, generator=gen, device=like.device, dtype=like.dtype)
    if as_numpy:
        return fresh.numpy(), noise.numpy(), guides_from_uniform(choice.numpy(), params.p_self)
    return fresh, noise, guides_from_uniform(choice, params.p_self)
