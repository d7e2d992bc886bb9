"""``lrkit.compat.deepspeed`` against the real ``deepspeed.runtime.lr_schedules``, step by step.

DeepSpeed installs on the CPU without building ops (``DS_BUILD_OPS=0``, its
default when torch is not importable at build time) and its schedules run on a
plain torch optimizer.  Each comparison builds the genuine scheduler on a torch
SGD optimizer and steps it after each ``optimizer.step()``, as the DeepSpeed
engine does; at every step the group's LR must equal ``s(t)``.  Far steps are
reached with DeepSpeed's own ``step(last_batch_iteration)`` argument.

Tolerance: float64 on both sides, different operation orders: 1e-12 relative
to the peak.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.compat import deepspeed as compat

torch = pytest.importorskip("torch")
lr_schedules = pytest.importorskip("deepspeed.runtime.lr_schedules")
logging.getLogger("DeepSpeed").setLevel(logging.ERROR)

REL = 1e-12


def peer_lrs(make: Callable[[Any], Any], steps: int, far: tuple[int, ...], lr: float = 0.1) -> np.ndarray:
    """The LR of updates 0..steps-1 (then at each step in ``far``) under the real DeepSpeed scheduler."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = make(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    for t in far:
        # update t runs at DeepSpeed's last_batch_iteration = t - 1 (the module's counting)
        sched.step(t - 1)
        out.append(opt.param_groups[0]["lr"])
    return np.array(out, dtype=float)


def check(schedule: lrkit.Schedule, make: Callable[[Any], Any], steps: int, peak: float, lr: float = 0.1) -> None:
    far = (steps + 3, 10**6)
    want = peer_lrs(make, steps, far, lr)
    t = np.concatenate([np.arange(steps), far])
    np.testing.assert_allclose(schedule(t), want, rtol=0, atol=REL * peak)
    assert [schedule(int(k)) for k in t[::7]] == pytest.approx(list(schedule(t[::7])), rel=1e-15)


WARMUPS = [
    dict(warmup_min_lr=0.0, warmup_max_lr=1e-3, warmup_num_steps=10),
    dict(warmup_min_lr=1e-4, warmup_max_lr=1e-3, warmup_num_steps=1),  # DeepSpeed counts 1 as 2
    dict(warmup_min_lr=1e-4, warmup_max_lr=1e-3, warmup_num_steps=2),
    dict(warmup_min_lr=2e-3, warmup_max_lr=1e-3, warmup_num_steps=7),  # a falling "warmup"
    dict(warmup_min_lr=0.0, warmup_max_lr=5e-4, warmup_num_steps=37),
]


@pytest.mark.parametrize("kw", WARMUPS)
def test_warmup_lr_linear(kw: dict[str, Any]) -> None:
    s = compat.WarmupLR(**kw, warmup_type="linear")
    check(s, lambda o: lr_schedules.WarmupLR(o, **kw, warmup_type="linear"), 60, 2e-3)


@pytest.mark.parametrize("kw", WARMUPS)
def test_warmup_lr_log(kw: dict[str, Any]) -> None:  # DeepSpeed's default warmup_type
    s = compat.WarmupLR(**kw)
    check(s, lambda o: lr_schedules.WarmupLR(o, **kw, warmup_type="log"), 60, 2e-3)


def test_log_warmup_hand_checked() -> None:
    # update t at DeepSpeed's index i = t - 1: 1e-3 * log(i + 1) / log(10); exactly 1e-3 from t = W = 10
    s = compat.WarmupLR(warmup_max_lr=1e-3, warmup_num_steps=10)
    assert s(0) == s(1) == 0.0 and s(5) == pytest.approx(1e-3 * math.log(5) / math.log(10), rel=1e-15)
    assert s(9) < 1e-3 and s(10) == 1e-3 and s(10**9) == 1e-3


@pytest.mark.parametrize("kw", [{**w, "total_num_steps": 50} for w in WARMUPS])
def test_warmup_decay_lr_log(kw: dict[str, Any]) -> None:
    s = compat.WarmupDecayLR(**kw)
    check(s, lambda o: lr_schedules.WarmupDecayLR(o, **kw, warmup_type="log"), 70, 2e-3)


