"""The one preset registry: ``"<peer>.<function>"`` names in spec text, dicts and config files.

Presets are constructors: whatever the route (a direct call, ``lrkit.parse``,
``lrkit.from_dict``, a JSON/YAML/TOML file), the same name and arguments give
the same native lrkit schedule, whose ``repr``/``to_dict`` never mention the
preset.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import lrkit
from lrkit import compat
from lrkit.compat import PEERS, PRESETS, presets

# One call per peer module, with the arguments spelled as a spec and as a dict.
EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    ("keras.CosineDecay", "keras.CosineDecay(0.001, 4000)", {"initial_learning_rate": 0.001, "decay_steps": 4000}),
    (
        "keras.PiecewiseConstantDecay",
        "keras.PiecewiseConstantDecay([10000, 20000], [0.001, 0.0005, 0.0001])",
        {"boundaries": [10000, 20000], "values": [0.001, 0.0005, 0.0001]},
    ),
    (
        "optax.warmup_cosine_decay_schedule",
        "optax.warmup_cosine_decay_schedule(0.0, 1e-3, warmup_steps=100, decay_steps=1000, end_value=1e-5)",
        {"init_value": 0.0, "peak_value": 1e-3, "warmup_steps": 100, "decay_steps": 1000, "end_value": 1e-5},
    ),
    (
        "optax.piecewise_constant_schedule",
        "optax.piecewise_constant_schedule(0.1, {100: 0.1, 200: 0.5})",
        {"init_value": 0.1, "boundaries_and_scales": {100: 0.1, 200: 0.5}},
    ),
    (
        "optax.sgdr_schedule",
        "optax.sgdr_schedule([{'init_value': 0, 'peak_value': 1e-3, 'warmup_steps': 10, 'decay_steps': 100},"
        " {'init_value': 0, 'peak_value': 5e-4, 'warmup_steps': 0, 'decay_steps': 50}])",
        {
            "cosine_kwargs": [
                {"init_value": 0, "peak_value": 1e-3, "warmup_steps": 10, "decay_steps": 100},
                {"init_value": 0, "peak_value": 5e-4, "warmup_steps": 0, "decay_steps": 50},
            ]
        },
    ),
    (
        "hf.get_cosine_schedule_with_warmup",
        "hf.get_cosine_schedule_with_warmup(num_warmup_steps=100, num_training_steps=1000)",
        {"num_warmup_steps": 100, "num_training_steps": 1000},
    ),
    (
        "hf.get_polynomial_decay_schedule_with_warmup",
        "hf.get_polynomial_decay_schedule_with_warmup(10, 100, lr_end=1e-5, lr_init=1e-3)",
        {"num_warmup_steps": 10, "num_training_steps": 100, "lr_end": 1e-5, "lr_init": 1e-3},
    ),
]


def direct(name: str, kwargs: dict[str, Any]) -> lrkit.Schedule:
    peer, fn = name.split(".")
    return getattr(importlib.import_module(f"lrkit.compat.{peer}"), fn)(**kwargs)  # type: ignore[no-any-return]


# -- the registry itself ----------------------------------------------------------------


def test_presets_lists_every_public_function_of_every_peer_module() -> None:
    names = presets()
    expected = []
    for peer in PEERS:
        module = importlib.import_module(f"lrkit.compat.{peer}")
        expected += [f"{peer}.{fn}" for fn in module.__all__]
        assert presets(peer) == [f"{peer}.{fn}" for fn in module.__all__]
        for fn in module.__all__:
            assert PRESETS[f"{peer}.{fn}"] is getattr(module, fn)
    assert names == expected and len(PRESETS) == len(expected) == len(set(expected))
    # the names the brief promises are there
    for name in ("keras.CosineDecay", "optax.warmup_cosine_decay_schedule", "hf.get_cosine_schedule_with_warmup"):
        assert name in PRESETS


def test_registry_never_collides_with_native_names() -> None:
    assert not set(PRESETS) & set(lrkit.REGISTRY)
    assert all("." in name for name in PRESETS) and all("." not in name for name in lrkit.REGISTRY)


@pytest.mark.parametrize(
    "name", ["keras", "keras.", ".CosineDecay", "keras.nothing", "os.path", "torch.optim", 3, None]
)
def test_unknown_names_are_not_presets(name: Any) -> None:
    assert name not in PRESETS
    with pytest.raises(KeyError):
        PRESETS[name]


def test_presets_rejects_an_unknown_peer() -> None:
    with pytest.raises(ValueError, match=r"peer must be one of 'keras', 'optax', 'hf', .*; got 'tf'"):
        presets("tf")


def test_preset_parameters_are_the_signature() -> None:
    assert compat.preset_parameters("hf.get_linear_schedule_with_warmup") == (
        "num_warmup_steps",
        "num_training_steps",
        "lr",
    )
    assert compat.preset_parameters("keras.CosineDecay") == tuple(
        inspect.signature(PRESETS["keras.CosineDecay"]).parameters
    )


def test_peer_modules_are_reachable_as_attributes() -> None:
    assert compat.optax is importlib.import_module("lrkit.compat.optax")
    with pytest.raises(AttributeError):
        compat.tensorflow  # noqa: B018


# -- the same schedule by every route -------------------------------------------------------


@pytest.mark.parametrize(("name", "spec", "kwargs"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_spec_text_and_dict_give_the_direct_call(name: str, spec: str, kwargs: dict[str, Any]) -> None:
    expected = direct(name, kwargs)
    assert lrkit.parse(spec) == expected
    assert lrkit.from_dict({"type": name, **kwargs}) == expected
    # the result is native: its repr and dict name no preset, and both round-trip
    assert "." not in repr(expected).split("(")[0] and "." not in expected.to_dict()["type"]
    assert lrkit.parse(repr(expected)) == expected
    assert lrkit.from_dict(json.loads(json.dumps(expected.to_dict()))) == expected


@pytest.mark.parametrize(("name", "spec", "kwargs"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_json_with_a_preset_name_round_trips(name: str, spec: str, kwargs: dict[str, Any]) -> None:
    # JSON object keys are strings: optax's {100: 0.1} is written {"100": 0.1} and read back as steps.
    text = json.dumps({"type": name, **kwargs})
    loaded = lrkit.loads(text)
    assert loaded == direct(name, kwargs)
    assert lrkit.loads(lrkit.dumps(loaded)) == loaded


def test_config_files_with_preset_names(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    expected = direct("optax.piecewise_constant_schedule", {"init_value": 0.1, "boundaries_and_scales": {100: 0.1}})
    files = {
        "a.json": '{"type": "optax.piecewise_constant_schedule", "init_value": 0.1, '
        '"boundaries_and_scales": {"100": 0.1}}',
        "a.yaml": "type: optax.piecewise_constant_schedule\ninit_value: 0.1\nboundaries_and_scales: {100: 0.1}\n",
        "a.toml": 'type = "optax.piecewise_constant_schedule"\ninit_value = 0.1\n'
        'boundaries_and_scales = {"100" = 0.1}\n',
    }
    for filename, text in files.items():
        path = tmp_path / filename
        path.write_text(text, encoding="utf-8")
        assert lrkit.load(path) == expected, filename
        lrkit.save(lrkit.load(path), path)  # saved back as the native schedule
        assert "optax" not in path.read_text(encoding="utf-8") and lrkit.load(path) == expected


def test_presets_nest_inside_native_schedules_and_each_other() -> None:
    spec = "scale(optax.join_schedules([optax.linear_schedule(0, 1e-3, 100), keras.CosineDecay(1e-3, 900)], [100]), 2)"
    inner = lrkit.join([lrkit.linear(0.0, 1e-3, 100), lrkit.cosine(1e-3, 900)], [100])
    assert lrkit.parse(spec) == lrkit.scale(inner, 2.0)
    data = {
        "type": "warmup",
        "steps": 10,
        "schedule": {"type": "hf.get_linear_schedule_with_warmup", "num_warmup_steps": 0, "num_training_steps": 50},
    }
    # a dict without prefix: the default; HF's presets are factors (multipliers)
    assert lrkit.from_dict(data) == lrkit.warmup(lrkit.multiplier(lrkit.linear(1.0, 0.0, 50)), 10)


# -- unknown names: SpecError with suggestions across native and preset names -----------------


@pytest.mark.parametrize(
    ("spec", "suggestion"),
    [
        ("hf.get_cosine_schedule_with_warmpu(1, 10)", "'hf.get_cosine_schedule_with_warmup'"),
        ("CosineDecay(0.001, 4000)", "'keras.CosineDecay'"),
        ("optax.warmup_cosine_decay(0, 1, 10, 100)", "'optax.warmup_cosine_decay_schedule'"),
        ("keras.cosine(0.001, 10)", "'cosine'"),
        ("cosin(0.001, 10)", "'cosine'"),
    ],
)
def test_unknown_names_suggest_native_and_preset_names(spec: str, suggestion: str) -> None:
    with pytest.raises(lrkit.SpecError, match=f"did you mean.*{suggestion}"):
        lrkit.parse(spec)


def test_from_dict_unknown_type_suggests_presets() -> None:
    with pytest.raises(
        lrkit.SpecError, match=r"unknown schedule type 'optax\.linear'.*did you mean.*'optax\.linear_schedule'"
    ):
        lrkit.from_dict({"type": "optax.linear", "init_value": 0})
    with pytest.raises(lrkit.SpecError, match=r"unknown schedule type 'zzz\.qqq'.*lrkit\.compat\.presets\(\)"):
        lrkit.from_dict({"type": "zzz.qqq"})


def test_unknown_preset_parameter_suggests_the_right_one() -> None:
    with pytest.raises(lrkit.SpecError, match="has no parameter 'num_warmup_step'; did you mean 'num_warmup_steps'"):
        lrkit.parse("hf.get_linear_schedule_with_warmup(num_warmup_step=10, num_training_steps=100)")
    with pytest.raises(lrkit.SpecError, match="has no parameter 'warmup'; it takes"):
        lrkit.from_dict({"type": "hf.get_linear_schedule_with_warmup", "warmup": 10})


def test_preset_validation_errors_become_spec_errors_naming_the_preset() -> None:
    with pytest.raises(lrkit.SpecError, match=r"optax.linear_schedule\(\): transition_steps must be >= 1") as info:
        lrkit.parse("optax.linear_schedule(0, 1e-3, 0)")
    assert info.value.position == 0
    with pytest.raises(lrkit.SpecError, match=r"hf.get_cosine_schedule_with_warmup\(\): num_training_steps must be"):
        lrkit.from_dict({"type": "hf.get_cosine_schedule_with_warmup", "num_warmup_steps": 10, "num_training_steps": 5})
    with pytest.raises(lrkit.SpecError, match=r"get_polynomial_decay_schedule_with_warmup\(\).*needs lr="):
        lrkit.parse("hf.get_polynomial_decay_schedule_with_warmup(10, 100)")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("keras.CosineDecay", "is a schedule: call it"),
        ("os.system('true')", "expected a schedule name.*got 'os.system'"),
        ("keras.CosineDecay.__globals__(1)", "expected a schedule name"),
        ("keras.__class__(1)", "unknown schedule 'keras.__class__'"),
        ("lrkit.compat.keras.CosineDecay(1, 2)", "expected a schedule name"),
        ("keras.CosineDecay(1, 2).__class__", "unsupported syntax"),
        ("cosine({1: 2}, 3)", r"unsupported syntax \(Dict\)"),
        ("optax.piecewise_constant_schedule(0.1, {**x})", "'\\*\\*' is not allowed"),
        ("optax.piecewise_constant_schedule(0.1, {100: 0.1, 100: 0.2})", "given twice"),
        ("optax.piecewise_constant_schedule(0.1, {[1]: 0.1})", "dict key must be a number or a string"),
        ("optax.constant_schedule(*[1])", "'\\*' arguments are not allowed"),
    ],
)
def test_the_parser_stays_safe(spec: str, message: str) -> None:
    with pytest.raises(lrkit.SpecError, match=message):
        lrkit.parse(spec)


def test_looking_up_names_imports_nothing_but_lrkit_modules() -> None:
    # In a fresh interpreter: `import lrkit` loads no compat module, an unknown dotted name loads no
    # module at all (not even one named like its first part), and a preset loads only its own module.
    code = """
