"""optax's schedules, by their own names and parameters, as lrkit schedules.

Each function takes exactly the arguments of the ``optax`` function of the same
name (``optax.schedules``, optax 0.2.x: same order, same defaults) and returns a
plain lrkit :class:`~lrkit.Schedule` built from lrkit's building blocks, so it
prints, parses, pickles and plots like any other schedule, and evaluates on
jax arrays too::

    >>> from lrkit.compat import optax
    >>> optax.warmup_cosine_decay_schedule(0.0, 1e-3, warmup_steps=100, decay_steps=1000)
    join([linear(0.0, 0.001, steps=100), cosine(0.001, steps=900)], [100])

The step ``t`` is optax's ``count``: the number of updates already applied.
Values match optax step for step, quirks included (each is named in the
function's docstring); the only differences are float rounding, because optax
computes in float32 (jax's default) and lrkit in float64 (or the dtype of the
array you pass).  This module never imports jax or optax.

Deliberate differences, all loud (``ValueError``/``TypeError`` naming the
parameter and saying what optax would do):

* Where optax *silently* falls back on invalid input, lrkit raises:
  ``transition_steps <= 0`` (optax logs a message and returns the constant
  ``init_value``), ``decay_rate == 0`` (the same), a negative
  ``transition_begin`` (optax logs and uses 0).
* Where optax accepts values that make the learning rate negative, NaN,
  unbounded or order-dependent, lrkit raises: negative values, ``decay_rate``
  outside ``(0, 1]``, ``alpha`` outside ``[0, 1]``, ``exponent <= 0``,
  negative ``power``, negative or non-increasing boundaries, a ``{step: scale}``
  dict whose keys collide after optax's ``int()`` truncation.
* Steps (``transition_steps``, ``decay_steps``, boundaries...) must be whole
  numbers: optax accepts ``decay_steps=2.5``; lrkit counts whole updates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..base import Schedule
from ..composition import join
from ..schedules import constant, cosine, exponential, linear, piecewise_constant, piecewise_interpolate, polynomial
from ..validators import (
    bounded,
    choice,
    compare,
    distinct,
    flag,
    nonempty,
    one_fewer,
    real,
    strictly_increasing,
    whole_steps,
)

__all__ = [
    "constant_schedule",
    "cosine_decay_schedule",
    "cosine_onecycle_schedule",
    "exponential_decay",
    "join_schedules",
    "linear_onecycle_schedule",
    "linear_schedule",
    "piecewise_constant_schedule",
    "piecewise_interpolate_schedule",
    "polynomial_schedule",
    "sgdr_schedule",
    "warmup_constant_schedule",
    "warmup_cosine_decay_schedule",
    "warmup_exponential_decay_schedule",
]


# -- validators with optax's parameter names ----------------------------------------


def _value(name: str, value: Any) -> float:
    return bounded(name, value, low=0, what_peer_does="optax accepts it and yields a negative learning rate")


def _steps(name: str, value: Any, *, minimum: int, what_optax_does: str = "") -> int:
    return whole_steps(name, value, peer="optax", minimum=minimum, what_peer_does=what_optax_does)


def _transition_steps(value: Any) -> int:
    return _steps(
        "transition_steps",
        value,
        minimum=1,
        what_optax_does="optax logs a message and silently returns the constant init_value; "
        "use constant_schedule for a constant",
    )


def _transition_begin(value: Any) -> int:
    return _steps("transition_begin", value, minimum=0, what_optax_does="optax logs and silently uses 0")


def _step_key(name: str, key: Any) -> int:
    # JSON and TOML object keys are always strings, so a config file writes {"100": 0.1}:
    # a string of decimal digits is read as that step.
    if isinstance(key, str):
        text = key.strip()
        if not text.lstrip("-").isdigit():
            raise TypeError(f"{name} must be a whole step number, got {key!r}")
        key = int(text)
    return _steps(name, key, minimum=0, what_optax_does="optax applies a negative boundary from step 0")


def _boundaries_and_scales(value: Any) -> tuple[list[int], list[float]]:
    """optax's ``{step: scale}`` dict as sorted steps and scales (``None`` -> empty)."""
    if value is None:
        return [], []
    if not isinstance(value, Mapping):
        raise TypeError(f"boundaries_and_scales must be a dict {{step: scale}} or None, got {value!r}")
    keys = list(value)
    steps = [_step_key(f"boundaries_and_scales key {key!r}", key) for key in keys]
    # {100: 0.1, "100": 0.2} is two keys but one step
    distinct(
        "boundaries_and_scales steps",
        steps,
        shown=keys,
        what_peer_does="optax's int() keys collide and one scale silently replaces the other",
    )
    # optax raises the same for a negative scale ("expects non-negative scale factors").
    scales = [_value(f"boundaries_and_scales[{key!r}]", value[key]) for key in keys]
    order = sorted(range(len(steps)), key=steps.__getitem__)
    return [steps[i] for i in order], [scales[i] for i in order]


