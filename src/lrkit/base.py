"""The :class:`Schedule` base class and the validators every schedule uses.

A schedule is an immutable value: its parameters are fixed at construction
(validated there, loudly), it compares and hashes by value, its ``repr`` is a
spec that :func:`lrkit.parse` reads back, and :meth:`Schedule.to_dict` is
plain JSON data.  Evaluating it is a pure function of the step: the number of
optimizer updates already applied, counted from 0.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from . import _backend
from .durations import Duration, is_duration_string, parse_duration, resolve_duration

__all__ = ["REGISTRY", "Schedule"]

#: spec name -> schedule class; filled by ``Schedule.__init_subclass__``.
REGISTRY: dict[str, type[Schedule]] = {}

_NO_DEFAULT = inspect.Parameter.empty

#: the largest duration in steps: formulas compute in float64, exact for ints up to 2**53
#: (larger ones would also not survive TOML or the spec parser).
MAX_STEPS = 2**53


class Schedule:
    """A learning-rate schedule: a pure, closed-form function of the step.

    ``s(step)`` accepts an ``int``/``float`` (returns a Python ``float``), a
    NumPy array (returns a float64 array of the same shape), a torch tensor or
    a jax array (returns the same kind), computed without a Python loop over
    steps.  Steps must be finite and ``>= 0``.

    Subclasses define ``__init__`` (validate, then ``self._init(**params)``)
    and ``_eval(t, xp)``, the formula written once against the namespace
    ``xp`` (see :mod:`lrkit._backend`).
    """

    #: name used in specs, ``repr`` and ``to_dict``.
    spec_name: ClassVar[str] = ""
    #: parameter names in signature order (filled automatically).
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    #: how many leading parameters ``repr`` writes positionally.
    _positional: ClassVar[int] = 1
    #: parameters that hold durations (an int, a duration string, or a list of them).
    _duration_fields: ClassVar[frozenset[str]] = frozenset()

    _resolved: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            sig = inspect.signature(cls.__init__)
            params = [p for p in sig.parameters.values() if p.name != "self"]
            cls._fields = tuple(p.name for p in params)
            cls._defaults = {p.name: p.default for p in params if p.default is not _NO_DEFAULT}
        if cls.spec_name:
            if cls.spec_name in REGISTRY and REGISTRY[cls.spec_name] is not cls:
                raise RuntimeError(f"duplicate schedule name {cls.spec_name!r}")
            REGISTRY[cls.spec_name] = cls

    # -- construction -------------------------------------------------------
    def _init(self, **params: Any) -> None:
        for name, value in params.items():
            object.__setattr__(self, name, value)
        resolved = all(_is_resolved(getattr(self, f), f in self._duration_fields) for f in self._fields)
        object.__setattr__(self, "_resolved", resolved)
        if resolved:
            self._derive()

    def _derive(self) -> None:
        """Hook: precompute constants of the formula (only once every duration is in steps).

        Set them with ``object.__setattr__(self, "_name", value)``: they are not
        parameters, so equality, hashing, specs and pickling ignore them.
        """

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use .replace({name}=...) for a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # -- evaluation ---------------------------------------------------------
    def __call__(self, step: Any) -> Any:
        if not self._resolved:
            raise ValueError(f"{self!r} has durations in epochs or percent: call .resolve(...) before evaluating it")
        if type(step) is int and 0 <= step <= _backend.MAX_INT_STEP:  # fast path for the training loop
            return float(self._eval(float(step), _backend.SCALAR))
        xp, t = _backend.prepare(step)
        return xp.finalize(self._eval(t, xp), t, step)

    def _eval(self, t: Any, xp: _backend.Namespace) -> Any:
        raise NotImplementedError

    # -- data ---------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The constructor arguments, in signature order."""
        return {f: getattr(self, f) for f in self._fields}

    def replace(self, **changes: Any) -> Schedule:
        """A new schedule with some parameters changed (validated again)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{self.spec_name}() has no parameter {sorted(unknown)[0]!r}; it has {list(self._fields)}")
        return type(self)(**{**self.params(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``{"type": name, **params}``) that JSON, YAML and TOML can hold."""
        out: dict[str, Any] = {"type": self.spec_name}
        for name, value in self.params().items():
            if value is None:
                continue  # TOML has no null; an absent key means the default None
            out[name] = _to_data(value)
        return out

    def children(self) -> tuple[Schedule, ...]:
        """The schedules this one is built from (empty for building blocks)."""
        kids: list[Schedule] = []
        for value in self.params().values():
            if isinstance(value, Schedule):
                kids.append(value)
            elif isinstance(value, tuple):
                kids.extend(v for v in value if isinstance(v, Schedule))
        return tuple(kids)

    def walk(self) -> Iterator[Schedule]:
        """This schedule and every schedule inside it, depth first."""
        yield self
        for kid in self.children():
            yield from kid.walk()

    @property
    def is_resolved(self) -> bool:
        """False while some duration is still in epochs or percent."""
        return self._resolved

    def resolve(self, *, steps_per_epoch: int | None = None, total_steps: int | None = None) -> Schedule:
        """Turn every duration (``'10ep'``, ``'5%'``...) into whole steps.

        Rounding rule: nearest integer, halves up (see :mod:`lrkit.durations`).
        Raises ``ValueError`` naming the parameter when a duration needs
        ``steps_per_epoch`` or ``total_steps`` and it was not given.
        """
        for name, value in (("steps_per_epoch", steps_per_epoch), ("total_steps", total_steps)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self._resolved:
            return self
        new: dict[str, Any] = {}
        for name, value in self.params().items():
            if isinstance(value, Schedule):
                value = value.resolve(steps_per_epoch=steps_per_epoch, total_steps=total_steps)
            elif isinstance(value, tuple) and value and isinstance(value[0], Schedule):
                value = [v.resolve(steps_per_epoch=steps_per_epoch, total_steps=total_steps) for v in value]
            elif name in self._duration_fields and value is not None:
                kw = {"steps_per_epoch": steps_per_epoch, "total_steps": total_steps}
                if isinstance(value, tuple):
                    value = [resolve_duration(v, name=f"{self.spec_name}.{name}", **kw) for v in value]
                else:
                    value = resolve_duration(value, name=f"{self.spec_name}.{name}", **kw)
            new[name] = value
        return type(self)(**new)

    # -- value semantics ----------------------------------------------------
    def _key(self) -> tuple[Any, ...]:
        return (type(self), *(getattr(self, f) for f in self._fields))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_construct, (type(self), self.params()))

    def __copy__(self) -> Schedule:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Schedule:
        return self

    def __repr__(self) -> str:
        parts: list[str] = []
        for i, (name, value) in enumerate(self.params().items()):
            if i < self._positional and name not in self._defaults:
                parts.append(_spec_value(value))
            elif name in self._defaults and _same(value, self._defaults[name]):
                continue
            else:
                parts.append(f"{name}={_spec_value(value)}")
        return f"{self.spec_name}({', '.join(parts)})"

    def _repr_png_(self) -> bytes | None:
        """Jupyter shows a schedule as its plot (matplotlib is imported only here).

        ``None`` (no matplotlib, unresolved durations) falls back to the text repr.
        """
        from .plotting import render_png

        return render_png(self)

    # -- algebra ------------------------------------------------------------
    def __mul__(self, other: Any) -> Schedule:
        from .composition import product, scale

        if isinstance(other, Schedule):
            return product([self, other])
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return scale(self, float(other))
        return NotImplemented

    __rmul__ = __mul__


def _construct(cls: type[Schedule], params: Mapping[str, Any]) -> Schedule:
    return cls(**params)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == float(b)
    return type(a) is type(b) and a == b


def _is_resolved(value: Any, is_duration: bool) -> bool:
    if isinstance(value, Schedule):
        return value._resolved
    if isinstance(value, tuple):
        return all(_is_resolved(v, is_duration) for v in value)
    return not (is_duration and isinstance(value, str))


def _to_data(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_to_data(v) for v in value]
    return value


def _spec_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_spec_value(v) for v in value) + "]"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return repr(value)


# -- validators ---------------------------------------------------------------
# Each returns the normalised value or raises naming the parameter and value.


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


def choice(name: str, value: Any, options: Iterable[str]) -> str:
    options = tuple(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
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
    if not isinstance(value, Schedule):
        raise TypeError(f"{name} must be an lrkit schedule, got {value!r} ({type(value).__name__})")
    return value


def is_duration(value: Any) -> bool:
    return isinstance(value, int) or is_duration_string(value)
