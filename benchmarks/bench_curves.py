"""Whole curves: lrkit on 10M steps vs the same formula hand-written in NumPy, naive and in blocks; scaling.

Every ratio is measured in the same run: rounds interleave lrkit, the naive
hand-written expression and the hand code run in lrkit's blocks (``lrkit.base._BLOCK``, 16 Ki
steps), and the
tables print medians.  Peak memory is NumPy's allocations during one call
(tracemalloc), as a multiple of the 80 MB output array.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

import lrkit
from lrkit.base import _BLOCK

N = 10_000_000
BLOCK = _BLOCK  # the hand code in blocks uses lrkit's block size: the ratio then measures the formulas alone


# -- the hand-written NumPy baselines: the textbook expression of each formula -------------
def hand_warmup_cosine(t: np.ndarray) -> np.ndarray:
    t = t.astype(np.float64)
    w, d = 1_000_000.0, 9_000_000.0
    p = np.minimum(np.maximum(t - w, 0.0), d) / d
    c = 0.5 * (1.0 + np.cos(math.pi * p))
    return np.where(t < w, 1e-3 * t / w, 1e-3 * c + 1e-5 * (1.0 - c))


def hand_multistep(t: np.ndarray) -> np.ndarray:
    levels = np.array([1e-3, 1e-4, 1e-5, 1e-6])
    return levels[np.searchsorted(np.array([3e6, 6e6, 9e6]), t, side="right")]


def hand_one_cycle(t: np.ndarray) -> np.ndarray:
    t = t.astype(np.float64)
    e1, e2 = 0.3 * N - 1, N - 1.0
    hi, lo, end = 0.1, 0.1 / 25, 0.1 / 25 / 1e4
    p1 = np.clip(t / e1, 0.0, 1.0)
    p2 = np.clip((t - e1) / (e2 - e1), 0.0, 1.0)
    up = hi + (lo - hi) / 2 * (np.cos(math.pi * p1) + 1)
    down = end + (hi - end) / 2 * (np.cos(math.pi * p2) + 1)
    return np.where(t <= e1, up, down)


def hand_join3(t: np.ndarray) -> np.ndarray:
    t = t.astype(np.float64)
    a, b = 500_000.0, 8_000_000.0
    ramp = 1e-3 * t / a
    decay = 1e-3 * (1.0 - np.minimum(t - b, N - b) / (N - b))
    return np.where(t < a, ramp, np.where(t < b, 1e-3, decay))


def hand_step(t: np.ndarray) -> np.ndarray:
    return 1e-3 * 0.5 ** np.floor(t / 1_000_000.0)


def hand_exponential(t: np.ndarray) -> np.ndarray:
    return 1e-3 * 0.96 ** (t / 100_000.0)


def hand_restarts(t: np.ndarray) -> np.ndarray:
    t = t.astype(np.float64)
    i = np.floor(t / 100_000.0)
    x = (t - i * 100_000.0) / 100_000.0
    return 1e-3 * 0.5 * (1.0 + np.cos(math.pi * x))


CASES: list[tuple[str, lrkit.Schedule, Callable[[np.ndarray], np.ndarray]]] = [
    (
        "warmup + cosine",
        lrkit.warmup(lrkit.cosine(1e-3, floor=1e-5), steps=1_000_000).resolve(total_steps=N),
        hand_warmup_cosine,
    ),
    ("multistep", lrkit.multistep(1e-3, [3_000_000, 6_000_000, 9_000_000], 0.1), hand_multistep),
    ("one_cycle", lrkit.one_cycle(0.1, N), hand_one_cycle),
    (
        "join of 3 pieces",
        lrkit.join(
            [lrkit.linear(0.0, 1e-3, 500_000), lrkit.constant(1e-3), lrkit.linear(1e-3, 0.0, N - 8_000_000)],
            [500_000, 8_000_000],
        ),
        hand_join3,
    ),
    ("step", lrkit.step(1e-3, 1_000_000, 0.5), hand_step),
    ("exponential", lrkit.exponential(1e-3, 100_000, 0.96), hand_exponential),
    ("cosine_restarts", lrkit.cosine_restarts(1e-3, 100_000), hand_restarts),
]


def blocked(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    def run(t: np.ndarray) -> np.ndarray:
        out = np.empty(t.shape, dtype=np.float64)
        for a in range(0, t.size, BLOCK):
            out[a : a + BLOCK] = fn(t[a : a + BLOCK])
        return out

    return run


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def curves(rounds: int, n: int) -> None:
    t = np.arange(n, dtype=np.int64)
    print(f"{n:,} steps (int64 array), median of {rounds} interleaved rounds\n")
    print("| schedule | lrkit | hand NumPy | lrkit / hand | hand in blocks | lrkit / blocks | peak memory / output |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, s, hand in CASES:
        assert np.allclose(s(t[:: max(n // 1000, 1)]), hand(t[:: max(n // 1000, 1)]), rtol=1e-9, atol=1e-15), name
        hand_blocks = blocked(hand)
        times: dict[str, list[float]] = {"lrkit": [], "hand": [], "blocks": []}
        for _ in range(rounds):
            times["lrkit"].append(timed(lambda s=s: s(t)))
            times["hand"].append(timed(lambda hand=hand: hand(t)))
            times["blocks"].append(timed(lambda hb=hand_blocks: hb(t)))
        m = {k: statistics.median(v) for k, v in times.items()}
        memory = peak_bytes(lambda s=s: s(t)) / (8 * n)
        print(
            f"| {name} | {m['lrkit'] * 1e3:.0f} ms | {m['hand'] * 1e3:.0f} ms | {m['lrkit'] / m['hand']:.2f}x "
            f"| {m['blocks'] * 1e3:.0f} ms | {m['lrkit'] / m['blocks']:.2f}x | {memory:.2f}x |"
        )


def scaling(rounds: int) -> None:
    print("\nScaling with the number of milestones / pieces (scalar step: µs; 1M-step curve: ms)\n")
    print("| size | multistep, one step | multistep, 1M steps | join, one step | join, 1M steps |")
    print("|---:|---:|---:|---:|---:|")
    t = np.arange(1_000_000, dtype=np.int64)
    for size in (10, 100, 1000, 10_000):
        ms = lrkit.multistep(1.0, list(range(50, 50 * size + 1, 50)), 0.999)
        pieces = [lrkit.constant(1.0 / (k + 1)) for k in range(min(size, 2000))]
        join = lrkit.join(pieces, [50 * (k + 1) for k in range(len(pieces) - 1)])
        row = [f"{size:,}"]
        for s in (ms, join):
            steps = [int(x) for x in np.random.default_rng(0).integers(0, 50 * size, 1000)]
            s(0)
            one = statistics.median(timed(lambda s=s, steps=steps: [s(k) for k in steps]) for _ in range(rounds))
            whole = statistics.median(timed(lambda s=s: s(t)) for _ in range(rounds))
            row += [f"{one / len(steps) * 1e6:.2f}", f"{whole * 1e3:.1f}"]
        note = "" if size <= 2000 else " (join: 2,000 pieces)"
        print(f"| {row[0]}{note} | {row[1]} | {row[2]} | {row[3]} | {row[4]} |")


def main(argv: list[str] | None = None) -> None:
    quick = "--quick" in (argv or [])
    curves(rounds=1 if quick else 7, n=200_000 if quick else N)
    scaling(rounds=1 if quick else 5)


if __name__ == "__main__":
    main(sys.argv[1:])
