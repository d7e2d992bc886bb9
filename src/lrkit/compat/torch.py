"""PyTorch's ``torch.optim.lr_scheduler`` schedulers, by their own names and parameters, as lrkit schedules.

Each function takes the keyword arguments of the torch class of the same name
*without* ``optimizer`` and ``last_epoch``, and returns what torch actually
sets when the scheduler is stepped once after each ``optimizer.step()``: the
value at step ``t`` is the LR of update ``t`` (torch's ``last_epoch == t``).

Convention for the LR.  torch reads the base LR from the optimizer
(``group["initial_lr"]``); here it is the keyword ``lr=``.  With ``lr=`` the
result is an absolute LR schedule; without it, a :func:`lrkit.multiplier` of
factors (1.0 = the optimizer's own LR), to bind with
``lrkit.torch.Scheduler(opt, factor=...)``::

    >>> from lrkit.compat import torch as T
    >>> T.StepLR(step_size=30, gamma=0.1, lr=0.1)
    step(0.1, 30)
    >>> T.CosineAnnealingLR(T_max=100)
    multiplier(cosine(1.0, steps=100, periodic=True))

``CyclicLR`` and ``OneCycleLR`` set absolute LRs in torch (``base_lr``,
``max_lr``), so they always return LR schedules; their momentum (or Adam's
``betas[0]``) cycling is :func:`CyclicLR_momentum` / :func:`OneCycleLR_momentum`,
for ``lrkit.torch.Scheduler(opt, value=..., hyperparam="momentum")`` (or
``"betas[0]"``).  :func:`SequentialLR` and :func:`ChainedScheduler` combine
the results of the other functions.  :func:`from_scheduler` converts a live
torch scheduler.

Quirks of torch's *stepped* (recursive) forms, copied and named in each
docstring: ``CosineAnnealingLR`` keeps oscillating after ``T_max`` (it is
periodic, back at the base LR at ``2 * T_max``), ``OneCycleLR`` holds its
minimum from ``total_steps - 1`` on (torch evaluates one more step and then
raises).  Loud differences (``ValueError``/``TypeError``): ``total_iters=0``
for ``ConstantLR``/``LinearLR``/``PolynomialLR`` (torch's stepped and
closed forms disagree, or divide by zero), ``ConstantLR(factor=0)`` (torch
divides by zero at ``total_iters``), a custom ``scale_fn``, per-group lists of
``base_lr``/``max_lr`` (call once per group).  This module never imports torch
except in :func:`from_scheduler`, which reads the scheduler you hand it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..base import Schedule
from ..composition import join, multiplier, product, remap, scale, warmup
from ..schedules import (
    constant,
    cosine,
    cosine_restarts,
    cyclic,
    exponential,
    linear,
    multistep,
    one_cycle,
    polynomial,
    step,
)
from ..validators import bounded, choice, compare, flag, real, sequence, unsupported, whole_steps

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "CyclicLR_momentum",
    "ExponentialLR",
    "LinearLR",
    "MultiStepLR",
    "OneCycleLR",
    "OneCycleLR_momentum",
    "PolynomialLR",
    "SequentialLR",
    "StepLR",
]


# -- helpers ---------------------------------------------------------------------------


def _steps(name: str, value: Any, *, minimum: int = 0, what_torch_does: str = "") -> int:
    return whole_steps(name, value, peer="torch", minimum=minimum, what_peer_does=what_torch_does)


def _base(lr: float | None) -> float:
    """The value the schedule starts from: the optimizer's LR, or the factor 1.0."""
    if lr is None:
        return 1.0
    if isinstance(lr, (list, tuple)):
        raise TypeError(f"lr must be one number (call once per param group), got {lr!r}")
    return bounded("lr", lr, low=0, what_peer_does="the optimizer's learning rate")


def _finish(schedule: Schedule, lr: float | None) -> Schedule:
    """A multiplier of factors without ``lr=``, the LR schedule with it."""
    return multiplier(schedule) if lr is None else schedule


def _absolute(name: str, value: Any) -> float:
    if isinstance(value, (list, tuple)):
        raise TypeError(
            f"{name} must be one number, got {value!r}: torch takes one value per param group; "
            "build one schedule per group (lrkit.torch.Scheduler takes a list of schedules)"
        )
    return bounded(name, value, low=0, what_peer_does="torch would produce negative learning rates")


