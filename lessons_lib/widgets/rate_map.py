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

Controls: kappa (log slider, a full redraw), lr and beta sliders and a click on the map
(both blitted: only the selected point, the path and the error curve are redrawn).
"""

from __future__ import annotations

import html
import math

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.colors import FuncNorm

from .. import _validate, live, optimizers, plotting, surfaces, theory
from ..optimizers import Trajectory

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

class RateMap:
    """Heavy-ball momentum's convergence rate over (lr, beta), with a selected pair's iterates.

    Parameters
    ----------
    kappa : condition number ``L / mu`` in [1, 1000]; the eigenvalues are ``1/kappa`` and 1.
    lr : learning rate of the selected pair, in [0.001, 4] (equal to ``lr * L`` since ``L = 1``).
    beta : momentum of the selected pair, in [0, 0.999].
    steps : steps of the run drawn on the right, 10..2000.
    start : start point ``(x, y)``, not the origin (default: the quadratic's, (-8, 3)).
    grid : cells per side of the rate image, 10..2000.

    Attributes used by tests and notebooks: ``kappa_slider``, ``lr_slider``, ``beta_slider``,
    ``optimum_button``, ``readout`` (HTML); ``mu``, ``L``, ``surface``, ``run`` (the selected
    pair's :class:`~lessons_lib.optimizers.Trajectory`), ``rate`` (its rate from theory);
    ``lr_grid``, ``beta_grid`` (cell centres), ``rates`` (the masked rate image);
    artists ``image``, ``colorbar``, ``star``, ``gd_marker``, ``selected_marker``,
    ``critical_lines`` (``{"mu": Line2D, "L": Line2D}``), ``divergence_line``,
    ``regime_labels`` (``{regime: Annotation}``, ``.xy`` a point inside the region),
    ``path_line``, ``start_marker``, ``error_line``, ``envelope_line``, ``status_text``;
    ``optimum`` (``theory.optimal_momentum``), ``optimum_gd`` (``theory.optimal_gd``);
    axes ``ax_map``, ``ax_path``, ``ax_error``; ``fig``, ``widget``.
    """

    def __init__(self, kappa: float = 100.0, lr: float = 1.0, beta: float = 0.9, steps: int = 300,
                 start: object = None, grid: int = 300) -> None:
        kappa = self._check_kappa(kappa)
        lr, beta = self._check_pair(lr, beta)
        self.steps = _validate.integer(steps, "steps", 10, 2000)
        self.lr_grid, self.beta_grid = grid_axes(grid)
        if start is None:
            start = surfaces.quadratic([1.0 / kappa, 1.0]).start
        start = _validate.finite(start, "start")
        if start.shape != (2,) or not np.any(start):
            raise ValueError(f"start must be a point (x, y) other than the minimum (0, 0); got {start!r}")
        self.start = start
        self.L = 1.0
        self._busy = False

        self.kappa_slider = widgets.FloatLogSlider(value=kappa, base=10, min=0.0, max=3.0, step=0.01,
                                                   description="kappa", readout_format=".4g",
                                                   continuous_update=False)
        self.lr_slider = widgets.FloatSlider(value=lr, min=LR_MIN, max=LR_MAX, step=LR_MIN,
                                             description="lr (L = 1)", readout_format=".3f",
                                             continuous_update=True, style={"description_width": "70px"})
        self.beta_slider = widgets.FloatSlider(value=beta, min=0.0, max=BETA_MAX, step=0.001,
                                               description="momentum β", readout_format=".3f",
                                               continuous_update=True, style={"description_width": "80px"})
        self.optimum_button = widgets.Button(description="go to the optimum",
                                             tooltip="select Polyak's optimal (lr, β) for this kappa")
        self.readout = widgets.HTML()

        self._build_figure()
        self._set_kappa()
        self._compute()
        self._show_run()
        self._blitter.freeze_layout()

        self.lr_slider.observe(self._on_change, names="value")
        self.beta_slider.observe(self._on_change, names="value")
        self.kappa_slider.observe(self._on_kappa, names="value")
        self.optimum_button.on_click(lambda _: self.select_optimum())
        self.fig.canvas.mpl_connect("button_press_event", self._on_click)

        help_text = widgets.HTML("<small>Click on the map to choose (lr, β); the star is the "
                                 "optimum, grey means the iteration diverges.</small>")
        self.widget = widgets.VBox([
            widgets.HBox([self.kappa_slider, self.lr_slider, self.beta_slider, self.optimum_button]),
            help_text, self.fig.canvas, self.readout,
        ])

    # --- validation ---------------------------------------------------------

    @staticmethod
    def _check_kappa(kappa: object) -> float:
        return float(_validate.in_range(kappa, "kappa", *KAPPA_RANGE))

    @staticmethod
    def _check_pair(lr: object, beta: object) -> tuple[float, float]:
        lr = float(_validate.in_range(lr, "lr", LR_MIN, LR_MAX))
        beta = float(_validate.in_range(beta, "beta", 0.0, BETA_MAX))
        return lr, beta

    # --- figure -------------------------------------------------------------

    def _build_figure(self) -> None:
        self.fig = live.figure(figsize=(11.0, 5.0))
        self.fig.set_layout_engine("constrained")
        grid = self.fig.add_gridspec(2, 2, width_ratios=[1.25, 1])
        self.ax_map = self.fig.add_subplot(grid[:, 0])
        self.ax_path = self.fig.add_subplot(grid[0, 1])
        self.ax_error = self.fig.add_subplot(grid[1, 1])
        ax = self.ax_map

        cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="#c8c8c8")
        # Colour by log(1 - rate): 1 - rate is roughly the fraction of the error removed per
        # step, so equal colour steps are equal factors in the number of steps needed.
        norm = FuncNorm((lambda r: -np.log10(1.0 - np.clip(r, 0.0, BETA_MAX)),
                         lambda t: 1.0 - 10.0 ** (-t)), vmin=0.0, vmax=BETA_MAX)
        blank = np.ma.masked_all((len(self.beta_grid), len(self.lr_grid)))
        self.image = ax.imshow(blank, origin="lower", extent=(0.0, LR_MAX, 0.0, 1.0), aspect="auto",
                               interpolation="nearest", cmap=cmap, norm=norm)
        self.colorbar = self.fig.colorbar(self.image, ax=ax, pad=0.02, fraction=0.05, aspect=30,
                                          ticks=[0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999])
        self.colorbar.set_label(r"rate $\rho$ (grey: $\rho \geq 1$, diverges)")

        lr = np.linspace(0.0, LR_MAX, 801)
        self.critical_lines = {
            "mu": ax.plot([], [], color="white", linestyle="--", linewidth=1.4,
                          label=r"critical damping $\lambda = \mu$")[0],
            "L": ax.plot([], [], color="white", linestyle=":", linewidth=1.8,
                         label=r"critical damping $\lambda = L$")[0],
        }
        beta = np.linspace(0.0, 1.0, 201)
        (self.divergence_line,) = ax.plot(2.0 + 2.0 * beta, beta, color="k", linewidth=1.4,
                                          label=r"$\mathrm{lr}\,L = 2 + 2\beta$")
        self._critical_lr = lr
        (self.gd_marker,) = ax.plot([], [], "D", color="#1f77b4", markeredgecolor="k", markersize=8,
                                    clip_on=False, zorder=6, label=r"best GD ($\beta = 0$)")
        (self.star,) = ax.plot([], [], "*", color="gold", markeredgecolor="k", markersize=17, zorder=6,
                               label="optimum")
        (self.selected_marker,) = ax.plot([], [], "o", color="white", markeredgecolor=plotting.METHOD_COLORS[
            "momentum"], markeredgewidth=2.5, markersize=10, zorder=7, clip_on=False, label="selected")
        self.regime_labels = {
            name: ax.annotate(name, xy=(0.0, 0.0), xytext=(0.0, 0.0), ha="center", va="center", fontsize=10,
                              fontweight="bold", zorder=5,
                              bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none",
                                    "alpha": 0.75},
                              arrowprops={"arrowstyle": "-|>", "color": "k", "linewidth": 1.0,
                                          "shrinkA": 2, "shrinkB": 0})
            for name in REGIMES
        }
        ax.set_xlim(0.0, LR_MAX)
        ax.set_ylim(0.0, 1.0)
        ax.set_xlabel(r"learning rate $\mathrm{lr}\cdot L$  ($L = 1$, so this is lr)")
        ax.set_ylabel(r"momentum $\beta$")
        # The white critical-damping curves would vanish in a legend on a white page: grey frame.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8, frameon=True,
                  facecolor="0.75", edgecolor="none", framealpha=1.0, handlelength=2.2)

        color = plotting.METHOD_COLORS["momentum"]
        (self.path_line,) = self.ax_path.plot([], [], "o-", color=color, markersize=2.0, linewidth=1.0,
                                              zorder=4)
        (self.start_marker,) = self.ax_path.plot([], [], "s", color="k", markersize=6, zorder=5)
        (self.error_line,) = self.ax_error.plot([], [], color=color, linewidth=1.5, label=r"$\|x_k\|$ (run)")
        (self.envelope_line,) = self.ax_error.plot([], [], "k--", linewidth=1.0,
                                                   label=r"$\rho^k \|x_0\|$ (theory)")
        norm0 = float(np.hypot(*self.start))
        self.ax_error.axhline(SHRINK * norm0, color="0.5", linestyle=":", linewidth=1.0,
                              label=r"$10^{-6}\,\|x_0\|$")
        self.status_text = self.ax_error.text(0.02, 0.05, "", transform=self.ax_error.transAxes,
                                              fontsize=9, ha="left", va="bottom")
        self.ax_error.set_yscale("log")
        self.ax_error.set_xlim(0, self.steps)
        self.ax_error.set_ylim(1e-10 * norm0, 1e4 * norm0)
        self.ax_error.set_xlabel("step $k$")
        self.ax_error.set_ylabel(r"error $\|x_k\|$")
        self.ax_error.legend(loc="upper right", fontsize=8, ncol=3)
        self._blitter = live.Blitter(self.fig, [self.selected_marker, self.path_line, self.start_marker,
                                                self.error_line, self.envelope_line, self.status_text])
        self._contour = None


    # --- kappa: the map and the surface (a full redraw) -----------------------

    @property
    def kappa(self) -> float:
        return float(self.kappa_slider.value)

    def _set_kappa(self) -> None:
        kappa = self._check_kappa(self.kappa)
        self.mu = self.L / kappa
        self.surface = surfaces.quadratic([self.mu, self.L])
        self.rates = rate_image(self.lr_grid, self.beta_grid, self.mu, self.L)
        self.image.set_data(self.rates)

        self.optimum = theory.optimal_momentum(self.mu, self.L)
        self.optimum_gd = theory.optimal_gd(self.mu, self.L)
        self.star.set_data([self.optimum[0]], [self.optimum[1]])
        self.gd_marker.set_data([self.optimum_gd[0]], [0.0])
        for key, lam in (("mu", self.mu), ("L", self.L)):
            lr = self._critical_lr[self._critical_lr * lam < 4.0]
            self.critical_lines[key].set_data(lr, (1.0 - np.sqrt(lr * lam)) ** 2)
        for name, where in regime_label_positions(self.mu, self.L).items():
            label = self.regime_labels[name]
            label.set_visible(where is not None)
            if where is None:
                continue
            point, text = where
            label.xy = point
            label.set_position(text)
            # A region too thin for its name gets the name beside it and an arrow.
            label.arrow_patch.set_visible(text != point)
        self.ax_map.set_title(rf"momentum's rate $\rho$, eigenvalues in $[1/\kappa, 1]$, "
                              rf"$\kappa = {kappa:.4g}$", fontsize=11)

        ax = self.ax_path
        self._contour = plotting.replace_contour(ax, self.surface, self._contour, n_levels=15, grid=120)
        ax.set_title(rf"iterates on $\frac{{1}}{{2}}(\mu x^2 + L y^2)$, $\mu = {self.mu:.4g}$, $L = 1$",
                     fontsize=10)

    # --- the selected pair (blitted) -----------------------------------------

    def _compute(self) -> None:
        lr, beta = self.lr_slider.value, self.beta_slider.value
        self.run: Trajectory = optimizers.run(self.surface, self.start, "momentum", lr, beta, self.steps)
        self.rate = float(theory.momentum_rate(lr, beta, [self.mu, self.L]))

    def _show_run(self) -> None:
        lr, beta = self.lr_slider.value, self.beta_slider.value
        run, rate = self.run, self.rate
        pts = run.points
        self.selected_marker.set_data([lr], [beta])
        self.path_line.set_data(pts[:, 0], pts[:, 1])
        self.start_marker.set_data([pts[0, 0]], [pts[0, 1]])
        errors = error_norms(pts)
        k = np.arange(run.steps + 1)
        self.error_line.set_data(k, errors)
        self.envelope_line.set_data(k, envelope(rate, errors[0], run.steps))
        if run.diverged:
            self.status_text.set_text(f"diverged at step {run.diverged_at}")
            self.status_text.set_color("#b00020")
        else:
            self.status_text.set_text(rf"$\rho = {rate:.4f}$")
            self.status_text.set_color("k")
        self.readout.value = self.describe()

    def describe(self) -> str:
        """The readout (HTML): rate, regimes, steps from theory, what the run did, the optimum."""
        lr, beta, rate, run = self.lr_slider.value, self.beta_slider.value, self.rate, self.run
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
                     f"ρ = {rate_o:.4f} ({n_o} step{'s' * (n_o != 1)}); best GD: lr·L = {lr_g:.4f}, "
                     f"ρ = {rate_g:.4f} ({n_g} step{'s' * (n_g != 1)})")
        return "<br>".join(html.escape(line) for line in lines)

    def update(self) -> None:
        """Recompute the run for the sliders' (lr, beta) and blit the right panels."""
        self._compute()
        self._show_run()
        self._blitter.update()

    def select(self, lr: float, beta: float) -> None:
        """Choose the pair (what a click on the map does): sets both sliders, one redraw."""
        lr, beta = self._check_pair(lr, beta)
        self._busy = True
        try:
            self.lr_slider.value, self.beta_slider.value = lr, beta
        finally:
            self._busy = False
        self.update()

    def select_optimum(self) -> None:
        """Select Polyak's optimal pair for the current kappa."""
        self.select(self.optimum[0], self.optimum[1])

    # --- events -------------------------------------------------------------

    def _on_change(self, change) -> None:
        if not self._busy:
            self.update()

    def _on_kappa(self, change) -> None:
        self._set_kappa()
        self._compute()
        self._show_run()
        self.fig.canvas.draw()

    def _on_click(self, event) -> None:
        if event.inaxes is self.ax_map and event.xdata is not None:
            lr = min(max(round(event.xdata, 3), LR_MIN), LR_MAX)
            beta = min(max(round(event.ydata, 3), 0.0), BETA_MAX)
            self.select(lr, beta)

    # --- display ------------------------------------------------------------

    def _ipython_display_(self) -> None:
        live.show(self.widget, self.fig, "rate map")
