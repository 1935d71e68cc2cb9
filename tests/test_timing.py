"""Tests of lessons_lib.timing: medians, quartiles and ratios."""

from __future__ import annotations

import time

import pytest

from lessons_lib.timing import Speedup, Timing, describe_machine, machine, speedup, time_call


def test_time_call_reports_a_median_inside_its_quartiles_and_counts_calls():
    calls = []
    t = time_call(lambda: calls.append(1), repeat=11, warmup=2, number=3)
    assert len(calls) == 2 + 11 * 3 and t.runs == 11
    assert 0 <= t.fastest <= t.q1 <= t.median <= t.q3


def test_a_slower_call_is_slower():
    fast = time_call(lambda: None, repeat=5)
    slow = time_call(lambda: time.sleep(0.002), repeat=5)
    assert slow.median > 0.0015 and fast.speedup_over(slow) > 10


def test_speedup_needs_a_timing():
    with pytest.raises(TypeError, match="other"):
        Timing(1.0, 1.0, 1.0, 1.0, 3).speedup_over(2.0)


def test_speedup_is_the_median_of_interleaved_ratios():
    order = []
    r = speedup(lambda: order.append("f"), lambda: (order.append("s"), time.sleep(0.002)), repeat=5, warmup=1)
    assert isinstance(r, Speedup) and r.runs == 5 and r.q1 <= r.median <= r.q3
    assert r.median > 10 and r.slow.median > 0.0015
    assert order[2:] == ["f", "s", "s", "f", "f", "s", "s", "f", "f", "s"]  # alternating, after the warm-up
    assert "interleaved runs" in str(r)


def test_speedup_validates():
    with pytest.raises(TypeError, match="callable"):
        speedup(1, lambda: None)
    with pytest.raises(ValueError, match="repeat"):
        speedup(lambda: None, lambda: None, repeat=2)


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse avx2 avx512f avx512_vnni

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: another entry, not read
microcode\t: a key the first entry lacks, not read either
flags\t\t: fpu
"""


def test_machine_reads_the_first_processors_entry():
    m = machine(CPUINFO)
    assert m["processor"] == "AMD EPYC 9R14 96-Core Processor"
    assert m["vendor"] == "AuthenticAMD" and m["family_model"] == "25/17"
    assert m["avx512_vnni"] is True and "microcode" not in str(m)
    assert m["cores"] >= 1 and m["torch"] and m["python"].count(".") == 2
    assert describe_machine(CPUINFO) == (
        "AMD EPYC 9R14 96-Core Processor (AuthenticAMD, family/model 25/17), AVX-512 VNNI, "
        f"{m['cores']} cores")


def test_machine_without_cpuinfo_still_names_something():
    m = machine("")
    assert m["processor"] and m["vendor"] == "" and m["family_model"] == "?/?"
    assert m["avx512_vnni"] is False
    assert "no AVX-512 VNNI" in describe_machine("")


def test_machine_rejects_a_cpuinfo_that_is_not_text():
    with pytest.raises(TypeError, match="cpuinfo"):
        machine(b"model name: x")
