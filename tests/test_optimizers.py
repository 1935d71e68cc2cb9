"""optimizers.run: equal to torch.optim.SGD, batched, rates as theory says, divergence reported."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from lessons_lib import optimizers, surfaces, theory

# Learning-rate ranges in which each surface's runs stay bounded from its default start.
LR_RANGE = {
    "quadratic": (1e-3, 0.05),
    "rosenbrock": (1e-5, 1e-4),
    "beale": (1e-4, 1e-3),
    "himmelblau": (1e-4, 2e-3),
    "rastrigin": (1e-5, 1e-3),
}


def torch_sgd_points(surface, x0, lr, momentum, nesterov, steps):
    """The reference: torch.optim.SGD in float64, fed the surface's gradient."""
    p = torch.tensor(np.asarray(x0, dtype=np.float64), requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov)
    out = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        p.grad = torch.from_numpy(surface.grad(p.detach().numpy()))
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


def _configs():
    rng = np.random.default_rng(2024)
    for name, (lo, hi) in LR_RANGE.items():
        for method in ("gd", "momentum", "nesterov"):
            lr = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            beta = 0.0 if method == "gd" else float(rng.uniform(0.0, 0.95))
            yield pytest.param(name, method, lr, beta, id=f"{name}-{method}")


@pytest.mark.parametrize("name, method, lr, beta", list(_configs()))
def test_equals_torch_sgd_over_1000_steps(name, method, lr, beta):
    s = surfaces.get(name)
    traj = optimizers.run(s, s.start, method, lr, beta, steps=1000)
    ref = torch_sgd_points(s, s.start, lr, beta, method == "nesterov", 1000)
    assert not traj.diverged
    np.testing.assert_allclose(traj.points, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(traj.losses, s.f(ref), rtol=1e-12, atol=1e-12)


def test_saddle_equals_torch_until_it_escapes():
    s = surfaces.get("saddle")
    traj = optimizers.run(s, s.start, "nesterov", 0.05, 0.8, steps=300)
    ref = torch_sgd_points(s, s.start, 0.05, 0.8, True, 300)
    k = traj.diverged_at
    assert traj.diverged and k is not None and 0 < k < 300
    np.testing.assert_allclose(traj.points[:k], ref[:k], rtol=1e-12, atol=1e-12)
    assert np.abs(ref[k]).max() > s.escape_radius  # torch's iterate left the region at step k too


@pytest.mark.parametrize("method", ["momentum", "nesterov"])
def test_batch_equals_one_run_per_configuration(method):
    s = surfaces.get("rosenbrock")
    lr = np.array([[1e-4], [5e-4], [2e-3]])
    beta = np.array([0.0, 0.5, 0.9, 0.99])
    batch = optimizers.run(s, s.start, method, lr, beta, steps=200)
    assert batch.points.shape == (3, 4, 201, 2)
    assert batch.losses.shape == (3, 4, 201)
    assert batch.diverged.shape == batch.diverged_at.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            one = optimizers.run(s, s.start, method, float(lr[i, 0]), float(beta[j]), steps=200)
            np.testing.assert_array_equal(batch.points[i, j], one.points)
            assert batch.diverged[i, j] == one.diverged
            assert batch.diverged_at[i, j] == one.diverged_at


def _empirical_rate(points: np.ndarray, window: int) -> float:
    """Rate from the decay of max |x| over a window at the middle and at the end."""
    r = np.abs(points).max(axis=-1)
    n = len(r) - 1
    half = n // 2
    late, early = r[n - window: n + 1].max(), r[half - window: half + 1].max()
    return float((late / early) ** (1.0 / (n - half)))


def _rate_cases():
    rng = np.random.default_rng(7)
    cases = []
    while len(cases) < 24:
        mu, L = sorted(np.exp(rng.uniform(np.log(0.05), np.log(20.0), size=2)))
        method = ("gd", "momentum")[len(cases) % 2]
        lr = float(rng.uniform(0.05, 2.2) / L)
        beta = float(rng.uniform(0.0, 0.95)) if method == "momentum" else 0.0
        rate = (theory.momentum_rate(lr, beta, [mu, L]) if method == "momentum"
                else theory.gd_rate(lr, [mu, L]))
        if 0.3 < rate < 0.985:
            cases.append(pytest.param(mu, L, float(rng.uniform(0, np.pi)), method, lr, beta, rate,
                                      id=f"{method}-{len(cases)}"))
    return cases


@pytest.mark.parametrize("mu, L, angle, method, lr, beta, rate", _rate_cases())
def test_empirical_rate_within_one_percent_of_theory(mu, L, angle, method, lr, beta, rate):
    s = surfaces.quadratic([mu, L], angle)
    steps = int(min(4000, 250.0 / -np.log10(rate)))
    traj = optimizers.run(s, [1.0, -0.7], method, lr, beta, steps=steps)
    assert not traj.diverged
    measured = _empirical_rate(traj.points, window=max(20, steps // 10))
    assert measured == pytest.approx(rate, rel=0.01)


def test_optimal_pair_beats_optimal_gd_as_theory_says():
    mu, L = 0.1, 10.0
    lr_gd, rate_gd = theory.optimal_gd(mu, L)
    lr_m, beta_m, rate_m = theory.optimal_momentum(mu, L)
    s = surfaces.quadratic([mu, L], 0.3)
    gd = optimizers.run(s, [1.0, 1.0], "gd", lr_gd, steps=400)
    hb = optimizers.run(s, [1.0, 1.0], "momentum", lr_m, beta_m, steps=400)
    assert _empirical_rate(gd.points, 40) == pytest.approx(rate_gd, rel=0.01)
    assert _empirical_rate(hb.points, 40) == pytest.approx(rate_m, rel=0.01)
    assert hb.losses[-1] < 1e-20 < gd.losses[-1]


@pytest.mark.parametrize("method, beta", [("gd", 0.0), ("momentum", 0.9), ("nesterov", 0.9)])
@pytest.mark.parametrize("name", surfaces.names())
def test_far_past_stability_is_reported_without_warnings(name, method, beta):
    s = surfaces.get(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optimizers.run(s, s.start, method, 50.0, beta, steps=500)
    assert traj.diverged is True
    k = traj.diverged_at
    assert isinstance(k, int) and 1 <= k <= 500
    assert np.all(np.isfinite(traj.points[:k])) and np.all(np.isnan(traj.points[k:]))
    assert np.all(np.isnan(traj.losses[k:]))


# Far out, the quartic and sextic surfaces are steep enough that lr = 0.1 overshoots;
# the quadratic and Rastrigin (quadratic plus a bounded ripple) stay stable at lr = 0.1.
FAR_START_DIVERGES = {"quadratic": False, "rosenbrock": True, "beale": True,
                      "himmelblau": True, "saddle": True, "rastrigin": False}


@pytest.mark.parametrize("name", surfaces.names())
def test_far_away_start_is_reported_as_diverged(name):
    s = surfaces.get(name)
    far = np.array([0.9, -0.9]) * s.escape_radius
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        traj = optimizers.run(s, far, "momentum", 0.1, 0.9, steps=200)
    assert traj.diverged is FAR_START_DIVERGES[name]
    if traj.diverged:
        assert 1 <= traj.diverged_at <= 200
    else:
        assert np.all(np.isfinite(traj.points)) and traj.losses[-1] < traj.losses[0]


@given(lr_lam=st.floats(0.05, 3.9), beta=st.floats(0.0, 0.95))
def test_convergence_region_is_lr_lambda_below_2_plus_2_beta(lr_lam, beta):
    """Inside 0 < lr*lambda < 2 + 2 beta the iterate shrinks; outside it grows."""
    bound = 2.0 + 2.0 * beta
    if abs(lr_lam - bound) < 0.05:
        return  # too close to the boundary to tell in a few hundred steps
    s = surfaces.quadratic([1.0, 1.0])
    traj = optimizers.run(s, [1.0, 0.0], "momentum", lr_lam, beta, steps=600)
    if lr_lam < bound:
        assert not traj.diverged and np.abs(traj.points[-1]).max() < 1.0
    else:
        assert traj.diverged


def test_scalar_run_shapes_and_types():
    s = surfaces.get("quadratic")
    t = optimizers.run(s, s.start, "gd", 0.1, steps=5)
    assert t.points.shape == (6, 2) and t.losses.shape == (6,)
    assert t.diverged is False and t.diverged_at is None
    assert np.array_equal(t.points[0], s.start)
    assert optimizers.run("quadratic", s.start, "gd", 0.1, steps=0).points.shape == (1, 2)


def test_steps_to_tolerance():
    s = surfaces.get("quadratic")
    t = optimizers.run(s, s.start, "gd", 0.4, steps=200)
    k = t.steps_to(1e-6)
    assert k is not None and t.losses[k] <= 1e-6 < t.losses[k - 1]
    batch = optimizers.run(s, s.start, "momentum", np.array([0.4, 0.01]), 0.5, steps=30)
    assert batch.steps_to(1e-6)[1] is None


@pytest.mark.parametrize(
    "kwargs, param",
    [
        (dict(lr=-0.1), "lr"),
        (dict(lr=0.0), "lr"),
        (dict(lr=np.nan), "lr"),
        (dict(lr=np.inf), "lr"),
        (dict(momentum=1.0, method="momentum"), "momentum"),
        (dict(momentum=-0.1, method="momentum"), "momentum"),
        (dict(momentum=0.5, method="gd"), "momentum"),
        (dict(steps=-1), "steps"),
        (dict(steps=2.5), "steps"),
        (dict(method="adam"), "method"),
        (dict(x0=[1.0, 2.0, 3.0]), "x0"),
        (dict(x0=[np.nan, 0.0]), "x0"),
        (dict(lr=np.ones(3), momentum=np.full(2, 0.5), method="momentum"), "lr and momentum"),
        (dict(surface="parabola"), "name"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, param):
    args = dict(surface="quadratic", x0=[1.0, 1.0], method="gd", lr=0.1, momentum=0.0, steps=10)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=param):
        optimizers.run(**args)


def test_wrong_surface_type_is_a_type_error():
    with pytest.raises(TypeError, match="surface"):
        optimizers.run(object(), [0.0, 0.0], "gd", 0.1)
