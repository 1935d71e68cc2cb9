"""Self-checks for lesson 05, Nesterov momentum.

The checks recognise the lesson's common wrong answers: the heavy ball's limit
``(2+2*beta)/L`` given for Nesterov's ``(2+2*beta)/((1+2*beta) L)``, ``beta*lr*lambda``
for the effective momentum ``beta*(1 - lr*lambda)`` (and the trace ``(1+beta)(1 - lr*lambda)``),
gradient descent's optimal step ``2/(mu+L)``; weight decay left out, put only into the buffer,
decoupled or put only into the step's g (the last two give the same iterates) in PyTorch's Nesterov
step, the dampened (moving-average) buffer ``b = beta*b + (1-beta)*g``, the heavy-ball step (or the
buffer updated after the step, which gives the same iterates), the right step in float32, and the
Sutskever form's x_k in place of PyTorch's look-ahead iterate, and iterates that became infinite (a
step of the wrong sign); for the measured rate, the early window 100 to 300 the exercise names, a
run with ``beta`` rounded (0.81, 0.82, 0.818, 0.8181, 0.8182 in place of 9/11: the flat component
sits exactly at critical damping, so rounding moves the rate; above 0.9 the same numbers come from
early or short windows at 9/11, and the message names both causes), ``sqrt(beta)`` (the heavy ball's floor),
``beta``, gradient descent's rates, the rate of the loss instead of the iterates (over steps 1000
to 2000 or over the early window 100 to 300, and ``beta*(1 - lr*mu)``), the heavy ball's iterates
measured in place of Nesterov's (over either window), an inverted ratio (``1/0.9``, any value
>= 1), a measurement over a too early window, the measurement rounded to three decimals (told the
tolerance), and the matrix's root ``0.9 = 1 - 1/sqrt(kappa)`` (or anything below it) in place of a
measurement; for the left end of the wedge where Nesterov is faster on the row ``beta = 0.8``
(exercise 5), the critical-damping estimate ``((1-beta)/(1+beta))^2/mu`` of section 5 (0.3 % off),
the heavy ball's critical damping ``(1-sqrt(beta))^2/mu``, the right end, the left ends of the rows
the lesson prints (0.85, 0.9 and 0.95), ``c = 1 - lr*mu`` itself, Nesterov's best step (near the
wedge's tip), its divergence edge, ``lr*mu`` (or the learning rate for the unscaled eigenvalues
``[1, 100]``: the same number), and a value read off the map's grid (within a cell, not the edge).

Tolerances (stated in the exercise text): exercise 1 within 0.1 %, exercise 2 within
0.05 %, exercise 3 every iterate to a relative 1e-9 of ``torch.optim.SGD``, exercise 4
within 0.0002 of the rate measured over steps 1000 to 2000 (0.90062: four decimals pass, the root
0.9 of the matrix, 0.00062 below, does not), exercise 5 within 1e-4 of the left end found by
bisection, ``(1-sqrt(beta))^2 / ((1+beta-sqrt(beta)) mu)`` at ``beta = 0.8``, ``mu = 0.01``
(1.23078; the critical-damping estimate 1.23457 lies outside).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import optimizers, surfaces, theory
from . import NotYet, array, as_number, number, passed, run_answer


def effective_momentum(answer: object) -> None:
    """Exercise 1: Nesterov on one eigen-component equals heavy ball with momentum beta (1 - lr lambda)."""
    beta, h = 0.9, 0.2
    number(
        answer, beta * (1 - h),
        what="the heavy-ball momentum equivalent to Nesterov at beta = 0.9, lr*lambda = 0.2",
        rtol=1e-3,
        hint="compare sigma^2 - (1+beta)(1-lr*lambda) sigma + beta(1-lr*lambda) with the heavy ball's "
             "sigma^2 - (1+b'-lr*lambda) sigma + b': the constant terms give b' = beta(1-lr*lambda).",
        mistakes={
            "beta": (beta, "that is Nesterov's own coefficient; on this eigen-component it acts like less."),
            "beta_h": (beta * h, "beta*lr*lambda has the factor the wrong way round: it is "
                                 "beta*(1 - lr*lambda), smaller in steep directions (large lr*lambda)."),
            "one_minus_h": (1 - h, "1 - lr*lambda is gradient descent's factor; multiply by beta."),
            "plus": (beta * (1 + h), "beta*(1 + lr*lambda) is the effective momentum along a direction of "
                                     "negative curvature -lambda (a saddle), not here."),
            "minus": (beta - h, "beta - lr*lambda subtracts; the factor (1 - lr*lambda) multiplies beta."),
            "trace": ((1 + beta) * (1 - h),
                      "(1+beta)(1 - lr*lambda) is the trace of Nesterov's matrix (the sum of its two roots, "
                      "the middle coefficient of sigma^2 - (1+beta)(1-lr*lambda) sigma + beta(1-lr*lambda)); "
                      "the heavy ball's momentum is read off the constant term, the determinant."),
            "root": (math.sqrt(beta * (1 - h)),
                     "that is sqrt(beta*(1 - lr*lambda)), the modulus of complex roots (the rate when the "
                     "component ripples), not the momentum."),
        },
    )


def stability_limit(answer: object) -> None:
    """Exercise 2: the threshold lr of Nesterov (PyTorch form) below which it converges, beta = 0.9,
    eigenvalues in [0.5, 10]; within 0.05 %."""
    beta, mu, L = 0.9, 0.5, 10.0
    expected = (2 + 2 * beta) / ((1 + 2 * beta) * L)
    number(
        answer, expected, what="the threshold of Nesterov's learning rate with beta = 0.9",
        rtol=5e-4,
        hint="the Jury condition p(-1) > 0 for p(sigma) = sigma^2 - (1+beta)(1-h) sigma + beta(1-h) gives "
             "h = lr*lambda < (2+2*beta)/(1+2*beta); the largest eigenvalue binds.",
        mistakes={
            "heavy_ball": ((2 + 2 * beta) / L, "(2+2*beta)/L is the heavy ball's limit; Nesterov's is "
                                               "smaller, (2+2*beta)/((1+2*beta) L)."),
            "gd": (2 / L, "2/L is gradient descent's limit; with momentum Nesterov's limit is below it."),
            "no_L": ((2 + 2 * beta) / (1 + 2 * beta), "that is the limit on lr*lambda; divide by L = 10."),
            "four_thirds": (4 / (3 * L), "4/(3L) is the limit as beta -> 1; put beta = 0.9 in."),
            "smallest": ((2 + 2 * beta) / ((1 + 2 * beta) * mu),
                         "that is the threshold for the smallest eigenvalue 0.5; the largest, L = 10, "
                         "binds."),
            "optimal": (4 / (3 * L + mu),
                        "4/(3L + mu) is Nesterov's best step for the rate, not the threshold of "
                        "convergence."),
            "heavy_ball_optimal": ((2 / (math.sqrt(mu) + math.sqrt(L))) ** 2,
                                   "that is the heavy ball's optimal step (Polyak), not Nesterov's "
                                   "threshold."),
            "gd_optimal": (2 / (mu + L), "2/(mu + L) is gradient descent's best step for the rate, not the "
                                         "threshold of Nesterov's convergence."),
        },
    )


def _torch_reference(grad, x0, lr, beta, wd, steps):
    """torch.optim.SGD(nesterov=True, weight_decay=wd) in float64, fed ``grad``."""
    import torch

    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=True, weight_decay=wd)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def _variant(grad, x0, lr, beta, wd, steps, kind):
    """Common wrong versions of the step with weight decay."""
    x = np.array(x0, dtype=float)
    b = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(steps):
        g = grad(x)
        if kind == "no_decay":
            b = beta * b + g
            x = x - lr * (g + beta * b)
        elif kind == "decay_in_buffer_only":
            b = beta * b + g + wd * x
            x = x - lr * (g + beta * b)
        elif kind == "decoupled":
            b = beta * b + g
            x = x - lr * (g + beta * b) - lr * wd * x
        elif kind == "heavy_ball":
            g = g + wd * x
            b = beta * b + g
            x = x - lr * b
        elif kind == "dampened":
            g = g + wd * x
            b = beta * b + (1 - beta) * g
            x = x - lr * (g + beta * b)
        path.append(x.copy())
    if kind == "sutskever_x":  # the Sutskever form's x_k, decay at the look-ahead: not PyTorch's iterate
        x, v = np.array(x0, dtype=float), np.zeros_like(b)
        path = [x.copy()]
        for _ in range(steps):
            ahead = x + beta * v
            v = beta * v - lr * (grad(ahead) + wd * ahead)
            x = x + v
            path.append(x.copy())
    return np.array(path)


_VARIANT_MESSAGES = {
    "no_decay": "the weight decay is missing: PyTorch adds wd*p to the gradient before anything else.",
    "decay_in_buffer_only": "the decay went into the buffer but not into the g of the step: add it to g "
                            "first, and use that g both in b = beta*b + g and in p -= lr*(g + beta*b).",
    "decoupled": "the decay is missing from the momentum buffer: either you decoupled it (p -= lr*wd*p on "
                 "its own, as AdamW does) or added it only to the g of the step, not to the g of the buffer "
                 "(the two give the same iterates). torch.optim.SGD adds wd*p to the gradient first, so it "
                 "enters both b = beta*b + g and p -= lr*(g + beta*b).",
    "dampened": "your buffer is a moving average, b = beta*b + (1-beta)*g (the EMA form, lesson 07; "
                "PyTorch's dampening = beta). torch.optim.SGD's default has no dampening: b = beta*b + g.",
    "heavy_ball": "these are heavy-ball iterates: either the step is p -= lr*b, or the buffer is updated "
                  "after the step (p -= lr*(g + beta*b) with the old b, then b = beta*b + g, which gives the "
                  "same points). Update the buffer first, b = beta*b + g, then step p -= lr*(g + beta*b).",
    "sutskever_x": "these are the Sutskever form's x_k (v = beta*v - lr*grad at x + beta*v; x += v), with "
                   "the decay right, but PyTorch's parameter is the look-ahead point x_k + beta*v_k "
                   "(section 2): return the iterates of PyTorch's form, b = beta*b + g; "
                   "p -= lr*(g + beta*b), with g = grad(p) + wd*p.",
}


class _Diverged(Exception):
    """Raised by the check's gradient when the student's iterate is no longer finite."""


def _has_non_finite(returned: object, shape: tuple[int, ...]) -> bool:
    """True if ``returned`` reads as an array of ``shape`` with an infinite or NaN entry."""
    try:
        with np.errstate(all="ignore"):
            values = np.asarray(returned, dtype=complex)
    except Exception:  # odd types are left to the shape check, which names them
        return False
    return values.shape == shape and not bool(np.all(np.isfinite(values)))


def weight_decay_step(candidate: Callable) -> None:
    """Exercise 3: ``nesterov_wd(grad, x0, lr, beta, wd, steps)`` must equal
    ``torch.optim.SGD(nesterov=True, weight_decay=wd)``, every iterate to a relative 1e-9."""
    if not callable(candidate):
        raise NotYet(f"nesterov_wd should be a function; got {type(candidate).__name__}.")
    hint = ("per step: g = grad(p) + wd*p; b = beta*b + g; p = p - lr*(g + beta*b), with b starting at zero; "
            "return all iterates, shape (steps + 1, 2).")
    cases = [("rosenbrock", 1e-3, 0.9, 0.01, 200), ("beale", 5e-3, 0.8, 0.1, 150),
             ("quadratic", 0.1, 0.5, 0.5, 50)]
    diverged = ("your iterates became infinite (or NaN): the step probably has the wrong sign, "
                "p = p - lr*(g + beta*b) moves against the gradient. Hint: " + hint)
    for name, lr, beta, wd, steps in cases:
        s = surfaces.get(name)
        where = f"on {name} (lr = {lr:g}, beta = {beta:g}, wd = {wd:g})"

        def guarded_grad(x, grad=s.grad):  # a non-finite iterate means the student's run diverged
            if not np.all(np.isfinite(np.asarray(x, dtype=float))):
                raise _Diverged
            return grad(x)

        try:
            returned = run_answer(candidate, guarded_grad, s.start.copy(), lr, beta, wd, steps,
                                  name="nesterov_wd", hint=hint, where=f"{where} ", quiet=True,
                                  passthrough=(_Diverged,))
        except _Diverged:
            raise NotYet(f"{where} {diverged}") from None
        want = _torch_reference(s.grad, s.start, lr, beta, wd, steps)
        if _has_non_finite(returned, want.shape):
            raise NotYet(f"{where} {diverged}")
        got = array(returned, f"what nesterov_wd returns {where}", want.shape,
                    shape_hint="(the start and every iterate, one row each)", hint=hint)
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        for kind, message in _VARIANT_MESSAGES.items():
            if np.allclose(got, _variant(s.grad, s.start, lr, beta, wd, steps, kind), rtol=1e-9, atol=1e-12):
                raise NotYet(f"{where}: {message}")
        k = int(np.argmax(np.any(~np.isclose(got, want, rtol=1e-9, atol=1e-12), axis=-1)))
        with np.errstate(all="ignore"):
            rel = float(np.max(np.abs(got[k] - want[k]) / np.maximum(np.abs(want[k]), 1e-12)))
        close = ""
        if np.array_equal(got.astype(np.float32), got) and rel < 1e-3:  # every iterate a float32 number
            close = (" Your iterates are float32 numbers: computed in lower precision than float64, they "
                     "drift from PyTorch's float64 run; use np.array(x0, dtype=float) / float64 throughout.")
        yours, theirs = (np.array2string(np.asarray(row, dtype=float), precision=12)
                         for row in (got[k], want[k]))
        raise NotYet(f"{where} your iterate {k} is {yours}; torch.optim.SGD (float64) gives {theirs}: a "
                     f"relative difference of {rel:.1e}, above the 1e-9 the check allows.{close} "
                     f"Hint: {hint}")
    passed(f"nesterov_wd matches torch.optim.SGD(nesterov=True, weight_decay=wd) on {len(cases)} surfaces.")


TEXTBOOK_TOLERANCE = 2e-4  # absolute, around the rate measured over steps 1000 to 2000 (exercise 4's text)


ROUNDED_BETAS = (0.81, 0.82, 0.818, 0.8181, 0.8182)  # 9/11 = 0.818181... rounded or cut to 2, 3, 4 decimals


def _textbook_measurement(k1: int = 1000, k2: int = 2000, method: str = "nesterov",
                          of: str = "iterates", beta: float = 9 / 11) -> float:
    """(|w_k2| / |w_k1|)^(1/(k2 - k1)) for ``method`` at lr = 1/L, beta = (sqrt(kappa)-1)/(sqrt(kappa)+1)
    (or the ``beta`` given) on the quadratic with eigenvalues 1 and 100, from (1, 1), or the same ratio of
    the losses f(w_k) when ``of == "loss"``: computed here, never taken from the student."""
    s = surfaces.quadratic([1.0, 100.0])
    run = optimizers.run(s, [1.0, 1.0], method, 1 / 100.0, beta, steps=k2)
    size = run.losses if of == "loss" else np.hypot(run.points[:, 0], run.points[:, 1])
    return float((size[k2] / size[k1]) ** (1 / (k2 - k1)))


def _double_root_window(k1: int, k2: int) -> float:
    """What a window k1..k2 measures if |w_k| were exactly c k 0.9^k: 0.9 (k2/k1)^(1/(k2 - k1))."""
    return 0.9 * (k2 / k1) ** (1 / (k2 - k1))


def textbook_rate(answer: object) -> None:
    """Exercise 4: the measured rate of Nesterov at lr = 1/L, beta = (sqrt(k)-1)/(sqrt(k)+1), kappa = 100,
    over steps 1000 to 2000; accepted within 0.0002 of the check's own measurement."""
    mu, L = 1.0, 100.0
    kappa = L / mu
    sk = math.sqrt(kappa)
    beta = (sk - 1) / (sk + 1)
    theory_rate = float(theory.nesterov_rate(1 / L, beta, [mu, L]))
    measured = _textbook_measurement()
    early = _textbook_measurement(100, 300)
    heavy_ball = _textbook_measurement(method="momentum")
    heavy_ball_early = _textbook_measurement(100, 300, method="momentum")
    loss_rate = _textbook_measurement(of="loss")
    loss_early = _textbook_measurement(100, 300, of="loss")
    hint = ("run optimizers.run(surfaces.quadratic([1.0, 100.0]), [1.0, 1.0], 'nesterov', 1/100, 9/11, "
            "steps=2000) and take (|w_2000| / |w_1000|) ** (1 / 1000), with |w_k| = np.hypot(*points[k]).")
    value = as_number(answer, "the measured rate", hint)
    if abs(value - measured) <= TEXTBOOK_TOLERANCE:
        passed(f"measured {value:.4f} (the check measures {measured:.5f}); the matrix gives "
               f"{theory_rate:.4f} = 1 - 1/sqrt(kappa): the steep component (lr*L = 1, N^2 = 0) is gone "
               "after two steps, the flat one is critically damped, beta(1 - 1/kappa) = 0.81 = (1 - 0.1)^2, "
               "a double root 0.9. A double root makes |w_k| behave roughly like k 0.9^k, so a window "
               "k1..k2 measures about 0.9 (k2/k1)^(1/(k2 - k1)): for 1000..2000 that gives "
               f"{_double_root_window(1000, 2000):.5f} (the run: {measured:.5f}), for 100..300 "
               f"{_double_root_window(100, 300):.4f} (the run: {early:.4f}).")
        return
    if abs(value - early) <= 5e-5:  # the window the exercise names as too early: before sqrt(beta), rounding
        raise NotYet(f"{value:.5g} is what Nesterov's iterates measure over steps 100 to 300 (the check "
                     f"measures {early:.5f}): that window is too early. The flat direction sits on a double "
                     "root, so |w_k| behaves like k 0.9^k and a window k1..k2 measures about "
                     f"0.9 (k2/k1)^(1/(k2 - k1)); use steps 1000 to 2000. Hint: {hint}")
    for rounded in ROUNDED_BETAS:  # before the generic branches: a run at a rounded beta lands anywhere
        if abs(value - _textbook_measurement(beta=rounded)) <= 1e-4:
            window = ("" if value < theory_rate else
                      " If you used 9/11 exactly, your window is too early or too short: the flat direction "
                      "sits on a double root, so |w_k| behaves like k 0.9^k and a window k1..k2 measures "
                      "about 0.9 (k2/k1)^(1/(k2 - k1)); use steps 1000 to 2000.")
            raise NotYet(f"{value:.5g} is what a run with beta = {rounded:g} measures over steps 1000 to "
                         "2000. "
                         "If you rounded beta, use 9/11 exactly: the flat component sits exactly at critical "
                         "damping (a double root), and rounding beta moves it off the double root, to two "
                         "complex roots that rotate slowly or two real ones, and the measured rate moves "
                         f"noticeably.{window} Hint: " + hint)
    named = [  # (value, explanation[, how close an answer must be to be told this])
        (theory_rate, "is 0.9 = 1 - 1/sqrt(kappa), the flat direction's double root read off the matrix, not "
                      "a measurement of these iterates. A double root makes |w_k| behave like c k 0.9^k, "
                      "which falls more slowly than 0.9^k: a measurement over steps 1000 to 2000 lies above "
                      "0.9. Run the method and measure.", 1e-5),
        (heavy_ball, "is what heavy-ball iterates measure here (method 'momentum' at the same pair: "
                     f"{heavy_ball:.5f} over steps 1000 to 2000); Nesterov's are method 'nesterov'. (If you "
                     "did run 'nesterov', your window starts too early: the flat direction sits on a double "
                     "root, so |w_k| behaves like k 0.9^k and early windows measure more; use steps 1000 to "
                     "2000.)", 5e-5),
        (heavy_ball_early, "is what heavy-ball iterates measure over the early window 100 to 300 (method "
                           "'momentum'; the check measures "
                           f"{heavy_ball_early:.5f}): use method 'nesterov', and steps 1000 to 2000.", 1e-4),
        (loss_early, "is the rate of the loss f(w_k) over the early window 100 to 300 (the check measures "
                     f"{loss_early:.5f}), not of the iterates over steps 1000 to 2000: measure |w_k| = "
                     "np.hypot(*points[k]) (f falls as |w_k|^2), and over the later window.", 1e-4),
        (math.sqrt(beta), "is sqrt(beta) = sqrt(9/11), the heavy ball's floor (its roots multiply to "
                          "beta). Nesterov's flat direction has roots that multiply to beta*(1 - lr*mu) = "
                          "0.81, a double root 0.9. If you measured this number, your window is too "
                          f"early or too short (steps 100 to 300 give {early:.4f}): measure over steps 1000 "
                          "to 2000."),
        (beta, "is beta = (sqrt(kappa)-1)/(sqrt(kappa)+1) itself (also the heavy ball's optimal rate for "
               "kappa = 100), not a measurement of these iterates."),
        (beta * (1 - 1 / kappa), "is beta*(1 - lr*mu) = 0.81, the product of the flat direction's two "
                                 "roots (and the rate at which the loss, not |w_k|, falls); the rate of "
                                 "|w_k| is its square root."),
        (loss_rate, "is the rate of the loss f(w_k) over steps 1000 to 2000 (the check measures "
                    f"{loss_rate:.5f}), not of the iterates: f falls as |w_k|^2, so take the square root, "
                    "or measure |w_k| = np.hypot(*points[k]).", 2e-3),
        ((kappa - 1) / (kappa + 1), "is gradient descent's optimal rate (kappa-1)/(kappa+1); measure "
                                    "Nesterov's from its iterates."),
        (1 - 1 / kappa, "is gradient descent's rate at lr = 1/L, 1 - 1/kappa; measure Nesterov's from its "
                        "iterates."),
        (1 - 2 / math.sqrt(3 * kappa + 1), "is Nesterov's best rate over all (lr, beta), "
                                           "1 - 2/sqrt(3 kappa + 1); this exercise uses the textbook "
                                           "tuning, which is slower."),
        (1 / measured, "is the inverse of the rate: divide the later error by the earlier one, "
                       "|w_2000| / |w_1000|, not the other way round."),
        (1 / theory_rate, "is 1/0.9, the inverse of the flat direction's root 0.9: a rate is below 1 (the "
                          "later error divided by the earlier one)."),
    ]
    for wrong, explanation, *close in named:
        if abs(value - wrong) <= (close[0] if close else 5e-4):
            raise NotYet(f"{value:.4g} {explanation} Hint: {hint}")
    if 0.8 < value < theory_rate:
        raise NotYet(f"{value:.5g} is below 0.9, the flat direction's double root: with beta = 9/11 "
                     "exactly and lr = 1/L = 0.01, no window from step 2 on can measure that (only windows "
                     "that start at step 0 "
                     "or 1, which still contain the steep component, gone after two steps). With a double "
                     "root |w_k| behaves like c k 0.9^k, which falls more slowly than 0.9^k, so every later "
                     "window measures a rate above 0.9. (If you measured the loss f instead of |w_k|: f "
                     f"falls as |w_k|^2, take the square root.) Or your step is not 1/L = 0.01. Hint: {hint}")
    if abs(value - round(value, 3)) < 1e-12 and abs(value - measured) <= 5e-4:  # measured, 3 decimals
        raise NotYet(f"{value:.3f} has three decimals, and rounding to three can be 0.0005 off: outside the "
                     f"check's tolerance of {TEXTBOOK_TOLERANCE:g}. Give four decimals. Hint: {hint}")
    if measured + TEXTBOOK_TOLERANCE < value < 0.93:
        raise NotYet(f"{value:.4g} is above the rate of these iterates over steps 1000 to 2000. An early "
                     "or short window overestimates it: the flat direction sits on a double root, so "
                     "|w_k| behaves like k 0.9^k and a window k1..k2 measures 0.9 (k2/k1)^(1/(k2 - k1)). "
                     f"Or your step is not 1/L = 0.01. Hint: {hint}")
    if value >= 1:
        raise NotYet(f"{value:.4g} is not below 1, so |w_k| would not shrink; these iterates converge. A "
                     "rate is (later error / earlier error)^(1/steps): check the order of the division and "
                     f"the exponent. Hint: {hint}")
    side = "too large" if value > measured else "too small"
    raise NotYet(f"{value:.4g} is {side} for the rate of these iterates over steps 1000 to 2000. "
                 f"Hint: {hint}")


