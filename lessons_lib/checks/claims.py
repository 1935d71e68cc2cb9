"""Self-checks for lesson 14, claims checked.

Tolerances, as the exercises state them: exercise 1 accepts each component of v_2 within
``ATOL = 1e-6``; exercise 2 each stability threshold within ``THRESHOLD_ATOL = 0.00005`` (the
exercise asks for 4 significant figures; (1 + sqrt(beta))^2 / L = 0.3797, where the heavy ball's ringing
interval ends, is only 0.07 % below its threshold 0.38 and must fail); exercise 3
each returned array within a relative ``1e-9`` (absolute ``1e-12``); exercise 4 each best momentum
whose rate at its best step needs at most ``STEPS_TOLERANCE = 5 %`` more steps than beta*'s,
``ln(rho*) / ln(rho(beta)) <= 1.05``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from .. import optimizers, surfaces, theory
from . import NotYet, _plain, array, as_number, number, passed, run_answer

VERDICTS = ("holds", "misleading", "does not hold", "unverifiable")
ATOL = 1e-6
THRESHOLD_ATOL = 5e-5  # half a unit in the 4th significant figure of 0.38 and 0.1357
STEPS_TOLERANCE = 0.05  # exercise 4: at most 5 % more steps than the best beta, as lesson 08's exercise 5


def _vector(answer: object, what: str, shape: tuple[int, ...]) -> np.ndarray:
    return array(answer, what, shape)


def worked_example_v2(answer: object) -> None:
    """Exercise 1: the second velocity of seed 002's worked example."""
    beta, eta = 0.9, 0.01
    v1, g2 = np.array([-0.001, -0.002]), np.array([-0.05, -0.1])
    expected = beta * v1 + eta * g2
    v2 = _vector(answer, "v_2", (2,))
    hint = "v_2 = beta * v_1 + eta * g_2: 0.9 times the old velocity plus 0.01 times the new gradient."
    if np.allclose(v2, expected, rtol=0, atol=ATOL):
        passed(f"v_2 = {np.array2string(expected, precision=4)}; the seed's [-0.0085, -0.0135] is "
               "6.1 and 4.8 times too large, component by component.")
        return
    mistakes = [
        ([-0.0085, -0.0135], "that is the seed's number, the one this exercise asks you to check."),
        (eta * g2, "you left out beta * v_1: the velocity remembers the previous step."),
        (v1 + eta * g2, "the previous velocity is multiplied by beta = 0.9 before the new term is added."),
        (beta * v1 + g2, "the new gradient is multiplied by the learning rate eta = 0.01."),
        (-expected, "the sign is flipped: the seed's update is v = beta v + eta g, with a plus."),
        (expected[::-1], "the two components are swapped: the first is 0.9 * -0.001 + 0.01 * -0.05, the "
                         "second 0.9 * -0.002 + 0.01 * -0.1."),
        (beta * v1 + eta * g2[::-1], "the gradient's components are swapped: 0.01 * -0.05 goes with "
                                     "0.9 * -0.001."),
    ]
    for wrong, why in mistakes:
        if np.allclose(v2, wrong, rtol=0, atol=ATOL):
            raise NotYet(f"{np.array2string(v2, precision=5)} is not v_2: {why} Hint: {hint}")
    raise NotYet(f"{np.array2string(v2, precision=5)} is not v_2. Hint: {hint}")


