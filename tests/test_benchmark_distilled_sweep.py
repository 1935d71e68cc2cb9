"""benchmarks/run.py's ``_distilled_sweep``: the right-sized candidates given what the compression pipeline
gives its pruned networks (five rounds of 10 distilled epochs from the seed's own dense network), on copies,
scored on each seed's own validation and test parts."""

from __future__ import annotations

import copy
import types

import pytest
import torch

from conftest import load_benchmark
from lessons_lib import baselines
from lessons_lib.models import mlp
from lessons_lib.splits import load_digits_splits


@pytest.fixture(scope="module")
def run():
    """benchmarks/run.py, freshly loaded."""
    return load_benchmark("run")


@pytest.fixture(scope="module")
def splits():
    """Each seed's own parts, as the benchmark makes them."""
    return {s: load_digits_splits(seed=s) for s in range(5)}


def _candidate(hidden, seeds):
    """A DenseBaseline of untrained networks (its accuracies are placeholders the sweep must replace)."""
    nets = tuple(mlp(hidden=hidden, seed=100 + s) for s in seeds)
    return baselines.DenseBaseline(hidden=hidden, seeds=tuple(seeds), n_parameters=1, float32_bytes=2,
                                   val_accuracies=(-1.0,) * len(seeds), test_accuracies=(-1.0,) * len(seeds),
                                   networks=nets)


def _teachers(monkeypatch, run):
    """One distinct dense 'teacher' a seed, served as ``_compression_figures()["runs"][i].dense``."""
    teachers = {s: mlp(hidden=(8,), seed=200 + s) for s in run.COMPRESSION_SEEDS}
    runs = [types.SimpleNamespace(dense=teachers[s]) for s in run.COMPRESSION_SEEDS]
    monkeypatch.setattr(run, "_compression_figures", lambda: {"runs": runs})
    return teachers


def test_each_copy_gets_five_distilled_rounds_from_its_own_seeds_teacher(monkeypatch, run, splits):
    teachers = _teachers(monkeypatch, run)
    calls = []

    def spy(net, data, **kw):  # records the call, then marks the network so that its use can be traced
        calls.append((net, data, kw))
        with torch.no_grad():
            net[0].bias.add_(1.0)

    monkeypatch.setattr("lessons_lib.training.train", spy)
    sweep = [_candidate((6,), (3, 1)), _candidate((5, 3), (0, 4))]
    before = [copy.deepcopy(n.state_dict()) for b in sweep for n in b.networks]
    out = run._distilled_sweep(sweep, splits)

    expected = [(j, b, i, s) for j, b in enumerate(sweep) for i, s in enumerate(b.seeds)]
    assert len(out) == len(sweep) and len(calls) == 5 * len(expected)
    for k, (j, b, i, s) in enumerate(expected):
        rounds = calls[5 * k:5 * k + 5]
        student = rounds[0][0]
        assert student is not b.networks[i]  # a copy is trained, not the candidate itself
        for r, (net, data, kw) in enumerate(rounds):
            assert net is student  # the five rounds continue one network
            assert data[0] is splits[s].X_train and data[1] is splits[s].y_train  # its seed's training part
            assert kw.pop("teacher") is teachers[s]  # distilled from its own seed's dense network
            # the whole call: no masks (every weight of a small network may move), alpha, T and the
            # optimizer at train()'s defaults (0.9, 4, SGD without Nesterov or weight decay)
            assert kw == dict(epochs=10, seed=s + 1 + r, lr=0.05, momentum=0.9, batch_size=32, progress=False,
                              evaluate=())
        assert out[j].networks[i] is student
        marked = b.networks[i][0].bias + 5.0  # five rounds, each marking the copy
        assert torch.allclose(student[0].bias, marked, rtol=0, atol=1e-5)
    after = [n.state_dict() for b in sweep for n in b.networks]
    assert all(torch.equal(x[key], y[key]) for x, y in zip(before, after, strict=True) for key in x)


def test_the_new_baselines_keep_the_shape_and_score_each_seed_on_its_own_parts(monkeypatch, run, splits):
    _teachers(monkeypatch, run)
    def count(net, data, **kw):  # what a round does is the test above's; here only how many ran
        net.rounds = getattr(net, "rounds", 0) + 1

    monkeypatch.setattr("lessons_lib.training.train", count)
    parts = {id(getattr(splits[s], f"X_{part}")): (s, part)
             for s in splits for part in ("train", "val", "test")}

    def which(net, X, y):  # names the part scored, and when, instead of scoring it
        s, part = parts[id(X)]
        assert y is getattr(splits[s], f"y_{part}")  # the labels of the same part
        return (net, s, part, getattr(net, "rounds", 0))

    monkeypatch.setattr("lessons_lib.training.accuracy", which)
    b = _candidate((6,), (2, 0))
    new, = run._distilled_sweep([b], splits)
    assert (new.hidden, new.seeds, new.n_parameters, new.float32_bytes) == (b.hidden, b.seeds, 1, 2)
    pairs = list(zip(new.networks, b.seeds, strict=True))
    assert new.val_accuracies == tuple((net, s, "val", 5) for net, s in pairs)  # scored after its 5 rounds
    assert new.test_accuracies == tuple((net, s, "test", 5) for net, s in pairs)
