"""pytorch_warmup's warmup schedules, by their own names, as lrkit *factor* schedules.

pytorch_warmup (Kosuke Nakamura's ``pytorch-warmup``) does not schedule a learning
rate: it *dampens* whatever LR the optimizer has (usually set by another
scheduler) by a warmup factor ``ω(t)`` in ``[0, 1]``.  Here each warmup is that
factor, as an ``lrkit.multiplier(...)``: multiply it onto any schedule::

    >>> import lrkit
    >>> from lrkit.compat import pytorch_warmup
    >>> w = pytorch_warmup.LinearWarmup(warmup_period=4)
    >>> w
    multiplier(linear(0.25, 1.0, steps=3))
    >>> w(0), w(1), w(3), w(100)
    (0.25, 0.5, 1.0, 1.0)
    >>> s = lrkit.cosine(1e-3, steps=1000) * w     # cosine, dampened during its first 3 steps

The step ``t`` is pytorch_warmup's step: its constructor dampens the LR of
update 0 with ``ω(0)``, and ``with warmup.dampening(): lr_scheduler.step()``
after each update dampens update ``t`` with ``ω(t)``.  So the LR of update
``t`` is ``schedule(t) * ω(t)``.  Note ``ω(0) = 1 / warmup_period``, not 0:
pytorch_warmup's factors use ``t + 1`` (``lrkit.shapes.offset_linear_rise``).

The optimizer-dependent warmups (``UntunedLinearWarmup``...) read ``beta2``
from the optimizer's ``betas``: here it is the keyword ``beta2=`` (default
0.999, torch's Adam default).

``ExponentialWarmup`` and ``UntunedExponentialWarmup`` (``1 - exp(-(t + 1) / τ)``)
are ``ramp(shape="exp_saturation")`` factors, and ``RAdamWarmup`` (RAdam's
rectification term) is the building block ``lrkit.radam_warmup(beta2)``.
Per-group lists of periods raise ``TypeError``:
build one factor per group.  ``last_step`` other than -1 (resuming) raises:
an lrkit schedule is resumed by its step alone.

This module never imports pytorch_warmup or torch.
"""

from __future__ import annotations

from typing import Any

from ..base import Schedule
from ..composition import multiplier
from ..schedules import constant, linear, radam_warmup, ramp
from ..validators import bounded, unsupported, whole

__all__ = [
    "ExponentialWarmup",
    "LinearWarmup",
    "RAdamWarmup",
    "UntunedExponentialWarmup",
    "UntunedLinearWarmup",
]


def _fresh(last_step: Any) -> None:
    if last_step != -1:
        unsupported(
            "last_step", last_step, why="an lrkit schedule is a function of the step; resume by the step instead"
        )


def _period(name: str, value: Any) -> int:
    if isinstance(value, float):  # pytorch_warmup raises TypeError for a float period too
        raise TypeError(f"{name} must be an int, got {value!r} (pytorch_warmup raises TypeError too)")
    return whole(name, value, minimum=1, what_peer_does="pytorch_warmup raises ValueError too")


def _beta2(beta2: Any) -> float:
    return bounded("beta2", beta2, low=0, high=1, high_open=True, what_peer_does="Adam's beta2 is in [0, 1)")


def _linear_factor(period: int) -> Schedule:
    # ω(t) = min(1, (t + 1) / τ) = lerp(1/τ, 1, t / (τ - 1)): exactly 1 from t = τ - 1 on.
    return multiplier(constant(1.0) if period == 1 else linear(1.0 / period, 1.0, steps=period - 1))


def LinearWarmup(warmup_period: int, last_step: int = -1) -> Schedule:
    """pytorch_warmup ``LinearWarmup``: ``ω(t) = min(1, (t + 1) / warmup_period)``.

    ``ω(0) = 1 / τ`` (the first update is already warmed: the ``t + 1`` of
    ``lrkit.shapes.offset_linear_rise``), ``ω(τ - 1) = 1``, held after.  Maps to
    ``multiplier(linear(1 / τ, 1.0, steps=τ - 1))`` (``multiplier(constant(1.0))`` for ``τ = 1``).
    """
    _fresh(last_step)
    return _linear_factor(_period("warmup_period", warmup_period))


def UntunedLinearWarmup(*, beta2: float = 0.999, last_step: int = -1) -> Schedule:
    """pytorch_warmup ``UntunedLinearWarmup``: :func:`LinearWarmup` with ``τ = int(2 / (1 - beta2))``.

    (Ma & Yarats 2019.)  ``beta2=0.999`` gives ``τ = 1999``: pytorch_warmup truncates
    ``2 / (1 - 0.999) = 1999.9999999999982``, so the factor is 1 from step 1998 on.
    """
    _fresh(last_step)
    return _linear_factor(_period("warmup_period", int(2.0 / (1.0 - _beta2(beta2)))))


def _exponential_factor(period: int) -> Schedule:
    # ω(t) = 1 - exp(-(t + 1) / τ): lrkit.shapes.exp_saturation_rise, through ramp(shape="exp_saturation").
    return multiplier(ramp(0.0, 1.0, steps=period, shape="exp_saturation"))


def ExponentialWarmup(warmup_period: int, last_step: int = -1) -> Schedule:
    """pytorch_warmup ``ExponentialWarmup``: ``ω(t) = 1 - exp(-(t + 1) / warmup_period)``.

    ``ω(0) = 1 - exp(-1 / τ)``; it approaches 1 and never reaches it (``τ`` is a
    time constant, not a length).  Maps to
    ``multiplier(ramp(0.0, 1.0, steps=τ, shape="exp_saturation"))``.
    """
    _fresh(last_step)
    return _exponential_factor(_period("warmup_period", warmup_period))


def UntunedExponentialWarmup(*, beta2: float = 0.999, last_step: int = -1) -> Schedule:
    """pytorch_warmup ``UntunedExponentialWarmup``: :func:`ExponentialWarmup` with ``τ = int(1 / (1 - beta2))``.

    ``beta2=0.999`` gives ``τ = 999`` (``int(999.9999999999991)``, as pytorch_warmup truncates).
    """
    _fresh(last_step)
    return _exponential_factor(_period("warmup_period", int(1.0 / (1.0 - _beta2(beta2)))))


def RAdamWarmup(*, beta2: float = 0.999, last_step: int = -1) -> Schedule:
    """pytorch_warmup ``RAdamWarmup``: RAdam's rectification term as the factor, ``lrkit.radam_warmup(beta2)``.

    ``ω(t) = sqrt((ρ - 4)(ρ - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρ))`` at ``ρ = ρ_(t + δ)``, with
    ``ρ_n = ρ∞ - 2 n β2^n / (1 - β2^n)``, ``ρ∞ = 2 / (1 - β2) - 1`` and ``δ`` the first
    ``n >= 1`` with ``ρ_n > 4`` (5 for ``β2 = 0.999``: ``ω(0) = 0.0173...``).  A multiplier
    already (``radam_warmup`` is one).  Difference: lrkit computes ``ρ_n`` without
    pytorch_warmup's cancellation (its ``ρ∞ - ...`` loses about ``log10(ρ∞)`` digits: 1e-13
    relative at ``β2 = 0.999``, 1e-10 at 0.99999), and for ``β2`` above about ``1 - 2e-6`` that
    rounding can move pytorch_warmup's ``δ`` to a step where the true ``ρ_n`` is below 4.
    """
    _fresh(last_step)
    b2 = bounded("beta2", beta2, low=0.6, high=1, low_open=True, high_open=True, what_peer_does="pytorch_warmup raises")
    return radam_warmup(b2)
