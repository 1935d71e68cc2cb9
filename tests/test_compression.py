"""Tests of lessons_lib.compression: k-means, the file format, exact reloads, honest sizes."""

from __future__ import annotations

import copy
import dataclasses
import os

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib import model_file
from lessons_lib.compression import compression_experiment, remove_dead_units
from lessons_lib.model_file import decode, encode, float32_size_bytes, load_compressed, save_compressed
from lessons_lib.models import mlp, small_cnn
from lessons_lib.pruning import global_magnitude_masks, magnitude_mask, prunable_weights
from lessons_lib.splits import load_digits_splits
from lessons_lib.training import accuracy, train
from lessons_lib.weight_sharing import (
    CompressedTensor,
    _nearest,
    compress_state,
    kmeans_1d,
    quantize_pruned,
    share_weights,
)


def test_kmeans_finds_clear_clusters_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.01, 50) for c in (-1.0, 0.2, 3.0)])
    centroids, labels = kmeans_1d(x, 3)
    np.testing.assert_allclose(np.sort(centroids), [-1.0, 0.2, 3.0], atol=0.01)
    assert labels.min() >= 0 and labels.max() < 3
    c2, l2 = kmeans_1d(x, 3)
    np.testing.assert_array_equal(centroids, c2)
    np.testing.assert_array_equal(labels, l2)
    # Each centroid is the mean of its cluster (a fixed point of Lloyd's step).
    for k in range(3):
        assert centroids[k] == pytest.approx(x[labels == k].mean())


def test_kmeans_uses_every_code_after_pruning_left_a_gap_around_zero():
    rng = np.random.default_rng(1)
    w = rng.normal(size=2000)
    kept = w[np.abs(w) > 1.0]  # what magnitude pruning leaves
    _, labels = kmeans_1d(kept, 16)
    assert np.bincount(labels, minlength=16).min() > 0


def _lloyd_value_by_value(x, k, iters=50):
    """Reference Lloyd's k-means: each value searched among the centroids' midpoints on its own
    (weight_sharing._nearest; ties go to the smaller centroid), the rest as kmeans_1d's docstring says."""
    centroids = np.linspace(x.min(), x.max(), k)

    def assign(c):
        return _nearest(x, c)

    labels = assign(centroids)
    for _ in range(iters):
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=x, minlength=k)
        filled = counts > 0
        centroids = centroids.copy()
        centroids[filled] = sums[filled] / counts[filled]
        empty = np.flatnonzero(~filled)
        if empty.size:
            err = (x - centroids[labels]) ** 2
            worst = np.argsort(-err, kind="stable")[: empty.size]
            worst = worst[err[worst] > 0]
            centroids[empty[: worst.size]] = x[worst]
        new = assign(centroids)
        if np.array_equal(new, labels):
            break
        labels = new
    return centroids, labels


@settings(deadline=None, max_examples=60)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 400), k=st.sampled_from([1, 2, 3, 4, 16, 64]),
       grid=st.booleans())
def test_kmeans_matches_lloyd_value_by_value_exactly(seed, n, k, grid):
    rng = np.random.default_rng(seed)
    # grid: few distinct values on a grid of quarters, so that values tie and sit on midpoints
    x = rng.integers(-8, 9, n) / 4 if grid else rng.normal(size=n) * np.where(rng.random(n) < 0.1, 10, 1)
    centroids, labels = kmeans_1d(x, k)
    ref_c, ref_l = _lloyd_value_by_value(x, k)
    np.testing.assert_array_equal(centroids, ref_c)
    np.testing.assert_array_equal(labels, ref_l)
    distance = np.abs(x[:, None] - centroids[None, :])  # and every value sits at a nearest centroid
    assert np.all(distance[np.arange(n), labels] <= distance.min(axis=1) + 1e-12)


@settings(deadline=None, max_examples=50)
@given(
    seed=st.integers(0, 10_000),
    bits=st.integers(2, 8),
    sparsity=st.floats(0.0, 0.95),
    method=st.sampled_from(["kmeans", "linear"]),
)
def test_shared_weights_sit_on_the_codebook_and_pruned_entries_are_zero(seed, bits, sparsity, method):
    w = np.random.default_rng(seed).normal(size=(7, 9))
    mask = magnitude_mask(w, sparsity)
    unit = share_weights(w, mask, bits, method)
    dense = unit.dense()
    assert dense.dtype == np.float32 and dense.shape == w.shape
    assert np.all(dense[~mask] == 0)
    assert np.all(np.isin(dense[mask], unit.codebook.astype(np.float32)))
    assert unit.codebook.size == 2**bits and unit.codebook.dtype == np.float16
    np.testing.assert_array_equal(unit.positions, np.flatnonzero(mask))
    if mask.any() and method == "linear":  # a uniform grid: half a step at most
        err = np.abs(dense[mask] - w[mask]).max()
        spread = max(w[mask].max(), 0) - min(w[mask].min(), 0)
        assert err <= spread / (2**bits - 1) / 2 + 1e-3 * np.abs(w[mask]).max()
    if mask.any() and method == "kmeans":  # Lloyd never does worse than its linear start
        kept = w[mask]
        start = np.linspace(kept.min(), kept.max(), 2**bits)
        sse_start = np.sum(np.min((kept[:, None] - start[None, :]) ** 2, axis=1))
        sse = np.sum((dense[mask] - kept) ** 2)
        assert sse <= sse_start * (1 + 1e-2) + 1e-6 * np.sum(kept**2)


