"""Self-checks for lesson 07, momentum in practice (conventions, and SGD with momentum).

The checks recognise the lesson's common wrong answers: the EMA learning rate multiplied by
``1 - beta`` instead of divided (or left unchanged, converted with ``1 + beta``, or without the
learning rate, ``1 / (1 - beta)``); the damped learning rate divided by ``1 - tau``, multiplied by
``tau``, converted with ``beta`` in place of ``tau``, converted twice (``lr (1 - tau) / (1 - beta)``),
without the learning rate (``1 - tau``) or towards the EMA the wrong way (``lr (1 - tau)(1 - beta)``);
PyTorch's buffer form, the EMA form, a velocity applied before it is updated (or x appended before
its update), a constant learning rate, a schedule off by one step (late, early or wrapped), a fixed
``beta = 0.9``, a damped velocity, float32 iterates or float32 arithmetic, Nesterov's method
(iterates or look-ahead points), one array appended for every row, a missing start row, a missing
last row, a returned ``(path, v)`` pair or a ragged list in place of Sutskever's update under a
schedule; and SGD's floor at the effective step (also with sigma_xi = 1), the small-step form (also
with sigma_xi = 1), SGD's floor at the same step, ``+ lr lambda`` in place of ``- lr lambda``,
``(1 + beta)`` in place of ``2 (1 + beta)``, the floor ratio (or sigma_xi = 1), lambda = 2 with
sigma_xi = 1 (the lesson's helper called with sigma_xi in lambda's place), half the variance (the
loss, or sigma_xi unsquared), the standard deviation and a missing ``1 / (1 - beta)`` in place of
the heavy ball's stationary variance, and an answer within 1 % but not 0.1 % (exercise 4 uses
sigma_xi = 2, so that the variance differs from the floor ratio).

Tolerances (stated in the exercise text): exercises 1, 2 and 4 within 0.1 %; exercise 3 every
iterate to a relative 1e-9 of :func:`lessons_lib.conventions.sutskever`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import conventions, surfaces
from . import NotYet, _plain, array, as_number, number, passed, run_answer

REL_TOL = 1e-3


def ema_learning_rate(answer: object) -> None:
    """Exercise 1: torch.optim.SGD(lr=0.1, momentum=0.9) in the EMA form: lr' = 0.1 / (1 - 0.9) = 1."""
    lr, beta = 0.1, 0.9
    number(
        answer, lr / (1 - beta), what="the EMA form's learning rate for PyTorch's (lr = 0.1, beta = 0.9)",
        rtol=REL_TOL,
        hint="the EMA is (1 - beta) times PyTorch's buffer, m = (1 - beta) b, so the step lr' m equals "
             "lr b when lr' = lr / (1 - beta).",
        mistakes={
            "times": (lr * (1 - beta), "multiplying by 1 - beta goes the wrong way: the EMA is the smaller "
                                       "buffer, so its learning rate must be the larger."),
            "same": (lr, "the same learning rate takes steps 1 - beta = 0.1 times as long in the EMA form."),
            "plus": (lr / (1 + beta), "1/(1 + beta) is the damping of an alternating gradient (lesson 03), "
                                      "not the ratio of the two buffers."),
            "plus_times": (lr * (1 + beta), "the ratio of the buffers is 1/(1 - beta), not 1 + beta."),
            "beta": (lr / beta, "the buffers differ by the factor 1 - beta, not beta."),
            "no_lr": (1 / (1 - beta), "1/(1 - beta) = 10 is only the factor: the EMA form's learning rate is "
                                      "PyTorch's lr = 0.1 times it."),
        },
    )


def undamped_learning_rate(answer: object) -> None:
    """Exercise 2: SGD(lr=0.5, momentum=0.9, dampening=0.8) weights later gradients as undamped lr 0.1."""
    lr, beta, tau = 0.5, 0.9, 0.8
    number(
        answer, lr * (1 - tau),
        what="the undamped learning rate matching lr = 0.5 with dampening = 0.8 after the first gradient",
        rtol=REL_TOL,
        hint="from the second step on, the damped buffer adds (1 - dampening) g; an undamped buffer adds g, "
             "so the learning rate must carry the factor 1 - dampening.",
        mistakes={
            "divided": (lr / (1 - tau), "dividing by 1 - dampening goes the wrong way: the damped buffer "
                                        "adds the smaller share of each gradient."),
            "tau": (lr * tau, "the damped buffer keeps (1 - dampening) of each gradient, not dampening."),
            "beta": (lr * (1 - beta), "that uses the momentum 0.9 in place of the dampening 0.8 (the EMA "
                                      "conversion); here the factor is 1 - dampening."),
            "ema": (lr / (1 - beta), "lr / (1 - beta) converts PyTorch's undamped form to the EMA form, "
                                     "not a damped run to an undamped one."),
            "same": (lr, "dampening scales every gradient after the first by 1 - dampening, so the undamped "
                         "run needs a smaller learning rate."),
            "twice": (lr * (1 - tau) / (1 - beta),
                      "that converts twice: lr (1 - dampening) is already PyTorch's undamped learning rate; "
                      "dividing by 1 - momentum converts it on to the EMA form, which is not asked."),
            "no_lr": (1 - tau, "1 - dampening = 0.2 is only the factor: the undamped learning rate is "
                               "lr = 0.5 times it."),
            "ema_wrong_way": (lr * (1 - tau) * (1 - beta),
                              "that multiplies by 1 - momentum as well, converting towards the EMA form the "
                              "wrong way (and the EMA form is not asked): lr (1 - dampening) alone is "
                              "PyTorch's undamped learning rate."),
        },
    )


