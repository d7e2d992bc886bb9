"""The :class:`Scheduler` class: construction, the hot path ``step()``, the torch API.

The other jobs live next door: argument modes and binding (``_modes``), group
slot access (``_slots``), checkpoints (``_checkpoint``), the optimizer hooks
(``_hooks``).  This module holds no formula: every value is ``base * s(t)``
with ``s`` an lrkit schedule (times the :class:`~lrkit.Plateau` scale).
"""

from __future__ import annotations

import numbers
import sys
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from types import FrameType
from typing import Any

# Absolute imports: inside the package ``lrkit.torch``, ``import torch`` is PyTorch (Python 3 has no
# implicit relative imports), and the package's own modules are reached with ``from . import``.
import torch
from torch.optim import Optimizer
from torch.optim.lr_scheduler import ChainedScheduler, LRScheduler, SequentialLR

from lrkit.base import Schedule
from lrkit.plateau import Plateau
from lrkit.validators import choice

from . import _checkpoint
from ._checkpoint import MISMATCH_POLICIES
from ._hooks import (
    Clock,
    Reapply,
    RefuseUnscheduledGroups,
    UpdateHooks,
    dynamo_callback,
    hidden_from_dynamo,
    register_first_pre_hook,
    register_update_hooks,
    watch_add_param_group,
)
from ._modes import COUNT_MODES, bind, mode_of, pick_argument
from ._plan import generate
from ._slots import Slot

CONTAINER_MESSAGE = (
    "lrkit.torch.{name} cannot run inside torch's {container}: it writes base * s(t) with t the optimizer "
    "updates applied, so a container that restarts or chains its children's clocks would silently get other "
    "LRs than the torch schedulers it replaces. Compose the schedules instead and use one Scheduler: "
    "lrkit.join([s1, s2, ...], boundaries=[b1, ...]) (pieces in sequence, each on its own clock, like "
    "SequentialLR) or s1 * s2 (a product, like ChainedScheduler); warmup then decay is lrkit.warmup(s, steps=n)"
)


def _remove_handles(handles: list[Any]) -> None:
    for handle in handles:
        handle.remove()


