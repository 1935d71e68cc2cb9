"""Table test of lesson 01's exercise checks (lessons_lib.checks.gradient_descent).

Right answers, rounded right answers (three significant figures, the tolerance the exercises state)
and the common wrong answers, each accepted or rejected as it should be; a rejection is a
:class:`NotYet` whose message names what is wrong.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_tables import fails, passes

from lessons_lib import optimizers, surfaces
from lessons_lib.checks import NotYet
from lessons_lib.checks import gradient_descent as g01

# ---------------------------------------------------------------- exercise 1: the threshold 2/L


@pytest.mark.parametrize("answer", [0.5, 2 / 4, np.float64(0.5), 0.4995, 0.501])
def test_exercise_1_right(answer, capsys):
    passes(g01.stability_limit, answer, capsys=capsys)


@pytest.mark.parametrize(("answer", "message"), [
    (8.0, "flat direction"),
    (0.25, "kills the steep direction"),
    (2 / 8, "taken as 8"),  # the third review's case: the curvature of 0.5 * 4 x^2 taken as 8
    (1.0, "second derivative"),
    (2 / 4.25, "optimal step"),
    (0.49, "too small"),
    (0.51, "too large"),
    ("0.5", "not the text"),
    (None, "No answer yet"),
    (True, "boolean"),
])
def test_exercise_1_wrong(answer, message):
    assert message in fails(g01.stability_limit, answer)


# ---------------------------------------------------------------- exercise 2: optimal step and rate


@pytest.mark.parametrize(("lr", "rate"), [
    (2 / 8.5, 7.5 / 8.5),
    (0.235, 0.882),  # three significant figures
    (0.2353, 0.8824),
    (np.float64(0.235294), np.float64(0.882353)),
])
def test_exercise_2_right(lr, rate, capsys):
    passes(g01.optimal_step_and_rate, lr, rate, capsys=capsys)


@pytest.mark.parametrize(("lr", "rate", "message"), [
    (0.125, 0.882, "1/L is safe"),
    (0.25, 0.882, "threshold"),
    (1 / 8.5, 0.882, "the 2 is missing"),
    (0.24, 0.882, "too large"),  # two significant figures: 2 % off
    (0.235, 0.9375, "step 1/L"),
    (0.235, 0.938, "step 1/L"),  # 1 - 1/16 to three figures
    # the fourth review's case: sqrt(rho*) = 0.9393 lies within 0.25 % of 1 - 1/16 = 0.9375 as well
    (0.235, math.sqrt(7.5 / 8.5), "square root of the rate"),
    (0.235, 0.9393, "square root of the rate"),
    (0.235, 0.939, "square root of the rate"),
    (0.235, None, "No answer yet"),
    (0.235, True, "not a boolean"),
    (0.235, (7.5 / 8.5) ** 2, "rho^2"),
    (0.235, 0.6, "momentum"),
    (0.235, 0.88, "too small"),  # 0.27 % off
    (0.235, "0.882", "not the text"),
])
def test_exercise_2_wrong(lr, rate, message):
    assert message in fails(g01.optimal_step_and_rate, lr, rate)


# ---------------------------------------------------------------- exercise 3: steps_needed


def right_steps(kappa, eps):
    rate = (kappa - 1) / (kappa + 1)
    return math.ceil(math.log(eps) / math.log(rate))


def right_steps_by_loop(kappa, eps):
    rate, k, error = (kappa - 1) / (kappa + 1), 0, 1.0
    while error > eps:
        error *= rate
        k += 1
    return k


@pytest.mark.parametrize("candidate", [right_steps, right_steps_by_loop,
                                       lambda kappa, eps: float(right_steps(kappa, eps)),
                                       lambda kappa, eps: np.int64(right_steps(kappa, eps))])
def test_exercise_3_right(candidate, capsys):
    passes(g01.steps_needed, candidate, capsys=capsys)


@pytest.mark.parametrize(("candidate", "message"), [
    (lambda kappa, eps: math.ceil(kappa / 2 * math.log(1 / eps)), "approximation"),
    # the third review's case: the approximation rounded to the nearest, not told "rounding down"
    (lambda kappa, eps: round(kappa / 2 * math.log(1 / eps)), "ln(1/eps), rounded"),
    (lambda kappa, eps: math.floor(kappa / 2 * math.log(1 / eps)), "ln(1/eps), rounded down"),
    (lambda kappa, eps: math.floor(math.log(eps) / math.log((kappa - 1) / (kappa + 1))), "round up"),
    (lambda kappa, eps: math.log(eps) / math.log((kappa - 1) / (kappa + 1)), "whole"),
    (lambda kappa, eps: math.ceil(math.log(eps) / math.log(1 - 1 / kappa)), "step 1/L"),
    (lambda kappa, eps: math.ceil(math.log(eps) / (2 * math.log((kappa - 1) / (kappa + 1)))), "loss"),
    (lambda kappa, eps: 100, "expected"),
    (lambda kappa, eps: str(right_steps(kappa, eps)), "not the text"),
    (0.5, "should be a function"),
])
def test_exercise_3_wrong(candidate, message):
    assert message in fails(g01.steps_needed, candidate)


# ---------------------------------------------------------------- exercise 4: the scanned best lr


def test_exercise_4_closed_form_counts_equal_simulated_counts():
    """The check's closed-form count is the count a simulation gives (the lesson's solution's route)."""
    grid = np.linspace(0.05, 0.333, 400)
    valley = surfaces.quadratic(list(g01.VALLEY_EIGENVALUES), angle=g01.VALLEY_ANGLE)
    runs = optimizers.run(valley, list(g01.VALLEY_START), "gd", lr=grid, steps=20_000)
    simulated = np.array([-1 if s is None else s for s in runs.steps_to(g01.VALLEY_TOL)])
    assert np.array_equal(simulated, g01._valley_steps(grid))
    assert g01._valley_fewest_steps()[0] == 120
    assert int(g01._valley_steps(2 / 6.3)[0]) == 121
    distance = np.array([int(np.argmax(np.linalg.norm(p, axis=1) <= 1e-10)) for p in runs.points])
    assert np.array_equal(distance, g01._valley_steps_to_distance(grid))


