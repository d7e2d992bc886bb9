"""The Scheduler's per-update fast paths (``lrkit.torch._plan``) write exactly the reference values.

The reference is the plain evaluation: ``schedule._eval(float(t), SCALAR)`` (the interpreted formula,
written once), times the plateau scale, times each group's base, the products in the order
``Scheduler._apply`` documents (``base * (s(t) * scale)``).  Every plan shape is covered: one group, many
groups with one base or with different bases, a plateau, tensor values (written in place), an int value,
``count="calls"`` and the default, generated code and the closures (an untraceable schedule), and random
compositions (hypothesis).  ``==`` on the same floats, no tolerance.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.test_properties import schedules

import lrkit
from lrkit._backend import SCALAR
from lrkit.base import Schedule
from lrkit.torch import Scheduler

S = lrkit.warmup(lrkit.cosine(1.0, steps=60), steps=10, prefix=False)


class zero_at_start_for_torch_tests(Schedule):
    """``0`` at step 0, then ``value``: ``==`` on the step cannot be traced, so the plan keeps its closures."""

    spec_name = "zero_at_start_for_torch_tests"

    def __init__(self, value: float) -> None:
        self._init(value=float(value))

    def _eval(self, t: Any, xp: Any) -> Any:
        return xp.where(t == 0, 0.0, self.value)


def reference(schedule: Schedule, base: float, t: int, scale: float = 1.0) -> float:
    r = schedule._eval(float(t), SCALAR)
    return base * (float(r) * scale) if scale != 1.0 else base * float(r)


def make_opt(bases: list[float], tensor: bool = False) -> torch.optim.Optimizer:
    groups = [
        {"params": [torch.nn.Parameter(torch.ones(2))], "lr": torch.tensor(b, dtype=torch.float64) if tensor else b}
        for b in bases
    ]
    return torch.optim.SGD(groups, lr=0.1)


def run_updates(opt: torch.optim.Optimizer, sched: Scheduler, n: int, cadence: str) -> list[list[float]]:
    """The LRs each applied update ran at (read in a pre-hook registered before the scheduler's work)."""
    seen: list[list[float]] = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append([float(g["lr"]) for g in o.param_groups]))
    for i in range(n):
        for p in (p for g in opt.param_groups for p in g["params"]):
            p.grad = torch.ones_like(p)
        opt.step()
        if cadence == "update" or (cadence == "epoch" and i % 4 == 3):
            sched.step()
    return seen


def uses_generated_code(sched: Scheduler) -> bool:
    write = sched._write
    return write is not None and write.__code__.co_filename.startswith("<lrkit.torch write")


@pytest.mark.parametrize("cadence", ["update", "epoch", "never"])
@pytest.mark.parametrize(
    "bases",
    [[0.1], [0.1] * 16, [0.1, 0.05, 0.3, 0.02]],
    ids=["one group", "16 groups, one base", "4 groups, own bases"],
)
def test_every_update_runs_at_exactly_the_reference_value(bases: list[float], cadence: str) -> None:
    opt = make_opt(bases)
    sched = Scheduler(opt, factor=S)
    assert uses_generated_code(sched)
    seen = run_updates(opt, sched, 40, cadence)
    for k, lrs in enumerate(seen):
        assert lrs == [reference(S, b, k) for b in bases], k
    assert sched.updates_applied == 40
    if cadence != "never":
        assert sched.get_last_lr() == [reference(S, b, 40) for b in bases]


@pytest.mark.parametrize("bases", [[0.1], [0.1, 0.1, 0.1], [0.1, 0.05]])
def test_count_calls_writes_exactly_the_reference_value(bases: list[float]) -> None:
    opt = make_opt(bases)
    sched = Scheduler(opt, factor=S, count="calls")
    for t in range(1, 30):
        sched.step()
        assert [g["lr"] for g in opt.param_groups] == [reference(S, b, t) for b in bases]
        assert sched.get_last_lr() == [reference(S, b, t) for b in bases]


@pytest.mark.parametrize("count", ["updates", "calls"])
def test_plateau_scale_is_applied_exactly(count: str) -> None:
    opt = make_opt([0.1, 0.2])
    plateau = lrkit.Plateau(factor=0.5, patience=0)
    sched = Scheduler(opt, factor=S, plateau=plateau, count=count)
    sched.report(1.0)
    sched.report(2.0)  # worse: the scale drops to 0.5
    assert plateau.scale == 0.5
    for t in range(1, 20):
        if count == "updates":
            for p in (p for g in opt.param_groups for p in g["params"]):
                p.grad = torch.ones_like(p)
            opt.step()
        sched.step()
        assert [g["lr"] for g in opt.param_groups] == [reference(S, b, t, 0.5) for b in (0.1, 0.2)]


