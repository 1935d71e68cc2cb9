"""Observers: the range of a layer's activations, measured on calibration data.

Static post-training quantization fixes each activation's scale ``s`` and zero point ``z``
before deployment, from a few hundred calibration inputs (taken from the training part).
An observer sees the activations batch by batch (:meth:`update`) and then proposes a range
``[r_min, r_max]`` that contains 0, from which :func:`affine_qparams` makes ``n``-bit affine
parameters (the formulas of lesson 09)::

    s = (r_max - r_min) / (2^n - 1),    z = round(-r_min / s),    codes in [0, 2^n - 1]

* :class:`MinMaxObserver` takes the smallest and largest value seen: nothing is clipped, but
  one outlier stretches the grid for everyone.
* :class:`PercentileObserver` takes the ``percentile``-th and ``(100 - percentile)``-th
  percentiles of every value seen: the rare values beyond are clipped to the range, the
  rest get a finer grid.

After a ReLU every value is >= 0, so ``r_min = 0`` and ``z = 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lessons_lib import _validate

__all__ = ["MinMaxObserver", "PercentileObserver", "affine_qparams", "make_observer", "OBSERVERS"]

OBSERVERS = ("minmax", "percentile")


def _values(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().to(torch.float64).numpy()
    return _validate.finite(x, "x").ravel()


def affine_qparams(r_min: float, r_max: float, bits: int = 8) -> tuple[float, int]:
    """Scale and zero point of ``bits``-bit affine codes ``[0, 2^bits - 1]`` for ``[r_min, r_max]``.

    The range is widened to contain 0 (so that 0.0 is a grid point); a range of zero width
    gets ``s = 1``. Returns ``(s, z)`` with ``s > 0`` a float and ``z`` an int in the code range.
    """
    r_min = float(_validate.finite(r_min, "r_min"))
    r_max = float(_validate.finite(r_max, "r_max"))
    if r_max < r_min:
        raise ValueError(f"r_max must be >= r_min; got r_min={r_min:g}, r_max={r_max:g}")
    bits = _validate.integer(bits, "bits", 2, 16)
    lo, hi = min(r_min, 0.0), max(r_max, 0.0)
    q_max = 2**bits - 1
    if hi == lo:
        return 1.0, 0
    scale = (hi - lo) / q_max
    zero_point = int(np.clip(np.round(-lo / scale), 0, q_max))
    return scale, zero_point


class MinMaxObserver:
    """The range ``[min x, max x]`` over everything :meth:`update` has seen (widened to contain 0)."""

    def __init__(self) -> None:
        self.r_min = np.inf
        self.r_max = -np.inf

    def update(self, x: Any) -> MinMaxObserver:
        """See another batch ``x`` (array or tensor, any shape, finite, non-empty); returns self."""
        v = _values(x)
        self.r_min = min(self.r_min, float(v.min()))
        self.r_max = max(self.r_max, float(v.max()))
        return self

    def range(self) -> tuple[float, float]:
        """``(r_min, r_max)`` with ``r_min <= 0 <= r_max``."""
        if not np.isfinite(self.r_min):
            raise ValueError("update must be called with data before range(); the observer has seen none")
        return min(self.r_min, 0.0), max(self.r_max, 0.0)

    def qparams(self, bits: int = 8) -> tuple[float, int]:
        """``(s, z)`` of :func:`affine_qparams` for this range."""
        return affine_qparams(*self.range(), bits)

    def __repr__(self) -> str:
        return f"MinMaxObserver(r_min={self.r_min:.6g}, r_max={self.r_max:.6g})"


class PercentileObserver(MinMaxObserver):
    """The range between the ``(100 - percentile)``-th and ``percentile``-th percentiles of all values seen.

    Parameters
    ----------
    percentile : float in (50, 100]; 100 gives the min/max range. NumPy's default (linear)
        interpolation between order statistics.
    """

    def __init__(self, percentile: float = 99.99) -> None:
        super().__init__()
        self.percentile = float(_validate.in_range(percentile, "percentile", 50.0, 100.0, low_open=True))
        self._seen: list[np.ndarray] = []

    def update(self, x: Any) -> PercentileObserver:
        v = _values(x)
        super().update(v)
        self._seen.append(v)
        return self

    def range(self) -> tuple[float, float]:
        super().range()  # raises if nothing was seen
        v = np.concatenate(self._seen)
        lo, hi = np.percentile(v, [100.0 - self.percentile, self.percentile])
        return min(float(lo), 0.0), max(float(hi), 0.0)

    def __repr__(self) -> str:
        return f"PercentileObserver(percentile={self.percentile:g}, values={sum(v.size for v in self._seen)})"


def make_observer(name: str, percentile: float = 99.99) -> MinMaxObserver:
    """A fresh observer by name: ``"minmax"`` or ``"percentile"`` (with ``percentile``)."""
    name = _validate.one_of(name, "observer", OBSERVERS)
    return MinMaxObserver() if name == "minmax" else PercentileObserver(percentile)
