"""``lrkit.compat.keras`` against the real Keras 3 schedules, step by step.

Every comparison evaluates the genuine ``keras.optimizers.schedules`` class
(Keras 3 on the torch backend, set by tests/conftest.py) on float32 steps, the
way Keras is used, and lrkit on the same steps in float64.

Tolerance (why not 1e-12).  Keras computes in float32: the initial LR, the
ratio ``t / decay_steps``, π, ``cos``/``pow`` and each product are rounded to
float32, about six roundings of at most ``u = 2**-24`` (float32's unit
roundoff) relative to the schedule's *peak* value.  Errors are relative to the
peak, not to the local value, because of cancellation: near the end of a
cosine ``1 + cos(π x)`` is computed as ``1 + (-0.99999...)``, so a value that
should be 1e-10 of the peak carries an absolute error of ``~u * peak`` (the
local relative error there is O(1) and says nothing).  Hence

    |lrkit - keras| <= 8 u (peak * growth + |keras|)

with ``growth = 1`` except where the float32 rounding of the step itself is
amplified, derived at each use (polynomial with ``power < 1``, restarts far
past the first period).  The measured worst case over the seed's configs is
2.5 u * peak (see ``test_seed_configs_over_40000_steps``), so 8 u leaves a
margin of 3 yet is 30000 times smaller than the smallest step-to-step change
at a boundary in these tests.  Piecewise-constant values are compared exactly
(lrkit's float64 value rounded to float32 equals Keras' value bit for bit).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrkit.compat import keras as compat

keras = pytest.importorskip("keras")
from keras.optimizers import schedules as ks  # noqa: E402  (after importorskip, by design)

# Keras' torch backend converts tensors with np.array(x), which NumPy 2 flags on every call; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
U = 2.0**-24  # float32 unit roundoff
TOL_U = 8.0  # roundings budget, see the module docstring

HYPOTHESIS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- helpers --------------------------------------------------------------------


def keras_curve(schedule: Any, steps: np.ndarray, *, loop: bool = False) -> np.ndarray:
    """Keras' values at ``steps`` (float32 steps, as Keras' optimizer iterations).

    ``loop=True`` calls Keras one step at a time, as the seed does for
    ``PiecewiseConstantDecay``: that class and ``CosineDecay`` with a warmup
    (``ops.cond``) cannot take a vector of steps.
    """
    t = np.asarray(steps, dtype=np.float32)
    if loop:
        return np.array([float(keras.ops.convert_to_numpy(schedule(x))) for x in t], dtype=np.float64)
    return keras.ops.convert_to_numpy(schedule(t)).astype(np.float64)


def lrkit_curve(schedule: Any, steps: np.ndarray) -> np.ndarray:
    return schedule(np.asarray(steps, dtype=np.float64))


def grid(*boundaries: float, end: float, extra: Iterable[float] = ()) -> np.ndarray:
    """All steps ``0..end`` (capped at 6000), every boundary b-1/b/b+1, and steps far past the end."""
    pts: list[float] = list(range(int(min(end, 6000)) + 1))
    for b in boundaries:
        pts += [b - 1, b, b + 1]
    pts += [end - 1, end, end + 1, 2 * end, 10 * end + 7, 1_000_003, 2**24 - 1, *extra]
    # float32 steps are exact integers below 2**24; stay there.
    return np.unique(np.array([p for p in pts if 0 <= p < 2**24 and float(p).is_integer()], dtype=np.float64))


def tolerance(peak: float, theirs: np.ndarray, growth: np.ndarray | float = 1.0) -> np.ndarray:
    return TOL_U * U * (peak * np.asarray(growth) + np.abs(theirs))


def assert_matches(ours: np.ndarray, theirs: np.ndarray, tol: np.ndarray, steps: np.ndarray) -> None:
    diff = np.abs(ours - theirs)
    bad = diff > tol
    if bad.any():
        i = int(np.argmax(bad))
        raise AssertionError(
            f"{int(bad.sum())} step(s) differ from Keras beyond float32 tolerance; first at t={steps[i]:.0f}: "
            f"lrkit={ours[i]!r} keras={theirs[i]!r} diff={diff[i]:.3e} tol={tol[i]:.3e}"
        )


def compare(
    ours: Any,
    theirs: Any,
    steps: np.ndarray,
    peak: float,
    *,
    loop: bool = False,
    growth: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[float, float]:
    """Assert lrkit == Keras within the float32 tolerance; return (max abs diff, max abs diff / peak)."""
    k = keras_curve(theirs, steps, loop=loop)
    o = lrkit_curve(ours, steps)
    assert np.isfinite(o).all() and (o >= 0).all()
    g = 1.0 if growth is None else growth(steps)
    assert_matches(o, k, tolerance(peak, k, g), steps)
    d = float(np.max(np.abs(o - k)))
    return d, d / peak if peak else 0.0


# -- the seed's three Keras schedules, over the seed's 40,000 steps ---------------

SEED_STEPS = np.arange(40_000)


def test_seed_cosine_decay_over_40000_steps() -> None:
    # CosineDecay(0.001, 4000): half cosine to 0 at step 4000, then held at 0.
    ours = compat.CosineDecay(0.001, 4000)
    assert ours == __import__("lrkit").cosine(0.001, 4000)
    compare(ours, ks.CosineDecay(0.001, 4000), SEED_STEPS, 0.001)
    # Hand-derived boundary values: s(0) = 0.001, s(2000) = 0.001 * (1 + cos(π/2)) / 2 = 0.0005, 0 from 4000 on.
    assert ours(0) == 0.001
    assert ours(2000) == pytest.approx(0.0005, rel=1e-15)
    assert ours(3999) == pytest.approx(0.001 * (1 + math.cos(math.pi * 3999 / 4000)) / 2, rel=1e-12)
    assert ours(4000) == 0.0 and ours(39_999) == 0.0


def test_seed_exponential_decay_over_40000_steps() -> None:
    # The seed passes name=None (TF 2's Keras took it); Keras 3 refuses None when called, lrkit ignores it.
    ours = compat.ExponentialDecay(0.001, 4000, 0.9, staircase=False, name=None)
    compare(ours, ks.ExponentialDecay(0.001, 4000, 0.9, staircase=False), SEED_STEPS, 0.001)
    # Hand-derived: 0.001 * 0.9 ** (t / 4000); continuous, so 0.9 ** 10 at t = 40000.
    assert ours(4000) == pytest.approx(0.0009, rel=1e-15)
    assert ours(40_000) == pytest.approx(0.001 * 0.9**10, rel=1e-14)


def test_seed_piecewise_constant_decay_over_40000_steps_is_bit_exact() -> None:
    boundaries, values = [10000, 20000, 30000], [0.001, 0.0008, 0.0004, 0.0001]
    ours = compat.PiecewiseConstantDecay(boundaries, values)
    # The seed calls it one step at a time (the Keras class cannot take a vector).
    theirs = keras_curve(ks.PiecewiseConstantDecay(boundaries, values), SEED_STEPS, loop=True)
    o = lrkit_curve(ours, SEED_STEPS)
    np.testing.assert_array_equal(o.astype(np.float32).astype(np.float64), theirs)
    # Keras' quirk, by hand: the boundary step keeps the old value, the next one switches.
    for b, before, after in zip(boundaries, values[:-1], values[1:], strict=True):
        assert (ours(b - 1), ours(b), ours(b + 1)) == (before, before, after)


def test_seed_configs_over_40000_steps() -> None:
    """The measured worst differences on the seed's configs stay below 3 u * peak (documented in docs/compat.md)."""
    cos = compare(compat.CosineDecay(0.001, 4000), ks.CosineDecay(0.001, 4000), SEED_STEPS, 0.001)
    exp = compare(compat.ExponentialDecay(0.001, 4000, 0.9), ks.ExponentialDecay(0.001, 4000, 0.9), SEED_STEPS, 0.001)
    assert cos[1] < 3 * U and exp[1] < 3 * U, (cos, exp)


