"""Backends: Python floats, NumPy, torch (int64/float32/float64 tensors), jax if installed.

One formula per schedule, evaluated on every backend: torch results must equal
NumPy's within the tensor dtype's precision, and keep the tensor's shape,
dtype (float for int steps) and device.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import lrkit
from lrkit import Schedule
from test_properties import peak

C = lrkit.cosine(0.1, 1000)
# Every block, with ordinary parameters, and every combinator.
BLOCKS: list[Schedule] = [
    lrkit.constant(0.1),
    lrkit.step(0.1, 7, 0.5),
    lrkit.multistep(0.1, [10, 100, 100, 5000], 0.3),
    lrkit.multistep(0.1, []),
    lrkit.piecewise_constant([10, 20], [0.3, 0.2, 0.1]),
    lrkit.piecewise_constant([10, 20], [0.3, 0.2, 0.1], at_boundary="previous"),
    lrkit.piecewise_interpolate([10, 200, 4000], [0.1, 0.05, 0.0]),
    lrkit.piecewise_interpolate([10, 200, 4000], [0.1, 0.05, 0.0], method="cosine"),
    lrkit.piecewise_interpolate([5], [0.2]),
    lrkit.linear(0.0, 0.1, 100, begin=5),
    lrkit.exponential(0.1, 100, 0.5),
    lrkit.exponential(0.1, 100, 0.5, staircase=True, begin=10, floor=0.001),
    lrkit.inverse_time(0.1, 100, 0.5),
    lrkit.inverse_time(0.1, 100, 0.5, staircase=True),
    lrkit.inverse_power(0.1, 100, 1.0),
    lrkit.inverse_sqrt(0.1, 100),
    lrkit.polynomial(0.1, 1000, 0.001, 2.0),
    lrkit.polynomial(0.1, 1000, 0.001, 0.5, cycle=True),
    lrkit.cosine(0.1, 1000),
    lrkit.cosine(0.1, 1000, 0.001, 2.0, 1.5),
    lrkit.cosine_restarts(0.1, 100),
    lrkit.cosine_restarts(0.1, 100, 2.0, 0.5, 0.001),
    lrkit.cosine_restarts(0.1, 100, 1.5, 0.9),
    lrkit.cyclic(0.01, 0.1, 50),
    lrkit.cyclic(0.01, 0.1, 50, 30, "triangular2"),
    lrkit.cyclic(0.01, 0.1, 50, 30, "exp_range", 0.999),
    lrkit.one_cycle(0.1, 5000),
    lrkit.one_cycle(0.1, 5000, 0.25, "linear", three_phase=True),
    lrkit.noam(512, 400),
    lrkit.wsd(0.1, 100, 1000, 500),
    lrkit.wsd(0.1, 100, 1000, 500, "cosine", 0.001, 0.1),
    lrkit.wsd(0.1, 0, 1000, 500, "1-sqrt"),
    lrkit.tanh(0.1, 1000, 0.001),
    lrkit.ramp(0.001, 0.1, 1000),
    lrkit.ramp(0.0, 1.0, 300, "offset_linear"),
    lrkit.ramp(0.0, 1.0, 300, "exp_saturation"),
    *[lrkit.warmup(C, 100, 0.25, m, prefix=False) for m in lrkit.WARMUP_METHODS],
    *[lrkit.warmup(C, 100, 0.25, m, prefix=True) for m in lrkit.WARMUP_METHODS],
    lrkit.warmup(lrkit.multistep(0.1, [1000, 2000], 0.5), 500, 1 / 3, "constant", prefix=False),
    lrkit.join([lrkit.linear(0.0, 0.1, 100), C, lrkit.constant(0.001)], [100, 1100]),
    lrkit.scale(C, 3.0),
    lrkit.product([C, lrkit.linear(0.0, 1.0, 100)]),
    lrkit.clip(C, 0.01, 0.05),
    lrkit.clip(C, 0.01),
    lrkit.multiplier(lrkit.warmup(lrkit.cosine(1.0, 3000), steps=100)),
    lrkit.shift(C, 700),
    lrkit.staircase(C, 250),
    lrkit.remap(lrkit.cyclic(0.0, 1.0, 300, 500, "triangular2"), 0.95, 0.85),
    lrkit.radam_warmup(0.999),
]
IDS = [repr(s) for s in BLOCKS]
STEPS = np.unique(np.concatenate([np.arange(0, 6000), np.geomspace(1, 2**40, 200).round(), [2**40]]))


def test_blocks_cover_every_registered_schedule() -> None:
    names = {node.spec_name for s in BLOCKS for node in s.walk()}
    core = {n for n, cls in lrkit.REGISTRY.items() if cls.__module__ in ("lrkit.schedules", "lrkit.composition")}
    assert core <= names, core - names


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("s", BLOCKS, ids=IDS)
def test_torch_float64_and_int64_match_numpy(s: Schedule) -> None:
    want = s(STEPS)
    # float64 tensors compute in float64: a few ulp of the peak (torch's pow/exp are not NumPy's bit for bit)
    got = s(torch.tensor(STEPS, dtype=torch.float64))
    assert got.dtype == torch.float64 and got.shape == (len(STEPS),)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=8 * np.finfo(np.float64).eps * peak(s))
    # int64 steps (the natural type of a step counter) are evaluated in float64
    got = s(torch.tensor(STEPS.astype(np.int64)))
    assert got.dtype == torch.float64
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=8 * np.finfo(np.float64).eps * peak(s))


@pytest.mark.parametrize("s", BLOCKS, ids=IDS)
def test_torch_float32_matches_numpy_within_float32(s: Schedule) -> None:
    steps = STEPS[STEPS <= 2**24]  # float32 holds every integer step up to 2**24
    want = s(steps)
    got = s(torch.tensor(steps, dtype=torch.float32))
    assert got.dtype == torch.float32
    # computed in float64, rounded once to float32: within half a float32 ulp of the value
    np.testing.assert_allclose(got.double().numpy(), want, rtol=np.finfo(np.float32).eps / 2 + 1e-15, atol=1e-45)


@pytest.mark.parametrize("dtype", ["int32", "int16", "uint8", "float16", "bfloat16"])
def test_other_torch_dtypes(dtype: str) -> None:
    t = torch.arange(0, 100).to(getattr(torch, dtype))
    out = C(t)
    if t.is_floating_point():
        assert out.dtype == t.dtype  # computed in float64, rounded once to the step's (half) precision
        half_ulp = torch.finfo(t.dtype).eps / 2 * 0.1  # of the peak 0.1
        np.testing.assert_allclose(out.double().numpy(), C(np.arange(100)), rtol=0, atol=half_ulp)
    else:
        assert out.dtype == torch.float64  # integer steps are evaluated in float64
        np.testing.assert_allclose(out.numpy(), C(np.arange(100)), rtol=0, atol=1e-17)


def test_torch_keeps_shape_and_layout() -> None:
    s = lrkit.multistep(0.1, [3, 5], 0.5)
    t = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4)
    out = s(t)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out.numpy(), s(np.arange(24).reshape(2, 3, 4)))
    strided = torch.arange(20, dtype=torch.float64)[::2]  # not contiguous: searchsorted needs a copy
    np.testing.assert_array_equal(s(strided).numpy(), s(np.arange(20)[::2]))
    scalar = s(torch.tensor(4))
    assert scalar.shape == () and scalar.item() == 0.05
    empty = s(torch.tensor([], dtype=torch.float64))
    assert empty.shape == (0,)
    assert s(t).device == t.device


def test_torch_constant_folds_keep_float64() -> None:
    """Regression: torch.where with two Python scalars and a bool condition used the default dtype (float32)."""
    s = lrkit.warmup(lrkit.constant(1.0), steps=10, start_factor=1 / 3, method="constant", prefix=False)
    out = s(torch.arange(12, dtype=torch.float64))
    assert out[0].item() == 1 / 3  # bit for bit, not float32(1/3) = 0.3333333432674408
    np.testing.assert_array_equal(out.numpy(), s(np.arange(12)))


def test_torch_multistep_levels_are_float64() -> None:
    """Regression: ``gamma ** int64_tensor`` is computed by torch in float32."""
    s = lrkit.multistep(0.1, [1, 2, 3], 0.1)
    out = s(torch.tensor([0, 1, 2, 3], dtype=torch.float64))
    np.testing.assert_array_equal(out.numpy(), [0.1, 0.1 * 0.1, 0.1 * 0.1**2, 0.1 * 0.1**3])
    np.testing.assert_array_equal(out.numpy(), s(np.arange(4)))


def test_torch_gradients_do_not_break_evaluation() -> None:
    t = torch.arange(5, dtype=torch.float64, requires_grad=True)
    out = lrkit.cosine(0.1, 4)(t)
    assert out.shape == (5,)
    out.sum().backward()  # the formula is differentiable in the step where it is smooth
    assert t.grad is not None and torch.isfinite(t.grad).all()


# -- NumPy and Python -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, np.uint64, np.float16, np.float32])
def test_numpy_dtypes_give_float64(dtype: type) -> None:
    steps = np.arange(0, 100).astype(dtype)
    out = C(steps)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, C(steps.astype(np.float64)))


def test_lists_and_tuples_are_arrays() -> None:
    np.testing.assert_array_equal(C([0, 500, 1000]), C(np.array([0, 500, 1000])))
    np.testing.assert_array_equal(C((0, 1)), C(np.array([0, 1])))


def test_numpy_results_are_fresh_writable_arrays() -> None:
    steps = np.arange(5, dtype=np.float64)
    for s in (lrkit.constant(0.1), lrkit.piecewise_interpolate([5], [0.2]), lrkit.multistep(0.1, [])):
        out = s(steps)
        assert out.flags.writeable and out is not steps and not np.shares_memory(out, steps)
        out[0] = 7.0  # a caller may write into its result
        assert s(steps)[0] != 7.0
    assert steps.tolist() == [0, 1, 2, 3, 4]


def test_scalar_types_return_python_floats() -> None:
    for step in (3, 3.0, np.int64(3), np.float32(3.0), np.uint8(3)):
        v = C(step)
        assert type(v) is float and v == C(3)


def test_importing_and_using_lrkit_never_imports_frameworks() -> None:
    code = (
        "import sys, numpy as np, lrkit\n"
        "s = lrkit.parse('warmup(cosine(0.1, 100), steps=10, prefix=False)')\n"
        "s(3); s(np.arange(5)); s.to_dict(); repr(s)\n"
        "bad = [m for m in ('torch', 'jax', 'tensorflow', 'keras', 'matplotlib') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_jax_matches_numpy() -> None:
    jnp = pytest.importorskip("jax.numpy")
    for s in BLOCKS:
        got = np.asarray(s(jnp.arange(0, 3000)))
        np.testing.assert_allclose(got, s(np.arange(3000)), rtol=0, atol=64 * np.finfo(np.float32).eps * peak(s))


# -- the float32 jax helpers that keep whole steps exact (lrkit._backend._Jax) ---------------------
def _jax_ns() -> object:
    pytest.importorskip("jax")
    from lrkit import _backend

    ns = _backend._lazy("jax")
    if ns.float_dtype != np.float32:  # type: ignore[attr-defined]
        pytest.skip("x64 is on: the helpers keep NumPy's float64 formula")
    return ns


def test_jax_wrap_fraction_is_t_mod_a_fractional_period() -> None:
    # t mod (1000 / 1.3) from exact rationals; float32 t / period would lose whole periods here.
    from fractions import Fraction

    ns = _jax_ns()
    jnp = ns.jnp  # type: ignore[attr-defined]
    t = np.array([0, 1, 769, 770, 16_777_217, 10**9 + 3, 2**31 - 1])
    period = 1000 / 1.3
    prep = ns.prepare(jnp.asarray(t, jnp.int32))  # type: ignore[attr-defined]
    got = np.asarray(ns.wrap_steps(prep, period), np.float64)  # type: ignore[attr-defined]
    want = [float(Fraction(int(x)) % Fraction(period)) for x in t]
    np.testing.assert_allclose(got, want, rtol=0, atol=period * 2.0**-23)
    folded = np.asarray(ns.wrap_steps(prep, period, even=True), np.float64)  # type: ignore[attr-defined]
    np.testing.assert_allclose(folded, np.minimum(want, period - np.array(want)), rtol=0, atol=period * 2.0**-23)


@pytest.mark.parametrize("cycle", [False, True])
def test_jax_left_counts_the_whole_steps_left(cycle: bool) -> None:
    ns = _jax_ns()
    jnp = ns.jnp  # type: ignore[attr-defined]
    n = 2**29 + 3
    t = np.array([0, 1, n - 2, n - 1, n, n + 1, 2 * n - 1, 2**31 - 1])
    prep = ns.prepare(jnp.asarray(t, jnp.int32))  # type: ignore[attr-defined]
    got = np.asarray(ns.left(prep, float(n), None, cycle=cycle), np.float64)  # type: ignore[attr-defined]
    if cycle:  # horizon n * max(ceil(t / n), 1), what is left of it
        horizon = n * np.maximum(-(-t // n), 1)
        want = (horizon - t) / horizon
    else:
        want = (n - np.minimum(t, n)) / n
    np.testing.assert_allclose(got, want, rtol=2.0**-23, atol=0)  # relative: exact to the last step
    assert got[2] == 2 * got[3] > 0  # 2 steps left, then 1 (float32 1 - t / n would give 0 or 2**-24 steps)


def test_jax_segments_look_up_fractional_starts() -> None:
    ns = _jax_ns()
    jnp = ns.jnp  # type: ignore[attr-defined]
    starts, lengths = [0.0, 10.5, 2**30 + 0.25], [10.5, 2**30 - 10.25, 2.0**31]
    t = np.array([0, 10, 11, 2**30, 2**30 + 1, 2**31 - 1])
    prep = ns.prepare(jnp.asarray(t, jnp.int32))  # type: ignore[attr-defined]
    i, offset, length = ns.segments(prep, starts, lengths)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(np.asarray(i.i), [0, 0, 1, 1, 2, 2])
    # whole steps in int32, the start's fraction in float32: one rounding, of the result
    want = np.float32([0.0, 10.0, 0.5, 2**30 - 10.5, 0.75, 2**31 - 1 - 2**30 - 0.25])
    np.testing.assert_array_equal(np.asarray(offset), want)
    np.testing.assert_array_equal(np.asarray(length), np.float32([10.5, 10.5] + [2**30 - 10.25] * 2 + [2.0**31] * 2))
    assert lrkit._backend.NUMPY.segments(np.asarray(t, float), starts, lengths) is None  # float64: the formula


def test_jax_whole_float_steps_are_integer_steps() -> None:
    pytest.importorskip("jax")
    import jax
    import jax.numpy as jnp

    _jax_ns()
    s = lrkit.multistep(1.0, [16_777_217], 0.1)  # float32 holds 16_777_216 and 16_777_218, not 17
    r = lrkit.cosine_restarts(1.0, 1000)
    for fn in (s, jax.jit(s)):
        assert float(fn(jnp.float32(16_777_216.0))) == 1.0
        assert float(fn(jnp.float32(16_777_218.0))) == pytest.approx(0.1, rel=1e-7)
    t = jnp.asarray([10**9 - 64.0, 2.5, 2.0**31], jnp.float32)  # whole, fractional, past int32
    want = r(np.asarray(t, np.float64))
    for fn in (r, jax.jit(r)):
        got = np.asarray(fn(t), np.float64)
        assert abs(got[0] - want[0]) <= 4 * 2.0**-23  # whole: the integer step, exact
        assert abs(got[1] - want[1]) <= 4 * 2.0**-23  # fractional, small: float32 arithmetic
