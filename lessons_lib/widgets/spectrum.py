"""Many eigenvalues: each eigen-component's error against the step, for gradient descent and the heavy ball.

The quadratic ``f(x) = 0.5 sum_i lam_i x_i^2`` has the spread spectrum ``lam_i = 2^-i``,
``i = 0 .. n-1`` (so ``L = 1`` and ``kappa = 2^(n-1)``), and every eigen-component starts
at error 1. Each method acts on each component on its own:

* gradient descent: ``x_k = (1 - lr lam)^k``;
* the heavy ball (PyTorch's momentum, buffer starting at 0, so ``x_{-1} = x_0``):
  ``x_{k+1} = t x_k - beta x_{k-1}`` with ``t = 1 + beta - lr lam``, ``x_0 = 1``,
  ``x_1 = 1 - lr lam``; the first entry of ``M^k (1, 1)`` for the 2x2 matrix
  ``M = [[t, -beta], [1, 0]]`` (:func:`lessons_lib.theory.momentum_matrix`).

:func:`component_errors` computes ``x_k`` in closed form from the matrix power. By
Cayley-Hamilton, ``M^k = s_k M - beta s_{k-1} I`` with ``s_0 = 0``, ``s_1 = 1``,
``s_{k+1} = t s_k - beta s_{k-1}``, so ``x_k = s_k x_1 - beta s_{k-1}``; with ``r = sqrt(beta)``
and ``a = |t| / (2 r)``, ``s_k = sign(t)^(k-1) r^(k-1) S_k`` where ``S_k = sin(k th) / sin th``
(``a = cos th < 1``: complex roots, ripples at rate ``r``), ``sinh(k ph) / sinh ph``
(``a = cosh ph > 1``: real roots) or ``k`` (``a = 1``: a double root). A component whose
``|x_k|`` passes ``ESCAPE`` has diverged: NaN from that step on (the browser stops there too).

The widget draws ``|x_k|`` of every component on a log axis for both methods (one curve per
component, coloured by its eigenvalue, with a colour bar), and the total loss
``f(x_k) = 0.5 sum_i lam_i x_{i,k}^2``; the eta and beta sliders move every curve at once,
computed in the browser (``course_widgets.js``, tested equal to these functions). The
readout names the component that sets each method's pace: the one with the largest
spectral radius (:func:`lessons_lib.theory.momentum_rate` of its eigenvalue alone).
"""

from __future__ import annotations

import html

import numpy as np
import traitlets as t

from .. import _validate, plotting, theory
from ._base import Action, Control, CourseWidget, Integer, Readout, Real
from .rate_map import BETA_MAX, LR_MAX, LR_MIN, steps_to_shrink

N_RANGE = (2, 16)
STEPS_RANGE = (10, 2000)
ESCAPE = 1e6  # |error| beyond this: the component has diverged
PACE_RTOL = 1e-6  # components whose rates agree to this share the pace (double roots: ~1e-8 apart)
METHODS = ("gd", "momentum")
LABELS = {"gd": "gradient descent", "momentum": "heavy ball"}


def eigenvalues(n: int) -> np.ndarray:
    """``lam_i = 2^-i`` for ``i = 0 .. n-1``, largest first."""
    n = _validate.integer(n, "n", *N_RANGE)
    return 2.0 ** -np.arange(n, dtype=float)


def _check(lr: object, beta: object, steps: object) -> tuple[float, float, int]:
    lr = float(_validate.in_range(lr, "lr", 0.0, None, low_open=True))
    beta = float(_validate.in_range(beta, "beta", 0.0, 1.0, high_open=True))
    steps = _validate.integer(steps, "steps", 1, 100_000)
    return lr, beta, steps


def _cut_at_escape(x: np.ndarray) -> np.ndarray:
    """NaN from the first step whose |x| passes ESCAPE (or is not finite), per row."""
    bad = ~(np.abs(x) <= ESCAPE)
    gone = np.cumsum(bad, axis=-1) > 0
    return np.where(gone, np.nan, x)


