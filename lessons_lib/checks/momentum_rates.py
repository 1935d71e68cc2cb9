"""Self-checks for lesson 04, momentum: rates, many eigenvalues, and the best possible.

Exercises 1, 2 and 4 come from the former lesson 03 (its exercises 1, 3 and 5, checks written for it
then), with their tolerances; exercises 3, 5 and 6 are new. The helpers that compute answers are private
(``_measured_steps``, ``_bound_counts``): the lesson does its own runs.

Each check recognises the common wrong answers and names them: ``2*sqrt(beta)`` for the
complex-regime rate (an error printed in a well-known article), the gradient-descent rate
``(kappa-1)/(kappa+1)`` for the momentum rate, ``1 - sqrt(beta)`` (the shape of the critical-damping
root) for the complex-regime rate, the large-kappa approximations ``exp(-4/sqrt(kappa))`` and
``exp(-2/sqrt(kappa))`` (and ``(1 - 2/sqrt(kappa))^2``, ``1 - 2/sqrt(kappa)``) for Polyak's momentum and
rate, his learning rate without its factor 1/mu, answers rounded to fewer digits than the exercise asks
for; where the measured speed-up belongs, ``kappa`` or ``sqrt(kappa)``, a count with another tolerance,
with the absolute instead of the relative error, with the loss instead of the error, or one heavy-ball
step off; for the step counts of the two guarantees, the count rounded down, the Chebyshev bound
without its factor ``2/(1 + rho^(2k))``, the estimate ``sqrt(kappa)/2 ln(1/eps)``, ``kappa`` in the place
of ``sqrt(kappa)``, and the two counts swapped; for the spectrum's best momentum at ``eta = 1``, Polyak's
pair (which needs its own learning rate), the critical damping of another component, and the rate of
gradient descent or of the widget's default; for early stopping's expected test error, the sum without
its weights lambda_i, the noise variance without its 1/m, unsquared terms, and E(k*) not divided by
E(infinity).

Tolerances (each exercise's text states its own): exercise 1, 0.1 % relative; exercise 2 (eigenvalues
0.1 and 10, kappa = 100), 0.05 %, four significant digits (``exp(-4/sqrt(kappa))`` lies 0.13 % from
``beta*`` and ``exp(-2/sqrt(kappa))`` 0.07 % from the rate; ``0.3306, 0.6694, 0.8182`` pass; the learning
rate without mu, ``4/(1+sqrt(kappa))^2 = 0.03306``, is named); exercise 3, exact whole numbers;
exercise 4, 0.25 % of the ratio the check measures itself (the absolute error gives a ratio 0.43 % off,
a heavy-ball count one step off 0.5 %); exercise 5, a beta whose pace (the slowest component's rate) is
within 0.2 % of the best pace (beta in [0.8310, 0.8344]: below beta_c = 0.83104 the flattest component is
monotone and its rate climbs steeply), and the rate from the best pace, less 0.01 % for rounding, to 0.2 %
above it (no beta gives less);
exercise 6, the exact step and the ratio within 0.1 %.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import optimizers, surfaces, theory
from . import NotYet, as_number, number, passed

RTOL_1 = 1e-3  # exercise 1: the rate sqrt(0.64)
RTOL_2 = 5e-4  # exercise 2: Polyak's pair and its rate, four significant digits
RTOL_4 = 2.5e-3  # exercise 4: the measured speed-up, two decimals
NAMED_4 = 5e-4  # exercise 4: how close an answer must be to a named wrong ratio to be told that name
ATOL_5_BETA = 2e-3  # exercise 5: how close a momentum must be to a named wrong one to be told that name

_MISPRINT = ("2*sqrt(beta) is the value printed in a footnote and a figure caption of 'Why Momentum "
             "Really Works'; it drops the factor 1/2 of the quadratic formula")


def _plain_int(answer: object, what: str) -> object:
    """A Python int as a float (NumPy would hold a very large one as an object); one too large for a
    float is told so. Anything else unchanged."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        try:
            return float(answer)
        except OverflowError:
            raise NotYet(f"{what} should be a number of ordinary size; got a whole number with "
                         f"{len(str(abs(answer)))} digits.") from None
    return answer


def complex_rate(answer: object) -> None:
    """Exercise 1: the rate of heavy ball with beta = 0.64 on an eigenvalue with lr*lambda = 1."""
    beta, h = 0.64, 1.0
    number(
        _plain_int(answer, "the rate"), math.sqrt(beta), rtol=RTOL_1,
        what="the rate (spectral radius) for beta = 0.64, lr*lambda = 1",
        hint="the discriminant (1 + beta - lr*lambda)^2 - 4*beta is negative, so the two roots are "
             "complex conjugates; their product is det = beta, hence |sigma|^2 = beta.",
        mistakes={
            "two_sqrt": (2 * math.sqrt(beta), _MISPRINT + " (and would be > 1, divergence, for every "
                                                          "beta > 1/4)."),
            "beta": (beta, "beta is the product of the two roots, |sigma|^2; the rate is |sigma|."),
            "gd": (abs(1 - h), "|1 - lr*lambda| is the rate of gradient descent (beta = 0), here 0."),
            "trace": (abs(1 + beta - h) / 2, "(1 + beta - lr*lambda)/2 is only the real part of the roots."),
            "one_minus_sqrt": (1 - math.sqrt(beta),
                               "1 - sqrt(beta) has the shape of the critical-damping root "
                               "1 - sqrt(lr*lambda), with beta in the place of lr*lambda; that double root "
                               "occurs only where the discriminant is zero. Here it is negative, the roots "
                               "are complex and their modulus is what is asked."),
        },
    )



