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

from . import validators as v
from ._backend import SCALAR, Namespace
from .base import Schedule, every
from .durations import Duration
from .shapes import (
    DECAYS,
    INTERPOLATIONS,
    RAMPS,
    STEP_RAMPS,
    clamp01,
    cosine_weight,
    k_progress,
    lerp,
    power_weight_left,
    progress,
    progress0,
    radam_rectification,
    radam_rho,
    tanh_weight,
)

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
    "radam_warmup",
    "ramp",
    "step",
    "tanh",
    "wsd",
]

_PI = math.pi
#: restart events listed per ``cosine_restarts`` node (the periodic-event cap of :mod:`lrkit.base`).
MAX_RESTART_EVENTS = 64
#: ``cosine_restarts(t_mul != 1)`` tabulates its periods up to this many (those starting within int32 steps).
MAX_TABLE_PERIODS = 4096
INT32_STEPS = 2**31 - 1
_NO_EVENTS: tuple[tuple[float, str], ...] = ()


def _open_length(name: str, value: Any, minimum: int = 1) -> Duration | None:
    """A length that may be omitted (``None``: until the end of training, filled by ``resolve``)."""
    return None if value is None else v.duration(name, value, minimum=minimum)


def _keep_int(raw: Any, checked: float) -> float:
    return int(raw) if isinstance(raw, int) and not isinstance(raw, bool) else checked


def _check_floor(floor: float, value: float, floor_name: str = "floor") -> None:
    if floor > value:
        raise ValueError(f"{floor_name} must be <= value ({value!r}), got {floor!r}")


def _k(k: Any) -> float:
    """timm's k-decay exponent, ``> 0`` (validated; see :func:`lrkit.shapes.k_progress`)."""
    return v.real("k", k, low=0.0, low_open=True)


def _without_default_k(out: dict[str, Any], k: float) -> dict[str, Any]:
    # k = 1 is the plain decay: its mapping stays what it was before k existed (saved configs,
    # Keras get_config), as repr omits defaults.
    if k == 1.0:
        out.pop("k", None)
    return out


class constant(Schedule):
    """``value`` at every step.

    Args:
        value: the learning rate (finite, ``>= 0``).
    """

    spec_name = "constant"

    def __init__(self, value: float) -> None:
        self._init(value=v.lr_value("value", value))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return t * 0.0 + self.value

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS


