"""Self-checks for lesson 08, linear regression worked by hand.

The data are the lesson's four points ``x = [0, 1, 2, 3]``, ``y = [-0.2, 1.2, 2.6, 2.8]``
with the momentum form ``v_k = beta v_{k-1} + eta grad J``, ``theta^(k) = theta^(k-1) - v_k``,
``beta = 0.9`` (the seed's gamma), ``eta = 0.01``, from ``theta = (0, 1)``.

Tolerances, as the exercises state them: vector answers (exercises 1 to 3, 6 and 7) are accepted within
``ATOL = 1e-6`` in every component, so that hand answers written to six decimals pass; exercise 5
accepts a momentum whose rate needs at most ``STEPS_TOLERANCE = 5 %`` more steps in the long run
than the best momentum's. A vector answer within ``NEAR`` of the right one but outside ``ATOL`` (a
hand answer rounded to four or five decimals) is told the tolerance; a float32 gradient in exercise 4
is told that it is float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from .. import theory
from . import NotYet, _plain, array, as_number, passed, run_answer, vector

X_DATA = np.array([0.0, 1.0, 2.0, 3.0])
X_DATA.setflags(write=False)
Y_DATA = np.array([-0.2, 1.2, 2.6, 2.8])
Y_DATA.setflags(write=False)
BETA, ETA = 0.9, 0.01
ATOL = 1e-6
STEPS_TOLERANCE = 0.05
LITTLE_TOO_MUCH = 0.25  # exercise 5: up to 25 % more steps than the best is "a little" too much momentum


def _grad(theta: np.ndarray, x: np.ndarray = X_DATA, y: np.ndarray = Y_DATA) -> np.ndarray:
    e = theta[0] + theta[1] * x - y
    return np.array([e.mean(), (e * x).mean()])


def _iterate(steps: int, grad: Callable[[np.ndarray], np.ndarray] = _grad,
             beta: float = BETA) -> list[tuple[np.ndarray, np.ndarray]]:
    """(theta_t, v_t) for t = 1..steps from theta = (0, 1), v = 0."""
    theta, v = np.array([0.0, 1.0]), np.zeros(2)
    out = []
    for _ in range(steps):
        v = beta * v + ETA * grad(theta)
        theta = theta - v
        out.append((theta.copy(), v.copy()))
    return out


NEAR = 6e-5  # a vector answer this close (but not within ATOL) is told the tolerance: likely rounded


def _vector(answer: object, expected: np.ndarray, *, what: str, hint: str,
            mistakes: Mapping[str, tuple[np.ndarray, str]] | None = None, atol: float = ATOL) -> None:
    """Check a vector answer of shape (2,) [theta0, theta1]; named wrong answers get their own message,
    and an answer close to the right one but outside the tolerance is told the tolerance."""
    shape_hint = "Remember that theta is the vector (theta0, theta1), not one number."
    with np.printoptions(suppress=True):  # fixed decimals: [0.001 1.002], not [1.000e-03 1.002e+00]
        value = array(answer, what, np.shape(expected), shape_hint, hint)
        named = any(np.allclose(value, wrong, rtol=0.0, atol=max(atol, 1e-12))
                    for wrong, _ in (mistakes or {}).values())
        off = float(np.max(np.abs(value - expected)))
        if not named and atol < off < NEAR:
            raise NotYet(f"{np.array2string(value, precision=9)} is close to {what} but {off:.1e} off in one "
                         f"component; the check accepts {atol:g} in every component: give at least six "
                         f"decimals (rounding to five can be 5e-6 off, to four 5e-5). Hint: {hint}")
        vector(value, expected, what=what, hint=hint, mistakes=mistakes, atol=atol, shape_hint=shape_hint)


def theta_after_first_iteration(answer: object) -> None:
    """Exercise 1: theta after iteration 1 from (0, 1) with v1 = [-0.001, -0.002]."""
    start, v1 = np.array([0.0, 1.0]), np.array([-0.001, -0.002])
    _vector(
        answer, start - v1, what="theta after the first iteration",
        hint="subtract the vector v1 from the vector theta = (0, 1), component by component.",
        mistakes={
            "seed": (1.0 - v1, "that is the seed's [1.001, 1.002]: it subtracts v1 from the number 1 "
                               "(theta1) in both components, but theta0 starts at 0."),
            "plus": (start + v1, "theta^(t) = theta^(t-1) - v_t: subtract v, do not add it."),
            "swapped": (start - v1[::-1],
                        "the first component of v belongs to theta0, the second to theta1."),
        },
    )


def third_iteration(v3: object, theta3: object) -> None:
    """Exercise 2: v3 and theta3 on the four points (each component within ATOL)."""
    (theta1, _), (theta2, v2), (theta3_ok, v3_ok), (theta4, v4) = _iterate(4)
    g2, g3 = _grad(theta1), _grad(theta2)
    hint = ("residuals e_i = theta0 + theta1 x_i - y_i at theta2, g3 = (mean e, mean e*x), "
            "v3 = 0.9 v2 + 0.01 g3, theta3 = theta2 - v3.")
    try:  # the arguments swapped: third_iteration(theta3, v3)
        swapped = (np.allclose(np.asarray(_plain(v3), dtype=float), theta3_ok, rtol=0.0, atol=ATOL)
                   and np.allclose(np.asarray(_plain(theta3), dtype=float), v3_ok, rtol=0.0, atol=ATOL))
    except (TypeError, ValueError, OverflowError):  # not numbers: said by the checks below
        swapped = False
    if swapped:
        raise NotYet("your two answers are right but swapped: the check is called as third_iteration(v3, "
                     "theta3), the velocity first.")
    _vector(
        v3, v3_ok, what="v3", hint=hint,
        mistakes={
            "no_momentum": (ETA * g3, "that is only 0.01 * g3: add 0.9 * v2, the momentum."),
            "seed_sign": (BETA * v2 - ETA * g3,
                          "the gradient enters with a plus sign: v3 = 0.9 v2 + 0.01 g3."),
            "seed_order": (BETA * v2 + ETA * g3[::-1], "the gradient's first component is mean(e), "
                                                       "for theta0; mean(e*x) is for theta1."),
            "stale_gradient": (BETA * v2 + ETA * g2,
                               "that uses g2 = (-0.096, -0.1915), the gradient at theta1; compute the "
                               "residuals again at theta2 = (0.00286, 1.005715)."),
            "sum_not_mean": (BETA * v2 + ETA * len(X_DATA) * g3,
                             "the gradient is the mean over the four points, not the sum: divide by m = 4."),
            "factor_two": (BETA * v2 + 2 * ETA * g3,
                           "the 1/2 in J cancels the 2 from the square: no factor 2."),
            "no_decay": (v2 + ETA * g3, "the old velocity is multiplied by beta = 0.9 before g3 is added."),
            "negated": (-v3_ok, "that is minus v3, the velocity of the other lessons' form v = beta v - "
                                "eta g, theta = theta + v. This lesson uses the seed's form v3 = 0.9 v2 + "
                                "0.01 g3, theta3 = theta2 - v3: same iterates, opposite sign of v."),
            "torch_buffer": (BETA * v2 / ETA + g3, "that is PyTorch's buffer b3 = 0.9 b2 + g3 (with "
                                                   "b2 = v2/eta); the lesson's v is eta * b."),
            "given": (v2, "that is v2, given in the exercise; v3 is the next velocity, 0.9 v2 + 0.01 g3."),
            "fourth": (v4, "that is v4, one iteration too many: v3 uses g3, the gradient at theta2."),
            "nesterov": (BETA * v2 + ETA * _grad(theta2 - BETA * v2),
                         "that takes the gradient at the look-ahead point theta2 - 0.9 v2 (Nesterov's "
                         "form, lesson 05); the heavy ball takes it at theta2 itself."),
            "ema": (BETA * v2 + (1 - BETA) * ETA * g3,
                    "that is the EMA form v3 = 0.9 v2 + 0.1 * 0.01 g3 (lesson 07); the seed's form adds "
                    "the whole 0.01 g3, without the factor 1 - beta."),
        },
    )
    _vector(theta3, theta3_ok, what="theta after the third iteration",
            hint="theta3 = theta2 - v3 with the v3 you just computed.",
            mistakes={"plus": (theta2 + v3_ok, "subtract v3, do not add it."),
                      "seed_scalar": (theta2[1] - v3_ok,
                                      "that subtracts v3 from the number theta2[1] = 1.005715 in both "
                                      "components, the seed's own error; theta is the vector (theta0, "
                                      "theta1): theta3 = (0.00286, 1.005715) - v3, component by component."),
                      "gradient_step": (theta2 - ETA * g3, "that is a plain gradient step theta2 - 0.01 g3; "
                                                          "the momentum step subtracts v3."),
                      "old_velocity": (theta2 - v2, "that subtracts v2; the third step subtracts v3."),
                      "given": (theta2, "that is theta2, given in the exercise; theta3 = theta2 - v3."),
                      "fourth": (theta4, "that is theta4, one iteration too many: stop after the third."),
                      "from_theta1": (theta1 - v3_ok,
                                      "start from theta2 = (0.00286, 1.005715), not theta1.")})


def find_the_error(line: object, theta2: object) -> None:
    """Exercise 3: the first wrong line (3) and the correct theta after iteration 2."""
    v1 = 0.1 * np.array([0.4, -0.2])
    theta1 = np.array([1.0, 0.0]) - v1
    v2 = 0.9 * v1 + 0.1 * np.array([0.3, -0.1])
    value = as_number(line, "the first wrong line", "give its number, 1 to 4.")
    if value != int(value):
        raise NotYet(f"give the number of the first wrong line, a whole number from 1 to 4; got {value:g}.")
    line_no = int(value)
    if line_no in (1, 2):
        raise NotYet(f"line {line_no} is right; recompute it: "
                     + ("0.1 * [0.4, -0.2] = [0.04, -0.02]." if line_no == 1
                        else "[1, 0] - [0.04, -0.02] = [0.96, 0.02]."))
    if line_no == 4:
        raise NotYet("line 4 subtracts correctly, [0.96, 0.02] - [0.066, -0.008] = [0.894, 0.028]; "
                     "it only inherits an earlier error. Look at line 3 term by term.")
    if line_no != 3:
        raise NotYet(f"there are only lines 1 to 4; got {line_no}.")
    _vector(theta2, theta1 - v2, what="the correct theta after iteration 2",
            hint="0.9 * [0.04, -0.02] = [0.036, -0.018] and 0.1 * [0.3, -0.1] = [0.03, -0.01]; "
                 "add them for v2, then theta2 = [0.96, 0.02] - v2.",
            mistakes={"student": (np.array([0.894, 0.028]), "that is the student's answer, built on the "
                                                             "wrong v2 = [0.066, -0.008]."),
                      "v2": (v2, "that is the corrected v2 = [0.066, -0.028]; theta2 = theta1 - v2."),
                      "plus": (theta1 + v2, "that adds v2 to theta1; theta2 = theta1 - v2: subtract.")})


def gradient(candidate: Callable[..., object]) -> None:
    """Exercise 4: grad_J(theta, x, y) for J = 1/(2m) sum (theta0 + theta1 x - y)^2."""
    if not callable(candidate):
        raise NotYet(f"grad_J should be a function; got {type(candidate).__name__}.")
    rng = np.random.default_rng(5)
    cases = [(np.array([0.0, 1.0]), X_DATA, Y_DATA)]
    for m in (3, 10, 50):
        x = rng.uniform(-2.0, 3.0, m)
        cases.append((rng.normal(size=2), x, 0.7 + 1.3 * x + rng.normal(size=m)))
    hint = "with e_i = theta0 + theta1 x_i - y_i: dJ/dtheta0 = mean(e), dJ/dtheta1 = mean(e * x)."
    for theta, x, y in cases:
        # copies: a candidate that changes its arguments in place cannot change the module's data
        got = run_answer(candidate, theta.copy(), x.copy(), y.copy(), name="grad_J", hint=hint)
        got = _plain(got)  # a tensor as an array
        single = np.asarray(got).dtype == np.float32 if not isinstance(got, list | tuple) else (
            all(np.asarray(g).dtype == np.float32 for g in got) and len(got) > 0)
        two_numbers = (f"grad_J should return two numbers, (mean(e), mean(e * x)); got {got!r:.80}. "
                       f"Hint: {hint}")
        try:
            if np.iscomplexobj(np.asarray(got)):  # NumPy would drop the imaginary part with a warning
                raise NotYet(f"grad_J returns complex numbers, {got!r:.80}; the gradient of a real loss is "
                             f"real: where does the complex part come from? Hint: {hint}")
            got = np.asarray(got, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise NotYet(two_numbers) from None
        want = _grad(theta, x, y)
        if got.shape != (2,):
            raise NotYet(f"grad_J should return shape (2,); got {got.shape}. Hint: {hint}")
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        if not single and np.allclose(got, want, rtol=1e-5, atol=1e-6):
            raise NotYet(f"for m = {len(x)} data points grad_J gives {got}, right only to about float32 "
                         f"precision (expected {want}, to a relative 1e-9): the result is float64, but "
                         "somewhere the computation runs in float32 (a float32 array or tensor cast back). "
                         f"Use float64 throughout. Hint: {hint}")
        if single and np.allclose(got, want, rtol=1e-5, atol=1e-6):
            raise NotYet(f"for m = {len(x)} data points grad_J gives {got}, which is right to float32 "
                         f"precision (expected {want}, to a relative 1e-9): your numbers are float32. "
                         "Computed in lower precision than float64 they are off by about 1e-7 relative; use "
                         f"float64 (np.asarray(x, dtype=float), torch.float64) throughout. Hint: {hint}")
        if x is not X_DATA and np.allclose(got, _grad(theta, X_DATA, Y_DATA), rtol=1e-9, atol=1e-12):
            raise NotYet(f"for m = {len(x)} data points grad_J gives {got}, the gradient on the lesson's "
                         "four points: use the arguments x, y, not the notebook's data (or its gradient()).")
        named = {
            "the seed's formula: both signs flipped and the components swapped": -want[::-1],
            "the sign: both components should have a plus sign": -want,
            "the order: the first component is for theta0, mean(e); the x-weighted mean is for theta1":
                want[::-1],
            f"a factor m = {len(x)}: use the mean, not the sum": len(x) * want,
            f"the divisor: you divide by 4, the lesson's m, where this data set has m = {len(x)} points; "
            "divide by len(x) (or use the mean)": len(x) / 4 * want,
            f"the divisor: you divide by len(x) - 1 = {len(x) - 1}; J has 1/(2m), so divide by "
            f"m = len(x) = {len(x)} (or use the mean)": len(x) / (len(x) - 1) * want,
            "a factor 2: the 1/2 in J cancels the 2 from the square": 2 * want,
        }
        for problem, wrong in named.items():
            if np.allclose(got, wrong, rtol=1e-9, atol=1e-12):
                raise NotYet(f"grad_J gives {got} where {want} is expected; the problem is {problem}.")
        raise NotYet(f"for theta = {theta}, m = {len(x)} grad_J gives {got}; expected {want}. Hint: {hint}")
    passed("grad_J matches the gradient on the lesson's data and on three random data sets.")


def best_momentum(answer: object) -> None:
    """Exercise 5: the momentum with the smallest rate for eta = 0.01 on the four points.

    Accepted: a beta whose rate rho(beta) (theory.momentum_rate at the Hessian's two eigenvalues) needs
    at most STEPS_TOLERANCE more steps than the best rate rho* = 1 - sqrt(eta mu) in the long run,
    ln(rho*) / ln(rho(beta)) <= 1 + STEPS_TOLERANCE (steps to a small tolerance are ln(tol) / ln(rho)).
    """
    X = np.column_stack([np.ones_like(X_DATA), X_DATA])
    lam_min, lam_max = np.linalg.eigvalsh(X.T @ X / len(X_DATA))
    best = float(theory.critical_momentum(ETA, lam_min))
    rate_best = 1 - math.sqrt(ETA * lam_min)
    value = as_number(answer, "the fastest momentum", "scan beta, measure each run's rate per step "
                      "(or use theory.momentum_rate), take the argmin.")
    if not 0.0 <= value < 1.0:
        raise NotYet(f"momentum must be in [0, 1); got {value}.")
    if abs(value - rate_best) < 2e-3 or abs(value - math.sqrt(BETA)) < 1e-3:
        as_beta = float(theory.momentum_rate(ETA, value, [lam_min, lam_max]))
        raise NotYet(f"{value:.4f} looks like a rate rho (the best is {rate_best:.4f}, the seed's beta = 0.9 "
                     f"gives sqrt(0.9) = {math.sqrt(BETA):.4f}), not a beta: return the beta whose rate is "
                     "smallest, betas[rates.argmin()], not rates.min(). If you meant it as beta, it is far "
                     f"too much momentum: its rate is {as_beta:.4f}, against the best {rate_best:.4f}.")
    if abs(value - 0.336) < 1e-3:
        raise NotYet("0.336 is section 6's optimal beta, which belongs to the optimal pair's eta = 0.594; "
                     "here eta = 0.01, and the best beta for it is different: scan beta at eta = 0.01.")
    rate = float(theory.momentum_rate(ETA, value, [lam_min, lam_max]))
    extra = math.log(rate_best) / math.log(rate)
    if extra <= 1 + STEPS_TOLERANCE:
        passed(f"beta = {value:.4f} has the rate {rate:.4f} per step ({100 * (extra - 1):.1f} % more "
               f"steps than the best). Theory: the flat direction (lambda = {lam_min:.4f}) is critically "
               f"damped at beta = (1 - sqrt(eta * lambda))^2 = {best:.4f}, where the rate is "
               f"1 - sqrt(eta * lambda) = {rate_best:.4f}; above it every component rings at sqrt(beta) "
               "(0.9487 at the seed's 0.9).")
        return
    more = (f"its rate {rate:.4f} per step needs {extra:.3f} times the steps of the best rate "
            f"{rate_best:.4f} (at most {1 + STEPS_TOLERANCE:.2f} times passes)")
    if math.isclose(value, BETA):
        raise NotYet(f"beta = 0.9 is the seed's value, not the fastest: {more}. "
                     "Hint: scan a finer grid below 0.9.")
    if value < best:
        raise NotYet(f"beta = {value:.4f} is too little momentum: {more}. Below critical damping the "
                     "flat direction decays along a real root, slowly. Hint: scan with steps of 0.001 "
                     "and give beta to three decimals.")
    if extra > 1 + LITTLE_TOO_MUCH:  # chosen by the cost in steps, not by the distance in beta
        raise NotYet(f"beta = {value:.4f} is far too much momentum: {more}. Above critical damping every "
                     "component rings at the rate sqrt(beta), so the rate grows with beta. Hint: if you "
                     "counted steps to a tolerance and some runs never reached it, argmax of an all-False "
                     "row is 0: treat those as 'infinitely many steps', or measure the rate instead.")
    raise NotYet(f"beta = {value:.4f} is a little too much momentum: {more}. Above critical damping "
                 "every component rings at the rate sqrt(beta). Hint: look just below your value, "
                 "with steps of 0.001.")


def learning_rate_change(theta_seed: object, theta_torch: object) -> None:
    """Exercise 6: theta after two iterations from (0, 1) with eta = 0.02, then 0.01 (beta = 0.9), in the
    seed's form (v = beta v + eta g, theta -= v) and in torch.optim.SGD's (b = beta b + g, theta -= eta b)."""
    start = np.array([0.0, 1.0])
    g1 = _grad(start)
    v1 = 0.02 * g1
    seed1 = start - v1
    seed2 = seed1 - (BETA * v1 + 0.01 * _grad(seed1))
    torch1 = start - 0.02 * g1  # the same first step
    torch2 = torch1 - 0.01 * (BETA * g1 + _grad(torch1))
    constant = {lr: _iterate_lr(lr) for lr in (0.02, 0.01)}
    stale_seed = seed1 - (BETA * v1 + 0.01 * g1)
    stale_torch = torch1 - 0.01 * (BETA * g1 + g1)
    g2 = _grad(seed1)
    plus = seed1 + (BETA * v1 + 0.01 * g2)
    plain = seed1 - 0.01 * g2
    look_ahead = seed1 - (BETA * v1 + 0.01 * _grad(seed1 - BETA * v1))
    common = {
        "const_new": (constant[0.01], "that is two steps at eta = 0.01 throughout; the first step uses "
                                      "eta = 0.02."),
        "const_old": (constant[0.02], "that is two steps at eta = 0.02 throughout (in either form: with a "
                                      "constant eta they agree); the second step uses eta = 0.01."),
        "theta1": (seed1, "that is theta after the first iteration; do the second one too."),
        "plain": (plain, "that is theta1 - 0.01 g2, a plain gradient step: the second step keeps the "
                         "momentum term too (0.9 * 0.02 g1 in the seed's v, 0.9 g1 in PyTorch's b)."),
    }
    hint = ("first step (both forms): theta1 = (0, 1) - 0.02 g1. Seed: v2 = 0.9 * 0.02 g1 + 0.01 g2; "
            "PyTorch: b2 = 0.9 g1 + g2, theta2 = theta1 - 0.01 b2; g2 is the gradient at theta1.")
    try:
        swapped = (np.allclose(np.asarray(_plain(theta_seed), dtype=float), torch2, rtol=0.0, atol=ATOL)
                   and np.allclose(np.asarray(_plain(theta_torch), dtype=float), seed2, rtol=0.0, atol=ATOL))
    except (TypeError, ValueError, OverflowError):  # not numbers: said by the checks below
        swapped = False
    if swapped:
        raise NotYet("both numbers are right but swapped, or you ran the schedule backwards (0.01 first): "
                     "with the order reversed each form gives the other's theta2. Check that the first "
                     "step uses eta = 0.02. The seed's form keeps the old step 0.02 g1 in v "
                     "and moves farther; PyTorch's buffer b holds raw gradients, so the new eta = 0.01 "
                     "scales all of it. The check is called as "
                     "learning_rate_change(theta_seed, theta_torch).")
    _vector(theta_seed, seed2, what="theta2 in the seed's form", hint=hint,
            mistakes={**common,
                      "torch": (torch2, "that is PyTorch's theta2: its buffer is rescaled by the new "
                                        "eta; the seed's v keeps the old step 0.9 * 0.02 g1."),
                      "stale": (stale_seed, "that reuses g1 in the second step; compute g2 at theta1."),
                      "plus": (plus, "that is theta1 + v2: the step is subtracted, theta2 = theta1 - v2."),
                      "look_ahead": (look_ahead, "that takes g2 at the look-ahead point theta1 - 0.9 v1 "
                                                 "(Nesterov); the heavy ball takes g2 at theta1.")})
    _vector(theta_torch, torch2, what="theta2 in PyTorch's form", hint=hint,
            mistakes={**common,
                      "seed": (seed2, "that is the seed's theta2; in PyTorch the buffer b2 = 0.9 g1 + g2 "
                                      "holds raw "
                                      "gradients, and the new eta = 0.01 multiplies all of it."),
                      "stale": (stale_torch, "that reuses g1 in the second step; compute g2 at theta1."),
                      "plus": (torch1 + 0.01 * (BETA * g1 + g2),
                               "that is theta1 + 0.01 b2: the step is subtracted, "
                               "theta2 = theta1 - 0.01 b2.")})
    passed(f"seed's form {np.round(seed2, 6)}, PyTorch's {np.round(torch2, 6)}: they differ by "
           f"{np.round(seed2 - torch2, 6)} = -0.9 (0.02 - 0.01) g1, the part of the first step the seed "
           "keeps and "
           "PyTorch rescales. At a constant eta they would agree.")


def _iterate_lr(lr: float) -> np.ndarray:
    """theta after two iterations at the constant learning rate lr (either form)."""
    theta, v = np.array([0.0, 1.0]), np.zeros(2)
    for _ in range(2):
        v = BETA * v + lr * _grad(theta)
        theta = theta - v
    return theta


def normal_equations(answer: object) -> None:
    """Exercise 7: theta* for the lesson's points with the last y changed to 3.2."""
    y = Y_DATA.copy()
    y[3] = 3.2
    X = np.column_stack([np.ones_like(X_DATA), X_DATA])
    want = np.linalg.lstsq(X, y, rcond=None)[0]
    through_origin = np.array([0.0, X_DATA @ y / (X_DATA @ X_DATA)])
    uncentred = X_DATA @ y / (X_DATA @ X_DATA)
    x5, y5 = np.append(X_DATA, 3.0), np.append(Y_DATA, 3.2)
    appended = np.linalg.lstsq(np.column_stack([np.ones_like(x5), x5]), y5, rcond=None)[0]
    y_other = Y_DATA.copy()
    y_other[2] = 3.2
    other_point = np.linalg.lstsq(X, y_other, rcond=None)[0]
    _vector(answer, want, what="theta* for the changed data",
            hint="solve X^T X theta = X^T y with X = [ones, x] (np.linalg.solve), or use the formulas "
                 "theta1 = sum((x - mean x)(y - mean y)) / sum((x - mean x)^2), "
                 "theta0 = mean y - theta1 mean x.",
            mistakes={"old": (np.array([0.04, 1.04]),
                              "that is theta* for the lesson's data; the last y is now 3.2."),
                      "swapped": (want[::-1], "the order is [theta0, theta1]: intercept first."),
                      "origin": (through_origin, "that fits a line through the origin (no column of ones): "
                                                 "the intercept theta0 needs its column in X."),
                      "xty": (X.T @ y / len(X_DATA), "that is X^T y / m, the right-hand side; solve "
                                                     "H theta = X^T y / m for theta."),
                      "mean_only": (np.array([y.mean(), 0.0]),
                                    "that is the best constant; fit the slope too."),
                      "uncentred": (np.array([y.mean() - uncentred * X_DATA.mean(), uncentred]),
                                    "its slope is sum(x y) / sum(x^2), without centring: use "
                                    "sum((x - mean x)(y - mean y)) / sum((x - mean x)^2)."),
                      "appended": (appended, "that fits five points: (3, 3.2) replaces the last point "
                                             "(3, 2.8), it is not added to it."),
                      "other_point": (other_point, "that changes y at x = 2; the last y, at x = 3, "
                                                   "becomes 3.2.")})
