"""Goyal et al. (2017) in miniature: a 32x batch with the linearly scaled LR, and no / constant / gradual warmup.

A BatchNorm MLP trained with SGD (momentum 0.9, weight decay 1e-4) on
scikit-learn's bundled digits (1297 train / 500 test).  The baseline uses a
small batch ``b`` and LR ``η``; the large-batch runs use ``32 b`` and the linear
scaling rule ``32 η`` (Goyal et al.), with

* no warmup;
* constant warmup: ``η`` for 5 epochs, then ``32 η``
  (``warmup(..., start_factor=1/32, method="constant", prefix=False)``);
* gradual warmup: linear from ``η`` to ``32 η`` over 5 epochs
  (``warmup(..., start_factor=1/32, method="linear", prefix=False)``).

Every run decays by 10x at 2/3 and 5/6 of training (``multistep``, milestones
in epochs; the warmup multiplies the schedule, so the milestones stay put).
Prints test error and the loss spike at the end of warmup (the largest
epoch-mean training loss in epochs 6-8 divided by that of epoch 5; above 1:
the loss rose after the warmup), mean ± std over seeds; writes ``docs/images/warmup_large_batch.png``.

    python examples/warmup_large_batch.py            # 3 seeds, about a minute on 2 cores
    python examples/warmup_large_batch.py --quick    # CI size

Reference: Goyal et al. 2017, "Accurate, Large Minibatch SGD: Training
ImageNet in 1 Hour" (arXiv:1706.02677).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch

import lrkit
from lrkit.torch import Scheduler

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
K = 32  # the batch multiplier
WARMUP_EPOCHS = 5


def load_digits() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    x = torch.tensor(data.data / 16.0, dtype=torch.float32)
    y = torch.tensor(data.target)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(1234))
    x, y = x[perm], y[perm]
    return x[:1297], y[:1297], x[1297:], y[1297:]


def mlp(width: int) -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Linear(64, width),
        torch.nn.BatchNorm1d(width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, width),
        torch.nn.BatchNorm1d(width),
        torch.nn.ReLU(),
        torch.nn.Linear(width, 10),
    )


def schedules(base_lr: float, spe_small: int, spe_large: int, epochs: int) -> dict[str, tuple[int, lrkit.Schedule]]:
    """(batch multiplier, schedule) per run: lrkit builds every LR."""
    drops = [round(epochs * 2 / 3), round(epochs * 5 / 6)]

    def decay(lr: float, spe: int) -> lrkit.Schedule:
        return lrkit.multistep(lr, milestones=[d * spe for d in drops], gamma=0.1)

    big = decay(K * base_lr, spe_large)
    w = WARMUP_EPOCHS * spe_large
    return {
        "batch b, lr η": (1, decay(base_lr, spe_small)),
        f"{K}b, {K}η, no warmup": (K, big),
        f"{K}b, {K}η, constant warmup": (
            K,
            lrkit.warmup(big, steps=w, start_factor=1 / K, method="constant", prefix=False),
        ),
        f"{K}b, {K}η, gradual warmup": (
            K,
            lrkit.warmup(big, steps=w, start_factor=1 / K, method="linear", prefix=False),
        ),
    }


def train(
    data: tuple[torch.Tensor, ...], mult: int, schedule: lrkit.Schedule, batch: int, epochs: int, width: int, seed: int
) -> dict[str, object]:
    xtr, ytr, xte, yte = data
    torch.manual_seed(seed)
    model = mlp(width)
    opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9, weight_decay=1e-4)
    sched = Scheduler(opt, lr=schedule)
    b = batch * mult
    spe = len(xtr) // b  # drop the last partial batch: every update sees b examples
    losses: list[float] = []
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(spe):
            idx = perm[i * b : (i + 1) * b]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
    model.eval()
    with torch.no_grad():
        err = float((model(xte).argmax(1) != yte).float().mean())
    # the loss per epoch (mean over that epoch's updates): comparable across batch sizes
    per_epoch = np.array(losses).reshape(epochs, spe)
    # the spike: the worst epoch-mean loss of the 3 epochs after the warmup over that of its last epoch
    # (epoch means, so a small batch's noisier single losses do not count as spikes)
    epoch_loss = per_epoch.mean(1)
    before = float(epoch_loss[WARMUP_EPOCHS - 1])
    after = float(np.max(epoch_loss[WARMUP_EPOCHS : WARMUP_EPOCHS + 3]))
    return {"err": err, "epoch_loss": epoch_loss, "spike": after / before, "diverged": not math.isfinite(after)}


def fmt(values: list[float], scale: float = 1.0, digits: int = 3) -> str:
    v = np.array(values, dtype=float) * scale
    if not np.isfinite(v).all():
        return f"{int((~np.isfinite(v)).sum())} diverged"
    return f"{v.mean():.{digits}g} ± {v.std():.2g}"


def main(argv: list[str] | None = None) -> dict[str, list[dict[str, object]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size: fewer epochs and seeds")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=8, help="the small batch b (the large one is 32 b)")
    parser.add_argument("--base-lr", type=float, default=0.05, help="η, the small batch's LR")
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--out", default=str(IMAGES / "warmup_large_batch.png"))
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.seeds = 9, 2
    torch.set_num_threads(1)
    start = time.perf_counter()
    data = load_digits()
    n = len(data[0])
    runs = schedules(args.base_lr, n // args.batch, n // (K * args.batch), args.epochs)
    results = {
        label: [train(data, mult, s, args.batch, args.epochs, args.width, seed) for seed in range(args.seeds)]
        for label, (mult, s) in runs.items()
    }
    print(f"BatchNorm MLP, SGD(momentum 0.9), digits, {args.epochs} epochs, {args.seeds} seeds")
    print(f"b = {args.batch}, η = {args.base_lr:g}; warmup over the first {WARMUP_EPOCHS} epochs\n")
    print("| run | test error (%) | loss spike: max(epochs 6-8) / epoch 5 | schedule |")
    print("|---|---:|---:|---|")
    for label, rs in results.items():
        spikes = [r["spike"] for r in rs]
        print(f"| {label} | {fmt([r['err'] for r in rs], 100)} | {fmt(spikes)} | `{runs[label][1]!r}` |")
    plot(results, runs, args.out)
    print(f"\nwrote {args.out} ({time.perf_counter() - start:.0f} s)")
    return results


def plot(results: dict, runs: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for label, rs in results.items():
        curves = np.array([r["epoch_loss"] for r in rs])
        epochs = np.arange(1, curves.shape[1] + 1)
        m = curves.mean(0)
        a.plot(epochs, m, label=label)
        a.fill_between(epochs, curves.min(0), curves.max(0), alpha=0.2)
    a.axvline(WARMUP_EPOCHS, color="gray", linestyle=":", linewidth=1)
    a.set_yscale("log")
    a.set_xlabel("epoch")
    a.set_ylabel("training loss (epoch mean; band: min-max over seeds)")
    a.set_title("Large batch: linear scaling rule and warmup")
    a.legend(fontsize=8)
    labels = list(results)
    errs = [100 * np.array([r["err"] for r in results[k]]) for k in labels]
    b.bar(
        range(len(labels)),
        [e.mean() for e in errs],
        yerr=[e.std() for e in errs],
        color=[f"C{i}" for i in range(len(labels))],
    )
    b.set_xticks(range(len(labels)), [k.replace(", ", "\n") for k in labels], fontsize=7)
    b.set_ylabel("test error (%), mean ± std")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