import sys, lrkit
assert not [m for m in sys.modules if m.startswith("lrkit.compat.")], sorted(sys.modules)
before = set(sys.modules)
for spec in ["torch.nn(1)", "jax.numpy(1)", "transformers.x(1)", "subprocess.run(1)"]:
    try:
        lrkit.parse(spec)
    except lrkit.SpecError:
        pass
# lrkit's own modules (lrkit.spec loads on first parse) and the standard library's difflib/json
# (a suggestion) may load lazily; no other module may
new = {
    m for m in set(sys.modules) - before
    if not m.startswith("lrkit.") and m.split(".")[0].lstrip("_") not in sys.stdlib_module_names
}
assert not new, sorted(new)
assert "torch" not in sys.modules and "jax" not in sys.modules and "transformers" not in sys.modules
lrkit.parse("hf.get_constant_schedule()")
assert "torch" not in sys.modules and "transformers" not in sys.modules
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_the_command_line_accepts_preset_names() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lrkit", "export", "hf.get_linear_schedule_with_warmup(2, 4)", "--steps", "5"],
        capture_output=True,
        text=True,
        check=False,
    )
    # Hand-derived: warmup 0, 1/2, then (4 - t) / 2 = 1, 1/2, 0.
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["step,lr", "0,0.0", "1,0.5", "2,1.0", "3,0.5", "4,0.0"]


