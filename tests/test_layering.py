"""The import layering of ``lrkit``, enforced by reading the source with :mod:`ast`.

Four layers, each may use the ones above it, never the ones below::

    core      lrkit/__init__, _backend, base, validators, durations, shapes, schedules,
              composition, spec, registry, plateau, _phases (analysis), _files
    compat    lrkit.compat.*           peers' names as presets; import only the core
    adapters  lrkit.torch, lrkit.keras, lrkit.jax, lrkit.optax
                                        bind schedules to a framework; import the core
    face      plotting, terminal, cli, arguments, __main__, parity (the framework parity runner)
                                        pictures, the command line, argparse; import anything

Rules checked here, for imports at module level *and* inside functions:

* the core never imports compat, an adapter, a face module or ``argparse``; two
  documented exceptions: the Jupyter display hook ``Schedule._repr_png_``
  (imports ``lrkit.plotting``), and the lazy module ``__getattr__`` of
  ``lrkit/__init__.py``, which exposes ``lrkit.torch``, ``lrkit.compat``,
  ``lrkit.plot``, ``lrkit.add_arguments``... on first use;
* the core reaches the compat modules only through :mod:`lrkit.registry`,
  which imports a *registered* peer module by its import path (data, not an
  import statement); no other core function calls ``importlib.import_module``
  on a computed name;
* compat modules import only the core (and each other), never a peer framework;
* adapters import the core, never compat or a face module;
* every top-level module is classified: a new module makes this test fail
  until it is added to one of the lists below.

Review rule, not checked by a machine: adapters never contain a formula (a
schedule's value is computed only by the core's ``Schedule._eval``; an
adapter converts steps, binds slots and stores state).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "lrkit"

CORE = {
    "__init__",
    "_backend",
    "_compile",
    "_files",
    "_phases",
    "analysis",
    "base",
    "composition",
    "durations",
    "plateau",
    "recommend",
    "registry",
    "schedules",
    "shapes",
    "spec",
    "validators",
}
COMPAT = {"compat"}
ADAPTERS = {"torch", "keras", "jax", "optax"}
FACE = {"plotting", "terminal", "cli", "arguments", "__main__", "parity"}

#: what the core must never import (module names, prefixes included)
FORBIDDEN_IN_CORE = (
    *(f"lrkit.{m}" for m in sorted(COMPAT | ADAPTERS | FACE)),
    "argparse",
)
#: the peer frameworks, never imported by a compat module (it copies the peer; it does not call it)
PEER_FRAMEWORKS = ("torch", "keras", "tensorflow", "jax", "optax", "transformers", "flax")

#: (module, function or "TYPE_CHECKING", imported module) that the core may import anyway
EXCEPTIONS = {
    ("lrkit.base", "Schedule._repr_png_", "lrkit.plotting"),  # Jupyter shows a schedule as its plot
    ("lrkit", "TYPE_CHECKING", "lrkit.plotting"),  # type-only: lrkit.plot's signature
    ("lrkit", "TYPE_CHECKING", "lrkit.arguments"),  # type-only: lrkit.add_arguments's signature
    ("lrkit", "__getattr__", "lrkit.plotting"),  # lrkit.plot on first use
}
#: core functions allowed to call importlib.import_module on a computed name
DYNAMIC_IMPORTERS = {
    ("lrkit", "__getattr__"),  # lrkit.torch, lrkit.compat, lrkit.add_arguments... on first use
    ("lrkit.registry", "_peer_presets"),  # a registered peer's module, by its registered path
    ("lrkit.registry", "peer_module"),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. "lrkit.base"
    scope: str  # "" at module level, "Schedule._repr_png_" in a method, "TYPE_CHECKING" in such a block
    target: str  # the absolute imported name, e.g. "lrkit.plotting" (or None for a dynamic import)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


class Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.scope: list[str] = []
        self.imports: list[Import] = []
        self.dynamic: list[Import] = []

    def _add(self, target: str, node: ast.AST) -> None:
        self.imports.append(Import(self.module, ".".join(self.scope), target, node.lineno))  # type: ignore[attr-defined]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_ClassDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            self.scope.append("TYPE_CHECKING")
            for child in node.body:
                self.visit(child)
            self.scope.pop()
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = resolve(self.module, self.is_package, node.level, node.module)
        self._add(base, node)
        for alias in node.names:
            # `from . import plotting` imports the module lrkit.plotting
            self._add(f"{base}.{alias.name}", node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("import_module", "__import__"):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                anchor = self.module if self.is_package else self.module.rpartition(".")[0]
                level = len(arg.value) - len(arg.value.lstrip("."))
                target = resolve(anchor, True, level, arg.value.lstrip(".") or None) if level else arg.value
                self._add(target, node)
            else:
                self.dynamic.append(Import(self.module, ".".join(self.scope), "<computed>", node.lineno))
        self.generic_visit(node)


def collect() -> tuple[dict[str, list[Import]], dict[str, list[Import]]]:
    imports: dict[str, list[Import]] = {}
    dynamic: dict[str, list[Import]] = {}
    for path in sorted(SRC.rglob("*.py")):
        module = module_name(path)
        collector = Collector(module, path.name == "__init__.py")
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        imports[module] = collector.imports
        dynamic[module] = collector.dynamic
    return imports, dynamic


IMPORTS, DYNAMIC = collect()


def layer(module: str) -> str:
    top = top_level(module)
    for name, members in (("core", CORE), ("compat", COMPAT), ("adapter", ADAPTERS), ("face", FACE)):
        if top in members:
            return name
    return "unknown"


def hits(target: str, prefixes: tuple[str, ...]) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes)


def allowed(imp: Import) -> bool:
    # An exception covers its function and anything nested in it.
    return any(
        imp.module == m and (imp.scope == s or imp.scope.startswith(s + ".")) and hits(imp.target, (t,))
        for m, s, t in EXCEPTIONS
    )


def test_the_source_tree_was_found() -> None:
    assert "lrkit.base" in IMPORTS and "lrkit.spec" in IMPORTS and "lrkit.compat.keras" in IMPORTS


def test_every_top_level_module_is_classified() -> None:
    unknown = sorted({m for m in IMPORTS if layer(m) == "unknown"})
    assert not unknown, (
        f"classify {unknown} in tests/test_layering.py (CORE, COMPAT, ADAPTERS or FACE): "
        "the layer decides what the module may import"
    )


@pytest.mark.parametrize("module", sorted(m for m in IMPORTS if layer(m) == "core"))
def test_the_core_imports_no_compat_adapter_face_or_argparse(module: str) -> None:
    bad = [i for i in IMPORTS[module] if hits(i.target, FORBIDDEN_IN_CORE) and not allowed(i)]
    assert not bad, "\n".join(f"{i.module}:{i.line} ({i.scope or 'module level'}) imports {i.target}" for i in bad)


@pytest.mark.parametrize("module", sorted(m for m in IMPORTS if layer(m) == "core"))
def test_the_core_imports_computed_names_only_in_the_registry_and_the_lazy_getattr(module: str) -> None:
    bad = [i for i in DYNAMIC[module] if (i.module, i.scope) not in DYNAMIC_IMPORTERS]
    assert not bad, "\n".join(f"{i.module}:{i.line} ({i.scope}) calls import_module on a computed name" for i in bad)


def test_the_parser_talks_only_to_the_registry() -> None:
    # the brief of the registry: spec.py never names the compat package, not even lazily
    targets = {i.target for i in IMPORTS["lrkit.spec"]}
    assert not [t for t in targets if hits(t, ("lrkit.compat",))]
    assert "lrkit.registry" in targets
    assert not DYNAMIC["lrkit.spec"]


@pytest.mark.parametrize("module", sorted(m for m in IMPORTS if layer(m) == "compat"))
def test_compat_imports_only_the_core(module: str) -> None:
    bad = []
    for i in IMPORTS[module]:
        if i.target.startswith("lrkit.") and layer(i.target) not in ("core", "compat"):
            bad.append(i)
        if hits(i.target, PEER_FRAMEWORKS):
            bad.append(i)
    assert not bad, "\n".join(f"{i.module}:{i.line} imports {i.target}" for i in bad)


@pytest.mark.parametrize("module", sorted(m for m in IMPORTS if layer(m) == "adapter"))
def test_adapters_import_the_core_not_compat_or_face(module: str) -> None:
    own = ".".join(module.split(".")[:2])
    bad = [
        i
        for i in IMPORTS[module]
        if i.target.startswith("lrkit.")
        and not hits(i.target, (own,))
        and layer(i.target) in ("compat", "face", "adapter")
    ]
    assert not bad, "\n".join(f"{i.module}:{i.line} imports {i.target}" for i in bad)


def test_the_registry_only_imports_registered_lrkit_compat_modules() -> None:
    # The registration lines are the only place the core names a compat module, as data.
    from lrkit import registry

    assert registry.peers()[:3] == ("keras", "optax", "hf")  # later peers follow, one line each
    assert all(registry._PEERS[p] == f"lrkit.compat.{p}" for p in registry.peers())
    text = (SRC / "registry.py").read_text(encoding="utf-8")
    # one line per peer + the docstring example
    assert text.count("register_peer(") - text.count("def register_peer(") == len(registry.peers()) + 1


def test_import_lrkit_loads_no_framework_face_or_peer_module() -> None:
    code = """
