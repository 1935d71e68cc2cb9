"""The SGD explorer: minibatch SGD on the least-squares loss, beside gradient descent.

Controls: a log-scale learning-rate slider, a batch-size slider (powers of two up to
``m``, then ``m`` itself: the last position is the full batch), momentum and steps
sliders, the seed of the minibatch draws (and a "new noise" button), and a checkbox
for the running (Polyak-Ruppert) average of the iterates. Panels: the contours of
``J(theta)`` with the SGD path, its running average and the full-batch path for the
same learning rate and momentum (grey); the distance ``||theta_k - theta*||`` to the
least-squares solution against the step on a log scale; and a readout.

The numbers come from :func:`sgd_path` (written out below) and
:func:`lessons_lib.optimizers.run`; a slider change recomputes both (a few
milliseconds for the default 1,000 steps) and redraws only the lines.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np

from .. import _validate, live, optimizers, plotting, surfaces

LR_EXPONENTS = (-3.0, 0.3)  # the slider spans 10^-3 .. 10^0.3 (about 2)
MOMENTUM_MAX = 0.95
STEPS_RANGE = (10, 2000)
SEED_MAX = 2**32 - 1
COLORS = {"sgd": "#ff7f0e", "average": "#2ca02c", "gd": "0.45"}


def batch_sizes(m: int) -> list[int]:
    """The batch-size slider's positions: 1, 2, 4, ... below ``m``, then ``m`` (the full batch)."""
    m = _validate.integer(m, "m", 1, None)
    sizes = [1 << k for k in range(m.bit_length()) if (1 << k) < m]
    return [*sizes, m]


def sgd_path(x: object, y: object, start: object, lr: float, batch_size: int, steps: int, seed: int,
             momentum: float = 0.0) -> tuple[np.ndarray, int | None]:
    """Minibatch SGD (with optional heavy-ball momentum) on the least-squares loss of the line.

    The loss is ``J(theta) = 1/(2m) sum_i (theta0 + theta1 x_i - y_i)^2``
    (:func:`lessons_lib.surfaces.linear_regression`). Step ``k`` draws a minibatch ``I_k`` of
    ``batch_size`` indices *with replacement* (``np.random.default_rng(seed).integers``, all
    steps drawn at once), and with ``r_i = theta0 + theta1 x_i - y_i``

        g_k = 1/B sum_{i in I_k} r_i (1, x_i),
        b_k = momentum b_{k-1} + g_k,   theta_k = theta_{k-1} - lr b_k

    (PyTorch's form of momentum, ``b_0 = 0``). With ``batch_size == m`` there is no sampling:
    every step uses the whole data set in order, so the path is gradient descent (momentum)
    on ``J`` up to rounding, and ``seed`` does not matter.

    Parameters
    ----------
    x, y : the data, 1-D arrays of one length ``m >= 2``.
    start : ``theta_0``, shape ``(2,)``.
    lr : learning rate > 0.
    batch_size : ``B``, an integer in ``[1, m]``.
    steps : number of steps, an integer in ``[0, 1_000_000]``.
    seed : seed of the minibatch draws, an integer in ``[0, 2**32 - 1]``.
    momentum : in ``[0, 1)``.

    Returns
    -------
    points : shape ``(steps + 1, 2)``, ``theta_0 .. theta_steps``; NaN after a divergence.
    diverged_at : the first step whose iterate is not finite or leaves the square
        ``max(|theta0|, |theta1|) <= surface.escape_radius`` (as in :mod:`lessons_lib.optimizers`),
        or ``None``. The path stops there, without numpy warnings.
    """
    surface = surfaces.linear_regression(x, y)  # validates x and y
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    m = x.size
    start = _validate.finite(start, "start")
    if start.shape != (2,):
        raise ValueError(f"start must have shape (2,), one point (theta0, theta1); got shape {start.shape}")
    lr = float(_validate.positive(lr, "lr"))
    batch_size = _validate.integer(batch_size, "batch_size", 1, m)
    steps = _validate.integer(steps, "steps", 0, optimizers.MAX_STEPS)
    seed = _validate.integer(seed, "seed", 0, SEED_MAX)
    beta = float(_validate.in_range(momentum, "momentum", 0.0, 1.0, high_open=True))

    full_batch = batch_size == m
    if not full_batch:
        batches = np.random.default_rng(seed).integers(0, m, size=(steps, batch_size))
    radius = surface.escape_radius
    points = np.full((steps + 1, 2), np.nan)
    t0, t1 = float(start[0]), float(start[1])
    points[0] = t0, t1
    b0 = b1 = 0.0
    with np.errstate(all="ignore"):  # a diverging run overflows; the check below reports it
        for k in range(1, steps + 1):
            if full_batch:
                xb, yb = x, y
            else:
                rows = batches[k - 1]
                xb, yb = x[rows], y[rows]
            r = t0 + t1 * xb - yb
            g0, g1 = float(r.mean()), float((r * xb).mean())
            b0 = beta * b0 + g0
            b1 = beta * b1 + g1
            t0 -= lr * b0
            t1 -= lr * b1
            if not (abs(t0) <= radius and abs(t1) <= radius):  # NaN fails too
                return points, k
            points[k] = t0, t1
    return points, None


