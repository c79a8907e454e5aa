"""The bests and the archive: what every optimizer remembers of the points it was told.

``current_bests`` holds nevergrad's four estimates (optimistic, pessimistic, average, minimum) as
:class:`MultiValue` records; the archive keeps the points that were a best, or among the 16 best
other losses, when told (keyed by their standardized data, so re-evaluations of a point are
merged). A cached admission bound decides most tells with one comparison.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..parametrization import Parameter

__all__ = ["MultiValue", "BestsKeeper", "BEST_NAMES"]

BEST_NAMES = ("optimistic", "pessimistic", "average", "minimum")
_NUM_RUNNERS_UP = 16  # archived besides the bests; 64 cost a quarter of all tells in improving runs
_NO_DATA = np.zeros(0)


class MultiValue:
    """Statistics of the losses told for one point (repeated evaluations of noisy objectives).

    ``optimistic``/``pessimistic`` are the mean minus/plus ``0.1 * sqrt(variance / (1 + count))``,
    with a large prior variance for a single evaluation, as in nevergrad.
    """

    __slots__ = (
        "parameter", "count", "mean", "square", "minimum", "variance", "optimistic", "pessimistic", "data", "first",
    )

    def __init__(self, parameter: Parameter, loss: float, data: NDArray[np.float64] | None = None) -> None:
        self.parameter = parameter
        self.data: NDArray[np.float64] = _NO_DATA if data is None else data  # the point's standardized data
        self.first: Any = self.data.item(0) if self.data.shape[0] else None  # a cheap pre-check (a float)
        self.count = 1
        self.mean = loss
        self.square = loss * loss
        self.minimum = loss
        self.variance = 1.0e6
        self.optimistic = loss - 70.71067811865476  # 0.1 * sqrt(1e6 / 2)
        self.pessimistic = loss + 70.71067811865476

    def add_evaluation(self, loss: float) -> None:
        """Account for one more evaluation of the same point."""
        self.minimum = min(self.minimum, loss)
        self.mean = (self.count * self.mean + loss) / (self.count + 1)
        self.square = max((self.count * self.square + loss * loss) / (self.count + 1), self.mean**2)
        self.count += 1
        if not math.isfinite(self.mean):  # an infinite (failed) evaluation: no spread to speak of
            self.variance, self.optimistic, self.pessimistic = math.inf, self.mean, self.mean
            return
        self.variance = math.sqrt(self.count / (self.count - 1.0)) * max(self.square - self.mean**2, 0.0)
        delta = 0.1 * math.sqrt(self.variance / (1 + self.count))
        self.optimistic = self.mean - delta
        self.pessimistic = self.mean + delta

    def get_estimation(self, name: str) -> float:
        """The loss estimate used for the ``current_bests`` entry ``name``."""
        if name == "average":
            return float(self.mean)
        return float(getattr(self, name))

    @property
    def optimistic_confidence_bound(self) -> float:
        return float(self.optimistic)

    @property
    def pessimistic_confidence_bound(self) -> float:
        return float(self.pessimistic)

    def __repr__(self) -> str:
        return f"MultiValue(mean={self.mean:g}, count={self.count}, parameter={self.parameter!r})"


class BestsKeeper:
    """The bests-and-archive part of an optimizer (a mixin of :class:`~optimkit.core.Optimizer`).

    ``_update_bests(candidate, loss)`` is called once per told point with the loss the optimizer
    sees (NaN already mapped to +inf).
    """

    _admit = _admit_bests = math.inf  # a loss >= _admit enters neither bests nor archive
    parametrization: Parameter

    def _init_bests(self) -> None:
        self._archive: dict[bytes, MultiValue] = {}  # points that were a best when told
        self._archive_max = 10_000
        self._top_losses: list[float] = []  # max-heap (negated) of the best single losses seen
        self._runner_up = math.inf  # losses below this are archived even if not a best
        self._distinct_bests: tuple[MultiValue, ...] = ()
        self._admit = self._admit_bests = math.inf
        self.current_bests: dict[str, MultiValue] = {}
        self._noisy = False  # a re-evaluated point gave a different loss

    def _data_of(self, candidate: Parameter) -> NDArray[np.float64]:
        raise NotImplementedError  # pragma: no cover - provided by the Optimizer

    def _update_bests_row(self, data: NDArray[np.float64], value: float, loss: float, spawn: Any) -> None:
        """The best row of a batch (``loss`` its lowest loss, ``value`` the loss as told) enters the
        bests and archive as a single tell would. No other row of the batch can become a best: each
        estimate of a single evaluation is its loss plus the same offset, so the batch's best row
        beats every other on each of them; unlike single tells, batches archive no other runner-up."""
        if self.current_bests and not loss < self._admit:
            return
        cand = spawn(data.copy())  # a copy: the archive must not keep the batch alive
        cand._loss = value
        self._update_bests(cand, loss)

    def _update_bests(self, candidate: Parameter, loss: float) -> None:
        """Update the archive and ``current_bests`` (nevergrad's estimates, kept cheap).

        Only points that were a best, or among the 16 best losses, when told are archived (as
        ``MultiValue`` records keyed by their data). Any other point costs a few float comparisons
        and a check that it is not a re-evaluation of a current best; re-evaluations of such
        points are counted as new points.
        """
        bests = self.current_bests
        cache = candidate._std_cache
        data = cache[1] if cache is not None and cache[0] is self.parametrization else self._data_of(candidate)
        if not bests:
            mv = MultiValue(candidate, loss, self._own_memory(candidate, data))
            self._archive[data.tobytes()] = mv
            for name in BEST_NAMES:
                bests[name] = mv
            self._bests_changed()
            return
        if loss >= self._admit:  # the common case, decided by one comparison (see _bests_changed)
            self._check_reevaluation(data, loss)
            return
        # a new point has a single evaluation: its estimates are loss -/+ 70.71, loss, loss
        new_opt = loss - 70.71067811865476 < bests["optimistic"].optimistic
        new_pes = loss + 70.71067811865476 < bests["pessimistic"].pessimistic
        new_avg = loss < bests["average"].mean
        new_min = loss < bests["minimum"].minimum
        if not (new_opt or new_pes or new_avg or new_min) and loss >= self._runner_up:
            self._check_reevaluation(data, loss)
            return
        new_best = new_opt or new_pes or new_avg or new_min
        if not new_best:
            # among the best losses seen so far: archive it, a later reboot may need it
            top = self._top_losses
            if len(top) < _NUM_RUNNERS_UP:
                heapq.heappush(top, -loss)
            else:
                heapq.heapreplace(top, -loss)
                self._runner_up = -top[0]
        key = data.tobytes()
        archive = self._archive
        entry = archive.get(key)
        if entry is not None:
            self._reevaluate(entry, loss)
            return
        if len(archive) >= self._archive_max:
            self._prune_archive()
        archive[key] = mv = MultiValue(candidate, loss, self._own_memory(candidate, data))
        if not new_best:  # a runner-up: the bests stay, only the bound may move
            self._admit = max(self._admit_bests, self._runner_up)
            return
        if new_opt:
            bests["optimistic"] = mv
        if new_pes:
            bests["pessimistic"] = mv
        if new_avg:
            bests["average"] = mv
        if new_min:
            bests["minimum"] = mv
        self._bests_changed()

    @staticmethod
    def _own_memory(candidate: Parameter, data: NDArray[np.float64]) -> NDArray[np.float64]:
        """``data`` and ``candidate`` without memory shared with a batch, for the archive: a kept row
        view would keep its whole batch (popsize rows of data and values) alive."""
        cache = candidate._std_cache
        cached = cache is not None and cache[1] is data
        own = candidate._own_memory()
        if cached and own is not None:
            return own
        return data.copy() if data.base is not None else data

    def _check_reevaluation(self, data: NDArray[np.float64], loss: float) -> None:
        """A point that enters no best: if it is one of the current bests, count the new evaluation."""
        first = data.item(0) if data.shape[0] else None
        for mv in self._distinct_bests:
            if mv.first == first and np.array_equal(mv.data, data):
                self._reevaluate(mv, loss)
                return

    def _bests_changed(self) -> None:
        """After a change of the bests: the distinct bests, and the admission bound ``_admit``, the
        lowest loss at which a new point surely passes none of the tests of :meth:`_update_bests`
        (``nextafter`` covers the rounding of ``loss -/+ 70.71``; a new runner-up only lowers the
        ``_runner_up`` part, see there)."""
        bests = self.current_bests
        self._distinct_bests = tuple({id(b): b for b in bests.values()}.values())
        self._admit_bests = max(
            math.nextafter(bests["optimistic"].optimistic + 70.71067811865476, math.inf),
            math.nextafter(bests["pessimistic"].pessimistic - 70.71067811865476, math.inf),
            bests["average"].mean,
            bests["minimum"].minimum,
        )
        self._admit = max(self._admit_bests, self._runner_up)

    def _reevaluate(self, mv: MultiValue, loss: float) -> None:
        bests = self.current_bests
        if loss != mv.mean:
            self._noisy = True  # the same point gave two different losses
        before = {name: mv.get_estimation(name) for name in BEST_NAMES if bests[name] is mv}
        mv.add_evaluation(loss)
        for name in BEST_NAMES:
            if name in before:
                if mv.get_estimation(name) > before[name]:  # got worse: another point may be better now
                    bests[name] = min(self._archive.values(), key=lambda m, n=name: m.get_estimation(n))  # type: ignore[misc]
            elif mv.get_estimation(name) < bests[name].get_estimation(name):
                bests[name] = mv
        self._bests_changed()

    def _prune_archive(self) -> None:
        """Keep the current bests and the best tenth of the archive by average loss."""
        keep = heapq.nsmallest(self._archive_max // 10, self._archive.items(), key=lambda kv: kv[1].mean)
        self._archive = dict(keep)
        for mv in self.current_bests.values():
            self._archive[mv.data.tobytes()] = mv
