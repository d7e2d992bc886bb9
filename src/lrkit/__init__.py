"""lrkit: learning-rate schedules, warmup first.

Define a schedule once as a pure function of the step, compose it (warmup
around anything, joins, products), evaluate it on floats, NumPy, torch or jax,
see it (:func:`plot`, ``lrkit demo``) and store it as plain data.

``import lrkit`` needs only NumPy.  The framework adapters are imported on
first use: ``lrkit.torch`` (PyTorch), ``lrkit.keras`` (Keras 3), and the peer
presets ``lrkit.compat.<peer>`` (Keras', optax's and Hugging Face's names).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .base import REGISTRY, Schedule
from .composition import WARMUP_METHODS, clip, join, multiplier, product, remap, scale, shift, staircase, warmup
from .durations import parse_duration, parse_lrepochs, resolve_duration
from .recommend import Recommendation, recommend  # after `lrkit.recommend` the module, the name is the function
from .schedules import (
    constant,
    cosine,
    cosine_restarts,
    cyclic,
    exponential,
    inverse_power,
    inverse_sqrt,
    inverse_time,
    linear,
    multistep,
    noam,
    one_cycle,
    piecewise_constant,
    piecewise_interpolate,
    polynomial,
    radam_warmup,
    ramp,
    step,
    tanh,
    wsd,
)

__version__ = "0.2.0"

__all__ = [
    "REGISTRY",
    "WARMUP_METHODS",
    "Plateau",
    "Recommendation",
    "Schedule",
    "SpecError",
    "__version__",
    "add_arguments",
    "as_schedule",
    "clip",
    "constant",
    "cosine",
    "cosine_restarts",
    "cyclic",
    "dumps",
    "exponential",
    "from_dict",
    "inverse_power",
    "inverse_sqrt",
    "inverse_time",
    "join",
    "linear",
    "load",
    "loads",
    "multiplier",
    "multistep",
    "noam",
    "one_cycle",
    "parse",
    "parse_duration",
    "parse_lrepochs",
    "piecewise_constant",
    "piecewise_interpolate",
    "plot",
    "polynomial",
    "product",
    "radam_warmup",
    "ramp",
    "recommend",
    "remap",
    "resolve_duration",
    "save",
    "scale",
    "schedule_from_args",
    "shift",
    "staircase",
    "step",
    "tanh",
    "warmup",
    "wsd",
]

if TYPE_CHECKING:
    from .arguments import add_arguments, schedule_from_args
    from .plateau import Plateau
    from .plotting import plot
    from .spec import SpecError, as_schedule, dumps, from_dict, load, loads, parse, save

_LAZY_MODULES = {"torch", "keras", "optax", "compat", "plotting", "cli", "arguments", "terminal", "spec", "plateau"}
# Names whose module loads on first use.  argparse integration is a face module: argparse loads only
# when it is used.  The spec reader/writer and Plateau are core, but most programs build schedules in
# Python and never parse one: deferring them keeps `import lrkit` close to `import numpy` (see
# benchmarks/bench_import.py).  None of these names equals its module's name, so loading the module
# (which binds `lrkit.spec`, `lrkit.plateau` on the package) never shadows the name.
_LAZY_FUNCTIONS = {
    "add_arguments": "arguments",
    "schedule_from_args": "arguments",
    "Plateau": "plateau",
    **{name: "spec" for name in ("SpecError", "as_schedule", "dumps", "from_dict", "load", "loads", "parse", "save")},
}


def __getattr__(name: str) -> Any:
    # Framework adapters and matplotlib load on first use, never at import.
    if name == "plot":
        # the module is lrkit.plotting, so that lrkit.plot stays this function
        from .plotting import plot

        return plot
    if name in _LAZY_FUNCTIONS:
        value = getattr(importlib.import_module(f".{_LAZY_FUNCTIONS[name]}", __name__), name)
        globals()[name] = value  # later reads are plain attribute reads
        return value
    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lrkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazy names are part of the API: tab completion and dir() show them before first use
    return sorted({*globals(), *__all__, *_LAZY_MODULES})
