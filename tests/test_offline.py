"""Every notebook passes nbval a second time, offline, on fresh kernels, in reverse order.

One subprocess runs nbval over all notebooks with:

* outbound network refused twice over: in a network namespace that has only a loopback
  interface (``unshare -n``, where the machine allows it) and by a socket guard that every
  kernel loads at start-up (``tests/offline_guard.py``), which also logs any attempt;
* the notebooks in reverse order, each on its own fresh kernel;
* the stored outputs as the reference, so this is also the second of two nbval runs in a
  row (the first is the main test run) and shows that the outputs do not change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from conftest import NOTEBOOKS, ROOT


def _network_namespace_prefix() -> list[str]:
    """``unshare -n`` with loopback up, if this machine allows it; else nothing."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return []
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True)
    if probe.returncode != 0:
        return []
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]


def test_notebooks_pass_offline_again_in_reverse_order(tmp_path):
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "offline_guard.py", startup / "00_offline_guard.py")
    log = tmp_path / "network_attempts.log"
    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"), LESSONS_NET_LOG=str(log))
    notebooks = sorted((str(p) for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")), reverse=True)
    prefix = _network_namespace_prefix()
    cmd = [*prefix, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "-o", "addopts=", "--nbval", "--nbval-current-env",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"), *notebooks]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    report = result.stdout[-4000:] + result.stderr[-2000:]
    assert result.returncode == 0, f"offline nbval run failed (namespace: {bool(prefix)}):\n{report}"
    assert " passed" in result.stdout and "failed" not in result.stdout
    attempts = log.read_text() if log.exists() else ""
    assert attempts == "", f"notebooks tried to reach the network:\n{attempts}"


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
