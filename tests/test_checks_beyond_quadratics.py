"""Table test of lesson 06's exercise checks (lessons_lib.checks.beyond_quadratics).

Right answers, answers within the tolerance the exercise states, and common wrong answers: each accepted
or rejected with :class:`NotYet` and the message that names the mistake, never another exception.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from check_tables import fails, passes

from lessons_lib import smooth_convex
from lessons_lib.checks import beyond_quadratics as c06

NOT_NUMBERS = ["0.9", None, True, [0.9, 0.9], np.nan, 1j]

# --------------------------------------------------------------------------- exercise 1 (within 0.1 %)


@pytest.mark.parametrize("answer", [0.9, 9 / 10, 0.9005, 0.8995, np.float64(0.9), torch.tensor(0.9)])
def test_exercise_1_right(answer, capsys):
    passes(c06.guaranteed_decrease, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (1.8, "factor 1 - L lr / 2"), (0.3, "enters squared"), (22.5, "denominator"), (4.5, "divide by L"),
    (-0.9, "negative"), (0.45, "half the guarantee"), (0.36, "squared length of the step"),
    (0.18, "divides by L twice"), (0.0, "lr = 2/L"),
    (1.0, "too large"), (0.8, "too small"), (1.125, "too large"),
])
def test_exercise_1_wrong(answer, words):
    assert words in fails(c06.guaranteed_decrease, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_1_not_a_number(answer):
    fails(c06.guaranteed_decrease, answer)


# --------------------------------------------------------------------------- exercise 2 (within 1 %)

GAP = 2.5e-4 / 64


@pytest.mark.parametrize("slope, gap", [(-2.0, GAP), (-2, 3.9e-6), (-1.99, 3.92e-6),
                                        (np.log(1 / 16) / np.log(4), GAP),
                                        (torch.tensor(-2.0), np.float64(GAP))])
def test_exercise_2_right(slope, gap, capsys):
    passes(c06.slope_reading, slope, gap, capsys=capsys)


@pytest.mark.parametrize("slope, gap, words", [
    (-0.5, GAP, "upside down"), (2.0, GAP, "negative"), (math.log10(1 / 16), GAP, "log10"),
    (math.log(1 / 16), GAP, "ln"), ((2.5e-4 - 4e-3) / 750, GAP, "linear axes"),
    (-1.0, GAP, "not the log-log"),
    (-2.0, 2.5e-4 / 8, "slope -1"), (-2.0, 2.5e-4 * 64, "upwards"), (-2.0, 4e-3 / 64, "k = 250"),
    (-2.0, 4e-6, "too large"), (-2.0, 3.8e-6, "too small"),
    (-2.0, math.log(GAP), "natural logarithm"), (-2.0, math.log10(GAP), "log10 of the gap"),
])
def test_exercise_2_wrong(slope, gap, words):
    assert words in fails(c06.slope_reading, slope, gap)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_2_not_a_number(answer):
    fails(c06.slope_reading, answer, GAP)
    fails(c06.slope_reading, -2.0, answer)


# --------------------------------------------------------------------------- exercise 3 (every iterate, 1e-9)


def make_fista(sequence="fista", grad_at="y", rows="all", t1=1.0, square=True, shift=0, dtype=float,
               four=True):
    """A student's fista, right (the defaults) or with one of the named mistakes; written out here, apart
    from the check's own variants."""
    def fista(grad, x0, L, steps):
        x = np.array(x0, dtype=dtype)
        x_prev, path = x.copy(), [x.copy()]
        t = [None, t1]  # t[1] = t_1
        for _ in range(2, steps + 4):
            t.append((1 + math.sqrt(1 + (4 if four else 1) * (t[-1] ** 2 if square else t[-1]))) / 2)
        for k in range(steps):
            if sequence == "k":
                beta = (k - 1) / (k + 2) if k >= 1 else 0.0
            elif sequence == "none":
                beta = 0.0
            elif sequence == "same_t":
                beta = (t[k + 1] - 1) / t[k + 1] if k >= 1 else 0.0
            elif sequence == "t_over_t":
                beta = (t[k] - 1) / t[k] if k >= 1 else 0.0
            elif sequence == "behind":
                beta = (t[k - 1] - 1) / t[k] if k >= 2 else 0.0
            else:
                beta = (t[k + shift] - 1) / t[k + shift + 1] if k >= 1 else 0.0
            y = x + beta * (x - x_prev)
            x_prev, x = x, y - grad(y if grad_at == "y" else x) / L
            path.append(y.copy() if rows == "lookahead" else x.copy())
        if rows == "lookahead":  # the look-ahead points y_0, ..., y_(steps-1) after x_0
            return np.array(path)
        return np.array(path[1:] if rows == "drop_start" else path)
    return fista


