"""DeepSpeed's learning-rate schedules (``deepspeed.runtime.lr_schedules``), by their own names, as lrkit schedules.

Each function takes the DeepSpeed class's arguments without ``optimizer``
(same names, order and defaults), plus a keyword-only ``lr=`` where DeepSpeed
reads the optimizer's learning rate::

    >>> from lrkit.compat import deepspeed
    >>> s = deepspeed.WarmupLR(warmup_min_lr=0.0, warmup_max_lr=1e-3, warmup_num_steps=100, warmup_type="linear")
    >>> s
    linear(0.0, 0.001, steps=100, begin=1)
    >>> s(0), s(1), s(2), s(101)
    (0.0, 0.0, 1e-05, 0.001)

**DeepSpeed's counting, reproduced.**  ``s(t)`` is the learning rate of
update ``t`` (updates applied before it) when the engine calls
``scheduler.step()`` after each optimizer step, as DeepSpeed does.  DeepSpeed
schedules count ``last_batch_iteration`` from -1: the constructor sets the LR
for ``last_batch_iteration = -1`` and the first ``step()`` sets it for
``last_batch_iteration = 0``, so update ``t`` runs at DeepSpeed's index
``i = t - 1``.  At ``i = -1`` the warmup schedules return their start value
(``WarmupLR``, ``WarmupDecayLR``: ``warmup_min_lr``; ``WarmupCosineLR``: 0),
and at ``i = 0`` their ramp is at 0 too: **the first two updates share a
value** (``WarmupCosineLR``: they share it only when ``warmup_min_ratio = 0``;
otherwise update 0 runs at LR 0 and update 1 at ``warmup_min_ratio * lr``).
``OneCycle`` and ``LRRangeTest`` read ``last_batch_iteration + 1 = t``, so
they have no such offset.

Quirks copied, each named in its function's docstring: ``warmup_num_steps``
below 2 counts as 2; ``WarmupDecayLR``'s decay reaches ``warmup_min_lr`` at
``total_num_steps`` (DeepSpeed's index), and with ``total_num_steps <=
warmup_num_steps`` the LR drops to ``warmup_min_lr`` right after the warmup;
``WarmupCosineLR``'s cosine clock starts at 1 (the peak ratio 1.0 is never
used); ``OneCycle``'s post-cycle decay is ``min_lr / (1 + rate * k /
decay_step_size)``.

Differences, all loud:

* ``warmup_type="log"`` (DeepSpeed's default: ``log(i + 1) / log(W)``) is
  ``ramp(shape="log")`` in ``WarmupLR`` and ``WarmupDecayLR``, and the
  multiplicative ``warmup(method="log", prefix=False)`` in ``WarmupCosineLR``.
  DeepSpeed falls back to ``"log"`` (with a warning) for an unknown
  ``warmup_type``; lrkit raises.
* Per-group lists of LRs (``warmup_min_lr=[...]``) raise ``TypeError``: build one
  schedule per group.
* ``last_batch_iteration`` other than -1 (resuming) raises: an lrkit schedule is
  resumed by its step alone (``lrkit.torch.Scheduler`` keeps it).
* ``OneCycle``'s stairs (``cycle_*_stair_count > 0``) are ``lrkit.staircase``
  pieces when the counts divide the half-cycle lengths, and raise otherwise
  (DeepSpeed's stairs would be unequal); ``LRRangeTest(lr_range_test_staircase=True)``
  is a ``staircase``.  ``OneCycle``'s momentum cycling is not part of the LR schedule.

This module never imports DeepSpeed or torch.
"""

from __future__ import annotations

from typing import Any

from ..base import Schedule
from ..composition import join, multiplier, scale, shift, staircase, warmup
from ..schedules import constant, cosine, cyclic, inverse_time, linear, ramp
from ..validators import MAX_STEPS, bounded, choice, flag, how_many_given, unsupported, whole_steps

