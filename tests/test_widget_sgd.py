"""Headless tests of the SGD explorer (lessons_lib.widgets.sgd).

As in tests/test_widgets.py: set the controls from Python the way the frontend would,
then compare the drawn data and the readout with :func:`sgd_path` and
:func:`lessons_lib.optimizers.run`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lessons_lib import live, optimizers, surfaces
from lessons_lib.widgets import SGDExplorer
from lessons_lib.widgets.sgd import batch_sizes, running_average, sgd_path

X, Y = surfaces.regression_data()
SURFACE = surfaces.linear_regression(X, Y)
START = SURFACE.start
THETA_STAR = SURFACE.minima[0]


def line_points(line) -> np.ndarray:
    x, y = line.get_data()
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def distance(points) -> np.ndarray:
    return np.maximum(np.linalg.norm(points - THETA_STAR, axis=1), 1e-300)


class DrawCounter:
    """Counts full draws (draw_event) and blits of a figure's canvas."""

    def __init__(self, fig) -> None:
        self.draws = 0
        self.blits = 0
        fig.canvas.mpl_connect("draw_event", self._on_draw)
        original = fig.canvas.blit

        def blit(*args, **kwargs):
            self.blits += 1
            return original(*args, **kwargs)

        fig.canvas.blit = blit

    def _on_draw(self, event) -> None:
        self.draws += 1


@pytest.fixture
def explorer() -> SGDExplorer:
    return SGDExplorer(lr=0.3, steps=300)


def test_batch_sizes_end_with_the_full_batch():
    assert batch_sizes(40) == [1, 2, 4, 8, 16, 32, 40]
    assert batch_sizes(32) == [1, 2, 4, 8, 16, 32]
    assert SGDExplorer().batch_slider.options[-1] == 40


def test_drawn_data_are_sgd_path_for_the_slider_values(explorer):
    w = explorer
    w.lr_slider.value = 0.2
    w.batch_slider.value = 4
    w.momentum_slider.value = 0.5
    w.seed_box.value = 7
    points, diverged_at = sgd_path(X, Y, START, 0.2, 4, 300, 7, 0.5)
    assert diverged_at is None
    np.testing.assert_array_equal(line_points(w.sgd_line), points)
    np.testing.assert_array_equal(w.sgd_dist.get_data()[0], np.arange(301))
    np.testing.assert_array_equal(w.sgd_dist.get_data()[1], distance(points))
    gd = optimizers.run(SURFACE, START, "momentum", 0.2, 0.5, 300)
    np.testing.assert_array_equal(line_points(w.gd_line), gd.points)
    np.testing.assert_array_equal(w.gd_dist.get_data()[1], distance(gd.points))
    avg = running_average(points)
    np.testing.assert_array_equal(line_points(w.average_line), avg)
    np.testing.assert_allclose(avg[300], points[1:].mean(axis=0), rtol=1e-12)
    lines = w.readout_lines()
    assert lines[0] == f"SGD, batch 4 of 40: ||theta_k - theta*|| = {distance(points)[-1]:.2e} at step 300"
    assert lines[2] == f"full-batch GD with momentum: ||theta_k - theta*|| = {distance(gd.points)[-1]:.2e}"
    w.steps_slider.value = 120  # a new step count: new paths and a new step axis
    points, _ = sgd_path(X, Y, START, 0.2, 4, 120, 7, 0.5)
    np.testing.assert_array_equal(line_points(w.sgd_line), points)
    assert w.ax_dist.get_xlim() == (0.0, 120.0)


@pytest.mark.parametrize(("method", "beta"), [("gd", 0.0), ("momentum", 0.9)])
def test_full_batch_is_gradient_descent(method, beta):
    for lr in (0.05, 0.3, 0.8):
        points, diverged_at = sgd_path(X, Y, START, lr, 40, 300, 0, beta)
        run = optimizers.run(SURFACE, START, method, lr, beta, 300)
        assert diverged_at is None and not run.diverged
        np.testing.assert_allclose(points, run.points, rtol=0, atol=1e-12)
    # The seed does not matter for the full batch: no sampling.
    np.testing.assert_array_equal(sgd_path(X, Y, START, 0.3, 40, 50, 0, beta)[0],
                                  sgd_path(X, Y, START, 0.3, 40, 50, 123, beta)[0])


def test_full_batch_in_the_widget_overlays_gd(explorer):
    explorer.batch_slider.value = 40
    np.testing.assert_allclose(line_points(explorer.sgd_line), line_points(explorer.gd_line), atol=1e-12)
    assert "(the full batch: SGD is GD)" in explorer.readout_lines()[0]


