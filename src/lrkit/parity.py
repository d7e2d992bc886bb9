"""Proof of parity: train a tiny model in each framework and check the LR of every update against ``s(k)``.

The one implementation behind ``lrkit compare SPEC --frameworks ...``,
``examples/parity.py`` and ``tests/test_parity.py``.

**What is measured.**  Each framework trains the same tiny model for ``steps``
updates: a table of ``steps`` scalars (an ``Embedding(steps, 1)`` in torch and
Keras, a vector indexed by ``k`` in optax), all zero, trained by plain SGD
where update ``k`` reads entry ``k`` only, with a loss whose gradient with
respect to that entry is exactly 1.  SGD then writes ``w[k] = 0 - lr_k * 1``,
which float32 holds exactly, so after training ``-w[k]`` *is* the float32 LR
that update ``k`` applied: what the optimizer really used, read once at the
end, whatever the framework compiled -- not what a scheduler reported.

* ``torch``: ``lrkit.torch.Scheduler(opt, lr=s)``, ``scheduler.step()`` after each update.
* ``keras-jax``, ``keras-torch``: ``lrkit.keras.LearningRateSchedule(s)`` in
  ``model.fit(..., batch_size=1)`` with ``jit_compile=True``, one subprocess per
  backend (Keras picks its backend once per process); started first, they run
  while torch and optax train in this process.
* ``optax``: ``lrkit.optax.inject_hyperparams(optax.sgd)(learning_rate=s)`` in a
  jitted step; :func:`lrkit.optax.current_lr` (what a loop logs) must agree with
  the weights.

**The check.**  The expectation is ``s(np.arange(steps))`` in NumPy float64 (or
another schedule's, ``expected=``).  A framework passes when
``max_k |lr_k - s(k)| <= max_ulps * ulp``, where ``ulp = np.spacing(np.float32(peak))``
is the float32 spacing at the peak ``max_k |s(k)|`` of the expectation (for a
peak of 0.01, ``ulp = 2**-30 ≈ 9.31e-10``).  The default ``max_ulps = 4`` is
float32 precision: torch and Keras-on-torch compute in float64 and round once
(≤ 0.5 ulp), jax without x64 computes in float32 (measured ≤ 1.5 ulps).

A framework that is not installed is *skipped* (its row says which package is
missing); one that raises is an *error* (its row has the message).  Frameworks
are imported only here, on first use: ``import lrkit`` imports none of them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._phases import fmt
from .base import Schedule
from .spec import as_schedule
from .terminal import table

__all__ = [
    "DEFAULT_MAX_ULPS",
    "DEFAULT_STEPS",
    "FRAMEWORKS",
    "MAX_STEPS",
    "FrameworkResult",
    "Report",
    "check",
    "parse_frameworks",
    "summary",
]

#: the frameworks, in the order they are reported
FRAMEWORKS = ("torch", "keras-jax", "keras-torch", "optax")
#: float32 precision of an LR, in float32 ulps of the schedule's peak
DEFAULT_MAX_ULPS = 4.0
#: the most updates one run trains (each framework trains a table of ``steps`` floats, one update per step)
MAX_STEPS = 100_000
#: the updates ``lrkit compare --frameworks`` trains when neither ``--steps`` nor ``--total`` is given
#: (Keras fits one batch per update, milliseconds each: 4000 updates took 3 minutes on 2 busy cores)
DEFAULT_STEPS = 1000
#: what each framework needs installed (import names)
_NEEDS = {
    "torch": ("torch",),
    "keras-jax": ("keras", "jax"),
    "keras-torch": ("keras", "torch"),
    "optax": ("jax", "optax"),
}
#: the marker of the Keras child's result line on its stdout (Keras or a backend may print other lines)
_RESULT = "LRKIT_PARITY "


# -- the frameworks ------------------------------------------------------------------------------------


def parse_frameworks(text: str | Sequence[str]) -> tuple[str, ...]:
    """Framework names from ``"torch,optax"``, ``"all"`` or a sequence: known, in :data:`FRAMEWORKS` order, once."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else [str(n) for n in text]
    if "all" in names:
        names = [n for n in names if n != "all"] + list(FRAMEWORKS)
    unknown = [n for n in names if n not in FRAMEWORKS]
    if unknown or not names:
        raise ValueError(f"frameworks must be among {', '.join(FRAMEWORKS)} (or all), got {text!r}")
    return tuple(n for n in FRAMEWORKS if n in names)


