"""Table test of lesson 05's exercise checks (lessons_lib.checks.nesterov).

Right answers, rounded right answers within the tolerance the exercise states, and common wrong
answers (the issue's sqrt(beta) = sqrt(9/11) for exercise 4 among them, and the second review's 0.9
and 0.8999, the matrix's root and a value below it, where a measurement is asked for; the fourth
review's loss rate 0.81111 and heavy-ball measurement 0.90387, the buffer updated after the step, and
the critical-damping estimate of exercise 5's left end; the round-2 review of issue 13's rounded
betas 0.89827, 0.90415, 0.90141, early-window loss 0.81839 and heavy ball 0.90356, decay only in the
step's g, the dampened buffer, 2/(mu+L), and exercise 5's c, lr*mu and the beta = 0.95 row; the
round-3 review's early windows at 9/11 that land on a rounded beta's number, the window 100-300, wrong
step sizes and a diverging nesterov_wd): each
accepted or rejected with :class:`NotYet` and the message that names the mistake, never another
exception.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from check_tables import fails, passes

from lessons_lib import optimizers, surfaces
from lessons_lib.checks import nesterov as c04

NOT_NUMBERS = ["0.72", None, True, [0.72, 0.72], np.nan, 1j]

# --------------------------------------------------------------------------- exercise 1 (within 0.1 %)


@pytest.mark.parametrize("answer", [0.72, 0.9 * (1 - 0.2), 0.7205, 0.7195, np.float64(0.72),
                                    torch.tensor(0.72)])
def test_exercise_1_right(answer, capsys):
    passes(c04.effective_momentum, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (0.9, "own coefficient"), (0.18, "wrong way round"), (0.8, "gradient descent's factor"),
    (1.08, "negative"), (0.7, "subtracts"), (math.sqrt(0.72), "modulus of complex roots"),
    (1.52, "trace"), (1.9 * 0.8, "trace"),
    (0.73, "too large"), (0.71, "too small"),
])
def test_exercise_1_wrong(answer, words):
    assert words in fails(c04.effective_momentum, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_1_not_a_number(answer):
    fails(c04.effective_momentum, answer)


# --------------------------------------------------------------------------- exercise 2 (within 0.05 %)

THRESHOLD = 3.8 / 28.0  # (2 + 2 beta) / ((1 + 2 beta) L) at beta = 0.9, L = 10: 0.135714...


@pytest.mark.parametrize("answer", [THRESHOLD, 0.1357, 0.13571, 0.135714])
def test_exercise_2_right(answer, capsys):
    passes(c04.stability_limit, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (0.38, "heavy ball's limit"), (0.2, "gradient descent's limit"), (3.8 / 2.8, "limit on lr*lambda"),
    (4 / 30, "beta -> 1"), (3.8 / 1.4, "smallest eigenvalue"), (4 / 30.5, "best step"),
    ((2 / (math.sqrt(0.5) + math.sqrt(10))) ** 2, "heavy ball's optimal step"),
    (2 / 10.5, "gradient descent's best step"), (0.1905, "gradient descent's best step"),
    (0.136, "too large"), (0.1355, "too small"),
])
def test_exercise_2_wrong(answer, words):
    assert words in fails(c04.stability_limit, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_2_not_a_number(answer):
    fails(c04.stability_limit, answer)


# --------------------------------------------------------------------------- exercise 3 (relative 1e-9)


def _nesterov_wd(grad, x0, lr, beta, wd, steps, kind="right"):
    p = np.array(x0, dtype=float)
    b = np.zeros_like(p)
    path = [p.copy()]
    for _ in range(steps):
        g = grad(p)
        if kind == "right":
            g = g + wd * p
            b = beta * b + g
            p = p - lr * (g + beta * b)
        elif kind == "no_decay":
            b = beta * b + g
            p = p - lr * (g + beta * b)
        elif kind == "buffer_only":
            b = beta * b + g + wd * p
            p = p - lr * (g + beta * b)
        elif kind == "decoupled":
            b = beta * b + g
            p = p - lr * (g + beta * b) - lr * wd * p
        elif kind == "heavy_ball":
            g = g + wd * p
            b = beta * b + g
            p = p - lr * b
        elif kind == "buffer_after":  # the review's: the step with the old buffer, then the buffer updated
            g = g + wd * p
            p = p - lr * (g + beta * b)
            b = beta * b + g
        elif kind == "float32":  # the right step, in single precision
            p, b = p.astype(np.float32), b.astype(np.float32)
            g = np.float32(1) * g.astype(np.float32) + np.float32(wd) * p
            b = np.float32(beta) * b + g
            p = p - np.float32(lr) * (g + np.float32(beta) * b)
        elif kind == "step_only":  # the review's: the decay in the step's g, not in the buffer's
            b = beta * b + g
            p = p - lr * (g + wd * p + beta * b)
        elif kind == "dampened":  # the review's: the EMA buffer of lesson 07
            g = g + wd * p
            b = beta * b + (1 - beta) * g
            p = p - lr * (g + beta * b)
        elif kind == "half_decay":
            g = g + 0.5 * wd * p
            b = beta * b + g
            p = p - lr * (g + beta * b)
        path.append(p.copy())
    if kind == "sutskever_x":  # the third review's: the Sutskever x_k (decay at the look-ahead), not w_k
        x, v = np.array(x0, dtype=float), np.zeros(len(x0))
        path = [x.copy()]
        for _ in range(steps):
            ahead = x + beta * v
            v = beta * v - lr * (grad(ahead) + wd * ahead)
            x = x + v
            path.append(x.copy())
    return np.array(path)


def test_exercise_3_right(capsys):
    check = c04.weight_decay_step
    check(_nesterov_wd)
    assert capsys.readouterr().out.startswith("Correct:")
    check(lambda *args: _nesterov_wd(*args).tolist())  # a list of lists is fine
    assert capsys.readouterr().out.startswith("Correct:")


@pytest.mark.parametrize("kind, words", [
    ("no_decay", "weight decay is missing"), ("buffer_only", "into the buffer"), ("decoupled", "decoupled"),
    ("step_only", "only to the g of the step"), ("step_only", "missing from the momentum buffer"),
    ("dampened", "moving average"), ("dampened", "no dampening"),
    ("heavy_ball", "heavy-ball iterates"), ("half_decay", "your iterate"),
    ("buffer_after", "heavy-ball iterates"), ("buffer_after", "buffer is updated after the step"),
    ("float32", "lower precision than float64"), ("float32", "relative difference"),
    ("sutskever_x", "Sutskever form's x_k"), ("sutskever_x", "look-ahead point"),
])
def test_exercise_3_wrong(kind, words):
    assert words in fails(c04.weight_decay_step, lambda *args: _nesterov_wd(*args, kind=kind))


def test_exercise_3_a_wrong_method_is_not_called_low_precision():
    message = fails(c04.weight_decay_step, lambda *args: _nesterov_wd(*args, kind="half_decay"))
    assert "relative difference" in message and "lower precision" not in message


@pytest.mark.parametrize("candidate, words", [
    (lambda *args: _nesterov_wd(*args)[1:], "shape"),  # the start left out
    (lambda *args: None, "what nesterov_wd returns"),
    (lambda *args: "done", "what nesterov_wd returns"),
    (lambda grad, x0, lr, beta, wd, steps: x0 + "oops", "nesterov_wd raised"),
    (0.5, "should be a function"),
    (None, "should be a function"),
])
def test_exercise_3_bad_candidates(candidate, words):
    assert words in fails(c04.weight_decay_step, candidate)


def test_exercise_3_stub_is_told_it_is_not_written():
    def stub(*args):
        raise NotImplementedError()  # nbgrader's stub: no message
    assert "not written yet" in fails(c04.weight_decay_step, stub)


def test_exercise_3_a_not_implemented_error_with_a_message_is_a_crash_not_a_stub():
    """PyTorch raises NotImplementedError("...") for operations it lacks: that is the student's code
    failing, reported with its message, not "not written yet"."""
    def unsupported(*args):
        raise NotImplementedError("Could not run 'aten::add' with arguments from the 'Meta' backend")
    message = fails(c04.weight_decay_step, unsupported)
    assert "not written yet" not in message
    assert "raised NotImplementedError: Could not run 'aten::add'" in message


# --------------------------------------------------------------------------- exercise 4 (within 0.0002)


def _measure(k1, k2):
    """The student's measurement over steps k1..k2, as the exercise describes it."""
    run = optimizers.run(surfaces.quadratic([1.0, 100.0]), [1.0, 1.0], "nesterov", 1 / 100, 9 / 11, steps=k2)
    err = np.hypot(run.points[:, 0], run.points[:, 1])
    return float((err[k2] / err[k1]) ** (1 / (k2 - k1)))


