"""Table test of lesson 06's exercise checks (lessons_lib.checks.quantization).

Right answers must pass (print "Correct: ..."); the wrong answers of the lesson's review must be
rejected with :class:`NotYet` (a message and a hint), never with another exception. The inputs are
built here with small deterministic code: the seed-0 network of the lesson (its first layer is
exercise 4's ``W1``) and, for exercise 5, the codes changed per step in 2-bit QAT runs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lessons_lib.checks import NotYet
from lessons_lib.checks import quantization as q06
from lessons_lib.data import load_digits_split
from lessons_lib.models import mlp
from lessons_lib.training import train

# --------------------------------------------------------------------------- inputs


@pytest.fixture(scope="module")
def lesson():
    """The lesson's seed-0 float network (float64, 20 epochs of SGD with momentum) and its data."""
    before, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # float64: the same weights with any thread count; one is fastest (3 s)
    try:
        data = load_digits_split(seed=0)
        model = mlp(hidden=(64, 32), seed=0)
        train(model, data, epochs=20, lr=0.1, momentum=0.9, seed=0, progress=False)
    finally:
        torch.set_default_dtype(before)
        torch.set_num_threads(threads)
    return model, data


# Codes changed per step (of 6,464) in 2-bit QAT runs of 88 steps, momentum 0.9, start lr 0.01, as the
# lesson's qat_with_flips computes them: c = constant lr, d = lr 0.01 * (1 - k/88) at step k (the
# right solution), e = the same lambda with the scheduler stepped once per epoch (the review's bug);
# the digit is the seed of network and minibatches. Computed once with the lesson's code in float64.
COUNTS = {
    "c0": ("3 3 5 6 2 3 6 2 7 4 6 9 2 4 0 3 1 2 9 5 1 6 5 8 7 7 4 3 1 1 2 5 3 3 6 2 5 1 3 3 4 2 2 4 "
           "2 3 2 3 1 2 4 3 3 1 3 2 2 3 1 2 2 2 3 3 1 3 5 4 2 1 2 0 3 1 2 3 0 2 4 2 2 3 3 3 1 2 2 2"),
    "d0": ("3 3 5 6 2 3 6 2 4 4 7 6 4 5 2 1 0 4 1 4 2 5 3 0 1 6 4 3 5 3 2 1 2 2 3 2 2 3 3 1 0 0 3 1 "
           "2 3 0 1 5 2 5 3 2 3 0 2 1 2 2 0 2 1 0 5 3 1 4 0 0 4 1 2 0 0 1 2 0 0 0 1 0 0 0 0 0 0 0 0"),
    "e0": ("3 3 5 6 2 3 6 2 7 4 6 9 2 4 0 3 1 2 9 5 1 6 5 8 7 7 4 3 1 1 2 4 4 2 7 2 5 1 3 2 4 3 2 4 "
           "2 2 3 3 1 1 4 3 4 1 2 3 3 3 1 4 2 2 3 1 3 10 9 4 4 6 4 3 1 4 2 7 4 5 2 1 3 4 2 0 2 4 2 4"),
    "c1": ("3 2 6 5 6 6 7 1 8 3 5 4 7 5 5 3 5 1 5 7 4 3 5 2 2 6 6 1 4 2 2 4 0 2 1 3 1 4 3 1 3 1 5 4 "
           "1 2 0 3 1 1 0 2 1 4 2 2 1 4 3 2 2 2 4 2 3 2 2 4 3 2 1 6 3 1 4 1 5 0 1 5 4 1 2 2 8 1 3 5"),
    "c4": ("3 3 11 8 9 9 7 5 10 1 5 2 6 5 3 9 10 7 8 6 2 4 5 10 10 6 2 4 3 6 5 7 5 6 5 5 2 5 4 5 4 2 3 4 "
           "2 2 1 4 5 6 3 3 6 1 8 7 1 3 5 3 3 2 1 0 2 2 5 2 1 3 1 4 6 4 8 8 3 2 4 6 3 5 6 8 5 5 6 5"),
    "c3": ("5 2 12 5 6 3 6 8 6 9 7 4 13 8 10 4 6 11 9 6 5 7 3 3 1 4 2 2 3 3 1 1 1 3 3 3 4 3 4 2 2 6 4 2 "
           "7 3 2 1 3 3 1 2 3 5 3 4 8 5 2 6 2 3 8 4 3 8 3 5 2 4 2 4 2 5 2 5 8 3 9 2 3 6 7 4 3 6 6 3"),
    "d3": ("5 2 12 5 6 3 6 3 8 10 6 6 8 11 5 7 4 5 5 6 6 8 4 3 6 1 1 1 3 1 2 0 4 0 4 3 1 1 1 2 2 3 1 2 "
           "1 4 2 3 0 1 3 1 1 0 1 2 1 1 1 0 2 0 3 1 3 0 1 2 0 3 0 0 1 3 1 0 1 1 0 0 1 0 0 1 1 0 0 0"),
    "e3": ("5 2 12 5 6 3 6 8 6 9 7 4 13 8 10 4 6 11 9 6 5 7 3 3 1 4 2 2 2 4 1 1 1 3 4 4 3 2 5 3 1 5 4 2 "
           "5 1 3 1 1 2 0 0 5 2 1 8 4 4 2 4 6 3 6 4 4 3 3 3 5 1 5 1 5 3 4 6 2 4 7 4 5 3 0 6 3 3 4 2"),
}


