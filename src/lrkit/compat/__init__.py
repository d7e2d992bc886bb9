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
    warmup(linear(1.0, 0.0, steps=900), steps=100, prefix=True)

Presets are constructors: they return ordinary lrkit schedules, whose ``repr``
and ``to_dict`` are the native spec (so a saved schedule never depends on the
compat layer).  :data:`PRESETS` maps each dotted name to its function; it
imports a peer's compat module the first time one of its names is looked up.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

__all__ = ["PEERS", "PRESETS", "preset_parameters", "presets"]

#: the compat modules, in the order :func:`presets` lists them.
PEERS: tuple[str, ...] = ("keras", "optax", "hf")

Preset = Callable[..., Any]


class _Presets(Mapping[str, Preset]):
    """``"<peer>.<function>"`` -> function, filled lazily one peer module at a time.

    Only names in :data:`PEERS` ever trigger an import, and only of
    ``lrkit.compat.<peer>``: looking a name up from untrusted spec text can
    never import anything else.
    """

    def __init__(self) -> None:
        self._loaded: dict[str, dict[str, Preset]] = {}

    def _peer(self, peer: str) -> dict[str, Preset]:
        if peer not in self._loaded:
            module = importlib.import_module(f"{__name__}.{peer}")
            # A module's presets are exactly its __all__: helpers stay private.
            self._loaded[peer] = {f"{peer}.{fn}": getattr(module, fn) for fn in module.__all__}
        return self._loaded[peer]

    def __getitem__(self, name: str) -> Preset:
        peer, dot, _ = name.partition(".") if isinstance(name, str) else ("", "", "")
        if not dot or peer not in PEERS:
            raise KeyError(name)
        return self._peer(peer)[name]

    def __contains__(self, name: object) -> bool:
        try:
            self[name]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        for peer in PEERS:
            yield from self._peer(peer)

    def __len__(self) -> int:
        return sum(len(self._peer(peer)) for peer in PEERS)

    def __repr__(self) -> str:
        return f"PRESETS({', '.join(self)})"


#: every preset, by dotted name (``"optax.warmup_cosine_decay_schedule"``...).
PRESETS: Mapping[str, Preset] = _Presets()


def presets(peer: str | None = None) -> list[str]:
    """The dotted names of all presets (or of one ``peer``'s), in :data:`PEERS` order.

    >>> [n for n in presets("hf")][:2]
    ['hf.get_constant_schedule', 'hf.get_constant_schedule_with_warmup']
    """
    if peer is None:
        return list(PRESETS)
    if peer not in PEERS:
        raise ValueError(f"peer must be one of {', '.join(map(repr, PEERS))}; got {peer!r}")
    return [n for n in PRESETS if n.startswith(peer + ".")]


def preset_parameters(name: str) -> tuple[str, ...]:
    """The parameter names of the preset ``name``, in signature order."""
    return tuple(inspect.signature(PRESETS[name]).parameters)


def __getattr__(name: str) -> Any:
    # ``lrkit.compat.optax`` works after ``import lrkit.compat`` alone, like ``lrkit.compat.keras``.
    if name in PEERS:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
