"""lrkit.recommend: each rule against its formula, written out here from its source."""

from __future__ import annotations

import math

import pytest

import lrkit
from lrkit.cli import main
from lrkit.recommend import SOURCES, Reason, recommend


def _rules(rec: lrkit.Recommendation) -> dict[str, Reason]:
    return {r.rule: r for r in rec.reasons}


# -- Ma & Yarats 2021: untuned warmup for Adam, omega_t = min(1, t (1 - beta2) / 2) ------------------


@pytest.mark.parametrize(("beta2", "expected"), [(0.999, 2000), (0.98, 100), (0.95, 40), (0.9999, 20000)])
def test_adam_warmup_is_two_over_one_minus_beta2(beta2: float, expected: int) -> None:
    # the warmup factor reaches 1 when t (1 - beta2) / 2 = 1, i.e. t = 2 / (1 - beta2)
    rec = recommend(optimizer="adam", beta2=beta2, total_steps=10**6)
    assert rec.warmup_steps == expected
    assert "arXiv:1910.04209" in _rules(rec)["adam warmup"].source


def test_adamw_defaults_to_beta2_0999_and_adams_default_lr() -> None:
    rec = recommend(optimizer="AdamW", total_steps=100_000)
    assert rec.warmup_steps == 2000 and rec.peak_lr == 1e-3
    s = rec.schedule
    # linear from 0 to the peak over 2000 updates, then cosine to 10% of the peak at step 100_000
    assert s(0) == 0.0 and s(1000) == 0.5e-3 and s(2000) == 1e-3
    assert s(100_000) == pytest.approx(1e-4, rel=1e-12)
    # halfway through the cosine, (peak + floor) / 2
    assert s(2000 + 49_000) == pytest.approx((1e-3 + 1e-4) / 2, rel=1e-12)
    assert s == lrkit.parse(rec.spec)