def refuse_torch_containers(caller: FrameType | None) -> None:
    """``TypeError`` if ``caller`` is a method of torch's ``ChainedScheduler`` or ``SequentialLR``.

    ``ChainedScheduler`` only reads ``.optimizer`` at construction, so it is
    caught at the first ``step()`` it forwards (checked once per scheduler).
    """
    owner = None if caller is None else caller.f_locals.get("self")
    if isinstance(owner, (ChainedScheduler, SequentialLR)):
        raise TypeError(CONTAINER_MESSAGE.format(name="Scheduler", container=type(owner).__name__))


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
        count: ``"updates"`` (default): the clock is the number of optimizer
            updates applied, counted by an optimizer step post-hook (an AMP
            update skipped by ``GradScaler``, fused optimizers included, is not
            counted), which then writes ``base * s(updates applied)`` for the
            next update at once, so the LRs are exact whether ``step()`` is
            called once per update, per micro-batch, per epoch, twice or never.
            ``"calls"``: every ``step()`` advances one step and no hook is
            registered (torch's behaviour, for epoch-based schedules).
            Not usable inside torch's ``SequentialLR``/``ChainedScheduler``
            (``TypeError``: compose with ``lrkit.join`` or ``*`` instead).
        plateau: an optional :class:`lrkit.Plateau` multiplier fed by :meth:`report`.
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
        *args: Any,
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
            raise TypeError(
                f"optimizer must be a torch.optim.Optimizer; {type(optimizer).__name__} is not an Optimizer"
            )
        if args:
            # Scheduler(opt, s), the LambdaLR habit: say which keyword means what instead of Python's bare message.
            shown = ", ".join(type(a).__name__ for a in args)
            raise TypeError(
                f"{type(self).__name__} takes the schedule as a keyword, got {len(args)} extra positional "
                f"argument(s) ({shown}): Scheduler(optimizer, factor=s) multiplies each group's initial LR by "
                "s(t); Scheduler(optimizer, lr=s) sets the LR to s(t)"
            )
        self._slot = slot = Slot.parse(hyperparam)
        self.hyperparam = hyperparam
        kind, spec = pick_argument(factor, lr, value, slot)
        self.mode = mode_of(kind)
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral) or last_epoch < -1:
            raise ValueError(f"last_epoch must be an int >= -1, got {last_epoch!r}")
        self.count = choice("count", count, COUNT_MODES)
        self.on_mismatch = choice("on_mismatch", on_mismatch, MISMATCH_POLICIES)
        if plateau is not None and not isinstance(plateau, Plateau):
            raise TypeError(f"plateau must be an lrkit.Plateau, got {plateau!r}")
        self._plateau = plateau
        self.optimizer = optimizer
        self._write: Callable[[int], list[float] | float | None] | None = None
        self._device_step: torch.Tensor | None = None
        # the per-update state (last_epoch, the values, torch's _step_count...), see _hooks.Clock
        self._clock = Clock(int(last_epoch) + 1)
        self._fast: Clock | None = None  # the clock, once step() may take its fast path (see step())
        self._plan_n = 0  # the number of groups the current plan writes (see _plan)
        groups = optimizer.param_groups
        for i, group in enumerate(groups):
            slot.check(i, group)

        self.schedules: tuple[Schedule, ...] = bind(spec, kind, groups, steps_per_epoch, total_steps)

        if last_epoch == -1:
            for group in groups:
                slot.remember_base(group)
        elif self.mode == "factor":
            for i, group in enumerate(groups):
                if not slot.has_base(group):
                    raise KeyError(
                        f"param {slot.base_key!r} is not specified in param_groups[{i}] when resuming with "
                        f"last_epoch={last_epoch}: restore the optimizer's state first, or use load_state_dict()"
                    )
        self._set_bases([slot.read_base(g) if slot.has_base(g) else 1.0 for g in groups])

        self._warned_idle = False
        self._idle_checked = False  # no idle warning can come until the clock is moved again (see step())
        # last_epoch: the step whose values are in the groups (torch's name).  Under count="updates" the clock
        # is _clock.updates (updates applied); the post-hook brings last_epoch up to it after each update.
        self._idle_origin = self.last_epoch  # the clock when the scheduler was built or last moved (idle warning)
        self._refuse_handle: Any = None

        self._tracker: UpdateHooks | None = None
        self._handles: list[Any] = []
        if self.count == "updates":
            self._tracker = UpdateHooks(self, self._clock)
            try:
                self._handles.extend(register_update_hooks(optimizer, self._tracker))
            except AttributeError:
                raise TypeError(
                    f"{type(optimizer).__name__} does not support step hooks, so lrkit cannot see which "
                    "updates happened; pass count='calls' and call step() once per real optimizer update"
                ) from None
        self._handles.append(optimizer.register_load_state_dict_post_hook(Reapply(self)))
        # A discarded scheduler's hooks would stay on the optimizer, each paying its generic path on every update
        # for a clock nobody reads: remove them when the scheduler is collected (the list holds no reference to it).
        weakref.finalize(self, _remove_handles, self._handles)
        watch_add_param_group(optimizer, self)
        self._plan()  # again, now that the post-hook exists: install its fast version
        self._apply(self.last_epoch)

    # -- groups and bases ------------------------------------------------------------------
    def _sync_groups(self) -> None:
        """Schedule param groups added with ``optimizer.add_param_group()`` since the last write.

        A new group gets the same schedule as the others on its own base (its
        value when first seen, stored as ``initial_<key>`` like at
        construction), so progressive unfreezing works and checkpoints written
        afterwards resume.  With one schedule per group there is no schedule
        to give it: ``ValueError`` naming the group.  Groups removed: ``ValueError``.
        """
        groups = self.optimizer.param_groups
        n, known = len(groups), len(self.schedules)
        if n == known:
            return
        if n < known:
            raise ValueError(
                f"the optimizer has {n} param groups, this scheduler was built for {known}: param groups cannot be "
                "removed from a scheduled optimizer"
            )
        slot = self._slot
        for i in range(known, n):
            group = groups[i]
            name = f"param_groups[{i}]" + (f" (name={group['name']!r})" if "name" in group else "")
            if len(set(self.schedules)) != 1:
                raise ValueError(
                    f"{name} was added with add_param_group() after the scheduler was built with one schedule per "
                    "group, so it has no schedule: build the scheduler after adding every group, or give all "
                    "groups the same schedule"
                )
            slot.check(i, group)
            slot.remember_base(group)
        self.schedules = self.schedules + (self.schedules[0],) * (n - known)
        new_bases = [slot.read_base(g) if self.mode == "factor" else 1.0 for g in groups[known:]]
        self._set_bases([*self._bases[:known], *new_bases])

    def _group_added(self) -> None:
        """``optimizer.add_param_group()`` ran (see ``_hooks.watch_add_param_group``).

        ``count="updates"``: schedule the new group and write its value now,
        before the next update (which the post-hook would otherwise only follow).
        A group that has no schedule (one schedule per group) is refused before
        every update by a step pre-hook, and by :meth:`step`/:meth:`values_at`.
        ``count="calls"``: the next :meth:`step` schedules it (torch's timing).
        """
        if self._tracker is None or self._device_step is not None:
            return
        try:
            self._apply(self.last_epoch)
        except ValueError:
            if self._refuse_handle is None:
                self._refuse_handle = register_first_pre_hook(self.optimizer, RefuseUnscheduledGroups(self))
                self._handles.append(self._refuse_handle)

    def _refresh_bases(self) -> None:
        # The optimizer's checkpoint carries the initial values; follow them, as a scheduler built after
        # optimizer.load_state_dict() would (torch's setdefault('initial_lr') rule).
        self._sync_groups()
        slot = self._slot
        if self.mode == "factor" and all(slot.has_base(g) for g in self.optimizer.param_groups):
            self._set_bases([slot.read_base(g) for g in self.optimizer.param_groups])

    def _set_bases(self, bases: Sequence[float]) -> None:
        """Set the base values and rebuild what the hot path reads (evaluators, scales, the fast path)."""
        self._bases = [float(b) for b in bases]
        self.base_lrs = list(self._bases)
        self._scales = self._bases if self.mode == "factor" else [1.0] * len(self._bases)
        # Each schedule's formula compiled once to a function of a float step (Schedule.scalar_function);
        # groups sharing a schedule share the function, and _apply evaluates it once per step.
        self._evals = [s.scalar_function() for s in self.schedules]
        self._plan()

    @property
    def plateau(self) -> Plateau | None:
        """The :class:`~lrkit.Plateau` multiplier, or None.  Setting it rewrites nothing until the next write."""
        return self._plateau

    @plateau.setter
    def plateau(self, plateau: Plateau | None) -> None:
        if plateau is not None and not isinstance(plateau, Plateau):
            raise TypeError(f"plateau must be an lrkit.Plateau, got {plateau!r}")
        self._plateau = plateau
        if hasattr(self, "_evals"):  # not during construction (_set_bases plans then)
            self._plan()

    def _plan(self) -> None:
        """Build ``self._write``, the hot path's writer, once per change of schedules, bases or plateau.

        The common case is every group on one schedule at a plain key (``"lr"``,
        not ``"betas[1]"``): one layer-wise LR decay, no-decay groups, or just
        one group.  ``_write(t)`` then evaluates the compiled formula once,
        multiplies by the plateau scale (if any) and by each group's base, and
        writes each group (a dict store for a float, :meth:`Slot.write` for a
        tensor or an int); it returns the values written, or None if the
        optimizer's groups changed in number (the caller then takes
        :meth:`_apply`, which schedules added groups or refuses).  The values are
        exactly those of :meth:`_apply`: ``base * (s(t) * scale)``.  Anything
        else (one schedule per group, an index slot) has no writer and takes
        :meth:`_apply`.  A compiled formula (:meth:`Schedule.scalar_function`)
        is inlined into a generated writer and post-hook (:mod:`lrkit.torch._plan`);
        an interpreted one (untraceable) gets the same generated code around one
        call of it.
        """
        # Values kept as one float stand for the groups the plan being replaced wrote: make them lists first.
        clock = self._clock
        clock.written, clock.last_lr = self._written, self._last_lr
        self._plan_n = len(self._scales)  # the n of the generated writer (lrkit.torch._plan)
        self._write = None
        self._plan_floats = all(type(g.get(self._slot.key)) is float for g in self.optimizer.param_groups)
        tracker = self._tracker if hasattr(self, "_tracker") else None  # None during construction: planned again
        if tracker is not None:
            tracker.install(None)
        evals, slot = self._evals, self._slot
        if not evals or slot.index is not None or len(set(evals)) != 1:
            return
        ev = evals[0]
        compiled = getattr(ev, "__name__", "") == "_scalar"
        if not compiled:  # the interpreted fallback: make sure a float is written
            raw = ev

            def ev(t: float) -> float:
                return float(raw(t))

        self._write, after = generate(
            self.schedules[0],
            optimizer=self.optimizer,
            key=slot.key,
            scales=tuple(self._scales),
            plateau=self._plateau,
            slow_write=slot.write,
            floats=self._plan_floats,
            evaluate=ev,
            inline=compiled,  # compiled and checked: inline the same formula
            tracker=tracker,
            callback=dynamo_callback(),
        )
        if tracker is not None and after is not None and getattr(self, "_device_step", None) is None:
            tracker.install(hidden_from_dynamo(after))

    # -- the per-update state, kept in self._clock (see _hooks.Clock) ---------------------
    @property
    def last_epoch(self) -> int:
        """The step whose values are in the groups (torch's name): updates applied, or ``step()`` calls."""
        return self._clock.last_epoch

    @last_epoch.setter
    def last_epoch(self, value: int) -> None:
        self._clock.last_epoch = value

    # The values are kept as the generated writer returns them: a list, or one float for every group when all
    # groups have the same base (see _plan); these two properties always give a list.
    def _as_list(self, values: list[float] | float) -> list[float]:
        return values if values.__class__ is list else [values] * self._plan_n  # type: ignore[list-item,return-value]

    @property
    def _last_lr(self) -> list[float]:  # torch's name: what get_last_lr() returns
        return self._as_list(self._clock.last_lr)

    @_last_lr.setter
    def _last_lr(self, values: list[float] | float) -> None:
        self._clock.last_lr = values

    @property
    def _written(self) -> list[float]:  # the values in the groups
        return self._as_list(self._clock.written)

    @_written.setter
    def _written(self, values: list[float] | float) -> None:
        self._clock.written = values

    @property
    def _seen(self) -> int:  # the clock at the last step() that moved (count="updates")
        return self._clock.stepped

    @_seen.setter
    def _seen(self, step: int) -> None:
        self._clock.stepped = step

    @property
    def _step_count(self) -> int:  # torch's name, checkpointed (HF accelerate bumps it too)
        return self._clock.step_count

    @_step_count.setter
    def _step_count(self, count: int) -> None:
        self._clock.step_count = count

    # -- the hot path --------------------------------------------------------------
    def step(self, epoch: int | None = None) -> None:
        """Write the values of the current step: ``t`` = updates applied (``count="updates"``) or calls.

        With ``count="updates"`` (default) the optimizer post-hook has already
        written the values of ``t`` = updates applied after each update, so
        this only checks (and keeps torch's API): calling ``step()`` once per
        update, per micro-batch, per epoch, twice or never gives the same LRs.
        ``count="calls"``: every call advances one step (torch's behaviour).
        ``step(k)`` (torch's deprecated form) is :meth:`set_step`.
        """
        # The fast path, taken from the second call on (the first checks its caller) while no device counter
        # owns the values: under count="updates", when the post-hook has written the values of the updates
        # applied (last_epoch == updates), a step() after an update only hands them to get_last_lr(); under
        # count="calls" it writes through the generated writer.  It touches the slotted clock only (_hooks.Clock).
        clock = self._fast
        if clock is not None and epoch is None:
            if self._tracker is not None:
                t = clock.updates
                # == last_epoch: the post-hook wrote step t (not so if it raised, or last_epoch was set by hand)
                if t != clock.stepped and t == clock.last_epoch:
                    clock.stepped = t
                    clock.step_count += 1
                    clock.last_lr = clock.written
                    return
            else:
                write = self._write
                if write is not None:
                    t = clock.last_epoch + 1
                    values = write(t)
                    if values is not None:
                        clock.step_count += 1
                        clock.last_lr = clock.written = values
                        clock.last_epoch = t
                        return
        self._step(epoch)

    def _step(self, epoch: int | None) -> None:
        """:meth:`step` in full: the first call, no update since the last, a jump, the device counter, new groups."""
        if epoch is not None:
            self.set_step(epoch)
            return
        tracker = self._tracker
        if tracker is not None:
            t = self._clock.updates
            if t == self._seen:  # no update since the previous step(): nothing to do
                if not self._idle_checked:
                    self._check_idle()
                return
            self._seen = t
        else:
            t = self.last_epoch + 1
        count = self._step_count
        if count == 1:
            refuse_torch_containers(sys._getframe(2))  # once: is a ChainedScheduler calling us (through step)?
        self._step_count = count + 1
        if t != self.last_epoch:  # count="calls", or the post-hook did not write (device_step mode)
            write = self._write
            values = None if write is None else write(t)
            if values is None:
                self._apply(t)  # may raise for a group added without a schedule: the step is then not taken
            else:
                self._last_lr = self._written = values
            self.last_epoch = t
        else:  # written by the post-hook: now they are the last values in torch's sense too
            self._clock.last_lr = self._clock.written
        self._fast = self._clock if self._device_step is None else None

    def _write_ahead(self, t: int) -> None:
        """The post-hook's job after update ``t - 1`` was applied: write the values of step ``t``."""
        self._check_plan()
        used = self._written  # a list: the writes below may plan again for another number of groups
        write = self._write
        values = None if write is None else write(t)
        if values is None:
            self._warn_unwatched_groups(t)
            self._apply(t)
        else:
            self._written = values
        self._last_lr = used  # get_last_lr(): the values of the update just applied, until step()
        self.last_epoch = t

    def _warn_unwatched_groups(self, t: int) -> None:
        """Warn that update ``t - 1`` ran with groups the scheduler never saw (``param_groups.append``).

        ``add_param_group`` is watched and schedules a new group before the
        next update, so under ``count="updates"`` a group count that grew by
        the time the post-hook runs means a group was added some other way and
        the update just applied used that group's own value, not ``base *
        s(t)``.  Seeing it before the update would cost a pre-hook on every
        update; this costs nothing on the common path and says so at once.
        """
        groups = self.optimizer.param_groups
        known = len(self.schedules)
        if self._tracker is None or len(groups) <= known:
            return
        key = self._slot.key  # .get: a group put in by hand may lack the key (_apply then names it)
        shown = ", ".join(f"param_groups[{i}][{key!r}]={groups[i].get(key)!r}" for i in range(known, len(groups)))
        warnings.warn(
            f"{len(groups) - known} param group(s) were added without optimizer.add_param_group() (e.g. "
            f"optimizer.param_groups.append), so update {t - 1} ran at their own unscheduled values ({shown}); "
            f"{type(self).__name__} schedules them from the next update on. Use optimizer.add_param_group()",
            UserWarning,
            stacklevel=2,
        )

    @property
    def _schedulers(self) -> Any:
        # torch's SequentialLR.__init__ undoes its children's initial step with recursive_undo(), which asks
        # hasattr(child, "_schedulers") first; nothing else reads this name on a scheduler that is not a
        # container.  hasattr() only swallows AttributeError, so this refuses SequentialLR at construction.
        raise TypeError(CONTAINER_MESSAGE.format(name=type(self).__name__, container="SequentialLR"))

    def _check_idle(self) -> None:
        """Warn once about ``step()`` calls that cannot be part of a training loop.

        A ``step()`` with no update since the previous one is expected in a
        training loop (an AMP update skipped by ``GradScaler``, an accumulation
        micro-batch, ``step()`` called twice, per micro-batch), and then it
        silently changes nothing.  Before any update was applied (since
        construction or the last resume/:meth:`set_step`) and with no gradient
        in any group it is previewing by stepping or stepping before training,
        which gives a flat line under ``count="updates"``: say so, once.  This
        is torch's own situation for its "``lr_scheduler.step()`` before
        ``optimizer.step()``" warning (which, like this one, also fires if
        ``GradScaler`` skips the very first update and the gradients were
        zeroed before ``step()``).
        """
        if self._tracker is None or self._clock.updates != self._idle_origin:
            self._idle_checked = True  # an update was applied: a later no-op step() is part of a loop
            return
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    return
        self._warned_idle = self._idle_checked = True
        warnings.warn(
            f"{type(self).__name__}.step() was called before any optimizer update and with no "
            "gradients: the schedule did not advance (count='updates' counts applied optimizer updates). To "
            "preview the values use s(np.arange(n)) or scheduler.values_at(t); to advance on every call pass "
            "count='calls'",
            UserWarning,
            stacklevel=4,  # the caller of step() (step -> _step -> here)
        )

    def _check_plan(self) -> None:
        """Plan again if a group's value stopped being a plain float (the plan stores floats without looking).

        Called on every path but the fast one (resumes, jumps, the generic
        post-hook), so a value replaced by a tensor is written in place again
        from then on.  The values written are right either way; only the type
        of a value swapped in by hand could be lost until then.
        """
        if self._plan_floats:
            key = self._slot.key
            for group in self.optimizer.param_groups:
                if type(group.get(key)) is not float:
                    self._plan()
                    return

    def _apply(self, t: int) -> None:
        """Write the values of step ``t`` to every group (closed form, no history)."""
        if len(self.optimizer.param_groups) != len(self.schedules):
            self._sync_groups()
        self._check_plan()
        if self._write is not None:
            values = self._write(t)
            if values is not None:
                self._last_lr = self._written = values
                return
        ft = float(t)
        mult = 1.0 if self.plateau is None else self.plateau.scale
        write = self._slot.write
        values = []
        shared: dict[Any, float] = {}  # one evaluation per distinct schedule, however many groups share it
        for group, ev, base in zip(self.optimizer.param_groups, self._evals, self._scales, strict=True):
            r = shared.get(ev)
            if r is None:
                # base * (s(t) * scale), the order of the generated writer (lrkit.torch._plan): the same floats
                r = shared[ev] = float(ev(ft)) * mult
            v = base * r
            values.append(v)
            write(group, v)
        self._last_lr = self._written = values

    # -- torch API --------------------------------------------------------------------
    def values_at(self, t: int) -> list[float]:
        """The values this scheduler writes at step ``t`` (pure; writes nothing)."""
        self._sync_groups()
        mult = 1.0 if self.plateau is None else self.plateau.scale
        return [base * (s(t) * mult) for s, base in zip(self.schedules, self._scales, strict=True)]

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
        if step > 2**63 - 1:  # torch's last_epoch is an int64, and float(2**1100) is an OverflowError
            raise ValueError(f"step must be at most 2**63 - 1, got an int of {int(step).bit_length()} bits")
        self._apply(int(step))
        self._set_clock(int(step))

    def _set_clock(self, step: int) -> None:
        """Move the clock (and ``last_epoch``) to ``step`` without writing (resume, jumps)."""
        clock = self._clock
        clock.last_epoch = clock.stepped = clock.updates = step
        self._idle_origin = step
        self._idle_checked = self._warned_idle

    @property
    def updates_applied(self) -> int:
        """The schedule's clock: optimizer updates applied (``count="updates"``) or ``step()`` calls."""
        return self.last_epoch if self._tracker is None else self._clock.updates

    def report(self, metric: float | torch.Tensor) -> bool:
        """Feed a validation metric to the :class:`~lrkit.Plateau` multiplier; rewrite the values.

        Returns True if the multiplier was reduced.  ``ValueError`` without a
        plateau or for a metric that is not finite.
        """
        if self.plateau is None:
            raise ValueError("report() needs a plateau: construct with plateau=lrkit.Plateau(...)")
        reduced = self.plateau.update(metric)
        self._apply(self.last_epoch)
        return reduced

    # -- resume ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain data: the step, the schedules' dicts, the base values, the plateau state.

        Loads with ``torch.load(weights_only=True)``; its size does not depend on the step.
        """
        return _checkpoint.state_dict(self)

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
        seed's ``WarmupMultiStepLR``) is never taken silently: its schedule
        parameters (``total_steps``, ``T_max``, ``milestones``...) must match
        this scheduler's attributes of the same name, else ``"raise"`` and
        ``"checkpoint"`` refuse and ``"override"`` takes the step and base LRs;
        a ``UserWarning`` names what was taken.
        """
        policy = self.on_mismatch if on_mismatch is None else choice("on_mismatch", on_mismatch, MISMATCH_POLICIES)
        _checkpoint.load_state_dict(self, state_dict, policy)

    # -- on-device step (CUDA graphs) ---------------------------------------------------
    def device_counter(self, device: torch.device | str | None = None) -> torch.Tensor:
        """Keep a copy of the step on ``device`` for :meth:`device_step`; returns that tensor (float64).

        Every driven value must be a tensor (``lr=torch.tensor(...)``) so it
        can be written in place.
        """
        slot = self._slot
        self._sync_groups()
        for i, group in enumerate(self.optimizer.param_groups):
            cur = slot.read(group)
            if not isinstance(cur, torch.Tensor):
                raise ValueError(
                    f"device_step needs tensor values: param_groups[{i}][{self.hyperparam!r}] is {cur!r}; "
                    "build the optimizer with lr=torch.tensor(...)"
                )
        if device is None:
            device = slot.read(self.optimizer.param_groups[0]).device
        self._device_step = torch.tensor(float(self.last_epoch), dtype=torch.float64, device=device)
        self._fast = None
        self._plan()  # the generic post-hook from now on: it leaves the values to device_step()
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
        self._sync_groups()
        t.add_(1.0)
        mult = 1.0 if self.plateau is None else self.plateau.scale
        write = self._slot.write_tensor
        for group, s, base in zip(self.optimizer.param_groups, self.schedules, self._scales, strict=True):
            write(group, (s(t) * mult) * base)  # base * (s(t) * scale), as on the host

    def sync_from_device(self) -> int:
        """Copy the on-device step back to ``last_epoch`` (one host sync); return it."""
        if self._device_step is None:
            raise RuntimeError("no device counter: call device_counter() first")
        self._set_clock(int(self._device_step.item()))
        self._last_lr = self._written = self.values_at(self.last_epoch)
        return self.last_epoch

    # -- copies ------------------------------------------------------------------------
    #: what a copy rebuilds instead of copying: functions generated for (and hooks registered on) one optimizer.
    _REBUILT = ("_write", "_evals", "_tracker", "_handles", "_refuse_handle", "_fast")

    def __getstate__(self) -> dict[str, Any]:
        """Plain state for ``copy.deepcopy`` and pickle: everything but the plan and the hooks.

        ``Optimizer.__getstate__`` keeps no hooks, so a copied optimizer has
        none of this scheduler's; copying the plan instead would leave a copy
        that writes to the *original* optimizer.  :meth:`__setstate__` plans
        again and registers the hooks on the copied optimizer.
        """
        return {k: v for k, v in self.__dict__.items() if k not in self._REBUILT}

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if "_clock" in state:  # its own clock: copy.copy hands over the original's object itself
            state["_clock"] = state["_clock"].copy()
        else:  # pickled by lrkit 0.2.0, whose per-update state was plain attributes
            clock = state["_clock"] = Clock(state.pop("last_epoch"))
            clock.updates = state.pop("_updates", clock.last_epoch)
            clock.stepped = state.pop("_seen", clock.last_epoch)
            clock.step_count = state.pop("_step_count", 1)
            clock.written = state.pop("_written", [])
            clock.last_lr = state.pop("_last_lr", [])
            state.setdefault("_plan_n", len(state.get("_bases", ())))
        self.__dict__.update(state)
        self._write = None
        self._refuse_handle = None
        self._handles = []
        self._tracker = None
        self._fast = None
        optimizer = self.optimizer
        if self.count == "updates":
            self._tracker = UpdateHooks(self, self._clock)
            self._handles.extend(register_update_hooks(optimizer, self._tracker))
        self._handles.append(optimizer.register_load_state_dict_post_hook(Reapply(self)))
        # A discarded scheduler's hooks would stay on the optimizer, each paying its generic path on every update
        # for a clock nobody reads: remove them when the scheduler is collected (the list holds no reference to it).
        weakref.finalize(self, _remove_handles, self._handles)
        watch_add_param_group(optimizer, self)
        self._set_bases(self._bases)  # the evaluators and the plan, for the copied optimizer
        if len(optimizer.param_groups) != len(self.schedules):
            self._group_added()  # as the original: schedule the group, or refuse it before every update

    def __repr__(self) -> str:
        sched = repr(self.schedules[0]) if len(set(self.schedules)) == 1 else repr(list(self.schedules))
        return f"{type(self).__name__}({self.mode}={sched}, hyperparam={self.hyperparam!r}, step={self.last_epoch})"
