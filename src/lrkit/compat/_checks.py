"""Old home of the compat validators: they live in :mod:`lrkit.validators` now, shared with the core.

Kept as a shim so that ``from lrkit.compat._checks import whole_steps`` keeps working.
"""

from __future__ import annotations

from typing import Any

from ..validators import bounded, flag, whole_steps
from ..validators import real as number

__all__ = ["flag", "nonnegative", "number", "unit_interval", "whole_steps"]


def nonnegative(name: str, value: Any, peer: str) -> float:
    """A number ``>= 0``; below it, ``peer`` accepts it and yields a negative learning rate."""
    return bounded(name, value, low=0, what_peer_does=f"{peer} accepts it and yields a negative learning rate")


def unit_interval(name: str, value: Any, what_peer_does: str) -> float:
    """A number in ``[0, 1]``."""
    return bounded(name, value, low=0, high=1, what_peer_does=what_peer_does)
