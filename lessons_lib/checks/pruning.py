"""Self-checks for lesson 10, weight pruning.

The checks name the usual slips: the kept count given for the dropped one, a drift
formula that includes the step before pruning or has the wrong sign, a Nesterov step
that forgets to mask the buffer, and a "sparse" model whose pruned weights came back.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import pruning
from ..intervals import t_half_width
from . import NotYet, array, as_number, number, passed, run_answer


def dropped_count(answer: object) -> None:
    """Exercise 1: sparsity 0.9 on a 300 x 100 matrix drops round(0.9 * 30000) = 27000 weights."""
    what = "the number of weights set to zero"
    hint = "k = round(p * N) with sparsity p = 0.9 and N = 300 * 100 entries."
    value = as_number(answer, what, hint)
    if value != 27000.0:  # slips that the named mistakes below would not say plainly
        nearest = float(round(value))
        if value != nearest and abs(value - nearest) <= 1e-6:
            # floating-point noise around a whole number (an absolute bound: the products and sums this
            # exercise leads to are off by 1e-11 at most, while a typed 27000.02 is not noise): say so with
            # all its digits, and name the number
            meant = {27000.0: "27000 is the right count, so only the rounding is missing",
                     3000.0: ("3000 is the number of weights kept, (1 - p) * N; sparsity is the fraction "
                              "dropped, so the exercise asks for p * N")}.get(nearest, f"{nearest:.0f}")
            raise NotYet(f"{value!r} is {nearest:.0f} up to a floating-point rounding error (products "
                         f"such as (1 - 0.9) * 30000 are not exact in binary): {meant}. A count is a whole "
                         f"number: round() it. Hint: {hint}")
        if value in (26999.0, 27001.0, 2999.0):  # int() for round(), one off: named before "too small"
            why = {
                26999.0: ("26999 is one below 27000: int() truncates, round() rounds to the nearest whole "
                          "number, and a product or sum that comes out a hair below 27000 in floating point "
                          "(such as 27000 - 1e-9) loses 1 when int() truncates it"),
                27001.0: ("27001 is one above 27000, and 30000 - 2999: the kept count (1 - 0.9) * 30000 is "
                          "2999.9999999999995 in floating point, and int() truncates it to 2999 (round() "
                          "gives 3000)"),
                2999.0: ("2999 is the kept count (1 - 0.9) * 30000 = 2999.9999999999995 truncated by int() "
                         "(round() gives 3000); and the exercise asks for the number set to zero, not kept"),
            }[value]
            raise NotYet(f"{why}. Use round(), not int(). Hint: {hint}")
        if 0 < value < 1:
            raise NotYet(f"{value:g} is a fraction, not a count: sparsity p = 0.9 is the fraction of the "
                         f"entries set to zero, and the exercise asks how many entries that is. Hint: {hint}")
        if value < 0:
            raise NotYet(f"{value:g} is negative: a number of weights is 0 or more. Hint: {hint}")
        if value == 30000.0:
            raise NotYet(f"30000 is every entry of the matrix, N = 300 * 100: at sparsity 0.9 a tenth of "
                         f"them is kept. Hint: {hint}")
        if value == 6464.0:
            raise NotYet(f"6464 is the number of weights of the lesson's network; the exercise's matrix is "
                         f"300 x 100. Hint: {hint}")
        if value != nearest:
            raise NotYet(f"{value!r} is not a whole number: round(p * N) counts weights, so it is an integer "
                         f"(here p * N is already one). Hint: {hint}")
        if value in (2700.0, 270000.0):
            raise NotYet(f"{value:g} is off by a factor of 10: N = 300 * 100 = 30,000 entries. Hint: {hint}")
    number(
        answer, 27000.0, what=what, hint=hint,
        rtol=0.0,
        mistakes={
            "kept": (3000.0, "3,000 is the number of weights kept; sparsity is the fraction dropped."),
            "rows": (270.0, "sparsity counts entries of the matrix, not rows."),
            "cols": (90.0, "sparsity counts entries of the matrix, not columns."),
        },
    )


def drift_limit(answer: object) -> None:
    """Exercise 2: b0 = 0.02, η = 0.1, β = 0.9: w -> -η b0 β / (1 - β) = -0.018."""
    lr, beta, b0 = 0.1, 0.9, 0.02
    expected = -lr * b0 * beta / (1 - beta)
    what = "the limit of the pruned weight"
    hint = ("after k steps the buffer is β^k b0, so the weight moves by "
            "-η b0 (β + β^2 + ...), a geometric series.")
    mistakes = {
        "sign": (-expected, "the step is w - η b, and b stays positive: the weight moves in the "
                            "negative direction."),
        # with η = 1 - β = 0.1, -η b0 / (1 - β) is -b0: two readings of one number, both named
        "from_zero": (-lr * b0 / (1 - beta), "that is -η b0/(1 - β), the sum of β^k from k = 0 (the first "
                                             "step after pruning already multiplies the buffer by β once); "
                                             "or, read another way, -b0, the buffer itself (here η = 1 - "
                                             "β = 0.1, so the two are the same number), but the weight moves "
                                             "by η times the buffer at each step, not by the buffer."),
        "from_two": (-lr * b0 * beta**2 / (1 - beta), "that sums β^k from k = 2, one step too few: the "
                                                      "first step after pruning multiplies the buffer by "
                                                      "β once and then already moves the weight by η β b0."),
        "one_step": (-lr * b0 * beta, "that is only the first step; the buffer keeps pushing, "
                                      "shrinking by β each time."),
        "second_alone": (-lr * b0 * beta**2, "that is the second step's move alone, η β^2 b0 (it is not a "
                                             "point the weight passes through); the weight moves at every "
                                             "step, by η β b0, η β^2 b0, ...: add all steps."),
        "last_before": (-lr * b0, "-η b0 is the last step before pruning, taken with the buffer b0 "
                                  "itself; every step after pruning first multiplies the buffer by β, "
                                  "so the weight moves by η β b0, then η β^2 b0, ..., and these add up."),
        # with η = 1 - β, -b0 β/(1 - β) is also -η b0 β/(1 - β)^2: both readings named
        "no_lr": (-b0 * beta / (1 - beta), "that is -b0 β/(1 - β), which leaves out the learning rate η that "
                                           "multiplies every step; or -η b0 β/(1 - β)^2, which divides by "
                                           "1 - β twice (here η = 1 - β = 0.1, so the two are the same "
                                           "number). The sum β + β^2 + ... is β/(1 - β), once."),
        "no_lr_from_zero": (-b0 / (1 - beta), "that leaves out the learning rate η, which multiplies every "
                                              "step, and sums β^k from k = 0 (the first step after pruning "
                                              "already multiplies the buffer by β once); with η = 1 - β here "
                                              "it is also -η b0/(1 - β)^2, a division by 1 - β once too "
                                              "often."),
        "stays_zero": (0.0, "masking the gradient does not stop the weight: the buffer is not masked, "
                            "so b = β^k b0 keeps moving it by -η b at every step (it would stay at 0 "
                            "only if the buffer were masked too)."),
    }
    value = as_number(answer, what, hint)
    rtol = 5e-6  # "6 significant digits": half a unit in the 6th digit is up to 5e-6 relative
    if np.isclose(value, expected, rtol=rtol, atol=0.0):
        passed(f"{what} = {expected:.6g}.")
        return
    for wrong, explanation in mistakes.values():
        if np.isclose(value, wrong, rtol=rtol, atol=0.0):
            raise NotYet(f"{value:.10g} is not {what}: {explanation} Hint: {hint}")
    if value > 0:  # the wrong direction; perhaps a named mistake as well
        also = next((f" Apart from the sign: {explanation}" for name, (wrong, explanation) in mistakes.items()
                     if name not in ("sign", "stays_zero")
                     and np.isclose(-value, wrong, rtol=rtol, atol=0.0)), "")
        raise NotYet(f"{value:.10g} is positive: the step is w - η b, and b = β^k b0 stays positive, so the "
                     f"weight moves in the negative direction.{also} Hint: {hint}")
    if expected < value < 0:  # short of the limit on the right side: a truncated sum or a short simulation
        # after n steps the weight is -η b0 β (1 - β^n) / (1 - β) = expected (1 - β^n)
        steps = np.log(1 - value / expected) / np.log(beta)
        if steps < 0.95:  # clearly closer to 0 than the first step's move: not a point of the trajectory
            where = ("that is less than the first step alone moves the weight "
                     f"(η β b0 = {lr * beta * b0:g}): not where the weight is after any number of steps")
        elif steps < 1.5:
            where = ("that is about where the weight is after one step, -η β b0 = "
                     f"{-lr * beta * b0:g}: the first step only")
        else:
            where = (f"that is where the weight is after about {steps:.0f} steps, "
                     f"-η b0 β (1 - β^n)/(1 - β) with n = {steps:.0f}")
        raise NotYet(f"{value:.10g} is short of {what}: {where}. The limit is the sum of the whole series "
                     "(n → ∞), to 6 significant digits. Hint: β + β^2 + ... = β/(1 - β).")
    if value < expected:  # past the limit: the steps shrink geometrically and add up to the limit, no further
        raise NotYet(f"{value:.10g} is too small for {what}, past it (it must hold to 6 significant digits): "
                     "the weight moves by η β b0, η β^2 b0, ..., steps that shrink by β each time, so it "
                     f"approaches the limit from 0 and never passes it. Hint: {hint}")
    raise NotYet(f"{value:.10g} is too large for {what} (it must hold to 6 significant digits). Hint: {hint}")


ARGUMENTS = "(param, grad, buf, mask, lr, momentum, weight_decay)"


def _signature_message(candidate) -> str | None:
    """A message if the candidate cannot be called with the exercise's seven positional arguments."""
    try:
        signature = inspect.signature(candidate)
    except (TypeError, ValueError):  # a builtin or the like: let the call say what is wrong
        return None
    try:
        signature.bind(*range(7))
    except TypeError:
        name = getattr(candidate, "__name__", "your function")
        return (f"{name}{signature} cannot be called as the check calls it, with the seven arguments "
                f"{ARGUMENTS} in that order. Hint: def masked_nesterov_step{ARGUMENTS}: ...")
    return None


