"""Schedules as text and data: ``parse``/``repr``, ``from_dict``/``to_dict``, files.

The spec language is the call syntax ``repr`` prints, e.g.::

    warmup(multistep(0.001, milestones=[10000, 12000], gamma=0.5), steps=500, start_factor=1/3, prefix=False)

It is read with :mod:`ast` (parsing only, nothing is ever executed): calls of
registered schedule names, numbers, strings, booleans, ``None``, lists, and
arithmetic on number literals (``1/3``, ``2 * 1e-3``).  Compat presets are
called by their dotted name, ``keras.CosineDecay(0.001, 4000)``, looked up
only in the core registry :mod:`lrkit.registry` (their arguments may also be dicts, for
optax's ``{step: scale}``); ``from_dict`` takes the same names as ``"type"``.
Anything else is a :class:`SpecError` naming the position.
"""

from __future__ import annotations

import ast
import math
import operator
import os
import re
import sys
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import registry
from .base import Schedule
from .validators import excerpt

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["SpecError", "as_schedule", "dumps", "from_dict", "load", "loads", "parse", "save"]

_MAX_SPEC_LENGTH = 100_000
_MAX_DEPTH = 64
# Loaders (from_dict, loads, load): JSON/YAML/TOML text is about twice as long as the spec it holds
# (indentation, one value per line), so the text cap is larger; what bounds time and memory is the
# budget of values materialised, which counts every visit (a YAML alias repeated 9 times costs 9 times).
_MAX_DATA_LENGTH = 10 * _MAX_SPEC_LENGTH
_MAX_DATA_VALUES = 100_000
_MAX_DATA_CHARS = 10 * _MAX_SPEC_LENGTH  # total length of the strings and keys materialised
_MAX_MESSAGE = 1_000  # a message quoting a nested error is cut to this many characters


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


def _is_known(name: Any) -> bool:
    return registry.is_known(name)


def _parameters(name: str) -> tuple[str, ...]:
    return registry.parameters(name)


def _suggest(name: str) -> str:
    return registry.suggest(name)


def _check_call(name: str, nargs: int, kwargs: Mapping[str, Any]) -> None:
    """Refuse a call that does not fit the signature, in lrkit's words (before Python's own TypeError)."""
    positional = registry.positional_parameters(name)
    if nargs > len(positional):
        raise SpecError(
            f"{name}() takes at most {len(positional)} positional argument{'s' if len(positional) != 1 else ''}"
            f" ({', '.join(positional)}), got {nargs}; call it as {registry.signature_text(name)}"
        )
    for given in positional[:nargs]:
        if given in kwargs:
            raise SpecError(f"{name}() got parameter {given!r} twice (by position and by name)")
    filled = set(positional[:nargs]) | set(kwargs)
    missing = [p for p, _ in registry.required_parameters(name) if p not in filled]
    if missing:
        needs = " and ".join(missing)
        raise SpecError(f"{name}() needs {needs}; call it as {registry.signature_text(name)}")


