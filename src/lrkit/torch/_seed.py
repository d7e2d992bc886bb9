"""The seed's ``WarmupMultiStepLR`` (maskrcnn-benchmark lineage), as a drop-in built from lrkit parts."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

from torch.optim import Optimizer

from lrkit.composition import warmup
from lrkit.schedules import multistep
from lrkit.validators import real

from ._scheduler import Scheduler


class WarmupMultiStepLR(Scheduler):
    """The seed's ``WarmupMultiStepLR``, drop-in: same signature, values and errors.

    LR of group ``g`` at step ``t``: ``initial_lr[g] * f(t) * gamma ** bisect_right(milestones, t)``
    with ``f(t) = warmup_factor`` (``"constant"``) or
    ``warmup_factor * (1 - t / warmup_iters) + t / warmup_iters`` (``"linear"``)
    for ``t < warmup_iters`` and ``f(t) = 1`` after.  It is exactly
    ``Scheduler(optimizer, factor=warmup(multistep(1.0, milestones, gamma),
    steps=warmup_iters, start_factor=warmup_factor, method=warmup_method,
    prefix=False))`` (the multiplicative form: milestones count from step 0),
    the composition the seed's FIXME asked for.

    Raises ``ValueError`` (like the seed) for milestones that are not sorted
    (repeats are allowed: a repeated milestone decays twice) and for a
    ``warmup_method`` other than ``"constant"``/``"linear"``.  Differences from
    the seed, by design: ``warmup_factor`` must be in ``[0, 1]``, ``warmup_iters``
    an int ``>= 0`` and ``gamma`` in ``[0, 1]`` (``ValueError``/``TypeError``
    naming them otherwise), and by default a ``step()`` that
    follows no optimizer update (AMP skip) does not advance (``count="calls"``
    restores the seed's call counting).  Values agree with the seed's to a few
    ulps (the seed multiplies ``base * factor * gamma**k`` left to right).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        warmup_factor: float = 1.0 / 3,
        warmup_iters: int = 500,
        warmup_method: str = "linear",
        last_epoch: int = -1,
        *,
        count: str = "updates",
    ) -> None:
        if not list(milestones) == sorted(milestones):
            raise ValueError(f"Milestones should be a list of increasing integers, got {list(milestones)}")
        if warmup_method not in ("constant", "linear"):
            raise ValueError(f"Only 'constant' or 'linear' warmup_method accepted, got {warmup_method!r}")
        # Checked here, under the drop-in's own names: warmup() would name them start_factor and steps.
        warmup_factor = real("warmup_factor", warmup_factor, low=0.0, high=1.0)
        if isinstance(warmup_iters, bool) or not isinstance(warmup_iters, numbers.Integral):
            raise TypeError(f"warmup_iters must be an int number of steps, got {warmup_iters!r}")
        if warmup_iters < 0:
            raise ValueError(f"warmup_iters must be >= 0, got {warmup_iters!r}")
        self.milestones = milestones
        self.gamma = gamma
        self.warmup_factor = warmup_factor
        self.warmup_iters = warmup_iters
        self.warmup_method = warmup_method
        schedule = warmup(
            multistep(1.0, list(milestones), gamma),
            steps=warmup_iters,
            start_factor=warmup_factor,
            method=warmup_method,
            prefix=False,  # the seed's multiplicative form: milestones count from step 0
        )
        super().__init__(optimizer, factor=schedule, last_epoch=last_epoch, count=count)
