"""The per-update step of a :class:`~lrkit.torch.Scheduler`, generated once per plan (issue 13).

A training loop pays, per update, for torch calling lrkit's optimizer
post-hook and for ``Scheduler.step()``.  With every group on one schedule at a
plain key (the common case), this module builds the two functions that do
the work as straight-line code, with the schedule's formula inlined:

* ``write(t)``: write ``base * (s(t) * plateau scale)`` to every group and
  return the values (None if the optimizer's groups changed in number): one
  float when every group has the same base (one group, or no per-group
  bases), the value of each group; else a list.  A float, not ``[v] * n``:
  a list built and freed on every update costs more than the formula's
  arithmetic with 16 groups, and ``get_last_lr()`` builds it when asked;
* ``after(optimizer, args, kwargs)``: the post-hook's common update (count it,
  then ``write``'s body), handing anything unusual to the generic hook.

The formula is the source :func:`lrkit._compile.trace_source` emits for
:meth:`Schedule.scalar_function` (the same Python float operations in the
same order, so the same floats; tests compare with ``==``).  Like there, the
generated text holds only generated names, fixed keywords and no value from
the user: the bases, the key, the helpers are bound by name in the
function's globals.  A schedule that cannot be traced (or whose trace is too
deep for the parser) gets the same two functions with one line instead of the
formula, a call of its evaluator: one call more, the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from types import BuiltinFunctionType
from typing import Any

from lrkit.base import Schedule
from lrkit.plateau import Plateau

#: the hook's prologue: the checks of ``UpdateHooks._after`` that the common update passes.  ``{callback}``: the
#: dynamo test, only when the body calls Python code; ``{seen}``: the first group's "lr" now; ``{amp}``: the
#: found_inf test of an optimizer that GradScaler tells to skip (fused ones).
_HOOK_HEAD = """\
def after(optimizer, args, kwargs):
{callback}    groups_ = optimizer.param_groups
    if len(groups_) != _n_ or {seen} is not _clock_.seen_lr{amp}:
        _outer_(optimizer, args, kwargs)
        return
    step_ = _clock_.updates + 1
    _clock_.updates = step_
    t = step_ + 0.0
"""

_CALLBACK = """\
    if _callback_() is not None:
        _outer_(optimizer, args, kwargs)
        return
"""

_AMP = ' or _getattr_(optimizer, "found_inf", None) is not None'

_HOOK_TAIL = """\
    _clock_.last_lr = _clock_.written
    _clock_.written = values_
    _clock_.last_epoch = step_
    _clock_.seen_lr = {seen}
"""

#: the formula of a schedule that is not inlined: one call of its evaluator (a float function of a float step).
_CALL = """\
def _scalar(t):
    return _evaluate_(t)
"""

_WRITE_HEAD = """\
def write(step_):
    groups_ = _optimizer_.param_groups
    if len(groups_) != _n_:
        return None
    t = step_ + 0.0
"""

_WRITE_TAIL = """\
    return values_
