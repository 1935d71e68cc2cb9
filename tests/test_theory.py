"""theory: rates equal the spectral radii of the iteration matrices; optimal pairs are optimal."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lessons_lib import theory

lrs = st.floats(1e-3, 3.0)
betas = st.floats(0.0, 0.999)
lams = st.floats(1e-2, 10.0)


@given(lr=lrs, beta=betas, lam=lams)
def test_momentum_rate_is_the_spectral_radius_of_its_matrix(lr, beta, lam):
    M = theory.momentum_matrix(lr, beta, lam)
    radius = np.abs(np.linalg.eigvals(M)).max()
    assert theory.momentum_rate(lr, beta, [lam]) == pytest.approx(radius, rel=1e-6, abs=1e-9)


@given(lr=lrs, beta=betas, lam=lams)
def test_nesterov_rate_is_the_spectral_radius_of_its_matrix(lr, beta, lam):
    M = theory.nesterov_matrix(lr, beta, lam)
    radius = np.abs(np.linalg.eigvals(M)).max()
    assert theory.nesterov_rate(lr, beta, [lam]) == pytest.approx(radius, rel=1e-6, abs=1e-9)


@given(lr=lrs, beta=st.floats(0.0, 0.95), lam=lams)
def test_nesterov_matrix_reproduces_pytorch_nesterov_iterates(lr, beta, lam):
    """PyTorch's (p, b) recursion and the (x_k, x_{k-1}) matrix give the same iterates."""
    p, b = 1.0, 0.0
    xs = [p]
    for _ in range(6):
        g = lam * p
        b = beta * b + g
        p = p - lr * (g + beta * b)
        xs.append(p)
    M = theory.nesterov_matrix(lr, beta, lam)
    state = np.array([xs[1], xs[0]])
    for k in range(2, 7):
        state = M @ state
        assert state[0] == pytest.approx(xs[k], rel=1e-9, abs=1e-9 * max(1.0, abs(xs[k])))


@given(lr=lrs, lam=lams)
def test_gd_rate_is_one_minus_lr_lambda(lr, lam):
    assert theory.gd_rate(lr, [lam]) == pytest.approx(abs(1 - lr * lam), abs=1e-15)
    # momentum with beta = 0 is gradient descent
    assert theory.momentum_rate(lr, 0.0, [lam]) == pytest.approx(abs(1 - lr * lam), abs=1e-12)


@given(lr=st.floats(1e-3, 5.0), beta=st.floats(0.0, 0.99), lam=lams)
def test_momentum_converges_iff_lr_lambda_below_2_plus_2_beta(lr, beta, lam):
    h = lr * lam
    rate = theory.momentum_rate(lr, beta, [lam])
    if h < 2 + 2 * beta - 1e-9:
        assert rate < 1
    elif h > 2 + 2 * beta + 1e-9:
        assert rate > 1


@given(lr=lrs, beta=betas, lam=lams)
def test_complex_regime_rate_is_sqrt_beta(lr, beta, lam):
    trace = 1 + beta - lr * lam
    if trace**2 < 4 * beta * (1 - 1e-9):
        assert theory.momentum_rate(lr, beta, [lam]) == pytest.approx(np.sqrt(beta), rel=1e-12)
        assert theory.momentum_regime(lr, beta, lam) == "ripples"


@given(h=st.floats(0.01, 1.0))
def test_critical_momentum_gives_a_double_root(h):
    beta = theory.critical_momentum(h, 1.0)
    trace = 1 + beta - h
    assert trace**2 - 4 * beta == pytest.approx(0.0, abs=1e-12)
    assert theory.momentum_rate(h, beta, [1.0]) == pytest.approx(np.sqrt(beta), abs=1e-6)


