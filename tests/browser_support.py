"""Helpers of the real-browser tests (test_browser_routes.py, test_widgets_browser.py and
test_static_html_browser.py).

* :func:`chromium_or_skip` finds Debian's Chromium, or skips (fails when
  ``LESSONS_REQUIRE_BROWSER=1``, as in CI).
* :class:`LabServer` runs JupyterLab for one test session on 127.0.0.1 and a free
  port, token-free, with every Jupyter/IPython directory in a temporary folder and
  a temporary copy of ``notebooks/`` as its root; :meth:`LabServer.stop` always ends
  the server, its process group and the kernels it started.
* :func:`open_and_run_all` opens a notebook in JupyterLab, waits for an idle kernel
  (:func:`wait_for_kernel`), runs all cells and waits until they finished
  (``RUN_STATE_JS``).
* :func:`serve_widget_page` loads ``course_widgets.js`` into a plain page with a stand-in
  anywidget model (no JupyterLab, no network), for tests/test_widgets_browser.py.

Nothing here talks to anything but 127.0.0.1. tests/test_browser_routes.py uses the server,
the console log and the waits; its in-page helpers are in tests/browser_routes.js.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
_THIS_PROCESS_RUN = uuid.uuid4().hex
_CLEARED: set[pathlib.Path] = set()  # the folders worker_folder has cleared in this process

CHROMIUM = "/usr/bin/chromium"
# The machine has no internet: these flags keep Chromium from opening connections of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in a container
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

SERVER_START_TIMEOUT = 90.0  # s, until /api/status answers
KERNEL_IDLE_TIMEOUT = 120.0  # s, from opening the notebook to an idle kernel
RUN_ALL_TIMEOUT = 300.0  # s, for "Run All Cells" (lessons run in well under 30 s on a laptop)
PIXELS_TIMEOUT = 15.0  # s, from a key press to changed pixels
CANVAS_DRAWN_TIMEOUT = 20.0  # s, from the slider showing to a drawn (non-blank) figure
SETTLE_MS = 400  # the canvas counts as settled after this long without a change


# --- artifacts shared by the test workers ------------------------------------------


IDLE_RUN_S = 3600.0  # a run's folder untouched this long belongs to a run that has ended


def idle_for(folder: pathlib.Path, seconds: float) -> bool:
    """Whether nothing in ``folder`` (the folder itself included, links not followed) was written in
    the last ``seconds``; it stops at the first newer entry. Entries that vanish while it looks
    (another run clearing the same folder) are skipped; any other error reading an entry (no
    permission, a link loop) answers False, keeping what it cannot judge."""
    cutoff = time.time() - seconds
    try:
        if os.lstat(folder).st_mtime > cutoff:
            return False
        for top, dirs, files in os.walk(folder, onerror=_skip_vanished):
            for name in dirs + files:
                try:
                    if os.lstat(os.path.join(top, name)).st_mtime > cutoff:
                        return False
                except FileNotFoundError:
                    continue
    except FileNotFoundError:
        return True  # gone already
    except OSError:
        return False
    return True


def _skip_vanished(error: OSError) -> None:
    """``os.walk``'s error hook: a folder removed while listed is skipped, any other error raised."""
    if not isinstance(error, FileNotFoundError):
        raise error


def worker_count() -> int:
    """How many test workers the run started (pytest-xdist's PYTEST_XDIST_WORKER_COUNT; 1 in one
    process). A group that happens to run alone at the end still counts the other worker: the safe
    side for :func:`record_figures`."""
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


