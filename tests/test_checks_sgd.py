"""Table test of lesson 02's exercise checks (lessons_lib.checks.sgd).

Right answers, rounded right answers (three significant figures, the tolerance the exercises state)
and the common wrong answers, each accepted or rejected as it should be; a rejection is a
:class:`NotYet` whose message names what is wrong.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from check_tables import fails, passes

from lessons_lib.checks import sgd as c02

# ---------------------------------------------------------------- exercise 1: Var of a minibatch mean


@pytest.mark.parametrize("answer", [0.25, 4 / 16, np.float64(0.25), 0.2505])
def test_exercise_1_right(answer, capsys):
    passes(c02.minibatch_variance, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (1.0, "standard deviation"),
    (4.0, "does reduce"),
    (64.0, "sum of the 16"),
    (4 / 256, "B^2 forgets"),
    (0.5, "standard deviation of the mean"),  # sqrt(4/16)
    (4 / 15, "Bessel"),                        # the B - 1 denominator of a sample variance
    (0.267, "Bessel"),
    (0.26, "too large"),
    ("0.25", "not the text"),
    (None, "No answer yet"),
])
def test_exercise_1_wrong(answer, message):
    assert message in fails(c02.minibatch_variance, answer)


# ---------------------------------------------------------------- exercise 2: stationary variance


# lr = 0.1, lambda = 3, noise variance 5: right 0.1 * 5 / (3 * 1.7) = 0.0980392.
V2 = 0.1 * 5.0 / (3.0 * (2 - 0.3))


@pytest.mark.parametrize("answer", [V2, 0.098, 0.0980, 0.09804, np.float64(0.098039), 5 / 51])
def test_exercise_2_right(answer, capsys):
    passes(c02.stationary_variance, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (0.1 * 5 / (2 * 3), "small-step approximation"),              # 0.0833
    (0.1 * 5 / 3, "not lambda"),                                  # 0.167
    (0.01 * 5, "noise added in one step"),                        # 0.05
    (np.sqrt(V2), "standard deviation"),
    (0.1 * 5 / (3 * 2.3), "minus"),
    (0.1 * 5 / 1.7, "lambda is missing"),                         # 0.294
    (0.294, "lambda is missing"),
    # the third review's cases: right by accident when lambda/2 = 1 and s^2 = 1
    (0.1 * 5 / (2 * (2 - 0.3)), "loss floor"),                     # the loss floor of section 4, 0.147
    (1.5 * V2, "loss floor"),                                     # (lambda/2) v
    (0.147, "loss floor"),
    (0.01 / (1 - 0.7**2), "noise variance sigma^2 = 5 is missing"),  # lr^2/(1 - rho^2), 0.0196
    (0.1 * np.sqrt(5) / (3 * 1.7), "standard deviation sqrt(5)"),  # 0.0438
    # the fourth review's case: 5 taken for the standard deviation, noise variance 25 (with lambda = sigma^2
    # = 3 this coincided with "lambda is missing"); the answer 0.490 gets its own message
    (0.1 * 25 / (3 * 1.7), "takes 5 for the standard deviation"),
    (0.490, "takes 5 for the standard deviation"),
    (0.0984, "too large"),                                         # 0.4 % off
    (0.0588, "too small"),                                         # the third round's answer (sigma^2 = 3)
    (0.176, "too large"),                                          # its sigma-for-sigma^2 answer
    (0.0278, "too small"),                                         # the second round's answer
    ("0.0980", "not the text"),
    (None, "No answer"),
    (True, "not a boolean"),
])
def test_exercise_2_wrong(answer, message):
    assert message in fails(c02.stationary_variance, answer)


# ---------------------------------------------------------------- exercise 3: best decay constant


@pytest.mark.parametrize("answer", [5, 5.0, 1 / 0.2, np.int64(5), 5.01])
def test_exercise_3_right(answer, capsys):
    passes(c02.best_decay_constant, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (2.5, "threshold"),                          # 1/(2 lambda)
    (0.2, "units of a step size"),
    (10.0, "4/3 times larger"),
    (25.0, "1/lambda^2 = 25"),                   # 1/lambda^2
    (0.4, "multiplies where it should divide"),  # 2 lambda
    (1 / np.sqrt(0.2), "no square root"),        # the second-round review: 1/(2 lambda) when lambda = 0.25
    (2.24, "no square root"),
    (1.0, "best value for lambda = 1"),          # the lesson's lambda = 1 value
    (4.0, "too small"),                          # the answer for lambda = 0.25, the earlier exercise
    (5.1, "too large"),
    (True, "boolean"),
])
def test_exercise_3_wrong(answer, message):
    assert message in fails(c02.best_decay_constant, answer)


# ---------------------------------------------------------------- exercise 4: minibatch SGD


def right_sgd(x, y, theta0, lr, batches):
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.mean(), (r * x[idx]).mean()])
    return theta


def right_sgd_matrix_form(x, y, theta0, lr, batches):
    theta = np.asarray(theta0, dtype=float)
    for idx in batches:
        a = np.column_stack([np.ones(len(idx)), x[idx]])
        theta = theta - lr * a.T @ (a @ theta - y[idx]) / len(idx)
    return theta


def summed(x, y, theta0, lr, batches):
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.sum(), (r * x[idx]).sum()])
    return theta


def ascent(x, y, theta0, lr, batches):
    return right_sgd(x, y, theta0, -lr, batches)


def full_batch(x, y, theta0, lr, batches):
    return right_sgd(x, y, theta0, lr, [np.arange(len(x))] * len(batches))


def sequential(x, y, theta0, lr, batches):
    t0, t1 = theta0
    for idx in batches:
        t0 = t0 - lr * (t0 + t1 * x[idx] - y[idx]).mean()
        t1 = t1 - lr * ((t0 + t1 * x[idx] - y[idx]) * x[idx]).mean()
    return np.array([t0, t1])


def one_step_short(x, y, theta0, lr, batches):
    """range(len(batches) - 1): the last batch skipped."""
    return right_sgd(x, y, theta0, lr, batches[:-1])


def first_skipped(x, y, theta0, lr, batches):
    """A loop from 1: the first batch skipped."""
    return right_sgd(x, y, theta0, lr, batches[1:])


def reversed_order(x, y, theta0, lr, batches):
    return right_sgd(x, y, theta0, lr, batches[::-1])


def divided_by_m(x, y, theta0, lr, batches):
    """The batch's sum divided by m, as in the loss's 1/(2m), instead of by B."""
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.sum(), (r * x[idx]).sum()]) / len(x)
    return theta


def halved(x, y, theta0, lr, batches):
    """The 1/2 of (1/2m) sum r^2 kept in the gradient."""
    return right_sgd(x, y, theta0, lr / 2, batches)


def doubled(x, y, theta0, lr, batches):
    """The derivative of mean(r^2) without the 1/2: twice the step."""
    return right_sgd(x, y, theta0, 2 * lr, batches)


def deduplicated(x, y, theta0, lr, batches):
    """A repeated index counted once."""
    return right_sgd(x, y, theta0, lr, [np.unique(idx) for idx in batches])


def masked(x, y, theta0, lr, batches):
    """A boolean mask of the batch's indices: a repeated index counts once, and the order is lost."""
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        keep = np.zeros(len(x), dtype=bool)
        keep[idx] = True
        r = theta[0] + theta[1] * x[keep] - y[keep]
        theta = theta - lr * np.array([r.mean(), (r * x[keep]).mean()])
    return theta


