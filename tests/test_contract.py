"""The contract for bad input (docs/concepts.md, "What can go wrong"), driven by one strategy of hostile values.

Every public entry point either works, giving finite values, or raises
``ValueError``/``TypeError`` (``SpecError`` is a ``ValueError``): never another
exception type, never NaN or infinity.  ``HOSTILE`` is the one shared strategy:
NaN, infinities, ``-0.0``, huge ints (``2**1100`` does not fit in a float),
bools, strings, bytes, ``None``, nested lists, NumPy scalars and arrays, 0-d
tensors.  Valid schedules come from ``test_properties.schedules()``; each test
replaces some of their parameters with hostile values.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrkit
from lrkit import Schedule
from lrkit.base import MAX_DEPTH
from test_properties import schedules  # the shared random-schedule strategy

ALLOWED = (ValueError, TypeError)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))

_SPECIAL: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    -0.0,
    0.0,
    5e-324,
    1.7976931348623157e308,
    -1,
    0,
    2**53 + 1,
    2**63,
    2**64,
    2**1100,
    -(2**1100),
    10**400,
    True,
    False,
    "",
    "abc",
    "nan",
    "1e-3",
    "10ep",
    "5%",
    "1e999999ep",
    "x" * 5000,
    b"10",
    bytearray(b"1"),
    None,
    [],
    [1, [2, [3]]],
    [[[[[]]]]],
    [math.nan],
    [2**1100],
    {},
    {"type": "cosine"},
    {"type": "cosine", "value": math.nan, "steps": 10},
    (1, 2),
    object(),
    np.float64(math.nan),
    np.float64(math.inf),
    np.float32(1e38),
    np.int64(2**62),
    np.uint64(2**64 - 1),
    np.bool_(True),
    np.array(3),
    np.array([1.0, 2.0]),
    np.array([math.nan]),
    np.array([[1]]),
    np.array(["a"]),
    complex(1, 1),
]

HOSTILE = st.one_of(
    st.sampled_from(_SPECIAL),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**1200), max_value=2**1200),
    st.text(max_size=20),
    st.lists(st.one_of(st.floats(), st.integers(), st.none()), max_size=4),
)


def _torch_values() -> list[Any]:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return []
    return [torch.tensor(math.nan), torch.tensor(3), torch.tensor(2.5, dtype=torch.float64), torch.tensor([1.0])]


HOSTILE_WITH_TENSORS = st.one_of(HOSTILE, st.sampled_from(_torch_values() or [None]))


def assert_finite(value: Any) -> None:
    arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=np.float64)
    assert np.isfinite(arr).all(), value


def check_schedule(s: Schedule) -> None:
    """A schedule that constructs gives finite values (at its probe steps and a few more)."""
    if not s.is_resolved:
        return
    steps = np.array([0.0, 1.0, 7.0, 1000.0, 2.0**31, 2.0**40])
    assert_finite(s(steps))
    for t in (0, 1, 2**40):
        assert math.isfinite(s(t))


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``: its result, or ``None`` after a ValueError/TypeError (any other exception fails the test)."""
    try:
        return fn(*args, **kwargs)
    except ALLOWED:
        return None


# -- constructors ----------------------------------------------------------------------------------


@SETTINGS
@given(schedules(), st.data())
def test_constructors_with_hostile_parameters(s: Schedule, data: st.DataObject) -> None:
    params = s.params()
    for _ in range(data.draw(st.integers(1, 2))):
        field = data.draw(st.sampled_from(sorted(params)))
        params[field] = data.draw(HOSTILE_WITH_TENSORS)
    built = call(type(s), **params)
    if built is not None:
        check_schedule(built)
        call(lambda: lrkit.parse(repr(built)) == built)
        call(lambda: lrkit.from_dict(built.to_dict()) == built)


# lrkit's own schedules (other test modules register schedule classes of their own, with other contracts)
OWN_SCHEDULES = sorted(n for n, cls in lrkit.REGISTRY.items() if cls.__module__.startswith("lrkit."))


@SETTINGS
@given(st.sampled_from(OWN_SCHEDULES), st.lists(HOSTILE, max_size=4))
def test_constructors_with_only_hostile_arguments(name: str, args: list[Any]) -> None:
    built = call(lrkit.REGISTRY[name], *args)
    if built is not None:
        check_schedule(built)


