"""Train, validation and test parts of the digits: choices on validation, figures on test.

:func:`load_digits_splits` keeps the test part of :func:`lessons_lib.data.load_digits_split`
(the same 450 images for the same ``seed`` and ``test_size``, so figures compare across
lessons) and carves a *stratified* validation part out of its training part: every class
keeps its share in each part (to within one image). A lesson makes its choices (bits, an
observer, a sparsity, a schedule) by the validation accuracy, trains on the training part
alone, and reports test accuracy once, for the choice made.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lessons_lib import _validate
from lessons_lib.data import N_CLASSES, load_digits_split, stratified_split

__all__ = ["DigitsSplits", "load_digits_splits"]


@dataclass(frozen=True)
class DigitsSplits:
    """Three disjoint parts of the digits.

    Attributes
    ----------
    X_train, X_val, X_test : float tensors ``(n_part, 64)``, pixels in [0, 1]
    y_train, y_val, y_test : int64 tensors ``(n_part,)``, labels 0..9

    Train with ``train(model, (splits.X_train, splits.y_train), ...)``: the training part
    alone, and no test score computed along the way.
    """

    X_train: torch.Tensor
    X_val: torch.Tensor
    X_test: torch.Tensor
    y_train: torch.Tensor
    y_val: torch.Tensor
    y_test: torch.Tensor

    def __repr__(self) -> str:
        return (
            f"DigitsSplits(train={tuple(self.X_train.shape)}, val={tuple(self.X_val.shape)}, "
            f"test={tuple(self.X_test.shape)}, classes={N_CLASSES})"
        )


def load_digits_splits(
    validation_size: float = 0.2, test_size: float = 0.25, seed: int = 0, dtype: torch.dtype | None = None
) -> DigitsSplits:
    """Stratified train/validation/test parts of the 1,797 digits.

    Parameters
    ----------
    validation_size : float in (0, 1), the fraction of the *training* part set aside for
        validation (0.2 of 1,347 gives 270 validation and 1,077 training images)
    test_size : float in (0, 1), as in :func:`lessons_lib.data.load_digits_split`
        (0.25 gives the 450 test images of lessons 09-11)
    seed : int >= 0, fixes both shuffles; the test part is that of ``load_digits_split(test_size, seed)``
    dtype : floating dtype of the features (default ``torch.get_default_dtype()``)

    Returns
    -------
    DigitsSplits whose three parts are disjoint and together hold every image once.
    """
    validation_size = float(
        _validate.in_range(validation_size, "validation_size", 0.0, 1.0, low_open=True, high_open=True)
    )
    outer = load_digits_split(test_size=test_size, seed=seed, dtype=dtype)
    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    # train_test_split(index, test_size=validation_size, random_state=seed, stratify=y_train)'s split
    fit, val = stratified_split(outer.y_train.numpy(), validation_size, seed)
    fit, val = torch.from_numpy(fit), torch.from_numpy(val)
    return DigitsSplits(
        outer.X_train[fit],
        outer.X_train[val],
        outer.X_test,
        outer.y_train[fit],
        outer.y_train[val],
        outer.y_test,
    )