def _too_few_digits(answer: object, exact: float, what: str) -> None:
    """Raise NotYet if ``answer`` is ``exact`` rounded to 2 or 3 significant digits and outside the
    tolerance of exercise 2 (four significant digits are asked for)."""
    if isinstance(answer, bool) or not isinstance(answer, int | float | np.floating | np.integer):
        return
    value = float(answer)
    if math.isclose(value, exact, rel_tol=RTOL_2):
        return
    for digits in (2, 3):
        if value == float(f"{exact:.{digits}g}"):
            raise NotYet(f"{value:g} is {what} rounded to {digits} significant digits, "
                         f"{abs(value / exact - 1):.2%} from the exact value: outside the 0.05 % the check "
                         "allows. Give four significant digits.")


def optimal_pair(lr: object, beta: object, rate: object) -> None:
    """Exercise 2: Polyak's optimal (lr, beta) and the rate for eigenvalues 0.1 and 10, each within
    0.05 % (four significant digits). mu is not 1, so that dropping it from the learning rate
    (4/(1 + sqrt(kappa))^2, ten times too small here) gives a wrong number the check can name."""
    lr, beta, rate = (_plain_int(a, w) for a, w in [(lr, "the optimal learning rate"),
                                                      (beta, "the optimal momentum"), (rate, "the rate")])
    mu, L = 0.1, 10.0
    lr_star, beta_star, rate_star = theory.optimal_momentum(mu, L)
    kappa = L / mu
    sm, sL = math.sqrt(mu), math.sqrt(L)
    sk = math.sqrt(kappa)
    approx = ("the large-kappa approximation (ln((sqrt(kappa)+1)/(sqrt(kappa)-1)) is about 2/sqrt(kappa)); "
              "it differs from the exact value in the fourth digit. Use the exact formula ")
    if all(isinstance(a, int | float | np.floating | np.integer) and not isinstance(a, bool)
           and math.isclose(float(a), b, rel_tol=RTOL_2) for a, b in [(lr, beta_star), (beta, lr_star)]):
        raise NotYet(f"the learning rate and the momentum are swapped: {float(lr):g} is the optimal "
                     f"momentum beta* and {float(beta):g} the optimal learning rate eta*. The check takes "
                     "them in the order optimal_pair(lr, beta, rate).")
    _too_few_digits(lr, lr_star, "the optimal learning rate")
    number(lr, lr_star, rtol=RTOL_2, what="the optimal learning rate (2/(sqrt(mu)+sqrt(L)))^2",
           hint="put both extreme eigenvalues on the edge of the complex region: "
                "lr*mu = (1 - sqrt(beta))^2 and lr*L = (1 + sqrt(beta))^2; add their square roots.",
           mistakes={"gd": (2 / (mu + L), "2/(mu+L) is the optimal step of gradient descent."),
                     "no_square": (2 / (sm + sL), "square it: lr = 4/(sqrt(mu)+sqrt(L))^2."),
                     "no_two": (1 / (sm + sL) ** 2, "the numerator is 2, squared: lr = "
                                                    "4/(sqrt(mu)+sqrt(L))^2 (yours is a quarter of it)."),
                     "half": (2 / (sm + sL) ** 2, "the numerator is 2 squared, 4, not 2: yours is half "
                                                  "the optimal step."),
                     "no_mu": (4 / (1 + sk) ** 2,
                               "that is 4/(1 + sqrt(kappa))^2, the optimal step for mu = 1: it lost the "
                               "factor 1/mu (here mu = 0.1, so yours is ten times too small). "
                               "lr = 4/(sqrt(mu)+sqrt(L))^2 = (4/mu)/(1 + sqrt(kappa))^2."),
                     "normalised": (4 / (1 + 1 / sk) ** 2,
                                    "that is 4/(1 + 1/sqrt(kappa))^2, the optimal step for the spectrum "
                                    "normalised to [1/kappa, 1] (L = 1, as in sections 4 and 5 and both "
                                    "widgets); here L = 10, so yours is ten times too large. "
                                    "lr = 4/(sqrt(mu)+sqrt(L))^2."),
                     "mu_one": (4 / (1 + sL) ** 2,
                                "that is 4/(1 + sqrt(L))^2, with 1 in the place of sqrt(mu); here mu = 0.1: "
                                "lr = 4/(sqrt(mu)+sqrt(L))^2.")})
    _too_few_digits(beta, beta_star, "the optimal momentum")
    number(beta, beta_star, rtol=RTOL_2,
           what="the optimal momentum ((sqrt(L)-sqrt(mu))/(sqrt(L)+sqrt(mu)))^2",
           hint="subtract the square roots of the two edge conditions: "
                "sqrt(lr*L) - sqrt(lr*mu) = 2*sqrt(beta).",
           mistakes={"rate": (rate_star, "that is sqrt(beta), the rate; beta is its square."),
                     "gd_rate": ((kappa - 1) / (kappa + 1),
                                 "(kappa-1)/(kappa+1) is gradient descent's rate."),
                     "gd_rate_squared": (((kappa - 1) / (kappa + 1)) ** 2,
                                         "that is ((kappa-1)/(kappa+1))^2, with kappa where sqrt(kappa) "
                                         "belongs."),
                     "exp": (math.exp(-4 / sk), "that is exp(-4/sqrt(kappa)) = 0.6703, " + approx
                             + "((sqrt(L)-sqrt(mu))/(sqrt(L)+sqrt(mu)))^2."),
                     "linear": ((1 - 2 / sk) ** 2,
                                "that is (1 - 2/sqrt(kappa))^2, a first-order approximation; use "
                                "((sqrt(L)-sqrt(mu))/(sqrt(L)+sqrt(mu)))^2.")})
    _too_few_digits(rate, rate_star, "the rate")
    number(rate, rate_star, rtol=RTOL_2, what="the rate (sqrt(kappa)-1)/(sqrt(kappa)+1)",
           hint="every eigen-component is then in the complex regime, where the rate is sqrt(beta).",
           mistakes={"gd_rate": ((kappa - 1) / (kappa + 1), "(kappa-1)/(kappa+1) is gradient descent's "
                                                            "rate: momentum replaces kappa by sqrt(kappa)."),
                     "beta": (beta_star, "that is beta; the rate is sqrt(beta)."),
                     "two_sqrt": (2 * rate_star, _MISPRINT + "; the modulus of the complex roots is "
                                                             "sqrt(beta)."),
                     "exp": (math.exp(-2 / sk), "that is exp(-2/sqrt(kappa)) = 0.8187, " + approx
                             + "(sqrt(kappa)-1)/(sqrt(kappa)+1)."),
                     "linear": (1 - 2 / sk, "that is 1 - 2/sqrt(kappa), a first-order approximation; use "
                                            "(sqrt(kappa)-1)/(sqrt(kappa)+1).")})



