"""Lesson 11's validation searches (scripts/search_lesson11.py) and their records.

Lesson 11 uses both picks (section 2's schedule and exercise 4's solution). These tests keep the
records honest: the grid and the rule are the script's, and one row of each record, one the rule
does not pick, is recomputed with the script's code and compared count by count (and exercise 4's pick)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from conftest import load_script
from lessons_lib import selection
from lessons_lib.splits import load_digits_splits

pytestmark = pytest.mark.usefixtures("one_thread")


def _script():
    return load_script("search_lesson11")


@pytest.fixture(scope="module")
def float64_data_and_dense():
    script = _script()
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # as the lesson and the script compute
    try:
        data = load_digits_splits(validation_size=0.2, seed=0)
        yield script, data, script.dense_networks(data)
    finally:
        torch.set_default_dtype(before)


def test_schedule_record_grid_and_rule():
    script, record = _script(), selection.load_record("lesson11_schedule", selection.RECORD_DIR)
    assert record.script == "scripts/search_lesson11.py" and record.seeds == script.SEEDS
    assert record.settings == tuple({"levels": lv, "epochs": ep, "lr": lr, "alpha": a, "temperature": t}
                                    for lv, ep, (a, t) in itertools.product(script.LEVELS, script.EPOCHS,
                                                                            script.DISTILL)
                                    for lr in script.LRS)
    assert record.cost == tuple(float(sum(script.EPOCHS[s["epochs"]])) for s in record.settings)
    assert record.n_images == 270 and record.rule == selection.RULE.format(tolerance=0.5)
    assert record.settings[record.pick] == {"levels": "earlier", "epochs": "half", "lr": 0.1, "alpha": 0.9,
                                            "temperature": 2.0}
    assert script.LEVELS["cubic"] == (0.5608, 0.8488, 0.9548, 0.97)


def test_schedule_row_recomputed_exactly(float64_data_and_dense):
    script, data, dense = float64_data_and_dense
    record = selection.load_record("lesson11_schedule", selection.RECORD_DIR)
    row = record.find(levels="earlier", epochs="half", lr=0.01, alpha=0.0, temperature=4.0)
    assert row != record.pick
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        levels, epochs = script.LEVELS["earlier"], script.EPOCHS["half"]
        nets = script.prune_schedule(dense, data, levels, epochs, (0.01,), 0.0, 4.0)
        counts = [script.validation_correct(nets[0.01, seed], data) for seed in script.SEEDS]
    finally:
        torch.set_default_dtype(before)
    assert np.array_equal(counts, record.correct[row])
    # the lesson's earlier schedule ((4, 4, 4, 8) epochs at lr 0.03, T = 4) is in the grid: its 1,307
    # images are the ones the earlier lesson printed; it is within the bar but costs twice the pick's epochs
    earlier = record.find(levels="earlier", epochs="kept", lr=0.03, alpha=0.9, temperature=4.0)
    assert record.correct[earlier].sum() == 1307 and record.means[earlier] >= record.means.max() - 0.5
    assert (record.cost[earlier], record.cost[record.pick]) == (20.0, 10.0)


def test_exercise4_record_pick_and_one_row(float64_data_and_dense):
    script, data, dense = float64_data_and_dense
    record = selection.load_record("lesson11_exercise4", selection.RECORD_DIR)
    assert record.settings == tuple({"sparsity": s, "epochs": e, "lr": lr} for s, e in itertools.product(
        script.RECIPE_SPARSITY, script.RECIPE_EPOCHS) for lr in script.LRS)  # every recipe is 100x smaller
    assert record.settings[record.pick] == {"sparsity": 0.978, "epochs": 4, "lr": 0.03}
    assert record.question.endswith("Recipes left out for their size: none")
    row = record.find(sparsity=0.976, epochs=4, lr=0.01)
    assert row != record.pick
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        start, tuning = script.exercise4_start(data, dense)
        rows = script.recipe_rows(data, dense, start, tuning, 0.976, 4, lrs=(0.01,))
        counts, smallest_ratio = rows[0.01]
        picked = script.recipe_rows(data, dense, start, tuning, 0.978, 4, lrs=(0.03,))[0.03]
    finally:
        torch.set_default_dtype(before)
    assert np.array_equal(counts, record.correct[row]) and smallest_ratio >= 100
    # and the pick itself, the solution lesson 11 gives (its validation counts are printed there)
    assert np.array_equal(picked[0], record.correct[record.pick]) and picked[1] >= 100
