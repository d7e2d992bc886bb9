"""``lrkit.optax.scale_by_plateau``: the core ``lrkit.Plateau`` (torch's rule) composed with any schedule in optax.

Measured as in ``tests/test_jax.py``'s reduce_on_plateau recipe: with a gradient
of exactly 1, SGD's update is exactly minus the LR applied (``-s(k) * scale``,
in float32).  The scales are derived by hand from the plateau rule, next to the
metrics that produce them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lrkit

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jnp = jax.numpy
lo = pytest.importorskip("lrkit.optax")

S = lrkit.parse("warmup(cosine(1e-2, 150), steps=30, prefix=True)")
SPE = 4  # updates per epoch
# Plateau(factor=0.5, patience=1), torch's rule, one metric per epoch (by hand):
#   epoch 0: 1.0 better (best=1.0)   epoch 1: 1.0 bad (1)   epoch 2: 1.0 bad (2 > 1) -> scale 0.5
#   epoch 3: 0.5 better (best=0.5)   epoch 4: 0.5 bad (1)   epoch 5: 0.5 bad (2 > 1) -> scale 0.25
METRICS = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
SCALE_OF_EPOCH = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]  # the scale the updates of each epoch apply
TOL = 4 * float(np.spacing(np.float32(1e-2)))


def _train(epochs: range, params: Any, state: Any, plateau: lrkit.Plateau, opt: Any, traces: list[int]) -> Any:
    @jax.jit
    def step(params: Any, state: Any) -> Any:
        traces.append(1)  # runs once per trace, not per call
        updates, state = opt.update(jnp.ones((), jnp.float32), state, params)
        return updates, optax.apply_updates(params, updates), state

    applied, logged = [], []
    for epoch in epochs:
        for _ in range(SPE):
            updates, params, state = step(params, state)
            applied.append(-float(updates))
            logged.append(lo.current_lr(state))
        plateau.update(METRICS[epoch])
        state = lo.set_plateau_scale(state, plateau)
    return params, state, applied, logged


def test_core_plateau_scales_every_update_without_retracing() -> None:
    opt = optax.chain(lo.inject_hyperparams(optax.sgd)(learning_rate=S), lo.scale_by_plateau())
    params = jnp.zeros((), jnp.float32)
    state = opt.init(params)
    assert float(lo.plateau_scale(state)) == 1.0
    plateau = lrkit.Plateau(factor=0.5, patience=1)
    traces: list[int] = []
    params, state, applied, logged = _train(range(7), params, state, plateau, opt, traces)
    n = 7 * SPE
    expected = np.repeat(SCALE_OF_EPOCH, SPE) * S(np.arange(n))
    assert np.max(np.abs(np.asarray(applied) - expected)) <= TOL
    assert logged == applied  # current_lr logs what the update applied, plateau included
    assert len(traces) == 1  # the scale is state, not a constant baked into the trace
    assert lo.update_count(state) == n


def test_resume_from_the_opt_state_and_the_plateau_state() -> None:
    opt = optax.chain(lo.inject_hyperparams(optax.sgd)(learning_rate=S), lo.scale_by_plateau())
    params = jnp.zeros((), jnp.float32)
    plateau = lrkit.Plateau(factor=0.5, patience=1)
    params, state, first, _ = _train(range(5), params, opt.init(params), plateau, opt, [])
    # A checkpoint: the opt_state (its scale included) and plateau.state(); a new process restores both.
    saved_state, saved_plateau = jax.device_get(state), plateau.state()
    resumed = lrkit.Plateau(factor=0.5, patience=1)
    resumed.load_state(saved_plateau)
    _, _, second, _ = _train(range(5, 7), params, saved_state, resumed, opt, [])
    expected = np.repeat(SCALE_OF_EPOCH, SPE) * S(np.arange(7 * SPE))
    # The reduction after epoch 5 needs epoch 4's bad metric, counted before the checkpoint.
    assert np.max(np.abs(np.asarray(first + second) - expected)) <= TOL


def test_set_plateau_scale_arguments() -> None:
    state = optax.chain(optax.sgd(0.1), lo.scale_by_plateau()).init(jnp.zeros(2))
    assert float(lo.plateau_scale(lo.set_plateau_scale(state, 0.25))) == 0.25
    assert float(lo.plateau_scale(lo.set_plateau_scale(state, np.float32(0.5)))) == 0.5
    for bad in (0.0, -1.0, float("nan"), float("inf"), True, "0.5", None):
        with pytest.raises(ValueError, match="scale must be a finite number > 0"):
            lo.set_plateau_scale(state, bad)
    with pytest.raises(ValueError, match="no scale_by_plateau state"):
        lo.set_plateau_scale(optax.sgd(0.1).init(jnp.zeros(2)), 0.5)
    # Finite in float64 but not in the state's float32: 1e39 was stored as inf (NaN updates), 1e-46 as 0.
    for bad in (1e39, 1e-46):
        with pytest.raises(ValueError, match="scale must be a finite number > 0 in the state's float32"):
            lo.set_plateau_scale(state, bad)
    tiny = lrkit.Plateau(factor=1e-30, patience=0)  # two bad epochs: scale 1e-60, below float32's smallest
    for metric in (1.0, 2.0, 3.0):
        tiny.update(metric)
    assert 0 < tiny.scale < 1e-45
    assert float(lo.plateau_scale(lo.set_plateau_scale(state, tiny))) == 0.0  # the plateau's scale, as float32 has it
    # A nested chain: every scale_by_plateau state is set, wherever it sits.
    nested = optax.chain(optax.chain(optax.sgd(0.1), lo.scale_by_plateau()), lo.scale_by_plateau()).init(jnp.zeros(2))
    assert float(lo.plateau_scale(lo.set_plateau_scale(nested, 0.5))) == 0.25
