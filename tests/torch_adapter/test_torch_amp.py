"""AMP updates skipped by ``torch.amp.GradScaler`` are not counted, with fused and non-fused optimizers (issue 11).

The real mechanism on the CPU (torch 2.13): ``GradScaler("cpu")`` unscales and checks for inf/NaN.

* Plain optimizers: ``GradScaler.step`` does not call ``optimizer.step()`` at all when it found an inf.
* Fused optimizers (``AdamW(fused=True)``, ``SGD(fused=True)``: ``_step_supports_amp_scaling``):
  ``GradScaler.step`` always calls ``optimizer.step()``, with ``optimizer.found_inf`` set; the fused
  kernel skips the update.  lrkit's post-hook must not count that call.

Whether an update was applied is observed independently of lrkit and of ``found_inf``: the parameters
changed (every gradient here is non-zero).  Expected LRs: ``linear(1.0, 0.0, steps=10)`` is ``1 - t/10``,
so applied update ``k`` (``k`` updates applied before it) runs at ``base * (1 - k/10)``.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

import lrkit
from lrkit.torch import Scheduler

S = lrkit.linear(1.0, 0.0, steps=10)
BASE = 0.1
SKIPPED = (2, 5, 6)  # iterations whose loss is inf: 10 iterations = 7 applied updates + 3 skipped


def s_of(t: int) -> float:
    return 1.0 - t / 10


class Applied:
    """Pre-hook + post-hook: the LR of each ``optimizer.step()`` call and whether it changed the parameters."""

    def __init__(self, opt: torch.optim.Optimizer) -> None:
        self.calls: list[tuple[float, bool]] = []
        self._before: list[torch.Tensor] = []
        self._lr = 0.0
        opt.register_step_pre_hook(self.pre)
        opt.register_step_post_hook(self.post)

    def params(self, opt: torch.optim.Optimizer) -> list[torch.Tensor]:
        return [p for g in opt.param_groups for p in g["params"]]

    def pre(self, opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        self._lr = float(opt.param_groups[0]["lr"])
        self._before = [p.detach().clone() for p in self.params(opt)]

    def post(self, opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        changed = any(not torch.equal(a, p) for a, p in zip(self._before, self.params(opt), strict=True))
        self.calls.append((self._lr, changed))

    @property
    def applied_lrs(self) -> list[float]:
        return [lr for lr, changed in self.calls if changed]


OPTIMIZERS = {
    "AdamW(fused=True)": lambda ps: torch.optim.AdamW(ps, lr=BASE, fused=True),
    "SGD(fused=True)": lambda ps: torch.optim.SGD(ps, lr=BASE, momentum=0.9, fused=True),
    "AdamW": lambda ps: torch.optim.AdamW(ps, lr=BASE),
    "SGD(foreach=True)": lambda ps: torch.optim.SGD(ps, lr=BASE, momentum=0.9, foreach=True),
}


def amp_loop(make_opt: Any, cadence: str, iterations: int = 10) -> tuple[Scheduler, Applied, torch.optim.Optimizer]:
    """``iterations`` AMP iterations, inf loss on SKIPPED; ``cadence``: step() after every iteration or never."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = make_opt(list(model.parameters()))
    sched = Scheduler(opt, factor=S)
    seen = Applied(opt)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8)
    x = torch.randn(4, 3)
    for i in range(iterations):
        opt.zero_grad()
        loss = model(x).pow(2).mean() + 1.0
        if i in SKIPPED:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        if cadence == "every":
            sched.step()
    return sched, seen, opt


@pytest.mark.parametrize("cadence", ["every", "never"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_skipped_amp_updates_do_not_advance_the_schedule(name: str, cadence: str) -> None:
    sched, seen, opt = amp_loop(OPTIMIZERS[name], cadence)
    fused = "fused" in name
    # the real mechanism, as described above: fused optimizers are called for skipped updates too
    assert len(seen.calls) == (10 if fused else 7)
    assert len(seen.applied_lrs) == 7
    # LR of every applied update: base * s(updates applied before it)
    assert seen.applied_lrs == pytest.approx([BASE * s_of(k) for k in range(7)], rel=1e-15, abs=1e-18)
    assert sched.updates_applied == 7
    if cadence == "every":
        assert sched.last_epoch == 7 and sched.get_last_lr() == pytest.approx([BASE * s_of(7)], rel=1e-15)
    assert sched.state_dict()["step"] == 7
    assert not hasattr(opt, "found_inf")  # GradScaler cleans up after itself: nothing leaks into later steps


def test_fused_skip_is_read_from_the_scaler_not_guessed() -> None:
    # A fused step outside GradScaler (no found_inf attribute) is a real update and counts.
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.AdamW([p], lr=BASE, fused=True)
    sched = Scheduler(opt, factor=S)
    for _ in range(3):
        p.grad = torch.ones(3)
        opt.step()
        sched.step()
    assert sched.last_epoch == 3 and opt.param_groups[0]["lr"] == pytest.approx(BASE * s_of(3), rel=1e-15)
