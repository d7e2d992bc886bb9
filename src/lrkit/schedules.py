"""The building blocks: closed-form schedules of the step ``t`` (updates applied, from 0).

Every docstring states the formula and the exact values at ``t = 0``, around
each boundary and after the end.  Unless a schedule is periodic by definition
(``cosine_restarts``, ``cyclic``, ``step``, ``exponential``...), it holds its
final value after its last boundary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from . import base as v
from ._backend import Namespace
from .base import Schedule
from .durations import Duration

__all__ = [
    "constant",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "exponential",
    "inverse_power",
    "inverse_sqrt",
    "inverse_time",
    "linear",
    "multistep",
    "noam",
    "one_cycle",
    "piecewise_constant",
    "piecewise_interpolate",
    "polynomial",
    "step",
    "tanh",
    "wsd",
]

_PI = math.pi


def _clip01(xp: Namespace, x: Any) -> Any:
    return xp.minimum(xp.maximum(x, 0.0), 1.0)


def _blend(high: float, low: float, w: Any) -> Any:
    """``high * w + low * (1 - w)``: exactly ``high`` at ``w = 1`` and ``low`` at ``w = 0``.

    The textbook ``low + (high - low) * w`` is off by a rounding at ``w = 1``
    (``0.01 + (0.001 - 0.01)`` is not ``0.001``), which would break the promise
    of exact values at boundaries.
    """
    return high * w + low * (1.0 - w)


def _keep_int(raw: Any, checked: float) -> float:
    return int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else checked


def _check_floor(floor: float, value: float, floor_name: str = "floor") -> None:
    if floor > value:
        raise ValueError(f"{floor_name} must be <= value ({value!r}), got {floor!r}")


class constant(Schedule):
    """``value`` at every step."""

    spec_name = "constant"

    def __init__(self, value: float) -> None:
        self._init(value=v.lr_value("value", value))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return t * 0.0 + self.value


class step(Schedule):
    """Decay by ``gamma`` every ``step_size`` steps (torch ``StepLR``).

    ``value * gamma ** floor(t / step_size)``.  The decay happens *at* the
    boundary: ``s(step_size - 1) = value``, ``s(step_size) = value * gamma``.
    Periodic, so it never stops decaying.
    """

    spec_name = "step"
    _duration_fields = frozenset({"step_size"})

    def __init__(self, value: float, step_size: Duration, gamma: float = 0.1) -> None:
        self._init(
            value=v.lr_value("value", value),
            step_size=v.duration("step_size", step_size, minimum=1),
            gamma=v.real("gamma", gamma, low=0.0, high=1.0),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return self.value * self.gamma ** xp.floor(t / self.step_size)


class multistep(Schedule):
    """Decay by ``gamma`` at each milestone (torch ``MultiStepLR``, the seed's decay).

    ``value * gamma ** bisect_right(milestones, t)``: the decay happens *at* the
    milestone, ``s(m - 1) = value * gamma**k``, ``s(m) = value * gamma**(k+1)``.
    Milestones must not decrease; a repeated milestone decays once per
    repetition, as in torch.  After the last milestone the value holds.
    """

    spec_name = "multistep"
    _duration_fields = frozenset({"milestones"})

    def __init__(self, value: float, milestones: Sequence[Duration], gamma: float = 0.1) -> None:
        self._init(
            value=v.lr_value("value", value),
            milestones=v.durations("milestones", milestones, strictly=False, nonempty=False),
            gamma=v.real("gamma", gamma, low=0.0, high=1.0),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if not self.milestones:
            return t * 0.0 + self.value
        # Look the levels up rather than raising gamma to the index: torch computes
        # ``float ** int_tensor`` in float32, and a table is the same on every backend.
        levels = [self.value * self.gamma**k for k in range(len(self.milestones) + 1)]
        return xp.take(levels, xp.searchsorted_right(self.milestones, t), like=t)


class piecewise_constant(Schedule):
    """``values[i]`` on the i-th interval between ``boundaries``.

    With ``at_boundary="next"`` (default, like torch and optax) the new value
    starts *at* the boundary: ``s(b - 1) = values[i]``, ``s(b) = values[i+1]``.
    With ``at_boundary="previous"`` (Keras' ``PiecewiseConstantDecay``) it starts
    one step later: ``s(b) = values[i]``, ``s(b + 1) = values[i+1]``.
    After the last boundary, ``values[-1]``.
    """

    spec_name = "piecewise_constant"
    _positional = 2
    _duration_fields = frozenset({"boundaries"})

    def __init__(self, boundaries: Sequence[Duration], values: Sequence[float], at_boundary: str = "next") -> None:
        bounds = v.durations("boundaries", boundaries)
        vals = v.lr_values("values", values)
        if len(vals) != len(bounds) + 1:
            raise ValueError(
                f"values must have one more entry than boundaries ({len(bounds)} boundaries), got {list(vals)}"
            )
        self._init(
            boundaries=bounds, values=vals, at_boundary=v.choice("at_boundary", at_boundary, ("next", "previous"))
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if self.at_boundary == "next":
            index = xp.searchsorted_right(self.boundaries, t)
        else:
            index = xp.searchsorted_left(self.boundaries, t)
        return xp.take(self.values, index, like=t)


class piecewise_interpolate(Schedule):
    """Interpolate between the points ``(boundaries[i], values[i])``.

    ``method="linear"`` (optax's ``piecewise_interpolate``) or ``"cosine"``
    (half-cosine from one value to the next).  Exact at every boundary:
    ``s(boundaries[i]) = values[i]``.  Before the first point ``values[0]``,
    after the last ``values[-1]``.
    """

    spec_name = "piecewise_interpolate"
    _positional = 2
    _duration_fields = frozenset({"boundaries"})

    def __init__(self, boundaries: Sequence[Duration], values: Sequence[float], method: str = "linear") -> None:
        bounds = v.durations("boundaries", boundaries)
        vals = v.lr_values("values", values)
        if len(vals) != len(bounds):
            raise ValueError(f"values must have as many entries as boundaries ({len(bounds)}), got {list(vals)}")
        self._init(boundaries=bounds, values=vals, method=v.choice("method", method, ("linear", "cosine")))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        n = len(self.boundaries)
        if n == 1:
            return t * 0.0 + self.values[0]
        index = xp.searchsorted_right(self.boundaries, t)
        index = xp.minimum(xp.maximum(index, 1), n - 1)
        left_b = xp.take(self.boundaries, index - 1, like=t)
        right_b = xp.take(self.boundaries, index, like=t)
        left_v = xp.take(self.values, index - 1, like=t)
        right_v = xp.take(self.values, index, like=t)
        frac = _clip01(xp, (t - left_b) / (right_b - left_b))
        if self.method == "linear":
            return left_v + (right_v - left_v) * frac
        return right_v + (left_v - right_v) * 0.5 * (1.0 + xp.cos(_PI * frac))


class linear(Schedule):
    """Linear ramp from ``start`` to ``end`` over ``steps``, beginning at ``begin``.

    ``start`` for ``t <= begin``; ``start + (end - start) * (t - begin) / steps``
    in between; ``end`` from ``t = begin + steps`` on (optax ``linear_schedule``).
    """

    spec_name = "linear"
    _positional = 2
    _duration_fields = frozenset({"steps", "begin"})

    def __init__(self, start: float, end: float, steps: Duration, begin: Duration = 0) -> None:
        self._init(
            start=v.lr_value("start", start),
            end=v.lr_value("end", end),
            steps=v.duration("steps", steps, minimum=1),
            begin=v.duration("begin", begin),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        frac = _clip01(xp, (t - self.begin) / self.steps)
        return self.start + (self.end - self.start) * frac


class exponential(Schedule):
    """Exponential decay (Keras ``ExponentialDecay``, optax ``exponential_decay``).

    ``max(floor, value * decay_rate ** p)`` with ``p = max(t - begin, 0) / decay_steps``,
    floored to an integer when ``staircase``.  ``s(t) = value`` for
    ``t <= begin``; with ``staircase`` the drops happen at
    ``begin + k * decay_steps``.  Keeps decaying until it reaches ``floor``.
    ``decay_rate`` must be in ``(0, 1]`` (use ``warmup(method="exponential")``
    for growth).
    """

    spec_name = "exponential"
    _positional = 3
    _duration_fields = frozenset({"decay_steps", "begin"})

    def __init__(
        self,
        value: float,
        decay_steps: Duration,
        decay_rate: float,
        staircase: bool = False,
        begin: Duration = 0,
        floor: float = 0.0,
    ) -> None:
        value = v.lr_value("value", value)
        floor = v.lr_value("floor", floor)
        _check_floor(floor, value)
        self._init(
            value=value,
            decay_steps=v.duration("decay_steps", decay_steps, minimum=1),
            decay_rate=v.real("decay_rate", decay_rate, low=0.0, high=1.0, low_open=True),
            staircase=v.flag("staircase", staircase),
            begin=v.duration("begin", begin),
            floor=floor,
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        p = xp.maximum(t - self.begin, 0.0) / self.decay_steps
        if self.staircase:
            p = xp.floor(p)
        return xp.maximum(self.value * self.decay_rate**p, self.floor)


class inverse_time(Schedule):
    """Inverse-time decay (Keras ``InverseTimeDecay``), optionally to a power.

    ``value / (1 + decay_rate * p) ** power`` with ``p = t / decay_steps``
    (floored when ``staircase``).  ``s(0) = value``; decays forever.
    ``power=0.5`` with ``decay_rate=1`` is the "rsqrt with a timescale" decay
    ``value / sqrt(1 + t / decay_steps)`` (HF's ``get_inverse_sqrt_schedule``,
    T5-style), which unlike ``inverse_sqrt`` does not hold before decaying.
    """

    spec_name = "inverse_time"
    _positional = 3
    _duration_fields = frozenset({"decay_steps"})

    def __init__(
        self, value: float, decay_steps: Duration, decay_rate: float, staircase: bool = False, power: float = 1.0
    ) -> None:
        self._init(
            value=v.lr_value("value", value),
            decay_steps=v.duration("decay_steps", decay_steps, minimum=1),
            decay_rate=v.real("decay_rate", decay_rate, low=0.0),
            staircase=v.flag("staircase", staircase),
            power=v.real("power", power, low=0.0),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        p = t / self.decay_steps
        if self.staircase:
            p = xp.floor(p)
        denominator = 1.0 + self.decay_rate * p
        if self.power == 1.0:
            return self.value / denominator
        if self.power == 0.5:
            return self.value / xp.sqrt(denominator)
        # (1 / d) ** power, not d ** -power: a base <= 1 can only underflow to 0, never overflow.
        return self.value * (1.0 / denominator) ** self.power


class inverse_power(Schedule):
    """Hold, then decay as a power of ``1/t``.

    ``value`` for ``t < steps``; ``value * (steps / t) ** power`` from
    ``t = steps`` on (continuous there: ``s(steps) = value``).  With
    ``power=1`` and a warmup of ``steps`` this is the seed's custom Keras
    schedule; with ``power=0.5`` it is ``inverse_sqrt``.
    """

    spec_name = "inverse_power"
    _duration_fields = frozenset({"steps"})

    def __init__(self, value: float, steps: Duration, power: float = 1.0) -> None:
        self._init(
            value=v.lr_value("value", value),
            steps=v.duration("steps", steps, minimum=1),
            power=v.real("power", power, low=0.0),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return self.value * (self.steps / xp.maximum(t, self.steps)) ** self.power


class inverse_sqrt(Schedule):
    """Hold, then decay as ``1/sqrt(t)`` (fairseq/T5-style ``inverse_sqrt``).

    ``value`` for ``t < steps``; ``value * sqrt(steps / t)`` from ``t = steps``.
    Wrap it in ``warmup(..., steps=steps)`` for fairseq's schedule.
    """

    spec_name = "inverse_sqrt"
    _duration_fields = frozenset({"steps"})

    def __init__(self, value: float, steps: Duration) -> None:
        self._init(value=v.lr_value("value", value), steps=v.duration("steps", steps, minimum=1))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return self.value * xp.sqrt(self.steps / xp.maximum(t, self.steps))


class polynomial(Schedule):
    """Polynomial decay (Keras ``PolynomialDecay``).

    ``(value - end_value) * (1 - p) ** power + end_value`` with
    ``p = min(t, decay_steps) / decay_steps``: ``s(0) = value``,
    ``s(decay_steps) = end_value``, held after.  With ``cycle=True`` the
    horizon becomes ``decay_steps * ceil(t / decay_steps)`` (1 at ``t = 0``), so
    ``s(k * decay_steps) = end_value`` and the next step jumps back up (Keras'
    definition).
    """

    spec_name = "polynomial"
    _duration_fields = frozenset({"decay_steps"})

    def __init__(
        self, value: float, decay_steps: Duration, end_value: float = 0.0, power: float = 1.0, cycle: bool = False
    ) -> None:
        self._init(
            value=v.lr_value("value", value),
            decay_steps=v.duration("decay_steps", decay_steps, minimum=1),
            end_value=v.lr_value("end_value", end_value),
            power=v.real("power", power, low=0.0),
            cycle=v.flag("cycle", cycle),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if self.cycle:
            horizon = self.decay_steps * xp.maximum(xp.ceil(t / self.decay_steps), 1.0)
            p = t / horizon
        else:
            p = xp.minimum(t, float(self.decay_steps)) / self.decay_steps
        w = (1.0 - p) ** self.power
        return _blend(self.value, self.end_value, w)


class cosine(Schedule):
    """Cosine decay from ``value`` to ``floor`` over ``steps``.

    ``floor + (value - floor) * c ** exponent`` with
    ``c = (1 + cos(2π · cycles · p)) / 2`` and ``p = min(t, steps) / steps``.
    Default ``cycles=0.5`` is the half cosine: ``s(0) = value``,
    ``s(steps) = floor``, held after (torch ``CosineAnnealingLR`` with
    ``T_max=steps`` up to ``steps``; optax ``cosine_decay_schedule``; HF's
    ``num_cycles``).  ``exponent`` is optax's.

    ``periodic=True`` drops the clamp, ``p = t / steps``: the cosine keeps
    oscillating after ``steps`` instead of holding (with ``cycles=0.5`` it
    rises back to ``value`` at ``2 * steps``), as HF's
    ``get_cosine_schedule_with_warmup`` does past ``num_training_steps``.
    """

    spec_name = "cosine"
    _duration_fields = frozenset({"steps"})

    def __init__(
        self,
        value: float,
        steps: Duration,
        floor: float = 0.0,
        exponent: float = 1.0,
        cycles: float = 0.5,
        periodic: bool = False,
    ) -> None:
        value = v.lr_value("value", value)
        floor = v.lr_value("floor", floor)
        _check_floor(floor, value)
        self._init(
            value=value,
            steps=v.duration("steps", steps, minimum=1),
            floor=floor,
            exponent=v.real("exponent", exponent, low=0.0, low_open=True),
            cycles=v.real("cycles", cycles, low=0.0, low_open=True),
            periodic=v.flag("periodic", periodic),
        )

    def _derive(self) -> None:
        object.__setattr__(self, "_angle", 2.0 * _PI * self.cycles)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        p = (t if self.periodic else xp.minimum(t, self.steps)) / self.steps
        c = 0.5 * (1.0 + xp.cos(self._angle * p))
        if self.exponent != 1.0:
            c = c**self.exponent
        return self.value * c + self.floor * (1.0 - c)  # _blend, inlined: the training loop's hottest line


class cosine_restarts(Schedule):
    """SGDR: cosine decay restarted every period (Keras ``CosineDecayRestarts``, torch ``CosineAnnealingWarmRestarts``).

    Period ``i`` lasts ``period * t_mul ** i`` steps and starts at
    ``S_i = period * (t_mul ** i - 1) / (t_mul - 1)`` (``period * i`` when
    ``t_mul == 1``).  Within it, with ``x = (t - S_i) / (period * t_mul ** i)``:
    ``floor + (value - floor) * m_mul ** i * (1 + cos(π x)) / 2``.
    ``s(S_i) = floor + (value - floor) * m_mul ** i`` (the restart happens *at*
    ``S_i``); ``s(S_i - 1)`` is the last, lowest value of the previous period.
    Periodic by definition.  ``floor`` is not scaled by ``m_mul`` (Keras' rule).
    ``1 <= t_mul <= 1e6``.
    """

    spec_name = "cosine_restarts"
    _duration_fields = frozenset({"period"})

    def __init__(
        self, value: float, period: Duration, t_mul: float = 1.0, m_mul: float = 1.0, floor: float = 0.0
    ) -> None:
        value = v.lr_value("value", value)
        floor = v.lr_value("floor", floor)
        _check_floor(floor, value)
        self._init(
            value=value,
            period=v.duration("period", period, minimum=1),
            # Bounded so t_mul ** i stays a float for every finite step (Python raises OverflowError).
            t_mul=v.real("t_mul", t_mul, low=1.0, high=1e6),
            m_mul=v.real("m_mul", m_mul, low=0.0, high=1.0),
            floor=floor,
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        period, t_mul = float(self.period), self.t_mul
        if t_mul == 1.0:
            i = xp.floor(t / period)
            start = i * period
            length = period
        else:
            # The cap keeps the log finite for astronomically large steps.
            i = xp.floor(xp.log(1.0 + xp.minimum(t / period, 1e300 / (t_mul - 1.0)) * (t_mul - 1.0)) / math.log(t_mul))
            # The log can land a hair off at exact restarts: correct i with the
            # exact start of its period, computed in steps.
            start = period * (t_mul**i - 1.0) / (t_mul - 1.0)
            i = xp.where(start > t, i - 1.0, i)
            # The next start is start + length: never form t_mul ** (i + 1), which
            # overflows (OverflowError on Python floats) for a large t_mul.
            start = period * (t_mul**i - 1.0) / (t_mul - 1.0)
            i = xp.where(start + period * t_mul**i <= t, i + 1.0, i)
            start = period * (t_mul**i - 1.0) / (t_mul - 1.0)
            length = period * t_mul**i
        x = _clip01(xp, (t - start) / length)
        return _blend(self.value, self.floor, self.m_mul**i * 0.5 * (1.0 + xp.cos(_PI * x)))


class cyclic(Schedule):
    """Cyclical learning rate (torch ``CyclicLR``, Smith 2017).

    A triangle from ``low`` up to ``high`` over ``up_steps`` and back over
    ``down_steps`` (default ``up_steps``).  With ``C = up + down``,
    ``cycle = floor(1 + t / C)``, ``x = 1 + t / C - cycle``: scale is
    ``x / r`` while ``x <= r = up / C``, else ``(x - 1) / (r - 1)``, and
    ``s(t) = low + (high - low) * scale * amp`` with ``amp`` 1
    (``triangular``), ``0.5 ** (cycle - 1)`` (``triangular2``) or
    ``gamma ** t`` (``exp_range``).  ``s(0) = low``, ``s(up) = high * amp``,
    ``s(C) = low``.  Periodic by definition.
    """

    spec_name = "cyclic"
    _positional = 3
    _duration_fields = frozenset({"up_steps", "down_steps"})

    def __init__(
        self,
        low: float,
        high: float,
        up_steps: Duration,
        down_steps: Duration | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
    ) -> None:
        low = v.lr_value("low", low)
        high = v.lr_value("high", high)
        if high < low:
            raise ValueError(f"high must be >= low ({low!r}), got {high!r}")
        self._init(
            low=low,
            high=high,
            up_steps=v.duration("up_steps", up_steps, minimum=1),
            down_steps=None if down_steps is None else v.duration("down_steps", down_steps, minimum=1),
            mode=v.choice("mode", mode, ("triangular", "triangular2", "exp_range")),
            gamma=v.real("gamma", gamma, low=0.0, high=1.0, low_open=True),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        up = float(self.up_steps)
        down = up if self.down_steps is None else float(self.down_steps)
        total = up + down
        ratio = up / total
        cycle = xp.floor(1.0 + t / total)
        x = 1.0 + t / total - cycle
        scale = xp.where(x <= ratio, x / ratio, (x - 1.0) / (ratio - 1.0))
        if self.mode == "triangular":
            amp = 1.0
        elif self.mode == "triangular2":
            amp = 0.5 ** (cycle - 1.0)
        else:
            amp = self.gamma**t
        return self.low + (self.high - self.low) * scale * amp


class one_cycle(Schedule):
    """The 1cycle policy (torch ``OneCycleLR``, same phase arithmetic).

    Starts at ``initial = max_value / div_factor``, rises to ``max_value``, then
    falls to ``initial / final_div_factor``.  Phase ends (torch's floats):
    ``e1 = pct_start * total_steps - 1`` and ``total_steps - 1`` (two phases), or
    ``e1``, ``e2 = 2 * pct_start * total_steps - 2``, ``total_steps - 1`` with
    ``three_phase`` (the second phase returns to ``initial``).  Within a phase
    from ``a`` to ``b`` over ``[s, e]``: ``anneal(a, b, (t - s) / (e - s))``,
    cosine ``b + (a - b) * (1 + cos(π p)) / 2`` or linear ``a + (b - a) p``.
    ``s(0) = initial``, ``s(e1) = max_value``, ``s(total_steps - 1)`` is the
    minimum, held after (torch still evaluates ``t = total_steps``, its cosine
    rising past the minimum, and raises from ``total_steps + 1``).
    """

    spec_name = "one_cycle"
    _duration_fields = frozenset({"total_steps"})

    def __init__(
        self,
        max_value: float,
        total_steps: Duration,
        pct_start: float = 0.3,
        anneal: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        total = v.duration("total_steps", total_steps, minimum=2)
        pct = v.real("pct_start", pct_start, low=0.0, high=1.0, low_open=True, high_open=True)
        three = v.flag("three_phase", three_phase)
        if isinstance(total, int):
            ends = self._phase_ends(total, pct, three)
            starts = (0.0, *ends[:-1])
            if any(e <= s for s, e in zip(starts, ends, strict=False)):
                raise ValueError(
                    f"pct_start={pct!r} with total_steps={total!r} leaves a phase without steps "
                    f"(phase ends {list(ends)}); raise total_steps or move pct_start"
                )
        self._init(
            max_value=v.lr_value("max_value", max_value),
            total_steps=total,
            pct_start=pct,
            anneal=v.choice("anneal", anneal, ("cos", "linear")),
            div_factor=v.real("div_factor", div_factor, low=0.0, low_open=True),
            final_div_factor=v.real("final_div_factor", final_div_factor, low=0.0, low_open=True),
            three_phase=three,
        )

    @staticmethod
    def _phase_ends(total: int, pct: float, three: bool) -> tuple[float, ...]:
        e1 = float(pct * total) - 1
        if three:
            return (e1, float(2 * pct * total) - 2, float(total) - 1)
        return (e1, float(total) - 1)

    def _anneal(self, xp: Namespace, a: float, b: float, p: Any) -> Any:
        if self.anneal == "cos":
            return b + (a - b) / 2.0 * (xp.cos(_PI * p) + 1.0)
        return (b - a) * p + a

    def _eval(self, t: Any, xp: Namespace) -> Any:
        initial = self.max_value / self.div_factor
        minimum = initial / self.final_div_factor
        ends = self._phase_ends(self.total_steps, self.pct_start, self.three_phase)
        levels = (initial, self.max_value, initial, minimum) if self.three_phase else (initial, self.max_value, minimum)
        start = 0.0
        out = None
        for k in range(len(ends) - 1, -1, -1):
            start = 0.0 if k == 0 else ends[k - 1]
            p = _clip01(xp, (t - start) / (ends[k] - start))
            value = self._anneal(xp, levels[k], levels[k + 1], p)
            out = value if out is None else xp.where(t <= ends[k], value, out)
        return out


class noam(Schedule):
    """The Transformer ("Noam") schedule of the seed and Vaswani et al. 2017.

    ``scale * d_model ** -0.5 * min(t ** -0.5, t * warmup_steps ** -1.5)``:
    ``s(0) = 0``, linear rise to the peak ``scale * (d_model * warmup_steps) ** -0.5``
    at ``t = warmup_steps``, then ``∝ 1/sqrt(t)``.
    """

    spec_name = "noam"
    _duration_fields = frozenset({"warmup_steps"})

    def __init__(self, d_model: float, warmup_steps: Duration = 4000, scale: float = 1.0) -> None:
        self._init(
            # An int model width stays an int, so the spec reads noam(128), not noam(128.0).
            d_model=_keep_int(d_model, v.real("d_model", d_model, low=0.0, low_open=True)),
            warmup_steps=v.duration("warmup_steps", warmup_steps, minimum=1),
            scale=v.lr_value("scale", scale),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        w = float(self.warmup_steps)
        rising = t * w**-1.5
        falling = 1.0 / xp.sqrt(xp.maximum(t, w))
        return self.scale * self.d_model**-0.5 * xp.where(t < w, rising, falling)


class wsd(Schedule):
    """Warmup-stable-decay (a.k.a. trapezoid): ramp, hold, cool down.

    Linear warmup from ``start_factor * value`` to ``value`` over
    ``warmup_steps`` (``s(0) = start_factor * value``, ``s(warmup_steps) = value``),
    hold ``value`` for ``stable_steps``, then decay to ``floor`` over
    ``decay_steps`` with ``p`` the decay progress: ``linear`` ``1 - p``,
    ``cosine`` ``(1 + cos(π p)) / 2`` or ``1-sqrt`` ``1 - sqrt(p)``.
    The decay starts at ``D = warmup_steps + stable_steps``: ``s(D) = value``;
    ``s(D + decay_steps) = floor``, held after.
    """

    spec_name = "wsd"
    _duration_fields = frozenset({"warmup_steps", "stable_steps", "decay_steps"})

    def __init__(
        self,
        value: float,
        warmup_steps: Duration,
        stable_steps: Duration,
        decay_steps: Duration,
        decay: str = "linear",
        floor: float = 0.0,
        start_factor: float = 0.0,
    ) -> None:
        value = v.lr_value("value", value)
        floor = v.lr_value("floor", floor)
        _check_floor(floor, value)
        self._init(
            value=value,
            warmup_steps=v.duration("warmup_steps", warmup_steps),
            stable_steps=v.duration("stable_steps", stable_steps),
            decay_steps=v.duration("decay_steps", decay_steps, minimum=1),
            decay=v.choice("decay", decay, ("linear", "cosine", "1-sqrt")),
            floor=floor,
            start_factor=v.real("start_factor", start_factor, low=0.0, high=1.0),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        w = float(self.warmup_steps)
        decay_start = w + self.stable_steps
        ramp = self.start_factor + (1.0 - self.start_factor) * t / max(w, 1.0)
        p = _clip01(xp, (t - decay_start) / self.decay_steps)
        if self.decay == "linear":
            f = 1.0 - p
        elif self.decay == "cosine":
            f = 0.5 * (1.0 + xp.cos(_PI * p))
        else:
            f = 1.0 - xp.sqrt(p)
        decayed = _blend(self.value, self.floor, f)
        return xp.where(t < w, self.value * ramp, decayed)


class tanh(Schedule):
    """Hyperbolic-tangent decay (timm ``TanhLRScheduler``, Hsueh et al. 2019).

    ``floor + (value - floor) / 2 * (1 - tanh(lower * (1 - p) + upper * p))`` with
    ``p = min(t, steps) / steps``.  Note ``s(0)`` is ``value`` times
    ``(1 - tanh(lower)) / 2`` (0.99999917 for ``lower=-7``), not exactly
    ``value``; ``s(steps)`` is ``floor + (value - floor) * (1 - tanh(upper)) / 2``,
    held after.
    """

    spec_name = "tanh"
    _duration_fields = frozenset({"steps"})

    def __init__(
        self, value: float, steps: Duration, floor: float = 0.0, lower: float = -7.0, upper: float = 3.0
    ) -> None:
        value = v.lr_value("value", value)
        floor = v.lr_value("floor", floor)
        _check_floor(floor, value)
        lower = v.real("lower", lower)
        upper = v.real("upper", upper)
        if upper <= lower:
            raise ValueError(f"upper must be > lower ({lower!r}), got {upper!r}")
        self._init(value=value, steps=v.duration("steps", steps, minimum=1), floor=floor, lower=lower, upper=upper)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        p = xp.minimum(t, float(self.steps)) / self.steps
        return _blend(self.value, self.floor, 0.5 * (1.0 - xp.tanh(self.lower * (1.0 - p) + self.upper * p)))
