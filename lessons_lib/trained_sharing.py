"""Trained quantization, Deep Compression's second step: shared weights whose values are learned.

Weight sharing (:func:`lessons_lib.compression.kmeans_1d`) clusters a layer's kept weights into
``k = 2^bits`` clusters; every weight in cluster ``c`` is then the cluster's centroid ``C_c``:
``W_ij = C_{I_ij}`` with ``I`` the index matrix (and ``W_ij = 0`` where the pruning mask is 0).
Han et al. (2016, section 3.2, "Deep Compression") then *train the centroids*: the loss depends
on ``C_c`` through every weight of its cluster, so by the chain rule ::

    dL/dC_c = sum over (i, j) with I_ij = c (and kept) of dL/dW_ij

and a gradient step moves each centroid by the summed gradient of its weights; the indices stay
fixed. :class:`SharedLinear` holds ``C`` as its parameter and builds ``W = C[I] * mask`` in each
forward pass, so autograd produces exactly that sum (``index`` gathers forward, scatter-adds
backward); :func:`centroid_gradient` writes the sum out, to check it against autograd.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lessons_lib import _validate
from lessons_lib.compression import kmeans_1d

__all__ = ["SharedLinear", "share_model", "centroid_gradient", "shared_weights"]


class SharedLinear(nn.Module):
    """A linear layer whose weights are ``k`` shared values: ``y = x (C[I] * M)^T + b``.

    ``centroids`` C: float parameter ``(k,)``; ``index`` I: int64 buffer ``(out, in)`` in ``[0, k)``;
    ``keep`` M: bool buffer ``(out, in)`` (pruned weights stay 0 and give their centroid no
    gradient); ``bias``: float parameter ``(out,)`` or None. ``x``: ``(..., in)``, ``y``: ``(..., out)``.
    """

    def __init__(self, centroids: torch.Tensor, index: torch.Tensor, keep: torch.Tensor,
                 bias: torch.Tensor | None) -> None:
        super().__init__()
        if index.shape != keep.shape or index.ndim != 2:
            raise ValueError(f"index and keep must be 2-D of one shape; got {tuple(index.shape)} and "
                             f"{tuple(keep.shape)}")
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= centroids.numel()):
            raise ValueError(f"index must lie in [0, {centroids.numel()}); got [{int(index.min())}, "
                             f"{int(index.max())}]")
        self.centroids = nn.Parameter(centroids.detach().clone())
        self.register_buffer("index", index.to(torch.int64).clone())
        self.register_buffer("keep", keep.to(torch.bool).clone())
        self.bias = None if bias is None else nn.Parameter(bias.detach().clone())

    @property
    def weight(self) -> torch.Tensor:
        """The weight matrix the layer applies: ``C[I] * M``, ``(out, in)``."""
        return self.centroids[self.index] * self.keep

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight, self.bias)


def centroid_gradient(
    weight_grad: torch.Tensor, index: torch.Tensor, keep: torch.Tensor, k: int
) -> torch.Tensor:
    """``g_c = sum of weight_grad[i, j] over the kept (i, j) with index[i, j] == c``, ``(k,)``.

    ``weight_grad``, ``index``, ``keep``: tensors of one shape; ``k``: number of centroids, >= 1."""
    k = _validate.integer(k, "k", 1, 2**16)
    if not (weight_grad.shape == index.shape == keep.shape):
        raise ValueError(f"weight_grad, index and keep must have one shape; got {tuple(weight_grad.shape)}, "
                         f"{tuple(index.shape)}, {tuple(keep.shape)}")
    kept = keep.reshape(-1).to(torch.bool)
    out = torch.zeros(k, dtype=weight_grad.dtype)
    return out.index_add_(0, index.reshape(-1)[kept].to(torch.int64), weight_grad.reshape(-1)[kept])


def share_model(model: nn.Sequential, bits: int, masks: Mapping[str, Any] | None = None) -> nn.Sequential:
    """A copy of ``model`` with every ``nn.Linear`` replaced by a :class:`SharedLinear` of
    ``2^bits`` centroids, from k-means (linear initialisation) over the layer's kept weights.

    Parameters
    ----------
    model : ``nn.Sequential`` of layers (``nn.Linear`` among them)
    bits : int in [1, 8]
    masks : optional ``{"<i>.weight": keep-mask}`` from pruning (default: keep every nonzero weight)
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential; got {type(model).__name__}")
    bits = _validate.integer(bits, "bits", 1, 8)
    masks = dict(masks or {})
    layers = []
    for i, layer in enumerate(model):
        if not isinstance(layer, nn.Linear):
            layers.append(layer)
            continue
        w = layer.weight.detach()
        keep = torch.as_tensor(masks.pop(f"{i}.weight", w != 0)).to(torch.bool)
        if keep.shape != w.shape:
            raise ValueError(f"masks['{i}.weight'] must have shape {tuple(w.shape)}; got {tuple(keep.shape)}")
        values = w[keep].to(torch.float64).numpy()
        k = 2**bits
        if values.size:
            centroids, labels = kmeans_1d(values, k)
        else:
            centroids, labels = np.zeros(k), np.zeros(0, dtype=np.int64)
        index = torch.zeros(w.shape, dtype=torch.int64)
        index[keep] = torch.from_numpy(labels)
        layers.append(SharedLinear(torch.from_numpy(centroids).to(w.dtype), index, keep, layer.bias))
    if masks:
        raise ValueError(f"masks has names that are not linear weights of model: {sorted(masks)}")
    return nn.Sequential(*layers)


def shared_weights(model: nn.Sequential) -> dict[int, torch.Tensor]:
    """``{layer position: centroids}`` of a shared model (detached copies)."""
    return {i: layer.centroids.detach().clone() for i, layer in enumerate(model)
            if isinstance(layer, SharedLinear)}
