"""lrkit.torch.Scheduler when the loop or the checkpoint is not what it expects (issue 11).

* ``load_state_dict`` validates what it loads (ValueError naming the field; nothing changes on error);
* ``Scheduler(opt, s)`` and ``WarmupMultiStepLR``'s bad arguments give messages naming the user's parameters;
* ``optimizer.add_param_group()`` after construction: the new group is scheduled and checkpoints resume;
* ``step()`` with no update and no gradients (previewing by stepping) warns once.

Expected LRs are hand-derived next to each test: ``linear(1.0, 0.0, steps=10)`` is ``1 - t/10``.
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Any

import numpy as np
import pytest
import torch

import lrkit
from lrkit.torch import Plateau, Scheduler, WarmupMultiStepLR

S = lrkit.linear(1.0, 0.0, steps=10)  # s(t) = 1 - t/10


def s_of(t: int) -> float:
    return 1.0 - t / 10


def param() -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.zeros(2))


def lrs(opt: torch.optim.Optimizer) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


def update(opt: torch.optim.Optimizer) -> None:
    for g in opt.param_groups:
        for p in g["params"]:
            p.grad = torch.zeros_like(p)
    opt.step()


def roundtrip(obj: object) -> Any:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def two_groups() -> torch.optim.Optimizer:
    return torch.optim.SGD([{"params": [param()], "lr": 0.1}, {"params": [param()], "lr": 0.5}])


# -- load_state_dict validates --------------------------------------------------------------
def saved_state() -> dict[str, Any]:
    opt = two_groups()
    s = Scheduler(opt, factor=S, plateau=Plateau(patience=0))
    for _ in range(3):
        update(opt)
        s.step()
    return s.state_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"step": -5}, "state_dict step must be an int >= 0, got -5"),
        ({"step": 2.5}, "state_dict step must be an int >= 0, got 2.5"),
        ({"step": True}, "state_dict step must be an int >= 0, got True"),
        ({"step": "3"}, "state_dict step must be an int >= 0, got '3'"),
        ({"step_count": -1}, "state_dict step_count must be an int >= 0, got -1"),
        ({"base_values": [math.nan, 0.5]}, r"state_dict base_values\[0\] must be a finite number >= 0, got nan"),
        ({"base_values": [0.1, -1.0]}, r"state_dict base_values\[1\] must be a finite number >= 0, got -1.0"),
        ({"base_values": [0.1, math.inf]}, r"state_dict base_values\[1\] must be a finite number >= 0, got inf"),
        ({"base_values": [0.1, "x"]}, r"state_dict base_values\[1\] must be a number, got 'x'"),
        ({"base_values": [0.1]}, "state_dict base_values has 1 values, this optimizer has 2 param groups"),
        ({"base_values": 0.1}, "state_dict base_values must be a list of 2 numbers, got 0.1"),
        ({"base_values": None}, "state_dict base_values is None, but a factor-mode checkpoint"),
        ({"mode": "both"}, "state_dict mode must be 'factor' or 'value', got 'both'"),
        ({"schedules": "linear"}, "state_dict schedules must be a list of schedule dicts"),
        ({"schedules": [S.to_dict()]}, "the checkpoint drives 1 param groups, this optimizer has 2"),
        ({"schedules": [S.to_dict(), {"type": "nope"}]}, r"state_dict schedules\[1\] is not a valid schedule"),
        ({"schedules": [S.to_dict(), 3]}, r"state_dict schedules\[1\] must be a schedule dict, got 3"),
        ({"plateau": {"factor": 2.0}}, "state_dict plateau is not valid: factor must be in"),
        ({"plateau": {"speed": 1}}, "state_dict plateau is not valid"),
        ({"plateau_state": {"scale": 0.5}}, "state_dict plateau_state is not valid: plateau state is missing best"),
        ({"plateau_state": [1.0]}, "state_dict plateau_state must be a dict or None"),
        (
            {"plateau_state": {"scale": math.nan, "best": 1.0, "num_bad": 0, "cooldown_counter": 0, "reductions": 0}},
            "state_dict plateau_state is not valid: plateau state scale must be finite, got nan",
        ),
    ],
)
def test_load_state_dict_validates_and_changes_nothing_on_error(change: dict[str, Any], message: str) -> None:
    opt = two_groups()
    s = Scheduler(opt, factor=S, plateau=Plateau(patience=0), on_mismatch="checkpoint")
    update(opt)
    s.step()
    before = (s.last_epoch, lrs(opt), s.plateau.state(), s.base_lrs)
    with pytest.raises(ValueError, match=message):
        s.load_state_dict({**saved_state(), **change})
    assert (s.last_epoch, lrs(opt), s.plateau.state(), s.base_lrs) == before


@pytest.mark.parametrize("field", ["step", "mode", "hyperparam", "schedules", "plateau", "base_values"])
def test_a_partial_state_dict_is_a_value_error_naming_the_field(field: str) -> None:
    state = saved_state()
    del state[field]
    s = Scheduler(two_groups(), factor=S, plateau=Plateau(patience=0))
    with pytest.raises(ValueError, match=f"state_dict is missing {field}"):
        s.load_state_dict(state)


def test_a_valid_state_dict_still_loads_and_zero_bases_are_fine() -> None:
    opt = two_groups()
    s = Scheduler(opt, factor=S, plateau=Plateau(patience=0))
    s.load_state_dict(roundtrip(saved_state()))
    assert s.last_epoch == 3 and lrs(opt) == pytest.approx([0.1 * s_of(3), 0.5 * s_of(3)], rel=1e-15)
    # a no-decay group (weight_decay 0) is a legitimate base of 0
    wd = torch.optim.SGD([{"params": [param()], "weight_decay": 0.0}, {"params": [param()], "weight_decay": 0.01}])
    wd_sched = Scheduler(wd, factor=S, hyperparam="weight_decay", count="calls")
    wd_sched.step()
    fresh_opt = torch.optim.SGD([{"params": [param()], "weight_decay": 0.5} for _ in range(2)], lr=0.1)
    fresh = Scheduler(fresh_opt, factor=S, hyperparam="weight_decay")
    fresh.load_state_dict(wd_sched.state_dict())
    assert [g["weight_decay"] for g in fresh.optimizer.param_groups] == pytest.approx([0.0, 0.01 * s_of(1)])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"last_epoch": -5}, "state_dict last_epoch must be an int >= 0, got -5"),
        ({"base_lrs": [math.nan, 0.5]}, r"state_dict base_lrs\[0\] must be a finite number >= 0, got nan"),
        ({"base_lrs": [0.1]}, "state_dict base_lrs has 1 values, this optimizer has 2 param groups"),
    ],
)
def test_torch_style_state_dicts_are_validated(change: dict[str, Any], message: str) -> None:
    ref_opt = two_groups()
    ref = torch.optim.lr_scheduler.LinearLR(ref_opt, start_factor=1.0, end_factor=0.0, total_iters=10)
    s = Scheduler(two_groups(), factor=S)
    with pytest.raises(ValueError, match=message):
        s.load_state_dict({**ref.state_dict(), **change})
    assert s.last_epoch == 0


# -- messages that name the user's parameters -------------------------------------------------
def test_positional_schedule_names_factor_and_lr() -> None:
    opt = torch.optim.SGD([param()], lr=0.1)
    for wrong in (S, lambda t: 1.0):
        with pytest.raises(TypeError, match=r"keyword.*Scheduler\(optimizer, factor=s\).*Scheduler\(optimizer, lr=s\)"):
            Scheduler(opt, wrong)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"warmup_factor": 1.5}, ValueError, r"warmup_factor must be in \[0.0, 1.0\], got 1.5"),
        ({"warmup_factor": math.nan}, ValueError, "warmup_factor must be finite, got nan"),
        ({"warmup_factor": "1/3"}, TypeError, "warmup_factor must be a real number"),
        ({"warmup_iters": -1}, ValueError, "warmup_iters must be >= 0, got -1"),
        ({"warmup_iters": 2.5}, TypeError, "warmup_iters must be an int number of steps, got 2.5"),
        ({"warmup_iters": "10ep"}, TypeError, "warmup_iters must be an int number of steps"),
    ],
)
def test_warmup_multistep_errors_name_its_own_parameters(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        WarmupMultiStepLR(torch.optim.SGD([param()], lr=0.1), [10, 20], **kwargs)
    assert "start_factor" not in str(info.value) and "steps " not in str(info.value)


def test_warmup_multistep_zero_warmup_iters_is_no_warmup() -> None:
    # the seed: last_epoch < warmup_iters is never true, factor 1
    opt = torch.optim.SGD([param()], lr=0.1)
    WarmupMultiStepLR(opt, [10], warmup_iters=0)
    assert lrs(opt) == [0.1]


# -- add_param_group after construction ------------------------------------------------------
def test_added_group_is_scheduled_on_its_own_base() -> None:
    opt = torch.optim.SGD([param()], lr=0.1)
    s = Scheduler(opt, factor=S)
    for _ in range(3):
        update(opt)
        s.step()
    opt.add_param_group({"params": [param()], "lr": 0.5})  # progressive unfreezing
    for t in range(4, 8):
        update(opt)
        s.step()
        assert lrs(opt) == pytest.approx([0.1 * s_of(t), 0.5 * s_of(t)], rel=1e-15), t
        assert s.get_last_lr() == lrs(opt)
    assert s.base_lrs == [0.1, 0.5] and opt.param_groups[1]["initial_lr"] == 0.5
    assert s.values_at(9) == pytest.approx([0.1 * s_of(9), 0.5 * s_of(9)], rel=1e-15)


def test_two_schedulers_on_one_optimizer_both_schedule_an_added_group() -> None:
    opt = torch.optim.SGD([param()], lr=0.1, momentum=0.9)
    lr_sched = Scheduler(opt, factor=S)
    momentum = Scheduler(opt, value=lrkit.constant(0.5), hyperparam="momentum")
    opt.add_param_group({"params": [param()], "lr": 0.2, "momentum": 0.8})
    update(opt)
    lr_sched.step()
    momentum.step()
    assert lrs(opt) == pytest.approx([0.1 * s_of(1), 0.2 * s_of(1)], rel=1e-15)
    assert [g["momentum"] for g in opt.param_groups] == [0.5, 0.5]


def test_added_group_in_lr_mode_gets_the_schedule_itself() -> None:
    opt = two_groups()
    s = Scheduler(opt, lr=S, count="calls")
    opt.add_param_group({"params": [param()], "lr": 0.5})
    s.step()
    assert lrs(opt) == pytest.approx([s_of(1)] * 3, rel=1e-15)


@pytest.mark.parametrize("optimizer_first", [True, False])
def test_checkpoint_after_add_param_group_resumes(optimizer_first: bool) -> None:
    def build() -> tuple[torch.optim.Optimizer, Scheduler]:
        torch.manual_seed(0)
        opt = torch.optim.Adam([{"params": [param()], "lr": 0.1}])
        return opt, Scheduler(opt, factor=S)

    opt, s = build()
    for t in range(6):
        if t == 2:
            opt.add_param_group({"params": [param()], "lr": 0.5})
        update(opt)
        s.step()
    ckpt = roundtrip({"opt": opt.state_dict(), "sched": s.state_dict()})
    assert ckpt["sched"]["base_values"] == [0.1, 0.5] and len(ckpt["sched"]["schedules"]) == 2

    opt2, s2 = build()
    opt2.add_param_group({"params": [param()], "lr": 0.5})  # rebuild the same groups, then restore
    if optimizer_first:
        opt2.load_state_dict(ckpt["opt"])
        s2.load_state_dict(ckpt["sched"])
    else:
        s2.load_state_dict(ckpt["sched"])
        opt2.load_state_dict(ckpt["opt"])
    assert s2.last_epoch == 6 and lrs(opt2) == lrs(opt)
    for _ in range(3):
        update(opt)
        s.step()
        update(opt2)
        s2.step()
        assert lrs(opt2) == lrs(opt)


def test_added_group_without_a_schedule_is_a_clear_error_at_the_next_update() -> None:
    opt = torch.optim.SGD([{"params": [param()], "lr": 0.1, "name": "body"}])
    s = Scheduler(opt, factor={"body": S})
    opt.add_param_group({"params": [param()], "lr": 0.5, "name": "head"})
    # one group, one schedule: a shared schedule -> scheduled; now make it per-group with two distinct ones
    update(opt)
    s.step()
    assert lrs(opt) == pytest.approx([0.1 * s_of(1), 0.5 * s_of(1)], rel=1e-15)

    per_group = torch.optim.SGD([{"params": [param()], "lr": 0.1, "name": "a"}, {"params": [param()], "name": "b"}])
    s = Scheduler(per_group, factor={"a": S, "b": lrkit.constant(1.0)})
    per_group.add_param_group({"params": [param()], "lr": 0.5, "name": "head"})
    message = r"param_groups\[2\] \(name='head'\) was added with add_param_group\(\)"
    # the optimizer pre-hook refuses before the update runs at an unscheduled LR; values_at() says the same
    before = [p.detach().clone() for g in per_group.param_groups for p in g["params"]]
    with pytest.raises(ValueError, match=message):
        update(per_group)
    after = [p for g in per_group.param_groups for p in g["params"]]
    assert all(torch.equal(p, q) for p, q in zip(before, after, strict=True))
    with pytest.raises(ValueError, match=message):
        s.values_at(1)


# -- previewing by stepping warns once -----------------------------------------------------
def test_previewing_by_stepping_warns_once_and_values_at_is_the_preview() -> None:
    opt = torch.optim.SGD([param()], lr=0.1)
    s = Scheduler(opt, factor=S)
    with pytest.warns(UserWarning, match="before any optimizer update") as record:
        preview = []
        for _ in range(5):
            s.step()
            preview.append(s.get_last_lr()[0])
    assert len([w for w in record if "before any optimizer update" in str(w.message)]) == 1
    assert preview == [0.1] * 5  # the flat line the warning is about
    # the right previews: the schedule itself, or the scheduler's closed form
    expected = [0.1 * s_of(t) for t in range(5)]
    assert [s.values_at(t)[0] for t in range(5)] == pytest.approx(expected, rel=1e-15)
    assert list(0.1 * S(np.arange(5))) == pytest.approx(expected, rel=1e-15)


def test_no_warning_when_stepping_is_part_of_a_loop() -> None:
    opt = torch.optim.SGD([param()], lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calls = Scheduler(opt, factor=S, count="calls")  # counts calls: stepping is the point
        for _ in range(3):
            calls.step()
        s = Scheduler(torch.optim.SGD([param()], lr=0.1), factor=S)
        s.optimizer.param_groups[0]["params"][0].grad = torch.ones(2)  # after a backward: an accumulation step
        s.step()
    assert calls.last_epoch == 3 and s.last_epoch == 0


# -- torch-style state dicts are never taken silently ------------------------------------------------
def one_cycle_state() -> dict[str, Any]:
    opt = torch.optim.SGD([param()], lr=0.1)
    ref = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=100)
    for _ in range(7):
        update(opt)
        ref.step()
    return ref.state_dict()


def test_a_foreign_torch_schedulers_state_dict_is_refused_by_default() -> None:
    opt = torch.optim.SGD([param()], lr=0.1)
    s = Scheduler(opt, factor=lrkit.cosine(1.0, steps=100))
    with pytest.raises(ValueError, match=r"different schedule.*total_steps=100.*on_mismatch='override'"):
        s.load_state_dict(one_cycle_state())
    with pytest.raises(ValueError, match=r"on_mismatch='checkpoint' cannot resume it"):
        s.load_state_dict(one_cycle_state(), on_mismatch="checkpoint")
    assert s.last_epoch == 0 and lrs(opt) == [0.1]  # nothing changed


def test_override_takes_step_and_base_lrs_and_says_so() -> None:
    opt = torch.optim.SGD([param()], lr=0.1)
    s = Scheduler(opt, factor=S, on_mismatch="override")
    state = one_cycle_state()
    taken = r"took step=7 \(its last_epoch\) and base_lrs=\[.*\]; ignored its .*total_steps=100"
    with pytest.warns(UserWarning, match=taken):
        s.load_state_dict(state)
    # OneCycleLR's base_lrs are max_lr / div_factor (25): 0.1 / 25 = 0.004; the step is its last_epoch
    assert s.last_epoch == 7 and s.base_lrs == [pytest.approx(0.004, rel=1e-12)]
    assert lrs(opt) == [pytest.approx(0.004 * s_of(7), rel=1e-12)]


def test_a_generic_torch_state_dict_warns_naming_what_was_taken() -> None:
    # a state dict with only torch's bookkeeping keys: nothing to compare, still never silent
    s = Scheduler(torch.optim.SGD([param()], lr=0.1), lr=S)
    with pytest.warns(UserWarning, match=r"took step=3 \(its last_epoch\) \(base_lrs=\[0.2\] ignored: value mode\)"):
        s.load_state_dict({"last_epoch": 3, "base_lrs": [0.2], "_step_count": 4})
    assert s.last_epoch == 3 and s.get_last_lr() == pytest.approx([s_of(3)], rel=1e-15)


def test_the_seeds_checkpoint_is_checked_against_the_drop_in() -> None:
    opt = torch.optim.SGD([param()], lr=0.1)
    seedlike = {
        "last_epoch": 4,
        "base_lrs": [0.1],
        "_step_count": 5,
        "milestones": [10, 20],
        "gamma": 0.1,
        "warmup_factor": 1.0 / 3,
        "warmup_iters": 500,
        "warmup_method": "linear",
    }
    s = WarmupMultiStepLR(opt, [10, 20])
    with pytest.warns(UserWarning, match="checked gamma, milestones, warmup_factor, warmup_iters, warmup_method"):
        s.load_state_dict(seedlike)
    assert s.last_epoch == 4
    other = WarmupMultiStepLR(torch.optim.SGD([param()], lr=0.1), [10, 30])
    with pytest.raises(ValueError, match=r"different schedule.*milestones=\[10, 20\]"):
        other.load_state_dict(seedlike)
