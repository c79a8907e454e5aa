"""``Auto``: choose an optimizer from the parametrization, dimension, budget and num_workers.

The rules, in order (measured with ``benchmarks/auto_rules.py``; the figures are in
``docs/optimizers/auto.md``):

1. **discrete or mixed** parametrization (any ``Choice``/``TransitionChoice``): ``SNES`` — it
   solved the 16-choice problem (ANSR and random search stayed at 9-10 mismatches) and was best
   on the mixed one;
2. **massively parallel** (``num_workers >= 16``): ``ANSRUnimodal`` — 64 particles per epoch keep
   the workers busy, and it was best on Shubert 8-D with 32 workers;
3. **low budget from a known start** (an ``Array`` value set away from its default and
   ``budget <= 30 x dimension``): ``EANOMADHybrid``, NOMAD's mesh search around the start;
4. **high dimension** (``dimension > 100``): ``ANSRUnimodal`` — best on sphere 500-D, ellipsoid and
   Rastrigin 200-D (SNES won only Rosenbrock 200-D);
5. **small continuous problem with a large budget** (``dimension <= 100`` and
   ``budget >= 500 x dimension``, or no budget): ``XNES`` — its full covariance solves
   non-separable valleys (Rosenbrock 10-D: 2e-8 against SNES's 5);
6. otherwise: ``SNES`` — fastest progress at moderate budgets (ellipsoid and Rosenbrock 10-D at
   200 x dimension).
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import Optimizer, registry
from ..parametrization import Array, Choice, Container, Parameter, TransitionChoice

__all__ = ["Auto", "choose"]


def _leaves(param: Parameter) -> list[Parameter]:
    if isinstance(param, Container):
        return [leaf for sub in param._content.values() for leaf in _leaves(sub)]
    return [param]


def _has_known_start(param: Parameter) -> bool:
    """True when an Array's value differs from the default start (zeros, or the middle of the bounds)."""
    for leaf in _leaves(param):
        if not isinstance(leaf, Array):
            continue
        raw = leaf._raw_data
        lo, up = leaf._lower, leaf._upper
        default = (lo + up) / 2 if lo is not None and up is not None else np.zeros_like(raw)
        if leaf._log:
            continue
        if not np.allclose(leaf._backward(leaf._forward(default)), raw):
            return True
    return False


def _available(name: str) -> bool:
    """``name`` is registered and the optional modules it needs are installed."""
    if name not in registry:
        return False
    return all(importlib.util.find_spec(module) is not None for module in registry[name].requires)


def choose(parametrization: Parameter, budget: int | None, num_workers: int) -> tuple[str, str]:
    """The registry name ``Auto`` picks, and the rule that fired."""
    dim = parametrization.dimension
    if any(isinstance(leaf, (Choice, TransitionChoice)) for leaf in _leaves(parametrization)):
        return "SNES", "discrete or mixed parametrization"
    if num_workers >= 16:
        return "ANSRUnimodal", f"massively parallel (num_workers={num_workers} >= 16)"
    if (
        budget is not None
        and budget <= 30 * dim
        and _available("EANOMADHybrid")
        and _has_known_start(parametrization)
    ):
        return "EANOMADHybrid", f"low budget ({budget} <= 30 x {dim}) from a known start"
    if dim > 100:
        return "ANSRUnimodal", f"high dimension ({dim} > 100)"
    if budget is None or budget >= 500 * dim:
        return "XNES", f"small continuous problem (dimension {dim} <= 100) with budget >= 500 x dimension"
    return "SNES", f"continuous problem with a moderate budget ({budget} < 500 x {dim})"


@registry.register
class Auto(Optimizer):
    """Automatic choice of optimizer from dimension, budget, num_workers and parametrization. Minimizes.

    ``Auto(...).choice`` is the chosen registry name and ``.reason`` the rule that fired; every
    ask and tell is delegated to that optimizer.

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.Auto(parametrization=ok.p.Choice(["a", "b"]), budget=100)
    >>> opt.choice
    'SNES'
    """

    def __init__(
        self,
        parametrization: int | Parameter,
        budget: int | None = None,
        num_workers: int = 1,
        *,
        seed: Any = None,
    ) -> None:
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        self.choice, self.reason = choose(self.parametrization, self.budget, self.num_workers)
        self._inner: Optimizer = registry[self.choice](self.parametrization, self.budget, self.num_workers)
        self.name = f"Auto({self.choice})"

    @property
    def optimizer(self) -> Optimizer:
        """The optimizer doing the work."""
        return self._inner

    def _internal_ask_candidate(self) -> Parameter:
        return self._inner.ask()

    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        self._inner.tell(candidate, loss)

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        self._inner.tell(candidate, loss)

    def _internal_abandon(self, candidate: Parameter) -> None:
        self._inner.abandon(candidate)

    def _internal_provide_recommendation(self) -> NDArray[np.float64] | None:
        return None

    @property
    def _batch_size(self) -> int:
        return self._inner.preferred_batch_size

    def _internal_ask_batch(self, n: int) -> NDArray[np.float64]:
        return self._inner.ask_data(n)

    def _internal_tell_batch(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        self._inner.tell_data(data, losses)

    def _internal_abandon_batch(self, data: NDArray[np.float64]) -> None:
        self._inner.abandon_data(data)

    def _internal_detach_batch(self, data: NDArray[np.float64]) -> list[Parameter]:
        return self._inner.detach_data(data)