@pytest.fixture(scope="module")
def runs():
    """The per-step fractions, as (new != codes).double().mean() gives them."""
    return {k: np.array([int(n) for n in v.split()]) / 6464 for k, v in COUNTS.items()}


# --------------------------------------------------------------------------- helpers


def passes(check, *args, capsys):
    check(*args)
    assert capsys.readouterr().out.startswith("Correct:")


def fails(check, *args):
    with pytest.raises(NotYet) as error:
        check(*args)
    assert str(error.value)  # a message, not a bare failure
    return str(error.value)


# --------------------------------------------------------------------------- exercises 1 and 2


@pytest.mark.parametrize("args", [(0.2, 5), (3 / 15, 5.0), (np.float64(0.2), np.int64(5))])
def test_exercise_1_right(args, capsys):
    passes(q06.scale_and_zero_point, *args, capsys=capsys)


@pytest.mark.parametrize("args", [(3 / 16, 5), (2 / 15, 5), (0.2, -5), (0.2, 5.33), ("0.2", 5), (None, 5),
                                  (0.2, True), ([0.2, 0.2], 5)])
def test_exercise_1_wrong(args):
    fails(q06.scale_and_zero_point, *args)


def test_exercise_1_hints_name_the_range_without_beta():
    message = fails(q06.scale_and_zero_point, 0.3, 5)
    assert "r_max - r_min" in message and "beta" not in message


@pytest.mark.parametrize("answer", [0.635 / 127 / 2, 0.635 / 254])
def test_exercise_2_right(answer, capsys):
    passes(q06.max_error, answer, capsys=capsys)


@pytest.mark.parametrize("answer", [2 * 0.635 / 255, 0.635 / 255, 0.635 / 127, 0.635 / 128 / 2, "0.0025",
                                    None, False, [0.0025, 0.0025]])
def test_exercise_2_wrong(answer):
    fails(q06.max_error, answer)


def test_exercise_2_names_the_forgotten_half():
    assert "forgets the half" in fails(q06.max_error, 2 * 0.635 / 255)


# --------------------------------------------------------------------------- exercise 3


def _right_per_channel(x, bits):
    x = np.asarray(x, dtype=float)
    lo = np.minimum(x.min(axis=1, keepdims=True), 0.0)
    hi = np.maximum(x.max(axis=1, keepdims=True), 0.0)
    scale = (hi - lo) / (2**bits - 1)
    zero_point = np.round(-lo / scale)
    q = np.clip(np.round(x / scale) + zero_point, 0, 2**bits - 1)
    return q.astype(np.int64), scale, zero_point.astype(np.int64)


def _no_keepdims(x, bits):
    lo = np.minimum(x.min(axis=1), 0.0)
    hi = np.maximum(x.max(axis=1), 0.0)
    scale = (hi - lo) / (2**bits - 1)
    zero_point = np.round(-lo / scale)
    return np.clip(np.round(x / scale) + zero_point, 0, 2**bits - 1), scale, zero_point  # broadcast error


def _float32(x, bits):
    q, scale, zp = _right_per_channel(np.asarray(x, dtype=np.float32).astype(np.float64), bits)
    lo = np.minimum(np.asarray(x, np.float32).min(axis=1, keepdims=True), np.float32(0))
    hi = np.maximum(np.asarray(x, np.float32).max(axis=1, keepdims=True), np.float32(0))
    return q, (hi - lo) / np.float32(2**bits - 1), zp


def _unrounded_zero_point(x, bits):
    q, scale, _ = _right_per_channel(x, bits)
    lo = np.minimum(x.min(axis=1, keepdims=True), 0.0)
    return q, scale, -lo / scale


def _levels(x, bits):
    q, scale, zp = _right_per_channel(x, bits)
    return q, scale * (2**bits - 1) / 2**bits, zp


def _raises_type_error(x, bits):
    return x + "oops"


def test_exercise_3_right(capsys):
    passes(q06.affine_per_channel, _right_per_channel, capsys=capsys)


@pytest.mark.parametrize("candidate", [_no_keepdims, _float32, _unrounded_zero_point, _levels,
                                       _raises_type_error, lambda x, bits: None, 3.0, None])
def test_exercise_3_wrong(candidate):
    fails(q06.affine_per_channel, candidate)


def test_exercise_3_float32_is_told_to_use_float64():
    message = fails(q06.affine_per_channel, _float32)
    assert "float64" in message
    expected, got = message.split("expected ")[1].split(" for")[0], message.split("is ")[1].split(";")[0]
    assert expected != got  # the digits show the difference


def test_exercise_3_crash_becomes_a_message():
    assert "raised ValueError" in fails(q06.affine_per_channel, _no_keepdims)


def test_exercise_3_student_stub_still_raises_not_implemented():
    def stub(x, bits):
        raise NotImplementedError("exercise")
    with pytest.raises(NotImplementedError):
        q06.affine_per_channel(stub)


