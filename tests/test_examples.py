"""The examples are real training loops; run them (small) so they cannot rot."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script: str, *args: str) -> str:
    out = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_seed_training_loop_matches_schedule_every_iteration() -> None:
    pytest.importorskip("torch")
    out = _run("seed_training_loop.py", "--epochs", "18", "--batches-per-epoch", "40")
    # 18 epochs x 40 iterations; milestones at epochs 10..16 -> steps 400..640.
    assert "720 iterations; every LR matched" in out
    assert "milestones=[400, 480, 560, 640]" in out


def test_optax_training_loop_uses_lrkit_lr_every_update() -> None:
    pytest.importorskip("optax")
    out = _run("optax_training_loop.py", "--steps", "120")
    assert "120 updates" in out
