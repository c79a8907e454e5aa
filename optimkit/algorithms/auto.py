"""``Auto``: choose an optimizer from the parametrization, dimension, budget and num_workers.

The rules, in order (the continuous ones from COCO's ``bbob`` suite, ``benchmarks/bbob.py``, 24
functions, dimensions 2, 5, 10 and 20, instances 1-5, budget 1000 x d read at 10, 100 and
1000 x d; the figures are in ``docs/optimizers/auto.md``):

1. **discrete or mixed** parametrization (any ``Choice``/``TransitionChoice``): ``SNES`` — it
   solved the 16-choice problem of ``benchmarks/auto_rules.py`` (ANSR and random search stayed at
   9-10 mismatches) and was best on the mixed one;
2. **massively parallel** (``num_workers >= 16``): ``ANSRUnimodal`` — 64 particles per epoch keep
   the workers busy, and it was best on Shubert 8-D with 32 workers;
3. **low budget from a known start** (an ``Array`` value set away from its default and
   ``budget <= 30 x dimension``): ``EANOMADHybrid``, NOMAD's mesh search around the start;
4. **high dimension** (``dimension > 100``): ``ANSRUnimodal`` — best on sphere 500-D, ellipsoid and
   Rastrigin 200-D at 10-200 x d, where a full covariance costs ``O(d^2)`` per point;
5. **continuous problem, one worker** (``dimension <= 20``, ``num_workers == 1``, no integer-cast
   ``Array``: rounding makes plateaus on which quadratic models stall; on bbob-mixint, whose
   integer coordinates the suite rounds, ``CMA`` alone led the chain at 100 x d): a chain,
   ``BOBYQA`` (Powell's trust region with quadratic models, NLopt, restarted) for the first
   ``100 x dimension`` evaluations, then ``CMA`` from BOBYQA's best point with the rest of the
   budget (``choice == "BOBYQA>CMA"``). On bbob d = 2, 5, 10 and 20 the model search reached far
   more (problem, target) pairs than CMA-ES at 10 and 100 x d and CMA-ES with restarts more at
   1000 x d; the chain keeps both, at 2.5-95 µs of NLopt's time per evaluation (d = 2-20) and
   about 50 µs of thread hand-overs. With several workers BOBYQA's extra asks are random
   points, so the rule wants one. Without NLopt (the ``nlopt`` extra): ``NOMAD`` for the first
   ``100 x dimension`` evaluations, then ``CMA`` (``"NOMAD>CMA"``, as sample-efficient but 2-5 ms
   per evaluation of NOMAD's own time) up to dimension 5, rule 6 below; without cmaes: ``NOMAD``
   alone up to dimension 5, rule 6 below;
6. **other continuous problems** (``dimension <= 100`` and above 20, or several workers; any budget,
   or none): ``CMA`` (at d = 40 a prototype of the chain reached fewer pairs at 1000 x d, 0.391
   against 0.419, so the chain stops at d = 20) — CMA-ES with
   IPOP restarts had the largest ECDF area of the other optimkit optimizers at d = 5, 10 and 20
   (with BIPOP, the same algorithm up to its first restart, within 0.0002) and reached the most
   pairs at 100 x d (at 10 x d it was within 0.01 of SNES, at 1000 x d within 0.014 of BIPOP);
   BIPOP did not differ measurably. Without ``cmaes`` (the ``cma`` extra):
   ``XNES``, the next best at 1000 x d.

A chain hands over after a tell (never inside a batch); candidates the first optimizer asked and
that are told after the hand-over reach the second as tell-not-asked. Dumps keep the phase.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..core import Optimizer, registry
from ..errors import OptimkitValueError
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


#: ``Auto`` chains a model search (``BOBYQA``) and ``CMA`` up to this dimension, with one worker ...
CHAIN_MAX_DIMENSION = 20
#: ... handing over after ``FIRST_PHASE x dimension`` evaluations.
FIRST_PHASE = 100
#: Without NLopt, ``NOMAD`` takes the first phase up to this dimension (its models cost ms per point).
NOMAD_MAX_DIMENSION = 5


def _available(name: str) -> bool:
    """``name`` is registered and the optional modules it needs are installed."""
    if name not in registry:
        return False
    return all(importlib.util.find_spec(module) is not None for module in registry[name].requires)


def choose(parametrization: Parameter, budget: int | None, num_workers: int) -> tuple[str, str]:
    """The registry name ``Auto`` picks (``"A>B"``: a chain, ``A`` first), and the rule that fired."""
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
    one = num_workers == 1
    rounded = any(isinstance(leaf, Array) and leaf._int for leaf in _leaves(parametrization))
    if one and dim <= CHAIN_MAX_DIMENSION and not rounded and _available("CMA") and _available("BOBYQA"):
        return "BOBYQA>CMA", (f"continuous problem (dimension {dim} <= {CHAIN_MAX_DIMENSION}), one worker: BOBYQA for "
                              f"the first {FIRST_PHASE} x dimension evaluations, then CMA from its best point")
    if one and dim <= NOMAD_MAX_DIMENSION and _available("NOMAD"):
        if not _available("CMA"):
            return "NOMAD", f"small continuous problem (dimension {dim} <= {NOMAD_MAX_DIMENSION}), one worker"
        if not rounded:
            return "NOMAD>CMA", (f"small continuous problem (dimension {dim} <= {NOMAD_MAX_DIMENSION}), one worker, "
                                 f"no NLopt: NOMAD for the first {FIRST_PHASE} x dimension evaluations, then CMA "
                                 "from its best point")
    if _available("CMA"):
        why = ", integer-cast coordinates: no quadratic-model phase" if rounded and one and dim <= CHAIN_MAX_DIMENSION else ""
        return "CMA", f"continuous problem of dimension {dim} <= 100 (CMA-ES with IPOP restarts{why})"
    return "XNES", f"continuous problem of dimension {dim} <= 100 (XNES: cmaes, for CMA, is not installed)"


@registry.register
class Auto(Optimizer):
    """Automatic choice of optimizer from dimension, budget, num_workers and parametrization. Minimizes.

    ``Auto(...).choice`` is the chosen registry name and ``.reason`` the rule that fired; every
    ask and tell is delegated to that optimizer (``.optimizer``). The rules are in the module
    docstring and, with the measurements behind them, in ``docs/optimizers/auto.md``.

    Parameters
    ----------
    parametrization : int or Parameter
        The search space (an int ``d`` means ``Array(shape=(d,))``); its structure (discrete or
        mixed, a known start) and dimension steer the choice.
    budget : int, optional
        The number of evaluations planned; the known-start rule reads it, and the chosen optimizer
        gets it (``None``: no limit).
    num_workers : int
        Evaluations in flight at once; 16 or more picks a population method, more than one rules
        out the model-search chain (``BOBYQA>CMA``).
    seed : optional
        As for every optimizer.

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.Auto(parametrization=ok.p.Choice(["a", "b"]), budget=100)
    >>> opt.choice
    'SNES'
    >>> ok.optimizers.Auto(parametrization=ok.p.Array(shape=(30,), lower=-5, upper=5), budget=3000).choice
    'CMA'
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
        self._phases = self.choice.split(">")
        self._phase = 0
        # a chain hands over after this many tells to its first optimizer (None: no chain)
        self._switch_at: int | None = FIRST_PHASE * self.dimension if len(self._phases) > 1 else None
        self._inner: Optimizer = registry[self._phases[0]](self.parametrization, self.budget, self.num_workers)
        self.name = f"Auto({self.choice})"

    @property
    def optimizer(self) -> Optimizer:
        """The optimizer doing the work."""
        return self._inner

    def close(self) -> None:
        """Stop the chosen optimizer's child processes or threads, if it has any (``BOBYQA``, ``NOMAD``,
        ``EANOMADHybrid``)."""
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()

    def minimize(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().minimize(*args, **kwargs)
        finally:
            self.close()

    def _next_phase(self) -> None:
        """Hand over to the chain's next optimizer once the current one has had its share: it starts
        from the best point so far (CMA's ``mean``) with the rest of the budget. Candidates the
        previous optimizer asked and that are told later reach the new one as tell-not-asked (its
        own ``tell`` sees candidates it did not ask); a batch is never split (the hand-over
        happens after a tell)."""
        if self._switch_at is None or self._inner.num_tell < self._switch_at:
            return
        spent = self._inner.num_tell  # every tell so far, the one being told included
        self.close()
        self._phase += 1
        name = self._phases[self._phase]
        budget = None if self.budget is None else max(self.budget - spent, 1)
        factory = registry[name]
        kwargs: dict[str, Any] = {}
        if name == "CMA" and self.current_bests:
            kwargs["mean"] = self._recommendation().value  # (we hold the lock: not provide_recommendation)
        try:
            self._inner = factory(self.parametrization, budget, self.num_workers, **kwargs)
        except OptimkitValueError:
            if "mean" not in kwargs:
                raise
            # a best point on the bounds that rounding moved outside them: start from the default
            del kwargs["mean"]
            self._inner = factory(self.parametrization, budget, self.num_workers, **kwargs)
        self._switch_at = None if self._phase + 1 == len(self._phases) else self._switch_at

    def _internal_ask_candidate(self) -> Parameter:
        return self._inner.ask()

    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        self._inner.tell(candidate, loss)
        self._next_phase()

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        self._inner.tell(candidate, loss)
        self._next_phase()

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
        self._next_phase()

    def _internal_abandon_batch(self, data: NDArray[np.float64]) -> None:
        self._inner.abandon_data(data)

    def _internal_detach_batch(self, data: NDArray[np.float64]) -> list[Parameter]:
        return self._inner.detach_data(data)
