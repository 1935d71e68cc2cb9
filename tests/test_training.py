"""Tests of lessons_lib.data, models, training and momentum8bit."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lessons_lib import training
from lessons_lib.batched_training import train_many
from lessons_lib.data import DigitsSplit, as_images, load_digits_split
from lessons_lib.models import count_parameters, mlp, small_cnn
from lessons_lib.momentum8bit import (
    SGD8bitMomentum,
    code_map,
    dequantize_blockwise,
    momentum_state_bytes,
    optimizer_state_bytes,
    quantize_blockwise,
)
from lessons_lib.pruning import MaskedSGD, count_revived, global_magnitude_masks, prunable_weights
from lessons_lib.training import History, _sgd_step, accuracy, paired_accuracies, train


@pytest.fixture(scope="module")
def digits() -> DigitsSplit:
    return load_digits_split()


# ----------------------------------------------------------------------------- data


def test_digits_split_shapes_types_and_range(digits):
    X_train, X_test, y_train, y_test = digits
    assert X_train.shape == (1347, 64) and X_test.shape == (450, 64)
    assert X_train.dtype == torch.get_default_dtype() and y_train.dtype == torch.int64
    assert X_train.min() == 0.0 and X_train.max() == 1.0 and X_test.max() <= 1.0
    assert set(y_train.tolist()) == set(range(10))
    # Stratified: every class has about a quarter of its images in the test part.
    for c in range(10):
        frac = (y_test == c).sum() / ((y_test == c).sum() + (y_train == c).sum())
        assert abs(float(frac) - 0.25) < 0.02


def test_digits_split_is_fixed_by_its_seed(digits):
    again = load_digits_split(seed=0)
    assert torch.equal(again.X_train, digits.X_train) and torch.equal(again.y_test, digits.y_test)
    other = load_digits_split(seed=1)
    assert not torch.equal(other.X_train, digits.X_train)
    assert load_digits_split(test_size=0.5).X_test.shape == (899, 64)


def test_digits_follow_the_default_dtype_or_the_one_asked_for(digits):
    wide = load_digits_split(dtype=torch.float64)
    assert wide.X_train.dtype == torch.float64 and torch.equal(wide.X_train.float(), digits.X_train)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert load_digits_split().X_test.dtype == torch.float64
        assert mlp(seed=0)[0].weight.dtype == torch.float64  # models follow the default too
    finally:
        torch.set_default_dtype(previous)
    for bad in (torch.int64, "float64"):
        with pytest.raises(ValueError, match="dtype must be a floating torch dtype"):
            load_digits_split(dtype=bad)


def test_as_images_and_bad_data_arguments(digits):
    assert as_images(digits.X_test).shape == (450, 1, 8, 8)
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\)"):
        load_digits_split(test_size=1.0)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, "):
        load_digits_split(seed=-1)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 64\)"):
        as_images(torch.zeros(3, 10))


# ----------------------------------------------------------------------------- models


def test_models_are_deterministic_and_have_the_right_shapes(digits):
    a, b = mlp(seed=5), mlp(seed=5)
    assert count_parameters(a) == 6570
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    torch.manual_seed(7)
    c = mlp()
    torch.manual_seed(7)
    d = mlp()
    assert torch.equal(c[0].weight, d[0].weight) and not torch.equal(a[0].weight, c[0].weight)
    state = torch.random.get_rng_state()
    cnn = small_cnn(seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)  # seed= leaves the global RNG alone
    assert cnn(digits.X_test[:5]).shape == (5, 10)
    assert cnn(as_images(digits.X_test[:5])).shape == (5, 10)
    assert mlp((10,), seed=0)(digits.X_test[:3]).shape == (3, 10)


def test_bad_model_arguments():
    with pytest.raises(ValueError, match=r"hidden must be an integer in \[1, inf\]"):
        mlp((64, 0))
    with pytest.raises(TypeError, match="hidden must be a sequence"):
        mlp(64)
    with pytest.raises(ValueError, match="channels must be a pair"):
        small_cnn((8,))


# ----------------------------------------------------------------------------- training


def test_training_is_deterministic_and_learns(digits):
    runs = []
    for _ in range(2):
        model = mlp(seed=0)
        history = train(model, digits, epochs=6, lr=0.05, momentum=0.9, batch_size=32, seed=3, progress=False)
        runs.append((model, history))
    (m1, h1), (m2, h2) = runs
    for p, q in zip(m1.parameters(), m2.parameters(), strict=True):
        assert torch.equal(p, q)
    assert h1.train_loss == h2.train_loss and len(h1.test_acc) == 6
    assert h1.train_loss[-1] < 0.5 * h1.train_loss[0]
    assert h1.test_acc[-1] == accuracy(m1, digits.X_test, digits.y_test) > 0.9
    m3 = mlp(seed=0)
    train(m3, digits, epochs=1, lr=0.05, batch_size=32, seed=4, progress=False)
    assert not torch.equal(m3[0].weight, m1[0].weight)


def _train_with_torch_optim(model, data, epochs, lr, momentum, batch_size, seed, weight_decay, nesterov):
    """train()'s loop as it was written before sgd_step: torch.optim.SGD steps the model."""
    X, y = data
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay,
                          nesterov=nesterov)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(epochs):
            model.train()
            perm = torch.randperm(len(y), generator=gen)
            total = 0.0
            for start in range(0, len(y), batch_size):
                idx = perm[start : start + batch_size]
                opt.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * idx.numel()
            losses.append(total / len(y))
    return opt, losses


