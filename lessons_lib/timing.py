"""Timing a call: the median of repeated runs and their spread.

One run of a fast call is at the mercy of the operating system, the caches and the other
programs on the machine, so a latency is the **median** of many runs, reported with its
spread (the interquartile range, from the first to the third quartile). Ratios of two
medians (a speed-up) are what transfers between machines, roughly; absolute times do not.
A notebook therefore keeps timings out of the output that its tests compare.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from lessons_lib import _validate

__all__ = ["Timing", "time_call"]


@dataclass(frozen=True)
class Timing:
    """Seconds per call: ``median``, quartiles ``q1`` and ``q3``, ``fastest``, over ``runs`` runs."""

    median: float
    q1: float
    q3: float
    fastest: float
    runs: int

    def speedup_over(self, other: Timing) -> float:
        """``other.median / self.median``: how many times faster this call is than ``other``."""
        if not isinstance(other, Timing):
            raise TypeError(f"other must be a Timing; got {type(other).__name__}")
        return other.median / self.median

    def __str__(self) -> str:
        us = 1e6
        return (
            f"median {us * self.median:.1f} us (quartiles {us * self.q1:.1f} to {us * self.q3:.1f}, "
            f"{self.runs} runs)"
        )


def time_call(fn: Callable[[], object], repeat: int = 51, warmup: int = 3, number: int = 1) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeat`` timed runs of ``number`` calls each.

    Parameters
    ----------
    fn : a callable without arguments
    repeat : int in [3, 100000], timed runs (their median and quartiles are reported)
    warmup : int >= 0, calls before timing (first calls allocate and fill caches)
    number : int >= 1, calls per run (the run's time is divided by it)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    repeat = _validate.integer(repeat, "repeat", 3, 100_000)
    warmup = _validate.integer(warmup, "warmup", 0, None)
    number = _validate.integer(number, "number", 1, None)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return Timing(statistics.median(times), q1, q3, min(times), repeat)
