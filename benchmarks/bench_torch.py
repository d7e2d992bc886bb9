"""Cost of one scheduler step: lrkit.torch.Scheduler vs torch's SequentialLR vs the hand-written floor.

Run: ``python benchmarks/bench_torch.py`` (``--quick`` for a smoke run).  Prints a
markdown table of medians (of ``--repeat`` timings, in µs per step) and ratios
measured in this same run.  The schedule is linear warmup then cosine decay on
one param group, the most common recipe:

* lrkit: ``Scheduler(opt, factor=warmup(cosine(1.0, T), W, prefix=False), count=...)``.
  ``count="calls"`` times ``step()`` alone; ``count="updates"`` (the default)
  also pays for the optimizer post-hook that counts a real update, which is
  simulated here by bumping the count the hook bumps (the pre-hook, which finds
  the values already written when ``step()`` follows every update, runs inside
  ``optimizer.step()`` and is not timed here).
* torch: ``SequentialLR([LinearLR, CosineAnnealingLR])``, the usual way.
* floor: ``math.cos`` and the ``group["lr"] = ...`` assignment, nothing else.

Targets (issue 3): lrkit >= 4x faster than SequentialLR, within 3x of the floor.
Optional ``--compile``: wall time of 300 ``torch.compile``d Adam steps driven by
lrkit with a tensor LR vs torch's LinearLR+CosineAnnealingLR with a float LR
(which recompiles); slow on CPU because inductor compiles C++.  Caveat: the
first run (lrkit's) also pays inductor's cold start, and torch 2.13 makes a
float LR symbolic after one recompile, so this ratio is not yet a fair measure.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
import timeit
import warnings
from collections.abc import Callable
from typing import Any

import torch

import lrkit
from lrkit.torch import Scheduler

WARMUP, TOTAL, PEAK = 1_000, 1_000_000, 1e-3


def make_opt(lr: float | torch.Tensor = PEAK, groups: int = 1) -> torch.optim.Optimizer:
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))]} for _ in range(groups)], lr=lr)


def lrkit_stepper(count: str, groups: int = 1) -> Callable[[], None]:
    """One training-loop update's worth of lrkit: the optimizer hooks plus ``step()``, without the optimizer math."""
    opt = make_opt(groups=groups)
    schedule = lrkit.warmup(lrkit.cosine(1.0, steps=TOTAL), steps=WARMUP, prefix=False)
    sched = Scheduler(opt, factor=schedule, count=count)
    if count == "calls":
        return sched.step
    hooks = sched._tracker
    assert hooks is not None
    before, after, step = hooks.before, hooks.after, sched.step

    def update() -> None:
        before(opt, (), {})  # the pre-hook, at the start of optimizer.step()
        after(opt, (), {})  # the post-hook, at its end: one more update applied
        step()

    return update


def torch_stepper(groups: int = 1) -> Callable[[], None]:
    opt = make_opt(groups=groups)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-8, end_factor=1.0, total_iters=WARMUP)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=TOTAL)
    seq = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[WARMUP])
    opt._opt_called = True  # as after a real optimizer.step(): no "step before optimizer.step" warning
    return seq.step


def hf_stepper(groups: int = 1) -> Callable[[], None]:
    """HF's ``get_cosine_schedule_with_warmup``: a LambdaLR over a closure (a plain lambda without HF)."""
    opt = make_opt(groups=groups)
    try:
        from transformers import get_cosine_schedule_with_warmup

        sched = get_cosine_schedule_with_warmup(opt, WARMUP, TOTAL)
    except ImportError:  # pragma: no cover
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda t: t / WARMUP if t < WARMUP else 0.5 * (1 + math.cos(math.pi * (t - WARMUP) / TOTAL))
        )
    opt._opt_called = True
    return sched.step


def floor_stepper(groups: int = 1) -> Callable[[], None]:
    """The floor: ``math.cos`` once and one dict write per group, nothing else."""
    opt = make_opt(groups=groups)
    all_groups = opt.param_groups
    state = [0]

    def step() -> None:
        t = state[0] + 1
        state[0] = t
        cos = 0.5 * (1.0 + math.cos(math.pi * min(t, TOTAL) / TOTAL)) * PEAK
        lr = t / WARMUP * cos if t < WARMUP else cos
        for group in all_groups:
            group["lr"] = lr

    return step


