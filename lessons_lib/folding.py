"""Merging layers: BatchNorm folded into the layer before it, and two linear layers into one.

**BatchNorm folding.** In evaluation mode a BatchNorm is an affine map per channel,
``y = gamma (x - mean) / sqrt(var + eps) + beta``. After a convolution (or a Linear layer)
``x = W * a + b`` it can be merged into that layer's weights and bias::

    W'[j] = W[j] * gamma[j] / sqrt(var[j] + eps)
    b'[j] = (b[j] - mean[j]) * gamma[j] / sqrt(var[j] + eps) + beta[j]

so the deployed network has one layer where it had two, and the same output (up to rounding).

**Merging consecutive linear layers.** ``W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)``:
two Linear layers with *nothing* between them are one. A ReLU (or any non-linearity) in
between forbids it, which is why it rarely applies; and the merged matrix has
``out2 x in1`` entries, which is more than ``out1 (in1 + out2)`` when the middle layer is narrow.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["fold_batchnorm", "fold_batchnorms", "merge_linear"]

_BN = nn.modules.batchnorm._BatchNorm


def fold_batchnorm(layer: nn.Module, bn: nn.Module) -> nn.Module:
    """A copy of ``layer`` (Conv2d or Linear) with the evaluation-mode ``bn`` after it folded in.

    Parameters
    ----------
    layer : nn.Conv2d or nn.Linear with ``out`` output channels
    bn : nn.BatchNorm2d (after a Conv2d) or nn.BatchNorm1d (after a Linear) over ``out``
        channels, with running statistics (its evaluation-mode form is what is folded)

    Returns a new layer of the same type whose output equals ``bn(layer(x))`` in evaluation mode.
    """
    if not isinstance(layer, nn.Conv2d | nn.Linear):
        raise TypeError(f"layer must be an nn.Conv2d or nn.Linear; got {type(layer).__name__}")
    want = nn.BatchNorm2d if isinstance(layer, nn.Conv2d) else nn.BatchNorm1d
    if not isinstance(bn, want):
        raise ValueError(
            f"bn must be an {want.__name__} after a {type(layer).__name__}; got {type(bn).__name__}"
        )
    out = layer.weight.shape[0]
    if bn.num_features != out or bn.running_mean is None:
        raise ValueError(f"bn must have running statistics over the layer's {out} output channels; got {bn}")
    with torch.no_grad():
        gamma = bn.weight if bn.affine else torch.ones_like(bn.running_var)
        beta = bn.bias if bn.affine else torch.zeros_like(bn.running_var)
        factor = gamma / torch.sqrt(bn.running_var + bn.eps)
        bias = layer.bias if layer.bias is not None else torch.zeros_like(bn.running_mean)
        folded = copy.deepcopy(layer)
        if folded.bias is None:
            folded.bias = nn.Parameter(torch.zeros(out, dtype=layer.weight.dtype))
        folded.weight.copy_(layer.weight * factor.reshape(-1, *([1] * (layer.weight.dim() - 1))))
        folded.bias.copy_((bias - bn.running_mean) * factor + beta)
    return folded


def fold_batchnorms(model: nn.Sequential) -> nn.Sequential:
    """A copy of ``model`` with every BatchNorm that directly follows a Conv2d or Linear folded into it."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential; got {type(model).__name__}")
    mods = list(model)
    out: list[nn.Module] = []
    i = 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, nn.Conv2d | nn.Linear) and i + 1 < len(mods) and isinstance(mods[i + 1], _BN):
            out.append(fold_batchnorm(m, mods[i + 1]))
            i += 2
            continue
        if isinstance(m, _BN):
            raise ValueError(
                f"model must have each BatchNorm right after a Conv2d or Linear; position {i} has not"
            )
        out.append(copy.deepcopy(m))
        i += 1
    return nn.Sequential(*out)


def merge_linear(first: nn.Linear, second: nn.Linear) -> nn.Linear:
    """One ``nn.Linear`` equal to ``second(first(x))``: weight ``W2 W1``, bias ``W2 b1 + b2``.

    ``second.in_features`` must equal ``first.out_features``; only valid with nothing between them.
    """
    for name, m in (("first", first), ("second", second)):
        if not isinstance(m, nn.Linear):
            raise TypeError(f"{name} must be an nn.Linear; got {type(m).__name__}")
    if second.in_features != first.out_features:
        raise ValueError(
            f"second must take first's {first.out_features} outputs; got in_features={second.in_features}"
        )
    dtype = first.weight.dtype
    merged = nn.Linear(first.in_features, second.out_features, dtype=dtype)
    with torch.no_grad():
        b1 = first.bias if first.bias is not None else torch.zeros(first.out_features, dtype=dtype)
        b2 = second.bias if second.bias is not None else torch.zeros(second.out_features, dtype=dtype)
        merged.weight.copy_(second.weight @ first.weight)
        merged.bias.copy_(second.weight @ b1 + b2)
    return merged
