"""Keras 3's learning-rate schedules, by their own names and parameters, as lrkit schedules.

Each function takes exactly the arguments of the ``keras.optimizers.schedules``
class of the same name (same order, same defaults) and returns a plain lrkit
:class:`~lrkit.Schedule` built from lrkit's building blocks, so it prints,
parses, pickles and plots like any other schedule and runs on every backend::

    >>> from lrkit.compat import keras
    >>> keras.PiecewiseConstantDecay([10000, 20000, 30000], [0.001, 0.0008, 0.0004, 0.0001])
    piecewise_constant([10000, 20000, 30000], [0.001, 0.0008, 0.0004, 0.0001], at_boundary='previous')

The step ``t`` means what Keras' ``step`` means: the optimizer's
``iterations``, the number of updates already applied.  Values match Keras
step for step, quirks included (each is named in the function's docstring);
the only differences are float rounding, because Keras computes in float32 and
lrkit in float64 (or the dtype of the tensor you pass).

This module never imports Keras.

Differences from Keras, all loud:

* ``name`` is accepted and ignored (lrkit schedules have no name scope).
  The seed passes ``name=None``, which TF 2's Keras accepted; Keras 3 raises
  ``ValueError`` for it when the schedule is first *called*.
* Where Keras accepts a value that makes a schedule grow without bound, go
  negative, produce NaN or depend on unsorted input, lrkit raises
  ``ValueError`` saying what Keras would do: e.g. ``ExponentialDecay`` with
  ``decay_rate > 1``, ``CosineDecay`` with ``alpha`` outside ``[0, 1]``.
* Durations (``decay_steps``, ``warmup_steps``, ``boundaries``...) must be
  whole numbers of steps: Keras accepts ``decay_steps=2.5``, lrkit counts in
  whole optimizer steps and raises ``ValueError``.
* An ``int`` learning rate is taken as the float it stands for.  (Keras then
  computes in int32: ``keras.optimizers.schedules.CosineDecay(1, 10)`` casts π
  to 3 and ends at 0.005 instead of 0; lrkit does not copy that.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..base import Schedule
from ..composition import join
from ..schedules import (
    cosine,
    cosine_restarts,
    exponential,
    inverse_time,
    linear,
    piecewise_constant,
    polynomial,
)
from ..validators import (
    bounded,
    flag,
    nonempty,
    one_fewer,
    sequence,
    strictly_increasing,
    whole_steps,
)

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
]


# -- validators with Keras' parameter names -----------------------------------
# Each names the Keras parameter and the value, and, where Keras would accept
# the value, says what Keras does with it.


def _learning_rate(name: str, value: Any) -> float:
    return bounded(name, value, low=0, what_peer_does="Keras accepts it and yields a negative learning rate")


def _whole_steps(name: str, value: Any, *, positive: bool) -> int:
    if positive:
        # Keras raises the same: "Argument `decay_steps` must be > 0."
        bounded(name, value, low=0, low_open=True, what_peer_does="Keras raises too")
    return whole_steps(name, value, peer="Keras")


def _fraction(name: str, value: Any, what_keras_does: str) -> float:
    return bounded(name, value, low=0, high=1, what_peer_does=f"Keras accepts it: {what_keras_does}")


# -- the schedules --------------------------------------------------------------


def ExponentialDecay(
    initial_learning_rate: float,
    decay_steps: int,
    decay_rate: float,
    staircase: bool = False,
    name: str = "ExponentialDecay",
) -> Schedule:
    """Keras ``ExponentialDecay``: ``initial_learning_rate * decay_rate ** (t / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(t / decay_steps)``: the
    value drops *at* ``t = k * decay_steps`` (``s(decay_steps - 1) =
    initial_learning_rate``, ``s(decay_steps) = initial_learning_rate *
    decay_rate``).  It never stops decaying (no clamp at the end).

    Maps to ``lrkit.exponential(initial_learning_rate, decay_steps, decay_rate,
    staircase=staircase)``.

    Quirks and differences:

    * ``decay_steps <= 0`` raises ``ValueError``, as in Keras.
    * ``decay_rate`` must be in ``(0, 1]``.  Keras also accepts
      ``decay_rate > 1`` (exponential *growth*: ``ExponentialDecay(0.001, 4000,
      1.1)`` reaches float32's overflow to ``inf`` after about 3.7M steps) and
      ``decay_rate <= 0`` (0 after step 0, or NaN); lrkit raises ``ValueError``.
      For a growing ramp use ``lrkit.warmup(..., method="exponential")``.
    * ``name`` is accepted and ignored.
    """
    del name  # accepted for Keras compatibility; lrkit schedules have no name scope
    lr = _learning_rate("initial_learning_rate", initial_learning_rate)
    steps = _whole_steps("decay_steps", decay_steps, positive=True)
    rate = bounded(
        "decay_rate",
        decay_rate,
        high=1,
        what_peer_does="Keras accepts decay_rate > 1 and grows the learning rate without bound until it overflows to "
        "inf; lrkit refuses it. For a growing ramp use lrkit.warmup(..., method='exponential')",
    )
    bounded(
        "decay_rate",
        rate,
        low=0,
        low_open=True,
        what_peer_does="Keras accepts it and yields 0 after step 0 (decay_rate = 0) or NaN (decay_rate < 0); "
        "lrkit refuses it",
    )
    return exponential(lr, steps, rate, staircase=flag("staircase", staircase))


def InverseTimeDecay(
    initial_learning_rate: float,
    decay_steps: int,
    decay_rate: float,
    staircase: bool = False,
    name: str = "InverseTimeDecay",
) -> Schedule:
    """Keras ``InverseTimeDecay``: ``initial_learning_rate / (1 + decay_rate * t / decay_steps)``.

    With ``staircase=True``, ``t / decay_steps`` is floored: the value drops
    *at* ``t = k * decay_steps``.  Decays forever (no clamp at the end).

    Maps to ``lrkit.inverse_time(initial_learning_rate, decay_steps,
    decay_rate, staircase=staircase)``.

    Quirks and differences:

    * ``decay_steps <= 0`` raises ``ValueError``, as in Keras.  Keras' own
      docstring example passes ``decay_steps=1.0``: whole floats are fine.
    * ``decay_rate < 0`` raises ``ValueError``; Keras accepts it and the
      denominator reaches 0 (``inf``) and then goes negative.
    * ``name`` is accepted and ignored.
    """
    del name  # accepted for Keras compatibility; lrkit schedules have no name scope
    lr = _learning_rate("initial_learning_rate", initial_learning_rate)
    steps = _whole_steps("decay_steps", decay_steps, positive=True)
    rate = bounded(
        "decay_rate",
        decay_rate,
        low=0,
        what_peer_does="Keras accepts it and the learning rate becomes inf when 1 + decay_rate * t / decay_steps "
        "reaches 0, then negative; lrkit refuses it",
    )
    return inverse_time(lr, steps, rate, staircase=flag("staircase", staircase))


def PiecewiseConstantDecay(
    boundaries: Sequence[int], values: Sequence[float], name: str = "PiecewiseConstant"
) -> Schedule:
    """Keras ``PiecewiseConstantDecay``: ``values[i]`` between boundaries, switching one step *after* each.

    Keras' rule: ``values[0]`` while ``t <= boundaries[0]``, ``values[i]`` for
    ``boundaries[i-1] < t <= boundaries[i]``, ``values[-1]`` for
    ``t > boundaries[-1]``.  So the boundary step itself still gets the old
    value: ``s(b) = values[i]``, ``s(b + 1) = values[i + 1]``.  This is the
    quirk to know: torch's ``MultiStepLR`` and optax switch *at* ``b``.

    Maps to ``lrkit.piecewise_constant(boundaries, values,
    at_boundary="previous")``.

    Quirks and differences:

    * ``len(boundaries) != len(values) - 1`` raises ``ValueError``, as in Keras.
    * ``boundaries`` must be strictly increasing whole steps ``>= 0``.  Keras
      does not check the order: with unsorted boundaries it adds up the
      values of overlapping ranges.  Keras also accepts an empty
      ``boundaries`` (with one value) and then fails with ``IndexError`` when
      called; lrkit raises ``ValueError`` at construction (use
      ``lrkit.constant`` for a constant).
    * ``values`` must be ``>= 0``.
    * Keras' default ``name`` is ``"PiecewiseConstant"`` (not the class name);
      it is accepted and ignored.
    """
    del name  # accepted for Keras compatibility; lrkit schedules have no name scope
    bounds = sequence("boundaries", boundaries)
    vals = sequence("values", values)
    one_fewer("boundaries", bounds, "values", vals, what_peer_does="Keras raises too")
    nonempty(
        "boundaries",
        bounds,
        what_peer_does="Keras accepts it and fails with IndexError when called; use lrkit.constant(value) for a "
        "constant learning rate",
    )
    steps = [_whole_steps(f"boundaries[{i}]", b, positive=False) for i, b in enumerate(bounds)]
    strictly_increasing(
        "boundaries",
        steps,
        what_peer_does="Keras does not check the order and adds up the values of overlapping ranges",
    )
    lrs = [_learning_rate(f"values[{i}]", x) for i, x in enumerate(vals)]
    return piecewise_constant(steps, lrs, at_boundary="previous")


def PolynomialDecay(
    initial_learning_rate: float,
    decay_steps: int,
    end_learning_rate: float = 0.0001,
    power: float = 1.0,
    cycle: bool = False,
    name: str = "PolynomialDecay",
) -> Schedule:
    """Keras ``PolynomialDecay``: ``(initial - end) * (1 - p) ** power + end``.

    Without ``cycle``, ``p = min(t, decay_steps) / decay_steps``:
    ``s(0) = initial_learning_rate``, ``s(decay_steps) = end_learning_rate``,
    held after.  With ``cycle=True`` the horizon is the first multiple of
    ``decay_steps`` that is ``>= t`` (``decay_steps`` at ``t = 0``):
    ``s(k * decay_steps) = end_learning_rate`` and the step after jumps back
    up, each cycle to a lower peak (``p = (k*d + 1) / ((k+1)*d)``).

    Maps to ``lrkit.polynomial(initial_learning_rate, decay_steps,
    end_value=end_learning_rate, power=power, cycle=cycle)``.

    Quirks and differences:

    * The default ``end_learning_rate`` is ``0.0001``, not 0.
    * ``end_learning_rate`` may exceed ``initial_learning_rate`` (a rising
      polynomial), as in Keras.
    * ``power=0`` gives ``initial_learning_rate`` at every step, even at
      ``t = decay_steps``, because Keras (and lrkit) take ``0 ** 0 = 1``.
    * ``decay_steps <= 0`` raises ``ValueError``, as in Keras.  ``power < 0``
      raises ``ValueError``; Keras accepts it and reaches ``inf`` at
      ``t = decay_steps``.
    * ``name`` is accepted and ignored.
    """
    del name  # accepted for Keras compatibility; lrkit schedules have no name scope
    lr = _learning_rate("initial_learning_rate", initial_learning_rate)
    steps = _whole_steps("decay_steps", decay_steps, positive=True)
    end = _learning_rate("end_learning_rate", end_learning_rate)
    pw = bounded(
        "power", power, low=0, what_peer_does="Keras accepts it and the learning rate is inf at t = decay_steps"
    )
    return polynomial(lr, steps, end_value=end, power=pw, cycle=flag("cycle", cycle))


def CosineDecay(
    initial_learning_rate: float,
    decay_steps: int,
    alpha: float = 0.0,
    name: str = "CosineDecay",
    warmup_target: float | None = None,
    warmup_steps: int = 0,
) -> Schedule:
    """Keras ``CosineDecay``, with its optional linear warmup.

    Without ``warmup_target``: a half cosine from ``initial_learning_rate``
    down to ``alpha * initial_learning_rate`` over ``decay_steps``, held after:
    ``initial * ((1 - alpha) * (1 + cos(π min(t, decay_steps) / decay_steps)) / 2 + alpha)``.
    Maps to ``lrkit.cosine(initial_learning_rate, decay_steps,
    floor=alpha * initial_learning_rate)``.

    With ``warmup_target`` and ``warmup_steps = W > 0``: a linear ramp from
    ``initial_learning_rate`` to ``warmup_target`` for ``t < W``
    (``s(0) = initial_learning_rate``, ``s(W - 1)`` one step short of the
    target), then the cosine from ``warmup_target`` down to
    ``alpha * warmup_target`` over ``decay_steps`` starting at ``t = W``
    (``s(W) = warmup_target``, ``s(W + decay_steps) = alpha * warmup_target``,
    held after).  Maps to ``lrkit.join([linear(initial_learning_rate,
    warmup_target, W), cosine(warmup_target, decay_steps, floor=alpha *
    warmup_target)], [W])``.

    Quirks, all copied from Keras:

    * ``alpha`` is *relative*: the floor is ``alpha`` times the peak
      (``initial_learning_rate``, or ``warmup_target`` when given), not an
      absolute learning rate.
    * The total length is ``warmup_steps + decay_steps``: the warmup does not
      eat into ``decay_steps``.
    * ``warmup_steps`` is ignored when ``warmup_target`` is ``None``.
    * With ``warmup_target`` set and ``warmup_steps=0``, ``initial_learning_rate``
      is ignored: the cosine starts at ``warmup_target`` at ``t = 0``.

    Differences: ``decay_steps <= 0`` raises ``ValueError``, as in Keras.
    ``alpha`` must be in ``[0, 1]``: Keras accepts ``alpha > 1`` (a rising
    "decay") and ``alpha < 0`` (negative learning rates).  ``warmup_steps``
    must be a whole number ``>= 0``.  ``name`` is accepted and ignored.
    """
    del name  # accepted for Keras compatibility; lrkit schedules have no name scope
    lr = _learning_rate("initial_learning_rate", initial_learning_rate)
    steps = _whole_steps("decay_steps", decay_steps, positive=True)
    a = _fraction("alpha", alpha, "alpha > 1 makes the cosine rise, alpha < 0 goes negative")
    warm = _whole_steps("warmup_steps", warmup_steps, positive=False)
    if warmup_target is None:
        return cosine(lr, steps, floor=a * lr)
    target = _learning_rate("warmup_target", warmup_target)
    decay = cosine(target, steps, floor=a * target)
    if warm == 0:
        return decay
    return join([linear(lr, target, warm), decay], [warm])


def CosineDecayRestarts(
    initial_learning_rate: float,
    first_decay_steps: int,
    t_mul: float = 2.0,
    m_mul: float = 1.0,
    alpha: float = 0.0,
    name: str = "SGDRDecay",
) -> Schedule:
    """Keras ``CosineDecayRestarts`` (SGDR, Loshchilov & Hutter).

    Period ``i`` lasts ``first_decay_steps * t_mul ** i`` steps and starts at
    ``S_i = first_decay_steps * (t_mul ** i - 1) / (t_mul - 1)``
    (``first_decay_steps * i`` when ``t_mul == 1``).  With ``x`` the fraction
    of period ``i`` completed:
    ``initial * ((1 - alpha) * m_mul ** i * (1 + cos(π x)) / 2 + alpha)``.
    The restart happens *at* ``S_i``: ``s(S_i) = initial * ((1 - alpha) *
    m_mul ** i + alpha)``, and ``s(S_i - 1)`` is the lowest value of the
    previous period.  Periodic: it never ends.

    Maps to ``lrkit.cosine_restarts(initial_learning_rate, first_decay_steps,
    t_mul=t_mul, m_mul=m_mul, floor=alpha * initial_learning_rate)``.

    Quirks, copied from Keras:

    * The default ``t_mul`` is ``2.0``: every period is twice as long as the
      one before (lrkit's own ``cosine_restarts`` defaults to 1.0).
    * ``alpha`` is relative to ``initial_learning_rate`` and is *not* scaled
      by ``m_mul``: with ``m_mul < 1`` the peaks shrink towards the floor
      ``alpha * initial_learning_rate``, which stays put.

    Differences: ``first_decay_steps <= 0`` raises ``ValueError``, as in Keras.
    ``t_mul < 1`` (shrinking periods; Keras yields NaN once their sum is
    used up), ``m_mul`` outside ``[0, 1]`` (growing peaks) and ``alpha``
    outside ``[0, 1]`` raise ``ValueError``.  At an exact restart step Keras
    computes the period index with a float32 logarithm, which can land on the
    previous period; lrkit computes it exactly.  ``name`` is accepted and
    ignored.
    """
    del name  # accepted for Keras compatibility; lrkit schedules have no name scope
    lr = _learning_rate("initial_learning_rate", initial_learning_rate)
    steps = _whole_steps("first_decay_steps", first_decay_steps, positive=True)
    tm = bounded(
        "t_mul",
        t_mul,
        low=1,
        what_peer_does="Keras accepts t_mul < 1: shrinking periods whose total length is finite; past it the "
        "learning rate is NaN",
    )
    mm = _fraction("m_mul", m_mul, "m_mul > 1 makes every restart peak higher, m_mul < 0 negative")
    a = _fraction("alpha", alpha, "alpha > 1 puts the floor above the peak, alpha < 0 goes negative")
    return cosine_restarts(lr, steps, t_mul=tm, m_mul=mm, floor=a * lr)