def median_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    return statistics.median(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def _compiled_run(use_lrkit: bool, steps: int) -> tuple[float, int]:
    """Seconds for ``steps`` compiled Adam updates, and the number of graphs compiled."""
    from torch._dynamo.utils import counters

    torch.manual_seed(0)
    model = torch.nn.Linear(64, 64)
    opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(PEAK) if use_lrkit else PEAK)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    if use_lrkit:
        sched: Any = Scheduler(opt, factor=lrkit.warmup(lrkit.cosine(1.0, steps=steps), steps=steps // 5, prefix=False))
    else:
        warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-8, total_iters=steps // 5)
        cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[steps // 5])
    torch._dynamo.reset()
    counters.clear()
    step = torch.compile(opt.step)
    start = time.perf_counter()
    for _ in range(steps):
        step()
        sched.step()
    return time.perf_counter() - start, int(counters["stats"]["unique_graphs"])


def compile_wall(steps: int) -> dict[str, tuple[float, int]]:
    """lrkit + tensor LR vs torch's schedulers + float LR, compiled with inductor.

    Both configurations run once untimed first, so neither pays the compiler's
    cold start (loading inductor, the C++ toolchain) in the timed run; the timed
    runs then go in the order torch, lrkit.
    """
    for use_lrkit in (True, False):
        _compiled_run(use_lrkit, 10)
    return {
        "torch": _compiled_run(False, steps),
        "lrkit": _compiled_run(True, steps),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions (smoke test)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--compile", action="store_true", help="also time 300 compiled Adam steps (slow)")
    args, _ = parser.parse_known_args(argv)
    number, repeat = (2_000, 3) if args.quick else (20_000, args.repeat)

    warnings.simplefilter("ignore")  # torch's schedulers may warn; the timing is what matters here
    print(f"torch {torch.__version__}, median of {repeat} rounds x {number} updates, rows interleaved in each round\n")
    print("| one update of warmup+cosine | groups | µs/update | this / floor | SequentialLR / this | LambdaLR / this |")
    print("|---|---:|---:|---:|---:|---:|")
    for groups in (1, 16):
        rows = {
            "lrkit Scheduler (count='updates', default: hooks + step())": lrkit_stepper("updates", groups),
            "lrkit Scheduler.step() (count='calls')": lrkit_stepper("calls", groups),
            "torch SequentialLR([LinearLR, CosineAnnealingLR]).step()": torch_stepper(groups),
            "HF get_cosine_schedule_with_warmup (LambdaLR).step()": hf_stepper(groups),
            "floor: math.cos + group['lr'] = ... per group": floor_stepper(groups),
        }
        samples: dict[str, list[float]] = {name: [] for name in rows}
        for _ in range(repeat):  # interleaved: every row in every round, so load hits all rows alike
            for name, fn in rows.items():
                samples[name].append(timeit.timeit(fn, number=number) / number * 1e6)
        times = {name: statistics.median(v) for name, v in samples.items()}
        floor_t = times["floor: math.cos + group['lr'] = ... per group"]
        torch_t = times["torch SequentialLR([LinearLR, CosineAnnealingLR]).step()"]
        hf_t = times["HF get_cosine_schedule_with_warmup (LambdaLR).step()"]
        for name, t in times.items():
            print(f"| {name} | {groups} | {t:.3f} | {t / floor_t:.2f}x | {torch_t / t:.2f}x | {hf_t / t:.2f}x |")
    if args.compile:
        res = compile_wall(300)
        (ours, our_graphs), (theirs, their_graphs) = res["lrkit"], res["torch"]
        print("\n| 300 compiled Adam steps (inductor, after a warm-up) | seconds | graphs compiled |")
        print("|---|---:|---:|")
        print(f"| lrkit Scheduler, tensor LR | {ours:.2f} | {our_graphs} |")
        print(f"| torch SequentialLR, float LR | {theirs:.2f} | {their_graphs} |")
        print(f"| ratio torch / lrkit | {theirs / ours:.2f}x | |")


if __name__ == "__main__":
    main()