def worker_tag() -> str:
    """This test process's name under pytest-xdist (``gw0``, ``gw1``); ``main`` in one process."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def run_id() -> str:
    """This test run's id, the same in all its workers and in a worker xdist starts again after a
    crash (pytest-xdist's PYTEST_XDIST_TESTRUNUID), or this process's own in one process."""
    return os.environ.get("PYTEST_XDIST_TESTRUNUID") or _THIS_PROCESS_RUN


def worker_folder(parent: pathlib.Path) -> pathlib.Path:
    """``parent/<run id>-<worker>``, for the files one worker of this run writes by itself; the first
    call in a process removes the folders in ``parent`` of other runs in which nothing was written for
    :data:`IDLE_RUN_S` (:func:`idle_for`), so a run's workers never remove each other's files and two
    runs at once in one checkout keep theirs. Limits: "idle for an hour" stands for "ended": a run
    whose worker writes nothing there for an hour while the run goes on (a worker writes its folder
    when a group of browser routes ends and on a failure; a whole run takes under 20 minutes today),
    or a clock that jumps forward by an hour, loses the folder to a run started then; folders of runs
    that ended less than an hour ago stay until a later run."""
    parent.mkdir(parents=True, exist_ok=True)
    if parent not in _CLEARED:
        _CLEARED.add(parent)
        for old in parent.iterdir():
            if old.is_dir() and not old.name.startswith(f"{run_id()}-") and idle_for(old, IDLE_RUN_S):
                shutil.rmtree(old, ignore_errors=True)
    return parent / f"{run_id()}-{worker_tag()}"


def _try_lock(fh) -> bool:
    """Take the kernel's exclusive lock on the open file ``fh`` without waiting; False if another open
    file holds it, in this process or another (``fcntl.flock``, which locks per open file on local file
    systems; on Windows ``msvcrt.locking`` on its first byte). Any other error is raised."""
    try:
        if sys.platform == "win32":
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # POSIX's EWOULDBLOCK, Windows's EACCES: held elsewhere
        return False
    return True


@contextlib.contextmanager
def _locked(path: pathlib.Path, timeout: float = 300.0):
    """Holds the kernel's lock on ``path.lock`` while the block runs: two workers may finish a module's
    shares at the same moment. The kernel releases the lock when its holder closes the file or dies (on
    Windows after a delay the system chooses), so a crashed run leaves no lock behind and none is ever
    taken over; the file itself stays (removing a locked file would let a second locker lock a new one).
    After ``timeout`` seconds of waiting, TimeoutError."""
    lock = path.with_name(path.name + ".lock")
    deadline = time.monotonic() + timeout
    with open(lock, "a+b") as fh:
        while not _try_lock(fh):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{lock} still held after {timeout:.0f} s") from None
            time.sleep(0.05)
        try:
            yield
        finally:  # closing the file releases the lock; Windows asks for the region to be unlocked first
            if sys.platform == "win32":
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


def _update_json(path: pathlib.Path, change) -> None:
    """Replace the JSON object at ``path`` (``{}`` if missing) by ``change(it)``, under a lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        previous = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        path.write_text(json.dumps(change(previous), indent=2) + "\n", encoding="utf-8")


def merge_json(path: pathlib.Path, new: dict) -> None:
    """Merge ``new`` into the JSON object at ``path`` (made if missing), under a lock: a partial run
    (-k) keeps the entries it did not write, and two workers' shares of a module both land."""
    _update_json(path, lambda previous: previous | new)


def record_figures(path: pathlib.Path, figures: dict) -> None:
    """Merge a browser test's measured ``figures`` into ``path`` with ``test_workers``
    (:func:`worker_count`), under a lock. Figures measured under another worker count are dropped
    first, so every figure in the file shares its count: benchmarks/run.py reports them only when
    it is 1 (a browser with the machine to itself)."""
    count = worker_count()
    _update_json(path, lambda previous: (previous if previous.get("test_workers") == count else {})
                 | figures | {"test_workers": count})


# --- the browser ---------------------------------------------------------------


def find_chromium() -> str | None:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


def chromium_or_skip() -> str:
    """Chromium's path; skip without it, but fail when LESSONS_REQUIRE_BROWSER=1 (CI)."""
    path = find_chromium()
    if path is not None:
        return path
    reason = (f"Debian's Chromium is not installed (neither {CHROMIUM} nor `chromium` on PATH); "
              "install it with: apt-get install chromium")
    if os.environ.get("LESSONS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"LESSONS_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)
    raise AssertionError("unreachable")


@contextlib.contextmanager
def launched_chromium(out_dir: pathlib.Path):
    """Debian's Chromium under Playwright (skipping without it, see :func:`chromium_or_skip`),
    with ``out_dir`` made for the test's artifacts; closed at the end."""
    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- the JupyterLab server -------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_notebooks(dest: pathlib.Path) -> pathlib.Path:
    """A temporary copy of notebooks/ (timestamps kept, so jupytext pairs behave as in the repo)."""
    shutil.copytree(NOTEBOOKS, dest,  # not a student's own copies (mine_*: the README)
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "mine_*"))
    return dest


