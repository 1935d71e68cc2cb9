"""Train many small MLPs of one shape at once, with the same results as :func:`training.train`.

:func:`train_many` takes ``K`` multilayer perceptrons (``nn.Sequential`` of ``nn.Linear`` and
``nn.ReLU`` layers, all of the same shapes) and trains them together: the weights of layer
``l`` are stacked into one ``(K, out, in)`` tensor and its biases into ``(K, 1, out)``, and one
batched matrix product (``torch.baddbmm``) per layer computes all ``K`` forward passes,

    h_k <- h_k W_k^T + b_k        for every model k at once, h of shape (K, B, in).

Each model keeps everything :func:`lessons_lib.training.train` would give it on its own:

* its own data order: model ``k``'s shuffles come from ``torch.Generator().manual_seed(seeds[k])``
  and ``torch.randperm`` exactly as in ``train``, so its minibatches are the same rows;
* its own loss: the cross-entropy averaged over its own minibatch, ``L_k = mean_i CE(z_ki, y_ki)``;
  the models share no parameter, so the gradient of ``sum_k L_k`` with respect to model ``k``'s
  weights is the gradient of ``L_k`` alone;
* its own SGD with momentum in PyTorch's buffer form, with its own ``lr_k`` (η), ``momentum_k`` (β)
  and ``weight_decay_k`` (ω): ``g <- g + ω p``, ``v <- g`` at the first step and ``v <- β v + g``
  after, then ``p <- p - η v`` (``torch.optim.SGD`` with dampening 0, no Nesterov).

A step costs about as much as one model's step, since the per-step cost of such small networks
is mostly Python and dispatch overhead (lesson 14's 25 runs: 7.5 s one by one, 1.4 s together).
The forward and backward passes are written out with the products ``nn.Linear`` and its autograd
use (``x W^T`` through the transposed view, ``g^T x``, ``g W``, the bias gradient summed over the
batch), the loss's gradient as ``nll_loss`` and ``log_softmax`` pass it back, and the loss value
by ``nll_loss`` itself (with a teacher, the distilled loss and its gradient as autograd computes them
for ``train``: :func:`_distilled_loss_grad`); with one thread (as the lessons run) the weights, losses
and accuracies come out bit for bit as ``train``'s, in float32 and float64. With more threads a single model's
matrix product may split its sums differently from the batched one (the batched product
parallelises over the models), so the two can differ in the last bits; the tests require at
most 1e-12 in float64.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from lessons_lib import _validate
from lessons_lib.progress import progress as progress_bar
from lessons_lib.pruning import MaskedSGD, masks_like
from lessons_lib.training import (
    History,
    _holding,
    _sgd_holding,
    _teacher_log_probs,
    _unpack,
)

__all__ = ["train_many"]


def _per_model(value: object, name: str, k: int, low: float, high: float | None,
               low_open: bool, high_open: bool) -> list[float]:
    """``value`` (one number or one per model) as a list of ``k`` floats in the stated range."""
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a number or a sequence of {k} numbers; got {value!r}")
    arr = _validate.in_range(value, name, low, high, low_open=low_open, high_open=high_open)
    if arr.ndim == 0:
        return [float(arr)] * k
    if arr.ndim != 1 or arr.shape[0] != k:
        raise ValueError(f"{name} must be one number or one per model ({k}); got shape {arr.shape}")
    return [float(v) for v in arr]


def _layers(models: object) -> tuple[list[nn.Sequential], list[str]]:
    """The models as a list, and their common layer pattern ("linear" / "relu" per layer)."""
    if isinstance(models, nn.Module) or not isinstance(models, Sequence):
        raise TypeError("models must be a sequence (list or tuple) of nn.Sequential MLPs")
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model; got an empty sequence")
    kinds: list[str] | None = None
    shapes: list[tuple[tuple[int, ...], ...]] | None = None
    seen: set[int] = set()
    for i, model in enumerate(models):
        if not isinstance(model, nn.Sequential):
            raise TypeError(f"models[{i}] must be an nn.Sequential; got {type(model).__name__}")
        these, dims = [], []
        for layer in model:
            if isinstance(layer, nn.Linear):
                these.append("linear" if layer.bias is not None else "linear_nobias")
                dims.append(tuple(layer.weight.shape))
            elif isinstance(layer, nn.ReLU):
                these.append("relu")
                dims.append(())
            else:
                raise ValueError(
                    f"models must hold only nn.Linear and nn.ReLU layers; models[{i}] has "
                    f"{type(layer).__name__}")
        if "linear" not in these and "linear_nobias" not in these:
            raise ValueError(f"models must have at least one nn.Linear layer; models[{i}] has none")
        if kinds is None:
            kinds, shapes = these, dims
        elif these != kinds or dims != shapes:
            raise ValueError(f"models must all have the same layers and shapes; models[{i}] differs "
                             "from models[0]")
        for p in model.parameters():
            if id(p) in seen:
                raise ValueError(f"models must not share parameters; models[{i}] shares one with an "
                                 "earlier model")
            seen.add(id(p))
    params = [p for m in models for p in m.parameters()]
    if len({(p.dtype, p.device) for p in params}) != 1:
        raise ValueError("models must all have the same dtype and device")
    return models, kinds


def _stacked_masks(models: list[nn.Sequential], masks: object) -> list[torch.Tensor | None]:
    """Per parameter (in ``model.parameters()`` order) the models' keep-masks stacked, or None."""
    names = [name for name, _ in models[0].named_parameters()]
    if masks is None:
        return [None] * len(names)
    if isinstance(masks, Mapping | str) or not isinstance(masks, Sequence) or len(masks) != len(models):
        raise ValueError(f"masks must be None or a sequence of one dict (or None) per model ({len(models)})")
    per_model = []
    for model, model_masks in zip(models, masks, strict=True):
        tensors = dict(model.named_parameters())
        pairs = {} if model_masks is None else masks_like(tensors, model_masks)
        per_model.append({name: mask for name, (_, mask) in pairs.items()})
    out: list[torch.Tensor | None] = []
    for name, (_, p) in zip(names, models[0].named_parameters(), strict=True):
        if not any(name in m for m in per_model):
            out.append(None)
            continue
        every = torch.ones(p.shape, dtype=torch.bool, device=p.device)
        stacked = torch.stack([m.get(name, every) for m in per_model])
        out.append(stacked.unsqueeze(1) if p.dim() == 1 else stacked)
    return out


