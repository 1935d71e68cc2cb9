"""Tests of lessons_lib.baselines: right-sized dense networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lessons_lib import baselines, model_file, weight_sharing
from lessons_lib.models import mlp
from lessons_lib.splits import load_digits_splits
from lessons_lib.training import accuracy, train


@pytest.fixture(scope="module", autouse=True)
def as_the_lessons_compute():
    """float64 by default and one thread, as lesson 11 and the benchmark run."""
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_num_threads(threads)
    torch.set_default_dtype(dtype)


@pytest.fixture(scope="module")
def digits():
    return load_digits_splits(dtype=torch.float64)


@pytest.fixture(scope="module")
def sweep(digits):
    return baselines.train_dense_sweep([(8,), (16,)], digits, [0, 2], epochs=2, lr=0.1, momentum=0.9,
                                       batch_size=64)


def test_sweep_trains_each_network_as_train_does_and_measures_it(digits, sweep):
    assert [b.hidden for b in sweep] == [(8,), (16,)] and all(b.seeds == (0, 2) for b in sweep)
    for b in sweep:
        assert b.n_parameters == 64 * b.hidden[0] + b.hidden[0] + 10 * b.hidden[0] + 10
        assert b.float32_bytes == model_file.float32_size_bytes(mlp(hidden=b.hidden, seed=5))
        for seed, net, val, test in zip(b.seeds, b.networks, b.val_accuracies, b.test_accuracies,
                                        strict=True):
            alone = mlp(hidden=b.hidden, seed=seed)
            # the training part alone: the validation and test parts are never trained on
            train(alone, (digits.X_train, digits.y_train), epochs=2, lr=0.1, momentum=0.9, batch_size=64,
                  seed=seed, progress=False, evaluate=())
            # train_many's products match train's to the last bit or nearly (it allows 1e-12 in float64)
            assert max((x - y).abs().max().item() for x, y in zip(alone.parameters(), net.parameters(),
                                                                   strict=True)) < 1e-12
            assert val == accuracy(alone, digits.X_val, digits.y_val)
            assert test == accuracy(alone, digits.X_test, digits.y_test)
        assert b.mean_val_accuracy == pytest.approx(np.mean(b.val_accuracies))
        assert b.mean_test_accuracy == pytest.approx(np.mean(b.test_accuracies))
        assert not hasattr(b, "mean_accuracy") and not hasattr(b, "accuracies")


def test_sweep_with_a_split_per_seed(digits):
    splits = {0: digits, 1: load_digits_splits(seed=1, dtype=torch.float64)}
    (b,) = baselines.train_dense_sweep([(8,)], splits, [0, 1], epochs=1)
    alone = mlp(hidden=(8,), seed=1)
    train(alone, (splits[1].X_train, splits[1].y_train), epochs=1, lr=0.1, momentum=0.9, batch_size=64,
          seed=1, progress=False, evaluate=())
    assert b.val_accuracies[1] == accuracy(alone, splits[1].X_val, splits[1].y_val)
    assert b.test_accuracies[1] == accuracy(alone, splits[1].X_test, splits[1].y_test)
    with pytest.raises(ValueError, match="data must hold a split for every seed"):
        baselines.train_dense_sweep([(8,)], splits, [0, 3], epochs=1)


def test_quantized_files_reload_to_the_shared_network(digits, sweep):
    files = baselines.quantized_files(sweep[1], digits, 4)
    assert len(files) == 2
    for (n_bytes, val, test), net in zip(files, sweep[1].networks, strict=True):
        shared = weight_sharing.quantize_pruned(net, None, bits=4)
        assert val == accuracy(shared, digits.X_val, digits.y_val)
        assert test == accuracy(shared, digits.X_test, digits.y_test)
        assert 0 < n_bytes < sweep[1].float32_bytes / 4


@pytest.mark.parametrize("bits", [2, 4, 8])
@pytest.mark.parametrize("pruned", [False, True])
def test_stored_bytes_and_network_equal_the_file_written_and_reloaded(sweep, tmp_path, bits, pruned):
    net = sweep[1].networks[0]
    masks = None
    if pruned:
        masks = {name: p.abs() > p.abs().median() for name, p in net.named_parameters() if p.dim() == 2}
    n_bytes, back = baselines.stored_bytes_and_network(net, masks, bits)
    path = tmp_path / "f.llc"
    assert n_bytes == model_file.save_compressed(net, path, masks, bits=bits) == path.stat().st_size
    reloaded = model_file.load_compressed(path, mlp(hidden=(16,)))
    for (name, a), b in zip(back.state_dict().items(), reloaded.state_dict().values(), strict=True):
        assert a.dtype == b.dtype and torch.equal(a, b), name
    assert back is not net


def _fake(hidden, n_bytes, accs, test=None):
    """A baseline with validation accuracies accs (and test accuracies test: by default 1 - accs, so a rule
    that looked at test would pick otherwise)."""
    test = [1 - a for a in accs] if test is None else test
    return baselines.DenseBaseline(hidden=hidden, seeds=tuple(range(len(accs))), n_parameters=1,
                                   float32_bytes=n_bytes, val_accuracies=tuple(accs),
                                   test_accuracies=tuple(test), networks=())


def test_smallest_matching_picks_the_fewest_bytes_at_or_above_the_target():
    a, b, c = _fake((8,), 100, [0.5, 0.75]), _fake((16,), 200, [0.75, 1.0]), _fake((32,), 300, [1.0, 1.0])
    assert baselines.smallest_matching([c, b, a], 0.875) is b  # a mean exactly at the target reaches it
    assert baselines.smallest_matching([c, b, a], 0.876) is c
    assert baselines.smallest_matching([a, b, c], 0.5) is a
    assert baselines.smallest_matching([a, b], 0.9) is None
    twin = _fake((9,), 100, [0.75, 0.5])
    assert baselines.smallest_matching([a, twin, b], 0.6) is a  # equal bytes: the first one


def test_smallest_matching_counts_equal_means_summed_in_another_order_as_equal():
    # 1,316 of 5 x 270 validation images, two ways (the benchmark's case): float means differ in the last bit
    dense = _fake((128, 64), 100, [262 / 270, 264 / 270, 265 / 270, 266 / 270, 259 / 270])
    target = float(np.mean([263 / 270, 265 / 270, 261 / 270, 267 / 270, 260 / 270]))
    assert dense.mean_val_accuracy < target  # the rounding this test is about
    assert baselines.smallest_matching([dense], target) is dense
    assert baselines.smallest_matching([dense], target + 1 / 1350) is None  # one image more is not reached


def test_the_rules_look_at_validation_not_test():
    # validation says b reaches 0.9 and a does not; test says the opposite: the rules follow validation
    a = _fake((8,), 100, [0.85, 0.85], test=[0.99, 0.99])
    b = _fake((16,), 200, [0.95, 0.95], test=[0.50, 0.50])
    assert baselines.smallest_matching([a, b], 0.9) is b
    assert baselines.smallest_non_inferior([a, b], [0.9, 0.9], margin=0.005) is b  # seed for seed 0.05 above
    assert baselines.smallest_matching([a], 0.9) is None
    assert baselines.smallest_non_inferior([a], [0.9, 0.9]) is None


def test_smallest_non_inferior_uses_the_paired_interval():
    from scipy.special import stdtrit

    target = [0.90, 0.92, 0.94]
    close = _fake((8,), 100, [0.90, 0.92, 0.93])  # one seed 0.01 short: the interval reaches below -0.005
    same = _fake((16,), 200, [0.90, 0.92, 0.94])  # identical per seed: interval [0, 0]
    delta = np.array(close.val_accuracies) - np.array(target)
    lower = delta.mean() - stdtrit(2, 0.975) * delta.std(ddof=1) / np.sqrt(3)  # by hand
    assert lower < -0.005
    assert baselines.smallest_non_inferior([close, same], target, margin=0.005) is same
    assert baselines.smallest_non_inferior([close, same], target, margin=-lower) is close  # margin at the end
    worse = _fake((4,), 50, [0.80, 0.82, 0.84])
    assert baselines.smallest_non_inferior([worse], target, margin=0.05) is None
    # the same mean as the target but noisy: "mean >= mean" takes it, the paired rule may not
    noisy = _fake((6,), 60, [0.95, 0.87, 0.94])
    assert baselines.smallest_matching([noisy, same], float(np.mean(target))) is noisy
    assert baselines.smallest_non_inferior([noisy, same], target, margin=0.005) is same


def test_most_accurate_within_a_byte_budget():
    files = {"a": [(100, 0.90), (110, 0.92)], "b": [(200, 0.95), (220, 0.93)],
             "c": [(150, 0.91), (150, 0.93)],
             "d": [(90, 0.92), (100, 0.92)]}
    assert baselines.most_accurate_within(files, 95) == "d"  # d: mean 95 bytes, 0.92
    assert baselines.most_accurate_within(files, 105) == "d"  # a (105 bytes, 0.91) fits too, less accurate
    assert baselines.most_accurate_within(files, 150) == "d"  # c ties d's 0.92 with more bytes: d
    assert baselines.most_accurate_within(files, 210) == "b"
    assert baselines.most_accurate_within(files, 94) is None
    # by a direct search over the fitting files
    for budget in (95, 105, 150, 210):
        fit = {k: f for k, f in files.items() if np.mean([n for n, _ in f]) <= budget}
        best = max(fit, key=lambda k: (np.mean([a for _, a in fit[k]]), -np.mean([n for n, _ in fit[k]])))
        assert baselines.most_accurate_within(files, budget) == best


def test_most_accurate_within_counts_equal_means_summed_in_another_order_as_equal():
    # the same 1,302 of 5 x 270 validation images, two ways: the float means may differ in the last bit,
    # and the tie rule (fewer mean bytes) must decide, not the rounding
    counts_a, counts_b = [262, 264, 258, 259, 259], [259, 258, 264, 262, 259]
    mean_a = np.mean([c / 270 for c in counts_a])
    mean_b = np.mean([c / 270 for c in counts_b])
    files = {"big": [(2140, c / 270) for c in counts_a], "small": [(2000, c / 270) for c in counts_b]}
    assert baselines.most_accurate_within(files, 2200) == "small"
    assert baselines.most_accurate_within(dict(reversed(files.items())), 2200) == "small"
    # whichever float mean came out larger, one image more still wins over fewer bytes
    files["big"] = [(2140, (c + (i == 0)) / 270) for i, c in enumerate(counts_a)]
    assert baselines.most_accurate_within(files, 2200) == "big"
    assert abs(mean_a - mean_b) < 1e-12


def test_stored_bytes_and_network_float32_stores_the_float32_rounded_copy(sweep, tmp_path):
    net = sweep[1].networks[0]  # float64 (the module's default dtype)
    rounded = model_file.float32_rounded(net)
    assert all(p.dtype == torch.float64 and torch.equal(p, p.float().double()) for p in rounded.parameters())
    assert rounded is not net
    n_bytes, back = baselines.stored_bytes_and_network(net, None, 8, float32=True)
    path = tmp_path / "f.llc"
    assert n_bytes == model_file.save_compressed(rounded, path, None, bits=8)
    reloaded = model_file.load_compressed(path, mlp(hidden=(16,)))
    for a, b in zip(back.state_dict().values(), reloaded.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # a perturbation far below float32's precision changes nothing that is stored
    nudged = model_file.float32_rounded(net)
    with torch.no_grad():
        for p in nudged.parameters():
            p.mul_(1 + 1e-15 * torch.sign(torch.randn(p.shape, generator=torch.Generator().manual_seed(1))))
    assert baselines.stored_bytes_and_network(nudged, None, 8, float32=True)[0] == n_bytes


def test_right_sized_ratios():
    assert np.array_equal(baselines.right_sized_ratios(1000, [100, 250, 400]), [10.0, 4.0, 2.5])


@pytest.mark.parametrize("call, name", [
    (lambda: baselines.smallest_matching([], 1.5), "target_accuracy"),
    (lambda: baselines.smallest_matching([1, 2], 0.5), "baselines"),
    (lambda: baselines.right_sized_ratios(0, [1]), "baseline_bytes"),
    (lambda: baselines.right_sized_ratios(10, []), "compressed_bytes"),
    (lambda: baselines.right_sized_ratios(10, [0]), "compressed_bytes"),
    (lambda: baselines.train_dense_sweep([], None, [0]), "hiddens"),
    (lambda: baselines.train_dense_sweep([(0,)], None, [0]), "hiddens"),
    (lambda: baselines.train_dense_sweep([(8,)], None, []), "seeds"),
    (lambda: baselines.train_dense_sweep([(8,)], "digits", [0]), "data"),
    (lambda: baselines.quantized_files("b", None, 4), "baseline"),
    (lambda: baselines.stored_bytes_and_network("m", None, 4), "model"),
    (lambda: baselines.stored_bytes_and_network(mlp(hidden=(8,)), None, 9), "bits"),
    (lambda: baselines.quantized_files(_fake((8,), 1, [1.0]), None, 1), "bits"),
    (lambda: baselines.smallest_non_inferior([], [0.5]), "target_accuracies"),
    (lambda: baselines.smallest_non_inferior([], [0.5, 1.5]), "target_accuracies"),
    (lambda: baselines.smallest_non_inferior([], [0.5, 0.5], margin=-0.1), "margin"),
    (lambda: baselines.smallest_non_inferior([_fake((8,), 1, [1.0, 1.0, 1.0])], [0.5, 0.5]),
     "target_accuracies"),
    (lambda: baselines.smallest_non_inferior("b", [0.5, 0.5]), "baselines"),
    (lambda: baselines.most_accurate_within({"a": [(1, 0.5)]}, 0), "max_bytes"),
    (lambda: baselines.most_accurate_within([(1, 0.5)], 10), "files"),
    (lambda: baselines.most_accurate_within({"a": []}, 10), "files"),
    (lambda: baselines.most_accurate_within({"a": [(1, 1.5)]}, 10), "accuracies"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
