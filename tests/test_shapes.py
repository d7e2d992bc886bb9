"""The shape primitives (lrkit.shapes) and the exact endpoints of every schedule built on them.

The promise checked here: an interpolation hits both of its endpoints exactly
(``==``), for any endpoints, on Python floats and on NumPy arrays.  The
textbook ``low + (high - low) * w`` misses ``high`` in about 40% of random
cases (``0.01 + (0.001 - 0.01) == 0.0009999999999999992``), so these tests
fail for any schedule that spells its own interpolation that way.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit
from lrkit import shapes
from lrkit._backend import NUMPY, SCALAR

SRC = Path(lrkit.__file__).parent

# log-uniform positive values over the range learning rates (and factors) live in
values = st.floats(min_value=-12.0, max_value=1.0).map(lambda e: 10.0**e)
lengths = st.integers(min_value=1, max_value=10**7)


def both(s: lrkit.Schedule, t: int) -> tuple[float, float]:
    """``s(t)`` on the scalar path and on the vectorized path."""
    return s(t), float(s(np.array([t]))[0])


# -- the primitives ------------------------------------------------------------------
@given(values, values)
def test_lerp_is_exact_at_both_ends(low: float, high: float) -> None:
    assert shapes.lerp(low, high, 1.0) == high
    assert shapes.lerp(low, high, 0.0) == low
    assert shapes.lerp(np.float64(low), np.float64(high), np.array([0.0, 1.0])).tolist() == [low, high]


def test_the_textbook_lerp_misses_the_end_the_shapes_one_does_not() -> None:
    # the case from the issue: 0.01 + (0.001 - 0.01) * 1 == 0.0009999999999999992
    assert 0.01 + (0.001 - 0.01) * 1.0 != 0.001
    assert shapes.lerp(0.01, 0.001, 1.0) == 0.001
    assert lrkit.linear(0.01, 0.001, steps=10)(10) == 0.001


@settings(max_examples=300, deadline=None)
@given(values, values, st.floats(0.0, 1.0))
def test_lerp_on_float32_jax_is_exact_at_both_ends_and_close_inside(low: float, high: float, w: float) -> None:
    # The two-op form low + w * d on float32 jax (d checked so low + d == high) keeps both ends exact.
    jnp = pytest.importorskip("jax.numpy")
    got = np.asarray(shapes.lerp(low, high, jnp.asarray([0.0, 1.0, w], jnp.float32)))
    assert got[0] == np.float32(low) and got[1] == np.float32(high)
    exact = high * np.float32(w) + low * (1 - np.float64(np.float32(w)))  # float64 of the same float32 weight
    assert abs(got[2] - exact) <= 2 * np.spacing(np.float32(max(low, high)))


def test_lerp_keeps_the_four_op_form_off_jax() -> None:
    # NumPy and Python floats keep high * w + low * (1 - w), bit for bit (w chosen so the two forms differ).
    w = np.array([0.3])
    assert shapes.lerp(0.01, 0.001, w)[0] == 0.001 * 0.3 + 0.01 * (1 - 0.3)
    assert shapes.lerp(0.01, 0.001, 0.3) == 0.001 * 0.3 + 0.01 * (1 - 0.3)
    assert shapes.lerp(0.01, 0.001, 0.3) != 0.01 + 0.3 * (0.001 - 0.01)


@pytest.mark.parametrize("name", sorted(shapes.DECAYS))
def test_decay_weights_run_from_exactly_1_to_exactly_0(name: str) -> None:
    w = shapes.DECAYS[name]
    assert w(0.0, SCALAR) == 1.0 and w(1.0, SCALAR) == 0.0
    assert w(np.array([0.0, 1.0]), NUMPY).tolist() == [1.0, 0.0]


def test_power_and_tanh_weights() -> None:
    assert shapes.power_weight(0.0, SCALAR, 2.0) == 1.0 and shapes.power_weight(1.0, SCALAR, 2.0) == 0.0
    assert shapes.power_weight(0.5, SCALAR, 2.0) == 0.25  # (1 - 0.5) ** 2
    # timm/Hsueh: (1 - tanh(-7)) / 2 at the start, (1 - tanh(3)) / 2 at the end (not exactly 1 and 0);
    # lrkit's logistic form 1 / (1 + exp(2x)) is the same function without the cancellation
    assert shapes.tanh_weight(0.0, SCALAR) == pytest.approx(0.5 * (1.0 - math.tanh(-7.0)), rel=1e-15)
    assert shapes.tanh_weight(1.0, SCALAR) == pytest.approx(1.0 / (1.0 + math.exp(6.0)), rel=1e-15)
    assert shapes.tanh_weight(1.0, SCALAR, upper=400.0) == 0.0 or shapes.tanh_weight(1.0, SCALAR, upper=400.0) < 1e-300
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow or NaN for a huge argument
        shapes.tanh_weight(np.array([0.0, 1.0]), NUMPY, lower=-800.0, upper=800.0)


@pytest.mark.parametrize("name", sorted(shapes.INTERPOLATIONS))
@given(a=values, b=values)
def test_interpolations_hit_both_ends(name: str, a: float, b: float) -> None:
    f = shapes.INTERPOLATIONS[name]
    assert f(a, b, 0.0, SCALAR) == a and f(a, b, 1.0, SCALAR) == b
    assert f(a, b, np.array([0.0, 1.0]), NUMPY).tolist() == [a, b]


@pytest.mark.parametrize("method", sorted(shapes.RAMPS))
@given(start=st.floats(min_value=1e-9, max_value=1.0))
def test_warmup_ramps_start_at_start_factor_and_end_at_exactly_1(method: str, start: float) -> None:
    f = shapes.RAMPS[method]
    assert f(0.0, SCALAR, start) == start
    assert f(1.0, SCALAR, start) == 1.0


def test_ramps_of_the_next_peers() -> None:
    # DeepSpeed WarmupLR(warmup_type="log"): log(t + 1) / log(W); 0 at t = 0, 1 from t = W - 1
    assert shapes.log_rise(0.0, 100.0, SCALAR) == 0.0
    assert shapes.log_rise(99.0, 100.0, SCALAR) == 1.0
    assert shapes.log_rise(9.0, 100.0, SCALAR) == pytest.approx(math.log(10) / math.log(100))  # = 0.5
    # pytorch_warmup LinearWarmup: min(1, (t + 1) / W)
    assert shapes.offset_linear_rise(0.0, 4.0, SCALAR) == 0.25
    assert shapes.offset_linear_rise(3.0, 4.0, SCALAR) == 1.0
    # pytorch_warmup ExponentialWarmup: 1 - exp(-(t + 1) / W)
    assert shapes.exp_saturation_rise(0.0, 2.0, SCALAR) == 1.0 - math.exp(-0.5)
    # timm k-decay: p ** k
    assert shapes.k_progress(0.25, 0.5) == 0.5


def test_progress_is_clamped_and_exact() -> None:
    assert shapes.progress(5.0, 10.0, SCALAR, begin=10.0) == 0.0
    assert shapes.progress(20.0, 10.0, SCALAR, begin=10.0) == 1.0
    assert shapes.progress(25.0, 10.0, SCALAR, begin=10.0) == 1.0
    assert shapes.progress0(10.0, 10.0, SCALAR) == 1.0 and shapes.progress0(1e9, 10.0, SCALAR) == 1.0


# -- every interpolating schedule hits its endpoints exactly ------------------------------
@settings(max_examples=300)
@given(a=values, b=values, n=lengths, begin=st.integers(0, 10**6))
def test_linear_endpoints(a: float, b: float, n: int, begin: int) -> None:
    s = lrkit.linear(a, b, steps=n, begin=begin)
    assert both(s, begin) == (a, a)
    assert both(s, begin + n) == (b, b)
    assert both(s, begin + n + 7) == (b, b)


@settings(max_examples=300)
@given(a=values, b=values, n=lengths)
def test_cosine_and_polynomial_endpoints(a: float, b: float, n: int) -> None:
    high, low = max(a, b), min(a, b)
    for s in (lrkit.cosine(high, n, floor=low), lrkit.polynomial(high, n, end_value=low, power=2.0)):
        assert both(s, 0) == (high, high)
        assert both(s, n) == (low, low)


@settings(max_examples=200)
@given(vals=st.lists(values, min_size=2, max_size=6), gaps=st.lists(lengths, min_size=6, max_size=6))
def test_piecewise_interpolate_hits_every_point(vals: list[float], gaps: list[int]) -> None:
    bounds = list(np.cumsum(gaps[: len(vals)]).tolist())
    for method in shapes.INTERPOLATIONS:
        s = lrkit.piecewise_interpolate(bounds, vals, method=method)
        for b, want in zip(bounds, vals, strict=True):
            assert both(s, b) == (want, want)


@settings(max_examples=200)
@given(a=values, b=values, w=st.integers(1, 10**5), stable=st.integers(0, 10**5), d=lengths)
def test_wsd_endpoints(a: float, b: float, w: int, stable: int, d: int) -> None:
    value, floor = max(a, b), min(a, b)
    for decay in shapes.DECAYS:
        s = lrkit.wsd(value, w, stable, d, decay=decay, floor=floor)
        assert both(s, w) == (value, value)
        assert both(s, w + stable) == (value, value)
        assert both(s, w + stable + d) == (floor, floor)


@settings(max_examples=200)
@given(a=values, b=values, up=lengths, down=lengths)
def test_cyclic_low_and_first_peak(a: float, b: float, up: int, down: int) -> None:
    low, high = min(a, b), max(a, b)
    s = lrkit.cyclic(low, high, up_steps=up, down_steps=down)
    assert both(s, 0) == (low, low)
    assert both(s, up) == (high, high)
    assert both(s, up + down) == (low, low)


@settings(max_examples=200)
@given(peak=values, quarter=st.integers(2, 10**6))
def test_one_cycle_initial_peak_and_minimum(peak: float, quarter: int) -> None:
    total = 4 * quarter  # pct_start=0.25 puts the peak on the whole step total/4 - 1
    s = lrkit.one_cycle(peak, total, pct_start=0.25)
    initial = peak / 25.0
    assert both(s, 0) == (initial, initial)
    assert both(s, quarter - 1) == (peak, peak)
    assert both(s, total - 1) == (initial / 1e4, initial / 1e4)


@settings(max_examples=200)
@given(value=values, w=lengths, start=st.floats(0.0, 1.0))
def test_warmup_reaches_its_schedule_exactly(value: float, w: int, start: float) -> None:
    for method in ("linear", "cosine", "constant"):
        prefix = lrkit.warmup(lrkit.cosine(value, 1000), steps=w, start_factor=start, method=method, prefix=True)
        assert both(prefix, w) == (value, value)
        assert both(prefix, 0) == (start * value, start * value)


def test_optax_linear_schedule_end_is_exact() -> None:
    # optax.linear_schedule(1.0, 0.01, 100)(100) is exactly 0.01 (optax clips the fraction to 1, then
    # 1.0 + (0.01 - 1.0) * 1 = 0.010000000000000009 in the textbook form lrkit used to have)
    from lrkit.compat import optax

    assert optax.linear_schedule(1.0, 0.01, 100)(100) == 0.01


# -- shapes are written once ----------------------------------------------------------------
SHAPE_CALLS = {"cos", "tanh", "sqrt"}


@pytest.mark.parametrize("module", ["schedules.py", "composition.py"])
def test_schedules_spell_no_shape_themselves(module: str) -> None:
    """cos/tanh/sqrt of a progress live in lrkit.shapes; schedules compose them.

    (``inverse_sqrt`` and ``noam`` are decays *of the step*, not of a progress:
    their ``sqrt`` is their own formula, the only place it is written.)
    """
    tree = ast.parse((SRC / module).read_text())
    offenders = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for node in ast.walk(cls):
            if isinstance(node, ast.Attribute) and node.attr in SHAPE_CALLS:
                if cls.name not in ("inverse_sqrt", "noam", "inverse_time"):
                    offenders.append(f"{cls.name}: xp.{node.attr}")
    assert offenders == []
