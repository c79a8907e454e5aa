"""NOMAD's options as optimkit passes them: the user's lines checked, merged over defaults, and the
keys and seed range that optimkit manages itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import OptimkitValueError

__all__ = ["NOMAD_SEED_LIMIT", "MANAGED_OPTIONS", "normalize_options", "merge_options"]

#: NOMAD 4.6 seeds its generator in time proportional to the SEED value (measured: setSeed(1e6)
#: takes 44 ms, SEED 5e6 adds 0.3 s to a 30-evaluation run, and 1e8 or more seems to hang), so
#: seeds are reduced modulo this (costs < 1 ms; seed + 1 is used too).
NOMAD_SEED_LIMIT = 2**16 - 1

#: Options a search sets itself (from its arguments); users may not pass them.
MANAGED_OPTIONS = frozenset({"DIMENSION", "X0", "LOWER_BOUND", "UPPER_BOUND", "MAX_BB_EVAL", "SEED",
                             "BB_OUTPUT_TYPE"})


def normalize_options(options: Mapping[str, Any] | Iterable[str] | None) -> tuple[str, ...]:
    """NOMAD options as ``"KEY value"`` strings from a mapping or strings; reject managed keys.

    Examples
    --------
    >>> normalize_options({"DIRECTION_TYPE": "ORTHO 2N"})
    ('DIRECTION_TYPE ORTHO 2N',)
    """
    if options is None:
        return ()
    if isinstance(options, str):
        options = [options]
    items = [f"{k} {v}" for k, v in options.items()] if isinstance(options, Mapping) else list(options)
    out = []
    for item in items:
        if not isinstance(item, str) or len(item.split()) < 2:
            raise OptimkitValueError(
                f"nomad_options: {item!r} is not a NOMAD option; use 'KEY value' strings or a dict")
        key = item.split()[0].upper()
        if key in MANAGED_OPTIONS:
            raise OptimkitValueError(
                f"nomad_options: {key} is set by optimkit (from max_bb_eval, bounds, seed); "
                f"accepted: any other NOMAD option")
        out.append(item.strip())
    return tuple(out)


def merge_options(defaults: Iterable[str], overrides: Iterable[str]) -> tuple[str, ...]:
    """Defaults with each key the user gave replaced by the user's line.

    Examples
    --------
    >>> merge_options(("NM_SEARCH no", "SEED_LIKE 1"), ("nm_search yes",))
    ('SEED_LIKE 1', 'nm_search yes')
    """
    overrides = tuple(overrides)
    keys = {o.split()[0].upper() for o in overrides}
    return tuple(o for o in defaults if o.split()[0].upper() not in keys) + overrides
