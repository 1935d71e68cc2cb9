"""Table test of lesson 08's exercise checks (lessons_lib.checks.linear_regression).

Each exercise has a table of right answers (exact and rounded to the tolerance the exercise states),
and of wrong answers with a piece of the message that names the mistake. Right answers print
"Correct: ..."; wrong ones raise :class:`NotYet`, never another exception. The expected values are
computed here independently of the check module, from the lesson's four points.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from check_tables import fails, passes

from lessons_lib import optimizers, surfaces
from lessons_lib.checks import NotYet
from lessons_lib.checks import linear_regression as lr08

X = np.array([0.0, 1.0, 2.0, 3.0])
Y = np.array([-0.2, 1.2, 2.6, 2.8])


def gradient(theta):
    e = theta[0] + theta[1] * X - Y
    return np.array([e.mean(), (e * X).mean()])


def three_iterations():
    """(theta_t, v_t, g_t) for t = 1, 2, 3 with beta = 0.9, eta = 0.01 from (0, 1)."""
    theta, v, out = np.array([0.0, 1.0]), np.zeros(2), []
    for _ in range(3):
        g = gradient(theta)
        v = 0.9 * v + 0.01 * g
        theta = theta - v
        out.append((theta, v, g))
    return out


(THETA1, V1, G1), (THETA2, V2, G2), (THETA3, V3, G3) = three_iterations()


def three_iterations_4():
    """(theta_t, v_t) for t = 1..4: the fourth iteration too."""
    theta, v, out = np.array([0.0, 1.0]), np.zeros(2), []
    for _ in range(4):
        v = 0.9 * v + 0.01 * gradient(theta)
        theta = theta - v
        out.append((theta, v))
    return out


def test_the_lesson_values():
    # the lesson prints these (section 3 and exercise 2); a change of the data would show here
    assert np.allclose(THETA2, [0.00286, 1.005715], atol=1e-15) and np.allclose(V2, [-0.00186, -0.003715])
    assert np.allclose(V3, [-0.002559675, -0.005100575], atol=1e-15)


# --------------------------------------------------------------------------- exercise 1

@pytest.mark.parametrize("answer", [[0.001, 1.002], np.array([0.001, 1.002]), (0.0010004, 1.0019996)])
def test_exercise_1_right(answer, capsys):
    passes(lr08.theta_after_first_iteration, answer, capsys=capsys)


@pytest.mark.parametrize("answer, match", [
    ([1.001, 1.002], "seed's"),
    ([-0.001, 0.998], "subtract v"),
    ([0.002, 1.001], "first component of v belongs to theta0"),
    ([0.0012, 1.002], "is not theta after the first iteration"),
    (1.002, "shape"),
    ("0.001, 1.002", "text"),
    (None, "No answer"),
])
def test_exercise_1_wrong(answer, match):
    fails(lr08.theta_after_first_iteration, answer, match=match)


# --------------------------------------------------------------------------- exercise 2

@pytest.mark.parametrize("decimals", [None, 8, 7, 6])
def test_exercise_2_right_and_rounded(decimals, capsys):
    v3, theta3 = (V3, THETA3) if decimals is None else (np.round(V3, decimals), np.round(THETA3, decimals))
    passes(lr08.third_iteration, v3, theta3, capsys=capsys)


def test_exercise_2_hand_rounded_gradient(capsys):
    g3 = np.round(G3, 4)  # residual means written to four decimals: v3 moves by at most 5e-7
    v3 = 0.9 * V2 + 0.01 * g3
    passes(lr08.third_iteration, v3, THETA2 - v3, capsys=capsys)


@pytest.mark.parametrize("v3, match", [
    (0.01 * G3, "add 0.9 \\* v2"),
    (0.9 * V2 - 0.01 * G3, "plus sign"),
    (0.9 * V2 + 0.01 * G3[::-1], "mean\\(e\\), for theta0"),
    (0.9 * V2 + 0.01 * G2, "gradient at theta1"),
    (0.9 * V2 + 0.04 * G3, "not the sum"),
    (0.9 * V2 + 0.02 * G3, "no factor 2"),
    (V2 + 0.01 * G3, "multiplied by beta"),
    (0.9 * V2 / 0.01 + G3, "PyTorch's buffer"),
    (-V3, "minus v3, the velocity of the other lessons' form"),  # the course's v = beta v - eta g
    (np.round(V3, 4), "give at least six decimals"),  # four decimals: off by 4e-5, beyond the stated 1e-6
    (np.round(V3, 4), "accepts 1e-06 in every component"),
    (V3 + [0.0, 2e-4], "is not v3"),  # farther off than rounding: no talk of decimals
    (V2, "that is v2, given"),
    (three_iterations_4()[3][1], "v4, one iteration too many"),
    ([-0.002492783, -0.004958443], "look-ahead point"),  # Nesterov's form, the review's numbers
    ([-0.001762567, -0.003519207], "EMA form"),  # 0.9 v2 + 0.1 * 0.01 g3
    ([0.0, 0.0, 0.0], "shape"),
])
def test_exercise_2_wrong_v3(v3, match):
    fails(lr08.third_iteration, v3, THETA3, match=match)


@pytest.mark.parametrize("theta3, match", [
    (THETA2 + V3, "subtract v3"),
    (THETA2 - 0.01 * G3, "plain gradient step"),
    (THETA2 - V2, "subtracts v2"),
    (THETA2, "that is theta2, given"),
    (three_iterations_4()[3][0], "theta4, one iteration too many"),
    (THETA1 - V3, "start from theta2"),
    (THETA2[1] - V3, "the seed's own error"),  # the vector theta replaced by the number theta2[1]
    (np.round(THETA3, 5), "accepts 1e-06 in every component"),  # the third review's 1.01082
    (np.round(THETA3, 5), "give at least six decimals"),
])
def test_exercise_2_wrong_theta3(theta3, match):
    fails(lr08.third_iteration, V3, theta3, match=match)


# --------------------------------------------------------------------------- exercise 3

@pytest.mark.parametrize("line, theta2", [(3, [0.894, 0.048]), (3.0, np.array([0.894, 0.048])),
                                          (np.int64(3), [0.8940004, 0.0479996])])
def test_exercise_3_right(line, theta2, capsys):
    passes(lr08.find_the_error, line, theta2, capsys=capsys)


@pytest.mark.parametrize("line, theta2, match", [
    (1, [0.894, 0.048], "line 1 is right"),
    (2, [0.894, 0.048], "line 2 is right"),
    (4, [0.894, 0.048], "inherits"),
    (7, [0.894, 0.048], "only lines 1 to 4"),
    ("three", [0.894, 0.048], "not the text .three."),
    (3, [0.894, 0.028], "student's answer"),
    (3, [0.894, 0.038], "is not the correct theta"),
    (3, [0.066, -0.028], "corrected v2"),  # v2 given as theta2
    (3, [1.026, -0.008], "adds v2"),  # theta1 + v2
])
def test_exercise_3_wrong(line, theta2, match):
    fails(lr08.find_the_error, line, theta2, match=match)


# --------------------------------------------------------------------------- exercise 4

def right_grad(theta, x, y):
    e = theta[0] + theta[1] * x - y
    return np.array([e.mean(), (e * x).mean()])


def test_exercise_4_right(capsys):
    passes(lr08.gradient, right_grad, capsys=capsys)


@pytest.mark.parametrize("candidate, match", [
    (lambda t, x, y: -right_grad(t, x, y)[::-1], "seed's formula"),
    (lambda t, x, y: -right_grad(t, x, y), "the sign"),
    (lambda t, x, y: right_grad(t, x, y)[::-1], "the order"),
    (lambda t, x, y: len(x) * right_grad(t, x, y), "use the mean"),
    (lambda t, x, y: 2 * right_grad(t, x, y), "factor 2"),
    (lambda t, x, y: np.append(right_grad(t, x, y), 0.0), "shape"),
    (lambda t, x, y: right_grad(t, x, y) + 1e-3, "expected"),
    (lambda t, x, y: right_grad(t, x, y) + 1e-3j, "complex"),  # NumPy would silently drop the 1e-3j
    (lambda t, x, y: right_grad(t, X, Y), "use the arguments x, y"),  # the notebook's data, not the arguments
    (lambda t, x, y: np.array([right_grad(t, X, Y)[0], right_grad(t, x, y)[1]]), "expected"),
    (lambda t, x, y: right_grad(t, x, y).astype(np.float32), "float32"),  # the third review's
    (lambda t, x, y: right_grad(np.float32(t), np.float32(x), np.float32(y)), "float32"),
    (lambda t, x, y: torch.tensor(right_grad(t, x, y), dtype=torch.float32), "float32"),
    (lambda t, x, y: right_grad(t, x.astype(np.float32), y.astype(np.float32)).astype(np.float64),
     "runs in float32"),  # float32 inputs, the result cast back to float64
    (lambda t, x, y: np.array([np.sum(t[0] + t[1] * x - y), np.sum((t[0] + t[1] * x - y) * x)]) / 4,
     "you divide by 4, the lesson's m"),  # the notebook's global m = 4, as loss_J has it
    (lambda t, x, y: len(x) / (len(x) - 1) * right_grad(t, x, y),
     "len\\(x\\) - 1"),
    (0.5, "should be a function"),
])
def test_exercise_4_wrong(candidate, match):
    fails(lr08.gradient, candidate, match=match)


# --------------------------------------------------------------------------- exercise 5

def steps_ratio(beta):
    """ln(rho*) / ln(rho(beta)): rho from the eigenvalues of heavy ball's 2x2 matrix per eigenvalue of H
    (numpy.linalg.eigvals, not the theory module the check uses); rho* = 1 - sqrt(lr mu)."""
    H = np.array([[1.0, X.mean()], [X.mean(), (X**2).mean()]])
    lams = np.linalg.eigvalsh(H)
    rho = max(np.abs(np.linalg.eigvals([[1 + beta - 0.01 * lam, -beta], [1.0, 0.0]])).max() for lam in lams)
    return np.log(1 - np.sqrt(0.01 * lams.min())) / np.log(rho)


@pytest.mark.parametrize("beta", [0.894, 0.895, 0.896, 0.897, 0.898, np.float64(0.8939), 0.89390])
def test_exercise_5_right(beta, capsys):
    assert steps_ratio(beta) <= 1.05 + 1e-6  # within the tolerance the exercise states
    passes(lr08.best_momentum, beta, capsys=capsys)


@pytest.mark.parametrize("beta, match", [
    (0.88, "too little momentum"),  # the review's case: 580 steps to 1e-10 against about 330
    (0.89, "too little momentum"),  # the critical value rounded to two decimals
    (0.893, "too little momentum"),
    (0.9, "seed's value"),
    (0.905, "a little too much"),  # 1.12 times the best's steps
    (0.91, "a little too much"),  # 1.19 times
    (0.92, "far too much"),  # 1.35 times
    (0.94, "far too much"),  # the review's case: 1.81 times the steps, not "a little"
    (0.98, "all-False row"),  # the argmax pitfall of counting steps
    (0.9455, "a rate rho"),  # rates.min() instead of betas[rates.argmin()]: the best rate
    (0.9487, "a rate rho"),  # sqrt(0.9), the seed's rate
    (0.947, "far too much momentum: its rate"),  # review 13 r2: a real beta near the rates is told both
    (0.336, "belongs to the optimal pair"),  # section 6's beta, for eta = 0.594
    (1.0, "in \\[0, 1\\)"),
    ("0.894", "text"),
    (None, "No answer"),
])
def test_exercise_5_wrong(beta, match):
    if isinstance(beta, float) and beta < 1.0 and match not in ("a rate rho", "belongs to the optimal pair"):
        assert steps_ratio(beta) > 1.05  # computed independently: more than 5 % more steps
        if match == "a little too much":
            assert steps_ratio(beta) <= 1.25
        if match in ("far too much", "all-False row"):
            assert steps_ratio(beta) > 1.25
    fails(lr08.best_momentum, beta, match=match)


def test_exercise_5_rejects_0_88_by_its_step_count():
    """The review's numbers: from (0, 1), beta = 0.88 needs far more steps to 1e-10 than the best beta."""
    surface = surfaces.linear_regression(X, Y)
    betas = np.array([0.88, 0.894])
    run = optimizers.run(surface, [0.0, 1.0], "momentum", lr=0.01, momentum=betas, steps=2000)
    d = np.linalg.norm(run.points - surface.minima[0], axis=-1)
    steps = (d < 1e-10).argmax(axis=1)
    assert steps[0] > 1.4 * steps[1], steps


