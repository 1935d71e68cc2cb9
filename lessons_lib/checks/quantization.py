"""Self-checks for lesson 09, weight quantization.

The checks name the usual slips: dividing the range by ``2^n`` instead of ``2^n - 1``
steps (``n`` the bits, as in the lesson), a zero point of the wrong sign or not rounded, the
full step ``s`` or the RMS error ``s/sqrt(12)`` where the bound is ``s/2``, ``2^(n-1)`` levels
where the symmetric grid has ``2^(n-1) - 1`` (or the affine step count ``2^n - 1`` on
``max|w|``), codes left unclamped, unrounded or replaced by the dequantized values, scales taken down
the columns instead of along the rows, the clipping threshold ``t = c max|w|`` passed for the fraction
``c`` (a value that may also be a fraction that is too small: the message says both), and in exercise 5
a learning-rate schedule one step ahead, a constant one, one stepped once per epoch, one that falls
faster than linearly, a run without momentum and a starting learning rate taken from elsewhere in the
lesson instead of ``LR0`` (the outcome depends on it).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import quantization
from . import NotYet, _plain, array, as_number, number, passed, run_answer


def scale_and_zero_point(scale: object, zero_point: object) -> None:
    """Exercise 1: 4-bit affine codes for the range [-1, 2]: s = 0.2, z = 5."""
    number(
        scale, 3.0 / 15.0, what="the scale of 4-bit affine codes on [-1, 2]",
        hint="the range r_max - r_min = 3 is cut into 2^4 - 1 = 15 steps (16 levels, 15 gaps).",
        rtol=5e-6,  # "6 significant digits": half a unit in the 6th digit is up to 5e-6 relative
        mistakes={
            "levels": (3.0 / 16.0, "3/16 divides the range by the number of levels 2^n; there are "
                                   "2^n - 1 steps between 2^n levels."),
            "half": (2.0 / 15.0, "that uses only the positive part of the range; the range is "
                                 "r_max - r_min = 2 - (-1) = 3."),
        },
    )
    hint_z = "z = round(-r_min / s) is the code that stands for the real number 0."
    z = as_number(zero_point, "the zero point", hint_z)
    if not z.is_integer():  # before any tolerance: 5.0000001 is not "close to 5", it is not a code
        if np.isclose(z, 16.0 / 3.0, rtol=1e-3):
            raise NotYet(f"{z:.10g} is -r_min / s with the wrong scale 3/16 and without rounding; z must "
                         f"be an integer. Hint: {hint_z}")
        raise NotYet(f"the zero point must be an integer (a code), so that 0.0 is a grid point; {z:.10g} "
                     "is not one. Hint: round -r_min / s, and pass the integer itself.")
    number(
        zero_point, 5.0, what="the zero point", hint=hint_z,
        mistakes={
            "sign": (-5.0, "the zero point is round(-r_min / s) with r_min = -1, a positive code; "
                           "codes live in [0, 15]."),
        },
        rtol=0.0,
    )


def max_error(answer: object) -> None:
    """Exercise 2: 8-bit symmetric, max|w| = 0.635: the worst error is s/2 = 0.635/127/2."""
    s = 0.635 / 127
    number(
        answer, s / 2, what="the largest round-trip error",
        hint="s = max|w| / (2^(n-1) - 1); every weight lies inside the range, so the error is at "
             "most half a step.",
        rtol=5e-6,  # "6 significant digits": half a unit in the 6th digit is up to 5e-6 relative
        mistakes={
            "full_step": (s, "s is the distance between grid points; rounding to the nearer one "
                             "errs by at most half of it."),
            "rms": (s / np.sqrt(12), "s/√12 is the RMS error of section 6, the typical error when the "
                                     "errors spread evenly over a step; the largest error is half a "
                                     "step."),
            "128": (0.635 / 128 / 2, "the symmetric grid uses 2^(n-1) - 1 = 127 positive levels, "
                                     "not 128 (code -128 is left unused)."),
            "affine": (0.635 / 255, "that is half of 1.27/255, a step that cuts the symmetric range "
                                    "[-0.635, 0.635] into 255 steps (the affine count 2^8 - 1); the "
                                    "symmetric grid has 2 * 127 = 254 steps across it, so s = 0.635/127."),
            "range_no_half": (2 * 0.635 / 255, "that divides the symmetric range 1.27 by 255 steps "
                                               "and forgets the half."),
            "percent": (100 * s / 2, "that is 100 times the bound, a percentage; pass the error "
                                     "itself, in the weights' units (s/2 with s = 0.635/127)."),
            "affine_steps_max": (0.635 / 255 / 2, "that is half of 0.635/255: max|w| divided by "
                                                  "2^8 - 1 = 255, the affine step count. The symmetric "
                                                  "grid has 2^(n-1) - 1 = 127 steps from 0 to max|w|, so "
                                                  "s = 0.635/127 and the bound is s/2."),
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
        # lo = -3.5, s = 1, z = round(3.5) = 4: 11.5 rounds to 12 and 12 + 4 = 16 is one past the top code 15,
        # so only this row tells a function without the clamp from the right one
        (np.array([[-3.5, 11.5, 0.0, 2.0]]), 4),
    ]
    for x, bits in cases:
        result = run_answer(  # 0/0 and the like (quiet): judged by the result
            candidate, x.copy(), bits, name="quantize_affine_per_channel", quiet=True, forbid=quantization,
            hint="write the codes with NumPy: min and max per row, scale, zero point, round, clip.",
            crashed=f"your function raised {{type}}: {{error}} (on a {x.shape[0]} x {x.shape[1]} array, "
            f"bits = {bits}). Hint: reduce along axis=1 with keepdims=True so that scale and zero_point "
            "broadcast along each row.")
        if not isinstance(result, tuple) or len(result) != 3:
            raise NotYet("return a tuple (q, scale, zero_point). Hint: end with "
                         "`return q, scale, zero_point`.")
        try:
            result = _plain(list(result))  # tensors (detached) as arrays
            if any(np.iscomplexobj(r) for r in result):  # a float conversion would drop the imaginary part
                raise NotYet("q, scale and zero_point should be real numbers; got complex values. Hint: "
                             "return NumPy arrays of real numbers.")
            q, scale, zp = (np.asarray(r, dtype=float) for r in result)
        except (TypeError, ValueError, OverflowError, RuntimeError):
            raise NotYet("q, scale and zero_point should be arrays of numbers. Hint: return NumPy "
                         "arrays.") from None
        q_ref, s_ref, z_ref = quantization.quantize(x, bits, symmetric=False, axis=0)
        if scale.shape == (1, x.shape[1]) != s_ref.shape:  # one scale per column: min/max over axis 0
            raise NotYet(f"scale has shape {scale.shape}, one number per column of the {x.shape[0]} x "
                         f"{x.shape[1]} array: the minimum and maximum were taken down the columns "
                         "(axis=0). Hint: one scale per row: reduce along axis=1 (with keepdims=True, "
                         f"shape {s_ref.shape}).")
        if scale.shape != s_ref.shape or zp.shape != z_ref.shape:
            raise NotYet(f"scale and zero_point should have shape {s_ref.shape} (one per row, kept as "
                         f"a column); got {scale.shape} and {zp.shape}. Hint: keepdims=True.")
        if not np.allclose(scale, s_ref, rtol=1e-12, atol=0):
            if np.allclose(zp, s_ref, rtol=1e-12, atol=0) and np.array_equal(scale, z_ref):
                raise NotYet("your scale and zero point are swapped: the second element holds the zero "
                             "points, the third the scales. Hint: return them in the order "
                             "(q, scale, zero_point).")
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
        if q.shape != x.shape:
            raise NotYet(f"the codes have shape {q.shape}, the input {x.shape}. Hint: one code per entry, "
                         "clip(round(x / s) + z, 0, 2^bits - 1), with s and z broadcast along each row.")
        if not np.all(np.isfinite(q)):  # a NaN or an infinity is no rounding slip: name it first
            bad = q.ravel()[np.flatnonzero(~np.isfinite(q.ravel()))[0]]
            raise NotYet(f"codes must be finite numbers; your q holds {bad:g} (a 0/0 or a division by a "
                         "zero scale somewhere?). Hint: q = clip(round(x / s) + z, 0, 2^bits - 1) with the "
                         "row's scale s, which is never 0 here.")
        if not np.all(q == np.round(q)):  # before the range check: dequantized values are no codes at all
            if np.allclose(q, quantization.dequantize(q_ref, s_ref, z_ref), rtol=1e-9, atol=1e-12):
                raise NotYet("your q holds the dequantized values s * (q - z), not the codes. Hint: return "
                             "the integer codes q = clip(round(x / s) + z, 0, 2^bits - 1); dequantizing "
                             "comes after, it is not part of this function.")
            bad = q.ravel()[np.flatnonzero(q.ravel() != np.round(q.ravel()))[0]]
            raise NotYet(f"codes must be integers; your q holds values such as {bad:.6g}. Hint: round "
                         "x / s before adding the zero point: clip(round(x / s) + z, 0, 2^bits - 1).")
        if q.min() < 0 or q.max() > 2**bits - 1:  # before the comparison, so that this slip is named
            raise NotYet(f"codes from {q.min():g} to {q.max():g} on a {x.shape[0]} x {x.shape[1]} array at "
                         f"bits = {bits}: codes must lie in [0, 2^bits - 1] = [0, {2**bits - 1}]. The "
                         "rounded zero point can push a value at the end of the range one code past it. "
                         "Hint: clamp (np.clip) after adding the zero point.")
        if not np.array_equal(q, q_ref):
            raise NotYet(f"the codes differ from the reference for bits = {bits}. Hint: "
                         "clip(round(x / s) + z, 0, 2^bits - 1), with s and z broadcast along each row.")
        zero = x == 0
        if zero.any() and not np.all(_dequantize_rows(q, scale, zp)[zero] == 0):
            raise NotYet("0.0 does not come back exactly. Hint: round the zero point.")
    passed(f"per-row affine codes, scales and zero points equal the library's on {len(cases)} cases "
           "(including exact zeros, rows that are all positive or all negative, and a value the clamp "
           "must cut).")


def _dequantize_rows(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray) -> np.ndarray:
    return (q - zero_point) * scale


def _clipped_rms(w: np.ndarray, bits: int, c: float) -> float:
    q_max = 2 ** (bits - 1) - 1
    s = c * np.abs(w).max() / q_max
    return float(np.sqrt(np.mean((s * np.clip(np.round(w / s), -q_max, q_max) - w) ** 2)))


#: Exercise 4 accepts a c whose RMS error is within 0.1 % of the best one. The curve is flat
#: near its minimum: on the seed-0 first layer (best c = 0.472) this accepts c in [0.4623, 0.4830],
#: what a grid with steps of 0.01 or finer finds, and rejects the round guesses 0.45 and 0.5.
CLIPPING_RTOL = 1e-3
#: Exercise 4 is about 3-bit codes of W1, the first layer of lesson 09's seed-0 network.
CLIPPING_BITS = 3


def _c_text(c: float) -> str:
    """c as the messages print it: three decimals, more where c has them (0.4175, not 0.417)."""
    return f"{c:.3f}" if abs(c - round(c, 3)) < 1e-9 else f"{c:.6g}"


def clipping(answer: object, rms_function: Callable[..., object], w: object = None,
             bits: object = None) -> None:
    """Exercise 4: the clipping fraction c with the smallest RMS error of 3-bit symmetric per-tensor
    codes of W1, and the student's ``clipped_rms(w, bits, c)`` that found it.

    The reference is computed here: W1 is the first layer of lesson 09's seed-0 network, trained by
    :func:`_lesson_network` as the lesson trains it, and the bit width is 3. ``w`` and ``bits`` are
    accepted for older calls only: another matrix or bit width gets a message, never a pass.
    """
    c = as_number(answer, "the clipping fraction c",
                  "compute the RMS error for a grid of c in (0, 1] and take the c with the smallest error.")
    if bits is not None:
        b_given = as_number(bits, "bits", "leave bits out: the exercise is about 3-bit codes.")
        if b_given != CLIPPING_BITS:
            raise NotYet(f"bits = {b_given:g}: the exercise asks for {CLIPPING_BITS}-bit codes. Hint: call "
                         "checks.quantization.clipping(best_c, clipped_rms).")
    w1 = _lesson_network(0)[0][0].weight.detach().numpy().astype(float)
    if w is not None:
        try:
            w_given = np.asarray(w.detach().cpu().numpy() if hasattr(w, "detach") else w, dtype=float)
        except (TypeError, ValueError):
            w_given = None
        if w_given is None or w_given.shape != w1.shape or not np.allclose(w_given, w1, rtol=1e-9, atol=0):
            raise NotYet("the check judges c on W1, the first layer of seed 0's network (it trains that "
                         "network itself), not on the matrix you passed. Hint: find c on W1 and call "
                         "checks.quantization.clipping(best_c, clipped_rms).")
    grid = np.linspace(0.02, 1.0, 981)
    errors = np.array([_clipped_rms(w1, CLIPPING_BITS, g) for g in grid])
    best = float(errors.min())
    best_c = float(grid[errors.argmin()])
    w1_max = float(np.abs(w1).max())
    if 0 < c < w1_max and _clipped_rms(w1, CLIPPING_BITS, c / w1_max) <= (1 + CLIPPING_RTOL) * best:
        # c in [0.400, 0.417]: the best threshold t, or a fraction c that is simply too small. Say both.
        mine = _clipped_rms(w1, CLIPPING_BITS, c)
        raise NotYet(f"as a fraction, c = {_c_text(c)} is too small: it gives RMS error {mine:.6g} on W1, "
                     f"{100 * (mine / best - 1):.1f} % above the smallest, {best:.6g} (at c = {best_c:.3f}); "
                     f"a larger c does better. {_c_text(c)} is, though, the threshold t = c * max|w| of "
                     f"c = {c / w1_max:.3f} (max|W1| = {w1_max:.3f}), the clipped range itself. Hint: if "
                     "you passed t, pass the fraction c in (0, 1] instead, the number that multiplies "
                     "max|w|; if you passed c, scan c in steps of 0.01 or finer and take the argmin of the "
                     "errors.")
    if not 0 < c <= 1:
        raise NotYet(f"c must be a fraction in (0, 1]; got {c:.6g}.")
    if not callable(rms_function):
        raise NotYet(f"pass your function clipped_rms(w, bits, c) as the second argument; got "
                     f"{type(rms_function).__name__}.")
    rng = np.random.default_rng(4)
    other = rng.standard_t(df=3, size=(20, 30))  # a second matrix, heavy-tailed like trained weights
    for b, c_test in ((3, 0.4), (3, 1.0), (4, 0.7), (2, 0.25)):
        got = as_number(run_answer(rms_function, other.copy(), b, c_test, name="clipped_rms",
                                   hint="it takes a weight array w, the bit count and the fraction c, and "
                                   "returns one number."), "clipped_rms(w, bits, c)")
        want = _clipped_rms(other, b, c_test)
        if not np.isclose(got, want, rtol=1e-9, atol=0):
            raise NotYet(f"clipped_rms(w, {b}, {c_test}) gives {got:.6g} on a test matrix; expected "
                         f"{want:.6g}. Hint: s = c * max|w| / (2^(bits-1) - 1), codes "
                         "clip(round(w / s), -(2^(bits-1) - 1), 2^(bits-1) - 1), error s * codes - w.")
    mine = _clipped_rms(w1, CLIPPING_BITS, c)
    full = _clipped_rms(w1, CLIPPING_BITS, 1.0)
    if not full > 0:  # W1 is a trained layer: never all equal; guarded so that a division cannot fail
        raise NotYet("the reference layer has no rounding error to reduce. Hint: rerun the lesson's setup.")
    if mine > (1 + CLIPPING_RTOL) * best:
        side = "smaller" if c > grid[errors.argmin()] else "larger"
        raise NotYet(f"c = {_c_text(c)} gives RMS error {mine:.6g} on W1; a {side} c does better (the best "
                     f"is {best:.6g}). Hint: the curve is flat near its minimum: scan c in steps of 0.01 "
                     "or finer and take the argmin of the errors.")
    passed(f"c = {_c_text(c)} gives RMS error {mine:.4g} on W1 against {full:.4g} without clipping "
           f"({100 * (1 - mine / full):.0f} % less): a few clamped large weights cost less than a coarse "
           "grid for all the small ones.")


#: Exercise 5: the lesson's network has 64*64 + 32*64 + 10*32 weights, 4 epochs of 17 steps (minibatches
#: of 64 of the 1,077 training images).
N_WEIGHTS = 6464
STEPS = 68
STEPS_PER_EPOCH = 17
#: Exercise 5's η_0: the 2-bit QAT learning rate that lesson 09's section 10 chooses on validation (the
#: course's rule, for 4 epochs), which section 11 runs at; the lesson asserts that the two agree.
LR0 = 0.015


@contextlib.contextmanager
def _float64() -> Iterator[None]:
    """torch's default dtype float64 inside the block (the lesson's setting), restored after it."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