@pytest.mark.parametrize(("make", "momentum", "weight_decay", "nesterov", "dtype"), [
    (lambda: mlp(seed=1), 0.9, 0.0, False, torch.float32),
    (lambda: mlp(seed=2), 0.0, 1e-3, False, torch.float64),
    (lambda: mlp((32, 16), seed=3), 0.5, 5e-4, True, torch.float64),
    (lambda: mlp(seed=6), 0.9, 1e-3, True, torch.float32),
    (lambda: small_cnn(seed=4), 0.9, 1e-4, False, torch.float32),
    (lambda: small_cnn(seed=7, batchnorm=True), 0.9, 1e-4, True, torch.float32),
    (lambda: torch.nn.Sequential(small_cnn(seed=5, batchnorm=True)), 0.8, 0.0, True, torch.float64),
])
def test_train_steps_bit_for_bit_as_torch_optim_sgd(digits, make, momentum, weight_decay, nesterov, dtype):
    data = (digits.X_train[:300].to(dtype), digits.y_train[:300])
    ours, ref = make().to(dtype), make().to(dtype)
    history = train(ours, data, epochs=3, lr=0.05, momentum=momentum, batch_size=48, seed=7,
                    weight_decay=weight_decay, nesterov=nesterov, progress=False, evaluate=())
    opt, losses = _train_with_torch_optim(ref, data, 3, 0.05, momentum, 48, 7, weight_decay, nesterov)
    assert history.train_loss == losses
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        assert torch.equal(p, q)
    for a, b in zip(ours.buffers(), ref.buffers(), strict=True):  # BatchNorm's running statistics
        assert torch.equal(a, b)
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):  # the last minibatch's gradients
        assert torch.equal(p.grad, q.grad)
    built = history.optimizer
    assert type(built) is torch.optim.SGD and built is history.optimizer  # built once, then kept
    assert built.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    assert len(built.state) == len(opt.state) == (0 if momentum == 0 else len(list(ref.parameters())))
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        if momentum:
            assert torch.equal(built.state[p]["momentum_buffer"], opt.state[q]["momentum_buffer"])
    # the optimizer read from the history carries on exactly as torch's own would
    for model, o in ((ours, built), (ref, opt)):
        o.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(data[0][:64]), data[1][:64]).backward()
        o.step()
    for p, q in zip(ours.parameters(), ref.parameters(), strict=True):
        assert torch.equal(p, q)


def test_sgd_step_skips_parameters_without_a_gradient_as_torch_does():
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    opt = torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9)
    buffers = [None, None]
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    for step in range(3):
        for m in (a, b):
            m.zero_grad(set_to_none=True)
            m(x).pow(2).sum().backward()
            if step == 1:  # no gradient this step for the FIRST parameter: it and its buffer stay as they
                m.weight.grad = None  # are, and the step goes on to the next one (skip, not stop)
        _sgd_step(list(a.parameters()), buffers, 0.1, 0.9)
        opt.step()
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
        assert torch.equal(buffers[0], opt.state[b.weight]["momentum_buffer"])
        assert torch.equal(buffers[1], opt.state[b.bias]["momentum_buffer"])


def test_sgd_step_keeps_a_copy_of_the_first_gradient_not_the_gradient_itself():
    """A caller that zeroes gradients in place (opt.zero_grad(set_to_none=False)) must not zero the buffer."""
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    b.load_state_dict(a.state_dict())
    opt = torch.optim.SGD(b.parameters(), lr=0.1, momentum=0.9)  # no weight decay: g is the .grad itself
    buffers = [None, None]
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    for _ in range(3):
        for m in (a, b):
            m(x).pow(2).sum().backward()
        _sgd_step(list(a.parameters()), buffers, 0.1, 0.9)
        opt.step()
        for m in (a, b):
            for p in m.parameters():
                p.grad.zero_()
        assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
        assert torch.equal(buffers[0], opt.state[b.weight]["momentum_buffer"])


