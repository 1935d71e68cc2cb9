"""Table tests for lessons_lib.checks.quantization_practice (lesson 13): right answers pass, the usual
wrong ones fail with a message naming the slip (NotYet), never a traceback."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from check_tables import fails, passes

from lessons_lib import trained_sharing
from lessons_lib.batched_training import train_many
from lessons_lib.checks import NotYet
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
    """The right sums, as a list: the exercise asks for a tensor."""
    out = [0.0] * k
    for g, i in zip(weight_grad.flatten().tolist(), index.flatten().tolist(), strict=True):
        out[i] += g
    return out


def grad_from_the_library(weight_grad, index, k):
    return trained_sharing.centroid_gradient(weight_grad, index, torch.ones_like(index, dtype=torch.bool), k)


def test_centroid_grad_calling_the_reference_is_refused():
    assert "centroid_grad calls trained_sharing.centroid_gradient" in fails(check.centroid_grad,
                                                                            grad_from_the_library)


def grad_float32(weight_grad, index, k):
    return grad_index_add(weight_grad.float(), index, k)


@pytest.mark.parametrize("candidate", [grad_index_add, grad_bincount, grad_float32])
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


def grad_counts(weight_grad, index, k):
    return torch.bincount(index.reshape(-1), minlength=k)  # weights= forgotten


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        (grad_mean, "mean of each cluster"),
        (grad_counts, "counts the weights"),
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


def grad_numpy(weight_grad, index, k):
    """The right sums as a NumPy array (np.add.at): the exercise asks for a tensor."""
    out = np.zeros(k)
    np.add.at(out, index.reshape(-1).numpy(), weight_grad.reshape(-1).numpy())
    return out


def grad_two_loops(weight_grad, index, k):
    """A double loop over the index's two dimensions: right on matrices, an IndexError on a 1-D bias."""
    out = torch.zeros(k, dtype=weight_grad.dtype)
    for r in range(index.shape[0]):
        for c in range(index.shape[1]):
            out[index[r, c]] += weight_grad[r, c]
    return out


@pytest.mark.parametrize(("candidate", "message"), [
    (grad_loop, "return a torch tensor"),
    (grad_numpy, "return a torch tensor"),
    (grad_two_loops, "raised IndexError"),
    (lambda w, i, k: grad_index_add(w, i, k).to(torch.complex128), "should be real"),
])
def test_centroid_grad_wrong_type_or_shape_handling(candidate, message):
    """Review (session 25): a list, a NumPy array and a loop written for matrices only were accepted."""
    fails(check.centroid_grad, candidate, match=message)


def _hidden_test_13_3():
    """Lesson 13's hidden test of exercise 3, as the lesson holds it (its check cell after the marker)."""
    import pathlib

    twin = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "13_quantization_in_practice.py"
    text = twin.read_text(encoding="utf-8")
    cell = text.split("checks.quantization_practice.centroid_grad(centroid_grad)\n", 1)[1]
    return cell.split("### BEGIN HIDDEN TESTS\n", 1)[1].split("### END HIDDEN TESTS", 1)[0]


def _lookup_table():
    """A function that returns the visible check's answers by the cases' shapes and k: it passes the
    visible check, and only the hidden test, on other shapes, can tell."""
    answers = {(tuple(index.shape), k): grad_index_add(weight_grad, index, k)
               for weight_grad, index, k in check._centroid_cases()}
    return lambda w, i, k: answers.get((tuple(i.shape), k), torch.zeros(k, dtype=torch.float64))


@pytest.mark.parametrize(("candidate", "right"), [
    (grad_index_add, True), (grad_bincount, True), (grad_float32, True),
    (_lookup_table(), False), (grad_mean, False), (grad_two_loops, False),
])
def test_centroid_grad_hidden_test(candidate, right, capsys):
    """The hidden test passes right answers (float32 too) and fails a lookup table of the visible cases,
    which the visible check accepts."""
    if candidate.__name__ == "<lambda>":  # the lookup table: the visible check accepts it
        passes(check.centroid_grad, candidate, capsys=capsys)
    namespace = {"torch": torch, "centroid_grad": candidate}
    if right:
        exec(_hidden_test_13_3(), namespace)
    else:
        with pytest.raises((AssertionError, IndexError)):
            exec(_hidden_test_13_3(), namespace)


# ---------------------------------------------------------------- exercise 4: symmetric per-group codes


T95 = 2.7764451051977987  # t(0.975, 4)


