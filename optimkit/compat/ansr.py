"""Drop-in replacement for the ``ansr`` package's numpy front end (minimizes).

A user of ``from ansr.ansr import ansr_minimize`` / ``from ansr.callbacks import
EarlyStopCallback, WindowEarlyStopCallback`` switches by importing them from here; the keyword
``self_instead_neighbour`` is accepted as an alias of ``p_self``. The algorithm is the
numpy core of :mod:`optimkit.optimizers.ansr`.

The random draws are the original's, in the same order, so a seed gives the original's
run (same ``x``, ``fun``, ``nfev``, ``nit``; ``workers`` does not change it). Differences,
all on purpose:

- the result also carries ``restarts`` (number of restarted particles);
- an :class:`EarlyStopCallback` (or ``WindowEarlyStopCallback``) on the objective itself costs no evaluation (the original
  re-evaluates the best point every epoch without counting it); one on another function
  is called only when the best point changed, and its evaluations are counted in ``nfev``;
- losses of a pair both below zero use ``|larger|`` as the scale of the relative difference
  (the original divides by the signed larger loss, which restarts any negative pair);
- options are validated (``popsize >= 2``, ``sigma > 0``, ``p_self`` in [0, 1],
  ``restart_tolerance >= 0``, finite bounds with lower < upper, ``x0`` inside them).

Example
-------
>>> import numpy as np
>>> from optimkit.compat.ansr import ansr_minimize, EarlyStopCallback
>>> f = lambda x: float(np.sum(x**2))
>>> res = ansr_minimize(f, ((-5, 5),) * 4, maxiter=20_000, callback=EarlyStopCallback(f, stop_residual=1e-3))
>>> bool(res.fun <= 1e-3), res.nfev == 64 * res.nit
(True, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import OptimkitValueError
from ..optimizers.ansr import Params, as_generator, draw_reference, evolve, init, update_bests

__all__ = ["ansr_minimize", "EarlyStopCallback", "WindowEarlyStopCallback", "OptimizeResult"]


class OptimizeResult(NamedTuple):
    """Result of :func:`ansr_minimize`: best point, its loss, evaluations, epochs, restarts."""

    x: NDArray[np.float64]
    fun: float
    nfev: int
    nit: int
    restarts: int = 0


class EarlyStopCallback:
    """Stop once ``func(best_x, *args) <= stop_residual`` (as in ``ansr.callbacks``).

    When ``func`` and ``args`` are the objective's own, :func:`ansr_minimize` reads the best
    loss it already has instead of calling ``func`` again. Called directly, it evaluates
    ``func`` and counts the calls in ``num_evaluations``.
    """

    __slots__ = ("func", "args", "stop_residual", "num_evaluations")

    def __init__(self, func: Callable[..., float], args: tuple[Any, ...] = (),
                 stop_residual: float = 0.1) -> None:
        self.func = func
        self.args = tuple(args)
        self.stop_residual = stop_residual
        self.num_evaluations = 0

    def check(self, residual: float) -> bool:
        """Whether to stop, given the residual ``func(best_x, *args)``."""
        return bool(residual <= self.stop_residual)

    def __call__(self, x: NDArray[np.float64], *args: Any, **kwargs: Any) -> bool:
        self.num_evaluations += 1
        return self.check(self.func(x, *self.args))


class WindowEarlyStopCallback(EarlyStopCallback):
    """Stop when the residual improved by ``min_difference`` or less over ``window_size`` epochs
    (as in ``ansr.callbacks``); the same evaluation rules as :class:`EarlyStopCallback`."""

    __slots__ = ("window_size", "min_difference", "last_residual", "current_call")

    def __init__(self, func: Callable[..., float], args: tuple[Any, ...] = (), window_size: int = 512,
                 min_difference: float = 0.01) -> None:
        super().__init__(func, args)
        self.window_size, self.min_difference = window_size, min_difference
        self.last_residual = float(np.finfo(np.float32).max)
        self.current_call = 0

    def check(self, residual: float) -> bool:
        if self.current_call % self.window_size == 0:
            if self.last_residual - residual <= self.min_difference:
                return True
            self.last_residual = residual
        self.current_call += 1
        return False


class _FuncWrapper:
    """Picklable ``x -> func(x, *args)`` for process pools."""

    __slots__ = ("func", "args")

    def __init__(self, func: Callable[..., float], args: tuple[Any, ...]) -> None:
        self.func, self.args = func, args

    def __call__(self, x: NDArray[np.float64]) -> float:
        return self.func(x, *self.args)


def _parse_bounds(bounds: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):  # scipy.optimize.Bounds
        lower = np.atleast_1d(np.asarray(bounds.lb, dtype=np.float64))
        upper = np.atleast_1d(np.asarray(bounds.ub, dtype=np.float64))
    else:
        try:
            pairs = np.asarray(bounds, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise OptimkitValueError(f"bounds must be a sequence of (lower, upper) pairs, got {bounds!r}") from exc
        if pairs.ndim != 2 or pairs.shape[1] != 2 or pairs.shape[0] == 0:
            raise OptimkitValueError(f"bounds must be a non-empty sequence of (lower, upper) pairs, "
                                     f"got shape {pairs.shape}")
        lower, upper = pairs[:, 0].copy(), pairs[:, 1].copy()
    bad = ~(np.isfinite(lower) & np.isfinite(upper) & (lower < upper))
    if lower.shape != upper.shape or bad.any():
        i = int(np.argmax(bad)) if lower.shape == upper.shape else 0
        raise OptimkitValueError(f"bounds[{i}] must be finite with lower < upper, "
                                 f"got ({lower[i]!r}, {upper[i]!r})")
    return lower, upper


def _make_map(workers: Any, func: Callable[..., float], args: tuple[Any, ...], popsize: int
              ) -> tuple[Callable[[NDArray[np.float64]], Any] | None, ProcessPoolExecutor | None]:
    if callable(workers):  # a map-like, as scipy accepts
        wrapped = _FuncWrapper(func, args)
        return (lambda rows: workers(wrapped, rows)), None
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) \
            or (workers < 1 and workers != -1):
        raise OptimkitValueError(f"workers must be an int >= 1, -1 (all cores) or a map-like callable, "
                                 f"got {workers!r}")
    n = (os.cpu_count() or 1) if workers == -1 else int(workers)
    if n <= 1:
        return None, None
    pool = ProcessPoolExecutor(n)
    wrapped = _FuncWrapper(func, args)
    chunk = max(1, popsize // (4 * n))
    return (lambda rows: pool.map(wrapped, rows, chunksize=chunk)), pool


def ansr_minimize(
    func: Callable[..., float],
    bounds: Sequence[tuple[float, float]] | Any,
    args: tuple[Any, ...] = (),
    maxiter: int = 100_000,
    popsize: int = 64,
    sigma: float = 0.05,
    restart_tolerance: float = 1e-8,
    p_self: float = 0.95,
    x0: ArrayLike | None = None,
    workers: int | Callable[..., Any] = 1,
    seed: int | np.random.Generator | None = 0,
    callback: Callable[[NDArray[np.float64]], bool] | None = None,
    *,
    self_instead_neighbour: float | None = None,
) -> OptimizeResult:
    """Minimize ``func(x, *args)`` over the box ``bounds`` with ANSR.

    Parameters
    ----------
    func : objective, called once per particle with a 1-D array; minimized.
    bounds : ``(lower, upper)`` per coordinate (or a ``scipy.optimize.Bounds``), finite, lower < upper.
    maxiter : evaluation budget; the run has ``max(1, round(maxiter / popsize))`` epochs.
    popsize, sigma, restart_tolerance, p_self : ANSR options (see ``optimkit.optimizers.ansr.Params``).
    x0 : optional start point inside ``bounds`` (becomes particle 0).
    workers : 1 (serial), n > 1 or -1 (a process pool of n / all cores; ``func`` must pickle),
        or a map-like callable ``workers(f, rows)``.
    seed : int, ``None`` or a ``numpy.random.Generator``.
    callback : ``callback(best_x) -> bool`` after each epoch; ``True`` (or raising
        ``StopIteration``) stops the run.
    self_instead_neighbour : the original package's name of ``p_self``.

    Returns
    -------
    OptimizeResult with ``x``, ``fun``, ``nfev``, ``nit`` and ``restarts``.
    """
    if self_instead_neighbour is not None:
        if p_self != 0.95 and p_self != self_instead_neighbour:
            raise OptimkitValueError(f"p_self={p_self!r} and self_instead_neighbour={self_instead_neighbour!r} "
                                     f"are the same option; give only one")
        p_self = self_instead_neighbour
    params = Params(popsize=popsize, sigma=sigma, p_self=p_self, restart_tolerance=restart_tolerance)
    lower, upper = _parse_bounds(bounds)
    span = upper - lower
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise OptimkitValueError(f"maxiter must be an integer >= 1, got {maxiter!r}")
    args = tuple(args)
    x0_unit = None
    if x0 is not None:
        x0a = np.asarray(x0, dtype=np.float64).ravel()
        if x0a.shape != lower.shape or not np.all(np.isfinite(x0a)) \
                or np.any(x0a < lower) or np.any(x0a > upper):
            raise OptimkitValueError(f"x0 must have {lower.size} finite values inside bounds, got {x0!r}")
        x0_unit = (x0a - lower) / span
    rng = as_generator(seed) if isinstance(seed, np.random.RandomState) else np.random.default_rng(seed)
    early = callback if isinstance(callback, EarlyStopCallback) else None
    free_check = early is not None and early.func is func and len(early.args) == len(args) \
        and all(a is b for a, b in zip(early.args, args))
    pmap, pool = _make_map(workers, func, args, params.popsize)
    state = init(params, rng.random((params.popsize, lower.size)), x0_unit)
    nit = nfev = 0
    last_checked: NDArray[np.float64] | None = None
    residual = np.inf
    losses = np.empty(params.popsize)
    try:
        for _ in range(max(1, int(round(maxiter / params.popsize)))):
            points = lower + state.pos * span
            if pmap is None:
                for i in range(params.popsize):
                    losses[i] = func(points[i], *args)
            else:
                losses[:] = list(pmap(points))
            nit += 1
            nfev += params.popsize
            state = update_bests(state, losses)
            if callback is not None:
                best_x = lower + state.best_pos[state.best_index] * span
                if early is not None and free_check:
                    stop = early.check(float(state.best_loss[state.best_index]))
                elif early is not None:  # another function: evaluated (and counted) when the best moves
                    if last_checked is None or not np.array_equal(best_x, last_checked):
                        residual = early.func(best_x, *early.args)
                        early.num_evaluations += 1
                        nfev += 1
                        last_checked = best_x
                    stop = early.check(residual)
                else:
                    try:
                        stop = bool(callback(best_x))
                    except StopIteration:
                        stop = True
                if stop:
                    break
            state = evolve(state, params, rng, draw_reference)
    finally:
        if pool is not None:
            pool.shutdown()
    best = state.best_index
    return OptimizeResult(x=lower + state.best_pos[best] * span, fun=float(state.best_loss[best]),
                          nfev=nfev, nit=nit, restarts=state.num_restarts)
