"""Tests of lessons_lib.batched_training: train_many equals training.train run model by model."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from lessons_lib.batched_training import _distilled_loss_grad, train_many
from lessons_lib.data import load_digits_split
from lessons_lib.models import mlp
from lessons_lib.pruning import MaskedSGD, global_magnitude_masks, prunable_weights
from lessons_lib.training import _distill, _teacher_log_probs, train

TOL = 1e-12
pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one thread, as the notebooks run


@pytest.fixture(scope="module")
def digits():
    return load_digits_split(dtype=torch.float64)


def _one_by_one(make, data, seeds, lrs, moms, decays=None, **kw):
    out = []
    for seed, lr, mom, wd in zip(seeds, lrs, moms, decays or [0.0] * len(seeds), strict=True):
        net = make(seed)
        hist = train(net, data, lr=lr, momentum=mom, seed=seed, weight_decay=wd, progress=False, **kw)
        out.append((net, hist))
    return out


def _assert_same(nets, histories, reference, moms, tol=TOL):
    assert len(histories) == len(reference)
    for net, hist, (ref_net, ref_hist), mom in zip(nets, histories, reference, moms, strict=True):
        assert len(hist.train_loss) == len(ref_hist.train_loss)
        assert max(abs(a - b) for a, b in zip(hist.train_loss, ref_hist.train_loss, strict=True)) <= tol
        assert hist.train_acc == ref_hist.train_acc and hist.test_acc == ref_hist.test_acc
        for p, q in zip(net.parameters(), ref_net.parameters(), strict=True):
            assert p.shape == q.shape and p.dtype == q.dtype
            assert float((p.detach() - q.detach()).abs().max()) <= tol
            assert float((p.grad - q.grad).abs().max()) <= tol
        state = {id(p): s for p, s in hist.optimizer.state.items()}
        ref_state = {id(q): s for q, s in ref_hist.optimizer.state.items()}
        assert isinstance(hist.optimizer, torch.optim.SGD)
        assert hist.optimizer.state_dict()["param_groups"] == ref_hist.optimizer.state_dict()["param_groups"]
        assert hist.optimizer.defaults["momentum"] == mom
        if mom == 0:
            assert not any("momentum_buffer" in s for s in state.values())
        for p, q in zip(net.parameters(), ref_net.parameters(), strict=True):
            if mom != 0:
                buf, ref_buf = state[id(p)]["momentum_buffer"], ref_state[id(q)]["momentum_buffer"]
                assert buf.shape == ref_buf.shape
                assert float((buf - ref_buf).abs().max()) <= tol


@pytest.mark.parametrize(
    ("hidden", "batch_size", "epochs", "lrs", "moms", "decays", "evaluate"),
    [
        # uneven last batch: 1,347 = 42 * 32 + 3
        ((16,), 32, 3, [0.1, 0.01, 0.05, 0.1], [0.9, 0.9, 0.0, 0.5], [0.0] * 4, ("train", "test")),
        # two hidden layers, batch 100 (last batch 47), one lr, momentum and weight decay for all
        ((12, 8), 100, 2, [0.05] * 3, [0.9] * 3, [5e-4] * 3, ("test",)),
        # weight decay per model
        ((10,), 64, 2, [0.1, 0.02, 0.1], [0.9, 0.5, 0.0], [5e-4, 0.0, 1e-2], ("train",)),
        # a linear classifier (no hidden layer), full batch, no evaluation
        ((), 2000, 4, [0.3, 0.1], [0.0, 0.95], [0.0, 0.0], ()),
    ],
)
def test_train_many_equals_train_model_by_model(digits, hidden, batch_size, epochs, lrs, moms, decays,
                                                evaluate):
    seeds = list(range(3, 3 + len(lrs)))
    seeds[-1] = seeds[0]  # two models may share a seed (same data order, other settings)

    def make(seed):
        return mlp(hidden, seed=seed).double()

    kw = {"epochs": epochs, "batch_size": batch_size, "evaluate": evaluate}
    reference = _one_by_one(make, digits, seeds, lrs, moms, decays, **kw)
    nets = [make(s) for s in seeds]
    same = len(set(lrs)) == 1 and len(set(moms)) == 1 and len(set(decays)) == 1
    histories = train_many(nets, digits, lr=lrs[0] if same else lrs, momentum=moms[0] if same else moms,
                           weight_decay=decays[0] if same else decays, seeds=seeds, progress=False, **kw)
    _assert_same(nets, histories, reference, moms)
    assert all(net.training for net in nets)


def test_train_many_on_a_tuple_without_bias_and_with_a_progress_bar():
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(45, 5, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (45,), generator=gen)

    def make(seed):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(5, 7, bias=False), nn.ReLU(), nn.Linear(7, 3)).double()

    seeds, lrs, moms = [0, 1], [0.2, 0.02], [0.8, 0.3]
    reference = _one_by_one(make, (X, y), seeds, lrs, moms, epochs=5, batch_size=10)
    nets = [make(s) for s in seeds]
    histories = train_many(nets, (X, y), epochs=5, lr=lrs, momentum=moms, batch_size=10, seeds=seeds)
    _assert_same(nets, histories, reference, moms)
    assert all(h.test_acc == [] and len(h.train_acc) == 5 for h in histories)


def test_train_many_in_float32_as_the_lessons_09_and_10_train():
    data = load_digits_split(seed=0)  # float32
    seeds, lrs, moms = [0, 1, 2], [0.1, 0.1, 0.05], [0.9, 0.9, 0.0]
    reference = _one_by_one(lambda s: mlp((64, 32), seed=s), data, seeds, lrs, moms, [5e-4] * 3,
                            epochs=2, evaluate=("test",))
    nets = [mlp((64, 32), seed=s) for s in seeds]
    histories = train_many(nets, data, epochs=2, lr=lrs, momentum=moms, weight_decay=5e-4, seeds=seeds,
                           progress=False, evaluate=("test",))
    _assert_same(nets, histories, reference, moms, tol=1e-6)


def test_train_many_is_bit_for_bit_train_with_one_thread(digits):
    """What lets lessons 09, 10 and 13 switch without a printed digit changing (see the module)."""
    seeds, lrs, moms = [0, 1, 0], [1e-2, 0.1, 1e-2], [0.9, 0.9, 0.0]
    reference = _one_by_one(lambda s: mlp((64,), seed=s).double(), digits, seeds, lrs, moms, epochs=2,
                            batch_size=32, evaluate=("test",))
    nets = [mlp((64,), seed=s).double() for s in seeds]
    histories = train_many(nets, digits, epochs=2, lr=lrs, momentum=moms, batch_size=32, seeds=seeds,
                           progress=False, evaluate=("test",))
    _assert_same(nets, histories, reference, moms, tol=0.0)


def test_train_many_with_masks_equals_train_with_masked_sgd(digits):
    """Lesson 10's fine-tuning of pruned networks: per model its own masks (or none)."""
    seeds = [0, 1, 2]
    sparsity = [0.5, 0.9, None]

    def start(seed):
        return mlp((16, 8), seed=seed).double()

    masks = [None if s is None else global_magnitude_masks(prunable_weights(start(seed)), s)
             for seed, s in zip(seeds, sparsity, strict=True)]
    reference = []
    for seed, model_masks in zip(seeds, masks, strict=True):
        net = start(seed)
        hist = train(net, digits, epochs=2, lr=0.05, momentum=0.9, weight_decay=5e-4, seed=10 + seed,
                     masks=model_masks, progress=False, evaluate=("test",))
        reference.append((net, hist))
    nets = [start(seed) for seed in seeds]
    histories = train_many(nets, digits, epochs=2, lr=0.05, momentum=0.9, weight_decay=5e-4,
                           seeds=[10 + s for s in seeds], masks=masks, progress=False, evaluate=("test",))
    _assert_same(nets, histories, reference, [0.9] * 3)
    assert isinstance(histories[0].optimizer, MaskedSGD) and not isinstance(histories[2].optimizer, MaskedSGD)
    for net, model_masks in zip(nets[:2], masks[:2], strict=True):
        params = dict(net.named_parameters())
        assert all(int((params[name][~m] != 0).sum()) == 0 for name, m in model_masks.items())


