"""Minibatch training with SGD and momentum, and accuracy.

:func:`train` runs ``epochs`` passes over the training set in shuffled minibatches,
minimising the cross-entropy with PyTorch's SGD update (``b = momentum*b + g``,
``p -= lr*b``). Everything random is fixed by ``seed``: a ``torch.Generator`` draws
the shuffles, and the global torch seed is set to ``seed`` inside a forked random
state (so dropout or other layers that use it are reproducible, and the caller's
random state is left as it was). Thread settings are not changed.

With ``optimizer="sgd"`` and no masks, the step is ``torch.optim.SGD``'s, written out
(:func:`_sgd_step`: the same operations in the same order as torch's single-tensor CPU path, so the
same rounding; the tests compare them bit for bit). Building a ``torch.optim`` optimizer imports
``torch._dynamo``, about a second, which a lesson that never builds one is spared.
``History.optimizer`` still gives a ``torch.optim.SGD`` holding the run's momentum buffers, built
when first read (in a process that has built no ``torch.optim`` optimizer yet, that read costs the
second). ``masks``
(name -> keep-mask) switches to :class:`lessons_lib.pruning.MaskedSGD`, which keeps pruned weights
and their momentum at zero; ``optimizer="sgd8bit"`` uses
:class:`lessons_lib.momentum8bit.SGD8bitMomentum`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from lessons_lib import _validate
from lessons_lib.momentum8bit import SGD8bitMomentum, optimizer_state_bytes
from lessons_lib.progress import progress as progress_bar
from lessons_lib.pruning import MaskedSGD

__all__ = ["History", "train", "accuracy", "make_optimizer", "paired_accuracies"]

OPTIMIZERS = ("sgd", "sgd8bit")


@dataclass
class History:
    """Per-epoch record of a training run.

    ``train_loss[e]`` is the mean minibatch loss of epoch ``e``; ``train_acc`` and
    ``test_acc`` are accuracies in [0, 1] measured after the epoch (``test_acc`` is
    empty when the data has no test part; either is empty when ``train(evaluate=...)``
    leaves it out). :attr:`optimizer` is a ``torch.optim`` optimizer over the trained
    parameters whose state holds the run's final momentum state (buffers; for ``sgd8bit`` their
    8-bit codes and block scales); ``build_optimizer``
    (a function of no arguments) makes it when it is first read. Equality compares the
    records only.
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    build_optimizer: Callable[[], torch.optim.Optimizer] | None = field(
        default=None, repr=False, compare=False)
    _optimizer: torch.optim.Optimizer | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def optimizer(self) -> torch.optim.Optimizer | None:
        """The optimizer holding the final momentum state (none when β = 0, as in PyTorch): built
        by ``build_optimizer`` when first read (the first ``torch.optim`` optimizer of a process
        imports ``torch._dynamo``, about a second), then kept."""
        if self._optimizer is None and self.build_optimizer is not None:
            self._optimizer = self.build_optimizer()
        return self._optimizer

    @optimizer.setter
    def optimizer(self, value: torch.optim.Optimizer | None) -> None:
        if value is not None and not isinstance(value, torch.optim.Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer or None; got {type(value).__name__}")
        self._optimizer, self.build_optimizer = value, None


def _check_xy(X: object, y: object, where: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"{where} must be torch tensors (X, y)")
    if X.dim() < 1 or y.dim() != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError(
            f"{where} must have X of shape (n, ...) and y of shape (n,) with n >= 1; "
            f"got X {tuple(X.shape)} and y {tuple(y.shape)}"
        )
    return X, y


def _unpack(data: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Training and optional test tensors from a DigitsSplit-like object or a tuple."""
    if hasattr(data, "X_train") and hasattr(data, "y_train"):
        X_te, y_te = getattr(data, "X_test", None), getattr(data, "y_test", None)
        X_tr, y_tr = data.X_train, data.y_train
    elif isinstance(data, tuple | list) and len(data) == 2:
        (X_tr, y_tr), X_te, y_te = data, None, None
    elif isinstance(data, tuple | list) and len(data) == 4:
        X_tr, X_te, y_tr, y_te = data
    else:
        raise TypeError(
            "data must have X_train, y_train (and optionally X_test, y_test) attributes, "
            "or be a tuple (X, y) or (X_train, X_test, y_train, y_test)"
        )
    X_tr, y_tr = _check_xy(X_tr, y_tr, "data training part")
    if X_te is not None and y_te is not None:
        X_te, y_te = _check_xy(X_te, y_te, "data test part")
    else:
        X_te = y_te = None
    return X_tr, y_tr, X_te, y_te


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows of ``X`` whose arg-max logit equals the label in ``y`` (in [0, 1]).

    The model is evaluated in eval mode and put back in the mode it was in.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    X, y = _check_xy(X, y, "X and y")
    was_training = model.training
    model.eval()
    try:
        pred = model(X).argmax(dim=1)
    finally:
        model.train(was_training)
    return int((pred == y).sum()) / len(y)  # a count over n, exact in float64


def make_optimizer(
    model: nn.Module,
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    masks: Mapping[str, Any] | None = None,
    optimizer: str = "sgd",
) -> torch.optim.Optimizer:
    """The optimizer :func:`train` uses: ``torch.optim.SGD``, ``MaskedSGD`` or ``SGD8bitMomentum``."""
    _validate.in_range(lr, "lr", 0.0, None, low_open=True)
    _validate.in_range(momentum, "momentum", 0.0, 1.0, high_open=True)
    _validate.in_range(weight_decay, "weight_decay", 0.0, None)
    optimizer = _validate.one_of(optimizer, "optimizer", OPTIMIZERS)
    if optimizer == "sgd8bit":
        if masks is not None:
            raise ValueError("masks must be None with optimizer='sgd8bit'; got masks")
        return SGD8bitMomentum(model.parameters(), lr, momentum, weight_decay, nesterov)
    if masks is not None:
        return MaskedSGD(model, masks, lr, momentum, weight_decay, nesterov)
    return torch.optim.SGD(
        model.parameters(),
        lr=float(lr),
        momentum=float(momentum),
        weight_decay=float(weight_decay),
        nesterov=bool(nesterov),
    )


@torch.no_grad()
def _sgd_step(
    params: Sequence[torch.Tensor],
    buffers: list[torch.Tensor | None],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> None:
    """One step of ``torch.optim.SGD(params, lr, momentum, weight_decay=..., nesterov=...)``
    (dampening 0), in place, written out as torch's single-tensor CPU path computes it; for each
    parameter ``p`` (any shape) with gradient ``grad`` and buffer ``b`` of ``p``'s shape::

        g = grad + ω p
        b = g (first step, b is None)    or    b = β b + g
        d = g + β b (Nesterov)           or    d = b            (d = g when β = 0)
        p = p - η d

    ``params``: tensors with ``.grad`` (one without a gradient is skipped, as torch skips it);
    ``buffers``: list of one momentum buffer per parameter, None before the first step, updated in
    place (stays None when β = 0); the first buffer is a copy of the gradient, never the gradient
    itself. Same operations in the same order as torch, so the same rounding
    (tests/test_training.py compares the two bit for bit). Private: :func:`train` validates
    ``lr > 0``, ``β in [0, 1)`` (``(0, 1)`` with Nesterov) and ``ω >= 0`` once, before its steps.
    """
    for i, p in enumerate(params):
        g = p.grad
        if g is None:
            continue
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)
        if momentum != 0:
            buf = buffers[i]
            if buf is None:
                buf = buffers[i] = g.detach().clone()
            else:
                buf.mul_(momentum).add_(g, alpha=1)  # torch: alpha = 1 - dampening
            g = g.add(buf, alpha=momentum) if nesterov else buf
        p.add_(g, alpha=-lr)


def _sgd_holding(
    params: Sequence[torch.Tensor],
    buffers: Sequence[torch.Tensor | None],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
) -> torch.optim.SGD:
    """A ``torch.optim.SGD`` over ``params`` whose state holds ``buffers`` as the momentum buffers
    (the optimizer a run stepped by :func:`_sgd_step` would have ended with)."""
    opt = torch.optim.SGD(list(params), lr=float(lr), momentum=float(momentum),
                          weight_decay=float(weight_decay), nesterov=bool(nesterov))
    return _holding(opt, params, buffers)


def _holding(opt: torch.optim.Optimizer, params: Sequence[torch.Tensor],
             buffers: Sequence[torch.Tensor | None]) -> torch.optim.Optimizer:
    """``opt`` with ``buffers[i]`` as ``params[i]``'s momentum buffer (None: no buffer)."""
    for p, buf in zip(params, buffers, strict=True):
        if buf is not None:
            opt.state[p]["momentum_buffer"] = buf
    return opt


#: Rows per forward pass of the teacher when its table is computed (peak memory: the teacher's widest
#: activation for this many rows, not for the whole training set).
TEACHER_CHUNK = 8192


def _teacher_log_probs(teacher: nn.Module, X: torch.Tensor, T: float) -> torch.Tensor:
    """``log_softmax(t / T)`` of the teacher's logits ``t = teacher(X)``, (n, classes), without a graph,
    in forward passes of at most :data:`TEACHER_CHUNK` rows.

    ``train`` and ``train_many`` call it once per teacher and run, on every training row, and take each
    minibatch's rows from it. That is the loss of a teacher run on each minibatch when the teacher's
    eval-mode forward is deterministic and row by row: no batch statistics (a BatchNorm with running
    statistics is fine, one with ``track_running_stats=False`` is not), nothing random, no scale
    computed from the batch (dynamic quantization). The course's teachers are MLPs; ValueError for a
    teacher whose output does not have one row per input row. A row's last bits may still move with
    the batch's size (a matrix product's kernel rounds a row differently in some positions): in the
    teacher's output about 1e-16 relative in float64 (the tests bound the trained weights' difference
    from a teacher run minibatch by minibatch, in float64) and 1e-7 in float32, which training carries
    forward."""
    with torch.no_grad():
        logits = torch.cat([teacher(rows) for rows in X.split(TEACHER_CHUNK)])
    if logits.dim() != 2 or logits.shape[0] != X.shape[0]:
        raise ValueError(f"teacher must map X of shape (n, features) to logits (n, classes); got "
                         f"{tuple(logits.shape)} for n = {X.shape[0]}")
    return nn.functional.log_softmax(logits / T, dim=1)


def _distill(logits: torch.Tensor, teacher_logp: torch.Tensor, T: float) -> torch.Tensor:
    """``T^2 * KL(softmax(t/T) || softmax(z/T))``, batch mean, for the student's logits ``z`` (B, classes)
    and the teacher's ``log_softmax(t / T)`` on the same rows, ``teacher_logp`` (B, classes)."""
    student = nn.functional.log_softmax(logits / T, dim=1)
    kl = nn.functional.kl_div(student, teacher_logp, log_target=True, reduction="batchmean")
    return T * T * kl


def _check_teacher_apart(teacher: nn.Module, model: nn.Module) -> None:
    """ValueError if ``teacher`` holds a trainable parameter or a buffer of ``model`` (the same tensor or
    its storage; a BatchNorm's running statistics change as ``model`` trains): the teacher's outputs are
    computed once, before training, so it must not change while ``model`` trains. Parameters with
    ``requires_grad=False`` (a frozen shared part) never change and are allowed; a model the teacher
    holds outside its registered modules cannot be seen."""
    changing = [p for p in model.parameters() if p.requires_grad] + list(model.buffers())
    trained = {t.untyped_storage().data_ptr() for t in changing if t.numel()}
    held = [*teacher.parameters(), *teacher.buffers()]
    if any(t.untyped_storage().data_ptr() in trained for t in held if t.numel()):
        raise ValueError("teacher must be a fixed network apart from the model being trained (its "
                         "outputs are computed once, before training); got one that shares trainable "
                         "parameters or buffers with it")


def train(
    model: nn.Module,
    data: Any,
    epochs: int = 20,
    lr: float = 0.1,
    momentum: float = 0.9,
    batch_size: int = 64,
    seed: int = 0,
    weight_decay: float = 0.0,
    masks: Mapping[str, Any] | None = None,
    progress: bool = True,
    *,
    nesterov: bool = False,
    optimizer: str = "sgd",
    teacher: nn.Module | None = None,
    alpha: float = 0.9,
    temperature: float = 4.0,
    desc: str = "train",
    evaluate: tuple[str, ...] | list[str] = ("train", "test"),
) -> History:
    """Train ``model`` in place with minibatch SGD with momentum on cross-entropy.

    Parameters
    ----------
    model : nn.Module mapping ``X`` rows to logits ``(batch, n_classes)``
    data : :class:`lessons_lib.data.DigitsSplit` (or anything with ``X_train``,
        ``y_train`` and optionally ``X_test``, ``y_test``), or a tuple ``(X, y)``
    epochs : int >= 1
    lr : float > 0
    momentum : float in [0, 1)
    batch_size : int >= 1
    seed : int >= 0, fixes the shuffles (and the global torch seed inside the call)
    weight_decay : float >= 0 (added to the gradient, as in ``torch.optim.SGD``)
    masks : optional dict name -> keep-mask; pruned weights and momentum stay 0
    progress : show a progress bar over the epochs (:func:`lessons_lib.progress.progress`:
        it disappears when training ends and leaves nothing in a notebook's saved output)
    nesterov : use PyTorch's Nesterov form
    optimizer : ``"sgd"`` or ``"sgd8bit"`` (8-bit block-wise momentum)
    teacher : optional model to distil from (Hinton et al. 2015): the loss becomes
        ``(1 - alpha) * CE(z, y) + alpha * T^2 * KL(softmax(t / T) || softmax(z / T))``
        with ``z`` the model's and ``t`` the teacher's logits, ``T = temperature``. The teacher is put
        in eval mode and its outputs on the training rows are computed once, before the first step
        (:func:`_teacher_log_probs` says which teachers that suits), so it must not share trainable
        parameters or buffers with ``model`` (ValueError)
    alpha : float in [0, 1], weight of the distillation term
    temperature : float > 0
    desc : label of the progress bar
    evaluate : which per-epoch accuracies to record in the History, a subset of
        ``("train", "test")``; ``()`` records none. An evaluation costs a forward pass
        over its split every epoch and changes nothing else: the trained model is the
        same whatever is recorded.

    Returns
    -------
    History with per-epoch loss and accuracies; its ``optimizer`` (built when first read) holds
    the final momentum buffers.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    X, y, X_te, y_te = _unpack(data)
    epochs = _validate.integer(epochs, "epochs", 1, None)
    batch_size = _validate.integer(batch_size, "batch_size", 1, None)
    seed = _validate.integer(seed, "seed", 0, 2**63 - 1)
    if isinstance(evaluate, str) or not all(part in ("train", "test") for part in evaluate):
        raise ValueError(f"evaluate must be a tuple of 'train' and/or 'test' (or empty); got {evaluate!r}")
    if teacher is not None:
        if not isinstance(teacher, nn.Module):
            raise TypeError(f"teacher must be a torch.nn.Module; got {type(teacher).__name__}")
        alpha = float(_validate.in_range(alpha, "alpha", 0.0, 1.0))
        temperature = float(_validate.positive(temperature, "temperature"))
        _check_teacher_apart(teacher, model)
        teacher.eval()
    optimizer = _validate.one_of(optimizer, "optimizer", OPTIMIZERS)
    lr = float(_validate.in_range(lr, "lr", 0.0, None, low_open=True))
    momentum = float(_validate.in_range(momentum, "momentum", 0.0, 1.0, high_open=True))
    weight_decay = float(_validate.in_range(weight_decay, "weight_decay", 0.0, None))
    if nesterov and momentum == 0:
        raise ValueError("momentum must be in (0, 1) with nesterov=True (as torch.optim.SGD); got 0")
    params = list(model.parameters())
    if not params:
        raise ValueError("model must have parameters to train; it has none")
    opt = None
    if optimizer == "sgd" and masks is None:  # torch.optim.SGD's step without building one (_sgd_step)
        buffers: list[torch.Tensor | None] = [None] * len(params)
        history = History(build_optimizer=functools.partial(
            _sgd_holding, params, buffers, lr, momentum, weight_decay, bool(nesterov)))
    else:
        opt = make_optimizer(model, lr, momentum, weight_decay, nesterov, masks, optimizer)
        history = History()
        history.optimizer = opt
    gen = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        # the teacher's log-probabilities on every training row, once (see _teacher_log_probs)
        teacher_logp = None if teacher is None else _teacher_log_probs(teacher, X, temperature)
        for _ in progress_bar(range(epochs), desc=desc) if progress else range(epochs):
            model.train()
            perm = torch.randperm(n, generator=gen)
            total = 0.0
            for start in range(0, n, batch_size):
                idx = perm[start : start + batch_size]
                if opt is None:
                    for p in params:
                        p.grad = None
                else:
                    opt.zero_grad(set_to_none=True)
                logits = model(X[idx])
                loss = nn.functional.cross_entropy(logits, y[idx])
                if teacher_logp is not None:
                    loss = (1 - alpha) * loss + alpha * _distill(logits, teacher_logp[idx], temperature)
                loss.backward()
                if opt is None:
                    _sgd_step(params, buffers, lr, momentum, weight_decay, nesterov)
                else:
                    opt.step()
                total += float(loss.detach()) * idx.numel()
            history.train_loss.append(total / n)
            if "train" in evaluate:
                history.train_acc.append(accuracy(model, X, y))
            if X_te is not None and "test" in evaluate:
                history.test_acc.append(accuracy(model, X_te, y_te))
    return history


def paired_accuracies(
    data: Any,
    optimizers: tuple[str, ...] = OPTIMIZERS,
    seeds: Iterable[int] = range(8),
    epochs: int = 30,
    batch_size: int = 128,
    lr: float = 0.1,
    momentum: float = 0.9,
) -> tuple[dict[str, list[float]], dict[str, int]]:
    """Test accuracy of the digits MLP trained with each optimizer, paired by seed.

    For every seed, each optimizer trains ``models.mlp(seed=seed)`` with the same
    initialisation, data order and budget; the differences between optimizers at one
    seed are then due to the optimizer alone. Returns ``{optimizer: [accuracy per seed]}``
    and ``{optimizer: bytes of optimizer state}`` (of the last run).
    ``benchmarks/run.py``'s 8-bit momentum figure comes from here; lesson 13 trains the same runs
    side by side (``batched_training.train_many``, ``momentum8bit.train_many_8bit``).
    """
    from lessons_lib.models import mlp

    for name in optimizers:
        _validate.one_of(name, "optimizers", OPTIMIZERS)
    acc: dict[str, list[float]] = {name: [] for name in optimizers}
    state: dict[str, int] = {}
    for seed in seeds:
        for name in optimizers:
            net = mlp(seed=seed)
            hist = train(net, data, epochs=epochs, lr=lr, momentum=momentum, batch_size=batch_size,
                         seed=seed, optimizer=name, progress=False, evaluate=())
            acc[name].append(accuracy(net, data.X_test, data.y_test))
            state[name] = optimizer_state_bytes(hist.optimizer)
    return acc, state
