"""Tests of lessons_lib.folding: BatchNorm folded into Conv2d and Linear; two Linear layers merged."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lessons_lib.folding import fold_batchnorm, fold_batchnorms, merge_linear
from lessons_lib.models import small_cnn


def _random_bn(bn: nn.Module, gen: torch.Generator) -> nn.Module:
    with torch.no_grad():
        bn.weight.copy_(torch.randn(bn.num_features, generator=gen, dtype=torch.float64))
        bn.bias.copy_(torch.randn(bn.num_features, generator=gen, dtype=torch.float64))
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen, dtype=torch.float64))
        bn.running_var.copy_(torch.rand(bn.num_features, generator=gen, dtype=torch.float64) * 4 + 0.01)
    return bn.eval()


@settings(max_examples=25)
@given(c_in=st.integers(1, 4), c_out=st.integers(1, 6), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_folded_conv_equals_conv_then_batchnorm(c_in, c_out, bias, seed):
    gen = torch.Generator().manual_seed(seed)
    conv = nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias, dtype=torch.float64)
    bn = _random_bn(nn.BatchNorm2d(c_out, dtype=torch.float64), gen)
    x = torch.randn(3, c_in, 6, 6, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(fold_batchnorm(conv, bn)(x), bn(conv(x)), rtol=1e-12, atol=1e-12)


@settings(max_examples=25)
@given(n_in=st.integers(1, 10), n_out=st.integers(1, 10), seed=st.integers(0, 2**16))
def test_folded_linear_equals_linear_then_batchnorm(n_in, n_out, seed):
    gen = torch.Generator().manual_seed(seed)
    lin = nn.Linear(n_in, n_out, dtype=torch.float64)
    bn = _random_bn(nn.BatchNorm1d(n_out, eps=0.1, dtype=torch.float64), gen)
    x = torch.randn(5, n_in, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(fold_batchnorm(lin, bn)(x), bn(lin(x)), rtol=1e-12, atol=1e-12)


def test_fold_batchnorms_removes_every_batchnorm_and_keeps_the_outputs():
    cnn = small_cnn(seed=0, batchnorm=True).double()
    gen = torch.Generator().manual_seed(1)
    for m in cnn:
        if isinstance(m, nn.BatchNorm2d):
            _random_bn(m, gen)
    cnn.eval()
    folded = fold_batchnorms(cnn)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded) and len(folded) == len(cnn) - 2
    x = torch.rand(7, 64, dtype=torch.float64, generator=gen)
    with torch.no_grad():
        assert torch.allclose(folded(x), cnn(x), rtol=1e-12, atol=1e-12)
        assert not torch.allclose(small_cnn(seed=0).double()(x), cnn(x), atol=1e-3)  # the BN mattered


@given(a=st.integers(1, 8), b=st.integers(1, 8), c=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_merged_linear_equals_the_two_layers(a, b, c, seed):
    torch.manual_seed(seed)
    first, second = nn.Linear(a, b, dtype=torch.float64), nn.Linear(b, c, dtype=torch.float64)
    merged = merge_linear(first, second)
    x = torch.randn(4, a, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(merged(x), second(first(x)), rtol=1e-12, atol=1e-12)
    assert merged.weight.shape == (c, a)


def test_merging_refuses_mismatched_layers_and_folding_a_stray_batchnorm():
    with pytest.raises(ValueError, match="second"):
        merge_linear(nn.Linear(3, 4), nn.Linear(5, 2))
    with pytest.raises(ValueError, match="bn"):
        fold_batchnorm(nn.Conv2d(1, 2, 3), nn.BatchNorm1d(2))
    with pytest.raises(ValueError, match="model must"):
        fold_batchnorms(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3)))
