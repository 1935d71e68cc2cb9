"""lessons_lib.intervals.t_half_width against scipy.stats' own t-interval, and its properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from lessons_lib.intervals import t_half_width

samples = st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=12)


@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.05 / 12])
def test_it_is_half_of_scipys_t_interval(alpha):
    x = np.array([97.1, 96.4, 98.0, 97.6, 96.9])
    low, high = stats.t.interval(1 - alpha, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert t_half_width(x, alpha) == pytest.approx((high - low) / 2, rel=1e-12)


def test_five_seeds_by_hand():
    """n = 5: t_{0.975, 4} = 2.776445105 (tables), s = sqrt(2.5) for 1..5, so 2.7764 sqrt(2.5) / sqrt(5)."""
    by_hand = 2.776445105 * math.sqrt(2.5) / math.sqrt(5)
    assert t_half_width([1, 2, 3, 4, 5]) == pytest.approx(by_hand, rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(samples, st.floats(-1e3, 1e3), st.floats(0.01, 100))
def test_shift_and_scale(x, shift, scale):
    """The half-width ignores a shift and scales with |scale|; smaller alpha, wider interval."""
    x = np.asarray(x)
    h = t_half_width(x)
    assert h >= 0
    assert t_half_width(x + shift) == pytest.approx(h, rel=1e-6, abs=1e-6)
    assert t_half_width(scale * x) == pytest.approx(scale * h, rel=1e-6, abs=1e-6)
    assert t_half_width(x, 0.01) >= h


def test_equal_values_give_zero():
    assert t_half_width([0.5, 0.5, 0.5]) == 0.0
