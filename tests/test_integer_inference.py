"""Tests of lessons_lib.integer_inference: the fixed-point multiplier, requantization, the int8
products and convolutions, and the integer-only network against an independent NumPy reference."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from lessons_lib import integer_inference as ii
from lessons_lib.data import load_digits_split
from lessons_lib.folding import fold_batchnorms
from lessons_lib.models import mlp, small_cnn
from lessons_lib.training import accuracy, train


@given(M=st.floats(2.0**-31, 1e6, allow_nan=False, allow_infinity=False))
def test_the_multiplier_is_an_integer_in_range_and_a_shift(M):
    m0, shift = ii.quantize_multiplier(M)
    m0, shift = int(m0), int(shift)
    assert 2**30 <= m0 < 2**31 and 1 <= shift <= 61
    assert abs(Fraction(m0, 2**shift) - Fraction(M)) <= Fraction(M) * Fraction(1, 2**31)


def test_the_multiplier_renormalises_when_f_rounds_up_to_one():
    M = math.ldexp(1 - 2.0**-40, -5)  # f = 1 - 2^-40 rounds to 2^31
    m0, shift = ii.quantize_multiplier(M)
    assert (int(m0), int(shift)) == (2**30, 31 + 5 - 1)


@given(
    acc=st.lists(st.integers(-(2**31) + 1, 2**31 - 1), min_size=1, max_size=20),
    M=st.floats(1e-9, 1.0),
    z=st.integers(0, 255),
)
def test_requantize_is_round_half_up_of_acc_times_m0_over_two_to_the_shift(acc, M, z):
    m0, shift = (int(v) for v in ii.quantize_multiplier(M))
    got = ii.requantize(torch.tensor(acc, dtype=torch.int32), m0, shift, z, 0, 255)
    want = [min(max(math.floor(Fraction(a * m0, 2**shift) + Fraction(1, 2)) + z, 0), 255) for a in acc]
    assert got.dtype == torch.int64 and got.tolist() == want


def test_requantize_per_channel():
    acc = torch.tensor([[1000, -1000], [30000, 7]], dtype=torch.int32)
    m0, shift = ii.quantize_multiplier(np.array([0.01, 0.5]))
    got = ii.requantize(acc, m0, shift, 3, -128, 127)
    assert got.tolist() == [[13, -128], [127, 7]]  # -500 + 3 clamped to -128


@settings(max_examples=40)
@given(m=st.integers(1, 40), k=st.integers(1, 70), n=st.integers(1, 30), seed=st.integers(0, 2**16),
       signed=st.booleans())
def test_int_matmul_is_exact(m, k, n, seed, signed):
    """Also for transposed operands and a dimension of size 1 (torch._int_mm's stride trap)."""
    gen = torch.Generator().manual_seed(seed)
    a = (torch.randint(-128, 128, (m, k), generator=gen, dtype=torch.int8) if signed
         else torch.randint(0, 256, (m, k), generator=gen, dtype=torch.uint8))
    b = torch.randint(-128, 128, (k, n), generator=gen, dtype=torch.int8)
    out = ii.int_matmul(a, b)
    assert out.dtype == torch.int32 and torch.equal(out.long(), a.long() @ b.long())
    b_t = b.t().contiguous().t()  # the same matrix stored column-major
    assert torch.equal(ii.int_matmul(a, b_t).long(), a.long() @ b.long())
    w = torch.randint(-128, 128, (n, k), generator=gen, dtype=torch.int8)
    assert torch.equal(ii.linear_int(a, w, torch.zeros(n, dtype=torch.int32)).long(), a.long() @ w.long().t())


@settings(max_examples=30)
@given(c=st.integers(1, 4), o=st.integers(1, 5), size=st.integers(3, 9), k=st.sampled_from([1, 3]),
       padding=st.integers(0, 2), pad_value=st.integers(0, 255), seed=st.integers(0, 2**16))
def test_conv2d_int_equals_the_float64_convolution_of_the_codes(c, o, size, k, padding, pad_value, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (2, c, size, size), generator=gen, dtype=torch.uint8)
    w = torch.randint(-127, 128, (o, c, k, k), generator=gen, dtype=torch.int8)
    b = torch.randint(-10_000, 10_000, (o,), generator=gen, dtype=torch.int32)
    got = ii.conv2d_int(x, w, b, padding=padding, pad_value=pad_value)
    padded = F.pad(x.double(), (padding,) * 4, value=float(pad_value))
    want = F.conv2d(padded, w.double()) + b.double()[:, None, None]
    assert got.dtype == torch.int32 and torch.equal(got.double(), want)


def test_the_emulation_of_int16_pair_sums_saturates_for_8_bit_codes_only():
    gen = torch.Generator().manual_seed(0)
    b = torch.randint(-128, 128, (64, 16), generator=gen, dtype=torch.int8)
    for high, wrong in ((256, True), (128, False)):
        a = torch.randint(0, high, (20, 64), generator=gen, dtype=torch.uint8)
        exact = a.long().numpy() @ b.long().numpy()
        assert (ii.pair_sums_saturating(a, b) != exact).any() == wrong
    assert ii.pair_sums_saturating([[255, 255]], [[127], [127]]).tolist() == [[32767]]
    assert ii.pair_sums_saturating([[127, 127, 1]], [[-128], [-128], [5]]).tolist() == [[-32512 + 5]]
    with pytest.raises(ValueError, match="a must"):
        ii.pair_sums_saturating([[256]], [[1]])


_ON_ANOTHER_CPU = """
import os, torch, numpy as np
if os.environ.get("LESSONS_MKLDNN_OFF") == "1":  # the path of a CPU without AVX-512 VNNI
    torch.backends.mkldnn.enabled = False
from lessons_lib import integer_inference as ii
from lessons_lib.models import mlp
from lessons_lib.splits import load_digits_splits
torch.set_num_threads(1)
gen = torch.Generator().manual_seed(0)
a = torch.randint(0, 256, (64, 96), generator=gen, dtype=torch.uint8)
b = torch.randint(-128, 128, (96, 32), generator=gen, dtype=torch.int8)
raw = torch._int_mm(a, b).long().numpy()
ok = [torch.equal(ii.int_matmul(x, b).long(), x.long() @ b.long())
      for x in (a, a // 2, (a.long() - 128).to(torch.int8), a[:1], a.t().contiguous().t())]
s = load_digits_splits(seed=0)
net = mlp(hidden=(32, 16), seed=0).double()
codes = {bits: ii.convert(net, s.X_train[:200], bits=bits).forward_codes(
    ii.convert(net, s.X_train[:200], bits=bits).quantize_input(s.X_test[:50])).tolist() for bits in (7, 8)}
with torch.backends.mkldnn.flags(enabled=False):  # the reference loop torch runs without AVX-512 VNNI
    off = torch.equal(torch._int_mm(a, b).long(), a.long() @ b.long())
print(repr((ii.int_mm_saturates_here(), bool((raw == ii.pair_sums_saturating(a, b)).all()),
            bool((raw == a.long().numpy() @ b.long().numpy()).all()), off, ok, codes)))
"""


def _torch_calls_onednn_for_int_mm() -> bool:
    """torch >= 2.6 hands torch._int_mm on the CPU to oneDNN only when the CPU has AVX-512 VNNI
    (pytorch/pytorch#136942); elsewhere it runs an exact reference loop."""
    return torch.cpu._is_vnni_supported() and torch.backends.mkldnn.enabled


@pytest.mark.parametrize("isa", ["AVX2", "AVX512_CORE", None, "mkldnn_off"])
def test_int_matmul_and_the_network_are_exact_without_vnni(isa):
    """In a subprocess with oneDNN held to an ISA without VNNI (where torch._int_mm, if torch hands
    it to oneDNN at all - only on a CPU with AVX-512 VNNI - adds u8 x s8 pairs in saturating int16,
    exactly as the NumPy emulation does) and with the default one: int_matmul is exact, torch's
    reference loop (mkldnn off) is exact, and the integer network's codes are the same as here."""
    import ast
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("ONEDNN_MAX_CPU_ISA", "LESSONS_MKLDNN_OFF")}
    if isa == "mkldnn_off":  # torch's reference loop for everything: a CPU without AVX-512 VNNI
        env["LESSONS_MKLDNN_OFF"] = "1"
    elif isa:
        env["ONEDNN_MAX_CPU_ISA"] = isa
    out = subprocess.run([sys.executable, "-c", _ON_ANOTHER_CPU], env=env, capture_output=True, text=True,
                         timeout=300, check=True).stdout
    saturates, matches_emulation, exact, off, ok, codes = ast.literal_eval(out.strip().splitlines()[-1])
    assert all(ok) and off
    assert matches_emulation if saturates else exact
    if isa == "mkldnn_off":  # int_matmul, the raw product and the network all on the reference loop
        assert exact and not saturates
    elif isa and _torch_calls_onednn_for_int_mm():  # oneDNN below VNNI: the raw kernel saturates, as emulated
        assert saturates and matches_emulation
    if not _torch_calls_onednn_for_int_mm():  # the reference loop: exact whatever oneDNN's ISA
        assert exact and not saturates
    here = {bits: ii.convert(mlp(hidden=(32, 16), seed=0).double(), _SPLITS().X_train[:200], bits=bits)
            for bits in (7, 8)}
    for bits, inet in here.items():
        assert codes[bits] == inet.forward_codes(inet.quantize_input(_SPLITS().X_test[:50])).tolist()


