"""Table test of lesson 09's exercise checks (lessons_lib.checks.claims).

Right answers (exact and rounded within the tolerance the exercise states) print "Correct: ...";
wrong answers raise :class:`NotYet` with a message naming the mistake, never another exception.
Expected values are written out here from the formulas, independently of the check module.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lessons_lib import surfaces
from lessons_lib.checks import NotYet
from lessons_lib.checks import claims as c09


def passes(check, *args, capsys):
    check(*args)
    assert capsys.readouterr().out.startswith("Correct:")


def fails(check, *args, match):
    with pytest.raises(NotYet, match=match):
        check(*args)


# --------------------------------------------------------------------------- exercise 1: v_2

V2 = np.array([0.9 * -0.001 + 0.01 * -0.05, 0.9 * -0.002 + 0.01 * -0.1])  # [-0.0014, -0.0028]


@pytest.mark.parametrize("answer", [V2, [-0.0014, -0.0028], (-0.0014, -0.0028),
                                    torch.tensor([-0.0014, -0.0028]), [-0.0014004, -0.0027996]])
def test_exercise_1_right(answer, capsys):
    passes(c09.worked_example_v2, answer, capsys=capsys)


@pytest.mark.parametrize("answer, match", [
    ([-0.0085, -0.0135], "seed's number"),
    ([-0.0005, -0.001], "left out beta \\* v_1"),
    ([-0.0015, -0.003], "multiplied by beta = 0.9"),
    ([-0.0509, -0.1018], "multiplied by the learning rate"),
    ([0.0014, 0.0028], "sign is flipped"),
    ([-0.0019, -0.0023], "swapped"),
    ([-0.0014, -0.0029], "is not v_2"),
    ([-0.0014], "shape"),
    ("[-0.0014, -0.0028]", "text"),
    (None, "No answer"),
])
def test_exercise_1_wrong(answer, match):
    fails(c09.worked_example_v2, answer, match=match)


# --------------------------------------------------------------------------- exercise 2: thresholds

HB, NE = (2 + 2 * 0.5) / 10, 2 * (1 + 0.5) / ((1 + 2 * 0.5) * 10)  # 0.3 and 0.15


@pytest.mark.parametrize("hb, ne", [(HB, NE), (0.29999, 0.14999), (0.2995, 0.1498), (np.float64(0.3), 0.15)])
def test_exercise_2_right(hb, ne, capsys):
    passes(c09.nesterov_step_claim, hb, ne, "does not hold", capsys=capsys)


@pytest.mark.parametrize("hb, ne, verdict, match", [
    (0.2, NE, "does not hold", "gradient descent's threshold"),
    (3.0, NE, "does not hold", "flat direction's threshold"),
    (0.15, NE, "does not hold", "half the threshold"),
    (0.29, NE, "does not hold", "too small for heavy ball's stability threshold"),
    (HB, HB, "does not hold", "heavy ball's threshold"),
    (HB, 0.2, "does not hold", "gradient descent's threshold"),
    (HB, 0.16, "does not hold", "too large for Nesterov's stability threshold"),
    (HB, NE, "holds", "does not fit your numbers"),
    (HB, NE, "misleading", "does not fit your numbers"),
    (HB, NE, "Does not hold", "exactly as in claims.VERDICTS"),
    (HB, NE, "false", "one of"),
    ("0.3", NE, "does not hold", "text"),
])
def test_exercise_2_wrong(hb, ne, verdict, match):
    fails(c09.nesterov_step_claim, hb, ne, verdict, match=match)


# --------------------------------------------------------------------------- exercise 3: the fixed function

def right(learning_rate, momentum, params, grad, iters):
    params = [np.array(p, dtype=float) for p in params]
    v = [np.zeros_like(p) for p in params]
    for _ in range(iters):
        for j, g in enumerate(grad(params)):
            v[j] = momentum * v[j] - learning_rate * np.asarray(g, dtype=float)
            params[j] = params[j] + v[j]
    return params


def right_as_tuple(*args):
    return tuple(right(*args))


def frozen_gradient(learning_rate, momentum, params, grad, iters):  # the seed's bug
    g0 = grad(params)
    params = [np.array(p, dtype=float) for p in params]
    v = [np.zeros_like(p) for p in params]
    for _ in range(iters):
        for j, g in enumerate(g0):
            v[j] = momentum * v[j] - learning_rate * g
            params[j] = params[j] + v[j]
    return params


def in_place(learning_rate, momentum, params, grad, iters):  # changes the caller's arrays
    v = [np.zeros_like(p, dtype=float) for p in params]
    for _ in range(iters):
        for j, g in enumerate(grad(params)):
            v[j] = momentum * v[j] - learning_rate * g
            params[j] += v[j]
    return params


def ascent(learning_rate, momentum, params, grad, iters):
    return right(-learning_rate, momentum, params, grad, iters)


def no_decay(learning_rate, momentum, params, grad, iters):
    return right(learning_rate, 1.0, params, grad, iters) if iters < 20 else right(learning_rate, 0.0, params,
                                                                                     grad, iters)


def one_array(learning_rate, momentum, params, grad, iters):
    return right(learning_rate, momentum, params, grad, iters)[0]


def crashes(learning_rate, momentum, params, grad, iters):
    raise ZeroDivisionError("oops")


def not_written(learning_rate, momentum, params, grad, iters):
    raise NotImplementedError


@pytest.mark.parametrize("candidate", [right, right_as_tuple])
def test_exercise_3_right(candidate, capsys):
    passes(c09.fixed_momentum_optimizer, candidate, capsys=capsys)


@pytest.mark.parametrize("candidate, match", [
    (frozen_gradient, "first gradient"),
    (in_place, "changed the caller's arrays"),
    (ascent, "differs from momentum.s|overflow"),  # climbing overflows: a warning, or an error under -W error
    (no_decay, "differs from momentum's"),
    (one_array, "return the list"),
    (crashes, "raised ZeroDivisionError"),
    (0.1, "should be a function"),
])
def test_exercise_3_wrong(candidate, match):
    fails(c09.fixed_momentum_optimizer, candidate, match=match)


def test_exercise_3_stub_raises_not_implemented():
    with pytest.raises(NotImplementedError):
        c09.fixed_momentum_optimizer(not_written)


def test_exercise_3_reference_is_momentum():
    rosen = surfaces.get("rosenbrock")
    ours = right(1e-3, 0.9, [np.array([-1.5, 2.0])], lambda ps: [rosen.grad(ps[0])], 200)[0]
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64)
    opt = torch.optim.SGD([p], lr=1e-3, momentum=0.9)
    for _ in range(200):
        p.grad = torch.from_numpy(surfaces.get("rosenbrock").grad(p.numpy()))
        opt.step()
    assert np.allclose(ours, p.numpy(), rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- exercise 4: best beta per kappa

def beta_star(kappa):
    return ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)) ** 2


EXACT = {k: beta_star(k) for k in (10, 100, 1000, 10_000)}  # 0.270, 0.669, 0.881, 0.961


@pytest.mark.parametrize("answers", [
    EXACT,
    {k: round(v, 2) for k, v in EXACT.items()},
    {k: v + 0.019 for k, v in EXACT.items()},
    {10: 0.274, 100: 0.672, 1000: 0.882, 10_000: 0.962},  # the lesson's grid scan
    {10: np.float64(0.27), 100: 0.67, 1000: 0.88, 10_000: torch.tensor(0.96)},
])
def test_exercise_4_right(answers, capsys):
    passes(c09.best_beta_per_kappa, answers, capsys=capsys)


def rate(k):
    return (math.sqrt(k) - 1) / (math.sqrt(k) + 1)


@pytest.mark.parametrize("answers, match", [
    ({k: 0.9 for k in EXACT}, "every kappa"),
    ({k: rate(k) for k in EXACT}, "best rate, not the beta"),
    ({**EXACT, 10_000: 0.9}, "kappa = 10000"),
    ({**EXACT, 10: 0.5}, "kappa = 10 "),
    ({**EXACT, 100: EXACT[100] + 0.03}, "kappa = 100 "),
    ({10: 0.27, 100: 0.67, 1000: 0.88}, "no entry"),
    ([0.27, 0.67, 0.88, 0.96], "dict"),
    ({**EXACT, 10: "0.27"}, "text"),
])
def test_exercise_4_wrong(answers, match):
    fails(c09.best_beta_per_kappa, answers, match=match)
