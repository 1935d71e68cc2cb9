"""Table test of lesson 04's exercise checks (lessons_lib.checks.momentum_rates).

Right answers, rounded within the tolerance each exercise states, must pass (print "Correct: ..."); the
common wrong answers must be rejected with :class:`NotYet` and their own message. Exercises 1, 2 and 4
(and their tables) come from the former lesson 03's exercises 1, 3 and 5: the misprinted rate
2*sqrt(beta); 1 - sqrt(beta); the large-kappa approximations exp(-4/sqrt(kappa)) and exp(-2/sqrt(kappa))
of Polyak's pair, his learning rate without its factor 1/mu, and three digits where four are asked for;
kappa or sqrt(kappa) for the measured speed-up, a ratio from a run too short to settle, with the
tolerance 1e-8, with the absolute error, or with a heavy-ball count one step off. Exercise 3 (the step
counts of gradient descent's and the Chebyshev guarantee) and exercise 5 (the spectrum's best momentum
at eta = 1) are new; their right answers are computed here by another route.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_tables import fails, passes

from lessons_lib.checks import momentum_rates as m04

# ---------------------------------------------------- exercise 1: sqrt(0.64) = 0.8, 0.1 %


@pytest.mark.parametrize("answer", [0.8, math.sqrt(0.64), np.float64(0.8), 0.80079, 0.79921, 4 / 5])
def test_exercise_1_right(answer, capsys):
    passes(m04.complex_rate, answer, capsys=capsys)


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
    assert says in fails(m04.complex_rate, answer)

# ---------------------------------------------------- exercise 2: eigenvalues 0.1 and 10, 0.05 %
# lr* = 4/(sqrt(0.1) + sqrt(10))^2 = 40/121, beta* = (9/11)^2, rate 9/11

LR2, BETA2, RATE2 = 40 / 121, (9 / 11) ** 2, 9 / 11
SM2, SL2 = math.sqrt(0.1), math.sqrt(10.0)


def test_exercise_2_values():
    """The exact values by another route: lr* from the two edge conditions, beta* and the rate from kappa."""
    assert math.isclose(LR2, (2 / (SM2 + SL2)) ** 2, rel_tol=1e-14)
    assert math.isclose(LR2 * 0.1, (1 - RATE2) ** 2, rel_tol=1e-13)   # lr*mu = (1 - sqrt(beta))^2
    assert math.isclose(LR2 * 10.0, (1 + RATE2) ** 2, rel_tol=1e-13)  # lr*L = (1 + sqrt(beta))^2


@pytest.mark.parametrize("args", [
    (LR2, BETA2, RATE2),
    (0.3306, 0.6694, 0.8182),    # four significant digits, as the exercise asks
    (0.330579, 0.669421, 0.818182),
    (0.3305, 0.6693, 0.8181),    # four digits, truncated instead of rounded: still within 0.05 %
    (0.3306, 0.6694, 0.818),     # 0.818 is 0.02 % from 9/11: inside the tolerance
    ((2 / (SM2 + SL2)) ** 2, ((SL2 - SM2) / (SL2 + SM2)) ** 2, (SL2 - SM2) / (SL2 + SM2)),
    (np.float64(LR2), np.float64(BETA2), np.float64(RATE2)),
])
def test_exercise_2_right(args, capsys):
    m04.optimal_pair(*args)
    out = capsys.readouterr().out
    assert out.count("Correct:") == 3


@pytest.mark.parametrize(("args", "says"), [
    ((4 / 121, BETA2, RATE2), "lost the factor 1/mu"),     # the review's slip: 4/(1 + sqrt(kappa))^2
    ((0.03306, BETA2, RATE2), "lost the factor 1/mu"),
    ((4 / (1 + SL2) ** 2, BETA2, RATE2), "1 in the place of sqrt(mu)"),
    ((3.306, BETA2, RATE2), "normalised to [1/kappa, 1]"),   # 4/(0.1 + 1)^2: the optimal lr for L = 1
    ((2 / 10.1, BETA2, RATE2), "optimal step of gradient descent"),
    ((2 / (SM2 + SL2), BETA2, RATE2), "square it"),
    ((LR2 / 4, BETA2, RATE2), "a quarter"),
    ((LR2 / 2, BETA2, RATE2), "half the optimal step"),
    ((0.331, BETA2, RATE2), "rounded to 3 significant digits"),    # 0.13 % off: three digits are not enough
    ((0.33, BETA2, RATE2), "rounded to 2 significant digits"),
    ((0.332, BETA2, RATE2), "too large"),                  # 0.43 % off
    ((0.3310, BETA2, RATE2), "Give four significant digits"),
    ((0.3303, BETA2, RATE2), "too small"),                 # 0.08 % off
    ((LR2, RATE2, RATE2), "beta is its square"),           # beta given as sqrt(beta)
    ((LR2, 99 / 101, RATE2), "gradient descent's rate"),
    ((LR2, (99 / 101) ** 2, RATE2), "kappa where sqrt(kappa)"),
    ((LR2, math.exp(-0.4), RATE2), "exp(-4/sqrt(kappa))"),   # 0.6703, 0.13 % off
    ((LR2, 0.6703, RATE2), "exp(-4/sqrt(kappa))"),
    ((LR2, 0.64, RATE2), "(1 - 2/sqrt(kappa))^2"),
    ((LR2, 0.669, RATE2), "rounded to 3 significant digits"),
    ((LR2, 0.67, RATE2), "rounded to 2 significant digits"),
    ((LR2, 0.671, RATE2), "too large"),                    # 0.24 % off
    ((LR2, BETA2, 99 / 101), "momentum replaces kappa by sqrt(kappa)"),
    ((LR2, BETA2, BETA2), "the rate is sqrt(beta)"),
    ((LR2, BETA2, 2 * RATE2), "drops the factor 1/2"),     # the article's 2*sqrt(beta)
    ((LR2, BETA2, math.exp(-0.2)), "exp(-2/sqrt(kappa))"),  # 0.8187, 0.07 % off
    ((LR2, BETA2, 0.8187), "exp(-2/sqrt(kappa))"),
    ((LR2, BETA2, 0.8), "1 - 2/sqrt(kappa)"),
    ((LR2, BETA2, 0.82), "rounded to 2 significant digits"),
    ((LR2, BETA2, 0.8195), "too large"),
    (("0.3306", BETA2, RATE2), "not the text"),
    ((LR2, None, RATE2), "No answer yet"),
    ((LR2, BETA2, True), "boolean"),
    ((np.array([LR2, LR2]), BETA2, RATE2), "single number"),
    ((10**400, BETA2, RATE2), "ordinary size"),                 # no OverflowError
    ((LR2, 10**30, RATE2), "too large"),
    ((BETA2, LR2, RATE2), "swapped"),
    ((0.6694, 0.3306, 0.8182), "swapped"),
])
def test_exercise_2_wrong(args, says):
    assert says in fails(m04.optimal_pair, *args)


def test_exercise_2_tolerance_separates_the_approximations():
    """The asymptotic formulas lie outside 0.05 % and the four-digit roundings inside it."""
    assert abs(math.exp(-0.4) / BETA2 - 1) > 1.2e-3 and abs(math.exp(-0.2) / RATE2 - 1) > 6e-4
    assert all(abs(a / b - 1) < m04.RTOL_2 for a, b in [(0.3306, LR2), (0.6694, BETA2), (0.8182, RATE2)])
    # three digits are not enough
    assert abs(0.331 / LR2 - 1) > m04.RTOL_2 and abs(0.669 / BETA2 - 1) > m04.RTOL_2


# ---------------------------------------------------- exercise 4: measured speed-up, 0.25 %

GD400, HB400 = m04._measured_steps(400.0)


def test_exercise_4_counts():
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


def test_exercise_4_counts_by_another_route():
    assert (_count(GD_ERR / GD_ERR[0], 1e-6), _count(HB_ERR / HB_ERR[0], 1e-6)) == (GD400, HB400)


@pytest.mark.parametrize("answer", [GD400 / HB400, 14.25, 14.24, 14.247, 14.2474, (GD400 + 1) / HB400,
                                    (GD400 - 1) / HB400, np.float64(GD400 / HB400)])
def test_exercise_4_right(answer, capsys):
    passes(m04.speedup, answer, capsys=capsys)


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
    (13.96, "another error measure"),            # 2764/198: loss below 1e-12, infinity norm, start (0, 1)
    (2764 / 198, "infinity norm"),
    (0, "positive ratio"),                        # a placeholder or swapped integer division
    (HB400 // GD400, "positive ratio"),
    (-14.25, "positive ratio"),
    (10**400, "ordinary size"),
    (14.21, "more than 0.25 %"),
    (14.29, "too large"),
    (13.9, "too small"),
    (15, "too large"),
    (1001 / HB400, "gradient-descent count, 1001"),     # GD run of 1000 steps: never settled
    (2001 / HB400, "Run it longer"),
    (GD400 / 151, "heavy-ball count, 151"),             # heavy-ball run of 150 steps
    (10, "more than 0.25 % below"),                      # a round number is not mistaken for a run length
    (12, "beta* = rho*^2, not rho*"),                    # the "too small" branch asks about the settings
    (9.24, "beta = rho* = 0.9048"),                      # the momentum set to the rate (review 3, m3)
    (16.55, "coordinate 0 alone"),                       # points[:, 0] counted (review 3, m3)
    ("14.2", "not the text"),
    (None, "No answer yet"),
])
def test_exercise_4_wrong(answer, says):
    assert says in fails(m04.speedup, answer)


def test_exercise_4_named_ratios_are_what_the_review_measured():
    assert round(ABSOLUTE, 2) == 14.31 and round(EPS_8_SHORT, 2) == 14.47
    assert abs(ABSOLUTE / (GD400 / HB400) - 1) > m04.RTOL_4 and abs(14.2 / (GD400 / HB400) - 1) > m04.RTOL_4


# ---------------------------------------------------- exercise 3: the guarantees' step counts, kappa = 100


def _smallest_k_by_chebyshev_polynomial(kappa, eps):
    """The smallest k with 1/T_k((kappa+1)/(kappa-1)) <= eps, T_k evaluated by NumPy's Chebyshev series
    (not by the closed form 2 rho^k / (1 + rho^(2k)) that the check scans)."""
    x = (kappa + 1) / (kappa - 1)
    k = 1
    while 1 / np.polynomial.chebyshev.chebval(x, [0] * k + [1]) > eps:
        k += 1
    return k


GD3 = math.ceil(math.log(1e-8) / math.log(99 / 101))  # 921.003...: 922
CHEB3 = _smallest_k_by_chebyshev_polynomial(100.0, 1e-8)


def test_exercise_3_values():
    assert (GD3, CHEB3) == m04._bound_counts() == (922, 96)


def test_exercise_3_named_slips_by_logarithms():
    """The named slips' counts by logarithms (not the check's scan): the squared error, beta* for rho*."""
    assert math.ceil(math.log(1e-8) / (2 * math.log(99 / 101))) == 461
    assert _smallest_k_by_chebyshev_polynomial(100.0, 1e-4) == 50   # (1/T_k)^2 <= 1e-8
    beta_star = (9 / 11) ** 2
    assert math.ceil(math.log(1e-8 / 2) / math.log(beta_star)) == 48


@pytest.mark.parametrize("args", [(922, 96), (922.0, 96.0), (np.int64(922), np.int64(96)),
                                  (np.float64(922), 96)])
def test_exercise_3_right(args, capsys):
    passes(m04.bound_steps, *args, capsys=capsys)


@pytest.mark.parametrize(("args", "says"), [
    ((921, 96), "one short"),                       # ln(eps)/ln(rate) = 921.003 rounded, not rounded up
    ((921.0033, 96), "round up"),
    ((96, 922), "swapped"),
    ((96, 96), "is the Chebyshev bound's count"),
    ((1833, 96), "1 - 1/kappa"),                    # the step 1/L
    ((912, 96), "1 - 2/kappa"),
    ((950, 96), "too large"),
    ((900, 96), "too small"),
    ((922, 95), "one short"),
    ((923, 96), "one over"),                         # review 3, m4
    ((922, 97), "one over"),
    ((461, 96), "squared error"),                    # ((kappa-1)/(kappa+1))^(2k) <= 1e-8
    ((922, 50), "squared error"),
    ((922, 48), "beta* = rho*^2 = 0.6694 in the place of the rate"),
    ((922, 95.25), "round up"),                      # where the bound equals 1e-8
    ((922, 92), "rho^k <= 1e-8"),                    # without the factor 2/(1 + rho^(2k))
    ((922, 93), "large-kappa estimate"),             # sqrt(kappa)/2 ln(1/eps) = 92.1
    ((922, 956), "kappa where sqrt(kappa)"),
    ((922, 922), "gradient descent's count"),
    ((922, 100), "too large"),
    ((922, 80), "too small"),
    ((922, 90.5), "not a whole number"),
    ((922, 96.0000001), "96.0000001 is not a whole number"),   # shown as it is, not rounded to 96
    ((10**30, 96), "too large for gradient descent"),          # a big int is a number, not an object
    ((10**30, 96), "1000000000000000000000000000000 is too"),  # echoed as given, not as a float
    ((691, 96), "the count for 1e-6"),               # section 5's tolerance
    ((922, 73), "the count for 1e-6"),
    ((10**400, 96), "ordinary size"),
    ((None, 96), "No answer yet"),
    (("922", 96), "not the text"),
    ((922, [96, 97]), "single number"),
])
def test_exercise_3_wrong(args, says):
    assert says in fails(m04.bound_steps, *args)


# ---------------------------------------------------- exercise 5: best beta at eta = 1 on 2^-i, i = 0..7

LAMS5 = 2.0 ** -np.arange(8)


def _pace(beta):
    """The slowest component's rate at eta = 1, from NumPy's eigenvalues of each 2x2 matrix."""
    return max(np.abs(np.linalg.eigvals(np.array([[1 + beta - lam, -beta], [1.0, 0.0]]))).max()
               for lam in LAMS5)


BETAS5 = np.linspace(0.80, 0.86, 6001)  # spacing 1e-5
PACES5 = np.array([_pace(b) for b in BETAS5])
BETA5, RATE5 = BETAS5[PACES5.argmin()], PACES5.min()


def test_exercise_5_values_by_a_scan():
    assert abs(BETA5 - (1 - math.sqrt(2**-7)) ** 2) < 2e-5 and abs(RATE5 - (1 - math.sqrt(2**-7))) < 1e-3


RATE_C5 = 1 - math.sqrt(2**-7)


@pytest.mark.parametrize("args", [(BETA5, RATE5), (0.831, 0.9116), (0.8310, 0.912), (0.832, 0.9121),
                                  (0.8325, 0.9125), (0.834, 0.9132),    # the widget's reading at 0.834
                                  (np.float64(0.831036), np.float64(0.911612))])
def test_exercise_5_right(args, capsys):
    m04.spectrum_pace(*args)
    assert capsys.readouterr().out.count("Correct:") == 2


@pytest.mark.parametrize(("args", "says"), [
    ((0.7016, 0.8376), "Polyak's pair"),
    ((0.8789, 0.9375), "lambda = 2^-8"),
    ((0.7656, 0.875), "lambda = 2^-6"),
    ((0.9922, 0.9922), "gradient descent's rate on the flattest"),
    ((0.9116, 0.9116), "beta is its square"),
    ((0.8, 0.9507), "widget's default"),
    ((0.835, 0.9138), "too large"),       # pace 0.24 % above the best
    ((0.84, 0.9165), "too large"),
    ((0.826, 0.9116), "too small"),
    ((0.8295, 0.9110), "still monotone"),  # pace 1.2 % above the best: the review's wrongly accepted beta
    ((0.83, 0.9207), "still monotone"),    # dragged in 0.01 steps: pace 1.0 % above the best
    ((0.831, 0.9110), "no beta gives a pace below"),   # below the least pace any beta reaches
    ((0.831, 0.9098), "no beta gives a pace below"),
    ((0.831, 0.9207), "too large"),
    ((1.2, 0.9116), "only for 0 <= beta < 1"),
    ((float("nan"), 0.9116), "finite"),
    ((0.831, 0.831), "that is beta"),
    ((0.831, 1.8232), "drops the factor 1/2"),
    ((0.831, 0.99219), "gradient descent's pace"),
    ((0.831, 0.9507), "widget's default"),
    ((0.831, 0.8376), "Polyak's pair"),
    ((0.831, 0.915), "too large"),
    ((None, 0.9116), "No answer yet"),
    ((0.831, "0.9116"), "not the text"),
])
def test_exercise_5_wrong(args, says):
    assert says in fails(m04.spectrum_pace, *args)


def test_exercise_5_judges_beta_by_its_pace():
    """A beta passes exactly when NumPy's pace there is within 0.2 % of the best (review 3, B1): the
    accepted betas are [0.8310, 0.8344], and a worse beta never passes while a better one fails."""
    accepted = []
    for beta in np.round(np.arange(0.8280, 0.8380, 0.0001), 4):
        try:
            m04.spectrum_pace(beta, RATE_C5)
            accepted.append(beta)
        except m04.NotYet:
            assert _pace(beta) > 1.002 * RATE_C5 * (1 - 1e-9), beta
        else:
            assert _pace(beta) <= 1.002 * RATE_C5 * (1 + 1e-9), beta
    assert (min(accepted), max(accepted)) == (0.8310, 0.8343)


def test_exercise_5_rate_message_names_the_best_momentum():
    message = fails(m04.spectrum_pace, 0.831, 0.9207)
    assert "at the best momentum" in message and "at that momentum" not in message


# ---------------------------------------------------- exercise 6: early stopping on average, 16 and 0.5737


def _expected_error_by_simulation(k, trials=4000, seed=6):
    """E(k) by Monte Carlo over the noise of theta-hat (not the closed form the check sums): coordinates
    xi_i ~ N(0, 1/(m lambda_i)), theta_k,i - theta*_i = -(1 - lambda_i)^k + (1 - (1 - lambda_i)^k) xi_i."""
    lam = 2.0 ** -np.arange(10)
    xi = np.random.default_rng(seed).standard_normal((trials, 10)) / np.sqrt(32 * lam)
    q = (1 - lam) ** k
    return float(np.mean(((-q + (1 - q) * xi) ** 2 * lam).sum(axis=1)))


def test_exercise_6_values_by_simulation():
    """The closed form's minimiser and ratio against a Monte-Carlo average (common random numbers)."""
    sims = {k: _expected_error_by_simulation(k) for k in (8, 16, 30, 5000)}
    assert sims[16] < sims[8] and sims[16] < sims[30]
    assert abs(sims[16] / sims[5000] - 0.5737) < 0.03 and abs(sims[5000] - 10 / 32) < 0.02


