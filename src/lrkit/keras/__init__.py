"""Keras 3 adapter: drive a Keras optimizer with any lrkit schedule.

* :class:`LearningRateSchedule` — a ``keras.optimizers.schedules.LearningRateSchedule``
  that evaluates an lrkit schedule in-graph (jax and torch backends, eager or
  ``jit_compile``), registered for ``model.save``/``keras.models.load_model``.
* :class:`PlateauCallback` — reduce-on-plateau (``lrkit.Plateau``) composed with
  the optimizer's lrkit schedule, which Keras' own ``ReduceLROnPlateau`` refuses.

Importing this module imports Keras (``KERAS_BACKEND`` must be set first, as for
Keras itself) and registers ``"lrkit>LearningRateSchedule"`` with Keras'
serialization; ``import lrkit`` alone never imports Keras.  See ``docs/keras.md``.
"""

from __future__ import annotations

from ._callback import PlateauCallback
from ._schedule import LearningRateSchedule

__all__ = ["LearningRateSchedule", "PlateauCallback"]
