"""Cost of one training-loop update: lrkit.torch.Scheduler vs torch's SequentialLR, HF's LambdaLR and the floor.

Run: ``python benchmarks/bench_torch.py`` (``--quick`` for a smoke run).  Prints a
markdown table of medians (µs per update) and ratios measured in this same run.
The schedule is linear warmup then cosine decay (1 and 16 param groups sharing it).

Method: what a training loop pays per update.  lrkit's default
(``count="updates"``) does its work in an optimizer step post-hook, which
fires *inside* ``optimizer.step()``, so timing ``Scheduler.step()`` alone would
miss it.  Every row is therefore one update of a no-op optimizer (an
``Optimizer`` subclass whose ``step`` does nothing) followed by the row's
``step()``, and the cost of a row is its time minus the time of the same
update with no scheduler, measured in the same round (rounds interleave every
row; the reported value is the median over rounds of that per-round
difference).  The update runs torch's hook loop exactly as
``Optimizer.step``'s wrapper does (global and per-optimizer pre-hooks, the step,
post-hooks) but without the wrapper's profiler range: that range costs about
8 µs per update on this machine, the same with or without lrkit, and its
noise would swamp differences of a fraction of a µs.  ``--real-step`` times
the real ``optimizer.step()`` instead (same costs, noisier).  For noise-free
numbers, ``valgrind --tool=callgrind`` instruction counts of a real
``optimizer.step()`` loop agree with these ratios (issue 13's note).

Rows:

* lrkit, default: ``Scheduler(opt, factor=warmup(cosine(1.0, T), W, prefix=False))``:
  the post-hook counts the update and writes the next values, ``step()`` finds them written.
* lrkit, ``count="calls"``: no hook; ``step()`` evaluates and writes.
* torch: ``SequentialLR([LinearLR, CosineAnnealingLR])``, the usual way.
* HF: ``get_cosine_schedule_with_warmup`` (a ``LambdaLR``).
* floor: ``math.cos`` of the hand-written warmup+cosine formula and one
  ``group["lr"] = ...`` per group, nothing else.

Targets (issue 13): the default mode <= 1.2x the floor with 1 group, <= 1.5x with 16.
Optional ``--compile``: wall time of 300 ``torch.compile``d Adam steps driven by
lrkit with a tensor LR vs torch's LinearLR+CosineAnnealingLR with a float LR
(which recompiles); slow on CPU because inductor compiles C++.  Caveat: the
first run (lrkit's) also pays inductor's cold start, and torch 2.13 makes a
float LR symbolic after one recompile, so this ratio is not a fair measure
(``bench_compile`` is).
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


class NoopOptimizer(torch.optim.Optimizer):
    """An optimizer whose update does nothing: ``step()`` is torch's wrapper (hooks, profiler range) only."""

    def __init__(self, groups: int = 1, lr: float = PEAK) -> None:
        super().__init__([{"params": [torch.nn.Parameter(torch.zeros(1))]} for _ in range(groups)], {"lr": lr})

    def step(self, closure: Any = None) -> None:
        return None


REAL_STEP = False  # --real-step: time opt.step() itself, profiler range included


def optimizer_step(opt: torch.optim.Optimizer) -> Callable[[], None]:
    """``opt.step()`` as torch's ``Optimizer.profile_hook_step`` wrapper runs it, minus the profiler range."""
    if REAL_STEP:
        return opt.step
    from itertools import chain

    from torch.optim.optimizer import _global_optimizer_post_hooks, _global_optimizer_pre_hooks

    func = type(opt).step.__wrapped__  # the optimizer's own step, under torch's wrapper
    pre, post = opt._optimizer_step_pre_hooks, opt._optimizer_step_post_hooks

    def step() -> None:
        args: tuple[Any, ...] = (opt,)
        kwargs: dict[str, Any] = {}
        for pre_hook in chain(_global_optimizer_pre_hooks.values(), pre.values()):
            result = pre_hook(opt, args, kwargs)
            if result is not None:  # pragma: no cover - no such hook here
                args, kwargs = result
        func(*args, **kwargs)
        opt._optimizer_step_code()
        for post_hook in chain(post.values(), _global_optimizer_post_hooks.values()):
            post_hook(opt, args, kwargs)

    return step


def update_with(opt: torch.optim.Optimizer, after: Callable[[], object]) -> Callable[[], None]:
    """One training-loop update: the optimizer's step (hooks included), then ``after()`` (the scheduler's step)."""
    opt_step = optimizer_step(opt)

    def update() -> None:
        opt_step()
        after()

    return update


