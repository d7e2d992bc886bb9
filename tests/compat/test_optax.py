"""``lrkit.compat.optax`` against the real optax schedules, step by step.

Every comparison evaluates the genuine ``optax`` function on int32 steps under
``jax.jit(jax.vmap(...))`` on CPU, the way optax runs inside an optimizer
update, and lrkit on the same steps in float64.

Tolerance (why not 1e-12).  jax computes in float32 by default: the values,
``count / transition_steps``, π, ``cos``/``pow`` and each product are rounded to
float32, a handful of roundings of at most ``u = 2**-24`` relative to the
schedule's *peak* value (not to the local value: near the end of a cosine
``1 + cos(π x)`` cancels, so a value of 1e-10 * peak carries an error of
``~u * peak``).  XLA also rewrites a division by a compile-time constant as a
multiplication by its rounded reciprocal, one more rounding.  Hence

    |lrkit - optax| <= 8 u (peak * growth + |optax|)

with ``growth = 1`` except where a float32 rounding of the step fraction is
amplified, derived at each use (exponential decay far out, ``power`` or
``exponent`` below 1).  Measured worst cases are under 3 u * peak (see
``test_measured_worst_differences``), so 8 u leaves a margin of 3 and is still
thousands of times smaller than any step-to-step change tested at a boundary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrkit
from lrkit.compat import optax as compat

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
import jax.numpy as jnp  # noqa: E402  (after importorskip, by design)

U = 2.0**-24  # float32 unit roundoff
TOL_U = 8.0
HYPOTHESIS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- helpers ----------------------------------------------------------------------------


def optax_curve(schedule: Callable[[Any], Any], steps: np.ndarray) -> np.ndarray:
    """optax's values at integer ``steps``, jitted and vectorised as in a training step."""
    counts = jnp.asarray(np.asarray(steps, dtype=np.int64), dtype=jnp.int32)
    return np.asarray(jax.jit(jax.vmap(schedule))(counts), dtype=np.float64)


def grid(*boundaries: float, end: float, extra: Iterable[float] = ()) -> np.ndarray:
    """Every step 0..end (capped at 5000), each boundary b-1/b/b+1, and steps far past the end."""
    pts: list[float] = list(range(int(min(end, 5000)) + 1))
    for b in boundaries:
        pts += [b - 1, b, b + 1]
    pts += [end - 1, end, end + 1, 2 * end, 10 * end + 7, 1_000_003, 2**24 - 1, *extra]
    # counts are int32 and become float32 in optax's arithmetic: exact below 2**24.
    return np.unique(np.array([p for p in pts if 0 <= p < 2**24], dtype=np.int64))


def compare(
    ours: lrkit.Schedule,
    theirs: Callable[[Any], Any],
    steps: np.ndarray,
    peak: float,
    growth: Callable[[np.ndarray], np.ndarray] | float = 1.0,
) -> float:
    """Assert lrkit == optax within the float32 tolerance; return max |diff| / peak."""
    o = ours(steps.astype(np.float64))
    k = optax_curve(theirs, steps)
    assert np.isfinite(o).all() and (o >= 0).all()
    g = growth(steps) if callable(growth) else growth
    tol = TOL_U * U * (peak * np.asarray(g) + np.abs(k))
    diff = np.abs(o - k)
    bad = diff > tol
    if bad.any():
        i = int(np.argmax(bad))
        raise AssertionError(
            f"{int(bad.sum())} step(s) differ from optax beyond float32 tolerance; first at t={steps[i]}: "
            f"lrkit={o[i]!r} optax={k[i]!r} diff={diff[i]:.3e} tol={tol[i]:.3e} ({ours!r})"
        )
    return float(np.max(diff)) / peak if peak else 0.0


def exp_growth(begin: int, steps: int, rate: float) -> Callable[[np.ndarray], np.ndarray]:
    """Growth of the float32 error of ``rate ** p``, ``p = (t - begin) / steps``.

    optax rounds ``p`` (relative error ~u: a relative error ``p |ln rate| u`` in
    ``rate ** p``) and ``rate`` itself (relative error u/2: ``p u / 2``), so the
    absolute error is about ``init * rate ** p * p * (|ln rate| + 1/2) * u``: not
    bounded by ``u * init`` far out, and largest near ``p = 1 / |ln rate|`` (1000 for 0.999).
    """

    def growth(t: np.ndarray) -> np.ndarray:
        p = np.maximum(t - begin, 0) / steps
        return 1.0 + p * rate**p * (abs(math.log(rate)) + 1.0)

    return growth