def test_setting_a_plateau_after_construction_is_planned() -> None:
    opt = make_opt([0.1])
    sched = Scheduler(opt, factor=S, count="calls")
    plateau = lrkit.Plateau(factor=0.25, patience=0)
    sched.plateau = plateau
    sched.report(1.0)
    sched.report(2.0)
    sched.step()
    assert opt.param_groups[0]["lr"] == reference(S, 0.1, 1, 0.25)
    with pytest.raises(TypeError, match=r"plateau must be an lrkit\.Plateau"):
        sched.plateau = 0.5  # type: ignore[assignment]


def test_tensor_values_are_written_in_place_exactly() -> None:
    opt = make_opt([0.1, 0.2], tensor=True)
    tensors = [g["lr"] for g in opt.param_groups]
    sched = Scheduler(opt, factor=S)
    run_updates(opt, sched, 12, "update")
    assert [g["lr"] for g in opt.param_groups] == tensors  # the same objects
    assert [float(t) for t in tensors] == [reference(S, b, 12) for b in (0.1, 0.2)]


def test_a_value_replaced_by_a_tensor_is_written_in_place_again() -> None:
    # the plan stores floats without looking; a tensor swapped in by hand is seen at the next update
    opt = make_opt([0.1])
    sched = Scheduler(opt, factor=S)
    run_updates(opt, sched, 3, "update")
    lr = torch.tensor(0.0, dtype=torch.float64)
    opt.param_groups[0]["lr"] = lr
    run_updates(opt, sched, 2, "update")
    assert opt.param_groups[0]["lr"] is lr and float(lr) == reference(S, 0.1, 5)


def test_an_int_value_becomes_the_reference_float() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1)
    sched = Scheduler(opt, factor=S, count="calls")
    sched.step()
    assert opt.param_groups[0]["lr"] == reference(S, 1.0, 1) and type(opt.param_groups[0]["lr"]) is float


def test_an_untraceable_schedule_keeps_the_closures_with_the_same_values() -> None:
    s = zero_at_start_for_torch_tests(1.0)
    opt = make_opt([0.1, 0.1])
    sched = Scheduler(opt, factor=s)
    assert sched._write is not None and not uses_generated_code(sched)
    seen = run_updates(opt, sched, 8, "update")
    assert seen == [[0.0, 0.0]] + [[0.1, 0.1]] * 7  # 0.1 * 0.0 and 0.1 * 1.0, by hand


def test_the_optimizer_does_not_keep_a_discarded_scheduler_alive() -> None:
    opt = make_opt([0.1])
    ref = weakref.ref(Scheduler(opt, factor=S))
    gc.collect()
    assert ref() is None
    opt.step()  # the hook finds no scheduler: nothing to write, no error


def test_one_hook_per_update_and_no_pre_hook() -> None:
    opt = make_opt([0.1])
    Scheduler(opt, factor=S)
    assert len(opt._optimizer_step_pre_hooks) == 0 and len(opt._optimizer_step_post_hooks) == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    s=schedules(),
    bases=st.lists(st.sampled_from([0.1, 0.02, 1.0, 3e-4]), min_size=1, max_size=4),
    start=st.integers(0, 2**40),
)
def test_random_compositions_write_exactly_the_reference_values(s: Schedule, bases: list[float], start: int) -> None:
    opt = make_opt(bases)
    sched = Scheduler(opt, factor=s)
    sched.set_step(start)
    seen = run_updates(opt, sched, 5, "update")
    for k, lrs in enumerate(seen):
        assert lrs == [reference(s, b, start + k) for b in bases], (s, start + k)


@pytest.mark.parametrize("bases", [[0.1], [0.1, 0.05]])
def test_get_last_lr_keeps_torchs_meaning_while_the_next_values_are_written_ahead(bases: list[float]) -> None:
    # HF's Trainer logs get_last_lr() after optimizer.step() and before lr_scheduler.step(): the LR of the
    # update just applied.  The groups already hold the next update's values (written by the post-hook).
    opt = make_opt(bases)
    sched = Scheduler(opt, factor=S)
    for k in range(12):
        for p in (p for g in opt.param_groups for p in g["params"]):
            p.grad = torch.ones_like(p)
        opt.step()
        assert sched.get_last_lr() == [reference(S, b, k) for b in bases], k
        assert [g["lr"] for g in opt.param_groups] == [reference(S, b, k + 1) for b in bases], k
        sched.step()
        assert sched.get_last_lr() == [reference(S, b, k + 1) for b in bases], k
