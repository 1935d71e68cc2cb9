"""The spectrum widget's Python side: the closed form per eigen-component against a run of the
iteration and against the 2x2 matrix power, the readout, the traits and the picture.
tests/test_widgets_browser.py checks that the browser's numbers equal these."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib import theory
from lessons_lib.widgets import SpectrumWidget
from lessons_lib.widgets import spectrum as sp

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pytorch_run(lr: float, beta: float, lam: float, steps: int) -> np.ndarray:
    """torch.optim.SGD's update on f = lam x^2 / 2 from x = 1, on Python floats (NaN after |x| > ESCAPE)."""
    x, buf = 1.0, 0.0
    out = [x]
    for _ in range(steps):
        buf = beta * buf + lam * x
        x = x - lr * buf
        if not abs(x) <= sp.ESCAPE:
            break
        out.append(x)
    return np.array(out + [np.nan] * (steps + 1 - len(out)))


def envelope(lr: float, beta: float, lam: float, steps: int) -> np.ndarray:
    """(k + 1) rho^k: a bound on |x_k| up to a constant (the k for a double root)."""
    rho = float(theory.momentum_rate(lr, beta, [lam]))
    k = np.arange(steps + 1)
    return (k + 1.0) * rho**k


@settings(deadline=None, max_examples=200)
@given(lr=st.floats(1e-3, 4.0), beta=st.floats(0.0, 0.999), i=st.integers(0, 15))
def test_closed_form_equals_a_run_of_the_iteration(lr, beta, i):
    lam = 2.0**-i
    closed = sp.component_errors(lr, beta, [lam], 400)[0]
    run = pytorch_run(lr, beta, lam, 400)
    assert (np.isnan(closed) == np.isnan(run)).all() or abs(
        np.argmax(np.isnan(closed)) - np.argmax(np.isnan(run))
    ) <= 1  # the escape step, up to rounding at 1e6
    ok = ~np.isnan(closed) & ~np.isnan(run)
    scale = envelope(lr, beta, lam, 400)[ok]
    assert np.all(np.abs(closed[ok] - run[ok]) <= 1e-9 * scale + 1e-300)


@pytest.mark.parametrize(
    ("lr", "beta"),
    [(1.0, 0.8), (0.3, 0.5), (3.0, 0.7), (1.5, 0.0), (0.05, 0.95), (2.0, (1 - np.sqrt(2.0)) ** 2)],
)
def test_closed_form_is_the_matrix_power(lr, beta):
    """x_k is the first entry of M^k (x_0, x_{-1}) = M^k (1, 1), M = theory.momentum_matrix."""
    lams = sp.eigenvalues(8)
    errors = sp.component_errors(lr, beta, lams, 60)
    for i, lam in enumerate(lams):
        M = theory.momentum_matrix(lr, beta, lam)
        for k in (0, 1, 2, 7, 30, 60):
            expected = (np.linalg.matrix_power(M, k) @ np.ones(2))[0]
            if abs(expected) > sp.ESCAPE:
                continue
            assert errors[i, k] == pytest.approx(
                expected, abs=1e-10 * envelope(lr, beta, lam, 60)[k] + 1e-300
            )


def test_double_roots_and_gradient_descent():
    # critical damping of lam = 1 at lr = 0.25: beta = (1 - sqrt(0.25))^2 = 0.25, a double root at 0.5
    x = sp.component_errors(0.25, 0.25, [1.0], 20)[0]
    run = pytorch_run(0.25, 0.25, 1.0, 20)
    np.testing.assert_allclose(x, run, rtol=1e-12)
    # beta = 0 is gradient descent: (1 - lr lam)^k
    lams = sp.eigenvalues(5)
    np.testing.assert_allclose(
        sp.component_errors(0.7, 0.0, lams, 30), (1 - 0.7 * lams[:, None]) ** np.arange(31), rtol=1e-14
    )


def test_a_diverging_component_stops_at_the_escape_step():
    x = sp.component_errors(3.9, 0.0, [1.0, 0.5], 50)  # |1 - 3.9| = 2.9 > 1 for lam = 1
    k = int(np.argmax(np.isnan(x[0])))
    assert 2.9 ** (k - 1) <= sp.ESCAPE < 2.9**k
    assert np.isnan(x[0, k:]).all() and not np.isnan(x[1]).any()
    assert np.isnan(sp.total_loss(x, np.array([1.0, 0.5]))[k:]).all()