# --- from the review of lesson 08: failures of the student's code, in-place changes, non-integers ---


def test_a_gradient_that_crashes_or_returns_a_ragged_pair_gets_a_message():
    from lessons_lib.checks import linear_regression as lr_checks

    def ragged(theta, x, y):
        e = theta[0] + theta[1] * x - y
        return [e.mean(), e * x]  # the mean left off the second component

    def text(theta, x, y):
        return "abc"

    def in_place(theta, x, y):
        x *= 0.0
        return [0.0, 0.0]

    for candidate, message in ((ragged, "should return two numbers"), (text, "should return two numbers"),
                               (lambda t, x, y: 1 / 0, "raised ZeroDivisionError")):
        with pytest.raises(NotYet, match=message):
            lr_checks.gradient(candidate)
    with pytest.raises(NotYet):
        lr_checks.gradient(in_place)
    assert lr_checks.X_DATA.tolist() == [0.0, 1.0, 2.0, 3.0]  # the module's data survived


@pytest.mark.parametrize(("line", "message"), [(3.5, "whole number"), (3.9, "whole number"),
                                               ("3", "not the text"), (True, "not a boolean")])
def test_the_first_wrong_line_is_a_whole_number(line, message):
    from lessons_lib.checks import linear_regression as lr_checks

    with pytest.raises(NotYet, match=message):
        lr_checks.find_the_error(line, [0.894, 0.028])


