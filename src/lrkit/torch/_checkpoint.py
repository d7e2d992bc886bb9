"""Checkpoint policy of :class:`~lrkit.torch.Scheduler`: its state dict and how one is loaded.

The state dict is plain data (the step, the schedules as dicts, the base
values, the plateau's config and state), so it loads with
``torch.load(weights_only=True)`` and its size does not depend on the step.
Loading compares the checkpoint's *spec* (mode, hyperparameter, schedules,
plateau settings) with the constructed one and applies the mismatch policy.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lrkit.base import Schedule
from lrkit.plateau import Plateau
from lrkit.spec import from_dict

from ._slots import to_float

if TYPE_CHECKING:
    from ._scheduler import Scheduler

#: what ``load_state_dict`` does when the checkpoint's schedule differs from the constructed one.
MISMATCH_POLICIES = ("raise", "checkpoint", "override")

FORMAT = "lrkit.torch.Scheduler"
FORMAT_VERSION = 1
#: the keys that make up a scheduler's spec (compared on load).
SPEC_KEYS = ("mode", "hyperparam", "schedules", "plateau")
#: the keys a checkpoint of this format must have (``step_count`` and ``plateau_state`` have defaults).
REQUIRED_KEYS = ("step", *SPEC_KEYS, "base_values")


def spec_of(sched: Scheduler) -> dict[str, Any]:
    return {
        "mode": sched.mode,
        "hyperparam": sched.hyperparam,
        "schedules": [s.to_dict() for s in sched.schedules],
        "plateau": None if sched.plateau is None else sched.plateau.config(),
    }


def state_dict(sched: Scheduler) -> dict[str, Any]:
    sched._sync_groups()  # a group added since the last step() is part of the checkpoint
    # the clock (updates applied), which may be ahead of last_epoch when step() is called once per epoch or never
    out = {"format": FORMAT, "version": FORMAT_VERSION, "step": sched.updates_applied, "step_count": sched._step_count}
    out.update(spec_of(sched))
    out["base_values"] = list(sched._bases) if sched.mode == "factor" else None
    out["plateau_state"] = None if sched.plateau is None else sched.plateau.state()
    return out


def load_state_dict(sched: Scheduler, state: Mapping[str, Any], policy: str) -> None:
    """Validate ``state`` completely, then apply it (a bad checkpoint changes nothing)."""
    if not isinstance(state, Mapping):
        raise TypeError(f"state_dict must be a dict, got {type(state).__name__}")
    sched._sync_groups()  # groups added with add_param_group() before resuming count like the others
    n = len(sched.optimizer.param_groups)
    if state.get("format") != FORMAT:
        if "last_epoch" in state and "base_lrs" in state:
            _load_torch_style(sched, state, n, policy)
            return
        raise ValueError(f"not an lrkit.torch.Scheduler state dict (keys: {sorted(map(str, state))})")
    missing = [k for k in REQUIRED_KEYS if k not in state]
    if missing:
        raise ValueError(f"state_dict is missing {', '.join(missing)} (has {sorted(map(str, state))})")
    step = _step("step", state["step"])
    step_count = _step("step_count", state.get("step_count", step + 1))
    if state["mode"] not in ("factor", "value"):
        raise ValueError(f"state_dict mode must be 'factor' or 'value', got {state['mode']!r}")
    schedules = state["schedules"]
    if not isinstance(schedules, (list, tuple)):
        raise ValueError(f"state_dict schedules must be a list of schedule dicts, got {schedules!r}")
    if len(schedules) != n:
        raise ValueError(
            f"the checkpoint drives {len(schedules)} param groups, this optimizer has {n} "
            "(add the same param groups before loading)"
        )
    if state["hyperparam"] != sched.hyperparam:
        raise ValueError(f"the checkpoint drives {state['hyperparam']!r}, this scheduler drives {sched.hyperparam!r}")
    saved = {k: state[k] for k in SPEC_KEYS}
    saved_schedules = _schedules(schedules)
    saved_plateau = None if saved["plateau"] is None else _plateau("plateau", saved["plateau"])
    bases = state["base_values"]
    if bases is not None:
        bases = _bases("base_values", bases, n)
    elif state["mode"] == "factor":
        raise ValueError("state_dict base_values is None, but a factor-mode checkpoint needs one base per group")
    plateau_state = state.get("plateau_state")
    if plateau_state is not None and not isinstance(plateau_state, Mapping):
        raise ValueError(f"state_dict plateau_state must be a dict or None, got {plateau_state!r}")

    adopt = False
    mine = spec_of(sched)
    if _normalise(saved, saved_schedules) != _normalise(mine, sched.schedules):
        if policy == "raise":
            raise ValueError(
                "the checkpoint's schedule differs from the one this scheduler was built with:\n"
                f"  checkpoint:  {_describe(saved)}\n"
                f"  constructed: {_describe(mine)}\n"
                "pass on_mismatch='checkpoint' to resume the checkpoint's schedule, "
                "or on_mismatch='override' to keep the constructed one from the saved step"
            )
        adopt = policy == "checkpoint"
    target = saved_plateau if adopt else sched.plateau
    if target is not None and plateau_state is not None:
        # validated on a scratch copy first, so a bad plateau state leaves the scheduler untouched
        _plateau("plateau_state", target.config(), plateau_state)

    # -- everything is valid: apply ---------------------------------------------------------
    if adopt:
        sched.mode = saved["mode"]
        sched.schedules = saved_schedules
        sched.plateau = target
        sched._set_bases(sched._bases)
    if sched.mode == "factor" and bases is not None:
        # Like torch's base_lrs and the optimizer's own initial_lr: the checkpoint's base values win.
        sched._set_bases(bases)
    if sched.plateau is not None:
        if plateau_state is not None:
            sched.plateau.load_state(plateau_state)
        else:
            sched.plateau.reset()
    sched._step_count = step_count
    sched._apply(step)
    sched._set_clock(step)


#: keys every torch LRScheduler state dict has (bookkeeping, not a schedule's parameters).
TORCH_GENERIC_KEYS = frozenset({"last_epoch", "base_lrs", "verbose"})


def _same(mine: Any, theirs: Any) -> bool:
    if isinstance(mine, (list, tuple)) and isinstance(theirs, (list, tuple)):
        return list(mine) == list(theirs)
    return bool(mine == theirs) if mine is not _MISSING else False


_MISSING = object()


def _load_torch_style(sched: Scheduler, state: Mapping[str, Any], n: int, policy: str) -> None:
    """A torch scheduler's state dict (``last_epoch``, ``base_lrs``): never taken silently.

    Its schedule parameters (public keys other than ``last_epoch``/``base_lrs``:
    ``total_steps``, ``T_max``, ``milestones``, ``lr_lambdas``...) are compared
    with this scheduler's attributes of the same name (the seed's
    ``WarmupMultiStepLR`` drop-in keeps its ``milestones``, ``gamma``,
    ``warmup_*``).  Any that differ or that this scheduler does not have mean a
    different schedule: ``on_mismatch="raise"`` refuses, ``"override"`` takes
    only the step and base LRs, ``"checkpoint"`` refuses (lrkit does not
    translate torch schedulers).  Whatever is taken is named in a ``UserWarning``.
    """
    step = _step("last_epoch", state["last_epoch"])
    bases = _bases("base_lrs", state["base_lrs"], n)
    step_count = _step("_step_count", state.get("_step_count", 1))
    name = type(sched).__name__
    params = sorted(str(k) for k in state if str(k) not in TORCH_GENERIC_KEYS and not str(k).startswith("_"))
    differing = [k for k in params if not _same(getattr(sched, k, _MISSING), state[k])]
    foreign = ", ".join(f"{k}={state[k]!r}" for k in differing)
    if differing and policy != "override":
        why = (
            "on_mismatch='checkpoint' cannot resume it (lrkit does not translate a torch scheduler's state); "
            if policy == "checkpoint"
            else ""
        )
        raise ValueError(
            f"this torch-style state dict is from a different schedule than this lrkit.torch.{name}: {foreign} "
            f"(not parameters of this scheduler). {why}Build the matching lrkit schedule, or pass "
            "on_mismatch='override' to take only its step (last_epoch) and base_lrs"
        )
    taken = f"step={step} (its last_epoch)"
    taken += f" and base_lrs={bases}" if sched.mode == "factor" else f" (base_lrs={bases} ignored: {sched.mode} mode)"
    checked = [k for k in params if k not in differing]
    note = f"; checked {', '.join(checked)} against this scheduler" if checked else ""
    note += f"; ignored its {foreign}, keeping this scheduler's schedule" if differing else ""
    warnings.warn(
        f"loaded a torch-style state dict into lrkit.torch.{name}: took {taken}{note}",
        UserWarning,
        stacklevel=4,
    )
    if sched.mode == "factor":
        sched._set_bases(bases)
    sched._step_count = step_count
    sched._apply(step)
    sched._set_clock(step)


# -- field validators (ValueError naming the field: a checkpoint is data, not an argument) ----------------
def _step(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"state_dict {name} must be an int >= 0, got {value!r}")
    if value < 0:
        raise ValueError(f"state_dict {name} must be an int >= 0, got {value!r}")
    if value > 2**63 - 1:  # the same bound as Scheduler.set_step: a step torch and float64 can hold
        shown = repr(value) if value < 10**30 else f"an int of {int(value).bit_length()} bits"
        raise ValueError(f"state_dict {name} must be <= 2**63 - 1, got {shown}")
    return int(value)


def _bases(name: str, values: Any, n: int) -> list[float]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, (list, tuple)):
        raise ValueError(f"state_dict {name} must be a list of {n} numbers, got {values!r}")
    if len(values) != n:
        raise ValueError(f"state_dict {name} has {len(values)} values, this optimizer has {n} param groups")
    out = []
    for i, v in enumerate(values):
        try:
            f = to_float(v)
        except OverflowError:  # an int beyond float64
            raise ValueError(f"state_dict {name}[{i}] must be a finite number >= 0, got an int too large") from None
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"state_dict {name}[{i}] must be a number, got {v!r}") from None
        # >= 0, not > 0: a group with weight_decay 0 or a frozen lr=0 group is a legitimate base
        if isinstance(v, bool) or not math.isfinite(f) or f < 0.0:
            raise ValueError(f"state_dict {name}[{i}] must be a finite number >= 0, got {v!r}")
        out.append(f)
    return out


def _plateau(name: str, config: Any, state: Any = None) -> Plateau:
    """A plateau from a saved config (and state): any error becomes a ValueError naming the field."""
    try:
        plateau = Plateau.from_config(config)
        if state is not None:
            plateau.load_state(state)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"state_dict {name} is not valid: {exc}") from None
    return plateau


def _schedules(dicts: Sequence[Any]) -> tuple[Schedule, ...]:
    out = []
    for i, d in enumerate(dicts):
        if not isinstance(d, Mapping):
            raise ValueError(f"state_dict schedules[{i}] must be a schedule dict, got {d!r}")
        try:
            out.append(from_dict(d))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"state_dict schedules[{i}] is not a valid schedule: {exc}") from None
    return tuple(out)


def _normalise(spec: Mapping[str, Any], schedules: Sequence[Schedule]) -> Any:
    # Compare schedules as values (from_dict), not as dicts that may spell defaults differently.
    out = dict(spec)
    out["schedules"] = tuple(schedules)
    if spec["plateau"] is not None:
        out["plateau"] = tuple(sorted(spec["plateau"].items()))
    return tuple(sorted(out.items()))


def _describe(spec: Mapping[str, Any]) -> str:
    schedules = [repr(from_dict(d)) for d in spec["schedules"]]
    shown = schedules[0] if len(set(schedules)) == 1 else "[" + ", ".join(schedules) + "]"
    text = f"{spec['mode']}={shown}"
    if spec["plateau"] is not None:
        text += f", plateau={spec['plateau']}"
    return text