# -- each function at its boundaries -------------------------------------------------------


def test_constant_schedule() -> None:
    ours = compat.constant_schedule(0.3)
    assert ours == lrkit.constant(0.3)
    # optax returns the Python value itself, whatever the count.
    theirs = optax.constant_schedule(0.3)
    assert all(ours(t) == theirs(t) == 0.3 for t in (0, 1, 10**6))


@pytest.mark.parametrize(
    ("init", "end", "power", "steps", "begin"),
    [
        (1.0, 0.01, 2, 100, 0),
        (1.0, 0.01, 2, 100, 5),
        (0.1, 0.5, 1.5, 37, 3),
        (3e-4, 0.0, 1.0, 1, 0),
        (1e-3, 1e-5, 3, 500, 250),
    ],
)
def test_polynomial_schedule(init: float, end: float, power: float, steps: int, begin: int) -> None:
    ours = compat.polynomial_schedule(init, end, power, steps, begin)
    theirs = optax.polynomial_schedule(init, end, power, steps, begin)
    compare(ours, theirs, grid(begin, begin + steps, end=begin + steps), max(init, end))
    # Hand-derived: init through t = begin, end from begin + steps on.
    assert ours(begin) == init and ours(begin + steps) == pytest.approx(end, abs=1e-18)
    assert ours(10 * (begin + steps)) == pytest.approx(end, abs=1e-18)


def test_polynomial_schedule_optax_docstring_example() -> None:
    # optax's own docstring: init 1.0, end 0.01, 100 steps, begin 5, power 2.
    s = compat.polynomial_schedule(init_value=1.0, end_value=0.01, transition_steps=100, transition_begin=5, power=2)
    documented = {0: 1.0, 5: 1.0, 6: 0.9803, 104: 0.0101, 105: 0.0100, 110: 0.0100}
    for t, value in documented.items():
        assert round(s(t), 4) == value
    # 0.9803 by hand: 0.99 * (1 - 1/100)**2 + 0.01 = 0.980299
    assert s(6) == pytest.approx(0.99 * 0.99**2 + 0.01, rel=1e-15)


@pytest.mark.parametrize("power", [0.5, 0.25])
def test_polynomial_schedule_power_below_one(power: float) -> None:
    # Near the end optax's 1 - c/T carries an absolute float32 error of ~2u (XLA's reciprocal
    # multiplication even leaves 6e-8 at c = T), and x ** power turns an error d at x ~ 0 into
    # d ** power: growth = |init - end| / peak * (4u) ** power / (8u), i.e. the bound
    # |init - end| * (4u) ** power near the end.
    init, end, steps = 0.1, 0.5, 100
    ours = compat.polynomial_schedule(init, end, power, steps)
    growth = 1.0 + abs(init - end) / end * (4 * U) ** power / (TOL_U * U)
    compare(ours, optax.polynomial_schedule(init, end, power, steps), grid(steps, end=steps), end, growth)


def test_polynomial_schedule_power_zero_holds_init() -> None:
    # Quirk copied: 0 ** 0 = 1, so power=0 never leaves init_value, even after the end.
    ours = compat.polynomial_schedule(0.2, 0.01, 0, 50)
    compare(ours, optax.polynomial_schedule(0.2, 0.01, 0, 50), grid(50, end=50), 0.2)
    assert ours(0) == ours(50) == ours(10**6) == 0.2


@pytest.mark.parametrize(
    ("init", "end", "steps", "begin"), [(0.0, 1e-3, 100, 0), (1e-3, 0.0, 100, 7), (0.5, 0.5, 3, 0)]
)
def test_linear_schedule(init: float, end: float, steps: int, begin: int) -> None:
    ours = compat.linear_schedule(init, end, steps, begin)
    assert ours == lrkit.linear(init, end, steps, begin=begin)
    compare(ours, optax.linear_schedule(init, end, steps, begin), grid(begin, begin + steps, end=begin + steps), 1e-3)
    # Hand-derived midpoint: halfway between init and end.
    assert ours(begin + steps / 2) == pytest.approx((init + end) / 2, rel=1e-15)