def test_warmup_lr_reads_the_optimizer_lr_as_lr() -> None:
    s = compat.WarmupLR(warmup_num_steps=10, warmup_type="linear", lr=0.05)
    check(s, lambda o: lr_schedules.WarmupLR(o, warmup_num_steps=10, warmup_type="linear"), 30, 0.05, lr=0.05)


def test_the_first_two_updates_share_a_value() -> None:
    # DeepSpeed's constructor sets the LR for last_batch_iteration = -1 (warmup_min_lr), the first
    # step() for 0, where the ramp (t - 1) / W is still 0: updates 0 and 1 run at the same LR.
    s = compat.WarmupLR(warmup_min_lr=1e-4, warmup_max_lr=1e-3, warmup_num_steps=10, warmup_type="linear")
    assert s(0) == s(1) == 1e-4 and s(2) == pytest.approx(1e-4 + 9e-4 / 10, rel=1e-15)
    assert s(10) == pytest.approx(1e-4 + 9e-4 * 9 / 10, rel=1e-15) and s(11) == 1e-3


@pytest.mark.parametrize(
    "kw",
    [
        *({**w, "total_num_steps": 50} for w in WARMUPS),
        dict(total_num_steps=10, warmup_min_lr=1e-4, warmup_max_lr=1e-3, warmup_num_steps=10),  # T == W
        dict(total_num_steps=4, warmup_min_lr=1e-4, warmup_max_lr=1e-3, warmup_num_steps=10),  # T < W
        dict(total_num_steps=11, warmup_min_lr=0.0, warmup_max_lr=1e-3, warmup_num_steps=10),  # 1-step decay
    ],
)
def test_warmup_decay_lr_linear(kw: dict[str, Any]) -> None:
    s = compat.WarmupDecayLR(**kw, warmup_type="linear")
    check(s, lambda o: lr_schedules.WarmupDecayLR(o, **kw, warmup_type="linear"), 70, 2e-3)


@pytest.mark.parametrize(
    "kw",
    [
        dict(total_num_steps=100, warmup_num_steps=10),
        dict(total_num_steps=100, warmup_num_steps=10, warmup_min_ratio=0.1, cos_min_ratio=0.0),
        dict(total_num_steps=100, warmup_num_steps=1, cos_min_ratio=0.5),  # W counts as 2
        dict(total_num_steps=10, warmup_num_steps=10),  # T == W: N = 1
        dict(total_num_steps=3, warmup_num_steps=10, warmup_min_ratio=0.3),  # T < W
        dict(total_num_steps=57, warmup_num_steps=13, warmup_min_ratio=1.0),
    ],
)
@pytest.mark.parametrize("kind", ["linear", "log"])
def test_warmup_cosine_lr(kw: dict[str, Any], kind: str) -> None:
    make = lambda o: lr_schedules.WarmupCosineLR(o, **kw, warmup_type=kind)  # noqa: E731
    check(compat.WarmupCosineLR(**kw, warmup_type=kind, lr=0.1), make, 120, 0.1)
    m = compat.WarmupCosineLR(**kw, warmup_type=kind)
    assert m.is_multiplier
    check(lrkit.scale(m, 0.1), make, 120, 0.1)


def test_warmup_cosine_lr_log_hand_checked() -> None:
    # DeepSpeed's default warmup_type="log": ratio(i) = 0.2 + 0.8 * log(i + 1) / log(10) at i = t - 1 < W = 10
    s = compat.WarmupCosineLR(110, 0.2, 10, cos_min_ratio=0.0)
    assert s(0) == 0.0 and s(1) == 0.2
    assert s(5) == pytest.approx(0.2 + 0.8 * math.log(5) / math.log(10), rel=1e-15)
    assert s(10) == 1.0  # i = W - 1: log(W) / log(W), exactly the peak
    assert s(11) == pytest.approx((1 + math.cos(math.pi / 100)) / 2, rel=1e-15)