def _build(name: str, args: list[Any], kwargs: dict[str, Any]) -> Schedule:
    _check_call(name, len(args), kwargs)
    make = registry.lookup(name)
    try:
        return make(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise SpecError(_clip(f"{name}(): {exc}{_yaml_hint(exc, args, kwargs)}")) from None
    except ArithmeticError as exc:  # OverflowError, ZeroDivisionError: parse raises only SpecError
        raise SpecError(_clip(f"{name}(): {type(exc).__name__}: {exc}")) from None


def _clip(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else f"{message[: _MAX_MESSAGE - 30]}... ({len(message)} characters)"


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _yaml_hint(exc: Exception, args: list[Any], kwargs: dict[str, Any]) -> str:
    """Why a number arrived as a string: PyYAML (YAML 1.1) reads ``1e-3`` as text, ``1.0e-3`` as a float."""
    if not isinstance(exc, TypeError):
        return ""
    for value in [*args, *kwargs.values()]:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()) and "e" in value.lower():
            return (
                f" (in YAML 1.1, which PyYAML reads, {value!r} without a dot is a string, not a number: write it "
                "with a dot and a signed exponent, such as 1.0e-3, or as 0.001)"
            )
    return ""


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
            raise self.fail(f"unsupported literal {excerpt(node.value)}", node)
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
            if registry.is_schedule(node.id):
                raise self.fail(f"{node.id} is a schedule: call it, as in {node.id}(...)", node)
            raise self.fail(f"unknown name {node.id!r}{_suggest(node.id)}", node)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = self.callee(node)
            if registry.is_known(name):
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
            if "." in name and name.partition(".")[0] not in registry.peers():
                # lrkit.cosine(...), np.exp(...): not a peer, so not a preset either
                raise self.fail(
                    f"expected a schedule name (such as cosine or keras.CosineDecay) before '(', got {name!r}"
                    f"{_suggest(name)}",
                    node,
                )
            raise self.fail(f"unknown schedule {name!r}{_suggest(name)}", node)
        fields = _parameters(name)
        # Only presets take dicts (optax's boundaries_and_scales); native specs stay as repr prints them.
        read = self.value if registry.is_schedule(name) else self.argument
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
                import difflib  # only on an error: kept out of `import lrkit`

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
        raise SpecError(f"a spec must be a schedule call such as cosine(0.001, steps=1000), got {excerpt(result)}")
    return result


# -- data ---------------------------------------------------------------------


def from_dict(data: Mapping[str, Any]) -> Schedule:
    """Inverse of :meth:`Schedule.to_dict`: ``{"type": name, **params}``, nested.

    Bounded like :func:`parse`: at most 100,000 values and 1,000,000 characters
    of strings, every use counted (so a YAML alias bomb, whose shared lists
    expand exponentially, is refused before anything is copied, with a short
    :class:`SpecError`), and at most 64 levels of nesting.
    """
    if not isinstance(data, Mapping):  # a bare number or list would otherwise come back unchanged
        raise SpecError(f"spec: a schedule must be a dict with a 'type' key, got {type(data).__name__}")
    _check_size(data)
    return _from_data(data, "spec", 0)


def _check_size(data: Any) -> None:
    """Refuse data that would expand past the budget, before materialising anything.

    Counts every use of a value (a YAML alias used 9 times counts 9 times), with
    an explicit stack: fast, and no recursion.  Depth is checked later, by the walk.
    """
    values, chars = 0, 0
    stack = [data]
    while stack:
        item = stack.pop()
        values += 1
        if isinstance(item, str):
            chars += len(item)
        elif isinstance(item, Mapping):
            chars += sum(len(k) for k in item if isinstance(k, str))
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        if values > _MAX_DATA_VALUES or chars > _MAX_DATA_CHARS:
            raise SpecError(
                f"spec: the data is too large: more than {_MAX_DATA_VALUES} values or {_MAX_DATA_CHARS} characters "
                "of strings once expanded (YAML aliases count once per use)"
            )


def _where(where: str, key: Any) -> str:
    return f"{where}.{excerpt(key) if not isinstance(key, str) else key[:100]}"


def _from_data(data: Any, where: str, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise SpecError(f"{where}: nested deeper than {_MAX_DEPTH} levels")
    if isinstance(data, Mapping):
        if "type" not in data:
            raise SpecError(f"{where}: a schedule dict needs a 'type' key, got keys {excerpt(sorted(map(str, data)))}")
        name = data["type"]
        if not _is_known(name):
            raise SpecError(f"{where}: unknown schedule type {excerpt(name)}{_suggest(str(name)[:200])}")
        fields = _parameters(name)
        kwargs = {}
        for key, value in data.items():
            if key == "type":
                continue
            if key not in fields:
                raise SpecError(f"{where}: {name}() has no parameter {excerpt(key)}; it takes {', '.join(fields)}")
            if registry.is_schedule(name):
                kwargs[key] = _from_data(value, _where(where, key), depth + 1)
            else:
                kwargs[key] = _preset_argument(value, _where(where, key), depth + 1)
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
        return {k: _preset_argument(x, _where(where, k), depth + 1) for k, x in data.items()}
    if isinstance(data, (list, tuple)):
        return [_preset_argument(x, f"{where}[{i}]", depth + 1) for i, x in enumerate(data)]
    return _from_data(data, where, depth)


def _as_schedule(schedule: Any) -> Schedule:
    """A schedule, or a spec string parsed into one; ``TypeError`` for anything else."""
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str):
        return parse(schedule)
    raise TypeError(
        f"schedule must be an lrkit schedule or a spec string, got {excerpt(schedule)} ({type(schedule).__name__})"
    )


def dumps(schedule: Schedule | str, format: str = "json") -> str:
    """Serialise to ``json``, ``yaml`` (needs PyYAML) or ``toml`` (needs tomli-w).

    ``schedule`` may also be a spec string (``"cosine(1e-3, 1000)"``).
    """
    data = _as_schedule(schedule).to_dict()
    if format == "json":
        import json

        return json.dumps(data, indent=2) + "\n"
    if format == "yaml":
        import yaml

        return str(yaml.safe_dump(data, sort_keys=False))
    if format == "toml":
        import tomli_w

        return str(tomli_w.dumps(data))
    raise ValueError(f"format must be 'json', 'yaml' or 'toml', got {format!r}")


def loads(text: str, format: str = "json", *, key: str | None = None) -> Schedule:
    """Inverse of :func:`dumps`; ``key="optim.lr_schedule"`` picks a schedule nested in a larger config.

    Bounded: at most 1,000,000 characters of text, and what :func:`from_dict`
    bounds.  YAML is read with PyYAML's safe loader, plus YAML 1.2's floats
    without a dot (``1e-3``, which YAML 1.1 reads as a string).
    """
    return _schedule_at(_load_data(text, format), key, f"the {format} text")


def _load_data(text: str, format: str) -> Any:
    """The plain data of a JSON/YAML/TOML text (bounded), not yet a schedule."""
    if format not in ("json", "yaml", "toml"):
        raise ValueError(f"format must be 'json', 'yaml' or 'toml', got {excerpt(format)}")
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    if len(text) > _MAX_DATA_LENGTH:
        raise SpecError(f"malformed {format}: longer than {_MAX_DATA_LENGTH} characters")
    try:
        if format == "json":
            import json

            data = json.loads(text)
        elif format == "yaml":
            data = _yaml_load(text)
        else:
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10: the same parser, as the tomli package
                import tomli as tomllib

            data = tomllib.loads(text)
    except ImportError:
        raise
    except RecursionError:  # deeply nested brackets: json and yaml recurse
        raise SpecError(f"malformed {format}: nested too deeply") from None
    except Exception as exc:  # JSONDecodeError, yaml.YAMLError (not a ValueError), TOMLDecodeError...
        raise SpecError(_clip(f"malformed {format}: {exc}")) from None
    return data


_YAML_LOADER: Any = None


def _yaml_load(text: str) -> Any:
    """``yaml.safe_load`` that also reads YAML 1.2 floats such as ``1e-3`` (YAML 1.1 needs ``1.0e-3``)."""
    global _YAML_LOADER
    import yaml

    if _YAML_LOADER is None:

        class Loader(yaml.SafeLoader):
            pass

        # Added after the int resolver, so "10" stays an int; only dotless exponents are new ("1e-3", "-2E5").
        Loader.add_implicit_resolver(
            "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"), list("-+0123456789")
        )
        _YAML_LOADER = Loader
    return yaml.load(text, Loader=_YAML_LOADER)  # a SafeLoader subclass: plain data only, never objects


_SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}


def _format_of(path: Path) -> str:
    try:
        return _SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"path must end in .json, .yaml, .yml or .toml, got {str(path)!r}") from None


def save(schedule: Schedule | str, path: str | Path) -> None:
    """Write a schedule (or a spec string) to a ``.json``, ``.yaml`` or ``.toml`` file.

    Atomic: the text goes to a temporary file in the same directory, which
    then replaces ``path``; if writing fails (disk full, quota) the previous
    file is intact and no temporary file is left behind.
    """
    from pathlib import Path

    from ._files import atomic_write

    path = Path(path)
    atomic_write(path, dumps(_as_schedule(schedule), _format_of(path)))


def load(path: str | Path, *, key: str | None = None) -> Schedule:
    """Read a schedule written by :func:`save` (format from the suffix).

    ``key="optim.lr_schedule"`` picks a schedule nested inside a larger
    config file (a mapping in the to_dict form, or a spec string).
    """
    from pathlib import Path

    path = Path(path)
    return _schedule_at(_load_data(_read_text(path), _format_of(path)), key, str(path))


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ValueError(f"no such schedule file: {str(path)!r}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if size > 4 * _MAX_DATA_LENGTH:  # UTF-8 takes at most 4 bytes a character
        raise SpecError(f"{str(path)!r} is larger than {_MAX_DATA_LENGTH} characters")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc}") from None


