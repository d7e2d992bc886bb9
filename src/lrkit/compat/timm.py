"""timm's schedulers (``timm.scheduler``), by their own names and arguments, as lrkit schedules.

Each class name takes the timm constructor's arguments without ``optimizer``
(same names, order and defaults), plus two keyword-only arguments:

* ``lr=``: the optimizer's learning rate (timm's ``base_values``).  With it the
  result is an absolute LR schedule; without it, ``lrkit.multiplier(...)`` of
  the factor (then ``lr_min`` and ``warmup_lr_init``, absolute LRs in timm,
  must be 0: otherwise pass ``lr=``).
* ``steps_per_epoch=``: with ``t_in_epochs=True`` (timm's default) timm's
  ``t`` counts epochs: the LR of every update of epoch ``e`` is timm's value
  at ``e``.  lrkit counts optimizer updates, so it needs the epoch length:
  the result is ``staircase(s, steps_per_epoch)``, with ``s`` the per-update
  schedule counted in epochs and every duration multiplied by ``steps_per_epoch``.

::

    >>> from lrkit.compat import timm
    >>> timm.CosineLRScheduler(t_initial=1000, lr_min=1e-5, warmup_t=50, warmup_lr_init=1e-6,
    ...                        warmup_prefix=True, t_in_epochs=False, lr=1e-3)
    join([linear(1e-06, 0.001, steps=50), cosine(0.001, steps=1000, floor=1e-05)], [50])

The step ``t`` is timm's ``num_updates`` (``t_in_epochs=False``): timm's
training loop calls ``scheduler.step_update(num_updates)`` after each update,
so update ``t`` runs with timm's value at ``t``; update 0 runs with the LR the
constructor set (``warmup_lr_init`` with a warmup, else the optimizer's LR).

Quirks copied, each named where it applies:

* **Update 0 keeps the constructor's LR.**  Without a warmup it is the
  optimizer's LR, not timm's value at 0: ``TanhLRScheduler`` starts at
  ``lr_min + (lr - lr_min) * (1 - tanh(lb)) / 2`` from update 1 on, and a
  ``MultiStepLRScheduler`` milestone of 0 or 1 takes effect at update 1.
* **MultiStepLRScheduler's milestones apply one step early**: ``m`` takes
  effect at ``t = m - 1`` (timm's ``bisect_right(decay_t, t + 1)``, kept on
  purpose by timm).
* **The warmup runs before the decay's clock or on top of it**:
  ``warmup_prefix=True`` starts the decay after the warmup; ``False`` (the
  default of Cosine/Poly/Tanh) runs the decay on the global clock and
  *replaces* its first ``warmup_t`` values by the ramp (no multiplication):
  after the ramp the decay continues from ``warmup_t`` (``lrkit.shift`` for
  the cosine; poly and tanh take the offset in their own parameters).
  The ramp is ``warmup_lr_init + t * (target - warmup_lr_init) / warmup_t``,
  with ``target`` the LR, except ``TanhLRScheduler`` without prefix, which
  ramps to its own value at ``warmup_t``.
* **After ``cycle_limit`` cycles the LR drops to ``lr_min``** (even for the
  tanh, whose cycle ends above it); the peak of cycle ``i`` is ``lr *
  cycle_decay ** i`` and ``lr_min`` is not decayed.

Differences, all loud (``ValueError``/``TypeError`` naming the argument):

* Noise (``noise_range_t``) is random by design: refused.
* ``k_decay`` (``t**k / T**k``) is the ``k`` of ``lrkit.cosine`` and
  ``lrkit.polynomial``; ``cosine_restarts`` has none, so cosine cycles with
  ``k_decay != 1`` are written out as a ``join`` (whole cycle lengths only).
* Cycle lengths must be whole steps (``t_initial * cycle_mul ** i``), except
  for cosine cycles with ``lr_min = 0`` or ``cycle_decay = 1``, which are SGDR
  (``lrkit.cosine_restarts``).  ``cycle_mul < 1`` and ``cycle_decay > 1`` are
  refused (timm fails with a math domain error / grows without bound).
* ``decay_t`` and ``warmup_t`` must be whole steps (or epochs).

This module never imports timm or torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from .._backend import SCALAR
from ..base import Schedule
from ..composition import join, multiplier, staircase
from ..composition import shift as ahead
from ..schedules import constant, cosine, cosine_restarts, linear, multistep, polynomial, step, tanh
from ..shapes import lerp, power_weight
from ..validators import bounded, choice, flag, real, sequence, unsupported, whole

__all__ = [
    "CosineLRScheduler",
    "MultiStepLRScheduler",
    "PolyLRScheduler",
    "StepLRScheduler",
    "TanhLRScheduler",
    "create_scheduler_v2",
]

#: cycles written out as join pieces at most (cosine_restarts has no such limit).
MAX_CYCLE_PIECES = 256


# -- arguments -----------------------------------------------------------------------


def _lr(name: str, value: Any) -> float:
    return bounded(name, value, low=0, what_peer_does="timm accepts it and yields a negative learning rate")


def _whole(name: str, value: Any, *, minimum: int = 0, what_peer_does: str = "timm asserts or misbehaves") -> int:
    return whole(name, value, minimum=minimum, peer="timm", what_peer_does=what_peer_does)


def _base(lr: Any, lr_min: float, warmup_lr_init: float, warmup_t: int) -> float:
    if lr is not None:
        return _lr("lr", lr)
    # warmup_lr_init matters only with a warmup
    for name, value in (("lr_min", lr_min), ("warmup_lr_init", warmup_lr_init if warmup_t else 0.0)):
        if value != 0.0:
            unsupported(
                name,
                value,
                why="it is an absolute learning rate in timm, so a factor schedule cannot hold it: "
                "pass the optimizer's learning rate as lr=",
            )
    return 1.0


def _noise(noise_range_t: Any) -> None:
    if noise_range_t is not None:
        unsupported(
            "noise_range_t",
            noise_range_t,
            why="timm's LR noise is random by design and an lrkit schedule is a pure function of the step; "
            "leave noise_range_t=None",
        )


def _k_decay(k_decay: Any) -> float:
    # timm's t**k / T**k is lrkit's k on cosine and polynomial (lrkit.shapes.k_progress)
    what = "timm holds lr_min (k = 0) or fails at t = 0"
    return bounded("k_decay", k_decay, low=0, low_open=True, what_peer_does=what)


def _clock(t_in_epochs: Any, steps_per_epoch: Any) -> int | None:
    """``None`` for per-update semantics, else the epoch length in updates."""
    if not flag("t_in_epochs", t_in_epochs):
        return None
    if steps_per_epoch is None:
        raise TypeError(
            "t_in_epochs=True (timm's default) counts epochs: pass steps_per_epoch= (updates per epoch), "
            "or t_in_epochs=False for a schedule counted in updates"
        )
    return _whole("steps_per_epoch", steps_per_epoch, minimum=1)


# -- cycles: the decay without warmup, on a clock that starts at `shift` ------------------


def _cycles(t_initial: int, cycle_mul: float, cycle_limit: int) -> list[tuple[float, float]]:
    """(start, length) of each of the ``cycle_limit`` cycles (timm's ``t_initial * cycle_mul ** i``)."""
    out, start = [], 0.0
    for i in range(cycle_limit):
        length = t_initial * cycle_mul**i if cycle_mul != 1.0 else float(t_initial)
        out.append((start, length))
        start += length
    return out


def _whole_cycles(cycles: list[tuple[float, float]]) -> list[tuple[int, int]]:
    if len(cycles) > MAX_CYCLE_PIECES:
        unsupported(
            "cycle_limit", len(cycles), why=f"at most {MAX_CYCLE_PIECES} cycles are written out as pieces of a join"
        )
    for start, length in cycles:
        if not (float(start).is_integer() and float(length).is_integer()):
            unsupported(
                "cycle_mul",
                length / cycles[0][1],
                why=f"a cycle of {length!r} steps starting at {start!r} is not a whole number of steps "
                "(lrkit's joins switch at whole steps); choose t_initial and cycle_mul with whole cycle lengths",
            )
    return [(int(s), int(n)) for s, n in cycles]


Shape = Callable[[float, int, int], Schedule]  # (peak, length, offset into the cycle) -> the cycle's piece


def _decay(
    shape: Shape,
    *,
    base: float,
    t_initial: int,
    lr_min: float,
    cycle_mul: float,
    cycle_decay: float,
    cycle_limit: int,
    shift: int = 0,
    restarts: bool = False,
) -> Schedule:
    """timm's cycled decay (no warmup) seen from step ``shift`` on: ``s(u) = timm(u + shift)``.

    Each cycle ``i`` is ``shape(base * cycle_decay ** i, length_i, offset)``, then
    ``constant(lr_min)`` after ``cycle_limit`` cycles.  ``restarts``: the cosine
    cycles are SGDR, ``cosine_restarts`` (any ``cycle_mul``), instead of pieces.
    """
    cycles = _cycles(t_initial, cycle_mul, cycle_limit)
    if not cycles:  # cycle_limit=0: timm is at lr_min from the start (after any warmup)
        return constant(lr_min)
    end = cycles[-1][0] + cycles[-1][1]
    if restarts:
        if cycle_limit == 1:
            return shape(base, t_initial, 0)
        sgdr = cosine_restarts(base, t_initial, t_mul=cycle_mul, m_mul=cycle_decay, floor=lr_min)
        # timm's cycle index floor(log(...)) switches to lr_min at the first whole step past the last cycle
        return join([sgdr, constant(lr_min)], [math.ceil(end)])
    pieces: list[Schedule] = []
    bounds: list[int] = []
    for i, (start, length) in enumerate(_whole_cycles(cycles)):
        if start + length <= shift:
            continue  # the whole cycle lies before the clock starts
        offset = max(shift - start, 0)
        if pieces:
            bounds.append(start - shift)
        pieces.append(shape(base * cycle_decay**i, length, offset))
    tail = constant(lr_min)
    if not pieces:
        return tail
    bounds.append(int(end) - shift)
    return join([*pieces, tail], bounds)


# -- warmup, the update-0 quirk and the epoch clock ------------------------------------


class _Common(NamedTuple):
    """The arguments every timm scheduler shares, checked."""

    base: float  # the optimizer's LR (1.0 for a factor)
    warmup_t: int
    warmup_lr_init: float
    warmup_prefix: bool
    epoch: int | None  # steps per epoch with t_in_epochs=True, else None
    lr: float | None


def _common(
    *,
    lr: Any,
    lr_min: float,
    warmup_t: Any,
    warmup_lr_init: Any,
    warmup_prefix: Any,
    t_in_epochs: Any,
    steps_per_epoch: Any,
    noise_range_t: Any,
    initialize: Any,
) -> _Common:
    _noise(noise_range_t)
    flag("initialize", initialize)
    epoch = _clock(t_in_epochs, steps_per_epoch)
    w, init = _whole("warmup_t", warmup_t), _lr("warmup_lr_init", warmup_lr_init)
    return _Common(_base(lr, lr_min, init, w), w, init, flag("warmup_prefix", warmup_prefix), epoch, lr)


def _build(decay: Callable[[int], Schedule], c: _Common, *, ramp_to_own_value: bool = False) -> Schedule:
    """timm's ``_get_lr`` plus the constructor's LR for update 0, per update or per epoch.

    ``decay(shift)`` is the schedule without warmup seen from ``shift`` on (timm's
    global clock): ``decay(shift)(u) = timm(u + shift)``.  Per update, the ramp (or
    the update-0 quirk) then the decay.  Per epoch, update ``t`` runs at timm's value
    at epoch ``e = t // steps_per_epoch``: the same schedule counted in epochs, with
    every duration multiplied by ``steps_per_epoch`` and held for an epoch
    (``staircase``).  Without ``lr=``, a multiplier.
    """
    w = c.warmup_t
    if w > 0:
        target = decay(0)(w) if (ramp_to_own_value and not c.warmup_prefix) else c.base
        ramp: Schedule | None = linear(c.warmup_lr_init, target, steps=w)
        head = w
        shift = 0 if c.warmup_prefix else w
    else:
        # Update 0 runs at the constructor's LR (the optimizer's), not at timm's value at 0.
        quirk = decay(0)(0) != c.base
        ramp = constant(c.base) if quirk else None
        head = 1 if quirk else 0
        shift = head
    tail = decay(shift)
    out = tail if ramp is None else _then(ramp, head, tail)
    if c.epoch is not None and c.epoch > 1:
        out = staircase(_stretch(out, c.epoch), c.epoch)
    return out if c.lr is not None else multiplier(out)


def _stretch(schedule: Schedule, k: int) -> Schedule:
    """``schedule`` with every duration multiplied by ``k``, so that ``_stretch(s, k)(k * e) == s(e)``.

    Every block here reads its durations only through ``t / length``-style ratios and
    whole-step comparisons, and ``(k e) / (k L)`` rounds exactly as ``e / L``.
    """
    params: dict[str, Any] = {}
    for name, value in schedule.params().items():
        if isinstance(value, Schedule):
            value = _stretch(value, k)
        elif isinstance(value, tuple) and value and isinstance(value[0], Schedule):
            value = [_stretch(x, k) for x in value]
        elif name in schedule._duration_fields and value is not None:
            value = [x * k for x in value] if isinstance(value, tuple) else value * k
        params[name] = value
    return type(schedule)(**params)


def _then(first: Schedule, length: int, rest: Schedule) -> Schedule:
    """``join([first, rest], [length])``, flattened when ``rest`` is a join itself (same values, shorter spec)."""
    if isinstance(rest, join):
        return join([first, *rest.schedules], [length, *(length + b for b in rest.boundaries)])
    return join([first, rest], [length])


def _cycle_args(t_initial: Any, lr_min: Any, cycle_mul: Any, cycle_decay: Any, cycle_limit: Any) -> dict[str, Any]:
    return dict(
        t_initial=_whole("t_initial", t_initial, minimum=1),
        lr_min=_lr("lr_min", lr_min),
        cycle_mul=bounded("cycle_mul", cycle_mul, low=1, what_peer_does="timm fails with a math domain error"),
        cycle_decay=bounded(
            "cycle_decay", cycle_decay, low=0, high=1, what_peer_does="timm accepts it: each cycle peaks higher"
        ),
        cycle_limit=_whole("cycle_limit", cycle_limit),
    )


# -- the schedulers ---------------------------------------------------------------------


def CosineLRScheduler(
    t_initial: int,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    k_decay: float = 1.0,
    initialize: bool = True,
    *,
    lr: float | None = None,
    steps_per_epoch: int | None = None,
) -> Schedule:
    """timm ``CosineLRScheduler``: cosine cycles (SGDR) with a linear warmup.

    Cycle ``i`` lasts ``t_initial * cycle_mul ** i`` and runs
    ``lr_min + (lr * cycle_decay ** i - lr_min) * (1 + cos(π t_cur / t_i)) / 2``; after
    ``cycle_limit`` cycles (default 1) the LR is ``lr_min``.  One cycle is
    ``cosine(lr, t_initial, floor=lr_min)``; several are ``cosine_restarts`` (when
    ``lr_min = 0`` or ``cycle_decay = 1``) or a ``join`` of cosines, then ``constant(lr_min)``.
    The warmup (``warmup_t`` steps from ``warmup_lr_init``, exactly ``lr`` at ``warmup_t``)
    is ``join([linear(warmup_lr_init, lr, warmup_t), ...], [warmup_t])``; see the module doc
    for ``warmup_prefix``, ``lr``, ``steps_per_epoch`` and what is refused.
    """
    k = _k_decay(k_decay)
    args = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit)
    c = _common(
        lr=lr,
        lr_min=args["lr_min"],
        warmup_t=warmup_t,
        warmup_lr_init=warmup_lr_init,
        warmup_prefix=warmup_prefix,
        t_in_epochs=t_in_epochs,
        steps_per_epoch=steps_per_epoch,
        noise_range_t=noise_range_t,
        initialize=initialize,
    )
    # SGDR's floor is not decayed; timm's lr_min is not either, but its peaks are: equal when either is trivial.
    # SGDR has no k-decay: with k != 1 the cycles are written out.
    restarts = (args["lr_min"] == 0.0 or args["cycle_decay"] == 1.0 or args["cycle_limit"] == 1) and (
        k == 1.0 or args["cycle_limit"] <= 1
    )

    def shape(peak: float, length: int, offset: int) -> Schedule:
        # a clock that starts `offset` steps into the cycle (warmup_prefix=False): the cosine, shifted
        piece = cosine(peak, length, floor=args["lr_min"], k=k)
        return ahead(piece, offset) if offset else piece

    def decay(start: int) -> Schedule:
        if restarts:  # SGDR on timm's global clock, seen from `start` on
            sgdr = _decay(shape, base=c.base, restarts=True, **args)
            return ahead(sgdr, start) if start else sgdr
        return _decay(shape, base=c.base, shift=start, **args)

    return _build(decay, c)


