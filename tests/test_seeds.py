"""The seeds' own schedules, each checked against its formula as written in the seed.

The seed formulas are re-typed here (plain Python/NumPy, or Keras ops where the
seed used TensorFlow ops), never taken from lrkit.  All over the seeds' 40,000
steps.  The seed's three built-in Keras schedules (CosineDecay,
ExponentialDecay, PiecewiseConstantDecay) are compared with the real Keras in
tests/compat/test_keras.py.

Tolerances: float64 against float64 differs only by the order of a few
roundings (``rtol=1e-13``, i.e. ~450 ulp of headroom over the ~4 ulp seen).
The Keras-ops run of the Noam seed is float32, as in the seed (``tf.range(...,
dtype=tf.float32)``): ``8 * 2**-24`` relative to the peak, as justified in
tests/compat/test_keras.py.
"""

from __future__ import annotations

import bisect
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit

# Keras' torch backend converts tensors with np.array(x), which NumPy 2 flags on every call; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
STEPS = np.arange(40_000)
RTOL64 = 1e-13
U32 = 2.0**-24


# -- the custom MySchedule (003 note): linear warmup, then lr * warmup / step ------------


def seed_my_schedule(step: float, initial_learning_rate: float = 0.001, warmup_steps: int = 4000) -> float:
    # Re-typed from the seed's MySchedule.__call__.
    if step > warmup_steps:
        return initial_learning_rate * warmup_steps * step**-1
    else:
        return initial_learning_rate * step * (warmup_steps**-1)


def test_my_schedule_matches_the_seed_over_40000_steps() -> None:
    ours = lrkit.warmup(lrkit.inverse_power(0.001, steps=4000, power=1.0), steps=4000, start_factor=0.0, prefix=False)
    expected = np.array([seed_my_schedule(float(t)) for t in STEPS])
    np.testing.assert_allclose(ours(STEPS), expected, rtol=RTOL64, atol=0)
    # Scalar path agrees with the vectorized one, and the boundaries by hand:
    # 0 at step 0; 0.001 * 3999 / 4000 just before; 0.001 at 4000 (the seed's `else` branch); 0.001 * 4000 / 4001 after.
    assert ours(0) == 0.0
    assert ours(3999) == pytest.approx(0.001 * 3999 / 4000, rel=RTOL64)
    assert ours(4000) == pytest.approx(0.001, rel=RTOL64)
    assert ours(4001) == pytest.approx(0.001 * 4000 / 4001, rel=RTOL64)
    assert ours(39_999) == pytest.approx(0.001 * 4000 / 39_999, rel=RTOL64)


# -- the Transformer (Noam) CustomSchedule (003 note) ------------------------------------


def seed_noam_numpy(step: np.ndarray, d_model: float = 128.0, warmup_steps: int = 4000) -> np.ndarray:
    # rsqrt(d_model) * min(rsqrt(step), step * warmup_steps ** -1.5), in float64.
    with np.errstate(divide="ignore"):  # rsqrt(0) = inf, exactly as tf.math.rsqrt
        arg1 = 1.0 / np.sqrt(step)
    arg2 = step * (warmup_steps**-1.5)
    return (1.0 / np.sqrt(d_model)) * np.minimum(arg1, arg2)


def test_noam_matches_the_seed_formula_over_40000_steps() -> None:
    ours = lrkit.noam(128, warmup_steps=4000)
    t = STEPS.astype(np.float64)
    np.testing.assert_allclose(ours(STEPS), seed_noam_numpy(t), rtol=RTOL64, atol=0)
    # Peak at t = warmup: 128**-0.5 * 4000**-0.5 (both arguments of min are equal there).
    assert ours(4000) == pytest.approx(128**-0.5 * 4000**-0.5, rel=RTOL64)
    assert ours(3999) < ours(4000) and ours(4001) < ours(4000)