def _cumulative(init_value: float, scales: Sequence[float], name: str) -> list[float]:
    # optax multiplies the scales into the value one boundary at a time (cumprod).
    values = [init_value]
    for i, scale in enumerate(scales):
        values.append(real(f"{name}: init_value times the first {i + 1} scale(s)", values[-1] * scale))
    return values


def _warmup_then(init_value: float, peak_value: float, warmup_steps: int, then: Schedule) -> Schedule:
    # optax's warmup_* schedules: join_schedules([linear_schedule(init, peak, W), then], [W]).
    # With W = 0 the linear piece is never used (join switches at step 0), so it is left out.
    if warmup_steps == 0:
        return then
    return join([linear(init_value, peak_value, warmup_steps), then], [warmup_steps])


# -- the schedules ----------------------------------------------------------------------


def constant_schedule(value: float) -> Schedule:
    """optax ``constant_schedule``: ``value`` at every step.  Maps to ``lrkit.constant(value)``.

    Difference: a negative ``value`` raises ``ValueError``.
    """
    return constant(_value("value", value))


def polynomial_schedule(
    init_value: float, end_value: float, power: float, transition_steps: int, transition_begin: int = 0
) -> Schedule:
    """optax ``polynomial_schedule``: ``(I - E) * (1 - c / T) ** power + E``, ``c = clip(t - B, 0, T)``.

    ``s(t) = init_value`` for ``t <= B = transition_begin``,
    ``s(B + T) = end_value`` (``T = transition_steps``), held after.

    Maps to ``lrkit.polynomial(init_value, T, end_value=end_value, power=power)``,
    behind ``join([constant(init_value), ...], [B])`` when ``B > 0``.

    Quirks, copied: ``end_value`` may exceed ``init_value`` (a rising
    polynomial); ``power=0`` holds ``init_value`` at every step, even after the
    end, because ``0 ** 0 = 1``.

    Differences (optax is silent about the first two): ``transition_steps <= 0``
    raises ``ValueError`` (optax logs a message and returns the constant
    ``init_value``); ``transition_begin < 0`` raises (optax logs and uses 0);
    ``power < 0`` raises (optax reaches ``inf`` at ``B + T``).
    """
    init = _value("init_value", init_value)
    end = _value("end_value", end_value)
    pw = bounded("power", power, low=0, what_peer_does="optax accepts it and reaches inf at the end")
    steps = _transition_steps(transition_steps)
    begin = _transition_begin(transition_begin)
    decay = polynomial(init, steps, end_value=end, power=pw)
    return decay if begin == 0 else join([constant(init), decay], [begin])


def linear_schedule(init_value: float, end_value: float, transition_steps: int, transition_begin: int = 0) -> Schedule:
    """optax ``linear_schedule``: from ``init_value`` to ``end_value`` over ``transition_steps``.

    ``init_value`` for ``t <= B = transition_begin``, then
    ``I + (E - I) * (t - B) / T``, ``end_value`` from ``t = B + T`` on.
    optax defines it as ``polynomial_schedule(power=1)``; lrkit maps it to
    ``lrkit.linear(init_value, end_value, T, begin=B)``, the same line.

    Differences, as in :func:`polynomial_schedule`: ``transition_steps <= 0``
    raises ``ValueError`` (optax silently returns the constant ``init_value``),
    ``transition_begin < 0`` raises (optax silently uses 0).
    """
    init = _value("init_value", init_value)
    end = _value("end_value", end_value)
    steps = _transition_steps(transition_steps)
    begin = _transition_begin(transition_begin)
    return linear(init, end, steps, begin=begin)


