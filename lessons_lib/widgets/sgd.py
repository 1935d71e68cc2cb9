"""The SGD explorer: minibatch SGD on the least-squares loss, beside gradient descent.

Controls: a log-scale learning-rate slider, a batch-size slider (powers of two up to
``m``, then ``m`` itself: the last position is the full batch), momentum and steps
sliders, the seed of the minibatch draws (and a "new noise" button), and a checkbox
for the running (Polyak-Ruppert) average of the iterates. Panels: the contours of
``J(theta)`` with the SGD path, its running average and the full-batch path for the
same learning rate and momentum (grey); the distance ``||theta_k - theta*||`` to the
least-squares solution against the step on a log scale; and a readout.

The browser draws and computes (``course_widgets.js``): the minibatch indices are drawn
here with numpy's generator (as :func:`sgd_path` draws them) and sent once per seed, for
every batch size, as bytes; from them the browser recomputes the SGD path, its running
average and gradient descent for any lr, momentum and step count, tested equal to
:func:`sgd_path`, :func:`running_average` and :func:`lessons_lib.optimizers.run`.
Python holds the state as traits and computes the same numbers for
:meth:`SGDExplorer.readout_lines`.
"""

from __future__ import annotations

import numpy as np
import traitlets as t

from .. import _validate, optimizers, plotting, surfaces
from ._base import Action, Control, CourseWidget, Integer, Readout, Real, surface_spec

LR_EXPONENTS = (-3.0, 0.3)  # the slider spans 10^-3 .. 10^0.3 (about 2)
MOMENTUM_MAX = 0.95
STEPS_RANGE = (10, 2000)
SEED_MAX = 2**32 - 1
COLORS = {"sgd": "#E69F00", "average": "#CC79A7", "gd": "#555555"}  # as in the browser (Okabe-Ito)
MAX_DRAWS = 4_000_000  # minibatch indices sent for all batch sizes at once, at most


def format_distance(d: float) -> str:
    """A distance to theta* for the readout: ``= 1.23e-04``, or ``< 1e-12`` where it is rounding noise
    (theta* itself is only known to about 1e-15, and those last digits differ between CPUs)."""
    return "< 1e-12" if d < 1e-12 else f"= {d:.2e}"


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


def minibatch_draws(m: int, batch_size: int, rows: int, seed: int) -> np.ndarray:
    """The minibatch indices :func:`sgd_path` draws: ``default_rng(seed).integers(0, m, (rows, batch_size))``.

    The generator fills the array row by row, so the first ``steps`` rows are the draws of
    a run of ``steps`` steps (tests check this): one array serves every step count.
    """
    return np.random.default_rng(seed).integers(0, m, size=(rows, batch_size))


def _index_dtype(m: int) -> str:
    return "uint8" if m <= 256 else "uint16" if m <= 65536 else "uint32"


