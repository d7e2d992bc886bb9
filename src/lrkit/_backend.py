"""Array namespaces: one formula, evaluated on Python floats, NumPy, torch or jax.

Every schedule writes its math once, as ``_eval(t, xp)``, using Python operators
and the small set of functions below.  ``xp`` is picked from the type of the
step: plain Python (``math``) for ``int``/``float`` steps, NumPy for arrays,
torch for tensors, ``jax.numpy`` for jax arrays.  torch and jax are only
touched when the caller already hands us one of their arrays, so importing
lrkit never imports them.

Two rules keep the formulas valid on every backend:

* ``where(c, a, b)`` evaluates both branches (the scalar backend too), so both
  must be finite for every step: guard denominators with ``maximum``.
* constants (boundaries, values) enter through ``take``/``searchsorted_right``,
  which place them on the step's device and dtype.
"""

from __future__ import annotations

import bisect
import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["SCALAR", "Namespace", "prepare"]


class Namespace:
    """The functions a schedule formula may call, for one backend."""

    name = "abstract"

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def minimum(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def maximum(self, a: Any, b: Any) -> Any:
        raise NotImplementedError

    def cos(self, x: Any) -> Any:
        raise NotImplementedError

    def exp(self, x: Any) -> Any:
        raise NotImplementedError

    def log(self, x: Any) -> Any:
        raise NotImplementedError

    def sqrt(self, x: Any) -> Any:
        raise NotImplementedError

    def tanh(self, x: Any) -> Any:
        raise NotImplementedError

    def floor(self, x: Any) -> Any:
        raise NotImplementedError

    def ceil(self, x: Any) -> Any:
        raise NotImplementedError

    def searchsorted_right(self, edges: Sequence[float], t: Any) -> Any:
        """Number of ``edges`` that are ``<= t`` (``bisect_right``)."""
        raise NotImplementedError

    def searchsorted_left(self, edges: Sequence[float], t: Any) -> Any:
        """Number of ``edges`` that are ``< t`` (``bisect_left``)."""
        raise NotImplementedError

    def take(self, values: Sequence[float], index: Any, like: Any) -> Any:
        """``values[index]`` with ``values`` placed like ``like``."""
        raise NotImplementedError

    # -- whole-step arithmetic: exact on integer jax steps (see _Jax), plain float math elsewhere ---------
    def divmod_steps(self, t: Any, period: float) -> tuple[Any, Any]:
        """``(i, r)``: the period index ``i = floor(t / period)`` and the position in it ``r = t - i * period``."""
        i = self.floor(t / period)
        return i, t - i * period

    def floor_div(self, t: Any, period: float) -> Any:
        """``floor(t / period)``: the index of the period holding ``t``."""
        return self.floor(t / period)

    def ceil_div(self, t: Any, period: float) -> Any:
        """``ceil(t / period)``."""
        return self.ceil(t / period)

    def power(self, base: float, exponent: Any) -> Any:
        """``base ** exponent`` for a constant ``base`` (float32 jax: through ``exp``/``log``, see _Jax)."""
        return base**exponent

    def wrap_steps(self, t: Any, period: float, even: bool = False) -> Any:
        """``t``, or ``t mod period`` where the backend would lose whole steps (float32 jax).

        For a function of ``t`` that is periodic with ``period`` (and, with ``even``, symmetric:
        ``f(r) = f(period - r)``, so the position folds into ``[0, period / 2]``): the result is the
        same either way, so float64 backends keep ``t`` (and their bits).
        """
        return t

    def left(self, t: Any, length: float, pk: Any, k: float = 1.0, cycle: bool = False) -> Any:
        """``1 - pk``: what is left of a decay whose progress ``pk = p ** k`` was computed from ``t`` and ``length``.

        ``p = min(t, length) / length``, or with ``cycle`` ``t / horizon`` for the horizon
        ``length * max(ceil(t / length), 1)``.  Float backends return ``1 - pk`` (their bits); an
        exact-step backend recomputes it from the whole steps left, ``horizon - t``, so a decay whose
        slope is infinite at its end (``q ** power`` with ``power < 1``) keeps its precision there.
        """
        return 1.0 - pk

    def segments(self, t: Any, starts: Sequence[float], lengths: Sequence[float]) -> tuple[Any, Any, Any] | None:
        """``(i, t - starts[i], lengths[i])`` for the last ``starts[i] <= t``, from host tables, or ``None``.

        ``None`` (every backend but float32 jax on integer steps): compute it with the schedule's own
        formula.  ``starts`` must begin with 0; a step past the end of the last segment gets the last one
        (``cosine_restarts`` with more periods than its table takes its formula there instead).
        """
        return None

    def evaluate(self, formula: Any, t: Any) -> Any:
        """``formula(t, self)``: a schedule's ``_eval`` on the prepared step (jax: see ``_Jax.evaluate``)."""
        return formula(t, self)

    def advance(self, formula: Any, t: Any, k: float) -> Any:
        """``formula(t + k, self)`` for a whole ``k >= 0``: a schedule's ``_eval`` on a clock ``k`` steps ahead.

        Float backends add (their bits); float32 jax keeps an integer step exact while the sum fits
        in int32 (see ``_Jax.advance``).
        """
        return formula(t + k if k else t, self)

    def finalize(self, out: Any, t: Any, step: Any = None) -> Any:
        """Shape and type the result like the step (``t`` as computed, ``step`` as given)."""
        raise NotImplementedError


def _min2(a: float, b: float) -> float:
    # Twice as fast as the builtin min() for two floats; same result (ties keep a).
    return a if a <= b else b


def _max2(a: float, b: float) -> float:
    return a if a >= b else b


class _Scalar(Namespace):
    name = "python"

    def __init__(self) -> None:
        # Instance attributes, not class staticmethods: this namespace is on the
        # training loop's hot path (one call per optimizer update), and an
        # instance lookup skips the descriptor protocol.
        self.minimum = _min2
        self.maximum = _max2
        self.cos = math.cos
        self.exp = math.exp
        self.log = math.log
        self.sqrt = math.sqrt
        self.tanh = math.tanh
        self.floor = math.floor
        self.ceil = math.ceil

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b

    def searchsorted_right(self, edges: Sequence[float], t: Any) -> Any:
        return bisect.bisect_right(edges, t)

    def searchsorted_left(self, edges: Sequence[float], t: Any) -> Any:
        return bisect.bisect_left(edges, t)

    def take(self, values: Sequence[float], index: Any, like: Any) -> Any:
        return values[index]

    def finalize(self, out: Any, t: Any, step: Any = None) -> float:
        return float(out)


class _NumPy(Namespace):
    name = "numpy"
    where = staticmethod(np.where)  # type: ignore[assignment]
    minimum = staticmethod(np.minimum)  # type: ignore[assignment]
    maximum = staticmethod(np.maximum)  # type: ignore[assignment]
    cos = staticmethod(np.cos)  # type: ignore[assignment]
    exp = staticmethod(np.exp)  # type: ignore[assignment]
    log = staticmethod(np.log)  # type: ignore[assignment]
    sqrt = staticmethod(np.sqrt)  # type: ignore[assignment]
    tanh = staticmethod(np.tanh)  # type: ignore[assignment]
    floor = staticmethod(np.floor)  # type: ignore[assignment]
    ceil = staticmethod(np.ceil)  # type: ignore[assignment]

    def searchsorted_right(self, edges: Sequence[float], t: Any) -> Any:
        return np.searchsorted(np.asarray(edges, dtype=np.float64), t, side="right")

    def searchsorted_left(self, edges: Sequence[float], t: Any) -> Any:
        return np.searchsorted(np.asarray(edges, dtype=np.float64), t, side="left")

    def take(self, values: Sequence[float], index: Any, like: Any) -> Any:
        return np.asarray(values, dtype=np.float64)[index]

    def finalize(self, out: Any, t: Any, step: Any = None) -> Any:
        out = np.asarray(out, dtype=np.float64)
        if out.shape != t.shape:
            out = np.broadcast_to(out, t.shape)
        return out.copy() if not out.flags.writeable or out is t else out


class _Torch(Namespace):
    """torch tensors, computed in float64 and returned in the step's floating dtype.

    float32/half steps are computed in float64 too (except on MPS, which has no
    float64): in float32, ``t / period`` of a periodic schedule loses whole steps
    long before ``2**24``.  Integer steps give float64 results.
    """

    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch

    def _t(self, x: Any, like: Any) -> Any:
        if isinstance(x, self.torch.Tensor):
            return x
        return self.torch.as_tensor(x, dtype=like.dtype, device=like.device)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        ref = a if isinstance(a, self.torch.Tensor) else b
        if not isinstance(ref, self.torch.Tensor):
            ref = cond if isinstance(cond, self.torch.Tensor) else None
            if ref is None:
                return a if cond else b
            ref = ref.to(self.torch.float64)  # constants keep full precision; finalize casts
        return self.torch.where(cond, self._t(a, ref), self._t(b, ref))

    def _binary(self, fn: Any, a: Any, b: Any) -> Any:
        if isinstance(a, self.torch.Tensor):
            return fn(a, self._t(b, a))
        if isinstance(b, self.torch.Tensor):
            return fn(self._t(a, b), b)
        return None

    def minimum(self, a: Any, b: Any) -> Any:
        r = self._binary(self.torch.minimum, a, b)
        return min(a, b) if r is None else r

    def maximum(self, a: Any, b: Any) -> Any:
        r = self._binary(self.torch.maximum, a, b)
        return max(a, b) if r is None else r

    def _unary(self, fn: Any, fallback: Any, x: Any) -> Any:
        return fn(x) if isinstance(x, self.torch.Tensor) else fallback(x)

    def cos(self, x: Any) -> Any:
        return self._unary(self.torch.cos, math.cos, x)

    def exp(self, x: Any) -> Any:
        return self._unary(self.torch.exp, math.exp, x)

    def log(self, x: Any) -> Any:
        return self._unary(self.torch.log, math.log, x)

    def sqrt(self, x: Any) -> Any:
        return self._unary(self.torch.sqrt, math.sqrt, x)

    def tanh(self, x: Any) -> Any:
        return self._unary(self.torch.tanh, math.tanh, x)

    def floor(self, x: Any) -> Any:
        return self._unary(self.torch.floor, math.floor, x)

    def ceil(self, x: Any) -> Any:
        return self._unary(self.torch.ceil, math.ceil, x)

    def searchsorted_right(self, edges: Sequence[float], t: Any) -> Any:
        e = self.torch.as_tensor(list(edges), dtype=t.dtype, device=t.device)
        return self.torch.searchsorted(e, t.contiguous(), right=True)

    def searchsorted_left(self, edges: Sequence[float], t: Any) -> Any:
        e = self.torch.as_tensor(list(edges), dtype=t.dtype, device=t.device)
        return self.torch.searchsorted(e, t.contiguous(), right=False)

    def take(self, values: Sequence[float], index: Any, like: Any) -> Any:
        v = self.torch.as_tensor(list(values), dtype=like.dtype, device=like.device)
        return v[index]

    def finalize(self, out: Any, t: Any, step: Any = None) -> Any:
        out = self._t(out, t)
        dtype = step.dtype if isinstance(step, self.torch.Tensor) and step.is_floating_point() else t.dtype
        if out.dtype != dtype:
            out = out.to(dtype)
        if out.shape != t.shape:
            out = out.expand(t.shape).clone()
        return out


#: from this length on, float32 may round ``t / length`` to 1 for ``t < length`` (see ``_ExactStep.__truediv__``).
_ROUNDED_LENGTHS = 2**22


def _whole(c: Any) -> int | None:
    """``c`` as a Python int when it is a whole number (an int, or a float without a fraction), else ``None``."""
    if isinstance(c, bool):
        return int(c)
    if isinstance(c, int):
        return c
    if isinstance(c, float) and math.isfinite(c) and c == math.floor(c):
        return int(c)
    return None


class _ExactStep:
    """An integer jax step that keeps whole-step arithmetic exact: JAX's float32 cannot hold steps past ``2**24``.

    ``i`` is the step as an integer array (int32, or int64 with x64).  Whole-step
    operations stay integer and exact: subtracting or comparing a whole number
    (a boundary, a milestone, a warmup length), ``minimum``/``maximum`` with one,
    and the namespace's ``divmod_steps``/``floor_div``/``ceil_div``.  Everything
    else (``t / length``, ``t * x``, ``cos(t)``) sees the step as a float, where
    the relative rounding of ``2**-24`` no longer matters.  A whole number outside
    the integer range (a duration of ``2**31`` steps or more) is never converted
    to int32: comparisons are decided in Python, differences fall back to floats.
    """

    __slots__ = ("_f", "i", "ns")
    __array_priority__ = 1000  # NumPy scalars defer to our reflected operators

    def __init__(self, i: Any, ns: _Jax) -> None:
        self.i = i
        self.ns = ns
        self._f = None

    @property
    def f(self) -> Any:
        """The step as a float array (the default float dtype)."""
        if self._f is None:
            self._f = self.i.astype(self.ns.float_dtype)
        return self._f

    @property
    def shape(self) -> Any:
        return self.i.shape

    @property
    def dtype(self) -> Any:
        return self.ns.float_dtype

    def _wrap(self, i: Any) -> _ExactStep:
        return _ExactStep(i, self.ns)

    def _fits(self, c: int) -> bool:
        return self.ns.int_min <= c <= self.ns.int_max

    # -- arithmetic --------------------------------------------------------------------------
    def _minus(self, c: float) -> tuple[Any, bool]:
        """``i - c`` for a finite constant ``c``, as exactly as float32 allows; ``(value, is_whole)``.

        The integer part of the difference is taken in integers against the nearest constant
        inside the integer range, and only what is left (a fraction, or the part of ``c``
        past ``2**31``) is subtracted in floats.
        """
        whole = c if isinstance(c, int) else math.floor(c)
        frac = 0.0 if isinstance(c, int) else c - whole
        anchor = min(max(whole, 0), self.ns.int_max)
        # i >= 0 (prepare clamps under jit) and 0 <= anchor <= int_max: i - anchor cannot overflow.
        near = self.i - anchor
        rest = whole - anchor
        if rest == 0 and frac == 0.0:
            return self._wrap(near), True
        return near.astype(self.ns.float_dtype) - (float(rest) + frac), False

    def __sub__(self, other: Any) -> Any:
        if isinstance(other, _ExactStep):
            return self._wrap(self.i - other.i)
        if isinstance(other, (int, float)) and not isinstance(other, bool) and math.isfinite(other):
            return self._minus(other)[0]
        return self.f - _plain(other)

    def __rsub__(self, other: Any) -> Any:
        if isinstance(other, (int, float)) and not isinstance(other, bool) and math.isfinite(other):
            value, whole = self._minus(other)
            return self._wrap(-value.i) if whole else -value
        return _plain(other) - self.f

    def __add__(self, other: Any) -> Any:
        if isinstance(other, _ExactStep):
            return self.f + other.f
        return self.f + other

    __radd__ = __add__

    def __mul__(self, other: Any) -> Any:
        if type(other) is float and other == 0.0:
            # t * 0.0 is +0.0 for every (finite, >= 0) whole step: a constant XLA folds, so a
            # constant schedule (``t * 0.0 + value``) compiles to a constant, as optax's does.
            return self.ns.jnp.zeros(self.i.shape, dtype=self.ns.float_dtype)
        return self.f * _plain(other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Any:
        q = self.f / _plain(other)
        c = _whole(other)
        if c is not None and c >= _ROUNDED_LENGTHS and self.ns.float_dtype == self.ns.jnp.float32:
            # A progress t / L with t < L is below 1, but float32 rounds a long L (and t) and can
            # give exactly 1: a phase would end a step early (a constant warmup, a comparison p < 1).
            below_one = self.ns.jnp.float32(np.nextafter(np.float32(1.0), np.float32(0.0)))
            q = self.ns.jnp.where(self < c, self.ns.jnp.minimum(q, below_one), q)
        return q

    def __rtruediv__(self, other: Any) -> Any:
        return _plain(other) / self.f

    def __neg__(self) -> Any:
        return -self.f

    def __pow__(self, other: Any) -> Any:
        return self.f ** _plain(other)

    def __rpow__(self, other: Any) -> Any:
        if isinstance(other, (int, float)):
            return self.ns.power(float(other), self)
        return _plain(other) ** self.f

    # -- comparisons: decided in integers -------------------------------------------------------
    def _compare(self, other: Any, op: str) -> Any:
        jnp = self.ns.jnp
        if isinstance(other, _ExactStep):
            a, b = self.i, other.i
        elif isinstance(other, (int, float)) and not isinstance(other, bool):
            x = float(other) if isinstance(other, float) else other
            if isinstance(x, float) and math.isnan(x):
                return jnp.zeros(self.i.shape, dtype=bool)
            # t >= x  <=>  i >= ceil(x);  t > x  <=>  i >= floor(x) + 1 (and the mirrored two).
            if op in (">=", "<"):
                k = x if isinstance(x, int) else (math.ceil(x) if math.isfinite(x) else x)
            else:
                k = (x if isinstance(x, int) else (math.floor(x) if math.isfinite(x) else x)) + 1
            # i >= k for a k outside the integer range is decided in Python.
            if k > self.ns.int_max:
                ge = jnp.zeros(self.i.shape, dtype=bool)
            elif k < self.ns.int_min:
                ge = jnp.ones(self.i.shape, dtype=bool)
            else:
                ge = self.i >= int(k)
            return ge if op in (">=", ">") else ~ge
        else:
            a, b = self.f, _plain(other)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    def __lt__(self, other: Any) -> Any:
        return self._compare(other, "<")

    def __le__(self, other: Any) -> Any:
        return self._compare(other, "<=")

    def __gt__(self, other: Any) -> Any:
        return self._compare(other, ">")

    def __ge__(self, other: Any) -> Any:
        return self._compare(other, ">=")

    __hash__ = None  # type: ignore[assignment]


def _plain(x: Any) -> Any:
    """A value as the backend sees it: an exact step as its float array, a huge Python int as a float.

    JAX parses a Python int as a weak int32 even next to a float array (``x / 2**40`` raises
    ``OverflowError`` without x64), so durations of ``2**31`` steps or more enter as floats.
    """
    if isinstance(x, _ExactStep):
        return x.f
    if type(x) is int and not -(2**31) <= x < 2**31:
        return float(x)
    return x


#: tables up to this length are searched and indexed with unrolled compares (faster under XLA than a gather).
_UNROLL = 16
#: from here on a Python float rounds to inf in float32 (halfway between float32's max and 2**128, ties to even).
_FLOAT32_OVERFLOW = 2.0**128 * (1.0 - 2.0**-25)


class _Jax(Namespace):
    """jax arrays (traceable: no data-dependent Python control flow).

    An integer step (an optax ``count``, Keras' ``iterations``) stays an
    integer, wrapped in :class:`_ExactStep`: without x64 JAX computes in
    float32, which cannot hold whole steps past ``2**24`` (``16_777_217``
    rounds to ``16_777_216``), so the step's position in a period, its
    milestone and its distance to a boundary are computed in integers, and only
    the small remainder meets float32.  A constant raised to a step
    (``gamma ** i``) is computed as ``exp(i * log(gamma))`` with the log taken
    in float64, so float32's rounding of ``gamma`` is not raised to a power.
    With x64 on, everything is float64 and equals NumPy's result.
    """

    name = "jax"

    def __init__(self) -> None:
        import jax
        import jax.numpy as jnp

        self.jax = jax
        self.jnp = jnp
        self._jnp_min = jnp.minimum
        self._jnp_max = jnp.maximum
        self._jnp_where = jnp.where

    # The integer and float dtypes follow jax_enable_x64, which can change at run time.
    @property
    def float_dtype(self) -> Any:
        return self.jnp.result_type(float)

    @property
    def int_dtype(self) -> Any:
        return self.jnp.result_type(int)

    @property
    def int_max(self) -> int:
        return int(self.jnp.iinfo(self.int_dtype).max)

    @property
    def int_min(self) -> int:
        return int(self.jnp.iinfo(self.int_dtype).min)

    def cos(self, x: Any) -> Any:
        return self.jnp.cos(_plain(x))

    def exp(self, x: Any) -> Any:
        return self.jnp.exp(_plain(x))

    def log(self, x: Any) -> Any:
        return self.jnp.log(_plain(x))

    def sqrt(self, x: Any) -> Any:
        return self.jnp.sqrt(_plain(x))

    def tanh(self, x: Any) -> Any:
        return self.jnp.tanh(_plain(x))

    def floor(self, x: Any) -> Any:
        return x if isinstance(x, _ExactStep) else self.jnp.floor(x)

    def ceil(self, x: Any) -> Any:
        return x if isinstance(x, _ExactStep) else self.jnp.ceil(x)

    def _int_operand(self, x: Any) -> Any:
        """``x`` as an integer operand of an exact step (an int array or a Python int in range), else ``None``."""
        if isinstance(x, _ExactStep):
            return x.i
        c = _whole(x)
        if c is not None and self.int_min <= c <= self.int_max:
            return c
        return None

    def _extreme(self, fn: Any, a: Any, b: Any, keep_step: bool) -> Any:
        step = a if isinstance(a, _ExactStep) else b if isinstance(b, _ExactStep) else None
        if step is not None:
            ia, ib = self._int_operand(a), self._int_operand(b)
            if ia is not None and ib is not None:
                return _ExactStep(fn(ia, ib), self)
            other = b if step is a else a
            c = _whole(other)
            if c is not None and keep_step:
                # minimum(t, huge) is t; maximum(t, very negative) is t: the constant never wins.
                return step
        return fn(self._finite_or_inf(_plain(a)), self._finite_or_inf(_plain(b)))

    def _finite_or_inf(self, x: Any) -> Any:
        """A Python float past float32's range as the infinity float32 would round it to (x64 off).

        NumPy warns ``overflow encountered in cast`` when JAX casts ``1e300`` to float32 (a cap such as
        ``minimum(t / period, 1e300 / (t_mul - 1))``); the infinity is the same value, without the warning.
        """
        if type(x) is float and _FLOAT32_OVERFLOW <= abs(x) < math.inf and self.float_dtype == self.jnp.float32:
            return math.copysign(math.inf, x)
        return x

    def minimum(self, a: Any, b: Any) -> Any:
        other = b if isinstance(a, _ExactStep) else a
        c = _whole(other)
        return self._extreme(self._jnp_min, a, b, keep_step=c is not None and c > self.int_max)

    def maximum(self, a: Any, b: Any) -> Any:
        other = b if isinstance(a, _ExactStep) else a
        c = _whole(other)
        return self._extreme(self._jnp_max, a, b, keep_step=c is not None and c < self.int_min)

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        if isinstance(a, _ExactStep) or isinstance(b, _ExactStep):
            ia, ib = self._int_operand(a), self._int_operand(b)
            if ia is not None and ib is not None:
                return _ExactStep(self._jnp_where(cond, ia, ib), self)
        return self._jnp_where(cond, _plain(a), _plain(b))

    def _period(self, t: Any, period: float) -> int | None:
        p = _whole(period)
        return p if isinstance(t, _ExactStep) and p is not None and 1 <= p else None

    def divmod_steps(self, t: Any, period: float) -> tuple[Any, Any]:
        p = self._period(t, period)
        if p is None:
            return super().divmod_steps(_plain(t), _plain(period))
        if p > self.int_max:  # a period longer than any int32 step: always the first one
            return _ExactStep(self.jnp.zeros_like(t.i), self), t
        q = t.i // p
        return _ExactStep(q, self), _ExactStep(t.i - q * p, self)

    def floor_div(self, t: Any, period: float) -> Any:
        p = self._period(t, period)
        if p is None:
            return super().floor_div(_plain(t), _plain(period))
        if p > self.int_max:
            return _ExactStep(self.jnp.zeros_like(t.i), self)
        return _ExactStep(t.i // p, self)

    def ceil_div(self, t: Any, period: float) -> Any:
        p = self._period(t, period)
        if p is None:
            return super().ceil_div(_plain(t), _plain(period))
        if p > self.int_max:
            return _ExactStep((t.i > 0).astype(t.i.dtype), self)
        return _ExactStep(-((-t.i) // p), self)

    def power(self, base: float, exponent: Any) -> Any:
        e = _plain(exponent)
        if not isinstance(base, (int, float)) or self.float_dtype != self.jnp.float32:
            return base**e
        base = float(base)
        if base == 1.0:
            return self.jnp.ones_like(e, dtype=self.float_dtype)
        if base == 0.0:
            return self.jnp.where(e == 0, 1.0, 0.0).astype(self.float_dtype)
        if base < 0.0:
            return base**e
        # float32's rounding of base (up to 6e-8) raised to the power e would grow e-fold;
        # log(base) taken in float64 keeps the error at one rounding of the exponent.
        return self.jnp.exp(e * math.log(base))

    def _float32_exact(self, t: Any) -> bool:
        """Whether ``t`` is an integer step computed in float32 (x64 off): the case the exact helpers are for."""
        return isinstance(t, _ExactStep) and self.float_dtype == self.jnp.float32

    def wrap_steps(self, t: Any, period: float, even: bool = False) -> Any:
        if not self._float32_exact(t) or not (math.isfinite(period) and period > 0):
            return t  # x64: float64 holds the step; keep NumPy's bits
        p = self._period(t, period)
        if p is None:
            if period > self.int_max:
                return t  # never wraps within int32
            return self._wrap_fraction(t, period, even)
        if p > self.int_max:
            return t
        r = t.i % p
        if even:  # a float32 cos argument below pi keeps its rounding below an ulp of the result
            r = self.jnp.minimum(r, p - r)
        return _ExactStep(r, self)

    def _wrap_fraction(self, t: _ExactStep, period: float, even: bool) -> Any:
        """``t mod period`` for a period that is not a whole number of steps, as a float.

        ``frac(t / period)`` in 30-bit fixed point, from the step's int32 and ``1 / period`` in 62-bit
        fixed point (exact Python ints), multiplied in 16-bit limbs with uint32 carries: the phase is
        exact to ``2**-30`` of a period, where ``t / period`` in float32 loses whole periods past 2**24.
        """
        jnp = self.jnp
        u32 = jnp.uint32
        from fractions import Fraction  # here, not at module level: `import lrkit` stays light (bench_import)

        c = 1 / Fraction(period)  # the period as given (a float), exactly
        c_fix = math.floor((c - math.floor(c)) * 2**62)  # whole periods per step drop out (t is whole)
        c0, c1, c2, c3 = ((c_fix >> (16 * j)) & 0xFFFF for j in range(4))
        i = t.i.astype(u32)  # 0 <= t <= 2**31 - 1
        t0, t1 = i & 0xFFFF, i >> 16
        mask = u32(0xFFFF)

        def mul(a: Any, b: int) -> Any:
            return a * u32(b)  # < 2**32: both factors < 2**16

        # t * c_fix = sum of t_i * c_j * 2**(16 (i + j)); bits 32..61 are the 30-bit fraction.
        col = mul(t0, c0) >> 16
        p01, p10 = mul(t0, c1), mul(t1, c0)
        col = (p01 & mask) + (p10 & mask) + col
        carry = (col >> 16) + (p01 >> 16) + (p10 >> 16)
        p02, p11 = mul(t0, c2), mul(t1, c1)
        col = (p02 & mask) + (p11 & mask) + carry
        digit2 = col & mask
        carry = (col >> 16) + (p02 >> 16) + (p11 >> 16)
        col = mul(t0, c3) + mul(t1, c2) + carry  # wraps mod 2**32: only its low 14 bits are kept
        frac = ((col & u32(0x3FFF)) << 16) | digit2  # floor(frac(t / period) * 2**30)
        if even:
            frac = jnp.minimum(frac, u32(2**30) - frac)
        return frac.astype(self.float_dtype) * (period / 2**30)

    def left(self, t: Any, length: float, pk: Any, k: float = 1.0, cycle: bool = False) -> Any:
        n = self._period(t, length)
        if not self._float32_exact(t) or n is None or n > self.int_max:
            return 1.0 - pk
        jnp = self.jnp
        if cycle:
            # horizon - t = (n - t mod n) mod n, and the whole first horizon at t = 0
            rest = (n - t.i % n) % n
            rest = jnp.where(t.i == 0, n, rest)
            horizon = self.jnp.maximum(-((-t.i) // n), 1).astype(self.float_dtype) * float(n)
        else:
            rest = n - jnp.minimum(t.i, n)
            horizon = float(n)
        q = rest.astype(self.float_dtype) / horizon
        if k == 1.0:
            return q
        # Near the end (q < 1/2): 1 - (1 - q) ** k without forming 1 - q, which float32 rounds as q -> 0.
        # Before it, 1 - p ** k from the given p ** k: there q = 1 - p is the rounded one.
        return jnp.where(q < 0.5, -jnp.expm1(k * jnp.log1p(-q)), 1.0 - _plain(pk))

    def segments(self, t: Any, starts: Sequence[float], lengths: Sequence[float]) -> tuple[Any, Any, Any] | None:
        if not self._float32_exact(t):
            return None
        index = self.searchsorted_right(starts, t) - 1  # starts[0] = 0 <= t
        # t - starts[i] in two parts: the whole steps in integers, the fraction of the start in float32
        whole = [math.floor(x) for x in starts]
        offset = (t.i - self._select(whole, index, t.i.dtype)).astype(self.float_dtype)
        fracs = [x - w for x, w in zip(starts, whole, strict=True)]
        if any(fracs):
            offset = offset - self._select(fracs, index, self.float_dtype)
        return _ExactStep(index.astype(t.i.dtype), self), offset, self._select(lengths, index, self.float_dtype)

    def _thresholds(self, edges: Sequence[float], side: str) -> Any:
        """The whole steps from which ``t`` counts each edge: ``t >= e`` (right) or ``t > e`` (left)."""
        out = []
        for e in edges:
            k = math.ceil(e) if side == "right" else math.floor(e) + 1
            if k <= self.int_max:  # an edge past the integer range is never reached
                out.append(max(k, self.int_min))
        return out

    def _search(self, edges: Sequence[float], t: Any, side: str) -> Any:
        jnp = self.jnp
        if isinstance(t, _ExactStep):
            thresholds = self._thresholds(edges, side)
            if len(thresholds) <= _UNROLL:
                # The closed form: one compare per edge, summed.  Under jit it is 25x faster than
                # jnp.searchsorted's "compare_all" and 3-4x faster than its default "scan" here.
                count = jnp.zeros(t.i.shape, dtype=self.int_dtype)
                for k in thresholds:
                    count = count + (t.i >= k).astype(self.int_dtype)
                return count
            table = jnp.asarray(thresholds, dtype=t.i.dtype)
            return jnp.searchsorted(table, t.i, side="right")  # i counts the thresholds <= i
        if len(edges) <= _UNROLL:
            count = jnp.zeros(t.shape, dtype=self.int_dtype)
            for e in map(float, edges):  # floats: JAX reads a Python int >= 2**31 as an overflowing int32
                count = count + ((t >= e) if side == "right" else (t > e)).astype(self.int_dtype)
            return count
        return jnp.searchsorted(jnp.asarray(list(edges), dtype=t.dtype), t, side=side)

    def searchsorted_right(self, edges: Sequence[float], t: Any) -> Any:
        return self._search(edges, t, "right")

    def searchsorted_left(self, edges: Sequence[float], t: Any) -> Any:
        return self._search(edges, t, "left")

    def take(self, values: Sequence[float], index: Any, like: Any) -> Any:
        if isinstance(like, _ExactStep) and all(isinstance(x, int) and not isinstance(x, bool) for x in values):
            # Whole steps (piecewise_interpolate's boundaries) stay exact steps, so t - boundary is exact.
            if all(self.int_min <= x <= self.int_max for x in values):
                return _ExactStep(self._select(values, index, like.i.dtype), self)
        return self._select(values, index, like.dtype)

    def _select(self, values: Sequence[float], index: Any, dtype: Any) -> Any:
        """``values[index]``: a chain of ``where`` for short tables (a gather is ~5x slower under XLA on CPU)."""
        jnp = self.jnp
        if len(values) > _UNROLL:
            return jnp.asarray(list(values), dtype=dtype)[index]
        out = jnp.full(jnp.shape(index), values[0], dtype=dtype)
        for j in range(1, len(values)):
            out = jnp.where(index == j, jnp.asarray(values[j], dtype=dtype), out)
        return out

    def evaluate(self, formula: Any, t: Any) -> Any:
        """A float step holding a whole number below ``2**31`` is evaluated as that integer step (x64 off).

        So ``s(jnp.float32(2**30))`` is as exact as ``s(jnp.int32(2**30))``: ``where(whole, formula(int step),
        formula(float step))``, the formula twice, for float steps only (optax and Keras count in integers).
        A fractional float step (below ``2**23`` in float32, which has no fractions above) keeps the float formula.
        """
        jnp = self.jnp
        if isinstance(t, _ExactStep) or self.float_dtype != jnp.float32 or not jnp.issubdtype(t.dtype, jnp.floating):
            return formula(t, self)
        whole = (t == jnp.floor(t)) & (t < 2.0**31)  # 2**31 and NaN are not int32 steps
        exact = formula(_ExactStep(jnp.where(whole, t, 0).astype(self.int_dtype), self), self)
        # jax.grad: the integer step has no derivative, so d s / d t is 0 at a whole float step. The float
        # formula there gets a step cut from the gradient: its derivative at a decay's end (an infinite
        # slope, polynomial power < 1) times the 0 that where sends to the unused branch would be NaN.
        cut = jnp.where(whole, self.jax.lax.stop_gradient(t), t)
        return jnp.where(whole, _plain(exact), _plain(formula(cut, self)))

    def advance(self, formula: Any, t: Any, k: float) -> Any:
        """``formula(t + k)`` with ``t + k`` an exact integer step where it fits in the integer dtype.

        ``where(t <= int_max - k, formula(exact t + k), formula(float t + k))``: the formula twice, for
        integer steps only; a sum past ``int_max`` (a step of ``2**31`` or more without x64) is a float
        step, as exact as float32 allows there.
        """
        if not k:
            return formula(t, self)
        whole = _whole(k)
        if not isinstance(t, _ExactStep) or whole is None or not 0 < whole <= self.int_max:
            return formula(t + k, self)
        jnp = self.jnp
        fits = t.i <= self.int_max - whole
        exact = formula(_ExactStep(jnp.where(fits, t.i, 0) + whole, self), self)
        return jnp.where(fits, _plain(exact), _plain(formula(t.f + float(whole), self)))

    def finalize(self, out: Any, t: Any, step: Any = None) -> Any:
        out = self.jnp.asarray(_plain(out), dtype=t.dtype)
        return self.jnp.broadcast_to(out, t.shape)

    def prepare(self, step: Any) -> Any:
        """The step as computed: an exact step for integers, the float array otherwise (validated outside ``jit``)."""
        jnp = self.jnp
        t = jnp.asarray(step)
        if t.dtype == jnp.bool_ or jnp.issubdtype(t.dtype, jnp.complexfloating):
            raise TypeError(f"step array must hold integers or floats, got dtype {t.dtype}")
        traced = isinstance(t, self.jax.core.Tracer)
        integer = jnp.issubdtype(t.dtype, jnp.integer)
        if not traced and t.size:
            # Same contract as NumPy steps; a traced step cannot be checked (see docs/jax.md).
            if not integer and not bool(jnp.isfinite(t).all()):
                raise ValueError(f"step must be finite, got an array containing {t[~jnp.isfinite(t)][0].item()!r}")
            if bool((t < 0).any()):
                raise ValueError(f"step must be >= 0 (optimizer updates already applied), got {t[t < 0][0].item()!r}")
        if integer:
            if t.dtype != self.int_dtype:
                if not traced and t.size and int(t.max()) > self.int_max:
                    raise ValueError(
                        f"step must fit in {self.int_dtype} (enable jax_enable_x64 for larger steps), "
                        f"got {int(t.max())}"
                    )
                if traced and int(jnp.iinfo(t.dtype).max) > self.int_max:
                    # A uint32 step past int32 would wrap to a negative step (then s(0)): saturate instead.
                    t = jnp.minimum(t, jnp.asarray(self.int_max, dtype=t.dtype))
                t = t.astype(self.int_dtype)
            if traced:
                t = jnp.maximum(t, 0)  # under jit a negative step counts as 0 (it cannot raise)
            return _ExactStep(t, self)
        if t.dtype != self.float_dtype and not jnp.issubdtype(t.dtype, jnp.floating):
            t = t.astype(self.float_dtype)
        if traced:
            t = jnp.maximum(t, 0.0)  # NaN stays NaN: jnp.maximum propagates it
        return t


#: ints above this do not fit in a float64 (``float(step)`` would overflow).
MAX_INT_STEP = 2**1023

SCALAR: Namespace = _Scalar()
NUMPY: Namespace = _NumPy()
_cache: dict[str, Namespace] = {}


def _lazy(name: str) -> Namespace:
    ns = _cache.get(name)
    if ns is None:
        ns = _Torch() if name == "torch" else _Jax()
        _cache[name] = ns
    return ns


def _check_numpy_steps(t: np.ndarray) -> None:
    if t.size and not np.isfinite(t).all():
        raise ValueError(f"step must be finite, got an array containing {t[~np.isfinite(t)][0]!r}")
    if t.size and (t < 0).any():
        raise ValueError(f"step must be >= 0 (optimizer updates already applied), got {t[t < 0][0]!r}")


def prepare(step: Any) -> tuple[Namespace, Any]:
    """Validate ``step`` and return its namespace and the step as floats."""
    if isinstance(step, bool):
        raise TypeError(f"step must be a number or an array of numbers, got {step!r}")
    if isinstance(step, (int, float, np.integer, np.floating)):
        if isinstance(step, int) and abs(step) > MAX_INT_STEP:  # -2**1100 overflows float() too
            # float(step) would raise OverflowError (and repr a ValueError past 4300 digits).
            raise ValueError(f"step must be finite, got an int of {step.bit_length()} bits")
        t = float(step)
        if not math.isfinite(t):
            raise ValueError(f"step must be finite, got {step!r}")
        if t < 0:
            raise ValueError(f"step must be >= 0 (optimizer updates already applied), got {step!r}")
        return SCALAR, t
    if isinstance(step, np.ndarray):
        if step.dtype.kind not in "iuf":
            raise TypeError(f"step array must hold integers or floats, got dtype {step.dtype}")
        t = step.astype(np.float64)
        _check_numpy_steps(t)
        return NUMPY, t
    module = type(step).__module__.split(".")[0]
    if module == "torch" and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if isinstance(step, torch.Tensor):
            if step.dtype == torch.bool or step.is_complex():
                raise TypeError(f"step tensor must hold integers or floats, got dtype {step.dtype}")
            t = step
            if t.dtype != torch.float64 and t.device.type != "mps":
                t = t.to(torch.float64)  # see _Torch: finalize casts back to the step's dtype
            elif not t.is_floating_point():
                t = t.to(torch.float32)  # MPS: integer steps in its widest float
            compiling = getattr(getattr(torch, "compiler", None), "is_compiling", lambda: False)()
            if not compiling and t.numel():  # same contract as NumPy steps (a graph under torch.compile cannot check)
                if not bool(torch.isfinite(t).all()):
                    raise ValueError(
                        f"step must be finite, got a tensor containing {t[~torch.isfinite(t)][0].item()!r}"
                    )
                if bool((t < 0).any()):
                    raise ValueError(
                        f"step must be >= 0 (optimizer updates already applied), got {t[t < 0][0].item()!r}"
                    )
            return _lazy("torch"), t
    if module in ("jax", "jaxlib") and "jax" in sys.modules:
        ns = _lazy("jax")
        return ns, ns.prepare(step)  # type: ignore[attr-defined]
    if isinstance(step, (list, tuple)):
        return prepare(np.asarray(step))
    raise TypeError(
        f"step must be an int, a float, a NumPy array, a torch tensor or a jax array, got {type(step).__name__}"
    )
