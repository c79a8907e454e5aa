"""The torch rows of the ANSR README's benchmark table, rerun with ``optimkit.torch.ANSR``.

Rows (following ``examples/benchmark.py`` of https://github.com/fxeqxmulfx/ansr):

* tiny transformer copy task (vocab 4, sequence 3, d_model 8, 796 parameters, 48/16 train/test
  split of 64 random sequences), ANSR popsize 64, sigma 0.05, bound 20, batch_size 16,
  p_self 0.05 and 0.95 (batch_size 64 here: the original's 16 only changes the dropout draws),
  early stop at train loss <= 0.1, at most 5000 epochs;
* AdamW (lr 0.01) on the same task, and on sphere 128-D, Shubert 64-D and Hilly 128-D (each
  scaled to [0, 1] per pair, mean over pairs; early stop at 0.01, at most 5000 steps).
  As in the original, sphere starts at ``randn``, Shubert and Hilly at the origin.

Each configuration runs over several seeds (model init, dropout and optimizer seed); the script
writes one CSV row per run and prints the median and range per configuration.
The model stays in train mode during training, as in the original (its dropout of 0.1 is
active, so each particle's loss is a noisy draw); accuracy is measured in eval mode
(``acc``) and, as the original does, in train mode (``acc_dropout``).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_torch_rows.py --out bench_out/torch_rows.csv
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ansr_torch_rows.py --only adamw --seeds 0 1
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from optimkit.torch import ANSR  # noqa: E402

SHUBERT_MIN, SHUBERT_MAX = -186.7309, 210.0
HILLY_MIN, HILLY_MAX = -229.91931214214105, 39.701816104859866
FIELDS = ["optimizer", "task", "dim", "options", "seed", "steps", "evaluations", "loss", "restarts",
          "train_acc", "test_acc", "train_acc_dropout", "test_acc_dropout", "seconds"]


# ---------------------------------------------------------------- test functions (torch, differentiable)
def _pairs(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x[..., 0::2], x[..., 1::2]


def sphere01(x: torch.Tensor) -> torch.Tensor:
    """Sphere scaled per pair to [0, 1] on [-5, 5]; mean over pairs (minimize)."""
    u, v = _pairs(x)
    return ((u * u + v * v) / 50.0).mean(-1)


def shubert01(x: torch.Tensor) -> torch.Tensor:
    """Shubert per pair scaled to [0, 1] on [-10, 10]; mean over pairs (minimize)."""
    u, v = _pairs(x)
    i = torch.arange(1.0, 6.0, dtype=x.dtype, device=x.device)
    su = (i * torch.cos(u[..., None] * (i + 1.0) + i)).sum(-1)
    sv = (i * torch.cos(v[..., None] * (i + 1.0) + i)).sum(-1)
    return ((su * sv - SHUBERT_MIN) / (SHUBERT_MAX - SHUBERT_MIN)).mean(-1)


def hilly01(x: torch.Tensor) -> torch.Tensor:
    """The ANSR benchmark's Hilly terrain per pair, negated and scaled to [0, 1] on [-3, 3]."""
    u, v = _pairs(x)

    def bump(a: float, cx: float, cy: float, w: float) -> torch.Tensor:
        return a * torch.exp(-((u - cx) ** 2 + (v - cy) ** 2) / w)

    h = (20.0 + u * u + v * v - 10.0 * torch.cos(2.0 * math.pi * u) - 10.0 * torch.cos(2.0 * math.pi * v)
         - bump(30.0, 1.0, 0.0, 0.1) + bump(200.0, -math.pi * 0.47, math.pi * 0.2, 0.1)
         + bump(100.0, 0.5, -0.5, 0.01) - bump(60.0, 1.33, 2.0, 0.02)
         - bump(40.0, -1.3, -0.2, 0.5) + bump(60.0, 1.5, -1.5, 0.1))
    return ((-h - HILLY_MIN) / (HILLY_MAX - HILLY_MIN)).mean(-1)


def check_against_numpy() -> None:
    """The torch functions must equal optimkit.functions (when that module is there)."""
    try:
        from optimkit import functions as F
    except ImportError:
        return
    x = torch.rand(5, 128, dtype=torch.float64) * 6 - 3
    for ours, name in ((sphere01, "sphere01"), (shubert01, "shubert"), (hilly01, "hilly")):
        theirs = getattr(F, name, None)
        if theirs is not None:
            torch.testing.assert_close(ours(x), torch.as_tensor(theirs(x.numpy())))


# ---------------------------------------------------------------- the copy task
class TinyTransformer(nn.Module):
    """One encoder layer, d_model 8, one head: 796 parameters for vocab 4."""

    def __init__(self, vocab_size: int = 4, d_model: int = 8, nhead: int = 1) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(16, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=d_model * 2, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, vocab_size)
        self.scale = math.sqrt(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.size(1), device=x.device)
        return self.head(self.encoder(self.embed(x) * self.scale + self.pos(positions)))


def copy_task(seed: int) -> tuple[TinyTransformer, dict[str, torch.Tensor]]:
    """The data are fixed (seed 0, as in the original); ``seed`` drives the model init and dropout."""
    torch.manual_seed(0)
    data = torch.randint(0, 4, (64, 3))
    torch.manual_seed(seed)
    return TinyTransformer(), {"train": data[:48], "test": data[48:]}


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(logits.reshape(-1, 4), target.reshape(-1))


@torch.no_grad()
def accuracies(model: nn.Module, data: dict[str, torch.Tensor]) -> dict[str, float]:
    out = {}
    for mode, suffix in ((False, ""), (True, "_dropout")):
        model.train(mode)
        for split in ("train", "test"):
            out[f"{split}_acc{suffix}"] = float((model(data[split]).argmax(-1) == data[split]).float().mean())
    model.train(True)
    return out