def bare_update(groups: int = 1) -> Callable[[], None]:
    """The baseline: the no-op optimizer's ``step()`` with no scheduler (subtracted from every row)."""
    opt = NoopOptimizer(groups)
    return update_with(opt, lambda: None)


def lrkit_update(count: str, groups: int = 1) -> Callable[[], None]:
    opt = NoopOptimizer(groups)
    schedule = lrkit.warmup(lrkit.cosine(1.0, steps=TOTAL), steps=WARMUP, prefix=False)
    return update_with(opt, Scheduler(opt, factor=schedule, count=count).step)


def torch_update(groups: int = 1) -> Callable[[], None]:
    opt = NoopOptimizer(groups)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1e-8, end_factor=1.0, total_iters=WARMUP)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=TOTAL)
    return update_with(opt, torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[WARMUP]).step)


def hf_update(groups: int = 1) -> Callable[[], None]:
    """HF's ``get_cosine_schedule_with_warmup``: a LambdaLR over a closure (a plain lambda without HF)."""
    opt = NoopOptimizer(groups)
    try:
        from transformers import get_cosine_schedule_with_warmup

        sched = get_cosine_schedule_with_warmup(opt, WARMUP, TOTAL)
    except ImportError:  # pragma: no cover
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda t: t / WARMUP if t < WARMUP else 0.5 * (1 + math.cos(math.pi * (t - WARMUP) / TOTAL))
        )
    return update_with(opt, sched.step)


def floor_update(groups: int = 1, hook: bool = False) -> Callable[[], None]:
    """The floor: ``math.cos`` of the hand-written formula once and one dict write per group, nothing else.

    ``hook=True`` also registers a no-op optimizer post-hook (a lambda): the least that any design counting
    updates from inside ``optimizer.step()`` pays on top of the floor.
    """
    opt = NoopOptimizer(groups)
    if hook:
        opt.register_step_post_hook(lambda o, a, k: None)
    all_groups = opt.param_groups
    state = [0]

    def step() -> None:
        t = state[0] + 1
        state[0] = t
        cos = 0.5 * (1.0 + math.cos(math.pi * min(t, TOTAL) / TOTAL)) * PEAK
        lr = t / WARMUP * cos if t < WARMUP else cos
        for group in all_groups:
            group["lr"] = lr

    return update_with(opt, step)


ROWS = {
    "lrkit Scheduler, default (count='updates': post-hook + step())": lambda g: lrkit_update("updates", g),
    "lrkit Scheduler, count='calls'": lambda g: lrkit_update("calls", g),
    "torch SequentialLR([LinearLR, CosineAnnealingLR])": torch_update,
    "HF get_cosine_schedule_with_warmup (LambdaLR)": hf_update,
    "floor: math.cos + group['lr'] = ... per group": floor_update,
    "floor + a no-op optimizer post-hook (the least a hook costs)": lambda g: floor_update(g, hook=True),
}
FLOOR, TORCH, HF = list(ROWS)[4], list(ROWS)[2], list(ROWS)[3]


def per_update_costs(groups: int, number: int, repeat: int) -> dict[str, float]:
    """Median over interleaved rounds of (row - bare optimizer step), in µs per update."""
    rows = {name: make(groups) for name, make in ROWS.items()}
    bare = bare_update(groups)
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(repeat):  # interleaved: every row in every round, so load hits all rows alike
        base = timeit.timeit(bare, number=number) / number * 1e6
        for name, fn in rows.items():
            samples[name].append(timeit.timeit(fn, number=number) / number * 1e6 - base)
    return {name: statistics.median(v) for name, v in samples.items()}


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
    parser.add_argument("--real-step", action="store_true", help="time the real optimizer.step() (noisier)")
    args, _ = parser.parse_known_args(argv)
    global REAL_STEP
    REAL_STEP = args.real_step
    number, repeat = (2_000, 3) if args.quick else (20_000, args.repeat)

    warnings.simplefilter("ignore")  # torch's schedulers may warn; the timing is what matters here
    print(
        f"torch {torch.__version__}, median of {repeat} interleaved rounds x {number} updates of a no-op optimizer "
        f"({'optimizer.step()' if REAL_STEP else 'its hook loop'}), minus the same update without a scheduler\n"
    )
    print("| one update of warmup+cosine | groups | µs/update | this / floor | SequentialLR / this | LambdaLR / this |")
    print("|---|---:|---:|---:|---:|---:|")
    for groups in (1, 16):
        times = per_update_costs(groups, number, repeat)
        floor_t, torch_t, hf_t = times[FLOOR], times[TORCH], times[HF]
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
