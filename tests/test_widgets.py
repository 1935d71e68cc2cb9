"""Headless tests of the widgets: set the controls from Python, check what is drawn.

No browser: the ipympl canvas renders with Agg in-process. Each test sets slider
values the way the frontend would (``slider.value = ...``) and compares the artists'
data (``Line2D.get_data()``, the image array) and the readout with
:mod:`lessons_lib.optimizers` and :mod:`lessons_lib.theory`, and, where a closed form
exists, with that closed form.
"""

from __future__ import annotations

import base64
import html
import math

import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent

from lessons_lib import live, optimizers, surfaces, theory
from lessons_lib.widgets import RateMap, TrajectoryExplorer
from lessons_lib.widgets import explorer as explorer_module
from lessons_lib.widgets import rate_map as rate_map_module

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- helpers ----------------------------------------------------------------

def line_points(line) -> np.ndarray:
    """A Line2D's data as an array of shape (n, 2)."""
    x, y = line.get_data()
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def text_of(readout) -> str:
    """The readout's HTML as plain text."""
    return html.unescape(readout.value.replace("<br>", "\n"))


class DrawCounter:
    """Counts full draws (draw_event) and blits of a figure's canvas."""

    def __init__(self, fig) -> None:
        self.draws = 0
        self.blits = 0
        canvas = fig.canvas
        canvas.mpl_connect("draw_event", self._on_draw)
        original = canvas.blit

        def blit(*args, **kwargs):
            self.blits += 1
            return original(*args, **kwargs)

        canvas.blit = blit

    def _on_draw(self, event) -> None:
        self.draws += 1


def click(fig, ax, x: float, y: float) -> None:
    """A left click at data coordinates (x, y) of ``ax``, as the canvas would deliver it."""
    fig.canvas.draw()  # the axes positions are final only after a draw (aspect, layout)
    px, py = ax.transData.transform((x, y))
    event = MouseEvent("button_press_event", fig.canvas, px, py, button=1)
    assert event.inaxes is ax
    fig.canvas.callbacks.process("button_press_event", event)


def shown_bundle(widget_object, monkeypatch) -> dict:
    """What ``display(obj)`` sends: the mime bundle built by live.show."""
    shown = []
    monkeypatch.setattr(live, "display", lambda bundle, raw=False: shown.append((bundle, raw)))
    widget_object._ipython_display_()
    assert len(shown) == 1
    bundle, raw = shown[0]
    assert raw is True
    return bundle


def heavy_ball_divergence_step(eigenvalues, start, lr, beta, radius, steps) -> int | None:
    """PyTorch-form momentum on a diagonal quadratic, written out on Python floats:
    the first step whose iterate leaves the square of half-side ``radius``."""
    x = list(map(float, start))
    buf = [0.0, 0.0]
    for k in range(1, steps + 1):
        for i in range(2):
            buf[i] = beta * buf[i] + eigenvalues[i] * x[i]
            x[i] -= lr * buf[i]
        if max(abs(x[0]), abs(x[1])) > radius:
            return k
    return None


# --- the trajectory explorer ---------------------------------------------------

@pytest.fixture
def explorer() -> TrajectoryExplorer:
    return TrajectoryExplorer("rosenbrock", steps=200)


def test_explorer_lines_are_the_runs_for_the_slider_values(explorer):
    explorer.lr_slider.value = 5e-4
    explorer.momentum_slider.value = 0.8
    s = surfaces.get("rosenbrock")
    for m in ("gd", "momentum", "nesterov"):
        run = optimizers.run(s, s.start, m, 5e-4, 0.0 if m == "gd" else 0.8, 200)
        assert not run.diverged
        np.testing.assert_array_equal(line_points(explorer.paths[m]), run.points)
        np.testing.assert_array_equal(explorer.runs[m].points, run.points)
        steps, gaps = explorer.loss_lines[m].get_data()
        np.testing.assert_array_equal(steps, np.arange(201))
        np.testing.assert_array_equal(gaps, np.maximum(run.losses - s.f_min, 1e-300))
        np.testing.assert_array_equal(line_points(explorer.heads[m]), run.points[-1:])
    # The three methods really differ at these settings (the test is not vacuous).
    assert not np.array_equal(explorer.runs["gd"].points, explorer.runs["momentum"].points)
    assert not np.array_equal(explorer.runs["momentum"].points, explorer.runs["nesterov"].points)


