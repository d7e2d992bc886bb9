"""The per-update step of a :class:`~lrkit.torch.Scheduler`, generated once per plan (issue 13).

A training loop pays, per update, for torch calling lrkit's optimizer
post-hook and for ``Scheduler.step()``.  With every group on one schedule at a
plain key (the common case), this module builds the two functions that do
the work as straight-line code, with the schedule's formula inlined:

* ``write(t)``: write ``base * (s(t) * plateau scale)`` to every group and
  return the values (None if the optimizer's groups changed in number);
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
from typing import Any

from lrkit.base import Schedule

#: the hook's prologue: the checks of ``UpdateHooks._after`` that the common update passes.
_HOOK_HEAD = """\
def after(optimizer, args, kwargs):
    if _callback_() is not None:
        _hidden_(optimizer)
        return
    groups_ = optimizer.param_groups
    if len(groups_) != _n_ or groups_[0].get("lr") is not _tracker_.seen_lr or "found_inf" in optimizer.__dict__:
        _generic_(optimizer)
        return
    sched_ = _ref_()
    if sched_ is None or sched_._device_step is not None:
        _generic_(optimizer)
        return
    step_ = _tracker_.updates + 1
    _tracker_.updates = step_
    t = step_ + 0.0
"""

_HOOK_TAIL = """\
    sched_._last_lr = sched_._written
    sched_._written = values_
    sched_.last_epoch = step_
    _tracker_.seen_lr = {seen}
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
    (the same float ``base * r`` the per-group product gives).  ``floats``:
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
            return [indent + "group_[_key_] = v_"]
        return [
            indent + "if group_[_key_].__class__ is float:",
            indent + "    group_[_key_] = v_",
            indent + "else:",
            indent + "    _slow_write_(group_, v_)",
        ]

    if n == 1:
        out += ["    v_ = _base_ * r_", "    group_ = groups_[0]", *store("    "), "    values_ = [v_]"]
    elif equal:
        out += ["    v_ = _base_ * r_", "    for group_ in groups_:", *store("        "), "    values_ = [v_] * _n_"]
    else:
        out += [
            "    values_ = [b_ * r_ for b_ in _scales_]",
            "    for group_, v_ in zip(groups_, values_):",
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
) -> tuple[Callable[[int], list[float] | None], Callable[..., None] | None]:
    """``(write, after)`` for ``schedule``: its formula inlined when ``inline``, else a call of ``evaluate``.

    ``evaluate`` is the schedule's scalar function of a float step
    (:meth:`Schedule.scalar_function`, returning a float); ``inline`` says it is
    the compiled one, whose traced source may then be inlined (an interpreted
    formula is never traced here: its trace was refused or did not check out).

    ``after`` is None without a ``tracker`` (``count="calls"``).  The names
    bound in the globals end with ``_`` and the formula's are ``t``, ``v<i>``
    and ``_<math function>``, so they cannot collide.
    """
    from lrkit._compile import trace_source

    n = len(scales)
    shape = (n, plateau is not None, len(set(scales)) == 1, floats)
    try:
        if not inline:
            raise ValueError("not compiled")
        formula, namespace = trace_source(schedule)
        body = _body(formula, *shape)
        compile(_WRITE_HEAD + body + _WRITE_TAIL, "<lrkit.torch check>", "exec")  # very deep traces: parser limits
    except Exception:  # not inlined: the same code around one call of the evaluator
        formula, namespace = _CALL, {"_evaluate_": evaluate}
        body = _body(formula, *shape)
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
        names.update(
            _callback_=callback,
            _tracker_=tracker,
            _ref_=tracker._ref,
            _generic_=tracker._after,
            _hidden_=tracker._after_hidden,
        )
        # the first group's "lr" as this update leaves it: the value just stored when it is the driven float
        seen = "values_[0]" if key == "lr" and floats else 'groups_[0].get("lr")'
        source = _HOOK_HEAD + body + _HOOK_TAIL.format(seen=seen)
        exec(compile(source, f"<lrkit.torch hook {schedule.spec_name}>", "exec"), names)  # generated, see module doc
        after = names["after"]
    return write, after
