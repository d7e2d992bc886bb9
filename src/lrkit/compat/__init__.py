"""Peer-compatible constructors: each peer's own names and parameters, returning lrkit schedules.

One module per peer: :mod:`lrkit.compat.keras` (``keras.optimizers.schedules``),
:mod:`lrkit.compat.optax` (``optax.schedules``) and :mod:`lrkit.compat.hf`
(HF transformers' ``get_*_schedule*`` functions, as factor schedules).  They
copy the peer's behaviour step for step, quirks included, and name each quirk
in a docstring.  None of them imports the peer.

One registry
------------
Every public function of those modules is a *preset*, reachable by the dotted
name ``"<peer>.<function>"`` everywhere a schedule name is accepted::

    >>> import lrkit
    >>> lrkit.parse("keras.CosineDecay(0.001, 4000)")            # spec text
    cosine(0.001, steps=4000)
    >>> lrkit.from_dict({"type": "hf.get_linear_schedule_with_warmup",
    ...                  "num_warmup_steps": 100, "num_training_steps": 1000})
    multiplier(warmup(linear(1.0, 0.0, steps=900), steps=100))

Presets are constructors: they return ordinary lrkit schedules, whose ``repr``
and ``to_dict`` are the native spec (so a saved schedule never depends on the
compat layer).  :data:`PRESETS` maps each dotted name to its function; it
imports a peer's compat module the first time one of its names is looked up.

The names live in the core registry, :mod:`lrkit.registry`; this package only
holds the peer modules.  :data:`PRESETS`, :data:`PEERS`, :func:`presets` and
:func:`preset_parameters` are views over that registry.  Adding a peer is one
module here plus one ``register_peer("<peer>", "lrkit.compat.<peer>")`` line at
the end of :mod:`lrkit.registry`.
"""

from __future__ import annotations

from typing import Any

from .. import registry
from ..registry import PRESETS, preset_parameters, presets

__all__ = ["PEERS", "PRESETS", "preset_parameters", "presets"]

PEERS: tuple[str, ...]  # the registered peers, in registration order (a view: see __getattr__)


def __getattr__(name: str) -> Any:
    if name == "PEERS":
        # computed on each access, so a peer registered later shows up too
        return registry.peers()
    # ``lrkit.compat.optax`` works after ``import lrkit.compat`` alone, like ``lrkit.compat.keras``.
    if name in registry.peers():
        return registry.peer_module(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "PEERS", *registry.peers()})