def _optimal_runs(kappa: float, budget: int, points: bool = False) -> tuple[np.ndarray, ...]:
    """Error norms and losses of GD and heavy ball, each at its optimal setting, on eigenvalues (1, kappa)
    from x0 = (1, 1), for ``budget`` steps: (gd_error, hb_error, gd_loss, hb_loss); with ``points``, the
    two runs' points, each (budget + 1, 2)."""
    s = surfaces.quadratic([1.0, kappa])
    x0 = np.array([1.0, 1.0])
    lr_gd, _ = theory.optimal_gd(1.0, kappa)
    lr_hb, beta_hb, _ = theory.optimal_momentum(1.0, kappa)
    gd = optimizers.run(s, x0, "gd", lr_gd, 0.0, budget)
    hb = optimizers.run(s, x0, "momentum", lr_hb, beta_hb, budget)
    if points:
        return np.asarray(gd.points), np.asarray(hb.points)
    return (np.linalg.norm(gd.points, axis=-1), np.linalg.norm(hb.points, axis=-1),
            np.asarray(gd.losses), np.asarray(hb.losses))


def _settled(values: np.ndarray, tol: float) -> int:
    """First step after which ``values`` stays <= tol (the run's length + 1 if it never does)."""
    above = values > tol
    return int(len(values) - np.argmax(above[::-1])) if above.any() else 0


def _measured_steps(kappa: float, eps: float = 1e-6) -> tuple[int, int]:
    """Steps GD and heavy ball (each at its optimal setting) need until the error stays below
    ``eps`` times the start, on eigenvalues (1, kappa) from x0 = (1, 1)."""
    rate_gd = theory.optimal_gd(1.0, kappa)[1]
    budget = int(2 * math.log(eps) / math.log(rate_gd)) + 50
    gd_err, hb_err, _, _ = _optimal_runs(kappa, budget)
    return _settled(gd_err / gd_err[0], eps), _settled(hb_err / hb_err[0], eps)


