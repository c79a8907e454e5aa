"""Torch front end of optimkit: ``from optimkit.torch import ANSR`` (a ``torch.optim.Optimizer``)."""

from __future__ import annotations

from optimkit.torch.ansr import ANSR

__all__ = ["ANSR"]
