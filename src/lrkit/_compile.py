"""Compile a schedule's formula into one straight-line Python function of a float step.

Why: a training loop evaluates one step at a time, and the interpreted path
walks the schedule tree through a dozen small function calls (the shapes, the
namespace), each costing more than the arithmetic it wraps.  Here the *same*
``_eval`` formula is traced once with symbolic values and emitted as flat
code, so the formula still exists only once.

How:
* :class:`_Trace` is an array namespace (like NumPy's) whose values are
  :class:`Sym` nodes; running ``schedule._eval(t, TRACE)`` records every
  operation in creation order, which is a topological order.
* ``where(c, a, b)`` becomes an ``if``/``else`` whose branches compute only
  the nodes that branch alone needs, so one step evaluates one branch (a
  ``join`` evaluates one piece), while the vectorized backends keep
  evaluating both.
* The generated source holds only generated names, operators and ``repr`` of
  finite numbers; every other constant (tuples, ``inf``) is bound by name in
  the function's globals.  Nothing from the user is ever pasted into code.

Contract: the compiled function returns exactly (``==``, same float) what
``schedule._eval(t, SCALAR)`` returns, because it performs the same Python
float operations in the same order with the same ``math`` functions.  Every
compiled function is checked against the interpreted path at a set of steps
before it is used, and any schedule that cannot be traced (control flow on
the step in a user-defined ``_eval``, a very large tree) simply keeps the
interpreted path.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._backend import SCALAR, Namespace

if TYPE_CHECKING:
    from .base import Schedule

__all__ = ["compile_scalar"]

#: schedules whose trace is larger than this keep the interpreted path.
MAX_NODES = 4000
#: ``if`` blocks nested deeper than this keep the interpreted path (CPython's parser limit is ~100).
MAX_DEPTH = 40


class _Untraceable(Exception):
    """The formula needs the step's value while tracing (Python control flow on ``t``)."""


class Sym:
    """A traced value: an operation and its arguments (other Syms or Python constants)."""

    __slots__ = ("args", "index", "op", "tracer")

    def __init__(self, tracer: _Tracer, op: str, args: tuple[Any, ...]) -> None:
        self.tracer = tracer
        self.op = op
        self.args = args
        self.index = len(tracer.nodes)
        tracer.nodes.append(self)

    # arithmetic ------------------------------------------------------------------
    def _bin(self, op: str, other: Any, reflected: bool = False) -> Sym:
        if not isinstance(other, (Sym, int, float)) or isinstance(other, bool):
            raise _Untraceable(f"operand {type(other).__name__}")
        return Sym(self.tracer, op, (other, self) if reflected else (self, other))

    def __add__(self, o: Any) -> Sym:
        return self._bin("+", o)

    def __radd__(self, o: Any) -> Sym:
        return self._bin("+", o, True)

    def __sub__(self, o: Any) -> Sym:
        return self._bin("-", o)

    def __rsub__(self, o: Any) -> Sym:
        return self._bin("-", o, True)

    def __mul__(self, o: Any) -> Sym:
        return self._bin("*", o)

    def __rmul__(self, o: Any) -> Sym:
        return self._bin("*", o, True)

    def __truediv__(self, o: Any) -> Sym:
        return self._bin("/", o)

    def __rtruediv__(self, o: Any) -> Sym:
        return self._bin("/", o, True)

    def __pow__(self, o: Any) -> Sym:
        return self._bin("**", o)

    def __rpow__(self, o: Any) -> Sym:
        return self._bin("**", o, True)

    def __neg__(self) -> Sym:
        return Sym(self.tracer, "neg", (self,))

    def __lt__(self, o: Any) -> Sym:
        return self._bin("<", o)

    def __le__(self, o: Any) -> Sym:
        return self._bin("<=", o)

    def __gt__(self, o: Any) -> Sym:
        return self._bin(">", o)

    def __ge__(self, o: Any) -> Sym:
        return self._bin(">=", o)

    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        raise _Untraceable("== on the step")

    def __ne__(self, other: object) -> bool:
        raise _Untraceable("!= on the step")

    def __bool__(self) -> bool:
        raise _Untraceable("control flow on the step")

    def __float__(self) -> float:
        raise _Untraceable("float() of the step")

    def __index__(self) -> int:
        raise _Untraceable("the step used as an index")


class _Tracer:
    def __init__(self) -> None:
        self.nodes: list[Sym] = []


def _is_sym(x: Any) -> bool:
    return isinstance(x, Sym)