def _pruned_model(seed=0, sparsity=0.9, model=None):
    torch.manual_seed(seed)
    model = mlp((32, 16), seed=seed) if model is None else model
    masks = global_magnitude_masks(prunable_weights(model), sparsity)
    return model, masks


@pytest.mark.parametrize("bits", [2, 5, 8])
@pytest.mark.parametrize("method", ["kmeans", "linear"])
def test_save_and_load_give_exactly_the_quantized_pruned_weights(tmp_path, bits, method):
    model, masks = _pruned_model()
    path = tmp_path / "m.llc"
    n = save_compressed(model, path, masks, bits, method=method)
    assert n == os.path.getsize(path) and open(path, "rb").read(4) == b"LLC1"
    reloaded = load_compressed(path, mlp((32, 16)))
    expected = quantize_pruned(model, masks, bits, method=method)
    for (name, a), (_, b) in zip(reloaded.state_dict().items(), expected.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    for name, mask in masks.items():
        assert torch.all(reloaded.state_dict()[name][~mask] == 0)
        assert len(torch.unique(reloaded.state_dict()[name][mask])) <= 2**bits
    # Biases come back as float16-rounded float32.
    torch.testing.assert_close(reloaded[0].bias, model[0].bias.half().float(), rtol=0, atol=0)


def test_cnn_and_quantized_biases_round_trip(tmp_path):
    model = small_cnn(seed=3)
    masks = global_magnitude_masks(prunable_weights(model), 0.8)
    path = tmp_path / "cnn.llc"
    save_compressed(model, path, masks, 4, bias_bits=3)
    reloaded = load_compressed(path, small_cnn())
    expected = quantize_pruned(model, masks, 4, bias_bits=3)
    for a, b in zip(reloaded.state_dict().values(), expected.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert len(torch.unique(reloaded[1].bias)) <= 8


def test_long_gaps_and_empty_tensors_survive_the_format():
    positions = np.array([0, 254, 255, 600, 1111, 5000, 70_000], dtype=np.int64)
    unit = CompressedTensor(
        (300, 300),
        positions,
        np.arange(7, dtype=np.uint8) % 4,
        np.array([-1, -0.5, 0.5, 1], dtype=np.float16),
    )
    empty = CompressedTensor(
        (3, 4), np.array([], dtype=np.int64), np.array([], dtype=np.uint8), np.zeros(4, dtype=np.float16)
    )
    back = decode(encode({"a": unit, "b": empty}))
    np.testing.assert_array_equal(back["a"].positions, positions)
    np.testing.assert_array_equal(back["a"].dense(), unit.dense())
    assert back["b"].positions.size == 0 and np.all(back["b"].dense() == 0)


def test_the_float32_baseline_does_not_depend_on_the_dtype_the_model_computes_in():
    model, _ = _pruned_model(sparsity=0.5)
    f32 = float32_size_bytes(model)
    wide = copy.deepcopy(model).double()
    assert float32_size_bytes(wide) == f32
    assert float32_size_bytes(wide.half()) == f32


def test_the_file_is_small_and_grows_with_bits(tmp_path):
    model, masks = _pruned_model(sparsity=0.9)
    f32 = float32_size_bytes(model)
    n_params = sum(p.numel() for p in model.parameters())
    assert f32 > 4 * n_params  # torch.save adds its container
    sizes = [save_compressed(model, tmp_path / f"{b}.llc", masks, b) for b in (2, 4, 8)]
    assert sizes[0] < sizes[1] < sizes[2] < f32 / 5
    # Honest: at least the relative indices and the codes of every kept weight are paid for.
    kept = sum(int(m.sum()) for m in masks.values())
    assert sizes[0] > kept * (2 + 2) / 8


def test_remove_dead_units_keeps_the_outputs():
    model = mlp((20, 10), seed=0)
    masks = global_magnitude_masks(prunable_weights(model), 0.9)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in masks:
                p.mul_(masks[name])
    x = torch.rand(16, 64)
    before = model(x)
    new_masks = remove_dead_units(model, masks)
    torch.testing.assert_close(model(x), before, rtol=0, atol=1e-6)
    assert sum(int(m.sum()) for m in new_masks.values()) <= sum(int(m.sum()) for m in masks.values())
    dead = ~masks["2.weight"].any(dim=0)
    if dead.any():
        assert not new_masks["0.weight"][dead].any() and torch.all(model[0].bias[dead] == 0)


def test_compression_experiment_meets_the_target(tmp_path):
    result = compression_experiment(seed=0, progress=False, path=tmp_path / "digits.llc")
    assert result.compressed_bytes == os.path.getsize(tmp_path / "digits.llc")
    assert result.ratio >= 50
    assert result.accuracy_drop <= 0.5
    assert result.dense_accuracy > 0.95
    assert result.sparsity > 0.9
    # measured on the 270 validation images too (whole images: a multiple of 1/270)
    for acc in (result.dense_val_accuracy, result.compressed_val_accuracy):
        assert 0.9 < acc <= 1 and abs(acc * 270 - round(acc * 270)) < 1e-9
    assert abs(result.dense_accuracy * 450 - round(result.dense_accuracy * 450)) < 1e-9
    # the dense network as trained comes with the numbers: the very weights of the dense protocol (30
    # epochs, lr 0.05, momentum 0.9, batches of 32), not the pruned model, in eval mode, out of repr,
    # equality and hashing
    splits = load_digits_splits(seed=0)
    again = mlp((300, 100), seed=0)
    train(again, (splits.X_train, splits.y_train), epochs=30, seed=0, lr=0.05, momentum=0.9, batch_size=32,
          progress=False, evaluate=())
    dense = dict(result.dense.named_parameters())
    assert all(torch.equal(dense[name], p) for name, p in again.named_parameters())
    assert accuracy(result.dense, splits.X_test, splits.y_test) == result.dense_accuracy
    assert accuracy(result.dense, splits.X_val, splits.y_val) == result.dense_val_accuracy
    assert not result.dense.training
    stripped = dataclasses.replace(result, dense=None)
    assert "dense=" not in repr(result) and result == stripped and hash(result) == hash(stripped)


# ----------------------------------------------------------------------------- errors


def test_bad_arguments(tmp_path):
    model, masks = _pruned_model()
    with pytest.raises(ValueError, match=r"bits must be an integer in \[2, 8\]"):
        save_compressed(model, tmp_path / "x", masks, 1)
    with pytest.raises(ValueError, match=r"bits must be an integer in \[2, 8\]"):
        save_compressed(model, tmp_path / "x", masks, 9)
    with pytest.raises(ValueError, match="method must be one of"):
        save_compressed(model, tmp_path / "x", masks, 4, method="huffman")
    with pytest.raises(ValueError, match="masks has an unknown name 'fc.weight'"):
        compress_state(model, {"fc.weight": torch.ones(3)}, 4)
    with pytest.raises(ValueError, match="keep must have the shape of w"):
        share_weights(np.ones((2, 2)), np.ones(3, dtype=bool), 4)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 256\]"):
        kmeans_1d(np.ones(3), 0)
    with pytest.raises(ValueError, match="values must be finite"):
        kmeans_1d(np.array([1.0, np.nan]), 2)


def test_loading_into_the_wrong_template_or_a_foreign_file(tmp_path):
    model, masks = _pruned_model()
    path = tmp_path / "m.llc"
    save_compressed(model, path, masks, 4)
    with pytest.raises(ValueError, match="model_template must have the state_dict entries"):
        load_compressed(path, mlp((32,)))
    with pytest.raises(ValueError, match="model_template entry '0.weight' must have shape"):
        load_compressed(path, mlp((33, 16)))
    other = tmp_path / "other.pt"
    torch.save(model.state_dict(), other)
    with pytest.raises(ValueError, match="LLC1 header"):
        load_compressed(other, mlp((32, 16)))
    data = open(path, "rb").read()
    for cut in (len(data) // 2, len(data) - 1):
        with pytest.raises(ValueError, match="data must be a complete compressed model file"):
            decode(data[:cut])


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=0, max_size=20_000), st.integers(0, 15))
def test_lzma_with_a_fitted_dictionary_writes_the_same_bytes_as_preset_9(data, alphabet):
    """The quick encoder (dictionary fitted to the input) and preset 9's 64 MiB one agree byte for byte."""
    import lzma


    data = bytes(b % (alphabet + 1) for b in data)  # small alphabets: long matches, as in code streams
    quick = lzma.compress(data, format=lzma.FORMAT_RAW, filters=model_file._lzma_filters_for(len(data)))
    full = lzma.compress(data, format=lzma.FORMAT_RAW, filters=model_file._LZMA_FILTERS)
    assert quick == full
    assert lzma.decompress(quick, format=lzma.FORMAT_RAW, filters=model_file._LZMA_FILTERS) == data