# --------------------------------------------------------------------------- exercise 4


def clipped_rms(w, bits, c):
    q_max = 2 ** (bits - 1) - 1
    s = c * np.abs(w).max() / q_max
    return float(np.sqrt(np.mean((s * np.clip(np.round(w / s), -q_max, q_max) - w) ** 2)))


def clipped_rms_wrong_scale(w, bits, c):  # s = 2 c max|w| / 7: best c = 0.552 on W1
    s = 2 * c * np.abs(w).max() / (2**bits - 1)
    q_max = 2 ** (bits - 1) - 1
    return float(np.sqrt(np.mean((s * np.clip(np.round(w / s), -q_max, q_max) - w) ** 2)))


@pytest.fixture(scope="module")
def w1(lesson):
    return lesson[0][0].weight.detach().numpy().copy()


def _argmin(w, function, grid):
    return float(grid[np.argmin([function(w, 3, c) for c in grid])])


def test_exercise_4_right(w1, capsys):
    for grid in (np.linspace(0.05, 1.0, 400), np.arange(0.01, 1.0001, 0.01), np.linspace(0.02, 1, 4901)):
        passes(q06.clipping, _argmin(w1, clipped_rms, grid), clipped_rms, w1, 3, capsys=capsys)


def test_exercise_4_wrong_formula_is_found(w1):
    c_wrong = _argmin(w1, clipped_rms_wrong_scale, np.linspace(0.02, 1, 981))
    assert abs(c_wrong - 0.552) < 0.005
    fails(q06.clipping, c_wrong, clipped_rms_wrong_scale, w1, 3)  # the function is wrong
    fails(q06.clipping, c_wrong, clipped_rms, w1, 3)  # and so is its c


@pytest.mark.parametrize("answer", [0.418, 0.45, 0.5, 0.55, 0.554, 1.0, 0.0, 1.5, "0.47", None, True,
                                    [0.47, 0.48], np.nan])
def test_exercise_4_wrong(answer, w1):
    fails(q06.clipping, answer, clipped_rms, w1, 3)


@pytest.mark.parametrize("function", [None, 0.47, lambda w, bits, c: "0.07", lambda w, bits, c: 1 / 0,
                                      lambda w, bits, c: np.zeros(3)])
def test_exercise_4_bad_function(function, w1):
    fails(q06.clipping, 0.473, function, w1, 3)


# --------------------------------------------------------------------------- exercise 5


def test_exercise_5_runs_are_what_the_review_says(runs):
    for seed in (0, 3):
        ratio = lambda d: d[-22:].mean() / runs[f"c{seed}"][-22:].mean()  # noqa: E731, B023
        assert ratio(runs[f"d{seed}"]) < 0.35 and ratio(runs[f"e{seed}"]) > 0.8
    assert runs["c0"][0] == runs["c1"][0] == runs["c4"][0]  # one step alone does not tell the seeds apart


@pytest.mark.parametrize("seed", [0, 3])
def test_exercise_5_right(seed, runs, capsys):
    passes(q06.decayed_lr_flips, runs[f"d{seed}"], runs[f"c{seed}"], capsys=capsys)
    passes(q06.decayed_lr_flips, list(runs[f"d{seed}"]), torch.tensor(runs[f"c{seed}"]), capsys=capsys)


WRONG_5 = {
    "old scalar API (0.0, c)": lambda r: (0.0, r["c0"][-22:].mean()),
    "scalars as text": lambda r: ("0.000105", "0.000345"),
    "booleans": lambda r: (False, True),
    "means as percentages": lambda r: (100 * r["d0"][-22:].mean(), 100 * r["c0"][-22:].mean()),
    "arrays as percentages": lambda r: (100 * r["d0"], 100 * r["c0"]),
    "another seed's constant run": lambda r: (r["d0"], r["c1"]),
    "another seed's run, same first two steps": lambda r: (r["d0"], r["c4"]),
    "scheduler stepped once per epoch, seed 3": lambda r: (r["e3"], r["c3"]),
    "constant averaged over all epochs": lambda r: (r["d0"][-22:].mean(), r["c0"].mean()),
    "0.99 * constant": lambda r: (0.99 * r["c0"], r["c0"]),
    "the constant run twice": lambda r: (r["c0"], r["c0"]),
    "scheduler stepped once per epoch": lambda r: (r["e0"], r["c0"]),
    "zeros": lambda r: (np.zeros(88), r["c0"]),
    "a list with one value": lambda r: ([r["d0"][-22:].mean()], r["c0"]),
    "ellipsis": lambda r: (..., r["c0"]),
    "text": lambda r: ("abc", r["c0"]),
    "None": lambda r: (r["d0"], None),
    "last epoch only": lambda r: (r["d0"][-22:], r["c0"][-22:]),
    "counts instead of fractions": lambda r: (6464 * r["d0"], 6464 * r["c0"]),
}


@pytest.mark.parametrize("name", list(WRONG_5))
def test_exercise_5_wrong(name, runs):
    fails(q06.decayed_lr_flips, *WRONG_5[name](runs))
