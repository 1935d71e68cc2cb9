"""Tests of lessons_lib.trained_sharing: the centroid gradient, sharing a model, training it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lessons_lib.compression import kmeans_1d
from lessons_lib.trained_sharing import SharedLinear, centroid_gradient, share_model, shared_weights


def _mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 20), nn.ReLU(), nn.Linear(20, 4)).double()


def test_autograd_gives_each_centroid_the_sum_of_its_weights_gradients():
    """The chain rule dL/dC_c = sum of dL/dW_ij over the cluster, computed three ways: autograd
    through SharedLinear, the explicit sum, and a finite difference of the loss in C_c."""
    gen = torch.Generator().manual_seed(1)
    k = 8
    index = torch.randint(0, k, (5, 7), generator=gen)
    keep = torch.rand(5, 7, generator=gen) > 0.3
    layer = SharedLinear(torch.randn(k, generator=gen, dtype=torch.float64), index, keep, None)
    x = torch.randn(9, 7, generator=gen, dtype=torch.float64)
    target = torch.randn(9, 5, generator=gen, dtype=torch.float64)

    def loss_of(c: torch.Tensor) -> torch.Tensor:
        return ((x @ (c[index] * keep).T - target) ** 2).sum()

    loss_of(layer.centroids).backward()
    w = (layer.centroids.detach()[index] * keep).requires_grad_(True)
    ((x @ w.T - target) ** 2).sum().backward()
    explicit = centroid_gradient(w.grad, index, keep, k)
    assert torch.allclose(layer.centroids.grad, explicit, rtol=1e-12, atol=1e-12)
    h = 1e-6
    for c in range(k):
        e = torch.zeros(k, dtype=torch.float64)
        e[c] = h
        c0 = layer.centroids.detach()
        fd = (loss_of(c0 + e) - loss_of(c0 - e)) / (2 * h)
        assert abs(float(fd) - float(explicit[c])) < 1e-5 * max(1.0, abs(float(fd)))


def test_share_model_keeps_2_to_the_bits_values_and_the_pruned_zeros():
    model = _mlp()
    with torch.no_grad():
        model[0].weight[:, :6] = 0.0
    shared = share_model(model, bits=3)
    w = shared[0].weight.detach()
    assert torch.all(w[:, :6] == 0)
    assert len(torch.unique(w[:, 6:])) <= 8
    # the centroids are k-means over the kept weights, computed directly
    expected, _ = kmeans_1d(model[0].weight.detach()[:, 6:].numpy(), 8)
    assert np.allclose(np.sort(shared_weights(shared)[0].numpy()), np.sort(expected))
    assert isinstance(shared[1], nn.ReLU) and shared[2].centroids.numel() == 8


def test_a_gradient_step_moves_only_centroids_and_keeps_the_sharing():
    model = share_model(_mlp(), bits=2)
    before_index = model[0].index.clone()
    x, y = torch.randn(30, 12, dtype=torch.float64), torch.randint(0, 4, (30,))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss0 = nn.functional.cross_entropy(model(x), y)
    loss0.backward()
    opt.step()
    assert torch.equal(model[0].index, before_index)
    assert len(torch.unique(model[0].weight.detach())) <= 4
    assert float(nn.functional.cross_entropy(model(x), y).detach()) < float(loss0.detach())


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: share_model(nn.Linear(2, 2), 3), TypeError, "nn.Sequential"),
    (lambda: share_model(_mlp(), 0), ValueError, "bits"),
    (lambda: share_model(_mlp(), 9), ValueError, "bits"),
    (lambda: share_model(_mlp(), 2, {"5.weight": torch.ones(1)}), ValueError, "masks"),
    (lambda: share_model(_mlp(), 2, {"0.weight": torch.ones(3, 3)}), ValueError, "masks"),
    (lambda: centroid_gradient(torch.ones(2, 2), torch.zeros(2, 2, dtype=torch.int64),
                               torch.ones(2, 2), 0), ValueError, "k"),
    (lambda: centroid_gradient(torch.ones(2, 2), torch.zeros(3, dtype=torch.int64),
                               torch.ones(2, 2), 2), ValueError, "one shape"),
    (lambda: SharedLinear(torch.zeros(2), torch.full((2, 2), 2), torch.ones(2, 2), None),
     ValueError, "index"),
])
def test_bad_input_names_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()
