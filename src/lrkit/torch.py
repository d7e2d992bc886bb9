"""lrkit.torch: drive a PyTorch optimizer with lrkit schedules.

:class:`Scheduler` is a ``torch.optim.lr_scheduler.LRScheduler`` subclass, so
Lightning, the Hugging Face ``Trainer``, Accelerate and plain loops accept it.
It binds a schedule (a pure function of the step) to an optimizer; it never
re-implements a formula.

* ``Scheduler(opt, factor=s)``: each param group's own initial value times ``s(t)``
  (group ratios preserved: layer-wise LR decay is safe).
* ``Scheduler(opt, lr=s)``: the LR *is* ``s(t)`` (``value=s`` for any hyperparameter).
* ``t`` is the number of optimizer updates applied.  After construction the
  groups hold the values of step 0; each ``step()`` that follows a real
  optimizer update advances ``t`` by one.  A ``step()`` after an update that
  did not happen (an AMP ``GradScaler`` that skipped it because of inf/NaN
  gradients, or a gradient-accumulation micro-batch) changes nothing.
* ``state_dict()`` is plain data (the step, the schedules as dicts, the base
  values): it loads with ``torch.load(weights_only=True)`` and its size does not
  depend on the step.

:class:`WarmupMultiStepLR` is the seed's class (maskrcnn-benchmark lineage),
drop-in, built as ``warmup(multistep(1.0, milestones, gamma), ...)`` in factor mode.
"""

from __future__ import annotations

import math
import numbers
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

from lrkit import base as _v
from lrkit._backend import SCALAR
from lrkit.base import Schedule
from lrkit.composition import warmup
from lrkit.schedules import multistep
from lrkit.spec import from_dict, parse

__all__ = ["COUNT_MODES", "MISMATCH_POLICIES", "Plateau", "Scheduler", "WarmupMultiStepLR"]

#: what ``Scheduler.step()`` counts.
COUNT_MODES = ("updates", "calls")
#: what ``load_state_dict`` does when the checkpoint's schedule differs from the constructed one.
MISMATCH_POLICIES = ("raise", "checkpoint", "override")

_FORMAT = "lrkit.torch.Scheduler"
_FORMAT_VERSION = 1


