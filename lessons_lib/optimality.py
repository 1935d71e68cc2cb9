"""The best possible on quadratics: residual polynomials, Chebyshev's bound and Nesterov's worst case.

Every method whose new point is ``x_0`` plus a combination of the gradients computed so far (gradient
descent, the heavy ball, Nesterov's method, conjugate gradients) has, on ``f(x) = 0.5 (x - x*)^T H (x - x*)``,

    x_k - x* = p_k(H) (x_0 - x*),    p_k a polynomial of degree <= k with p_k(0) = 1,

so each eigen-component with eigenvalue ``lam`` is multiplied by ``p_k(lam)``. Over every spectrum in
``[mu, L]`` the best worst case is Chebyshev's,

    min_{p_k(0)=1} max_{lam in [mu, L]} |p_k(lam)| = 1 / T_k((L+mu)/(L-mu)) = 2 rho^k / (1 + rho^(2k)),
    rho = (sqrt(kappa) - 1) / (sqrt(kappa) + 1),  kappa = L / mu,

(:func:`chebyshev_bound`), which :func:`minmax_polynomial` finds again without the formula, as a linear
program on a grid. :func:`residual_polynomials` gives the heavy ball's (and gradient descent's) ``p_k``;
:func:`nesterov_worst_quadratic` builds the quadratic of Nesterov's lower bound (Y. Nesterov,
*Introductory Lectures on Convex Optimization*, 2004, section 2.1.4), truncated to ``n`` coordinates.
Lesson 04 uses them.
"""

from __future__ import annotations

import numpy as np

from . import _validate


def chebyshev_rate(mu: float, L: float) -> float:
    """``rho = (sqrt(kappa) - 1) / (sqrt(kappa) + 1)`` with ``kappa = L / mu``, for ``0 < mu < L``."""
    mu, L = _validate.eigenvalue_range(mu, L, equal_allowed=False)
    s = np.sqrt(L / mu)
    return float((s - 1) / (s + 1))


def chebyshev_bound(mu: float, L: float, k: object) -> float | np.ndarray:
    """``min over p_k(0) = 1 of max over [mu, L] of |p_k|`` = ``2 rho^k / (1 + rho^(2k))``.

    ``k``: a whole number >= 0 or an array of them (the result has its shape).
    """
    rho = chebyshev_rate(mu, L)
    steps = np.asarray(_validate.in_range(k, "k", 0, None))
    if not np.all(steps == np.round(steps)):
        raise ValueError(f"k must be whole numbers >= 0; got {k!r}")
    out = 2 * rho**steps / (1 + rho ** (2 * steps))
    return float(out) if out.ndim == 0 else out


def residual_polynomials(lam: object, steps: int, lr: float, beta: float = 0.0) -> np.ndarray:
    """The heavy ball's ``p_0 .. p_steps`` at the points ``lam``, shape ``(steps + 1, *lam.shape)``.

    ``p_0 = 1``, ``p_1 = 1 - lr lam`` (the first step, from ``x_{-1} = x_0``), and
    ``p_{k+1} = (1 + beta - lr lam) p_k - beta p_{k-1}``; ``beta = 0`` gives gradient descent's
    ``(1 - lr lam)^k``. ``lr > 0``, ``beta`` in ``[0, 1)``, ``lam`` finite.
    """
    points = _validate.finite(lam, "lam")
    steps = _validate.integer(steps, "steps", 0, 1_000_000)
    lr = float(_validate.positive(lr, "lr"))
    beta = float(_validate.in_range(beta, "beta", 0.0, 1.0, high_open=True))
    out = np.empty((steps + 1, *points.shape))
    prev = cur = np.ones_like(points)
    out[0] = cur
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, steps + 1):
            cur, prev = (1 + beta - lr * points) * cur - beta * prev, cur
            out[k] = cur
    return out


def minmax_polynomial(mu: float, L: float, k: int, points: int = 2001) -> tuple[float, np.ndarray]:
    """The degree-``k`` polynomial with ``p(0) = 1`` of least ``max |p|`` on ``points`` equally spaced
    points of ``[mu, L]``, by a linear program (scipy's HiGHS); no Chebyshev formula is used.

    Minimise ``t`` over ``(c_0 .. c_k, t)`` subject to ``-t <= p(lam_j) <= t`` and ``p(0) = 1``, with
    ``p = sum_j c_j T_j(u)`` in the Chebyshev basis of ``u = (L + mu - 2 lam) / (L - mu)`` (a basis chosen
    only for conditioning: it spans every polynomial of degree ``<= k``). Returns ``(t, c)``.
    ``1 <= k <= 40``, ``points`` in ``[k + 2, 100000]``.
    """
    from scipy.optimize import linprog

    mu, L = _validate.eigenvalue_range(mu, L, equal_allowed=False)
    k = _validate.integer(k, "k", 1, 40)
    points = _validate.integer(points, "points", k + 2, 100_000)
    grid = np.linspace(mu, L, points)
    u = (L + mu - 2 * grid) / (L - mu)
    V = np.polynomial.chebyshev.chebvander(u, k)
    V0 = np.polynomial.chebyshev.chebvander(np.array([(L + mu) / (L - mu)]), k)
    ones = np.ones((points, 1))
    result = linprog(np.r_[np.zeros(k + 1), 1.0], A_ub=np.block([[V, -ones], [-V, -ones]]),
                     b_ub=np.zeros(2 * points), A_eq=np.hstack([V0, [[0.0]]]), b_eq=[1.0],
                     bounds=[(None, None)] * (k + 1) + [(0, None)], method="highs")
    if result.status != 0:  # pragma: no cover - HiGHS solves this small program
        raise RuntimeError(f"the linear program did not solve: {result.message}")
    return float(result.x[-1]), result.x[:-1]


def nesterov_worst_quadratic(mu: float, L: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nesterov's worst quadratic, truncated to ``n`` coordinates: ``(H, b)`` of ``f = 0.5 x^T H x - b^T x``.

    ``f(x) = (L - mu)/8 (x^T A x - 2 x_1) + mu/2 |x|^2`` with ``A`` tridiagonal (2 on the diagonal, -1
    beside it): ``H = (L - mu)/4 A + mu I`` (eigenvalues inside ``(mu, L)``), ``b = (L - mu)/4 e_1``.
    Without truncation the minimiser is ``x*_i = rho^i`` (``rho`` of :func:`chebyshev_rate`); from
    ``x_0 = 0`` any gradient method has at most ``k`` nonzero coordinates after ``k`` steps.
    ``n`` in ``[2, 5000]``.
    """
    mu, L = _validate.eigenvalue_range(mu, L, equal_allowed=False)
    n = _validate.integer(n, "n", 2, 5000)
    A = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    H = (L - mu) / 4 * A + mu * np.eye(n)
    b = np.zeros(n)
    b[0] = (L - mu) / 4
    return H, b
