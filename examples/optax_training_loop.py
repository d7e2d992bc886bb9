"""An lrkit schedule as optax's learning rate, in a jitted JAX training loop.

lrkit schedules evaluate on jax arrays (also under ``jax.jit``), so they plug
straight into optax wherever a schedule ``count -> lr`` is accepted.  The loop
fits a linear model and checks, at every update, that the LR optax used
(recorded by ``optax.inject_hyperparams``) is lrkit's value for that step.

    python examples/optax_training_loop.py --steps 300
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np
import optax

import lrkit


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args(argv)

    schedule = lrkit.warmup(lrkit.cosine(0.1, steps=args.steps), steps=args.steps // 10, prefix=False)
    optimizer = optax.inject_hyperparams(optax.adam)(learning_rate=schedule)

    key_w, key_x = jax.random.split(jax.random.PRNGKey(0))
    true_w = jax.random.normal(key_w, (8,))
    x = jax.random.normal(key_x, (256, 8))
    y = x @ true_w

    def loss_fn(w: jax.Array) -> jax.Array:
        return jnp.mean((x @ w - y) ** 2)

    @jax.jit
    def update(w: jax.Array, state: optax.OptState) -> tuple[jax.Array, optax.OptState, jax.Array]:
        loss, grads = jax.value_and_grad(loss_fn)(w)
        updates, state = optimizer.update(grads, state, w)
        return optax.apply_updates(w, updates), state, loss

    w = jnp.zeros(8)
    state = optimizer.init(w)
    used = []
    for _ in range(args.steps):
        w, state, loss = update(w, state)
        # inject_hyperparams stores the values this update used (at count = updates before it).
        used.append(float(state.hyperparams["learning_rate"]))
    # optax evaluates the schedule in float32: compare at float32 precision,
    # relative to the peak (cos near π loses relative precision as it nears 0).
    expected = schedule(np.arange(args.steps))
    np.testing.assert_allclose(used, expected, rtol=1e-6, atol=2 * np.finfo(np.float32).eps * 0.1)
    print(f"{args.steps} updates, final loss {float(loss):.2e}; LRs match {schedule!r}")
    return float(loss)


if __name__ == "__main__":
    main()