@pytest.mark.parametrize(
    "make",
    [
        lambda: lrkit.noam(5e-324, scale=1e300),
        lambda: lrkit.one_cycle(1.0, 100, div_factor=5e-324),
        lambda: lrkit.scale(lrkit.constant(1e300), 1e300),
        lambda: lrkit.product([lrkit.constant(1e200), lrkit.constant(1e200)]),
        lambda: lrkit.cosine(1, 10, cycles=1.8e308),
    ],
    ids=["noam", "one_cycle", "scale", "product", "cosine-cycles"],
)
def test_extreme_parameters_are_refused_at_construction(make: Any) -> None:
    # each parameter is valid alone; together they overflow float64 (inf, or 0 * inf = nan at step 0)
    with pytest.raises(ValueError):
        make()


def test_cyclic_with_a_huge_up_phase_is_finite() -> None:
    # up_steps = 2**53, down_steps = 1: the cycle is 2**53 + 1 steps (not a float64), once a ZeroDivisionError
    s = call(lrkit.cyclic, 0.1, 1.0, up_steps=2**53, down_steps=1)
    if s is not None:
        assert s(0) == 0.1  # the cycle starts at the low value
        check_schedule(s)


# -- depth: what can be built can be saved, loaded and resumed -----------------------------------------


def test_depth_limit_is_the_parsers() -> None:
    from lrkit import spec

    assert MAX_DEPTH == spec._MAX_DEPTH
    s = lrkit.constant(1.0)
    built = 1
    with pytest.raises(ValueError, match=rf"nest {MAX_DEPTH + 1} levels deep, more than the {MAX_DEPTH} levels"):
        while True:
            s = s * 0.999
            built += 1
    assert built == MAX_DEPTH  # scale(...(constant(1.0))): the number in the innermost call is level 64
    # the deepest schedule that can be built evaluates and round-trips through every format
    assert s(10) == pytest.approx(0.999 ** (MAX_DEPTH - 1))
    assert lrkit.parse(repr(s)) == s
    assert lrkit.from_dict(s.to_dict()) == s
    assert lrkit.loads(lrkit.dumps(s, "json"), "json") == s
    pytest.importorskip("yaml")
    assert lrkit.loads(lrkit.dumps(s, "yaml"), "yaml") == s


def test_depth_counts_lists_like_the_parser() -> None:
    # join([a, b], ...) nests the pieces two levels below it (the list, then the item), as the parser counts
    s: Schedule = lrkit.constant(1.0)
    while True:
        deeper = call(lrkit.join, [s, lrkit.constant(0.5)], [5])
        if deeper is None:
            break
        s = deeper
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s
    assert s._depth <= MAX_DEPTH
    with pytest.raises(ValueError, match="levels deep"):
        lrkit.join([s, lrkit.constant(0.5)], [5])


def test_deepest_schedule_resumes_from_its_checkpoint() -> None:
    torch = pytest.importorskip("torch")
    import lrkit.torch as lt

    s = lrkit.cosine(0.1, 100)
    while True:
        deeper = call(lrkit.scale, s, 0.999)
        if deeper is None:
            break
        s = deeper
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = lt.Scheduler(opt, lr=s)
    sched.set_step(37)
    state = sched.state_dict()
    again = lt.Scheduler(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1), lr=s)
    again.load_state_dict(state)
    assert again.optimizer.param_groups[0]["lr"] == pytest.approx(s(37))


# -- text, data, files --------------------------------------------------------------------------


@SETTINGS
@given(HOSTILE)
def test_parse_and_loaders(value: Any) -> None:
    for text in (value, f"cosine({value!r}, 10)", f"warmup(cosine(1e-3, {value!r}), steps={value!r})"):
        s = call(lrkit.parse, text)
        if s is not None:
            check_schedule(s)
    s = call(lrkit.from_dict, value)
    if s is not None:
        check_schedule(s)
    for data in ({"type": "cosine", "value": value, "steps": 10}, {"type": "step", "value": 0.1, "step_size": value}):
        s = call(lrkit.from_dict, data)
        if s is not None:
            check_schedule(s)
        text = call(json.dumps, data)
        if text is not None:
            s = call(lrkit.loads, text, "json")
            if s is not None:
                check_schedule(s)
    s = call(lrkit.as_schedule, value)
    if s is not None:
        check_schedule(s)
    if isinstance(value, str):
        call(lrkit.loads, value, "json")
        call(lrkit.loads, value, "yaml")
        call(lrkit.loads, value, "toml")


