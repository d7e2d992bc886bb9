"""Proof of parity: one schedule, the same LR at every update in PyTorch, Keras (jax, torch) and optax.

The spec has a prefix warmup (30 steps), a join boundary (180) and restarts
(240, 300).  Each framework trains the same tiny model for ``--steps`` updates
and the LR of every update is read back *from the weights*, so it is what the
optimizer really applied, not what a scheduler reported:

the model is one linear unit without bias on ``N`` inputs, with a zero
weight, trained by plain SGD on one-hot rows (update ``k`` sees row ``e_k``)
with a loss whose gradient with respect to the output is exactly 1.  The
weight's gradient is then ``e_k``, so SGD writes ``w[k] = 0 - lr_k``: after
training, ``-w[k]`` is the float32 LR update ``k`` used.

* PyTorch: ``lrkit.torch.Scheduler(opt, lr=s)``, stepped after each update.
* Keras 3: ``lrkit.keras.LearningRateSchedule(s)`` in ``model.fit``, on the jax
  and the torch backend (one subprocess each: Keras picks its backend once per
  process), ``jit_compile=True``.
* optax: ``lrkit.optax.inject_hyperparams(optax.sgd)(learning_rate=s)`` in a
  jitted step; ``lrkit.optax.current_lr`` must agree with the weights.

Each must equal ``s(k)`` (NumPy, float64) within 4 float32 ulps of the peak.

    python examples/parity.py [--steps 320] [--frameworks torch,keras-jax,keras-torch,optax]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

import numpy as np

import lrkit

SPEC = "join([warmup(cosine(1e-2, 150), steps=30, prefix=True), cosine_restarts(5e-3, 60)], boundaries=[180])"
FRAMEWORKS = ("torch", "keras-jax", "keras-torch", "optax")
PEAK = 1e-2
#: float32 precision of the LR: 4 ulps of the peak.
TOL = 4 * float(np.spacing(np.float32(PEAK)))


def torch_lrs(spec: str, n: int) -> list[float]:
    import torch

    import lrkit.torch

    torch.manual_seed(0)
    model = torch.nn.Linear(n, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    sched = lrkit.torch.Scheduler(opt, lr=spec)
    eye = torch.eye(n)
    for k in range(n):
        opt.zero_grad()
        model(eye[k : k + 1]).sum().backward()  # d loss / d w = e_k
        opt.step()
        sched.step()
    return [0.0 - float(w) for w in model.weight.detach()[0]]  # 0.0 - w: no -0.0 in the table


def optax_lrs(spec: str, n: int) -> list[float]:
    import jax
    import jax.numpy as jnp
    import optax

    import lrkit.optax

    opt = lrkit.optax.inject_hyperparams(optax.sgd)(learning_rate=spec)
    w = jnp.zeros(n, jnp.float32)
    state = opt.init(w)
    eye = jnp.eye(n, dtype=jnp.float32)

    @jax.jit
    def train_step(w: Any, state: Any, row: Any) -> Any:
        grads = jax.grad(lambda w: jnp.dot(w, row))(w)  # = row = e_k
        updates, state = opt.update(grads, state, w)
        return optax.apply_updates(w, updates), state

    logged = []
    for k in range(n):
        w, state = train_step(w, state, eye[k])
        logged.append(lrkit.optax.current_lr(state))  # what a training loop would log
    used = [0.0 - float(x) for x in np.asarray(w)]
    if max(abs(a - b) for a, b in zip(logged, used, strict=True)) > TOL:
        raise AssertionError("lrkit.optax.current_lr disagrees with the LR the updates applied")
    return used


def start_keras(spec: str, n: int, backend: str) -> subprocess.Popen[str]:
    """Start :func:`_keras_child` in a subprocess with ``KERAS_BACKEND=backend`` (collect it with :func:`keras_lrs`)."""
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(
        [sys.executable, __file__, "--keras-child", json.dumps({"spec": spec, "n": n})],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def keras_lrs(child: subprocess.Popen[str], backend: str) -> list[float]:
    stdout, stderr = child.communicate(timeout=600)
    if child.returncode != 0:
        raise RuntimeError(f"Keras on {backend} failed:\n{stderr[-4000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


def _keras_child(args: dict[str, Any]) -> list[float]:
    import keras

    import lrkit.keras

    n = args["n"]
    model = keras.Sequential([keras.Input((n,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lrkit.keras.LearningRateSchedule(args["spec"])),
        # Targets of -1 below predictions that stay above -1: d loss / d y_pred is exactly 1.
        loss="mean_absolute_error",
        jit_compile=True,
    )
    x = np.eye(n, dtype="float32")
    model.fit(x, np.full((n, 1), -1.0, "float32"), batch_size=1, epochs=1, shuffle=False, verbose=0)
    return [0.0 - float(v) for v in keras.ops.convert_to_numpy(model.layers[0].kernel)[:, 0]]


def run(spec: str = SPEC, n: int = 320, frameworks: tuple[str, ...] = FRAMEWORKS) -> dict[str, np.ndarray]:
    """The LR of every update in each framework, as float64 arrays of length ``n``."""
    unknown = [name for name in frameworks if name not in FRAMEWORKS]
    if unknown:
        raise ValueError(f"frameworks must be among {FRAMEWORKS}, got {unknown[0]!r}")
    # The Keras processes start first and run while torch and optax train here (Keras' import is slow).
    children = {name: start_keras(spec, n, name.split("-", 1)[1]) for name in frameworks if name.startswith("keras-")}
    out: dict[str, np.ndarray] = {}
    for name in frameworks:
        if name == "torch":
            lrs = torch_lrs(spec, n)
        elif name == "optax":
            lrs = optax_lrs(spec, n)
        else:
            lrs = keras_lrs(children[name], name.split("-", 1)[1])
        out[name] = np.asarray(lrs, dtype=np.float64)
    return out


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=320)
    parser.add_argument("--spec", default=SPEC)
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--keras-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.keras_child:
        print(json.dumps(_keras_child(json.loads(args.keras_child))))
        return {}

    s = lrkit.parse(args.spec)
    n = args.steps
    expected = s(np.arange(n))
    got = run(args.spec, n, tuple(args.frameworks.split(",")))
    names = list(got)
    print(f"schedule: {s!r}")
    print(f"{n} updates; LR read back from the weights; tolerance {TOL:.2e} (4 float32 ulps of the peak)\n")
    print("| update k | s(k) | " + " | ".join(names) + " |")
    print("|---:|---:|" + "---:|" * len(names))
    for k in (0, 1, 29, 30, 31, 179, 180, 181, 239, 240, 299, 300):
        if k < n:
            print(f"| {k} | {expected[k]:.8g} | " + " | ".join(f"{got[m][k]:.8g}" for m in names) + " |")
    worst = {m: float(np.max(np.abs(got[m] - expected))) for m in names}
    print("\n| framework | max abs(LR - s(k)) over all updates | in float32 ulps of the peak |")
    print("|---|---:|---:|")
    for m in names:
        print(f"| {m} | {worst[m]:.3g} | {worst[m] / float(np.spacing(np.float32(PEAK))):.2f} |")
    bad = [m for m in names if worst[m] > TOL]
    if bad:
        print(f"\nMISMATCH: {bad}")
        raise SystemExit(1)
    print(f"\nparity: every update of {n} equals s(k) in {', '.join(names)}")
    return worst


if __name__ == "__main__":
    main()