__all__ = ["LRRangeTest", "OneCycle", "WarmupCosineLR", "WarmupDecayLR", "WarmupLR"]

_WARMUP_TYPES = ("log", "linear")


def _lr(name: str, value: Any) -> float:
    return bounded(name, value, low=0, what_peer_does="DeepSpeed accepts it and yields a negative learning rate")


def _steps(name: str, value: Any, *, minimum: int = 0, what_deepspeed_does: str = "") -> int:
    return whole_steps(name, value, peer="DeepSpeed", minimum=minimum, what_peer_does=what_deepspeed_does)


def _fresh(last_batch_iteration: Any) -> None:
    if last_batch_iteration != -1:
        unsupported(
            "last_batch_iteration",
            last_batch_iteration,
            why="an lrkit schedule is a function of the step; resume by the step (lrkit.torch.Scheduler keeps it)",
        )


def _warmup_steps(warmup_num_steps: Any, warmup_type: Any) -> int:
    """DeepSpeed's ``W = max(2, warmup_num_steps)``, after checking the ramp's name."""
    choice("warmup_type", warmup_type, _WARMUP_TYPES, what_peer_does="DeepSpeed falls back to 'log' with a warning")
    n = _steps("warmup_num_steps", warmup_num_steps, minimum=1, what_deepspeed_does="DeepSpeed raises too")
    return max(2, n)  # DeepSpeed's own floor: log(1) would divide by zero


def _linear_warmup(low: float, high: float, w: int) -> Schedule:
    # DeepSpeed's index i = t - 1 and gamma = i / W: lerp(low, high, (t - 1) / W), with s(0) = s(1) = low.
    return linear(low, high, steps=w, begin=1)


def _warmup(low: float, high: float, w: int, warmup_type: str) -> Schedule:
    """WarmupLR's ramp on DeepSpeed's index ``i = t - 1``.

    ``"log"``: ``gamma = log(i + 1) / log(W)`` for ``i < W``, 1 after: ``ramp(low, high, W, "log")``
    on the clock ``i`` (a join at 1 hands it ``t - 1``), with ``s(0) = s(1) = low`` and exactly
    ``high`` from ``t = W`` on.
    """
    if warmup_type == "log":
        return join([constant(low), ramp(low, high, steps=w, shape="log")], [1])
    return _linear_warmup(low, high, w)


def WarmupLR(
    warmup_min_lr: float = 0.0,
    warmup_max_lr: float | None = None,
    warmup_num_steps: int = 1000,
    warmup_type: str = "log",
    last_batch_iteration: int = -1,
    *,
    lr: float | None = None,
) -> Schedule:
    """DeepSpeed ``WarmupLR``: ``warmup_min_lr`` to ``warmup_max_lr`` over ``W = max(2, warmup_num_steps)``, then held.

    ``s(t) = warmup_min_lr + (warmup_max_lr - warmup_min_lr) * (t - 1) / W`` for
    ``1 <= t <= W``: ``s(0) = s(1) = warmup_min_lr`` (DeepSpeed's counting, see the
    module doc), ``s(W) = warmup_min_lr + delta * (W - 1) / W``, ``s(W + 1) = warmup_max_lr``
    held after.  Maps to ``linear(warmup_min_lr, warmup_max_lr, steps=W, begin=1)``.

    ``warmup_max_lr=None`` means the optimizer's LR in DeepSpeed: pass it as ``lr=``.
    ``warmup_type="log"`` (the default) ramps as ``log(i + 1) / log(W)`` instead: see :func:`_warmup`.
    """
    _fresh(last_batch_iteration)
    how_many_given(
        {"warmup_max_lr": warmup_max_lr, "lr": lr},
        exactly_one=False,
        what_peer_does="DeepSpeed reads warmup_max_lr=None from the optimizer: pass its LR as lr=",
    )
    high = _lr("warmup_max_lr", warmup_max_lr) if warmup_max_lr is not None else _lr("lr", lr)
    w = _warmup_steps(warmup_num_steps, warmup_type)
    return _warmup(_lr("warmup_min_lr", warmup_min_lr), high, w, warmup_type)


