"""The optimizer hooks a :class:`~lrkit.torch.Scheduler` registers.

With ``count="updates"`` (the default) one optimizer step **post**-hook does
the per-update work, once an update has really been applied:

* it counts the update (``UpdateHooks.updates``, the scheduler's clock), and
* it writes the values of the next update, ``base * s(updates applied)``,
  right away ("write-ahead"), so every update runs at the values of its own
  step whether the loop calls ``Scheduler.step()`` once per update, once per
  epoch, twice, or never.  ``step()`` then only finds them written.

Every other way the values can go stale writes them at once instead of
waiting for a pre-hook: construction, :meth:`~Scheduler.set_step`, a resume
(``load_state_dict``, and ``Optimizer.load_state_dict`` through
:class:`Reapply`), :meth:`~Scheduler.report`, and ``add_param_group`` (see
:func:`watch_add_param_group`).  One hook per update instead of a pre-hook and
a post-hook halves what torch's hook loop costs lrkit (issue 13); a step
pre-hook is only registered when an added group has no schedule, to refuse
the update before it runs.

Updates that are not updates are not counted:

* an AMP step skipped by ``torch.amp.GradScaler`` on a plain optimizer never
  calls ``optimizer.step()``, so the hook does not run;
* a *fused* optimizer (``AdamW(fused=True)``, ``SGD(fused=True)``, which set
  ``_step_supports_amp_scaling``) is always called by ``GradScaler.step``: the
  scaler sets ``optimizer.found_inf`` (a one-element tensor, the sum of the
  per-device inf/NaN flags) and the fused kernel skips the update when it is
  non-zero.  The attribute exists until ``optimizer.step()`` returns, so the
  post-hook reads it.  Reading it is a host sync (free on the CPU; on CUDA it
  waits for the unscale kernels, as the non-fused ``GradScaler`` path already
  does for every step);
* the fake step of ``torch.distributed.checkpoint``'s ``_init_optim_state``
  (see :func:`is_state_init_step`), which runs with every ``lr`` set to 0.

The hook is hidden from ``torch.compile``: it is skipped by dynamo (its own
frame is never traced), and while dynamo traces or watches frames the generic
hook runs its body through ``torch.compiler.disable``.  It reads and bumps
Python ints, which dynamo would otherwise guard on and recompile the optimizer
step for at every update.  The price is a graph break in torch's hook loop, so
dynamo runs that thin wrapper eagerly and compiles the optimizer's own ``step``
frame (one graph for the whole run, tested in ``test_torch_compile.py``).  The
generated hook of the common case (``lrkit.torch._plan``: an inlined formula,
float values) calls C functions only, which dynamo never intercepts, so it
skips that test; any other generated hook makes it first.
"""

from __future__ import annotations

import functools
import sys
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch.optim import Optimizer

if TYPE_CHECKING:
    from ._scheduler import Scheduler


try:  # private, but the only way to ask "is a torch.compile'd frame running?" without the cost of asking dynamo
    from torch._C._dynamo.eval_frame import get_eval_frame_callback as _eval_frame_callback
except ImportError:  # pragma: no cover - another torch: always take the safe (disabled) path

    def _eval_frame_callback() -> Any:
        return True


try:  # dynamo never traces a skipped function's own frame (no wrapper, no cost in eager code)
    from torch._dynamo.decorators import skip as _dynamo_skip
except ImportError:  # pragma: no cover - another torch: the frame-callback test alone decides

    def _dynamo_skip(fn: Any) -> Any:
        return fn


def dynamo_watching() -> bool:
    """True while a ``torch.compile``d function runs (dynamo's frame callback is installed).

    Then even a frame dynamo decides to run eagerly (torch's hook-calling
    wrapper, after a graph break in its loop) has its callees intercepted, so
    the hooks must hide their whole body, not just themselves.
    """
    return _eval_frame_callback() is not None


def update_was_skipped(optimizer: Optimizer) -> bool:
    """True if ``GradScaler`` told this (fused) optimizer to skip the update it just ran.

    ``GradScaler.step`` sets ``optimizer.found_inf`` only for optimizers that
    handle the scaling themselves (fused ones) and deletes it after
    ``optimizer.step()`` returns; any non-zero value means the kernel skipped.
    """
    found_inf = getattr(optimizer, "found_inf", None)
    return found_inf is not None and bool(found_inf)


def lr_is_zero(optimizer: Optimizer) -> bool:
    """The first group's ``lr`` is 0 (a float, or a CPU tensor as DCP writes for tensor LRs; no device sync)."""
    groups = optimizer.param_groups
    lr = groups[0].get("lr") if groups else None
    if isinstance(lr, torch.Tensor):
        return lr.device.type == "cpu" and lr.numel() == 1 and not bool(lr)
    return lr == 0


