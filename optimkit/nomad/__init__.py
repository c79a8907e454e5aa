"""NOMAD local searches in child processes, driven point by point from the parent.

PyNomad runs its own evaluation loop and can kill its process (PyNomad 4.6 dies with SIGSEGV on a
2-D sphere started at ``[0.5, 0.5]`` in ``[-1, 1]^2`` with default options). So each search runs
in a child process, whose blackbox sends every point to the parent and waits for its loss: the
parent turns NOMAD's loop inside out and can serve the points through ``ask``/``tell``. NOMAD
minimizes; so does everything here. A child that dies ends its search with the best point the
parent told it and a :class:`~optimkit.errors.NomadCrashWarning` (never an exception); its worker
is replaced for the next search.

Modules, from the wire up:

- :mod:`.protocol`: the framed messages between parent and child (standard library only);
- :mod:`.worker`: the child's main loop around ``PyNomad.optimize``;
- :mod:`.options`: NOMAD option lines, checked and merged, and the seed range;
- :mod:`.process`: :class:`NomadWorker`, one child process (start, death report, kill);
- :mod:`.search`: :class:`NomadSearch`, one search on a worker, and its :class:`SearchResult`;
- :mod:`.pool`: :class:`WorkerPool` of reusable workers, :func:`run_search`, :func:`process_pool`;
- :mod:`.scheduler`: :class:`Scheduler` interleaving many :class:`Job` s point by point,
  resumable after pickling.

Examples
--------
>>> from optimkit.nomad import run_search
>>> result = run_search(lambda x: sum((c - 0.3) ** 2 for c in x), x0=[0.6, 0.0, 0.5],
...                     lower=[-1.0] * 3, upper=[1.0] * 3, max_bb_eval=40, seed=1,
...                     options=("DIRECTION_TYPE ORTHO 2N",))
>>> result.num_evals, result.loss < 0.05, result.crash
(40, True, None)
"""

from __future__ import annotations

from .options import MANAGED_OPTIONS, NOMAD_SEED_LIMIT, merge_options, normalize_options
from .pool import WorkerPool, process_pool, run_search
from .process import CHILD_MARKER, NOMAD_INSTALL_HINT, NomadWorker, check_pynomad
from .scheduler import Job, Scheduler
from .search import NomadSearch, SearchResult

__all__ = [
    "NOMAD_SEED_LIMIT", "MANAGED_OPTIONS", "normalize_options", "merge_options",
    "NOMAD_INSTALL_HINT", "CHILD_MARKER", "check_pynomad", "NomadWorker",
    "SearchResult", "NomadSearch", "WorkerPool", "run_search", "process_pool",
    "Job", "Scheduler",
]