def test_the_issues_example_prints_the_warmup_the_spec_and_the_reasons(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend", "--optimizer", "adam", "--beta2", "0.999", "--total-steps", "100000"]) == 0
    out = capsys.readouterr().out
    assert "warmup: 2000 updates (2% of 100000)" in out
    assert "spec: warmup(cosine(0.001, steps=98000, floor=0.0001), steps=2000)" in out
    assert "2 / (1 - 0.999) = 2000" in out and "Ma & Yarats 2021" in out


# -- Goyal et al. 2017: linear scaling rule, 5 epochs of gradual warmup from eta to k * eta -------------


def test_large_batch_sgd_gets_the_linear_scaling_rule_and_five_epochs_of_gradual_warmup() -> None:
    # ImageNet in 1 hour: batch 8192 = 32 x 256, lr 0.1 x 32 = 3.2, 5 epochs of ~156 updates
    rec = recommend(optimizer="sgd", batch_size=8192, steps_per_epoch=156, total_steps=90 * 156)
    assert rec.peak_lr == pytest.approx(0.1 * 8192 / 256)
    assert rec.warmup_steps == 5 * 156
    s = rec.schedule
    assert s(0) == pytest.approx(0.1)  # starts at eta, the small-batch LR
    assert s(5 * 156) == pytest.approx(3.2)  # reaches k * eta after 5 epochs
    # "increment it by a constant amount at each iteration"
    assert s(1) - s(0) == pytest.approx((3.2 - 0.1) / 780)
    assert "arXiv:1706.02677" in _rules(rec)["large-batch warmup"].source


def test_sgd_linear_scaling_from_a_given_base_and_reference() -> None:
    rec = recommend(
        optimizer="sgd", base_lr=0.05, batch_size=1024, ref_batch_size=128, steps_per_epoch=10, total_steps=1000
    )
    assert rec.peak_lr == pytest.approx(0.05 * 1024 / 128)
    assert rec.warmup_steps == 50


def test_small_batch_sgd_gets_no_warmup() -> None:
    rec = recommend(optimizer="sgd", batch_size=256, total_steps=1000)
    assert rec.warmup_steps == 0 and rec.peak_lr == 0.1 and rec.schedule(0) == 0.1


def test_large_batch_sgd_without_steps_per_epoch_is_refused() -> None:
    with pytest.raises(ValueError, match="steps_per_epoch"):
        recommend(optimizer="sgd", batch_size=4096, total_steps=1000)


# -- Liu et al. 2019 (RAdam), Xiong et al. 2020 (Post-LN) ---------------------------------------------


def test_radam_needs_no_warmup() -> None:
    rec = recommend(optimizer="radam", total_steps=1000)
    assert rec.warmup_steps == 0 and rec.schedule(0) == rec.peak_lr
    assert "arXiv:1908.03265" in _rules(rec)["radam warmup"].source


def test_post_ln_raises_the_warmup_to_vaswanis_4000() -> None:
    rec = recommend(optimizer="adam", beta2=0.98, post_ln=True, total_steps=200_000)
    assert rec.warmup_steps == 4000  # 2 / (1 - 0.98) = 100 is not enough for Post-LN
    r = _rules(rec)["post-ln"]
    assert "arXiv:2002.04745" in r.source and "arXiv:1706.03762" in r.source
    pre = recommend(optimizer="adam", beta2=0.98, post_ln=False, total_steps=200_000)
    assert pre.warmup_steps == 100 and "pre-ln" in _rules(pre)


# -- the cap, the measured LR, the decay --------------------------------------------------------------


def test_the_cap_is_a_share_of_the_run_and_says_so() -> None:
    rec = recommend(optimizer="adam", beta2=0.999, total_steps=5000)
    assert rec.warmup_steps == 500  # 2000 > 10% of 5000
    assert "cut from 2000 to 500" in _rules(rec)["cap"].decision
    rec = recommend(optimizer="adam", beta2=0.999, total_steps=5000, max_warmup_fraction=0.02)
    assert rec.warmup_steps == math.floor(0.02 * 5000)


def test_a_measured_lr_is_the_peak_and_a_given_lr_wins() -> None:
    rec = recommend(measured_lr=3e-3, total_steps=10_000)
    assert rec.peak_lr == 3e-3 and SOURCES["smith"] == _rules(rec)["peak lr"].source
    assert recommend(lr=1e-4, measured_lr=3e-3, total_steps=10_000).peak_lr == 1e-4


def test_wsd_decay_holds_then_cools_down() -> None:
    rec = recommend(total_steps=100_000, decay="wsd", floor_ratio=0.0)
    s = rec.schedule
    assert s(2000) == 1e-3 and s(2000 + 78_400 - 1) == 1e-3  # cooldown: the last 20% of the 98,000 after warmup
    assert s(100_000) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "exc", "name"),
    [
        ({"total_steps": 0}, ValueError, "total_steps"),
        ({"total_steps": 10, "beta2": 1.0}, ValueError, "beta2"),
        ({"total_steps": 10, "optimizer": "lion"}, ValueError, "optimizer"),
        ({"total_steps": 10, "lr": -1.0}, ValueError, "lr"),
        ({"total_steps": 10, "max_warmup_fraction": 0.0}, ValueError, "max_warmup_fraction"),
        ({"total_steps": 10, "batch_size": "big"}, TypeError, "batch_size"),
        ({"total_steps": 10, "decay": "step"}, ValueError, "decay"),
        ({"total_steps": 10, "post_ln": "yes"}, TypeError, "post_ln"),
    ],
)
def test_bad_input_names_the_parameter(kwargs: dict, exc: type, name: str) -> None:
    with pytest.raises(exc, match=name):
        recommend(**kwargs)


def test_demo_warmup_shows_the_choice_in_each_situation(tmp_path: pytest.TempPathFactory) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "warmup.png"  # type: ignore[operator]
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["demo", "--warmup", "-o", str(out), "--steps", "9000"]) == 0
    text = buf.getvalue()
    # 9000 steps, cap 10% = 900: Adam's 2000 and Post-LN's 4000 are cut to 900; Pre-LN's 100 stays
    assert "AdamW, beta2 0.999: 900 warmup updates" in text
    assert "Adam, beta2 0.98, Pre-LN: 100 warmup updates" in text
    assert "Adam, beta2 0.98, Post-LN: 900 warmup updates" in text
    assert "RAdam: 0 warmup updates" in text
    assert "SGD, 32x batch: 500 warmup updates" in text  # 5 epochs of 9000 // 90 = 100 updates
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
