"""Two-dimensional loss surfaces with analytic gradients.

Every surface is a :class:`Surface`: ``f(xy)`` takes points of shape
``(..., 2)`` and returns values of shape ``(...)``; ``grad(xy)`` returns the
gradient, shape ``(..., 2)``. Both are vectorised, so a whole grid or a batch
of optimizer states is evaluated in one call.

The named surfaces (``get(name)``, ``names()``):

========== ===================================================== ==============================
name       f(x, y)                                               minima
========== ===================================================== ==============================
quadratic  0.1 x^2 + 2 y^2   (eigenvalues 0.2 and 4, kappa = 20)  (0, 0)
rosenbrock (1 - x)^2 + 100 (y - x^2)^2                          (1, 1)
beale      (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2                (3, 0.5)
           + (2.625 - x + xy^3)^2
himmelblau (x^2 + y - 11)^2 + (x + y^2 - 7)^2                   four, e.g. (3, 2)
saddle     x^2 - y^2                                            none (saddle point at 0)
rastrigin  20 + sum_i (z_i^2 - 10 cos(2 pi z_i))                (0, 0), many local minima
========== ===================================================== ==============================

``quadratic(eigenvalues, angle)`` builds ``0.5 * sum_i lambda_i x~_i^2`` with
``x~ = R(-angle) xy`` (the eigen-coordinates, lesson 00's notation): the eigenvectors of
the Hessian are the coordinate axes rotated by ``angle`` radians.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from . import _validate

Array = np.ndarray
# A function of the two coordinate arrays x, y (same shape) returning arrays of that shape.
ScalarFn = Callable[[Array, Array], Array]
GradFn = Callable[[Array, Array], tuple[Array, Array]]


@dataclass(frozen=True)
class Surface:
    """A loss surface over the plane.

    Attributes
    ----------
    name : short identifier, as accepted by :func:`get`.
    formula : the formula in LaTeX, for titles.
    minima : array of shape ``(k, 2)``, the global minima (``k = 0`` if unbounded below).
    f_min : the minimum value, or None if the surface is unbounded below.
    xlim, ylim : plot ranges ``(low, high)``.
    start : a default starting point, shape ``(2,)``.
    escape_radius : an optimizer that leaves the square ``max(|x|, |y|) <= escape_radius``
        is reported as diverged.
    fxy, grad_xy : the same maths on separate coordinate arrays (the fast path used by
        :mod:`lessons_lib.optimizers`).
    """

    name: str
    formula: str
    fxy: ScalarFn = field(repr=False)
    grad_xy: GradFn = field(repr=False)
    minima: Array = field(repr=False)
    f_min: float | None
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: Array = field(repr=False)
    escape_radius: float = 1e4
    hessian: Array | None = field(default=None, repr=False)

    def f(self, xy: object) -> Array:
        """Loss at points ``xy`` of shape ``(..., 2)``; returns shape ``(...)``."""
        p = _validate.points(xy, "xy")
        return self.fxy(p[..., 0], p[..., 1])

    def grad(self, xy: object) -> Array:
        """Gradient at points ``xy`` of shape ``(..., 2)``; returns shape ``(..., 2)``."""
        p = _validate.points(xy, "xy")
        gx, gy = self.grad_xy(p[..., 0], p[..., 1])
        return np.stack(np.broadcast_arrays(gx, gy), axis=-1)

    def grid(self, n: int = 200) -> tuple[Array, Array, Array]:
        """``(X, Y, Z)`` on an ``n x n`` grid over the plot ranges, for contour plots."""
        n = _validate.integer(n, "n", 2, 4000)
        X, Y = np.meshgrid(np.linspace(*self.xlim, n), np.linspace(*self.ylim, n))
        return X, Y, self.fxy(X, Y)


# --- the quadratic family -------------------------------------------------


def quadratic(eigenvalues: object = (0.2, 4.0), angle: float = 0.0, *, name: str = "quadratic") -> Surface:
    """``f(xy) = 0.5 * xy^T H xy`` with ``H = R diag(eigenvalues) R^T``, ``R`` a rotation by ``angle``.

    Parameters
    ----------
    eigenvalues : two finite numbers ``(lambda_1, lambda_2)``, the curvatures along the
        rotated axes (negative values give a saddle).
    angle : rotation of the eigenvectors in radians.

    The gradient is ``H xy``; the minimum (when both eigenvalues are positive) is the origin.
    """
    lam = _validate.finite(eigenvalues, "eigenvalues")
    if lam.shape != (2,):
        raise ValueError(f"eigenvalues must have shape (2,), two numbers; got shape {lam.shape}")
    angle = float(_validate.finite(angle, "angle"))
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    H = R @ np.diag(lam) @ R.T
    a, b, d = H[0, 0], H[0, 1], H[1, 1]

    def fxy(x: Array, y: Array) -> Array:
        return 0.5 * (a * x * x + 2.0 * b * x * y + d * y * y)

    def grad_xy(x: Array, y: Array) -> tuple[Array, Array]:
        return a * x + b * y, b * x + d * y

    positive = bool(np.all(lam > 0))
    # Plot range: the level set f = f(start) fits, where start sits on the flat direction.
    span = 10.0 if positive else 3.0
    lam_txt = ", ".join(f"{v:g}" for v in lam)
    return Surface(
        name=name,
        formula=rf"$\frac{{1}}{{2}}\sum_i \lambda_i \tilde{{x}}_i^2,\ \lambda = ({lam_txt})$",
        fxy=fxy,
        grad_xy=grad_xy,
        minima=np.zeros((1, 2)) if positive else np.zeros((0, 2)),
        f_min=0.0 if positive else None,
        xlim=(-span, span),
        ylim=(-span * 0.5, span * 0.5) if positive else (-span, span),
        start=R @ np.array([-0.8 * span, 0.3 * span]) if positive else np.array([-2.5, 0.01]),
        escape_radius=1e4,
        hessian=H,
    )


# --- least squares ---------------------------------------------------------


def regression_data(m: int = 40, seed: int = 0, intercept: float = 1.0, slope: float = 2.0,
                    noise: float = 0.3) -> tuple[Array, Array]:
    """Synthetic data ``y = intercept + slope * x + noise * N(0, 1)``, ``x ~ U(0, 2)``; shapes ``(m,)``."""
    m = _validate.integer(m, "m", 2, 10**7)
    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    noise = float(_validate.in_range(noise, "noise", 0.0, None))
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 2.0, m)
    y = intercept + slope * x + noise * rng.standard_normal(m)
    return x, y


def _lsq_minimum(A: Array, b: Array, c: float) -> tuple[Array, float]:
    """The minimiser ``theta* = A^{-1} b`` of ``0.5 t^T A t - b^T t + c`` (2x2 ``A``) and the minimum
    ``c - 0.5 b^T theta*``, each solved exactly in rationals and rounded once to float64.

    Exact arithmetic makes the numbers the same on every CPU: LAPACK's ``solve`` and BLAS's dot
    product round differently with and without AVX-512 (OpenBLAS picks its kernels by CPU), and
    these numbers are stored in the notebooks' widget state.
    """
    a00, a01, a11, b0, b1 = (Fraction(float(v)) for v in (A[0, 0], A[0, 1], A[1, 1], b[0], b[1]))
    det = a00 * a11 - a01 * a01
    t0, t1 = (b0 * a11 - a01 * b1) / det, (a00 * b1 - a01 * b0) / det
    f_min = Fraction(float(c)) - (b0 * t0 + b1 * t1) / 2
    return np.array([float(t0), float(t1)]), float(f_min)


def least_squares_terms(x: object, y: object) -> tuple[Array, Array, float]:
    """The least-squares loss of a line as a quadratic: ``J = 0.5 t^T A t - b^T t + c``.

    ``x, y`` are 1-D arrays of one length ``m >= 2``; returns ``A = [[1, mean x], [mean x,
    mean x^2]]`` (shape ``(2, 2)``), ``b = [mean y, mean xy]`` (shape ``(2,)``) and
    ``c = mean(y^2) / 2``. The one computation of these numbers: the surface of
    :func:`linear_regression` and the browser's copy of it (``widgets``) both use it, so the two
    agree bit for bit.
    """
    x = _validate.finite(x, "x")
    y = _validate.finite(y, "y")
    if x.ndim != 1 or x.shape != y.shape or x.size < 2:
        raise ValueError(f"x and y must be 1-D arrays of one length >= 2; got shapes {x.shape} and {y.shape}")
    A = np.array([[1.0, x.mean()], [x.mean(), (x * x).mean()]])
    if np.linalg.cond(A) > 1e12:
        raise ValueError("x must not be constant: the slope would be undetermined")
    b = np.array([y.mean(), (x * y).mean()])
    c = 0.5 * float((y * y).mean())
    return A, b, c


def linear_regression(x: object = None, y: object = None) -> Surface:
    """The least-squares loss of the line ``h(x) = theta0 + theta1 x`` over ``(theta0, theta1)``.

    ``J(theta) = 1/(2m) sum_i (theta0 + theta1 x_i - y_i)^2``, the loss of the worked example
    in lesson 05. With ``A = [[1, mean x], [mean x, mean x^2]]`` and ``b = [mean y, mean xy]``,
    ``J = 0.5 theta^T A theta - b^T theta + 0.5 mean y^2``, the gradient is ``A theta - b``
    and the minimum is the least-squares solution ``A theta* = b``.
    Without data, the synthetic set of :func:`regression_data` is used.
    """
    if x is None and y is None:
        x, y = regression_data()
    A, b, c = least_squares_terms(x, y)
    theta_star, f_min = _lsq_minimum(A, b, c)
    a00, a01, a11 = A[0, 0], A[0, 1], A[1, 1]
    b0, b1 = b

    def fxy(t0: Array, t1: Array) -> Array:
        return 0.5 * (a00 * t0 * t0 + 2.0 * a01 * t0 * t1 + a11 * t1 * t1) - b0 * t0 - b1 * t1 + c

    def grad_xy(t0: Array, t1: Array) -> tuple[Array, Array]:
        return a00 * t0 + a01 * t1 - b0, a01 * t0 + a11 * t1 - b1

    span = 1.5 * max(1.0, float(np.abs(theta_star).max()))
    return Surface(
        name="linear_regression",
        formula=r"$\frac{1}{2m}\sum_i(\theta_0+\theta_1x_i-y_i)^2$",
        fxy=fxy, grad_xy=grad_xy,
        minima=theta_star[None, :], f_min=f_min,
        xlim=(theta_star[0] - span, theta_star[0] + span),
        ylim=(theta_star[1] - span, theta_star[1] + span),
        start=np.array([theta_star[0] - 0.8 * span, theta_star[1] + 0.6 * span]),
        escape_radius=1e4 * span, hessian=A,
    )


# --- the classic test functions -------------------------------------------


def _rosenbrock() -> Surface:
    def fxy(x: Array, y: Array) -> Array:
        return (1.0 - x) ** 2 + 100.0 * (y - x * x) ** 2

    def grad_xy(x: Array, y: Array) -> tuple[Array, Array]:
        r = y - x * x
        return -2.0 * (1.0 - x) - 400.0 * x * r, 200.0 * r

    return Surface(
        "rosenbrock", r"$(1-x)^2 + 100\,(y-x^2)^2$", fxy, grad_xy,
        minima=np.array([[1.0, 1.0]]), f_min=0.0, xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
        start=np.array([-1.5, 2.0]), escape_radius=1e3,
    )


def _beale() -> Surface:
    def fxy(x: Array, y: Array) -> Array:
        return (
            (1.5 - x + x * y) ** 2
            + (2.25 - x + x * y * y) ** 2
            + (2.625 - x + x * y * y * y) ** 2
        )

    def grad_xy(x: Array, y: Array) -> tuple[Array, Array]:
        y2 = y * y
        y3 = y2 * y
        t1 = 1.5 - x + x * y
        t2 = 2.25 - x + x * y2
        t3 = 2.625 - x + x * y3
        gx = 2.0 * (t1 * (y - 1.0) + t2 * (y2 - 1.0) + t3 * (y3 - 1.0))
        gy = 2.0 * x * (t1 + 2.0 * y * t2 + 3.0 * y2 * t3)
        return gx, gy

    return Surface(
        "beale", r"$(1.5-x+xy)^2 + (2.25-x+xy^2)^2 + (2.625-x+xy^3)^2$", fxy, grad_xy,
        minima=np.array([[3.0, 0.5]]), f_min=0.0, xlim=(-4.5, 4.5), ylim=(-4.5, 4.5),
        start=np.array([1.0, 1.5]), escape_radius=1e3,
    )


# The three minima of Himmelblau's function besides (3, 2), to double precision
# (Newton's method from the commonly quoted 6-digit values; tests check grad = 0 there).
_HIMMELBLAU_MINIMA = np.array(
    [
        [3.0, 2.0],
        [-2.805118086952745, 3.131312518250573],
        [-3.779310253377747, -3.283185991286170],
        [3.584428340330492, -1.848126526964404],
    ]
)


def _himmelblau() -> Surface:
    def fxy(x: Array, y: Array) -> Array:
        return (x * x + y - 11.0) ** 2 + (x + y * y - 7.0) ** 2

    def grad_xy(x: Array, y: Array) -> tuple[Array, Array]:
        a = x * x + y - 11.0
        b = x + y * y - 7.0
        return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b

    return Surface(
        "himmelblau", r"$(x^2+y-11)^2 + (x+y^2-7)^2$", fxy, grad_xy,
        minima=_HIMMELBLAU_MINIMA.copy(), f_min=0.0, xlim=(-5.0, 5.0), ylim=(-5.0, 5.0),
        start=np.array([-0.5, -0.5]), escape_radius=1e3,
    )


def _saddle() -> Surface:
    def fxy(x: Array, y: Array) -> Array:
        return x * x - y * y

    def grad_xy(x: Array, y: Array) -> tuple[Array, Array]:
        return 2.0 * x, -2.0 * y

    return Surface(
        "saddle", r"$x^2 - y^2$", fxy, grad_xy,
        minima=np.zeros((0, 2)), f_min=None, xlim=(-3.0, 3.0), ylim=(-3.0, 3.0),
        start=np.array([-2.5, 0.01]), escape_radius=1e3,
        hessian=np.diag([2.0, -2.0]),
    )


def _rastrigin() -> Surface:
    two_pi = 2.0 * np.pi

    def fxy(x: Array, y: Array) -> Array:
        return 20.0 + x * x - 10.0 * np.cos(two_pi * x) + y * y - 10.0 * np.cos(two_pi * y)

    def grad_xy(x: Array, y: Array) -> tuple[Array, Array]:
        return (
            2.0 * x + 10.0 * two_pi * np.sin(two_pi * x),
            2.0 * y + 10.0 * two_pi * np.sin(two_pi * y),
        )

    return Surface(
        "rastrigin", r"$20 + \sum_i \left(z_i^2 - 10\cos 2\pi z_i\right)$", fxy, grad_xy,
        minima=np.zeros((1, 2)), f_min=0.0, xlim=(-5.12, 5.12), ylim=(-5.12, 5.12),
        start=np.array([-4.3, 3.7]), escape_radius=1e3,
    )


_FACTORIES: dict[str, Callable[[], Surface]] = {
    "quadratic": quadratic,
    "rosenbrock": _rosenbrock,
    "beale": _beale,
    "himmelblau": _himmelblau,
    "saddle": _saddle,
    "rastrigin": _rastrigin,
}


def names() -> list[str]:
    """The names accepted by :func:`get`, in teaching order."""
    return list(_FACTORIES)


def get(name: str) -> Surface:
    """The named surface; ``name`` is one of :func:`names`."""
    _validate.one_of(name, "name", _FACTORIES)
    return _FACTORIES[name]()
