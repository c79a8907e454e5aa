"""BOBYQA with restarts: Powell's bounded trust-region method with quadratic models (NLopt's
``LN_BOBYQA``) on the whole problem, restarted until the budget is spent.

- :mod:`.core`: the pure core: :class:`Params`, :class:`State`, :class:`Run`, ``init/ask/tell``
  (``ask`` plans the next run: its start point and evaluation cap; ``tell`` takes a finished run's
  best point), :func:`model_loss` (what BOBYQA is told for a failed evaluation) and
  :func:`draw_ask` (the random draws of a restart);
- :mod:`.loop`: :class:`BobyqaRun`, one NLopt run turned inside out (a thread that waits while the
  caller works);
- :mod:`.optimizer`: the ask/tell adapter :class:`BOBYQA` and the family :class:`ConfBOBYQA`,
  registered as ``BOBYQA``.
"""

from __future__ import annotations

from .core import AskDraws, Params, Run, State, ask, draw_ask, init, model_loss, run_budget, tell
from .loop import BobyqaRun, check_nlopt
from .optimizer import BOBYQA, ConfBOBYQA

__all__ = ["Params", "State", "Run", "AskDraws", "init", "ask", "tell", "draw_ask", "run_budget", "model_loss",
           "BobyqaRun", "check_nlopt", "BOBYQA", "ConfBOBYQA"]
