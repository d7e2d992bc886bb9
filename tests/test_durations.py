"""Durations ('10ep', '5%', '0.05dur', '500st'): the rounding rule table, errors, and --lrepochs."""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import pytest

import lrkit
from lrkit import parse_duration, parse_lrepochs, resolve_duration

# The one rounding rule: the exact (rational) product, rounded to the nearest integer, halves up.
ROUNDING = [
    # (duration, steps_per_epoch, total_steps, steps)      derivation
    ("10ep", 1000, None, 10000),  # 10 * 1000, already whole
    ("2.5ep", 3, None, 8),  # 7.5 -> halves up -> 8
    ("0.5ep", 3, None, 2),  # 1.5 -> 2
    ("0.5ep", 1, None, 1),  # 0.5 -> 1 (halves up, not to even)
    ("2.5ep", 1, None, 3),  # 2.5 -> 3 (round-half-even would give 2)
    ("0.1ep", 4, None, 0),  # 0.4 -> 0
    ("0.7ep", 1, None, 1),  # 0.7 -> 1
    ("4.1ep", 15, None, 62),  # exactly 61.5 -> 62; in floats 4.1 * 15 = 61.49999999999999 would give 61
    ("1e-1ep", 5, None, 1),  # 0.5 -> 1
    ("1.e2ep", 2, None, 200),  # '1.' is a number
    (".5ep", 7, None, 4),  # 3.5 -> 4
    (" 10 ep ", 3, None, 30),  # spaces are allowed around and inside
    ("5%", None, 1000, 50),  # 1000 * 5 / 100
    ("5%", None, 30, 2),  # 1.5 -> 2
    ("12.5%", None, 4, 1),  # 0.5 -> 1
    ("33%", None, 10, 3),  # 3.3 -> 3
    ("100%", None, 7, 7),  # the whole run
    ("0%", None, 7, 0),
    ("0.05dur", None, 1000, 50),  # the same as 5%
    ("0.05dur", None, 30, 2),  # 1.5 -> 2
    ("0.5dur", None, 3, 2),  # 1.5 -> 2
    ("1dur", None, 9, 9),
    ("500st", None, None, 500),  # steps need nothing
    ("1e3st", None, None, 1000),
    ("0st", None, None, 0),
    (123, None, None, 123),  # ints pass through
]


@pytest.mark.parametrize(("text", "spe", "total", "want"), ROUNDING, ids=[str(r[0]) for r in ROUNDING])
def test_rounding_rule_table(text: Any, spe: int | None, total: int | None, want: int) -> None:
    got = resolve_duration(text, steps_per_epoch=spe, total_steps=total)
    assert got == want and type(got) is int


def test_parse_duration_returns_exact_fractions() -> None:
    assert parse_duration("2.5ep") == (Fraction(5, 2), "ep")
    assert parse_duration("0.05dur") == (Fraction(1, 20), "dur")
    assert parse_duration("12.5%") == (Fraction(25, 2), "%")
    assert parse_duration("1e3st") == (Fraction(1000), "st")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ep",
        "10",
        "10eps",
        "10 epochs",
        "-1ep",
        "+1ep",
        "1.5st",  # steps must be whole
        "101%",
        "1.01dur",
        "nanep",
        "infep",
        "1e100000ep",  # Fraction would compute 10**100000: refused before that
        "1" * 41 + "ep",
        "١٠ep",  # Arabic-Indic digits: ASCII only
        "10EP",
        "10ep10",
        "1/2ep",
        "0x10st",
        "1_000st",
    ],
)
def test_malformed_durations(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text, name="warmup.steps")
    assert "warmup.steps" in str(info.value)


def test_huge_exponents_are_refused_fast() -> None:
    start = time.perf_counter()
    for text in ("1e999999999ep", "9e99999st", "1e-999999999ep"):
        with pytest.raises(ValueError, match=r"unreasonably long or large"):
            parse_duration(text)
    assert time.perf_counter() - start < 1.0


def test_largest_accepted_exponent() -> None:
    assert parse_duration("1e99ep")[0] == 10**99
    with pytest.raises(ValueError, match=r"steps must be <= 2\*\*53 steps"):
        lrkit.cosine(0.1, "1e99ep").resolve(steps_per_epoch=1)  # re-validated after resolving