def component_errors(lr: float, beta: float, lams: object, steps: int) -> np.ndarray:
    """The error ``x_k`` of each eigen-component, closed form, shape ``(len(lams), steps + 1)``.

    ``beta = 0`` is gradient descent, ``x_k = (1 - lr lam)^k``; otherwise the heavy ball from
    ``x_0 = x_{-1} = 1`` through the matrix power (see the module's docstring). NaN from the
    step a component's ``|x_k|`` passes ``ESCAPE``.
    """
    lr, beta, steps = _check(lr, beta, steps)
    lam = np.atleast_1d(_validate.positive(lams, "lams"))
    if lam.ndim != 1:
        raise ValueError(f"lams must be a 1-D array; got shape {lam.shape}")
    k = np.arange(steps + 1, dtype=float)[None, :]
    x1 = (1.0 - lr * lam)[:, None]
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        if beta == 0.0:
            return _cut_at_escape(x1**k)
        t_ = (1.0 + beta - lr * lam)[:, None]
        r = np.sqrt(beta)
        a = np.abs(t_) / (2.0 * r)
        sign = np.where(t_ < 0.0, -1.0, 1.0)

        def s(j: np.ndarray) -> np.ndarray:
            """s_j = sign^(j-1) r^(j-1) S_j, for j >= 0 (s_0 = 0)."""
            theta = np.arccos(np.minimum(a, 1.0))
            phi = np.arccosh(np.maximum(a, 1.0))
            cplx = np.power(r, j - 1.0) * np.sin(j * theta) / np.sin(theta)
            # r^(j-1) sinh(j phi) / sinh(phi), in logs so that it overflows only as the error does
            real = (np.exp((j - 1.0) * np.log(r) + j * phi) * -np.expm1(-2.0 * j * phi)
                    / (2.0 * np.sinh(phi)))
            double = np.power(r, j - 1.0) * j
            mag = np.where(a < 1.0, cplx, np.where(a > 1.0, real, double))
            return np.where(j == 0.0, 0.0, np.power(sign, j - 1.0) * mag)

        x = s(k) * x1 - beta * s(k - 1.0)
        x[:, 0] = 1.0
    return _cut_at_escape(x)


def spectrum_errors(lr: float, beta: float, n: int, steps: int) -> dict[str, np.ndarray]:
    """``{"gd": ..., "momentum": ...}``: :func:`component_errors` on ``lam_i = 2^-i`` for gradient
    descent (``beta = 0``) and the heavy ball (``beta``), each of shape ``(n, steps + 1)``."""
    lam = eigenvalues(n)
    return {"gd": component_errors(lr, 0.0, lam, steps), "momentum": component_errors(lr, beta, lam, steps)}


def total_loss(errors: np.ndarray, lams: np.ndarray) -> np.ndarray:
    """``f(x_k) = 0.5 sum_i lam_i x_{i,k}^2`` for each step (NaN once a component has diverged),
    summed over ``i`` in order, as the browser sums it."""
    total = np.zeros(errors.shape[1])
    for lam, x in zip(lams, errors, strict=True):
        total = total + 0.5 * lam * x * x
    return total


def component_rates(method: str, lr: float, beta: float, lams: np.ndarray) -> np.ndarray:
    """Each component's rate: ``|1 - lr lam|`` for gradient descent, the heavy ball's spectral radius."""
    if method == "gd":
        return np.abs(1.0 - lr * lams)
    return np.array([float(theory.momentum_rate(lr, beta, [lam])) for lam in lams])


def pace_setters(rates: np.ndarray) -> list[int]:
    """The components with the largest rate (those within ``PACE_RTOL`` of it): they set the pace."""
    top = float(rates.max())
    return [int(i) for i in np.nonzero(rates >= top * (1.0 - PACE_RTOL))[0]]


