"""The widgets' Python side: traits, validation, the numbers behind the readouts.

The widgets compute and draw in the browser (tests/test_widgets_browser.py checks that
the ES module's numbers equal these and what it draws); here, without a browser, each
test sets traits the way a notebook cell or the browser does and compares what Python
holds (``runs``, ``run``, ``rate``, ``readout_lines()``) with :mod:`lessons_lib.optimizers`,
:mod:`lessons_lib.theory` and, where one exists, a closed form.
"""

from __future__ import annotations

import base64
import math

import numpy as np
import pytest

from lessons_lib import optimizers, surfaces, theory
from lessons_lib.widgets import ParabolaSlider, RateMap, TrajectoryExplorer, _base
from lessons_lib.widgets import explorer as explorer_module
from lessons_lib.widgets import rate_map as rate_map_module

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
METHODS = ("gd", "momentum", "nesterov")


def synced(widget) -> set[str]:
    return set(widget.trait_names(sync=True))


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


# --- what every widget shares ------------------------------------------------------


def test_the_front_end_is_the_course_module():
    text = _base.ESM.read_text()
    assert _base.ESM.name == "course_widgets.js" and "export default { render }" in text
    assert not any(line.startswith("import ") for line in text.splitlines())  # no imports: no build step
    for w in (TrajectoryExplorer(), RateMap(grid=20)):
        state = w.get_state()
        assert state["_esm"] == text
        assert state["kind"] in ("explorer", "rate_map", "sgd", "spectrum")


@pytest.mark.parametrize("name", [*surfaces.names(), "linear_regression"])
def test_surface_specs_reproduce_the_surfaces(name):
    """The numbers sent to the browser give the surface's own f, bit for bit (checked here
    with the formulas of the quadratic and least-squares kinds; the named ones are in JS)."""
    s = explorer_module.available_surfaces()[name]
    spec = _base.surface_spec(s, default_lr=explorer_module.DEFAULT_LR[name])
    assert spec["name"] == name and spec["default_lr"] == explorer_module.DEFAULT_LR[name]
    assert spec["xlim"] == list(s.xlim) and spec["ylim"] == list(s.ylim)
    assert spec["start"] == s.start.tolist() and spec["minima"] == s.minima.tolist()
    assert spec["f_min"] == s.f_min and spec["escape_radius"] == s.escape_radius
    pts = np.random.default_rng(0).uniform(-3, 3, size=(50, 2))
    x, y = pts[:, 0], pts[:, 1]
    c = spec["coef"]
    if spec["kind"] == "quadratic":
        f = 0.5 * (c["a"] * x * x + 2.0 * c["b"] * x * y + c["d"] * y * y)
    elif spec["kind"] == "lsq":
        f = (
            0.5 * (c["a00"] * x * x + 2.0 * c["a01"] * x * y + c["a11"] * y * y)
            - c["b0"] * x
            - c["b1"] * y
            + c["c"]
        )
    else:
        assert spec["kind"] == name and c == {}
        return
    np.testing.assert_array_equal(f, s.f(pts))


def test_display_has_the_widget_a_png_and_text():
    for widget, text in (
        (TrajectoryExplorer(steps=50), "trajectory explorer"),
        (RateMap(grid=40), "rate map"),
    ):
        data, _ = widget._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in data
        assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
        assert data["text/plain"] == f"<{text}: run the notebook to use the controls>"


# --- the trajectory explorer ----------------------------------------------------------


@pytest.fixture
def explorer() -> TrajectoryExplorer:
    return TrajectoryExplorer("rosenbrock", steps=200)


def test_explorer_traits_are_synced_and_start_as_given():
    e = TrajectoryExplorer(
        "quadratic", lr=0.2, momentum=0.5, steps=150, start=(1.0, -2.0), methods=("nesterov", "gd"), tol=1e-8
    )
    assert {
        "surface",
        "surface_specs",
        "lr",
        "momentum",
        "steps",
        "start_x",
        "start_y",
        "methods",
        "frame",
        "tol",
        "play_fps",
        "kind",
    } <= synced(e)
    assert (e.surface, e.lr, e.momentum, e.steps, e.start_x, e.start_y) == (
        "quadratic",
        0.2,
        0.5,
        150,
        1.0,
        -2.0,
    )
    assert e.methods == ["gd", "nesterov"]  # the canonical order
    assert e.frame == 150 and e.tol == 1e-8 and e.play_fps == 25
    assert TrajectoryExplorer("beale").lr == explorer_module.DEFAULT_LR["beale"]
    assert list(e.surface_specs) == [*surfaces.names(), "linear_regression"]


