"""Validators shared by the compat modules.

Each names the peer's own parameter and the value, and where the peer would
accept the value, says what the peer does with it (so the user learns why
lrkit refuses what their old code passed silently).
"""

from __future__ import annotations

import numbers
from typing import Any

from ..base import flag, real

__all__ = ["flag", "nonnegative", "number", "unit_interval", "whole_steps"]


def number(name: str, value: Any) -> float:
    """A finite real number (``TypeError`` for bools, strings and non-numbers)."""
    return real(name, value)


def nonnegative(name: str, value: Any, peer: str) -> float:
    out = number(name, value)
    if out < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r} ({peer} accepts it and yields a negative learning rate)")
    return out


def unit_interval(name: str, value: Any, what_peer_does: str) -> float:
    out = number(name, value)
    if not 0.0 <= out <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r} ({what_peer_does})")
    return out


def whole_steps(name: str, value: Any, *, peer: str, minimum: int = 0, what_peer_does: str = "") -> int:
    """A whole number of steps ``>= minimum``; below it, say what the peer would do."""
    if isinstance(value, (str, bool)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number of steps, got {value!r}")
    out = number(name, value)
    if not out.is_integer():
        raise ValueError(
            f"{name} must be a whole number of steps, got {value!r} "
            f"({peer} accepts fractional steps; lrkit counts whole optimizer updates)"
        )
    if out < minimum:
        note = f" ({what_peer_does})" if what_peer_does else ""
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}{note}")
    return int(out)
