"""Drop-in replacement for the ``ansr`` package's numpy front end (minimizes).

A user of ``from ansr.ansr import ansr_minimize, FuncWrapper`` / ``from ansr.callbacks import
EarlyStopCallback, WindowEarlyStopCallback, TorchEarlyStopCallback, TorchWindowEarlyStopCallback``
switches by importing them from here (the torch callbacks work with ``optimkit.torch.ANSR``); the
keyword ``self_instead_neighbour`` is accepted as an alias of ``p_self`` (both given with
different values raise). The algorithm is ANSR's core, :mod:`optimkit.algorithms.ansr.core`.

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

from ..algorithms.ansr.core import P_SELF_DEFAULT, Params, evolve, init, resolve_p_self, update_bests
from ..algorithms.ansr.draws import as_generator, draw_reference, drawer
from ..errors import OptimkitValueError
from ..validation import check_int

__all__ = ["ansr_minimize", "EarlyStopCallback", "WindowEarlyStopCallback", "TorchEarlyStopCallback",
           "TorchWindowEarlyStopCallback", "FuncWrapper", "OptimizeResult"]


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
        return _window_stops(self, "last_residual", residual)


def _window_stops(callback: Any, last: str, value: float) -> bool:
    """The original's window rule: at calls 0, ``window_size``, ``2 window_size``, ... stop when
    ``value`` improved on the value kept in ``callback.<last>`` by ``min_difference`` or less; else keep it."""
    if callback.current_call % callback.window_size == 0:
        if getattr(callback, last) - value <= callback.min_difference:
            return True
        setattr(callback, last, value)
    callback.current_call += 1
    return False


class TorchEarlyStopCallback:
    """Stop once the loss returned by ``optimkit.torch.ANSR.step`` is ``<= stop_residual``
    (as in ``ansr.callbacks``): ``if callback(opt.step(closure)): break``.

    Examples
    --------
    >>> stop = TorchEarlyStopCallback(stop_residual=0.5)
    >>> stop(0.7), stop(0.5)
    (False, True)
    """

    __slots__ = ("stop_residual",)

    def __init__(self, stop_residual: float = 0.1) -> None:
        self.stop_residual = stop_residual

    def __call__(self, loss: Any) -> bool:
        """Whether to stop, given a loss (a float or a 0-dim tensor)."""
        return float(loss) <= self.stop_residual


class TorchWindowEarlyStopCallback:
    """Stop when the loss returned by ``optimkit.torch.ANSR.step`` improved by ``min_difference``
    or less over ``window_size`` steps (as in ``ansr.callbacks``).

    The loss is compared at calls 0, ``window_size``, ``2 window_size``, ...: the first
    comparison is against ``inf`` and never stops.

    Examples
    --------
    >>> stop = TorchWindowEarlyStopCallback(window_size=2, min_difference=0.1)
    >>> [stop(loss) for loss in (1.0, 0.5, 0.95)]
    [False, False, True]
    """

    __slots__ = ("window_size", "min_difference", "last_loss", "current_call")

    def __init__(self, window_size: int = 512, min_difference: float = 0.01) -> None:
        self.window_size = window_size
        self.min_difference = min_difference
        self.last_loss = float("inf")
        self.current_call = 0

    def __call__(self, loss: Any) -> bool:
        """Whether to stop, given a loss (a float or a 0-dim tensor)."""
        return _window_stops(self, "last_loss", float(loss))


class FuncWrapper:
    """Picklable ``x -> func(x, *args)``, as the original's ``ansr.ansr.FuncWrapper`` (used for process pools).

    Examples
    --------
    >>> FuncWrapper(pow, (2,))(3)
    9
    """

    __slots__ = ("func", "args")

    def __init__(self, func: Callable[..., float], args: tuple[Any, ...]) -> None:
        self.func, self.args = func, args

    def __call__(self, x: Any) -> float:
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
        wrapped = FuncWrapper(func, args)
        return (lambda rows: workers(wrapped, rows)), None
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) \
            or (workers < 1 and workers != -1):
        raise OptimkitValueError(f"workers must be an int >= 1, -1 (all cores) or a map-like callable, "
                                 f"got {workers!r}")
    n = (os.cpu_count() or 1) if workers == -1 else int(workers)
    if n <= 1:
        return None, None
    pool = ProcessPoolExecutor(n)
    wrapped = FuncWrapper(func, args)
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
    p_self: float = P_SELF_DEFAULT,
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
    popsize, sigma, restart_tolerance, p_self : ANSR options (see ``optimkit.algorithms.ansr.Params``).
    x0 : optional start point inside ``bounds`` (becomes particle 0).
    workers : 1 (serial), n > 1 or -1 (a process pool of n / all cores; ``func`` must pickle),
        or a map-like callable ``workers(f, rows)``.
    seed : int, ``None`` or a ``numpy.random.Generator``.
    callback : ``callback(best_x) -> bool`` after each epoch; ``True`` (or raising
        ``StopIteration``) stops the run.
    self_instead_neighbour : the original package's name of ``p_self``; giving both with different
        values raises ``OptimkitValueError``.

    Returns
    -------
    OptimizeResult with ``x``, ``fun``, ``nfev``, ``nit`` and ``restarts``.
    """
    p_self = resolve_p_self(p_self, self_instead_neighbour)
    params = Params(popsize=popsize, sigma=sigma, p_self=p_self, restart_tolerance=restart_tolerance)
    lower, upper = _parse_bounds(bounds)
    span = upper - lower
    maxiter = check_int("maxiter", maxiter, 1)
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
    draw = drawer(rng, params, draw_reference)
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
            state = update_bests(params, state, losses)
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
            state = evolve(params, state, draw)
    finally:
        if pool is not None:
            pool.shutdown()
    best = state.best_index
    return OptimizeResult(x=lower + state.best_pos[best] * span, fun=float(state.best_loss[best]),
                          nfev=nfev, nit=nit, restarts=state.num_restarts)
