"""Self-checks for lesson 06, beyond quadratics.

The checks recognise the lesson's common wrong answers: for the descent guarantee
``|grad f|^2 / (2L)``, the factor 1/2 left out, the norm not squared, ``L`` multiplied instead of
divided, no ``L`` at all, the squared step ``|g|^2/L^2``, a quarter and the change of ``f`` (negative)
given for the decrease; for the slope
reading, the ratio inverted (log k over log gap), the sign, a log of the gap ratio not divided by the
log of the k ratio, and a gap extrapolated with slope -1 or from the wrong point; for FISTA, the
section's ``(k-1)/(k+2)`` sequence, the sequence shifted by one step, ``t_{k+1}`` without the square,
``t_1 = 0``, ``t_{k+1}`` without the 4, ``beta_k = (t_{k+1}-1)/t_{k+1}`` or ``(t_k-1)/t_k``, the momenta one
step behind, the gradient taken at ``x_k`` instead of the look-ahead point ``y_k``, the look-ahead points
returned instead of ``x_k``, and gradient descent;
for the measured slope of exercise 4, the bound's -1 (and the lesson's own x~_(0,i) = 1 run), Nesterov's -2,
the sign, x~ = sqrt(lam), the exponent k or 4k for 2k, 20 or 22 eigenvalues, L = 1, wrong fit windows and
x~ = 1/lam or |x - x*|^2; for L of exercise 5, no 1/4, no 1/m, the singular value, the trace, 1/2, the
smallest eigenvalue, section 1's data and the largest per-row |z_i|^2/4; for the rate of exercise 6,
|sigma| not squared, the steep component's factor, sqrt(beta), gradient descent's factor (also at the
effective rate lr/(1-beta)), Nesterov's matrix and section 4's setting lr = 1e-3, beta = 0.9.

Tolerances (stated in the exercise text): exercise 1 within 0.1 %, exercise 2 within 1 % (each number),
exercise 3 every iterate to a relative 1e-9 of :func:`lessons_lib.smooth_convex.nesterov_convex`
with ``sequence="fista"``, exercise 4 within 0.0005 of the slope the check measures itself (-0.0651),
exercise 5 within 0.1 % of :func:`lessons_lib.smooth_convex.logistic_smoothness`, exercise 6 within 0.001 %.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import smooth_convex, surfaces
from . import NotYet, _plain, array, as_number, number, passed, run_answer


def guaranteed_decrease(answer: object) -> None:
    """Exercise 1: L = 5, |grad f| = 3, step 1/L: f decreases by at least |grad f|^2 / (2L) = 0.9."""
    L, g = 5.0, 3.0
    number(
        answer, g**2 / (2 * L), what="the guaranteed decrease for L = 5, |grad f| = 3, step 1/L",
        rtol=1e-3,
        hint="put lr = 1/L into f(x - lr g) <= f(x) - lr (1 - L lr / 2) |g|^2: the decrease is |g|^2 / (2L).",
        mistakes={
            "no_half": (g**2 / L, "|g|^2 / L leaves out the factor 1 - L lr / 2 = 1/2 of the descent lemma."),
            "not_squared": (g / (2 * L), "the gradient's norm enters squared: |g|^2, not |g|."),
            "times_L": (L * g**2 / 2,
                        "L belongs in the denominator: a larger L (more curvature) guarantees less."),
            "no_L": (g**2 / 2, "divide by L as well: the step is 1/L, and the decrease scales with it."),
            "negative": (-(g**2) / (2 * L), "that is the change of f, which is negative; the decrease is "
                                            "positive."),
            "quarter": (g**2 / (4 * L), "|g|^2 / (4L) is half the guarantee; the decrease at lr = 1/L is "
                                        "lr (1 - 1/2) |g|^2."),
            "two_L_squared": (g**2 / (2 * L**2), "that divides by L twice; the step 1/L multiplies |g|^2 "
                                                 "once, and the factor 1 - L lr / 2 = 1/2 has no L left."),
            "zero": (0.0, "0 is the guarantee at lr = 2/L, where 1 - L lr / 2 = 0; at lr = 1/L the factor "
                          "is 1/2."),
            "step_squared": (g**2 / L**2, "that is lr^2 |g|^2 = |g|^2 / L^2, the squared length of the step; "
                                          "the decrease is lr (1 - L lr / 2) |g|^2."),
        },
    )


def slope_reading(slope: object, gap: object) -> None:
    """Exercise 2: gaps 4.0e-3 at k = 250 and 2.5e-4 at k = 1000: slope -2, and 3.90625e-6 at k = 8000."""
    k1, g1, k2, g2, k3 = 250.0, 4.0e-3, 1000.0, 2.5e-4, 8000.0
    want_slope = math.log(g2 / g1) / math.log(k2 / k1)
    want_gap = g2 * (k3 / k2) ** want_slope
    hint_slope = "slope = log(gap2 / gap1) / log(k2 / k1), with any one base of logarithm for both."
    value = as_number(slope, "slope_2", hint_slope)
    mistakes = {
        "inverted": (1 / want_slope, "that is log(k2/k1) / log(gap2/gap1), the ratio upside down."),
        "sign": (-want_slope, "the gap falls as k grows, so the slope is negative."),
        "log10_only": (math.log10(g2 / g1), "that is log10(gap2/gap1) alone; divide by log10(k2/k1)."),
        "ln_only": (math.log(g2 / g1), "that is ln(gap2/gap1) alone; divide by ln(k2/k1)."),
        "linear": ((g2 - g1) / (k2 - k1),
                   "that is the slope on linear axes; on log-log axes take logarithms."),
    }
    if not np.isclose(value, want_slope, rtol=1e-2, atol=0.0):
        for wrong, explanation in mistakes.values():
            if np.isclose(value, wrong, rtol=1e-2, atol=0.0):
                raise NotYet(f"slope_2 = {value:.6g} is not the log-log slope: {explanation} "
                             f"Hint: {hint_slope}")
        raise NotYet(f"slope_2 = {value:.6g} is not the log-log slope through the two points. "
                     f"Hint: {hint_slope}")
    hint_gap = "on the line, gap(k) = gap(1000) * (k / 1000) ** slope."
    value_gap = as_number(gap, "gap_2", hint_gap)
    gap_mistakes = {
        "slope_1": (g2 * (k3 / k2) ** -1.0, "that continues with slope -1 (gradient descent's order); use "
                                           "the slope you measured."),
        "up": (g2 * (k3 / k2) ** -want_slope, "that continues the line upwards: (k/1000) ** slope with a "
                                             "negative slope shrinks the gap."),
        "from_first_point": (g1 * (k3 / k2) ** want_slope,
                             "the factor (8000/1000) ** slope applies to the gap at k = 1000, not to the one "
                             "at k = 250."),
        "linear": (g2 + (g2 - g1) / (k2 - k1) * (k3 - k2), "that continues a straight line on linear axes."),
        "ln_gap": (math.log(want_gap), "that is the natural logarithm of the gap; give the gap itself, "
                                       "exp of it."),
        "log10_gap": (math.log10(want_gap), "that is log10 of the gap; give the gap itself, 10 ** it."),
    }
    if np.isclose(value_gap, want_gap, rtol=1e-2, atol=0.0):
        passed(f"slope_2 = {want_slope:g} (a 1/k^2 rate, Nesterov's order) and gap_2 = {want_gap:.6g}.")
        return
    for wrong, explanation in gap_mistakes.values():
        if np.isclose(value_gap, wrong, rtol=1e-2, atol=0.0):
            raise NotYet(f"gap_2 = {value_gap:.6g} is not the gap at k = 8000: {explanation} "
                         f"Hint: {hint_gap}")
    side = "too large" if value_gap > want_gap else "too small"
    raise NotYet(f"gap_2 = {value_gap:.6g} is {side} for the gap at k = 8000 (slope_2 is right). "
                 f"Hint: {hint_gap}")


def _fista_betas(steps: int, kind: str) -> np.ndarray:
    """Momenta of the wrong variants of exercise 3 (and of the right one, kind "fista")."""
    if kind in ("fista", "k"):
        return smooth_convex.momentum_sequence(steps, kind)
    if kind == "behind":  # beta_k = FISTA's beta_(k-1)
        beta = np.zeros(steps)
        beta[1:] = smooth_convex.momentum_sequence(steps, "fista")[:-1]
        return beta
    t = np.zeros(steps + 3)
    t[1] = 0.0 if kind == "t1_zero" else 1.0
    for i in range(2, steps + 3):
        inside = {"no_square": 4 * t[i - 1], "no_four": t[i - 1] ** 2}.get(kind, 4 * t[i - 1] ** 2)
        t[i] = (1 + np.sqrt(1 + inside)) / 2
    beta = np.zeros(steps)
    if kind == "shifted":  # beta_k = (t_{k+1} - 1) / t_{k+2}, from k = 1
        beta[1:] = (t[2:steps + 1] - 1) / t[3:steps + 2]
    elif kind == "same_t":  # beta_k = (t_{k+1} - 1) / t_{k+1}
        beta[1:] = (t[2:steps + 1] - 1) / t[2:steps + 1]
    elif kind == "t_over_t":  # beta_k = (t_k - 1) / t_k
        beta[1:] = (t[1:steps] - 1) / t[1:steps]
    else:
        beta[1:] = (t[1:steps] - 1) / t[2:steps + 1]
    return beta


def _variant(grad: Callable, x0: np.ndarray, L: float, steps: int, kind: str) -> list[np.ndarray]:
    """The iterates of a right or wrong FISTA; "at_x": the gradient at x_k, "gd": no momentum,
    "lookahead": the look-ahead points y_k returned instead of x_k, in two plausible row layouts
    (x_0, y_1, ..., y_steps and x_0, y_0, ..., y_(steps-1))."""
    base = {"gd": "none", "at_x": "fista", "lookahead": "fista"}.get(kind, kind)
    betas = np.zeros(steps + 1) if base == "none" else _fista_betas(steps + 1, base)
    x = np.array(x0, dtype=float)
    previous, path, looks = x.copy(), [x.copy()], [x.copy()]
    for k in range(steps + 1):
        y = x + betas[k] * (x - previous)
        looks.append(y.copy())
        if k == steps:
            break
        point = x if kind == "at_x" else y
        previous, x = x, y - np.asarray(grad(point), dtype=float) / L
        path.append(x.copy())
    if kind == "lookahead":
        return [np.array([x0, *looks[2:]]), np.array(looks[:-1])]
    return [np.array(path)]


_VARIANT_MESSAGES = {
    "k": "these are the iterates of section 2's sequence beta_k = (k-1)/(k+2), close to FISTA's but not "
         "equal; compute t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2 and beta_k = (t_k - 1) / t_{k+1}.",
    "shifted": "your momenta are one step ahead: at step k (k >= 1) use beta_k = (t_k - 1) / t_{k+1} "
               "with t_1 = 1, so beta_1 = 0 and beta_2 = (t_2 - 1) / t_3.",
    "behind": "your momenta are one step behind: at step k (k >= 1) use beta_k = (t_k - 1) / t_{k+1} "
              "with t_1 = 1, so beta_2 = (t_2 - 1) / t_3 = 0.2818, not 0 (update t before the step).",
    "no_square": "t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2 squares t_k inside the root.",
    "no_four": "t_{k+1} = (1 + sqrt(1 + 4 t_k^2)) / 2 has the factor 4 inside the root.",
    "same_t": "beta_k = (t_k - 1) / t_{k+1}: the numerator uses t_k, the denominator t_{k+1}; yours uses "
              "t_{k+1} in both.",
    "t_over_t": "beta_k = (t_k - 1) / t_{k+1}: the denominator is the next t, t_{k+1}; yours divides by t_k.",
    "t1_zero": "the sequence starts at t_1 = 1, not 0 (with t_1 = 0 the first momentum is negative).",
    "at_x": "the gradient is taken at the look-ahead point y_k, not at x_k: x_{k+1} = y_k - grad(y_k) / L.",
    "lookahead": "these are the look-ahead points y_k (the point PyTorch stores), not the iterates: return "
                 "x_0, x_1, ..., x_steps, where x_{k+1} = y_k - grad(y_k) / L.",
    "gd": "these are gradient descent's iterates: add the momentum term beta_k (x_k - x_{k-1}) to get y_k.",
}


def _cases() -> list[tuple[str, Callable, np.ndarray, float, int]]:
    """Three problems: under-determined least squares, logistic regression, a 2-D quadratic."""
    rng = np.random.default_rng(20090101)
    A = rng.standard_normal((4, 6))
    b = rng.standard_normal(4)
    X = rng.standard_normal((30, 3))
    y = np.where(rng.random(30) < 0.5, -1.0, 1.0)
    s = surfaces.quadratic([0.01, 1.0], angle=0.4)
    return [
        ("least squares with 4 equations, 6 unknowns", lambda x: A.T @ (A @ x - b), rng.standard_normal(6),
         float(np.linalg.eigvalsh(A.T @ A)[-1]), 40),
        ("logistic regression", lambda w: smooth_convex.logistic_grad(w, X, y), np.array([2.0, -1.0, 0.5]),
         smooth_convex.logistic_smoothness(X), 30),
        ("the quadratic with eigenvalues 0.01 and 1", s.grad, np.array([3.0, 1.0]), 1.0, 50),
    ]


def fista_iterates(candidate: Callable) -> None:
    """Exercise 3: ``fista(grad, x0, L, steps)`` equals the reference FISTA, every iterate to a relative
    1e-9."""
    if not callable(candidate):
        raise NotYet(f"fista should be a function; got {type(candidate).__name__}.")
    hint = ("print your first momenta and compare: beta_0, ..., beta_4 = 0, 0, 0.2818, 0.4340, 0.5311 "
            "(t_1, ..., t_4 = 1, 1.618, 2.194, 2.750); the gradient is taken at y_k; return x_0, ..., "
            "x_steps, one row each.")
    cases = _cases()
    for name, grad, x0, L, steps in cases:
        where = f"on {name} ({steps} steps)"
        returned = run_answer(candidate, grad, x0.copy(), L, steps, name="fista", hint=hint,
                              where=f"{where} ", forbid=smooth_convex,
                              forbid_names=("nesterov_convex", "momentum_sequence"))
        returned = _plain(returned)  # tensors (detached) as arrays
        want = smooth_convex.nesterov_convex(grad, x0, L, steps, sequence="fista")
        if np.shape(returned) == (steps, x0.size):
            raise NotYet(f"{where} fista returned {steps} rows; it should return {steps + 1}: the start x_0 "
                         f"and the {steps} iterates. Hint: {hint}")
        got = array(returned, f"what fista returns {where}", want.shape,
                    shape_hint="(the start and every iterate, one row each)", hint=hint)
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        if not np.allclose(got[0], x0, rtol=1e-6, atol=1e-9):
            raise NotYet(f"{where} the first row should be the start x_0 = {x0}; got {got[0]}. Hint: {hint}")
        for kind, message in _VARIANT_MESSAGES.items():
            wrongs = _variant(grad, x0, L, steps, kind)
            if any(np.allclose(got, wrong, rtol=1e-9, atol=1e-12) for wrong in wrongs):
                raise NotYet(f"{where}: {message}")
        k = int(np.argmax(np.any(~np.isclose(got, want, rtol=1e-9, atol=1e-12), axis=-1)))
        close = ""
        if np.allclose(got, want, rtol=1e-4, atol=1e-7):  # near: the right method in lower precision
            close = (" Your iterates are close to the reference but not within 1e-9: computed in lower "
                     "precision (float32?) they drift from the float64 reference; use "
                     "np.array(x0, dtype=float) throughout.")
        raise NotYet(f"{where} your iterate {k} is {np.array2string(got[k], precision=10)}; the reference "
                     f"gives {np.array2string(want[k], precision=10)}.{close} Hint: {hint}")
    passed(f"fista matches the reference on {len(cases)} problems.")


FLAT_TOLERANCE = 5e-4  # absolute, around the check's own measurement (exercise 4's text)


def _flat_gaps(weights: str = "flat", power: int = 2, count: int = 21,
               L: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """Gradient descent's f(x_k) - f*, k = 0..10^4, on eigenvalues 2 10^(-i/2), i = 0..20, lr = 1/L = 1/2,
    by the closed form 0.5 sum_i lam_i (1 - lam_i/L)^(power k) x~_(0,i)^2 with x~_(0,i)^2 = 1/lam_i ("flat",
    the exercise), 1 ("ones"), lam_i ("sqrt": x~ = sqrt(lam_i)) or 1/lam_i^2 ("inverse": x~ = 1/lam_i);
    "distance" gives |x_k - x*|^2 with x~_(0,i)^2 = 1/lam_i instead of f. ``count`` eigenvalues
    (i = 0..count-1) and the step 1/``L`` give the wrong variants."""
    lams = 2.0 * 10.0 ** (-np.arange(count) / 2)
    k = np.arange(10_001)
    shrink = (1 - lams / L) ** (power * k[:, None])
    if weights == "distance":
        return k, np.sum(shrink / lams, axis=1)
    c2 = {"flat": 1 / lams, "ones": np.ones(count), "sqrt": lams, "inverse": 1 / lams**2}[weights]
    return k, 0.5 * np.sum(lams * shrink * c2, axis=1)


def _flat_mistakes() -> dict[str, tuple[float, str]]:
    """The slopes of exercise 4's named mistakes, measured like the right one."""
    def slope(weights: str = "flat", power: int = 2, k_min: float = 100, k_max: float = 10_000,
              count: int = 21, L: float = 2.0) -> float:
        k, gap = _flat_gaps(weights, power, count, L)
        return smooth_convex.loglog_slope(k, gap, k_min, k_max)

    k, gap = _flat_gaps()
    every = np.arange(100, 10_001)
    return {
        "sqrt": (slope("sqrt"), "that is the slope with x~_(0,i) = sqrt(lam_i); the exercise has "
                                "x~_(0,i) = 1/sqrt(lam_i), so that lam_i x~_(0,i)^2 = 1."),
        "k": (slope(power=1), "the error shrinks by (1 - lam_i/L) per step, and f with its square: the "
                              "exponent is 2k, not k."),
        "k4": (slope(power=4), "the error shrinks by (1 - lam_i/L) per step and f with its square: the "
                               "exponent is 2k, not 4k."),
        "count_22": (slope(count=22), "that uses 22 eigenvalues; section 2's lams are 2 10^(-j/2) for "
                                      "j = 0, ..., 20: 21 of them."),
        "count_20": (slope(count=20), "that uses 20 eigenvalues; section 2's lams are 2 10^(-j/2) for "
                                      "j = 0, ..., 20: 21 of them."),
        "L_1": (slope(L=1.0), "that uses L = 1; L is the largest eigenvalue, lams[0] = 2, and the step "
                              "is 1/L = 1/2."),
        "window_10": (slope(k_min=10), "that fit starts at k = 10; the exercise fits over [100, 10^4]."),
        "window_1000": (slope(k_max=1000), "that fit ends at k = 1000; the exercise fits over [100, 10^4]."),
        "every_k": (float(np.polyfit(np.log(every), np.log(gap[every]), 1)[0]),
                    "that fits every k in [100, 10^4], which weights the large k most; loglog_slope fits "
                    "50 log-spaced k."),
        "inverse_or_distance": (slope("inverse"), "about 0 is the slope with x~_(0,i) = 1/lam_i, or of "
                                                  "|x_k - x*|^2 instead of f: both are held by the flattest "
                                                  "directions, which have not moved yet. Measure f, with "
                                                  "x~_(0,i) = 1/sqrt(lam_i)."),
    }