def test_explorer_runs_are_optimizers_run_for_the_traits(explorer):
    explorer.lr = 5e-4
    explorer.momentum = 0.8
    s = surfaces.get("rosenbrock")
    for m in METHODS:
        run = optimizers.run(s, s.start, m, 5e-4, 0.0 if m == "gd" else 0.8, 200)
        assert not run.diverged
        np.testing.assert_array_equal(explorer.runs[m].points, run.points)
        np.testing.assert_array_equal(explorer.runs[m].losses, run.losses)
    assert not np.array_equal(explorer.runs["gd"].points, explorer.runs["momentum"].points)
    assert not np.array_equal(explorer.runs["momentum"].points, explorer.runs["nesterov"].points)


def test_explorer_shows_a_diverging_run_as_diverged():
    e = TrajectoryExplorer("quadratic", lr=0.3, steps=50, methods=("gd",))
    e.lr_slider.value = 1.0  # the earlier control's name still sets the trait
    assert e.lr == 1.0
    # f = 0.1 x^2 + 2 y^2 from (-8, 3): y_k = 3 (1 - 4 lr)^k = 3 (-3)^k leaves |y| <= 1e4 at k = 8.
    k_closed_form = next(k for k in range(100) if 3.0 * 3.0**k > 1e4)
    assert k_closed_form == 8
    assert e.runs["gd"].diverged_at == k_closed_form
    assert e.readout_lines() == [f"gradient descent: diverged at step {k_closed_form}"]
    assert "diverged at step 8" in e.readout.value


def test_explorer_readout_gives_steps_to_tolerance():
    e = TrajectoryExplorer("quadratic", lr=0.2, momentum=0.5, steps=400, methods=("gd",))
    k = np.arange(401)
    f = (
        0.1 * (-8.0 * 0.96**k) ** 2 + 2.0 * (3.0 * 0.2**k) ** 2
    )  # x_k = -8 (1 - 0.2 lr)^k, y_k = 3 (1 - 4 lr)^k
    first = int(np.argmax(f <= 1e-6))
    (line,) = e.readout_lines()
    assert line.startswith("gradient descent: final loss ")
    assert line.endswith(f"reached f - f* <= 1e-06 at step {first}")


def test_explorer_readout_of_a_growing_run_and_of_the_saddle():
    e = TrajectoryExplorer("quadratic", lr=0.51, steps=100, methods=("gd",))
    (line,) = e.readout_lines()
    assert "growing, the loss rose from 24.4 to" in line and "|x|, |y| <= 10000" in line
    e.surface = "saddle"
    assert e.readout_lines()[0].endswith("(this surface has no minimum)")


def test_explorer_methods_and_their_boxes(explorer):
    explorer.method_boxes["nesterov"].value = False
    assert explorer.methods == ["gd", "momentum"]
    assert "nesterov" not in explorer.runs
    assert not any(line.startswith("Nesterov") for line in explorer.readout_lines())
    explorer.method_boxes["nesterov"].value = True
    assert explorer.methods == list(METHODS) and explorer.method_boxes["nesterov"].value
    explorer.methods = []
    assert explorer.readout_lines() == ["(no method selected)"]
    with pytest.raises(ValueError, match="methods must be one of"):
        explorer.methods = ["adam"]


def test_explorer_surface_change_resets_start_lr_and_frame(explorer):
    explorer.set_start(0.5, 0.5)
    explorer.frame = 20
    explorer.surface = "himmelblau"
    s = surfaces.get("himmelblau")
    assert (explorer.start_x, explorer.start_y) == tuple(s.start)
    assert explorer.lr == explorer_module.DEFAULT_LR["himmelblau"]
    assert explorer.frame == explorer.steps
    for m in METHODS:
        run = optimizers.run(s, s.start, m, explorer.lr, 0.0 if m == "gd" else explorer.momentum, 200)
        np.testing.assert_array_equal(explorer.runs[m].points, run.points)


def test_explorer_set_start_rounds_and_the_runs_follow(explorer):
    explorer.set_start(-1.23449, 2.5)
    assert (explorer.start_x, explorer.start_y) == (-1.234, 2.5)
    assert (explorer.x0.value, explorer.y0.value) == (-1.234, 2.5)
    for m in METHODS:
        assert tuple(explorer.runs[m].points[0]) == (-1.234, 2.5)


