"""The :class:`Schedule` base class and the validators every schedule uses.

A schedule is an immutable value: its parameters are fixed at construction
(validated there, loudly), it compares and hashes by value, its ``repr`` is a
spec that :func:`lrkit.parse` reads back, and :meth:`Schedule.to_dict` is
plain JSON data.  Evaluating it is a pure function of the step: the number of
optimizer updates already applied, counted from 0.
"""

from __future__ import annotations

import inspect
import math
import numbers
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from typing import Any, ClassVar

import numpy as np

from . import _backend
from . import registry as _registry
from .durations import resolve_duration

# The validators used to live here; old imports (``from lrkit.base import real``) keep working.
from .validators import (  # noqa: F401
    MAX_STEPS,
    choice,
    duration,
    durations,
    flag,
    lr_value,
    lr_values,
    real,
    schedule,
)

__all__ = ["MAX_DEPTH", "MAX_PERIODIC_EVENTS", "PERIODIC_EVENT_KINDS", "REGISTRY", "Schedule", "every"]

#: the deepest schedule that can be built, counted as :func:`lrkit.parse` and :func:`lrkit.from_dict`
#: count nesting (a schedule argument is one level, a list one more, a number in it one more); the
#: spec reader and the loaders accept exactly this depth (``lrkit.spec._MAX_DEPTH``), so every schedule
#: that can be built can be saved, loaded and resumed from its checkpoint.  It also keeps evaluation's
#: recursion far from Python's limit.
MAX_DEPTH = 64
#: steps at which a new schedule is evaluated once, at construction, to refuse parameters whose
#: derived constants overflow float64 (see :meth:`Schedule._check_finite`); phase changes are added.
_PROBE_STEPS = (0.0, 1.0, 2.0**20, 2.0**40)
_MAX_PROBES = 256

#: periodic schedules list at most this many events per node (:meth:`Schedule.phase_events`).
MAX_PERIODIC_EVENTS = 64
#: event kinds that repeat; without a horizon, ``describe`` keeps the first two of each.
PERIODIC_EVENT_KINDS = frozenset({"drop", "restart", "cycle peak", "cycle start"})

#: spec name -> schedule class; filled by ``Schedule.__init_subclass__`` (the one registry: :mod:`lrkit.registry`).
REGISTRY: dict[str, type[Schedule]] = _registry.SCHEDULES

_NO_DEFAULT = inspect.Parameter.empty
#: NumPy arrays and CPU torch tensors larger than this many steps are evaluated block by block (see
#: Schedule._eval_blocks).  16 Ki float64 steps are 128 KB per temporary, so the few temporaries a formula
#: keeps alive fit a core's L2 cache; 64 Ki blocks were 1.3–2.5× slower on the 2-core CI machine, 8 Ki
#: no faster (benchmarks/bench_curves.py, which runs the hand-written baseline in the same blocks).
_BLOCK = 1 << 14
_NO_STEP: Any = object()  # s() without a step: a TypeError that says how to use a schedule