def _measure_by_hand(k1, k2):
    """The same measurement by another route: the 1983 form's look-ahead points, written out here."""
    lam, x, prev = np.array([1.0, 100.0]), np.ones(2), np.ones(2)
    ys = []
    for _ in range(k2 + 1):
        y = x + 9 / 11 * (x - prev)
        ys.append(np.linalg.norm(y))
        x, prev = y - lam * y / 100, x
    return float((ys[k2] / ys[k1]) ** (1 / (k2 - k1)))


@pytest.fixture(scope="module")
def measured():
    return _measure(1000, 2000)


def test_exercise_4_measurement_is_what_the_text_says(measured):
    assert abs(measured - 0.9 * 2 ** (1 / 1000)) < 1e-5  # a double root 0.9: |p_k| ~ k 0.9^k
    assert abs(measured - _measure_by_hand(1000, 2000)) < 1e-12
    assert round(measured, 5) == 0.90062 and measured - 0.9 > 3 * c04.TEXTBOOK_TOLERANCE  # 0.9 lies outside


def test_exercise_4_right(measured, capsys):
    for answer in (measured, round(measured, 4), round(measured, 5), 0.9006, 0.9007, 0.9008, 0.9005,
                   _measure(1500, 2000), _measure_by_hand(1000, 2000)):
        passes(c04.textbook_rate, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (0.9, "double root read off the matrix"),  # the review's: 1 - 1/sqrt(kappa), no run
    (0.90, "not a measurement"),
    (1 - 1 / math.sqrt(100), "Run the method and measure"),
    (0.8999, "below 0.9"),                     # below the asymptotic rate: no measurement gives it
    (0.8995, "below 0.9"),
    (0.8985, "below 0.9"),
    (math.sqrt(9 / 11), "sqrt(beta)"),  # 0.9045: the misconception
    (0.9045, "sqrt(beta)"),
    (9 / 11, "is beta"),
    (0.81, "product of the flat direction's two roots"),
    (99 / 101, "gradient descent's optimal rate"),
    (0.99, "gradient descent's rate at lr = 1/L"),
    (1 - 2 / math.sqrt(301), "best rate over all"),
    (1 / 0.90062, "inverse"),
    (1 / 0.9, "1/0.9"), (1.111, "1/0.9"),  # the inverse of the flat direction's root
    (1.0, "not below 1"), (1.2, "not below 1"), (2.0, "not below 1"),
    (0.905, "sqrt(beta)"),
    (0.901, "three decimals"),                 # the third review's: 0.00038 above, outside 0.0002
    (0.901, "tolerance of 0.0002"),
    (0.9010, "Give four decimals"),
    (0.9003, "too small"),
    (0.95, "too large"),
    (0.81111, "rate of the loss f(w_k)"),       # the review's: (f_2000 / f_1000)^(1/1000), not |w_k|
    (0.8111, "take the square root"),
    (0.90062 ** 2, "rate of the loss f(w_k)"),
    (0.90387, "heavy-ball iterates"),           # the review's: method "momentum" at the same pair
    (0.9039, "method 'nesterov'"),
    (0.89827, "beta = 0.8182"), (0.8983, "If you rounded beta"),  # round 2: runs at a rounded beta
    (0.90415, "beta = 0.818"), (0.9042, "9/11 exactly"),
    (0.90141, "beta = 0.82"), (0.9014, "critical damping"),
    (0.90281, "beta = 0.8181"), (0.92470, "beta = 0.81"),
    (0.81839, "loss f(w_k) over the early window"), (0.8184, "early window"),  # loss over steps 100-300
    (9 / 11, "is beta"), (0.8182, "is beta"),
    (0.90356, "heavy-ball iterates measure over the early window"),  # heavy ball over steps 100-300
])
def test_exercise_4_wrong(answer, words):
    assert words in fails(c04.textbook_rate, answer)


