"""Self-checks for lesson 01, gradient descent."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import theory
from . import NotYet, as_number, function, number, passed


def stability_limit(answer: object) -> None:
    """Exercise 1: the largest stable step for f = 0.5 (4 x^2 + 0.25 y^2)."""
    number(
        answer, 2.0 / 4.0, what="the largest stable learning rate",
        hint="each eigen-direction needs |1 - lr*lambda| < 1; the steepest direction (largest lambda) "
             "binds first, so lr < 2 / lambda_max.",
        mistakes={
            "flat": (2.0 / 0.25, "that is the limit of the flat direction (lambda = 0.25), but the "
                                 "steep direction (lambda = 4) already diverges there."),
            "one_over_L": (1.0 / 4.0, "1/L is the step that kills the steep direction in one step, "
                                      "a safe choice, not the limit."),
        },
    )


def optimal_step_and_rate(lr: object, rate: object) -> None:
    """Exercise 2: the optimal constant step and its rate for eigenvalues 0.5 and 8."""
    mu, L = 0.5, 8.0
    best_lr, best_rate = theory.optimal_gd(mu, L)
    number(lr, best_lr, what="the optimal step 2/(mu+L)",
           hint="balance the two extreme eigenvalues: |1 - lr*mu| = |1 - lr*L|.",
           mistakes={"one_over_L": (1 / L, "1/L is safe but leaves the flat direction slow."),
                     "limit": (2 / L, "2/L is the stability limit: the steep direction stops shrinking.")})
    number(rate, best_rate, what="the rate (kappa-1)/(kappa+1)",
                  hint="put the optimal step into max(|1 - lr*mu|, |1 - lr*L|).",
                  mistakes={"kappa": (1 - mu / L, "1 - 1/kappa is the rate of the step 1/L, "
                                                  "not of the optimal step.")})


def _steps_needed_reference(kappa: float, eps: float) -> int:
    rate = (kappa - 1.0) / (kappa + 1.0)
    if rate == 0.0:
        return 1
    return max(0, math.ceil(math.log(eps) / math.log(rate)))


def steps_needed(candidate: Callable[[float, float], int]) -> None:
    """Exercise 3: the number of optimal-step GD steps that shrink the error by ``eps``."""
    cases = [(10.0, 1e-6), (100.0, 1e-3), (2.0, 1e-10), (1000.0, 1e-8), (1.5, 0.5)]
    function(
        candidate, _steps_needed_reference, cases, what="steps_needed(kappa, eps)",
        hint="the error after k steps is rate**k times the start, with rate = (kappa-1)/(kappa+1); "
             "solve rate**k <= eps for the smallest whole k (math.ceil of a ratio of logs).",
        rtol=0.0,
    )


def best_lr_on_valley(answer: object, mu: float, L: float) -> None:
    """Exercise 4: an empirically best step found by a scan must be near 2/(mu+L)."""
    if answer is None:
        raise NotYet("No answer yet. Hint: scan lr on a grid, count the steps to the tolerance, "
                     "take the argmin.")
    value = as_number(answer, "the best learning rate")
    best, _ = theory.optimal_gd(mu, L)
    rel = abs(value - best) / best
    if not np.isfinite(value) or value <= 0:
        raise NotYet(f"a learning rate must be a positive number; got {value}.")
    if value >= 2.0 / L:
        raise NotYet(f"lr = {value:.4g} is at or past the stability limit 2/L = {2 / L:.4g}: "
                     "it cannot be the fastest. Hint: look at where your step count is smallest, "
                     "not largest.")
    if rel > 0.05:
        raise NotYet(f"lr = {value:.4g} is {100 * rel:.0f}% away from the optimum {best:.4g}. "
                     "Hint: use a finer grid near the minimum of your step counts.")
    passed(f"your scan found lr = {value:.4g}, within {100 * rel:.1f}% of 2/(mu+L) = {best:.4g}.")