def nesterov_step_claim(hb_threshold: object, nesterov_threshold: object, verdict: object) -> None:
    """Exercise 2: the stability thresholds of heavy ball and Nesterov (beta 0.9, eigenvalues 1 and 10),
    each within THRESHOLD_ATOL, and a verdict on "Nesterov tolerates at least as large a step"."""
    beta, mu, L = 0.9, 1.0, 10.0
    hb = (2 + 2 * beta) / L  # 0.38
    ne = 2 * (1 + beta) / ((1 + 2 * beta) * L)  # 0.1357
    ring_end = (1 + math.sqrt(beta)) ** 2 / L  # 0.37974: the ringing interval ends, the rate is sqrt(beta)
    number(hb_threshold, hb, what="heavy ball's stability threshold", rtol=THRESHOLD_ATOL / hb,
           hint="the heavy ball converges for lr * lambda < 2 + 2 beta, so the steepest eigenvalue "
                "L = 10 decides: scan lr and find where theory.momentum_rate(...) reaches 1.",
           mistakes={"gd": (2 / L, "2/L is gradient descent's threshold; momentum widens it."),
                     "flat": ((2 + 2 * beta) / mu, "that is the flat direction's threshold; the steep one "
                                                   "(lambda = 10) fails first."),
                     "half": ((1 + beta) / L, "that is half the threshold: the heavy ball's bound is "
                                              "lr * lambda < 2 (1 + beta)."),
                     "nesterov": (ne, "that is Nesterov's threshold; use momentum_rate for the heavy ball."),
                     "ring_end": (ring_end,
                                  f"{ring_end:.4f} = (1 + sqrt(beta))^2 / L is where the heavy ball's "
                                  "ringing interval ends (section 6.1): there the rate is still "
                                  f"sqrt(beta) = {math.sqrt(beta):.4f}, not 1. The threshold is where the "
                                  "rate reaches 1, a little further.")})
    ne_bound = "lr * lambda < 2 (1 + beta) / (1 + 2 beta)"
    number(nesterov_threshold, ne, what="Nesterov's stability threshold", rtol=THRESHOLD_ATOL / ne,
           hint="scan lr with theory.nesterov_rate(lr, 0.9, [1.0, 10.0]) and find where it reaches 1; for "
                f"one eigenvalue the bound is {ne_bound}.",
           mistakes={"hb": (hb, "that is the heavy ball's threshold; use nesterov_rate for Nesterov."),
                     "gd": (2 / L, "2/L is gradient descent's threshold; Nesterov's look-ahead changes it "
                                   "to 2 (1 + beta) / ((1 + 2 beta) L)."),
                     "half hb": ((1 + beta) / L, "(1 + beta)/L is half the heavy ball's threshold, not "
                                                 f"Nesterov's: its bound is {ne_bound}."),
                     "flat": (2 * (1 + beta) / (1 + 2 * beta) / mu,
                              "that is the flat direction's threshold; the steep one (lambda = 10) "
                              "fails first."),
                     "half": ((1 + beta) / ((1 + 2 * beta) * L),
                              f"that is half the threshold: Nesterov's bound is {ne_bound}.")})
    if isinstance(verdict, str) and verdict.strip().lower() in VERDICTS and verdict not in VERDICTS:
        raise NotYet(f"write the verdict exactly as in claims.VERDICTS, e.g. {VERDICTS[2]!r}; "
                     f"got {verdict!r}.")
    if not isinstance(verdict, str) or verdict not in VERDICTS:  # `in` on an array would raise
        raise NotYet(f"the verdict should be one of {list(VERDICTS)}; got {verdict!r}.")
    if verdict != "does not hold":
        raise NotYet(f"'{verdict}' does not fit your numbers: Nesterov's threshold {ne:.4f} is below the "
                     f"heavy ball's {hb:.4f}, so the claim is false as stated. "
                     "Hint: compare the two thresholds.")
    passed(f"heavy ball converges for lr below {hb:.4f}, Nesterov only below {ne:.4f}: "
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


def _same(got, want) -> bool:
    """Every returned array has the shape of the reference's and agrees within rtol 1e-9, atol 1e-12."""
    try:
        return all(np.shape(g) == np.shape(w)
                   and np.allclose(np.asarray(g, dtype=float), w, rtol=1e-9, atol=1e-12)
                   for g, w in zip(got, want, strict=True))
    except (TypeError, ValueError):  # not numbers: reported as a different result
        return False


def _gauss_seidel_optimizer(learning_rate, momentum, params, grad, iters):
    """A common wrong fix: the gradient recomputed after each array moves, not once per iteration."""
    params = [np.array(p, dtype=float) for p in params]
    v = [np.zeros_like(p) for p in params]
    for _ in range(iters):
        for j in range(len(params)):
            g = grad(params)[j]
            v[j] = momentum * v[j] - learning_rate * np.asarray(g, dtype=float)
            params[j] = params[j] + v[j]
    return params


def _coupled_grad(params):
    """The gradient of 0.5 (a0^2 + 10 a1^2) + 0.25 sum(B^2) + 0.1 sum(a) sum(B): each array's gradient
    depends on the other array, so the order in which arrays move matters."""
    a, b = params
    return [np.array([1.0, 10.0]) * a + 0.1 * b.sum(), 0.5 * b + 0.1 * a.sum()]


def _cases() -> list[tuple]:
    return [
        (1e-3, 0.9, [np.array([-1.5, 2.0])], _rosenbrock_grad, 200, "the Rosenbrock function"),
        (0.05, 0.5, [np.array([3.0, -2.0]), np.array([[1.0, 2.0], [-1.0, 0.5]])], _coupled_grad, 50,
         "a quadratic in two coupled parameter arrays"),
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
        passed_list = list(params)  # the caller's list: its entries must stay the caller's arrays
        got = run_answer(candidate, lr, beta, passed_list, grad, iters, name="momentum_optimizer", hint=hint,
                         crashed=f"on {what} your function raised {{type}}: {{error}}. Hint: {hint}")
        if any(not np.array_equal(p, o) for p, o in zip(params, originals, strict=True)):
            raise NotYet(f"on {what} your function changed the caller's arrays in place. Hint: start from "
                         "params = [np.array(p, dtype=float) for p in params].")
        if len(passed_list) != len(params) or any(a is not b for a, b in
                                                  zip(passed_list, params, strict=False)):
            raise NotYet(f"on {what} your function replaced entries of the caller's list (the arrays "
                         "themselves are unchanged, but the caller's list now holds new ones). Hint: start "
                         "from params = [np.array(p, dtype=float) for p in params], a new list.")
        got = _plain(got)  # tensors (detached) as arrays
        want = _reference_optimizer(lr, beta, params, grad, iters)
        if not isinstance(got, list | tuple) or len(got) != len(want):
            raise NotYet(f"on {what} return the list of {len(want)} parameter arrays; "
                         f"got {type(got).__name__}.")
        if _same(got, want):
            continue
        first = grad(params)
        frozen = _reference_optimizer(lr, beta, params, lambda ps, g0=first: g0, iters)
        if _same(got, frozen):
            raise NotYet(f"on {what} your function still uses the first gradient for every iteration, as "
                         f"the seed's did. Hint: {hint}")
        staggered = _gauss_seidel_optimizer(lr, beta, params, grad, iters)
        if _same(got, staggered):
            raise NotYet(f"on {what} your function recomputes the gradient after some arrays have moved: "
                         "evaluate grad(params) once per iteration, at the current values of all the arrays, "
                         f"then update every array with it. Hint: {hint}")
        try:
            shown = [np.round(np.asarray(g, dtype=float), 6).tolist() for g in got]
        except (TypeError, ValueError):
            shown = [type(g).__name__ for g in got]
        raise NotYet(f"on {what} your result differs from momentum's: got {shown}, expected "
                     f"{[np.round(w, 6).tolist() for w in want]}. Hint: {hint}")
    ref = optimizers.run("rosenbrock", [-1.5, 2.0], "momentum", lr=1e-3, momentum=0.9, steps=200)
    ours = run_answer(candidate, 1e-3, 0.9, [np.array([-1.5, 2.0])], _rosenbrock_grad, 200,
                      name="momentum_optimizer", hint=hint, where="on Rosenbrock (200 steps) ")[0]
    gap = float(np.abs(np.asarray(_plain(ours), dtype=float) - ref.points[-1]).max())
    bound = "within 1e-12" if gap < 1e-12 else f"to {gap:.0e}"  # rounding noise is printed as a bound
    passed(f"your optimizer matches momentum on {len(_cases())} cases; on Rosenbrock it agrees with "
           f"torch.optim.SGD's form {bound} after 200 steps.")


def best_beta_per_kappa(answers: object) -> None:
    """Exercise 4: the best momentum for condition numbers 10 to 10^4, found by a scan."""
    kappas = (10, 100, 1000, 10_000)
    if not isinstance(answers, Mapping):
        raise NotYet(f"give a dict {{kappa: best_beta}}; got {type(answers).__name__}.")
    missing = [k for k in kappas if k not in answers]
    if missing:
        texts = [k for k in answers if isinstance(k, str)]
        if texts:
            raise NotYet(f"the keys must be the integers {list(kappas)}; your dict has the strings "
                         f"{texts[:4]}. Hint: best_betas[kappa] = ... inside "
                         "`for kappa in (10, 100, 1000, 10_000)`.")
        raise NotYet(f"the dict has no entry for kappa = {missing}. Hint: loop over {list(kappas)}.")
    values = {kappa: as_number(answers[kappa], f"the best beta for kappa = {kappa}") for kappa in kappas}
    if len(set(values.values())) == 1:
        raise NotYet(f"you give beta = {values[kappas[0]]} for every kappa: the best beta depends on the "
                     "conditioning. Hint: scan (lr, beta) separately for each kappa.")
    lines = []
    for kappa in kappas:
        _, beta_star, rate_star = theory.optimal_momentum(1.0, float(kappa))
        got = values[kappa]
        if not 0.0 <= got < 1.0:
            raise NotYet(f"for kappa = {kappa} momentum must be in [0, 1); got {got}.")
        # the answer's best rate: for any fixed beta the best step is lr = 2 (1 + beta) / (mu + L)
        rate = float(theory.momentum_rate(2 * (1 + got) / (1 + kappa), got, [1.0, float(kappa)]))
        extra = math.log(rate_star) / math.log(rate) if rate < 1 else math.inf
        if extra <= 1 + STEPS_TOLERANCE:
            fits = [r for r, (lo, hi) in {"0.5-0.9": (0.5, 0.9), "0.9-0.99": (0.9, 0.99)}.items()
                    if lo <= beta_star <= hi]
            note = f", fits {' and '.join(fits)}" if fits else ""
            lines.append(f"kappa {kappa}: {got:.3f} ({100 * (extra - 1):.1f} % more steps than "
                         f"theory's {beta_star:.4f}{note})")
            continue
        more = (f"at its best step its rate {rate:.4f} needs {extra:.2f} times the steps of the best rate "
                f"{rate_star:.4f} (at most {1 + STEPS_TOLERANCE:.2f} times passes)")
        if abs(got - rate_star) <= 1e-3:  # the smallest rate itself, as a grid's minimum gives it
            raise NotYet(f"for kappa = {kappa} your {got:.4f} is the best rate, not the beta that gives it: "
                         f"{more}. Hint: take BETA.flat[argmin], not the minimum of the rate map.")
        if got < beta_star and beta_star - got < 5e-3:
            raise NotYet(f"for kappa = {kappa} your {got:.4f} is just below the best beta: {more}. Below "
                         "beta* the rate climbs steeply, so rounding down costs steps. Hint: give the grid "
                         "point your scan finds (steps of 0.001), or round up, not down.")
        side = "too much momentum" if got > beta_star else "too little momentum"
        raise NotYet(f"for kappa = {kappa} your best beta {got:.4f} is {side}: {more}. Hint: scan lr on a "
                     "log grid wide enough to hold 4 / (1 + sqrt(kappa))^2 and beta up to 0.999 finely "
                     "(steps of 0.001), and take the argmin of theory.momentum_rate over both.")
    passed("; ".join(lines) + ". No single range suits every problem.")
