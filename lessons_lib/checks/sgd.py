"""Self-checks for lesson 02, stochastic gradient descent.

Tolerances (stated in the exercises' text): exercises 1-3 accept a relative error up to
:data:`REL_TOL` (three significant figures); exercise 4 compares with the reference to a relative
1e-9; exercise 5, a measurement, accepts 5 % around the formula.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import NotYet, as_number, number, passed

REL_TOL = 2.5e-3  # three significant figures of 0.25, 0.0277778 and 4 (0 %, 0.08 %, 0 %)


def minibatch_variance(answer: object) -> None:
    """Exercise 1: variance 4 per sample, mean of B = 16 draws with replacement."""
    number(
        answer, 4.0 / 16, what="the variance of the minibatch mean", rtol=REL_TOL,
        hint="the B draws are independent, so the variance of their sum is B * 4 and the mean "
             "divides it by B^2.",
        mistakes={
            "b_squared": (4.0 / 16**2, "dividing by B^2 forgets that the sum of B independent draws "
                                       "has B times the variance of one."),
            "std": (4.0 / np.sqrt(16), "dividing by sqrt(B) is the rule for the standard deviation, "
                                       "not for the variance."),
            "unchanged": (4.0, "averaging independent samples does reduce the variance."),
            "sum": (4.0 * 16, "that is the variance of the sum of the 16 gradients, not of their mean."),
        },
    )


def stationary_variance(answer: object) -> None:
    """Exercise 2: lr = 0.1, lambda = 2, s^2 = 1 in x_{k+1} = x_k - lr (lambda x_k + xi_k)."""
    lr, lam, s2 = 0.1, 2.0, 1.0
    number(
        answer, lr * s2 / (lam * (2 - lr * lam)), what="the stationary variance", rtol=REL_TOL,
        hint="the variance obeys v' = (1 - lr*lambda)^2 v + lr^2 s^2; solve for the fixed point "
             "v = lr^2 s^2 / (1 - (1 - lr*lambda)^2).",
        mistakes={
            "small_step": (lr * s2 / (2 * lam), "that is the small-step approximation lr s^2/(2 lambda); "
                                                "keep the factor (2 - lr*lambda) exactly."),
            "no_two": (lr * s2 / lam, "the denominator is lambda (2 - lr*lambda), not lambda."),
            "lr_squared": (lr**2 * s2, "that is the noise added in one step, lr^2 s^2, not the "
                                       "level where adding and contracting balance."),
            "std": (np.sqrt(lr * s2 / (lam * (2 - lr * lam))),
                    "that is the standard deviation; the question asks for the variance."),
            "plus": (lr * s2 / (lam * (2 + lr * lam)), "1 - (1 - lr*lambda)^2 = lr*lambda (2 - lr*lambda): "
                                                        "the sign inside is a minus."),
        },
    )


def best_decay_constant(answer: object) -> None:
    """Exercise 3: the a of lr_k = a/(b+k) minimising a^2 s^2 / ((2 a lambda - 1) k), lambda = 0.25."""
    lam = 0.25
    number(
        answer, 1 / lam, what="the best constant a", rtol=REL_TOL,
        hint="for a*lambda > 1/2 the error behaves like a^2 s^2 / ((2 a lambda - 1) k); minimise "
             "a^2 / (2 a lambda - 1) over a (set the derivative to zero).",
        mistakes={
            "threshold": (1 / (2 * lam), "1/(2 lambda) is the threshold below which the rate drops "
                                         "below 1/k; exactly there the constant is infinite."),
            "lambda": (lam, "a has the units of a step size, 1/curvature: try 1/lambda."),
            "two_over": (2 / lam, "2/lambda still gives the 1/k rate but with a constant 4/3 times larger."),
        },
    )


def _sgd_reference(x: np.ndarray, y: np.ndarray, theta0: object, lr: float,
                   batches: list[np.ndarray]) -> np.ndarray:
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.mean(), (r * x[idx]).mean()])
    return theta


def _sgd_sequential(x: np.ndarray, y: np.ndarray, theta0: object, lr: float,
                    batches: list[np.ndarray]) -> np.ndarray:
    """A common mistake: theta1's gradient computed after theta0 has already moved."""
    t0, t1 = (float(v) for v in np.asarray(theta0, dtype=float))
    for idx in batches:
        t0 -= lr * (t0 + t1 * x[idx] - y[idx]).mean()
        t1 -= lr * ((t0 + t1 * x[idx] - y[idx]) * x[idx]).mean()
    return np.array([t0, t1])


