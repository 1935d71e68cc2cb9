"""The handwritten digits set that ships with scikit-learn, split for training.

``sklearn.datasets.load_digits`` holds 1,797 images of 8x8 pixels with grey levels
0..16 (no download). :func:`load_digits_split` scales them to [0, 1] by dividing by
16, flattens each image to 64 features and makes a stratified train/test split with
a fixed seed. Images for a CNN are ``X.reshape(-1, 1, 8, 8)`` (see :func:`as_images`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from lessons_lib import _validate

__all__ = ["DigitsSplit", "load_digits_split", "as_images", "N_FEATURES", "N_CLASSES"]

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
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data / 16.0, bunch.target.astype(np.int64)


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
    from sklearn.model_selection import train_test_split

    test_size = float(_validate.in_range(test_size, "test_size", 0.0, 1.0, low_open=True, high_open=True))
    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating torch dtype such as torch.float64; got {dtype!r}")
    X, y = _digits()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
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
