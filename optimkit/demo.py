"""``make demo``: the main job — compare the optimizers on a multimodal function.

Runs ``optimkit compare ANSR XNES SNES EANOMAD RandomSearch --function shubert --dim 16`` at a
budget that finishes in about a minute on a 2-core machine, prints the table and writes the
convergence plot to ``demo-out/``.
"""

from __future__ import annotations

import sys

from .cli import main as cli_main

DEMO_ARGS = [
    "compare", "ANSR", "XNES", "SNES", "EANOMAD", "RandomSearch",
    "--function", "shubert", "--dim", "16", "--budget", "16000", "--seeds", "2", "--out", "demo-out",
]


def main(argv: list[str] | None = None) -> int:
    """Run the demo comparison (extra arguments are appended to the command line)."""
    return cli_main(DEMO_ARGS + list(argv or []))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
