"""Self-checks for lesson 01, gradient descent.

Tolerances (stated in each exercise's text): numbers asked for by hand are accepted to three
significant figures (a relative error up to :data:`REL_TOL`); ``steps_needed`` must give the exact
whole number; the scan of exercise 4 is judged by the number of steps its learning rate needs,
which the check counts itself from the closed form of gradient descent on the valley (it must be the
fewest any learning rate needs, exactly: the formula's 2/(mu+L) needs one more); the scan's
step counts must be the exact ones (recounted from the closed form), so that the formula's value alone
cannot pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from .. import surfaces
from . import NotYet, _numeric_kind, _plain, as_number, number, passed, run_answer

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
            "one_over_L": (1.0 / L, "that is 1/L, the step that kills the steep direction in one step "
                                    "(a safe choice, not the threshold), or 2/8, with the curvature of "
                                    "0.5 * 4 x^2 taken as 8: its second derivative is 4."),
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
    rate_mistakes = {
        "square_root": (math.sqrt(best_rate), "that is the square root of the rate: rho* itself is "
                                              "(kappa-1)/(kappa+1), with no root (the error shrinks by "
                                              "rho* per step)."),
        "kappa": (1 - mu / L, "1 - 1/kappa is the rate of the step 1/L, not of the optimal step."),
        "squared": (best_rate**2, "that is rho^2, the factor of the loss gap per step; "
                                  "the rate of the error is rho."),
        "momentum": ((math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1),
                     "(sqrt(kappa)-1)/(sqrt(kappa)+1) is the rate of momentum at its "
                     "optimal pair (lesson 04), not of gradient descent."),
    }
    # sqrt(rho*) = 0.9393 and 1 - 1/kappa = 0.9375 lie 0.2 % apart, within the tolerance of both: the
    # nearer one names the mistake (0.939 is the root, 0.938 or 0.9375 the step 1/L).
    try:
        value = as_number(rate, "the rate")
    except NotYet:
        value = None  # number() below says what is wrong with the answer
    if value is not None:
        rate_mistakes = dict(sorted(rate_mistakes.items(),
                                    key=lambda item: abs(value - item[1][0]) / abs(item[1][0])))
    number(rate, best_rate, what="the rate (kappa-1)/(kappa+1)", rtol=REL_TOL,
           hint="put the optimal step into max(|1 - lr*mu|, |1 - lr*L|).", mistakes=rate_mistakes)


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
    "approximation_rounded": (lambda kappa, eps: round(kappa / 2 * math.log(1 / eps)),
                              "that is the approximation (kappa/2) ln(1/eps), rounded, valid for kappa >> 1; "
                              "the question asks for the exact count from the rate (kappa-1)/(kappa+1)."),
    "approximation_floor": (lambda kappa, eps: math.floor(kappa / 2 * math.log(1 / eps)),
                            "that is the approximation (kappa/2) ln(1/eps), rounded down, valid for "
                            "kappa >> 1; the question asks for the exact count from the rate "
                            "(kappa-1)/(kappa+1)."),
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
    values = []
    for kappa, eps in cases:
        got = _plain(run_answer(candidate, kappa, eps, name="steps_needed", hint=hint,
                                crashed=f"steps_needed({kappa:g}, {eps:g}) raised {{type}}: {{error}}. "
                                f"Hint: {hint}"))
        values.append(as_number(got, f"steps_needed({kappa:g}, {eps:g})", hint))
    wants = [_steps_needed_reference(kappa, eps) for kappa, eps in cases]
    wrong_at = [i for i, (value, want) in enumerate(zip(values, wants, strict=True)) if value != want]
    if wrong_at:
        i = wrong_at[0]
        (kappa, eps), value, want = cases[i], values[i], wants[i]

        def matches(wrong: Callable[[float, float], float], j: int) -> bool:
            return math.isclose(values[j], wrong(*cases[j]), rel_tol=1e-12)

        # The mistake that gives all six of the answers first, then one that gives this one.
        for consistent in (True, False):
            for wrong, explanation in _STEPS_MISTAKES.values():
                if all(matches(wrong, j) for j in (range(len(cases)) if consistent else [i])):
                    raise NotYet(f"steps_needed({kappa:g}, {eps:g}) gives {value:g}, not {want}: "
                                 f"{explanation} Hint: {hint}")
        raise NotYet(f"steps_needed({kappa:g}, {eps:g}) gives {value:g}; expected {want}. Hint: {hint}")
    passed(f"steps_needed(kappa, eps) agrees with the exact count on {len(cases)} cases.")


# Exercise 4: the valley, start and tolerance of the exercise text (fixed here, not passed in).
VALLEY_EIGENVALUES = (0.3, 6.0)
VALLEY_ANGLE = 0.4
VALLEY_START = (3.0, 2.0)
VALLEY_TOL = 1e-10
MIN_GRID = 10  # a scan: at least this many different learning rates
NOT_REACHED = 10**6  # a count of None, nan, inf or at least this: "the run did not get there"


@lru_cache(maxsize=1)
def _valley_modes() -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues lambda_i and the start's eigen-coordinates z_i of the exercise's valley."""
    valley = surfaces.quadratic(VALLEY_EIGENVALUES, angle=VALLEY_ANGLE)
    lam, Q = np.linalg.eigh(valley.hessian)
    return lam, Q.T @ np.asarray(VALLEY_START)


