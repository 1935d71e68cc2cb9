"""Table test of lesson 07's exercise checks (lessons_lib.checks.momentum_in_practice).

Right answers, answers rounded within the tolerance the exercises state, and the common wrong
answers, each accepted or rejected with :class:`NotYet` and a message that names the mistake, never
another exception.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from check_tables import fails, passes

from lessons_lib import conventions
from lessons_lib.checks import momentum_in_practice as c07

# The wrong forms below stand for what a student would write by hand; they borrow the library's
# forms by name, since the check refuses an answer that calls conventions.<name> while it runs.
from lessons_lib.conventions import ema as ema_reference
from lessons_lib.conventions import nesterov_lookahead as lookahead_reference
from lessons_lib.conventions import nesterov_reformulated as reformulated_reference
from lessons_lib.conventions import pytorch as pytorch_reference

NOT_NUMBERS = ["1.0", None, ..., True, [1.0, 1.0], np.nan, 1j]

# --------------------------------------------------------------------------- exercise 1 (within 0.1 %)


@pytest.mark.parametrize("answer", [1.0, 0.1 / (1 - 0.9), 1.0005, np.float64(1.0), torch.tensor(1.0)])
def test_exercise_1_right(answer, capsys):
    passes(c07.ema_learning_rate, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (0.01, "wrong way"), (0.1, "same learning rate"), (0.1 / 1.9, "alternating"), (0.19, "1 + beta"),
    (0.1 / 0.9, "not beta"), (10.0, "only the factor"), (1.1, "too large"), (0.9, "too small"),
])
def test_exercise_1_wrong(answer, words):
    assert words in fails(c07.ema_learning_rate, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_1_not_a_number(answer):
    fails(c07.ema_learning_rate, answer)


# --------------------------------------------------------------------------- exercise 2 (within 0.1 %)


@pytest.mark.parametrize("answer", [0.1, 0.5 * (1 - 0.8), 0.10009])
def test_exercise_2_right(answer, capsys):
    passes(c07.undamped_learning_rate, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (2.5, "wrong way"), (0.4, "not dampening"), (0.05, "momentum 0.9 in place"), (5.0, "EMA form"),
    (0.5, "smaller learning rate"), (1.0, "converts twice"), (0.2, "only the factor"),
    (0.01, "wrong way (and the EMA"), (0.3, "too large"), (0.05 * 0.9, "too small"),
])
def test_exercise_2_wrong(answer, words):
    assert words in fails(c07.undamped_learning_rate, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_2_not_a_number(answer):
    fails(c07.undamped_learning_rate, answer)


# --------------------------------------------------------------------------- exercise 3 (relative 1e-9)


def right(grad, x0, lrs, beta):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr in lrs:
        v = beta * v - lr * grad(x)
        x = x + v
        path.append(x.copy())
    return np.array(path)


def polyak(grad, x0, lrs, beta):
    """Polyak's form, x_{k+1} = x_k - lrs[k] grad(x_k) + beta (x_k - x_{k-1}): the same iterates."""
    path = [np.array(x0, dtype=float)]
    previous = path[0]
    for lr in lrs:
        x = path[-1]
        path.append(x - lr * grad(x) + beta * (x - previous))
        previous = x
    return np.array(path)


def as_list(grad, x0, lrs, beta):
    return right(grad, x0, lrs, beta).tolist()


def as_tensor(grad, x0, lrs, beta):
    return torch.from_numpy(right(grad, x0, lrs, beta))


@pytest.mark.parametrize("candidate", [right, polyak, as_list, as_tensor])
def test_exercise_3_right(candidate, capsys):
    passes(c07.sutskever_update, candidate, capsys=capsys)


def calls_the_reference(grad, x0, lrs, beta):
    return conventions.sutskever(grad, x0, np.asarray(lrs), beta, len(lrs))


def test_exercise_3_an_answer_calling_the_reference_is_refused():
    assert "sutskever calls conventions.sutskever" in fails(c07.sutskever_update, calls_the_reference)


def pytorch_form(grad, x0, lrs, beta):
    return pytorch_reference(grad, x0, np.asarray(lrs), beta, len(lrs))


def ema_form(grad, x0, lrs, beta):
    return ema_reference(grad, x0, np.asarray(lrs), beta, len(lrs))


def constant(grad, x0, lrs, beta):
    return right(grad, x0, np.full(len(lrs), lrs[0]), beta)


def nesterov(grad, x0, lrs, beta):
    return lookahead_reference(grad, x0, np.asarray(lrs), beta, len(lrs))


def stale(grad, x0, lrs, beta):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr in lrs:
        x = x + v
        v = beta * v - lr * grad(x)
        path.append(x.copy())
    return np.array(path)


def in_place(grad, x0, lrs, beta):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x]
    for lr in lrs:
        v = beta * v - lr * grad(x)
        x += v
        path.append(x)
    return np.array(path)


def in_place_copied_start(grad, x0, lrs, beta):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr in lrs:
        v = beta * v - lr * grad(x)
        x += v
        path.append(x)
    return np.array(path)


def nesterov_points(grad, x0, lrs, beta):
    return lookahead_reference(grad, x0, np.asarray(lrs), beta, len(lrs), points="lookahead")


def nesterov_reformulated(grad, x0, lrs, beta):
    return reformulated_reference(grad, x0, np.asarray(lrs), beta, len(lrs))


def pytorch_nesterov(grad, x0, lrs, beta):
    return pytorch_reference(grad, x0, np.asarray(lrs), beta, len(lrs), nesterov=True)


def no_start(grad, x0, lrs, beta):
    return right(grad, x0, lrs, beta)[1:]