def WarmupDecayLR(
    total_num_steps: int,
    warmup_min_lr: float = 0.0,
    warmup_max_lr: float = 0.001,
    warmup_num_steps: int = 1000,
    warmup_type: str = "log",
    last_batch_iteration: int = -1,
) -> Schedule:
    """DeepSpeed ``WarmupDecayLR``: ``WarmupLR``'s warmup, then a linear decay back to ``warmup_min_lr``.

    With ``W = max(2, warmup_num_steps)`` and ``T = total_num_steps``: the warmup of
    :func:`WarmupLR` up to ``t = W``, then (DeepSpeed's ``i = t - 1 >= W``) the factor
    ``max(0, (T - i) / max(1, T - W))``: ``s(W + 1) = warmup_max_lr``,
    ``s(T + 1) = warmup_min_lr``, held after.  Quirk: with ``T <= W`` the LR drops to
    ``warmup_min_lr`` right after the warmup (DeepSpeed only logs a warning).

    Maps to ``join([linear(min, max, steps=W, begin=1), linear(max, min, steps=T - W)], [W + 1])``
    (``constant(min)`` as the second piece when ``T <= W``).
    """
    _fresh(last_batch_iteration)
    low, high = _lr("warmup_min_lr", warmup_min_lr), _lr("warmup_max_lr", warmup_max_lr)
    w = _warmup_steps(warmup_num_steps, warmup_type)
    total = _steps("total_num_steps", total_num_steps)
    decay = linear(high, low, steps=total - w) if total > w else constant(low)
    return join([_warmup(low, high, w, warmup_type), decay], [w + 1])


def WarmupCosineLR(
    total_num_steps: int,
    warmup_min_ratio: float = 0.0,
    warmup_num_steps: int = 1000,
    cos_min_ratio: float = 0.0001,
    warmup_type: str = "log",
    last_batch_iteration: int = -1,
    *,
    lr: float | None = None,
) -> Schedule:
    """DeepSpeed ``WarmupCosineLR``: a ratio of the optimizer's LR, warmed up linearly, then a cosine decay.

    With ``W = max(2, warmup_num_steps)``, ``N = max(1, total_num_steps - W)`` and
    DeepSpeed's index ``i = t - 1``, the ratio is:

    * ``t = 0``: **0** (DeepSpeed's constructor sets ``get_lr()`` at ``i = -1``, which is 0.0,
      not ``warmup_min_ratio``);
    * ``1 <= t <= W``: ``warmup_min_ratio + (1 - warmup_min_ratio) * (t - 1) / W``
      (``warmup_type="log"``: ``* log(t) / log(W)``, exactly 1 at ``t = W``);
    * ``t > W``: ``cos_min_ratio + (1 - cos_min_ratio) * (1 + cos(π min(1, (t - W) / N))) / 2``.
      Quirk: the cosine's clock starts at 1, so ratio 1.0 is never used; ``s(W + N)`` is
      ``cos_min_ratio``, held after.

    Composition (no clock shift needed): ``join([constant(0), warmup(join([constant(1),
    cosine(1, N, floor=cos_min_ratio)], [W - 1]), steps=W, start_factor=warmup_min_ratio,
    method=warmup_type, prefix=False)], [1])``: the inner join starts the cosine at DeepSpeed's
    ``i = W - 1`` (where it is 1.0, so the multiplicative warmup ends on it exactly).

    ``lr=`` is the optimizer's LR: the result is ``scale(ratio, lr)``; without it, the ratio as
    ``lrkit.multiplier(...)``.
    """
    _fresh(last_batch_iteration)
    w = _warmup_steps(warmup_num_steps, warmup_type)
    total = _steps("total_num_steps", total_num_steps)
    start = bounded(
        "warmup_min_ratio", warmup_min_ratio, low=0, high=1, what_peer_does="DeepSpeed accepts it: a falling 'warmup'"
    )
    floor = bounded("cos_min_ratio", cos_min_ratio, low=0, high=1, what_peer_does="DeepSpeed accepts it")
    n = max(1, total - w)
    after = join([constant(1.0), cosine(1.0, n, floor=floor)], [w - 1])
    # DeepSpeed's two ramps are warmup methods of the same names: linear i / W and log(i + 1) / log(W)
    ratio = join([constant(0.0), warmup(after, steps=w, start_factor=start, method=warmup_type, prefix=False)], [1])
    return multiplier(ratio) if lr is None else scale(ratio, _lr("lr", lr))


