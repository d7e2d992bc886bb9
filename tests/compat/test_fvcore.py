"""``lrkit.compat.fvcore`` against the real ``fvcore.common.param_scheduler``, step by step.

fvcore's schedulers are functions of ``where = t / total_steps`` (detectron2's
``LRMultiplier`` calls them with ``last_epoch / max_iter``); each check calls
the genuine scheduler at every update ``t < total_steps`` and compares with the
lrkit schedule at ``t``.  Both sides compute in float64: 1e-12 relative to the
peak.  The step schedulers are compared with ``==`` (they pick values from a
list).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.compat import fvcore as compat

ps = pytest.importorskip("fvcore.common.param_scheduler")

REL = 1e-12


def check(name: str, args: tuple[Any, ...], kwargs: dict[str, Any], total: int, exact: bool = False) -> lrkit.Schedule:
    peer = getattr(ps, name)(*args, **kwargs)

    def at(t: int) -> float:
        try:
            return float(peer(t / total))
        except IndexError:  # fvcore's step lookup at where + 1e-6 >= 1: its last updates of a long run fail
            return math.nan

    want = np.array([at(t) for t in range(total)])
    failing = np.flatnonzero(np.isnan(want))
    assert failing.size == 0 or (failing[0] >= total * (1 - 1.1e-6) and failing[-1] == total - 1)
    s = getattr(compat, name)(*args, **kwargs, total_steps=total)
    got = s(np.arange(total))
    if failing.size:  # lrkit holds the last value there
        assert np.all(got[failing] == want[failing[0] - 1])
        got, want = got[: failing[0]], want[: failing[0]]
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=0, atol=REL * max(np.max(np.abs(want)), 1e-300))
    every = max(1, len(got) // 37)
    assert [s(t) for t in range(0, len(got), every)] == pytest.approx(list(got[::every]))
    assert lrkit.parse(repr(s)) == s
    return s


@pytest.mark.parametrize("total", [1, 7, 1000])
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("ConstantParamScheduler", (0.3,)),
        ("CosineParamScheduler", (1.0, 0.01)),
        ("CosineParamScheduler", (0.01, 1.0)),  # a cosine warmup
        ("CosineParamScheduler", (0.5, 0.5)),
        ("LinearParamScheduler", (1e-4, 1e-2)),
        ("LinearParamScheduler", (1.0, 0.0)),
        ("ExponentialParamScheduler", (2.0, 0.02)),
        ("ExponentialParamScheduler", (1.0, 1.0)),
        ("ExponentialParamScheduler", (2.0, 0.0)),  # fvcore's 0 ** where: the start at update 0, then 0
        ("PolynomialDecayParamScheduler", (0.1, 0.9)),
        ("PolynomialDecayParamScheduler", (0.1, 2.0)),
    ],
)
def test_continuous_schedulers(name: str, args: tuple[Any, ...], total: int) -> None:
    check(name, args, {}, total)


def test_exponential_with_decay_zero_past_the_end() -> None:
    # fvcore: 2.0 * 0.0 ** where is 2.0 at where = 0 (0 ** 0 = 1) and 0.0 for every where > 0, including 1
    peer = ps.ExponentialParamScheduler(2.0, 0.0)
    s = compat.ExponentialParamScheduler(2.0, 0.0, total_steps=4)
    assert [s(t) for t in range(7)] == [2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0] == [peer(t / 4) for t in range(7)]


@pytest.mark.parametrize("total", [1, 3, 90, 1000])
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(values=[1.0, 0.1, 0.01], num_updates=90, milestones=[30, 60]),
        dict(values=[1.0, 0.1, 0.01], num_updates=90),  # milestones: equal parts of ceil(90 / 3)
        dict(values=[1.0, 0.1, 0.01, 0.001], num_updates=10),  # ceil(10 / 4) = 3: parts 3, 3, 3, 1
        dict(values=[1.0, 0.1, 0.01], milestones=[3, 6, 9]),  # num_updates = milestones[-1]
        dict(values=[0.5], num_updates=4),  # one value: constant
        dict(values=[1.0, 0.5, 0.25], num_updates=7, milestones=[1, 2]),  # several milestones in one update
    ],
)
def test_multistep(kwargs: dict[str, Any], total: int) -> None:
    check("MultiStepParamScheduler", (), kwargs, total, exact=True)


def test_multistep_epsilon_on_a_long_run() -> None:
    # the milestone at 999,999 of 1,000,000 lands where (t / T + 1e-6) * 1e6 first reaches it
    check("MultiStepParamScheduler", (), dict(values=[1.0, 0.5], num_updates=10**6, milestones=[999_999]), 1_234_567)


@pytest.mark.parametrize("total", [1, 4, 120, 10**6 + 3])
@pytest.mark.parametrize("values", [[0.1, 0.01, 0.001, 0.0001], [0.3], [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03, 0.01]])
def test_step(values: list[float], total: int) -> None:
    check("StepParamScheduler", (120, values), {}, total, exact=True)


@pytest.mark.parametrize("total", [5, 120, 999_983])
def test_step_with_fixed_gamma(total: int) -> None:
    check("StepWithFixedGammaParamScheduler", (), dict(base_value=0.1, num_decays=3, gamma=0.1, num_updates=120), total)


def test_epsilon_quirk_by_hand() -> None:
    # StepParamScheduler over 10**7 updates, 4 values: fvcore reads int((t / T + 1e-6) * 4), which reaches 1
    # at t / T = 0.25 - 1e-6, i.e. t = 2,500,000 - 10: ten updates early
    s = compat.StepParamScheduler(120, [0.1, 0.01, 0.001, 0.0001], total_steps=10**7)
    assert s(2_499_989) == 0.1 and s(2_499_990) == 0.01
    assert s == lrkit.piecewise_constant([2_499_990, 4_999_990, 7_499_990], [0.1, 0.01, 0.001, 0.0001])


def test_the_peer_fails_in_its_last_updates_of_a_long_run_lrkit_holds() -> None:
    # where + 1e-6 >= 1 indexes past fvcore's list: IndexError for the last 10 of 10**7 updates
    peer = ps.StepParamScheduler(120, [1.0, 0.5])
    with pytest.raises(IndexError):
        peer((10**7 - 1) / 10**7)
    assert compat.StepParamScheduler(120, [1.0, 0.5], total_steps=10**7)(10**7 - 1) == 0.5


def test_after_the_end_the_last_value_holds() -> None:
    # fvcore is defined for where < 1; lrkit holds from total_steps on
    assert compat.CosineParamScheduler(1.0, 0.01, total_steps=100)(10**6) == 0.01
    assert compat.StepParamScheduler(10, [1.0, 0.5], total_steps=100)(100) == 0.5


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: compat.CosineParamScheduler(1.0, 0.0, total_steps=0), ValueError, r"total_steps must be >= 1"),
        (lambda: compat.CosineParamScheduler(1.0, 0.0), TypeError, r"total_steps"),
        (
            lambda: compat.LinearParamScheduler(-1.0, 0.0, total_steps=10),
            ValueError,
            r"start_value must be >= 0, got -1.0",
        ),
        (
            lambda: compat.ExponentialParamScheduler(1.0, 2.0, total_steps=10),
            ValueError,
            r"decay must be in \[0, 1\], got 2.0",
        ),
        (lambda: compat.MultiStepParamScheduler([1.0, 0.1], total_steps=10), ValueError, r"num_updates or milestones"),
        (
            lambda: compat.MultiStepParamScheduler([1.0, 0.1, 0.01], 90, [60, 30], total_steps=10),
            ValueError,
            r"milestones must be strictly increasing",
        ),
        (
            lambda: compat.MultiStepParamScheduler([1.0, 0.1], 90, [90], total_steps=10),
            ValueError,
            r"milestones\[-1\] must be < num_updates",
        ),
        (lambda: compat.StepParamScheduler(0, [1.0], total_steps=10), ValueError, r"num_updates must be > 0"),
        (lambda: compat.StepParamScheduler(10, [], total_steps=10), ValueError, r"values must not be empty"),
    ],
)
def test_refusals_name_the_parameter(make: Callable[[], Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_by_name_in_specs() -> None:
    s = lrkit.parse("fvcore.MultiStepParamScheduler([1.0, 0.1, 0.01], 90, [30, 60], total_steps=900)")
    assert s == lrkit.piecewise_constant([300, 600], [1.0, 0.1, 0.01])
    detectron2 = lrkit.scale(compat.CosineParamScheduler(1.0, 0.01, total_steps=1000), 0.02)  # base_lr * multiplier
    assert detectron2(0) == 0.02
