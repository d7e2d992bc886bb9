"""lrkit.plot, the phase markers it draws (read from the schedule's structure), notebook display.

Expected values come from the seeds' formulas and from the schedules'
parameters, derived by hand next to each test.
"""

from __future__ import annotations

import math
import subprocess
import sys
from bisect import bisect_right

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

import lrkit
from lrkit import _phases
from lrkit.plotting import _curve


def seed_warmup_multistep() -> lrkit.Schedule:
    # The seed's WarmupMultiStepLR with --lrepochs 10,12,14,16:2 and len(train_loader) = 2000.
    return lrkit.warmup(
        lrkit.multistep(0.001, milestones=[20000, 24000, 28000, 32000], gamma=0.5),
        steps=500,
        start_factor=1 / 3,
        prefix=False,
    )


def seed_get_lr(t: int) -> float:
    """The seed's WarmupMultiStepLR.get_lr, transcribed (linear warmup, base_lr 0.001)."""
    warmup_factor = 1.0
    if t < 500:
        alpha = float(t) / 500
        warmup_factor = (1.0 / 3) * (1 - alpha) + alpha
    return 0.001 * warmup_factor * 0.5 ** bisect_right([20000, 24000, 28000, 32000], t)


def curve_lines(fig: Figure) -> list:
    ax = fig.axes[0]
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


# -- the figure ---------------------------------------------------------------


def test_returns_figure_in_the_seed_style() -> None:
    fig = lrkit.plot({"noam": lrkit.noam(128), "cosine": lrkit.cosine(0.001, 4000)}, steps=40000)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_title() == "Learning rate schedule"
    assert ax.get_xlabel() == "Train Step"
    assert ax.get_ylabel() == "Learning Rate"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["noam", "cosine"]
    assert [line.get_label() for line in curve_lines(fig)] == ["noam", "cosine"]


def test_curve_is_the_seed_formula() -> None:
    # The seed's CustomSchedule(128): rsqrt(d_model) * min(rsqrt(step), step * warmup ** -1.5);
    # at step 0 the min is min(inf, 0) = 0.
    fig = lrkit.plot(lrkit.noam(128, warmup_steps=4000), steps=40000, mark_phases=False)
    (line,) = curve_lines(fig)
    x, y = line.get_xdata(), line.get_ydata()
    np.testing.assert_array_equal(x, np.arange(40000))
    t = np.arange(40000, dtype=np.float64)
    with np.errstate(divide="ignore"):
        expected = 128**-0.5 * np.minimum(t**-0.5, t * 4000**-1.5)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=0)


def test_inputs_list_dict_spec_and_labels() -> None:
    fig = lrkit.plot(["cosine(0.001, steps=100)", lrkit.constant(0.001)], steps=50, labels=["a", "b"])
    assert [line.get_label() for line in curve_lines(fig)] == ["a", "b"]
    fig = lrkit.plot(lrkit.constant(0.002), steps=10)
    # without labels a schedule is named by its spec
    assert [line.get_label() for line in curve_lines(fig)] == ["constant(0.002)"]
    with pytest.raises(ValueError, match="labels must have one entry per schedule"):
        lrkit.plot([lrkit.constant(0.1)], steps=10, labels=["a", "b"])
    with pytest.raises(ValueError, match="schedules must not be empty"):
        lrkit.plot([], steps=10)
    with pytest.raises(TypeError, match="schedules\\[0\\]"):
        lrkit.plot([3.0], steps=10)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        lrkit.plot(lrkit.constant(0.1), steps=0)
    with pytest.raises(lrkit.SpecError):
        lrkit.plot("cosin(1, 2)", steps=10)


def test_durations_resolved_and_epoch_axis() -> None:
    s = lrkit.warmup(lrkit.cosine(0.001, "100%"), steps="1ep", prefix=False)
    fig = lrkit.plot(s, steps=1000, steps_per_epoch=100)
    (line,) = curve_lines(fig)
    # warmup over 1 epoch = 100 steps from 0 to cosine(100) = 0.001 * (1 + cos(pi * 100 / 1000)) / 2
    assert line.get_ydata()[100] == pytest.approx(0.001 * (1 + math.cos(math.pi * 0.1)) / 2, rel=1e-12)
    epoch_axes = [a for a in fig.axes[0].child_axes if a.get_xlabel() == "Epoch"]
    assert len(epoch_axes) == 1
    with pytest.raises(ValueError, match="steps_per_epoch"):
        lrkit.plot(s, steps=1000)