def _speedup_mistakes(kappa: float) -> list[tuple[float, str]]:
    """Ratios gd_steps / hb_steps that common slips give at ``kappa``, each with what it is."""
    gd_err, hb_err, gd_loss, hb_loss = _optimal_runs(kappa, 6000)
    start = gd_err[0]
    out = []
    for eps in (1e-5, 1e-7, 1e-8):
        out.append((_settled(gd_err / start, eps) / _settled(hb_err / start, eps),
                    f"is the speed-up for a tolerance of {eps:.0e} of the start; the exercise uses 1e-6."))
    # the solution's 3500-step runs with 1e-8: gradient descent never settles, counted as 3501
    out.append((min(_settled(gd_err[:3501] / start, 1e-8), 3501) / _settled(hb_err / start, 1e-8),
                "is the speed-up for a tolerance of 1e-8 with a gradient-descent run too short to settle "
                "there; the exercise uses 1e-6 of the start."))
    out.append((_settled(gd_err, 1e-6) / _settled(hb_err, 1e-6),
                "counts the steps until the error's absolute size stays below 1e-6; the exercise asks for "
                "1e-6 of its start (the start (1, 1) has norm sqrt(2)): divide the error by its first "
                "value."))
    out.append((_settled(gd_loss / gd_loss[0], 1e-6) / _settled(hb_loss / hb_loss[0], 1e-6),
                "counts the steps until the loss stays below 1e-06 of its start; the exercise counts the "
                "error norm |x_k| (its distance from the minimum at 0), not the loss."))
    s = surfaces.quadratic([1.0, kappa])
    lr_hb, _, rho_hb = theory.optimal_momentum(1.0, kappa)
    hb_rho = np.linalg.norm(optimizers.run(s, [1.0, 1.0], "momentum", lr_hb, rho_hb, 6000).points, axis=-1)
    out.append((_settled(gd_err / start, 1e-6) / _settled(hb_rho / hb_rho[0], 1e-6),
                f"is what the heavy ball gives with beta = rho* = {rho_hb:.4f}, the rate, in the place of "
                f"the optimal momentum beta* = rho*^2 = {rho_hb**2:.4f}."))
    gd_x, hb_x = _optimal_runs(kappa, 6000, points=True)
    out.append((_settled(np.abs(gd_x[:, 0]), 1e-6) / _settled(np.abs(hb_x[:, 0]), 1e-6),
                "counts coordinate 0 alone (points[:, 0], as section 1 does); the exercise counts the error "
                "norm |x_k| of both coordinates."))
    hb_other = _settled(hb_loss / hb_loss[0], 1e-12)
    out.append((_settled(gd_loss / gd_loss[0], 1e-12) / hb_other,
                f"uses another error measure: the loss below 1e-12 of its start, the largest coordinate "
                f"max|x_k,i| (the infinity norm), and a start of (0, 1) all give a heavy-ball count of "
                f"{hb_other}. The exercise counts the Euclidean norm |x_k| from the start (1, 1), below 1e-6 "
                "of its start."))
    return out


def speedup(answer: object) -> None:
    """Exercise 4: the measured speed-up of heavy ball over GD at kappa = 400 (within 0.25 % of the
    ratio this check measures with :func:`_measured_steps`)."""
    kappa = 400.0
    gd_steps, hb_steps = _measured_steps(kappa)
    expected = gd_steps / hb_steps
    hint = ("run both methods at their optimal settings, count for each the steps until the error norm "
            "stays below 1e-6 times its start, and divide GD's count by heavy ball's.")
    what = "the speed-up gd_steps / hb_steps"
    value = as_number(_plain_int(answer, what), what, hint)
    if value <= 0:
        raise NotYet(f"{value!r} cannot be a speed-up: a speed-up is a positive ratio gd_steps / hb_steps of "
                     f"two step counts. Hint: {hint}")
    if math.isclose(value, expected, rel_tol=RTOL_4):
        passed(f"GD needs {gd_steps} steps, heavy ball {hb_steps}: a speed-up of {expected:.2f}, "
               f"closer to sqrt(kappa) = {math.sqrt(kappa):.0f} than to kappa = {kappa:.0f}.")
        return
    if math.isclose(value, kappa, rel_tol=0.05):
        raise NotYet(f"{value:g} is kappa. Momentum replaces kappa by sqrt(kappa) in the rate: "
                     "(kappa-1)/(kappa+1) against (sqrt(kappa)-1)/(sqrt(kappa)+1). "
                     f"Measure the two step counts. Hint: {hint}")
    rho_hb, rho_gd = theory.optimal_momentum(1.0, kappa)[2], theory.optimal_gd(1.0, kappa)[1]
    predicted = math.log(rho_hb) / math.log(rho_gd)
    if math.isclose(value, math.sqrt(kappa), rel_tol=0.02) or math.isclose(value, predicted, rel_tol=0.02):
        raise NotYet(f"{value:g} is the prediction from the two rates (ln rho_hb / ln rho_gd = "
                     f"{predicted:.2f}, about sqrt(kappa)). The exercise asks for the measured ratio: at the "
                     "optimal pair the extreme eigen-components have a double root, so the error falls like "
                     "k * rate^k and momentum needs more steps than ln(eps)/ln(rate). Count them. "
                     f"Hint: {hint}")
    if math.isclose(value, 1 / expected, rel_tol=RTOL_4):
        raise NotYet(f"{value:g} is hb_steps / gd_steps, the ratio upside down. Hint: {hint}")
    if value in (round(expected, 1), round(expected)):
        rounded = "one decimal" if value != round(value) else "a whole number"
        raise NotYet(f"{value:g} is the speed-up rounded to {rounded}, {abs(value / expected - 1):.2%} "
                     "from it: outside the 0.25 % the check allows. Give two decimals.")
    for wrong, what in _speedup_mistakes(kappa):
        if math.isclose(value, wrong, rel_tol=NAMED_4):
            raise NotYet(f"{value:g} {what} Hint: {hint}")
    if any(math.isclose(value, gd_steps / (hb_steps + d), rel_tol=NAMED_4) for d in (-1, 1)):
        raise NotYet(f"{value:g} is what a heavy-ball count one step off gives (one step moves the ratio by "
                     "0.5 %). Count the first step after which the error stays at or below 1e-6 of its start "
                     f"(the step itself included, as settled_at at the top of the lesson does). Hint: {hint}")
    never = ("settled_at returns the run's length for a run whose error never stays below 1e-6, so a run "
             "that is too short counts as")
    gd_implied, hb_implied = value * hb_steps, gd_steps / value

    def run_length(n: float) -> bool:  # a whole count equal to a round run length N or N + 1 (N steps)
        return math.isclose(n, round(n), rel_tol=1e-9) and round(n) % 50 in (0, 1)

    if value < expected and round(gd_implied) < gd_steps and run_length(gd_implied):
        raise NotYet(f"{value:g} is too small: your gradient-descent count, {round(gd_implied)}, is short of "
                     "what gradient descent needs here. Did its run end before the error stayed below 1e-6? "
                     f"{never} its length. Run it longer (a few thousand steps). Hint: {hint}")
    if value > expected and round(hb_implied) < hb_steps and run_length(hb_implied):
        raise NotYet(f"{value:g} is too large: your heavy-ball count, {round(hb_implied)}, is short of what "
                     "the heavy ball needs here. Did its run end before the error stayed below 1e-6? "
                     f"{never} its length. Run it longer. Hint: {hint}")
    if value < expected:
        raise NotYet(f"{value:g} is too small: more than 0.25 % below the measured speed-up. Do both runs "
                     "use their optimal settings (beta* = rho*^2, not rho*), are both long enough for the "
                     "error to stay below 1e-6 of its start (gradient descent needs a few thousand steps), "
                     "do you count the norm of both coordinates, and is the tolerance 1e-6? "
                     f"Hint: {hint}")
    raise NotYet(f"{value:g} is too large: more than 0.25 % above the measured speed-up. Is the heavy-ball "
                 "run long enough for its error to stay below 1e-6 of its start, do both runs use their "
                 f"optimal settings, and is the tolerance 1e-6? Hint: {hint}")


