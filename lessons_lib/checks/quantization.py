"""Self-checks for lesson 06, weight quantization.

The checks name the usual slips: dividing the range by ``2^b`` instead of ``2^b - 1``
steps, a zero point of the wrong sign or not rounded, the full step ``s`` where the
bound is ``s/2``, ``2^(b-1)`` levels where the symmetric grid has ``2^(b-1) - 1``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import quantization
from . import NotYet, array, as_number, number, passed


def scale_and_zero_point(scale: object, zero_point: object) -> None:
    """Exercise 1: 4-bit affine codes for the range [-1, 2]: s = 0.2, z = 5."""
    number(
        scale, 3.0 / 15.0, what="the scale of 4-bit affine codes on [-1, 2]",
        hint="the range r_max - r_min = 3 is cut into 2^4 - 1 = 15 steps (16 levels, 15 gaps).",
        mistakes={
            "levels": (3.0 / 16.0, "3/16 divides the range by the number of levels 2^b; there are "
                                   "2^b - 1 steps between 2^b levels."),
            "half": (2.0 / 15.0, "that uses only the positive part of the range; the range is "
                                 "r_max - r_min = 2 - (-1) = 3."),
        },
    )
    number(
        zero_point, 5.0, what="the zero point",
        hint="z = round(-r_min / s) is the code that stands for the real number 0.",
        mistakes={
            "sign": (-5.0, "the zero point is round(-r_min / s) with r_min = -1, a positive code; "
                           "codes live in [0, 15]."),
            "unrounded": (1.0 / (3.0 / 16.0), "5.33 is -r_min / s with the wrong scale 3/16 and "
                                              "without rounding; z must be an integer."),
        },
        rtol=1e-9,
    )
    if not float(zero_point).is_integer():
        raise NotYet("the zero point must be an integer, so that 0.0 is a grid point. "
                     "Hint: round -r_min / s.")


def max_error(answer: object) -> None:
    """Exercise 2: 8-bit symmetric, max|w| = 0.635: the worst error is s/2 = 0.635/127/2."""
    s = 0.635 / 127
    number(
        answer, s / 2, what="the largest round-trip error",
        hint="s = max|w| / (2^(b-1) - 1); every weight lies inside the range, so the error is at "
             "most half a step.",
        rtol=1e-6,
        mistakes={
            "full_step": (s, "s is the distance between grid points; rounding to the nearer one "
                             "errs by at most half of it."),
            "128": (0.635 / 128 / 2, "the symmetric grid uses 2^(b-1) - 1 = 127 positive levels, "
                                     "not 128 (code -128 is left unused)."),
            "affine": (0.635 / 255, "that treats 0.635 as the full range over 255 steps; the symmetric "
                                    "range is [-0.635, 0.635]."),
            "range_no_half": (2 * 0.635 / 255, "that divides the symmetric range 1.27 by 255 steps "
                                               "and forgets the half."),
        },
    )


def affine_per_channel(candidate: Callable[..., object]) -> None:
    """Exercise 3: per-row affine codes must equal ``quantization.quantize(x, bits, axis=0)``."""
    if not callable(candidate):
        raise NotYet(f"quantize_affine_per_channel should be a function; got {type(candidate).__name__}.")
    rng = np.random.default_rng(6)
    with_zeros = rng.normal(0.2, 1.0, (5, 12)) * rng.uniform(0.1, 3.0, (5, 1))
    with_zeros[:, ::4] = 0.0  # exact zeros, like pruned weights: they must come back as 0.0
    cases = [
        (with_zeros, 4),
        (np.abs(rng.normal(0.0, 1.0, (3, 8))) + 0.5, 3),  # rows entirely positive: range widened to 0
        (-np.abs(rng.normal(0.0, 1.0, (4, 6))) - 0.1, 8),  # rows entirely negative
        (rng.uniform(-1.0, 2.0, (6, 30)), 2),
    ]
    for x, bits in cases:
        try:
            result = candidate(x.copy(), bits)
        except NotImplementedError:
            raise  # the student copy's stub: the exercise is not done yet
        except Exception as error:  # noqa: BLE001 - any slip in the student's code becomes a message
            raise NotYet(f"your function raised {type(error).__name__}: {error} (on a {x.shape[0]} x "
                         f"{x.shape[1]} array, bits = {bits}). Hint: reduce along axis=1 with "
                         "keepdims=True so that scale and zero_point broadcast along each row.") from None
        if not isinstance(result, tuple) or len(result) != 3:
            raise NotYet("return a tuple (q, scale, zero_point). Hint: end with "
                         "`return q, scale, zero_point`.")
        try:
            q, scale, zp = (np.asarray(r, dtype=float) for r in result)
        except (TypeError, ValueError):
            raise NotYet("q, scale and zero_point should be arrays of numbers. Hint: return NumPy "
                         "arrays.") from None
        q_ref, s_ref, z_ref = quantization.quantize(x, bits, symmetric=False, axis=0)
        if scale.shape != s_ref.shape or zp.shape != z_ref.shape:
            raise NotYet(f"scale and zero_point should have shape {s_ref.shape} (one per row, kept as "
                         f"a column); got {scale.shape} and {zp.shape}. Hint: keepdims=True.")
        if not np.allclose(scale, s_ref, rtol=1e-12, atol=0):
            row = int(np.argmax(np.abs(scale - s_ref).ravel()))
            if np.allclose(scale, (s_ref * (2**bits - 1)) / 2**bits, rtol=1e-9):
                raise NotYet("your scales are (range) / 2^bits; there are 2^bits - 1 steps.")
            positive = x.min(axis=1) > 0
            if np.any(positive) and not np.allclose(scale[positive], s_ref[positive]):
                raise NotYet("for a row whose values are all positive the range must still start at 0 "
                             "(r_min = min(min x, 0)), so that 0 is representable.")
            close = np.allclose(scale, s_ref, rtol=1e-6, atol=0)
            raise NotYet(f"the scale of row {row} is {scale.ravel()[row]:.17g}; expected "
                         f"{s_ref.ravel()[row]:.17g} for bits = {bits}. Hint: "
                         + ("compute in float64 (np.asarray(x, dtype=float)), not float32."
                            if close else
                            "s = (hi - lo) / (2^bits - 1) per row, with lo = min(row min, 0) and "
                            "hi = max(row max, 0)."))
        if not np.array_equal(zp, z_ref):
            raise NotYet(f"zero points {zp.ravel()[:4]}... differ from the expected {z_ref.ravel()[:4]}... "
                         "Hint: z = round(-lo / s), an integer per row.")
        if q.shape != x.shape or not np.array_equal(q, q_ref):
            raise NotYet(f"the codes differ from the reference for bits = {bits} (shape {q.shape}, "
                         f"expected {q_ref.shape}). Hint: clip(round(x / s) + z, 0, 2^bits - 1), with "
                         "s and z broadcast along each row.")
        if q.min() < 0 or q.max() > 2**bits - 1:
            raise NotYet("codes must lie in [0, 2^bits - 1]. Hint: clamp after adding the zero point.")
        zero = x == 0
        if zero.any() and not np.all(_dequantize_rows(q, scale, zp)[zero] == 0):
            raise NotYet("0.0 does not come back exactly. Hint: round the zero point.")
    passed(f"per-row affine codes, scales and zero points equal the library's on {len(cases)} cases "
           "(including exact zeros and rows that are all positive or all negative).")


def _dequantize_rows(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray) -> np.ndarray:
    return (q - zero_point) * scale


def _clipped_rms(w: np.ndarray, bits: int, c: float) -> float:
    q_max = 2 ** (bits - 1) - 1
    s = c * np.abs(w).max() / q_max
    return float(np.sqrt(np.mean((s * np.clip(np.round(w / s), -q_max, q_max) - w) ** 2)))


#: Exercise 4 accepts a c whose RMS error is within 0.1 % of the best one. The curve is flat
#: near its minimum: on the seed-0 first layer (best c = 0.473) this accepts c in [0.461, 0.491],
#: what a grid with steps of 0.01 or finer finds, and rejects the round guesses 0.45 and 0.5.
CLIPPING_RTOL = 1e-3


def clipping(answer: object, rms_function: Callable[..., object], w: object, bits: int = 3) -> None:
    """Exercise 4: the clipping fraction c with the smallest RMS error for symmetric per-tensor codes,
    and the student's ``clipped_rms(w, bits, c)`` that found it."""
    c = as_number(answer, "the clipping fraction c",
                  "compute the RMS error for a grid of c in (0, 1] and take the c with the smallest error.")
    if not 0 < c <= 1:
        raise NotYet(f"c must be a fraction in (0, 1]; got {c:.6g}.")
    if not callable(rms_function):
        raise NotYet(f"pass your function clipped_rms(w, bits, c) as the second argument; got "
                     f"{type(rms_function).__name__}.")
    rng = np.random.default_rng(4)
    other = rng.standard_t(df=3, size=(20, 30))  # a second matrix, heavy-tailed like trained weights
    for b, c_test in ((3, 0.4), (3, 1.0), (4, 0.7), (2, 0.25)):
        try:
            got = as_number(rms_function(other.copy(), b, c_test), "clipped_rms(w, bits, c)")
        except (NotYet, NotImplementedError):
            raise
        except Exception as error:  # noqa: BLE001 - any slip in the student's code becomes a message
            raise NotYet(f"clipped_rms raised {type(error).__name__}: {error}. Hint: it takes a weight "
                         "array w, the bit count and the fraction c, and returns one number.") from None
        want = _clipped_rms(other, b, c_test)
        if not np.isclose(got, want, rtol=1e-9, atol=0):
            raise NotYet(f"clipped_rms(w, {b}, {c_test}) gives {got:.6g} on a test matrix; expected "
                         f"{want:.6g}. Hint: s = c * max|w| / (2^(bits-1) - 1), codes "
                         "clip(round(w / s), -(2^(bits-1) - 1), 2^(bits-1) - 1), error s * codes - w.")
    w = np.asarray(w, dtype=float)
    grid = np.linspace(0.02, 1.0, 981)
    errors = np.array([_clipped_rms(w, bits, g) for g in grid])
    best = float(errors.min())
    mine = _clipped_rms(w, bits, c)
    full = _clipped_rms(w, bits, 1.0)
    if mine > (1 + CLIPPING_RTOL) * best:
        side = "smaller" if c > grid[errors.argmin()] else "larger"
        raise NotYet(f"c = {c:.3f} gives RMS error {mine:.6g}; a {side} c does better (the best is "
                     f"{best:.6g}). Hint: the curve is flat near its minimum: scan c in steps of 0.01 "
                     "or finer and take the argmin of the errors.")
    passed(f"c = {c:.3f} gives RMS error {mine:.4g} against {full:.4g} without clipping "
           f"({100 * (1 - mine / full):.0f} % less): a few clamped large weights cost less than a coarse "
           "grid for all the small ones.")