def _call_step(candidate, args, step):
    """The candidate's (param, buf) as float arrays, or NotYet saying what is wrong with what it did."""
    def crashed(err: Exception) -> str:
        first = " (the first step, buf is None)" if args[2] is None else ""
        if args[2] is None and "NoneType" in str(err):
            hint = ("on the first step buf is None: use b = g there, and momentum * buf only "
                    "afterwards.")
        elif "torch" in str(err).lower() or "Tensor" in str(err) or "not implemented for NumPy" in str(err):
            hint = ("the arguments are NumPy arrays (param, grad and buf of floats, mask of booleans): "
                    "compute with NumPy alone, without converting some of them to torch tensors.")
        else:
            hint = ("the arguments are NumPy arrays (param, grad and buf of floats, mask of booleans, buf "
                    "None on the first step) and three floats; the step needs only +, - and * on them "
                    "(x * mask sets the pruned entries to 0).")
        return f"your function raised {type(err).__name__}: {err} at step {step}{first}. Hint: {hint}"

    result = run_answer(candidate, *args, name="masked_nesterov_step", crashed=crashed, forbid=pruning,
                        forbid_names=("masked_momentum_step", "MaskedSGD"))
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise NotYet(f"return a pair (param, buf), a tuple; got {type(result).__name__}. Hint: "
                     "`return new_param, new_buf`.")
    for value, what in ((result[0], "weight"), (result[1], "buffer")):
        if value is None:
            first = " (b = g on the first step)" if what == "buffer" else ""
            raise NotYet(f"at step {step} your function returned None for the new {what}. Hint: return the "
                         f"new {what}, not None{first}.")
    shape = args[0].shape
    hint = "param and buf keep the shape of param."
    return array(result[0], "the new param", shape, hint), array(result[1], "the new buf", shape, hint)


