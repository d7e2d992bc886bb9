"""``lrkit.keras.PlateauCallback``: reduce-on-plateau on top of the optimizer's lrkit schedule.

Keras' ``ReduceLROnPlateau`` assigns to ``optimizer.learning_rate``, which
Keras refuses when the LR is a schedule.  This callback instead feeds the
monitored metric to an :class:`lrkit.Plateau` (the rule, written once in the
core) and the optimizer's :class:`~lrkit.keras.LearningRateSchedule` multiplies
``s(step)`` by the plateau's ``scale``.  The plateau travels with the schedule,
so its state is in the model's config and ``model.save`` keeps it.

Weights-only checkpoints (``save_weights``, ``ModelCheckpoint(save_weights_only=True)``,
``BackupAndRestore``) hold variables only, and Keras gives an optimizer's schedule
no place among them: for those, ``backup_path=`` keeps the plateau in a JSON file
of its own, written at every epoch end and read back when training begins.
"""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

import keras

from lrkit._files import atomic_write
from lrkit.plateau import Plateau

from ._schedule import LearningRateSchedule

__all__ = ["PlateauCallback"]

_ON_MISMATCH = ("raise", "checkpoint", "override")


def _schedule_of(model: Any) -> LearningRateSchedule:
    optimizer = getattr(model, "optimizer", None)
    # LossScaleOptimizer (mixed precision) wraps the optimizer that owns the learning rate.
    optimizer = getattr(optimizer, "inner_optimizer", optimizer)
    # Keras has no public getter for the schedule object (``learning_rate`` evaluates it).
    lr = getattr(optimizer, "_learning_rate", None)
    if not isinstance(lr, LearningRateSchedule):
        raise TypeError(
            "PlateauCallback needs an optimizer whose learning_rate is an lrkit.keras.LearningRateSchedule, "
            f"got {lr!r} ({type(lr).__name__}); "
            "use e.g. keras.optimizers.Adam(learning_rate=lrkit.keras.LearningRateSchedule(s))"
        )
    return lr


