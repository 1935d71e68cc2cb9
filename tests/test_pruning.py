"""Tests of lessons_lib.pruning: mask counts, ranking, ties, masking and the momentum pitfall."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lessons_lib.pruning import (
    MaskedSGD,
    apply_masks,
    channel_mask,
    count_revived,
    global_magnitude_masks,
    magnitude_mask,
    masked_momentum_step,
    prunable_weights,
    zero_fraction,
)

values = st.floats(-100, 100, allow_nan=False, allow_subnormal=False)
# Few distinct values so ties are common.
tied = st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0])
arrays = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=7), elements=st.one_of(values, tied)
)
sparsities = st.floats(0.0, 1.0, exclude_max=True)


@settings(deadline=None, max_examples=150)
@given(w=arrays, sparsity=sparsities)
def test_magnitude_mask_drops_exactly_the_requested_count_smallest_first(w, sparsity):
    mask = magnitude_mask(w, sparsity)
    assert mask.dtype == bool and mask.shape == w.shape
    k = round(sparsity * w.size)
    assert int((~mask).sum()) == k
    if 0 < k < w.size:
        assert np.abs(w[~mask]).max() <= np.abs(w[mask]).min()


@settings(deadline=None, max_examples=100)
@given(w=arrays, sparsity=sparsities)
def test_ties_are_broken_by_flat_index(w, sparsity):
    mask = magnitude_mask(w, sparsity)
    np.testing.assert_array_equal(mask, magnitude_mask(w.copy(), sparsity))
    flat, keep = np.abs(w).ravel(), mask.ravel()
    # Among equal magnitudes, a dropped entry never comes after a kept one.
    for value in np.unique(flat):
        idx = np.flatnonzero(flat == value)
        kept = keep[idx]
        assert np.all(np.diff(kept.astype(int)) >= 0)


def test_all_equal_weights_drop_the_first_entries():
    mask = magnitude_mask(np.ones((2, 5)), 0.3)
    np.testing.assert_array_equal(mask.ravel(), [False] * 3 + [True] * 7)
    # round() is Python's: 0.25 * 10 = 2.5 rounds to 2.
    assert int((~magnitude_mask(np.ones(10), 0.25)).sum()) == 2


def test_torch_in_torch_out():
    w = torch.tensor([[0.1, -3.0], [2.0, -0.01]], requires_grad=True)
    mask = magnitude_mask(w, 0.5)
    assert isinstance(mask, torch.Tensor) and mask.dtype == torch.bool
    assert mask.tolist() == [[False, True], [True, False]]


@settings(deadline=None, max_examples=100)
@given(ws=st.lists(arrays, min_size=1, max_size=4), sparsity=sparsities)
def test_global_masks_rank_all_tensors_together(ws, sparsity):
    weights = {f"w{i}": w for i, w in enumerate(ws)}
    masks = global_magnitude_masks(weights, sparsity)
    assert list(masks) == list(weights)
    n = sum(w.size for w in ws)
    dropped = sum(int((~m).sum()) for m in masks.values())
    assert dropped == round(sparsity * n)
    kept_vals = np.concatenate([np.abs(w[masks[k]]) for k, w in weights.items()])
    drop_vals = np.concatenate([np.abs(w[~masks[k]]) for k, w in weights.items()])
    if drop_vals.size and kept_vals.size:
        assert drop_vals.max() <= kept_vals.min()
    # Same as one mask over the concatenation (ties by dict order, then flat index).
    flat_mask = magnitude_mask(np.concatenate([w.ravel() for w in ws]), sparsity)
    np.testing.assert_array_equal(np.concatenate([m.ravel() for m in masks.values()]), flat_mask)


def test_global_pruning_can_empty_a_small_layer_where_layerwise_would_not():
    weights = {"small": np.full((2, 2), 0.01), "big": np.linspace(1, 2, 12).reshape(3, 4)}
    masks = global_magnitude_masks(weights, 0.25)
    assert not masks["small"].any() and masks["big"].all()
    assert magnitude_mask(weights["small"], 0.25).sum() == 3


def test_channel_mask_drops_whole_rows_and_columns():
    w = np.array([[3.0, 4.0], [0.1, 0.1], [1.0, 0.0], [0.0, 0.0]])  # row norms 5, .14, 1, 0
    mask = channel_mask(w, 0.5, axis=0)
    np.testing.assert_array_equal(mask, [[True, True], [False, False], [True, True], [False, False]])
    cols = channel_mask(w, 0.5, axis=1)  # column norms sqrt(10.01), sqrt(16.01)
    np.testing.assert_array_equal(cols, np.array([[False, True]] * 4))
    conv = torch.randn(6, 2, 3, 3, generator=torch.Generator().manual_seed(0))
    m = channel_mask(conv, 1 / 3)
    assert m.shape == conv.shape and isinstance(m, torch.Tensor)
    assert int((~m.reshape(6, -1).all(dim=1)).sum()) == 2


def test_apply_masks_to_a_model_and_to_a_dict():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    masks = global_magnitude_masks(prunable_weights(model), 0.5)
    assert set(masks) == {"0.weight", "2.weight"}
    apply_masks(model, masks)
    assert zero_fraction(model) == pytest.approx(round(0.5 * 18) / 18)
    assert count_revived(model, masks) == 0
    weights = {"a": np.array([1.0, -2.0, 3.0]), "b": np.ones(2)}
    out = apply_masks(weights, {"a": np.array([True, False, True])})
    np.testing.assert_array_equal(out["a"], [1.0, 0.0, 3.0])
    assert out["b"] is weights["b"] and weights["a"][1] == -2.0


def test_masked_step_equals_torch_sgd_when_nothing_is_pruned():
    gen = torch.Generator().manual_seed(0)
    for nesterov in (False, True):
        p0 = torch.randn(5, generator=gen)
        param = torch.nn.Parameter(p0.clone())
        opt = torch.optim.SGD([param], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov)
        p, buf = p0.clone(), None
        for _ in range(20):
            g = torch.randn(5, generator=gen)
            param.grad = g.clone()
            opt.step()
            p, buf = masked_momentum_step(
                p, g, buf, torch.ones(5, dtype=torch.bool), 0.1, 0.9, 0.01, nesterov
            )
        torch.testing.assert_close(p, param.detach(), rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(buf, opt.state[param]["momentum_buffer"])


def test_masked_step_in_numpy_keeps_pruned_entries_at_zero():
    rng = np.random.default_rng(0)
    mask = np.array([True, False, True, False])
    p, buf = rng.normal(size=4) * mask, None
    for _ in range(50):
        p, buf = masked_momentum_step(p, rng.normal(size=4), buf, mask, 0.05, 0.9, 0.1)
        assert np.all(p[~mask] == 0) and np.all(buf[~mask] == 0)
    assert np.all(p[mask] != 0)


def _problem(seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(64, 8, generator=gen)
    y = torch.randint(0, 3, (64,), generator=gen)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    return model, X, y


def _steps(model, opt, X, y, n):
    for _ in range(n):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        opt.step()


def test_plain_sgd_revives_pruned_weights_masked_sgd_does_not():
    model, X, y = _problem()
    warm = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    _steps(model, warm, X, y, 10)  # the momentum buffer is now full
    masks = global_magnitude_masks(prunable_weights(model), 0.7)

    plain = copy.deepcopy(model)
    plain_opt = torch.optim.SGD(plain.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    plain_opt.load_state_dict(warm.state_dict())
    apply_masks(plain, masks)  # zero the weights once, as a naive prune does
    assert count_revived(plain, masks) == 0
    _steps(plain, plain_opt, X, y, 30)
    n_pruned = sum(int((~m).sum()) for m in masks.values())
    assert count_revived(plain, masks) > 0.9 * n_pruned

    masked = copy.deepcopy(model)
    opt = MaskedSGD(masked, masks, lr=0.1, momentum=0.9, weight_decay=1e-3)
    for _ in range(100):
        _steps(masked, opt, X, y, 1)
        assert count_revived(masked, masks) == 0
        for name, p in masked.named_parameters():
            if name in masks:
                assert torch.all(opt.state[p]["momentum_buffer"][~masks[name]] == 0)
    assert torch.nn.functional.cross_entropy(masked(X), y) < torch.nn.functional.cross_entropy(model(X), y)


def test_masked_sgd_matches_the_written_out_step():
    model, X, y = _problem(1)
    masks = global_magnitude_masks(prunable_weights(model), 0.5)
    opt = MaskedSGD(model, masks, lr=0.05, momentum=0.9, weight_decay=1e-2, nesterov=True)
    ref = {n: p.detach().clone() for n, p in model.named_parameters()}
    bufs = dict.fromkeys(ref)
    for _ in range(15):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X), y).backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        opt.step()
        for n in ref:
            mask = masks.get(n, torch.ones_like(ref[n], dtype=torch.bool))
            ref[n], bufs[n] = masked_momentum_step(ref[n], grads[n], bufs[n], mask, 0.05, 0.9, 1e-2, True)
        for n, p in model.named_parameters():
            torch.testing.assert_close(p.detach(), ref[n], rtol=1e-5, atol=1e-6)
            ref[n] = p.detach().clone()  # stay on the optimizer's path (float rounding)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("sparsity", [1.0, -0.1, math.nan, math.inf, 1.5])
def test_bad_sparsity(sparsity):
    msg = r"sparsity must be a number in \[0, 1\)"
    with pytest.raises(ValueError, match=msg):
        magnitude_mask(np.ones(4), sparsity)
    with pytest.raises(ValueError, match=msg):
        global_magnitude_masks({"a": np.ones(4)}, sparsity)
    with pytest.raises(ValueError, match=msg):
        channel_mask(np.ones((4, 2)), sparsity)


@pytest.mark.parametrize("sparsity", ["0.5", None, True])
def test_sparsity_of_wrong_type(sparsity):
    with pytest.raises(TypeError, match="sparsity"):
        magnitude_mask(np.ones(4), sparsity)


def test_bad_weights():
    with pytest.raises(ValueError, match="w must not be empty"):
        magnitude_mask(np.array([]), 0.5)
    with pytest.raises(ValueError, match="w must be finite"):
        magnitude_mask(np.array([1.0, np.nan]), 0.5)
    with pytest.raises(ValueError, match="weights must hold at least one"):
        global_magnitude_masks({}, 0.5)
    with pytest.raises(TypeError, match="weights must be a dict"):
        global_magnitude_masks([np.ones(3)], 0.5)
    with pytest.raises(ValueError, match=r"weights\['b'\] must be finite"):
        global_magnitude_masks({"a": np.ones(2), "b": np.array([np.inf])}, 0.5)


def test_bad_axis_for_channels():
    with pytest.raises(ValueError, match=r"axis must be an integer in \[-2, 1\]"):
        channel_mask(np.ones((3, 2)), 0.5, axis=2)


def test_unknown_names_and_wrong_shapes():
    model, _, _ = _problem()
    with pytest.raises(ValueError, match="masks has an unknown name 'fc.weight'"):
        apply_masks(model, {"fc.weight": torch.ones(16, 8, dtype=torch.bool)})
    with pytest.raises(ValueError, match=r"masks\['0.weight'\] must have the shape"):
        apply_masks(model, {"0.weight": torch.ones(8, 16, dtype=torch.bool)})
    with pytest.raises(ValueError, match="unknown name"):
        MaskedSGD(model, {"nope": torch.ones(1)}, lr=0.1)
    with pytest.raises(ValueError, match="names has an unknown name"):
        zero_fraction(model, ["nope"])


def test_bad_optimizer_arguments():
    mask = np.ones(3, dtype=bool)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        masked_momentum_step(np.ones(3), np.ones(3), None, mask, 0.1, momentum=1.0)
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\)"):
        masked_momentum_step(np.ones(3), np.ones(3), None, mask, -0.1)
    with pytest.raises(ValueError, match="grad must have the shape of param"):
        masked_momentum_step(np.ones(3), np.ones(4), None, mask, 0.1)
