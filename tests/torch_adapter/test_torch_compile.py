"""torch.compile and CUDA-graph friendliness: tensor LRs written in place, an on-device step counter."""

from __future__ import annotations

import logging
import math

import pytest
import torch
from torch._dynamo.utils import counters

import lrkit
from lrkit.torch import Scheduler

SCHEDULE = lrkit.warmup(lrkit.cosine(1.0, steps=200), steps=40, prefix=False)


def make(lr: float | torch.Tensor) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 4)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    return model, opt


def compilations(opt: torch.optim.Optimizer, stepper, steps: int) -> tuple[int, int]:
    """Compile ``opt.step`` with dynamo, run ``steps`` updates; return (recompilations, unique graphs).

    A recompilation is a frame traced again because a guard failed (dynamo's ``recompiles`` log; a
    changing float LR is the classic cause).  lrkit's optimizer hooks are ``torch.compiler.disable``d
    (they read Python ints): dynamo then runs torch's thin hook-calling wrapper eagerly and compiles the
    optimizer's own ``step`` frame, so counting frames dynamo *looked at* would also count trivial
    Python frames it skips the first time it sees them; recompilations and graphs are what matter.
    """
    torch._dynamo.reset()
    counters.clear()

    # "eager" backend: recompilations are decided by dynamo's guards, whatever the backend; this keeps
    # the test fast on CPU (inductor would only add C++ compile time per compilation).
    @torch.compile(backend="eager")
    def opt_step() -> None:
        opt.step()

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    torch._logging.set_logs(recompiles=True)
    logger = logging.getLogger("torch._dynamo")
    logger.addHandler(handler)
    try:
        for _ in range(steps):
            opt_step()
            stepper()
    finally:
        logger.removeHandler(handler)
        torch._logging.set_logs()
    recompiles = [r for r in records if "Recompiling" in r.getMessage()]
    return len(recompiles), counters["stats"]["unique_graphs"]


@pytest.mark.slow
def test_tensor_lr_compiles_once_through_warmup_and_decay() -> None:
    _, opt = make(torch.tensor(0.01))
    sched = Scheduler(opt, factor=SCHEDULE)
    recompiles, graphs = compilations(opt, sched.step, 300)
    assert recompiles == 0 and graphs == 1
    assert sched.last_epoch == 300  # the post-hook saw every compiled update


@pytest.mark.slow
def test_tensor_lr_written_by_the_pre_hook_compiles_once() -> None:
    # step() never called: the optimizer pre-hook writes base * s(updates applied) into the tensor LR in
    # place before each compiled update; still one graph, no recompilation, and the exact LR every update.
    _, opt = make(torch.tensor(0.01))
    sched = Scheduler(opt, factor=SCHEDULE)
    seen: list[float] = []
    opt.register_step_pre_hook(lambda o, a, k: seen.append(float(o.param_groups[0]["lr"])))
    recompiles, graphs = compilations(opt, lambda: None, 120)
    assert recompiles == 0 and graphs == 1
    # hand-derived: multiplicative linear warmup over 40 steps times cosine over 200 steps
    want = [0.01 * min(t / 40, 1.0) * 0.5 * (1 + math.cos(math.pi * t / 200)) for t in range(120)]
    assert seen == pytest.approx(want, rel=1e-6, abs=1e-12)
    assert sched.updates_applied == 120


@pytest.mark.slow
def test_control_torch_scheduler_with_float_lr_recompiles() -> None:
    # The counters do see recompilations: torch's own LinearLR writing float LRs triggers them.
    _, opt = make(0.01)
    sched = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=40)
    recompiles, graphs = compilations(opt, sched.step, 50)
    assert recompiles > 0 and graphs > 1


def test_compiled_step_sees_the_schedule() -> None:
    # lrkit's in-place writes vs writing the closed form by hand into the same tensor: the compiled
    # optimizer step must produce bit-identical parameters (compiled Adam differs from eager Adam by
    # itself, so the reference is compiled too).
    results = []
    for use_lrkit in (True, False):
        model, opt = make(torch.tensor(0.01))
        lr = opt.param_groups[0]["lr"]
        base = float(lr)
        sched = Scheduler(opt, factor=SCHEDULE) if use_lrkit else None
        if sched is None:
            lr.fill_(base * SCHEDULE(0))
        torch._dynamo.reset()
        step = torch.compile(opt.step, backend="eager")
        for t in range(1, 61):
            step()
            if sched is not None:
                sched.step()
            else:
                lr.fill_(base * SCHEDULE(t))
        assert float(lr) == pytest.approx(base * SCHEDULE(60), rel=1e-6)
        results.append([p.detach().clone() for p in model.parameters()])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_device_step_writes_the_same_values_as_step() -> None:
    _, host = make(torch.tensor(0.01, dtype=torch.float64))
    _, dev = make(torch.tensor(0.01, dtype=torch.float64))
    a = Scheduler(host, factor=SCHEDULE, count="calls")
    b = Scheduler(dev, factor=SCHEDULE)
    counter = b.device_counter()
    lr_tensor = dev.param_groups[0]["lr"]
    for _ in range(250):
        a.step()
        b.device_step()
        # computed on the tensor path (float64) vs the Python-float path: same formula, same precision
        assert float(lr_tensor) == pytest.approx(float(host.param_groups[0]["lr"]), rel=1e-12, abs=1e-18)
    assert dev.param_groups[0]["lr"] is lr_tensor and float(counter) == 250.0
    assert b.last_epoch == 0  # no host sync happened
    assert b.sync_from_device() == 250 and b.get_last_lr() == a.get_last_lr()


def test_device_step_needs_tensor_values() -> None:
    _, opt = make(0.01)
    s = Scheduler(opt, factor=SCHEDULE)
    with pytest.raises(ValueError, match="tensor values"):
        s.device_counter()
    with pytest.raises(RuntimeError, match="device_counter"):
        s.device_step()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graph capture needs a GPU")
def test_device_step_replays_in_a_cuda_graph() -> None:  # pragma: no cover - GPU only
    model = torch.nn.Linear(8, 4).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=torch.tensor(0.01, device="cuda"), capturable=True)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    sched = Scheduler(opt, factor=SCHEDULE)
    sched.device_counter()
    opt.step()  # warm up state outside the graph
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        opt.step()
        sched.device_step()
    for _ in range(99):
        graph.replay()
    assert sched.sync_from_device() == 100
    assert float(opt.param_groups[0]["lr"]) == pytest.approx(0.01 * SCHEDULE(100), rel=1e-5)
