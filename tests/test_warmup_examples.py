"""The warmup reproductions (docs/why-warmup.md) run end to end at CI size (``--quick``), so they cannot rot.

The full runs are what the docs report; these check that each script trains
with lrkit schedules, prints its table and writes its figure.  The numbers
themselves are not asserted: at ``--quick`` size they are too few seeds to
carry a claim.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

pytestmark = pytest.mark.slow


def _run(script: str, out: Path) -> str:
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return done.stdout


def test_post_ln_vs_pre_ln(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    out = _run("warmup_post_ln.py", tmp_path / "post_ln.png")
    assert "| LN | peak lr | warmup | token accuracy (%) | final loss | collapsed |" in out
    for ln in ("Post-LN", "Pre-LN"):
        assert f"| {ln} | 0.03 | 0 |" in out and f"| {ln} | 0.03 | 100 |" in out


def test_sharpness_and_warmup(tmp_path: Path) -> None:
    out = _run("warmup_sharpness.py", tmp_path / "sharpness.png")
    assert "sharpness at init λ0 =" in out
    assert "| warmup | c | diverged | final loss | λ_T·η/2 |" in out
    assert "| 0 | 256 |" in out and "| 150 | 256 |" in out


def test_large_batch_warmup(tmp_path: Path) -> None:
    out = _run("warmup_large_batch.py", tmp_path / "large_batch.png")
    assert "32b, 32η, gradual warmup" in out
    # the schedules are lrkit's: the gradual warmup multiplies the multistep (milestones fixed in epochs)
    assert "warmup(multistep(1.6, milestones=" in out and "start_factor=0.03125, prefix=False)" in out