def _measure_other_by_hand(method, of):
    """The review's two near misses, written out here: the heavy ball (x_{k+1} = x_k - lr grad + beta
    (x_k - x_{k-1}), PyTorch's buffer form from rest) and the loss f = (x^2 + 100 y^2)/2 of Nesterov's
    look-ahead points; each measured over steps 1000 to 2000."""
    lam, x, prev = np.array([1.0, 100.0]), np.ones(2), np.ones(2)
    sizes = []
    for _ in range(2001):
        if method == "nesterov":
            y = x + 9 / 11 * (x - prev)
            sizes.append(0.5 * np.sum(lam * y**2) if of == "loss" else np.linalg.norm(y))
            x, prev = y - lam * y / 100, x
        else:
            sizes.append(np.linalg.norm(x))
            x, prev = x - lam * x / 100 + 9 / 11 * (x - prev), x
    return float((sizes[2000] / sizes[1000]) ** (1 / 1000))


def test_exercise_4_loss_and_heavy_ball_are_named():
    loss = _measure_other_by_hand("nesterov", "loss")
    heavy = _measure_other_by_hand("momentum", "iterates")
    assert round(loss, 5) == 0.81111 and round(heavy, 5) == 0.90387  # the review's numbers
    for value in (loss, round(loss, 4), round(loss, 3)):
        assert "rate of the loss f(w_k)" in fails(c04.textbook_rate, value)
    for value in (heavy, round(heavy, 4)):
        assert "heavy-ball iterates" in fails(c04.textbook_rate, value)


