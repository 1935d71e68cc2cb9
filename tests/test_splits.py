"""Tests of lessons_lib.splits: three disjoint stratified parts, the test part of the other lessons."""

from __future__ import annotations

import numpy as np
import torch

from lessons_lib.data import load_digits_split
from lessons_lib.splits import load_digits_splits


def test_the_parts_are_disjoint_complete_stratified_and_the_test_part_is_lesson_06s():
    s = load_digits_splits(validation_size=0.2, seed=0, dtype=torch.float64)
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (1077, 270, 450)
    rows = torch.cat([s.X_train, s.X_val, s.X_test]).numpy()
    labels = torch.cat([s.y_train, s.y_val, s.y_test]).numpy()
    outer = load_digits_split(seed=0, dtype=torch.float64)
    assert torch.equal(s.X_test, outer.X_test) and torch.equal(s.y_test, outer.y_test)
    # together: every training image of the two-way split exactly once
    joined = sorted(map(tuple, np.column_stack([rows[:1347], labels[:1347]]).tolist()))
    two_way = np.column_stack([outer.X_train.numpy(), outer.y_train.numpy()])
    assert joined == sorted(map(tuple, two_way.tolist()))
    counts = [np.bincount(y.numpy(), minlength=10) for y in (s.y_train, s.y_val)]
    total = counts[0] + counts[1]
    assert np.all(np.abs(counts[1] - 0.2 * total) <= 1)  # each class's share, to within one image
    assert "val=(270, 64)" in repr(s)


def test_another_seed_gives_another_validation_part():
    a, b = load_digits_splits(seed=0), load_digits_splits(seed=1)
    assert not torch.equal(a.X_val, b.X_val)