def test_history_compares_its_records_pickles_and_copies_its_optimizer(digits):
    import copy
    import pickle

    data = (digits.X_train[:128], digits.y_train[:128])
    keep = {"0.weight": torch.ones(64, 64, dtype=torch.bool)}
    for kwargs in ({}, {"optimizer": "sgd8bit"}, {"masks": keep}):
        h = train(mlp(seed=0), data, epochs=1, progress=False, evaluate=(), **kwargs)
        twin = copy.deepcopy(h)
        assert twin == h and twin.optimizer is not h.optimizer  # a copy holds its own optimizer
        assert pickle.loads(pickle.dumps(h)) == h
        opt = h.optimizer
        assert h == twin and h.optimizer is opt  # reading it changes nothing the records compare
        h.optimizer = None
        assert h.optimizer is None
    with pytest.raises(TypeError, match="optimizer must be a torch.optim.Optimizer"):
        History().optimizer = "sgd"


def test_training_without_masks_builds_no_torch_optim_optimizer_until_asked():
    """train() and train_many() step without building a torch.optim optimizer (the first one of a
    process costs about a second); their histories build one when it is read."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from lessons_lib.data import load_digits_split\n"
            "from lessons_lib.models import mlp, small_cnn\n"
            "from lessons_lib.training import train\n"
            "from lessons_lib.batched_training import train_many\n"
            "d = load_digits_split()\n"
            "d = (d.X_train[:256], d.y_train[:256])\n"
            "h = train(small_cnn(seed=0), d, epochs=1, progress=False, evaluate=())\n"
            "hs = train_many([mlp(seed=0), mlp(seed=1)], d, epochs=1, lr=0.1, seeds=[0, 1], evaluate=(),\n"
            "                progress=False)\n"
            "print('dynamo', 'torch._dynamo' in sys.modules)\n"
            "print(type(h.optimizer).__name__, type(hs[1].optimizer).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["dynamo", "False", "SGD", "SGD"]


def test_progress_bar_is_shown_only_on_request(digits, capsys):
    train(mlp(seed=0), (digits.X_train[:64], digits.y_train[:64]), epochs=1, progress=False)
    assert capsys.readouterr().err == ""
    train(mlp(seed=0), (digits.X_train[:64], digits.y_train[:64]), epochs=1, progress=True, desc="fit")
    assert "fit" in capsys.readouterr().err


def test_accuracy_restores_the_mode_and_counts(digits):
    model = torch.nn.Sequential(torch.nn.Dropout(0.5), mlp(seed=0))
    model.train()
    acc = accuracy(model, digits.X_test, digits.y_test)
    assert model.training and 0.0 <= acc <= 1.0
    assert acc == accuracy(model, digits.X_test, digits.y_test)  # eval mode: no dropout
    perfect = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        perfect.weight.copy_(torch.eye(2))
    y = torch.tensor([0, 1, 1])
    assert accuracy(perfect, torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), y) == pytest.approx(2 / 3)


def test_training_with_masks_keeps_pruned_weights_at_zero(digits):
    model = mlp(seed=0)
    train(model, digits, epochs=4, lr=0.05, batch_size=32, progress=False)
    masks = global_magnitude_masks(prunable_weights(model), 0.8)
    history = train(
        model, digits, epochs=3, lr=0.05, batch_size=32, weight_decay=1e-3, masks=masks, progress=False
    )
    assert isinstance(history.optimizer, MaskedSGD)
    assert count_revived(model, masks) == 0 and history.test_acc[-1] > 0.9


def test_distillation_runs_and_validates(digits):
    teacher = mlp(seed=0)
    train(teacher, digits, epochs=3, lr=0.05, batch_size=32, progress=False)
    student = mlp((16,), seed=1)
    h = train(student, digits, epochs=3, lr=0.05, batch_size=32, teacher=teacher, progress=False)
    assert h.test_acc[-1] > 0.8
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        train(student, digits, epochs=1, teacher=teacher, alpha=1.5, progress=False)


def test_distillation_takes_the_teachers_outputs_once_as_minibatch_by_minibatch(digits, monkeypatch):
    """train computes the teacher's log-probabilities on every training row once, before the first step
    (in passes of at most TEACHER_CHUNK rows), and takes each minibatch's rows: the same training as a
    loop that runs the teacher on every minibatch, up to the last bits a matrix product rounds
    differently with its batch's size (float64)."""
    X, y = digits.X_train.double(), digits.y_train
    teacher = mlp((32,), seed=5).double()
    train(teacher, (X, y), epochs=2, lr=0.1, momentum=0.9, seed=5, progress=False, evaluate=())
    seen = []
    hook = teacher.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].shape[0]))
    monkeypatch.setattr(training, "TEACHER_CHUNK", 400)
    student = mlp((16,), seed=1).double()
    ref = copy.deepcopy(student)
    train(student, (X, y), epochs=2, lr=0.05, momentum=0.9, batch_size=32, seed=3, teacher=teacher, alpha=0.7,
          temperature=3.0, progress=False, evaluate=())
    n = X.shape[0]
    assert seen == [400] * (n // 400) + [n % 400] and n % 400  # every row once, in chunks
    seen.clear()
    train_many([mlp((16,), seed=1).double()], (X, y), epochs=2, lr=0.05, momentum=0.9, batch_size=32,
               seeds=[3], teacher=teacher, alpha=0.7, temperature=3.0, progress=False, evaluate=())
    assert seen == [400] * (n // 400) + [n % 400]  # train_many too: once, in chunks, not per minibatch
    hook.remove()
    # the reference: the teacher on each minibatch, as the loss is usually written
    params, buffers = list(ref.parameters()), None
    gen = torch.Generator().manual_seed(3)
    for _ in range(2):
        perm = torch.randperm(X.shape[0], generator=gen)
        for start in range(0, X.shape[0], 32):
            idx = perm[start:start + 32]
            logits = ref(X[idx])
            with torch.no_grad():
                t = torch.log_softmax(teacher(X[idx]) / 3.0, dim=1)
            kl = nn.functional.kl_div(torch.log_softmax(logits / 3.0, dim=1), t, log_target=True,
                                      reduction="batchmean")
            loss = 0.3 * nn.functional.cross_entropy(logits, y[idx]) + 0.7 * 9.0 * kl
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                buffers = (list(grads) if buffers is None
                           else [0.9 * b + g for b, g in zip(buffers, grads, strict=True)])
                for p, b in zip(params, buffers, strict=True):
                    p -= 0.05 * b
    gap = max((a - b).abs().max().item() for a, b in zip(student.parameters(), params, strict=True))
    assert gap < 1e-12
    other = mlp((16,), seed=1).double()  # the same run with another alpha lands elsewhere: the check can fail
    train(other, (X, y), epochs=2, lr=0.05, momentum=0.9, batch_size=32, seed=3, teacher=teacher, alpha=0.6,
          temperature=3.0, progress=False, evaluate=())
    assert max((a - b).abs().max().item() for a, b in zip(other.parameters(), params, strict=True)) > 1e-6


class _NoisyHead(nn.Module):
    """A teacher that draws from the global random state in every forward pass (as MC dropout would)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x) + 1e-3 * torch.randn(x.shape[0], 10, dtype=x.dtype)


def test_the_teacher_is_put_in_eval_mode_and_the_callers_random_state_is_kept(digits):
    """A teacher with dropout, handed over in training mode, teaches as in eval mode (train and
    train_many put it there before its outputs are computed); a teacher drawing random numbers leaves
    the caller's random state as it was (train draws inside its own forked state)."""
    X, y = digits.X_train.double(), digits.y_train
    base = mlp((32,), seed=5).double()
    train(base, (X, y), epochs=1, lr=0.1, momentum=0.9, seed=5, progress=False, evaluate=())
    dropout_teacher = nn.Sequential(nn.Dropout(0.5), base)
    results = {}
    for mode in ("train", "eval"):
        dropout_teacher.train(mode == "train")
        one, many = mlp((16,), seed=1).double(), [mlp((16,), seed=1).double()]
        train(one, (X, y), epochs=1, seed=3, teacher=dropout_teacher, progress=False, evaluate=())
        dropout_teacher.train(mode == "train")
        train_many(many, (X, y), epochs=1, seeds=[3], teacher=dropout_teacher, progress=False, evaluate=())
        results[mode] = (one, many[0])
    for a, b in zip(results["train"], results["eval"], strict=True):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    undropped = mlp((16,), seed=1).double()  # without the dropout layer in eval mode: the same too
    train(undropped, (X, y), epochs=1, seed=3, teacher=base, progress=False, evaluate=())
    assert all(torch.equal(p, q)
               for p, q in zip(undropped.parameters(), results["eval"][0].parameters(), strict=True))
    torch.manual_seed(123)
    state = torch.get_rng_state()
    train(mlp((16,), seed=1).double(), (X, y), epochs=1, seed=3, teacher=_NoisyHead(base), progress=False,
          evaluate=())
    assert torch.equal(torch.get_rng_state(), state)
    train_many([mlp((16,), seed=1).double()], (X, y), epochs=1, seeds=[3], teacher=_NoisyHead(base),
               progress=False, evaluate=())
    assert torch.equal(torch.get_rng_state(), state)
    torch.randn(1)
    assert not torch.equal(torch.get_rng_state(), state)  # the comparison can fail


def test_a_teacher_sharing_the_models_trainable_weights_is_refused(digits):
    """train refuses a teacher holding the model's trainable parameters (the same tensors, or other
    Parameters over the same storage) or buffers: its outputs are computed once and would not follow
    them. Shared frozen parameters are allowed, and so is train_many's teacher that is one of its models
    (their own parameters change only at the end: the same as a copy of it)."""
    X, y = digits.X_train.double(), digits.y_train
    student = mlp((16,), seed=1).double()
    alias = nn.Sequential(nn.Linear(64, 16).double(), nn.ReLU(), nn.Linear(16, 10).double())
    alias[0].weight = nn.Parameter(student[0].weight.data)  # another Parameter, the same storage
    for shared in (student, nn.Sequential(student[0], nn.ReLU(), nn.Linear(16, 10).double()), alias):
        with pytest.raises(ValueError, match="teacher must be a fixed network apart from the model"):
            train(student, (X, y), epochs=1, teacher=shared, progress=False)
    norm = nn.BatchNorm1d(16, affine=False).double()  # buffers only: running statistics that training moves
    with_norm = nn.Sequential(nn.Linear(64, 16), norm, nn.ReLU(), nn.Linear(16, 10)).double()
    teacher_norm = nn.Sequential(nn.Linear(64, 16), norm, nn.ReLU(), nn.Linear(16, 10)).double()
    with pytest.raises(ValueError, match="shares trainable parameters or buffers"):
        train(with_norm, (X, y), epochs=1, teacher=teacher_norm, progress=False)
    train(with_norm, (X, y), epochs=1, teacher=copy.deepcopy(teacher_norm), progress=False, evaluate=())
    frozen = mlp((16,), seed=2).double()
    frozen[0].requires_grad_(False)  # its weight and bias
    before = frozen[0].weight.detach().clone()
    head = nn.Sequential(frozen[0], nn.ReLU(), nn.Linear(16, 10).double())
    train(frozen, (X, y), epochs=1, teacher=head, progress=False, evaluate=())
    assert torch.equal(frozen[0].weight, before)
    nets = [mlp((16,), seed=s).double() for s in (1, 2)]
    copies = [copy.deepcopy(n) for n in nets]
    teacher_copy = copy.deepcopy(nets[1])
    train_many(nets, (X, y), epochs=1, seeds=[3, 4], teacher=nets[1], progress=False, evaluate=())
    train_many(copies, (X, y), epochs=1, seeds=[3, 4], teacher=teacher_copy, progress=False, evaluate=())
    for a, b in zip(nets, copies, strict=True):
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_a_teacher_whose_output_is_not_a_row_per_input_is_refused(digits):
    class FirstRow(nn.Module):
        def forward(self, x):
            return x[:1, :10]

    data, net = (digits.X_train.double(), digits.y_train), mlp((16,), seed=1).double()
    for run in (lambda: train(net, data, epochs=1, teacher=FirstRow(), progress=False),
                lambda: train_many([net], data, epochs=1, seeds=[0], teacher=FirstRow(), progress=False)):
        with pytest.raises(ValueError, match=r"teacher must map X of shape \(n, features\) to logits"):
            run()


@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"lr": -0.1}, ValueError, r"lr must be in \(0, inf\)"),
        ({"lr": math.nan}, ValueError, "lr must be finite"),
        ({"momentum": 1.0}, ValueError, r"momentum must be in \[0, 1\)"),
        ({"weight_decay": -1.0}, ValueError, r"weight_decay must be in \[0, inf\)"),
        ({"epochs": 0}, ValueError, r"epochs must be an integer in \[1, inf\]"),
        ({"batch_size": 0}, ValueError, r"batch_size must be an integer in \[1, inf\]"),
        ({"optimizer": "adam"}, ValueError, "optimizer must be one of"),
        ({"optimizer": "sgd8bit", "masks": {}}, ValueError, "masks must be None"),
        ({"masks": {"nope": torch.ones(1)}}, ValueError, "masks has an unknown name 'nope'"),
        ({"momentum": 0.0, "nesterov": True}, ValueError, r"momentum must be in \(0, 1\) with nesterov=True"),
        ({"momentum": 0.0, "nesterov": True, "optimizer": "sgd8bit"}, ValueError, r"with nesterov=True"),
        ({"momentum": 0.0, "nesterov": True, "masks": {}}, ValueError, r"with nesterov=True"),
    ],
)
def test_bad_training_arguments(digits, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        train(mlp(seed=0), digits, progress=False, **kwargs)


def test_bad_data():
    with pytest.raises(TypeError, match="data must have X_train"):
        train(mlp(seed=0), "digits", progress=False)
    with pytest.raises(ValueError, match="data training part must have"):
        train(mlp(seed=0), (torch.zeros(5, 64), torch.zeros(4, dtype=torch.long)), progress=False)


# ----------------------------------------------------------------------------- 8-bit momentum


@settings(deadline=None, max_examples=60)
@given(
    n=st.integers(1, 700),
    block=st.sampled_from([1, 7, 64, 256]),
    seed=st.integers(0, 1000),
    log_scale=st.floats(-6, 3),
)
def test_blockwise_round_trip_error_is_bounded(n, block, seed, log_scale):
    x = torch.randn(n, generator=torch.Generator().manual_seed(seed)) * 10.0**log_scale
    codes, absmax = quantize_blockwise(x, block)
    assert codes.dtype == torch.uint8 and codes.shape == (n,)
    assert absmax.dtype == torch.float32 and absmax.shape == (math.ceil(n / block),)
    back = dequantize_blockwise(codes, absmax, x.shape, block)
    bound = absmax.repeat_interleave(block)[:n] / 254
    assert torch.all((back - x).abs() <= bound * (1 + 1e-5) + 1e-12)


def test_dynamic_code_keeps_small_values_that_linear_loses():
    x = torch.tensor([1.0] + [1e-3] * 255)
    lin = dequantize_blockwise(*quantize_blockwise(x, 256, "linear"), x.shape, 256, "linear")
    dyn = dequantize_blockwise(*quantize_blockwise(x, 256, "dynamic"), x.shape, 256, "dynamic")
    assert torch.all(lin[1:] == 0)
    assert torch.allclose(dyn[1:], x[1:], rtol=0.1)
    cmap = code_map("dynamic")
    assert cmap.numel() == 256 and 0.0 in cmap and cmap.max() == 1.0 and cmap.min() == -0.99296875


def _dynamic_tree_from_bits() -> list[float]:
    """Dettmers' dynamic tree type read bit by bit: a sign bit, then e zeros, a 1 and 6 - e fraction
    bits (the value 10^-e (0.1 + 0.9 (fraction + 1/2) / 2^(6-e))), or seven zeros for 0; and the
    extra 1.0 bitsandbytes appends."""
    values = {0.0, 1.0}
    for sign in (1, -1):
        for pattern in range(1, 128):  # the seven bits after the sign, not all zero
            bits = format(pattern, "07b")
            e = bits.index("1")
            fraction_bits = bits[e + 1:]
            f = len(fraction_bits)
            j = int(fraction_bits, 2) if f else 0
            values.add(sign * 10.0 ** -e * (0.1 + 0.9 * (j + 0.5) / 2**f))
    return sorted(values)


def test_dynamic_code_is_the_dynamic_tree_type():
    """The library's map equals the bit-by-bit reading of the type (float32 rounding apart)."""
    expected = torch.tensor(_dynamic_tree_from_bits(), dtype=torch.float64)
    assert expected.numel() == 256
    assert torch.allclose(code_map("dynamic").double(), expected, rtol=1e-6, atol=0)
    per_decade = [int(((expected.abs() > 10.0 ** -(e + 1)) & (expected.abs() < 10.0 ** -e)).sum())
                  for e in range(7)]
    assert per_decade == [2 * 64, 2 * 32, 2 * 16, 2 * 8, 2 * 4, 2 * 2, 2 * 1]


def test_blockwise_round_trip_is_the_nearest_map_entry_times_absmax():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(5000, generator=gen) * torch.logspace(-6, 0, 5000)
    for code, block in (("dynamic", 2048), ("linear", 2048), ("dynamic", 256)):
        codes, absmax = quantize_blockwise(x, block, code)
        back = dequantize_blockwise(codes, absmax, x.shape, block, code)
        scale = absmax.repeat_interleave(block)[: x.numel()]
        cmap = code_map(code).double()
        nearest = cmap[(x.double()[:, None] / scale.double()[:, None] - cmap).abs().argmin(1)]
        assert torch.allclose(back.double(), nearest * scale.double(), rtol=1e-6, atol=1e-30), code


def test_8bit_momentum_follows_float32_momentum():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(300, 300, generator=gen) / 30
    H = A @ A.T + 0.1 * torch.eye(300)
    x0 = torch.randn(300, generator=gen)
    paths = []
    for cls in (torch.optim.SGD, SGD8bitMomentum):
        x = torch.nn.Parameter(x0.clone())
        opt = cls([x], lr=0.1, momentum=0.9, weight_decay=1e-3)
        for _ in range(100):
            opt.zero_grad()
            (0.5 * x @ H @ x).backward()
            opt.step()
        paths.append(x.detach())
    f32, q8 = paths
    assert (q8 - f32).norm() < 0.05 * x0.norm()
    assert q8.norm() < 0.5 * x0.norm()  # and it does converge


def test_8bit_momentum_trains_digits_about_as_well():
    """Float64 (the same result on every CPU) and three seeds (one seed swings by a point or two)."""
    wide = load_digits_split(dtype=torch.float64)
    accs: dict[str, list[float]] = {"sgd": [], "sgd8bit": []}
    for seed in range(3):
        for opt in accs:
            model = mlp(seed=seed).double()
            h = train(model, wide, epochs=8, lr=0.05, momentum=0.9, batch_size=32, optimizer=opt,
                      seed=seed, progress=False)
            accs[opt].append(h.test_acc[-1])
            state = optimizer_state_bytes(h.optimizer)
            expected = momentum_state_bytes(model)
            if opt == "sgd":
                assert state == 2 * expected.float32  # a float64 buffer: 8 bytes per parameter
            else:
                assert state == expected.eight_bit
    assert min(accs["sgd8bit"]) > 0.93
    assert abs(np.mean(accs["sgd8bit"]) - np.mean(accs["sgd"])) < 0.02


def test_state_bytes_arithmetic():
    sb = momentum_state_bytes([torch.zeros(1000), torch.zeros(10)], block_size=256)
    assert sb.n_parameters == 1010 and sb.float32 == 4040
    assert sb.eight_bit == 1000 + 4 * 4 + 10 + 4 * 1
    assert sb.ratio == pytest.approx(4040 / 1030)


def test_bad_8bit_arguments():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        SGD8bitMomentum([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="code must be one of"):
        quantize_blockwise(torch.ones(3), code="log")
    with pytest.raises(ValueError, match=r"block_size must be an integer in \[1, "):
        quantize_blockwise(torch.ones(3), block_size=0)
    with pytest.raises(ValueError, match="x must be finite"):
        quantize_blockwise(torch.tensor([1.0, float("nan")]))
    for bad in (float("inf"), float("-inf"), float("nan")):  # in the last, padded block too
        with pytest.raises(ValueError, match="x must be finite"):
            quantize_blockwise(torch.cat([torch.ones(300), torch.tensor([bad])]), block_size=256)
    with pytest.raises(ValueError, match="x must not be empty"):
        quantize_blockwise(torch.ones(0))
    with pytest.raises(ValueError, match="absmax must have"):
        dequantize_blockwise(torch.zeros(10, dtype=torch.uint8), torch.ones(2), (10,), 256)


def test_state_bytes_of_a_real_optimizer_after_one_step():
    p = torch.nn.Parameter(torch.ones(600))
    opt = SGD8bitMomentum([p], lr=0.1)
    p.grad = torch.ones(600)
    opt.step()
    assert optimizer_state_bytes(opt) == 600 + 4 * 3
    assert np.isclose(momentum_state_bytes([p]).ratio, 2400 / 612)


def test_paired_accuracies_train_each_optimizer_alike_per_seed(digits):
    acc, state = paired_accuracies(digits, ("sgd", "sgd8bit"), seeds=[0, 1], epochs=2, batch_size=128)
    assert set(acc) == {"sgd", "sgd8bit"} and all(len(v) == 2 for v in acc.values())
    net = mlp(seed=1)
    train(net, digits, epochs=2, lr=0.1, momentum=0.9, batch_size=128, seed=1, progress=False)
    assert acc["sgd"][1] == accuracy(net, digits.X_test, digits.y_test)
    assert state["sgd8bit"] < state["sgd"]
    with pytest.raises(ValueError, match="optimizers"):
        paired_accuracies(digits, ("adam",), seeds=[0], epochs=1)


def test_evaluate_chooses_the_recorded_accuracies_and_changes_nothing_else(digits):
    runs = {}
    for evaluate in (("train", "test"), ("test",), ()):
        model = mlp(seed=0)
        history = train(model, digits, epochs=3, lr=0.05, batch_size=32, seed=1, progress=False,
                        evaluate=evaluate)
        runs[evaluate] = (model, history)
    full_model, full = runs[("train", "test")]
    assert len(full.train_acc) == len(full.test_acc) == 3
    assert runs[("test",)][1].train_acc == [] and runs[("test",)][1].test_acc == full.test_acc
    assert runs[()][1].train_acc == runs[()][1].test_acc == []
    for model, history in runs.values():
        assert history.train_loss == full.train_loss
        pairs = zip(model.parameters(), full_model.parameters(), strict=True)
        assert all(torch.equal(p, q) for p, q in pairs)
    for bad in ("test", ("valid",)):
        with pytest.raises(ValueError, match="evaluate must be a tuple of 'train' and/or 'test'"):
            train(mlp(seed=0), digits, epochs=1, progress=False, evaluate=bad)


# ----------------------------------------------------------------------------- 8-bit momentum, batched


def _train_8bit_alone(net, data, epochs, lr, batch_size, seed, block_size, code):
    """train()'s loop with SGD8bitMomentum(block_size, code) (train takes only the default variant)."""
    opt = SGD8bitMomentum(net.parameters(), lr=lr, momentum=0.9, block_size=block_size, code=code)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(data.X_train.shape[0], generator=gen)
        for start in range(0, data.X_train.shape[0], batch_size):
            idx = perm[start : start + batch_size]
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(net(data.X_train[idx]), data.y_train[idx]).backward()
            opt.step()
    return opt


@pytest.mark.parametrize("block_size, code", [(256, "linear"), (2048, "dynamic"), (100, "dynamic")])
def test_train_many_8bit_is_bit_for_bit_each_run_alone(block_size, code):
    from lessons_lib.momentum8bit import train_many_8bit

    data = load_digits_split(dtype=torch.float64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        seeds = [0, 3]
        nets = [mlp(seed=s).double() for s in seeds]
        state = train_many_8bit(nets, data, epochs=2, lr=0.1, momentum=0.9, batch_size=128,
                                seeds=seeds, block_size=block_size, code=code)
        for s, net, n_bytes in zip(seeds, nets, state, strict=True):
            alone = mlp(seed=s).double()
            opt = _train_8bit_alone(alone, data, 2, 0.1, 128, s, block_size, code)
            assert all(torch.equal(a, b) for a, b in zip(alone.parameters(), net.parameters(), strict=True))
            assert n_bytes == optimizer_state_bytes(opt) == momentum_state_bytes(alone, block_size).eight_bit
    finally:
        torch.set_num_threads(threads)


def test_train_many_8bit_default_is_trains_sgd8bit_and_refuses_bad_input(digits):
    from lessons_lib.momentum8bit import train_many_8bit

    nets = [mlp(seed=1)]
    train_many_8bit(nets, digits, epochs=1, lr=0.1, momentum=0.9, batch_size=128, seeds=[1], progress=True)
    alone = mlp(seed=1)
    train(alone, digits, epochs=1, lr=0.1, momentum=0.9, batch_size=128, seed=1, optimizer="sgd8bit",
          progress=False)
    pairs = zip(alone.parameters(), nets[0].parameters(), strict=True)
    assert max((a - b).abs().max().item() for a, b in pairs) < 1e-6  # float32 data: up to the last bits
    for kwargs, name in (({"momentum": 0.0}, "momentum"), ({"lr": 0.0}, "lr"), ({"code": "log"}, "code"),
                         ({"block_size": 0}, "block_size"), ({"seeds": [0, 1]}, "seeds"),
                         ({"epochs": 0}, "epochs")):
        args = dict(epochs=1, lr=0.1, momentum=0.9, batch_size=128, seeds=[0])
        args.update(kwargs)
        with pytest.raises(ValueError, match=name):
            train_many_8bit([mlp(seed=0)], digits, **args)
    with pytest.raises(ValueError, match="must stay finite"):
        train_many_8bit([mlp(seed=0)], digits, epochs=1, lr=1e30, momentum=0.9, batch_size=128, seeds=[0])
    with pytest.raises(TypeError, match="models"):
        train_many_8bit(mlp(seed=0), digits, seeds=[0])


def test_nearest_entry_table_equals_bucketize_on_the_midpoints():
    from lessons_lib.momentum8bit import _nearest_codes

    cmap = code_map("dynamic")
    mids = (cmap[1:] + cmap[:-1]) / 2
    gen = torch.Generator().manual_seed(0)
    magnitudes = 10.0 ** (-12 * torch.rand(200_000, generator=gen))  # 1e-12 .. 1, log-uniform
    signs = torch.where(torch.rand(200_000, generator=gen) < 0.5, -1.0, 1.0)
    up, down = torch.tensor(2.0), torch.tensor(-2.0)
    x = torch.cat([signs * magnitudes, torch.rand(100_000, generator=gen) * 2 - 1, cmap, mids,
                   torch.nextafter(mids, up), torch.nextafter(mids, down), torch.nextafter(cmap, up),
                   torch.nextafter(cmap, down), torch.tensor([0.0, -0.0, 1.0, -1.0, 1e-45, -1e-45])])
    x = x.clamp(-1, 1)
    assert torch.equal(_nearest_codes(x, "dynamic").long(), torch.bucketize(x, mids))
