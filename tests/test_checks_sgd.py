"""Table test of lesson 02's exercise checks (lessons_lib.checks.sgd).

Right answers, rounded right answers (three significant figures, the tolerance the exercises state)
and the common wrong answers, each accepted or rejected as it should be; a rejection is a
:class:`NotYet` whose message names what is wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib.checks import NotYet
from lessons_lib.checks import sgd as c02


def passes(check, *args, capsys):
    check(*args)
    out = capsys.readouterr().out
    assert out.startswith("Correct:"), out
    return out


def fails(check, *args):
    with pytest.raises(NotYet) as error:
        check(*args)
    assert str(error.value)
    return str(error.value)


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


@pytest.mark.parametrize("candidate", [right_sgd, right_sgd_matrix_form,
                                       lambda *args: list(right_sgd(*args))])
def test_exercise_4_right(candidate, capsys):
    passes(c02.minibatch_sgd, candidate, capsys=capsys)


@pytest.mark.parametrize(("candidate", "message"), [
    (summed, "mean over the batch"),
    (ascent, "step up the gradient"),
    (full_batch, "every sample at every step"),
    (sequential, "same theta"),
    (one_step_short, "expected"),
    (lambda *args: right_sgd(*args)[0], "shape (2,)"),
    (0.5, "should be a function"),
])
def test_exercise_4_wrong(candidate, message):
    assert message in fails(c02.minibatch_sgd, candidate)


def test_exercise_4_stub_says_not_written():
    def stub(*args):
        raise NotImplementedError

    assert "not written yet" in fails(c02.minibatch_sgd, stub)


# ---------------------------------------------------------------- exercise 5: a measured variance


def measured(seeds, steps=100, seed=12, noise_sd=0.5):
    rng = np.random.default_rng(seed)
    xs = np.zeros(seeds)
    for _ in range(steps):
        xs = xs - 0.3 * (4.0 * xs + noise_sd * rng.standard_normal(seeds))
    return xs.var()


EXPECTED_5 = 0.3 * 0.25 / (4 * (2 - 1.2))


@pytest.mark.parametrize("answer", [measured(20_000), measured(20_000, seed=3), EXPECTED_5 * 1.04,
                                    EXPECTED_5 * 0.96])
def test_exercise_5_right(answer, capsys):
    passes(c02.measured_stationary_variance, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (np.sqrt(EXPECTED_5), "standard deviation"),
    (measured(20_000, noise_sd=np.sqrt(0.5)), "0.5 is the standard deviation"),
    (0.3 * 0.25 / 8, "small-step approximation"),
    (EXPECTED_5 * 1.08, "above the formula"),
    (EXPECTED_5 * 0.9, "below the formula"),
    (-0.01, "positive"),
    ("0.0234", "not the text"),
    (None, "No measurement yet"),
])
def test_exercise_5_wrong(answer, message):
    assert message in fails(c02.measured_stationary_variance, answer)
