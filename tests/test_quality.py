"""Repository-level checks: lint, the README's claims, and benchmarks that still run."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _ruff() -> list[str] | None:
    exe = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    return [exe] if Path(exe).exists() else None


def test_ruff_clean() -> None:
    ruff = _ruff()
    if ruff is None:
        pytest.skip("ruff is not installed")
    paths = [p for p in ("src", "tests", "benchmarks", "examples") if (ROOT / p).exists()]
    lint = subprocess.run([*ruff, "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run([*ruff, "format", "--check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_readme_quick_start_has_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start\s*\n```[a-z]*\n(.*?)```", readme, flags=re.S)
    assert block, "README needs a '## Quick start' heading followed by a code block"
    lines = block.group(1).splitlines()
    assert "demo" in lines[0], lines[0]
    assert "pytest" in lines[1], lines[1]
    assert "Quick start" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_benchmarks_run() -> None:
    # the smoke run of every benchmark (numbers are not checked here: timings live in benchmarks/, never in tests)
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    for table in ("| 1M steps, vectorized", "| warmup + cosine |", "| one update of warmup+cosine", "| lrkit |"):
        assert table in out.stdout, table