def test_log_scale_and_existing_axes() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    out = lrkit.plot(lrkit.exponential(0.001, 100, 0.5), steps=500, log=True, ax=ax)
    assert out is fig
    assert ax.get_yscale() == "log"


def test_saves_png_and_svg(tmp_path) -> None:
    png, svg = tmp_path / "s.png", tmp_path / "s.svg"
    lrkit.plot(seed_warmup_multistep(), steps=40000, path=png)
    lrkit.plot(seed_warmup_multistep(), steps=40000, path=str(svg))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000  # a drawn figure, not an empty canvas
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and text.count("<path") > 20


# -- phase markers ------------------------------------------------------------


def test_markers_at_the_seed_schedule_phases() -> None:
    fig = lrkit.plot(seed_warmup_multistep(), steps=40000)
    ax = fig.axes[0]
    vertical = sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":")
    # warmup_iters = 500; milestones = 2000 steps/epoch * [10, 12, 14, 16]
    assert vertical == [500, 20000, 24000, 28000, 32000]
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    (dots,) = dots
    assert list(dots.get_xdata()) == [500, 20000, 24000, 28000, 32000]
    assert list(dots.get_ydata()) == pytest.approx([seed_get_lr(t) for t in (500, 20000, 24000, 28000, 32000)])
    (peak,) = [line for line in ax.get_lines() if line.get_marker() == "^"]
    # the seed's LR first reaches base_lr = 0.001 at t = warmup_iters = 500
    assert (peak.get_xdata()[0], peak.get_ydata()[0]) == (500, pytest.approx(0.001))
    texts = [t.get_text().strip() for t in ax.texts]
    assert texts.count("milestone") == 4 and "warmup end" in texts


def test_no_markers_when_disabled() -> None:
    fig = lrkit.plot(seed_warmup_multistep(), steps=40000, mark_phases=False)
    assert len(fig.axes[0].get_lines()) == 1


def ev(s: lrkit.Schedule, steps: int | None = None) -> list[tuple[int, str]]:
    return [(e.step, e.kind) for e in _phases.events(s, steps)]


def test_events_follow_the_structure() -> None:
    # join: the second piece's clock starts at 100, so its milestones 50 and 150 are at 150 and 250;
    # the linear ramp's own end (100) is where the join already switches.
    s = lrkit.join([lrkit.linear(0.0, 0.001, 100), lrkit.multistep(0.001, [50, 150])], [100])
    assert ev(s) == [(100, "join"), (150, "milestone"), (250, "milestone")]
    # prefix warmup shifts the schedule's clock by the warmup length
    s = lrkit.warmup(lrkit.multistep(0.001, [100]), steps=50, prefix=True)
    assert ev(s) == [(50, "warmup end"), (150, "milestone")]
    # multiplicative warmup does not
    s = lrkit.warmup(lrkit.multistep(0.001, [100]), steps=50, prefix=False)
    assert ev(s) == [(50, "warmup end"), (100, "milestone")]
    # Keras' PiecewiseConstantDecay switches one step after each boundary: s(10000) = 0.001, s(10001) = 0.0008
    s = lrkit.piecewise_constant([10000, 20000], [0.001, 0.0008, 0.0004], at_boundary="previous")
    assert ev(s) == [(10001, "boundary"), (20001, "boundary")]
    assert (s(10000), s(10001)) == (0.001, 0.0008)
    # torch OneCycleLR's phase ends: pct_start * total - 1 = 299, total - 1 = 999
    assert ev(lrkit.one_cycle(0.01, 1000)) == [(299, "warmup end"), (999, "decay end")]
    # SGDR with t_mul = 2: periods of 100, 200, 400 restart at 100, 300, 700
    assert ev(lrkit.cosine_restarts(0.001, 100, t_mul=2.0), 1000) == [
        (100, "restart"),
        (300, "restart"),
        (700, "restart"),
    ]
    # WSD: warmup 100, stable 500, decay 400
    assert ev(lrkit.wsd(0.001, 100, 500, 400)) == [(100, "warmup end"), (600, "decay start"), (1000, "decay end")]
    # exponential with a floor: 0.001 * 0.5 ** (t / 100) = 0.000125 at t = 300
    assert ev(lrkit.exponential(0.001, 100, 0.5, floor=0.000125)) == [(300, "decay end")]
    # a horizon cuts the list
    assert ev(lrkit.multistep(0.001, [10, 20, 30]), 25) == [(10, "milestone"), (20, "milestone")]


