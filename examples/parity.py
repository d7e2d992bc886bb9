"""Proof of parity: one schedule, the same LR at every update in PyTorch, Keras (jax, torch) and optax.

The spec has a prefix warmup (30 steps), a join boundary (180) and restarts
(240, 300).  :func:`lrkit.parity.check` trains the same tiny model for
``--steps`` updates in each framework and reads the LR of every update back
*from the weights*, so it is what the optimizer really applied, not what a
scheduler reported (the model: a zero table of ``--steps`` scalars, trained by
plain SGD where update ``k`` reads entry ``k`` with a gradient of exactly 1,
so SGD writes ``w[k] = -lr_k``):

* PyTorch: ``lrkit.torch.Scheduler(opt, lr=s)``, stepped after each update.
* Keras 3: ``lrkit.keras.LearningRateSchedule(s)`` in ``model.fit`` with
  ``jit_compile=True``, on the jax and the torch backend (one subprocess each).
* optax: ``lrkit.optax.inject_hyperparams(optax.sgd)(learning_rate=s)`` in a
  jitted step; ``lrkit.optax.current_lr`` must agree with the weights.

Each must equal ``s(k)`` (NumPy, float64) within 4 float32 ulps of the peak.
The same check from the command line::

    lrkit compare SPEC --frameworks all --steps 320

    python examples/parity.py [--steps 320] [--frameworks torch,keras-jax,keras-torch,optax]
"""

from __future__ import annotations

import argparse

from lrkit import parity

SPEC = "join([warmup(cosine(1e-2, 150), steps=30, prefix=True), cosine_restarts(5e-3, 60)], boundaries=[180])"
#: the updates around each phase change, printed side by side
KEY_STEPS = (0, 1, 29, 30, 31, 179, 180, 181, 239, 240, 299, 300)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=320)
    parser.add_argument("--spec", default=SPEC)
    parser.add_argument("--frameworks", default="all")
    parser.add_argument("--max-ulps", type=float, default=parity.DEFAULT_MAX_ULPS)
    args = parser.parse_args(argv)

    report = parity.check(args.spec, args.frameworks, args.steps, max_ulps=args.max_ulps)
    ran = [r for r in report.ran if r.lrs is not None]
    print("| update k | s(k) | " + " | ".join(r.framework for r in ran) + " |")
    print("|---:|---:|" + "---:|" * len(ran))
    for k in KEY_STEPS:
        if k < report.steps:
            cells = " | ".join(f"{r.lrs[k]:.8g}" for r in ran if r.lrs is not None)
            print(f"| {k} | {report.expected[k]:.8g} | {cells} |")
    print()
    print(parity.summary(report), end="")
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
