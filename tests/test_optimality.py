"""optimality: each function against an independent computation (NumPy's Chebyshev series, runs of the
methods themselves, LAPACK's eigenvalues), and its input validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib import optimality, theory


@given(kappa=st.floats(1.5, 1e4), k=st.integers(0, 60))
def test_chebyshev_bound_is_one_over_the_chebyshev_polynomial(kappa, k):
    """1 / T_k((kappa+1)/(kappa-1)), T_k summed by NumPy's Chebyshev series."""
    t_k = np.polynomial.chebyshev.chebval((kappa + 1) / (kappa - 1), [0] * k + [1])
    assert optimality.chebyshev_bound(1.0, kappa, k) == pytest.approx(1 / t_k, rel=1e-9)


def test_chebyshev_rate_is_the_heavy_balls_optimal_rate_and_the_bound_takes_arrays():
    polyak = theory.optimal_momentum(0.01, 1.0)[2]
    assert optimality.chebyshev_rate(0.01, 1.0) == pytest.approx(polyak, rel=1e-14)
    assert optimality.chebyshev_rate(0.01, 1.0) == pytest.approx(9 / 11, rel=1e-14)
    out = optimality.chebyshev_bound(0.01, 1.0, np.arange(5))
    assert out.shape == (5,) and out[0] == 1.0 and np.all(np.diff(out) < 0)


@pytest.mark.parametrize(("lr", "beta"), [(0.3, 0.0), (0.5, 0.6), (2.0, 0.3), (3.3, 0.67)])
def test_residual_polynomials_are_the_methods_errors(lr, beta):
    """p_k(lam_i) equals the heavy ball's error on H = diag(lam), started with x_{-1} = x_0 = 1."""
    lam = np.array([0.01, 0.1, 0.5, 1.0])
    p = optimality.residual_polynomials(lam, 40, lr, beta)
    x, prev = np.ones(4), np.ones(4)
    for k in range(41):
        np.testing.assert_allclose(p[k], x, rtol=1e-9, atol=1e-14)  # rounding near a sign change
        x, prev = x - lr * lam * x + beta * (x - prev), x
    if beta == 0.0:
        np.testing.assert_allclose(p, (1 - lr * lam) ** np.arange(41)[:, None], rtol=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 6, 10])
def test_minmax_polynomial_equals_chebyshev_and_equioscillates(k):
    value, coef = optimality.minmax_polynomial(0.01, 1.0, k)
    assert value == pytest.approx(optimality.chebyshev_bound(0.01, 1.0, k), rel=1e-5)
    # the optimum is the scaled Chebyshev polynomial: c = e_k / T_k(u(0))
    u0 = (1.01) / 0.99
    expected = np.zeros(k + 1)
    expected[k] = 1 / np.polynomial.chebyshev.chebval(u0, [0] * k + [1])
    np.testing.assert_allclose(coef, expected, atol=1e-5)


def test_no_heavy_ball_polynomial_beats_the_bound():
    """On a grid of (lr, beta), max over [mu, L] of |p_k| is never below the Chebyshev bound."""
    grid = np.linspace(0.01, 1.0, 2001)
    bound = optimality.chebyshev_bound(0.01, 1.0, np.arange(31))
    for lr in np.linspace(0.2, 3.9, 12):
        for beta in np.linspace(0.0, 0.95, 12):
            worst = np.abs(optimality.residual_polynomials(grid, 30, lr, beta)).max(axis=1)
            assert np.all(worst >= bound * (1 - 1e-9))


@settings(deadline=None, max_examples=20)
@given(mu=st.floats(0.001, 0.5), n=st.integers(50, 300))
def test_nesterov_worst_quadratic(mu, n):
    H, b = optimality.nesterov_worst_quadratic(mu, 1.0, n)
    eig = np.linalg.eigvalsh(H)
    assert eig.min() > mu and eig.max() < 1.0
    x_star = np.linalg.solve(H, b)
    rho = optimality.chebyshev_rate(mu, 1.0)
    i = np.arange(1, 11)
    if rho ** (2 * (n - 10)) < 1e-12:  # far from the truncation, x*_i = rho^i
        np.testing.assert_allclose(x_star[:10], rho**i, rtol=1e-6)


def test_krylov_support_grows_by_one_per_gradient():
    H, b = optimality.nesterov_worst_quadratic(0.01, 1.0, 30)
    x, support = np.zeros(30), []
    for _ in range(10):  # gradient descent from 0: each step adds at most one nonzero coordinate
        x = x - 1.0 * (H @ x - b)
        support.append(int(np.flatnonzero(x).max()) + 1)
    assert support == list(range(1, 11))


@pytest.mark.parametrize(("call", "says"), [
    (lambda: optimality.chebyshev_rate(1.0, 1.0), "L must be > mu"),
    (lambda: optimality.chebyshev_rate(-1.0, 1.0), "mu must be in (0, inf)"),
    (lambda: optimality.chebyshev_bound(0.1, 1.0, -1), "k must be in [0, inf)"),
    (lambda: optimality.chebyshev_bound(0.1, 1.0, 1.5), "k must be whole numbers"),
    (lambda: optimality.residual_polynomials([0.1], 5, 0.0), "lr must be in (0, inf)"),
    (lambda: optimality.residual_polynomials([0.1], 5, 0.1, 1.0), "beta must be in [0, 1)"),
    (lambda: optimality.residual_polynomials([np.nan], 5, 0.1), "lam must be finite"),
    (lambda: optimality.minmax_polynomial(0.1, 1.0, 0), "k must be an integer in [1, 40]"),
    (lambda: optimality.minmax_polynomial(0.1, 1.0, 3, points=4), "points must be an integer in [5, 100000]"),
    (lambda: optimality.nesterov_worst_quadratic(0.1, 1.0, 1), "n must be an integer in [2, 5000]"),
])
def test_bad_input_names_the_parameter(call, says):
    with pytest.raises(ValueError, match=None) as info:
        call()
    assert says in str(info.value)


def test_integer_arguments_refuse_floats():
    with pytest.raises(TypeError, match="steps must be an integer"):
        optimality.residual_polynomials([0.1], 5.0, 0.1)
    assert math.isfinite(optimality.chebyshev_bound(0.1, 1.0, 3))
