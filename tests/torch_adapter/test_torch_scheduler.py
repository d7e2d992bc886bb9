"""lrkit.torch.Scheduler: modes, param groups, hyperparameters, AMP skips, plateau.

Expected values are hand-derived next to each test or come from torch's own
schedulers (LinearLR, CosineAnnealingLR, MultiStepLR, ReduceLROnPlateau, OneCycleLR).
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import pytest
import torch

import lrkit
from lrkit.torch import Plateau, Scheduler

LRS = (0.1, 0.01, 0.5)


def three_groups(opt_cls=torch.optim.SGD, **kw) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(2)) for _ in LRS]
    groups = [{"params": [p], "lr": lr, "name": f"g{i}"} for i, (p, lr) in enumerate(zip(params, LRS, strict=True))]
    return opt_cls(groups, **kw)


def one_group(lr=0.1, opt_cls=torch.optim.SGD, **kw) -> torch.optim.Optimizer:
    return opt_cls([torch.nn.Parameter(torch.zeros(2))], lr=lr, **kw)


def lrs(opt: torch.optim.Optimizer, key: str = "lr") -> list[float]:
    return [float(g[key]) for g in opt.param_groups]


def update(opt: torch.optim.Optimizer) -> None:
    """One real optimizer update (zero grads, so parameters stay put)."""
    for g in opt.param_groups:
        for p in g["params"]:
            p.grad = torch.zeros_like(p)
    opt.step()


def test_import_lrkit_does_not_import_torch() -> None:
    code = (
        "import sys, lrkit; lrkit.warmup(lrkit.cosine(1.0, 10), 2, prefix=False)(3); assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_is_an_lr_scheduler_and_starts_at_step_0() -> None:
    opt = one_group()
    s = Scheduler(opt, factor=lrkit.linear(0.5, 1.0, steps=4))
    assert isinstance(s, torch.optim.lr_scheduler.LRScheduler)
    assert s.last_epoch == 0
    # step 0 of linear(0.5 -> 1.0) is 0.5, times the group's initial 0.1
    assert lrs(opt) == [0.05] and s.get_last_lr() == [0.05]
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_factor_mode_three_groups_matches_torch_linear_then_cosine() -> None:
    # torch's SequentialLR([LinearLR, CosineAnnealingLR]) stepped in lockstep is the peer; LinearLR's
    # start_factor=0.25 over 8 steps and CosineAnnealingLR(T_max=20) are warmup(..., prefix=False) and cosine(...) in
    # lrkit's prefix form (the cosine clock starts after the warmup, as SequentialLR restarts it).
    ours, ref = three_groups(), three_groups()
    s = Scheduler(ours, factor=lrkit.warmup(lrkit.cosine(1.0, steps=20), steps=8, start_factor=0.25, prefix=True))
    warm = torch.optim.lr_scheduler.LinearLR(ref, start_factor=0.25, total_iters=8)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(ref, T_max=20)
    seq = torch.optim.lr_scheduler.SequentialLR(ref, [warm, cos], milestones=[8])
    for t in range(28):
        assert lrs(ours) == pytest.approx(lrs(ref), rel=1e-12, abs=1e-15), t
        update(ours)
        update(ref)
        s.step()
        seq.step()
    # group ratios are preserved: every group's LR is its initial LR times the same factor
    f = lrs(ours)[0] / LRS[0]
    assert lrs(ours) == pytest.approx([lr * f for lr in LRS], rel=1e-14)


def test_lr_mode_sets_the_lr_itself() -> None:
    opt = three_groups()
    s = Scheduler(opt, lr=lrkit.multistep(0.2, milestones=[2, 4], gamma=0.5))
    got = []
    for _ in range(6):
        got.append(lrs(opt))
        update(opt)
        s.step()
    # 0.2 before step 2, 0.1 from step 2, 0.05 from step 4, for every group regardless of its own LR
    assert got == [[0.2] * 3, [0.2] * 3, [0.1] * 3, [0.1] * 3, [0.05] * 3, [0.05] * 3]


def test_both_or_neither_keyword_is_a_type_error() -> None:
    opt = one_group()
    with pytest.raises(TypeError, match="exactly one of factor=, lr= or value="):
        Scheduler(opt)
    with pytest.raises(TypeError, match="exactly one"):
        Scheduler(opt, factor=lrkit.constant(1.0), lr=lrkit.constant(0.1))
    with pytest.raises(TypeError, match="is not an Optimizer"):
        Scheduler(object(), lr=lrkit.constant(0.1))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an lrkit schedule"):
        Scheduler(opt, lr=0.1)


def test_per_group_list_and_dict() -> None:
    a, b, c = lrkit.constant(1.0), lrkit.constant(0.5), lrkit.linear(1.0, 0.0, steps=2)
    opt = three_groups()
    Scheduler(opt, factor=[a, b, c])
    assert lrs(opt) == [0.1, 0.005, 0.5]
    opt = three_groups()
    s = Scheduler(opt, factor={"g2": c, "g0": a, "g1": b})
    update(opt)
    s.step()
    # step 1: g0 0.1*1, g1 0.01*0.5, g2 0.5*linear(1->0 over 2)(1)=0.5*0.5
    assert lrs(opt) == [0.1, 0.005, 0.25]


def test_per_group_errors() -> None:
    opt = three_groups()
    with pytest.raises(ValueError, match=r"one schedule per param group \(3\), got 2"):
        Scheduler(opt, factor=[lrkit.constant(1.0)] * 2)
    with pytest.raises(ValueError, match="uncovered"):
        Scheduler(opt, factor={"g0": lrkit.constant(1.0)})
    with pytest.raises(ValueError, match=r"unknown keys \['nope'\]"):
        Scheduler(opt, factor={"g0": lrkit.constant(1.0), "g1": lrkit.constant(1.0), "nope": lrkit.constant(1.0)})


def test_spec_string_is_parsed() -> None:
    opt = one_group()
    Scheduler(opt, lr="linear(0.3, 0.0, steps=3)")
    assert lrs(opt) == [0.3]


def test_epoch_durations_resolve_with_steps_per_epoch() -> None:
    opt = one_group()
    # '2ep' at 5 steps per epoch is 10 steps; '1.5ep' at 3 steps/epoch is 4.5 -> 5 (nearest, halves up)
    s = Scheduler(opt, factor=lrkit.multistep(1.0, milestones=["2ep"], gamma=0.1), steps_per_epoch=5)
    assert s.schedule == lrkit.multistep(1.0, milestones=[10], gamma=0.1)
    s = Scheduler(one_group(), factor=lrkit.multistep(1.0, milestones=["1.5ep"]), steps_per_epoch=3)
    assert s.schedule.milestones == (5,)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        Scheduler(one_group(), factor=lrkit.multistep(1.0, milestones=["2ep"]))


def test_step_counts_only_real_updates() -> None:
    opt = one_group()
    s = Scheduler(opt, factor=lrkit.linear(1.0, 0.0, steps=10))
    with pytest.warns(UserWarning, match="before any optimizer update and with no gradients"):
        s.step()  # no optimizer update happened: nothing moves (and with no gradients at all, it says so)
    assert s.last_epoch == 0 and lrs(opt) == [0.1]
    update(opt)
    s.step()
    s.step()  # a second call without a new update does nothing
    assert s.last_epoch == 1
    # 0.1 * (1 - 1/10)
    assert lrs(opt) == pytest.approx([0.09], rel=1e-15)


def test_gradient_accumulation_counts_optimizer_updates() -> None:
    # 4 micro-batches per update, scheduler stepped every micro-batch: only the updates count.
    opt = one_group()
    s = Scheduler(opt, factor=lrkit.linear(1.0, 0.0, steps=10))
    param = opt.param_groups[0]["params"][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a micro-batch after a backward pass is a normal loop: no warning
        for micro in range(12):
            param.grad = torch.zeros_like(param)  # the micro-batch's backward
            if micro % 4 == 3:
                update(opt)
            s.step()
    assert s.last_epoch == 3


def test_count_calls_is_torchs_behaviour() -> None:
    opt = one_group()
    s = Scheduler(opt, factor=lrkit.linear(1.0, 0.0, steps=10), count="calls")
    for _ in range(3):
        s.step()
    assert s.last_epoch == 3 and lrs(opt) == pytest.approx([0.07], rel=1e-14)


def test_amp_skipped_step_does_not_advance_and_does_not_warn() -> None:
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    s = Scheduler(opt, factor=lrkit.linear(1.0, 0.0, steps=10))
    scaler = torch.amp.GradScaler("cpu")
    steps, skipped = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's "lr_scheduler.step() before optimizer.step()" would fail here
        for i in range(6):
            opt.zero_grad()
            loss = model(torch.ones(1, 2)).sum()
            if i in (0, 3):
                loss = loss * math.inf  # inf gradients: the scaler skips this update
            before = scaler.get_scale()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            s.step()
            skipped.append(scaler.get_scale() < before)
            steps.append(s.last_epoch)
    assert skipped == [True, False, False, True, False, False]
    assert steps == [0, 1, 2, 2, 3, 4]
    assert lrs(opt) == pytest.approx([0.1 * 0.6], rel=1e-14)


def test_tensor_lr_is_updated_in_place() -> None:
    lr = torch.tensor(0.1)
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=lr)
    tensor = opt.param_groups[0]["lr"]
    s = Scheduler(opt, factor=lrkit.linear(1.0, 0.5, steps=2))
    for _ in range(3):
        update(opt)
        s.step()
    assert opt.param_groups[0]["lr"] is tensor
    assert float(tensor) == pytest.approx(0.05, rel=1e-6)
    assert isinstance(opt.param_groups[0]["initial_lr"], torch.Tensor)
    # the base is the float32 initial LR tensor (0.1 is not exact in float32), times linear(1 -> 0.5) at its end
    assert s.get_last_lr() == [float(torch.tensor(0.1)) * 0.5]


def test_momentum_follows_torch_one_cycle() -> None:
    # torch's OneCycleLR (linear anneal) also cycles SGD momentum: phase 1 ends at pct_start*total-1 = 14,
    # momentum goes max_momentum 0.95 -> base_momentum 0.85 linearly over steps 0..14, then back to 0.95
    # at total-1 = 49.  lrkit drives the LR and, with a second Scheduler, the momentum.
    total, max_lr = 50, 0.2
    ref = one_group(opt_cls=torch.optim.SGD, momentum=0.9)
    ours = one_group(opt_cls=torch.optim.SGD, momentum=0.9)
    oc = torch.optim.lr_scheduler.OneCycleLR(ref, max_lr=max_lr, total_steps=total, anneal_strategy="linear")
    lr_s = Scheduler(ours, lr=lrkit.one_cycle(max_lr, total_steps=total, anneal="linear"))
    mom = lrkit.piecewise_interpolate([0, 14, 49], [0.95, 0.85, 0.95])
    m_s = Scheduler(ours, value=mom, hyperparam="momentum")
    for t in range(total):
        assert lrs(ours) == pytest.approx(lrs(ref), rel=1e-12), t
        assert lrs(ours, "momentum") == pytest.approx(lrs(ref, "momentum"), rel=1e-12), t
        update(ours)
        update(ref)
        if t < total - 1:
            oc.step()
            lr_s.step()
            m_s.step()


def test_betas_drives_beta1_and_weight_decay_ramps() -> None:
    opt = one_group(opt_cls=torch.optim.AdamW, betas=(0.9, 0.999), weight_decay=0.01)
    b = Scheduler(opt, value=lrkit.linear(0.95, 0.85, steps=10), hyperparam="betas")
    wd = Scheduler(opt, factor=lrkit.linear(0.0, 1.0, steps=4), hyperparam="weight_decay")
    assert opt.param_groups[0]["betas"] == (0.95, 0.999)
    assert opt.param_groups[0]["weight_decay"] == 0.0
    for _ in range(2):
        update(opt)
        b.step()
        wd.step()
    # beta1 = 0.95 + (0.85 - 0.95) * 2/10; weight decay = 0.01 * 2/4; beta2 untouched
    assert opt.param_groups[0]["betas"][0] == pytest.approx(0.93, rel=1e-14)
    assert opt.param_groups[0]["betas"][1] == 0.999
    assert opt.param_groups[0]["weight_decay"] == pytest.approx(0.005, rel=1e-14)
    beta2 = Scheduler(opt, value=lrkit.constant(0.99), hyperparam="betas[1]")
    assert opt.param_groups[0]["betas"] == pytest.approx((0.93, 0.99))
    assert beta2.get_last_lr() == [0.99]


def test_hyperparam_errors() -> None:
    adam = one_group(opt_cls=torch.optim.Adam)
    with pytest.raises(ValueError, match=r"no 'momentum'.*hyperparam='betas'"):
        Scheduler(adam, value=lrkit.constant(0.9), hyperparam="momentum")
    with pytest.raises(TypeError, match="use value="):
        Scheduler(adam, lr=lrkit.constant(0.9), hyperparam="betas")
    with pytest.raises(ValueError, match="count must be one of"):
        Scheduler(adam, lr=lrkit.constant(0.1), count="epochs")
    with pytest.raises(ValueError, match="last_epoch must be an int >= -1, got -2"):
        Scheduler(adam, lr=lrkit.constant(0.1), last_epoch=-2)


def test_get_lr_and_values_at_are_closed_form() -> None:
    opt = one_group()
    s = Scheduler(opt, factor=lrkit.step(1.0, step_size=3, gamma=0.5), count="calls")
    for _ in range(4):
        s.step()
    # step 4: 0.1 * 0.5 ** floor(4 / 3)
    assert s.get_lr() == s.get_last_lr() == [0.05]
    assert s.values_at(6) == [0.025]
    assert s.last_epoch == 4  # values_at wrote nothing


def test_torch_style_last_epoch_resume() -> None:
    # torch: last_epoch=k needs 'initial_lr' and starts at step k + 1
    with pytest.raises(KeyError, match="initial_lr"):
        Scheduler(one_group(), factor=lrkit.constant(1.0), last_epoch=3)
    opt = one_group(lr=0.7)
    opt.param_groups[0]["initial_lr"] = 0.1
    s = Scheduler(opt, factor=lrkit.linear(1.0, 0.0, steps=10), last_epoch=3)
    assert s.last_epoch == 4 and lrs(opt) == pytest.approx([0.06], rel=1e-14)


def test_step_with_an_epoch_is_set_step_and_rejects_metrics() -> None:
    opt = one_group()
    s = Scheduler(opt, factor=lrkit.linear(1.0, 0.0, steps=10))
    s.step(5)
    assert s.last_epoch == 5 and lrs(opt) == [0.05]
    with pytest.raises(TypeError, match="report"):
        s.step(0.5)  # type: ignore[arg-type]


def test_plateau_matches_torch_reduce_on_plateau() -> None:
    metrics = [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    for mode, sign in (("min", 1.0), ("max", -1.0)):
        for threshold_mode in ("rel", "abs"):
            ref = one_group(lr=0.1)
            ours = one_group(lr=0.1)
            torch_p = torch.optim.lr_scheduler.ReduceLROnPlateau(
                ref, mode=mode, factor=0.5, patience=2, threshold=0.01, threshold_mode=threshold_mode, cooldown=1
            )
            plateau = Plateau(
                mode=mode, factor=0.5, patience=2, threshold=0.01, threshold_mode=threshold_mode, cooldown=1
            )
            s = Scheduler(ours, factor=lrkit.constant(1.0), plateau=plateau)
            for m in metrics:
                torch_p.step(sign * m)
                s.report(sign * m)
                assert lrs(ours) == pytest.approx(lrs(ref), rel=1e-14), (mode, threshold_mode, m)
            assert plateau.reductions >= 2


def test_plateau_composes_with_warmup() -> None:
    opt = one_group(lr=1.0)
    s = Scheduler(
        opt,
        factor=lrkit.warmup(lrkit.constant(1.0), steps=4, prefix=False),
        plateau=Plateau(factor=0.1, patience=0),
        count="calls",
    )
    s.step()  # step 1: warmup factor 1/4
    assert lrs(opt) == [0.25]
    s.report(1.0)  # first report is always an improvement
    s.report(1.0)  # no improvement, patience 0 -> scale 0.1 right away
    assert lrs(opt) == pytest.approx([0.025], rel=1e-15)
    s.step()
    s.step()
    s.step()  # step 4: warmup done -> 1.0 * 0.1
    assert lrs(opt) == pytest.approx([0.1], rel=1e-15)
    with pytest.raises(ValueError, match="report\\(\\) needs a plateau"):
        Scheduler(one_group(), factor=lrkit.constant(1.0)).report(1.0)


def test_plateau_validation() -> None:
    with pytest.raises(ValueError, match="factor must be in"):
        Plateau(factor=1.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        Plateau(mode="lowest")
    with pytest.raises(ValueError, match="patience must be >= 0"):
        Plateau(patience=-1)
