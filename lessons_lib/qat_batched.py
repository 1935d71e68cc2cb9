"""Many runs of 2-bit (or b-bit) quantization-aware training side by side, counting code flips.

Lesson 09's section 11 records, after every step of quantization-aware training (QAT), which
integer codes of the weights changed. Its one-run function ``qat_with_flips`` (in the notebook)
trains one MLP with the straight-through estimator (STE):

* every ``nn.Linear`` weight ``w`` (shape ``(out, in)``) is quantized per row with the symmetric
  quantizer of :func:`lessons_lib.quantization.quantize`: ``s = max_j |w_ij| / q_max``
  (``s = 1`` for an all-zero row), ``q = clamp(round(w / s), -q_max, q_max)``,
  ``q_max = 2^(b-1) - 1``, ``Q(w) = q s``;
* the layer computes ``h <- h Ŵ^T + bias`` with ``Ŵ = w + (Q(w) - w)``, whose value is ``Q(w)``
  and whose gradient goes to the latent ``w`` unchanged (the STE);
* SGD with momentum in PyTorch's buffer form: ``v <- g`` at the first step, ``v <- β v + g``
  after, ``p <- p - η v`` (``torch.optim.SGD``, dampening 0, no Nesterov, no weight decay).

:func:`qat_with_flips_many` runs ``K`` such runs at once: the weights of layer ``l`` are stacked
into ``(K, out, in)``, its biases into ``(K, 1, out)``, and one batched product per layer
(``torch.baddbmm``) computes the ``K`` forward passes. The backward pass is written out with the
products autograd uses for ``nn.Linear`` (the weight's gradient ``g^T h``, the input's ``g Ŵ``,
the bias's the sum of ``g`` over the minibatch), as :mod:`lessons_lib.batched_training` writes
them, so that each run rounds as it does alone. With one thread (as the lessons run) every run's
flips, accuracies and counts are bit for bit those of the one-run function
(``tests/test_qat_batched.py`` checks all 25 runs of the lesson's experiment); with more threads
a single run's product may split its sums differently from the batched one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from lessons_lib import _validate
from lessons_lib.batched_training import _layers, _per_model, mean_cross_entropy_grad
from lessons_lib.progress import progress as progress_bar
from lessons_lib.training import _unpack

__all__ = ["qat_with_flips_many"]

Run = tuple[np.ndarray, np.ndarray, torch.Tensor, torch.Tensor, int]


def qat_with_flips_many(
    starts: Sequence[nn.Sequential],
    data: Any,
    lrs: float | Sequence[float],
    momenta: float | Sequence[float],
    seeds: Sequence[int],
    *,
    bits: int = 2,
    epochs: int = 4,
    batch_size: int = 64,
    every_accuracy: Sequence[int] = (),
    progress: bool = True,
    desc: str | None = None,
) -> list[Run]:
    """``K`` QAT runs side by side, each as lesson 09's ``qat_with_flips`` runs it alone.

    Parameters
    ----------
    starts : sequence of ``K >= 1`` float MLPs (``nn.Sequential`` of ``nn.Linear`` with bias and
        ``nn.ReLU``, a ReLU between consecutive linear layers and none after the last), all of one
        shape, dtype and device; not modified (run ``k`` trains a copy of ``starts[k]``'s weights)
    data : :class:`lessons_lib.splits.DigitsSplits` or :class:`lessons_lib.data.DigitsSplit` (anything
        with ``X_train``, ``y_train``, ``X_test``, ``y_test``; the runs train on ``X_train`` alone);
        ``X`` of shape ``(n, in)`` in the networks' dtype
    lrs : η > 0, one number for all runs or one per run
    momenta : β in [0, 1), one number or one per run
    seeds : one int >= 0 per run: run ``k`` shuffles with ``torch.Generator().manual_seed(seeds[k])``
        and ``torch.randperm(n)`` every epoch
    bits : b in [2, 16], the quantizer's bits (``q_max = 2^(b-1) - 1``)
    epochs : int >= 1
    batch_size : int >= 1 (the last minibatch of an epoch holds the rest)
    every_accuracy : indices of the runs that record the test accuracy after every step; the
        others record it after the steps of the last epoch only
    progress : show a progress bar over the epochs
    desc : its label (default ``"{bits}-bit QAT, {K} runs side by side"``)

    Returns
    -------
    One tuple per run ``(flips, test_acc, changes, came_back, grid_moved)``:

    * ``flips`` : float array (epochs · steps per epoch,), per step the fraction of all weights'
      codes that changed;
    * ``test_acc`` : float array, the test accuracy of the quantized network ``Q(w)`` after each
      recorded step;
    * ``changes`` : int32 tensor (number of weights,), over the last epoch the number of code
      changes of every weight (layers' codes flattened row by row and concatenated);
    * ``came_back`` : bool tensor (number of weights,), which weights ended the last epoch on the
      code they started it with;
    * ``grid_moved`` : int, how many of the last epoch's code changes the previous step's scales
      would not have made (the grid moved, not the weight across it).
    """
    if isinstance(starts, nn.Module) or not isinstance(starts, Sequence) or len(starts) == 0:
        raise TypeError("starts must be a non-empty sequence (list or tuple) of nn.Sequential MLPs")
    starts = list(starts)
    K = len(starts)
    _, kinds = _layers(list({id(net): net for net in starts}.values()))  # a network may start several runs
    expected = ["relu" if j % 2 else "linear" for j in range(len(kinds))]
    if kinds != expected or len(kinds) % 2 == 0:
        raise ValueError("starts must be MLPs of nn.Linear layers (with bias) with one nn.ReLU between "
                         f"consecutive ones and none after the last; got the layers {kinds}")
    X, y, X_test, y_test = _unpack(data)
    if X_test is None:
        raise ValueError("data must hold a test part (X_test, y_test): the runs record test accuracies")
    dtype = starts[0][0].weight.dtype
    if X.dtype != dtype or X_test.dtype != dtype:
        raise ValueError(f"data must hold X_train and X_test in the networks' dtype {dtype}; got {X.dtype}")
    lr_list = _per_model(lrs, "lrs", K, 0.0, None, True, False)
    momentum_list = _per_model(momenta, "momenta", K, 0.0, 1.0, False, True)
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | range) or len(seeds) != K:
        raise ValueError(f"seeds must be a sequence of one int per run ({K}); got {seeds!r}")
    seeds = [_validate.integer(s, "seeds", 0, 2**63 - 1) for s in seeds]
    bits = _validate.integer(bits, "bits", 2, 16)
    epochs = _validate.integer(epochs, "epochs", 1, None)
    batch_size = _validate.integer(batch_size, "batch_size", 1, None)
    if isinstance(every_accuracy, str | bytes) or not isinstance(every_accuracy, Sequence | range):
        raise TypeError(f"every_accuracy must be a sequence of run indices; got {every_accuracy!r}")
    every_accuracy = sorted({_validate.integer(k, "every_accuracy", 0, K - 1) for k in every_accuracy})
    if desc is None:
        desc = f"{bits}-bit QAT, {K} runs side by side"

    n, q_max = len(y), 2 ** (bits - 1) - 1
    layers = [j for j, kind in enumerate(kinds) if kind == "linear"]  # ReLU between them
    W = [torch.stack([net[j].weight.detach() for net in starts]).contiguous() for j in layers]  # (K, out, in)
    b = [torch.stack([net[j].bias.detach() for net in starts]).unsqueeze(1) for j in layers]  # (K, 1, out)
    momentum = torch.tensor(momentum_list, dtype=dtype, device=W[0].device).view(K, 1, 1)
    # p + (-η) v rounds as torch.optim.SGD's p.add_(v, alpha=-η)
    step_size = -torch.tensor(lr_list, dtype=dtype, device=W[0].device).view(K, 1, 1)
    buffers: dict[int, torch.Tensor] = {}

    def quantize_rows(scales: list[torch.Tensor] | None = None):
        """Every run's codes (K, all weights), per-row scales and Q(w) per layer (on given scales if any)."""
        if scales is None:
            scales = [w.abs().amax(dim=2, keepdim=True) / q_max for w in W]
            scales = [torch.where(s == 0, 1.0, s) for s in scales]  # an all-zero row: code 0, scale 1
        q = [torch.clamp(torch.round(w / s), -q_max, q_max) for w, s in zip(W, scales, strict=True)]
        return (torch.cat([c.flatten(1) for c in q], dim=1).int(), scales,
                [c * s for c, s in zip(q, scales, strict=True)])

    def forward(h, w_ste, inputs=None, biases=b):
        """Logits (K, B, classes) of inputs (K, B, in); `inputs` collects each layer's input."""
        for i, (w, bias) in enumerate(zip(w_ste, biases, strict=True)):
            if inputs is not None:
                inputs.append(h)
            h = torch.baddbmm(bias, h, w.transpose(1, 2))
            h = torch.relu(h) if i < len(W) - 1 else h
        return h

    gens = [torch.Generator().manual_seed(s) for s in seeds]
    codes, scales, values = quantize_rows()
    flips: list[list[float]] = [[] for _ in range(K)]
    test_acc: list[list[float]] = [[] for _ in range(K)]
    X_test_k = X_test.unsqueeze(0).expand(K, -1, -1)
    epoch_iter = progress_bar(range(epochs), desc=desc) if progress else range(epochs)
    for epoch in epoch_iter:
        last_epoch = epoch == epochs - 1
        if last_epoch:
            epoch_start, changes = codes.clone(), torch.zeros_like(codes)
            grid_moved = torch.zeros(K, dtype=torch.long)
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (K, n)
        for start_idx in range(0, n, batch_size):
            idx = perms[:, start_idx:start_idx + batch_size]  # (K, B)
            w_ste = [w + (q - w) for w, q in zip(W, values, strict=True)]
            inputs: list[torch.Tensor] = []
            # d(mean cross-entropy)/dlogits, as nll_loss's and log_softmax's backward compute it
            _, g = mean_cross_entropy_grad(forward(X[idx], w_ste, inputs), y[idx].unsqueeze(2))
            grads = {}
            for i in range(len(W) - 1, -1, -1):
                grads[W[i]], grads[b[i]] = torch.bmm(g.transpose(1, 2), inputs[i]), g.sum(dim=1, keepdim=True)
                if i > 0:  # back through Ŵ and the ReLU (whose output is this layer's input)
                    g = torch.ops.aten.threshold_backward(torch.bmm(g, w_ste[i]), inputs[i], 0)
            for j, p in enumerate(t for pair in zip(W, b, strict=True) for t in pair):
                if j not in buffers:
                    buffers[j] = grads[p].clone()
                else:
                    buffers[j].mul_(momentum).add_(grads[p])  # v = β v + g
                p.addcmul_(buffers[j], step_size)  # w = w - η v
            new, new_scales, values = quantize_rows()
            changed = new != codes
            for k, count in enumerate(changed.sum(dim=1).tolist()):
                flips[k].append(count / codes.shape[1])
            if last_epoch:
                changes += changed
                grid_moved += (changed & (quantize_rows(scales)[0] == codes)).sum(dim=1)
            codes, scales = new, new_scales  # scales: the previous step's, at the next step
            runs = list(range(K)) if last_epoch else every_accuracy  # the runs that evaluate now
            if runs:
                w_ste = [(w + (q - w))[runs] for w, q in zip(W, values, strict=True)]
                right = (forward(X_test_k[runs], w_ste, biases=[bias[runs] for bias in b]).argmax(dim=2)
                         == y_test).sum(dim=1).tolist()
                for k, r in zip(runs, right, strict=True):
                    test_acc[k].append(r / len(y_test))
    return [(np.array(flips[k]), np.array(test_acc[k]), changes[k], codes[k] == epoch_start[k],
             int(grid_moved[k])) for k in range(K)]
