"""``lrkit.compat.megatron`` against the real Megatron-Core ``OptimizerParamScheduler``, step by step.

The genuine scheduler (``megatron.core.optimizer_param_scheduler``, it imports
and runs on the CPU: it only reads and writes ``optimizer.param_groups``) wraps
a torch SGD optimizer.  Its constructor calls ``step(0)``; the training loop
calls ``step(increment=1)`` after each update.  At every step the group's
``lr`` and ``weight_decay`` must equal the lrkit schedules at ``t = num_steps``.
Far steps are reached with one ``step(increment=k)``.

Tolerance: both compute in float64, in different orders (``init + (max - init)
* t / W`` against ``lerp``), so values agree to 1e-12 relative to the peak.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from lrkit.compat import megatron as compat

torch = pytest.importorskip("torch")
scheduler_module = pytest.importorskip("megatron.core.optimizer_param_scheduler")
logging.getLogger("megatron").setLevel(logging.ERROR)

REL = 1e-12


def peer_values(kwargs: dict[str, Any], steps: int, far: tuple[int, ...] = (10**6,)) -> tuple[np.ndarray, np.ndarray]:
    """(lr, weight_decay) Megatron sets for updates 0..steps-1, then at each of ``far``."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = scheduler_module.OptimizerParamScheduler(opt, **kwargs)
    lrs, wds = [], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        wds.append(opt.param_groups[0]["weight_decay"])
        opt.step()
        sched.step(increment=1)
    for step in far:
        sched.step(increment=step - sched.num_steps)
        lrs.append(opt.param_groups[0]["lr"])
        wds.append(opt.param_groups[0]["weight_decay"])
    return np.array(lrs), np.array(wds)


def check(kwargs: dict[str, Any], steps: int | None = None) -> None:
    steps = steps if steps is not None else kwargs["lr_decay_steps"] + 30
    far = (steps + 7, 10**6)
    want_lr, want_wd = peer_values(kwargs, steps, far)
    t = np.concatenate([np.arange(steps), far])
    lr, wd = compat.OptimizerParamScheduler(**kwargs), compat.OptimizerParamScheduler_wd(**kwargs)
    got_lr, got_wd = lr(t), wd(t)
    assert not lr.is_multiplier
    np.testing.assert_allclose(got_lr, want_lr, rtol=0, atol=REL * max(kwargs["max_lr"], 1e-300))
    np.testing.assert_allclose(got_wd, want_wd, rtol=0, atol=REL * max(kwargs["end_wd"], 1e-300))
    # scalar evaluation agrees with the vectorized one, step for step
    assert [lr(int(k)) for k in t[:: max(1, steps // 50)]] == pytest.approx(got_lr[:: max(1, steps // 50)], rel=1e-15)


BASE: dict[str, Any] = dict(
    init_lr=1e-5,
    max_lr=3e-4,
    min_lr=3e-5,
    lr_warmup_steps=20,
    lr_decay_steps=200,
    lr_decay_style="cosine",
    start_wd=0.01,
    end_wd=0.1,
    wd_incr_steps=150,
    wd_incr_style="linear",
)


@pytest.mark.parametrize("style", ["constant", "linear", "cosine", "inverse-square-root"])
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"lr_warmup_steps": 0},  # no warmup: max_lr at step 0
        {"init_lr": 0.0, "min_lr": 0.0},
        {"lr_warmup_steps": 199},  # warmup ends one step before the decay does
        {"lr_warmup_steps": 1, "lr_decay_steps": 2},  # the shortest phases
        {"init_lr": 3e-4, "min_lr": 3e-4},  # flat
        {"lr_decay_steps": 37, "lr_warmup_steps": 13, "init_lr": 2e-4},  # odd lengths
    ],
)
def test_lr_decay_styles_match_megatron(style: str, overrides: dict[str, Any]) -> None:
    check({**BASE, "lr_decay_style": style, **overrides})


@pytest.mark.parametrize("decay", ["linear", "cosine", "minus_sqrt", "exponential"])
@pytest.mark.parametrize(
    "overrides",
    [
        {"wsd_decay_steps": 50},
        {"wsd_decay_steps": 180},  # the cooldown starts right at the end of the warmup
        {"wsd_decay_steps": 1},
        {"wsd_decay_steps": 0},  # no cooldown: a drop to min_lr after lr_decay_steps
        {"wsd_decay_steps": 60, "lr_warmup_steps": 0, "min_lr": 0.0},
        {"wsd_decay_steps": 190},  # the cooldown starts at 10, inside the warmup: a jump down at 21
        {"wsd_decay_steps": 181},  # starts one step before the warmup ends
        {"wsd_decay_steps": 200},  # starts at step 0
        {"wsd_decay_steps": 260},  # starts before step 0 (Megatron's anneal start is -60)
        {"wsd_decay_steps": 230, "lr_warmup_steps": 0},  # no warmup, cooldown already 30 steps in at step 0
        {"wsd_decay_steps": 3, "lr_warmup_steps": 9, "lr_decay_steps": 10},  # short, odd phases
    ],
)
def test_wsd_matches_megatron(decay: str, overrides: dict[str, Any]) -> None:
    check({**BASE, "lr_decay_style": "WSD", "lr_wsd_decay_style": decay, **overrides})


