"""Lesson 10's validation search (scripts/search_lesson10.py) and its record.

The lesson checks the picked row of the record against its own run; this recomputes one row the
lesson does not run (the cheapest: 1 epoch per level, learning rate 0.02) with the script's code
and compares it with the record, count by count, and checks the rule's pick and the record's grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import load_script
from lessons_lib import selection
from lessons_lib.splits import load_digits_splits

pytestmark = pytest.mark.usefixtures("one_thread")


def _script():
    return load_script("search_lesson10")


@pytest.fixture(scope="module")
def record():
    return selection.load_record("lesson10_finetuning", selection.RECORD_DIR)


def test_record_grid_rule_and_pick(record):
    script = _script()
    assert record.script == "scripts/search_lesson10.py" and record.seeds == script.SEEDS
    assert record.settings == tuple({"epochs_per_level": e, "ft_lr": lr}
                                    for e in script.EPOCHS_PER_LEVEL for lr in script.FT_LRS)
    assert record.cost == tuple(float(s["epochs_per_level"]) for s in record.settings)
    assert record.n_images == 12 * 270 and record.tolerance == 0.5
    assert record.rule == selection.RULE.format(tolerance=0.5)
    assert record.settings[record.pick] == {"epochs_per_level": 4, "ft_lr": 0.1}  # what lesson 10 uses


def test_one_row_recomputed_exactly(record):
    script = _script()
    row = record.find(epochs_per_level=1, ft_lr=0.02)
    assert row != record.pick
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as the lesson and the script compute
    try:
        splits = load_digits_splits(validation_size=0.2, seed=0)
        fit = (splits.X_train, splits.y_train)
        dense = script.dense_networks(fit)
        iterative_val, oneshot_val = script.section5(dense, fit, splits.X_val, splits.y_val, 1, 0.02)
    finally:
        torch.set_default_dtype(before)
    assert np.array_equal(iterative_val.sum(axis=1) + oneshot_val.sum(axis=1), record.correct[row])