def _absolute_floor(name: str, value: Any, lr: float | None, cls: str) -> float:
    """``eta_min`` is an absolute LR: as a factor it needs ``lr=`` to divide by (unless it is 0)."""
    floor = bounded(name, value, low=0, what_peer_does="torch anneals towards a negative learning rate")
    if lr is None and floor != 0:
        raise TypeError(
            f"{cls}: {name}={value!r} is an absolute learning rate; pass lr= (the optimizer's lr) to get "
            f"an LR schedule, or leave {name}=0 for a factor schedule"
        )
    return floor


# -- the step-closed-form schedulers ---------------------------------------------------


def StepLR(step_size: int, gamma: float = 0.1, *, lr: float | None = None) -> Schedule:
    """torch ``StepLR``: ``lr * gamma ** floor(t / step_size)``.

    ``s(step_size - 1) = lr``, ``s(step_size) = lr * gamma``; decays forever.
    Maps to ``lrkit.step(lr, step_size, gamma)`` (``multiplier(step(1.0, ...))``
    without ``lr=``).  torch multiplies the current LR by ``gamma`` at each
    multiple of ``step_size``; lrkit raises ``gamma`` to the power: equal to a
    few units in the last place.

    Difference: ``gamma`` outside ``[0, 1]`` raises ``ValueError`` (torch grows the LR).
    """
    size = _steps("step_size", step_size, minimum=1, what_torch_does="torch divides by zero")
    return _finish(step(_base(lr), size, gamma), lr)


def MultiStepLR(milestones: Sequence[int], gamma: float = 0.1, *, lr: float | None = None) -> Schedule:
    """torch ``MultiStepLR``: ``lr * gamma ** (number of milestones <= t)``.

    The decay happens *at* each milestone; a repeated milestone decays once per
    repetition and a milestone 0 applies from the first step, as in torch.
    Milestones are sorted (torch counts them as a multiset, in any order).
    Maps to ``lrkit.multistep(lr, sorted(milestones), gamma)``.
    """
    stones = sorted(_steps(f"milestones[{i}]", m) for i, m in enumerate(sequence("milestones", milestones, of="steps")))
    return _finish(multistep(_base(lr), stones, gamma), lr)


def ConstantLR(factor: float = 1.0 / 3, total_iters: int = 5, *, lr: float | None = None) -> Schedule:
    """torch ``ConstantLR``: ``lr * factor`` for ``t < total_iters``, then ``lr``.

    ``s(total_iters - 1) = lr * factor``, ``s(total_iters) = lr``.  Maps to
    ``lrkit.warmup(constant(lr), total_iters, start_factor=factor,
    method="constant", prefix=False)``.

    Differences: ``factor = 0`` raises ``ValueError`` (stepped torch divides by
    zero at ``total_iters``: ``ZeroDivisionError``); ``total_iters = 0``
    raises (stepped torch then holds ``factor`` forever, but its closed form,
    which ``SequentialLR`` uses at a milestone, gives 1.0).
    """
    f = bounded(
        "factor",
        factor,
        low=0,
        high=1,
        low_open=True,
        what_peer_does="torch raises for < 0 and divides by zero at total_iters for 0",
    )
    total = _steps(
        "total_iters",
        total_iters,
        minimum=1,
        what_torch_does="stepped torch holds factor forever, its closed form (used by SequentialLR) gives 1.0",
    )
    return _finish(warmup(constant(_base(lr)), total, start_factor=f, method="constant", prefix=False), lr)