def _missing(framework: str) -> str | None:
    """The first package ``framework`` needs that is not installed, or None."""
    for name in _NEEDS[framework]:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):  # a broken or half-imported package counts as missing
            return name
    return None


def _torch(schedule: Schedule, n: int) -> np.ndarray:
    import torch

    import lrkit.torch

    table_ = torch.nn.Embedding(n, 1)
    torch.nn.init.zeros_(table_.weight)
    opt = torch.optim.SGD(table_.parameters(), lr=0.0)
    scheduler = lrkit.torch.Scheduler(opt, lr=schedule)
    for k in range(n):
        opt.zero_grad()
        table_(torch.tensor([k])).sum().backward()  # d loss / d w[k] = 1, every other entry 0
        opt.step()
        scheduler.step()
    return 0.0 - table_.weight.detach().double().numpy()[:, 0]  # 0.0 - w: no -0.0 for an LR of 0


def _optax(schedule: Schedule, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The LR each update applied (from the weights), and what ``lrkit.optax.current_lr`` logged after it."""
    import jax
    import jax.numpy as jnp
    import optax

    import lrkit.optax

    opt = lrkit.optax.inject_hyperparams(optax.sgd)(learning_rate=schedule)
    w = jnp.zeros(n, jnp.float32)
    state = opt.init(w)

    @jax.jit
    def train_step(w: Any, state: Any, k: Any) -> Any:
        grads = jax.grad(lambda w: w[k])(w)  # the one-hot e_k
        updates, state = opt.update(grads, state, w)
        return optax.apply_updates(w, updates), state

    logged = np.empty(n)
    for k in range(n):
        w, state = train_step(w, state, jnp.int32(k))
        logged[k] = lrkit.optax.current_lr(state)  # what a training loop would log
    return 0.0 - np.asarray(w, dtype=np.float64), logged


def _keras_child_main() -> None:  # pragma: no cover - runs in the Keras subprocess
    """Train on the backend ``KERAS_BACKEND`` names; print the LR of every update as one JSON line."""
    args = json.loads(sys.argv[1])
    import keras

    import lrkit.keras

    n = args["steps"]
    model = keras.Sequential(
        [keras.Input((), dtype="int32"), keras.layers.Embedding(n, 1, embeddings_initializer="zeros")]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lrkit.keras.LearningRateSchedule(args["schedule"])),
        # Targets of -1 below predictions that are 0 when their entry is read: d loss / d y_pred is exactly 1.
        loss="mean_absolute_error",
        jit_compile=True,
    )
    x = np.arange(n, dtype="int32")
    model.fit(x, np.full((n, 1), -1.0, "float32"), batch_size=1, epochs=1, shuffle=False, verbose=0)
    table_ = keras.ops.convert_to_numpy(model.layers[0].embeddings)[:, 0]
    print(_RESULT + json.dumps([0.0 - float(v) for v in table_]), flush=True)


def _start_keras(schedule: Schedule, n: int, backend: str) -> subprocess.Popen[str]:
    env = {**os.environ, "KERAS_BACKEND": backend}
    code = "from lrkit.parity import _keras_child_main; _keras_child_main()"
    payload = json.dumps({"schedule": schedule.to_dict(), "steps": n})
    return subprocess.Popen(
        [sys.executable, "-c", code, payload],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _collect_keras(child: subprocess.Popen[str], framework: str) -> np.ndarray:
    stdout, stderr = child.communicate()
    lines = [line for line in stdout.splitlines() if line.startswith(_RESULT)]
    if child.returncode != 0 or not lines:
        last = [line for line in stderr.strip().splitlines() if line.strip()]
        raise RuntimeError(f"{framework} exited with code {child.returncode}: {last[-1] if last else 'no message'}")
    return np.asarray(json.loads(lines[-1][len(_RESULT) :]), dtype=np.float64)


# -- the check -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameworkResult:
    """One framework's row: ``status`` is ``"pass"``, ``"FAIL"``, ``"error"`` or ``"skipped"``."""

    framework: str
    status: str
    lrs: np.ndarray | None = field(default=None, repr=False)
    #: ``max_k |lrs[k] - s(k)|`` in float32 ulps of the peak (inf when an LR is NaN)
    max_ulps: float | None = None
    #: the first update with the largest difference
    worst_step: int | None = None
    #: why it was skipped, or the error's message
    reason: str = ""

    @property
    def updates(self) -> int:
        return 0 if self.lrs is None else len(self.lrs)


@dataclass(frozen=True)
class Report:
    """The result of :func:`check`: one :class:`FrameworkResult` per framework, in :data:`FRAMEWORKS` order."""

    schedule: Schedule
    expected_schedule: Schedule
    steps: int
    expected: np.ndarray = field(repr=False)
    max_ulps: float
    results: tuple[FrameworkResult, ...]

    @property
    def peak(self) -> float:
        return float(np.max(np.abs(self.expected)))

    @property
    def ulp(self) -> float:
        """``np.spacing(np.float32(peak))``: one float32 ulp at the peak of the expectation."""
        return float(np.spacing(np.float32(self.peak)))

    @property
    def ran(self) -> tuple[FrameworkResult, ...]:
        return tuple(r for r in self.results if r.status != "skipped")

    @property
    def ok(self) -> bool:
        """True when at least one framework ran and every one that ran passed."""
        return bool(self.ran) and all(r.status == "pass" for r in self.ran)

    def table(self) -> str:
        """One row per framework: updates, max difference in ulps, worst step, its LR and s(k), the result."""
        rows = []
        for r in self.results:
            if r.lrs is None or r.max_ulps is None or r.worst_step is None:
                rows.append([r.framework, "-", "-", "-", "-", "-", f"{r.status}: {r.reason}"])
                continue
            k = r.worst_step
            rows.append(
                [
                    r.framework,
                    r.updates,
                    f"{r.max_ulps:.2f}",
                    k,
                    f"{float(r.lrs[k]):.9g}",
                    f"{float(self.expected[k]):.9g}",
                    r.status,
                ]
            )
        heads = ["framework", "updates", "max |lr - s(k)| (ulps)", "worst step", "lr applied", "s(k)", "result"]
        return table(rows, heads)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON): the schedules, the tolerance, ``s(k)`` and every framework's applied LRs."""
        out: dict[str, Any] = {
            "schedule": repr(self.schedule),
            "expected_schedule": repr(self.expected_schedule),
            "steps": self.steps,
            "peak": self.peak,
            "ulp": self.ulp,
            "max_ulps": self.max_ulps,
            "ok": self.ok,
            "s": self.expected.tolist(),
            "frameworks": {},
        }
        for r in self.results:
            entry: dict[str, Any] = {"status": r.status}
            if r.reason:
                entry["reason"] = r.reason
            if r.lrs is not None and r.max_ulps is not None:
                entry.update(max_ulps=r.max_ulps if math.isfinite(r.max_ulps) else None, worst_step=r.worst_step)
                entry["lr"] = [v if math.isfinite(v) else None for v in r.lrs.tolist()]
            out["frameworks"][r.framework] = entry
        return out


