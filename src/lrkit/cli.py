"""The ``lrkit`` command line (also ``python -m lrkit``): see a schedule before you train.

Commands::

    lrkit demo      [-o lrkit-demo.png] [--steps 40000]   the schedules lrkit grew from, on one figure
    lrkit plot      SPEC [SPEC ...] [-o out.png|.svg]      a figure, phases marked
    lrkit show      SPEC                                   a chart in the terminal + key points
    lrkit export    SPEC --format csv|json                 the values, s(np.arange(N))
    lrkit describe  SPEC                                   phases, boundary values, warnings
    lrkit compare   SPEC SPEC                              where two schedules differ
    lrkit compare   SPEC --frameworks all [--steps N]      the LR every update applies in torch, Keras, optax
    lrkit recommend --total-steps N [--optimizer adam ...] a warmup + decay for your run, with sources

SPEC is a spec (``'warmup(cosine(1e-3), steps=500)'``), a
``.json``/``.yaml``/``.toml`` file written by :func:`lrkit.save`, or inline
JSON (``'{"type": "cosine", ...}'``).  ``--steps`` is how many steps to
evaluate, ``--steps-per-epoch`` and ``--total`` resolve durations such as
``'10ep'`` and ``'5%'`` (``--total`` is also the default ``--steps``).

Every error (a bad spec, a bad option, an unwritable file) is one line on
stderr starting with ``lrkit: error:`` and exit code 2, never a traceback
(``LRKIT_DEBUG=1`` shows it).  ``compare`` exits 1 when the schedules differ,
or when a framework does not apply ``s(k)`` at some update (:mod:`lrkit.parity`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn, TextIO

import numpy as np

from . import __version__, _phases
from ._files import atomic_writer
from ._phases import fmt
from .arguments import read_spec
from .base import Schedule
from .composition import warmup
from .durations import parse_lrepochs
from .schedules import cosine, inverse_power, multistep, noam
from .spec import loads
from .terminal import chart, table

__all__ = ["demo_schedules", "main"]

#: the most steps a command evaluates (each array of values is 8 bytes a step)
MAX_STEPS = 10_000_000


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse prints the usage and the message on two lines; lrkit keeps one
        raise _UsageError(f"{message} (see '{self.prog} --help')")


# -- reading schedules --------------------------------------------------------


def _read(
    text: str, steps_per_epoch: int | None, total: int | None, key: str | None = None
) -> tuple[Schedule, Schedule]:
    """The schedule as written and resolved to whole steps (spec text, a JSON object, or a config file)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        s = loads(stripped, "json", key=key)
    else:
        s = read_spec(text, key=key)
    return s, _phases.resolved_or_error(s, steps_per_epoch, total)


def _positive_int(name: str, limit: int | None = None) -> type:
    def convert(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text!r}")
        if limit is not None and value > limit:
            raise argparse.ArgumentTypeError(f"must be at most {limit}, got {text!r}")
        return value

    convert.__name__ = name
    return convert  # type: ignore[return-value]


