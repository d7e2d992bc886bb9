"""Plots of schedules with matplotlib (imported here, never by ``import lrkit``).

:func:`plot` is also reachable as ``lrkit.plot``.  It draws on a
:class:`matplotlib.figure.Figure` created directly (no ``pyplot``, so no global
figure state and no GUI backend is touched), in the style of the seed's figure:
title "Learning rate schedule", x "Train Step", y "Learning Rate" ("Factor" for multipliers), a legend.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from . import _phases
from ._files import atomic_write
from .base import Schedule
from .spec import parse
from .validators import MAX_STEPS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot"]

SchedulesLike = Union[Schedule, str, Sequence[Union[Schedule, str]], Mapping[str, Union[Schedule, str]]]

#: up to this many steps a curve is every step; above, a min/max envelope per column
#: (every jump stays visible, the figure stays light).
_ENVELOPE_ABOVE = 200_000
_ENVELOPE_BUCKETS = 20_000
#: up to this many steps the envelope is exact (every step evaluated, in chunks); above, each column
#: is sampled at _SAMPLES_PER_BUCKET evenly spaced steps plus every phase change and the step before
#: it, so ``cosine(1, 2**40)`` draws in bounded time and memory.
_EXACT_ABOVE = 4_000_000
_SAMPLED_BUCKETS = 4_000
_SAMPLES_PER_BUCKET = 16


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("lrkit.plot needs matplotlib: pip install 'lrkit[plot]'") from None


def _as_items(schedules: SchedulesLike, labels: Sequence[str] | None) -> list[tuple[str | None, Schedule]]:
    if isinstance(schedules, (Schedule, str)):
        items: list[tuple[str | None, Schedule | str]] = [(None, schedules)]
    elif isinstance(schedules, Mapping):
        items = [(str(k), v) for k, v in schedules.items()]
    elif isinstance(schedules, Sequence):
        items = [(None, v) for v in schedules]
    else:
        raise TypeError(f"schedules must be a schedule, a list of them or a dict label -> schedule, got {schedules!r}")
    if not items:
        raise ValueError("schedules must not be empty")
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(items):
            raise ValueError(f"labels must have one entry per schedule ({len(items)}), got {len(labels)}")
        items = [(str(lab), s) for lab, (_, s) in zip(labels, items, strict=True)]
    out: list[tuple[str | None, Schedule]] = []
    for i, (label, s) in enumerate(items):
        if isinstance(s, str):
            s = parse(s)
        elif not isinstance(s, Schedule):
            raise TypeError(f"schedules[{i}] must be an lrkit schedule or a spec string, got {s!r}")
        out.append((label, s))
    return out


def _short(s: Schedule, limit: int = 60) -> str:
    text = repr(s)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _curve(s: Schedule, steps: int, event_steps: Sequence[int]) -> tuple[np.ndarray, np.ndarray, int, float]:
    """The points to draw ``x, y`` and the peak ``(step, value)`` of ``s`` over ``steps`` steps.

    * ``steps <= _ENVELOPE_ABOVE``: every step.
    * up to ``_EXACT_ABOVE``: per column of ``ceil(steps / _ENVELOPE_BUCKETS)`` steps, a vertical
      stroke from its highest to its lowest value at its first step (the same ink as every point),
      evaluated in chunks: memory is the columns, not the steps.
    * beyond: the same strokes from a sample of each column (evenly spaced steps, every phase change
      ``b`` and ``b - 1``, the last step): bounded time and memory for any horizon.  A schedule
      that oscillates faster than the columns (a short cycle over ``2**40`` steps) is drawn from
      its samples; its phase changes and their values are exact.
    """
    if steps <= _ENVELOPE_ABOVE:
        vals = _phases.values(s, steps)
        i, top = _phases.peak(vals)
        return np.arange(steps, dtype=np.float64), vals, i, top
    if steps <= _EXACT_ABOVE:
        width = -(-steps // _ENVELOPE_BUCKETS)
        chunk = width * max(1, _phases.CHUNK // width)
        starts, his, los = [], [], []
        top_step, top = 0, -np.inf
        for a in range(0, steps, chunk):
            b = min(a + chunk, steps)
            vals = np.asarray(s(np.arange(a, b, dtype=np.float64)), dtype=np.float64)
            edges = np.arange(0, b - a, width)
            his.append(np.maximum.reduceat(vals, edges))
            los.append(np.minimum.reduceat(vals, edges))
            starts.append(edges + a)
            k = int(np.argmax(vals))
            if vals[k] > top:
                top_step, top = a + k, float(vals[k])
        last = float(vals[-1])
        x0, hi, lo = np.concatenate(starts).astype(np.float64), np.concatenate(his), np.concatenate(los)
    else:
        grid = np.linspace(0.0, steps - 1.0, _SAMPLED_BUCKETS * _SAMPLES_PER_BUCKET).round()
        around = [float(e) for b in event_steps for e in (b - 1, b) if 0 <= e < steps]
        grid = np.unique(np.concatenate([grid, np.asarray(around, dtype=np.float64), [0.0, steps - 1.0]]))
        vals = np.asarray(s(grid), dtype=np.float64)
        k = int(np.argmax(vals))
        top_step, top, last = int(grid[k]), float(vals[k]), float(vals[-1])
        width_f = steps / _SAMPLED_BUCKETS
        column = np.floor(grid / width_f)
        edges = np.flatnonzero(np.concatenate([[True], column[1:] != column[:-1]]))
        x0 = grid[edges]
        hi, lo = np.maximum.reduceat(vals, edges), np.minimum.reduceat(vals, edges)
    x = np.repeat(x0, 2)
    y = np.empty(2 * lo.size)
    y[0::2], y[1::2] = hi, lo
    return np.append(x, steps - 1.0), np.append(y, last), top_step, top


def _save(fig: Figure, path: str | Path) -> None:
    """Render ``fig`` to bytes in memory, then replace ``path`` with them all at once.

    The format comes from the suffix (``.png``, ``.svg``, ``.pdf``...; none: matplotlib's default
    ``savefig.format``).  A failed write (disk full, a size limit) leaves the old file intact.
    """
    from matplotlib import rcParams

    suffix = Path(path).suffix.lower().lstrip(".")
    kinds = fig.canvas.get_supported_filetypes()
    if suffix and suffix not in kinds:
        raise ValueError(f"path {str(path)!r}: the file name must end in one of {', '.join(sorted(kinds))}")
    buffer = io.BytesIO()
    fig.savefig(buffer, format=suffix or rcParams["savefig.format"])
    atomic_write(path, buffer.getvalue())


def plot(
    schedules: SchedulesLike,
    steps: int | None = None,
    labels: Sequence[str] | None = None,
    path: str | Path | None = None,
    title: str = "Learning rate schedule",
    log: bool = False,
    steps_per_epoch: int | None = None,
    mark_phases: bool = True,
    ax: Axes | None = None,
    *,
    total_steps: int | None = None,
) -> Figure:
    """Plot one or many schedules over ``steps`` steps; return the matplotlib ``Figure``.

    ``schedules`` is a schedule, a spec string, a list of them, or a dict
    ``label -> schedule``.  Each is evaluated vectorized, ``s(np.arange(steps))``.
    ``steps`` defaults to ``total_steps`` when given, else to a horizon that
    shows every phase (1.25 x the last phase change).  Durations in epochs or
    percent are resolved with ``steps_per_epoch`` and ``total_steps`` (default:
    ``steps``); with ``steps_per_epoch`` a second x axis shows epochs.

    ``mark_phases`` marks each schedule's phase changes, read from its
    structure (warmup end, milestones, boundaries, restarts...), with dots on
    the curve, and its peak with a triangle; a single schedule also gets dotted
    vertical lines.  ``log`` uses a log y axis (zeros are not drawn).
    ``path`` saves the figure (format from the suffix: ``.png``, ``.svg``,
    ``.pdf``...).  ``ax`` draws into an existing axes instead of a new figure.
    """
    _require_matplotlib()
    from matplotlib.figure import Figure

    items = _as_items(schedules, labels)
    if steps_per_epoch is not None and (
        isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch < 1
    ):
        raise ValueError(f"steps_per_epoch must be a positive int, got {steps_per_epoch!r}")
    if steps_per_epoch is not None and steps_per_epoch > MAX_STEPS:
        raise ValueError(f"steps_per_epoch must be at most 2**53, got an int of {steps_per_epoch.bit_length()} bits")
    for name, value in (("steps", steps), ("total_steps", total_steps)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
        if value is not None and value > MAX_STEPS:  # steps are float64 values: whole up to 2**53
            raise ValueError(f"{name} must be at most 2**53, got an int of {int(value).bit_length()} bits")
    total = total_steps if total_steps is not None else steps
    resolved = [(label, _phases.resolved_or_error(s, steps_per_epoch, total)) for label, s in items]
    if steps is None:
        steps = total_steps if total_steps is not None else max(_phases.default_steps(s) for _, s in resolved)
    steps = int(steps)

    if ax is None:
        fig = Figure(figsize=(9, 5), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]

    curves = []
    for label, s in resolved:
        evs = [e for e in _phases.events(s, steps) if 0 < e.step < steps]
        curves.append((label, s, evs, *_curve(s, steps, [e.step for e in evs])))
    if log and not any(bool((y > 0).any()) for *_, y, _, _ in curves):
        raise ValueError(
            f"log=True needs a positive learning rate somewhere, but every value in steps 0..{steps - 1} is 0"
        )
    single = len(resolved) == 1
    for label, s, evs, x, y, i, top in curves:
        (line,) = ax.plot(x, y, label=label if label is not None else _short(s), linewidth=1.6)
        if not mark_phases:
            continue
        color = line.get_color()
        if evs:
            at = np.array([float(e.step) for e in evs])
            ax.plot(
                at,
                np.asarray(s(at), dtype=np.float64),
                linestyle="none",
                marker="o",
                markersize=4,
                color=color,
                zorder=3,
            )
        if i > 0:  # a peak at step 0 is just the start of a decay
            ax.plot([i], [top], linestyle="none", marker="^", markersize=7, color=color, zorder=4)
        if single:
            for e in evs:
                ax.axvline(e.step, color="0.6", linestyle=":", linewidth=0.9, zorder=1)
            trans = ax.get_xaxis_transform()
            for e in evs[:12]:
                ax.text(
                    e.step,
                    0.01,
                    f" {e.kind}",
                    transform=trans,
                    rotation=90,
                    va="bottom",
                    ha="right",
                    fontsize=7,
                    color="0.35",
                )
            ax.annotate(
                f"peak {top:.4g} @ {i}",
                (i, top),
                textcoords="offset points",
                xytext=(6, 4),
                fontsize=8,
                color=color,
            )

    ax.set_title(title)
    ax.set_xlabel("Train Step")
    # a multiplier's values are factors of the optimizer's LR: never label them as learning rates
    factors = [s.is_multiplier for _, s in resolved]
    ax.set_ylabel("Factor" if all(factors) else "Learning Rate or factor" if any(factors) else "Learning Rate")
    ax.set_xlim(0, max(steps - 1, 1))
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.25)
    ax.legend(fontsize=8)
    if steps_per_epoch is not None:
        spe = float(steps_per_epoch)
        top_axis = ax.secondary_xaxis("top", functions=(lambda t: t / spe, lambda e: e * spe))
        top_axis.set_xlabel("Epoch")
    if path is not None:
        _save(fig, path)
    return fig  # type: ignore[return-value]


def render_png(schedule: Schedule, steps: int | None = None) -> bytes | None:
    """PNG bytes of ``plot(schedule)``, or ``None`` when that cannot be drawn.

    Used by ``Schedule._repr_png_`` so that a notebook shows a schedule as its
    plot; ``None`` makes Jupyter fall back to the text ``repr`` (no matplotlib,
    durations that need ``resolve()``).
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    if not schedule.is_resolved:
        return None
    fig = plot(schedule, steps=steps, title=_short(schedule, 80))
    fig.set_size_inches(7, 3.6)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