def _first_step(lr: np.ndarray, weights: np.ndarray, tol: float) -> np.ndarray:
    """The smallest k with sum_i weights_i (1 - lr lambda_i)^(2k) <= tol, for each lr in (0, 2/L)
    (the sum falls monotonically in k there, so a bisection finds k), as floats; inf where no k up to
    2^53 gets there (an lr so small that 1 - lr lambda rounds to 1)."""
    lam, _ = _valley_modes()
    if np.any(lr <= 0) or np.any(lr >= 2 / lam.max()):
        raise ValueError("the closed-form count needs 0 < lr < 2/L")
    factor2 = (1 - lr[:, None] * lam) ** 2  # (n, 2), each < 1

    def value(k: np.ndarray) -> np.ndarray:
        return np.sum(weights * factor2 ** k[:, None], axis=1)

    lo = np.zeros(lr.shape)  # value(lo) > tol (the start's loss gap is about 14)
    hi = np.ones(lr.shape)
    while np.any(small := (value(hi) > tol) & (hi < 2.0**53)):
        hi = np.where(small, 2 * hi, hi)
    never = value(hi) > tol
    hi[never], lo[never] = 1.0, 0.0  # left out of the bisection
    while np.any(hi - lo > 1):
        mid = np.floor((lo + hi) / 2)
        above = value(mid) > tol
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return np.where(never, np.inf, hi)


def _valley_gap(lr: float, k: float) -> float:
    """The loss gap 0.5 sum_i lambda_i (1 - lr lambda_i)^(2k) z_i^2 after k steps of ``lr`` (closed form)."""
    lam, z = _valley_modes()
    return float(0.5 * np.sum(lam * z**2 * (1 - lr * lam) ** (2 * k)))


def _valley_steps(lr: float | np.ndarray) -> np.ndarray:
    """Steps gradient descent needs on the exercise's valley, from its start, until the loss gap
    0.5 sum_i lambda_i (1 - lr lambda_i)^(2k) z_i^2 is at most 1e-10 (closed form, no simulation).
    ``lr`` must lie in (0, 2/L)."""
    lam, z = _valley_modes()
    return _first_step(np.atleast_1d(np.asarray(lr, dtype=float)), 0.5 * lam * z**2, VALLEY_TOL)


def _valley_steps_to_distance(lr: np.ndarray) -> np.ndarray:
    """A common mistake: the steps until |x_k| <= 1e-10 instead of the loss gap."""
    _, z = _valley_modes()
    return _first_step(lr, z**2, VALLEY_TOL**2)


def _all_valley_steps(lr: np.ndarray) -> np.ndarray:
    """_valley_steps for any lr; inf where lr <= 0 or lr >= 2/L (gradient descent does not converge),
    with L the valley's largest eigenvalue as _first_step computes it (eigh's, a rounding above 6)."""
    out = np.full(lr.shape, np.inf)
    ok = (lr > 0) & (lr < 2 / _valley_modes()[0].max())
    if ok.any():
        out[ok] = _valley_steps(lr[ok])
    return out


@lru_cache(maxsize=1)
def _valley_fewest_steps() -> tuple[int, float, float]:
    """The fewest steps any learning rate needs on the valley, and the interval of lrs that need them
    (a scan of 20,001 rates over (0.25, 2/L), finer than the width of that interval)."""
    L = max(VALLEY_EIGENVALUES)
    grid = np.linspace(0.25, 2 / L, 20_001)[:-1]
    counts = _valley_steps(grid)
    best = counts.min()
    return int(best), float(grid[counts == best].min()), float(grid[counts == best].max())


