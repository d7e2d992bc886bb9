"""lrkit.torch.sharpness against exact eigenvalues; lr_range_test's ramp, stopping rule and state restore."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lrkit  # noqa: E402
from lrkit.torch import lr_range_test, sharpness  # noqa: E402
from lrkit.torch._diagnostics import range_test_schedule  # noqa: E402


def _spd(n: int, eigs: list[float], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q @ np.diag(eigs) @ q.T


class Quadratic(torch.nn.Module):
    """0.5 zᵀ A z + bᵀ z with z = (w.flatten(), c): the Hessian is A, whatever the split into parameters."""

    def __init__(self, a: np.ndarray, seed: int = 1) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(torch.randn(2, 3, generator=g, dtype=torch.float64))
        self.c = torch.nn.Parameter(torch.randn(a.shape[0] - 6, generator=g, dtype=torch.float64))
        self.a = torch.tensor(a)
        self.b = torch.randn(a.shape[0], generator=g, dtype=torch.float64)

    def forward(self) -> torch.Tensor:
        z = torch.cat([self.w.flatten(), self.c])
        return 0.5 * z @ self.a @ z + self.b @ z


def test_sharpness_is_the_top_eigenvalue_of_a_quadratic() -> None:
    a = _spd(10, [10.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.05, 0.01])
    model = Quadratic(a)
    lam = sharpness(model, model, iters=100)
    assert lam == pytest.approx(np.linalg.eigvalsh(a)[-1], rel=1e-12)
    # 20 iterations (the default) already agree closely when the top eigenvalue is well separated
    assert sharpness(model, model) == pytest.approx(10.0, rel=1e-6)


def test_sharpness_of_an_ill_separated_quadratic_with_tol() -> None:
    a = _spd(8, [5.0, 4.5, 1.0, 1.0, 0.5, 0.2, 0.1, 0.0], seed=3)
    model = Quadratic(a)
    top = np.linalg.eigvalsh(a)[-1]
    assert sharpness(model, model, iters=400, tol=1e-15) == pytest.approx(top, rel=1e-9)


def test_two_over_sharpness_is_the_critical_lr_of_gradient_descent() -> None:
    # on a quadratic, GD multiplies the error along the top eigenvector by (1 - lr * lam) per step
    a = _spd(10, [8.0, 3.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.2, 0.1, 0.1])
    probe = Quadratic(a)
    lam = sharpness(probe, probe, iters=100)

    def final_loss(lr: float) -> float:
        model = Quadratic(a)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        for _ in range(300):
            opt.zero_grad()
            model().backward()
            opt.step()
        return float(model().detach())

    assert math.isfinite(final_loss(0.95 * 2 / lam)) and abs(final_loss(0.95 * 2 / lam)) < 1e3
    assert final_loss(1.05 * 2 / lam) > 1e6


def test_sharpness_leaves_parameters_gradients_and_batchnorm_statistics_alone() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x, y = torch.randn(32, 4), torch.randn(32, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lam = sharpness(model, lambda: torch.nn.functional.mse_loss(model(x), y), iters=10)
    assert math.isfinite(lam) and lam > 0
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    ("kwargs", "exc", "name"),
    [({"iters": 0}, ValueError, "iters"), ({"iters": 2.5}, ValueError, "iters"), ({"tol": -1.0}, ValueError, "tol")],
)
def test_sharpness_bad_input_names_the_parameter(kwargs: dict, exc: type, name: str) -> None:
    model = Quadratic(_spd(8, [1.0] * 8))
    with pytest.raises(exc, match=name):
        sharpness(model, model, **kwargs)


def test_sharpness_refuses_a_closure_that_does_not_return_a_loss() -> None:
    model = Quadratic(_spd(8, [1.0] * 8))
    with pytest.raises(TypeError, match="closure"):
        sharpness(model, lambda: 1.0)
    with pytest.raises(TypeError, match="model"):
        sharpness(object(), model)  # type: ignore[arg-type]


# -- lr_range_test ------------------------------------------------------------------------------------


def test_the_ramp_is_an_lrkit_schedule_from_start_to_end() -> None:
    s = range_test_schedule(1e-6, 1.0, 101)
    assert s(0) == pytest.approx(1e-6, rel=1e-12) and s(100) == 1.0
    assert s(50) == pytest.approx(1e-3, rel=1e-12)  # geometric: the midpoint in log space
    lin = range_test_schedule(0.1, 1.1, 11, mode="linear")
    assert [lin(t) for t in range(11)] == pytest.approx([0.1 + 0.1 * t for t in range(11)], rel=1e-12)
    assert lrkit.parse(repr(s)) == s


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(6, 16),
            torch.nn.BatchNorm1d(16),
            torch.nn.ReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.Linear(16, 3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _data(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    return x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()


def test_lr_range_test_restores_model_optimizer_and_rng_bit_for_bit() -> None:
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    x, y = _data()

    def closure() -> torch.Tensor:
        return torch.nn.functional.cross_entropy(model(x), y)

    for _ in range(3):  # the optimizer has moments and a step count to restore
        opt.zero_grad()
        closure().backward()
        opt.step()
    model_before = {k: v.clone() for k, v in model.state_dict().items()}
    opt_before = opt.state_dict()
    opt_before = {
        "state": {i: {k: v.clone() for k, v in st.items()} for i, st in opt_before["state"].items()},
        "param_groups": [dict(g) for g in opt_before["param_groups"]],
    }
    grads_before = [p.grad.clone() for p in model.parameters()]
    rng_before = torch.get_rng_state()

    result = lr_range_test(model, opt, closure, start=1e-5, end=10.0, steps=60)
    assert len(result.lrs) >= 20  # it really trained (and moved the weights) before restoring

    assert torch.equal(torch.get_rng_state(), rng_before)
    after = model.state_dict()
    assert all(torch.equal(model_before[k], after[k]) for k in model_before)
    opt_after = opt.state_dict()
    assert opt_after["param_groups"] == opt_before["param_groups"]
    assert opt_after["state"].keys() == opt_before["state"].keys()
    for i, st in opt_before["state"].items():
        assert all(torch.equal(v, opt_after["state"][i][k]) for k, v in st.items())
    assert all(torch.equal(g, p.grad) for g, p in zip(grads_before, model.parameters(), strict=True))
    assert all(group["lr"] == 3e-4 for group in opt.param_groups)


def test_lr_range_test_drives_the_ramp_and_smooths_with_a_bias_corrected_average() -> None:
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = _data()
    result = lr_range_test(
        model, opt, lambda: torch.nn.functional.cross_entropy(model(x), y), start=1e-4, end=1e-2, steps=30
    )
    ramp = range_test_schedule(1e-4, 1e-2, 30)
    assert not result.diverged and len(result.lrs) == 30
    assert list(result.lrs) == ramp(np.arange(30)).tolist()  # the schedule's own values, vectorized
    r = result.raw_losses
    # EMA with beta = 0.98 divided by (1 - beta^(t+1)): written out for the first two points
    assert result.losses[0] == pytest.approx(r[0], rel=1e-12)
    assert result.losses[1] == pytest.approx((0.98 * 0.02 * r[0] + 0.02 * r[1]) / (1 - 0.98**2), rel=1e-12)


def test_lr_range_test_stops_on_divergence_and_suggests_a_stable_lr() -> None:
    # SGD on a quadratic diverges above 2 / lam: the test must stop, and suggest an LR below that
    a = _spd(10, [10.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.05, 0.01])
    model = Quadratic(a)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    result = lr_range_test(model, opt, model, start=1e-4, end=100.0, steps=200, smooth=0.0)
    assert result.diverged and len(result.lrs) < 200
    assert result.suggestion is not None and result.suggestion < 2 / 10.0


def test_the_suggestion_feeds_recommend_and_the_plot_is_written(tmp_path: pytest.TempPathFactory) -> None:
    pytest.importorskip("matplotlib")
    torch.manual_seed(0)
    model = Net()
    opt = torch.optim.Adam(model.parameters())
    x, y = _data()
    result = lr_range_test(model, opt, lambda: torch.nn.functional.cross_entropy(model(x), y), steps=50)
    assert result.suggestion is not None
    rec = lrkit.recommend(optimizer="adam", measured_lr=result.suggestion, total_steps=10_000)
    assert rec.peak_lr == result.suggestion
    path = tmp_path / "range.png"  # type: ignore[operator]
    result.plot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("kwargs", "exc", "name"),
    [
        ({"mode": "cubic"}, ValueError, "mode"),
        ({"start": 1.0, "end": 0.1}, ValueError, "end"),
        ({"steps": 1}, ValueError, "steps"),
        ({"start": 0.0}, ValueError, "start"),
        ({"diverge": 1.0}, ValueError, "diverge"),
    ],
)
def test_lr_range_test_bad_input_names_the_parameter(kwargs: dict, exc: type, name: str) -> None:
    model = Quadratic(_spd(8, [1.0] * 8))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(exc, match=name):
        lr_range_test(model, opt, model, **kwargs)
