"""A schedule the tracer must refuse, shared by the tests of every fast path (scalar and torch plan).

Defined once, in a module that is not a test module: a ``Schedule`` subclass registers its
``spec_name``, and a test module imported both by pytest and by another test module would
register it twice.
"""

from __future__ import annotations

from typing import Any

from lrkit._backend import Namespace
from lrkit.base import Schedule


class eq_on_step_for_tests(Schedule):
    """``0`` at step 0, then ``value``: ``==`` on the step cannot be traced."""

    spec_name = "eq_on_step_for_tests"

    def __init__(self, value: float) -> None:
        self._init(value=float(value))

    def _eval(self, t: Any, xp: Namespace) -> Any:
        return xp.where(t == 0, 0.0, self.value)