def flat_slope(answer: object) -> None:
    """Exercise 4: the measured log-log slope over k in [100, 10^4] of gradient descent's gap when every
    eigen-direction starts with the same share of f (x~_(0,i) = 1/sqrt(lam_i)); within 0.0005 of the check's
    own measurement (about -0.0651). Named: -1 (the bound's slope, and the lesson's x~_(0,i) = 1 run), -2,
    the sign, x~ = sqrt(lam), the exponent k instead of 2k, the fit windows [10, 10^4] and [100, 10^3], a
    fit over every k, and x~ = 1/lam or |x - x*|^2 (about 0)."""
    k, gap = _flat_gaps()
    measured = smooth_convex.loglog_slope(k, gap, 100, 10_000)
    hint = ("use the exercise's formula with lam_i x~_(0,i)^2 = 1 for every i, for every k = 0..10^4, then "
            "smooth_convex.loglog_slope(k, gap, 100, 10_000).")
    value = as_number(answer, "the measured slope", hint)
    if abs(value - measured) <= FLAT_TOLERANCE:
        lams = 2.0 * 10.0 ** (-np.arange(21) / 2)
        R2, f0 = float(np.sum(1 / lams)), float(gap[0])
        passed(f"the slope is about {measured:.4f}: almost flat. Each eigen-direction holds the same "
               "share of f(x_0), and by step k only those with lam_i > L/k have lost theirs: two per "
               "decade of k, a loss that shrinks like a logarithm, not a power. The bound "
               f"L|x_0 - x*|^2/(2k) still holds, but |x_0 - x*|^2 = sum 1/lam_i = {R2:.1e}, so it falls "
               f"below f(x_0) = {f0:g} only after {2.0 * R2 / (2 * f0):.0e} steps.")
        return
    mistakes = dict(_flat_mistakes())
    mistakes.update({
        "bound": (-1.0, "about -1 is the bound's slope, and what the lesson's problem (x~_(0,i) = 1) "
                        "measured; here x~_(0,i) = 1/sqrt(lam_i): measure this run."),
        "nesterov": (-2.0, "-2 is Nesterov's order; the exercise runs gradient descent."),
        "positive": (-measured, "the gap falls as k grows: the slope is negative."),
    })
    named = [(abs(value - wrong), explanation) for name, (wrong, explanation) in mistakes.items()
             if abs(value - wrong) <= (0.05 if name in ("bound", "nesterov") else FLAT_TOLERANCE)]
    if named:  # the nearest named mistake (two fit windows give slopes 0.0004 apart)
        raise NotYet(f"{value:.4g} is not the measured slope: {min(named)[1]} Hint: {hint}")
    side = "steep" if value < measured else "flat"
    raise NotYet(f"{value:.4g} is too {side} for the slope measured over k in [100, 10^4] (the check allows "
                 f"{FLAT_TOLERANCE}). Hint: {hint}")


