"""Table tests for lessons_lib.checks.pruning (lesson 10): right answers pass, the wrong ones fail
with a message (NotYet), never a traceback."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import torch
from torch.nn.utils import prune

from lessons_lib import pruning, selection
from lessons_lib.checks import NotYet
from lessons_lib.checks import pruning as check
from lessons_lib.data import load_digits_split
from lessons_lib.models import mlp
from lessons_lib.splits import load_digits_splits
from lessons_lib.training import accuracy, train

# ---------------------------------------------------------------- exercises 1 and 2


@pytest.mark.parametrize("answer", [27000, 27000.0, np.float64(27000), round(0.9 * 300 * 100)])
def test_dropped_count_right(answer):
    check.dropped_count(answer)


@pytest.mark.parametrize("answer", [3000, 270, 90, "27000", None, True, [27000, 1], 26999])
def test_dropped_count_wrong(answer):
    with pytest.raises(NotYet):
        check.dropped_count(answer)


@pytest.mark.parametrize("answer", [-0.018, -0.1 * 0.02 * 0.9 / (1 - 0.9), -0.0180000, np.float32(-0.018),
                                    -0.01800004, -0.01799996])  # review 4, finding 3: -0.0180000 to 6 digits
def test_drift_limit_right(answer):
    check.drift_limit(answer)


@pytest.mark.parametrize("answer", [0.018, -0.02, -0.0018, -0.18, -0.016, -0.0162, -0.01799, "-0.018", None,
                                    False, [-0.018, 0.0]])
def test_drift_limit_wrong(answer):
    with pytest.raises(NotYet):
        check.drift_limit(answer)


@pytest.mark.parametrize("answer, message", [
    (-0.016, "after about 21 steps"),  # a short simulation, or a truncated sum: short of the limit
    (-0.0179, "after about 49 steps"),
    (-0.0162, "from k = 2"),  # beta^2 / (1 - beta): one step too few
    (-0.02, "from k = 0"),
    (-0.0018, "only the first step"),
    (0.018, "negative direction"),
    (-0.18, "learning rate"),
    (-0.019, "too small"),
    (0, "buffer is not masked"),  # the belief that a masked gradient keeps the weight at 0
    (0.0, "buffer is not masked"),
])
def test_drift_limit_names_the_mistake(answer, message):
    with pytest.raises(NotYet, match=message):
        check.drift_limit(answer)


def test_drift_limit_names_the_last_step_before_pruning():
    """Review 3, finding 11: -eta b0 = -0.002 is its own mistake, not "after about 1 steps"."""
    for answer in (-0.002, -0.1 * 0.02):
        with pytest.raises(NotYet, match="last step before pruning") as error:
            check.drift_limit(answer)
        assert "after about" not in str(error.value)


def test_dropped_count_hint_writes_entries_as_big_n():
    """Review 3, finding 14: lesson 10 writes the number of entries N (n is the bits of lesson 09)."""
    with pytest.raises(NotYet, match=r"N = 300 \* 100") as error:
        check.dropped_count(26999)
    assert "n = 300" not in str(error.value)


@pytest.mark.parametrize("answer, message, not_in", [
    (-0.00162, "second step's move alone", "after about"),  # -η β² b0: the second step's move taken alone
    (-0.1 * 0.02 * 0.9**2, "second step's move alone", "after about"),
    (-0.0017999, "after one step", "1 steps"),  # review 10v, finding 9: not "after about 1 steps"
    (-0.001, "less than the first step alone", "after about"),
])
def test_drift_limit_near_misses(answer, message, not_in):
    """Review 10v, finding 9: near misses get an explanation that is true of them."""
    with pytest.raises(NotYet, match=message) as error:
        check.drift_limit(answer)
    assert not_in not in str(error.value)


@pytest.mark.parametrize("answer, message", [  # review round 1 (lesson 10 fix), finding 5: each slip named
    (0.9, "a fraction, not a count"),  # the sparsity itself
    (0.1, "a fraction, not a count"),
    (30000, "every entry of the matrix"),
    (6464, "weights of the lesson's network"),
    (27000.5, "not a whole number"),
    (-27000, "negative"),
    (2700, "factor of 10"),
    (270000, "factor of 10"),
])
def test_dropped_count_names_the_slip(answer, message):
    with pytest.raises(NotYet, match=message):
        check.dropped_count(answer)


@pytest.mark.parametrize("answer, message", [  # review round 1 (lesson 10 fix), finding 5
    (0.0162, r"positive.*Apart from the sign: that sums β\^k from k = 2"),
    (0.02, r"positive.*Apart from the sign: that is -η b0/\(1 - β\), the sum of β\^k from k = 0"),
    (0.002, r"positive.*Apart from the sign: -η b0 is the last step before pruning"),
    (0.9, r"is positive: the step is w - η b"),
    (-0.2, "leaves out the learning rate"),  # -b0 / (1 - β): no η, and the sum from k = 0
    (-0.0198, "too small for the limit of the pruned weight, past it"),
    (-0.02222, "never passes it"),
])
def test_drift_limit_names_more_slips(answer, message):
    with pytest.raises(NotYet, match=message) as error:
        check.drift_limit(answer)
    assert "Traceback" not in str(error.value)


@pytest.mark.parametrize("answer, readings", [  # review round 2 (lesson 10), minor 6: η = 1 - β = 0.1 here
    (-0.02, [r"-η b0/\(1 - β\), the sum of β\^k from k = 0", r"-b0, the buffer itself"]),
    (-0.18, [r"-b0 β/\(1 - β\), which leaves out the learning rate",
             r"-η b0 β/\(1 - β\)\^2, which divides by 1 - β twice"]),
    (-0.2, [r"leaves out the learning rate", r"-η b0/\(1 - β\)\^2"]),
])
def test_drift_limit_names_both_readings_when_eta_is_one_minus_beta(answer, readings):
    """With η = 1 - β, two different slips give the same number: the message names both."""
    with pytest.raises(NotYet) as error:
        check.drift_limit(answer)
    for reading in readings:
        assert re.search(reading, str(error.value)), (reading, str(error.value))


@pytest.mark.parametrize("answer, message", [  # review round 2 (lesson 10), minor 5
    (np.sum(np.ones((300, 100)) * 0.9),
     r"27000\.000000000007 is 27000 up to a floating-point rounding error.*only the rounding is missing.*"
     r"round\(\) it"),
    ((1 - 0.9) * 30000,
     r"2999\.9999999999995 is 3000 up to a floating-point rounding error.*number of weights kept.*"
     r"round\(\) it"),
    (int((1 - 0.9) * 30000),
     r"2999 is the kept count.*truncated by int\(\).*set to zero, not kept.*Use round\(\)"),
    (30000 - int((1 - 0.9) * 30000),
     r"27001 is one above 27000, and 30000 - 2999.*int\(\) truncates.*Use round"),
    (26999, r"26999 is one below 27000: int\(\) truncates.*Use round\(\)"),
    (27000.5, r"27000\.5 is not a whole number"),
    # review round 3 (lesson 10), nit 1: the float-noise bound is absolute, so a typed 27000.02 is not noise
    (27000.02, r"27000\.02 is not a whole number"),
    (27000.000001, r"27000\.000001 is not a whole number"),
    (27000 - 1e-9, r"26999\.999999999 is 27000 up to a floating-point rounding error"),
])
def test_dropped_count_float_noise_and_truncation(answer, message):
    """Float noise is shown with its digits (not as "27000 is not a whole number") and named; int() where
    round() belongs, one off, is named before "too small" or "too large"."""
    with pytest.raises(NotYet, match=message) as error:
        check.dropped_count(answer)
    assert "too small" not in str(error.value) and "too large" not in str(error.value)


def test_drift_limit_message_shows_enough_digits():
    with pytest.raises(NotYet, match=r"-0\.0180001 is too small"):  # 5.6e-6 relative: the 6th digit is off
        check.drift_limit(-0.0180001)
    with pytest.raises(NotYet, match=r"-0\.0179999 is short"):
        check.drift_limit(-0.0179999)


# ---------------------------------------------------------------- exercise 3


def right(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else (momentum * buf + g) * mask
    return (param - lr * (g + momentum * buf)) * mask, buf


def right_as_list(*args):
    return list(right(*args))


def right_torch_style(param, grad, buf, mask, lr, momentum, weight_decay):
    g = np.where(mask, grad + weight_decay * param, 0.0)
    buf = g if buf is None else np.where(mask, momentum * buf + g, 0.0)
    return np.where(mask, param - lr * (g + momentum * buf), 0.0), buf


def grad_masked_only(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else momentum * buf + g
    return param - lr * (g + momentum * buf), buf


def grad_and_weight_masked(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else momentum * buf + g
    return (param - lr * (g + momentum * buf)) * mask, buf


def heavy_ball(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else (momentum * buf + g) * mask
    return (param - lr * buf) * mask, buf


def old_buffer_lookahead(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    old = np.zeros_like(param) if buf is None else buf
    new = g.copy() if buf is None else (momentum * buf + g) * mask
    return (param - lr * (g + momentum * old)) * mask, new


def none_times_momentum(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    buf = (momentum * buf + g) * mask  # TypeError on the first step
    return (param - lr * (g + momentum * buf)) * mask, buf


def no_weight_decay(param, grad, buf, mask, lr, momentum, weight_decay):
    return right(param, grad, buf, mask, lr, momentum, 0.0)


def three_values(*args):
    return (*right(*args), 0)


def returns_none(*args):
    return None


def returns_dict(*args):  # review 10v round 2, finding 4
    param, buf = right(*args)
    return {"param": param, "buf": buf}


def buf_none(*args):
    param, _ = right(*args)
    return param, None


def swapped(*args):
    param, buf = right(*args)
    return buf, param


def in_float32(param, grad, buf, mask, lr, momentum, weight_decay):
    f32 = np.float32
    param, grad, mask = param.astype(f32), grad.astype(f32), mask.astype(f32)
    lr, momentum, weight_decay = f32(lr), f32(momentum), f32(weight_decay)
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else (momentum * buf.astype(f32) + g) * mask
    return (param - lr * (g + momentum * buf)) * mask, buf


def five_arguments(param, grad, buf, mask, lr):
    return right(param, grad, buf, mask, lr, 0.9, 0.01)


def keyword_only(*, param, grad, buf, mask, lr, momentum, weight_decay):
    return right(param, grad, buf, mask, lr, momentum, weight_decay)


def inverted_mask(param, grad, buf, mask, lr, momentum, weight_decay):
    return right(param, grad, buf, 1 - mask, lr, momentum, weight_decay)


def uphill(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else (momentum * buf + g) * mask
    return (param + lr * (g + momentum * buf)) * mask, buf


def decoupled_weight_decay(param, grad, buf, mask, lr, momentum, weight_decay):
    g = grad * mask
    buf = g.copy() if buf is None else (momentum * buf + g) * mask
    return (param - lr * (g + momentum * buf) - lr * weight_decay * param) * mask, buf


def minus_weight_decay(param, grad, buf, mask, lr, momentum, weight_decay):
    return right(param, grad, buf, mask, lr, momentum, -weight_decay)


def dampened(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else (momentum * buf + (1 - momentum) * g) * mask
    return (param - lr * (g + momentum * buf)) * mask, buf


def velocity_form(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    v = -lr * g if buf is None else (momentum * buf - lr * g) * mask
    return (param + momentum * v - lr * g) * mask, v


def lr_in_buffer(param, grad, buf, mask, lr, momentum, weight_decay):  # review round 2, minor 6
    g = (grad + weight_decay * param) * mask
    buf = lr * g if buf is None else (momentum * buf + lr * g) * mask
    return (param - (lr * g + momentum * buf)) * mask, buf


def momentum_term_only(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else (momentum * buf + g) * mask
    return (param - lr * momentum * buf) * mask, buf


def torch_and_numpy(param, grad, buf, mask, lr, momentum, weight_decay):
    g = (torch.as_tensor(grad) + weight_decay * torch.as_tensor(param)) * torch.as_tensor(mask)
    buf = g.clone() if buf is None else (momentum * buf + g) * mask
    return (param - lr * (g + momentum * buf)) * mask, buf


def reshapes_wrongly(param, grad, buf, mask, lr, momentum, weight_decay):
    return right(param.reshape(5, 7), grad, buf, mask, lr, momentum, weight_decay)  # ValueError


@pytest.mark.parametrize("candidate", [right, right_as_list, right_torch_style])
def test_nesterov_right(candidate):
    check.nesterov_step(candidate)


@pytest.mark.parametrize("candidate, message", [
    (grad_masked_only, "buffer is nonzero at pruned"),
    (grad_and_weight_masked, "buffer is nonzero at pruned"),
    (heavy_ball, "heavy-ball"),
    (old_buffer_lookahead, "old.*buffer"),
    (none_times_momentum, r"raised TypeError.*Hint: on the first step buf is None: use b = g"),
    (no_weight_decay, "buffer differs"),
    (swapped, r"swapped.*return \(param, buf\)"),  # review 10v, finding 10
    (in_float32, "the buffer agrees with PyTorch's only to about .* float32 rounding.*compute in float64"),
    (three_values, "pair"),
    (returns_none, "pair"),
    (returns_dict, r"pair \(param, buf\), a tuple; got dict"),
    (buf_none, r"returned None for the new buffer.*not None \(b = g on the first step\)"),
    ("masked_nesterov_step", "should be a function"),
    # review round 1 (lesson 10 fix), finding 5: each of these got a generic or a misleading message before
    (five_arguments, r"cannot be called as the check calls it, with the seven arguments"),
    (keyword_only, r"cannot be called as the check calls it"),
    (inverted_mask, r"zero at every kept position and nonzero at pruned ones.*wrong way round"),
    (uphill, r"moved up the gradient.*a minus"),
    (decoupled_weight_decay, r"buffer differs from PyTorch's: it leaves out weight decay.*decoupled"),
    (minus_weight_decay, r"subtracts weight decay"),
    (dampened, r"weighs the gradient by 1 - momentum"),
    # review round 2 (lesson 10), minor 6: the check's lr is not 1 - momentum, so this is not told "dampening"
    (lr_in_buffer, r"puts the learning rate into the buffer, b = momentum \* b \+ lr \* g"),
    (velocity_form, r"velocity v = momentum \* v - lr \* g"),
    (momentum_term_only, r"momentum \* b alone, without g"),
    (torch_and_numpy, r"raised TypeError.*compute with NumPy alone"),
    (reshapes_wrongly, r"raised ValueError.*only \+, - and \* on them"),
])
def test_nesterov_wrong(candidate, message):
    with pytest.raises(NotYet, match=message):
        check.nesterov_step(candidate)


@pytest.mark.parametrize("shape, lr, mu, wd, old_buffer", [
    ((6, 5), 0.05, 0.9, 0.01, False), ((6, 5), 0.05, 0.9, 0.01, True),  # the check's own settings
    ((10,), 0.2, 0.95, 0.05, True), ((3, 3), 0.01, 0.5, 0.0, True),
])
def test_the_nesterov_reference_is_torch_sgd(shape, lr, mu, wd, old_buffer):
    """Review round 3 (lesson 10), nit 4: exercise 3's check compares with
    pruning.masked_momentum_step(nesterov=True), and its text says "PyTorch's form"; here that reference
    is compared with torch.optim.SGD(nesterov=True) itself, in float64, at the check's relative 1e-12, for
    a first step and 6 steps from a nonzero old buffer. On kept entries a masked step is torch's step with
    the gradient masked, then the new weight and buffer masked (as MaskedSGD does)."""
    rng = np.random.default_rng(11)
    mask = rng.random(shape) > 0.6
    p_lib = rng.normal(size=shape) * mask
    b_lib = rng.normal(size=shape) if old_buffer else None
    w = torch.tensor(p_lib, dtype=torch.float64, requires_grad=True)
    keep = torch.from_numpy(mask)
    opt = torch.optim.SGD([w], lr=lr, momentum=mu, weight_decay=wd, nesterov=True)
    if old_buffer:
        opt.state[w]["momentum_buffer"] = torch.tensor(b_lib, dtype=torch.float64)
    for _ in range(6 if old_buffer else 1):
        grad = rng.normal(size=shape)
        p_lib, b_lib = pruning.masked_momentum_step(p_lib, grad, b_lib, mask, lr, mu, wd, nesterov=True)
        w.grad = torch.tensor(grad, dtype=torch.float64) * keep
        opt.step()
        with torch.no_grad():
            w.mul_(keep)
            opt.state[w]["momentum_buffer"].mul_(keep)
        p_torch, b_torch = w.detach().numpy(), opt.state[w]["momentum_buffer"].numpy()
        assert np.allclose(p_lib, p_torch, rtol=1e-12, atol=1e-15)
        assert np.allclose(b_lib, b_torch, rtol=1e-12, atol=1e-15)
        assert np.all(p_lib[~mask] == 0) and np.all(b_lib[~mask] == 0)
    assert not np.allclose(p_lib, 0)  # the kept weights moved: the comparison is not of zeros


@pytest.mark.parametrize("candidate", [torch_and_numpy, reshapes_wrongly])
def test_nesterov_error_hint_is_about_the_error(candidate):
    """An error that has nothing to do with buf being None is not told to use b = g on the first step."""
    with pytest.raises(NotYet) as error:
        check.nesterov_step(candidate)
    assert "buf is None: use b = g" not in str(error.value)


# ---------------------------------------------------------------- exercise 4


@pytest.fixture(scope="module")
def exercise4():
    torch.set_default_dtype(torch.float64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: one thread is fastest, and the machine may be shared
    try:
        parts = load_digits_splits(validation_size=0.2, seed=0)
        fit = (parts.X_train, parts.y_train)  # the lesson trains on the training part alone
        assert torch.equal(parts.y_test, load_digits_split(seed=0).y_test)
        model = mlp(hidden=(64, 32), seed=0)
        train(model, fit, epochs=20, lr=0.1, momentum=0.9, weight_decay=5e-4, seed=0, progress=False,
              evaluate=())
        assert accuracy(model, parts.X_val, parts.y_val) == check.dense_accuracy_seed0() == 262 / 270
        assert check.dense_accuracies_seed0() == (262 / 270, accuracy(model, parts.X_test, parts.y_test)) == (
            262 / 270, 435 / 450)
        # the lesson's solution: one shot to 90 %, fine-tuned as section 5's validation pick (3 levels of 4
        # epochs at lr 0.1): validation 263 of 270, 1 above the dense 262
        net = copy.deepcopy(model)
        masks = pruning.global_magnitude_masks(pruning.prunable_weights(net), 0.9)
        train(net, fit, epochs=12, lr=0.1, momentum=0.9, weight_decay=5e-4, masks=masks, seed=10,
              progress=False, evaluate=())
        assert round(270 * accuracy(net, parts.X_val, parts.y_val)) == 263
        # tuned on test: two rounds of 3 epochs are within 1.5 points of dense on the test images (430 of 450
        # against 435, 1.11 points) but not on validation (256 of 270 against 262, 2.22 points)
        test_tuned = copy.deepcopy(model)
        for k, s in enumerate([0.75, 0.9]):
            test_tuned_masks = pruning.global_magnitude_masks(pruning.prunable_weights(test_tuned), s)
            train(test_tuned, fit, epochs=3, lr=0.05, momentum=0.9, weight_decay=5e-4, masks=test_tuned_masks,
                  seed=10 + k, progress=False, evaluate=())
        assert round(450 * accuracy(test_tuned, parts.X_test, parts.y_test)) == 430
        assert round(270 * accuracy(test_tuned, parts.X_val, parts.y_val)) == 256
        m90 = pruning.global_magnitude_masks(pruning.prunable_weights(model), 0.9)
        raw = pruning.apply_masks(copy.deepcopy(model), m90)
        revived = copy.deepcopy(net)  # a right answer, except that pruned weights came back
        with torch.no_grad():
            revived[0].weight[~masks["0.weight"]] = 1e-3
        diverged = copy.deepcopy(model)  # fine-tuned at lr 3, thirty times section 5's pick: at chance level
        train(diverged, fit, epochs=2, lr=3.0, momentum=0.9, weight_decay=5e-4, masks=m90, seed=10,
              progress=False, evaluate=())
        assert accuracy(diverged, parts.X_val, parts.y_val) < 0.5
        not_finite = copy.deepcopy(net)
        with torch.no_grad():
            not_finite[0].weight[masks["0.weight"]] = float("nan")
        # the second part, short of the target: the solution's network pruned on to 95 % and fine-tuned for
        # one epoch, 249 of 270 on validation (92.22 %, 4.81 points below dense)
        net95 = copy.deepcopy(net)
        masks95 = pruning.global_magnitude_masks(pruning.prunable_weights(net95), 0.95)
        pruning.apply_masks(net95, masks95)
        train(net95, fit, epochs=1, lr=0.1, momentum=0.9, weight_decay=5e-4, masks=masks95, seed=11,
              progress=False, evaluate=())
        assert round(270 * accuracy(net95, parts.X_val, parts.y_val)) == 249
        yield dict(model=model, net=net, masks=masks, raw=raw, m90=m90, revived=revived,
                   test_tuned=test_tuned, test_tuned_masks=test_tuned_masks, diverged=diverged,
                   not_finite=not_finite, net95=net95, masks95=masks95)
    finally:
        torch.set_default_dtype(torch.float32)
        torch.set_num_threads(threads)


def test_sparse_and_accurate_right(exercise4, capsys):
    e = exercise4
    check.sparse_and_accurate(e["net"], e["masks"])
    out = capsys.readouterr().out  # graded on validation; the test accuracy printed for information
    assert ("validation accuracy 97.41 % (263 of 270 images), 0.37 points above the dense model's "
            "(seed 0's dense network: 97.04 %, 262 of 270, computed by the check)") in out
    assert "not graded and not to tune on: test accuracy 97.56 % (dense 96.67 %)" in out
    assert "read once" not in out  # review 10v, finding 3: it is printed at every passing call
    assert "fine-tuned on the training part alone" in out
    check.sparse_and_accurate(e["net"], e["masks"], None)  # an old-style third argument is ignored
    check.sparse_and_accurate(e["net"], {n: m.numpy() for n, m in e["masks"].items()})
    check.sparse_and_accurate(e["net"], {n: m.double() for n, m in e["masks"].items()})
    check.sparse_and_accurate(copy.deepcopy(e["net"]).float(), e["masks"])  # a float32 model


def test_sparse_and_accurate_torch_prune(exercise4):
    e = exercise4
    net = copy.deepcopy(e["net"])
    for name, layer in (("0.weight", net[0]), ("2.weight", net[2]), ("4.weight", net[4])):
        prune.custom_from_mask(layer, "weight", e["masks"][name])
    with pytest.raises(NotYet, match="prune.remove"):
        check.sparse_and_accurate(net, e["masks"])
    for layer in (net[0], net[2], net[4]):
        prune.remove(layer, "weight")
    check.sparse_and_accurate(net, e["masks"])


def test_sparse_and_accurate_second_part(exercise4, capsys):
    """min_sparsity=0.95 (the exercise's second part) asks for more: the 90 % answer is told so."""
    e = exercise4
    with pytest.raises(NotYet, match="at least 95 % is asked"):
        check.sparse_and_accurate(e["net"], e["masks"], min_sparsity=0.95)


def test_sparse_and_accurate_names_the_drop(exercise4):
    message = (r"validation accuracy .* points below the dense model's "
               r"\(seed 0's dense network: 97\.04 %, 262 of 270\)")
    with pytest.raises(NotYet, match=message):
        check.sparse_and_accurate(exercise4["raw"], exercise4["m90"])


class ForwardsTheDenseModel(torch.nn.Sequential):
    """The lesson's layers, pruned and not fine-tuned, with a forward that runs the dense model instead
    (held outside the module's registered parameters)."""

    def __init__(self, pruned, dense):
        super().__init__(*[copy.deepcopy(layer) for layer in pruned])
        object.__setattr__(self, "dense", dense)

    def forward(self, x):
        return self.dense(x)


def _larger_network_pruned():
    """The review's cheat: a 64-512-256-10 MLP pruned to 90 % keeps 16,640 weights, 2.6 times the whole
    dense lesson network (untrained here: the check must refuse it before it looks at the accuracy)."""
    big = mlp(hidden=(512, 256), seed=0)
    masks = pruning.global_magnitude_masks(pruning.prunable_weights(big), 0.9)
    assert sum(int(m.sum()) for m in masks.values()) == 16640
    return pruning.apply_masks(big, masks), masks


def wrong_inputs(e):
    ones = {n: torch.ones_like(w, dtype=torch.bool) for n, w in pruning.prunable_weights(e["model"]).items()}
    big, big_masks = _larger_network_pruned()
    return {
        "a 64-512-256-10 network pruned to 90 %": ((big, big_masks), {},
                                                   "not the lesson's 64 -> 64 -> 32 -> 10"),
        "masks keeping 653 of 6,464 (89.9 %)": (
            (e["net"], pruning.global_magnitude_masks(pruning.prunable_weights(e["net"]), 0.899)), {},
            "prune 89.90 %.*keep 653 of 6464.*at most 646 kept.*last round of your schedule"),
        "layer-wise 90 % on each layer, 647 kept (89.99 %)": (  # review 10v round 2, finding 5
            (e["net"], {n: pruning.magnitude_mask(w, 0.9)
                        for n, w in pruning.prunable_weights(e["net"]).items()}),
            {}, r"prune 89\.99 %.*keep 647 of 6464.*at most 646 kept.*per-layer rounding keeps 1 weight too "
                r"many: prune globally .*or drop 1 more"),
        "a module whose forward runs the dense model": (
            (ForwardsTheDenseModel(e["raw"], e["model"]), e["m90"]), {}, "points below the dense model"),
        "no fine-tuning": ((e["raw"], e["m90"], None), {}, "points below the dense model"),
        "tuned on test: within 1.5 points there, 2.22 below on validation": (
            (e["test_tuned"], e["test_tuned_masks"]), {},
            r"validation accuracy 94\.81 % \(256 of 270 images\) is 2\.22 points below"),
        # review round 2 (lesson 10), major 1: the hint says what section 5's search measured and on what
        # (a pooled objective; more epochs helped at every rate, the last rate step at 4 epochs did not
        # detectably), with the record's pick; the wrong answers below got a generic or a misleading message
        # before round 1
        "short of the target: the hint follows section 5's search": (
            (e["test_tuned"], e["test_tuned_masks"]), {},
            r"Hint: fine-tune after pruning, with the masks, on `fit`, and long enough.*pooled objective, "
            r"not for this exercise.*picked 4 epochs a level at lr 0\.1.*more epochs per level scored higher "
            r"at every rate searched \(all 6 paired intervals exclude 0 uncorrected; with a Bonferroni "
            r"correction for the grid's 12 steps, 5 of the 6 do\).*at 4 epochs lr 0\.1 was not detectably "
            r"better than 0\.05 \(\+0\.19 ± 0\.34 points.*This exercise \(one network, seed 0's, pruned "
            r"to at least 90 % by any schedule\) was not searched on its own.*12 epochs at lr 0\.1.*"
            r"validation accuracies, means over its five networks.*\(dense 97\.04 %\): "
            r"at 90 % one-shot 96\.59 %, iterative 95\.11 %; at 95 % one-shot 93\.63 %, iterative 93\.93 %; "
            r"at 97 % one-shot 88\.15 %, iterative 93\.33 %\.$"),
        # review round 3 (lesson 10), minor 3: the second part's hint names its own target, and says how far
        # section 5's better method was from dense at 95 %
        "the second part, short of the target: the hint names 95 %": (
            (e["net95"], e["masks95"]), {"min_sparsity": 0.95},
            r"validation accuracy 92\.22 % \(249 of 270 images\) is 4\.81 points below.*pruned to at least "
            r"95 % by any schedule.*At 95 % the better method, iterative, was 3\.11 points below the dense "
            r"mean, 2\.1 times the 1\.5 points this exercise allows"),
        "fine-tuned at lr 3: diverged, at chance level": (
            (e["diverged"], e["m90"]), {}, r"Fewer than half the images are right.*diverged"),
        "NaN in the weights": ((e["not_finite"], e["masks"]), {}, r"\['0\.weight'\] hold NaN or infinite"),
        "inverted masks: the hint says so": (
            (e["net"], {n: ~m for n, m in e["masks"].items()}), {}, r"Hint: your masks are inverted"),
        "90 % masks never applied to the dense model": (
            (e["model"], e["m90"]), {}, r"none of the 5818 pruned weights is zero.*apply_masks"),
        "a mask None": ((e["net"], {**e["masks"], "2.weight": None}), {}, r"mask for 2\.weight is None"),
        "min_sparsity 90, a percentage": ((e["net"], e["masks"]), {"min_sparsity": 90},
                                          r"not a percentage.*min_sparsity=0\.9"),
        "masks named by layer index": ((e["net"], {k.split(".")[0]: m for k, m in e["masks"].items()}), {},
                                       r"Your masks are named \['0', '2', '4'\]"),
        "model and masks swapped": ((e["masks"], e["net"]), {}, "swapped"),
        "a state_dict for the model": ((e["net"].state_dict(), e["masks"]), {}, "perhaps its state_dict"),
        "no fine-tuning, dense accuracy 0 passed": ((e["raw"], e["m90"], 0.0), {}, "points below"),
        "no fine-tuning, dense accuracy 0.70 passed": ((e["raw"], e["m90"], 0.70), {}, "points below"),
        "no fine-tuning, dense_accuracy= keyword 0.70": ((e["raw"], e["m90"]), {"dense_accuracy": 0.70},
                                                         "points below"),
        "no fine-tuning, max_drop_pt raised to 20": ((e["raw"], e["m90"]), {"max_drop_pt": 20},
                                                     "at most 1.5"),
        "dense model, min_sparsity lowered to 0": ((e["model"], ones), {"min_sparsity": 0.0}, "at least 0.9"),
        "min_sparsity 1": ((e["net"], e["masks"]), {"min_sparsity": 1.0}, "below 1"),
        "min_sparsity as text": ((e["net"], e["masks"]), {"min_sparsity": "0.9"}, "text"),
        "pruned weights revived": ((e["revived"], e["masks"], None), {}, "pruned weights are nonzero"),
        "dense model, all-true masks": ((e["model"], ones, None), {}, "0.00 % of the weights"),
        "inverted masks": ((e["net"], {n: ~m for n, m in e["masks"].items()}, None), {},
                           "% of the weights"),
        "masks of the wrong shape": ((e["net"], {n: m.T for n, m in e["masks"].items()}, None), {}, "shape"),
        "a mask missing": ((e["net"], {"0.weight": e["masks"]["0.weight"]}, None), {}, "unpruned"),
        "masks None": ((e["net"], None, None), {}, "dict of keep-masks"),
        "not a model": (("net_4", e["masks"], None), {}, "nn.Module"),
        "float32 model without fine-tuning": ((copy.deepcopy(e["raw"]).float(), e["m90"], None), {},
                                              "points below"),
    }


CASES_4 = ["a 64-512-256-10 network pruned to 90 %", "a module whose forward runs the dense model",
           "masks keeping 653 of 6,464 (89.9 %)", "layer-wise 90 % on each layer, 647 kept (89.99 %)",
           "no fine-tuning", "tuned on test: within 1.5 points there, 2.22 below on validation",
           "no fine-tuning, dense accuracy 0 passed",
           "no fine-tuning, dense accuracy 0.70 passed", "no fine-tuning, dense_accuracy= keyword 0.70",
           "no fine-tuning, max_drop_pt raised to 20", "dense model, min_sparsity lowered to 0",
           "min_sparsity 1", "min_sparsity as text", "pruned weights revived", "dense model, all-true masks",
           "inverted masks", "masks of the wrong shape", "a mask missing", "masks None", "not a model",
           "float32 model without fine-tuning", "short of the target: the hint follows section 5's search",
           "the second part, short of the target: the hint names 95 %",
           "fine-tuned at lr 3: diverged, at chance level", "NaN in the weights",
           "inverted masks: the hint says so",
           "90 % masks never applied to the dense model", "a mask None", "min_sparsity 90, a percentage",
           "masks named by layer index", "model and masks swapped", "a state_dict for the model"]


@pytest.mark.parametrize("case", CASES_4)
def test_sparse_and_accurate_wrong(exercise4, case):
    args, kwargs, message = wrong_inputs(exercise4)[case]
    with pytest.raises(NotYet, match=message):
        check.sparse_and_accurate(*args, **kwargs)


def test_sparse_and_accurate_hint_agrees_with_the_lesson(exercise4):
    """Review round 1 (lesson 10 fix), finding 3: section 5's search picked the largest rate it tried, so no
    message of the check may advise a smaller one; review round 2, major 1: nor a larger one."""
    e = exercise4
    for args in ((e["test_tuned"], e["test_tuned_masks"]), (e["raw"], e["m90"]), (e["diverged"], e["m90"])):
        with pytest.raises(NotYet) as error:
            check.sparse_and_accurate(*args)
        for advice in ("smaller lr", "smaller learning rate", "larger rate", "larger lr", "higher rate"):
            assert advice not in str(error.value)
    assert "smaller" not in check.fine_tuning_hint()


def test_the_hint_quotes_no_test_figure_and_no_fixed_target():
    """Review round 3 (lesson 10), minors 3 and 4: exercise 4 is graded on validation, so its hint steers
    by section 5's validation means, not by a test-set finding; and it names the target it was called
    with, never "one-shot ... to 90 %" as if the exercise prescribed one."""
    for target in (0.9, 0.95, 0.97):
        hint = check.fine_tuning_hint(target)
        assert "test" not in hint and "from 97 % on" not in hint and "One-shot pruning of one" not in hint
        assert f"pruned to at least {100 * target:g} % by any schedule" in hint
        assert ("At 95 % the better method" in hint) == (target >= 0.95)
    # the means are the counts of SECTION5_VALIDATION (which the lesson asserts are its own run's)
    val = check.SECTION5_VALIDATION
    assert val["decisions"] == 5 * 270
    hint = check.fine_tuning_hint(0.95)
    for name in ("one-shot", "iterative"):
        for s, count in val[name].items():
            assert f"at {100 * s:.0f} % one-shot" in hint and f"{name} {100 * count / 1350:.2f} %" in hint
    best95 = max(val["one-shot"][0.95], val["iterative"][0.95])
    assert best95 == val["iterative"][0.95] and f"{100 * (val['dense'] - best95) / 1350:.2f}" == "3.11"


def test_the_hint_is_the_records():
    """Review round 2 (lesson 10), minor 7: the hint is built from lesson10_finetuning.json, and every claim
    it makes in words holds on that record: the pick (4 epochs a level at lr 0.1) is the grid's largest on
    both axes; every step to more epochs, at every rate, is ahead in a paired interval that excludes 0
    (uncorrected); at the pick's epochs, the step to the pick's rate from the one below has an interval
    that contains 0. Recomputed here from the record's counts, independently of section5_search."""
    from scipy.special import stdtrit

    record = selection.load_record(check.SEARCH_RECORD, selection.RECORD_DIR)
    pick = record.settings[record.pick]
    assert record.script == "scripts/search_lesson10.py"
    found = check.section5_search()
    assert (found["epochs"], found["lr"]) == (pick["epochs_per_level"], pick["ft_lr"]) == (4, 0.1)
    grid_e = sorted({st["epochs_per_level"] for st in record.settings})
    grid_lr = sorted({st["ft_lr"] for st in record.settings})
    assert found["largest"] and (grid_e[-1], grid_lr[-1]) == (4, 0.1)
    assert found["lr_below"] == grid_lr[-2] == 0.05
    t95 = stdtrit(len(record.seeds) - 1, 0.975)

    def interval(e1, lr1, e0, lr0):
        d = 100 * (record.correct[record.find(epochs_per_level=e1, ft_lr=lr1)]
                   - record.correct[record.find(epochs_per_level=e0, ft_lr=lr0)]) / record.n_images
        return d.mean(), t95 * d.std(ddof=1) / np.sqrt(d.size), int(np.sum(d > 0))

    epoch_steps = [interval(e1, lr, e0, lr)
                   for lr in grid_lr for e0, e1 in zip(grid_e, grid_e[1:], strict=False)]
    assert len(epoch_steps) == 6
    assert all(m - h > 0 for m, h, _ in epoch_steps)  # "scored higher at every rate searched"
    # review round 3 (lesson 10), minor 4: "uncorrected"; Bonferroni for the grid's 12 steps, 5 of the 6
    t12 = stdtrit(len(record.seeds) - 1, 1 - 0.025 / 12)
    assert sum(m - h * t12 / t95 > 0 for m, h, _ in epoch_steps) == 5
    assert (found["n_steps"], found["epoch_steps_corrected"]) == (12, 5)
    m, h, ahead = interval(4, 0.1, 4, 0.05)
    assert abs(m) < h and np.allclose(found["rate_step"], (m, h, ahead))  # "not detectably better"
    hint = check.fine_tuning_hint()
    assert (f"picked {pick['epochs_per_level']} epochs a level at lr {pick['ft_lr']:g}" in hint
            and f"({m:+.2f} ± {h:.2f} points" in hint and f"ahead for {ahead} of 5 seeds" in hint
            and f"{3 * pick['epochs_per_level']} epochs at lr {pick['ft_lr']:g}" in hint
            and "all 6 paired intervals exclude 0 uncorrected" in hint
            and "correction for the grid's 12 steps, 5 of the 6 do" in hint)
    assert "lr 0.1, the largest rate it tried" in check._section5_rate()


def test_sparse_and_accurate_lists_every_case(exercise4):
    assert sorted(CASES_4) == sorted(wrong_inputs(exercise4))
