"""Golden boundary values for the combinators (warmup, join, scale, product, clip), and torch peers.

Expected values are derived by hand from the docstrings' formulas (comment next
to each); the torch checks compare with the real ``LinearLR``/``ConstantLR``
chained onto ``MultiStepLR`` and with ``SequentialLR``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrkit
from lrkit import Schedule

BIG = 2**40
ONE = lrkit.constant(1.0)
COS = lrkit.cosine(1.0, steps=100)  # cos_sched(t) = 0.5 (1 + cos(pi min(t, 100) / 100))


def cos_sched(t: float) -> float:
    return 0.5 * (1 + math.cos(math.pi * min(t, 100) / 100))


GOLDEN: list[tuple[Schedule, int, float]] = []


def g(s: Schedule, cases: list[tuple[int, float]]) -> None:
    GOLDEN.extend((s, t, want) for t, want in cases)


# -- warmup, multiplicative form: f(t) * schedule(t) for t < steps -------------------------------
g(
    lrkit.warmup(ONE, steps=10, start_factor=0.1, prefix=False),  # linear: sf (1 - a) + a, a = t / 10
    [
        (0, 0.1),
        (5, 0.1 * 0.5 + 0.5),
        (9, 0.1 * 0.1 + 0.9),  # b-1: still warming
        (10, 1.0),  # b: the schedule itself
        (11, 1.0),
        (BIG, 1.0),
    ],
)
g(
    lrkit.warmup(ONE, steps=10, start_factor=0.1, method="constant", prefix=False),  # f = sf while t < steps
    [(0, 0.1), (9, 0.1), (10, 1.0), (11, 1.0)],
)
g(
    lrkit.warmup(ONE, steps=10, start_factor=0.01, method="exponential", prefix=False),  # f = sf ** (1 - a)
    [(0, 0.01), (5, 0.1), (9, 0.01**0.1), (10, 1.0)],  # 0.01 ** 0.5 = 0.1
)
g(
    lrkit.warmup(ONE, steps=10, start_factor=0.2, method="cosine", prefix=False),  # sf + (1 - sf)(1 - cos(pi a))/2
    [
        (0, 0.2),
        (5, 0.2 + 0.8 * 0.5 * (1 - math.cos(math.pi / 2))),
        (9, 0.2 + 0.8 * 0.5 * (1 - math.cos(0.9 * math.pi))),
        (10, 1.0),
    ],
)
g(
    lrkit.warmup(COS, steps=10, prefix=False),  # start_factor 0: a * cos_sched(t)
    [(0, 0.0), (5, 0.5 * cos_sched(5)), (9, 0.9 * cos_sched(9)), (10, cos_sched(10)), (11, cos_sched(11)), (100, 0.0)],
)
g(lrkit.warmup(COS, steps=0, prefix=False), [(0, 1.0), (1, cos_sched(1))])  # steps=0: no warmup at all

# -- warmup, prefix form: f(t) * schedule(0), then schedule(t - steps) ----------------------------
g(
    lrkit.warmup(COS, steps=10, prefix=True),
    [
        (0, 0.0),
        (5, 0.5),  # 0.5 * cos_sched(0) = 0.5 * 1
        (9, 0.9),
        (10, 1.0),  # cos_sched(0): the schedule's clock starts here
        (11, cos_sched(1)),
        (109, cos_sched(99)),
        (110, 0.0),  # cos_sched(100)
        (BIG, 0.0),
    ],
)
g(lrkit.warmup(COS, steps=10, start_factor=0.5, method="constant", prefix=True), [(0, 0.5), (9, 0.5), (10, 1.0)])

# -- the seed's WarmupMultiStepLR: warmup_factor 1/3, 500 iters, linear, milestones x gamma 0.5 ------
SEED = lrkit.warmup(
    lrkit.multistep(0.001, milestones=[10000, 12000, 14000, 16000], gamma=0.5),
    steps=500,
    start_factor=1 / 3,
    prefix=False,
)
g(
    SEED,
    [
        (0, 0.001 / 3),  # warmup_factor * base_lr
        (250, 0.001 * (1 / 3 * 0.5 + 0.5)),  # alpha = 0.5
        (499, 0.001 * (1 / 3 * (1 - 499 / 500) + 499 / 500)),
        (500, 0.001),  # warmup over
        (9999, 0.001),
        (10000, 0.001 * 0.5),  # first milestone passed
        (12000, 0.001 * 0.5**2),  # two milestones passed
        (16000, 0.001 * 0.5**4),
        (BIG, 0.001 * 0.5**4),
    ],
)

# -- join: piece i runs on its own clock t - boundaries[i-1] -------------------------------------
_lin = lrkit.linear(1.0, 0.0, steps=10)
g(
    lrkit.join([lrkit.constant(0.5), _lin], [5]),
    [(0, 0.5), (4, 0.5), (5, 1.0), (6, 0.9), (14, 0.1), (15, 0.0), (BIG, 0.0)],  # linear at 0, 1, 9, 10
)
g(
    lrkit.join([lrkit.constant(0.5), _lin, lrkit.constant(0.25)], [5, 10]),
    [(9, 1.0 - 0.1 * 4), (10, 0.25), (BIG, 0.25)],  # the second piece is cut at its local step 5
)
g(lrkit.join([COS, ONE], [200]), [(199, 0.0), (200, 1.0)])  # held value, then the next piece

# -- scale, product, clip ---------------------------------------------------------------------
g(lrkit.scale(COS, 2.0), [(0, 2.0), (50, 2 * cos_sched(50)), (100, 0.0)])
g(COS * 0.5, [(0, 0.5)])  # operator form
g(3 * COS, [(0, 3.0)])  # reflected operator form
g(
    lrkit.product([lrkit.constant(0.5), lrkit.linear(0.0, 1.0, 10)]),
    [(0, 0.0), (5, 0.25), (10, 0.5), (BIG, 0.5)],  # 0.5 * t / 10
)
g(lrkit.linear(0.0, 1.0, 10) * lrkit.linear(0.0, 1.0, 10), [(5, 0.25), (10, 1.0)])  # (t/10)**2
g(
    lrkit.clip(lrkit.linear(0.0, 1.0, 10), lower=0.2, upper=0.7),
    [(0, 0.2), (2, 0.2), (3, 0.3), (7, 0.7), (8, 0.7), (BIG, 0.7)],
)
g(lrkit.clip(lrkit.linear(0.0, 1.0, 10), lower=0.2), [(0, 0.2), (10, 1.0)])  # upper None: open


@pytest.mark.parametrize(("s", "t", "want"), GOLDEN, ids=[f"{s!r}@{t}" for s, t, _ in GOLDEN])
def test_golden(s: Schedule, t: int, want: float) -> None:
    assert s(t) == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert s(np.array([t]))[0] == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_seed_warmup_multistep_formula_step_by_step() -> None:
    """The seed's WarmupMultiStepLR.get_lr, as written in the seed, over 20,000 steps."""
    import bisect

    base_lr, milestones, gamma, factor, iters = 0.001, [10000, 12000, 14000, 16000], 0.5, 1 / 3, 500

    def seed_lr(last_epoch: int) -> float:
        warmup_factor = 1
        if last_epoch < iters:
            alpha = float(last_epoch) / iters
            warmup_factor = factor * (1 - alpha) + alpha
        return base_lr * warmup_factor * gamma ** bisect.bisect_right(milestones, last_epoch)

    steps = np.arange(20000)
    want = np.array([seed_lr(int(t)) for t in steps])
    np.testing.assert_allclose(SEED(steps), want, rtol=1e-15, atol=0)
    for t in (0, 499, 500, 10000, 19999):
        assert SEED(t) == pytest.approx(seed_lr(t), rel=1e-15)


