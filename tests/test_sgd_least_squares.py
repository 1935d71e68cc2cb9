"""Tests of lessons_lib.sgd_least_squares: the fast runs against a plain loop, the 15 x 15 recursion
against the plain 2 x 2 recursion (constant step, schedule, averaging, additive noise), and the
argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import sgd_least_squares as sls


def data(m=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 2.0, m)
    y = 1.0 + 2.0 * x + 0.5 * rng.standard_normal(m) * (1 + 0.5 * x**2)  # residuals depend on x
    return x, y


def plain_gaps(x, y, theta0, lr, steps, batch, average_from=None, curvature_noise=True):
    """The recursion of the module docstring with 2 x 2 matrices, every sum over the samples taken
    directly (no precomputed moment arrays)."""
    schedule = lr if callable(lr) else (lambda k: lr)
    rows = np.column_stack([np.ones(x.size), x])
    A = rows.T @ rows / x.size
    star = np.linalg.lstsq(rows, y, rcond=None)[0]
    r = rows @ star - y
    e_bar = np.asarray(theta0, dtype=float) - star
    C, P, T, n = np.outer(e_bar, e_bar), np.zeros((2, 2)), np.zeros((2, 2)), 0
    gaps, avg = [0.5 * np.trace(A @ C)], [np.nan]
    for k in range(steps):
        lr_k = schedule(k)
        phi = np.eye(2) - lr_k * A
        quad = np.einsum("ni,ij,nj->n", rows, C, rows)  # a_i^T C a_i
        lin = rows @ e_bar  # a_i^T e_bar
        noise = np.einsum("n,ni,nj->ij", quad * curvature_noise + 2 * r * lin * curvature_noise + r**2,
                          rows, rows) / x.size - A @ C @ A * curvature_noise
        if average_from is not None and k >= average_from:
            P = phi @ (P + C)
        C = phi @ C @ phi + lr_k**2 / batch * noise
        e_bar = phi @ e_bar
        gaps.append(0.5 * np.trace(A @ C))
        if average_from is not None and k + 1 >= average_from:
            n += 1
            T = T + C + P + P.T
        avg.append(0.5 * np.trace(A @ T) / n**2 if n else np.nan)
    return np.array(gaps), np.array(avg)


@pytest.mark.parametrize(("lr", "batch", "average_from", "noise"), [
    (0.3, 2, None, True),
    (0.3, 2, 40, True),
    (0.1, 1, 1, True),
    (0.2, 3, 25, False),
    (lambda k: 2.0 / (4.0 + k), 1, None, True),   # a schedule
    (lambda k: 1.0 / (3.0 + k), 2, 30, True),     # a schedule with averaging
])
def test_expected_gaps_agree_with_the_plain_recursion(lr, batch, average_from, noise):
    x, y = data()
    theta0 = np.array([-1.0, 0.5])
    fast, fast_avg = sls.expected_gaps(x, y, theta0, lr, 120, batch, average_from, curvature_noise=noise)
    slow, slow_avg = plain_gaps(x, y, theta0, lr, 120, batch, average_from, curvature_noise=noise)
    assert np.allclose(fast, slow, rtol=1e-12, atol=0)
    if average_from is None:
        assert fast_avg is None
    else:
        assert np.allclose(fast_avg, slow_avg, rtol=1e-12, atol=0, equal_nan=True)
        assert np.all(np.isnan(fast_avg[:max(average_from, 1)]))


def test_expected_gaps_reach_the_stationary_floor():
    x, y = data()
    mom = sls.moments(x, y)
    lr, batch = 0.2, 2
    phi = np.eye(2) - lr * mom.A
    op = np.kron(phi, phi) + lr**2 / batch * (mom.fourth - np.kron(mom.A, mom.A))
    C = np.linalg.solve(np.eye(4) - op, (lr**2 / batch * mom.S).reshape(-1)).reshape(2, 2)
    gaps, _ = sls.expected_gaps(x, y, mom.theta_star, lr, 3000, batch)
    assert gaps[-1] == pytest.approx(0.5 * np.trace(mom.A @ C), rel=1e-9)


def test_sgd_runs_is_the_plain_loop():
    x, y = data()
    theta0 = np.array([0.5, -0.5])
    sched = lambda k: 0.5 / (2.0 + k)  # noqa: E731
    for lr, batch in [(0.2, 1), (0.1, 4), (sched, 12)]:
        rng = np.random.default_rng(3)
        gaps, _, last = sls.sgd_runs(x, y, theta0, lr, 30, batch, 1, np.random.default_rng(3))
        theta, star = theta0.copy(), sls.moments(x, y).theta_star
        mom = sls.moments(x, y)
        plain = [0.5 * (theta - star) @ mom.A @ (theta - star)]
        for k in range(30):
            idx = rng.integers(0, x.size, size=batch)
            res = theta[0] + theta[1] * x[idx] - y[idx]
            theta = theta - (lr(k) if callable(lr) else lr) * np.array([res.mean(), (res * x[idx]).mean()])
            plain.append(0.5 * (theta - star) @ mom.A @ (theta - star))
        assert np.allclose(last[0], theta, rtol=1e-12, atol=1e-14)
        assert np.allclose(gaps[0], plain, rtol=1e-9, atol=1e-15)


def test_sgd_runs_average_and_mean():
    x, y = data()
    theta0 = np.array([0.0, 0.0])
    gaps, avg, last = sls.sgd_runs(x, y, theta0, 0.2, 200, 2, 4000, np.random.default_rng(5), average_from=50)
    assert gaps.shape == avg.shape == (4000, 201) and last.shape == (4000, 2)
    assert np.all(np.isnan(avg[:, :50])) and np.all(np.isfinite(avg[:, 50:]))
    exact, exact_avg = sls.expected_gaps(x, y, theta0, 0.2, 200, 2, average_from=50)
    for k in (5, 100, 200):  # the mean of 4000 runs within 4 standard errors of the exact value
        assert abs(gaps[:, k].mean() - exact[k]) < 4 * gaps[:, k].std() / np.sqrt(4000)
    for k in (50, 100, 200):
        assert abs(avg[:, k].mean() - exact_avg[k]) < 4 * avg[:, k].std() / np.sqrt(4000)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"lr": -0.1}, ValueError, "lr"),
    ({"steps": -1}, ValueError, "steps"),
    ({"batch": 0}, ValueError, "batch"),
    ({"steps": 2.5}, TypeError, "steps"),
    ({"theta0": [1.0, 2.0, 3.0]}, ValueError, "theta0"),
    ({"average_from": 50}, ValueError, "average_from"),
    ({"average_from": 0}, ValueError, "average_from"),
    ({"x": np.ones(5), "y": np.ones(5)}, ValueError, "two different values"),
    ({"x": np.arange(4.0), "y": np.ones(3)}, ValueError, "same length"),
    ({"x": np.array([0.0, np.nan])}, ValueError, "x must be finite"),
])
def test_bad_arguments(kwargs, error, message):
    x, y = data(m=10)
    args = {"x": x, "y": y, "theta0": [0.0, 0.0], "lr": 0.1, "steps": 10, "batch": 1}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        sls.expected_gaps(**args)
    with pytest.raises(error, match=message):
        sls.sgd_runs(**args, runs=2, rng=np.random.default_rng(0))
