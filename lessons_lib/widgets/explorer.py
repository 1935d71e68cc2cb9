"""The trajectory explorer: GD, momentum and Nesterov overlaid on a 2-D surface.

Controls (drawn by the browser): a surface chooser (the six named surfaces and the
linear-regression loss), one checkbox per method, a log-scale learning-rate slider,
momentum and steps sliders, the start point (type it, or click on the contour plot),
and a Play button that animates the steps. Panels: contours with the paths, the loss
``f(x_k) - f*`` against the step on a log scale, and a readout (final loss, steps to
tolerance, "diverged at step k").

The browser computes the runs itself (``course_widgets.js``, tested equal to
:func:`lessons_lib.optimizers.run`); Python holds the state as traits and computes the
same runs with :func:`lessons_lib.optimizers.run` for :attr:`TrajectoryExplorer.runs`
and :meth:`TrajectoryExplorer.readout_lines`, so a notebook cell can print the readout.
"""

from __future__ import annotations

import numpy as np
import traitlets as t

from .. import _validate, optimizers, plotting, surfaces
from ..optimizers import Trajectory
from ._base import Control, CourseWidget, Integer, Readout, Real, surface_spec

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
LR_RANGE = (10.0 ** LR_EXPONENTS[0], 10.0 ** LR_EXPONENTS[1])
MOMENTUM_MAX = 0.99
MAX_STEPS = 2000
PLAY_FPS = 25  # Play's nominal frame rate


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


class _MethodBox:
    """``.value``: is the method ticked (the earlier checkbox of one method)."""

    def __init__(self, widget: TrajectoryExplorer, method: str) -> None:
        self._widget, self._method = widget, method

    @property
    def value(self) -> bool:
        return self._method in self._widget.methods

    @value.setter
    def value(self, on: bool) -> None:
        now = set(self._widget.methods)
        now = now | {self._method} if on else now - {self._method}
        self._widget.methods = [m for m in METHODS if m in now]