def _nonneg_float(name: str) -> type:
    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}") from None
        if not (value >= 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
        return value

    convert.__name__ = name
    return convert  # type: ignore[return-value]


def _add_horizon(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--steps",
        metavar="N",
        type=_positive_int("--steps", MAX_STEPS),
        help="steps to evaluate, 0..N-1 (default: --total, else a horizon that shows every phase)",
    )
    p.add_argument(
        "--steps-per-epoch",
        metavar="N",
        type=_positive_int("--steps-per-epoch"),
        help="resolves durations in epochs ('10ep')",
    )
    p.add_argument(
        "--total",
        metavar="N",
        type=_positive_int("--total"),
        help="total training steps: resolves '5%%', '0.05dur' and omitted decay lengths (else --steps does)",
    )
    p.add_argument(
        "--key",
        metavar="PATH",
        help="a dotted path that picks the schedule inside a larger config file, e.g. optim.lr_schedule",
    )
    p.add_argument(
        "--epochs",
        metavar="N",
        type=_positive_int("--epochs"),
        help="length of training in epochs: with --steps-per-epoch, the same as --total N*steps_per_epoch",
    )


def _run_length(args: argparse.Namespace) -> int | None:
    """The length of training when the command line gives it (--total, or --epochs with --steps-per-epoch)."""
    if getattr(args, "epochs", None) is not None:
        if args.steps_per_epoch is None:
            raise ValueError("--epochs needs --steps-per-epoch (the length of training is epochs * steps per epoch)")
        total = args.epochs * args.steps_per_epoch
        if args.total is not None and args.total != total:
            raise ValueError(
                f"--total {args.total} disagrees with --epochs {args.epochs} * --steps-per-epoch "
                f"{args.steps_per_epoch} = {total}: give one of them"
            )
        args.total = total
    return args.total


def _steps(args: argparse.Namespace, schedules: Sequence[Schedule]) -> int:
    if args.steps is not None:
        return int(args.steps)
    if args.total is not None:
        if args.total > MAX_STEPS:
            raise ValueError(f"--total is {args.total}, above {MAX_STEPS} steps: give a smaller --steps to evaluate")
        return int(args.total)
    return min(max(_phases.default_steps(s) for s in schedules), MAX_STEPS)


# -- demo ---------------------------------------------------------------------


def demo_schedules() -> dict[str, Schedule]:
    """The schedules lrkit grew from, built with lrkit (label -> schedule), and a plain warmup + cosine.

    The first three are the Keras schedules of TensorFlow's schedule tutorial, through
    :mod:`lrkit.compat.keras` (Keras' names, step-exact, Keras not imported):
    ``CosineDecay(0.001, 4000)``, ``ExponentialDecay(0.001, 4000, 0.9)`` and
    ``PiecewiseConstantDecay([10000, 20000, 30000], [0.001, 0.0008, 0.0004, 0.0001])``.
    Then the tutorial's custom schedule (linear warmup over 4000 steps, then
    ``lr * warmup / step``), the Transformer schedule with ``d_model=128``, and
    a PyTorch ``WarmupMultiStepLR`` with ``--lrepochs 10,12,14,16:2`` at 2000
    steps per epoch (milestones 20000, 24000, 28000, 32000; gamma 1/2; linear
    warmup over 500 steps from 1/3).
    """
    from .compat import keras

    milestones, gamma = parse_lrepochs("10,12,14,16:2", steps_per_epoch=2000)
    return {
        "cosine": keras.CosineDecay(0.001, 4000),
        "exp": keras.ExponentialDecay(0.001, 4000, 0.9),
        "piecewise": keras.PiecewiseConstantDecay([10000, 20000, 30000], [0.001, 0.0008, 0.0004, 0.0001]),
        "warmup": warmup(inverse_power(0.001, steps=4000, power=1.0), steps=4000, start_factor=0.0, prefix=False),
        "noam (d_model=128)": noam(128, warmup_steps=4000),
        "WarmupMultiStepLR": warmup(multistep(0.001, milestones, gamma), steps=500, start_factor=1 / 3, prefix=False),
        # the common recipe today: linear warmup, then a cosine to a floor over the rest of the run
        "warmup + cosine": warmup(cosine(0.001, floor=1e-5), steps=2000).resolve(total_steps=40_000),
    }


def _summary(named: dict[str, Schedule], steps: int) -> str:
    rows = []
    for label, s in named.items():
        vals = _phases.values(s, steps)
        i, top = _phases.peak(vals)
        rows.append([label, fmt(float(vals[0])), fmt(top), i, fmt(float(vals[-1]))])
    return table(rows, ["schedule", "step 0", "peak", "peak at", f"step {steps - 1}"])


def _cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .plotting import plot

    if getattr(args, "warmup", False):
        return _demo_warmup(args, out)
    named = demo_schedules()
    _check_output(args.output)
    plot(named, steps=args.steps, path=args.output)
    out.write(f"The schedules lrkit grew from, and a plain warmup + cosine, over {args.steps} steps:\n\n")
    out.write(_summary(named, args.steps) + "\n\n")
    for label, s in named.items():
        out.write(f"  {label}: {s!r}\n")
    out.write(f"\nwrote {args.output}\n")
    return 0


# -- plot ---------------------------------------------------------------------


def _check_output(path: str) -> None:
    from matplotlib.backend_bases import FigureCanvasBase

    suffix = Path(path).suffix.lower().lstrip(".")
    kinds = FigureCanvasBase.get_supported_filetypes()
    if suffix not in kinds:
        raise ValueError(f"-o {path!r}: the file name must end in one of {', '.join('.' + k for k in sorted(kinds))}")
    parent = Path(path).parent
    if not parent.is_dir():
        raise ValueError(f"-o {path!r}: no such directory {str(parent)!r}")


def _cmd_plot(args: argparse.Namespace, out: TextIO) -> int:
    from .plotting import plot

    if args.label is not None and len(args.label) != len(args.spec):
        raise ValueError(f"--label was given {len(args.label)} times for {len(args.spec)} SPEC(s): give one per SPEC")
    schedules = [_read(text, args.steps_per_epoch, _run_length(args) or args.steps, args.key)[1] for text in args.spec]
    steps = _steps(args, schedules)
    _check_output(args.output)
    plot(
        schedules,
        steps=steps,
        labels=args.label,
        path=args.output,
        title=args.title,
        log=args.log,
        steps_per_epoch=args.steps_per_epoch,
        mark_phases=not args.no_phases,
    )
    out.write(f"wrote {args.output} ({len(schedules)} schedule(s), {steps} steps)\n")
    return 0


# -- show / describe ----------------------------------------------------------


def _cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    _, s = _read(args.spec, args.steps_per_epoch, _run_length(args) or args.steps, args.key)
    steps = _steps(args, [s])
    vals = _phases.values(s, steps)
    out.write(f"{s!r}\n\n")
    width = args.width if args.width is not None else _terminal_width()
    out.write(chart(vals, width=width, height=args.height, log=args.log) + "\n\n")
    rows = [[p.label, p.step, fmt(p.value)] for p in _phases.key_points(s, vals)]
    out.write(table(rows, ["point", "step", _phases.value_label(s)]) + "\n")
    return 0


def _terminal_width() -> int:
    """Chart columns that fit the terminal: its width less the y labels (about 12 characters).

    ``shutil.get_terminal_size`` reads ``COLUMNS``, then the terminal; when the output is not a
    terminal (a pipe, a file) the chart keeps its default of 64 columns.
    """
    columns = shutil.get_terminal_size((0, 0)).columns
    if columns <= 0:
        return 64
    return max(16, min(columns - 12, 1000))


def _cmd_describe(args: argparse.Namespace, out: TextIO) -> int:
    raw, s = _read(args.spec, args.steps_per_epoch, _run_length(args) or args.steps, args.key)
    horizon_known = args.steps is not None or args.total is not None
    label = _phases.value_label(s)
    steps = _steps(args, [s])
    vals = _phases.values(s, steps)
    out.write(f"schedule: {raw!r}\n")
    if not raw.is_resolved:
        out.write(f"resolved: {s!r}\n")
    given = "" if horizon_known else " (no --steps/--total: a horizon that shows every phase)"
    out.write(f"steps:    {steps} (0..{steps - 1}){given}\n\nphases:\n")
    rows = []
    for a, b, trend, va, vb, kind in _phases.phases(s, vals):
        values = fmt(va) if trend == "flat" else f"{fmt(va)} -> {fmt(vb)}"
        rows.append([f"{a}..{b}", trend, values, kind])
    out.write(_indent(table(rows, ["steps", "trend", label, "starts at"])) + "\n\nphase changes:\n")
    evs = _phases.events(s, steps)
    if evs:
        rows = []
        for e in evs:
            before = fmt(float(vals[e.step - 1]))
            after = fmt(float(vals[e.step + 1])) if e.step + 1 < steps else "-"
            rows.append([e.step, e.kind, e.source, before, fmt(float(vals[e.step])), after])
        heads = ["step b", "kind", "from", f"{label}(b-1)", f"{label}(b)", f"{label}(b+1)"]
        out.write(_indent(table(rows, heads)) + "\n")
    else:
        out.write("  none\n")
    i, top = _phases.peak(vals)
    out.write(f"\nstart: {fmt(float(vals[0]))} at step 0\npeak:  {fmt(top)} at step {i}\n")
    out.write(f"end:   {fmt(float(vals[-1]))} at step {steps - 1}\n\nwarnings:\n")
    warns = _phases.warnings_for(s, vals) if horizon_known else _phases.structural_warnings(s)
    out.write("".join(f"  - {w}\n" for w in warns) if warns else "  none\n")
    if not horizon_known:
        out.write("  (give --steps or --total, the length of training, to check the schedule against it)\n")
    if s.is_multiplier:
        out.write("\nthe values are factors of the optimizer's learning rate (a multiplier)\n")
    return 1 if warns and args.strict else 0


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


# -- export -------------------------------------------------------------------


#: rows formatted and written at a time: memory stays bounded for any --steps
_EXPORT_CHUNK = 1 << 16


def _export_chunks(s: Schedule, steps: int, fmt_name: str) -> Iterator[str]:
    """The export text, piece by piece: ``s`` evaluated and formatted ``_EXPORT_CHUNK`` steps at a time.

    CSV: ``step,lr`` then one row per step; JSON: ``{"schedule": repr, "steps": N, "lr": [...]}``,
    the same text ``json.dumps`` writes.  ``repr`` of a float is the shortest text that reads back
    to the same float64 (and what ``json`` writes).  JSON has no NaN or Infinity: a non-finite
    value is a ``ValueError`` naming the step, never non-standard JSON.
    """
    if fmt_name == "csv":
        yield "step,lr\n"
    else:
        yield '{"schedule": ' + json.dumps(repr(s)) + f', "steps": {steps}, "lr": ['
    for a in range(0, steps, _EXPORT_CHUNK):
        b = min(a + _EXPORT_CHUNK, steps)
        vals = np.asarray(s(np.arange(a, b, dtype=np.float64)), dtype=np.float64)
        if fmt_name == "csv":
            yield "".join(f"{k},{v!r}\n" for k, v in zip(range(a, b), vals.tolist(), strict=True))
            continue
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size:
            k = a + int(bad[0])
            raise ValueError(
                f"the value at step {k} is {float(vals[bad[0]])!r}: JSON has no NaN or Infinity (use --format csv)"
            )
        yield (", " if a else "") + ", ".join(map(repr, vals.tolist()))
    if fmt_name == "json":
        yield "]}\n"


def _cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    _, s = _read(args.spec, args.steps_per_epoch, _run_length(args) or args.steps, args.key)
    steps = _steps(args, [s])
    if args.output in (None, "-"):
        for part in _export_chunks(s, steps, args.format):
            out.write(part)
        return 0
    with atomic_writer(args.output) as f:
        for part in _export_chunks(s, steps, args.format):
            f.write(part)
    out.write(f"wrote {args.output} ({steps} steps)\n")
    return 0


# -- compare ------------------------------------------------------------------


def _runs(mask: np.ndarray, limit: int = 8) -> str:
    idx = np.flatnonzero(mask)
    breaks = np.flatnonzero(np.diff(idx) != 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]])
    parts = [f"{a}" if a == b else f"{a}..{b}" for a, b in zip(starts[:limit], ends[:limit], strict=True)]
    more = f" and {len(starts) - limit} more range(s)" if len(starts) > limit else ""
    return ", ".join(parts) + more