@functools.cache
def _lesson_network(seed: int) -> tuple[nn.Module, Any]:
    """Lesson 09's float network of ``seed`` (64-64-32-10, 20 epochs of SGD, lr 0.1, momentum 0.9) and the
    digits' three parts, trained here in float64 exactly as the lesson trains ``models[seed]``: on the
    training part of ``load_digits_splits(validation_size=0.2, seed=0)`` alone."""
    from ..models import mlp
    from ..splits import load_digits_splits
    from ..training import train

    with _float64():
        data = load_digits_splits(validation_size=0.2, seed=0)
        net = mlp(hidden=(64, 32), seed=seed)
        train(net, (data.X_train, data.y_train), epochs=20, lr=0.1, momentum=0.9, seed=seed, progress=False,
              evaluate=())
    return net, data


def _codes(net: nn.Module, bits: int) -> torch.Tensor:
    return torch.cat([quantization.quantize(m.weight, bits, symmetric=True, axis=0)[0].flatten()
                      for m in net if isinstance(m, nn.Linear)])


#: The learning-rate factor at step k (k = 0..67) of each schedule the check runs: the right one, the
#: constant one, and the slip of stepping a LambdaLR scheduler before the optimizer (one step ahead).
SCHEDULES: dict[str, Callable[[int], float]] = {
    "decay": lambda k: 1 - k / STEPS,
    "constant": lambda k: 1.0,
    "one step ahead": lambda k: 1 - (k + 1) / STEPS,
}


