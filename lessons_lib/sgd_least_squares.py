"""Fast reference code for lesson 02: SGD on a least-squares line, many runs at once, and its exact
expected loss.

The loss is ``J(theta) = (1/2m) sum_i (a_i . theta - y_i)^2`` with rows ``a_i = (1, x_i)``, Hessian
``A = (1/m) sum_i a_i a_i^T`` and minimum ``theta*``; ``r_i = a_i . theta* - y_i`` are the residuals at the
minimum and ``S = (1/m) sum_i r_i^2 a_i a_i^T`` the covariance of the per-sample gradients there. A step
with a minibatch of ``B`` indices drawn uniformly *with replacement* is
``theta <- theta - lr_k (1/B) sum_j g_{i_j}(theta)``, ``g_i(theta) = (a_i . theta - y_i) a_i``.

* :func:`sgd_runs`: ``runs`` independent SGD runs at once; the same loop as the lesson's readable
  ``sgd`` (one run, one step at a time), vectorised over the runs, with the minibatches drawn a chunk
  of steps at a time. One run with a given generator draws the same minibatches as the lesson's ``sgd``.
* :func:`expected_gaps`: ``E J(theta_k) - J*`` without sampling. With ``e_k = theta_k - theta*``, its mean
  ``e_bar_k`` and second moment ``C_k = E e_k e_k^T``::

      e_bar_{k+1} = (I - lr_k A) e_bar_k
      C_{k+1} = (I - lr_k A) C_k (I - lr_k A)
                + lr_k^2 / B ((1/m) sum_i a_i a_i^T C_k a_i a_i^T - A C_k A
                              + (2/m) sum_i r_i (a_i . e_bar_k) a_i a_i^T + S)

  and ``E J - J* = tr(A C_k) / 2``. For the running average of ``theta_k0 .. theta_k`` (constant ``lr``)
  it also carries ``P_k = sum_{k0 <= j < k} (I - lr A)^(k-j) C_j`` and
  ``T_k = sum_{k0 <= j <= k} (C_j + P_j + P_j^T)``: the average of ``n`` iterates has
  ``E J - J* = tr(A T) / (2 n^2)``. The lesson writes this recursion with 2 x 2 matrices, one step at a
  time; here one step is a single 15 x 15 matrix acting on ``(e_bar, vec C, vec P, vec T, 1)`` (row-major
  ``vec``), and a schedule ``lr(k)`` uses that this matrix is a polynomial of degree 2 in ``lr``.
  ``tests/test_sgd_least_squares.py`` checks it against the plain 2 x 2 recursion, with a schedule too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _validate

Step = float | Callable[[int], float]


@dataclass(frozen=True)
class Moments:
    """The sample moments the recursion needs (shapes in brackets): ``A`` (2, 2), ``theta_star`` (2,),
    ``S`` (2, 2), ``fourth`` = ``(1/m) sum_i kron(a_i a_i^T, a_i a_i^T)`` (4, 4) and ``third`` =
    ``(1/m) sum_i r_i a_i (x) a_i (x) a_i`` (2, 2, 2)."""

    A: np.ndarray
    theta_star: np.ndarray
    S: np.ndarray
    fourth: np.ndarray
    third: np.ndarray


def _data(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    x = _validate.finite(x, "x")
    y = _validate.finite(y, "y")
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D arrays of the same length m; got shapes {x.shape} and "
                         f"{y.shape}")
    if x.size < 2 or np.ptp(x) == 0:
        raise ValueError("x must hold at least two different values (else the line is not determined)")
    return x, y


def moments(x: object, y: object) -> Moments:
    """The moments of the data ``x``, ``y`` (shape (m,) each) that :func:`expected_gaps` uses."""
    x, y = _data(x, y)
    rows = np.column_stack([np.ones(x.size), x])
    A = rows.T @ rows / x.size
    theta_star = np.linalg.solve(A, rows.T @ y / x.size)
    r = rows @ theta_star - y
    S = (r[:, None] * rows).T @ (r[:, None] * rows) / x.size
    outer = np.einsum("ni,nj->nij", rows, rows).reshape(x.size, 4)  # row-major vec(a a^T)
    fourth = outer.T @ outer / x.size
    third = np.einsum("n,ni,nj,nk->ijk", r, rows, rows, rows) / x.size
    return Moments(A, theta_star, S, fourth, third)


def _check_run_args(lr: Step, steps: object, batch: object) -> tuple[Callable[[int], float], int, int]:
    steps = _validate.integer(steps, "steps", 0)
    batch = _validate.integer(batch, "batch", 1)
    if callable(lr):
        return lr, steps, batch
    lr_value = float(_validate.in_range(lr, "lr", 0.0, low_open=True))
    return (lambda k: lr_value), steps, batch


def _batch_mean(v: np.ndarray) -> np.ndarray:
    """Mean over the last axis (the batch); for a small batch summed slice by slice (faster)."""
    if v.shape[-1] > 8:
        return v.mean(axis=-1)
    total = v[..., 0].copy()
    for j in range(1, v.shape[-1]):
        total += v[..., j]
    return total / v.shape[-1]


def sgd_runs(x: object, y: object, theta0: object, lr: Step, steps: int, batch: int, runs: int,
             rng: np.random.Generator, average_from: int | None = None
             ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """``J(theta_k) - J*`` of ``runs`` independent SGD runs from ``theta0`` (shape (2,)), shape
    (runs, steps + 1).

    ``lr`` is a number > 0 or a schedule ``lr(k)``; ``batch`` the minibatch size (drawn with replacement).
    With ``average_from = k0`` also returns the gaps of the running average of ``theta_k0 .. theta_k``
    (NaN before ``k0``; ``1 <= k0 <= steps``), else None. Last, the final iterates, shape (runs, 2).
    The minibatches are drawn a chunk of steps at a time, ``rng.integers(0, m, (chunk, runs, batch))``:
    the same indices as one draw of shape (runs, batch) per step.
    """
    x, y = _data(x, y)
    schedule, steps, batch = _check_run_args(lr, steps, batch)
    runs = _validate.integer(runs, "runs", 1)
    theta0 = _validate.finite(theta0, "theta0")
    if theta0.shape != (2,):
        raise ValueError(f"theta0 must have shape (2,); got shape {theta0.shape}")
    if average_from is not None:
        average_from = _validate.integer(average_from, "average_from", 1, max(steps, 1))
    chunk = max(1, min(2000, 1_000_000 // (runs * batch)))  # at most a million indices at a time
    mean_x, mean_xx = x.mean(), (x * x).mean()
    hessian = np.array([[1.0, mean_x], [mean_x, mean_xx]])
    star0, star1 = np.linalg.solve(hessian, np.array([y.mean(), (x * y).mean()]))
    t0, t1 = np.full(runs, theta0[0]), np.full(runs, theta0[1])
    path0, path1 = np.empty((steps + 1, runs)), np.empty((steps + 1, runs))
    path0[0], path1[0] = t0, t1
    for start in range(0, steps, chunk):
        n = min(chunk, steps - start)
        idx = rng.integers(0, x.size, size=(n, runs, batch))
        xb, yb = x[idx], y[idx]
        # batch means of x, x^2, y and x y: the gradient is (t0 + mx t1 - my, mx t0 + mxx t1 - mxy)
        mx, mxx, my, mxy = (_batch_mean(v) for v in (xb, xb * xb, yb, xb * yb))
        for j in range(n):
            lr_k = schedule(start + j)
            g0 = t0 + mx[j] * t1 - my[j]
            t1 = t1 - lr_k * (mx[j] * t0 + mxx[j] * t1 - mxy[j])
            t0 = t0 - lr_k * g0
            path0[start + j + 1], path1[start + j + 1] = t0, t1

    def gap(p0: np.ndarray, p1: np.ndarray) -> np.ndarray:  # J - J* = (1/2) e^T A e, e = theta - theta*
        e0, e1 = p0 - star0, p1 - star1
        return 0.5 * (e0 * e0 + 2 * mean_x * e0 * e1 + mean_xx * e1 * e1)

    avg_gaps = None
    if average_from is not None:
        k0 = average_from
        avg_gaps = np.full((runs, steps + 1), np.nan)
        count = np.arange(1, steps - k0 + 2)[:, None]
        avg_gaps[:, k0:] = gap(np.cumsum(path0[k0:], axis=0) / count, np.cumsum(path1[k0:], axis=0) / count).T
    return gap(path0, path1).T, avg_gaps, np.column_stack([t0, t1])


_SWAP = np.eye(4)[[0, 2, 1, 3]]  # vec(X^T) = SWAP vec(X) for 2 x 2 matrices (row-major vec)


def _step_matrix(mom: Moments, lr: float, batch: int, curvature_noise: bool, update_p: bool,
                 update_total: bool) -> np.ndarray:
    """One step of the recursions as a 15 x 15 matrix on z = (e_bar, vec C, vec P, vec T, 1)."""
    A = mom.A
    phi = np.eye(2) - lr * A
    q = lr**2 / batch
    M = np.zeros((15, 15))
    M[0:2, 0:2] = phi
    M[2:6, 2:6] = np.kron(phi, phi) + q * (mom.fourth - np.kron(A, A)) * curvature_noise
    M[2:6, 0:2] = 2 * q * mom.third.reshape(4, 2) * curvature_noise  # (2/m) sum r (a^T e_bar) a a^T
    M[2:6, 14] = q * mom.S.reshape(-1)
    M[6:10, 6:10] = np.kron(phi, np.eye(2)) if update_p else np.eye(4)  # P <- Phi (P + C)
    M[6:10, 2:6] = np.kron(phi, np.eye(2)) if update_p else 0.0
    M[10:14, 10:14] = np.eye(4)
    if update_total:  # T <- T + C' + P' + P'^T, all in terms of the old state
        M[10:14] += M[2:6] + M[6:10] + _SWAP @ M[6:10]
    M[14, 14] = 1.0
    return M


def expected_gaps(x: object, y: object, theta0: object, lr: Step, steps: int, batch: int,
                  average_from: int | None = None, curvature_noise: bool = True
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """``E J(theta_k) - J*`` for ``k = 0 .. steps`` (shape (steps + 1,)) from ``theta0`` (shape (2,)), by
    the exact recursion of the module docstring; and for the running average of ``theta_k0 .. theta_k``
    (``average_from = k0``, ``1 <= k0 <= steps``; NaN before ``k0``), else None.

    ``lr``: a number > 0 or a schedule ``lr(k)``. ``curvature_noise=False`` drops the terms of the
    sampled curvature ``a_i a_i^T`` (what is left is SGD with additive noise of covariance ``S/B``).
    """
    mom = moments(x, y)
    schedule, steps, batch = _check_run_args(lr, steps, batch)
    theta0 = _validate.finite(theta0, "theta0")
    if theta0.shape != (2,):
        raise ValueError(f"theta0 must have shape (2,); got shape {theta0.shape}")
    k0 = None if average_from is None else _validate.integer(average_from, "average_from", 1, max(steps, 1))
    e = theta0 - mom.theta_star
    z = np.zeros(15)
    z[:2], z[2:6], z[14] = e, np.outer(e, e).reshape(-1), 1.0
    states = np.empty((steps + 1, 15))
    states[0] = z
    constant = not callable(lr)
    matrices = {}  # per phase (update P, update T): the step matrix, or its coefficients of 1, lr, lr^2
    for k in range(steps):
        phase = (k0 is not None and k >= k0, k0 is not None and k + 1 >= k0)
        if phase not in matrices:
            if constant:
                matrices[phase] = _step_matrix(mom, schedule(0), batch, curvature_noise, *phase)
            else:
                M0, Mp, Mm = (_step_matrix(mom, v, batch, curvature_noise, *phase) for v in (0.0, 1.0, -1.0))
                matrices[phase] = (M0, (Mp - Mm) / 2, (Mp + Mm) / 2 - M0)
        if constant:
            z = matrices[phase] @ z
        else:
            M0, M1, M2 = matrices[phase]
            lr_k = schedule(k)
            z = (M0 + lr_k * M1 + lr_k**2 * M2) @ z
        states[k + 1] = z
    gaps = 0.5 * states[:, 2:6] @ mom.A.reshape(-1)  # tr(A C) / 2
    avg_gaps = None
    if k0 is not None:
        avg_gaps = np.full(steps + 1, np.nan)
        avg_gaps[k0:] = 0.5 * (states[k0:, 10:14] @ mom.A.reshape(-1)) / np.arange(1, steps - k0 + 2) ** 2
    return gaps, avg_gaps