def test_explorer_shows_a_diverging_run_as_diverged():
    e = TrajectoryExplorer("quadratic", lr=0.3, steps=50, methods=("gd",))
    e.lr_slider.value = 1.0
    # f = 0.1 x^2 + 2 y^2 from (-8, 3): y_k = 3 (1 - 4 lr)^k = 3 (-3)^k, which first leaves
    # |y| <= 1e4 when 3^(k+1) > 1e4, at k = 8.
    k_closed_form = next(k for k in range(100) if 3.0 * 3.0**k > 1e4)
    assert k_closed_form == 8
    run = e.runs["gd"]
    assert run.diverged and run.diverged_at == k_closed_form
    assert f"gradient descent: diverged at step {k_closed_form}" in text_of(e.readout)
    pts = line_points(e.paths["gd"])
    assert np.isfinite(pts[:k_closed_form]).all() and np.isnan(pts[k_closed_form:]).all()
    # The head marks the last point before it left.
    np.testing.assert_array_equal(line_points(e.heads["gd"]), pts[k_closed_form - 1: k_closed_form])


def test_explorer_readout_gives_steps_to_tolerance():
    e = TrajectoryExplorer("quadratic", lr=0.2, momentum=0.5, steps=400, methods=("gd",))
    # Closed form for gradient descent: x_k = -8 (1 - 0.2 lr)^k, y_k = 3 (1 - 4 lr)^k.
    k = np.arange(401)
    f = 0.1 * (-8.0 * 0.96**k) ** 2 + 2.0 * (3.0 * 0.2**k) ** 2
    first = int(np.argmax(f <= 1e-6))
    assert e.runs["gd"].steps_to(1e-6) == first
    assert f"reached f - f* <= 1e-06 at step {first}" in text_of(e.readout)
    assert "diverged" not in text_of(e.readout)


def test_explorer_checkbox_removes_and_restores_a_line(explorer):
    explorer.method_boxes["nesterov"].value = False
    assert len(explorer.paths["nesterov"].get_data()[0]) == 0
    assert len(explorer.loss_lines["nesterov"].get_data()[0]) == 0
    assert "nesterov" not in explorer.runs
    assert "Nesterov" not in text_of(explorer.readout)
    assert len(explorer.paths["momentum"].get_data()[0]) == 201  # the others stay
    explorer.method_boxes["nesterov"].value = True
    s = explorer.surface
    run = optimizers.run(s, s.start, "nesterov", explorer.lr_slider.value,
                         explorer.momentum_slider.value, 200)
    np.testing.assert_array_equal(line_points(explorer.paths["nesterov"]), run.points)
    assert "Nesterov" in text_of(explorer.readout)


def test_explorer_surface_change_resets_start_and_redraws(explorer):
    explorer.set_start(0.5, 0.5)
    counter = DrawCounter(explorer.fig)
    explorer.surface_dropdown.value = "himmelblau"
    s = surfaces.get("himmelblau")
    assert (explorer.x0.value, explorer.y0.value) == (s.start[0], s.start[1])
    assert explorer.lr_slider.value == explorer_module.DEFAULT_LR["himmelblau"]
    np.testing.assert_array_equal(line_points(explorer.start_marker), [s.start])
    for m in ("gd", "momentum", "nesterov"):
        run = optimizers.run(s, s.start, m, explorer.lr_slider.value,
                             0.0 if m == "gd" else explorer.momentum_slider.value, 200)
        np.testing.assert_array_equal(line_points(explorer.paths[m]), run.points)
    assert counter.draws >= 1  # new contours: a full redraw
    assert explorer.ax_path.get_xlim() == s.xlim


