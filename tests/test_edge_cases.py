"""Numerical edge cases: extreme tensors for the quantizer, ties for pruning, no warnings anywhere."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from lessons_lib import pruning, quantization

EXTREME = {
    "constant": np.full((4, 5), 3.25),
    "all-zero": np.zeros((4, 5)),
    "negative-constant": np.full(7, -1e-3),
    "tiny": np.linspace(-1e-30, 2e-30, 20),
    "subnormal": np.array([0.0, 5e-324, 1e-320, -1e-315]),
    "huge-range": np.concatenate([np.geomspace(1e-8, 1e8, 17), -np.geomspace(1e-8, 1e8, 17)]),
    "huge-values": np.array([-1e300, 0.0, 1e300]),
}


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("bits", [2, 8, 16])
@pytest.mark.parametrize("name", list(EXTREME))
def test_quantizer_handles_extreme_tensors_quietly(name, bits, symmetric):
    x = EXTREME[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q, scale, zp = quantization.quantize(x, bits, symmetric=symmetric)
        back = quantization.dequantize(q, scale, zp)
    lo, hi = quantization.code_range(bits, symmetric)
    assert np.all((q >= lo) & (q <= hi))
    assert np.isfinite(scale) and scale > 0
    assert np.all(np.isfinite(back))
    # inside the range the round-trip error is at most half a step (relative slack for rounding)
    assert np.all(np.abs(back - x) <= 0.5 * scale * (1 + 1e-9))
    assert back[x == 0].tolist() == [0.0] * int(np.sum(x == 0))  # zero is exact


@pytest.mark.parametrize("name", ["constant", "all-zero", "tiny", "huge-range"])
def test_per_channel_and_torch_edge_cases(name):
    x = np.resize(EXTREME[name], (3, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q, scale, zp = quantization.quantize(torch.tensor(x), 8, axis=0)
        back = quantization.dequantize(q, scale, zp)
    assert isinstance(back, torch.Tensor) and back.shape == (3, 8)
    assert torch.all(torch.isfinite(back))


def test_ties_are_pruned_by_exact_count_in_a_fixed_order():
    w = np.ones((4, 6))
    for sparsity in (0.25, 0.5, 0.75):
        keep = pruning.magnitude_mask(w, sparsity)
        assert (~keep).sum() == round(sparsity * w.size)
        np.testing.assert_array_equal(keep, pruning.magnitude_mask(w.copy(), sparsity))
        # among equal magnitudes the lower flat indices go first
        dropped = np.flatnonzero(~keep.ravel())
        np.testing.assert_array_equal(dropped, np.arange(len(dropped)))


def test_global_ties_across_tensors_are_exact_and_deterministic():
    weights = {"a": torch.ones(3, 3), "b": -torch.ones(2, 5), "c": torch.zeros(4)}
    masks = pruning.global_magnitude_masks(weights, 0.5)
    dropped = sum(int((~m).sum()) for m in masks.values())
    assert dropped == round(0.5 * 23)
    assert not masks["c"].any()  # the zeros go first
    again = pruning.global_magnitude_masks(weights, 0.5)
    assert all(torch.equal(masks[k], again[k]) for k in masks)
