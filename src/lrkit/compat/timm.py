"""timm's schedulers (``timm.scheduler``), by their own names and arguments, as lrkit schedules.

Each class name takes the timm constructor's arguments without ``optimizer``
(same names, order and defaults), plus two keyword-only arguments:

* ``lr=``: the optimizer's learning rate (timm's ``base_values``).  With it the
  result is an absolute LR schedule; without it, ``lrkit.multiplier(...)`` of
  the factor (then ``lr_min`` and ``warmup_lr_init``, absolute LRs in timm,
  must be 0: otherwise pass ``lr=``).
* ``steps_per_epoch=``: with ``t_in_epochs=True`` (timm's default) timm's
  ``t`` counts epochs: the LR of every update of epoch ``e`` is timm's value
  at ``e``.  lrkit counts optimizer updates, so it needs the epoch length.

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
  *replaces* its first ``warmup_t`` values by the ramp (no multiplication).
  The ramp is ``warmup_lr_init + t * (target - warmup_lr_init) / warmup_t``,
  with ``target`` the LR, except ``TanhLRScheduler`` without prefix, which
  ramps to its own value at ``warmup_t``.
* **After ``cycle_limit`` cycles the LR drops to ``lr_min``** (even for the
  tanh, whose cycle ends above it); the peak of cycle ``i`` is ``lr *
  cycle_decay ** i`` and ``lr_min`` is not decayed.

Differences, all loud (``ValueError``/``TypeError`` naming the argument):

* Noise (``noise_range_t``) is random by design: refused.
* ``k_decay != 1`` is refused (no lrkit schedule runs a decay on ``t**k`` yet).
* ``CosineLRScheduler`` with ``warmup_prefix=False`` and a warmup that ends
  inside a cycle, updated per step (``t_in_epochs=False``), is refused: the
  cosine would have to start part-way through, which lrkit cannot express
  yet.  Per epoch (``t_in_epochs=True``) it is exact.  Poly and tanh shift
  exactly (their shapes take the offset in their parameters).
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
from typing import Any

from .._backend import SCALAR
from ..base import Schedule
from ..composition import join, multiplier
from ..schedules import constant, cosine, cosine_restarts, linear, multistep, piecewise_constant, polynomial, step, tanh
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
#: epochs sampled at most for a per-epoch (t_in_epochs=True) decay.
MAX_EPOCHS = 100_000


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


def _k_decay(k_decay: Any) -> None:
    if real("k_decay", k_decay) != 1.0:
        unsupported("k_decay", k_decay, why="no lrkit schedule decays on t**k / T**k yet (lrkit.shapes.k_progress)")


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
        sgdr = cosine_restarts(base, t_initial, t_mul=cycle_mul, m_mul=cycle_decay, floor=lr_min)
        if cycle_limit == 1:
            return cosine(base, t_initial, floor=lr_min)
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


def _assemble(
    decay: Callable[[int], Schedule],
    *,
    base: float,
    warmup_t: int,
    warmup_lr_init: float,
    warmup_prefix: bool,
    ramp_to_own_value: bool,
    epoch: int | None,
    finite_end: int | None,
    scaled_decay: Callable[[int, int], Schedule] | None = None,
) -> Schedule:
    """timm's ``_get_lr`` plus the constructor's LR for update 0, per update or per epoch.

    ``decay(shift)`` is the schedule without warmup seen from ``shift`` on (timm's
    global clock).  ``finite_end``: the step (epoch) from which the decay is
    ``lr_min`` for good (``None``: periodic, a step schedule).  ``scaled_decay(shift,
    unit)``: the same decay with every duration multiplied by ``unit`` (piecewise
    constant decays only), for the epoch clock.
    """
    w = warmup_t
    if w > 0:
        target = decay(0)(w) if (ramp_to_own_value and not warmup_prefix) else base
        ramp: Schedule | None = linear(warmup_lr_init, target, steps=w)
        head = w
        shift = 0 if warmup_prefix else w
    else:
        # Update 0 runs at the constructor's LR (the optimizer's), not at timm's value at 0.
        quirk = decay(0)(0) != base
        ramp = constant(base) if quirk else None
        head = 1 if quirk else 0
        shift = head

    def at(e: int) -> float:
        """timm's LR for epoch (or update) ``e``, from lrkit schedules: the ramp, then the decay."""
        if ramp is not None and e < head:
            return float(ramp(e))
        return float(decay(0)(e - w if (w > 0 and warmup_prefix) else e))

    if epoch is None:
        tail = decay(shift)
        return tail if ramp is None else _then(ramp, head, tail)
    # Per epoch: every update of epoch e runs at timm's value at e (a staircase).
    if scaled_decay is not None:  # piecewise constant after the head: scale its durations
        tail = scaled_decay(shift, epoch)
        if head == 0:
            return tail
        values = [at(e) for e in range(head)]
        head_pc = constant(values[0]) if head == 1 else piecewise_constant([epoch * e for e in range(1, head)], values)
        return _then(head_pc, epoch * head, tail)
    assert finite_end is not None
    # a warmup longer than the decay (without prefix) is sampled to its end too
    last = max(finite_end + (w if warmup_prefix else 0), head)
    if last > MAX_EPOCHS:
        unsupported("t_initial", last, why=f"a per-epoch schedule samples at most {MAX_EPOCHS} epochs")
    values = [at(e) for e in range(last + 1)]
    if last == 0:
        return constant(values[0])
    return piecewise_constant([epoch * e for e in range(1, last + 1)], values)