def _learning_rate(obj: Any) -> Schedule:
    s = as_schedule(obj)
    if not s.is_resolved:
        raise ValueError(
            f"{s!r} has durations in epochs or percent: resolve it first (or give --total/--steps-per-epoch)"
        )
    if s.is_multiplier:
        raise ValueError(f"{s!r} is a multiplier (factors of a base LR): scale it to a learning rate first")
    return s


def _steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 1 to {MAX_STEPS} (one update per step), got {steps!r}")
    return int(steps)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


def _result(framework: str, lrs: np.ndarray, expected: np.ndarray, ulp: float, max_ulps: float) -> FrameworkResult:
    if lrs.shape != expected.shape:
        return FrameworkResult(framework, "error", reason=f"recorded {lrs.shape} LRs for {expected.shape} updates")
    diff = np.abs(lrs - expected)
    diff = np.where(np.isnan(diff), np.inf, diff)  # a NaN LR is the worst possible difference
    k = int(np.argmax(diff))
    ulps = float(diff[k] / ulp)
    return FrameworkResult(framework, "pass" if ulps <= max_ulps else "FAIL", lrs, ulps, k)


@contextlib.contextmanager
def _reaped(children: dict[str, subprocess.Popen[str]]) -> Iterator[None]:
    """Kill the Keras children still running when the check stops early (an error, Ctrl-C)."""
    try:
        yield
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()