def swapped(x, y, theta0, lr, batches):
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([(r * x[idx]).mean(), r.mean()])
    return theta


def first_batch_only(x, y, theta0, lr, batches):
    return right_sgd(x, y, theta0, lr, [batches[0]] * len(batches))


def single_step(x, y, theta0, lr, batches):
    return right_sgd(x, y, theta0, lr, batches[:1])


def restarted_each_step(x, y, theta0, lr, batches):
    """theta = theta0 - lr * gradient at theta0, in every step: only the last step counts."""
    theta0 = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta0[0] + theta0[1] * x[idx] - y[idx]
        theta = theta0 - lr * np.array([r.mean(), (r * x[idx]).mean()])
    return theta


def index_error(x, y, theta0, lr, batches):
    return x[len(x) + 1]


def empty_batch_mean(x, y, theta0, lr, batches):
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.sum(), (r * x[idx]).sum()]) / (len(idx) - len(idx))
    return theta


def consuming(x, y, theta0, lr, batches):
    """A right loop that empties the list it is given (the third-round review: it was told wrong)."""
    theta = np.array(theta0, dtype=float)
    while batches:
        idx = batches.pop(0)
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.mean(), (r * x[idx]).mean()])
    return theta


def shuffled_batches(x, y, theta0, lr, batches):
    """'SGD visits the batches in random order': random.shuffle of the given list."""
    random.Random(1).shuffle(batches)
    return right_sgd(x, y, theta0, lr, batches)