"""


def _body(formula: str, n: int, plateau: bool, equal: bool, floats: bool) -> str:
    """The formula's lines (``v0 = t`` ... ``return vN`` becomes ``r_ = vN``), then the writes.

    ``equal``: every group has the same base, so one value is written to all
    (the same float ``base * r`` the per-group product gives) and returned as
    that float, not a list.  ``floats``:
    every group held a plain float when planned, so the value is stored
    without looking at the old one (see ``Scheduler._plan`` for when it is planned again).
    """
    lines = formula.splitlines()
    if not lines or not lines[0].startswith("def _scalar(t):") or not lines[-1].startswith("    return "):
        raise ValueError("unexpected trace")
    out = [*lines[1:-1], "    r_ = " + lines[-1][len("    return ") :]]
    if plateau:
        out.append("    r_ *= _plateau_.scale")

    def store(indent: str) -> list[str]:
        if floats:
            return [indent + "group_[key_] = v_"]
        return [
            indent + "if group_[key_].__class__ is float:",
            indent + "    group_[key_] = v_",
            indent + "else:",
            indent + "    _slow_write_(group_, v_)",
        ]

    out.append("    key_ = _key_")  # a local: the loop below reads it once per group
    if n == 1:
        out += ["    v_ = _base_ * r_", "    group_ = groups_[0]", *store("    "), "    values_ = v_"]
    elif equal:
        out += ["    v_ = _base_ * r_", "    for group_ in groups_:", *store("        "), "    values_ = v_"]
    else:
        # a loop, not a list comprehension: before Python 3.12 a comprehension is a frame of its own, a Python
        # call that the hook would have to hide from torch.compile (see generate)
        out += [
            "    values_ = []",
            "    for group_, b_ in zip(groups_, _scales_):",
            "        v_ = b_ * r_",
            "        values_.append(v_)",
            *store("        "),
        ]
    return "\n".join(out) + "\n"


def generate(
    schedule: Schedule,
    *,
    optimizer: Any,
    key: str,
    scales: tuple[float, ...],
    plateau: Any,
    slow_write: Callable[[Any, float], None],
    floats: bool,
    evaluate: Callable[[float], float],
    inline: bool,
    tracker: Any = None,
    callback: Callable[[], Any] | None = None,
) -> tuple[Callable[[int], list[float] | float | None], Callable[..., None] | None]:
    """``(write, after)`` for ``schedule``: its formula inlined when ``inline``, else a call of ``evaluate``.

    ``evaluate`` is the schedule's scalar function of a float step
    (:meth:`Schedule.scalar_function`, returning a float); ``inline`` says it is
    the compiled one, whose traced source may then be inlined (an interpreted
    formula is never traced here: its trace was refused or did not check out).

    ``after`` is None without a ``tracker`` (``count="calls"``).  It works on
    ``tracker.clock`` only (never on the scheduler) and hands every unusual
    update to ``tracker.after``, the generic hook.  It asks dynamo's
    ``callback`` whether frames are watched only when its own body calls
    Python code (an evaluator that is not inlined, a write that is not a plain
    float store): the inlined formula calls C functions only (``math``,
    ``bisect``), which dynamo never intercepts.  Only fused optimizers
    (``_step_supports_amp_scaling``, set in their ``__init__``, which is what
    ``GradScaler`` asks) are checked for ``found_inf``.  The names bound in the
    globals end with ``_`` and the formula's are ``t``, ``v<i>`` and
    ``_<math function>``, so they cannot collide.
    """
    from lrkit._compile import trace_source

    n = len(scales)
    shape = (n, plateau is not None, len(set(scales)) == 1, floats)
    try:
        if not inline:
            raise ValueError("not compiled")
        formula, namespace = trace_source(schedule)
        if not all(isinstance(f, BuiltinFunctionType) for f in namespace.values()):
            raise ValueError("a helper written in Python")  # pragma: no cover - the tracer binds math and bisect
        body = _body(formula, *shape)
        compile(_WRITE_HEAD + body + _WRITE_TAIL, "<lrkit.torch check>", "exec")  # very deep traces: parser limits
        # a Plateau subclass may read its scale through Python code (a property): then the test is made too
        calls_python = not floats or (plateau is not None and type(plateau) is not Plateau)
    except Exception:  # not inlined: the same code around one call of the evaluator
        formula, namespace = _CALL, {"_evaluate_": evaluate}
        body = _body(formula, *shape)
        calls_python = True
    names: dict[str, Any] = {
        **namespace,
        "_n_": n,
        "_key_": key,
        "_scales_": scales,
        "_base_": scales[0],
        "_plateau_": plateau,
        "_slow_write_": slow_write,
        "_optimizer_": optimizer,
    }
    source = _WRITE_HEAD + body + _WRITE_TAIL
    exec(compile(source, f"<lrkit.torch write {schedule.spec_name}>", "exec"), names)  # generated, see module doc
    write = names["write"]
    after = None
    if tracker is not None:
        names.update(_callback_=callback, _clock_=tracker.clock, _outer_=tracker.after, _getattr_=getattr)
        # the first group's "lr" as this update leaves it: the value just stored when it is the driven float
        seen_now = 'groups_[0]["lr"]' if key == "lr" and floats else 'groups_[0].get("lr")'
        seen_after = ("v_" if shape[2] else "values_[0]") if key == "lr" and floats else 'groups_[0].get("lr")'
        amp = bool(getattr(optimizer, "_step_supports_amp_scaling", False))
        head = _HOOK_HEAD.format(callback=_CALLBACK if calls_python else "", seen=seen_now, amp=_AMP if amp else "")
        source = head + body + _HOOK_TAIL.format(seen=seen_after)
        exec(compile(source, f"<lrkit.torch hook {schedule.spec_name}>", "exec"), names)  # generated, see module doc
        after = names["after"]
    return write, after