def sym_round_trip_loop(w, g):
    """An independent symmetric round trip: a loop over rows and groups, Python floats and np.float16."""
    w = w.detach().double()
    out = torch.zeros_like(w)
    for r in range(w.shape[0]):
        for start in range(0, w.shape[1], g):
            group = w[r, start : start + g].tolist()
            s = float(np.float16(max(abs(v) for v in group) / 7))
            for j, v in enumerate(group):
                out[r, start + j] = 0.0 if s == 0 else s * min(7, max(-7, round(v / s)))
    return out


def sym_round_trip_torch(w, g):
    x = w.detach().reshape(w.shape[0], -1, g)
    s = (x.abs().amax(dim=2, keepdim=True) / 7).to(torch.float16).double()
    s = torch.where(s > 0, s, torch.ones_like(s))
    return (torch.clamp(torch.round(x / s), -7, 7) * s).reshape(w.shape)


def mis_scaled(divisor, lo=-7, hi=7, f16=True, signed=False):
    def round_trip(w, g):
        x = w.detach().reshape(w.shape[0], -1, g)
        m = x.amax(dim=2, keepdim=True) if signed else x.abs().amax(dim=2, keepdim=True)
        s = m / divisor
        s = s.to(torch.float16).double() if f16 else s
        s = torch.where(s != 0, s, torch.ones_like(s))
        return (torch.clamp(torch.round(x / s), lo, hi) * s).reshape(w.shape)

    return round_trip


def sym_nan_for_zeros(w, g):
    x = w.detach().reshape(w.shape[0], -1, g)
    s = (x.abs().amax(dim=2, keepdim=True) / 7).to(torch.float16).double()
    return (torch.clamp(torch.round(x / s), -7, 7) * s).reshape(w.shape)


def sym_columns(w, g):  # groups down the columns instead of along the rows
    return (
        sym_round_trip_torch(w.T.contiguous(), g).T if w.shape[0] % g == 0 else sym_round_trip_torch(w, g) + 1
    )


def accuracies(nets, X, y, round_trip):
    """Each network's accuracy (%) with its weights replaced by round_trip(w, 32), computed here."""
    accs = []
    for net in nets:
        twin = copy.deepcopy(net)
        with torch.no_grad():
            for i in (0, 2, 4):
                twin[i].weight.copy_(round_trip(net[i].weight.double(), 32))
            pred = twin.double()(X.double()).argmax(1)
        accs.append(100 * int((pred == y).sum()) / len(y))
    return accs


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
    asym = accuracies(
        nets, splits.X_val, splits.y_val, lambda w, g: quantize_groups(w, g).dequantize().double()
    )
    sym = accuracies(nets, splits.X_val, splits.y_val, sym_round_trip_loop)
    d = np.subtract(sym, asym)
    half = T95 * d.std(ddof=1) / np.sqrt(5)
    verdict = (
        "no difference detected" if abs(d.mean()) <= half else ("symmetric" if d.mean() > 0 else "asymmetric")
    )
    return nets, splits, asym, sym, verdict