# -- each function at its boundaries -------------------------------------------------


def _exp_growth(decay_steps: int, rate: float, staircase: bool) -> Callable[[np.ndarray], np.ndarray]:
    # Keras rounds decay_rate to float32 (relative error d <= u/2), and rate**p
    # turns that into a relative error p * d: an absolute error of
    # lr * p * rate**p * u / 2, which peaks at p = 1 / |ln rate| (368 for
    # rate = 0.999) and is not bounded by u * lr when rate is close to 1.
    def growth(steps: np.ndarray) -> np.ndarray:
        p = steps / decay_steps
        if staircase:
            p = np.floor(p)
        return 1.0 + p * rate**p

    return growth


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize(("lr", "decay_steps", "rate"), [(0.1, 10, 0.5), (0.001, 4000, 0.96), (1.0, 1, 0.999)])
def test_exponential_decay(lr: float, decay_steps: int, rate: float, staircase: bool) -> None:
    ours = compat.ExponentialDecay(lr, decay_steps, rate, staircase)
    theirs = ks.ExponentialDecay(lr, decay_steps, rate, staircase)
    steps = grid(*(k * decay_steps for k in range(1, 6)), end=10 * decay_steps)
    compare(ours, theirs, steps, lr, growth=_exp_growth(decay_steps, rate, staircase))
    if staircase:
        # The drop happens at the boundary: s(d - 1) = lr, s(d) = lr * rate.
        assert ours(decay_steps - 1) == lr and ours(decay_steps) == pytest.approx(lr * rate, rel=1e-15)