def test_train_many_with_teachers_is_bit_for_bit_train_with_teacher(digits):
    """Lesson 11's distilled fine-tuning: masks and a teacher per model, as train(..., teacher=...)."""
    seeds = [0, 1, 2]
    teachers = [mlp((32, 16), seed=50 + s).double() for s in seeds]
    for teacher, seed in zip(teachers, seeds, strict=True):
        train(teacher, digits, epochs=1, lr=0.1, momentum=0.9, seed=seed, progress=False, evaluate=())
    masks = [global_magnitude_masks(prunable_weights(t), s) for t, s in zip(teachers, [0.5, 0.9, 0.75],
                                                                           strict=True)]
    reference = []
    for seed, teacher, model_masks, alpha in zip(seeds, teachers, masks, [0.9, 0.5, 0.9], strict=True):
        net = copy.deepcopy(teacher)
        hist = train(net, digits, epochs=2, lr=0.03, momentum=0.9, batch_size=64, seed=10 + seed,
                     masks=model_masks, teacher=teacher, alpha=alpha, temperature=4.0, progress=False,
                     evaluate=("test",))
        reference.append((net, hist))
    for alphas in ([0.9, 0.5, 0.9],):
        nets = [copy.deepcopy(t) for t in teachers]
        histories = []
        for a in sorted(set(alphas)):  # train_many takes one alpha: the models of each alpha together
            group = [m for m in range(3) if alphas[m] == a]
            histories += list(zip(group, train_many(
                [nets[m] for m in group], digits, epochs=2, lr=0.03, momentum=0.9, batch_size=64,
                seeds=[10 + seeds[m] for m in group], masks=[masks[m] for m in group],
                teacher=[teachers[m] for m in group], alpha=a, progress=False, evaluate=("test",)),
                strict=True))
        histories = [h for _, h in sorted(histories, key=lambda pair: pair[0])]
        _assert_same(nets, histories, reference, [0.9] * 3, tol=0.0)
    # one teacher for every model
    ref = copy.deepcopy(teachers[1])
    train(ref, digits, epochs=1, lr=0.03, momentum=0.9, seed=7, teacher=teachers[0], progress=False,
          evaluate=())
    both = [copy.deepcopy(teachers[1]), copy.deepcopy(teachers[2])]
    train_many(both, digits, epochs=1, lr=0.03, momentum=0.9, seeds=[7, 8], teacher=teachers[0],
               progress=False, evaluate=())
    assert all(torch.equal(p, q) for p, q in zip(ref.parameters(), both[0].parameters(), strict=True))