@pytest.mark.parametrize("window", [(200, 400), (100, 400), (50, 100), (300, 400), (500, 1000),
                                    (100, 2000), (20, 700), (400, 1000), (100, 700), (0, 1500), (100, 300)])
def test_exercise_4_early_windows_are_rejected_with_the_reason(window):
    value = _measure(*window)
    message = fails(c04.textbook_rate, value)
    assert "early" in message and "double root" in message


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_4_not_a_number(answer):
    fails(c04.textbook_rate, answer)


def test_exercise_4_success_message_separates_formula_and_run(measured, capsys):
    c04.textbook_rate(measured)
    out = capsys.readouterr().out
    # the double-root formula 0.9 (k2/k1)^(1/(k2-k1)) and the run's own numbers, each named as such
    assert "0.90062 (the run: 0.90062)" in out and "0.9050 (the run: 0.9046)" in out


def test_exercise_4_below_0_9_only_from_the_first_two_steps():
    """The message for a value in (0.8, 0.9): windows that start at step 0 or 1 can measure it (the third
    review's (0, 2) and (1, 3): 0.8227 and 0.8520), no window from step 2 on can."""
    quadratic = surfaces.quadratic([1.0, 100.0])
    run = optimizers.run(quadratic, [1.0, 1.0], "nesterov", 1 / 100, 9 / 11, steps=2000)
    log_err = np.log(np.hypot(run.points[:, 0], run.points[:, 1]))
    early = [round(float(np.exp((log_err[k2] - log_err[k1]) / (k2 - k1))), 4) for k1, k2 in [(0, 2), (1, 3)]]
    assert early == [0.8227, 0.852]
    tilted = log_err - np.arange(log_err.size) * np.log(0.9)  # every later window is > 0.9 iff this rises
    assert np.all(np.diff(tilted[2:]) > 0)
    for value in (0.8227, 0.852, 0.85):
        message = fails(c04.textbook_rate, value)
        assert "with beta = 9/11 exactly and lr = 1/L = 0.01, no window from step 2 on" in message