def _write_settings(settings_dir: pathlib.Path) -> None:
    """Lab user settings for the test only (they live in the test's temporary folder)."""
    overrides = {
        # Render every cell (no virtual scrolling), so widgets far down the notebook exist in the DOM.
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        # No "receive news?" prompt, no update checks.
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false", "checkForUpdates": False},
    }
    for rel, value in overrides.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


class _PortTaken(Exception):
    """The port chosen for a server was taken before the server could bind it."""


class LabServer:
    """JupyterLab on 127.0.0.1 for the tests; use as a context manager (stop() always runs)."""

    def __init__(self, root_dir: pathlib.Path, home: pathlib.Path) -> None:
        self.root_dir = root_dir
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None
        self._log = None

    def command(self) -> list[str]:
        h = self.home
        return [
            sys.executable, "-m", "jupyter", "lab",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0", "--no-browser",
            "--allow-root",  # the test machines run as root; only this test's server allows it
            f"--ServerApp.root_dir={self.root_dir}",
            # No token and no password: jupyter_server 2.x reads the token from the IdentityProvider.
            # The server listens on 127.0.0.1 only and lives as long as the test.
            "--IdentityProvider.token=", "--PasswordIdentityProvider.hashed_password=",
            f"--LabApp.user_settings_dir={h / 'lab-user-settings'}",
            f"--LabApp.workspaces_dir={h / 'lab-workspaces'}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp, to run commands
            "--LabApp.news_url=None",  # no fetch of the news feed (no internet here)
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]

    def environment(self) -> dict[str, str]:
        h = self.home
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(h / "jupyter-config"),
            JUPYTER_DATA_DIR=str(h / "jupyter-data"),
            JUPYTER_RUNTIME_DIR=str(h / "jupyter-runtime"),
            IPYTHONDIR=str(h / "ipython"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONUNBUFFERED="1",
        )
        # Keep the user's own config out, whatever is set in the calling shell.
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        return env

    def start(self, attempts: int = 3) -> LabServer:
        """Start the server and wait until it answers. The port was free when chosen, but another
        process (the other test worker starting its own server) may take it first: then the server
        exits at once and is started again on another free port, up to ``attempts`` times (each
        attempt's log follows the last in ``log_path``)."""
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts!r}")
        for d in ("jupyter-config", "jupyter-data", "jupyter-runtime", "ipython", "lab-workspaces"):
            (self.home / d).mkdir(parents=True, exist_ok=True)
        _write_settings(self.home / "lab-user-settings")
        for attempt in range(attempts):
            try:
                return self._start_once()
            except _PortTaken:
                if attempt == attempts - 1:
                    raise RuntimeError(f"JupyterLab found its port taken {attempts} times:\n"
                                       + self.log_tail()) from None
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError("unreachable")

    def _ours_is_up(self) -> bool:
        """Whether this server's own process (or one of its children) listens on the port: the
        server checks the port, then binds it only when its loop starts, and another process may
        bind it in between and answer in its place."""
        import psutil

        try:
            procs = [psutil.Process(self.proc.pid)]
            procs += procs[0].children(recursive=True)
        except psutil.Error:
            return False
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                if any(c.status == psutil.CONN_LISTEN and c.laddr.port == self.port
                       for c in proc.net_connections("tcp")):
                    return True
        return False

    def _start_once(self) -> LabServer:
        if self._log is None:
            self._log = open(self.log_path, "wb")  # closed in stop()
        marker = f"--- tests: starting JupyterLab on port {self.port} ---\n"
        self._log.write(marker.encode())
        self._log.flush()
        self.proc = subprocess.Popen(self.command(), cwd=self.root_dir, env=self.environment(),
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # its own process group, to kill it whole
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                if "already in use" in self.log_tail().rpartition(marker.strip())[2]:
                    raise _PortTaken
                raise RuntimeError(f"JupyterLab exited with {self.proc.returncode} before answering:\n"
                                   + self.log_tail())
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as r:
                    if r.status == 200 and self._ours_is_up():
                        return self
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not answer {self.url}/api/status within "
                                   f"{SERVER_START_TIMEOUT:.0f} s:\n" + self.log_tail())
            time.sleep(0.25)

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """End the server: SIGTERM to its process group, SIGKILL after a grace period; then its kernels.

        jupyter_client starts each kernel in a session of its own, so the kernels are found
        as the server's descendants before the server is signalled, and killed if they outlive it.
        On Windows (no process groups): the server and its descendants are killed.
        """
        proc = self.proc
        if proc is None:
            return
        if os.name == "nt":
            try:
                with contextlib.suppress(Exception):
                    import psutil

                    for child in psutil.Process(proc.pid).children(recursive=True):
                        with contextlib.suppress(psutil.Error):
                            child.kill()
                proc.kill()
                proc.wait(timeout=15)
            finally:
                self._forget()
            return
        try:
            descendants = []
            with contextlib.suppress(Exception):
                import psutil

                descendants = psutil.Process(proc.pid).children(recursive=True)
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)
            # The group may hold more than the server (its helpers); make sure none is left.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            for child in descendants:
                with contextlib.suppress(Exception):
                    if child.is_running():
                        child.kill()
                        child.wait(timeout=5)
        finally:
            self._forget()

    def _forget(self) -> None:
        """No server any more: close its log."""
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LabServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