def test_explorer_set_start_and_click_move_the_start(explorer):
    explorer.set_start(-1.234, 2.5)
    assert (explorer.x0.value, explorer.y0.value) == (-1.234, 2.5)
    np.testing.assert_array_equal(line_points(explorer.start_marker), [[-1.234, 2.5]])
    s = explorer.surface
    for m in ("gd", "momentum", "nesterov"):
        assert tuple(line_points(explorer.paths[m])[0]) == (-1.234, 2.5)
        run = optimizers.run(s, [-1.234, 2.5], m, explorer.lr_slider.value,
                             0.0 if m == "gd" else explorer.momentum_slider.value, 200)
        np.testing.assert_array_equal(line_points(explorer.paths[m]), run.points)
    click(explorer.fig, explorer.ax_path, 0.7, -0.3)
    assert explorer.x0.value == pytest.approx(0.7, abs=6e-4)
    assert explorer.y0.value == pytest.approx(-0.3, abs=6e-4)
    assert tuple(line_points(explorer.paths["gd"])[0]) == (explorer.x0.value, explorer.y0.value)


def test_explorer_frame_shows_a_prefix_of_the_run(explorer):
    assert explorer.play.max == explorer.frame.max == 200  # Play drives frame (jslink in the browser)
    full = {m: explorer.runs[m].points.copy() for m in explorer.runs}
    explorer.frame.value = 25
    for m, pts in full.items():
        np.testing.assert_array_equal(line_points(explorer.paths[m]), pts[:26])
        np.testing.assert_array_equal(line_points(explorer.heads[m]), pts[25:26])
        assert explorer.loss_lines[m].get_data()[0].tolist() == list(range(26))
    explorer.frame.value = 0
    for m, pts in full.items():
        np.testing.assert_array_equal(line_points(explorer.paths[m]), pts[:1])
    explorer.steps_slider.value = 100  # a new step count resets Play and the frame to the end
    assert explorer.play.max == explorer.frame.max == explorer.frame.value == 100
    assert len(explorer.paths["gd"].get_data()[0]) == 101


def test_explorer_slider_change_only_blits(explorer):
    explorer.fig.canvas.draw()
    counter = DrawCounter(explorer.fig)
    explorer.lr_slider.value = 5e-4
    explorer.momentum_slider.value = 0.5
    explorer.frame.value = 10
    assert counter.draws == 0
    assert counter.blits == 3


def test_explorer_rejects_bad_input(explorer):
    with pytest.raises(ValueError, match="surface"):
        TrajectoryExplorer("parabola")
    with pytest.raises(ValueError, match="lr"):
        TrajectoryExplorer("quadratic", lr=-0.1)
    with pytest.raises(ValueError, match="momentum"):
        TrajectoryExplorer("quadratic", momentum=1.2)
    with pytest.raises(ValueError, match="steps"):
        TrajectoryExplorer("quadratic", steps=0)
    with pytest.raises(ValueError, match="methods"):
        TrajectoryExplorer("quadratic", methods=("adam",))
    with pytest.raises(ValueError, match="x"):
        explorer.set_start(float("nan"), 0.0)


def test_explorer_static_fallback_is_a_png(explorer, monkeypatch):
    bundle = shown_bundle(explorer, monkeypatch)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_SIGNATURE)
    assert "trajectory explorer" in bundle["text/plain"]


# --- the rate map ---------------------------------------------------------------

def make_rate_map() -> RateMap:
    return RateMap(kappa=100.0, lr=1.0, beta=0.9, steps=300, grid=120)


@pytest.fixture
def rate_map() -> RateMap:
    """A fresh rate map, for tests that move its controls."""
    return make_rate_map()


@pytest.fixture(scope="module")
def default_map() -> RateMap:
    """One rate map in its default state, shared by the tests that only read it."""
    return make_rate_map()


def expected_rates(rm: RateMap, mu: float) -> np.ndarray:
    return theory.momentum_rate(rm.lr_grid[None, :], rm.beta_grid[:, None], [mu, 1.0])


