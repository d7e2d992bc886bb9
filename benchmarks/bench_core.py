"""Core evaluation speed: lrkit vs hand-written NumPy/math and vs stepping torch's schedulers.

Run: ``python benchmarks/bench_core.py``.  Prints a markdown table of medians
(of ``--repeat`` timings) and ratios measured in this same run.  A ratio is
baseline time / lrkit time: above 1 means lrkit is faster.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import timeit
from collections.abc import Callable

import numpy as np

import lrkit

WARMUP, TOTAL, PEAK = 1_000, 40_000, 1e-3


def schedule() -> lrkit.Schedule:
    """Linear warmup from 0, then cosine to 0, TOTAL steps in all (optax's ``warmup_cosine_decay_schedule``)."""
    return lrkit.warmup(lrkit.cosine(PEAK, steps=TOTAL - WARMUP), steps=WARMUP, prefix=True)


def numpy_baseline(t: np.ndarray) -> np.ndarray:
    """The same curve written by hand in NumPy (the floor for vectorized evaluation)."""
    t = t.astype(np.float64)
    progress = np.minimum(np.maximum(t - WARMUP, 0.0), TOTAL - WARMUP) / (TOTAL - WARMUP)
    cos = 0.5 * (1.0 + np.cos(math.pi * progress)) * PEAK
    return np.where(t < WARMUP, t / WARMUP * PEAK, cos)


def math_baseline(t: int) -> float:
    """The same curve by hand with ``math`` (the floor for one scalar step)."""
    if t < WARMUP:
        return t / WARMUP * PEAK
    return 0.5 * (1.0 + math.cos(math.pi * min(t - WARMUP, TOTAL - WARMUP) / (TOTAL - WARMUP))) * PEAK


def median_seconds(fn: Callable[[], object], number: int, repeat: int) -> float:
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeat)) / number


def paired_seconds(
    ours: Callable[[], object], theirs: Callable[[], object], number: int, repeat: int
) -> tuple[float, float]:
    """Medians of interleaved rounds (ours, theirs, ours, ...): both see the same machine load."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeat):
        a.append(timeit.timeit(ours, number=number) / number)
        b.append(timeit.timeit(theirs, number=number) / number)
    return statistics.median(a), statistics.median(b)


def torch_curve(steps: int) -> list[float] | None:
    """The curve torch users compute today: step a SequentialLR and read the LR."""
    try:
        import torch
    except ImportError:
        return None
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=PEAK)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-8, end_factor=1.0, total_iters=WARMUP)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=TOTAL - WARMUP)
    seq = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[WARMUP])
    out = []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            seq.step()
    return out


def main(argv: list[str] | None = None) -> list[tuple[str, float, str, float]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (smoke test)")
    args, _ = parser.parse_known_args(argv)
    repeat = 3 if args.quick else args.repeat
    s = schedule()
    rows: list[tuple[str, float, str, float]] = []

    t = np.arange(1_000_000)
    assert np.allclose(s(t), numpy_baseline(t), rtol=1e-12, atol=0), "lrkit and the baseline disagree"
    lk, base = paired_seconds(lambda: s(t), lambda: numpy_baseline(t), 3, repeat)
    rows.append(("1M steps, vectorized (NumPy)", lk, "hand-written NumPy", base))

    assert all(s(i) == s(np.array([i]))[0] for i in (0, 999, 1000, 40_000))
    lk, base = paired_seconds(lambda: s(12_345), lambda: math_baseline(12_345), 20_000, repeat)
    rows.append(("one step, scalar", lk, "hand-written math", base))

    steps = 40_000 if not args.quick else 4_000
    if torch_curve(10) is not None:
        lk = median_seconds(lambda: s(np.arange(steps)), 1, repeat)
        base = median_seconds(lambda: torch_curve(steps), 1, max(1, repeat // 2))
        rows.append((f"whole curve, {steps} steps", lk, "torch SequentialLR stepped", base))

    optax_rows = _optax_rows(s, repeat)
    rows.extend(optax_rows)

    print("| what | lrkit | baseline | baseline time | speed-up (baseline / lrkit) |")
    print("|---|---:|---|---:|---:|")
    for what, lk, name, base in rows:
        print(f"| {what} | {_fmt(lk)} | {name} | {_fmt(base)} | {base / lk:.2f}x |")
    return rows


def _optax_rows(s: lrkit.Schedule, repeat: int) -> list[tuple[str, float, str, float]]:
    """lrkit under ``jax.jit`` vs optax's own warmup-cosine, both jitted, 1M steps."""
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError:
        return []
    t = jnp.arange(1_000_000)
    ours = jax.jit(s)
    theirs = jax.jit(optax.warmup_cosine_decay_schedule(0.0, PEAK, WARMUP, TOTAL))
    diff = float(jnp.max(jnp.abs(ours(t) - theirs(t))))
    assert diff < 1e-9, f"lrkit and optax disagree by {diff}"
    ours(t).block_until_ready(), theirs(t).block_until_ready()  # compile both first
    lk, base = paired_seconds(lambda: ours(t).block_until_ready(), lambda: theirs(t).block_until_ready(), 5, repeat)
    return [("1M steps, jax.jit", lk, "optax warmup_cosine_decay_schedule", base)]


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


if __name__ == "__main__":
    main(sys.argv[1:])