def nesterov_step(candidate: Callable[..., object]) -> None:
    """Exercise 3: the masked Nesterov step against ``pruning.masked_momentum_step(nesterov=True)``.

    Two runs: a first step with ``buf=None``, and 6 steps from the state right after pruning,
    where the old buffer is nonzero at the pruned positions (masking the gradient alone leaves
    it there, so that half-fix fails here).
    """
    if not callable(candidate):
        raise NotYet(f"masked_nesterov_step should be a function; got {type(candidate).__name__}.")
    wrong_signature = _signature_message(candidate)
    if wrong_signature:
        raise NotYet(wrong_signature)
    rng = np.random.default_rng(7)
    shape = (6, 5)
    mask = rng.random(shape) > 0.6
    # lr != 1 - momentum, so that a buffer holding lr * g (b = momentum * b + lr * g) and an averaging one
    # (b = momentum * b + (1 - momentum) * g) give different numbers and each gets its own message
    lr, mu, wd = 0.05, 0.9, 0.01
    p0 = rng.normal(size=shape)
    p0[~mask] = 0.0
    starts = [("the first step (buf is None)", None, 1), ("right after pruning (old buffer nonzero "
                                                         "at pruned positions)", rng.normal(size=shape), 6)]
    for where, buf0, n_steps in starts:
        p_you, b_you = p0.copy(), None if buf0 is None else buf0.copy()
        for step in range(1, n_steps + 1):
            grad = rng.normal(size=shape)
            p_ref, b_ref = pruning.masked_momentum_step(p_you, grad, b_you, mask, lr, mu, wd, nesterov=True)
            p_hb, _ = pruning.masked_momentum_step(p_you, grad, b_you, mask, lr, mu, wd, nesterov=False)
            g = (grad + wd * p_you) * mask
            p_old = None if b_you is None else (p_you - lr * (g + mu * b_you)) * mask  # old buffer in d
            b_in = None if b_you is None else b_you.copy()
            p_old_param = p_you.copy()
            args = (p_you.copy(), grad.copy(), b_in, mask.copy(), lr, mu, wd)
            p_you, b_you = _call_step(candidate, args, step)
            at = f"at step {step}, starting {where}"
            close = functools.partial(np.allclose, rtol=1e-9, atol=1e-12)
            if close(p_you, b_ref) and close(b_you, p_ref) and not close(p_you, p_ref):
                raise NotYet(f"{at} the two results are swapped: your first value is PyTorch's new buffer "
                             "and your second its new weight. Hint: return (param, buf), the weight first.")
            inverted = [what for value, what in ((p_you, "weight"), (b_you, "buffer"))
                        if np.all(value[mask] == 0) and np.any(value[~mask] != 0)]
            if inverted:
                verb = "is" if len(inverted) == 1 else "are"
                raise NotYet(f"{at} your new {' and '.join(inverted)} {verb} zero at every kept position and "
                             "nonzero at pruned ones: the mask is used the wrong way round. Hint: mask is a "
                             "keep-mask, True where a weight stays: multiply by mask (not by 1 - mask or "
                             "~mask).")
            if np.any(b_you[~mask] != 0):
                raise NotYet(f"{at} the buffer is nonzero at pruned positions: it would push the pruned "
                             "weights on the next step. Hint: multiply the new buffer by the mask too "
                             "(masking the gradient alone leaves the old buffer there).")
            if np.any(p_you[~mask] != 0):
                raise NotYet(f"{at} a pruned weight is nonzero. Hint: multiply the gradient (after adding "
                             "weight decay) and the new weight by the mask.")
            for mine, ref, what in ((b_you, b_ref, "buffer"), (p_you, p_ref, "weights")):
                near = np.allclose(mine, ref, rtol=1e-5, atol=1e-7)
                if near and not np.allclose(mine, ref, rtol=1e-12, atol=1e-15):
                    rel = np.max(np.abs(mine - ref)) / np.max(np.abs(ref))
                    verb = "agrees" if what == "buffer" else "agree"
                    raise NotYet(f"{at} the {what} {verb} with PyTorch's only to about {rel:.0e} relative: "
                                 "that is float32 rounding (about 1e-7), not a mistake in the formula. Hint: "
                                 "compute in float64 (do not convert the arrays to float32).")
            if not np.allclose(b_you, b_ref, rtol=1e-12, atol=1e-15):
                exact = functools.partial(np.allclose, b_you, rtol=1e-12, atol=1e-15)
                g_no_wd, g_minus_wd = grad * mask, (grad - wd * p_old_param) * mask
                old_b = 0.0 if b_in is None else b_in
                if exact((mu * old_b + g_no_wd) * mask if b_in is not None else g_no_wd):
                    why = ("it leaves out weight decay. PyTorch's weight_decay is added to the gradient "
                           "before the buffer (not AdamW's decoupled form, a separate shrink of the weight)")
                elif exact((mu * old_b + g_minus_wd) * mask if b_in is not None else g_minus_wd):
                    why = "it subtracts weight decay: g = grad + weight_decay * param, a plus"
                elif exact(-lr * g if b_in is None else (mu * old_b - lr * g) * mask):
                    why = ("it is the velocity v = momentum * v - lr * g of another textbook form; PyTorch's "
                           "buffer holds no learning rate and no minus sign")
                elif exact(lr * g if b_in is None else (mu * old_b + lr * g) * mask):
                    why = ("it puts the learning rate into the buffer, b = momentum * b + lr * g (another "
                           "textbook form); PyTorch's buffer holds no learning rate: b = momentum * b + g, "
                           "and lr multiplies the step")
                elif exact((1 - mu) * g) or (b_in is not None and exact((mu * old_b + (1 - mu) * g) * mask)):
                    why = ("it weighs the gradient by 1 - momentum (an average, or PyTorch's dampening, "
                           "which is 0 here)")
                else:
                    why = "the formula differs"
                raise NotYet(f"{at} the buffer differs from PyTorch's: {why}. Hint: b = g on the first step "
                             "(buf is None), b = momentum * b + g afterwards, with "
                             "g = grad + weight_decay * param.")
            if not np.allclose(p_you, p_ref, rtol=1e-12, atol=1e-15):
                exact = functools.partial(np.allclose, p_you, rtol=1e-12, atol=1e-15)
                if exact((p_old_param + lr * (g + mu * b_ref)) * mask):
                    raise NotYet(f"{at} your weights moved up the gradient: that is w + lr * (...). Hint: "
                                 "w - lr * (g + momentum * b), a minus.")
                if exact((p_old_param - lr * mu * b_ref) * mask):
                    raise NotYet(f"{at} you stepped along momentum * b alone, without g. Hint: Nesterov "
                                 "steps along g + momentum * b.")
                if args[2] is None and np.allclose(p_you, p_hb, rtol=1e-12, atol=1e-15):
                    raise NotYet(f"{at} you stepped along g alone: that is the heavy-ball step w - lr * b "
                                 "with b = g, or a look-ahead with the old (empty) buffer. Hint: b = g on "
                                 "the first step, and Nesterov steps along g + momentum * b.")
                if np.allclose(p_you, p_hb, rtol=1e-12, atol=1e-15):
                    raise NotYet(f"{at} you took the heavy-ball step w - lr * b, not Nesterov's. Hint: "
                                 "Nesterov steps along g + momentum * b (with the new buffer b).")
                if p_old is not None and np.allclose(p_you, p_old, rtol=1e-12, atol=1e-15):
                    raise NotYet(f"{at} the step uses the old buffer in g + momentum * b. Hint: update the "
                                 "buffer first, then step along g + momentum * (new buffer).")
                raise NotYet(f"{at} the weights differ from PyTorch's Nesterov step. Hint: "
                             "w - lr * (g + momentum * b), masked.")
    passed("a first step and 6 steps from a nonzero old buffer agree with PyTorch's Nesterov form on the "
           "kept weights; pruned weights and their buffer stay exactly 0.")