WEDGE_TOLERANCE = 1e-4  # absolute, exercise 5's text


def _rate_gap(lr: float, beta: float, mu: float, L: float) -> float:
    """Nesterov's rate minus the heavy ball's at (lr, beta) on [mu, L]."""
    return float(theory.nesterov_rate(lr, beta, [mu, L]) - theory.momentum_rate(lr, beta, [mu, L]))


def _wedge_ends(beta: float = 0.9, mu: float = 0.01, L: float = 1.0) -> tuple[float, float]:
    """The (left, right) ends of the lr interval where Nesterov's rate is below the heavy ball's, by
    bisection on the rate difference (independent of the closed form of the right end)."""
    scan = np.linspace(1e-4, 2.0, 20_001)
    wins = scan[np.asarray(theory.nesterov_rate(scan, beta, [mu, L]))
                < np.asarray(theory.momentum_rate(scan, beta, [mu, L]))]
    ends = []
    for lo, hi in [(wins.min() - 1e-4, wins.min()), (wins.max(), wins.max() + 1e-4)]:
        inside_lo = _rate_gap(lo, beta, mu, L) < 0
        for _ in range(60):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if (_rate_gap(mid, beta, mu, L) < 0) == inside_lo else (lo, mid)
        ends.append((lo + hi) / 2)
    return ends[0], ends[1]


