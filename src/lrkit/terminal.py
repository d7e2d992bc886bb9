"""Schedules drawn as text: a chart for terminals with no display, and aligned tables.

Plain ASCII, so the output is the same on every terminal and can be pasted
into an issue or a log.  The chart never hides a jump: each column covers a
range of steps and draws every row between the lowest and the highest value in
that range (and the last value of the column before), so a one-step drop is a
vertical stroke rather than a gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["chart", "table"]

_MARK = "*"


def _label(x: float) -> str:
    return f"{x:.3g}"


def chart(values: Sequence[float] | np.ndarray, *, width: int = 64, height: int = 12, log: bool = False) -> str:
    """An ASCII chart of ``values[k]`` (the LR at step ``k``), ``width`` x ``height`` cells.

    Column ``c`` covers steps ``floor(c * n / width)`` up to the next column's
    first step (``width`` is lowered to ``n`` for short runs).  The y axis runs
    from 0 to the highest value (``log=True``: from the lowest positive value to
    the highest, on a log scale, with values ``<= 0`` drawn on the bottom row).
    Row ``r`` (0 = bottom) holds the values ``v`` with
    ``round((v - low) / (high - low) * (height - 1)) == r``.
    """
    vals = np.asarray(values, dtype=np.float64)
    n = int(vals.size)
    if n == 0:
        raise ValueError("values must not be empty")
    if width < 1 or height < 2:
        raise ValueError(f"width must be >= 1 and height >= 2, got width={width}, height={height}")
    width = min(width, n)
    if log:
        positive = vals[vals > 0]
        low = float(positive.min()) if positive.size else 1.0
        high = float(positive.max()) if positive.size else 1.0

        def pos(v: np.ndarray) -> np.ndarray:
            v = np.log10(np.maximum(v, low))
            return v - math.log10(low)

        span = math.log10(high) - math.log10(low)
    else:
        low, high = 0.0, max(float(vals.max()), 0.0)

        def pos(v: np.ndarray) -> np.ndarray:
            return v - low

        span = high - low
    if span <= 0:
        # a constant: on the top row if positive, else on the bottom row
        rows = np.full(n, height - 1 if high > 0 and not log else 0, dtype=np.int64)
    else:
        rows = np.rint(pos(vals) / span * (height - 1)).astype(np.int64)
    rows = np.clip(rows, 0, height - 1)

    grid = [[" "] * width for _ in range(height)]
    starts = [(c * n) // width for c in range(width)] + [n]
    previous: int | None = None
    for c in range(width):
        seg = rows[starts[c] : starts[c + 1]]
        lo, hi = int(seg.min()), int(seg.max())
        if previous is not None:
            lo, hi = min(lo, previous), max(hi, previous)
        for r in range(lo, hi + 1):
            grid[r][c] = _MARK
        previous = int(seg[-1])

    def level(r: int) -> float:
        if span <= 0:
            return high
        frac = r / (height - 1)
        if not log:
            return low + frac * span
        if r == height - 1:
            return high  # 10 ** log10(high) may round past the largest float (OverflowError)
        try:
            return min(10 ** (math.log10(low) + frac * span), high)
        except OverflowError:
            return high

    labelled = {height - 1: _label(level(height - 1)), 0: _label(level(0))}
    labelled.setdefault((height - 1) // 2, _label(level((height - 1) // 2)))
    pad = max(len(s) for s in labelled.values())
    lines = []
    for r in range(height - 1, -1, -1):
        lab = labelled.get(r, "")
        tick = "+" if r in labelled else "|"
        lines.append(f"{lab:>{pad}} {tick}{''.join(grid[r]).rstrip()}")
    lines.append(f"{'':>{pad}} +{'-' * width}")
    left, right = "0", str(n - 1)
    middle = str((n - 1) // 2)
    axis = [" "] * (width + 1)
    for text, at in ((left, 1), (middle, 1 + (width - len(middle)) // 2), (right, width + 1 - len(right))):
        for k, ch in enumerate(text):
            if 0 <= at + k < len(axis):
                axis[at + k] = ch
    lines.append(f"{'':>{pad}} {''.join(axis).rstrip()}   step")
    return "\n".join(lines)


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """Left-aligned text columns, right-aligned numbers, two spaces apart."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(headers))]
    numeric = [all(_is_number(r[k]) for r in cells[1:]) and len(cells) > 1 for k in range(len(headers))]
    out = []
    for row in cells:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(row, widths, numeric, strict=True)]
        out.append("  ".join(parts).rstrip())
    return "\n".join(out)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
