"""Plots of schedules with matplotlib (imported here, never by ``import lrkit``).

:func:`plot` is also reachable as ``lrkit.plot``.  It draws on a
:class:`matplotlib.figure.Figure` created directly (no ``pyplot``, so no global
figure state and no GUI backend is touched), in the style of the seed's figure:
title "Learning rate schedule", x "Train Step", y "Learning Rate", a legend.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from . import _phases
from .base import Schedule
from .spec import parse

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot"]

SchedulesLike = Union[Schedule, str, Sequence[Union[Schedule, str]], Mapping[str, Union[Schedule, str]]]

#: above this many steps a curve is drawn from a min/max envelope per bucket
#: (every jump stays visible, the figure stays light).
_ENVELOPE_ABOVE = 200_000
_ENVELOPE_BUCKETS = 20_000


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


def _curve(vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points to draw: every step, or a min/max envelope per bucket for very long runs."""
    n = vals.size
    if n <= _ENVELOPE_ABOVE:
        return np.arange(n, dtype=np.float64), vals
    edges = np.linspace(0, n, _ENVELOPE_BUCKETS + 1).astype(np.int64)
    lo = np.minimum.reduceat(vals, edges[:-1])
    hi = np.maximum.reduceat(vals, edges[:-1])
    x = np.repeat(edges[:-1].astype(np.float64), 2)
    # a vertical stroke max -> min at each bucket's first step: same ink as every point
    y = np.empty(2 * lo.size)
    y[0::2], y[1::2] = hi, lo
    return np.append(x, n - 1.0), np.append(y, vals[-1])


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
    for name, value in (("steps", steps), ("total_steps", total_steps)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
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

    curves = [(label, s, _phases.values(s, steps)) for label, s in resolved]
    if log and not any(bool((vals > 0).any()) for _, _, vals in curves):
        raise ValueError(
            f"log=True needs a positive learning rate somewhere, but every value in steps 0..{steps - 1} is 0"
        )
    single = len(resolved) == 1
    for label, s, vals in curves:
        x, y = _curve(vals)
        (line,) = ax.plot(x, y, label=label if label is not None else _short(s), linewidth=1.6)
        if not mark_phases:
            continue
        color = line.get_color()
        evs = [e for e in _phases.events(s, steps) if 0 < e.step < steps]
        if evs:
            at = np.array([e.step for e in evs])
            ax.plot(at, vals[at], linestyle="none", marker="o", markersize=4, color=color, zorder=3)
        i, top = _phases.peak(vals)
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
    ax.set_ylabel("Learning Rate")
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
        fig.savefig(path)
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
