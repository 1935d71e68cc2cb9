"""Tests of lessons_lib.quantization: the quantizer's laws, shapes, types and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lessons_lib.quantization import (
    QuantLinear,
    code_range,
    dequantize,
    fake_quantize,
    quantization_error,
    quantize,
    quantize_model_weights,
    to_quant_linear,
)

finite_floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6), elements=finite_floats)
bits_st = st.integers(2, 16)


def _tol(x: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The bound scale/2 plus a little floating-point slack."""
    return scale / 2 * (1 + 1e-9) + 1e-12 * np.abs(x)


@settings(deadline=None, max_examples=150)
@given(x=arrays, bits=bits_st, symmetric=st.booleans())
def test_round_trip_error_is_at_most_half_a_step(x, bits, symmetric):
    q, scale, zp = quantize(x, bits, symmetric)
    x_hat = dequantize(q, scale, zp)
    assert x_hat.shape == x.shape
    assert np.all(np.abs(x_hat - x) <= _tol(x, scale))


@settings(deadline=None, max_examples=150)
@given(x=arrays, bits=bits_st, symmetric=st.booleans())
def test_codes_lie_in_their_range_and_scale_is_positive(x, bits, symmetric):
    q, scale, zp = quantize(x, bits, symmetric)
    lo, hi = (-(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1) if symmetric else (0, 2**bits - 1)
    assert q.dtype == np.int32
    assert q.min() >= lo and q.max() <= hi
    assert np.all(scale > 0)
    assert lo <= zp <= hi
    if symmetric:
        assert zp == 0


@settings(deadline=None, max_examples=100)
@given(x=arrays, bits=bits_st, symmetric=st.booleans(), data=st.data())
def test_zero_is_exactly_representable(x, bits, symmetric, data):
    i = data.draw(st.integers(0, x.size - 1))
    x = x.copy()
    x.flat[i] = 0.0
    q, scale, zp = quantize(x, bits, symmetric)
    x_hat = dequantize(q, scale, zp)
    assert x_hat.flat[i] == 0.0
    assert q.flat[i] == zp


@settings(deadline=None, max_examples=100)
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=5), elements=finite_floats),
    bits=bits_st,
    symmetric=st.booleans(),
    data=st.data(),
)
def test_per_channel_parameters_are_the_per_tensor_ones_of_each_slice(x, bits, symmetric, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    q, scale, zp = quantize(x, bits, symmetric, axis=axis)
    expected_shape = [1] * x.ndim
    expected_shape[axis] = x.shape[axis]
    assert scale.shape == tuple(expected_shape) and zp.shape == tuple(expected_shape)
    for c in range(x.shape[axis]):
        qc, sc, zc = quantize(np.take(x, c, axis=axis), bits, symmetric)
        np.testing.assert_array_equal(np.take(q, c, axis=axis), qc)
        assert np.take(scale, c, axis=axis).item() == sc
        assert np.take(zp, c, axis=axis).item() == zc
    assert np.all(np.abs(dequantize(q, scale, zp) - x) <= _tol(x, scale))


def test_per_channel_beats_per_tensor_when_rows_differ_in_scale():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 50)) * np.array([[0.01], [0.1], [1.0], [10.0]])
    per_channel = dequantize(*quantize(w, 4, True, axis=0))
    per_tensor = dequantize(*quantize(w, 4, True))
    # The small rows vanish under one shared scale but keep their shape per channel.
    assert np.all(per_tensor[0] == 0.0)
    for row in range(3):
        err_c = np.sqrt(np.mean((per_channel[row] - w[row]) ** 2))
        err_t = np.sqrt(np.mean((per_tensor[row] - w[row]) ** 2))
        assert err_c < 0.2 * err_t
    assert quantization_error(w, 4, True, axis=0) <= quantization_error(w, 4, True)


