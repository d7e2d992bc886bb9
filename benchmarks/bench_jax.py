"""lrkit under ``jax.jit`` vs optax's own equivalent schedules (jax without x64, int32 steps).

Each row times the same schedule two ways, both jitted: the lrkit schedule
(built by ``lrkit.compat.optax``, optax's names and parameters) and optax's own
function.  Two workloads: a vector of 1M int32 steps (compute-bound) and one
int32 step, the call ``optax`` makes once per update inside a jitted train
step (dispatch-bound).  Vectors go through ``jax.vmap`` on both sides (some
optax schedules only take a scalar count), so both sides are the same jitted
call: one int32 array in, one float32 array of its shape out.  Rounds alternate
the order (lrkit optax, optax lrkit, ...) and the ratio is the median of the
per-round ratios, so machine noise hits both sides alike.

    python benchmarks/bench_jax.py [--rounds 21] [--steps 1000000]
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


def paired(a: Callable[[], Any], b: Callable[[], Any], rounds: int, number: int) -> tuple[float, float, float]:
    """``(median a, median b, median of the per-round ratios a / b)``.

    Rounds alternate the order (a b, b a, a b, ...) so neither side always runs first after the
    other's caches and clocks, and the ratio is taken within each round before the median: on a
    shared machine a burst of load hits both halves of a round, not one side's whole sample.
    """
    times_a: list[float] = []
    times_b: list[float] = []
    ratios: list[float] = []
    for r in range(rounds):
        pair: dict[str, float] = {}
        for name, fn in (("a", a), ("b", b)) if r % 2 == 0 else (("b", b), ("a", a)):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            pair[name] = (time.perf_counter() - start) / number
        times_a.append(pair["a"])
        times_b.append(pair["b"])
        ratios.append(pair["a"] / pair["b"])
    return statistics.median(times_a), statistics.median(times_b), statistics.median(ratios)


def main(argv: list[str] | None = None) -> list[tuple[str, float, float, float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
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
        f"{args.rounds} alternating rounds; ratio = median of per-round lrkit / optax (below 1.00: lrkit faster)"
    )
    print()
    print(f"| schedule | {args.steps} steps: lrkit | optax | ratio | 1 step: lrkit | optax | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    rows = []
    # The control row: optax's constant against a second jit of itself, the same executable on both
    # sides. Its ratio is the noise floor of this machine; a row within it of 1.00 is a tie.
    control = optax.constant_schedule(1e-3)
    for name, ours, theirs in [("(control: optax vs optax)", control, lambda count: control(count)), *pairs()]:
        fa, fb = jax.jit(ours), jax.jit(theirs)
        # Vectors through vmap on both sides: some optax schedules only take a scalar count.
        va_fn, vb_fn = jax.jit(jax.vmap(ours)), jax.jit(jax.vmap(theirs))
        for f, x in ((fa, scalar), (fb, scalar), (va_fn, vector), (vb_fn, vector)):  # compile and warm up
            f(x).block_until_ready()
        va, vb, vr = paired(
            lambda f=va_fn: f(vector).block_until_ready(),
            lambda f=vb_fn: f(vector).block_until_ready(),
            args.rounds,
            10,
        )
        sa, sb, sr = paired(
            lambda fa=fa: fa(scalar).block_until_ready(), lambda fb=fb: fb(scalar).block_until_ready(), args.rounds, 200
        )
        rows.append((name, va, vb, sa, sb))
        print(
            f"| {name} | {va * 1e3:.3f} ms | {vb * 1e3:.3f} ms | {vr:.2f}x "
            f"| {sa * 1e6:.2f} µs | {sb * 1e6:.2f} µs | {sr:.2f}x |"
        )
        sys.stdout.flush()
    return rows


if __name__ == "__main__":
    main()
