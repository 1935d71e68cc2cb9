"""Self-checks for lesson 01, gradient descent.

Tolerances (stated in each exercise's text): numbers asked for by hand are accepted to three
significant figures (a relative error up to :data:`REL_TOL`); ``steps_needed`` must give the exact
whole number; the scan of exercise 4 is judged by the number of steps its learning rate needs,
which the check counts itself from the closed form of gradient descent on the valley.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .. import surfaces
from . import NotYet, _plain, as_number, number, passed

REL_TOL = 2.5e-3  # three significant figures of 0.5, 0.235294 and 0.882353 (0.0 %, 0.13 %, 0.04 %)


def stability_limit(answer: object) -> None:
    """Exercise 1: the step-size threshold 2/L for f = 0.5 (4 x^2 + 0.25 y^2)."""
    L, mu = 4.0, 0.25
    number(
        answer, 2.0 / L, what="the threshold 2/L", rtol=REL_TOL,
        hint="each eigen-direction needs |1 - lr*lambda| < 1; the steepest direction (largest lambda) "
             "binds first, so lr < 2 / lambda_max.",
        mistakes={
            "flat": (2.0 / mu, "that is the threshold of the flat direction (lambda = 0.25), but the "
                               "steep direction (lambda = 4) already diverges there."),
            "one_over_L": (1.0 / L, "1/L is the step that kills the steep direction in one step, "
                                    "a safe choice, not the threshold."),
            "half_dropped": (2.0 / 2.0, "the curvature of 0.5 * 4 x^2 is its second derivative, 4, "
                                        "not the coefficient 2."),
            "optimal": (2.0 / (mu + L), "2/(mu + L) is the optimal step (section 3), not the threshold."),
        },
    )


def optimal_step_and_rate(lr: object, rate: object) -> None:
    """Exercise 2: the optimal constant step and its rate for eigenvalues 0.5 and 8."""
    mu, L = 0.5, 8.0
    best_lr, best_rate = 2.0 / (mu + L), (L - mu) / (L + mu)
    kappa = L / mu
    number(lr, best_lr, what="the optimal step 2/(mu+L)", rtol=REL_TOL,
           hint="balance the two extreme eigenvalues: |1 - lr*mu| = |1 - lr*L|.",
           mistakes={"one_over_L": (1 / L, "1/L is safe but leaves the flat direction slow."),
                     "limit": (2 / L, "2/L is the threshold: there the steep direction stops shrinking."),
                     "no_two": (1 / (mu + L), "solving 1 - lr*mu = lr*L - 1 gives 2/(mu + L): the 2 "
                                              "is missing.")})
    number(rate, best_rate, what="the rate (kappa-1)/(kappa+1)", rtol=REL_TOL,
           hint="put the optimal step into max(|1 - lr*mu|, |1 - lr*L|).",
           mistakes={"kappa": (1 - mu / L, "1 - 1/kappa is the rate of the step 1/L, "
                                            "not of the optimal step."),
                     "squared": (best_rate**2, "that is rho^2, the factor of the loss gap per step; "
                                               "the rate of the error is rho."),
                     "momentum": ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1),
                                  "(sqrt(kappa)-1)/(sqrt(kappa)+1) is the rate of momentum at its "
                                  "optimal pair (lesson 03), not of gradient descent.")})


def _steps_needed_reference(kappa: float, eps: float) -> int:
    rate = (kappa - 1.0) / (kappa + 1.0)
    if rate == 0.0:
        return 1
    return max(0, math.ceil(math.log(eps) / math.log(rate)))


# Wrong versions of steps_needed, each with what it gets wrong.
_STEPS_MISTAKES: dict[str, tuple[Callable[[float, float], float], str]] = {
    "floor_plus_one": (lambda kappa, eps: math.floor(math.log(eps) / math.log((kappa - 1) / (kappa + 1))) + 1,
                       "floor + 1 is one step too many when the ratio of logs is a whole number "
                       "(rate**k = eps already): round up with math.ceil."),
    "approximation": (lambda kappa, eps: math.ceil(kappa / 2 * math.log(1 / eps)),
                      "that is the approximation (kappa/2) ln(1/eps), valid for kappa >> 1; the question "
                      "asks for the exact count from the rate (kappa-1)/(kappa+1)."),
    "floor": (lambda kappa, eps: math.floor(math.log(eps) / math.log((kappa - 1) / (kappa + 1))),
              "rounding down leaves rate**k just above eps: round up (math.ceil)."),
    "unrounded": (lambda kappa, eps: math.log(eps) / math.log((kappa - 1) / (kappa + 1)),
                  "steps are whole: round the ratio of logs up (math.ceil)."),
    "step_one_over_L": (lambda kappa, eps: math.ceil(math.log(eps) / math.log(1 - 1 / kappa)),
                        "1 - 1/kappa is the rate of the step 1/L; at the optimal step it is "
                        "(kappa-1)/(kappa+1)."),
    "loss": (lambda kappa, eps: math.ceil(math.log(eps) / (2 * math.log((kappa - 1) / (kappa + 1)))),
             "that counts the steps for the loss (factor rate**2 per step) to fall by eps; the question "
             "is about the error, which falls by rate per step."),
}


def steps_needed(candidate: Callable[[float, float], int]) -> None:
    """Exercise 3: the number of optimal-step GD steps that shrink the error by ``eps`` (exact)."""
    hint = ("the error after k steps is rate**k times the start, with rate = (kappa-1)/(kappa+1); "
            "solve rate**k <= eps for the smallest whole k (math.ceil of a ratio of logs).")
    if not callable(candidate):
        raise NotYet(f"steps_needed should be a function; got {type(candidate).__name__}. Hint: {hint}")
    # (3, 0.25): rate 1/2, ln(eps)/ln(rate) = 2 exactly, where floor + 1 is wrong
    cases = [(10.0, 1e-6), (100.0, 1e-3), (2.0, 1e-10), (1000.0, 1e-8), (1.5, 0.5), (3.0, 0.25)]
    for kappa, eps in cases:
        want = _steps_needed_reference(kappa, eps)
        try:
            got = _plain(candidate(kappa, eps))
        except NotImplementedError:  # a student copy's stub: left to stop the notebook as it is
            raise
        except Exception as exc:  # the student's code failed: say how, without a traceback
            raise NotYet(f"steps_needed({kappa:g}, {eps:g}) raised {type(exc).__name__}: {exc}. "
                         f"Hint: {hint}") from None
        value = as_number(got, f"steps_needed({kappa:g}, {eps:g})", hint)
        if value == want:
            continue
        for wrong, explanation in _STEPS_MISTAKES.values():
            if math.isclose(value, wrong(kappa, eps), rel_tol=1e-12):
                raise NotYet(f"steps_needed({kappa:g}, {eps:g}) gives {value:g}, not {want}: {explanation} "
                             f"Hint: {hint}")
        raise NotYet(f"steps_needed({kappa:g}, {eps:g}) gives {value:g}; expected {want}. Hint: {hint}")
    passed(f"steps_needed(kappa, eps) agrees with the exact count on {len(cases)} cases.")


# Exercise 4: the valley, start and tolerance of the exercise text (fixed here, not passed in).
VALLEY_EIGENVALUES = (0.3, 6.0)
VALLEY_ANGLE = 0.4
VALLEY_START = (3.0, 2.0)
VALLEY_TOL = 1e-10
STEPS_SLACK = 0.02  # accepted: at most 2 % more steps than the fewest any learning rate needs


@lru_cache(maxsize=1)
def _valley_modes() -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues lambda_i and the start's eigen-coordinates z_i of the exercise's valley."""
    valley = surfaces.quadratic(VALLEY_EIGENVALUES, angle=VALLEY_ANGLE)
    lam, Q = np.linalg.eigh(valley.hessian)
    return lam, Q.T @ np.asarray(VALLEY_START)