def shuffled_data(x, y, theta0, lr, batches):
    """The data shuffled in place, x and y together."""
    p = np.random.default_rng(1).permutation(len(x))
    x[:], y[:] = x[p], y[p]
    return right_sgd(x, y, theta0, lr, batches)


def shuffled_x(x, y, theta0, lr, batches):
    np.random.default_rng(2).shuffle(x)
    return right_sgd(x, y, theta0, lr, batches)


def centred_x(x, y, theta0, lr, batches):
    x -= x.mean()
    return right_sgd(x, y, theta0, lr, batches)


def popped(x, y, theta0, lr, batches):
    batches.pop()
    return right_sgd(x, y, theta0, lr, batches)


def from_zeros(x, y, theta0, lr, batches):
    return right_sgd(x, y, np.zeros(2), lr, batches)


def product_of_means(x, y, theta0, lr, batches):
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.mean(), r.mean() * x[idx].mean()])
    return theta


@pytest.mark.parametrize("candidate", [right_sgd, right_sgd_matrix_form, consuming,
                                       lambda *args: list(right_sgd(*args))])
def test_exercise_4_right(candidate, capsys):
    passes(c02.minibatch_sgd, candidate, capsys=capsys)


@pytest.mark.parametrize(("candidate", "message"), [
    (summed, "mean over the batch"),
    (divided_by_m, "B/m = 1/5 of the right size"),
    (halved, "half the right size"),
    (doubled, "twice the right size"),
    (ascent, "step up the gradient"),
    (full_batch, "every sample at every step"),
    (sequential, "same theta"),
    (deduplicated, "repeated index once"),
    (masked, "repeated index once"),
    (swapped, "swapped"),
    (first_batch_only, "uses the first batch"),
    (single_step, "single step (with the first batch)"),
    (restarted_each_step, "single step (with the last batch)"),
    (one_step_short, "the last batch is skipped"),        # the second-round review's off-by-one loops
    (first_skipped, "the first batch is skipped"),
    (reversed_order, "reverse order"),
    # the third-round review: inputs changed in place (the reference is computed before the call)
    (shuffled_batches, "changed batches in place"),
    (shuffled_data, "changed x and y in place"),
    (shuffled_x, "changed x in place"),
    (centred_x, "changed x in place"),
    (popped, "changed batches in place"),
    (from_zeros, "start from theta = (0, 0)"),
    (product_of_means, "product of the means"),
    (lambda *args: right_sgd(*args)[0], "shape (2,)"),
    (lambda *args: None, "returned None"),
    (lambda *args: "theta", "not the text"),
    (lambda *args: [1.0, [2.0, 3.0]], "made of numbers"),
    (index_error, "raised IndexError"),
    (lambda *args: right_sgd(*args).astype(np.float32), "float32"),          # single precision
    (lambda *args: right_sgd(*args).astype(np.float32).astype(float), "about 7 digits only"),
    (0.5, "should be a function"),
])
def test_exercise_4_wrong(candidate, message):
    assert message in fails(c02.minibatch_sgd, candidate)


def test_exercise_4_a_crash_is_a_message_not_a_traceback():
    with np.errstate(divide="ignore", invalid="ignore"):
        message = fails(c02.minibatch_sgd, empty_batch_mean)
    assert "m = 5, B = 1" in message


# ---------------------------------------------------------------- exercise 5: a measured variance


