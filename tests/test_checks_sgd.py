"""Table test of lesson 02's exercise checks (lessons_lib.checks.sgd).

Right answers, rounded right answers (three significant figures, the tolerance the exercises state)
and the common wrong answers, each accepted or rejected as it should be; a rejection is a
:class:`NotYet` whose message names what is wrong.
"""

from __future__ import annotations

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
    (0.26, "too large"),
    ("0.25", "not the text"),
    (None, "No answer yet"),
])
def test_exercise_1_wrong(answer, message):
    assert message in fails(c02.minibatch_variance, answer)


# ---------------------------------------------------------------- exercise 2: stationary variance


@pytest.mark.parametrize("answer", [0.1 / (2 * 1.8), 0.0278, 0.02778, np.float64(0.027778)])
def test_exercise_2_right(answer, capsys):
    passes(c02.stationary_variance, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (0.025, "small-step approximation"),
    (0.05, "not lambda"),
    (0.01, "noise added in one step"),
    (np.sqrt(0.1 / 3.6), "standard deviation"),
    (0.1 / (2 * 2.2), "minus"),
    (0.028, "too large"),  # two significant figures: 0.8 % off
    ("0.0278", "not the text"),
])
def test_exercise_2_wrong(answer, message):
    assert message in fails(c02.stationary_variance, answer)


# ---------------------------------------------------------------- exercise 3: best decay constant


@pytest.mark.parametrize("answer", [4, 4.0, 1 / 0.25, np.int64(4)])
def test_exercise_3_right(answer, capsys):
    passes(c02.best_decay_constant, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (2.0, "threshold"),
    (0.25, "units of a step size"),
    (8.0, "4/3 times larger"),
    (4.1, "too large"),
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
    return right_sgd(x, y, theta0, lr, batches[:-1])


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


def index_error(x, y, theta0, lr, batches):
    return x[len(x) + 1]


def empty_batch_mean(x, y, theta0, lr, batches):
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        r = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([r.sum(), (r * x[idx]).sum()]) / (len(idx) - len(idx))
    return theta


@pytest.mark.parametrize("candidate", [right_sgd, right_sgd_matrix_form,
                                       lambda *args: list(right_sgd(*args))])
def test_exercise_4_right(candidate, capsys):
    passes(c02.minibatch_sgd, candidate, capsys=capsys)


@pytest.mark.parametrize(("candidate", "message"), [
    (summed, "mean over the batch"),
    (divided_by_m, "B/m = 1/5 of the right size"),
    (halved, "half the right size"),
    (ascent, "step up the gradient"),
    (full_batch, "every sample at every step"),
    (sequential, "same theta"),
    (one_step_short, "expected"),
    (lambda *args: right_sgd(*args)[0], "shape (2,)"),
    (lambda *args: None, "returned None"),
    (lambda *args: "theta", "not the text"),
    (lambda *args: [1.0, [2.0, 3.0]], "made of numbers"),
    (index_error, "raised IndexError"),
    (0.5, "should be a function"),
])
def test_exercise_4_wrong(candidate, message):
    assert message in fails(c02.minibatch_sgd, candidate)


def test_exercise_4_a_crash_is_a_message_not_a_traceback():
    with np.errstate(divide="ignore", invalid="ignore"):
        message = fails(c02.minibatch_sgd, empty_batch_mean)
    assert "m = 5, B = 1" in message


def test_exercise_4_stub_is_not_hidden():
    """A student copy's stub raises NotImplementedError: it must stop the notebook, as it does."""
    def stub(*args):
        raise NotImplementedError

    with pytest.raises(NotImplementedError):
        c02.minibatch_sgd(stub)


# ---------------------------------------------------------------- exercise 5: a measured variance


def final_iterates(seeds, steps=100, seed=12, noise_sd=0.5, lr_on_noise=True, start=0.0):
    """The lesson's solution: the final iterates of ``seeds`` runs of the noisy 1-D model."""
    rng = np.random.default_rng(seed)
    xs = np.full(seeds, start)
    for _ in range(steps):
        noise = noise_sd * rng.standard_normal(seeds)
        xs = xs - 0.3 * (4.0 * xs + noise) if lr_on_noise else (1 - 0.3 * 4.0) * xs - noise
    return xs


EXPECTED_5 = 0.3 * 0.25 / (4 * (2 - 1.2))


def test_exercise_5_standard_error_of_a_variance():
    """sqrt(2/(n-1)), the exercise's text and the check's message, against a simulation."""
    rng = np.random.default_rng(0)
    variances = rng.standard_normal((400, 10_000)).var(axis=1, ddof=1)
    assert abs(variances.std() / np.sqrt(2 / 9_999) - 1) < 0.1


@pytest.mark.parametrize("answer", [
    final_iterates(20_000),
    final_iterates(10_000, seed=3),
    list(final_iterates(10_000, seed=4)),
    final_iterates(20_000, steps=10, start=1.0),  # (1 - lr lambda)^10 = 1e-7: the start is forgotten
])
def test_exercise_5_right(answer, capsys):
    out = passes(c02.measured_stationary_variance, answer, capsys=capsys)
    assert "relative standard error" in out


@pytest.mark.parametrize(("answer", "message"), [
    (EXPECTED_5, "formula's value"),                           # the review's case: computed, not measured
    (final_iterates(20_000).var(), "not a single number"),     # the measured number instead of the samples
    (final_iterates(800), "800 seeds"),
    (final_iterates(800), "at least 10,000"),
    (final_iterates(20_000, noise_sd=np.sqrt(0.5)), "0.5 is the standard deviation"),
    (final_iterates(20_000, noise_sd=0.25), "standard deviation 0.25"),
    (final_iterates(20_000, lr_on_noise=False), "multiplied by lr"),
    (final_iterates(20_000, steps=2, start=5.0), "start is not forgotten"),
    (np.full(20_000, 0.1), "all your final iterates are equal"),
    (final_iterates(20_000) * 1.05, "above the formula"),
    (final_iterates(20_000) * 0.94, "below the formula"),
    (np.vstack([final_iterates(20_000)] * 3), "shape (n,)"),
    (np.append(final_iterates(20_000), np.nan), "not finite"),
    ("0.0234", "not the text"),
    (None, "No measurement yet"),
])
def test_exercise_5_wrong(answer, message):
    assert message in fails(c02.measured_stationary_variance, answer)
