"""Composition: warmup around any schedule, joins, products, scaling, clipping.

The seed's FIXME wished ``WarmupMultiStepLR`` were "a combination of a warmup
scheduler and MultiStepLR".  Here it is exactly that::

    warmup(multistep(0.001, milestones=[...], gamma=0.5), steps=500, start_factor=1/3)
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

from . import base as v
from ._backend import SCALAR, Namespace
from .base import Schedule
from .durations import Duration

__all__ = ["WARMUP_METHODS", "clip", "join", "product", "scale", "warmup"]

WARMUP_METHODS = ("linear", "constant", "exponential", "cosine")


class warmup(Schedule):
    """Warm up any schedule over its first ``steps`` steps.

    With ``a = t / steps``, the warmup factor ``f(t)`` is:

    * ``linear``: ``start_factor * (1 - a) + a`` (the seed's, torch ``LinearLR``)
    * ``constant``: ``start_factor`` (the seed's ``"constant"``)
    * ``exponential``: ``start_factor ** (1 - a)`` (geometric; ``start_factor > 0``)
    * ``cosine``: ``start_factor + (1 - start_factor) * (1 - cos(π a)) / 2``

    Multiplicative form (default, the seed's): ``f(t) * schedule(t)`` for
    ``t < steps``, ``schedule(t)`` from ``t = steps`` on.  So ``s(0) =
    start_factor * schedule(0)``; ``s(steps - 1)`` is still warming (for
    ``constant``, still ``start_factor``); ``s(steps) = schedule(steps)``.

    Prefix form (``prefix=True``, like timm's ``warmup_prefix`` and optax's
    joins): the warmup ramps to ``schedule(0)`` and the schedule's clock starts
    after it: ``f(t) * schedule(0)`` for ``t < steps``, then
    ``schedule(t - steps)``, so ``s(steps) = schedule(0)``.

    ``steps=0`` means no warmup (``s = schedule``).
    """

    spec_name = "warmup"
    _duration_fields = frozenset({"steps"})

    def __init__(
        self,
        schedule: Schedule,
        steps: Duration,
        start_factor: float = 0.0,
        method: str = "linear",
        prefix: bool = False,
    ) -> None:
        method = v.choice("method", method, WARMUP_METHODS)
        start_factor = v.real("start_factor", start_factor, low=0.0, high=1.0)
        if method == "exponential" and start_factor == 0.0:
            raise ValueError(
                "start_factor must be > 0 for method='exponential' (a geometric ramp cannot start at 0), got 0.0"
            )
        self._init(
            schedule=v.schedule("schedule", schedule),
            steps=v.duration("steps", steps),
            start_factor=start_factor,
            method=method,
            prefix=v.flag("prefix", prefix),
        )

    def factor(self, t: Any, xp: Namespace = SCALAR) -> Any:
        """The warmup factor ``f(t)`` (1.0 from ``t = steps`` on)."""
        a = xp.minimum(t / max(float(self.steps), 1.0), 1.0)
        sf = self.start_factor
        if self.method == "linear":
            f = sf * (1.0 - a) + a
        elif self.method == "constant":
            f = xp.where(a < 1.0, sf, 1.0)
        elif self.method == "exponential":
            f = sf ** (1.0 - a)
        else:
            f = sf + (1.0 - sf) * 0.5 * (1.0 - xp.cos(math.pi * a))
        return f

    def _derive(self) -> None:
        object.__setattr__(self, "_w", float(self.steps))  # read on every training step

    def _eval(self, t: Any, xp: Namespace) -> Any:
        w = self._w
        inner = self.schedule
        if w == 0.0:
            return inner._eval(t, xp)
        if xp is SCALAR:  # one step: take the branch instead of computing both
            if t >= w:
                return inner._eval(t - w if self.prefix else t, xp)
            return self.factor(t, xp) * inner._eval(0.0 if self.prefix else t, xp)
        f = self.factor(t, xp)
        if not self.prefix:
            x = inner._eval(t, xp)
            return xp.where(t < w, f * x, x)
        # The target of a prefix warmup is the constant schedule(0): compute it once, as a float.
        target = inner._eval(0.0, SCALAR)
        return xp.where(t < w, f * target, inner._eval(xp.maximum(t - w, 0.0), xp))


class join(Schedule):
    """Run ``schedules`` one after another, switching at ``boundaries``.

    Piece ``i`` is active for ``boundaries[i-1] <= t < boundaries[i]`` and sees
    its own clock ``t - boundaries[i-1]`` (never a negative step), like optax's
    ``join_schedules`` and torch's ``SequentialLR``.  At a boundary ``b`` the
    next piece starts: ``s(b - 1)`` is the previous piece at its local step
    ``b - 1 - start``, ``s(b)`` is the next piece at 0.  The last piece runs
    forever.
    """

    spec_name = "join"
    _positional = 2
    _duration_fields = frozenset({"boundaries"})

    def __init__(self, schedules: Sequence[Schedule], boundaries: Sequence[Duration]) -> None:
        if isinstance(schedules, Schedule) or not isinstance(schedules, Sequence):
            raise TypeError(f"schedules must be a list of schedules, got {schedules!r}")
        pieces = tuple(v.schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules))
        if len(pieces) < 2:
            raise ValueError(f"schedules must hold at least 2 schedules to join, got {len(pieces)}")
        bounds = v.durations("boundaries", boundaries, minimum=1)
        if len(bounds) != len(pieces) - 1:
            raise ValueError(
                f"boundaries must have one entry fewer than schedules ({len(pieces)} schedules), got {list(bounds)}"
            )
        self._init(schedules=pieces, boundaries=bounds)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if xp is SCALAR:
            k = bisect.bisect_right(self.boundaries, t)
            return self.schedules[k]._eval(t - (self.boundaries[k - 1] if k else 0), xp)
        out = self.schedules[0]._eval(t, xp)
        for b, piece in zip(self.boundaries, self.schedules[1:], strict=False):
            out = xp.where(t >= b, piece._eval(xp.maximum(t - b, 0.0), xp), out)
        return out


class scale(Schedule):
    """``factor * schedule(t)`` (also written ``schedule * factor``)."""

    spec_name = "scale"
    _positional = 2

    def __init__(self, schedule: Schedule, factor: float) -> None:
        self._init(schedule=v.schedule("schedule", schedule), factor=v.lr_value("factor", factor))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return self.factor * self.schedule._eval(t, xp)


class product(Schedule):
    """The product of several schedules (also written ``a * b``)."""

    spec_name = "product"

    def __init__(self, schedules: Sequence[Schedule]) -> None:
        if isinstance(schedules, Schedule) or not isinstance(schedules, Sequence):
            raise TypeError(f"schedules must be a list of schedules, got {schedules!r}")
        pieces = tuple(v.schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules))
        if len(pieces) < 2:
            raise ValueError(f"schedules must hold at least 2 schedules to multiply, got {len(pieces)}")
        self._init(schedules=pieces)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        out = self.schedules[0]._eval(t, xp)
        for piece in self.schedules[1:]:
            out = out * piece._eval(t, xp)
        return out


class clip(Schedule):
    """``min(max(schedule(t), lower), upper)``; ``upper=None`` leaves it open."""

    spec_name = "clip"

    def __init__(self, schedule: Schedule, lower: float = 0.0, upper: float | None = None) -> None:
        lower = v.lr_value("lower", lower)
        if upper is not None:
            upper = v.lr_value("upper", upper)
            if upper < lower:
                raise ValueError(f"upper must be >= lower ({lower!r}), got {upper!r}")
        self._init(schedule=v.schedule("schedule", schedule), lower=lower, upper=upper)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        out = xp.maximum(self.schedule._eval(t, xp), self.lower)
        if self.upper is not None:
            out = xp.minimum(out, self.upper)
        return out