def _section_1_L() -> float:
    """Section 1's L, for its data (200 x 5, seed 0): the neighbouring answer of exercise 5."""
    Z = np.random.default_rng(0).standard_normal((200, 5)) * np.array([3.0, 1.5, 1.0, 0.5, 0.2])
    return float(np.linalg.eigvalsh(Z.T @ Z)[-1]) / (4 * 200)


_COVARIANCE = ("that looks like a covariance (dividing by m - 1, or np.cov, which also centres Z); "
               "the loss is a mean over the m rows of the uncentred Z: L = lambda_max(Z^T Z) / (4m).")


def logistic_L(answer: object) -> None:
    """Exercise 5: L = lambda_max(Z^T Z) / (4m) for the exercise's Z_5 (50 x 3, seed 5), within 0.1 %;
    named: no 1/4, no 1/m, the largest singular value of Z instead of lambda_max(Z^T Z), the trace instead
    of the largest eigenvalue, 1/2 instead of 1/4, the smallest eigenvalue, section 1's L (1.8543) and the
    largest per-row L max_i |z_i|^2 / 4, the sample covariance's m - 1 and the centred covariance (np.cov)."""
    Z = np.random.default_rng(5).standard_normal((50, 3)) * np.array([2.0, 1.0, 0.5])
    m = Z.shape[0]
    eig = np.linalg.eigvalsh(Z.T @ Z)
    want = smooth_convex.logistic_smoothness(Z)
    number(
        answer, want, what="L for logistic regression on Z_5", rtol=1e-3,
        hint="section 1's formula L = lambda_max(Z^T Z) / (4m), with Z_5 for Z and its number of rows for m.",
        mistakes={
            "no_quarter": (eig[-1] / m, "that leaves out the 1/4: the curvature phi'' of log(1 + e^-z) is at "
                                        "most 1/4."),
            "no_m": (eig[-1] / 4, "the loss is a mean over the m = 50 rows: divide by m too."),
            "singular": (float(np.sqrt(eig[-1])) / (4 * m),
                         "that uses the largest singular value of Z; L needs the largest eigenvalue of "
                         "Z^T Z, its square."),
            "trace": (float(np.sum(eig)) / (4 * m),
                      "that is the trace of Z^T Z (the sum of its eigenvalues), an upper bound; L is the "
                      "largest eigenvalue."),
            "half": (eig[-1] / (2 * m), "phi''(zeta) = e^zeta / (1 + e^zeta)^2 is at most 1/4 (at zeta = 0), "
                                        "not 1/2."),
            "section_1": (_section_1_L(), "that is section 1's L, for its 200 x 5 data Z; compute it for "
                                          "Z_5."),
            "per_row": (float(np.max(np.sum(Z**2, axis=1))) / 4,
                        "that is max_i |z_i|^2 / 4, the largest L of a single row's loss; the mean over the "
                        "rows has the smaller L = lambda_max(Z^T Z) / (4m)."),
            "smallest": (eig[0] / (4 * m), "that is the smallest eigenvalue; L is the largest."),
            "sample_cov": (eig[-1] / (4 * (m - 1)), _COVARIANCE),
            "centred_cov": (float(np.linalg.eigvalsh(np.cov(Z.T))[-1]) / 4, _COVARIANCE),
        },
    )


