"""Tests of lessons_lib.timing: medians, quartiles and ratios."""

from __future__ import annotations

import time

import pytest

from lessons_lib.timing import Timing, time_call


def test_time_call_reports_a_median_inside_its_quartiles_and_counts_calls():
    calls = []
    t = time_call(lambda: calls.append(1), repeat=11, warmup=2, number=3)
    assert len(calls) == 2 + 11 * 3 and t.runs == 11
    assert 0 <= t.fastest <= t.q1 <= t.median <= t.q3


def test_a_slower_call_is_slower():
    fast = time_call(lambda: None, repeat=5)
    slow = time_call(lambda: time.sleep(0.002), repeat=5)
    assert slow.median > 0.0015 and fast.speedup_over(slow) > 10


def test_speedup_needs_a_timing():
    with pytest.raises(TypeError, match="other"):
        Timing(1.0, 1.0, 1.0, 1.0, 3).speedup_over(2.0)