def test_exercise_4_rounded_betas_are_named():
    """The round-2 review's: beta = 9/11 rounded to 4, 3, 2 decimals measures 0.89827, 0.90415, 0.90141
    (steps 1000 to 2000), each told that beta may have been rounded; those above 0.9 also that an early or
    short window at 9/11 gives the same number (the round-3 review's)."""
    for beta, printed in [(0.8182, 0.89827), (0.818, 0.90415), (0.82, 0.90141)]:
        quadratic = surfaces.quadratic([1.0, 100.0])
        run = optimizers.run(quadratic, [1.0, 1.0], "nesterov", 1 / 100, beta, steps=2000)
        err = np.hypot(run.points[:, 0], run.points[:, 1])
        value = float((err[2000] / err[1000]) ** (1 / 1000))
        assert round(value, 5) == printed
        for answer in (value, round(value, 4)):
            message = fails(c04.textbook_rate, answer)
            assert "If you rounded beta" in message and "no window" not in message
            # above 0.9 the same number also comes from an early or short window at 9/11: both causes named
            assert ("too early or too short" in message) == (value > 0.9)


def test_exercise_4_early_loss_and_heavy_ball_windows():
    """The round-2 review's 0.81839 (the loss over steps 100-300) and 0.90356 (the heavy ball there)."""
    loss = c04._textbook_measurement(100, 300, of="loss")
    heavy = c04._textbook_measurement(100, 300, method="momentum")
    assert round(loss, 5) == 0.81839 and round(heavy, 5) == 0.90356
    assert "loss f(w_k) over the early window" in fails(c04.textbook_rate, loss)
    assert "heavy-ball iterates measure over the early window" in fails(c04.textbook_rate, heavy)


# --------------------------------------------------------------------------- exercise 5 (within 1e-4)

BETA_5 = 0.8
WEDGE_LEFT = (1 - math.sqrt(BETA_5)) ** 2 / ((1 + BETA_5 - math.sqrt(BETA_5)) * 0.01)  # 1.2307810
CRITICAL = ((1 - BETA_5) / (1 + BETA_5)) ** 2 / 0.01  # 1.2345679, section 5's estimate


def _wedge_left_by_hand():
    """The left end by another route: the rates written out from the roots of each 2x2 matrix
    (np.roots), bisected here, without lessons_lib.theory."""
    def rate(lr, method):
        worst = 0.0
        for lam in (0.01, 1.0):
            if method == "momentum":
                coefficients = [1, -(1 + BETA_5 - lr * lam), BETA_5]
            else:
                c = 1 - lr * lam
                coefficients = [1, -(1 + BETA_5) * c, BETA_5 * c]
            worst = max(worst, np.abs(np.roots(coefficients)).max())
        return worst
    lo, hi = 1.15, 1.3  # the heavy ball faster at 1.15, Nesterov at 1.3
    assert rate(lo, "nesterov") > rate(lo, "momentum") and rate(hi, "nesterov") < rate(hi, "momentum")
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if rate(mid, "nesterov") > rate(mid, "momentum") else (lo, mid)
    return (lo + hi) / 2


def test_exercise_5_edge_is_the_closed_form():
    left, right = c04._wedge_ends(BETA_5)
    assert abs(left - WEDGE_LEFT) < 1e-9
    assert abs(_wedge_left_by_hand() - WEDGE_LEFT) < 1e-9
    assert round(left, 5) == 1.23078 and round(right, 5) == 1.33195
    assert 3e-3 < CRITICAL - left < 4e-3  # the estimate is outside the tolerance, and named
    for row, printed in [(0.85, 0.6563), (0.9, 0.2768), (0.95, 0.0657)]:  # the rows section 5 prints
        assert round(c04._wedge_ends(row)[0], 4) == printed


