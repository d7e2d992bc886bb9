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
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from .base import Schedule

__all__ = ["Event", "KeyPoint", "default_steps", "events", "key_points", "phases", "warnings_for"]

#: periodic schedules list at most this many events per node.
MAX_PERIODIC_EVENTS = 64


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

_Emit = Callable[[float, str], None]


def _periodic(emit: _Emit, first: float, period: float, hi: float, kind: str) -> None:
    t, n = first, 0
    while t < hi and n < MAX_PERIODIC_EVENTS:
        emit(t, kind)
        t += period
        n += 1


def _own_events(s: Schedule, emit: _Emit, hi: float) -> None:
    """The events of one node, in its own clock (composition nodes emit only their own)."""
    p = s.params()
    name = s.spec_name
    if name == "warmup":
        if p["steps"] > 0:
            emit(p["steps"], "warmup end")
    elif name == "join":
        for b in p["boundaries"]:
            emit(b, "join")
    elif name == "multistep":
        for m in p["milestones"]:
            emit(m, "milestone")
    elif name == "piecewise_constant":
        # Keras' "previous" rule switches one step after the declared boundary.
        shift = 1 if p["at_boundary"] == "previous" else 0
        for b in p["boundaries"]:
            emit(b + shift, "boundary")
    elif name == "piecewise_interpolate":
        for b in p["boundaries"]:
            emit(b, "knot")
    elif name == "linear":
        if p["begin"] > 0:
            emit(p["begin"], "ramp start")
        emit(p["begin"] + p["steps"], "ramp end")
    elif name == "exponential":
        if p["begin"] > 0:
            emit(p["begin"], "decay start")
        if p["staircase"]:
            _periodic(emit, p["begin"] + p["decay_steps"], p["decay_steps"], hi, "drop")
        if 0.0 < p["floor"] < p["value"] and p["decay_rate"] < 1.0:
            # value * rate ** ((t - begin) / decay_steps) == floor, solved for t
            k = math.log(p["floor"] / p["value"]) / math.log(p["decay_rate"])
            if p["staircase"]:
                k = math.ceil(k)
            emit(math.ceil(p["begin"] + k * p["decay_steps"]), "decay end")
    elif name in ("inverse_power", "inverse_sqrt"):
        emit(p["steps"], "decay start")
    elif name == "polynomial":
        if p["cycle"]:
            _periodic(emit, p["decay_steps"], p["decay_steps"], hi, "restart")
        else:
            emit(p["decay_steps"], "decay end")
    elif name in ("cosine", "tanh"):
        emit(p["steps"], "decay end")
    elif name == "cosine_restarts":
        period, t_mul = float(p["period"]), p["t_mul"]
        start, length, n = period, period * t_mul, 0
        while start < hi and n < MAX_PERIODIC_EVENTS:
            emit(start, "restart")
            start, length, n = start + length, length * t_mul, n + 1
    elif name == "cyclic":
        up = float(p["up_steps"])
        cycle = up + float(p["down_steps"] if p["down_steps"] is not None else up)
        _periodic(emit, up, cycle, hi, "cycle peak")
        _periodic(emit, cycle, cycle, hi, "cycle start")
    elif name == "one_cycle":
        total = p["total_steps"]
        e1 = p["pct_start"] * total - 1
        emit(e1, "warmup end")
        if p["three_phase"]:
            emit(2 * p["pct_start"] * total - 2, "phase end")
        emit(total - 1, "decay end")
    elif name == "noam":
        emit(p["warmup_steps"], "warmup end")
    elif name == "wsd":
        w, stable, decay = p["warmup_steps"], p["stable_steps"], p["decay_steps"]
        if w > 0:
            emit(w, "warmup end")
        if stable > 0:
            emit(w + stable, "decay start")
        emit(w + stable + decay, "decay end")
    elif name == "step":
        _periodic(emit, p["step_size"], p["step_size"], hi, "step")
    elif name in ("constant", "inverse_time", "scale", "product", "clip"):
        pass
    else:
        # A schedule kind this module does not know yet: every whole-step
        # duration parameter is the best structural guess of a phase change.
        for field in sorted(type(s)._duration_fields):
            value = p.get(field)
            values = value if isinstance(value, tuple) else (value,)
            for x in values:
                if isinstance(x, int) and x > 0:
                    emit(x, field)


def _walk_events(s: Schedule, offset: float, lo: float, hi: float) -> Iterator[Event]:
    found: list[Event] = []

    def emit(local: float, kind: str) -> None:
        t = offset + local
        if lo < t < hi:  # an event at the window's own start is the parent's event
            found.append(Event(math.ceil(t - 1e-9), kind, s.spec_name))

    _own_events(s, emit, hi - offset)
    yield from found
    p = s.params()
    if s.spec_name == "join":
        starts = (0, *p["boundaries"])
        ends = (*p["boundaries"], math.inf)
        for piece, a, b in zip(p["schedules"], starts, ends, strict=True):
            yield from _walk_events(piece, offset + a, max(lo, offset + a), min(hi, offset + b))
    elif s.spec_name == "warmup" and p["prefix"] and p["steps"] > 0:
        yield from _walk_events(p["schedule"], offset + p["steps"], max(lo, offset + p["steps"]), hi)
    else:
        for kid in s.children():
            yield from _walk_events(kid, offset, lo, hi)


def events(s: Schedule, steps: int | None = None) -> list[Event]:
    """The phase changes of ``s`` (resolved) in ``(0, steps)``, sorted, one per (step, kind).

    Periodic schedules list at most ``MAX_PERIODIC_EVENTS`` events per node;
    with ``steps=None`` they list their first period only.
    """
    hi = math.inf if steps is None else float(steps)
    seen: dict[tuple[int, str], Event] = {}
    for e in _walk_events(s, 0.0, 0.0, hi):
        seen.setdefault((e.step, e.kind), e)
    out = sorted(seen.values())
    if steps is None:
        # without a horizon, keep one period of periodic events
        periodic = {"drop", "restart", "cycle peak", "cycle start", "step"}
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


def values(s: Schedule, steps: int) -> np.ndarray:
    """``s(np.arange(steps))`` as float64."""
    return np.asarray(s(np.arange(steps, dtype=np.float64)), dtype=np.float64)


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
        seg = vals[a : b + 1]
        out.append((a, b, _trend(seg), float(vals[a]), float(vals[b]), kind))
    return out


def warnings_for(s: Schedule, vals: np.ndarray) -> list[str]:
    """Likely mistakes given that training runs ``len(vals)`` steps.

    * the :func:`structural_warnings`;
    * warmup longer than training (a ``warmup end`` at or after the last step);
    * a decay that ends before the last step, after which the LR holds;
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


def structural_warnings(s: Schedule) -> list[str]:
    """Mistakes visible without knowing the length of training.

    A multiplicative warmup ramps to ``schedule(steps)``: when the schedule
    already decays during the warmup, its starting value is never reached.
    """
    out = []
    for node in s.walk():
        if node.spec_name != "warmup" or node.params()["prefix"] or node.params()["steps"] == 0:
            continue
        inner, w = node.params()["schedule"], node.params()["steps"]
        start, target = float(inner(0)), float(inner(w))
        if target < 0.99 * start:
            out.append(
                f"peak never reached: the warmup multiplies a schedule that already decays during its {w} steps, "
                f"so it ramps to {fmt(target)}, not {fmt(start)}; warmup(..., prefix=True) starts the schedule "
                f"after the warmup"
            )
    return out


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