#: The record of lesson 10's section 5 search on validation (scripts/search_lesson10.py), which exercise 4's
#: hint quotes: :func:`section5_search` reads it, so that the hint names the record's pick.
SEARCH_RECORD = "lesson10_finetuning"


@functools.cache
def section5_search() -> dict[str, Any]:
    """What section 5's search found, from its record (``selection.load_record(SEARCH_RECORD)``), as exercise
    4's hint quotes it.

    ``epochs`` and ``lr``: the rule's pick (epochs per level, fine-tuning rate); ``largest``: whether the
    pick is the grid's largest value on both axes; ``lr_below``: the grid's rate just below the pick's;
    ``rate_step``: (mean, 95 % half-width, seeds ahead) of the pick minus (``epochs``, ``lr_below``), paired
    by seed, in points of the search's objective (the share of a seed's validation decisions right, over
    six sparsities and both methods); ``epoch_steps``: the same for every step to the next number of
    epochs at every rate; ``n_steps``: the number of the grid's steps to a neighbour (both axes);
    ``epoch_steps_corrected``: how many of ``epoch_steps`` exclude 0 with a Bonferroni correction for
    ``n_steps`` comparisons (t_{1 - 0.025/n_steps, n - 1}, as the lesson prints them).
    tests/test_checks_pruning.py checks the hint's words against these numbers."""
    from .. import selection

    record = selection.load_record(SEARCH_RECORD)
    pick = record.settings[record.pick]
    grid_e = sorted({st["epochs_per_level"] for st in record.settings})
    grid_lr = sorted({st["ft_lr"] for st in record.settings})

    def difference(better: Mapping[str, Any], worse: Mapping[str, Any]) -> np.ndarray:
        d = 100 * (record.correct[record.find(**better)] - record.correct[record.find(**worse)])
        return d / record.n_images

    def paired(d: np.ndarray) -> tuple[float, float, int]:
        return float(d.mean()), t_half_width(d), int(np.sum(d > 0))

    epochs, lr = pick["epochs_per_level"], pick["ft_lr"]
    lr_below = max((x for x in grid_lr if x < lr), default=None)
    below = None if lr_below is None else {"epochs_per_level": epochs, "ft_lr": lr_below}
    steps = {(e0, e1, x): difference({"epochs_per_level": e1, "ft_lr": x},
                                     {"epochs_per_level": e0, "ft_lr": x})
             for x in grid_lr for e0, e1 in zip(grid_e, grid_e[1:], strict=False)}
    n_steps = (len(grid_e) - 1) * len(grid_lr) + (len(grid_lr) - 1) * len(grid_e)
    return {
        "epochs": epochs, "lr": lr, "largest": (epochs, lr) == (grid_e[-1], grid_lr[-1]),
        "lr_below": lr_below, "rate_step": None if below is None else paired(difference(pick, below)),
        "epoch_steps": {key: paired(d) for key, d in steps.items()}, "n_steps": n_steps,
        "epoch_steps_corrected": sum(d.mean() - t_half_width(d, 0.05 / n_steps) > 0 for d in steps.values()),
    }


