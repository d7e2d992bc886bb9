"""lrkit.torch.WarmupMultiStepLR against the seed's class, kept here with its exact semantics."""

from __future__ import annotations

import math
from bisect import bisect_right

import pytest
import torch

import lrkit
from lrkit.torch import WarmupMultiStepLR

LRS = (0.1, 0.02, 0.35)


class SeedWarmupMultiStepLR(torch.optim.lr_scheduler.LRScheduler):
    """The seed's class (maskrcnn-benchmark lineage), same checks and get_lr, on torch's LRScheduler."""

    def __init__(
        self,
        optimizer,
        milestones,
        gamma=0.1,
        warmup_factor=1.0 / 3,
        warmup_iters=500,
        warmup_method="linear",
        last_epoch=-1,
    ):
        if not list(milestones) == sorted(milestones):
            raise ValueError(
                "Milestones should be a list of increasing integers. Got {}",
                milestones,
            )
        if warmup_method not in ("constant", "linear"):
            raise ValueError(f"Only 'constant' or 'linear' warmup_method acceptedgot {warmup_method}")
        self.milestones = milestones
        self.gamma = gamma
        self.warmup_factor = warmup_factor
        self.warmup_iters = warmup_iters
        self.warmup_method = warmup_method
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        warmup_factor = 1
        if self.last_epoch < self.warmup_iters:
            if self.warmup_method == "constant":
                warmup_factor = self.warmup_factor
            elif self.warmup_method == "linear":
                alpha = float(self.last_epoch) / self.warmup_iters
                warmup_factor = self.warmup_factor * (1 - alpha) + alpha
        return [
            base_lr * warmup_factor * self.gamma ** bisect_right(self.milestones, self.last_epoch)
            for base_lr in self.base_lrs
        ]


def make_opt() -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(3)) for _ in LRS]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, LRS, strict=True)], lr=1.0)


def update(opt: torch.optim.Optimizer) -> None:
    for g in opt.param_groups:
        for p in g["params"]:
            p.grad = torch.zeros_like(p)
    opt.step()


def lrs(opt: torch.optim.Optimizer) -> list[float]:
    return [g["lr"] for g in opt.param_groups]


def same(a: list[float], b: list[float]) -> bool:
    # The seed multiplies (base * factor) * gamma**k; lrkit composes base * (factor * (1.0 * gamma**k)).
    # Float multiplication is not associative: the two agree to a couple of ulps, not bit for bit.
    return all(math.isclose(x, y, rel_tol=4e-16 * 4, abs_tol=0.0) for x, y in zip(a, b, strict=True))


def run_both(steps: int, **kw) -> None:
    ours, ref = make_opt(), make_opt()
    a = WarmupMultiStepLR(ours, **kw)
    b = SeedWarmupMultiStepLR(ref, **kw)
    assert a.last_epoch == b.last_epoch
    for t in range(steps):
        assert same(lrs(ours), lrs(ref)), (t, lrs(ours), lrs(ref))
        assert same(a.get_last_lr(), b.get_last_lr()), t
        update(ours)
        update(ref)
        a.step()
        b.step()


@pytest.mark.parametrize("method", ["linear", "constant"])
@pytest.mark.parametrize(
    ("milestones", "gamma", "warmup_factor", "warmup_iters"),
    [
        ([600, 900, 1200], 0.1, 1.0 / 3, 500),
        ([300, 500, 500, 1500], 0.5, 0.001, 500),  # milestone inside warmup, a repeated milestone, at warmup end
        ([499, 500, 501], 0.3, 0.25, 500),  # milestones at warmup_iters - 1, warmup_iters, warmup_iters + 1
        ([1, 2], 0.9, 0.0, 1),
        ([100], 0.1, 0.5, 0),  # no warmup at all
    ],
)
def test_values_match_the_seed_over_2000_steps(milestones, gamma, warmup_factor, warmup_iters, method) -> None:
    run_both(
        2000,
        milestones=milestones,
        gamma=gamma,
        warmup_factor=warmup_factor,
        warmup_iters=warmup_iters,
        warmup_method=method,
    )