def history(seeds, steps=40, seed=12, noise_sd=0.5, lr_on_noise=True, start=1.0, lr=0.3, fresh=True):
    """The lesson's solution: every iterate of ``seeds`` runs of the noisy 1-D model, shape (steps + 1,
    seeds)."""
    rng = np.random.default_rng(seed)
    xs = np.empty((steps + 1, seeds))
    xs[0] = start
    noise = noise_sd * rng.standard_normal(seeds)
    for k in range(steps):
        if fresh:
            noise = noise_sd * rng.standard_normal(seeds)
        xs[k + 1] = xs[k] - lr * (4.0 * xs[k] + noise) if lr_on_noise else (1 - lr * 4.0) * xs[k] - noise
    return xs


def history_lambda(seeds, lam, steps=40, seed=13):
    """The model run with the curvature lam instead of 4."""
    rng = np.random.default_rng(seed)
    xs = np.empty((steps + 1, seeds))
    xs[0] = 1.0
    for k in range(steps):
        xs[k + 1] = xs[k] - 0.3 * (lam * xs[k] + 0.5 * rng.standard_normal(seeds))
    return xs


EXPECTED_5 = 0.3 * 0.25 / (4 * (2 - 1.2))


def from_noise(z):
    """The model run with the standard noise z of shape (steps, seeds) (one row per step)."""
    xs = np.empty((z.shape[0] + 1, z.shape[1]))
    xs[0] = 1.0
    for k in range(z.shape[0]):
        xs[k + 1] = xs[k] - 0.3 * (4.0 * xs[k] + 0.5 * z[k])
    return xs


def scalar_draw(steps, seeds=10_000, seed=30):
    """rng.standard_normal() without a size: one draw per step, the same for every seed."""
    rng = np.random.default_rng(seed)
    return np.array([np.full(seeds, rng.standard_normal()) for _ in range(steps)])


def shared_from_step_2(steps=40, seed=31):
    """Runs 5000 + i reuse run i's noise from step 2 on: their final values agree to about 1e-13."""
    z = np.random.default_rng(seed).standard_normal((steps, 10_000))
    z[1:, 5000:] = z[1:, :5000]
    return z


def antithetic(steps=40, seed=32):
    """Runs 5000 + i draw the negative of run i's noise: (z, -z)."""
    z = np.random.default_rng(seed).standard_normal((steps, 5000))
    return np.hstack([z, -z])


def every_other_step(steps, seeds=10_000, seed=33):
    """A draw reused at the next step: steps 1 and 2 share one, 3 and 4 the next, ..."""
    z = np.random.default_rng(seed).standard_normal((steps, seeds))
    z[1::2] = z[0::2][: len(z[1::2])]
    return z


def autoregressive(a, steps, seeds=10_000, seed=34):
    """Noise correlated from step to step: z_k = a z_(k-1) + sqrt(1 - a^2) e_k (variance 1)."""
    e = np.random.default_rng(seed).standard_normal((steps, seeds))
    z = np.empty_like(e)
    z[0] = e[0]
    for k in range(1, steps):
        z[k] = a * z[k - 1] + np.sqrt(1 - a * a) * e[k]
    return z


def test_exercise_5_standard_error_of_a_variance():
    """sqrt(2/(n-1)), the exercise's text and the check's message, against a simulation."""
    rng = np.random.default_rng(0)
    variances = rng.standard_normal((400, 10_000)).var(axis=1, ddof=1)
    assert abs(variances.std() / np.sqrt(2 / 9_999) - 1) < 0.1


@pytest.mark.parametrize("answer", [
    history(20_000),
    history(10_000, seed=3),
    history(10_000, steps=20, seed=4),
    history(10_000, seed=5).tolist(),
    history(12_000, steps=300, seed=6),
])
def test_exercise_5_right(answer, capsys):
    out = passes(c02.measured_stationary_variance, answer, capsys=capsys)
    assert "relative standard error" in out and "follow the model" in out


def test_exercise_5_right_on_many_seeds(capsys):
    """A correct measurement passes on every one of 20 seeds (it would fail about once in 2,500)."""
    for seed in range(100, 120):
        passes(c02.measured_stationary_variance, history(10_000, steps=20, seed=seed), capsys=capsys)


V5 = EXPECTED_5
DRAWN = np.random.default_rng(7).normal(0, np.sqrt(V5), 10_000)


