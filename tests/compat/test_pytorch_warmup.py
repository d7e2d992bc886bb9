"""``lrkit.compat.pytorch_warmup`` against the real ``pytorch_warmup`` package, step by step.

The real warmup wraps a torch Adam optimizer driven by a ``LambdaLR`` whose
lambda is a cosine written out by hand below; the loop is pytorch_warmup's
documented one (``optimizer.step()``, then ``with warmup.dampening():
lr_scheduler.step()``).  At every step the group's LR must equal
``lr * cosine(t) * ω(t)`` with ``ω`` the lrkit factor.  Both sides compute in
float64: 1e-12 relative to the peak.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.compat import pytorch_warmup as compat

torch = pytest.importorskip("torch")
peer = pytest.importorskip("pytorch_warmup")

LR = 1e-3
T = 300  # the cosine's length


def hand_cosine(t: int) -> float:
    """The LambdaLR factor: (1 + cos(π min(t, T) / T)) / 2, written out here, not taken from lrkit."""
    return 0.5 * (1.0 + math.cos(math.pi * min(t, T) / T))


def peer_lrs(make: Callable[[Any], Any], steps: int, beta2: float = 0.999) -> np.ndarray:
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=LR, betas=(0.9, beta2))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, hand_cosine)
    warm = make(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        with warm.dampening():
            sched.step()
    return np.array(out)


def check(factor: lrkit.Schedule, make: Callable[[Any], Any], steps: int, beta2: float = 0.999) -> None:
    assert factor.is_multiplier
    s = lrkit.cosine(LR, T) * factor
    assert not s.is_multiplier  # an LR times a factor is an LR
    t = np.arange(steps)
    np.testing.assert_allclose(s(t), peer_lrs(make, steps, beta2), rtol=0, atol=1e-12 * LR)


@pytest.mark.parametrize("period", [1, 2, 3, 10, 299, 301])  # 301: the warmup outlasts the cosine
def test_linear_warmup(period: int) -> None:
    check(compat.LinearWarmup(period), lambda o: peer.LinearWarmup(o, warmup_period=period), 320)


@pytest.mark.parametrize("beta2", [0.999, 0.99, 0.9, 0.5, 0.0])
def test_untuned_linear_warmup_reads_beta2(beta2: float) -> None:
    check(compat.UntunedLinearWarmup(beta2=beta2), peer.UntunedLinearWarmup, 320 if beta2 < 0.999 else 2100, beta2)


@pytest.mark.parametrize("period", [1, 2, 10, 299, 301])
def test_exponential_warmup(period: int) -> None:
    check(compat.ExponentialWarmup(period), lambda o: peer.ExponentialWarmup(o, warmup_period=period), 320)


@pytest.mark.parametrize("beta2", [0.999, 0.99, 0.9])
def test_untuned_exponential_warmup_reads_beta2(beta2: float) -> None:
    check(compat.UntunedExponentialWarmup(beta2=beta2), peer.UntunedExponentialWarmup, 1200, beta2)


def test_exponential_factor_hand_checked() -> None:
    w = compat.ExponentialWarmup(4)
    assert w(0) == 1.0 - math.exp(-1 / 4) and w(7) == 1.0 - math.exp(-2.0)  # 1 - exp(-(t + 1) / 4)
    assert compat.UntunedExponentialWarmup() == compat.ExponentialWarmup(999)  # int(1 / (1 - 0.999)) = 999


def test_linear_factor_hand_checked() -> None:
    w = compat.LinearWarmup(4)
    assert [w(t) for t in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]  # min(1, (t + 1) / 4)
    u = compat.UntunedLinearWarmup()  # τ = int(2 / (1 - 0.999)) = int(1999.99...) = 1999
    assert u(1997) < 1.0 and u(1998) == 1.0 and u(0) == 1 / 1999


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: compat.ExponentialWarmup(0), ValueError, r"warmup_period must be >= 1, got 0"),
        (lambda: compat.RAdamWarmup(beta2=0.99), ValueError, r"RAdamWarmup=0.99 is not supported"),
        (lambda: compat.LinearWarmup(0), ValueError, r"warmup_period must be >= 1, got 0"),
        (lambda: compat.LinearWarmup(2.5), TypeError, r"warmup_period must be an int"),
        (lambda: compat.LinearWarmup([5, 10]), TypeError, r"warmup_period"),
        (lambda: compat.LinearWarmup(5, last_step=3), ValueError, r"last_step=3 is not supported"),
        (lambda: compat.UntunedLinearWarmup(beta2=1.0), ValueError, r"beta2 must be in \[0, 1\)"),
    ],
)
def test_refusals(make: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_the_peer_refuses_the_same_periods() -> None:
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=LR)
    with pytest.raises(ValueError):
        peer.LinearWarmup(opt, warmup_period=0)
    with pytest.raises(TypeError):
        peer.LinearWarmup(opt, warmup_period=2.5)


def test_by_name_in_specs_and_round_trips() -> None:
    s = lrkit.parse("product([cosine(1e-3, 1000), pytorch_warmup.UntunedLinearWarmup(beta2=0.99)])")
    assert s == lrkit.cosine(1e-3, 1000) * compat.UntunedLinearWarmup(beta2=0.99)
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s