def scan(points, lo=0.05, hi=0.33, steps=600, sentinel=10**9):
    """The lesson's solution with a grid of ``points`` rates over [lo, hi]: (grid, counts, best lr)."""
    grid = np.linspace(lo, hi, points)
    valley = surfaces.quadratic([0.3, 6.0], angle=0.4)
    raw = optimizers.run(valley, [3.0, 2.0], "gd", lr=grid, steps=steps).steps_to(1e-10)
    counts = np.array([sentinel if c is None else c for c in raw])
    return grid, counts, grid[counts.argmin()]


SOLUTION = scan(561)


def anchored(grid):
    """A grid with its exact counts and its best lr (what a scan anchored on a formula would report)."""
    counts = g01._valley_steps(grid)
    return grid, counts, grid[counts.argmin()]


@pytest.mark.parametrize("args", [
    SOLUTION,
    scan(561, sentinel=np.inf),
    scan(561, steps=300),                         # shorter runs: more lrs without a count
    scan(101, lo=0.3, hi=0.32),                   # a fine grid near the optimum
    (SOLUTION[0], list(SOLUTION[1]), SOLUTION[2]),  # lists
    (list(SOLUTION[0]), [None if c == 10**9 else int(c) for c in SOLUTION[1]], float(SOLUTION[2])),
    (*scan(561)[:2], 0.31300000000000006),        # the best typed back with rounding noise... of the grid
    # the third review's case: grid value 0.313030..., typed as 0.313 (which needs the same 120 steps)
    (*scan(100)[:2], 0.313),
    (*scan(100)[:2], 0.31303),
    scan(100),
])
def test_exercise_4_right(args, capsys):
    out = passes(g01.best_lr_on_valley, *args, capsys=capsys)
    assert "the fewest any learning rate needs is 120" in out and "needs 121" in out