def test_explorer_frame_follows_steps_and_stays_in_range(explorer):
    assert explorer.frame == 200
    explorer.frame = 25
    explorer.steps = 100  # a new step count shows every step
    assert explorer.frame == 100 and explorer.runs["gd"].steps == 100
    with pytest.raises(ValueError, match=r"frame must be an integer in \[0, 100\]"):
        explorer.frame = 101


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"surface": "parabola"}, "surface"),
        ({"lr": -0.1}, "lr"),
        ({"lr": 10.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"momentum": 1.2}, "momentum"),
        ({"steps": 0}, "steps"),
        ({"steps": 5000}, "steps"),
        ({"methods": ("adam",)}, "methods"),
        ({"start": (1.0, np.inf)}, "start"),
        ({"start": (1.0, 2.0, 3.0)}, "start"),
        ({"tol": 0.0}, "tol"),
    ],
)
def test_explorer_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        TrajectoryExplorer(**({"surface": "quadratic"} | kwargs))


def test_explorer_rejects_bad_values_set_later(explorer):
    with pytest.raises(ValueError, match=r"lr must be in \[1e-05, 3.16228\]; got -1"):
        explorer.lr = -1.0
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 0.99\]"):
        explorer.momentum_slider.value = 0.995
    with pytest.raises(TypeError, match="lr must be a number"):
        explorer.lr = "0.5"
    with pytest.raises(TypeError, match="steps must be an integer"):
        explorer.steps = 10.5
    with pytest.raises(ValueError, match="x"):
        explorer.set_start(float("nan"), 0.0)
    assert (explorer.lr, explorer.momentum, explorer.steps) == (1e-3, 0.9, 200)  # unchanged


# --- the rate map ---------------------------------------------------------------------


def make_rate_map() -> RateMap:
    return RateMap(kappa=100.0, lr=1.0, beta=0.9, steps=300, grid=120)


@pytest.fixture
def rate_map() -> RateMap:
    return make_rate_map()


def test_rate_map_traits():
    rm = RateMap(kappa=20, lr=2.0, beta=0.6)
    assert {"kappa", "lr", "beta", "steps", "start_x", "start_y", "grid", "kind"} <= synced(rm)
    assert (rm.kappa, rm.lr, rm.beta, rm.steps, rm.start_x, rm.start_y, rm.grid) == (
        20.0,
        2.0,
        0.6,
        300,
        -8.0,
        3.0,
        300,
    )
    assert rm.mu == 0.05 and rm.L == 1.0
    assert rm.surface.hessian.tolist() == [[0.05, 0.0], [0.0, 1.0]]
    # what lesson 03 checks: the widget's numbers are the theory of the lesson, rescaled
    assert rm.rate == theory.momentum_rate(2.0, 0.6, [0.05, 1.0])
    assert np.isclose(rm.rate, theory.momentum_rate(0.5, 0.6, [0.2, 4.0]), rtol=1e-12)
    assert rm.optimum == theory.optimal_momentum(0.05, 1.0)


def test_rate_map_image_is_theory_on_its_grid(rate_map):
    n = 120
    np.testing.assert_array_equal(rate_map.lr_grid, (np.arange(n) + 0.5) / n * 4.0)
    np.testing.assert_array_equal(rate_map.beta_grid, (np.arange(n) + 0.5) / n)
    shown = rate_map.rates
    expected = theory.momentum_rate(rate_map.lr_grid[None, :], rate_map.beta_grid[:, None], [0.01, 1.0])
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), expected >= 1.0)
    np.testing.assert_array_equal(shown.filled(np.nan)[expected < 1], expected[expected < 1])
    LR, B = np.meshgrid(rate_map.lr_grid, rate_map.beta_grid)
    np.testing.assert_array_equal(np.ma.getmaskarray(shown), LR >= 2.0 + 2.0 * B)


def test_rate_map_complex_regime_rate_is_sqrt_beta(rate_map):
    """Where both components ripple the rate is sqrt(beta), not 2 sqrt(beta)."""
    for lam in (0.01, 1.0):
        assert (1.0 + 0.9 - 1.0 * lam) ** 2 < 4.0 * 0.9
    assert rate_map.rate == pytest.approx(math.sqrt(0.9), rel=1e-12)


