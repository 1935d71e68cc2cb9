"""The half-width of a Student-t confidence interval for a mean over a few seeds.

The compression lessons write this formula in their own visible code (each lesson's ``mean_ci``); the
library's exercise checks, its right-sized baseline rule and the benchmark use this one function.
"""

from __future__ import annotations

import math

import numpy as np

from . import _validate


def t_half_width(values: object, alpha: float = 0.05) -> float:
    """``t_{1 - alpha/2, n - 1} s / sqrt(n)``: the half-width of the two-sided ``1 - alpha`` t-interval
    for the mean of ``values``.

    ``values``: shape ``(n,)``, ``n >= 2`` finite numbers (for paired comparisons, the differences);
    ``s`` is their sample standard deviation (``ddof=1``) and ``t_{q, n - 1}`` the ``q`` quantile of
    Student's t with ``n - 1`` degrees of freedom. ``alpha`` in (0, 1): 0.05 for a 95 % interval,
    ``0.05 / m`` for a Bonferroni correction over ``m`` comparisons.
    """
    if np.asarray(values).dtype == bool:
        raise TypeError("values must be numbers, not booleans")
    x = _validate.finite(values, "values")
    if x.ndim != 1 or x.size < 2:
        raise ValueError(f"values must be a 1-D array of at least 2 numbers; got shape {x.shape}")
    if np.ndim(alpha) != 0:
        raise ValueError(f"alpha must be one number in (0, 1); got an array of shape {np.shape(alpha)}")
    a = float(_validate.in_range(alpha, "alpha", 0.0, 1.0, low_open=True, high_open=True))
    from scipy.special import stdtrit  # noqa: PLC0415 - scipy is imported when the first interval is asked for

    return float(stdtrit(x.size - 1, 1 - a / 2) * x.std(ddof=1) / math.sqrt(x.size))