class Schedule:
    """A learning-rate schedule: a pure, closed-form function of the step.

    ``s(step)`` accepts an ``int``/``float`` (returns a Python ``float``), a
    NumPy array (returns a float64 array of the same shape), a torch tensor or
    a jax array (returns the same kind), computed without a Python loop over
    steps.  Steps must be finite and ``>= 0``.

    Subclasses define ``__init__`` (validate, then ``self._init(**params)``)
    and ``_eval(t, xp)``, the formula written once against the namespace
    ``xp`` (see :mod:`lrkit._backend`).
    """

    #: name used in specs, ``repr`` and ``to_dict``.
    spec_name: ClassVar[str] = ""
    #: parameter names in signature order (filled automatically).
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    #: how many leading parameters ``repr`` writes positionally.
    _positional: ClassVar[int] = 1
    #: parameters that hold durations (an int, a duration string, or a list of them).
    _duration_fields: ClassVar[frozenset[str]] = frozenset()
    #: duration parameters that may be omitted (``None``), meaning "until the end of training":
    #: ``resolve(total_steps=N)`` fills them with what is left of the run from where this schedule starts.
    _open_ended_fields: ClassVar[frozenset[str]] = frozenset()

    _resolved: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            sig = inspect.signature(cls.__init__)
            params = [p for p in sig.parameters.values() if p.name != "self"]
            cls._fields = tuple(p.name for p in params)
            cls._defaults = {p.name: p.default for p in params if p.default is not _NO_DEFAULT}
        if cls.spec_name:
            _registry.register_schedule(cls)

    # -- construction -------------------------------------------------------
    def _init(self, **params: Any) -> None:
        for name, value in params.items():
            object.__setattr__(self, name, value)
        resolved = all(_is_resolved(getattr(self, f), f in self._duration_fields) for f in self._fields) and not any(
            getattr(self, f) is None for f in self._open_ended_fields
        )
        object.__setattr__(self, "_resolved", resolved)
        object.__setattr__(self, "_depth", self._nesting())
        if resolved:
            self._derive()
            self._check_finite()

    def _nesting(self) -> int:
        """How deep the spec of this schedule nests, counted as the spec reader and loaders count.

        A number parameter is 1 level below the schedule, a list 1 and its items 2, a child schedule
        1 plus its own depth.  Beyond :data:`MAX_DEPTH` construction raises ``ValueError``.
        """
        depth = 1
        for f in self._fields:
            value = getattr(self, f)
            if isinstance(value, Schedule):
                depth = max(depth, 1 + value._depth)
            elif isinstance(value, tuple) and value:
                depth = max(depth, 2 + max(x._depth if isinstance(x, Schedule) else 0 for x in value))
        if depth > MAX_DEPTH:
            raise ValueError(
                f"{self.spec_name}(): the schedule would nest {depth} levels deep, more than the {MAX_DEPTH} "
                "levels lrkit.parse, from_dict and load accept (so it could not be saved or resumed): "
                "flatten it (one scale(s, a * b) instead of scale(scale(s, a), b), one join of many pieces)"
            )
        return depth

    def _check_finite(self) -> None:
        """Refuse parameters that are valid one by one but overflow together (``scale(constant(1e300), 1e300)``).

        The schedule is evaluated once at steps 0, 1, 2**20, 2**40 and at every phase change ``b``
        of its tree and ``b - 1`` (at most 256 steps, one vectorized call, plus the scalar path at
        step 0): a value that is NaN or infinite, or a ZeroDivisionError/OverflowError from a
        derived constant, is a ``ValueError`` naming the schedule and its parameters.  This cannot
        prove every step finite, but it catches derived constants that overflow (the values at the
        ends of each phase are where they show).  Cost: about 30 µs (cosine) to 70 µs (a warmup
        around a multistep) per construction, measured.
        """
        points = set(_PROBE_STEPS)
        self._probe_points(0.0, 0.0, math.inf, points)
        grid = np.fromiter(sorted(points)[:_MAX_PROBES], dtype=np.float64)
        try:
            with np.errstate(all="ignore"):
                vals = np.asarray(self._eval(grid, _backend.NUMPY), dtype=np.float64)
                first = float(self._eval(0.0, _backend.SCALAR))
        except (ArithmeticError, ValueError) as exc:
            raise ValueError(
                f"{_short(self)}: the parameters give no finite learning rate ({type(exc).__name__}: {exc}); "
                "some parameter is too large or too small"
            ) from None
        vals = np.broadcast_to(vals, grid.shape)
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size or not math.isfinite(first):
            step, value = (grid[bad[0]], vals[bad[0]]) if bad.size else (0.0, first)
            raise ValueError(
                f"{_short(self)}: the parameters give {float(value)!r} at step {int(step)}: some parameter is "
                "too large or too small (their product or ratio overflows float64)"
            )

    def _probe_points(self, offset: float, lo: float, hi: float, points: set[float]) -> None:
        # The phase changes of the whole tree, in this schedule's clock (like lrkit._phases.events).
        if len(points) >= _MAX_PROBES:
            return
        for local, _ in self.phase_events(hi - offset):
            t = offset + float(local)
            if lo <= t < hi and t <= 2.0**52:
                points.update((math.ceil(t), max(math.ceil(t) - 1.0, 0.0)))
        for child, start, end in self.child_clocks():
            a, b = offset + start, offset + end
            if max(lo, a) < min(hi, b):
                child._probe_points(a, max(lo, a), min(hi, b), points)

    def _derive(self) -> None:
        """Hook: precompute constants of the formula (only once every duration is in steps).

        Set them with ``object.__setattr__(self, "_name", value)``: they are not
        parameters, so equality, hashing, specs and pickling ignore them.
        """

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; use .replace({name}=...) for a new one")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    # -- evaluation ---------------------------------------------------------
    def __call__(self, step: Any = _NO_STEP) -> Any:
        if step is _NO_STEP:
            raise TypeError(
                f"{self.spec_name}() is a function of the step: call it as s(step), with the number of optimizer "
                "updates already applied. Keras optimizers call a plain callable with no argument: wrap the schedule "
                "as lrkit.keras.LearningRateSchedule(s) (PyTorch: lrkit.torch.Scheduler; optax: pass s itself)"
            )
        if not self._resolved:
            raise ValueError(
                f"{self!r} has durations in epochs or percent, or lengths left to the end of training: "
                "call .resolve(...) before evaluating it"
            )
        if type(step) is int and 0 <= step <= _backend.MAX_INT_STEP:  # fast path for the training loop
            try:
                fast = self._fast
            except AttributeError:
                fast = self.scalar_function()
            return float(fast(float(step)))
        if isinstance(step, np.ndarray):
            if step.size > _BLOCK:
                return self._eval_blocks(step)
        elif _large_cpu_tensor(step):
            return self._eval_tensor_blocks(step)
        xp, t = _backend.prepare(step)
        return xp.finalize(xp.evaluate(self._eval, t), t, step)

    def _eval_blocks(self, step: np.ndarray) -> np.ndarray:
        """A large NumPy array of steps, evaluated in blocks of :data:`_BLOCK` steps.

        The same formula on slices: the temporaries of one block stay in the CPU
        cache instead of each being a fresh array the size of the input, so a
        10M-step curve needs the output array and a few small blocks of memory.
        Bit-identical to one evaluation of the whole array (elementwise math).
        """
        flat = step.reshape(-1)
        _backend.prepare(flat[:1])  # the dtype checks (TypeError), once; the values are checked per block
        return self._blockwise(flat.size, lambda a, b: flat[a:b]).reshape(step.shape)

    def _eval_range(self, steps: int) -> np.ndarray:
        """``self(np.arange(steps))`` as float64, in blocks, without building the ``arange`` (memory: the result).

        The curve of a whole run for plots and reports (:func:`lrkit._phases.values`); the same bits as
        ``self(np.arange(steps))``.
        """
        if not self._resolved:
            self(0)  # raises the "call .resolve(...)" ValueError of __call__
        return self._blockwise(steps, lambda a, b: np.arange(a, b, dtype=np.float64), valid=True)

    def _blockwise(self, size: int, block: Callable[[int, int], np.ndarray], valid: bool = False) -> np.ndarray:
        """The one blocked NumPy loop: ``out[a:b] = formula(block(a, b))`` for blocks of :data:`_BLOCK` steps.

        ``block`` returns the steps ``a..b-1`` of a NumPy array of real numbers; ``valid``: they are
        float64 steps known finite and >= 0, in a fresh array (an ``arange``), so neither checked nor copied.
        """
        out = np.empty(size, dtype=np.float64)
        formula, xp = self._eval, _backend.NUMPY
        for a in range(0, size, _BLOCK):
            b = min(a + _BLOCK, size)
            part = block(a, b)
            if valid:
                t = part
            else:
                t = part.astype(np.float64)  # a copy, as prepare() makes: the formula gets its own array
                # prepare()'s checks (finite, >= 0) in one or two reductions without boolean temporaries
                # (3× cheaper per block); min/max propagate NaN, which fails the comparisons, and on a
                # bad block prepare() itself raises its message
                if not (part.min() >= 0 if part.dtype.kind in "iu" else t.min() >= 0.0 and t.max() < math.inf):
                    _backend.prepare(part)
            out[a:b] = xp.finalize(formula(t, xp), t)
        return out

    def _eval_tensor_blocks(self, step: Any) -> Any:
        """A large CPU torch tensor of steps, evaluated in blocks of :data:`_BLOCK` steps.

        As :meth:`_eval_blocks`, for the same reason: each of a formula's ~10–20 torch ops on a
        10M-step tensor would allocate (and the kernel zero) a fresh 80 MB temporary; on
        :data:`_BLOCK`-step slices they stay in the CPU cache.  Bit-identical to one evaluation of the whole tensor
        (elementwise ops); the result has the dtype one evaluation gives (the step's floating dtype,
        float64 for integer steps).  Only for CPU tensors outside autograd and ``torch.compile``
        (see :func:`_large_cpu_tensor`): on a GPU one launch per op over the whole tensor is faster.
        """
        torch = sys.modules["torch"]
        flat = step.reshape(-1)
        xp, _ = _backend.prepare(flat[:1])  # the torch namespace, and the dtype checks (bool, complex)
        out = None
        for a in range(0, flat.numel(), _BLOCK):
            part = flat[a : a + _BLOCK]
            # prepare()'s checks (finite, >= 0) in one pass without temporaries: aminmax propagates NaN,
            # which fails both comparisons; on a bad block prepare() itself raises its message
            lo, hi = torch.aminmax(part)
            if not (bool(lo >= 0) and bool(torch.isfinite(hi))):
                _backend.prepare(part)
            t = part.to(torch.float64)  # as prepare() does on CPU; finalize casts back to the step's dtype
            value = xp.finalize(self._eval(t, xp), t, part)
            if out is None:
                out = value.new_empty(flat.shape)
            out[a : a + _BLOCK] = value
        return out.reshape(step.shape)

    def _eval(self, t: Any, xp: _backend.Namespace) -> Any:
        raise NotImplementedError

    def scalar_function(self) -> Callable[[float], Any]:
        """The formula as a function of one float step ``t >= 0``, for training loops.

        Built once per schedule: the ``_eval`` formula traced into straight-line
        Python (:mod:`lrkit._compile`), which returns exactly what the
        interpreted formula returns, checked at the schedule's boundaries
        before use; a schedule that cannot be traced gets its interpreted
        formula.  The step is not validated: callers pass a finite float >= 0.
        """
        try:
            return self._fast  # type: ignore[no-any-return]
        except AttributeError:
            pass
        if not self._resolved:
            raise ValueError(
                f"{self!r} has durations in epochs or percent, or lengths left to the end of training: "
                "call .resolve(...) before evaluating it"
            )
        from ._compile import compile_scalar

        fast = compile_scalar(self) or partial(self._eval, xp=_backend.SCALAR)
        object.__setattr__(self, "_fast", fast)
        return fast

    # -- data ---------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The constructor arguments, in signature order."""
        return {f: getattr(self, f) for f in self._fields}

    def replace(self, **changes: Any) -> Schedule:
        """A new schedule with some parameters changed (validated again)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{self.spec_name}() has no parameter {sorted(unknown)[0]!r}; it has {list(self._fields)}")
        return type(self)(**{**self.params(), **changes})

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``{"type": name, **params}``) that JSON, YAML and TOML can hold."""
        out: dict[str, Any] = {"type": self.spec_name}
        for name, value in self.params().items():
            if value is None:
                continue  # TOML has no null; an absent key means the default None
            out[name] = _to_data(value)
        return out

    def children(self) -> tuple[Schedule, ...]:
        """The schedules this one is built from (empty for building blocks)."""
        kids: list[Schedule] = []
        for value in self.params().values():
            if isinstance(value, Schedule):
                kids.append(value)
            elif isinstance(value, tuple):
                kids.extend(v for v in value if isinstance(v, Schedule))
        return tuple(kids)

    def walk(self) -> Iterator[Schedule]:
        """This schedule and every schedule inside it, depth first."""
        yield self
        for kid in self.children():
            yield from kid.walk()

    # -- structure: the schedule describes itself ------------------------------
    def phase_events(self, horizon: float) -> Iterable[tuple[float, str]]:
        """This node's own phase changes, in its own clock: ``(step, kind)`` pairs.

        ``step`` is the first step of the new phase (a float is rounded up to
        the next whole step); ``kind`` is a short label such as ``"warmup end"``,
        ``"milestone"``, ``"decay end"`` or ``"restart"`` (``describe`` warns
        about ``"warmup end"`` and ``"decay end"``).  Periodic schedules list
        the events before ``horizon`` (at most :data:`MAX_PERIODIC_EVENTS`).
        Composition nodes list only their own events; :meth:`child_clocks`
        says where their children run.

        Override it from the same constants the formula uses.  The default,
        for a schedule that declares nothing, guesses: every whole-step
        duration parameter is a phase change.
        """
        for field in sorted(self._duration_fields):
            value = getattr(self, field)
            for x in value if isinstance(value, tuple) else (value,):
                if isinstance(x, int) and x > 0:
                    yield float(x), field

    def child_clocks(self) -> Iterable[tuple[Schedule, float, float]]:
        """``(child, start, end)``: the child runs on the clock ``t - start`` while ``start <= t < end``.

        The default: every child shares this node's clock for all ``t``.
        ``join`` and the prefix ``warmup`` override it.
        """
        return [(kid, 0.0, math.inf) for kid in self.children()]

    def child_event_step(self, t: float) -> float:
        """Where a child's phase change at step ``t`` (this node's clock) shows in this node's values.

        The default: at ``t``.  A node that samples its children on a coarser grid moves it to the
        grid step where the change first shows (``staircase``: the next multiple of ``every``).
        """
        return t

    def structural_warnings(self) -> list[str]:
        """Likely mistakes in this node visible without the run length (``lrkit describe`` prints them)."""
        return []

    @property
    def is_resolved(self) -> bool:
        """False while some duration is still in epochs or percent."""
        return self._resolved

    def resolve(self, *, steps_per_epoch: int | None = None, total_steps: int | None = None) -> Schedule:
        """Turn every duration (``'10ep'``, ``'5%'``...) into whole steps, and fill omitted lengths.

        Rounding rule: nearest integer, halves up (see :mod:`lrkit.durations`).
        A length left out (``cosine(3e-4)``: "until the end of training") becomes
        what is left of the run from where that schedule starts: after a prefix
        warmup, after a join boundary.  The end convention is HF's, optax's and
        Keras': the decay reaches its floor at step ``total_steps``, the step
        count after the last update.  Raises ``ValueError`` naming the parameter
        when a duration needs ``steps_per_epoch`` or ``total_steps`` and it was
        not given.
        """
        for name, value in (("steps_per_epoch", steps_per_epoch), ("total_steps", total_steps)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self._resolved:
            return self
        return self._resolve_within(steps_per_epoch, total_steps, 0, total_steps)

    def _resolve_within(self, steps_per_epoch: int | None, total: int | None, start: int, end: int | None) -> Schedule:
        """Resolve this node, which runs from step ``start`` of the run until ``end`` (``None``: unknown)."""
        if self._resolved:
            return self
        kw = {"steps_per_epoch": steps_per_epoch, "total_steps": total}
        own: dict[str, Any] = {}
        for name, value in self.params().items():
            if name in self._duration_fields and value is not None and not _holds_schedules(value):
                if isinstance(value, tuple):
                    value = [resolve_duration(v, name=f"{self.spec_name}.{name}", **kw) for v in value]
                else:
                    value = resolve_duration(value, name=f"{self.spec_name}.{name}", **kw)
            own[name] = value
        missing = [f for f in self._fields if f in self._open_ended_fields and own[f] is None]
        if missing:
            if end is None:
                raise ValueError(
                    f"{self.spec_name}.{missing[0]} is omitted, meaning 'until the end of training': "
                    "pass total_steps to resolve() it"
                )
            own = self._fill_open_ended(own, missing, end - start, start, total)
        shell = type(self)(**own)
        resolved_kids = []
        for child, child_start, child_end in shell.child_clocks():
            a = start + int(child_start)
            b = end if math.isinf(child_end) else start + int(child_end)
            if end is not None and b is not None:
                b = min(b, end)
            resolved_kids.append(child._resolve_within(steps_per_epoch, total, a, b))
        kids = iter(resolved_kids)
        new: dict[str, Any] = {}
        for name, value in shell.params().items():
            if isinstance(value, Schedule):
                value = next(kids)
            elif _holds_schedules(value):
                value = [next(kids) for _ in value]
            new[name] = value
        return type(self)(**new)

    def _fill_open_ended(
        self, params: dict[str, Any], missing: list[str], rest: int, start: int, total: int | None
    ) -> dict[str, Any]:
        """Fill the omitted lengths ``missing`` with ``rest``, the steps left from this schedule's start.

        Override it when a schedule splits the rest between several lengths (``wsd``).
        """
        if rest < 1:
            raise ValueError(
                f"{self.spec_name}.{missing[0]} is omitted ('until the end of training'), but this schedule starts "
                f"at step {start} of a {total}-step run: no step is left for it"
            )
        return {**params, **dict.fromkeys(missing, rest)}

    @property
    def is_multiplier(self) -> bool:
        """True when the values are factors of a base learning rate, not learning rates.

        Building blocks give learning rates; :func:`lrkit.multiplier` marks a
        schedule as factors (the peers' factor presets, such as HF's, return
        one).  ``lrkit.torch.Scheduler(opt, lr=...)`` refuses a multiplier;
        ``scale(multiplier, lr)`` is a learning rate again.
        """
        return False

    # -- value semantics ----------------------------------------------------
    def _key(self) -> tuple[Any, ...]:
        return (type(self), *(getattr(self, f) for f in self._fields))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return self._key() == other._key()

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self._key())

    def __reduce__(self) -> tuple[Any, ...]:
        return (_construct, (type(self), self.params()))

    def __copy__(self) -> Schedule:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Schedule:
        return self

    def __repr__(self) -> str:
        parts: list[str] = []
        for i, (name, value) in enumerate(self.params().items()):
            if i < self._positional and name not in self._defaults:
                parts.append(_spec_value(value))
            elif name in self._defaults and _same(value, self._defaults[name]):
                continue
            else:
                parts.append(f"{name}={_spec_value(value)}")
        return f"{self.spec_name}({', '.join(parts)})"

    def _repr_png_(self) -> bytes | None:
        """Jupyter shows a schedule as its plot (matplotlib is imported only here).

        ``None`` (no matplotlib, unresolved durations) falls back to the text repr.
        """
        from .plotting import render_png

        return render_png(self)

    # -- algebra ------------------------------------------------------------
    def __mul__(self, other: Any) -> Schedule:
        from .composition import product, scale

        if isinstance(other, Schedule):
            return product([self, other])
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return scale(self, float(other))
        return NotImplemented

    __rmul__ = __mul__


