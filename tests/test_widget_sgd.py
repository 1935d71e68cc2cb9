"""The SGD explorer's Python side (lessons_lib.widgets.sgd): sgd_path, the minibatch draws
sent to the browser, traits, validation and the readout.

As in tests/test_widgets.py: set traits the way a cell or the browser does, then compare
what Python holds with :func:`sgd_path` and :func:`lessons_lib.optimizers.run`. The
browser's path from the sent draws is compared with :func:`sgd_path` in
tests/test_widgets_browser.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lessons_lib import optimizers, surfaces
from lessons_lib.widgets import SGDExplorer
from lessons_lib.widgets.sgd import (
    STEPS_RANGE,
    batch_sizes,
    minibatch_draws,
    running_average,
    sgd_path,
)

X, Y = surfaces.regression_data()
SURFACE = surfaces.linear_regression(X, Y)
START = SURFACE.start
THETA_STAR = SURFACE.minima[0]


def distance(points) -> np.ndarray:
    return np.maximum(np.linalg.norm(points - THETA_STAR, axis=1), 1e-300)


def sent_draws(w: SGDExplorer) -> dict[int, np.ndarray]:
    """The draws as the browser reads them: little-endian blocks of (rows, B) per batch size."""
    layout = w.draws_layout
    flat = np.frombuffer(w.draws, dtype=np.dtype(layout["dtype"]).newbyteorder("<"))
    out, offset = {}, 0
    for B in layout["sizes"]:
        out[B] = flat[offset : offset + layout["rows"] * B].reshape(layout["rows"], B)
        offset += layout["rows"] * B
    assert offset == flat.size
    return out


@pytest.fixture
def explorer() -> SGDExplorer:
    return SGDExplorer(lr=0.3, steps=300)


def test_batch_sizes_end_with_the_full_batch():
    assert batch_sizes(40) == [1, 2, 4, 8, 16, 32, 40]
    assert batch_sizes(32) == [1, 2, 4, 8, 16, 32]
    assert SGDExplorer().batch_slider.options[-1] == 40


def test_traits_and_the_numbers_sent_once(explorer):
    w = explorer
    assert {
        "lr",
        "batch_size",
        "momentum",
        "steps",
        "seed",
        "show_average",
        "data_x",
        "data_y",
        "surface_spec",
        "star",
        "batch_options",
        "draws",
        "draws_layout",
        "kind",
    } <= set(w.trait_names(sync=True))
    np.testing.assert_array_equal(w.data_x, X)
    np.testing.assert_array_equal(w.data_y, Y)
    assert w.star == THETA_STAR.tolist() and w.surface_spec["kind"] == "lsq"
    assert w.surface_spec["start"] == START.tolist() and w.surface_spec["f_min"] == SURFACE.f_min
    assert w.batch_options == [1, 2, 4, 8, 16, 32, 40]


def test_draws_are_sgd_paths_draws_for_every_batch_size_and_step_count(explorer):
    rows = STEPS_RANGE[1]
    layout = explorer.draws_layout
    assert layout == {"seed": 0, "dtype": "uint8", "rows": rows, "sizes": [1, 2, 4, 8, 16, 32]}
    draws = sent_draws(explorer)
    for B, block in draws.items():
        np.testing.assert_array_equal(block, minibatch_draws(40, B, rows, 0))
        # The generator fills row by row: a shorter run's draws are the first rows.
        for steps in (1, 7, 300, rows):
            np.testing.assert_array_equal(
                np.random.default_rng(0).integers(0, 40, size=(steps, B)), block[:steps]
            )
    assert len(explorer.draws) == rows * 63  # uint8: one byte per index


def test_draws_follow_the_seed_and_an_unlisted_batch_size(explorer):
    explorer.seed_box.value = 7
    assert explorer.draws_layout["seed"] == 7
    np.testing.assert_array_equal(sent_draws(explorer)[4], minibatch_draws(40, 4, STEPS_RANGE[1], 7))
    explorer.batch_size = 3  # not a power of two: it joins the options and gets its draws
    assert explorer.batch_options == [1, 2, 3, 4, 8, 16, 32, 40]
    np.testing.assert_array_equal(sent_draws(explorer)[3], minibatch_draws(40, 3, STEPS_RANGE[1], 7))


def test_large_data_sends_only_the_current_batch_size():
    x, y = surfaces.regression_data(m=3000)
    w = SGDExplorer(x, y, batch_size=64, steps=100)
    assert w.draws_layout["dtype"] == "uint16" and w.draws_layout["sizes"] == [64]
    w.batch_size = 128
    assert w.draws_layout["sizes"] == [128]
    np.testing.assert_array_equal(sent_draws(w)[128], minibatch_draws(3000, 128, STEPS_RANGE[1], 0))


def test_python_numbers_are_sgd_path_for_the_traits(explorer):
    w = explorer
    w.lr_slider.value = 0.2
    w.batch_slider.value = 4
    w.momentum_slider.value = 0.5
    w.seed_box.value = 7
    points, diverged_at = sgd_path(X, Y, START, 0.2, 4, 300, 7, 0.5)
    assert diverged_at is None and w.diverged_at is None
    np.testing.assert_array_equal(w.points, points)
    np.testing.assert_array_equal(w.average, running_average(points))
    np.testing.assert_allclose(w.average[300], points[1:].mean(axis=0), rtol=1e-12)
    gd = optimizers.run(SURFACE, START, "momentum", 0.2, 0.5, 300)
    np.testing.assert_array_equal(w.gd.points, gd.points)
    lines = w.readout_lines()
    assert lines[0] == f"SGD, batch 4 of 40: ||theta_k - theta*|| = {distance(points)[-1]:.2e} at step 300"
    assert lines[1] == (
        "running average of the SGD iterates: ||mean - theta*|| = "
        f"{distance(running_average(points))[-1]:.2e}"
    )
    assert lines[2] == f"full-batch GD with momentum: ||theta_k - theta*|| = {distance(gd.points)[-1]:.2e}"
    w.steps_slider.value = 120
    np.testing.assert_array_equal(w.points, sgd_path(X, Y, START, 0.2, 4, 120, 7, 0.5)[0])


@pytest.mark.parametrize(("method", "beta"), [("gd", 0.0), ("momentum", 0.9)])
def test_full_batch_is_gradient_descent(method, beta):
    for lr in (0.05, 0.3, 0.8):
        points, diverged_at = sgd_path(X, Y, START, lr, 40, 300, 0, beta)
        run = optimizers.run(SURFACE, START, method, lr, beta, 300)
        assert diverged_at is None and not run.diverged
        np.testing.assert_allclose(points, run.points, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(
        sgd_path(X, Y, START, 0.3, 40, 50, 0, beta)[0], sgd_path(X, Y, START, 0.3, 40, 50, 123, beta)[0]
    )


def test_full_batch_in_the_widget(explorer):
    explorer.batch_slider.value = 40
    np.testing.assert_allclose(explorer.points, explorer.gd.points, atol=1e-12)
    assert "(the full batch: SGD is GD)" in explorer.readout_lines()[0]


def test_same_seed_same_path_other_seed_other_path(explorer):
    a, _ = sgd_path(X, Y, START, 0.3, 2, 200, 5)
    b, _ = sgd_path(X, Y, START, 0.3, 2, 200, 5)
    c, _ = sgd_path(X, Y, START, 0.3, 2, 200, 6)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[1:], c[1:])
    before = explorer.points.copy()
    explorer.noise_button.click()
    assert explorer.seed == 1
    assert not np.allclose(before[1:], explorer.points[1:])
    np.testing.assert_array_equal(explorer.points, sgd_path(X, Y, START, 0.3, 1, 300, 1)[0])


def test_larger_batch_has_a_smaller_spread_late_in_the_run():
    def late_spread(batch_size: int) -> float:
        spreads = [
            distance(sgd_path(X, Y, START, 0.3, batch_size, 600, seed)[0][300:]).mean() for seed in range(5)
        ]
        return float(np.mean(spreads))

    spread = {B: late_spread(B) for B in (1, 4, 16)}
    # Section 4 of lesson 02: the floor of the loss is about proportional to lr / B.
    assert spread[1] > 1.5 * spread[4] > 1.5 * 1.5 * spread[16]


def test_divergence_is_reported_without_warnings(explorer):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        points, diverged_at = sgd_path(X, Y, START, 1.9, 1, 300, 0)
        explorer.lr_slider.value = 1.9
        lines = explorer.readout_lines()
    assert diverged_at is not None and 1 <= diverged_at <= 300
    assert np.isfinite(points[:diverged_at]).all() and np.isnan(points[diverged_at:]).all()
    assert explorer.diverged_at == diverged_at
    assert lines[0] == f"SGD, batch 1 of 40: diverged at step {diverged_at}"
    assert lines[1] == "running average of the SGD iterates: undefined (SGD diverged)"
    assert lines[2] == f"full-batch GD: diverged at step {explorer.gd.diverged_at}"
    assert f"diverged at step {diverged_at}" in explorer.readout.value


def test_average_checkbox(explorer):
    assert explorer.show_average is False
    explorer.average_box.value = True
    assert explorer.show_average is True
    np.testing.assert_array_equal(explorer.average, running_average(explorer.points))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"lr": 10.0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 41}, "batch_size"),
        ({"momentum": -0.1}, "momentum"),
        ({"momentum": 0.99}, "momentum"),
        ({"steps": 0}, "steps"),
        ({"steps": 5000}, "steps"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**32}, "seed"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SGDExplorer(**kwargs)


def test_bad_values_set_later(explorer):
    with pytest.raises(ValueError, match=r"batch_size must be an integer in \[1, 40\]"):
        explorer.batch_slider.value = 41
    with pytest.raises(ValueError, match="momentum"):
        explorer.momentum = 0.96
    with pytest.raises(TypeError, match="seed must be an integer"):
        explorer.seed = 1.5
    assert (explorer.batch_size, explorer.momentum, explorer.seed) == (1, 0.0, 0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 41}, "batch_size"),
        ({"momentum": 1.0}, "momentum"),
        ({"steps": -1}, "steps"),
        ({"seed": -1}, "seed"),
        ({"start": [1.0, 2.0, 3.0]}, "start"),
    ],
)
def test_sgd_path_rejects_bad_input(kwargs, name):
    args = {"x": X, "y": Y, "start": START, "lr": 0.1, "batch_size": 1, "steps": 10, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=name):
        sgd_path(**args)
    with pytest.raises(TypeError, match="batch_size"):
        sgd_path(X, Y, START, 0.1, 1.5, 10, 0)


def test_display_has_a_png_fallback(explorer):
    data, _ = explorer._repr_mimebundle_()
    assert data["text/plain"] == "<SGD explorer: run the notebook to use the controls>"
    assert "image/png" in data and "application/vnd.jupyter.widget-view+json" in data