def _scan_grid(grid: object, hint: str) -> np.ndarray:
    if grid is None or grid is Ellipsis:
        raise NotYet(f"No scan yet: pass the grid of learning rates you ran. Hint: {hint}")
    grid = _plain(grid)
    if isinstance(grid, str | bytes):
        _numeric_kind(grid, "the grid of learning rates", f" Hint: {hint}")
    if np.ndim(grid) == 0:
        raise NotYet("the first argument is the grid of learning rates you scanned (an array), not a single "
                     f"number: the exercise asks for a scan, not for one learning rate. Hint: {hint}")
    _numeric_kind(grid, "the grid of learning rates", f" Hint: {hint}")
    lrs = np.asarray(grid, dtype=float)
    if lrs.ndim != 1:
        raise NotYet(f"the grid should be a 1-D array of learning rates; got shape {lrs.shape}. Hint: {hint}")
    if not np.all(np.isfinite(lrs)):
        raise NotYet(f"the grid of learning rates should hold finite numbers. Hint: {hint}")
    return lrs


def _scan_counts(counts: object, n: int, hint: str) -> np.ndarray:
    """The student's step counts as floats, NaN for None (a run that did not get there)."""
    if counts is None or counts is Ellipsis:
        raise NotYet(f"No step counts yet: pass one count per learning rate of your grid. Hint: {hint}")
    counts = _plain(counts)
    if np.ndim(counts) == 0 or isinstance(counts, str | bytes):
        raise NotYet(f"the step counts should be a list or array, one per learning rate of your grid; "
                     f"got {counts!r}. Hint: {hint}")
    items = [np.nan if c is None else c for c in counts]
    _numeric_kind(items, "the step counts", f" Hint: {hint}")
    values = np.asarray(items, dtype=float)
    if values.shape != (n,):
        raise NotYet(f"you pass {values.size} step counts for {n} learning rates: one count per learning "
                     f"rate, in the order of the grid. Hint: {hint}")
    return values


