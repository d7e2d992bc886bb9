"""The ``lrkit`` command line, end to end in a subprocess, and the terminal chart.

Expected values come from the seeds' formulas; the chart snapshots are derived
by hand from the chart's documented rules (see the comments above each one).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from bisect import bisect_right
from pathlib import Path

import numpy as np
import pytest

import lrkit
from lrkit.terminal import chart, table

SEED_WMS = (
    "warmup(multistep(1e-3, milestones=['10ep', '12ep', '14ep', '16ep'], gamma=0.5), steps=500, start_factor=1/3)"
)


def seed_get_lr(t: int) -> float:
    """The seed's WarmupMultiStepLR.get_lr at last_epoch = t (linear warmup, base_lr 0.001, 2000 steps/epoch)."""
    warmup_factor = 1.0
    if t < 500:
        alpha = float(t) / 500
        warmup_factor = (1.0 / 3) * (1 - alpha) + alpha
    return 0.001 * warmup_factor * 0.5 ** bisect_right([20000, 24000, 28000, 32000], t)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("LRKIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "lrkit", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120
    )


# -- plot / demo --------------------------------------------------------------


def test_plot_writes_png_and_svg(tmp_path: Path) -> None:
    png = tmp_path / "wms.png"
    r = run("plot", SEED_WMS, "cosine(1e-3, 4000)", "--steps-per-epoch", "2000", "--steps", "40000", "-o", str(png))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"wrote {png} (2 schedule(s), 40000 steps)\n"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000

    svg = tmp_path / "noam.svg"
    r = run("plot", "noam(128)", "--log", "--label", "Transformer", "-o", str(svg))
    assert r.returncode == 0, r.stderr
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert sum(1 for el in root.iter() if el.tag.endswith("path")) > 20


def test_plot_label_count_must_match(tmp_path: Path) -> None:
    r = run("plot", "noam(128)", "cosine(1, 10)", "--label", "only one", "-o", str(tmp_path / "x.png"))
    assert r.returncode == 2
    assert r.stderr == "lrkit: error: --label was given 1 times for 2 SPEC(s): give one per SPEC\n"