#: Exercise 4: at least this sparsity and at most this drop; a student may ask for more sparsity, not less.
#: Both are the exercise's specification (requirements to meet), not settings tuned on any images.
MIN_SPARSITY = 0.9
MAX_DROP_PT = 1.5

#: Section 5's validation counts (lesson 10), summed over its five networks (5 x 270 = 1,350 decisions): the
#: dense networks, and one-shot and iterative pruning fine-tuned by the picked schedule at 90, 95 and 97 %.
#: Exercise 4's hint quotes them as means; the lesson asserts that its own run counts exactly these.
SECTION5_VALIDATION: dict[str, Any] = {
    "decisions": 1350, "dense": 1310,
    "one-shot": {0.9: 1304, 0.95: 1264, 0.97: 1190},
    "iterative": {0.9: 1284, 0.95: 1268, 0.97: 1260},
}


def fine_tuning_hint(target: float = MIN_SPARSITY) -> str:
    """Exercise 4's hint when the accuracy falls short of the target sparsity ``target``'s bar: what section
    5's search measured, and on what (its numbers from the record, :func:`section5_search`), and section
    5's validation means (:data:`SECTION5_VALIDATION`); no test-set figure, since the exercise is graded
    on validation."""
    found = section5_search()
    e, lr = found["epochs"], found["lr"]
    m, h, ahead = found["rate_step"]
    n_epoch_steps = len(found["epoch_steps"])
    val = SECTION5_VALIDATION

    def pct(count: int) -> str:
        return f"{100 * count / val['decisions']:.2f} %"

    means = "; ".join(f"at {100 * s:.0f} % one-shot {pct(val['one-shot'][s])}, "
                      f"iterative {pct(val['iterative'][s])}" for s in sorted(val["one-shot"]))
    hint = (
        "fine-tune after pruning, with the masks, on `fit`, and long enough. Section 5 chose its schedule "
        "on validation for a pooled objective, not for this exercise: the validation images right over six "
        "sparsities (50 to 98 %) and both methods, one-shot and iterative, on five networks. On that "
        f"objective the rule picked {e} epochs a level at lr {lr:g}, the largest of the grid on both axes "
        "(nothing beyond was tried); more epochs per level scored higher at every rate searched (all "
        f"{n_epoch_steps} paired intervals exclude 0 uncorrected; with a Bonferroni correction for the "
        f"grid's {found['n_steps']} steps, {found['epoch_steps_corrected']} of the {n_epoch_steps} do), "
        f"while at {e} epochs lr {lr:g} was not detectably better than {found['lr_below']:g} "
        f"({m:+.2f} ± {h:.2f} points of that objective, paired by seed, ahead for {ahead} of 5 seeds). "
        f"This exercise (one network, seed 0's, pruned to at least {100 * target:g} % by any schedule) was "
        "not searched on its own; section 5's one-shot 90 % networks were fine-tuned for three levels of "
        f"that schedule, {3 * e} epochs at lr {lr:g}. Section 5's validation accuracies, means over its five "
        f"networks at that schedule (dense {pct(val['dense'])}): {means}.")
    if target >= 0.95 - 1e-12:
        method = max(("iterative", "one-shot"), key=lambda name: val[name][0.95])
        gap = 100 * (val["dense"] - val[method][0.95]) / val["decisions"]
        hint += (f" At 95 % the better method, {method}, was {gap:.2f} points below the dense mean, "
                 f"{gap / MAX_DROP_PT:.1f} times the {MAX_DROP_PT:g} points this exercise allows (a mean "
                 "over five networks; seed 0's may do better or worse).")
    return hint


