"""Reference optimizers on 2-D surfaces, batched over learning rates and momenta.

The three methods are written exactly as ``torch.optim.SGD`` computes them
(no dampening, no weight decay), with gradient ``g_k = grad f(p_k)``:

* ``"gd"``:        ``p_{k+1} = p_k - lr * g_k``
* ``"momentum"``:  ``b_{k+1} = beta * b_k + g_k`` (``b_0 = 0``, so ``b_1 = g_0`` as in PyTorch),
  ``p_{k+1} = p_k - lr * b_{k+1}``
* ``"nesterov"``:  ``b_{k+1} = beta * b_k + g_k``, ``p_{k+1} = p_k - lr * (g_k + beta * b_{k+1})``

``lr`` and ``momentum`` may be arrays; they broadcast to a batch shape ``B`` and
every configuration runs at once (one NumPy operation per step for all of them).

Divergence: an iterate that leaves the square ``max(|x|, |y|) <= surface.escape_radius``
(or stops being finite) is reported as diverged at that step; from that step on its
points and losses are NaN, so nothing keeps growing and no overflow warning is printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import _validate
from . import surfaces as _surfaces

METHODS = ("gd", "momentum", "nesterov")
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class Trajectory:
    """The iterates of one run (or a batch of runs).

    Attributes
    ----------
    points : shape ``(*B, steps + 1, 2)``; ``points[..., 0, :]`` is the start.
    losses : shape ``(*B, steps + 1)``, ``f(points)``.
    diverged : bool, or bool array of shape ``B``.
    diverged_at : the first step whose iterate left the region, or None when it did not;
        for a batch an object array of shape ``B`` holding ints and Nones.
    """

    surface: _surfaces.Surface = field(repr=False)
    method: str
    lr: float | np.ndarray
    momentum: float | np.ndarray
    points: np.ndarray = field(repr=False)
    losses: np.ndarray = field(repr=False)
    diverged: bool | np.ndarray
    diverged_at: int | None | np.ndarray

    @property
    def steps(self) -> int:
        return self.points.shape[-2] - 1

    def steps_to(self, tol: float) -> int | None | np.ndarray:
        """First step at which ``loss - f_min <= tol`` (None if never; per configuration for a batch)."""
        tol = float(_validate.positive(tol, "tol"))
        f_min = self.surface.f_min
        if f_min is None:
            raise ValueError(f"tol: the surface {self.surface.name!r} has no minimum; steps_to must be "
                             "used on a surface with a minimum to measure the gap f - f* to")
        reached = np.nan_to_num(self.losses - f_min, nan=np.inf) <= tol
        first = np.where(reached.any(axis=-1), reached.argmax(axis=-1), -1)
        return _none_for_negative(first)


def _none_for_negative(steps: np.ndarray) -> int | None | np.ndarray:
    """Turn -1 into None: a Python int/None for a scalar, an object array otherwise."""
    if steps.ndim == 0:
        return None if steps < 0 else int(steps)
    out = np.empty(steps.shape, dtype=object)
    for idx, k in np.ndenumerate(steps):
        out[idx] = None if k < 0 else int(k)
    return out


def _as_surface(surface: object) -> _surfaces.Surface:
    if isinstance(surface, str):
        return _surfaces.get(surface)
    if not isinstance(surface, _surfaces.Surface):
        raise TypeError(
            f"surface must be a lessons_lib.surfaces.Surface or one of {_surfaces.names()}; "
            f"got {type(surface).__name__}"
        )
    return surface


def run(
    surface: _surfaces.Surface | str,
    x0: object,
    method: str,
    lr: float | np.ndarray,
    momentum: float | np.ndarray = 0.0,
    steps: int = 100,
) -> Trajectory:
    """Run ``method`` from ``x0`` for ``steps`` steps.

    Parameters
    ----------
    surface : a :class:`~lessons_lib.surfaces.Surface` or its name.
    x0 : start point, shape ``(2,)``.
    method : ``"gd"``, ``"momentum"`` or ``"nesterov"``.
    lr : learning rate(s) > 0, a number or an array.
    momentum : momentum coefficient(s) in ``[0, 1)``; must be 0 for ``"gd"``.
    steps : number of updates, an integer in ``[0, 1_000_000]``.

    Returns
    -------
    Trajectory with ``points`` of shape ``(*B, steps + 1, 2)`` where ``B`` is the
    broadcast shape of ``lr`` and ``momentum`` (``()`` for scalars).
    """
    surface = _as_surface(surface)
    start = _validate.finite(x0, "x0")
    if start.shape != (2,):
        raise ValueError(f"x0 must have shape (2,), one point (x, y); got shape {start.shape}")
    method = _validate.one_of(method, "method", METHODS)
    lr_arr = _validate.positive(lr, "lr")
    beta = _validate.in_range(momentum, "momentum", 0.0, 1.0, high_open=True)
    steps = _validate.integer(steps, "steps", 0, MAX_STEPS)
    if method == "gd" and np.any(beta != 0):
        raise ValueError("momentum must be 0 for method 'gd' (use 'momentum' or 'nesterov')")
    try:
        batch = np.broadcast_shapes(lr_arr.shape, beta.shape)
    except ValueError:
        raise ValueError(
            f"lr and momentum must broadcast to one shape; got shapes {lr_arr.shape} and {beta.shape}"
        ) from None

    iterate = _iterate_one if batch == () else _iterate
    points, losses, diverged_at = iterate(surface, start, method, lr_arr, beta, steps, batch)
    # The loop fills step-major arrays; moving the step axis is a view, not a copy.
    points = np.moveaxis(points, 0, -2)  # (*B, steps + 1, 2)
    losses = np.moveaxis(losses, 0, -1)  # (*B, steps + 1)
    diverged = diverged_at >= 0
    return Trajectory(
        surface=surface,
        method=method,
        lr=float(lr_arr) if lr_arr.ndim == 0 else lr_arr,
        momentum=float(beta) if beta.ndim == 0 else beta,
        points=points,
        losses=losses,
        diverged=bool(diverged) if diverged.ndim == 0 else diverged,
        diverged_at=_none_for_negative(diverged_at),
    )


def _iterate(
    surface: _surfaces.Surface,
    start: np.ndarray,
    method: str,
    lr: np.ndarray,
    beta: np.ndarray,
    steps: int,
    batch: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The update loop.

    Returns points of shape ``(steps + 1, *B, 2)``, losses of shape ``(steps + 1, *B)``
    and ``diverged_at`` of shape ``B`` (``-1`` where the run did not diverge).
    Updates are in place on arrays of shape ``B``: one NumPy call per operation for
    the whole batch.
    """
    lr = np.broadcast_to(lr, batch)
    beta = np.broadcast_to(beta, batch)
    points = np.empty((steps + 1, *batch, 2))
    losses = np.empty((steps + 1, *batch))
    x = np.full(batch, start[0])
    y = np.full(batch, start[1])
    bx = np.zeros(batch)
    by = np.zeros(batch)
    tmp = np.empty(batch)
    inside = np.empty(batch, dtype=bool)
    diverged_at = np.full(batch, -1, dtype=np.int64)
    radius = surface.escape_radius
    grad_xy, fxy = surface.grad_xy, surface.fxy
    points[0, ..., 0], points[0, ..., 1] = x, y
    losses[0] = fxy(x, y)
    # Overflow and inf - inf can only happen on a configuration that is leaving the
    # region; the check below catches and reports it, so numpy's warnings are off.
    with np.errstate(all="ignore"):
        for k in range(1, steps + 1):
            gx, gy = grad_xy(x, y)
            if method == "gd":
                x -= np.multiply(lr, gx, out=tmp)
                y -= np.multiply(lr, gy, out=tmp)
            else:
                bx *= beta
                bx += gx
                by *= beta
                by += gy
                if method == "nesterov":  # step along g + beta * b
                    gx += np.multiply(beta, bx, out=tmp)
                    gy += np.multiply(beta, by, out=tmp)
                    x -= np.multiply(lr, gx, out=tmp)
                    y -= np.multiply(lr, gy, out=tmp)
                else:
                    x -= np.multiply(lr, bx, out=tmp)
                    y -= np.multiply(lr, by, out=tmp)
            # A configuration is alive while its iterate stays in the square; NaN fails
            # the test too. Diverged ones are set to NaN and stay NaN silently.
            np.less_equal(np.abs(x, out=tmp), radius, out=inside)
            inside &= np.less_equal(np.abs(y, out=tmp), radius)
            if not inside.all():
                newly = ~inside & (diverged_at < 0)
                diverged_at[newly] = k
                x[~inside] = np.nan
                y[~inside] = np.nan
            points[k, ..., 0] = x
            points[k, ..., 1] = y
            losses[k] = fxy(x, y)
    return points, losses, diverged_at


