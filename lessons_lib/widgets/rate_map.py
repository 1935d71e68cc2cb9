"""The rate map: heavy-ball momentum's convergence rate over (lr, beta), with its regimes.

In the manner of the interactive article "Why Momentum Really Works" (Goh, Distill
2017), with one correction: where the roots of ``z^2 - (1 + beta - lr lam) z + beta``
are complex the rate is ``sqrt(beta)`` (their product is ``beta`` and they have one
modulus), not ``2 sqrt(beta)`` as that article prints.

The quadratic has eigenvalues ``mu = 1/kappa`` and ``L = 1``, so the horizontal axis
``lr * L`` is the learning rate itself. Panels:

* left, the rate ``theory.momentum_rate(lr, beta, [mu, L])`` on a grid of cell centres
  (grey where it is >= 1: divergence), Polyak's optimum (a star), the best
  gradient-descent step (beta = 0, a diamond), the critical-damping curves
  ``beta = (1 - sqrt(lr lam))^2`` for ``lam = mu`` and ``lam = L``, the divergence
  boundary ``lr L = 2 + 2 beta``, and the four regimes named where they hold;
* right, the iterates of the selected pair from ``optimizers.run`` on
  ``surfaces.quadratic([mu, L])``: the path on the contours, and the error ``|x_k|``
  on a log scale with the envelope ``rho^k |x_0|`` from theory.

A region is named by the regime (``theory.momentum_regime``) of the eigen-component
that sets the rate there (the one with the larger spectral radius): that component is
what the iterates show after the first few steps.

Controls (drawn by the browser): kappa (log slider), lr and beta sliders (arrow keys move
by 0.01, with Shift by 0.001), "go to the optimum", and a click on the map. The browser
computes the map, the regions' names, the run and the readout itself
(``course_widgets.js``, tested equal to the functions below and to
:mod:`lessons_lib.theory` and :func:`lessons_lib.optimizers.run`); Python holds the
state as traits and computes the same numbers for :meth:`RateMap.readout_lines`.
"""

from __future__ import annotations

import html
import math

import numpy as np
import traitlets as t

from .. import _validate, optimizers, plotting, surfaces, theory
from ..optimizers import Trajectory
from ._base import Action, Control, CourseWidget, Integer, Readout, Real

LR_MAX = 4.0  # the map spans lr * L in (0, 4]; the divergence edge at beta = 0.999 is 3.998
LR_MIN = 0.001  # the lr slider's smallest value (and its step)
BETA_MAX = 0.999  # the beta slider's largest value (and the top of the beta axis is 1)
KAPPA_RANGE = (1.0, 1000.0)
REGIMES = ("ripples", "monotone", "oscillation", "divergence")
SHRINK = 1e-6  # "steps to shrink the error by 1e-6"


# --- the maths, as plain functions (what the widget draws) -------------------