def piecewise_constant_schedule(
    init_value: float, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    """optax ``piecewise_constant_schedule``: ``init_value`` times every scale whose step has been reached.

    ``s(t) = init_value * prod(scale for step, scale in boundaries_and_scales if t >= step)``:
    the change happens *at* the boundary, ``s(b - 1)`` old, ``s(b)`` new (unlike
    Keras' ``PiecewiseConstantDecay``).  Scales are *multiplicative* and
    cumulative: ``{100: 0.1, 200: 0.1}`` gives ``init * 0.1`` then ``init * 0.01``.

    Maps to ``lrkit.piecewise_constant(steps, cumulative values)``, or
    ``lrkit.constant(init_value)`` for ``None`` or ``{}``.

    Quirks, copied: a scale above 1 raises the value; a boundary at step 0
    applies its scale from the start.  In a config file the dict keys may be
    strings of digits (``{"100": 0.1}``), since JSON and TOML keys are strings.

    Differences: negative scales raise ``ValueError`` (as in optax); negative
    or fractional steps raise ``ValueError`` (optax applies a negative step from
    step 0, a fractional one at the next whole step).
    """
    init = _value("init_value", init_value)
    steps, scales = _boundaries_and_scales(boundaries_and_scales)
    if not steps:
        return constant(init)
    return piecewise_constant(steps, _cumulative(init, scales, "piecewise_constant_schedule"))


def exponential_decay(
    init_value: float,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    """optax ``exponential_decay``: ``init_value * decay_rate ** ((t - B) / T)`` from ``B = transition_begin``.

    ``s(t) = init_value`` for ``t <= B``; with ``staircase=True`` the exponent
    is floored, so the drops happen *at* ``B + k * T``.  ``end_value`` is a
    lower bound: ``max(value, end_value)``.  It never stops decaying otherwise.

    Maps to ``lrkit.exponential(init_value, T, decay_rate, staircase=staircase,
    begin=B, floor=end_value or 0.0)``.

    Quirks, copied: ``end_value`` is a lower bound only when ``decay_rate < 1``;
    with ``decay_rate == 1`` optax makes it an *upper* bound, so the schedule is
    the constant ``min(init_value, end_value)`` (an ``end_value`` below
    ``init_value`` replaces it at every step).

    Differences, all loud (optax is silent about the first three):

    * ``transition_steps <= 0`` raises ``ValueError``: optax logs a message and
      returns the constant ``init_value``.
    * ``decay_rate == 0`` raises: optax logs and returns the constant ``init_value``.
    * ``transition_begin < 0`` raises: optax logs and uses 0.
    * ``decay_rate > 1`` raises: optax grows the value without bound (or up to
      ``end_value``, then an upper bound); lrkit's ``exponential`` only decays.
      For a growing ramp use ``lrkit.warmup(..., method="exponential")``.
    * ``decay_rate < 0`` raises (optax yields NaN between whole exponents).
    * ``end_value > init_value`` with ``decay_rate < 1`` raises: optax returns
      ``end_value`` at every step.
    """
    init = _value("init_value", init_value)
    steps = _transition_steps(transition_steps)
    rate = bounded(
        "decay_rate",
        decay_rate,
        low=0,
        low_open=True,
        what_peer_does="optax silently returns the constant init_value for 0 (it logs a message; use "
        "constant_schedule for a constant) and yields NaN between whole exponents below 0",
    )
    bounded(
        "decay_rate",
        rate,
        high=1,
        what_peer_does="optax grows the value without bound (up to end_value when given); lrkit's exponential "
        "only decays. For a growing ramp use lrkit.warmup(..., method='exponential')",
    )
    begin = _transition_begin(transition_begin)
    stairs = flag("staircase", staircase)
    if end_value is None:
        return exponential(init, steps, rate, staircase=stairs, begin=begin)
    end = bounded("end_value", end_value, low=0, what_peer_does="a negative lower bound never binds in optax")
    if rate == 1.0:
        # optax: clip_fn = maximum if decay_rate < 1.0 else minimum.
        return constant(min(init, end))
    compare(
        "end_value",
        end,
        "<=",
        init,
        bound_name="init_value",
        what_peer_does="with decay_rate < 1 optax's lower bound then wins at every step: it returns end_value "
        "throughout",
    )
    return exponential(init, steps, rate, staircase=stairs, begin=begin, floor=end)


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0, exponent: float = 1.0) -> Schedule:
    """optax ``cosine_decay_schedule``: ``I * ((1 - alpha) * c ** exponent + alpha)``.

    ``c = (1 + cos(π min(t, T) / T)) / 2`` with ``T = decay_steps``:
    ``s(0) = init_value``, ``s(T) = alpha * init_value``, held after.

    Maps to ``lrkit.cosine(init_value, T, floor=alpha * init_value, exponent=exponent)``.

    Quirks, copied: ``alpha`` is *relative* (the floor is ``alpha * init_value``);
    ``exponent`` bends the whole curve, ``c ** exponent``, floor included.

    Differences: ``decay_steps <= 0`` raises ``ValueError``, as in optax.
    ``alpha`` outside ``[0, 1]`` raises (optax's "decay" then rises, or goes
    negative); ``exponent <= 0`` raises (optax gives the constant ``init_value``
    for 0 and ``inf`` at ``T`` below 0).
    """
    init = _value("init_value", init_value)
    steps = _steps("decay_steps", decay_steps, minimum=1, what_optax_does="optax raises ValueError too")
    a = bounded("alpha", alpha, low=0, high=1, what_peer_does="optax accepts it: alpha > 1 rises, < 0 negative")
    exp = _exponent(exponent)
    return cosine(init, steps, floor=a * init, exponent=exp)


def piecewise_interpolate_schedule(
    interpolate_type: str, init_value: float, boundaries_and_scales: Mapping[int, float] | None = None
) -> Schedule:
    """optax ``piecewise_interpolate_schedule``: interpolate between cumulative values.

    The points are ``(0, init_value)`` and ``(b_k, init_value * s_1 * ... * s_k)``
    for the sorted ``{b_k: s_k}``; between two points the value moves linearly
    (``"linear"``) or along a half cosine (``"cosine"``), exact at each point,
    ``values[-1]`` after the last.

    Maps to ``lrkit.piecewise_interpolate([0, b_1, ...], [init_value, ...],
    method=interpolate_type)`` (``lrkit.constant`` for a single point).

    Quirks, copied: the interpolation starts from ``init_value`` at step 0 and
    runs between *accumulated* values, not between the scales; a boundary at
    step 0 replaces the starting point (``s(0) = init_value * s_0``).

    Differences: an unknown ``interpolate_type`` or a negative scale raises
    ``ValueError``, as in optax.  Negative or fractional steps raise
    ``ValueError`` (optax interpolates from step 0 towards a negative step over
    a reversed interval).
    """
    choice("interpolate_type", interpolate_type, ("linear", "cosine"), what_peer_does="optax raises too")
    init = _value("init_value", init_value)
    steps, scales = _boundaries_and_scales(boundaries_and_scales)
    values = _cumulative(init, scales, "piecewise_interpolate_schedule")
    points = [0, *steps]
    if steps and steps[0] == 0:
        # optax's first interval [0, 0) is empty: step 0 already takes the scaled value.
        points, values = points[1:], values[1:]
    if len(points) == 1:
        return constant(values[0])
    return piecewise_interpolate(points, values, method=interpolate_type)


def _onecycle_steps(transition_steps: Any, fractions: dict[str, Any]) -> tuple[int, list[int]]:
    total = _steps("transition_steps", transition_steps, minimum=1, what_optax_does="optax raises ValueError too")
    why = (
        "optax builds a {step: scale} dict from them, where a repeated step silently drops a phase and an "
        "out-of-order one reorders them"
    )
    keys = []
    for name, pct in fractions.items():
        # optax's own arithmetic: int() truncates pct * transition_steps towards 0.  Checked finite and
        # >= 0 first: int() of an overflowed product would raise OverflowError.
        phase = f"int({name} * transition_steps)"
        keys.append(int(bounded(phase, real(name, pct) * total, low=0, high=total, what_peer_does=why)))
    keys.append(total)
    strictly_increasing(
        f"the phase steps [{', '.join(f'int({n} * transition_steps)' for n in fractions)}, transition_steps]",
        keys,
        what_peer_does=why,
    )
    return total, keys


def _factor(name: str, value: Any) -> float:
    return bounded(name, value, low=0, low_open=True, what_peer_does="optax divides by it")


def _exponent(value: Any) -> float:
    return bounded(
        "exponent",
        value,
        low=0,
        low_open=True,
        what_peer_does="optax gives the constant init_value for 0 and inf at decay_steps below 0",
    )


def linear_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    pct_final: float = 0.85,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    """optax ``linear_onecycle_schedule``: three linear phases through ``peak_value``.

    With ``I = peak_value / div_factor``, ``a = int(pct_start * T)``,
    ``b = int(pct_final * T)``, ``T = transition_steps``: linear from ``I`` at
    step 0 to ``peak_value`` at ``a``, back to ``I`` at ``b``, down to
    ``I / final_div_factor`` at ``T``, held after.  It is optax's
    ``piecewise_interpolate_schedule("linear", I, {a: div_factor, b: 1 / div_factor,
    T: 1 / final_div_factor})``, and so is the lrkit schedule (see
    :func:`piecewise_interpolate_schedule`).

    Quirks, copied: the phase steps are *truncated* (``int()``), so the peak
    can come before ``pct_start * T``; with a small ``T`` and ``a = 0`` the
    schedule starts at the peak.  The values are optax's cumulative products
    (``I * div_factor`` for the peak).

    Differences: ``transition_steps <= 0`` raises ``ValueError``, as in optax.
    Phase steps that are not ``0 <= a < b < T`` raise ``ValueError``: optax
    builds a dict from them, in which a repeated step silently overwrites a
    phase.  ``div_factor`` and ``final_div_factor`` must be ``> 0``.
    """
    total, (a, b, _) = _onecycle_steps(transition_steps, {"pct_start": pct_start, "pct_final": pct_final})
    peak = _value("peak_value", peak_value)
    div = _factor("div_factor", div_factor)
    final_div = _factor("final_div_factor", final_div_factor)
    return piecewise_interpolate_schedule("linear", peak / div, {a: div, b: 1.0 / div, total: 1.0 / final_div})


def cosine_onecycle_schedule(
    transition_steps: int,
    peak_value: float,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> Schedule:
    """optax ``cosine_onecycle_schedule``: cosine up to ``peak_value``, cosine down to the end.

    With ``I = peak_value / div_factor``, ``a = int(pct_start * T)``: half-cosine
    from ``I`` at step 0 to ``peak_value`` at ``a``, then down to
    ``I / final_div_factor`` at ``T = transition_steps``, held after.  It is
    optax's ``piecewise_interpolate_schedule("cosine", I, {a: div_factor,
    T: 1 / (div_factor * final_div_factor)})``, and so is the lrkit schedule.

    Quirks, copied: ``a`` is truncated (``int()``); two phases only (torch's
    ``OneCycleLR`` counts phase ends differently, see ``lrkit.one_cycle``).

    Differences: ``transition_steps <= 0`` raises ``ValueError``, as in optax.
    ``a`` must satisfy ``0 <= a < T`` (optax silently drops the rise when
    ``a == T``).  ``div_factor`` and ``final_div_factor`` must be ``> 0``.
    """
    total, (a, _) = _onecycle_steps(transition_steps, {"pct_start": pct_start})
    peak = _value("peak_value", peak_value)
    div = _factor("div_factor", div_factor)
    final_div = _factor("final_div_factor", final_div_factor)
    return piecewise_interpolate_schedule("cosine", peak / div, {a: div, total: 1.0 / (div * final_div)})


def warmup_constant_schedule(init_value: float, peak_value: float, warmup_steps: int) -> Schedule:
    """optax ``warmup_constant_schedule``: linear from ``init_value`` to ``peak_value``, then flat.

    ``s(0) = init_value``, ``s(warmup_steps) = peak_value``, held after.  It is
    optax's ``linear_schedule(init_value, peak_value, warmup_steps)``; maps to
    ``lrkit.linear(init_value, peak_value, warmup_steps)``.

    Difference: ``warmup_steps <= 0`` raises ``ValueError`` (optax silently
    returns the constant ``init_value``, never reaching ``peak_value``).
    """
    init = _value("init_value", init_value)
    peak = _value("peak_value", peak_value)
    steps = _steps(
        "warmup_steps",
        warmup_steps,
        minimum=1,
        what_optax_does="optax logs a message and silently returns the constant init_value, never reaching peak_value",
    )
    return linear(init, peak, steps)


def warmup_cosine_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
    exponent: float = 1.0,
) -> Schedule:
    """optax ``warmup_cosine_decay_schedule``: linear warmup, then cosine decay to ``end_value``.

    Linear from ``init_value`` (step 0) to ``peak_value`` (step ``W =
    warmup_steps``), then the cosine from ``peak_value`` at ``W`` down to
    ``end_value`` at ``decay_steps``, held after (``exponent`` as in
    :func:`cosine_decay_schedule`).

    Maps to ``join([linear(init_value, peak_value, W), cosine(peak_value,
    decay_steps - W, floor=end_value, exponent=exponent)], [W])`` (just the
    cosine when ``W = 0``).

    Quirks, copied:

    * ``decay_steps`` is the *total* length, warmup included: the cosine lasts
      ``decay_steps - warmup_steps`` (Keras' ``CosineDecay`` adds them instead).
    * ``s(W - 1)`` is still one step short of ``peak_value``; ``s(W) = peak_value``.
    * ``warmup_steps = 0`` skips the warmup: ``s(0) = peak_value``.

    Differences: ``decay_steps <= warmup_steps`` raises ``ValueError`` (optax
    raises too, from ``cosine_decay_schedule``).  ``warmup_steps < 0`` raises
    (optax silently starts mid-cosine).  ``end_value > peak_value`` raises
    (optax's "decay" rises); ``peak_value == 0`` with ``end_value > 0`` raises
    (optax ignores ``end_value`` then: the decay stays at 0).
    ``exponent <= 0`` raises.
    """
    init = _value("init_value", init_value)
    peak = _value("peak_value", peak_value)
    end = _value("end_value", end_value)
    warm = _steps(
        "warmup_steps", warmup_steps, minimum=0, what_optax_does="optax silently starts in the middle of the cosine"
    )
    total = _steps("decay_steps", decay_steps, minimum=1)
    compare(
        "decay_steps",
        total,
        ">",
        warm,
        bound_name="warmup_steps",
        what_peer_does="decay_steps is the total length, warmup included; optax raises too",
    )
    compare(
        "end_value",
        end,
        "<=",
        peak,
        bound_name="peak_value",
        what_peer_does="optax ignores end_value when peak_value is 0: its alpha = end_value / peak_value is set "
        "to 0 and the decay stays at 0"
        if peak == 0.0
        else "optax accepts it and its cosine 'decay' rises",
    )
    exp = _exponent(exponent)
    # optax: cosine_decay_schedule(peak, total - W, alpha=end / peak); its floor alpha * peak is end_value.
    return _warmup_then(init, peak, warm, cosine(peak, total - warm, floor=end, exponent=exp))


def warmup_exponential_decay_schedule(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    transition_steps: int,
    decay_rate: float,
    transition_begin: int = 0,
    staircase: bool = False,
    end_value: float | None = None,
) -> Schedule:
    """optax ``warmup_exponential_decay_schedule``: linear warmup, then :func:`exponential_decay` from ``peak_value``.

    Linear from ``init_value`` to ``peak_value`` over ``W = warmup_steps``,
    then ``exponential_decay(peak_value, transition_steps, decay_rate,
    transition_begin, staircase, end_value)`` on its own clock ``t - W``.

    Maps to ``join([linear(init_value, peak_value, W), exponential(...)], [W])``
    (just the decay when ``W = 0``).

    Quirks, copied: ``transition_begin`` counts from the *end of the warmup*
    (the decay's own clock), so the value holds ``peak_value`` until
    ``W + transition_begin``; every quirk of :func:`exponential_decay`.

    Differences: those of :func:`exponential_decay` (its silent fallbacks
    raise ``ValueError``); ``warmup_steps < 0`` raises.
    """
    init = _value("init_value", init_value)
    peak = _value("peak_value", peak_value)
    warm = _steps("warmup_steps", warmup_steps, minimum=0, what_optax_does="optax silently starts mid-decay")
    decay = exponential_decay(
        peak, transition_steps, decay_rate, transition_begin=transition_begin, staircase=staircase, end_value=end_value
    )
    return _warmup_then(init, peak, warm, decay)


def sgdr_schedule(cosine_kwargs: Iterable[Mapping[str, Any]]) -> Schedule:
    """optax ``sgdr_schedule``: :func:`warmup_cosine_decay_schedule` cycles, one after another.

    Each dict of ``cosine_kwargs`` holds the arguments of one
    ``warmup_cosine_decay_schedule`` (``init_value``, ``peak_value``,
    ``warmup_steps``, ``decay_steps``, optionally ``end_value``, ``exponent``);
    cycle ``k`` starts at the sum of the earlier ``decay_steps`` and runs on
    its own clock.

    Maps to ``join([warmup_cosine_decay_schedule(**kw) for kw in cosine_kwargs],
    cumulative decay_steps)`` (the single cycle itself when there is one).

    Quirks, copied: each cycle's ``decay_steps`` includes its warmup; after the
    last cycle the value holds that cycle's ``end_value`` (it does not restart).

    Differences: an empty ``cosine_kwargs`` raises ``ValueError`` (optax fails
    with ``IndexError`` when the schedule is first called); each cycle is
    validated as :func:`warmup_cosine_decay_schedule` is.
    """
    if isinstance(cosine_kwargs, (str, bytes, Mapping)) or not isinstance(cosine_kwargs, Iterable):
        raise TypeError(
            f"cosine_kwargs must be a list of dicts of warmup_cosine_decay_schedule arguments, got {cosine_kwargs!r}"
        )
    pieces: list[Schedule] = []
    boundaries: list[int] = []
    step = 0
    for i, kwargs in enumerate(cosine_kwargs):
        if not isinstance(kwargs, Mapping):
            raise TypeError(
                f"cosine_kwargs[{i}] must be a dict of warmup_cosine_decay_schedule arguments, got {kwargs!r}"
            )
        try:
            pieces.append(warmup_cosine_decay_schedule(**kwargs))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"cosine_kwargs[{i}]: {exc}") from None
        step += int(kwargs["decay_steps"])
        boundaries.append(step)
    nonempty(
        "cosine_kwargs",
        pieces,
        what_peer_does="it must hold at least one cycle; optax fails with IndexError when called",
    )
    if len(pieces) == 1:
        return pieces[0]
    return join(pieces, boundaries[:-1])