def _heavy_ball_radius(lr: float, beta: float, lam: float) -> float:
    """The largest |root| of z^2 - (1 + beta - lr lam) z + beta, by the quadratic formula."""
    b = 1 + beta - lr * lam
    disc = complex(b * b - 4 * beta) ** 0.5
    return float(max(abs((b + disc) / 2), abs((b - disc) / 2)))


def _nesterov_radius(lr: float, beta: float, lam: float) -> float:
    """The largest |root| of z^2 - (1 + beta)(1 - lr lam) z + beta (1 - lr lam), Nesterov's matrix."""
    c = 1 - lr * lam
    b = (1 + beta) * c
    disc = complex(b * b - 4 * beta * c) ** 0.5
    return float(max(abs((b + disc) / 2), abs((b - disc) / 2)))


def rosenbrock_rate(answer: object) -> None:
    """Exercise 6: the heavy ball's loss factor per step near Rosenbrock's minimum at lr = 2e-3, beta = 0.8:
    the largest |sigma|^2 over the Hessian's two eigenvalues (about 0.9919, set by the smallest), within
    0.001 % (the eigenvalue 0.3994 as printed passes; Nesterov's matrix, 2.7e-5 away, does not); named:
    |sigma| not squared, the steep eigenvalue's (|sigma|^2 = beta), sqrt(beta), gradient descent's
    (1 - lr lam)^2 and 1 - lr lam, gradient descent at the effective rate lr/(1 - beta), Nesterov's matrix
    and section 4's setting lr = 1e-3, beta = 0.9, 1 - lr lam/(1 - beta), |sigma|^4, 1/|sigma|^2,
    1 - |sigma|^2 and lam rounded to 0.4."""
    lr, beta = 2e-3, 0.8
    lams = np.linalg.eigvalsh(np.array([[802.0, -400.0], [-400.0, 200.0]]))  # the Hessian at (1, 1)
    radius = max(_heavy_ball_radius(lr, beta, lam) for lam in lams)
    number(
        answer, radius**2, what="the heavy ball's loss factor per step near the minimum", rtol=1e-5,
        hint="for each eigenvalue lam, the roots of z^2 - (1 + beta - lr lam) z + beta (the eigenvalues of "
             "[[1 + beta - lr lam, -beta], [1, 0]]); the slowest component sets the rate, and the loss "
             "shrinks as the square of the error.",
        mistakes={
            "not_squared": (radius, "that is the error's factor |sigma|; the loss is quadratic in the error, "
                                    "so its factor is |sigma|^2."),
            "steep": (_heavy_ball_radius(lr, beta, lams[1]) ** 2,
                      "that is the steep component's factor (complex roots, |sigma|^2 = beta); the flat one, "
                      "lam = 0.3994, is slower and sets the rate."),
            "sqrt_beta": (np.sqrt(beta), "sqrt(beta) is |sigma| of complex roots; for the flat component the "
                                         "roots are real."),
            "gd": ((1 - lr * lams[0]) ** 2, "(1 - lr lam)^2 is gradient descent's factor; the heavy ball's "
                                            "comes from its 2x2 matrix."),
            "gd_not_squared": (1 - lr * lams[0], "1 - lr lam is gradient descent's error factor; use the "
                                                 "heavy ball's 2x2 matrix."),
            "nesterov": (_nesterov_radius(lr, beta, lams[0]) ** 2,
                         "that is Nesterov's matrix, sigma^2 - (1 + beta)(1 - lr lam) sigma "
                         "+ beta (1 - lr lam) (lesson 05); the exercise asks for the heavy ball's."),
            "section_4": (_heavy_ball_radius(1e-3, 0.9, lams[0]) ** 2,
                          "that is section 4's setting lr = 1e-3, beta = 0.9; the exercise has lr = 2e-3, "
                          "beta = 0.8."),
            "effective_lr": ((1 - lr / (1 - beta) * lams[0]) ** 2,
                             "that is gradient descent at the effective rate lr/(1 - beta), which the heavy "
                             "ball matches only for very flat components; use its 2x2 matrix."),
            "effective_not_squared": (1 - lr / (1 - beta) * lams[0],
                                      "that is 1 - lr lam/(1 - beta), the effective rate's error factor, "
                                      "not squared, and not the heavy ball's; use its 2x2 matrix."),
            "fourth_power": (radius**4, "that is |sigma|^4; the loss factor per step is |sigma|^2."),
            "inverse": (radius**-2, "that is 1/|sigma|^2, above 1; the loss shrinks by |sigma|^2 per step."),
            "removed": (1 - radius**2, "that is 1 - |sigma|^2, the share of the loss removed per step; the "
                                       "factor asked for is |sigma|^2."),
            "rounded_lam": (_heavy_ball_radius(lr, beta, 0.4) ** 2,
                            "that uses lam rounded to 0.4; the rate is sensitive to it: use the smallest "
                            "eigenvalue from eigvalsh (0.3994...), not a rounded one."),
        },
    )