def test_rate_map_image_is_theory_on_its_grid(default_map):
    rm = default_map
    n = 120
    np.testing.assert_array_equal(rm.lr_grid, (np.arange(n) + 0.5) / n * 4.0)
    np.testing.assert_array_equal(rm.beta_grid, (np.arange(n) + 0.5) / n)
    assert tuple(rm.image.get_extent()) == (0.0, 4.0, 0.0, 1.0)
    shown = rm.image.get_array()
    expected = expected_rates(rm, 0.01)
    assert shown.shape == (n, n)
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), expected >= 1.0)
    np.testing.assert_array_equal(shown.filled(np.nan)[expected < 1], expected[expected < 1])
    # The divergence region is exactly lr * L >= 2 + 2 beta (L = 1 is the binding eigenvalue).
    LR, B = np.meshgrid(rm.lr_grid, rm.beta_grid)
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), LR >= 2.0 + 2.0 * B)


def test_rate_map_complex_regime_rate_is_sqrt_beta(default_map):
    """Where both components ripple the rate is sqrt(beta), not 2 sqrt(beta)."""
    rm = default_map
    j = int(np.argmin(abs(rm.lr_grid - 1.0)))
    i = int(np.argmin(abs(rm.beta_grid - 0.9)))
    lr, beta = rm.lr_grid[j], rm.beta_grid[i]
    for lam in (0.01, 1.0):
        assert (1.0 + beta - lr * lam) ** 2 < 4.0 * beta  # complex roots for both eigenvalues
    assert rm.image.get_array()[i, j] == pytest.approx(math.sqrt(beta), rel=1e-12)


def test_rate_map_marks_the_optimum_and_best_gd(default_map):
    rm = default_map
    lr_opt, beta_opt, rate_opt = theory.optimal_momentum(0.01, 1.0)
    # Polyak's pair for kappa = 100: lr = (2 / (0.1 + 1))^2, beta = (0.9 / 1.1)^2, rate 9/11.
    assert (lr_opt, beta_opt, rate_opt) == pytest.approx(((2 / 1.1) ** 2, (0.9 / 1.1) ** 2, 9 / 11))
    np.testing.assert_array_equal(line_points(rm.star), [[lr_opt, beta_opt]])
    lr_gd, _ = theory.optimal_gd(0.01, 1.0)
    np.testing.assert_array_equal(line_points(rm.gd_marker), [[lr_gd, 0.0]])
    assert "optimum for κ = 100: lr·L = 3.3058, β = 0.6694, ρ = 0.8182" in text_of(rm.readout)


def test_rate_map_optimum_button_selects_the_optimum(rate_map):
    lr_opt, beta_opt, rate_opt = theory.optimal_momentum(0.01, 1.0)
    rate_map.optimum_button.click()
    assert (rate_map.lr_slider.value, rate_map.beta_slider.value) == (lr_opt, beta_opt)
    np.testing.assert_array_equal(line_points(rate_map.selected_marker), line_points(rate_map.star))
    assert rate_map.rate == pytest.approx(rate_opt, rel=1e-9)
    run = optimizers.run(surfaces.quadratic([0.01, 1.0]), [-8.0, 3.0], "momentum", lr_opt, beta_opt, 300)
    np.testing.assert_array_equal(line_points(rate_map.path_line), run.points)


def test_rate_map_regime_curves(default_map):
    rm = default_map
    for key, lam in (("mu", 0.01), ("L", 1.0)):
        lr, beta = rm.critical_lines[key].get_data()
        assert len(lr) > 100
        np.testing.assert_allclose(beta, (1.0 - np.sqrt(lr * lam)) ** 2, rtol=0, atol=1e-15)
    lr, beta = rm.divergence_line.get_data()
    np.testing.assert_allclose(lr, 2.0 + 2.0 * beta)


