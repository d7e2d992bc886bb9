"""Proof of parity (issue 9): one spec, the same LR at every update in PyTorch, Keras (jax, torch) and optax.

``examples/parity.py`` trains a tiny model in each framework and reads the LR
of every update back from the weights (see its docstring for why that is
exact).  The expectation is the NumPy evaluation of the spec, itself pinned by
values derived by hand below, so a formula bug cannot hide as "the same bug in
every framework".  Tolerance: 4 float32 ulps of the peak (torch and Keras-on-
torch compute in float64 and round once; jax without x64 computes in float32).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lrkit

pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("optax")
pytest.importorskip("keras")

PATH = Path(__file__).resolve().parent.parent / "examples" / "parity.py"


def _example() -> Any:
    spec = importlib.util.spec_from_file_location("lrkit_parity_example", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_spec_is_the_schedule_we_mean() -> None:
    s = lrkit.parse(_example().SPEC)
    assert s(0) == 0.0  # linear warmup from 0
    assert s(15) == pytest.approx(0.005)  # half way up the 30-step warmup
    assert s(30) == pytest.approx(0.01)  # the peak: cosine's clock 0
    assert s(179) == pytest.approx(0.01 * (1 + math.cos(math.pi * 149 / 150)) / 2)  # cosine's step 149 of 150
    assert s(180) == s(240) == s(300) == pytest.approx(0.005)  # the boundary, then a restart every 60
    assert s(299) == pytest.approx(0.005 * (1 + math.cos(math.pi * 59 / 60)) / 2)


def test_every_framework_applies_s_of_k_at_update_k() -> None:
    example = _example()
    n = 320  # >= 300 updates: the warmup end (30), the boundary (180), restarts at 240 and 300
    s = lrkit.parse(example.SPEC)
    expected = s(np.arange(n))
    got = example.run(example.SPEC, n)
    assert set(got) == {"torch", "keras-jax", "keras-torch", "optax"}
    for name, lrs in got.items():
        assert lrs.shape == (n,), name
        diff = np.abs(lrs - expected)
        k = int(np.argmax(diff))
        assert diff[k] <= example.TOL, f"{name}: update {k} applied {lrs[k]!r}, s({k}) = {expected[k]!r}"
