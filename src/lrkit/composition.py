"""Composition: warmup around any schedule, joins, products, scaling, clipping.

The ``WarmupMultiStepLR`` lrkit grew from carried a FIXME wishing it were "a
combination of a warmup scheduler and MultiStepLR".  Here it is exactly that
(in the multiplicative form, since its milestones are fixed in training time)::

    warmup(multistep(0.001, milestones=[...], gamma=0.5), steps=500, start_factor=1/3, prefix=False)
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import validators as v
from ._backend import SCALAR, Namespace
from .base import Schedule
from .durations import Duration
from .shapes import RAMPS, STEP_RAMPS, clamp01, linear_interpolate, progress0

__all__ = ["WARMUP_METHODS", "clip", "join", "multiplier", "product", "remap", "scale", "shift", "staircase", "warmup"]

#: warmup methods whose rise is a function of the step and the length (:data:`lrkit.shapes.STEP_RAMPS`), not of
#: the progress alone: the factor is ``start_factor + (1 - start_factor) * rise(t, steps)``.
_STEP_METHODS = ("log",)
#: the warmup shapes, by ``warmup(method=...)`` (see :data:`lrkit.shapes.RAMPS` and ``STEP_RAMPS``).
WARMUP_METHODS = (*RAMPS, *_STEP_METHODS)
_NO_EVENTS: tuple[tuple[float, str], ...] = ()


def _torch_compiling() -> bool:
    # Only called with torch tensors, so torch is already imported.
    import torch

    return bool(getattr(getattr(torch, "compiler", None), "is_compiling", lambda: False)())


class warmup(Schedule):
    """Warm up any schedule over its first ``steps`` steps.

    With ``a = t / steps``, the warmup factor ``f(t)`` is:

    * ``linear``: ``start_factor * (1 - a) + a`` (the seed's, torch ``LinearLR``)
    * ``constant``: ``start_factor`` (the seed's ``"constant"``)
    * ``exponential``: ``start_factor ** (1 - a)`` (geometric; ``start_factor > 0``)
    * ``cosine``: ``start_factor + (1 - start_factor) * (1 - cos(π a)) / 2``
    * ``log``: ``start_factor + (1 - start_factor) * log(t + 1) / log(steps)`` (DeepSpeed's
      ``warmup_type="log"``): exactly 1 from ``t = steps - 1`` on, so the last warmup step is
      already at the target; ``steps = 1`` warms step 0 only, at ``start_factor``

    Prefix form (default; Hugging Face, optax's joins, torch's
    ``SequentialLR``, timm's ``warmup_prefix``): the warmup ramps to
    ``schedule(0)`` and the schedule's clock starts after it: ``f(t) *
    schedule(0)`` for ``t < steps``, then ``schedule(t - steps)``, so
    ``s(steps) = schedule(0)``, the peak.  A length the schedule leaves out
    (``cosine(3e-4)``) is the rest of the run after the warmup.

    Multiplicative form (``prefix=False``, the ``WarmupMultiStepLR`` lrkit
    grew from): ``f(t) * schedule(t)`` for ``t < steps``, ``schedule(t)``
    from ``t = steps`` on.  So ``s(0) = start_factor * schedule(0)``;
    ``s(steps - 1)`` is still warming (for ``constant``, still
    ``start_factor``); ``s(steps) = schedule(steps)``.  Use it when the
    schedule's milestones are fixed in training time (a ``multistep`` at
    epochs 10 and 12 whatever the warmup); use the prefix form for a decay
    over the rest of the run.

    ``steps=0`` means no warmup (``s = schedule``).

    Args:
        schedule: any schedule.
        steps: length of the warmup (0: none).
        start_factor: the factor at step 0, in ``[0, 1]`` (``> 0`` for ``exponential``).
        method: the shape of the ramp, one of :data:`WARMUP_METHODS` (the keys of
            :data:`lrkit.shapes.RAMPS`, and ``"log"``).
        prefix: run the schedule after the warmup (its clock starts at ``steps``); ``False``
            multiplies the schedule's own first steps instead.

    References:
        Goyal et al., 2017, "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour"
        (https://arxiv.org/abs/1706.02677), for the gradual linear warmup.
    """

    spec_name = "warmup"
    _duration_fields = frozenset({"steps"})

    def __init__(
        self,
        schedule: Schedule,
        steps: Duration,
        start_factor: float = 0.0,
        method: str = "linear",
        prefix: bool = True,
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
        """The warmup factor ``f(t)``: ``start_factor`` at 0, exactly 1.0 from ``t = steps`` on."""
        rise = self._rise
        if rise is not None:
            return linear_interpolate(self.start_factor, 1.0, rise(t, self._length, xp), xp)
        return self._ramp(progress0(t, self._length, xp), xp, self.start_factor)

    def _derive(self) -> None:
        object.__setattr__(self, "_w", float(self.steps))  # read on every training step
        step_method = self.method in _STEP_METHODS
        # a log ramp needs a length >= 2 (log(1) = 0); with steps = 1 it is 0 at step 0 either way
        object.__setattr__(self, "_length", max(float(self.steps), 2.0 if step_method else 1.0))
        object.__setattr__(self, "_ramp", None if step_method else RAMPS[self.method])
        object.__setattr__(self, "_rise", STEP_RAMPS[self.method] if step_method else None)

    def phase_events(self, horizon: float) -> Any:
        return [(self._w, "warmup end")] if self._w > 0 else _NO_EVENTS

    def child_clocks(self) -> Any:
        # The prefix form starts the schedule's clock after the warmup.
        return [(self.schedule, float(self.steps) if self.prefix else 0.0, math.inf)]

    @property
    def is_multiplier(self) -> bool:
        return self.schedule.is_multiplier

    def structural_warnings(self) -> list[str]:
        """A multiplicative warmup ramps to ``schedule(steps)``: if the schedule already decays, its peak is missed."""
        if self.prefix or self.steps == 0:
            return []
        start, target = float(self.schedule(0)), float(self.schedule(self.steps))
        if target < 0.99 * start:
            return [
                f"peak never reached: the warmup multiplies a schedule that already decays during its "
                f"{self.steps} steps, so it ramps to {target:.6g}, not {start:.6g}; the prefix form "
                f"(warmup(..., prefix=True), the default) starts the schedule after the warmup"
            ]
        return []

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

    On NumPy arrays and torch tensors each piece is evaluated on its own steps
    only (O(steps x log pieces), bit-identical to evaluating every piece
    everywhere).  On jax arrays, and inside ``torch.compile``, every piece is
    evaluated on every step and selected with ``where`` (O(pieces x steps)):
    under ``jax.jit`` the steps are traced, and grouping them by piece would
    need shapes that depend on their values.
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
        kinds = {p.is_multiplier for p in pieces}
        if len(kinds) > 1:
            raise ValueError(
                "schedules mix learning rates and multipliers: "
                + ", ".join(
                    f"schedules[{i}] is a {'multiplier' if p.is_multiplier else 'learning rate'}"
                    for i, p in enumerate(pieces)
                )
                + "; scale the multipliers to learning rates with scale(s, lr)"
            )
        self._init(schedules=pieces, boundaries=bounds)

    @property
    def is_multiplier(self) -> bool:
        return self.schedules[0].is_multiplier

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if xp is SCALAR:
            k = bisect.bisect_right(self.boundaries, t)
            return self.schedules[k]._eval(t - (self.boundaries[k - 1] if k else 0), xp)
        if xp.name == "numpy" or (xp.name == "torch" and not _torch_compiling()):
            return self._eval_grouped(t, xp)
        # jax (traced under jit: no data-dependent shapes) and torch.compile graphs: every piece on every
        # step, selected with where; O(pieces x steps) but traceable.
        out = self.schedules[0]._eval(t, xp)
        for b, piece in zip(map(float, self.boundaries), self.schedules[1:], strict=False):
            # b as a float: JAX reads a Python int >= 2**31 as an overflowing int32.
            out = xp.where(t >= b, piece._eval(xp.maximum(t - b, 0.0), xp), out)
        return out

    def _eval_grouped(self, t: Any, xp: Namespace) -> Any:
        """Each piece evaluated on its own steps only: O(steps x log pieces) instead of O(pieces x steps).

        ``searchsorted`` gives each step its piece; steps are grouped by piece (already grouped when
        they are sorted, as ``arange`` is, else by a stable sort of the piece index) and each piece
        runs once on its group.  The formulas are elementwise, so every value is bit-identical to
        the ``where`` chain's.
        """
        if xp.name == "numpy":
            flat = np.ascontiguousarray(t, dtype=np.float64).reshape(-1)
            if flat.size == 0:
                return np.empty(t.shape, dtype=np.float64)
            single = self._single_piece(float(flat.min()), float(flat.max()))
            if single is not None:  # the whole block is in one piece (the common case for 64Ki blocks)
                return self._piece(single, flat, xp, out=np.empty_like(flat)).reshape(t.shape)
            piece_of = np.searchsorted(np.asarray(self.boundaries, dtype=np.float64), flat, side="right")
            out = np.empty(flat.shape, dtype=np.float64)
            counts = np.bincount(piece_of, minlength=len(self.schedules))
            if flat.size < 2 or bool((piece_of[1:] >= piece_of[:-1]).all()):
                order = None
            else:  # uint16 keys sort by radix, in O(steps)
                keys = piece_of.astype(np.uint16) if len(self.schedules) <= 2**16 else piece_of
                order = np.argsort(keys, kind="stable")
            present = np.flatnonzero(counts).tolist()
        else:
            torch = xp.torch  # type: ignore[attr-defined]
            flat = t.reshape(-1)
            if flat.numel() == 0:
                return torch.empty_like(t)
            single = self._single_piece(float(flat.min()), float(flat.max()))
            if single is not None:
                return self._piece(single, flat, xp, out=torch.empty_like(flat)).reshape(t.shape)
            edges = torch.as_tensor(self.boundaries, dtype=flat.dtype, device=flat.device)
            piece_of = torch.searchsorted(edges, flat.contiguous(), right=True)
            out = torch.empty_like(flat)
            counts = torch.bincount(piece_of, minlength=len(self.schedules))
            if flat.numel() < 2 or bool((piece_of[1:] >= piece_of[:-1]).all()):
                order = None
            else:
                order = torch.sort(piece_of, stable=True).indices
            present = torch.nonzero(counts).reshape(-1).tolist()
            counts = counts.tolist()
        # Only the pieces that have steps: a 2,000-piece join evaluated in blocks touches a few per block.
        starts = np.cumsum(np.asarray(counts)) - np.asarray(counts)
        for k in present:
            begin, count = int(starts[k]), int(counts[k])
            idx: Any = slice(begin, begin + count) if order is None else order[begin : begin + count]
            out[idx] = self._piece(k, flat[idx], xp)
        return out.reshape(t.shape)

    def _single_piece(self, first: float, last: float) -> int | None:
        """The piece holding every step in ``[first, last]``, or None when they span a boundary."""
        k = bisect.bisect_right(self.boundaries, first)
        return k if k == bisect.bisect_right(self.boundaries, last) else None

    def _piece(self, k: int, steps: Any, xp: Namespace, out: Any = None) -> Any:
        """Piece ``k`` on steps that all lie in it: its clock starts at its boundary, so ``steps - b >= 0``
        needs no clamp (the ``where`` chain's ``maximum(t - b, 0)`` only guards the steps it discards).
        With ``out``, the result is written there (a piece may return a scalar: it is broadcast)."""
        value = self.schedules[k]._eval(steps - self.boundaries[k - 1] if k else steps, xp)
        if out is None:
            return value
        out[...] = value
        return out

    def phase_events(self, horizon: float) -> Any:
        return [(float(b), "join") for b in self.boundaries]

    def child_clocks(self) -> Any:
        starts = (0.0, *map(float, self.boundaries))
        ends = (*map(float, self.boundaries), math.inf)
        return list(zip(self.schedules, starts, ends, strict=True))


class shift(Schedule):
    """Start ``schedule`` part-way through: ``s(t) = schedule(t + steps)``.

    The clock of ``schedule`` runs ``steps`` ahead of the training clock:
    ``s(0) = schedule(steps)``, ``s(t) = schedule(t + steps)``, and a phase
    change of ``schedule`` at ``b`` happens at ``b - steps`` (changes at
    ``b <= steps`` are already past).  Use it for a decay that a peer starts
    on its global clock while something else ran first: timm's warmup
    *without* prefix replaces the cosine's first ``warmup_t`` steps, so after
    it the cosine continues at ``warmup_t``::

        join([linear(0.0, 1e-3, 10), shift(cosine(1e-3, 100), 10)], [10])

    ``steps = 0`` is ``schedule`` itself.  Negative shifts are refused: they
    would evaluate ``schedule`` before its step 0 (to start a schedule later,
    use ``join`` or a prefix ``warmup``).  On jax without x64, ``t + steps``
    stays an exact integer step while it fits in int32 (a float32 step past it).

    Args:
        schedule: any schedule.
        steps: how far ahead its clock runs (whole steps ``>= 0``, or a duration such as ``'2ep'``).
    """

    spec_name = "shift"
    _positional = 2
    _duration_fields = frozenset({"steps"})

    def __init__(self, schedule: Schedule, steps: Duration) -> None:
        schedule = v.schedule("schedule", schedule)
        if isinstance(steps, (int, float)) and not isinstance(steps, bool) and steps < 0:
            raise ValueError(
                f"steps must be >= 0 (a schedule is not defined before its step 0; to start it later use join "
                f"or warmup(prefix=True)), got {steps!r}"
            )
        self._init(schedule=schedule, steps=v.duration("steps", steps))

    def _derive(self) -> None:
        object.__setattr__(self, "_k", float(self.steps))

    @property
    def is_multiplier(self) -> bool:
        return self.schedule.is_multiplier

    def _eval(self, t: Any, xp: Namespace) -> Any:
        # xp.advance: on float32 jax an integer step stays an exact integer while t + k fits in int32
        return xp.advance(self.schedule._eval, t, self._k)

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS

    def child_clocks(self) -> Any:
        # the schedule's step 0 was `steps` steps before ours: its clock starts at -steps
        return [(self.schedule, -float(self.steps), math.inf)]


class staircase(Schedule):
    """Hold ``schedule`` for ``every`` steps at a time: ``s(t) = schedule(every * floor(t / every))``.

    The value changes only at multiples of ``every``: ``s(k * every + r) =
    schedule(k * every)`` for ``0 <= r < every``, so ``s(every - 1) =
    schedule(0)`` and ``s(every) = schedule(every)``.  Uses: a schedule
    updated once per epoch (``every='1ep'``, or ``steps_per_epoch``: timm's
    ``t_in_epochs=True``), DeepSpeed's staircase range test and one-cycle
    stairs.  ``every = 1`` is ``schedule`` itself.  A phase change of
    ``schedule`` at step ``b`` shows at the next multiple of ``every``,
    ``every * ceil(b / every)`` (``b`` itself when ``every`` divides it): that
    is where ``describe``, ``show`` and plots report it.

    Args:
        schedule: any schedule.
        every: the length of a stair (whole steps ``>= 1``, or a duration such as ``'1ep'``).
    """

    spec_name = "staircase"
    _positional = 2
    _duration_fields = frozenset({"every"})

    def __init__(self, schedule: Schedule, every: Duration) -> None:
        self._init(schedule=v.schedule("schedule", schedule), every=v.duration("every", every, minimum=1))

    def _derive(self) -> None:
        object.__setattr__(self, "_every", float(self.every))

    @property
    def is_multiplier(self) -> bool:
        return self.schedule.is_multiplier

    def _eval(self, t: Any, xp: Namespace) -> Any:
        if self._every == 1.0:
            return self.schedule._eval(t, xp)
        # t - (t mod every): whole-step arithmetic, exact on integer jax steps
        _, r = xp.divmod_steps(t, self._every)
        return self.schedule._eval(t - r, xp)

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS

    def child_event_step(self, t: float) -> float:
        # the first multiple of `every` at or after the change: the schedule is read only there.
        # Whole-step integer arithmetic: a float t / every would round for steps past 2**53 / every.
        every = int(self.every)
        return float(-(-math.ceil(t) // every) * every)


class remap(Schedule):
    """Map a weight schedule onto ``[start, end]``: ``s(t) = lerp(start, end, clamp01(weight(t)))``.

    ``weight`` gives values in ``[0, 1]`` (clamped into it): ``s = start`` exactly
    where ``weight = 0`` and ``s = end`` exactly where ``weight = 1``.  ``end`` may
    be below ``start``: the result then falls while ``weight`` rises, as torch's
    ``CyclicLR`` and ``OneCycleLR`` cycle the momentum against the LR::

        remap(cyclic(0.0, 1.0, 2000, mode="triangular2"), 0.9, 0.8)   # momentum 0.9 -> 0.8 -> 0.9, halving

    Args:
        weight: any schedule; its values are read as weights in ``[0, 1]``.
        start: the value at weight 0 (finite, ``>= 0``).
        end: the value at weight 1 (finite, ``>= 0``).
    """

    spec_name = "remap"

    def __init__(self, weight: Schedule, start: float, end: float) -> None:
        self._init(weight=v.schedule("weight", weight), start=v.lr_value("start", start), end=v.lr_value("end", end))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return linear_interpolate(self.start, self.end, clamp01(self.weight._eval(t, xp), xp), xp)

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS


class scale(Schedule):
    """``factor * schedule(t)`` (also written ``schedule * factor``).

    Scaling a :func:`multiplier` by a learning rate gives learning rates:
    ``scale(hf.get_cosine_schedule_with_warmup(...), 3e-4)`` is an LR schedule.
    """

    spec_name = "scale"
    _positional = 2

    def __init__(self, schedule: Schedule, factor: float) -> None:
        self._init(schedule=v.schedule("schedule", schedule), factor=v.lr_value("factor", factor))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return self.factor * self.schedule._eval(t, xp)

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS


class product(Schedule):
    """The product of several schedules (also written ``a * b``).

    A multiplier when every factor is one; a learning rate as soon as one factor is.
    """

    spec_name = "product"

    def __init__(self, schedules: Sequence[Schedule]) -> None:
        if isinstance(schedules, Schedule) or not isinstance(schedules, Sequence):
            raise TypeError(f"schedules must be a list of schedules, got {schedules!r}")
        pieces = tuple(v.schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules))
        if len(pieces) < 2:
            raise ValueError(f"schedules must hold at least 2 schedules to multiply, got {len(pieces)}")
        self._init(schedules=pieces)

    @property
    def is_multiplier(self) -> bool:
        return all(p.is_multiplier for p in self.schedules)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        out = self.schedules[0]._eval(t, xp)
        for piece in self.schedules[1:]:
            out = out * piece._eval(t, xp)
        return out

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS


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

    @property
    def is_multiplier(self) -> bool:
        return self.schedule.is_multiplier

    def _eval(self, t: Any, xp: Namespace) -> Any:
        out = xp.maximum(self.schedule._eval(t, xp), self.lower)
        if self.upper is not None:
            out = xp.minimum(out, self.upper)
        return out

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS


class multiplier(Schedule):
    """Mark ``schedule``'s values as factors of a base learning rate, not learning rates.

    The values are unchanged: ``multiplier(s)(t) == s(t)``.  What changes is
    how the schedule may be used: ``lrkit.torch.Scheduler(opt, factor=m)``
    multiplies each group's LR by it, while ``lr=m`` raises a ``TypeError``
    (a factor peaking at 1.0 would silently train at LR 1.0); plots and
    ``describe`` label the values "factor".  ``scale(m, lr)`` turns it into
    learning rates.  The peers' factor presets (HF's ``get_*_schedule*``, and
    the torch/timm presets without ``lr=``) return multipliers.

    Args:
        schedule: the factor schedule.
    """

    spec_name = "multiplier"

    def __init__(self, schedule: Schedule) -> None:
        schedule = v.schedule("schedule", schedule)
        if isinstance(schedule, multiplier):
            schedule = schedule.schedule  # marking twice means the same
        self._init(schedule=schedule)

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return self.schedule._eval(t, xp)

    def phase_events(self, horizon: float) -> Any:
        return _NO_EVENTS

    @property
    def is_multiplier(self) -> bool:
        return True
