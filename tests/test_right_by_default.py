"""The common recipe gives the LR the user meant: prefix warmup by default, decays that last until the end
of training, multipliers that cannot pass as learning rates, and describe catching the usual mistakes.

Expected values come from the real ``transformers`` (its ``get_*_schedule_with_warmup`` functions, stepped
through torch's ``LambdaLR``) and from the formulas written next to each test.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import lrkit

torch = pytest.importorskip("torch")
transformers_optimization = pytest.importorskip("transformers.optimization")


def hf_lrs(make, base_lr: float, steps: int) -> np.ndarray:
    """The LR torch's LambdaLR sets for updates 0..steps-1 under an HF schedule (stepped for real)."""
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    sched = make(opt)
    out = np.empty(steps)
    for k in range(steps):
        out[k] = opt.param_groups[0]["lr"]
        opt.step()
        sched.step()
    return out


# -- 1. the common recipe, right by default ---------------------------------------------------
def test_warmup_cosine_to_the_end_of_training_equals_hf_min_lr_schedule() -> None:
    s = lrkit.warmup(lrkit.cosine(3e-4, floor=3e-5), steps=2000).resolve(total_steps=100_000)
    # the cosine runs over what is left after the warmup: 100,000 - 2,000 steps
    assert s == lrkit.warmup(lrkit.cosine(3e-4, steps=98_000, floor=3e-5), steps=2000, prefix=True)
    want = hf_lrs(
        lambda opt: transformers_optimization.get_cosine_with_min_lr_schedule_with_warmup(
            opt, 2000, 100_000, min_lr_rate=0.1
        ),
        3e-4,
        100_001,
    )
    got = s(np.arange(100_001))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    assert s(2000) == 3e-4  # exactly the peak
    assert s(100_000) == 3e-5  # exactly the floor at step N, the step count after the last update
    assert float(got[2000]) == 3e-4 and float(got[100_000]) == 3e-5