def LinearLR(
    start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5, *, lr: float | None = None
) -> Schedule:
    """torch ``LinearLR``: the factor goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters``.

    ``lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters)``:
    ``s(0) = lr * start_factor``, ``s(total_iters) = lr * end_factor``, held
    after.  Maps to ``lrkit.linear(lr * start_factor, lr * end_factor, total_iters)``
    (torch's recursive ratio form equals it to a few units in the last place).

    Differences: ``total_iters = 0`` raises ``ValueError`` (stepped torch
    holds ``start_factor`` forever; its closed form divides by zero);
    ``start_factor`` must be in ``(0, 1]`` and ``end_factor`` in ``[0, 1]``, as in torch.
    """
    sf = bounded("start_factor", start_factor, low=0, high=1, low_open=True, what_peer_does="torch raises too")
    ef = bounded("end_factor", end_factor, low=0, high=1, what_peer_does="torch raises too")
    total = _steps(
        "total_iters",
        total_iters,
        minimum=1,
        what_torch_does="stepped torch holds start_factor forever, its closed form divides by zero",
    )
    base = _base(lr)
    return _finish(linear(base * sf, base * ef, total), lr)


def ExponentialLR(gamma: float, *, lr: float | None = None) -> Schedule:
    """torch ``ExponentialLR``: ``lr * gamma ** t``.

    Maps to ``lrkit.exponential(lr, 1, gamma)``.  torch multiplies by
    ``gamma`` at every step (a relative error growing like ``t`` units in the
    last place); lrkit takes the power.

    Difference: ``gamma`` outside ``(0, 1]`` raises ``ValueError`` (torch grows the LR).
    """
    return _finish(exponential(_base(lr), 1, gamma), lr)


def PolynomialLR(total_iters: int = 5, power: float = 1.0, *, lr: float | None = None) -> Schedule:
    """torch ``PolynomialLR``: ``lr * (1 - min(t, total_iters) / total_iters) ** power``.

    ``s(0) = lr``, ``s(total_iters) = 0``, held after.  Maps to
    ``lrkit.polynomial(lr, total_iters, 0.0, power)``.

    Differences: ``total_iters = 0`` raises ``ValueError`` (stepped torch
    holds ``lr``; its closed form divides by zero); ``power < 0`` raises.
    """
    total = _steps(
        "total_iters",
        total_iters,
        minimum=1,
        what_torch_does="stepped torch holds the LR, its closed form divides by zero",
    )
    return _finish(polynomial(_base(lr), total, 0.0, power), lr)


def CosineAnnealingLR(T_max: int, eta_min: float = 0.0, *, lr: float | None = None) -> Schedule:
    """torch ``CosineAnnealingLR`` as stepped: ``eta_min + (lr - eta_min) * (1 + cos(π t / T_max)) / 2`` for *every* t.

    ``s(0) = lr``, ``s(T_max) = eta_min``.  Maps to
    ``lrkit.cosine(lr, T_max, floor=eta_min, periodic=True)``.

    Quirk, copied (named ``periodic``): stepped torch updates the LR
    recursively, ``(1 + cos(π t / T)) / (1 + cos(π (t - 1) / T))`` times the
    previous LR above ``eta_min``, with an additive step
    ``(lr - eta_min) (1 - cos(π / T)) / 2`` where that ratio would divide by
    zero (``t = T + 1 + 2kT``).  Unrolled, that is the closed form above with
    no clamp: after ``T_max`` the LR rises again, back to ``lr`` at
    ``2 * T_max``, and keeps oscillating.  The plain ``cosine(lr, T_max,
    floor=eta_min)`` (held at ``eta_min``) is what most people mean: use it if
    you stop at ``T_max``.

    Differences: ``eta_min`` is an absolute LR, so without ``lr=`` only
    ``eta_min=0`` is accepted (``TypeError`` otherwise); ``eta_min > lr``
    raises ``ValueError`` (torch anneals upwards).
    """
    period = _steps("T_max", T_max, minimum=1, what_torch_does="torch divides by zero")
    floor = _absolute_floor("eta_min", eta_min, lr, "CosineAnnealingLR")
    return _finish(cosine(_base(lr), period, floor=floor, periodic=True), lr)


