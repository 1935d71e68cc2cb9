"""The compression pipeline: prune, fine-tune, share weights, store, load back and measure.

:func:`compression_experiment` runs the whole of lesson 11's pipeline on the digits (dense
training, global magnitude pruning in rounds with distilled fine-tuning, dead units removed,
k-means weight sharing, the file written and read back) and reports sizes and accuracies;
:func:`remove_dead_units` is its exact clean-up step. The parts live in
:mod:`lessons_lib.weight_sharing` (codebooks) and :mod:`lessons_lib.model_file` (the bytes).
"""

from __future__ import annotations

import copy
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from lessons_lib import _validate
from lessons_lib.model_file import float32_size_bytes, load_compressed, save_compressed
from lessons_lib.weight_sharing import _check_bits, _check_masks, _np_mask

__all__ = ["remove_dead_units", "CompressionResult", "compression_experiment"]


def remove_dead_units(model: nn.Sequential, masks: Mapping[str, Any]) -> dict[str, Any]:
    """Prune what no longer matters in an MLP ``Linear -> ReLU -> ... -> Linear``.

    A hidden unit whose outgoing weights are all pruned cannot affect the output:
    its incoming row and its bias are pruned too (set to zero here, and the row
    dropped from the returned masks). Exact: the model's outputs do not change.
    Returns the updated masks (torch bool tensors); changes ``model`` in place.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential MLP; got {type(model).__name__}")
    masks = _check_masks(model, masks)
    linears = [(i, m) for i, m in enumerate(model) if isinstance(m, nn.Linear)]
    new = {
        k: (v.clone() if isinstance(v, torch.Tensor) else torch.from_numpy(_np_mask(v)))
        for k, v in masks.items()
    }
    with torch.no_grad():
        for (i, layer), (j, nxt) in zip(linears[-2::-1], linears[:0:-1], strict=True):
            out_mask = new.get(f"{j}.weight", nxt.weight != 0)
            dead = ~(out_mask & (nxt.weight != 0)).any(dim=0)
            name = f"{i}.weight"
            keep = new.get(name, torch.ones_like(layer.weight, dtype=torch.bool))
            keep = keep & ~dead[:, None]
            new[name] = keep
            layer.weight.mul_(keep)
            if layer.bias is not None:
                layer.bias.masked_fill_(dead, 0.0)
    return new


@dataclass(frozen=True)
class CompressionResult:
    """Numbers of one run of :func:`compression_experiment` (accuracies in [0, 1]), and its dense network.

    ``*_accuracy`` are on the test part (read once, for reporting); ``*_val_accuracy`` on the
    validation part, the one a choice made from these runs (a right-sized baseline) may look at.
    ``dense``: the dense network after its training, before pruning (a deep copy taken then: the teacher
    the fine-tuning distils from when ``distill=True``), in eval mode, for a comparison that needs it
    (``benchmarks/run.py`` distils small networks from it). It is the result's own object, not a copy:
    training it changes it for every holder of the result. Left out of ``repr``, equality and hashing;
    ``dataclasses.asdict`` deep-copies it and ``astuple`` carries it as its last item."""

    dense_accuracy: float
    pruned_accuracy: float
    compressed_accuracy: float
    dense_val_accuracy: float
    compressed_val_accuracy: float
    float32_bytes: int
    compressed_bytes: int
    sparsity: float
    bits: int
    seconds: float
    dense: nn.Module = field(repr=False, compare=False)

    @property
    def ratio(self) -> float:
        return self.float32_bytes / self.compressed_bytes

    @property
    def accuracy_drop(self) -> float:
        """Dense minus compressed accuracy, in percentage points."""
        return 100.0 * (self.dense_accuracy - self.compressed_accuracy)


def compression_experiment(
    seed: int = 0,
    progress: bool = False,
    *,
    hidden: tuple[int, ...] = (300, 100),
    schedule: tuple[float, ...] = (0.5, 0.75, 0.875, 0.94, 0.96),
    bits: int = 5,
    dense_epochs: int = 30,
    finetune_epochs: int = 10,
    bias_bits: int | None = None,
    distill: bool = True,
    path: str | os.PathLike | None = None,
) -> CompressionResult:
    """Prune, fine-tune, quantize and store a digits MLP; report sizes and accuracies.

    1. train a dense MLP ``64 -> hidden -> 10`` (LeNet-300-100's shape by default)
       with SGD and momentum;
    2. for each sparsity in ``schedule``: global magnitude pruning of the weight
       matrices, then fine-tuning with :class:`~lessons_lib.pruning.MaskedSGD`,
       distilling from the dense model (``distill=True``; alpha 0.9, T = 4);
    3. drop dead hidden units, k-means weight sharing with ``bits`` per weight;
    4. save the compressed file, load it back into a fresh model and measure it.

    The data are ``splits.load_digits_splits(seed=seed)``: trained on its training part (1,077
    images) alone, measured on its validation (270) and test (450) parts. Every setting above is
    fixed in advance, none tuned on either part.
    """
    from lessons_lib.models import mlp
    from lessons_lib.pruning import global_magnitude_masks, prunable_weights
    from lessons_lib.splits import load_digits_splits
    from lessons_lib.training import accuracy, train

    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    bits = _check_bits(bits)
    for s in schedule:
        _validate.in_range(s, "schedule", 0.0, 1.0, high_open=True)
    start = time.perf_counter()
    splits = load_digits_splits(seed=seed)
    data = (splits.X_train, splits.y_train)
    model = mlp(hidden, seed=seed)
    kw = dict(lr=0.05, momentum=0.9, batch_size=32, progress=progress, evaluate=())
    train(model, data, epochs=dense_epochs, seed=seed, desc="dense", **kw)
    dense_acc = accuracy(model, splits.X_test, splits.y_test)
    dense_val = accuracy(model, splits.X_val, splits.y_val)
    f32 = float32_size_bytes(model)

    teacher = copy.deepcopy(model)
    masks: dict[str, Any] = {}
    for r, s in enumerate(schedule):
        masks = global_magnitude_masks(prunable_weights(model), s)
        train(
            model,
            data,
            epochs=finetune_epochs,
            seed=seed + 1 + r,
            masks=masks,
            teacher=teacher if distill else None,
            desc=f"prune {s:.3f}",
            **kw,
        )
    masks = remove_dead_units(model, masks)
    pruned_acc = accuracy(model, splits.X_test, splits.y_test)

    with tempfile.TemporaryDirectory() as tmp:
        file = path if path is not None else os.path.join(tmp, "model.llc")
        n_bytes = save_compressed(model, file, masks, bits, bias_bits=bias_bits)
        reloaded = load_compressed(file, mlp(hidden))
    comp_acc = accuracy(reloaded, splits.X_test, splits.y_test)
    comp_val = accuracy(reloaded, splits.X_val, splits.y_val)
    kept = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    return CompressionResult(
        dense_accuracy=dense_acc,
        pruned_accuracy=pruned_acc,
        compressed_accuracy=comp_acc,
        dense_val_accuracy=dense_val,
        compressed_val_accuracy=comp_val,
        float32_bytes=f32,
        compressed_bytes=n_bytes,
        sparsity=1.0 - kept / total,
        bits=bits,
        seconds=time.perf_counter() - start,
        dense=teacher.train(False),
    )