def _sgd_cases() -> list[tuple]:
    rng = np.random.default_rng(123)
    cases = []
    for m, B, steps, lr in [(5, 1, 3, 0.1), (20, 4, 10, 0.05), (50, 50, 5, 0.3), (30, 7, 25, 0.02)]:
        x = rng.uniform(-1.0, 2.0, m)
        y = 0.5 - 1.5 * x + 0.2 * rng.standard_normal(m)
        batches = [rng.integers(0, m, size=B) for _ in range(steps)]
        cases.append((x, y, np.array([0.3, -0.2]), lr, batches))
    return cases


def minibatch_sgd(candidate: Callable[..., object]) -> None:
    """Exercise 4: SGD on 1/(2m) sum (theta0 + theta1 x - y)^2 with given minibatches."""
    if not callable(candidate):
        raise NotYet(f"minibatch_sgd should be a function; got {type(candidate).__name__}.")
    hint = ("per step: r = theta0 + theta1*x[idx] - y[idx], gradient (mean(r), mean(r*x[idx])), "
            "theta = theta - lr * gradient.")
    for x, y, theta0, lr, batches in _sgd_cases():
        try:
            got = np.asarray(candidate(x, y, theta0.copy(), lr, batches), dtype=float)
        except NotImplementedError:
            raise NotYet(f"minibatch_sgd is not written yet. Hint: {hint}") from None
        want = _sgd_reference(x, y, theta0, lr, batches)
        if got.shape != (2,):
            raise NotYet(f"minibatch_sgd should return the final theta, shape (2,); got shape {got.shape}. "
                         f"Hint: {hint}")
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        B = len(batches[0])
        if B > 1 and np.allclose(got, _sgd_reference(x, y, theta0, lr * B, batches), rtol=1e-9, atol=1e-12):
            raise NotYet("your steps are B times too large: use the mean over the batch, not the sum.")
        if np.allclose(got, _sgd_reference(x, y, theta0, -lr, batches), rtol=1e-9, atol=1e-12):
            raise NotYet("you step up the gradient: subtract lr * gradient from theta.")
        if np.allclose(got, _sgd_reference(x, y, theta0, lr, [np.arange(len(x))] * len(batches)),
                       rtol=1e-9, atol=1e-12):
            raise NotYet("you use every sample at every step (gradient descent): use only the indices of "
                         "each step's batch, x[idx] and y[idx].")
        if np.allclose(got, _sgd_sequential(x, y, theta0, lr, batches), rtol=1e-9, atol=1e-12):
            raise NotYet("you update theta0 before computing the gradient for theta1: compute both "
                         "components of the gradient at the same theta, then step.")
        raise NotYet(f"for m = {len(x)}, B = {B}, {len(batches)} steps, lr = {lr} you return {got}; "
                     f"expected {want}. Hint: {hint}")
    passed("minibatch_sgd agrees with the reference on 4 data sets (batch sizes 1, 4, 7 and the full set).")


def measured_stationary_variance(answer: object) -> None:
    """Exercise 5: a measured stationary variance for lr = 0.3, lambda = 4, s = 0.5, within 5 %."""
    lr, lam, s = 0.3, 4.0, 0.5
    expected = lr * s**2 / (lam * (2 - lr * lam))
    if answer is None or answer is Ellipsis:
        raise NotYet("No measurement yet. Hint: run many seeds at once as a NumPy array, for ~100 steps, "
                     "then take .var() across the seeds.")
    value = as_number(answer, "the measured variance")
    if value <= 0:
        raise NotYet(f"a variance is a positive number; got {value}.")
    if abs(value / np.sqrt(expected) - 1) < 0.1:
        raise NotYet(f"{value:.4g} looks like a standard deviation; report the variance (.var()).")
    if abs(value / (lr * s / (lam * (2 - lr * lam))) - 1) < 0.05:
        raise NotYet(f"{value:.4g} fits noise of variance 0.5, but 0.5 is the standard deviation: "
                     "multiply standard normals by 0.5.")
    rel = value / expected - 1
    if abs(value / (lr * s**2 / (2 * lam)) - 1) < 0.05 and abs(rel) > 0.05:
        raise NotYet(f"{value:.4g} is the small-step approximation lr s^2/(2 lambda), not a measurement at "
                     "lr*lambda = 1.2. Hint: run the recursion for many seeds and take .var().")
    if abs(rel) > 0.05:
        raise NotYet(f"your measurement {value:.4g} is {100 * abs(rel):.0f}% "
                     f"{'above' if rel > 0 else 'below'} the formula's value. Hint: use more seeds "
                     "(the relative error of a variance from n samples is about sqrt(2/n)) and "
                     "enough steps for (1 - lr*lambda)^(2k) to vanish.")
    passed(f"measured {value:.5f}, formula lr s^2/(lambda (2 - lr lambda)) = {expected:.5f} "
           f"({100 * rel:+.1f}%).")