class StackedMLP:
    """``K`` same-shaped MLPs as one batched network, each model's numbers rounded as in its own run.

    Weights are stacked ``(K, out, in)`` and biases ``(K, 1, out)`` (copies of the models'
    tensors, in ``model.parameters()`` order: :attr:`parameters`). :meth:`forward` takes inputs
    ``(K, B, in)`` to logits ``(K, B, classes)``; :meth:`backward` gives the stacked parameters'
    gradients from ``dL/dlogits``. Both use the products ``nn.Linear``'s do (``x W^T`` through the
    transposed view; ``W``'s gradient as ``g^T x``; ``x``'s as ``g W``), so with one thread every
    model's numbers come out bit for bit as in its own run.
    """

    def __init__(self, models: list[nn.Sequential], kinds: list[str]) -> None:
        self.layers: list[tuple[str, torch.Tensor | None, torch.Tensor | None]] = []
        with torch.no_grad():
            for j, kind in enumerate(kinds):
                if kind == "relu":
                    self.layers.append((kind, None, None))
                    continue
                w = torch.stack([m[j].weight.detach() for m in models]).contiguous()
                b = None
                if kind == "linear":
                    b = torch.stack([m[j].bias.detach() for m in models]).unsqueeze(1)
                self.layers.append((kind, w, b))
        self.parameters = [t for _, w, b in self.layers for t in (w, b) if t is not None]

    def forward(self, h: torch.Tensor, keep: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Logits (K, B, classes) of inputs (K, B, in); ``keep`` collects each layer's input."""
        for kind, w, b in self.layers:
            if keep is not None:
                keep.append(h)
            if kind == "relu":
                h = torch.relu(h)
            elif b is None:
                h = torch.bmm(h, w.transpose(1, 2))
            else:
                h = torch.baddbmm(b, h, w.transpose(1, 2))
        return h

    def backward(self, g: torch.Tensor, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Gradients of :attr:`parameters` from ``g = dL/dlogits``; ``inputs``: :meth:`forward`'s
        ``keep`` with the logits appended."""
        grads: list[torch.Tensor] = []
        for j in range(len(self.layers) - 1, -1, -1):
            kind, w, b = self.layers[j]
            if kind == "relu":
                g = torch.ops.aten.threshold_backward(g, inputs[j + 1], 0)  # ReLU's output, as autograd
                continue
            if b is not None:
                grads.append(g.sum(dim=1, keepdim=True))
            grads.append(torch.bmm(g.transpose(1, 2), inputs[j]))
            if j > 0:
                g = torch.bmm(g, w)
        grads.reverse()
        return grads

    def write_back(self, models: list[nn.Sequential]) -> None:
        """Copy each model's block of the stacked parameters into the model."""
        with torch.no_grad():
            for m, model in enumerate(models):
                for p, s in zip(model.parameters(), self.parameters, strict=True):
                    p.copy_(s[m].reshape(p.shape))


def mean_cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor,
                            weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log_softmax(logits), d(weight * mean cross-entropy)/dlogits)`` per model, for logits
    ``(K, B, classes)`` and targets ``(K, B, 1)``, as ``nll_loss``'s and ``log_softmax``'s backward passes
    compute them from the loss's gradient ``weight`` (1, or a distilled loss's ``1 - alpha``)."""
    logp = torch.log_softmax(logits, dim=2)
    # -weight/B in the models' dtype, rounded as nll_loss's backward rounds it (1 * weight is exact)
    fill = float(-((torch.ones((), dtype=logp.dtype) * weight) / target.shape[1]))
    dlogp = torch.zeros_like(logp).scatter_(2, target, fill)
    return logp, torch._log_softmax_backward_data(dlogp, logp, 2, logp.dtype)


def _distilled_loss_grad(logits: torch.Tensor, target: torch.Tensor, teacher_logp: torch.Tensor, alpha: float,
                         T: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(losses (K,), dlosses/dlogits (K, B, classes))`` of ``train``'s distilled loss, model by model,

        L_k = (1 - alpha) CE(z_k, y_k) + alpha T^2 KL(softmax(t_k / T) || softmax(z_k / T)),

    the KL term summed over the minibatch and divided by its size B (``reduction="batchmean"``), for
    logits ``z`` (K, B, classes), targets (K, B, 1) and the teachers' ``log_softmax(t / T)`` (K, B,
    classes). Autograd's own operations, written out: ``kl_div`` with a log target is
    ``exp(t') (t' - s)`` summed, so its gradient with respect to ``s = log_softmax(z / T)`` is
    ``-(alpha T^2 / B) exp(t')``, passed back through ``log_softmax`` and the division by T; the
    cross-entropy's is ``-(1 - alpha) / B`` at each target, passed back through ``log_softmax``; the
    two are added. Each scalar factor is rounded as autograd rounds it, ``exp`` runs on a fresh copy
    of each model's own (B, classes) block, as ``train`` runs it on its minibatch's rows of the
    teacher's table, a fresh tensor (a vectorised ``exp`` may round the last elements of a block
    otherwise), and each loss is summed over its model's block alone, so that the losses and gradients
    are bit for bit those of ``train``'s ``loss.backward()`` (the tests compare them, in float32 and
    float64) but for the sign of a zero:
    the K gradients are added into one tensor of zeros, as ``train_many`` did when autograd computed
    them from one stacked leaf, so a -0 that ``train`` gives (logits far apart, the tests find some)
    comes out as +0 (with K = 1 nothing was added, and nothing is). The fresh copy before ``exp`` is
    a precaution: no difference from ``exp`` on the block itself has been seen."""
    k, batch = logits.shape[:2]
    one = torch.ones((), dtype=logits.dtype)
    logp, ce_grad = mean_cross_entropy_grad(logits, target, 1 - alpha)
    s = torch.log_softmax(logits / T, dim=2)
    e = torch.stack([teacher_logp[m].clone().exp() for m in range(k)])
    kl_terms = e * (teacher_logp - s)
    ce = torch.stack([nn.functional.nll_loss(logp[m], target[m, :, 0]) for m in range(k)])
    kl = torch.stack([kl_terms[m].sum() for m in range(k)]) / batch
    losses = (1 - alpha) * ce + alpha * ((T * T) * kl)
    ds = -(e * (((one * alpha) * (T * T)) / batch))
    grad = ce_grad + torch._log_softmax_backward_data(ds, s, 2, s.dtype) / T
    # as autograd added the K models' gradients from one stacked leaf (train_many before this function):
    # into one (K, B, classes) tensor of zeros, which turns -0 into +0
    return losses, grad + 0.0 if k > 1 else grad


