"""Table test of lesson 03's exercise checks (lessons_lib.checks.momentum).

Right answers, rounded within the tolerance each exercise states, must pass (print "Correct: ..."); the
common wrong answers must be rejected with :class:`NotYet` and their own message: for the leaky average,
the damping factor 1/(1+beta) given for the steady buffer (the near miss the exercise names), the
amplification 1/(1-beta) for the alternating one, the factors without g, the gradient itself, the signed
buffer and the EMA form (1-beta) g; for the oscillator, sqrt(lam), 2 lam or a^2 for the critical
friction, h^2 where h belongs and lam = 1's friction, and the double root, (1 - lr lam)^2, lr = h or the
oscillator's 1 - 2 sqrt(lr lam), (1 - a h)^2, 1 - lr lam and the lesson's 0.64 for the heavy ball's
critical momentum; for the threshold, 2/L, the effective-rate limit 2(1-beta)/L, lr*L, Polyak's optimal
learning rate and the end of the ripple regime; for the effective learning rate, lr, 1/(1-beta),
lr*beta, lr/beta and lr/(1+beta); an hb_rate that raises (math.sqrt of a negative number, a division
by zero, a NameError in the complex branch: only the first gets the complex-roots text), returns None,
nan or gradient descent's factor without the modulus. Each right value is also reached by an independent
route (running the buffer or the heavy ball, np.roots, NumPy's eigenvalues).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_tables import fails, passes

from lessons_lib.checks import momentum as m03

# ---------------------------------------------------- exercise 1: the leaky average, 20 and 2/1.9, 0.1 %

STEADY, ALTERNATING = 20.0, 2 / 1.9


def _buffer(gradients, beta=0.9):
    """The buffer run step by step: an independent route to the two limits."""
    b = 0.0
    for g in gradients:
        b = beta * b + g
    return b


def test_exercise_1_values_by_running_the_buffer():
    assert math.isclose(_buffer([2.0] * 2000), STEADY, rel_tol=1e-12)
    assert math.isclose(abs(_buffer([2.0 * (-1) ** k for k in range(2000)])), ALTERNATING, rel_tol=1e-12)


@pytest.mark.parametrize("args", [
    (STEADY, ALTERNATING),
    (20, 1.0526),                 # four digits
    (2 / (1 - 0.9), 2 / (1 + 0.9)),
    (np.float64(20.0), np.float64(1.05263)),
    (19.99, 1.0531),              # inside 0.1 %
])
def test_exercise_1_right(args, capsys):
    passes(m03.leaky_factors, *args, capsys=capsys)
    assert capsys.readouterr().out == ""  # passes() already read both lines


@pytest.mark.parametrize(("args", "says"), [
    ((ALTERNATING, ALTERNATING), "alternating gradient's amplitude"),   # 1/(1+beta) named as the near miss
    ((10.0, ALTERNATING), "multiply it by g = 2"),
    ((2.0, ALTERNATING), "exponential-moving-average"),
    ((18.0, ALTERNATING), "starts the sum at beta^1"),
    ((200.0, ALTERNATING), "not its square"),
    ((21.0, ALTERNATING), "too large"),
    ((19.9, ALTERNATING), "too small"),
    ((STEADY, STEADY), "steady gradient's limit"),
    ((STEADY, 1 / 1.9), "multiply it by g = 2"),
    ((STEADY, 2.0), "one gradient"),
    ((STEADY, 0.2 / 1.9), "exponential-moving-average"),
    ((STEADY, 1.8 / 1.9), "leaves out the newest gradient"),
    ((STEADY, 1.06), "too large"),
    ((STEADY, 1.05), "too small"),
    (("20", ALTERNATING), "not the text"),
    ((STEADY, None), "No answer yet"),
    ((STEADY, -ALTERNATING), "its sign alternates"),        # the signed buffer, -1.0526
    ((STEADY, -1.0526), "its sign alternates"),
])
def test_exercise_1_wrong(args, says):
    assert says in fails(m03.leaky_factors, *args)


# ---------------------------------------------------- exercise 2: (2 + 2*0.9)/10 = 0.38, 0.01 %


@pytest.mark.parametrize("answer", [0.38, 3.8 / 10, (2 + 2 * 0.9) / 10.0, 0.380037, 0.379963])
def test_exercise_2_right(answer, capsys):
    passes(m03.stability_limit, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "says"), [
    (0.2, "threshold of gradient descent"),              # 2/L
    (7.6, "flat direction"),                              # (2 + 2 beta)/mu
    (2 / 10.5, "optimal step of gradient descent"),       # 2/(mu + L)
    (0.19, "trace"),                                      # (1 + beta)/L
    ((1 + math.sqrt(0.9)) ** 2 / 10, "ripple regime"),    # the edge of the ripples, 0.07 % below
    (0.3797, "ripple regime"),                            # the same, rounded to four digits
    (0.4, "beta -> 1"),                                   # 4/L
    (3.8, "divide by L"),                                 # lr*L, not divided by L
    (0.02, "effective rate"),                             # 2(1 - beta)/L, GD's limit at lr/(1-beta)
    ((2 + 2 * math.sqrt(0.9)) / 10, "2 + 2*sqrt(beta)"),
    (4 / (math.sqrt(0.5) + math.sqrt(10)) ** 2, "Polyak's optimal learning rate"),
    (0.2672, "Polyak's optimal learning rate"),           # the same, rounded
    (0.267, "Polyak's optimal learning rate"),            # three digits
    (np.float64(0.267), "Polyak's optimal learning rate"),
    (np.array(0.267), "Polyak's optimal learning rate"),      # containers of one number, as number() takes
    ([0.267], "Polyak's optimal learning rate"),
    (np.array([0.2672]), "Polyak's optimal learning rate"),
    ("0.267", "not the text"),
    (0.381, "too large"),
    (0.3795, "too small"),
    ("0.38", "not the text"),
])
def test_exercise_2_wrong(answer, says):
    assert says in fails(m03.stability_limit, answer)


def _converges(lr, beta=0.9, lams=(0.5, 10.0), steps=3000):
    """The heavy ball on f = sum lam_i x_i^2 / 2 from (1, 1): |x| below 1e-6 after ``steps``."""
    lams = np.array(lams)
    x = previous = np.ones_like(lams)
    for _ in range(steps):
        x, previous = x - lr * lams * x + beta * (x - previous), x
    return bool(np.abs(x).max() < 1e-6)


def test_exercise_2_value_by_running_the_heavy_ball():
    """An independent route to 0.38: the heavy ball on eigenvalues {0.5, 10}, beta = 0.9."""
    with np.errstate(over="ignore", invalid="ignore"):
        assert _converges(0.3799) and not _converges(0.3801)



# ---------------------------------------------------- exercise 3: the oscillator with lam = 9, h = 0.05

A3, BODE3, BC3 = 6.0, 0.7, 0.85**2


def test_exercise_3_values_by_another_route():
    """a from the roots of r^2 + a r + 9 (double), beta_c as the edge of complex eigenvalues of M."""
    assert np.allclose(np.roots([1.0, A3, 9.0]), -3.0, atol=1e-6)
    lr = 0.05**2
    disc = [(1 + b - lr * 9.0) ** 2 - 4 * b for b in (BC3 - 1e-9, BC3 + 1e-9)]
    assert disc[0] > 0 > disc[1]
    assert math.isclose(1 - A3 * 0.05, BODE3)


@pytest.mark.parametrize("args", [
    (A3, BODE3, BC3),
    (6, 0.7, 0.7225),
    (2 * np.sqrt(9.0), 1 - 6 * 0.05, (1 - np.sqrt(0.0025 * 9)) ** 2),
])
def test_exercise_3_right(args, capsys):
    m03.oscillator_critical(*args)
    assert capsys.readouterr().out.count("Correct:") == 3


@pytest.mark.parametrize(("args", "says"), [
    ((3.0, BODE3, BC3), "that is sqrt(lam)"),
    ((18.0, BODE3, BC3), "that is 2 lam"),
    ((36.0, BODE3, BC3), "take the square root"),
    ((9.0, BODE3, BC3), "that is lam"),
    ((7.0, BODE3, BC3), "too large"),
    ((A3, 1 - 6 * 0.0025, BC3), "where the time step h"),
    ((A3, 0.3, BC3), "friction lost per step"),
    ((A3, 0.85, BC3), "1 - a h/2 (or 1 - 3h"),
    ((A3, 0.9, BC3), "critical friction of lam = 1"),
    ((A3, BC3, BC3), "part (c)"),
    ((A3, 0.49, BC3), "(1 - a h)^2"),
    ((A3, BODE3, BODE3), "larger by lr lam"),                 # the oscillator's value for the heavy ball's
    ((A3, BODE3, 0.85), "double root sigma"),
    ((A3, BODE3, (1 - 0.0225) ** 2), "lr lam where sqrt(lr lam)"),
    ((A3, BODE3, 0.95**2), "it lost lam"),
    ((A3, BODE3, (1 - 3 * 0.0025) ** 2), "lr = h^2 where sqrt(lr) = h"),
    ((A3, BODE3, 1.15**2), "not a momentum"),
    ((A3, BODE3, (1 - math.sqrt(0.05 * 9)) ** 2), "lr = h = 0.05"),    # 0.1084: lr = h, not h^2
    ((A3, BODE3, 0.49), "part (b)'s momentum squared"),       # (1 - a h)^2
    ((A3, BODE3, 0.64), "section 8's beta_c"),               # the lesson's value at lr lam = 0.04, copied
    ((A3, BODE3, 1 - 0.0225), "gradient descent's factor"),  # 1 - lr lam = 0.9775
    ((A3, BODE3, 0.73), "too large"),
    ((A3, "0.7", BC3), "not the text"),
    ((None, BODE3, BC3), "No answer yet"),
])
def test_exercise_3_wrong(args, says):
    assert says in fails(m03.oscillator_critical, *args)


# ---------------------------------------------------- exercise 4: hb_rate, 1e-6 relative


def _right(lr, beta, lam):
    t = 1 + beta - lr * lam
    disc = t * t - 4 * beta
    return float(np.sqrt(beta)) if disc < 0 else (abs(t) + np.sqrt(disc)) / 2


def _by_numpy(lr, beta, lam):
    return float(np.abs(np.roots([1.0, -(1 + beta - lr * lam), beta])).max())


def _by_eigvals(lr, beta, lam):
    return np.abs(np.linalg.eigvals(np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]]))).max()


@pytest.mark.parametrize("candidate", [_right, _by_numpy, _by_eigvals])
def test_exercise_4_right(candidate, capsys):
    passes(m03.rate_function, candidate, capsys=capsys)


def _two_sqrt(lr, beta, lam):
    t = 1 + beta - lr * lam
    disc = t * t - 4 * beta
    return 2 * np.sqrt(beta) if disc < 0 else (abs(t) + np.sqrt(disc)) / 2


def _beta(lr, beta, lam):
    t = 1 + beta - lr * lam
    disc = t * t - 4 * beta
    return beta if disc < 0 else (abs(t) + np.sqrt(disc)) / 2


def _real_part(lr, beta, lam):
    t = 1 + beta - lr * lam
    disc = t * t - 4 * beta
    return abs(t) / 2 if disc < 0 else (abs(t) + np.sqrt(disc)) / 2


def _no_abs(lr, beta, lam):  # takes (t + sqrt(disc))/2: the smaller root when t < 0
    t = 1 + beta - lr * lam
    disc = t * t - 4 * beta
    return float(np.sqrt(beta)) if disc < 0 else abs((t + np.sqrt(disc)) / 2)


def _gd(lr, beta, lam):
    return abs(1 - lr * lam)


def _gd_signed(lr, beta, lam):  # gradient descent's factor without the modulus when beta = 0
    if beta == 0:
        return 1 - lr * lam
    return _right(lr, beta, lam)


def _text(lr, beta, lam):
    return str(_right(lr, beta, lam))


def _stub(lr, beta, lam):
    raise NotImplementedError


def _math_sqrt(lr, beta, lam):  # no complex branch: math.sqrt of the negative discriminant raises
    t = 1 + beta - lr * lam
    return (abs(t) + math.sqrt(t * t - 4 * beta)) / 2


def _np_sqrt(lr, beta, lam):  # the same with np.sqrt: nan (and a RuntimeWarning)
    t = 1 + beta - lr * lam
    with np.errstate(invalid="ignore"):
        return float((abs(t) + np.sqrt(t * t - 4 * beta)) / 2)


def _divides(lr, beta, lam):
    return 1 / 0


def _typo(lr, beta, lam):  # right except a misspelt name in the complex branch
    t = 1 + beta - lr * lam
    disc = t * t - 4 * beta
    if disc < 0:
        return float(np.sqrt(betta))  # noqa: F821
    return (abs(t) + np.sqrt(disc)) / 2


def _two_args(lr, beta):
    return float(np.sqrt(beta))


def _no_return(lr, beta, lam):
    t = 1 + beta - lr * lam
    disc = t * t - 4 * beta
    if disc >= 0:
        return (abs(t) + np.sqrt(disc)) / 2


@pytest.mark.parametrize(("candidate", "says"), [
    (_two_sqrt, "do not drop the 1/2"),
    (_beta, "beta = |sigma|^2"),
    (_real_part, "real part"),
    (_no_abs, "smaller modulus"),
    (_gd, "gradient descent's"),
    (_gd_signed, "the rate is a modulus"),
    (_gd_signed, "|1 - lr*lam| when beta = 0"),
    (_text, "not the text"),
    (_stub, "not written yet"),
    (0.5, "should be a function"),
    (_math_sqrt, "hb_rate(0.4, 0.81, 2) (complex roots (ripples)) raised ValueError: math domain error"),
    (_math_sqrt, "the roots are complex"),
    (_np_sqrt, "returned nan"),
    (_divides, "raised ZeroDivisionError: division by zero"),
    (_no_return, "returned None"),
    (_typo, "raised NameError: name 'betta' is not defined"),
    (_two_args, "raised TypeError"),
])
def test_exercise_4_wrong(candidate, says):
    assert says in fails(m03.rate_function, candidate)


@pytest.mark.parametrize("candidate", [lambda *a: 0.0, lambda *a: 0])
def test_exercise_4_zero_not_blamed_on_gradient_descent(candidate):
    """A function that returns 0 (a placeholder) is not told it computed gradient descent's factor."""
    message = fails(m03.rate_function, candidate)
    assert "gradient descent" not in message and "expected" in message


