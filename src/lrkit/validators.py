"""Validators shared by every schedule, the compat presets and the adapters.

Each returns the normalised value or raises ``TypeError`` (wrong kind of
value) or ``ValueError`` (right kind, out of range) naming the parameter and
the value.

The compat presets use the same validators with a peer-flavoured note: the
keyword ``what_peer_does`` says what the peer would do with the refused value,
so that the user learns why lrkit refuses what their old code passed silently::

    bounded("decay_rate", 1.5, high=1, what_peer_does="Keras grows the learning rate without bound")
    # ValueError: decay_rate must be <= 1, got 1.5 (Keras grows the learning rate without bound)

A peer module writes no ``raise ValueError`` of its own for a rule listed here.
"""

from __future__ import annotations

import itertools
import math
import numbers
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .durations import Duration, parse_duration

if TYPE_CHECKING:
    from .base import Schedule

#: the largest duration in steps: formulas compute in float64, exact for ints up to 2**53
#: (larger ones would also not survive TOML or the spec parser).
MAX_STEPS = 2**53


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """A finite real number in ``[low, high]`` (``(`` / ``)`` with the ``*_open`` flags)."""
    if not _is_real(value):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    try:
        value = float(value) + 0.0  # + 0.0 turns -0.0 into 0.0, so values never print as negative
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be finite, got an int of {int(value).bit_length()} bits") from None
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        bracket = "(" if low_open else "["
        hi = "inf)" if high is None else f"{high}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be in {bracket}{low}, {hi}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        lo = "(-inf" if low is None else f"{'(' if low_open else '['}{low}"
        raise ValueError(f"{name} must be in {lo}, {high}{')' if high_open else ']'}, got {value!r}")
    return value


def lr_value(name: str, value: Any) -> float:
    """A learning-rate-like value: finite and ``>= 0``."""
    return real(name, value, low=0.0)


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def choice(name: str, value: Any, options: Iterable[str], *, what_peer_does: str = "") -> str:
    """One of ``options`` (compared with ``==``)."""
    options = tuple(options)
    if not isinstance(value, str) or value not in options:
        raise ValueError(
            f"{name} must be one of {', '.join(map(repr, options))}; got {_short(value)}{_note(what_peer_does)}"
        )
    return str(value)


def duration(name: str, value: Any, *, minimum: int = 0) -> Duration:
    """An int number of steps ``>= minimum``, or a duration string checked for form."""
    if isinstance(value, str):
        amount, unit = parse_duration(value, name)
        if minimum > 0 and amount == 0:
            raise ValueError(f"{name} must be at least {minimum} step, got {value!r}")
        if unit == "st" and amount > MAX_STEPS:
            raise ValueError(f"{name} must be <= 2**53 steps, got {value!r}")
        return value.strip()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an int number of steps or a duration string like '10ep', got {value!r}")
    if isinstance(value, numbers.Integral):
        steps = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        steps = int(value)
    else:
        raise ValueError(f"{name} must be a whole number of steps, got {value!r}")
    if steps < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if steps > MAX_STEPS:
        # repr() of an int fails past 4300 digits
        shown = repr(value) if steps < 10**100 else f"an int of {steps.bit_length()} bits"
        raise ValueError(f"{name} must be <= 2**53 steps, got {shown}")
    return steps


def durations(
    name: str, values: Any, *, strictly: bool = True, minimum: int = 0, nonempty: bool = True
) -> tuple[Duration, ...]:
    """A list of durations; ints must increase (``strictly``) or not decrease."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of steps, got {values!r}")
    items = tuple(duration(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(values))
    if nonempty and not items:
        raise ValueError(f"{name} must not be empty, got []")
    ints = [v for v in items if isinstance(v, int)]
    if len(ints) == len(items):
        for a, b in itertools.pairwise(ints):
            if b < a or (strictly and b == a):
                kind = "strictly increasing" if strictly else "non-decreasing"
                raise ValueError(f"{name} must be {kind}, got {list(items)}")
    return items


def lr_values(name: str, values: Any, *, min_len: int = 1) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of numbers, got {values!r}")
    items = tuple(lr_value(f"{name}[{i}]", v) for i, v in enumerate(values))
    if len(items) < min_len:
        raise ValueError(f"{name} must have at least {min_len} value(s), got {list(items)}")
    return items


def schedule(name: str, value: Any) -> Schedule:
    from .base import Schedule

    if not isinstance(value, Schedule):
        raise TypeError(f"{name} must be an lrkit schedule, got {value!r} ({type(value).__name__})")
    return value


# -- peer-flavoured rules (the compat presets; usable by any schedule) ----------------------------
# Each takes ``what_peer_does``: a note, printed in parentheses after the value, saying what the
# peer does with the refused value ("optax accepts it and yields a negative learning rate").

_SHOWN = 200  # error messages quote at most this many characters of a value


def _short(value: Any) -> str:
    """``repr(value)``, cut to a short excerpt: a message never embeds unbounded input."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond Python's digit limit for str()
        return f"an int of {int(value).bit_length()} bits"
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 20]}... ({len(text)} characters)"


