"""``lrkit.keras``: the Keras 3 adapter, trained for real on the jax and torch backends.

Training runs in subprocesses (``_keras_child.py``), one backend each, because
Keras picks its backend once per process.  The LR each update really used is
read back exactly from the weights (see the child's docstring) and compared
with the NumPy evaluation of the same schedule: these tests check the binding
(right step, right dtype, in-graph, saved and restored), the formulas are
tested elsewhere.  Tolerance: 4 float32 ulps of the schedule's peak (the torch
backend computes in float64 and rounds once, ≤ 0.5 ulp; jax without x64
computes in float32, measured ≤ 1.5 ulp here).

The light checks (argument forms, config round trip, errors) run in this
process on the backend tests/conftest.py sets (torch).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lrkit
from lrkit.plateau import Plateau

CHILD = Path(__file__).with_name("_keras_child.py")
BACKENDS = ["jax", "torch"]

# A warmup (30 steps, from 0.1 of the peak), a boundary at 180 and restarts at 240 and 300.
SPEC = (
    "join([warmup(cosine(0.01, steps=150), steps=30, start_factor=0.1, prefix=True),"
    " cosine_restarts(0.005, 60)], boundaries=[180])"
)
N = 320
PEAK = 0.01
TOL = 4 * float(np.spacing(np.float32(PEAK)))


def run_child(backend: str, scenario: str, **args: Any) -> dict[str, Any]:
    env = {**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, str(CHILD), scenario, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, f"{scenario} on {backend} failed:\n{out.stderr[-6000:]}"
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT ") :])


def assert_lrs(got: list[float], expected: np.ndarray, what: str) -> None:
    got_a = np.asarray(got, dtype=np.float64)
    assert got_a.shape == expected.shape, (what, got_a.shape, expected.shape)
    diff = np.abs(got_a - expected)
    if (diff > TOL).any():
        k = int(np.argmax(diff > TOL))
        raise AssertionError(f"{what}: update {k} used {got_a[k]!r}, s({k}) = {expected[k]!r} (tolerance {TOL:.2e})")


def test_spec_hand_values() -> None:
    # Anchors derived by hand, so the NumPy expectations below are of the schedule we mean.
    s = lrkit.parse(SPEC)
    assert s(0) == pytest.approx(0.1 * 0.01)  # warmup starts at start_factor * peak
    assert s(30) == pytest.approx(0.01)  # prefix warmup done: cosine's clock 0
    assert s(105) == pytest.approx(0.005)  # half way down the 150-step cosine
    assert s(179) == pytest.approx(0.01 * (1 + math.cos(math.pi * 149 / 150)) / 2)
    assert s(180) == s(240) == s(300) == pytest.approx(0.005)  # the boundary, then each restart
    assert s(239) == pytest.approx(0.005 * (1 + math.cos(math.pi * 59 / 60)) / 2)


# -- model.fit: the LR of every update ---------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_uses_s_of_k_at_update_k(backend: str) -> None:
    out = run_child(backend, "fit", spec=SPEC, n=N)
    expected = lrkit.parse(SPEC)(np.arange(N))
    for mode in ("jit", "eager"):  # jit_compile=True, then False
        # What each update really applied (read from the weights): s(k) at update k, k from 0.
        assert_lrs(out[mode]["used"], expected, f"{backend} {mode}")
        # Keras' convention, checked: before update k, optimizer.iterations == k and learning_rate == s(k).
        assert out[mode]["iterations"] == list(range(N)), mode
        assert_lrs(out[mode]["reported"], expected, f"{backend} {mode}: optimizer.learning_rate before each update")
    # Documented pitfall: with gradient_accumulation_steps=2, Keras passes the batch count, so
    # update j (applied at batch 2j + 1) uses s(2j + 1), not s(j).  Each of its rows got lr / 2.
    used = 2 * np.asarray(out["accumulate"]["used"])
    assert_lrs(list(used[0::2]), expected[1:16:2], f"{backend} gradient_accumulation_steps=2")
    assert list(used[0::2]) == list(used[1::2])


# -- save, load in a fresh process, continue -----------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_save_load_and_continue_at_the_right_lr(backend: str, tmp_path: Path) -> None:
    path = str(tmp_path / "m.keras")
    k = 200  # after the boundary (180), before the first restart (240)
    saved = run_child(backend, "save", spec=SPEC, n=N, k=k, path=path)
    expected = lrkit.parse(SPEC)(np.arange(N))
    assert_lrs(saved["used"][:k], expected[:k], "before saving")
    assert saved["used"][k:] == [0.0] * (N - k)

    out = run_child(backend, "resume", n=N, k=k, path=path)
    # Keras only imports its own packages while loading (a security rule): the loading process
    # must import lrkit.keras, which registers the class (documented in docs/keras.md).
    assert out["without_import"] is not None and "lrkit>LearningRateSchedule" in out["without_import"]
    assert (out["module"], out["type"]) == ("lrkit.keras._schedule", "LearningRateSchedule")
    assert lrkit.from_dict(out["schedule"]) == lrkit.parse(SPEC)
    assert out["config"] == {"schedule": lrkit.parse(SPEC).to_dict()}  # get_config() is the lrkit mapping
    assert out["start"] == k
    # Rows 0..k-1 come from the saved weights, rows k.. from training after the load: s(k), s(k+1), ...
    assert_lrs(out["used"], expected, "saved, loaded in a new process and continued")


# -- plateau ------------------------------------------------------------------------------------

# Plateau(factor=0.5, patience=1), torch's rule, one metric per epoch (by hand):
#   epoch 0: 1.0 better (best=1.0)   epoch 1: 1.0 bad (1)   epoch 2: 1.0 bad (2 > 1) -> scale 0.5
#   epoch 3: 0.5 better (best=0.5)   epoch 4: 0.5 bad (1)   [saved here, with num_bad = 1]
#   epoch 5: 0.5 bad (2 > 1) -> scale 0.25                  epoch 6: uses 0.25
# A resume that lost the state would see epoch 5's 0.5 as a first, better metric and keep 0.5.
PLATEAU = {"factor": 0.5, "patience": 1}
METRICS = {"0": 1.0, "1": 1.0, "2": 1.0, "3": 0.5, "4": 0.5, "5": 0.5, "6": 0.5}
SCALE_OF_EPOCH = [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]
SPE = 8  # updates per epoch


@pytest.mark.parametrize("backend", BACKENDS)
def test_plateau_composes_with_the_schedule_and_survives_save(backend: str, tmp_path: Path) -> None:
    path = str(tmp_path / "p.keras")
    n = SPE * len(SCALE_OF_EPOCH)
    s = lrkit.parse(SPEC)
    expected = np.repeat(SCALE_OF_EPOCH, SPE) * s(np.arange(n))

    first = run_child(
        backend,
        "plateau_train",
        spec=SPEC,
        n=n,
        steps_per_epoch=SPE,
        epochs=5,
        plateau=PLATEAU,
        metrics=METRICS,
        save=path,
    )
    assert first["state"] == {"scale": 0.5, "best": 0.5, "num_bad": 1, "cooldown_counter": 0, "reductions": 1}
    assert first["config"]["plateau"]["state"] == first["state"]  # saved with the model
    assert_lrs(first["used"][: 5 * SPE], expected[: 5 * SPE], "plateau, first run")

    second = run_child(
        backend,
        "plateau_train",
        load=path,
        n=n,
        steps_per_epoch=SPE,
        epochs=7,
        initial_epoch=5,
        plateau=PLATEAU,
        metrics=METRICS,
    )
    assert second["state"]["scale"] == 0.25 and second["state"]["reductions"] == 2
    assert_lrs(second["used"], expected, "plateau, resumed in a new process")


# -- in this process (conftest's backend) -------------------------------------------------------

keras = pytest.importorskip("keras")
if keras.backend.backend() not in BACKENDS:  # pragma: no cover - CI runs torch here
    pytest.skip(f"lrkit.keras is tested on {BACKENDS}", allow_module_level=True)
import lrkit.keras as lk  # noqa: E402  (after the backend check, by design)

# Keras' torch backend converts tensors with np.array(x), which NumPy 2 flags; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def _f(x: Any) -> float:
    return float(keras.ops.convert_to_numpy(x))


def test_accepts_a_schedule_spec_text_or_mapping(tmp_path: Path) -> None:
    s = lrkit.parse(SPEC)
    for form in (s, SPEC, s.to_dict()):
        assert lk.LearningRateSchedule(form).schedule == s
    # ...and the rest of what lrkit.as_schedule takes: a file, a node of a larger config
    path = tmp_path / "s.json"
    lrkit.save(s, path)
    assert lk.LearningRateSchedule(path).schedule == s
    assert lk.LearningRateSchedule(str(path)).schedule == s
    config = {"optim": {"lr": 0.01, "lr_schedule": SPEC}}
    assert lk.LearningRateSchedule(config, key="optim.lr_schedule").schedule == s


def test_durations_resolved_at_construction() -> None:
    text = "warmup(cosine(1e-3, steps='90%'), steps='10%', prefix=True)"
    sched = lk.LearningRateSchedule(text, total_steps=1000)
    assert sched.schedule == lrkit.parse(text).resolve(total_steps=1000)
    assert sched.schedule.is_resolved
    assert lk.LearningRateSchedule("multistep(0.1, milestones=['2ep'])", steps_per_epoch=50).schedule == lrkit.parse(
        "multistep(0.1, milestones=[100])"
    )
    with pytest.raises(ValueError, match="total_steps"):
        lk.LearningRateSchedule(text)


@pytest.mark.parametrize("bad", [0.1, None, [1, 2], lrkit.cosine])
def test_bad_schedule_is_a_type_error(bad: Any) -> None:
    with pytest.raises(TypeError):
        lk.LearningRateSchedule(bad)


def test_call_on_every_kind_of_step_is_float32_s_of_k() -> None:
    s = lrkit.parse(SPEC)
    sched = lk.LearningRateSchedule(s)
    opt = keras.optimizers.SGD(learning_rate=sched)
    # a Python int, a backend tensor (a torch tensor here), a keras.Variable like optimizer.iterations
    for step in (0, 31, keras.ops.convert_to_tensor(181), keras.Variable(239, dtype="int32", trainable=False)):
        out = keras.ops.convert_to_tensor(sched(step))
        assert keras.backend.standardize_dtype(out.dtype) == "float32"
        k = int(keras.ops.convert_to_numpy(step))
        if keras.backend.backend() == "torch":
            assert _f(out) == float(np.float32(s(k)))  # float64 formula, one rounding
        assert abs(_f(out) - s(k)) <= TOL  # jax without x64 computes in float32
    assert abs(_f(opt.learning_rate) - s(0)) <= TOL  # optimizer.iterations is 0 before any update


def test_config_round_trip_without_custom_objects() -> None:
    s = lrkit.parse(SPEC)
    sched = lk.LearningRateSchedule(s)
    assert sched.get_config() == {"schedule": s.to_dict()}
    assert lk.LearningRateSchedule.from_config(sched.get_config()).schedule == s
    blob = json.dumps(keras.saving.serialize_keras_object(sched))
    assert '"registered_name": "lrkit>LearningRateSchedule"' in blob
    back = keras.saving.deserialize_keras_object(json.loads(blob))
    assert type(back) is lk.LearningRateSchedule and back.schedule == s
    with pytest.raises(ValueError, match="schedule"):
        lk.LearningRateSchedule.from_config({"spec": SPEC})
    # get_config() holds the lrkit mapping; that mapping alone is a config too
    assert lk.LearningRateSchedule.from_config(s.to_dict()).schedule == s


def test_plateau_state_round_trips_through_json_with_infinite_best() -> None:
    # Before the first metric best is +inf: JSON (Keras' config format) must carry it back.
    sched = lk.LearningRateSchedule("constant(1.0)", plateau=Plateau(patience=3))
    blob = json.dumps(keras.saving.serialize_keras_object(sched))
    back = keras.saving.deserialize_keras_object(json.loads(blob))
    assert back.plateau is not None and back.plateau.config() == Plateau(patience=3).config()
    assert back.plateau.best == math.inf and back.plateau.scale == 1.0


def test_plateau_scale_multiplies_the_schedule() -> None:
    p = Plateau(factor=0.5, patience=0)
    sched = lk.LearningRateSchedule("constant(0.1)", plateau=p)
    assert _f(sched(0)) == float(np.float32(0.1))
    p.update(1.0)
    p.update(1.0)  # one bad metric > patience 0: scale 0.5
    assert p.scale == 0.5 and sched.sync_scale() and not sched.sync_scale()
    assert _f(sched(0)) == float(np.float32(0.1) * np.float32(0.5))
    # A scale that float32 cannot hold exactly (0.1) counts as synced once written: no retrace every epoch.
    p = Plateau(factor=0.1, patience=0)
    sched = lk.LearningRateSchedule("constant(1.0)", plateau=p)
    p.update(1.0)
    p.update(1.0)
    assert p.scale == 0.1 and sched.sync_scale() and not sched.sync_scale()
    assert _f(sched(0)) == float(np.float32(0.1))


def _compiled(learning_rate: Any) -> Any:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


def test_plateau_callback_needs_an_lrkit_schedule() -> None:
    cb = lk.PlateauCallback()
    cb.set_model(_compiled(0.1))
    with pytest.raises(TypeError, match=r"lrkit\.keras\.LearningRateSchedule"):
        cb.on_train_begin()


def test_plateau_callback_resumes_the_saved_plateau_or_says_why_not() -> None:
    saved = Plateau(factor=0.5, patience=1)
    saved.update(1.0)
    saved.update(2.0)  # num_bad = 1

    # Same configuration: the callback continues from the saved state.
    cb = lk.PlateauCallback(Plateau(factor=0.5, patience=1))
    model = _compiled(
        lk.LearningRateSchedule("constant(0.1)", plateau={"config": saved.config(), "state": saved.state()})
    )
    cb.set_model(model)
    cb.on_train_begin()
    assert cb.plateau.state() == saved.state() and model.optimizer._learning_rate.plateau is cb.plateau

    # Different configuration: refuse, or follow on_mismatch.
    def bound(on_mismatch: str) -> lk.PlateauCallback:
        cb = lk.PlateauCallback(Plateau(factor=0.1, patience=5), on_mismatch=on_mismatch)
        cb.set_model(_compiled(lk.LearningRateSchedule("constant(0.1)", plateau=saved)))
        cb.on_train_begin()
        return cb

    with pytest.raises(ValueError, match="on_mismatch='checkpoint'"):
        bound("raise")
    assert bound("checkpoint").plateau.config() == saved.config()
    overridden = bound("override").plateau
    assert overridden.patience == 5 and overridden.num_bad == 1


def test_plateau_callback_warns_when_the_metric_is_missing() -> None:
    cb = lk.PlateauCallback(monitor="val_loss")
    cb.set_model(_compiled(lk.LearningRateSchedule("constant(0.1)")))
    cb.on_train_begin()
    with pytest.warns(UserWarning, match="val_loss"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert cb.plateau.best == math.inf


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [({"plateau": {"patience": 1}}, TypeError), ({"monitor": ""}, TypeError), ({"on_mismatch": "x"}, ValueError)],
)
def test_plateau_callback_arguments(kwargs: dict[str, Any], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        lk.PlateauCallback(**kwargs)


def test_a_bare_lrkit_schedule_called_without_a_step_raises_type_error() -> None:
    # Keras calls a plain callable learning_rate with no argument.
    with pytest.raises(TypeError, match=r"wrap the schedule\s+as lrkit\.keras\.LearningRateSchedule\(s\)"):
        keras.optimizers.SGD(learning_rate=lrkit.constant(0.1)).learning_rate  # noqa: B018


def test_import_lrkit_does_not_import_keras_and_lrkit_keras_does() -> None:
    code = (
        "import sys, lrkit; a = 'keras' in sys.modules; import lrkit.keras; "
        "print(a, 'keras' in sys.modules, 'tensorflow' in sys.modules)"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}  # jax: the faster import
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["False", "True", "False"]


def test_docs_keras_md_code_runs(tmp_path: Path) -> None:
    # docs/keras.md's ```python blocks, in order, as one script on the jax backend (the docs
    # doctest runs in the main process without a chosen backend, so the page has no >>> examples).
    text = (Path(__file__).resolve().parents[2] / "docs" / "keras.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) >= 4
    script = tmp_path / "keras_md.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-6000:]


class _Interrupt(Exception):
    pass


def _plateau_fit(backup_dir: Path, epochs: int, *, backup_path: Path | None, stop_at: int | None = None) -> list[float]:
    """Fit ``constant(0.1)`` under a plateau fed METRICS, resumable by BackupAndRestore; the LR of each epoch run."""
    lrs: list[float] = []

    class Probe(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if epoch == stop_at:
                raise _Interrupt  # a preemption, after BackupAndRestore saved the previous epoch
            lrs.append(_f(self.model.optimizer.learning_rate))

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            logs["score"] = METRICS[str(epoch)]  # before the plateau reads it

    model = _compiled(lk.LearningRateSchedule("constant(0.1)"))
    model.build((None, 2))
    plateau = lk.PlateauCallback(Plateau(**PLATEAU), monitor="score", backup_path=backup_path)
    callbacks = [Probe(), plateau, keras.callbacks.BackupAndRestore(str(backup_dir))]
    x, y = np.zeros((SPE, 2), "float32"), np.zeros((SPE, 1), "float32")
    try:
        model.fit(x, y, batch_size=1, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)
    except _Interrupt:
        pass
    return lrs


@pytest.mark.parametrize("with_backup", [True, False])
def test_plateau_resumes_with_backup_and_restore_through_backup_path(tmp_path: Path, with_backup: bool) -> None:
    # BackupAndRestore saves weights only: the optimizer's schedule (and its plateau) is not among
    # them.  backup_path keeps the plateau next to it.  SCALE_OF_EPOCH is derived by hand above:
    # the reduction at the end of epoch 5 needs the bad epoch 4 counted before the interruption.
    backup_dir = tmp_path / "backup"
    path = backup_dir / "lrkit_plateau.json" if with_backup else None
    first = _plateau_fit(backup_dir, 7, backup_path=path, stop_at=5)
    assert first == pytest.approx([0.1 * s for s in SCALE_OF_EPOCH[:5]], rel=1e-6)
    if path is not None:
        saved = json.loads(path.read_text(encoding="utf-8"))
        assert saved["state"] == {"scale": 0.5, "best": 0.5, "num_bad": 1, "cooldown_counter": 0, "reductions": 1}
    second = _plateau_fit(backup_dir, 7, backup_path=path)  # a fresh model and callbacks: epochs 5 and 6
    if with_backup:
        assert second == pytest.approx([0.1 * s for s in SCALE_OF_EPOCH[5:]], rel=1e-6)
    else:  # without it the resumed run starts a new plateau at scale 1: what backup_path is for
        assert second == pytest.approx([0.1, 0.1], rel=1e-6)
    assert not backup_dir.exists()  # BackupAndRestore removes its directory, the plateau file with it


def test_plateau_callback_backup_path_argument(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="backup_path"):
        lk.PlateauCallback(backup_path=3)  # type: ignore[arg-type]
    bad = tmp_path / "p.json"
    bad.write_text('{"scale": 0.5}', encoding="utf-8")
    cb = lk.PlateauCallback(backup_path=bad)
    cb.set_model(_compiled(lk.LearningRateSchedule("constant(0.1)")))
    with pytest.raises(ValueError, match="holds no saved plateau"):
        cb.on_train_begin()
    other = Plateau(factor=0.5, patience=7)  # the callback has the default Plateau()
    bad.write_text(json.dumps({"config": other.config(), "state": other.state()}), encoding="utf-8")
    with pytest.raises(ValueError, match="on_mismatch='checkpoint'"):
        cb.on_train_begin()
    # A corrupted file (a truncated copy, not UTF-8) or an invalid state: an error naming the file.
    # Regression: json's bare "Expecting value: line 1 column 1 (char 0)" named nothing.
    where = re.escape(repr(str(bad)))
    for content in (b"", b'{"config": {', b"\xff\xfe"):
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=f"backup_path {where} is not a saved plateau .*delete it"):
            cb.on_train_begin()
    mine = Plateau()
    bad.write_text(json.dumps({"config": mine.config(), "state": {**mine.state(), "scale": 5.0}}), encoding="utf-8")
    with pytest.raises(ValueError, match=f"backup_path {where} holds an invalid plateau .*scale"):
        cb.on_train_begin()
    bad.unlink()  # missing: a fresh plateau
    cb.on_train_begin()
    assert cb.plateau.scale == 1.0