def is_state_init_step(optimizer: Optimizer) -> bool:
    """True for the fake step of ``torch.distributed.checkpoint.state_dict``'s ``_init_optim_state``.

    ``get_state_dict``/``set_state_dict`` (FSDP2, distributed checkpoints) give
    an optimizer with no state zero gradients and ``lr=0`` and call
    ``optimizer.step()`` to create its state: not an update of the model, so it
    must not count (and the values are not written: DCP restores its own
    afterwards).  Only looked for when the first group's ``lr`` is 0 and is
    not the object seen after the previous update, by looking a few frames up:
    the hook (and ``torch.compiler.disable``'s wrapper), torch's hook-calling
    wrapper, its caller.
    """
    frame: Any = sys._getframe(1)
    for _ in range(12):
        if frame is None:
            return False
        if frame.f_code.co_name == "_init_optim_state":
            return True
        frame = frame.f_back
    return False


class Clock:
    """A scheduler's per-update state, in one slotted object that the hot path reads and writes.

    ``Scheduler.step()`` and the generated post-hook (:mod:`lrkit.torch._plan`)
    touch only this object, never the scheduler's own attributes: slot access
    stays fast even after something (``copy``, ``pickle``, ``vars()``) has
    materialized the scheduler's ``__dict__``, which in CPython 3.11 makes each
    attribute access several times slower.  The scheduler's ``last_epoch``,
    ``_last_lr``, ``_written``, ``_seen`` and ``_step_count`` are properties
    over these fields.

    * ``updates``: optimizer updates applied (``count="updates"``, the clock);
    * ``last_epoch``: the step whose values are in the groups (torch's name);
    * ``written``: those values; ``last_lr``: what ``get_last_lr()`` returns
      (after an update and before ``step()``, the values that update used);
    * ``stepped``: ``updates`` at the last ``step()`` that moved;
    * ``step_count``: torch's ``_step_count``;
    * ``seen_lr``: the first group's ``lr`` object as the last update left it
      (while it is still there, nobody, e.g. DCP's state-init step, replaced it).
    """

    __slots__ = ("last_epoch", "last_lr", "seen_lr", "step_count", "stepped", "updates", "written")

    def __init__(self, step: int) -> None:
        self.updates = self.last_epoch = self.stepped = step
        self.step_count = 1
        self.seen_lr: Any = None
        self.written: list[float] = []
        self.last_lr: list[float] = []

    def copy(self) -> Clock:
        """A clock of its own with the same fields (the value lists are never changed in place)."""
        new = Clock(self.last_epoch)
        for name in self.__slots__:
            setattr(new, name, getattr(self, name))
        return new


class UpdateHooks:
    """The post-hook of ``count="updates"`` that advances the scheduler's :class:`Clock` (module docstring).

    ``after`` is the generic step post-hook, a plain function (no bound method
    to create per call); the scheduler may :meth:`install` a faster one
    specialised to its plan (``Scheduler._plan``), which hands every unusual
    update back to ``after``.  The hooks hold this object and, through it, a
    weak reference to the scheduler, so the optimizer does not keep a
    discarded scheduler alive (its finalizer removes the hooks).
    """

    __slots__ = ("_handle", "_ref", "after", "clock")

    def __init__(self, scheduler: Scheduler, clock: Clock) -> None:
        self._ref = weakref.ref(scheduler)
        self.clock = clock
        self.after = self._make_after()
        self._handle: Any = None

    def install(self, hook: Callable[[Optimizer, Any, Any], None] | None) -> None:
        """Make ``hook`` (or the generic ``after`` for None) the registered post-hook, in the same place.

        The handle's dict entry is replaced, so the hook keeps its position
        among the optimizer's post-hooks; if torch's layout differs, the
        generic hook stays (always correct, only slower).
        """
        handle = self._handle
        hooks_dict = None if handle is None else handle.hooks_dict_ref()
        if hooks_dict is not None and handle.id in hooks_dict:
            hooks_dict[handle.id] = self.after if hook is None else hook

    def _make_after(self) -> Callable[[Optimizer, Any, Any], None]:
        hooks = self
        callback = _eval_frame_callback

        # Skipped by dynamo, so dynamo never traces this frame symbolically: a compiled optimizer step graph-breaks
        # at the call and runs it eagerly, with dynamo's frame callback installed, which the test below sees.  So
        # plain eager code pays one C call here, not torch.compiler.is_compiling() (a Python call) on top.
        @_dynamo_skip
        def after(optimizer: Optimizer, args: Any, kwargs: Any) -> None:
            if callback() is not None:  # dynamo is watching frames: hide the body, see the module docstring
                hooks._after_hidden(optimizer)
            else:
                hooks._after(optimizer)

        return after

    def _after(self, optimizer: Optimizer) -> None:
        clock = self.clock
        groups = optimizer.param_groups
        lr = groups[0].get("lr") if groups else None
        if lr is not clock.seen_lr and lr_is_zero(optimizer) and is_state_init_step(optimizer):
            return  # DCP's fake step: not an update
        # getattr, not optimizer.__dict__: reading __dict__ materializes it, and every later attribute access
        # of the optimizer (torch's own step reads dozens) becomes slower for the rest of the run.
        if update_was_skipped(optimizer):
            return  # a fused kernel skipped this update (AMP)
        t = clock.updates + 1
        clock.updates = t
        sched = self._ref()
        if sched is not None and sched._device_step is None:  # the on-device counter owns the values (device_step)
            sched._write_ahead(t)
            groups = optimizer.param_groups
        clock.seen_lr = groups[0].get("lr") if groups else None

    # torch.compiler.disable costs about 1 µs per call in plain eager code (it swaps dynamo's frame
    # callback), so the hook only goes through it when dynamo is tracing or watching frames.
    @torch.compiler.disable
    def _after_hidden(self, optimizer: Optimizer) -> None:
        self._after(optimizer)