# -- hooks ---------------------------------------------------------------------
class _UpdateTracker:
    """Optimizer step post-hook: records that an update really happened.

    It only *stores* a constant (never reads a counter), so a
    ``torch.compile``d ``optimizer.step`` that runs it gets no guard on a
    changing Python int, hence no recompilation.
    """

    __slots__ = ("stepped",)

    def __init__(self) -> None:
        self.stepped = False

    def __call__(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        self.stepped = True


class _Reapply:
    """Optimizer load_state_dict post-hook: write the scheduler's current values again.

    ``Optimizer.load_state_dict`` replaces every param group with the saved one
    (saved ``lr`` included), so restoring the optimizer *after* the scheduler
    would otherwise leave whatever LR the checkpoint held.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self._ref = weakref.ref(scheduler)

    def __call__(self, optimizer: Optimizer) -> None:
        sched = self._ref()
        if sched is not None:
            sched._refresh_bases()
            sched._apply(sched.last_epoch)


# -- reduce on plateau -----------------------------------------------------------
class Plateau:
    """A reduce-on-plateau multiplier composed on top of any schedule.

    The value written is ``scale * schedule(t)`` (times the group's base in
    factor mode).  ``scale`` starts at 1.0; :meth:`Scheduler.report` feeds it
    a metric.  The rule is torch's ``ReduceLROnPlateau``: a metric is *better*
    than ``best`` if

    * ``mode="min", threshold_mode="rel"``: ``metric < best * (1 - threshold)``
    * ``mode="min", threshold_mode="abs"``: ``metric < best - threshold``
    * ``mode="max"``: the mirror images (``best * (1 + threshold)``, ``best + threshold``).

    After more than ``patience`` consecutive reports without improvement the
    scale becomes ``max(scale * factor, min_scale)`` and ``cooldown`` reports
    follow during which bad reports are not counted.  The first report is
    always better (``best`` starts at ``±inf``).  Unlike torch's class it
    composes with warmup and any schedule, which ``SequentialLR`` refuses.
    """

    def __init__(
        self,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_scale: float = 0.0,
    ) -> None:
        self.mode = _v.choice("mode", mode, ("min", "max"))
        self.factor = _v.real("factor", factor, low=0.0, high=1.0, high_open=True)
        self.patience = _nonneg_int("patience", patience)
        self.threshold = _v.real("threshold", threshold, low=0.0)
        self.threshold_mode = _v.choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = _nonneg_int("cooldown", cooldown)
        self.min_scale = _v.real("min_scale", min_scale, low=0.0, high=1.0)
        self.reset()

    def reset(self) -> None:
        """Back to ``scale = 1`` with no history."""
        self.scale = 1.0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad = 0
        self.cooldown_counter = 0
        self.reductions = 0

    def config(self) -> dict[str, Any]:
        """The constructor arguments (plain data)."""
        return {
            "mode": self.mode,
            "factor": self.factor,
            "patience": self.patience,
            "threshold": self.threshold,
            "threshold_mode": self.threshold_mode,
            "cooldown": self.cooldown,
            "min_scale": self.min_scale,
        }

    def state(self) -> dict[str, Any]:
        """The mutable state (plain data)."""
        return {
            "scale": self.scale,
            "best": self.best,
            "num_bad": self.num_bad,
            "cooldown_counter": self.cooldown_counter,
            "reductions": self.reductions,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self.scale = float(state["scale"])
        self.best = float(state["best"])
        self.num_bad = int(state["num_bad"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self.reductions = int(state["reductions"])

    def _better(self, metric: float) -> bool:
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return metric < (self.best * (1.0 - self.threshold) if rel else self.best - self.threshold)
        return metric > (self.best * (1.0 + self.threshold) if rel else self.best + self.threshold)

    def update(self, metric: float) -> bool:
        """Feed one metric; return True if the scale was reduced."""
        if self._better(metric):
            self.best = metric
            self.num_bad = 0
        else:
            self.num_bad += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad = 0
        if self.num_bad > self.patience:
            self.scale = max(self.scale * self.factor, self.min_scale)
            self.cooldown_counter = self.cooldown
            self.num_bad = 0
            self.reductions += 1
            return True
        return False

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"Plateau({args})"


def _nonneg_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(value)


# -- the scheduler ---------------------------------------------------------------
def _parse_hyperparam(hyperparam: Any) -> tuple[str, int | None]:
    """``"lr"`` -> ("lr", None); ``"betas"`` -> ("betas", 0) (beta1); ``"betas[1]"`` -> ("betas", 1)."""
    if not isinstance(hyperparam, str) or not hyperparam:
        raise TypeError(f"hyperparam must be a param-group key such as 'lr' or 'momentum', got {hyperparam!r}")
    if hyperparam == "betas":
        return "betas", 0
    if hyperparam.endswith("]") and "[" in hyperparam:
        key, _, index = hyperparam[:-1].partition("[")
        if not index.isdigit():
            raise ValueError(f"hyperparam index must be a non-negative int like 'betas[1]', got {hyperparam!r}")
        return key, int(index)
    return hyperparam, None


def _as_float(value: Any) -> float:
    return float(value.item()) if isinstance(value, torch.Tensor) else float(value)


class Scheduler(LRScheduler):
    """Drive one hyperparameter of every param group with lrkit schedules.

    Args:
        optimizer: the ``torch.optim.Optimizer``.
        factor: schedule(s) multiplying each group's initial value
            (``group["initial_lr"]`` for the LR, set from ``group["lr"]`` on a
            fresh start like torch does; ``group["initial_<name>"]`` for other
            hyperparameters).  Written value: ``initial * s(t)``.
        lr: schedule(s) giving the LR itself.  Written value: ``s(t)``.
        value: like ``lr`` for any ``hyperparam``.
            Exactly one of ``factor``/``lr``/``value`` is required (``TypeError`` otherwise).
            Each is a schedule, a spec string (``lrkit.parse``), a list with
            one schedule per param group, or a dict ``{group["name"]: schedule}``
            covering every group.
        hyperparam: the param-group key to drive: ``"lr"`` (default),
            ``"momentum"``, ``"weight_decay"``, ``"betas"`` (Adam's beta1;
            ``"betas[1]"`` for beta2), any numeric key.
        steps_per_epoch, total_steps: resolve durations such as ``'10ep'`` or
            ``'5%'`` (rounding: nearest step, halves up; see :mod:`lrkit.durations`).
        last_epoch: torch's meaning: ``-1`` starts fresh at step 0; ``k >= 0``
            resumes torch-style and starts at step ``k + 1`` (needs
            ``initial_*`` in the groups, ``KeyError`` otherwise).  Prefer
            :meth:`load_state_dict` or :meth:`set_step`.
        count: ``"updates"`` (default): ``step()`` advances only if the
            optimizer applied an update since the previous ``step()`` (detected
            with an optimizer step post-hook), so an AMP step skipped by
            ``GradScaler`` or an accumulation micro-batch does not advance the
            schedule.  ``"calls"``: every ``step()`` advances (torch's behaviour).
        plateau: an optional :class:`Plateau` multiplier fed by :meth:`report`.
        on_mismatch: default policy of :meth:`load_state_dict` when the
            checkpoint's schedule differs: ``"raise"``, ``"checkpoint"`` (resume
            the checkpoint's schedule) or ``"override"`` (keep the constructed
            one, take only the step and plateau state).

    Tensor values (``lr=torch.tensor(...)``) are updated in place with
    ``fill_``, never replaced, so a ``torch.compile``d optimizer step does not
    recompile as the LR changes.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        *,
        factor: Any = None,
        lr: Any = None,
        value: Any = None,
        hyperparam: str = "lr",
        steps_per_epoch: int | None = None,
        total_steps: int | None = None,
        last_epoch: int = -1,
        count: str = "updates",
        plateau: Plateau | None = None,
        on_mismatch: str = "raise",
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        given = {k: s for k, s in (("factor", factor), ("lr", lr), ("value", value)) if s is not None}
        if len(given) != 1:
            got = ", ".join(f"{k}=" for k in given) or "none"
            raise TypeError(f"pass exactly one of factor=, lr= or value= (a schedule), got {got}")
        (kind, spec) = next(iter(given.items()))
        self._key, self._index = _parse_hyperparam(hyperparam)
        self.hyperparam = hyperparam
        if kind == "lr" and self._key != "lr":
            raise TypeError(f"lr= sets the learning rate; to set {hyperparam!r} to the schedule's value use value=")
        self.mode = "factor" if kind == "factor" else "value"
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral) or last_epoch < -1:
            raise ValueError(f"last_epoch must be an int >= -1, got {last_epoch!r}")
        self.count = _v.choice("count", count, COUNT_MODES)
        self.on_mismatch = _v.choice("on_mismatch", on_mismatch, MISMATCH_POLICIES)
        if plateau is not None and not isinstance(plateau, Plateau):
            raise TypeError(f"plateau must be an lrkit.torch.Plateau, got {plateau!r}")
        self.plateau = plateau
        self.optimizer = optimizer
        groups = optimizer.param_groups
        for i, group in enumerate(groups):
            self._check_group(i, group)

        self.schedules: tuple[Schedule, ...] = self._bind(spec, kind, groups, steps_per_epoch, total_steps)

        base_key = f"initial_{self._key}"
        self._base_key = base_key
        if last_epoch == -1:
            for group in groups:
                initial = group[self._key]
                if isinstance(initial, torch.Tensor):
                    initial = initial.clone()
                elif isinstance(initial, tuple):
                    initial = tuple(x.clone() if isinstance(x, torch.Tensor) else x for x in initial)
                group.setdefault(base_key, initial)
        elif self.mode == "factor":
            for i, group in enumerate(groups):
                if base_key not in group:
                    raise KeyError(
                        f"param {base_key!r} is not specified in param_groups[{i}] when resuming with "
                        f"last_epoch={last_epoch}: restore the optimizer's state first, or use load_state_dict()"
                    )
        self._set_bases([self._initial(g) if base_key in g else 1.0 for g in groups])

        self._tracker: _UpdateTracker | None = None
        self._handles: list[Any] = []
        if self.count == "updates":
            self._tracker = _UpdateTracker()
            try:
                self._handles.append(optimizer.register_step_post_hook(self._tracker))
            except AttributeError:
                raise TypeError(
                    f"{type(optimizer).__name__} does not support step post-hooks, so lrkit cannot see which "
                    "updates happened; pass count='calls' and call step() once per real optimizer update"
                ) from None
        self._handles.append(optimizer.register_load_state_dict_post_hook(_Reapply(self)))

        self._device_step: torch.Tensor | None = None
        self._step_count = 1
        self.last_epoch = int(last_epoch) + 1
        self._last_lr: list[float] = []
        self._apply(self.last_epoch)

    # -- construction helpers --------------------------------------------------
    def _check_group(self, i: int, group: Mapping[str, Any]) -> None:
        if self._key not in group:
            hint = " (for Adam-style optimizers use hyperparam='betas' for beta1)" if self._key == "momentum" else ""
            keys = sorted(k for k in group if k != "params")
            raise ValueError(f"param_groups[{i}] has no {self._key!r}{hint}; its keys are {keys}")
        cur = group[self._key]
        if self._index is not None:
            if not isinstance(cur, (tuple, list)) or self._index >= len(cur):
                raise ValueError(f"hyperparam {self.hyperparam!r}: param_groups[{i}][{self._key!r}] is {cur!r}")
            cur = cur[self._index]
        if not (isinstance(cur, torch.Tensor) or (isinstance(cur, numbers.Real) and not isinstance(cur, bool))):
            raise ValueError(f"hyperparam {self.hyperparam!r} must be numeric in param_groups[{i}], got {cur!r}")

    def _refresh_bases(self) -> None:
        # The optimizer's checkpoint carries the initial values; follow them, as a scheduler built after
        # optimizer.load_state_dict() would (torch's setdefault('initial_lr') rule).
        if self.mode == "factor" and all(self._base_key in g for g in self.optimizer.param_groups):
            self._set_bases([self._initial(g) for g in self.optimizer.param_groups])

    def _set_bases(self, bases: Sequence[float]) -> None:
        self._bases = [float(b) for b in bases]
        self.base_lrs = list(self._bases)
        self._scales = self._bases if self.mode == "factor" else [1.0] * len(self._bases)
        self._evals = [s._eval for s in self.schedules]
        self._fast: tuple[Any, float, str] | None = None
        if len(self._evals) == 1 and self._index is None and self.plateau is None:
            self._fast = (self._evals[0], self._scales[0], self._key)

    def _initial(self, group: Mapping[str, Any]) -> float:
        initial = group[self._base_key]
        if self._index is not None:
            initial = initial[self._index]
        return _as_float(initial)

    @staticmethod
    def _one(spec: Any, name: str, steps_per_epoch: int | None, total_steps: int | None) -> Schedule:
        if isinstance(spec, str):
            spec = parse(spec)
        if not isinstance(spec, Schedule):
            raise TypeError(f"{name} must be an lrkit schedule or a spec string, got {spec!r} ({type(spec).__name__})")
        return spec.resolve(steps_per_epoch=steps_per_epoch, total_steps=total_steps)

    def _bind(
        self,
        spec: Any,
        kind: str,
        groups: Sequence[Mapping[str, Any]],
        steps_per_epoch: int | None,
        total_steps: int | None,
    ) -> tuple[Schedule, ...]:
        n = len(groups)
        if isinstance(spec, Mapping):
            names = [g.get("name") for g in groups]
            unknown = [k for k in spec if k not in names]
            missing = [f"param_groups[{i}] (name={nm!r})" for i, nm in enumerate(names) if nm not in spec]
            if unknown or missing:
                raise ValueError(
                    f"{kind}= as a dict must map every param group's 'name' to a schedule; "
                    f"group names are {names}, unknown keys {unknown}, uncovered {missing}"
                )
            return tuple(self._one(spec[nm], f"{kind}[{nm!r}]", steps_per_epoch, total_steps) for nm in names)
        if isinstance(spec, (list, tuple)):
            if len(spec) != n:
                raise ValueError(f"{kind}= as a list needs one schedule per param group ({n}), got {len(spec)}")
            return tuple(self._one(s, f"{kind}[{i}]", steps_per_epoch, total_steps) for i, s in enumerate(spec))
        one = self._one(spec, kind, steps_per_epoch, total_steps)
        return (one,) * n

    # -- the hot path --------------------------------------------------------------
    def step(self, epoch: int | None = None) -> None:
        """Advance one optimizer update and write the new values.

        With ``count="updates"`` (default) nothing happens unless the optimizer
        applied an update since the previous call.  ``step(k)`` (torch's
        deprecated form) is :meth:`set_step`.
        """
        if epoch is not None:
            self.set_step(epoch)
            return
        tracker = self._tracker
        if tracker is not None:
            if not tracker.stepped:
                return
            tracker.stepped = False
        self._step_count += 1
        t = self.last_epoch + 1
        self.last_epoch = t
        fast = self._fast
        if fast is not None:
            # One group, a plain float value, no plateau: the common case, kept to a few operations.
            ev, base, key = fast
            v = base * ev(t + 0.0, SCALAR)  # exact int -> float, cheaper than float(t)
            group = self.optimizer.param_groups[0]
            if group[key].__class__ is float:
                group[key] = v
                self._last_lr = [v]
                return
        self._apply(t)

    def _apply(self, t: int) -> None:
        """Write the values of step ``t`` to every group (closed form, no history)."""
        ft = float(t)
        mult = 1.0 if self.plateau is None else self.plateau.scale
        key, index = self._key, self._index
        values = []
        for group, ev, base in zip(self.optimizer.param_groups, self._evals, self._scales, strict=True):
            v = base * float(ev(ft, SCALAR))
            if mult != 1.0:
                v *= mult
            values.append(v)
            cur = group[key]
            if index is None:
                if isinstance(cur, torch.Tensor):
                    cur.fill_(v)
                else:
                    group[key] = v
            else:
                item = cur[index]
                if isinstance(item, torch.Tensor):
                    item.fill_(v)
                else:
                    group[key] = (*cur[:index], v, *cur[index + 1 :])
        self._last_lr = values

    # -- torch API --------------------------------------------------------------------
    def values_at(self, t: int) -> list[float]:
        """The values this scheduler writes at step ``t`` (pure; writes nothing)."""
        mult = 1.0 if self.plateau is None else self.plateau.scale
        return [base * s(t) * mult for s, base in zip(self.schedules, self._scales, strict=True)]

    def get_lr(self) -> list[float]:
        """The values for the current step (closed form; same as :meth:`get_last_lr` after a step)."""
        return self.values_at(self.last_epoch)

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def get_last_lr(self) -> list[float]:
        """The values last written, one Python float per group (for the driven hyperparameter)."""
        return self._last_lr

    @property
    def schedule(self) -> Schedule:
        """The schedule, when every group shares one (``ValueError`` otherwise)."""
        if any(s != self.schedules[0] for s in self.schedules[1:]):
            raise ValueError("this scheduler has one schedule per param group: use .schedules")
        return self.schedules[0]

    def set_step(self, step: int) -> None:
        """Jump to step ``step`` (updates applied) and write its values."""
        if isinstance(step, bool) or not isinstance(step, numbers.Integral):
            raise TypeError(
                f"step must be an int number of optimizer updates, got {step!r}"
                + ("; feed metrics to report()" if isinstance(step, numbers.Real) else "")
            )
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step!r}")
        self.last_epoch = int(step)
        self._apply(self.last_epoch)

    def report(self, metric: float | torch.Tensor) -> bool:
        """Feed a validation metric to the :class:`Plateau` multiplier; rewrite the values.

        Returns True if the multiplier was reduced.  ``ValueError`` without a plateau.
        """
        if self.plateau is None:
            raise ValueError("report() needs a plateau: construct with plateau=lrkit.torch.Plateau(...)")
        m = _as_float(metric)
        if not math.isfinite(m):
            raise ValueError(f"metric must be finite, got {m!r}")
        reduced = self.plateau.update(m)
        self._apply(self.last_epoch)
        return reduced

    # -- resume ------------------------------------------------------------------------
    def _spec(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "hyperparam": self.hyperparam,
            "schedules": [s.to_dict() for s in self.schedules],
            "plateau": None if self.plateau is None else self.plateau.config(),
        }

    def state_dict(self) -> dict[str, Any]:
        """Plain data: the step, the schedules' dicts, the base values, the plateau state.

        Loads with ``torch.load(weights_only=True)``; its size does not depend on the step.
        """
        out = {"format": _FORMAT, "version": _FORMAT_VERSION, "step": self.last_epoch, "step_count": self._step_count}
        out.update(self._spec())
        out["base_values"] = list(self._bases) if self.mode == "factor" else None
        out["plateau_state"] = None if self.plateau is None else self.plateau.state()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], on_mismatch: str | None = None) -> None:
        """Resume: set the step (and plateau state) and write the values of that step.

        Works whether the optimizer's state is restored before or after this
        call.  The base values (factor mode) are the checkpoint's, as torch
        restores ``base_lrs`` and the optimizer restores ``initial_lr``.  If
        the checkpoint's spec (mode, schedules, plateau settings) differs from
        this scheduler's, ``on_mismatch`` (default: the constructor's)
        decides: ``"raise"`` a ``ValueError`` showing both, resume the
        ``"checkpoint"``'s, or ``"override"`` with the constructed one.
        A torch-style state dict (``last_epoch``, ``base_lrs``, e.g. from the
        seed's ``WarmupMultiStepLR``) is accepted: its step and base LRs are used.
        """
        policy = self.on_mismatch if on_mismatch is None else _v.choice("on_mismatch", on_mismatch, MISMATCH_POLICIES)
        if state_dict.get("format") != _FORMAT:
            if "last_epoch" in state_dict and "base_lrs" in state_dict:
                self._load_torch_style(state_dict)
                return
            raise ValueError(f"not an lrkit.torch.Scheduler state dict (keys: {sorted(state_dict)})")
        n = len(self.optimizer.param_groups)
        if len(state_dict["schedules"]) != n:
            raise ValueError(
                f"the checkpoint drives {len(state_dict['schedules'])} param groups, this optimizer has {n}"
            )
        if state_dict["hyperparam"] != self.hyperparam:
            raise ValueError(
                f"the checkpoint drives {state_dict['hyperparam']!r}, this scheduler drives {self.hyperparam!r}"
            )
        saved = {k: state_dict[k] for k in ("mode", "hyperparam", "schedules", "plateau")}
        mine = self._spec()
        if _normalise(saved) != _normalise(mine):
            if policy == "raise":
                raise ValueError(
                    "the checkpoint's schedule differs from the one this scheduler was built with:\n"
                    f"  checkpoint:  {_describe(saved)}\n"
                    f"  constructed: {_describe(mine)}\n"
                    "pass on_mismatch='checkpoint' to resume the checkpoint's schedule, "
                    "or on_mismatch='override' to keep the constructed one from the saved step"
                )
            if policy == "checkpoint":
                self._adopt(saved)
        if self.mode == "factor" and state_dict["base_values"] is not None:
            # Like torch's base_lrs and the optimizer's own initial_lr: the checkpoint's base values win.
            self._set_bases(state_dict["base_values"])
        if self.plateau is not None:
            if state_dict.get("plateau_state") is not None:
                self.plateau.load_state(state_dict["plateau_state"])
            else:
                self.plateau.reset()
        self._step_count = int(state_dict["step_count"])
        self.last_epoch = int(state_dict["step"])
        self._apply(self.last_epoch)

    def _adopt(self, saved: Mapping[str, Any]) -> None:
        self.mode = saved["mode"]
        self.schedules = tuple(from_dict(d) for d in saved["schedules"])
        self.plateau = None if saved["plateau"] is None else Plateau(**saved["plateau"])
        self._set_bases(self._bases)

    def _load_torch_style(self, state_dict: Mapping[str, Any]) -> None:
        if self.mode == "factor":
            self._set_bases([_as_float(b) for b in state_dict["base_lrs"]])
        self._step_count = int(state_dict.get("_step_count", 1))
        self.last_epoch = int(state_dict["last_epoch"])
        self._apply(self.last_epoch)

    # -- on-device step (CUDA graphs) ---------------------------------------------------
    def device_counter(self, device: torch.device | str | None = None) -> torch.Tensor:
        """Keep a copy of the step on ``device`` for :meth:`device_step`; returns that tensor (float64).

        Every driven value must be a tensor (``lr=torch.tensor(...)``) so it
        can be written in place.
        """
        for i, group in enumerate(self.optimizer.param_groups):
            cur = group[self._key] if self._index is None else group[self._key][self._index]
            if not isinstance(cur, torch.Tensor):
                raise ValueError(
                    f"device_step needs tensor values: param_groups[{i}][{self.hyperparam!r}] is {cur!r}; "
                    "build the optimizer with lr=torch.tensor(...)"
                )
        if device is None:
            g0 = self.optimizer.param_groups[0][self._key]
            device = (g0 if self._index is None else g0[self._index]).device
        self._device_step = torch.tensor(float(self.last_epoch), dtype=torch.float64, device=device)
        return self._device_step

    def device_step(self) -> None:
        """Advance the on-device step by one and write the values from it with tensor ops only.

        Nothing is read back to the host, so this can run inside a captured
        CUDA graph after the optimizer step (one replay = one update).  The
        host-side ``last_epoch`` is not updated: call :meth:`sync_from_device`
        before checkpointing.  The plateau multiplier is read when the graph is
        captured, so use it outside graphs.
        """
        t = self._device_step
        if t is None:
            raise RuntimeError("call device_counter() once before device_step()")
        t.add_(1.0)
        mult = 1.0 if self.plateau is None else self.plateau.scale
        for group, s, base in zip(self.optimizer.param_groups, self.schedules, self._scales, strict=True):
            cur = group[self._key] if self._index is None else group[self._key][self._index]
            cur.copy_(s(t) * (base * mult))

    def sync_from_device(self) -> int:
        """Copy the on-device step back to ``last_epoch`` (one host sync); return it."""
        if self._device_step is None:
            raise RuntimeError("no device counter: call device_counter() first")
        self.last_epoch = int(self._device_step.item())
        self._last_lr = self.values_at(self.last_epoch)
        return self.last_epoch

    def __repr__(self) -> str:
        sched = repr(self.schedules[0]) if len(set(self.schedules)) == 1 else repr(list(self.schedules))
        return f"{type(self).__name__}({self.mode}={sched}, hyperparam={self.hyperparam!r}, step={self.last_epoch})"


