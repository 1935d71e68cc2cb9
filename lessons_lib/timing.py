"""Timing a call: the median of repeated runs and their spread.

One run of a fast call is at the mercy of the operating system, the caches and the other
programs on the machine, so a latency is the **median** of many runs, reported with its
spread (the interquartile range, from the first to the third quartile). Ratios of two
medians (a speed-up) are what transfers between machines, roughly; absolute times do not.
A notebook therefore keeps timings out of the output that its tests compare.

Two calls compared under a changing load are timed **interleaved** (:func:`speedup`): run
``i`` times one call of each, in alternating order, and the ratio of that pair of times is one
sample; the median of those per-run ratios and their quartiles are reported. Sequential blocks
(all runs of one call, then all of the other) let a change of load land on one side only.

Ratios transfer only roughly because they depend on the processor too (its vector units, its
caches, which kernels a library picks for it): :func:`machine` says which one a run measured.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from lessons_lib import _validate

__all__ = ["Timing", "time_call", "Speedup", "speedup", "machine", "describe_machine"]


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


@dataclass(frozen=True)
class Speedup:
    """``slow / fast`` time ratios of interleaved runs: ``median`` and quartiles ``q1``, ``q3``
    over ``runs`` pairs, and each call's own :class:`Timing` (``fast``, ``slow``)."""

    median: float
    q1: float
    q3: float
    runs: int
    fast: Timing
    slow: Timing

    def __str__(self) -> str:
        return f"{self.median:.2f} [{self.q1:.2f}, {self.q3:.2f}] ({self.runs} interleaved runs)"


def _summary(times: list[float]) -> Timing:
    q1, _, q3 = statistics.quantiles(times, n=4, method="inclusive")
    return Timing(statistics.median(times), q1, q3, min(times), len(times))


def speedup(
    fast: Callable[[], object], slow: Callable[[], object], repeat: int = 51, warmup: int = 3
) -> Speedup:
    """How many times faster ``fast()`` runs than ``slow()``, from interleaved runs.

    Parameters
    ----------
    fast, slow : callables without arguments (the names say which ratio is reported: > 1 when
        ``fast`` is indeed faster)
    repeat : int in [3, 100000], pairs of runs; run ``i`` calls ``fast`` first when ``i`` is even
    warmup : int >= 0, untimed calls of each before timing
    """
    if not (callable(fast) and callable(slow)):
        raise TypeError("fast and slow must be callable")
    repeat = _validate.integer(repeat, "repeat", 3, 100_000)
    warmup = _validate.integer(warmup, "warmup", 0, None)
    for _ in range(warmup):
        fast()
        slow()
    t_fast, t_slow = [], []
    for i in range(repeat):
        order = ((fast, t_fast), (slow, t_slow)) if i % 2 == 0 else ((slow, t_slow), (fast, t_fast))
        for fn, times in order:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    ratios = [s / f for f, s in zip(t_fast, t_slow, strict=True)]
    q1, _, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return Speedup(statistics.median(ratios), q1, q3, repeat, _summary(t_fast), _summary(t_slow))


def machine(cpuinfo: str | None = None) -> dict[str, object]:
    """The processor a timing comes from, as a dict.

    ``processor`` (model name) and ``vendor`` from ``/proc/cpuinfo`` where there is one (else
    :func:`platform.processor`), its ``family_model`` numbers, ``avx512_vnni`` (torch's int8
    product takes oneDNN only with it), ``cores`` (the ones this process may use), the Python and
    torch versions, and ``utc``, the time of the call. ``cpuinfo`` replaces the file's text (for
    tests); the first processor's entry is read.
    """
    if cpuinfo is None:
        try:
            cpuinfo = pathlib.Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    elif not isinstance(cpuinfo, str):
        raise TypeError(f"cpuinfo must be a str or None; got {type(cpuinfo).__name__}")
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        if not line.strip() and fields:  # the blank line that ends the first processor's entry
            break
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "processor": fields.get("model name") or platform.processor() or platform.machine(),
        "vendor": fields.get("vendor_id", ""),
        "family_model": f"{fields.get('cpu family', '?')}/{fields.get('model', '?')}",
        "avx512_vnni": "avx512_vnni" in fields.get("flags", "").split(),
        "cores": cores,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
    }


def describe_machine(cpuinfo: str | None = None) -> str:
    """One line naming the processor of :func:`machine`: model, vendor, family/model, AVX-512 VNNI
    or not, and the cores, e.g. ``"Intel(R) Xeon(R) Processor (GenuineIntel, family/model 6/207),
    AVX-512 VNNI, 2 cores"``."""
    m = machine(cpuinfo)
    vnni = "AVX-512 VNNI" if m["avx512_vnni"] else "no AVX-512 VNNI"
    vendor = f"{m['vendor']}, " if m["vendor"] else ""
    return f"{m['processor']} ({vendor}family/model {m['family_model']}), {vnni}, {m['cores']} cores"
