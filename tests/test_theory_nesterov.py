"""theory, Nesterov's side of the rate map: its regimes, divergence edge, double root and best pair,
each checked against an independent computation (np.linalg.eigvals of its 2x2 matrix, a run of
the iteration, and Lessard, Recht and Packard's closed form for the best pair)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib import theory

lrs = st.floats(1e-3, 2.5)
betas = st.floats(0.0, 0.999)
lams = st.floats(1e-2, 10.0)


def eigenvalues(lr: float, beta: float, lam: float) -> np.ndarray:
    """The two roots of Nesterov's iteration on one eigen-component, from its matrix."""
    return np.linalg.eigvals(theory.nesterov_matrix(lr, beta, lam))


def simulated_rate(lr: float, beta: float, lam: float, steps: int = 3000, window: int = 600) -> float:
    """PyTorch's Nesterov recursion on f = lam x^2 / 2 from x = 1: the growth of the state's size
    over the last ``window`` steps, per step (the spectral radius, up to a polynomial factor)."""
    x, buf = 1.0, 0.0
    sizes = []
    prev = x
    for _ in range(steps):
        g = lam * x
        buf = beta * buf + g
        prev, x = x, x - lr * (g + beta * buf)
        sizes.append(np.hypot(x, prev))
        if sizes[-1] == 0.0 or sizes[-1] > 1e250 or sizes[-1] < 1e-250:
            break
    if len(sizes) <= window:
        return np.nan
    return float((sizes[-1] / sizes[-1 - window]) ** (1.0 / window))


@given(lr=lrs, beta=betas, lam=lams)
def test_nesterov_regime_is_what_its_matrix_does(lr, beta, lam):
    z = eigenvalues(lr, beta, lam)
    radius = np.abs(z).max()
    regime = str(theory.nesterov_regime(lr, beta, lam))
    if abs(radius - 1.0) < 1e-9:
        return  # on the edge itself
    if radius > 1.0:
        assert regime == "divergence"
        return
    disc = ((1 + beta) * (1 - lr * lam)) ** 2 - 4 * beta * (1 - lr * lam)
    if abs(disc) < 1e-9:
        return  # a double root: either name
    dominant = z[np.argmax(np.abs(z))]
    if abs(dominant.imag) > 1e-12:
        assert regime == "ripples"
    elif dominant.real >= 0:
        assert regime == "monotone"
    else:
        assert regime == "oscillation"


@given(lr=st.floats(1e-3, 3.0), beta=st.floats(0.0, 0.99), lam=lams)
def test_nesterov_converges_iff_lr_lambda_is_inside_its_edge(lr, beta, lam):
    h = lr * lam
    radius = np.abs(eigenvalues(lr, beta, lam)).max()
    edge = theory.nesterov_edge(beta)
    if h < edge - 1e-7:
        assert radius < 1 and theory.nesterov_rate(lr, beta, [lam]) < 1
    elif h > edge + 1e-7:
        assert radius > 1 and theory.nesterov_rate(lr, beta, [lam]) > 1


def test_nesterov_edge_end_points():
    assert theory.nesterov_edge(0.0) == 2.0  # gradient descent's 2 / lam
    assert theory.nesterov_edge(0.5) == pytest.approx(1.5)
    # just inside and just outside the edge, from the matrix
    for beta in (0.1, 0.5, 0.9):
        edge = theory.nesterov_edge(beta)
        assert np.abs(eigenvalues(edge * (1 - 1e-6), beta, 1.0)).max() < 1
        assert np.abs(eigenvalues(edge * (1 + 1e-6), beta, 1.0)).max() > 1


@given(h=st.floats(0.01, 1.0))
def test_nesterov_critical_momentum_gives_a_double_root(h):
    beta = theory.nesterov_critical_momentum(h, 1.0)
    z = eigenvalues(h, beta, 1.0)
    assert abs(z[0] - z[1]) < 1e-6
    assert z.real.max() == pytest.approx((1 + beta) * (1 - h) / 2, abs=1e-6)
    # a little more momentum makes the roots complex (inside the band, below lr lam = 1)
    if h < 0.98:
        assert np.abs(eigenvalues(h, beta + 0.01, 1.0).imag).max() > 0


