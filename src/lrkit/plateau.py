"""Reduce-on-plateau as a framework-free multiplier: :class:`Plateau`.

A schedule is a pure function of the step; a plateau rule is not (it depends on
the metrics seen), so it lives here as a small state machine whose output, a
``scale``, multiplies whatever the schedule gives.  The adapters
(``lrkit.torch.Scheduler(plateau=...)``, and later Keras and optax) only feed it
metrics and multiply; the rule itself is written once, here.

``import lrkit.plateau`` needs nothing beyond the standard library.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from .validators import choice, real

__all__ = ["Plateau"]

#: the fields of :meth:`Plateau.state`, in order.
_STATE_FIELDS = ("scale", "best", "num_bad", "cooldown_counter", "reductions")


def _count(name: str, value: Any) -> int:
    """An int ``>= 0`` (``bool`` refused: ``True`` is not a count)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return int(value)


def _metric(value: Any) -> float:
    """A finite metric as a Python float.

    Accepts Python/NumPy reals and anything with one element that converts
    with ``float()`` (a 0-d NumPy array, a one-element torch tensor, a jax
    scalar), so adapters need no conversion of their own.
    """
    if isinstance(value, (bool, str, bytes)):
        raise TypeError(f"metric must be a real number, got {value!r} ({type(value).__name__})")
    if isinstance(value, numbers.Real):
        return real("metric", value)
    try:
        as_float = float(value)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        # torch raises RuntimeError for a tensor of several elements, NumPy TypeError/ValueError
        raise TypeError(f"metric must be a real number (one element), got {value!r} ({type(value).__name__})") from None
    return real("metric", as_float)


class Plateau:
    """A reduce-on-plateau multiplier composed on top of any schedule.

    The value an adapter writes is ``scale * schedule(t)`` (times the group's
    base in factor mode).  ``scale`` starts at ``1.0`` and only
    :meth:`update` (one call per evaluated metric) changes it, with the rule
    of torch's ``ReduceLROnPlateau``:

    1. The metric is *better* than ``best`` if

       * ``mode="min", threshold_mode="rel"``: ``metric < best * (1 - threshold)``
       * ``mode="min", threshold_mode="abs"``: ``metric < best - threshold``
       * ``mode="max", threshold_mode="rel"``: ``metric > best * (1 + threshold)``
       * ``mode="max", threshold_mode="abs"``: ``metric > best + threshold``

       ``best`` starts at ``+inf`` (min) or ``-inf`` (max), so the first
       metric is always better.  A better metric becomes ``best`` and resets
       ``num_bad`` to 0; otherwise ``num_bad`` grows by one.
    2. During a cooldown (``cooldown_counter > 0``) the counter decreases by
       one and ``num_bad`` is reset to 0: bad metrics are not counted.
    3. If ``num_bad > patience`` (so after ``patience + 1`` bad metrics in a
       row), ``scale = max(scale * factor, min_scale)``, a cooldown of
       ``cooldown`` updates starts and ``num_bad`` is reset to 0.

    With a torch optimizer at ``lr=1.0`` and no other schedule, torch's LR
    after each ``ReduceLROnPlateau.step(metric)`` equals ``scale`` (tested).
    One difference by design: torch skips a reduction smaller than its
    ``eps=1e-8`` of *absolute LR*; a scale has no unit, so here every
    reduction with ``scale * factor < scale`` applies (use ``min_scale`` for
    a floor).

    Args:
        mode: ``"min"`` (lower metric is better, e.g. a loss) or ``"max"``.
        factor: the multiplier of each reduction, in ``[0, 1)``.
        patience: bad metrics tolerated before a reduction, an int ``>= 0``.
        threshold: the least change that counts as better, ``>= 0``.
        threshold_mode: ``"rel"`` (relative to ``best``) or ``"abs"``.
        cooldown: updates after a reduction during which bad metrics are not
            counted, an int ``>= 0``.
        min_scale: the floor of ``scale``, in ``[0, 1]`` (torch's ``min_lr``
            divided by the base LR).

    Its configuration (:meth:`config`) and state (:meth:`state`) are plain
    dicts of Python scalars, so they serialise anywhere (``torch.save`` with
    ``weights_only=True``, JSON with ``best=±inf`` written as ``Infinity``).
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
        self.mode = choice("mode", mode, ("min", "max"))
        self.factor = real("factor", factor, low=0.0, high=1.0, high_open=True)
        self.patience = _count("patience", patience)
        self.threshold = real("threshold", threshold, low=0.0)
        self.threshold_mode = choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = _count("cooldown", cooldown)
        self.min_scale = real("min_scale", min_scale, low=0.0, high=1.0)
        self.reset()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Plateau:
        """The inverse of :meth:`config`: ``Plateau.from_config(p.config())`` behaves like a fresh ``p``."""
        if not isinstance(config, Mapping):
            raise TypeError(f"plateau config must be a dict, got {config!r} ({type(config).__name__})")
        return cls(**config)

    def reset(self) -> None:
        """Back to ``scale = 1`` with no history (``best = ±inf``, counters 0)."""
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
        """The mutable state (plain data): ``scale``, ``best``, ``num_bad``, ``cooldown_counter``, ``reductions``."""
        return {
            "scale": self.scale,
            "best": self.best,
            "num_bad": self.num_bad,
            "cooldown_counter": self.cooldown_counter,
            "reductions": self.reductions,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state`'s output, validated before anything is changed.

        ``ValueError`` naming the field for a missing or unknown field, a
        ``scale`` outside ``[0, 1]`` or not finite, a NaN ``best``, or a
        counter that is negative; ``TypeError`` for a value of the wrong kind.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"plateau state must be a dict, got {state!r} ({type(state).__name__})")
        missing = [k for k in _STATE_FIELDS if k not in state]
        if missing:
            raise ValueError(f"plateau state is missing {', '.join(missing)} (has {sorted(state)})")
        unknown = sorted(str(k) for k in state if k not in _STATE_FIELDS)
        if unknown:
            raise ValueError(f"plateau state has unknown field(s) {', '.join(unknown)}")
        scale = real("plateau state scale", state["scale"], low=0.0, high=1.0)
        # best is ±inf until the first metric; NaN would make every comparison False forever.
        best = real("plateau state best", state["best"], allow_inf=True)
        counters = {k: _count(f"plateau state {k}", state[k]) for k in ("num_bad", "cooldown_counter", "reductions")}
        self.scale = scale
        self.best = best
        self.num_bad = counters["num_bad"]
        self.cooldown_counter = counters["cooldown_counter"]
        self.reductions = counters["reductions"]

    def is_better(self, metric: float) -> bool:
        """Whether ``metric`` improves on ``best`` by more than the threshold (rule 1)."""
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            return metric < (best * (1.0 - threshold) if self.threshold_mode == "rel" else best - threshold)
        return metric > (best * (1.0 + threshold) if self.threshold_mode == "rel" else best + threshold)

    def update(self, metric: Any) -> bool:
        """Feed one metric (finite; ``ValueError`` otherwise); return True if ``scale`` was lowered."""
        m = _metric(metric)
        if self.is_better(m):
            self.best = m
            self.num_bad = 0
        else:
            self.num_bad += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad = 0
        if self.num_bad > self.patience:
            old = self.scale
            self.scale = max(old * self.factor, self.min_scale)
            self.cooldown_counter = self.cooldown
            self.num_bad = 0
            if self.scale < old:
                self.reductions += 1
                return True
        return False

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"Plateau({args})"
