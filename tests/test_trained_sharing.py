"""Tests of lessons_lib.trained_sharing: the centroid gradient, sharing a model, training it."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from lessons_lib.trained_sharing import (
    SharedLinear,
    centroid_gradient,
    fine_tune_centroids,
    share_model,
    shared_weights,
)
from lessons_lib.weight_sharing import kmeans_1d


def _mlp(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(12, 20), nn.ReLU(), nn.Linear(20, 4)).double()


_DATA = (torch.zeros(6, 12, dtype=torch.float64), torch.zeros(6, dtype=torch.int64))


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


def _fine_tune_alone(model, X, y, epochs, lr, momentum, batch_size, seed):
    """The reference: one shared model, torch.optim.SGD over its centroids alone."""
    params = [layer.centroids for layer in model if isinstance(layer, SharedLinear)]
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(X.shape[0], generator=gen)
        for start in range(0, X.shape[0], batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad()
            nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()


def test_fine_tuning_side_by_side_is_fine_tuning_each_alone():
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(70, 12, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, (70,), generator=gen)
    base = [share_model(_mlp(seed), bits) for seed, bits in [(0, 2), (1, 3), (2, 2)]]
    together = [copy.deepcopy(m) for m in base]
    fine_tune_centroids(together, (X, y), epochs=3, lr=[0.05, 0.02, 0.1], momentum=0.9, batch_size=16,
                        seeds=[5, 6, 7])
    for m, alone, lr, seed in zip(together, base, [0.05, 0.02, 0.1], [5, 6, 7], strict=True):
        before = {i: c.clone() for i, c in shared_weights(alone).items()}
        index = {i: alone[i].index.clone() for i in before}
        bias = {i: alone[i].bias.detach().clone() for i in before}
        _fine_tune_alone(alone, X, y, 3, lr, 0.9, 16, seed)
        for i, c in shared_weights(alone).items():
            assert not torch.equal(c, before[i])  # they did move
            assert torch.allclose(m[i].centroids.detach(), c, rtol=0, atol=1e-12)
            assert torch.equal(m[i].index, index[i]) and torch.equal(m[i].bias.detach(), bias[i])


def test_fine_tuning_lowers_the_training_loss():
    gen = torch.Generator().manual_seed(4)
    X = torch.randn(64, 12, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 4, (64,), generator=gen)
    model = share_model(_mlp(1), 2)
    loss0 = float(nn.functional.cross_entropy(model(X), y).detach())
    fine_tune_centroids([model], (X, y), epochs=20, lr=0.05, seeds=[0], batch_size=64)
    assert float(nn.functional.cross_entropy(model(X), y).detach()) < loss0


@pytest.mark.parametrize(("call", "error", "match"), [
    (lambda: fine_tune_centroids([], (torch.zeros(2, 12), torch.zeros(2)), epochs=1, lr=0.1, seeds=[]),
     TypeError, "models"),
    (lambda: fine_tune_centroids(share_model(_mlp(), 2), (torch.zeros(2, 12), torch.zeros(2)), epochs=1,
                                 lr=0.1, seeds=[0]), TypeError, "models"),
    (lambda: fine_tune_centroids([_mlp()], (torch.zeros(2, 12), torch.zeros(2)), epochs=1, lr=0.1, seeds=[0]),
     ValueError, "SharedLinear"),
    (lambda: fine_tune_centroids([share_model(_mlp(), 2), share_model(nn.Sequential(nn.Linear(12, 3)), 2)],
                                 (torch.zeros(2, 12), torch.zeros(2)), epochs=1, lr=0.1, seeds=[0, 1]),
     ValueError, "models"),
    (lambda: fine_tune_centroids([share_model(_mlp(), 2)], _DATA, epochs=0, lr=0.1, seeds=[0]), ValueError,
     "epochs"),
    (lambda: fine_tune_centroids([share_model(_mlp(), 2)], _DATA, epochs=1, lr=-0.1, seeds=[0]), ValueError,
     "lr"),
    (lambda: fine_tune_centroids([share_model(_mlp(), 2)], _DATA, epochs=1, lr=[0.1, 0.2], seeds=[0]),
     ValueError, "lr"),
    (lambda: fine_tune_centroids([share_model(_mlp(), 2)], _DATA, epochs=1, lr=0.1, momentum=1.0, seeds=[0]),
     ValueError, "momentum"),
    (lambda: fine_tune_centroids([share_model(_mlp(), 2)], _DATA, epochs=1, lr=0.1, seeds=[0, 1]), ValueError,
     "seeds"),
    (lambda: fine_tune_centroids([share_model(_mlp(), 2)], (torch.zeros(2, 12), torch.zeros(2)), epochs=1,
                                 lr=0.1, seeds=[0]), ValueError, "data"),
    (lambda: fine_tune_centroids([share_model(_mlp(), 2)], torch.zeros(2, 12), epochs=1, lr=0.1, seeds=[0]),
     TypeError, "data"),
])
def test_fine_tune_centroids_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
