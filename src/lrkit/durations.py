"""Durations: how long a phase lasts, in steps, epochs or a share of training.

A duration is either a plain ``int`` (optimizer steps) or a string:

========== ==========================================
``'500st'`` 500 steps
``'10ep'``  10 epochs (needs ``steps_per_epoch``)
``'5%'``    5 percent of the total (needs ``total_steps``)
``'0.05dur'`` the same, as a fraction of the total
========== ==========================================

Resolving turns every duration into steps with one rounding rule: the exact
product is rounded to the nearest integer, halves rounded up
(``floor(x + 0.5)``), so ``'2.5ep'`` at 3 steps per epoch is 8 steps.
Products that are already whole (``'10ep'`` at 1000 steps/epoch) are exact.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Union

Duration = Union[int, str]

# ASCII digits only (re.ASCII): '\d' would also take e.g. Arabic-Indic digits.
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*(st|ep|%|dur)\s*$", re.ASCII)
# Fraction('1e999999999') would compute 10**999999999 (minutes): bound the text first.
_MAX_NUMBER_CHARS = 40
_MAX_EXPONENT = 99
_UNITS = ("st", "ep", "%", "dur")

if TYPE_CHECKING:
    from fractions import Fraction

__all__ = ["Duration", "is_duration_string", "parse_duration", "parse_lrepochs", "resolve_duration"]


def parse_duration(text: str, name: str = "duration") -> tuple[Fraction, str]:
    """Split ``'10ep'`` into ``(Fraction(10), 'ep')``; raise ``ValueError`` if malformed."""
    m = _DURATION_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(
            f"{name} must be an int number of steps or a duration like '500st', '10ep', '5%' or '0.05dur', got {text!r}"
        )
    unit = m.group(3)
    number = text.strip()[: -len(unit)].strip()
    if len(number) > _MAX_NUMBER_CHARS or (m.group(2) is not None and abs(int(m.group(2))) > _MAX_EXPONENT):
        raise ValueError(f"{name} has an unreasonably long or large number, got {text[:60]!r}")
    from fractions import Fraction  # exact duration arithmetic; imported on first use (import lrkit stays light)

    amount = Fraction(number)
    if unit == "st" and amount.denominator != 1:
        raise ValueError(f"{name} in steps must be a whole number, got {text!r}")
    if unit == "%" and amount > 100:
        raise ValueError(f"{name} must be at most 100% of the total, got {text!r}")
    if unit == "dur" and amount > 1:
        raise ValueError(f"{name} must be at most 1dur (the whole run), got {text!r}")
    return amount, unit


def is_duration_string(value: object) -> bool:
    return isinstance(value, str) and _DURATION_RE.match(value) is not None


def resolve_duration(
    value: Duration,
    *,
    steps_per_epoch: int | None = None,
    total_steps: int | None = None,
    name: str = "duration",
) -> int:
    """Turn a duration into a whole number of steps (rounding: nearest, halves up).

    ``steps_per_epoch`` and ``total_steps``, when given, must be positive ints (``ValueError``
    naming them otherwise, whatever the unit of ``value``).
    """
    for what, given in (("steps_per_epoch", steps_per_epoch), ("total_steps", total_steps)):
        if given is not None and (isinstance(given, bool) or not isinstance(given, int) or given < 1):
            raise ValueError(f"{what} must be a positive int, got {given!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    amount, unit = parse_duration(value, name)
    if unit == "st":
        return int(amount)
    if unit == "ep":
        if steps_per_epoch is None:
            raise ValueError(f"{name}={value!r} is in epochs: pass steps_per_epoch to resolve() it")
        exact = amount * steps_per_epoch
    else:
        if total_steps is None:
            raise ValueError(f"{name}={value!r} is a share of training: pass total_steps to resolve() it")
        exact = amount * total_steps / (100 if unit == "%" else 1)
    from fractions import Fraction

    return math.floor(exact + Fraction(1, 2))


def parse_lrepochs(spec: str, steps_per_epoch: int) -> tuple[list[int], float]:
    """Parse the seed's ``--lrepochs "10,12,14,16:2"`` convention.

    The part before ``:`` lists the epochs at which the LR is divided, the part
    after is the divisor, a finite number ``>= 1`` (dividing by less than 1 would
    raise the LR, which ``multistep`` refuses as ``gamma > 1``).  Epochs become step milestones by multiplying with
    ``steps_per_epoch`` (``len(train_loader)``); the divisor becomes
    ``gamma = 1 / divisor``::

        >>> parse_lrepochs("10,12,14,16:2", steps_per_epoch=1000)
        ([10000, 12000, 14000, 16000], 0.5)
    """
    if not isinstance(spec, str):
        raise TypeError(f"lrepochs must be a string like '10,12,14,16:2', got {spec!r}")
    if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be a positive int, got {steps_per_epoch!r}")
    epochs_part, sep, divisor_part = spec.partition(":")
    if not sep or not epochs_part.strip() or not divisor_part.strip():
        raise ValueError(f"lrepochs must look like 'EPOCH,EPOCH,...:DIVISOR' (e.g. '10,12,14,16:2'), got {spec!r}")
    try:
        epochs = [int(e) for e in epochs_part.split(",")]
    except ValueError:
        raise ValueError(f"lrepochs epochs must be integers separated by commas, got {epochs_part!r}") from None
    try:
        divisor = float(divisor_part)
    except ValueError:
        raise ValueError(f"lrepochs divisor must be a number, got {divisor_part!r}") from None
    if not math.isfinite(divisor) or divisor < 1:
        raise ValueError(
            f"lrepochs divisor must be a positive number >= 1, finite (the LR is divided by it at each epoch), "
            f"got {divisor_part.strip()[:40]!r}"
        )
    if any(e < 0 for e in epochs):
        raise ValueError(f"lrepochs epochs must be >= 0, got {epochs}")
    if epochs != sorted(epochs):
        raise ValueError(f"lrepochs epochs must be non-decreasing, got {epochs}")
    return [steps_per_epoch * e for e in epochs], 1.0 / divisor
