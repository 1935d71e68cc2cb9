"""Convergence theory of gradient descent and momentum on quadratics.

On ``f(x) = 0.5 x^T H x`` every method below acts on each eigen-component of
``H`` (eigenvalue ``lam``) separately, so the rate of the whole iteration is the
worst rate over the eigenvalues.

Gradient descent: ``x_{k+1} = (1 - lr lam) x_k``, rate ``max_i |1 - lr lam_i|``.

Heavy ball / PyTorch momentum (identical iterates for a constant lr):
``x_{k+1} = x_k - lr lam x_k + beta (x_k - x_{k-1})``, i.e.::

    [x_{k+1}]   [1 + beta - lr lam   -beta] [x_k    ]
    [x_k    ] = [1                    0   ] [x_{k-1}]

whose eigenvalues solve ``z^2 - (1 + beta - lr lam) z + beta = 0``. The rate is
the spectral radius: ``sqrt(beta)`` when the roots are complex, otherwise the
larger root in absolute value.

Nesterov (PyTorch's form, again identical iterates to the textbook look-ahead form):
``z^2 - (1 + beta)(1 - lr lam) z + beta (1 - lr lam) = 0``. It converges iff
``0 < lr lam < (2 + 2 beta) / (1 + 2 beta)`` (:func:`nesterov_edge`); its roots are complex
iff ``((1 - beta) / (1 + beta))^2 < lr lam < 1`` (:func:`nesterov_critical_momentum`); its
best constant pair for ``[mu, L]`` is found numerically (:func:`optimal_nesterov`).

All functions broadcast: ``lr`` and ``beta`` may be arrays of one shape ``B``;
``eigenvalues`` is a 1-D array; results have shape ``B``.
"""

from __future__ import annotations

import numpy as np

from . import _validate


def _eigs(eigenvalues: object) -> np.ndarray:
    lam = _validate.finite(eigenvalues, "eigenvalues")
    lam = np.atleast_1d(lam)
    if lam.ndim != 1:
        raise ValueError(f"eigenvalues must be a 1-D array; got shape {lam.shape}")
    if np.any(lam <= 0):
        raise ValueError(f"eigenvalues must be > 0 (a convex quadratic); got min {lam.min():g}")
    return lam


def _lr_beta(lr: object, beta: object) -> tuple[np.ndarray, np.ndarray]:
    lr = _validate.positive(lr, "lr")
    beta = _validate.in_range(beta, "beta", 0.0, 1.0, high_open=True)
    try:
        np.broadcast_shapes(lr.shape, beta.shape)
    except ValueError:
        raise ValueError(
            f"lr and beta must broadcast to one shape; got shapes {lr.shape} and {beta.shape}"
        ) from None
    return lr, beta


def _scalar_or_array(a: np.ndarray) -> float | np.ndarray:
    return float(a) if a.ndim == 0 else a


def spectral_radius_2x2(trace: np.ndarray, det: np.ndarray) -> np.ndarray:
    """Largest ``|z|`` over the roots of ``z^2 - trace z + det = 0`` (elementwise).

    Complex roots (``trace^2 < 4 det``) have ``|z| = sqrt(det)``; real roots are
    ``(trace +- sqrt(trace^2 - 4 det)) / 2`` and the larger in size is
    ``(|trace| + sqrt(trace^2 - 4 det)) / 2``.
    """
    trace = np.asarray(trace, dtype=float)
    det = np.asarray(det, dtype=float)
    disc = trace * trace - 4.0 * det
    real = (np.abs(trace) + np.sqrt(np.maximum(disc, 0.0))) / 2.0
    cplx = np.sqrt(np.abs(det))
    return np.where(disc >= 0, real, cplx)


def gd_rate(lr: object, eigenvalues: object) -> float | np.ndarray:
    """Linear rate of gradient descent, ``max_i |1 - lr lam_i|``; below 1 iff ``0 < lr lam_i < 2``."""
    lr = _validate.positive(lr, "lr")
    lam = _eigs(eigenvalues)
    rate = np.max(np.abs(1.0 - lr[..., None] * lam), axis=-1)
    return _scalar_or_array(rate)