def test_the_two_round_trips_of_the_test_agree():
    w = torch.randn(6, 32, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    w[0, :8] = 0.0
    w[1, :8] = -torch.arange(8.0, dtype=torch.float64)  # largest magnitude negative
    for g in (8, 16, 32):
        assert torch.equal(sym_round_trip_loop(w, g), sym_round_trip_torch(w, g))


def sym_scale_as(dtype, rounding=torch.round, codes=False, up=False, half_product=False, group=None):
    def round_trip(w, g):
        gg = w.shape[1] if group == "row" else g
        x = w.detach().reshape(w.shape[0], -1, gg)
        m = x.abs().amax(dim=2, keepdim=True) if group != "tensor" else w.abs().max().expand(w.shape[0], 1, 1)
        s_lo = (m / 7).to(dtype)
        if up:
            inf = torch.tensor(torch.inf, dtype=dtype)
            s_lo = torch.where(s_lo.double() < m / 7, torch.nextafter(s_lo, inf), s_lo)
        s = s_lo.double()
        q = torch.clamp(rounding(x / torch.where(s > 0, s, torch.ones_like(s))), -7, 7)
        if codes:
            return q.reshape(w.shape)
        if half_product:
            return (q.half() * s.half()).double().reshape(w.shape)
        return (q * s).reshape(w.shape)

    return round_trip


def sym_rounding(rounding):
    return sym_scale_as(torch.float16, rounding=rounding)


sym_scale_rounded_up = sym_scale_as(torch.float16, up=True)
sym_codes = sym_scale_as(torch.float16, codes=True)
sym_per_row = sym_scale_as(torch.float16, group="row")
sym_per_tensor = sym_scale_as(torch.float16, group="tensor")
sym_product_in_half = sym_scale_as(torch.float16, half_product=True)


def test_the_scale_variant_with_float16_is_the_right_answer():
    w = torch.randn(6, 32, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    w[0, :8] = 0.0
    assert torch.equal(sym_scale_as(torch.float16)(w, 8), sym_round_trip_loop(w, 8))


@pytest.mark.parametrize("round_trip", [sym_round_trip_loop, sym_round_trip_torch])
def test_symmetric_groups_right(lesson, round_trip, capsys):
    nets, splits, asym, sym, verdict = lesson
    out = passes(check.symmetric_groups, round_trip, sym, verdict, asym, nets, splits, capsys=capsys)
    assert verdict in out
    rounded = [round(v, 2) for v in sym]  # the printed two decimals are within 0.005
    passes(check.symmetric_groups, round_trip, rounded, verdict, asym, nets, splits, capsys=capsys)
    passes(check.symmetric_groups, round_trip, np.array(sym), verdict, asym, nets, splits, capsys=capsys)


@pytest.mark.parametrize(
    ("round_trip", "message"),
    [
        (mis_scaled(8), r"max\|w\| / 8 with codes in \[-7, 7\]"),
        (mis_scaled(8, -8, 7), r"max\|w\| / 8 with codes in \[-8, 7\]"),
        (mis_scaled(7.5), r"max\|w\| / 7.5"),
        (mis_scaled(15, -8, 7), r"max\|w\| / 15"),
        (mis_scaled(15), r"max\|w\| / 15"),
        (mis_scaled(7, -6, 6), r"\[-6, 6\]"),
        (mis_scaled(7, f16=False), "float16"),
        (mis_scaled(7, signed=True), "largest weight, max w"),
        (sym_nan_for_zeros, "NaN"),
        (sym_columns, "differs from the symmetric round trip|shape"),
        (lambda w, g: w, "differs from the symmetric round trip"),
        (sym_scale_rounded_up, "rounds the float16 scale up"),
        (sym_scale_as(torch.float32), "as float32"),
        (sym_scale_as(torch.bfloat16), "as bfloat16"),
        (sym_rounding(torch.trunc), r"truncates w / s"),
        (sym_rounding(torch.floor), r"rounds w / s down \(floor\)"),
        (sym_codes, "returns the codes q"),
        (sym_per_row, "one scale per row"),
        (sym_per_tensor, "one scale for the whole matrix"),
        (sym_product_in_half, "computes s q in float16"),
        (lambda w, g: w[:, :g], "shape of w"),
        (lambda w, g: 1 / 0, "raised ZeroDivisionError"),
        (lambda w, g: "w", "return a tensor|shape of w"),
        ("symmetric_round_trip", "should be a function"),
    ],
)
def test_symmetric_round_trip_wrong(lesson, round_trip, message):
    nets, splits, asym, sym, verdict = lesson
    fails(check.symmetric_groups, round_trip, sym, verdict, asym, nets, splits, match=message)


def test_symmetric_accuracies_wrong(lesson):
    nets, splits, asym, sym, verdict = lesson
    rt = sym_round_trip_torch
    test_accs = accuracies(nets, splits.X_test, splits.y_test, sym_round_trip_loop)
    assert not np.allclose(test_accs, sym)
    fails(check.symmetric_groups, rt, test_accs, verdict, asym, nets, splits, match="test accuracies")
    fails(check.symmetric_groups, rt, asym, verdict, asym, nets, splits, match="asymmetric codes")
    fails(check.symmetric_groups, rt, [v / 100 for v in sym], verdict, asym, nets, splits, match="percent")
    fails(check.symmetric_groups, rt, np.mean(sym), verdict, asym, nets, splits, match="one per seed")
    fails(check.symmetric_groups, rt, [f"{v:.2f}" for v in sym], verdict, asym, nets, splits, match="quotes")
    fails(check.symmetric_groups, rt, [round(v) for v in sym], verdict, asym, nets, splits, match="rounded")
    fails(
        check.symmetric_groups,
        rt,
        [v + 0.37 for v in sym],
        verdict,
        asym,
        nets,
        splits,
        match="are not the five",
    )
    # the near-miss quantizers' accuracies, given with a right round trip, are rejected too
    for wrong in (mis_scaled(8), mis_scaled(7, -6, 6), mis_scaled(7.5)):
        accs = accuracies(nets, splits.X_val, splits.y_val, wrong)
        if not np.allclose(accs, sym, atol=0.005):
            fails(
                check.symmetric_groups,
                rt,
                accs,
                verdict,
                asym,
                nets,
                splits,
                match="are not the five|asymmetric",
            )
    fails(check.symmetric_groups, rt, None, verdict, asym, nets, splits, match="No answer yet")
    fails(check.symmetric_groups, rt, sym, verdict, asym, None, splits, match="pass the lesson's")
    fails(check.symmetric_groups, rt, sym, verdict, [float("nan")] + list(asym)[1:], nets, splits,
          match="pass the lesson's")  # a NaN among the asymmetric accuracies: the message, not a traceback


def test_symmetric_verdict_wrong(lesson):
    nets, splits, asym, sym, verdict = lesson
    for other in {"symmetric", "asymmetric", "no difference detected"} - {verdict}:
        fails(
            check.symmetric_groups,
            sym_round_trip_torch,
            sym,
            other,
            asym,
            nets,
            splits,
            match="Compare again",
        )
    fails(check.symmetric_groups, sym_round_trip_torch, sym, "sym", asym, nets, splits, match="one of")


def test_symmetric_verdict_when_the_interval_excludes_0(lesson, capsys):
    """Asymmetric accuracies shifted by a constant: the paired interval is then the same width and
    excludes 0, so only the sign is right."""
    nets, splits, asym, sym, verdict = lesson
    lower = [v - 2.0 for v in sym]
    out = passes(
        check.symmetric_groups, sym_round_trip_torch, sym, "symmetric", lower, nets, splits, capsys=capsys
    )
    assert out.rstrip().endswith("symmetric.")
    fails(
        check.symmetric_groups,
        sym_round_trip_torch,
        sym,
        "no difference detected",
        lower,
        nets,
        splits,
        match="excludes 0",
    )


# ---------------------------------------------------------------- exercise 5: the dynamic tree type


@pytest.mark.parametrize("answer", [-0.00465625, np.float32(-0.00465625), -(10**-2) * (0.1 + 0.9 * 6.5 / 16),
                                    -0.004656])
def test_dynamic_tree_value_right(answer):
    check.dynamic_tree_value(answer)


def test_dynamic_tree_value_is_an_entry_of_the_library_map():
    from lessons_lib.momentum8bit import code_map

    assert np.isclose(code_map("dynamic").double().numpy(), -0.00465625, rtol=1e-7, atol=0).sum() == 1


@pytest.mark.parametrize(("answer", "message"), [
    (0.00465625, "is the sign"),
    (0.0047, "is positive"),
    (0.004375, "is positive"),
    (0, "seven zeros after the sign"),
    (-0.004657, "not equal to it to 4 significant figures"),  # a unit off in the 4th figure, either way
    (-0.004655, "not equal to it to 4 significant figures"),
    (-0.00464, "recheck the arithmetic"),  # 3 figures, but not the value's: not "give 4 figures"
    (-0.00468, "recheck the arithmetic"),
    (-0.005, "at least 4 significant figures"),  # rounded to 1 figure
    (-0.00465, "at least 4 significant figures"),  # cut to 3 figures
    (np.float32(-0.00466), "at least 4 significant figures"),  # rounded to 3, as a float32
    (-0.004375, "j \\+ 1/2"),
    (-0.00365625, "add the 0.1"),
    (-0.0465625, "10\\^-2, not 10\\^-1"),
    (-0.000465625, "two zeros, not three"),
    (-0.007328125, "indicator bit, not part of the fraction"),
    (-(10**-2) * (0.1 + 0.9 * 6.5 / 32), "divide by 2\\^4"),
    (-22 / 127, "linear code"),
    ((0b1001_0110 - 127) / 127, "offset 127"),
    (-0.0046, "Figure 2 .*cut to two significant figures"),
    (-0.004, "Figure 2 reading.*cut to one significant figure"),
    (-0.0049375, "upper end"),
    (-0.006, "too far from 0"),  # negative: "too small" would be ambiguous
    (-0.0036, "too close to 0"),
    (-0.004654, "not equal to it to 4 significant figures"),  # 4 figures, but wrong: not "give 4 figures"
    (-0.0047, "at least 4 significant figures"),
    (-0.00466, "at least 4 significant figures"),
    (0.00521875, "entry 150"),
    ("-0.00465625", "remove the quotes"),
    (None, "No answer yet"),
    (float("nan"), "the value of the bit pattern"),
    ([1, 2], "the value of the bit pattern"),
])
def test_dynamic_tree_value_wrong_answers_are_named(answer, message):
    with pytest.raises(NotYet, match=message):
        check.dynamic_tree_value(answer)
