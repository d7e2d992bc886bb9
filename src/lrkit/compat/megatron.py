"""Megatron-Core's ``OptimizerParamScheduler``, by its own parameters, as lrkit schedules.

``megatron.core.optimizer_param_scheduler.OptimizerParamScheduler`` sets two
hyperparameters of every parameter group at once: the learning rate and the
weight decay.  lrkit schedules one hyperparameter each, so this module has two
functions taking the *same* keyword arguments (the scheduler's, without
``optimizer``), so a call site migrates by copying its arguments::

    >>> from lrkit.compat import megatron
    >>> kw = dict(init_lr=0.0, max_lr=3e-4, min_lr=3e-5, lr_warmup_steps=100, lr_decay_steps=1000,
    ...           lr_decay_style="cosine", start_wd=0.01, end_wd=0.1, wd_incr_steps=1000, wd_incr_style="linear")
    >>> megatron.OptimizerParamScheduler(**kw)
    join([linear(0.0, 0.0003, steps=100), cosine(0.0003, steps=900, floor=3e-05)], [100])
    >>> megatron.OptimizerParamScheduler_wd(**kw)
    linear(0.01, 0.1, steps=1000)

    # lrkit.torch.Scheduler(opt, lr=lr_schedule); a second one with hyperparam="weight_decay"

The step ``t`` is Megatron's ``num_steps``: the scheduler calls ``step(0)`` in
its constructor and the training loop calls ``step(increment=1)`` after each
optimizer update, so update ``t`` runs with the values at ``num_steps = t``.

Megatron's formulas (``W = lr_warmup_steps``, ``D = lr_decay_steps``):

* warmup, only when ``W > 0``: ``init_lr + (max_lr - init_lr) * t / W`` for
  ``t <= W`` (so ``s(W) = max_lr`` exactly, whatever the style);
* ``"constant"``: ``max_lr`` after the warmup, forever (``D`` is ignored);
* after ``D`` every other style is ``min_lr``;
* ``"linear"`` / ``"cosine"``: from ``max_lr`` at ``W`` to ``min_lr`` at ``D``,
  on the decay clock ``(t - W) / (D - W)``;
* ``"inverse-square-root"``: ``max(min_lr, max_lr * sqrt(max(W, 1) / max(t, 1)))``
  on the *global* clock, then ``min_lr`` after ``D`` (a drop at ``D + 1``: the
  quirk is copied);
* ``"WSD"``: ``max_lr`` until ``A = D - wsd_decay_steps``, then the
  ``lr_wsd_decay_style`` cooldown (``"linear"``, ``"cosine"``, ``"minus_sqrt"``,
  ``"exponential"`` ``2 * 0.5 ** p - 1``) from ``max_lr`` at ``A`` to ``min_lr`` at
  ``D``.  A cooldown that starts inside the warmup (``A < W``) is copied too: the
  ramp still reaches ``max_lr`` at ``W``, then the LR jumps to the cooldown's
  value at ``W + 1`` (``lrkit.shift`` of the cooldown).

Weight decay (``N = wd_incr_steps``): ``end_wd`` after ``N``; ``"constant"``
is ``end_wd`` (Megatron asserts ``start_wd == end_wd``); ``"linear"`` and
``"cosine"`` rise from ``start_wd`` at 0 to ``end_wd`` at ``N`` (the cosine is
``(1 - cos(π t / N)) / 2``).

Differences, all loud (``ValueError`` naming the parameter; Megatron's own
``assert`` failures become ``ValueError`` too):

* ``wd_incr_steps=0`` with a rising style raises (Megatron divides by zero at step 0).
* Per-group ``max_lr``/``min_lr``/``start_wd``/``end_wd``/``wd_mult`` keys are
  a property of the binding: build one schedule per group.
* ``use_checkpoint_opt_param_scheduler`` and ``override_opt_param_scheduler``
  concern Megatron's checkpoints; they are accepted and ignored (lrkit's
  schedule is a pure function of the step: resume by the step alone).

This module never imports Megatron or torch.
"""

from __future__ import annotations

from typing import Any

from ..base import Schedule
from ..composition import clip, join, shift, warmup
from ..schedules import constant, cosine, inverse_sqrt, linear, piecewise_interpolate, wsd
from ..validators import bounded, choice, compare, flag, unsupported, whole_steps

__all__ = ["OptimizerParamScheduler", "OptimizerParamScheduler_wd"]

