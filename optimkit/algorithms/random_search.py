"""``RandomSearch``: independent samples, the baseline every optimizer must beat."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import rng as _rng
from ..core import ConfiguredOptimizer, Optimizer, registry
from ..parametrization import Parameter, UnitBox
from ..validation import check_bool, check_real

__all__ = ["RandomSearch", "ConfRandomSearch"]


@registry.register
class RandomSearch(Optimizer):
    """Random search: each candidate is drawn independently. Minimizes.

    Coordinates with finite bounds are drawn uniformly over the bounds; the others from
    ``N(0, scale^2)`` in the standardized space (around the parametrization's initial value).
    Tell-not-asked is accepted (it only counts toward the recommendation).

    Parameters
    ----------
    parametrization, budget, num_workers, seed
        As for every optimizer.
    middle_point : bool
        Make the first ask the parametrization's initial value.
    scale : float
        Standard deviation of the unbounded coordinates in the standardized space.

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.RandomSearch(parametrization=2, budget=200, seed=0)
    >>> rec = opt.minimize(lambda x: float(((x - 0.5) ** 2).sum()))
    >>> bool(((rec.value - 0.5) ** 2).sum() < 0.2)
    True
    """

    def __init__(
        self,
        parametrization: int | Parameter,
        budget: int | None = None,
        num_workers: int = 1,
        *,
        seed: Any = None,
        middle_point: bool = False,
        scale: float = 1.0,
    ) -> None:
        self.scale = check_real("scale", scale, 0.0, low_open=True)
        self.middle_point = check_bool("middle_point", middle_point)
        super().__init__(parametrization, budget=budget, num_workers=num_workers, seed=seed)
        box = UnitBox(self.parametrization, bound=1.0)
        self._bounded = box.bounded if box.bounded.any() else None
        self._box = box
        self._dim = self.dimension
        # plain Array, no bounds, unit scale: one draw and one child per ask, nothing else
        self._simple = self._fast and self._bounded is None and self.scale == 1.0

    def _draw(self, n: int) -> NDArray[np.float64]:
        d = self.dimension
        data = _rng.normal(self._rng, (n, d))
        if self.scale != 1.0:
            data *= self.scale
        if self._bounded is not None:
            unit = _rng.uniform(self._rng, (n, d))
            data = np.where(self._bounded, self._box.to_data(unit), data)
        out: NDArray[np.float64] = data
        return out

    def _internal_ask_candidate(self) -> Parameter:
        if self.middle_point and self._num_ask == 0:
            return self._spawn(np.zeros(self._dim))
        if self._simple:
            param = self.parametrization
            return param._fast_child(param._random_state.standard_normal(self._dim))  # type: ignore[attr-defined, union-attr, no-any-return]
        return self._spawn(self._draw(1)[0])

    def _internal_ask_batch(self, n: int) -> NDArray[np.float64]:
        data = self._draw(n)
        if self.middle_point and self._num_ask == 0:
            data[0] = 0.0
        return data

    def _internal_tell_candidate(self, candidate: Parameter, loss: float) -> None:
        return None

    def _internal_tell_not_asked(self, candidate: Parameter, loss: float) -> None:
        return None

    def _internal_tell_batch(self, data: NDArray[np.float64], losses: NDArray[np.float64]) -> None:
        return None

    def _internal_detach_batch(self, data: NDArray[np.float64]) -> list[Parameter]:
        return [self._spawn(np.array(row)) for row in data]

    @property
    def _batch_size(self) -> int:
        return 1024


class ConfRandomSearch(ConfiguredOptimizer):
    """Random search family (``middle_point``, ``scale``, ``seed``)."""

    def __init__(self, *, middle_point: bool = False, scale: float = 1.0, seed: Any = None) -> None:
        check_real("scale", scale, 0.0, low_open=True)
        check_bool("middle_point", middle_point)
        super().__init__(RandomSearch, {"middle_point": middle_point, "scale": scale, "seed": seed})