def test_exercise_3_right(capsys):
    passes(c06.fista_iterates, make_fista(), capsys=capsys)


def test_exercise_3_right_with_tensors_and_lists(capsys):
    def fista(grad, x0, L, steps):
        return [list(row) for row in make_fista()(grad, x0, L, steps)]
    passes(c06.fista_iterates, fista, capsys=capsys)


@pytest.mark.parametrize("student, words", [
    (make_fista(sequence="k"), "(k-1)/(k+2)"),
    (make_fista(shift=1), "one step ahead"),
    (make_fista(square=False), "squares t_k"),
    (make_fista(t1=0.0), "t_1 = 1"),
    (make_fista(grad_at="x"), "look-ahead point"),
    (make_fista(sequence="none"), "gradient descent"),
    (make_fista(sequence="same_t"), "t_{k+1} in both"),
    (make_fista(sequence="t_over_t"), "divides by t_k"),
    (make_fista(sequence="behind"), "one step behind"),
    (make_fista(four=False), "factor 4"),
    (make_fista(rows="lookahead"), "look-ahead points"),
    (make_fista(rows="drop_start"), "the start x_0"),
    (make_fista(dtype=np.float32), "lower precision"),
])
def test_exercise_3_wrong(student, words):
    assert words in fails(c06.fista_iterates, student)


@pytest.mark.parametrize("student, called", [
    (lambda grad, x0, L, steps: smooth_convex.nesterov_convex(grad, x0, L, steps, sequence="fista"),
     "smooth_convex.nesterov_convex"),
    (lambda grad, x0, L, steps: smooth_convex.momentum_sequence(steps, "fista") is None
     or make_fista()(grad, x0, L, steps), "smooth_convex.momentum_sequence"),
])
def test_exercise_3_an_answer_calling_the_reference_is_refused(student, called):
    """The check's own gradients call smooth_convex.logistic_grad, so only the reference's two
    functions are blocked while the answer runs."""
    assert f"fista calls {called}" in fails(c06.fista_iterates, student)


def test_exercise_3_not_written_crashing_or_not_a_function():
    def stub(grad, x0, L, steps):
        raise NotImplementedError

    def crash(grad, x0, L, steps):
        return x0 + "a"

    assert "not written yet" in fails(c06.fista_iterates, stub)
    assert "raised UFuncTypeError" in fails(c06.fista_iterates, crash)
    assert "should be a function" in fails(c06.fista_iterates, 3.0)
    assert "shape" in fails(c06.fista_iterates, lambda grad, x0, L, steps: np.zeros((steps + 1, 1)))
    def moved_start(grad, x0, L, steps):
        return np.vstack([x0 + 1, make_fista()(grad, x0, L, steps)[1:]])

    assert "first row" in fails(c06.fista_iterates, moved_start)


# --------------------------------------------------------------------------- exercise 4 (within 0.0005)


def _gap_here(j):
    """f(x_j) - f* of exercise 4, from its text: lam_i x~_(0,i)^2 = 1."""
    lams = 2.0 * 10.0 ** (-np.arange(21) / 2)
    return 0.5 * np.sum((1 - lams / 2) ** (2 * j))


def _flat_slope_here():
    """The measurement, computed here from the exercise's text (not by the check's helper)."""
    lams = 2.0 * 10.0 ** (-np.arange(21) / 2)
    k = np.arange(10_001)
    gap = np.array([0.5 * np.sum((1 - lams / 2) ** (2 * j)) for j in k])  # lam_i c_i^2 = 1
    use = np.unique(np.rint(np.geomspace(100, 10_000, 50)).astype(int))
    return float(np.polyfit(np.log(use), np.log(gap[use]), 1)[0])


