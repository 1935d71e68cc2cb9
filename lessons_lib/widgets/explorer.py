"""The trajectory explorer: GD, momentum and Nesterov overlaid on a 2-D surface.

Controls: a surface chooser (the six named surfaces and the linear-regression loss),
one checkbox per method, a log-scale learning-rate slider, momentum and steps
sliders, the start point (type it, or click on the contour plot), and a Play
control that animates the steps. Panels: contours with the paths, the loss against
the step, and a readout (final loss, steps to tolerance, "diverged at step k").

The numbers come from :func:`lessons_lib.optimizers.run`; a slider change
recomputes the three runs (about a millisecond) and redraws only the lines.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from .. import _validate, live, optimizers, plotting, surfaces
from ..optimizers import Trajectory

METHODS = ("gd", "momentum", "nesterov")

# A learning rate that makes each surface interesting from its default start.
DEFAULT_LR = {
    "quadratic": 0.3,
    "rosenbrock": 1e-3,
    "beale": 1e-3,
    "himmelblau": 5e-3,
    "saddle": 0.05,
    "rastrigin": 2e-3,
    "linear_regression": 0.1,
}
LR_EXPONENTS = (-5.0, 0.5)  # the slider spans 10^-5 .. 10^0.5


def available_surfaces() -> dict[str, surfaces.Surface]:
    """The explorer's surfaces: the six named ones and the linear-regression loss."""
    table = {name: surfaces.get(name) for name in surfaces.names()}
    table["linear_regression"] = surfaces.linear_regression()
    return table


def describe(traj: Trajectory, tol: float) -> str:
    """One line of the readout for one run."""
    label = plotting.METHOD_LABELS[traj.method]
    if traj.diverged:
        return f"{label}: diverged at step {traj.diverged_at}"
    final = traj.losses[-1]
    if traj.surface.f_min is None:
        return f"{label}: final loss {final:.3g} (this surface has no minimum)"
    if final > traj.losses[0]:
        return (f"{label}: growing, the loss rose from {traj.losses[0]:.4g} to {final:.4g} "
                f"in {traj.steps} steps: diverging, though it has not yet left the square "
                f"|x|, |y| <= {traj.surface.escape_radius:g} where divergence is declared")
    reached = traj.steps_to(tol)
    where = (f"reached f - f* <= {tol:g} at step {reached}" if reached is not None
             else f"not within {tol:g} of the minimum after {traj.steps} steps")
    return f"{label}: final loss {final:.4g} (f - f* = {final - traj.surface.f_min:.2e}); {where}"