#: Starting learning rates a student may take from elsewhere in lesson 09 instead of LR0, with where they
#: come from; the check names them when a run matches one (exercise 5's outcome depends on η_0).
OTHER_LR0: dict[float, str] = {
    0.005: "the 3-bit pick qat_lr[3] (and the 2-bit runner-up)",
    0.003: "section 11's η*/5, the smaller matched pair",
    0.15: "section 11's effective step η*/(1 - β), plain SGD's η there",
}


@functools.cache
def _qat_code_changes(seed: int, schedule: str, momentum: float = 0.9, lr0: float = LR0) -> tuple[int, ...]:
    """Codes changed at each of the 68 steps of 2-bit QAT from network ``seed``, momentum ``momentum`` (0.9
    in the exercise), minibatches of 64 shuffled with ``seed``; lr ``lr0 * SCHEDULES[schedule](k)`` at step k
    (``lr0`` = LR0 in the exercise). Written independently of the lesson's loop: the lr is set by hand
    before every step."""
    factor = SCHEDULES[schedule]
    start, data = _lesson_network(seed)
    with _float64():
        net = quantization.to_quant_linear(start, bits=2)
        opt = torch.optim.SGD(net.parameters(), lr=lr0, momentum=momentum)
        gen = torch.Generator().manual_seed(seed)
        n, step, codes, changes = len(data.y_train), 0, _codes(net, 2), []
        for _ in range(STEPS // STEPS_PER_EPOCH):
            perm = torch.randperm(n, generator=gen)
            for first in range(0, n, 64):
                idx = perm[first:first + 64]
                opt.param_groups[0]["lr"] = lr0 * factor(step)
                opt.zero_grad()
                nn.functional.cross_entropy(net(data.X_train[idx]), data.y_train[idx]).backward()
                opt.step()
                new = _codes(net, 2)
                changes.append(int((new != codes).sum()))
                codes, step = new, step + 1
    return tuple(changes)


def decayed_lr_flips(decayed_per_step: object, seed: object = 0) -> None:
    """Exercise 5: the per-step fractions of changed codes of 2-bit QAT with η decaying linearly to 0.

    The check computes its own references: it trains lesson 09's network of ``seed`` (0 to 4) and
    runs the decayed and the constant-η QAT itself. The answer must change as many codes as the
    check's decayed run at every one of the 68 steps (the two runs compute the same thing, so
    they agree exactly); then the last epochs of the decayed and constant runs are compared.
    """
    hint = f"pass the whole per-step array your run returns ({STEPS} values), not its mean."
    shape_hint = (f"Hint: pass all {STEPS} steps ({STEPS_PER_EPOCH} per epoch, counted over all epochs), "
                  "not the last epoch or a slice.")
    d_all = array(decayed_per_step, "your run's per-step flip fractions", (STEPS,), shape_hint, hint)
    seed_value = as_number(seed, "seed", "pass the seed of the network and minibatches you used "
                                         "(0 for `model`).")
    if not float(seed_value).is_integer() or not 0 <= seed_value <= 4:
        raise NotYet(f"seed = {seed_value:g}: the lesson trained the networks of seeds 0 to 4. Hint: pass "
                     "the seed k of models[k] that your run started from (0 for `model`).")
    seed_int = int(seed_value)
    if d_all.min() < 0 or d_all.max() > 1:
        raise NotYet(f"your values should be fractions in [0, 1]; got values from {d_all.min():.4g} to "
                     f"{d_all.max():.4g}. Hint: (new != codes).double().mean(), not a count or a percentage.")
    counts = d_all * N_WEIGHTS
    if not np.allclose(counts, np.rint(counts), rtol=0, atol=1e-3):
        raise NotYet(f"your values are not fractions of the {N_WEIGHTS} weight codes. Hint: per step, "
                     "(new != codes).double().mean() over all codes of the three layers.")
    counts = np.rint(counts).astype(int)
    nonzero = counts[counts > 0]
    if nonzero.size and np.all(nonzero % 100 == 0):
        raise NotYet("your values look like percentages. Hint: pass fractions in [0, 1], not 100 times them.")
    decayed = np.array(_qat_code_changes(seed_int, "decay"))
    constant = np.array(_qat_code_changes(seed_int, "constant"))
    if not np.array_equal(counts, decayed):
        first = int(np.flatnonzero(counts != decayed)[0])
        where = (f"at step {first} (of 0..{STEPS - 1}) your run changes {counts[first]} codes, the check's "
                 f"{decayed[first]}")
        if np.array_equal(counts, constant):
            raise NotYet(f"these are the code changes of the constant-η run of seed {seed_int} ({where}). "
                         f"Hint: let step k use η_k = {LR0} * (1 - k/{STEPS}).")
        if np.array_equal(counts, _qat_code_changes(seed_int, "one step ahead")):
            raise NotYet(f"your learning rate is one step ahead ({where}): step k used "
                         f"η = {LR0} * (1 - (k+1)/{STEPS}), so step 0 already used "
                         f"{LR0} * {STEPS - 1}/{STEPS}. "
                         f"Hint: step 0 uses η_0 = {LR0} itself (the factor is 1 - k/{STEPS}, not "
                         f"1 - (k+1)/{STEPS}): call sched.step() "
                         "after opt.step(), not before it.")
        no_momentum = np.array(_qat_code_changes(seed_int, "decay", momentum=0.0))
        if np.array_equal(counts, no_momentum):
            raise NotYet(f"these are the code changes of a run without momentum (β = 0) from seed "
                         f"{seed_int}'s network ({where}). Hint: torch.optim.SGD(..., lr={LR0}, "
                         "momentum=0.9): the exercise is QAT with momentum β = 0.9.")
        for lr0, source in OTHER_LR0.items():
            if np.array_equal(counts, _qat_code_changes(seed_int, "decay", lr0=lr0)):
                raise NotYet(f"your run decays from η_0 = {lr0:g}, {source} ({where}). Hint: start from "
                             f"η_0 = {LR0} (lr_star, section 10's 2-bit pick, which section 11 runs at): "
                             f"step k uses η_k = {LR0} * (1 - k/{STEPS}). The outcome depends on η_0.")
        # Same start network, same minibatches and η = LR0, LR0 * 67/68, LR0 * 66/68, ...: the decayed run's
        # first steps may change as many codes as the constant run's; same_start is the first step at which
        # the two differ for this seed (2 or 3 for the lesson's networks). Step 0 is the same for every
        # schedule that starts at LR0 and for every momentum (the buffer starts as the gradient).
        same_start = int(np.argmax(decayed != constant)) if np.any(decayed != constant) else STEPS
        b0_part = int(np.argmax(no_momentum != decayed)) if np.any(no_momentum != decayed) else STEPS
        start_hint = (f"the starting learning rate (η_0 = {LR0}, lr_star: step 0 uses it itself), the start "
                      "network and the seed (models[seed], `model` for seed 0, minibatches from "
                      "torch.Generator().manual_seed(seed), and that seed passed here), and 2 bits")
        if first == 0:
            raise NotYet(f"your run differs from seed {seed_int}'s already at its first step ({where}). "
                         f"Step 0 is the same for every schedule that starts at η_0 = {LR0} and for any β "
                         f"(the buffer starts as the gradient: with β = 0 seed {seed_int}'s counts first "
                         f"differ at step {b0_part}), so neither the decay's shape nor β is what differs. "
                         f"Hint: check, in this order, {start_hint}; and plain momentum, not Nesterov "
                         "(which changes step 0 too).")
        if first < same_start:
            raise NotYet(f"your run changes as many codes as the check's at step 0 but not at step {first} "
                         f"({where}), while the check's decayed and constant-η runs change as many codes "
                         f"until step {same_start}. So your η falls faster than {LR0} * (1 - k/{STEPS}) "
                         "(an exponential decay, or any schedule steeper than linear, shows from step 1 "
                         "on), or β is not 0.9. Hint: use LambdaLR(opt, lambda k: "
                         f"1 - k / {STEPS}) or set η_k = {LR0} * (1 - k/{STEPS}) by hand, and "
                         f"torch.optim.SGD(..., lr={LR0}, momentum=0.9); if both are right, check "
                         f"{start_hint}.")
        if np.array_equal(counts[:STEPS_PER_EPOCH], constant[:STEPS_PER_EPOCH]):
            raise NotYet(f"your first epoch is the constant-η run's: your η did not fall within it "
                         f"({where}). Hint: step the scheduler after every optimizer step, not once per "
                         "epoch (print opt.param_groups[0]['lr'] on the last step: about "
                         f"{LR0 / STEPS:.5f}, η_0 = {LR0} times 1/{STEPS}).")
        raise NotYet(f"{where}. Hint: step k (k = 0..{STEPS - 1}, counted over all epochs) uses "
                     f"η_k = {LR0} * (1 - k/{STEPS}); with LambdaLR(opt, lambda k: 1 - k / {STEPS}), call "
                     "sched.step() after every opt.step().")
    last = slice(-STEPS_PER_EPOCH, None)
    d, c = decayed[last].mean() / N_WEIGHTS, constant[last].mean() / N_WEIGHTS
    passed(f"your run changes as many codes as the check's at each of the {STEPS} steps. In the last "
           f"epoch {100 * d:.3f} % of codes change per step with η decaying from {LR0} to 0, against "
           f"{100 * c:.3f} % at a constant η = {LR0} ({d / c:.2f} times as many; seed {seed_int}, β = 0.9, "
           "2 bits).")