def running_average(points: np.ndarray) -> np.ndarray:
    """Polyak-Ruppert averages: row ``k`` is ``(theta_1 + ... + theta_k) / k``, row 0 is ``theta_0``.

    ``points`` has shape ``(n, 2)``; NaN rows (after a divergence) make the later averages NaN.
    """
    points = _validate.as_float_array(points, "points")
    avg = points.copy()
    avg[1:] = np.cumsum(points[1:], axis=0) / np.arange(1, len(points))[:, None]
    return avg


class SGDExplorer:
    """Interactive minibatch SGD on the least-squares loss, compared with gradient descent.

    Parameters
    ----------
    x, y : the data (default: :func:`lessons_lib.surfaces.regression_data`, m = 40).
    lr : learning rate in [1e-3, 10^0.3].
    batch_size : an integer in [1, m] (``m`` is the full batch).
    steps : number of steps in [10, 2000].
    seed : seed of the minibatch draws, in [0, 2**32 - 1].
    momentum : in [0, 0.95].

    Attributes used by tests and notebooks: ``lr_slider``, ``batch_slider``,
    ``momentum_slider``, ``steps_slider``, ``seed_box``, ``noise_button``, ``average_box``,
    ``readout``; artists ``sgd_line``, ``average_line``, ``gd_line`` (paths) and
    ``sgd_dist``, ``average_dist``, ``gd_dist`` (distance curves); results ``points``,
    ``average``, ``diverged_at``, ``gd`` (a :class:`~lessons_lib.optimizers.Trajectory`);
    ``surface``, ``theta_star``, ``start``; ``fig``, ``widget``.
    """

    def __init__(self, x: object = None, y: object = None, lr: float = 0.3, batch_size: int = 1,
                 steps: int = 1000, seed: int = 0, momentum: float = 0.0) -> None:
        if x is None and y is None:
            x, y = surfaces.regression_data()
        self.surface = surfaces.linear_regression(x, y)
        self.x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.m = self.x.size
        lr = float(_validate.in_range(lr, "lr", 10.0 ** LR_EXPONENTS[0], 10.0 ** LR_EXPONENTS[1]))
        batch_size = _validate.integer(batch_size, "batch_size", 1, self.m)
        momentum = float(_validate.in_range(momentum, "momentum", 0.0, MOMENTUM_MAX))
        steps = _validate.integer(steps, "steps", *STEPS_RANGE)
        seed = _validate.integer(seed, "seed", 0, SEED_MAX)
        self.theta_star = self.surface.minima[0]
        self.start = self.surface.start

        self.lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=LR_EXPONENTS[0], max=LR_EXPONENTS[1],
                                                step=0.01, description="lr", readout_format=".3g",
                                                continuous_update=True)
        options = sorted({*batch_sizes(self.m), batch_size})
        self.batch_slider = widgets.SelectionSlider(options=options, value=batch_size,
                                                    description="batch size", continuous_update=True)
        self.momentum_slider = widgets.FloatSlider(value=momentum, min=0.0, max=MOMENTUM_MAX, step=0.01,
                                                   description="momentum", continuous_update=True)
        self.steps_slider = widgets.IntSlider(value=steps, min=STEPS_RANGE[0], max=STEPS_RANGE[1], step=10,
                                              description="steps", continuous_update=False)
        self.seed_box = widgets.BoundedIntText(value=seed, min=0, max=SEED_MAX, description="seed",
                                               layout=widgets.Layout(width="180px"))
        self.noise_button = widgets.Button(description="new noise",
                                           tooltip="draw other minibatches (seed + 1)")
        self.average_box = widgets.Checkbox(
            value=False, indent=False, layout=widgets.Layout(width="420px"),
            description="show the running average of the iterates (Polyak-Ruppert)")
        self.readout = widgets.HTML()

        self._build_figure()
        self._set_steps_axis()
        self._compute()
        self._show()
        self._blitter.freeze_layout()

        for control in (self.lr_slider, self.batch_slider, self.momentum_slider, self.seed_box,
                        self.average_box):
            control.observe(self._on_change, names="value")
        self.steps_slider.observe(self._on_steps, names="value")
        self.noise_button.on_click(lambda _: self.new_noise())

        help_text = widgets.HTML("<small>Orange: SGD; green: the running average of its iterates; "
                                 "grey: full-batch gradient descent with the same lr and momentum. "
                                 "The last batch size is the full batch.</small>")
        self.widget = widgets.VBox([
            widgets.HBox([self.lr_slider, self.batch_slider, self.momentum_slider]),
            widgets.HBox([self.steps_slider, self.seed_box, self.noise_button, self.average_box]),
            help_text, self.fig.canvas, self.readout,
        ])

    # --- figure -------------------------------------------------------------

    def _build_figure(self) -> None:
        self.fig = live.figure(figsize=(9.0, 3.9))
        self.fig.set_layout_engine("constrained")
        self.ax_path, self.ax_dist = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.25]})
        ax = self.ax_path
        plotting.contour(ax, self.surface)
        ax.plot(*self.start, "s", color="k", markersize=6, zorder=6)
        ax.set_xlabel(r"$\theta_0$")
        ax.set_ylabel(r"$\theta_1$")
        ax.set_title(f"least squares on m = {self.m} points (square: start)", fontsize=9)
        (self.gd_line,) = ax.plot([], [], "-", color=COLORS["gd"], linewidth=1.6, zorder=4.5,
                                  label="full-batch GD")
        (self.sgd_line,) = ax.plot([], [], "o-", color=COLORS["sgd"], markersize=2, linewidth=0.7,
                                   alpha=0.8, zorder=4, label="SGD")
        (self.average_line,) = ax.plot([], [], "-", color=COLORS["average"], linewidth=2.0, zorder=5,
                                       label="running average")
        # The minimum again, redrawn over the (blitted) paths so that the SGD cloud cannot hide it.
        (self.star,) = ax.plot(*self.theta_star, "*", color="gold", markeredgecolor="k", markersize=12)

        axd = self.ax_dist
        (self.gd_dist,) = axd.plot([], [], color=COLORS["gd"], linewidth=1.6, label="full-batch GD")
        (self.sgd_dist,) = axd.plot([], [], color=COLORS["sgd"], linewidth=1.0, label="SGD")
        (self.average_dist,) = axd.plot([], [], color=COLORS["average"], linewidth=1.8,
                                        label="running average")
        axd.set_yscale("log")
        d0 = float(np.linalg.norm(self.start - self.theta_star))
        axd.set_ylim(1e-7, 10.0 * d0)
        axd.set_xlabel("step $k$")
        axd.set_ylabel(r"$\|\theta_k - \theta^\star\|$")
        axd.set_title("distance to the least-squares solution")
        axd.grid(True, which="major", alpha=0.3)
        axd.legend(loc="lower left", fontsize=8)
        self._blitter = live.Blitter(self.fig, [self.gd_line, self.sgd_line, self.average_line,
                                                self.gd_dist, self.sgd_dist, self.average_dist, self.star])


    def _set_steps_axis(self) -> None:
        self.ax_dist.set_xlim(0, self.steps_slider.value)

    # --- computation and drawing ----------------------------------------------

    def _compute(self) -> None:
        lr, beta = self.lr_slider.value, self.momentum_slider.value
        steps = self.steps_slider.value
        self.points, self.diverged_at = sgd_path(self.x, self.y, self.start, lr, self.batch_slider.value,
                                                 steps, self.seed_box.value, beta)
        self.average = running_average(self.points)
        self.gd = optimizers.run(self.surface, self.start, "gd" if beta == 0 else "momentum", lr, beta, steps)

    def _distance(self, points: np.ndarray) -> np.ndarray:
        return np.maximum(np.linalg.norm(points - self.theta_star, axis=1), 1e-300)

    def _show(self) -> None:
        """Put the current paths into the artists and the readout."""
        k = np.arange(len(self.points))
        self.sgd_line.set_data(self.points[:, 0], self.points[:, 1])
        self.gd_line.set_data(self.gd.points[:, 0], self.gd.points[:, 1])
        self.sgd_dist.set_data(k, self._distance(self.points))
        self.gd_dist.set_data(k, self._distance(self.gd.points))
        self.average_line.set_data(self.average[:, 0], self.average[:, 1])
        self.average_dist.set_data(k, self._distance(self.average))
        shown = self.average_box.value
        self.average_line.set_visible(shown)
        self.average_dist.set_visible(shown)
        self.readout.value = "<br>".join(html.escape(line) for line in self.readout_lines())

    def readout_lines(self) -> list[str]:
        """The readout as plain text: SGD, the running average and gradient descent."""
        B, steps = self.batch_slider.value, self.steps_slider.value
        gd_name = "full-batch GD" if self.momentum_slider.value == 0 else "full-batch GD with momentum"
        sgd_name = f"SGD, batch {B} of {self.m}" + (" (the full batch: SGD is GD)" if B == self.m else "")
        if self.diverged_at is not None:
            lines = [f"{sgd_name}: diverged at step {self.diverged_at}",
                     "running average of the SGD iterates: undefined (SGD diverged)"]
        else:
            final = self._distance(self.points)[-1]
            lines = [f"{sgd_name}: ||theta_k - theta*|| = {final:.2e} at step {steps}",
                     f"running average of the SGD iterates: ||mean - theta*|| = "
                     f"{self._distance(self.average)[-1]:.2e}"]
        if self.gd.diverged:
            lines.append(f"{gd_name}: diverged at step {self.gd.diverged_at}")
        else:
            lines.append(f"{gd_name}: ||theta_k - theta*|| = {self._distance(self.gd.points)[-1]:.2e}")
        return lines

    def update(self) -> None:
        """Recompute the paths for the controls' values and redraw the lines (a blit)."""
        self._compute()
        self._show()
        self._blitter.update()

    def new_noise(self) -> None:
        """Draw other minibatches: the next seed (what the "new noise" button does)."""
        self.seed_box.value = (self.seed_box.value + 1) % (SEED_MAX + 1)

    def _on_change(self, change) -> None:
        self.update()

    def _on_steps(self, change) -> None:
        self._set_steps_axis()
        self._compute()
        self._show()
        self.fig.canvas.draw()  # the step axis changed: a full redraw

    # --- display ------------------------------------------------------------

    def _ipython_display_(self) -> None:
        live.show(self.widget, self.fig, "SGD explorer")
