"""Every validation error: each parameter of each schedule, bad steps, unresolved durations.

Each bad value must raise ``ValueError`` or ``TypeError`` at construction, with a
message naming the parameter and showing the bad value; never a
``ZeroDivisionError``, an ``OverflowError``, a NaN or a silent fallback.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit import Schedule

NAN, INF = math.nan, math.inf
C = lrkit.constant(0.1)

# A valid call for every schedule; each test replaces one argument.
VALID: dict[str, dict[str, Any]] = {
    "constant": {"value": 0.1},
    "step": {"value": 0.1, "step_size": 10, "gamma": 0.5},
    "multistep": {"value": 0.1, "milestones": [10, 20], "gamma": 0.5},
    "piecewise_constant": {"boundaries": [10, 20], "values": [0.3, 0.2, 0.1], "at_boundary": "next"},
    "piecewise_interpolate": {"boundaries": [10, 20], "values": [0.3, 0.1], "method": "linear"},
    "linear": {"start": 0.0, "end": 0.1, "steps": 10, "begin": 0},
    "exponential": {"value": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": False, "begin": 0, "floor": 0.0},
    "inverse_time": {"value": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": False, "power": 1.0},
    "inverse_power": {"value": 0.1, "steps": 10, "power": 1.0},
    "inverse_sqrt": {"value": 0.1, "steps": 10},
    "polynomial": {"value": 0.1, "decay_steps": 10, "end_value": 0.0, "power": 1.0, "cycle": False},
    "cosine": {"value": 0.1, "steps": 10, "floor": 0.0, "exponent": 1.0, "cycles": 0.5, "periodic": False},
    "cosine_restarts": {"value": 0.1, "period": 10, "t_mul": 1.0, "m_mul": 1.0, "floor": 0.0},
    "cyclic": {"low": 0.01, "high": 0.1, "up_steps": 10, "down_steps": None, "mode": "triangular", "gamma": 1.0},
    "one_cycle": {
        "max_value": 0.1,
        "total_steps": 100,
        "pct_start": 0.3,
        "anneal": "cos",
        "div_factor": 25.0,
        "final_div_factor": 1e4,
        "three_phase": False,
    },
    "noam": {"d_model": 512, "warmup_steps": 4000, "scale": 1.0},
    "wsd": {
        "value": 0.1,
        "warmup_steps": 10,
        "stable_steps": 10,
        "decay_steps": 10,
        "decay": "linear",
        "floor": 0.0,
        "start_factor": 0.0,
    },
    "tanh": {"value": 0.1, "steps": 10, "floor": 0.0, "lower": -7.0, "upper": 3.0},
    "warmup": {"schedule": C, "steps": 10, "start_factor": 0.0, "method": "linear", "prefix": False},
    "join": {"schedules": [C, C], "boundaries": [10]},
    "scale": {"schedule": C, "factor": 2.0},
    "product": {"schedules": [C, C]},
    "clip": {"schedule": C, "lower": 0.0, "upper": 1.0},
}

# Parameter kinds -> the schedules' parameters of that kind.
KINDS: dict[str, list[tuple[str, str]]] = {
    "lr": [
        ("constant", "value"),
        ("step", "value"),
        ("multistep", "value"),
        ("linear", "start"),
        ("linear", "end"),
        ("exponential", "value"),
        ("exponential", "floor"),
        ("inverse_time", "value"),
        ("inverse_power", "value"),
        ("inverse_sqrt", "value"),
        ("polynomial", "value"),
        ("polynomial", "end_value"),
        ("cosine", "value"),
        ("cosine", "floor"),
        ("cosine_restarts", "value"),
        ("cosine_restarts", "floor"),
        ("cyclic", "low"),
        ("cyclic", "high"),
        ("one_cycle", "max_value"),
        ("noam", "scale"),
        ("wsd", "value"),
        ("wsd", "floor"),
        ("tanh", "value"),
        ("tanh", "floor"),
        ("scale", "factor"),
        ("clip", "lower"),
        ("clip", "upper"),
    ],
    "steps>=1": [
        ("step", "step_size"),
        ("linear", "steps"),
        ("exponential", "decay_steps"),
        ("inverse_time", "decay_steps"),
        ("inverse_power", "steps"),
        ("inverse_sqrt", "steps"),
        ("polynomial", "decay_steps"),
        ("cosine", "steps"),
        ("cosine_restarts", "period"),
        ("cyclic", "up_steps"),
        ("cyclic", "down_steps"),
        ("noam", "warmup_steps"),
        ("wsd", "decay_steps"),
        ("tanh", "steps"),
        ("one_cycle", "total_steps"),
    ],
    "steps>=0": [
        ("linear", "begin"),
        ("exponential", "begin"),
        ("wsd", "warmup_steps"),
        ("wsd", "stable_steps"),
        ("warmup", "steps"),
    ],
    "[0,1]": [
        ("step", "gamma"),
        ("multistep", "gamma"),
        ("cosine_restarts", "m_mul"),
        ("wsd", "start_factor"),
        ("warmup", "start_factor"),
    ],
    "(0,1]": [("exponential", "decay_rate"), ("cyclic", "gamma")],
    "(0,1)": [("one_cycle", "pct_start")],
    ">=0": [
        ("inverse_time", "decay_rate"),
        ("inverse_time", "power"),
        ("inverse_power", "power"),
        ("polynomial", "power"),
    ],
    ">0": [
        ("cosine", "exponent"),
        ("cosine", "cycles"),
        ("cosine", "k"),
        ("polynomial", "k"),
        ("one_cycle", "div_factor"),
        ("one_cycle", "final_div_factor"),
        ("noam", "d_model"),
    ],
    "[1,1e6]": [("cosine_restarts", "t_mul")],
    "real": [("tanh", "lower"), ("tanh", "upper")],
    "flag": [
        ("exponential", "staircase"),
        ("inverse_time", "staircase"),
        ("polynomial", "cycle"),
        ("cosine", "periodic"),
        ("one_cycle", "three_phase"),
        ("warmup", "prefix"),
    ],
    "choice": [
        ("piecewise_constant", "at_boundary"),
        ("piecewise_interpolate", "method"),
        ("cyclic", "mode"),
        ("one_cycle", "anneal"),
        ("wsd", "decay"),
        ("warmup", "method"),
    ],
    "schedule": [("warmup", "schedule"), ("scale", "schedule"), ("clip", "schedule")],
}

# Bad values common to every number parameter (NaN/inf/wrong type/bool).
_NOT_A_NUMBER = [
    (NAN, ValueError),
    (INF, ValueError),
    (-INF, ValueError),
    ("0.1", TypeError),
    (True, TypeError),
    (False, TypeError),
    ([0.1], TypeError),
    (1 + 0j, TypeError),
]
_NONE = [(None, TypeError)]

BAD: dict[str, list[tuple[Any, type[Exception]]]] = {
    "lr": [(-1.0, ValueError), (-1e-300, ValueError), (-1, ValueError), *_NOT_A_NUMBER],
    "steps>=1": [
        (0, ValueError),
        (-1, ValueError),
        (1.5, ValueError),
        (NAN, ValueError),
        (INF, ValueError),
        (2**60, ValueError),
        ("ten", ValueError),
        ("-5ep", ValueError),
        ("10 parsecs", ValueError),
        ("0ep", ValueError),
        ("1.5st", ValueError),
        ("101%", ValueError),
        ("2dur", ValueError),
        (True, TypeError),
        ([10], TypeError),
        (b"10", TypeError),
    ],
    "steps>=0": [(-1, ValueError), (0.5, ValueError), (NAN, ValueError), ("x", ValueError), (True, TypeError)],
    "[0,1]": [(-0.1, ValueError), (1.1, ValueError), *_NOT_A_NUMBER],
    "(0,1]": [(0.0, ValueError), (-0.1, ValueError), (1.1, ValueError), *_NOT_A_NUMBER],
    "(0,1)": [(0.0, ValueError), (1.0, ValueError), (-0.1, ValueError), *_NOT_A_NUMBER],
    ">=0": [(-0.5, ValueError), *_NOT_A_NUMBER],
    ">0": [(0.0, ValueError), (-1.0, ValueError), *_NOT_A_NUMBER],
    "[1,1e6]": [(0.5, ValueError), (1e7, ValueError), *_NOT_A_NUMBER],
    "real": _NOT_A_NUMBER,
    "flag": [(1, TypeError), (0, TypeError), ("True", TypeError), (None, TypeError), (np.float64(1.0), TypeError)],
    "choice": [("nope", ValueError), ("", ValueError), (None, ValueError), (1, ValueError)],
    "schedule": [(0.1, TypeError), ("constant(0.1)", TypeError), (None, TypeError), (lrkit.constant, TypeError)],
}
# None is a valid value here: cyclic's down_steps defaults to up_steps, clip's upper is open, and the
# open-ended lengths mean "until the end of training" (filled by resolve(total_steps=...)).
NONE_ALLOWED = {("cyclic", "down_steps"), ("clip", "upper")} | {
    (name, field) for name, cls in lrkit.REGISTRY.items() for field in cls._open_ended_fields
}


def _cases() -> list[tuple[str, str, Any, type[Exception]]]:
    out = []
    for kind, params in KINDS.items():
        for name, param in params:
            bad = list(BAD[kind])
            if kind not in ("flag", "choice", "schedule") and (name, param) not in NONE_ALLOWED:
                bad += _NONE
            out.extend((name, param, value, exc) for value, exc in bad)
    return out


CASES = _cases()


def _shown(value: Any) -> str:
    """How the message shows the bad value."""
    if value == 2**60:
        return "1152921504606846976"
    if isinstance(value, float) and value in (INF, -INF):
        return "inf"
    return repr(value)


def test_every_parameter_of_every_schedule_is_covered() -> None:
    covered = {(n, p) for params in KINDS.values() for n, p in params}
    special = {  # lists, checked in the dedicated tests below
        ("multistep", "milestones"),
        ("piecewise_constant", "boundaries"),
        ("piecewise_constant", "values"),
        ("piecewise_interpolate", "boundaries"),
        ("piecewise_interpolate", "values"),
        ("join", "schedules"),
        ("join", "boundaries"),
        ("product", "schedules"),
    }
    every = {(name, p) for name, cls in lrkit.REGISTRY.items() if name in VALID for p in cls._fields}
    assert every == covered | special
    assert set(VALID) <= set(lrkit.REGISTRY)


@pytest.mark.parametrize(("name", "param", "bad", "exc"), CASES, ids=[f"{n}.{p}={b!r}" for n, p, b, _ in CASES])
def test_bad_parameter(name: str, param: str, bad: Any, exc: type[Exception]) -> None:
    cls = lrkit.REGISTRY[name]
    cls(**VALID[name])  # the base call is valid
    with pytest.raises(exc) as info:
        cls(**{**VALID[name], param: bad})
    msg = str(info.value)
    assert param in msg, msg
    assert _shown(bad) in msg, msg
    assert not isinstance(info.value, (ZeroDivisionError, OverflowError))


def test_huge_ints_are_value_errors_not_overflow() -> None:
    with pytest.raises(ValueError, match=r"value must be finite, got an int of 1329 bits"):
        lrkit.constant(10**400)
    with pytest.raises(ValueError, match=r"steps must be <= 2\*\*53 steps, got an int of"):
        lrkit.cosine(0.1, 10**5000)  # its repr would raise ValueError itself (4300-digit limit)


# -- cross-parameter rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda: lrkit.exponential(0.1, 10, 0.5, floor=0.2), ["floor", "0.2", "0.1"]),
        (lambda: lrkit.cosine(0.1, 10, floor=0.2), ["floor", "0.2"]),
        (lambda: lrkit.cosine_restarts(0.1, 10, floor=0.2), ["floor", "0.2"]),
        (lambda: lrkit.wsd(0.1, 1, 1, 1, floor=0.2), ["floor", "0.2"]),
        (lambda: lrkit.tanh(0.1, 10, floor=0.2), ["floor", "0.2"]),
        (lambda: lrkit.cyclic(0.2, 0.1, 10), ["high", "0.1", "0.2"]),
        (lambda: lrkit.tanh(0.1, 10, lower=3.0, upper=3.0), ["upper", "3.0"]),
        (lambda: lrkit.tanh(0.1, 10, lower=3.0, upper=-7.0), ["upper", "-7.0"]),
        (lambda: lrkit.clip(C, lower=0.5, upper=0.1), ["upper", "0.1", "0.5"]),
        (lambda: lrkit.warmup(C, 10, 0.0, "exponential", prefix=False), ["start_factor", "0.0", "exponential"]),
        (lambda: lrkit.one_cycle(0.1, 2, pct_start=0.3), ["pct_start=0.3", "total_steps=2"]),
        (lambda: lrkit.one_cycle(0.1, 10, pct_start=0.1), ["pct_start=0.1", "total_steps=10"]),  # e1 = 0
        (lambda: lrkit.one_cycle(0.1, 10, pct_start=0.6, three_phase=True), ["pct_start=0.6"]),
        (lambda: lrkit.one_cycle(0.1, 1), ["total_steps", "1"]),
    ],
)
def test_cross_parameter_errors(call: Any, fragments: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        call()
    for f in fragments:
        assert f in str(info.value), str(info.value)


# -- lists -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "exc", "fragments"),
    [
        ({"milestones": [300, 200]}, ValueError, ["milestones", "non-decreasing", "[300, 200]"]),
        ({"milestones": [10, -1]}, ValueError, ["milestones[1]", "-1"]),
        ({"milestones": [1.5]}, ValueError, ["milestones[0]", "1.5"]),
        ({"milestones": [True]}, TypeError, ["milestones[0]", "True"]),
        ({"milestones": [NAN]}, ValueError, ["milestones[0]", "nan"]),
        ({"milestones": ["3 weeks"]}, ValueError, ["milestones[0]", "'3 weeks'"]),
        ({"milestones": "10,20"}, TypeError, ["milestones", "'10,20'"]),
        ({"milestones": 10}, TypeError, ["milestones", "10"]),
        ({"milestones": None}, TypeError, ["milestones", "None"]),
    ],
)
def test_multistep_milestones(kwargs: dict[str, Any], exc: type[Exception], fragments: list[str]) -> None:
    with pytest.raises(exc) as info:
        lrkit.multistep(0.1, **kwargs)
    for f in fragments:
        assert f in str(info.value), str(info.value)


@pytest.mark.parametrize("cls", [lrkit.piecewise_constant, lrkit.piecewise_interpolate])
@pytest.mark.parametrize(
    ("boundaries", "exc", "fragments"),
    [
        ([20, 10], ValueError, ["boundaries", "strictly increasing", "[20, 10]"]),
        ([10, 10], ValueError, ["boundaries", "strictly increasing", "[10, 10]"]),
        ([], ValueError, ["boundaries", "empty", "[]"]),
        ([-1], ValueError, ["boundaries[0]", "-1"]),
        ("10", TypeError, ["boundaries", "'10'"]),
        (None, TypeError, ["boundaries", "None"]),
    ],
)
def test_piecewise_boundaries(cls: type[Schedule], boundaries: Any, exc: type[Exception], fragments: list[str]) -> None:
    n = 3 if cls is lrkit.piecewise_constant else 2
    with pytest.raises(exc) as info:
        cls(boundaries, [0.1] * n)
    for f in fragments:
        assert f in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("cls", "values", "exc", "fragments"),
    [
        (lrkit.piecewise_constant, [0.3, 0.2], ValueError, ["values", "one more", "[0.3, 0.2]"]),
        (lrkit.piecewise_constant, [0.3, 0.2, 0.1, 0.0], ValueError, ["values", "[0.3, 0.2, 0.1, 0.0]"]),
        (lrkit.piecewise_constant, [0.3, -0.2, 0.1], ValueError, ["values[1]", "-0.2"]),
        (lrkit.piecewise_constant, [0.3, NAN, 0.1], ValueError, ["values[1]", "nan"]),
        (lrkit.piecewise_constant, [0.3, "x", 0.1], TypeError, ["values[1]", "'x'"]),
        (lrkit.piecewise_constant, "abc", TypeError, ["values", "'abc'"]),
        (lrkit.piecewise_interpolate, [0.3], ValueError, ["values", "as many", "[0.3]"]),
        (lrkit.piecewise_interpolate, [0.3, 0.2, 0.1], ValueError, ["values", "[0.3, 0.2, 0.1]"]),
        (lrkit.piecewise_interpolate, [0.3, INF], ValueError, ["values[1]", "inf"]),
    ],
)
def test_piecewise_values(cls: type[Schedule], values: Any, exc: type[Exception], fragments: list[str]) -> None:
    with pytest.raises(exc) as info:
        cls([10, 20], values)
    for f in fragments:
        assert f in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("call", "exc", "fragments"),
    [
        (lambda: lrkit.join(C, [10]), TypeError, ["schedules", "constant(0.1)"]),
        (lambda: lrkit.join([C], []), ValueError, ["schedules", "at least 2", "got 1"]),
        (lambda: lrkit.join([C, 0.1], [10]), TypeError, ["schedules[1]", "0.1"]),
        (lambda: lrkit.join([C, C], [10, 20]), ValueError, ["boundaries", "[10, 20]"]),
        (lambda: lrkit.join([C, C, C], [20, 10]), ValueError, ["boundaries", "[20, 10]"]),
        (lambda: lrkit.join([C, C, C], [10, 10]), ValueError, ["boundaries", "[10, 10]"]),
        (lambda: lrkit.join([C, C], [0]), ValueError, ["boundaries[0]", "0"]),
        (lambda: lrkit.join([C, C], 10), TypeError, ["boundaries", "10"]),
        (lambda: lrkit.product(C), TypeError, ["schedules", "constant(0.1)"]),
        (lambda: lrkit.product([C]), ValueError, ["schedules", "at least 2", "got 1"]),
        (lambda: lrkit.product([C, "cosine"]), TypeError, ["schedules[1]", "'cosine'"]),
        (lambda: lrkit.product("ab"), TypeError, ["schedules[0]", "'a'"]),
    ],
)
def test_combinator_lists(call: Any, exc: type[Exception], fragments: list[str]) -> None:
    with pytest.raises(exc) as info:
        call()
    for f in fragments:
        assert f in str(info.value), str(info.value)


def test_replace_validates_and_names_unknown_parameters() -> None:
    s = lrkit.cosine(0.1, 10)
    with pytest.raises(TypeError, match=r"no parameter 'flor'"):
        s.replace(flor=0.0)
    with pytest.raises(ValueError, match=r"floor must be <= value \(0.1\), got 0.5"):
        s.replace(floor=0.5)
    assert s.replace(floor=0.05).floor == 0.05


# -- steps ---------------------------------------------------------------------------------------

S = lrkit.cosine(0.1, 10)


@pytest.mark.parametrize(
    ("step", "exc", "fragment"),
    [
        (-1, ValueError, "-1"),
        (-0.5, ValueError, "-0.5"),
        (-(2**70), ValueError, str(-(2**70))),
        (NAN, ValueError, "nan"),
        (INF, ValueError, "inf"),
        (-INF, ValueError, "inf"),
        (10**400, ValueError, "bits"),
        (np.float64(NAN), ValueError, "nan"),
        (np.int64(-3), ValueError, "-3"),
        (np.array([0, 5, -1]), ValueError, "-1"),
        (np.array([0.0, NAN]), ValueError, "nan"),
        (np.array([[0.0], [INF]]), ValueError, "inf"),
        ([0, -2], ValueError, "-2"),
        (True, TypeError, "True"),
        ("3", TypeError, "str"),
        (None, TypeError, "NoneType"),
        (1 + 2j, TypeError, "complex"),
        (np.array(["a"]), TypeError, "dtype"),
        (np.array([True]), TypeError, "dtype"),
        (np.array([1 + 0j]), TypeError, "dtype"),
    ],
)
def test_bad_steps(step: Any, exc: type[Exception], fragment: str) -> None:
    with pytest.raises(exc) as info:
        S(step)
    msg = str(info.value)
    assert "step" in msg and fragment in msg, msg


def test_bad_torch_steps() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"step must be >= 0.*-1\.0"):
        S(torch.tensor([0.0, -1.0]))
    with pytest.raises(ValueError, match=r"step must be >= 0.*-2"):
        S(torch.tensor([3, -2]))
    with pytest.raises(ValueError, match=r"step must be finite.*nan"):
        S(torch.tensor([math.nan], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"step must be finite.*inf"):
        S(torch.tensor([math.inf]))
    with pytest.raises(TypeError, match=r"dtype torch.bool"):
        S(torch.tensor([True]))


def test_negative_zero_step_is_step_zero() -> None:
    assert S(-0.0) == S(0) == 0.1


# -- unresolved durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s", "resolve_kwargs", "fragments"),
    [
        (lrkit.cosine(0.1, "10ep"), {}, ["cosine.steps='10ep'", "epochs", "steps_per_epoch"]),
        (lrkit.cosine(0.1, "10%"), {"steps_per_epoch": 100}, ["cosine.steps='10%'", "total_steps"]),
        (lrkit.cosine(0.1, "0.5dur"), {"steps_per_epoch": 100}, ["total_steps"]),
        (lrkit.multistep(0.1, ["1ep", 200]), {}, ["multistep.milestones", "'1ep'", "steps_per_epoch"]),
        (
            lrkit.warmup(lrkit.cosine(0.1, 100), "1ep", prefix=False),
            {"total_steps": 5},
            ["warmup.steps", "steps_per_epoch"],
        ),
        (lrkit.warmup(lrkit.cosine(0.1, "5%"), 10, prefix=False), {}, ["cosine.steps", "total_steps"]),
    ],
)
def test_unresolved_durations(s: Schedule, resolve_kwargs: dict[str, int], fragments: list[str]) -> None:
    assert not s.is_resolved
    for step in (0, np.arange(3)):
        with pytest.raises(ValueError, match=r"call \.resolve\(\.\.\.\) before evaluating"):
            s(step)
    with pytest.raises(ValueError) as info:
        s.resolve(**resolve_kwargs)
    for f in fragments:
        assert f in str(info.value), str(info.value)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10", 10**0.5])
@pytest.mark.parametrize("which", ["steps_per_epoch", "total_steps"])
def test_resolve_arguments(bad: Any, which: str) -> None:
    with pytest.raises(ValueError) as info:
        lrkit.cosine(0.1, "1ep").resolve(**{which: bad})
    assert which in str(info.value) and repr(bad) in str(info.value)


def test_resolved_durations_are_validated_again() -> None:
    # '1%' of 10 steps rounds to 0: cosine needs at least 1 step.
    with pytest.raises(ValueError, match=r"steps must be >= 1, got 0"):
        lrkit.cosine(0.1, "1%").resolve(total_steps=10)
    # epoch milestones that collapse out of order after resolving are caught by the constructor
    with pytest.raises(ValueError, match=r"boundaries must be strictly increasing"):
        lrkit.piecewise_constant(["1ep", 10], [0.3, 0.2, 0.1]).resolve(steps_per_epoch=10)


# -- no ZeroDivisionError / NaN at the edges of the valid ranges ---------------------------------------

EDGE = [
    lrkit.step(0.1, 1, 0.0),
    lrkit.multistep(0.1, [0, 0, 0], 0.0),
    lrkit.linear(0.1, 0.0, 1),
    lrkit.exponential(0.0, 1, 1e-300, staircase=True),
    lrkit.inverse_time(0.1, 1, 0.0),
    lrkit.inverse_power(0.1, 1, 0.0),
    lrkit.polynomial(0.1, 1, 0.1, 0.0, cycle=True),
    lrkit.polynomial(0.1, 1, 0.0, 0.0),
    lrkit.cosine(0.1, 1, 0.1, 1e-9, 1e-9),
    lrkit.cosine_restarts(0.1, 1, 1e6, 0.0, 0.1),
    lrkit.cosine_restarts(0.1, 1, 1.0 + 1e-12, 1.0),
    lrkit.cyclic(0.0, 0.0, 1, 1, "exp_range", 1e-300),
    lrkit.one_cycle(0.1, 3, 0.999),
    lrkit.one_cycle(0.1, 2**53, 1e-15, div_factor=1e-300, final_div_factor=1e300),
    lrkit.noam(1e-300, 1, 0.0),
    lrkit.wsd(0.1, 0, 0, 1, "1-sqrt", 0.1, 1.0),
    lrkit.tanh(0.1, 1, 0.1, -1e300, 1e300),
    lrkit.warmup(C, 1, 1e-300, "exponential", prefix=False),
    lrkit.warmup(C, 2**53, 0.0, "cosine", prefix=True),
    lrkit.join([C, C], [2**53]),
    lrkit.clip(C, 0.0, 0.0),
    lrkit.piecewise_interpolate([0, 2**53], [0.1, 0.0]),
]


@pytest.mark.parametrize("s", EDGE, ids=repr)
def test_no_division_by_zero_or_nan_at_the_edges(s: Schedule) -> None:
    steps = np.array([0, 1, 2, 3, 1000, 2**40, 2**53, 2**63, 1e300])
    out = s(steps)
    assert np.all(np.isfinite(out)) and np.all(out >= 0), out
    for t in steps:
        v = s(float(t))
        assert math.isfinite(v) and v >= 0


# -- the shared validators with a peer's note (lrkit.validators) ---------------------------------

from lrkit import validators as v  # noqa: E402


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: v.bounded("x", -1, low=0, what_peer_does="P does Q"), "x must be >= 0, got -1 (P does Q)"),
        (lambda: v.bounded("x", 0.0, low=0, low_open=True), "x must be > 0, got 0.0"),
        (lambda: v.bounded("x", 1.5, high=1), "x must be <= 1, got 1.5"),
        (lambda: v.bounded("x", 1.0, high=1, high_open=True), "x must be < 1, got 1.0"),
        (lambda: v.bounded("x", 2, low=0, high=1, what_peer_does="P"), "x must be in [0, 1], got 2 (P)"),
        (lambda: v.bounded("x", 0, low=0, high=0.5, low_open=True), "x must be in (0, 0.5], got 0"),
        (lambda: v.bounded("x", math.nan, low=0), "x must be finite, got nan"),
        (lambda: v.whole_steps("n", 2.5, peer="P"), "n must be a whole number of steps, got 2.5 (P accepts fractional"),
        (lambda: v.whole_steps("n", -1, minimum=0, what_peer_does="P uses 0"), "n must be >= 0, got -1 (P uses 0)"),
        (lambda: v.whole("k", 1.5, unit="cycles"), "k must be a whole number of cycles, got 1.5"),
        (lambda: v.compare("a", 5, ">", 10, bound_name="b", what_peer_does="P"), "a must be > b (10), got 5 (P)"),
        (lambda: v.compare("a", 5, "==", 6, bound_name="b + c = 1 + 5"), "a must be equal to b + c = 1 + 5 (6), got 5"),
        (
            lambda: v.strictly_increasing("b", [2, 1], what_peer_does="P"),
            "b must be strictly increasing, got [2, 1] (P)",
        ),
        (
            lambda: v.distinct("s", [1, 2, 1], shown=["1", 2, 1]),
            "s must not repeat a value, got 1 twice (in ['1', 2, 1])",
        ),
        (lambda: v.one_fewer("b", [1, 2], "v", [1, 2]), "b must have one entry fewer than v, got b=[1, 2] of length 2"),
        (lambda: v.nonempty("b", [], what_peer_does="P fails later"), "b must not be empty, got [] (P fails later)"),
        (lambda: v.divides("n", 3, "N", 100), "n (3) must divide N (100)"),
        (lambda: v.how_many_given({"a": None, "b": None}, exactly_one=False), "at least one of a or b must be given"),
        (
            lambda: v.how_many_given({"a": 1, "b": 2}, exactly_one=True),
            "exactly one of a or b must be given, got a and b",
        ),
        (
            lambda: v.choice("m", "cubic", ("linear",), what_peer_does="P raises too"),
            "m must be one of 'linear'; got 'cubic' (P",
        ),
        (lambda: v.unsupported("w", "1-sqrt", why="not exact"), "w='1-sqrt' is not supported: not exact"),
    ],
)
def test_shared_validators_name_the_parameter_the_value_and_the_peer(call: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value), str(info.value)


@pytest.mark.parametrize(
    "call",
    [
        lambda: v.bounded("x", "1", low=0),
        lambda: v.bounded("x", True, low=0),
        lambda: v.whole_steps("n", "10"),
        lambda: v.sequence("b", "123"),
        lambda: v.sequence("b", {1: 2}),
        lambda: v.sequence("b", 5),
    ],
)
def test_shared_validators_raise_type_error_for_the_wrong_kind(call: Any) -> None:
    with pytest.raises(TypeError):
        call()


def test_shared_validators_return_the_normalised_value() -> None:
    assert v.bounded("x", 1, low=0) == 1.0 and type(v.bounded("x", 1, low=0)) is float
    assert v.whole_steps("n", 10.0) == 10 and type(v.whole_steps("n", 10.0)) is int
    assert v.sequence("b", (1, 2)) == [1, 2]
    assert v.compare("a", 3, "<=", 3, bound_name="b") == 3


def test_messages_quote_only_a_short_excerpt_of_huge_values() -> None:
    huge = list(range(100_000))
    with pytest.raises(ValueError) as info:
        v.strictly_increasing("b", huge[::-1])
    assert len(str(info.value)) < 400 and "characters)" in str(info.value)
    with pytest.raises(ValueError) as info2:
        v.choice("m", "x" * 1_000_000, ("linear",))
    assert len(str(info2.value)) < 400


def test_compat_modules_write_no_validation_blocks_of_their_own() -> None:
    # Issue 7: validation is shared (lrkit.validators), with the peer's note as a parameter.
    import ast
    from pathlib import Path

    compat_dir = Path(lrkit.__file__).parent / "compat"
    blocks = {}
    for path in sorted(compat_dir.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        raises = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Raise)
            and isinstance(n.exc, ast.Call)
            and isinstance(n.exc.func, ast.Name)
            and n.exc.func.id == "ValueError"
        ]
        blocks[path.name] = len(raises)
    assert sum(blocks.values()) == 0, blocks
