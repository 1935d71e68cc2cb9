"""Unit tests of lessons_lib.smooth_convex (lesson 06's references), against independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import optimizers, smooth_convex, surfaces


@pytest.fixture()
def data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3)) * np.array([2.0, 1.0, 0.3])
    y = np.where(rng.random(40) < 0.5, -1.0, 1.0)
    return X, y


def test_logistic_loss_and_grad_by_finite_differences(data):
    X, y = data
    w = np.array([0.3, -0.7, 1.1])
    direct = np.mean([np.log1p(np.exp(-yi * xi @ w)) for xi, yi in zip(X, y, strict=True)]) + 0.05 * w @ w
    assert np.isclose(smooth_convex.logistic_loss(w, X, y, reg=0.1), direct, rtol=1e-13)
    h = 1e-6
    loss = smooth_convex.logistic_loss
    fd = [(loss(w + h * e, X, y, 0.1) - loss(w - h * e, X, y, 0.1)) / (2 * h) for e in np.eye(3)]
    assert np.allclose(smooth_convex.logistic_grad(w, X, y, reg=0.1), fd, rtol=1e-7, atol=1e-9)


def test_batched_shapes_and_no_overflow(data):
    X, y = data
    W = np.zeros((4, 5, 3))
    assert smooth_convex.logistic_loss(W, X, y).shape == (4, 5)
    assert smooth_convex.logistic_grad(W, X, y).shape == (4, 5, 3)
    big = np.full(3, 1e4)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.isfinite(smooth_convex.logistic_loss(big, X, y))
        assert np.all(np.isfinite(smooth_convex.logistic_grad(big, X, y)))


def test_smoothness_is_the_largest_curvature_at_zero(data):
    X, y = data
    L = smooth_convex.logistic_smoothness(X, reg=0.2)
    h = 1e-5
    grad = smooth_convex.logistic_grad
    H0 = np.column_stack([(grad(h * e, X, y, 0.2) - grad(-h * e, X, y, 0.2)) / (2 * h) for e in np.eye(3)])
    assert np.isclose(np.linalg.eigvalsh(H0)[-1], L, rtol=1e-7)
    rng = np.random.default_rng(2)
    for w in rng.standard_normal((20, 3)):
        Hw = np.column_stack([(grad(w + h * e, X, y, 0.2) - grad(w - h * e, X, y, 0.2)) / (2 * h)
                              for e in np.eye(3)])
        assert np.linalg.eigvalsh((Hw + Hw.T) / 2)[-1] <= L * (1 + 1e-7)


def test_guaranteed_decrease():
    assert smooth_convex.guaranteed_decrease(3.0, 4.0) == pytest.approx(9 / 8)
    assert smooth_convex.guaranteed_decrease(3.0, 4.0, lr=0.1) == pytest.approx(0.1 * 0.8 * 9)
    assert smooth_convex.guaranteed_decrease(1.0, 1.0, lr=2.2) < 0
    lrs = np.linspace(0.01, 1.99, 199)
    assert lrs[np.argmax(smooth_convex.guaranteed_decrease(1.0, 1.0, lrs))] == pytest.approx(1.0)
    # exact on a quadratic with curvature L: f(x) = L x^2 / 2, g = L x
    L, x = 3.0, 0.7
    g = L * x
    assert np.isclose(L / 2 * x**2 - L / 2 * (x - g / L) ** 2, smooth_convex.guaranteed_decrease(g, L))


def test_momentum_sequences():
    k = smooth_convex.momentum_sequence(6, "k")
    assert np.allclose(k, [0, 0, 1 / 4, 2 / 5, 3 / 6, 4 / 7])
    t = [1.0]
    for _ in range(6):
        t.append((1 + np.sqrt(1 + 4 * t[-1] ** 2)) / 2)
    fista = smooth_convex.momentum_sequence(6, "fista")
    assert fista[0] == 0 and np.allclose(fista[1:], [(t[i] - 1) / t[i + 1] for i in range(5)])
    long = [smooth_convex.momentum_sequence(10_000, s) for s in ("k", "fista")]
    assert np.all(np.diff(long[0][1:]) > 0) and np.all(np.diff(long[1][1:]) > 0)
    assert np.max(np.abs(long[0] - long[1])) < 0.1 and abs(long[0][-1] - long[1][-1]) < 1e-3
    assert smooth_convex.momentum_sequence(0).shape == (0,)


@pytest.mark.parametrize("sequence", ["k", "fista"])
def test_nesterov_convex_bound_on_underdetermined_least_squares(sequence):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 10)) @ np.diag(np.geomspace(1, 1e-3, 10))
    b = rng.standard_normal(6)
    L = np.linalg.eigvalsh(A.T @ A)[-1]
    x0 = rng.standard_normal(10)
    x_star = x0 - np.linalg.pinv(A) @ (A @ x0 - b)  # the minimiser nearest x0
    path = smooth_convex.nesterov_convex(lambda x: A.T @ (A @ x - b), x0, L, 500, sequence)
    gaps = 0.5 * np.sum((path @ A.T - b) ** 2, axis=1)
    k = np.arange(1, 501)
    assert path.shape == (501, 10) and np.array_equal(path[0], x0)
    assert np.all(gaps[1:] <= 2 * L * np.sum((x0 - x_star) ** 2) / (k + 1) ** 2)


def test_nesterov_strongly_convex_against_pytorch_form():
    """x_{k+1} = w_k - grad(w_k)/L, with w_k PyTorch's (look-ahead) iterate from optimizers.run."""
    s = surfaces.quadratic([1.0, 100.0], angle=0.3)
    L, mu = 100.0, 1.0
    path = smooth_convex.nesterov_strongly_convex(s.grad, [1.0, 2.0], L, mu, 200)
    w = optimizers.run(s, [1.0, 2.0], "nesterov", 1 / L, 9 / 11, steps=200).points
    assert np.allclose(path[1:], w[:-1] - s.grad(w[:-1]) / L, rtol=1e-10, atol=1e-14)
    gaps = s.f(path)
    bound = (1 - 0.1) ** np.arange(201) * (s.f(path[0]) + mu / 2 * np.sum(path[0] ** 2))
    assert np.all(gaps <= bound)