def test_same_seed_same_path_other_seed_other_path(explorer):
    a, _ = sgd_path(X, Y, START, 0.3, 2, 200, 5)
    b, _ = sgd_path(X, Y, START, 0.3, 2, 200, 5)
    c, _ = sgd_path(X, Y, START, 0.3, 2, 200, 6)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[1:], c[1:])
    before = line_points(explorer.sgd_line)
    explorer.noise_button.click()
    assert explorer.seed_box.value == 1
    after = line_points(explorer.sgd_line)
    assert not np.allclose(before[1:], after[1:])
    np.testing.assert_array_equal(after, sgd_path(X, Y, START, 0.3, 1, 300, 1)[0])


def test_larger_batch_has_a_smaller_spread_late_in_the_run():
    def late_spread(batch_size: int) -> float:
        spreads = [distance(sgd_path(X, Y, START, 0.3, batch_size, 600, seed)[0][300:]).mean()
                   for seed in range(5)]
        return float(np.mean(spreads))

    spread = {B: late_spread(B) for B in (1, 4, 16)}
    # Section 4 of lesson 02: the floor of the loss is about proportional to lr / B.
    assert spread[1] > 1.5 * spread[4] > 1.5 * 1.5 * spread[16]


def test_divergence_is_reported_without_warnings(explorer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        points, diverged_at = sgd_path(X, Y, START, 2.0, 1, 300, 0)
        explorer.lr_slider.value = 2.0
    assert diverged_at is not None and 1 <= diverged_at <= 300
    assert np.isfinite(points[:diverged_at]).all() and np.isnan(points[diverged_at:]).all()
    assert explorer.diverged_at == diverged_at
    lines = explorer.readout_lines()
    assert lines[0] == f"SGD, batch 1 of 40: diverged at step {diverged_at}"
    assert lines[2] == f"full-batch GD: diverged at step {explorer.gd.diverged_at}"
    assert f"diverged at step {diverged_at}" in explorer.readout.value


def test_average_line_follows_the_checkbox(explorer):
    assert not explorer.average_line.get_visible() and not explorer.average_dist.get_visible()
    explorer.average_box.value = True
    assert explorer.average_line.get_visible() and explorer.average_dist.get_visible()
    np.testing.assert_array_equal(line_points(explorer.average_line), running_average(explorer.points))
    explorer.average_box.value = False
    assert not explorer.average_line.get_visible()


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"lr": 0.0}, "lr"), ({"lr": float("nan")}, "lr"), ({"lr": 10.0}, "lr"),
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 41}, "batch_size"),
    ({"momentum": -0.1}, "momentum"), ({"momentum": 0.99}, "momentum"),
    ({"steps": 0}, "steps"), ({"steps": 5000}, "steps"),
    ({"seed": -1}, "seed"), ({"seed": 2**32}, "seed"),
])
def test_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SGDExplorer(**kwargs)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"lr": -1.0}, "lr"), ({"batch_size": 0}, "batch_size"), ({"batch_size": 41}, "batch_size"),
    ({"momentum": 1.0}, "momentum"), ({"steps": -1}, "steps"), ({"seed": -1}, "seed"),
    ({"start": [1.0, 2.0, 3.0]}, "start"),
])
def test_sgd_path_rejects_bad_input(kwargs, name):
    args = {"x": X, "y": Y, "start": START, "lr": 0.1, "batch_size": 1, "steps": 10, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=name):
        sgd_path(**args)
    with pytest.raises(TypeError, match="batch_size"):
        sgd_path(X, Y, START, 0.1, 1.5, 10, 0)


def test_slider_changes_only_blit(explorer):
    explorer.fig.canvas.draw()
    counter = DrawCounter(explorer.fig)
    explorer.lr_slider.value = 0.1
    explorer.batch_slider.value = 8
    explorer.momentum_slider.value = 0.3
    explorer.seed_box.value = 3
    explorer.average_box.value = True
    assert counter.draws == 0
    assert counter.blits == 5


def test_display_has_a_png_fallback(explorer, monkeypatch):
    shown = []
    monkeypatch.setattr(live, "display", lambda bundle, raw=False: shown.append(bundle))
    explorer._ipython_display_()
    (bundle,) = shown
    assert bundle["text/plain"] == "<SGD explorer: run the notebook to use the controls>"
    assert "image/png" in bundle and "application/vnd.jupyter.widget-view+json" in bundle
