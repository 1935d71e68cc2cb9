"""Beyond quadratics: smooth functions, the descent lemma, and the sublinear rates of lesson 06.

A differentiable ``f`` is *L-smooth* when its gradient is L-Lipschitz,
``|grad f(x) - grad f(y)| <= L |x - y|``. Then (the descent lemma)::

    f(y) <= f(x) + grad f(x) . (y - x) + L/2 |y - x|^2,

so a gradient step ``x - lr grad f(x)`` with ``0 < lr < 2/L`` lowers ``f`` by at least
``lr (1 - L lr / 2) |grad f(x)|^2`` (:func:`guaranteed_decrease`), ``|grad f|^2 / (2L)`` at ``lr = 1/L``.

The functions here are the references the lesson and its exercise checks compare with:

* :func:`logistic_loss`, :func:`logistic_grad`, :func:`logistic_smoothness`: the mean logistic loss
  ``f(w) = (1/m) sum_i log(1 + exp(-y_i x_i . w)) + reg/2 |w|^2`` of data ``X`` (shape ``(m, d)``) and
  labels ``y`` in {-1, +1} (shape ``(m,)``), batched over leading axes of ``w`` (shape ``(..., d)``); its
  Hessian is ``X^T D X / m + reg I`` with ``D = diag(s(1 - s))``, ``s`` the sigmoid, and
  ``s(1 - s) <= 1/4`` gives ``L = lambda_max(X^T X) / (4 m) + reg``.
* :func:`nesterov_convex`: Nesterov's method for convex (not strongly convex) ``f``,
  ``y_k = x_k + beta_k (x_k - x_{k-1})``, ``x_{k+1} = y_k - grad f(y_k) / L``, with ``beta_k = (k-1)/(k+2)``
  (``sequence="k"``) or Beck and Teboulle's ``beta_k = (t_k - 1)/t_{k+1}``, ``t_1 = 1``,
  ``t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2`` (``sequence="fista"``); both have
  ``f(x_k) - f* <= 2 L |x_0 - x*|^2 / (k+1)^2`` (Nesterov 1983; Beck and Teboulle 2009, Theorem 4.4).
* :func:`nesterov_strongly_convex`: the constant-momentum scheme ``beta = (sqrt(kappa)-1)/(sqrt(kappa)+1)``
  for an L-smooth, mu-strongly convex ``f`` (Nesterov 2004, section 2.2.1).
* :func:`loglog_slope`: the least-squares slope of ``log gap`` against ``log k`` over a window.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _validate


def _data(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    X = _validate.finite(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (m, d); got shape {X.shape}")
    y = _validate.finite(y, "y")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape (m,) = ({X.shape[0]},), one label per row of X; "
                         f"got shape {y.shape}")
    if not np.all(np.abs(y) == 1):
        raise ValueError("y must hold labels -1 or +1 only")
    return X, y


def _weights(w: object, d: int) -> np.ndarray:
    w = _validate.finite(w, "w")
    if w.ndim == 0 or w.shape[-1] != d:
        raise ValueError(f"w must have shape (..., d) with d = {d} (the columns of X); got shape {w.shape}")
    return w


def logistic_loss(w: object, X: object, y: object, reg: float = 0.0) -> np.ndarray:
    """Mean logistic loss ``(1/m) sum_i log(1 + exp(-y_i x_i . w)) + reg/2 |w|^2``.

    ``w`` has shape ``(..., d)``; the result has shape ``(...)``. Computed with ``logaddexp`` (no overflow).
    """
    X, y = _data(X, y)
    w = _weights(w, X.shape[1])
    reg = float(_validate.in_range(reg, "reg", 0.0))
    margins = (w @ X.T) * y
    return np.mean(np.logaddexp(0.0, -margins), axis=-1) + 0.5 * reg * np.sum(w * w, axis=-1)


def logistic_grad(w: object, X: object, y: object, reg: float = 0.0) -> np.ndarray:
    """Gradient of :func:`logistic_loss`: ``(1/m) sum_i -y_i sigmoid(-y_i x_i . w) x_i + reg w``.

    Shape ``(..., d)``, as ``w``.
    """
    X, y = _data(X, y)
    w = _weights(w, X.shape[1])
    reg = float(_validate.in_range(reg, "reg", 0.0))
    margins = (w @ X.T) * y
    weights = -y * np.exp(-np.logaddexp(0.0, margins))  # -y sigmoid(-margin), without overflow
    return weights @ X / X.shape[0] + reg * w


def logistic_smoothness(X: object, reg: float = 0.0) -> float:
    """``L = lambda_max(X^T X) / (4 m) + reg``, the smoothness constant of :func:`logistic_loss`.

    The Hessian is ``X^T diag(s (1 - s)) X / m + reg I`` and ``s (1 - s) <= 1/4`` with equality at ``w = 0``,
    so this ``L`` is attained there and cannot be lowered.
    """
    X = _validate.finite(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (m, d); got shape {X.shape}")
    reg = float(_validate.in_range(reg, "reg", 0.0))
    return float(np.linalg.eigvalsh(X.T @ X)[-1] / (4 * X.shape[0]) + reg)


def guaranteed_decrease(grad_norm: object, L: object, lr: object | None = None) -> np.ndarray:
    """The guarantee ``lr (1 - L lr / 2) |grad f|^2``; by default ``lr = 1/L``: ``|g|^2/(2L)``.

    Negative for ``lr > 2/L``: then the lemma guarantees nothing. Broadcasts over its arguments.
    """
    g = _validate.in_range(grad_norm, "grad_norm", 0.0)
    L = _validate.positive(L, "L")
    lr = 1.0 / L if lr is None else _validate.positive(lr, "lr")
    return lr * (1.0 - L * lr / 2.0) * g**2


def _start(x0: object, L: object, steps: int) -> tuple[np.ndarray, float, int]:
    x = _validate.finite(x0, "x0")
    if x.ndim != 1:
        raise ValueError(f"x0 must be a 1-D array of shape (n,); got shape {x.shape}")
    return x.copy(), float(_validate.positive(L, "L")), _validate.integer(steps, "steps", 0)


def momentum_sequence(steps: int, sequence: str = "k") -> np.ndarray:
    """The momenta ``beta_0, ..., beta_{steps-1}`` of :func:`nesterov_convex` (``beta_0 = 0``).

    ``"k"``: ``beta_k = (k-1)/(k+2)`` for ``k >= 1``. ``"fista"``: ``beta_k = (t_k - 1)/t_{k+1}``,
    ``t_1 = 1``, ``t_{k+1} = (1 + sqrt(1 + 4 t_k^2))/2``. Both start 0, 0, then 0.25 (k) or 0.2818 (fista),
    and tend to 1.
    """
    steps = _validate.integer(steps, "steps", 0)
    _validate.one_of(sequence, "sequence", ["k", "fista"])
    k = np.arange(steps, dtype=float)
    if sequence == "k":
        return np.where(k >= 1, (k - 1) / (k + 2), 0.0)
    t = np.ones(steps + 2)
    for i in range(2, steps + 2):
        t[i] = (1 + np.sqrt(1 + 4 * t[i - 1] ** 2)) / 2
    beta = np.zeros(steps)
    beta[1:] = (t[1:steps] - 1) / t[2:steps + 1]
    return beta


def nesterov_convex(grad: Callable[[np.ndarray], np.ndarray], x0: object, L: float, steps: int,
                    sequence: str = "k") -> np.ndarray:
    """Nesterov's method for a convex L-smooth ``f``; returns ``x_0, ..., x_steps``, shape ``(steps+1, n)``.

    ``y_k = x_k + beta_k (x_k - x_{k-1})`` (``x_{-1} = x_0``), ``x_{k+1} = y_k - grad(y_k) / L``, with
    ``beta_k`` from :func:`momentum_sequence`. Guarantee: ``f(x_k) - f* <= 2 L |x_0 - x*|^2 / (k+1)^2``.
    """
    x, L, steps = _start(x0, L, steps)
    beta = momentum_sequence(steps, sequence)
    previous, path = x.copy(), [x.copy()]
    for k in range(steps):
        y = x + beta[k] * (x - previous)
        previous, x = x, y - np.asarray(grad(y), dtype=float) / L
        path.append(x.copy())
    return np.array(path)


def nesterov_strongly_convex(grad: Callable[[np.ndarray], np.ndarray], x0: object, L: float, mu: float,
                             steps: int) -> np.ndarray:
    """Nesterov's constant-momentum method for an L-smooth, mu-strongly convex ``f``; shape ``(steps+1, n)``.

    ``y_k = x_k + beta (x_k - x_{k-1})``, ``x_{k+1} = y_k - grad(y_k) / L``,
    ``beta = (sqrt(kappa)-1)/(sqrt(kappa)+1)``, ``kappa = L/mu``. Guarantee (Nesterov 2004, section 2.2.1,
    the constant-step scheme with gamma_0 = mu):
    ``f(x_k) - f* <= (1 - 1/sqrt(kappa))^k (f(x_0) - f* + mu/2 |x_0 - x*|^2)``.
    """
    x, L, steps = _start(x0, L, steps)
    mu = float(_validate.in_range(mu, "mu", 0.0, L, low_open=True))
    root = np.sqrt(L / mu)
    beta = (root - 1) / (root + 1)
    previous, path = x.copy(), [x.copy()]
    for _ in range(steps):
        y = x + beta * (x - previous)
        previous, x = x, y - np.asarray(grad(y), dtype=float) / L
        path.append(x.copy())
    return np.array(path)


def loglog_slope(k: object, gap: object, k_min: float, k_max: float, points: int = 50) -> float:
    """Least-squares slope of ``log gap`` against ``log k`` at ``points`` log-spaced steps in
    ``[k_min, k_max]``.

    ``gap[i]`` belongs to step ``k[i]`` (``k`` increasing integers); the steps used are the distinct
    integers nearest to ``geomspace(k_min, k_max, points)``, so each decade weighs the same. A gap
    ``C k^p`` gives ``p``.
    """
    k = _validate.finite(k, "k")
    gap = _validate.positive(gap, "gap")
    if k.ndim != 1 or gap.shape != k.shape:
        raise ValueError(f"k and gap must be 1-D arrays of one shape; got shapes {k.shape} and {gap.shape}")
    k_min = float(_validate.positive(k_min, "k_min"))
    k_max = float(_validate.in_range(k_max, "k_max", k_min, k[-1], low_open=True))
    points = _validate.integer(points, "points", 2)
    want = np.unique(np.rint(np.geomspace(k_min, k_max, points)))
    index = np.searchsorted(k, want)
    if np.any(index >= k.size) or np.any(k[np.minimum(index, k.size - 1)] != want):
        raise ValueError("k must contain every integer step in [k_min, k_max]")
    return float(np.polyfit(np.log(want), np.log(gap[index]), 1)[0])