@SETTINGS
@given(schedules(durations=True), HOSTILE, HOSTILE)
def test_resolve(s: Schedule, spe: Any, total: Any) -> None:
    r = call(s.resolve, steps_per_epoch=spe, total_steps=total)
    if r is not None:
        check_schedule(r)


# -- evaluation --------------------------------------------------------------------------------------


@SETTINGS
@given(schedules(), HOSTILE_WITH_TENSORS)
def test_evaluation_at_hostile_steps(s: Schedule, step: Any) -> None:
    out = call(s, step)
    if out is not None:
        assert_finite(out)


# -- durations ---------------------------------------------------------------------------------------


@SETTINGS
@given(HOSTILE, HOSTILE, HOSTILE)
def test_durations(value: Any, spe: Any, total: Any) -> None:
    n = call(lrkit.resolve_duration, value, steps_per_epoch=spe, total_steps=total)
    if n is not None:
        assert isinstance(n, int)
    n = call(lrkit.resolve_duration, "10ep", steps_per_epoch=spe)
    if n is not None:
        assert isinstance(n, int) and n >= 0
    n = call(lrkit.resolve_duration, "5%", total_steps=total)
    if n is not None:
        assert isinstance(n, int) and n >= 0
    got = call(lrkit.parse_lrepochs, value, spe)
    if got is not None:
        assert math.isfinite(got[1])
    got = call(lrkit.parse_lrepochs, f"10,12:{value}", 10)
    if got is not None:
        assert math.isfinite(got[1]) and 0 < got[1] <= 1


# -- plot (no file) ----------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(schedules(), HOSTILE, st.sampled_from(["steps", "total_steps", "steps_per_epoch", "labels", "schedules"]))
def test_plot_without_saving(s: Schedule, value: Any, field: str) -> None:
    pytest.importorskip("matplotlib")
    kwargs: dict[str, Any] = {"steps": 100}
    target: Any = s
    if field == "schedules":
        target = value
    else:
        kwargs[field] = value
    fig = call(lrkit.plot, target, **kwargs)
    if fig is not None:
        for line in fig.axes[0].get_lines():
            assert np.isfinite(np.asarray(line.get_ydata(), dtype=np.float64)).all()


# -- the PyTorch adapter -------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(HOSTILE_WITH_TENSORS, st.sampled_from(["step", "drop", "replace", "whole"]), HOSTILE)
def test_torch_scheduler_set_step_and_load_state_dict(step: Any, how: str, value: Any) -> None:
    torch = pytest.importorskip("torch")
    import lrkit.torch as lt

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = lt.Scheduler(opt, lr=lrkit.cosine(0.1, 100))
    call(sched.set_step, step)
    assert math.isfinite(opt.param_groups[0]["lr"])
    state = sched.state_dict()
    key = sorted(state)[abs(hash(str(value))) % len(state)]
    if how == "drop":  # a partial dict: ValueError naming what is missing, not KeyError
        state.pop(key)
    elif how == "replace":
        state[key] = value
    elif how == "whole":
        state = value
    call(sched.load_state_dict, state)
    assert math.isfinite(opt.param_groups[0]["lr"])


def test_load_state_dict_with_a_huge_step() -> None:
    torch = pytest.importorskip("torch")
    import lrkit.torch as lt

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = lt.Scheduler(opt, lr=lrkit.cosine(0.1, 100))
    state = sched.state_dict()
    state["step"] = 2**1100
    with pytest.raises(ValueError, match="step"):
        sched.load_state_dict(state)


def test_set_step_refuses_steps_beyond_int64() -> None:
    torch = pytest.importorskip("torch")
    import lrkit.torch as lt

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = lt.Scheduler(opt, lr=lrkit.cosine(0.1, 100))
    with pytest.raises(ValueError, match=r"step must be at most 2\*\*63 - 1, got an int of 1101 bits"):
        sched.set_step(2**1100)
    sched.set_step(2**63 - 1)  # torch's last_epoch is an int64: the largest step still works
    assert opt.param_groups[0]["lr"] == 0.0  # cosine to 0 after its 100 steps
