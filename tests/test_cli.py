"""The ``lrkit`` command line, end to end in a subprocess, and the terminal chart.

Expected values come from the seeds' formulas; the chart snapshots are derived
by hand from the chart's documented rules (see the comments above each one).
"""

from __future__ import annotations

import csv
import io
import json
import math
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
    "warmup(multistep(1e-3, milestones=['10ep', '12ep', '14ep', '16ep'], gamma=0.5), steps=500, start_factor=1/3, "
    "prefix=False)"
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
    lines: dict[str, list[str]] = {}
    for line in r.stdout.splitlines():
        if line[:1].isalpha():  # the first row whose label starts with a word ("warmup", not "warmup + cosine")
            lines.setdefault(line.split()[0], line.split())
    rows = {line[:20].strip(): line[20:].split() for line in r.stdout.splitlines() if line[:1].isalpha()}
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
    if "warmup + cosine" in rows:
        # warmup(cosine(0.001, floor=1e-5), steps=2000) over 40000 steps: 0 at step 0, 0.001 at 2000, and at
        # step 39999 the cosine's local step 37999 of 38000: 1e-5 + 0.99e-3 * (1 + cos(pi * 37999 / 38000)) / 2
        end = 1e-5 + 0.99e-3 * (1 + math.cos(math.pi * 37999 / 38000)) / 2
        assert rows["warmup + cosine"] == ["0", "0.001", "2000", f"{end:.6g}"]
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
    r = run("compare", "cosine(1e-3, 4000)", "warmup(cosine(1e-3, 4000), steps=100, prefix=False)", "--steps", "5000")
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
    # compare SPEC --frameworks (the parity check, tests/test_parity.py): refused before any framework trains
    (["compare", "cosine(1e-3, 10)", "--frameworks", "tf"], "argument --frameworks: frameworks must be among torch,"),
    (["compare", "cosine(1e-3, 10)", "cosine(1e-3, 10)", "--max-ulps", "2"], "--max-ulps goes with --frameworks"),
    (["compare", "cosine(1e-3, 10)", "--frameworks", "torch", "--rtol", "0.1"], "with --frameworks the tolerance is"),
    (["compare", "cosine(1e-3, 10)", "--frameworks", "torch", "--max-ulps", "-1"], "argument --max-ulps"),
    (["compare", "cosine(1e-3, 10)", "--frameworks", "torch", "--steps", "100001"], "at most 100000"),
    (["compare", "multiplier(cosine(1.0, 10))", "--frameworks", "torch"], "is a multiplier"),
    (["compare", "cosine(1e-3, 10)", "--frameworks", "torch", "-o", "/nonexistent-dir/p.json"], "no such directory"),
    # a directory as -o: refused before training (it failed after, naming a temporary file in its parent)
    (["compare", "cosine(1e-3, 10)", "--frameworks", "torch", "-o", "."], "'.' is a directory"),
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


def test_compare_frameworks_output_dash_is_json_on_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Regression: -o - wrote the JSON to a file named "-" in the working directory.
    pytest.importorskip("torch")
    from lrkit.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["compare", "cosine(1e-3, 10)", "--frameworks", "torch", "--steps", "3", "-o", "-"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)  # stdout is the JSON alone
    assert record["steps"] == 3 and record["frameworks"]["torch"]["status"] == "pass"
    assert record["s"][0] == 1e-3 and len(record["frameworks"]["torch"]["lr"]) == 3
    assert "parity: every update of 3 applied s(k) in torch" in captured.err
    assert list(tmp_path.iterdir()) == []


def test_main_in_process_returns_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from lrkit.cli import main

    assert main(["export", "constant(0.5)", "--steps", "2"]) == 0
    assert capsys.readouterr().out == "step,lr\n0,0.5\n1,0.5\n"
    assert main(["compare", "constant(0.5)", "constant(0.25)", "--steps", "3"]) == 1
    assert main(["show", "constant("]) == 2
    assert capsys.readouterr().err.startswith("lrkit: error: malformed spec")


# -- issue 12: no data loss, no crash on valid input, bounded memory -------------------------------