def _autograd_distilled(logits, target, teacher_logits, alpha, temperature, stacked):
    """train's loss per model, its own _distill on the teacher's log-probabilities (an nn.Identity teacher
    fed the logits), and its gradient by autograd: from one stacked leaf (train_many before
    _distilled_loss_grad) or from one leaf per model (train)."""
    k = logits.shape[0]
    leaves = ([logits.clone().requires_grad_()] if stacked
              else [logits[m].clone().requires_grad_() for m in range(k)])
    losses = []
    for m in range(k):
        z = leaves[0][m] if stacked else leaves[m]
        loss = nn.functional.cross_entropy(z, target[m, :, 0])  # train's loss, as train writes it
        soft = _distill(z, _teacher_log_probs(nn.Identity(), teacher_logits[m], temperature), temperature)
        losses.append((1 - alpha) * loss + alpha * soft)
    torch.autograd.backward(losses)
    grad = leaves[0].grad if stacked else torch.stack([leaf.grad for leaf in leaves])
    return torch.stack(losses).detach(), grad


def _written_out(logits, target, teacher_logits, alpha, temperature):
    """_distilled_loss_grad on the teachers' log-probabilities, model by model (which rows train_many takes
    from its tables is tested end to end, against train)."""
    teacher_logp = torch.stack([_teacher_log_probs(nn.Identity(), t, temperature) for t in teacher_logits])
    return _distilled_loss_grad(logits, target, teacher_logp, alpha, temperature)


