"""Weight sharing: a tensor's kept weights as a few shared values, and the model built from them.

Deep Compression's weight sharing (Han, Mao and Dally, ICLR 2016, section 3): the kept (unpruned)
entries of each weight tensor are clustered by a 1-D k-means (:func:`kmeans_1d`, linear
initialisation) into ``2^bits`` clusters, and every entry is replaced by its cluster's centroid,
stored as float16 (``method="kmeans"``); or by the nearest value of a uniform affine grid
(``method="linear"``). A tensor becomes a :class:`CompressedTensor`: positions of the kept entries,
one ``bits``-bit code each and the codebook; biases and other tensors stay :class:`RawTensor`.

:func:`compress_state` turns a model into these storage units (what
:func:`lessons_lib.model_file.save_compressed` writes), and :func:`quantize_pruned` gives the model
whose weights are exactly those a saved file reloads to.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lessons_lib import _validate

__all__ = [
    "CompressedTensor",
    "RawTensor",
    "kmeans_1d",
    "share_weights",
    "compress_state",
    "quantize_pruned",
]

METHODS = ("kmeans", "linear")


@dataclass(frozen=True)
class CompressedTensor:
    """One weight tensor as positions, codes and a codebook.

    shape : the tensor's shape
    positions : int64 (m,), sorted row-major flat indices of the stored entries
    codes : uint8 (m,), index into ``codebook`` of each stored entry
    codebook : float16 (2^bits,), the shared values

    The tensor is ``codebook[codes]`` at ``positions`` and 0 elsewhere.
    """

    shape: tuple[int, ...]
    positions: np.ndarray
    codes: np.ndarray
    codebook: np.ndarray

    @property
    def bits(self) -> int:
        return int(np.log2(self.codebook.size))

    def dense(self) -> np.ndarray:
        """The float32 array this unit stands for, of shape ``shape``."""
        out = np.zeros(int(np.prod(self.shape)), dtype=np.float32)
        out[self.positions] = self.codebook.astype(np.float32)[self.codes]
        return out.reshape(self.shape)


@dataclass(frozen=True)
class RawTensor:
    """A tensor stored entry by entry (float16, float32 or int64 values)."""

    shape: tuple[int, ...]
    values: np.ndarray

    def dense(self) -> np.ndarray:
        return self.values.reshape(self.shape)


def kmeans_1d(values: Any, k: int, iters: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means on a 1-D sample with linear initialisation.

    Centroids start evenly spaced between ``min`` and ``max`` (the initialisation
    Deep Compression found best: it keeps a few large weights represented). Each
    iteration assigns each value to its nearest centroid and moves every non-empty
    cluster's centroid to its mean. A cluster left empty (after pruning there are
    no small weights, so the centroids near 0 start empty) is moved onto the value
    worst served by its centroid, so all ``k`` codes get used. Stops when no
    assignment changes or after ``iters`` iterations. Deterministic.

    Returns ``(centroids (k,), labels (n,))`` with ``labels`` int64 in ``[0, k)``.
    """
    x = _validate.finite(values, "values").ravel()
    k = _validate.integer(k, "k", 1, 256)
    iters = _validate.integer(iters, "iters", 0, None)
    # The values never move: sort them once, and each assignment is a search of the k - 1
    # midpoints among the sorted values (the same labels as _nearest, in O(k log n + n)).
    x_order = np.argsort(x, kind="stable")
    x_sorted = x[x_order]

    def assign(centroids: np.ndarray) -> np.ndarray:
        order = np.argsort(centroids, kind="stable")
        c = centroids[order]
        mids = (c[1:] + c[:-1]) / 2  # non-decreasing, as c is
        # values <= mids[j] and > mids[j-1] go to the j-th smallest centroid (ties: the lower one)
        counts = np.diff(np.searchsorted(x_sorted, mids, side="right"), prepend=0, append=x.size)
        labels = np.empty(x.size, dtype=np.int64)
        labels[x_order] = np.repeat(order.astype(np.int64), counts)
        return labels

    centroids = np.linspace(x.min(), x.max(), k)
    labels = assign(centroids)
    for _ in range(iters):
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=x, minlength=k)
        nonempty = counts > 0
        centroids = centroids.copy()
        centroids[nonempty] = sums[nonempty] / counts[nonempty]
        empty = np.flatnonzero(~nonempty)
        if empty.size:
            err = (x - centroids[labels]) ** 2
            worst = np.argsort(-err, kind="stable")[: empty.size]
            worst = worst[err[worst] > 0]
            centroids[empty[: worst.size]] = x[worst]
        new = assign(centroids)
        if np.array_equal(new, labels):
            break
        labels = new
    return centroids, labels


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid for each value (ties: the lower index)."""
    order = np.argsort(centroids, kind="stable")
    c = centroids[order]
    mids = (c[1:] + c[:-1]) / 2
    return order[np.searchsorted(mids, x, side="left")].astype(np.int64)


def _check_bits(bits: object, name: str = "bits") -> int:
    return _validate.integer(bits, name, 2, 8)


def share_weights(w: Any, keep: Any | None, bits: int, method: str = "kmeans") -> CompressedTensor:
    """Codebook quantization of the kept entries of one tensor.

    Parameters
    ----------
    w : array/tensor, finite, any shape
    keep : boolean keep-mask of ``w``'s shape, or None to keep every nonzero entry
    bits : int in [2, 8], codebook of ``2^bits`` values
    method : ``"kmeans"`` (shared weights) or ``"linear"`` (uniform affine grid)

    Each kept entry becomes the codebook value (as float16) nearest to it (k-means:
    the centroid of its cluster).
    """
    if isinstance(w, torch.Tensor):
        w = w.detach().cpu().to(torch.float64).numpy()
    arr = _validate.finite(w, "w")
    bits = _check_bits(bits)
    method = _validate.one_of(method, "method", METHODS)
    if keep is None:
        keep_arr = arr != 0
    else:
        keep_arr = keep.detach().cpu().numpy() if isinstance(keep, torch.Tensor) else np.asarray(keep)
        if keep_arr.shape != arr.shape:
            raise ValueError(f"keep must have the shape of w {arr.shape}; got {keep_arr.shape}")
        keep_arr = keep_arr.astype(bool)
    positions = np.flatnonzero(keep_arr.ravel()).astype(np.int64)
    values = arr.ravel()[positions]
    k = 2**bits
    if values.size == 0:
        codebook = np.zeros(k)
    elif method == "kmeans":
        codebook, _ = kmeans_1d(values, k)
    else:
        lo, hi = min(values.min(), 0.0), max(values.max(), 0.0)
        step = (hi - lo) / (k - 1) if hi > lo else 1.0
        zero_point = np.round(-lo / step)
        codebook = (np.arange(k) - zero_point) * step
    codebook16 = codebook.astype(np.float16)
    codes = _nearest(values, codebook16.astype(np.float64)).astype(np.uint8)
    return CompressedTensor(tuple(arr.shape), positions, codes, codebook16)


def _check_model(model: object, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module; got {type(model).__name__}")
    return model


def _check_masks(model: nn.Module, masks: Mapping[str, Any] | None) -> dict[str, Any]:
    if masks is None:
        return {}
    if not isinstance(masks, Mapping):
        raise TypeError(f"masks must be a dict of name -> keep-mask; got {type(masks).__name__}")
    state = model.state_dict()
    for name, mask in masks.items():
        if name not in state:
            raise ValueError(f"masks has an unknown name {name!r}; known names are {list(state)}")
        if tuple(mask.shape) != tuple(state[name].shape):
            raise ValueError(
                f"masks[{name!r}] must have shape {tuple(state[name].shape)}; got {tuple(mask.shape)}"
            )
    return dict(masks)


def compress_state(
    model: nn.Module,
    masks: Mapping[str, Any] | None = None,
    bits: int = 4,
    *,
    bias_bits: int | None = None,
    method: str = "kmeans",
) -> dict[str, CompressedTensor | RawTensor]:
    """The storage units of every ``state_dict`` entry, in ``state_dict`` order.

    Floating tensors with two or more dimensions go through :func:`share_weights`
    with ``bits`` (kept entries: the mask's True entries if ``masks`` names the
    tensor, else its nonzero entries). One-dimensional floating tensors (biases) are
    float16, or shared weights with ``bias_bits`` if given. Other tensors are raw.
    """
    model = _check_model(model)
    masks = _check_masks(model, masks)
    bits = _check_bits(bits)
    if bias_bits is not None:
        bias_bits = _check_bits(bias_bits, "bias_bits")
    method = _validate.one_of(method, "method", METHODS)
    units: dict[str, CompressedTensor | RawTensor] = {}
    for name, t in model.state_dict().items():
        t = t.detach().cpu()
        if t.is_floating_point() and t.dim() >= 2:
            units[name] = share_weights(t, masks.get(name), bits, method)
        elif t.is_floating_point() and bias_bits is not None and t.numel() > 0:
            units[name] = share_weights(t, masks.get(name), bias_bits, method)
        elif t.is_floating_point():
            vals = t.numpy().astype(np.float16)
            if name in masks:
                vals = vals * _np_mask(masks[name])
            units[name] = RawTensor(tuple(t.shape), vals.ravel())
        else:
            units[name] = RawTensor(tuple(t.shape), t.numpy().astype(np.int64).ravel())
    return units


def _np_mask(mask: Any) -> np.ndarray:
    return (mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)).astype(bool)


def _load_units(template: nn.Module, units: Mapping[str, CompressedTensor | RawTensor]) -> nn.Module:
    """A deep copy of ``template`` holding the values of ``units``."""
    model = copy.deepcopy(template)
    state = model.state_dict()
    if list(units) != list(state):
        raise ValueError(f"model_template must have the state_dict entries {list(units)}; got {list(state)}")
    new_state = {}
    for name, unit in units.items():
        if tuple(unit.shape) != tuple(state[name].shape):
            raise ValueError(
                f"model_template entry {name!r} must have shape {unit.shape}; got {tuple(state[name].shape)}"
            )
        new_state[name] = torch.from_numpy(np.array(unit.dense())).to(state[name].dtype)
    model.load_state_dict(new_state)
    return model


def quantize_pruned(
    model: nn.Module,
    masks: Mapping[str, Any] | None = None,
    bits: int = 4,
    *,
    bias_bits: int | None = None,
    method: str = "kmeans",
) -> nn.Module:
    """A copy of ``model`` with exactly the weights :func:`save_compressed` stores."""
    units = compress_state(model, masks, bits, bias_bits=bias_bits, method=method)
    return _load_units(model, units)
