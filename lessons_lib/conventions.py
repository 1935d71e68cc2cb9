"""The ways momentum is written in papers and libraries, one small reference loop each, and the
conversions of ``(lr, beta)`` between them (lesson 07).

Every function runs ``steps`` updates from ``x0`` with the gradient ``grad`` and returns the
iterates, an array of shape ``(steps + 1, *x0.shape)`` (row 0 is ``x0``), in float64. ``lr`` is
a number, or one learning rate per step (a sequence of length ``steps``: a schedule). Write
``g_k = grad(x_k)``:

* :func:`heavy_ball` (Polyak 1964): ``x_{k+1} = x_k - lr_k g_k + beta (x_k - x_{k-1})``, ``x_{-1} = x_0``.
* :func:`sutskever` (Sutskever et al. 2013; Keras's ``SGD``): ``v_{k+1} = beta v_k - lr_k g_k``,
  ``x_{k+1} = x_k + v_{k+1}``, ``v_0 = 0``.
* :func:`pytorch` (``torch.optim.SGD``): ``b_1 = g_0``, ``b_{k+1} = beta b_k + (1 - dampening) g_k``
  for ``k >= 1`` (the first buffer is never damped), ``x_{k+1} = x_k - lr_k b_{k+1}``;
  with ``nesterov=True`` the step is ``x_{k+1} = x_k - lr_k (g_k + beta b_{k+1})``.
* :func:`ema` (the exponential-moving-average form, Adam's first moment without bias
  correction, as ``optax.ema(decay, debias=False)``): ``m_{k+1} = beta m_k + (1 - beta) g_k``,
  ``m_0 = 0``, ``x_{k+1} = x_k - lr_k m_{k+1}``.
* :func:`nesterov_lookahead` (Sutskever et al. 2013): ``v_{k+1} = beta v_k - lr_k grad(x_k + beta v_k)``,
  ``x_{k+1} = x_k + v_{k+1}``; returns ``x_k`` or the look-ahead points ``x_k + beta v_k``.
* :func:`nesterov_reformulated` (Bengio, Boulanger-Lewandowski and Pascanu 2013): in the variable
  ``w_k = x_k + beta v_k``, ``v_{k+1} = beta v_k - lr_k grad(w_k)``,
  ``w_{k+1} = w_k + beta v_{k+1} - lr_k grad(w_k)``.

With a constant ``lr`` the heavy ball, Sutskever's form and PyTorch's undamped form give the same
iterates with the same ``(lr, beta)``; the EMA form gives them with ``lr / (1 - beta)``
(:func:`convert`). Under a schedule only the EMA conversion to PyTorch's form survives; Polyak's
and Sutskever's forms stay identical to each other (and, for Nesterov, only the reformulation
follows the look-ahead form: ``torch.optim.SGD(nesterov=True)`` then departs from it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import _validate

__all__ = ["HEAVY_BALL_FORMS", "convert", "ema", "heavy_ball", "nesterov_lookahead",
           "nesterov_reformulated", "pytorch", "sutskever", "undamped_lr"]

#: The forms of the heavy ball that :func:`convert` converts between.
HEAVY_BALL_FORMS = ("polyak", "sutskever", "pytorch", "ema")

Grad = Callable[[np.ndarray], np.ndarray]


def _prepare(grad: Grad, x0: object, lr: float | Sequence[float], beta: float, steps: int
             ) -> tuple[np.ndarray, np.ndarray, float]:
    """Validated ``(x0, per-step learning rates, beta)``."""
    if not callable(grad):
        raise TypeError(f"grad must be a function of x returning the gradient; got {type(grad).__name__}")
    steps = _validate.integer(steps, "steps", 0)
    x = _validate.finite(x0, "x0").copy()
    lrs = _validate.in_range(lr, "lr", 0.0, None)
    if lrs.ndim == 0:
        lrs = np.full(steps, float(lrs))
    elif lrs.shape != (steps,):
        raise ValueError(f"lr must be a number or one learning rate per step, shape ({steps},); "
                         f"got shape {lrs.shape}")
    beta = float(_validate.in_range(beta, "beta", 0.0, 1.0, high_open=True))
    return x, lrs, beta


def _gradient(grad: Grad, x: np.ndarray) -> np.ndarray:
    g = np.asarray(grad(x.copy()), dtype=np.float64)
    if g.shape != x.shape:
        raise ValueError(f"grad must return an array of the shape of x, {x.shape}; got shape {g.shape}")
    return g


def heavy_ball(grad: Grad, x0: object, lr: float | Sequence[float], beta: float, steps: int) -> np.ndarray:
    """Polyak's heavy ball, ``x_{k+1} = x_k - lr_k g_k + beta (x_k - x_{k-1})`` with ``x_{-1} = x_0``.

    Returns the iterates, shape ``(steps + 1, *x0.shape)``."""
    x, lrs, beta = _prepare(grad, x0, lr, beta, steps)
    previous = x.copy()
    path = [x.copy()]
    for lr_k in lrs:
        x, previous = x - lr_k * _gradient(grad, x) + beta * (x - previous), x
        path.append(x.copy())
    return np.array(path)


def sutskever(grad: Grad, x0: object, lr: float | Sequence[float], beta: float, steps: int) -> np.ndarray:
    """Sutskever's velocity form, ``v_{k+1} = beta v_k - lr_k g_k``, ``x_{k+1} = x_k + v_{k+1}``, ``v_0 = 0``.

    Returns the iterates, shape ``(steps + 1, *x0.shape)``."""
    x, lrs, beta = _prepare(grad, x0, lr, beta, steps)
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr_k in lrs:
        v = beta * v - lr_k * _gradient(grad, x)
        x = x + v
        path.append(x.copy())
    return np.array(path)


def pytorch(grad: Grad, x0: object, lr: float | Sequence[float], beta: float, steps: int,
            dampening: float = 0.0, nesterov: bool = False) -> np.ndarray:
    """``torch.optim.SGD(lr, momentum=beta, dampening, nesterov)`` (no weight decay), as PyTorch
    documents it: the first buffer is the first gradient, undamped; later
    ``b_{k+1} = beta b_k + (1 - dampening) g_k``; the step is ``lr_k b_{k+1}``, or
    ``lr_k (g_k + beta b_{k+1})`` with ``nesterov``. ``dampening`` in [0, 1]; Nesterov needs
    ``beta > 0`` and ``dampening = 0`` (as in PyTorch).

    Returns the iterates, shape ``(steps + 1, *x0.shape)``."""
    x, lrs, beta = _prepare(grad, x0, lr, beta, steps)
    tau = float(_validate.in_range(dampening, "dampening", 0.0, 1.0))
    if nesterov and (beta == 0.0 or tau != 0.0):
        raise ValueError(f"nesterov=True needs beta in (0, 1) and dampening = 0 (as torch.optim.SGD); "
                         f"got beta = {beta:g}, dampening = {tau:g}")
    b = None
    path = [x.copy()]
    for lr_k in lrs:
        g = _gradient(grad, x)
        b = g.copy() if b is None else beta * b + (1.0 - tau) * g
        x = x - lr_k * (g + beta * b if nesterov else b)
        path.append(x.copy())
    return np.array(path)


def ema(grad: Grad, x0: object, lr: float | Sequence[float], beta: float, steps: int) -> np.ndarray:
    """The exponential-moving-average form, ``m_{k+1} = beta m_k + (1 - beta) g_k`` from ``m_0 = 0``
    (no bias correction), ``x_{k+1} = x_k - lr_k m_{k+1}``.

    Returns the iterates, shape ``(steps + 1, *x0.shape)``."""
    x, lrs, beta = _prepare(grad, x0, lr, beta, steps)
    m = np.zeros_like(x)
    path = [x.copy()]
    for lr_k in lrs:
        m = beta * m + (1.0 - beta) * _gradient(grad, x)
        x = x - lr_k * m
        path.append(x.copy())
    return np.array(path)


def nesterov_lookahead(grad: Grad, x0: object, lr: float | Sequence[float], beta: float, steps: int,
                       points: str = "x") -> np.ndarray:
    """Nesterov's method in Sutskever et al.'s look-ahead form,
    ``v_{k+1} = beta v_k - lr_k grad(x_k + beta v_k)``, ``x_{k+1} = x_k + v_{k+1}``, ``v_0 = 0``.

    ``points="x"`` returns ``x_k``; ``points="lookahead"`` returns ``x_k + beta v_k`` (with a
    constant ``lr`` these are ``torch.optim.SGD(nesterov=True)``'s iterates). Shape
    ``(steps + 1, *x0.shape)``."""
    x, lrs, beta = _prepare(grad, x0, lr, beta, steps)
    points = _validate.one_of(points, "points", ["x", "lookahead"])
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr_k in lrs:
        v = beta * v - lr_k * _gradient(grad, x + beta * v)
        x = x + v
        path.append(x.copy() if points == "x" else x + beta * v)
    return np.array(path)


def nesterov_reformulated(grad: Grad, x0: object, lr: float | Sequence[float], beta: float,
                          steps: int) -> np.ndarray:
    """Nesterov's method as Bengio et al. (2013) rewrote it, in the look-ahead variable ``w = x + beta v``:
    ``g = grad(w_k)``, ``v_{k+1} = beta v_k - lr_k g``, ``w_{k+1} = w_k + beta v_{k+1} - lr_k g``
    (Keras's ``SGD(nesterov=True)`` documents this update). Returns ``w_k``, shape
    ``(steps + 1, *x0.shape)``; under any schedule these are :func:`nesterov_lookahead`'s
    ``points="lookahead"``."""
    w, lrs, beta = _prepare(grad, x0, lr, beta, steps)
    v = np.zeros_like(w)
    path = [w.copy()]
    for lr_k in lrs:
        g = _gradient(grad, w)
        v = beta * v - lr_k * g
        w = w + beta * v - lr_k * g
        path.append(w.copy())
    return np.array(path)


def convert(lr: float, beta: float, source: str, target: str) -> tuple[float, float]:
    """``(lr, beta)`` of form ``target`` whose iterates equal those of form ``source`` at ``(lr, beta)``,
    for a constant learning rate; forms are :data:`HEAVY_BALL_FORMS`.

    ``beta`` never changes. The learning rate is the same for ``"polyak"``, ``"sutskever"`` and
    ``"pytorch"`` (undamped); the EMA form's is larger by ``1/(1 - beta)``, because its buffer is
    ``(1 - beta)`` times PyTorch's: ``lr_ema = lr_pytorch / (1 - beta)``."""
    lr = float(_validate.in_range(lr, "lr", 0.0, None))
    beta = float(_validate.in_range(beta, "beta", 0.0, 1.0, high_open=True))
    source = _validate.one_of(source, "source", HEAVY_BALL_FORMS)
    target = _validate.one_of(target, "target", HEAVY_BALL_FORMS)
    lr_pytorch = lr * (1.0 - beta) if source == "ema" else lr
    return (lr_pytorch / (1.0 - beta) if target == "ema" else lr_pytorch), beta


def undamped_lr(lr: float, dampening: float) -> float:
    """``lr (1 - dampening)``: the learning rate of undamped PyTorch SGD that weights every gradient
    *after the first* as ``torch.optim.SGD(lr, dampening=dampening)`` does. Not an exact conversion:
    PyTorch never damps the first gradient, which the undamped run then weights ``1 - dampening``
    times as much (lesson 07 measures the gap)."""
    lr = float(_validate.in_range(lr, "lr", 0.0, None))
    tau = float(_validate.in_range(dampening, "dampening", 0.0, 1.0))
    return lr * (1.0 - tau)
