"""The misuse matrix (issue 11): realistic training loops, the LR asserted at every applied update.

Each row is a loop pattern: how often ``Scheduler.step()`` is called (once per update, per micro-batch,
per epoch, twice, never), the optimizer (plain, foreach, fused) with or without AMP ``GradScaler``
(inf losses force skipped updates), gradient accumulation, ``add_param_group`` mid-run (progressive
unfreezing), a resume from a ``weights_only=True`` checkpoint in each restore order, a torch
scheduler's checkpoint.  Whatever the row, the ``k``-th applied update (``k`` updates applied before
it) must run at ``base_g * s(k)`` in every param group ``g``.

"Applied" is observed independently of lrkit: an optimizer step pre-hook snapshots the parameters and
LRs, a post-hook records them if a parameter changed (every gradient here is non-zero, and a fused
optimizer's kernel leaves the parameters untouched on an AMP skip).  The recorder is registered
*before* the scheduler, so the test also checks that lrkit's pre-hook runs first.

Hand-derived schedule: ``linear(1.0, 0.0, steps=40)`` is ``s(t) = 1 - t/40`` for ``0 <= t <= 40``;
no row applies more than 36 updates.  Torch's ``LinearLR(start_factor=1, end_factor=0, total_iters=40)``
gives the same factor, ``1 + (0 - 1) * min(t, 40) / 40``.
"""

from __future__ import annotations

import copy
import io
import warnings
from dataclasses import dataclass
from typing import Any

import pytest
import torch

import lrkit
from lrkit.torch import Scheduler

S = lrkit.linear(1.0, 0.0, steps=40)
BASE, HEAD_BASE = 0.1, 0.5
ITERATIONS = 36  # micro-batches
EPOCH = 6  # micro-batches per epoch
SKIP = (4, 5, 13, 29)  # micro-batches whose loss is inf (AMP rows)


def s_of(t: int) -> float:
    assert 0 <= t <= 40
    return 1.0 - t / 40


@dataclass(frozen=True)
class Row:
    id: str
    cadence: str = "update"  # update | micro | epoch | twice | never
    optimizer: str = "sgd"  # sgd | adamw | adamw_fused | sgd_fused
    amp: bool = False
    accumulation: int = 1
    add_group_at: int | None = None  # micro-batch before which the head group is added
    resume_at: int | None = None  # micro-batch before which the run is checkpointed and rebuilt
    restore: str = "optimizer_first"  # or "scheduler_first"


ROWS = [
    Row("step per update"),
    Row("step per epoch (Lightning's short form)", cadence="epoch"),
    Row("step twice per update", cadence="twice"),
    Row("never step (pre-hook only)", cadence="never"),
    Row("accumulation 3, step per micro-batch", cadence="micro", accumulation=3),
    Row("accumulation 2, step per epoch", cadence="epoch", accumulation=2),
    Row("AMP, plain SGD", amp=True),
    Row("AMP, AdamW", optimizer="adamw", amp=True, cadence="micro"),
    Row("AMP, fused AdamW", optimizer="adamw_fused", amp=True),
    Row("AMP, fused SGD, step per epoch", optimizer="sgd_fused", amp=True, cadence="epoch"),
    Row("AMP, fused AdamW, never step", optimizer="adamw_fused", amp=True, cadence="never"),
    Row("AMP, fused AdamW, accumulation 2, twice", optimizer="adamw_fused", amp=True, accumulation=2, cadence="twice"),
    Row("add_param_group, step per update", add_group_at=10),
    Row("add_param_group, step per epoch", add_group_at=10, cadence="epoch"),
    Row("add_param_group, never step, fused AMP", add_group_at=8, cadence="never", optimizer="adamw_fused", amp=True),
    Row("resume, optimizer first", resume_at=15),
    Row("resume, scheduler first", resume_at=15, restore="scheduler_first"),
    Row("resume mid-epoch, step per epoch, scheduler first", resume_at=16, cadence="epoch", restore="scheduler_first"),
    Row("resume, never step, optimizer first", resume_at=20, cadence="never"),
    Row("resume, fused AMP, accumulation 2", resume_at=14, optimizer="adamw_fused", amp=True, accumulation=2),
    Row("add_param_group then resume, scheduler first", add_group_at=6, resume_at=18, restore="scheduler_first"),
    Row("add_param_group then resume, epoch, optimizer first", add_group_at=6, resume_at=18, cadence="epoch"),
]


