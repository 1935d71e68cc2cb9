"""Argument checks shared by every public function of lessons_lib.

Each check raises ``ValueError`` (or ``TypeError`` for a wrong type) whose
message names the parameter and states what is allowed, in the manner of
scikit-learn: ``lr must be a finite number > 0; got -0.1``.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import numpy as np


def _show(value: object) -> str:
    """A short representation of a bad value for an error message."""
    arr = np.asarray(value) if not isinstance(value, str) else None
    if arr is not None and arr.ndim > 0:
        return f"an array of shape {arr.shape}"
    return repr(value)


def as_float_array(value: object, name: str) -> np.ndarray:
    """``value`` as a float64 array; ``TypeError`` naming ``name`` if it is not numeric."""
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{name} must be a number or an array of numbers; got {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a number or an array of numbers; got {type(value).__name__}"
        ) from None
    return arr


def finite(value: object, name: str) -> np.ndarray:
    """Float64 array of ``value``; every entry must be finite and the array non-empty."""
    arr = as_float_array(value, name)
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got an empty array")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or infinity); got {_show(value)}")
    return arr


def in_range(
    value: object,
    name: str,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> np.ndarray:
    """Float64 array of ``value`` whose entries all lie in the stated interval.

    ``low``/``high`` of None mean unbounded on that side; ``*_open`` excludes
    the end point. The message states the interval in mathematical notation,
    for example ``momentum must be in [0, 1); got 1.2``.
    """
    arr = finite(value, name)
    ok = np.ones(arr.shape, dtype=bool)
    if low is not None:
        ok &= arr > low if low_open else arr >= low
    if high is not None:
        ok &= arr < high if high_open else arr <= high
    if not np.all(ok):
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        bad = arr[~ok].ravel()[0]
        where = "" if arr.ndim == 0 else f" (an entry is {bad:g})"
        shown = f"{float(arr):g}" if arr.ndim == 0 else _show(value)
        raise ValueError(f"{name} must be in {left}{lo}, {hi}{right}; got {shown}{where}")
    return arr


def positive(value: object, name: str) -> np.ndarray:
    """Entries must be finite and > 0."""
    return in_range(value, name, 0.0, None, low_open=True)


def integer(value: object, name: str, low: int | None = None, high: int | None = None) -> int:
    """A Python int in ``[low, high]``; bools and floats are refused with ``TypeError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__} {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else str(low)
        hi = "inf" if high is None else str(high)
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]; got {value}")
    return value


def one_of(value: object, name: str, allowed: Iterable[str]) -> str:
    """``value`` must be one of the strings in ``allowed``."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def points(value: object, name: str) -> np.ndarray:
    """Float64 array of shape ``(..., 2)`` with finite entries."""
    arr = finite(value, name)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (..., 2), a last axis of length 2; got shape {arr.shape}")
    return arr


def eigenvalue_range(mu: object, L: object, *, equal_allowed: bool = True) -> tuple[float, float]:
    """``(mu, L)`` as floats: the smallest and largest eigenvalue, both positive, ``mu <= L``
    (``mu < L`` if not ``equal_allowed``); else ``ValueError`` naming ``mu`` or ``L``."""
    mu = float(positive(mu, "mu"))
    L = float(positive(L, "L"))
    if L < mu or (L == mu and not equal_allowed):
        relation = ">=" if equal_allowed else ">"
        raise ValueError(
            f"L must be {relation} mu (the largest and the smallest eigenvalue); got mu={mu:g}, L={L:g}"
        )
    return mu, L