@pytest.mark.parametrize("candidate", [_typo, _divides, _two_args])
def test_exercise_4_crash_not_blamed_on_the_square_root(candidate):
    """Only a failed square root (ValueError) gets the complex-roots explanation; other crashes do not."""
    message = fails(m03.rate_function, candidate)
    assert "square root of a negative number" not in message and "the roots are complex" not in message




# ---------------------------------------------------- exercise 5: the effective learning rate, 0.2, 0.1 %


def test_exercise_5_value_by_the_slow_root():
    """lr = 0.01, beta = 0.95, lam = 1e-4: gradient descent at (1 - sigma_slow)/lam shrinks the
    component by the heavy ball's slow root, sigma_slow from NumPy's eigenvalues of the 2x2 matrix;
    it is within 0.1 % of lr/(1-beta) = 0.2."""
    lr, beta, lam = 0.01, 0.95, 1e-4
    sigma = np.linalg.eigvals(np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]]))
    slow = float(np.max(sigma.real))
    assert abs((1 - slow) / lam / 0.2 - 1) < 1e-3


@pytest.mark.parametrize("answer", [0.2, 0.01 / (1 - 0.95), 0.20008, 0.1999])
def test_exercise_5_right(answer, capsys):
    passes(m03.effective_rate, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "says"), [
    (0.01, "momentum's own lr"),
    (20.0, "multiply it by lr = 0.01"),                 # 1/(1-beta), the amplification without lr
    (0.0095, "multiplies by beta"),
    (0.01 / 0.95, "divides by beta"),
    (0.0105, "keeps too little"),
    (0.0005, "exponential-moving-average"),
    (0.01 / 1.95, "alternating gradient's factor"),
    (0.19, "starts the sum at beta^1"),
    (0.21, "too large"),
    (0.1, "too small"),
    ("0.2", "not the text"),
    (None, "No answer yet"),
])
def test_exercise_5_wrong(answer, says):
    assert says in fails(m03.effective_rate, answer)


def test_exercise_4_calling_theory_is_refused_and_theory_is_put_back():
    """The exercise says "Do not call theory": an hb_rate that returns theory.momentum_rate's value gets a
    message (review, session 25: it passed, and the hidden tests, comparing with theory, could not tell);
    theory works again after the check."""
    from lessons_lib import theory

    def from_theory(lr, beta, lam):
        return float(theory.momentum_rate(lr, beta, [lam]))

    message = fails(m03.rate_function, from_theory)
    assert "calls theory.momentum_rate" in message
    assert theory.momentum_rate(0.1, 0.5, [1.0]) == pytest.approx(0.5**0.5)
