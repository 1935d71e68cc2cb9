"""Tests of lessons_lib.data: the digits and the split are scikit-learn's, read and drawn without it."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from lessons_lib.data import _digits, load_digits_split, stratified_split


def test_the_digits_are_sklearns():
    X, y = _digits()
    bunch = load_digits()
    assert np.array_equal(X, bunch.data / 16.0) and X.dtype == np.float64
    assert np.array_equal(y, bunch.target) and y.dtype == np.int64


@pytest.mark.parametrize("test_size", [0.25, 0.2, 0.1, 0.5, 0.37])
def test_the_split_is_train_test_splits(test_size):
    y = _digits()[1]
    for seed in (0, 1, 2, 3, 4, 7, 42, 2**32 - 1):
        index = np.arange(y.size)
        want_train, want_test = train_test_split(index, test_size=test_size, random_state=seed, stratify=y)
        train, test = stratified_split(y, test_size, seed)
        assert np.array_equal(train, want_train) and np.array_equal(test, want_test)


def test_the_split_matches_on_unbalanced_labels_with_tied_remainders():
    rng = np.random.default_rng(0)
    for trial in range(30):
        y = rng.integers(0, int(rng.integers(2, 6)), int(rng.integers(20, 80)))
        y = np.concatenate([y, np.unique(y)])  # at least 2 of every class
        size = float(rng.uniform(0.2, 0.6))
        want = train_test_split(np.arange(y.size), test_size=size, random_state=trial, stratify=y)
        got = stratified_split(y, size, trial)
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))


def test_loading_imports_no_sklearn_and_gives_the_lessons_split():
    code = ("import sys, torch; from lessons_lib.data import load_digits_split; "
            "d = load_digits_split(seed=0, dtype=torch.float64); "
            "print(len(d.y_train), len(d.y_test), 'sklearn' in sys.modules, 'scipy.stats' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split() == ["1347", "450", "False", "False"]
    d = load_digits_split(seed=0)
    X, y = _digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
    assert np.array_equal(d.X_train.numpy(), X_tr) and np.array_equal(d.y_test.numpy(), y_te)


def test_bad_split_arguments():
    with pytest.raises(ValueError, match="y must have at least 2 items per class"):
        stratified_split(np.array([0, 0, 1]), 0.5, 0)
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\)"):
        stratified_split(np.array([0, 0, 1, 1]), 1.0, 0)
