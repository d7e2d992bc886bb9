"""argparse integration: ``--lr-schedule SPEC`` and the seed's ``--lrepochs 10,12,14,16:2``."""

from __future__ import annotations

import argparse
from bisect import bisect_right
from pathlib import Path

import pytest

import lrkit


def seed_schedule(lrepochs: str, base_lr: float, steps_per_epoch: int):
    """The seed's train(): milestones from --lrepochs and len(train_loader), then WarmupMultiStepLR.get_lr."""
    milestones = [steps_per_epoch * int(epoch_idx) for epoch_idx in lrepochs.split(":")[0].split(",")]
    lr_gamma = 1 / float(lrepochs.split(":")[1])

    def get_lr(last_epoch: int) -> float:
        warmup_factor = 1
        if last_epoch < 500:  # warmup_iters=500, warmup_method="linear", warmup_factor=1/3
            alpha = float(last_epoch) / 500
            warmup_factor = 1.0 / 3 * (1 - alpha) + alpha
        return base_lr * warmup_factor * lr_gamma ** bisect_right(milestones, last_epoch)

    return get_lr


def make_parser(**kwargs) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="train")
    lrkit.add_arguments(parser, **kwargs)
    return parser


def test_lrepochs_is_the_seeds_warmup_multistep() -> None:
    args = make_parser().parse_args(["--lrepochs", "10,12,14,16:2", "--lr", "0.001"])
    assert args.lr_schedule_option == "--lrepochs"
    s = lrkit.schedule_from_args(args, steps_per_epoch=1000)
    seed = seed_schedule("10,12,14,16:2", 0.001, 1000)
    # every boundary of the seed's schedule: warmup 0/1/499/500, milestones 10000..16000 at b-1, b, b+1
    probes = [0, 1, 250, 499, 500, 501, *(b + d for b in (10000, 12000, 14000, 16000) for d in (-1, 0, 1)), 10**6]
    assert [s(t) for t in probes] == pytest.approx([seed(t) for t in probes], rel=1e-15, abs=0)


def test_seed_default_and_warmup_options() -> None:
    parser = make_parser(lrepochs="10,12,14,16:2", lr=0.01)
    args = parser.parse_args([])
    assert args.lr_schedule_option is None
    s = lrkit.schedule_from_args(args, steps_per_epoch=100)
    seed = seed_schedule("10,12,14,16:2", 0.01, 100)
    assert [s(t) for t in (0, 499, 500, 999, 1000, 1600)] == pytest.approx(
        [seed(t) for t in (0, 499, 500, 999, 1000, 1600)], rel=1e-15
    )
    # --lr-warmup in epochs and --lr-warmup-factor: 2 epochs of 100 steps from 0.5 * lr
    args = parser.parse_args(["--lr-warmup", "2ep", "--lr-warmup-factor", "0.5"])
    s = lrkit.schedule_from_args(args, steps_per_epoch=100)
    assert s(0) == pytest.approx(0.005) and s(100) == pytest.approx(0.01 * (0.5 * 0.5 + 0.5)) and s(200) == 0.01


def test_lr_schedule_spec_and_durations() -> None:
    args = make_parser().parse_args(["--lr-schedule", "warmup(cosine(1e-3, steps='100%'), steps='1ep', prefix=False)"])
    assert args.lr_schedule_option == "--lr-schedule"
    s = lrkit.schedule_from_args(args, steps_per_epoch=50, total_steps=1000)
    assert s == lrkit.warmup(lrkit.cosine(1e-3, 1000), steps=50, prefix=False)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        lrkit.schedule_from_args(args, total_steps=1000)


def test_lr_schedule_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "lr.toml"
    lrkit.save(lrkit.noam(512, warmup_steps=8000), path)
    args = make_parser().parse_args(["--lr-schedule", str(path)])
    assert lrkit.schedule_from_args(args) == lrkit.noam(512, warmup_steps=8000)


def test_command_line_wins_over_defaults() -> None:
    parser = make_parser(default="cosine(0.1, steps=100)")
    assert lrkit.schedule_from_args(parser.parse_args([])) == lrkit.cosine(0.1, 100)
    args = parser.parse_args(["--lrepochs", "1:10", "--lr", "0.1", "--lr-warmup", "0"])
    # epoch 1 at 10 steps/epoch: 0.1 until step 9, 0.1 / 10 from step 10
    s = lrkit.schedule_from_args(args, steps_per_epoch=10)
    assert (s(9), s(10)) == (0.1, pytest.approx(0.01))
    parser = make_parser(lrepochs="1:10", lr=0.1)
    args = parser.parse_args(["--lr-schedule", "constant(0.5)"])
    assert lrkit.schedule_from_args(args, steps_per_epoch=10) == lrkit.constant(0.5)


def test_existing_lr_option_is_reused() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.2)
    lrkit.add_arguments(parser)
    args = parser.parse_args(["--lrepochs", "2:4", "--lr-warmup", "0"])
    s = lrkit.schedule_from_args(args, steps_per_epoch=5)
    assert (s(9), s(10)) == (0.2, pytest.approx(0.05))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--lr-schedule", "cosin(1, 2)"], "unknown schedule 'cosin'"),
        (["--lr-schedule", "missing.json"], "no such schedule file"),
        (["--lrepochs", "10,12"], "lrepochs must look like"),
        (["--lrepochs", "10,x:2"], "integers"),
        (["--lrepochs", "12,10:2"], "non-decreasing"),
        (["--lrepochs", "10:0"], "positive"),
        (["--lrepochs", "10:2", "--lr-schedule", "constant(1)"], "not allowed with argument"),
        (["--lr", "-1"], "finite number >= 0"),
        (["--lr-warmup-factor", "2"], "in [0, 1]"),
        (["--lr-warmup", "ten"], "duration"),
    ],
)
def test_bad_arguments_are_argparse_errors(argv, message, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        make_parser().parse_args(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_pieces_name_what_is_missing() -> None:
    parser = make_parser()
    with pytest.raises(ValueError, match="no learning-rate schedule"):
        lrkit.schedule_from_args(parser.parse_args([]))
    with pytest.raises(ValueError, match="steps_per_epoch"):
        lrkit.schedule_from_args(parser.parse_args(["--lrepochs", "10:2", "--lr", "0.1"]))
    with pytest.raises(ValueError, match="base learning rate"):
        lrkit.schedule_from_args(parser.parse_args(["--lrepochs", "10:2"]), steps_per_epoch=10)
    with pytest.raises(TypeError, match="at most one of default= and lrepochs="):
        make_parser(default="constant(1)", lrepochs="10:2")
    with pytest.raises(lrkit.SpecError):
        make_parser(default="constant(")
    with pytest.raises(TypeError, match="ArgumentParser"):
        lrkit.add_arguments(object())  # type: ignore[arg-type]
