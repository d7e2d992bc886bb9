"""``lrkit.compat.timm`` against the real ``timm.scheduler``, step by step.

timm installs with ``pip install --no-deps timm`` beside the CPU build of torch
(its dependencies other than torchvision are already there).  ``import timm``
imports torchvision (for its models); the scheduler package needs only torch,
so when torchvision is missing the ``timm`` package is registered without
running its ``__init__`` and ``timm.scheduler`` is imported from timm's own
files: the code under test is timm's, unchanged.

Each comparison drives the genuine scheduler on a torch SGD optimizer the way
timm's ``train.py`` does: ``step_update(num_updates)`` after each update and
``step(epoch + 1)`` after each epoch.  At every update the group's LR must
equal ``s(t)``.  Both sides compute in float64: 1e-12 relative to the peak.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.compat import timm as compat

torch = pytest.importorskip("torch")


def _timm_scheduler() -> Any:
    try:
        return importlib.import_module("timm.scheduler")
    except ImportError:
        pass
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("timm is not installed (pip install --no-deps timm)")
    # timm/__init__ imports torchvision; timm.scheduler does not: load it from timm's files.
    for name in [m for m in sys.modules if m == "timm" or m.startswith("timm.")]:
        del sys.modules[name]
    package = types.ModuleType("timm")
    package.__path__ = list(spec.submodule_search_locations)
    sys.modules["timm"] = package
    return importlib.import_module("timm.scheduler")


timm_scheduler = _timm_scheduler()
LR = 0.1
REL = 1e-12


def peer_lrs(cls: str, kwargs: dict[str, Any], updates: int, steps_per_epoch: int | None = None) -> np.ndarray:
    """The LR of updates 0..updates-1 under the real timm scheduler, driven like timm's train.py."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    per_epoch = steps_per_epoch is not None
    sched = getattr(timm_scheduler, cls)(opt, **kwargs, t_in_epochs=per_epoch)
    out, num_updates, epoch = [], 0, 0
    while num_updates < updates:
        for _ in range(steps_per_epoch or updates):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            num_updates += 1
            sched.step_update(num_updates=num_updates)
        epoch += 1
        sched.step(epoch)
    return np.array(out[:updates])


