"""Fast paths return exactly the reference values.

* The compiled scalar path (lrkit._compile) against ``schedule._eval(t, SCALAR)``, the one formula
  written once: bit for bit (``==`` on the same float), every building block and random compositions.
* Large NumPy arrays evaluated in blocks against one evaluation of the whole array: ``np.array_equal``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.test_properties import schedules
from tests.untraceable import eq_on_step_for_tests

import lrkit
from lrkit import _compile, base
from lrkit._backend import NUMPY, SCALAR, Namespace
from lrkit._backend import prepare as _backend_prepare
from lrkit.base import Schedule

STEPS = [0, 1, 2, 3, 10, 99, 100, 101, 999, 1000, 1001, 4095, 12345, 65536, 10**6, 2**31 - 1, 2**40]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=schedules(), extra=st.lists(st.integers(0, 2**40), max_size=10))
def test_compiled_equals_interpreted(s: Schedule, extra: list[int]) -> None:
    fast = s.scalar_function()
    for t in [*STEPS, *extra]:
        want = s._eval(float(t), SCALAR)
        got = fast(float(t))
        assert float(got) == float(want), (s, t, got, want)
        assert s(t) == float(want)


def test_common_schedules_compile() -> None:
    for s in (
        lrkit.warmup(lrkit.cosine(1e-3, 9000), steps=1000),
        lrkit.warmup(lrkit.multistep(1e-3, [100, 200], 0.1), steps=10, prefix=False),
        lrkit.one_cycle(0.1, 1000),
        lrkit.cosine_restarts(1e-3, 100, t_mul=2.0, m_mul=0.5),
        lrkit.join([lrkit.linear(0.0, 1e-3, 100), lrkit.cosine(1e-3, 900)], [100]),
        lrkit.wsd(1e-3, 10, 100, 50, decay="1-sqrt"),
    ):
        assert _compile.compile_scalar(s) is not None, s


def test_one_step_evaluates_one_branch() -> None:
    # a join's pieces sit in separate if/else branches: one step evaluates one piece
    s = lrkit.join([lrkit.constant(1.0), lrkit.cosine(1.0, 100)], [50])
    source, _ = _compile.trace_source(s)
    assert "if " in source and "else:" in source
    assert source.index("_cos(") > source.index("if ")


class stepwise_for_tests(Schedule):
    """Python control flow on the step: cannot be traced, so it keeps the interpreted formula."""

    spec_name = "stepwise_for_tests"

    def __init__(self, value: float) -> None:
        self._init(value=float(value))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if xp is SCALAR:
            return self.value if t < 10 else self.value / 2
        return xp.where(t < 10, self.value, self.value / 2)


def test_untraceable_formula_keeps_the_interpreted_path() -> None:
    s = stepwise_for_tests(1.0)
    assert _compile.compile_scalar(s) is None or s.scalar_function()(20.0) == 0.5
    assert s(5) == 1.0 and s(20) == 0.5


def test_equality_on_the_step_is_not_traced_silently() -> None:
    s = eq_on_step_for_tests(1.0)
    assert _compile.compile_scalar(s) is None
    assert s(0) == 0.0 and s(3) == 1.0


def test_very_deep_trees_keep_the_interpreted_path() -> None:
    s = lrkit.join([lrkit.constant(float(k)) for k in range(300)], list(range(1, 300)))
    assert s(0) == 0.0 and s(150) == 150.0 and s(10**6) == 299.0


def test_generated_code_holds_no_user_text() -> None:
    # constants that are not finite numbers are bound by name, never pasted into the source
    s = lrkit.piecewise_constant([10, 20], [0.5, 0.25, 0.125])
    source, namespace = _compile.trace_source(s)
    assert "_c0" in source and (10, 20) in namespace.values()
    allowed = set("abcdefghijklmnopqrstuvwxyz_0123456789 ()=<>+-*/.:,[]\nife")
    assert set(source) <= allowed | set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=schedules(), start=st.integers(0, 2**40))
def test_blocks_equal_one_whole_array_evaluation(s: Schedule, start: int) -> None:
    steps = start + np.arange(base._BLOCK * 2 + 1, dtype=np.int64)  # 131073 = 3 * 43691
    whole = NUMPY.finalize(s._eval(steps.astype(np.float64), NUMPY), steps.astype(np.float64))
    blocked = s(steps)
    assert blocked.shape == steps.shape and blocked.dtype == np.float64
    assert np.array_equal(blocked, whole)
    assert np.array_equal(s(steps.reshape(3, -1)), whole.reshape(3, -1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=schedules(), start=st.integers(0, 2**40), dtype=st.sampled_from(["int64", "float64", "float32"]))
def test_torch_blocks_equal_one_whole_tensor_evaluation(s: Schedule, start: int, dtype: str) -> None:
    # Large CPU tensors are evaluated in blocks (Schedule._eval_tensor_blocks): the same bits as one
    # evaluation of the whole tensor through the torch namespace, in the same dtype.
    torch = pytest.importorskip("torch")
    if dtype == "float32":
        start = start % 2**24  # whole steps stay exact in float32
    steps = (start + torch.arange(base._BLOCK * 2 + 1, dtype=torch.int64)).to(getattr(torch, dtype))
    assert base._large_cpu_tensor(steps)
    xp, t = _backend_prepare(steps)
    whole = xp.finalize(s._eval(t, xp), t, steps)
    blocked = s(steps)
    assert blocked.shape == steps.shape and blocked.dtype == whole.dtype
    assert blocked.dtype == (torch.float64 if dtype == "int64" else getattr(torch, dtype))
    assert torch.equal(blocked, whole)
    assert torch.equal(s(steps.reshape(3, -1)), whole.reshape(3, -1))


def test_torch_blocks_only_for_large_eager_cpu_tensors() -> None:
    torch = pytest.importorskip("torch")
    big = torch.arange(base._BLOCK + 1)
    assert base._large_cpu_tensor(big)
    assert not base._large_cpu_tensor(big[: base._BLOCK])  # one block: one evaluation
    assert not base._large_cpu_tensor(big.to(torch.float64).requires_grad_())  # autograd keeps one graph
    assert not base._large_cpu_tensor(big.numpy())  # NumPy has its own block path
    steps = big.to(torch.float64)
    steps[-1] = -1.0
    with pytest.raises(ValueError, match="step must be >= 0"):
        lrkit.cosine(1.0, 10)(steps)  # the last block is validated too


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), -0.5])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_blocks_check_every_value_like_one_evaluation(bad: float, kind: str) -> None:
    # the per-block checks (min/max reductions) reject what prepare() rejects, with prepare()'s message,
    # wherever the bad value sits
    s = lrkit.cosine(1.0, 10)
    for where in (0, base._BLOCK + 7, 3 * base._BLOCK - 1):
        steps = np.arange(base._BLOCK * 3, dtype=np.float64)
        steps[where] = bad
        wrap = pytest.importorskip("torch").from_numpy if kind == "torch" else np.asarray
        with pytest.raises(ValueError, match=r"step must be (finite|>= 0)") as blocked:
            s(wrap(steps))
        with pytest.raises(ValueError) as whole:
            s(wrap(steps[where : where + 1]))
        assert str(blocked.value) == str(whole.value)


def test_blocks_refuse_what_one_evaluation_refuses() -> None:
    for steps in (np.zeros(base._BLOCK + 1, dtype=bool), np.zeros(base._BLOCK + 1, dtype=complex)):
        with pytest.raises(TypeError, match="step array must hold integers or floats"):
            lrkit.cosine(1.0, 10)(steps)
    assert np.array_equal(lrkit.cosine(1.0, 10)(np.zeros(base._BLOCK + 1, dtype=np.uint8)), np.ones(base._BLOCK + 1))


@pytest.mark.parametrize("n", [0, 1, base._BLOCK, base._BLOCK + 1, 3 * base._BLOCK + 5])
def test_curve_of_a_run_equals_the_array_evaluation(n: int) -> None:
    # lrkit._phases.values (plots, reports) evaluates arange blocks without building the arange
    from lrkit import _phases

    for s in (lrkit.warmup(lrkit.cosine(1e-3, 3 * base._BLOCK), steps=100), lrkit.cosine_restarts(1.0, 999, t_mul=2.0)):
        got = _phases.values(s, n)
        assert got.dtype == np.float64 and np.array_equal(got, s(np.arange(n)))


def test_blocks_validate_every_block() -> None:
    steps = np.arange(base._BLOCK * 3, dtype=np.float64)
    steps[-1] = -1.0
    with pytest.raises(ValueError, match="step must be >= 0"):
        lrkit.cosine(1.0, 10)(steps)


class attribute_error_for_tests(Schedule):
    """A formula that fails on symbolic values in its own way (an attribute a Sym does not have)."""

    spec_name = "attribute_error_for_tests"

    def __init__(self, value: float) -> None:
        self._init(value=float(value))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return t.real * 0.0 + self.value  # floats and arrays have .real; a traced value does not


def test_any_trace_failure_keeps_the_interpreted_path() -> None:
    s = attribute_error_for_tests(0.5)
    assert _compile.compile_scalar(s) is None
    assert s(3) == 0.5
