"""The widgets' ES module in Chromium: equal to the Python reference, and what it draws.

One headless Chromium (Debian's, driven by Playwright) loads ``course_widgets.js`` into a
plain page that Playwright serves itself (no server, no network; see
``browser_support.serve_widget_page``), as anywidget would load it. Two groups of tests:

* **Equal to the library.** The module's trajectories equal :func:`lessons_lib.optimizers.run`
  to a relative 1e-9 over 1,000 steps on every surface x method with random (lr, beta,
  start), with divergence at the same step; its rates equal :mod:`lessons_lib.theory` on a
  grid; its rate map, regions' names, SGD paths and readouts equal the Python widgets'.
* **What is drawn.** Each widget renders on a minimal stand-in for an anywidget model
  (get/set/on/off/save_changes) holding the Python widget's own synced state; the tests
  change controls as a reader does and traits as a cell does, in either order, and compare
  the pixels with a fresh view of the final state, the legend, the canvas size at 560 and
  1440 px, the slider steps, a click, Play's frame rate, and the console.

Screenshots (1440x900 and a 592-px output column as in a 1024x700 window with the file
browser open) and measured figures go to test-artifacts/browser/widgets/.
Without Chromium the tests skip; with LESSONS_REQUIRE_BROWSER=1 (CI) they fail instead.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest
from browser_support import (
    ARTIFACTS,
    ConsoleLog,
    launched_chromium,
    record_figures,
    serve_widget_page,
    widget_state,
)

from lessons_lib import optimizers, surfaces, theory
from lessons_lib.widgets import ParabolaSlider, RateMap, SGDExplorer, SpectrumWidget, TrajectoryExplorer
from lessons_lib.widgets import explorer as explorer_module
from lessons_lib.widgets import rate_map as rate_map_module
from lessons_lib.widgets import spectrum as spectrum_module
from lessons_lib.widgets._base import surface_spec
from lessons_lib.widgets.sgd import STEPS_RANGE, minibatch_draws, running_average, sgd_path

pytestmark = pytest.mark.browser

OUT = ARTIFACTS / "widgets"
REL_TOL = 1e-9
METHODS = ("gd", "momentum", "nesterov")
RESULTS: dict[str, object] = {}  # measured figures, written to OUT / "results.json"


@pytest.fixture(scope="module")
def browser():
    with launched_chromium(OUT) as b:
        try:
            yield b
        finally:
            record_figures(OUT / "results.json", RESULTS)


def open_page(browser, width: int = 1440, height: int = 900):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.console_log = ConsoleLog(page)
    serve_widget_page(page)
    return page


@pytest.fixture
def page(browser):
    pg = open_page(browser)
    try:
        yield pg
    finally:
        pg.context.close()


def assert_console_clean(page) -> None:
    errors = page.console_log.errors
    if errors:
        raise AssertionError("the browser console logged errors:\n" + "\n".join(errors))


def mount(page, view_id: str, widget_or_state, width: int, model: str | None = None) -> str:
    """A view of a new model holding ``widget_or_state`` (or of the existing ``model``), drawn."""
    if model is None:
        model = view_id
        state = widget_or_state if isinstance(widget_or_state, dict) else widget_state(widget_or_state)
        page.evaluate("([name, state]) => newModel(name, state)", [model, state])
    page.evaluate("([id, model, width]) => mount(id, model, width)", [view_id, model, width])
    page.evaluate("() => frames(2)")
    return view_id


def drawn(page, view_id: str) -> dict:
    return page.evaluate("(id) => widget(id).drawn", view_id)


def pixels(page, view_id: str) -> np.ndarray:
    """The view's canvas as an (h, w, 4) uint8 array (through a lossless PNG)."""
    import base64
    import io

    from PIL import Image

    url = page.evaluate(
        "(id) => document.querySelector(`#${id} canvas.cw-canvas`).toDataURL('image/png')", view_id
    )
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))


def model_state(page, model: str) -> dict:
    return page.evaluate("(m) => { const s = {...models[m].state}; delete s.draws; return s; }", model)


def apply_to_python(widget, state: dict) -> None:
    """What the kernel does with the browser's changes: set the traits (one message, one hold)."""
    keys = (
        "surface",
        "lr",
        "momentum",
        "beta",
        "kappa",
        "steps",
        "start_x",
        "start_y",
        "methods",
        "frame",
        "batch_size",
        "seed",
        "show_average",
    )
    with widget.hold_trait_notifications():
        for k in keys:
            if k in state and widget.has_trait(k) and getattr(widget, k) != state[k]:
                setattr(widget, k, state[k])


def relative_error(js: np.ndarray, py: np.ndarray) -> float:
    """max |js - py| / |py| over the finite entries (0 where both are 0); NaN patterns must agree."""
    assert (np.isnan(js) == np.isnan(py)).all(), "NaN at different entries"
    ok = ~np.isnan(py)
    a, b = js[ok], py[ok]
    diff = np.abs(a - b)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(diff == 0, 0.0, diff / np.abs(b))
    return float(rel.max()) if rel.size else 0.0


# --- equal to the library -----------------------------------------------------------------------


def random_configs(seed: int = 2026, per_method: int = 8):
    """Per surface x method: half with lr spread over the explorer's whole slider (10^-5 .. 10^0.5,
    many of these diverge), half around the surface's default lr; beta in [0, 0.99); start in the
    plot range."""
    rng = np.random.default_rng(seed)
    table = explorer_module.available_surfaces()
    for name, s in table.items():
        spec = surface_spec(s, default_lr=explorer_module.DEFAULT_LR[name])
        for method in METHODS:
            for i in range(per_method):
                if i % 2:
                    lr = 10.0 ** rng.uniform(*explorer_module.LR_EXPONENTS)
                else:
                    lr = explorer_module.DEFAULT_LR[name] * 10.0 ** rng.uniform(-1.0, 0.5)
                beta = 0.0 if method == "gd" else float(rng.uniform(0.0, 0.99))
                start = [float(rng.uniform(*s.xlim)), float(rng.uniform(*s.ylim))]
                yield {
                    "name": name,
                    "spec": spec,
                    "x0": start,
                    "method": method,
                    "lr": float(lr),
                    "beta": beta,
                    "steps": 1000,
                }


