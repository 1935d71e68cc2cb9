"""Plotting helpers: contours, paths and loss curves in one consistent style.

Each method has one colour and one line style everywhere in the course, in the static
figures and in the in-browser widgets alike (:data:`METHOD_COLORS`, :data:`METHOD_LINESTYLES`:
the Okabe-Ito palette, readable with every common colour-vision deficiency, and a dash
pattern, so that the methods differ without colour too).
Loss curves show the gap ``f(x_k) - f_min`` on a log scale, where a linear rate
``rho`` appears as a straight line of slope ``log10(rho)`` per step.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .mathtext_cache import share_mathtext_parses
from .optimizers import Trajectory
from .surfaces import Surface

# Okabe-Ito blue, vermillion and bluish green, as course_widgets.js's METHOD_STYLE.
METHOD_COLORS = {"gd": "#0072B2", "momentum": "#D55E00", "nesterov": "#009E73"}
METHOD_LINESTYLES = {"gd": "-", "momentum": (0, (8, 4)), "nesterov": (0, (8, 3, 2, 3))}
METHOD_LABELS = {"gd": "gradient descent", "momentum": "momentum", "nesterov": "Nesterov"}
# zlib level 3 rather than Pillow's default 6: probes of 1 December (outputs not kept) wrote the
# course's figures 16 to 34 ms sooner each; bytes: lesson 01's five figures and widget picture 11 %
# fewer, other plots from 26 % fewer to 49 % more (a contourf), so a figure can grow.
PNG_OPTIONS = {"compress_level": 3}
STYLE = {
    "figure.dpi": 80,
    "figure.figsize": (9.0, 3.8),
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
}


def use_style() -> None:
    """Apply the course's matplotlib style (called by :func:`lessons_lib.setup`).

    In a notebook, figures are also stored at twice their displayed size ("retina" PNGs, shown
    at ``figure.dpi``), sharp on high-density screens, compressed with :data:`PNG_OPTIONS`.
    Mathtext layouts are shared between renderers
    (:func:`lessons_lib.mathtext_cache.share_mathtext_parses`)."""
    plt.rcParams.update(STYLE)
    share_mathtext_parses()
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None and "inline" in plt.get_backend():
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina", pil_kwargs=PNG_OPTIONS)


def contour_levels(surface: Surface, n: int = 25, grid: int = 200) -> np.ndarray:
    """Levels spaced evenly in ``log(f - f_min)`` over the plot range (linear if unbounded)."""
    _, _, Z = surface.grid(grid)
    if surface.f_min is None:
        return np.linspace(Z.min(), Z.max(), n)
    gap = Z - surface.f_min
    low = max(np.quantile(gap, 0.002), 1e-3 * gap.max(), 1e-12)
    return surface.f_min + np.geomspace(low, gap.max(), n)


def contour(ax: Axes, surface: Surface, n_levels: int = 25, grid: int = 200):
    """Draw filled-free contour lines of ``surface`` and mark its minima; returns the ContourSet."""
    X, Y, Z = surface.grid(grid)
    cs = ax.contour(X, Y, Z, levels=contour_levels(surface, n_levels, grid), cmap="Greys_r",
                    linewidths=0.6, alpha=0.8)
    if len(surface.minima):
        ax.plot(*surface.minima.T, "*", color="gold", markeredgecolor="k", markersize=12,
                zorder=5, label="minimum")
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_aspect("equal", adjustable="box")
    return cs


def replace_contour(ax: Axes, surface: Surface, previous=None, n_levels: int = 25, grid: int = 200):
    """Remove ``previous`` (a ContourSet from :func:`contour`) and its minimum markers, draw ``surface``.

    What a widget does when its surface changes; returns the new ContourSet.
    """
    if previous is not None:
        previous.remove()
    for artist in list(ax.lines):
        if artist.get_label() == "minimum":
            artist.remove()
    return contour(ax, surface, n_levels, grid)


def path(ax: Axes, points: np.ndarray, method: str = "gd", label: str | None = None,
         color: str | None = None, markersize: float = 3.0) -> Line2D:
    """Draw a trajectory ``points`` of shape ``(steps + 1, 2)``; NaN rows (after divergence) are gaps."""
    color = color or METHOD_COLORS.get(method, "k")
    label = METHOD_LABELS.get(method, method) if label is None else label
    (line,) = ax.plot(points[:, 0], points[:, 1], marker="o", color=color, markersize=markersize,
                      linestyle=METHOD_LINESTYLES.get(method, "-"), linewidth=1.2, label=label)
    ax.plot(*points[0], "s", color=color, markersize=6)
    return line


def loss_gap(losses: np.ndarray, f_min: float | None) -> np.ndarray:
    """``losses - f_min`` floored at 1e-300 so it can go on a log axis (raw losses if no minimum)."""
    if f_min is None:
        return np.asarray(losses, dtype=float)
    return np.maximum(np.asarray(losses, dtype=float) - f_min, 1e-300)


def loss_curve(ax: Axes, losses: np.ndarray, f_min: float | None, method: str = "gd",
               label: str | None = None, color: str | None = None) -> Line2D:
    """Plot loss against step; on a log scale of ``f - f_min`` when the minimum is known."""
    color = color or METHOD_COLORS.get(method, "k")
    label = METHOD_LABELS.get(method, method) if label is None else label
    (line,) = ax.plot(np.arange(len(losses)), loss_gap(losses, f_min), color=color,
                      linestyle=METHOD_LINESTYLES.get(method, "-"), linewidth=1.5, label=label)
    ax.set_xlabel("step $k$")
    if f_min is None:
        ax.set_ylabel("$f(x_k)$")
    else:
        ax.set_yscale("log")
        ax.set_ylabel(r"$f(x_k) - f^\star$")
    return line


def trajectory_figure(
    surface: Surface,
    trajectories: Mapping[str, Trajectory] | Sequence[Trajectory],
    title: str | None = None,
) -> tuple[Figure, tuple[Axes, Axes]]:
    """Contours with the paths on the left, the loss curves on the right.

    ``trajectories`` maps labels to unbatched :class:`Trajectory` objects (or is a
    list of them, labelled by method).
    """
    items = (trajectories.items() if isinstance(trajectories, Mapping)
             else [(METHOD_LABELS.get(t.method, t.method), t) for t in trajectories])
    fig, (ax_c, ax_l) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1.2, 1]})
    contour(ax_c, surface)
    for label, traj in items:
        if traj.points.ndim != 2:
            raise ValueError("trajectories must be single runs (points of shape (steps + 1, 2))")
        path(ax_c, traj.points, traj.method, label=label)
        loss_curve(ax_l, traj.losses, surface.f_min, traj.method, label=label)
    ax_c.legend(loc="upper right")
    ax_l.legend(loc="upper right")
    ax_c.set_title(title or surface.formula)
    ax_l.set_title("loss against step")
    fig.tight_layout()
    return fig, (ax_c, ax_l)