class SGDExplorer(CourseWidget):
    """Interactive minibatch SGD on the least-squares loss, compared with gradient descent.

    Parameters
    ----------
    x, y : the data (default: :func:`lessons_lib.surfaces.regression_data`, m = 40).
    lr : learning rate in [1e-3, 10^0.3].
    batch_size : an integer in [1, m] (``m`` is the full batch).
    steps : number of steps in [10, 2000].
    seed : seed of the minibatch draws, in [0, 2**32 - 1].
    momentum : in [0, 0.95].

    Traits (synced with the browser): ``lr``, ``batch_size``, ``momentum``, ``steps``,
    ``seed``, ``show_average``; sent once: ``lr_range``, ``data_x``, ``data_y``, ``surface_spec``,
    ``star`` (theta*), ``batch_options``; per seed: ``draws`` (bytes, the minibatch indices of
    every batch size, see :func:`minibatch_draws`) and ``draws_layout``.

    Computed from the traits: ``points`` and ``diverged_at`` (:func:`sgd_path`), ``average``
    (:func:`running_average`), ``gd`` (:func:`lessons_lib.optimizers.run`, full batch, same lr
    and momentum), :meth:`readout_lines`; ``surface``, ``theta_star``, ``start``, ``m``.

    For cells written against the earlier ipywidgets version: ``lr_slider``,
    ``batch_slider`` (with ``.options``), ``momentum_slider``, ``steps_slider``, ``seed_box``,
    ``average_box`` (``.value`` reads and writes the trait), ``noise_button.click()``,
    ``readout.value`` (HTML).
    """

    _description = "SGD explorer"
    kind = t.Unicode("sgd").tag(sync=True)
    lr = Real(0.3, 10.0 ** LR_EXPONENTS[0], 10.0 ** LR_EXPONENTS[1]).tag(sync=True)
    lr_range = t.List(t.Float(), default_value=[10.0**e for e in LR_EXPONENTS], read_only=True).tag(sync=True)
    batch_size = Integer(1, 1, None).tag(sync=True)
    momentum = Real(0.0, 0.0, MOMENTUM_MAX).tag(sync=True)
    steps = Integer(1000, *STEPS_RANGE).tag(sync=True)
    seed = Integer(0, 0, SEED_MAX).tag(sync=True)
    show_average = t.Bool(False).tag(sync=True)
    data_x = t.List(t.Float()).tag(sync=True)
    data_y = t.List(t.Float()).tag(sync=True)
    surface_spec = t.Dict().tag(sync=True)
    star = t.List(t.Float()).tag(sync=True)  # theta*, the least-squares solution
    batch_options = t.List(t.Int()).tag(sync=True)
    draws = t.Bytes(b"").tag(sync=True)
    draws_layout = t.Dict().tag(sync=True)

    def __init__(self, x: object = None, y: object = None, lr: float = 0.3, batch_size: int = 1,
                 steps: int = 1000, seed: int = 0, momentum: float = 0.0) -> None:
        if x is None and y is None:
            x, y = surfaces.regression_data()
        self.surface = surfaces.linear_regression(x, y)  # validates x and y
        self.x = np.asarray(x, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64)
        self.m = self.x.size
        batch_size = _validate.integer(batch_size, "batch_size", 1, self.m)
        self.theta_star = self.surface.minima[0]
        self.start = self.surface.start
        self._cache: tuple | None = None
        super().__init__(lr=lr, batch_size=batch_size, momentum=momentum, steps=steps, seed=seed,
                         data_x=self.x.tolist(), data_y=self.y.tolist(),
                         surface_spec=surface_spec(self.surface, data=(self.x, self.y)),
                         star=[float(v) for v in self.theta_star],
                         batch_options=sorted({*batch_sizes(self.m), batch_size}))
        self._send_draws()
        self.observe(self._draws_needed, names=["seed", "batch_size"])

        self.lr_slider = Control(self, "lr")
        self.batch_slider = Control(self, "batch_size", options="batch_options")
        self.momentum_slider = Control(self, "momentum")
        self.steps_slider = Control(self, "steps")
        self.seed_box = Control(self, "seed")
        self.average_box = Control(self, "show_average")
        self.noise_button = Action(self.new_noise)
        self.readout = Readout(self.readout_lines)

    @t.validate("batch_size")
    def _valid_batch(self, proposal) -> int:
        return _validate.integer(proposal.value, "batch_size", 1, self.m)

    # --- the minibatch draws, sent to the browser once per seed ---------------------------

    def _send_draws(self) -> None:
        """Send the draws of the current seed: for every batch size (one message), or, when
        that would be too many numbers, for the current batch size only."""
        rows = STEPS_RANGE[1]
        B = self.batch_size
        if B not in self.batch_options:
            self.batch_options = sorted({*self.batch_options, B})
        sizes = [b for b in self.batch_options if b != self.m]
        if rows * sum(sizes) > MAX_DRAWS:
            sizes = [] if B == self.m else [B]
        dtype = _index_dtype(self.m)
        little_endian = np.dtype(dtype).newbyteorder("<")  # the browser reads little-endian
        data = b"".join(minibatch_draws(self.m, b, rows, self.seed).astype(little_endian).tobytes()
                        for b in sizes)
        with self.hold_sync():
            self.draws = data
            self.draws_layout = {"seed": self.seed, "dtype": dtype, "rows": rows, "sizes": sizes}

    def _draws_needed(self, change) -> None:
        layout = self.draws_layout
        if layout.get("seed") != self.seed or (self.batch_size != self.m
                                               and self.batch_size not in layout.get("sizes", [])):
            self._send_draws()

    # --- the paths, computed from the traits ------------------------------------------------

    def _compute(self) -> tuple:
        key = (self.lr, self.batch_size, self.momentum, self.steps, self.seed)
        if self._cache is None or self._cache[0] != key:
            beta = self.momentum
            points, diverged_at = sgd_path(self.x, self.y, self.start, self.lr, self.batch_size,
                                           self.steps, self.seed, beta)
            gd = optimizers.run(self.surface, self.start, "gd" if beta == 0 else "momentum", self.lr, beta,
                                self.steps)
            self._cache = (key, (points, diverged_at, running_average(points), gd))
        return self._cache[1]

    @property
    def points(self) -> np.ndarray:
        """The SGD iterates, shape ``(steps + 1, 2)`` (NaN after a divergence)."""
        return self._compute()[0]

    @property
    def diverged_at(self) -> int | None:
        return self._compute()[1]

    @property
    def average(self) -> np.ndarray:
        """The running (Polyak-Ruppert) average of the SGD iterates, shape ``(steps + 1, 2)``."""
        return self._compute()[2]

    @property
    def gd(self):
        """Full-batch gradient descent (with the same momentum) from the same start."""
        return self._compute()[3]

    def _distance(self, points: np.ndarray) -> np.ndarray:
        return np.maximum(np.linalg.norm(points - self.theta_star, axis=1), 1e-300)

    def readout_lines(self) -> list[str]:
        """The readout as plain text: SGD, the running average and gradient descent."""
        B, steps = self.batch_size, self.steps
        gd_name = "full-batch GD" if self.momentum == 0 else "full-batch GD with momentum"
        sgd_name = f"SGD, batch {B} of {self.m}" + (" (the full batch: SGD is GD)" if B == self.m else "")
        if self.diverged_at is not None:
            lines = [f"{sgd_name}: diverged at step {self.diverged_at}",
                     "running average of the SGD iterates: undefined (SGD diverged)"]
        else:
            final = self._distance(self.points)[-1]
            lines = [f"{sgd_name}: ||theta_k - theta*|| {format_distance(final)} at step {steps}",
                     f"running average of the SGD iterates: ||mean - theta*|| "
                     f"{format_distance(self._distance(self.average)[-1])}"]
        if self.gd.diverged:
            lines.append(f"{gd_name}: diverged at step {self.gd.diverged_at}")
        else:
            gd_distance = format_distance(self._distance(self.gd.points)[-1])
            lines.append(f"{gd_name}: ||theta_k - theta*|| {gd_distance}")
        return lines

    def new_noise(self) -> None:
        """Draw other minibatches: the next seed (what the "new noise" button does)."""
        self.seed = (self.seed + 1) % (SEED_MAX + 1)

    def update(self) -> None:
        """Nothing to do: the browser redraws on every change (kept for cells that call it)."""

    # --- the static picture ----------------------------------------------------------------

    def static_figure(self):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(9.0, 3.9), dpi=80)
        ax, axd = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.25]})
        plotting.contour(ax, self.surface)
        ax.plot(*self.start, "s", color="k", markersize=6)
        k = np.arange(self.steps + 1)
        ax.plot(*self.gd.points.T, "-", color=COLORS["gd"], linewidth=1.6, label="full-batch GD")
        ax.plot(*self.points.T, "o-", color=COLORS["sgd"], markersize=2, linewidth=0.7, label="SGD")
        axd.semilogy(k, self._distance(self.gd.points), color=COLORS["gd"], label="full-batch GD")
        axd.semilogy(k, self._distance(self.points), color=COLORS["sgd"], label="SGD")
        if self.show_average:
            ax.plot(*self.average.T, "--", color=COLORS["average"], linewidth=2.0, label="running average")
            axd.semilogy(k, self._distance(self.average), "--", color=COLORS["average"],
                         label="running average")
        ax.set_xlabel("θ₀")
        ax.set_ylabel("θ₁")
        ax.set_title(f"least squares on m = {self.m} points (square: start)", fontsize=9)
        axd.set_ylim(1e-7, 10.0 * float(np.linalg.norm(self.start - self.theta_star)))
        axd.set_xlabel("step k")
        axd.set_ylabel(r"$\|\theta^{(k)} - \theta^\star\|$")
        axd.set_title("distance to the least-squares solution")
        axd.legend(loc="lower right", fontsize=8.5)
        ax.legend(loc="best", fontsize=8.5)
        fig.tight_layout()
        return fig