def _distillation_inputs(dtype, k, batch, spread=3.0, teacher_is_student=False):
    gen = torch.Generator().manual_seed(100 * k + batch)
    logits = spread * torch.randn(k, batch, 10, generator=gen, dtype=dtype)
    teacher_logits = 3 * torch.randn(k, batch, 10, generator=gen, dtype=dtype)
    if teacher_is_student:
        teacher_logits = logits.clone()
    target = torch.randint(0, 10, (k, batch, 1), generator=gen)
    return logits, target, teacher_logits


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("k, batch", [(1, 64), (3, 64), (5, 53), (5, 54), (2, 1), (4, 7)])
@pytest.mark.parametrize("alpha, temperature", [(0.9, 2.0), (0.9, 3.0), (0.7, 3.0), (0.9, 4.0), (0.5, 2.0),
                                                (0.0, 3.0), (1.0, 4.0)])
def test_distilled_loss_grad_is_autograd_on_trains_loss(dtype, k, batch, alpha, temperature):
    """The written-out losses and gradients equal autograd's for train's loss, model by model, bit for bit:
    full and partial minibatches (lesson 11's: K = 5, B = 64 and 53, alpha = 0.9, T = 2), a temperature
    whose square and quotients round (T = 3), alpha at 0 and 1, float32 and float64."""
    logits, target, teacher_logits = _distillation_inputs(dtype, k, batch)
    got_losses, got_grad = _written_out(logits, target, teacher_logits, alpha, temperature)
    for stacked in (True, False):
        losses, grad = _autograd_distilled(logits, target, teacher_logits, alpha, temperature, stacked)
        assert torch.equal(got_losses, losses) and torch.equal(got_grad, grad)
    other_losses, other_grad = _written_out(logits, target, teacher_logits, 0.6, temperature)
    assert not torch.equal(other_losses, got_losses) and not torch.equal(other_grad, got_grad)  # it can fail


def test_distilled_loss_grad_gives_the_stacked_leafs_zeros():
    """Logits far apart, the teacher's the same as the student's (alpha = 1, T = 1), make both softmaxes
    underflow: the gradient holds exact zeros, and train's autograd (one leaf per model) gives some as -0,
    which one stacked leaf (train_many before _distilled_loss_grad) turned into +0: the function keeps
    the stacked leaf's signs, so the trained weights stay those of the stored runs."""
    logits, target, teacher_logits = _distillation_inputs(torch.float64, 3, 64, spread=400.0,
                                                          teacher_is_student=True)
    _, per_model = _autograd_distilled(logits, target, teacher_logits, 1.0, 1.0, stacked=False)
    _, stacked = _autograd_distilled(logits, target, teacher_logits, 1.0, 1.0, stacked=True)
    _, got = _written_out(logits, target, teacher_logits, 1.0, 1.0)
    negative_zero = (per_model == 0) & per_model.signbit()
    assert int(negative_zero.sum()) > 0 and not stacked.signbit()[negative_zero].any()  # the case tested
    assert torch.equal(got, stacked) and torch.equal(got.signbit(), stacked.signbit())


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_train_many_distils_as_train_on_lesson_11s_setting(dtype):
    """Lesson 11's fine-tuning: five masked models, each with its own teacher, alpha = 0.9, T = 2, on the
    1,077 training images (16 minibatches of 64 and one of 53), one epoch: train_many equals train run
    model by model, weights and losses bit for bit."""
    from lessons_lib.splits import load_digits_splits

    data = load_digits_splits(validation_size=0.2, seed=0, dtype=dtype)
    fit = (data.X_train, data.y_train)
    assert data.X_train.shape[0] % 64 == 53
    teachers = [mlp((32, 16), seed=70 + s).to(dtype) for s in range(5)]
    for s, teacher in enumerate(teachers):
        train(teacher, fit, epochs=1, lr=0.1, momentum=0.9, seed=s, progress=False, evaluate=())
    masks = [global_magnitude_masks(prunable_weights(t), 0.75) for t in teachers]
    reference = []
    for s, (teacher, model_masks) in enumerate(zip(teachers, masks, strict=True)):
        net = copy.deepcopy(teacher)
        hist = train(net, fit, epochs=1, lr=0.1, momentum=0.9, batch_size=64, seed=10 + s,
                     masks=model_masks, teacher=teacher, alpha=0.9, temperature=2.0, progress=False,
                     evaluate=())
        reference.append((net, hist))
    nets = [copy.deepcopy(t) for t in teachers]
    histories = train_many(nets, fit, epochs=1, lr=0.1, momentum=0.9, batch_size=64,
                           seeds=[10 + s for s in range(5)], masks=masks, teacher=teachers, alpha=0.9,
                           temperature=2.0, progress=False, evaluate=())
    _assert_same(nets, histories, reference, [0.9] * 5, tol=0.0)


