"""The one registry of names: native schedules and the peers' presets.

Every name a spec, a dict or a config file may use is looked up here, and only
here (:mod:`lrkit.spec` talks to nothing else):

* **native schedules** (``"cosine"``, ``"warmup"``...): each :class:`~lrkit.Schedule`
  subclass with a ``spec_name`` registers itself when its class is defined
  (:func:`register_schedule`, called by ``Schedule.__init_subclass__``);
* **presets** (``"keras.CosineDecay"``, ``"optax.linear_schedule"``...): the
  public functions (``__all__``) of a *peer module*, called by the dotted name
  ``"<peer>.<function>"``.  A peer is declared once, below, as a lazy entry:
  its name and the import path of its module.  The module is imported the
  first time one of its names is looked up, never before (so ``import lrkit``
  and parsing a native spec import no compat module).

Adding a peer is one module plus one line at the end of this file::

    register_peer("timm", "lrkit.compat.timm")

Safety: a name from untrusted text can only ever import a module registered
here by code; ``"os.system"``, ``"torch.nn"`` or ``"lrkit.compat.keras.X"`` import
nothing (an unknown first part is not a peer, and a preset name has exactly one
dot).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Schedule

__all__ = [
    "PRESETS",
    "SCHEDULES",
    "is_known",
    "is_schedule",
    "lookup",
    "parameters",
    "peers",
    "preset_parameters",
    "presets",
    "register_peer",
    "register_schedule",
    "required_parameters",
    "signature_text",
    "suggest",
]

Preset = Callable[..., Any]

#: spec name -> schedule class; filled by ``Schedule.__init_subclass__`` (``lrkit.REGISTRY`` is this dict).
SCHEDULES: dict[str, type[Schedule]] = {}

# peer -> import path of its module, in registration order (the order presets() lists them).
_PEERS: dict[str, str] = {}
# peer -> {dotted name: function}, filled on the first lookup of one of the peer's names.
_LOADED: dict[str, dict[str, Preset]] = {}
_SIGNATURES: dict[str, inspect.Signature] = {}

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# -- registration ---------------------------------------------------------------


def register_schedule(cls: type[Schedule]) -> None:
    """Register a native schedule class under its ``spec_name`` (``RuntimeError`` for a taken name)."""
    name = cls.spec_name
    if name in SCHEDULES and SCHEDULES[name] is not cls:
        raise RuntimeError(f"duplicate schedule name {name!r}")
    SCHEDULES[name] = cls


def register_peer(peer: str, module: str) -> None:
    """Declare the peer ``peer`` whose presets are the ``__all__`` of the module ``module`` (imported lazily).

    Registering the same peer twice with the same module is a no-op; with
    another module it raises ``RuntimeError`` (a name must not silently change
    meaning).
    """
    if not isinstance(peer, str) or not _IDENTIFIER.match(peer):
        raise TypeError(f"peer must be an identifier such as 'keras', got {peer!r}")
    if not isinstance(module, str) or not all(_IDENTIFIER.match(part) for part in module.split(".")):
        raise TypeError(f"module must be a dotted import path such as 'lrkit.compat.keras', got {module!r}")
    if _PEERS.get(peer, module) != module:
        raise RuntimeError(f"peer {peer!r} is already registered for module {_PEERS[peer]!r}")
    _PEERS[peer] = module


def peers() -> tuple[str, ...]:
    """The registered peers, in registration order (``('keras', 'optax', 'hf')``)."""
    return tuple(_PEERS)


def _peer_presets(peer: str) -> dict[str, Preset]:
    if peer not in _LOADED:
        # The only import a name can trigger: a module registered by code, never one named by the text.
        module = importlib.import_module(_PEERS[peer])
        # A module's presets are exactly its __all__: helpers stay private.
        _LOADED[peer] = {f"{peer}.{fn}": getattr(module, fn) for fn in module.__all__}
    return _LOADED[peer]


def peer_module(peer: str) -> Any:
    """The module of a registered peer (imported on first use); ``KeyError`` for an unknown peer."""
    return importlib.import_module(_PEERS[peer])


# -- lookup -----------------------------------------------------------------------


def _split(name: Any) -> tuple[str, str] | None:
    """``("keras", "CosineDecay")`` for a name of a registered peer's shape, else None."""
    if not isinstance(name, str):
        return None
    peer, dot, rest = name.partition(".")
    if not dot or peer not in _PEERS or not _IDENTIFIER.match(rest):
        return None
    return peer, rest


def _preset(name: Any) -> Preset | None:
    split = _split(name)
    if split is None:
        return None
    return _peer_presets(split[0]).get(name)


def is_schedule(name: Any) -> bool:
    """True for a native schedule name (``"cosine"``), False for presets and unknown names."""
    return isinstance(name, str) and name in SCHEDULES


def is_known(name: Any) -> bool:
    """True for a native schedule name or a registered preset's dotted name."""
    return is_schedule(name) or _preset(name) is not None


def lookup(name: str) -> Callable[..., Schedule]:
    """The schedule class or preset function called ``name``; ``KeyError`` for an unknown name."""
    if is_schedule(name):
        return SCHEDULES[name]
    preset = _preset(name)
    if preset is None:
        raise KeyError(name)
    return preset


def _signature(name: str) -> inspect.Signature:
    if name not in _SIGNATURES:
        _SIGNATURES[name] = inspect.signature(lookup(name))
    return _SIGNATURES[name]


def parameters(name: str) -> tuple[str, ...]:
    """The parameter names of the schedule or preset ``name``, in signature order."""
    if is_schedule(name):
        return SCHEDULES[name]._fields
    return tuple(_signature(name).parameters)