@pytest.mark.parametrize("staircase", [False, True])
@pytest.mark.parametrize(("lr", "decay_steps", "rate"), [(0.1, 1.0, 0.5), (0.001, 4000, 2.0), (0.5, 7, 0.0)])
def test_inverse_time_decay(lr: float, decay_steps: float, rate: float, staircase: bool) -> None:
    ours = compat.InverseTimeDecay(lr, decay_steps, rate, staircase)
    theirs = ks.InverseTimeDecay(lr, decay_steps, rate, staircase)
    d = int(decay_steps)
    compare(ours, theirs, grid(*(k * d for k in range(1, 6)), end=20 * d), lr)
    # Hand-derived: lr / (1 + rate * 2) at t = 2 * decay_steps, staircase or not.
    assert ours(2 * d) == pytest.approx(lr / (1 + 2 * rate), rel=1e-15)


def _poly_growth(decay_steps: int, power: float, cycle: bool) -> Callable[[np.ndarray], np.ndarray]:
    # Keras rounds p = t / horizon to float32 (abs error <= u); the LR moves by
    # (lr - end) * power * (1 - p) ** (power - 1) per unit of p.  For power < 1
    # that slope is largest at the last step before the horizon, 1 - p = 1 / horizon,
    # where it is power * horizon ** (1 - power).
    def growth(steps: np.ndarray) -> np.ndarray:
        horizon = decay_steps * np.maximum(np.ceil(steps / decay_steps), 1.0) if cycle else float(decay_steps)
        return 1.0 + power * np.asarray(horizon, dtype=np.float64) ** max(0.0, 1.0 - power)

    return growth


@pytest.mark.parametrize("cycle", [False, True])
@pytest.mark.parametrize(
    ("lr", "decay_steps", "end", "power"),
    [
        (0.1, 1000, 0.0001, 1.0),
        (0.1, 1000, 0.0, 0.5),
        (0.01, 100, 0.001, 2.0),
        (0.001, 50, 0.01, 1.0),
        (1.0, 10, 0.0, 0.0),
    ],
)
def test_polynomial_decay(lr: float, decay_steps: int, end: float, power: float, cycle: bool) -> None:
    ours = compat.PolynomialDecay(lr, decay_steps, end, power, cycle)
    theirs = ks.PolynomialDecay(lr, decay_steps, end, power, cycle)
    steps = grid(*(k * decay_steps for k in range(1, 6)), end=decay_steps * 5, extra=[12_345])
    if cycle:
        steps = steps[steps < 2**20]  # ceil(t / d) in float32 stays exact well below 2**24 / d
    compare(ours, theirs, steps, max(lr, end), growth=_poly_growth(decay_steps, power, cycle))
    assert ours(0) == pytest.approx(lr, rel=1e-15)  # (lr - end) * 1 + end: exact up to one rounding
    if power > 0:
        assert ours(decay_steps) == pytest.approx(end, abs=1e-18)
    if cycle and power > 0:
        # Keras' cycle: the horizon at t = d + 1 is 2d, so p = (d + 1) / 2d.
        p = (decay_steps + 1) / (2 * decay_steps)
        assert ours(decay_steps + 1) == pytest.approx((lr - end) * (1 - p) ** power + end, rel=1e-12)


def test_polynomial_default_end_learning_rate_is_keras_0_0001() -> None:
    assert compat.PolynomialDecay(0.1, 100)(100) == pytest.approx(0.0001, rel=1e-15)
    assert float(ks.PolynomialDecay(0.1, 100)(np.float32(100))) == pytest.approx(0.0001, rel=1e-6)