# --- console errors ----------------------------------------------------------------

# Console errors that are not the course's and cannot be avoided offline. Each entry is
# (substring, why). Keep this list short; every entry needs a reason.
IGNORED_CONSOLE_ERRORS: list[tuple[str, str]] = []


class ConsoleLog:
    """Collects a page's console errors and uncaught exceptions."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.ignored: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", self._on_pageerror)

    def _add(self, text: str) -> None:
        if len(text) > 600:  # a data URL taken for a path can be megabytes long
            text = text[:400] + f" ...[{len(text) - 500} characters]... " + text[-100:]
        if any(pattern in text for pattern, _why in IGNORED_CONSOLE_ERRORS):
            self.ignored.append(text)
        else:
            self.errors.append(text)

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            loc = msg.location or {}
            where = f" ({loc.get('url', '')}:{loc.get('lineNumber', '')})" if loc.get("url") else ""
            self._add(f"console.error: {msg.text}{where}")

    def _on_pageerror(self, err) -> None:
        self._add(f"pageerror: {err}")


# --- JupyterLab: open, wait for the kernel, run all ------------------------------------

KERNEL_IDLE_JS = """(path) => {
  const app = window.jupyterapp;
  const w = app && app.shell && app.shell.currentWidget;
  if (!w || !w.context || w.context.path !== path || !w.sessionContext) return false;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""

_RUN_ALL_JS = """async () => {
  const app = window.jupyterapp;
  await app.commands.execute('notebook:run-all-cells');
}"""

# All code cells executed, nothing queued, the kernel idle; returns a summary or null.
RUN_STATE_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  if (!kernel || kernel.status !== 'idle') return null;
  const cells = w.content.model.cells;
  const errors = [];
  let code = 0, unexecuted = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    const source = cell.sharedModel.getSource().trim();
    if (!source) continue;
    code += 1;
    if (cell.executionCount === null || cell.executionCount === undefined) unexecuted += 1;
    for (let j = 0; j < cell.outputs.length; j++) {
      const out = cell.outputs.get(j).toJSON();
      if (out.output_type === 'error') {
        errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
      }
    }
  }
  const busy = document.querySelectorAll('.jp-InputArea-prompt').length &&
    Array.from(document.querySelectorAll('.jp-InputArea-prompt')).some(p => p.textContent.includes('*'));
  if (busy) return null;
  return {code, unexecuted, errors};
}"""


def wait_for_kernel(page, notebook: str) -> None:
    """Wait until ``notebook`` is the current tab and its kernel is idle and connected."""
    page.wait_for_function(KERNEL_IDLE_JS, arg=notebook, timeout=KERNEL_IDLE_TIMEOUT * 1000, polling=200)


def open_and_run_all(page, base_url: str, notebook: str) -> dict:
    """Open ``notebook`` in JupyterLab, wait for an idle kernel, run all cells, wait until done."""
    # A workspace of its own, reset: tabs that an earlier test left open are not restored here.
    workspace = "browser-test-" + "".join(c if c.isalnum() else "-" for c in notebook)
    page.goto(f"{base_url}/lab/workspaces/{workspace}/tree/{notebook}?reset", wait_until="domcontentloaded")
    wait_for_kernel(page, notebook)
    t0 = time.perf_counter()
    page.evaluate(_RUN_ALL_JS)  # resolves when the last cell has run
    handle = page.wait_for_function(RUN_STATE_JS, timeout=RUN_ALL_TIMEOUT * 1000, polling=200)
    state = handle.json_value()
    state["run_all_seconds"] = round(time.perf_counter() - t0, 2)
    assert not state["errors"], f"{notebook}: cells raised errors in the browser: {state['errors']}"
    assert state["code"] > 0 and state["unexecuted"] == 0, f"{notebook}: not every code cell ran: {state}"
    return state


# --- the course's widgets in a plain page (no JupyterLab) ------------------------------------

WIDGET_MODULE = ROOT / "lessons_lib" / "widgets" / "course_widgets.js"
# A made-up origin that Playwright serves itself (page.route): nothing goes to any network.
WIDGET_PAGE_ORIGIN = "http://course-widgets.test"

# The page imports the module as anywidget would and mounts views on a minimal stand-in for
# an anywidget model: get/set/on/off/save_changes, change events fired on set as Backbone does.
WIDGET_PAGE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>course widgets</title>
<style>body { margin: 8px; font-family: sans-serif; } .host { margin: 0 0 24px; }</style></head>
<body><div id="hosts"></div>
<script type="module">
import * as cw from "./course_widgets.js";
class FakeModel {
  constructor(state) { this.state = { ...state }; this.listeners = new Map(); this.saves = 0; }
  get(key) { return this.state[key]; }
  set(key, value) {
    const old = this.state[key];
    this.state[key] = value;
    if (old !== value) for (const cb of [...(this.listeners.get(`change:${key}`) || [])]) cb(this, value);
  }
  on(event, cb) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(cb);
  }
  off(event, cb) { const s = this.listeners.get(event); if (s) s.delete(cb); }
  save_changes() { this.saves += 1; }
  send() {}
  listenerCount() { let n = 0; for (const s of this.listeners.values()) n += s.size; return n; }
}
// Bytes arrive from the kernel as DataViews; the test sends them base64-encoded.
const decode = (state) => Object.fromEntries(Object.entries(state).map(([k, v]) => {
  if (v && typeof v === "object" && "__bytes__" in v) {
    const raw = Uint8Array.from(atob(v.__bytes__), (c) => c.charCodeAt(0));
    return [k, new DataView(raw.buffer)];
  }
  return [k, v];
}));
window.cw = cw;
window.models = {};
window.views = {};
window.newModel = (name, state) => { window.models[name] = new FakeModel(decode(state)); return name; };
window.mount = (id, modelName, width) => {
  const host = document.createElement("div");
  host.className = "host";
  host.id = id;
  host.style.width = `${width}px`;
  document.getElementById("hosts").appendChild(host);
  const cleanup = cw.default.render({ model: window.models[modelName], el: host });
  window.views[id] = { host, cleanup, modelName };
  return id;
};
window.unmount = (id) => {
  const v = window.views[id];
  v.cleanup();
  v.host.remove();
  delete window.views[id];
};
window.widget = (id) => window.views[id].host.querySelector(".cw").__courseWidget;
window.frames = (n = 2) => new Promise((resolve) => {
  const step = (k) => (k ? requestAnimationFrame(() => step(k - 1)) : resolve(true));
  step(n);
});
window.cwReady = true;
</script></body></html>
"""


