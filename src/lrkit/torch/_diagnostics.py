"""Measure what the warmup and the peak LR depend on: sharpness and the LR range test.

* :func:`sharpness`: the top eigenvalue ``λ`` of the loss Hessian at the current
  parameters (Hessian-vector products + power iteration).  Gradient descent on
  a quadratic with that curvature is stable only for ``lr < 2 / λ`` (the
  critical learning rate); Kalra & Barkeshli 2024 show that warmup lets a
  network reduce ``λ`` so that a larger peak LR becomes stable.
* :func:`lr_range_test`: Smith 2017's LR range test, driven by an lrkit ramp,
  side-effect free (model, optimizer and torch's RNG are restored).

Neither computes a schedule: the ramp of the range test is an lrkit schedule
evaluated at each step.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer

from lrkit.base import Schedule
from lrkit.composition import warmup
from lrkit.schedules import constant, linear
from lrkit.validators import choice, real, whole_steps

__all__ = ["RangeTestResult", "lr_range_test", "range_test_schedule", "sharpness"]

RANGE_TEST_MODES = ("exponential", "linear")


def _params(model: torch.nn.Module) -> list[torch.Tensor]:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no parameter with requires_grad=True: there is no Hessian to measure")
    return params


def _loss(closure: Callable[[], Any]) -> torch.Tensor:
    if not callable(closure):
        raise TypeError(f"closure must be callable (returning the loss), got {type(closure).__name__}")
    loss = closure()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"closure() must return the loss as a one-element tensor, got {type(loss).__name__}")
    return loss.reshape(())


def sharpness(
    model: torch.nn.Module,
    closure: Callable[[], torch.Tensor],
    iters: int = 20,
    *,
    tol: float = 0.0,
    seed: int = 0,
) -> float:
    """The top eigenvalue ``λ`` of the Hessian of ``closure()`` w.r.t. the model's trainable parameters.

    Power iteration on Hessian-vector products (Pearlmutter's trick, two
    backward passes each): ``v ← H v / ‖H v‖`` from a random unit ``v``
    (``seed``), ``λ = vᵀ H v`` (the Rayleigh quotient of the last iterate).
    Power iteration finds the eigenvalue of largest *magnitude*; it is the top
    one whenever the Hessian has no negative eigenvalue larger in magnitude
    (the rule near a minimum, and after a few steps of training).  It converges
    like ``(λ₂/λ₁)^iters``; ``tol > 0`` stops earlier when ``λ`` changes by less
    than ``tol * |λ|``.

    Critical learning rate: gradient descent on ``L`` is stable along the top
    eigendirection only for ``lr < 2 / λ`` (on a quadratic, the error along it
    is multiplied by ``1 - lr * λ`` per step).  Cohen et al. 2021 ("edge of
    stability") find full-batch GD drives ``λ`` up to about ``2 / lr``; Kalra &
    Barkeshli 2024 show warmup lets the network lower ``λ`` while the LR rises.

    ``closure()`` computes and returns the loss (no ``backward``); it is called
    once.  The model's parameters, gradients and buffers (BatchNorm running
    statistics) are left as they were.

    Args:
        model: the ``torch.nn.Module`` whose trainable parameters define the Hessian.
        closure: returns the loss (a one-element tensor) at the current parameters.
        iters: power iterations (``>= 1``).
        tol: relative change of ``λ`` under which to stop early (0: run all ``iters``).
        seed: seed of the random start vector (the result is deterministic).

    Returns:
        ``λ`` as a Python float.
    """
    iters = whole_steps("iters", iters, minimum=1)
    tol = real("tol", tol, low=0.0)
    params = _params(model)
    buffers = {k: b.detach().clone() for k, b in model.named_buffers()}
    try:
        with torch.enable_grad():
            loss = _loss(closure)
            grads = torch.autograd.grad(loss, params, create_graph=True)
            gen = torch.Generator().manual_seed(int(seed))
            v = [torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device) for p in params]
            norm = torch.sqrt(sum((x * x).sum() for x in v))
            v = [x / norm for x in v]
            lam = math.nan
            for _ in range(iters):
                hv = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True)
                new = float(sum((a * b).sum() for a, b in zip(v, hv, strict=True)))
                norm = torch.sqrt(sum((x * x).sum() for x in hv))
                if float(norm) == 0.0:  # v is in the Hessian's null space: the curvature along it is 0
                    return new
                v = [x.detach() / norm for x in hv]
                done = tol > 0 and math.isfinite(lam) and abs(new - lam) <= tol * abs(new)
                lam = new
                if done:
                    break
    finally:
        with torch.no_grad():
            for k, b in model.named_buffers():
                b.copy_(buffers[k])
    return lam


def range_test_schedule(start: float, end: float, steps: int, mode: str = "exponential") -> Schedule:
    """The ramp of :func:`lr_range_test`: ``start`` at step 0, ``end`` at step ``steps - 1``.

    ``exponential``: ``warmup(constant(end), steps - 1, start_factor=start/end,
    method="exponential")``, i.e. ``end * (start/end) ** (1 - t/(steps-1))``
    (geometric, Smith's and torch-lr-finder's default); ``linear``:
    ``linear(start, end, steps - 1)``.
    """
    start = real("start", start, low=0.0, low_open=True)
    end = real("end", end, low=0.0, low_open=True)
    steps = whole_steps("steps", steps, minimum=2)
    mode = choice("mode", mode, RANGE_TEST_MODES)
    if end <= start:
        raise ValueError(f"end must be > start ({start!r}), got {end!r}")
    if mode == "linear":
        return linear(start, end, steps=steps - 1)
    return warmup(constant(end), steps=steps - 1, start_factor=start / end, method="exponential", prefix=True)


@dataclass(frozen=True)
class RangeTestResult:
    """What :func:`lr_range_test` measured.

    Attributes:
        lrs: the LR of each update run (the ramp's values, in order).
        losses: the smoothed loss after each of those updates' forward pass.
        raw_losses: the losses as returned by the closure.
        suggestion: the LR at the steepest descent of the smoothed loss (per log LR in
            exponential mode), ``None`` when too few points were recorded.
        diverged: whether the test stopped early because the loss blew up.
        schedule: the lrkit ramp that was driven.
    """

    lrs: tuple[float, ...]
    losses: tuple[float, ...]
    raw_losses: tuple[float, ...]
    suggestion: float | None
    diverged: bool
    schedule: Schedule
    mode: str = "exponential"

    def plot(self, path: str | None = None, ax: Any = None) -> Any:
        """Smoothed loss against the LR (log axis in exponential mode), the suggestion marked; returns the axes."""
        import matplotlib

        if path is not None and ax is None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig = None
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(self.lrs, self.losses, label="smoothed loss")
        if self.mode == "exponential":
            ax.set_xscale("log")
        if self.suggestion is not None:
            ax.axvline(self.suggestion, color="C3", linestyle="--", label=f"suggestion {self.suggestion:.3g}")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title("LR range test" + (" (stopped: diverged)" if self.diverged else ""))
        ax.legend()
        if path is not None and fig is not None:
            fig.savefig(path, dpi=100, bbox_inches="tight")
            plt.close(fig)
        return ax


def _suggest(lrs: Sequence[float], losses: Sequence[float], mode: str, skip_start: int, skip_end: int) -> float | None:
    # torch-lr-finder's and Lightning's rule: the steepest negative slope of the smoothed curve
    n = len(losses)
    lo, hi = skip_start, n - skip_end
    if hi - lo < 3:
        return None
    x = np.log(np.asarray(lrs[lo:hi])) if mode == "exponential" else np.asarray(lrs[lo:hi])
    y = np.asarray(losses[lo:hi])
    return float(lrs[lo + int(np.argmin(np.gradient(y, x)))])


def _set_lr(optimizer: Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        if isinstance(group["lr"], torch.Tensor):
            group["lr"].fill_(lr)  # a tensor LR stays the same object (torch.compile)
        else:
            group["lr"] = lr


def lr_range_test(
    model: torch.nn.Module,
    optimizer: Optimizer,
    closure: Callable[[], torch.Tensor],
    start: float = 1e-7,
    end: float = 10.0,
    steps: int = 100,
    mode: str = "exponential",
    *,
    smooth: float = 0.98,
    diverge: float = 4.0,
    skip_start: int = 10,
    skip_end: int = 1,
) -> RangeTestResult:
    """Smith 2017's LR range test: train while the LR rises, watch the loss, restore everything.

    For ``t = 0, 1, ...`` (at most ``steps`` updates): every param group's LR
    is set to ``ramp(t)`` (:func:`range_test_schedule`, an lrkit schedule from
    ``start`` to ``end``), then ``optimizer.zero_grad()``, ``loss = closure()``,
    ``loss.backward()``, ``optimizer.step()``.  The loss is smoothed by a
    bias-corrected exponential moving average (``smooth = 0.98``, as in fastai
    and Lightning).  The test stops when the loss is not finite or the smoothed
    loss exceeds ``diverge`` times its best (Lightning's 4.0; torch-lr-finder
    uses 5).  The suggestion is the LR where the smoothed loss falls fastest
    (per log LR in exponential mode), ignoring the first ``skip_start`` and last
    ``skip_end`` points (as torch-lr-finder and Lightning do).

    Afterwards the model's ``state_dict`` (parameters and buffers), the
    optimizer's ``state_dict`` (moments, step counts, param-group values such as
    the LR) and torch's CPU RNG state are restored exactly, and the gradients are
    cleared: training continues as if the test never ran (the closure's data
    iterator is the only thing consumed).

    ``closure()`` computes and returns the loss for the next batch; it must not
    call ``backward`` (the test does).

    Returns:
        a :class:`RangeTestResult` (``.lrs``, ``.losses``, ``.suggestion``, ``.plot()``).

    Compared with torch-lr-finder and Lightning's ``Tuner.lr_find``: the ramp is
    an lrkit schedule (so the same curve can be plotted, saved and reused), it
    works with any optimizer and plain loop (no ``LightningModule``, no
    ``DataLoader`` wrapper), and restores the optimizer's state and the RNG in
    memory instead of through a checkpoint file.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    params = _params(model)
    ramp = range_test_schedule(start, end, steps, mode)
    steps = int(steps)
    smooth = real("smooth", smooth, low=0.0, high=1.0, high_open=True)
    diverge = real("diverge", diverge, low=1.0, low_open=True)
    skip_start = whole_steps("skip_start", skip_start)
    skip_end = whole_steps("skip_end", skip_end)
    lr_plan = [float(x) for x in ramp(np.arange(steps))]

    model_state = copy.deepcopy(model.state_dict())
    opt_state = copy.deepcopy(optimizer.state_dict())
    grads = [None if p.grad is None else p.grad.detach().clone() for p in params]
    lrs: list[float] = []
    raw: list[float] = []
    smoothed: list[float] = []
    diverged = False
    try:
        with torch.random.fork_rng(devices=[]):  # dropout & co. draw from the RNG: give it back untouched
            avg, best = 0.0, math.inf
            for t, lr in enumerate(lr_plan):
                _set_lr(optimizer, lr)
                optimizer.zero_grad()
                with torch.enable_grad():
                    loss = _loss(closure)
                    loss.backward()
                optimizer.step()
                value = float(loss.detach())
                lrs.append(lr)
                raw.append(value)
                if not math.isfinite(value):
                    diverged = True
                    smoothed.append(value)
                    break
                avg = smooth * avg + (1.0 - smooth) * value
                s = avg / (1.0 - smooth ** (t + 1))
                smoothed.append(s)
                best = min(best, s)
                if t > 0 and s > diverge * best:
                    diverged = True
                    break
    finally:
        model.load_state_dict(model_state)
        optimizer.load_state_dict(opt_state)
        for p, g in zip(params, grads, strict=True):
            p.grad = g
    finite = [i for i, x in enumerate(smoothed) if math.isfinite(x)]
    kept_lrs = [lrs[i] for i in finite]
    kept = [smoothed[i] for i in finite]
    suggestion = _suggest(kept_lrs, kept, mode, skip_start, skip_end)
    return RangeTestResult(
        lrs=tuple(lrs),
        losses=tuple(smoothed),
        raw_losses=tuple(raw),
        suggestion=suggestion,
        diverged=diverged,
        schedule=ramp,
        mode=mode,
    )