def test_the_seeds_call_with_lrepochs() -> None:
    # The seed: --lrepochs "10,12,14,16:2", milestones = len(train_loader) * epoch, gamma = 1 / 2,
    # warmup_factor=1/3, warmup_iters=500, last_epoch = len(train_loader) * 0 - 1.
    steps_per_epoch = 120
    milestones, gamma = lrkit.parse_lrepochs("10,12,14,16:2", steps_per_epoch)
    seed_milestones = [steps_per_epoch * int(e) for e in "10,12,14,16:2".split(":")[0].split(",")]
    seed_gamma = 1 / float("10,12,14,16:2".split(":")[1])
    assert (milestones, gamma) == (seed_milestones, seed_gamma)
    run_both(
        17 * steps_per_epoch,
        milestones=milestones,
        gamma=gamma,
        warmup_factor=1.0 / 3,
        warmup_iters=500,
        last_epoch=steps_per_epoch * 0 - 1,
    )


def test_last_epoch_resume_semantics() -> None:
    # torch's meaning, kept by the seed: last_epoch=k needs 'initial_lr' in the groups and starts at step k + 1.
    for k in (0, 498, 499, 500, 1199, 1200, 5000):
        ours, ref = make_opt(), make_opt()
        for opt in (ours, ref):
            for g in opt.param_groups:
                g["initial_lr"] = g["lr"]
                g["lr"] = 123.0  # whatever the optimizer held: the scheduler overwrites it
        kw = {"milestones": [600, 1200], "gamma": 0.5, "warmup_iters": 500, "last_epoch": k}
        a = WarmupMultiStepLR(ours, **kw)
        b = SeedWarmupMultiStepLR(ref, **kw)
        assert a.last_epoch == b.last_epoch == k + 1
        for _ in range(3):
            assert same(lrs(ours), lrs(ref)), k
            update(ours)
            update(ref)
            a.step()
            b.step()
    with pytest.raises(KeyError):
        SeedWarmupMultiStepLR(make_opt(), [10], last_epoch=5)
    with pytest.raises(KeyError):
        WarmupMultiStepLR(make_opt(), [10], last_epoch=5)


def test_resume_from_a_seed_checkpoint() -> None:
    # A checkpoint written by the seed's class (torch-style state dict) resumes in lrkit's class.
    ref_opt = make_opt()
    ref = SeedWarmupMultiStepLR(ref_opt, [600, 1200], gamma=0.5)
    for _ in range(700):
        update(ref_opt)
        ref.step()
    ours_opt = make_opt()
    ours = WarmupMultiStepLR(ours_opt, [600, 1200], gamma=0.5)
    with pytest.warns(UserWarning, match=r"took step=700 \(its last_epoch\).*checked gamma, milestones"):
        ours.load_state_dict(ref.state_dict())
    for _ in range(600):
        assert same(lrs(ours_opt), lrs(ref_opt))
        update(ours_opt)
        update(ref_opt)
        ours.step()
        ref.step()


@pytest.mark.parametrize("milestones", [[300, 200], [1, 3, 2], (5, 4)])
def test_unsorted_milestones_raise_value_error_like_the_seed(milestones) -> None:
    with pytest.raises(ValueError):
        SeedWarmupMultiStepLR(make_opt(), milestones)
    with pytest.raises(ValueError, match="increasing"):
        WarmupMultiStepLR(make_opt(), milestones)


@pytest.mark.parametrize("method", ["cosine", "exponential", "Linear", "", None])
def test_unknown_warmup_method_raises_value_error_like_the_seed(method) -> None:
    with pytest.raises(ValueError):
        SeedWarmupMultiStepLR(make_opt(), [10], warmup_method=method)
    with pytest.raises(ValueError, match="warmup_method"):
        WarmupMultiStepLR(make_opt(), [10], warmup_method=method)


def test_attributes_and_schedule_are_the_composition() -> None:
    s = WarmupMultiStepLR(make_opt(), [10, 20], gamma=0.5, warmup_factor=0.25, warmup_iters=5, warmup_method="constant")
    assert (s.milestones, s.gamma, s.warmup_factor, s.warmup_iters, s.warmup_method) == (
        [10, 20],
        0.5,
        0.25,
        5,
        "constant",
    )
    assert s.base_lrs == list(LRS)
    assert s.schedule == lrkit.warmup(
        lrkit.multistep(1.0, [10, 20], gamma=0.5), steps=5, start_factor=0.25, method="constant", prefix=False
    )
    assert isinstance(s, torch.optim.lr_scheduler.LRScheduler)