def _SPLITS():  # noqa: N802 - a cached constant
    from lessons_lib.splits import load_digits_splits

    if not hasattr(_SPLITS, "value"):
        _SPLITS.value = load_digits_splits(seed=0)
    return _SPLITS.value


def _numpy_forward(inet: ii.IntegerNetwork, X: torch.Tensor) -> np.ndarray:
    """An independent MLP reference in NumPy int64 (no torch._int_mm, no folded bias terms)."""
    a = np.clip(np.round(X.numpy() / inet.input_scale) + inet.input_zero_point, 0, 2**inet.bits - 1)
    a = a.astype(np.int64)
    z_x = inet.input_zero_point
    for L in inet.layers:
        w = L.w_q.numpy().astype(np.int64)
        b = np.round(L.b_q.numpy().astype(np.int64) + z_x * w.sum(axis=1))  # undo the zero-point correction
        acc = (a - z_x) @ w.T + b
        m0, shift = L.m0.numpy(), L.shift.numpy()
        y = np.array([[(int(v) * int(m) + (1 << int(s - 1))) >> int(s) for v, m, s in zip(row, m0, shift,
                                                                                           strict=True)]
                      for row in acc])
        a = np.clip(y + L.zero_point, L.q_min, L.q_max)
        z_x = L.zero_point
    return a


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: small matrices, one thread is fastest


