"""lrkit.torch: drive a PyTorch optimizer with lrkit schedules.

:class:`Scheduler` is a ``torch.optim.lr_scheduler.LRScheduler`` subclass, so
Lightning, the Hugging Face ``Trainer``, Accelerate and plain loops accept it.
It binds a schedule (a pure function of the step) to an optimizer; it never
re-implements a formula.

* ``Scheduler(opt, factor=s)``: each param group's own initial value times ``s(t)``
  (group ratios preserved: layer-wise LR decay is safe).
* ``Scheduler(opt, lr=s)``: the LR *is* ``s(t)`` (``value=s`` for any hyperparameter).
* ``t`` is the number of optimizer updates applied (an AMP update skipped by
  ``GradScaler`` is not one, with fused optimizers too).  After construction
  the groups hold the values of step 0.  An optimizer step post-hook counts
  each update applied and writes the values of the next one right away, so
  update ``k`` runs at ``base * s(k)`` whether ``step()`` is called once per
  update, per epoch, twice or never; ``step()`` brings ``get_last_lr()`` up to
  date (torch's meaning: until ``step()``, the values of the last update).
* ``state_dict()`` is plain data (the step, the schedules as dicts, the base
  values): it loads with ``torch.load(weights_only=True)`` and its size does not
  depend on the step.

:class:`Plateau` is :class:`lrkit.Plateau` (the same object; it needs no torch).
:func:`sharpness` (the top Hessian eigenvalue; critical LR ``2 / λ`` for gradient descent) and
:func:`lr_range_test` (Smith 2017, state restored) measure what the warmup and the peak LR depend on.
:class:`WarmupMultiStepLR` is the seed's class (maskrcnn-benchmark lineage),
drop-in, built as ``warmup(multistep(1.0, milestones, gamma), ..., prefix=False)`` in factor mode.

Layout (one job per module): ``_modes`` (factor/lr/value arguments, binding
schedules to groups), ``_slots`` (reading and writing a group's value: float,
tensor, tuple element), ``_scheduler`` (the class and its hot path ``step()``),
``_checkpoint`` (state dicts and the mismatch policy), ``_hooks`` (the optimizer
hook: update counting, the write-ahead, AMP skips), ``_plan`` (the per-update step generated once per
plan), ``_seed`` (the ``WarmupMultiStepLR`` drop-in).
"""

from __future__ import annotations

from lrkit.plateau import Plateau

from ._checkpoint import MISMATCH_POLICIES
from ._diagnostics import RangeTestResult, lr_range_test, sharpness
from ._modes import COUNT_MODES
from ._scheduler import Scheduler
from ._seed import WarmupMultiStepLR

__all__ = [
    "COUNT_MODES",
    "MISMATCH_POLICIES",
    "Plateau",
    "RangeTestResult",
    "Scheduler",
    "WarmupMultiStepLR",
    "lr_range_test",
    "sharpness",
]