@settings(deadline=None, max_examples=60)
@given(lr=st.floats(1e-2, 1.9), beta=st.floats(0.0, 0.95), lam=st.floats(0.05, 1.0))
def test_nesterov_rate_is_the_growth_of_a_simulated_run(lr, beta, lam):
    """A run of the iteration shrinks (or grows) by the rate per step, measured over 600 steps."""
    rate = theory.nesterov_rate(lr, beta, [lam])
    if not 0.3 < rate < 0.997 and not 1.0005 < rate < 1.02:
        return  # too fast to measure in floating point, or too close to 1
    # as many steps as stay clear of underflow and overflow (about 1e-250 .. 1e250)
    steps = min(3000, int(250 / abs(np.log10(rate))))
    measured = simulated_rate(lr, beta, lam, steps=steps, window=steps // 2)
    assert measured == pytest.approx(rate, rel=2e-2)


@given(
    mu=st.floats(1e-2, 1.0), ratio=st.floats(1.0, 100.0), lr=st.floats(1e-3, 2.0), beta=st.floats(0.0, 0.99)
)
def test_nesterov_interval_rate_is_attained_at_the_end_points(mu, ratio, lr, beta):
    """Why the map passes [mu, L] only: the radius over a fine grid of [mu, L] is its end-point max."""
    L = mu * ratio
    dense = np.abs(np.array([eigenvalues(lr, beta, lam) for lam in np.linspace(mu, L, 201)])).max()
    assert theory.nesterov_rate(lr, beta, [mu, L]) == pytest.approx(dense, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("kappa", [1.0, 1.5, 2.0, 10.0, 37.3, 100.0, 1000.0, 1e5])
def test_optimal_nesterov_is_lessard_recht_packards_closed_form(kappa):
    mu, L = 1.0 / kappa, 1.0
    lr, beta, rate = theory.optimal_nesterov(mu, L)
    s = np.sqrt(3 * kappa + 1)
    assert lr == pytest.approx(4 / (3 * L + mu), rel=1e-9, abs=1e-12)
    assert beta == pytest.approx((s - 2) / (s + 2), rel=1e-9, abs=1e-12)
    assert rate == pytest.approx(1 - 2 / s, rel=1e-9, abs=1e-12)
    assert rate == theory.nesterov_rate(lr, beta, [mu, L])
    # between the heavy ball's best and gradient descent's best
    assert theory.optimal_momentum(mu, L)[2] <= rate + 1e-12
    assert rate <= theory.optimal_gd(mu, L)[1] + 1e-12


@given(mu=st.floats(1e-3, 1.0), ratio=st.floats(1.0, 1e3))
@settings(deadline=None, max_examples=30)
def test_optimal_nesterov_is_not_beaten_on_a_fine_grid(mu, ratio):
    L = mu * ratio
    lr, beta, rate = theory.optimal_nesterov(mu, L)
    LR, B = np.meshgrid(np.linspace(1e-3, 2.0, 300) / L, np.linspace(0.0, 0.999, 300))
    assert np.all(np.asarray(theory.nesterov_rate(LR, B, [mu, L])) >= rate * (1 - 1e-9))
    # and a run at the best pair shrinks at that rate (the slower component, lam = mu)
    if 0.3 < rate < 0.99:
        steps = min(3000, int(250 / abs(np.log10(rate))))
        worst = max(simulated_rate(lr, beta, lam, steps, steps // 2) for lam in (mu, L))
        assert worst == pytest.approx(rate, rel=3e-2)


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda: theory.nesterov_regime(0.1, 1.0, 1.0), "beta"),
        (lambda: theory.nesterov_regime(0.1, 0.5, 0.0), "eigenvalue"),
        (lambda: theory.nesterov_edge(1.0), "beta"),
        (lambda: theory.nesterov_critical_momentum(2.0, 1.0), "lr \\* eigenvalue"),
        (lambda: theory.optimal_nesterov(0.0, 1.0), "mu"),
        (lambda: theory.optimal_nesterov(2.0, 1.0), "L"),
    ],
)
def test_bad_input_names_the_parameter(call, param):
    with pytest.raises(ValueError, match=param):
        call()