def test_exercise_4_grid_values_one_by_one():
    """Each best lr the check accepts on a grid that contains it: 0.313 to 0.317 (the fewest, 120 steps);
    not 0.31 (122) nor the formula's 2/(mu+L) = 0.3175 (121)."""
    accepted = []
    for best in [0.30, 0.31, 0.313, 0.315, 0.317, 2 / 6.3, 0.32, 0.33]:
        grid = np.sort(np.append(np.linspace(0.05, 0.29, 12), best))
        counts = g01._valley_steps(grid)
        try:
            g01.best_lr_on_valley(grid, counts, best)
            accepted.append(best)
        except NotYet:
            pass
    assert accepted == [0.313, 0.315, 0.317]


def with_best(best, points=12):
    """A grid of exact counts whose best lr is ``best``: the rest of the grid lies on the far side of
    ``best`` from the fastest rates (below 0.29 for a best below them, above it otherwise)."""
    rest = np.linspace(0.05, 0.29, points) if best < 0.31 else np.linspace(best, 0.3333, points + 1)[1:]
    grid = np.sort(np.append(rest, best))
    return grid, g01._valley_steps(grid), best


@pytest.mark.parametrize(("args", "message"), [
    # the review's case: 0.33, the largest lr that converges, reported instead of the scan's best
    ((SOLUTION[0], SOLUTION[1], 0.33), "largest learning rate of your grid that converges"),
    ((SOLUTION[0], SOLUTION[1], 0.33), "not the one with the fewest steps"),
    # the formula's value without a scan, or outside the scan
    ((np.array([2 / 6.3]), np.array([121]), 2 / 6.3), "at least 10"),
    ((2 / 6.3, 121, 2 / 6.3), "not a single number"),
    ((SOLUTION[0], SOLUTION[1], 2 / 6.3), "formula the exercise asks you not to use"),
    # a scan whose own best is too far from the fewest
    (with_best(0.325), "hardly shrinks"),
    (with_best(0.32), "140 steps"),
    (with_best(0.32), "above the fastest"),
    (with_best(0.30), "126 steps"),
    (with_best(0.30), "below the fastest"),
    (scan(10), "refine your grid"),
    (scan(29), "needs 122 steps"),                # a coarse grid's best, 0.31: 2 % over the fewest
    (scan(29), "accepts only an lr that needs the fewest"),
    # grids anchored on the formula (the second review's cases): 2/(mu+L) needs 121, one over the fewest
    (anchored(np.linspace(0.25, 2 / 6.3, 10)), "itself needs 121"),
    (anchored(np.linspace(2 / 6.3, 0.33, 10)), "needs 121 steps"),
    (anchored(np.linspace(2 / 6.3, 0.33, 10)), "above the fastest"),
    (anchored(np.linspace(0.05, 2 / 6.3, 40)), "0.3106, needs 121 steps"),
    # counts that are not the grid's
    ((SOLUTION[0], SOLUTION[1] + 1, SOLUTION[2]), "one too many"),
    ((SOLUTION[0], np.where(SOLUTION[1] < 10**9, SOLUTION[1] - 1, 10**9), SOLUTION[2]), "one too few"),
    ((SOLUTION[0], np.full(561, 120), SOLUTION[2]), "your count is 120, not"),
    ((SOLUTION[0], SOLUTION[1][::-1], SOLUTION[2]), "your count is"),
    ((SOLUTION[0], SOLUTION[1][:-1], SOLUTION[2]), "one count per learning rate"),
    ((SOLUTION[1], SOLUTION[0], SOLUTION[2]), "looks like step counts"),
    ((SOLUTION[0], np.full(561, 10**9), SOLUTION[2]), "none of your runs"),
    ((SOLUTION[0], [None if 0.19 < lr < 0.2 else c for lr, c in zip(*SOLUTION[:2], strict=True)],
      SOLUTION[2]), "your scan has no count"),
    ((PAST := np.linspace(0.05, 0.34, 30), np.nan_to_num(g01._all_valley_steps(PAST), posinf=700), 0.1),
     "does not converge"),
    ((np.linspace(-0.1, 0.3, 30), np.ones(30), 0.1), "positive"),
    (("0.313", SOLUTION[1], SOLUTION[2]), "not the text"),
    ((None, None, None), "No scan yet"),
    ((SOLUTION[0], None, SOLUTION[2]), "No step counts yet"),
    ((SOLUTION[0], SOLUTION[1], None), "No answer yet"),
    ((SOLUTION[0], SOLUTION[1], "0.313"), "not the text"),
])
def test_exercise_4_wrong(args, message):
    assert message in fails(g01.best_lr_on_valley, *args)