def PolyLRScheduler(
    t_initial: int,
    power: float = 0.5,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    k_decay: float = 1.0,
    initialize: bool = True,
    *,
    lr: float | None = None,
    steps_per_epoch: int | None = None,
) -> Schedule:
    """timm ``PolyLRScheduler``: ``lr_min + (lr * cycle_decay ** i - lr_min) * (1 - t_cur / t_i) ** power`` per cycle.

    Each cycle is ``polynomial(peak, t_i, end_value=lr_min, power=power)``, then
    ``constant(lr_min)`` after ``cycle_limit`` cycles.  A clock that starts ``k`` steps
    into a cycle (``warmup_prefix=False``) is exact: ``(1 - (u + k) / T) ** power`` is
    ``((T - k) / T) ** power * (1 - u / (T - k)) ** power``, a polynomial of length
    ``T - k`` from the value at ``k``.  Warmup and the rest: as :func:`CosineLRScheduler`.
    """
    k = _k_decay(k_decay)
    args = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit)
    p = bounded("power", power, low=0, what_peer_does="timm accepts it: the LR rises past the peak")
    c = _common(
        lr=lr,
        lr_min=args["lr_min"],
        warmup_t=warmup_t,
        warmup_lr_init=warmup_lr_init,
        warmup_prefix=warmup_prefix,
        t_in_epochs=t_in_epochs,
        steps_per_epoch=steps_per_epoch,
        noise_range_t=noise_range_t,
        initialize=initialize,
    )
    low = args["lr_min"]

    def shape(peak: float, length: int, offset: int) -> Schedule:
        if k != 1.0:  # (t**k / T**k) does not restart as a shorter polynomial: shift the clock instead
            piece = polynomial(peak, length, end_value=low, power=p, k=k)
            return ahead(piece, offset) if offset else piece
        # the cycle seen from `offset` steps in: its value there, decaying over what is left
        start = lerp(low, peak, power_weight(offset / length, SCALAR, p))
        return polynomial(start, length - offset, end_value=low, power=p)

    return _build(lambda shift: _decay(shape, base=c.base, shift=shift, **args), c)