def as_schedule(
    obj: Any, *, key: str | None = None, total_steps: int | None = None, steps_per_epoch: int | None = None
) -> Schedule:
    """One way in: a schedule from whatever form it comes in.

    ``obj`` is a :class:`Schedule`, spec text (``"warmup(cosine(3e-4), steps='2%')"``),
    a :meth:`~Schedule.to_dict` mapping (``{"type": "cosine", ...}``; an
    OmegaConf ``DictConfig`` too), or the path of a JSON/YAML/TOML file
    (a ``str`` ending in ``.json``/``.yaml``/``.yml``/``.toml``, or a
    ``pathlib.Path``).  A training config is never *only* a schedule:
    ``key="optim.lr_schedule"`` picks the node at that dotted path of a
    mapping or file, which may itself hold a mapping or a spec string.
    With ``total_steps`` or ``steps_per_epoch`` the result is resolved
    (:meth:`Schedule.resolve`).

    >>> as_schedule({"optim": {"lr": 3e-4, "lr_schedule": "cosine(3e-4, 1000)"}}, key="optim.lr_schedule")
    cosine(0.0003, steps=1000)
    """
    if key is not None and not isinstance(key, str):
        raise TypeError(f"key must be a dotted path such as 'optim.lr_schedule', got {excerpt(key)}")
    if isinstance(obj, Schedule):
        if key is not None:
            raise TypeError("key= picks a schedule inside a config mapping or file; got a schedule")
        s = obj
    elif isinstance(obj, os.PathLike) or (
        isinstance(obj, str) and "(" not in obj and obj.strip().lower().endswith(tuple(_SUFFIXES))
    ):
        s = load(os.fspath(obj), key=key)
    elif isinstance(obj, str):
        if key is not None:
            raise TypeError(f"key= picks a schedule inside a config mapping or file; got spec text {excerpt(obj)}")
        s = parse(obj)
    elif isinstance(obj, Mapping):
        s = _schedule_at(_plain(obj), key, "the mapping")
    else:
        raise TypeError(
            "expected an lrkit schedule, spec text, a to_dict() mapping or the path of a .json/.yaml/.toml "
            f"file, got {excerpt(obj)} ({type(obj).__name__})"
        )
    if total_steps is not None or steps_per_epoch is not None:
        s = s.resolve(total_steps=total_steps, steps_per_epoch=steps_per_epoch)
    return s


def _plain(data: Any) -> Any:
    """Config containers (OmegaConf's DictConfig/ListConfig, any Mapping or list-like) as plain dicts and lists."""
    module = type(data).__module__.split(".")[0]
    if module == "omegaconf":
        to_container = sys.modules["omegaconf"].OmegaConf.to_container
        return to_container(data, resolve=True)
    return data


def _schedule_at(data: Any, key: str | None, where: str) -> Schedule:
    """The schedule at the dotted ``key`` of ``data`` (all of it without a key): a mapping or spec text."""
    node = data
    if key is not None:
        parts = key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, Mapping) or part not in node:
                have = f"its keys are {sorted(map(str, node))[:20]}" if isinstance(node, Mapping) else "not a mapping"
                raise SpecError(f"key {key!r}: {where} has no {'.'.join(parts[: i + 1])!r} ({have})")
            node = node[part]
    if isinstance(node, str):
        return parse(node)
    if isinstance(node, Mapping):
        return from_dict(node)
    at = f" at {key!r}" if key is not None else ""
    raise SpecError(
        f"{where}{at} holds {excerpt(node)} ({type(node).__name__}), not a schedule: expected a mapping with a "
        "'type' key or a spec string" + ("" if key is not None else "; pass key= to pick it inside a larger config")
    )