def _cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    if args.frameworks is not None:
        return _compare_frameworks(args, out)
    if args.spec_b is None:
        raise _UsageError(
            "the following arguments are required: SPEC (a second one; or --frameworks to check one SPEC "
            "in training frameworks) (see 'lrkit compare --help')"
        )
    for option in ("max_ulps", "output"):
        if getattr(args, option) is not None:
            raise _UsageError(f"--{option.replace('_', '-')} goes with --frameworks (see 'lrkit compare --help')")
    _, a = _read(args.spec_a, args.steps_per_epoch, _run_length(args) or args.steps, args.key)
    _, b = _read(args.spec_b, args.steps_per_epoch, _run_length(args) or args.steps, args.key)
    steps = _steps(args, [a, b])
    va, vb = _phases.values(a, steps), _phases.values(b, steps)
    out.write(f"A: {a!r}\nB: {b!r}\nover {steps} steps (0..{steps - 1})")
    if args.rtol or args.atol:
        out.write(f", tolerance |A - B| <= {args.atol:g} + {args.rtol:g} * |B|")
    out.write("\n\n")
    diff = np.abs(va - vb)
    mask = diff > args.atol + args.rtol * np.abs(vb)
    if a == b or not mask.any():
        same = "identical at every step" if not diff.any() else "equal within the tolerance at every step"
        out.write(f"{same} (largest difference {fmt(float(diff.max()))})\n")
        return 0
    k = int(mask.sum())
    first = int(np.argmax(mask))
    j = int(np.argmax(diff))
    scale = np.maximum(np.abs(va), np.abs(vb))
    rel = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    r = int(np.argmax(rel))
    rows = [
        ["first difference", first, fmt(float(va[first])), fmt(float(vb[first])), fmt(float(diff[first]))],
        ["largest difference", j, fmt(float(va[j])), fmt(float(vb[j])), fmt(float(diff[j]))],
        [f"largest relative ({100 * rel[r]:.3g}%)", r, fmt(float(va[r])), fmt(float(vb[r])), fmt(float(diff[r]))],
    ]
    out.write(f"they differ at {k} of {steps} steps ({100.0 * k / steps:.3g}%): steps {_runs(mask)}\n\n")
    out.write(table(rows, ["", "step", "A", "B", "|A - B|"]) + "\n")
    ia, ta = _phases.peak(va)
    ib, tb = _phases.peak(vb)
    out.write(f"\npeak: A {fmt(ta)} at step {ia}, B {fmt(tb)} at step {ib}\n")
    out.write(f"end:  A {fmt(float(va[-1]))}, B {fmt(float(vb[-1]))} at step {steps - 1}\n")
    return 1


