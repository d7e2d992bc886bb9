"""Schedules as text and data: ``parse``/``repr``, ``from_dict``/``to_dict``, files.

The spec language is the call syntax ``repr`` prints, e.g.::

    warmup(multistep(0.001, milestones=[10000, 12000], gamma=0.5), steps=500, start_factor=1/3)

It is read with :mod:`ast` (parsing only, nothing is ever executed): calls of
registered schedule names, numbers, strings, booleans, ``None``, lists, and
arithmetic on number literals (``1/3``, ``2 * 1e-3``).  Compat presets are
called by their dotted name, ``keras.CosineDecay(0.001, 4000)``, looked up
only in :data:`lrkit.compat.PRESETS` (their arguments may also be dicts, for
optax's ``{step: scale}``); ``from_dict`` takes the same names as ``"type"``.
Anything else is a :class:`SpecError` naming the position.
"""

from __future__ import annotations

import ast
import difflib
import json
import math
import operator
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .base import REGISTRY, Schedule

__all__ = ["SpecError", "dumps", "from_dict", "load", "loads", "parse", "save"]

_MAX_SPEC_LENGTH = 100_000
_MAX_DEPTH = 64


class SpecError(ValueError):
    """A schedule spec (text or dict) that cannot be turned into a schedule."""

    def __init__(self, message: str, text: str | None = None, position: int | None = None) -> None:
        self.message = message
        self.text = text
        self.position = position
        if text is not None and position is not None and not {"\n", "\r"} & set(text) and len(text) <= 200:
            message = f"{message} (at position {position})\n  {text}\n  {' ' * position}^"
        elif position is not None:
            message = f"{message} (at position {position})"
        super().__init__(message)


def _preset(name: str) -> Any:
    """The compat preset called ``name`` (``"keras.CosineDecay"``...), or None.

    Presets live in the one registry :data:`lrkit.compat.PRESETS`, which only
    ever imports lrkit's own compat modules.
    """
    if not isinstance(name, str) or "." not in name:
        return None
    from .compat import PRESETS

    return PRESETS.get(name)


def _peers() -> tuple[str, ...]:
    from .compat import PEERS

    return PEERS


def _is_known(name: Any) -> bool:
    return isinstance(name, str) and (name in REGISTRY or _preset(name) is not None)


def _parameters(name: str) -> tuple[str, ...]:
    if name in REGISTRY:
        return REGISTRY[name]._fields
    from .compat import preset_parameters

    return preset_parameters(name)


def _suggest(name: str) -> str:
    from .compat import PRESETS

    close = difflib.get_close_matches(name, [*sorted(REGISTRY), *PRESETS], n=3, cutoff=0.5)
    if close:
        return f"; did you mean {' or '.join(repr(c) for c in close)}?"
    return f"; known schedules: {', '.join(sorted(REGISTRY))}, and the presets listed by lrkit.compat.presets()"


def _build(name: str, args: list[Any], kwargs: dict[str, Any]) -> Schedule:
    make = REGISTRY[name] if name in REGISTRY else _preset(name)
    try:
        return make(*args, **kwargs)  # type: ignore[no-any-return]
    except (TypeError, ValueError) as exc:
        raise SpecError(f"{name}(): {exc}") from None


# -- text ---------------------------------------------------------------------

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_NAMES = {"inf": math.inf, "true": True, "false": False, "null": None}