def valley_steps(lr: float | np.ndarray) -> np.ndarray:
    """Steps gradient descent needs on the exercise's valley, from its start, until the loss gap
    0.5 sum_i lambda_i (1 - lr lambda_i)^(2k) z_i^2 is at most 1e-10 (closed form, no simulation).
    ``lr`` must lie in (0, 2/L); the gap falls monotonically there, so a bisection finds k."""
    lam, z = _valley_modes()
    lr = np.atleast_1d(np.asarray(lr, dtype=float))
    factor2 = (1 - lr[:, None] * lam) ** 2  # (n, 2), each < 1

    def gap(k: np.ndarray) -> np.ndarray:
        return 0.5 * np.sum(lam * z**2 * factor2 ** k[:, None], axis=1)

    lo = np.zeros(lr.shape)  # gap(lo) > tol (the start's gap is about 14)
    hi = np.ones(lr.shape)
    while np.any(small := gap(hi) > VALLEY_TOL):
        hi = np.where(small, 2 * hi, hi)
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        above = gap(mid) > VALLEY_TOL
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return hi.astype(int)


@lru_cache(maxsize=1)
def valley_fewest_steps() -> tuple[int, float, float]:
    """The fewest steps any learning rate needs on the valley, and the interval of lrs that need them
    (a scan of 20,001 rates over (0.25, 2/L), finer than the width of that interval)."""
    L = max(VALLEY_EIGENVALUES)
    grid = np.linspace(0.25, 2 / L, 20_001)[:-1]
    counts = valley_steps(grid)
    best = counts.min()
    return int(best), float(grid[counts == best].min()), float(grid[counts == best].max())