def test_trajectories_equal_optimizers_run(page):
    """Every surface x method, random (lr, beta, start): points and losses to a relative 1e-9
    over 1,000 steps, divergence at the same step."""
    configs = list(random_configs())
    results = page.evaluate(
        """(configs) => configs.map((c) => {
        const r = cw.simulate(c.spec, c.x0, c.method, c.lr, c.beta, c.steps);
        return {points: Array.from(r.points), losses: Array.from(r.losses), divergedAt: r.divergedAt}; })""",
        configs,
    )
    table = explorer_module.available_surfaces()
    worst_points = worst_losses = 0.0
    diverged = 0
    for c, r in zip(configs, results, strict=True):
        ref = optimizers.run(table[c["name"]], c["x0"], c["method"], c["lr"], c["beta"], c["steps"])
        where = f"{c['name']} {c['method']} lr={c['lr']:.6g} beta={c['beta']:.6g} start={c['x0']}"
        assert r["divergedAt"] == ref.diverged_at, (
            f"{where}: diverged at {r['divergedAt']}, Python {ref.diverged_at}"
        )
        points = np.array(r["points"], dtype=float).reshape(-1, 2)
        losses = np.array(r["losses"], dtype=float)
        e_points, e_losses = relative_error(points, ref.points), relative_error(losses, ref.losses)
        assert e_points <= REL_TOL and e_losses <= REL_TOL, f"{where}: relative errors {e_points}, {e_losses}"
        worst_points, worst_losses = max(worst_points, e_points), max(worst_losses, e_losses)
        diverged += ref.diverged
    assert 0 < diverged < len(configs)  # both kinds of run were compared
    RESULTS["trajectories"] = {
        "runs": len(configs),
        "steps": 1000,
        "diverged": diverged,
        "max_relative_error_points": worst_points,
        "max_relative_error_losses": worst_losses,
    }


def test_rates_equal_theory(page):
    lr = np.linspace(0.0, 4.2, 85)[1:]
    beta = np.linspace(0.0, 0.999, 64)
    eig_sets = [[0.01, 1.0], [0.05, 1.0], [1.0], [0.2, 4.0], [0.3, 0.7, 2.5], [1e-3, 1.0]]
    js = page.evaluate(
        """([lrs, betas, sets]) => sets.map((lam) => ({
        momentum: lrs.map((lr) => betas.map((b) => cw.momentumRate(lr, b, lam))),
        nesterov: lrs.map((lr) => betas.map((b) => cw.nesterovRate(lr, b, lam))),
        gd: lrs.map((lr) => cw.gdRate(lr, lam)),
        regime: lrs.map((lr) => betas.map((b) => cw.momentumRegime(lr, b, lam[0]))) }))""",
        [lr.tolist(), beta.tolist(), eig_sets],
    )
    worst = 0.0
    for lam, r in zip(eig_sets, js, strict=True):
        L, B = lr[:, None], beta[None, :]
        for name, ref in (
            ("momentum", theory.momentum_rate(L, B, lam)),
            ("nesterov", theory.nesterov_rate(L, B, lam)),
        ):
            err = relative_error(np.array(r[name]), ref)
            assert err <= 1e-12, (name, lam, err)
            worst = max(worst, err)
        assert relative_error(np.array(r["gd"]), theory.gd_rate(lr, lam)) <= 1e-12
        np.testing.assert_array_equal(np.array(r["regime"]), theory.momentum_regime(L, B, lam[0]))
    # the complex regime: sqrt(beta), not 2 sqrt(beta)
    assert page.evaluate("() => cw.momentumRate(1.0, 0.9, [0.01, 1.0])") == math.sqrt(0.9)
    RESULTS["rates"] = {
        "grid": [len(lr), len(beta)],
        "eigenvalue_sets": len(eig_sets),
        "max_relative_error": worst,
    }


@pytest.mark.parametrize("kappa", [1.0, 2.0, 10.0, 20.0, 100.0, 1000.0])
def test_rate_map_numbers_equal_python(page, kappa):
    mu = 1.0 / kappa
    n = 120
    js = page.evaluate(
        """([mu, n]) => ({grid: Array.from(cw.rateGrid(mu, 1.0, n)),
        labels: cw.regimeLabelPositions(mu, 1.0, 160), opt: cw.optimalMomentum(mu, 1.0),
        gd: cw.optimalGd(mu, 1.0)})""",
        [mu, n],
    )
    lr, beta = rate_map_module.grid_axes(n)
    ref = theory.momentum_rate(lr[None, :], beta[:, None], [mu, 1.0])
    np.testing.assert_array_equal(np.array(js["grid"]).reshape(n, n), ref)
    for name, where in rate_map_module.regime_label_positions(mu, 1.0).items():
        if where is None:
            assert js["labels"][name] is None
        else:
            assert (tuple(js["labels"][name]["point"]), tuple(js["labels"][name]["text"])) == where, name
    np.testing.assert_allclose(js["opt"], theory.optimal_momentum(mu, 1.0), rtol=1e-14)
    np.testing.assert_allclose(js["gd"], theory.optimal_gd(mu, 1.0), rtol=1e-14)


def test_sgd_paths_equal_sgd_path(page):
    x, y = surfaces.regression_data()
    spec = SGDExplorer().surface_spec
    cases = [
        (0.3, 1, 1000, 0, 0.0),
        (0.2, 4, 300, 7, 0.5),
        (0.05, 8, 2000, 3, 0.9),
        (1.9, 1, 300, 0, 0.0),
        (0.8, 32, 500, 11, 0.3),
        (0.3, 40, 400, 0, 0.0),
        (0.5, 16, 50, 2**32 - 1, 0.95),
    ]
    payload = [
        {
            "lr": lr,
            "B": B,
            "steps": steps,
            "beta": beta,
            "draws": None if B == 40 else minibatch_draws(40, B, steps, seed).ravel().tolist(),
        }
        for lr, B, steps, seed, beta in cases
    ]
    js = page.evaluate(
        """([x, y, spec, cases]) => cases.map((c) => {
        const r = cw.sgdPath(x, y, spec.start, c.lr, c.B, c.steps, c.draws, c.beta, spec.escape_radius);
        return {points: Array.from(r.points), divergedAt: r.divergedAt,
                average: Array.from(cw.runningAverage(r.points))}; })""",
        [x.tolist(), y.tolist(), spec, payload],
    )
    for (lr, B, steps, seed, beta), r in zip(cases, js, strict=True):
        points, diverged_at = sgd_path(x, y, spec["start"], lr, B, steps, seed, beta)
        assert r["divergedAt"] == diverged_at
        np.testing.assert_array_equal(np.array(r["points"], dtype=float).reshape(-1, 2), points)
        np.testing.assert_array_equal(
            np.array(r["average"], dtype=float).reshape(-1, 2), running_average(points)
        )
    # numpy's pairwise summation, written out in the module
    rng = np.random.default_rng(5)
    arrays = [
        rng.standard_normal(n) * 10.0 ** rng.uniform(-5, 5, n) for n in (*range(1, 140), 255, 256, 1000, 4097)
    ]
    sums = page.evaluate(
        "(arrays) => arrays.map((a) => cw.pairwiseSum(a, a.length))", [a.tolist() for a in arrays]
    )
    assert sums == [float(np.add.reduce(a)) for a in arrays]