# -- the core registry: one place for every name ---------------------------------------------


def test_the_compat_views_are_the_core_registry() -> None:
    from lrkit import registry

    assert lrkit.REGISTRY is registry.SCHEDULES
    assert compat.PRESETS is registry.PRESETS
    assert compat.PEERS == registry.peers() and registry.peers()[:3] == ("keras", "optax", "hf")
    assert "torch" in registry.peers()  # the other peers register after these, in registry.py's order
    assert "PEERS" in dir(compat) and "optax" in dir(compat)
    assert registry.lookup("cosine") is lrkit.cosine
    assert registry.lookup("keras.CosineDecay") is PRESETS["keras.CosineDecay"]
    with pytest.raises(KeyError):
        registry.lookup("keras.nothing")
    with pytest.raises(KeyError):
        registry.preset_parameters("cosine")  # a native name is not a preset


def test_a_peer_is_one_module_plus_one_registration_line() -> None:
    # A peer registered by code (here: a module of a test peer) is reachable by every route, and the
    # views show it; in the package the line goes at the end of lrkit/registry.py.
    code = """
import sys, types, lrkit
from lrkit import registry, compat
module = types.ModuleType("demo_peer_presets")
module.__all__ = ["Half"]
module.Half = lambda value, steps: lrkit.linear(value, value / 2, steps)
sys.modules["demo_peer_presets"] = module
registry.register_peer("demo", "demo_peer_presets")
registry.register_peer("demo", "demo_peer_presets")  # the same line twice is harmless
assert lrkit.parse("demo.Half(1.0, 10)") == lrkit.linear(1.0, 0.5, 10)
assert lrkit.from_dict({"type": "demo.Half", "value": 1.0, "steps": 10}) == lrkit.linear(1.0, 0.5, 10)
assert compat.PEERS[-1] == "demo" and "demo.Half" in compat.PRESETS and compat.presets("demo") == ["demo.Half"]
assert compat.demo is module
try:
    registry.register_peer("demo", "os")
except RuntimeError as exc:
    assert "already registered" in str(exc)
else:
    raise AssertionError("a peer name must not silently change meaning")
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("bad", [("bad name", "m"), ("x", "os; rm"), ("x.y", "m"), (3, "m")])
def test_register_peer_checks_its_arguments(bad: tuple[Any, Any]) -> None:
    from lrkit import registry

    with pytest.raises(TypeError):
        registry.register_peer(*bad)


@pytest.mark.parametrize(
    ("spec", "suggested", "not_suggested"),
    [
        # a torch name is not a Keras one: only names whose last part is close, across prefixes
        ("pytorch.CosineAnnealingLR(1, 10)", "'torch.CosineAnnealingLR'", "keras.CosineDecay"),
        ("tf.CosineDecay(1, 10)", "'keras.CosineDecay'", "optax."),
        ("lrkit.cosine(1, 10)", "'cosine'", "keras."),
        ("keras.CosineDecy(1, 10)", "'keras.CosineDecay'", "optax."),
        ("optax.CosineDecay(1, 10)", "'keras.CosineDecay'", "hf."),
    ],
)
def test_suggestions_stay_within_a_peer_or_a_close_last_part(
    spec: str, suggested: str | None, not_suggested: str
) -> None:
    with pytest.raises(lrkit.SpecError) as info:
        lrkit.parse(spec)
    message = str(info.value).splitlines()[0]
    if suggested is None:
        assert "did you mean" not in message and "is not a peer; the peers are keras, optax, hf" in message
    else:
        assert f"did you mean {suggested}" in message
    assert not_suggested not in message.partition("did you mean")[2]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("step(0.1)", "step() needs step_size; call it as step(value, step_size, gamma=0.1)"),
        ("warmup()", "warmup() needs schedule and steps"),
        ("keras.CosineDecay(0.1)", "keras.CosineDecay() needs decay_steps; call it as keras.CosineDecay("),
        ("hf.get_polynomial_decay_schedule_with_warmup(10, 100)", "needs lr=, the optimizer's initial lr"),
        ("hf.get_constant_schedule(1)", "hf.get_constant_schedule() takes at most 0 positional arguments"),
        ("linear(1, 0, 10, 0, 5)", "linear() takes at most 4 positional arguments (start, end, steps, begin), got 5"),
        ("keras.CosineDecay(0.1, 10, initial_learning_rate=1)", "got parameter 'initial_learning_rate' twice"),
    ],
)
def test_call_errors_read_like_lrkit(spec: str, message: str) -> None:
    with pytest.raises(lrkit.SpecError) as info:
        lrkit.parse(spec)
    text = str(info.value)
    assert message in text and "positional argument:" not in text and "__init__" not in text


def test_call_errors_from_dicts_read_like_lrkit() -> None:
    with pytest.raises(lrkit.SpecError, match=r"step\(\) needs step_size"):
        lrkit.from_dict({"type": "step", "value": 0.1})
    with pytest.raises(lrkit.SpecError, match=r"optax.linear_schedule\(\) needs transition_steps"):
        lrkit.from_dict({"type": "optax.linear_schedule", "init_value": 0, "end_value": 1})


def test_native_specs_and_misspellings_load_no_compat_module() -> None:
    # The registry imports a peer module only for a name with that peer's prefix, or to suggest a
    # preset for a misspelled name; a well-formed native spec never loads one.
    code = """
import sys, lrkit
lrkit.parse("warmup(cosine(1, 10), steps=2, prefix=False)")
lrkit.from_dict({"type": "warmup", "schedule": {"type": "constant", "value": 1}, "steps": 5})
try:
    lrkit.parse("cosine(1)")
except lrkit.SpecError:
    pass
assert not [m for m in sys.modules if m.startswith("lrkit.compat")], sorted(sys.modules)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
