"""Magnitude pruning: keep-masks, applying them, and a mask-aware momentum step.

A *keep-mask* is a boolean array of a weight's shape: True keeps the weight, False
prunes it (sets it to 0). Magnitude pruning at sparsity ``s`` drops the
``k = round(s * n)`` entries of smallest ``|w|`` (Python's ``round``, half to even).
Ties are broken deterministically: entries are ranked by a *stable* sort of ``|w|``
over the row-major flat index, so among equal magnitudes the lower flat index is
dropped first. Global pruning ranks all tensors together in the order of the dict.

The momentum pitfall. PyTorch's SGD keeps a buffer ``b``::

    g = grad + weight_decay * w
    b = momentum * b + g                 (b = g on the first step)
    w = w - lr * b                       (nesterov: w - lr * (g + momentum * b))

Zeroing ``w`` once at pruned positions does not zero ``b`` there, nor the gradient,
so the next steps move the pruned weights away from 0 again ("revive" them). The
fix is to mask the gradient, the buffer and the weight at every step:
:func:`masked_momentum_step` writes it out, :class:`MaskedSGD` does it around
``torch.optim.SGD``.

Functions take NumPy arrays or torch tensors and return the same type.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from lessons_lib import _validate

__all__ = [
    "magnitude_mask",
    "global_magnitude_masks",
    "channel_mask",
    "prunable_weights",
    "apply_masks",
    "masks_like",
    "masked_momentum_step",
    "MaskedSGD",
    "count_revived",
    "zero_fraction",
]


def _check_sparsity(sparsity: object) -> float:
    """``sparsity`` must be a real number in [0, 1)."""
    message = f"sparsity must be a number in [0, 1); got {sparsity!r}"
    if isinstance(sparsity, bool | str | bytes) or sparsity is None:
        raise TypeError(message)
    try:
        value = float(sparsity)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise TypeError(message) from None
    if not (math.isfinite(value) and 0.0 <= value < 1.0):
        raise ValueError(message)
    return value


def _magnitudes(w: Any, name: str) -> np.ndarray:
    """``|w|`` as a float64 NumPy array; ``w`` finite and non-empty."""
    if isinstance(w, torch.Tensor):
        w = w.detach().cpu().to(torch.float64).numpy()
    return np.abs(_validate.finite(w, name))


def _like(mask: np.ndarray, w: Any) -> Any:
    """``mask`` as a torch bool tensor on ``w``'s device if ``w`` is a tensor."""
    if isinstance(w, torch.Tensor):
        return torch.from_numpy(mask).to(w.device)
    return mask


def _n_dropped(sparsity: float, n: int) -> int:
    return int(round(sparsity * n))


def magnitude_mask(w: Any, sparsity: float):
    """Keep-mask dropping the ``round(sparsity * w.size)`` smallest-magnitude entries.

    Parameters
    ----------
    w : array or tensor, any shape, finite, non-empty
    sparsity : float in [0, 1)

    Returns
    -------
    Boolean array (torch bool tensor for a tensor ``w``) of ``w``'s shape; exactly
    ``round(sparsity * w.size)`` entries are False. Ties go by flat index (lower
    index dropped first).
    """
    mag = _magnitudes(w, "w")
    sparsity = _check_sparsity(sparsity)
    flat = mag.ravel()
    keep = np.ones(flat.size, dtype=bool)
    keep[np.argsort(flat, kind="stable")[: _n_dropped(sparsity, flat.size)]] = False
    return _like(keep.reshape(mag.shape), w)


def _check_weights(weights: object) -> Mapping[str, Any]:
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a dict of name -> array; got {type(weights).__name__}")
    if len(weights) == 0:
        raise ValueError("weights must hold at least one tensor; got an empty dict")
    for key in weights:
        if not isinstance(key, str):
            raise TypeError(f"weights keys must be strings; got {key!r}")
    return weights


def global_magnitude_masks(weights: Mapping[str, Any], sparsity: float) -> dict[str, Any]:
    """Keep-masks for several tensors ranked together by magnitude.

    Parameters
    ----------
    weights : dict name -> array/tensor (e.g. :func:`prunable_weights` of a model)
    sparsity : float in [0, 1)

    Returns
    -------
    dict name -> keep-mask of that tensor's shape (and type). In total exactly
    ``round(sparsity * N)`` entries are False, ``N`` the number of all entries; the
    smallest magnitudes over all tensors go first, ties by dict order then flat index.
    """
    weights = _check_weights(weights)
    sparsity = _check_sparsity(sparsity)
    mags = {name: _magnitudes(w, f"weights[{name!r}]") for name, w in weights.items()}
    flat = np.concatenate([m.ravel() for m in mags.values()])
    keep = np.ones(flat.size, dtype=bool)
    keep[np.argsort(flat, kind="stable")[: _n_dropped(sparsity, flat.size)]] = False
    masks, start = {}, 0
    for name, m in mags.items():
        masks[name] = _like(keep[start : start + m.size].reshape(m.shape), weights[name])
        start += m.size
    return masks