def best_lr_on_valley(grid: object, counts: object, best_lr: object) -> None:
    """Exercise 4: a scan of learning rates, its step counts and the lr with the fewest. The counts
    must be the exact ones (recounted from the closed form); the lr is judged by the steps it needs
    (exactly the fewest any lr needs). The lr may be a grid value with the fewest steps of the scan, or
    that value rounded, as long as the rounded lr itself needs those fewest steps."""
    mu, L = VALLEY_EIGENVALUES
    hint = ("run gradient descent for every lr of your grid in one call, count the steps until the loss "
            "gap is at most 1e-10 (steps_to(1e-10)), and report the lr whose count is smallest.")
    lrs = _scan_grid(grid, hint)
    if np.unique(lrs).size < MIN_GRID:
        raise NotYet(f"your grid has {np.unique(lrs).size} different learning rates; a scan needs at least "
                     f"{MIN_GRID}: the exercise asks you to find the best step by experiment, not from the "
                     f"formula 2/(mu+L). Hint: {hint}")
    if np.any(lrs <= 0):
        raise NotYet(f"a learning rate is positive; your grid holds {lrs[lrs <= 0][0]:g}. Hint: {hint}")
    if np.all(lrs >= 1) and np.all(lrs == np.round(lrs)):
        raise NotYet("your grid looks like step counts, not learning rates: pass the grid first, then the "
                     f"counts, then the best learning rate. Hint: {hint}")
    c = _scan_counts(counts, lrs.size, hint)
    reached = np.isfinite(c) & (c < NOT_REACHED)
    if not reached.any():
        raise NotYet("none of your runs brought the loss gap to 1e-10: run more steps (a few hundred "
                     f"suffice near the best learning rate). Hint: {hint}")
    if np.any(c[reached] < 0) or np.any(c[reached] != np.round(c[reached])):
        raise NotYet(f"step counts are whole numbers, 0 or more. Hint: {hint}")
    true = _all_valley_steps(lrs)
    wrong = reached & (c != true)
    if wrong.any():  # a count one off is accepted where the gap at that step is 1e-10 up to rounding
        for i in np.flatnonzero(wrong):
            k = min(c[i], true[i])
            if abs(c[i] - true[i]) == 1 and abs(_valley_gap(lrs[i], k) / VALLEY_TOL - 1) < 1e-9:
                wrong[i] = False
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        if np.all(c[reached] == true[reached] + 1):
            why = ("every count is one too many: steps_to gives the index k of the first iterate x_k with a "
                   "gap of 1e-10 or below (x_0 is the start, step 0), not the number of iterates up to it.")
        elif np.all(c[reached] == true[reached] - 1):
            why = ("every count is one too few: count the steps k of the first x_k with a gap of 1e-10 "
                   "or below.")
        elif np.all(np.isfinite(true[reached])) and np.array_equal(
                c[reached], _valley_steps_to_distance(lrs[reached]).astype(float)):
            why = ("these are the steps until |x_k| <= 1e-10; the exercise counts the steps until the loss "
                   "gap f(x_k) - f* is 1e-10 or below.")
        elif np.isinf(true[i]) and lrs[i] >= 2 / L:
            why = (f"at lr = {lrs[i]:.4g} >= 2/L = {2 / L:.4g} gradient descent does not converge on this "
                   "valley.")
        elif np.isinf(true[i]):  # a count over 2^53: an lr so small, or so near 2/L, that it never ends
            why = (f"at lr = {lrs[i]:.4g} gradient descent needs more than 2^53 steps (about 9e15) to get "
                   "there: it never gets there in a run.")
        else:
            why = f"from the start (3, 2) the loss gap first reaches 1e-10 at step {true[i]:.0f} there."
        raise NotYet(f"for lr = {lrs[i]:.4g} your count is {c[i]:.0f}, not {true[i]:.0f}: {why} Hint: {hint}")
    missing = ~reached
    if missing.any() and true[missing].min() <= c[reached].max():
        i = int(np.flatnonzero(missing)[np.argmin(true[missing])])
        longest = lrs[reached][np.argmax(c[reached])]
        raise NotYet(f"for lr = {lrs[i]:.4g} your scan has no count, but gradient descent gets the loss "
                     f"gap to 1e-10 there at step {true[i]:.0f}, before the {c[reached].max():.0f} steps you "
                     f"count for lr = {longest:.4g}: run every learning rate for the same number of steps "
                     f"and count them all. Hint: {hint}")
    value = as_number(best_lr, "the best learning rate", hint)
    fewest_yours = c[reached].min()
    yours = lrs[reached & (c == fewest_yours)]
    own = _all_valley_steps(np.array([value]))[0]  # the steps value itself needs (inf: never)
    rounded_ok = own == fewest_yours  # e.g. 0.313 for 0.31303
    if not np.any(np.isclose(value, yours, rtol=1e-9, atol=0.0)) and not rounded_ok:
        if math.isclose(value, 2 / (mu + L), rel_tol=1e-3):
            why = (f"{value:.4g} is 2/(mu+L), from the formula the exercise asks you not to use; the "
                   "best learning rate of your scan")
        elif math.isclose(value, lrs[reached].max(), rel_tol=1e-9):
            why = (f"lr = {value:.4g} is the largest learning rate of your grid that converges, not the one "
                   "with the fewest steps; that")
        else:
            why = f"lr = {value:.4g} is not the learning rate of your scan with the fewest steps; that"
        needs = f"needs {own:.0f}" if np.isfinite(own) else "never gets the gap to 1e-10"
        raise NotYet(f"{why} is {yours[0]!r}, with {fewest_yours:.0f} steps, and {value!r} itself {needs}. "
                     "Hint: report grid[counts.argmin()].")
    fewest, lo, hi = _valley_fewest_steps()
    steps = int(own)  # finite: value is a scanned lr that got there, or rounded_ok
    if steps == fewest:
        opt_steps = int(_valley_steps(2 / (mu + L))[0])
        passed(f"your scan of {lrs.size} learning rates has the exact counts; lr = {value:.4g} needs {steps} "
               f"steps, and the fewest any learning rate needs is {fewest} (for lr in [{lo:.4f}, {hi:.4f}]); "
               f"2/(mu+L) = {2 / (mu + L):.4f} needs {opt_steps}.")
        return
    ratio = steps / fewest
    if value > 0.97 * 2 / L:
        raise NotYet(f"lr = {value:.4g} needs {steps} steps, {ratio:.1f} times the fewest ({fewest}): "
                     f"just below the threshold 2/L = {2 / L:.4g} the steep direction's factor "
                     f"1 - lr*L = {1 - value * L:+.3f} hardly shrinks. Hint: scan the learning rates below "
                     "it; the fewest steps are not at the largest lr that converges.")
    if value > hi:
        side = ("above the fastest rates (past them the steep direction shrinks more slowly and the "
                "count rises steeply)")
    else:
        side = "below the fastest rates (the flat direction is slower there)"
    near_formula = abs(value - 2 / (mu + L)) < 0.005
    formula = (f" (2/(mu+L) = {2 / (mu + L):.4f} itself needs {int(_valley_steps(2 / (mu + L))[0])}: the "
               "fewest are not at the formula's step from this start.)" if near_formula else "")
    raise NotYet(f"the best lr of your scan, {value:.4g}, needs {steps} steps; the fewest any learning "
                 f"rate needs is {fewest}, and the check accepts only an lr that needs the fewest. Your lr "
                 f"is {side}.{formula} Hint: refine your grid near the minimum of your step counts, and "
                 "report the lr at that minimum.")