# --------------------------------------------------------------------------- exercise 6


def schedule():
    """theta2 with eta = 0.02, then 0.01: the seed's form and torch.optim.SGD (run here)."""
    g1 = gradient(np.array([0.0, 1.0]))
    t1 = np.array([0.0, 1.0]) - 0.02 * g1
    seed = t1 - (0.9 * 0.02 * g1 + 0.01 * gradient(t1))
    p = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.02, momentum=0.9)
    for lr in (0.02, 0.01):
        opt.param_groups[0]["lr"] = lr
        opt.zero_grad()
        (((p[0] + p[1] * torch.tensor(X) - torch.tensor(Y)) ** 2).sum() / 8).backward()
        opt.step()
    return seed, p.detach().numpy(), t1


SEED6, TORCH6, T1_6 = schedule()


def backward_schedule():
    """theta2 with the schedule reversed (eta = 0.01, then 0.02): the seed's form and PyTorch's, by hand."""
    g1 = gradient(np.array([0.0, 1.0]))
    t1 = np.array([0.0, 1.0]) - 0.01 * g1
    g2 = gradient(t1)
    return t1 - (0.9 * 0.01 * g1 + 0.02 * g2), t1 - 0.02 * (0.9 * g1 + g2)


BACKWARD6 = backward_schedule()