def train_many(
    models: Sequence[nn.Sequential],
    data: Any,
    *,
    epochs: int = 20,
    lr: float | Sequence[float] = 0.1,
    momentum: float | Sequence[float] = 0.9,
    batch_size: int = 64,
    weight_decay: float | Sequence[float] = 0.0,
    seeds: Sequence[int],
    masks: Sequence[Mapping[str, Any] | None] | None = None,
    evaluate: tuple[str, ...] | list[str] = ("train", "test"),
    progress: bool = True,
    desc: str = "train",
    teacher: nn.Module | Sequence[nn.Module] | None = None,
    alpha: float = 0.9,
    temperature: float = 4.0,
) -> list[History]:
    """Train ``K`` same-shaped MLPs together, each as ``training.train`` would train it alone.

    Parameters
    ----------
    models : sequence of ``K >= 1`` ``nn.Sequential`` of ``nn.Linear`` / ``nn.ReLU`` layers with the
        same layer shapes, dtype and device and no shared parameters; trained in place (their
        initial weights are the starting points)
    data : :class:`lessons_lib.data.DigitsSplit` (or anything with ``X_train``, ``y_train`` and
        optionally ``X_test``, ``y_test``), or a tuple ``(X, y)``, as for ``training.train``;
        ``X`` of shape ``(n, in)`` in the models' dtype
    epochs : int >= 1
    lr : η > 0, one number for all models or a sequence of ``K``
    momentum : β in [0, 1), one number or a sequence of ``K``
    batch_size : int >= 1 (the last minibatch of an epoch holds the ``n mod batch_size`` rest)
    weight_decay : ω >= 0, one number or a sequence of ``K``, added to the gradient as in
        ``torch.optim.SGD``: ``g <- g + ω p`` before the momentum update
    seeds : sequence of ``K`` ints >= 0; model ``k`` sees the shuffles of ``train(seed=seeds[k])``
    masks : optional sequence of ``K`` dicts (parameter name -> keep-mask) or None, as
        ``train(masks=...)`` takes them: model ``k`` then trains as with
        :class:`lessons_lib.pruning.MaskedSGD` (weights masked at the start; every step masks the
        gradient, steps, then masks the weights and the momentum buffer)
    evaluate : subset of ``("train", "test")``: which per-epoch accuracies to record
    progress : show a progress bar over the epochs
    desc : label of the progress bar
    teacher : optional model to distil from, one for all models or a sequence of ``K`` (model ``k``
        learns from ``teacher[k]``), as ``train(teacher=...)``: model ``k``'s loss becomes
        ``(1 - alpha) * CE(z, y) + alpha * T^2 * KL(softmax(t / T) || softmax(z / T))``. Each
        model's loss and its gradient with respect to its logits are then those autograd computes
        from that model's logits alone in ``train``, written out (:func:`_distilled_loss_grad`); each
        teacher's outputs on the training rows are computed once, before the first step, as ``train``
        computes them (:func:`lessons_lib.training._teacher_log_probs` says which teachers that suits),
        and model ``k`` takes its own minibatch's rows of ``teacher[k]``'s (a teacher may be one of
        the models: the models' own parameters change only when training ends); everything else
        stays batched.
    alpha : float in [0, 1], weight of the distillation term (used with ``teacher``)
    temperature : float > 0 (used with ``teacher``)

    Returns
    -------
    One :class:`lessons_lib.training.History` per model, as ``train`` returns it: per-epoch
    mean minibatch loss and accuracies, and (``History.optimizer``, built when first read) a
    ``torch.optim.SGD`` over the model's parameters (a ``MaskedSGD`` for a model given masks) whose
    state holds the final momentum buffers (none when β = 0, as in PyTorch). The trained
    weights are written back into ``models`` and each parameter's ``.grad`` holds the last
    minibatch's gradient, as after ``train``.
    """
    models, kinds = _layers(models)
    k = len(models)
    X, y, X_te, y_te = _unpack(data)
    epochs = _validate.integer(epochs, "epochs", 1, None)
    batch_size = _validate.integer(batch_size, "batch_size", 1, None)
    lrs = _per_model(lr, "lr", k, 0.0, None, True, False)
    moms = _per_model(momentum, "momentum", k, 0.0, 1.0, False, True)
    decays = _per_model(weight_decay, "weight_decay", k, 0.0, None, False, False)
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | range) or len(seeds) != k:
        raise ValueError(f"seeds must be a sequence of one int per model ({k}); got {seeds!r}")
    seeds = [_validate.integer(s, "seeds", 0, 2**63 - 1) for s in seeds]
    if isinstance(evaluate, str) or not all(part in ("train", "test") for part in evaluate):
        raise ValueError(f"evaluate must be a tuple of 'train' and/or 'test' (or empty); got {evaluate!r}")
    teachers: list[nn.Module] | None = None
    if teacher is not None:
        teachers = [teacher] * k if isinstance(teacher, nn.Module) else teacher
        if isinstance(teachers, str | bytes) or not isinstance(teachers, Sequence) or len(teachers) != k \
                or not all(isinstance(t, nn.Module) for t in teachers):
            raise TypeError(f"teacher must be None, a torch.nn.Module or a sequence of one per model ({k})")
        alpha = float(_validate.in_range(alpha, "alpha", 0.0, 1.0))
        temperature = float(_validate.positive(temperature, "temperature"))
        for t in teachers:
            t.eval()
    first = next(models[0].parameters())
    if X.dim() != 2 or not X.is_floating_point() or X.dtype != first.dtype:
        raise ValueError(f"data must have X of shape (n, features) in the models' dtype {first.dtype}; "
                         f"got shape {tuple(X.shape)} and dtype {X.dtype}")

    # Stacked parameters (StackedMLP): weights (K, out, in) and biases (K, 1, out), each model's block
    # a copy of its tensors; forward and backward passes written out so that each model rounds as alone.
    options = {"dtype": first.dtype, "device": first.device}
    net = StackedMLP(models, kinds)
    stacked = net.parameters
    keep = _stacked_masks(models, masks)  # per stacked parameter: (K, ...) bool keep-mask or None
    for p, m in zip(stacked, keep, strict=True):
        if m is not None:
            p.mul_(m)  # MaskedSGD masks the weights when it is made

    forward, backward = net.forward, net.backward

    # Per-model β as a (K, 1, 1) factor (a product by it rounds as a product by the scalar);
    # per-model η as a (K, 1, 1) factor -η_k of addcmul_, which rounds p + (-η) v as
    # torch.optim.SGD's p.add_(v, alpha=-η) does (the tests compare the two).
    mom = torch.tensor(moms, **options).view(k, 1, 1) if len(set(moms)) > 1 else moms[0]
    step_size = -torch.tensor(lrs, **options).view(k, 1, 1) if len(set(lrs)) > 1 else None
    decay = torch.tensor(decays, **options).view(k, 1, 1) if len(set(decays)) > 1 else decays[0]
    buffers: list[torch.Tensor | None] = [None] * len(stacked)
    grads: list[torch.Tensor] = []

    gens = [torch.Generator().manual_seed(s) for s in seeds]
    n = X.shape[0]
    teacher_logp = None  # (K, n, classes): each teacher's log-probabilities on every row, once, as train's
    if teachers is not None:
        with torch.random.fork_rng(devices=[]):  # a teacher drawing random numbers leaves the caller's state
            tables = {id(t): _teacher_log_probs(t, X, temperature) for t in teachers}
        teacher_logp = (next(iter(tables.values())).expand(k, -1, -1) if len(tables) == 1
                        else torch.stack([tables[id(t)] for t in teachers]))
        model_index = torch.arange(k).unsqueeze(1)  # (K, 1), paired with idx (K, B) to take each model's rows
    histories = [History() for _ in range(k)]

    def accuracies(Xs: torch.Tensor, ys: torch.Tensor) -> list[float]:
        pred = forward(Xs.unsqueeze(0).expand(k, -1, -1)).argmax(dim=2)
        correct = (pred == ys.unsqueeze(0)).sum(dim=1).tolist()
        return [int(c) / len(ys) for c in correct]

    for _ in progress_bar(range(epochs), desc=desc) if progress else range(epochs):
        perms = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (K, n)
        losses, sizes = [], []
        for start in range(0, n, batch_size):
            idx = perms[:, start : start + batch_size]  # (K, B)
            inputs: list[torch.Tensor] = []
            logits = forward(X[idx], inputs)  # (K, B, classes)
            inputs.append(logits)
            target = y[idx].unsqueeze(2)
            if teachers is None:
                logp, dlogits = mean_cross_entropy_grad(logits, target)
                # each model's mean loss, by F.cross_entropy's reduction (a batched mean rounds otherwise)
                losses += [nn.functional.nll_loss(logp[m], target[m, :, 0]) for m in range(k)]
            else:  # train's distilled loss, each model on its own minibatch's rows of its teacher's table
                rows = teacher_logp[model_index, idx]  # (K, B, classes)
                step_losses, dlogits = _distilled_loss_grad(logits, target, rows, alpha, temperature)
                losses += list(step_losses)
            grads = backward(dlogits, inputs)
            for i, (p, g) in enumerate(zip(stacked, grads, strict=True)):
                if keep[i] is not None:
                    g.mul_(keep[i])
                if isinstance(decay, torch.Tensor):
                    g = g.addcmul(p, decay)  # g + ω_k p, rounded as g.add(p, alpha=ω) in torch.optim.SGD
                elif decay != 0:
                    g = g.add(p, alpha=decay)
                if buffers[i] is None:
                    buffers[i] = g.clone()
                else:
                    buffers[i].mul_(mom).add_(g)
                if step_size is None:
                    p.add_(buffers[i], alpha=-lrs[0])
                else:
                    p.addcmul_(buffers[i], step_size)  # p_k + (-η_k) v_k, rounded as p.add_(v, alpha=-η)
                if keep[i] is not None:
                    p.mul_(keep[i])
                    buffers[i].mul_(keep[i])
            sizes.append(idx.shape[1])
        table = torch.stack(losses).view(len(sizes), k).tolist()  # (steps, K)
        for m, history in enumerate(histories):
            total = 0.0
            for row, size in zip(table, sizes, strict=True):
                total += row[m] * size
            history.train_loss.append(total / n)
        if "train" in evaluate:
            for history, a in zip(histories, accuracies(X, y), strict=True):
                history.train_acc.append(a)
        if X_te is not None and "test" in evaluate:
            for history, a in zip(histories, accuracies(X_te, y_te), strict=True):
                history.test_acc.append(a)

    # Write the weights, last gradients and momentum buffers back, model by model.
    with torch.no_grad():
        for m, (model, history) in enumerate(zip(models, histories, strict=True)):
            targets = [p for p in model.parameters()]
            for p, s, g in zip(targets, stacked, grads, strict=True):
                p.copy_(s[m].reshape(p.shape))
                p.grad = g[m].reshape(p.shape).clone()
            bufs = [buffers[i][m].reshape(p.shape).clone() if moms[m] != 0 else None
                    for i, p in enumerate(targets)]
            if masks is not None and masks[m] is not None:
                masked = MaskedSGD(model, masks[m], lrs[m], moms[m], decays[m])
                history.optimizer = _holding(masked, targets, bufs)
            else:  # built when first read: a torch.optim optimizer imports torch._dynamo (about a second)
                history.build_optimizer = functools.partial(_sgd_holding, targets, bufs, lrs[m], moms[m],
                                                            decays[m])
            model.train()
    return histories
