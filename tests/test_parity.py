"""Proof of parity (issue 9): one spec, the same LR at every update in PyTorch, Keras (jax, torch) and optax.

``lrkit compare SPEC --frameworks all`` (one implementation, :mod:`lrkit.parity`,
shared with ``examples/parity.py``) trains a tiny model in each framework and
reads the LR of every update back from the weights.  The test runs that command
once over every framework and checks its exit code, its table and, from the
``-o`` JSON, every applied LR against the NumPy evaluation of the spec, itself
pinned by values derived by hand below, so a formula bug cannot hide as "the
same bug in every framework".  Tolerance: 4 float32 ulps of the peak (torch and
Keras-on-torch compute in float64 and round once; jax without x64 in float32).

The failing case trains the real framework with a schedule whose boundary is
one step off the expected one: no mock, the check itself must catch it.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit import parity

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "parity.py"
N = 320  # >= 300 updates: the warmup end (30), the boundary (180), restarts at 240 and 300
#: the peak 0.01 lies in [2**-7, 2**-6): one float32 ulp there is 2**-7 * 2**-23
ULP = 2.0**-30
TOL = 4 * ULP


def _example() -> Any:
    spec = importlib.util.spec_from_file_location("lrkit_parity_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


SPEC: str = _example().SPEC


def lrkit_cli(*args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m lrkit ARGS`` (``prelude``: Python run first in that process)."""
    code = f"import sys\n{prelude}\nfrom lrkit.cli import main\nsys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("LRKIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=900, check=False
    )


def row(stdout: str, framework: str) -> list[str]:
    lines = [line.split() for line in stdout.splitlines() if line.split()[:1] == [framework]]
    assert len(lines) == 1, stdout
    return lines[0]


def test_the_spec_is_the_schedule_we_mean() -> None:
    s = lrkit.parse(SPEC)
    assert s(0) == 0.0  # linear warmup from 0
    assert s(15) == pytest.approx(0.005)  # half way up the 30-step warmup
    assert s(30) == pytest.approx(0.01)  # the peak: cosine's clock 0
    assert s(179) == pytest.approx(0.01 * (1 + math.cos(math.pi * 149 / 150)) / 2)  # cosine's step 149 of 150
    assert s(180) == s(240) == s(300) == pytest.approx(0.005)  # the boundary, then a restart every 60
    assert s(299) == pytest.approx(0.005 * (1 + math.cos(math.pi * 59 / 60)) / 2)
    assert float(np.spacing(np.float32(0.01))) == ULP


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("torch", "jax", "optax", "keras")),
    reason="needs torch, jax, optax and keras",
)
def test_lrkit_compare_reports_parity_in_every_framework(tmp_path: Path) -> None:
    out = tmp_path / "parity.json"
    r = lrkit_cli("compare", SPEC, "--frameworks", "all", "--steps", str(N), "-o", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr == "", r.stderr
    assert f"parity: every update of {N} applied s(k) in torch, keras-jax, keras-torch, optax" in r.stdout

    expected = lrkit.parse(SPEC)(np.arange(N))
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["ok"] is True and record["steps"] == N and record["ulp"] == ULP
    assert list(record["frameworks"]) == ["torch", "keras-jax", "keras-torch", "optax"]
    for name, entry in record["frameworks"].items():
        lrs = np.asarray(entry["lr"], dtype=np.float64)
        assert lrs.shape == (N,), name
        diff = np.abs(lrs - expected)
        k = int(np.argmax(diff))
        # The LR every update really applied is s(k) within float32 precision.
        assert diff[k] <= TOL, f"{name}: update {k} applied {lrs[k]!r}, s({k}) = {expected[k]!r}"
        # ...and what the command reports is that, recomputed here.
        assert entry["status"] == "pass" and entry["worst_step"] == k
        assert entry["max_ulps"] == pytest.approx(diff[k] / ULP, rel=1e-12)
        assert row(r.stdout, name) == [name, str(N), f"{diff[k] / ULP:.2f}", str(k), *row(r.stdout, name)[4:6], "pass"]
        # Each value is a float32 (the optimizers' LR dtype): the weights hold -float32(lr).
        assert np.array_equal(lrs, lrs.astype(np.float32).astype(np.float64)), name


# One step off: the trained schedule switches to the restarts at 180, the expected one at 181.
# At update 180 the trained run applies float32(0.005) (the restarts' clock 0); the expected
# schedule is still the 150-step cosine at its end, 0.01 * (1 + cos(pi)) / 2 = 0.  Elsewhere the
# two differ by less (at 240 and 300 the expected value is the restarts' step 59, about 3.4e-6).
WRONG = SPEC.replace("boundaries=[180]", "boundaries=[181]")


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_a_framework_off_by_one_step_fails_with_exit_1() -> None:
    assert WRONG != SPEC
    r = lrkit_cli("compare", SPEC, WRONG, "--frameworks", "torch", "--steps", str(N))
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stderr == ""
    ulps = float(np.float32(0.005)) / ULP  # |float32(0.005) - 0| in ulps of the peak 0.01
    assert row(r.stdout, "torch") == [
        "torch",
        str(N),
        f"{ulps:.2f}",
        "180",
        f"{float(np.float32(0.005)):.9g}",
        "0",
        "FAIL",
    ]
    assert "parity FAILED in torch" in r.stdout
    # The tolerance is an option: a large enough one accepts the same run.
    r = lrkit_cli("compare", SPEC, WRONG, "--frameworks", "torch", "--steps", str(N), "--max-ulps", f"{ulps + 1}")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_a_framework_that_is_not_installed_is_skipped() -> None:
    # sys.modules[name] = None is how Python marks a module as not importable: the check sees
    # optax missing (it is never imported), torch trains for real.
    hide = "sys.modules['optax'] = None"
    r = lrkit_cli("compare", "constant(0.1)", "--frameworks", "optax,torch", "--steps", "3", prelude=hide)
    assert r.returncode == 0, r.stdout + r.stderr
    assert row(r.stdout, "optax") == ["optax", "-", "-", "-", "-", "-", "skipped:", "optax", "is", "not", "installed"]
    assert row(r.stdout, "torch")[-1] == "pass"
    # Nothing checked is not a pass.  Without --steps the check trains a bounded number of updates
    # and says so (noam(128)'s phases span 10 x its 4000 warmup steps).
    r = lrkit_cli("compare", "noam(128)", "--frameworks", "optax", prelude=hide)
    assert r.returncode == 1 and "nothing was checked" in r.stdout, r.stdout + r.stderr
    assert f"{parity.DEFAULT_STEPS} updates (0..{parity.DEFAULT_STEPS - 1})" in r.stdout
    assert f"(the first {parity.DEFAULT_STEPS} of the 40000 steps that show every phase" in r.stdout


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_the_example_uses_the_same_runner() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), "--frameworks", "torch", "--steps", "40"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "| 30 | 0.01 | 0.0099999998 |" in out.stdout  # s(30) = the peak; torch applied float32(0.01)
    assert "parity: every update of 40 applied s(k) in torch" in out.stdout