import sys
import lrkit
lrkit.parse("warmup(cosine(1e-3, 100), steps=10, prefix=False)")(5)
lrkit.from_dict({"type": "constant", "value": 1.0})
heavy = ["argparse", "torch", "jax", "keras", "tensorflow", "matplotlib", "transformers", "optax", "yaml",
         "lrkit.compat", "lrkit.arguments", "lrkit.cli", "lrkit.plotting", "lrkit.terminal", "lrkit.torch"]
loaded = [m for m in heavy if m in sys.modules]
assert not loaded, loaded
# the lazy names are still there, and listed
assert {"add_arguments", "schedule_from_args", "plot", "torch", "compat"} <= set(dir(lrkit))
assert "add_arguments" in lrkit.__all__ and "schedule_from_args" in lrkit.__all__
assert callable(lrkit.add_arguments) and "argparse" in sys.modules
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_the_checker_sees_lazy_relative_and_dynamic_imports() -> None:
    # The checker itself, on a made-up core module: every way of importing is seen, with its scope.
    source = """
import argparse
from . import plotting
from .compat import keras as k
if TYPE_CHECKING:
    from .cli import main
def f():
    from ..torch import Scheduler
    importlib.import_module("lrkit.terminal")
    importlib.import_module(".arguments", __name__)
    importlib.import_module(name)
class C:
    def g(self):
        import lrkit.optax
"""
    collector = Collector("lrkit.fake", is_package=False)
    collector.visit(ast.parse(source))
    seen = {(i.scope, i.target) for i in collector.imports if hits(i.target, FORBIDDEN_IN_CORE)}
    assert seen >= {
        ("", "argparse"),
        ("", "lrkit.plotting"),
        ("", "lrkit.compat.keras"),
        ("TYPE_CHECKING", "lrkit.cli"),
        ("f", "lrkit.terminal"),
        ("f", "lrkit.arguments"),
        ("C.g", "lrkit.optax"),
    }, seen
    # `from ..torch` in the module lrkit.fake climbs above the package: it is not lrkit.torch
    assert [(i.scope, i.target) for i in collector.dynamic] == [("f", "<computed>")]
    assert not allowed(Import("lrkit.base", "Schedule.__repr__", "lrkit.plotting", 1))
    assert allowed(Import("lrkit.base", "Schedule._repr_png_", "lrkit.plotting", 1))