@pytest.mark.parametrize(
    ("boundaries", "values"),
    [([0], [0.5, 0.1]), ([1, 2, 3], [4.0, 3.0, 2.0, 1.0]), ([100, 250], [0.1, 0.2, 0.05]), ([7.0], [1e-3, 0.0])],
)
def test_piecewise_constant_decay(boundaries: list[float], values: list[float]) -> None:
    ours = compat.PiecewiseConstantDecay(boundaries, values)
    steps = grid(*boundaries, end=boundaries[-1] + 3)
    theirs = keras_curve(ks.PiecewiseConstantDecay(boundaries, values), steps, loop=True)
    np.testing.assert_array_equal(lrkit_curve(ours, steps).astype(np.float32).astype(np.float64), theirs)
    b0 = int(boundaries[0])
    assert ours(b0) == values[0]
    assert ours(b0 + 1) == values[1]


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
@pytest.mark.parametrize(("lr", "decay_steps"), [(0.001, 4000), (0.1, 1), (2.0, 37)])
def test_cosine_decay(lr: float, decay_steps: int, alpha: float) -> None:
    ours = compat.CosineDecay(lr, decay_steps, alpha)
    compare(ours, ks.CosineDecay(lr, decay_steps, alpha), grid(decay_steps, end=decay_steps * 3), lr)
    # alpha is relative: the floor is alpha * lr, reached at decay_steps and held.
    assert ours(decay_steps) == pytest.approx(alpha * lr, rel=1e-15, abs=1e-300)
    assert ours(10 * decay_steps) == ours(decay_steps)


