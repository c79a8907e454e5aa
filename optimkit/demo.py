"""``make demo``: the main job — compare the optimizers on a multimodal function.

Runs ``optimkit compare Auto CMA ANSR XNES SNES EANOMAD RandomSearch --function shubert --dim 16``
at a budget that finishes in about a minute and a half on a 2-core machine, prints the table and
writes the convergence plot to ``demo-out/``. ``Auto`` picks ``BOBYQA>CMA`` here (a continuous problem
of dimension <= 20, one worker: BOBYQA's quadratic models for the first 100 x d evaluations, then
CMA); CMA, XNES and SNES restart until the budget is spent, so none stops searching
early (on Shubert's many basins the XNES/SNES restarts rarely land in a better one). Shubert's
narrow periodic basins are ANSR's home ground: the demo shows where the general-purpose choice is
beaten, not only where it wins.
"""

from __future__ import annotations

import sys

from .cli import main as cli_main

DEMO_ARGS = [
    "compare", "Auto", "CMA", "ANSR", "XNES", "SNES", "EANOMAD", "RandomSearch",
    "--function", "shubert", "--dim", "16", "--budget", "16000", "--seeds", "2", "--out", "demo-out",
]


def main(argv: list[str] | None = None) -> int:
    """Run the demo comparison (extra arguments are appended to the command line)."""
    return cli_main(DEMO_ARGS + list(argv or []))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
