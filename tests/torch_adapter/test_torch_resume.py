"""Resume: plain-data state dicts, exact LRs after resuming at any step, in this or a new process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrkit
from lrkit.torch import Plateau, Scheduler

LRS = (0.1, 0.03, 0.7)


def make_opt(tensor_lr: bool = False) -> torch.optim.Optimizer:
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(3)) for _ in LRS]
    groups = [
        {"params": [p], "lr": torch.tensor(lr, dtype=torch.float64) if tensor_lr else lr}
        for p, lr in zip(params, LRS, strict=True)
    ]
    return torch.optim.Adam(groups)


def update(opt: torch.optim.Optimizer) -> None:
    for g in opt.param_groups:
        for p in g["params"]:
            p.grad = torch.ones_like(p)
    opt.step()


def lrs(opt: torch.optim.Optimizer) -> list[float]:
    return [float(g["lr"]) for g in opt.param_groups]


def roundtrip(obj: object) -> object:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


# Random schedules: warmups (every method, both forms) around the common decays.
inner = st.one_of(
    st.builds(lrkit.cosine, st.just(1.0), st.integers(1, 300), st.sampled_from([0.0, 0.1])),
    st.builds(
        lambda ms, g: lrkit.multistep(1.0, sorted(ms), g),
        st.lists(st.integers(0, 300), max_size=4),
        st.sampled_from([0.1, 0.5]),
    ),
    st.builds(lrkit.linear, st.just(1.0), st.sampled_from([0.0, 0.2]), st.integers(1, 300)),
    st.builds(lrkit.step, st.just(1.0), st.integers(1, 50), st.just(0.7)),
    st.builds(lrkit.exponential, st.just(1.0), st.integers(1, 100), st.just(0.9), st.booleans()),
)
schedules = st.builds(
    lambda s, w, sf, method, prefix: lrkit.warmup(s, w, start_factor=sf, method=method, prefix=prefix),
    inner,
    st.integers(0, 60),
    st.sampled_from([0.01, 0.25, 1.0]),
    st.sampled_from(["linear", "constant", "exponential", "cosine"]),
    st.booleans(),
)


def uninterrupted(schedule: lrkit.Schedule, total: int, tensor_lr: bool = False) -> list[list[float]]:
    opt = make_opt(tensor_lr)
    s = Scheduler(opt, factor=schedule)
    out = []
    for _ in range(total):
        out.append(lrs(opt))
        update(opt)
        s.step()
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    schedule=schedules,
    k=st.integers(0, 120),
    optimizer_first=st.booleans(),
    tensor_lr=st.booleans(),
)
def test_resume_at_any_step_gives_the_uninterrupted_lrs(schedule, k, optimizer_first, tensor_lr) -> None:
    total = k + 40
    expected = uninterrupted(schedule, total, tensor_lr)
    # run k updates, checkpoint through torch.save / weights_only load
    opt = make_opt(tensor_lr)
    s = Scheduler(opt, factor=schedule)
    for _ in range(k):
        update(opt)
        s.step()
    ckpt = roundtrip({"opt": opt.state_dict(), "sched": s.state_dict()})
    # a fresh optimizer and scheduler; restore the optimizer before or after the scheduler
    opt2 = make_opt(tensor_lr)
    if optimizer_first:
        opt2.load_state_dict(ckpt["opt"])
        s2 = Scheduler(opt2, factor=schedule)
        s2.load_state_dict(ckpt["sched"])
    else:
        s2 = Scheduler(opt2, factor=schedule)
        s2.load_state_dict(ckpt["sched"])
        opt2.load_state_dict(ckpt["opt"])
    got = []
    for _ in range(total - k):
        got.append(lrs(opt2))
        update(opt2)
        s2.step()
    assert got == expected[k:]


def test_state_dict_is_plain_data_of_constant_size() -> None:
    opt = make_opt()
    s = Scheduler(opt, factor=lrkit.warmup(lrkit.cosine(1.0, steps=10_000), steps=100, prefix=False), plateau=Plateau())
    size0 = len(json.dumps(s.state_dict()))
    for _ in range(1000):
        update(opt)
        s.step()
    sd = s.state_dict()
    json.dumps(sd)  # only JSON types inside (plateau's best is inf, which torch.save keeps)
    assert roundtrip(sd) == sd
    # the step count grows from 0 to 1000: 3 more digits in two ints, nothing else
    assert len(json.dumps(sd)) - size0 <= 6
    assert sd["step"] == 1000


def test_set_step_jumps_anywhere() -> None:
    opt = make_opt()
    sched = lrkit.warmup(lrkit.multistep(1.0, [50, 80], gamma=0.5), steps=10, prefix=False)
    s = Scheduler(opt, factor=sched)
    expected = uninterrupted(sched, 100)
    for k in (99, 0, 10, 49, 50, 9):
        s.set_step(k)
        assert s.last_epoch == k and lrs(opt) == expected[k]
    with pytest.raises(ValueError, match="step must be >= 0"):
        s.set_step(-1)


def test_mismatch_raise_shows_both_specs() -> None:
    old = lrkit.warmup(lrkit.cosine(1.0, steps=1000), steps=100, prefix=False)
    new = lrkit.warmup(lrkit.cosine(1.0, steps=2000), steps=100, prefix=False)
    opt = make_opt()
    s = Scheduler(opt, factor=old)
    for _ in range(7):
        update(opt)
        s.step()
    sd = s.state_dict()
    s2 = Scheduler(make_opt(), factor=new)
    with pytest.raises(ValueError, match="differs") as info:
        s2.load_state_dict(sd)
    assert repr(old) in str(info.value) and repr(new) in str(info.value)
    assert "on_mismatch='checkpoint'" in str(info.value)


def test_mismatch_checkpoint_and_override() -> None:
    old = lrkit.linear(1.0, 0.0, steps=100)
    new = lrkit.linear(1.0, 0.0, steps=10)
    opt = make_opt()
    s = Scheduler(opt, factor=old)
    for _ in range(5):
        update(opt)
        s.step()
    sd = s.state_dict()

    o1 = make_opt()
    s1 = Scheduler(o1, factor=new, on_mismatch="checkpoint")
    s1.load_state_dict(sd)
    assert s1.schedule == old and s1.last_epoch == 5
    assert lrs(o1) == [lr * (1 - 5 / 100) for lr in LRS]

    o2 = make_opt()
    s2 = Scheduler(o2, factor=new)
    s2.load_state_dict(sd, on_mismatch="override")
    assert s2.schedule == new and s2.last_epoch == 5
    assert lrs(o2) == [lr * (1 - 5 / 10) for lr in LRS]


def test_base_values_come_from_the_checkpoint() -> None:
    # Like torch's base_lrs and the optimizer's initial_lr: a fresh optimizer built with other LRs
    # resumes the checkpointed run's LRs (linear(1 -> 0 over 10) at step 4 is 0.6).
    sched = lrkit.linear(1.0, 0.0, steps=10)
    s = Scheduler(make_opt(), factor=sched)
    s.set_step(4)
    other = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.5} for _ in LRS])
    s2 = Scheduler(other, factor=sched)
    s2.load_state_dict(s.state_dict())
    assert lrs(other) == [lr * 0.6 for lr in LRS] and s2.base_lrs == list(LRS)


def test_plateau_state_is_restored() -> None:
    opt = make_opt()
    s = Scheduler(opt, factor=lrkit.constant(1.0), plateau=Plateau(factor=0.5, patience=0))
    for m in (1.0, 2.0, 2.0):
        s.report(m)
    assert s.plateau.scale == 0.25
    sd = roundtrip(s.state_dict())
    opt2 = make_opt()
    s2 = Scheduler(opt2, factor=lrkit.constant(1.0), plateau=Plateau(factor=0.5, patience=0))
    s2.load_state_dict(sd)
    assert s2.plateau.scale == 0.25 and s2.plateau.best == 1.0
    assert lrs(opt2) == [lr * 0.25 for lr in LRS]


def test_rejects_foreign_state_dicts() -> None:
    s = Scheduler(make_opt(), factor=lrkit.constant(1.0))
    with pytest.raises(ValueError, match=r"not an lrkit\.torch\.Scheduler state dict"):
        s.load_state_dict({"step": 3})
    one = Scheduler(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), factor=lrkit.constant(1.0))
    with pytest.raises(ValueError, match="drives 1 param groups, this optimizer has 3"):
        s.load_state_dict(one.state_dict())


CHILD = textwrap.dedent(
    """
    import json, sys, torch, lrkit
    from lrkit.torch import Scheduler
    path, remaining = sys.argv[1], int(sys.argv[2])
    ckpt = torch.load(path, weights_only=True)
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(3)) for _ in range(3)]
    opt = torch.optim.Adam([{"params": [p], "lr": 1.0} for p in params])
    sched = Scheduler(opt, factor=lrkit.parse(ckpt["spec"]))
    opt.load_state_dict(ckpt["opt"])
    sched.load_state_dict(ckpt["sched"])
    out = []
    for _ in range(remaining):
        out.append([g["lr"] for g in opt.param_groups])
        for g in opt.param_groups:
            for p in g["params"]:
                p.grad = torch.ones_like(p)
        opt.step()
        sched.step()
    print(json.dumps(out))
    """
)


def test_resume_in_a_new_process(tmp_path: Path) -> None:
    schedule = lrkit.warmup(lrkit.multistep(1.0, [60, 90], gamma=0.5), steps=50, start_factor=1 / 3, prefix=False)
    k, total = 55, 120
    expected = uninterrupted(schedule, total)
    opt = make_opt()
    s = Scheduler(opt, factor=schedule)
    for _ in range(k):
        update(opt)
        s.step()
    path = tmp_path / "ckpt.pt"
    torch.save({"opt": opt.state_dict(), "sched": s.state_dict(), "spec": repr(schedule)}, path)
    child = tmp_path / "child.py"
    child.write_text(CHILD)
    out = subprocess.run([sys.executable, str(child), str(path), str(total - k)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # The child builds its optimizer with lr=1.0 everywhere: the LRs still come out right because the
    # optimizer's checkpoint restores initial_lr and the scheduler's restores the base values.
    assert json.loads(out.stdout) == expected[k:]