def drawn_rows(steps=40, seeds=10_000, start=1.0):
    """Rows drawn from the formula's stationary distribution, independently of each other."""
    rows = np.random.default_rng(8).normal(0, np.sqrt(V5), (steps + 1, seeds))
    rows[0] = start
    return rows


def stationary_then_one_step(seeds=10_000, steps=20):
    """x_(K-1) drawn from the formula, x_K one step of the model from it, the rest zeros: a faked run."""
    rng = np.random.default_rng(9)
    xs = np.zeros((steps + 1, seeds))
    xs[0] = 1.0
    xs[-2] = rng.normal(0, np.sqrt(V5), seeds)
    xs[-1] = -0.2 * xs[-2] - 0.3 * 0.5 * rng.standard_normal(seeds)
    return xs


def int_array(steps=40, seeds=10_000):
    """np.full((steps + 1, n), 1): an integer array, every assignment truncated."""
    rng = np.random.default_rng(36)
    xs = np.full((steps + 1, seeds), 1)
    for k in range(steps):
        xs[k + 1] = xs[k] - 0.3 * (4.0 * xs[k] + 0.5 * rng.standard_normal(seeds))
    return xs


def short_loop(make, steps=40, seeds=10_000):
    """The loop one step short, range(steps - 1): the last row keeps what the array was made with."""
    xs = make((steps + 1, seeds))
    xs[0] = 1.0
    xs[1:-1] = history(seeds, steps=steps - 1, seed=37)[1:]
    return xs


def row_too_many(steps=40, seeds=10_000):
    """np.zeros((steps + 2, n)) filled for steps steps: one zero row too many."""
    return np.vstack([history(seeds, steps=steps, seed=38), np.zeros((1, seeds))])


def not_run(steps=40, seeds=10_000):
    """np.ones((steps + 1, n)) and the loop never run."""
    return np.ones((steps + 1, seeds))


def resampled_residuals(size, steps=40, seeds=10_000):
    """Noise resampled from a finite set of centred residuals, scaled to variance 1: independent draws."""
    rng = np.random.default_rng(39)
    pool = rng.standard_normal(size)
    pool = (pool - pool.mean()) / pool.std()
    return rng.choice(pool, (steps, seeds))


def shifted_noise():
    rng = np.random.default_rng(10)
    xs = np.empty((41, 10_000))
    xs[0] = 1.0
    for k in range(40):
        xs[k + 1] = xs[k] - 0.3 * (4.0 * xs[k] + 0.5 * rng.standard_normal(10_000) + 0.05)
    return xs


