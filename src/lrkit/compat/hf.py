"""HF transformers' schedule functions, by their own names and parameters, as lrkit schedules.

Each ``get_*`` function takes the arguments of the ``transformers`` function of
the same name *without* ``optimizer`` and ``last_epoch``, and returns the
function HF hands to ``torch.optim.lr_scheduler.LambdaLR``: a factor, 1.0 at
the peak, that multiplies each parameter group's initial learning rate, typed
as a :func:`lrkit.multiplier`.  Bind it the same way::

    >>> from lrkit.compat import hf
    >>> s = hf.get_linear_schedule_with_warmup(num_warmup_steps=100, num_training_steps=1000)
    >>> s
    multiplier(warmup(linear(1.0, 0.0, steps=900), steps=100))
    >>> s(0), s(50), s(100), s(550), s(1000)
    (0.0, 0.5, 1.0, 0.5, 0.0)

    # scheduler = lrkit.torch.Scheduler(optimizer, factor=s)   # == HF's LambdaLR, resumable

With ``lr=`` (the optimizer's learning rate, keyword only) every function
returns the learning rates instead, ``scale(factor, lr)``: exactly
``LambdaLR``'s ``base_lr * factor(t)``::

    >>> hf.get_linear_schedule_with_warmup(100, 1000, lr=3e-4)
    scale(warmup(linear(1.0, 0.0, steps=900), steps=100), 0.0003)

:func:`get_scheduler` takes every ``transformers.SchedulerType`` name, as
``transformers.get_scheduler`` does, and :func:`from_training_args` builds the
schedule HF's ``Trainer`` builds from its ``TrainingArguments``.

The step ``t`` is ``LambdaLR``'s ``last_epoch``: the number of
``scheduler.step()`` calls, i.e. updates applied when it is stepped after each
``optimizer.step()``.  ``last_epoch`` (resuming) belongs to the binding:
``lrkit.torch.Scheduler`` restores it from its state dict.

Values match HF step for step, quirks included (each is named in the
function's docstring); both compute in float64, so the differences are a few
units in the last place.  This module never imports transformers or torch.

Deliberate differences, all loud (``ValueError``/``TypeError`` naming the
parameter and saying what HF would do):

* ``num_training_steps <= num_warmup_steps`` raises: HF silently drops the
  factor to 0 (or to ``lr_end``) right after the warmup, or divides by zero.
* Steps must be whole numbers ``>= 0``; negative counts, ``num_cycles <= 0``,
  ratios outside ``[0, 1]`` raise where HF yields a constant, a negative or a
  rising "decay".
* Two HF functions read the optimizer's learning rate
  (``optimizer.defaults["lr"]``): here it is the keyword-only ``lr=`` (the
  result is then an LR schedule).  ``lr_init=`` is its old name, still
  accepted: it reads the same LR but keeps returning the factor, as it did.
* Not provided: ``get_reduce_on_plateau_schedule`` (not a function of the
  step; see ``lrkit.Plateau``), ``get_cosine_with_min_lr_schedule_with_warmup_lr_rate``
  (its warmup ``(t + 1) / W`` and shifted decay clock are not an lrkit
  building block) and ``get_wsd_schedule(warmup_type="1-sqrt")`` (the same);
  the latter raises ``ValueError`` saying so.
  ``get_inverse_sqrt_schedule`` is exact for every ``timescale`` (larger or
  smaller than ``num_warmup_steps``): its decay ``1 / sqrt(1 + (t - W) / timescale)``
  is ``lrkit.inverse_time(1.0, timescale, 1.0, power=0.5)`` on the clock that
  starts after the warmup.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..base import Schedule
from ..composition import join, multiplier, scale, warmup
from ..schedules import constant, cosine, cosine_restarts, inverse_time, linear, polynomial, wsd
from ..validators import bounded, choice, compare, divides, how_many_given, real, unsupported, whole, whole_steps

__all__ = [  # the presets; from_training_args (it reads an object) is public but not a preset
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_cosine_with_min_lr_schedule_with_warmup",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_scheduler",
    "get_wsd_schedule",
]


# -- validators with HF's parameter names -----------------------------------------------


def _steps(name: str, value: Any, *, minimum: int = 0, what_hf_does: str = "") -> int:
    return whole_steps(name, value, peer="HF", minimum=minimum, what_peer_does=what_hf_does)


def _cycles(name: str, value: Any) -> float:
    return bounded(
        name,
        value,
        low=0,
        low_open=True,
        what_peer_does="HF accepts it: 0 holds the factor at 1.0 until the end, a negative count mirrors the "
        "positive one",
    )


def _ratio(name: str, value: Any, what_hf_does: str = "HF's floor would be negative or above the peak") -> float:
    return bounded(name, value, low=0, high=1, what_peer_does=what_hf_does)


def _warmup_steps(value: Any) -> int:
    return _steps(
        "num_warmup_steps", value, what_hf_does="HF never warms up then: the factor starts at its post-warmup value"
    )


def _decay_length(num_warmup_steps: int, num_training_steps: Any, *, after: str) -> int:
    """``num_training_steps - num_warmup_steps``, which must be >= 1."""
    total = _steps("num_training_steps", num_training_steps)
    compare("num_training_steps", total, ">", num_warmup_steps, bound_name="num_warmup_steps", what_peer_does=after)
    return total - num_warmup_steps


def _after_warmup(num_warmup_steps: int, schedule: Schedule) -> Schedule:
    """HF's warmup: ``t / W`` for ``t < W``, then ``schedule`` on the clock ``t - W``.

    Every HF function shares it (``float(t) / float(max(1, W))``), and every
    post-warmup factor starts at 1.0, so it is lrkit's prefix warmup from 0.
    """
    if num_warmup_steps == 0:
        return schedule
    return warmup(schedule, num_warmup_steps, prefix=True)


def _finish(factor: Schedule, lr: float | None) -> Schedule:
    """``multiplier(factor)`` without ``lr=``; with it, the LR schedule ``scale(factor, lr)``.

    ``scale`` computes ``lr * factor(t)``, exactly what torch's ``LambdaLR`` does with HF's function.
    """
    if lr is None:
        return multiplier(factor)
    return scale(factor, bounded("lr", lr, low=0, low_open=True, what_peer_does="the optimizer's learning rate"))


def _optimizer_lr(lr: float | None, lr_init: float | None) -> float | None:
    """The optimizer's LR from ``lr=`` or its old name ``lr_init=`` (not both)."""
    if lr is not None and lr_init is not None:
        raise TypeError("pass the optimizer's learning rate once: lr= (lr_init= is its old name)")
    return lr if lr is not None else lr_init


