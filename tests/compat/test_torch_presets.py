"""``lrkit.compat.torch`` against the real ``torch.optim.lr_scheduler`` classes, stepped with a real SGD optimizer.

Each comparison builds the genuine torch scheduler on an SGD optimizer and
steps it after each ``optimizer.step()``, as a training loop does, recording
the LR of every update; the lrkit schedule must give the same LR at every
step.  Both compute in float64: the tolerance is 1e-12 relative to the value,
or to the schedule's peak for values near 0 (torch's recursive forms lose
relative precision where the LR nears 0, e.g. ``1 - cos(π / T)``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.compat import torch as T

torch = pytest.importorskip("torch")
sched_mod = torch.optim.lr_scheduler
RTOL = 1e-12


def make_opt(lr: float = 0.1, groups: int = 1, betas: bool = False) -> Any:
    params = [
        {"params": [torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))], "lr": lr * (i + 1)} for i in range(groups)
    ]
    if betas:
        return torch.optim.Adam(params, lr=lr)
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def torch_values(sched: Any, opt: Any, steps: int, key: str = "lr", group: int = 0) -> np.ndarray:
    out = np.empty(steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about some schedulers' epoch handling; irrelevant here
        for k in range(steps):
            g = opt.param_groups[group]
            out[k] = g["betas"][0] if key == "betas[0]" else g[key]
            opt.step()
            if k < steps - 1:
                sched.step()
    return out


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    peak = float(np.max(np.abs(want))) or 1.0
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=RTOL * peak)


def check(cls: str, kwargs: dict[str, Any], steps: int, *, lr: float = 0.1, absolute: bool = False) -> lrkit.Schedule:
    """Step torch's ``cls(opt, **kwargs)``; compare with lrkit's preset, with ``lr=`` and as a factor."""
    opt = make_opt(lr)
    want = torch_values(getattr(sched_mod, cls)(opt, **kwargs), opt, steps)
    fn = getattr(T, cls)
    if absolute:
        s = fn(**kwargs)
        assert not s.is_multiplier
        assert_close(s(np.arange(steps)), want)
        return s
    s = fn(**kwargs, lr=lr)
    assert not s.is_multiplier
    assert_close(s(np.arange(steps)), want)
    for k in (0, steps // 2, steps - 1):  # scalar path too
        assert math.isclose(s(k), want[k], rel_tol=RTOL, abs_tol=RTOL * lr)
    if "eta_min" not in kwargs or kwargs["eta_min"] == 0:
        f = fn(**kwargs)
        assert f.is_multiplier
        assert_close(lr * f(np.arange(steps)), want)
    return s


# -- every constructor, every step, several parameter sets --------------------------------


@pytest.mark.parametrize("kw", [{"step_size": 3}, {"step_size": 1, "gamma": 0.5}, {"step_size": 7, "gamma": 0.9}])
def test_step_lr(kw: dict[str, Any]) -> None:
    check("StepLR", kw, 60)


@pytest.mark.parametrize(
    "kw",
    [
        {"milestones": [5, 10, 20]},
        {"milestones": [0, 3], "gamma": 0.5},  # a milestone at 0 applies from the first step
        {"milestones": [10, 4, 4], "gamma": 0.5},  # unsorted and repeated: torch counts a multiset
    ],
)
def test_multistep_lr(kw: dict[str, Any]) -> None:
    check("MultiStepLR", kw, 40)


@pytest.mark.parametrize("kw", [{}, {"factor": 0.5, "total_iters": 1}, {"factor": 1.0, "total_iters": 3}])
def test_constant_lr(kw: dict[str, Any]) -> None:
    s = check("ConstantLR", kw, 20)
    factor, total = kw.get("factor", 1 / 3), kw.get("total_iters", 5)
    assert s(total - 1) == pytest.approx(0.1 * factor) and s(total) == 0.1  # hand-derived boundary


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"start_factor": 0.1, "end_factor": 0.5, "total_iters": 10},
        {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 1},
    ],
)
def test_linear_lr(kw: dict[str, Any]) -> None:
    check("LinearLR", kw, 30)


@pytest.mark.parametrize("gamma", [0.9, 0.5, 1.0])
def test_exponential_lr(gamma: float) -> None:
    check("ExponentialLR", {"gamma": gamma}, 200)


@pytest.mark.parametrize(
    "kw", [{}, {"total_iters": 10, "power": 2.0}, {"total_iters": 1, "power": 0.5}, {"total_iters": 7, "power": 0.0}]
)
def test_polynomial_lr(kw: dict[str, Any]) -> None:
    check("PolynomialLR", kw, 30)


@pytest.mark.parametrize(
    "kw", [{"T_max": 10}, {"T_max": 7, "eta_min": 0.01}, {"T_max": 1}, {"T_max": 100, "eta_min": 1e-4}]
)
def test_cosine_annealing_lr_keeps_oscillating_after_t_max(kw: dict[str, Any]) -> None:
    t_max = kw["T_max"]
    s = check("CosineAnnealingLR", kw, 5 * t_max + 3)  # five half periods: past T_max, back up, down again
    # Hand-derived from torch's recursion: back at the base LR at 2 T_max, at eta_min at 3 T_max.
    assert s(2 * t_max) == pytest.approx(0.1, rel=1e-15) and s(3 * t_max) == pytest.approx(kw.get("eta_min", 0.0))


@pytest.mark.parametrize(
    "kw", [{"T_0": 5}, {"T_0": 3, "T_mult": 2}, {"T_0": 1, "T_mult": 3, "eta_min": 0.001}, {"T_0": 4, "eta_min": 0.05}]
)
def test_cosine_annealing_warm_restarts(kw: dict[str, Any]) -> None:
    check("CosineAnnealingWarmRestarts", kw, 130)


@pytest.mark.parametrize(
    "kw",
    [
        {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4},
        {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 7, "mode": "triangular2"},
        {"base_lr": 0.001, "max_lr": 0.1, "step_size_up": 5, "step_size_down": 2, "mode": "exp_range", "gamma": 0.99},
        {"base_lr": 0.05, "max_lr": 0.05, "step_size_up": 1},
    ],
)
def test_cyclic_lr(kw: dict[str, Any]) -> None:
    check("CyclicLR", kw, 120, absolute=True)


@pytest.mark.parametrize(
    "kw",
    [
        {"max_lr": 0.1, "total_steps": 100},
        {"max_lr": 0.1, "total_steps": 50, "pct_start": 0.25, "anneal_strategy": "linear"},
        {"max_lr": 1.0, "epochs": 4, "steps_per_epoch": 25, "three_phase": True, "div_factor": 10.0},
        {
            "max_lr": 0.3,
            "total_steps": 37,
            "pct_start": 0.1,
            "three_phase": True,
            "anneal_strategy": "linear",
            "final_div_factor": 100.0,
        },
    ],
)
def test_one_cycle_lr(kw: dict[str, Any]) -> None:
    total = kw.get("total_steps") or kw["epochs"] * kw["steps_per_epoch"]
    s = check("OneCycleLR", kw, total, absolute=True)  # torch raises past step total_steps
    # The one named difference: torch's step N overshoots its last phase; lrkit holds the minimum.
    minimum = kw["max_lr"] / kw.get("div_factor", 25.0) / kw.get("final_div_factor", 1e4)
    assert s(total) == pytest.approx(minimum, rel=1e-12) and s(10 * total) == s(total)
    opt = make_opt()
    beyond = torch_values(sched_mod.OneCycleLR(opt, **kw), opt, total + 1)[total]
    # torch's step N: its last phase overshoots, above the minimum (cos) or below it (linear)
    if kw.get("anneal_strategy", "cos") == "cos":
        assert beyond > minimum
    else:
        assert beyond < minimum


def test_momentum_schedules_drive_momentum_and_betas() -> None:
    from lrkit.torch import Scheduler

    one = {"max_lr": 0.1, "total_steps": 60, "three_phase": True, "base_momentum": 0.8, "max_momentum": 0.9}
    cyc = {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "step_size_down": 6, "base_momentum": 0.7}
    for cls, kw, steps in (
        ("OneCycleLR", one, 60),
        ("OneCycleLR", {**one, "three_phase": False}, 60),
        ("CyclicLR", cyc, 50),
    ):
        for betas, key in ((False, "momentum"), (True, "betas[0]")):
            opt = make_opt(0.1, betas=betas)
            want = torch_values(getattr(sched_mod, cls)(opt, **kw), opt, steps, key=key)
            m = getattr(T, f"{cls}_momentum")(**kw)
            assert_close(m(np.arange(steps)), want)
            # and the lrkit Scheduler writes exactly that into the optimizer
            opt2 = make_opt(0.1, betas=betas)
            sched = Scheduler(opt2, value=m, hyperparam=key)
            got = torch_values(sched, opt2, steps, key=key)
            assert_close(got, want)


@pytest.mark.parametrize(
    "kw",
    [
        {"step_size_up": 4, "step_size_down": 6, "mode": "triangular2"},
        {"step_size_up": 5, "mode": "triangular2", "base_momentum": 0.85, "max_momentum": 0.95},
        {"step_size_up": 3, "step_size_down": 7, "mode": "exp_range", "gamma": 0.97},
        {"step_size_up": 1, "step_size_down": 1, "mode": "exp_range", "gamma": 0.999},  # shortest phases
        {"step_size_up": 4, "mode": "triangular", "base_momentum": 0.9, "max_momentum": 0.9},  # flat
        # max below base: torch's max - (max - base) * scale rises with the LR
        {"step_size_up": 3, "step_size_down": 5, "mode": "triangular2", "base_momentum": 0.95, "max_momentum": 0.85},
        {"step_size_up": 2, "mode": "exp_range", "gamma": 0.9, "base_momentum": 1.0, "max_momentum": 0.0},
    ],
)
def test_cyclic_momentum_every_mode(kw: dict[str, Any]) -> None:
    full = {"base_lr": 0.01, "max_lr": 0.1, **kw}
    for betas, key in ((False, "momentum"), (True, "betas[0]")):
        opt = make_opt(0.1, betas=betas)
        want = torch_values(sched_mod.CyclicLR(opt, **full), opt, 80, key=key)
        assert_close(T.CyclicLR_momentum(**full)(np.arange(80)), want)


@pytest.mark.parametrize("make", [T.CyclicLR_momentum, T.OneCycleLR_momentum])
def test_momentum_without_cycle_momentum_is_refused(make: Any) -> None:
    # torch with cycle_momentum=False never writes the momentum: there is no schedule to return
    kw = {"max_lr": 0.1, "total_steps": 10} if make is T.OneCycleLR_momentum else {"base_lr": 0.01, "max_lr": 0.1}
    opt = make_opt(0.1)
    torch_cls = sched_mod.OneCycleLR if make is T.OneCycleLR_momentum else sched_mod.CyclicLR
    sched = torch_cls(opt, **kw, cycle_momentum=False)
    for _ in range(3):
        opt.step()
        sched.step()
    assert opt.param_groups[0]["momentum"] == 0.9  # make_opt's, untouched
    with pytest.raises(ValueError, match=r"cycle_momentum=False is not supported: torch then leaves"):
        make(**kw, cycle_momentum=False)
    with pytest.raises(TypeError, match=r"cycle_momentum"):
        make(**kw, cycle_momentum="False")


def test_cyclic_momentum_by_hand() -> None:
    # triangular2, up = down = 5: 0.9 - 0.1 * scale * 0.5 ** cycle; the second peak (t = 15) is 0.9 - 0.05
    m = T.CyclicLR_momentum(0.01, 0.1, 5, mode="triangular2")
    assert m(0) == 0.9 and m(5) == pytest.approx(0.8, rel=1e-15) and m(10) == 0.9
    assert m(15) == pytest.approx(0.85, rel=1e-15) and m(25) == pytest.approx(0.875, rel=1e-15)


# -- SequentialLR and ChainedScheduler --------------------------------------------------------


def sequential(opt: Any, parts: list[tuple[str, dict[str, Any]]], milestones: list[int]) -> Any:
    return sched_mod.SequentialLR(opt, [getattr(sched_mod, c)(opt, **kw) for c, kw in parts], milestones)


SEQUENCES = [
    # warmup then cosine: the common recipe
    ([("LinearLR", {"start_factor": 0.1, "total_iters": 5}), ("CosineAnnealingLR", {"T_max": 20})], [5]),
    # a warmup longer than its milestone: cut at the milestone
    ([("LinearLR", {"start_factor": 0.1, "total_iters": 10}), ("StepLR", {"step_size": 3, "gamma": 0.5})], [4]),
    # zero-length phases: a repeated milestone and a milestone 0 never run
    (
        [
            ("ConstantLR", {"factor": 0.5, "total_iters": 2}),
            ("ExponentialLR", {"gamma": 0.9}),
            ("MultiStepLR", {"milestones": [2, 6]}),
        ],
        [3, 3],
    ),
    ([("ConstantLR", {"factor": 0.5}), ("PolynomialLR", {"total_iters": 6, "power": 2.0})], [0]),
    (
        [
            ("LinearLR", {}),
            ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2}),
            ("CosineAnnealingLR", {"T_max": 5, "eta_min": 0.01}),
        ],
        [5, 25],
    ),
]


@pytest.mark.parametrize(("parts", "milestones"), SEQUENCES)
def test_sequential_lr(parts: list[tuple[str, dict[str, Any]]], milestones: list[int]) -> None:
    steps = 70
    opt = make_opt(0.1)
    want = torch_values(sequential(opt, parts, milestones), opt, steps)
    s = T.SequentialLR([getattr(T, c)(**kw, lr=0.1) for c, kw in parts], milestones)
    assert_close(s(np.arange(steps)), want)


CHAINS = [
    [("ConstantLR", {"factor": 0.5, "total_iters": 4}), ("ExponentialLR", {"gamma": 0.95})],
    [
        ("LinearLR", {"start_factor": 0.2, "total_iters": 6}),
        ("MultiStepLR", {"milestones": [3, 10]}),
        ("PolynomialLR", {"total_iters": 30}),
    ],
    [
        ("StepLR", {"step_size": 4, "gamma": 0.5}),
        ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 1}),
    ],
]


@pytest.mark.parametrize("parts", CHAINS)
def test_chained_scheduler(parts: list[tuple[str, dict[str, Any]]]) -> None:
    steps = 45
    opt = make_opt(0.1)
    chain = sched_mod.ChainedScheduler([getattr(sched_mod, c)(opt, **kw) for c, kw in parts])
    want = torch_values(chain, opt, steps)
    s = T.ChainedScheduler([getattr(T, c)(**kw) for c, kw in parts], lr=0.1)
    assert not s.is_multiplier
    assert_close(s(np.arange(steps)), want)
    assert T.ChainedScheduler([getattr(T, c)(**kw) for c, kw in parts]).is_multiplier


def test_chained_scheduler_refuses_what_is_not_a_product() -> None:
    with pytest.raises(TypeError, match=r"\(cosine\) does not multiply"):
        T.ChainedScheduler([T.CosineAnnealingLR(10), T.ExponentialLR(0.9)])
    with pytest.raises(TypeError, match="not a factor"):
        T.ChainedScheduler([T.StepLR(3, lr=0.1)])


# -- quirks refused loudly ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (lambda: T.CyclicLR(0.01, 0.1, scale_fn=lambda x: 1.0), TypeError, "scale_fn.*use mode="),
        (lambda: T.CyclicLR([0.01, 0.02], 0.1), TypeError, "one schedule per group"),
        (lambda: T.ConstantLR(factor=0.0), ValueError, r"factor must be in \(0, 1\], got 0.0"),
        (lambda: T.ConstantLR(total_iters=0), ValueError, "total_iters must be"),
        (lambda: T.LinearLR(total_iters=0), ValueError, "total_iters must be"),
        (lambda: T.PolynomialLR(total_iters=0), ValueError, "total_iters must be"),
        (lambda: T.CosineAnnealingLR(10, eta_min=0.01), TypeError, "eta_min=0.01 is an absolute learning rate"),
        (lambda: T.OneCycleLR(0.1), TypeError, "total_steps"),
        (lambda: T.OneCycleLR(0.1, 50, pct_start=0.01), ValueError, "leaves a phase without steps"),
        (lambda: T.SequentialLR([T.StepLR(2), T.StepLR(3)], [5, 6]), ValueError, "len\\(milestones\\)"),
        (lambda: T.SequentialLR([T.StepLR(2), T.StepLR(3), T.StepLR(4)], [5, 2]), ValueError, "milestones\\[1\\]"),
    ],
)
def test_refused_with_a_message(call: Callable[[], Any], exc: type, message: str) -> None:
    with pytest.raises(exc, match=message):
        call()


def test_torch_really_does_what_the_refusals_say() -> None:
    # ConstantLR(factor=0): stepped torch divides by zero at total_iters
    opt = make_opt()
    s = sched_mod.ConstantLR(opt, factor=0.0, total_iters=2)
    opt.step()
    s.step()
    with pytest.raises(ZeroDivisionError):
        opt.step()
        s.step()
    # LinearLR(total_iters=0): stepped torch holds start_factor forever
    opt = make_opt()
    assert torch_values(sched_mod.LinearLR(opt, start_factor=0.5, total_iters=0), opt, 5).tolist() == [0.05] * 5


# -- presets by name, native results ---------------------------------------------------------


def test_presets_are_registered_and_native() -> None:
    assert "torch.CosineAnnealingLR" in lrkit.compat.presets("torch")
    s = lrkit.parse("torch.CosineAnnealingLR(T_max=100, lr=0.1)")
    assert s == lrkit.cosine(0.1, 100, periodic=True)
    assert lrkit.parse(repr(s)) == s and "torch" not in repr(s)
    seq = lrkit.parse("torch.SequentialLR([torch.LinearLR(0.1, total_iters=5), torch.CosineAnnealingLR(20)], [5])")
    assert seq.is_multiplier and seq == lrkit.join(
        [lrkit.multiplier(lrkit.linear(0.1, 1.0, 5)), lrkit.multiplier(lrkit.cosine(1.0, 20, periodic=True))], [5]
    )


# -- from_scheduler: live schedulers, fresh or part-way ------------------------------------------

LIVE: list[Callable[[Any], Any]] = [
    lambda o: sched_mod.StepLR(o, 3, 0.5),
    lambda o: sched_mod.MultiStepLR(o, [4, 2, 9], 0.5),
    lambda o: sched_mod.ConstantLR(o, 0.25, 6),
    lambda o: sched_mod.LinearLR(o, 0.2, 0.8, 7),
    lambda o: sched_mod.ExponentialLR(o, 0.93),
    lambda o: sched_mod.PolynomialLR(o, 12, 1.5),
    lambda o: sched_mod.CosineAnnealingLR(o, 9, 0.001),
    lambda o: sched_mod.CosineAnnealingWarmRestarts(o, 3, 2, 0.002),
    lambda o: sched_mod.CyclicLR(o, 0.01, 0.2, 3, 5, "triangular2"),
    lambda o: sched_mod.CyclicLR(o, 0.01, 0.2, 4, mode="exp_range", gamma=0.98),
    lambda o: sched_mod.OneCycleLR(o, [0.5, 1.0], total_steps=60, three_phase=True),
    lambda o: sched_mod.OneCycleLR(o, 0.5, epochs=3, steps_per_epoch=20, anneal_strategy="linear", pct_start=0.4),
    lambda o: sched_mod.SequentialLR(
        o, [sched_mod.LinearLR(o, 0.1, total_iters=8), sched_mod.CosineAnnealingLR(o, 30, 0.01)], [5]
    ),
    lambda o: sched_mod.SequentialLR(
        o,
        [
            sched_mod.SequentialLR(o, [sched_mod.ConstantLR(o, 0.5, 3), sched_mod.ExponentialLR(o, 0.9)], [6]),
            sched_mod.StepLR(o, 4),
        ],
        [10],
    ),
    lambda o: sched_mod.ChainedScheduler([sched_mod.LinearLR(o, 0.3, total_iters=5), sched_mod.StepLR(o, 7, 0.5)]),
]


@pytest.mark.parametrize("make", LIVE)
@pytest.mark.parametrize("done", [0, 13])
@pytest.mark.parametrize("group", [0, 1])
def test_from_scheduler(make: Callable[[Any], Any], done: int, group: int) -> None:
    opt = make_opt(0.1, groups=2)
    sched = make(opt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(done):  # part-way through training
            opt.step()
            sched.step()
    s = T.from_scheduler(sched, group=group)
    steps = 45
    want = torch_values(sched, opt, steps, group=group)
    # step k counts from the scheduler's construction: the next update is k = done
    assert_close(s(np.arange(done, done + steps)), want)
    assert lrkit.parse(repr(s)) == s


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda o: sched_mod.LambdaLR(o, lambda t: 0.9**t), "LambdaLR runs a Python function.*lrkit schedule"),
        (lambda o: sched_mod.MultiplicativeLR(o, lambda t: 0.9), "MultiplicativeLR.*lrkit schedule"),
        (lambda o: sched_mod.ReduceLROnPlateau(o), "ReduceLROnPlateau.*lrkit.Plateau"),
        (lambda o: sched_mod.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 1.0), "scale_fn"),
        (
            lambda o: sched_mod.ChainedScheduler([sched_mod.CosineAnnealingLR(o, 5), sched_mod.StepLR(o, 2)]),
            "not a product",
        ),
        (  # torch itself fails at the milestone (NotImplementedError): refused up front
            lambda o: sched_mod.SequentialLR(
                o,
                [
                    sched_mod.StepLR(o, 2),
                    sched_mod.SequentialLR(o, [sched_mod.StepLR(o, 3), sched_mod.StepLR(o, 4)], [2]),
                ],
                [5],
            ),
            "only the first scheduler may be a combination",
        ),
    ],
)
def test_from_scheduler_refuses_what_is_not_a_schedule(make: Callable[[Any], Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        T.from_scheduler(make(make_opt()))


def test_from_scheduler_drives_lrkit_scheduler_on_resume() -> None:
    from lrkit.torch import Scheduler

    opt = make_opt(0.1)
    sched = sched_mod.SequentialLR(
        opt, [sched_mod.LinearLR(opt, 0.1, total_iters=5), sched_mod.CosineAnnealingLR(opt, 20)], [5]
    )
    want = torch_values(sched, opt, 40)
    opt2 = make_opt(0.1)
    got = torch_values(Scheduler(opt2, lr=T.from_scheduler(sched)), opt2, 40)
    assert_close(got, want)