@pytest.mark.parametrize(
    "scales",
    [None, {}, {100: 0.1, 200: 0.1}, {300: 0.5, 10: 2.0, 20: 0.0}, {0: 0.5, 1: 0.5, 2: 3.0}],
)
def test_piecewise_constant_schedule(scales: dict[int, float] | None) -> None:
    ours = compat.piecewise_constant_schedule(0.1, scales)
    theirs = optax.piecewise_constant_schedule(0.1, scales)
    bounds = sorted(scales or {})
    peak = max(optax_curve(theirs, np.arange(400)).max(), 0.1)
    compare(ours, theirs, grid(*bounds, end=max(bounds, default=10)), peak)


def test_piecewise_constant_schedule_switches_at_the_boundary() -> None:
    s = compat.piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.1})
    # Hand-derived: scales multiply and accumulate, the change happens at b (not b + 1 as in Keras).
    assert (s(99), s(100), s(199), s(200)) == (1.0, 0.1, 0.1, pytest.approx(0.01, rel=1e-15))
    # A config file's string keys are steps too.
    assert compat.piecewise_constant_schedule(1.0, {"100": 0.1, "200": 0.1}) == s


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize(
    ("init", "steps", "rate", "begin", "end"),
    [(1e-3, 100, 0.5, 0, None), (1e-3, 100, 0.5, 10, 1e-5), (0.1, 7, 0.9, 3, None), (1.0, 1, 0.999, 0, 0.3)],
)
def test_exponential_decay(
    init: float, steps: int, rate: float, begin: int, end: float | None, staircase: bool
) -> None:
    ours = compat.exponential_decay(init, steps, rate, begin, staircase, end)
    theirs = optax.exponential_decay(init, steps, rate, begin, staircase, end)

    drops = [begin + k * steps for k in range(1, 6)]
    compare(ours, theirs, grid(begin, *drops, end=begin + 20 * steps), init, exp_growth(begin, steps, rate))
    assert ours(begin) == init  # hand-derived: init_value through t = begin
    if staircase:
        # The drop happens at begin + steps: s(b - 1) = init, s(b) = init * rate (floored by end).
        assert ours(begin + steps - 1) == init
        assert ours(begin + steps) == pytest.approx(max(init * rate, end or 0.0), rel=1e-15)


def test_exponential_decay_rate_one_makes_end_value_an_upper_bound() -> None:
    # Quirk copied: clip_fn = maximum if decay_rate < 1 else minimum.
    ours = compat.exponential_decay(1e-3, 100, 1.0, end_value=5e-4)
    assert ours == lrkit.constant(5e-4)
    compare(ours, optax.exponential_decay(1e-3, 100, 1.0, end_value=5e-4), grid(100, end=100), 1e-3)
    above = compat.exponential_decay(1e-3, 100, 1.0, end_value=5e-3)
    compare(above, optax.exponential_decay(1e-3, 100, 1.0, end_value=5e-3), grid(100, end=100), 1e-3)


