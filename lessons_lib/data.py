"""The handwritten digits set that ships with scikit-learn, split for training.

``sklearn.datasets.load_digits`` holds 1,797 images of 8x8 pixels with grey levels
0..16 (no download). :func:`load_digits_split` scales them to [0, 1] by dividing by
16, flattens each image to 64 features and makes a stratified train/test split with
a fixed seed. Images for a CNN are ``X.reshape(-1, 1, 8, 8)`` (see :func:`as_images`).

Importing scikit-learn takes most of a second (it imports much of SciPy), longer than
the lessons spend on their data. So the images are read from the file that ships with
scikit-learn, as ``load_digits`` reads it, and :func:`stratified_split` draws the split
that ``sklearn.model_selection.train_test_split(..., stratify=y)`` draws, written out in
NumPy; the tests check both against scikit-learn itself.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import pathlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from lessons_lib import _validate

__all__ = ["DigitsSplit", "load_digits_split", "stratified_split", "as_images", "N_FEATURES", "N_CLASSES"]

N_FEATURES = 64
N_CLASSES = 10


@dataclass(frozen=True)
class DigitsSplit:
    """A train/test split of the digits.

    Attributes
    ----------
    X_train : float tensor (n_train, 64), pixel values in [0, 1] (the values k/16 are exact in
        every float type)
    X_test : float tensor (n_test, 64)
    y_train : int64 tensor (n_train,), labels 0..9 (int64, as ``cross_entropy`` wants)
    y_test : int64 tensor (n_test,)

    Unpacks like a tuple: ``X_train, X_test, y_train, y_test = load_digits_split()``.
    """

    X_train: torch.Tensor
    X_test: torch.Tensor
    y_train: torch.Tensor
    y_test: torch.Tensor

    def __iter__(self):
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))

    def __repr__(self) -> str:
        return (
            f"DigitsSplit(train={tuple(self.X_train.shape)}, test={tuple(self.X_test.shape)}, "
            f"classes={N_CLASSES})"
        )


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """Pixels / 16 (1797, 64) and labels (1797,) of ``sklearn.datasets.load_digits``, read from its
    file ``sklearn/datasets/data/digits.csv.gz`` as ``load_digits`` reads it (one row per image:
    64 grey levels, then the label), without importing scikit-learn."""
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    files = [pathlib.Path(loc) / "datasets" / "data" / "digits.csv.gz" for loc in locations]
    file = next((f for f in files if f.is_file()), None)
    if file is None:  # a scikit-learn laid out otherwise: ask it
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return bunch.data / 16.0, bunch.target.astype(np.int64)
    with gzip.open(file, mode="rt", encoding="utf-8") as fh:
        table = np.loadtxt(fh, delimiter=",")
    return table[:, :-1] / 16.0, table[:, -1].astype(np.int64)


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """How many of ``n_draws`` to take from each class: scikit-learn's ``utils.extmath._approximate_mode``
    (shares floored, then one more for the largest remainders, ties broken by ``rng``)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def stratified_split(y: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)`` of a stratified random split of the labels ``y`` (1-D).

    The same indices, in the same order, as scikit-learn's
    ``train_test_split(np.arange(len(y)), test_size=test_size, random_state=seed, stratify=y)``
    (its ``StratifiedShuffleSplit``): ``ceil(test_size * n)`` test items; per class, the counts of
    :func:`_approximate_mode` for the training and then the test part, filled from a random
    permutation of the class's items; each part then shuffled. Every random draw comes from one
    ``np.random.RandomState(seed)``, in scikit-learn's order.
    """
    y = np.asarray(y)
    test_size = float(_validate.in_range(test_size, "test_size", 0.0, 1.0, low_open=True, high_open=True))
    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    n_test = math.ceil(test_size * y.size)
    n_train = y.size - n_test
    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    if class_counts.min() < 2 or min(n_train, n_test) < classes.size:
        raise ValueError(f"y must have at least 2 items per class and test_size must leave each part "
                         f"at least {classes.size} items (one per class); got counts "
                         f"{class_counts.tolist()}, test_size {test_size}")
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i in range(classes.size):
        members = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(members[: n_i[i]])
        test.extend(members[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def load_digits_split(
    test_size: float = 0.25, seed: int = 0, dtype: torch.dtype | None = None
) -> DigitsSplit:
    """Stratified split of the 1,797 digits, features scaled to [0, 1].

    Parameters
    ----------
    test_size : float in (0, 1), the fraction of images in the test part
        (0.25 gives 1,347 training and 450 test images)
    seed : int >= 0, seeds the shuffle; the same seed gives the same split
    dtype : floating dtype of the features (default: ``torch.get_default_dtype()``, so a
        lesson that sets float64 as the default gets float64 data)

    Returns
    -------
    DigitsSplit with ``X_*`` of shape (n, 64) in ``dtype`` and int64 ``y_*`` of shape (n,).
    """
    test_size = float(_validate.in_range(test_size, "test_size", 0.0, 1.0, low_open=True, high_open=True))
    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch dtype such as torch.float64; got {dtype!r}")
    X, y = _digits()
    train, test = stratified_split(y, test_size, seed)  # train_test_split(X, y, ..., stratify=y)'s split
    X_tr, X_te, y_tr, y_te = X[train], X[test], y[train], y[test]
    return DigitsSplit(
        torch.from_numpy(np.ascontiguousarray(X_tr)).to(dtype),
        torch.from_numpy(np.ascontiguousarray(X_te)).to(dtype),
        torch.from_numpy(np.ascontiguousarray(y_tr)),
        torch.from_numpy(np.ascontiguousarray(y_te)),
    )


def as_images(X: torch.Tensor) -> torch.Tensor:
    """Flat features ``(n, 64)`` as images ``(n, 1, 8, 8)``."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a torch.Tensor; got {type(X).__name__}")
    if X.dim() != 2 or X.shape[1] != N_FEATURES:
        raise ValueError(f"X must have shape (n, 64); got {tuple(X.shape)}")
    return X.reshape(-1, 1, 8, 8)
