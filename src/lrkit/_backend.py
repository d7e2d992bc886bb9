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


class _Jax(Namespace):
    """jax arrays (traceable: no data-dependent Python control flow)."""

    name = "jax"

    def __init__(self) -> None:
        import jax.numpy as jnp

        self.jnp = jnp
        for fn in ("where", "minimum", "maximum", "cos", "exp", "log", "sqrt", "tanh", "floor", "ceil"):
            setattr(self, fn, getattr(jnp, fn))

    def searchsorted_right(self, edges: Sequence[float], t: Any) -> Any:
        return self.jnp.searchsorted(self.jnp.asarray(list(edges), dtype=t.dtype), t, side="right")

    def searchsorted_left(self, edges: Sequence[float], t: Any) -> Any:
        return self.jnp.searchsorted(self.jnp.asarray(list(edges), dtype=t.dtype), t, side="left")

    def take(self, values: Sequence[float], index: Any, like: Any) -> Any:
        return self.jnp.asarray(list(values), dtype=like.dtype)[index]

    def finalize(self, out: Any, t: Any, step: Any = None) -> Any:
        out = self.jnp.asarray(out, dtype=t.dtype)
        return self.jnp.broadcast_to(out, t.shape)


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
        if isinstance(step, int) and step > MAX_INT_STEP:
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
        jnp = sys.modules["jax"].numpy
        t = jnp.asarray(step)
        if not jnp.issubdtype(t.dtype, jnp.floating):
            t = t.astype(jnp.result_type(float))
        return _lazy("jax"), t
    if isinstance(step, (list, tuple)):
        return prepare(np.asarray(step))
    raise TypeError(
        f"step must be an int, a float, a NumPy array, a torch tensor or a jax array, got {type(step).__name__}"
    )
