"""The optimizer hooks a :class:`~lrkit.torch.Scheduler` registers.

With ``count="updates"`` (the default) one :class:`UpdateHooks` object is both

* a step **post**-hook that counts the updates really applied (``updates``), and
* a step **pre**-hook that writes the values of step ``updates`` just before the
  update runs, so the update uses ``base * s(updates applied)`` whether the
  loop calls ``Scheduler.step()`` once per update, once per epoch, twice, or never.

Skipped updates are not counted:

* an AMP step skipped by ``torch.amp.GradScaler`` on a plain optimizer never
  calls ``optimizer.step()``, so neither hook runs;
* a *fused* optimizer (``AdamW(fused=True)``, ``SGD(fused=True)``, which set
  ``_step_supports_amp_scaling``) is always called by ``GradScaler.step``: the
  scaler sets ``optimizer.found_inf`` (a one-element tensor, the sum of the
  per-device inf/NaN flags) and the fused kernel skips the update when it is
  non-zero.  The attribute exists until ``optimizer.step()`` returns, so the
  post-hook reads it.  Reading it is a host sync (free on the CPU; on CUDA it
  waits for the unscale kernels, as the non-fused ``GradScaler`` path already
  does for every step).

Both hooks are hidden from ``torch.compile``: while dynamo traces or watches
frames, they run their body through ``torch.compiler.disable``.  They read and bump Python
ints, which dynamo would otherwise guard on and recompile the optimizer step
for at every update.  The price is a graph break in torch's hook loop, so dynamo
runs that thin wrapper eagerly and compiles the optimizer's own ``step`` frame
(one graph for the whole run, tested in ``test_torch_compile.py``).
"""

from __future__ import annotations

import functools
import sys
import weakref
from typing import TYPE_CHECKING, Any

import torch
from torch.compiler import is_compiling
from torch.optim import Optimizer

if TYPE_CHECKING:
    from ._scheduler import Scheduler


try:  # private, but the only way to ask "is a torch.compile'd frame running?" without the cost of asking dynamo
    from torch._C._dynamo.eval_frame import get_eval_frame_callback as _eval_frame_callback
except ImportError:  # pragma: no cover - another torch: always take the safe (disabled) path

    def _eval_frame_callback() -> Any:
        return True


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
    must neither count nor get the schedule's LR (AdamW's decoupled weight
    decay would then move the weights).  Only looked for while the optimizer
    has no state (its first step, or every step of a stateless optimizer), by
    looking a few frames up: the hooks, torch's hook-calling wrapper, its caller.
    """
    frame: Any = sys._getframe(1)
    for _ in range(8):
        if frame is None:
            return False
        if frame.f_code.co_name == "_init_optim_state":
            return True
        frame = frame.f_back
    return False


class UpdateHooks:
    """Count applied updates (post-hook) and write the current step's values before each update (pre-hook).

    ``updates`` is the scheduler's clock under ``count="updates"``.  A weak
    reference to the scheduler, so the optimizer does not keep a discarded
    scheduler alive.
    """

    __slots__ = ("_ignore", "_ref", "updates")

    def __init__(self, scheduler: Scheduler, updates: int) -> None:
        self._ref = weakref.ref(scheduler)
        self.updates = updates
        self._ignore = False  # the step in progress is not an update (see is_state_init_step)

    def before(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if is_compiling() or _eval_frame_callback() is not None:  # dynamo_watching(), inlined: hot path
            self._before_hidden(optimizer)  # see the module docstring
        else:
            self._before(optimizer)

    def after(self, optimizer: Optimizer, args: Any, kwargs: Any) -> None:
        if is_compiling() or _eval_frame_callback() is not None:
            self._after_hidden(optimizer)
        else:
            self._after(optimizer)

    def _before(self, optimizer: Optimizer) -> None:
        # DCP's state-init step sets every lr to 0 first: that cheap test keeps a stateless optimizer (plain SGD,
        # whose state stays empty) from walking the stack at every update.
        if not optimizer.state and lr_is_zero(optimizer) and is_state_init_step(optimizer):
            self._ignore = True
            return
        sched = self._ref()
        # Nothing to do in a loop that calls step() after every update (the values of step `updates` are
        # already in the groups): two int compares and a len() per update.
        if sched is not None and (
            sched.last_epoch != self.updates or len(optimizer.param_groups) != len(sched.schedules)
        ):
            sched._write_current()

    def _after(self, optimizer: Optimizer) -> None:
        if self._ignore:
            self._ignore = False
        elif getattr(optimizer, "found_inf", None) is None or not update_was_skipped(optimizer):
            self.updates += 1

    # torch.compiler.disable costs about 1 µs per call in plain eager code (it swaps dynamo's frame
    # callback), so the hooks only go through it when dynamo is tracing or watching frames.
    @torch.compiler.disable
    def _before_hidden(self, optimizer: Optimizer) -> None:
        self._before(optimizer)

    @torch.compiler.disable
    def _after_hidden(self, optimizer: Optimizer) -> None:
        self._after(optimizer)


def register_update_hooks(optimizer: Optimizer, hooks: UpdateHooks) -> list[Any]:
    """Register ``hooks`` on ``optimizer``; the pre-hook goes first among the optimizer's own pre-hooks.

    First, so that other pre-hooks (loggers, LR recorders, a second lrkit
    scheduler driving another hyperparameter) see the values this update uses.
    Torch has no ``prepend=`` for step pre-hooks; the hooks live in an ordered
    dict keyed by the handle's id, so moving the entry to the front is the same
    thing.  If torch's layout changes, the hook simply stays last.
    """
    handles = [optimizer.register_step_pre_hook(hooks.before), optimizer.register_step_post_hook(hooks.after)]
    pre_hooks = getattr(optimizer, "_optimizer_step_pre_hooks", None)
    try:
        pre_hooks.move_to_end(handles[0].id, last=False)  # type: ignore[union-attr]
    except (AttributeError, KeyError):
        pass
    return handles


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
    """Make ``optimizer.add_param_group`` turn off the scheduler's one-group fast path.

    Torch has no hook for added groups.  Wrapping the method on this
    optimizer instance (as torch's own ``LRScheduler`` wraps ``step``) keeps
    the check out of ``step()``: the next ``step()`` then takes the general
    path, which schedules the new group.  Wrappers chain, so several
    schedulers on one optimizer (LR and momentum) each see the new group.
    """
    original = optimizer.add_param_group
    ref = weakref.ref(scheduler)

    @functools.wraps(original)
    def add_param_group(param_group: dict[str, Any]) -> None:
        original(param_group)
        sched = ref()
        if sched is not None:
            sched._fast = None

    optimizer.add_param_group = add_param_group  # type: ignore[method-assign]
