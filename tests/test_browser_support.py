"""The plumbing the browser tests share when two test workers run them (tests/browser_support.py):
figures stamped with the run's worker count, JSON merged under a lock, a folder per worker and run,
and a JupyterLab server that survives its port being taken."""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest
from browser_support import (
    LabServer,
    _locked,
    copy_notebooks,
    merge_json,
    record_figures,
    run_id,
    worker_count,
    worker_folder,
)


def test_merge_keeps_the_entries_it_does_not_write(tmp_path):
    path = tmp_path / "deep" / "layout.json"
    merge_json(path, {"a": 1, "b": 1})
    merge_json(path, {"b": 2, "c": 3})
    assert json.loads(path.read_text()) == {"a": 1, "b": 2, "c": 3}


def test_figures_measured_under_another_worker_count_are_dropped(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    assert worker_count() == 1
    path = tmp_path / "deep" / "results.json"
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    record_figures(path, {"a": 1})
    record_figures(path, {"b": 2})
    assert json.loads(path.read_text()) == {"a": 1, "b": 2, "test_workers": 2}
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "1")
    record_figures(path, {"b": 3})  # a partial run in one process: a's two-worker figure goes
    assert json.loads(path.read_text()) == {"b": 3, "test_workers": 1}
    assert not path.with_name("results.json.lock").exists()


LOCK_HOLDER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from browser_support import _locked
import os
import pathlib
path = pathlib.Path(sys.argv[2])
with _locked(path):
    print("held", flush=True)
    time.sleep(1.5)
"""


def test_the_lock_excludes_another_process_and_a_stale_lock_is_taken_over(tmp_path):
    path = tmp_path / "results.json"
    here = str(pathlib.Path(__file__).parent)
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, here, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        with _locked(path):
            waited = time.monotonic() - start
            assert holder.poll() is not None or waited > 1.0  # entered only once the holder let go
    finally:
        holder.wait(timeout=30)
    assert waited > 0.5, waited
    lock = path.with_name("results.json.lock")
    lock.touch()
    old = time.time() - 120
    os.utime(lock, (old, old))  # a crashed run's lock, two minutes old
    with _locked(path, stale=60.0):
        pass
    assert not lock.exists()
    lock.touch()  # a live lock that is never released: the wait ends
    with pytest.raises(TimeoutError, match="still held"), _locked(path, stale=60.0, timeout=0.3):
        pass


def test_a_worker_folder_is_the_runs_and_the_workers_and_clears_only_other_runs(tmp_path, monkeypatch):
    import browser_support

    monkeypatch.setattr(browser_support, "_CLEARED", set())
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "abcdef0123456789")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    parent = tmp_path / "workers"
    for name in ("abcdef012345-gw0", "0000feedbeef-gw1", "0000feedbeef-main"):
        (parent / name).mkdir(parents=True)
        (parent / name / "jupyterlab.log").write_text("x")
    assert run_id() == "abcdef012345"
    folder = worker_folder(parent)
    assert folder == parent / "abcdef012345-gw1"
    assert sorted(p.name for p in parent.iterdir()) == ["abcdef012345-gw0"]  # this run's other worker stays
    (parent / "0000feedbeef-gw0").mkdir()
    worker_folder(parent)  # once a process: a later call removes nothing
    assert (parent / "0000feedbeef-gw0").exists()


def test_a_taken_port_makes_the_server_start_again_on_another(tmp_path):
    """The other worker's server (here a plain socket) holds the port first: the server starts again
    on a free port, and the one that answers is this one (its runtime file names its port)."""
    root = copy_notebooks(tmp_path / "notebooks")
    server = LabServer(root, tmp_path / "home")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server.port = taken.getsockname()[1]
        server.url = f"http://127.0.0.1:{server.port}"
        try:
            server.start()
            assert server.port != taken.getsockname()[1]
            assert server._ours_is_up()
        finally:
            server.stop()