def _sutskever_variants(grad, x0, lrs, beta) -> dict[str, tuple[np.ndarray, str]]:
    """Common wrong versions of Sutskever's update under a schedule, with what is wrong with each."""
    steps = len(lrs)
    out = {
        "pytorch": (conventions.pytorch(grad, x0, lrs, beta, steps),
                    "these are PyTorch's iterates (b = beta*b + g; x -= lr_k*b), which apply today's "
                    "learning rate to the whole buffer; Sutskever's velocity keeps each step at the "
                    "learning rate of its own time: v = beta*v - lr_k*g; x = x + v."),
        "ema": (conventions.ema(grad, x0, lrs, beta, steps),
                "this is the EMA form (m = beta*m + (1 - beta)*g); Sutskever's velocity sums the scaled "
                "gradients, v = beta*v - lr_k*g, without the factor 1 - beta."),
        "constant": (conventions.sutskever(grad, x0, np.full(steps, lrs[0]), beta, steps),
                     "every step used the first learning rate lrs[0]: step k must use lrs[k]."),
        "nesterov": (conventions.nesterov_lookahead(grad, x0, lrs, beta, steps),
                     "the gradient is taken at the look-ahead point x + beta*v: that is Nesterov's method; "
                     "the heavy ball takes it at x."),
        "nesterov_points": (
            conventions.nesterov_reformulated(grad, x0, lrs, beta, steps),
            "these are Nesterov's look-ahead points x + beta*v (Bengio et al.'s reformulation, or the "
            "look-ahead form returning x + beta*v): Sutskever's heavy-ball update takes the gradient at x "
            "and returns x."),
        "pytorch_nesterov": (
            conventions.pytorch(grad, x0, lrs, beta, steps, nesterov=True),
            "these are the iterates of torch.optim.SGD(nesterov=True); Sutskever's heavy-ball update is "
            "v = beta*v - lr_k*grad(x); x = x + v."),
    }
    shifted = np.roll(lrs, 1)  # step k with lrs[k - 1], so step 0 with lrs[-1]
    out["shifted"] = (conventions.sutskever(grad, x0, shifted, beta, steps),
                      "step k used lrs[k - 1] (an index off by one, step 0 taking lrs[-1]): step k must use "
                      "lrs[k], for k = 0 to len(lrs) - 1.")
    delayed = np.r_[lrs[0], lrs[:-1]]  # the schedule one step late
    out["delayed"] = (conventions.sutskever(grad, x0, delayed, beta, steps),
                      "the schedule is one step late (step k used lrs[k - 1], step 0 lrs[0]): step k must "
                      "use lrs[k].")
    early = np.r_[lrs[1:], lrs[-1]]  # the schedule one step early
    out["early"] = (conventions.sutskever(grad, x0, early, beta, steps),
                    "the schedule is one step early (step k used lrs[k + 1]): step k must use lrs[k].")
    out["damped"] = (conventions.sutskever(grad, x0, np.asarray(lrs) * (1 - beta), beta, steps),
                     "the velocity is damped, v = beta*v - (1 - beta)*lr_k*g (an EMA of the steps): "
                     "Sutskever's velocity has no factor 1 - beta, v = beta*v - lr_k*g.")
    if beta != 0.9:
        out["beta_fixed"] = (conventions.sutskever(grad, x0, lrs, 0.9, steps),
                             f"these are the iterates for beta = 0.9, but this run has beta = {beta:g}: use "
                             "the argument beta, not a fixed 0.9.")
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr_k in lrs:  # the position moved with the old velocity, then the velocity updated
        x = x + v
        v = beta * v - lr_k * grad(x)
        path.append(x.copy())
    out["stale"] = (np.array(path), "x moved with the old velocity before v was updated, or you appended x "
                                    "before updating it (row 1 repeats the start): update "
                                    "v = beta*v - lr_k*grad(x) first, then x = x + v, then append x.")
    return out