def check(cls: str, kwargs: dict[str, Any], updates: int, steps_per_epoch: int | None = None) -> None:
    want = peer_lrs(cls, kwargs, updates, steps_per_epoch)
    t = np.arange(updates)
    clock: dict[str, Any] = (
        {"t_in_epochs": False} if steps_per_epoch is None else {"t_in_epochs": True, "steps_per_epoch": steps_per_epoch}
    )
    s = getattr(compat, cls)(**kwargs, **clock, lr=LR)
    assert not s.is_multiplier
    np.testing.assert_allclose(s(t), want, rtol=0, atol=REL * LR)
    scalar = [s(int(k)) for k in t[:: max(1, updates // 40)]]
    np.testing.assert_allclose(scalar, want[:: max(1, updates // 40)], rtol=0, atol=REL * LR)
    # without lr=: the factor, when timm's absolute values are 0
    if not kwargs.get("lr_min") and not (kwargs.get("warmup_t") and kwargs.get("warmup_lr_init")):
        m = getattr(compat, cls)(**kwargs, **clock)
        assert m.is_multiplier
        np.testing.assert_allclose(lrkit.scale(m, LR)(t), want, rtol=0, atol=REL * LR)


WARMUPS = [
    {},
    {"warmup_t": 10, "warmup_lr_init": 1e-4, "warmup_prefix": True},
    {"warmup_t": 10, "warmup_lr_init": 1e-4, "warmup_prefix": False},
    {"warmup_t": 1, "warmup_prefix": False},
    {"warmup_t": 70, "warmup_lr_init": 1e-3, "warmup_prefix": True},  # longer than a cycle
]


@pytest.mark.parametrize("warm", WARMUPS)
@pytest.mark.parametrize(
    "cycle",
    [
        {"t_initial": 50},
        {"t_initial": 50, "lr_min": 1e-3},
        {"t_initial": 1},
        {"t_initial": 20, "cycle_limit": 3, "cycle_decay": 0.5},  # SGDR: lr_min = 0
        {"t_initial": 20, "cycle_limit": 3, "cycle_decay": 0.5, "lr_min": 1e-3},  # pieces
        {"t_initial": 10, "cycle_limit": 4, "cycle_mul": 2.0, "cycle_decay": 0.7, "lr_min": 1e-3},
        {"t_initial": 10, "cycle_limit": 3, "cycle_mul": 1.5},  # cycles of 10, 15, 22.5 steps (SGDR)
        {"t_initial": 20, "cycle_limit": 0},
    ],
)
def test_cosine_per_update(cycle: dict[str, Any], warm: dict[str, Any]) -> None:
    check("CosineLRScheduler", {**cycle, **warm}, 200)


def test_cosine_without_prefix_per_update_where_the_warmup_ends_on_a_cycle_boundary() -> None:
    check("CosineLRScheduler", {"t_initial": 10, "cycle_limit": 3, "warmup_t": 10, "lr_min": 1e-3}, 60)
    check("CosineLRScheduler", {"t_initial": 10, "warmup_t": 15, "warmup_lr_init": 1e-3}, 40)  # past the cycle


@pytest.mark.parametrize(
    "kw",
    [
        {"t_initial": 100, "warmup_t": 10},  # the warmup ends 10 steps into the cosine: it continues from there
        {"t_initial": 20, "cycle_limit": 3, "cycle_decay": 0.5, "lr_min": 1e-3, "warmup_t": 25},  # into cycle 2
        {"t_initial": 10, "cycle_limit": 3, "cycle_mul": 1.5, "warmup_t": 12},  # SGDR, cycles of 10, 15, 22.5
        {"t_initial": 10, "cycle_limit": 4, "cycle_mul": 2.0, "cycle_decay": 0.7, "lr_min": 1e-3, "warmup_t": 3},
        {"t_initial": 30, "warmup_t": 29, "warmup_lr_init": 1e-3, "lr_min": 1e-4},  # one step before the end
        {"t_initial": 5, "cycle_limit": 2, "warmup_t": 13},  # longer than every cycle: lr_min after the ramp
    ],
)
def test_cosine_without_prefix_per_update_inside_a_cycle(kw: dict[str, Any]) -> None:
    # timm replaces the cosine's first warmup_t values by the ramp; the cosine goes on from warmup_t (shift)
    check("CosineLRScheduler", {**kw, "warmup_prefix": False}, 200)


def test_cosine_without_prefix_inside_a_cycle_is_a_shifted_cosine() -> None:
    s = compat.CosineLRScheduler(100, warmup_t=10, t_in_epochs=False, lr=LR)
    assert s == lrkit.join([lrkit.linear(0.0, LR, 10), lrkit.shift(lrkit.cosine(LR, 100), 10)], [10])
    # hand-derived: after the ramp, timm's 0.1 * (1 + cos(pi * t / 100)) / 2 on the global clock
    assert s(9) == pytest.approx(LR * 9 / 10, rel=1e-15)
    for t in (10, 50, 99):
        assert s(t) == pytest.approx(LR * (1 + math.cos(math.pi * t / 100)) / 2, rel=1e-14, abs=1e-17)


@pytest.mark.parametrize("warm", WARMUPS)
@pytest.mark.parametrize(
    "cycle",
    [
        {"t_initial": 50},
        {"t_initial": 20, "cycle_limit": 3, "cycle_decay": 0.5, "lr_min": 1e-3},
        {"t_initial": 7, "cycle_limit": 2, "cycle_mul": 2.0},
    ],
)
@pytest.mark.parametrize("spe", [1, 3])
def test_cosine_per_epoch(cycle: dict[str, Any], warm: dict[str, Any], spe: int) -> None:
    check("CosineLRScheduler", {**cycle, **warm}, 150 * spe, steps_per_epoch=spe)


@pytest.mark.parametrize("warm", WARMUPS)
@pytest.mark.parametrize(
    "cycle",
    [
        {"t_initial": 50},
        {"t_initial": 50, "power": 1.0, "lr_min": 1e-3},
        {"t_initial": 50, "power": 2.0},
        {"t_initial": 20, "power": 0.0},  # (1 - p) ** 0 = 1: flat, then lr_min after the cycle
        {"t_initial": 20, "cycle_limit": 3, "cycle_decay": 0.5, "lr_min": 1e-3},
        {"t_initial": 8, "cycle_limit": 3, "cycle_mul": 2.0, "power": 1.5},
    ],
)
def test_poly(cycle: dict[str, Any], warm: dict[str, Any]) -> None:
    check("PolyLRScheduler", {**cycle, **warm}, 200)
    check("PolyLRScheduler", {**cycle, **warm}, 160, steps_per_epoch=2)


@pytest.mark.parametrize("warm", WARMUPS)
@pytest.mark.parametrize(
    "cycle",
    [
        {"t_initial": 50},
        {"t_initial": 50, "lb": -3.0, "ub": 5.0, "lr_min": 1e-3},
        {"t_initial": 20, "cycle_limit": 3, "cycle_decay": 0.5, "lr_min": 1e-3},
        {"t_initial": 1},
    ],
)
def test_tanh(cycle: dict[str, Any], warm: dict[str, Any]) -> None:
    check("TanhLRScheduler", {**cycle, **warm}, 200)
    check("TanhLRScheduler", {**cycle, **warm}, 120, steps_per_epoch=3)


@pytest.mark.parametrize("warm", WARMUPS)
@pytest.mark.parametrize(
    "kw",
    [
        {"decay_t": 30, "decay_rate": 0.5},
        {"decay_t": 1, "decay_rate": 0.9},
        {"decay_t": 7, "decay_rate": 1.0},
        {"decay_t": 4, "decay_rate": 0.0},  # 0 from the first decay on
    ],
)
def test_step(kw: dict[str, Any], warm: dict[str, Any]) -> None:
    check("StepLRScheduler", {**kw, **warm}, 150)
    check("StepLRScheduler", {**kw, **warm}, 150, steps_per_epoch=4)


@pytest.mark.parametrize("warm", WARMUPS)
@pytest.mark.parametrize(
    "kw",
    [
        {"decay_t": [30, 60, 90], "decay_rate": 0.5},
        {"decay_t": [0, 1, 2], "decay_rate": 0.5},  # milestones at the very start
        {"decay_t": [5, 5, 12], "decay_rate": 0.1},  # a repeated milestone decays twice
        {"decay_t": [], "decay_rate": 0.1},
        {"decay_t": [8, 300], "decay_rate": 0.3},  # one past the end of the run
    ],
)
def test_multistep(kw: dict[str, Any], warm: dict[str, Any]) -> None:
    check("MultiStepLRScheduler", {**kw, **warm}, 120)
    check("MultiStepLRScheduler", {**kw, **warm}, 120, steps_per_epoch=3)


def test_hand_checked_quirks() -> None:
    # MultiStepLRScheduler: milestone m applies at t = m - 1 (torch's MultiStepLR: at m)
    s = compat.MultiStepLRScheduler([10], 0.5, t_in_epochs=False, lr=1.0)
    assert (s(8), s(9)) == (1.0, 0.5)
    # TanhLRScheduler without warmup: update 0 at the optimizer's LR, then the tanh
    t = compat.TanhLRScheduler(100, t_in_epochs=False, lr=1.0)
    assert t(0) == 1.0
    assert t(1) == pytest.approx((1 - math.tanh(-7 * 0.99 + 3 * 0.01)) / 2, rel=1e-14)
    assert t(99) > 0.0 and t(100) == 0.0  # the cycle ends above lr_min, then drops to it
    # warmup_prefix=True: the cosine starts after the warmup and peaks at warmup_t
    c = compat.CosineLRScheduler(100, warmup_t=10, warmup_prefix=True, t_in_epochs=False, lr=1.0)
    assert c(0) == 0.0 and c(5) == 0.5 and c(10) == 1.0 and c(60) == pytest.approx(0.5) and c(110) == 0.0


def hand_create(kwargs: dict[str, Any]) -> Any:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    sched, _ = timm_scheduler.create_scheduler_v2(opt, **kwargs)
    return opt, sched


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(sched="cosine", num_epochs=10, warmup_epochs=2, warmup_prefix=True, min_lr=1e-4),
        dict(sched="cosine", num_epochs=10, warmup_epochs=2, step_on_epochs=True),
        dict(sched="tanh", num_epochs=10, warmup_epochs=1),
        dict(sched="step", num_epochs=10, decay_epochs=3, decay_rate=0.5, warmup_epochs=1),
        dict(sched="constant", num_epochs=10, warmup_epochs=2),
        dict(sched="multistep", num_epochs=10, decay_milestones=[3, 6], decay_rate=0.5),
        dict(sched="poly", num_epochs=10, decay_rate=2.0, warmup_epochs=1, warmup_prefix=True),
        dict(sched="cosine", num_epochs=4, cycle_limit=2, cycle_decay=0.5, min_lr=1e-4),
    ],
)
@pytest.mark.parametrize("step_on_epochs", [True, False])
def test_create_scheduler_v2(kwargs: dict[str, Any], step_on_epochs: bool) -> None:
    upe = 5
    kwargs = {**kwargs, "step_on_epochs": step_on_epochs, "updates_per_epoch": upe}
    if not step_on_epochs and kwargs["sched"] in ("cosine", "tanh") and not kwargs.get("warmup_prefix"):
        kwargs["warmup_prefix"] = True  # per update, a cosine warmup without prefix is refused (tested above)
    opt, sched = hand_create(kwargs)
    want, num_updates = [], 0
    for epoch in range(30):
        for _ in range(upe):
            want.append(opt.param_groups[0]["lr"])
            opt.step()
            num_updates += 1
            sched.step_update(num_updates=num_updates)
        sched.step(epoch + 1)
    s = compat.create_scheduler_v2(**kwargs, lr=LR)
    np.testing.assert_allclose(s(np.arange(len(want))), want, rtol=0, atol=REL * LR)


K_DECAY_CYCLES = [
    {"t_initial": 50},
    {"t_initial": 50, "lr_min": 1e-3},
    {"t_initial": 20, "cycle_limit": 3, "cycle_decay": 0.5},  # lr_min = 0: SGDR without k, pieces with it
    {"t_initial": 10, "cycle_limit": 3, "cycle_mul": 2.0, "cycle_decay": 0.7, "lr_min": 1e-3},
]
K_DECAY_WARMUPS = [
    {},
    {"warmup_t": 10, "warmup_lr_init": 1e-4, "warmup_prefix": True},
    {"warmup_t": 13, "warmup_lr_init": 1e-4, "warmup_prefix": False},  # ends inside a cycle
    {"warmup_t": 70, "warmup_prefix": False},  # longer than the cycles
]


@pytest.mark.parametrize("k", [0.5, 2.0, 3.7])
@pytest.mark.parametrize("warm", K_DECAY_WARMUPS)
@pytest.mark.parametrize("cycle", K_DECAY_CYCLES)
@pytest.mark.parametrize("cls", ["CosineLRScheduler", "PolyLRScheduler"])
def test_k_decay_per_update(cls: str, cycle: dict[str, Any], warm: dict[str, Any], k: float) -> None:
    check(cls, {**cycle, **warm, "k_decay": k}, 120)


@pytest.mark.parametrize("warm", K_DECAY_WARMUPS[:3])
@pytest.mark.parametrize("cls", ["CosineLRScheduler", "PolyLRScheduler"])
def test_k_decay_per_epoch(cls: str, warm: dict[str, Any]) -> None:
    check(cls, {"t_initial": 20, "cycle_limit": 2, "lr_min": 1e-3, **warm, "k_decay": 2.0}, 150, steps_per_epoch=3)


def test_k_decay_is_lrkit_k_by_hand() -> None:
    # timm: lr_min + (lr - lr_min) * (1 + cos(pi * t**k / T**k)) / 2; k = 2, T = 100, t = 50: cos(pi / 4)
    s = compat.CosineLRScheduler(100, k_decay=2.0, t_in_epochs=False, lr=LR)
    assert s == lrkit.cosine(LR, 100, k=2.0)
    assert s(50) == pytest.approx(LR * (1 + math.cos(math.pi / 4)) / 2, rel=1e-15)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: compat.CosineLRScheduler(100, noise_range_t=50, t_in_epochs=False), ValueError, r"noise_range_t=50"),
        (lambda: compat.CosineLRScheduler(100, k_decay=0, t_in_epochs=False), ValueError, r"k_decay must be > 0"),
        (
            lambda: compat.CosineLRScheduler(10, k_decay=2, cycle_mul=1.5, cycle_limit=3, t_in_epochs=False),
            ValueError,
            r"not a whole number of steps",
        ),
        (lambda: compat.CosineLRScheduler(100), TypeError, r"steps_per_epoch"),
        (lambda: compat.CosineLRScheduler(100, lr_min=1e-5, t_in_epochs=False), ValueError, r"pass .* as lr="),
        (lambda: compat.CosineLRScheduler(100, cycle_mul=0.5, t_in_epochs=False), ValueError, r"cycle_mul must be"),
        (lambda: compat.CosineLRScheduler(100, cycle_decay=2, t_in_epochs=False), ValueError, r"cycle_decay must be"),
        (
            lambda: compat.PolyLRScheduler(10, cycle_mul=1.5, cycle_limit=3, t_in_epochs=False),
            ValueError,
            r"not a whole number of steps",
        ),
        (lambda: compat.StepLRScheduler(2.5, t_in_epochs=False), ValueError, r"decay_t must be a whole number"),
        (lambda: compat.MultiStepLRScheduler([30, 10], t_in_epochs=False), ValueError, r"sorted"),
        (lambda: compat.create_scheduler_v2("wsd", updates_per_epoch=10), ValueError, r"sched='wsd' is not"),
        (lambda: compat.create_scheduler_v2("cosine"), ValueError, r"updates_per_epoch must be >= 1"),
    ],
)
def test_refusals(make: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    "spec",
    [
        "timm.CosineLRScheduler(10, warmup_t=2, t_in_epochs=True, steps_per_epoch=3, lr=0.1)",
        "timm.TanhLRScheduler(20, cycle_limit=2, t_in_epochs=False)",
        "timm.StepLRScheduler(5, 0.5, warmup_t=3, warmup_prefix=False, t_in_epochs=False, lr=0.1)",
        "timm.create_scheduler_v2('multistep', decay_milestones=[2, 4], updates_per_epoch=10, lr=0.1)",
    ],
)
def test_by_name_in_specs_and_round_trips(spec: str) -> None:
    s = lrkit.parse(spec)
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s
