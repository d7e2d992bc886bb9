"""Vectorized ``join``: each piece runs on its own steps only, bit-identical to the ``where`` chain.

The reference below is the plain evaluation written out: every piece on every
step (piece ``k`` on its clock ``max(t - b_k, 0)``), the value of the piece
whose window holds ``t`` selected with ``np.where``.  The grouped evaluation
must equal it exactly (``np.array_equal``), on any order of steps and any shape.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrkit
from lrkit import Schedule
from test_properties import schedules  # the shared random-schedule strategy


def plain(j: lrkit.join, t: np.ndarray) -> np.ndarray:
    """The O(pieces x steps) evaluation: every piece everywhere, then select."""
    out = np.asarray(j.schedules[0](t), dtype=np.float64)
    for b, piece in zip(j.boundaries, j.schedules[1:], strict=False):
        out = np.where(t >= b, np.asarray(piece(np.maximum(t - b, 0.0)), dtype=np.float64), out)
    return out


@st.composite
def joins(draw: Any) -> lrkit.join:
    pieces = draw(st.lists(schedules(), min_size=2, max_size=6))
    n = len(pieces) - 1
    bounds = sorted(draw(st.lists(st.integers(1, 3000), min_size=n, max_size=n, unique=True)))
    return lrkit.join(pieces, bounds)


steps_arrays = st.one_of(
    st.integers(1, 4000).map(lambda n: np.arange(n, dtype=np.float64)),
    st.lists(st.integers(0, 5000), min_size=1, max_size=300).map(lambda xs: np.asarray(xs, dtype=np.float64)),
    st.lists(st.floats(0, 1e7, allow_nan=False), min_size=1, max_size=50).map(np.asarray),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(joins(), steps_arrays)
def test_grouped_join_is_bit_identical_to_the_where_chain(j: lrkit.join, t: np.ndarray) -> None:
    got = j(t)
    assert got.dtype == np.float64 and got.shape == t.shape
    assert np.array_equal(got, plain(j, t))
    # the scalar path picks the same piece (values may differ in the last ulp: C library vs SIMD)
    k = int(np.argmax(t))
    assert j(float(t[k])) == pytest.approx(float(got[k]), rel=1e-12, abs=1e-300)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(joins(), st.integers(1, 3000))
def test_grouped_join_keeps_shape_and_order(j: lrkit.join, n: int) -> None:
    t = np.arange(n, dtype=np.float64)
    rng = np.random.default_rng(n)
    perm = rng.permutation(n)
    assert np.array_equal(j(t[perm]), j(t)[perm])  # unsorted steps: same values, in the caller's order
    if n % 2 == 0:
        grid = t.reshape(2, n // 2)
        assert np.array_equal(j(grid), j(t).reshape(2, n // 2))
    assert j(np.asarray(float(n))).shape == ()


def test_nested_joins_and_pieces_without_steps() -> None:
    inner = lrkit.join([lrkit.constant(1.0), lrkit.linear(2.0, 0.0, 10)], [5])
    j = lrkit.join([inner, lrkit.constant(3.0), lrkit.cosine(4.0, 7)], [8, 9])
    t = np.arange(30, dtype=np.float64)
    assert np.array_equal(j(t), plain(j, t))
    assert j(8) == 3.0 and j(9) == 4.0  # at b the next piece starts at its step 0
    only_last = np.array([20.0, 12.0, 25.0])  # pieces 0 and 1 get no step: they are not evaluated at all
    assert np.array_equal(j(only_last), plain(j, only_last))


def test_torch_grouped_is_bit_identical_to_the_torch_where_chain() -> None:
    torch = pytest.importorskip("torch")
    j = lrkit.join([lrkit.cosine(1.0, 100), lrkit.linear(0.5, 0.1, 50), lrkit.exponential(0.2, 10, 0.9)], [100, 150])
    t = torch.as_tensor(np.concatenate([np.arange(400.0), np.array([399.0, 3.0, 120.0, 151.0])]))
    expected = j.schedules[0](t)
    for b, piece in zip(j.boundaries, j.schedules[1:], strict=False):
        expected = torch.where(t >= b, piece(torch.clamp(t - b, min=0.0)), expected)
    got = j(t)
    assert got.dtype == torch.float64 and torch.equal(got, expected)
    # torch's and NumPy's cos/exp may differ in the last ulp; the pieces chosen are the same
    np.testing.assert_allclose(got.numpy(), j(t.numpy()), rtol=1e-15, atol=0)
    half = j(torch.arange(400, dtype=torch.float32))
    assert half.dtype == torch.float32 and half.shape == (400,)


def test_jax_keeps_the_traceable_where_chain() -> None:
    jax = pytest.importorskip("jax")
    j = lrkit.join([lrkit.cosine(1.0, 100), lrkit.linear(0.5, 0.1, 50)], [100])
    f = jax.jit(lambda t: j(t))  # data-dependent grouping cannot be traced: jax uses the where chain
    t = np.arange(200.0)
    np.testing.assert_allclose(np.asarray(f(jax.numpy.asarray(t))), j(t), rtol=1e-6, atol=1e-7)


def test_many_pieces_cost_steps_times_log_pieces() -> None:
    pieces: list[Schedule] = [lrkit.cosine(1.0, 100) if k % 2 else lrkit.linear(1.0, 0.0, 100) for k in range(2000)]
    j = lrkit.join(pieces, [100 * k for k in range(1, 2000)])
    t = np.arange(200_000, dtype=np.float64)
    start = time.perf_counter()
    vals = j(t)
    elapsed = time.perf_counter() - start
    # the where chain took about 2000 x 200k element operations (tens of seconds); grouped is well under 2 s
    assert elapsed < 2.0, elapsed
    assert vals[100] == 1.0 and vals[199] == pytest.approx(0.5 * (1 + np.cos(np.pi * 99 / 100)))
