"""Shape primitives: every ramp, decay and interpolation in lrkit, written once.

Schedules and compositions are built from these; none of them spells a shape
itself.  Each primitive takes the array namespace ``xp`` (see
:mod:`lrkit._backend`) when it needs a function beyond arithmetic, so the same
line runs on Python floats, NumPy, torch and jax.

Vocabulary
----------
* **progress** ``p``: how far through a phase, clamped to ``[0, 1]``.
* **weight** ``w``: a *decay* shape of the progress, ``w(0) = 1`` and
  ``w(1) = 0`` exactly.  A decay from ``high`` to ``low`` is
  ``lerp(low, high, w(p))``.
* **rise** ``r``: a *ramp* shape, ``r(0) = 0`` and ``r(1) = 1`` exactly
  (the pytorch_warmup and DeepSpeed ramps are functions of the step).
* **interpolation** from ``a`` to ``b``: :data:`INTERPOLATIONS`; a warmup
  from ``start_factor`` to 1 is one (:data:`RAMPS`).
* :func:`lerp` is exact at both ends: ``lerp(low, high, 1) == high`` and
  ``lerp(low, high, 0) == low`` for every finite ``low`` and ``high`` (the
  textbook ``low + (high - low) * w`` misses ``high`` by a rounding in about
  40% of random cases).

The tables :data:`DECAYS`, :data:`INTERPOLATIONS` and :data:`RAMPS` name the shapes that schedules
select by a string parameter (``wsd(decay=...)``, ``warmup(method=...)``), so
a new peer's shape is one table entry.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ._backend import Namespace

__all__ = [
    "DECAYS",
    "INTERPOLATIONS",
    "RAMPS",
    "STEP_RAMPS",
    "clamp01",
    "cosine_interpolate",
    "cosine_rise",
    "cosine_weight",
    "exp_saturation_rise",
    "geometric_rise",
    "halving_weight",
    "k_progress",
    "lerp",
    "linear_interpolate",
    "linear_rise",
    "linear_weight",
    "log_rise",
    "offset_linear_rise",
    "power_weight",
    "power_weight_left",
    "progress",
    "progress0",
    "radam_rectification",
    "radam_rho",
    "sqrt_weight",
    "tanh_weight",
]

_PI = math.pi


# -- progress and interpolation ---------------------------------------------------
def clamp01(x: Any, xp: Namespace) -> Any:
    """``min(max(x, 0), 1)``."""
    return xp.minimum(xp.maximum(x, 0.0), 1.0)


def progress(t: Any, length: float, xp: Namespace, begin: float = 0.0) -> Any:
    """``clamp01((t - begin) / length)``: 0 up to ``begin``, exactly 1 from ``begin + length`` on (``length > 0``)."""
    return clamp01((t - begin) / length, xp)


def progress0(t: Any, length: float, xp: Namespace) -> Any:
    """:func:`progress` from step 0 for steps ``t >= 0``: ``min(t, length) / length``, exactly 1 from ``length`` on.

    One operation fewer than ``progress(t, length, xp)``, for the training loop's hottest lines.
    """
    return xp.minimum(t, length) / length


def lerp(low: Any, high: Any, w: Any) -> Any:
    """``high * w + low * (1 - w)``: exactly ``high`` at ``w = 1`` and exactly ``low`` at ``w = 0``.

    On float32 jax arrays with constant ends, ``low + w * d`` with a float32 ``d`` checked to give
    ``low + d == high`` exactly: the same two exact ends in two operations instead of four (what
    optax's schedules cost under ``jit``); other backends keep the four and their bits.
    """
    if type(low) is float and low == 0.0:
        # The same bits for every finite w in [0, 1] (0 * (1 - w) is +0.0): two ops fewer under jit,
        # where XLA may not drop a multiplication by zero (0 * inf is NaN).
        return high * w + 0.0
    if type(low) is float and type(high) is float and _is_float32_jax(w):
        d = _float32_span(low, high)
        if d is not None:
            return low + w * d
    return high * w + low * (1.0 - w)


def _is_float32_jax(x: Any) -> bool:
    return type(x).__module__.split(".")[0] in ("jax", "jaxlib") and getattr(x, "dtype", None) == np.float32


@functools.lru_cache(maxsize=256)
def _float32_span(low: float, high: float) -> float | None:
    """A float32 ``d`` with ``float32(low) + d == float32(high)`` in float32 (usually ``high - low``), or ``None``."""
    lo, hi = np.float32(low), np.float32(high)
    with np.errstate(over="ignore", invalid="ignore"):
        d = np.float32(hi - lo)
        ok = bool(np.isfinite(d)) and np.float32(lo + d) == hi
    return float(d) if ok else None


# -- decay weights: w(0) = 1, w(1) = 0 -----------------------------------------------
def linear_weight(p: Any, xp: Namespace) -> Any:
    """``1 - p``."""
    return 1.0 - p


def cosine_weight(p: Any, xp: Namespace, angle: float = _PI) -> Any:
    """The half cosine ``(1 + cos(angle * p)) / 2``: 1 at ``p = 0``, exactly 0 at ``p = 1`` for ``angle = π``.

    Other angles give SGDR-free multi-cycle cosines (``angle = 2π · cycles``).
    """
    return 0.5 * (1.0 + xp.cos(angle * p))


def sqrt_weight(p: Any, xp: Namespace) -> Any:
    """``1 - sqrt(p)`` (the "1-sqrt" cooldown of WSD schedules, Hägele et al. 2024)."""
    return 1.0 - xp.sqrt(p)


def power_weight(p: Any, xp: Namespace, power: float = 1.0) -> Any:
    """``(1 - p) ** power`` (polynomial decay; ``power = 1`` is linear)."""
    return power_weight_left(1.0 - p, xp, power)


def power_weight_left(q: Any, xp: Namespace, power: float = 1.0) -> Any:
    """:func:`power_weight` of what is left, ``q = 1 - p``: ``q ** power``.

    For decays that take ``q`` from ``xp.left`` (whole steps left, exact on integer jax steps):
    with ``power < 1`` the slope is infinite at ``q = 0``, where float32's rounding of ``1 - p`` would show.
    """
    return q**power


def tanh_weight(p: Any, xp: Namespace, lower: float = -7.0, upper: float = 3.0) -> Any:
    """``(1 - tanh(x)) / 2`` with ``x = lower * (1 - p) + upper * p`` (Hsueh et al. 2019; timm's ``TanhLRScheduler``).

    Not exactly 1 and 0 at the ends: ``(1 - tanh(lower)) / 2`` at ``p = 0``,
    ``(1 - tanh(upper)) / 2`` at ``p = 1``, as in the paper and timm.

    Computed as the logistic ``1 / (1 + exp(2x))`` in the form
    ``exp(min(z, 0)) / (1 + exp(-|z|))`` with ``z = -2x``: both exponentials are at most 1
    (no overflow for any ``x``), and there is no cancellation near ``tanh(x) = 1``, where the
    textbook ``(1 - tanh(x)) / 2`` loses all but a few digits (in float32, 5 of them at ``x = 3``).
    """
    z = -2.0 * (lower * (1.0 - p) + upper * p)
    return xp.exp(xp.minimum(z, 0.0)) / (1.0 + xp.exp(-xp.maximum(z, -z)))


def halving_weight(p: Any, xp: Namespace) -> Any:
    """``2 * 0.5 ** p - 1``: Megatron's ``"exponential"`` WSD cooldown; exactly 1 at ``p = 0`` and 0 at ``p = 1``."""
    return 2.0 * 0.5**p - 1.0


#: decay weights by the name schedules accept (``wsd(decay=...)``).
DECAYS: dict[str, Callable[..., Any]] = {
    "linear": linear_weight,
    "cosine": cosine_weight,
    "1-sqrt": sqrt_weight,
    "exponential": halving_weight,
}


# -- rises: r(0) = 0, r(1) = 1 ---------------------------------------------------------
def linear_rise(a: Any, xp: Namespace) -> Any:
    """``a``."""
    return a


def cosine_rise(a: Any, xp: Namespace) -> Any:
    """``(1 - cos(π a)) / 2``: exactly 0 at ``a = 0`` and exactly 1 at ``a = 1``."""
    return 0.5 * (1.0 - xp.cos(_PI * a))


def geometric_rise(a: Any, xp: Namespace, start: float) -> Any:
    """``start ** (1 - a)``: the geometric ramp from ``start`` (> 0) to exactly 1 (a factor, not a rise)."""
    return start ** (1.0 - a)


def log_rise(t: Any, length: float, xp: Namespace) -> Any:
    """``min(log(t + 1) / log(length), 1)``: DeepSpeed's ``warmup_type="log"`` (``length >= 2``).

    0 at ``t = 0``, exactly 1 from ``t = length - 1`` on.
    """
    # Exactly 1 from t = length - 1 by a comparison, not by log(length) / log(length): libm and the array
    # libraries may round the two logs differently.
    return xp.where(t + 1.0 >= length, 1.0, xp.log(t + 1.0) / math.log(length))


def offset_linear_rise(t: Any, length: float, xp: Namespace) -> Any:
    """``min((t + 1) / length, 1)``: pytorch_warmup's ``LinearWarmup`` (the first update already warms).

    ``1 / length`` at ``t = 0``, exactly 1 from ``t = length - 1`` on.
    """
    return xp.minimum((t + 1.0) / length, 1.0)


def exp_saturation_rise(t: Any, length: float, xp: Namespace) -> Any:
    """``1 - exp(-(t + 1) / length)``: pytorch_warmup's ``ExponentialWarmup``; approaches 1, never reaches it."""
    return 1.0 - xp.exp(-(t + 1.0) / length)


# coefficients of f(x) = 1/x - 1/(e^x - 1) = 1/2 - x/12 + x^3/720 - ... (-B_k / k! for Bernoulli's B_k), in x^2
_F_SERIES = (-1 / 12, 1 / 720, -1 / 30240, 1 / 1209600, -1 / 47900160, 691 / 1307674368000, -7 / 6 / 87178291200)


@functools.lru_cache(maxsize=64)
def _radam_constants(beta2: float) -> tuple[float, float, float]:
    """``(L, C, ρ∞)``: ``L = -log(β2)`` and ``C = ρ∞ - 2 / L``, summed as series (no cancellation)."""
    q = 1.0 - beta2  # exact for beta2 in [0.5, 1]
    # -log(1 - q) / q - 1 = u = q/2 + q^2/3 + ...; the terms fall by at least 0.4 per step (q < 0.4)
    u_over_q, term, k = 0.0, 1.0, 1
    while term > 1e-18 * 0.5:
        term = q ** (k - 1) / (k + 1)
        u_over_q += term
        k += 1
    u = q * u_over_q
    return q * (1.0 + u), 2.0 * u_over_q / (1.0 + u) - 1.0, 2.0 / q - 1.0


def radam_rho(n: Any, xp: Namespace, beta2: float) -> Any:
    """RAdam's ``ρ_n = ρ∞ - 2 n β2^n / (1 - β2^n)`` with ``ρ∞ = 2 / (1 - β2) - 1`` (Liu et al. 2020), ``n >= 1``.

    Computed without cancellation as ``C + 2 n f(n L)`` with ``L = -log β2``, ``C = ρ∞ - 2 / L``
    and ``f(x) = 1/x - 1/(e^x - 1)`` (a series below ``x = 1/2``): the textbook form subtracts two
    numbers near ``ρ∞`` (2e3 for β2 = 0.999) to get ``ρ_n`` near 5, which loses 3 digits in float64
    and all of them in float32.
    """
    big_l, c, _ = _radam_constants(beta2)
    x = n * big_l
    x2 = x * x
    series = 0.0
    for coef in reversed(_F_SERIES):
        series = coef + x2 * series
    series = 0.5 + x * series
    e = xp.exp(-xp.maximum(x, 0.5))  # e^-x <= e^-0.5: no cancellation in 1 - e, no overflow
    direct = 1.0 / xp.maximum(x, 0.5) - e / (1.0 - e)
    return c + 2.0 * n * xp.where(x < 0.5, series, direct)


def radam_rectification(n: Any, xp: Namespace, beta2: float) -> Any:
    """RAdam's variance rectification ``sqrt((ρ_n - 4)(ρ_n - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρ_n))`` (for ``ρ_n > 4``).

    Rises towards 1, and is exactly 1 once ``ρ_n`` rounds to ``ρ∞``; pytorch_warmup's ``RAdamWarmup``
    factor, with :func:`radam_rho` computed without cancellation.
    """
    rho_inf = _radam_constants(beta2)[2]
    rho = radam_rho(n, xp, beta2)
    return xp.sqrt((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))


#: rises that are functions of the step and a length (``ramp(shape=...)``): ``r(t, length, xp)``.
STEP_RAMPS: dict[str, Callable[[Any, float, Namespace], Any]] = {
    "log": log_rise,
    "offset_linear": offset_linear_rise,
    "exp_saturation": exp_saturation_rise,
}


def k_progress(p: Any, k: float) -> Any:
    """``p ** k``: timm's k-decay (Zhang et al. 2020) runs a decay on ``t**k / T**k`` instead of ``t / T``."""
    return p if k == 1.0 else p**k


# -- interpolation between two values ---------------------------------------------------
def linear_interpolate(a: Any, b: Any, p: Any, xp: Namespace) -> Any:
    """From ``a`` to ``b`` along a straight line: ``lerp(a, b, p)``; exactly ``a`` at 0 and ``b`` at 1."""
    return lerp(a, b, p)


def cosine_interpolate(a: Any, b: Any, p: Any, xp: Namespace) -> Any:
    """From ``a`` to ``b`` along a half cosine: ``lerp(b, a, cosine_weight(p))``; exactly ``a`` at 0 and ``b`` at 1.

    ``cosine(value, steps, floor)`` is ``cosine_interpolate(value, floor, p)``,
    bit for bit, whichever way the values go.
    """
    return lerp(b, a, cosine_weight(p, xp))


#: interpolations by the name schedules accept (``piecewise_interpolate(method=...)``, ``one_cycle(anneal=...)``).
INTERPOLATIONS: dict[str, Callable[[Any, Any, Any, Namespace], Any]] = {
    "linear": linear_interpolate,
    "cosine": cosine_interpolate,
}


def _linear_factor(a: Any, xp: Namespace, start: float) -> Any:
    return linear_interpolate(start, 1.0, a, xp)


def _cosine_factor(a: Any, xp: Namespace, start: float) -> Any:
    return cosine_interpolate(start, 1.0, a, xp)


def _constant_factor(a: Any, xp: Namespace, start: float) -> Any:
    return xp.where(a < 1.0, start, 1.0)


#: warmup factors by ``warmup(method=...)``: ``f(a, xp, start_factor)`` for the warmup progress ``a``,
#: ``start_factor`` at ``a = 0`` and exactly 1 at ``a = 1``.
RAMPS: dict[str, Callable[[Any, Namespace, float], Any]] = {
    "linear": _linear_factor,
    "constant": _constant_factor,
    "exponential": geometric_rise,
    "cosine": _cosine_factor,
}