def sutskever_update(candidate: Callable) -> None:
    """Exercise 3: ``sutskever(grad, x0, lrs, beta)`` equals :func:`lessons_lib.conventions.sutskever`
    under three learning-rate schedules, every iterate to a relative 1e-9."""
    if not callable(candidate):
        raise NotYet(f"sutskever should be a function; got {type(candidate).__name__}.")
    hint = ("per step k: v = beta*v - lrs[k]*grad(x); x = x + v, with v starting at zero; return the start "
            "and every iterate, shape (len(lrs) + 1, len(x0)).")
    cases = [("quadratic", np.r_[np.full(30, 0.2), np.full(30, 0.02)], 0.9),
             ("rosenbrock", np.geomspace(1e-3, 1e-4, 200), 0.8),
             ("tilted", np.linspace(0.3, 0.05, 50), 0.6)]
    for name, lrs, beta in cases:
        s = surfaces.quadratic([0.5, 3.0], angle=0.7) if name == "tilted" else surfaces.get(name)
        where = f"on {name} with a schedule from lr {lrs[0]:g} to {lrs[-1]:g} (beta = {beta:g})"
        def crashed(error, where=where):
            extra = (" (lrs[k + 1] runs past the end of the schedule: step k uses lrs[k])"
                     if isinstance(error, IndexError) else "")
            return f"{where} sutskever raised {type(error).__name__}: {error}{extra}. Hint: {hint}"

        returned = run_answer(candidate, s.grad, s.start.copy(), lrs.copy(), beta, name="sutskever",
                              hint=hint, forbid=conventions, crashed=crashed)
        want = conventions.sutskever(s.grad, s.start, lrs, beta, len(lrs))
        if isinstance(returned, tuple) and len(returned) == 2:
            raise NotYet(f"{where} sutskever returned a pair (a tuple of two things): return only the "
                         "iterates, not (path, v). Hint: " + hint)
        returned = _plain(returned)  # tensors (detached) as arrays
        try:
            shape = np.shape(returned)
        except (TypeError, ValueError):  # a ragged list: array() below names it
            shape = None
        if shape == (len(lrs), 2):
            try:
                start_there = np.allclose(np.asarray(returned, dtype=float)[0], s.start)
            except (TypeError, ValueError):
                start_there = False
            if start_there:
                raise NotYet(f"{where} sutskever returned {len(lrs)} rows starting with x0: the last iterate "
                             "is missing (the loop runs len(lrs) - 1 times, or appends x before updating "
                             f"it). Return {len(lrs) + 1} rows: x0 and the {len(lrs)} iterates. Hint: {hint}")
            raise NotYet(f"{where} sutskever returned {len(lrs)} rows: include the start x0 as row 0, "
                         f"{len(lrs) + 1} rows in all. Hint: {hint}")
        got = array(returned, f"what sutskever returns {where}", want.shape,
                    shape_hint="(the start and every iterate, one row each)", hint=hint)
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        if len(got) > 2 and np.all(got[1:] == got[-1]) and not np.allclose(want[1], want[-1]):
            raise NotYet(f"{where} rows 1 to {len(got) - 1} of what sutskever returns are all the same: "
                         "every row is the same array, changed in place (x += v) after it was appended. "
                         "Append a copy, path.append(x.copy()), or write x = x + v, which makes a new array.")
        if "float32" in str(getattr(returned, "dtype", "")) and np.allclose(got, want, rtol=1e-5, atol=1e-6):
            raise NotYet(f"{where} your iterates are float32 ({returned.dtype}): right to about 1e-7 but "
                         "not to the relative 1e-9 asked. Compute in float64: np.array(x0, dtype=float), "
                         "and no .astype(np.float32) or torch.float32.")
        for wrong, message in _sutskever_variants(s.grad, s.start, lrs, beta).values():
            if wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-9, atol=1e-12):
                raise NotYet(f"{where}: {message}")
        if np.allclose(got, want, rtol=1e-5, atol=1e-6):  # right to float32's precision, not to 1e-9
            raise NotYet(f"{where} your iterates agree with Sutskever's update to about 1e-6 but not to the "
                         "relative 1e-9 asked: that is float32 arithmetic (a float32 x0 or velocity, or a "
                         "torch.float32 tensor), even if the result is float64. Compute in float64: "
                         "np.array(x0, dtype=float).")
        k = int(np.argmax(np.any(~np.isclose(got, want, rtol=1e-9, atol=1e-12), axis=-1)))
        yours, right = (np.array2string(row, precision=10) for row in (got[k], want[k]))
        raise NotYet(f"{where} your iterate {k} is {yours}; Sutskever's update gives {right}. Hint: {hint}")
    passed(f"sutskever matches Sutskever's update under {len(cases)} learning-rate schedules.")