def _stairs(schedule: Schedule, every: int) -> Schedule:
    return schedule if every == 1 else staircase(schedule, every)  # stairs of one step: the schedule itself


def _equal_stairs(name: str, count: int, size_name: str, size: int) -> None:
    if count and size % count:
        unsupported(
            name,
            count,
            why=f"{size_name}={size} does not split into {count} stairs of whole steps (DeepSpeed's stairs would "
            "then be of unequal lengths, which lrkit.staircase does not reproduce); choose a count that divides it",
        )


def OneCycle(
    cycle_min_lr: float,
    cycle_max_lr: float,
    decay_lr_rate: float = 0.0,
    cycle_first_step_size: int = 2000,
    cycle_second_step_size: int | None = None,
    cycle_first_stair_count: int = 0,
    cycle_second_stair_count: int | None = None,
    decay_step_size: int = 0,
    cycle_momentum: bool = True,
    cycle_min_mom: float = 0.8,
    cycle_max_mom: float = 0.9,
    decay_mom_rate: float = 0.0,
    last_batch_iteration: int = -1,
) -> Schedule:
    """DeepSpeed ``OneCycle``: one triangle from ``cycle_min_lr`` up to ``cycle_max_lr`` and back, then a decay.

    With ``F = cycle_first_step_size``, ``S = cycle_second_step_size`` (default ``F``) and
    ``C = F + S``: ``s(t)`` rises linearly from ``cycle_min_lr`` at 0 to ``cycle_max_lr`` at
    ``F`` and falls back to ``cycle_min_lr`` at ``C``; after it,
    ``cycle_min_lr / (1 + decay_lr_rate * (t - C) / decay_step_size)`` (held at
    ``cycle_min_lr`` when ``decay_lr_rate`` or ``decay_step_size`` is 0, DeepSpeed's skip).
    No counting offset: DeepSpeed reads ``last_batch_iteration + 1 = t``.

    Maps to ``join([cyclic(cycle_min_lr, cycle_max_lr, F, S), inverse_time(cycle_min_lr,
    decay_step_size, decay_lr_rate)], [C])`` (``linear(min, max, F)`` when ``S = 0``).

    Stairs (``cycle_first_stair_count = n > 0``, ``cycle_second_stair_count = m``, default ``n``):
    DeepSpeed's ``floor(c * n / F) / n`` on the rise and ``floor((C - c) * m / S) / m`` on the fall.
    The rise is ``staircase(linear(min, max, F), F / n)`` (``max_lr`` at ``F``); the fall, floored
    from the cycle's end, takes each stair's far-end value: ``shift(staircase(linear(max, min, S),
    S / m), S / m)`` from ``F + 1``.  ``n`` must divide ``F`` and ``m`` divide ``S`` (else the stairs
    are unequal: refused); with ``S <= 1`` no update of the fall lies inside the cycle and ``m`` is unused.
    The momentum arguments are checked and ignored (they schedule ``betas``, not the LR).
    """
    _fresh(last_batch_iteration)
    low, high = _lr("cycle_min_lr", cycle_min_lr), _lr("cycle_max_lr", cycle_max_lr)
    first = _steps("cycle_first_step_size", cycle_first_step_size, minimum=1, what_deepspeed_does="DeepSpeed raises")
    second = first if cycle_second_step_size is None else _steps("cycle_second_step_size", cycle_second_step_size)
    up_stairs = _steps("cycle_first_stair_count", cycle_first_stair_count)
    down_stairs = (
        up_stairs if cycle_second_stair_count is None else _steps("cycle_second_stair_count", cycle_second_stair_count)
    )
    _equal_stairs("cycle_first_stair_count", up_stairs, "cycle_first_step_size", first)
    if second > 1:  # with S <= 1 no update of the fall lies inside the cycle: its stair count plays no part
        _equal_stairs("cycle_second_stair_count", down_stairs, "cycle_second_step_size", second)
    flag("cycle_momentum", cycle_momentum)
    for name, value in (
        ("cycle_min_mom", cycle_min_mom),
        ("cycle_max_mom", cycle_max_mom),
        ("decay_mom_rate", decay_mom_rate),
    ):
        bounded(name, value)
    rate = bounded("decay_lr_rate", decay_lr_rate, low=0, what_peer_does="DeepSpeed accepts it: the LR grows")
    decay_steps = _steps("decay_step_size", decay_step_size)
    after = constant(low) if rate == 0.0 or decay_steps == 0 else inverse_time(low, decay_steps, rate)
    if not up_stairs and not (second > 0 and down_stairs):
        cycle = cyclic(low, high, first, second) if second > 0 else linear(low, high, steps=first)
        return join([cycle, after], [first + second])
    # Stairs: the rise holds each value for F / stairs steps from its start (a staircase, up to max_lr at F
    # included); the fall is floored from the cycle's end, so each stair takes the value at its far end:
    # step d of the fall (1 <= d < S) runs at the fall's value at e * ceil(d / e), i.e. the staircase read e
    # steps ahead, from the join's clock d - 1.
    rise = linear(low, high, steps=first)
    rise = _stairs(rise, first // up_stairs) if up_stairs else rise
    if second <= 1:
        # no fall step inside the cycle: the rise holds max_lr at F, and the decay starts at C = F + S
        return join([rise, after], [first + second])
    fall = linear(high, low, steps=second)
    if down_stairs:
        e = second // down_stairs
        fall = shift(_stairs(fall, e), e)
    else:
        fall = shift(fall, 1)
    return join([rise, fall, after], [first + 1, first + second])


def LRRangeTest(
    lr_range_test_min_lr: float = 1e-3,
    lr_range_test_step_size: int = 2000,
    lr_range_test_step_rate: float = 1.0,
    lr_range_test_staircase: bool = False,
    last_batch_iteration: int = -1,
) -> Schedule:
    """DeepSpeed ``LRRangeTest``: ``min_lr * (1 + step_rate * t / step_size)``, growing without end.

    ``s(0) = lr_range_test_min_lr``, ``s(step_size) = min_lr * (1 + step_rate)``.  No
    counting offset (DeepSpeed reads ``last_batch_iteration + 1 = t``).  Maps to
    ``linear(min_lr, min_lr * (1 + step_rate * M / step_size), steps=M)`` with
    ``M = 2**53``, the largest step lrkit accepts: the same line for every step there is.
    ``lr_range_test_staircase=True``: ``min_lr * (1 + step_rate * floor(t / step_size))``, the same line
    in a ``staircase(..., step_size)``.
    """
    _fresh(last_batch_iteration)
    low = _lr("lr_range_test_min_lr", lr_range_test_min_lr)
    size = _steps("lr_range_test_step_size", lr_range_test_step_size, minimum=1, what_deepspeed_does="DeepSpeed raises")
    rate = bounded("lr_range_test_step_rate", lr_range_test_step_rate, low=0, what_peer_does="DeepSpeed accepts it")
    line = linear(low, low * (1.0 + rate * MAX_STEPS / size), steps=MAX_STEPS)
    # the staircase: min_lr * (1 + step_rate * floor(t / step_size)), the line held for step_size steps
    return staircase(line, size) if flag("lr_range_test_staircase", lr_range_test_staircase) else line
