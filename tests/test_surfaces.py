"""Surfaces: analytic gradients, minima, vectorisation, the quadratic family."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lessons_lib import surfaces

NAMES = surfaces.names()
unit = st.floats(0.0, 1.0)


def test_names_are_the_six_of_the_design():
    assert NAMES == ["quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "rastrigin"]


def _point_in_range(s: surfaces.Surface, u: float, v: float) -> np.ndarray:
    return np.array([s.xlim[0] + u * (s.xlim[1] - s.xlim[0]), s.ylim[0] + v * (s.ylim[1] - s.ylim[0])])


@pytest.mark.parametrize("name", NAMES)
@given(u=unit, v=unit)
def test_gradient_matches_central_differences(name, u, v):
    s = surfaces.get(name)
    p = _point_in_range(s, u, v)
    h = 1e-6
    numeric = np.array(
        [(s.f(p + h * e) - s.f(p - h * e)) / (2 * h) for e in np.eye(2)]
    )
    scale = max(1.0, np.abs(numeric).max())
    assert np.allclose(s.grad(p), numeric, atol=1e-5 * scale, rtol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_minima_are_stationary_and_attain_f_min(name):
    s = surfaces.get(name)
    for m in s.minima:
        assert np.allclose(s.grad(m), 0.0, atol=1e-9)
        assert s.f(m) == pytest.approx(s.f_min, abs=1e-12)
    if s.f_min is not None:
        _, _, Z = s.grid(300)
        assert Z.min() >= s.f_min - 1e-12  # nothing on the plot range is lower
    else:
        assert s.minima.shape == (0, 2)


@pytest.mark.parametrize("name", NAMES)
def test_vectorised_over_leading_axes(name):
    s = surfaces.get(name)
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, size=(3, 4, 2))
    f, g = s.f(pts), s.grad(pts)
    assert f.shape == (3, 4) and g.shape == (3, 4, 2)
    assert np.allclose(f[1, 2], s.f(pts[1, 2])) and np.allclose(g[2, 3], s.grad(pts[2, 3]))


@pytest.mark.parametrize("name", NAMES)
def test_start_is_inside_the_plot_range(name):
    s = surfaces.get(name)
    assert s.xlim[0] < s.start[0] < s.xlim[1] and s.ylim[0] < s.start[1] < s.ylim[1]


def test_named_quadratic_is_the_design_formula():
    s = surfaces.get("quadratic")
    x, y = 1.7, -0.3
    assert s.f([x, y]) == pytest.approx(0.1 * x**2 + 2 * y**2, rel=1e-15)


@given(l1=st.floats(0.01, 100), l2=st.floats(0.01, 100), angle=st.floats(-np.pi, np.pi),
       u=st.floats(-3, 3), v=st.floats(-3, 3))
def test_quadratic_has_the_given_eigenvalues_in_the_rotated_frame(l1, l2, angle, u, v):
    s = surfaces.quadratic([l1, l2], angle)
    assert np.allclose(np.linalg.eigvalsh(s.hessian), sorted([l1, l2]), rtol=1e-10)
    # f along the rotated axes is 0.5 * lambda_i * t^2
    e1 = np.array([np.cos(angle), np.sin(angle)])
    assert s.f(2.0 * e1) == pytest.approx(0.5 * l1 * 4.0, rel=1e-9)
    # gradient is H xy
    p = np.array([u, v])
    assert np.allclose(s.grad(p), s.hessian @ p, atol=1e-12)


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda: surfaces.get("parabola"), "name"),
        (lambda: surfaces.get(3), "name"),
        (lambda: surfaces.quadratic([1.0, 2.0, 3.0]), "eigenvalues"),
        (lambda: surfaces.quadratic([1.0, np.nan]), "eigenvalues"),
        (lambda: surfaces.quadratic([1.0, 2.0], angle=np.inf), "angle"),
        (lambda: surfaces.get("beale").f(np.zeros(3)), "xy"),
        (lambda: surfaces.get("beale").grad([[np.nan, 0.0]]), "xy"),
    ],
)
def test_bad_input_names_the_parameter(call, param):
    with pytest.raises(ValueError, match=param):
        call()


@given(seed=st.integers(0, 1000), m=st.integers(3, 60))
def test_linear_regression_minimum_is_least_squares(seed, m):
    x, y = surfaces.regression_data(m=m, seed=seed)
    s = surfaces.linear_regression(x, y)
    X = np.stack([np.ones_like(x), x], axis=1)
    theta, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert np.allclose(s.minima[0], theta, atol=1e-8)
    assert s.f(theta) == pytest.approx(s.f_min, abs=1e-10)
    t = np.array([0.3, -1.2])
    assert s.f(t) == pytest.approx(np.mean((X @ t - y) ** 2) / 2, rel=1e-10)
    assert np.allclose(s.grad(t), X.T @ (X @ t - y) / m, atol=1e-10)


def test_linear_regression_minimum_is_the_rounded_exact_solution():
    """The minimiser is A^-1 b solved in rationals and rounded once, so it is the same on every
    CPU (np.linalg.solve's last bit depends on OpenBLAS's kernels, AVX-512 or not)."""
    s = surfaces.linear_regression()
    x, y = surfaces.regression_data()
    a00, a01, a11 = 1.0, float(x.mean()), float((x * x).mean())
    b0, b1 = float(y.mean()), float((x * y).mean())
    F = Fraction
    det = F(a00) * F(a11) - F(a01) ** 2
    t0 = (F(b0) * F(a11) - F(a01) * F(b1)) / det
    t1 = (F(a00) * F(b1) - F(a01) * F(b0)) / det
    assert s.minima[0].tolist() == [float(t0), float(t1)]
    assert s.f_min == float(F(0.5 * float((y * y).mean())) - (F(b0) * t0 + F(b1) * t1) / 2)
    # and the residual of the rounded solution is at rounding level
    A = np.array([[a00, a01], [a01, a11]])
    assert np.abs(A @ s.minima[0] - [b0, b1]).max() < 1e-14


def test_linear_regression_is_the_same_with_openblas_haswell_kernels():
    code = ("from lessons_lib import surfaces; s = surfaces.linear_regression(); "
            "print(repr((s.minima.tolist(), s.f_min, s.start.tolist())))")
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell",
               NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR")
    other = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    s = surfaces.linear_regression()
    assert other.stdout.strip() == repr((s.minima.tolist(), s.f_min, s.start.tolist()))


def test_linear_regression_bad_data():
    with pytest.raises(ValueError, match="x and y"):
        surfaces.linear_regression([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="x must not be constant"):
        surfaces.linear_regression([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])


@given(seed=st.integers(0, 1000), m=st.integers(3, 60))
def test_the_browser_gets_the_surfaces_own_least_squares_terms(seed, m):
    """The widget's copy of the loss (its spec's coefficients) is the surface's, bit for bit:
    its Hessian, and J and its gradient at a point."""
    from lessons_lib.widgets import _base
    x, y = surfaces.regression_data(m=m, seed=seed)
    s = surfaces.linear_regression(x, y)
    coef = _base.surface_spec(s, data=(x, y))["coef"]
    assert [coef["a00"], coef["a01"], coef["a11"]] == [s.hessian[0, 0], s.hessian[0, 1], s.hessian[1, 1]]
    t0, t1 = 0.3, -1.2
    j = 0.5 * (coef["a00"] * t0 * t0 + 2.0 * coef["a01"] * t0 * t1 + coef["a11"] * t1 * t1) \
        - coef["b0"] * t0 - coef["b1"] * t1 + coef["c"]
    assert j == s.fxy(np.float64(t0), np.float64(t1))
    g = s.grad_xy(np.float64(t0), np.float64(t1))
    assert coef["a00"] * t0 + coef["a01"] * t1 - coef["b0"] == g[0]
    assert coef["a01"] * t0 + coef["a11"] * t1 - coef["b1"] == g[1]
