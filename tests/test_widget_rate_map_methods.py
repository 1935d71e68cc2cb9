"""The rate map's ``method`` trait: Nesterov's map on the heavy ball's axes, and where each is faster.

The numbers are the library's (:mod:`lessons_lib.theory`, :func:`lessons_lib.optimizers.run`);
``compare_rates`` is checked against the eigenvalues of both iteration matrices.
tests/test_widgets_browser.py checks the browser's numbers against these."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import optimizers, surfaces, theory
from lessons_lib.widgets import RateMap
from lessons_lib.widgets import rate_map as rm


def radius(matrix: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvals(matrix)).max())


def test_method_trait_is_synced_and_validated():
    w = RateMap(grid=30)
    assert w.method == "momentum" and "method" in w.trait_names(sync=True)
    with pytest.raises(ValueError, match="method must be one of 'momentum', 'nesterov', 'compare'"):
        RateMap(method="adam")
    with pytest.raises(ValueError, match="method"):
        w.method = "gd"
    assert w.method == "momentum"


def test_nesterov_map_is_nesterovs_theory_and_run():
    w = RateMap(kappa=20, lr=0.8, beta=0.6, grid=60, method="nesterov")
    mu = 1 / 20
    assert w.rate == theory.nesterov_rate(0.8, 0.6, [mu, 1.0])
    assert w.rate == pytest.approx(
        max(radius(theory.nesterov_matrix(0.8, 0.6, lam)) for lam in (mu, 1.0)), rel=1e-9
    )
    run = optimizers.run(surfaces.quadratic([mu, 1.0]), [-8.0, 3.0], "nesterov", 0.8, 0.6, 300)
    np.testing.assert_array_equal(w.run.points, run.points)
    np.testing.assert_array_equal(
        w.rates.filled(np.nan),
        np.ma.masked_where(
            (r := np.asarray(theory.nesterov_rate(w.lr_grid[None, :], w.beta_grid[:, None], [mu, 1.0]))) >= 1,
            r,
        ).filled(np.nan),
    )
    assert w.optimum == theory.optimal_nesterov(mu, 1.0)
    w.optimum_button.click()
    assert (w.lr, w.beta) == theory.optimal_nesterov(mu, 1.0)[:2]
    lines = w.readout_lines()
    assert lines[0].startswith("lr·L = ") and "Nesterov's rate ρ = " in lines[0]
    assert lines[4].startswith("Nesterov's best (found numerically) for κ = 20: ")
    assert (
        lines[5]
        == f"for comparison, the heavy ball's optimum: ρ = {theory.optimal_momentum(mu, 1.0)[2]:.4f} "
        f"(theory: {rm.steps_to_shrink(theory.optimal_momentum(mu, 1.0)[2])} steps)"
    )


@pytest.mark.parametrize("kappa", [2.0, 20.0, 100.0, 1000.0])
def test_nesterov_regime_labels_sit_in_their_regions(kappa):
    mu = 1.0 / kappa
    for name, where in rm.regime_label_positions(mu, method="nesterov").items():
        if where is None:
            continue
        (lr, beta), _ = where
        assert str(rm.dominant_regime(lr, beta, mu, 1.0, "nesterov")[0]) == name
    # beyond Nesterov's edge (lr > (2 + 2 beta) / (1 + 2 beta)) the region is divergence
    assert str(rm.dominant_regime(1.9, 0.5, mu, 1.0, "nesterov")[0]) == "divergence"
    assert str(rm.dominant_regime(1.9, 0.5, mu, 1.0, "momentum")[0]) != "divergence"


@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0])
def test_compare_rates_against_the_matrices(kappa):
    mu = 1.0 / kappa
    lr, beta = rm.grid_axes(24)
    code, ratio = rm.compare_rates(lr[None, :], beta[:, None], mu, 1.0)
    assert set(np.unique(code)) <= {0, 1, 2, 3}
    for r, b in enumerate(beta):
        for c, a in enumerate(lr):
            h = max(radius(theory.momentum_matrix(a, b, lam)) for lam in (mu, 1.0))
            n = max(radius(theory.nesterov_matrix(a, b, lam)) for lam in (mu, 1.0))
            if min(h, n) >= 1 + 1e-9:
                assert code[r, c] == 3
            elif abs(h - n) > 1e-7 * max(h, n):
                assert code[r, c] == (1 if n < h else 0), (a, b, h, n)
                if max(h, n) < 1 - 1e-9:
                    assert ratio[r, c] == pytest.approx(np.log(max(h, n)) / np.log(min(h, n)), rel=1e-6)
    # both kinds of region exist on the map
    assert (code == 0).any() and (code == 1).any()


def test_beta_zero_is_a_tie_and_both_diverging_has_no_ratio():
    code, ratio = rm.compare_rates(np.array([0.5, 1.5, 2.5]), 0.0, 0.01, 1.0)
    assert code.tolist() == [2, 2, 3] and ratio[0] == 1.0 and np.isnan(ratio[2])
    # beyond Nesterov's edge but inside the heavy ball's: the heavy ball is faster, the other diverges
    code, ratio = rm.compare_rates(1.9, 0.5, 0.01, 1.0)
    assert code == 0 and ratio == 0.0


def test_compare_readout_and_runs():
    w = RateMap(kappa=100, lr=1.0, beta=0.9, grid=40, method="compare")
    assert w.shown_methods == ["momentum", "nesterov"] and set(w.runs) == {"momentum", "nesterov"}
    r_h, r_n = theory.momentum_rate(1.0, 0.9, [0.01, 1.0]), theory.nesterov_rate(1.0, 0.9, [0.01, 1.0])
    assert r_n < r_h
    lines = w.readout_lines()
    assert lines[0] == (
        f"lr·L = 1.000, β = 0.900, κ = 100: heavy ball ρ = {r_h:.4f}, Nesterov ρ = {r_n:.4f}: "
        "Nesterov is faster here"
    )
    assert lines[1] == (
        f"steps to shrink the error by 1e-6 (theory): heavy ball {rm.steps_to_shrink(r_h)}, "
        f"Nesterov {rm.steps_to_shrink(r_n)}"
    )
    assert lines[2].startswith("the runs: heavy ball error below 1e-6 |x₀| at step ")
    assert lines[3].startswith(
        "best pairs for κ = 100: heavy ball lr·L = 3.3058, β = 0.6694, ρ = 0.8182 (69 steps); "
        "Nesterov lr·L = 1.3289, β = 0.7933, ρ = 0.8847 (113 steps)"
    )
    w.select(3.5, 0.2)  # beyond both edges
    assert "both diverge" in w.readout_lines()[0]
    assert "heavy ball diverged at step" in w.readout_lines()[2]
    w.select(1.0, 0.0)
    assert "a tie (the rates agree to 1e-09)" in w.readout_lines()[0]


@pytest.mark.parametrize("method", ["nesterov", "compare"])
def test_static_pictures(method):
    w = RateMap(kappa=20, lr=0.8, beta=0.6, grid=40, method=method)
    fig = w.static_figure()
    ax_map = fig.axes[0]
    assert ax_map.get_xlabel().startswith("learning rate η·L") and ax_map.get_ylabel() == "momentum β"
    assert ("Nesterov's rate" if method == "nesterov" else "where each is faster") in ax_map.get_title()
    assert w.png().startswith(b"\x89PNG")


@pytest.mark.parametrize(("method", "marker"), [("momentum", "*"), ("nesterov", "P")])
def test_the_still_picture_marks_the_optimum_as_the_browser_does(method, marker):
    """The static figure's optimum marker is the method's (a plus for Nesterov, a star for the heavy
    ball), as in the browser's map and the lessons' keys."""
    fig = RateMap(kappa=100, method=method).static_figure()
    the_map = next(ax for ax in fig.axes if ax.get_images())  # the rate map (the other panels: runs)
    markers = [line.get_marker() for line in the_map.get_lines()]
    assert marker in markers and ({"*", "P"} - {marker}).isdisjoint(markers), markers