@pytest.mark.parametrize("args", [(16, 0.5737), (16, 0.574), (16.0, 0.5737),
                                  (np.int64(16), np.float64(0.5737)), (16, 0.5732), (16, 0.5742)])
def test_exercise_6_right(args, capsys):
    m04.early_stopping(*args)
    assert "Correct:" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "says"), [
    ((22, 0.5737), "without the weights lambda_i"),
    ((1, 0.5737), "1/lambda_i"),
    ((32, 0.5737), "not squared"),
    ((0, 1.0), "is the start"),
    ((15, 0.5737), "one step off"),
    ((17, 0.5737), "one step off"),
    ((40, 0.5737), "too large"),
    ((5, 0.5737), "too small"),
    ((16.5, 0.5737), "not a whole number"),
    ((-16, 0.5737), "not a whole number"),
    ((16, 0.1793), "E(k*) itself"),
    ((16, 1.743), "upside down"),
    ((16, 0.7631), "(1 - q^2)"),
    ((16, 0.55), "median over section 4's 20 noise seeds"),   # review 3, m6
    ((16, 0.0897), "E(k*) / E(0)"),
    ((16, 0.56), "too small"),
    ((16, 0.59), "too large"),
    ((16, 0.5760), "divides by E(2000)"),  # E(k*) / E(2000), the hint's horizon (0.4 % off)
    ((16, 0.57603), "divides by E(2000)"),
    ((16, 0.5720), "too small"),  # 0.3 % off: outside 0.1 %
    ((None, 0.5737), "No answer yet"),
    ((16, "0.57"), "not the text"),
    ((10**400, 0.5737), "ordinary size"),
])
def test_exercise_6_wrong(args, says):
    assert says in fails(m04.early_stopping, *args)


@pytest.mark.parametrize("args", [(0, 0.5737), (22, 0.5737), (5, 0.5737), (16, 0.59), (None, 0.5737)])
def test_exercise_6_hint_does_not_give_the_formula(args):
    """The hint names the steps of the derivation, not E(k) itself (review 2, M3)."""
    message = fails(m04.early_stopping, *args)
    assert "(1 - lambda_i)^(2k)" not in message and "mean squared plus its variance" in message
    assert "median best step" not in message


def test_exercise_6_the_ratio_shown_is_over_d_over_m(capsys):
    """E(infinity) is d/m = 10/32 exactly; the check divided by E(5000) and printed 0.573709 (review,
    session 25): the ratio is 0.573703."""
    m04.early_stopping(16, 0.5737)
    assert "0.573703" in capsys.readouterr().out
