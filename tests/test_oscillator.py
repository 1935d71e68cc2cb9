"""lessons_lib.oscillator: the heavy ball as a discretised damped oscillator (lesson 03).

The closed-form solution is compared with an independent ODE integrator (scipy's solve_ivp) and with
the matrix exponential of the first-order system, in all three damping regimes and next to critical
damping; the map (h, a) <-> (lr, beta) is checked against Polyak's heavy ball written out, and the
heavy ball's iterates are shown to approach the solution at first order in h.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from lessons_lib import optimizers, oscillator, surfaces


def _by_solve_ivp(lam, a, x0, t):
    lam, x0 = np.asarray(lam, float), np.asarray(x0, float)
    d = lam.size

    def rhs(_, y):
        return np.concatenate([y[d:], -a * y[d:] - lam * y[:d]])

    sol = solve_ivp(rhs, (0.0, float(t[-1])), np.concatenate([x0, np.zeros(d)]), t_eval=t,
                    rtol=1e-12, atol=1e-13, method="DOP853")
    return sol.y[:d].T


@pytest.mark.parametrize("a", [0.0, 0.3, 1.0, 2.0, 2.0 * np.sqrt(0.2), 4.0, 7.5])
def test_solve_matches_an_ode_integrator(a):
    lam, x0 = [0.2, 4.0, 1.0], [-8.0, 3.0, 0.5]
    t = np.linspace(0.0, 12.0, 49)
    np.testing.assert_allclose(oscillator.solve(lam, a, x0, t), _by_solve_ivp(lam, a, x0, t), atol=1e-8)


@pytest.mark.parametrize("a", [1.9999999, 2.0, 2.0000001, 0.5, 3.0])
def test_solve_matches_the_matrix_exponential_next_to_critical_damping(a):
    lam = 1.0
    A = np.array([[0.0, 1.0], [-lam, -a]])
    t = np.linspace(0.0, 10.0, 21)
    want = np.array([(expm(A * tk) @ np.array([1.0, 0.0]))[0] for tk in t])
    np.testing.assert_allclose(oscillator.solve([lam], a, [1.0], t)[:, 0], want, rtol=1e-10, atol=1e-13)


def test_solve_shapes_and_start():
    x = oscillator.solve([1.0, 2.0], 0.5, [1.0, -2.0], np.linspace(0, 1, 5))
    assert x.shape == (5, 2)
    np.testing.assert_array_equal(x[0], [1.0, -2.0])
    assert oscillator.solve([1.0], 0.5, [1.0], 0.0).shape == (1, 1)


def test_critical_damping_is_the_double_root():
    for lam in [0.01, 1.0, 9.0]:
        a = oscillator.critical_damping(lam)
        r = np.roots([1.0, a, lam])
        assert np.allclose(r, -a / 2, atol=1e-6)
    np.testing.assert_allclose(oscillator.critical_damping(np.array([1.0, 4.0])), [2.0, 4.0])


def test_map_to_momentum_is_polyaks_heavy_ball():
    """x_{k+1} = x_k - h^2 grad + (1 - a h)(x_k - x_{k-1}) is what optimizers.run does with (lr, beta)."""
    h, a = 0.1, 2.0
    lr, beta = oscillator.to_momentum(h, a)
    assert np.isclose(lr, 0.01) and np.isclose(beta, 0.8)
    assert np.allclose(oscillator.from_momentum(lr, beta), (h, a))
    valley = surfaces.get("quadratic")
    x, prev = np.array(valley.start), np.array(valley.start)
    by_hand = [x]
    for _ in range(50):  # the finite-difference equation solved for x_{k+1}
        x, prev = 2 * x - prev - h * h * valley.grad(x) - a * h * (x - prev), x
        by_hand.append(x)
    np.testing.assert_allclose(optimizers.run(valley, valley.start, "momentum", lr, beta, steps=50).points,
                               np.array(by_hand), atol=1e-12)


def test_heavy_ball_approaches_the_oscillator_at_first_order():
    valley = surfaces.get("quadratic")
    gaps = []
    for h in [0.1, 0.05, 0.025]:
        lr, beta = oscillator.to_momentum(h, 1.0)
        n = int(round(10 / h))
        pts = optimizers.run(valley, valley.start, "momentum", lr, beta, steps=n).points
        gaps.append(np.abs(pts - oscillator.solve([0.2, 4.0], 1.0, valley.start, h * np.arange(n + 1))).max())
    order = np.log2(np.array(gaps[:-1]) / np.array(gaps[1:]))
    assert np.all(np.abs(order - 1) < 0.05)


@pytest.mark.parametrize(("call", "names"), [
    (lambda: oscillator.to_momentum(0.0, 1.0), "h"),
    (lambda: oscillator.to_momentum(0.1, -1.0), "damping"),
    (lambda: oscillator.to_momentum(0.5, 3.0), r"damping \* h"),
    (lambda: oscillator.from_momentum(-0.1, 0.5), "lr"),
    (lambda: oscillator.from_momentum(0.1, 1.0), "beta"),
    (lambda: oscillator.critical_damping(0.0), "eigenvalue"),
    (lambda: oscillator.solve([1.0, -1.0], 1.0, [1.0, 1.0], [0.0]), "eigenvalues"),
    (lambda: oscillator.solve([1.0], -0.5, [1.0], [0.0]), "damping"),
    (lambda: oscillator.solve([1.0, 2.0], 0.5, [1.0], [0.0]), "x0"),
    (lambda: oscillator.solve([1.0], 0.5, [np.nan], [0.0]), "x0"),
    (lambda: oscillator.solve([1.0], 0.5, [1.0], [-1.0]), "t"),
    (lambda: oscillator.solve([1.0], 0.5, [1.0], [[0.0, 1.0]]), "t"),
])
def test_bad_input_names_the_parameter(call, names):
    with pytest.raises(ValueError, match=names):
        call()