def TanhLRScheduler(
    t_initial: int,
    lb: float = -7.0,
    ub: float = 3.0,
    lr_min: float = 0.0,
    cycle_mul: float = 1.0,
    cycle_decay: float = 1.0,
    cycle_limit: int = 1,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = False,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    initialize: bool = True,
    *,
    lr: float | None = None,
    steps_per_epoch: int | None = None,
) -> Schedule:
    """timm ``TanhLRScheduler``: ``lr_min + (peak - lr_min) * (1 - tanh(lb * (1 - x) + ub * x)) / 2`` per cycle.

    ``x = t_cur / t_i``; each cycle is ``tanh(peak, t_i, floor=lr_min, lower=lb, upper=ub)``,
    and the LR drops to ``lr_min`` after ``cycle_limit`` cycles (the tanh ends above it).
    Quirks: without a warmup update 0 runs at ``lr`` itself (the constructor's LR), the
    tanh from update 1 on; with ``warmup_prefix=False`` the warmup ramps to the tanh's
    value at ``warmup_t``.  A clock that starts ``k`` steps into a cycle is exact: the tanh's
    argument is affine, so it is ``tanh(peak, T - k, lower=lb + (ub - lb) * k / T, upper=ub)``.
    """
    args = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit)
    lower, upper = real("lb", lb), real("ub", ub)
    c = _common(
        lr=lr,
        lr_min=args["lr_min"],
        warmup_t=warmup_t,
        warmup_lr_init=warmup_lr_init,
        warmup_prefix=warmup_prefix,
        t_in_epochs=t_in_epochs,
        steps_per_epoch=steps_per_epoch,
        noise_range_t=noise_range_t,
        initialize=initialize,
    )

    def shape(peak: float, length: int, offset: int) -> Schedule:
        return tanh(peak, length - offset, floor=args["lr_min"], lower=lerp(lower, upper, offset / length), upper=upper)

    return _build(lambda shift: _decay(shape, base=c.base, shift=shift, **args), c, ramp_to_own_value=True)