def channel_mask(w: Any, sparsity: float, axis: int = 0):
    """Structured keep-mask removing whole channels of smallest L2 norm.

    Channel ``c`` is the slice ``w.take(c, axis)`` (an output row of a Linear weight
    for ``axis=0``, an output filter of a Conv weight). Its norm is
    ``sqrt(sum of squares over every other axis)``; the ``round(sparsity * n_channels)``
    channels of smallest norm are dropped (ties by lower index first).

    Returns a boolean mask of ``w``'s full shape (constant along every axis but
    ``axis``), a torch tensor if ``w`` is one.
    """
    mag = _magnitudes(w, "w")
    sparsity = _check_sparsity(sparsity)
    if mag.ndim == 0:
        raise ValueError("w must have at least one axis for channel pruning; got a scalar")
    axis = _validate.integer(axis, "axis")
    if not -mag.ndim <= axis < mag.ndim:
        raise ValueError(f"axis must be an integer in [{-mag.ndim}, {mag.ndim - 1}]; got {axis}")
    axis %= mag.ndim
    moved = np.moveaxis(mag, axis, 0).reshape(mag.shape[axis], -1)
    norms = np.sqrt(np.sum(moved**2, axis=1))
    keep_ch = np.ones(norms.size, dtype=bool)
    keep_ch[np.argsort(norms, kind="stable")[: _n_dropped(sparsity, norms.size)]] = False
    shape = [1] * mag.ndim
    shape[axis] = norms.size
    keep = np.broadcast_to(keep_ch.reshape(shape), mag.shape).copy()
    return _like(keep, w)


