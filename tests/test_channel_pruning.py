"""Tests of lessons_lib.channel_pruning: the smaller network equals the masked one; MACs counted."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lessons_lib import pruning
from lessons_lib.channel_pruning import channel_widths, count_macs, prune_channels
from lessons_lib.models import mlp, small_cnn


def _masked(model: nn.Sequential, sparsity: float) -> nn.Sequential:
    """The same network with the dropped channels' weights and biases zeroed (pruning.channel_mask)."""
    import copy

    masked = copy.deepcopy(model)
    weighted = [m for m in masked if isinstance(m, nn.Linear | nn.Conv2d)]
    with torch.no_grad():
        for m in weighted[:-1]:
            rows = m.weight.reshape(m.weight.shape[0], -1)
            keep = pruning.channel_mask(rows, sparsity, axis=0)[:, 0]
            if not keep.any():
                keep[rows.norm(dim=1).argmax()] = True
            m.weight[~keep] = 0.0
            m.bias[~keep] = 0.0
    return masked


@settings(max_examples=20)
@given(p=st.floats(0.0, 0.95), seed=st.integers(0, 100), cnn=st.booleans())
def test_the_pruned_network_equals_the_masked_one(p, seed, cnn):
    model = (small_cnn((6, 10), seed=seed) if cnn else mlp((20, 12), seed=seed)).double()
    small = prune_channels(model, p)
    x = torch.rand(9, 64, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(small(x), _masked(model, p)(x), rtol=1e-12, atol=1e-12)
    widths = channel_widths(model)
    assert channel_widths(small) == [max(w - round(p * w), 1) for w in widths[:-1]] + [widths[-1]]


def test_macs_of_the_course_models():
    assert count_macs(mlp()) == 64 * 64 + 64 * 32 + 32 * 10 == 6464
    assert count_macs(small_cnn()) == 8 * 1 * 9 * 64 + 16 * 8 * 9 * 16 + 64 * 10
    assert count_macs(prune_channels(mlp((256, 128), seed=0), 0.5)) == 64 * 128 + 128 * 64 + 64 * 10


def test_zero_sparsity_keeps_everything_and_bad_layers_are_refused():
    model = mlp(seed=0)
    assert channel_widths(prune_channels(model, 0.0)) == channel_widths(model)
    with pytest.raises(ValueError, match="model must"):
        prune_channels(small_cnn(seed=0, batchnorm=True), 0.5)