class Recorder:
    """LRs of every applied update (parameters changed), per param group."""

    def __init__(self) -> None:
        self.applied: list[list[float]] = []
        self.calls = 0
        self._snapshot: tuple[list[float], list[torch.Tensor]] = ([], [])

    def attach(self, opt: torch.optim.Optimizer) -> None:
        opt.register_step_pre_hook(self.pre)
        opt.register_step_post_hook(self.post)

    @staticmethod
    def params(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
        return [p for g in opt.param_groups for p in g["params"]]

    def pre(self, opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        self._snapshot = ([float(g["lr"]) for g in opt.param_groups], [p.detach().clone() for p in self.params(opt)])

    def post(self, opt: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        self.calls += 1
        lrs, before = self._snapshot
        if any(not torch.equal(a, p) for a, p in zip(before, self.params(opt), strict=True)):
            self.applied.append(lrs)


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Linear(4, 4)
        self.head = torch.nn.Linear(4, 1)  # trained by the optimizer only once its group is added

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.body(x))).squeeze(-1)


def make_optimizer(kind: str, params: Any) -> torch.optim.Optimizer:
    groups = [{"params": list(params), "lr": BASE}]
    if kind == "sgd":
        return torch.optim.SGD(groups, momentum=0.9)
    if kind == "sgd_fused":
        return torch.optim.SGD(groups, momentum=0.9, fused=True)
    if kind == "adamw":
        return torch.optim.AdamW(groups)
    if kind == "adamw_fused":
        return torch.optim.AdamW(groups, fused=True)
    raise AssertionError(kind)


def roundtrip(obj: object) -> Any:
    buf = io.BytesIO()
    torch.save(obj, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


class Run:
    """One training run of a row: model, optimizer, scheduler, scaler, recorder (rebuilt on resume)."""

    def __init__(self, row: Row, recorder: Recorder, model: Model | None = None) -> None:
        self.row = row
        torch.manual_seed(0)
        self.model = model or Model()
        self.opt = make_optimizer(row.optimizer, self.model.body.parameters())
        recorder.attach(self.opt)  # before the scheduler: lrkit's pre-hook must still run first
        self.sched = Scheduler(self.opt, factor=S)
        self.scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8, enabled=row.amp)
        self.head_added = False

    def add_head(self) -> None:
        self.opt.add_param_group({"params": list(self.model.head.parameters()), "lr": HEAD_BASE})
        self.head_added = True

    def checkpoint(self) -> dict[str, Any]:
        return roundtrip(
            {
                "model": self.model.state_dict(),
                "opt": self.opt.state_dict(),
                "sched": self.sched.state_dict(),
                "scaler": self.scaler.state_dict(),
                "head_added": self.head_added,
            }
        )

    @classmethod
    def resume(cls, row: Row, recorder: Recorder, ckpt: dict[str, Any]) -> Run:
        model = Model()
        model.load_state_dict(ckpt["model"])
        run = cls(row, recorder, model)
        if ckpt["head_added"]:
            run.add_head()  # rebuild the same param groups, then restore (documented)
        if row.restore == "optimizer_first":
            run.opt.load_state_dict(ckpt["opt"])
            run.sched.load_state_dict(ckpt["sched"])
        else:
            run.sched.load_state_dict(ckpt["sched"])
            run.opt.load_state_dict(ckpt["opt"])
        run.scaler.load_state_dict(ckpt["scaler"])
        return run

    def micro_batch(self, i: int, x: torch.Tensor, y: torch.Tensor) -> None:
        row = self.row
        loss = torch.nn.functional.mse_loss(self.model(x), y) / row.accumulation
        if row.amp and i in SKIP:
            loss = loss * float("inf")
        self.scaler.scale(loss).backward()
        stepped = (i + 1) % row.accumulation == 0
        if stepped:
            self.scaler.step(self.opt)
            self.scaler.update()
            self.opt.zero_grad()
            self.model.head.zero_grad()  # not in the optimizer before it is added
        calls = {"update": int(stepped), "twice": 2 * int(stepped), "micro": 1, "never": 0}.get(row.cadence)
        if row.cadence == "epoch":
            calls = int((i + 1) % EPOCH == 0)
        for _ in range(calls):
            self.sched.step()


def train(row: Row) -> tuple[Recorder, list[int], Run]:
    """Run the row; return the recorder, the update index at which the head group joined, the final run."""
    gen = torch.Generator().manual_seed(1)
    xs, ys = torch.randn(ITERATIONS, 8, 4, generator=gen), torch.randn(ITERATIONS, 8, generator=gen)
    recorder = Recorder()
    run = Run(row, recorder)
    head_from: list[int] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these loops is a misuse lrkit should warn about
        for i in range(ITERATIONS):
            if i == row.resume_at:
                run = Run.resume(row, recorder, run.checkpoint())
            if i == row.add_group_at:
                run.add_head()
                head_from.append(len(recorder.applied))
            run.micro_batch(i, xs[i], ys[i])
    return recorder, head_from, run


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_every_applied_update_runs_at_base_times_s_of_updates_applied(row: Row) -> None:
    recorder, head_from, run = train(row)
    updates = len(recorder.applied)
    # the loop really did what the row says: updates = optimizer steps minus AMP skips (an update is skipped
    # if any of its micro-batches had an inf loss)
    skipped = len({i // row.accumulation for i in SKIP}) if row.amp else 0
    assert updates == ITERATIONS // row.accumulation - skipped
    for k, lrs in enumerate(recorder.applied):
        want = [BASE * s_of(k)]
        if head_from and k >= head_from[0]:
            want.append(HEAD_BASE * s_of(k))  # the new group's first update already runs on the schedule
        assert lrs == pytest.approx(want, rel=1e-12, abs=1e-15), f"update {k}: {lrs} != {want}"
    assert run.sched.updates_applied == updates
    assert run.sched.state_dict()["step"] == updates


def test_count_calls_keeps_torchs_epoch_semantics() -> None:
    # count="calls": the clock is step() calls, so stepping once per epoch gives an epoch-based schedule,
    # exactly like torch's LinearLR stepped once per epoch (the peer, run side by side).
    torch.manual_seed(0)
    ours = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=BASE)
    ref = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=BASE)
    sched = Scheduler(ours, factor=S, count="calls")
    peer = torch.optim.lr_scheduler.LinearLR(ref, start_factor=1.0, end_factor=0.0, total_iters=40)
    seen: list[tuple[float, float]] = []
    for i in range(ITERATIONS):
        for opt in (ours, ref):
            opt.param_groups[0]["params"][0].grad = torch.ones(2)
            opt.step()
        seen.append((ours.param_groups[0]["lr"], ref.param_groups[0]["lr"]))
        if (i + 1) % EPOCH == 0:
            sched.step()
            peer.step()
    for i, (a, b) in enumerate(seen):
        assert a == pytest.approx(b, rel=1e-12) and a == pytest.approx(BASE * s_of(i // EPOCH), rel=1e-12)


def test_inside_sequential_lr_is_refused_and_join_gives_torchs_values() -> None:
    # torch's SequentialLR restarts each child's clock at its milestone: refused at construction, pointing
    # to lrkit.join / warmup(prefix=True).  The recommended replacement gives SequentialLR's own values
    # (torch's LinearLR then CosineAnnealingLR, the peer) at every update.
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=BASE)
    ours = Scheduler(opt, factor=lrkit.linear(0.25, 1.0, steps=8))
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    with pytest.raises(TypeError, match=r"cannot run inside torch's SequentialLR.*lrkit\.join"):
        torch.optim.lr_scheduler.SequentialLR(opt, [ours, cos], milestones=[8])

    joined = lrkit.join([lrkit.linear(0.25, 1.0, steps=8), lrkit.cosine(1.0, steps=20)], boundaries=[8])
    prefixed = lrkit.warmup(lrkit.cosine(1.0, steps=20), steps=8, start_factor=0.25, prefix=True)
    ref = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=BASE)
    seq = torch.optim.lr_scheduler.SequentialLR(
        ref,
        [
            torch.optim.lr_scheduler.LinearLR(ref, start_factor=0.25, total_iters=8),
            torch.optim.lr_scheduler.CosineAnnealingLR(ref, T_max=20),
        ],
        milestones=[8],
    )
    runs = []
    for s in (joined, prefixed):
        o = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=BASE)
        runs.append((o, Scheduler(o, factor=s), Recorder()))
        runs[-1][2].attach(o)
    ref_rec = Recorder()
    ref_rec.attach(ref)
    for _ in range(28):
        for o, sched, _rec in runs:
            o.param_groups[0]["params"][0].grad = torch.ones(2)
            o.step()
            sched.step()
        ref.param_groups[0]["params"][0].grad = torch.ones(2)
        ref.step()
        seq.step()
    for _, _, rec in runs:
        assert [lr for (lr,) in rec.applied] == pytest.approx([lr for (lr,) in ref_rec.applied], rel=1e-12, abs=1e-15)