# -- the runner's arguments (no training: these fail before any framework is imported) ----------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", parity.FRAMEWORKS),
        ("optax, torch", ("torch", "optax")),
        (["keras-torch", "keras-torch"], ("keras-torch",)),
        ("torch,all", parity.FRAMEWORKS),
    ],
)
def test_parse_frameworks(text: Any, expected: tuple[str, ...]) -> None:
    assert parity.parse_frameworks(text) == expected


@pytest.mark.parametrize("bad", ["", "tensorflow", "torch,keras", []])
def test_unknown_frameworks_are_a_value_error_naming_them(bad: Any) -> None:
    with pytest.raises(ValueError, match="frameworks must be among torch, keras-jax, keras-torch, optax"):
        parity.parse_frameworks(bad)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"steps": 0}, ValueError, "steps must be a whole number from 1 to 100000"),
        ({"steps": parity.MAX_STEPS + 1}, ValueError, "steps must be"),
        ({"steps": 3.0}, ValueError, "steps must be"),
        ({"steps": True}, ValueError, "steps must be"),
        ({"max_ulps": math.nan}, ValueError, "max_ulps must be a number >= 0, got nan"),
        ({"max_ulps": -1}, ValueError, "max_ulps"),
        ({"frameworks": None}, TypeError, None),
        ({"expected": "cosine(1e-3, '5%')"}, ValueError, "resolve it first"),
        ({"schedule": lrkit.multiplier(lrkit.constant(1.0))}, ValueError, "multiplier"),
        ({"schedule": 0.1}, TypeError, None),
    ],
)
def test_check_arguments(kwargs: dict[str, Any], exc: type[Exception], match: str | None) -> None:
    args: dict[str, Any] = {"schedule": "constant(0.1)", "frameworks": "torch", "steps": 3, **kwargs}
    with pytest.raises(exc, match=match):
        parity.check(args.pop("schedule"), args.pop("frameworks"), **args)
