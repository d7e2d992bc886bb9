"""Kalra & Barkeshli (2024) in miniature: warmup lowers sharpness, so a larger peak LR becomes stable.

Full-batch gradient descent on a ReLU MLP with a large initialization, MSE on
one-hot targets, scikit-learn's bundled digits.  The sharpness ``λ₀`` (top
Hessian eigenvalue, :func:`lrkit.torch.sharpness`) is measured at
initialization; the peak LR is ``c / λ₀`` for ``c`` in 4…256 (gradient descent
is stable on a quadratic only below ``c = 2``).  Each run uses the lrkit
schedule ``warmup(constant(c / λ₀), steps=W)`` with ``W`` in 0/100/500.

Prints, per (warmup, c): how many seeds diverged, the final training loss and
``λ_T · η / 2`` at the end (1 = the edge of stability), mean ± std over
seeds; writes ``docs/images/warmup_sharpness.png``.

    python examples/warmup_sharpness.py            # 3 seeds, about 1-2 minutes on 2 idle cores
    python examples/warmup_sharpness.py --quick    # CI size, well under a minute

Reference: Kalra & Barkeshli 2024, "Why Warmup the Learning Rate? Underlying
Mechanisms and Improvements" (arXiv:2406.09405).
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
from lrkit.torch import Scheduler, sharpness

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def load_digits(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits as sk_digits

    data = sk_digits()
    x = torch.tensor(data.data[:n] / 16.0, dtype=torch.float32)
    x = (x - x.mean(0)) / (x.std(0) + 1e-3)
    y = torch.nn.functional.one_hot(torch.tensor(data.target[:n]), 10).float()
    return x, y


def mlp(width: int, depth: int, init_scale: float, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    fan_in = 64
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, 10))
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for m in model:
            if isinstance(m, torch.nn.Linear):
                # He init times init_scale: a "large" initialization starts in the sharp regime
                m.weight.normal_(0.0, init_scale * math.sqrt(2.0 / m.in_features))
                m.bias.zero_()
    return model


def run(
    x: torch.Tensor,
    y: torch.Tensor,
    c: float,
    warmup_steps: int,
    steps: int,
    seed: int,
    args: argparse.Namespace,
    trace_every: int = 0,
) -> dict[str, object]:
    model = mlp(args.width, args.depth, args.init_scale, seed)

    def closure() -> torch.Tensor:
        return 0.5 * ((model(x) - y) ** 2).sum(1).mean()

    lam0 = sharpness(model, closure, iters=20)
    peak = c / lam0
    schedule = lrkit.warmup(lrkit.constant(peak), steps=warmup_steps, prefix=True)
    opt = torch.optim.SGD(model.parameters(), lr=peak)
    sched = Scheduler(opt, lr=schedule)
    first = float(closure().detach())
    trace: list[tuple[int, float, float]] = []
    loss = first
    diverged = False
    for t in range(steps):
        if trace_every and t % trace_every == 0:
            trace.append((t, schedule(t), sharpness(model, closure, iters=10)))
        opt.zero_grad()
        out = closure()
        out.backward()
        loss = float(out.detach())
        if not math.isfinite(loss) or loss > 1e3 * max(first, 1.0):
            diverged = True
            break
        opt.step()
        sched.step()
    lam_end = math.nan if diverged else sharpness(model, closure, iters=20)
    final = math.nan if diverged else float(closure().detach())
    return {
        "lam0": lam0,
        "peak": peak,
        "diverged": diverged,
        "loss": final,
        "ratio": lam_end * peak / 2,
        "trace": trace,
    }


def mean_std(values: list[float]) -> str:
    vals = [v for v in values if math.isfinite(v)]
    if not vals:
        return "-"
    return f"{np.mean(vals):.3g} ± {np.std(vals):.2g}"


def main(argv: list[str] | None = None) -> dict[tuple[int, float], list[dict[str, object]]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size: fewer steps, c values and seeds")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--examples", type=int, default=512)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--init-scale", type=float, default=2.0)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (one thread each)")
    parser.add_argument("--out", default=str(IMAGES / "warmup_sharpness.png"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cs = [4, 8, 16, 32, 64, 128, 256]
    warmups = [0, 100, 500]
    if args.quick:
        args.steps, args.seeds, args.examples = 300, 2, 256
        cs, warmups = [4, 16, 64, 256], [0, 150]
    start = time.perf_counter()
    x, y = load_digits(args.examples)
    keys = [(w, c) for w in warmups for c in cs]
    jobs = [(x, y, c, w, args.steps, seed, args) for w, c in keys for seed in range(args.seeds)]
    # sharpness over training, one seed: the warmup brings λ down as η rises (λ·η/2 stays near 1)
    c_trace = 64 if 64 in cs else cs[-1]
    jobs += [(x, y, c_trace, w, args.steps, 0, args, max(args.steps // 20, 1)) for w in warmups]
    if args.jobs > 1:
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            flat = pool.starmap(run, jobs)
    else:
        flat = [run(*job) for job in jobs]
    results = {key: flat[i * args.seeds : (i + 1) * args.seeds] for i, key in enumerate(keys)}
    traces = dict(zip(warmups, flat[len(keys) * args.seeds :], strict=True))

    lam0s = [r["lam0"] for r in results[(warmups[0], cs[0])]]
    print(f"full-batch GD, MLP {args.depth}x{args.width} (init x{args.init_scale:g}), {args.examples} digits, MSE")
    print(f"{args.steps} steps, {args.seeds} seeds; sharpness at init λ0 = {mean_std(lam0s)}; peak lr = c / λ0\n")
    print("| warmup | c | diverged | final loss | λ_T·η/2 |")
    print("|---:|---:|---:|---:|---:|")
    for (w, c), rs in results.items():
        div = sum(bool(r["diverged"]) for r in rs)
        print(
            f"| {w} | {c} | {div}/{len(rs)} | {mean_std([r['loss'] for r in rs])} | "
            f"{mean_std([r['ratio'] for r in rs])} |"
        )

    plot(results, traces, cs, warmups, c_trace, args.out)
    print(f"\nwrote {args.out} ({time.perf_counter() - start:.0f} s)")
    return results


def plot(results: dict, traces: dict, cs: list[int], warmups: list[int], c_trace: int, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for w in warmups:
        means = []
        for c in cs:
            vals = [r["loss"] for r in results[(w, c)] if not r["diverged"]]
            means.append(np.mean(vals) if vals else np.nan)
        a.plot(cs, means, "o-", label=f"warmup {w}")
        dead = [c for c in cs if all(r["diverged"] for r in results[(w, c)])]
        a.plot(
            dead, [a.get_ylim()[1] if np.isfinite(means).any() else 1.0] * len(dead), "x", color=a.lines[-1].get_color()
        )
    a.set_xscale("log", base=2)
    a.set_yscale("log")
    a.set_xlabel("c = peak lr × λ0")
    a.set_ylabel("final training loss (x: every seed diverged)")
    a.set_title("Larger peak LRs train only with warmup")
    a.legend()
    for w, r in traces.items():
        tr = r["trace"]
        if tr:
            t, lr, lam = zip(*tr, strict=True)
            b.plot(
                t,
                np.array(lam) * np.array(lr) / 2,
                "o-",
                label=f"warmup {w}" + (" (diverged)" if r["diverged"] else ""),
            )
    b.axhline(1.0, color="gray", linestyle="--", linewidth=1)
    b.set_yscale("log")
    b.set_xlabel("step")
    b.set_ylabel("λ_t · η_t / 2  (1 = edge of stability)")
    b.set_title(f"c = {c_trace}, seed 0")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
