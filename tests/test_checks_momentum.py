"""Table test of lesson 03's exercise checks (lessons_lib.checks.momentum).

Right answers, rounded within the tolerance each exercise states, must pass (print "Correct: ..."); the
common wrong answers, those of the course's reviews among them (the misprinted rate 2*sqrt(beta);
1 - sqrt(beta); the end of the ripple regime given as the threshold; the large-kappa approximations
exp(-4/sqrt(kappa)) and exp(-2/sqrt(kappa)) of Polyak's pair, his learning rate without its factor 1/mu,
and three digits where four are asked for; an hb_rate that raises, divides by zero or returns None or
nan; kappa or sqrt(kappa) for the measured speed-up, a ratio from a run too short to settle, with the
tolerance 1e-8, with the absolute error, or with a heavy-ball count one step off), must be rejected with
:class:`NotYet` and their own message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_tables import fails, passes

from lessons_lib.checks import momentum as m03

# --------------------------------------------------------------------------- helpers


# ---------------------------------------------------- exercise 1: sqrt(0.64) = 0.8, 0.1 %


@pytest.mark.parametrize("answer", [0.8, math.sqrt(0.64), np.float64(0.8), 0.80079, 0.79921, 4 / 5])
def test_exercise_1_right(answer, capsys):
    passes(m03.complex_rate, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "says"), [
    (1.6, "drops the factor 1/2"),        # the article's 2*sqrt(beta)
    (0.64, "product of the two roots"),   # beta itself
    (0.0, "gradient descent"),            # |1 - lr*lambda|
    (0.32, "real part"),                  # (1 + beta - lr*lambda)/2
    (0.2, "critical-damping root"),       # 1 - sqrt(beta), the shape of the critical-damping root
    (1 - math.sqrt(0.64), "critical-damping root"),
    (0.81, "too large"),
    (0.7990, "too small"),                # 0.125 % off: outside 0.1 %
    ("0.8", "not the text"),
    (None, "No answer yet"),
    (True, "boolean"),
    ([0.8, 0.8], "single number"),
])
def test_exercise_1_wrong(answer, says):
    assert says in fails(m03.complex_rate, answer)


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
    ((2 + 2 * math.sqrt(0.9)) / 10, "2 + 2*sqrt(beta)"),
    (0.381, "too large"),
    (0.3795, "too small"),
    ("0.38", "not the text"),
])
def test_exercise_2_wrong(answer, says):
    assert says in fails(m03.stability_limit, answer)


# ---------------------------------------------------- exercise 3: eigenvalues 0.1 and 10, 0.05 %
# lr* = 4/(sqrt(0.1) + sqrt(10))^2 = 40/121, beta* = (9/11)^2, rate 9/11

LR3, BETA3, RATE3 = 40 / 121, (9 / 11) ** 2, 9 / 11
SM3, SL3 = math.sqrt(0.1), math.sqrt(10.0)


def test_exercise_3_values():
    """The exact values by another route: lr* from the two edge conditions, beta* and the rate from kappa."""
    assert math.isclose(LR3, (2 / (SM3 + SL3)) ** 2, rel_tol=1e-14)
    assert math.isclose(LR3 * 0.1, (1 - RATE3) ** 2, rel_tol=1e-13)   # lr*mu = (1 - sqrt(beta))^2
    assert math.isclose(LR3 * 10.0, (1 + RATE3) ** 2, rel_tol=1e-13)  # lr*L = (1 + sqrt(beta))^2


@pytest.mark.parametrize("args", [
    (LR3, BETA3, RATE3),
    (0.3306, 0.6694, 0.8182),    # four significant digits, as the exercise asks
    (0.330579, 0.669421, 0.818182),
    (0.3305, 0.6693, 0.8181),    # four digits, truncated instead of rounded: still within 0.05 %
    (0.3306, 0.6694, 0.818),     # 0.818 is 0.02 % from 9/11: inside the tolerance
    ((2 / (SM3 + SL3)) ** 2, ((SL3 - SM3) / (SL3 + SM3)) ** 2, (SL3 - SM3) / (SL3 + SM3)),
    (np.float64(LR3), np.float64(BETA3), np.float64(RATE3)),
])
def test_exercise_3_right(args, capsys):
    m03.optimal_pair(*args)
    out = capsys.readouterr().out
    assert out.count("Correct:") == 3


@pytest.mark.parametrize(("args", "says"), [
    ((4 / 121, BETA3, RATE3), "lost the factor 1/mu"),     # the review's slip: 4/(1 + sqrt(kappa))^2
    ((0.03306, BETA3, RATE3), "lost the factor 1/mu"),
    ((4 / (1 + SL3) ** 2, BETA3, RATE3), "1 in the place of sqrt(mu)"),
    ((2 / 10.1, BETA3, RATE3), "optimal step of gradient descent"),
    ((2 / (SM3 + SL3), BETA3, RATE3), "square it"),
    ((LR3 / 4, BETA3, RATE3), "a quarter"),
    ((LR3 / 2, BETA3, RATE3), "half the optimal step"),
    ((0.331, BETA3, RATE3), "rounded to 3 significant digits"),    # 0.13 % off: three digits are not enough
    ((0.33, BETA3, RATE3), "rounded to 2 significant digits"),
    ((0.332, BETA3, RATE3), "too large"),                  # 0.43 % off
    ((0.3310, BETA3, RATE3), "Give four significant digits"),
    ((0.3303, BETA3, RATE3), "too small"),                 # 0.08 % off
    ((LR3, RATE3, RATE3), "beta is its square"),           # beta given as sqrt(beta)
    ((LR3, 99 / 101, RATE3), "gradient descent's rate"),
    ((LR3, (99 / 101) ** 2, RATE3), "kappa where sqrt(kappa)"),
    ((LR3, math.exp(-0.4), RATE3), "exp(-4/sqrt(kappa))"),   # 0.6703, 0.13 % off
    ((LR3, 0.6703, RATE3), "exp(-4/sqrt(kappa))"),
    ((LR3, 0.64, RATE3), "(1 - 2/sqrt(kappa))^2"),
    ((LR3, 0.669, RATE3), "rounded to 3 significant digits"),
    ((LR3, 0.67, RATE3), "rounded to 2 significant digits"),
    ((LR3, 0.671, RATE3), "too large"),                    # 0.24 % off
    ((LR3, BETA3, 99 / 101), "momentum replaces kappa by sqrt(kappa)"),
    ((LR3, BETA3, BETA3), "the rate is sqrt(beta)"),
    ((LR3, BETA3, 2 * RATE3), "drops the factor 1/2"),     # the article's 2*sqrt(beta)
    ((LR3, BETA3, math.exp(-0.2)), "exp(-2/sqrt(kappa))"),  # 0.8187, 0.07 % off
    ((LR3, BETA3, 0.8187), "exp(-2/sqrt(kappa))"),
    ((LR3, BETA3, 0.8), "1 - 2/sqrt(kappa)"),
    ((LR3, BETA3, 0.82), "rounded to 2 significant digits"),
    ((LR3, BETA3, 0.8195), "too large"),
    (("0.3306", BETA3, RATE3), "not the text"),
    ((LR3, None, RATE3), "No answer yet"),
    ((LR3, BETA3, True), "boolean"),
    ((np.array([LR3, LR3]), BETA3, RATE3), "single number"),
])
def test_exercise_3_wrong(args, says):
    assert says in fails(m03.optimal_pair, *args)


def test_exercise_3_tolerance_separates_the_approximations():
    """The asymptotic formulas lie outside 0.05 % and the four-digit roundings inside it."""
    assert abs(math.exp(-0.4) / BETA3 - 1) > 1.2e-3 and abs(math.exp(-0.2) / RATE3 - 1) > 6e-4
    assert all(abs(a / b - 1) < m03.RTOL_3 for a, b in [(0.3306, LR3), (0.6694, BETA3), (0.8182, RATE3)])
    # three digits are not enough
    assert abs(0.331 / LR3 - 1) > m03.RTOL_3 and abs(0.669 / BETA3 - 1) > m03.RTOL_3


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
    (_text, "not the text"),
    (_stub, "not written yet"),
    (0.5, "should be a function"),
    (_math_sqrt, "hb_rate(0.5, 0.81, 2) (complex roots (ripples)) raised ValueError: math domain error"),
    (_math_sqrt, "the roots are complex"),
    (_np_sqrt, "returned nan"),
    (_divides, "raised ZeroDivisionError: division by zero"),
    (_no_return, "returned None"),
])
def test_exercise_4_wrong(candidate, says):
    assert says in fails(m03.rate_function, candidate)


# ---------------------------------------------------- exercise 5: measured speed-up, 0.25 %

GD400, HB400 = m03.measured_steps(400.0)


def test_exercise_5_counts():
    """The counts the check measures (the lesson prints them); a change here changes the exercise."""
    assert (GD400, HB400) == (2764, 194)


def _count(err, tol):
    """An independent count: the step after the last one whose error is above tol."""
    return int(np.flatnonzero(err > tol)[-1]) + 1


def _errors(steps=6000):
    """Error norms of GD at 2/(1 + 400) and of the heavy ball at Polyak's pair, iterated by hand on the
    eigenvalues (1, 400) from (1, 1) (not through optimizers.run, which the check uses)."""
    lam = np.array([1.0, 400.0])
    lr_gd, lr_hb, beta_hb = 2 / 401, (2 / 21) ** 2, (19 / 21) ** 2
    x_gd, x_hb, prev = np.ones(2), np.ones(2), np.ones(2)
    gd, hb = [np.sqrt(2)], [np.sqrt(2)]
    for _ in range(steps):
        x_gd = x_gd - lr_gd * lam * x_gd
        x_hb, prev = x_hb - lr_hb * lam * x_hb + beta_hb * (x_hb - prev), x_hb
        gd.append(np.linalg.norm(x_gd))
        hb.append(np.linalg.norm(x_hb))
    return np.array(gd), np.array(hb)


GD_ERR, HB_ERR = _errors()


def test_exercise_5_counts_by_another_route():
    assert (_count(GD_ERR / GD_ERR[0], 1e-6), _count(HB_ERR / HB_ERR[0], 1e-6)) == (GD400, HB400)


@pytest.mark.parametrize("answer", [GD400 / HB400, 14.25, 14.24, 14.247, 14.2474, (GD400 + 1) / HB400,
                                    (GD400 - 1) / HB400, np.float64(GD400 / HB400)])
def test_exercise_5_right(answer, capsys):
    passes(m03.speedup, answer, capsys=capsys)


ABSOLUTE = _count(GD_ERR, 1e-6) / _count(HB_ERR, 1e-6)             # 2833 / 198 = 14.31, 0.43 % off
EPS_8 = _count(GD_ERR / GD_ERR[0], 1e-8) / _count(HB_ERR / HB_ERR[0], 1e-8)       # 15.23
EPS_8_SHORT = 3501 / _count(HB_ERR / HB_ERR[0], 1e-8)              # the review's 14.47: GD run of 3500 steps


@pytest.mark.parametrize(("answer", "says"), [
    (400, "is kappa"),
    (20, "prediction from the two rates"),
    (20.07, "prediction from the two rates"),   # ln rho_hb / ln rho_gd
    (HB400 / GD400, "upside down"),
    (ABSOLUTE, "absolute size"),
    (round(ABSOLUTE, 2), "absolute size"),
    (EPS_8, "tolerance of 1e-08"),
    (EPS_8_SHORT, "too short to settle"),
    (round(EPS_8_SHORT, 2), "too short to settle"),
    (GD400 / (HB400 + 1), "one step off"),       # 0.51 % off
    (GD400 / (HB400 - 1), "one step off"),
    (14.2, "rounded to one decimal"),
    (14, "rounded to a whole number"),
    (13.96, "the loss"),                         # loss below 1e-12 of its start
    (14.21, "more than 0.25 %"),
    (14.29, "too large"),
    (13.9, "too small"),
    (15, "too large"),
    (1001 / HB400, "gradient-descent count, 1001"),     # GD run of 1000 steps: never settled
    (2001 / HB400, "Run it longer"),
    (GD400 / 151, "heavy-ball count, 151"),             # heavy-ball run of 150 steps
    (10, "more than 0.25 % below"),                      # a round number is not mistaken for a run length
    ("14.2", "not the text"),
    (None, "No answer yet"),
])
def test_exercise_5_wrong(answer, says):
    assert says in fails(m03.speedup, answer)


def test_exercise_5_named_ratios_are_what_the_review_measured():
    assert round(ABSOLUTE, 2) == 14.31 and round(EPS_8_SHORT, 2) == 14.47
    assert abs(ABSOLUTE / (GD400 / HB400) - 1) > m03.RTOL_5 and abs(14.2 / (GD400 / HB400) - 1) > m03.RTOL_5