def momentum_matrix(lr: float, beta: float, eigenvalue: float) -> np.ndarray:
    """The 2x2 iteration matrix of heavy-ball momentum on one eigen-component.

    Acts on ``(x_k, x_{k-1})``: ``[[1 + beta - lr lam, -beta], [1, 0]]``.
    """
    lr_a, beta_a = _lr_beta(lr, beta)
    lam = float(_validate.positive(eigenvalue, "eigenvalue"))
    if lr_a.ndim or beta_a.ndim:
        raise ValueError("lr and beta must be scalars for momentum_matrix")
    lr, beta = float(lr_a), float(beta_a)
    return np.array([[1.0 + beta - lr * lam, -beta], [1.0, 0.0]])


def nesterov_matrix(lr: float, beta: float, eigenvalue: float) -> np.ndarray:
    """The 2x2 iteration matrix of Nesterov momentum on one eigen-component.

    Acts on ``(x_k, x_{k-1})``:
    ``[[(1 + beta)(1 - lr lam), -beta (1 - lr lam)], [1, 0]]``.
    """
    lr_a, beta_a = _lr_beta(lr, beta)
    lam = float(_validate.positive(eigenvalue, "eigenvalue"))
    if lr_a.ndim or beta_a.ndim:
        raise ValueError("lr and beta must be scalars for nesterov_matrix")
    lr, beta = float(lr_a), float(beta_a)
    c = 1.0 - lr * lam
    return np.array([[(1.0 + beta) * c, -beta * c], [1.0, 0.0]])


def momentum_rate(lr: object, beta: object, eigenvalues: object) -> float | np.ndarray:
    """Linear rate of heavy-ball (and PyTorch) momentum: the largest spectral radius
    of :func:`momentum_matrix` over ``eigenvalues``.

    The radius depends on ``lam`` only through ``|1 + beta - lr lam|``, which is
    convex in ``lam``, so over an interval ``[mu, L]`` it is enough to pass the two
    end points.
    """
    lr, beta = _lr_beta(lr, beta)
    lam = _eigs(eigenvalues)
    trace = 1.0 + beta[..., None] - lr[..., None] * lam
    rate = np.max(spectral_radius_2x2(trace, beta[..., None]), axis=-1)
    return _scalar_or_array(rate)


def nesterov_rate(lr: object, beta: object, eigenvalues: object) -> float | np.ndarray:
    """Linear rate of Nesterov momentum: largest spectral radius of :func:`nesterov_matrix`
    over the given eigenvalues.

    The radius depends on ``lam`` only through ``c = 1 - lr lam``: it is 0 at ``c = 0`` and
    grows with ``|c|`` on either side (``sqrt(beta c)`` where the roots are complex, the larger
    real root elsewhere), so over an interval ``[mu, L]`` the two end points suffice, as for
    the heavy ball.
    """
    lr, beta = _lr_beta(lr, beta)
    lam = _eigs(eigenvalues)
    c = 1.0 - lr[..., None] * lam
    b = beta[..., None]
    rate = np.max(spectral_radius_2x2((1.0 + b) * c, b * c), axis=-1)
    return _scalar_or_array(rate)


def optimal_gd(mu: float, L: float) -> tuple[float, float]:
    """Best constant step for eigenvalues in ``[mu, L]``: ``lr = 2 / (mu + L)``,
    rate ``(L - mu) / (L + mu) = (kappa - 1) / (kappa + 1)``."""
    mu, L = _validate.eigenvalue_range(mu, L)
    return 2.0 / (mu + L), (L - mu) / (L + mu)