def test_warmup_cosine_lr_hand_checked() -> None:
    s = compat.WarmupCosineLR(110, 0.2, 10, cos_min_ratio=0.0, warmup_type="linear")
    assert s(0) == 0.0  # update 0 runs at 0, not warmup_min_ratio
    assert s(1) == pytest.approx(0.2) and s(10) == pytest.approx(0.2 + 0.8 * 9 / 10, rel=1e-15)
    assert s(11) == pytest.approx((1 + math.cos(math.pi / 100)) / 2, rel=1e-15)  # the cosine clock starts at 1
    assert s(60) == pytest.approx(0.5, rel=1e-14) and s(110) == 0.0 and s(10**7) == 0.0


@pytest.mark.parametrize(
    "kw",
    [
        dict(cycle_min_lr=1e-4, cycle_max_lr=1e-3, cycle_first_step_size=10),
        dict(cycle_min_lr=1e-4, cycle_max_lr=1e-3, cycle_first_step_size=7, cycle_second_step_size=13),
        dict(cycle_min_lr=1e-4, cycle_max_lr=1e-3, cycle_first_step_size=5, cycle_second_step_size=0),
        dict(cycle_min_lr=1e-4, cycle_max_lr=1e-3, cycle_first_step_size=10, decay_lr_rate=0.5, decay_step_size=3),
        dict(cycle_min_lr=1e-4, cycle_max_lr=1e-3, cycle_first_step_size=10, decay_lr_rate=0.5),  # no decay_step_size
        dict(cycle_min_lr=1e-3, cycle_max_lr=1e-3, cycle_first_step_size=1, cycle_second_step_size=1),
        # stairs: DeepSpeed's floor(c * n / F) / n rising, floor((C - c) * m / S) / m falling
        dict(cycle_min_lr=1e-4, cycle_max_lr=1e-3, cycle_first_step_size=10, cycle_first_stair_count=5),
        dict(
            cycle_min_lr=1e-4,
            cycle_max_lr=1e-3,
            cycle_first_step_size=12,
            cycle_second_step_size=8,
            cycle_first_stair_count=3,
            cycle_second_stair_count=4,
        ),
        dict(
            cycle_min_lr=1e-4,
            cycle_max_lr=1e-3,
            cycle_first_step_size=12,
            cycle_second_step_size=8,
            cycle_first_stair_count=3,
            cycle_second_stair_count=0,
        ),  # stairs up, continuous down
        dict(
            cycle_min_lr=1e-4,
            cycle_max_lr=1e-3,
            cycle_first_step_size=12,
            cycle_second_step_size=8,
            cycle_first_stair_count=0,
            cycle_second_stair_count=2,
        ),  # continuous up, stairs down
        dict(
            cycle_min_lr=1e-4,
            cycle_max_lr=1e-3,
            cycle_first_step_size=6,
            cycle_second_step_size=0,
            cycle_first_stair_count=3,
        ),  # no fall: zero-length phase
        dict(
            cycle_min_lr=1e-4,
            cycle_max_lr=1e-3,
            cycle_first_step_size=6,
            cycle_first_stair_count=6,
            decay_lr_rate=0.5,
            decay_step_size=3,
        ),  # stairs of one step, then the decay
        dict(cycle_min_lr=1e-4, cycle_max_lr=1e-3, cycle_first_step_size=20, cycle_first_stair_count=1),  # one stair
        # a fall of one update (S = 1): none lies inside the cycle, so the decay follows the peak at once
        dict(
            cycle_min_lr=1e-4,
            cycle_max_lr=1e-3,
            cycle_first_step_size=1,
            cycle_second_step_size=1,
            cycle_first_stair_count=1,
        ),
        dict(
            cycle_min_lr=1e-4,
            cycle_max_lr=1e-3,
            cycle_first_step_size=4,
            cycle_second_step_size=1,
            cycle_first_stair_count=2,
            cycle_second_stair_count=0,
            decay_lr_rate=0.5,
            decay_step_size=3,
        ),
        dict(
            cycle_min_lr=1e-4,
            cycle_max_lr=1e-3,
            cycle_first_step_size=6,
            cycle_second_step_size=1,
            cycle_first_stair_count=0,
            cycle_second_stair_count=3,  # more stairs than fall steps: DeepSpeed never reads it
        ),
    ],
)
def test_one_cycle(kw: dict[str, Any]) -> None:
    check(compat.OneCycle(**kw), lambda o: lr_schedules.OneCycle(o, **kw), 60, 1e-3)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(lr_range_test_min_lr=1e-5, lr_range_test_step_size=3, lr_range_test_step_rate=2.5),
        dict(lr_range_test_min_lr=1e-2, lr_range_test_step_size=1, lr_range_test_step_rate=0.0),
        dict(lr_range_test_staircase=True, lr_range_test_step_size=7, lr_range_test_step_rate=0.5),
        dict(lr_range_test_staircase=True, lr_range_test_step_size=1),
    ],
)
def test_lr_range_test(kw: dict[str, Any]) -> None:
    s = compat.LRRangeTest(**kw)
    want = peer_lrs(lambda o: lr_schedules.LRRangeTest(o, **kw), 40, (10**6,))
    t = np.array([*range(40), 10**6])
    np.testing.assert_allclose(s(t), want, rtol=1e-13, atol=0)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: compat.WarmupCosineLR(100, warmup_type="exp"), ValueError, r"warmup_type"),
        (lambda: compat.WarmupLR(warmup_type="linear"), ValueError, r"at least one of warmup_max_lr or lr"),
        (lambda: compat.WarmupLR(warmup_max_lr=1e-3, warmup_type="cos"), ValueError, r"warmup_type"),
        (lambda: compat.WarmupLR(warmup_max_lr=1e-3, warmup_num_steps=0, warmup_type="linear"), ValueError, r">= 1"),
        (lambda: compat.WarmupLR(warmup_max_lr=[1e-3], warmup_type="linear"), TypeError, r"warmup_max_lr"),
        (lambda: compat.WarmupDecayLR(100, warmup_type="linear", last_batch_iteration=5), ValueError, r"resume"),
        (lambda: compat.WarmupCosineLR(100, warmup_type="linear", cos_min_ratio=2), ValueError, r"cos_min_ratio"),
        (lambda: compat.OneCycle(1e-4, 1e-3, cycle_first_stair_count=3), ValueError, r"cycle_first_stair_count=3"),
        (lambda: compat.OneCycle(1e-4, 1e-3, cycle_first_step_size=0), ValueError, r"cycle_first_step_size"),
    ],
)
def test_refusals_name_the_parameter(make: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_stairs_by_hand() -> None:
    # LRRangeTest staircase: 1e-3 * (1 + 0.5 * floor(t / 7))
    s = compat.LRRangeTest(lr_range_test_staircase=True, lr_range_test_step_size=7, lr_range_test_step_rate=0.5)
    assert [s(t) for t in (0, 6, 7, 13, 14)] == pytest.approx([1e-3, 1e-3, 1.5e-3, 1.5e-3, 2e-3], rel=1e-15)
    # OneCycle F = S = 10, 5 stairs each way: 1e-4 + 9e-4 * floor(c / 2) / 5 up, floor((20 - c) / 2) / 5 down
    o = compat.OneCycle(1e-4, 1e-3, cycle_first_step_size=10, cycle_first_stair_count=5)
    want = [1e-4 + 9e-4 * (c // 2 if c <= 10 else (20 - c) // 2) / 5 for c in range(20)]
    assert [o(t) for t in range(20)] == pytest.approx(want, rel=1e-14)
    assert o(10) == 1e-3 and o(11) < 1e-3 and o(20) == 1e-4


@pytest.mark.parametrize(
    "spec",
    [
        "deepspeed.WarmupLR(warmup_max_lr=1e-3, warmup_type='linear')",
        "deepspeed.WarmupCosineLR(100, warmup_num_steps=10, warmup_type='linear')",
        "deepspeed.WarmupCosineLR(100, warmup_num_steps=10)",
        "deepspeed.OneCycle(1e-4, 1e-3, decay_lr_rate=0.1, cycle_first_step_size=10, decay_step_size=5)",
    ],
)
def test_by_name_in_specs_and_round_trips(spec: str) -> None:
    s = lrkit.parse(spec)
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s