def test_widget_numbers_and_readout():
    w = SpectrumWidget()
    assert (w.n, w.lr, w.beta, w.steps) == (8, 1.0, 0.8, 300)
    np.testing.assert_array_equal(w.lams, 2.0 ** -np.arange(8))
    e = w.errors
    assert e["gd"].shape == e["momentum"].shape == (8, 301)
    np.testing.assert_array_equal(e["momentum"], sp.component_errors(1.0, 0.8, w.lams, 300))
    loss = w.losses["gd"]
    assert loss[0] == pytest.approx(0.5 * (2 - 2.0**-7))
    np.testing.assert_allclose(loss, 0.5 * (w.lams[:, None] * e["gd"] ** 2).sum(axis=0), rtol=1e-13)
    lines = w.readout_lines()
    # gradient descent at lr = 1: rates 1 - 2^-i; the flattest component sets the pace,
    # the stiffest is done at once
    assert lines[1].startswith(
        "gradient descent: the pace is set by component 7 (λ = 0.007812): rate ρ = 0.9922, "
    )
    assert "the fastest is component 0 (ρ = 0.0000)" in lines[1]
    rho = float(theory.momentum_rate(1.0, 0.8, [2.0**-7]))
    steps = int(np.ceil(np.log(1e-6) / np.log(rho)))
    assert lines[2].startswith(
        f"heavy ball: the pace is set by component 7 (λ = 0.007812): rate ρ = {rho:.4f}, {steps} steps"
    )
    assert lines[3] == (
        f"total loss after 300 steps (it starts at {loss[0]:.4f}): gradient descent "
        f"{loss[-1]:.2e}, heavy ball {w.losses['momentum'][-1]:.2e}"
    )
    assert w.describe() == w.readout.value


def test_ties_in_the_complex_regime_share_the_pace():
    """Where every component's roots are complex the heavy ball's rates are all sqrt(beta)."""
    w = SpectrumWidget(n=3, lr=1.0, beta=0.95)
    rates = w.rates["momentum"]
    np.testing.assert_allclose(rates, np.sqrt(0.95), rtol=1e-12)
    assert "components 0, 1, 2 (all at this rate)" in w.readout_lines()[2]
    w.lr = 3.99  # lam = 1 diverges under gradient descent
    assert "it diverges (ρ ≥ 1)" in w.readout_lines()[1]
    assert "gradient descent diverged" in w.readout_lines()[3]


def test_optimum_button_and_controls():
    w = SpectrumWidget(n=6)
    w.optimum_button.click()
    assert (w.lr, w.beta) == theory.optimal_momentum(2.0**-5, 1.0)[:2]
    w.lr_slider.value = 0.5
    w.beta_slider.value = 0.3
    assert (w.lr, w.beta) == (0.5, 0.3)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"n": 1}, "n"),
        ({"n": 17}, "n"),
        ({"n": 2.5}, "n"),
        ({"lr": 0.0}, "lr"),
        ({"lr": 5.0}, "lr"),
        ({"beta": 1.0}, "beta"),
        ({"beta": -0.1}, "beta"),
        ({"steps": 5}, "steps"),
    ],
)
def test_bad_input_names_the_trait(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        SpectrumWidget(**kwargs)
    w = SpectrumWidget()
    with pytest.raises((ValueError, TypeError), match=name):
        setattr(w, name, next(iter(kwargs.values())))
    assert (w.n, w.lr, w.beta, w.steps) == (8, 1.0, 0.8, 300)


def test_display_bundle_and_picture():
    w = SpectrumWidget(n=5, steps=100)
    data, _ = w._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
    assert data["text/plain"] == "<error of each eigen-component: run the notebook to use the controls>"
    assert w.get_state()["kind"] == "spectrum"
    fig = w.static_figure()
    ax_gd, ax_hb, ax_loss = fig.axes[:3]
    assert ax_gd.get_yscale() == ax_hb.get_yscale() == ax_loss.get_yscale() == "log"
    assert len(ax_gd.lines) == len(ax_hb.lines) == 5 and len(ax_loss.lines) == 2
    assert "|error of component i|" in ax_gd.get_ylabel()