def two_steps(lr):
    theta, v = np.array([0.0, 1.0]), np.zeros(2)
    for _ in range(2):
        v = 0.9 * v + lr * gradient(theta)
        theta = theta - v
    return theta


def test_exercise_6_values():
    assert np.allclose(SEED6, [0.00472, 1.00943], atol=1e-12)
    assert np.allclose(TORCH6, [0.00382, 1.00763], atol=1e-12)


@pytest.mark.parametrize("seed, torch_, decimals", [(SEED6, TORCH6, None), (SEED6, TORCH6, 6),
                                                    ([0.00472, 1.00943], [0.00382, 1.00763], None)])
def test_exercise_6_right(seed, torch_, decimals, capsys):
    if decimals is not None:
        seed, torch_ = np.round(seed, decimals), np.round(torch_, decimals)
    passes(lr08.learning_rate_change, seed, torch_, capsys=capsys)


@pytest.mark.parametrize("seed, torch_, match", [
    (TORCH6, SEED6, "swapped"),
    (TORCH6, TORCH6, "PyTorch's theta2"),
    (SEED6, SEED6, "the seed's theta2"),
    (two_steps(0.01), TORCH6, "eta = 0.01 throughout"),
    (SEED6, two_steps(0.02), "eta = 0.02 throughout"),
    (T1_6, TORCH6, "first iteration"),
    (SEED6, T1_6 - 0.01 * 1.9 * gradient(np.array([0.0, 1.0])), "reuses g1"),
    (SEED6 + [1e-3, 0.0], TORCH6, "is not theta2 in the seed's form"),
    (BACKWARD6[0], BACKWARD6[1], "ran the schedule backwards"),  # review 13 r2: 0.01 first
    ([-0.00072, 0.99857], TORCH6, "theta1 \\+ v2"),  # adding the step
    ([0.00292, 1.00583], TORCH6, "plain gradient step"),  # the momentum term dropped in step 2
    ([0.004648, 1.009277], TORCH6, "look-ahead"),  # Nesterov's gradient

    (SEED6, "0.1, 1.0", "text"),
    (None, TORCH6, "No answer"),
])
def test_exercise_6_wrong(seed, torch_, match):
    fails(lr08.learning_rate_change, seed, torch_, match=match)


