"""Self-checks for lesson 09, claims checked."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from .. import optimizers, surfaces, theory
from . import NotYet, array, as_number, number, passed

VERDICTS = ("holds", "misleading", "does not hold", "unverifiable")


def _vector(answer: object, what: str, shape: tuple[int, ...]) -> np.ndarray:
    return array(answer, what, shape)


def worked_example_v2(answer: object) -> None:
    """Exercise 1: the second velocity of seed 002's worked example."""
    gamma, eta = 0.9, 0.01
    v1, g2 = np.array([-0.001, -0.002]), np.array([-0.05, -0.1])
    expected = gamma * v1 + eta * g2
    v2 = _vector(answer, "v_2", (2,))
    hint = "v_2 = gamma * v_1 + eta * g_2: 0.9 times the old velocity plus 0.01 times the new gradient."
    if np.allclose(v2, expected, rtol=1e-9, atol=1e-12):
        passed(f"v_2 = {np.array2string(expected, precision=4)}; the seed's [-0.0085, -0.0135] is about "
               "6 times too large.")
        return
    mistakes = [
        ([-0.0085, -0.0135], "that is the seed's number, the one this exercise asks you to check."),
        (eta * g2, "you left out gamma * v_1: the velocity remembers the previous step."),
        (v1 + eta * g2, "the previous velocity is multiplied by gamma = 0.9 before the new term is added."),
        (gamma * v1 + g2, "the new gradient is multiplied by the learning rate eta = 0.01."),
        (-expected, "the sign is flipped: the seed's update is v = gamma v + eta g, with a plus."),
    ]
    for wrong, why in mistakes:
        if np.allclose(v2, wrong, rtol=1e-9, atol=1e-12):
            raise NotYet(f"{np.array2string(v2, precision=5)} is not v_2: {why} Hint: {hint}")
    raise NotYet(f"{np.array2string(v2, precision=5)} is not v_2. Hint: {hint}")


def nesterov_step_claim(hb_largest: object, nesterov_largest: object, verdict: object) -> None:
    """Exercise 2: the largest stable steps of heavy ball and Nesterov (beta 0.5, eigenvalues 1 and 10),
    and a verdict on the claim that Nesterov tolerates at least as large a step."""
    beta, mu, L = 0.5, 1.0, 10.0
    hb = (2 + 2 * beta) / L
    ne = 2 * (1 + beta) / ((1 + 2 * beta) * L)
    number(hb_largest, hb, what="heavy ball's largest stable learning rate", rtol=2e-3,
           hint="the heavy ball is stable for lr * lambda < 2 + 2 beta, so the steepest eigenvalue "
                "L = 10 decides: scan lr and keep those with theory.momentum_rate(...) < 1.",
           mistakes={"gd": (2 / L, "2/L is gradient descent's limit; momentum widens it."),
                     "flat": ((2 + 2 * beta) / mu, "that is the flat direction's limit; the steep one "
                                                   "(lambda = 10) fails first.")})
    number(nesterov_largest, ne, what="Nesterov's largest stable learning rate", rtol=2e-3,
           hint="scan lr with theory.nesterov_rate(lr, 0.5, [1.0, 10.0]) < 1; for one eigenvalue the "
                "limit is lr * lambda < 2 (1 + beta) / (1 + 2 beta).",
           mistakes={"hb": (hb, "that is the heavy ball's limit; use nesterov_rate for Nesterov.")})
    if verdict not in VERDICTS:
        raise NotYet(f"the verdict should be one of {list(VERDICTS)}; got {verdict!r}.")
    if verdict != "does not hold":
        raise NotYet(f"'{verdict}' does not fit your numbers: Nesterov's limit {ne:.4f} is below the heavy "
                     f"ball's {hb:.4f}, so the claim is false as stated. Hint: compare the two limits.")
    passed(f"heavy ball is stable up to lr = {hb:.4f}, Nesterov only up to {ne:.4f}: "
           "the claim does not hold.")


def _reference_optimizer(learning_rate, momentum, params, grad, iters):
    params = [np.array(p, dtype=float) for p in params]
    v = [np.zeros_like(p) for p in params]
    for _ in range(iters):
        grads = grad(params)
        for j, g in enumerate(grads):
            v[j] = momentum * v[j] - learning_rate * np.asarray(g, dtype=float)
            params[j] = params[j] + v[j]
    return params


def _rosenbrock_grad(params):
    g = surfaces.get("rosenbrock").grad(params[0])
    return [g]


def _quadratic_grad(params):
    return [np.array([1.0, 10.0]) * params[0], 0.5 * params[1]]