def dominant_regime_by_hand(lr: float, beta: float, mu: float) -> str:
    """The regime of the eigen-component with the larger spectral radius (ties: a real root)."""
    radii = {lam: float(theory.momentum_rate(lr, beta, [lam])) for lam in (mu, 1.0)}
    regimes = {lam: str(theory.momentum_regime(lr, beta, lam)) for lam in (mu, 1.0)}
    if radii[mu] != radii[1.0]:
        return regimes[max(radii, key=radii.get)]
    return regimes[1.0] if regimes[mu] == "ripples" else regimes[mu]


def test_rate_map_regime_labels_sit_in_their_regions(rate_map):
    rm = rate_map
    for kappa in (100.0, 10.0, 1.0):
        rm.kappa_slider.value = kappa
        mu = 1.0 / kappa
        for name, label in rm.regime_labels.items():
            assert label.get_text() == name
            assert label.get_visible(), f"{name} is not labelled at kappa {kappa}"
            lr, beta = label.xy
            assert dominant_regime_by_hand(lr, beta, mu) == name, (kappa, name)
            if label.get_position() == label.xy:
                assert not label.arrow_patch.get_visible()
            else:  # a name beside a thin region points at it with an arrow
                assert label.arrow_patch.get_visible()
        lr, beta = rm.regime_labels["divergence"].xy
        assert lr > 2.0 + 2.0 * beta


def test_rate_map_select_draws_the_run(rate_map):
    rm = rate_map
    rm.select(2.5, 0.3)
    assert (rm.lr_slider.value, rm.beta_slider.value) == (2.5, 0.3)
    np.testing.assert_array_equal(line_points(rm.selected_marker), [[2.5, 0.3]])
    run = optimizers.run(surfaces.quadratic([0.01, 1.0]), [-8.0, 3.0], "momentum", 2.5, 0.3, 300)
    np.testing.assert_array_equal(rm.run.points, run.points)
    np.testing.assert_array_equal(line_points(rm.path_line), run.points)
    k, err = rm.error_line.get_data()
    np.testing.assert_array_equal(k, np.arange(301))
    np.testing.assert_array_equal(err, np.hypot(run.points[:, 0], run.points[:, 1]))
    rate = theory.momentum_rate(2.5, 0.3, [0.01, 1.0])
    assert rm.rate == rate
    k, env = rm.envelope_line.get_data()
    np.testing.assert_allclose(env, rate ** np.arange(301) * math.hypot(-8.0, 3.0), rtol=1e-12)
    steps = math.ceil(math.log(1e-6) / math.log(rate))
    text = text_of(rm.readout)
    assert f"rate ρ = {rate:.4f}" in text
    assert f"steps to shrink the error by 1e-6 (theory, ceil(log 1e-6 / log ρ)): {steps}" in text
    for name, lam in (("μ", 0.01), ("L", 1.0)):
        assert f"λ = {name} = {lam:.4g}: {theory.momentum_regime(2.5, 0.3, lam)}" in text
    assert rm.status_text.get_text() == rf"$\rho = {rate:.4f}$"


def test_rate_map_default_readout(default_map):
    # lr = 1, beta = 0.9: both components ripple, rate sqrt(0.9) = 0.9487, 263 steps to 1e-6.
    text = text_of(default_map.readout)
    assert "rate ρ = 0.9487" in text
    assert "λ = μ = 0.01: ripples" in text and "λ = L = 1: ripples" in text
    assert math.ceil(math.log(1e-6) / math.log(math.sqrt(0.9))) == 263
    assert "(theory, ceil(log 1e-6 / log ρ)): 263" in text
    errors = np.hypot(*default_map.run.points.T)
    measured = int(np.argmax(errors <= 1e-6 * errors[0]))
    assert f"the run: error below 1e-6 |x₀| at step {measured}" in text


