"""lessons_lib.conventions: each form against torch.optim.SGD (float64) with converted parameters,
the conversions both ways, the schedule behaviour (Sutskever and PyTorch part, the EMA conversion
holds), and bad input refused with a ValueError naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lessons_lib import conventions as C
from lessons_lib import surfaces


def torch_path(grad, x0, lrs, beta, dampening=0.0, nesterov=False):
    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=float(lrs[0]), momentum=beta, dampening=dampening, nesterov=nesterov)
    out = [p.detach().numpy().copy()]
    for lr in lrs:
        opt.param_groups[0]["lr"] = float(lr)
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


def close(a, b, tol=1e-12):
    return np.abs(a - b).max() <= tol * max(np.abs(b).max(), 1e-300)


PROBLEMS = [(surfaces.quadratic([0.3, 5.0], angle=1.1), 0.08), (surfaces.get("rosenbrock"), 1e-3),
            (surfaces.get("beale"), 1e-3)]


@pytest.mark.parametrize("surface, lr", PROBLEMS)
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_heavy_ball_forms_equal_torch_with_converted_parameters(surface, lr, beta):
    steps = 200
    want = torch_path(surface.grad, surface.start, np.full(steps, lr), beta)
    for form in C.HEAVY_BALL_FORMS:
        lr_form, beta_form = C.convert(lr, beta, "pytorch", form)
        run = {"polyak": C.heavy_ball, "sutskever": C.sutskever, "pytorch": C.pytorch, "ema": C.ema}[form]
        assert close(run(surface.grad, surface.start, lr_form, beta_form, steps), want), form


@pytest.mark.parametrize("surface, lr", PROBLEMS)
@pytest.mark.parametrize("tau", [0.3, 0.9, 1.0])
def test_dampening_equals_torch_and_the_naive_conversion_does_not(surface, lr, tau):
    steps, beta = 200, 0.9
    want = torch_path(surface.grad, surface.start, np.full(steps, lr), beta, dampening=tau)
    assert close(C.pytorch(surface.grad, surface.start, lr, beta, steps, dampening=tau), want)
    naive = C.pytorch(surface.grad, surface.start, C.undamped_lr(lr, tau), beta, steps)
    assert not close(naive, want, 1e-6)


@pytest.mark.parametrize("surface, lr", PROBLEMS)
def test_nesterov_forms_equal_torch(surface, lr):
    steps, beta = 200, 0.85
    want = torch_path(surface.grad, surface.start, np.full(steps, lr), beta, nesterov=True)
    assert close(C.pytorch(surface.grad, surface.start, lr, beta, steps, nesterov=True), want)
    assert close(C.nesterov_lookahead(surface.grad, surface.start, lr, beta, steps, points="lookahead"), want)
    assert close(C.nesterov_reformulated(surface.grad, surface.start, lr, beta, steps), want)
    x = C.nesterov_lookahead(surface.grad, surface.start, lr, beta, steps)
    assert not close(x, want, 1e-6)  # x_k is not PyTorch's iterate


def test_under_a_schedule_ema_follows_torch_and_sutskever_does_not():
    s = surfaces.quadratic([0.5, 4.0], angle=0.4)
    lrs = np.r_[np.full(50, 0.1), np.full(50, 0.01)]
    want = torch_path(s.grad, s.start, lrs, 0.9)
    assert close(C.pytorch(s.grad, s.start, lrs, 0.9, 100), want)
    assert close(C.ema(s.grad, s.start, lrs / 0.1, 0.9, 100), want)
    sut = C.sutskever(s.grad, s.start, lrs, 0.9, 100)
    assert close(sut[:51], want[:51]) and not close(sut, want, 1e-6)
    assert close(C.heavy_ball(s.grad, s.start, lrs, 0.9, 100), sut)  # Polyak = Sutskever, schedule or not


def test_under_a_schedule_reformulated_nesterov_follows_lookahead_and_torch_does_not():
    s = surfaces.quadratic([0.5, 4.0], angle=0.4)
    lrs = np.linspace(0.2, 0.02, 80)
    points = C.nesterov_lookahead(s.grad, s.start, lrs, 0.8, 80, points="lookahead")
    assert close(C.nesterov_reformulated(s.grad, s.start, lrs, 0.8, 80), points)
    want = torch_path(s.grad, s.start, lrs, 0.8, nesterov=True)
    assert close(C.pytorch(s.grad, s.start, lrs, 0.8, 80, nesterov=True), want)
    assert not close(points, want, 1e-3)  # about 1 % apart (lesson 07)


def test_slope_example_numbers():
    def slope(x):
        return np.ones_like(x)

    assert np.isclose(C.sutskever(slope, [0.0], [0.1, 0.01], 0.9, 2)[-1, 0], -0.2)
    assert np.isclose(C.pytorch(slope, [0.0], [0.1, 0.01], 0.9, 2)[-1, 0], -0.119)


def test_shapes_and_start():
    s = surfaces.get("quadratic")
    for run in (C.heavy_ball, C.sutskever, C.pytorch, C.ema, C.nesterov_lookahead, C.nesterov_reformulated):
        path = run(s.grad, s.start, 0.1, 0.5, 7)
        assert path.shape == (8, 2) and path.dtype == np.float64 and np.array_equal(path[0], s.start)
        assert run(s.grad, s.start, 0.1, 0.5, 0).shape == (1, 2)


@pytest.mark.parametrize("kwargs, word", [
    ({"lr": -0.1}, "lr"), ({"lr": np.nan}, "lr"), ({"lr": [0.1, 0.1]}, "lr"), ({"beta": 1.0}, "beta"),
    ({"beta": -0.1}, "beta"), ({"steps": -1}, "steps"), ({"x0": [np.inf, 0.0]}, "x0"),
])
def test_bad_input_names_the_parameter(kwargs, word):
    s = surfaces.get("quadratic")
    args = {"grad": s.grad, "x0": s.start, "lr": 0.1, "beta": 0.5, "steps": 5} | kwargs
    with pytest.raises(ValueError, match=word):
        C.sutskever(**args)


def test_bad_input_specific_to_a_form():
    s = surfaces.get("quadratic")
    with pytest.raises(ValueError, match="dampening"):
        C.pytorch(s.grad, s.start, 0.1, 0.5, 5, dampening=1.5)
    with pytest.raises(ValueError, match="nesterov"):
        C.pytorch(s.grad, s.start, 0.1, 0.5, 5, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="nesterov"):
        C.pytorch(s.grad, s.start, 0.1, 0.0, 5, nesterov=True)
    with pytest.raises(ValueError, match="points"):
        C.nesterov_lookahead(s.grad, s.start, 0.1, 0.5, 5, points="y")
    with pytest.raises(ValueError, match="source"):
        C.convert(0.1, 0.5, "keras", "ema")
    with pytest.raises(ValueError, match="target"):
        C.convert(0.1, 0.5, "ema", "adam")
    with pytest.raises(ValueError, match="dampening"):
        C.undamped_lr(0.1, -0.2)
    with pytest.raises(ValueError, match="grad"):
        C.ema(lambda x: np.zeros(3), s.start, 0.1, 0.5, 5)
    with pytest.raises(TypeError, match="grad"):
        C.ema("not a function", s.start, 0.1, 0.5, 5)
    with pytest.raises(TypeError, match="steps"):
        C.ema(s.grad, s.start, 0.1, 0.5, 2.5)