class TrajectoryExplorer(CourseWidget):
    """Interactive comparison of the three optimizers on one surface.

    Parameters
    ----------
    surface : a name from :func:`available_surfaces`.
    lr : learning rate in [1e-5, 10^0.5] (default: a good value for the surface).
    momentum : momentum coefficient in [0, 0.99] (gradient descent ignores it).
    steps : number of steps, 1..2000.
    start : start point ``(x, y)`` (default: the surface's).
    methods : the methods shown at first, from ``("gd", "momentum", "nesterov")``.
    tol : tolerance of "steps to tolerance" on ``f - f*``.

    Traits (synced with the browser; set them from a cell and the figure follows):
    ``surface``, ``lr``, ``momentum``, ``steps``, ``start_x``, ``start_y``, ``methods``
    (ticked methods, in the order above), ``frame`` (the step shown, 0..steps; Play moves
    it), ``tol``, ``play_fps``; ``surface_specs`` and ``lr_range`` are sent once. Setting
    ``surface`` moves the start to the surface's and the learning rate to its default (as the
    chooser does); setting ``steps`` shows all steps.

    Computed from the traits with :func:`lessons_lib.optimizers.run`: ``runs`` (method ->
    :class:`~lessons_lib.optimizers.Trajectory`), :meth:`readout_lines`,
    ``current_surface`` (the :class:`~lessons_lib.surfaces.Surface`), ``start``.

    For cells written against the earlier ipywidgets version, ``lr_slider``,
    ``momentum_slider``, ``steps_slider``, ``surface_dropdown``, ``x0``, ``y0`` and
    ``frame_slider`` have a ``.value`` that reads and writes the trait, ``method_boxes``
    maps each method to one, and ``readout.value`` is the readout as HTML.
    """

    _description = "trajectory explorer"
    kind = t.Unicode("explorer").tag(sync=True)
    surface = t.Unicode("rosenbrock").tag(sync=True)
    surface_specs = t.Dict().tag(sync=True)
    lr = Real(1e-3, *LR_RANGE).tag(sync=True)
    lr_range = t.List(t.Float(), default_value=list(LR_RANGE), read_only=True).tag(sync=True)
    momentum = Real(0.9, 0.0, MOMENTUM_MAX).tag(sync=True)
    steps = Integer(300, 1, MAX_STEPS).tag(sync=True)
    start_x = Real(-1.5).tag(sync=True)
    start_y = Real(2.0).tag(sync=True)
    methods = t.List(t.Unicode(), default_value=list(METHODS)).tag(sync=True)
    frame = Integer(300, 0, MAX_STEPS).tag(sync=True)
    tol = Real(1e-6, 0.0, None, low_open=True).tag(sync=True)
    play_fps = Integer(PLAY_FPS, 1, 60).tag(sync=True)

    def __init__(self, surface: str = "rosenbrock", lr: float | None = None, momentum: float = 0.9,
                 steps: int = 300, start: object = None, methods: tuple[str, ...] = METHODS,
                 tol: float = 1e-6) -> None:
        self.surfaces = available_surfaces()
        _validate.one_of(surface, "surface", self.surfaces)
        s = self.surfaces[surface]
        start = s.start if start is None else self._check_start(start)
        steps = _validate.integer(steps, "steps", 1, MAX_STEPS)
        self._cache: tuple | None = None
        specs = {name: surface_spec(surf, default_lr=DEFAULT_LR[name])
                 for name, surf in self.surfaces.items()}
        super().__init__(surface_specs=specs, surface=surface, lr=DEFAULT_LR[surface] if lr is None else lr,
                         momentum=momentum, steps=steps, start_x=float(start[0]), start_y=float(start[1]),
                         methods=list(methods), frame=steps, tol=tol)
        # Observers that keep the state consistent, registered after the constructor's values.
        self.observe(self._on_surface, names="surface")
        self.observe(self._on_steps, names="steps")

        self.lr_slider = Control(self, "lr")
        self.momentum_slider = Control(self, "momentum")
        self.steps_slider = Control(self, "steps")
        self.surface_dropdown = Control(self, "surface")
        self.x0 = Control(self, "start_x")
        self.y0 = Control(self, "start_y")
        self.frame_slider = Control(self, "frame")
        self.method_boxes = {m: _MethodBox(self, m) for m in METHODS}
        self.readout = Readout(self.readout_lines)

    # --- validation --------------------------------------------------------------

    @staticmethod
    def _check_start(start: object) -> np.ndarray:
        start = _validate.finite(start, "start")
        if start.shape != (2,):
            raise ValueError(f"start must have shape (2,), one point (x, y); got shape {start.shape}")
        return start

    @t.validate("surface")
    def _valid_surface(self, proposal) -> str:
        return _validate.one_of(proposal.value, "surface", self.surfaces)

    @t.validate("methods")
    def _valid_methods(self, proposal) -> list[str]:
        chosen = list(proposal.value)
        for m in chosen:
            _validate.one_of(m, "methods", METHODS)
        return [m for m in METHODS if m in chosen]  # in the canonical order, without repeats

    @t.validate("frame")
    def _valid_frame(self, proposal) -> int:
        return _validate.integer(proposal.value, "frame", 0, self.steps)

    # --- observers ---------------------------------------------------------------

    def _on_surface(self, change) -> None:
        s = self.current_surface
        with self.hold_sync():
            self.start_x, self.start_y = float(s.start[0]), float(s.start[1])
            self.lr = DEFAULT_LR[s.name]
            self.frame = self.steps

    def _on_steps(self, change) -> None:
        self.frame = self.steps

    # --- the runs, computed from the traits -----------------------------------------

    @property
    def current_surface(self) -> surfaces.Surface:
        return self.surfaces[self.surface]

    @property
    def start(self) -> np.ndarray:
        return np.array([self.start_x, self.start_y])

    @property
    def runs(self) -> dict[str, Trajectory]:
        """``optimizers.run`` for each ticked method at the current traits (recomputed when they change)."""
        key = (self.surface, self.lr, self.momentum, self.steps, self.start_x, self.start_y,
               tuple(self.methods))
        if self._cache is None or self._cache[0] != key:
            s = self.current_surface
            runs = {m: optimizers.run(s, self.start, m, self.lr, 0.0 if m == "gd" else self.momentum,
                                      self.steps)
                    for m in METHODS if m in self.methods}
            self._cache = (key, runs)
        return self._cache[1]

    def readout_lines(self) -> list[str]:
        """The readout as plain text, one line per shown method (what the browser shows under the figure)."""
        return [describe(traj, self.tol) for traj in self.runs.values()] or ["(no method selected)"]

    def set_start(self, x: float, y: float) -> None:
        """Move the start point (what a click on the contour plot does), rounded to 3 decimals."""
        x = float(_validate.finite(x, "x"))
        y = float(_validate.finite(y, "y"))
        with self.hold_sync():
            self.start_x, self.start_y = round(x, 3), round(y, 3)

    def update(self) -> None:
        """Nothing to do: the browser redraws on every change (kept for cells that call it)."""

    # --- the static picture ----------------------------------------------------------

    def static_figure(self):
        from matplotlib.figure import Figure

        s = self.current_surface
        fig = Figure(figsize=(10.0, 4.0), dpi=80)
        ax_c, ax_l = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
        plotting.contour(ax_c, s)
        if s.name == "linear_regression":  # the parameters' names, as the browser draws them
            ax_c.set_xlabel(r"$\theta_0$")
            ax_c.set_ylabel(r"$\theta_1$")
        for m, traj in self.runs.items():
            k = min(self.frame, traj.steps)
            plotting.path(ax_c, traj.points[: k + 1], m)
            plotting.loss_curve(ax_l, traj.losses[: k + 1], s.f_min, m)
        ax_c.plot([self.start_x], [self.start_y], "s", color="k", markersize=7)
        if self.runs:
            ax_c.legend(loc="upper right", fontsize=9.5, frameon=True, framealpha=0.85)  # over contours
        ax_c.set_title(s.formula, fontsize=9.5)
        ax_l.set_title("loss against step")
        ax_l.set_xlim(0, self.steps)
        if s.f_min is None:  # no minimum (a saddle): the browser's window, 25 below to 5 above f(x0)
            f0 = float(s.f(np.array([self.start_x, self.start_y])))
            ax_l.set_ylim(f0 - 25.0, f0 + 5.0)
        fig.tight_layout()
        return fig