def test_rate_map_shows_a_diverging_choice_as_diverged(rate_map):
    rm = rate_map
    rm.lr_slider.value = 3.5  # lr L = 3.5 > 2 + 2 beta = 2.4
    rm.beta_slider.value = 0.2
    assert rm.rate == theory.momentum_rate(3.5, 0.2, [0.01, 1.0]) > 1.0
    k = heavy_ball_divergence_step([0.01, 1.0], [-8.0, 3.0], 3.5, 0.2, 1e4, 300)
    assert k is not None and rm.run.diverged_at == k
    text = text_of(rm.readout)
    assert "diverges: ρ = " in text and "steps to shrink" not in text
    assert f"the run: diverged at step {k}" in text
    assert rm.status_text.get_text() == f"diverged at step {k}"
    err = rm.error_line.get_data()[1]
    assert np.isfinite(err[:k]).all() and np.isnan(err[k:]).all()
    assert np.ma.is_masked(rm.image.get_array()[int(0.2 * 120), int(3.5 / 4.0 * 120)])


def test_rate_map_kappa_slider_recomputes_the_map(rate_map):
    rm = rate_map
    rm.fig.canvas.draw()
    before = rm.image.get_array().copy()
    counter = DrawCounter(rm.fig)
    rm.kappa_slider.value = 10.0
    after = rm.image.get_array()
    assert not np.ma.allequal(before, after)
    expected = expected_rates(rm, 0.1)
    np.testing.assert_array_equal(after.filled(np.nan)[expected < 1], expected[expected < 1])
    np.testing.assert_array_equal(line_points(rm.star), [theory.optimal_momentum(0.1, 1.0)[:2]])
    run = optimizers.run(surfaces.quadratic([0.1, 1.0]), [-8.0, 3.0], "momentum", 1.0, 0.9, 300)
    np.testing.assert_array_equal(line_points(rm.path_line), run.points)
    assert rm.mu == 0.1
    assert r"\kappa = 10$" in rm.ax_map.get_title()
    assert counter.draws == 1


def test_rate_map_click_selects_the_pair(rate_map):
    click(rate_map.fig, rate_map.ax_map, 1.5, 0.45)
    assert rate_map.lr_slider.value == pytest.approx(1.5, abs=6e-4)
    assert rate_map.beta_slider.value == pytest.approx(0.45, abs=6e-4)
    run = optimizers.run(rate_map.surface, [-8.0, 3.0], "momentum", rate_map.lr_slider.value,
                         rate_map.beta_slider.value, 300)
    np.testing.assert_array_equal(line_points(rate_map.path_line), run.points)


def test_rate_map_slider_changes_only_blit(rate_map):
    rm = rate_map
    rm.fig.canvas.draw()  # the first frame, which a browser asks for when it shows the widget
    counter = DrawCounter(rm.fig)
    rm.lr_slider.value = 1.7
    rm.beta_slider.value = 0.5
    rm.select(0.8, 0.2)
    assert counter.draws == 0
    assert counter.blits == 3


def test_rate_map_rejects_bad_input(default_map):
    with pytest.raises(ValueError, match=r"kappa must be in \[1, 1000\]"):
        RateMap(kappa=0.5)
    with pytest.raises(ValueError, match="kappa"):
        RateMap(kappa=2000)
    with pytest.raises(ValueError, match="lr"):
        RateMap(lr=0.0)
    with pytest.raises(ValueError, match="lr"):
        default_map.select(5.0, 0.5)
    with pytest.raises(ValueError, match="beta"):
        default_map.select(1.0, 1.0)
    with pytest.raises(ValueError, match="beta"):
        RateMap(beta=-0.1)
    with pytest.raises(ValueError, match="start"):
        RateMap(start=[0.0, 0.0])
    with pytest.raises(ValueError, match="steps"):
        RateMap(steps=5)
    # A refused selection leaves the widget as it was.
    assert (default_map.lr_slider.value, default_map.beta_slider.value) == (1.0, 0.9)


def test_rate_map_steps_to_shrink():
    assert rate_map_module.steps_to_shrink(0.5) == math.ceil(math.log(1e-6) / math.log(0.5)) == 20
    assert rate_map_module.steps_to_shrink(0.0) == 1
    assert rate_map_module.steps_to_shrink(1.0) is None


def test_rate_map_static_fallback_is_a_png(default_map, monkeypatch):
    bundle = shown_bundle(default_map, monkeypatch)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]).startswith(PNG_SIGNATURE)
    assert "rate map" in bundle["text/plain"]
