"""Trained quantization, Deep Compression's second step: shared weights whose values are learned.

Weight sharing (:func:`lessons_lib.weight_sharing.kmeans_1d`) clusters a layer's kept weights into
``k = 2^bits`` clusters; every weight in cluster ``c`` is then the cluster's centroid ``C_c``:
``W_ij = C_{I_ij}`` with ``I`` the index matrix (and ``W_ij = 0`` where the pruning mask is 0).
Han et al. (2016, section 3.3, "Deep Compression") then *train the centroids*: the loss depends
on ``C_c`` through every weight of its cluster, so by the chain rule ::

    dL/dC_c = sum over (i, j) with I_ij = c (and kept) of dL/dW_ij

and a gradient step moves each centroid by the summed gradient of its weights; the indices stay
fixed. :class:`SharedLinear` holds ``C`` as its parameter and builds ``W = C[I] * mask`` in each
forward pass, so autograd produces exactly that sum (``index`` gathers forward, scatter-adds
backward); :func:`centroid_gradient` writes the sum out, to check it against autograd.
:func:`fine_tune_centroids` trains the centroids of many shared networks side by side (lesson 13),
each as it would train alone with ``torch.optim.SGD`` over its centroids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lessons_lib import _validate
from lessons_lib.progress import progress as progress_bar
from lessons_lib.weight_sharing import kmeans_1d

__all__ = ["SharedLinear", "share_model", "centroid_gradient", "shared_weights", "fine_tune_centroids"]


class SharedLinear(nn.Module):
    """A linear layer whose weights are ``k`` shared values: ``y = x (C[I] * M)^T + b``.

    ``centroids`` C: float parameter ``(k,)``; ``index`` I: int64 buffer ``(out, in)`` in ``[0, k)``;
    ``keep`` M: bool buffer ``(out, in)`` (pruned weights stay 0 and give their centroid no
    gradient); ``bias``: float parameter ``(out,)`` or None. ``x``: ``(..., in)``, ``y``: ``(..., out)``.
    """

    def __init__(self, centroids: torch.Tensor, index: torch.Tensor, keep: torch.Tensor,
                 bias: torch.Tensor | None) -> None:
        super().__init__()
        if not all(isinstance(t, torch.Tensor) for t in (centroids, index, keep)):
            raise TypeError("centroids, index and keep must be torch tensors")
        if centroids.ndim != 1 or not centroids.dtype.is_floating_point or centroids.numel() == 0:
            raise ValueError(f"centroids must be a non-empty 1-D float tensor; got {centroids.dtype}, "
                             f"shape {tuple(centroids.shape)}")
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
        raise ValueError(f"masks must name linear weights of model ('<i>.weight'); got {sorted(masks)}")
    return nn.Sequential(*layers)


def shared_weights(model: nn.Sequential) -> dict[int, torch.Tensor]:
    """``{layer position: centroids}`` of a shared model (detached copies)."""
    return {i: layer.centroids.detach().clone() for i, layer in enumerate(model)
            if isinstance(layer, SharedLinear)}


def _shared_layers(models: object) -> list[int]:
    """Checks that ``models`` are shared MLPs of one layer pattern; returns the positions of their
    SharedLinear layers (the same in every model)."""
    if isinstance(models, nn.Module) or not isinstance(models, Sequence) or not models:
        raise TypeError("models must be a non-empty sequence (list or tuple) of shared nn.Sequential "
                        "models (from share_model)")
    pattern = None
    for i, model in enumerate(models):
        if not isinstance(model, nn.Sequential):
            raise TypeError(f"models[{i}] must be an nn.Sequential; got {type(model).__name__}")
        kinds = []
        for layer in model:
            if isinstance(layer, SharedLinear):
                kinds.append(("shared", tuple(layer.index.shape), layer.bias is not None))
            elif isinstance(layer, nn.ReLU):
                kinds.append(("relu",))
            else:
                raise ValueError(f"models[{i}] must hold only SharedLinear and ReLU layers; got "
                                 f"{type(layer).__name__}")
        if pattern is None:
            pattern = kinds
        elif kinds != pattern:
            raise ValueError(f"models must all have the layers and shapes of models[0]; models[{i}] differs")
    if pattern is None or not any(k[0] == "shared" for k in pattern):
        raise ValueError("models must hold at least one SharedLinear layer")
    return [j for j, k in enumerate(pattern) if k[0] == "shared"]


def fine_tune_centroids(
    models: Sequence[nn.Sequential],
    data: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    lr: float | Sequence[float],
    momentum: float = 0.9,
    batch_size: int = 64,
    seeds: Sequence[int],
    progress: bool = False,
    desc: str = "fine-tune centroids",
) -> None:
    """Fine-tune the centroids of ``K`` shared networks side by side; indices and biases stay fixed.

    Model ``k`` is trained exactly as this loop would train it alone (up to the rounding of its
    sums, within 1e-12 in float64; tested)::

        opt = torch.optim.SGD([layer.centroids for each SharedLinear], lr=lr[k], momentum=momentum)
        gen = torch.Generator().manual_seed(seeds[k])
        for epoch in range(epochs):
            perm = torch.randperm(n, generator=gen)
            for each minibatch idx of perm (batch_size rows, the last one shorter):
                opt.zero_grad(); cross_entropy(model(X[idx]), y[idx]).backward(); opt.step()

    that is SGD with momentum in PyTorch's form on ``C``: ``v <- g`` at the first step, then
    ``v <- beta v + g``; ``C <- C - lr v``, with ``g = dL/dC`` (each centroid's gradient the sum of
    its weights' gradients). All ``K`` models are computed at once: layer ``l``'s centroids of every
    model are one flat tensor, each model's index matrix offset into it, ``W_l = C_l[I_l] * M_l`` of
    shape ``(K, out, in)`` and one batched product per layer; the loss is the sum over models of
    each model's mean cross-entropy, so model ``k``'s centroids get the gradient of its own loss.

    Parameters
    ----------
    models : sequence of ``K >= 1`` ``nn.Sequential`` of :class:`SharedLinear` and ``nn.ReLU``
        layers with the same shapes (the numbers of centroids may differ); trained in place
    data : ``(X, y)``, ``X`` float ``(n, in)`` in the models' dtype, ``y`` int64 ``(n,)``
    epochs : int >= 1
    lr : learning rate > 0, one for all models or one per model
    momentum : in [0, 1)
    batch_size : int >= 1
    seeds : one int >= 0 per model: its minibatch order
    progress : show a progress bar over the epochs (:func:`lessons_lib.progress.progress`)
    desc : label of the progress bar
    """
    positions = _shared_layers(models)
    models = list(models)
    k_models = len(models)
    epochs = _validate.integer(epochs, "epochs", 1, None)
    batch_size = _validate.integer(batch_size, "batch_size", 1, None)
    momentum = float(_validate.in_range(momentum, "momentum", 0.0, 1.0, high_open=True))
    if isinstance(lr, str | bytes):
        raise TypeError(f"lr must be a number or a sequence of {k_models} numbers; got {lr!r}")
    lrs = _validate.in_range(lr, "lr", 0.0, None, low_open=True)
    if lrs.ndim == 0:
        lrs = np.full(k_models, float(lrs))
    if lrs.shape != (k_models,):
        raise ValueError(f"lr must be one number or one per model ({k_models}); got shape {lrs.shape}")
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | range) or len(seeds) != k_models:
        raise ValueError(f"seeds must be a sequence of one int per model ({k_models}); got {seeds!r}")
    seeds = [_validate.integer(s, "seeds", 0, 2**63 - 1) for s in seeds]
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError("data must be a tuple (X, y) of torch tensors")
    X, y = data
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError("data must be a tuple (X, y) of torch tensors")
    first = models[0][positions[0]]
    dtype = first.centroids.dtype
    if X.ndim != 2 or X.dtype != dtype or X.shape[1] != first.index.shape[1] or y.shape != (X.shape[0],):
        raise ValueError(f"data must be X of shape (n, {first.index.shape[1]}) in {dtype} and y of shape "
                         "(n,); "
                         f"got X {tuple(X.shape)} {X.dtype} and y {tuple(y.shape)}")

    # Per layer: one flat parameter of every model's centroids, offset indices (K, out, in), keep masks,
    # biases (K, 1, out) or None; and each centroid's learning rate (its model's).
    layers: list[tuple[str, Any]] = []
    flat, rates = [], []
    for j, layer in enumerate(models[0]):
        if not isinstance(layer, SharedLinear):
            layers.append(("relu", None))
            continue
        sizes = [m[j].centroids.numel() for m in models]
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        c = torch.cat([m[j].centroids.detach() for m in models]).clone().requires_grad_(True)
        index = torch.stack([m[j].index + int(o) for m, o in zip(models, offsets, strict=True)])
        keep = torch.stack([m[j].keep for m in models]).to(dtype)
        bias = None if layer.bias is None else torch.stack([m[j].bias.detach() for m in models]).unsqueeze(1)
        layers.append(("shared", (c, index, keep, bias, sizes)))
        flat.append(c)
        rates.append(torch.from_numpy(np.repeat(lrs, sizes)).to(dtype))
    buffers: list[torch.Tensor | None] = [None] * len(flat)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    n = X.shape[0]
    for _ in progress_bar(range(epochs), desc=desc) if progress else range(epochs):
        perms = [torch.randperm(n, generator=g) for g in gens]
        for start in range(0, n, batch_size):
            idx = torch.stack([p[start:start + batch_size] for p in perms])  # (K, B)
            h = X[idx]  # (K, B, in)
            for kind, parts in layers:
                if kind == "relu":
                    h = torch.relu(h)
                    continue
                c, index, keep, bias, _ = parts
                w = c[index] * keep  # (K, out, in)
                h = h @ w.transpose(1, 2) if bias is None else torch.baddbmm(bias, h, w.transpose(1, 2))
            loss = F.cross_entropy(h.reshape(-1, h.shape[-1]), y[idx].reshape(-1), reduction="none")
            loss.view(k_models, -1).mean(dim=1).sum().backward()
            with torch.no_grad():
                for i, (c, rate) in enumerate(zip(flat, rates, strict=True)):
                    g = c.grad
                    buffers[i] = g.clone() if buffers[i] is None else buffers[i].mul_(momentum).add_(g)
                    c.sub_(rate * buffers[i])
                    c.grad = None
    with torch.no_grad():
        for j, (kind, parts) in enumerate(layers):
            if kind == "shared":
                c, _, _, _, sizes = parts
                for m, part in zip(models, torch.split(c.detach(), sizes), strict=True):
                    m[j].centroids.copy_(part)
