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


@pytest.mark.parametrize("beta2", [0.999, 0.99, 0.9, 0.7, 0.62])  # near 0.6 rho_inf - 4 is ill-conditioned
def test_radam_warmup(beta2: float) -> None:
    # pytorch_warmup's own rho loses ~log10(rho_inf) digits to cancellation (1e-13 at beta2 = 0.999): within 1e-12
    check(compat.RAdamWarmup(beta2=beta2), peer.RAdamWarmup, 400, beta2)


def test_radam_factor_hand_checked() -> None:
    # beta2 = 0.999: rho_inf = 1999; delta = 5 (rho_4 = 3.99... <= 4 < rho_5). Written out here with exact
    # rationals, so no cancellation: omega(t) = sqrt((r - 4)(r - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) r)).
    from fractions import Fraction

    b = Fraction(999, 1000)  # 0.999 as the exact decimal; float(0.999) differs from it by 1e-20
    rho_inf = 2 / (1 - b) - 1

    def omega(t: int) -> float:
        n = t + 5
        r = rho_inf - 2 * n * b**n / (1 - b**n)
        return math.sqrt(float((r - 4) * (r - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * r)))

    w = compat.RAdamWarmup()
    assert w == lrkit.radam_warmup(0.999) and w.is_multiplier
    r4 = rho_inf - 2 * 4 * b**4 / (1 - b**4)
    assert r4 <= 4 < rho_inf - 2 * 5 * b**5 / (1 - b**5)
    for t in (0, 1, 10, 1000):
        assert w(t) == pytest.approx(omega(t), rel=1e-14)
    assert w(10**6) == 1.0  # beta2 ** n underflows: rho = rho_inf exactly


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
        (lambda: compat.RAdamWarmup(beta2=0.6), ValueError, r"beta2 must be in \(0.6, 1\), got 0.6"),
        (lambda: compat.RAdamWarmup(beta2=1.0), ValueError, r"beta2 must be in \(0.6, 1\), got 1.0"),
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


def test_radam_warmup_has_no_phase_end_and_runs_on_every_backend() -> None:
    from lrkit import _phases

    w = lrkit.radam_warmup(0.99)
    assert _phases.events(w, 10_000) == []  # it approaches 1 and never ends
    t = np.arange(500)
    want = w(t)
    np.testing.assert_allclose(w(torch.arange(500)).numpy(), want, rtol=1e-15, atol=0)
    jnp = pytest.importorskip("jax.numpy")
    # float32 without x64: RAdam's rho taken without cancellation stays within a few float32 ulps of 1
    np.testing.assert_allclose(np.asarray(w(jnp.arange(500))), want, rtol=0, atol=4 * np.finfo(np.float32).eps)