def test_worked_example_affine_and_symmetric():
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    q, scale, zp = quantize(x, 2)  # range [-1, 2], 3 steps of 1.0, zero point 1
    assert scale == pytest.approx(1.0) and zp == 1
    np.testing.assert_array_equal(q, [0, 1, 1, 3])  # 0.5 rounds half to even
    q, scale, zp = quantize(x, 3, symmetric=True)  # codes -3..3, scale 2/3
    assert scale == pytest.approx(2 / 3) and zp == 0
    np.testing.assert_array_equal(q, [-2, 0, 1, 3])


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("value", [0.0, 3.5, -2.0, 1e-300])
def test_constant_tensors(value, symmetric):
    x = np.full((3, 4), value)
    q, scale, zp = quantize(x, 8, symmetric)
    assert np.all(np.isfinite(scale)) and np.all(scale > 0)
    x_hat = dequantize(q, scale, zp)
    np.testing.assert_allclose(x_hat, x, rtol=1e-12, atol=0)
    if value == 0.0:
        assert scale == 1.0 and np.all(x_hat == 0.0)


def test_all_zero_per_channel_rows_get_scale_one():
    x = np.array([[0.0, 0.0], [1.0, -1.0]])
    q, scale, zp = quantize(x, 4, axis=0)
    assert scale[0, 0] == 1.0
    np.testing.assert_array_equal(dequantize(q, scale, zp)[0], [0.0, 0.0])


def test_huge_range_does_not_overflow():
    x = np.array([-1e308, 0.0, 1e308])
    q, scale, zp = quantize(x, 8)
    assert np.all(np.isfinite(scale))
    assert np.all(np.abs(dequantize(q, scale, zp) - x) <= _tol(x, scale))


def test_more_bits_less_error():
    x = np.random.default_rng(1).normal(size=1000)
    errors = [quantization_error(x, b) for b in range(2, 12)]
    assert all(e2 < 0.75 * e1 for e1, e2 in zip(errors, errors[1:], strict=False))


def test_code_range():
    assert code_range(8) == (0, 255)
    assert code_range(8, symmetric=True) == (-127, 127)
    assert code_range(2, True) == (-1, 1)


# ----------------------------------------------------------------------------- torch


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_in_torch_out(dtype):
    w = torch.randn(5, 7, dtype=dtype, generator=torch.Generator().manual_seed(0))
    w.requires_grad_(True)
    q, scale, zp = quantize(w, 6, symmetric=False, axis=0)
    assert isinstance(q, torch.Tensor) and q.dtype == torch.int32 and q.shape == w.shape
    assert isinstance(scale, torch.Tensor) and scale.dtype == dtype and scale.shape == (5, 1)
    assert isinstance(zp, torch.Tensor) and zp.dtype == torch.int32
    w_hat = dequantize(q, scale, zp)
    assert isinstance(w_hat, torch.Tensor) and w_hat.dtype == dtype
    err = (w_hat - w.detach()).abs()
    assert torch.all(err <= scale / 2 * (1 + 1e-6) + 1e-6 * w.detach().abs())
    # The float32 scale was rounded up, so float32 results match the NumPy path's codes.
    q_np, _, _ = quantize(w.detach().double().numpy(), 6, axis=0)
    assert np.mean(q.numpy() == q_np) > 0.9


def test_numpy_in_numpy_out_and_lists_accepted():
    q, scale, zp = quantize([0.5, -0.25, 1.0], 4)
    assert isinstance(q, np.ndarray) and isinstance(scale, np.ndarray)
    assert isinstance(dequantize(q, scale, zp), np.ndarray)


def test_fake_quantize_forward_is_quantized_and_backward_is_identity():
    w = torch.randn(4, 6, generator=torch.Generator().manual_seed(1), requires_grad=True)
    out = fake_quantize(w, 3, True, 0)
    expected = dequantize(*quantize(w, 3, True, 0))
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-6)
    assert len(torch.unique(out[0].detach())) <= 7
    (out * torch.arange(24.0).reshape(4, 6)).sum().backward()
    torch.testing.assert_close(w.grad, torch.arange(24.0).reshape(4, 6))


def test_quant_linear_uses_quantized_weight_and_trains():
    torch.manual_seed(0)
    layer = QuantLinear(6, 3, bits=4, symmetric=True, per_channel=True)
    x = torch.randn(8, 6)
    expected = x @ dequantize(*quantize(layer.weight, 4, True, 0)).T + layer.bias
    torch.testing.assert_close(layer(x), expected, rtol=0, atol=1e-5)
    layer(x).pow(2).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0