def _large_cpu_tensor(step: Any) -> bool:
    """``step`` is a torch tensor worth evaluating in blocks: CPU, over :data:`_BLOCK` steps, no autograd, eager."""
    torch = sys.modules.get("torch")  # never imports torch: a tensor exists only if torch was imported
    if torch is None or not isinstance(step, torch.Tensor):
        return False
    return (
        step.numel() > _BLOCK
        and step.device.type == "cpu"
        and not step.requires_grad
        # a traced graph should see one evaluation, not a Python loop of them
        and not getattr(getattr(torch, "compiler", None), "is_compiling", lambda: False)()
    )


def _construct(cls: type[Schedule], params: Mapping[str, Any]) -> Schedule:
    return cls(**params)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        return a == float(b)
    return type(a) is type(b) and a == b


def _holds_schedules(value: Any) -> bool:
    return isinstance(value, tuple) and bool(value) and isinstance(value[0], Schedule)


def _is_resolved(value: Any, is_duration: bool) -> bool:
    if isinstance(value, Schedule):
        return value._resolved
    if isinstance(value, tuple):
        return all(_is_resolved(v, is_duration) for v in value)
    return not (is_duration and isinstance(value, str))


def _to_data(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_to_data(v) for v in value]
    return value


def _spec_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_spec_value(v) for v in value) + "]"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return repr(value)


def _short(s: Schedule, limit: int = 200) -> str:
    text = repr(s)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def every(first: float, period: float, horizon: float, kind: str) -> Iterator[tuple[float, str]]:
    """``(first + k * period, kind)`` for ``k = 0, 1, ...`` below ``horizon``, at most :data:`MAX_PERIODIC_EVENTS`."""
    for k in range(MAX_PERIODIC_EVENTS):
        t = first + k * period
        if t >= horizon:
            return
        yield t, kind
