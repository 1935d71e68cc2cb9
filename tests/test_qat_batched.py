"""Tests of lessons_lib.qat_batched: the batched QAT runs equal lesson 09's one-run qat_with_flips.

The reference below is lesson 09's section-11 `qat_with_flips` (with its helpers), copied: one
network, `torch.optim.SGD`, autograd through `w + (Q(w) - w).detach()`. All 25 runs of the
lesson's experiment (five float networks trained as in its section 5, five (β, η) settings)
must come out bit for bit the same, with one thread as the lessons run.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from lessons_lib import quantization
from lessons_lib.batched_training import train_many
from lessons_lib.models import mlp
from lessons_lib.qat_batched import qat_with_flips_many
from lessons_lib.splits import load_digits_splits

pytestmark = pytest.mark.usefixtures("one_thread_float64")  # conftest: as lesson 09 computes

SEEDS = range(5)
# (β, η), as the lesson: momentum at section 10's 2-bit pick η* = 0.015, plain SGD at η*/(1 - β) and at η*,
# the same five times smaller
SETTINGS = [(0.9, 0.015), (0.0, 0.15), (0.0, 0.015), (0.9, 0.003), (0.0, 0.03)]


# ---- the reference: lesson 09's one-run code ------------------------------------------------------

def weight_codes(net, bits):
    return torch.cat([quantization.quantize(m.weight, bits, symmetric=True, axis=0)[0].flatten()
                      for m in net if isinstance(m, nn.Linear)])


def codes_and_scales(net, bits):
    q_max = 2 ** (bits - 1) - 1
    codes, scales, values = [], [], []
    for m in net:
        if isinstance(m, nn.Linear):
            w = m.weight.detach()
            scale = w.abs().amax(dim=1, keepdim=True) / q_max
            scale = torch.where(scale == 0, 1.0, scale)
            q = torch.clamp(torch.round(w / scale), -q_max, q_max)
            codes.append(q.flatten().int())
            scales.append(scale)
            values.append(q * scale)
    return torch.cat(codes), scales, values


def codes_with(net, bits, scales):
    q_max = 2 ** (bits - 1) - 1
    layers = [m for m in net if isinstance(m, nn.Linear)]
    return torch.cat([torch.clamp(torch.round(m.weight.detach() / s), -q_max, q_max).flatten().int()
                      for m, s in zip(layers, scales, strict=True)])


def qat_forward(net, x, values):
    values = iter(values)
    for m in net:
        if isinstance(m, nn.Linear):
            x = nn.functional.linear(x, m.weight + (next(values) - m.weight).detach(), m.bias)
        else:
            x = m(x)
    return x


def qat_with_flips(data, start, lr, momentum, bits=2, epochs=4, seed=0, batch_size=64, every_accuracy=True):
    net = copy.deepcopy(start)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    gen = torch.Generator().manual_seed(seed)
    (codes, scales, values), flips, test_acc, n = codes_and_scales(net, bits), [], [], len(data.y_train)
    for epoch in range(epochs):
        if epoch == epochs - 1:
            epoch_start, changes, grid_moved = codes.clone(), torch.zeros_like(codes), 0
        perm = torch.randperm(n, generator=gen)
        for start_idx in range(0, n, batch_size):
            idx = perm[start_idx:start_idx + batch_size]
            opt.zero_grad()
            logits = qat_forward(net, data.X_train[idx], values)
            nn.functional.cross_entropy(logits, data.y_train[idx]).backward()
            opt.step()
            new, new_scales, values = codes_and_scales(net, bits)
            flips.append((new != codes).double().mean().item())
            if epoch == epochs - 1:
                changes += new != codes
                grid_moved += ((new != codes) & (codes_with(net, bits, scales) == codes)).sum().item()
            codes, scales = new, new_scales
            if every_accuracy or epoch == epochs - 1:
                with torch.no_grad():
                    predicted = qat_forward(net, data.X_test, values).argmax(dim=1)
                test_acc.append(int((predicted == data.y_test).sum()) / len(data.y_test))
    return np.array(flips), np.array(test_acc), changes, codes == epoch_start, grid_moved


def _assert_bit_equal(alone, together):
    # flips, accuracies
    assert all(np.array_equal(a, t) for a, t in zip(alone[:2], together[:2], strict=True))
    assert torch.equal(alone[2], together[2]) and torch.equal(alone[3], together[3])  # changes, came back
    assert alone[4] == together[4]  # grid moved


# ---- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lesson():
    """The lesson's data (training part and test part of load_digits_splits, as section 11 passes them) and
    its five float networks trained on the training part (section 5), in float64 on one thread."""
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    try:
        data = load_digits_splits(validation_size=0.2, seed=0)
        models = {seed: mlp(hidden=(64, 32), seed=seed) for seed in SEEDS}
        train_many(list(models.values()), (data.X_train, data.y_train), epochs=20, lr=0.1, momentum=0.9,
                   seeds=list(SEEDS), evaluate=(), progress=False)
    finally:
        torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)
    return data, models


# ---- tests --------------------------------------------------------------------------------------

def test_all_25_runs_of_the_lesson_are_bit_equal_to_the_one_run_code(lesson):
    data, models = lesson
    keys = [(seed, beta, lr) for seed in SEEDS for beta, lr in SETTINGS]
    starts = [models[seed] for seed, _, _ in keys]
    before = [[p.detach().clone() for p in net.parameters()] for net in starts]
    results = qat_with_flips_many(starts, data, [lr for *_, lr in keys], [beta for _, beta, _ in keys],
                                  [seed for seed, _, _ in keys],
                                  every_accuracy=[k for k, key in enumerate(keys) if key[0] == 0],
                                  progress=False)
    assert len(results) == 25
    for (seed, beta, lr), together in zip(keys, results, strict=True):
        alone = qat_with_flips(data, models[seed], lr, beta, seed=seed, every_accuracy=seed == 0)
        _assert_bit_equal(alone, together)
    for net, params in zip(starts, before, strict=True):  # the starting networks are not modified
        assert all(torch.equal(p, q) for p, q in zip(net.parameters(), params, strict=True))
    # the runs are not trivial: codes change, and the seed-0 runs record an accuracy after every step
    assert all(r[0].max() > 0 for r in results)
    steps = 4 * -(-len(data.y_train) // 64)
    assert [len(r[1]) for r in results[:5]] == [steps] * 5 and len(results[5][1]) == steps // 4


def test_three_bits_other_batch_size_and_one_run(lesson):
    data, models = lesson
    results = qat_with_flips_many([models[1], models[2]], data, 0.02, [0.5, 0.9], [7, 8], bits=3,
                                  epochs=2, batch_size=100, every_accuracy=[1], progress=False)
    for (seed, mom), together in zip([(7, 0.5), (8, 0.9)], results, strict=True):
        alone = qat_with_flips(data, models[1 if seed == 7 else 2], 0.02, mom, bits=3, epochs=2, seed=seed,
                               batch_size=100, every_accuracy=seed == 8)
        _assert_bit_equal(alone, together)
    one = qat_with_flips_many([models[3]], data, [0.01], [0.9], [3], epochs=1, progress=False)
    alone = qat_with_flips(data, models[3], 0.01, 0.9, epochs=1, seed=3, every_accuracy=False)
    _assert_bit_equal(alone, one[0])


def test_an_all_zero_row_gets_code_zero_as_the_library(lesson):
    data, models = lesson
    net = copy.deepcopy(models[0])
    with torch.no_grad():
        net[0].weight[5] = 0.0
    assert torch.equal(codes_and_scales(net, 2)[0], weight_codes(net, 2).int())
    (flips, *_), = qat_with_flips_many([net], data, 0.01, 0.0, [0], epochs=1, progress=False)
    assert np.all(np.isfinite(flips))
    _assert_bit_equal(qat_with_flips(data, net, 0.01, 0.0, epochs=1, seed=0, every_accuracy=False),
                      qat_with_flips_many([net], data, 0.01, 0.0, [0], epochs=1, progress=False)[0])


@pytest.mark.parametrize("kwargs, param", [
    (dict(starts=[]), "starts"),
    (dict(starts=[nn.Sequential(nn.Linear(4, 3), nn.ReLU())]), "starts"),
    (dict(lrs=[0.1, 0.1]), "lrs"),
    (dict(lrs=0.0), "lrs"),
    (dict(momenta=1.0), "momenta"),
    (dict(seeds=[0, 1]), "seeds"),
    (dict(seeds=[-1]), "seeds"),
    (dict(bits=1), "bits"),
    (dict(epochs=0), "epochs"),
    (dict(batch_size=0), "batch_size"),
    (dict(every_accuracy=[1]), "every_accuracy"),
    (dict(every_accuracy="0"), "every_accuracy"),
])
def test_bad_input(lesson, kwargs, param):
    data, models = lesson
    args = dict(starts=[models[0]], data=data, lrs=0.1, momenta=0.9, seeds=[0])
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=param):
        qat_with_flips_many(**args)


def test_float32_data_for_float64_networks_is_refused(lesson):
    data, models = lesson
    with pytest.raises(ValueError, match="data"):
        qat_with_flips_many([models[0]], load_digits_splits(seed=0, dtype=torch.float32), 0.1, 0.9, [0])