#: the public name of the excerpt rule, for the loaders' messages
excerpt = _short


def _note(what_peer_does: str) -> str:
    return f" ({what_peer_does})" if what_peer_does else ""


def _fmt(bound: float) -> str:
    # 0 and 1, not 0.0 and 1.0: bounds read like the docs write them
    return f"{bound:g}" if isinstance(bound, float) and bound.is_integer() and abs(bound) < 1e16 else repr(bound)


def bounded(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    what_peer_does: str = "",
) -> float:
    """A finite real number within the bounds: ``>= low`` (``> low`` with ``low_open``), ``<= high``...

    Messages: ``x must be >= 0``, ``x must be > 0``, ``x must be <= 1`` or
    ``x must be in [0, 1]``, then the value and the peer's note.
    """
    out = real(name, value)
    too_low = low is not None and (out < low or (low_open and out == low))
    too_high = high is not None and (out > high or (high_open and out == high))
    if too_low or too_high:
        if low is not None and high is not None:
            rule = f"in {'(' if low_open else '['}{_fmt(low)}, {_fmt(high)}{')' if high_open else ']'}"
        elif low is not None:
            rule = f"{'>' if low_open else '>='} {_fmt(low)}"
        else:
            rule = f"{'<' if high_open else '<='} {_fmt(high)}"  # type: ignore[arg-type]
        raise ValueError(f"{name} must be {rule}, got {_short(value)}{_note(what_peer_does)}")
    return out