def check(
    schedule: Any,
    frameworks: str | Sequence[str] = FRAMEWORKS,
    steps: int = 320,
    *,
    expected: Any = None,
    max_ulps: float = DEFAULT_MAX_ULPS,
) -> Report:
    """Train ``schedule`` in each framework for ``steps`` updates and compare every applied LR with ``s(k)``.

    ``expected`` (another schedule, default ``schedule`` itself) gives ``s``:
    ``check(hf_preset, expected=my_spec)`` asks whether training with one applies
    the other's LR.  A framework passes when every update ``k`` in ``0..steps-1``
    applied ``s(k)`` within ``max_ulps`` float32 ulps of the peak (see the module
    docstring); frameworks that are not installed are skipped, one that raises is
    reported as an error.  ``Report.ok`` is the verdict.
    """
    names = parse_frameworks(frameworks)
    s = _learning_rate(schedule)
    want = s if expected is None else _learning_rate(expected)
    n = _steps(steps)
    if isinstance(max_ulps, bool) or not isinstance(max_ulps, (int, float)) or not max_ulps >= 0:
        raise ValueError(f"max_ulps must be a number >= 0, got {max_ulps!r}")
    values = np.asarray(want(np.arange(n, dtype=np.float64)), dtype=np.float64)
    ulp = float(np.spacing(np.float32(np.max(np.abs(values)))))
    missing = {name: _missing(name) for name in names}
    results: dict[str, FrameworkResult] = {}
    # The Keras processes start first and run while torch and optax train here (Keras' import is slow).
    children: dict[str, subprocess.Popen[str]] = {}
    with _reaped(children):
        for name in names:
            if name.startswith("keras-") and missing[name] is None:
                children[name] = _start_keras(s, n, name.split("-", 1)[1])
        for name in names:
            if missing[name] is not None:
                results[name] = FrameworkResult(name, "skipped", reason=f"{missing[name]} is not installed")
                continue
            try:
                if name == "torch":
                    lrs = _torch(s, n)
                elif name == "optax":
                    lrs, logged = _optax(s, n)
                    if not np.max(np.abs(logged - lrs), initial=0.0) <= max_ulps * ulp:  # NaN logged: a failure
                        raise RuntimeError("lrkit.optax.current_lr disagrees with the LR the updates applied")
                else:
                    lrs = _collect_keras(children[name], name)
            except Exception as exc:  # one framework's failure is its row, never the end of the check
                results[name] = FrameworkResult(name, "error", reason=_one_line(exc))
                continue
            results[name] = _result(name, lrs, values, ulp, float(max_ulps))
    return Report(s, want, n, values, float(max_ulps), tuple(results[name] for name in names))


def summary(report: Report) -> str:
    """The text ``lrkit compare SPEC --frameworks ...`` prints: the schedules, the tolerance, the table, the verdict."""
    lines = [f"schedule: {report.schedule!r}"]
    if report.expected_schedule != report.schedule:
        lines.append(f"expected: {report.expected_schedule!r}")
    lines.append(
        f"{report.steps} updates (0..{report.steps - 1}) per framework; each LR read back from the trained weights; "
        f"tolerance {report.max_ulps:g} float32 ulps of the peak {fmt(report.peak)} (1 ulp = {report.ulp:.6g})"
    )
    lines += ["", report.table(), ""]
    ran = [r.framework for r in report.ran]
    bad = [r.framework for r in report.ran if r.status != "pass"]
    if not ran:
        lines.append("nothing was checked: no framework is installed")
    elif bad:
        lines.append(f"parity FAILED in {', '.join(bad)}")
    else:
        lines.append(f"parity: every update of {report.steps} applied s(k) in {', '.join(ran)}")
    return "\n".join(lines) + "\n"