EPS_3 = 1e-8  # exercise 3: the accuracy asked for
KAPPA_3 = 100.0  # exercise 3: the condition number


def _first_k(bound: Callable[[np.ndarray], np.ndarray], eps: float = EPS_3, most: int = 20_000) -> int:
    """The smallest whole k >= 1 with bound(k) <= eps (scanned, no logarithms)."""
    k = np.arange(1, most + 1, dtype=float)
    return int(k[np.argmax(bound(k) <= eps)])


def _chebyshev(rho: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda k: 2 * rho**k / (1 + rho ** (2 * k))


def _bound_counts(kappa: float = KAPPA_3, eps: float = EPS_3) -> tuple[int, int]:
    """Exercise 3's answers: the smallest k with ((kappa-1)/(kappa+1))^k <= eps (gradient descent at its
    best step) and with 2 rho^k / (1 + rho^(2k)) <= eps, rho = (sqrt(kappa)-1)/(sqrt(kappa)+1) (the
    Chebyshev bound)."""
    q_gd = (kappa - 1) / (kappa + 1)
    rho = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    return _first_k(lambda k: q_gd**k, eps), _first_k(_chebyshev(rho), eps)


def _whole(answer: object, what: str, real_k: float, hint: str) -> int:
    """The answer as a whole number, or NotYet: a fraction (the real solution of bound(k) = eps among them)
    is told to round up."""
    value = as_number(_plain_int(answer, what), what, hint)
    if isinstance(answer, int | np.integer) and not isinstance(answer, bool):
        return int(answer)  # a whole number as given (a float would echo 10**30 as 1000...19884624838656)
    if value != round(value):
        if math.isclose(value, real_k, rel_tol=1e-3):
            raise NotYet(f"{value!r} is where the bound equals 1e-8 exactly, a fraction of a step; {what} is "
                         "the smallest whole k at or past it: round up. Hint: " + hint)
        raise NotYet(f"{value!r} is not a whole number; {what} is a count of steps. Hint: {hint}")
    return int(round(value))


def bound_steps(gd_answer: object, cheb_answer: object) -> None:
    """Exercise 3: for kappa = 100 and eps = 1e-8, the smallest whole k with ((kappa-1)/(kappa+1))^k <= eps
    (922) and with 2 rho^k / (1 + rho^(2k)) <= eps, rho = (sqrt(kappa)-1)/(sqrt(kappa)+1) (96)."""
    kappa, eps = KAPPA_3, EPS_3
    gd_k, cheb_k = _bound_counts(kappa, eps)
    q_gd = (kappa - 1) / (kappa + 1)
    rho = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    rho_kappa = (kappa - 1) / (kappa + 1)  # kappa where sqrt(kappa) belongs in the Chebyshev rate
    hint_gd = ("solve ((kappa-1)/(kappa+1))^k <= 1e-8 for the smallest whole k: "
               "k >= ln(1e-8)/ln((kappa-1)/(kappa+1)).")
    hint_cheb = ("with rho = (sqrt(kappa)-1)/(sqrt(kappa)+1) = 9/11, find the smallest whole k with "
                 "2 rho^k/(1 + rho^(2k)) <= 1e-8 (try k in np.arange(1, 2000); rho^(2k) is tiny there, so "
                 "k is about ln(1e-8/2)/ln(rho)).")
    gd = _whole(gd_answer, "gradient descent's count", math.log(eps) / math.log(q_gd), hint_gd)
    cheb = _whole(cheb_answer, "the Chebyshev bound's count", math.log(eps / 2) / math.log(rho), hint_cheb)
    if (gd, cheb) == (cheb_k, gd_k):
        raise NotYet("the two counts are swapped: gradient descent's guarantee needs the larger one. "
                     f"Hint: {hint_gd}")
    gd_approx = _first_k(lambda k: (1 - 2 / kappa) ** k, eps)
    other_eps = "is the count for 1e-6 (the tolerance of sections 2 and 5); this exercise asks for 1e-8."
    gd_named = {
        _first_k(lambda k: q_gd**k, 1e-6): other_eps,
        gd_k + 1: "is one over: at k = 922 the bound is already at or below 1e-8, and the count is the "
                  "smallest such k (count from k = 1, not 0; round ln(1e-8)/ln(rate) up once).",
        _first_k(lambda k: q_gd ** (2 * k), eps):
            "bounds the squared error (or the loss): ((kappa-1)/(kappa+1))^(2k) <= 1e-8; the exercise "
            "bounds the error itself, ((kappa-1)/(kappa+1))^k.",
        gd_k - 1: "is one short: at that k the bound is still above 1e-8 (round ln(1e-8)/ln(rate) up, "
                  "not down).",
        cheb_k: "is the Chebyshev bound's count; gradient descent's rate is (kappa-1)/(kappa+1), not "
                "(sqrt(kappa)-1)/(sqrt(kappa)+1).",
        _first_k(lambda k: (1 - 1 / kappa) ** k, eps):
            "uses the rate 1 - 1/kappa of the step 1/L; at its best step 2/(mu+L) gradient descent's rate "
            "is (kappa-1)/(kappa+1).",
        gd_approx:
            f"uses 1 - 2/kappa, an approximation of (kappa-1)/(kappa+1) that is off by {gd_k - gd_approx} "
            "steps here; use the exact rate.",
    }
    if gd != gd_k:
        if gd in gd_named:
            raise NotYet(f"{gd} {gd_named[gd]} Hint: {hint_gd}")
        side = "too large" if gd > gd_k else "too small"
        raise NotYet(f"{gd} is {side} for gradient descent's count. Hint: {hint_gd}")
    cheb_named = {
        _first_k(_chebyshev(rho), 1e-6): other_eps,
        cheb_k - 1: "is one short: at that k the bound is still above 1e-8 (round up, not down).",
        cheb_k + 1: f"is one over: at k = {cheb_k} the bound is already at or below 1e-8, and the count is "
                    "the smallest such k (count from k = 1, not 0).",
        _first_k(_chebyshev(rho**2), eps): f"uses beta* = rho*^2 = {rho**2:.4f} in the place of the rate "
        f"rho* = {rho:.4f}: the bound is 2 rho*^k/(1 + rho*^(2k)), rho* = (sqrt(kappa)-1)/(sqrt(kappa)+1).",
        _first_k(lambda k: _chebyshev(rho)(k) ** 2, eps): "bounds the squared error (or the loss): "
        "(2 rho^k/(1 + rho^(2k)))^2 <= 1e-8; the exercise bounds the error itself.",
        _first_k(lambda k: rho**k, eps): "is where rho^k <= 1e-8; the bound is 2 rho^k/(1 + rho^(2k)), about "
        "twice rho^k, which needs more steps.",
        math.ceil(math.sqrt(kappa) / 2 * math.log(1 / eps)): "is the large-kappa estimate "
        "sqrt(kappa)/2 ln(1/eps) rounded up; the exercise asks for the exact count of the bound.",
        _first_k(_chebyshev(rho_kappa), eps): "uses kappa where sqrt(kappa) belongs: the Chebyshev rate is "
        "(sqrt(kappa)-1)/(sqrt(kappa)+1) = 9/11.",
        gd_k: "is gradient descent's count; the Chebyshev bound is the best any gradient method can "
              "guarantee.",
    }
    if cheb != cheb_k:
        if cheb in cheb_named:
            raise NotYet(f"{cheb} {cheb_named[cheb]} Hint: {hint_cheb}")
        side = "too large" if cheb > cheb_k else "too small"
        raise NotYet(f"{cheb} is {side} for the Chebyshev bound's count. Hint: {hint_cheb}")
    passed(f"gradient descent's guarantee needs {gd_k} steps, the Chebyshev bound {cheb_k}: "
           f"{gd_k / cheb_k:.1f} times fewer (sqrt(kappa) = {math.sqrt(kappa):.0f}).")


N_5 = 8  # exercise 5: eigenvalues 2^-i, i = 0..7, at lr = 1
RTOL_5 = 2e-3  # exercise 5: a beta whose pace is within 0.2 % of the best pace; the rate up to 0.2 % above it
ROUND_5 = 1e-4  # exercise 5: how far below the best pace a rate may be (four-digit rounding, 0.9116)


def _pace_5(beta: float) -> float:
    """The slowest component's rate at lr = 1 on eigenvalues 2^-i, i = 0..7 (the widget's readout)."""
    return float(theory.momentum_rate(1.0, beta, 2.0 ** -np.arange(N_5)))


def spectrum_pace(beta: object, rate: object) -> None:
    """Exercise 5: on eigenvalues 2^-i, i = 0..7, at lr = 1, the momentum that makes the slowest
    component fastest, beta = (1 - sqrt(2^-7))^2 (critical damping of the flattest component; every other
    one ripples at sqrt(beta), the same rate), and that rate 1 - sqrt(2^-7).

    The momentum is judged by its pace, not by its distance from beta_c: a beta passes if the slowest
    component's rate there is within 0.2 % of the best, 1 - sqrt(2^-7) = 0.91161, which holds for
    beta in [0.8310, 0.8344] (below beta_c the flattest component is monotone and its rate climbs steeply;
    above, every component ripples at sqrt(beta), which grows slowly). The rate passes from the best pace
    (less 0.01 % for rounding to four digits) to 0.2 % above it: no beta gives a smaller pace."""
    h = 2.0 ** -(N_5 - 1)
    beta_c, rate_c = (1 - math.sqrt(h)) ** 2, 1 - math.sqrt(h)
    kappa = 2.0 ** (N_5 - 1)
    _, beta_p, rate_p = theory.optimal_momentum(1 / kappa, 1.0)
    hint = ("the flattest component (lr*lambda = 2^-7) sets the pace. Its rate falls as beta grows until "
            "its two roots meet (critical damping, lesson 03: beta = (1 - sqrt(lr*lambda))^2), then it "
            "ripples at sqrt(beta), which grows again. Check that the stiffer components are not slower "
            "there.")
    polyak = ("that is Polyak's pair for [2^-7, 1], which needs its own learning rate "
              f"eta* = {theory.optimal_momentum(1 / kappa, 1.0)[0]:.3f}; here eta = 1 is fixed.")
    what = "the best momentum at eta = 1"
    value = as_number(_plain_int(beta, what), what, hint)
    pace = _pace_5(value) if 0 <= value < 1 else math.inf
    if pace <= (1 + RTOL_5) * rate_c:
        passed(f"{what}: at beta = {value:g} the slowest component's rate is {pace:.4f}, within 0.2 % of the "
               f"best, {rate_c:.4f} at beta = (1 - sqrt(2^-7))^2 = {beta_c:.4f}.")
    else:
        named = {beta_p: polyak,
                 (1 - math.sqrt(h / 2)) ** 2: "that is the critical damping of lambda = 2^-8; the flattest "
                                              "of the 8 eigenvalues 2^-0 .. 2^-7 is 2^-7.",
                 (1 - math.sqrt(2 * h)) ** 2: "that is the critical damping of lambda = 2^-6, the second "
                                              "flattest; the flattest, 2^-7, is then still monotone and "
                                              "slower.",
                 1 - h: "that is 1 - 2^-7, gradient descent's rate on the flattest component, not a "
                        "momentum.",
                 rate_c: "that is the rate sqrt(beta); beta is its square.",
                 0.8: "0.8 is the widget's default; there the flattest component is monotone and slower than "
                      "the rest."}
        for wrong, explanation in named.items():
            if abs(value - wrong) <= ATOL_5_BETA:
                raise NotYet(f"{value:g} is not {what}: {explanation} Hint: {hint}")
        if not 0 <= value < 1:
            raise NotYet(f"{value:g} is not {what}: the heavy ball converges only for 0 <= beta < 1. "
                         f"Hint: {hint}")
        if value < beta_c:
            raise NotYet(f"{value:g} is too small for {what}: below beta = 0.8310 the flattest component is "
                         f"still monotone and slower; its rate at your beta is {pace:.4f}, "
                         f"{pace / rate_c - 1:.2%} above the best pace (the check allows 0.2 %). "
                         "Dragging moves beta by 0.01: use Shift+arrow keys. Hint: " + hint)
        raise NotYet(f"{value:g} is too large for {what}: every component ripples at sqrt(beta) = "
                     f"{pace:.4f}, {pace / rate_c - 1:.2%} above the best pace (the check allows 0.2 %). "
                     f"Hint: {hint}")
    what_rate = "the slowest component's rate at the best momentum"
    value = as_number(_plain_int(rate, what_rate), what_rate, hint)
    if (1 - ROUND_5) * rate_c <= value <= (1 + RTOL_5) * rate_c:
        passed(f"{what_rate} = {rate_c:.6f}: the flattest component's double root and every other "
               "component's ripples, all at sqrt(beta).")
        return
    rate_named = {rate_p: polyak,
                  beta_c: "that is beta; the rate of the ripples and of the double root is sqrt(beta).",
                  2 * rate_c: _MISPRINT + ".",
                  1 - h: "that is gradient descent's pace (beta = 0) at eta = 1.",
                  _pace_5(0.8): "that is the pace at the widget's default beta = 0.8."}
    for wrong, explanation in rate_named.items():
        if math.isclose(value, wrong, rel_tol=RTOL_5):
            raise NotYet(f"{value:g} is not {what_rate}: {explanation} Hint: {hint}")
    if value < rate_c:
        raise NotYet(f"{value:g} is too small for {what_rate}: no beta gives a pace below {rate_c:.4f} "
                     f"(1 - sqrt(2^-7)); the check allows from there to 0.2 % above. Hint: {hint}")
    raise NotYet(f"{value:g} is too large for {what_rate}, more than 0.2 % above the best pace: read the "
                 "rate at the best beta, where the flattest component's roots meet. Hint: " + hint)


LAMS_6 = 2.0 ** -np.arange(10)  # exercise 6: the least-squares problem of lesson 04, section 4
M_6 = 32  # samples
RTOL_6 = 1e-3  # the ratio E(k*) / E(infinity); E(2000) for E(infinity), the hint's horizon, is 0.4 % off


def _expected_test_error(weights: np.ndarray, variance: np.ndarray, square: bool = True,
                         steps: int = 5000) -> np.ndarray:
    """sum_i weights_i (q_i^2 + (1 - q_i)^2 variance_i) with q_i = (1 - lambda_i)^k, for k = 0..steps
    (``square=False``: q_i + (1 - q_i) variance_i, a slip)."""
    q = (1 - LAMS_6) ** np.arange(steps + 1)[:, None]
    terms = q**2 + (1 - q) ** 2 * variance if square else q + (1 - q) * variance
    return (weights * terms).sum(axis=1)


def early_stopping(step: object, ratio: object) -> None:
    """Exercise 6: the step k minimising the expected test error
    E(k) = sum_i lambda_i ((1 - lambda_i)^(2k) + (1 - (1 - lambda_i)^k)^2 / (m lambda_i)), lambda_i = 2^-i,
    i = 0..9, m = 32, eta = 1 (16), and E(k) / E(infinity) there (0.5737), E(infinity) = d/m = 0.3125.
    The hint names the steps (mean square = mean^2 + variance, the weights lambda_i), not the formula."""
    exact = _expected_test_error(LAMS_6, 1 / (M_6 * LAMS_6))
    k_best, e_inf = int(exact.argmin()), len(LAMS_6) / M_6  # E(infinity) = d/m exactly (E(5000) is not yet)
    ratio_best = float(exact.min()) / e_inf
    hint = ("the mean square of a coordinate is its mean squared plus its variance (the cross term of "
            "theta* and xi has mean 0); weight eigen-coordinate i by lambda_i, sum, evaluate E(k) for "
            "k = 0..2000 and take the argmin. E(infinity) is the limit of E(k) as the factors "
            "(1 - lambda_i)^k go to 0.")
    what_k = "the step with the least expected test error"
    k = _whole_step(step, what_k, hint)
    named = {
        int(_expected_test_error(np.ones(10), 1 / (M_6 * LAMS_6)).argmin()):
            "minimises the sum without the weights lambda_i: the test error weighs eigen-coordinate i by "
            "lambda_i, the variance of the test inputs along it.",
        int(_expected_test_error(LAMS_6, 1 / LAMS_6).argmin()):
            "uses the noise variance 1/lambda_i; with m = 32 samples it is 1/(m lambda_i).",
        int(_expected_test_error(LAMS_6, 1 / (M_6 * LAMS_6), square=False).argmin()):
            "comes from terms that are not squared: the mean square of -q theta* + (1 - q) xi is "
            "q^2 + (1 - q)^2 var(xi), the cross term having mean 0.",
        0: "is the start: E(0) = sum_i lambda_i = 2.0, the worst of all (theta = 0 fits nothing).",
    }
    if k != k_best:
        if k in named:
            raise NotYet(f"{k} {named[k]} Hint: {hint}")
        if abs(k - k_best) == 1:
            raise NotYet(f"{k} is one step off: E({k}) = {exact[k]:.5f}, while the least value is at another "
                         f"step (the two differ in the fifth digit). Hint: {hint}")
        raise NotYet(f"{k} is {'too large' if k > k_best else 'too small'} for {what_k}. Hint: {hint}")
    q = (1 - LAMS_6) ** k_best
    number(_plain_int(ratio, "the ratio"), ratio_best, rtol=RTOL_6,
           what="E(k*) / E(infinity), the expected test error at the best step over the converged one",
           hint=hint,
           mistakes={"unscaled": (float(exact.min()), "that is E(k*) itself; divide by E(infinity) = d/m = "
                                                       f"{e_inf:.4f}."),
                     "inverse": (1 / ratio_best, "that is E(infinity) / E(k*), upside down."),
                     "finite": (float(exact.min() / exact[2000]),
                                "that divides by E(2000), and E(k) has not reached its limit by then: the "
                                "slowest factor (1 - 2^-9)^2000 is still about 0.02. E(infinity) is the "
                                "limit as every (1 - lambda_i)^k goes to 0, which leaves only the noise "
                                "terms."),
                     "start": (float(exact.min() / exact[0]),
                               f"that is E(k*) / E(0); divide by E(infinity) = d/m = {e_inf:.4f}, the "
                               "converged error, not by the error at the start."),
                     "median": (0.55, "0.55 is the median over section 4's 20 noise seeds, each one draw "
                                      "of the noise; the exercise asks for the expectation over the noise, "
                                      "E(k*) / E(infinity) from your formula."),
                     "one_minus_q2": (float((LAMS_6 * (q**2 + (1 - q**2) / (M_6 * LAMS_6))).sum()) / e_inf,
                                      "the fitted noise is (1 - q)^2 var(xi), not (1 - q^2) var(xi).")})
    print(f"  (the 20 noise seeds of section 4 had their best step between 3 and 76, median ratio 0.55: "
          f"the expectation, {ratio_best:.3f} at step {k_best}, sits among them.)")


def _whole_step(answer: object, what: str, hint: str) -> int:
    """The answer as a whole number >= 0, or NotYet."""
    value = as_number(_plain_int(answer, what), what, hint)
    if value != round(value) or value < 0:
        raise NotYet(f"{value!r} is not a whole number >= 0; {what} is a count of steps. Hint: {hint}")
    return int(round(value))