def test_the_same_recipe_as_spec_text_config_file_and_cli(tmp_path) -> None:
    want = lrkit.warmup(lrkit.cosine(3e-4, steps=98_000, floor=3e-5), steps=2000)
    text = "warmup(cosine(3e-4, floor=3e-5), steps='2%')"
    assert lrkit.parse(text).resolve(total_steps=100_000) == want
    for suffix in (".json", ".yaml", ".toml"):
        path = tmp_path / f"s{suffix}"
        lrkit.save(lrkit.parse(text), path)
        assert lrkit.load(path).resolve(total_steps=100_000) == want
    r = subprocess.run(
        [sys.executable, "-m", "lrkit", "export", text, "--total", "100000", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(r.stdout)
    assert data["steps"] == 100_000
    assert data["lr"][2000] == 3e-4
    np.testing.assert_array_equal(np.array(data["lr"]), want(np.arange(100_000)))


def test_scheduler_resolves_the_rest_of_the_run() -> None:
    from lrkit.torch import Scheduler

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = Scheduler(opt, lr="warmup(cosine(3e-4, floor=3e-5), steps='2%')", total_steps=100_000)
    assert sched.schedule == lrkit.warmup(lrkit.cosine(3e-4, steps=98_000, floor=3e-5), steps=2000)


def test_warmup_linear_decay_equals_hf_linear_schedule() -> None:
    s = lrkit.warmup(lrkit.linear(1e-3, 0.0), steps=500).resolve(total_steps=10_000)
    want = hf_lrs(lambda opt: transformers_optimization.get_linear_schedule_with_warmup(opt, 500, 10_000), 1e-3, 10_001)
    np.testing.assert_allclose(s(np.arange(10_001)), want, rtol=1e-12, atol=1e-18)
    assert s(500) == 1e-3 and s(10_000) == 0.0


def test_the_multiplicative_form_is_one_keyword_away() -> None:
    # the seed's WarmupMultiStepLR: milestones fixed in training time, the warmup multiplies their first steps
    s = lrkit.warmup(lrkit.multistep(1e-3, [1000], 0.1), steps=500, start_factor=1 / 3, prefix=False)
    assert s(0) == 1e-3 / 3  # start_factor * schedule(0)
    assert s(500) == 1e-3 and s(1000) == pytest.approx(1e-4, rel=1e-15)  # the milestone stays at 1000
    p = lrkit.warmup(lrkit.multistep(1e-3, [1000], 0.1), steps=500, start_factor=1 / 3)
    assert p(1000) == 1e-3 and p(1500) == pytest.approx(1e-4, rel=1e-15)  # prefix: the milestone moves to 1500
    assert repr(s).endswith("prefix=False)") and "prefix" not in repr(p)


def test_the_warmup_multistep_drop_in_keeps_its_values() -> None:
    from lrkit.torch import WarmupMultiStepLR

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01)
    sched = WarmupMultiStepLR(opt, milestones=[10, 20], gamma=0.1, warmup_factor=0.5, warmup_iters=4)
    assert sched.schedule.prefix is False
    lrs = []
    for _ in range(25):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    # the seed's formula: 0.01 * warmup_factor(t) * 0.1 ** bisect_right([10, 20], t)
    for t, lr in enumerate(lrs):
        alpha = t / 4
        factor = 0.5 * (1 - alpha) + alpha if t < 4 else 1.0
        assert lr == pytest.approx(0.01 * factor * 0.1 ** ((t >= 10) + (t >= 20)), rel=1e-14)


def test_open_ended_lengths() -> None:
    # after a join boundary: the rest of the run from the boundary
    s = lrkit.join([lrkit.constant(1e-3), lrkit.linear(1e-3, 0.0)], boundaries=[300]).resolve(total_steps=1000)
    assert s.schedules[1] == lrkit.linear(1e-3, 0.0, steps=700)
    # a piece that does not run to the end of training gets its window
    s = lrkit.join([lrkit.cosine(1.0), lrkit.constant(0.1)], boundaries=[300]).resolve(total_steps=1000)
    assert s.schedules[0] == lrkit.cosine(1.0, steps=300)
    # inside a multiplicative warmup the schedule keeps the whole run
    s = lrkit.warmup(lrkit.polynomial(1.0, power=2.0), steps=10, prefix=False).resolve(total_steps=1000)
    assert s.schedule.decay_steps == 1000
    # wsd: the omitted phase takes what the others leave
    assert lrkit.wsd(1.0, 100, decay_steps="10%").resolve(total_steps=1000) == lrkit.wsd(1.0, 100, 800, 100)
    assert lrkit.wsd(1.0, 100, stable_steps=500).resolve(total_steps=1000) == lrkit.wsd(1.0, 100, 500, 400)
    assert lrkit.one_cycle(0.1).resolve(total_steps=500) == lrkit.one_cycle(0.1, 500)
    assert lrkit.tanh(1.0).resolve(total_steps=50).steps == 50


def test_open_ended_lengths_fail_loudly() -> None:
    with pytest.raises(ValueError, match=r"cosine\.steps is omitted.*pass total_steps"):
        lrkit.cosine(1.0).resolve()
    with pytest.raises(ValueError, match="resolve"):
        lrkit.cosine(1.0)(0)
    with pytest.raises(ValueError, match="no step is left"):
        lrkit.warmup(lrkit.cosine(1.0), steps=1000).resolve(total_steps=1000)
    with pytest.raises(TypeError, match="stable_steps or decay_steps"):
        lrkit.wsd(1.0, 10)
    with pytest.raises(ValueError, match="already take"):
        lrkit.wsd(1.0, 600, decay_steps=500).resolve(total_steps=1000)
    # round trips keep the omission
    s = lrkit.warmup(lrkit.cosine(3e-4, floor=3e-5), steps=2000)
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    assert repr(s) == "warmup(cosine(0.0003, floor=3e-05), steps=2000)"


# -- 2. factors and learning rates ---------------------------------------------------------------
def test_multipliers_are_typed() -> None:
    m = lrkit.multiplier(lrkit.warmup(lrkit.cosine(1.0, 900), steps=100))
    assert m.is_multiplier and m(100) == 1.0
    assert not lrkit.scale(m, 3e-4).is_multiplier  # an LR again
    assert lrkit.scale(m, 3e-4)(100) == 3e-4
    assert (m * lrkit.constant(1e-3)).is_multiplier is False  # LR x factor = LR
    assert (m * m).is_multiplier
    assert lrkit.warmup(m, steps=5).is_multiplier and lrkit.clip(m, 0.1).is_multiplier
    assert lrkit.multiplier(m) == m
    assert lrkit.parse(repr(m)) == m
    with pytest.raises(ValueError, match="mix learning rates and multipliers"):
        lrkit.join([m, lrkit.constant(1e-3)], boundaries=[10])


def test_describe_labels_factors() -> None:
    from lrkit import _phases

    m = lrkit.multiplier(lrkit.cosine(1.0, 100))
    assert _phases.value_label(m) == "factor" and _phases.value_label(lrkit.cosine(1.0, 100)) == "lr"
    vals = _phases.values(m, 100)
    assert not any("multiplier used as a learning rate" in w for w in _phases.warnings_for(m, vals))
    plain = lrkit.cosine(1.0, 100)
    assert any("multiplier used as a learning rate" in w for w in _phases.warnings_for(plain, vals))


# -- 4. describe catches what users actually get wrong -----------------------------------------------
def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lrkit", *args], capture_output=True, text=True)


def test_describe_strict_exits_1_on_a_warning() -> None:
    bad = run_cli("describe", "warmup(cosine(1e-3, steps=9000), steps=1000, prefix=False)", "--total", "10000")
    assert bad.returncode == 0 and "peak never reached" in bad.stdout
    strict = run_cli(
        "describe", "warmup(cosine(1e-3, steps=9000), steps=1000, prefix=False)", "--total", "10000", "--strict"
    )
    assert strict.returncode == 1
    good = run_cli("describe", "warmup(cosine(1e-3), steps='10%')", "--total", "10000", "--strict")
    assert good.returncode == 0, good.stdout


@pytest.mark.parametrize(
    ("spec", "warning"),
    [
        ("linear(1e-3, 0.0, steps=5000)", "decay ends early"),  # linear decays too (not only cosine)
        ("polynomial(1e-3, 5000, power=2.0)", "decay ends early"),
        ("cosine(1e-3, 20000)", "decay unfinished"),  # a 20k decay in a 10k run ends at 50% of its peak
        ("warmup(cosine(1e-3, 1000), steps=5000)", "warmup longer than the phase after it"),
        ("warmup(cosine(1.0), steps=100)", "multiplier used as a learning rate"),
    ],
)
def test_describe_warns(spec: str, warning: str) -> None:
    r = run_cli("describe", spec, "--total", "10000", "--strict")
    assert r.returncode == 1 and warning in r.stdout, r.stdout + r.stderr


def test_decay_unfinished_reports_the_share_left() -> None:
    from lrkit import _phases

    # cosine over 20,000 steps at step 9,999: (1 + cos(pi * 9999 / 20000)) / 2 = 0.50008 of the peak
    s = lrkit.cosine(1e-3, 20_000)
    (w,) = [w for w in _phases.warnings_for(s, _phases.values(s, 10_000)) if "unfinished" in w]
    assert "50%" in w and "20000" in w


def test_run_length_from_epochs() -> None:
    # a 30-epoch one-cycle at 391 steps/epoch: 11,730 rows
    r = run_cli("export", "one_cycle(0.1)", "--epochs", "30", "--steps-per-epoch", "391")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) == 1 + 11_730
    r = run_cli("export", "one_cycle(0.1)", "--epochs", "30")
    assert r.returncode == 2 and "--steps-per-epoch" in r.stderr


