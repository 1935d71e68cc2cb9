"""Self-checks for lesson 07, weight pruning.

The checks name the usual slips: the kept count given for the dropped one, a drift
formula that includes the step before pruning or has the wrong sign, a Nesterov step
that forgets to mask the buffer, and a "sparse" model whose pruned weights came back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import pruning
from . import NotYet, number, passed


def dropped_count(answer: object) -> None:
    """Exercise 1: sparsity 0.9 on a 300 x 100 matrix drops round(0.9 * 30000) = 27000 weights."""
    number(
        answer, 27000.0, what="the number of weights set to zero",
        hint="k = round(sparsity * n) with n = 300 * 100 entries.",
        rtol=0.0,
        mistakes={
            "kept": (3000.0, "3,000 is the number of weights kept; sparsity is the fraction dropped."),
            "rows": (270.0, "sparsity counts entries of the matrix, not rows."),
            "cols": (90.0, "sparsity counts entries of the matrix, not columns."),
        },
    )


def drift_limit(answer: object) -> None:
    """Exercise 2: b0 = 0.02, lr = 0.1, momentum 0.9: w -> -lr * b0 * beta / (1 - beta) = -0.018."""
    lr, beta, b0 = 0.1, 0.9, 0.02
    number(
        answer, -lr * b0 * beta / (1 - beta), what="the limit of the pruned weight",
        hint="after k steps the buffer is beta^k * b0, so the weight moves by "
             "-lr * b0 * (beta + beta^2 + ...), a geometric series.",
        rtol=1e-6,
        mistakes={
            "sign": (lr * b0 * beta / (1 - beta), "the step is w - lr * b, and b stays positive: the "
                                                  "weight moves in the negative direction."),
            "from_zero": (-lr * b0 / (1 - beta), "that sums beta^k from k = 0; the first step after "
                                                 "pruning already multiplies the buffer by beta once."),
            "one_step": (-lr * b0 * beta, "that is only the first step; the buffer keeps pushing, "
                                          "shrinking by beta each time."),
            "no_lr": (-b0 * beta / (1 - beta), "the learning rate multiplies every step."),
        },
    )


def _nesterov_reference(param, grad, buf, mask, lr, momentum, weight_decay):
    p, b = pruning.masked_momentum_step(param, grad, buf, mask, lr, momentum, weight_decay, nesterov=True)
    return p, b


def nesterov_step(candidate: Callable[..., object]) -> None:
    """Exercise 3: the masked Nesterov step against ``pruning.masked_momentum_step(nesterov=True)``."""
    if not callable(candidate):
        raise NotYet(f"masked_nesterov_step should be a function; got {type(candidate).__name__}.")
    rng = np.random.default_rng(7)
    shape = (6, 5)
    mask = rng.random(shape) > 0.6
    p_you = rng.normal(size=shape)
    p_you[~mask] = 0.0
    b_you = None
    lr, mu, wd = 0.1, 0.9, 0.01
    for step in range(6):
        grad = rng.normal(size=shape)
        p_plain, _ = pruning.masked_momentum_step(p_you, grad, b_you, mask, lr, mu, wd, nesterov=False)
        p_ref, b_ref = _nesterov_reference(p_you, grad, b_you, mask, lr, mu, wd)
        buf_in = None if b_you is None else b_you.copy()
        result = candidate(p_you.copy(), grad.copy(), buf_in, mask, lr, mu, wd)
        if not isinstance(result, tuple) or len(result) != 2:
            raise NotYet("return a pair (param, buf). Hint: `return new_param, new_buf`.")
        p_you, b_you = (np.asarray(r, dtype=float) for r in result)
        if p_you.shape != shape or b_you.shape != shape:
            raise NotYet(f"param and buf should keep the shape {shape}; got {p_you.shape} and {b_you.shape}.")
        if np.any(b_you[~mask] != 0):
            raise NotYet(f"after step {step + 1} the buffer is nonzero at pruned positions: it would push "
                         "the pruned weights on the next step. Hint: multiply the buffer by the mask too.")
        if np.any(p_you[~mask] != 0):
            raise NotYet(f"after step {step + 1} a pruned weight is nonzero. Hint: multiply the gradient "
                         "(after adding weight decay) and the new weight by the mask.")
        if not np.allclose(b_you, b_ref, rtol=1e-12, atol=1e-15):
            raise NotYet(f"the buffer differs from PyTorch's after step {step + 1}. Hint: b = g on the "
                         "first step (buf is None), b = momentum * b + g afterwards, with "
                         "g = grad + weight_decay * param.")
        if not np.allclose(p_you, p_ref, rtol=1e-12, atol=1e-15):
            if np.allclose(p_you, p_plain, rtol=1e-12, atol=1e-15):
                raise NotYet(f"step {step + 1} is the heavy-ball step w - lr * b, not Nesterov's. Hint: "
                             "Nesterov steps along g + momentum * b (with the new buffer b).")
            raise NotYet(f"the weights differ from PyTorch's Nesterov step after step {step + 1}. Hint: "
                         "w - lr * (g + momentum * b), masked.")
    passed("6 masked Nesterov steps agree with PyTorch's form on the kept weights; pruned weights and "
           "their buffer stay exactly 0.")


def sparse_and_accurate(
    model: object,
    masks: Mapping[str, Any] | None,
    dense_accuracy: float,
    min_sparsity: float = 0.9,
    max_drop_pt: float = 1.5,
) -> None:
    """Exercise 4: a pruned, fine-tuned digits MLP with sparsity >= min_sparsity within max_drop_pt."""
    from ..data import load_digits_split
    from ..training import accuracy

    if not isinstance(model, nn.Module):
        raise NotYet(f"pass your pruned model (an nn.Module); got {type(model).__name__}.")
    if not isinstance(masks, Mapping) or not masks:
        raise NotYet("pass the dict of keep-masks you pruned with (name -> boolean tensor).")
    weights = pruning.prunable_weights(model)
    missing = [n for n in weights if n not in masks]
    if missing:
        raise NotYet(f"the masks leave {missing} unpruned; prune every weight matrix "
                     "(global_magnitude_masks of pruning.prunable_weights(model)).")
    kept = sum(int(torch.as_tensor(masks[n]).sum()) for n in weights)
    total = sum(w.numel() for w in weights.values())
    sparsity = 1 - kept / total
    if sparsity < min_sparsity - 1e-9:
        raise NotYet(f"your masks prune {100 * sparsity:.1f} % of the weights; at least "
                     f"{100 * min_sparsity:.0f} % is asked. Hint: the last round of your schedule should "
                     "reach the target.")
    revived = pruning.count_revived(model, {n: masks[n] for n in weights})
    if revived:
        raise NotYet(f"{revived} pruned weights are nonzero: the model is not as sparse as its masks say. "
                     "Hint: fine-tune with masks=... (MaskedSGD) so that weights and buffers stay at 0.")
    data = load_digits_split(seed=0)
    acc = accuracy(model, data.X_test, data.y_test)
    drop = 100 * (float(dense_accuracy) - acc)
    if drop > max_drop_pt + 1e-9:
        raise NotYet(f"test accuracy {100 * acc:.2f} % is {drop:.2f} points below the dense model; at most "
                     f"{max_drop_pt:g} is asked. Hint: prune in more rounds, or fine-tune longer at a "
                     "smaller lr.")
    passed(f"{100 * sparsity:.1f} % of the weights pruned and none revived; test accuracy {100 * acc:.2f} %, "
           f"{drop:.2f} points from the dense model.")