@pytest.fixture(scope="module")
def digits():
    return load_digits_split(seed=0, dtype=torch.float64)


@pytest.fixture(scope="module")
def trained_mlp(digits):
    net = mlp(hidden=(32, 16), seed=1).double()
    train(net, (digits.X_train, digits.y_train), epochs=8, lr=0.1, seed=1, progress=False)
    return net


@pytest.mark.parametrize("observer", ["minmax", "percentile"])
def test_the_integer_network_equals_an_independent_reference_bit_for_bit(trained_mlp, digits, observer):
    inet = ii.convert(trained_mlp, digits.X_train[:300], observer=observer, percentile=99.9)
    X = digits.X_test[:60]
    got = inet.forward_codes(inet.quantize_input(X))
    assert got.dtype == torch.uint8
    assert np.array_equal(got.numpy().astype(np.int64), _numpy_forward(inet, X))


def test_the_integer_network_keeps_the_float_accuracy_and_logits(trained_mlp, digits):
    inet = ii.convert(trained_mlp, digits.X_train[:300])
    float_acc = accuracy(trained_mlp, digits.X_test, digits.y_test)
    assert abs(inet.accuracy(digits.X_test, digits.y_test) - float_acc) <= 0.01
    with torch.no_grad():
        gap = (inet.logits(digits.X_test) - trained_mlp(digits.X_test)).abs().max().item()
    assert gap < 8 * inet.output_scale  # a few output steps, from the roundings of three layers