@pytest.mark.parametrize(
    ("lr", "decay_steps", "alpha", "target", "warm"),
    [(0.0, 1000, 0.0, 0.01, 100), (0.001, 200, 0.1, 0.01, 50), (0.02, 10, 0.5, 0.01, 3), (0.5, 30, 0.0, 0.1, 1)],
)
def test_cosine_decay_with_warmup(lr: float, decay_steps: int, alpha: float, target: float, warm: int) -> None:
    ours = compat.CosineDecay(lr, decay_steps, alpha, warmup_target=target, warmup_steps=warm)
    theirs = ks.CosineDecay(lr, decay_steps, alpha, warmup_target=target, warmup_steps=warm)
    end = warm + decay_steps
    steps = grid(warm, end, end=end, extra=range(0, end, max(1, end // 300)))
    steps = steps[(steps <= end + 2) | (steps % 97 == 0) | (steps > 2 * end)]  # Keras loops: keep the count small
    compare(ours, theirs, steps, max(lr, target), loop=True)
    # Hand-derived: linear from lr (t = 0) towards target; the cosine starts at target at t = warm.
    assert ours(0) == pytest.approx(lr, rel=1e-15, abs=1e-300)
    assert ours(warm - 1) == pytest.approx(lr + (target - lr) * (warm - 1) / warm, rel=1e-14, abs=1e-300)
    assert ours(warm) == pytest.approx(target, rel=1e-15)  # floor + (target - floor): one rounding
    assert ours(end) == pytest.approx(alpha * target, rel=1e-14, abs=1e-300)


def test_cosine_decay_quirks() -> None:
    # warmup_steps without warmup_target: ignored, as in Keras.
    s = compat.CosineDecay(0.1, 100, warmup_steps=50)
    assert s == compat.CosineDecay(0.1, 100)
    compare(s, ks.CosineDecay(0.1, 100, warmup_steps=50), grid(50, 100, end=100), 0.1)
    # warmup_target with warmup_steps=0: initial_learning_rate is ignored, the cosine starts at the target.
    s = compat.CosineDecay(0.5, 100, warmup_target=0.1)
    assert s(0) == 0.1
    compare(s, ks.CosineDecay(0.5, 100, warmup_target=0.1), grid(100, end=100)[:40], 0.1, loop=True)


def _restart_starts(period: int, t_mul: float, limit: float) -> list[tuple[int, Fraction]]:
    """(i, S_i) for every restart S_i = period * (t_mul**i - 1) / (t_mul - 1) below ``limit``.

    Exact rational arithmetic (a float t_mul is a dyadic rational), so "S_i is a
    whole step" is decided exactly, not by a rounded float.
    """
    tm = Fraction(t_mul)
    out, i, start = [], 0, Fraction(0)
    while start < limit:
        out.append((i, start))
        i += 1
        start = Fraction(period * i) if tm == 1 else period * (tm**i - 1) / (tm - 1)
    return out


def _whole_restarts(period: int, t_mul: float, limit: float) -> dict[float, int]:
    """{S_i: i} for the restarts that fall on a whole step below ``limit``."""
    if t_mul == 1.0:  # S_i = period * i: no need to walk 2**24 periods one by one
        return {float(period * i): i for i in range(int(limit) // period + 1) if period * i < limit}
    return {float(s): i for i, s in _restart_starts(period, t_mul, limit) if s.denominator == 1}


def compare_restarts(lr: float, period: int, t_mul: float, m_mul: float, alpha: float, steps: np.ndarray) -> int:
    """Compare with Keras; return how many exact-restart steps hit Keras' float32 log quirk.

    Away from restarts: the float32 tolerance, grown with ``t / period`` because
    Keras' fraction of the period is ``t / period`` minus a float32 sum, whose
    absolute error grows like ``u * t / period`` and moves the cosine by up
    to ``π/2`` times that.  At an exact restart step ``S_i``: lrkit gives the
    hand-derived restart value ``lr * ((1 - alpha) * m_mul**i + alpha)``; Keras
    gives either that, or, when its float32 ``floor(log(...) / log(t_mul))``
    lands on ``i - 1``, the end of the previous period, ``≈ alpha * lr``.
    """
    ours = compat.CosineDecayRestarts(lr, period, t_mul, m_mul, alpha)
    theirs = ks.CosineDecayRestarts(lr, period, t_mul, m_mul, alpha)
    k = keras_curve(theirs, steps)
    o = lrkit_curve(ours, steps)
    assert np.isfinite(o).all() and (o >= 0).all()
    growth = 1.0 + 2.0 * steps / period
    if t_mul != 1.0:
        # Keras' geometric branch subtracts sum_r = (1 - t_mul**i) / (1 - t_mul), whose float32
        # absolute error is about u * (i + 1) / (t_mul - 1): ill-conditioned as t_mul -> 1.
        i = np.floor(np.log1p(steps / period * (t_mul - 1.0)) / math.log(t_mul))
        growth = growth + 2.0 * (i + 1.0) / (t_mul - 1.0)
    tol = tolerance(lr, k, growth)
    if t_mul == 1.0:
        at_restart = steps % period == 0
        index = steps // period
    else:
        restarts = _whole_restarts(period, t_mul, float(steps.max()) + 1)
        at_restart = np.array([float(x) in restarts for x in steps])
        index = np.array([restarts.get(float(x), -1) for x in steps], dtype=np.float64)
    assert_matches(o[~at_restart], k[~at_restart], tol[~at_restart], steps[~at_restart])
    # At restarts, lrkit must give the hand-derived top value exactly (to float64 rounding).
    top = lr * ((1 - alpha) * m_mul ** index[at_restart] + alpha)
    np.testing.assert_allclose(o[at_restart], top, rtol=1e-12, atol=1e-300)
    # Keras gives the top value too, or (its float32 log quirk) the bottom of the previous period.
    kr, tr = k[at_restart], tol[at_restart]
    quirk = np.abs(kr - top) > tr
    np.testing.assert_allclose(kr[quirk], alpha * lr, rtol=0, atol=float(np.max(tr, initial=0.0)) + 1e-3 * lr)
    return int(quirk.sum())


@pytest.mark.parametrize(
    ("lr", "period", "t_mul", "m_mul", "alpha"),
    [(0.001, 100, 2.0, 1.0, 0.0), (0.001, 100, 1.0, 0.5, 0.1), (0.1, 7, 3.0, 0.9, 0.0), (1.0, 1, 1.0, 1.0, 0.0)],
)
def test_cosine_decay_restarts(lr: float, period: int, t_mul: float, m_mul: float, alpha: float) -> None:
    starts = list(_whole_restarts(period, t_mul, 40_000))
    steps = grid(*starts, end=40_000)
    assert compare_restarts(lr, period, t_mul, m_mul, alpha, steps) == 0


def test_cosine_decay_restarts_float32_log_quirk_at_exact_restart() -> None:
    # t_mul = 1.5, period 100: S_2 = 100 * (1.5**2 - 1) / 0.5 = 250 exactly.  Keras' float32
    # log(2.25) / log(1.5) lands just under 2, so Keras puts t = 250 at the *end* of period 1
    # (≈ alpha * lr) instead of the restart; lrkit restarts at 250 (0.001 * (0.9 * 0.9**2 + 0.1)).
    steps = np.arange(0, 1000, dtype=np.float64)
    assert compare_restarts(0.001, 100, 1.5, 0.9, 0.1, steps) >= 1
    assert compat.CosineDecayRestarts(0.001, 100, 1.5, 0.9, 0.1)(250) == pytest.approx(0.001 * (0.9 * 0.81 + 0.1))


def test_keras_defaults_are_copied() -> None:
    assert compat.CosineDecayRestarts(0.1, 10) == compat.CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=1.0, alpha=0.0)
    assert compat.CosineDecayRestarts(0.1, 10).t_mul == 2.0
    for fn, kcls in [
        (compat.CosineDecay, ks.CosineDecay),
        (compat.ExponentialDecay, ks.ExponentialDecay),
        (compat.PiecewiseConstantDecay, ks.PiecewiseConstantDecay),
        (compat.PolynomialDecay, ks.PolynomialDecay),
        (compat.InverseTimeDecay, ks.InverseTimeDecay),
        (compat.CosineDecayRestarts, ks.CosineDecayRestarts),
    ]:
        import inspect

        ours = [(p.name, p.default) for p in inspect.signature(fn).parameters.values()]
        theirs = [(p.name, p.default) for p in inspect.signature(kcls.__init__).parameters.values()][1:]
        assert ours == theirs, fn.__name__


def test_name_is_accepted_and_ignored() -> None:
    assert compat.ExponentialDecay(0.1, 10, 0.5, name="x") == compat.ExponentialDecay(0.1, 10, 0.5)
    assert compat.CosineDecay(0.1, 10, name=None) == compat.CosineDecay(0.1, 10)


def test_results_are_plain_lrkit_schedules() -> None:
    import pickle

    import lrkit

    s = compat.CosineDecay(0.0, 1000, 0.1, warmup_target=0.01, warmup_steps=100)
    assert s == lrkit.join([lrkit.linear(0.0, 0.01, 100), lrkit.cosine(0.01, 1000, floor=0.1 * 0.01)], [100])
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s and pickle.loads(pickle.dumps(s)) == s


# -- validation: Keras' own errors, and what Keras accepts but lrkit refuses -----------


@pytest.mark.parametrize(
    ("call", "keras_call", "match"),
    [
        (lambda: compat.CosineDecay(0.1, 0), lambda: ks.CosineDecay(0.1, 0), "decay_steps must be > 0, got 0"),
        (lambda: compat.ExponentialDecay(0.1, -1, 0.5), lambda: ks.ExponentialDecay(0.1, -1, 0.5), "decay_steps"),
        (lambda: compat.InverseTimeDecay(0.1, 0, 0.5), lambda: ks.InverseTimeDecay(0.1, 0, 0.5), "decay_steps"),
        (lambda: compat.PolynomialDecay(0.1, 0), lambda: ks.PolynomialDecay(0.1, 0), "decay_steps"),
        (lambda: compat.CosineDecayRestarts(0.1, 0), lambda: ks.CosineDecayRestarts(0.1, 0), "first_decay_steps"),
        (
            lambda: compat.PiecewiseConstantDecay([1, 2], [0.1, 0.2]),
            lambda: ks.PiecewiseConstantDecay([1, 2], [0.1, 0.2]),
            "one entry fewer",
        ),
    ],
)
def test_errors_keras_also_raises(call: Callable[[], Any], keras_call: Callable[[], Any], match: str) -> None:
    with pytest.raises(ValueError):
        keras_call()
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize(
    ("call", "keras_call", "match"),
    [
        (
            lambda: compat.ExponentialDecay(0.001, 4000, 1.1),
            lambda: ks.ExponentialDecay(0.001, 4000, 1.1),
            r"decay_rate must be <= 1, got 1.1 \(Keras accepts decay_rate > 1",
        ),
        (lambda: compat.ExponentialDecay(0.1, 10, 0.0), lambda: ks.ExponentialDecay(0.1, 10, 0.0), "decay_rate"),
        (lambda: compat.ExponentialDecay(0.1, 10, -0.5), lambda: ks.ExponentialDecay(0.1, 10, -0.5), "NaN"),
        (lambda: compat.InverseTimeDecay(0.1, 10, -0.5), lambda: ks.InverseTimeDecay(0.1, 10, -0.5), "decay_rate"),
        (lambda: compat.CosineDecay(0.1, 10, alpha=1.5), lambda: ks.CosineDecay(0.1, 10, alpha=1.5), "alpha"),
        (lambda: compat.CosineDecay(0.1, 10, alpha=-0.1), lambda: ks.CosineDecay(0.1, 10, alpha=-0.1), "alpha"),
        (lambda: compat.CosineDecay(0.1, 2.5), lambda: ks.CosineDecay(0.1, 2.5), "whole number of steps, got 2.5"),
        (
            lambda: compat.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=-1),
            lambda: ks.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=-1),
            "warmup_steps",
        ),
        (lambda: compat.CosineDecay(-0.1, 10), lambda: ks.CosineDecay(-0.1, 10), "initial_learning_rate"),
        (lambda: compat.PolynomialDecay(0.1, 10, power=-1.0), lambda: ks.PolynomialDecay(0.1, 10, power=-1.0), "power"),
        (
            lambda: compat.PiecewiseConstantDecay([20, 10], [0.1, 0.2, 0.3]),
            lambda: ks.PiecewiseConstantDecay([20, 10], [0.1, 0.2, 0.3]),
            r"strictly increasing, got \[20, 10\]",
        ),
        (
            lambda: compat.PiecewiseConstantDecay([], [0.1]),
            lambda: ks.PiecewiseConstantDecay([], [0.1]),
            "must not be empty",
        ),
        (
            lambda: compat.PiecewiseConstantDecay([1.5], [0.1, 0.2]),
            lambda: ks.PiecewiseConstantDecay([1.5], [0.1, 0.2]),
            r"boundaries\[0\]",
        ),
        (
            lambda: compat.CosineDecayRestarts(0.1, 10, t_mul=0.5),
            lambda: ks.CosineDecayRestarts(0.1, 10, t_mul=0.5),
            "t_mul",
        ),
        (
            lambda: compat.CosineDecayRestarts(0.1, 10, m_mul=1.5),
            lambda: ks.CosineDecayRestarts(0.1, 10, m_mul=1.5),
            "m_mul",
        ),
        (
            lambda: compat.CosineDecayRestarts(0.1, 10, alpha=2.0),
            lambda: ks.CosineDecayRestarts(0.1, 10, alpha=2.0),
            "alpha",
        ),
    ],
)
def test_keras_accepts_but_lrkit_refuses(call: Callable[[], Any], keras_call: Callable[[], Any], match: str) -> None:
    keras_call()  # Keras constructs it without complaint...
    with pytest.raises(ValueError, match=match):  # ...lrkit says why not.
        call()


def test_exponential_growth_really_overflows_in_keras() -> None:
    # The reason ExponentialDecay(decay_rate > 1) is refused: Keras' float32 value becomes inf.
    # 0.001 * 1.1 ** (t / 4000) > 3.4e38 once t / 4000 > log(3.4e41) / log(1.1) ≈ 1002.
    value = float(ks.ExponentialDecay(0.001, 4000, 1.1)(np.float32(4_100_000)))
    assert math.isinf(value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: compat.ExponentialDecay(0.1, 10, 0.5, staircase="False"),
        lambda: compat.CosineDecay("0.1", 10),
        lambda: compat.CosineDecay(0.1, True),
        lambda: compat.PiecewiseConstantDecay("10", [0.1, 0.2]),
        lambda: compat.PolynomialDecay(0.1, 10, cycle=1),
    ],
)
def test_type_errors(call: Callable[[], Any]) -> None:
    with pytest.raises(TypeError):
        call()


# -- property tests over random valid parameters ------------------------------------------

lrs = st.floats(1e-6, 10.0)
fractions = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))


