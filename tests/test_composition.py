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

# -- warmup, log method: start_factor + (1 - start_factor) * log(t + 1) / log(steps), 1 from steps - 1 on ----
g(
    lrkit.warmup(ONE, steps=10, start_factor=0.2, method="log", prefix=False),
    [
        (0, 0.2),  # log(1) = 0
        (4, 0.2 + 0.8 * math.log(5) / math.log(10)),
        (8, 0.2 + 0.8 * math.log(9) / math.log(10)),
        (9, 1.0),  # log(10) / log(10): the last warmup step is already at the target
        (10, 1.0),
    ],
)
g(
    lrkit.warmup(COS, steps=10, start_factor=0.5, method="log", prefix=False),
    [(3, (0.5 + 0.5 * math.log(4) / math.log(10)) * cos_sched(3)), (10, cos_sched(10))],
)
g(lrkit.warmup(COS, steps=1, method="log", prefix=False), [(0, 0.0), (1, cos_sched(1))])  # steps=1: only step 0 warms
g(lrkit.warmup(COS, steps=4, method="log", prefix=True), [(2, math.log(3) / math.log(4)), (4, 1.0), (5, cos_sched(1))])

# -- shift: schedule(t + steps) -------------------------------------------------------------------
g(lrkit.shift(COS, 30), [(0, cos_sched(30)), (20, cos_sched(50)), (69, cos_sched(99)), (70, 0.0), (BIG, 0.0)])
g(lrkit.shift(COS, 0), [(0, 1.0), (50, cos_sched(50))])
g(lrkit.shift(COS, 500), [(0, 0.0)])  # past the cosine's end already
g(
    lrkit.join([lrkit.linear(0.0, 1.0, 10), lrkit.shift(COS, 10)], [10]),  # timm's warmup without prefix
    [(5, 0.5), (9, 0.9), (10, cos_sched(10)), (40, cos_sched(40))],
)

# -- staircase: schedule(every * floor(t / every)) ---------------------------------------------------
g(
    lrkit.staircase(lrkit.linear(1.0, 0.0, 100), 10),  # 1 - t / 100 held for 10 steps
    [(0, 1.0), (9, 1.0), (10, 0.9), (19, 0.9), (95, 0.1), (99, 0.1), (100, 0.0), (BIG, 0.0)],
)
g(lrkit.staircase(COS, 1), [(7, cos_sched(7))])  # every = 1: the schedule itself
g(lrkit.staircase(COS, 30), [(29, 1.0), (30, cos_sched(30)), (119, cos_sched(90)), (120, 0.0)])  # 100 is mid-stair
g(lrkit.staircase(lrkit.cosine(1.0, "10ep"), "1ep").resolve(steps_per_epoch=7), [(6, 1.0), (7, cos_sched(10))])

# -- remap: lerp(start, end, clamp01(weight(t))) ---------------------------------------------------
g(lrkit.remap(lrkit.linear(0.0, 1.0, 10), 0.95, 0.85), [(0, 0.95), (5, 0.9), (10, 0.85), (BIG, 0.85)])
g(lrkit.remap(lrkit.linear(0.0, 1.0, 10), 0.1, 0.3), [(0, 0.1), (5, 0.2), (10, 0.3)])
g(lrkit.remap(lrkit.constant(5.0), 0.1, 0.3), [(0, 0.3)])  # weights above 1 are clamped


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


def test_shift_and_staircase_refuse_bad_steps() -> None:
    with pytest.raises(ValueError, match=r"steps must be >= 0 .*got -5"):
        lrkit.shift(COS, -5)
    with pytest.raises(ValueError, match=r"steps must be a whole number"):
        lrkit.shift(COS, 2.5)
    with pytest.raises(ValueError, match=r"every must be >= 1, got 0"):
        lrkit.staircase(COS, 0)
    with pytest.raises(TypeError, match=r"schedule"):
        lrkit.shift(1.0, 3)
    with pytest.raises(ValueError, match=r"start"):
        lrkit.remap(COS, -0.1, 0.5)


def test_new_compositions_round_trip_and_keep_multipliers() -> None:
    m = lrkit.multiplier(COS)
    for s in (lrkit.shift(m, 3), lrkit.staircase(m, 4)):
        assert s.is_multiplier
        assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s
    r = lrkit.remap(m, 0.9, 0.8)
    assert not r.is_multiplier  # start and end are absolute values
    assert lrkit.parse(repr(r)) == r and lrkit.from_dict(r.to_dict()) == r
    w = lrkit.warmup(COS, 10, 0.1, "log", prefix=False)
    assert lrkit.parse(repr(w)) == w