def test_rate_map_optimum_button_selects_the_optimum(rate_map):
    lr_opt, beta_opt, rate_opt = theory.optimal_momentum(0.01, 1.0)
    assert (lr_opt, beta_opt, rate_opt) == pytest.approx(((2 / 1.1) ** 2, (0.9 / 1.1) ** 2, 9 / 11))
    rate_map.optimum_button.click()
    assert (rate_map.lr, rate_map.beta) == (lr_opt, beta_opt)
    assert rate_map.rate == pytest.approx(rate_opt, rel=1e-9)
    run = optimizers.run(surfaces.quadratic([0.01, 1.0]), [-8.0, 3.0], "momentum", lr_opt, beta_opt, 300)
    np.testing.assert_array_equal(rate_map.run.points, run.points)


def dominant_regime_by_hand(lr: float, beta: float, mu: float) -> str:
    """The regime of the eigen-component with the larger spectral radius (ties: a real root)."""
    radii = {lam: float(theory.momentum_rate(lr, beta, [lam])) for lam in (mu, 1.0)}
    regimes = {lam: str(theory.momentum_regime(lr, beta, lam)) for lam in (mu, 1.0)}
    if radii[mu] != radii[1.0]:
        return regimes[max(radii, key=radii.get)]
    return regimes[1.0] if regimes[mu] == "ripples" else regimes[mu]


@pytest.mark.parametrize("kappa", [100.0, 10.0, 1.0])
def test_rate_map_regime_labels_sit_in_their_regions(kappa):
    mu = 1.0 / kappa
    for name, where in rate_map_module.regime_label_positions(mu).items():
        assert where is not None, f"{name} is not labelled at kappa {kappa}"
        point, _text = where
        assert dominant_regime_by_hand(*point, mu) == name, (kappa, name)
    lr, beta = rate_map_module.regime_label_positions(mu)["divergence"][0]
    assert lr > 2.0 + 2.0 * beta


def test_rate_map_select_and_its_readout(rate_map):
    rate_map.select(2.5, 0.3)
    assert (rate_map.lr, rate_map.beta) == (2.5, 0.3)
    run = optimizers.run(surfaces.quadratic([0.01, 1.0]), [-8.0, 3.0], "momentum", 2.5, 0.3, 300)
    np.testing.assert_array_equal(rate_map.run.points, run.points)
    rate = theory.momentum_rate(2.5, 0.3, [0.01, 1.0])
    assert rate_map.rate == rate
    steps = math.ceil(math.log(1e-6) / math.log(rate))
    text = "\n".join(rate_map.readout_lines())
    assert f"rate ρ = {rate:.4f}" in text
    assert f"steps to shrink the error by 1e-6 (theory, ceil(log 1e-6 / log ρ)): {steps}" in text
    for name, lam in (("μ", 0.01), ("L", 1.0)):
        assert f"λ = {name} = {lam:.4g}: {theory.momentum_regime(2.5, 0.3, lam)}" in text
    assert rate_map.describe() == rate_map.readout.value == "<br>".join(rate_map.readout_lines())


def test_rate_map_default_readout(rate_map):
    # lr = 1, beta = 0.9: both components ripple, rate sqrt(0.9) = 0.9487, 263 steps to 1e-6.
    lines = rate_map.readout_lines()
    assert lines[0] == (
        "lr·L = 1.000, β = 0.900, κ = 100: rate ρ = 0.9487 "
        "(theory: largest spectral radius over λ = μ and λ = L)"
    )
    assert lines[1] == "λ = μ = 0.01: ripples (radius 0.9487); λ = L = 1: ripples (radius 0.9487)"
    assert math.ceil(math.log(1e-6) / math.log(math.sqrt(0.9))) == 263
    assert lines[2].endswith("(theory, ceil(log 1e-6 / log ρ)): 263")
    errors = np.hypot(*rate_map.run.points.T)
    assert lines[3] == f"the run: error below 1e-6 |x₀| at step {int(np.argmax(errors <= 1e-6 * errors[0]))}"
    assert lines[4] == (
        "optimum for κ = 100: lr·L = 3.3058, β = 0.6694, ρ = 0.8182 (theory: 69 steps); "
        "best GD: lr·L = 1.9802, ρ = 0.9802 (theory: 691 steps)"
    )