@pytest.mark.parametrize(("answer", "message"), [
    (EXPECTED_5, "formula's value"),                        # computed, not measured
    (history(20_000)[-1].var(), "not a single number"),     # the measured number instead of the runs
    # the second review's cases: samples that never ran the model
    (DRAWN, "final iterates alone are not enough"),                              # rng.normal(0, sqrt(v), n)
    (np.sqrt(V5) * np.tile([1.0, -1.0], 5000), "final iterates alone are not enough"),  # a fixed array
    (-0.3 * 0.5 * np.random.default_rng(11).standard_normal(10_000), "not enough"),    # one step from 0
    (np.vstack([np.zeros(10_000), -0.3 * 0.5 * np.random.default_rng(11).standard_normal(10_000)]),
     "1 step: run at least 20"),                            # one step from 0, as a history
    (drawn_rows(), "unrelated to the row before"),
    (np.vstack([np.ones(10_000)] + [np.sqrt(V5) * np.tile([1.0, -1.0], 5000)] * 40), "only 1 of your"),
    (stationary_then_one_step(), "same value x_1 = 0: row 1 was never filled"),
    (drawn_rows(start=0.0), "row 0 should be the start"),
    (history(20_000, start=0.0), "row 0 should be the start"),
    # the model run wrongly
    (history(20_000, noise_sd=np.sqrt(0.5)), "0.5 is the standard deviation"),
    (history(20_000, noise_sd=0.25), "standard deviation 0.25"),
    (history(20_000, lr_on_noise=False), "multiplied by lr"),
    (history(20_000, lr=0.3 / 4), "1 - lr*lambda = -0.2 (both multiply"),   # lambda dropped: factor 0.7
    (history(20_000, fresh=False), "correlated"),
    # the third review's cases: a wrong step or curvature is named, not taken for correlated noise
    (history(20_000, lr=0.1), "lr = 0.1 with lambda = 4"),          # factor +0.6
    (history(20_000, lr=0.15), "lr = 0.15 with lambda = 4"),        # factor +0.4
    (history_lambda(20_000, lam=2.0), "lambda = 2 with lr = 0.3"),  # factor +0.4
    (shifted_noise(), "mean 0"),
    (history(20_000, steps=10), "run at least 20"),
    (history(800), "800 seeds"),
    (history(800), "at least 10,000"),
    (history(20_000).T, "transpose"),
    (np.full((41, 20_000), 0.1), "row 0 should be the start"),
    (np.append(history(10_000), np.full((1, 10_000), np.nan), axis=0), "not finite"),
    (history(10_000)[None], "shape (steps + 1, n)"),
    ("0.0234", "not the text"),
    (None, "No measurement yet"),
    # the review's cases: runs that are not all independent
    (np.tile(history(5_000, seed=21), 2), "only 5,000 of your 10,000 runs differ"),   # 5,000 runs twice
    (np.hstack([history(1_000, seed=22)] * 10), "only 1,000 of your 10,000 runs differ"),  # a seed per chunk
    (np.hstack([history(500, seed=23)] * 20), "only 500 of your 10,000 runs differ"),
    (np.ones((21, 10_000)), "x_1 = 1, as in the row before: row 1 was never filled"),  # a constant array
    # the second-round review's cases: noise shared between runs from some step on, or with a minus sign
    (from_noise(shared_from_step_2()), "only 5,000 of your 10,000 runs differ at step 2"),
    (from_noise(antithetic()), "only 5,000 of your 10,000 runs differ at step 1"),
    # ... the scalar draw (one number per step for every seed), at 20 and 100 steps
    (from_noise(scalar_draw(20)), "rng.standard_normal() without a size"),
    (from_noise(scalar_draw(100)), "rng.standard_normal() without a size"),
    # ... and correlated noise, which also moves the fitted factor: named as correlated, not as lr or lambda
    # (by the residual test before the fit is blamed, or by the noise test when the factor is close)
    (from_noise(every_other_step(20)), "is correlated"),
    (from_noise(every_other_step(100)), "is correlated"),
    (from_noise(autoregressive(0.05, 20)), "is correlated"),
    (from_noise(autoregressive(0.05, 100)), "is correlated"),
    (from_noise(autoregressive(-0.05, 100)), "is correlated"),
    (from_noise(autoregressive(0.3, 20)), "is correlated"),
    (from_noise(autoregressive(0.3, 100)), "is correlated"),
    # the third-round review: slips that are not shared noise, named as what they are
    (int_array(), "holds integers"),
    (short_loop(np.zeros), "row 40 was never filled"),      # range(steps - 1)
    (row_too_many(), "row 41 was never filled"),            # np.zeros((steps + 2, n))
    (not_run(), "row 1 was never filled"),                  # np.ones(...), the loop not run
    (history(10_000, steps=80)[::2], "every other iterate"),
    # ... and noise that is independent but takes few values: the check needs continuous noise
    (from_noise(np.random.default_rng(35).choice([-1.0, 1.0], (40, 10_000))), "continuous, normal noise"),
    (from_noise(resampled_residuals(1979)), "continuous, normal noise"),
    (from_noise(resampled_residuals(40)), "continuous, normal noise"),
    (history(10_000).astype(np.float16), "float16"),
    (from_noise(np.vstack([np.random.default_rng(40).standard_normal((20, 10_000)), np.zeros((20, 10_000))])),
     "step 21 adds no noise"),
    (from_noise(np.vstack([np.zeros((1, 10_000)), np.random.default_rng(41).standard_normal((39, 10_000))])),
     "step 1 adds no noise"),
])
def test_exercise_5_wrong(answer, message):
    assert message in fails(c02.measured_stationary_variance, answer)