def float32(grad, x0, lrs, beta):
    return right(grad, x0, lrs, beta).astype(np.float32)


def shifted(grad, x0, lrs, beta):
    return right(grad, x0, [lrs[k - 1] for k in range(len(lrs))], beta)


def delayed(grad, x0, lrs, beta):
    return right(grad, x0, [lrs[max(k - 1, 0)] for k in range(len(lrs))], beta)


def float32_tensor(grad, x0, lrs, beta):
    return torch.from_numpy(right(grad, x0, lrs, beta)).float()


def returns_pair(grad, x0, lrs, beta):
    path = right(grad, x0, lrs, beta)
    return path, path[-1] - path[-2]


def ragged(grad, x0, lrs, beta):
    path = list(right(grad, x0, lrs, beta))
    return [*path[:-1], [1.0, 2.0, 3.0]]


def one_step_short(grad, x0, lrs, beta):
    return right(grad, x0, lrs[:-1], beta)


def appends_before_update(grad, x0, lrs, beta):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = []
    for lr in lrs:
        path.append(x.copy())
        v = beta * v - lr * grad(x)
        x = x + v
    return np.array(path)


def start_appended_before_update(grad, x0, lrs, beta):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr in lrs:
        path.append(x.copy())
        v = beta * v - lr * grad(x)
        x = x + v
    return np.array(path)


def float32_arithmetic(grad, x0, lrs, beta):
    x = np.array(x0, dtype=np.float32)
    v = np.zeros_like(x)
    path = [x.astype(np.float64)]
    for lr in lrs:
        v = np.float32(beta) * v - np.float32(lr) * grad(x).astype(np.float32)
        x = x + v
        path.append(x.astype(np.float64))
    return np.array(path, dtype=np.float64)


def beta_fixed(grad, x0, lrs, beta):
    return right(grad, x0, lrs, 0.9)


def early(grad, x0, lrs, beta):
    return right(grad, x0, [lrs[min(k + 1, len(lrs) - 1)] for k in range(len(lrs))], beta)


def early_crash(grad, x0, lrs, beta):
    return right(grad, x0, [lrs[k + 1] for k in range(len(lrs))], beta)


def damped(grad, x0, lrs, beta):
    return right(grad, x0, np.asarray(lrs) * (1 - beta), beta)


def crashes(grad, x0, lrs, beta):
    raise KeyError("oops")


def not_written(grad, x0, lrs, beta):
    raise NotImplementedError


def returns_none(grad, x0, lrs, beta):
    return None


def wrong_sign(grad, x0, lrs, beta):
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr in lrs:
        v = beta * v + lr * grad(x)
        x = x + v
        path.append(x.copy())
    return np.array(path)


@pytest.mark.parametrize("candidate, words", [
    (pytorch_form, "PyTorch's iterates"), (ema_form, "EMA form"), (constant, "first learning rate"),
    (nesterov, "look-ahead"), (stale, "old velocity"), (no_start, "include the start"),
    (float32, "float32"), (float32_tensor, "float32"),
    (shifted, "off by one"), (delayed, "one step late"), (crashes, "raised KeyError"),
    (not_written, "not written yet"),
    (returns_none, "No answer yet"), (wrong_sign, "your iterate"), ("text", "should be a function"),
    (in_place, "Append a copy"), (in_place_copied_start, "Append a copy"),
    (nesterov_points, "look-ahead points"), (nesterov_reformulated, "look-ahead points"),
    (pytorch_nesterov, "nesterov=True"),
    (returns_pair, "not (path, v)"), (ragged, "ragged"), (one_step_short, "the last iterate is missing"),
    (appends_before_update, "the last iterate is missing"),
    (start_appended_before_update, "appended x before"),
    (float32_arithmetic, "float32 arithmetic"), (beta_fixed, "not a fixed 0.9"), (early, "one step early"),
    (early_crash, "runs past the end"), (damped, "velocity is damped"),
])
def test_exercise_3_wrong(candidate, words):
    assert words in fails(c07.sutskever_update, candidate)


# --------------------------------------------------------------------------- exercise 4 (within 0.1 %)

V = 4 * 0.1 * 1.9 / (0.1 * 3.7)  # sigma_xi^2 = 4
RATIO = 1.9 * (2 - 1) / 3.7


@pytest.mark.parametrize("answer", [V, 2.054, 2.0541])
def test_exercise_4_right(answer, capsys):
    passes(c07.stationary_variance, answer, capsys=capsys)


@pytest.mark.parametrize("answer, words", [
    (4.0, "effective step"), (2.0, "small-step form"), (0.4 / 1.9, "without momentum"),
    (0.4 / (0.1 * 3.7), "(1 + beta)"), (4 * 0.4872, "with a minus"), (4 * 1.0556, "factor 2"),
    (RATIO, "ratio"), (0.5135, "sigma_xi^2 = 4"), (V / 2, "lambda V / 2"), (np.sqrt(V), "standard deviation"),
    (0.1 * V, "1/(1 - beta) is missing"), (2.1, "too large"), (1.9, "too small"),
    (0.2639, "lambda = 2"), (1.0, "sigma_xi = 1"), (0.5, "sigma_xi = 1"), (2.05, "give it to 0.1 %"),
    (2.04, "give it to 0.1 %"), (2.07, "give it to 0.1 %"),
])
def test_exercise_4_wrong(answer, words):
    assert words in fails(c07.stationary_variance, answer)


@pytest.mark.parametrize("answer", NOT_NUMBERS)
def test_exercise_4_not_a_number(answer):
    fails(c07.stationary_variance, answer)