def register_update_hooks(optimizer: Optimizer, hooks: UpdateHooks) -> list[Any]:
    """Register the post-hook of ``hooks`` on ``optimizer``; returns its handle in a list."""
    hooks._handle = optimizer.register_step_post_hook(hooks.after)
    return [hooks._handle]


def hidden_from_dynamo(hook: Callable[..., Any]) -> Callable[..., Any]:
    """``hook`` skipped by dynamo (its own frame is never traced; no wrapper, so no cost in eager code)."""
    return _dynamo_skip(hook)  # type: ignore[no-any-return]


def dynamo_callback() -> Callable[[], Any]:
    """The C function whose result is not None while dynamo watches frames (see :func:`dynamo_watching`)."""
    return _eval_frame_callback


def register_first_pre_hook(optimizer: Optimizer, hook: Callable[[Optimizer, Any, Any], None]) -> Any:
    """Register a step pre-hook that runs before the optimizer's other pre-hooks; returns its handle.

    First, so that other pre-hooks (loggers, LR recorders) never see an update
    that lrkit refuses.  Torch has no ``prepend=`` for step pre-hooks; the
    hooks live in an ordered dict keyed by the handle's id, so moving the
    entry to the front is the same thing.  If torch's layout changes, the hook
    simply stays last.
    """
    handle = optimizer.register_step_pre_hook(hook)
    pre_hooks = getattr(optimizer, "_optimizer_step_pre_hooks", None)
    try:
        pre_hooks.move_to_end(handle.id, last=False)  # type: ignore[union-attr]
    except (AttributeError, KeyError):
        pass
    return handle


class RefuseUnscheduledGroups:
    """Step pre-hook registered when ``add_param_group`` added a group that has no schedule.

    It raises the ``ValueError`` naming the group before every update, so no
    update runs at an unscheduled value.  A weak reference to the scheduler.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self._ref = weakref.ref(scheduler)

    def __call__(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        sched = self._ref()
        if sched is not None:
            sched._sync_groups()


class Reapply:
    """Optimizer load_state_dict post-hook: write the scheduler's current values again.

    ``Optimizer.load_state_dict`` replaces every param group with the saved one
    (saved ``lr`` included), so restoring the optimizer *after* the scheduler
    would otherwise leave whatever LR the checkpoint held.  A weak reference,
    so the optimizer does not keep a discarded scheduler alive.
    """

    def __init__(self, scheduler: Scheduler) -> None:
        self._ref = weakref.ref(scheduler)

    def __call__(self, optimizer: Optimizer) -> None:
        sched = self._ref()
        if sched is not None:
            sched._refresh_bases()
            sched._apply(sched.last_epoch)


def watch_add_param_group(optimizer: Optimizer, scheduler: Scheduler) -> None:
    """Make ``optimizer.add_param_group`` tell the scheduler (:meth:`Scheduler._group_added`).

    Torch has no hook for added groups.  Wrapping the method on this
    optimizer instance (as torch's own ``LRScheduler`` wraps ``step``) keeps
    the check out of the per-update path: the scheduler schedules the new
    group at once (``count="updates"``: it writes its value before the next
    update) or at the next ``step()``.  Wrappers chain, so several schedulers
    on one optimizer (LR and momentum) each see the new group.
    """
    original = optimizer.add_param_group
    ref = weakref.ref(scheduler)

    @functools.wraps(original)
    def add_param_group(param_group: dict[str, Any]) -> None:
        original(param_group)
        sched = ref()
        if sched is not None:
            sched._group_added()

    optimizer.add_param_group = add_param_group  # type: ignore[method-assign]