def _compare_frameworks(args: argparse.Namespace, out: TextIO) -> int:
    """``compare SPEC [EXPECTED] --frameworks ...``: train SPEC in each framework, check every update's LR."""
    from . import parity  # imports each framework only when it trains

    if args.rtol or args.atol:
        raise _UsageError(
            "--rtol/--atol compare two schedules; with --frameworks the tolerance is --max-ulps "
            "(see 'lrkit compare --help')"
        )
    try:
        frameworks = parity.parse_frameworks(args.frameworks)
    except ValueError as exc:
        raise _UsageError(f"argument --frameworks: {exc}") from None
    to_stdout = args.output == "-"
    if args.output is not None and not to_stdout:
        # Checked before training (minutes with Keras), not when the report is written.
        if not Path(args.output).parent.is_dir():
            raise ValueError(f"-o {args.output!r}: no such directory {str(Path(args.output).parent)!r}")
        if Path(args.output).is_dir():
            raise ValueError(f"-o {args.output!r} is a directory: give a file name, e.g. {args.output}/parity.json")
    _, s = _read(args.spec_a, args.steps_per_epoch, _run_length(args) or args.steps, args.key)
    expected = s
    if args.spec_b is not None:
        _, expected = _read(args.spec_b, args.steps_per_epoch, _run_length(args) or args.steps, args.key)
    steps = _steps(args, [expected])
    note = ""
    if args.steps is None and args.total is None and steps > parity.DEFAULT_STEPS:
        # The horizon that shows every phase can be long (noam: 40000), and Keras trains one
        # batch per update: a bounded default, said in the output.
        note = (
            f"(the first {parity.DEFAULT_STEPS} of the {steps} steps that show every phase: "
            "give --steps to train more)\n"
        )
        steps = parity.DEFAULT_STEPS
    if steps > parity.MAX_STEPS:
        given = "--steps" if args.steps is not None else "--total"
        raise ValueError(
            f"{given} is {steps} updates: parity trains one update per step in each framework, "
            f"at most {parity.MAX_STEPS}; give a smaller --steps"
        )
    max_ulps = parity.DEFAULT_MAX_ULPS if args.max_ulps is None else args.max_ulps
    report = parity.check(s, frameworks, steps, expected=expected, max_ulps=max_ulps)
    if to_stdout:
        # -o -: stdout is the JSON alone (for a pipe); the summary goes to stderr.
        _error(parity.summary(report) + note)
        json.dump(report.to_dict(), out)
        out.write("\n")
        return 0 if report.ok else 1
    out.write(parity.summary(report) + note)
    if args.output is not None:
        with atomic_writer(args.output) as f:
            json.dump(report.to_dict(), f)
            f.write("\n")
        out.write(f"wrote {args.output}\n")
    return 0 if report.ok else 1


