"""Self-checks for lesson 06, weight quantization.

The checks name the usual slips: dividing the range by ``2^b`` instead of ``2^b - 1``
steps, a zero point of the wrong sign or not rounded, the full step ``s`` where the
bound is ``s/2``, ``2^(b-1)`` levels where the symmetric grid has ``2^(b-1) - 1``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import quantization
from . import NotYet, as_number, number, passed


def scale_and_zero_point(scale: object, zero_point: object) -> None:
    """Exercise 1: 4-bit affine codes for the range [-1, 2]: s = 0.2, z = 5."""
    number(
        scale, 3.0 / 15.0, what="the scale of 4-bit affine codes on [-1, 2]",
        hint="the range beta - alpha = 3 is cut into 2^4 - 1 = 15 steps (16 levels, 15 gaps).",
        mistakes={
            "levels": (3.0 / 16.0, "3/16 divides the range by the number of levels 2^b; there are "
                                   "2^b - 1 steps between 2^b levels."),
            "half": (2.0 / 15.0, "that uses only the positive part of the range; the range is "
                                 "beta - alpha = 2 - (-1) = 3."),
        },
    )
    number(
        zero_point, 5.0, what="the zero point",
        hint="z = round(-alpha / s) is the code that stands for the real number 0.",
        mistakes={
            "sign": (-5.0, "the zero point is round(-alpha / s) with alpha = -1, a positive code; "
                           "codes live in [0, 15]."),
            "unrounded": (1.0 / (3.0 / 16.0), "5.33 is -alpha / s with the wrong scale 3/16 and "
                                              "without rounding; z must be an integer."),
        },
        rtol=1e-9,
    )
    if not float(zero_point).is_integer():
        raise NotYet("the zero point must be an integer, so that 0.0 is a grid point. "
                     "Hint: round -alpha / s.")


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
            "affine_half": (2 * 0.635 / 255 / 2, "2 * 0.635 / 255 / 2 uses 255 steps over the "
                                                 "symmetric range; the symmetric grid has 254 steps."),
        },
    )


def affine_per_channel(candidate: Callable[..., object]) -> None:
    """Exercise 3: per-row affine codes must equal ``quantization.quantize(x, bits, axis=0)``."""
    if not callable(candidate):
        raise NotYet(f"quantize_affine_per_channel should be a function; got {type(candidate).__name__}.")
    rng = np.random.default_rng(6)
    cases = [
        (rng.normal(0.2, 1.0, (5, 12)) * rng.uniform(0.1, 3.0, (5, 1)), 4),
        (np.abs(rng.normal(0.0, 1.0, (3, 8))) + 0.5, 3),  # rows entirely positive: range widened to 0
        (-np.abs(rng.normal(0.0, 1.0, (4, 6))) - 0.1, 8),  # rows entirely negative
        (rng.uniform(-1.0, 2.0, (6, 30)), 2),
    ]
    for x, bits in cases:
        result = candidate(x.copy(), bits)
        if not isinstance(result, tuple) or len(result) != 3:
            raise NotYet("return a tuple (q, scale, zero_point). Hint: end with "
                         "`return q, scale, zero_point`.")
        q, scale, zp = (np.asarray(r, dtype=float) for r in result)
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
                             "(alpha = min(min x, 0)), so that 0 is representable.")
            raise NotYet(f"the scale of row {row} is {scale.ravel()[row]:.6g}; expected "
                         f"{s_ref.ravel()[row]:.6g} for bits = {bits}. Hint: s = (hi - lo) / (2^bits - 1) "
                         "per row, with lo = min(row min, 0) and hi = max(row max, 0).")
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
           "(including rows that are all positive or all negative).")


def _dequantize_rows(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray) -> np.ndarray:
    return (q - zero_point) * scale


def _clipped_rms(w: np.ndarray, bits: int, c: float) -> float:
    q_max = 2 ** (bits - 1) - 1
    s = c * np.abs(w).max() / q_max
    return float(np.sqrt(np.mean((s * np.clip(np.round(w / s), -q_max, q_max) - w) ** 2)))


def clipping(answer: object, w: object, bits: int = 3) -> None:
    """Exercise 4: the clipping fraction c with the smallest RMS error for symmetric per-tensor codes."""
    if answer is None:
        raise NotYet("No answer yet. Hint: compute the RMS error for a grid of c in (0, 1] and take "
                     "the c with the smallest error.")
    c = as_number(answer, "the clipping fraction c")
    if not np.isfinite(c) or not 0 < c <= 1:
        raise NotYet(f"c must be a fraction in (0, 1]; got {c:.6g}.")
    w = np.asarray(w, dtype=float)
    grid = np.linspace(0.02, 1.0, 981)
    errors = np.array([_clipped_rms(w, bits, g) for g in grid])
    best = float(errors.min())
    mine = _clipped_rms(w, bits, c)
    full = _clipped_rms(w, bits, 1.0)
    if mine > 1.02 * best:
        side = "smaller" if c > grid[errors.argmin()] else "larger"
        raise NotYet(f"c = {c:.3f} gives RMS error {mine:.4g}; a {side} c does better (the best is "
                     f"{best:.4g}). Hint: scan a finer grid of c and compare errors, not codes.")
    passed(f"c = {c:.3f} gives RMS error {mine:.4g} against {full:.4g} without clipping "
           f"({100 * (1 - mine / full):.0f} % less): a few clamped large weights cost less than a coarse "
           "grid for all the small ones.")


def decayed_lr_flips(decayed: object, constant: object) -> None:
    """Exercise 5: with the lr decaying to 0, fewer codes change per step in the last epoch."""
    for name, v in (("decayed", decayed), ("constant", constant)):
        if v is None:
            raise NotYet(f"No value yet for the {name}-lr run. Hint: the mean of the per-step "
                         "flip fractions over the last epoch.")
    d, c = float(decayed), float(constant)
    if not (0 <= d <= 1 and 0 <= c <= 1):
        raise NotYet(f"flip fractions lie in [0, 1]; got {d:.4g} and {c:.4g}. Hint: pass fractions, "
                     "not percentages or counts.")
    if c == 0:
        raise NotYet("the constant-lr run shows no flips at all; pass runs[(0.9, 0.01)][0] over the "
                     "last epoch.")
    if d >= c:
        raise NotYet(f"the decayed run flips {100 * d:.3f} % of codes per step, not fewer than the "
                     f"constant run's {100 * c:.3f} %. Hint: check that the lr really falls to 0 by the "
                     "last step (print opt.param_groups[0]['lr']).")
    passed(f"with the lr decaying to 0, {100 * d:.3f} % of codes change per step in the last epoch "
           f"against {100 * c:.3f} % at a constant lr: the oscillation dies out as the steps shrink.")