class _Trace(Namespace):
    """The namespace of a trace: each function records a node (or computes, on constants)."""

    name = "trace"

    def __init__(self, tracer: _Tracer) -> None:
        self.tracer = tracer

    def _call(self, fn: str, *args: Any) -> Any:
        return Sym(self.tracer, "call", (fn, *args))

    def where(self, cond: Any, a: Any, b: Any) -> Any:
        if not _is_sym(cond):
            return a if cond else b
        return Sym(self.tracer, "where", (cond, a, b))

    def minimum(self, a: Any, b: Any) -> Any:
        if not (_is_sym(a) or _is_sym(b)):
            return SCALAR.minimum(a, b)
        return Sym(self.tracer, "min", (a, b))

    def maximum(self, a: Any, b: Any) -> Any:
        if not (_is_sym(a) or _is_sym(b)):
            return SCALAR.maximum(a, b)
        return Sym(self.tracer, "max", (a, b))

    def _unary(self, fn: str, x: Any) -> Any:
        if not _is_sym(x):
            return getattr(SCALAR, fn)(x)
        return self._call(fn, x)

    def cos(self, x: Any) -> Any:
        return self._unary("cos", x)

    def exp(self, x: Any) -> Any:
        return self._unary("exp", x)

    def log(self, x: Any) -> Any:
        return self._unary("log", x)

    def sqrt(self, x: Any) -> Any:
        return self._unary("sqrt", x)

    def tanh(self, x: Any) -> Any:
        return self._unary("tanh", x)

    def floor(self, x: Any) -> Any:
        return self._unary("floor", x)

    def ceil(self, x: Any) -> Any:
        return self._unary("ceil", x)

    def searchsorted_right(self, edges: Sequence[float], t: Any) -> Any:
        if not _is_sym(t):
            return SCALAR.searchsorted_right(edges, t)
        return self._call("bisect_right", tuple(edges), t)

    def searchsorted_left(self, edges: Sequence[float], t: Any) -> Any:
        if not _is_sym(t):
            return SCALAR.searchsorted_left(edges, t)
        return self._call("bisect_left", tuple(edges), t)

    def take(self, values: Sequence[float], index: Any, like: Any) -> Any:
        if not _is_sym(index):
            return values[index]
        return Sym(self.tracer, "take", (tuple(values), index))

    def finalize(self, out: Any, t: Any, step: Any = None) -> Any:
        return out


_FUNCTIONS: dict[str, Any] = {
    "cos": math.cos,
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "tanh": math.tanh,
    "floor": math.floor,
    "ceil": math.ceil,
    "bisect_right": bisect.bisect_right,
    "bisect_left": bisect.bisect_left,
}

_Context = tuple[tuple[int, bool], ...]


class _Emitter:
    def __init__(self, nodes: list[Sym], root: Any) -> None:
        self.nodes = nodes
        self.root = root
        self.globals: dict[str, Any] = {f"_{name}": fn for name, fn in _FUNCTIONS.items()}
        self.constants: dict[int, str] = {}
        self.lines: list[str] = []

    def const(self, value: Any) -> str:
        # Exact types only: a subclass (np.float64, an IntEnum, a user's float) has its own repr, which is
        # its code, not a number; it is bound by name like any other object.
        if type(value) is bool:
            return repr(value)
        if type(value) is int or (type(value) is float and math.isfinite(value)):
            return f"({value!r})"  # repr of a float reads back to the same float
        key = id(value)
        if key not in self.constants:
            name = f"_c{len(self.constants)}"
            self.constants[key] = name
            self.globals[name] = value
        return self.constants[key]

    def ref(self, x: Any) -> str:
        return f"v{x.index}" if isinstance(x, Sym) else self.const(x)

    def expression(self, node: Sym) -> str:
        op, a = node.op, node.args
        if op == "neg":
            return f"-{self.ref(a[0])}"
        if op == "min":
            x, y = self.ref(a[0]), self.ref(a[1])
            return f"{x} if {x} <= {y} else {y}"  # the scalar namespace's minimum, ties keep the first
        if op == "max":
            x, y = self.ref(a[0]), self.ref(a[1])
            return f"{x} if {x} >= {y} else {y}"
        if op == "call":
            fn, *args = a
            return f"_{fn}({', '.join(self.ref(x) for x in args)})"
        if op == "take":
            return f"{self.const(a[0])}[{self.ref(a[1])}]"
        return f"{self.ref(a[0])} {op} {self.ref(a[1])}"

    def contexts(self) -> dict[int, _Context]:
        """The innermost ``where`` branch that needs each node (the longest common prefix of its uses)."""
        ctx: dict[int, _Context] = {}
        stack: list[tuple[Any, _Context]] = [(self.root, ())]
        while stack:
            node, where = stack.pop()
            if not isinstance(node, Sym):
                continue
            old = ctx.get(node.index)
            if old is None:
                new = where
            else:
                k = 0
                while k < min(len(old), len(where)) and old[k] == where[k]:
                    k += 1
                new = old[:k]
                if new == old:
                    continue
            ctx[node.index] = new
            if node.op == "where":
                cond, a, b = node.args
                stack.append((cond, new))
                stack.append((a, (*new, (node.index, True))))
                stack.append((b, (*new, (node.index, False))))
            else:
                stack.extend((x, new) for x in node.args if isinstance(x, Sym))
        return ctx

    def emit(self) -> str:
        ctx = self.contexts()
        members: dict[_Context, list[Sym]] = {}
        for index in sorted(ctx):
            members.setdefault(ctx[index], []).append(self.nodes[index])
        if any(len(c) > MAX_DEPTH for c in members):
            raise _Untraceable("branches nested too deeply")
        self.block(members, (), 1)
        return "def _scalar(t):\n" + "\n".join(self.lines) + f"\n    return {self.ref(self.root)}\n"

    def block(self, members: dict[_Context, list[Sym]], where: _Context, depth: int) -> None:
        pad = "    " * depth
        for node in members.get(where, ()):
            if node.op == "t":
                self.lines.append(f"{pad}v{node.index} = t")
            elif node.op == "where":
                cond, a, b = node.args
                self.lines.append(f"{pad}if {self.ref(cond)}:")
                self.block(members, (*where, (node.index, True)), depth + 1)
                self.lines.append(f"{pad}    v{node.index} = {self.ref(a)}")
                self.lines.append(f"{pad}else:")
                self.block(members, (*where, (node.index, False)), depth + 1)
                self.lines.append(f"{pad}    v{node.index} = {self.ref(b)}")
            else:
                self.lines.append(f"{pad}v{node.index} = {self.expression(node)}")