#: Exercise 5: the lesson's network has 64*64 + 32*64 + 10*32 weights, 4 epochs of 22 steps.
N_WEIGHTS = 6464
STEPS = 88
SAME_START = 3


def decayed_lr_flips(decayed_per_step: object, constant_per_step: object, steps_per_epoch: int = 22) -> None:
    """Exercise 5: with the lr decaying linearly to 0, far fewer codes change per step in the last epoch.

    Both arguments are the per-step fractions of changed codes of a whole run (88 steps): the
    decayed-lr run and the constant-lr run ``runs[(0.9, 0.01)][0]``, same start network and seed.
    """
    shape = (STEPS,)
    hint = "pass the whole per-step array the run returns (88 values), not its mean."
    d_all = array(decayed_per_step, "the decayed run's per-step flip fractions", shape, hint, hint)
    c_all = array(constant_per_step, "the constant run's per-step flip fractions", shape, hint, hint)
    for name, v in (("decayed", d_all), ("constant", c_all)):
        if v.min() < 0 or v.max() > 1:
            raise NotYet(f"the {name} run's values should be fractions in [0, 1]; got values from "
                         f"{v.min():.4g} to {v.max():.4g}. Hint: (new != codes).double().mean().")
        counts = v * N_WEIGHTS
        if not np.allclose(counts, np.rint(counts), rtol=0, atol=1e-6):
            raise NotYet(f"the {name} run's values are not fractions of the {N_WEIGHTS} weight codes. "
                         "Hint: per step, (new != codes).double().mean() over all codes.")
        nonzero = np.rint(counts)[np.rint(counts) > 0]
        if nonzero.size and np.all(nonzero % 100 == 0):
            raise NotYet(f"the {name} run's values look like percentages. Hint: pass fractions in [0, 1], "
                         "not 100 times them.")
    if not np.any(c_all > 0):
        raise NotYet("the constant-lr run shows no code changes at all. Hint: pass runs[(0.9, 0.01)][0].")
    if not np.any(d_all[:steps_per_epoch] > 0):
        raise NotYet("the decayed run changes no code in its first epoch, where its lr is still close "
                     "to 0.01. Hint: pass the flips of the run you trained, all 88 steps.")
    # Same start network, same minibatches and lr 0.01, 0.01 * 87/88, 0.01 * 86/88: the first three
    # steps change the same codes (on each of the seeds 0 to 4; another seed's run differs there).
    if not np.array_equal(d_all[:SAME_START], c_all[:SAME_START]):
        raise NotYet(f"the two runs differ already on their first {SAME_START} steps "
                     f"({np.rint(d_all[:SAME_START] * N_WEIGHTS).astype(int).tolist()} codes changed "
                     f"against {np.rint(c_all[:SAME_START] * N_WEIGHTS).astype(int).tolist()}), where "
                     "both start from the same network with the same minibatches and an lr of about "
                     "0.01. Hint: start from `model` with seed 0 against runs[(0.9, 0.01)][0], and let "
                     "step k use lr 0.01 * (1 - k/88), k = 0..87.")
    d = float(d_all[-steps_per_epoch:].mean())
    c = float(c_all[-steps_per_epoch:].mean())
    if c == 0:
        raise NotYet("the constant-lr run shows no code changes in its last epoch. Hint: pass "
                     "runs[(0.9, 0.01)][0].")
    if d >= 0.6 * c:
        raise NotYet(f"in the last epoch the decayed run changes {100 * d:.3f} % of codes per step, "
                     f"{d / c:.2f} times the constant run's {100 * c:.3f} %; with an lr that falls to 0 "
                     "it should be far fewer. Hint: step the scheduler after every optimizer step, not "
                     "once per epoch, so that the lr of the last steps is close to 0 (print "
                     "opt.param_groups[0]['lr']).")
    passed(f"with the lr decaying to 0, {100 * d:.3f} % of codes change per step in the last epoch "
           f"against {100 * c:.3f} % at a constant lr ({d / c:.2f} times as many): far fewer codes change.")
