"""Same algorithm, two random streams: optimkit's draws against the original's, on Hilly 128-D.

The one published figure that is noisy across seeds is Hilly 128-D with ``p_self = 0.95`` (final
loss after 5000 epochs). This runs the numpy core (``optimkit.optimizers.ansr``: ``init``,
``update_bests``, ``evolve``) with ``default_rng(seed)`` for each seed, once with
:func:`~optimkit.optimizers.ansr.draw_fast` (what the ask/tell ``ANSR`` uses) and once with
:func:`~optimkit.optimizers.ansr.draw_reference` (the original ``ansr_minimize``'s exact draw
sequence), and prints the medians and ranges: both should come from one distribution.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_draws_hilly.py --seeds 12
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from optimkit import functions as F  # noqa: E402
from optimkit.optimizers import ansr as core  # noqa: E402

DIM, BOUND = 128, 3.0


def final_loss(seed: int, draw: object, epochs: int, p_self: float) -> float:
    params = core.Params(popsize=64, sigma=0.05, p_self=p_self)
    rng = np.random.default_rng(seed)
    state = core.init(params, rng.random((params.popsize, DIM)))
    for _ in range(epochs):
        losses = F.hilly(-BOUND + 2 * BOUND * state.pos)
        state = core.evolve(core.update_bests(state, losses), params, rng, draw)
    return float(state.best_loss.min())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--p-self", type=float, default=0.95)
    args = parser.parse_args(argv)
    print("| draws | median final loss | range | seeds |")
    print("|---|---|---|---|")
    for name, draw in (("optimkit (draw_fast)", core.draw_fast), ("original sequence (draw_reference)",
                                                                   core.draw_reference)):
        losses = [final_loss(s, draw, args.epochs, args.p_self) for s in range(args.seeds)]
        print(f"| {name} | {statistics.median(losses):.3g} | {min(losses):.3g}-{max(losses):.3g} | "
              f"0-{args.seeds - 1} |", flush=True)


if __name__ == "__main__":
    main()