def test_train_many_leaves_the_global_random_state_alone(digits):
    before = torch.random.get_rng_state()
    train_many([mlp((4,), seed=0).double()], digits, epochs=1, seeds=[0], progress=False, evaluate=())
    assert torch.equal(before, torch.random.get_rng_state())


def _nets(k=2, hidden=(4,)):
    return [mlp(hidden, seed=s).double() for s in range(k)]


@pytest.mark.parametrize(
    ("change", "error", "names"),
    [
        ({"models": []}, ValueError, "models"),
        ({"models": mlp((4,))}, TypeError, "models"),
        ({"models": [nn.Linear(64, 10)]}, TypeError, "models[0]"),
        ({"models": [nn.Sequential(nn.Linear(64, 10), nn.Tanh())]}, ValueError, "models"),
        ({"models": [nn.Sequential(nn.ReLU())]}, ValueError, "models"),
        ({"models": [mlp((4,), seed=0).double(), mlp((5,), seed=1).double()]}, ValueError, "models[1]"),
        ({"models": [mlp((4,), seed=0).double(), mlp((4,), seed=1)]}, ValueError, "dtype"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": [0.1, -0.1]}, ValueError, "lr"),
        ({"lr": [0.1, 0.1, 0.1]}, ValueError, "lr"),
        ({"lr": "fast"}, TypeError, "lr"),
        ({"momentum": 1.0}, ValueError, "momentum"),
        ({"momentum": [0.9]}, ValueError, "momentum"),
        ({"weight_decay": -1e-4}, ValueError, "weight_decay"),
        ({"weight_decay": [0.0, 0.0, 0.0]}, ValueError, "weight_decay"),
        ({"seeds": [0]}, ValueError, "seeds"),
        ({"seeds": [0, -1]}, ValueError, "seeds"),
        ({"seeds": [0, 1.5]}, TypeError, "seeds"),
        ({"seeds": 0}, ValueError, "seeds"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"evaluate": "test"}, ValueError, "evaluate"),
        ({"evaluate": ("valid",)}, ValueError, "evaluate"),
        ({"data": "digits"}, TypeError, "data"),
        ({"masks": [None]}, ValueError, "masks"),
        ({"teacher": "big"}, TypeError, "teacher"),
        ({"teacher": [mlp((4,)).double()]}, TypeError, "teacher"),
        ({"teacher": mlp((4,)).double(), "alpha": 1.5}, ValueError, "alpha"),
        ({"teacher": mlp((4,)).double(), "temperature": 0.0}, ValueError, "temperature"),
        ({"masks": [{"9.weight": torch.ones(4, 64, dtype=torch.bool)}, None]}, ValueError, "masks"),
        ({"masks": [{"0.weight": torch.ones(3, 3, dtype=torch.bool)}, None]}, ValueError, "masks"),
    ],
)
def test_train_many_refuses_bad_input_naming_the_parameter(digits, change, error, names):
    args = {"models": _nets(), "data": digits, "lr": 0.1, "momentum": 0.9, "seeds": [0, 1], "epochs": 1,
            "batch_size": 32, "evaluate": ()}
    args.update(change)
    models, data = args.pop("models"), args.pop("data")
    with pytest.raises(error) as info:
        train_many(models, data, progress=False, **args)
    assert names in str(info.value)


def test_train_many_refuses_shared_parameters_and_data_of_another_dtype(digits):
    net = mlp((4,), seed=0).double()
    with pytest.raises(ValueError, match="share"):
        train_many([net, net], digits, seeds=[0, 1], progress=False)
    with pytest.raises(ValueError, match="data"):
        train_many([mlp((4,), seed=0)], digits, seeds=[0], progress=False)  # float32 model, float64 data