class PlateauCallback(keras.callbacks.Callback):
    """Reduce the LR on a plateau of a monitored metric, composed with any lrkit schedule.

    The LR of update ``k`` becomes ``plateau.scale * s(k)``.  At the end of each
    epoch the metric ``logs[monitor]`` is fed to ``plateau.update`` (torch's
    ``ReduceLROnPlateau`` rule, see :class:`lrkit.Plateau`: a reduction after
    ``patience + 1`` bad epochs in a row, where Keras' own callback reduces
    after ``patience``).  A missing metric (e.g. ``val_loss`` on an epoch
    without validation) is skipped with a warning, as Keras does.

    Args:
        plateau: the rule; ``lrkit.Plateau()`` (mode ``"min"``) by default.
        monitor: the key of the epoch logs to watch (``"val_loss"``).
        on_mismatch: what to do when the optimizer's schedule already carries a
            plateau with a different configuration (a model loaded from a
            checkpoint): ``"raise"`` (``ValueError`` showing both), ``"checkpoint"``
            (continue with the saved plateau) or ``"override"`` (this callback's
            configuration, the saved state).  With equal configurations the saved
            state is resumed.
        verbose: print a line when the scale is lowered.
        backup_path: a JSON file for the plateau's configuration and state,
            rewritten (atomically) at the end of every epoch and resumed from at
            the beginning of training when it exists (a different configuration
            follows ``on_mismatch``).  For resumes from weights-only checkpoints,
            e.g. ``os.path.join(backup_dir, "lrkit_plateau.json")`` with
            ``keras.callbacks.BackupAndRestore(backup_dir)``, which deletes it
            with the rest of its directory when training completes.

    Its ``plateau`` holds the live state; it is also in the schedule's
    ``get_config()``, hence in every ``model.save`` / full-model ``ModelCheckpoint``
    file (not in weights-only ones: see ``backup_path``).
    """

    def __init__(
        self,
        plateau: Plateau | None = None,
        monitor: str = "val_loss",
        *,
        on_mismatch: str = "raise",
        verbose: int = 0,
        backup_path: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__()
        if plateau is None:
            plateau = Plateau()
        if not isinstance(plateau, Plateau):
            raise TypeError(f"plateau must be an lrkit.Plateau, got {plateau!r} ({type(plateau).__name__})")
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"monitor must be the name of a logged metric, got {monitor!r}")
        if on_mismatch not in _ON_MISMATCH:
            raise ValueError(f"on_mismatch must be one of {', '.join(map(repr, _ON_MISMATCH))}, got {on_mismatch!r}")
        if backup_path is not None and not isinstance(backup_path, (str, os.PathLike)):
            raise TypeError(f"backup_path must be a file path or None, got {backup_path!r}")
        self.plateau = plateau
        self.monitor = monitor
        self.on_mismatch = on_mismatch
        self.verbose = verbose
        self.backup_path = backup_path

    def _resume(self, saved: Plateau, where: str) -> None:
        """Continue from a saved plateau: its state, or itself, as ``on_mismatch`` says."""
        if saved.config() == self.plateau.config() or self.on_mismatch == "override":
            self.plateau.load_state(saved.state())
        elif self.on_mismatch == "checkpoint":
            self.plateau = saved
        else:
            raise ValueError(
                f"the {where} carries a plateau configured differently from this callback's:\n"
                f"  checkpoint:  {saved!r}\n  callback:    {self.plateau!r}\n"
                "pass on_mismatch='checkpoint' to continue with the saved plateau, or on_mismatch='override' "
                "to use this callback's configuration with the saved state"
            )

    def _bind(self) -> LearningRateSchedule:
        schedule = _schedule_of(self.model)
        saved = schedule.plateau
        if saved is not None and saved is not self.plateau:
            # The schedule came from a checkpoint with its plateau: resume it.
            self._resume(saved, "optimizer's schedule")
        if schedule.plateau is not self.plateau:
            schedule._attach_plateau(self.plateau)
        return schedule

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._bind()
        if self.backup_path is not None and os.path.exists(self.backup_path):
            # Newer than any plateau in the model's config: it was written at the last epoch end.
            where = os.fspath(self.backup_path)
            advice = "delete it to start the plateau afresh"
            try:
                with open(self.backup_path, encoding="utf-8") as f:
                    data = json.load(f)
            except ValueError as exc:  # not JSON (JSONDecodeError), not UTF-8 (UnicodeDecodeError)
                raise ValueError(f"backup_path {where!r} is not a saved plateau ({exc}): {advice}") from None
            if not isinstance(data, dict) or set(data) != {"config", "state"}:
                raise ValueError(f"backup_path {where!r} holds no saved plateau, got {data!r}: {advice}")
            try:
                saved = Plateau.from_config(data["config"])
                saved.load_state(data["state"])
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"backup_path {where!r} holds an invalid plateau ({exc}): {advice}") from None
            self._resume(saved, f"backup file {os.fspath(self.backup_path)!r}")
            self._sync()

    def _sync(self) -> None:
        """Bring the plateau's scale to the variable the compiled step reads."""
        if self._bind().sync_scale() and keras.backend.backend() == "jax":
            # A jitted jax step holds the values of variables it does not own as constants
            # (the scale is not among the model's or optimizer's variables): retrace it.
            self.model.make_train_function(force=True)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        metric = logs.get(self.monitor)
        if metric is None:
            warnings.warn(
                f"PlateauCallback monitors {self.monitor!r}, which is not in this epoch's logs "
                f"(available: {', '.join(logs) or 'none'}); the plateau was not updated",
                stacklevel=2,
            )
            return
        reduced = self.plateau.update(metric)
        if self.backup_path is not None:
            # Its directory may not exist yet (BackupAndRestore creates its own at its first save).
            os.makedirs(os.path.dirname(os.path.abspath(self.backup_path)), exist_ok=True)
            atomic_write(self.backup_path, json.dumps(self.get_state()))
        self._sync()
        if reduced and self.verbose:
            print(f"\nEpoch {epoch + 1}: PlateauCallback reduced the LR scale to {self.plateau.scale:.6g}.")

    # The state is saved with the model (the schedule's config); these make it
    # available to code that checkpoints callbacks itself.
    def get_state(self) -> dict[str, Any]:
        """``{"config": plateau.config(), "state": plateau.state()}`` (plain data)."""
        return {"config": self.plateau.config(), "state": self.plateau.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`'s output (the configuration must match, ``ValueError`` otherwise)."""
        if state.get("config") != self.plateau.config():
            raise ValueError(f"saved plateau config {state.get('config')!r} differs from {self.plateau.config()!r}")
        self.plateau.load_state(state["state"])
