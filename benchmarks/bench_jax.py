"""lrkit under ``jax.jit`` vs optax's own equivalent schedules (jax without x64, int32 steps).

Each row times the same schedule two ways, both jitted: the lrkit schedule
(built by ``lrkit.compat.optax``, optax's names and parameters) and optax's own
function.  Two workloads: a vector of 1M int32 steps (compute-bound) and one
int32 step, the call ``optax`` makes once per update inside a jitted train
step (dispatch-bound).  Vectors go through ``jax.vmap`` on both sides (some
optax schedules only take a scalar count).  Rounds are interleaved (lrkit, optax, lrkit, ...) and
the ratio is of the medians, so machine noise hits both sides alike.

    python benchmarks/bench_jax.py [--rounds 15] [--steps 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

TOTAL = 1_000_000


def pairs() -> list[tuple[str, Any, Any]]:
    """(name, lrkit schedule, optax schedule): the same schedule, once from each library."""
    import optax

    from lrkit.compat import optax as lo

    t = TOTAL
    specs: list[tuple[str, str, dict[str, Any]]] = [
        ("constant_schedule", "constant_schedule", {"value": 1e-3}),
        ("linear_schedule", "linear_schedule", {"init_value": 0.0, "end_value": 1e-3, "transition_steps": t // 10}),
        ("cosine_decay_schedule", "cosine_decay_schedule", {"init_value": 1e-3, "decay_steps": t, "alpha": 0.1}),
        (
            "exponential_decay",
            "exponential_decay",
            {"init_value": 1e-3, "transition_steps": 1000, "decay_rate": 0.99, "end_value": 1e-5},
        ),
        (
            "exponential_decay staircase",
            "exponential_decay",
            {"init_value": 1e-3, "transition_steps": 1000, "decay_rate": 0.99, "staircase": True},
        ),
        (
            "piecewise_constant_schedule (multistep)",
            "piecewise_constant_schedule",
            {"init_value": 1e-3, "boundaries_and_scales": {t // 4: 0.5, t // 2: 0.5, 3 * t // 4: 0.1}},
        ),
        (
            "polynomial_schedule",
            "polynomial_schedule",
            {"init_value": 1e-3, "end_value": 1e-5, "power": 2.0, "transition_steps": t},
        ),
        (
            "warmup_cosine_decay_schedule",
            "warmup_cosine_decay_schedule",
            {"init_value": 0.0, "peak_value": 1e-3, "warmup_steps": t // 50, "decay_steps": t, "end_value": 1e-5},
        ),
        (
            "warmup_exponential_decay_schedule",
            "warmup_exponential_decay_schedule",
            {"init_value": 0.0, "peak_value": 1e-3, "warmup_steps": 1000, "transition_steps": 1000, "decay_rate": 0.99},
        ),
        (
            "piecewise_interpolate_schedule",
            "piecewise_interpolate_schedule",
            {"interpolate_type": "cosine", "init_value": 1e-3, "boundaries_and_scales": {t // 4: 0.5, t // 2: 0.1}},
        ),
        ("cosine_onecycle_schedule", "cosine_onecycle_schedule", {"transition_steps": t, "peak_value": 1e-3}),
        ("linear_onecycle_schedule", "linear_onecycle_schedule", {"transition_steps": t, "peak_value": 1e-3}),
    ]
    out = []
    for name, fn, kwargs in specs:
        if not hasattr(lo, fn):
            continue
        out.append((name, getattr(lo, fn)(**kwargs), getattr(optax, fn)(**kwargs)))
    return out


def interleaved_medians(a: Callable[[], Any], b: Callable[[], Any], rounds: int, number: int) -> tuple[float, float]:
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(rounds):
        for fn, times in ((a, times_a), (b, times_b)):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - start) / number)
    return statistics.median(times_a), statistics.median(times_b)


def main(argv: list[str] | None = None) -> list[tuple[str, float, float, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3 rounds of 100k steps")
    parser.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)  # run.py passes it to every bench
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 3, 100_000
    try:
        import jax
        import jax.numpy as jnp
        import optax
    except ImportError:
        print("bench_jax: jax/optax not installed, skipped")
        return []

    vector = jnp.arange(args.steps, dtype=jnp.int32)
    scalar = jnp.asarray(123_456, dtype=jnp.int32)
    print(
        f"jax {jax.__version__}, optax {optax.__version__}, x64 {jax.config.jax_enable_x64}; medians of "
        f"{args.rounds} interleaved rounds; ratio = lrkit / optax (below 1.00: lrkit faster)"
    )
    print()
    print(f"| schedule | {args.steps} steps: lrkit | optax | ratio | 1 step: lrkit | optax | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = []
    for name, ours, theirs in pairs():
        fa, fb = jax.jit(ours), jax.jit(theirs)
        # Vectors through vmap on both sides: some optax schedules only take a scalar count.
        va_fn, vb_fn = jax.jit(jax.vmap(ours)), jax.jit(jax.vmap(theirs))
        for f, x in ((fa, scalar), (fb, scalar), (va_fn, vector), (vb_fn, vector)):  # compile and warm up
            f(x).block_until_ready()
        va, vb = interleaved_medians(
            lambda f=va_fn: f(vector).block_until_ready(), lambda f=vb_fn: f(vector).block_until_ready(), args.rounds, 3
        )
        sa, sb = interleaved_medians(
            lambda fa=fa: fa(scalar).block_until_ready(), lambda fb=fb: fb(scalar).block_until_ready(), args.rounds, 200
        )
        rows.append((name, va, vb, sa, sb))
        print(
            f"| {name} | {va * 1e3:.3f} ms | {vb * 1e3:.3f} ms | {va / vb:.2f}x "
            f"| {sa * 1e6:.2f} µs | {sb * 1e6:.2f} µs | {sa / sb:.2f}x |"
        )
        sys.stdout.flush()
    return rows


if __name__ == "__main__":
    main()
