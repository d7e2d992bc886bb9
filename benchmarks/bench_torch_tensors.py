"""Torch tensors: lrkit on a 10M-step torch tensor vs the same formula hand-written in torch (float64, CPU).

The blocks of ``bench_curves``, evaluated as ``s(torch.arange(n))`` (int64 steps, float64 result,
what lrkit returns for integer steps) against the textbook torch expression of the same formula,
which converts the steps to float64 too: naive (one op per whole tensor, how torch code is usually
written), and run on slices of lrkit's block size (16 Ki steps), as lrkit evaluates large CPU
tensors.  Rounds interleave lrkit and the hand code; the table prints medians and their ratios
(target: lrkit / hand torch <= 1.2x).  One intra-op thread, so that both sides are timed the same
way on a shared machine.
"""

from __future__ import annotations

import math
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

N = 10_000_000


def hand_cases(n: int) -> list[tuple[str, Callable[[Any], Any]]]:
    """The hand-written torch expression of each bench_curves schedule (``n``: their length, 10M)."""
    import torch

    def warmup_cosine(t: Any) -> Any:
        t = t.to(torch.float64)
        w, d = 1_000_000.0, n - 1_000_000.0
        p = torch.clamp(t - w, 0.0, d) / d
        c = 0.5 * (1.0 + torch.cos(math.pi * p))
        return torch.where(t < w, 1e-3 * t / w, 1e-3 * c + 1e-5 * (1.0 - c))

    def multistep(t: Any) -> Any:
        levels = torch.tensor([1e-3, 1e-4, 1e-5, 1e-6], dtype=torch.float64)
        return levels[
            torch.searchsorted(torch.tensor([3e6, 6e6, 9e6], dtype=torch.float64), t.to(torch.float64), right=True)
        ]

    def one_cycle(t: Any) -> Any:
        t = t.to(torch.float64)
        e1, e2 = 0.3 * n - 1, n - 1.0
        hi, lo, end = 0.1, 0.1 / 25, 0.1 / 25 / 1e4
        p1 = torch.clamp(t / e1, 0.0, 1.0)
        p2 = torch.clamp((t - e1) / (e2 - e1), 0.0, 1.0)
        up = hi + (lo - hi) / 2 * (torch.cos(math.pi * p1) + 1)
        down = end + (hi - end) / 2 * (torch.cos(math.pi * p2) + 1)
        return torch.where(t <= e1, up, down)

    def join3(t: Any) -> Any:
        t = t.to(torch.float64)
        a, b = 500_000.0, 8_000_000.0
        ramp = 1e-3 * t / a
        decay = 1e-3 * (1.0 - torch.clamp(t - b, max=n - b) / (n - b))
        return torch.where(t < a, ramp, torch.where(t < b, torch.full_like(t, 1e-3), decay))

    def step(t: Any) -> Any:
        return 1e-3 * 0.5 ** torch.floor(t.to(torch.float64) / 1_000_000.0)

    def exponential(t: Any) -> Any:
        return 1e-3 * 0.96 ** (t.to(torch.float64) / 100_000.0)

    def restarts(t: Any) -> Any:
        t = t.to(torch.float64)
        i = torch.floor(t / 100_000.0)
        x = (t - i * 100_000.0) / 100_000.0
        return 1e-3 * 0.5 * (1.0 + torch.cos(math.pi * x))

    return [
        ("warmup + cosine", warmup_cosine),
        ("multistep", multistep),
        ("one_cycle", one_cycle),
        ("join of 3 pieces", join3),
        ("step", step),
        ("exponential", exponential),
        ("cosine_restarts", restarts),
    ]


def _bench_curves() -> Any:
    # its schedule objects (built for N steps; the quick run evaluates the first steps) and its timer
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import bench_curves
    finally:
        sys.path.pop(0)
    return bench_curves


def blocked(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The hand code run on slices of lrkit's block size into one output tensor (what lrkit does on CPU)."""
    from lrkit.base import _BLOCK as BLOCK

    def run(t: Any) -> Any:
        out = None
        for a in range(0, t.numel(), BLOCK):
            value = fn(t[a : a + BLOCK])
            if out is None:
                out = value.new_empty(t.shape)
            out[a : a + BLOCK] = value
        return out

    return run


def main(argv: list[str] | None = None) -> None:
    import torch

    quick = "--quick" in (argv or [])
    n = 200_000 if quick else N
    rounds = 1 if quick else 7
    torch.set_num_threads(1)
    curves = _bench_curves()
    schedules = {name: s for name, s, _ in curves.CASES}
    timed = curves.timed
    t = torch.arange(n)
    print(f"{n:,} steps (int64 tensor, CPU, 1 thread), median of {rounds} interleaved rounds\n")
    print("| schedule | lrkit | hand torch | lrkit / hand torch | hand in blocks | lrkit / blocks |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, hand in hand_cases(N):
        s = schedules[name]
        got, want = s(t), hand(t)
        assert got.dtype == torch.float64 and torch.allclose(got, want, rtol=1e-9, atol=1e-15), name
        hand_blocks = blocked(hand)
        times: dict[str, list[float]] = {"lrkit": [], "hand": [], "blocks": []}
        for _ in range(rounds):
            times["lrkit"].append(timed(lambda s=s: s(t)))
            times["hand"].append(timed(lambda hand=hand: hand(t)))
            times["blocks"].append(timed(lambda hb=hand_blocks: hb(t)))
        m = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"| {name} | {m['lrkit'] * 1e3:.0f} ms | {m['hand'] * 1e3:.0f} ms | {m['lrkit'] / m['hand']:.2f}x "
            f"| {m['blocks'] * 1e3:.0f} ms | {m['lrkit'] / m['blocks']:.2f}x |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