def CosineAnnealingWarmRestarts(
    T_0: int,
    T_mult: int = 1,
    eta_min: float = 0.0,
    *,
    lr: float | None = None,
) -> Schedule:
    """torch ``CosineAnnealingWarmRestarts`` (SGDR), stepped once per update.

    Period ``i`` lasts ``T_0 * T_mult ** i`` steps; within it
    ``eta_min + (lr - eta_min) * (1 + cos(π T_cur / T_i)) / 2``; the restart to
    ``lr`` happens *at* the period's first step.  Maps to
    ``lrkit.cosine_restarts(lr, T_0, t_mul=T_mult, floor=eta_min)``.

    Differences: as :func:`CosineAnnealingLR` for ``eta_min``; ``T_0 >= 1``
    and a whole ``T_mult >= 1``, as in torch.  torch's ``step(epoch)`` with
    fractional epochs is not a function of the update count and is not reproduced.
    """
    period = _steps("T_0", T_0, minimum=1, what_torch_does="torch raises too")
    mult = _steps("T_mult", T_mult, minimum=1, what_torch_does="torch raises too")
    floor = _absolute_floor("eta_min", eta_min, lr, "CosineAnnealingWarmRestarts")
    return _finish(cosine_restarts(_base(lr), period, t_mul=mult, floor=floor), lr)


def _cyclic_args(
    step_size_up: Any, step_size_down: Any, mode: Any, gamma: Any, scale_fn: Any, scale_mode: Any
) -> tuple[int, int | None, str, float]:
    if scale_fn is not None:
        raise TypeError(
            "CyclicLR: scale_fn (a Python callable) cannot be part of a closed-form schedule; use "
            "mode='triangular', 'triangular2' or 'exp_range', or write the cycle as an lrkit schedule "
            "(lrkit.cyclic, a product with your own amplitude schedule)"
        )
    choice("scale_mode", scale_mode, ("cycle", "iterations"), what_peer_does="torch ignores it without scale_fn")
    up = _steps("step_size_up", step_size_up, minimum=1, what_torch_does="torch divides by zero")
    down = None if step_size_down is None else _steps("step_size_down", step_size_down, minimum=1)
    m = choice("mode", mode, ("triangular", "triangular2", "exp_range"), what_peer_does="torch raises too")
    return up, down, m, real("gamma", gamma)


