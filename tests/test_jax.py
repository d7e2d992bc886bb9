"""JAX without x64 (its default): whole steps stay exact; and the ``lrkit.optax`` adapter.

Without x64, JAX computes in float32, which cannot hold whole steps past
``2**24``.  lrkit keeps an integer jax step an integer (see
``lrkit._backend._ExactStep``): period indices, positions in a period,
milestone lookups and distances to boundaries are computed in integers, so
every building block and composition gives the float64 result to float32
precision at every int32 step.  The reference is the NumPy (float64)
evaluation of the same schedule; the named regressions compare with values
derived by hand next to each test.  x64 runs in a subprocess
(``JAX_ENABLE_X64`` is read when jax starts).
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import textwrap
import warnings
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
optax = pytest.importorskip("optax")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import lrkit  # noqa: E402
import lrkit.optax as lo  # noqa: E402
from lrkit.compat import optax as compat_optax  # noqa: E402

INT32_MAX = 2**31 - 1
F32_ULP = float(np.finfo(np.float32).eps)  # 2**-23, the ulp of 1.0


def ulps_of_peak(peak: float, n: int = 4) -> float:
    return n * float(np.spacing(np.float32(peak))) if peak > 0 else 1e-45


def peak_of(s: lrkit.Schedule, steps: np.ndarray) -> float:
    """The scale of float32 rounding in ``s``: its largest value over the tested steps and a grid covering [0, 2**31).

    For a product the error of each factor is relative to that factor's own peak and is carried by the
    other factors (``d(ab) = a db + b da``), so a product's scale is the product of its factors' scales
    (``product([one_cycle(...), multistep(1.0, [2], 0.0)])`` peaks at the one-cycle's early value, but
    the one-cycle's rounding is that of its own peak).  A scale node multiplies its child's.
    """
    grid = np.unique(np.concatenate([np.arange(0, 2048), np.geomspace(1, INT32_MAX, 4096).astype(np.int64), steps]))
    own = float(np.max(s(grid)))
    if s.spec_name == "product":
        return max(own, float(np.prod([peak_of(c, steps) for c in s.schedules])))
    if s.spec_name == "scale":
        return max(own, s.factor * peak_of(s.schedule, steps))
    return own


def assert_float32_exact(s: lrkit.Schedule, steps: Any, *, jit: bool = True) -> None:
    steps = np.asarray(steps, dtype=np.int64)
    expected = s(steps)
    tol = ulps_of_peak(peak_of(s, steps))
    eager = np.asarray(s(jnp.asarray(steps, dtype=jnp.int32)))
    assert eager.dtype == np.float32
    np.testing.assert_allclose(eager, expected, rtol=0, atol=tol, err_msg=f"eager {s!r}")
    if jit:
        jitted = np.asarray(jax.jit(s)(jnp.asarray(steps, dtype=jnp.int32)))
        np.testing.assert_allclose(jitted, expected, rtol=0, atol=tol, err_msg=f"jit {s!r}")


# -- the regressions of issue 9 ------------------------------------------------------------------
def test_milestone_past_2_to_the_24_is_not_reached_a_step_early() -> None:
    s = lrkit.multistep(1.0, [16777217], 0.1)  # 2**24 + 1: float32 rounds it to 2**24
    for fn in (s, jax.jit(s)):
        assert float(fn(jnp.int32(16777216))) == 1.0
        assert float(fn(jnp.int32(16777217))) == pytest.approx(0.1, rel=1e-7)


def test_cosine_restarts_far_out_is_at_the_end_of_its_period() -> None:
    s = lrkit.cosine_restarts(1e-3, 1000)
    t = 10**8 + 999  # the last step of period 10**5: position 999 of 1000
    expected = 1e-3 * (1 + math.cos(math.pi * 999 / 1000)) / 2  # 2.467e-9
    for fn in (s, jax.jit(s)):
        assert abs(float(fn(jnp.int32(t))) - expected) <= ulps_of_peak(1e-3)
    assert abs(float(s(jnp.int32(10**8))) - 1e-3) <= ulps_of_peak(1e-3)  # the restart itself


def test_cyclic_does_not_drift_near_1e8() -> None:
    low, high, up = 0.1, 1.0, 2000
    s = lrkit.cyclic(low, high, up)
    t = np.arange(10**8, 10**8 + 4001, 7)
    pos = t % (2 * up)  # hand-derived triangle: up for `up` steps, then down
    expected = low + (high - low) * np.where(pos <= up, pos / up, (2 * up - pos) / up)
    got = np.asarray(jax.jit(s)(jnp.asarray(t, jnp.int32)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=ulps_of_peak(high))


def test_periodic_cosine_far_out_keeps_its_phase() -> None:
    s = lrkit.cosine(1.0, 1000, periodic=True)  # period 2000 steps: back at the peak every 2000
    t = 10**8 + 500  # 10**8 is a whole number of periods: a quarter period in
    expected = (1 + math.cos(math.pi * 500 / 1000)) / 2  # 0.5
    assert abs(float(jax.jit(s)(jnp.int32(t))) - expected) <= ulps_of_peak(1.0)


def test_restarts_with_t_mul_restart_at_the_right_step_past_2_to_the_24() -> None:
    # t_mul = 2, period 1000: S_i = 1000 (2**i - 1); S_15 = 32_767_000 > 2**24, S_20 = 1_048_575_000.
    s = lrkit.cosine_restarts(1.0, 1000, t_mul=2.0)
    for start, length in ((32_767_000, 1000 * 2**15), (1_048_575_000, 1000 * 2**20)):
        t = np.array([start - 1, start, start + 1, start + length // 3])
        # the last step of the previous period (x = 1 - 1/L), the restart (x = 0), one step in, a third in
        expected = [
            (1 + math.cos(math.pi * (1 - 1 / (length // 2)))) / 2,
            1.0,
            (1 + math.cos(math.pi / length)) / 2,
            (1 + math.cos(math.pi * (length // 3) / length)) / 2,
        ]
        for fn in (s, jax.jit(s)):
            got = np.asarray(fn(jnp.asarray(t, jnp.int32)), np.float64)
            np.testing.assert_allclose(got, expected, rtol=0, atol=ulps_of_peak(1.0))


def test_restarts_with_a_fractional_t_mul_find_fractional_starts() -> None:
    # t_mul = 1.5, period 8: S_i = 16 (1.5**i - 1); S_40 = 16 * (1.5**40 - 1) ~ 1.8e8 is not a whole step.
    s = lrkit.cosine_restarts(1.0, 8, t_mul=1.5)
    start, length = 16 * (1.5**40 - 1), 8 * 1.5**40
    t = np.array([math.floor(start), math.ceil(start), math.ceil(start) + 1000])
    expected = [(1 + math.cos(math.pi * x)) / 2 for x in ((t[0] - (start - length / 1.5)) / (length / 1.5),)]
    expected += [(1 + math.cos(math.pi * (x - start) / length)) / 2 for x in t[1:]]
    for fn in (s, jax.jit(s)):
        got = np.asarray(fn(jnp.asarray(t, jnp.int32)), np.float64)
        np.testing.assert_allclose(got, expected, rtol=0, atol=ulps_of_peak(1.0))


def test_restarts_with_t_mul_just_above_1_are_exact_over_their_first_4096_periods() -> None:
    # t_mul = 1.001, period 3: over 13,000 periods start below 2**31, too many to tabulate all; the
    # first 4096 are. Hand-derived: S_i = 3 (1.001**i - 1) / 0.001, L_i = 3 * 1.001**i, in float64.
    # Regression: the float32 formula raised float32's rounding of 1.001 to the power i and
    # subtracted 1.001**i - 1 in float32, so every step was off (by a whole restart at step 352).
    s = lrkit.cosine_restarts(1.0, 3, t_mul=1.001)

    def exact(t: int) -> float:
        i = math.floor(math.log1p(t * 0.001 / 3) / math.log(1.001))
        while 3 * (1.001**i - 1) / 0.001 > t:
            i -= 1
        while 3 * (1.001 ** (i + 1) - 1) / 0.001 <= t:
            i += 1
        start, length = 3 * (1.001**i - 1) / 0.001, 3 * 1.001**i
        return (1 + math.cos(math.pi * (t - start) / length)) / 2

    t = np.array([21, 351, 352, 353, 5000, 50_000, 99_999, 176_000])
    expected = [exact(int(x)) for x in t]
    for fn in (s, jax.jit(s)):
        got = np.asarray(fn(jnp.asarray(t, jnp.int32)), np.float64)
        np.testing.assert_allclose(got, expected, rtol=0, atol=ulps_of_peak(1.0))


def test_no_overflow_warning_from_a_float64_constant_past_float32() -> None:
    # cosine_restarts caps t / period at 1e300 / (t_mul - 1): JAX's cast of it to float32 warned
    # "overflow encountered in cast" (eagerly and while tracing).
    s = lrkit.cosine_restarts(1.0, 3, t_mul=1.0000001)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (s, jax.jit(s)):
            got = fn(jnp.asarray([0, 2**31 - 1], jnp.int32))
            assert float(got[0]) == 1.0 and bool(jnp.isfinite(got).all())


def test_cosine_whose_period_is_not_whole_steps_keeps_its_phase_far_out() -> None:
    # cycles = 1.3 over 1000 steps: period 1000 / 1.3 steps; at t the angle is 2 pi 1.3 t / 1000.
    s = lrkit.cosine(1.0, 1000, cycles=1.3, periodic=True)
    t = np.array([10**8 + 7, 2_000_000_001, 2**31 - 1])
    phase = [math.fmod(1.3 * int(x), 1000) / 1000 for x in t]  # 1.3 * t is exact-ish in float64 (t < 2**31)
    expected = [(1 + math.cos(2 * math.pi * f)) / 2 for f in phase]
    for fn in (s, jax.jit(s)):
        got = np.asarray(fn(jnp.asarray(t, jnp.int32)), np.float64)
        np.testing.assert_allclose(got, expected, rtol=0, atol=ulps_of_peak(1.0))


@pytest.mark.parametrize("cycle", [False, True])
def test_square_root_decay_near_its_end_past_2_to_the_24(cycle: bool) -> None:
    # power 0.5 over T = 2**30 + 3 steps: s(T - n) = sqrt(n / T) (1e-5 at n = 107); float32's
    # 1 - t / T there is a multiple of 2**-24, 16x the true 6e-9 at n = 7.
    big_t = 2**30 + 3
    s = lrkit.polynomial(1.0, big_t, power=0.5, cycle=cycle)
    left = np.array([0, 1, 2, 7, 107])
    for fn in (s, jax.jit(s)):
        got = np.asarray(fn(jnp.asarray(big_t - left, jnp.int32)), np.float64)
        np.testing.assert_allclose(got, np.sqrt(left / big_t), rtol=0, atol=ulps_of_peak(1.0))
    k = lrkit.polynomial(1.0, big_t, power=0.5, k=2.0)  # (1 - (t/T)**2) ** 0.5
    t = big_t - left
    expected = np.sqrt(1 - (t / big_t) ** 2)
    np.testing.assert_allclose(np.asarray(k(jnp.asarray(t, jnp.int32))), expected, rtol=0, atol=ulps_of_peak(1.0))


def test_optax_giant_int_steps_through_the_compat_preset() -> None:
    # optax's own test_with_giant_int_steps: decay_steps=1e10 (past int32), step 1e9.
    s = compat_optax.cosine_decay_schedule(1000.0, decay_steps=int(1e10))
    expected = 1000.0 * (1 + math.cos(math.pi * 0.1)) / 2  # 975.528...
    assert float(optax.cosine_decay_schedule(1000.0, decay_steps=int(1e10))(int(1e9))) == pytest.approx(expected)
    for fn in (s, jax.jit(s)):
        assert float(fn(jnp.int32(10**9))) == pytest.approx(expected, rel=2e-7)


BIG = 2**33


@pytest.mark.parametrize(
    "s",
    [
        lrkit.multistep(1.0, [BIG], 0.1),
        lrkit.step(1.0, BIG),
        lrkit.cosine_restarts(1.0, BIG),
        lrkit.cyclic(0.0, 1.0, BIG),
        lrkit.join([lrkit.constant(1.0), lrkit.constant(0.5)], [BIG]),
        lrkit.warmup(lrkit.cosine(1.0, BIG), steps=BIG, prefix=True),
        lrkit.warmup(lrkit.cosine(1.0, BIG), steps=BIG, prefix=False),
        lrkit.linear(1.0, 0.0, BIG, begin=BIG),
        lrkit.polynomial(1.0, BIG, cycle=True),
        lrkit.exponential(1.0, BIG, 0.5, staircase=True, begin=BIG),
        lrkit.exponential(1.0, BIG, 0.5),
        lrkit.inverse_time(1.0, BIG, 1.0, staircase=True),
        lrkit.piecewise_interpolate([0, BIG], [1.0, 0.0]),
        lrkit.piecewise_constant([BIG], [1.0, 0.0], at_boundary="previous"),
        lrkit.wsd(1.0, BIG, BIG, BIG),
        lrkit.noam(512, BIG),
        lrkit.inverse_power(1.0, BIG),
        lrkit.inverse_sqrt(1.0, BIG),
        lrkit.one_cycle(1.0, BIG),
        lrkit.cosine(1.0, BIG, periodic=True),
        lrkit.tanh(1.0, BIG),
    ],
    ids=lambda s: type(s).__name__,
)
def test_durations_past_int32_never_overflow_nor_warn(s: lrkit.Schedule) -> None:
    steps = [0, 5, 2**24 + 1, INT32_MAX]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning while tracing either
        assert_float32_exact(s, steps)


# -- steps: validated eagerly, documented under jit ---------------------------------------------
@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), -0.5])
def test_eager_jax_steps_are_validated_like_numpy(bad: float) -> None:
    s = lrkit.cosine(1.0, 100)
    dtype = jnp.int32 if isinstance(bad, int) else jnp.float32
    with pytest.raises(ValueError, match="step must be"):
        s(jnp.asarray([0, bad], dtype=dtype))
    with pytest.raises(ValueError, match="step must be"):
        s(np.asarray([0, bad]))


def test_bool_jax_steps_are_a_type_error() -> None:
    with pytest.raises(TypeError, match="dtype bool"):
        lrkit.cosine(1.0, 100)(jnp.asarray([True]))


def test_under_jit_negative_steps_count_as_zero_and_nan_propagates() -> None:
    s = lrkit.warmup(lrkit.cosine(1.0, 100), steps=10, start_factor=0.5, prefix=True)
    assert float(jax.jit(s)(jnp.int32(-7))) == 0.5  # = s(0)
    assert float(jax.jit(s)(jnp.float32(-7.0))) == 0.5
    assert math.isnan(float(jax.jit(s)(jnp.float32(float("nan")))))


def test_uint32_steps_past_int32_raise_eagerly_without_x64() -> None:
    s = lrkit.cosine(1.0, 100)
    assert float(s(np.int64(2**40))) == 0.0  # NumPy: fine
    with pytest.raises(ValueError, match="jax_enable_x64"):
        s(jnp.asarray([3_000_000_000], dtype=jnp.uint32))
    # Under jit it cannot raise: it saturates at 2**31 - 1 (the end of the decay, 0), where the
    # uint32 -> int32 cast wrapped it to a negative step, clamped to 0: s(0) = 1.
    assert float(jax.jit(s)(jnp.uint32(3_000_000_000))) == 0.0
    r = lrkit.cosine_restarts(1.0, 2**31)  # at 2**31 - 1: (1 + cos(pi (1 - 2**-31))) / 2 ~ 5e-19
    assert float(jax.jit(r)(jnp.uint32(2**32 - 1))) <= ulps_of_peak(1.0)


def test_grad_with_respect_to_a_float_step() -> None:
    # polynomial(power=0.5): s = (1 - t / 100) ** 0.5, ds/dt = -0.005 / sqrt(1 - t / 100).
    s = lrkit.polynomial(1.0, 100, power=0.5)
    for fn in (jax.grad(s), jax.jit(jax.grad(s))):
        g = float(fn(jnp.float32(50.5)))
        assert g == pytest.approx(-0.005 / math.sqrt(0.495), rel=1e-5)
        # A whole float step is evaluated as an integer step: no derivative (0), documented in docs/jax.md.
        # Regression: at the decay's end the unused float branch's infinite slope made it NaN.
        assert float(fn(jnp.float32(50.0))) == 0.0
        assert float(fn(jnp.float32(100.0))) == 0.0
    c = lrkit.cosine(1.0, 100)  # ds/dt = -(pi / 200) sin(pi t / 100)
    got = jax.vmap(jax.grad(c))(jnp.asarray([0.5, 50.5], jnp.float32))
    np.testing.assert_allclose(
        np.asarray(got), [-(math.pi / 200) * math.sin(math.pi * x / 100) for x in (0.5, 50.5)], rtol=1e-4
    )


def test_float_steps_keep_their_dtype_and_integer_steps_give_the_default_float() -> None:
    s = lrkit.cosine(1.0, 100)
    assert s(jnp.asarray([3], jnp.int32)).dtype == jnp.float32
    assert s(jnp.asarray([3.0], jnp.float32)).dtype == jnp.float32
    assert s(jnp.asarray([3.0], jnp.bfloat16)).dtype == jnp.bfloat16


# -- the property: random compositions at random int32 steps -------------------------------------
def durations() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(1, 1000),
        st.integers(1, 10**6),
        st.integers(2**24 - 3, 2**24 + 3),  # float32 stops holding every whole number here
        st.integers(10**6, INT32_MAX),
        st.integers(INT32_MAX - 2, 2**33),  # durations past int32 (never reached, never overflow)
    )


lr = st.floats(1e-6, 10.0)
factor = st.floats(0.0, 1.0)


@st.composite
def blocks(draw: Any) -> lrkit.Schedule:
    kind = draw(st.sampled_from(BLOCK_KINDS))
    return kind(draw)


def _sorted_durations(draw: Any, n_min: int = 1, n_max: int = 4, strict: bool = True) -> list[int]:
    values = sorted(draw(st.lists(durations(), min_size=n_min, max_size=n_max, unique=strict)))
    return values


BLOCK_KINDS = [
    lambda d: lrkit.constant(d(lr)),
    lambda d: lrkit.step(d(lr), d(durations()), d(factor)),
    lambda d: lrkit.multistep(d(lr), _sorted_durations(d, 0, 4, strict=False), d(factor)),
    lambda d: (
        lambda b: lrkit.piecewise_constant(
            b, [d(lr) for _ in range(len(b) + 1)], d(st.sampled_from(["next", "previous"]))
        )
    )(_sorted_durations(d)),
    lambda d: (lambda b: lrkit.piecewise_interpolate(b, [d(lr) for _ in b], d(st.sampled_from(["linear", "cosine"]))))(
        _sorted_durations(d, 1, 4)
    ),
    lambda d: lrkit.linear(d(lr), d(lr), d(durations()), begin=d(st.one_of(st.just(0), durations()))),
    lambda d: lrkit.exponential(
        d(lr),
        d(durations()),
        d(st.floats(0.01, 1.0)),
        staircase=d(st.booleans()),
        begin=d(st.one_of(st.just(0), durations())),
    ),
    lambda d: lrkit.inverse_time(
        d(lr),
        d(durations()),
        d(st.floats(0.0, 10.0)),
        staircase=d(st.booleans()),
        power=d(st.sampled_from([0.5, 1.0, 2.0])),
    ),
    lambda d: lrkit.inverse_power(d(lr), d(durations()), d(st.floats(0.0, 2.0))),
    lambda d: lrkit.inverse_sqrt(d(lr), d(durations())),
    lambda d: lrkit.polynomial(
        d(lr), d(durations()), d(st.floats(0.0, 1e-6)), power=d(st.floats(1.0, 3.0)), cycle=d(st.booleans())
    ),
    # power < 1: the slope is infinite at the end, where 1 - t / T in float32 would be rounded
    lambda d: lrkit.polynomial(
        d(lr),
        d(durations()),
        d(st.floats(0.0, 1e-6)),
        power=d(st.floats(0.05, 1.0)),
        cycle=d(st.booleans()),
        k=d(st.one_of(st.just(1.0), st.floats(0.2, 3.0))),
    ),
    lambda d: lrkit.cosine(d(lr), d(durations()), exponent=d(st.sampled_from([1.0, 2.0])), k=d(st.floats(0.2, 3.0))),
    lambda d: lrkit.cosine(d(lr), d(durations()), exponent=d(st.sampled_from([1.0, 2.0])), cycles=0.5),
    # cycles != 0.5: exact when the cosine's period, steps / cycles, is a whole number of steps (docs/jax.md)
    lambda d: lrkit.cosine(d(lr), 5 * d(durations()), exponent=d(st.sampled_from([1.0, 2.0])), cycles=2.5),
    # periodic: exact when the cosine's period, steps / cycles, is a whole number of steps (docs/jax.md)
    lambda d: lrkit.cosine(d(lr), d(durations()), cycles=d(st.sampled_from([0.5, 1.0])), periodic=True),
    lambda d: lrkit.cosine_restarts(d(lr), d(durations()), m_mul=d(factor)),
    # t_mul != 1: period starts that are not whole steps, some of them past 2**24
    lambda d: lrkit.cosine_restarts(
        d(lr), d(st.one_of(st.integers(1, 1000), durations())), t_mul=d(st.floats(1.005, 8.0)), m_mul=d(factor)
    ),
    # any period steps / cycles (at least 64 steps: NumPy's own cos(2 pi cycles t / steps) stays float64-exact)
    lambda d: (
        lambda cycles, periodic: lrkit.cosine(
            d(lr),
            d(st.integers(math.ceil(64 * cycles), INT32_MAX) | st.integers(math.ceil(64 * cycles), 10**5)),
            cycles=cycles,
            periodic=periodic,
        )
    )(d(st.floats(0.05, 8.0)), d(st.booleans())),
    lambda d: (
        lambda low: lrkit.cyclic(
            low,
            low + d(lr),
            d(durations()),
            d(st.one_of(st.none(), durations())),
            d(st.sampled_from(["triangular", "triangular2", "exp_range"])),
            d(st.floats(0.5, 1.0)),
        )
    )(d(lr)),
    lambda d: lrkit.one_cycle(
        d(lr),
        d(st.integers(100, 2**32)),  # pct_start * total_steps > 1: every phase has steps
        d(st.floats(0.05, 0.45)),
        d(st.sampled_from(["cos", "linear"])),
        three_phase=d(st.booleans()),
    ),
    lambda d: lrkit.noam(d(st.integers(16, 4096)), d(durations())),
    lambda d: lrkit.wsd(
        d(lr),
        d(st.one_of(st.just(0), durations())),
        d(st.one_of(st.just(0), durations())),
        d(durations()),
        decay=d(st.sampled_from(["linear", "cosine", "1-sqrt"])),
    ),
    lambda d: lrkit.tanh(d(lr), d(durations())),
]


@st.composite
def schedules(draw: Any, depth: int = 2) -> lrkit.Schedule:
    if depth == 0 or draw(st.booleans()):
        return draw(blocks())
    kind = draw(st.sampled_from(["warmup", "join", "product", "scale", "clip"]))
    inner = draw(schedules(depth=depth - 1))
    if kind == "warmup":
        method = draw(st.sampled_from(["linear", "constant", "cosine", "exponential"]))
        start = draw(st.floats(0.01, 1.0)) if method == "exponential" else draw(factor)
        return lrkit.warmup(inner, draw(st.one_of(st.just(0), durations())), start, method, prefix=draw(st.booleans()))
    if kind == "join":
        return lrkit.join([inner, draw(schedules(depth=depth - 1))], [draw(durations())])
    if kind == "product":
        return inner * draw(blocks())
    if kind == "scale":
        return lrkit.scale(inner, draw(st.floats(0.1, 10.0)))
    return lrkit.clip(inner, 0.0, draw(lr))


@st.composite
def steps_near(draw: Any, s: lrkit.Schedule) -> list[int]:
    """Random int32 steps, and the steps around every whole-step constant of the schedule (b - 1, b, b + 1)."""
    marks: list[int] = []
    for node in s.walk():
        for name in node._duration_fields:
            value = getattr(node, name)
            for x in value if isinstance(value, tuple) else (value,):
                if isinstance(x, int):
                    marks += [x - 3, x - 1, x, x + 1, 2 * x, 2 * x + 1, 3 * x - 1]
        for x, _ in itertools.islice(node.phase_events(2.0**31), 64):  # restarts that are not whole steps
            if 0 <= x <= INT32_MAX:
                marks += [math.floor(x) - 1, math.floor(x), math.ceil(x), math.ceil(x) + 1]
    picked = draw(st.lists(st.sampled_from(marks), max_size=12)) if marks else []
    extra = draw(st.lists(st.integers(0, INT32_MAX), min_size=1, max_size=8))
    return sorted({x for x in [0, 1, *picked, *extra, INT32_MAX] if 0 <= x <= INT32_MAX})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_float32_jax_matches_float64_numpy_at_every_int32_step(data: st.DataObject) -> None:
    s = data.draw(schedules())
    steps = data.draw(steps_near(s))
    assert_float32_exact(s, steps, jit=data.draw(st.booleans()))


# -- x64: the same numbers as NumPy --------------------------------------------------------------
X64_CHILD = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np, lrkit
    assert jax.config.jax_enable_x64
    SPEC = "join([warmup(cosine(1e-2, 150), steps=30, prefix=True), cosine_restarts(5e-3, 60)], boundaries=[180])"
    S = [
        lrkit.parse(SPEC),
        lrkit.multistep(1.0, [16777217, 2**40], 0.1),
        lrkit.cyclic(0.1, 1.0, 2000, 3000, mode="triangular2"),
        lrkit.cyclic(0.1, 1.0, 20, mode="exp_range", gamma=0.999),
        lrkit.exponential(1.0, 10, 0.96, staircase=True, begin=5),
        lrkit.exponential(1.0, 10, 0.96, floor=1e-3),
        lrkit.polynomial(1.0, 1000, 0.1, power=2.0, cycle=True),
        lrkit.one_cycle(1.0, 10**9 + 1, three_phase=True),
        lrkit.piecewise_interpolate([0, 100, 2**40], [1.0, 0.5, 0.0], method="cosine"),
        lrkit.wsd(1.0, 100, 10**8, 10**8, decay="1-sqrt"),
        lrkit.step(1.0, 7, 0.99),
        lrkit.noam(512, 4000),
    ]
    steps = np.array([0, 1, 29, 30, 179, 180, 181, 16777216, 16777217, 10**8 + 999, 2**31 - 1, 2**40 + 3], np.int64)
    worst = 0.0
    for s in S:
        ref = s(steps)
        for fn in (s, jax.jit(s)):
            got = np.asarray(fn(jnp.asarray(steps)))
            assert got.dtype == np.float64, got.dtype
            tol = 4 * np.spacing(ref.max())
            err = np.abs(got - ref).max()
            assert err <= tol, (repr(s), got, ref)
            worst = max(worst, err / np.spacing(ref.max()))
    print("WORST_F64_ULPS", worst)
    """
)