def test_inside_chained_scheduler_is_refused_at_the_first_step() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=BASE)
    ours = Scheduler(opt, factor=S)
    chain = torch.optim.lr_scheduler.ChainedScheduler([torch.optim.lr_scheduler.ExponentialLR(opt, 0.9), ours])
    opt.param_groups[0]["params"][0].grad = torch.ones(2)
    opt.step()
    with pytest.raises(TypeError, match=r"cannot run inside torch's ChainedScheduler.*s1 \* s2"):
        chain.step()


def test_torch_schedulers_checkpoint_row() -> None:
    # A run started with torch's own LinearLR (the peer: same factor 1 - t/40), checkpointed, resumed in
    # lrkit: the foreign dict is refused by default, taken with on_mismatch='override' and a warning
    # naming what was taken; the LRs continue at base * s(k).
    torch.manual_seed(0)
    rec = Recorder()
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=BASE)
    rec.attach(opt)
    peer = torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=40)

    def update(o: torch.optim.Optimizer) -> None:
        o.param_groups[0]["params"][0].grad = torch.ones(2)
        o.step()

    for _ in range(12):
        update(opt)
        peer.step()
    ckpt = roundtrip({"opt": opt.state_dict(), "sched": copy.deepcopy(peer.state_dict())})
    opt2 = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=BASE)
    rec.attach(opt2)
    sched = Scheduler(opt2, factor=S)
    opt2.load_state_dict(ckpt["opt"])
    with pytest.raises(ValueError, match=r"different schedule.*end_factor=0\.0.*on_mismatch='override'"):
        sched.load_state_dict(ckpt["sched"])
    with pytest.warns(UserWarning, match=r"took step=12 \(its last_epoch\) and base_lrs=\[0\.1\]; ignored its"):
        sched.load_state_dict(ckpt["sched"], on_mismatch="override")
    for _ in range(12):
        update(opt2)
        sched.step()
    assert [lr for (lr,) in rec.applied] == pytest.approx([BASE * s_of(k) for k in range(24)], rel=1e-12, abs=1e-15)
