"""Tests of lessons_lib.observers: ranges, percentiles, batches, and the affine parameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lessons_lib.observers import MinMaxObserver, PercentileObserver, affine_qparams, make_observer

arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=30),
                    elements=st.floats(-50, 50, allow_subnormal=False))


@given(x=arrays, cut=st.integers(0, 100))
def test_minmax_is_the_range_widened_to_zero_whatever_the_batches(x, cut):
    flat = x.ravel()
    cut = min(cut, flat.size - 1)
    obs = MinMaxObserver().update(flat[: cut + 1])
    if cut + 1 < flat.size:
        obs.update(torch.from_numpy(flat[cut + 1:]))
    assert obs.range() == (min(flat.min(), 0.0), max(flat.max(), 0.0))


@given(x=arrays, p=st.floats(50.5, 100.0))
def test_the_percentile_range_lies_inside_the_minmax_range_and_equals_numpy(x, p):
    lo, hi = PercentileObserver(p).update(x).range()
    mlo, mhi = MinMaxObserver().update(x).range()
    assert mlo <= lo <= 0.0 <= hi <= mhi
    want = np.percentile(x.ravel(), [100 - p, p])
    assert (lo, hi) == (min(want[0], 0.0), max(want[1], 0.0))


def test_percentile_100_is_minmax_and_an_outlier_moves_only_minmax():
    x = np.concatenate([np.linspace(0.0, 1.0, 10_001), [50.0]])
    assert PercentileObserver(100.0).update(x).range() == MinMaxObserver().update(x).range() == (0.0, 50.0)
    lo, hi = PercentileObserver(99.9).update(x).range()
    assert lo == 0.0 and hi < 1.0


@given(lo=st.floats(-100, 0), hi=st.floats(0, 100), bits=st.integers(2, 16))
def test_affine_parameters_make_zero_a_grid_point_and_cover_the_range(lo, hi, bits):
    s, z = affine_qparams(lo, hi, bits)
    assert s > 0 and isinstance(z, int) and 0 <= z <= 2**bits - 1
    if hi > lo:
        assert s == pytest.approx((hi - lo) / (2**bits - 1), rel=1e-12)
        assert s * (0 - z) <= lo + s / 2 + 1e-9 and s * (2**bits - 1 - z) >= hi - s / 2 - 1e-9


def test_after_a_relu_the_zero_point_is_zero():
    s, z = MinMaxObserver().update(torch.relu(torch.randn(100, 5))).qparams(8)
    assert z == 0 and s > 0


def test_an_observer_that_saw_nothing_says_so():
    with pytest.raises(ValueError, match="update"):
        MinMaxObserver().range()
    with pytest.raises(ValueError, match="update"):
        PercentileObserver().qparams()


def test_make_observer_by_name():
    assert type(make_observer("minmax")) is MinMaxObserver
    assert make_observer("percentile", 99.0).percentile == 99.0