def best_lr_on_valley(answer: object) -> None:
    """Exercise 4: a best step found by a scan; judged by the steps it needs (at most 2 % over the fewest)."""
    mu, L = VALLEY_EIGENVALUES
    hint = ("for every lr of your grid count the steps until the loss is at most 1e-10 (steps_to), "
            "and report the lr whose count is smallest.")
    value = as_number(answer, "the best learning rate", hint)
    fewest, lo, hi = valley_fewest_steps()
    allowed = math.floor(fewest * (1 + STEPS_SLACK))
    if value <= 0:
        raise NotYet(f"a learning rate is positive; got {value:g}. Hint: {hint}")
    if value >= 2.0 / L:
        if value >= 1 and value == int(value):
            what = f"{value:g} looks like a step count, not a learning rate"
        else:
            what = (f"lr = {value:.4g} is at or past the threshold 2/L = {2 / L:.4g}, where gradient "
                    "descent does not converge")
        raise NotYet(f"{what}. Hint: {hint}")
    steps = int(valley_steps(value)[0])
    if steps <= allowed:
        opt_steps = int(valley_steps(2 / (mu + L))[0])
        passed(f"lr = {value:.4g} needs {steps} steps; the fewest any learning rate needs is {fewest} "
               f"(for lr in [{lo:.4f}, {hi:.4f}]), and 2/(mu+L) = {2 / (mu + L):.4f} needs {opt_steps}.")
        return
    ratio = steps / fewest
    if value > 0.97 * 2 / L:
        raise NotYet(f"lr = {value:.4g} needs {steps} steps, {ratio:.1f} times the fewest ({fewest}): "
                     f"just below the threshold 2/L = {2 / L:.4g} the steep direction's factor "
                     f"1 - lr*L = {1 - value * L:+.3f} hardly shrinks. Hint: report the lr with the fewest "
                     "steps, not the largest that converges.")
    if value > hi:
        side = ("above the fastest rates (past them the steep direction shrinks more slowly and the "
                "count rises steeply)")
    else:
        side = "below the fastest rates (the flat direction is slower there)"
    raise NotYet(f"lr = {value:.4g} needs {steps} steps; the fewest any learning rate needs is {fewest}, and "
                 f"the check accepts up to {allowed} ({100 * STEPS_SLACK:.0f} % more). Your lr is {side}. "
                 "Hint: refine your grid near the minimum of your step counts, and report the lr at that "
                 "minimum.")
