"""Self-checks for lesson 02, stochastic gradient descent.

Tolerances (stated in the exercises' text): exercises 1-3, 6 and 7 accept a relative error up to
:data:`REL_TOL` (three significant figures); exercise 4 compares with the reference to a relative
1e-9 (the reference computed before the call, which gets copies of the inputs); exercise 5 takes
every iterate of at least 10,000 runs of at least 20 steps, checks that they are independent runs
of the model (start; no noise shared between runs at any step, tested first; correlated noise,
tested before a wrong step or curvature is blamed; contraction; fresh noise per step), and accepts
the variance of the final iterates within 5 % of the formula. Exercise 6 asks for the leading term
of the variance of an averaged iterate, exercise 7 for the step that keeps the small-step floor at a
larger batch (the step that keeps the exact floor is named as a near miss).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from . import NotYet, _numeric_kind, _plain, as_number, number, passed, run_answer

REL_TOL = 2.5e-3  # three significant figures of 0.25, 0.0980392 and 5 (0 %, 0.04 %, 0 %)
EX2_LR, EX2_LAM, EX2_NOISE_VAR = 0.1, 3.0, 5.0  # exercise 2: the step, the curvature, the noise variance


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
            "sd_of_mean": (np.sqrt(4.0 / 16), "that is the standard deviation of the mean, sqrt(4/16); "
                                              "the question asks for the variance, its square."),
            "unchanged": (4.0, "averaging independent samples does reduce the variance."),
            "sum": (4.0 * 16, "that is the variance of the sum of the 16 gradients, not of their mean."),
            "sample_variance": (4.0 / 15, "dividing by B - 1 = 15 is the sample-variance (Bessel) correction "
                                          "for estimating a variance from data; here the variance 4 is "
                                          "given, and the mean of B independent draws has variance 4/B."),
        },
    )


def stationary_variance(answer: object) -> None:
    """Exercise 2: lr = 0.1, lambda = 3, noise variance sigma^2 = 5 in x_{k+1} = x_k - lr (lambda x_k + xi_k).

    lambda/2 and sigma^2 are not 1, and lambda differs from sigma^2, so that every mistake named below
    gives its own number (any two at least 6 % apart): the loss floor (lambda/2) v, an answer without
    sigma^2, sigma for sigma^2 or sigma^2 for sigma, and a lambda missing from the denominator (with
    lambda = sigma^2, the last two coincided)."""
    lr, lam, s2 = EX2_LR, EX2_LAM, EX2_NOISE_VAR
    right = lr * s2 / (lam * (2 - lr * lam))
    number(
        answer, right, what="the stationary variance", rtol=REL_TOL,
        hint="the variance obeys v' = (1 - lr*lambda)^2 v + lr^2 sigma^2; solve for the fixed point "
             "v = lr^2 sigma^2 / (1 - (1 - lr*lambda)^2).",
        mistakes={
            "small_step": (lr * s2 / (2 * lam), "that is the small-step approximation lr sigma^2/(2 lambda); "
                                                "keep the factor (2 - lr*lambda) exactly."),
            "no_two": (lr * s2 / lam, "the denominator is lambda (2 - lr*lambda), not lambda."),
            "no_lambda": (lr * s2 / (2 - lr * lam),
                          "lambda is missing from the denominator: 1 - (1 - lr*lambda)^2 = "
                          "lr*lambda (2 - lr*lambda), and lr^2 sigma^2 / (lr*lambda (2 - lr*lambda)) "
                          "keeps one lambda."),
            "lr_squared": (lr**2 * s2, "that is the noise added in one step, lr^2 sigma^2, not the "
                                       "level where adding and contracting balance."),
            "std": (math.sqrt(right), "that is the standard deviation; the question asks for the variance."),
            "plus": (lr * s2 / (lam * (2 + lr * lam)), "1 - (1 - lr*lambda)^2 = lr*lambda (2 - lr*lambda): "
                                                        "the sign inside is a minus."),
            "loss_floor": (lam / 2 * right, "that is the loss floor (lambda/2) E x^2 = lr sigma^2/(2 (2 - "
                                            "lr*lambda)) of section 4, not the variance of the iterate: "
                                            "divide by lambda/2."),
            "no_noise_variance": (lr**2 / (1 - (1 - lr * lam) ** 2),
                                  "the noise variance sigma^2 = 5 is missing: each step adds lr^2 sigma^2, "
                                  "not lr^2."),
            "sd_for_variance": (lr * math.sqrt(s2) / (lam * (2 - lr * lam)),
                                "that uses the standard deviation sqrt(5) where the variance sigma^2 = 5 "
                                "belongs."),
            "variance_as_sd": (lr * s2**2 / (lam * (2 - lr * lam)),
                               "that takes 5 for the standard deviation (noise variance 25): 5 is the "
                               "variance sigma^2 already, so lr^2 sigma^2 = 0.01 * 5."),
        },
    )


EX3_LAM = 0.2  # 1/lambda = 5; every mistake below its own number (1/sqrt(lambda) = 2.24, 1/(2 lambda) = 2.5)


def best_decay_constant(answer: object) -> None:
    """Exercise 3: the alpha of lr_k = alpha/(t_0+k) minimising alpha^2 sigma^2 / ((2 alpha lambda - 1) k),
    lambda = 0.2. (With lambda = 0.25, 1/sqrt(lambda) and 1/(2 lambda) were both 2.)"""
    lam = EX3_LAM
    number(
        answer, 1 / lam, what="the best constant alpha", rtol=REL_TOL,
        hint="for alpha*lambda > 1/2 the error behaves like alpha^2 sigma^2 / ((2 alpha lambda - 1) k); "
             "minimise alpha^2 / (2 alpha lambda - 1) over alpha (set the derivative to zero).",
        mistakes={
            "threshold": (1 / (2 * lam), "1/(2 lambda) is the threshold below which the rate drops "
                                         "below 1/k; exactly there the constant is infinite."),
            "lambda": (lam, "alpha has the units of a step size, 1/curvature: try 1/lambda."),
            "two_over": (2 / lam, "2/lambda still gives the 1/k rate but with a constant 4/3 times larger."),
            "inverse_square": (1 / lam**2, f"1/lambda^2 = {1 / lam**2:g} has the wrong units: "
                                           "alpha/(t_0 + k) is a step, so alpha is 1/curvature, "
                                           "and the best alpha is 1/lambda."),
            "two_lambda": (2 * lam, f"2 lambda = {2 * lam:g} multiplies where it should divide: alpha lambda "
                                    f"must exceed 1/2, and 2 lambda * lambda = {2 * lam**2:g} does not; the "
                                    "best alpha is 1/lambda."),
            "sqrt": (1 / math.sqrt(lam), f"1/sqrt(lambda) = {1 / math.sqrt(lam):.4g}: no square root; "
                                         "setting the derivative of alpha^2 / (2 alpha lambda - 1) "
                                         "to zero gives 2 alpha lambda - 1 = alpha lambda, so "
                                         "alpha = 1/lambda."),
            "lesson_value": (1.0, "alpha = 1 is the best value for lambda = 1 (the 1-D model of section 5); "
                                  f"here lambda = {lam:g}, and the best alpha is 1/lambda."),
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


def _sgd_deduplicated(x: np.ndarray, y: np.ndarray, theta0: object, lr: float,
                      batches: list[np.ndarray]) -> np.ndarray:
    """A common mistake: a repeated index counted once (np.unique, or a boolean mask)."""
    return _sgd_reference(x, y, theta0, lr, [np.unique(idx) for idx in batches])


def _sgd_swapped(x: np.ndarray, y: np.ndarray, theta0: object, lr: float,
                 batches: list[np.ndarray]) -> np.ndarray:
    """A common mistake: the two components of the gradient swapped."""
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([(r * x[idx]).mean(), r.mean()])
    return theta


def _sgd_mean_product(x: np.ndarray, y: np.ndarray, theta0: object, lr: float,
                      batches: list[np.ndarray]) -> np.ndarray:
    """A common mistake: mean(r) * mean(x[idx]) for mean(r * x[idx])."""
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.mean(), r.mean() * x[idx].mean()])
    return theta


def _sgd_cases() -> list[tuple]:
    rng = np.random.default_rng(123)
    cases = []
    for m, B, steps, lr in [(5, 1, 3, 0.1), (20, 4, 10, 0.05), (50, 50, 5, 0.3), (30, 7, 25, 0.02)]:
        x = rng.uniform(-1.0, 2.0, m)
        y = 0.5 - 1.5 * x + 0.2 * rng.standard_normal(m)
        batches = [np.arange(m) if B == m else rng.integers(0, m, size=B) for _ in range(steps)]
        cases.append((x, y, np.array([0.3, -0.2]), lr, batches))
    return cases


def minibatch_sgd(candidate: Callable[..., object]) -> None:
    """Exercise 4: SGD on 1/(2m) sum (theta0 + theta1 x - y)^2 with given minibatches."""
    if not callable(candidate):
        raise NotYet(f"minibatch_sgd should be a function; got {type(candidate).__name__}.")
    hint = ("per step: r = theta0 + theta1*x[idx] - y[idx], gradient (mean(r), mean(r*x[idx])), "
            "theta = theta - lr * gradient.")
    for x, y, theta0, lr, batches in _sgd_cases():
        m, B = len(x), len(batches[0])
        where = f"for m = {m}, B = {B}, {len(batches)} steps, lr = {lr}"
        want = _sgd_reference(x, y, theta0, lr, batches)  # before the call, from the originals
        x_given, y_given, batches_given = x.copy(), y.copy(), [idx.copy() for idx in batches]
        result = run_answer(candidate, x_given, y_given, theta0.copy(), lr, batches_given,
                            name="minibatch_sgd", hint=hint, where=f"{where}, ")
        result = _plain(result)
        if result is None:
            raise NotYet(f"minibatch_sgd returned None: return the final theta. Hint: {hint}")
        _numeric_kind(result, "what minibatch_sgd returns", f" Hint: {hint}")
        try:
            got = np.asarray(result, dtype=float)
        except (TypeError, ValueError, OverflowError):
            raise NotYet(f"minibatch_sgd should return an array of 2 numbers; got {type(result).__name__}. "
                         f"Hint: {hint}") from None
        if got.shape != (2,):
            raise NotYet(f"minibatch_sgd should return the final theta, shape (2,); got shape {got.shape}. "
                         f"Hint: {hint}")
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue

        changed = [name for name, given, original in [("x", x_given, x), ("y", y_given, y)]
                   if given.shape != original.shape or not np.array_equal(given, original)]
        if len(batches_given) != len(batches) or any(
                np.shape(a) != b.shape or not np.array_equal(a, b)
                for a, b in zip(batches_given, batches, strict=True)):
            changed.append("batches")
        if changed:  # a wrong result from inputs changed in place: the reference used them as given
            raise NotYet(f"{where}, your function changed {' and '.join(changed)} in place (random.shuffle, "
                         "np.random.shuffle, x -= ..., batches.pop()?): step k uses batches[k] as given, "
                         "in the given order, on the data as given. Work on copies, or leave the inputs "
                         f"alone. Hint: {hint}")

        def same_as(other: np.ndarray, got: np.ndarray = got) -> bool:
            return bool(np.allclose(got, other, rtol=1e-9, atol=1e-12))

        if same_as(_sgd_reference(x, y, np.zeros(2), lr, batches)):
            raise NotYet(f"{where}, you start from theta = (0, 0): start from theta0, the argument "
                         f"({theta0[0]:g}, {theta0[1]:g}) here.")
        if same_as(_sgd_mean_product(x, y, theta0, lr, batches)):
            raise NotYet("your second gradient component is mean(r) * mean(x[idx]), the product of the "
                         "means; it is the mean of the products, mean(r * x[idx]).")

        if B > 1 and same_as(_sgd_reference(x, y, theta0, lr * B, batches)):
            raise NotYet("your steps are B times too large: use the mean over the batch, not the sum.")
        if same_as(_sgd_reference(x, y, theta0, 2 * lr, batches)):
            raise NotYet("your steps are twice the right size: the loss is (1/2m) sum r^2, and its 1/2 "
                         "cancels the 2 of the derivative of r^2, so the gradient is mean(r * a), "
                         "not 2 mean(r * a).")
        if B < m and same_as(_sgd_reference(x, y, theta0, lr * B / m, batches)):
            raise NotYet(f"{where}, your steps are B/m = {B}/{m} of the right size: the 1/m of the loss "
                         "averages over the whole data set, a minibatch's gradient averages over its own B "
                         "samples (divide the batch's sum by B, not by m).")
        if same_as(_sgd_reference(x, y, theta0, lr / 2, batches)):
            raise NotYet("your steps are half the right size: the 1/2 of (1/2m) sum r^2 cancels against the "
                         "2 of the derivative of r^2, so the gradient is mean(r * a), not mean(r * a) / 2.")
        if same_as(_sgd_reference(x, y, theta0, -lr, batches)):
            raise NotYet("you step up the gradient: subtract lr * gradient from theta.")
        if same_as(_sgd_reference(x, y, theta0, lr, [np.arange(m)] * len(batches))):
            raise NotYet("you use every sample at every step (gradient descent): use only the indices of "
                         "each step's batch, x[idx] and y[idx].")
        if same_as(_sgd_sequential(x, y, theta0, lr, batches)):
            raise NotYet("you update theta0 before computing the gradient for theta1: compute both "
                         "components of the gradient at the same theta, then step.")
        if same_as(_sgd_deduplicated(x, y, theta0, lr, batches)):
            raise NotYet(f"{where}, you count a repeated index once (np.unique or a boolean mask?): the "
                         "indices are drawn with replacement, and an index that appears twice in a batch "
                         "counts twice, x[idx] with idx as given.")
        if same_as(_sgd_swapped(x, y, theta0, lr, batches)):
            raise NotYet("your two gradient components are swapped: the derivative by theta0 is mean(r), "
                         "the derivative by theta1 is mean(r * x).")
        if len(batches) > 1 and same_as(_sgd_reference(x, y, theta0, lr, [batches[0]] * len(batches))):
            raise NotYet("every step of yours uses the first batch: step k uses batches[k] (loop over "
                         "the batches).")
        if len(batches) > 1 and same_as(_sgd_reference(x, y, theta0, lr, batches[:1])):
            raise NotYet(f"you take a single step (with the first batch); take one step per batch, "
                         f"{len(batches)} here.")
        if len(batches) > 1 and same_as(_sgd_reference(x, y, theta0, lr, batches[-1:])):
            raise NotYet("you take a single step (with the last batch): did the update overwrite theta "
                         "from theta0 at every step? Update the same theta, one step per batch.")
        if len(batches) > 1 and same_as(_sgd_reference(x, y, theta0, lr, batches[1:])):
            raise NotYet(f"{where}, you take one step too few: the first batch is skipped (a loop from 1?). "
                         f"Take one step per batch, {len(batches)} here, starting with batches[0].")
        if len(batches) > 1 and same_as(_sgd_reference(x, y, theta0, lr, batches[:-1])):
            raise NotYet(f"{where}, you take one step too few: the last batch is skipped (range(len(batches) "
                         f"- 1)?). Take one step per batch, {len(batches)} here, ending with batches[-1].")
        if len(batches) > 2 and same_as(_sgd_reference(x, y, theta0, lr, batches[::-1])):
            raise NotYet(f"{where}, you take the batches in reverse order: step k uses batches[k], "
                         "from the first to the last.")
        if np.allclose(got, want, rtol=1e-5, atol=1e-7):
            digits = int(-np.log10(max(np.abs(got - want).max() / np.abs(want).max(), 1e-17)))
            single = " (you return float32 numbers)" if np.asarray(result).dtype == np.float32 else ""
            raise NotYet(f"{where}, your result {got} agrees with the reference {want} to about {digits} "
                         f"digits only, and the check asks for a relative 1e-9{single}: that is single "
                         "precision (float32). Compute in float64 (np.array(..., dtype=float), no float32 "
                         f"or torch default tensors). Hint: {hint}")
        raise NotYet(f"{where}, you return {got}; expected {want}. Hint: {hint}")
    passed("minibatch_sgd agrees with the reference on 4 data sets (batch sizes 1, 4, 7 and the full set).")


# Exercise 5: the model, its start, the number of seeds and steps it asks for, and the tolerances.
MEASURE_LR, MEASURE_LAM, MEASURE_S = 0.3, 4.0, 0.5
MEASURE_START = 1.0
MIN_SEEDS = 10_000  # relative standard error sqrt(2/(n-1)) = 1.4 %: the 5 % tolerance is 3.5 of them
MIN_STEPS = 20  # |1 - lr*lambda|^20 = 0.2^20 = 1e-14: the start is forgotten
MEASURE_RTOL = 0.05
# Judging the steps themselves, over at least 20 x 10,000 = 200,000 of them (standard errors below 0.003):
RHO_ATOL = 0.02  # the fitted contraction x_{k+1} / x_k (least squares) within 0.02 of 1 - lr*lambda
NOISE_RTOL = 0.03  # the variance of x_{k+1} - (1 - lr*lambda) x_k within 3 % of (lr s)^2
NOISE_CORR_ATOL = 0.02  # the noise of consecutive steps uncorrelated: |correlation| below 0.02
SAME_NOISE_ATOL = 1e-13  # two runs' noise (or its negative) this close at one step: the same draw
CHANCE_COINCIDENCES = 10  # independent draws this close: about 1e-4 pairs per step; allowed, not counted


def _lag_correlation(noise: np.ndarray) -> float:
    """The correlation of the noise of consecutive steps, pooled over steps and seeds (0 for no noise)."""
    denominator = np.sqrt(np.sum(noise[1:] ** 2) * np.sum(noise[:-1] ** 2))
    return float(np.sum(noise[1:] * noise[:-1]) / denominator) if denominator > 0 else 0.0


def _runs_with_own_noise(noise: np.ndarray) -> tuple[int, int]:
    """The fewest runs whose noise differs in size from every other run's, over the steps (rows), and
    the step (1-based) where that is: runs sharing a draw, or its negative, count once."""
    magnitudes = np.sort(np.abs(noise), axis=1)
    own = 1 + np.sum(np.diff(magnitudes, axis=1) > SAME_NOISE_ATOL, axis=1)
    k = int(np.argmin(own))
    return int(own[k]), k + 1


def _noise_sizes_per_step(noise: np.ndarray) -> int:
    """The number of different noise sizes |noise| at each step (row), summed over the steps."""
    magnitudes = np.sort(np.abs(noise), axis=1)
    return int(np.sum(1 + np.sum(np.diff(magnitudes, axis=1) > SAME_NOISE_ATOL, axis=1)))


def _distinct_noise_sizes(noise: np.ndarray) -> int:
    """The number of different noise sizes |noise| over the whole array: for continuous noise drawn
    afresh, the sum over the steps of :func:`_noise_sizes_per_step` (no size recurs at another step);
    for noise from a small set of values (+-0.5, resampled residuals), far fewer."""
    magnitudes = np.sort(np.abs(noise), axis=None)
    return int(1 + np.sum(np.diff(magnitudes) > SAME_NOISE_ATOL))


def _no_noise(row: np.ndarray, previous: np.ndarray, rho: float) -> bool:
    """Whether a step added no noise in any run: row = rho * previous, to rounding."""
    return bool(np.all(np.abs(row - rho * previous) <= SAME_NOISE_ATOL))


def _no_noise_message(k: int, hint: str) -> str:
    return (f"your step {k} adds no noise: x_{k} = (1 - lr*lambda) x_{k - 1} exactly, in every run (did the "
            f"noise stop, or miss a step?). Every step adds fresh noise. Hint: {hint}")


def _stationary_hint() -> str:
    return ("keep every iterate: xs = np.empty((steps + 1, n)), xs[0] = 1.0, and for each step "
            "xs[k + 1] = xs[k] - lr*(lambda*xs[k] + 0.5*z) with z = rng.standard_normal(n), a new draw per "
            "step; n >= 10,000 seeds, steps >= 20; pass xs.")


def measured_stationary_variance(iterates: object) -> None:
    """Exercise 5: every iterate of at least 10,000 independent runs of the noisy 1-D model
    x_{k+1} = x_k - lr (lambda x_k + xi_k), lr = 0.3, lambda = 4, xi_k ~ N(0, 0.5^2), from x_0 = 1:
    an array of shape (steps + 1, n), steps >= 20. The variance of the last row must lie within 5 %
    of the formula.

    The check takes the runs, not a number, and checks that they are runs: row 0 is the start, each
    row follows from the one before by the contraction 1 - lr*lambda plus fresh noise of variance
    (lr s)^2, uncorrelated from step to step. Samples drawn from the formula's distribution, a fixed
    array, or one step from 0 are not such runs."""
    lr, lam, s = MEASURE_LR, MEASURE_LAM, MEASURE_S
    rho = 1 - lr * lam
    expected = lr * s**2 / (lam * (2 - lr * lam))
    hint = _stationary_hint()
    if iterates is None or iterates is Ellipsis:
        raise NotYet(f"No measurement yet. Hint: {hint}")
    iterates = _plain(iterates)
    if isinstance(iterates, str | bytes):
        _numeric_kind(iterates, "the iterates", f" Hint: {hint}")
    if np.ndim(iterates) == 0:
        value = as_number(iterates, "the iterates", hint)
        formula = (" It is the formula's value, too: the exercise asks for a measurement."
                   if abs(value / expected - 1) < 1e-3 else "")
        raise NotYet(f"pass every iterate of your runs (an array of shape (steps + 1, n)), not a single "
                     f"number ({value:.4g}): the check computes the variance itself.{formula} Hint: {hint}")
    _numeric_kind(iterates, "the iterates", f" Hint: {hint}")
    if np.asarray(iterates).dtype.kind in "iu":
        raise NotYet("your array holds integers (np.full(..., 1) or np.ones(..., dtype=int) makes one), so "
                     "every assignment to it is rounded towards 0: use 1.0 or dtype=float. "
                     f"Hint: {hint}")
    if np.asarray(iterates).dtype == np.float16:
        raise NotYet("your array holds float16 numbers (about 3 significant digits), too coarse to tell "
                     f"the runs' noise apart: use float64 (dtype=float). Hint: {hint}")
    xs = np.asarray(iterates, dtype=float)
    if xs.ndim != 2:
        raise NotYet(f"pass every iterate of your runs, shape (steps + 1, n): row k holds x_k of every seed; "
                     f"got shape {xs.shape}. The check verifies that each row follows from the one before, "
                     f"so the final iterates alone are not enough. Hint: {hint}")
    if xs.shape[0] >= MIN_SEEDS > xs.shape[1]:
        raise NotYet(f"your array has shape {xs.shape}: one row per step and one column per seed, shape "
                     f"(steps + 1, n); pass its transpose. Hint: {hint}")
    steps, n = xs.shape[0] - 1, xs.shape[1]
    if n < MIN_SEEDS:
        rel_se = np.sqrt(2 / max(n - 1, 1))
        raise NotYet(f"{n} seeds: the variance of n samples has a relative standard error of about "
                     f"sqrt(2/(n-1)) = {100 * rel_se:.1f} %, too much for a 5 % test. The check asks for at "
                     f"least {MIN_SEEDS:,} (1.4 %). Hint: {hint}")
    if steps < MIN_STEPS:
        raise NotYet(f"{steps} step{'s' if steps != 1 else ''}: run at least {MIN_STEPS}, so that the start "
                     f"is forgotten ((1 - lr*lambda)^{MIN_STEPS} = {abs(rho) ** MIN_STEPS:.0e}). "
                     f"Hint: {hint}")
    if not np.all(np.isfinite(xs)):
        raise NotYet(f"some of your iterates are not finite (the run diverged?). Hint: {hint}")
    if not np.allclose(xs[0], MEASURE_START, rtol=0, atol=1e-12):
        raise NotYet(f"row 0 should be the start, x_0 = {MEASURE_START:g} for every seed; yours holds "
                     f"{xs[0, 0]:.4g}{' and other values' if np.ptp(xs[0]) > 0 else ''}. Hint: {hint}")
    before, after = xs[:-1], xs[1:]
    # First: are the runs independent? Every run must draw its own noise at every step.
    same_row = np.flatnonzero(np.ptp(after, axis=1) == 0)
    if same_row.size:
        k = int(same_row[0]) + 1
        if _no_noise(after[k - 1], before[k - 1], rho):
            raise NotYet(_no_noise_message(k, hint))
        if after[k - 1, 0] == 0 or np.array_equal(after[k - 1], before[k - 1]):
            raise NotYet(f"at step {k} all your {n:,} runs have the same value x_{k} = {after[k - 1, 0]:.4g}"
                         f"{', as in the row before' if after[k - 1, 0] != 0 else ''}: row {k} was never "
                         f"filled (a loop one step short, or an array one row too many?). Your array has "
                         f"{steps + 1} rows: the loop should fill rows 1 to {steps}. Hint: {hint}")
        raise NotYet(f"at step {k} all your {n:,} runs have the same value x_{k} = {after[k - 1, 0]:.4g}: "
                     "each seed needs its own noise at every step. Did you draw one number per step "
                     "(rng.standard_normal() without a size)? Draw n numbers, rng.standard_normal(n), and "
                     f"do not re-create the generator with the same seed. Hint: {hint}")
    own, k = _runs_with_own_noise(after - rho * before)
    fitted = float(np.sum(after * before) / np.sum(before**2))
    if own < MIN_SEEDS - CHANCE_COINCIDENCES and _no_noise(after[k - 1], before[k - 1], rho):
        raise NotYet(_no_noise_message(k, hint))
    if own < MIN_SEEDS - CHANCE_COINCIDENCES:
        values = _distinct_noise_sizes(after - rho * before)
        if abs(fitted - rho) <= RHO_ATOL and values < 0.5 * _noise_sizes_per_step(after - rho * before):
            raise NotYet(f"your noise takes only {values:,} different sizes over all {steps} steps and "
                         f"{n:,} runs (the same values recur from step to step), so equal draws in different "
                         "runs are likely even when the draws are independent, and the check cannot tell "
                         "shared noise from independent noise. It needs continuous, normal noise: "
                         f"0.5 * rng.standard_normal(n) at every step. Hint: {hint}")
        raise NotYet(f"only {own:,} of your {n:,} runs differ at step {k}: the others repeat another run's "
                     "noise (or its negative) there. Each seed needs its own noise at every step, shared "
                     "with no other run at any step (do not re-create the generator with the same seed "
                     "inside a loop, repeat a block of runs, or reuse draws with a minus sign). The check "
                     f"asks for at least {MIN_SEEDS:,} independent runs. Hint: {hint}")
    if abs(fitted - rho) > RHO_ATOL:
        # What is left after the fitted factor is uncorrelated from step to step for a run of the model
        # with any step or curvature; correlated noise also moves the fitted factor, so test it first.
        residual_corr = _lag_correlation(after - fitted * before)
        if abs(residual_corr) > max(5 / np.sqrt(before.size), 0.003):  # five standard errors
            why = (f"your rows follow x_(k+1) = {fitted:+.3f} x_k + noise on average, but what is left over "
                   f"is correlated from one step to the next ({residual_corr:+.3f}): the noise of "
                   "consecutive steps is correlated. Draw new, independent noise at every step (a draw "
                   "reused at the next step, or one that depends on the one before, is carried from step "
                   f"to step); with independent noise the factor is 1 - lr*lambda = {rho:+.1f}.")
        elif abs(fitted - (1 - lam)) < RHO_ATOL or abs(fitted - (1 - lr)) < RHO_ATOL:
            why = (f"x_(k+1) = {fitted:.3f} x_k + noise on average; with lr = {lr:g} and lambda = {lam:g} "
                   f"the factor is 1 - lr*lambda = {rho:+.1f} (both multiply x_k).")
        elif abs(fitted - rho**2) < RHO_ATOL:
            why = (f"your rows follow x_(k+1) = {fitted:+.3f} x_k + noise on average: that is "
                   f"(1 - lr*lambda)^2 = {rho**2:.2f}, two steps of the model per row. Did you store every "
                   "other iterate? Row k should hold x_k, one step after row k - 1.")
        elif abs(fitted) < RHO_ATOL:
            why = ("each row of your array is unrelated to the row before (fitted factor "
                   f"{fitted:+.3f}): these are not runs of x_(k+1) = (1 - lr*lambda) x_k - lr xi_k.")
        elif 0 < 1 - fitted < 2:  # a contraction 1 - lr'*lambda' of another step or curvature
            why = (f"your rows follow x_(k+1) = {fitted:+.3f} x_k + noise on average: that is the factor "
                   f"1 - lr*lambda of lr = {(1 - fitted) / lam:.3g} with lambda = {lam:g}, or of lambda = "
                   f"{(1 - fitted) / lr:.3g} with lr = {lr:g}. The exercise has lr = {lr:g} and lambda = "
                   f"{lam:g}: the factor is 1 - lr*lambda = {rho:+.1f}.")
        else:
            why = (f"your rows follow x_(k+1) = {fitted:+.3f} x_k + noise on average; the model's factor is "
                   f"1 - lr*lambda = {rho:+.1f}.")
        raise NotYet(f"{why} Hint: {hint}")
    noise = after - rho * before  # -lr * xi_k, if the runs are the model's
    noise_var = float(noise.var())
    want_noise = (lr * s) ** 2
    if abs(noise_var / want_noise - 1) > NOISE_RTOL:
        named = {
            "variance_as_sd": (lr**2 * s, "it fits noise of variance 0.5, but 0.5 is the standard deviation: "
                                          "multiply standard normals by 0.5."),
            "no_lr_on_noise": (s**2, "it fits x <- (1 - lr*lambda) x - noise: the noise enters the step "
                                     "multiplied by lr, like the gradient it belongs to."),
            "sd_of_noise_squared": (lr**2 * s**4, "it fits noise of standard deviation 0.25 = 0.5^2: the "
                                                  "standard deviation is 0.5."),
        }
        why = next((w for v, w in named.values() if abs(noise_var / v - 1) <= NOISE_RTOL),
                   f"it should be (lr * 0.5)^2 = {want_noise:.4g}.")
        raise NotYet(f"the noise of your steps, x_(k+1) - (1 - lr*lambda) x_k, has variance {noise_var:.4g}: "
                     f"{why} Hint: {hint}")
    if abs(noise.mean()) > 5 * np.sqrt(noise_var / noise.size):
        raise NotYet(f"the noise of your steps has mean {noise.mean():.3g}, more than five standard errors "
                     f"from 0: the gradient noise has mean 0. Hint: {hint}")
    corr = _lag_correlation(noise)
    if abs(corr) > NOISE_CORR_ATOL:
        raise NotYet(f"the noise of consecutive steps is correlated ({corr:+.2f}): draw new noise at every "
                     f"step. Hint: {hint}")
    final = xs[-1]
    value = float(final.var())
    rel = value / expected - 1
    if abs(rel) <= MEASURE_RTOL:
        passed(f"your {n:,} runs of {steps} steps follow the model (x_(k+1) = {fitted:+.3f} x_k + noise of "
               f"variance {noise_var:.5f}; {rho:+.1f} and {want_noise:.5f} wanted). The variance of the "
               f"final iterates is {value:.5f}; the formula lr sigma^2/(lambda (2 - lr lambda)) gives "
               f"{expected:.5f} ({100 * rel:+.1f} %; the relative standard error of a variance from {n:,} "
               f"samples is about {100 * np.sqrt(2 / (n - 1)):.1f} %).")
        return
    rel_se = math.sqrt(2 / (n - 1))  # relative standard error of a variance from n normal samples
    p_miss = math.erfc(MEASURE_RTOL / rel_se / math.sqrt(2))  # a correct measurement misses by 5 % or more
    once_in = float(f"{1 / p_miss:.2g}")  # two significant figures
    raise NotYet(f"the variance of your final iterates is {value:.4g}, {100 * abs(rel):.1f} % "
                 f"{'above' if rel > 0 else 'below'} the formula's value {expected:.4g}, although your steps "
                 f"follow the model. With {n:,} seeds the relative standard error is {100 * rel_se:.2f} %, "
                 f"so 5 % is {MEASURE_RTOL / rel_se:.1f} standard errors, and a correct measurement misses "
                 f"by that much with probability {p_miss:.1g} (about once in {once_in:,.0f} tries): check "
                 f"that every seed has its own noise, then run again with another seed. Hint: {hint}")


# Exercise 6: the averaged iterate.
EX6_LR, EX6_LAM, EX6_NOISE_VAR, EX6_N = 0.1, 5.0, 3.0, 5000


def averaged_variance_mistakes() -> dict[str, tuple[float, str]]:
    """Exercise 6's named mistakes, ``{name: (value, explanation)}``: the table :func:`averaged_variance`
    uses, and the one its table test reads (the right answer and every mistake at least 5 % apart)."""
    lr, lam, s2, N = EX6_LR, EX6_LAM, EX6_NOISE_VAR, EX6_N
    v_inf = lr * s2 / (lam * (2 - lr * lam))
    phi = 1 - lr * lam
    right = s2 / (lam**2 * N)
    return {
        "independent": (v_inf / N, "V_inf / N treats the N iterates as independent; consecutive "
                                   "iterates are correlated (Cov = V_inf phi^|j|), which multiplies "
                                   f"it by (1 + phi)/(1 - phi) = {(1 + phi) / (1 - phi):g}."),
        "lambda_once": (s2 / (lam * N), "lambda enters squared: sigma^2/(lambda^2 N)."),
        "loss": (s2 / (2 * lam * N), "that is sigma^2/(2 lambda N), the expected loss (lambda/2) Var of "
                                     "the average, not its variance (or 2 lambda written for lambda^2): "
                                     "the variance is sigma^2/(lambda^2 N)."),
        "doubled": (2 * right, "that is twice the variance, 2 sigma^2/(lambda^2 N): a factor 2 too many "
                               "(V_inf ~ lr sigma^2/(2 lambda) without its 2, or the sum over lags "
                               "sum_j phi^|j| = (1 + phi)/(1 - phi) taken twice)."),
        "halved": (right / 2, "that is half the variance, sigma^2/(2 lambda^2 N): (1 + phi)/(1 - phi) is "
                              "about 2/(lr lambda), not 1/(lr lambda), for small steps."),
        "v_inf": (v_inf, "that is V_inf, the variance of one iterate; the average of N of them has a "
                         "variance that falls like 1/N."),
        "n_squared": (s2 / (lam**2 * N**2), "the variance of the average falls like 1/N, not 1/N^2 "
                                            "(the sum of N correlated terms has a variance of order N)."),
        "with_lr": (lr * s2 / (lam**2 * N), "the step cancels from the leading term: no lr in "
                                            "sigma^2/(lambda^2 N)."),
        "sd": (math.sqrt(s2) / (lam**2 * N), "that uses sigma = sqrt(3) where the variance sigma^2 = 3 "
                                             "belongs."),
    }


def averaged_variance(answer: object) -> None:
    """Exercise 6: the leading term sigma^2 / (lambda^2 N) of the variance of the average of N = 5000
    consecutive stationary iterates of x_{k+1} = x_k - lr (lambda x_k + xi_k), lr = 0.1, lambda = 5,
    Var xi = 3: 2.4e-5. (The finite-N correction is 0.03 % here, inside the tolerance.)

    lambda is neither 2 nor 4: with lambda = 2, lambda^2 = 2 lambda, and the loss of the average
    (lambda/2) Var = sigma^2/(2 lambda N) coincided with the variance; with lambda = 4, 2/lambda^2 =
    1/(2 lambda), and twice the variance coincided with the loss. At lambda = 5 the right answer and
    every mistake of :func:`averaged_variance_mistakes` are at least 5 % apart (the table test checks
    that table itself)."""
    lam, s2, N = EX6_LAM, EX6_NOISE_VAR, EX6_N
    number(
        answer, s2 / (lam**2 * N), what="the variance of the averaged iterate", rtol=REL_TOL,
        hint="Var(mean) ~ (V_inf / N) (1 + phi)/(1 - phi) with V_inf = lr sigma^2/(lambda (2 - lr lambda)) "
             "and phi = 1 - lr lambda; the step cancels and leaves sigma^2/(lambda^2 N).",
        mistakes=averaged_variance_mistakes(),
    )


# Exercise 7: the linear scaling rule.
EX7_LR, EX7_B, EX7_NEW_B = 0.0025, 1, 64
# The step at which lesson 02's EXACT floor at B = 64 equals that of B = 1, lr = 0.0025 (the factors
# 1/(2 - lr lambda_i) and the curvature noise included): asserted in the notebook's Checks for section 7.
EX7_EXACT_STEP = 0.1376
EX7_EXACT_RTOL = 0.005  # 0.138, the exact step to three figures, is 0.3 % from it


def scaled_step(answer: object) -> None:
    """Exercise 7: the step at B = 64 that keeps the small-step floor lr tr S/(4B) of B = 1, lr = 0.0025."""
    lr, ratio = EX7_LR, EX7_NEW_B / EX7_B
    hint = "for small steps the floor is about lr tr S / (4B): keep lr / B fixed."
    value = as_number(answer, "the step for B = 64", hint)
    if abs(value / EX7_EXACT_STEP - 1) < EX7_EXACT_RTOL:
        raise NotYet(f"{value:g} is the step that matches the exact floor of section 7, with its factors "
                     "1/(2 - lr lambda_i) (and curvature noise); the question asks for the small-step "
                     f"formula lr tr S/(4B), which keeps lr / B fixed. Hint: {hint}")
    number(
        answer, lr * ratio, what="the step for B = 64", rtol=REL_TOL, hint=hint,
        mistakes={
            "sqrt": (lr * math.sqrt(ratio), "lr * sqrt(B) keeps the standard deviation of one step's "
                                            "noise, lr * sqrt(tr S / B), fixed, not the floor, which "
                                            "depends on lr / B."),
            "unchanged": (lr, "with the step unchanged the floor falls 64 times: the floor depends on "
                              "lr / B, so the step may grow with the batch."),
            "divided": (lr / ratio, "the step grows with the batch, it does not shrink: the floor depends "
                                    "on lr / B."),
            "squared": (lr * ratio**2, "the floor depends on lr / B, not lr / B^2: multiply the step by 64 "
                                       "once."),
        },
    )