def test_noam_seed_class_in_keras_ops_gives_0_at_step_0() -> None:
    """The seed's CustomSchedule, re-typed with Keras ops (tf.math.rsqrt -> keras.ops.rsqrt), in float32.

    At step 0 the seed computes rsqrt(0) = inf and 0 * warmup**-1.5 = 0, so
    min(inf, 0) = 0: the seed gives 0.0 (no NaN), and so does lrkit.noam.
    """
    keras = pytest.importorskip("keras")
    ops = keras.ops

    class CustomSchedule(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, d_model: float, warmup_steps: int = 4000) -> None:
            super().__init__()
            self.d_model = ops.cast(d_model, "float32")
            self.warmup_steps = warmup_steps

        def __call__(self, step: Any) -> Any:
            arg1 = ops.rsqrt(step)
            arg2 = step * (self.warmup_steps**-1.5)
            return ops.rsqrt(self.d_model) * ops.minimum(arg1, arg2)

    seed = CustomSchedule(128)
    # As in the seed: temp_learning_rate_schedule(tf.range(40000, dtype=tf.float32)).
    theirs = ops.convert_to_numpy(seed(ops.arange(40_000, dtype="float32"))).astype(np.float64)
    assert float(ops.convert_to_numpy(ops.rsqrt(ops.convert_to_tensor(0.0)))) == np.inf
    assert theirs[0] == 0.0
    ours = lrkit.noam(128, warmup_steps=4000)
    assert ours(0) == 0.0
    peak = 128**-0.5 * 4000**-0.5
    np.testing.assert_allclose(ours(STEPS), theirs, rtol=0, atol=8 * U32 * peak)


# -- WarmupMultiStepLR (000 note): the pure get_lr formula ----------------------------------


def seed_get_lr(
    last_epoch: int,
    base_lr: float,
    milestones: list[int],
    gamma: float = 0.1,
    warmup_factor: float = 1.0 / 3,
    warmup_iters: int = 500,
    warmup_method: str = "linear",
) -> float:
    # Re-typed from the seed's WarmupMultiStepLR.get_lr (one param group).
    factor = 1
    if last_epoch < warmup_iters:
        if warmup_method == "constant":
            factor = warmup_factor
        elif warmup_method == "linear":
            alpha = float(last_epoch) / warmup_iters
            factor = warmup_factor * (1 - alpha) + alpha
    return base_lr * factor * gamma ** bisect.bisect_right(milestones, last_epoch)


def seed_lrepochs(lrepochs: str, len_train_loader: int) -> tuple[list[int], float]:
    # Re-typed from the seed's train(): milestones and lr_gamma from --lrepochs.
    milestones = [len_train_loader * int(epoch_idx) for epoch_idx in lrepochs.split(":")[0].split(",")]
    lr_gamma = 1 / float(lrepochs.split(":")[1])
    return milestones, lr_gamma


@pytest.mark.parametrize("method", ["linear", "constant"])
@pytest.mark.parametrize("steps_per_epoch", [1000, 2000, 2500])
def test_warmup_multistep_matches_the_seed_over_40000_steps(method: str, steps_per_epoch: int) -> None:
    milestones, gamma = lrkit.parse_lrepochs("10,12,14,16:2", steps_per_epoch=steps_per_epoch)
    assert (milestones, gamma) == seed_lrepochs("10,12,14,16:2", steps_per_epoch)
    ours = lrkit.warmup(
        lrkit.multistep(0.001, milestones=milestones, gamma=gamma),
        steps=500,
        start_factor=1 / 3,
        method=method,
        prefix=False,
    )
    expected = np.array([seed_get_lr(int(t), 0.001, milestones, gamma, 1 / 3, 500, method) for t in STEPS])
    np.testing.assert_allclose(ours(STEPS), expected, rtol=RTOL64, atol=0)
    # By hand: 0.001/3 at step 0; step 499 still warming (constant: still 1/3); 0.001 at 500;
    # halved *at* each milestone (bisect_right): s(m - 1) = 0.001 * 0.5**k, s(m) = 0.001 * 0.5**(k+1).
    assert ours(0) == pytest.approx(0.001 / 3, rel=RTOL64)
    assert ours(499) == pytest.approx(0.001 / 3 if method == "constant" else 0.001 * (1 / 3 * (1 / 500) + 499 / 500))
    assert ours(500) == 0.001
    for k, m in enumerate(milestones):
        assert ours(m - 1) == pytest.approx(0.001 * 0.5**k, rel=RTOL64)
        assert ours(m) == pytest.approx(0.001 * 0.5 ** (k + 1), rel=RTOL64)


