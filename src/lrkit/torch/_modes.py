"""Argument modes and binding: which schedule drives which param group, and how.

* ``factor=s``: the written value is ``base * s(t)`` with each group's own base
  (``group["initial_<key>"]``), so group ratios are kept (layer-wise LR decay).
* ``lr=s`` / ``value=s``: the written value is ``s(t)`` itself (``lr=`` only for the LR).

Each argument is anything :func:`lrkit.as_schedule` accepts (a schedule, spec
text, a ``to_dict()`` mapping — a mapping with a ``"type"`` key — or the path
of a JSON/YAML/TOML file), a list with one of those per param group, or a
per-group mapping ``{group["name"]: schedule}`` covering every group (a
mapping *without* a ``"type"`` key).  Durations such as ``'10ep'`` or
``'5%'`` and lengths left to the end of training are resolved here, once.
A multiplier (:func:`lrkit.multiplier`) is refused by ``lr=`` and ``value=``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lrkit.base import Schedule
from lrkit.spec import as_schedule

from ._slots import Slot

#: what ``Scheduler.step()`` counts.
COUNT_MODES = ("updates", "calls")
#: the constructor's schedule arguments, in the order the messages name them.
ARGUMENTS = ("factor", "lr", "value")


def pick_argument(factor: Any, lr: Any, value: Any, slot: Slot) -> tuple[str, Any]:
    """The one schedule argument given, as ``(kind, spec)``; ``TypeError`` unless exactly one."""
    given = {k: s for k, s in zip(ARGUMENTS, (factor, lr, value), strict=True) if s is not None}
    if len(given) != 1:
        got = ", ".join(f"{k}=" for k in given) or "none"
        raise TypeError(f"pass exactly one of factor=, lr= or value= (a schedule), got {got}")
    kind, spec = next(iter(given.items()))
    if kind == "lr" and slot.key != "lr":
        raise TypeError(f"lr= sets the learning rate; to set {slot.name!r} to the schedule's value use value=")
    return kind, spec


def mode_of(kind: str) -> str:
    """``"factor"`` multiplies each group's base; ``lr=`` and ``value=`` are both ``"value"`` mode."""
    return "factor" if kind == "factor" else "value"


def one_schedule(spec: Any, name: str, steps_per_epoch: int | None, total_steps: int | None) -> Schedule:
    """What :func:`lrkit.as_schedule` accepts, with its durations resolved; ``TypeError`` naming ``name`` otherwise."""
    if not isinstance(spec, (Schedule, str, Mapping)) and not hasattr(spec, "__fspath__"):
        raise TypeError(
            f"{name} must be an lrkit schedule, spec text, a to_dict() mapping or a config file path, "
            f"got {spec!r} ({type(spec).__name__})"
        )
    schedule = as_schedule(spec).resolve(steps_per_epoch=steps_per_epoch, total_steps=total_steps)
    kind = name.partition("[")[0]
    if kind in ("lr", "value") and schedule.is_multiplier:
        raise TypeError(
            f"{name}= got a multiplier, {schedule!r}: its values are factors of the optimizer's learning rate "
            f"(it would train at LR {schedule(0):g} at step 0). Pass it as factor= to multiply each group's LR, "
            "or scale it to learning rates with lrkit.scale(schedule, lr)"
        )
    return schedule


def bind(
    spec: Any,
    kind: str,
    groups: Sequence[Mapping[str, Any]],
    steps_per_epoch: int | None,
    total_steps: int | None,
) -> tuple[Schedule, ...]:
    """One resolved schedule per param group, from a schedule, a list or a dict by group name."""
    n = len(groups)
    if isinstance(spec, Mapping) and "type" not in spec:  # a per-group mapping; with "type" it is one schedule
        names = [g.get("name") for g in groups]
        unknown = [k for k in spec if k not in names]
        missing = [f"param_groups[{i}] (name={nm!r})" for i, nm in enumerate(names) if nm not in spec]
        if unknown or missing:
            raise ValueError(
                f"{kind}= as a dict must map every param group's 'name' to a schedule; "
                f"group names are {names}, unknown keys {unknown}, uncovered {missing}"
            )
        return tuple(one_schedule(spec[nm], f"{kind}[{nm!r}]", steps_per_epoch, total_steps) for nm in names)
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(f"{kind}= as a list needs one schedule per param group ({n}), got {len(spec)}")
        return tuple(one_schedule(s, f"{kind}[{i}]", steps_per_epoch, total_steps) for i, s in enumerate(spec))
    one = one_schedule(spec, kind, steps_per_epoch, total_steps)
    return (one,) * n