def test_with_x64_jax_equals_numpy() -> None:
    env = {**os.environ, "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", X64_CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "WORST_F64_ULPS" in out.stdout


# -- lrkit.optax ----------------------------------------------------------------------------------
SPEC = "join([warmup(cosine(1e-2, 150), steps=30, prefix=True), cosine_restarts(5e-3, 60)], boundaries=[180])"


def test_any_hyperparameter_through_inject_hyperparams_update_k_uses_s_of_k() -> None:
    s = lrkit.parse(SPEC)
    wd = lrkit.linear(0.0, 0.1, 100)
    b1 = lrkit.linear(0.85, 0.95, 50)
    opt = lo.inject_hyperparams(optax.adamw)(learning_rate=SPEC, weight_decay=wd.to_dict(), b1=b1, eps=1e-8)
    params = {"w": jnp.ones(3)}
    state = opt.init(params)
    assert lo.current_lr(state) == pytest.approx(s(0)) and lo.update_count(state) == 0

    @jax.jit
    def train_step(params: Any, state: Any) -> Any:
        updates, state = opt.update(jax.tree.map(jnp.ones_like, params), state, params)
        return optax.apply_updates(params, updates), state

    for k in range(200):
        params, state = train_step(params, state)
        hp = lo.hyperparams(state)
        assert lo.update_count(state) == k + 1
        assert abs(lo.current_lr(state) - s(k)) <= ulps_of_peak(1e-2), k  # the LR update k used
        assert abs(float(hp["weight_decay"]) - wd(k)) <= ulps_of_peak(0.1)
        assert abs(float(hp["b1"]) - b1(k)) <= ulps_of_peak(0.95)


def test_inject_hyperparams_resolves_open_lengths_and_names_bad_ones() -> None:
    opt = lo.inject_hyperparams(optax.sgd, total_steps=1000)(learning_rate="warmup(cosine(1e-3), steps='10%')")
    state = opt.init({"w": jnp.zeros(1)})
    assert lo.current_lr(state) == 0.0
    with pytest.raises(ValueError, match="learning_rate"):
        lo.inject_hyperparams(optax.sgd)(learning_rate="warmup(cosine(1e-3), steps='10%')")
    with pytest.raises(TypeError, match="optimizer"):
        lo.inject_hyperparams("adamw")


def test_reading_the_lr_needs_an_injected_state() -> None:
    state = optax.adamw(lrkit.cosine(1e-3, 10)).init({"w": jnp.zeros(1)})
    with pytest.raises(ValueError, match="inject_hyperparams"):
        lo.current_lr(state)
    assert lo.update_count(state) == 0  # scale_by_adam counts updates too
    injected = lo.inject_hyperparams(optax.sgd)(learning_rate=lrkit.constant(0.1)).init({"w": jnp.zeros(1)})
    with pytest.raises(ValueError, match="name must be"):
        lo.current_lr(injected, "momentum_typo")


def test_plateau_recipe_reduce_on_plateau_after_the_optimizer() -> None:
    """The documented recipe: chain reduce_on_plateau after the optimizer; the LR applied is s(k) * scale.

    With the gradient 1, SGD's update is exactly minus the LR applied to it.
    """
    s = lrkit.linear(0.1, 0.05, 20)
    opt = optax.chain(
        lo.inject_hyperparams(optax.sgd)(learning_rate=s),
        optax.contrib.reduce_on_plateau(factor=0.5, patience=3, cooldown=0),
    )
    params = jnp.zeros((), jnp.float32)
    state = opt.init(params)
    scales, applied = [], []
    for k in range(12):
        loss = 1.0 if k < 4 else 2.0  # stops improving after update 3
        updates, state = opt.update(jnp.ones((), jnp.float32), state, params, value=jnp.asarray(loss))
        applied.append(-float(updates))
        params = optax.apply_updates(params, updates)
        scales.append(float(lo.plateau_scale(state)))
        assert abs(lo.current_lr(state) - applied[-1]) <= 1e-8, k  # what the log says is what was applied
        assert abs(applied[-1] - s(k) * scales[-1]) <= ulps_of_peak(0.1), k
    assert scales[0] == 1.0 and scales[-1] < 1.0  # the plateau did reduce


def test_nested_states_are_searched() -> None:
    inner = lo.inject_hyperparams(optax.adam)(learning_rate=lrkit.constant(0.25))
    opt = optax.chain(
        optax.clip_by_global_norm(1.0), optax.MultiSteps(inner, every_k_schedule=2).gradient_transformation()
    )
    state = opt.init({"w": jnp.zeros(2)})
    assert lo.current_lr(state) == 0.25


def test_import_lrkit_optax_is_lazy_and_adapter_layered() -> None:
    code = "import lrkit, sys; assert 'optax' not in sys.modules and 'jax' not in sys.modules; lrkit.optax; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr


def test_shift_keeps_an_integer_step_exact_while_the_shifted_step_fits_in_int32() -> None:
    # shift(s, k)(t) = s(t + k). Expected values by hand in float64: SGDR with a 1000-step period is
    # 0.5 * (1 + cos(pi * ((t + k) mod 1000) / 1000)). Past 2**24 a float32 step t + k would be rounded
    # (to a multiple of 2 .. 128 steps), so these steps fail unless t + k stays an integer.
    k = 123
    s = lrkit.shift(lrkit.cosine_restarts(1.0, 1000), k)
    steps = np.array([0, 1, 2**24 + 1, 2**24 + 877, 10**8 + 876, 10**8 + 877, 2**31 - 1 - k])
    expected = 0.5 * (1.0 + np.cos(np.pi * ((steps + k) % 1000) / 1000.0))
    for f in (s, jax.jit(s)):
        got = np.asarray(f(jnp.asarray(steps, dtype=jnp.int32)), dtype=np.float64)
        np.testing.assert_allclose(got, expected, rtol=0, atol=4 * 2.0**-24)