def test_exercise_4_right(capsys):
    slope = _flat_slope_here()
    assert -0.07 < slope < -0.06
    two_point = math.log(_gap_here(10_000) / _gap_here(100)) / math.log(100)  # -0.0653, a coarser reading
    for answer in [slope, round(slope, 4), round(slope, 3), two_point, np.float64(slope)]:
        passes(c06.flat_slope, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (-1.0, "bound's slope"), (-0.999, "bound's slope"), (-2.0, "Nesterov"), (0.0651, "negative"),
    (-0.08, "too steep"), (-0.05, "too flat"), (-0.0623, "exponent is 2k"), (-0.0608, "starts at k = 10"),
    (-0.0603, "ends at k = 1000"), (-0.0683, "every k"), (-1.9985, "sqrt(lam_i)"), (-2.9e-6, "about 0"),
    (-0.06823, "not 4k"), (-0.06056, "22 eigenvalues"), (-0.07043, "20 eigenvalues"), (-0.06323, "L = 1"),
    (0.0, "about 0"), (-0.0645, "too flat"), (-0.0658, "too steep"),
])
def test_exercise_4_wrong(answer, words):
    assert words in fails(c06.flat_slope, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_4_not_a_number(answer):
    fails(c06.flat_slope, answer)


# --------------------------------------------------------------------------- exercise 5 (within 0.1 %)


def _L5_here():
    """L for exercise 5's data, from the largest singular value of Z (an SVD, not an eigensolver)."""
    Z = np.random.default_rng(5).standard_normal((50, 3)) * np.array([2.0, 1.0, 0.5])
    return float(np.linalg.svd(Z, compute_uv=False)[0] ** 2 / (4 * 50)), Z


def test_exercise_5_right(capsys):
    L, Z = _L5_here()
    for answer in [L, L * 1.0009, L * 0.9991, np.float64(L), torch.tensor(L, dtype=torch.float64),
                   np.linalg.eigvalsh(Z @ Z.T)[-1] / 200]:
        passes(c06.logistic_L, answer, capsys=capsys)


@pytest.mark.parametrize("factor, words", [(4.0, "1/4"), (50.0, "mean over"), (2.0, "not 1/2"),
                                           (1.05, "too large"), (0.98, "too small")])
def test_exercise_5_wrong(factor, words):
    assert words in fails(c06.logistic_L, _L5_here()[0] * factor)


def test_exercise_5_named_matrix_mistakes():
    L, Z = _L5_here()
    s = np.linalg.svd(Z, compute_uv=False)
    assert "singular value" in fails(c06.logistic_L, s[0] / 200)
    assert "trace" in fails(c06.logistic_L, np.sum(s**2) / 200)
    assert "smallest" in fails(c06.logistic_L, s[-1] ** 2 / 200)
    assert "section 1's L" in fails(c06.logistic_L, 1.8543)
    assert "single row" in fails(c06.logistic_L, np.max(np.sum(Z**2, axis=1)) / 4)
    assert "m - 1" in fails(c06.logistic_L, s[0] ** 2 / (4 * 49))  # the sample covariance, 0.9485
    assert "np.cov" in fails(c06.logistic_L, np.linalg.eigvalsh(np.cov(Z.T))[-1] / 4)  # centred, 0.9477


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_5_not_a_number(answer):
    fails(c06.logistic_L, answer)


# --------------------------------------------------------------------------- exercise 6 (within 0.01 %)


def _rate6_here():
    """Exercise 6 by simulation: the heavy ball on one eigen-component, lam = the smaller eigenvalue."""
    lam = np.linalg.eigvalsh(np.array([[802.0, -400.0], [-400.0, 200.0]]))[0]
    x, x_prev, xs = 1.0, 1.0, []
    for _ in range(6000):
        x, x_prev = x - 2e-3 * lam * x + 0.8 * (x - x_prev), x
        xs.append(x)
    return (xs[-1] / xs[-1001]) ** (2 / 1000)


def test_exercise_6_right(capsys):
    rate = _rate6_here()
    assert abs(rate - 0.99190) < 1e-4
    for answer in [rate, round(rate, 5), np.float64(rate), 0.9919, 0.9918961]:  # 0.9918961: lam = 0.3994
        passes(c06.rosenbrock_rate, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (0.99594, "|sigma|^2"), (0.8, "steep component"), (math.sqrt(0.8), "complex roots"),
    (0.998403, "gradient descent's factor"), (0.9992, "gradient descent's error"), (0.995, "too large"),
    (0.99, "too small"), (0.9919236, "Nesterov's matrix"), (0.99172, "section 4's setting"),
    (0.992029, "effective rate"), (0.9960064, "not squared, and not the heavy ball's"),
    (0.9838594, "|sigma|^4"), (1.0081693, "1/|sigma|^2"), (0.0081031, "removed per step"),
    (0.9918837, "rounded to 0.4"),
])
def test_exercise_6_wrong(answer, words):
    assert words in fails(c06.rosenbrock_rate, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_6_not_a_number(answer):
    fails(c06.rosenbrock_rate, answer)