# -- the schedules ----------------------------------------------------------------------


def get_constant_schedule(*, lr: float | None = None) -> Schedule:
    """HF ``get_constant_schedule``: the factor 1.0 at every step (the optimizer's own LR).

    Maps to ``lrkit.multiplier(constant(1.0))`` (``scale(constant(1.0), lr)`` with ``lr=``).
    """
    return _finish(constant(1.0), lr)


def get_constant_schedule_with_warmup(num_warmup_steps: int, *, lr: float | None = None) -> Schedule:
    """HF ``get_constant_schedule_with_warmup``: ``t / W`` for ``t < W``, then 1.0.

    ``s(0) = 0``, ``s(W - 1) = (W - 1) / W``, ``s(W) = 1``.  Maps to
    ``lrkit.warmup(constant(1.0), W, prefix=False)`` (``constant(1.0)`` when ``W = 0``).

    Difference: a negative ``num_warmup_steps`` raises ``ValueError`` (HF then
    has no warmup).
    """
    warm = _warmup_steps(num_warmup_steps)
    return _finish(constant(1.0) if warm == 0 else warmup(constant(1.0), warm, prefix=False), lr)


def get_linear_schedule_with_warmup(
    num_warmup_steps: int, num_training_steps: int, *, lr: float | None = None
) -> Schedule:
    """HF ``get_linear_schedule_with_warmup``: warmup ``t / W``, then linear from 1 to 0 at ``num_training_steps``.

    ``(N - t) / (N - W)`` for ``W <= t < N`` (``N = num_training_steps``),
    ``s(N) = 0``, held at 0 after (HF clamps with ``max(0, ...)``).

    Maps to ``lrkit.warmup(linear(1.0, 0.0, N - W), W, prefix=True)``.

    Difference: ``num_training_steps <= num_warmup_steps`` raises
    ``ValueError``; HF then drops the factor to 0 right after the warmup.
    """
    warm = _warmup_steps(num_warmup_steps)
    length = _decay_length(warm, num_training_steps, after="HF silently drops the factor to 0 after the warmup")
    return _finish(_after_warmup(warm, linear(1.0, 0.0, length)), lr)


