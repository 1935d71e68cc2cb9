"""Self-checks for lesson 03, momentum: why it works.

Each check recognises the common wrong answers of the lesson and names them: for the leaky average, the
damping factor ``1/(1+beta)`` given for the steady buffer (and the amplification ``1/(1-beta)`` for the
alternating one), the factor without the gradient, the gradient itself, the sum started one term late,
the signed buffer where its size was asked and the exponential-moving-average form ``(1-beta) g`` (a
damped buffer); for the oscillator, ``sqrt(lam)``, ``2 lam`` or ``a^2`` for the critical friction, ``h^2``
(the learning rate) where the time step ``h`` belongs in ``beta = 1 - a h`` and the critical friction of
``lam = 1``, and ``1 - sqrt(lr lam)`` (the double root), ``(1 - lr lam)^2``, ``lr = h`` or the discretised
oscillator's ``1 - 2 sqrt(lr lam)``, its square ``(1 - a h)^2``, gradient descent's factor ``1 - lr lam``
and the lesson's own ``0.64`` (at ``lr lam = 0.04``) for the heavy ball's critical ``beta``; for the
threshold, the gradient-descent limit ``2/L``, the same at the effective rate ``2(1-beta)/L``, ``lr*L``
not divided by ``L``, Polyak's optimal ``4/(sqrt(mu) + sqrt(L))^2`` and the edge of the ripple regime
``(1+sqrt(beta))^2/L``; for the effective learning rate, ``lr`` itself, ``1/(1-beta)`` without ``lr``,
``lr*beta``, ``lr/beta`` and the alternating factor ``lr/(1+beta)``. A student's ``hb_rate`` that raises
(``math.sqrt`` of the negative discriminant, a division by zero, a typo), returns ``None``, ``nan`` or a
negative rate (``1 - lr*lam`` without the modulus) is told so, case by case, never with a traceback; the
complex-roots explanation is added only when the square root itself failed (``ValueError``,
``FloatingPointError``) on a negative discriminant.
The roots of ``sigma^2 - (1 + beta - lr*lambda) sigma + beta`` are written sigma, as in the lesson.

Tolerances (each exercise's text states its own): exercise 1, 0.1 % relative; exercise 2, 0.01 % (the
wrong answer ``(1+sqrt(beta))^2/L`` lies 0.07 % from the right one); exercise 3, 0.01 % on each number
(``1 - 2 sqrt(lr lam)`` = 0.7 and ``(1 - sqrt(lr lam))^2`` = 0.7225 are 3 % apart); exercise 4, 1e-6
relative on each case; exercise 5, 0.1 %.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import theory
from . import NotYet, _fmt, as_number, number, passed, run_answer

RTOL_1 = 1e-3  # exercise 1: the steady and the alternating buffer
RTOL_2 = 1e-4  # exercise 2: the threshold (2 + 2 beta)/L
RTOL_3 = 1e-4  # exercise 3: the critical friction and the two momenta
RTOL_4 = 1e-6  # exercise 4: hb_rate on each case
RTOL_5 = 1e-3  # exercise 5: the effective learning rate


def leaky_factors(steady: object, alternating: object) -> None:
    """Exercise 1: PyTorch's buffer b_{k+1} = beta b_k + g_k with beta = 0.9 from b_0 = 0: the value it
    approaches for the constant gradient g = 2, and the value |b_k| approaches for the gradient
    alternating +2, -2, ... (within 0.1 %)."""
    beta, g = 0.9, 2.0
    ema = ("(1-beta) g is the exponential-moving-average form (a buffer with dampening, Adam's first "
           "moment); this buffer adds the whole gradient, b = beta*b + g.")
    number(steady, g / (1 - beta), rtol=RTOL_1,
           what="the buffer's limit for the constant gradient 2",
           hint="b_k = g (1 + beta + beta^2 + ...) -> g/(1 - beta): a steady gradient is amplified.",
           mistakes={
               "damped": (g / (1 + beta), "g/(1+beta) is the alternating gradient's amplitude (part b); with "
                                          "a steady gradient all the terms have one sign and add up."),
               "no_g": (1 / (1 - beta), "1/(1-beta) is the amplification factor; multiply it by g = 2."),
               "g": (g, "that is one gradient: the buffer keeps adding beta times its old value. " + ema),
               "late": (g * beta / (1 - beta),
                        "g*beta/(1-beta) starts the sum at beta^1: the newest gradient enters with "
                        "weight 1."),
               "squared": (g / (1 - beta) ** 2, "the geometric series gives 1/(1-beta), not its square."),
           })
    number(alternating, g / (1 + beta), rtol=RTOL_1,
           what="the alternating buffer's amplitude |b_k|",
           hint="b_k = g (1 - beta + beta^2 - ...) in size, a geometric series with ratio -beta: "
                "g/(1 + beta). An alternating gradient is damped.",
           mistakes={
               "amplified": (g / (1 - beta), "g/(1-beta) is the steady gradient's limit (part a); here the "
                                             "signs alternate and the terms partly cancel."),
               "no_g": (1 / (1 + beta), "1/(1+beta) is the damping factor; multiply it by g = 2."),
               "g": (g, "that is one gradient: the older ones, of the other sign, pull the buffer back."),
               "ema": (g * (1 - beta) / (1 + beta), "that is (1-beta) g/(1+beta). " + ema),
               "other_phase": (g * beta / (1 + beta), "g*beta/(1+beta) leaves out the newest gradient, "
                                                      "which enters with weight 1."),
               "signed": (-g / (1 + beta), "-g/(1+beta) is the buffer itself at one step: its sign "
                                           "alternates with the gradient's. The size |b_k| was asked."),
           })


def oscillator_critical(friction: object, beta_ode: object, beta_c: object) -> None:
    """Exercise 3: the oscillator x'' + a x' + 9 x = 0: (a) the critical friction, (b) the momentum of
    its discretisation with h = 0.05, (c) the heavy ball's own critical momentum at lr = h^2 on lam = 9
    (each within 0.01 %)."""
    lam, h = 9.0, 0.05
    a_c = 2 * math.sqrt(lam)
    lr = h * h
    hint_a = "the roots of r^2 + a r + lam = 0 coincide when a^2 = 4 lam."
    number(friction, a_c, rtol=RTOL_3, what="the critical friction a = 2 sqrt(lam)", hint=hint_a,
           mistakes={"sqrt": (math.sqrt(lam), "that is sqrt(lam); the double root needs a = 2 sqrt(lam)."),
                     "two_lam": (2 * lam, "that is 2 lam; a double root needs a^2 = 4 lam: a = 2 sqrt(lam)."),
                     "a_squared": (4 * lam, "that is a^2 = 4 lam; take the square root."),
                     "lam": (lam, "that is lam; the double root needs a = 2 sqrt(lam).")})
    hint_b = ("match (x_{k+1} - 2x_k + x_{k-1})/h^2 + a (x_k - x_{k-1})/h + lam x_k = 0 with the heavy "
              "ball: beta = 1 - a h, lr = h^2.")
    number(beta_ode, 1 - a_c * h, rtol=RTOL_3, what="the discretised oscillator's momentum 1 - a h",
           hint=hint_b,
           mistakes={"h_squared": (1 - a_c * lr, "that uses h^2 (the learning rate) where the time step h "
                                                 "belongs: beta = 1 - a h."),
                     "friction": (a_c * h, "that is a h, the friction lost per step: beta = 1 - a h."),
                     "half": (1 - a_c * h / 2, "that is 1 - a h/2 (or 1 - 3h, with sqrt(lam) for a): "
                                               "beta = 1 - a h with a = 2 sqrt(lam)."),
                     "unit_lam": (1 - 2 * h, "that is 1 - 2h: a = 2 is the critical friction of lam = 1; "
                                             "here lam = 9, so a = 2 sqrt(9) = 6."),
                     "discrete": ((1 - math.sqrt(lr * lam)) ** 2,
                                  "that is the heavy ball's own critical momentum, part (c); the "
                                  "discretisation gives 1 - a h."),
                     "squared": ((1 - a_c * h) ** 2, "that is (1 - a h)^2; beta = 1 - a h.")})
    hint_c = "the discriminant (1 + beta - lr lam)^2 - 4 beta vanishes at beta = (1 - sqrt(lr lam))^2."
    number(beta_c, (1 - math.sqrt(lr * lam)) ** 2, rtol=RTOL_3,
           what="the heavy ball's critical momentum (1 - sqrt(lr lam))^2", hint=hint_c,
           mistakes={"ode": (1 - 2 * math.sqrt(lr * lam),
                             "1 - 2 sqrt(lr lam) is the discretised oscillator's value, part (b); the heavy "
                             "ball's own is (1 - sqrt(lr lam))^2 = 1 - 2 sqrt(lr lam) + lr lam, larger by "
                             "lr lam."),
                     "root": (1 - math.sqrt(lr * lam), "1 - sqrt(lr lam) is the double root sigma; beta_c is "
                                                       "its square (the product of the two roots)."),
                     "gd": ((1 - lr * lam) ** 2, "that is (1 - lr lam)^2, with lr lam where sqrt(lr lam) "
                                                 "belongs."),
                     "no_lam": ((1 - math.sqrt(lr)) ** 2, "that is (1 - sqrt(lr))^2: it lost lam = 9."),
                     "lr_for_h": ((1 - math.sqrt(lam) * lr) ** 2, "that uses lr = h^2 where sqrt(lr) = h "
                                                                  "belongs."),
                     "lr_is_h": ((1 - math.sqrt(h * lam)) ** 2,
                                 "that uses lr = h = 0.05; the heavy ball of part (b) has "
                                 "lr = h^2 = 0.0025."),
                     "upper": ((1 + math.sqrt(lr * lam)) ** 2,
                               "(1 + sqrt(lr lam))^2 is the other zero of the discriminant, above 1: not a "
                               "momentum."),
                     "ode_squared": ((1 - a_c * h) ** 2,
                                     "that is (1 - a h)^2, part (b)'s momentum squared; the heavy ball's "
                                     "own is (1 - sqrt(lr lam))^2 = (1 - h sqrt(lam))^2, with sqrt(lam) = 3 "
                                     "where a = 2 sqrt(lam) = 6 stands."),
                     "lesson_copy": ((1 - math.sqrt(0.04)) ** 2,
                                     "0.64 is section 8's beta_c at lr lam = 0.04; here lr lam = h^2 * 9 = "
                                     "0.0225."),
                     "gd_factor": (1 - lr * lam,
                                   "1 - lr lam is gradient descent's factor on this component, not a "
                                   "momentum.")})


def stability_limit(answer: object) -> None:
    """Exercise 2: the threshold learning rate of heavy ball (it converges below it, not at or
    above it), beta = 0.9, eigenvalues in [0.5, 10]."""
    beta, mu, L = 0.9, 0.5, 10.0
    polyak = 4 / (math.sqrt(mu) + math.sqrt(L)) ** 2  # 0.26716, often rounded to 0.267
    polyak_says = ("4/(sqrt(mu) + sqrt(L))^2 is Polyak's optimal learning rate (section 1, lesson 04): the "
                   "fastest, with its own beta, not the largest that converges with beta = 0.9.")
    what = "the threshold learning rate with beta = 0.9"
    hint = "each eigen-component needs 0 < lr*lambda < 2 + 2*beta; the largest eigenvalue binds first."
    try:  # lists and arrays of one number count, as in number()
        value = as_number(answer, what, hint)
    except NotYet:
        value = None  # number() below says why it is not a number
    if value is not None and np.isclose(value, polyak, rtol=2e-3, atol=0.0):  # rounded to three digits too
        raise NotYet(f"{_fmt(value)} is not {what}: {polyak_says} Hint: {hint}")
    number(
        answer, (2 + 2 * beta) / L, rtol=RTOL_2, what=what, hint=hint,
        mistakes={
            "gd": (2 / L, "2/L is the threshold of gradient descent; momentum stretches it to "
                          "(2 + 2*beta)/L."),
            "flat": ((2 + 2 * beta) / mu, "that is the threshold of the flat direction (lambda = 0.5); "
                                          "the steep one (lambda = 10) diverges long before."),
            "optimal_gd": (2 / (mu + L), "2/(mu + L) is the optimal step of gradient descent, "
                                         "not a threshold."),
            "one_plus": ((1 + beta) / L, "(1 + beta)/L is where the trace 1 + beta - lr*L turns "
                                         "negative, not the threshold."),
            "ripple_edge": ((1 + math.sqrt(beta)) ** 2 / L,
                            "(1 + sqrt(beta))^2/L is where the steep component's roots turn real and "
                            "negative (the end of the ripple regime); above it the iterates flip sign "
                            "every step but still converge, up to the threshold."),
            "not_divided": (2 + 2 * beta, "2 + 2*beta = 3.8 is the limit of lr*L, the product; divide "
                                          "by L = 10 for the learning rate."),
            "effective_rate": (2 * (1 - beta) / L,
                               "2(1-beta)/L is gradient descent's limit 2/L at the effective rate "
                               "lr/(1-beta); section 4 shows that momentum's limit is (2 + 2*beta)/L, "
                               "(1+beta)/(1-beta) = 19 times larger."),
            "polyak": (polyak, polyak_says),
            "beta_to_one": (4 / L, "4/L is the threshold as beta -> 1; with beta = 0.9 it is smaller."),
            "sqrt_beta": ((2 + 2 * math.sqrt(beta)) / L,
                          "the threshold has 2 + 2*beta, not 2 + 2*sqrt(beta): it is where "
                          "q(-1) = 2 + 2*beta - lr*L reaches zero."),
        },
    )


def _rate_reference(lr: float, beta: float, lam: float) -> float:
    return float(theory.momentum_rate(lr, beta, [lam]))


def rate_function(candidate: Callable[[float, float, float], float]) -> None:
    """Exercise 4: ``hb_rate(lr, beta, lam)``, the spectral radius of the 2x2 heavy-ball matrix."""
    if not callable(candidate):
        raise NotYet(f"hb_rate should be a function; got {type(candidate).__name__}.")
    hint = ("the roots of sigma^2 - (1 + beta - lr*lam) sigma + beta = 0: if the discriminant is negative "
            "they are complex with |sigma| = sqrt(beta); otherwise take the larger |root| "
            "(np.roots or the quadratic formula).")
    cases = [  # (lr, beta, lam, what the case tests)
        (0.4, 0.81, 2.0, "complex roots (ripples)"),  # lr*lam != 1: |1 - lr*lam| is not 0
        (0.01, 0.5, 1.0, "two positive real roots (monotone)"),
        (0.7, 0.3, 3.5, "a negative real root (sign flips)"),
        (1.0, 0.2, 2.5, "divergence (radius > 1)"),
        (0.04, 0.64, 1.0, "critical damping (double root)"),
        (0.2, 0.0, 4.0, "beta = 0 (gradient descent)"),
        (0.3, 0.0, 5.0, "beta = 0 with lr*lam > 1 (gradient descent flipping sign)"),
    ]
    for lr, beta, lam, what in cases:
        args = f"hb_rate({lr:g}, {beta:g}, {lam:g})"
        t = 1 + beta - lr * lam
        disc = t * t - 4 * beta
        complex_here = (f" Here t = 1 + beta - lr*lam = {_fmt(t)} and the discriminant t^2 - 4*beta = "
                        f"{_fmt(disc)} is negative: the roots are complex, and the square root of a negative "
                        "number fails (math.sqrt) or gives nan (np.sqrt); in this case |sigma| = sqrt(beta).")
        def crashed(error, args=args, what=what, disc=disc, complex_here=complex_here):
            sqrt_failed = disc < 0 and isinstance(error, ValueError | FloatingPointError)  # math domain error
            return (f"{args} ({what}) raised {type(error).__name__}: {error}."
                    + (complex_here if sqrt_failed else "") + f" Hint: {hint}")

        result = run_answer(candidate, lr, beta, lam, name="hb_rate", hint=hint, forbid=theory,
                            crashed=crashed)
        if result is None:
            raise NotYet(f"{args} ({what}) returned None: does every branch of hb_rate end with a return "
                         f"statement? Hint: {hint}")
        if isinstance(result, float | np.floating) and math.isnan(result):
            raise NotYet(f"{args} ({what}) returned nan."
                         + (complex_here if disc < 0 else "") + f" Hint: {hint}")
        got = as_number(result, f"what {args} returns ({what})", hint)
        want = _rate_reference(lr, beta, lam)
        if np.isclose(got, want, rtol=RTOL_4, atol=1e-9):
            continue
        if disc >= 0 and np.isclose(abs(got), abs(t - math.copysign(math.sqrt(disc), t)) / 2, rtol=1e-6):
            raise NotYet(f"{args} = {_fmt(got)} for {what}: that is the root of the smaller modulus. "
                         f"The rate is the larger one, (|t| + sqrt(t^2 - 4*beta))/2 = {_fmt(want)} "
                         f"with t = 1 + beta - lr*lam = {_fmt(t)}.")
        if disc < 0 and np.isclose(abs(got), abs(t) / 2, rtol=1e-6):
            raise NotYet(f"{args} = {_fmt(got)} for {what}: that is |t|/2, only the real part of the "
                         f"complex roots; their modulus is sqrt(beta) = {_fmt(want)}.")
        if np.isclose(got, 2 * math.sqrt(beta), rtol=1e-6):
            raise NotYet(f"{args} = {_fmt(got)} = 2*sqrt(beta) for {what}; the complex roots "
                         f"(t +- i*sqrt(4*beta - t^2))/2 have modulus sqrt(beta) = {_fmt(want)}: "
                         "do not drop the 1/2.")
        if np.isclose(got, beta, rtol=1e-6):
            raise NotYet(f"{args} = {_fmt(got)} = beta for {what}; beta = |sigma|^2, the rate is "
                         f"|sigma| = {_fmt(want)}.")
        if got < 0 and np.isclose(-got, want, rtol=1e-6):
            raise NotYet(f"{args} = {_fmt(got)} for {what}: the rate is a modulus, never negative: "
                         f"|1 - lr*lam| when beta = 0, the larger |sigma| in general; here {_fmt(want)}.")
        if beta > 0 and abs(1 - lr * lam) > 1e-9 and np.isclose(got, abs(1 - lr * lam), rtol=1e-6):
            raise NotYet(f"{args} = {_fmt(got)} is gradient descent's |1 - lr*lam|; momentum's rate "
                         f"is {_fmt(want)} for {what}.")
        raise NotYet(f"{args} gives {_fmt(got)} for {what}; expected {_fmt(want)}. Hint: {hint}")
    passed(f"hb_rate agrees with theory.momentum_rate on {len(cases)} cases: every regime, critical "
           "damping and beta = 0.")




def effective_rate(answer: object) -> None:
    """Exercise 5: momentum with lr = 0.01, beta = 0.95 along a flat direction lam = 1e-4: the
    gradient-descent learning rate that moves at the same pace there, lr/(1-beta) = 0.2 (within 0.1 %;
    the exact match of the slow root, (1 - sigma)/lam = 0.20008, is inside it)."""
    lr, beta = 0.01, 0.95
    number(
        answer, lr / (1 - beta), rtol=RTOL_5,
        what="the effective learning rate lr/(1-beta)",
        hint="along a flat direction the gradient is nearly steady, and the buffer builds up to "
             "g/(1-beta): the step is lr g/(1-beta).",
        mistakes={
            "no_lr": (1 / (1 - beta), "1/(1-beta) = 20 is the amplification factor; multiply it by "
                                      "lr = 0.01."),
            "lr": (lr, "that is momentum's own lr; along a flat direction the buffer adds up about "
                       "1/(1-beta) = 20 gradients, so each step is 20 times longer."),
            "lr_beta": (lr * beta, "lr*beta multiplies by beta; the buffer's sum 1 + beta + beta^2 + ... "
                                   "is 1/(1-beta)."),
            "lr_over_beta": (lr / beta, "lr/beta divides by beta; the buffer's sum 1 + beta + beta^2 + ... "
                                        "is 1/(1-beta)."),
            "two_terms": (lr * (2 - beta), "lr (1 + (1-beta)) keeps too little of the sum; "
                                           "1 + beta + beta^2 + ... = 1/(1-beta)."),
            "ema": (lr * (1 - beta), "lr (1-beta) is the exponential-moving-average form's step (a damped "
                                     "buffer); this buffer adds the whole gradient, b = beta*b + g."),
            "alternating": (lr / (1 + beta), "lr/(1+beta) uses the alternating gradient's factor "
                                             "1/(1+beta); along a flat direction the gradient is steady."),
            "late": (lr * beta / (1 - beta), "lr*beta/(1-beta) starts the sum at beta^1: the newest "
                                             "gradient enters with weight 1."),
        },
    )
