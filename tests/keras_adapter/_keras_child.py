"""Runs one Keras scenario in a fresh process (``KERAS_BACKEND`` set by the parent test).

Usage: ``python _keras_child.py SCENARIO JSON_ARGS``; prints ``RESULT <json>`` as the last line.

How the LR of every update is measured, exactly and in-graph: the model is a
``Dense(1, use_bias=False)`` on ``N`` inputs with a zero kernel, trained with
plain SGD on one-hot rows (update ``k`` sees row ``e_k``, batch size 1) and the
built-in loss ``mean_absolute_error`` against targets of -1 (the predictions
stay above -1, so ``d loss / d y_pred`` is exactly 1).  The gradient of update
``k`` is then exactly ``e_k``,
so SGD's ``w -= lr * grad`` writes ``w[k] = 0 - lr_k``: after training,
``-kernel[k]`` is the float32 LR that update ``k`` really used, read once at
the end, whatever the backend compiled.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np


def _model(n: int, learning_rate: Any, jit_compile: Any = "auto", **optimizer_args: Any) -> Any:
    import keras

    model = keras.Sequential([keras.Input((n,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate, **optimizer_args),
        loss="mean_absolute_error",  # built in: saved models load without custom_objects
        jit_compile=jit_compile,
    )
    return model


def _used(model: Any) -> list[float]:
    import keras

    return [float(v) for v in -keras.ops.convert_to_numpy(model.layers[0].kernel)[:, 0]]


def _rows(n: int, start: int = 0) -> tuple[np.ndarray, np.ndarray]:
    x = np.eye(n, dtype="float32")[start:]
    return x, np.full((len(x), 1), -1.0, dtype="float32")


class _Recorder:
    """A callback recording ``(optimizer.iterations, optimizer.learning_rate)`` before each update."""

    def __new__(cls) -> Any:
        import keras

        class Recorder(keras.callbacks.Callback):
            def __init__(self) -> None:
                super().__init__()
                self.iterations: list[int] = []
                self.lrs: list[float] = []

            def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
                opt = self.model.optimizer  # (under jax, .model syncs the state first)
                self.iterations.append(int(keras.ops.convert_to_numpy(opt.iterations)))
                self.lrs.append(float(keras.ops.convert_to_numpy(opt.learning_rate)))

        return Recorder()


def _inject(metrics: dict[str, float]) -> Any:
    """A callback that puts ``metrics[epoch]`` into the epoch logs as ``score`` (before the plateau reads it)."""
    import keras

    class Inject(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs["score"] = metrics[str(epoch)]

    return Inject()


def fit(args: dict[str, Any]) -> dict[str, Any]:
    """Train ``n`` updates with ``jit_compile=True`` and again eagerly (one process: Keras' import is slow)."""
    import lrkit.keras

    n = args["n"]
    out: dict[str, Any] = {}
    for mode, jit_compile in (("jit", True), ("eager", False)):
        model = _model(n, lrkit.keras.LearningRateSchedule(args["spec"]), jit_compile=jit_compile)
        rec = _Recorder()
        model.fit(*_rows(n), batch_size=1, epochs=1, shuffle=False, verbose=0, callbacks=[rec])
        out[mode] = {"used": _used(model), "iterations": rec.iterations, "reported": rec.lrs}
    # Gradient accumulation over 2 batches: rows 2j and 2j+1 each receive half of update j's LR.
    model = _model(16, lrkit.keras.LearningRateSchedule(args["spec"]), gradient_accumulation_steps=2)
    model.fit(*_rows(16), batch_size=1, epochs=1, shuffle=False, verbose=0)
    out["accumulate"] = {"used": _used(model)}
    return out


def save(args: dict[str, Any]) -> dict[str, Any]:
    import lrkit.keras

    n, k = args["n"], args["k"]
    model = _model(n, lrkit.keras.LearningRateSchedule(args["spec"]))
    x, y = _rows(n)
    model.fit(x[:k], y[:k], batch_size=1, shuffle=False, verbose=0)
    model.save(args["path"])
    return {"used": _used(model)}


def resume(args: dict[str, Any]) -> dict[str, Any]:
    import keras

    # First without lrkit.keras: Keras only imports its own packages while loading (a security
    # rule), so the class is unknown until the loading process imports lrkit.keras.
    try:
        keras.models.load_model(args["path"])
        without_import = None
    except TypeError as exc:
        without_import = str(exc)

    import lrkit.keras  # noqa: F401  (registers "lrkit>LearningRateSchedule" for load_model)

    n, k = args["n"], args["k"]
    model = keras.models.load_model(args["path"])  # no custom_objects
    lr = model.optimizer._learning_rate
    start = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    model.fit(*_rows(n, k), batch_size=1, shuffle=False, verbose=0)
    return {
        "without_import": without_import,
        "type": type(lr).__qualname__,
        "module": type(lr).__module__,
        "schedule": lr.schedule.to_dict(),
        "config": lr.get_config(),
        "start": start,
        "used": _used(model),
    }


def plateau_train(args: dict[str, Any]) -> dict[str, Any]:
    import keras

    import lrkit
    import lrkit.keras
    from lrkit.plateau import Plateau

    n, spe = args["n"], args["steps_per_epoch"]
    if args.get("load"):
        model = keras.models.load_model(args["load"])
        x, y = _rows(n, args["initial_epoch"] * spe)
    else:
        # jit_compile=True on both backends: the scale must reach the compiled step (a variable
        # that torch.compile reads live; a retrace on jax).
        model = _model(n, lrkit.keras.LearningRateSchedule(args["spec"]), jit_compile=True)
        x, y = _rows(n)
    cb = lrkit.keras.PlateauCallback(Plateau(**args["plateau"]), monitor="score")
    model.fit(
        x,
        y,
        batch_size=1,
        epochs=args["epochs"],
        initial_epoch=args.get("initial_epoch", 0),
        steps_per_epoch=spe,
        shuffle=False,
        verbose=0,
        callbacks=[_inject(args["metrics"]), cb],
    )
    if args.get("save"):
        model.save(args["save"])
    return {"used": _used(model), "state": cb.plateau.state(), "config": model.optimizer._learning_rate.get_config()}


if __name__ == "__main__":
    scenario, raw = sys.argv[1], sys.argv[2]
    result = globals()[scenario](json.loads(raw))
    print("RESULT " + json.dumps(result))
