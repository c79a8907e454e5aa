"""Callbacks for ``optimizer.register_callback("ask" | "tell", callback)``, as in nevergrad.

- ``EarlyStopping(criterion)``: ends ``minimize`` when ``criterion(optimizer)`` is true (checked at
  each ask), with ``no_improvement_stopper(window)`` and ``timer(seconds)`` helpers;
- ``OptimizerDump(filepath)``: dumps the optimizer (atomically) at each tell;
- ``ParametersLogger(filepath)``: appends one JSON line per tell, readable with ``load``/``load_flattened``;
- ``ProgressBar()``: a tqdm bar with the best loss.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import errors
from .parametrization import Array, Parameter
from .parametrization.container import Container
from .validation import check_int

__all__ = ["EarlyStopping", "OptimizerDump", "ParametersLogger", "ProgressBar"]


class EarlyStopping:
    """Stop ``minimize`` when ``criterion(optimizer)`` returns True (register it on "ask").

    Examples
    --------
    >>> import optimkit as ok
    >>> opt = ok.optimizers.RandomSearch(parametrization=2, budget=100)
    >>> opt.register_callback("ask", ok.callbacks.EarlyStopping(lambda o: o.num_ask > 3))
    >>> _ = opt.minimize(lambda x: float((x**2).sum()))
    >>> opt.num_tell
    4
    """

    def __init__(self, criterion: Callable[[Any], bool]) -> None:
        if not callable(criterion):
            raise errors.OptimkitTypeError(f"EarlyStopping criterion must be callable, got {criterion!r}")
        self.stop_criterion = criterion

    def __call__(self, optimizer: Any, *args: Any, **kwargs: Any) -> None:
        if self.stop_criterion(optimizer):
            raise errors.OptimkitEarlyStopping("early stopping criterion is reached")

    @classmethod
    def timer(cls, max_duration: float) -> EarlyStopping:
        """Stop once ``max_duration`` seconds have passed since the first check (the first ask).

        Callbacks are not saved in dumps: after loading a checkpoint, register a new timer; it counts
        the running time of this process only, never the downtime before the resume."""
        if not isinstance(max_duration, (int, float)) or max_duration <= 0:
            raise errors.OptimkitValueError(f"max_duration must be a number > 0, got {max_duration!r}")
        return cls(_DurationCriterion(float(max_duration)))

    @classmethod
    def no_improvement_stopper(cls, tolerance_window: int) -> EarlyStopping:
        """Stop when the best loss has not improved during the last ``tolerance_window`` tells."""
        if not isinstance(tolerance_window, int) or tolerance_window < 1:
            raise errors.OptimkitValueError(f"tolerance_window must be an int >= 1, got {tolerance_window!r}")
        return cls(_LossImprovementToleranceCriterion(tolerance_window))


class _DurationCriterion:
    """True once ``max_duration`` seconds of running time have passed since the first check in this
    process: the start is never saved (a copy or an unpickled timer starts again at its first check),
    so the downtime between a checkpoint and its resume does not count."""

    def __init__(self, max_duration: float) -> None:
        self._start = math.inf
        self._max_duration = max_duration

    def __getstate__(self) -> dict[str, Any]:
        return {"_start": math.inf, "_max_duration": self._max_duration}

    def __call__(self, optimizer: Any) -> bool:
        if math.isinf(self._start):
            self._start = time.monotonic()
        return time.monotonic() > self._start + self._max_duration


class _LossImprovementToleranceCriterion:
    def __init__(self, tolerance_window: int) -> None:
        self._window = tolerance_window
        self._best = math.inf
        self._best_at = 0

    def __call__(self, optimizer: Any) -> bool:
        bests = optimizer.current_bests
        if not bests:
            return False
        best = bests["minimum"].minimum
        if best < self._best:
            self._best = best
            self._best_at = optimizer.num_tell
        return bool(optimizer.num_tell - self._best_at > self._window)


class OptimizerDump:
    """Dump the optimizer to ``filepath`` at each tell (atomic: a crash leaves the previous dump).

    Register on "tell". Resume with ``OptimizerClass.load(filepath)``.
    """

    def __init__(self, filepath: str | os.PathLike[str]) -> None:
        self._filepath = Path(filepath)

    def __call__(self, opt: Any, *args: Any, **kwargs: Any) -> None:
        opt.dump(self._filepath)


def _to_jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


class ParametersLogger:
    """Append one JSON line per tell: loss, value, uid, lineage, counters, time.

    As nevergrad, each line also holds one entry per parameter of the candidate, named by its
    path in the parametrization (``"0"`` for a lone parameter; ``"0"``, ``"1"``, ``"lr"`` for the
    args and kwargs of an ``Instrumentation``; ``"a.b"`` inside nested containers), and an
    ``"<name>#sigma"`` entry per ``Array``. ``load_flattened`` splits every list into one column per
    coordinate, named as nevergrad does: ``"0#0"``, ``"0#1"``, ... (``"0#1_2"`` for a 2-D array).

    Parameters
    ----------
    filepath : path
        The JSON-lines file.
    append : bool
        Keep an existing file's lines (True) or start it afresh at the first tell.
    order : int
        Kept for nevergrad compatibility (lineage depth logged: the direct parent).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import optimkit as ok
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> optimizer = ok.optimizers.RandomSearch(parametrization=ok.p.Array(shape=(2,)), budget=3, seed=0)
    >>> logger = ok.callbacks.ParametersLogger(path)
    >>> optimizer.register_callback("tell", logger)
    >>> _ = optimizer.minimize(lambda x: float((x ** 2).sum()))
    >>> sorted(k for k in logger.load_flattened()[0] if not k.startswith("#"))
    ['0#0', '0#1', '0#sigma']
    """

    def __init__(self, filepath: str | os.PathLike[str], append: bool = True, order: int = 1) -> None:
        self._filepath = Path(filepath)
        self._append = append
        self._order = order
        self._session = f"{os.getpid()}-{time.time():.0f}"

    def __call__(self, optimizer: Any, candidate: Parameter, loss: Any) -> None:
        if not self._append:
            self._filepath.write_text("")
            self._append = True
        data = {
            "#num-ask": optimizer.num_ask,
            "#num-tell": optimizer.num_tell,
            "#num-tell-not-asked": optimizer.num_tell_not_asked,
            "#parametrization": optimizer.parametrization.name,
            "#uid": candidate.uid,
            "#lineage": candidate.parents_uids[0] if candidate.parents_uids else candidate.uid,
            "#generation": candidate.generation,
            "#parents_uids": candidate.parents_uids,
            "#loss": _to_jsonable(loss),
            "#optimizer": optimizer.name,
            "#session": self._session,
            "#time": time.time(),
            "#value": _to_jsonable(candidate.value),
        }
        losses = np.atleast_1d(np.asarray(loss, dtype=float))
        if losses.size > 1:
            for i, val in enumerate(losses):
                data[f"#losses#{i}"] = _to_jsonable(float(val))
        data.update(_parameter_columns(candidate))
        with self._filepath.open("a") as fh:
            fh.write(json.dumps(data) + "\n")

    def load(self) -> list[dict[str, Any]]:
        """All logged lines as dicts (a truncated last line, from a crash, is skipped)."""
        out: list[dict[str, Any]] = []
        if not self._filepath.exists():
            return out
        with self._filepath.open() as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def load_flattened(self, max_list_elements: int = 24) -> list[dict[str, Any]]:
        """All logged lines with no list left: one column per coordinate, as nevergrad.

        A list (an array) under ``key`` becomes ``"key#0"``, ``"key#1"``, ... (``"key#i_j"`` for a 2-D
        array); only its first ``max_list_elements`` coordinates are kept, as in nevergrad. The
        nested ``"#value"`` entry is flattened along its structure (``"#value#0#1"``,
        ``"#value#1#lr"``), with the same limit per list.

        Parameters
        ----------
        max_list_elements : int
            Coordinates kept per list (>= 0).
        """
        limit = check_int("max_list_elements", max_list_elements, 0)
        return [_flatten(d, limit) for d in self.load()]


def _parameter_columns(candidate: Parameter) -> dict[str, Any]:
    """nevergrad's per-parameter entries of a logged line: value (and sigma) of each leaf parameter,
    named by its path (``"0"`` for a lone parameter, ``"a.b"`` in nested containers)."""
    out: dict[str, Any] = {}

    def rec(name: str, param: Parameter) -> None:
        if isinstance(param, Container):
            for key in param._ordered_keys():
                rec(f"{name}.{key}" if name else str(key), param._content[key])
            return
        if param.dimension == 0:  # a constant
            return
        column = name or "0"
        out[column] = _to_jsonable(param.value)
        if isinstance(param, Array):
            out[column + "#sigma"] = _to_jsonable(param.sigma)

    rec("", candidate)
    return out


def _flatten(obj: dict[str, Any], max_list_elements: int) -> dict[str, Any]:
    out: dict[str, Any] = {}

    def nested(prefix: str, value: Any) -> None:  # "#value": along the structure of the value
        if isinstance(value, dict):
            for k, v in value.items():
                nested(f"{prefix}#{k}", v)
        elif isinstance(value, list):
            for i, v in enumerate(value[:max_list_elements]):
                nested(f"{prefix}#{i}", v)
        else:
            out[prefix] = value

    for key, value in obj.items():
        if key == "#value" or isinstance(value, dict):
            nested(key, value)
        elif isinstance(value, list):  # an array: nevergrad's "key#i" ("key#i_j" in 2-D) columns
            for indices, item in _cells(value, ())[:max_list_elements]:
                out[key + "#" + "_".join(str(i) for i in indices)] = item
        else:
            out[key] = value
    return out


def _cells(value: Any, indices: tuple[int, ...]) -> list[tuple[tuple[int, ...], Any]]:
    """(indices, item) of each non-list item of nested lists, in row-major order (as ``np.ndenumerate``)."""
    if not isinstance(value, list):
        return [(indices, value)]
    return [cell for i, v in enumerate(value) for cell in _cells(v, (*indices, i))]


class ProgressBar:
    """A tqdm progress bar over the budget, showing the best loss. Register on "tell"."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._best = math.inf

    def __call__(self, optimizer: Any, candidate: Parameter, loss: Any) -> None:
        if self._bar is None:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=optimizer.budget, desc=optimizer.name, leave=True)
        bests = optimizer.current_bests
        if bests:
            best = bests["minimum"].minimum
            if best < self._best:
                self._best = best
                self._bar.set_postfix(best=f"{best:.6g}", refresh=False)
        self._bar.update(1)
        if optimizer.budget is not None and optimizer.num_tell >= optimizer.budget:
            self.close()

    def close(self) -> None:
        """Close the bar (done automatically when the budget is reached)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __getstate__(self) -> dict[str, Any]:
        return {"_bar": None, "_best": self._best}
