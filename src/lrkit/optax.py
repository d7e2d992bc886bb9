"""optax adapter: schedule any hyperparameter, read the LR back, compose a plateau.

An lrkit schedule already *is* an optax schedule: ``optax.adamw(learning_rate=s)``
calls ``s(count)`` with optax's int32 update count, under ``jit`` too.  This
module adds what an optax user needs beyond that, and contains no formula (the
schedules compute; this module binds them to optax's state):

* :func:`inject_hyperparams`: ``optax.inject_hyperparams`` taking lrkit
  schedules, spec text or ``to_dict`` mappings for *any* numeric
  hyperparameter (``learning_rate``, ``b1``, ``weight_decay``...).
* :func:`current_lr` / :func:`hyperparams`: the values the last update used,
  found anywhere in a (chained, nested) ``opt_state``, times the scale of any
  ``optax.contrib.reduce_on_plateau`` in the chain.
* :func:`update_count`: the number of updates applied, the step a resumed run
  continues from (it is in the ``opt_state``: save the state, not the step).

**Count convention.**  optax evaluates a schedule on the number of updates
already applied: update ``k`` (counting from 0) uses ``s(k)``, the value at
``init`` is ``s(0)``, and after update ``k`` the injected state holds ``s(k)``
with ``count == k + 1``.  This is lrkit's convention (``s(0)`` is the first
update's LR), so the same schedule gives the same LR at every update in
PyTorch (``lrkit.torch.Scheduler``), Keras and optax.

**Plateau.**  Chain ``optax.contrib.reduce_on_plateau`` after the optimizer:
``optax.chain(inject_hyperparams(optax.adamw)(learning_rate=s),
optax.contrib.reduce_on_plateau(...))`` and pass ``value=loss`` to ``update``.
The effective LR at update ``k`` is ``s(k) * scale``; :func:`current_lr`
returns it.  (See docs/jax.md.)  For the core :class:`lrkit.Plateau` instead
(torch's rule, one metric per epoch, the rule ``lrkit.torch`` and ``lrkit.keras``
use), chain :func:`scale_by_plateau` after the optimizer and copy the plateau's
scale into the state after each ``plateau.update(metric)`` with
:func:`set_plateau_scale`: the scale is an array in the state, so a jitted step
is not retraced, and it is checkpointed with the ``opt_state``::

    plateau = lrkit.Plateau(factor=0.5, patience=2)
    opt = optax.chain(inject_hyperparams(optax.adamw)(learning_rate=s), scale_by_plateau())
    ...                                                    # an epoch of jitted updates
    plateau.update(val_loss)
    state = set_plateau_scale(state, plateau)              # update k then applies s(k) * plateau.scale

optax and jax are imported on first use, never by ``import lrkit``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .base import Schedule
from .plateau import Plateau
from .spec import as_schedule

__all__ = [
    "PlateauScaleState",
    "current_lr",
    "hyperparams",
    "inject_hyperparams",
    "plateau_scale",
    "scale_by_plateau",
    "set_plateau_scale",
    "update_count",
]


class PlateauScaleState(NamedTuple):
    """The state of :func:`scale_by_plateau`: ``scale``, a float32 scalar array multiplying every update."""

    scale: Any


def _schedule_or_value(name: str, value: Any, total_steps: int | None, steps_per_epoch: int | None) -> Any:
    """A hyperparameter as optax takes it: lrkit schedule forms become schedules, anything else passes through."""
    if isinstance(value, (Schedule, str, Mapping)):
        try:
            schedule = as_schedule(value, total_steps=total_steps, steps_per_epoch=steps_per_epoch)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}: {exc}") from exc
        if not schedule.is_resolved:
            # optax would only fail inside init/update, far from the cause.
            raise ValueError(
                f"{name}: {schedule!r} has durations in epochs or percent, or lengths left to the end of training: "
                "pass total_steps= (and steps_per_epoch=) to lrkit.optax.inject_hyperparams"
            )
        return schedule
    return value


def inject_hyperparams(
    optimizer: Callable[..., Any],
    *,
    total_steps: int | None = None,
    steps_per_epoch: int | None = None,
    static_args: str | tuple[str, ...] = (),
    hyperparam_dtype: Any = None,
) -> Callable[..., Any]:
    """``optax.inject_hyperparams(optimizer)`` that takes lrkit schedules in any form, for any hyperparameter.

    ``inject_hyperparams(optax.adamw, total_steps=N)(learning_rate="warmup(cosine(1e-3), steps='5%')",
    weight_decay=lrkit.linear(0.0, 0.1, 1000), b1=0.9)``: a Schedule, spec text or ``to_dict``
    mapping is turned into a schedule (resolved with ``total_steps``/``steps_per_epoch`` when
    given); numbers and other callables pass through unchanged.  Update ``k`` (from 0) uses
    ``s(k)`` for every scheduled hyperparameter; :func:`hyperparams` reads them back.
    """
    import optax

    if not callable(optimizer):
        raise TypeError(f"optimizer must be an optax optimizer factory such as optax.adamw, got {optimizer!r}")
    injected = optax.inject_hyperparams(optimizer, static_args=static_args, hyperparam_dtype=hyperparam_dtype)

    def build(*args: Any, **kwargs: Any) -> Any:
        converted = {k: _schedule_or_value(k, v, total_steps, steps_per_epoch) for k, v in kwargs.items()}
        return injected(*args, **converted)

    return build


def _walk(state: Any) -> Iterator[Any]:
    """Every node of a (nested) optax state, depth first: chains are tuples, wrappers hold inner states."""
    yield state
    if isinstance(state, Mapping):
        children: Any = state.values()
    elif isinstance(state, (tuple, list)):
        children = state  # chain states, and every optax NamedTuple state
    elif hasattr(state, "__dict__") and not hasattr(state, "shape"):
        children = vars(state).values()  # wrapper states that are plain classes
    else:
        return
    for child in children:
        yield from _walk(child)


def _injected_states(opt_state: Any) -> list[Any]:
    import optax

    kinds = (optax.InjectHyperparamsState, optax.InjectStatefulHyperparamsState)
    return [node for node in _walk(opt_state) if isinstance(node, kinds)]


def hyperparams(opt_state: Any) -> dict[str, Any]:
    """The hyperparameters the last update used (after ``init``: those the first update will use).

    Merged over every ``inject_hyperparams`` state in ``opt_state`` (the first
    one found wins a name they share).  Raises ``ValueError`` when there is none.
    """
    states = _injected_states(opt_state)
    if not states:
        raise ValueError(
            "opt_state holds no inject_hyperparams state, so the hyperparameters are not stored: build the optimizer "
            "with lrkit.optax.inject_hyperparams(optax.adamw)(learning_rate=s) (or optax.inject_hyperparams), "
            "or evaluate the schedule yourself: s(lrkit.optax.update_count(opt_state) - 1)"
        )
    out: dict[str, Any] = {}
    for state in states:
        for name, value in state.hyperparams.items():
            out.setdefault(name, value)
    return out


def plateau_scale(opt_state: Any) -> Any:
    """The product of the ``scale`` of every ``optax.contrib.reduce_on_plateau`` and :func:`scale_by_plateau`
    in ``opt_state`` (1.0 if none)."""
    from optax import contrib

    scale: Any = 1.0
    for node in _walk(opt_state):
        if isinstance(node, (contrib.ReduceLROnPlateauState, PlateauScaleState)):
            scale = scale * node.scale
    return scale


def scale_by_plateau() -> Any:
    """An ``optax.GradientTransformation`` multiplying the updates by a scale set from the host.

    Chained after the optimizer, the update of step ``k`` is the optimizer's
    (for SGD, ``-s(k) * grad``) times ``scale``: 1.0 after ``init``, then what
    :func:`set_plateau_scale` wrote, typically the ``scale`` of a core
    :class:`lrkit.Plateau` fed one metric per epoch (torch's rule).  The scale is
    a float32 array in the state: jitted steps read it without retracing, and it
    is saved with the ``opt_state`` (save ``plateau.state()`` next to it).
    """
    import jax.numpy as jnp
    import optax

    def init_fn(params: Any) -> PlateauScaleState:
        del params
        return PlateauScaleState(scale=jnp.ones((), jnp.float32))

    def update_fn(updates: Any, state: PlateauScaleState, params: Any = None) -> tuple[Any, PlateauScaleState]:
        del params
        return optax.tree_utils.tree_scale(state.scale, updates), state

    return optax.GradientTransformation(init_fn, update_fn)


def set_plateau_scale(opt_state: Any, scale: Any) -> Any:
    """``opt_state`` with the scale of every :func:`scale_by_plateau` in it set to ``scale``.

    ``scale`` is a finite number > 0 (a plateau's is in ``(0, 1]``) or an
    :class:`lrkit.Plateau` (its ``scale``).  Returns a new state (optax states
    are immutable); ``ValueError`` when ``opt_state`` holds no such state.
    """
    import jax
    import jax.numpy as jnp

    value = scale.scale if isinstance(scale, Plateau) else scale
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (math.isfinite(value) and value > 0):
        raise ValueError(f"scale must be a finite number > 0 or an lrkit.Plateau, got {scale!r}")
    found = []

    def replace(node: Any) -> Any:
        if isinstance(node, PlateauScaleState):
            found.append(node)
            dtype = jnp.asarray(node.scale).dtype
            # float32 (the state's dtype) rounds 1e39 to inf and 1e-46 to 0: a NaN or frozen update. A
            # Plateau's scale (<= 1) cannot overflow; one reduced below float32's range is stored as its 0.
            with np.errstate(over="ignore", under="ignore"):
                stored = np.asarray(value, dtype=dtype)
            if not (np.isfinite(stored) and (stored > 0 or isinstance(scale, Plateau))):
                raise ValueError(f"scale must be a finite number > 0 in the state's {dtype}, got {scale!r}")
            return PlateauScaleState(scale=jnp.asarray(stored))
        return node

    new = jax.tree_util.tree_map(replace, opt_state, is_leaf=lambda node: isinstance(node, PlateauScaleState))
    if not found:
        raise ValueError(
            "opt_state holds no scale_by_plateau state: chain lrkit.optax.scale_by_plateau() after the optimizer, "
            "optax.chain(lrkit.optax.inject_hyperparams(optax.adamw)(learning_rate=s), lrkit.optax.scale_by_plateau())"
        )
    return new


def current_lr(opt_state: Any, name: str = "learning_rate", *, with_plateau: bool = True) -> float:
    """The learning rate the last update used, as a Python float, for logging.

    ``hyperparams(opt_state)[name]``, times :func:`plateau_scale` when
    ``with_plateau`` (the LR the update really applied when a
    ``reduce_on_plateau`` or :func:`scale_by_plateau` follows the optimizer in a chain).  After update ``k``
    (from 0) that is ``s(k)`` times the plateau's scale; after ``init``, ``s(0)``.
    Call it outside ``jit`` (it converts to a float).
    """
    values = hyperparams(opt_state)
    if name not in values:
        raise ValueError(f"name must be an injected hyperparameter ({sorted(values)}), got {name!r}")
    value = values[name]
    if with_plateau:
        value = value * plateau_scale(opt_state)
    return float(value)


def update_count(opt_state: Any) -> int:
    """The number of updates applied, read from the first state in ``opt_state`` that counts them.

    optax keeps the step in the state (``count`` of ``inject_hyperparams``,
    ``scale_by_adam``, ``scale_by_schedule``...): checkpoint the ``opt_state``
    and a resumed run continues at ``s(update_count)``.
    """
    import optax

    for node in _walk(opt_state):
        if isinstance(node, (optax.InjectHyperparamsState, optax.InjectStatefulHyperparamsState)):
            return int(node.count)
    for node in _walk(opt_state):
        count = getattr(node, "count", None)
        if count is not None and hasattr(count, "dtype") and getattr(count, "ndim", 1) == 0:
            return int(count)
    raise ValueError(
        "opt_state holds no update count (no inject_hyperparams, scale_by_adam or scale_by_schedule state)"
    )
