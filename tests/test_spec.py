"""The spec language: round trips, durations, SpecError positions and suggestions, fuzzing.

Fuzzing (hypothesis here, atheris in a subprocess when it is installed): any
text can only give a Schedule or a SpecError; never another exception, never a
hang.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrkit
from lrkit import Schedule, SpecError
from test_properties import schedules  # the shared random-schedule strategy

# -- round trips ---------------------------------------------------------------------------------

EXAMPLES = [
    "warmup(multistep(1e-3, milestones=['10ep', '12ep', '14ep', '16ep'], gamma=0.5), steps=500, start_factor=1/3, "
    "prefix=False)",
    "cosine(0.001, steps=4000)",
    "exponential(0.001, 4000, 0.9)",
    "piecewise_constant([10000, 20000, 30000], [0.001, 0.0008, 0.0004, 0.0001])",
    "warmup(inverse_power(0.001, steps=4000), steps=4000, prefix=False)",
    "noam(512, warmup_steps=4000)",
    "join([linear(0, 1e-3, steps='5%'), cosine(1e-3, steps='95%')], boundaries=['5%'])",
    "clip(scale(cosine(0.1, 100), 2), lower=0.01, upper=0.15)",
    "product([constant(0.5), linear(0.0, 1.0, 10)])",
    "cyclic(0.01, 0.1, 5, mode='exp_range', gamma=0.99)",
    "one_cycle(0.1, total_steps=1000, three_phase=true)",
    "wsd(3e-4, '1ep', '8ep', '1ep', decay='1-sqrt')",
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_examples_round_trip(text: str) -> None:
    s = lrkit.parse(text)
    assert isinstance(s, Schedule)
    assert lrkit.parse(repr(s)) == s
    assert repr(lrkit.parse(repr(s))) == repr(s)
    assert lrkit.from_dict(json.loads(json.dumps(s.to_dict()))) == s


def test_spec_reads_like_the_call() -> None:
    s = lrkit.parse(EXAMPLES[0])
    want = lrkit.warmup(
        lrkit.multistep(0.001, ["10ep", "12ep", "14ep", "16ep"], 0.5), steps=500, start_factor=1 / 3, prefix=False
    )
    assert s == want
    assert repr(s) == (
        "warmup(multistep(0.001, milestones=['10ep', '12ep', '14ep', '16ep'], gamma=0.5), steps=500, "
        "start_factor=0.3333333333333333, prefix=False)"
    )


def test_durations_in_specs_resolve() -> None:
    s = lrkit.parse("multistep(1e-3, milestones=['10ep','12ep'], gamma=0.5)").resolve(steps_per_epoch=1000)
    assert s == lrkit.multistep(1e-3, [10000, 12000], 0.5)
    j = lrkit.parse(EXAMPLES[6]).resolve(total_steps=2000)
    assert j == lrkit.join([lrkit.linear(0, 1e-3, 100), lrkit.cosine(1e-3, 1900)], [100])  # 5% and 95% of 2000


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("constant(1/4)", 0.25),
        ("constant(2 * 1e-3)", 0.002),
        ("constant(2**-3)", 0.125),
        ("constant(-(-0.5))", 0.5),
        ("constant(+0.5)", 0.5),
        ("constant(1 - 0.75)", 0.25),
        ("constant(10**-2)", 0.01),
        ("constant(3e-4)", 3e-4),
    ],
)
def test_arithmetic_on_number_literals(text: str, want: float) -> None:
    assert lrkit.parse(text)(0) == want


def test_json_style_names() -> None:
    assert lrkit.parse("polynomial(0.1, 10, cycle=true)").cycle is True
    assert lrkit.parse("polynomial(0.1, 10, cycle=True)").cycle is True
    assert lrkit.parse("polynomial(0.1, 10, cycle=false)").cycle is False
    assert lrkit.parse("cyclic(0.1, 0.2, 5, down_steps=null)").down_steps is None
    assert lrkit.parse("clip(constant(0.1), upper=None)").upper is None
    assert lrkit.parse("  cosine(0.1,\n  steps=10)  ") == lrkit.cosine(0.1, 10)  # whitespace and newlines


def test_parse_accepts_a_schedule_unchanged() -> None:
    s = lrkit.cosine(0.1, 10)
    assert lrkit.parse(s) is s


# -- SpecError: position, caret, suggestions ----------------------------------------------------------


def spec_error(text: Any) -> SpecError:
    with pytest.raises(SpecError) as info:
        lrkit.parse(text)
    assert isinstance(info.value, ValueError)  # SpecError is a ValueError
    return info.value


def test_unknown_schedule_suggests_the_closest() -> None:
    e = spec_error("cosin(0.001, steps=10)")
    assert e.position == 0
    assert "unknown schedule 'cosin'" in str(e) and "did you mean 'cosine'" in str(e)


def test_unknown_nested_schedule_points_at_it() -> None:
    text = "warmup(consine(0.1, 10), steps=5, prefix=False)"
    e = spec_error(text)
    assert e.position == text.index("consine")
    assert "did you mean" in str(e) and "'cosine'" in str(e)


def test_unknown_parameter_suggests_the_closest() -> None:
    text = "cosine(0.001, steps=10, florr=0.1)"
    e = spec_error(text)
    assert e.position == text.index("florr")
    assert "cosine() has no parameter 'florr'; did you mean 'floor'?" in str(e)
    e = spec_error("multistep(0.1, milestone=[10])")
    assert "did you mean 'milestones'?" in str(e)
    e = spec_error("cosine(0.1, 10, zzzzzz=1)")
    assert "it takes value, steps, floor, exponent, cycles" in str(e)  # nothing close: list them


def test_caret_points_at_the_position() -> None:
    text = "cosine(0.001, steps=10, florr=0.1)"
    lines = str(spec_error(text)).split("\n")
    assert lines[1] == "  " + text
    assert lines[2] == "  " + " " * text.index("florr") + "^"


def test_position_counts_characters_not_utf8_bytes() -> None:
    text = "cosine(0.001, steps='ééé', floor=foo)"
    e = spec_error(text)
    assert e.position == text.index("foo")  # ast's col_offset is in bytes; 3 'é' are 6 bytes


def test_position_on_a_later_line() -> None:
    text = "warmup(\n  cosin(0.1, 10),\n  steps=5, prefix=False)"
    e = spec_error(text)
    assert e.position == text.index("cosin")
    assert f"(at position {text.index('cosin')})" in str(e)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_position_with_any_line_end(newline: str) -> None:
    # Found by atheris: Python's tokenizer also ends a line at a lone '\r'.
    text = f"warmup(inverse_power(0.001, steps=4),{newline} mteps=000, prefix=False)"
    e = spec_error(text)
    assert e.position == text.index("mteps") and "did you mean 'steps'?" in str(e)
    assert "^" not in str(e)  # no caret under a multi-line text


def test_syntax_error_position() -> None:
    text = "cosine(0.1, steps=10 +)"
    e = spec_error(text)
    assert e.position == text.index(")")
    assert "malformed spec" in str(e)


def test_bad_value_names_the_schedule_and_parameter() -> None:
    e = spec_error("warmup(cosine(0.1, steps=-5), 10, prefix=False)")
    assert "cosine(): steps must be >= 1, got -5" in str(e)
    assert e.position == len("warmup(")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty spec"),
        ("   \n ", "empty spec"),
        ("0.1", "must be a schedule call"),
        ("[cosine(0.1, 10)]", "must be a schedule call"),
        ("cosine", "cosine is a schedule: call it"),
        ("cosine(0.1, steps=10) + 1", "arithmetic is only allowed between numbers"),
        ("cosine(0.1, steps=10) * constant(2)", "arithmetic is only allowed between numbers"),
        ("cosine(0.1, steps=-'a')", "a sign can only stand before a number"),
        ("cosine(0.1, steps=foo)", "unknown name 'foo'"),
        ("lrkit.cosine(0.1, 10)", "expected a schedule name"),
        ("__import__('os').system('true')", "expected a schedule name"),
        ("exec('print(1)')", "unknown schedule 'exec'"),
        ("eval('1')", "unknown schedule 'eval'"),
        ("cosine(*[0.1, 10])", "'*' arguments"),
        ("cosine(**{'value': 0.1})", "'**' arguments"),
        ("cosine(0.1, steps=[1][0])", "unsupported syntax (Subscript)"),
        ("cosine(0.1, steps=(lambda: 10)())", "expected a schedule name"),
        ("cosine(0.1, steps=f'{10}')", "unsupported syntax (JoinedStr)"),
        ("cosine(0.1, steps={10})", "unsupported syntax (Set)"),
        ("cosine(0.1, steps={'a': 1})", "unsupported syntax (Dict)"),
        ("cosine(0.1, steps=(x := 10))", "unsupported syntax (NamedExpr)"),
        ("cosine(0.1, steps=[i for i in range(3)])", "unsupported syntax (ListComp)"),
        ("cosine(0.1, steps=10 if 1 else 2)", "unsupported syntax (IfExp)"),
        ("cosine(0.1, steps=b'10')", "unsupported literal"),
        ("cosine(0.1j, steps=10)", "unsupported literal"),
        ("cosine(..., steps=10)", "unsupported literal"),
        ("cosine(0.1, 10, 0.0, 1.0, 0.5, 7)", "cosine()"),
        ("cosine(0.1, 10, steps=10)", "got parameter 'steps' twice"),
        ("step(0.1)", "step() needs step_size; call it as step(value, step_size"),
        ("cosine(0.1, steps=10, steps=20)", "cosine() got parameter 'steps' twice"),
        ("cosine(0.1, steps=1/0)", "bad arithmetic"),
        ("cosine(0.1, steps=10**10**10)", "bad arithmetic"),
        ("cosine(9**9**9, steps=10)", "bad arithmetic"),
        ("cosine(0.1, steps=2**1000)", "steps must be <= 2**53"),
        ("cosine(0.1, steps=2**64)", "steps must be <= 2**53"),
        ("cosine(0.1, steps=18446744073709551616)", "too large"),
        ("cosine(0.1, steps=99999999999999999999 * 99999999999999999999)", "too large"),
        ("constant((-8) ** (1/3))", "no real number"),
        ("constant(inf - inf)", "no real number"),
        ("constant(1e308 * 10)", "value must be finite"),
        ("constant(1e999)", "value must be finite"),
        ("constant(0.1\x00)", "null bytes"),
        ("cosine(0.1, steps='1e999999999ep')", "unreasonably long or large"),
        ("cosine(0.1, steps='" + "9" * 100_000 + "')", "longer than"),
        ("cosine(0.1, steps=" + "1" * 5000 + ")", "malformed spec"),
        ("warmup(" * 100 + "constant(0.1)" + ", 1, prefix=False)" * 100, "nested deeper than"),
        ("constant(" + "-" * 5000 + "1)", "nested deeper than"),
        ("constant(" + "(" * 300 + "1" + ")" * 300 + ")", "malformed spec"),
        ("constant(" + "[" * 1000 + "]" * 1000 + ")", "malformed spec"),
        ("constant(1" + "+1" * 30000 + ")", "malformed spec"),
    ],
)
def test_malformed_specs(text: str, fragment: str) -> None:
    start = time.perf_counter()
    e = spec_error(text)
    assert fragment in str(e), str(e)
    assert time.perf_counter() - start < 2.0  # refused, not computed


@pytest.mark.parametrize("value", [None, 1, b"cosine(0.1, 10)", ["cosine(0.1, 10)"]])
def test_non_string_specs(value: Any) -> None:
    assert "a spec must be a string" in str(spec_error(value))


def test_deep_but_allowed_nesting_parses() -> None:
    text = "warmup(" * 20 + "constant(0.1)" + ", 1, prefix=False)" * 20
    s = lrkit.parse(text)
    assert len(list(s.walk())) == 21
    assert lrkit.parse(repr(s)) == s


# -- dict / file formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"value": 0.1}, "needs a 'type' key"),
        ({"type": "cosin", "value": 0.1, "steps": 10}, "did you mean 'cosine'"),
        ({"type": 3}, "unknown schedule type 3"),
        ({"type": "cosine", "value": 0.1, "steps": 10, "flor": 0.0}, "cosine() has no parameter 'flor'"),
        ({"type": "cosine", "value": 0.1, "steps": -1}, "cosine(): steps must be >= 1, got -1"),
        ({"type": "warmup", "schedule": {"type": "step", "value": 0.1}, "steps": 5}, "step_size"),
        ({"type": "warmup", "schedule": {"type": "nope"}, "steps": 5}, "spec.schedule: unknown schedule type"),
        ({"type": "join", "schedules": [{"type": "constant"}], "boundaries": []}, "constant()"),
        ({"type": "warmup", "schedule": 0.1, "steps": 5}, "schedule must be an lrkit schedule"),
        (5, "must be a dict"),
        ([{"type": "constant", "value": 0.1}], "must be a dict"),
        (None, "must be a dict"),
    ],
)
def test_from_dict_errors(data: Any, fragment: str) -> None:
    with pytest.raises(SpecError) as info:
        lrkit.from_dict(data)
    assert fragment in str(info.value), str(info.value)


def test_from_dict_depth_limit() -> None:
    data: dict[str, Any] = {"type": "constant", "value": 0.1}
    for _ in range(100):
        data = {"type": "warmup", "schedule": data, "steps": 1}
    with pytest.raises(SpecError, match=r"nested deeper than"):
        lrkit.from_dict(data)


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("{", "json"),
        ("5", "json"),
        ("[[[[" * 10000, "json"),
        ("type: [", "yaml"),
        ("- a\n- b", "yaml"),
        ("!!python/object:os.system {}", "yaml"),  # safe_load refuses to build objects
        ("type = ", "toml"),
        ('type = "nope"', "toml"),
    ],
)
def test_loads_errors_are_spec_errors(text: str, fmt: str) -> None:
    pytest.importorskip("yaml")
    with pytest.raises(SpecError):
        lrkit.loads(text, fmt)


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match=r"format must be 'json', 'yaml' or 'toml', got 'xml'"):
        lrkit.dumps(lrkit.constant(0.1), "xml")
    with pytest.raises(ValueError, match=r"format must be"):
        lrkit.loads("{}", "xml")


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml", ".toml", ".JSON"])
def test_save_load_files(tmp_path: Path, suffix: str) -> None:
    s = lrkit.parse(EXAMPLES[0])
    path = tmp_path / f"schedule{suffix}"
    lrkit.save(s, path)
    assert lrkit.load(path) == s
    assert lrkit.load(str(path)) == s


def test_save_refuses_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"path must end in .json, .yaml, .yml or .toml, got '.*schedule.txt'"):
        lrkit.save(lrkit.constant(0.1), tmp_path / "schedule.txt")


def test_file_formats_hold_plain_data() -> None:
    s = lrkit.parse(EXAMPLES[6])
    assert json.loads(lrkit.dumps(s, "json")) == s.to_dict()
    toml_text = lrkit.dumps(s, "toml")
    assert 'type = "join"' in toml_text and "boundaries = [" in toml_text
    yaml_text = lrkit.dumps(s, "yaml")
    assert yaml_text.startswith("type: join\n")


# -- fuzzing -------------------------------------------------------------------------------------------

FUZZ = settings(max_examples=500, deadline=2000, suppress_health_check=list(HealthCheck))
SPEC_CHARS = st.sampled_from(list("()[],=.'\"*-+/%0123456789e_ \n\x00") + sorted(lrkit.REGISTRY) + ["ep", "inf"])


def parse_or_spec_error(text: str) -> Schedule | None:
    try:
        s = lrkit.parse(text)
    except SpecError:
        return None
    assert isinstance(s, Schedule)
    assert lrkit.parse(repr(s)) == s  # whatever parses, round-trips
    return s


@FUZZ
@given(text=st.text(max_size=300))
def test_fuzz_arbitrary_text(text: str) -> None:
    parse_or_spec_error(text)


@FUZZ
@given(pieces=st.lists(SPEC_CHARS, max_size=60))
def test_fuzz_spec_alphabet(pieces: list[str]) -> None:
    parse_or_spec_error("".join(pieces))


@st.composite
def mutated_specs(draw: Any) -> str:
    text = repr(draw(schedules(durations=True)))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate"]))
        piece = draw(SPEC_CHARS)
        if op == "insert":
            text = text[:i] + piece + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 5)) :]
        elif op == "replace":
            text = text[:i] + piece + text[i + 1 :]
        else:
            text = text[:i] + text[i : i + draw(st.integers(1, 20))] * 2 + text[i:]
    return text


@FUZZ
@given(text=mutated_specs())
def test_fuzz_mutated_valid_specs(text: str) -> None:
    parse_or_spec_error(text)


@FUZZ
@given(
    depth=st.integers(0, 400),
    wrap=st.sampled_from(["warmup({}, 1, prefix=False)", "[{}]", "({})", "-{}", "scale({}, 2)", "{}**2", "clip({})"]),
    core=st.sampled_from(["constant(0.1)", "1", "10**10**10", "'1e99999ep'", "\x00", "9" * 50]),
)
def test_fuzz_deep_nesting(depth: int, wrap: str, core: str) -> None:
    text = core
    for _ in range(depth):
        text = wrap.format(text)
    start = time.perf_counter()
    parse_or_spec_error(text)
    assert time.perf_counter() - start < 2.0


@FUZZ
@given(
    data=st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(["type", "value", "steps", "schedule", "schedules", "boundaries", "floor", "x"]),
                c,
                max_size=4,
            )
        ),
        max_leaves=10,
    )
)
def test_fuzz_from_dict(data: Any) -> None:
    try:
        s = lrkit.from_dict(data)
    except SpecError:
        return
    assert isinstance(s, Schedule)


ATHERIS_TARGET = textwrap.dedent(
    """
    import sys
    import atheris

    # Instrument lrkit only: instrumenting NumPy too costs about 2 GB of RSS, near libFuzzer's limit.
    with atheris.instrument_imports(include=["lrkit"]):
        import lrkit

    def one_input(data: bytes) -> None:
        text = data.decode("utf-8", "replace")  # plain decoding, so the seed corpus files are specs
        try:
            s = lrkit.parse(text)
        except lrkit.SpecError:
            return
        assert lrkit.parse(repr(s)) == s

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
    """
)


def test_atheris_fuzz(tmp_path: Path) -> None:
    """A short, bounded libFuzzer run (coverage-guided); skipped when atheris is not installed."""
    pytest.importorskip("atheris")
    target = tmp_path / "fuzz_parse.py"
    target.write_text(ATHERIS_TARGET)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, text in enumerate(EXAMPLES):
        (corpus / f"seed{i}").write_text(text)
    proc = subprocess.run(
        [
            sys.executable,
            str(target),
            "-runs=100000",
            "-max_total_time=20",
            "-timeout=5",
            "-rss_limit_mb=4096",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done" in proc.stderr or "DONE" in proc.stderr, proc.stderr[-3000:]


def test_inf_is_a_name_for_arithmetic() -> None:
    # No schedule parameter accepts inf itself, but it can appear in arithmetic on literals.
    assert lrkit.parse("constant(1/inf)")(0) == 0.0
    assert "value must be finite, got inf" in str(spec_error("constant(inf)"))
    assert math.isinf(lrkit.parse("constant(0.1)").value * math.inf)


# -- issue 12: loaders and files that never hang, crash or lose data ------------------------------


def _alias_bomb(levels: int = 8) -> str:
    # Each level is a list of 9 aliases of the previous one: 9**levels values once expanded,
    # a few hundred bytes of YAML.
    rows = ["&a0 [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
    for i in range(1, levels):
        rows.append(f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "type: multistep\nvalue: 0.1\nmilestones: [" + ", ".join(rows) + "]\n"


def test_a_yaml_alias_bomb_is_refused_at_once_with_a_short_message() -> None:
    pytest.importorskip("yaml")
    text = _alias_bomb()
    assert len(text) < 500
    start = time.perf_counter()
    with pytest.raises(SpecError, match="too large") as info:
        lrkit.loads(text, "yaml")
    assert time.perf_counter() - start < 5  # was 43 s and 1 GB
    assert len(str(info.value)) < 300  # was a 15.5-million-character line


def test_a_self_referencing_yaml_list_is_refused() -> None:
    pytest.importorskip("yaml")
    with pytest.raises(SpecError):
        lrkit.loads("type: multistep\nvalue: 0.1\nmilestones: &m [10, *m]\n", "yaml")


def test_from_dict_bounds_what_it_materialises() -> None:
    shared = list(range(1000))
    data = {"type": "multistep", "value": 0.1, "milestones": [shared] * 1000}  # 10**6 values, shared
    with pytest.raises(SpecError, match="too large"):
        lrkit.from_dict(data)
    with pytest.raises(SpecError, match="too large"):
        lrkit.from_dict({"type": "x" * 2_000_000})


def test_loaders_cap_the_input_size() -> None:
    with pytest.raises(SpecError, match="longer than"):
        lrkit.loads(" " * 2_000_000 + "{}")


def test_a_schedule_at_the_size_limit_of_parse_still_round_trips_through_every_format() -> None:
    pytest.importorskip("yaml")
    pytest.importorskip("tomli_w")
    s = lrkit.multistep(0.1, list(range(1, 12_001)))  # a repr of ~90,000 characters: parse reads it
    assert lrkit.parse(repr(s)) == s
    for fmt in ("json", "yaml", "toml"):
        assert lrkit.loads(lrkit.dumps(s, fmt), fmt) == s, fmt


@pytest.mark.parametrize(
    "data",
    [
        {"type": "y" * 100_000},
        {"type": "cosine", "value": 0.1, "steps": 10, "z" * 100_000: 1},
        {"type": "cosine", "value": "w" * 100_000, "steps": 10},
        {"no_type": 1, "k" * 100_000: 2},
    ],
)
def test_error_messages_quote_only_a_short_excerpt(data: dict[str, Any]) -> None:
    with pytest.raises(SpecError) as info:
        lrkit.from_dict(data)
    assert len(str(info.value)) < 2_000, len(str(info.value))


def test_parse_messages_quote_only_a_short_excerpt() -> None:
    with pytest.raises(SpecError) as info:
        lrkit.parse("[" + "1, " * 30_000 + "1]")
    assert len(str(info.value)) < 2_000


def test_yaml_floats_without_a_dot_are_numbers() -> None:
    # YAML 1.1 (PyYAML) reads `1e-3` as a string; YAML 1.2 and every other format read a float.
    pytest.importorskip("yaml")
    assert lrkit.loads("type: cosine\nvalue: 1e-3\nsteps: 100\n", "yaml") == lrkit.cosine(0.001, 100)
    assert lrkit.loads("type: cosine\nvalue: +2E-1\nsteps: 1e2\n", "yaml") == lrkit.cosine(0.2, 100)
    s = lrkit.loads("type: step\nvalue: 1e-1\nstep_size: 10\ngamma: 5e-1\n", "yaml")
    assert s == lrkit.step(0.1, 10, 0.5) and isinstance(s.params()["step_size"], int)
    # a quoted value stays a string: refused, with the reason spelled out
    with pytest.raises(SpecError, match=r"value must be a real number.*YAML 1.1.*1\.0e-3"):
        lrkit.loads("type: cosine\nvalue: '1e-3'\nsteps: 100\n", "yaml")


def test_from_dict_explains_numbers_written_as_strings() -> None:
    with pytest.raises(SpecError, match=r"got '1e-3' \(str\).*with a dot and a signed exponent"):
        lrkit.from_dict({"type": "cosine", "value": "1e-3", "steps": 100})


def test_save_and_dumps_accept_a_spec_string(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    lrkit.save("cosine(1, 10)", path)
    assert lrkit.load(path) == lrkit.cosine(1.0, 10)
    assert lrkit.loads(lrkit.dumps("warmup(constant(1), 5, prefix=False)")) == lrkit.warmup(
        lrkit.constant(1.0), 5, prefix=False
    )


@pytest.mark.parametrize("bad", [3, None, {"type": "cosine"}, b"cosine(1, 10)"])
def test_save_refuses_what_is_not_a_schedule_with_type_error(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(TypeError, match="schedule must be an lrkit schedule or a spec string"):
        lrkit.save(bad, tmp_path / "s.json")
    assert not list(tmp_path.iterdir())


def test_save_replaces_the_file_and_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("old", encoding="utf-8")
    path.chmod(0o640)
    lrkit.save(lrkit.constant(0.5), path)
    assert lrkit.load(path) == lrkit.constant(0.5)
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_a_failed_save_leaves_the_old_file_intact_and_no_temporary_file(tmp_path: Path) -> None:
    # A file-size limit makes the write fail half way, as a full disk would (Python ignores SIGXFSZ,
    # so the write raises OSError: EFBIG).
    resource = pytest.importorskip("resource")
    path = tmp_path / "schedule.json"
    path.write_text('{"type": "constant", "value": 0.1}\n', encoding="utf-8")
    code = f"""
import resource, lrkit
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
big = lrkit.multistep(0.1, list(range(1, 5000)))  # about 60 kB of JSON
try:
    lrkit.save(big, {str(path)!r})
except OSError as exc:
    print("failed", exc.errno)
else:
    print("written")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("failed"), out.stdout
    assert path.read_text(encoding="utf-8") == '{"type": "constant", "value": 0.1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schedule.json"]
    del resource


def test_atomic_write_creates_and_replaces(tmp_path: Path) -> None:
    from lrkit._files import atomic_write

    path = tmp_path / "out.csv"
    atomic_write(path, "a\n")
    atomic_write(path, b"b\n")
    assert path.read_bytes() == b"b\n"
    with pytest.raises(OSError):
        atomic_write(tmp_path / "missing" / "x.csv", "c")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
