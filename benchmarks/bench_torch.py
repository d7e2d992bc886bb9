"""Cost of one scheduler step: lrkit.torch.Scheduler vs torch's SequentialLR vs the hand-written floor.

Run: ``python benchmarks/bench_torch.py`` (``--quick`` for a smoke run).  Prints a
markdown table of medians (of ``--repeat`` timings, in µs per step) and ratios
measured in this same run.  The schedule is linear warmup then cosine decay on
one param group, the most common recipe:

* lrkit: ``Scheduler(opt, factor=warmup(cosine(1.0, T), W), count=...)``.
  ``count="calls"`` times ``step()`` alone; ``count="updates"`` (the default)
  also pays for the optimizer post-hook that marks a real update, which is
  simulated here by setting the flag the hook sets.
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


def make_opt(lr: float | torch.Tensor = PEAK) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def lrkit_stepper(count: str) -> Callable[[], None]:
    opt = make_opt()
    sched = Scheduler(opt, factor=lrkit.warmup(lrkit.cosine(1.0, steps=TOTAL), steps=WARMUP), count=count)
    if count == "calls":
        return sched.step
    tracker = sched._tracker
    assert tracker is not None
    step = sched.step

    def stepped() -> None:
        tracker.stepped = True  # what the optimizer's post-hook does after a real update
        step()

    return stepped


def torch_stepper() -> Callable[[], None]:
    opt = make_opt()
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-8, end_factor=1.0, total_iters=WARMUP)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=TOTAL)
    seq = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[WARMUP])
    opt._opt_called = True  # as after a real optimizer.step(): no "step before optimizer.step" warning
    return seq.step


def floor_stepper() -> Callable[[], None]:
    opt = make_opt()
    group = opt.param_groups[0]
    state = [0]

    def step() -> None:
        t = state[0] + 1
        state[0] = t
        cos = 0.5 * (1.0 + math.cos(math.pi * min(t, TOTAL) / TOTAL)) * PEAK
        group["lr"] = t / WARMUP * cos if t < WARMUP else cos

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
        sched: Any = Scheduler(opt, factor=lrkit.warmup(lrkit.cosine(1.0, steps=steps), steps=steps // 5))
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
    rows = {
        "lrkit Scheduler.step() (count='calls')": lrkit_stepper("calls"),
        "lrkit Scheduler.step() (count='updates', default)": lrkit_stepper("updates"),
        "torch SequentialLR([LinearLR, CosineAnnealingLR]).step()": torch_stepper(),
        "floor: math.cos + group['lr'] = ...": floor_stepper(),
    }
    times = {name: median_us(fn, number, repeat) for name, fn in rows.items()}
    torch_t = times["torch SequentialLR([LinearLR, CosineAnnealingLR]).step()"]
    floor_t = times["floor: math.cos + group['lr'] = ..."]
    print(f"torch {torch.__version__}, median of {repeat} x {number} steps, one param group\n")
    print("| step of warmup+cosine | µs/step | torch / this | this / floor |")
    print("|---|---:|---:|---:|")
    for name, t in times.items():
        print(f"| {name} | {t:.3f} | {torch_t / t:.2f}x | {t / floor_t:.2f}x |")
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
