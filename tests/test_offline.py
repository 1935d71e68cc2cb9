"""Every notebook passes nbval a second time: offline, on another CPU path, in reverse order.

Three subprocesses, each over every third notebook (three groups for the two test workers,
``tests/two_workers.py``), run nbval with:

* another CPU path than the first run: PyTorch's kernels without vector instructions
  (``ATEN_CPU_CAPABILITY=default``), MKL and oneDNN held to AVX2, NumPy's own loops without
  AVX-512 (``NPY_DISABLE_CPU_FEATURES``), OpenBLAS on its Haswell kernels (``OPENBLAS_CORETYPE``:
  its LAPACK ``solve`` rounds differently there than on its AVX-512 kernels, which once changed
  widget state stored in eight notebooks), and two threads (``LESSONS_THREADS=2``; the first run
  uses one), so a
  stored number that depends on the vector unit, the BLAS kernel or the thread count fails
  here (the README's "Other machines" says how to try the other capabilities by hand);

* outbound network refused twice over: in a network namespace that has only a loopback
  interface (``unshare -n``, where the machine allows it) and by a socket guard that every
  kernel loads at start-up (``tests/offline_guard.py``), which also logs any attempt;
* the notebooks in reverse order, each on its own fresh kernel;
* the stored outputs as the reference, so this is also a second nbval run of every notebook
  (the other is the main test run's; on two workers the two may overlap in time, and this one
  often starts first) and shows that the outputs do not change.

Idle OpenMP threads sleep here as in the whole test run (``OMP_WAIT_POLICY=PASSIVE``, set by
``tests/two_workers.py`` unless already set): the two threads of a part would otherwise spin
against the other worker.

For ``torch._int_mm`` (lessons 12 and 13) oneDNN held to AVX2 is not what any real CPU computes:
torch >= 2.6 calls oneDNN for it only on a CPU with AVX-512 VNNI (whose torch still does so here,
now on oneDNN's AVX2 kernel), and runs an exact int32 reference loop on every other CPU (most
laptops). A third run, :func:`test_int_mm_lessons_pass_with_mkldnn_off`, reproduces that loop
with mkldnn disabled (``LESSONS_MKLDNN_OFF=1``, read by ``lessons_lib.setup()``).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import NOTEBOOKS, ROOT

# What another CPU, with another thread count, computes (see the module docstring).
ANOTHER_CPU = {
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",  # ignored where the CPU lacks them
    "OPENBLAS_CORETYPE": "Haswell",
    "LESSONS_THREADS": "2",
}


def _network_namespace_prefix() -> list[str]:
    """``unshare -n`` with loopback up, if this machine allows it; else nothing."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return []
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True)
    if probe.returncode != 0:
        return []
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]


PARTS = 3  # the notebooks in three subprocesses, three groups for the two test workers


def part_notebooks(part: int) -> list[pathlib.Path]:
    """Every ``PARTS``-th notebook from ``part`` on, in reverse order (lesson 14, 11, 08, ... for 0)."""
    every = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"), reverse=True)
    assert len(every) >= 15, every
    return every[part::PARTS]


def test_the_parts_hold_every_notebook_once():
    parts = [part_notebooks(p) for p in range(PARTS)]
    every = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    assert sorted(n for part in parts for n in part) == every
    assert all(part == sorted(part, reverse=True) for part in parts)


@pytest.mark.parametrize("part", range(PARTS))
def test_notebooks_pass_offline_on_another_cpu_path_in_reverse_order(tmp_path, part):
    """Every third notebook from ``part`` on, in reverse order (lesson 14, 11, 08, ... for part 0)."""
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "offline_guard.py", startup / "00_offline_guard.py")
    notebooks = part_notebooks(part)
    log = tmp_path / "network_attempts.log"
    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"), LESSONS_NET_LOG=str(log), **ANOTHER_CPU)
    prefix = _network_namespace_prefix()
    cmd = [*prefix, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", "--nbval", "--nbval-current-env",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), *map(str, notebooks)]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    attempts = log.read_text() if log.exists() else ""
    report = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, (f"offline nbval run on another CPU path {ANOTHER_CPU} failed "
                                    f"(namespace: {bool(prefix)}):\n{report}")
    assert " passed" in result.stdout and "failed" not in result.stdout, report
    assert attempts == "", f"the notebooks tried to reach the network:\n{attempts}"


def test_the_guard_refuses_and_logs(tmp_path):
    """The guard itself works: a kernel-like process that tries to connect out is refused."""
    log = tmp_path / "log"
    code = (f"exec(open({str(ROOT / 'tests' / 'offline_guard.py')!r}).read())\n"
            "import socket\n"
            "try:\n    socket.create_connection(('example.org', 80), timeout=1)\n"
            "except OSError as e:\n    print('refused:', e)\n")
    result = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, LESSONS_NET_LOG=str(log)),
                            capture_output=True, text=True, timeout=60)
    assert "refused: network access refused" in result.stdout
    assert "example.org" in log.read_text()


# The torch._int_mm path of a CPU without AVX-512 VNNI (see the module docstring).
MKLDNN_OFF = {"LESSONS_MKLDNN_OFF": "1"}
INT_MM_LESSONS = ("12_integer_inference", "13_quantization_in_practice")


def test_int_mm_lessons_pass_with_mkldnn_off():
    """Lessons 12 and 13 pass nbval, in one subprocess, with mkldnn disabled: torch._int_mm then runs
    torch's exact int32 reference loop, as on a CPU without AVX-512 VNNI (most students' laptops),
    where it is also much slower than float32."""
    notebooks = [NOTEBOOKS / f"{name}.ipynb" for name in INT_MM_LESSONS]
    assert all(p.exists() for p in notebooks), notebooks
    env = dict(os.environ, **MKLDNN_OFF)
    env.pop("ONEDNN_MAX_CPU_ISA", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "--nbval",
           "--nbval-current-env", "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
           *map(str, notebooks)]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, f"nbval of {INT_MM_LESSONS} with mkldnn off failed:\n{report}"
    assert " passed" in result.stdout and "failed" not in result.stdout, report