def test_exercise_4_a_rounded_lr_that_needs_more_steps_is_told_in_full():
    """The scan's best, 0.313030..., typed as 0.31 (122 steps): the message shows both values in full."""
    grid, counts, best = scan(100)
    message = fails(g01.best_lr_on_valley, grid, counts, 0.31)
    assert repr(float(best)) in message and "0.31 itself needs 122" in message


def test_exercise_4_distance_instead_of_loss_gap():
    grid = np.linspace(0.05, 0.33, 57)
    counts = g01._valley_steps_to_distance(grid)
    assert "|x_k| <= 1e-10" in fails(g01.best_lr_on_valley, grid, counts, grid[counts.argmin()])


def test_exercise_4_formula_value_alone_cannot_pass():
    """2/(mu+L) = 0.3175 with a made-up scan around it: the counts are recounted and must be exact."""
    grid = np.linspace(0.31, 0.325, 16)
    fake = np.where(np.isclose(grid, 0.3175, atol=5e-4), 100, 200)
    assert "your count is" in fails(g01.best_lr_on_valley, grid, fake, grid[fake.argmin()])


@pytest.mark.parametrize("best", [0.0, -0.1])
def test_exercise_4_an_lr_never_set_gets_a_message(best):
    """best_lr left at 0 (a loop that never updated it) or negative: a message, not the closed form's
    ValueError (review, session 25)."""
    grid, counts, _ = scan(100)
    assert "never gets the gap to 1e-10" in fails(g01.best_lr_on_valley, grid, counts, best)


def test_exercise_4_a_tiny_learning_rate_in_the_grid_is_counted_as_never(capsys):
    """A log-spaced grid from 1e-17: 1 - lr * lambda rounds to 1, so the closed form counts no step
    (inf) instead of doubling its bracket for ever (review, session 25: the check hung)."""
    assert np.isinf(g01._all_valley_steps(np.array([1e-17]))).all()
    grid = np.r_[1e-17, np.linspace(0.05, 0.33, 20)]
    reached = g01._valley_steps(grid[1:])
    best = grid[1:][reached.argmin()]
    passes(g01.best_lr_on_valley, grid, np.r_[np.nan, reached], best, capsys=capsys)  # nan: never there
    message = fails(g01.best_lr_on_valley, grid, np.r_[5, reached], best)
    assert "your count is 5, not inf" in message and "never gets there" in message and "2/L" not in message


def test_exercise_4_an_lr_just_below_the_computed_limit_gets_a_message():
    """2/L as eigh computes L (6.000000000000001) is just below 1/3: an lr between them crashed the
    rounded-lr test with the closed form's ValueError (review, session 25)."""
    grid, counts, _ = scan(100)
    fails(g01.best_lr_on_valley, grid, counts, np.nextafter(1 / 3, 0))