def grid_axes(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of an ``n x n`` grid: ``lr`` over ``(0, LR_MAX]`` and ``beta`` over ``[0, 1)``."""
    n = _validate.integer(n, "grid", 10, 2000)
    centres = (np.arange(n) + 0.5) / n
    return centres * LR_MAX, centres


def rate_image(lr: np.ndarray, beta: np.ndarray, mu: float, L: float = 1.0) -> np.ma.MaskedArray:
    """``theory.momentum_rate`` on the grid, shape ``(len(beta), len(lr))`` (rows are beta),
    masked where the rate is >= 1 (the iteration diverges)."""
    rate = np.asarray(theory.momentum_rate(lr[None, :], beta[:, None], [mu, L]))
    return np.ma.masked_where(rate >= 1.0, rate)


def dominant_regime(lr: object, beta: object, mu: float, L: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The regime of the eigen-component that sets the rate, elementwise over ``lr`` and ``beta``.

    Returns ``(regime, lam)``: the name from :func:`theory.momentum_regime` and the
    eigenvalue (``mu`` or ``L``) with the larger spectral radius. On a tie (both
    components in ripples, where both radii are ``sqrt(beta)``, or ``mu == L``) a
    real-root regime is preferred, since a real root is never smaller than ``sqrt(beta)``.
    """
    r_mu = np.asarray(theory.momentum_rate(lr, beta, [mu]))
    r_L = np.asarray(theory.momentum_rate(lr, beta, [L]))
    g_mu = np.asarray(theory.momentum_regime(lr, beta, mu))
    g_L = np.asarray(theory.momentum_regime(lr, beta, L))
    use_L = (r_L > r_mu) | ((r_L == r_mu) & (g_mu == "ripples"))
    return np.where(use_L, g_L, g_mu), np.where(use_L, L, mu)


def _depth(mask: np.ndarray) -> np.ndarray:
    """How many 4-neighbour erosions each cell of ``mask`` survives (-1 outside; the
    border of the array counts as outside)."""
    depth = np.where(mask, 0, -1)
    current = mask.copy()
    level = 0
    while True:
        inner = np.zeros_like(current)
        inner[1:-1, 1:-1] = (current[1:-1, 1:-1] & current[:-2, 1:-1] & current[2:, 1:-1]
                             & current[1:-1, :-2] & current[1:-1, 2:])
        if not inner.any():
            return depth
        level += 1
        depth[inner] = level
        current = inner


def _box_fits(mask: np.ndarray, half_rows: int, half_cols: int) -> np.ndarray:
    """Cells around which a box of ``(2 half_rows + 1) x (2 half_cols + 1)`` cells lies inside ``mask``."""
    rows, cols = mask.shape
    table = np.zeros((rows + 1, cols + 1), dtype=np.int64)
    table[1:, 1:] = mask.cumsum(axis=0).cumsum(axis=1)
    out = np.zeros_like(mask)
    r0, r1 = half_rows, rows - half_rows
    c0, c1 = half_cols, cols - half_cols
    if r1 <= r0 or c1 <= c0:
        return out
    r = np.arange(r0, r1)[:, None]
    c = np.arange(c0, c1)[None, :]
    total = (table[r + half_rows + 1, c + half_cols + 1] - table[r - half_rows, c + half_cols + 1]
             - table[r + half_rows + 1, c - half_cols] + table[r - half_rows, c - half_cols])
    out[r0:r1, c0:c1] = total == (2 * half_rows + 1) * (2 * half_cols + 1)
    return out


def _deepest(depth: np.ndarray, among: np.ndarray) -> tuple[int, int]:
    """The deepest cell of ``among`` (the one nearest the centroid of the deepest ones)."""
    best = np.where(among, depth, -1)
    rows, cols = np.nonzero(best == best.max())
    i = np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2)
    return int(rows[i]), int(cols[i])


