"""Table test of lesson 14's exercise checks (lessons_lib.checks.claims).

Right answers (exact and rounded within the tolerance the exercise states) print "Correct: ...";
wrong answers raise :class:`NotYet` with a message naming the mistake, never another exception.
Expected values are written out here from the formulas, independently of the check module.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from check_tables import fails, passes

from lessons_lib import surfaces
from lessons_lib.checks import claims as c09

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
    ([-0.0028, -0.0014], "the two components are swapped"),  # the right output in the wrong order
    ([-0.0014, -0.0029], "is not v_2"),
    ([-0.0014], "shape"),
    ("[-0.0014, -0.0028]", "text"),
    (None, "No answer"),
])
def test_exercise_1_wrong(answer, match):
    fails(c09.worked_example_v2, answer, match=match)


# --------------------------------------------------------------------------- exercise 2: thresholds

HB, NE = (2 + 2 * 0.9) / 10, 2 * (1 + 0.9) / ((1 + 2 * 0.9) * 10)  # 0.38 and 0.135714


@pytest.mark.parametrize("hb, ne", [(HB, NE), (0.38, 0.1357), (0.3800, 0.1357),  # 4 significant figures
                                    (0.379995, 0.135712),  # the solution's scan (steps of 5e-6)
                                    (0.38004, 0.13575), (0.37996, 0.13567),  # just inside 0.00005
                                    (np.float64(0.38), 0.1357), (0.38, torch.tensor(0.1357))])
def test_exercise_2_right(hb, ne, capsys):
    passes(c09.nesterov_step_claim, hb, ne, "does not hold", capsys=capsys)


@pytest.mark.parametrize("hb, ne, verdict, match", [
    (0.2, NE, "does not hold", "gradient descent's threshold"),
    (3.8, NE, "does not hold", "flat direction's threshold"),
    (0.19, NE, "does not hold", "half the threshold"),
    (NE, NE, "does not hold", "that is Nesterov's threshold"),
    (0.37, NE, "does not hold", "too small for heavy ball's stability threshold"),
    (0.3, NE, "does not hold", "too small for heavy ball's stability threshold"),  # beta = 0.5's answer
    (HB, HB, "does not hold", "heavy ball's threshold"),
    (HB, 0.2, "does not hold", "gradient descent's threshold"),
    (HB, 0.19, "does not hold", "half the heavy ball's threshold, not Nesterov's"),  # (1 + beta)/L
    (HB, 1.357, "does not hold", "flat direction's threshold"),
    (HB, 0.06786, "does not hold", "half the threshold: Nesterov's bound"),  # 4 significant figures
    (HB, 0.15, "does not hold", "too large for Nesterov's stability threshold"),  # beta = 0.5's answer
    (HB, 0.1366, "does not hold", "too large for Nesterov's stability threshold"),  # 0.65 % off
    (0.378, NE, "does not hold", "too small for heavy ball's stability threshold"),  # 0.53 % off
    # the review's case: where the ringing interval ends, 0.07 % below the threshold, must fail
    ((1 + 0.9**0.5) ** 2 / 10, NE, "does not hold", "ringing interval ends"),
    (0.3797, NE, "does not hold", "ringing interval ends"),  # the same, to 4 significant figures
    (0.4 * 0.9**0.5, NE, "does not hold", "too small for heavy ball's stability threshold"),  # 0.3795
    (0.3799, NE, "does not hold", "too small for heavy ball's stability threshold"),
    (0.3807, NE, "does not hold", "too large for heavy ball's stability threshold"),
    (0.379, 0.136, "does not hold", "too small for heavy ball's stability threshold"),  # 3 figures
    (HB, 0.1355, "does not hold", "too small for Nesterov's stability threshold"),
    (HB, 0.13597, "does not hold", "too large for Nesterov's stability threshold"),
    (HB, 0.135, "does not hold", "too small for Nesterov's stability threshold"),  # 0.53 % off
    (HB, NE, "holds", "does not fit your numbers"),
    (HB, NE, "misleading", "does not fit your numbers"),
    (HB, NE, "Does not hold", "exactly as in claims.VERDICTS"),
    (HB, NE, "false", "one of"),
    ("0.38", NE, "does not hold", "text"),
    (HB, None, "does not hold", "No answer"),
])
def test_exercise_2_wrong(hb, ne, verdict, match):
    fails(c09.nesterov_step_claim, hb, ne, verdict, match=match)


def test_exercise_2_thresholds_against_a_scan():
    """The check's closed forms agree with a fine scan of the rates, computed here from the 2x2 matrices."""
    def rho(lr, beta, lam, nesterov):
        if nesterov:  # PyTorch's Nesterov on lambda: y = x - lr (g + beta b) with b = beta b + g
            m = np.array([[1 - lr * lam * (1 + beta), -lr * beta * beta], [lam, beta]])
        else:
            m = np.array([[1 - lr * lam, -lr * beta], [lam, beta]])
        return np.abs(np.linalg.eigvals(m)).max()

    for nesterov, want in ((False, HB), (True, NE)):
        lrs = np.linspace(0.9 * want, 1.1 * want, 20_001)
        stable = [lr for lr in lrs if max(rho(lr, 0.9, lam, nesterov) for lam in (1.0, 10.0)) < 1]
        assert abs(max(stable) - want) < 1e-5 * want


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


