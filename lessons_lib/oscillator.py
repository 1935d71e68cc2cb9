"""The heavy ball as a damped oscillator (lesson 03).

Polyak's heavy ball ``x_{k+1} = x_k - lr grad f(x_k) + beta (x_k - x_{k-1})`` is the discretisation of

    x''(t) + a x'(t) + grad f(x(t)) = 0

with time step ``h``: the second difference over ``h^2``, the friction ``a`` times the backward
difference over ``h``, and the gradient at ``x_k``::

    (x_{k+1} - 2 x_k + x_{k-1}) / h^2 + a (x_k - x_{k-1}) / h + grad f(x_k) = 0
    <=>  x_{k+1} = x_k - h^2 grad f(x_k) + (1 - a h)(x_k - x_{k-1}),

so ``lr = h^2`` and ``beta = 1 - a h`` (:func:`to_momentum`, :func:`from_momentum`). Iterate ``k`` sits
at time ``t = k h``; the start ``x_{-1} = x_0`` is the oscillator at rest, ``x'(0) = 0``.

On a quadratic ``f(x) = 0.5 sum_i lam_i x_i^2`` (coordinates along the Hessian's eigenvectors) each
coordinate is a damped linear oscillator ``x'' + a x' + lam x = 0`` with characteristic roots
``r = -a/2 +- sqrt(a^2/4 - lam)``; :func:`solve` gives its exact solution. It is critically damped
(a double root, the fastest decay without overshoot) at ``a = 2 sqrt(lam)`` (:func:`critical_damping`).
"""

from __future__ import annotations

import numpy as np

from . import _validate

__all__ = ["critical_damping", "from_momentum", "solve", "to_momentum"]


def to_momentum(h: float, damping: float) -> tuple[float, float]:
    """The heavy ball's ``(lr, beta) = (h^2, 1 - a h)`` for time step ``h > 0`` and friction ``a``.

    ``beta`` must land in ``[0, 1)``, so ``a`` must satisfy ``0 < a h <= 1``.
    """
    h = float(_validate.positive(h, "h"))
    a = float(_validate.positive(damping, "damping"))
    if a * h > 1.0:
        raise ValueError(f"damping * h must be in (0, 1] so that beta = 1 - damping*h is in [0, 1); "
                         f"got damping*h = {a * h:g}")
    return h * h, 1.0 - a * h


def from_momentum(lr: float, beta: float) -> tuple[float, float]:
    """The time step and friction ``(h, a) = (sqrt(lr), (1 - beta) / sqrt(lr))`` of a heavy ball.

    ``lr > 0`` and ``beta`` in ``[0, 1)``; the inverse of :func:`to_momentum`.
    """
    lr = float(_validate.positive(lr, "lr"))
    beta = float(_validate.in_range(beta, "beta", 0.0, 1.0, high_open=True))
    h = float(np.sqrt(lr))
    return h, (1.0 - beta) / h


def critical_damping(eigenvalue: object) -> float | np.ndarray:
    """The friction ``a = 2 sqrt(lam)`` at which ``x'' + a x' + lam x = 0`` has a double root.

    ``eigenvalue`` > 0, a number or an array (the result has its shape).
    """
    lam = _validate.positive(eigenvalue, "eigenvalue")
    out = 2.0 * np.sqrt(lam)
    return float(out) if out.ndim == 0 else out


def solve(eigenvalues: object, damping: float, x0: object, t: object) -> np.ndarray:
    """Exact solution of ``x'' + a x' + diag(eigenvalues) x = 0`` from rest, ``x(0) = x0``, ``x'(0) = 0``.

    Parameters
    ----------
    eigenvalues : shape ``(d,)``, each > 0 (the Hessian's eigenvalues; the coordinates are along its
        eigenvectors).
    damping : the friction ``a >= 0``.
    x0 : shape ``(d,)``, the start.
    t : times >= 0, shape ``(n,)`` (or a number, read as ``(1,)``).

    Returns
    -------
    ``x(t)`` of shape ``(n, d)``: per coordinate, with ``w = sqrt(a^2/4 - lam)``,
    ``x0 exp(-a t/2) (cosh(w t) + (a/2) sinh(w t)/w)``; for ``a^2/4 < lam`` the same with
    ``cos`` and ``sin`` of ``nu = sqrt(lam - a^2/4)``, and at ``a^2/4 = lam`` the limit
    ``x0 exp(-a t/2) (1 + a t/2)``. No difference of nearly equal exponentials is formed, so the
    formula stays accurate next to critical damping.
    """
    lam = np.atleast_1d(_validate.positive(eigenvalues, "eigenvalues"))
    if lam.ndim != 1:
        raise ValueError(f"eigenvalues must be a 1-D array; got shape {lam.shape}")
    a = float(_validate.in_range(damping, "damping", 0.0))
    start = np.atleast_1d(_validate.finite(x0, "x0"))
    if start.shape != lam.shape:
        raise ValueError(f"x0 must have the shape of eigenvalues, {lam.shape}; got shape {start.shape}")
    times = np.atleast_1d(_validate.in_range(t, "t", 0.0))
    if times.ndim != 1:
        raise ValueError(f"t must be a number or a 1-D array; got shape {times.shape}")
    tt = times[:, None]
    d = a * a / 4.0 - lam  # > 0 overdamped, < 0 underdamped, 0 critical
    w = np.sqrt(np.abs(d))
    wt = w * tt
    safe_w = np.where(w > 0, w, 1.0)
    over = np.cosh(wt) + (a / 2.0) * np.where(w > 0, np.sinh(wt) / safe_w, tt)
    under = np.cos(wt) + (a / 2.0) * np.where(w > 0, np.sin(wt) / safe_w, tt)
    shape = np.where(d >= 0, over, under)
    return start * np.exp(-a * tt / 2.0) * shape