def prunable_weights(model: nn.Module) -> dict[str, nn.Parameter]:
    """The parameters of ``model`` with two or more dimensions (Linear/Conv weights), by name."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return {name: p for name, p in model.named_parameters() if p.dim() >= 2}


def _named_tensors(model_or_dict: object) -> Mapping[str, Any]:
    if isinstance(model_or_dict, nn.Module):
        return dict(model_or_dict.named_parameters())
    if isinstance(model_or_dict, Mapping):
        return model_or_dict
    raise TypeError(
        f"model_or_dict must be an nn.Module or a dict of name -> array; got {type(model_or_dict).__name__}"
    )


def masks_like(tensors: Mapping[str, Any], masks: object) -> dict[str, tuple[Any, Any]]:
    """Each mask of ``masks`` beside its tensor: ``{name: (tensor, mask as bool of the tensor's kind)}``.

    ``tensors``: ``{name: array or tensor}``; ``masks``: ``{name: boolean keep-mask of that tensor's
    shape}`` (a subset of the names). The mask comes back as a bool ``torch.Tensor`` on the tensor's
    device if the tensor is a ``torch.Tensor``, else as a bool ``np.ndarray``. ``TypeError`` if
    ``masks`` is not a dict; ``ValueError`` naming ``masks`` for an unknown name or a wrong shape.
    """
    if not isinstance(masks, Mapping):
        raise TypeError(f"masks must be a dict of name -> boolean mask; got {type(masks).__name__}")
    pairs = {}
    for name, mask in masks.items():
        if name not in tensors:
            raise ValueError(f"masks has an unknown name {name!r}; it must be one of {sorted(tensors)}")
        w = tensors[name]
        if tuple(mask.shape) != tuple(w.shape):
            raise ValueError(
                f"masks[{name!r}] must have the shape of the weight {tuple(w.shape)}; got {tuple(mask.shape)}"
            )
        pairs[name] = (w, _bool_like(mask, w))
    return pairs


def _bool_like(mask: Any, w: Any) -> Any:
    """``mask`` as a bool array/tensor of ``w``'s kind."""
    if isinstance(w, torch.Tensor):
        m = mask if isinstance(mask, torch.Tensor) else torch.from_numpy(np.asarray(mask))
        return m.to(device=w.device, dtype=torch.bool)
    m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    return m.astype(bool)


def apply_masks(model_or_dict: Any, masks: Mapping[str, Any]) -> Any:
    """Zero the pruned entries.

    An ``nn.Module`` is changed in place (its parameters named in ``masks`` are
    multiplied by their mask) and returned. A dict is not changed: a new dict is
    returned whose masked entries are ``w * mask`` and whose others are the same objects.
    Unknown names or a mask of the wrong shape raise ``ValueError``.
    """
    tensors = _named_tensors(model_or_dict)
    pairs = masks_like(tensors, masks)
    if isinstance(model_or_dict, nn.Module):
        with torch.no_grad():
            for w, mask in pairs.values():
                w.mul_(mask)
        return model_or_dict
    out = dict(tensors)
    for name, (w, mask) in pairs.items():
        out[name] = w * mask
    return out


def count_revived(model_or_dict: Any, masks: Mapping[str, Any]) -> int:
    """Number of pruned positions (mask False) whose weight is not zero."""
    pairs = masks_like(_named_tensors(model_or_dict), masks)
    total = 0
    for w, mask in pairs.values():
        total += int(((w != 0) & ~mask).sum())
    return total


def zero_fraction(model_or_dict: Any, names: list[str] | None = None) -> float:
    """Fraction of exactly-zero entries over the named tensors (all weights with ndim >= 2 by default)."""
    tensors = _named_tensors(model_or_dict)
    if names is None:
        names = [n for n, w in tensors.items() if len(w.shape) >= 2]
    unknown = [n for n in names if n not in tensors]
    if unknown:
        raise ValueError(f"names has an unknown name {unknown[0]!r}; known names are {sorted(tensors)}")
    zeros = sum(int((tensors[n] == 0).sum()) for n in names)
    total = sum(int(np.prod(tuple(tensors[n].shape))) for n in names)
    if total == 0:
        raise ValueError("names must select at least one entry; got none")
    return zeros / total


def _check_sgd_args(lr: float, momentum: float, weight_decay: float) -> None:
    _validate.in_range(lr, "lr", 0.0, None)
    _validate.in_range(momentum, "momentum", 0.0, 1.0, high_open=True)
    _validate.in_range(weight_decay, "weight_decay", 0.0, None)


def masked_momentum_step(
    param: Any,
    grad: Any,
    buf: Any | None,
    mask: Any,
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> tuple[Any, Any | None]:
    """One SGD-with-momentum step (PyTorch's form) that keeps pruned entries at zero.

    ::

        g   = mask * (grad + weight_decay * param)
        buf = g                      on the first step (buf is None)
        buf = mask * (momentum * buf + g)   afterwards
        d   = g + momentum * buf     if nesterov else buf   (d = g if momentum == 0)
        param = mask * (param - lr * d)

    On kept entries this is exactly ``torch.optim.SGD``; on pruned entries weight and
    buffer stay 0. Arrays or tensors of one shape; returns new ``(param, buf)``
    (``buf`` stays None when ``momentum == 0``).
    """
    _check_sgd_args(lr, momentum, weight_decay)
    for name, a in (("grad", grad), ("mask", mask)):
        if tuple(a.shape) != tuple(param.shape):
            raise ValueError(
                f"{name} must have the shape of param {tuple(param.shape)}; got {tuple(a.shape)}"
            )
    m = _bool_like(mask, param)
    g = (grad + weight_decay * param) * m
    if momentum == 0.0:
        return (param - lr * g) * m, buf
    if buf is None:
        buf = g
    else:
        if tuple(buf.shape) != tuple(param.shape):
            raise ValueError(f"buf must have the shape of param {tuple(param.shape)}; got {tuple(buf.shape)}")
        buf = (momentum * buf + g) * m
    d = g + momentum * buf if nesterov else buf
    return (param - lr * d) * m, buf


class MaskedSGD(torch.optim.SGD):
    """``torch.optim.SGD`` that keeps pruned weights and their momentum buffers at zero.

    Parameters
    ----------
    model : nn.Module whose parameters are optimized
    masks : dict parameter name -> keep-mask (e.g. from :func:`global_magnitude_masks`)
    lr, momentum, weight_decay, nesterov : as for ``torch.optim.SGD``

    The masks are applied to the weights at construction. Each :meth:`step` masks
    the gradients, runs the ordinary SGD step, then masks the weights and the
    momentum buffers, so kept entries follow exactly ``torch.optim.SGD`` and pruned
    entries stay 0 for ever.
    """

    def __init__(
        self,
        model: nn.Module,
        masks: Mapping[str, Any],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
        _check_sgd_args(lr, momentum, weight_decay)
        pairs = masks_like(dict(model.named_parameters()), masks)
        super().__init__(
            model.parameters(),
            lr=float(lr),
            momentum=float(momentum),
            weight_decay=float(weight_decay),
            nesterov=bool(nesterov),
        )
        self.masked = list(pairs.values())
        self.reapply()

    @torch.no_grad()
    def reapply(self) -> None:
        """Zero the pruned weights and their momentum buffers."""
        for p, m in self.masked:
            p.mul_(m)
            buf = self.state[p].get("momentum_buffer") if p in self.state else None
            if buf is not None:
                buf.mul_(m)

    def step(self, closure=None):  # type: ignore[override]
        with torch.no_grad():
            for p, m in self.masked:
                if p.grad is not None:
                    p.grad.mul_(m)
        loss = super().step(closure)
        self.reapply()
        return loss
