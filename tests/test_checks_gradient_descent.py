"""Table test of lesson 01's exercise checks (lessons_lib.checks.gradient_descent).

Right answers, rounded right answers (three significant figures, the tolerance the exercises state)
and the common wrong answers, each accepted or rejected as it should be; a rejection is a
:class:`NotYet` whose message names what is wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lessons_lib import optimizers, surfaces
from lessons_lib.checks import NotYet
from lessons_lib.checks import gradient_descent as g01


def passes(check, *args, capsys):
    check(*args)
    out = capsys.readouterr().out
    assert out.startswith("Correct:"), out
    return out


def fails(check, *args):
    with pytest.raises(NotYet) as error:
        check(*args)
    assert str(error.value)
    return str(error.value)


# ---------------------------------------------------------------- exercise 1: the threshold 2/L


@pytest.mark.parametrize("answer", [0.5, 2 / 4, np.float64(0.5), 0.4995, 0.501])
def test_exercise_1_right(answer, capsys):
    passes(g01.stability_limit, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (8.0, "flat direction"),
    (0.25, "kills the steep direction"),
    (1.0, "second derivative"),
    (2 / 4.25, "optimal step"),
    (0.49, "too small"),
    (0.51, "too large"),
    ("0.5", "not the text"),
    (None, "No answer yet"),
    (True, "boolean"),
])
def test_exercise_1_wrong(answer, message):
    assert message in fails(g01.stability_limit, answer)


# ---------------------------------------------------------------- exercise 2: optimal step and rate


@pytest.mark.parametrize(("lr", "rate"), [
    (2 / 8.5, 7.5 / 8.5),
    (0.235, 0.882),  # three significant figures
    (0.2353, 0.8824),
    (np.float64(0.235294), np.float64(0.882353)),
])
def test_exercise_2_right(lr, rate, capsys):
    passes(g01.optimal_step_and_rate, lr, rate, capsys=capsys)


@pytest.mark.parametrize(("lr", "rate", "message"), [
    (0.125, 0.882, "1/L is safe"),
    (0.25, 0.882, "threshold"),
    (1 / 8.5, 0.882, "the 2 is missing"),
    (0.24, 0.882, "too large"),  # two significant figures: 2 % off
    (0.235, 0.9375, "step 1/L"),
    (0.235, (7.5 / 8.5) ** 2, "rho^2"),
    (0.235, 0.6, "momentum"),
    (0.235, 0.88, "too small"),  # 0.27 % off
    (0.235, "0.882", "not the text"),
])
def test_exercise_2_wrong(lr, rate, message):
    assert message in fails(g01.optimal_step_and_rate, lr, rate)


# ---------------------------------------------------------------- exercise 3: steps_needed


def right_steps(kappa, eps):
    rate = (kappa - 1) / (kappa + 1)
    return math.ceil(math.log(eps) / math.log(rate))


def right_steps_by_loop(kappa, eps):
    rate, k, error = (kappa - 1) / (kappa + 1), 0, 1.0
    while error > eps:
        error *= rate
        k += 1
    return k


@pytest.mark.parametrize("candidate", [right_steps, right_steps_by_loop,
                                       lambda kappa, eps: float(right_steps(kappa, eps)),
                                       lambda kappa, eps: np.int64(right_steps(kappa, eps))])
def test_exercise_3_right(candidate, capsys):
    passes(g01.steps_needed, candidate, capsys=capsys)


@pytest.mark.parametrize(("candidate", "message"), [
    (lambda kappa, eps: math.ceil(kappa / 2 * math.log(1 / eps)), "approximation"),
    (lambda kappa, eps: math.floor(math.log(eps) / math.log((kappa - 1) / (kappa + 1))), "round up"),
    (lambda kappa, eps: math.log(eps) / math.log((kappa - 1) / (kappa + 1)), "whole"),
    (lambda kappa, eps: math.ceil(math.log(eps) / math.log(1 - 1 / kappa)), "step 1/L"),
    (lambda kappa, eps: math.ceil(math.log(eps) / (2 * math.log((kappa - 1) / (kappa + 1)))), "loss"),
    (lambda kappa, eps: 100, "expected"),
    (lambda kappa, eps: str(right_steps(kappa, eps)), "not the text"),
    (0.5, "should be a function"),
])
def test_exercise_3_wrong(candidate, message):
    assert message in fails(g01.steps_needed, candidate)


def test_exercise_3_stub_is_not_hidden():
    def stub(kappa, eps):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        g01.steps_needed(stub)


# ---------------------------------------------------------------- exercise 4: the scanned best lr


def test_exercise_4_closed_form_counts_equal_simulated_counts():
    """The check's closed-form count is the count a simulation gives (the lesson's solution's route)."""
    grid = np.linspace(0.05, 0.333, 400)
    valley = surfaces.quadratic(list(g01.VALLEY_EIGENVALUES), angle=g01.VALLEY_ANGLE)
    runs = optimizers.run(valley, list(g01.VALLEY_START), "gd", lr=grid, steps=20_000)
    simulated = np.array([-1 if s is None else s for s in runs.steps_to(g01.VALLEY_TOL)])
    assert np.array_equal(simulated, g01.valley_steps(grid))
    assert g01.valley_fewest_steps()[0] == 120
    assert int(g01.valley_steps(2 / 6.3)[0]) == 121


def scan_solution(points):
    """The lesson's solution with a grid of ``points`` rates over [0.05, 0.33]."""
    grid = np.linspace(0.05, 0.33, points)
    valley = surfaces.quadratic([0.3, 6.0], angle=0.4)
    counts = optimizers.run(valley, [3.0, 2.0], "gd", lr=grid, steps=600).steps_to(1e-10)
    return grid[np.array([10**9 if c is None else c for c in counts]).argmin()]


@pytest.mark.parametrize("answer", [scan_solution(561), scan_solution(29), 0.313, 0.315, 0.31, 0.317,
                                    2 / 6.3, 0.3175])
def test_exercise_4_right(answer, capsys):
    out = passes(g01.best_lr_on_valley, answer, capsys=capsys)
    assert "the fewest any learning rate needs is 120" in out


@pytest.mark.parametrize(("answer", "message"), [
    (0.33, "578 steps"),                 # the review's case: 4.8 times the fewest
    (0.33, "not the largest that converges"),
    (0.3333, "hardly shrinks"),
    (1 / 3, "threshold 2/L"),
    (0.34, "threshold 2/L"),
    (0.32, "140 steps"),
    (0.32, "above the fastest"),
    (0.30, "126 steps"),
    (0.30, "below the fastest"),
    (1 / 6, "below the fastest"),
    (120, "step count"),
    (-0.3, "positive"),
    ("0.313", "not the text"),
    (None, "No answer yet"),
    ([0.31, 0.32], "single number"),
])
def test_exercise_4_wrong(answer, message):
    assert message in fails(g01.best_lr_on_valley, answer)


def test_exercise_4_takes_no_reference_from_the_student():
    with pytest.raises(TypeError):
        g01.best_lr_on_valley(0.33, 0.3, 6.5)  # the old signature let a student move the optimum