def gauss_seidel(learning_rate, momentum, params, grad, iters):  # gradient recomputed after each array moves
    params = [np.array(p, dtype=float) for p in params]
    v = [np.zeros_like(p) for p in params]
    for _ in range(iters):
        for j in range(len(params)):
            v[j] = momentum * v[j] - learning_rate * np.asarray(grad(params)[j], dtype=float)
            params[j] = params[j] + v[j]
    return params


def gradient_after_step(learning_rate, momentum, params, grad, iters):  # uses the gradient one step late
    params = [np.array(p, dtype=float) for p in params]
    v = [np.zeros_like(p) for p in params]
    grads = grad(params)
    for _ in range(iters):
        for j, g in enumerate(grads):
            v[j] = momentum * v[j] - learning_rate * np.asarray(g, dtype=float)
            params[j] = params[j] + v[j]
        grads = grad(params)
    return params


def transposed(learning_rate, momentum, params, grad, iters):  # right numbers, wrong shape
    return [p.T.copy() if p.ndim == 2 else p for p in right(learning_rate, momentum, params, grad, iters)]


def ascent(learning_rate, momentum, params, grad, iters):
    return right(-learning_rate, momentum, params, grad, iters)


def no_decay(learning_rate, momentum, params, grad, iters):
    return right(learning_rate, 1.0, params, grad, iters) if iters < 20 else right(learning_rate, 0.0, params,
                                                                                     grad, iters)


def one_array(learning_rate, momentum, params, grad, iters):
    return right(learning_rate, momentum, params, grad, iters)[0]


def crashes(learning_rate, momentum, params, grad, iters):
    raise ZeroDivisionError("oops")


def list_replaced(learning_rate, momentum, params, grad, iters):  # new entries in the caller's list
    new = right(learning_rate, momentum, params, grad, iters)
    params[:] = new
    return new


def not_written(learning_rate, momentum, params, grad, iters):
    raise NotImplementedError


@pytest.mark.parametrize("candidate", [right, right_as_tuple, gradient_after_step])
def test_exercise_3_right(candidate, capsys):
    passes(c09.fixed_momentum_optimizer, candidate, capsys=capsys)


@pytest.mark.parametrize("candidate, match", [
    (frozen_gradient, "first gradient"),
    (gauss_seidel, "recomputes the gradient after some arrays have moved"),
    (transposed, "differs from momentum's"),
    (in_place, "changed the caller's arrays in place"),
    (list_replaced, "replaced entries of the caller's list"),
    (ascent, "differs from momentum.s|overflow"),  # climbing overflows: a warning, or an error under -W error
    (no_decay, "differs from momentum's"),
    (one_array, "return the list"),
    (crashes, "raised ZeroDivisionError"),
    (0.1, "should be a function"),
])
def test_exercise_3_wrong(candidate, match):
    fails(c09.fixed_momentum_optimizer, candidate, match=match)


def test_exercise_3_coupled_case_tells_the_orders_apart():
    """In the two-array case each array's gradient depends on the other, so updating array by array
    with fresh gradients (Gauss-Seidel) gives a different result from momentum (Jacobi)."""
    case = next(c for c in c09._cases() if "coupled" in c[-1])
    lr, beta, params, grad, iters, _ = case
    jacobi, staggered = right(lr, beta, params, grad, iters), gauss_seidel(lr, beta, params, grad, iters)
    assert max(np.abs(a - b).max() for a, b in zip(jacobi, staggered, strict=True)) > 1e-3


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


def best_rate(beta, kappa):
    """The worse rate of the two extreme eigenvalues at lr = 2 (1 + beta) / (1 + kappa), from the 2x2
    matrices here (independently of lessons_lib.theory)."""
    lr = 2 * (1 + beta) / (1 + kappa)
    return max(np.abs(np.linalg.eigvals(np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]]))).max()
               for lam in (1.0, float(kappa)))


def extra_steps(beta, kappa):
    return math.log(best_rate(beta_star(kappa), kappa)) / math.log(best_rate(beta, kappa))


UP3 = {k: math.ceil(1000 * v) / 1000 for k, v in EXACT.items()}  # 0.270, 0.670, 0.882, 0.961