def optimal_momentum(mu: float, L: float) -> tuple[float, float, float]:
    """Polyak's optimal heavy-ball pair for eigenvalues in ``[mu, L]``.

    ``lr = (2 / (sqrt(mu) + sqrt(L)))^2``, ``beta = ((sqrt(L) - sqrt(mu)) / (sqrt(L) + sqrt(mu)))^2``,
    rate ``(sqrt(kappa) - 1) / (sqrt(kappa) + 1) = sqrt(beta)``.
    """
    mu, L = _validate.eigenvalue_range(mu, L)
    sm, sL = np.sqrt(mu), np.sqrt(L)
    lr = (2.0 / (sm + sL)) ** 2
    beta = ((sL - sm) / (sL + sm)) ** 2
    return float(lr), float(beta), float((sL - sm) / (sL + sm))


def critical_momentum(lr: object, eigenvalue: object) -> float | np.ndarray:
    """The momentum that critically damps one eigen-component: ``beta = (1 - sqrt(lr lam))^2``.

    Defined for ``0 < lr lam <= 1``; there the two roots coincide at ``z = sqrt(beta)``.
    """
    lr = _validate.positive(lr, "lr")
    lam = _validate.positive(eigenvalue, "eigenvalue")
    h = lr * lam
    if np.any(h > 1):
        raise ValueError("lr * eigenvalue must be in (0, 1] for critical damping to exist")
    return _scalar_or_array((1.0 - np.sqrt(h)) ** 2)


def momentum_regime(lr: object, beta: object, eigenvalue: object) -> np.ndarray:
    """Name the behaviour of one eigen-component, elementwise over ``lr`` and ``beta``.

    ``"ripples"`` (complex roots: oscillating decay at rate sqrt(beta)),
    ``"monotone"`` (real roots, both positive), ``"oscillation"`` (a real negative
    root dominates: sign flips every step), ``"divergence"`` (radius >= 1).
    """
    lr, beta = _lr_beta(lr, beta)
    lam = float(_validate.positive(eigenvalue, "eigenvalue"))
    trace = 1.0 + beta - lr * lam
    disc = trace * trace - 4.0 * beta
    radius = spectral_radius_2x2(trace, beta)
    out = np.where(disc < 0, "ripples", np.where(trace >= 0, "monotone", "oscillation"))
    return np.where(radius >= 1.0, "divergence", out)


def nesterov_regime(lr: object, beta: object, eigenvalue: object) -> np.ndarray:
    """Name the behaviour of one eigen-component under Nesterov momentum, elementwise.

    With ``c = 1 - lr lam`` the roots solve ``z^2 - (1 + beta) c z + beta c = 0``:
    ``"ripples"`` (complex roots, ``0 < c < 4 beta / (1 + beta)^2``: oscillating decay at
    rate ``sqrt(beta c)``), ``"monotone"`` (real roots, both >= 0), ``"oscillation"``
    (``c < 0``: a negative root dominates, sign flips every step), ``"divergence"``
    (radius >= 1, i.e. ``lr lam >= (2 + 2 beta) / (1 + 2 beta)``). The same names as
    :func:`momentum_regime`.
    """
    lr, beta = _lr_beta(lr, beta)
    lam = float(_validate.positive(eigenvalue, "eigenvalue"))
    c = 1.0 - lr * lam
    trace = (1.0 + beta) * c
    det = beta * c
    disc = trace * trace - 4.0 * det
    radius = spectral_radius_2x2(trace, det)
    out = np.where(disc < 0, "ripples", np.where(trace >= 0, "monotone", "oscillation"))
    return np.where(radius >= 1.0, "divergence", out)


def nesterov_edge(beta: object) -> float | np.ndarray:
    """Nesterov's divergence edge: it converges on an eigenvalue ``lam`` iff
    ``0 < lr lam < (2 + 2 beta) / (1 + 2 beta)`` (from 2 at ``beta = 0`` down to 4/3 at ``beta = 1``).

    For ``c = 1 - lr lam < 0`` the larger root in size is
    ``((1 + beta)|c| + sqrt((1 + beta)^2 c^2 + 4 beta |c|)) / 2``, which is below 1 iff
    ``|c| (1 + 2 beta) < 1``; for ``0 <= c < 1`` both roots are inside the unit circle.
    """
    beta = _validate.in_range(beta, "beta", 0.0, 1.0, high_open=True)
    return _scalar_or_array((2.0 + 2.0 * beta) / (1.0 + 2.0 * beta))