def get_cosine_schedule_with_warmup(
    num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5, *, lr: float | None = None
) -> Schedule:
    """HF ``get_cosine_schedule_with_warmup``: warmup ``t / W``, then ``(1 + cos(2π · num_cycles · p)) / 2``.

    ``p = (t - W) / (N - W)``: with the default ``num_cycles = 0.5`` a half
    cosine from 1 at ``W`` to 0 at ``N = num_training_steps``.

    Maps to ``lrkit.warmup(cosine(1.0, N - W, cycles=num_cycles,
    periodic=True), W, prefix=True)``.

    Quirk, copied: HF does **not** clamp ``p`` at 1, so after
    ``num_training_steps`` the cosine goes on: the factor rises again, back to
    1.0 at ``2N - W`` (with ``num_cycles = 0.5``).  Keep training past ``N``
    and the learning rate climbs.  That is what ``periodic=True`` means.

    Differences: ``num_training_steps <= num_warmup_steps`` raises
    ``ValueError`` (HF's cosine then has a period of one step);
    ``num_cycles <= 0`` raises (HF holds 1.0 for 0).
    """
    warm = _warmup_steps(num_warmup_steps)
    length = _decay_length(warm, num_training_steps, after="HF's cosine would then have a period of one step")
    cycles = _cycles("num_cycles", num_cycles)
    return _finish(_after_warmup(warm, cosine(1.0, length, cycles=cycles, periodic=True)), lr)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1, *, lr: float | None = None
) -> Schedule:
    """HF ``get_cosine_with_hard_restarts_schedule_with_warmup``: ``num_cycles`` half cosines, then 0.

    After the warmup, ``(1 + cos(π · frac(num_cycles · p))) / 2`` with
    ``p = (t - W) / (N - W)``: each cycle lasts ``P = (N - W) / num_cycles``
    steps and restarts at 1.0 *at* ``W + k P``; from ``t = N`` on the factor is
    0 (HF returns 0 once ``p >= 1``).

    Maps to ``lrkit.warmup(join([cosine_restarts(1.0, P), constant(0.0)],
    [N - W]), W, prefix=True)`` (``cosine(1.0, N - W)`` for one cycle).

    Quirks, copied: ``num_cycles`` counts cycles, not restarts (the default 1
    is a plain cosine with no restart); the factor stays at 0 after
    ``num_training_steps`` (unlike :func:`get_cosine_schedule_with_warmup`).

    Differences: ``num_cycles`` must be a whole number ``>= 1`` that divides
    ``N - W``: otherwise HF restarts between two steps, which
    ``lrkit.cosine_restarts`` (whole-step periods) cannot express, and lrkit
    raises ``ValueError`` rather than approximate.
    ``num_training_steps <= num_warmup_steps`` raises ``ValueError``.
    """
    warm = _warmup_steps(num_warmup_steps)
    length = _decay_length(warm, num_training_steps, after="HF's factor would be 0 from the end of the warmup on")
    n = whole("num_cycles", _cycles("num_cycles", num_cycles), minimum=1, unit="cycles")
    divides(
        "num_cycles",
        n,
        "num_training_steps - num_warmup_steps",
        length,
        what_peer_does="HF would restart between two steps, which lrkit's whole-step cosine_restarts cannot "
        "express exactly",
    )
    if n == 1:
        return _finish(_after_warmup(warm, cosine(1.0, length)), lr)
    return _finish(_after_warmup(warm, join([cosine_restarts(1.0, length // n), constant(0.0)], [length])), lr)


def get_polynomial_decay_schedule_with_warmup(
    num_warmup_steps: int,
    num_training_steps: int,
    lr_end: float = 1e-7,
    power: float = 1.0,
    *,
    lr: float | None = None,
    lr_init: float | None = None,
) -> Schedule:
    """HF ``get_polynomial_decay_schedule_with_warmup``: warmup ``t / W``, then a polynomial down to ``lr_end``.

    ``lr_end`` is an *absolute* learning rate, so the factor depends on the
    optimizer's learning rate, which HF reads from ``optimizer.defaults["lr"]``;
    pass that value as ``lr`` (keyword only, required; the result is then the
    LR schedule ``scale(factor, lr)``), or as ``lr_init``, its old name, to get
    the factor (a multiplier) as before.  With ``r = lr_end / lr`` and
    ``p = (t - W) / (N - W)``, the factor is ``(1 - r) * (1 - p) ** power + r``
    for ``W <= t <= N``, and ``r`` after.

    Maps to ``lrkit.warmup(polynomial(1.0, N - W, end_value=lr_end / lr,
    power=power), W, prefix=True)``.

    Quirks, copied: the default ``lr_end`` is ``1e-7``, not 0; HF uses
    ``optimizer.defaults["lr"]`` for *every* parameter group, so a group whose
    own learning rate differs ends at ``its_lr * lr_end / lr_init``, not at
    ``lr_end`` (lrkit's factor does the same).

    Differences: ``lr_init <= lr_end`` raises ``ValueError``, as in HF.
    ``num_training_steps <= num_warmup_steps`` raises (HF divides by zero at
    ``t = N`` when they are equal).  ``power <= 0`` raises (HF's ``power = 0``
    holds 1.0 through ``N`` and drops to ``r`` at ``N + 1``; below 0 it divides
    by zero at ``N``); ``lr_end < 0`` raises.
    """
    if lr is None and lr_init is None:
        raise TypeError(
            "get_polynomial_decay_schedule_with_warmup needs lr=, the optimizer's initial lr: HF divides lr_end "
            "by optimizer.defaults['lr']"
        )
    init = real("lr" if lr is not None else "lr_init", _optimizer_lr(lr, lr_init))
    end = bounded("lr_end", lr_end, low=0, what_peer_does="HF accepts it and ends at a negative learning rate")
    compare(
        "lr_end",
        end,
        "<",
        init,
        bound_name="lr, the optimizer's initial lr",
        what_peer_does="HF raises the same: lr_end must be smaller than initial lr",
    )
    pw = bounded(
        "power",
        power,
        low=0,
        low_open=True,
        what_peer_does="HF's power = 0 holds the factor at 1.0 through num_training_steps and drops to "
        "lr_end / lr_init one step later; power < 0 divides by zero there",
    )
    warm = _warmup_steps(num_warmup_steps)
    length = _decay_length(
        warm, num_training_steps, after="HF divides by zero at t = num_training_steps when they are equal"
    )
    return _finish(_after_warmup(warm, polynomial(1.0, length, end_value=end / init, power=pw)), lr)


def get_inverse_sqrt_schedule(
    num_warmup_steps: int, timescale: int | None = None, *, lr: float | None = None
) -> Schedule:
    """HF ``get_inverse_sqrt_schedule``: warmup ``t / W``, then ``1 / sqrt((t - W + timescale) / timescale)``.

    The decay is ``1 / sqrt(1 + (t - W) / timescale)`` on a clock that starts
    after the warmup: maps to
    ``lrkit.warmup(inverse_time(1.0, timescale, 1.0, power=0.5), W, prefix=True)``.
    ``s(0) = 0``, ``s(W) = 1``.

    Quirk, copied: the default ``timescale`` is ``num_warmup_steps``, but
    10000 (not 0) when there is no warmup.

    Difference: ``timescale <= 0`` raises (HF divides by zero, or takes the
    square root of a negative number).
    """
    warm = _warmup_steps(num_warmup_steps)
    if timescale is None:
        timescale_ = warm or 10_000  # HF's rule
    else:
        timescale_ = _steps(
            "timescale", timescale, minimum=1, what_hf_does="HF divides by zero or takes sqrt of a negative number"
        )
    return _finish(warmup(inverse_time(1.0, timescale_, 1.0, power=0.5), warm, prefix=True), lr)


def get_cosine_with_min_lr_schedule_with_warmup(
    num_warmup_steps: int,
    num_training_steps: int,
    num_cycles: float = 0.5,
    min_lr: float | None = None,
    min_lr_rate: float | None = None,
    *,
    lr: float | None = None,
    lr_init: float | None = None,
) -> Schedule:
    """HF ``get_cosine_with_min_lr_schedule_with_warmup``: HF's warmup cosine, floored at a minimum LR.

    After the warmup, ``c * (1 - m) + m`` with ``c = (1 + cos(2π · num_cycles · p)) / 2``,
    ``p = (t - W) / (N - W)`` and ``m = min_lr_rate``, or ``min_lr / lr``
    when ``min_lr`` is given (HF divides by ``optimizer.defaults["lr"]``: pass
    it as the keyword ``lr``, or ``lr_init`` for the factor).  Exactly one of
    ``min_lr``/``min_lr_rate``.

    Maps to ``lrkit.warmup(cosine(1.0, N - W, floor=m, cycles=num_cycles,
    periodic=True), W, prefix=True)``.

    Quirk, copied: ``p`` is not clamped, so after ``num_training_steps`` the
    factor rises again from ``m`` towards 1.0 (see
    :func:`get_cosine_schedule_with_warmup`).

    Differences: both or neither of ``min_lr``/``min_lr_rate`` raise
    ``ValueError``, as in HF; ``min_lr`` without ``lr``/``lr_init`` raises
    ``TypeError`` (``lr_init`` with ``min_lr_rate`` too: it would be unused);
    a rate outside ``[0, 1]`` raises (HF's "floor" would be above the peak or
    negative); ``num_training_steps <= num_warmup_steps`` and
    ``num_cycles <= 0`` raise.
    """
    how_many_given(
        {"min_lr": min_lr, "min_lr_rate": min_lr_rate},
        exactly_one=True,
        what_peer_does="HF raises the same: 'One of min_lr or min_lr_rate should be set', 'Only one of min_lr or "
        "min_lr_rate should be set'",
    )
    init_lr = _optimizer_lr(lr, lr_init)
    if min_lr is not None:
        if init_lr is None:
            raise TypeError(
                "min_lr needs lr=, the optimizer's initial lr (lr_init= is its old name): HF computes "
                "min_lr_rate = min_lr / "
                "optimizer.defaults['lr']"
            )
        init = bounded(
            "lr" if lr is not None else "lr_init",
            init_lr,
            low=0,
            low_open=True,
            what_peer_does="HF divides min_lr by it",
        )
        rate = _ratio(
            "min_lr / lr_init",
            real("min_lr", min_lr) / init,
            "min_lr must be between 0 and lr_init: HF's floor would be negative or above the peak",
        )
    else:
        if lr_init is not None:
            raise TypeError("lr_init is only used with min_lr (to compute min_lr / lr_init); drop it or pass min_lr")
        rate = _ratio("min_lr_rate", min_lr_rate)
    warm = _warmup_steps(num_warmup_steps)
    length = _decay_length(warm, num_training_steps, after="HF's cosine would then have a period of one step")
    cycles = _cycles("num_cycles", num_cycles)
    return _finish(_after_warmup(warm, cosine(1.0, length, floor=rate, cycles=cycles, periodic=True)), lr)


def get_wsd_schedule(
    num_warmup_steps: int,
    num_decay_steps: int,
    num_training_steps: int | None = None,
    num_stable_steps: int | None = None,
    warmup_type: str = "linear",
    decay_type: str = "cosine",
    min_lr_ratio: float = 0,
    num_cycles: float = 0.5,
    *,
    lr: float | None = None,
) -> Schedule:
    """HF ``get_wsd_schedule``: warmup, stable at 1.0, decay to ``min_lr_ratio``, then hold.

    With ``m = min_lr_ratio``, ``W``, ``S`` (``num_stable_steps``, default
    ``num_training_steps - W - D``) and ``D = num_decay_steps``:

    * ``t < W``: ``f * (1 - m) + m`` with ``f = t / W`` (``linear``) or
      ``(1 - cos(π t / W)) / 2`` (``cosine``): from ``m`` at 0 towards 1.
    * ``W <= t < W + S``: 1.0.
    * ``W + S <= t < W + S + D``: ``g * (1 - m) + m`` with ``p = (t - W - S) / D``
      and ``g = 1 - p`` (``linear``), ``(1 + cos(2π · num_cycles · p)) / 2``
      (``cosine``) or ``1 - sqrt(p)`` (``1-sqrt``).
    * from ``W + S + D`` on: ``m``.

    Maps to ``lrkit.wsd(1.0, W, S, D, decay=decay_type, floor=m,
    start_factor=m)``; a ``cosine`` warmup wraps it as
    ``warmup(wsd(1.0, 0, W + S, D, ...), W, start_factor=m, method="cosine", prefix=False)``;
    a cosine decay with ``num_cycles != 0.5`` is
    ``join([constant(1.0), cosine(1.0, D, floor=m, cycles=num_cycles), constant(m)], [W + S, W + S + D])``.

    Quirks, copied: the warmup starts at ``m``, not 0; with ``num_cycles != 0.5``
    the cosine decay does not end at ``m`` and the factor jumps to ``m`` at
    ``W + S + D``.

    Differences: ``warmup_type="1-sqrt"`` raises ``ValueError`` (``1 - sqrt(1 - t/W)``
    is not an lrkit warmup method).  Giving both ``num_training_steps`` and
    ``num_stable_steps`` raises ``ValueError`` when ``W + S + D != N`` (HF only
    warns and uses ``num_stable_steps``).  A negative stable phase
    (``N < W + D``) raises (HF starts the decay in its middle);
    ``num_decay_steps = 0`` raises (HF drops to ``m`` at once);
    ``min_lr_ratio`` outside ``[0, 1]`` and ``num_cycles <= 0`` raise.
    """
    how_many_given(
        {"num_training_steps": num_training_steps, "num_stable_steps": num_stable_steps},
        exactly_one=False,
        what_peer_does="HF raises the same: 'Either num_training_steps or num_stable_steps must be specified'",
    )
    choice("warmup_type", warmup_type, ("linear", "cosine", "1-sqrt"), what_peer_does="HF raises too")
    choice("decay_type", decay_type, ("linear", "cosine", "1-sqrt"), what_peer_does="HF raises too")
    if warmup_type == "1-sqrt":
        unsupported(
            "warmup_type",
            warmup_type,
            why="HF's warmup 1 - sqrt(1 - t / num_warmup_steps) is not an lrkit warmup method, so lrkit cannot "
            "reproduce it exactly; use 'linear' or 'cosine'",
        )
    warm = _warmup_steps(num_warmup_steps)
    decay = _steps("num_decay_steps", num_decay_steps, minimum=1, what_hf_does="HF drops to min_lr_ratio at once")
    if num_stable_steps is not None:
        stable = _steps("num_stable_steps", num_stable_steps)
        if num_training_steps is not None:
            compare(
                "num_training_steps",
                _steps("num_training_steps", num_training_steps),
                "==",
                warm + stable + decay,
                bound_name=f"num_warmup_steps + num_stable_steps + num_decay_steps = {warm} + {stable} + {decay}",
                what_peer_does="when both are given; HF warns and ignores num_training_steps",
            )
    else:
        total = compare(
            "num_training_steps",
            _steps("num_training_steps", num_training_steps),
            ">=",
            warm + decay,
            bound_name="num_warmup_steps + num_decay_steps",
            what_peer_does="HF computes a negative stable phase and starts the decay in its middle",
        )
        stable = total - warm - decay
    ratio = _ratio("min_lr_ratio", min_lr_ratio)
    cycles = _cycles("num_cycles", num_cycles)
    hold = warm + stable
    inner: Schedule
    if decay_type == "cosine" and cycles != 0.5:
        # Not a half cosine: it does not end at the floor, and HF jumps to it at hold + decay.
        tail = [cosine(1.0, decay, floor=ratio, cycles=cycles), constant(ratio)]
        inner = join([constant(1.0), *tail], [hold, hold + decay]) if hold else join(tail, [decay])
    elif warmup_type == "linear":
        return _finish(wsd(1.0, warm, stable, decay, decay=decay_type, floor=ratio, start_factor=ratio), lr)
    else:
        inner = wsd(1.0, 0, hold, decay, decay=decay_type, floor=ratio)
    if warm == 0:
        return _finish(inner, lr)
    return _finish(warmup(inner, warm, start_factor=ratio, method=warmup_type, prefix=False), lr)


# -- by name, and from TrainingArguments ------------------------------------------------

#: ``transformers.SchedulerType`` value -> the function here (``None``: not a function of the step).
_BY_NAME: dict[str, Any] = {
    "linear": get_linear_schedule_with_warmup,
    "cosine": get_cosine_schedule_with_warmup,
    "cosine_with_restarts": get_cosine_with_hard_restarts_schedule_with_warmup,
    "polynomial": get_polynomial_decay_schedule_with_warmup,
    "constant": get_constant_schedule,
    "constant_with_warmup": get_constant_schedule_with_warmup,
    "inverse_sqrt": get_inverse_sqrt_schedule,
    "cosine_with_min_lr": get_cosine_with_min_lr_schedule_with_warmup,
    "warmup_stable_decay": get_wsd_schedule,
    "reduce_lr_on_plateau": None,
    "greedy": None,
    "cosine_warmup_with_min_lr": None,
}

_NOT_A_SCHEDULE = {
    "reduce_lr_on_plateau": "it reacts to a metric, not the step: use lrkit.Plateau",
    "greedy": "it reacts to the loss, not the step: write the schedule you want as an lrkit schedule",
    "cosine_warmup_with_min_lr": "its warmup (t + 1) / W and shifted decay clock are not an lrkit building block; "
    "'cosine_with_min_lr' is the same decay with HF's usual warmup",
}


def get_scheduler(
    name: Any,
    *,
    lr: float | None = None,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict[str, Any] | None = None,
) -> Schedule:
    """HF ``transformers.get_scheduler`` by name (a ``SchedulerType`` or its string value).

    Passes ``num_warmup_steps``, ``num_training_steps`` and
    ``scheduler_specific_kwargs`` exactly as HF does (``constant`` takes
    none of them; ``constant_with_warmup`` only the warmup; ``inverse_sqrt``
    no ``num_training_steps``).  Without ``lr=``: the factor multiplier HF
    hands to ``LambdaLR``; with ``lr=`` (the optimizer's LR): the LR schedule.
    ``polynomial`` needs ``lr=`` (HF reads ``optimizer.defaults["lr"]``),
    and ``cosine_with_min_lr`` with ``min_lr`` too.

    Differences: ``reduce_lr_on_plateau`` and ``greedy`` raise ``TypeError``
    (not functions of the step: ``lrkit.Plateau``);
    ``cosine_warmup_with_min_lr`` raises ``ValueError`` (not an lrkit
    building block); a missing ``num_warmup_steps``/``num_training_steps``
    raises ``TypeError`` where HF raises ``ValueError``.
    """
    key = getattr(name, "value", name)  # a SchedulerType is a str Enum
    key = choice("name", key, tuple(_BY_NAME), what_peer_does="transformers.SchedulerType raises too")
    if key in ("reduce_lr_on_plateau", "greedy"):
        raise TypeError(f"get_scheduler({key!r}) is not a function of the step: {_NOT_A_SCHEDULE[key]}")
    if key == "cosine_warmup_with_min_lr":
        unsupported("name", key, why=_NOT_A_SCHEDULE[key])
    fn = _BY_NAME[key]
    kwargs = dict(scheduler_specific_kwargs or {})
    if key == "polynomial" and lr is not None:
        kwargs.setdefault("lr", lr)
    elif lr is not None:
        kwargs["lr"] = lr
    if key == "constant":
        return fn(lr=lr)  # HF passes no other argument
    if num_warmup_steps is None:
        raise TypeError(f"get_scheduler({key!r}) needs num_warmup_steps (HF raises ValueError)")
    if key == "constant_with_warmup":
        return fn(num_warmup_steps, lr=lr)
    if key == "inverse_sqrt":
        return fn(num_warmup_steps=num_warmup_steps, **kwargs)
    if key == "warmup_stable_decay":
        return fn(num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **kwargs)
    if num_training_steps is None:
        raise TypeError(f"get_scheduler({key!r}) needs num_training_steps (HF raises ValueError)")
    return fn(num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **kwargs)


def _warmup_from_args(args: Any, num_training_steps: int) -> int:
    """HF's ``TrainingArguments.get_warmup_steps``: ``warmup_steps`` if >= 1, else ``ceil(N * warmup_steps)``.

    Older transformers had a separate ``warmup_ratio``, used when ``warmup_steps`` is 0 (also ``ceil``).
    """
    steps = getattr(args, "warmup_steps", 0) or 0
    ratio = getattr(args, "warmup_ratio", 0.0) or 0.0
    if steps >= 1:
        return int(steps)
    if steps > 0:  # transformers 5: a warmup_steps below 1 is a ratio
        return math.ceil(num_training_steps * steps)
    return math.ceil(num_training_steps * ratio)


def from_training_args(args: Any, num_training_steps: int) -> Schedule:
    """The LR schedule HF's ``Trainer`` builds from ``TrainingArguments`` for ``num_training_steps`` updates.

    Reads ``lr_scheduler_type``, ``warmup_steps`` (a value below 1 is a
    ratio, ``ceil(num_training_steps * warmup_steps)``, as in
    ``TrainingArguments.get_warmup_steps``; older ``warmup_ratio`` likewise),
    ``learning_rate`` (the LR the Trainer's optimizer starts from: the result
    is an LR schedule) and ``lr_scheduler_kwargs``; equal to
    ``Trainer.create_scheduler``'s scheduler stepped once per update.
    """
    total = _steps("num_training_steps", num_training_steps, minimum=1)
    extra = getattr(args, "lr_scheduler_kwargs", None) or {}
    if isinstance(extra, str):
        extra = json.loads(extra)  # HF accepts a JSON string on the command line
    return get_scheduler(
        args.lr_scheduler_type,
        lr=real("learning_rate", args.learning_rate),
        num_warmup_steps=_warmup_from_args(args, total),
        num_training_steps=total,
        scheduler_specific_kwargs=dict(extra),
    )