@HYPOTHESIS
@given(lr=lrs, decay_steps=st.integers(1, 5000), rate=st.floats(1e-3, 1.0), staircase=st.booleans())
def test_exponential_decay_random(lr: float, decay_steps: int, rate: float, staircase: bool) -> None:
    steps = grid(decay_steps, 3 * decay_steps, end=4 * decay_steps)
    compare(
        compat.ExponentialDecay(lr, decay_steps, rate, staircase),
        ks.ExponentialDecay(lr, decay_steps, rate, staircase),
        steps,
        lr,
        growth=_exp_growth(decay_steps, rate, staircase),
    )


@HYPOTHESIS
@given(lr=lrs, decay_steps=st.integers(1, 5000), rate=st.floats(0.0, 100.0), staircase=st.booleans())
def test_inverse_time_decay_random(lr: float, decay_steps: int, rate: float, staircase: bool) -> None:
    steps = grid(decay_steps, 3 * decay_steps, end=4 * decay_steps)
    compare(
        compat.InverseTimeDecay(lr, decay_steps, rate, staircase),
        ks.InverseTimeDecay(lr, decay_steps, rate, staircase),
        steps,
        lr,
    )


@HYPOTHESIS
@given(
    lr=lrs,
    decay_steps=st.integers(1, 2000),
    end=st.floats(0.0, 1.0),
    # A power below ~1e-38 underflows to 0 in Keras' float32 (0 ** 0 = 1 at the end): not a real power.
    power=st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-3, 5.0)),
    cycle=st.booleans(),
)
def test_polynomial_decay_random(lr: float, decay_steps: int, end: float, power: float, cycle: bool) -> None:
    steps = grid(decay_steps, 2 * decay_steps, end=3 * decay_steps)
    steps = steps[steps < 2**20]
    compare(
        compat.PolynomialDecay(lr, decay_steps, end, power, cycle),
        ks.PolynomialDecay(lr, decay_steps, end, power, cycle),
        steps,
        max(lr, end),
        growth=_poly_growth(decay_steps, power, cycle),
    )