def wedge_edge(answer: object) -> None:
    """Exercise 5: the left end (in lr*L) of the interval of the row beta = 0.8 of the compare map at
    kappa = 100 where Nesterov is faster; within 1e-4 of the end found by bisection on the two rates
    (which equals (1 - sqrt(beta))^2 / ((1 + beta - sqrt(beta)) mu) at L = 1)."""
    beta, mu, L = 0.8, 0.01, 1.0
    left, right = _wedge_ends(beta, mu, L)
    sb = math.sqrt(beta)
    closed = (1 - sb) ** 2 / ((1 + beta - sb) * mu)
    critical = ((1 - beta) / (1 + beta)) ** 2 / mu
    cell = 4 / 300  # the compare map's cells are 4/300 wide in lr*L
    steep = float(theory.nesterov_rate(left, beta, [L]))
    hint = ("bisect on theory.nesterov_rate(lr, 0.8, [0.01, 1.0]) - "
            "theory.momentum_rate(lr, 0.8, [0.01, 1.0]) between lr = 1.15 (heavy ball faster) and "
            "lr = 1.3 (Nesterov faster), with L = 1 so lr*L = lr.")
    value = as_number(answer, "the left end of the wedge at beta = 0.8", hint)
    if abs(value - left) <= WEDGE_TOLERANCE:
        passed(f"lr*L = {left:.5f}: there the larger real root of Nesterov's flat component equals the heavy "
               f"ball's sqrt(beta) = {sb:.5f}; putting sigma = sqrt(beta) into sigma^2 - (1+beta) c sigma + "
               "beta c = 0 gives c = 1 - lr*mu = sqrt(beta)/(1 + beta - sqrt(beta)), so lr*mu = "
               f"(1 - sqrt(beta))^2/(1 + beta - sqrt(beta)) (lr*L = {closed:.5f}). It lies just left of "
               f"((1-beta)/(1+beta))^2/mu = {critical:.5f}, where that component becomes critically damped: "
               "its double root there is sqrt(beta(1 - lr*mu)), already below sqrt(beta), so Nesterov "
               f"wins a little before it. Nesterov's steep component (c = 1 - lr*L < 0) has roots of modulus "
               f"at most {steep:.2f} there: it sets no rate at this end.")
        return
    named = [
        (critical, "is ((1-beta)/(1+beta))^2/mu, where Nesterov's flat component becomes critically damped "
                   "(section 5's estimate of the edge, 0.3 % off here). At that point its double root is "
                   "sqrt(beta(1 - lr*mu)), already below the heavy ball's sqrt(beta): the end is a little "
                   "further left, where the larger real root reaches sqrt(beta)."),
        ((1 - sb) ** 2 / mu, "is (1-sqrt(beta))^2/mu, where the heavy ball's flat component becomes "
                             "critically damped; the heavy ball's rate is sqrt(beta) on the whole row from "
                             "there on, and the end is where Nesterov's rate comes down to it."),
        (right, "is the right end of the wedge on this row (1 + sqrt(beta)/(1 + sqrt(beta) + beta), set by "
                "Nesterov's steep component); the exercise asks for the left end."),
        (_wedge_ends(0.85, mu, L)[0], "is the left end on the row beta = 0.85, which section 5 prints; this "
                                      "row is beta = 0.8."),
        (_wedge_ends(0.9, mu, L)[0], "is the left end on the row beta = 0.9, which section 5 prints; this "
                                     "row is beta = 0.8."),
        (_wedge_ends(0.95, mu, L)[0], "is the left end on the row beta = 0.95, which section 5 prints; this "
                                      "row is beta = 0.8."),
        (sb / (1 + beta - sb), "is c = 1 - lr*mu = sqrt(beta)/(1 + beta - sqrt(beta)), where the flat "
                               "component's larger root equals sqrt(beta); the map's axis is lr*L, so solve "
                               "for lr: lr*L = (1 - c) L/mu."),
        (4 / (3 * L + mu), "is Nesterov's best step 4/(3L + mu), near the tip of the wedge, not its left end "
                           "at beta = 0.8."),
        ((2 + 2 * beta) / (1 + 2 * beta), "is Nesterov's divergence edge (2+2 beta)/(1+2 beta), to the right "
                                          "of the wedge."),
        (left / 100, "is lr*mu (with mu = 0.01), or a learning rate for the eigenvalues [1, 100] (L = 100): "
                     "the same number. The map's axis is lr*L, with the eigenvalues [0.01, 1.0] (L = 1): "
                     "divide lr*mu by mu, or multiply the other by L = 100."),
    ]
    for wrong, explanation in named:
        if abs(value - wrong) <= WEDGE_TOLERANCE:
            raise NotYet(f"{value:.5g} {explanation} Hint: {hint}")
    if abs(value - left) < cell:
        raise NotYet(f"{value:.5g} is close but not within {WEDGE_TOLERANCE:g}: the map's cells are "
                     f"4/300 = {cell:.4f} wide, so a value read off the map (or off a coarse scan) is a "
                     f"cell, not the edge. Refine it. Hint: {hint}")
    side = "too large" if value > left else "too small"
    raise NotYet(f"{value:.5g} is {side} for the left end of the wedge at beta = 0.8. Hint: {hint}")