def join_schedules(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """optax ``join_schedules``: ``schedules[i]`` from ``boundaries[i-1]`` on, on its own clock.

    Piece ``i`` sees ``t - boundaries[i-1]``; the switch happens *at* the
    boundary: ``s(b - 1)`` is the previous piece, ``s(b)`` the next one at its
    step 0.  The last piece runs forever.  ``schedules`` are lrkit schedules
    (build them with this module's functions for optax's).

    Maps to ``lrkit.join(schedules, boundaries)`` (the schedule itself for one
    schedule and no boundaries).

    Differences: the lengths must match, ``len(boundaries) ==
    len(schedules) - 1`` (optax ``zip``s them and silently ignores the extra
    schedules); boundaries must be strictly increasing whole steps ``>= 1``
    (optax silently never uses a piece whose boundary is 0 or not after the
    previous one).
    """
    if isinstance(schedules, Schedule) or not isinstance(schedules, Sequence):
        raise TypeError(f"schedules must be a list of lrkit schedules, got {schedules!r}")
    if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, Iterable):
        raise TypeError(f"boundaries must be a list of steps, got {boundaries!r}")
    for i, s in enumerate(schedules):
        if not isinstance(s, Schedule):
            raise TypeError(f"schedules[{i}] must be an lrkit schedule, got {s!r} ({type(s).__name__})")
    bounds = [
        _steps(f"boundaries[{i}]", b, minimum=1, what_optax_does="optax silently never uses the piece before it")
        for i, b in enumerate(boundaries)
    ]
    nonempty("schedules", schedules, what_peer_does="optax fails with IndexError when called")
    one_fewer(
        "boundaries",
        bounds,
        "schedules",
        schedules,
        what_peer_does="optax zips them and silently ignores the extra schedules or boundaries",
    )
    strictly_increasing(
        "boundaries",
        bounds,
        what_peer_does="optax silently never uses a piece whose boundary is not after the previous one",
    )
    if not bounds:
        return schedules[0]
    return join(list(schedules), bounds)
