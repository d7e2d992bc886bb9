"""The seed's PyTorch training script, with lrkit: ``--lrepochs`` + WarmupMultiStepLR.

A real (tiny) training loop: a linear model fit to synthetic data with SGD.
The LR schedule is the seed's: linear warmup over 500 iterations from 1/3 of
the LR, then the LR divided by 2 at epochs 10, 12, 14 and 16 (``--lrepochs
"10,12,14,16:2"``), the epochs turned into iterations with ``len(train_loader)``.
``scheduler.step()`` is called after ``optimizer.step()``, as in the seed.

Every iteration checks that the optimizer's LR is exactly the closed form
``lrkit.warmup(lrkit.multistep(...), ..., prefix=False)`` at that step.

    python examples/seed_training_loop.py --epochs 18 --batches-per-epoch 50
"""

from __future__ import annotations

import argparse

import torch

import lrkit
from lrkit.torch import WarmupMultiStepLR


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--lrepochs", type=str, default="10,12,14,16:2", help="epoch ids to downscale lr and the rate")
    parser.add_argument("--epochs", type=int, default=18)
    parser.add_argument("--batches-per-epoch", type=int, default=50)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    x = torch.randn(args.batches_per_epoch * 32, 8)
    y = x @ torch.randn(8, 1) + 0.1 * torch.randn(len(x), 1)
    train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=32, shuffle=True)
    model = torch.nn.Linear(8, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)

    milestones, gamma = lrkit.parse_lrepochs(args.lrepochs, steps_per_epoch=len(train_loader))
    scheduler = WarmupMultiStepLR(optimizer, milestones, gamma=gamma, warmup_factor=1.0 / 3, warmup_iters=500)
    expected = lrkit.warmup(
        lrkit.multistep(args.lr, milestones=milestones, gamma=gamma), steps=500, start_factor=1.0 / 3, prefix=False
    )

    step = 0
    loss = torch.tensor(float("nan"))
    for epoch in range(args.epochs):
        for xb, yb in train_loader:
            lr = optimizer.param_groups[0]["lr"]
            assert abs(lr - expected(step)) <= 1e-15 * expected(step), (step, lr, expected(step))
            loss = torch.nn.functional.mse_loss(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()  # after optimizer.step()
            step += 1
        print(f"epoch {epoch:2d}  lr {optimizer.param_groups[0]['lr']:.6f}  loss {loss.item():.5f}")
    print(f"{step} iterations; every LR matched {expected!r}")
    return loss.item()


if __name__ == "__main__":
    main()