def test_default_horizon() -> None:
    # noam keeps moving after its warmup: 10 x 4000, the seed's 40000-step figure
    assert _phases.default_steps(lrkit.noam(128)) == 40000
    # the seed's WarmupMultiStepLR holds after its last milestone: 1.25 x 32000
    assert _phases.default_steps(seed_warmup_multistep()) == 40000
    # a cosine holds after its end: 1.25 x 4000
    assert _phases.default_steps(lrkit.cosine(0.001, 4000)) == 5000
    # no phase change: 2.5 x decay_steps
    assert _phases.default_steps(lrkit.exponential(0.001, 4000, 0.9)) == 10000
    assert _phases.default_steps(lrkit.constant(0.1)) == 1000
    fig = lrkit.plot(lrkit.noam(128))
    assert len(curve_lines(fig)[0].get_xdata()) == 40000


def test_long_runs_keep_every_jump() -> None:
    spike = lrkit.piecewise_constant([777_777, 777_778], [0.0, 5.0, 0.0])  # 5.0 at the one step 777777
    x, y, i, top = _curve(spike, 1_000_003, [777_777, 777_778])
    assert len(x) < 50_000
    assert y.max() == 5.0 and y.min() == 0.0 and (i, top) == (777_777, 5.0)
    assert x[np.argmax(y)] <= 777_777 < x[np.argmax(y)] + 1_000_003 / 20_000 + 1


def test_huge_horizons_are_sampled_keeping_every_phase_change() -> None:
    # 10**12 steps cannot be evaluated one by one: each column is sampled, and the steps b - 1 and b
    # of every phase change are always among the samples, so a one-step spike far out is still drawn.
    n = 10**12
    spike = lrkit.piecewise_constant([123_456_789_012, 123_456_789_013], [0.0, 5.0, 0.0])
    evs = [e.step for e in _phases.events(spike, n)]
    x, y, i, top = _curve(spike, n, evs)
    assert len(x) < 200_000
    assert (i, top) == (123_456_789_012, 5.0) and y.min() == 0.0
    # a cosine over 2**40 steps: the envelope starts at 1 and ends at its last value, 0.5 * (1 + cos(pi * (n-1)/n))
    big = 2**40
    x, y, i, top = _curve(lrkit.cosine(1.0, big), big, [])
    assert (x[0], y[0], i, top) == (0.0, 1.0, 0, 1.0)
    assert x[-1] == big - 1 and y[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * (big - 1) / big)), abs=1e-20)


#: the child's own peak RSS in kB: /proc's VmHWM is reset by exec, while ru_maxrss on Linux keeps the
#: peak of the (large) pytest process the child was forked from
PEAK_KB = (
    "def _peak_kb():\n"
    "    try:\n"
    "        with open('/proc/self/status') as f:\n"
    "            return next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))\n"
    "    except OSError:\n"
    "        import resource\n"
    "        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
)