def _section5_rate() -> str:
    """The fine-tuning rate section 5 picked (from its record), for the messages about a diverged run."""
    found = section5_search()
    largest = ", the largest rate it tried" if found["largest"] else ""
    return f"section 5 fine-tunes at lr {found['lr']:g}{largest}"


#: Exercise 4's network: lesson 10's 64 -> 64 -> 32 -> 10 MLP, whose three weight matrices hold 6,464 weights.
N_WEIGHTS = 64 * 64 + 32 * 64 + 10 * 32


def _lesson_mlp() -> nn.Module:
    """A float64 copy of the lesson's architecture, mlp(hidden=(64, 32)): the shapes the answer must have
    and the network the check evaluates the answer's parameters in."""
    from ..models import mlp

    return mlp(hidden=(64, 32), seed=0).double()


def _shapes(named: Mapping[str, Any]) -> str:
    return ", ".join(f"{n} {tuple(t.shape)}" for n, t in named.items())


def _splits():
    """Lesson 10's three parts of the digits (1,077 training, 270 validation, 450 test images)."""
    from ..splits import load_digits_splits

    return load_digits_splits(validation_size=0.2, seed=0)


@functools.cache
def dense_accuracies_seed0() -> tuple[float, float]:
    """(validation, test) accuracy of lesson 10's seed-0 dense network, trained here as the lesson trains
    it: 64-64-32-10, float64, on the training part alone (1,077 images), 20 epochs of SGD with lr 0.1,
    momentum 0.9 and weight decay 5e-4, minibatches shuffled by seed 0."""
    from ..models import mlp
    from ..training import accuracy, train

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        parts = _splits()
        net = mlp(hidden=(64, 32), seed=0)
        train(net, (parts.X_train, parts.y_train), epochs=20, lr=0.1, momentum=0.9, weight_decay=5e-4, seed=0,
              progress=False, evaluate=())
        return accuracy(net, parts.X_val, parts.y_val), accuracy(net, parts.X_test, parts.y_test)
    finally:
        torch.set_default_dtype(before)


def dense_accuracy_seed0() -> float:
    """Validation accuracy of lesson 10's seed-0 dense network (:func:`dense_accuracies_seed0`): exercise 4's
    reference."""
    return dense_accuracies_seed0()[0]