def _cases() -> list[tuple]:
    return [
        (1e-3, 0.9, [np.array([-1.5, 2.0])], _rosenbrock_grad, 200, "the Rosenbrock function"),
        (0.05, 0.5, [np.array([3.0, -2.0]), np.array([[1.0, 2.0], [-1.0, 0.5]])], _quadratic_grad, 50,
         "a quadratic in two parameter arrays"),
        (0.1, 0.0, [np.array([1, -2])], lambda ps: [ps[0]], 10, "integer parameters"),
    ]


def fixed_momentum_optimizer(candidate: Callable) -> None:
    """Exercise 3: seed 003's function, fixed so that it recomputes the gradient every iteration."""
    if not callable(candidate):
        raise NotYet(f"momentum_optimizer should be a function; got {type(candidate).__name__}.")
    hint = ("inside the loop call grads = grad(params) first, then update v[j] = momentum * v[j] - "
            "learning_rate * g and params[j] = params[j] + v[j]; work on float copies of the inputs.")
    for lr, beta, params, grad, iters, what in _cases():
        originals = [p.copy() for p in params]
        try:
            got = candidate(lr, beta, params, grad, iters)
        except NotImplementedError:
            raise
        except Exception as exc:  # report the student's error as feedback, not as a crash
            raise NotYet(f"on {what} your function raised {type(exc).__name__}: {exc}. "
                         f"Hint: {hint}") from None
        if any(not np.array_equal(p, o) for p, o in zip(params, originals, strict=True)):
            raise NotYet(f"on {what} your function changed the caller's arrays. Hint: start from "
                         "params = [np.array(p, dtype=float) for p in params].")
        want = _reference_optimizer(lr, beta, params, grad, iters)
        if not isinstance(got, list | tuple) or len(got) != len(want):
            raise NotYet(f"on {what} return the list of {len(want)} parameter arrays; "
                         f"got {type(got).__name__}.")
        if all(np.allclose(g, w, rtol=1e-9, atol=1e-12) for g, w in zip(got, want, strict=True)):
            continue
        first = grad(params)
        frozen = _reference_optimizer(lr, beta, params, lambda ps, g0=first: g0, iters)
        if all(np.allclose(g, w, rtol=1e-9, atol=1e-12) for g, w in zip(got, frozen, strict=True)):
            raise NotYet(f"on {what} your function still uses the first gradient for every iteration, as "
                         f"the seed's did. Hint: {hint}")
        raise NotYet(f"on {what} your result differs from momentum's: got "
                     f"{[np.round(np.asarray(g, dtype=float), 6).tolist() for g in got]}, expected "
                     f"{[np.round(w, 6).tolist() for w in want]}. Hint: {hint}")
    ref = optimizers.run("rosenbrock", [-1.5, 2.0], "momentum", lr=1e-3, momentum=0.9, steps=200)
    ours = candidate(1e-3, 0.9, [np.array([-1.5, 2.0])], _rosenbrock_grad, 200)[0]
    gap = float(np.abs(np.asarray(ours) - ref.points[-1]).max())
    passed(f"your optimizer matches momentum on {len(_cases())} cases; on Rosenbrock it agrees with "
           f"torch.optim.SGD's form to {gap:.0e}.")


def best_beta_per_kappa(answers: object) -> None:
    """Exercise 4: the best momentum for condition numbers 10 to 10^4, found by a scan."""
    kappas = (10, 100, 1000, 10_000)
    if not isinstance(answers, Mapping):
        raise NotYet(f"give a dict {{kappa: best_beta}}; got {type(answers).__name__}.")
    missing = [k for k in kappas if k not in answers]
    if missing:
        raise NotYet(f"the dict has no entry for kappa = {missing}. Hint: loop over {list(kappas)}.")
    lines = []
    for kappa in kappas:
        _, beta_star, _ = theory.optimal_momentum(1.0, float(kappa))
        got = as_number(answers[kappa], f"the best beta for kappa = {kappa}")
        if not math.isfinite(got) or abs(got - beta_star) > 0.02:
            raise NotYet(f"for kappa = {kappa} your best beta {got:.3f} is not where the rate is smallest. "
                         "Hint: scan lr on a log grid wide enough to hold 4 / (1 + sqrt(kappa))^2 and beta "
                         "up to 0.999, and take the argmin of theory.momentum_rate over both.")
        fits = [r for r, (lo, hi) in {"0.5-0.9": (0.5, 0.9), "0.9-0.99": (0.9, 0.99)}.items()
                if lo <= beta_star <= hi]
        note = f", fits {' and '.join(fits)}" if fits else ""
        lines.append(f"kappa {kappa}: {got:.3f} (theory {beta_star:.3f}{note})")
    passed("; ".join(lines) + ". No single range suits every problem.")