# -- 5. smaller traps -------------------------------------------------------------------------------------
def test_calling_a_schedule_without_a_step_says_how_to_use_it_in_keras() -> None:
    with pytest.raises(TypeError, match=r"lrkit\.keras\.LearningRateSchedule"):
        lrkit.cosine(1e-3, 100)()


def test_a_multiplier_is_never_taken_for_a_learning_rate() -> None:
    from lrkit.compat import hf
    from lrkit.torch import Scheduler

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=3e-4)
    factors = hf.get_cosine_schedule_with_warmup(num_warmup_steps=10, num_training_steps=100)
    assert factors.is_multiplier
    with pytest.raises(TypeError, match="factor="):
        Scheduler(opt, lr=factors)
    sched = Scheduler(opt, factor=factors)  # the right way: 3e-4 times the factor
    assert sched.values_at(10) == [3e-4]
    assert Scheduler(opt, lr=lrkit.scale(factors, 3e-4)).values_at(10) == [3e-4]


def test_a_mapping_with_a_type_is_one_schedule_not_a_per_group_map() -> None:
    from lrkit.torch import Scheduler

    opt = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))], "name": "body"},
            {"params": [torch.nn.Parameter(torch.zeros(1))], "name": "head"},
        ],
        lr=0.1,
    )
    one = Scheduler(opt, lr={"type": "cosine", "value": 1e-3, "steps": 10})
    assert one.schedules == (lrkit.cosine(1e-3, 10),) * 2
    per_group = Scheduler(opt, lr={"body": "constant(1e-4)", "head": {"type": "constant", "value": 1e-3}})
    assert per_group.schedules == (lrkit.constant(1e-4), lrkit.constant(1e-3))


README_SCHEDULES = [
    # (the schedule as README.md writes it, the run length it is shown with)
    (
        'lrkit.warmup(lrkit.cosine(3e-4, floor=3e-5), steps="2%")',
        "warmup(cosine(3e-4, floor=3e-5), steps='2%')",
        100_000,
    ),
    (
        "m = lrkit.warmup(lrkit.multistep(0.001, milestones=milestones, gamma=gamma),",
        "warmup(multistep(0.001, milestones=[10000, 12000, 14000, 16000], gamma=0.5), steps=500, "
        "start_factor=1/3, prefix=False)",
        20_000,
    ),
    ("lrkit describe \"warmup(cosine(1e-3), steps='10%')\" --total 10000", "warmup(cosine(1e-3), steps='10%')", 10_000),
]


@pytest.mark.parametrize(("in_readme", "spec", "total"), README_SCHEDULES, ids=[s for _, s, _ in README_SCHEDULES])
def test_every_readme_schedule_passes_describe_strict(in_readme: str, spec: str, total: int) -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert in_readme in readme  # the list above follows the README
    r = run_cli("describe", spec, "--total", str(total), "--strict")
    assert r.returncode == 0, r.stdout + r.stderr


def test_plots_label_factors_as_factors() -> None:
    pytest.importorskip("matplotlib")
    m = lrkit.multiplier(lrkit.cosine(1.0, 100))
    assert lrkit.plot(m, steps=100).axes[0].get_ylabel() == "Factor"
    assert lrkit.plot(lrkit.scale(m, 1e-3), steps=100).axes[0].get_ylabel() == "Learning Rate"