def _text_half_size(name: str) -> tuple[float, float]:
    """Half width and half height of a regime's name on the widget's map, in (lr, beta) units."""
    return 0.035 * len(name) + 0.03, 0.03


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Do the boxes ``(x, y, half_width, half_height)`` overlap?"""
    return abs(a[0] - b[0]) < a[2] + b[2] and abs(a[1] - b[1]) < a[3] + b[3]


# Where a name goes, relative to a region too thin to hold it: tried in order.
_CALLOUT_OFFSETS = ((0.75, -0.1), (0.75, 0.12), (-0.75, 0.12), (0.0, 0.18), (0.0, -0.15), (-0.75, -0.1))


def regime_label_positions(mu: float, L: float = 1.0,
                           n: int = 160) -> dict[str, tuple[tuple[float, float], tuple[float, float]] | None]:
    """Where to name each regime on the map.

    A region is where :func:`dominant_regime` gives that name. Returns
    ``{regime: (point, text)}``: ``point`` is the cell deepest inside the region among
    those where the name fits inside it, and then ``text == point``; for a region too
    thin for its name (oscillation along the divergence edge, say) ``point`` is its
    deepest cell and ``text`` a spot beside it, clear of the other names and of the
    optimum markers, for a label with an arrow. None when the region is empty on the grid.
    """
    lr = (np.arange(n) + 0.5) / n * LR_MAX
    beta = (np.arange(n) + 0.5) / n
    regime, _ = dominant_regime(lr[None, :], beta[:, None], mu, L)
    lr_opt, beta_opt, _ = theory.optimal_momentum(mu, L)
    taken = [(lr_opt, beta_opt, 0.12, 0.04), (theory.optimal_gd(mu, L)[0], 0.0, 0.1, 0.04)]
    out: dict[str, tuple[tuple[float, float], tuple[float, float]] | None] = {}
    thin = []
    for name in REGIMES:
        mask = regime == name
        if not mask.any():
            out[name] = None
            continue
        hw, hh = _text_half_size(name)
        fits = _box_fits(mask, math.ceil(hh * n), math.ceil(hw * n / LR_MAX))
        row, col = _deepest(_depth(mask), fits if fits.any() else mask)
        point = (float(lr[col]), float(beta[row]))
        if fits.any():
            out[name] = (point, point)
            taken.append((*point, hw, hh))
        else:
            thin.append((name, point))
    for name, point in thin:
        hw, hh = _text_half_size(name)
        spots = [(min(max(point[0] + dx, hw), LR_MAX - hw), min(max(point[1] + dy, hh), 1.0 - hh))
                 for dx, dy in _CALLOUT_OFFSETS]
        # Keep a margin of half a line between names.
        free = [p for p in spots if not any(_overlaps((*p, hw, 1.5 * hh), box) for box in taken)]
        text = (free or spots)[0]
        out[name] = (point, text)
        taken.append((*text, hw, hh))
    return out


def steps_to_shrink(rate: float, factor: float = SHRINK) -> int | None:
    """Steps for ``rate^k`` to fall to ``factor``: ``ceil(log(factor) / log(rate))``; None if rate >= 1."""
    if rate >= 1.0:
        return None
    if rate == 0.0:
        return 1
    return math.ceil(math.log(factor) / math.log(rate))


def envelope(rate: float, norm0: float, steps: int) -> np.ndarray:
    """``rate^k * norm0`` for ``k = 0..steps`` (the straight line on a log axis that theory predicts)."""
    with np.errstate(over="ignore"):
        return norm0 * np.power(rate, np.arange(steps + 1, dtype=float))


def error_norms(points: np.ndarray) -> np.ndarray:
    """The error ``|x_k|`` (Euclidean norm; the minimum is the origin), NaN after divergence."""
    return np.hypot(points[:, 0], points[:, 1])


# --- the widget -------------------------------------------------------------

class RateMap(CourseWidget):
    """Heavy-ball momentum's convergence rate over (lr, beta), with a selected pair's iterates.

    Parameters
    ----------
    kappa : condition number ``L / mu`` in [1, 1000]; the eigenvalues are ``1/kappa`` and 1.
    lr : learning rate of the selected pair, in [0.001, 4] (equal to ``lr * L`` since ``L = 1``).
    beta : momentum of the selected pair, in [0, 0.999].
    steps : steps of the run drawn on the right, 10..2000.
    start : start point ``(x, y)``, not the origin (default: the quadratic's, (-8, 3)).
    grid : cells per side of the rate image, 10..2000.

    Traits (synced with the browser): ``kappa``, ``lr``, ``beta``, ``steps``, ``start_x``,
    ``start_y``, ``grid``. Computed from them: ``mu``, ``L``, ``surface`` (the quadratic
    ``0.5 (mu x^2 + L y^2)``), ``run`` (the selected pair's
    :class:`~lessons_lib.optimizers.Trajectory`), ``rate`` (its rate from theory),
    ``optimum`` (``theory.optimal_momentum``), ``optimum_gd`` (``theory.optimal_gd``),
    ``lr_grid``, ``beta_grid`` (cell centres) and ``rates`` (the masked rate image, rows
    are beta); :meth:`readout_lines`, :meth:`describe` (HTML), :meth:`select`,
    :meth:`select_optimum`.

    For cells written against the earlier ipywidgets version: ``kappa_slider``,
    ``lr_slider``, ``beta_slider`` (``.value`` reads and writes the trait),
    ``optimum_button.click()``, ``readout.value`` (HTML).
    """

    _description = "rate map"
    kind = t.Unicode("rate_map").tag(sync=True)
    kappa = Real(100.0, *KAPPA_RANGE).tag(sync=True)
    lr = Real(1.0, LR_MIN, LR_MAX).tag(sync=True)
    beta = Real(0.9, 0.0, BETA_MAX).tag(sync=True)
    steps = Integer(300, 10, 2000).tag(sync=True)
    start_x = Real(-8.0).tag(sync=True)
    start_y = Real(3.0).tag(sync=True)
    grid = Integer(300, 10, 2000).tag(sync=True)

    def __init__(self, kappa: float = 100.0, lr: float = 1.0, beta: float = 0.9, steps: int = 300,
                 start: object = None, grid: int = 300) -> None:
        kappa = self._check_kappa(kappa)
        lr, beta = self._check_pair(lr, beta)
        if start is None:
            start = surfaces.quadratic([1.0 / kappa, 1.0]).start
        start = _validate.finite(start, "start")
        if start.shape != (2,) or not np.any(start):
            raise ValueError(f"start must be a point (x, y) other than the minimum (0, 0); got {start!r}")
        self._cache: tuple | None = None
        super().__init__(kappa=kappa, lr=lr, beta=beta, steps=steps, start_x=float(start[0]),
                         start_y=float(start[1]), grid=grid)
        self.kappa_slider = Control(self, "kappa")
        self.lr_slider = Control(self, "lr")
        self.beta_slider = Control(self, "beta")
        self.optimum_button = Action(self.select_optimum)
        self.readout = Readout(self.readout_lines)

    # --- validation ---------------------------------------------------------

    @staticmethod
    def _check_kappa(kappa: object) -> float:
        return float(_validate.in_range(kappa, "kappa", *KAPPA_RANGE))

    @staticmethod
    def _check_pair(lr: object, beta: object) -> tuple[float, float]:
        lr = float(_validate.in_range(lr, "lr", LR_MIN, LR_MAX))
        beta = float(_validate.in_range(beta, "beta", 0.0, BETA_MAX))
        return lr, beta

    @t.validate("start_x", "start_y")
    def _valid_start(self, proposal) -> float:
        other = self.start_y if proposal.trait.name == "start_x" else self.start_x
        if proposal.value == 0.0 and other == 0.0:
            raise ValueError("start must be a point (x, y) other than the minimum (0, 0)")
        return proposal.value

    # --- numbers computed from the traits --------------------------------------

    L = 1.0

    @property
    def mu(self) -> float:
        return self.L / self.kappa

    @property
    def surface(self) -> surfaces.Surface:
        """``0.5 (mu x^2 + L y^2)``: the quadratic whose iterates are drawn."""
        return surfaces.quadratic([self.mu, self.L])

    @property
    def start(self) -> np.ndarray:
        return np.array([self.start_x, self.start_y])

    @property
    def run(self) -> Trajectory:
        """The selected pair's run: heavy-ball momentum (PyTorch's form) from the start."""
        key = (self.kappa, self.lr, self.beta, self.steps, self.start_x, self.start_y)
        if self._cache is None or self._cache[0] != key:
            run = optimizers.run(self.surface, self.start, "momentum", self.lr, self.beta, self.steps)
            self._cache = (key, run)
        return self._cache[1]

    @property
    def rate(self) -> float:
        return float(theory.momentum_rate(self.lr, self.beta, [self.mu, self.L]))

    @property
    def optimum(self) -> tuple[float, float, float]:
        return theory.optimal_momentum(self.mu, self.L)

    @property
    def optimum_gd(self) -> tuple[float, float]:
        return theory.optimal_gd(self.mu, self.L)

    @property
    def lr_grid(self) -> np.ndarray:
        return grid_axes(self.grid)[0]

    @property
    def beta_grid(self) -> np.ndarray:
        return grid_axes(self.grid)[1]

    @property
    def rates(self) -> np.ma.MaskedArray:
        return rate_image(self.lr_grid, self.beta_grid, self.mu, self.L)

    # --- the readout ------------------------------------------------------------

    def readout_lines(self) -> list[str]:
        """The readout as plain text: rate, regimes, steps from theory, what the run did, the optimum."""
        lr, beta, rate, run = self.lr, self.beta, self.rate, self.run
        lines = [f"lr·L = {lr:.3f}, β = {beta:.3f}, κ = {self.kappa:.4g}: "
                 f"rate ρ = {rate:.4f} (theory: largest spectral radius over λ = μ and λ = L)"]
        parts = []
        for name, lam in (("μ", self.mu), ("L", self.L)):
            regime = str(theory.momentum_regime(lr, beta, lam))
            radius = float(theory.momentum_rate(lr, beta, [lam]))
            parts.append(f"λ = {name} = {lam:.4g}: {regime} (radius {radius:.4f})")
        lines.append("; ".join(parts))
        steps = steps_to_shrink(rate)
        if steps is None:
            lines.append(f"diverges: ρ = {rate:.4f} ≥ 1, the error grows by about {rate:.4g}× per step")
        else:
            lines.append(f"steps to shrink the error by 1e-6 (theory, ceil(log 1e-6 / log ρ)): {steps}")
        if run.diverged:
            lines.append(f"the run: diverged at step {run.diverged_at} (|x| passed "
                         f"{self.surface.escape_radius:g})")
        else:
            errors = error_norms(run.points)
            below = np.nonzero(errors <= SHRINK * errors[0])[0]
            lines.append(f"the run: error below 1e-6 |x₀| at step {below[0]}" if below.size else
                         f"the run: error {errors[-1] / errors[0]:.2e} |x₀| after {run.steps} steps")
        lr_o, beta_o, rate_o = self.optimum
        lr_g, rate_g = self.optimum_gd
        n_o, n_g = steps_to_shrink(rate_o), steps_to_shrink(rate_g)
        lines.append(f"optimum for κ = {self.kappa:.4g}: lr·L = {lr_o:.4f}, β = {beta_o:.4f}, "
                     f"ρ = {rate_o:.4f} (theory: {n_o} step{'s' * (n_o != 1)}); best GD: lr·L = {lr_g:.4f}, "
                     f"ρ = {rate_g:.4f} (theory: {n_g} step{'s' * (n_g != 1)})")
        return lines

    def describe(self) -> str:
        """The readout as HTML (lines joined by ``<br>``)."""
        return "<br>".join(html.escape(line) for line in self.readout_lines())

    # --- choosing a pair -------------------------------------------------------------

    def select(self, lr: float, beta: float) -> None:
        """Choose the pair (what a click on the map does): both checked first, then set in one message."""
        lr, beta = self._check_pair(lr, beta)
        with self.hold_sync():
            self.lr, self.beta = lr, beta

    def select_optimum(self) -> None:
        """Select Polyak's optimal pair for the current kappa."""
        self.select(self.optimum[0], self.optimum[1])

    def update(self) -> None:
        """Nothing to do: the browser redraws on every change (kept for cells that call it)."""

    # --- the static picture ----------------------------------------------------------

    def static_figure(self):
        import matplotlib
        from matplotlib.colors import FuncNorm
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11.0, 4.6), dpi=80)
        ax_map, ax_path, ax_err = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1, 1]})
        cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="#c8c8c8")
        norm = FuncNorm((lambda r: -np.log10(1.0 - np.clip(r, 0.0, BETA_MAX)),
                         lambda v: 1.0 - 10.0 ** (-v)), vmin=0.0, vmax=BETA_MAX)
        lr_grid, beta_grid = grid_axes(min(self.grid, 200))
        image = ax_map.imshow(rate_image(lr_grid, beta_grid, self.mu, self.L), origin="lower",
                      extent=(0.0, LR_MAX, 0.0, 1.0), aspect="auto", interpolation="nearest",
                      cmap=cmap, norm=norm)
        beta = np.linspace(0.0, 1.0, 201)
        ax_map.plot(2.0 + 2.0 * beta, beta, color="k", linewidth=1.4)
        ax_map.plot(*self.optimum[:2], "*", color="gold", markeredgecolor="k", markersize=15)
        ax_map.plot([self.lr], [self.beta], "o", color="white",
                    markeredgecolor=plotting.METHOD_COLORS["momentum"], markeredgewidth=2.5, markersize=10)
        ax_map.set_xlim(0.0, LR_MAX)
        ax_map.set_ylim(0.0, 1.0)
        bar = fig.colorbar(image, ax=ax_map, fraction=0.05, pad=0.02)
        bar.set_label("rate ρ (grey: ρ ≥ 1, diverges)")
        ax_map.set_xlabel("learning rate η·L  (L = 1, so this is η)")
        ax_map.set_ylabel("momentum β")
        ax_map.set_title(f"momentum's rate ρ, κ = {self.kappa:.4g} (grey: diverges)", fontsize=10)
        plotting.contour(ax_path, self.surface, n_levels=15, grid=120)
        plotting.path(ax_path, self.run.points, "momentum", markersize=2.0)
        ax_path.set_title("iterates of the selected pair", fontsize=10)
        errors = error_norms(self.run.points)
        k = np.arange(self.run.steps + 1)
        ax_err.semilogy(k, errors, color=plotting.METHOD_COLORS["momentum"], label="‖x_k‖ (run)")
        ax_err.semilogy(k, envelope(self.rate, errors[0], self.run.steps), "k--", linewidth=1.0,
                        label="ρ^k ‖x_0‖ (theory)")
        ax_err.set_ylim(1e-10 * errors[0], 1e4 * errors[0])
        ax_err.set_xlabel("step k")
        ax_err.set_ylabel("error ‖x_k‖")
        ax_err.legend(loc="upper right", fontsize=8)
        fig.tight_layout()
        return fig
