"""Xiong et al. (2020) in miniature: a Post-LN Transformer needs warmup, a Pre-LN one does not.

A 6-layer Transformer encoder (d_model 32, 4 heads, feed-forward 64, no
dropout) learns to sort sequences of 8 digits: the output at position ``i`` is
the ``i``-th smallest input.  Adam(β1 0.9, β2 0.98), as in Vaswani et al.;
the schedule is lrkit's ``warmup(cosine(peak, floor=peak/10), steps=W)``
resolved to the run, with ``W`` in 0/10/100/300 and the peak LR swept.
Post-LN (``norm_first=False``, the original Transformer) vs Pre-LN
(``norm_first=True``).

Prints the final token accuracy (mean ± std over seeds) and how many seeds
ended near the loss of a predictor that ignores the input ("collapsed":
within 0.05 nats of the position-only predictor's loss, the best a model
that does not read the sequence can do); writes ``docs/images/warmup_post_ln.png``.

    python examples/warmup_post_ln.py            # 3 seeds, about 3 minutes on 2 idle cores
    python examples/warmup_post_ln.py --quick    # CI size

Reference: Xiong et al. 2020, "On Layer Normalization in the Transformer
Architecture" (arXiv:2002.04745).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time
from pathlib import Path

import numpy as np
import torch

import lrkit
from lrkit.torch import Scheduler

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
VOCAB, LENGTH = 10, 8


class Sorter(torch.nn.Module):
    def __init__(self, post_ln: bool, d: int = 32, layers: int = 6) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, d)
        self.pos = torch.nn.Parameter(torch.randn(LENGTH, d) * 0.1)
        layer = torch.nn.TransformerEncoderLayer(
            d, nhead=4, dim_feedforward=2 * d, dropout=0.0, batch_first=True, norm_first=not post_ln
        )
        # Pre-LN needs a final LayerNorm (the residual stream is never normalized otherwise); Post-LN ends with one
        self.encoder = torch.nn.TransformerEncoder(
            layer, layers, norm=None if post_ln else torch.nn.LayerNorm(d), enable_nested_tensor=False
        )
        self.head = torch.nn.Linear(d, VOCAB)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(self.embed(x) + self.pos))


def batch(n: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randint(0, VOCAB, (n, LENGTH), generator=g)
    return x, torch.sort(x, dim=1).values


def position_only_loss(g: torch.Generator, n: int = 200_000) -> float:
    """Cross-entropy of the best input-blind predictor: the marginal of the i-th order statistic, per position."""
    _, y = batch(n, g)
    counts = torch.stack([torch.bincount(y[:, i], minlength=VOCAB) for i in range(LENGTH)]).double() / n
    return float(-(counts * torch.log(counts.clamp_min(1e-12))).sum(1).mean())


def run(post_ln: bool, peak: float, w: int, steps: int, seed: int, bs: int) -> dict[str, float]:
    torch.manual_seed(seed)
    model = Sorter(post_ln)
    opt = torch.optim.Adam(model.parameters(), lr=peak, betas=(0.9, 0.98), eps=1e-9)
    schedule = lrkit.warmup(lrkit.cosine(peak, floor=peak / 10), steps=w, prefix=True).resolve(total_steps=steps)
    sched = Scheduler(opt, lr=schedule)
    g = torch.Generator().manual_seed(10_000 + seed)
    for _ in range(steps):
        x, y = batch(bs, g)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        if not torch.isfinite(loss):
            return {"loss": math.inf, "acc": 0.0}
        loss.backward()
        opt.step()
        sched.step()
    x, y = batch(2000, torch.Generator().manual_seed(99))
    with torch.no_grad():
        out = model(x)
        loss = float(torch.nn.functional.cross_entropy(out.reshape(-1, VOCAB), y.reshape(-1)))
        acc = float((out.argmax(-1) == y).float().mean())
    return {"loss": loss, "acc": acc}


def main(argv: list[str] | None = None) -> dict[tuple[str, float, int], list[dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size: fewer steps, settings and seeds")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (one thread each)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", default=str(IMAGES / "warmup_post_ln.png"))
    args = parser.parse_args(argv)
    lrs, warmups = [1e-2, 3e-2], [0, 10, 100, 300]
    if args.quick:
        args.steps, args.seeds = 200, 2
        lrs, warmups = [3e-2], [0, 100]
    torch.set_num_threads(1)
    start = time.perf_counter()
    blind = position_only_loss(torch.Generator().manual_seed(7))
    keys = [(ln, lr, w) for ln in ("Post-LN", "Pre-LN") for lr in lrs for w in warmups]
    jobs = [(ln == "Post-LN", lr, w, args.steps, seed, args.batch) for ln, lr, w in keys for seed in range(args.seeds)]
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            flat = pool.starmap(run, jobs)
    else:
        flat = [run(*job) for job in jobs]
    results = {key: flat[i * args.seeds : (i + 1) * args.seeds] for i, key in enumerate(keys)}
    print(f"6-layer Transformer encoder (d=32), sorting {LENGTH} digits, Adam(0.9, 0.98), batch {args.batch}")
    print(f"{args.steps} steps, {args.seeds} seeds; warmup(cosine(peak, floor=peak/10), steps=W)")
    print(f"input-blind loss (position-only predictor): {blind:.3f} nats; uniform: {math.log(VOCAB):.3f}\n")
    print("| LN | peak lr | warmup | token accuracy (%) | final loss | collapsed |")
    print("|---|---:|---:|---:|---:|---:|")
    for (ln, lr, w), rs in results.items():
        acc = 100 * np.array([r["acc"] for r in rs])
        losses = np.array([r["loss"] for r in rs])
        collapsed = int(sum(not (x < blind - 0.05) for x in losses))
        loss_text = f"{losses.mean():.3f} ± {losses.std():.2g}" if np.isfinite(losses).all() else "diverged"
        print(f"| {ln} | {lr:g} | {w} | {acc.mean():.1f} ± {acc.std():.1f} | {loss_text} | {collapsed}/{len(rs)} |")
    plot(results, lrs, warmups, args.out)
    print(f"\nwrote {args.out} ({time.perf_counter() - start:.0f} s)")
    return results


def plot(results: dict, lrs: list[float], warmups: list[int], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, ln in zip(axes, ("Post-LN", "Pre-LN"), strict=True):
        for lr in lrs:
            acc = np.array([[100 * r["acc"] for r in results[(ln, lr, w)]] for w in warmups])
            ax.errorbar(
                [max(w, 1) for w in warmups],
                acc.mean(1),
                yerr=acc.std(1),
                marker="o",
                capsize=3,
                label=f"peak lr {lr:g}",
            )
        ax.set_xscale("log")
        ax.set_xticks([max(w, 1) for w in warmups], [str(w) for w in warmups])
        ax.set_xlabel("warmup steps")
        ax.set_title(ln)
        ax.legend()
    axes[0].set_ylabel("token accuracy (%), mean ± std")
    fig.suptitle("Sorting with a 6-layer Transformer: Post-LN needs warmup")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