def _then(first: Schedule, length: int, rest: Schedule) -> Schedule:
    """``join([first, rest], [length])``, flattened when ``rest`` is a join itself (same values, shorter spec)."""
    if isinstance(rest, join):
        return join([first, *rest.schedules], [length, *(length + b for b in rest.boundaries)])
    return join([first, rest], [length])


def _finish(schedule: Schedule, lr: Any) -> Schedule:
    return schedule if lr is not None else multiplier(schedule)


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


def _finite_end(args: dict[str, Any]) -> int:
    cycles = _cycles(args["t_initial"], args["cycle_mul"], args["cycle_limit"])
    return math.ceil(cycles[-1][0] + cycles[-1][1]) if cycles else 0


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
    _noise(noise_range_t)
    _k_decay(k_decay)
    flag("initialize", initialize)
    epoch = _clock(t_in_epochs, steps_per_epoch)
    args = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit)
    w, init = _whole("warmup_t", warmup_t), _lr("warmup_lr_init", warmup_lr_init)
    base = _base(lr, args["lr_min"], init, w)
    # SGDR's floor is not decayed; timm's lr_min is not either, but its peaks are: equal when either is trivial
    restarts = args["lr_min"] == 0.0 or args["cycle_decay"] == 1.0 or args["cycle_limit"] == 1

    def shape(peak: float, length: int, offset: int) -> Schedule:
        if offset:
            unsupported(
                "warmup_prefix",
                False,
                why=f"the warmup ends {offset} steps into a cosine cycle, which would have to start part-way "
                "through (lrkit cannot shift a cosine's clock yet); use warmup_prefix=True, t_in_epochs=True "
                "with steps_per_epoch, or a warmup that ends at a cycle boundary",
            )
        return cosine(peak, length, floor=args["lr_min"])

    def decay(shift: int) -> Schedule:
        use_restarts = restarts and shift == 0
        return _decay(shape, base=base, shift=shift, restarts=use_restarts, **args)

    out = _assemble(
        decay,
        base=base,
        warmup_t=w,
        warmup_lr_init=init,
        warmup_prefix=flag("warmup_prefix", warmup_prefix),
        ramp_to_own_value=False,
        epoch=epoch,
        finite_end=_finite_end(args),
    )
    return _finish(out, lr)


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
    _noise(noise_range_t)
    _k_decay(k_decay)
    flag("initialize", initialize)
    epoch = _clock(t_in_epochs, steps_per_epoch)
    args = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit)
    p = bounded("power", power, low=0, what_peer_does="timm accepts it: the LR rises past the peak")
    w, init = _whole("warmup_t", warmup_t), _lr("warmup_lr_init", warmup_lr_init)
    base = _base(lr, args["lr_min"], init, w)
    low = args["lr_min"]

    def shape(peak: float, length: int, offset: int) -> Schedule:
        # the cycle seen from `offset` steps in: its value there, decaying over what is left
        start = lerp(low, peak, power_weight(offset / length, SCALAR, p))
        return polynomial(start, length - offset, end_value=low, power=p)

    out = _assemble(
        lambda shift: _decay(shape, base=base, shift=shift, **args),
        base=base,
        warmup_t=w,
        warmup_lr_init=init,
        warmup_prefix=flag("warmup_prefix", warmup_prefix),
        ramp_to_own_value=False,
        epoch=epoch,
        finite_end=_finite_end(args),
    )
    return _finish(out, lr)


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
    _noise(noise_range_t)
    flag("initialize", initialize)
    epoch = _clock(t_in_epochs, steps_per_epoch)
    args = _cycle_args(t_initial, lr_min, cycle_mul, cycle_decay, cycle_limit)
    lower, upper = real("lb", lb), real("ub", ub)
    w, init = _whole("warmup_t", warmup_t), _lr("warmup_lr_init", warmup_lr_init)
    base = _base(lr, args["lr_min"], init, w)

    def shape(peak: float, length: int, offset: int) -> Schedule:
        return tanh(peak, length - offset, floor=args["lr_min"], lower=lerp(lower, upper, offset / length), upper=upper)

    out = _assemble(
        lambda shift: _decay(shape, base=base, shift=shift, **args),
        base=base,
        warmup_t=w,
        warmup_lr_init=init,
        warmup_prefix=flag("warmup_prefix", warmup_prefix),
        ramp_to_own_value=True,
        epoch=epoch,
        finite_end=_finite_end(args),
    )
    return _finish(out, lr)


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
    _noise(noise_range_t)
    flag("initialize", initialize)
    epoch = _clock(t_in_epochs, steps_per_epoch)
    d = _whole("decay_t", decay_t, minimum=1)
    rate = bounded("decay_rate", decay_rate, low=0, high=1, what_peer_does="timm accepts it: the LR grows")
    w, init = _whole("warmup_t", warmup_t), _lr("warmup_lr_init", warmup_lr_init)
    base = _base(lr, 0.0, init, w)

    def scaled(shift: int, unit: int) -> Schedule:
        in_steps = step(base, d, rate)  # timm's decay on its own clock, in steps (or epochs)
        first = in_steps(shift)
        if shift % d == 0:
            return step(first, d * unit, rate)
        # the clock starts part-way through a period: hold its value until the next drop
        rest = d - shift % d
        return join([constant(first), step(in_steps(shift + rest), d * unit, rate)], [rest * unit])

    out = _assemble(
        lambda shift: scaled(shift, 1),
        base=base,
        warmup_t=w,
        warmup_lr_init=init,
        warmup_prefix=flag("warmup_prefix", warmup_prefix),
        ramp_to_own_value=False,
        epoch=epoch,
        finite_end=None,
        scaled_decay=scaled,
    )
    return _finish(out, lr)


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
    _noise(noise_range_t)
    flag("initialize", initialize)
    epoch = _clock(t_in_epochs, steps_per_epoch)
    milestones = [_whole(f"decay_t[{i}]", m) for i, m in enumerate(sequence("decay_t", decay_t))]
    rate = bounded("decay_rate", decay_rate, low=0, high=1, what_peer_does="timm accepts it: the LR grows")
    w, init = _whole("warmup_t", warmup_t), _lr("warmup_lr_init", warmup_lr_init)
    base = _base(lr, 0.0, init, w)
    early = [max(m - 1, 0) for m in milestones]  # timm's bisect_right(decay_t, t + 1)
    if early != sorted(early):
        unsupported("decay_t", milestones, why="timm assumes sorted milestones (its bisect); sort them")

    def scaled(shift: int, unit: int) -> Schedule:
        passed = sum(1 for m in early if m <= shift)
        return multistep(base * rate**passed, [(m - shift) * unit for m in early if m > shift], rate)

    out = _assemble(
        lambda shift: scaled(shift, 1),
        base=base,
        warmup_t=w,
        warmup_lr_init=init,
        warmup_prefix=flag("warmup_prefix", warmup_prefix),
        ramp_to_own_value=False,
        epoch=epoch,
        finite_end=None,
        scaled_decay=scaled,
    )
    return _finish(out, lr)


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