@pytest.mark.parametrize("answers", [
    EXACT,
    UP3,  # rounded up to three decimals
    {10: 0.27, 100: 0.67, 1000: 0.882, 10_000: 0.961},
    {10: 0.274, 100: 0.672, 1000: 0.882, 10_000: 0.962},  # the lesson's grid scan
    {10: 0.285, 100: 0.68, 1000: 0.886, 10_000: 0.9625},  # a little too much, within 5 % more steps
    {10: np.float64(0.27), 100: 0.67, 1000: 0.882, 10_000: torch.tensor(0.961)},
    {10.0: 0.27, 100.0: 0.67, 1000.0: 0.882, 10_000.0: 0.961},  # float keys equal to the integers
])
def test_exercise_4_right(answers, capsys):
    passes(c09.best_beta_per_kappa, answers, capsys=capsys)


def rate(k):
    return (math.sqrt(k) - 1) / (math.sqrt(k) + 1)


@pytest.mark.parametrize("answers, match", [
    ({k: 0.9 for k in EXACT}, "every kappa"),
    ({**UP3, 10_000: rate(10_000)}, "best rate, not the beta.*2.0. times the steps"),
    ({**UP3, 10: 0.34}, "kappa = 10 your best beta 0.3400 is too much momentum.*1.21 times"),  # the review's
    ({**UP3, 100: 0.70}, "kappa = 100 your best beta 0.7000 is too much momentum.*1.13 times"),
    ({**UP3, 1000: 0.893}, "kappa = 1000 your best beta 0.8930 is too much momentum.*1.12 times"),
    ({**UP3, 10_000: 0.9647}, "kappa = 10000 your best beta 0.9647 is too much momentum.*1.11 times"),
    ({**UP3, 100: 0.669}, "kappa = 100 your 0.6690 is just below the best beta.*round up"),  # rounded down
    ({**UP3, 1000: 0.88}, "kappa = 1000 your 0.8800 is just below"),
    ({**UP3, 10_000: 0.955}, "kappa = 10000 your best beta 0.9550 is too little momentum"),
    ({**UP3, 10_000: 0.9}, "kappa = 10000 .*too little momentum"),
    ({**UP3, 1000: 0.9}, "kappa = 1000 .*too much momentum"),
    ({**UP3, 10: 0.5}, "kappa = 10 .*too much momentum"),
    ({**UP3, 10: 1.0}, "must be in \\[0, 1\\)"),
    ({10: 0.27, 100: 0.67, 1000: 0.88}, "no entry"),
    ({"10": 0.27, "100": 0.67, "1000": 0.88, "10000": 0.96}, "keys must be the integers"),
    ([0.27, 0.67, 0.88, 0.96], "dict"),
    ({**UP3, 10: "0.27"}, "text"),
    ({**UP3, 10: None}, "No answer"),
])
def test_exercise_4_wrong(answers, match):
    fails(c09.best_beta_per_kappa, answers, match=match)


def test_exercise_4_tolerance_matches_the_cost_in_steps():
    """The table's answers cost what the check says, computed here from the 2x2 matrices: the review's
    +-0.1 (1 - beta*) answers need 11 % to 21 % more steps (rejected), the accepted ones at most 5 %."""
    for kappa, beta in {10: 0.34, 100: 0.70, 1000: 0.893, 10_000: 0.9647}.items():
        assert 1.10 < extra_steps(beta, kappa) < 1.22
    for answers in ({10: 0.285, 100: 0.68, 1000: 0.886, 10_000: 0.9625}, UP3):
        assert all(extra_steps(beta, kappa) <= 1.05 for kappa, beta in answers.items())
    assert 1.05 < extra_steps(0.669, 100) < 1.06 and extra_steps(0.88, 1000) > 1.1


def test_exercise_2_a_verdict_that_is_an_array_gets_a_message():
    """`in` on a NumPy array raised ValueError (review, session 25)."""
    hb, ne = 0.38, 2 * 1.9 / (2.8 * 10)
    fails(c09.nesterov_step_claim, hb, ne, np.array(["does not hold"]), match="should be one of")


def test_exercise_3_autograd_tensors_are_answers_too(capsys):
    """The seed's update written with torch tensors that require grad (review, session 25: the check's
    last comparison, on Rosenbrock, raised RuntimeError)."""
    def with_torch(lr, momentum, params, grad, iters):
        ps = [torch.tensor(np.asarray(p, dtype=float), requires_grad=True) for p in params]
        v = [torch.zeros_like(p) for p in ps]
        with torch.no_grad():
            for _ in range(iters):
                g = grad([p.detach().numpy().copy() for p in ps])
                for j, p in enumerate(ps):
                    v[j] = momentum * v[j] - lr * torch.as_tensor(g[j])
                    p += v[j]
        return ps

    passes(c09.fixed_momentum_optimizer, with_torch, capsys=capsys)