@HYPOTHESIS
@given(
    data=st.data(),
    n=st.integers(1, 4),
)
def test_piecewise_constant_decay_random(data: st.DataObject, n: int) -> None:
    bounds = sorted(data.draw(st.sets(st.integers(0, 3000), min_size=n, max_size=n)))
    values = data.draw(st.lists(lrs, min_size=n + 1, max_size=n + 1))
    steps = grid(*bounds, end=bounds[-1] + 2)
    steps = steps[(steps <= 5) | np.isin(steps, [b + d for b in bounds for d in (-1, 0, 1)]) | (steps > bounds[-1])]
    theirs = keras_curve(ks.PiecewiseConstantDecay(bounds, values), steps, loop=True)
    ours = lrkit_curve(compat.PiecewiseConstantDecay(bounds, values), steps)
    np.testing.assert_array_equal(ours.astype(np.float32).astype(np.float64), theirs)


@HYPOTHESIS
@given(lr=lrs, decay_steps=st.integers(1, 5000), alpha=fractions)
def test_cosine_decay_random(lr: float, decay_steps: int, alpha: float) -> None:
    steps = grid(decay_steps, decay_steps // 2, end=2 * decay_steps)
    compare(compat.CosineDecay(lr, decay_steps, alpha), ks.CosineDecay(lr, decay_steps, alpha), steps, lr)


@HYPOTHESIS
@given(
    lr=st.one_of(st.just(0.0), lrs),
    target=lrs,
    decay_steps=st.integers(1, 3000),
    warm=st.integers(0, 3000),
    alpha=fractions,
    picks=st.lists(st.integers(0, 10_000), max_size=20),
)
def test_cosine_decay_with_warmup_random(
    lr: float, target: float, decay_steps: int, warm: int, alpha: float, picks: list[int]
) -> None:
    end = warm + decay_steps
    steps = np.unique(np.array([0, 1, warm - 1, warm, warm + 1, end - 1, end, end + 1, 10 * end, *picks], dtype=float))
    steps = steps[steps >= 0]
    ours = compat.CosineDecay(lr, decay_steps, alpha, warmup_target=target, warmup_steps=warm)
    theirs = ks.CosineDecay(lr, decay_steps, alpha, warmup_target=target, warmup_steps=warm)
    compare(ours, theirs, steps, max(lr, target), loop=True)


@HYPOTHESIS
@given(
    lr=lrs,
    period=st.integers(1, 500),
    # t_mul within float32 rounding of 1 (e.g. 1 + 2**-52) is 1.0 to Keras: periodic, not geometric.
    t_mul=st.one_of(st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.floats(1.01, 4.0)),
    m_mul=fractions,
    alpha=fractions,
)
def test_cosine_decay_restarts_random(lr: float, period: int, t_mul: float, m_mul: float, alpha: float) -> None:
    starts = list(_whole_restarts(period, t_mul, 20 * period))
    steps = grid(*starts, end=20 * period)
    steps = steps[steps <= 100 * period]  # restarts far out are covered by the parametrized test
    compare_restarts(lr, period, t_mul, m_mul, alpha, steps)


def test_importing_compat_keras_does_not_import_keras() -> None:
    import subprocess
    import sys

    code = "import sys; from lrkit.compat import keras; print('keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
