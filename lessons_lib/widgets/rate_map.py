"""The rate map: heavy-ball momentum's (or Nesterov's) convergence rate over (lr, beta), with its regimes.

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

The ``method`` trait picks the map: ``"momentum"`` (the heavy ball, as above),
``"nesterov"`` (Nesterov's rate on the same axes: :func:`lessons_lib.theory.nesterov_rate`,
its regimes :func:`~lessons_lib.theory.nesterov_regime`, its divergence edge
``lr L = (2 + 2 beta) / (1 + 2 beta)``, the curves where its roots coincide,
``lr lam = ((1 - beta) / (1 + beta))^2``, and its best pair found numerically,
:func:`~lessons_lib.theory.optimal_nesterov`), or ``"compare"`` (where each method's
worst-case rate over ``[mu, L]`` is smaller, :func:`compare_rates`: Nesterov's region in
green, the heavy ball's in vermillion, shaded by how many fewer steps the faster needs;
ties, where the rates agree to ``TIE_RTOL``, in yellow, and the line ``beta = 0`` where both
are gradient descent; both optima marked). The iterates on the right are the shown
method's (both in ``"compare"``).

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
METHODS = ("momentum", "nesterov", "compare")  # the maps the widget draws
# compare_rates' verdicts, in the order of their codes
VERDICTS = ("heavy ball faster", "Nesterov faster", "tie", "both diverge")
TIE_RTOL = 1e-9  # rates that agree to this (relative) are a tie


# --- the maths, as plain functions (what the widget draws) -------------------

def grid_axes(n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of an ``n x n`` grid: ``lr`` over ``(0, LR_MAX]`` and ``beta`` over ``[0, 1)``."""
    n = _validate.integer(n, "grid", 10, 2000)
    centres = (np.arange(n) + 0.5) / n
    return centres * LR_MAX, centres


def _check_method(method: object, allowed: tuple[str, ...] = ("momentum", "nesterov")) -> str:
    if method not in allowed:
        raise ValueError(f"method must be one of {', '.join(map(repr, allowed))}; got {method!r}")
    return str(method)


_RATES = {"momentum": theory.momentum_rate, "nesterov": theory.nesterov_rate}
_REGIMES = {"momentum": theory.momentum_regime, "nesterov": theory.nesterov_regime}


def optimum_of(method: str, mu: float, L: float = 1.0) -> tuple[float, float, float]:
    """``(lr, beta, rate)`` of the best constant pair: Polyak's for the heavy ball
    (:func:`theory.optimal_momentum`), the numerical search for Nesterov (:func:`theory.optimal_nesterov`)."""
    method = _check_method(method)
    return theory.optimal_momentum(mu, L) if method == "momentum" else theory.optimal_nesterov(mu, L)


def rate_image(lr: np.ndarray, beta: np.ndarray, mu: float, L: float = 1.0,
               method: str = "momentum") -> np.ma.MaskedArray:
    """The method's rate (``theory.momentum_rate`` or ``theory.nesterov_rate``) on the grid,
    shape ``(len(beta), len(lr))`` (rows are beta), masked where it is >= 1 (divergence)."""
    method = _check_method(method)
    rate = np.asarray(_RATES[method](lr[None, :], beta[:, None], [mu, L]))
    return np.ma.masked_where(rate >= 1.0, rate)