def preset_parameters(name: str) -> tuple[str, ...]:
    """The parameter names of the preset ``name`` (``KeyError`` when it is not a preset)."""
    if _preset(name) is None:
        raise KeyError(name)
    return tuple(_signature(name).parameters)


def required_parameters(name: str) -> tuple[tuple[str, bool], ...]:
    """``(parameter, may_be_positional)`` for every parameter of ``name`` without a default."""
    out = []
    for p in _signature(name).parameters.values():
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            out.append((p.name, p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)))
    return tuple(out)


def positional_parameters(name: str) -> tuple[str, ...]:
    """The parameters of ``name`` that may be given positionally, in order."""
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return tuple(p.name for p in _signature(name).parameters.values() if p.kind in kinds)


def signature_text(name: str) -> str:
    """How to call ``name``: ``cosine(value, steps, floor=0.0, ...)`` (defaults as written in Python)."""
    parts = []
    keyword_only = False
    for p in _signature(name).parameters.values():
        if p.kind is p.KEYWORD_ONLY and not keyword_only:
            parts.append("*")
            keyword_only = True
        parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return f"{name}({', '.join(parts)})"


# -- suggestions ------------------------------------------------------------------

_SAME_PEER_CUTOFF = 0.6  # within one prefix, a loose match helps (typos, a missing suffix)
_LAST_PART_CUTOFF = 0.8  # across prefixes only a close last part: torch.CosineAnnealingLR is not keras.CosineDecay


def _close(word: str, candidates: Mapping[str, str], cutoff: float) -> list[tuple[float, str]]:
    """``(score, name)`` for every candidate name whose key is close to ``word`` (case-insensitive)."""
    from difflib import SequenceMatcher  # only when suggesting a name: kept out of `import lrkit`

    word = word.lower()
    out = []
    for key, name in candidates.items():
        score = SequenceMatcher(None, word, key.lower()).ratio()
        if score >= cutoff:
            out.append((score, name))
    return out


def suggest(name: str) -> str:
    """A hint for the unknown name ``name``: ``"; did you mean 'cosine'?"`` or the list of what exists.

    Candidates: native names close to ``name`` (or to its last part), presets
    of the same peer close to it, and presets of other peers only when their
    function name is close to the last part of ``name``.
    """
    name = str(name)[:200]  # never echo unbounded input; also bounds difflib's quadratic cost
    prefix, dot, last = name.rpartition(".")
    scored: list[tuple[float, str]] = []
    natives = {n: n for n in SCHEDULES}
    scored += _close(last if dot else name, natives, _SAME_PEER_CUTOFF if not dot else _LAST_PART_CUTOFF)
    for peer in _PEERS:
        names = _peer_presets(peer)
        if dot and prefix == peer:
            scored += _close(name, {n: n for n in names}, _SAME_PEER_CUTOFF)
        else:
            scored += _close(last, {n.partition(".")[2]: n for n in names}, _LAST_PART_CUTOFF)
    best: dict[str, float] = {}
    for score, candidate in scored:
        best[candidate] = max(score, best.get(candidate, 0.0))
    close = sorted(best, key=lambda c: (-best[c], c))[:3]
    if close:
        return f"; did you mean {' or '.join(repr(c) for c in close)}?"
    hint = ""
    if dot and prefix not in _PEERS:
        hint = f" ({prefix!r} is not a peer; the peers are {', '.join(_PEERS)})"
    return f"; known schedules: {', '.join(sorted(SCHEDULES))}, and the presets listed by lrkit.compat.presets(){hint}"


# -- views ----------------------------------------------------------------------------


def presets(peer: str | None = None) -> list[str]:
    """The dotted names of all presets (or of one ``peer``'s), in registration order.

    >>> [n for n in presets("hf")][:2]
    ['hf.get_constant_schedule', 'hf.get_constant_schedule_with_warmup']
    """
    if peer is None:
        return [n for p in _PEERS for n in _peer_presets(p)]
    if peer not in _PEERS:
        raise ValueError(f"peer must be one of {', '.join(map(repr, _PEERS))}; got {peer!r}")
    return list(_peer_presets(peer))


class _Presets(Mapping[str, Preset]):
    """``"<peer>.<function>"`` -> function, a read-only view filled lazily one peer module at a time.

    Only registered peers ever trigger an import, and only of their registered
    module: looking a name up from untrusted spec text can never import anything else.
    """

    def __getitem__(self, name: str) -> Preset:
        preset = _preset(name)
        if preset is None:
            raise KeyError(name)
        return preset

    def __contains__(self, name: object) -> bool:
        return _preset(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(presets())

    def __len__(self) -> int:
        return len(presets())

    def __repr__(self) -> str:
        return f"PRESETS({', '.join(self)})"


#: every preset, by dotted name (``"optax.warmup_cosine_decay_schedule"``...).
PRESETS: Mapping[str, Preset] = _Presets()


# -- the peers: one line per peer module (the module lists its presets in __all__) ------

register_peer("keras", "lrkit.compat.keras")
register_peer("optax", "lrkit.compat.optax")
register_peer("hf", "lrkit.compat.hf")
register_peer("torch", "lrkit.compat.torch")
register_peer("megatron", "lrkit.compat.megatron")
register_peer("deepspeed", "lrkit.compat.deepspeed")
register_peer("pytorch_warmup", "lrkit.compat.pytorch_warmup")
register_peer("timm", "lrkit.compat.timm")
register_peer("fvcore", "lrkit.compat.fvcore")