def test_seed_constant_warmup_method() -> None:
    s = lrkit.warmup(
        lrkit.multistep(0.001, [1000], 0.1), steps=500, start_factor=1 / 3, method="constant", prefix=False
    )
    assert s(0) == s(499) == pytest.approx(0.001 / 3, rel=1e-15)  # constant factor for the whole warmup
    assert s(500) == 0.001
    assert s(1000) == pytest.approx(0.0001, rel=1e-15)


def test_warmup_factor_method_is_public_and_ends_at_one() -> None:
    w = lrkit.warmup(ONE, steps=8, start_factor=0.25, method="exponential", prefix=False)
    assert w.factor(0.0) == 0.25
    assert w.factor(4.0) == pytest.approx(0.5)  # 0.25 ** 0.5
    assert w.factor(8.0) == 1.0
    assert w.factor(100.0) == 1.0


def test_join_never_shows_a_negative_local_step() -> None:
    # A piece that would reject or misbehave on negative steps: noam is 0 at its local step 0.
    s = lrkit.join([lrkit.constant(0.1), lrkit.noam(16, 4)], [100])
    assert s(100) == 0.0
    assert s(104) == pytest.approx(0.125)  # noam at local step 4 = its peak
    np.testing.assert_array_equal(s(np.arange(100)), np.full(100, 0.1))