def test_a_layer_without_relu_feeding_another_needs_its_zero_point(digits):
    """No ReLU between two Linear layers: the first's codes have a zero point != 0, which the next
    layer's bias must correct (checked against float)."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 20), nn.Linear(20, 10)).double()
    inet = ii.convert(net, digits.X_train[:300])
    assert inet.layers[0].zero_point > 0
    with torch.no_grad():
        gap = (inet.logits(digits.X_test) - net(digits.X_test)).abs().max().item()
    assert gap < 16 * inet.output_scale  # without the correction: off by z_x * sum(w) steps
    assert np.array_equal(inet.forward_codes(inet.quantize_input(digits.X_test[:20])).numpy(),
                          _numpy_forward(inet, digits.X_test[:20]))


def test_the_cnn_converts_after_folding_and_keeps_its_accuracy(digits):
    cnn = small_cnn(channels=(4, 8), seed=0, batchnorm=True).double()
    train(cnn, (digits.X_train, digits.y_train), epochs=3, lr=0.05, seed=0, progress=False)
    cnn.eval()
    with pytest.raises(ValueError, match="fold"):
        ii.convert(cnn, digits.X_train[:200])
    folded = fold_batchnorms(cnn)
    inet = ii.convert(folded, digits.X_train[:300])
    assert [L.kind for L in inet.layers] == ["conv", "conv", "linear"]
    float_acc = accuracy(folded, digits.X_test, digits.y_test)
    assert abs(inet.accuracy(digits.X_test, digits.y_test) - float_acc) <= 0.02
    narrow = ii.convert(folded, digits.X_train[:300], requantization="int32")
    assert abs(narrow.accuracy(digits.X_test, digits.y_test) - float_acc) <= 0.02
    layer = inet.layers[0]
    x_q = inet.quantize_input(digits.X_test[:10]).reshape(-1, 1, 8, 8)
    want = ii.conv2d_int(x_q, layer.w_q, layer.b_q, 1, inet.input_zero_point)
    assert torch.equal(layer.accumulate(x_q), want)


def test_fewer_activation_bits_cost_accuracy(trained_mlp, digits):
    accs = [ii.convert(trained_mlp, digits.X_train[:300], bits=b).accuracy(digits.X_test, digits.y_test)
            for b in (8, 3, 2)]
    assert accs[0] > accs[2] and accs[0] >= accs[1]


def test_nbytes_counts_int8_weights_and_int32_biases(trained_mlp, digits):
    inet = ii.convert(trained_mlp, digits.X_train[:100])
    weights = 64 * 32 + 32 * 16 + 16 * 10
    channels = 32 + 16 + 10
    assert inet.nbytes() == weights + 4 * channels + 5 * channels


@pytest.mark.parametrize("module", [nn.Conv2d(1, 2, 3, stride=2), nn.Conv2d(1, 2, 3, groups=1, dilation=2),
                                    nn.Tanh(), nn.MaxPool2d(2, stride=1)])
def test_unsupported_modules_are_refused_by_name(module, digits):
    from lessons_lib.models import ToImage

    if isinstance(module, nn.Tanh):
        model = nn.Sequential(nn.Linear(64, 10), module)
    else:
        model = nn.Sequential(ToImage(), module, nn.Flatten(), nn.Linear(8, 10))
    with pytest.raises(ValueError, match="model must"):
        ii.convert(model, digits.X_train[:10])


# int32 requantization: the window clamp and the narrowest multiplier that fits ---------------


def _code(v: int, m: int, shift: int, z: int, q_min: int, q_max: int) -> int:
    """The int64 formula on Python integers (no overflow possible)."""
    return min(max(((v * m + (1 << (shift - 1))) >> shift) + z, q_min), q_max)


@settings(max_examples=300)
@given(log2_M=st.floats(-14.0, 8.0),
       codes=st.sampled_from([(0, 0, 127), (0, 0, 255), (57, 0, 127), (3, 3, 15), (128, 0, 255)]))
def test_the_int32_multiplier_is_the_most_precise_that_fits_and_its_window_is_exact(log2_M, codes):
    z, q_min, q_max = codes
    M = 2.0**log2_M
    m, shift, lo, hi = (int(a) for a in ii.int32_multiplier(M, z, q_min, q_max))
    bits = m.bit_length()
    assert abs(m / 2**shift - M) / M <= 2.0 ** -bits  # rounding m to an integer of `bits` bits
    assert max(abs(lo), abs(hi)) * m + (1 << (shift - 1)) < 2**31  # every step stays in int32
    # the window: lo and hi saturate, lo + 1 and hi - 1 do not (the codes in between are all reached)
    assert _code(lo, m, shift, z, -(2**40), 2**40) < q_min <= _code(lo + 1, m, shift, z, -(2**40), 2**40)
    assert _code(hi - 1, m, shift, z, -(2**40), 2**40) <= q_max < _code(hi, m, shift, z, -(2**40), 2**40)
    if bits < 31:  # one more bit would not fit (the search took the largest)
        f, e = math.frexp(M)
        m1, s1 = round(f * 2 ** (bits + 1)), bits + 1 - e
        if m1 == 2 ** (bits + 1):
            m1, s1 = 2**bits, s1 - 1
        lo1, hi1 = ii._code_window(m1, s1, z, q_min, q_max)
        assert s1 < 1 or max(abs(lo1), abs(hi1)) * m1 + (1 << (s1 - 1)) > 2**31 - 1


@settings(max_examples=60)
@given(log2_M=st.floats(-14.0, 2.0), channels=st.integers(1, 6), seed=st.integers(0, 2**16),
       codes=st.sampled_from([(0, 0, 127), (57, 0, 127), (0, 0, 255)]))
def test_int32_requantization_gives_the_codes_of_the_int64_formula(log2_M, channels, seed, codes):
    """Accumulators from -2^30 to 2^30, near the window's edges and inside: the int32 path (window
    clamp, narrow m0) equals the int64 formula with the same m0 and shift, element by element."""
    z, q_min, q_max = codes
    gen = torch.Generator().manual_seed(seed)
    M = 2.0 ** (log2_M + torch.rand(channels, generator=gen, dtype=torch.float64).numpy())
    m0, shift, lo, hi = ii.int32_multiplier(M, z, q_min, q_max)
    b_q = torch.randint(-1000, 1000, (channels,), generator=gen, dtype=torch.int32)
    edges = torch.from_numpy(np.stack([lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, (lo + hi) // 2]))  # (7, ch)
    acc = torch.cat([torch.randint(-(2**30), 2**30, (40, channels), generator=gen),
                     torch.randint(-5, 5, (20, channels), generator=gen) + torch.from_numpy((lo + hi) // 2),
                     edges]).to(torch.int64) - b_q.to(torch.int64)
    acc = acc.clamp(-(2**31) + 1000, 2**31 - 1000).to(torch.int32)
    layer = ii.IntegerLayer("linear", torch.zeros(channels, 1, dtype=torch.int8), b_q, torch.from_numpy(m0),
                            torch.from_numpy(shift), z, q_min, q_max,
                            torch.ones(channels, dtype=torch.float64), 1.0, 1.0,
                            lo=torch.from_numpy(lo), hi=torch.from_numpy(hi))
    assert layer.requantization == "int32"
    want = ii.requantize(acc.to(torch.int64) + b_q, m0, shift, z, q_min, q_max)
    kept = acc.clone()
    assert torch.equal(layer.requantize(acc).long(), want)
    assert torch.equal(acc, kept)  # the caller's accumulators are left as they were
    assert torch.equal(layer.requantize(acc.clone(), overwrite=True).long(), want)
    m31, s31 = ii.quantize_multiplier(M)  # the 31-bit multiplier: a code moves by at most one
    assert (want - ii.requantize(acc.to(torch.int64) + b_q, m31, s31, z, q_min, q_max)).abs().max() <= 1


def test_a_multiplier_with_fewer_bits_than_the_codes_is_refused():
    """Below 2^B = q_max - q_min + 1 a code could move by more than one: refused, for 7- and 8-bit codes."""
    assert int(ii.int32_multiplier(2.0**-17, 0, 0, 127)[0]).bit_length() == 7
    with pytest.raises(ValueError, match="at least 7 bits"):
        ii.int32_multiplier(2.0**-17.5, 0, 0, 127)
    with pytest.raises(ValueError, match="at least 8 bits"):
        ii.int32_multiplier(2.0**-17, 0, 0, 255)


def test_the_int32_network_equals_the_formula_with_its_multipliers_and_rarely_differs(trained_mlp, digits):
    exact = ii.convert(trained_mlp, digits.X_train[:300])
    narrow = ii.convert(trained_mlp, digits.X_train[:300], requantization="int32")
    assert [L.requantization for L in exact.layers] == ["int64"] * 3
    assert [L.requantization for L in narrow.layers] == ["int32"] * 3
    bits = [int(L.m0.max()).bit_length() for L in narrow.layers]
    assert all(10 <= b < 31 for b in bits), bits
    X = digits.X_test
    # bit for bit the independent NumPy reference, which reads each layer's own m0 and shift
    assert np.array_equal(narrow.forward_codes(narrow.quantize_input(X)).numpy().astype(np.int64),
                          _numpy_forward(narrow, X))
    same = (narrow.predict(X) == exact.predict(X)).float().mean().item()
    assert same >= 0.99  # a coarser multiplier moves a code only where acc * M sits near a half
    channels = 32 + 16 + 10
    assert narrow.nbytes() == exact.nbytes() + 8 * channels  # the window: two int32 per channel


@pytest.mark.parametrize("bias", [-(2**31) + 500_000, 2**31 - 1 - 500_000, -(2**31), 2**31 - 1])
def test_int32_requantization_is_exact_with_a_bias_near_the_int32_limits(bias):
    """acc + b_q would leave int32 here; the window clamp comes first, so the codes stay exact."""
    m0, shift, lo, hi = ii.int32_multiplier(0.001, 0, 0, 127)
    one = torch.ones(1, dtype=torch.int64)
    b_q = torch.tensor([bias], dtype=torch.int32)
    m0_, shift_, lo_, hi_ = (torch.from_numpy(v) * one for v in (m0, shift, lo, hi))
    layer = ii.IntegerLayer("linear", torch.zeros(1, 1, dtype=torch.int8), b_q, m0_, shift_, 0, 0, 127,
                            torch.ones(1, dtype=torch.float64), 1.0, 1.0, lo=lo_, hi=hi_)
    acc = torch.tensor([[-(2**31)], [-1_000_000], [-1], [0], [1_000_000], [2**31 - 1]], dtype=torch.int32)
    want = ii.requantize(acc.to(torch.int64) + bias, m0, shift, 0, 0, 127)
    assert torch.equal(layer.requantize(acc).long(), want)
    assert torch.equal(layer.requantize(acc.clone(), overwrite=True).long(), want)


def test_int32_requantization_refuses_what_it_cannot_hold(digits):
    with pytest.raises(ValueError, match="requantization"):
        ii.convert(mlp(hidden=(8,), seed=0).double(), digits.X_train[:50], requantization="int16")
    with pytest.raises(ValueError, match="M must be large enough"):
        ii.int32_multiplier(2.0**-30, 0, 0, 255)
    one = torch.ones(1, dtype=torch.int64)
    w, b = torch.zeros(1, 1, dtype=torch.int8), torch.zeros(1, dtype=torch.int32)
    scale = torch.ones(1, dtype=torch.float64)
    with pytest.raises(ValueError, match="lo and hi"):
        ii.IntegerLayer("linear", w, b, 2**30 * one, 31 * one, 0, 0, 127, scale, 1.0, 1.0, lo=one)
    with pytest.raises(ValueError, match="within int32"):  # a 31-bit m0 with a wide window overflows int32
        ii.IntegerLayer("linear", w, b, 2**30 * one, 40 * one, 0, 0, 127, scale, 1.0, 1.0,
                        lo=-one, hi=2**20 * one)