def trace_source(schedule: Schedule) -> tuple[str, dict[str, Any]]:
    """The generated source of ``schedule``'s scalar function and the globals it needs."""
    tracer = _Tracer()
    t = Sym(tracer, "t", ())
    try:
        root = schedule._eval(t, _Trace(tracer))
    except _Untraceable:
        raise
    except Exception as exc:  # e.g. math.cos(Sym) in a user formula
        raise _Untraceable(f"{type(exc).__name__}: {exc}") from None
    if len(tracer.nodes) > MAX_NODES:
        raise _Untraceable("trace too large")
    emitter = _Emitter(tracer.nodes, root)
    return emitter.emit(), emitter.globals


def _probe_steps(schedule: Schedule) -> list[float]:
    """Steps at which the compiled function must equal the interpreted one: ends, events and their neighbours."""
    from ._phases import events  # the structure module; imported here, it imports nothing of this one

    steps = {0.0, 1.0, 2.0, 7.0, 99.0, 1000.0, 12345.0, 2.0**31, 2.0**40}
    try:
        for e in events(schedule, None):
            steps.update({float(e.step) - 1.0, float(e.step), float(e.step) + 1.0})
    except (ValueError, TypeError, ArithmeticError):
        pass
    return sorted(s for s in steps if s >= 0.0)


def compile_scalar(schedule: Schedule) -> Callable[[float], Any] | None:
    """``schedule``'s formula as one Python function of a float step, or ``None`` when it cannot be compiled.

    The function returns exactly what ``schedule._eval(t, SCALAR)`` returns.  Anything unexpected while
    tracing or checking (a user-defined formula doing what a trace cannot follow) means ``None``: the
    interpreted formula stays in use, and it reports its own errors when it is evaluated.
    """
    try:
        source, namespace = trace_source(schedule)
        exec(compile(source, f"<lrkit {schedule.spec_name}>", "exec"), namespace)  # generated code, see module doc
    except (_Untraceable, RecursionError, MemoryError, SyntaxError):
        return None
    except Exception:  # a user formula that fails on symbolic values in its own way
        return None
    fn: Callable[[float], Any] = namespace["_scalar"]
    for t in _probe_steps(schedule):
        if not _same(_outcome(fn, t), _outcome(lambda x: schedule._eval(x, SCALAR), t)):
            return None
    return fn


def _outcome(fn: Callable[[float], Any], t: float) -> Any:
    """``fn(t)``, or the exception's type: both paths must agree on errors too."""
    try:
        return fn(t)
    except Exception as exc:
        return type(exc)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, type) or isinstance(b, type):  # an exception on either path
        return a is b
    a, b = float(a), float(b)
    return a == b or (math.isnan(a) and math.isnan(b))