def StepLRScheduler(
    decay_t: float,
    decay_rate: float = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = True,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    initialize: bool = True,
    *,
    lr: float | None = None,
    steps_per_epoch: int | None = None,
) -> Schedule:
    """timm ``StepLRScheduler``: ``lr * decay_rate ** (t // decay_t)``, after a warmup (prefix by default).

    ``step(lr, decay_t, decay_rate)`` on the decay's clock.  Without prefix the decay
    runs on the global clock: seen from the end of the warmup ``W`` it is
    ``join([constant(lr * r ** (W // d)), step(lr * r ** (W // d + 1), d, r)], [d - W % d])``.
    Per epoch, every duration is multiplied by ``steps_per_epoch``.
    """
    d = _whole("decay_t", decay_t, minimum=1)
    rate = bounded("decay_rate", decay_rate, low=0, high=1, what_peer_does="timm accepts it: the LR grows")
    c = _common(
        lr=lr,
        lr_min=0.0,
        warmup_t=warmup_t,
        warmup_lr_init=warmup_lr_init,
        warmup_prefix=warmup_prefix,
        t_in_epochs=t_in_epochs,
        steps_per_epoch=steps_per_epoch,
        noise_range_t=noise_range_t,
        initialize=initialize,
    )

    def decay(shift: int) -> Schedule:
        in_steps = step(c.base, d, rate)  # timm's decay on its own clock
        first = in_steps(shift)
        if shift % d == 0:
            return step(first, d, rate)
        # the clock starts part-way through a period: hold its value until the next drop
        rest = d - shift % d
        return join([constant(first), step(in_steps(shift + rest), d, rate)], [rest])

    return _build(decay, c)


