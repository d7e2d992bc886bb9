"""``lrkit.keras.LearningRateSchedule``: any lrkit schedule as a Keras 3 learning rate.

The adapter contains no formula: ``__call__`` converts Keras' step to the
backend's tensor and hands it to the lrkit schedule, whose one formula already
evaluates torch tensors and jax arrays (traceable, so it runs in-graph under
``jit_compile``).  It only casts the result to float32 and, when a plateau is
attached, multiplies by the plateau's scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

import lrkit
from lrkit.base import Schedule
from lrkit.plateau import Plateau

__all__ = ["LearningRateSchedule"]

#: Keras' learning-rate dtype (its optimizers cast the LR to each variable's dtype).
_LR_DTYPE = "float32"
#: the backends tested (lrkit evaluates their tensors; it has no TensorFlow namespace).
_SUPPORTED_BACKENDS = ("jax", "torch")


def _as_schedule(
    obj: Any, *, key: str | None = None, total_steps: int | None = None, steps_per_epoch: int | None = None
) -> Schedule:
    """A resolved learning-rate schedule from anything :func:`lrkit.as_schedule` takes.

    A :func:`lrkit.multiplier` is refused: Keras' ``learning_rate`` is the LR
    itself, and a factor peaking at 1.0 would silently train at LR 1.0.
    """
    schedule = lrkit.as_schedule(obj, key=key, total_steps=total_steps, steps_per_epoch=steps_per_epoch)
    if not schedule.is_resolved:
        schedule = schedule.resolve(total_steps=total_steps, steps_per_epoch=steps_per_epoch)
    if schedule.is_multiplier:
        raise TypeError(
            f"{schedule!r} is a multiplier (factors of a base learning rate), but a Keras optimizer's learning_rate "
            "is the LR itself: scale it by the base LR first, lrkit.scale(schedule, 3e-4)"
        )
    return schedule


def _as_plateau(plateau: Any) -> Plateau | None:
    if plateau is None or isinstance(plateau, Plateau):
        return plateau
    if isinstance(plateau, Mapping) and set(plateau) == {"config", "state"}:
        restored = Plateau.from_config(plateau["config"])
        restored.load_state(plateau["state"])
        return restored
    raise TypeError(
        "plateau must be an lrkit.Plateau or its saved form {'config': ..., 'state': ...}, "
        f"got {plateau!r} ({type(plateau).__name__})"
    )


@keras.saving.register_keras_serializable(package="lrkit")
class LearningRateSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Drive a Keras 3 optimizer with any lrkit schedule, in-graph and saved with the model.

    ``keras.optimizers.Adam(learning_rate=LearningRateSchedule(s))`` uses
    ``s(k)`` (rounded to float32) for the update that happens when ``k``
    updates have been applied: Keras calls ``learning_rate(optimizer.iterations)``
    and ``iterations`` counts from 0, the same clock as lrkit's.

    Args:
        schedule: anything :func:`lrkit.as_schedule` takes: an lrkit ``Schedule``,
            spec text (``lrkit.parse``), a ``to_dict()`` mapping (``lrkit.from_dict``)
            or the path of a ``.json``/``.yaml``/``.toml`` file.
        key: a dotted path that picks the schedule inside a larger config
            mapping or file (``"optim.lr_schedule"``), as in ``lrkit.as_schedule``.
        total_steps: resolves durations in percent (``'10%'``), at construction.
        steps_per_epoch: resolves durations in epochs (``'5ep'``), at construction:
            optimizer steps per epoch as Keras counts them (batches, also with
            ``gradient_accumulation_steps``, see docs/keras.md).
        plateau: an ``lrkit.Plateau`` (or its saved form) whose ``scale``
            multiplies the schedule: LR = ``scale * s(k)``.  Usually attached by
            :class:`lrkit.keras.PlateauCallback` rather than passed here.

    ``get_config()`` is ``{"schedule": schedule.to_dict()}`` (plus
    ``{"plateau": {"config": ..., "state": ...}}`` when a plateau is attached), so
    ``model.save``/``keras.models.load_model`` restore it without
    ``custom_objects``, provided the loading process has imported
    ``lrkit.keras`` (the import registers the class as ``"lrkit>LearningRateSchedule"``).
    """

    def __init__(
        self,
        schedule: Any,
        *,
        key: str | None = None,
        total_steps: int | None = None,
        steps_per_epoch: int | None = None,
        plateau: Any = None,
    ) -> None:
        backend = keras.backend.backend()
        if backend not in _SUPPORTED_BACKENDS:
            raise ValueError(
                f"lrkit.keras supports Keras' {', '.join(_SUPPORTED_BACKENDS)} backends, got KERAS_BACKEND={backend!r}"
            )
        self.schedule: Schedule = _as_schedule(
            schedule, key=key, total_steps=total_steps, steps_per_epoch=steps_per_epoch
        )
        self.plateau: Plateau | None = None
        self._scale: Any = None
        self._synced_scale = 1.0
        self._attach_plateau(_as_plateau(plateau))
        # One eager evaluation on the backend's tensors: errors surface here, not inside a compiled step,
        # and lrkit's per-backend namespace is created before torch.compile traces (no recompile for it).
        self(0)

    # -- plateau ----------------------------------------------------------------
    def _attach_plateau(self, plateau: Plateau | None) -> None:
        """Compose ``plateau`` (or none) with the schedule; its scale lives in a non-trainable variable."""
        self.plateau = plateau
        if plateau is None:
            self._scale = None
            return
        if self._scale is None:
            # A variable, not a Python float: torch reads it live inside compiled steps.
            self._scale = keras.Variable(plateau.scale, dtype=_LR_DTYPE, trainable=False, name="lrkit_plateau_scale")
            self._synced_scale = float(plateau.scale)
        self.sync_scale()

    def sync_scale(self) -> bool:
        """Copy ``plateau.scale`` into the variable the compiled step reads; return True if it changed."""
        if self.plateau is None or self._scale is None:
            return False
        # Compared with the last value written, not the variable (float32: 0.1 would never compare equal).
        new = float(self.plateau.scale)
        if new == self._synced_scale:
            return False
        self._scale.assign(new)
        self._synced_scale = new
        return True

    # -- evaluation ---------------------------------------------------------------
    def __call__(self, step: Any) -> Any:
        """``s(step)`` (times the plateau's scale) as a float32 tensor of the active backend.

        ``step`` is whatever Keras passes: ``optimizer.iterations`` (a
        ``keras.Variable``), a jax tracer under ``jit_compile``, a torch tensor,
        or a plain int.
        """
        t = keras.ops.convert_to_tensor(step)
        lr = keras.ops.cast(self.schedule(t), _LR_DTYPE)
        if self._scale is not None:
            lr = lr * keras.ops.convert_to_tensor(self._scale)
        return lr

    # -- serialization ----------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"schedule": self.schedule.to_dict()}
        if self.plateau is not None:
            config["plateau"] = {"config": self.plateau.config(), "state": self.plateau.state()}
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LearningRateSchedule:
        """The inverse of :meth:`get_config`; a bare ``Schedule.to_dict()`` mapping is taken too."""
        if isinstance(config, Mapping) and "type" in config and "schedule" not in config:
            return cls(config)  # the lrkit mapping itself: from_config(s.to_dict())
        if not isinstance(config, Mapping) or "schedule" not in config:
            raise ValueError(
                "config must be get_config()'s output, a dict with a 'schedule' key, or a Schedule.to_dict() "
                f"mapping, got {config!r}"
            )
        unknown = sorted(set(config) - {"schedule", "plateau"})
        if unknown:
            raise ValueError(
                f"config has unknown key(s) {', '.join(map(repr, unknown))}; expected 'schedule', 'plateau'"
            )
        return cls(config["schedule"], plateau=config.get("plateau"))

    def __repr__(self) -> str:
        extra = f", plateau={self.plateau!r}" if self.plateau is not None else ""
        return f"lrkit.keras.LearningRateSchedule({self.schedule!r}{extra})"