def _normalise(spec: Mapping[str, Any]) -> Any:
    # Compare schedules as values (from_dict), not as dicts that may spell defaults differently.
    out = dict(spec)
    out["schedules"] = tuple(from_dict(d) for d in spec["schedules"])
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


class WarmupMultiStepLR(Scheduler):
    """The seed's ``WarmupMultiStepLR``, drop-in: same signature, values and errors.

    LR of group ``g`` at step ``t``: ``initial_lr[g] * f(t) * gamma ** bisect_right(milestones, t)``
    with ``f(t) = warmup_factor`` (``"constant"``) or
    ``warmup_factor * (1 - t / warmup_iters) + t / warmup_iters`` (``"linear"``)
    for ``t < warmup_iters`` and ``f(t) = 1`` after.  It is exactly
    ``Scheduler(optimizer, factor=warmup(multistep(1.0, milestones, gamma),
    steps=warmup_iters, start_factor=warmup_factor, method=warmup_method))``,
    the composition the seed's FIXME asked for.

    Raises ``ValueError`` (like the seed) for milestones that are not sorted
    (repeats are allowed: a repeated milestone decays twice) and for a
    ``warmup_method`` other than ``"constant"``/``"linear"``.  Differences from
    the seed, by design: ``warmup_factor`` must be in ``[0, 1]`` and ``gamma``
    in ``[0, 1]`` (``ValueError`` otherwise), and by default a ``step()`` that
    follows no optimizer update (AMP skip) does not advance (``count="calls"``
    restores the seed's call counting).  Values agree with the seed's to a few
    ulps (the seed multiplies ``base * factor * gamma**k`` left to right).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        warmup_factor: float = 1.0 / 3,
        warmup_iters: int = 500,
        warmup_method: str = "linear",
        last_epoch: int = -1,
        *,
        count: str = "updates",
    ) -> None:
        if not list(milestones) == sorted(milestones):
            raise ValueError(f"Milestones should be a list of increasing integers, got {list(milestones)}")
        if warmup_method not in ("constant", "linear"):
            raise ValueError(f"Only 'constant' or 'linear' warmup_method accepted, got {warmup_method!r}")
        self.milestones = milestones
        self.gamma = gamma
        self.warmup_factor = warmup_factor
        self.warmup_iters = warmup_iters
        self.warmup_method = warmup_method
        schedule = warmup(
            multistep(1.0, list(milestones), gamma),
            steps=warmup_iters,
            start_factor=warmup_factor,
            method=warmup_method,
        )
        super().__init__(optimizer, factor=schedule, last_epoch=last_epoch, count=count)