@pytest.mark.parametrize(
    ("init", "steps", "alpha", "exponent"),
    [(1e-3, 4000, 0.0, 1.0), (1e-3, 500, 0.1, 2.0), (0.5, 1, 0.0, 1.0), (1.0, 300, 1.0, 1.0), (0.1, 77, 0.3, 3.5)],
)
def test_cosine_decay_schedule(init: float, steps: int, alpha: float, exponent: float) -> None:
    ours = compat.cosine_decay_schedule(init, steps, alpha, exponent)
    compare(ours, optax.cosine_decay_schedule(init, steps, alpha, exponent), grid(steps // 2, steps, end=steps), init)
    # Hand-derived: init at 0, alpha * init from decay_steps on.
    assert ours(0) == init and ours(steps) == pytest.approx(alpha * init, abs=1e-18)


def test_cosine_decay_schedule_exponent_below_one() -> None:
    # c ** 0.5 near c = 0 turns optax's absolute float32 error of ~u in c into sqrt(2u).
    ours = compat.cosine_decay_schedule(1e-3, 200, 0.0, 0.5)
    growth = 1.0 + (2 * U) ** 0.5 / (TOL_U * U)
    compare(ours, optax.cosine_decay_schedule(1e-3, 200, 0.0, 0.5), grid(200, end=200), 1e-3, growth)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize(
    "scales", [None, {4: 0.1, 8: 0.01}, {0: 0.5, 40: 0.1, 80: 0.01}, {100: 2.0, 101: 0.5, 1000: 0.0}, {0: 3.0}]
)
def test_piecewise_interpolate_schedule(kind: str, scales: dict[int, float] | None) -> None:
    ours = compat.piecewise_interpolate_schedule(kind, 1.0, scales)
    theirs = optax.piecewise_interpolate_schedule(kind, 1.0, scales)
    bounds = sorted(scales or {})
    peak = float(np.prod([max(s, 1.0) for s in (scales or {}).values()]))
    compare(ours, theirs, grid(*bounds, end=max(bounds, default=10)), peak)


def test_piecewise_interpolate_schedule_optax_docstring_example() -> None:
    s = compat.piecewise_interpolate_schedule("linear", 1.0, {4: 0.1, 8: 0.01})
    # optax's docstring table (by hand: linear from 1 to 0.1 over 0..4, from 0.1 to 0.001 over 4..8).
    documented = {0: 1.0, 2: 0.55, 4: 0.1, 6: 0.0505, 8: 0.001, 10: 0.001}
    for t, value in documented.items():
        assert s(t) == pytest.approx(value, rel=1e-14)


@pytest.mark.parametrize(
    ("steps", "pct_start", "pct_final"), [(1000, 0.3, 0.85), (3, 0.3, 0.85), (7, 0.5, 0.9), (100, 0.0, 0.5)]
)
def test_linear_onecycle_schedule(steps: int, pct_start: float, pct_final: float) -> None:
    ours = compat.linear_onecycle_schedule(steps, 1e-3, pct_start, pct_final)
    theirs = optax.linear_onecycle_schedule(steps, 1e-3, pct_start, pct_final)
    a, b = int(pct_start * steps), int(pct_final * steps)
    compare(ours, theirs, grid(a, b, steps, end=steps), 1e-3)
    # Hand-derived: peak at int(pct_start * T), back to peak / 25 at int(pct_final * T), peak / 25 / 1e4 at T.
    assert ours(a) == pytest.approx(1e-3, rel=1e-15)
    assert ours(b) == pytest.approx(1e-3 / 25, rel=1e-15)
    assert ours(steps) == ours(10 * steps) == pytest.approx(1e-3 / 25 / 1e4, rel=1e-15)


def test_linear_onecycle_truncation_quirk() -> None:
    # Quirk copied: int(0.3 * 3) = 0, so with transition_steps=3 the schedule starts at the peak.
    s = compat.linear_onecycle_schedule(3, 1e-3)
    assert s(0) == pytest.approx(1e-3, rel=1e-15)
    assert float(optax.linear_onecycle_schedule(3, 1e-3)(0)) == pytest.approx(1e-3, rel=1e-6)


@pytest.mark.parametrize(("steps", "pct_start"), [(1000, 0.3), (2, 0.5), (10, 0.99), (50, 0.0)])
def test_cosine_onecycle_schedule(steps: int, pct_start: float) -> None:
    ours = compat.cosine_onecycle_schedule(steps, 1e-3, pct_start, 10.0, 100.0)
    theirs = optax.cosine_onecycle_schedule(steps, 1e-3, pct_start, 10.0, 100.0)
    a = int(pct_start * steps)
    compare(ours, theirs, grid(a, steps, end=steps), 1e-3)
    assert ours(a) == pytest.approx(1e-3, rel=1e-15) and ours(steps) == pytest.approx(1e-3 / 10 / 100, rel=1e-15)


def test_onecycle_collisions_raise_where_optax_drops_a_phase() -> None:
    # transition_steps=1: int(0.3) = int(0.85) = 0, and optax's dict literal {0: 25, 0: 1/25, 1: 1e-4}
    # silently keeps only the second value for step 0: no peak at all.
    theirs = optax_curve(optax.linear_onecycle_schedule(1, 1.0), np.arange(3))
    assert theirs.max() < 1.0 / 25 + 1e-6  # the peak 1.0 never appears
    with pytest.raises(ValueError, match=r"int\(pct_start \* transition_steps\).*silently drops a phase"):
        compat.linear_onecycle_schedule(1, 1.0)
    with pytest.raises(ValueError, match="silently drops a phase"):
        compat.linear_onecycle_schedule(100, 1.0, pct_start=0.9, pct_final=0.5)
    with pytest.raises(ValueError, match="silently drops a phase"):
        compat.cosine_onecycle_schedule(10, 1.0, pct_start=1.0)


@pytest.mark.parametrize(
    ("init", "peak", "warm", "total", "end", "exponent"),
    [
        (0.0, 1e-3, 100, 1000, 0.0, 1.0),
        (1e-4, 1e-3, 0, 1000, 1e-5, 1.0),
        (0.0, 1.0, 1, 2, 0.0, 1.0),
        (2e-3, 1e-3, 10, 300, 1e-3, 1.0),
        (0.0, 0.1, 50, 550, 0.01, 2.0),
    ],
)
def test_warmup_cosine_decay_schedule(
    init: float, peak: float, warm: int, total: int, end: float, exponent: float
) -> None:
    ours = compat.warmup_cosine_decay_schedule(init, peak, warm, total, end, exponent)
    theirs = optax.warmup_cosine_decay_schedule(init, peak, warm, total, end, exponent)
    compare(ours, theirs, grid(warm, total, end=total), max(init, peak))
    # Hand-derived: init at 0 (peak when there is no warmup), peak at W, end_value from decay_steps on
    # (decay_steps is the total length, warmup included).
    assert ours(0) == (init if warm else peak)
    assert ours(warm) == peak and ours(total) == pytest.approx(end, abs=1e-18)


def test_warmup_exponential_decay_schedule() -> None:
    args = (0.0, 1e-3, 100, 50, 0.5, 20, True, 1e-5)
    ours = compat.warmup_exponential_decay_schedule(*args)
    theirs = optax.warmup_exponential_decay_schedule(*args)
    # transition_begin counts from the end of the warmup: the first drop is at 100 + 20 + 50.
    compare(ours, theirs, grid(100, 120, 170, 220, end=1000), 1e-3)
    # Hand-derived: peak until the first drop, then 1e-3 * 0.5.
    assert ours(169) == 1e-3 and ours(170) == 5e-4
    no_warmup = compat.warmup_exponential_decay_schedule(0.0, 1e-3, 0, 50, 0.9)
    compare(
        no_warmup,
        optax.warmup_exponential_decay_schedule(0.0, 1e-3, 0, 50, 0.9),
        grid(end=500),
        1e-3,
        exp_growth(0, 50, 0.9),
    )


def test_warmup_constant_schedule() -> None:
    ours = compat.warmup_constant_schedule(1e-5, 1e-3, 100)
    compare(ours, optax.warmup_constant_schedule(1e-5, 1e-3, 100), grid(100, end=100), 1e-3)


def test_sgdr_schedule() -> None:
    cycles = [
        {"init_value": 0.0, "peak_value": 1e-3, "warmup_steps": 10, "decay_steps": 100, "end_value": 1e-5},
        {"init_value": 1e-4, "peak_value": 5e-4, "warmup_steps": 0, "decay_steps": 50},
        {"init_value": 0.0, "peak_value": 2e-4, "warmup_steps": 5, "decay_steps": 20, "exponent": 2.0},
    ]
    ours = compat.sgdr_schedule(cycles)
    compare(ours, optax.sgdr_schedule(cycles), grid(10, 100, 150, 155, 170, end=170), 1e-3)
    # Hand-derived: each cycle restarts on its own clock; after the last the value holds its end (0).
    assert ours(100) == 5e-4 and ours(150) == 0.0 and ours(155) == 2e-4 and ours(10**6) == 0.0
    assert compat.sgdr_schedule(cycles[:1]) == compat.warmup_cosine_decay_schedule(**cycles[0])


def test_join_schedules() -> None:
    pieces = [
        compat.linear_schedule(0.0, 1e-3, 100),
        compat.cosine_decay_schedule(1e-3, 400),
        compat.constant_schedule(1e-5),
    ]
    theirs = optax.join_schedules(
        [optax.linear_schedule(0.0, 1e-3, 100), optax.cosine_decay_schedule(1e-3, 400), optax.constant_schedule(1e-5)],
        [100, 500],
    )
    ours = compat.join_schedules(pieces, [100, 500])
    assert ours == lrkit.join(pieces, [100, 500])
    compare(ours, theirs, grid(100, 500, end=500), 1e-3)
    assert compat.join_schedules(pieces[:1], []) == pieces[0]


# -- property tests over random valid parameters -------------------------------------------

values = st.floats(1e-6, 1.0)
whole = st.integers(1, 400)


@HYPOTHESIS
@given(
    init=st.floats(0.0, 1.0),
    peak=values,
    warm=st.integers(0, 200),
    length=whole,
    frac=st.floats(0.0, 1.0),
    exponent=st.floats(1.0, 4.0),
)
def test_random_warmup_cosine_decay(
    init: float, peak: float, warm: int, length: int, frac: float, exponent: float
) -> None:
    end = frac * peak
    ours = compat.warmup_cosine_decay_schedule(init, peak, warm, warm + length, end, exponent)
    theirs = optax.warmup_cosine_decay_schedule(init, peak, warm, warm + length, end, exponent)
    compare(ours, theirs, grid(warm, warm + length, end=warm + length), max(init, peak))


@HYPOTHESIS
@given(
    init=values,
    steps=whole,
    rate=st.floats(0.05, 1.0),
    begin=st.integers(0, 100),
    staircase=st.booleans(),
    floor=st.one_of(st.none(), st.floats(0.0, 1.0)),
)
def test_random_exponential_decay(
    init: float, steps: int, rate: float, begin: int, staircase: bool, floor: float | None
) -> None:
    end = None if floor is None else floor * init
    ours = compat.exponential_decay(init, steps, rate, begin, staircase, end)
    theirs = optax.exponential_decay(init, steps, rate, begin, staircase, end)
    t = grid(begin, begin + steps, end=begin + 10 * steps)
    if not staircase:
        compare(ours, theirs, t, init, exp_growth(begin, steps, rate))
        return
    # optax quirk (float32 under XLA): (t - begin) / steps is computed as a product with
    # the rounded reciprocal, so at an exact stair t - begin = k * steps it can floor to
    # k - 1 and switch one step late.  Off the stairs the values must agree; on them
    # optax gives either lrkit's value or the previous stair's (lrkit switches exactly).
    on_stair = (t > begin) & ((t - begin) % steps == 0)
    compare(ours, theirs, t[~on_stair], init, exp_growth(begin, steps, rate))
    stairs = t[on_stair]
    if stairs.size:
        k = optax_curve(theirs, stairs)
        now, before = ours(stairs.astype(np.float64)), ours((stairs - 1).astype(np.float64))
        # the same float32 error model as off the stairs: optax's rate ** p drifts with p (see exp_growth)
        tol = TOL_U * U * (init * exp_growth(begin, steps, rate)(stairs) + np.abs(k))
        assert (np.minimum(np.abs(k - now), np.abs(k - before)) <= tol).all(), (stairs, k, now, before)


@HYPOTHESIS
@given(init=values, end=st.floats(0.0, 1.0), power=st.floats(1.0, 5.0), steps=whole, begin=st.integers(0, 100))
def test_random_polynomial(init: float, end: float, power: float, steps: int, begin: int) -> None:
    ours = compat.polynomial_schedule(init, end, power, steps, begin)
    theirs = optax.polynomial_schedule(init, end, power, steps, begin)
    compare(ours, theirs, grid(begin, begin + steps, end=begin + steps), max(init, end))


scale_dicts = st.dictionaries(st.integers(0, 500), st.floats(0.0, 2.0), max_size=5)


@HYPOTHESIS
@given(init=values, scales=scale_dicts, kind=st.sampled_from(["linear", "cosine"]))
def test_random_piecewise(init: float, scales: dict[int, float], kind: str) -> None:
    peak = init * float(np.prod([max(s, 1.0) for s in scales.values()]))
    bounds = sorted(scales)
    ours = compat.piecewise_constant_schedule(init, scales)
    compare(ours, optax.piecewise_constant_schedule(init, scales), grid(*bounds, end=max(bounds, default=5)), peak)
    ours_i = compat.piecewise_interpolate_schedule(kind, init, scales)
    theirs_i = optax.piecewise_interpolate_schedule(kind, init, scales)
    compare(ours_i, theirs_i, grid(*bounds, end=max(bounds, default=5)), peak)


@HYPOTHESIS
@given(
    steps=st.integers(4, 3000),
    peak=values,
    pct=st.floats(0.05, 0.45),
    final=st.floats(0.5, 0.95),
    div=st.floats(1.0, 100.0),
    final_div=st.floats(1.0, 1e4),
)
def test_random_onecycles(steps: int, peak: float, pct: float, final: float, div: float, final_div: float) -> None:
    a, b = int(pct * steps), int(final * steps)
    if 0 <= a < b < steps:
        lin = compat.linear_onecycle_schedule(steps, peak, pct, final, div, final_div)
        compare(
            lin,
            optax.linear_onecycle_schedule(steps, peak, pct, final, div, final_div),
            grid(a, b, steps, end=steps),
            peak,
        )
    cos = compat.cosine_onecycle_schedule(steps, peak, pct, div, final_div)
    compare(cos, optax.cosine_onecycle_schedule(steps, peak, pct, div, final_div), grid(a, steps, end=steps), peak)


# -- the measured worst differences, as documented ------------------------------------------


def test_measured_worst_differences() -> None:
    """Typical configs differ from optax by under 3 u * peak (measured 2.9 u; docs/compat.md); bound 4 u."""
    cases = [
        (
            compat.warmup_cosine_decay_schedule(0.0, 1e-3, 1000, 40_000, 1e-5),
            optax.warmup_cosine_decay_schedule(0.0, 1e-3, 1000, 40_000, 1e-5),
        ),
        (compat.exponential_decay(1e-3, 4000, 0.9), optax.exponential_decay(1e-3, 4000, 0.9)),
        (compat.cosine_onecycle_schedule(40_000, 1e-3), optax.cosine_onecycle_schedule(40_000, 1e-3)),
        (
            compat.piecewise_constant_schedule(1e-3, {10_000: 0.8, 20_000: 0.5, 30_000: 0.25}),
            optax.piecewise_constant_schedule(1e-3, {10_000: 0.8, 20_000: 0.5, 30_000: 0.25}),
        ),
    ]
    steps = np.arange(40_000)
    worst = [compare(ours, theirs, steps, 1e-3) for ours, theirs in cases]
    assert max(worst) < 4 * U, [w / U for w in worst]


# -- deliberate differences: loud where optax is silent ------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: compat.linear_schedule(0.0, 1.0, 0), "transition_steps must be >= 1.*silently returns the constant"),
        (lambda: compat.polynomial_schedule(1.0, 0.0, 1, -5), "transition_steps must be >= 1.*silently"),
        (lambda: compat.linear_schedule(0.0, 1.0, 10, -1), "transition_begin must be >= 0.*silently uses 0"),
        (lambda: compat.exponential_decay(1.0, 0, 0.5), "transition_steps must be >= 1.*silently"),
        (
            lambda: compat.exponential_decay(1.0, 10, 0.0),
            "decay_rate must be > 0, got 0.0 .*silently returns the constant",
        ),
        (lambda: compat.exponential_decay(1.0, 10, 0.5, transition_begin=-3), "transition_begin.*silently uses 0"),
        (lambda: compat.warmup_constant_schedule(0.0, 1.0, 0), "warmup_steps must be >= 1.*never reaching"),
        (lambda: compat.exponential_decay(1.0, 10, 1.5), "decay_rate must be <= 1.*without bound"),
        (lambda: compat.exponential_decay(1.0, 10, -0.5), "decay_rate must be > 0.*NaN"),
        (lambda: compat.exponential_decay(1.0, 10, 0.5, end_value=2.0), "end_value must be <= init_value"),
        (lambda: compat.cosine_decay_schedule(1.0, 0), "decay_steps must be >= 1"),
        (lambda: compat.cosine_decay_schedule(1.0, 10, alpha=1.5), r"alpha must be in \[0, 1\]"),
        (lambda: compat.cosine_decay_schedule(1.0, 10, exponent=0.0), "exponent must be > 0"),
        (lambda: compat.cosine_decay_schedule(1.0, 2.5), "whole number of steps"),
        (lambda: compat.polynomial_schedule(1.0, 0.0, -1, 10), "power must be >= 0.*inf"),
        (lambda: compat.constant_schedule(-1.0), "value must be >= 0.*negative learning rate"),
        (lambda: compat.piecewise_constant_schedule(1.0, {10: -0.5}), "must be >= 0"),
        (lambda: compat.piecewise_constant_schedule(1.0, {-10: 0.5}), "must be >= 0.*from step 0"),
        (
            lambda: compat.piecewise_constant_schedule(1.0, {10: 0.5, "10": 0.5}),
            "must not repeat a value, got 10 twice",
        ),
        (lambda: compat.piecewise_interpolate_schedule("cubic", 1.0), "interpolate_type must be"),
        (lambda: compat.warmup_cosine_decay_schedule(0.0, 1.0, 100, 100), "decay_steps must be > warmup_steps"),
        (lambda: compat.warmup_cosine_decay_schedule(0.0, 1.0, -1, 100), "warmup_steps must be >= 0"),
        (lambda: compat.warmup_cosine_decay_schedule(0.0, 1.0, 10, 100, 2.0), "end_value must be <= peak_value"),
        (lambda: compat.warmup_cosine_decay_schedule(0.0, 0.0, 10, 100, 0.1), "optax ignores end_value"),
        (lambda: compat.sgdr_schedule([]), "at least one cycle"),
        (lambda: compat.join_schedules([lrkit.constant(1.0)] * 3, [10]), "silently ignores"),
        (lambda: compat.join_schedules([lrkit.constant(1.0)] * 2, [0]), "boundaries.*must be >= 1"),
        (lambda: compat.join_schedules([lrkit.constant(1.0)] * 3, [20, 10]), "strictly increasing"),
    ],
)
def test_invalid_input_raises_naming_what_optax_would_do(call: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_silent_fallbacks_are_real_in_optax() -> None:
    # The fallbacks lrkit refuses really are silent in optax: a constant init_value, no error.
    assert float(optax.linear_schedule(0.0, 1.0, 0)(50)) == 0.0
    assert float(optax.exponential_decay(1.0, 10, 0.0)(50)) == 1.0
    # and a negative transition_begin is treated as 0
    assert float(optax.linear_schedule(0.0, 1.0, 10, -5)(5)) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: compat.exponential_decay(1.0, 10, 0.5, staircase="False"),
        lambda: compat.sgdr_schedule({"init_value": 0.0}),
        lambda: compat.join_schedules([lambda t: 1.0, lrkit.constant(1.0)], [10]),
        lambda: compat.piecewise_constant_schedule(1.0, [(10, 0.5)]),
        lambda: compat.linear_schedule("0", 1.0, 10),
    ],
)
def test_wrong_types_raise_type_error(call: Callable[[], Any]) -> None:
    with pytest.raises(TypeError):
        call()


def test_results_are_plain_lrkit_schedules() -> None:
    s = compat.warmup_cosine_decay_schedule(0.0, 1e-3, 100, 1000, 1e-5)
    assert s == lrkit.join([lrkit.linear(0.0, 1e-3, 100), lrkit.cosine(1e-3, 900, floor=1e-5)], [100])
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s
    # and they evaluate on jax arrays, in the array's dtype
    out = s(jnp.arange(5, dtype=jnp.float32))
    assert isinstance(out, jax.Array) and out.dtype == jnp.float32