# -- recommend ----------------------------------------------------------------


def _cmd_recommend(args: argparse.Namespace, out: TextIO) -> int:
    from .recommend import recommend

    post_ln = True if args.post_ln else (False if args.pre_ln else None)
    rec = recommend(
        total_steps=args.total_steps,
        optimizer=args.optimizer,
        beta2=args.beta2,
        lr=args.lr,
        measured_lr=args.measured_lr,
        base_lr=args.base_lr,
        batch_size=args.batch_size,
        ref_batch_size=args.ref_batch_size,
        steps_per_epoch=args.steps_per_epoch,
        post_ln=post_ln,
        max_warmup_fraction=args.max_warmup_fraction,
        decay=args.decay,
        floor_ratio=args.floor_ratio,
    )
    out.write(str(rec) + "\n")
    return 0


def warmup_demo_cases(total_steps: int) -> dict[str, object]:
    """The situations ``lrkit demo --warmup`` shows: label -> :class:`lrkit.recommend.Recommendation`."""
    from .recommend import recommend

    spe = max(total_steps // 90, 1)  # a 90-epoch run, as in Goyal et al.
    return {
        "AdamW, beta2 0.999": recommend(optimizer="adamw", total_steps=total_steps),
        "Adam, beta2 0.98, Pre-LN": recommend(optimizer="adam", beta2=0.98, post_ln=False, total_steps=total_steps),
        "Adam, beta2 0.98, Post-LN": recommend(optimizer="adam", beta2=0.98, post_ln=True, total_steps=total_steps),
        "RAdam": recommend(optimizer="radam", total_steps=total_steps),
        "SGD, 32x batch": recommend(optimizer="sgd", batch_size=8192, steps_per_epoch=spe, total_steps=total_steps),
    }


def _demo_warmup(args: argparse.Namespace, out: TextIO) -> int:
    from .composition import scale
    from .plotting import plot

    cases = warmup_demo_cases(args.steps)
    # each as a share of its own peak: Adam's 1e-3 and SGD's 3.2 on one axis
    named = {label: scale(rec.schedule, 1.0 / rec.peak_lr) for label, rec in cases.items()}  # type: ignore[attr-defined]
    _check_output(args.output)
    plot(named, steps=args.steps, path=args.output, title="Warmup chosen by lrkit.recommend (LR / peak LR)")
    out.write(f"The warmup lrkit.recommend chooses, over a {args.steps}-step run (docs/why-warmup.md):\n\n")
    for label, rec in cases.items():
        out.write(f"{label}: {rec.warmup_steps} warmup updates\n  {rec.spec}\n")  # type: ignore[attr-defined]
        for r in rec.reasons:  # type: ignore[attr-defined]
            if r.rule not in ("peak lr", "decay"):
                out.write(f"  - {r.rule}: {r.decision}\n")
    out.write(f"\nwrote {args.output}\n")
    return 0


# -- main ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lrkit",
        description="See, check and export learning-rate schedules.",
        epilog="SPEC: a spec like 'warmup(cosine(1e-3), steps=500)', "
        "a .json/.yaml/.toml file, or inline JSON. Errors exit with code 2.",
    )
    parser.add_argument("--version", action="version", version=f"lrkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "demo",
        help="plot the schedules lrkit grew from (Keras' tutorial schedules, the Transformer's, WarmupMultiStepLR) "
        "and a plain warmup + cosine, and summarise them",
    )
    p.add_argument("-o", "--output", metavar="FILE", default="lrkit-demo.png", help="image file (default %(default)s)")
    p.add_argument(
        "--steps", metavar="N", type=_positive_int("--steps", MAX_STEPS), default=40000, help="default %(default)s"
    )
    p.add_argument(
        "--warmup", action="store_true", help="instead: the warmup lrkit.recommend chooses in five situations"
    )
    p.set_defaults(run=_cmd_demo)

    p = sub.add_parser("plot", help="plot schedules to a PNG/SVG/PDF file")
    p.add_argument("spec", nargs="+", metavar="SPEC")
    p.add_argument("-o", "--output", metavar="FILE", default="lrkit-plot.png", help="image file (default %(default)s)")
    _add_horizon(p)
    p.add_argument("--log", action="store_true", help="log y axis")
    p.add_argument("--label", action="append", help="legend label, once per SPEC in order")
    p.add_argument("--title", default="Learning rate schedule")
    p.add_argument("--no-phases", action="store_true", help="do not mark phase changes and the peak")
    p.set_defaults(run=_cmd_plot)

    p = sub.add_parser("show", help="draw a schedule in the terminal, with its key points")
    p.add_argument("spec", metavar="SPEC")
    _add_horizon(p)
    p.add_argument(
        "--width",
        type=_positive_int("--width", 1000),
        help="chart columns (default: the terminal's width, 64 when the output is not a terminal)",
    )
    p.add_argument("--height", type=_positive_int("--height", 200), default=12, help="chart rows (default 12)")
    p.add_argument("--log", action="store_true", help="log y axis")
    p.set_defaults(run=_cmd_show)

    p = sub.add_parser("export", help="write the value at every step as CSV or JSON")
    p.add_argument("spec", metavar="SPEC")
    _add_horizon(p)
    p.add_argument("--format", choices=("csv", "json"), default="csv")
    p.add_argument("-o", "--output", metavar="FILE", help="file to write (default: stdout)")
    p.set_defaults(run=_cmd_export)

    p = sub.add_parser("describe", help="phases, boundary values and warnings for likely mistakes")
    p.add_argument("spec", metavar="SPEC")
    _add_horizon(p)
    p.add_argument("--strict", action="store_true", help="exit with code 1 when a warning is printed (for CI checks)")
    p.set_defaults(run=_cmd_describe)

    p = sub.add_parser(
        "compare",
        help="where two schedules differ; with --frameworks, whether training in each framework applies "
        "s(k) at every update k (exit code 1 when they differ)",
    )
    p.add_argument("spec_a", metavar="SPEC", help="a schedule; with --frameworks, the one trained")
    p.add_argument(
        "spec_b",
        metavar="SPEC",
        nargs="?",
        help="the schedule to compare with; with --frameworks, the expected schedule (default: the first SPEC)",
    )
    _add_horizon(p)
    p.add_argument("--rtol", type=_nonneg_float("--rtol"), default=0.0, help="relative tolerance (default 0)")
    p.add_argument("--atol", type=_nonneg_float("--atol"), default=0.0, help="absolute tolerance (default 0)")
    p.add_argument(
        "--frameworks",
        metavar="LIST",
        help="train the first SPEC for --steps updates in each of torch, keras-jax, keras-torch, optax "
        "(comma-separated, or all) and check the LR of every update; not installed: skipped",
    )
    p.add_argument(
        "--max-ulps",
        metavar="X",
        type=_nonneg_float("--max-ulps"),
        help="with --frameworks: the tolerance, in float32 ulps of the peak (default 4: float32 precision)",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="with --frameworks: write the LR every framework applied at every update as JSON "
        "(-: to stdout, the summary to stderr)",
    )
    p.set_defaults(run=_cmd_compare)

    p = sub.add_parser("recommend", help="a warmup + decay schedule for your run, with each rule and its source")
    p.add_argument("--total-steps", metavar="N", type=_positive_int("--total-steps"), required=True)
    p.add_argument("--optimizer", choices=("adam", "adamw", "radam", "sgd"), default="adamw")
    p.add_argument("--beta2", type=float, help="Adam's beta2 (default 0.999)")
    p.add_argument("--lr", type=float, help="the peak LR, if you know it")
    p.add_argument("--measured-lr", type=float, help="the suggestion of an LR range test (lrkit.torch.lr_range_test)")
    p.add_argument("--base-lr", type=float, help="the LR tuned at --ref-batch-size (SGD: scaled linearly)")
    p.add_argument("--batch-size", type=_positive_int("--batch-size"))
    p.add_argument("--ref-batch-size", type=_positive_int("--ref-batch-size"), help="default 256 (Goyal et al.)")
    p.add_argument("--steps-per-epoch", metavar="N", type=_positive_int("--steps-per-epoch"))
    ln = p.add_mutually_exclusive_group()
    ln.add_argument("--post-ln", action="store_true", help="a Post-LN Transformer (needs warmup)")
    ln.add_argument("--pre-ln", action="store_true", help="a Pre-LN Transformer")
    p.add_argument("--max-warmup-fraction", type=float, default=0.1, help="cap on the warmup (default %(default)s)")
    p.add_argument("--decay", choices=("cosine", "wsd"), default="cosine")
    p.add_argument("--floor-ratio", type=float, default=0.1, help="final LR / peak LR (default %(default)s)")
    p.set_defaults(run=_cmd_recommend)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, ModuleNotFoundError) and exc.name in ("matplotlib", "yaml", "tomli_w"):
        extra = "plot" if exc.name == "matplotlib" else "config"
        return f"this needs {exc.name}: pip install 'lrkit[{extra}]'"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename!r}" if exc.filename else exc.strerror
    first = text.splitlines()[0] if text else type(exc).__name__
    return first


class _ClosedOutput:
    """Stands for a closed standard output (``lrkit ... >&-``): writing says so, in one line."""

    def write(self, text: str) -> int:
        raise OSError("cannot write the output: standard output is closed (redirect it, or give -o FILE)")

    def flush(self) -> None:
        pass


def _error(text: str) -> None:
    """Write one line on stderr; a closed or broken stderr loses the line, never the exit code."""
    stream = sys.stderr
    if stream is None:
        return
    with contextlib.suppress(OSError, ValueError):
        stream.write(text)
        stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 ``compare`` found a difference, 2 error)."""
    out: TextIO = sys.stdout if sys.stdout is not None else _ClosedOutput()  # type: ignore[assignment]
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args, out))
    except _UsageError as exc:
        _error(f"lrkit: error: {exc}\n")
        return 2
    except BrokenPipeError:
        # the reader went away (lrkit export ... | head): not an error of ours
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        _error("lrkit: interrupted\n")
        return 130
    except Exception as exc:
        if os.environ.get("LRKIT_DEBUG"):
            raise
        _error(f"lrkit: error: {_one_line(exc)}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
