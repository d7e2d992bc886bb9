"""Schedules describe themselves: phase events come from each class's own constants and agree with its values.

``lrkit.describe``/``plot``/``show`` read :meth:`Schedule.phase_events` and
:meth:`Schedule.child_clocks`; none of them knows a schedule by name.  The
tests below check, for every building block, that each event sits exactly
where the values say the phase changes (expected steps derived by hand from
the docstring formulas), and that a user-defined schedule gets the same
treatment.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit import _phases, shapes
from lrkit._backend import Namespace
from lrkit.base import Schedule


def ev(s: Schedule, steps: int | None = None) -> list[tuple[int, str]]:
    return [(e.step, e.kind) for e in _phases.events(s, steps)]


def changes(s: Schedule, n: int) -> list[int]:
    """Steps ``b`` in ``1..n-1`` where ``s(b) != s(b - 1)`` (for piecewise-constant schedules)."""
    v = s(np.arange(n))
    return [int(b) for b in np.nonzero(np.diff(v))[0] + 1]


# -- piecewise-constant blocks: events are exactly the steps where the value changes -----
@pytest.mark.parametrize(
    "s",
    [
        lrkit.multistep(1.0, [10, 25, 40], 0.5),
        lrkit.step(1.0, 7, 0.5),
        lrkit.piecewise_constant([10, 30], [1.0, 0.5, 0.25]),
        lrkit.piecewise_constant([10, 30], [1.0, 0.5, 0.25], at_boundary="previous"),  # Keras: one step later
        lrkit.exponential(1.0, 8, 0.5, staircase=True),
        lrkit.exponential(1.0, 8, 0.5, staircase=True, begin=5),
    ],
    ids=repr,
)
def test_events_are_where_the_value_changes(s: Schedule) -> None:
    n = 60
    # "decay start" (exponential's begin) starts the clock; a staircase first drops a period later
    assert [b for b, kind in ev(s, n) if kind != "decay start"] == changes(s, n)


def test_keras_previous_rule_shifts_the_event() -> None:
    # at_boundary="previous": s(10) is still values[0]; the new value starts at 11
    s = lrkit.piecewise_constant([10], [1.0, 0.5], at_boundary="previous")
    assert s(10) == 1.0 and s(11) == 0.5
    assert ev(s, 50) == [(11, "boundary")]


# -- smooth blocks: events at the kinks, with the values the docstrings promise ------------
def test_exponential_floor_crossing_is_the_first_step_at_the_floor() -> None:
    # 1.0 * 0.5 ** (t / 10) == 0.01  ->  t = 10 * log(0.01) / log(0.5) = 66.44  ->  first whole step 67
    s = lrkit.exponential(1.0, 10, 0.5, floor=0.01)
    assert ev(s, 200) == [(67, "decay end")]
    assert s(67) == 0.01 and s(66) > 0.01


def test_one_cycle_phase_ends_hold_the_extremes() -> None:
    # pct_start 0.3 of 100: e1 = 0.3 * 100 - 1 = 29; the minimum at total - 1 = 99
    s = lrkit.one_cycle(1.0, 100)
    assert ev(s, 200) == [(29, "warmup end"), (99, "decay end")]
    assert s(29) == 1.0
    assert s(99) == 1.0 / 25 / 1e4
    # three phases: e2 = 2 * 0.3 * 100 - 2 = 58 returns to initial = 1 / 25
    s3 = lrkit.one_cycle(1.0, 100, three_phase=True)
    assert ev(s3, 200) == [(29, "warmup end"), (58, "phase end"), (99, "decay end")]
    assert s3(58) == 1.0 / 25


def test_sgdr_restarts_are_where_the_value_jumps_up() -> None:
    # period 10, t_mul 2: restarts at 10, 10 + 20 = 30, 30 + 40 = 70, 150
    s = lrkit.cosine_restarts(1.0, 10, t_mul=2.0, m_mul=0.5)
    assert ev(s, 160) == [(10, "restart"), (30, "restart"), (70, "restart"), (150, "restart")]
    v = s(np.arange(160))
    rises = [int(b) for b in np.nonzero(np.diff(v) > 0)[0] + 1]
    assert rises == [10, 30, 70, 150]
    assert s(30) == 0.25  # m_mul ** 2 at the second restart


def test_sgdr_with_a_huge_t_mul_lists_only_reachable_restarts() -> None:
    s = lrkit.cosine_restarts(1.0, 10, t_mul=1e6)
    assert ev(s, None)[:2] == [(10, "restart"), (10_000_010, "restart")]


def test_cyclic_peaks_and_starts() -> None:
    # up 4, down 6: peaks at 4, 14, 24; cycle starts at 10, 20
    s = lrkit.cyclic(0.1, 1.0, up_steps=4, down_steps=6)
    kinds = ev(s, 25)
    assert [b for b, k in kinds if k == "cycle peak"] == [4, 14, 24]
    assert [b for b, k in kinds if k == "cycle start"] == [10, 20]
    assert s(4) == 1.0 and s(10) == 0.1


def test_wsd_phases() -> None:
    s = lrkit.wsd(1.0, warmup_steps=10, stable_steps=20, decay_steps=5, floor=0.1)
    assert ev(s, 100) == [(10, "warmup end"), (30, "decay start"), (35, "decay end")]
    assert s(30) == 1.0 and s(31) < 1.0 and s(35) == 0.1


def test_linear_says_whether_it_decays_or_ramps() -> None:
    assert ev(lrkit.linear(1.0, 0.1, 10, begin=5), 100) == [(5, "decay start"), (15, "decay end")]
    assert ev(lrkit.linear(0.1, 1.0, 10), 100) == [(10, "ramp end")]


def test_blocks_without_phases() -> None:
    for s in (lrkit.constant(1.0), lrkit.inverse_time(1.0, 10, 0.5), lrkit.constant(1.0) * 2.0):
        assert ev(s, 100) == []


# -- composition: clocks shift and windows cut -------------------------------------------
def test_prefix_warmup_shifts_its_schedule() -> None:
    s = lrkit.warmup(lrkit.cosine(1.0, 100), steps=10, prefix=True)
    assert ev(s, 200) == [(10, "warmup end"), (110, "decay end")]
    # multiplicative: the schedule keeps its own clock
    m = lrkit.warmup(lrkit.cosine(1.0, 100), steps=10, prefix=False)
    assert ev(m, 200) == [(10, "warmup end"), (100, "decay end")]


def test_join_pieces_run_on_their_own_clock_and_window() -> None:
    s = lrkit.join([lrkit.multistep(1.0, [5, 50], 0.5), lrkit.cosine(1.0, 10)], boundaries=[20])
    # the milestone 50 of the first piece is cut by the join at 20; the cosine ends at 20 + 10
    assert ev(s, 100) == [(5, "milestone"), (20, "join"), (30, "decay end")]


def test_structural_warnings_come_from_the_node() -> None:
    s = lrkit.warmup(lrkit.cosine(1.0, 100), steps=50, prefix=False)
    (w,) = _phases.structural_warnings(s)
    assert "peak never reached" in w
    assert _phases.structural_warnings(lrkit.warmup(lrkit.cosine(1.0, 100), steps=50, prefix=True)) == []


def test_no_analysis_module_switches_on_schedule_names() -> None:
    import ast
    from pathlib import Path

    names = set(lrkit.REGISTRY)
    for module in ("_phases.py", "plotting.py", "terminal.py"):
        tree = ast.parse((Path(lrkit.__file__).parent / module).read_text())
        found = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in names]
        assert found == [], f"{module} mentions schedule names {found}"


# -- a user-defined schedule gets the same treatment -------------------------------------
class rex_for_tests(Schedule):
    """REX (Chen et al. 2021): ``value * (1 - p) / (1/2 + (1 - p)/2)`` over ``steps``, 0 from ``steps`` on."""

    spec_name = "rex_for_tests"
    _duration_fields = frozenset({"steps"})

    def __init__(self, value: float, steps: int) -> None:
        self._init(value=float(value), steps=int(steps))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        rest = 1.0 - shapes.progress0(t, float(self.steps), xp)
        return self.value * rest / (0.5 + 0.5 * rest)

    def phase_events(self, horizon: float) -> Any:
        return [(float(self.steps), "decay end")]


class undeclared_for_tests(Schedule):
    """A schedule that declares no events: the default guesses from its duration parameters."""

    spec_name = "undeclared_for_tests"
    _duration_fields = frozenset({"hold"})

    def __init__(self, value: float, hold: int) -> None:
        self._init(value=float(value), hold=int(hold))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return xp.where(t < self.hold, self.value, 0.5 * self.value)


def test_user_schedule_is_described_like_a_builtin() -> None:
    s = lrkit.warmup(rex_for_tests(1.0, 100), steps=10, prefix=True)
    assert ev(s, 200) == [(10, "warmup end"), (110, "decay end")]
    assert s(110) == 0.0 and s(10) == 1.0
    vals = _phases.values(s, 200)
    warnings = _phases.warnings_for(s, vals)
    assert any("decay ends early" in w for w in warnings)
    assert lrkit.parse(repr(s)) == s  # registered by its spec_name: specs and files work


def test_user_schedule_without_events_gets_the_duration_guess() -> None:
    assert ev(undeclared_for_tests(1.0, 30), 100) == [(30, "hold")]


def test_user_schedule_in_describe_and_plot(tmp_path: Any) -> None:
    from lrkit import cli

    out = tmp_path / "rex.png"
    assert cli.main(["describe", "rex_for_tests(1.0, 100)", "--steps", "150"]) == 0
    assert cli.main(["plot", "rex_for_tests(1.0, 100)", "--steps", "150", "-o", str(out)]) == 0
    assert out.stat().st_size > 0


def test_first_step_of_events_beyond_int64_is_a_plain_int() -> None:
    assert _phases._first_step(2.0**70) == 2**70
    assert _phases._first_step(10.0000000001) == 10
    assert _phases._first_step(10.5) == 11
    assert math.isfinite(float(_phases._first_step(1e300)))


def test_ramp_ends_where_its_event_says() -> None:
    # log: min(log(t + 1) / log(W), 1) reaches exactly 1 at t = W - 1; offset_linear: (t + 1) / W likewise
    for shape in ("log", "offset_linear"):
        s = lrkit.ramp(0.1, 1.0, 50, shape)
        assert ev(s, 100) == [(49, "ramp end")]
        assert s(48) < 1.0 and s(49) == 1.0 and s(10**9) == 1.0
    assert ev(lrkit.ramp(0.0, 1.0, 50, "exp_saturation"), 100) == []  # 1 - exp(-(t + 1) / 50) never ends