# --------------------------------------------------------------------------- exercise 7

THETA_STAR_7 = np.array([-0.04, 1.16])  # by hand: mean x = 1.5, mean y = 1.7, slope 2.32 / 2 = 1.16


@pytest.mark.parametrize("answer", [THETA_STAR_7, [-0.04, 1.16], (-0.0400004, 1.1600004)])
def test_exercise_7_right(answer, capsys):
    xc, yc = X - X.mean(), np.array([-0.2, 1.2, 2.6, 3.2]) - 1.7
    assert np.isclose((xc @ yc) / (xc @ xc), 1.16) and np.isclose(1.7 - 1.16 * 1.5, -0.04)
    passes(lr08.normal_equations, answer, capsys=capsys)


@pytest.mark.parametrize("answer, match", [
    ([0.04, 1.04], "lesson's data"),
    ([1.16, -0.04], "intercept first"),
    ([0.0, 1.1428571428571428], "through the origin"),
    ([1.7, 4.0], "right-hand side"),
    ([1.7, 0.0], "best constant"),
    ([-0.04, 1.17], "is not theta"),
    ([0.035294, 1.047059], "fits five points"),  # (3, 3.2) appended, review 13 r2
    ([-0.014286, 1.142857], "without centring"),  # slope sum(xy) / sum(x^2)
    ([0.1, 1.1], "changes y at x = 2"),  # y[2] = 3.2
    (1.16, "shape"),
])
def test_exercise_7_wrong(answer, match):
    fails(lr08.normal_equations, answer, match=match)


def _with_grad(values):
    """An answer computed with autograd on: a float64 tensor that requires grad (review, session 25)."""
    return torch.tensor(np.asarray(values, dtype=float), dtype=torch.float64, requires_grad=True)


def test_autograd_tensors_are_answers_too(capsys):
    """Exercises 2 and 6 with tensors that still require grad (exercise 6 invites torch.optim.SGD):
    the right values pass, and swapped or wrong ones get the check's message, never a RuntimeError."""
    passes(lr08.third_iteration, _with_grad(V3), _with_grad(THETA3), capsys=capsys)
    passes(lr08.learning_rate_change, _with_grad(SEED6), _with_grad(TORCH6), capsys=capsys)
    fails(lr08.third_iteration, _with_grad(THETA3), _with_grad(V3), match="swapped")
    fails(lr08.learning_rate_change, _with_grad(TORCH6), _with_grad(SEED6), match="swapped")
    fails(lr08.learning_rate_change, _with_grad(TORCH6), _with_grad(TORCH6), match="PyTorch's theta2")