def transformer_ansr(seed: int, p_self: float, max_epochs: int, batch_size: int = 64) -> dict[str, object]:
    model, data = copy_task(seed)
    opt = ANSR(model.parameters(), model=model, batch_size=batch_size, popsize=64, sigma=0.05, p_self=p_self,
               bound=20.0, seed=seed)
    train = data["train"]

    def loss_fn(logits: torch.Tensor) -> torch.Tensor:
        return cross_entropy(logits, train)

    epoch, loss = 0, math.inf
    while epoch < max_epochs and loss > 0.1:
        epoch += 1
        loss = float(opt.step(loss_fn, train))
    return dict(optimizer="ANSR", task="transformer", dim=796, options=f"p_self={p_self}", steps=epoch,
                evaluations=epoch * 64, loss=loss, restarts=opt.restarts, **accuracies(model, data))


def transformer_adamw(seed: int, max_steps: int) -> dict[str, object]:
    model, data = copy_task(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)
    step, loss = 0, math.inf
    while step < max_steps and loss > 0.1:
        step += 1
        opt.zero_grad()
        loss_t = cross_entropy(model(data["train"]), data["train"])
        loss_t.backward()
        opt.step()
        loss = float(loss_t.detach())  # the loss before this step, as the original checks it
    return dict(optimizer="AdamW", task="transformer", dim=796, options="lr=0.01", steps=step,
                evaluations=step, loss=loss, restarts="", **accuracies(model, data))


FUNCTIONS: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], int, str]] = {
    "sphere": (sphere01, 128, "randn"),
    "shubert": (shubert01, 64, "zeros"),
    "hilly": (hilly01, 128, "zeros"),
}


def function_adamw(name: str, seed: int, max_steps: int) -> dict[str, object]:
    fn, dim, start = FUNCTIONS[name]
    gen = torch.Generator().manual_seed(seed)
    x = (torch.randn(dim, generator=gen) if start == "randn" else torch.zeros(dim)).requires_grad_()
    opt = torch.optim.AdamW([x], lr=0.01)
    step, loss = 0, math.inf
    while step < max_steps and loss > 0.01:
        step += 1
        opt.zero_grad()
        loss_t = fn(x)
        loss_t.backward()
        opt.step()
        loss = float(loss_t.detach())
    return dict(optimizer="AdamW", task=name, dim=dim, options=f"lr=0.01, start={start}", steps=step,
                evaluations=step, loss=loss, restarts="")


# ---------------------------------------------------------------- driver
def summarize(rows: list[dict[str, object]]) -> str:
    def cell(values: list[float], fmt: str) -> str:
        if not values:
            return "-"
        med = statistics.median(values)
        return f"{med:{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"

    lines = ["| optimizer | task | options | steps | evaluations | loss | restarts | train acc | test acc |"
             " train/test acc (dropout on) |", "|---" * 10 + "|"]
    keys = list(dict.fromkeys((r["optimizer"], r["task"], r["options"]) for r in rows))
    for key in keys:
        group = [r for r in rows if (r["optimizer"], r["task"], r["options"]) == key]

        def col(name: str, group: list[dict[str, object]] = group) -> list[float]:
            return [float(r[name]) for r in group if r.get(name, "") != ""]

        acc = [cell([100 * v for v in col(k)], ".0f") for k in ("train_acc", "test_acc")]
        drop = "/".join(cell([100 * v for v in col(k)], ".0f") for k in ("train_acc_dropout", "test_acc_dropout"))
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {cell(col('steps'), '.0f')} | "
                     f"{cell(col('evaluations'), '.0f')} | {cell(col('loss'), '.3g')} | "
                     f"{cell(col('restarts'), '.0f')} | {acc[0]} | {acc[1]} | {drop if col('train_acc') else '-'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--only", choices=["ansr", "adamw", "all"], default="all")
    parser.add_argument("--max-epochs", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=64,
                        help="members per vmapped call (the original uses 16; 64 is faster on CPU)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 is fastest here)")
    parser.add_argument("--out", type=Path, default=Path("bench_out/ansr_torch_rows.csv"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    check_against_numpy()

    jobs: list[tuple[str, Callable[[], dict[str, object]]]] = []
    if args.only in ("adamw", "all"):
        for name in FUNCTIONS:
            jobs += [(f"AdamW {name} seed {s}", lambda n=name, s=s: function_adamw(n, s, args.max_epochs))
                     for s in args.seeds]
        jobs += [(f"AdamW transformer seed {s}", lambda s=s: transformer_adamw(s, args.max_epochs))
                 for s in args.seeds]
    if args.only in ("ansr", "all"):
        for p_self in (0.05, 0.95):
            jobs += [(f"ANSR transformer p_self={p_self} seed {s}",
                      lambda s=s, p=p_self: transformer_ansr(s, p, args.max_epochs, args.batch_size)) for s in args.seeds]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with args.out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        for label, job in jobs:
            start = time.perf_counter()
            row = job()
            row["seconds"] = round(time.perf_counter() - start, 2)
            row["seed"] = label.rsplit(" ", 1)[1]
            writer.writerow(row)
            handle.flush()
            rows.append(row)
            print(f"{label}: steps={row['steps']} loss={float(row['loss']):.4g} "  # type: ignore[arg-type]
                  f"restarts={row['restarts']} {row['seconds']}s", flush=True)
    print(summarize(rows))


if __name__ == "__main__":
    main()