class _Reader:
    def __init__(self, text: str, offsets: list[int]) -> None:
        self.text = text
        self.offsets = offsets

    def pos(self, node: ast.AST) -> int:
        line = getattr(node, "lineno", 1)
        # ast's col_offset counts UTF-8 bytes; the position we report counts characters.
        start = self.offsets[min(line, len(self.offsets)) - 1]
        text_line = self.text[start:]
        col = len(text_line.encode("utf-8")[: getattr(node, "col_offset", 0)].decode("utf-8", "ignore"))
        return start + col

    def fail(self, message: str, node: ast.AST) -> SpecError:
        return SpecError(message, self.text, self.pos(node))

    def value(self, node: ast.AST, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail(f"spec nested deeper than {_MAX_DEPTH} levels", node)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (bool, int, float, str)) or node.value is None:
                if isinstance(node.value, int) and not isinstance(node.value, bool) and abs(node.value) > 2**63:
                    raise self.fail(f"number {node.value} is too large", node)
                return node.value
            raise self.fail(f"unsupported literal {node.value!r}", node)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e, depth + 1) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand, depth + 1)
            if not _is_number(operand):
                raise self.fail("a sign can only stand before a number", node)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left = self.value(node.left, depth + 1)
            right = self.value(node.right, depth + 1)
            if not (_is_number(left) and _is_number(right)):
                raise self.fail("arithmetic is only allowed between numbers", node)
            return self._arith(node, left, right)
        if isinstance(node, ast.Name):
            if node.id.lower() in _NAMES:
                return _NAMES[node.id.lower()]
            if node.id in REGISTRY:
                raise self.fail(f"{node.id} is a schedule: call it, as in {node.id}(...)", node)
            raise self.fail(f"unknown name {node.id!r}{_suggest(node.id)}", node)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = self.callee(node)
            if _preset(name) is not None:
                raise self.fail(f"{name} is a schedule: call it, as in {name}(...)", node)
            raise self.fail(f"unknown name {name!r}{_suggest(name)}", node)
        raise self.fail(f"unsupported syntax ({type(node).__name__})", node)

    def callee(self, node: ast.AST) -> str:
        """The name before ``(``: ``cosine``, or a preset's ``peer.function`` (one dot, nothing else)."""
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return f"{node.value.id}.{node.attr}"
        raise self.fail("expected a schedule name (such as cosine or keras.CosineDecay) before '('", node)

    def argument(self, node: ast.AST, depth: int) -> Any:
        """A preset's argument: a value, or lists/dicts of them (optax takes ``{step: scale}`` dicts)."""
        if depth > _MAX_DEPTH:
            raise self.fail(f"spec nested deeper than {_MAX_DEPTH} levels", node)
        if isinstance(node, ast.Dict):
            out: dict[Any, Any] = {}
            for key_node, value_node in zip(node.keys, node.values, strict=False):
                if key_node is None:
                    raise self.fail("'**' is not allowed in a spec", value_node)
                key = self.value(key_node, depth + 1)
                if isinstance(key, (Schedule, list)):
                    raise self.fail("a dict key must be a number or a string", key_node)
                if key in out:
                    raise self.fail(f"dict key {key!r} given twice", key_node)
                out[key] = self.argument(value_node, depth + 1)
            return out
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.argument(e, depth + 1) for e in node.elts]
        return self.value(node, depth)

    def _arith(self, node: ast.AST, left: Any, right: Any) -> Any:
        op = _BINOPS[type(node.op)]  # type: ignore[attr-defined]
        ints = isinstance(left, int) and isinstance(right, int)
        try:
            if isinstance(node.op, ast.Pow) or not ints:  # type: ignore[attr-defined]
                result: Any = op(float(left), float(right))
                if ints and isinstance(node.op, ast.Pow) and float(result).is_integer() and abs(result) < 2**53:  # type: ignore[attr-defined]
                    result = int(result)
            else:
                result = op(left, right)
        except (ZeroDivisionError, OverflowError, ValueError) as exc:
            raise self.fail(f"bad arithmetic: {exc}", node) from None
        if isinstance(result, complex) or (isinstance(result, float) and math.isnan(result)):
            raise self.fail("arithmetic gave no real number", node)
        if isinstance(result, int) and abs(result) > 2**63:
            raise self.fail("number is too large", node)
        return result

    def call(self, node: ast.Call, depth: int) -> Schedule:
        name = self.callee(node.func)
        if not _is_known(name):
            if "." in name and name.partition(".")[0] not in _peers():
                # lrkit.cosine(...), np.exp(...): not a peer, so not a preset either
                raise self.fail(
                    f"expected a schedule name (such as cosine or keras.CosineDecay) before '(', got {name!r}"
                    f"{_suggest(name)}",
                    node,
                )
            raise self.fail(f"unknown schedule {name!r}{_suggest(name)}", node)
        fields = _parameters(name)
        # Only presets take dicts (optax's boundaries_and_scales); native specs stay as repr prints them.
        read = self.value if name in REGISTRY else self.argument
        args = []
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise self.fail("'*' arguments are not allowed in a spec", a)
            args.append(read(a, depth + 1))
        kwargs: dict[str, Any] = {}
        for kw in node.keywords:
            if kw.arg is None:
                raise self.fail("'**' arguments are not allowed in a spec", kw)
            if kw.arg in kwargs:  # ast.parse accepts f(a=1, a=2); only the compiler rejects it
                raise self.fail(f"{name}() got parameter {kw.arg!r} twice", kw)
            if kw.arg not in fields:
                close = difflib.get_close_matches(kw.arg, fields, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; it takes {', '.join(fields)}"
                raise self.fail(f"{name}() has no parameter {kw.arg!r}{hint}", kw)
            kwargs[kw.arg] = read(kw.value, depth + 1)
        try:
            return _build(name, args, kwargs)
        except SpecError as exc:
            raise SpecError(exc.message, self.text, self.pos(node)) from None


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def parse(text: str) -> Schedule:
    """Read a schedule spec (the syntax ``repr`` prints); never executes code.

    Raises :class:`SpecError` (a ``ValueError``) with the position for anything
    malformed, and suggestions for unknown names.
    """
    if isinstance(text, Schedule):
        return text
    if not isinstance(text, str):
        raise SpecError(f"a spec must be a string, got {type(text).__name__}")
    if len(text) > _MAX_SPEC_LENGTH:
        raise SpecError(f"spec is longer than {_MAX_SPEC_LENGTH} characters")
    stripped = text.strip()
    if not stripped:
        raise SpecError("empty spec: expected a schedule such as cosine(0.001, steps=1000)")
    try:
        with warnings.catch_warnings():  # Python's SyntaxWarnings ('invalid escape sequence'...) are not ours
            warnings.simplefilter("ignore")
            tree = ast.parse(stripped, mode="eval")
    except SyntaxError as exc:
        offset = max((exc.offset or 1) - 1, 0) if (exc.lineno or 1) == 1 else None
        raise SpecError(f"malformed spec: {exc.msg}", stripped, offset) from None
    except RecursionError:
        raise SpecError(f"malformed spec: nested deeper than {_MAX_DEPTH} levels") from None
    except (ValueError, MemoryError) as exc:  # null bytes (before 3.12), too many digits...
        raise SpecError(f"malformed spec: {type(exc).__name__}: {exc}") from None
    # Where each line starts, with Python's own line ends (a lone '\r' is one too).
    offsets = [0, *(m.end() for m in re.finditer(r"\r\n|\r|\n", stripped))]
    reader = _Reader(stripped, offsets)
    try:
        result = reader.value(tree.body)
    except RecursionError:
        raise SpecError(f"spec nested deeper than {_MAX_DEPTH} levels") from None
    if not isinstance(result, Schedule):
        raise SpecError(f"a spec must be a schedule call such as cosine(0.001, steps=1000), got {result!r}")
    return result


# -- data ---------------------------------------------------------------------


def from_dict(data: Mapping[str, Any]) -> Schedule:
    """Inverse of :meth:`Schedule.to_dict`: ``{"type": name, **params}``, nested."""
    if not isinstance(data, Mapping):  # a bare number or list would otherwise come back unchanged
        raise SpecError(f"spec: a schedule must be a dict with a 'type' key, got {type(data).__name__}")
    return _from_data(data, "spec", 0)


def _from_data(data: Any, where: str, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise SpecError(f"{where}: nested deeper than {_MAX_DEPTH} levels")
    if isinstance(data, Mapping):
        if "type" not in data:
            raise SpecError(f"{where}: a schedule dict needs a 'type' key, got keys {sorted(map(str, data))}")
        name = data["type"]
        if not _is_known(name):
            raise SpecError(f"{where}: unknown schedule type {name!r}{_suggest(str(name))}")
        fields = _parameters(name)
        kwargs = {}
        for key, value in data.items():
            if key == "type":
                continue
            if key not in fields:
                raise SpecError(f"{where}: {name}() has no parameter {key!r}; it takes {', '.join(fields)}")
            if name in REGISTRY:
                kwargs[key] = _from_data(value, f"{where}.{key}", depth + 1)
            else:
                kwargs[key] = _preset_argument(value, f"{where}.{key}", depth + 1)
        return _build(name, [], kwargs)
    if isinstance(data, (list, tuple)):
        return [_from_data(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(data)]
    return data


def _preset_argument(data: Any, where: str, depth: int) -> Any:
    # A preset's argument may be a plain dict (optax's {step: scale}, sgdr's list of
    # kwargs): a dict without a "type" key is data, not a schedule.
    if depth > _MAX_DEPTH:
        raise SpecError(f"{where}: nested deeper than {_MAX_DEPTH} levels")
    if isinstance(data, Mapping) and "type" not in data:
        return {k: _preset_argument(x, f"{where}.{k}", depth + 1) for k, x in data.items()}
    if isinstance(data, (list, tuple)):
        return [_preset_argument(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(data)]
    return _from_data(data, where, depth)


def dumps(schedule: Schedule, format: str = "json") -> str:
    """Serialise to ``json``, ``yaml`` (needs PyYAML) or ``toml`` (needs tomli-w)."""
    data = schedule.to_dict()
    if format == "json":
        return json.dumps(data, indent=2) + "\n"
    if format == "yaml":
        import yaml

        return str(yaml.safe_dump(data, sort_keys=False))
    if format == "toml":
        import tomli_w

        return str(tomli_w.dumps(data))
    raise ValueError(f"format must be 'json', 'yaml' or 'toml', got {format!r}")


def loads(text: str, format: str = "json") -> Schedule:
    """Inverse of :func:`dumps`."""
    if format not in ("json", "yaml", "toml"):
        raise ValueError(f"format must be 'json', 'yaml' or 'toml', got {format!r}")
    try:
        if format == "json":
            data = json.loads(text)
        elif format == "yaml":
            import yaml

            data = yaml.safe_load(text)
        else:
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10: the same parser, as the tomli package
                import tomli as tomllib

            data = tomllib.loads(text)
    except ImportError:
        raise
    except Exception as exc:  # JSONDecodeError, yaml.YAMLError (not a ValueError), TOMLDecodeError...
        raise SpecError(f"malformed {format}: {exc}") from None
    return from_dict(data)


_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}


def _format_of(path: Path) -> str:
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"path must end in .json, .yaml, .yml or .toml, got {str(path)!r}") from None


def save(schedule: Schedule, path: str | Path) -> None:
    """Write a schedule to a ``.json``, ``.yaml`` or ``.toml`` file."""
    path = Path(path)
    path.write_text(dumps(schedule, _format_of(path)), encoding="utf-8")


def load(path: str | Path) -> Schedule:
    """Read a schedule written by :func:`save` (format from the suffix)."""
    path = Path(path)
    return loads(path.read_text(encoding="utf-8"), _format_of(path))