def whole(
    name: str, value: Any, *, minimum: int = 0, unit: str = "steps", peer: str = "", what_peer_does: str = ""
) -> int:
    """A whole number (an int, or a float like ``10.0``) ``>= minimum``.

    ``peer`` names who accepts fractions (``"Keras accepts fractional steps;
    lrkit counts whole optimizer updates"``); ``what_peer_does`` says what the
    peer does below ``minimum``.
    """
    if isinstance(value, (str, bool)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number of {unit}, got {_short(value)}")
    out = real(name, value)
    if not out.is_integer():
        why = f" ({peer} accepts fractional {unit}; lrkit counts whole {_WHOLE_UNITS.get(unit, unit)})" if peer else ""
        raise ValueError(f"{name} must be a whole number of {unit}, got {_short(value)}{why}")
    if out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {_short(value)}{_note(what_peer_does)}")
    return int(out)


_WHOLE_UNITS = {"steps": "optimizer updates"}


def whole_steps(name: str, value: Any, *, peer: str = "", minimum: int = 0, what_peer_does: str = "") -> int:
    """A whole number of steps ``>= minimum`` (see :func:`whole`)."""
    return whole(name, value, minimum=minimum, unit="steps", peer=peer, what_peer_does=what_peer_does)


_RELATIONS = {
    "<": (operator.lt, "<"),
    "<=": (operator.le, "<="),
    ">": (operator.gt, ">"),
    ">=": (operator.ge, ">="),
    "==": (operator.eq, "equal to"),
}


def compare(name: str, value: Any, op: str, bound: Any, *, bound_name: str, what_peer_does: str = "") -> Any:
    """``value op bound`` between two parameters: ``decay_steps must be > warmup_steps (100), got 50``.

    ``bound_name`` names the other parameter (or an expression of several, such as
    ``"num_warmup_steps + num_decay_steps"``); its value is shown in parentheses.
    """
    test, words = _RELATIONS[op]
    if not test(value, bound):
        raise ValueError(
            f"{name} must be {words} {bound_name} ({_short(bound)}), got {_short(value)}{_note(what_peer_does)}"
        )
    return value


def sequence(name: str, value: Any, *, of: str = "numbers") -> list[Any]:
    """A list (or tuple, or any non-string iterable), as a list; ``TypeError`` otherwise."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise TypeError(f"{name} must be a list of {of}, got {_short(value)}")
    return list(value)


def nonempty(name: str, items: Sequence[Any], *, what_peer_does: str = "") -> Sequence[Any]:
    if not items:
        raise ValueError(f"{name} must not be empty, got {_short(items)}{_note(what_peer_does)}")
    return items


def one_fewer(
    name: str, items: Sequence[Any], other_name: str, others: Sequence[Any], *, what_peer_does: str = ""
) -> None:
    """``len(items) == len(others) - 1``: boundaries between pieces (one fewer boundary than pieces)."""
    if len(items) != len(others) - 1:
        raise ValueError(
            f"{name} must have one entry fewer than {other_name}, got {name}={_short(items)} of length {len(items)} "
            f"and {len(others)} {other_name}{_note(what_peer_does)}"
        )


def strictly_increasing(name: str, items: Sequence[Any], *, what_peer_does: str = "") -> Sequence[Any]:
    if any(a >= b for a, b in itertools.pairwise(items)):
        raise ValueError(f"{name} must be strictly increasing, got {_short(list(items))}{_note(what_peer_does)}")
    return items


def distinct(name: str, items: Sequence[Any], *, shown: Any = None, what_peer_does: str = "") -> Sequence[Any]:
    """No value twice: ``boundaries_and_scales must not repeat a step, got 10 twice``."""
    seen: set[Any] = set()
    for item in items:
        if item in seen:
            where = f" (in {_short(shown)})" if shown is not None else ""
            raise ValueError(f"{name} must not repeat a value, got {_short(item)} twice{where}{_note(what_peer_does)}")
        seen.add(item)
    return items


def divides(name: str, value: int, other_name: str, other: int, *, what_peer_does: str = "") -> int:
    """``value`` divides ``other`` exactly: ``num_cycles (3) must divide N - W (100)``."""
    if other % value:
        raise ValueError(f"{name} ({value}) must divide {other_name} ({other}){_note(what_peer_does)}")
    return value


def how_many_given(values: Mapping[str, Any], *, exactly_one: bool, what_peer_does: str = "") -> list[str]:
    """The names of ``values`` that are not ``None``: one or more, or ``exactly_one``."""
    given = [n for n, v in values.items() if v is not None]
    names = " or ".join(values)
    if not given or (exactly_one and len(given) > 1):
        rule = "exactly one" if exactly_one else "at least one"
        got = "none" if not given else " and ".join(given)
        raise ValueError(f"{rule} of {names} must be given, got {got}{_note(what_peer_does)}")
    return given


def unsupported(name: str, value: Any, *, why: str) -> None:
    """A value the peer accepts that lrkit cannot reproduce exactly, refused rather than approximated."""
    raise ValueError(f"{name}={_short(value)} is not supported: {why}")
