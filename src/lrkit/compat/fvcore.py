"""fvcore's parameter schedulers (``fvcore.common.param_scheduler``, detectron2's), by their names, as schedules.

An fvcore scheduler is a function of ``where``, the fraction of training done,
in ``[0, 1)``; detectron2's ``LRMultiplier`` calls it with ``where = t /
max_iter`` at update ``t`` and multiplies the optimizer's base LR by the
result.  Each function here takes the fvcore class's arguments plus the
keyword-only ``total_steps=`` (detectron2's ``max_iter``) and returns the
schedule ``s(t) = scheduler(t / total_steps)``::

    >>> from lrkit.compat import fvcore
    >>> fvcore.CosineParamScheduler(1.0, 0.01, total_steps=1000)
    cosine(1.0, steps=1000, floor=0.01)
    >>> fvcore.MultiStepParamScheduler([1.0, 0.1, 0.01], num_updates=90, milestones=[30, 60], total_steps=900)
    piecewise_constant([300, 600], [1.0, 0.1, 0.01])

The values are what fvcore returns: detectron2 uses them as factors of the
base LR (``lrkit.scale(s, base_lr)``, or ``lrkit.torch.Scheduler(opt,
factor=lrkit.multiplier(s))``); ClassyVision as the values themselves.

Quirk copied: the step schedulers (``MultiStepParamScheduler``,
``StepParamScheduler``, ``StepWithFixedGammaParamScheduler``) look their index
up at ``where + 1e-6`` (fvcore's ``WHERE_EPSILON``), so a change happens at the
first update ``t`` with ``int((t / total_steps + 1e-6) * n) >= k``: up to
``1e-6 * total_steps`` updates early on long runs.  lrkit finds those steps
with fvcore's own float expression.

Differences:

* fvcore is defined for ``where < 1`` (``ConstantParamScheduler`` and the step
  schedulers raise at or past the end, the cosine swings back up); lrkit
  holds the last value from ``total_steps`` on.
* ``CompositeParamScheduler`` is not provided: fvcore's pieces are
  length-agnostic, lrkit's are not; write it as ``lrkit.join`` of these
  functions, each with its own ``total_steps`` (the ``"rescaled"`` scaling), or
  with the whole run's and a ``lrkit.shift`` (``"fixed"``).
* fvcore's step schedulers index past their list in the last ``1e-6 *
  total_steps`` updates (``IndexError`` on runs longer than 1e6 updates);
  lrkit holds the last value there.
* ``ExponentialParamScheduler(decay > 1)`` (a growing value) raises
  ``ValueError``; negative values raise too.

This module never imports fvcore.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Any

from ..base import Schedule
from ..schedules import constant, cosine, exponential, linear, piecewise_constant, piecewise_interpolate, polynomial
from ..validators import bounded, compare, how_many_given, nonempty, sequence, strictly_increasing, whole_steps

__all__ = [
    "ConstantParamScheduler",
    "CosineParamScheduler",
    "ExponentialParamScheduler",
    "LinearParamScheduler",
    "MultiStepParamScheduler",
    "PolynomialDecayParamScheduler",
    "StepParamScheduler",
    "StepWithFixedGammaParamScheduler",
]

#: fvcore's ``ParamScheduler.WHERE_EPSILON``.
WHERE_EPSILON = 1e-6


def _value(name: str, value: Any) -> float:
    return bounded(name, value, low=0, what_peer_does="fvcore accepts it and yields a negative value")


def _total(total_steps: Any) -> int:
    return whole_steps(
        "total_steps",
        total_steps,
        peer="fvcore",
        minimum=1,
        what_peer_does="fvcore reads the progress where = t / total_steps (detectron2's max_iter)",
    )


def _steps_of(values: Sequence[float], index: Callable[[int], int], total: int) -> Schedule:
    """``values[index(t)]`` for a non-decreasing ``index``, as a ``piecewise_constant`` in steps.

    Each change is found with ``index`` itself (fvcore's float expression), by bisection over
    ``0..total``: the value at ``total`` and after is held.
    """
    steps = range(total + 1)
    boundaries: list[int] = []
    levels = [values[index(0)]]
    for k in range(index(0) + 1, index(total) + 1):
        b = bisect.bisect_left(steps, k, key=index)  # the first step whose index reaches k
        if boundaries and boundaries[-1] == b:
            levels[-1] = values[index(b)]  # several indices reached at once: the last one shows
        else:
            boundaries.append(b)
            levels.append(values[index(b)])
    return constant(levels[0]) if not boundaries else piecewise_constant(boundaries, levels)


def ConstantParamScheduler(value: float, *, total_steps: int) -> Schedule:
    """fvcore ``ConstantParamScheduler``: ``value`` at every step (``constant(value)``)."""
    _total(total_steps)
    return constant(_value("value", value))


def CosineParamScheduler(start_value: float, end_value: float, *, total_steps: int) -> Schedule:
    """fvcore ``CosineParamScheduler``: ``end + (start - end) * (1 + cos(π t / T)) / 2``, ``T = total_steps``.

    ``s(0) = start_value``, ``s(T) = end_value``, held after.  A decay (``start >= end``) is
    ``cosine(start, T, floor=end)``; a cosine warmup (``start < end``) is
    ``piecewise_interpolate([0, T], [start, end], method="cosine")``.
    """
    total = _total(total_steps)
    start, end = _value("start_value", start_value), _value("end_value", end_value)
    if start >= end:
        return cosine(start, total, floor=end)
    return piecewise_interpolate([0, total], [start, end], method="cosine")


def ExponentialParamScheduler(start_value: float, decay: float, *, total_steps: int) -> Schedule:
    """fvcore ``ExponentialParamScheduler``: ``start_value * decay ** (t / T)`` (``exponential(start, T, decay)``).

    ``s(T) = start_value * decay``; lrkit keeps decaying after ``T`` as fvcore's formula does.
    ``decay = 0`` is fvcore's ``0 ** where``: ``start_value`` at update 0 and 0 from update 1 on
    (``piecewise_constant([1], [start_value, 0.0])``; ``exponential`` needs a rate above 0).
    """
    total = _total(total_steps)
    rate = bounded("decay", decay, low=0, high=1, what_peer_does="fvcore accepts it: the value grows")
    start = _value("start_value", start_value)
    if rate == 0.0:
        return piecewise_constant([1], [start, 0.0])
    return exponential(start, total, rate)


def LinearParamScheduler(start_value: float, end_value: float, *, total_steps: int) -> Schedule:
    """fvcore ``LinearParamScheduler``: ``end * t / T + start * (1 - t / T)`` (``linear(start, end, T)``)."""
    total = _total(total_steps)
    return linear(_value("start_value", start_value), _value("end_value", end_value), total)


def PolynomialDecayParamScheduler(base_value: float, power: float, *, total_steps: int) -> Schedule:
    """fvcore ``PolynomialDecayParamScheduler``: ``base_value * (1 - t / T) ** power``.

    Maps to ``polynomial(base_value, T, 0.0, power)``.
    """
    total = _total(total_steps)
    p = bounded("power", power, low=0, what_peer_does="fvcore accepts it: the value grows without bound at the end")
    return polynomial(_value("base_value", base_value), total, 0.0, p)


def _values(name: str, values: Any) -> list[float]:
    items = sequence(name, values)
    nonempty(name, items, what_peer_does="fvcore raises")
    return [_value(f"{name}[{i}]", x) for i, x in enumerate(items)]


def MultiStepParamScheduler(
    values: Sequence[float],
    num_updates: int | None = None,
    milestones: Sequence[int] | None = None,
    *,
    total_steps: int,
) -> Schedule:
    """fvcore ``MultiStepParamScheduler``: ``values[bisect_right(milestones, int((t / T + 1e-6) * num_updates))]``.

    ``num_updates`` and ``milestones`` are in fvcore's own units (scale-invariant: only
    ``milestones / num_updates`` matters); ``milestones`` default to ``len(values)`` equal parts
    of ``ceil(num_updates / len(values))``, ``num_updates`` to ``milestones[-1]``.  Maps to
    ``piecewise_constant`` at the first updates where fvcore's index changes (see the module doc).
    """
    total = _total(total_steps)
    vals = _values("values", values)
    how_many_given(
        {"num_updates": num_updates, "milestones": milestones},
        exactly_one=False,
        what_peer_does="fvcore raises: num_updates and milestones cannot both be None",
    )
    if milestones is None:
        n = whole_steps("num_updates", num_updates, peer="fvcore", minimum=1)
        width = -(-n // len(vals))  # fvcore's math.ceil(num_updates / float(len(values)))
        marks = [width * (i + 1) for i in range(len(vals) - 1)]
    else:
        marks = [
            whole_steps(f"milestones[{i}]", m, peer="fvcore") for i, m in enumerate(sequence("milestones", milestones))
        ]
        expected = len(vals) - (0 if num_updates is None else 1)
        compare("len(milestones)", len(marks), "==", expected, bound_name="the number of values that need one")
        if num_updates is None:
            n, marks = marks[-1], marks[:-1]
        else:
            n = whole_steps("num_updates", num_updates, peer="fvcore", minimum=1)
    compare("num_updates", n, ">=", len(vals), bound_name="len(values)", what_peer_does="fvcore raises")
    strictly_increasing("milestones", marks, what_peer_does="fvcore raises")
    if marks:
        compare("milestones[0]", marks[0], ">", 0, bound_name="the start", what_peer_does="fvcore raises")
        compare("milestones[-1]", marks[-1], "<", n, bound_name="num_updates", what_peer_does="fvcore raises")

    def index(t: int) -> int:
        # fvcore's own expression, in its order of operations
        return bisect.bisect_right(marks, int((t / total + WHERE_EPSILON) * n))

    return _steps_of(vals, index, total)


def StepParamScheduler(num_updates: int | float, values: Sequence[float], *, total_steps: int) -> Schedule:
    """fvcore ``StepParamScheduler``: ``values[int((t / T + 1e-6) * len(values))]``: equal parts of the run.

    ``num_updates`` is only checked (``> 0``), as in fvcore.  Maps to ``piecewise_constant``.
    """
    total = _total(total_steps)
    bounded("num_updates", num_updates, low=0, low_open=True, what_peer_does="fvcore raises")
    vals = _values("values", values)
    count = len(vals)

    def index(t: int) -> int:
        return min(int((t / total + WHERE_EPSILON) * count), count - 1)  # past the end: the last value held

    return _steps_of(vals, index, total)


def StepWithFixedGammaParamScheduler(
    base_value: float, num_decays: int, gamma: float, num_updates: int, *, total_steps: int
) -> Schedule:
    """fvcore ``StepWithFixedGammaParamScheduler``: ``base * gamma ** k`` over ``num_decays + 1`` equal parts.

    The values ``base * gamma ** k`` are fvcore's (repeated products); the parts are
    :func:`StepParamScheduler`'s.
    """
    base = bounded("base_value", base_value, low=0, low_open=True, what_peer_does="fvcore raises")
    g = bounded("gamma", gamma, low=0, low_open=True, what_peer_does="fvcore raises")
    decays = whole_steps("num_decays", num_decays, peer="fvcore", minimum=1, what_peer_does="fvcore raises")
    whole_steps("num_updates", num_updates, peer="fvcore", minimum=1, what_peer_does="fvcore raises")
    values = [base]
    for _ in range(decays):
        values.append(values[-1] * g)  # fvcore's repeated products, not gamma ** k
    return StepParamScheduler(num_updates, values, total_steps=total_steps)