def test_shift_resolves_an_open_length_to_the_end_of_training() -> None:
    # the cosine's clock runs 10 ahead: to reach its floor at step 100 of the run it must last 110 steps
    s = lrkit.shift(lrkit.cosine(1.0), 10).resolve(total_steps=100)
    assert s == lrkit.shift(lrkit.cosine(1.0, 110), 10)
    assert s(100) == 0.0 and s(99) > 0.0


def test_phase_events_move_with_the_clock() -> None:
    from lrkit import _phases

    def ev(s: Schedule, n: int) -> list[tuple[int, str]]:
        return [(e.step, e.kind) for e in _phases.events(s, n)]

    # shift: the cosine's end at its step 100 is step 70 of the run; a milestone already past is not listed
    assert ev(lrkit.shift(COS, 30), 200) == [(70, "decay end")]
    assert ev(lrkit.shift(lrkit.multistep(1.0, [10, 50], 0.5), 20), 200) == [(30, "milestone")]
    # staircase: a child's phase change on a stair edge stays where the value changes
    stairs = lrkit.staircase(lrkit.multistep(1.0, [20, 40], 0.5), 10)
    v = stairs(np.arange(60))
    assert [int(b) for b in np.nonzero(np.diff(v))[0] + 1] == [b for b, _ in ev(stairs, 60)] == [20, 40]


def test_staircase_reports_a_child_change_at_the_stair_where_it_shows() -> None:
    from lrkit import _phases

    def ev(s: Schedule, n: int) -> list[tuple[int, str]]:
        return [(e.step, e.kind) for e in _phases.events(s, n)]

    # milestones 15 and 33 fall mid-stair: s(t) = multistep(10 * floor(t / 10)) first reads them at 20 and 40
    stairs = lrkit.staircase(lrkit.multistep(1.0, [15, 33], 0.5), 10)
    v = stairs(np.arange(60))
    assert [int(b) for b in np.nonzero(np.diff(v))[0] + 1] == [b for b, _ in ev(stairs, 60)] == [20, 40]
    # warmup ends at 15 (first seen at 20); the cosine's end at 15 + 100 = 115 is first read at 120
    w = lrkit.staircase(lrkit.warmup(lrkit.cosine(1.0, 100), 15, prefix=True), 10)
    assert ev(w, 200) == [(20, "warmup end"), (120, "decay end")]
    assert w(119) > 0.0 and w(120) == 0.0
    # a change that moves past the run's end is not in the run: the decay end at 115 shows at 120 > 118
    assert ev(w, 118) == [(20, "warmup end")]
    # inside a join, the stair grid is the piece's own clock: the piece starts at 5, its milestone 15
    # shows at its stair 20, step 25 of the run
    j = lrkit.join([lrkit.constant(2.0), stairs], [5])
    assert ev(j, 60) == [(5, "join"), (25, "milestone"), (45, "milestone")]
    assert j(24) == 1.0 and j(25) == 0.5


@pytest.mark.parametrize(
    "s",
    [
        lrkit.shift(COS, 37),
        lrkit.staircase(COS, 7),
        lrkit.remap(lrkit.cyclic(0.0, 1.0, 5, 7, "triangular2"), 0.9, 0.8),
        lrkit.warmup(COS, 20, 0.1, "log", prefix=False),
    ],
    ids=repr,
)
def test_new_compositions_on_every_backend(s: Schedule) -> None:
    t = np.arange(300)
    want = s(t)
    assert [s(int(k)) for k in t] == pytest.approx(list(want), rel=1e-15, abs=1e-300)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(s(torch.arange(300)).numpy(), want, rtol=1e-15, atol=1e-16)
    jnp = pytest.importorskip("jax.numpy")
    np.testing.assert_allclose(np.asarray(s(jnp.arange(300))), want, rtol=0, atol=8 * np.finfo(np.float32).eps)


def test_staircase_and_shift_under_jax_at_int32_steps() -> None:
    jnp = pytest.importorskip("jax.numpy")
    # the stair's start, t - (t mod every), is taken in integers: exact at steps float32 cannot hold
    s = lrkit.staircase(lrkit.linear(0.0, 1.0, 2**31 - 1), 1000)
    t = np.array([2**31 - 2, 2**30 + 999, 2**30 + 1000])
    want = np.floor(t / 1000) * 1000 / (2**31 - 1)
    np.testing.assert_allclose(
        np.asarray(s(jnp.asarray(t, jnp.int32))), want, rtol=0, atol=4 * np.finfo(np.float32).eps
    )
