"""lrkit.Plateau, the framework-free reduce-on-plateau multiplier, against torch's ReduceLROnPlateau.

The reference: torch's ``ReduceLROnPlateau`` driving an SGD optimizer at ``lr=1.0``,
so its LR after each ``step(metric)`` is the scale lrkit must give (``min_lr`` is
then ``min_scale``).  Both sides feed the same metric sequences and are compared
after every metric, together with torch's ``best``, ``num_bad_epochs`` and
``cooldown_counter``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit import Plateau

torch = pytest.importorskip("torch")


def torch_reference(**kwargs: Any) -> tuple[Any, Any]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    min_lr = kwargs.pop("min_scale", 0.0)
    return opt, torch.optim.lr_scheduler.ReduceLROnPlateau(opt, min_lr=min_lr, **kwargs)


def assert_follows_torch(metrics: list[float], **kwargs: Any) -> Plateau:
    ours = Plateau(**kwargs)
    opt, ref = torch_reference(**kwargs)
    for i, m in enumerate(metrics):
        before = opt.param_groups[0]["lr"]
        ref.step(m)
        reduced = ours.update(m)
        where = (kwargs, i, m)
        assert ours.scale == opt.param_groups[0]["lr"], where
        assert reduced == (opt.param_groups[0]["lr"] < before), where
        assert ours.best == ref.best, where
        assert ours.num_bad == ref.num_bad_epochs, where
        assert ours.cooldown_counter == ref.cooldown_counter, where
    return ours


# a loss that improves, stalls, improves a little (below and above a 1% threshold), stalls again
LOSS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.4995, 0.499]


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
@pytest.mark.parametrize("cooldown", [0, 1, 3])
def test_modes_thresholds_and_cooldown_follow_torch(mode: str, threshold_mode: str, cooldown: int) -> None:
    metrics = LOSS if mode == "min" else [-m for m in LOSS]
    p = assert_follows_torch(
        metrics, mode=mode, factor=0.5, patience=2, threshold=0.01, threshold_mode=threshold_mode, cooldown=cooldown
    )
    assert p.reductions >= 2


@pytest.mark.parametrize("mode", ["min", "max"])
def test_negative_metrics_and_a_relative_threshold_follow_torch(mode: str) -> None:
    # best * (1 - threshold) moves towards zero for a negative best: the rule is torch's as written.
    metrics = [-1.0, -1.005, -1.02, -1.02, -0.5, -2.0, -2.0, -2.0, -2.0]
    assert_follows_torch(metrics, mode=mode, factor=0.1, patience=1, threshold=0.01)


@pytest.mark.parametrize("min_scale", [0.0, 0.05, 0.3])
def test_min_scale_is_torch_min_lr_at_lr_one(min_scale: float) -> None:
    metrics = [1.0] + [1.0] * 30  # never improves: a reduction every patience + 1 metrics
    p = assert_follows_torch(metrics, factor=0.5, patience=1, min_scale=min_scale)
    # hand-derived: 15 reductions of x0.5 from 1.0 would give 2**-15; the floor stops them.
    assert p.scale == max(0.5**15, min_scale)
    expected_reductions = 15 if min_scale == 0.0 else math.ceil(math.log(min_scale, 0.5))
    assert p.reductions == expected_reductions


def test_patience_zero_and_factor_zero_follow_torch() -> None:
    assert_follows_torch([3.0, 3.0, 2.0, 2.0], factor=0.0, patience=0)


@pytest.mark.parametrize("seed", range(6))
def test_random_sequences_follow_torch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # a noisy decreasing loss with plateaus: repeats and small steps exercise both branches of the threshold
    steps = rng.choice([0.0, 0.0, -0.001, -0.05, 0.02], size=60)
    metrics = [float(x) for x in 2.0 + np.cumsum(steps)]
    for threshold_mode in ("rel", "abs"):
        for mode, sign in (("min", 1.0), ("max", -1.0)):
            assert_follows_torch(
                [sign * m for m in metrics],
                mode=mode,
                factor=0.7,
                patience=int(rng.integers(0, 4)),
                threshold=float(rng.choice([0.0, 1e-4, 0.01])),
                threshold_mode=threshold_mode,
                cooldown=int(rng.integers(0, 3)),
                min_scale=0.01,
            )


def test_state_round_trip_resumes_like_torch_uninterrupted() -> None:
    kwargs: dict[str, Any] = {"factor": 0.5, "patience": 1, "cooldown": 2, "threshold": 0.01}
    opt, ref = torch_reference(**kwargs)
    first = Plateau(**kwargs)
    for m in LOSS[:9]:
        ref.step(m)
        first.update(m)
    # through JSON: the state and config are plain data (best may be +-inf, written as Infinity)
    saved = json.loads(json.dumps({"config": first.config(), "state": first.state()}))
    resumed = Plateau.from_config(saved["config"])
    resumed.load_state(saved["state"])
    for m in LOSS[9:]:
        ref.step(m)
        resumed.update(m)
        assert resumed.scale == opt.param_groups[0]["lr"]
        assert resumed.num_bad == ref.num_bad_epochs and resumed.cooldown_counter == ref.cooldown_counter


def test_fresh_state_and_reset() -> None:
    p = Plateau(mode="max")
    assert p.state() == {"scale": 1.0, "best": -math.inf, "num_bad": 0, "cooldown_counter": 0, "reductions": 0}
    p.update(1.0)
    p.reset()
    assert p.best == -math.inf and p.scale == 1.0
    assert Plateau().best == math.inf


def test_metrics_of_other_kinds() -> None:
    p = Plateau()
    p.update(np.float32(2.0))
    p.update(np.array(1.0))  # 0-d array
    p.update(torch.tensor([0.5]))  # one-element tensor
    assert p.best == 0.5
    assert isinstance(p.best, float)


def test_is_the_same_object_in_the_torch_adapter_and_needs_no_torch() -> None:
    import lrkit.torch

    assert lrkit.torch.Plateau is lrkit.Plateau
    code = (
        "import sys, lrkit; p = lrkit.Plateau(); p.update(1.0); "
        "assert 'torch' not in sys.modules and 'lrkit.torch' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"mode": "lowest"}, ValueError, "mode must be one of 'min', 'max'; got 'lowest'"),
        ({"threshold_mode": "pct"}, ValueError, "threshold_mode must be one of 'rel', 'abs'"),
        ({"factor": 1.0}, ValueError, r"factor must be in \[0.0, 1.0\), got 1.0"),
        ({"factor": -0.1}, ValueError, "factor must be in"),
        ({"factor": math.nan}, ValueError, "factor must be finite, got nan"),
        ({"factor": "0.1"}, TypeError, "factor must be a real number"),
        ({"patience": -1}, ValueError, "patience must be >= 0, got -1"),
        ({"patience": 2.0}, TypeError, "patience must be an int, got 2.0"),
        ({"patience": True}, TypeError, "patience must be an int, got True"),
        ({"cooldown": -2}, ValueError, "cooldown must be >= 0, got -2"),
        ({"threshold": -1e-4}, ValueError, "threshold must be in"),
        ({"threshold": math.inf}, ValueError, "threshold must be finite"),
        ({"min_scale": 1.5}, ValueError, r"min_scale must be in \[0.0, 1.0\], got 1.5"),
    ],
)
def test_constructor_validation(kwargs: dict[str, Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Plateau(**kwargs)


def good_state() -> dict[str, Any]:
    return {"scale": 0.5, "best": 0.3, "num_bad": 1, "cooldown_counter": 0, "reductions": 1}


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"scale": math.nan}, ValueError, "scale must be finite, got nan"),
        ({"scale": math.inf}, ValueError, "scale must be finite, got inf"),
        ({"scale": -0.5}, ValueError, r"scale must be in \[0.0, 1.0\], got -0.5"),
        ({"scale": 2.0}, ValueError, r"scale must be in \[0.0, 1.0\], got 2.0"),
        ({"scale": "0.5"}, TypeError, "scale must be a real number"),
        ({"best": math.nan}, ValueError, "best must be finite, got nan"),
        ({"num_bad": -1}, ValueError, "num_bad must be >= 0, got -1"),
        ({"cooldown_counter": -3}, ValueError, "cooldown_counter must be >= 0, got -3"),
        ({"reductions": -1}, ValueError, "reductions must be >= 0, got -1"),
        ({"num_bad": 1.5}, TypeError, "num_bad must be an int, got 1.5"),
        ({"num_bad": None}, TypeError, "num_bad must be an int, got None"),
        ({"extra": 1}, ValueError, "unknown field.*extra"),
    ],
)
def test_load_state_validation(change: dict[str, Any], error: type[Exception], message: str) -> None:
    p = Plateau()
    p.update(0.7)
    before = p.state()
    with pytest.raises(error, match=message):
        p.load_state({**good_state(), **change})
    assert p.state() == before  # nothing half-loaded


@pytest.mark.parametrize("field", ["scale", "best", "num_bad", "cooldown_counter", "reductions"])
def test_load_state_names_a_missing_field(field: str) -> None:
    state = good_state()
    del state[field]
    with pytest.raises(ValueError, match=f"plateau state is missing {field}"):
        Plateau().load_state(state)


def test_load_state_takes_infinite_best_and_rejects_non_dicts() -> None:
    p = Plateau()
    p.load_state({**good_state(), "best": math.inf})
    assert p.best == math.inf and p.scale == 0.5
    with pytest.raises(TypeError, match="plateau state must be a dict"):
        p.load_state([0.5, 0.3, 1, 0, 1])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="plateau config must be a dict"):
        Plateau.from_config("min")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("metric", "error", "message"),
    [
        (math.nan, ValueError, "metric must be finite, got nan"),
        (-math.inf, ValueError, "metric must be finite, got -inf"),
        (torch.tensor(math.nan), ValueError, "metric must be finite, got nan"),
        ("0.5", TypeError, "metric must be a real number, got '0.5'"),
        (True, TypeError, "metric must be a real number, got True"),
        (None, TypeError, "metric must be a real number"),
        (torch.tensor([1.0, 2.0]), TypeError, "metric must be a real number \\(one element\\)"),
    ],
)
def test_bad_metrics_change_nothing(metric: Any, error: type[Exception], message: str) -> None:
    p = Plateau(patience=0)
    p.update(1.0)
    before = p.state()
    with pytest.raises(error, match=message):
        p.update(metric)
    assert p.state() == before


def test_repr_shows_the_config() -> None:
    assert repr(Plateau(factor=0.5)) == (
        "Plateau(mode='min', factor=0.5, patience=10, threshold=0.0001, threshold_mode='rel', cooldown=0, "
        "min_scale=0.0)"
    )
    assert lrkit.Plateau.from_config(Plateau(factor=0.5).config()).config() == Plateau(factor=0.5).config()