def test_composition_algebra_builds_the_expected_nodes() -> None:
    a, b = lrkit.constant(0.5), lrkit.linear(0.0, 1.0, 10)
    assert a * b == lrkit.product([a, b])
    assert a * 2 == lrkit.scale(a, 2.0) == 2 * a
    with pytest.raises(TypeError):
        a * True
    with pytest.raises(TypeError):
        a * "2"


# -- against torch ------------------------------------------------------------------------------

torch = pytest.importorskip("torch")
S = torch.optim.lr_scheduler

from test_schedules import torch_lrs  # noqa: E402  (needs torch, imported just above)


def test_linear_warmup_times_multistep_equals_torch_chained_scheduler() -> None:
    # The seed's FIXME: "a combination of a warmup scheduler and MultiStepLR" - torch's ChainedScheduler.
    ref = torch_lrs(
        lambda o: S.ChainedScheduler([S.LinearLR(o, 1 / 3, 1.0, 500), S.MultiStepLR(o, [1000, 1500, 2000], 0.5)]),
        3000,
        0.1,
    )
    s = lrkit.warmup(lrkit.multistep(0.1, [1000, 1500, 2000], 0.5), steps=500, start_factor=1 / 3, prefix=False)
    np.testing.assert_allclose(s(np.arange(3000)), ref, rtol=0, atol=1e-15)


def test_constant_warmup_times_multistep_equals_torch_chained_scheduler() -> None:
    ref = torch_lrs(
        lambda o: S.ChainedScheduler([S.ConstantLR(o, 1 / 3, 500), S.MultiStepLR(o, [1000, 2000], 0.1)]), 3000, 0.1
    )
    s = lrkit.warmup(
        lrkit.multistep(0.1, [1000, 2000], 0.1), steps=500, start_factor=1 / 3, method="constant", prefix=False
    )
    np.testing.assert_allclose(s(np.arange(3000)), ref, rtol=0, atol=1e-15)


@pytest.mark.parametrize("second", ["exponential", "cosine"])
def test_join_equals_torch_sequentiallr(second: str) -> None:
    if second == "exponential":
        tail, lrkit_tail = (lambda o: S.ExponentialLR(o, 0.99)), lrkit.exponential(0.1, 1, 0.99)
    else:
        tail, lrkit_tail = (lambda o: S.CosineAnnealingLR(o, 300)), lrkit.cosine(0.1, 300)
    ref = torch_lrs(lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 50), tail(o)], [50]), 351, 0.1)
    s = lrkit.join([lrkit.linear(0.01, 0.1, 50), lrkit_tail], [50])
    np.testing.assert_allclose(s(np.arange(351)), ref, rtol=0, atol=1e-15)