def test_to_quant_linear_and_post_training_quantization():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    qat = to_quant_linear(model, bits=3)
    assert isinstance(qat[0], QuantLinear) and isinstance(qat[2], QuantLinear)
    assert isinstance(model[0], torch.nn.Linear) and not isinstance(model[0], QuantLinear)
    x = torch.randn(4, 5)
    ptq = quantize_model_weights(qat, bits=3)
    assert not isinstance(ptq[0], QuantLinear)
    torch.testing.assert_close(ptq(x), qat(x), rtol=0, atol=1e-5)
    for row in ptq[0].weight:
        assert len(torch.unique(row)) <= 7  # symmetric 3-bit: codes -3..3
    torch.testing.assert_close(ptq[0].bias, model[0].bias)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("bits", [1, 17, 0, -3])
def test_bits_out_of_range(bits):
    with pytest.raises(ValueError, match=r"bits must be an integer in \[2, 16\]"):
        quantize(np.ones(3), bits)


@pytest.mark.parametrize("bits", [8.0, "8", True, None])
def test_bits_wrong_type(bits):
    with pytest.raises(TypeError, match="bits must be an integer"):
        quantize(np.ones(3), bits)


@pytest.mark.parametrize("axis", [2, -3, 10])
def test_wrong_axis(axis):
    with pytest.raises(ValueError, match=r"axis must be None or an integer in \[-2, 1\]"):
        quantize(np.ones((2, 3)), 8, axis=axis)


def test_axis_on_a_scalar_and_wrong_axis_type():
    with pytest.raises(ValueError, match="axis"):
        quantize(np.float64(1.0), 8, axis=0)
    with pytest.raises(TypeError, match="axis"):
        quantize(np.ones((2, 3)), 8, axis=0.5)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_x(bad):
    with pytest.raises(ValueError, match="x must be finite"):
        quantize(np.array([1.0, bad]), 8)
    with pytest.raises(ValueError, match="x must be finite"):
        quantize(torch.tensor([1.0, bad]), 8)


def test_empty_and_non_numeric_x():
    with pytest.raises(ValueError, match="x must not be empty"):
        quantize(np.array([]), 8)
    with pytest.raises(TypeError, match="x must be a number"):
        quantize("abc", 8)


def test_symmetric_must_be_bool():
    with pytest.raises(TypeError, match="symmetric"):
        quantize(np.ones(3), 8, symmetric="yes")


def test_dequantize_checks():
    with pytest.raises(ValueError, match="scale must be > 0"):
        dequantize(np.array([1, 2]), 0.0, 0)
    with pytest.raises(ValueError, match="q must hold integer codes"):
        dequantize(np.array([1.5]), 1.0, 0)
    with pytest.raises(ValueError, match="zero_point must hold integers"):
        dequantize(np.array([1]), 1.0, 0.5)
    with pytest.raises(ValueError, match="scale must broadcast"):
        dequantize(np.zeros((2, 3), dtype=int), np.ones((3, 1)), 0)


def test_fake_quantize_wants_a_tensor():
    with pytest.raises(TypeError, match="w must be a torch.Tensor"):
        fake_quantize(np.ones(3), 8)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16])
@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_fake_quantize_equals_dequantize_of_quantize_bit_for_bit(dtype, symmetric, axis):
    """fake_quantize computes in torch what dequantize(quantize(w)) computes in NumPy: the same bits."""
    gen = torch.Generator().manual_seed(7)
    for scale_exp in (-6, -1, 0, 3):
        w = (torch.randn(6, 9, generator=gen, dtype=torch.float64) * 10.0**scale_exp).to(dtype)
        w[1] = 0.0  # a row of zeros: scale 1
        w[2] = w[2].abs()  # a row without negative values: lo = 0
        for bits in (2, 3, 4, 8, 16):
            expected = dequantize(*quantize(w, bits, symmetric, axis)).to(dtype)
            got = fake_quantize(w, bits, symmetric, axis)
            assert got.dtype == dtype and torch.equal(got, expected), (bits, scale_exp)