def test_demo(tmp_path: Path) -> None:
    r = run("demo", "-o", "demo.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lines = {line.split()[0]: line.split() for line in r.stdout.splitlines() if line[:1].isalpha()}
    # noam: d_model ** -0.5 * min(t ** -0.5, t * 4000 ** -1.5): 0 at step 0, peak (128 * 4000) ** -0.5 at 4000,
    # and 128 ** -0.5 * 39999 ** -0.5 at the last step
    assert lines["noam"][2:6] == ["0", f"{(128 * 4000) ** -0.5:.6g}", "4000", f"{(128 * 39999) ** -0.5:.6g}"]
    # the seed's WarmupMultiStepLR: 0.001 / 3 at step 0, 0.001 from step 500, 0.001 / 2**4 at the end
    assert lines["WarmupMultiStepLR"][1:] == [f"{0.001 / 3:.6g}", "0.001", "500", f"{0.001 / 16:.6g}"]
    # Keras ExponentialDecay(0.001, 4000, 0.9): 0.001 * 0.9 ** (39999 / 4000) at the end
    assert lines["exp"][1:] == ["0.001", "0.001", "0", f"{0.001 * 0.9 ** (39999 / 4000):.6g}"]
    # the seed's custom schedule: 0.001 * step / 4000, then 0.001 * 4000 / step
    assert lines["warmup"][1:] == ["0", "0.001", "4000", f"{0.001 * 4000 / 39999:.6g}"]
    assert lines["cosine"][1:] == ["0.001", "0.001", "0", "0"]
    assert lines["piecewise"][1:] == ["0.001", "0.001", "0", "0.0001"]
    assert r.stdout.endswith("wrote demo.png\n")


def test_console_script_and_version() -> None:
    exe = shutil.which("lrkit", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("the lrkit console script is not installed next to this python")
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (0, f"lrkit {lrkit.__version__}\n")


# -- export -------------------------------------------------------------------


def test_export_csv_is_the_python_values() -> None:
    r = run("export", SEED_WMS, "--steps-per-epoch", "2000", "--steps", "40000", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["step", "lr"]
    steps = np.array([int(a) for a, _ in rows[1:]])
    lr = np.array([float(b) for _, b in rows[1:]])
    np.testing.assert_array_equal(steps, np.arange(40000))
    s = lrkit.parse(SEED_WMS).resolve(steps_per_epoch=2000)
    np.testing.assert_array_equal(lr, s(np.arange(40000)))  # bit for bit
    expected = np.array([seed_get_lr(t) for t in range(40000)])
    np.testing.assert_allclose(lr, expected, rtol=1e-15, atol=0)


def test_export_json_to_file(tmp_path: Path) -> None:
    out = tmp_path / "noam.json"
    r = run("export", "noam(128)", "--steps", "5000", "--format", "json", "-o", str(out))
    assert r.returncode == 0, r.stderr
    data = json.loads(out.read_text())
    assert data["steps"] == 5000 and lrkit.parse(data["schedule"]) == lrkit.noam(128)
    np.testing.assert_array_equal(np.array(data["lr"]), lrkit.noam(128)(np.arange(5000)))
    t = np.arange(1, 5000, dtype=np.float64)
    np.testing.assert_allclose(data["lr"][1:], 128**-0.5 * np.minimum(t**-0.5, t * 4000**-1.5), rtol=1e-12)


def test_spec_from_a_config_file(tmp_path: Path) -> None:
    s = lrkit.parse(SEED_WMS)
    path = tmp_path / "wms.yaml"
    lrkit.save(s, path)
    r = run("export", str(path), "--steps-per-epoch", "2000", "--steps", "600")
    assert r.returncode == 0, r.stderr
    lr = [float(line.split(",")[1]) for line in r.stdout.splitlines()[1:]]
    assert lr == pytest.approx([seed_get_lr(t) for t in range(600)], rel=1e-15)
    r = run("export", json.dumps(s.to_dict()), "--steps-per-epoch", "2000", "--steps", "600")
    assert r.returncode == 0, r.stderr
    assert [float(line.split(",")[1]) for line in r.stdout.splitlines()[1:]] == lr


# -- describe / compare -------------------------------------------------------


def test_describe_seed_schedule() -> None:
    r = run("describe", SEED_WMS, "--steps-per-epoch", "2000", "--total", "40000")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "resolved: warmup(multistep(0.001, milestones=[20000, 24000, 28000, 32000], gamma=0.5)" in out
    # phases from the seed's parameters: warmup 0..499, then constant until each milestone
    for seg in ("0..499", "500..19999", "20000..23999", "24000..27999", "28000..31999", "32000..39999"):
        assert f"\n  {seg} " in out
    # boundary values at the first milestone b = 20000: s(b - 1) = 0.001, s(b) = s(b + 1) = 0.0005
    assert [ln.split() for ln in out.splitlines() if ln.strip().startswith("20000 ")] == [
        ["20000", "milestone", "multistep", "0.001", "0.0005", "0.0005"]
    ]
    assert out.endswith("warnings:\n  none\n")


def test_describe_warns() -> None:
    r = run("describe", "noam(512, warmup_steps=4000)", "--steps", "3000")
    assert r.returncode == 0, r.stderr
    warnings = r.stdout.split("warnings:\n")[1]
    assert "warmup longer than training" in warnings and "peak never reached" in warnings
    r = run("describe", "cosine(1e-3, 4000)", "--total", "40000")
    assert "decay ends early" in r.stdout.split("warnings:\n")[1]
    # without a training length there is nothing to check against
    r = run("describe", "cosine(1e-3, 4000)")
    assert "give --steps or --total" in r.stdout.split("warnings:\n")[1]


def test_compare() -> None:
    # the seed's Keras CosineDecay equals a cosine interpolation from 0.001 at 0 to 0 at 4000
    r = run("compare", "cosine(1e-3, 4000)", "piecewise_interpolate([0, 4000], [1e-3, 0], method='cosine')")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "identical at every step" in r.stdout
    # a warmup of 100 steps from 0 changes exactly steps 0..99; the largest gap is at step 0 (0.001 vs 0)
    r = run("compare", "cosine(1e-3, 4000)", "warmup(cosine(1e-3, 4000), steps=100)", "--steps", "5000")
    assert r.returncode == 1
    assert "they differ at 100 of 5000 steps (2%): steps 0..99\n" in r.stdout
    first = next(ln for ln in r.stdout.splitlines() if ln.startswith("first difference"))
    assert first.split()[2:] == ["0", "0.001", "0", "0.001"]
    # within a tolerance they are equal
    r = run("compare", "constant(1.0)", "constant(1.0000001)", "--rtol", "1e-6")
    assert r.returncode == 0 and "equal within the tolerance" in r.stdout


# -- show: the terminal chart -------------------------------------------------


def test_chart_small_snapshot() -> None:
    # piecewise_constant([4, 8], [0.003, 0.002, 0.001]) over 12 steps, 12 columns (one step each), 4 rows.
    # y runs from 0 (row 0) to 0.003 (row 3): row(v) = round(v / 0.003 * 3) -> 0.003: 3, 0.002: 2, 0.001: 1.
    # Columns 0-3 are on row 3; column 4 (value 0.002) joins the previous value's row, so rows 2-3;
    # columns 5-7 row 2; column 8 rows 1-2; columns 9-11 row 1. Labels on the top, middle ((4-1)//2 = 1:
    # 0.003 * 1/3 = 0.001) and bottom rows. The x axis names steps 0, (12-1)//2 = 5 and 11.
    s = lrkit.piecewise_constant([4, 8], [0.003, 0.002, 0.001])
    expected = (
        "0.003 +*****\n      |    *****\n0.001 +        ****\n    0 +\n      +------------\n       0    5    11   step"
    )
    assert chart(s(np.arange(12)), width=12, height=4) == expected


def test_show_snapshot() -> None:
    # The same schedule through `lrkit show`: the chart, then the key points. Keys: start (0), the two
    # boundaries where the value changes (4 and 8), the peak (0.003, first at step 0), the end (step 11).
    r = run(
        "show", "piecewise_constant([4, 8], [0.003, 0.002, 0.001])", "--steps", "12", "--width", "12", "--height", "4"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "piecewise_constant([4, 8], [0.003, 0.002, 0.001])\n"
        "\n"
        "0.003 +*****\n"
        "      |    *****\n"
        "0.001 +        ****\n"
        "    0 +\n"
        "      +------------\n"
        "       0    5    11   step\n"
        "\n"
        "point     step     lr\n"
        "start        0  0.003\n"
        "peak         0  0.003\n"
        "boundary     4  0.002\n"
        "boundary     8  0.001\n"
        "end         11  0.001\n"
    )


def test_show_seed_schedule_snapshot() -> None:
    # The seed's WarmupMultiStepLR over 40000 steps, 64 x 12. Column c covers steps c*625 .. c*625+624.
    # Rows: row(v) = round(v / 0.001 * 11), halves to even: 0.001 -> 11, 0.0005 -> 6 (5.5), 0.00025 -> 3
    # (2.75), 0.000125 -> 1 (1.375), 6.25e-05 -> 1 (0.6875); the warmup in column 0 spans 0.001/3 -> 4 (3.67)
    # up to 11. Milestones 20000, 24000, 28000, 32000 fall in columns 32, 38 (38.4), 44 (44.8), 51 (51.2),
    # each a vertical stroke from the old row to the new one. Middle label: row 5 = 0.001 * 5/11 = 0.000455.
    r = run("show", SEED_WMS, "--steps-per-epoch", "2000", "--steps", "40000")
    assert r.returncode == 0, r.stderr
    chart_lines = r.stdout.split("\n\n")[1].splitlines()
    assert chart_lines == [
        "   0.001 +*********************************",
        "         |*                               *",
        "         |*                               *",
        "         |*                               *",
        "         |*                               *",
        "         |*                               *******",
        "0.000455 +*                                     *",
        "         |*                                     *",
        "         |                                      *******",
        "         |                                            *",
        "         |                                            ********************",
        "       0 +",
        "         +----------------------------------------------------------------",
        "          0                            19999                         39999   step",
    ]
    table_lines = r.stdout.split("\n\n")[2].splitlines()
    assert [ln.split()[:2] for ln in table_lines[1:]] == [
        ["start", "0"],
        ["warmup", "end"],
        ["peak", "500"],
        ["milestone", "20000"],
        ["milestone", "24000"],
        ["milestone", "28000"],
        ["milestone", "32000"],
        ["end", "39999"],
    ]
    assert table_lines[1].split()[-1] == f"{0.001 / 3:.6g}" and table_lines[-1].split()[-1] == "6.25e-05"


def test_chart_log_and_validation() -> None:
    # 10 ** -k for k = 0..3 on a log axis spans 3 decades over 4 rows: one row per decade, top to bottom
    out = chart([1.0, 0.1, 0.01, 0.001], width=4, height=4, log=True).splitlines()
    assert [ln.split("+")[-1].split("|")[-1] for ln in out[:4]] == ["**", " **", "  **", "   *"]
    assert out[0].startswith("    1 +") and out[3].startswith("0.001 +")
    with pytest.raises(ValueError, match="values must not be empty"):
        chart([])
    with pytest.raises(ValueError, match="height >= 2"):
        chart([1.0], height=1)


def test_table_alignment() -> None:
    assert table([["a", 1, "0.5"], ["bbb", 100, "x"]], ["name", "n", "v"]) == (
        "name    n  v\na       1  0.5\nbbb   100  x"
    )


# -- errors -------------------------------------------------------------------

BAD = [
    (["show", "cosin(1e-3, 10)"], "unknown schedule 'cosin'; did you mean 'cosine'"),
    (["show", "cosine(1e-3, steps=-1)"], "cosine(): steps must be >= 1, got -1"),
    (["show", "cosine(1e-3,"], "malformed spec"),
    (["show", "__import__('os').system('true')"], "expected a schedule name"),
    (["show", "__import__('os')"], "unknown schedule '__import__'"),
    (["show", "cosine(1e-3, '10ep')"], "give --steps-per-epoch"),
    (["show", "cosine(1e-3, '5%')"], "give --total"),
    (["show", "missing.yaml"], "no such schedule file: 'missing.yaml'"),
    (["show", "{not json"], "Expecting property name"),
    (["show", "cosine(1e-3, 10)", "--steps", "0"], "argument --steps: must be a positive whole number, got '0'"),
    (["show", "cosine(1e-3, 10)", "--steps", "10**9"], "argument --steps: must be a positive whole number"),
    (["show", "cosine(1e-3, 10)", "--steps", "100000000"], "must be at most 10000000"),
    (["show", "cosine(1e-3, 10)", "--width", "x"], "argument --width"),
    (["export", "cosine(1e-3, 10)", "--format", "xml"], "invalid choice: 'xml'"),
    (["export", "cosine(1e-3, 10)", "-o", "/nonexistent-dir/x.csv"], "No such file or directory"),
    (["plot", "cosine(1e-3, 10)", "-o", "out.xyz"], "the file name must end in one of"),
    (["compare", "cosine(1e-3, 10)"], "the following arguments are required"),
    (["compare", "cosine(1e-3, 10)", "cosine(1e-3, 10)", "--rtol", "-1"], "argument --rtol"),
    (["describe"], "the following arguments are required: SPEC"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) or "(none)" for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    r = run(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == ""
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith("lrkit: error: ") and r.stderr.endswith("\n") and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr


def test_main_in_process_returns_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from lrkit.cli import main

    assert main(["export", "constant(0.5)", "--steps", "2"]) == 0
    assert capsys.readouterr().out == "step,lr\n0,0.5\n1,0.5\n"
    assert main(["compare", "constant(0.5)", "constant(0.25)", "--steps", "3"]) == 1
    assert main(["show", "constant("]) == 2
    assert capsys.readouterr().err.startswith("lrkit: error: malformed spec")