def serve_widget_page(page) -> None:
    """Serve WIDGET_PAGE_HTML and the module at WIDGET_PAGE_ORIGIN; refuse every other request."""
    module = WIDGET_MODULE.read_text()

    def handle(route):
        url = route.request.url
        if url.startswith(WIDGET_PAGE_ORIGIN + "/course_widgets.js"):
            route.fulfill(body=module, content_type="text/javascript; charset=utf-8")
        elif url.startswith(WIDGET_PAGE_ORIGIN + "/"):
            route.fulfill(body=WIDGET_PAGE_HTML, content_type="text/html; charset=utf-8")
        else:
            route.abort()

    page.route("**/*", handle)
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(WIDGET_PAGE_ORIGIN + "/index.html")
    try:
        page.wait_for_function("window.cwReady === true", timeout=15_000)
    except Exception as exc:  # playwright's TimeoutError: say why the module did not load
        raise AssertionError(f"course_widgets.js did not load: {errors or 'no page error'}") from exc


def widget_state(widget) -> dict:
    """A widget's synced state as the kernel sends it (bytes base64-encoded for the page)."""
    import base64

    skip = {"_esm", "_css", "layout", "tabbable", "tooltip", "_dom_classes"}
    state = {}
    for key, value in widget.get_state().items():
        if key in skip or key.startswith("_model") or key.startswith("_view"):
            continue
        if isinstance(value, bytes | bytearray | memoryview):
            value = {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
        state[key] = value
    return state


#: Key press to changed pixels, measured inside the page (the site's and the static HTML's tests).
#: ``(i) => ...`` arms ``window.__probe`` on the i-th course widget (``.cw``): on each keydown, the
#: time from the event to the first animation frame whose canvas pixels differ from the baseline
#: taken before the press (the hash is not part of the time); with the view's own draw time.
KEY_TO_PIXELS_PROBE_JS = """(i) => {
  const root = document.querySelectorAll('.cw')[i];
  const canvas = root.querySelector('canvas.cw-canvas') || root.querySelector('canvas');
  const ctx = canvas.getContext('2d');
  const hash = () => {
    const words = new Uint32Array(ctx.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
    let h = 2166136261 >>> 0;
    for (let k = 0; k < words.length; k++) h = Math.imul(h ^ words[k], 16777619) >>> 0;
    return h;
  };
  const frame = () => new Promise((r) => requestAnimationFrame(r));
  const probe = window.__probe = {samples: [], draws: [], baseline: null};
  // settle, take the baseline, then wait `delayMs` so that presses fall anywhere in a frame
  probe.arm = async (delayMs) => {
    await frame(); await frame(); probe.baseline = hash();
    await new Promise((r) => setTimeout(r, delayMs));
  };
  window.addEventListener('keydown', (e) => {
    const t0 = e.timeStamp, view = root.__courseWidget;
    const tick = () => {
      const now = performance.now();
      if (hash() !== probe.baseline) {
        probe.samples.push(now - t0);
        probe.draws.push(view && view.stats ? view.stats.lastDrawMs : null);
      } else if (now - t0 < 5000) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }, true);
}"""