@given(mu=st.floats(1e-3, 1.0), ratio=st.floats(1.0, 1e4))
def test_optimal_gd_is_optimal(mu, ratio):
    L = mu * ratio
    lr, rate = theory.optimal_gd(mu, L)
    assert theory.gd_rate(lr, [mu, L]) == pytest.approx(rate, rel=1e-12, abs=1e-15)
    grid = np.linspace(0.01, 2.0, 400) / L
    assert np.all(theory.gd_rate(grid, [mu, L]) >= rate - 1e-12)


@given(mu=st.floats(1e-3, 1.0), ratio=st.floats(1.5, 1e4))
def test_optimal_momentum_is_optimal_and_its_rate_is_sqrt_beta(mu, ratio):
    L = mu * ratio
    lr, beta, rate = theory.optimal_momentum(mu, L)
    kappa = L / mu
    assert rate == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rel=1e-12)
    assert rate == pytest.approx(np.sqrt(beta), rel=1e-12)
    assert theory.momentum_rate(lr, beta, [mu, L]) == pytest.approx(rate, rel=1e-6)
    LR, B = np.meshgrid(np.linspace(0.02, 3.9, 120) / L, np.linspace(0.0, 0.999, 120))
    assert np.all(theory.momentum_rate(LR, B, [mu, L]) >= rate * (1 - 1e-9))


@given(mu=st.floats(1e-2, 1.0), ratio=st.floats(1.0, 100.0), lr=st.floats(1e-3, 2.0),
       beta=st.floats(0.0, 0.99))
def test_interval_rate_is_attained_at_the_end_points(mu, ratio, lr, beta):
    """Why passing [mu, L] is enough: the radius over a fine grid of [mu, L] is its end-point max."""
    L = mu * ratio
    dense = theory.momentum_rate(lr, beta, np.linspace(mu, L, 301))
    assert theory.momentum_rate(lr, beta, [mu, L]) == pytest.approx(dense, rel=1e-12)


def test_rates_broadcast_over_grids():
    lr = np.linspace(0.01, 1, 5)[:, None]
    beta = np.linspace(0, 0.9, 4)[None, :]
    r = theory.momentum_rate(lr, beta, [0.1, 1.0])
    assert r.shape == (5, 4)
    assert r[2, 3] == pytest.approx(theory.momentum_rate(lr[2, 0], beta[0, 3], [0.1, 1.0]))
    assert theory.gd_rate(lr, [0.1, 1.0]).shape == (5, 1)
    assert isinstance(theory.gd_rate(0.1, [1.0]), float)


def test_regimes_are_named():
    assert theory.momentum_regime(0.1, 0.0, 1.0) == "monotone"
    assert theory.momentum_regime(1.9, 0.0, 1.0) == "oscillation"
    assert theory.momentum_regime(1.0, 0.9, 1.0) == "ripples"
    assert theory.momentum_regime(4.5, 0.5, 1.0) == "divergence"


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda: theory.gd_rate(-1.0, [1.0]), "lr"),
        (lambda: theory.gd_rate(0.1, [0.0, 1.0]), "eigenvalues"),
        (lambda: theory.gd_rate(0.1, [[1.0]]), "eigenvalues"),
        (lambda: theory.momentum_rate(0.1, 1.0, [1.0]), "beta"),
        (lambda: theory.momentum_rate(0.1, np.nan, [1.0]), "beta"),
        (lambda: theory.momentum_rate(np.ones(3), np.ones(2) / 2, [1.0]), "lr and beta"),
        (lambda: theory.optimal_gd(0.0, 1.0), "mu"),
        (lambda: theory.optimal_gd(2.0, 1.0), "L"),
        (lambda: theory.optimal_momentum(1.0, np.inf), "L"),
        (lambda: theory.critical_momentum(3.0, 1.0), "lr \\* eigenvalue"),
        (lambda: theory.momentum_matrix(0.1, 0.5, -1.0), "eigenvalue"),
    ],
)
def test_bad_input_names_the_parameter(call, param):
    with pytest.raises(ValueError, match=param):
        call()