def _fsize_limited(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a Python whose files may not grow past 4 kB (RLIMIT_FSIZE: a full disk, in small)."""
    prelude = (
        "import resource, signal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))\n"
    )
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("LRKIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", prelude + code], capture_output=True, text=True, env=env, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("command", "name", "old"),
    [
        (["export", "cosine(1e-3, 10)", "--steps", "5000"], "values.csv", b"step,lr\n0,0.1\n"),
        (["export", "cosine(1e-3, 10)", "--steps", "5000", "--format", "json"], "values.json", b"{}\n"),
        (["plot", "cosine(1e-3, 1000)"], "plot.png", b"\x89PNG old"),
        (["plot", "cosine(1e-3, 1000)"], "plot.svg", b"<svg/>"),
        (["demo", "--steps", "2000"], "demo.png", b"\x89PNG old"),
    ],
)
def test_a_failed_write_keeps_the_old_file(tmp_path: Path, command: list[str], name: str, old: bytes) -> None:
    pytest.importorskip("resource")
    path = tmp_path / name
    path.write_bytes(old)
    r = _fsize_limited(f"import sys, lrkit.cli\nsys.exit(lrkit.cli.main({[*command, '-o', str(path)]!r}))")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("lrkit: error: File too large"), r.stderr
    assert path.read_bytes() == old  # the previous file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # and no temporary file left behind


def test_export_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("old\n", encoding="utf-8")
    r = run("export", "linear(1.0, 0.0, 4)", "-o", str(path))
    assert r.returncode == 0, r.stderr
    # linear from 1 to 0 over 4 steps: 1 - t/4, then 0 at t = 4 (the default horizon shows the end)
    assert path.read_text(encoding="utf-8").splitlines()[:6] == [
        "step,lr",
        "0,1.0",
        "1,0.75",
        "2,0.5",
        "3,0.25",
        "4,0.0",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.csv"]


def test_export_streams_in_chunks_with_the_same_text(capsys: pytest.CaptureFixture[str]) -> None:
    from lrkit import cli

    s = lrkit.parse("warmup(cosine(1e-3, 200000), steps=1000)")
    n = 3 * cli._EXPORT_CHUNK + 17  # several chunks and a partial one
    vals = s(np.arange(n, dtype=np.float64)).tolist()
    assert cli.main(["export", repr(s), "--steps", str(n), "--format", "json"]) == 0
    assert capsys.readouterr().out == json.dumps({"schedule": repr(s), "steps": n, "lr": vals}) + "\n"
    assert cli.main(["export", repr(s), "--steps", str(n)]) == 0
    assert capsys.readouterr().out == "step,lr\n" + "".join(f"{k},{v!r}\n" for k, v in enumerate(vals))


def test_export_json_never_writes_nan(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from lrkit import cli

    class Broken(lrkit.constant):  # a schedule that breaks the contract, to exercise the guard
        spec_name = ""

        def _eval(self, t: object, xp: object) -> object:
            return np.where(np.asarray(t) == 3, np.nan, 1.0)

    bad = object.__new__(Broken)
    object.__setattr__(bad, "value", 1.0)
    object.__setattr__(bad, "_resolved", True)
    object.__setattr__(bad, "_depth", 1)
    chunks = cli._export_chunks(bad, 10, "json")
    with pytest.raises(ValueError, match=r"the value at step 3 is nan: JSON has no NaN or Infinity"):
        "".join(chunks)


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "one_cycle(0.1, 1002, pct_start=0.25)", "--steps", "250"],  # an event at 250.5 -> step 251
        ["describe", "one_cycle(0.1, 1002, pct_start=0.25)", "--steps", "250"],
        ["describe", "cosine_restarts(0.1, 3, t_mul=1.5)", "--steps", "8"],  # restart at 7.5 -> step 8
        ["show", "cosine_restarts(0.1, 3, t_mul=1.5)", "--steps", "8"],
        ["show", "linear(1.7976931348623157e308, 1e-300, 100)", "--log"],
        ["show", "constant(1.7976931348623157e308)", "--log"],
        ["describe", "join([constant(0.1), warmup(step(0.1, 2**53), 2**53)], [2**53])"],  # events near 2**54
        ["show", "multistep(0.1, [10, 2**52, 2**53])"],
        ["plot", "join([constant(0.1), warmup(step(0.1, 2**53), 2**53)], [2**53])", "-o", "p.png"],
    ],
)
def test_valid_input_never_crashes(argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from lrkit import cli

    if argv[0] == "plot":
        argv = [*argv[:-1], str(tmp_path / "p.png")]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().err == ""


def test_events_past_the_horizon_are_not_listed() -> None:
    from lrkit import _phases

    s = lrkit.one_cycle(0.1, 1002, pct_start=0.25)  # the warmup ends at 0.25 * 1002 - 1 = 249.5 -> step 250
    assert all(0 < e.step < 250 for e in _phases.events(s, 250))
    assert any(e.step == 250 for e in _phases.events(s, 251))


def test_log_chart_of_the_largest_floats() -> None:
    # the top label is 10 ** log10(max float), which can round past the largest float: it is clamped
    out = chart([1.7976931348623157e308, 1e-300, 1.0], width=3, height=4, log=True)
    assert "1.8e+308" in out and "1e-300" in out


def test_closed_stdout_and_stderr() -> None:
    env = {**os.environ}
    env.pop("LRKIT_DEBUG", None)
    show = [sys.executable, "-m", "lrkit", "show", "cosine(1e-3, 10)"]
    # stdout closed: a one-line error that says so, exit 2
    r = subprocess.run(show, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=False)
    assert r.returncode == 0  # (devnull is open: the baseline)
    r = subprocess.run(
        [sys.executable, "-c", "import os, sys, runpy; os.close(1); sys.argv = ['lrkit', 'show', 'cosine(1e-3, 10)']; "
         "sys.stdout = None; import lrkit.cli; sys.exit(lrkit.cli.main(sys.argv[1:]))"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert r.returncode == 2
    assert (
        r.stderr == "lrkit: error: cannot write the output: standard output is closed (redirect it, or give -o FILE)\n"
    )
    # stderr closed: errors still exit 2 (not 1 from a traceback while reporting)
    r = subprocess.run(
        [sys.executable, "-m", "lrkit", "show", "cosine(1e-3,"], stdout=subprocess.PIPE, stderr=None,
        pass_fds=(), close_fds=True, env=env, check=False,
        preexec_fn=lambda: os.close(2),
    )  # fmt: skip
    assert r.returncode == 2


def test_show_uses_the_terminal_width() -> None:
    def widest(*extra: str, columns: str | None = None) -> int:
        env = {**os.environ, "MPLBACKEND": "Agg"}
        env.pop("COLUMNS", None)
        if columns is not None:
            env["COLUMNS"] = columns
        r = subprocess.run(
            [sys.executable, "-m", "lrkit", "show", "linear(0.0, 1.0, 1000)", *extra],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        axis = next(line for line in r.stdout.splitlines() if line.strip().startswith("+-"))
        return axis.count("-")

    assert widest() == 64  # not a terminal, no COLUMNS: the documented default
    assert widest(columns="120") == 120 - 12  # the terminal's width less the labels
    assert widest(columns="20") == 16  # never narrower than 16 columns
    assert widest("--width", "30", columns="120") == 30  # --width wins


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


def test_export_of_10m_rows_has_bounded_memory(tmp_path: Path) -> None:
    pytest.importorskip("resource")
    # measured: 1.59 GB (CSV) and 887 MB (JSON) peak RSS before streaming, about 50 MB after
    code = (
        PEAK_KB + "import sys, lrkit.cli\n"
        "rc = lrkit.cli.main(['export', 'cosine(1e-3, 1000000)', '--steps', '1000000', '-o', sys.argv[1]])\n"
        "print(rc, _peak_kb())\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "v.csv")], capture_output=True, text=True, check=False
    )
    rc, kb = r.stdout.splitlines()[-1].split()
    assert rc == "0", r.stderr
    # 1M rows are 30 MB of text and 8 MB of values: streaming keeps the peak near the interpreter's own size
    assert int(kb) < 200_000, kb


# -- the CLI fuzz: random valid schedules x every command x random horizons ------------------------


@pytest.mark.slow
def test_cli_fuzz_valid_input_always_exits_0(tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from lrkit import cli
    from test_properties import schedules  # the shared random-schedule strategy

    commands = st.sampled_from(["show", "describe", "export", "compare", "plot", "show-log"])
    horizons = st.one_of(st.none(), st.integers(1, 300), st.integers(1, 30_000))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(schedules(), schedules(), commands, horizons)
    def check(s: lrkit.Schedule, other: lrkit.Schedule, command: str, steps: int | None) -> None:
        horizon = [] if steps is None else ["--steps", str(steps)]
        if command == "compare":
            argv = ["compare", repr(s), repr(other), *horizon]
        elif command == "plot":
            argv = ["plot", repr(s), *horizon, "-o", str(tmp_path / "fuzz.png")]
        elif command == "show-log":
            argv = ["show", repr(s), "--log", *horizon]
        elif command == "export":
            argv = ["export", repr(s), *horizon, "--format", "json", "-o", str(tmp_path / "fuzz.json")]
        else:
            argv = [command, repr(s), *horizon]
        err = io.StringIO()
        out = io.StringIO()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            code = cli.main(argv)
        finally:
            sys.stdout, sys.stderr = old
        expected = {0, 1} if command == "compare" else {0}
        if command == "plot" and steps is None and code == 2 and "log=True needs" in err.getvalue():
            return
        assert code in expected, (argv, err.getvalue())
        assert err.getvalue() == ""
        if command == "export":
            json.loads((tmp_path / "fuzz.json").read_text(encoding="utf-8"))  # standard JSON

    check()