def test_number_formatting_is_pythons(page):
    values = [
        0.0,
        -0.0,
        1.0,
        0.5,
        0.125,
        0.0625,
        2.5,
        -2.5,
        0.015,
        1e-6,
        1e-5,
        123456.0,
        1234567.0,
        9.9995,
        99999.5,
        0.00012345,
        3.3058,
        1e4,
        46011.2,
        1e300,
        5e-324,
        float("nan"),
        float("inf"),
        -float("inf"),
    ]
    values += np.random.default_rng(3).standard_normal(200).tolist()
    values += (10.0 ** np.random.default_rng(4).uniform(-12, 12, 200)).tolist()
    specs = [
        ("f", 0),
        ("f", 2),
        ("f", 3),
        ("f", 4),
        ("e", 2),
        ("e", 0),
        ("g", 3),
        ("g", 4),
        ("g", 6),
        ("g", 1),
    ]
    js = page.evaluate(
        """([values, specs]) => specs.map(([kind, p]) => values.map((v) =>
        kind === 'f' ? cw.formatF(v, p) : kind === 'e' ? cw.formatE(v, p) : cw.formatG(v, p)))""",
        [values, specs],
    )
    for (kind, p), row in zip(specs, js, strict=True):
        assert row == [format(v, f".{p}{kind}") for v in values], (kind, p)


def explorer_cases():
    yield TrajectoryExplorer("rosenbrock", steps=300)
    yield TrajectoryExplorer("quadratic", lr=0.476, steps=100, methods=("gd",))
    yield TrajectoryExplorer("quadratic", lr=0.51, steps=100, methods=("gd",))  # growing
    yield TrajectoryExplorer("quadratic", lr=1.0, steps=50)  # diverges
    yield TrajectoryExplorer("quadratic", lr=0.2, momentum=0.5, steps=400, methods=("gd",))  # reaches tol
    yield TrajectoryExplorer("saddle", steps=40)
    yield TrajectoryExplorer("linear_regression", lr=0.01, momentum=0.9, steps=300)
    yield TrajectoryExplorer("himmelblau", steps=500, methods=("nesterov",), tol=1e-10)
    yield TrajectoryExplorer("rastrigin", steps=2000, start=(0.4, -2.1))
    yield TrajectoryExplorer("beale", steps=10, methods=())


def rate_map_cases():
    yield RateMap()
    yield RateMap(kappa=20, lr=2.0, beta=0.6)
    yield RateMap(kappa=100, lr=3.5, beta=0.2)  # diverges
    yield RateMap(kappa=1.0, lr=1.0, beta=0.0)
    yield RateMap(kappa=1000.0, lr=0.05, beta=0.99, steps=50)
    rm = RateMap(kappa=37.3)
    rm.select_optimum()
    yield rm
    yield RateMap(kappa=20, lr=0.8, beta=0.6, method="nesterov")
    yield RateMap(kappa=100, lr=1.9, beta=0.5, method="nesterov")  # beyond Nesterov's edge: diverges
    rm = RateMap(kappa=1000.0, method="nesterov")
    rm.select_optimum()
    yield rm
    yield RateMap(kappa=100, lr=1.0, beta=0.9, method="compare")  # Nesterov faster
    yield RateMap(kappa=20, lr=2.0, beta=0.6, method="compare")  # the heavy ball faster, Nesterov diverges
    yield RateMap(kappa=100, lr=3.5, beta=0.2, method="compare")  # both diverge
    yield RateMap(kappa=1.0, lr=1.0, beta=0.0, method="compare")  # beta = 0: a tie


def spectrum_cases():
    yield SpectrumWidget()
    yield SpectrumWidget(n=3, lr=1.0, beta=0.95)  # every component in ripples: a shared pace
    yield SpectrumWidget(n=16, lr=3.9, beta=0.0, steps=100)  # gradient descent diverges on lambda = 1
    yield SpectrumWidget(n=12, lr=0.05, beta=0.99, steps=2000)
    w = SpectrumWidget(n=10)
    w.select_optimum()
    yield w


def sgd_cases():
    yield SGDExplorer()
    w = SGDExplorer(lr=0.2, batch_size=4, steps=300, seed=7, momentum=0.5)
    w.show_average = True
    yield w
    yield SGDExplorer(lr=1.9, steps=300)  # diverges
    yield SGDExplorer(batch_size=40, steps=200)
    yield SGDExplorer(batch_size=3, lr=0.05, momentum=0.9, steps=2000, seed=12)


def test_readouts_equal_pythons(page):
    """The text under each figure, computed in the browser, equals the widget's readout_lines()."""
    checks = [
        ("explorerState", explorer_cases()),
        ("rateMapState", rate_map_cases()),
        ("sgdState", sgd_cases()),
        ("spectrumState", spectrum_cases()),
        ("parabolaState", (ParabolaSlider(lr) for lr in (0.05, 0.5, 0.95, 1.0, 1.05, 1.5, 2.0, 2.1, 2.2))),
    ]
    count = 0
    for fn, widgets in checks:
        for w in widgets:
            state = widget_state(w)
            lines = page.evaluate(
                f"""(state) => {{ const m = newModel('readout', state);
                return cw.{fn}((k) => models[m].get(k)).lines; }}""",
                state,
            )
            assert lines == w.readout_lines(), (fn, state.get("surface"))
            count += 1
    for lr in (0.5, 1.9, 2.0, 2.05, 2.2):  # the parabola's y-axis, widened once the iterates grow
        w = ParabolaSlider(lr)
        ylim = page.evaluate("""(state) => { const m = newModel('ylim', state);
            return cw.parabolaState((k) => models[m].get(k)).ylim; }""", widget_state(w))
        assert ylim == pytest.approx(w.y_limit, rel=1e-12), lr
    assert ParabolaSlider(2.2).y_limit == pytest.approx(1.1 * 1.2**10) and ParabolaSlider(1.5).y_limit == 2.2
    RESULTS["readouts_compared"] = count