def _iterate_one(
    surface: _surfaces.Surface,
    start: np.ndarray,
    method: str,
    lr: np.ndarray,
    beta: np.ndarray,
    steps: int,
    batch: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same loop as :func:`_iterate` for a single configuration, on Python floats.

    NumPy's per-call overhead dominates for one configuration; plain floats make a
    300-step run take well under a millisecond, which keeps widgets instant. The
    arithmetic is the same IEEE double arithmetic, operation for operation.
    """
    lr_f, beta_f = float(lr), float(beta)
    radius = surface.escape_radius
    grad_xy = surface.grad_xy
    points = np.full((steps + 1, 2), np.nan)
    x, y = float(start[0]), float(start[1])
    points[0] = x, y
    bx = by = 0.0
    diverged_at = -1
    with np.errstate(all="ignore"):
        for k in range(1, steps + 1):
            gx, gy = grad_xy(x, y)
            gx, gy = float(gx), float(gy)
            if method == "gd":
                x -= lr_f * gx
                y -= lr_f * gy
            else:
                bx = beta_f * bx + gx
                by = beta_f * by + gy
                if method == "nesterov":
                    x -= lr_f * (gx + beta_f * bx)
                    y -= lr_f * (gy + beta_f * by)
                else:
                    x -= lr_f * bx
                    y -= lr_f * by
            if not (abs(x) <= radius and abs(y) <= radius):  # NaN fails too
                diverged_at = k
                break
            points[k] = x, y
        losses = surface.fxy(points[:, 0], points[:, 1])
    return points, losses, np.array(diverged_at)