class TrajectoryExplorer:
    """Interactive comparison of the three optimizers on one surface.

    Parameters
    ----------
    surface : a name from :func:`available_surfaces`.
    lr : learning rate (default: a good value for the surface).
    momentum : momentum coefficient in [0, 0.99].
    steps : number of steps, 1..2000.
    start : start point ``(x, y)`` (default: the surface's).
    methods : the methods shown at first.
    tol : tolerance of "steps to tolerance" on ``f - f*``.

    Attributes used by tests and notebooks: ``lr_slider``, ``momentum_slider``,
    ``steps_slider``, ``surface_dropdown``, ``method_boxes``, ``x0``, ``y0``,
    ``play``, ``frame``, ``readout``, ``paths``/``loss_lines`` (one Line2D per method),
    ``runs`` (the current trajectories), ``fig``, ``widget``.
    """

    def __init__(self, surface: str = "rosenbrock", lr: float | None = None, momentum: float = 0.9,
                 steps: int = 300, start: object = None, methods: tuple[str, ...] = METHODS,
                 tol: float = 1e-6) -> None:
        self.surfaces = available_surfaces()
        _validate.one_of(surface, "surface", self.surfaces)
        for m in methods:
            _validate.one_of(m, "methods", METHODS)
        lr = DEFAULT_LR[surface] if lr is None else float(_validate.positive(lr, "lr"))
        momentum = float(_validate.in_range(momentum, "momentum", 0.0, 0.99))
        steps = _validate.integer(steps, "steps", 1, 2000)
        self.tol = float(_validate.positive(tol, "tol"))
        self.runs: dict[str, Trajectory] = {}
        self._busy = False

        self.surface_dropdown = widgets.Dropdown(options=list(self.surfaces), value=surface,
                                                 description="surface")
        self.method_boxes = {m: widgets.Checkbox(value=m in methods, description=plotting.METHOD_LABELS[m],
                                                 indent=False, layout=widgets.Layout(width="160px"))
                             for m in METHODS}
        self.lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1],
                                                step=0.01, description="lr", readout_format=".2e",
                                                continuous_update=True)
        self.momentum_slider = widgets.FloatSlider(value=momentum, min=0.0, max=0.99, step=0.01,
                                                   description="momentum", continuous_update=True)
        self.steps_slider = widgets.IntSlider(value=steps, min=10, max=2000, step=10, description="steps",
                                              continuous_update=False)
        s = self.surfaces[surface]
        start = s.start if start is None else _validate.finite(start, "start")
        self.x0 = widgets.FloatText(value=float(start[0]), description="start x", step=0.1,
                                    layout=widgets.Layout(width="180px"))
        self.y0 = widgets.FloatText(value=float(start[1]), description="start y", step=0.1,
                                    layout=widgets.Layout(width="180px"))
        self.play = widgets.Play(value=steps, min=0, max=steps, step=1, interval=40, description="play")
        self.frame = widgets.IntSlider(value=steps, min=0, max=steps, description="show step",
                                       continuous_update=True)
        widgets.jslink((self.play, "value"), (self.frame, "value"))
        self.readout = widgets.HTML()

        self._build_figure()
        self._reset_axes()
        self._compute()
        self._show_runs()

        for control in (self.lr_slider, self.momentum_slider, self.x0, self.y0,
                        *self.method_boxes.values()):
            control.observe(self._on_change, names="value")
        self.frame.observe(self._on_frame, names="value")
        self.steps_slider.observe(self._on_steps, names="value")
        self.surface_dropdown.observe(self._on_surface, names="value")
        self.fig.canvas.mpl_connect("button_press_event", self._on_click)

        help_text = widgets.HTML("<small>Click on the contour plot to move the start point. "
                                 "Press play to animate the steps.</small>")
        self.widget = widgets.VBox([
            widgets.HBox([self.surface_dropdown, *self.method_boxes.values()]),
            widgets.HBox([self.lr_slider, self.momentum_slider, self.steps_slider]),
            widgets.HBox([self.x0, self.y0, self.play, self.frame]),
            help_text, self.fig.canvas, self.readout,
        ])

    # --- figure -----------------------------------------------------------

    def _build_figure(self) -> None:
        self.fig = live.figure(figsize=(10.0, 4.0))
        self.ax_path, self.ax_loss = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
        self.paths, self.loss_lines, self.heads = {}, {}, {}
        for m in METHODS:
            color = plotting.METHOD_COLORS[m]
            (self.paths[m],) = self.ax_path.plot([], [], "o-", color=color, markersize=2.5, linewidth=1.2,
                                                 label=plotting.METHOD_LABELS[m], zorder=4)
            (self.heads[m],) = self.ax_path.plot([], [], "o", color=color, markersize=7,
                                                 markeredgecolor="k", zorder=6)
            (self.loss_lines[m],) = self.ax_loss.plot([], [], color=color, linewidth=1.5,
                                                      label=plotting.METHOD_LABELS[m])
        (self.start_marker,) = self.ax_path.plot([], [], "s", color="k", markersize=7, zorder=7)
        self.ax_loss.set_xlabel("step $k$")
        self.ax_loss.set_title("loss against step")
        self.ax_path.legend(loc="upper right", fontsize=8)
        self._blitter = live.Blitter(self.fig, [*self.paths.values(), *self.heads.values(),
                                                *self.loss_lines.values(), self.start_marker])
        self._contour = None

    @property
    def surface(self) -> surfaces.Surface:
        return self.surfaces[self.surface_dropdown.value]

    def _reset_axes(self) -> None:
        """Contours, limits and scales for the current surface and step count (a full redraw)."""
        s = self.surface
        ax = self.ax_path
        self._contour = plotting.replace_contour(ax, s, self._contour)
        ax.set_title(s.formula, fontsize=9)
        steps = self.steps_slider.value
        self.ax_loss.set_xlim(0, steps)
        start = np.array([self.x0.value, self.y0.value])
        f0 = float(s.f(start))
        if s.f_min is None:
            self.ax_loss.set_yscale("linear")
            self.ax_loss.set_ylim(f0 - 25.0, f0 + 5.0)
            self.ax_loss.set_ylabel("$f(x_k)$")
        else:
            self.ax_loss.set_yscale("log")
            top = max(f0 - s.f_min, 1e-3) * 30.0
            self.ax_loss.set_ylim(1e-14, top)
            self.ax_loss.set_ylabel(r"$f(x_k) - f^\star$")

    # --- computation and drawing -------------------------------------------

    def _compute(self) -> None:
        s = self.surface
        start = np.array([self.x0.value, self.y0.value])
        lr, beta, steps = self.lr_slider.value, self.momentum_slider.value, self.steps_slider.value
        self.runs = {m: optimizers.run(s, start, m, lr, 0.0 if m == "gd" else beta, steps)
                     for m in METHODS if self.method_boxes[m].value}

    def _show_runs(self) -> None:
        """Put the current runs (up to the shown step) into the artists and the readout."""
        k = self.frame.value
        s = self.surface
        for m in METHODS:
            traj = self.runs.get(m)
            if traj is None:
                for artist in (self.paths[m], self.heads[m], self.loss_lines[m]):
                    artist.set_data([], [])
                continue
            pts = traj.points[: k + 1]
            self.paths[m].set_data(pts[:, 0], pts[:, 1])
            finite = pts[np.isfinite(pts).all(axis=1)]
            self.heads[m].set_data(finite[-1:, 0], finite[-1:, 1])
            steps = np.arange(k + 1)
            self.loss_lines[m].set_data(steps, plotting.loss_gap(traj.losses[: k + 1], s.f_min))
        self.start_marker.set_data([self.x0.value], [self.y0.value])
        self.readout.value = "<br>".join(html.escape(line) for line in self.readout_lines())

    def readout_lines(self) -> list[str]:
        """The readout as plain text, one line per shown method."""
        return [describe(t, self.tol) for t in self.runs.values()] or ["(no method selected)"]

    def update(self) -> None:
        """Recompute the runs for the controls' values and redraw the lines."""
        self._compute()
        self._show_runs()
        self._blitter.update()

    def _on_change(self, change) -> None:
        if not self._busy:
            self.update()

    def _on_frame(self, change) -> None:
        if not self._busy:
            self._show_runs()
            self._blitter.update()

    def _set_steps_range(self, steps: int) -> None:
        self._busy = True
        try:
            self.play.max = self.frame.max = steps
            self.play.value = self.frame.value = steps
        finally:
            self._busy = False

    def _on_steps(self, change) -> None:
        self._set_steps_range(self.steps_slider.value)
        self._reset_axes()
        self._compute()
        self._show_runs()
        self.fig.canvas.draw()

    def _on_surface(self, change) -> None:
        s = self.surface
        self._busy = True
        try:
            self.x0.value, self.y0.value = float(s.start[0]), float(s.start[1])
            self.lr_slider.value = DEFAULT_LR[s.name]
        finally:
            self._busy = False
        self._on_steps(None)

    def _on_click(self, event) -> None:
        if event.inaxes is self.ax_path and event.xdata is not None:
            self.set_start(event.xdata, event.ydata)

    def set_start(self, x: float, y: float) -> None:
        """Move the start point (what a click on the contour plot does)."""
        x = float(_validate.finite(x, "x"))
        y = float(_validate.finite(y, "y"))
        self._busy = True
        try:
            self.x0.value, self.y0.value = round(x, 3), round(y, 3)
        finally:
            self._busy = False
        self.update()

    # --- display -----------------------------------------------------------

    def _ipython_display_(self) -> None:
        live.show(self.widget, self.fig, "trajectory explorer")