def test_rate_map_shows_a_diverging_choice_as_diverged(rate_map):
    rate_map.lr_slider.value = 3.5  # lr L = 3.5 > 2 + 2 beta = 2.4
    rate_map.beta_slider.value = 0.2
    assert rate_map.rate == theory.momentum_rate(3.5, 0.2, [0.01, 1.0]) > 1.0
    k = heavy_ball_divergence_step([0.01, 1.0], [-8.0, 3.0], 3.5, 0.2, 1e4, 300)
    assert k is not None and rate_map.run.diverged_at == k
    text = "\n".join(rate_map.readout_lines())
    assert "diverges: ρ = " in text and "steps to shrink" not in text
    assert f"the run: diverged at step {k} (|x| passed 10000)" in text


def test_rate_map_kappa_recomputes(rate_map):
    rate_map.kappa_slider.value = 10.0
    assert rate_map.mu == 0.1
    assert rate_map.optimum == theory.optimal_momentum(0.1, 1.0)
    run = optimizers.run(surfaces.quadratic([0.1, 1.0]), [-8.0, 3.0], "momentum", 1.0, 0.9, 300)
    np.testing.assert_array_equal(rate_map.run.points, run.points)
    assert "κ = 10:" in rate_map.readout_lines()[0]


def test_rate_map_rejects_bad_input(rate_map):
    with pytest.raises(ValueError, match=r"kappa must be in \[1, 1000\]"):
        RateMap(kappa=0.5)
    with pytest.raises(ValueError, match="kappa"):
        rate_map.kappa = 2000
    with pytest.raises(ValueError, match="lr"):
        RateMap(lr=0.0)
    with pytest.raises(ValueError, match="lr"):
        rate_map.select(5.0, 0.5)
    with pytest.raises(ValueError, match="beta"):
        rate_map.select(1.0, 1.0)
    with pytest.raises(ValueError, match="beta"):
        RateMap(beta=-0.1)
    with pytest.raises(ValueError, match="start"):
        RateMap(start=[0.0, 0.0])
    with pytest.raises(ValueError, match="steps"):
        RateMap(steps=5)
    with pytest.raises(ValueError, match="grid"):
        RateMap(grid=5)
    # A refused selection leaves the widget as it was.
    assert (rate_map.lr, rate_map.beta, rate_map.kappa) == (1.0, 0.9, 100.0)


def test_rate_map_steps_to_shrink():
    assert rate_map_module.steps_to_shrink(0.5) == math.ceil(math.log(1e-6) / math.log(0.5)) == 20
    assert rate_map_module.steps_to_shrink(0.0) == 1
    assert rate_map_module.steps_to_shrink(1.0) is None


# --- lesson 00's parabola --------------------------------------------------------------


def test_parabola_slider_is_x_k_equal_one_minus_lr_to_the_k():
    p = ParabolaSlider()
    assert p.kind == "parabola" and "lr" in synced(p) and p.lr == 0.5
    for lr in (0.05, 0.5, 1.0, 1.5, 2.1):
        p.lr_slider.value = lr
        np.testing.assert_allclose(p.run.points[:, 0], (1.0 - lr) ** np.arange(11), rtol=1e-12, atol=1e-300)
    p.lr = 0.5
    assert p.readout.value == "each step multiplies x by 1 - lr = +0.50: the iterate shrinks"
    p.lr = 2.1
    assert p.readout_lines() == ["each step multiplies x by 1 - lr = -1.10: the iterate does not shrink"]
    p.lr = 1.0
    assert p.readout_lines() == ["each step multiplies x by 1 - lr = +0.00: the iterate shrinks"]
    with pytest.raises(ValueError, match=r"lr must be in \[0.05, 2.2\]"):
        ParabolaSlider(lr=2.5)
    data, _ = p._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)


def test_static_figures_and_widgets_share_one_palette_and_line_styles():
    """plotting.METHOD_COLORS / METHOD_LINESTYLES (static figures) equal course_widgets.js's METHOD_STYLE."""
    import re

    from lessons_lib import plotting
    from lessons_lib.widgets._base import ESM

    js = ESM.read_text()
    colors = dict(re.findall(r'(\w+): "(#[0-9A-Fa-f]{6})"', js[js.index("export const COLORS"):]))
    styles = re.findall(r'\b(gd|momentum|nesterov): \{ label: "[^"]+", color: COLORS\.(\w+), '
                        r'dash: \[([\d, ]*)\]', js)
    assert len(styles) == 3
    for method, color_name, dash in styles:
        assert plotting.METHOD_COLORS[method].lower() == colors[color_name].lower()
        pattern = tuple(int(v) for v in dash.split(",") if v.strip())
        ls = plotting.METHOD_LINESTYLES[method]
        assert (ls == "-" and pattern == ()) or ls == (0, pattern)