class step(Schedule):
    """Decay by ``gamma`` every ``step_size`` steps (torch ``StepLR``).

    ``value * gamma ** floor(t / step_size)``.  The decay happens *at* the
    boundary: ``s(step_size - 1) = value``, ``s(step_size) = value * gamma``.
    Periodic, so it never stops decaying.

    Args:
        value: the initial learning rate.
        step_size: steps between two decays (``>= 1``).
        gamma: the factor applied at each decay, in ``[0, 1]``.
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
        return self.value * xp.power(self.gamma, xp.floor_div(t, self.step_size))

    def phase_events(self, horizon: float) -> Any:
        return every(self.step_size, self.step_size, horizon, "drop")


class multistep(Schedule):
    """Decay by ``gamma`` at each milestone (torch ``MultiStepLR``, the seed's decay).

    ``value * gamma ** bisect_right(milestones, t)``: the decay happens *at* the
    milestone, ``s(m - 1) = value * gamma**k``, ``s(m) = value * gamma**(k+1)``.
    Milestones must not decrease; a repeated milestone decays once per
    repetition, as in torch.  After the last milestone the value holds.
    Scalar evaluation is a binary search over a precomputed table of levels:
    O(log milestones).

    Args:
        value: the learning rate before the first milestone.
        milestones: steps (or durations such as ``'10ep'``) where the decays happen, non-decreasing.
        gamma: the factor applied at each milestone, in ``[0, 1]``.
    """

    spec_name = "multistep"
    _duration_fields = frozenset({"milestones"})

    def __init__(self, value: float, milestones: Sequence[Duration], gamma: float = 0.1) -> None:
        self._init(
            value=v.lr_value("value", value),
            milestones=v.durations("milestones", milestones, strictly=False, nonempty=False),
            gamma=v.real("gamma", gamma, low=0.0, high=1.0),
        )

    def _derive(self) -> None:
        # Look the levels up rather than raising gamma to the index: torch computes
        # ``float ** int_tensor`` in float32, and a table is the same on every backend.
        levels = tuple(self.value * self.gamma**k for k in range(len(self.milestones) + 1))
        object.__setattr__(self, "_levels", levels)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if not self.milestones:
            return t * 0.0 + self.value
        return xp.take(self._levels, xp.searchsorted_right(self.milestones, t), like=t)

    def phase_events(self, horizon: float) -> Any:
        return [(float(m), "milestone") for m in self.milestones]


class piecewise_constant(Schedule):
    """``values[i]`` on the i-th interval between ``boundaries``.

    With ``at_boundary="next"`` (default, like torch and optax) the new value
    starts *at* the boundary: ``s(b - 1) = values[i]``, ``s(b) = values[i+1]``.
    With ``at_boundary="previous"`` (Keras' ``PiecewiseConstantDecay``) it starts
    one step later: ``s(b) = values[i]``, ``s(b + 1) = values[i+1]``.
    After the last boundary, ``values[-1]``.

    Args:
        boundaries: strictly increasing steps where the value changes.
        values: one more value than boundaries.
        at_boundary: ``"next"`` (the new value starts at the boundary) or
            ``"previous"`` (Keras: the old value holds at the boundary).
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

    def _derive(self) -> None:
        # The first whole step of each new value: Keras' "previous" rule keeps the old value at b.
        shift = 0 if self.at_boundary == "next" else 1
        object.__setattr__(self, "_first_steps", tuple(b + shift for b in self.boundaries))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if self.at_boundary == "next":
            index = xp.searchsorted_right(self.boundaries, t)
        else:
            index = xp.searchsorted_left(self.boundaries, t)
        return xp.take(self.values, index, like=t)

    def phase_events(self, horizon: float) -> Any:
        return [(float(b), "boundary") for b in self._first_steps]


class piecewise_interpolate(Schedule):
    """Interpolate between the points ``(boundaries[i], values[i])``.

    ``method="linear"`` (optax's ``piecewise_interpolate``) or ``"cosine"``
    (half-cosine from one value to the next): between ``b[i-1]`` and ``b[i]``,
    ``INTERPOLATIONS[method](values[i-1], values[i], p)`` with ``p`` the
    progress through the interval (:mod:`lrkit.shapes`).  Exact at every boundary: ``s(boundaries[i]) = values[i]``.
    Before the first point ``values[0]``, after the last ``values[-1]``.

    Args:
        boundaries: strictly increasing steps of the points.
        values: the value at each point (as many as boundaries).
        method: ``"linear"`` or ``"cosine"``.
    """

    spec_name = "piecewise_interpolate"
    _positional = 2
    _duration_fields = frozenset({"boundaries"})

    def __init__(self, boundaries: Sequence[Duration], values: Sequence[float], method: str = "linear") -> None:
        bounds = v.durations("boundaries", boundaries)
        vals = v.lr_values("values", values)
        if len(vals) != len(bounds):
            raise ValueError(f"values must have as many entries as boundaries ({len(bounds)}), got {list(vals)}")
        self._init(boundaries=bounds, values=vals, method=v.choice("method", method, tuple(INTERPOLATIONS)))

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
        p = clamp01((t - left_b) / (right_b - left_b), xp)
        return INTERPOLATIONS[self.method](left_v, right_v, p, xp)

    def phase_events(self, horizon: float) -> Any:
        return [(float(b), "knot") for b in self.boundaries]


class linear(Schedule):
    """Linear ramp from ``start`` to ``end`` over ``steps``, beginning at ``begin``.

    ``lerp(start, end, p)`` with ``p = clamp01((t - begin) / steps)``:
    exactly ``start`` for ``t <= begin``, exactly ``end`` from
    ``t = begin + steps`` on (optax ``linear_schedule``; torch ``LinearLR``
    as factors).

    Args:
        start: the value up to ``begin``.
        end: the value from ``begin + steps`` on (above ``start`` for a ramp, below for a decay).
        steps: length of the ramp (``>= 1``); omitted: until the end of training, after ``begin``.
        begin: step where the ramp starts.
    """

    spec_name = "linear"
    _positional = 2
    _duration_fields = frozenset({"steps", "begin"})
    _open_ended_fields = frozenset({"steps"})

    def __init__(self, start: float, end: float, steps: Duration | None = None, begin: Duration = 0) -> None:
        self._init(
            start=v.lr_value("start", start),
            end=v.lr_value("end", end),
            steps=_open_length("steps", steps),
            begin=v.duration("begin", begin),
        )

    def _eval(self, t: Any, xp: Namespace) -> Any:
        # Durations as floats: JAX reads a Python int >= 2**31 as an overflowing int32.
        steps = float(self.steps)
        p = progress0(t, steps, xp) if self.begin == 0 else progress(t, steps, xp, float(self.begin))
        return lerp(self.start, self.end, p)

    def phase_events(self, horizon: float) -> Any:
        what = "decay" if self.end < self.start else "ramp"
        if self.begin > 0:
            yield float(self.begin), f"{what} start"
        yield float(self.begin + self.steps), f"{what} end"


class exponential(Schedule):
    """Exponential decay (Keras ``ExponentialDecay``, optax ``exponential_decay``).

    ``max(floor, value * decay_rate ** p)`` with ``p = max(t - begin, 0) / decay_steps``,
    floored to an integer when ``staircase``.  ``s(t) = value`` for
    ``t <= begin``; with ``staircase`` the drops happen at
    ``begin + k * decay_steps``.  Keeps decaying until it reaches ``floor``.
    ``decay_rate`` must be in ``(0, 1]`` (use ``warmup(method="exponential")``
    for growth).

    Args:
        value: the learning rate up to ``begin``.
        decay_steps: steps over which the rate is multiplied by ``decay_rate``.
        decay_rate: the factor per ``decay_steps``, in ``(0, 1]``.
        staircase: decay in whole steps of ``decay_steps`` (``p`` floored).
        begin: step where the decay starts (optax's ``transition_begin``).
        floor: the lowest value (optax's ``end_value``), ``<= value``.
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

    def _derive(self) -> None:
        # The first step at the floor, solved from value * rate ** ((t - begin) / decay_steps) == floor.
        floor_step = None
        if 0.0 < self.floor < self.value and self.decay_rate < 1.0:
            k = math.log(self.floor / self.value) / math.log(self.decay_rate)
            if self.staircase:
                k = math.ceil(k)
            floor_step = math.ceil(self.begin + k * self.decay_steps)
        object.__setattr__(self, "_floor_step", floor_step)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        # floor_div/power: exact whole periods and no float32 rounding of decay_rate raised to p under jax.
        # Steps are >= 0, so with begin == 0 the shift and its clamp are the identity, and with
        # floor == 0 so is the final maximum (the value is >= 0): skipping them saves three array passes.
        shifted = xp.maximum(t - float(self.begin), 0.0) if self.begin else t
        p = xp.floor_div(shifted, self.decay_steps) if self.staircase else shifted / float(self.decay_steps)
        decayed = self.value * xp.power(self.decay_rate, p)
        return xp.maximum(decayed, self.floor) if self.floor else decayed

    def phase_events(self, horizon: float) -> Any:
        if self.begin > 0:
            yield float(self.begin), "decay start"
        if self.staircase:
            yield from every(self.begin + self.decay_steps, self.decay_steps, horizon, "drop")
        if self._floor_step is not None:
            yield float(self._floor_step), "decay end"


class inverse_time(Schedule):
    """Inverse-time decay (Keras ``InverseTimeDecay``), optionally to a power.

    ``value / (1 + decay_rate * p) ** power`` with ``p = t / decay_steps``
    (floored when ``staircase``).  ``s(0) = value``; decays forever.
    ``power=0.5`` with ``decay_rate=1`` is the "rsqrt with a timescale" decay
    ``value / sqrt(1 + t / decay_steps)`` (HF's ``get_inverse_sqrt_schedule``,
    T5-style), which unlike ``inverse_sqrt`` does not hold before decaying.

    Args:
        value: the learning rate at step 0.
        decay_steps: the time scale of the decay.
        decay_rate: how fast it decays (``>= 0``).
        staircase: floor ``p`` to whole periods.
        power: the exponent of the denominator (``>= 0``).
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
        p = xp.floor_div(t, self.decay_steps) if self.staircase else t / float(self.decay_steps)
        denominator = 1.0 + self.decay_rate * p
        if self.power == 1.0:
            return self.value / denominator
        if self.power == 0.5:
            return self.value / xp.sqrt(denominator)
        # (1 / d) ** power, not d ** -power: a base <= 1 can only underflow to 0, never overflow.
        return self.value * (1.0 / denominator) ** self.power

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS  # decays from step 0 on, without a phase change


class inverse_power(Schedule):
    """Hold, then decay as a power of ``1/t``.

    ``value`` for ``t < steps``; ``value * (steps / t) ** power`` from
    ``t = steps`` on (continuous there: ``s(steps) = value``).  With
    ``power=1`` and a warmup of ``steps`` this is the seed's custom Keras
    schedule; with ``power=0.5`` it is ``inverse_sqrt``.

    Args:
        value: the learning rate held up to ``steps``.
        steps: the step where the decay starts (``>= 1``).
        power: the exponent of the decay (``>= 0``).
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
        steps = float(self.steps)  # a float: JAX reads a Python int >= 2**31 as an overflowing int32
        return self.value * (steps / xp.maximum(t, steps)) ** self.power

    def phase_events(self, horizon: float) -> Any:
        return [(float(self.steps), "decay start")]


class inverse_sqrt(Schedule):
    """Hold, then decay as ``1/sqrt(t)`` (fairseq/T5-style ``inverse_sqrt``).

    ``value`` for ``t < steps``; ``value * sqrt(steps / t)`` from ``t = steps``.
    Wrap it in ``warmup(..., steps=steps, prefix=False)`` for fairseq's schedule.

    Args:
        value: the learning rate held up to ``steps``.
        steps: the step where the decay starts (``>= 1``).

    References:
        Vaswani et al., 2017, "Attention Is All You Need" (https://arxiv.org/abs/1706.03762);
        fairseq's ``inverse_sqrt`` scheduler.
    """

    spec_name = "inverse_sqrt"
    _duration_fields = frozenset({"steps"})

    def __init__(self, value: float, steps: Duration) -> None:
        self._init(value=v.lr_value("value", value), steps=v.duration("steps", steps, minimum=1))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        steps = float(self.steps)  # a float: JAX reads a Python int >= 2**31 as an overflowing int32
        return self.value * xp.sqrt(steps / xp.maximum(t, steps))

    def phase_events(self, horizon: float) -> Any:
        return [(float(self.steps), "decay start")]


class polynomial(Schedule):
    """Polynomial decay (Keras ``PolynomialDecay``).

    ``(value - end_value) * (1 - p ** k) ** power + end_value`` with
    ``p = min(t, decay_steps) / decay_steps``: ``s(0) = value``,
    ``s(decay_steps) = end_value``, held after.  With ``cycle=True`` the
    horizon becomes ``decay_steps * ceil(t / decay_steps)`` (1 at ``t = 0``), so
    ``s(n * decay_steps) = end_value`` and the next step jumps back up (Keras'
    definition).  ``k`` is timm's k-decay (``1 - t**k / T**k``; ``k = 1``: the plain decay).

    Args:
        value: the learning rate at step 0.
        decay_steps: length of the decay (``>= 1``); omitted: until the end of training.
        end_value: the value reached at ``decay_steps``.
        power: the exponent (``1`` is linear).
        cycle: restart the decay every ``decay_steps`` (Keras' ``cycle=True``).
        k: decay on ``p ** k`` (timm's ``k_decay``, Zhang et al. 2020), ``> 0``.
    """

    spec_name = "polynomial"
    _duration_fields = frozenset({"decay_steps"})
    _open_ended_fields = frozenset({"decay_steps"})

    def __init__(
        self,
        value: float,
        decay_steps: Duration | None = None,
        end_value: float = 0.0,
        power: float = 1.0,
        cycle: bool = False,
        k: float = 1.0,
    ) -> None:
        self._init(
            value=v.lr_value("value", value),
            decay_steps=_open_length("decay_steps", decay_steps),
            end_value=v.lr_value("end_value", end_value),
            power=v.real("power", power, low=0.0),
            cycle=v.flag("cycle", cycle),
            k=_k(k),
        )

    def to_dict(self) -> dict[str, Any]:
        return _without_default_k(super().to_dict(), self.k)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if self.cycle:
            horizon = float(self.decay_steps) * xp.maximum(xp.ceil_div(t, self.decay_steps), 1.0)
            p = t / horizon
        else:
            p = progress0(t, float(self.decay_steps), xp)
        # clamp01: under jax.jit, XLA on CPU computes t / L as t * (1 / L) fused into 1 - p, which can
        # land a hair below 0 at p = 1, and a negative base to a fractional power is NaN.
        # xp.left: 1 - p ** k, from the whole steps left on exact-step backends (see power_weight_left).
        q = xp.left(t, float(self.decay_steps), k_progress(clamp01(p, xp), self.k), self.k, self.cycle)
        return lerp(self.end_value, self.value, power_weight_left(q, xp, self.power))

    def phase_events(self, horizon: float) -> Any:
        if self.cycle:
            return every(self.decay_steps, self.decay_steps, horizon, "restart")
        return [(float(self.decay_steps), "decay end")]


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

    ``k`` is timm's k-decay: the cosine runs on ``p ** k`` instead of ``p``
    (``floor + (value - floor) * (1 + cos(π t**k / T**k)) / 2``), still exactly
    ``value`` at 0 and ``floor`` at ``steps``; ``k != 1`` needs the half cosine
    (``cycles=0.5``, ``periodic=False``), the only form timm has.

    Args:
        value: the learning rate at step 0.
        steps: length of the decay (``>= 1``); omitted: until the end of training (see ``resolve``).
        floor: the value reached at ``steps`` (``<= value``).
        exponent: raise the cosine weight to this power (optax's ``exponent``).
        cycles: number of cosine periods over ``steps`` (0.5: a half cosine).
        periodic: keep oscillating after ``steps`` instead of holding.
        k: decay on ``p ** k`` (timm's ``k_decay``, Zhang et al. 2020), ``> 0``.

    References:
        Loshchilov & Hutter, 2016, "SGDR: Stochastic Gradient Descent with Warm Restarts"
        (https://arxiv.org/abs/1608.03983).
    """

    spec_name = "cosine"
    _duration_fields = frozenset({"steps"})
    _open_ended_fields = frozenset({"steps"})

    def __init__(
        self,
        value: float,
        steps: Duration | None = None,
        floor: float = 0.0,
        exponent: float = 1.0,
        cycles: float = 0.5,
        periodic: bool = False,
        k: float = 1.0,
    ) -> None:
        value = v.lr_value("value", value)
        floor = v.lr_value("floor", floor)
        _check_floor(floor, value)
        cycles = v.real("cycles", cycles, low=0.0, low_open=True)
        periodic = v.flag("periodic", periodic)
        k = _k(k)
        if k != 1.0 and (cycles != 0.5 or periodic):
            raise ValueError(
                f"k={k!r} (k-decay) needs the half cosine (cycles=0.5, periodic=False), "
                f"got cycles={cycles!r}, periodic={periodic!r}"
            )
        self._init(
            value=value,
            steps=_open_length("steps", steps),
            floor=floor,
            exponent=v.real("exponent", exponent, low=0.0, low_open=True),
            cycles=cycles,
            periodic=periodic,
            k=k,
        )

    def to_dict(self) -> dict[str, Any]:
        return _without_default_k(super().to_dict(), self.k)

    def _derive(self) -> None:
        object.__setattr__(self, "_angle", 2.0 * _PI * self.cycles)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        steps = float(self.steps)  # a float: JAX reads a Python int >= 2**31 as an overflowing int32
        x = t if self.periodic else xp.minimum(t, steps)  # min(t, steps) / steps is progress0
        if self.periodic or self.cycles != 0.5:
            # Whole cosine periods dropped, and the rest folded, where the backend would lose
            # precision (float32 jax); the same t elsewhere.
            x = xp.wrap_steps(x, steps / self.cycles, even=True)
        p = k_progress(x / steps, self.k)
        w = cosine_weight(p, xp, self._angle)
        if self.exponent != 1.0:
            w = w**self.exponent
        return lerp(self.floor, self.value, w)

    def phase_events(self, horizon: float) -> Any:
        return [(float(self.steps), "decay end")]


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

    Args:
        value: the learning rate at each restart of the first period.
        period: length of the first period (``>= 1``).
        t_mul: each period is ``t_mul`` times longer than the one before.
        m_mul: each restart peaks ``m_mul`` times lower than the one before.
        floor: the value approached at the end of every period.

    References:
        Loshchilov & Hutter, 2016, "SGDR: Stochastic Gradient Descent with Warm Restarts"
        (https://arxiv.org/abs/1608.03983).
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

    def _start(self, i: Any, xp: Namespace | None = None) -> Any:
        """``S_i``, the first step of period ``i`` (a float or an array of them)."""
        if self.t_mul == 1.0:
            return i * float(self.period)
        # xp.power: float32 jax raises float32's rounding of t_mul (6e-8) to the power i otherwise.
        grown = self.t_mul**i if xp is None else xp.power(self.t_mul, i)
        return float(self.period) * (grown - 1.0) / (self.t_mul - 1.0)

    def _length(self, i: Any, xp: Namespace | None = None) -> Any:
        """The length of period ``i``."""
        if self.t_mul == 1.0:
            return float(self.period)
        return float(self.period) * (self.t_mul**i if xp is None else xp.power(self.t_mul, i))

    def _derive(self) -> None:
        # The starts and lengths of the periods that begin within int32 steps, for backends that
        # look the period up in whole steps (float32 jax, where S_i and t_mul ** i would be rounded):
        # computed here in float64 by the same expressions as _eval, so both see the same boundaries.
        starts: list[float] = []
        lengths: list[float] = []
        if self.t_mul != 1.0:
            i = 0
            while len(starts) <= MAX_TABLE_PERIODS:
                start = self._start(float(i))
                if start > INT32_STEPS:
                    break
                starts.append(start)
                lengths.append(self._length(float(i)))
                i += 1
        # More periods than that (t_mul < 1.005 with a short period): the first MAX_TABLE_PERIODS, exact
        # up to the end of the last one (_table_end); the log formula takes over from there.
        end = None
        if len(starts) > MAX_TABLE_PERIODS:
            del starts[MAX_TABLE_PERIODS:], lengths[MAX_TABLE_PERIODS:]
            end = starts[-1] + lengths[-1]
        table = (tuple(starts), tuple(lengths)) if starts else None
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_table_end", end)

    def _damped(self, i: Any, w: Any, xp: Namespace) -> Any:
        """``m_mul ** i * w``; just ``w`` when ``m_mul == 1`` (``1.0 ** i * w == w`` exactly: one array pass fewer)."""
        return w if self.m_mul == 1.0 else xp.power(self.m_mul, i) * w

    def _eval(self, t: Any, xp: Namespace) -> Any:
        period, t_mul = float(self.period), self.t_mul
        if t_mul == 1.0:
            # The period index and the position in it in whole steps (exact on integer jax steps).
            i, r = xp.divmod_steps(t, period)
            return lerp(self.floor, self.value, self._damped(i, cosine_weight(clamp01(r / period, xp), xp), xp))
        found = None if self._table is None else xp.segments(t, *self._table)
        if found is not None:
            i, offset, length = found
            x = clamp01(offset / length, xp)
            tabulated = lerp(self.floor, self.value, self._damped(i, cosine_weight(x, xp), xp))
            if self._table_end is None:
                return tabulated
            return xp.where(t < self._table_end, tabulated, self._by_log(t, xp))
        return self._by_log(t, xp)

    def _by_log(self, t: Any, xp: Namespace) -> Any:
        """The period from ``log(1 + t (t_mul - 1) / period) / log(t_mul)``, corrected at the restarts."""
        period, t_mul = float(self.period), self.t_mul
        # The cap keeps the log finite for astronomically large steps.
        i = xp.floor(xp.log(1.0 + xp.minimum(t / period, 1e300 / (t_mul - 1.0)) * (t_mul - 1.0)) / math.log(t_mul))
        # The log can land a hair off at exact restarts: correct i with the
        # exact start of its period, computed in steps.
        i = xp.where(self._start(i, xp) > t, i - 1.0, i)
        # The next start is start + length: never form t_mul ** (i + 1), which
        # overflows (OverflowError on Python floats) for a large t_mul.
        i = xp.where(self._start(i, xp) + self._length(i, xp) <= t, i + 1.0, i)
        x = clamp01((t - self._start(i, xp)) / self._length(i, xp), xp)
        return lerp(self.floor, self.value, self._damped(i, cosine_weight(x, xp), xp))

    def phase_events(self, horizon: float) -> Any:
        for i in range(1, MAX_RESTART_EVENTS + 1):
            try:
                start = self._start(float(i))
            except OverflowError:  # t_mul ** i past the float range: no further restart is reachable
                return
            if start >= horizon:
                return
            yield start, "restart"


class cyclic(Schedule):
    """Cyclical learning rate (torch ``CyclicLR``, Smith 2017).

    A triangle from ``low`` up to ``high`` over ``up_steps`` and back over
    ``down_steps`` (default ``up_steps``).  With ``C = up + down``, the cycle
    index ``i = floor(t / C)`` and the position ``x = t - i * C`` (in steps):
    scale is ``x / up`` while ``x <= up``, else ``(C - x) / down``, and
    ``s(t) = lerp(low, high, scale * amp)`` with ``amp`` 1 (``triangular``),
    ``0.5 ** i`` (``triangular2``) or ``gamma ** t`` (``exp_range``); torch's
    ``CyclicLR`` up to a rounding.  ``s(0) = low``, ``s(up) = high * amp``,
    ``s(C) = low``, all exact.  Periodic by definition.

    Args:
        low: the value at the start of every cycle.
        high: the peak of the first cycle (``>= low``).
        up_steps: steps from ``low`` to the peak (``>= 1``).
        down_steps: steps from the peak back to ``low`` (default ``up_steps``).
        mode: ``"triangular"``, ``"triangular2"`` (amplitude halves every cycle) or ``"exp_range"``.
        gamma: the per-step amplitude factor of ``exp_range``, in ``(0, 1]``.

    References:
        Smith, 2017, "Cyclical Learning Rates for Training Neural Networks"
        (https://arxiv.org/abs/1506.01186).
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

    def _derive(self) -> None:
        up = float(self.up_steps)
        down = up if self.down_steps is None else float(self.down_steps)
        object.__setattr__(self, "_up", up)
        object.__setattr__(self, "_down", down)
        object.__setattr__(self, "_cycle", up + down)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        # The position in the cycle in steps (exact for whole steps), not torch's fraction
        # ``1 + t / C - cycle``, which misses the peak by a rounding when up != down.
        index, pos = xp.divmod_steps(t, self._cycle)
        scale = xp.where(pos <= self._up, pos / self._up, (self._cycle - pos) / self._down)
        if self.mode == "triangular":
            amp = 1.0
        elif self.mode == "triangular2":
            amp = 0.5**index
        else:
            amp = self.gamma**t
        return lerp(self.low, self.high, scale * amp)

    def phase_events(self, horizon: float) -> Any:
        yield from every(float(self.up_steps), self._cycle, horizon, "cycle peak")
        yield from every(self._cycle, self._cycle, horizon, "cycle start")


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

    Args:
        max_value: the peak learning rate.
        total_steps: the length of the cycle (``>= 2``); omitted: the whole run (see ``resolve``).
        pct_start: the share of the cycle spent rising, in ``(0, 1)``.
        anneal: ``"cos"`` or ``"linear"``.
        div_factor: ``initial = max_value / div_factor``.
        final_div_factor: the minimum is ``initial / final_div_factor``.
        three_phase: rise, fall back to ``initial``, then anneal to the minimum (fastai's variant).

    References:
        Smith & Topin, 2017, "Super-Convergence: Very Fast Training of Neural Networks Using
        Large Learning Rates" (https://arxiv.org/abs/1708.07120).
    """

    spec_name = "one_cycle"
    _duration_fields = frozenset({"total_steps"})
    _open_ended_fields = frozenset({"total_steps"})

    def __init__(
        self,
        max_value: float,
        total_steps: Duration | None = None,
        pct_start: float = 0.3,
        anneal: str = "cos",
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        total = _open_length("total_steps", total_steps, minimum=2)
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

    def _derive(self) -> None:
        initial = self.max_value / self.div_factor
        minimum = initial / self.final_div_factor
        ends = self._phase_ends(self.total_steps, self.pct_start, self.three_phase)
        levels = (initial, self.max_value, initial, minimum) if self.three_phase else (initial, self.max_value, minimum)
        # phase k runs from starts[k] to ends[k], from levels[k] to levels[k + 1]
        phases = tuple((0.0 if k == 0 else ends[k - 1], ends[k], levels[k], levels[k + 1]) for k in range(len(ends)))
        object.__setattr__(self, "_phases", phases)
        object.__setattr__(self, "_anneal", INTERPOLATIONS["cosine" if self.anneal == "cos" else "linear"])

    def _eval(self, t: Any, xp: Namespace) -> Any:
        anneal = self._anneal
        if xp.name == "python":  # one step: evaluate only its own phase
            phase = self._phases[-1]  # held after the last phase ends
            for candidate in self._phases:
                if t <= candidate[1]:
                    phase = candidate
                    break
            start, end, a, b = phase
            return anneal(a, b, clamp01((t - start) / (end - start), xp), xp)
        out = None
        for start, end, a, b in reversed(self._phases):
            value = anneal(a, b, clamp01((t - start) / (end - start), xp), xp)
            out = value if out is None else xp.where(t <= end, value, out)
        return out

    def phase_events(self, horizon: float) -> Any:
        kinds = ("warmup end", "phase end", "decay end") if self.three_phase else ("warmup end", "decay end")
        return [(end, kind) for (_, end, _, _), kind in zip(self._phases, kinds, strict=True)]


class noam(Schedule):
    """The Transformer ("Noam") schedule of the seed and Vaswani et al. 2017.

    ``scale * d_model ** -0.5 * min(t ** -0.5, t * warmup_steps ** -1.5)``:
    ``s(0) = 0``, linear rise to the peak ``scale * (d_model * warmup_steps) ** -0.5``
    at ``t = warmup_steps``, then ``∝ 1/sqrt(t)``.

    Args:
        d_model: the model width (> 0).
        warmup_steps: the step of the peak (``>= 1``).
        scale: a constant factor (Vaswani et al. use 1).

    References:
        Vaswani et al., 2017, "Attention Is All You Need", eq. 3 (https://arxiv.org/abs/1706.03762).
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

    def phase_events(self, horizon: float) -> Any:
        return [(float(self.warmup_steps), "warmup end")]


class wsd(Schedule):
    """Warmup-stable-decay (a.k.a. trapezoid): ramp, hold, cool down.

    Linear warmup from ``start_factor * value`` to ``value`` over
    ``warmup_steps`` (``s(0) = start_factor * value``, ``s(warmup_steps) = value``),
    hold ``value`` for ``stable_steps``, then decay to ``floor`` over
    ``decay_steps`` with ``p`` the decay progress: ``linear`` ``1 - p``,
    ``cosine`` ``(1 + cos(π p)) / 2`` or ``1-sqrt`` ``1 - sqrt(p)``.
    The decay starts at ``D = warmup_steps + stable_steps``: ``s(D) = value``;
    ``s(D + decay_steps) = floor``, held after.

    Args:
        value: the learning rate of the stable phase.
        warmup_steps: length of the linear warmup (0: none).
        stable_steps: length of the stable phase; omitted: what the run leaves after the warmup and the cooldown.
        decay_steps: length of the cooldown (``>= 1``); omitted: the rest of the run after the stable phase.
        decay: the cooldown shape, ``"linear"``, ``"cosine"``, ``"1-sqrt"`` or ``"exponential"``
            (``2 * 0.5 ** p - 1``, Megatron's) (:data:`lrkit.shapes.DECAYS`).
        floor: the value at the end of the cooldown.
        start_factor: the warmup starts at ``start_factor * value``.

    References:
        Hu et al., 2024, "MiniCPM" (https://arxiv.org/abs/2404.06395); Hägele et al., 2024,
        "Scaling Laws and Compute-Optimal Training Beyond Fixed Training Durations"
        (https://arxiv.org/abs/2405.18392), for the 1-sqrt cooldown.
    """

    spec_name = "wsd"
    _duration_fields = frozenset({"warmup_steps", "stable_steps", "decay_steps"})
    _open_ended_fields = frozenset({"stable_steps", "decay_steps"})

    def __init__(
        self,
        value: float,
        warmup_steps: Duration,
        stable_steps: Duration | None = None,
        decay_steps: Duration | None = None,
        decay: str = "linear",
        floor: float = 0.0,
        start_factor: float = 0.0,
    ) -> None:
        value = v.lr_value("value", value)
        floor = v.lr_value("floor", floor)
        _check_floor(floor, value)
        if stable_steps is None and decay_steps is None:
            raise TypeError(
                "wsd() needs stable_steps or decay_steps: one of them may be omitted, meaning "
                "'until the end of training' (e.g. wsd(3e-4, warmup_steps='1%', decay_steps='10%'))"
            )
        self._init(
            value=value,
            warmup_steps=v.duration("warmup_steps", warmup_steps),
            stable_steps=None if stable_steps is None else v.duration("stable_steps", stable_steps),
            decay_steps=_open_length("decay_steps", decay_steps),
            decay=v.choice("decay", decay, tuple(DECAYS)),
            floor=floor,
            start_factor=v.real("start_factor", start_factor, low=0.0, high=1.0),
        )

    def _fill_open_ended(
        self, params: dict[str, Any], missing: list[str], rest: int, start: int, total: int | None
    ) -> dict[str, Any]:
        # One of the two is omitted (checked at construction): it takes what the other phases leave.
        (name,) = missing
        other = params["decay_steps"] if name == "stable_steps" else params["stable_steps"]
        left = rest - params["warmup_steps"] - other
        minimum = 0 if name == "stable_steps" else 1
        if left < minimum:
            raise ValueError(
                f"wsd.{name} is omitted ('until the end of training'), but the warmup ({params['warmup_steps']}) and "
                f"the other phase ({other}) already take the {rest} steps left for this schedule"
            )
        return {**params, name: left}

    def _derive(self) -> None:
        object.__setattr__(self, "_decay_start", float(self.warmup_steps + self.stable_steps))
        object.__setattr__(self, "_weight", DECAYS[self.decay])

    def _eval(self, t: Any, xp: Namespace) -> Any:
        w = float(self.warmup_steps)
        ramp = RAMPS["linear"](progress0(t, max(w, 1.0), xp), xp, self.start_factor)
        p = progress(t, float(self.decay_steps), xp, self._decay_start)
        decayed = lerp(self.floor, self.value, self._weight(p, xp))
        return xp.where(t < w, self.value * ramp, decayed)

    def phase_events(self, horizon: float) -> Any:
        if self.warmup_steps > 0:
            yield float(self.warmup_steps), "warmup end"
        if self.stable_steps > 0:
            yield self._decay_start, "decay start"
        yield self._decay_start + self.decay_steps, "decay end"


class ramp(Schedule):
    """A ramp from ``start`` to ``end`` whose shape is a function of the step and a length.

    ``lerp(start, end, r(t, steps))`` with ``r`` from :data:`lrkit.shapes.STEP_RAMPS`:

    * ``"log"``: ``min(log(t + 1) / log(steps), 1)`` (DeepSpeed's ``WarmupLR(warmup_type="log")``):
      ``s(0) = start``, exactly ``end`` from ``t = steps - 1`` on; ``steps >= 2``.
    * ``"offset_linear"``: ``min((t + 1) / steps, 1)`` (pytorch_warmup's ``LinearWarmup``):
      ``s(0) = lerp(start, end, 1 / steps)``, exactly ``end`` from ``t = steps - 1`` on.
    * ``"exp_saturation"``: ``1 - exp(-(t + 1) / steps)`` (pytorch_warmup's
      ``ExponentialWarmup``): approaches ``end`` and never reaches it; ``steps`` is the time constant.

    Args:
        start: the value the ramp starts from.
        end: the value it rises (or falls) to.
        steps: its length (``log``, ``offset_linear``) or time constant (``exp_saturation``).
        shape: a key of :data:`lrkit.shapes.STEP_RAMPS`.
    """

    spec_name = "ramp"
    _positional = 2
    _duration_fields = frozenset({"steps"})

    def __init__(self, start: float, end: float, steps: Duration, shape: str = "log") -> None:
        shape = v.choice("shape", shape, tuple(STEP_RAMPS))
        self._init(
            start=v.lr_value("start", start),
            end=v.lr_value("end", end),
            steps=v.duration("steps", steps, minimum=2 if shape == "log" else 1),
            shape=shape,
        )

    def _derive(self) -> None:
        object.__setattr__(self, "_rise", STEP_RAMPS[self.shape])

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return lerp(self.start, self.end, self._rise(t, float(self.steps), xp))

    def phase_events(self, horizon: float) -> Any:
        if self.shape == "exp_saturation":
            return _NO_EVENTS  # it never ends
        return [(float(self.steps - 1), "ramp end")]


class tanh(Schedule):
    """Hyperbolic-tangent decay (timm ``TanhLRScheduler``, Hsueh et al. 2019).

    ``floor + (value - floor) / 2 * (1 - tanh(lower * (1 - p) + upper * p))`` with
    ``p = min(t, steps) / steps``.  Note ``s(0)`` is ``value`` times
    ``(1 - tanh(lower)) / 2`` (0.99999917 for ``lower=-7``), not exactly
    ``value``; ``s(steps)`` is ``floor + (value - floor) * (1 - tanh(upper)) / 2``,
    held after.

    Args:
        value: the learning rate the decay starts from (approximately).
        steps: length of the decay (``>= 1``); omitted: until the end of training.
        floor: the value approached at the end.
        lower, upper: the tanh's argument runs from ``lower`` to ``upper``.

    References:
        Hsueh et al., 2019, "Stochastic Gradient Descent with Hyperbolic-Tangent Decay on
        Classification" (https://arxiv.org/abs/1806.01593).
    """

    spec_name = "tanh"
    _duration_fields = frozenset({"steps"})
    _open_ended_fields = frozenset({"steps"})

    def __init__(
        self, value: float, steps: Duration | None = None, floor: float = 0.0, lower: float = -7.0, upper: float = 3.0
    ) -> None:
        value = v.lr_value("value", value)
        floor = v.lr_value("floor", floor)
        _check_floor(floor, value)
        lower = v.real("lower", lower)
        upper = v.real("upper", upper)
        if upper <= lower:
            raise ValueError(f"upper must be > lower ({lower!r}), got {upper!r}")
        self._init(value=value, steps=_open_length("steps", steps), floor=floor, lower=lower, upper=upper)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        p = progress0(t, float(self.steps), xp)
        return lerp(self.floor, self.value, tanh_weight(p, xp, self.lower, self.upper))

    def phase_events(self, horizon: float) -> Any:
        return [(float(self.steps), "decay end")]


class radam_warmup(Schedule):
    """RAdam's rectification as a warmup factor (pytorch_warmup's ``RAdamWarmup``, Ma & Yarats 2019).

    ``ω(t) = r(t + δ)`` with RAdam's variance rectification
    ``r(n) = sqrt((ρ_n - 4)(ρ_n - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρ_n))``,
    ``ρ_n = ρ∞ - 2 n β2^n / (1 - β2^n)``, ``ρ∞ = 2 / (1 - β2) - 1``
    (:func:`lrkit.shapes.radam_rectification`), and ``δ`` the smallest
    ``n >= 1`` with ``ρ_n > 4`` (where ``r`` is defined).  A factor
    (``is_multiplier``): multiply it onto a learning-rate schedule.  It
    rises from ``ω(0) = r(δ)`` (0.0173... for ``β2 = 0.999``, where ``δ = 5``) towards 1,
    which it reaches exactly once ``β2^(t + δ)`` underflows; no phase ends.

    Args:
        beta2: Adam's second-moment decay, in ``(0.6, 1)`` (``ρ∞ > 4``).

    References:
        Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and Beyond"
        (https://arxiv.org/abs/1908.03265); Ma & Yarats, 2019, "On the adequacy of untuned
        warmup for adaptive optimization" (https://arxiv.org/abs/1910.04209).
    """

    spec_name = "radam_warmup"

    def __init__(self, beta2: float = 0.999) -> None:
        self._init(beta2=v.real("beta2", beta2, low=0.6, high=1.0, low_open=True, high_open=True))

    def _derive(self) -> None:
        # δ: the first n with ρ_n > 4, counted as pytorch_warmup counts it (ρ_n rises to ρ∞ > 4, so this ends;
        # about 5 steps for β2 near 1, about 70 just above 0.6)
        offset = 1
        while not radam_rho(float(offset), SCALAR, self.beta2) > 4.0:
            offset += 1
        object.__setattr__(self, "_offset", float(offset))

    @property
    def is_multiplier(self) -> bool:
        return True

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return radam_rectification(t + self._offset, xp, self.beta2)

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS  # it approaches 1 and never ends