# --- what is drawn ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "dpr"), [(560, 1), (1440, 1), (800, 2)])
def test_every_widget_draws_at_560_and_1440_px(browser, width, dpr):
    """The figure fills the output's width (the parabola up to 720 px), in device pixels."""
    context = browser.new_context(
        viewport={"width": max(width + 40, 800), "height": 900}, device_scale_factor=dpr
    )
    page = context.new_page()
    page.console_log = ConsoleLog(page)
    serve_widget_page(page)
    try:
        for view, widget, height in (
            ("explorer", TrajectoryExplorer(), 300),
            ("rate_map", RateMap(), 300),
            ("sgd", SGDExplorer(), 300),
            ("parabola", ParabolaSlider(), 200),
            ("spectrum", SpectrumWidget(), 300),
            ("nesterov_map", RateMap(method="nesterov"), 300),
            ("compare_map", RateMap(method="compare"), 300),
        ):
            mount(page, view, widget, width)
            d = drawn(page, view)
            w, h = d["canvas"]
            css = min(width, 720) if view == "parabola" else width
            assert w == round(css * dpr) and h > height * dpr, (view, d["canvas"])
            assert d["lines"] == widget.readout_lines()
            # the canvas is drawn on, not blank
            img = pixels(page, view)
            assert (img[..., :3].min(axis=-1) < 200).mean() > 0.01, view
            page.locator(f"#{view}").screenshot(path=str(OUT / f"{view}-{width}px-dpr{dpr}.png"))
        # narrower than 560: the figure keeps 560 px and the output scrolls sideways
        mount(page, "narrow", TrajectoryExplorer(), 400)
        assert drawn(page, "narrow")["canvas"][0] == 560 * dpr
        # the output area changes width (a side panel opens): the figure follows
        page.evaluate("() => { document.getElementById('explorer').style.width = '700px'; }")
        page.evaluate("() => frames(3)")
        assert drawn(page, "explorer")["canvas"][0] == 700 * dpr
        assert_console_clean(page)
    finally:
        page.context.close()


@pytest.mark.parametrize(("viewport", "column"), [((1440, 900), 1380), ((1024, 700), 592)])
def test_screenshots_at_laptop_and_desktop_sizes(browser, viewport, column):
    """A 1024x700 window with JupyterLab's file browser open leaves a 592-px output column."""
    page = open_page(browser, *viewport)
    try:
        for view, widget in (
            ("explorer", TrajectoryExplorer("quadratic", lr=0.3, momentum=0.8)),
            ("rate_map", RateMap(kappa=20, lr=2.0, beta=0.6)),
            ("sgd", SGDExplorer(batch_size=8)),
            ("compare_map", RateMap(kappa=20, lr=2.0, beta=0.6, method="compare")),
            ("spectrum", SpectrumWidget()),
        ):
            mount(page, view, widget, column)
            page.locator(f"#{view}").scroll_into_view_if_needed()
            page.screenshot(path=str(OUT / f"{view}-{viewport[0]}x{viewport[1]}.png"))
            # controls wrap instead of shrinking: every slider keeps a usable width
            widths = page.evaluate(
                "(id) => Array.from(document.querySelectorAll(`#${id} input[type=range]`))"
                ".map((i) => i.getBoundingClientRect().width)",
                view,
            )
            assert min(widths) >= 100, (view, widths)
            # no label, readout, title or button text is cut off (tests/browser_routes.js checks it in Lab)
            cut = page.evaluate(
                """(id) => Array.from(document.querySelectorAll(`#${id} .cw-label, #${id} .cw-readout,
                #${id} .cw-title, #${id} .cw-control span, #${id} button`))
                .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== "inline")
                .map((e) => e.textContent)""",
                view,
            )
            assert not cut, (view, cut)
        assert_console_clean(page)
    finally:
        page.context.close()


def test_switching_the_surface_leaves_nothing_of_the_old(page):
    """Choose rosenbrock -> quadratic in the chooser: the picture equals a fresh view of the
    quadratic state, pixel for pixel, and the title is the new surface's."""
    e = TrajectoryExplorer("rosenbrock", steps=300)
    mount(page, "a", e, 1000)
    page.select_option("#a select", "quadratic")
    page.evaluate("() => frames(2)")
    state = model_state(page, "a")
    apply_to_python(e, state)  # the kernel receives the change ...
    assert (e.surface, e.start_x, e.start_y, e.lr) == ("quadratic", -8.0, 3.0, 0.3)  # ... and agrees
    fresh = TrajectoryExplorer("quadratic", steps=300)
    mount(page, "b", fresh, 1000)
    assert drawn(page, "a")["title"] == drawn(page, "b")["title"] == "quadratic: f(x, y) = 0.1 x² + 2 y²"
    assert np.array_equal(pixels(page, "a"), pixels(page, "b"))
    assert drawn(page, "a")["lines"] == fresh.readout_lines() == e.readout_lines()
    # and back, set from Python this time (a cell): the view follows
    e.surface = "rosenbrock"
    for k, v in widget_state(e).items():
        page.evaluate("([k, v]) => models.a.set(k, v)", [k, v])
    page.evaluate("() => frames(2)")
    mount(page, "c", TrajectoryExplorer("rosenbrock", steps=300), 1000)
    assert np.array_equal(pixels(page, "a"), pixels(page, "c"))
    assert_console_clean(page)


