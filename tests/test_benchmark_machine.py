"""``benchmarks/run.py`` says which processor its figures come from (``machine``)."""

import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run_module():
    spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse avx2 avx512f avx512_vnni

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: another entry, not read
flags\t\t: fpu
"""


def test_machine_reads_the_first_processors_entry():
    m = _run_module().machine(CPUINFO)
    assert m["processor"] == "AMD EPYC 9R14 96-Core Processor"
    assert m["vendor"] == "AuthenticAMD" and m["family_model"] == "25/17"
    assert m["avx512_vnni"] is True
    assert m["cores"] >= 1 and m["torch"] and m["python"].count(".") == 2


def test_machine_without_cpuinfo_still_names_something():
    m = _run_module().machine("")
    assert m["processor"] and m["vendor"] == "" and m["family_model"] == "?/?"
    assert m["avx512_vnni"] is False