@settings(max_examples=60, deadline=None)
@given(
    base_lr=st.floats(1e-6, 1.0),
    milestones=st.lists(st.integers(0, 3000), max_size=5).map(sorted),  # repeats allowed, as in the seed's check
    gamma=st.floats(0.0, 1.0),
    warmup_factor=st.floats(0.0, 1.0),
    warmup_iters=st.integers(0, 1000),
    method=st.sampled_from(["linear", "constant"]),
)
def test_warmup_multistep_matches_the_seed_random(
    base_lr: float, milestones: list[int], gamma: float, warmup_factor: float, warmup_iters: int, method: str
) -> None:
    ours = lrkit.warmup(
        lrkit.multistep(base_lr, milestones=milestones, gamma=gamma),
        steps=warmup_iters,
        start_factor=warmup_factor,
        method=method,
        prefix=False,
    )
    t = np.arange(4000)
    expected = np.array(
        [seed_get_lr(int(s), base_lr, milestones, gamma, warmup_factor, warmup_iters, method) for s in t]
    )
    # gamma ** k can underflow towards subnormals, where relative error is meaningless: tiny atol.
    np.testing.assert_allclose(ours(t), expected, rtol=RTOL64, atol=1e-300)
    assert [ours(int(s)) for s in t[::397]] == pytest.approx(list(expected[::397]), rel=RTOL64, abs=1e-300)


def test_warmup_multistep_errors_match_the_seed() -> None:
    # The seed raises ValueError for unsorted milestones and for a warmup method it does not know.
    with pytest.raises(ValueError, match=r"milestones must be non-decreasing, got \[300, 200\]"):
        lrkit.multistep(0.001, milestones=[300, 200])
    with pytest.raises(ValueError, match="method must be one of"):
        lrkit.warmup(lrkit.multistep(0.001, milestones=[300]), steps=500, method="quadratic", prefix=False)


# -- --lrepochs "10,12,14,16:2" ----------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    epochs=st.lists(st.integers(0, 500), min_size=1, max_size=8).map(sorted),
    # a divisor < 1 (gamma > 1, the LR rising) is refused as the divisor (issue 12), multistep refuses gamma > 1
    divisor=st.sampled_from(["2", "10", "3", "1.5", "1", "4.0"]),
    steps_per_epoch=st.integers(1, 100_000),
)
def test_parse_lrepochs_matches_the_seed(epochs: list[int], divisor: str, steps_per_epoch: int) -> None:
    spec = ",".join(map(str, epochs)) + ":" + divisor
    assert lrkit.parse_lrepochs(spec, steps_per_epoch=steps_per_epoch) == seed_lrepochs(spec, steps_per_epoch)


def test_parse_lrepochs_seed_default() -> None:
    assert lrkit.parse_lrepochs("10,12,14,16:2", steps_per_epoch=1000) == ([10000, 12000, 14000, 16000], 0.5)


@pytest.mark.parametrize(
    ("spec", "steps_per_epoch", "error", "match"),
    [
        ("10,12,14,16", 1000, ValueError, "lrepochs must look like"),  # no divisor: the seed's [1] is an IndexError
        (":2", 1000, ValueError, "lrepochs must look like"),
        ("10,12:", 1000, ValueError, "lrepochs must look like"),
        ("10,x:2", 1000, ValueError, "epochs must be integers"),
        ("10,12.5:2", 1000, ValueError, "epochs must be integers"),
        ("10,12:two", 1000, ValueError, "divisor must be a number"),
        ("10,12:0", 1000, ValueError, "divisor must be a positive number"),  # the seed: ZeroDivisionError
        ("10,12:-2", 1000, ValueError, "divisor must be a positive number"),
        ("10,12:inf", 1000, ValueError, "divisor must be a positive number"),
        ("10,12:nan", 1000, ValueError, "divisor must be a positive number"),
        ("-1,12:2", 1000, ValueError, "epochs must be >= 0"),
        ("12,10:2", 1000, ValueError, r"non-decreasing, got \[12, 10\]"),
        ("10,12:2", 0, ValueError, "steps_per_epoch must be a positive int, got 0"),
        ("10,12:2", True, ValueError, "steps_per_epoch"),
        ("10,12:2", 1000.0, ValueError, "steps_per_epoch"),
        (["10", "12"], 1000, TypeError, "lrepochs must be a string"),
    ],
)
def test_parse_lrepochs_errors(spec: Any, steps_per_epoch: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        lrkit.parse_lrepochs(spec, steps_per_epoch=steps_per_epoch)


# -- light imports -------------------------------------------------------------------------


@pytest.mark.parametrize("statement", ["import lrkit", "from lrkit.compat import keras"])
def test_import_is_light(statement: str) -> None:
    heavy = ["torch", "keras", "tensorflow", "jax", "matplotlib"]
    code = f"import sys; {statement}; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{statement!r} imported {out.stdout.strip()}"