@pytest.mark.parametrize(
    ("text", "kwargs", "fragment"),
    [
        ("10ep", {}, "pass steps_per_epoch"),
        ("10ep", {"total_steps": 100}, "pass steps_per_epoch"),
        ("5%", {}, "pass total_steps"),
        ("0.5dur", {"steps_per_epoch": 10}, "pass total_steps"),
    ],
)
def test_resolve_needs_the_right_context(text: str, kwargs: dict[str, int], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        resolve_duration(text, name="cosine.steps", **kwargs)
    assert fragment in str(info.value) and "cosine.steps" in str(info.value) and repr(text) in str(info.value)


def test_spec_with_epoch_milestones_resolves() -> None:
    s = lrkit.parse("multistep(1e-3, milestones=['10ep', '12ep'], gamma=0.5)")
    assert not s.is_resolved
    r = s.resolve(steps_per_epoch=1000)
    assert r == lrkit.multistep(1e-3, [10000, 12000], 0.5)
    assert r(9999) == 1e-3 and r(10000) == 1e-3 * 0.5 and r(12000) == 1e-3 * 0.5**2  # milestones in steps


def test_resolve_reaches_every_nested_duration() -> None:
    s = lrkit.warmup(
        lrkit.join([lrkit.cosine(0.1, "2ep"), lrkit.linear(0.1, 0.0, "10%")], ["2ep"]), steps="0.01dur", prefix=True
    )
    r = s.resolve(steps_per_epoch=50, total_steps=1000)
    want = lrkit.warmup(lrkit.join([lrkit.cosine(0.1, 100), lrkit.linear(0.1, 0.0, 100)], [100]), 10, prefix=True)
    assert r == want


def test_duration_strings_are_kept_verbatim_until_resolved() -> None:
    s = lrkit.cosine(0.1, " 10ep ")
    assert s.steps == "10ep"  # stripped, not converted
    assert "steps='10ep'" in repr(s)
    assert s.to_dict() == {
        "type": "cosine",
        "value": 0.1,
        "steps": "10ep",
        "floor": 0.0,
        "exponent": 1.0,
        "cycles": 0.5,
        "periodic": False,
    }


def test_steps_strings_resolve_without_context() -> None:
    s = lrkit.cosine(0.1, "500st")
    assert not s.is_resolved  # still a string...
    assert s.resolve() == lrkit.cosine(0.1, 500)  # ...that needs no context


# -- the seed's --lrepochs -----------------------------------------------------------------------------


def seed_lrepochs(lrepochs: str, n_batches: int) -> tuple[list[int], float]:
    """The seed's own two lines, verbatim."""
    milestones = [n_batches * int(epoch_idx) for epoch_idx in lrepochs.split(":")[0].split(",")]
    lr_gamma = 1 / float(lrepochs.split(":")[1])
    return milestones, lr_gamma


@pytest.mark.parametrize(
    ("spec", "spe"), [("10,12,14,16:2", 1000), ("10,12,14,16:2", 1), ("5:10", 37), ("1,2,3:3", 7), ("0,4:1.5", 9)]
)
def test_parse_lrepochs_matches_the_seed(spec: str, spe: int) -> None:
    assert parse_lrepochs(spec, steps_per_epoch=spe) == seed_lrepochs(spec, spe)


def test_parse_lrepochs_documented_example() -> None:
    assert parse_lrepochs("10,12,14,16:2", steps_per_epoch=1000) == ([10000, 12000, 14000, 16000], 0.5)
    milestones, gamma = parse_lrepochs(" 10, 12 : 2 ", steps_per_epoch=3)
    assert (milestones, gamma) == ([30, 36], 0.5)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("10,12", "EPOCH,EPOCH"),
        (":2", "EPOCH,EPOCH"),
        ("10:", "EPOCH,EPOCH"),
        ("a,b:2", "'a,b'"),
        ("10,,12:2", "'10,,12'"),
        ("10:x", "'x'"),
        ("10:0", "'0'"),
        ("10:-2", "'-2'"),
        ("10:inf", "'inf'"),
        ("10:nan", "'nan'"),
        ("12,10:2", "[12, 10]"),
        ("-1,2:2", "[-1, 2]"),
    ],
)
def test_parse_lrepochs_errors(spec: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_lrepochs(spec, steps_per_epoch=10)
    assert "lrepochs" in str(info.value) and fragment in str(info.value)


@pytest.mark.parametrize("spe", [0, -1, 1.5, True, "10", None])
def test_parse_lrepochs_steps_per_epoch(spe: Any) -> None:
    with pytest.raises(ValueError, match=r"steps_per_epoch must be a positive int"):
        parse_lrepochs("10:2", steps_per_epoch=spe)


def test_parse_lrepochs_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match=r"lrepochs must be a string"):
        parse_lrepochs([10, 12], steps_per_epoch=10)  # type: ignore[arg-type]


# -- issue 12: extreme values are refused where they are given ------------------------------------


@pytest.mark.parametrize("spec", ["10,12:1e-320", "10,12:0.5", "10:0.999", "10:1e-300"])
def test_parse_lrepochs_refuses_a_divisor_below_one(spec: str) -> None:
    # 1 / 1e-320 is inf; any divisor < 1 raises the LR (gamma > 1), which multistep refuses as 'gamma':
    # the error belongs to the divisor the user wrote
    with pytest.raises(ValueError, match=r"lrepochs divisor must be a positive number >= 1, finite"):
        parse_lrepochs(spec, steps_per_epoch=10)


def test_parse_lrepochs_divisor_one_keeps_the_lr() -> None:
    assert parse_lrepochs("3:1", steps_per_epoch=10) == ([30], 1.0)


@pytest.mark.parametrize(
    ("value", "kwargs", "name"),
    [
        ("5%", {"total_steps": -100}, "total_steps"),
        ("5%", {"total_steps": 0}, "total_steps"),
        ("10ep", {"steps_per_epoch": 0}, "steps_per_epoch"),
        ("10ep", {"steps_per_epoch": -3}, "steps_per_epoch"),
        ("10ep", {"steps_per_epoch": 2.5}, "steps_per_epoch"),
        ("10ep", {"steps_per_epoch": True}, "steps_per_epoch"),
        (100, {"total_steps": -1}, "total_steps"),
    ],
)
def test_resolve_duration_refuses_bad_totals(value: Any, kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=rf"{name} must be a positive int"):
        resolve_duration(value, **kwargs)