@pytest.mark.parametrize("answer", [WEDGE_LEFT, 1.2308, 1.23078, 1.2307, 1.23085, np.float64(1.23078),
                                    torch.tensor(1.23078, dtype=torch.float64)])
def test_exercise_5_right(answer, capsys):
    passes(c04.wedge_edge, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (CRITICAL, "critically damped"), (1.2346, "section 5's estimate"),     # the review's near miss
    (1.1146, "heavy ball's flat component"), (1.33195, "right end"), (1.3320, "right end"),
    (0.6563, "beta = 0.85"), (0.2768, "beta = 0.9"), (0.0657, "beta = 0.95"), (0.06574, "section 5 prints"),
    (0.98769, "c = 1 - lr*mu"), (0.9877, "solve for lr"),
    (4 / 3.01, "near the tip"), (1.3289, "best step"),
    (3.6 / 2.6, "divergence edge"), (0.012308, "eigenvalues [1, 100]"), (0.012308, "is lr*mu"),
    (0.0123457, "eigenvalues [1, 100]"),
    (1.231, "map's cells"), (1.24, "map's cells"), (1.22, "map's cells"), (1.2310, "not within 0.0001"),
    (1.5, "too large"), (0.8, "too small"),
])
def test_exercise_5_wrong(answer, words):
    assert words in fails(c04.wedge_edge, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_5_not_a_number(answer):
    fails(c04.wedge_edge, answer)


def test_exercise_4_the_window_100_to_300_is_named_first():
    """The round-3 review's: 0.90465 (steps 100-300) is named as that window, not first as sqrt(beta)."""
    message = fails(c04.textbook_rate, _measure(100, 300))
    assert message.startswith("0.90465 is what Nesterov's iterates measure over steps 100 to 300")


@pytest.mark.parametrize("lr, printed", [(4 / 301, 0.8975), (1 / 101, 0.90909)])
def test_exercise_4_wrong_step_sizes_are_told_about_the_step(lr, printed):
    """The round-3 review's: lr = 4/(3L + mu) measures 0.89750, lr = 1/(L + mu) 0.90909."""
    run = optimizers.run(surfaces.quadratic([1.0, 100.0]), [1.0, 1.0], "nesterov", lr, 9 / 11, steps=2000)
    err = np.hypot(run.points[:, 0], run.points[:, 1])
    value = float((err[2000] / err[1000]) ** (1 / 1000))
    assert round(value, 5) == printed
    assert "your step is not 1/L = 0.01" in fails(c04.textbook_rate, value)


def test_exercise_3_diverging_iterates_are_named():
    """The round-3 review's: the step with the wrong sign diverges; told so, not a ValueError."""
    def wrong_sign(grad, x0, lr, beta, wd, steps):
        p, b, path = np.array(x0, dtype=float), np.zeros(2), [np.array(x0, dtype=float)]
        for _ in range(steps):
            g = grad(p) + wd * p
            b = beta * b + g
            p = p + lr * (g + beta * b)
            path.append(p.copy())
        return np.array(path)
    message = fails(c04.weight_decay_step, wrong_sign)
    assert "became infinite" in message and "wrong sign" in message and "ValueError" not in message
    infinite = fails(c04.weight_decay_step,
                     lambda grad, x0, lr, beta, wd, steps: np.full((steps + 1, 2), np.inf))
    assert "became infinite" in infinite


def test_exercise_1_hint_uses_the_lessons_notation():
    """The round-3 review's: the hint writes lr*lambda, not an undefined h."""
    message = fails(c04.effective_momentum, 0.5)
    assert "beta(1-lr*lambda)" in message and "(1-h)" not in message


def test_exercise_5_hint_does_not_give_away_the_mechanism():
    """The round-3 review's: a wrong entry gets the bisection recipe, not which component sets each rate."""
    message = fails(c04.wedge_edge, 0.0)
    assert "bisect" in message and "between lr = 1.15" in message
    assert "complex roots" not in message and "larger real root" not in message