def compare_rates(lr: object, beta: object, mu: float, L: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Which method's worst-case rate over ``[mu, L]`` is smaller, elementwise over ``lr`` and ``beta``.

    Returns ``(code, ratio)``. ``code`` indexes :data:`VERDICTS`: 0 the heavy ball's rate is
    smaller, 1 Nesterov's, 2 a tie (they agree to a relative ``TIE_RTOL``; at ``beta = 0``
    both are gradient descent), 3 both >= 1. ``ratio`` is the faster method's steps over the
    slower's, ``log(rho_slow) / log(rho_fast)`` in ``[0, 1]``: 0 where the slower diverges
    (or the faster's rate is 0), near 1 where they are close; 1 for a tie, NaN where both diverge.
    """
    r_h = np.asarray(theory.momentum_rate(lr, beta, [mu, L]))
    r_n = np.asarray(theory.nesterov_rate(lr, beta, [mu, L]))
    fast, slow = np.minimum(r_h, r_n), np.maximum(r_h, r_n)
    tie = slow - fast <= TIE_RTOL * slow
    code = np.where(slow >= 1.0, np.where(fast >= 1.0, 3, np.where(r_n < r_h, 1, 0)),
                    np.where(tie, 2, np.where(r_n < r_h, 1, 0)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(slow >= 1.0, 0.0, np.log(slow) / np.log(fast))
    ratio = np.where(fast == 0.0, 0.0, ratio)
    ratio = np.where(code == 2, 1.0, np.where(code == 3, np.nan, ratio))
    return code, ratio


def dominant_regime(lr: object, beta: object, mu: float, L: float = 1.0,
                    method: str = "momentum") -> tuple[np.ndarray, np.ndarray]:
    """The regime of the eigen-component that sets the rate, elementwise over ``lr`` and ``beta``.

    Returns ``(regime, lam)``: the name from :func:`theory.momentum_regime` (or
    :func:`theory.nesterov_regime`) and the eigenvalue (``mu`` or ``L``) with the larger
    spectral radius. On a tie (both components in ripples with one radius, or
    ``mu == L``) a real-root regime is preferred.
    """
    method = _check_method(method)
    rate, regime = _RATES[method], _REGIMES[method]
    r_mu = np.asarray(rate(lr, beta, [mu]))
    r_L = np.asarray(rate(lr, beta, [L]))
    g_mu = np.asarray(regime(lr, beta, mu))
    g_L = np.asarray(regime(lr, beta, L))
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


def regime_label_positions(mu: float, L: float = 1.0, n: int = 160, method: str = "momentum"
                           ) -> dict[str, tuple[tuple[float, float], tuple[float, float]] | None]:
    """Where to name each regime on the map.

    A region is where :func:`dominant_regime` (for ``method``) gives that name. Returns
    ``{regime: (point, text)}``: ``point`` is the cell deepest inside the region among
    those where the name fits inside it, and then ``text == point``; for a region too
    thin for its name (oscillation along the divergence edge, say) ``point`` is its
    deepest cell and ``text`` a spot beside it, clear of the other names and of the
    optimum markers, for a label with an arrow. None when the region is empty on the grid.
    """
    lr = (np.arange(n) + 0.5) / n * LR_MAX
    beta = (np.arange(n) + 0.5) / n
    regime, _ = dominant_regime(lr[None, :], beta[:, None], mu, L, method)
    lr_opt, beta_opt, _ = optimum_of(method, mu, L)
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
    """Heavy-ball momentum's (or Nesterov's) rate over (lr, beta), with a selected pair's iterates.

    Parameters
    ----------
    kappa : condition number ``L / mu`` in [1, 1000]; the eigenvalues are ``1/kappa`` and 1.
    lr : learning rate of the selected pair, in [0.001, 4] (equal to ``lr * L`` since ``L = 1``).
    beta : momentum of the selected pair, in [0, 0.999].
    steps : steps of the run drawn on the right, 10..2000.
    start : start point ``(x, y)``, not the origin (default: the quadratic's, (-8, 3)).
    grid : cells per side of the rate image, 10..2000.
    method : ``"momentum"`` (the heavy ball's map), ``"nesterov"`` (Nesterov's) or
        ``"compare"`` (where each is faster); a selector in the figure.

    Traits (synced with the browser): ``kappa``, ``lr``, ``beta``, ``steps``, ``start_x``,
    ``start_y``, ``grid``, ``method``. Computed from them: ``mu``, ``L``, ``surface`` (the
    quadratic ``0.5 (mu x^2 + L y^2)``), ``shown_methods`` (``["momentum"]``,
    ``["nesterov"]`` or both), ``runs`` (their :class:`~lessons_lib.optimizers.Trajectory`
    for the selected pair), ``run`` and ``rate`` (the first shown method's run and rate from
    theory), ``optimum`` (its best pair: ``theory.optimal_momentum`` or
    ``theory.optimal_nesterov``), ``optimum_gd`` (``theory.optimal_gd``), ``lr_grid``,
    ``beta_grid`` (cell centres) and ``rates`` (the masked rate image, rows are beta;
    the heavy ball's in ``"compare"``); :meth:`readout_lines`, :meth:`describe` (HTML),
    :meth:`select`, :meth:`select_optimum`.

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
    method = t.Unicode("momentum").tag(sync=True)

    def __init__(self, kappa: float = 100.0, lr: float = 1.0, beta: float = 0.9, steps: int = 300,
                 start: object = None, grid: int = 300, method: str = "momentum") -> None:
        kappa = self._check_kappa(kappa)
        lr, beta = self._check_pair(lr, beta)
        method = _check_method(method, METHODS)
        if start is None:
            start = surfaces.quadratic([1.0 / kappa, 1.0]).start
        start = _validate.finite(start, "start")
        if start.shape != (2,) or not np.any(start):
            raise ValueError(f"start must be a point (x, y) other than the minimum (0, 0); got {start!r}")
        self._cache: dict = {}
        super().__init__(kappa=kappa, lr=lr, beta=beta, steps=steps, start_x=float(start[0]),
                         start_y=float(start[1]), grid=grid, method=method)
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

    @t.validate("method")
    def _valid_method(self, proposal) -> str:
        return _check_method(proposal.value, METHODS)

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
    def shown_methods(self) -> list[str]:
        """The methods whose iterates are drawn: the map's, or both when comparing."""
        return ["momentum", "nesterov"] if self.method == "compare" else [self.method]

    @property
    def runs(self) -> dict[str, Trajectory]:
        """The selected pair's runs (PyTorch's forms) from the start, one per shown method."""
        key = (self.kappa, self.lr, self.beta, self.steps, self.start_x, self.start_y)
        out = {}
        for m in self.shown_methods:
            if self._cache.get(m, (None,))[0] != key:
                run = optimizers.run(self.surface, self.start, m, self.lr, self.beta, self.steps)
                self._cache[m] = (key, run)
            out[m] = self._cache[m][1]
        return out

    @property
    def run(self) -> Trajectory:
        """The run of the first shown method (the heavy ball's when comparing)."""
        return self.runs[self.shown_methods[0]]

    def rate_of(self, method: str) -> float:
        """The worst-case rate over ``[mu, L]`` of ``method`` at the selected pair, from theory."""
        return float(_RATES[_check_method(method)](self.lr, self.beta, [self.mu, self.L]))

    @property
    def rate(self) -> float:
        return self.rate_of(self.shown_methods[0])

    @property
    def optimum(self) -> tuple[float, float, float]:
        """The best pair of the first shown method (Polyak's when comparing)."""
        return optimum_of(self.shown_methods[0], self.mu, self.L)

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
        return rate_image(self.lr_grid, self.beta_grid, self.mu, self.L, self.shown_methods[0])

    # --- the readout ------------------------------------------------------------

    def _run_text(self, run: Trajectory) -> str:
        if run.diverged:
            return f"diverged at step {run.diverged_at} (|x| passed {self.surface.escape_radius:g})"
        errors = error_norms(run.points)
        below = np.nonzero(errors <= SHRINK * errors[0])[0]
        return (f"error below 1e-6 |x₀| at step {below[0]}" if below.size else
                f"error {errors[-1] / errors[0]:.2e} |x₀| after {run.steps} steps")

    def readout_lines(self) -> list[str]:
        """The readout as plain text: rate, regimes, steps from theory, what the run did, the optimum
        (for ``"compare"``: both rates, which is faster, both runs and both optima)."""
        if self.method == "compare":
            return self._compare_lines()
        lr, beta, rate, run, method = self.lr, self.beta, self.rate, self.run, self.method
        who = "Nesterov's rate" if method == "nesterov" else "rate"
        lines = [f"lr·L = {lr:.3f}, β = {beta:.3f}, κ = {self.kappa:.4g}: "
                 f"{who} ρ = {rate:.4f} (theory: largest spectral radius over λ = μ and λ = L)"]
        parts = []
        for name, lam in (("μ", self.mu), ("L", self.L)):
            regime = str(_REGIMES[method](lr, beta, lam))
            radius = float(_RATES[method](lr, beta, [lam]))
            parts.append(f"λ = {name} = {lam:.4g}: {regime} (radius {radius:.4f})")
        lines.append("; ".join(parts))
        steps = steps_to_shrink(rate)
        if steps is None:
            lines.append(f"diverges: ρ = {rate:.4f} ≥ 1, the error grows by about {rate:.4g}× per step")
        else:
            lines.append(f"steps to shrink the error by 1e-6 (theory, ceil(log 1e-6 / log ρ)): {steps}")
        lines.append(f"the run: {self._run_text(run)}")
        lr_o, beta_o, rate_o = self.optimum
        lr_g, rate_g = self.optimum_gd
        n_o, n_g = steps_to_shrink(rate_o), steps_to_shrink(rate_g)
        best = "optimum" if method == "momentum" else "Nesterov's best (found numerically)"
        lines.append(f"{best} for κ = {self.kappa:.4g}: lr·L = {lr_o:.4f}, β = {beta_o:.4f}, "
                     f"ρ = {rate_o:.4f} (theory: {n_o} step{'s' * (n_o != 1)}); best GD: lr·L = {lr_g:.4f}, "
                     f"ρ = {rate_g:.4f} (theory: {n_g} step{'s' * (n_g != 1)})")
        if method == "nesterov":
            _, _, rate_h = theory.optimal_momentum(self.mu, self.L)
            n_h = steps_to_shrink(rate_h)
            lines.append(f"for comparison, the heavy ball's optimum: ρ = {rate_h:.4f} "
                         f"(theory: {n_h} step{'s' * (n_h != 1)})")
        return lines

    def _compare_lines(self) -> list[str]:
        r_h, r_n = self.rate_of("momentum"), self.rate_of("nesterov")
        code, _ = compare_rates(self.lr, self.beta, self.mu, self.L)
        verdict = ("the heavy ball is faster here", "Nesterov is faster here",
                   f"a tie (the rates agree to {TIE_RTOL:g})", "both diverge")[int(code)]
        lines = [f"lr·L = {self.lr:.3f}, β = {self.beta:.3f}, κ = {self.kappa:.4g}: "
                 f"heavy ball ρ = {r_h:.4f}, "
                 f"Nesterov ρ = {r_n:.4f}: {verdict}"]
        steps = [steps_to_shrink(r) for r in (r_h, r_n)]
        shown = ["diverges" if n is None else str(n) for n in steps]
        lines.append("steps to shrink the error by 1e-6 (theory): "
                     f"heavy ball {shown[0]}, Nesterov {shown[1]}")
        runs = self.runs
        lines.append(f"the runs: heavy ball {self._run_text(runs['momentum'])}; "
                     f"Nesterov {self._run_text(runs['nesterov'])}")
        parts = []
        for name, method in (("heavy ball", "momentum"), ("Nesterov", "nesterov")):
            lr_o, beta_o, rate_o = optimum_of(method, self.mu, self.L)
            n_o = steps_to_shrink(rate_o)
            parts.append(f"{name} lr·L = {lr_o:.4f}, β = {beta_o:.4f}, ρ = {rate_o:.4f} "
                         f"({n_o} step{'s' * (n_o != 1)})")
        lines.append(f"best pairs for κ = {self.kappa:.4g}: " + "; ".join(parts))
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
        """Select the shown method's best pair (Polyak's when comparing) for the current kappa."""
        self.select(self.optimum[0], self.optimum[1])

    def update(self) -> None:
        """Nothing to do: the browser redraws on every change (kept for cells that call it)."""

    # --- the static picture ----------------------------------------------------------

    def _draw_compare(self, fig, ax_map) -> None:
        """The compare map: Nesterov's region green, the heavy ball's vermillion, shaded by the
        steps ratio; ties yellow, both diverging grey; both optima and both divergence edges."""
        lr_grid, beta_grid = grid_axes(min(self.grid, 200))
        code, ratio = compare_rates(lr_grid[None, :], beta_grid[:, None], self.mu, self.L)
        ax_map.imshow(compare_colors(code, ratio), origin="lower", extent=(0.0, LR_MAX, 0.0, 1.0),
                      aspect="auto", interpolation="nearest")
        ax_map.axhline(0.0, color=np.array(COMPARE_RGB[2]) / 255.0, linewidth=4)  # beta = 0: a tie
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        handles = [Patch(color=np.array(COMPARE_RGB[i]) / 255.0, label=VERDICTS[i]) for i in range(4)]
        handles += [Line2D([], [], linestyle="none", marker=MARKERS[m], color="gold", markeredgecolor="k",
                           markersize=10, label=f"best pair, {who}")
                    for m, who in (("momentum", "heavy ball"), ("nesterov", "Nesterov"))]
        handles += [Line2D([], [], color="k", linestyle=style, linewidth=1.4, label=f"divergence edge, {who}")
                    for style, who in (("-", "heavy ball"), ((0, (5, 2)), "Nesterov"))]
        # below the map, two columns (inside it, the key would cover the edges where the regions meet)
        ax_map.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2, fontsize=10)
        for method in ("momentum", "nesterov"):
            lr_o, beta_o, _ = optimum_of(method, self.mu, self.L)
            ax_map.plot([lr_o], [beta_o], MARKERS[method], color="gold", markeredgecolor="k", markersize=13)
        ax_map.set_title(f"where each is faster, κ = {self.kappa:.4g}", fontsize=10)

    def static_figure(self):
        import matplotlib
        from matplotlib.colors import FuncNorm
        from matplotlib.figure import Figure

        fig = Figure(figsize=(11.0, 4.6), dpi=80)
        ax_map, ax_path, ax_err = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1, 1]})
        beta = np.linspace(0.0, 1.0, 201)
        if self.method == "compare":
            self._draw_compare(fig, ax_map)
        else:
            cmap = matplotlib.colormaps["viridis_r"].with_extremes(bad="#c8c8c8")
            norm = FuncNorm((lambda r: -np.log10(1.0 - np.clip(r, 0.0, BETA_MAX)),
                             lambda v: 1.0 - 10.0 ** (-v)), vmin=0.0, vmax=BETA_MAX)
            lr_grid, beta_grid = grid_axes(min(self.grid, 200))
            rates = rate_image(lr_grid, beta_grid, self.mu, self.L, self.method)
            image = ax_map.imshow(rates, origin="lower",
                                  extent=(0.0, LR_MAX, 0.0, 1.0), aspect="auto", interpolation="nearest",
                                  cmap=cmap, norm=norm)
            ax_map.plot(*self.optimum[:2], MARKERS[self.method], color="gold", markeredgecolor="k",
                        markersize=15)
            bar = fig.colorbar(image, ax=ax_map, fraction=0.05, pad=0.02,
                               ticks=[0.0, 0.5, 0.8, 0.9, 0.95, 0.99])  # apart on the bar's stretched scale
            bar.set_label("rate ρ (grey: ρ ≥ 1, diverges)")
            who = "Nesterov's" if self.method == "nesterov" else "momentum's"
            ax_map.set_title(f"{who} rate ρ, κ = {self.kappa:.4g} (grey: diverges)", fontsize=10)
        if self.method != "nesterov":
            ax_map.plot(2.0 + 2.0 * beta, beta, color="k", linewidth=1.4)
        if self.method != "momentum":
            ax_map.plot(np.asarray(theory.nesterov_edge(beta[:-1])), beta[:-1], color="k", linewidth=1.4,
                        linestyle=(0, (5, 2)) if self.method == "compare" else "-")
        ax_map.plot([self.lr], [self.beta], "o", color="white",
                    markeredgecolor=plotting.METHOD_COLORS[self.shown_methods[0]], markeredgewidth=2.5,
                    markersize=10)
        ax_map.set_xlim(0.0, LR_MAX)
        ax_map.set_ylim(0.0, 1.0)
        ax_map.set_xlabel("learning rate η·L  (L = 1, so this is η)")
        ax_map.set_ylabel("momentum β")
        plotting.contour(ax_path, self.surface, n_levels=15, grid=120)
        runs = self.runs
        for m, run in runs.items():
            plotting.path(ax_path, run.points, m, markersize=2.0)
        ax_path.set_title("iterates of the selected pair", fontsize=10)
        first = next(iter(runs.values()))
        errors0 = error_norms(first.points)
        k = np.arange(first.steps + 1)
        for m, run in runs.items():
            label = "‖x_k‖ (run)" if len(runs) == 1 else f"‖x_k‖, {plotting.METHOD_LABELS[m]}"
            ax_err.semilogy(k, error_norms(run.points), color=plotting.METHOD_COLORS[m],
                            linestyle=plotting.METHOD_LINESTYLES[m] if len(runs) > 1 else "-", label=label)
        if len(runs) == 1:
            ax_err.semilogy(k, envelope(self.rate, errors0[0], first.steps), "k--", linewidth=1.0,
                            label="ρ^k ‖x_0‖ (theory)")
        ax_err.set_ylim(1e-10 * errors0[0], 1e4 * errors0[0])
        ax_err.set_xlabel("step k")
        ax_err.set_ylabel("error ‖x_k‖")
        ax_err.legend(loc="upper right", fontsize=10)
        fig.tight_layout()
        return fig


# --- the compare map's colours (course_widgets.js has the same) ----------------------------

# heavy ball faster (vermillion), Nesterov faster (bluish green), tie (yellow), both diverge (grey)
COMPARE_RGB = ((213, 94, 0), (0, 158, 115), (240, 228, 66), (200, 200, 200))
MARKERS = {"momentum": "*", "nesterov": "P"}


def compare_colors(code: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """RGB (0..1) of the compare map: the faster method's colour, mixed with white by how close
    the two are (``ratio`` near 1: pale; 0: full colour); ties and divergence flat."""
    base = np.array(COMPARE_RGB, dtype=float)[code] / 255.0
    strength = np.where(code < 2, 0.25 + 0.75 * (1.0 - np.nan_to_num(ratio, nan=1.0)), 1.0)
    return 1.0 - strength[..., None] * (1.0 - base)