def MultiStepLRScheduler(
    decay_t: Sequence[int],
    decay_rate: float = 1.0,
    warmup_t: int = 0,
    warmup_lr_init: float = 0.0,
    warmup_prefix: bool = True,
    t_in_epochs: bool = True,
    noise_range_t: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    initialize: bool = True,
    *,
    lr: float | None = None,
    steps_per_epoch: int | None = None,
) -> Schedule:
    """timm ``MultiStepLRScheduler``: ``lr * decay_rate ** bisect_right(decay_t, t + 1)``.

    Quirk: milestone ``m`` takes effect at ``t = m - 1`` (one step before torch's
    ``MultiStepLR``), so this is ``multistep(lr, [m - 1, ...], decay_rate)`` on the decay's
    clock; without a warmup, a milestone at 0 or 1 takes effect at update 1 (update 0
    runs at the constructor's LR).  Per epoch, milestones are multiplied by ``steps_per_epoch``.
    """
    milestones = [_whole(f"decay_t[{i}]", m) for i, m in enumerate(sequence("decay_t", decay_t))]
    rate = bounded("decay_rate", decay_rate, low=0, high=1, what_peer_does="timm accepts it: the LR grows")
    c = _common(
        lr=lr,
        lr_min=0.0,
        warmup_t=warmup_t,
        warmup_lr_init=warmup_lr_init,
        warmup_prefix=warmup_prefix,
        t_in_epochs=t_in_epochs,
        steps_per_epoch=steps_per_epoch,
        noise_range_t=noise_range_t,
        initialize=initialize,
    )
    early = [max(m - 1, 0) for m in milestones]  # timm's bisect_right(decay_t, t + 1)
    if early != sorted(early):
        unsupported("decay_t", milestones, why="timm assumes sorted milestones (its bisect); sort them")

    def decay(shift: int) -> Schedule:
        passed = sum(1 for m in early if m <= shift)
        return multistep(c.base * rate**passed, [m - shift for m in early if m > shift], rate)

    return _build(decay, c)