def test_cosine_over_2_40_steps_displays_in_a_notebook_with_little_memory() -> None:
    # used to raise MemoryError (2**40 float64 values), and a 10M-step cosine took 673 MB
    code = (
        PEAK_KB + "import lrkit\n"
        "a = lrkit.cosine(1, 2**40)._repr_png_()\n"
        "b = lrkit.cosine(1, 10_000_000)._repr_png_()\n"
        "print(a[:4] == b[:4] == b'\\x89PNG', _peak_kb())\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    ok, kb = r.stdout.split()
    assert ok == "True", r.stderr
    assert int(kb) < 250_000, kb  # measured: about 71 MB, most of it matplotlib itself


def test_a_failed_save_keeps_the_old_file(tmp_path) -> None:
    pytest.importorskip("resource")
    path = tmp_path / "plot.png"
    path.write_bytes(b"old")
    code = (
        "import resource, signal, lrkit\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
        "try:\n"
        f"    lrkit.plot('cosine(1e-3, 1000)', path={str(path)!r})\n"
        "except OSError as exc:\n"
        "    print('failed', exc.errno)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.stdout.startswith("failed"), (r.stdout, r.stderr)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png"]


def test_save_format_from_the_suffix(tmp_path) -> None:
    lrkit.plot("cosine(1e-3, 100)", path=tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_bytes().lstrip().startswith(b"<?xml")
    with pytest.raises(ValueError, match="the file name must end in one of"):
        lrkit.plot("cosine(1e-3, 100)", path=tmp_path / "a.unknown")


# -- warnings -----------------------------------------------------------------


def warns(s: lrkit.Schedule, steps: int) -> list[str]:
    return _phases.warnings_for(s, _phases.values(s, steps))


def test_no_warning_for_the_seed_schedule() -> None:
    assert warns(seed_warmup_multistep(), 40000) == []


def test_warmup_longer_than_training_and_peak_never_reached() -> None:
    # noam(512, 4000) over 3000 steps: the peak (512 * 4000) ** -0.5 comes at step 4000
    out = warns(lrkit.noam(512, warmup_steps=4000), 3000)
    assert out[0].startswith("warmup longer than training: the warmup (noam) ends at step 4000")
    assert out[1].startswith(
        f"peak never reached: the LR keeps rising after training ends, to {(512 * 4000) ** -0.5:.6g}"
    )
    assert len(out) == 2


def test_decay_ends_early() -> None:
    # the seed's CosineDecay(0.001, 4000) over 40000 steps: 0 for the last 36000 steps
    (w,) = warns(lrkit.cosine(0.001, 4000), 40000)
    assert "decay (cosine) ends at step 4000" in w and "holds 0 for 36000 steps (90% of training)" in w
    assert warns(lrkit.cosine(0.001, 4000), 4001) == []


def test_lr_rising_again_at_the_end() -> None:
    # triangular cycle 1e-4 -> 1e-3 over 1000 steps and back: at 2500 it is halfway up again
    (w,) = warns(lrkit.cyclic(1e-4, 1e-3, 1000), 2500)
    assert w.startswith("LR rising again at the end") and "step 2000" in w
    # ending on the last step of a cycle is fine
    assert warns(lrkit.cyclic(1e-4, 1e-3, 1000), 2000) == []


# -- packaging ----------------------------------------------------------------


def test_plot_is_a_function_and_import_stays_light() -> None:
    code = (
        "import sys, lrkit\n"
        "assert 'matplotlib' not in sys.modules\n"
        "import lrkit.plotting\n"
        "from lrkit import plot\n"
        "assert lrkit.plot is lrkit.plotting.plot is plot and callable(lrkit.plot)\n"
        "lrkit.plot(lrkit.constant(0.1), steps=10)\n"
        "assert lrkit.plot is plot\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'plot must not touch pyplot'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_notebook_display() -> None:
    png = lrkit.noam(128)._repr_png_()
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    # unresolved durations cannot be drawn: Jupyter falls back to the text repr
    assert lrkit.cosine(0.001, "10ep")._repr_png_() is None


def test_multiplicative_warmup_over_a_decay_never_reaches_the_peak() -> None:
    # warmup(cosine(1e-3, 8000), 2000, prefix=False) ramps to cosine(2000) = 1e-3 * (1 + cos(pi / 4)) / 2 = 0.000853553
    (w,) = _phases.structural_warnings(lrkit.warmup(lrkit.cosine(1e-3, 8000), steps=2000, prefix=False))
    assert w.startswith("peak never reached") and f"ramps to {1e-3 * (1 + math.cos(math.pi / 4)) / 2:.6g}" in w
    # the prefix form starts the cosine after the warmup, and the seed's schedules hold during theirs
    assert _phases.structural_warnings(lrkit.warmup(lrkit.cosine(1e-3, 8000), steps=2000, prefix=True)) == []
    assert _phases.structural_warnings(seed_warmup_multistep()) == []
    assert warns(lrkit.warmup(lrkit.cosine(1e-3, 8000), steps=2000, prefix=False), 8001)[0].startswith(
        "peak never reached"
    )


def test_log_scale_needs_a_positive_value() -> None:
    with pytest.raises(ValueError, match="log=True needs a positive learning rate"):
        lrkit.plot(lrkit.constant(0.0), steps=10, log=True)