_LR_STYLES = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
_WD_STYLES = ("constant", "linear", "cosine")
# Megatron's WSD cooldown names -> lrkit.shapes.DECAYS names.
_WSD_DECAYS = {"linear": "linear", "cosine": "cosine", "minus_sqrt": "1-sqrt", "exponential": "exponential"}
_ASSERTS = "Megatron's assert fails"


def _steps(name: str, value: Any, *, minimum: int = 0, what_megatron_does: str = "") -> int:
    return whole_steps(name, value, peer="Megatron", minimum=minimum, what_peer_does=what_megatron_does)


def _lr(name: str, value: Any) -> float:
    return bounded(name, value, low=0, what_peer_does="Megatron accepts it and yields a negative value")


def OptimizerParamScheduler(
    init_lr: float,
    max_lr: float,
    min_lr: float,
    lr_warmup_steps: int,
    lr_decay_steps: int,
    lr_decay_style: str,
    start_wd: float,
    end_wd: float,
    wd_incr_steps: int,
    wd_incr_style: str,
    use_checkpoint_opt_param_scheduler: bool | None = True,
    override_opt_param_scheduler: bool | None = False,
    wsd_decay_steps: int | None = None,
    lr_wsd_decay_style: str | None = None,
) -> Schedule:
    """The learning rate Megatron's ``OptimizerParamScheduler`` sets at ``num_steps = t`` (see the module doc).

    Returns (``W = lr_warmup_steps``, ``D = lr_decay_steps``, ``sf = init_lr / max_lr``):

    * ``"constant"``: ``warmup(constant(max_lr), steps=W, start_factor=sf, prefix=True)``;
    * ``"linear"``/``"cosine"``: ``join([linear(init_lr, max_lr, W), linear(max_lr, min_lr, D - W)], [W])``
      (``cosine(max_lr, D - W, floor=min_lr)``), the decay alone when ``W = 0``;
    * ``"inverse-square-root"``: ``join([warmup(clip(inverse_sqrt(max_lr, max(W, 1)), lower=min_lr), steps=W,
      start_factor=sf, prefix=False), constant(min_lr)], [D + 1])``;
    * ``"WSD"``: ``wsd(max_lr, W, stable_steps=D - S - W, decay_steps=S, decay=..., floor=min_lr,
      start_factor=sf)`` with ``S = wsd_decay_steps`` (``S = 0``: a drop to ``min_lr`` at ``D + 1``); when the
      cooldown starts at ``A = D - S < W``, ``join([linear(init_lr, max_lr, W), shift(wsd(max_lr, 0, 0, S,
      decay=..., floor=min_lr), W + 1 - A)], [W + 1])`` (``shift(..., -A)`` alone when ``W = 0``).

    Boundaries: ``s(0) = init_lr`` when ``W > 0`` (``max_lr`` otherwise), ``s(W) = max_lr``,
    ``s(D) = min_lr`` for linear/cosine/WSD, held after.  The weight-decay arguments are
    checked as Megatron checks them and otherwise ignored (see :func:`OptimizerParamScheduler_wd`).
    """
    flag("use_checkpoint_opt_param_scheduler", bool(use_checkpoint_opt_param_scheduler))
    flag("override_opt_param_scheduler", bool(override_opt_param_scheduler))
    OptimizerParamScheduler_wd(
        start_wd=start_wd, end_wd=end_wd, wd_incr_steps=wd_incr_steps, wd_incr_style=wd_incr_style
    )
    init, peak, low = _lr("init_lr", init_lr), _lr("max_lr", max_lr), _lr("min_lr", min_lr)
    compare("max_lr", peak, ">=", low, bound_name="min_lr", what_peer_does=_ASSERTS)
    compare("init_lr", init, "<=", peak, bound_name="max_lr", what_peer_does=_ASSERTS)
    w = _steps("lr_warmup_steps", lr_warmup_steps)
    d = _steps("lr_decay_steps", lr_decay_steps, minimum=1, what_megatron_does=_ASSERTS)
    compare("lr_warmup_steps", w, "<", d, bound_name="lr_decay_steps", what_peer_does=_ASSERTS)
    style = choice(
        "lr_decay_style", lr_decay_style, _LR_STYLES, what_peer_does="Megatron raises 'decay style is not supported'"
    )
    if peak == 0.0:  # init_lr <= max_lr = 0 and min_lr <= max_lr: every value is 0
        return constant(0.0)
    sf = init / peak

    if style == "constant":
        return warmup(constant(peak), steps=w, start_factor=sf, prefix=True)
    if style in ("linear", "cosine"):
        decay = linear(peak, low, d - w) if style == "linear" else cosine(peak, d - w, floor=low)
        # Megatron's warmup and decay meet at t = W (both max_lr), so the decay's clock starts there.
        return decay if w == 0 else join([linear(init, peak, w), decay], [w])
    if style == "inverse-square-root":
        # The decay runs on the global clock and is max_lr up to W, so the warmup multiplies it.
        rsqrt = clip(inverse_sqrt(peak, max(w, 1)), lower=low)
        return join([warmup(rsqrt, steps=w, start_factor=sf, prefix=False), constant(low)], [d + 1])

    # WSD
    if wsd_decay_steps is None:
        unsupported("wsd_decay_steps", None, why="lr_decay_style='WSD' needs it (Megatron's assert fails)")
    s = _steps("wsd_decay_steps", wsd_decay_steps)
    shape = _WSD_DECAYS[choice("lr_wsd_decay_style", lr_wsd_decay_style, tuple(_WSD_DECAYS))]
    if s == 0:  # Megatron holds max_lr up to D, then min_lr (its 'num_steps > lr_decay_steps' branch)
        return join([warmup(constant(peak), steps=w, start_factor=sf, prefix=True), constant(low)], [d + 1])
    anneal = d - s  # Megatron's wsd_anneal_start_
    if anneal >= w:
        return wsd(peak, w, stable_steps=anneal - w, decay_steps=s, decay=shape, floor=low, start_factor=sf)
    # The cooldown starts inside the warmup (or before step 0): Megatron still ramps to max_lr at W, then
    # runs the cooldown on the global clock, (t - anneal) / S, from t = W + 1: the cooldown shifted.
    cooldown = wsd(peak, 0, stable_steps=0, decay_steps=s, decay=shape, floor=low)
    if w == 0:
        return shift(cooldown, -anneal)
    return join([linear(init, peak, w), shift(cooldown, w + 1 - anneal)], [w + 1])