def stationary_variance(answer: object) -> None:
    """Exercise 4: the heavy ball's stationary variance at lr = 0.1, beta = 0.9, lambda = 1, sigma_xi = 2."""
    lr, beta, s2 = 0.1, 0.9, 4.0
    expected = lr * s2 * (1 + beta) / ((1 - beta) * (2 * (1 + beta) - lr))
    ratio = (1 + beta) * (2 - lr / (1 - beta)) / (2 * (1 + beta) - lr)
    what = "the stationary variance at lr = 0.1, beta = 0.9 (lambda = 1, sigma_xi = 2)"
    hint = ("V = lr sigma_xi^2 (1 + beta) / (lambda (1 - beta) (2 (1 + beta) - lr lambda)), section 6, "
            "with sigma_xi^2 = 4.")
    try:
        _stationary_variance_number(answer, expected, ratio, what, hint)
    except NotYet as not_yet:
        value = as_number(answer, what, hint)
        if ("too large" in str(not_yet) or "too small" in str(not_yet)) and abs(value / expected - 1) < 0.01:
            raise NotYet(f"{value:g} is close to {what}, within 1 %: give it to 0.1 % (four significant "
                         "figures).") from None
        raise


def _stationary_variance_number(answer: object, expected: float, ratio: float, what: str, hint: str) -> None:
    lr, beta, s2 = 0.1, 0.9, 4.0
    number(
        answer, expected, what=what, rtol=REL_TOL, hint=hint,
        mistakes={
            "sgd_effective": (s2 * 1.0, "that is SGD's floor at the effective step lr/(1 - beta) = 1, "
                                        "lr sigma_xi^2/(lambda(2 - lr lambda)) with lr = 1; the heavy ball's "
                                        "is about half of it here, because lr lambda/(1 - beta) = 1 is not "
                                        "small."),
            "small_step": (s2 * 0.5, "2 is the small-step form lr/(1 - beta) * sigma_xi^2/(2 lambda), within "
                                     "3 % here; the exact formula keeps the term lr lambda in "
                                     "2(1 + beta) - lr lambda."),
            "sgd_same": (s2 * lr / (2 - lr), "that is plain SGD's floor at lr = 0.1, without momentum."),
            "no_one_plus": (s2 * lr / ((1 - beta) * (2 * (1 + beta) - lr)),
                            "the factor (1 + beta) of the numerator is missing."),
            "plus": (s2 * lr * (1 + beta) / ((1 - beta) * (2 * (1 + beta) + lr)),
                     "the denominator has 2 (1 + beta) - lr lambda, with a minus: a larger step raises the "
                     "floor."),
            "no_two": (s2 * lr * (1 + beta) / ((1 - beta) * ((1 + beta) - lr)),
                       "the factor 2 of 2 (1 + beta) - lr lambda in the denominator is missing."),
            "ratio": (ratio, "0.5135 is the ratio of the heavy ball's floor to SGD's at the effective "
                             "step (section 6), which does not depend on sigma_xi, or the variance for "
                             "sigma_xi = 1: the variance carries the factor sigma_xi^2 = 4."),
            "loss": (expected / 2, "that is half the variance: the stationary loss lambda V / 2 (section 5's "
                                   "quantity), or sigma_xi = 2 where sigma_xi^2 = 4 belongs. The variance is "
                                   "V itself."),
            "std": (np.sqrt(expected), "that is the standard deviation, the square root of the variance."),
            "no_one_minus": (expected * (1 - beta),
                             "the factor 1/(1 - beta) is missing: it is what makes momentum's floor about "
                             "that of SGD at the effective step lr/(1 - beta)."),
            "lambda_2": (lr * (1 + beta) / (2 * (1 - beta) * (2 * (1 + beta) - 2 * lr)),
                         "that is the formula with lambda = 2 and sigma_xi = 1 (momentum_floor(0.1, 0.9, 2) "
                         "passes 2 as lam_1, the third argument): here lambda = 1 and sigma_xi = 2, "
                         "momentum_floor(0.1, 0.9, 1.0, 2.0)."),
            "sgd_effective_s1": (1.0, "that is SGD's floor at the effective step lr/(1 - beta) = 1 with "
                                      "sigma_xi = 1; and the heavy ball's is not SGD's at the effective step "
                                      "here (lr lambda/(1 - beta) = 1 is not small). Use sigma_xi^2 = 4 in "
                                      "the heavy ball's formula."),
            "small_step_s1": (0.5, "that is the small-step form lr/(1 - beta) * sigma_xi^2/(2 lambda) with "
                                   "sigma_xi = 1, left out; the noise here has sigma_xi^2 = 4, and the exact "
                                   "formula keeps the term lr lambda."),
        },
    )
