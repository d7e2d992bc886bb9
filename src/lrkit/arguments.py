"""argparse integration: ``--lr-schedule SPEC`` and the seed's ``--lrepochs 10,12,14,16:2``.

::

    parser = argparse.ArgumentParser()
    lrkit.add_arguments(parser, lr=0.001)
    args = parser.parse_args()
    ...
    schedule = lrkit.schedule_from_args(args, steps_per_epoch=len(train_loader))

``--lr-schedule`` takes any spec (or a ``.json``/``.yaml``/``.toml`` file).
``--lrepochs EPOCHS:DIVISOR`` is the seed's convention and builds the seed's
``WarmupMultiStepLR``: ``warmup(multistep(lr, milestones, 1/DIVISOR),
steps=--lr-warmup, start_factor=--lr-warmup-factor, prefix=False)`` with the milestones
``EPOCH * steps_per_epoch`` (:func:`lrkit.parse_lrepochs`).  A malformed value
is an argparse error (usage message, exit code 2) at parse time; durations in
epochs or percent are resolved by :func:`schedule_from_args`, which knows the
loader's length.
"""

from __future__ import annotations

import argparse
from typing import Any

from .base import Schedule
from .composition import warmup
from .durations import parse_duration, parse_lrepochs
from .schedules import multistep
from .spec import as_schedule

__all__ = ["add_arguments", "schedule_from_args"]


def read_spec(text: str, key: str | None = None) -> Schedule:
    """A spec string, or a config file when ``text`` names a ``.json``/``.yaml``/``.toml`` file
    (``key`` picks a schedule nested in it): what :func:`lrkit.as_schedule` accepts as text."""
    return as_schedule(text.strip(), key=key)


def _spec_arg(text: str) -> Schedule:
    try:
        return read_spec(text)
    except (ValueError, OSError, ImportError) as exc:
        raise argparse.ArgumentTypeError(str(exc).splitlines()[0]) from None


def _lrepochs_arg(text: str) -> str:
    try:
        parse_lrepochs(text, steps_per_epoch=1)
    except (TypeError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _duration_arg(text: str) -> int | str:
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        parse_duration(text, "--lr-warmup")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _factor_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}")
    return value


def _lr_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value >= 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


class _Given(argparse.Action):
    """Store the value and record which option set the schedule (``args.lr_schedule_option``)."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: str | None = None
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.lr_schedule_option = self.option_strings[0]


def add_arguments(
    parser: argparse.ArgumentParser,
    *,
    default: str | Schedule | None = None,
    lr: float | None = None,
    lrepochs: str | None = None,
    warmup_steps: int | str = 500,
    warmup_factor: float = 1.0 / 3,
) -> argparse._ArgumentGroup:
    """Add the learning-rate schedule options to ``parser``; return their argument group.

    * ``--lr-schedule SPEC``: a spec such as ``'warmup(cosine(1e-3), steps=2000)'``
      or a config file (default ``default``);
    * ``--lrepochs EPOCHS:DIVISOR``: the seed's form (default ``lrepochs``), with
    * ``--lr LR`` the base learning rate (default ``lr``; an existing ``--lr``
      option of ``parser`` is reused rather than added twice),
    * ``--lr-warmup STEPS`` (default 500, the seed's ``warmup_iters``; a duration
      such as ``'1ep'`` works too) and ``--lr-warmup-factor`` (default 1/3).

    ``--lr-schedule`` and ``--lrepochs`` exclude each other on the command
    line; whichever is given wins over the defaults (at most one of ``default``
    and ``lrepochs`` may be set).  ``args.lr_schedule_option`` says which option
    was given (``None``: the default).  Read the result with
    :func:`schedule_from_args`.
    """
    if not isinstance(parser, argparse.ArgumentParser):
        raise TypeError(f"parser must be an argparse.ArgumentParser, got {parser!r}")
    if isinstance(default, str):
        default = read_spec(default)
    if lrepochs is not None:
        if default is not None:
            raise TypeError("give at most one of default= and lrepochs=: both set the schedule")
        _lrepochs_arg(lrepochs)
    parser.set_defaults(lr_schedule_option=None)
    group = parser.add_argument_group("learning-rate schedule (lrkit)")
    choice = group.add_mutually_exclusive_group()
    choice.add_argument(
        "--lr-schedule",
        action=_Given,
        metavar="SPEC",
        type=_spec_arg,
        default=default,
        help="the schedule as an lrkit spec, e.g. 'warmup(cosine(1e-3), steps=\"1ep\")', or a .json/.yaml/.toml file",
    )
    choice.add_argument(
        "--lrepochs",
        action=_Given,
        metavar="EPOCHS:DIVISOR",
        type=_lrepochs_arg,
        default=lrepochs,
        help="epochs at which to divide the LR, and the divisor, e.g. 10,12,14,16:2 "
        "(warmup then multistep decay from --lr)",
    )
    if "--lr" not in parser._option_string_actions:
        group.add_argument("--lr", type=_lr_arg, default=lr, help="base learning rate for --lrepochs")
    group.add_argument(
        "--lr-warmup",
        metavar="STEPS",
        type=_duration_arg,
        default=warmup_steps,
        help="linear warmup length for --lrepochs (steps, or a duration like 1ep; default %(default)s)",
    )
    group.add_argument(
        "--lr-warmup-factor",
        metavar="F",
        type=_factor_arg,
        default=warmup_factor,
        help="LR factor at step 0 of the warmup for --lrepochs (default %(default).4g)",
    )
    return group


def schedule_from_args(
    args: argparse.Namespace, *, steps_per_epoch: int | None = None, total_steps: int | None = None
) -> Schedule:
    """The schedule the parsed ``args`` ask for, resolved to whole steps.

    ``--lrepochs`` needs ``steps_per_epoch`` (the seed's ``len(train_loader)``)
    and a base LR; a spec with durations in epochs or percent needs
    ``steps_per_epoch`` / ``total_steps``.  Raises ``ValueError`` saying what is
    missing, and when neither option nor a default was given.
    """
    spec: Any = getattr(args, "lr_schedule", None)
    lrepochs = getattr(args, "lrepochs", None)
    given = getattr(args, "lr_schedule_option", None)
    if given == "--lrepochs":
        spec = None  # the command line wins over a default spec
    elif given == "--lr-schedule":
        lrepochs = None
    if spec is not None:
        schedule = read_spec(spec) if isinstance(spec, str) else spec
        if not isinstance(schedule, Schedule):
            raise TypeError(f"args.lr_schedule must be a spec or a schedule, got {spec!r}")
    elif lrepochs is not None:
        if steps_per_epoch is None:
            raise ValueError("--lrepochs is in epochs: pass steps_per_epoch (e.g. len(train_loader))")
        lr = getattr(args, "lr", None)
        if lr is None:
            raise ValueError("--lrepochs needs a base learning rate: pass --lr (or add_arguments(..., lr=...))")
        milestones, gamma = parse_lrepochs(lrepochs, steps_per_epoch)
        schedule = warmup(
            multistep(float(lr), milestones, gamma),
            steps=getattr(args, "lr_warmup", 500),
            start_factor=getattr(args, "lr_warmup_factor", 1.0 / 3),
            prefix=False,
        )
    else:
        raise ValueError("no learning-rate schedule: pass --lr-schedule SPEC or --lrepochs EPOCHS:DIVISOR")
    return schedule.resolve(steps_per_epoch=steps_per_epoch, total_steps=total_steps)
