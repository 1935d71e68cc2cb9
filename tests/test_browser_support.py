"""The plumbing the browser tests share when two test workers run them (tests/browser_support.py):
figures stamped with the run's worker count, JSON merged under a lock, a folder per worker and run,
and a JupyterLab server that survives its port being taken."""

from __future__ import annotations

import http.server
import json
import os
import pathlib
import subprocess
import sys
import threading
import time

import pytest
from browser_support import (
    LabServer,
    _locked,
    _try_lock,
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
    with open(path.with_name("results.json.lock"), "a+b") as lock:  # the lock file stays, free again
        assert _try_lock(lock)


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


def test_the_lock_excludes_another_process_and_a_killed_holders_lock_is_free(tmp_path):
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
    # a run killed while it holds the lock (a crash): the kernel frees it, nothing is left to take over
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, here, str(path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait(timeout=30)
    start = time.monotonic()
    with _locked(path, timeout=5.0):
        assert time.monotonic() - start < 1.0  # the holder's sleep of 1.5 s never ended
    outcome = []  # a lock that is never released: the wait ends (in a thread, so a wait that never
    #               ends fails this test instead of hanging it)

    def wait():
        try:
            with _locked(path, timeout=0.3):
                outcome.append("entered")
        except TimeoutError as e:
            outcome.append(str(e))

    with open(path.with_name("results.json.lock"), "a+b") as other:  # another open file: a lock of its own
        assert _try_lock(other)
        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        waiter.join(10)
    assert not waiter.is_alive() and "still held" in outcome[0], outcome


def test_a_worker_folder_is_the_runs_and_the_workers_and_clears_only_ended_runs(tmp_path, monkeypatch):
    import browser_support

    monkeypatch.setattr(browser_support, "_CLEARED", set())
    monkeypatch.setenv("PYTEST_XDIST_TESTRUNUID", "abcdef0123456789")
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    parent = tmp_path / "workers"
    ended = time.time() - 3600 - 60  # written to last over an hour ago
    recent = time.time() - 600  # ten minutes ago
    for name in ("abcdef0123456789-gw0", "abcdef0123456780-gw1", "0000feedbeef-main", "1111feedbeef-gw0",
                 "2222feedbeef-gw0"):
        (parent / name / "shots").mkdir(parents=True)
        (parent / name / "shots" / "jupyterlab.log").write_text("x")
        old = [parent / name / "shots", parent / name]  # another run still writing: only its file is new
        when = recent if name == "2222feedbeef-gw0" else ended
        for path in old if name == "1111feedbeef-gw0" else [parent / name / "shots" / "jupyterlab.log", *old]:
            os.utime(path, (when, when))
    (parent / "3333feedbeef-gw1").mkdir()  # a run that has just made its folder
    assert not browser_support.idle_for(parent / "1111feedbeef-gw0", 60)  # the newest file, however deep
    assert browser_support.idle_for(parent / "0000feedbeef-main", 3600)
    assert browser_support.idle_for(parent / "gone", 3600)  # a folder removed already
    assert run_id() == "abcdef0123456789"
    folder = worker_folder(parent)
    assert folder == parent / "abcdef0123456789-gw1"
    kept = ["1111feedbeef-gw0", "2222feedbeef-gw0", "3333feedbeef-gw1",  # runs written to within the hour
            "abcdef0123456789-gw0"]  # and this run's other worker
    assert sorted(p.name for p in parent.iterdir()) == kept
    (parent / "0000feedbeef-gw0").mkdir()
    os.utime(parent / "0000feedbeef-gw0", (ended, ended))
    worker_folder(parent)  # once a process: a later call removes nothing
    assert (parent / "0000feedbeef-gw0").exists()
    monkeypatch.delenv("PYTEST_XDIST_TESTRUNUID")  # one process (-n 0): its own id, the same each call
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert worker_folder(parent) == worker_folder(parent) == parent / f"{run_id()}-main"
    assert run_id() != "abcdef0123456789"


def test_idle_for_skips_what_vanishes_and_keeps_what_it_cannot_read(tmp_path, monkeypatch):
    import browser_support

    old = time.time() - 7200
    (tmp_path / "run" / "a" / "b").mkdir(parents=True)
    (tmp_path / "run" / "a" / "b" / "shot.png").write_text("x")
    (tmp_path / "run" / "loop").symlink_to(tmp_path / "run")  # a link loop: not followed
    (tmp_path / "run" / "elsewhere").symlink_to(tmp_path)  # a link to a fresh folder: its own age counts
    for path in ["a/b/shot.png", "a/b", "a", "."]:
        os.utime(tmp_path / "run" / path, (old, old))
    for link in ("loop", "elsewhere"):
        os.utime(tmp_path / "run" / link, (old, old), follow_symlinks=False)
    os.utime(tmp_path / "run", (old, old))
    assert browser_support.idle_for(tmp_path / "run", 3600)
    real_lstat = os.lstat

    def vanishing(path, *args, **kwargs):  # another run removes a/b/shot.png while it is looked at
        if str(path).endswith("shot.png"):
            raise FileNotFoundError(path)
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(browser_support.os, "lstat", vanishing)
    assert browser_support.idle_for(tmp_path / "run", 3600)
    monkeypatch.setattr(browser_support.os, "lstat", real_lstat)
    browser_support._skip_vanished(FileNotFoundError("a folder removed while listed"))  # skipped
    with pytest.raises(PermissionError):
        browser_support._skip_vanished(PermissionError("no permission"))

    def unreadable(path, *args, **kwargs):  # an entry it may not read
        if str(path).endswith(os.sep + "a"):
            raise PermissionError(path)
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(browser_support.os, "lstat", unreadable)
    assert not browser_support.idle_for(tmp_path / "run", 3600)  # cannot judge it: keep the folder


class _Status(http.server.BaseHTTPRequestHandler):
    """Another server on the port, answering /api/status with 200 as JupyterLab does."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_a_port_another_server_answers_on_is_not_taken_for_ours(tmp_path):
    """The other worker's server holds the port first and answers /api/status: ours cannot bind,
    exits, and starts again on a free port; the server start() returns with is ours (its own
    process listens on the port), not the one that answered first."""
    root = copy_notebooks(tmp_path / "notebooks")
    server = LabServer(root, tmp_path / "home")
    other = http.server.HTTPServer(("127.0.0.1", 0), _Status)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    taken = other.server_address[1]
    server.port, server.url = taken, f"http://127.0.0.1:{taken}"
    try:
        server.start()
        assert server.port != taken
        assert server._ours_is_up()
        assert "already in use" in server.log_path.read_text()  # the first attempt's log is kept
    finally:
        server.stop()
        other.shutdown()
    with pytest.raises(ValueError, match="attempts"):
        server.start(attempts=0)
