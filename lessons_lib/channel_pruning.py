"""Channel (structured) pruning that makes a network genuinely smaller, and its cost in MACs.

Zeros scattered through a weight matrix leave a dense kernel exactly as slow as before.
Removing a whole output channel (a hidden unit of a Linear layer, a filter of a Conv2d)
removes a row of that layer, its bias, and the matching input column (or input channel) of
the next layer: a smaller *dense* network remains, with fewer multiply-accumulates.

:func:`prune_channels` ranks each hidden layer's output channels by the L2 norm of their
incoming weights and removes the ``round(p * channels)`` smallest, as
:func:`lessons_lib.pruning.channel_mask` does (``p`` the sparsity, the fraction removed);
the last weighted layer (the classes) keeps all its outputs. :func:`count_macs` counts
multiply-accumulates per input.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from lessons_lib import pruning

__all__ = ["prune_channels", "count_macs", "channel_widths"]

_WEIGHTED = (nn.Linear, nn.Conv2d)
_PASS = (nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Identity)


def _check(model: object) -> nn.Sequential:
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential; got {type(model).__name__}")
    from lessons_lib.models import ToImage

    for i, m in enumerate(model):
        if not isinstance(m, _WEIGHTED + _PASS + (ToImage,)):
            raise ValueError(
                f"model must hold only Linear, Conv2d, ReLU, MaxPool2d, Flatten and ToImage "
                f"(fold BatchNorm first); got {type(m).__name__} at position {i}"
            )
    if not any(isinstance(m, _WEIGHTED) for m in model):
        raise ValueError("model must hold at least one Linear or Conv2d layer")
    return model


def channel_widths(model: nn.Sequential) -> list[int]:
    """Output channels of each Linear/Conv2d layer, in order."""
    return [m.weight.shape[0] for m in _check(model) if isinstance(m, _WEIGHTED)]


def _slice_layer(m: nn.Module, out_keep: torch.Tensor | None, in_keep: torch.Tensor | None) -> nn.Module:
    w = m.weight.detach()
    b = m.bias.detach() if m.bias is not None else None
    if out_keep is not None:
        w = w[out_keep]
        b = b[out_keep] if b is not None else None
    if in_keep is not None:
        w = w[:, in_keep]
    if isinstance(m, nn.Linear):
        new = nn.Linear(w.shape[1], w.shape[0], bias=b is not None, dtype=w.dtype)
    else:
        new = nn.Conv2d(
            w.shape[1],
            w.shape[0],
            m.kernel_size,
            m.stride,
            m.padding,
            m.dilation,
            bias=b is not None,
            padding_mode=m.padding_mode,
            dtype=w.dtype,
        )
    with torch.no_grad():
        new.weight.copy_(w)
        if b is not None:
            new.bias.copy_(b)
    return new


def prune_channels(
    model: nn.Sequential, sparsity: float, input_shape: tuple[int, ...] = (64,)
) -> nn.Sequential:
    """A smaller copy of ``model`` without the ``round(sparsity * c)`` weakest channels of each hidden layer.

    Parameters
    ----------
    model : ``nn.Sequential`` of Linear, Conv2d, ReLU, MaxPool2d, Flatten, ToImage
    sparsity : float in [0, 1), the fraction ``p`` of each hidden layer's channels removed
        (at least one channel always stays)
    input_shape : shape of one input (to find how Flatten lays out a convolution's channels)

    Returns a new ``nn.Sequential`` of the same layout with narrower dense layers. Its
    outputs equal those of ``model`` with the same channels' weights and biases set to zero.
    """
    model = _check(model)
    pruning._check_sparsity(sparsity)
    mods = list(model)
    weighted = [i for i, m in enumerate(mods) if isinstance(m, _WEIGHTED)]
    # spatial positions per channel where a Flatten follows a convolution
    with torch.no_grad():
        x = torch.zeros(1, *input_shape, dtype=mods[weighted[0]].weight.dtype)
        per_channel: dict[int, int] = {}
        for i, m in enumerate(mods):
            if isinstance(m, nn.Flatten) and x.dim() == 4:
                per_channel[i] = x.shape[2] * x.shape[3]
            x = m(x)
    out: list[nn.Module] = [copy.deepcopy(m) for m in mods]
    in_keep: torch.Tensor | None = None
    for pos, i in enumerate(weighted):
        m = mods[i]
        last = pos == len(weighted) - 1
        out_keep = None
        if not last:
            rows = m.weight.detach().reshape(m.weight.shape[0], -1)
            mask = pruning.channel_mask(rows, sparsity, axis=0)[:, 0]
            if not bool(mask.any()):
                mask[rows.norm(dim=1).argmax()] = True
            out_keep = mask
        out[i] = _slice_layer(m, out_keep, in_keep)
        in_keep = out_keep
        if in_keep is not None:
            nxt = weighted[pos + 1]
            flat = [j for j in per_channel if i < j < nxt]
            if flat:
                hw = per_channel[flat[0]]
                in_keep = in_keep.repeat_interleave(hw)
    return nn.Sequential(*out)


def count_macs(model: nn.Module, input_shape: tuple[int, ...] = (64,)) -> int:
    """Multiply-accumulates of one forward pass on one input of shape ``input_shape``
    (Linear: ``in * out``; Conv2d: ``out * (in / groups) * kh * kw`` per output position)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module; got {type(model).__name__}")
    if not isinstance(input_shape, tuple) or not all(isinstance(d, int) and d > 0 for d in input_shape):
        raise ValueError(f"input_shape must be a tuple of positive ints; got {input_shape!r}")
    total = 0

    def hook(m: nn.Module, _inp: object, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(m, nn.Linear):
            total += m.in_features * m.out_features
        elif isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            total += out.shape[1] * out.shape[2] * out.shape[3] * (m.in_channels // m.groups) * kh * kw

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _WEIGHTED)]
    try:
        dtype = next((p.dtype for p in model.parameters()), torch.get_default_dtype())
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, dtype=dtype))
    finally:
        for h in handles:
            h.remove()
    return total