def test_loglog_slope():
    k = np.arange(1, 2001)
    assert smooth_convex.loglog_slope(k, 3.0 * k**-1.5, 10, 2000) == pytest.approx(-1.5, abs=1e-9)
    assert smooth_convex.loglog_slope(k, 0.5 / k, 100, 1000, points=7) == pytest.approx(-1.0, abs=1e-9)


@pytest.mark.parametrize("call, words", [
    (lambda: smooth_convex.guaranteed_decrease(1.0, 0.0), "L must be"),
    (lambda: smooth_convex.guaranteed_decrease(-1.0, 1.0), "grad_norm must be"),
    (lambda: smooth_convex.guaranteed_decrease(1.0, 1.0, lr=-0.1), "lr must be"),
    (lambda: smooth_convex.logistic_loss(np.zeros(2), np.ones((3, 3)), np.ones(3)), "w must have shape"),
    (lambda: smooth_convex.logistic_loss(np.zeros(3), np.ones((3, 3)), np.array([1, 0, 1.0])), "y must hold"),
    (lambda: smooth_convex.logistic_loss(np.zeros(3), np.ones((3, 3)), np.ones(2)), "y must have shape"),
    (lambda: smooth_convex.logistic_smoothness(np.ones(3)), "X must be a 2-D"),
    (lambda: smooth_convex.logistic_smoothness(np.ones((3, 3)), reg=-1.0), "reg must be"),
    (lambda: smooth_convex.momentum_sequence(5, "polyak"), "sequence must be one of"),
    (lambda: smooth_convex.momentum_sequence(-1), "steps must be"),
    (lambda: smooth_convex.nesterov_convex(lambda x: x, np.zeros((2, 2)), 1.0, 3), "x0 must be a 1-D"),
    (lambda: smooth_convex.nesterov_convex(lambda x: x, [1.0], np.inf, 3), "L must be"),
    (lambda: smooth_convex.nesterov_strongly_convex(lambda x: x, [1.0], 1.0, 2.0, 3), "mu must be"),
    (lambda: smooth_convex.loglog_slope(np.arange(1, 11), np.ones(10), 1, 20), "k_max must be"),
    (lambda: smooth_convex.loglog_slope(np.arange(1, 11), -np.ones(10), 1, 10), "gap must be"),
    (lambda: smooth_convex.loglog_slope(np.arange(1, 11), np.ones(9), 1, 10), "one shape"),
    (lambda: smooth_convex.loglog_slope(np.arange(1, 11) * 2.0, np.ones(10), 2, 20), "every integer step"),
])
def test_bad_input(call, words):
    with pytest.raises(ValueError, match=words):
        call()