_SCHEDS = ("cosine", "tanh", "step", "constant", "multistep", "poly")


def create_scheduler_v2(
    sched: str = "cosine",
    num_epochs: int = 300,
    decay_epochs: float | None = None,
    decay_milestones: Sequence[int] = (90, 180, 270),
    cooldown_epochs: int = 0,
    patience_epochs: int = 10,
    decay_rate: float = 0.1,
    min_lr: float = 0.0,
    warmup_lr: float = 1e-5,
    warmup_epochs: int = 0,
    warmup_prefix: bool = False,
    noise: Any = None,
    noise_pct: float = 0.67,
    noise_std: float = 1.0,
    noise_seed: int = 42,
    cycle_mul: float = 1.0,
    cycle_decay: float = 0.1,
    cycle_limit: int = 1,
    k_decay: float = 1.0,
    decay_fn: str | None = None,
    stable_timescale: float | None = None,
    plateau_mode: str = "max",
    step_on_epochs: bool = True,
    updates_per_epoch: int = 0,
    *,
    lr: float | None = None,
) -> Schedule:
    """The schedule ``timm.scheduler.create_scheduler_v2(optimizer, ...)`` builds, from the same keyword arguments.

    timm returns ``(scheduler, num_epochs)``; this returns the schedule (counted in
    updates: ``updates_per_epoch`` is required either way, since lrkit counts updates).
    With ``step_on_epochs=False`` timm multiplies every epoch count by
    ``updates_per_epoch`` and steps per update; with ``True`` the LR changes once per
    epoch.  ``sched`` is one of ``cosine``, ``tanh``, ``step``, ``constant`` (a step
    schedule that never decays, keeping the warmup), ``multistep``, ``poly`` (power
    ``decay_rate``); ``wsd``, ``rsqrt``, ``plateau`` and ``none`` are refused.
    ``cooldown_epochs`` and ``patience_epochs`` only change timm's returned epoch count.
    """
    kind = choice("sched", sched, (*_SCHEDS, "wsd", "rsqrt", "plateau", "none"))
    if kind not in _SCHEDS:
        unsupported("sched", kind, why=f"this converter covers {', '.join(_SCHEDS)}")
    upe = _whole(
        "updates_per_epoch",
        updates_per_epoch,
        minimum=1,
        what_peer_does="lrkit counts optimizer updates, so it needs the number of updates per epoch",
    )
    per_epoch = flag("step_on_epochs", step_on_epochs)
    unit = 1 if per_epoch else upe
    if noise is not None:
        unsupported("noise", noise, why="timm's LR noise is random by design; leave noise=None")
    common: dict[str, Any] = dict(
        warmup_t=_whole("warmup_epochs", warmup_epochs) * unit,
        warmup_lr_init=warmup_lr,
        warmup_prefix=warmup_prefix,
        t_in_epochs=per_epoch,
        lr=lr,
        steps_per_epoch=upe if per_epoch else None,
    )
    cycles: dict[str, Any] = dict(cycle_mul=cycle_mul, cycle_decay=cycle_decay, cycle_limit=cycle_limit)
    t_initial = _whole("num_epochs", num_epochs, minimum=1) * unit
    if kind == "cosine":
        return CosineLRScheduler(t_initial, lr_min=min_lr, k_decay=k_decay, **cycles, **common)
    if kind == "tanh":
        return TanhLRScheduler(t_initial, lr_min=min_lr, **cycles, **common)
    if kind == "poly":
        return PolyLRScheduler(t_initial, power=decay_rate, lr_min=min_lr, k_decay=k_decay, **cycles, **common)
    if kind == "step":
        d = 90 if decay_epochs is None else decay_epochs
        return StepLRScheduler(_whole("decay_epochs", d, minimum=1) * unit, decay_rate=decay_rate, **common)
    if kind == "constant":
        return StepLRScheduler(unit, decay_rate=1.0, **common)
    milestones = [
        _whole(f"decay_milestones[{i}]", m) * unit for i, m in enumerate(sequence("decay_milestones", decay_milestones))
    ]
    return MultiStepLRScheduler(milestones, decay_rate=decay_rate, **common)