def sparse_and_accurate(
    model: object,
    masks: Mapping[str, Any] | None,
    dense_accuracy: object = None,
    *,
    min_sparsity: object = MIN_SPARSITY,
    max_drop_pt: object = MAX_DROP_PT,
) -> None:
    """Exercise 4: a pruned, fine-tuned digits MLP (seed 0's network) with sparsity >= min_sparsity
    (at least 0.9) whose *validation* accuracy is within 1.5 points of the dense model's validation
    accuracy (the student tunes on validation, so that is what is checked); the test accuracy is
    printed for information at every passing call, and not graded. Nothing here can detect a model
    fine-tuned on validation or test images; the exercise text asks for the training part alone.

    The reference is computed here: seed 0's dense network is trained as the lesson trains it, on the
    training part alone (:func:`dense_accuracies_seed0`). ``dense_accuracy`` is accepted for older calls and
    ignored, so that no value passed in can make an unfine-tuned model pass; ``min_sparsity`` may be raised
    above 0.9 and ``max_drop_pt`` lowered below 1.5, never the other way. The model must have the
    lesson's parameters (names and shapes of mlp(hidden=(64, 32))), so that the sparsity counts the
    lesson's 6,464 weights (at most 646 kept at 90 %), and it is evaluated in a fresh copy of that
    architecture: a larger network, or a module with a forward of its own, cannot pass.
    """
    del dense_accuracy
    from ..training import accuracy

    target = as_number(min_sparsity, "min_sparsity", "the exercise asks for 0.9, then 0.95.")
    allowed = as_number(max_drop_pt, "max_drop_pt", "the exercise allows 1.5 points.")
    if 1 < target <= 100:
        raise NotYet(f"min_sparsity = {target:g}: a sparsity is a fraction of the weights, not a percentage. "
                     f"Hint: pass min_sparsity={target / 100:g}.")
    if target < MIN_SPARSITY - 1e-12 or target >= 1:
        raise NotYet(f"min_sparsity = {target:g}: the exercise asks for at least {MIN_SPARSITY:g} (and "
                     "below 1). Hint: pass min_sparsity=0.9, or 0.95 for the second part.")
    if allowed > MAX_DROP_PT + 1e-12 or allowed < 0:
        raise NotYet(f"max_drop_pt = {allowed:g}: the exercise allows a drop of at most {MAX_DROP_PT:g} "
                     "points. Hint: leave max_drop_pt out.")
    if not isinstance(model, nn.Module):
        if isinstance(masks, nn.Module):
            raise NotYet(f"the first argument is a {type(model).__name__} and the second a model: the two "
                         "are swapped. Hint: sparse_and_accurate(net_4, masks_4), the model first.")
        if isinstance(model, Mapping):
            raise NotYet(f"pass your pruned model (an nn.Module); got {type(model).__name__}, perhaps its "
                         "state_dict. Hint: pass the network itself, net_4.")
        raise NotYet(f"pass your pruned model (an nn.Module); got {type(model).__name__}.")
    reparametrised = [n for n, _ in model.named_parameters() if n.endswith("_orig")]
    if reparametrised:
        raise NotYet(f"your model is still reparametrised by torch.nn.utils.prune ({reparametrised}). Hint: "
                     "call prune.remove(layer, 'weight') on each pruned layer first, then pass the model.")
    if not isinstance(masks, Mapping) or not masks:
        raise NotYet("pass the dict of keep-masks you pruned with (name -> boolean tensor).")
    lesson_net = _lesson_mlp()
    want = dict(lesson_net.named_parameters())
    got = dict(model.named_parameters())
    if {n: tuple(p.shape) for n, p in got.items()} != {n: tuple(p.shape) for n, p in want.items()}:
        raise NotYet(f"this is not the lesson's 64 -> 64 -> 32 -> 10 network: its parameters are "
                     f"{_shapes(got)}; the lesson's are {_shapes(want)}. Hint: prune and fine-tune a copy "
                     "of `model`, seed 0's network (net = copy.deepcopy(model)), and pass that.")
    weights = pruning.prunable_weights(model)
    missing = [n for n in weights if n not in masks]
    if missing:
        named = (f" Your masks are named {list(masks)}, the check looks them up by the parameters' names "
                 f"{list(weights)}." if len(missing) == len(weights) else "")
        raise NotYet(f"the masks leave {missing} unpruned; prune every weight matrix "
                     f"(global_magnitude_masks of pruning.prunable_weights(model)).{named}")
    keep = {}
    for n, w in weights.items():
        if masks[n] is None:
            raise NotYet(f"the mask for {n} is None. Hint: one boolean keep-mask per weight matrix, of its "
                         "shape, as global_magnitude_masks returns them.")
        given = masks[n].detach().cpu() if hasattr(masks[n], "detach") else masks[n]
        try:
            m = torch.as_tensor(np.asarray(given, dtype=float))
        except (TypeError, ValueError):
            raise NotYet(f"the mask for {n} should be a boolean tensor; "
                         f"got {type(masks[n]).__name__}.") from None
        if tuple(m.shape) != tuple(w.shape):
            raise NotYet(f"the mask for {n} has shape {tuple(m.shape)}, the weight {tuple(w.shape)}. Hint: "
                         "one keep-mask per weight matrix, of its shape.")
        if not bool(((m == 0) | (m == 1)).all()):
            raise NotYet(f"the mask for {n} should hold True/False (or 1/0) only.")
        keep[n] = m.to(torch.bool)
    kept = sum(int(m.sum()) for m in keep.values())
    total = sum(w.numel() for w in weights.values())
    if total != N_WEIGHTS:  # the shapes were checked above; this guards the count the sparsity rests on
        raise NotYet(f"your model's weight matrices hold {total} weights, the lesson's {N_WEIGHTS}.")
    sparsity = 1 - kept / total
    if sparsity < target - 1e-9:
        max_kept = int(np.floor((1 - target) * total + 1e-9))
        excess = kept - max_kept
        zero_where_kept = all(bool((w.detach()[keep[n]] == 0).all()) for n, w in weights.items())
        if kept / total >= target - 1e-9 and zero_where_kept:  # the masks say True where the model is zero
            hint = ("your masks are inverted: your model is zero wherever they say True. A keep-mask is "
                    "True where the weight stays, False where it is pruned, as global_magnitude_masks "
                    "returns it (if yours marks the pruned ones, pass {name: ~mask}).")
        elif excess > len(weights):
            hint = "the last round of your schedule should reach the target."
        else:
            hint = (f"per-layer rounding keeps {excess} weight{'s' if excess > 1 else ''} too many: prune "
                    f"globally (pruning.global_magnitude_masks), or drop {excess} more.")
        raise NotYet(f"your masks prune {100 * sparsity:.2f} % of the weights (they keep {kept} of "
                     f"{total}); at least {100 * target:g} % is asked, at most {max_kept} kept. Hint: {hint}")
    not_finite = [n for n, p in got.items() if not bool(torch.isfinite(p.detach()).all())]
    if not_finite:
        raise NotYet(f"your model's {not_finite} hold NaN or infinite values: the fine-tuning diverged (or a "
                     f"division went wrong). Hint: {_section5_rate()}; start again from a copy of `model` "
                     "with that rate.")
    revived = sum(int((w.detach()[~keep[n]] != 0).sum()) for n, w in weights.items())
    if revived == total - kept:
        raise NotYet(f"none of the {revived} pruned weights is zero: the masks were never applied to the "
                     "model. Hint: pruning.apply_masks(net, masks) zeroes them, and train(..., masks=masks) "
                     "keeps them at 0 while fine-tuning.")
    if revived:
        raise NotYet(f"{revived} pruned weights are nonzero: the model is not as sparse as its masks say. "
                     "Hint: fine-tune with masks=... (MaskedSGD) so that weights and buffers stay at 0, and "
                     "pass the masks of the last pruning.")
    parts = _splits()
    with torch.no_grad():  # the answer's parameters, in the lesson's architecture (its own forward unused)
        for n, p in lesson_net.named_parameters():
            p.copy_(got[n].detach().cpu().to(torch.float64))
    acc = accuracy(lesson_net, parts.X_val.to(torch.float64), parts.y_val)
    dense, dense_test = dense_accuracies_seed0()
    drop = 100 * (dense - acc)
    n_val = len(parts.y_val)
    images = f"{round(n_val * acc)} of {n_val} images"
    dense_images = f"seed 0's dense network: {100 * dense:.2f} %, {round(n_val * dense)} of {n_val}"
    if drop > allowed + 1e-9:
        below = (f"validation accuracy {100 * acc:.2f} % ({images}) is {drop:.2f} points below the dense "
                 f"model's ({dense_images}); at most {allowed:g} is asked.")
        if acc < 0.5:  # far below anything section 5 fine-tuned: not fine-tuned at all, or diverged
            raise NotYet(f"{below} Fewer than half the images are right: did you fine-tune? If you did, "
                         "the fine-tuning probably diverged. Hint: fine-tune after pruning, on `fit`, with "
                         f"masks; {_section5_rate()}.")
        raise NotYet(f"{below} Hint: {fine_tuning_hint(target)}")
    gap = (f"{drop:.2f} points below the dense model's" if drop >= 0 else
           f"{-drop:.2f} points above the dense model's")
    test_acc = accuracy(lesson_net, parts.X_test.to(torch.float64), parts.y_test)
    # The check cannot tell whether the model has seen validation or test images: a model fine-tuned on them
    # passes without meaning anything (the exercise text says so). The test accuracy is printed at every
    # passing call; it is for information, and tuning on it across calls would make it meaningless too.
    passed(f"{100 * sparsity:.1f} % of the weights pruned and none revived; validation accuracy "
           f"{100 * acc:.2f} % ({images}), {gap} ({dense_images}, computed by the check). For information, "
           f"not graded and not to tune on: test accuracy {100 * test_acc:.2f} % (dense "
           f"{100 * dense_test:.2f} %). This is meaningful only if the model was fine-tuned on the training "
           "part alone.")