def nesterov_critical_momentum(lr: object, eigenvalue: object) -> float | np.ndarray:
    """The momentum at which Nesterov's two roots coincide on one eigen-component:
    ``beta = (1 - sqrt(lr lam)) / (1 + sqrt(lr lam))``, for ``0 < lr lam <= 1``.

    The discriminant ``c ((1 + beta)^2 c - 4 beta)`` vanishes at ``c = 4 beta / (1 + beta)^2``,
    i.e. ``lr lam = ((1 - beta) / (1 + beta))^2``; above that ``beta`` the roots are complex
    (up to ``lr lam = 1``, where ``c = 0``). The double root is ``z = (1 + beta) c / 2``.
    """
    lr = _validate.positive(lr, "lr")
    lam = _validate.positive(eigenvalue, "eigenvalue")
    h = lr * lam
    if np.any(h > 1):
        raise ValueError("lr * eigenvalue must be in (0, 1] for Nesterov's roots to coincide")
    s = np.sqrt(h)
    return _scalar_or_array((1.0 - s) / (1.0 + s))


# The search of optimal_nesterov: a (2m+1) x (2m+1) grid, re-centred on its best point and
# halved in size each round (the browser's course_widgets.js repeats it step for step).
_SEARCH_HALF = 20
_SEARCH_ROUNDS = 40


def optimal_nesterov(mu: float, L: float) -> tuple[float, float, float]:
    """The constant ``(lr, beta)`` that minimises Nesterov's rate over ``[mu, L]``, found numerically.

    A grid search over ``lr in [0, 2/L]`` (beyond ``2/L`` it diverges for every beta) and
    ``beta in [0, 1]``: a 41 x 41 grid, re-centred on its best point and halved in size, 40
    times. Returns ``(lr, beta, rate)``. Lessard, Recht and Packard (2016) give the answer in
    closed form, ``lr = 4 / (3 L + mu)``, ``beta = (sqrt(3 kappa + 1) - 2) / (sqrt(3 kappa + 1) + 2)``,
    rate ``1 - 2 / sqrt(3 kappa + 1)``; the tests check the search against it. The rate lies
    between Polyak's heavy ball, ``(sqrt(kappa) - 1) / (sqrt(kappa) + 1)``, and gradient
    descent's ``(kappa - 1) / (kappa + 1)``.
    """
    mu, L = _validate.eigenvalue_range(mu, L)
    m = _SEARCH_HALF
    offsets = (np.arange(2 * m + 1) - m).astype(float)
    hi_lr = 2.0 / L
    c_lr, c_beta = hi_lr / 2.0, 0.5
    w_lr, w_beta = hi_lr / 2.0, 0.5
    lam = np.array([mu, L])
    for _ in range(_SEARCH_ROUNDS):
        lrs = np.minimum(np.maximum(c_lr + w_lr * offsets / m, 0.0), hi_lr)
        betas = np.minimum(np.maximum(c_beta + w_beta * offsets / m, 0.0), 1.0)
        c = 1.0 - lrs[None, :, None] * lam
        b = betas[:, None, None]
        rate = np.max(spectral_radius_2x2((1.0 + b) * c, b * c), axis=-1)
        k = int(np.argmin(rate))
        c_beta, c_lr = float(betas[k // (2 * m + 1)]), float(lrs[k % (2 * m + 1)])
        w_lr, w_beta = w_lr / 2.0, w_beta / 2.0
    c = 1.0 - c_lr * lam
    best = float(np.max(spectral_radius_2x2((1.0 + c_beta) * c, c_beta * c)))
    return c_lr, c_beta, best