@pytest.mark.parametrize(
    "overrides",
    [
        {"wd_incr_style": "linear"},
        {"wd_incr_style": "cosine"},
        {"wd_incr_style": "cosine", "wd_incr_steps": 1},
        {"wd_incr_style": "linear", "wd_incr_steps": 500},  # still rising when the LR has ended
        {"wd_incr_style": "constant", "start_wd": 0.05, "end_wd": 0.05},
    ],
)
def test_weight_decay_increment_styles_match_megatron(overrides: dict[str, Any]) -> None:
    check({**BASE, **overrides})


def test_hand_checked_values() -> None:
    # linear: init + (max - init) * t / W in the warmup; max at W; min at D; min after
    s = compat.OptimizerParamScheduler(**{**BASE, "init_lr": 0.0, "lr_decay_style": "linear"})
    assert s(0) == 0.0 and s(10) == pytest.approx(1.5e-4, rel=1e-15) and s(20) == 3e-4
    assert s(110) == pytest.approx((3e-4 + 3e-5) / 2, rel=1e-14) and s(200) == 3e-5 and s(10**9) == 3e-5
    # inverse-square-root: max * sqrt(W / t), clipped at min_lr up to D, then min_lr
    r = compat.OptimizerParamScheduler(**{**BASE, "lr_decay_style": "inverse-square-root", "min_lr": 0.0})
    assert r(80) == pytest.approx(3e-4 * 0.5, rel=1e-15) and r(200) == pytest.approx(3e-4 * (20 / 200) ** 0.5)
    assert r(201) == 0.0
    # weight decay cosine rise: (1 - cos(π t / N)) / 2 of the way
    w = compat.OptimizerParamScheduler_wd(**{**BASE, "wd_incr_style": "cosine"})
    assert w(0) == 0.01 and w(75) == pytest.approx(0.055, rel=1e-15) and w(150) == 0.1


def test_wsd_cooldown_inside_the_warmup_by_hand() -> None:
    # W = 20, D = 200, S = 190: anneal start A = 10. Megatron: init + (max - init) * t / 20 up to t = 20 (max_lr),
    # then min + (max - min) * (1 - (t - 10) / 190) (linear) up to t = 200, min_lr after.
    kw = {**BASE, "lr_decay_style": "WSD", "lr_wsd_decay_style": "linear", "wsd_decay_steps": 190}
    s = compat.OptimizerParamScheduler(**kw)
    assert s(20) == 3e-4
    for t in (21, 100, 199):
        assert s(t) == pytest.approx(3e-5 + (3e-4 - 3e-5) * (1 - (t - 10) / 190), rel=1e-14)
    assert s(200) == 3e-5 and s(10**6) == 3e-5


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"lr_warmup_steps": 200}, r"lr_warmup_steps must be < lr_decay_steps \(200\), got 200"),
        ({"min_lr": 1e-3}, r"max_lr must be >= min_lr"),
        ({"init_lr": 1e-3}, r"init_lr must be <= max_lr"),
        ({"lr_decay_style": "noam"}, r"lr_decay_style"),
        ({"lr_decay_style": "WSD"}, r"wsd_decay_steps=None is not supported"),
        (
            {"lr_decay_style": "WSD", "wsd_decay_steps": 10, "lr_wsd_decay_style": "step"},
            r"lr_wsd_decay_style",
        ),
        ({"wd_incr_steps": 0}, r"wd_incr_steps must be >= 1, got 0 \(Megatron divides by zero"),
        ({"wd_incr_style": "constant"}, r"end_wd must be equal to start_wd"),
        ({"end_wd": 0.001}, r"end_wd must be >= start_wd"),
        ({"lr_decay_steps": 2.5}, r"whole number"),
    ],
)
def test_what_megatron_asserts_or_cannot_be_copied_raises_value_error(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        compat.OptimizerParamScheduler(**{**BASE, **overrides})


def test_by_name_in_specs_and_round_trips() -> None:
    import lrkit

    s = lrkit.parse(
        "megatron.OptimizerParamScheduler(0.0, 3e-4, 3e-5, 20, 200, 'WSD', 0.1, 0.1, 0, 'constant', "
        "wsd_decay_steps=50, lr_wsd_decay_style='cosine')"
    )
    assert s == compat.OptimizerParamScheduler(
        0.0, 3e-4, 3e-5, 20, 200, "WSD", 0.1, 0.1, 0, "constant", None, None, 50, "cosine"
    )
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s
