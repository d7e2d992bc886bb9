"""Reading a schedule's structure: where its phases change, key points, likely mistakes.

Used by :func:`lrkit.plot` (phase markers), ``lrkit show`` and ``lrkit describe``.
Events come from the schedule's *parameters*, not from sampling: every node of
the tree (:meth:`Schedule.walk`) says where its own phases end, in its own clock,
and the composition nodes shift those clocks (``join`` pieces start at their
boundary, a ``warmup(prefix=True)`` starts its schedule after the warmup) and
cut them to the window where the piece is active.  Only the quantities that are
genuinely numeric (the peak, the warnings) are computed from values.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from .base import MAX_PERIODIC_EVENTS, PERIODIC_EVENT_KINDS, Schedule  # noqa: F401  (re-exported)

__all__ = ["Event", "KeyPoint", "default_steps", "events", "key_points", "phases", "value_label", "warnings_for"]


@dataclass(frozen=True, order=True)
class Event:
    """A step where a phase of the schedule changes: ``step`` is the first step of the new phase."""

    step: int
    kind: str  # "warmup end", "milestone", "boundary", "decay start", "decay end", "restart", ...
    source: str  # spec name of the node the event comes from


@dataclass(frozen=True)
class KeyPoint:
    label: str
    step: int
    value: float


# -- events -------------------------------------------------------------------


def _walk_events(s: Schedule, offset: float, lo: float, hi: float) -> Iterator[Event]:
    """The events of ``s`` and its children in the window ``(lo, hi)`` of the outer clock.

    Each node says where its own phases change (:meth:`Schedule.phase_events`,
    in its own clock) and where its children run (:meth:`Schedule.child_clocks`);
    this walk only shifts clocks and cuts windows, it knows no schedule by name.
    """
    for local, kind in s.phase_events(hi - offset):
        t = offset + local
        if lo < t < hi:  # an event at the window's own start is the parent's event
            yield Event(_first_step(t), kind, s.spec_name)
    for child, start, end in s.child_clocks():
        a, b = offset + start, offset + end
        if max(lo, a) < min(hi, b):
            for e in _walk_events(child, a, max(lo, a), min(hi, b)):
                # a node that samples its children on a grid (staircase) shows their changes at its grid steps
                moved = offset + s.child_event_step(e.step - offset)
                if moved == e.step:
                    yield e
                elif lo < moved < hi:
                    yield Event(_first_step(moved), e.kind, e.source)


def _first_step(t: float) -> int:
    """The first whole step at or after ``t`` (a float a hair above a whole step still counts as it)."""
    if t >= 2**62:  # beyond int64: keep a plain Python int, never an object array later
        return int(t)
    return math.ceil(t - 1e-9)


def events(s: Schedule, steps: int | None = None) -> list[Event]:
    """The phase changes of ``s`` (resolved) in ``(0, steps)``, sorted, one per (step, kind).

    Periodic schedules list at most ``MAX_PERIODIC_EVENTS`` events per node;
    with ``steps=None`` they list their first period only.
    """
    hi = math.inf if steps is None else float(steps)
    seen: dict[tuple[int, str], Event] = {}
    for e in _walk_events(s, 0.0, 0.0, hi):
        # An event at t = 249.5 starts at step 250: with steps=250 it is past the last step, keep it out.
        if steps is None or 0 < e.step < steps:
            seen.setdefault((e.step, e.kind), e)
    out = sorted(seen.values())
    if steps is None:
        # without a horizon, keep one period of periodic events
        periodic = PERIODIC_EVENT_KINDS
        kept: list[Event] = []
        counts: dict[str, int] = {}
        for e in out:
            counts[e.kind] = counts.get(e.kind, 0) + 1
            if e.kind not in periodic or counts[e.kind] <= 2:
                kept.append(e)
        out = kept
    return out


def default_steps(s: Schedule) -> int:
    """A horizon that shows the whole shape, rounded up to 2 significant digits.

    1.25 x the last phase change when the schedule holds after it; 10 x when it
    keeps moving (``noam``, ``inverse_power``: 40000 steps for the seed's 4000
    warmup steps, as in its figure); for a schedule without phase changes
    (``exponential``, ``inverse_time``...) 2.5 x its largest step-valued
    parameter; else 1000.
    """
    last = max((e.step for e in events(s)), default=0)
    if last > 0:
        moving = float(s(float(last))) != float(s(10.0 * last))
        target = last * (10.0 if moving else 1.25)
    else:
        sizes = [
            x
            for node in s.walk()
            for f in type(node)._duration_fields
            for x in (getattr(node, f) if isinstance(getattr(node, f), tuple) else (getattr(node, f),))
            if isinstance(x, int)
        ]
        target = 2.5 * max(sizes, default=0)
    if target <= 0:
        return 1000
    unit = 10 ** max(math.floor(math.log10(target)) - 1, 0)
    return int(math.ceil(target / unit) * unit)


# -- values -------------------------------------------------------------------


#: steps evaluated at a time by :func:`values`: the temporaries of a deep schedule stay a few MB.
CHUNK = 1 << 16


def values(s: Schedule, steps: int) -> np.ndarray:
    """``s(np.arange(steps))`` as float64, evaluated in blocks (memory: the result only).

    The blocked loop is :meth:`Schedule._eval_blocks`'s (``Schedule._eval_range``), so plots, reports
    and ``s(np.arange(steps))`` give the same bits.
    """
    return s._eval_range(steps)


def fmt(x: float) -> str:
    """A learning rate for people: 6 significant digits."""
    return f"{x:.6g}"


def peak(vals: np.ndarray) -> tuple[int, float]:
    """First step of the highest value, and that value."""
    i = int(np.argmax(vals))
    return i, float(vals[i])


def key_points(s: Schedule, vals: np.ndarray) -> list[KeyPoint]:
    """Start, every phase change, the peak and the end, in step order."""
    n = len(vals)
    pts = [KeyPoint("start", 0, float(vals[0]))]
    for e in events(s, n):
        pts.append(KeyPoint(e.kind, e.step, float(vals[e.step])))
    i, top = peak(vals)
    pts.append(KeyPoint("peak", i, top))
    if n > 1:
        pts.append(KeyPoint("end", n - 1, float(vals[-1])))
    order = {"start": 0, "peak": 2, "end": 3}
    return sorted(pts, key=lambda p: (p.step, order.get(p.label, 1)))


def _trend(seg: np.ndarray) -> str:
    scale = max(float(np.max(np.abs(seg))), 1e-300)
    d = np.diff(seg)
    tol = 1e-12 * scale
    if seg.size < 2 or float(np.max(seg) - np.min(seg)) <= tol:
        return "flat"
    if bool(np.all(d >= -tol)):
        return "rising"
    if bool(np.all(d <= tol)):
        return "falling"
    return "varies"


def phases(s: Schedule, vals: np.ndarray) -> list[tuple[int, int, str, float, float, str]]:
    """Segments between phase changes: ``(first, last, trend, value at first, value at last, kind that starts it)``."""
    n = len(vals)
    cuts = [(0, "start")]
    for e in events(s, n):
        if e.step != cuts[-1][0]:
            cuts.append((e.step, e.kind))
        else:
            cuts[-1] = (e.step, f"{cuts[-1][1]}, {e.kind}")
    out = []
    for k, (a, kind) in enumerate(cuts):
        b = cuts[k + 1][0] - 1 if k + 1 < len(cuts) else n - 1
        if b < a:  # never empty (events lie in 1..n-1), but a reduction over nothing must not be attempted
            continue
        seg = vals[a : b + 1]
        out.append((a, b, _trend(seg), float(vals[a]), float(vals[b]), kind))
    return out


def warnings_for(s: Schedule, vals: np.ndarray) -> list[str]:
    """Likely mistakes given that training runs ``len(vals)`` steps.

    * the :func:`structural_warnings`;
    * warmup longer than training (a ``warmup end`` at or after the last step);
    * a decay that ends before the last step, after which the LR holds;
    * a decay that has not finished by the end of training (it ends after
      step ``n``, the step count after the last update, with more than 1% of
      its swing left);
    * a warmup longer than the phase that follows it;
    * a learning-rate schedule (not a :func:`lrkit.multiplier`) that peaks at
      1 or more: most likely a multiplier used as a learning rate;
    * a peak never reached: the LR keeps rising after training stops;
    * the LR rising again at the end, after it had come down from its peak
      (a cyclic or restarting schedule cut mid-cycle, ``cosine(cycles=1)``...).
    """
    n = len(vals)
    out = structural_warnings(s)
    all_events = events(s, None)
    for e in sorted({e for e in all_events if e.kind == "warmup end"}):
        if e.step >= n:
            out.append(
                f"warmup longer than training: the warmup ({e.source}) ends at step {e.step}, "
                f"but training runs {n} steps (0..{n - 1})"
            )
    for e in sorted({e for e in all_events if e.kind == "decay end"}):
        if e.step < n - 1:
            tail = vals[e.step :]
            if float(np.max(tail) - np.min(tail)) <= 1e-12 * max(float(np.max(np.abs(tail))), 1e-300):
                held = n - e.step
                out.append(
                    f"decay ends early: the decay ({e.source}) ends at step {e.step}, before the last step {n - 1}; "
                    f"the LR then holds {fmt(float(vals[-1]))} for {held} steps ({100.0 * held / n:.0f}% of training)"
                )
    i, top = peak(vals)
    for e in sorted({e for e in all_events if e.kind == "decay end"}):
        if e.step > n:
            end_value = float(s(e.step))
            swing = top - end_value
            left = float(vals[-1]) - end_value
            if swing > 0 and left > 0.01 * swing:
                out.append(
                    f"decay unfinished: the decay ({e.source}) ends at step {e.step}, after training ends at step {n}; "
                    f"the last LR is {fmt(float(vals[-1]))}, {100.0 * left / swing:.0f}% of the way from "
                    f"{fmt(end_value)} back to the peak {fmt(top)}"
                )
    in_run = events(s, n)
    for k, e in enumerate(in_run):
        if e.kind != "warmup end":
            continue
        begin = in_run[k - 1].step if k else 0
        after = in_run[k + 1] if k + 1 < len(in_run) else None
        if after is not None and e.step - begin > after.step - e.step:
            out.append(
                f"warmup longer than the phase after it: the warmup ({e.source}) takes {e.step - begin} steps, "
                f"the phase after it {after.step - e.step} (until the {after.kind} at step {after.step})"
            )
    if not s.is_multiplier and top >= 1.0:
        out.append(
            f"learning rate {fmt(top)} at step {i}: this looks like a multiplier used as a learning rate; mark it "
            "lrkit.multiplier(...) and use it as factor=, or scale it by the base LR (scale(s, 3e-4))"
        )
    later = _later_max(s, n, all_events)
    if later[1] > top * (1 + 1e-9) and later[1] > 0:
        out.append(
            f"peak never reached: the LR keeps rising after training ends, to {fmt(later[1])} at step {later[0]} "
            f"(the highest value within {n} steps is {fmt(top)} at step {i})"
        )
    elif i < n - 1:
        j = i + int(np.argmin(vals[i:]))
        low, last = float(vals[j]), float(vals[-1])
        # a rise of under 1% of the swing is the last step of a cycle, not a mistake
        if last - low > 0.01 * (top - low):
            out.append(
                f"LR rising again at the end: after its peak it falls to {fmt(low)} at step {j}, "
                f"then climbs back to {fmt(last)} by the last step {n - 1}"
            )
    return out


def value_label(s: Schedule) -> str:
    """What the values are: ``"factor"`` for a :func:`lrkit.multiplier`, else ``"lr"``."""
    return "factor" if s.is_multiplier else "lr"


def structural_warnings(s: Schedule) -> list[str]:
    """Mistakes visible without knowing the length of training: each node's own
    :meth:`Schedule.structural_warnings`, in tree order."""
    return [w for node in s.walk() for w in node.structural_warnings()]


def _later_max(s: Schedule, n: int, evs: list[Event]) -> tuple[int, float]:
    """The highest value after step ``n - 1`` among the phase changes and a sample grid."""
    far = max([e.step for e in evs if e.step >= n] + [2 * n])
    cand = {float(n)}
    for e in evs:
        if e.step >= n:
            cand.update({float(e.step), float(e.step + 1)})
    grid = np.unique(np.concatenate([np.fromiter(cand, dtype=np.float64), np.linspace(n, far, 2048).round()]))
    later = np.asarray(s(grid), dtype=np.float64)
    k = int(np.argmax(later))
    return int(grid[k]), float(later[k])


def resolved_or_error(s: Schedule, steps_per_epoch: int | None, total_steps: int | None) -> Schedule:
    """``s.resolve(...)`` with a message that names the command-line options."""
    try:
        return s.resolve(steps_per_epoch=steps_per_epoch, total_steps=total_steps)
    except ValueError as exc:
        msg = str(exc).replace("pass steps_per_epoch to resolve() it", "give --steps-per-epoch (or steps_per_epoch=)")
        msg = msg.replace("pass total_steps to resolve() it", "give --total (or total_steps=)")
        raise ValueError(msg) from None