def test_exercise_5_unlucky_final_variance_is_told_as_chance():
    """Runs that follow the model but whose last row's variance is 6 % off (rescaled by hand)."""
    scaled = history(20_000)
    scaled[-1] *= 1.03
    message = fails(c02.measured_stationary_variance, scaled)
    assert "above the formula" in message
    assert "about once in 1,700,000 tries" in message  # 20,000 seeds: p = 6e-7
    smaller = history(10_000, seed=3)
    smaller[-1] *= 1.03
    assert "about once in 2,500 tries" in fails(c02.measured_stationary_variance, smaller)  # 10,000 seeds


def test_exercise_5_constant_array_gives_no_warning():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fails(c02.measured_stationary_variance, np.ones((21, 10_000)))
    assert c02._lag_correlation(np.zeros((20, 10))) == 0.0


# ---------------------------------------------------------------- exercise 6: the averaged iterate

V6 = 3.0 / (5.0**2 * 5000)  # sigma^2 / (lambda^2 N) = 2.4e-5, lr = 0.1, lambda = 5
V6_INF = 0.1 * 3.0 / (5.0 * 1.5)  # the stationary variance of one iterate


@pytest.mark.parametrize("answer", [V6, 2.4e-5, 0.000024, np.float64(2.4e-5),
                                    # the exact finite-N variance, 0.03 % below the leading term
                                    V6_INF / 5000**2 * (5000 + 2 * sum((5000 - j) * 0.5**j
                                                                       for j in range(1, 5000)))])
def test_exercise_6_right(answer, capsys):
    passes(c02.averaged_variance, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (V6_INF / 5000, "treats the N iterates as independent"),            # V_inf / N
    (3.0 / (5.0 * 5000), "lambda enters squared"),
    (V6_INF, "variance of one iterate"),                                 # V_inf
    (3.0 / (25.0 * 5000**2), "not 1/N^2"),
    (0.1 * 3.0 / (25.0 * 5000), "step cancels"),
    (np.sqrt(3.0) / (25.0 * 5000), "sigma = sqrt(3)"),
    # the second-round review: the loss (lambda/2) Var of the average, and 2 lambda for lambda^2
    ((5.0 / 2) * V6, "expected loss (lambda/2) Var"),
    (3.0 / (2 * 5.0 * 5000), "2 lambda written for lambda^2"),
    (6e-5, "expected loss"),
    # the third-round review: twice and half the answer (at lambda = 4 twice the answer was the loss)
    (2 * V6, "twice the variance"),
    (4.8e-5, "twice the variance"),
    (V6 / 2, "half the variance"),
    (1.2e-5, "half the variance"),
    (1.5e-4, "too large"),                                     # the first exercise's answer (lambda = 2)
    (3.75e-5, "too large"),                                    # the second one's (lambda = 4)
    (2.41e-5, "too large"),
    (None, "No answer"),
])
def test_exercise_6_wrong(answer, message):
    assert message in fails(c02.averaged_variance, answer)


def test_exercise_6_mistakes_are_told_apart():
    """The right answer and every named mistake of the check's own table at least 5 % apart (so no
    mistake passes or is misnamed), and each mistake gets its own message."""
    values = {"right": V6} | {name: v for name, (v, _) in c02.averaged_variance_mistakes().items()}
    assert {"doubled", "halved", "loss"} <= set(values)
    names = list(values)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert abs(values[a] / values[b] - 1) >= 0.05, (a, b)
    for name, (value, explanation) in c02.averaged_variance_mistakes().items():
        assert explanation in fails(c02.averaged_variance, value), name


# ---------------------------------------------------------------- exercise 7: the linear scaling rule


@pytest.mark.parametrize("answer", [0.16, 0.0025 * 64, 0.1600, np.float64(0.16)])
def test_exercise_7_right(answer, capsys):
    passes(c02.scaled_step, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (0.02, "sqrt(B)"),
    (0.0025, "step unchanged"),
    (0.0025 / 64, "does not shrink"),
    (0.0025 * 64**2, "not lr / B^2"),
    (0.17, "too large"),
    # the third-round review: the step that keeps the exact floor, with 1/(2 - lr lambda_i)
    (0.138, "matches the exact floor"),
    (0.1376, "matches the exact floor"),
    (0.15, "too small"),
    ("0.16", "not the text"),
])
def test_exercise_7_wrong(answer, message):
    assert message in fails(c02.scaled_step, answer)