def okabe_ito_pixels(img: np.ndarray, hex_color: str) -> int:
    rgb = np.array([int(hex_color[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(img[..., :3].astype(int) - rgb).max(axis=-1) <= 10).sum())


def test_legend_lists_only_ticked_methods(page):
    mount(page, "a", TrajectoryExplorer("quadratic", lr=0.3, momentum=0.8), 1000)
    nesterov_green = "#009E73"
    assert okabe_ito_pixels(pixels(page, "a"), nesterov_green) > 50
    page.get_by_role("checkbox", name="Nesterov").uncheck()
    page.evaluate("() => frames(2)")
    d = drawn(page, "a")
    assert d["legend"] == ["gradient descent", "momentum", "start", "minimum"]
    assert model_state(page, "a")["methods"] == ["gd", "momentum"]
    assert okabe_ito_pixels(pixels(page, "a"), nesterov_green) == 0  # no Nesterov path, loss curve or entry
    assert [line.split(":")[0] for line in d["lines"]] == ["gradient descent", "momentum"]
    page.get_by_role("checkbox", name="gradient descent").uncheck()
    page.get_by_role("checkbox", name="momentum").uncheck()
    page.evaluate("() => frames(2)")
    assert drawn(page, "a")["legend"] == ["start", "minimum"]
    assert drawn(page, "a")["lines"] == ["(no method selected)"]
    assert_console_clean(page)


def test_any_order_of_events_gives_the_same_picture(page):
    """Traits set before the view exists, right after it is created (before its first frame),
    from two views of one model, and after a view is removed and rendered again."""
    final = TrajectoryExplorer("beale", lr=2e-3, momentum=0.7, steps=400, methods=("gd", "nesterov"))
    mount(page, "ref", final, 900)
    reference = pixels(page, "ref")
    changes = {k: v for k, v in widget_state(final).items() if k != "surface_specs"}

    start = widget_state(TrajectoryExplorer("rosenbrock"))
    # set before the view exists
    page.evaluate(
        "([s, ch]) => { newModel('m1', s); for (const [k, v] of Object.entries(ch)) models.m1.set(k, v); }",
        [start, changes],
    )
    mount(page, "before", None, 900, model="m1")
    assert np.array_equal(pixels(page, "before"), reference)
    # set right after the view is created, in the same task (no frame drawn in between)
    page.evaluate(
        """([s, ch]) => { newModel('m2', s); mount('after', 'm2', 900);
        for (const [k, v] of Object.entries(ch)) models.m2.set(k, v); }""",
        [start, changes],
    )
    page.evaluate("() => frames(2)")
    assert np.array_equal(pixels(page, "after"), reference)
    assert page.evaluate("() => widget('after').stats.draws") == 1  # many changes, one draw
    # two views of one model; a change in one shows in both
    mount(page, "twin", None, 900, model="m2")
    page.locator("#after input[aria-label='momentum']").focus()
    page.keyboard.press("ArrowRight")
    page.evaluate("() => frames(2)")
    assert page.evaluate("() => models.m2.get('momentum')") == 0.71
    assert np.array_equal(pixels(page, "after"), pixels(page, "twin"))
    # removing a view removes its listeners; rendering again works
    listeners = page.evaluate("() => models.m2.listenerCount()")
    page.evaluate("() => unmount('twin')")
    assert page.evaluate("() => models.m2.listenerCount()") == listeners // 2
    mount(page, "again", None, 900, model="m2")
    assert np.array_equal(pixels(page, "again"), pixels(page, "after"))
    assert_console_clean(page)


def test_slider_steps_and_keys(page):
    mount(page, "e", TrajectoryExplorer("quadratic", lr=0.3, momentum=0.8), 1000)
    mount(page, "r", RateMap(kappa=20, lr=2.0, beta=0.6), 1000)

    def press(view, label, key):
        page.locator(f"#{view} input[aria-label='{label}']").focus()
        page.keyboard.press(key)
        page.evaluate("() => frames(1)")

    press("e", "momentum", "ArrowRight")
    assert page.evaluate("() => models.e.get('momentum')") == 0.81
    press("e", "momentum", "Shift+ArrowRight")
    assert page.evaluate("() => models.e.get('momentum')") == 0.811
    press("e", "momentum", "ArrowLeft")  # from between grid points: the next one down
    assert page.evaluate("() => models.e.get('momentum')") == 0.81
    press("e", "momentum", "ArrowLeft")
    assert page.evaluate("() => models.e.get('momentum')") == 0.8
    press("e", "lr", "ArrowRight")  # log scale, 0.01 in log10: from 0.3 = 10^-0.523 the next is 10^-0.52
    assert page.evaluate("() => models.e.get('lr')") == 10**-0.52
    press("e", "lr", "ArrowRight")
    assert page.evaluate("() => models.e.get('lr')") == 10**-0.51
    press("e", "steps", "ArrowRight")
    assert page.evaluate("() => [models.e.get('steps'), models.e.get('frame')]") == [310, 310]
    press("r", "momentum β", "ArrowUp")
    assert page.evaluate("() => models.r.get('beta')") == 0.61
    press("r", "momentum β", "Shift+ArrowDown")
    assert page.evaluate("() => models.r.get('beta')") == 0.609
    press("r", "lr (L = 1)", "PageUp")
    assert page.evaluate("() => models.r.get('lr')") == 2.1
    # the ends are the values Python accepts, exactly (10 ** 0.5 in V8 need not be Python's)
    press("e", "lr", "End")
    assert page.evaluate("() => models.e.get('lr')") == 10.0**0.5
    press("e", "lr", "Home")
    assert page.evaluate("() => models.e.get('lr')") == 1e-5
    press("r", "κ", "End")
    assert page.evaluate("() => models.r.get('kappa')") == 1000.0
    press("r", "κ", "Home")
    assert page.evaluate("() => models.r.get('kappa')") == 1.0
    press("r", "κ", "End")
    # the shown step runs to the step count, whatever it is
    page.evaluate("() => { models.e.set('steps', 1200); models.e.set('frame', 1200); }")
    press("e", "show step", "Home")
    press("e", "show step", "PageUp")
    assert page.evaluate("() => models.e.get('frame')") == 10
    press("e", "show step", "End")
    assert page.evaluate("() => models.e.get('frame')") == 1200
    explorer = TrajectoryExplorer("quadratic", lr=0.3, momentum=0.8)
    apply_to_python(explorer, model_state(page, "e"))  # the kernel accepts every value sent
    assert (explorer.lr, explorer.steps, explorer.frame) == (1e-5, 1200, 1200)
    assert drawn(page, "e")["lines"] == explorer.readout_lines()
    # numbers are shown rounded
    readouts = page.evaluate(
        "() => Array.from(document.querySelectorAll('#e output')).map((o) => o.textContent)"
    )
    assert readouts[:2] == ["1e-05", "0.800"]
    page.get_by_role("button", name="go to the optimum").click()
    page.evaluate("() => frames(2)")
    lr_o, beta_o, _ = theory.optimal_momentum(0.001, 1.0)
    assert page.evaluate("() => [models.r.get('lr'), models.r.get('beta')]") == [lr_o, beta_o]
    state = model_state(page, "r")
    rm = RateMap(kappa=20, lr=2.0, beta=0.6)
    apply_to_python(rm, state)
    assert drawn(page, "r")["lines"] == rm.readout_lines()
    assert_console_clean(page)


def test_click_sets_the_start_or_the_pair_without_scrolling(page):
    page.evaluate("() => { document.body.style.paddingBottom = '3000px'; }")
    mount(page, "e", TrajectoryExplorer("rosenbrock"), 1000)
    mount(page, "r", RateMap(), 1000)
    # explorer: a click on the contour panel moves the start to the rounded data point
    page.evaluate("() => window.scrollTo(0, 200)")
    rect = drawn(page, "e")["pathRect"]
    box = page.locator("#e canvas").bounding_box()
    px, py = box["x"] + rect["x"] + 0.75 * rect["w"], box["y"] + rect["y"] + 0.5 * rect["h"]
    page.mouse.click(px, py)
    page.evaluate("() => frames(2)")
    x_expected = -2.0 + 0.75 * 4.0
    sx, sy = page.evaluate("() => [models.e.get('start_x'), models.e.get('start_y')]")
    assert sx == pytest.approx(x_expected, abs=0.01) and sy == pytest.approx(1.0, abs=0.01)
    assert sx == round(sx, 3) and sy == round(sy, 3)
    assert page.evaluate("() => window.scrollY") == 200
    assert drawn(page, "e")["lines"][0] == TrajectoryExplorer("rosenbrock", start=(sx, sy)).readout_lines()[0]
    # rate map: a click on the map selects (lr, beta)
    page.locator("#r").scroll_into_view_if_needed()
    y_before = page.evaluate("() => window.scrollY")
    rect = drawn(page, "r")["mapRect"]
    box = page.locator("#r canvas").bounding_box()
    page.mouse.click(box["x"] + rect["x"] + 0.375 * rect["w"], box["y"] + rect["y"] + 0.55 * rect["h"])
    page.evaluate("() => frames(2)")
    lr, beta = page.evaluate("() => [models.r.get('lr'), models.r.get('beta')]")
    assert lr == pytest.approx(1.5, abs=0.01) and beta == pytest.approx(0.45, abs=0.01)
    assert page.evaluate("() => window.scrollY") == y_before
    assert_console_clean(page)


def test_play_runs_at_its_nominal_frame_rate(page):
    e = TrajectoryExplorer("rosenbrock", steps=1000)
    mount(page, "e", e, 1000)
    page.get_by_role("button", name="Play").click()
    page.wait_for_timeout(2000)
    page.get_by_role("button", name="Pause").click()
    play = page.evaluate("() => widget('e').stats.play")
    fps = play["frames"] / play["seconds"]
    frame = page.evaluate("() => models.e.get('frame')")
    assert 0 < frame < 1000
    assert page.evaluate("() => models.e.saves") >= 1  # the shown step goes to the kernel when Play stops
    assert drawn(page, "e")["frame"] == frame
    assert fps >= 0.9 * e.play_fps, f"Play ran at {fps:.1f} frames/s, nominal {e.play_fps}"
    RESULTS["play_fps"] = {"measured": round(fps, 1), "nominal": e.play_fps}
    assert_console_clean(page)


#: 60 key presses (ten left, ten right, ...) on the slider ``label`` of the view ``#view``: for each,
#: the time from the dispatched keydown to the view's next draw, and that draw's own time.
KEY_TO_DRAWN_JS = """async ([view, label]) => {
  const input = document.querySelector(`#${view} input[aria-label='${label}']`);
  const w = widget(view), out = [];
  for (let i = 0; i < 60; i++) {
    const key = i % 20 < 10 ? 'ArrowLeft' : 'ArrowRight';
    const before = w.stats.draws, t0 = performance.now();
    input.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
    await new Promise((resolve) => { const poll = () => (w.stats.draws > before ? resolve()
      : requestAnimationFrame(poll)); poll(); });
    out.push({total: performance.now() - t0, draw: w.stats.lastDrawMs});
    await frames(1);
  }
  return out; }"""


def test_a_slider_move_redraws_within_a_frame(page):
    """ArrowRight on momentum, explorer on Rosenbrock with three methods and 300 steps (and the
    rate map's beta): the time from the key press to the drawn canvas, over 60 presses."""
    mount(page, "e", TrajectoryExplorer("rosenbrock", steps=300), 1000)
    mount(page, "r", RateMap(), 1000)
    results = {}
    for view, label in (("e", "momentum"), ("r", "momentum β")):
        page.locator(f"#{view} input[aria-label='{label}']").focus()
        samples = page.evaluate(KEY_TO_DRAWN_JS, [view, label])
        draw = sorted(s["draw"] for s in samples)
        total = sorted(s["total"] for s in samples)
        results[view] = {
            "draw_ms_p50": round(statistics.median(draw), 2),
            "draw_ms_p95": round(draw[56], 2),
            "key_to_drawn_ms_p50": round(statistics.median(total), 2),
            "key_to_drawn_ms_p95": round(total[56], 2),
        }
        # the reader's change is drawn within one 60 Hz frame of the key press (shown at the next paint)
        assert results[view]["draw_ms_p95"] <= 16.7, results[view]
        assert results[view]["key_to_drawn_ms_p95"] <= 16.7, results[view]
    # kappa recomputes the whole map, the regions' names and the contours: measured, not one frame
    page.locator("#r input[aria-label='κ']").focus()
    kappa = page.evaluate(
        """async () => { const input = document.querySelector("#r input[aria-label='κ']"), w = widget('r');
        const out = [];
        for (let i = 0; i < 40; i++) {
          const key = i < 20 ? 'ArrowLeft' : 'ArrowRight';
          input.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
          out.push(w.stats.lastDrawMs);
          await frames(1);
        }
        return out.sort((a, b) => a - b); }"""
    )
    results["r_kappa"] = {
        "draw_ms_p50": round(statistics.median(kappa), 2),
        "draw_ms_p95": round(kappa[37], 2),
    }
    assert results["r_kappa"]["draw_ms_p50"] <= 100, results["r_kappa"]
    RESULTS["slider_redraw"] = results
    assert_console_clean(page)


def test_sgd_explorer_draws_and_needs_the_kernel_only_for_a_new_seed(page):
    w = SGDExplorer(steps=500)
    mount(page, "s", w, 1000)
    assert drawn(page, "s")["legend"] == ["full-batch GD", "SGD"]
    page.get_by_label("show the running average").check()
    page.locator("#s input[aria-label='batch size']").focus()
    page.keyboard.press("ArrowRight")  # batch 2: its draws were sent with the seed
    page.evaluate("() => frames(2)")
    d = drawn(page, "s")
    assert d["ok"] and d["legend"] == ["full-batch GD", "SGD", "running average"]
    apply_to_python(w, model_state(page, "s"))
    assert (w.batch_size, w.show_average) == (2, True)
    assert d["lines"] == w.readout_lines()
    # a new seed: the browser has no draws for it until the kernel sends them
    page.get_by_role("button", name="new noise").click()
    page.evaluate("() => frames(2)")
    d = drawn(page, "s")
    assert not d["ok"] and d["legend"] == ["full-batch GD"]
    assert "kernel" in page.locator("#s .cw-notice").inner_text()
    apply_to_python(w, model_state(page, "s"))  # the kernel: seed 1, new draws
    assert w.seed == 1
    page.evaluate(
        """(s) => { newModel('kernel', s);  // what the kernel sends: the new seed's draws
        models.s.set('draws', models.kernel.get('draws'));
        models.s.set('draws_layout', models.kernel.get('draws_layout')); }""",
        widget_state(w),
    )
    page.evaluate("() => frames(2)")
    d = drawn(page, "s")
    assert d["ok"] and d["lines"] == w.readout_lines()
    assert_console_clean(page)


def test_sgd_batch_slider_reaches_every_option(page):
    w = SGDExplorer(batch_size=3, steps=100)  # 3 joins the options: 8 positions
    mount(page, "s", w, 1000)
    page.locator("#s input[aria-label='batch size']").focus()
    page.keyboard.press("End")
    page.evaluate("() => frames(2)")
    assert page.evaluate("() => models.s.get('batch_size')") == 40
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.evaluate("() => frames(2)")
    assert page.evaluate("() => models.s.get('batch_size')") == 3
    assert page.locator("#s output").nth(1).inner_text() == "3"
    apply_to_python(w, model_state(page, "s"))
    assert drawn(page, "s")["lines"] == w.readout_lines()
    assert_console_clean(page)


def test_sgd_draws_in_the_page_are_minibatch_draws(page):
    w = SGDExplorer(seed=5)
    page.evaluate("(s) => newModel('s', s)", widget_state(w))
    got = page.evaluate("""() => { const m = models.s, layout = m.get('draws_layout'), dv = m.get('draws');
        const a = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
        return [layout, Array.from(a.subarray(0, 2000 * 3))]; }""")
    layout, first = got
    assert layout["sizes"][0] == 1 and layout["rows"] == STEPS_RANGE[1]
    np.testing.assert_array_equal(np.array(first[:2000]), minibatch_draws(40, 1, STEPS_RANGE[1], 5).ravel())
    np.testing.assert_array_equal(np.array(first[2000:]).reshape(-1, 2)[:500], minibatch_draws(40, 2, 500, 5))


# --- Nesterov's rate map and the spectrum of many eigenvalues (issue 13) ------------------------


@pytest.mark.parametrize("kappa", [1.0, 2.0, 20.0, 100.0, 1000.0])
def test_nesterov_and_compare_maps_equal_python(page, kappa):
    """Nesterov's rate grid, regimes and regions' names, its numerically found best pair (the
    same search, step for step) and the compare map's verdicts equal the Python reference."""
    mu = 1.0 / kappa
    n = 120
    js = page.evaluate(
        """([mu, n]) => { const cmp = cw.compareGrid(mu, 1.0, n);
        const lr = Array.from({length: n}, (_, i) => (i + 0.5) / n * 4.0);
        return {grid: Array.from(cw.rateGrid(mu, 1.0, n, 'nesterov')), code: Array.from(cmp.code),
        ratio: Array.from(cmp.ratio, (v) => (Number.isNaN(v) ? null : v)),
        labels: cw.regimeLabelPositions(mu, 1.0, 160, 'nesterov'), opt: cw.optimalNesterov(mu, 1.0),
        regime: lr.map((a) => lr.map((_, j) => cw.nesterovRegime(a, (j + 0.5) / n, mu))),
        edge: [0, 0.25, 0.5, 0.999].map(cw.nesterovEdge)}; }""",
        [mu, n],
    )
    lr, beta = rate_map_module.grid_axes(n)
    ref = theory.nesterov_rate(lr[None, :], beta[:, None], [mu, 1.0])
    np.testing.assert_array_equal(np.array(js["grid"]).reshape(n, n), ref)
    code, ratio = rate_map_module.compare_rates(lr[None, :], beta[:, None], mu, 1.0)
    np.testing.assert_array_equal(np.array(js["code"]).reshape(n, n), code)
    js_ratio = np.array([np.nan if v is None else v for v in js["ratio"]]).reshape(n, n)
    np.testing.assert_allclose(js_ratio, ratio, rtol=1e-12, atol=1e-15)
    for name, where in rate_map_module.regime_label_positions(mu, 1.0, method="nesterov").items():
        if where is None:
            assert js["labels"][name] is None
        else:
            assert (tuple(js["labels"][name]["point"]), tuple(js["labels"][name]["text"])) == where, name
    np.testing.assert_allclose(js["opt"], theory.optimal_nesterov(mu, 1.0), rtol=1e-14, atol=1e-300)
    regimes = theory.nesterov_regime(lr[:, None], beta[None, :], mu)
    np.testing.assert_array_equal(np.array(js["regime"]), regimes)
    np.testing.assert_allclose(js["edge"], theory.nesterov_edge(np.array([0, 0.25, 0.5, 0.999])), rtol=1e-15)


def test_spectrum_errors_equal_the_closed_form(page):
    """The browser runs the iterations; the library has the closed form: equal to a relative 1e-9
    of each component's envelope (k + 1) rho^k, NaN (diverged) at the same steps."""
    rng = np.random.default_rng(13)
    cases = [(1.0, 0.8, 8, 300), (3.3, 0.7, 16, 500), (0.05, 0.99, 12, 2000), (3.9, 0.0, 10, 100),
             (2.0, (1 - np.sqrt(2.0)) ** 2, 4, 200)]
    cases += [
        (float(rng.uniform(0.001, 4.0)), float(rng.uniform(0.0, 0.999)), int(rng.integers(2, 17)), 400)
        for _ in range(20)
    ]
    js = page.evaluate(
        """(cases) => cases.map(([lr, beta, n, steps]) => { const r = cw.spectrumErrors(lr, beta, n, steps);
        const out = (a) => Array.from(a, (v) => (Number.isNaN(v) ? null : v));
        return {gd: out(r.gd), momentum: out(r.momentum), gdLoss: out(r.gdLoss),
                momentumLoss: out(r.momentumLoss)}; })""",
        [list(c) for c in cases],
    )
    worst = 0.0
    for (lr, beta, n, steps), r in zip(cases, js, strict=True):
        ref = spectrum_module.spectrum_errors(lr, beta, n, steps)
        lams = spectrum_module.eigenvalues(n)
        for m, b in (("gd", 0.0), ("momentum", beta)):
            got = np.array([np.nan if v is None else v for v in r[m]]).reshape(n, steps + 1)
            assert (np.isnan(got) == np.isnan(ref[m])).all(), (lr, beta, n, m)
            k = np.arange(steps + 1)
            for i, lam in enumerate(lams):
                rho = float(theory.momentum_rate(lr, b, [lam]))
                scale = (k + 1.0) * rho**k
                ok = ~np.isnan(ref[m][i])
                err = np.abs(got[i][ok] - ref[m][i][ok]) / np.maximum(scale[ok], 1e-300)
                assert err.max(initial=0.0) <= 1e-9, (lr, beta, n, m, i, err.max())
                worst = max(worst, float(err.max(initial=0.0)))
            loss = np.array([np.nan if v is None else v for v in r[f"{m}Loss"]])
            np.testing.assert_allclose(loss, spectrum_module.total_loss(got, lams), rtol=1e-15)
    RESULTS["spectrum"] = {"cases": len(cases), "max_error_over_envelope": worst}


def test_rate_map_method_selector(page):
    """Choosing the map from its selector: the model's method follows, the picture changes, the
    readout is the Python widget's for that method, and the legend names that method's markers."""
    rm = RateMap(kappa=20, lr=0.8, beta=0.6)
    mount(page, "r", rm, 1000)
    before = pixels(page, "r")
    for method, entry in (("nesterov", "ρᵏ ‖x₀‖ (theory)"), ("compare", "‖xₖ‖, Nesterov")):
        page.select_option("#r select", method)
        page.evaluate("() => frames(2)")
        state = model_state(page, "r")
        assert state["method"] == method
        rm.method = method  # what the kernel does with the change
        d = drawn(page, "r")
        assert d["method"] == method and d["lines"] == rm.readout_lines()
        assert entry in d["legend"]
        after = pixels(page, "r")
        assert not np.array_equal(before, after)
        before = after
    # the optimum button goes to the shown method's best pair (Polyak's when comparing)
    page.select_option("#r select", "nesterov")
    page.get_by_role("button", name="go to the optimum").click()
    page.evaluate("() => frames(2)")
    lr_o, beta_o, _ = theory.optimal_nesterov(1 / 20, 1.0)
    assert page.evaluate("() => [models.r.get('lr'), models.r.get('beta')]") == [lr_o, beta_o]
    fresh = RateMap(kappa=20, lr=lr_o, beta=beta_o, method="nesterov")
    mount(page, "fresh", fresh, 1000)
    assert np.array_equal(pixels(page, "r"), pixels(page, "fresh"))  # nothing of the old map is left
    assert_console_clean(page)


def test_spectrum_draws_and_a_key_press_redraws_within_a_frame(page):
    """The spectrum widget: eta and beta sliders move all curves; the time from the key press to
    the drawn canvas (60 presses on each), and from the keydown to the first frame whose pixels
    differ (spectrum_slider_to_pixels_ms, for benchmarks/run.py)."""
    w = SpectrumWidget()
    mount(page, "s", w, 1000)
    d = drawn(page, "s")
    assert d["lines"] == w.readout_lines() and d["pace"] == {"gd": [7], "momentum": [7]}
    assert d["legend"] == ["gradient descent", "heavy ball"]
    # one key press on each slider: the model, the readout and every curve follow
    for label, trait, value in (("momentum β", "beta", 0.81), ("η (L = 1)", "lr", 1.01)):
        before = pixels(page, "s")
        page.locator(f"#s input[aria-label='{label}']").focus()
        page.keyboard.press("ArrowRight")
        page.evaluate("() => frames(2)")
        assert page.evaluate(f"() => models.s.get('{trait}')") == value
        setattr(w, trait, value)
        assert drawn(page, "s")["lines"] == w.readout_lines()
        after = pixels(page, "s")
        rect = drawn(page, "s")["momentumRect"]
        rows = slice(int(rect["y"]), int(rect["y"] + rect["h"]))
        panel = (rows, slice(int(rect["x"]), int(rect["x"] + rect["w"])))
        assert not np.array_equal(before[panel], after[panel])  # the heavy ball's curves moved
    results = {}
    for label in ("momentum β", "η (L = 1)"):
        page.locator(f"#s input[aria-label='{label}']").focus()
        # key press to drawn canvas, as test_a_slider_move_redraws_within_a_frame measures it
        samples = page.evaluate(KEY_TO_DRAWN_JS, ["s", label])
        draw = sorted(s["draw"] for s in samples)
        total = sorted(s["total"] for s in samples)
        # key press to changed pixels: the keydown's time stamp to the first animation frame whose
        # canvas differs (the hash is taken after the clock, so it is not part of the time)
        px = page.evaluate(
            """async (label) => {
            const input = document.querySelector(`#s input[aria-label='${label}']`);
            const canvas = document.querySelector('#s canvas.cw-canvas'), ctx = canvas.getContext('2d');
            const r = widget('s').drawn.momentumRect, dpr = window.devicePixelRatio || 1;
            // the heavy ball's panel only (both sliders move its curves): a cheap probe disturbs less
            const hash = () => { const words = new Uint32Array(ctx.getImageData(r.x * dpr, r.y * dpr,
              r.w * dpr, r.h * dpr).data.buffer); let h = 2166136261 >>> 0;
              for (let k = 0; k < words.length; k++) h = Math.imul(h ^ words[k], 16777619) >>> 0; return h; };
            const out = [];
            for (let i = 0; i < 60; i++) {
              await frames(2);
              const baseline = hash();
              // presses fall anywhere in a display frame, as a reader's do (test_static_html_browser.py)
              await new Promise((r) => setTimeout(r, (7 * i) % 17));
              const key = i % 20 < 10 ? 'ArrowLeft' : 'ArrowRight';
              const ev = new KeyboardEvent('keydown', {key, bubbles: true});
              input.dispatchEvent(ev);
              out.push(await new Promise((resolve) => { const tick = () => { const now = performance.now();
                if (hash() !== baseline) resolve(now - ev.timeStamp);
                else if (now - ev.timeStamp > 5000) resolve(null); else requestAnimationFrame(tick); };
                requestAnimationFrame(tick); }));
            }
            return out; }""",
            label,
        )
        assert None not in px, px
        px = sorted(px)
        results[label] = {
            "draw_ms_p50": round(statistics.median(draw), 2),
            "draw_ms_p95": round(draw[56], 2),
            "key_to_drawn_ms_p50": round(statistics.median(total), 2),
            "key_to_drawn_ms_p95": round(total[56], 2),
            "key_to_pixels_ms_p50": round(statistics.median(px), 2),
            "key_to_pixels_ms_p95": round(px[56], 2),
        }
        # the reader's change is drawn within one 60 Hz frame of the key press (shown at the next paint)
        assert results[label]["draw_ms_p95"] <= 16.7, results[label]
        assert results[label]["key_to_drawn_ms_p95"] <= 16.7, results[label]
        # to the pixels waits for the next display frame: the goal (one frame) is benchmarks/run.py's;
        # here only a guard against a regression, as in test_static_html_browser.py
        assert results[label]["key_to_pixels_ms_p50"] <= 50, results[label]
    RESULTS["spectrum_slider_to_pixels_ms"] = {
        "p50": max(r["key_to_pixels_ms_p50"] for r in results.values()),
        "p95": max(r["key_to_pixels_ms_p95"] for r in results.values()),
        "per_slider": results,
        "widget": "SpectrumWidget(), n = 8, 300 steps, 1000 px",
        "measured": "keydown event.timeStamp to the requestAnimationFrame callback of the first frame whose "
        "canvas pixels differ (headless Chromium, the plain widget page)",
    }
    page.locator("#s").screenshot(path=str(OUT / "spectrum-after-presses.png"))
    assert_console_clean(page)
