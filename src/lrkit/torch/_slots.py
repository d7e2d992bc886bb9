"""Group slot access: reading and writing the driven hyperparameter of a param group.

This is the only module that knows the shapes a param group's value can take:

* a Python number (``group["lr"] = 0.1``): replaced;
* a ``torch.Tensor`` (``lr=torch.tensor(1e-3)``, for ``torch.compile``): written
  in place (``fill_``/``copy_``), never replaced, so a compiled optimizer step
  keeps its graph;
* an element of a tuple (Adam's ``betas``, addressed as ``"betas[1]"``): the
  tuple is rebuilt with the new element, or the element tensor is written in place.

The scheduler's one-group hot path writes ``group[key] = v`` itself for a plain
float with no index (the common case); everything else goes through :class:`Slot`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, MutableMapping
from typing import Any

import torch


def to_float(value: Any) -> float:
    """A Python float from a number or a one-element tensor."""
    return float(value.item()) if isinstance(value, torch.Tensor) else float(value)


class Slot:
    """Where the driven value lives in a param group: ``group[key]`` or ``group[key][index]``.

    Built by :meth:`parse` from a ``hyperparam`` string: ``"lr"`` ->
    ``group["lr"]``; ``"betas"`` -> ``group["betas"][0]`` (Adam's beta1);
    ``"betas[1]"`` -> ``group["betas"][1]``.  The base (initial) value lives
    at the same place under ``"initial_<key>"`` (torch's ``initial_lr`` rule).
    """

    __slots__ = ("base_key", "index", "key", "name")

    def __init__(self, name: str, key: str, index: int | None) -> None:
        self.name = name
        self.key = key
        self.index = index
        self.base_key = f"initial_{key}"

    @classmethod
    def parse(cls, hyperparam: Any) -> Slot:
        if not isinstance(hyperparam, str) or not hyperparam:
            raise TypeError(f"hyperparam must be a param-group key such as 'lr' or 'momentum', got {hyperparam!r}")
        if hyperparam == "betas":
            return cls(hyperparam, "betas", 0)
        if hyperparam.endswith("]") and "[" in hyperparam:
            key, _, index = hyperparam[:-1].partition("[")
            if not index.isdigit():
                raise ValueError(f"hyperparam index must be a non-negative int like 'betas[1]', got {hyperparam!r}")
            return cls(hyperparam, key, int(index))
        return cls(hyperparam, hyperparam, None)

    # -- checks ----------------------------------------------------------------
    def check(self, i: int, group: Mapping[str, Any]) -> None:
        """``ValueError`` naming ``param_groups[i]`` unless it holds a numeric value at this slot."""
        if self.key not in group:
            hint = " (for Adam-style optimizers use hyperparam='betas' for beta1)" if self.key == "momentum" else ""
            keys = sorted(k for k in group if k != "params")
            raise ValueError(f"param_groups[{i}] has no {self.key!r}{hint}; its keys are {keys}")
        cur = group[self.key]
        if self.index is not None:
            if not isinstance(cur, (tuple, list)) or self.index >= len(cur):
                raise ValueError(f"hyperparam {self.name!r}: param_groups[{i}][{self.key!r}] is {cur!r}")
            cur = cur[self.index]
        if not (isinstance(cur, torch.Tensor) or (isinstance(cur, numbers.Real) and not isinstance(cur, bool))):
            raise ValueError(f"hyperparam {self.name!r} must be numeric in param_groups[{i}], got {cur!r}")

    # -- reading ---------------------------------------------------------------
    def read(self, group: Mapping[str, Any]) -> Any:
        """The current value as stored (a number or a tensor)."""
        cur = group[self.key]
        return cur if self.index is None else cur[self.index]

    def has_base(self, group: Mapping[str, Any]) -> bool:
        return self.base_key in group

    def read_base(self, group: Mapping[str, Any]) -> float:
        """The group's base value (``group["initial_<key>"]``, at the index) as a float."""
        initial = group[self.base_key]
        return to_float(initial if self.index is None else initial[self.index])

    # -- writing ---------------------------------------------------------------
    def write(self, group: MutableMapping[str, Any], value: float) -> None:
        """Write ``value``: tensors in place, numbers replaced, tuple elements by rebuilding the tuple."""
        key, index = self.key, self.index
        cur = group[key]
        if index is None:
            if isinstance(cur, torch.Tensor):
                cur.fill_(value)
            else:
                group[key] = value
            return
        item = cur[index]
        if isinstance(item, torch.Tensor):
            item.fill_(value)
        else:
            group[key] = (*cur[:index], value, *cur[index + 1 :])

    def write_tensor(self, group: Mapping[str, Any], value: torch.Tensor) -> None:
        """Copy a tensor into a tensor slot (no host sync; for captured CUDA graphs)."""
        self.read(group).copy_(value)

    def remember_base(self, group: MutableMapping[str, Any]) -> None:
        """Store the current value as the group's base unless it has one (torch's ``setdefault('initial_lr')``).

        Tensors are cloned: the slot itself is written in place later, and the base must not move with it.
        """
        initial = group[self.key]
        if isinstance(initial, torch.Tensor):
            initial = initial.clone()
        elif isinstance(initial, tuple):
            initial = tuple(x.clone() if isinstance(x, torch.Tensor) else x for x in initial)
        group.setdefault(self.base_key, initial)

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"