class SpectrumWidget(CourseWidget):
    """Each eigen-component's error against the step on a quadratic with ``lam_i = 2^-i``.

    Parameters
    ----------
    n : number of eigenvalues, 2..16 (``kappa = 2^(n-1)``).
    lr : the learning rate eta, in [0.001, 4] (``L = 1``, so it is ``eta L``).
    beta : the heavy ball's momentum, in [0, 0.999].
    steps : steps drawn, 10..2000.

    Traits (synced with the browser): ``n``, ``lr``, ``beta``, ``steps``. Computed from them:
    ``lams`` (the eigenvalues), ``errors`` (``{"gd", "momentum"}`` -> array ``(n, steps + 1)``,
    :func:`spectrum_errors`), ``losses`` (the total loss per method), ``rates`` (each
    component's rate per method), ``optimum`` (Polyak's pair for ``[2^-(n-1), 1]``);
    :meth:`readout_lines`, :meth:`describe`, :meth:`select_optimum`; ``lr_slider``,
    ``beta_slider``, ``optimum_button.click()``, ``readout.value`` as for the other widgets.
    """

    _description = "error of each eigen-component"
    kind = t.Unicode("spectrum").tag(sync=True)
    n = Integer(8, *N_RANGE).tag(sync=True)
    lr = Real(1.0, LR_MIN, LR_MAX).tag(sync=True)
    beta = Real(0.8, 0.0, BETA_MAX).tag(sync=True)
    steps = Integer(300, *STEPS_RANGE).tag(sync=True)

    def __init__(self, n: int = 8, lr: float = 1.0, beta: float = 0.8, steps: int = 300) -> None:
        super().__init__(n=n, lr=lr, beta=beta, steps=steps)
        self.lr_slider = Control(self, "lr")
        self.beta_slider = Control(self, "beta")
        self.optimum_button = Action(self.select_optimum)
        self.readout = Readout(self.readout_lines)

    @property
    def lams(self) -> np.ndarray:
        return eigenvalues(self.n)

    @property
    def errors(self) -> dict[str, np.ndarray]:
        return spectrum_errors(self.lr, self.beta, self.n, self.steps)

    @property
    def losses(self) -> dict[str, np.ndarray]:
        return {m: total_loss(e, self.lams) for m, e in self.errors.items()}

    @property
    def rates(self) -> dict[str, np.ndarray]:
        return {m: component_rates(m, self.lr, self.beta, self.lams) for m in METHODS}

    @property
    def optimum(self) -> tuple[float, float, float]:
        return theory.optimal_momentum(float(self.lams[-1]), 1.0)

    def select_optimum(self) -> None:
        """Set (lr, beta) to Polyak's pair for the spectrum's ends (one message)."""
        lr, beta, _ = self.optimum
        with self.hold_sync():
            self.lr, self.beta = lr, beta

    def readout_lines(self) -> list[str]:
        """The spectrum and the pair; per method the component that sets the pace, its rate and the
        steps theory gives; the total loss at the last step."""
        lams, n = self.lams, self.n
        lines = [f"n = {n} eigenvalues λᵢ = 2⁻ⁱ, i = 0..{n - 1} "
                 f"(1 down to {lams[-1]:.4g}, κ = {2 ** (n - 1)}); "
                 f"η = {self.lr:.3f}, β = {self.beta:.3f}; every component starts at error 1"]
        losses = self.losses
        for m in METHODS:
            rates = self.rates[m]
            pace = pace_setters(rates)
            rate = float(rates[pace[0]])
            who = (f"component {pace[0]} (λ = {lams[pace[0]]:.4g})" if len(pace) == 1 else
                   "components " + ", ".join(map(str, pace)) + " (all at this rate)")
            steps = steps_to_shrink(rate)
            then = ("it diverges (ρ ≥ 1)" if steps is None else
                    f"{steps} step{'s' * (steps != 1)} to shrink its error by 1e-6 (theory)")
            fastest = int(np.argmin(rates))
            lines.append(f"{LABELS[m]}: the pace is set by {who}: rate ρ = {rate:.4f}, {then}; "
                         f"the fastest is component {fastest} (ρ = {rates[fastest]:.4f})")
        parts = []
        for m in METHODS:
            last = losses[m][-1]
            parts.append(f"{LABELS[m]} {'diverged' if np.isnan(last) else format(last, '.2e')}")
        lines.append(f"total loss after {self.steps} steps (it starts at {losses['gd'][0]:.4f}): "
                     + ", ".join(parts))
        return lines

    def describe(self) -> str:
        """The readout as HTML (lines joined by ``<br>``)."""
        return "<br>".join(html.escape(line) for line in self.readout_lines())

    def static_figure(self):
        import matplotlib
        from matplotlib.colors import BoundaryNorm
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11.0, 4.0), dpi=80)
        axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1]})
        errors, k = self.errors, np.arange(self.steps + 1)
        cmap = matplotlib.colormaps["viridis"]
        colors = [cmap(SPECTRUM_COLOR_RANGE * i / max(self.n - 1, 1)) for i in range(self.n)]
        for ax, m in zip(axes[:2], METHODS, strict=True):
            for i in range(self.n):
                ax.semilogy(k, np.abs(errors[m][i]), color=colors[i], linewidth=1.3)
            ax.set_ylim(*Y_RANGE)
            ax.set_xlabel("step k")
            ax.set_ylabel("|error of component i|")
            beta = "" if m == "gd" else f", β = {self.beta:.3f}"
            ax.set_title(f"{LABELS[m]}, η = {self.lr:.3f}{beta}", fontsize=10)
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import ListedColormap

        norm = BoundaryNorm(np.arange(self.n + 1) - 0.5, self.n)
        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=ListedColormap(colors)), ax=axes[1],
                           fraction=0.06, pad=0.02, ticks=range(self.n))
        bar.ax.set_yticklabels([f"2⁻{i}" if i else "1" for i in range(self.n)])
        bar.ax.invert_yaxis()
        bar.set_label("eigenvalue λᵢ = 2⁻ⁱ of the component")
        ax = axes[2]
        for m, loss in self.losses.items():
            ax.semilogy(k, loss, color=plotting.METHOD_COLORS[m], linestyle=plotting.METHOD_LINESTYLES[m],
                        label=LABELS[m])
        ax.set_ylim(1e-20, 1e2)
        ax.set_xlabel("step k")
        ax.set_ylabel("total loss f(x_k)")
        ax.set_title("total loss", fontsize=10)
        ax.legend(loc="upper right", fontsize=10)
        fig.tight_layout()
        return fig


SPECTRUM_COLOR_RANGE = 0.9  # viridis from 0 (lam = 1) to 0.9 (the smallest lam): no pale yellow
Y_RANGE = (1e-10, 1e3)  # the error panels' y-axis