def CyclicLR(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> Schedule:
    """torch ``CyclicLR``: a triangle between ``base_lr`` and ``max_lr`` (an LR schedule: both are absolute).

    With ``C = up + down``, ``i = floor(t / C)`` and ``x = t - i C``: scale
    ``x / up`` rising, ``(C - x) / down`` falling; LR
    ``base_lr + (max_lr - base_lr) * scale * amp`` with ``amp`` 1
    (``triangular``), ``0.5 ** i`` (``triangular2``) or ``gamma ** t``
    (``exp_range``).  ``s(0) = base_lr``, ``s(up) = max_lr * amp``.  Maps to
    ``lrkit.cyclic(base_lr, max_lr, step_size_up, step_size_down, mode, gamma)``.
    The momentum arguments are accepted and ignored here: see :func:`CyclicLR_momentum`.

    Quirk, copied: torch overwrites the optimizer's LR with ``base_lr``, so the
    optimizer's own LR plays no part (there is no ``lr=``).  torch computes the
    position as the fraction ``1 + t / C - cycle``; lrkit counts whole steps:
    equal to a few units in the last place.

    Differences: ``scale_fn`` raises ``TypeError`` (a callable is not a closed
    form: use a ``mode``); lists of per-group values raise ``TypeError`` (one
    schedule per group); ``max_lr < base_lr`` raises ``ValueError``.
    """
    up, down, m, g = _cyclic_args(step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
    return cyclic(_absolute("base_lr", base_lr), _absolute("max_lr", max_lr), up, down, m, g)


def CyclicLR_momentum(
    base_lr: float = 0.0,
    max_lr: float = 0.0,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    scale_fn: Callable[[float], float] | None = None,
    scale_mode: str = "cycle",
    cycle_momentum: bool = True,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> Schedule:
    """The momentum (or ``betas[0]``) torch ``CyclicLR`` sets: the LR's cycle, upside down.

    ``max_momentum - (max_momentum - base_momentum) * scale * amp`` (``scale`` and
    ``amp`` as in :func:`CyclicLR`, every mode): ``max_momentum`` at every cycle
    start, ``base_momentum`` at the first peak; ``triangular2`` and ``exp_range``
    shrink the swing towards ``max_momentum``.  Takes ``CyclicLR``'s arguments (the
    LR ones are ignored) so the same keyword dict builds both.  Maps to
    ``lrkit.remap(cyclic(0.0, 1.0, up, down, mode, gamma), max_momentum,
    base_momentum)``: the cycle's weight, mapped onto the falling range.  Drive it with
    ``lrkit.torch.Scheduler(opt, value=m, hyperparam="momentum")`` (SGD) or
    ``hyperparam="betas[0]"`` (Adam).  ``max_momentum < base_momentum`` is torch's
    formula too: the momentum then rises with the LR (``remap`` to a rising range).

    Differences: ``cycle_momentum=False`` raises ``ValueError`` (torch then leaves the
    optimizer's momentum alone: there is no momentum schedule); momentums outside
    ``[0, 1]`` raise ``ValueError``.
    """
    _cycles_momentum(cycle_momentum)
    up, down, m, g = _cyclic_args(step_size_up, step_size_down, mode, gamma, scale_fn, scale_mode)
    low = bounded("base_momentum", base_momentum, low=0, high=1, what_peer_does="momentum outside [0, 1]")
    high = bounded("max_momentum", max_momentum, low=0, high=1, what_peer_does="momentum outside [0, 1]")
    return remap(cyclic(0.0, 1.0, up, down, m, g), high, low)


def _cycles_momentum(cycle_momentum: Any) -> None:
    """The ``*_momentum`` schedules exist only when torch cycles the momentum."""
    if not flag("cycle_momentum", cycle_momentum):
        unsupported(
            "cycle_momentum",
            cycle_momentum,
            why="torch then leaves the optimizer's momentum as it is, so there is no momentum schedule; "
            "drive only the LR (keep the optimizer's momentum)",
        )


def _one_cycle_total(total_steps: Any, epochs: Any, steps_per_epoch: Any) -> int:
    if total_steps is not None:
        return _steps("total_steps", total_steps, minimum=2, what_torch_does="torch divides by zero for 1")
    if epochs is None or steps_per_epoch is None:
        raise TypeError("OneCycleLR needs total_steps, or epochs and steps_per_epoch (torch raises the same)")
    return _steps("epochs", epochs, minimum=1) * _steps("steps_per_epoch", steps_per_epoch, minimum=1)


def OneCycleLR(
    max_lr: float,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """torch ``OneCycleLR`` (an LR schedule: ``max_lr`` is absolute; torch overwrites the optimizer's LR).

    From ``max_lr / div_factor`` up to ``max_lr`` at ``e1 = pct_start * N - 1``
    (``N = total_steps``, or ``epochs * steps_per_epoch``), then down to
    ``max_lr / div_factor / final_div_factor`` at ``N - 1``; with
    ``three_phase`` back to the initial LR at ``2 * pct_start * N - 2`` first.
    Cosine or linear annealing (``anneal_strategy``).  Maps to
    ``lrkit.one_cycle(max_lr, N, pct_start, anneal_strategy, div_factor,
    final_div_factor, three_phase)``, torch's phase arithmetic (float phase ends).
    The momentum arguments are ignored here: see :func:`OneCycleLR_momentum`.

    Quirk/difference at the end: lrkit holds the minimum from ``N - 1`` on;
    torch still evaluates step ``N`` (its last phase overshoots: cosine rises
    above the minimum, linear goes below it) and raises ``ValueError`` on the
    next ``scheduler.step()``.  A ``pct_start`` that leaves a phase without
    steps raises ``ValueError`` (torch divides by a zero or negative phase length).
    """
    total = _one_cycle_total(total_steps, epochs, steps_per_epoch)
    return one_cycle(
        _absolute("max_lr", max_lr),
        total,
        pct_start,
        choice("anneal_strategy", anneal_strategy, ("cos", "linear"), what_peer_does="torch raises too"),
        div_factor,
        final_div_factor,
        three_phase,
    )


def OneCycleLR_momentum(
    max_lr: float = 0.0,
    total_steps: int | None = None,
    epochs: int | None = None,
    steps_per_epoch: int | None = None,
    pct_start: float = 0.3,
    anneal_strategy: str = "cos",
    cycle_momentum: bool = True,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> Schedule:
    """The momentum (or ``betas[0]``) torch ``OneCycleLR`` sets: ``max_momentum`` down to ``base_momentum`` and back.

    Same phases as :func:`OneCycleLR`: ``max_momentum`` at 0, ``base_momentum``
    at ``e1`` (the LR's peak), ``max_momentum`` at ``N - 1`` (three phases:
    back to ``max_momentum`` at ``e2`` and held there).  Takes ``OneCycleLR``'s
    arguments (the LR ones are ignored).  Maps to ``lrkit.one_cycle(base_momentum,
    N, pct_start, anneal_strategy, div_factor=base_momentum / max_momentum,
    final_div_factor=1.0, three_phase)``: a one-cycle whose "initial" value
    (``max_momentum``) lies above its peak.  Drive it with
    ``lrkit.torch.Scheduler(opt, value=m, hyperparam="momentum")`` or ``"betas[0]"``.

    Differences: ``base_momentum`` must be in ``(0, max_momentum]`` (``ValueError``);
    ``cycle_momentum=False`` raises ``ValueError`` (torch then leaves the momentum alone).
    """
    _cycles_momentum(cycle_momentum)
    total = _one_cycle_total(total_steps, epochs, steps_per_epoch)
    high = bounded("max_momentum", max_momentum, low=0, high=1, low_open=True, what_peer_does="momentum")
    low = bounded("base_momentum", base_momentum, low=0, high=1, low_open=True, what_peer_does="momentum")
    compare("max_momentum", high, ">=", low, bound_name="base_momentum", what_peer_does="torch cycles upside down")
    return one_cycle(
        low,
        total,
        pct_start,
        choice("anneal_strategy", anneal_strategy, ("cos", "linear"), what_peer_does="torch raises too"),
        low / high,
        1.0,
        three_phase,
    )


# -- combinations ------------------------------------------------------------------------


def SequentialLR(schedulers: Sequence[Schedule], milestones: Sequence[int]) -> Schedule:
    """torch ``SequentialLR``: ``schedulers[i]`` from ``milestones[i - 1]`` on, each on its own clock.

    At a milestone ``b`` torch restarts the next scheduler at its step 0:
    ``s(b) = schedulers[i](0)``.  Maps to ``lrkit.join(schedulers,
    milestones)``.  Pass the results of this module's functions (all factors,
    or all with ``lr=``).

    Quirks, copied: a zero-length piece (a milestone equal to the previous one,
    or a first milestone 0) never runs in torch and is dropped here; a single
    scheduler is returned as is.

    Differences: milestones must not decrease (``ValueError``; torch bisects an
    unsorted list).
    """
    pieces = list(sequence("schedulers", schedulers, of="schedules"))
    stones = [_steps(f"milestones[{i}]", m) for i, m in enumerate(sequence("milestones", milestones, of="steps"))]
    compare(
        "len(milestones)",
        len(stones),
        "==",
        len(pieces) - 1,
        bound_name="len(schedulers) - 1",
        what_peer_does="torch raises too",
    )
    for i in range(1, len(stones)):
        compare(f"milestones[{i}]", stones[i], ">=", stones[i - 1], bound_name=f"milestones[{i - 1}]")
    starts = [0, *stones]
    ends = [*stones, None]
    kept = [(p, s) for p, s, e in zip(pieces, starts, ends, strict=True) if e is None or e > s]
    if len(kept) == 1:
        return kept[0][0]
    return join([p for p, _ in kept], [s for _, s in kept[1:]])


_NOT_MULTIPLICATIVE = (cosine_restarts, cyclic, one_cycle)


def ChainedScheduler(schedulers: Sequence[Schedule], *, lr: float | None = None) -> Schedule:
    """torch ``ChainedScheduler``: every scheduler steps the same LR, so their factors multiply.

    Pass factor schedules (this module's functions without ``lr=``); the
    result is ``lr * f_1(t) * f_2(t) * ...`` with ``lr=``, or the multiplier
    ``product(...)`` without.  Maps to ``lrkit.scale(product([...]), lr)``.

    Exact for ``StepLR``, ``MultiStepLR``, ``ConstantLR``, ``LinearLR``,
    ``ExponentialLR`` and ``PolynomialLR``: torch's steps multiply the current
    LR by a ratio, so chaining multiplies the factors.  Refused (``TypeError``):
    ``CosineAnnealingWarmRestarts``, ``CyclicLR`` and ``OneCycleLR`` set the
    LR outright (the last one in the chain wins, the others are lost), and
    ``CosineAnnealingLR``, whose step is additive at ``T_max + 1`` (the
    other factors are lost there).
    """
    pieces = list(sequence("schedulers", schedulers, of="schedules"))
    for i, p in enumerate(pieces):
        inner = p.schedule if isinstance(p, multiplier) else p
        if not isinstance(inner, Schedule):
            raise TypeError(f"schedulers[{i}] must be an lrkit schedule, got {p!r}")
        if not p.is_multiplier:
            raise TypeError(
                f"schedulers[{i}] is a learning rate, not a factor: build the chained schedules without lr= "
                "and pass lr= to ChainedScheduler"
            )
        if isinstance(inner, _NOT_MULTIPLICATIVE) or (isinstance(inner, cosine) and inner.periodic):
            raise TypeError(
                f"schedulers[{i}] ({type(inner).__name__}) does not multiply the current LR in torch's chain "
                "(it sets it, or adds to it after T_max): ChainedScheduler of it is not a product; use "
                "lrkit.product/join with the schedule you mean"
            )
    inners = [p.schedule if isinstance(p, multiplier) else p for p in pieces]
    out = pieces[0] if len(pieces) == 1 else multiplier(product(inners))
    return out if lr is None else scale(out, _base(lr))


# -- from a live torch scheduler -----------------------------------------------------------


def _group_base(sched: Any, group: int) -> float:
    return float(sched.base_lrs[group])


def _convert(sched: Any, group: int, *, factor: bool = False) -> Schedule:
    """The LR schedule (on the scheduler's own clock, from its construction) of one torch scheduler.

    ``factor=True``: the factor schedule instead (inside a chain, where the factors multiply).
    """
    name = type(sched).__name__
    if name in ("LambdaLR", "MultiplicativeLR"):
        raise TypeError(
            f"{name} runs a Python function, which lrkit cannot read: write the function as an lrkit schedule "
            "(lrkit.multiplier(...) of the factor) and use lrkit.torch.Scheduler(opt, factor=...)"
        )
    if name == "ReduceLROnPlateau":
        raise TypeError(
            "ReduceLROnPlateau is not a function of the step (it reacts to a metric): use lrkit.Plateau, "
            "composed with a schedule in lrkit.torch.Scheduler"
        )
    if name == "SequentialLR":
        return _sequential(sched, group, factor=factor, nested=False)
    if name == "ChainedScheduler":
        return _chained(sched, group)
    lr = None if factor or name in ("CyclicLR", "OneCycleLR") else _group_base(sched, group)
    if name == "StepLR":
        return StepLR(sched.step_size, sched.gamma, lr=lr)
    if name == "MultiStepLR":
        return MultiStepLR(list(sched.milestones.elements()), sched.gamma, lr=lr)
    if name == "ConstantLR":
        return ConstantLR(sched.factor, sched.total_iters, lr=lr)
    if name == "LinearLR":
        return LinearLR(sched.start_factor, sched.end_factor, sched.total_iters, lr=lr)
    if name == "ExponentialLR":
        return ExponentialLR(sched.gamma, lr=lr)
    if name == "PolynomialLR":
        return PolynomialLR(sched.total_iters, sched.power, lr=lr)
    if name == "CosineAnnealingLR":
        return CosineAnnealingLR(sched.T_max, sched.eta_min, lr=lr)
    if name == "CosineAnnealingWarmRestarts":
        return CosineAnnealingWarmRestarts(sched.T_0, sched.T_mult, sched.eta_min, lr=lr)
    if name == "CyclicLR":
        if sched._scale_fn_custom is not None:
            CyclicLR(0.0, 0.0, scale_fn=sched._scale_fn_custom)  # raises the TypeError that says what to do
        up = round(sched.total_size * sched.step_ratio)
        down = round(sched.total_size) - up
        return CyclicLR(sched.base_lrs[group], sched.max_lrs[group], up, down, sched.mode, sched.gamma)
    if name == "OneCycleLR":
        g = sched.optimizer.param_groups[group]
        phases = sched._schedule_phases
        return OneCycleLR(
            g["max_lr"],
            sched.total_steps,
            pct_start=(phases[0]["end_step"] + 1) / sched.total_steps,
            anneal_strategy=sched._anneal_func_type,
            div_factor=g["max_lr"] / g["initial_lr"],
            final_div_factor=g["initial_lr"] / g["min_lr"],
            three_phase=len(phases) == 3,
        )
    raise TypeError(
        f"{name} is not a torch.optim.lr_scheduler class lrkit knows; write it as an lrkit schedule "
        "(see docs/migrate.md)"
    )


def _sequential(sched: Any, group: int, *, factor: bool, nested: bool) -> Schedule:
    children = list(sched._schedulers)
    for i, child in enumerate(children[1:], start=1):
        if type(child).__name__ in ("SequentialLR", "ChainedScheduler"):
            raise TypeError(
                f"SequentialLR holding a {type(child).__name__} at index {i}: torch cannot restart it at its "
                "milestone (NotImplementedError there); only the first scheduler may be a combination"
            )
    # Torch quirk, copied: a SequentialLR nested as the *first* piece of another is stepped once more
    # while the outer one is built (its _initial_step), so its clock runs one step ahead: its
    # milestones fall one update early (not before 0).
    shift = 1 if nested else 0
    milestones = [max(m - shift, 0) for m in sched._milestones]
    first = children[0]
    pieces = [
        _sequential(first, group, factor=factor, nested=True)
        if type(first).__name__ == "SequentialLR"
        else _convert(first, group, factor=factor),
        *(_convert(c, group, factor=factor) for c in children[1:]),
    ]
    return SequentialLR(pieces, milestones)


def _chained(sched: Any, group: int) -> Schedule:
    for s in sched._schedulers:
        if type(s).__name__ in ("SequentialLR", "ChainedScheduler"):
            raise TypeError(
                f"ChainedScheduler holding a {type(s).__name__}: its steps are not a product of factors (a "
                "SequentialLR sets the LR outright at each milestone); write the schedule with lrkit.product/join"
            )
    factors = [_convert(s, group, factor=True) for s in sched._schedulers]
    # torch's chain multiplies every factor onto the group's initial LR
    return ChainedScheduler(factors, lr=_group_base(sched._schedulers[0], group))


def from_scheduler(scheduler: Any, group: int = 0) -> Schedule:
    """The lrkit schedule of a live torch scheduler: ``s(k)`` is the LR torch sets for update ``k`` of ``group``.

    ``k`` counts from the scheduler's construction (torch's ``last_epoch``):
    a scheduler part-way through training is at ``k = scheduler.last_epoch``,
    and ``s(scheduler.last_epoch)`` is the LR in the optimizer now, so
    ``lrkit.torch.Scheduler(opt, lr=s)`` resumed at that step continues it.
    Reads the scheduler's attributes (``base_lrs``, ``T_max``, ``milestones``,
    ``_schedulers``, ``_milestones``...), never the optimizer's current LR;
    nests through ``SequentialLR`` and ``ChainedScheduler``.  Quirk, copied:
    a ``SequentialLR`` nested as the first piece of another runs one step
    ahead (torch steps it once more while building the outer one), so its
    milestones fall one update early; only the first piece of a
    ``SequentialLR`` may be a combination (torch cannot restart a later one:
    ``TypeError`` here).

    Raises ``TypeError`` for ``LambdaLR`` and ``MultiplicativeLR`` (write the
    function as an lrkit schedule) and ``ReduceLROnPlateau`` (use
    ``lrkit.Plateau``), and for what :func:`ChainedScheduler` refuses.
    """
    if isinstance(scheduler, Schedule) or not hasattr(scheduler, "optimizer"):
        raise TypeError(f"scheduler must be a torch LR scheduler, got {type(scheduler).__name__}")
    groups = len(scheduler.optimizer.param_groups)
    if not isinstance(group, int) or isinstance(group, bool) or not 0 <= group < groups:
        raise TypeError(f"group must be the index of a param group (0..{groups - 1}), got {group!r}")
    return _convert(scheduler, group)
