"""Table tests for lessons_lib.checks.quantization_practice (lesson 13): right answers pass, the usual
wrong ones fail with a message naming the slip (NotYet), never a traceback."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from check_tables import fails, passes

from lessons_lib.batched_training import train_many
from lessons_lib.checks import quantization_practice as check
from lessons_lib.int4_groups import quantize_groups
from lessons_lib.models import mlp
from lessons_lib.splits import load_digits_splits

N = 4096 * 4096
RIGHT_BYTES = N // 2 + 2 * N // 128 + N // 256

# ---------------------------------------------------------------- exercise 1: bytes of per-group int4


@pytest.mark.parametrize(
    "answer", [RIGHT_BYTES, float(RIGHT_BYTES), np.int64(RIGHT_BYTES), torch.tensor(RIGHT_BYTES)]
)
def test_int4_bytes_right(answer, capsys):
    passes(check.int4_bytes, answer, capsys=capsys)


def test_int4_bytes_is_what_the_lesson_says():
    assert RIGHT_BYTES == 8_716_288


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (N // 2, "codes alone"),
        (N // 2 + 2 * N // 128, "zero points are missing"),
        (N // 2 + N // 256, "scales are missing"),
        (N // 2 + 2 * N // 128 + N // 128, "whole byte"),
        (N + 2 * N // 128 + N // 256, "one code per byte"),
        (N // 2 + 4 * N // 128 + N // 256, "float32"),
        (8 * RIGHT_BYTES, "bits, not bytes"),
        (2 * N, "float16"),
        (RIGHT_BYTES + 0.5, "not a whole number"),
        (RIGHT_BYTES + 1, "too large"),
        ("8716288", "remove the quotes"),
        (None, "No answer yet"),
        (True, "boolean"),
    ],
)
def test_int4_bytes_wrong(answer, message):
    fails(check.int4_bytes, answer, match=message)


# ---------------------------------------------------------------- exercise 2: two codes a byte


@pytest.mark.parametrize(
    "answer",
    [
        [195, 7, 159],
        (195, 7, 159),
        np.array([195, 7, 159]),
        torch.tensor([195, 7, 159], dtype=torch.uint8),
        [195.0, 7.0, 159.0],
    ],
)
def test_packed_bytes_right(answer, capsys):
    passes(check.packed_bytes, answer, capsys=capsys)


def test_packed_bytes_agree_with_the_library():
    from lessons_lib.int4_groups import pack_nibbles

    assert pack_nibbles(torch.tensor(check.CODES)).tolist() == [195, 7, 159]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([60, 112, 249], "odd-indexed code in the low"),
        ([15, 7, 24], "adds the two codes"),
        ([195, 7], "list of 3 integers"),
        ([3, 12, 7, 0, 15, 9], "list of 3 integers"),
        ([195, 7, 159.5], "integers"),
        ([195, 7, 300], "0 to 255"),
        ([195, 8, 159], "not the packed bytes"),
        ("195 7 159", "list of three integers"),
        (b"\xc3\x07\x9f", "list of three integers"),
        ([True, False, True], "three integers"),
        (None, "No answer yet"),
    ],
)
def test_packed_bytes_wrong(answer, message):
    fails(check.packed_bytes, answer, match=message)


# ---------------------------------------------------------------- exercise 3: the centroid gradient


def grad_index_add(weight_grad, index, k):
    return torch.zeros(k, dtype=weight_grad.dtype).index_add_(0, index.reshape(-1), weight_grad.reshape(-1))


def grad_bincount(weight_grad, index, k):
    return torch.bincount(index.reshape(-1), weights=weight_grad.reshape(-1), minlength=k)


def grad_loop(weight_grad, index, k):
    out = [0.0] * k
    for g, i in zip(weight_grad.flatten().tolist(), index.flatten().tolist(), strict=True):
        out[i] += g
    return out


@pytest.mark.parametrize("candidate", [grad_index_add, grad_bincount, grad_loop])
def test_centroid_grad_right(candidate, capsys):
    passes(check.centroid_grad, candidate, capsys=capsys)


def grad_mean(weight_grad, index, k):
    sums = grad_index_add(weight_grad, index, k)
    counts = torch.bincount(index.reshape(-1), minlength=k)
    return torch.where(counts > 0, sums / counts.clamp(min=1), torch.zeros_like(sums))


def grad_assign(weight_grad, index, k):
    g = torch.zeros(k, dtype=weight_grad.dtype)
    g[index.reshape(-1)] = weight_grad.reshape(-1)
    return g


def grad_plus_equals(weight_grad, index, k):
    g = torch.zeros(k, dtype=weight_grad.dtype)
    g[index.reshape(-1)] += weight_grad.reshape(-1)
    return g


def grad_scaled(weight_grad, index, k):
    return grad_index_add(weight_grad, index, k) / index.numel()


def grad_wrong_shape(weight_grad, index, k):
    return grad_index_add(weight_grad, index, k)[:-1]


def grad_raises(weight_grad, index, k):
    raise RuntimeError("index out of range")


def grad_none(weight_grad, index, k):
    return None


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (grad_mean, "mean of each cluster"),
        (grad_assign, "only one of its weights"),
        (grad_plus_equals, "only one of its weights"),
        (grad_scaled, "scaled by the number"),
        (grad_wrong_shape, "shape"),
        (grad_raises, "raised RuntimeError"),
        (grad_none, "tensor of"),
        (lambda w, i, k: torch.zeros(k), "expected"),
        ("index_add_", "should be a function"),
        (None, "should be a function"),
    ],
)
def test_centroid_grad_wrong(candidate, message):
    fails(check.centroid_grad, candidate, match=message)


# ---------------------------------------------------------------- exercise 4: symmetric per-group codes


@pytest.fixture(scope="module")
def lesson():
    torch.set_default_dtype(torch.float64)
    try:
        splits = load_digits_splits(validation_size=0.2, seed=0)
        nets = [mlp(hidden=(64, 32), seed=s) for s in range(5)]
        train_many(
            nets,
            (splits.X_train, splits.y_train),
            epochs=3,
            lr=0.1,
            momentum=0.9,
            seeds=list(range(5)),
            evaluate=(),
            progress=False,
        )
    finally:
        torch.set_default_dtype(torch.float32)
    asym = []
    for net in nets:
        twin = [layer for layer in net]
        with torch.no_grad():
            for i in (0, 2, 4):
                twin[i] = torch.nn.Linear(net[i].in_features, net[i].out_features, dtype=torch.float64)
                twin[i].weight.copy_(quantize_groups(net[i].weight, 32).dequantize().double())
                twin[i].bias.copy_(net[i].bias)
            pred = torch.nn.Sequential(*twin)(splits.X_val).argmax(1)
        asym.append(100 * int((pred == splits.y_val).sum()) / len(splits.y_val))
    return nets, splits, float(np.mean(asym))


def test_symmetric_groups_right(lesson, capsys):
    nets, splits, asym = lesson
    sym = check.symmetric_val_accuracy(nets, splits)
    better = "symmetric" if sym > asym else "asymmetric"
    out = passes(check.symmetric_groups, sym, better, asym, nets, splits, capsys=capsys)
    assert f"{sym:.2f} %" in out


def test_symmetric_groups_wrong(lesson):
    nets, splits, asym = lesson
    sym = check.symmetric_val_accuracy(nets, splits)
    other = "asymmetric" if sym > asym else "symmetric"
    if sym != asym:
        fails(check.symmetric_groups, sym, other, asym, nets, splits, match="compare again")
    fails(check.symmetric_groups, sym / 100, "symmetric", asym, nets, splits, match="percent")
    at16 = check.symmetric_val_accuracy(nets, splits, 16)
    if at16 != sym:
        fails(check.symmetric_groups, at16, "symmetric", asym, nets, splits, match="another group size")
    fails(check.symmetric_groups, sym + 7.3, "symmetric", asym, nets, splits, match="is not the mean")
    fails(check.symmetric_groups, sym, "sym", asym, nets, splits, match='"symmetric" or "asymmetric"')
    fails(check.symmetric_groups, None, "symmetric", asym, nets, splits, match="No answer yet")
    fails(check.symmetric_groups, sym, "symmetric", asym, None, splits, match="pass the lesson's")