def OptimizerParamScheduler_wd(
    init_lr: float = 0.0,
    max_lr: float = 0.0,
    min_lr: float = 0.0,
    lr_warmup_steps: int = 0,
    lr_decay_steps: int = 1,
    lr_decay_style: str = "constant",
    start_wd: float = 0.0,
    end_wd: float = 0.0,
    wd_incr_steps: int = 0,
    wd_incr_style: str = "constant",
    use_checkpoint_opt_param_scheduler: bool | None = True,
    override_opt_param_scheduler: bool | None = False,
    wsd_decay_steps: int | None = None,
    lr_wsd_decay_style: str | None = None,
) -> Schedule:
    """The weight decay Megatron's ``OptimizerParamScheduler`` sets at ``num_steps = t`` (``get_wd``).

    Takes the scheduler's keyword arguments (the learning-rate ones are ignored here).
    With ``N = wd_incr_steps``:

    * ``"constant"``: ``constant(end_wd)`` (Megatron asserts ``start_wd == end_wd``);
    * ``"linear"``: ``linear(start_wd, end_wd, steps=N)``;
    * ``"cosine"``: ``piecewise_interpolate([0, N], [start_wd, end_wd], method="cosine")``, Megatron's
      ``start_wd + (end_wd - start_wd) * (cos(π (1 - t/N)) + 1) / 2``.

    ``s(0) = start_wd``, ``s(N) = end_wd`` exactly, held after.
    """
    start, end = _lr("start_wd", start_wd), _lr("end_wd", end_wd)
    compare("end_wd", end, ">=", start, bound_name="start_wd", what_peer_does=_ASSERTS)
    style = choice(
        "wd_incr_style", wd_incr_style, _WD_STYLES, what_peer_does="Megatron raises 'increment style is not supported'"
    )
    if style == "constant":
        compare("end_wd", end, "==", start, bound_name="start_wd", what_peer_does=_ASSERTS + " for the constant style")
        return constant(end)
    n = _steps("wd_incr_steps", wd_incr_steps, minimum=1, what_megatron_does="Megatron divides by zero at step 0")
    if style == "linear":
        return linear(start, end, steps=n)
    return piecewise_interpolate([0, n], [start, end], method="cosine")
