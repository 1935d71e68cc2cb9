"""Lessons 00-08 in a real JupyterLab, along every route a student takes, checking what is drawn.

One JupyterLab 4.6 server for this module (``browser_support.LabServer``: 127.0.0.1, no
token, every Jupyter directory in a temporary folder, root = a temporary copy of
notebooks/ plus a scratch notebook of the benchmarks), one headless Chromium (Debian's,
through Playwright) and one page in it: JupyterLab loads once; each test opens its notebook
(copied afresh from notebooks/) and finds no other notebook open and no kernel running.
The page gets ``browser_routes.js``, in-page helpers that read JupyterLab's cells and the
course widgets' views.

What "drawn correctly" means here, for every course widget of a notebook (found through
its output's widget-view data, so a view is tied to its Python object by model id):

* the canvas is not 0x0 and not blank, and the view shows no drawing error;
* the browser model's state equals the Python widget's traits (asked from the kernel: the
  notebook's own kernel runs a snippet that prints them, without adding a cell);
* the title, the slider readouts, the readout lines and the legend equal what Python
  computes for those traits (``readout_lines()``; the title and the readouts formatted as
  the module formats them);
* the canvas equals, pixel for pixel, a fresh view of the same state rendered in the same
  page at the same width (a second copy of the module the page loaded, on a model that
  holds a copy of the state): nothing stale, nothing stacked, nothing left of an earlier state.

Routes: Run All Cells from the Run menu on each lesson; Shift+Enter through lessons 01 and
03; re-running a widget cell; Kernel > Restart Kernel and Run All; a seeded random sequence
of control changes on lesson 03's explorer and rate map (surface, methods, sliders by key,
clicks on the plot, typed start points, Play/Pause, traits set from the kernel as a cell
does), each followed by the checks above; a click on a partly visible figure sets the start
/ the pair without scrolling anything. Window sizes: 1440x900 and 1024x700 with the file
browser open (figure inside the output area, nothing cut off, sliders usable), and 1024x700 with
it hidden by Ctrl+B (a column at least 200 px wider, each figure drawn wider, inside it); screenshots
of each lesson's first widget go to test-artifacts/browser/routes/. The browser console must
stay free of errors (console.error and uncaught exceptions) throughout.

Benchmarks, measured inside the page (performance.now, requestAnimationFrame) against
this JupyterLab, go to test-artifacts/browser/jupyterlab/results.json (benchmarks/run.py
reports them when measured in one process, ``-n 0``): key press to the first animation
frame with changed pixels (explorer on
Rosenbrock, three methods, 300 steps; the rate map), Play's distinct frames per second,
and the time from Run All on lesson 00 to its first drawn figure.

Without Chromium the tests skip; with LESSONS_REQUIRE_BROWSER=1 (CI) they fail instead.
"""

from __future__ import annotations

import base64
import json
import pathlib
import random
import re
import shutil
import statistics
import time

import nbformat
import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    KERNEL_IDLE_TIMEOUT,
    NOTEBOOKS,
    RUN_ALL_TIMEOUT,
    RUN_STATE_JS,
    ConsoleLog,
    LabServer,
    chromium_or_skip,
    copy_notebooks,
    merge_json,
    record_figures,
    wait_for_kernel,
    worker_folder,
)

from conftest import NARROWEST_OUTPUT_PX
from lessons_lib.saved_notebooks import WIDGET_VIEW

pytestmark = pytest.mark.browser

OUT = ARTIFACTS / "routes"
BENCH = ARTIFACTS / "jupyterlab"
PROBE_JS = pathlib.Path(__file__).with_name("browser_routes.js").read_text()
BENCH_NOTEBOOK = "zz_browser_benchmark.ipynb"
SYNC_TIMEOUT = 15.0  # s, for the kernel and the browser to agree on a widget's state
WIDE, NARROW = (1440, 900), (1024, 700)
MIN_TRACK_PX = 120  # a slider's track at the narrow size: enough to drag and to see where it is
PRESSES = 60  # key presses per benchmark (at least 50)
RESULTS: dict[str, object] = {}  # measured figures, written to BENCH / "results.json"
LAYOUT: dict[str, object] = {}  # widths at the sizes above, file browser open or hidden: OUT / "layout.json"
# The module's tests are two groups (tests/two_workers.py), which two workers may run side by side:
# each worker keeps its failure pictures and server logs in its own folder, OUT/workers/<run>-<worker>
# (a worker that runs both groups starts two servers and appends both logs; the folders of runs that
# have ended, untouched for an hour, go when this run first writes there: browser_support.worker_folder);
# the JSON files are merged under a lock.


def own_files() -> pathlib.Path:
    """This worker's folder for this run (see the comment above)."""
    return worker_folder(OUT / "workers")

# Printed by the notebook's kernel for a list of widget model ids: each widget's synced traits
# (bytes left out) and what its view must show for them, formatted as course_widgets.js formats.
KERNEL_SNAPSHOT = r"""
def __routes_snapshot(ids):
    import json
    from ipywidgets.widgets.widget import _instances
    from lessons_lib import plotting
    out = {}
    for mid in ids:
        w = _instances.get(mid)
        if w is None or not hasattr(w, "readout_lines"):
            out[mid] = None
            continue
        keys = sorted(k for k in w.keys
                      if not k.startswith("_") and k not in ("layout", "tabbable", "tooltip"))
        state = {k: v for k, v in w.get_state(keys).items()
                 if not isinstance(v, (bytes, bytearray, memoryview))}
        e = {"lines": w.readout_lines(), "box": w.readout_lines(), "title": None, "legend": None}
        if w.kind == "explorer":
            spec = w.surface_specs[w.surface]
            e["title"] = f"{w.surface}: {spec['title']}"
            e["sliders"] = {"lr": f"{w.lr:.3g}", "momentum": f"{w.momentum:.3f}", "steps": str(w.steps),
                            "show step": str(w.frame)}
            e["legend"] = ([plotting.METHOD_LABELS[m] for m in w.methods] + ["start"]
                           + (["minimum"] if len(spec["minima"]) else []))
        elif w.kind == "rate_map":
            who = {"momentum": "momentum's rate \u03c1", "nesterov": "Nesterov's rate \u03c1",
                   "compare": "where the heavy ball or Nesterov is faster"}[w.method]
            e["title"] = (f"{who} over (lr, \u03b2), \u03ba = {w.kappa:.4g}; "
                          "the selected pair's iterates on \u00bd(\u03bc x\u00b2 + L y\u00b2), "
                          f"\u03bc = {w.mu:.4g}, L = 1")
            e["sliders"] = {"\u03ba": f"{w.kappa:.4g}", "lr (L = 1)": f"{w.lr:.3f}",
                            "momentum \u03b2": f"{w.beta:.3f}"}
        elif w.kind == "sgd":
            e["title"] = f"least squares on m = {len(w.data_x)} points: {w.surface_spec['title']}"
            e["sliders"] = {"lr": f"{w.lr:.3g}", "batch size": str(w.batch_size),
                            "momentum": f"{w.momentum:.3f}", "steps": str(w.steps)}
            e["legend"] = ["full-batch GD", "SGD"] + (["running average"] if w.show_average else [])
        elif w.kind == "parabola":
            e["sliders"] = {"lr": f"{w.lr:.2f}"}
        out[mid] = {"kind": w.kind, "keys": keys, "state": state, "expect": e}
    print(json.dumps(out, allow_nan=False))
"""


# Run in a notebook's kernel before its cells: logs every state change a browser sends to a widget
# (ipywidgets calls Widget.set_state for each), so that a test can tell a state the notebook set
# from one the browser wrote back without a reader doing anything.
KERNEL_LOG_WRITES = r"""
def __routes_log_writes():
    import ipywidgets
    if hasattr(ipywidgets.Widget, "_routes_writes"):
        return
    original = ipywidgets.Widget.set_state
    writes = []

    def set_state(self, sync_data):
        writes.append([self.model_id, sorted(sync_data)])
        return original(self, sync_data)

    ipywidgets.Widget.set_state = set_state
    ipywidgets.Widget._routes_writes = writes
__routes_log_writes()
"""


# --- fixtures ------------------------------------------------------------------------------------


def benchmark_notebook() -> nbformat.NotebookNode:
    """The benchmark's widgets alone: the explorer (Rosenbrock, three methods, 300 steps) and a rate map."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import lessons_lib\nfrom lessons_lib.widgets import RateMap, TrajectoryExplorer\n\n"
            "lessons_lib.setup()"
        ),
        nbformat.v4.new_code_cell(
            'TrajectoryExplorer("rosenbrock", steps=300, methods=("gd", "momentum", "nesterov"))'
        ),
        nbformat.v4.new_code_cell("RateMap()"),
    ]
    return nb


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    chromium_or_skip()
    home = tmp_path_factory.mktemp("jupyter-home")
    root = copy_notebooks(tmp_path_factory.mktemp("lab-root") / "notebooks")
    nbformat.write(benchmark_notebook(), root / BENCH_NOTEBOOK)
    server = LabServer(root, home)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        if server.log_path.exists():
            own_files().mkdir(parents=True, exist_ok=True)
            with (own_files() / "jupyterlab.log").open("ab") as log:
                log.write(server.log_path.read_bytes())
        if RESULTS:
            record_figures(BENCH / "results.json", RESULTS)
        if LAYOUT:
            merge_json(OUT / "layout.json", LAYOUT)


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_or_skip(), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


_CLOSE_ALL_JS = """async () => {
  const app = window.jupyterapp;
  for (const w of Array.from(app.shell.widgets('main'))) {
    if (w.context) w.context.model.dirty = false;  // closed without a "save your work?" dialog
    w.dispose();
  }
  await app.serviceManager.sessions.shutdownAll();
  return true;
}"""


def load_lab(page, lab) -> None:
    page.goto(f"{lab.url}/lab/workspaces/routes?reset", wait_until="domcontentloaded")
    page.wait_for_function(
        "() => !!(window.jupyterapp && window.jupyterapp.shell)", timeout=KERNEL_IDLE_TIMEOUT * 1000
    )
    page.evaluate("async () => { await window.jupyterapp.restored; return true; }")


@pytest.fixture(scope="module")
def lab_page(browser, lab):
    """One JupyterLab page for the module: JupyterLab loads once, each test opens its notebook in it."""
    context = browser.new_context(viewport={"width": WIDE[0], "height": WIDE[1]})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.console_log = ConsoleLog(pg)
    pg.add_init_script(PROBE_JS)
    load_lab(pg, lab)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def page(lab_page, lab):
    """The module's page, back at 1440x900 with no notebook open, no kernel running, no console errors."""
    pg = lab_page
    pg.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
    try:
        if pg.locator(".jp-Dialog").count():
            pg.keyboard.press("Escape")
        pg.evaluate(_CLOSE_ALL_JS)
    except Exception:  # a test left the page unusable: load JupyterLab again
        load_lab(pg, lab)
    pg.console_log.errors.clear()
    pg.console_log.ignored.clear()
    return pg


# --- JupyterLab: open, run, kernel -----------------------------------------------------------------


def open_notebook(page, lab, notebook: str) -> None:
    """Open the repository's ``notebook`` (copied afresh into the server's root) and wait for its kernel."""
    if (NOTEBOOKS / notebook).exists():
        shutil.copy2(NOTEBOOKS / notebook, lab.root_dir / notebook)
    page.evaluate(
        "(path) => window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'})",
        notebook,
    )
    wait_for_kernel(page, notebook)


def menu(page, top: str, item: str) -> None:
    """Choose ``top`` > ``item`` in JupyterLab's menu bar, with the mouse."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def run_all(page, notebook: str, restart: bool = False) -> dict:
    """Run > Run All Cells (or Kernel > Restart Kernel and Run All Cells, confirmed); wait until done."""
    page.evaluate("() => __routes.watchRun()")
    t0 = time.perf_counter()
    if restart:
        menu(page, "Kernel", "Restart Kernel and Run All Cells…")
        page.locator(".jp-Dialog-button.jp-mod-accept").click()
    else:
        menu(page, "Run", "Run All Cells")
    page.wait_for_function("() => __routes.run.started", timeout=KERNEL_IDLE_TIMEOUT * 1000, polling=20)
    state = page.wait_for_function(RUN_STATE_JS, timeout=RUN_ALL_TIMEOUT * 1000, polling=100).json_value()
    state["seconds"] = round(time.perf_counter() - t0, 2)
    assert not state["errors"], f"{notebook}: cells raised errors in the browser: {state['errors']}"
    assert state["code"] > 0 and state["unexecuted"] == 0, f"{notebook}: not every code cell ran: {state}"
    return state


def kernel(page, code: str) -> str:
    return page.evaluate("(code) => __routes.exec(code)", code)


def snapshot(page, ids: list[str]) -> dict:
    """The Python side of each widget (KERNEL_SNAPSHOT), asked from the notebook's kernel."""
    out = kernel(page, KERNEL_SNAPSHOT + f"\n__routes_snapshot({json.dumps(ids)})")
    try:
        return json.loads(out)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"the kernel's snapshot did not parse: {out[-2000:]}") from exc


def log_browser_writes(page) -> None:
    assert "ERROR" not in kernel(page, KERNEL_LOG_WRITES)


def browser_writes(page, ids: list[str]) -> list:
    """The state changes the browser sent to these widgets since log_browser_writes."""
    out = kernel(page, "import ipywidgets, json\nprint(json.dumps(ipywidgets.Widget._routes_writes))")
    return [w for w in json.loads(out) if w[0] in ids]


def console_clean(page, when: str) -> None:
    errors = page.console_log.errors
    if errors:
        raise AssertionError(f"{when}: the browser console logged errors:\n" + "\n".join(errors))


# --- what is drawn ------------------------------------------------------------------------------


def widget_views(page, notebook: str, expected: int | None = None) -> list[dict]:
    """The notebook's course-widget outputs, each with exactly one live view; no other views in the page."""
    found = page.evaluate("() => __routes.views()")
    views = found["views"]
    if expected is not None:
        assert len(views) == expected, (
            f"{notebook}: {len(views)} widget outputs, expected {expected}: {views}"
        )
    for v in views:
        assert v["roots"] == 1, f"{notebook}: the widget output of cell {v['cell']} holds {v['roots']} views"
    assert found["total"] == len(views), (
        f"{notebook}: {found['total']} course-widget views in the page for {len(views)} widget outputs "
        "(a stale view survived)"
    )
    return views


def stored_widget_count(notebook: str) -> int:
    """Course widgets the committed notebook displays: outputs holding a widget view, or a course
    widget's fallbacks for readers without a kernel (its HTML or its line of text)."""

    def is_widget(out) -> bool:
        data = out.get("data", {})
        return (
            WIDGET_VIEW in data
            or 'class="lessons-widget"' in "".join(data.get("text/html", ""))
            or "run the notebook to use the controls" in "".join(data.get("text/plain", ""))
        )

    nb = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    return sum(
        is_widget(out) for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )


#: every lesson that shows a course widget
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if stored_widget_count(p.name))


def wait_in_sync(page, ids: list[str], where: str) -> dict:
    """Poll until every browser model's state equals its Python widget's traits; return both sides."""
    deadline = time.monotonic() + SYNC_TIMEOUT
    while True:
        py = snapshot(page, ids)
        js = {}
        for mid in ids:
            assert py.get(mid) is not None, f"{where}: the kernel has no widget {mid}"
            js[mid] = page.evaluate("([id, keys]) => __routes.shown(id, keys)", [mid, py[mid]["keys"]])
        diffs = {
            mid: {
                k: (js[mid]["state"].get(k), v)
                for k, v in py[mid]["state"].items()
                if k in js[mid]["state"] and js[mid]["state"][k] != v
            }
            for mid in ids
        }
        missing = {mid: sorted(set(py[mid]["state"]) - set(js[mid]["state"])) for mid in ids}
        if not any(diffs.values()) and not any(missing.values()):
            return py
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{where}: browser and kernel disagree on the widget state after "
                f"{SYNC_TIMEOUT:.0f} s (browser, kernel): {diffs}; missing in the browser: {missing}"
            )
        page.wait_for_timeout(50)


def save_png(data_url: str, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data_url.split(",", 1)[1]))


def check_drawn(page, ids: list[str], where: str) -> dict:
    """Every view shows its Python widget's state, drawn as a fresh view of that state draws it."""
    py = wait_in_sync(page, ids, where)
    page.evaluate("() => __routes.frames(2)")
    for mid in ids:
        keys, expect = py[mid]["keys"], py[mid]["expect"]
        shown = page.evaluate("([id, keys]) => __routes.shown(id, keys)", [mid, keys])
        label = f"{where}, {py[mid]['kind']} {mid[:8]}"
        c = shown["canvas"]
        assert c["width"] > 0 and c["height"] > 0, f"{label}: the canvas is {c['width']}x{c['height']}"
        assert c["inked"] > 0.01, f"{label}: the canvas is blank ({c['inked']:.4f} of its pixels inked)"
        assert not shown["error"], f"{label}: the view says {shown['error']!r}"
        assert shown["lines"] == expect["lines"], (
            f"{label}: readout {shown['lines']} != Python's {expect['lines']}"
        )
        assert shown["box"] == expect["box"], f"{label}: readout shown {shown['box']} != {expect['box']}"
        if expect["title"] is not None:
            assert shown["title"] == expect["title"], (
                f"{label}: title {shown['title']!r} != {expect['title']!r}"
            )
        if expect["legend"] is not None:
            assert shown["legend"] == expect["legend"], (
                f"{label}: legend {shown['legend']} != {expect['legend']}"
            )
        for name, text in expect.get("sliders", {}).items():
            assert shown["sliders"].get(name) == text, (
                f"{label}: slider {name!r} shows {shown['sliders'].get(name)!r}, the state is {text!r}"
            )
        fresh = page.evaluate("([id, keys]) => __routes.compareFresh(id, keys)", [mid, keys])
        assert fresh["size"] == fresh["freshSize"], (
            f"{label}: canvas {fresh['size']}, a fresh view {fresh['freshSize']}"
        )
        if fresh["differ"]:
            stem, failures = re.sub(r"\W+", "-", label), own_files() / "failures"
            save_png(fresh["freshPng"], failures / f"{stem}-fresh.png")
            page.locator(f'.cw[data-route-model="{mid}"] canvas.cw-canvas').screenshot(
                path=str(failures / f"{stem}-shown.png")
            )
            raise AssertionError(
                f"{label}: {fresh['differ']} pixels differ from a fresh view of the same state "
                f"(pictures in {failures})"
            )
        if expect["title"] is not None:
            assert fresh["freshTitle"] == shown["title"], label
    return py


# --- the window sizes ----------------------------------------------------------------------------


def open_file_browser(page) -> None:
    if page.evaluate("() => window.jupyterapp.shell.leftCollapsed"):
        page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
    page.wait_for_function(
        "() => !window.jupyterapp.shell.leftCollapsed && "
        "!!document.querySelector('.jp-FileBrowser') && "
        "document.querySelector('.jp-FileBrowser').getBoundingClientRect().width > 100"
    )


def check_fits(page, mid: str, where: str) -> dict:
    """The figure lies inside its output area and the notebook's visible width; controls wrap."""
    lay = page.evaluate("(id) => __routes.layout(id)", mid)
    out, root, canvas, scroller = lay["output"], lay["root"], lay["canvas"], lay["scroller"]
    assert canvas["width"] > 0, f"{where}: the canvas is 0 px wide"
    assert canvas["right"] <= out["right"] + 0.5 and canvas["left"] >= out["left"] - 0.5, (
        f"{where}: the canvas ({canvas['left']:.0f}..{canvas['right']:.0f} px) sticks out of its output area "
        f"({out['left']:.0f}..{out['right']:.0f} px)"
    )
    assert root["scrollWidth"] <= root["clientWidth"], (
        f"{where}: the widget is {root['scrollWidth']} px wide in a {root['clientWidth']}-px box (cut off)"
    )
    assert out["scrollWidth"] <= out["clientWidth"], (
        f"{where}: the output area scrolls sideways ({out['scrollWidth']} px in {out['clientWidth']} px)"
    )
    assert out["right"] <= scroller["left"] + scroller["clientWidth"] + 0.5, (
        f"{where}: the output area ends at {out['right']:.0f} px, past the notebook's visible edge "
        f"{scroller['left'] + scroller['clientWidth']:.0f} px"
    )
    for s in lay["sliders"]:
        assert s["track"] >= MIN_TRACK_PX, (
            f"{where}: slider {s['label']!r} is {s['track']:.0f} px long: {lay['sliders']}"
        )
    for c in lay["controls"]:
        assert c["right"] <= root["right"] + 0.5, f"{where}: control {c['text']!r} is cut off at the right"
    assert not lay["truncated"], f"{where}: text cut off: {lay['truncated']}"
    return lay


def screenshot_widget(page, mid: str, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("(id) => __routes.root(id).scrollIntoView({block: 'start'})", mid)
    page.evaluate("() => __routes.frames(2)")
    page.screenshot(path=str(path))


# --- the routes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("notebook", LESSONS)
def test_run_all_draws_every_widget_at_both_window_sizes(page, lab, notebook):
    """Run All from the menu: every widget drawn with the state the notebook last set; then the
    window at 1440x900 and at 1024x700 with the file browser open: the figures fit; at 1024x700 with
    the file browser hidden by Ctrl+B (lesson 00's advice for a small screen) they fit too, in a column
    at least 200 px wider, each drawn wider."""
    open_notebook(page, lab, notebook)
    log_browser_writes(page)
    run = run_all(page, notebook)
    first = page.evaluate("() => __routes.run")
    views = widget_views(page, notebook, stored_widget_count(notebook))
    ids = [v["modelId"] for v in views]
    check_drawn(page, ids, f"{notebook} after Run All")
    # the state shown is the one the cells set: the browser wrote nothing back on its own
    assert not browser_writes(page, ids), (
        f"{notebook}: views changed their widgets' state: {browser_writes(page, ids)}"
    )
    if notebook.startswith("00_"):
        RESULTS["first_figure_ms"] = round(first["firstFigure"], 1)
        RESULTS["first_figure_run_all_s"] = run["seconds"]

    stem = notebook.removesuffix(".ipynb")
    open_file_browser(page)
    for size in (WIDE, NARROW):
        page.set_viewport_size({"width": size[0], "height": size[1]})
        page.evaluate("() => __routes.frames(3)")
        where = f"{notebook} at {size[0]}x{size[1]} with the file browser open"
        fits = [check_fits(page, mid, where) for mid in ids]
        LAYOUT[f"{stem} {size[0]}x{size[1]}"] = [
            {
                "output_px": round(f["output"]["width"]),
                "canvas_css_px": round(f["canvas"]["right"] - f["canvas"]["left"]),
                "canvas_pixels": [f["canvas"]["width"], f["canvas"]["height"]],
                "shortest_slider_track_px": round(min(s["track"] for s in f["sliders"])),
            }
            for f in fits
        ]
        check_drawn(page, ids, where)  # redrawn at the new width as a fresh view draws it
        if size == NARROW:  # no narrower than the width at which test_repository checks the pictures' text
            assert all(round(f["output"]["width"]) >= NARROWEST_OUTPUT_PX for f in fits), (
                f"{where}: an output area narrower than conftest.NARROWEST_OUTPUT_PX "
                f"({NARROWEST_OUTPUT_PX}): "
                f"{[round(f['output']['width']) for f in fits]}")
        screenshot_widget(page, ids[0], OUT / f"{stem}-{size[0]}x{size[1]}.png")
    # lesson 00's advice for a small screen: Ctrl+B in command mode hides the file browser; the column
    # widens by 200 px or more and every widget's figure is redrawn wider (up to its own largest width)
    opened = LAYOUT[f"{stem} {NARROW[0]}x{NARROW[1]}"]
    try:
        page.keyboard.press("Escape")  # command mode
        page.keyboard.press("Control+b")
        page.wait_for_function("() => window.jupyterapp.shell.leftCollapsed", timeout=5_000)
        page.evaluate("() => __routes.frames(3)")
        where = f"{notebook} at {NARROW[0]}x{NARROW[1]} with the file browser hidden"
        fits = [check_fits(page, mid, where) for mid in ids]
        hidden = [{"output_px": round(f["output"]["width"]),
                   "canvas_css_px": round(f["canvas"]["right"] - f["canvas"]["left"])} for f in fits]
        LAYOUT[f"{stem} {NARROW[0]}x{NARROW[1]} file browser hidden"] = hidden
        for before, after in zip(opened, hidden, strict=True):
            assert after["output_px"] >= before["output_px"] + 200, f"{where}: {before} open, {after} hidden"
            assert after["canvas_css_px"] > before["canvas_css_px"], f"{where}: {before} open, {after} hidden"
        check_drawn(page, ids, where)
    finally:
        open_file_browser(page)  # the next tests on this page expect it open
    console_clean(page, notebook)


# --- opening, saving, reopening ------------------------------------------------------------------

_DIRTY_JS = "() => __routes.panel().context.model.dirty"
_SAVE_JS = """async () => { await window.jupyterapp.commands.execute('docmanager:save'); return true; }"""
_SHUT_DOWN_JS = "async () => { await window.jupyterapp.serviceManager.sessions.shutdownAll(); return true; }"
_OPEN_JS = """(path) => window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'})"""
# The reopened notebook's course-widget outputs: each a figure started by the output's own page
# loader (lessons_lib/widgets/_base.py), drawn; or the error JupyterLab shows for a lost model.
_REOPENED_JS = """(n) => {
  const panel = __routes.panel().node;
  const error = panel.innerText.match(/Error displaying widget[^\\n]*/);
  if (error) return {error: error[0]};
  const roots = Array.from(panel.querySelectorAll('.lessons-widget .cw'));
  if (roots.length !== n || !roots.every((r) => r.__courseWidget && r.__courseWidget.drawn)) return false;
  return {pictures: panel.querySelectorAll('img.lessons-widget-picture').length,
          inked: roots.map((r) => __routes.inked(r.querySelector('canvas.cw-canvas'))),
          errors: roots.map((r) => r.querySelector('.cw-error').textContent)};
}"""


def test_opening_changes_nothing_and_a_saved_run_reopens_with_live_figures(page, lab):
    """Opening a lesson leaves it clean (nothing to save, the file unchanged). After Run All and
    File > Save, the file holds no widget view (lessons_lib.saved_notebooks, a server extension);
    closed, its kernel shut down, and reopened, every widget output shows its live figure (the
    output's own HTML, run in the trusted notebook), no "model not found"; reopening leaves it
    clean; with no kernel, a key press on a slider redraws the figure."""
    notebook = next(n for n in LESSONS if n.startswith("00_"))
    path = lab.root_dir / notebook
    open_notebook(page, lab, notebook)
    original = path.read_bytes()
    page.wait_for_timeout(1500)  # whatever opening does (trust, kernel, widget manager) has happened
    assert page.evaluate(_DIRTY_JS) is False, f"{notebook}: opening it left unsaved changes"
    assert path.read_bytes() == original, f"{notebook}: opening it rewrote the file"

    run_all(page, notebook)
    views = widget_views(page, notebook, stored_widget_count(notebook))
    check_drawn(page, [v["modelId"] for v in views], f"{notebook} after Run All")
    page.evaluate(_SAVE_JS)
    saved = nbformat.read(path, as_version=4)
    kept = [o for c in saved.cells for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
    assert not kept, f"{notebook}: saved with {len(kept)} widget views"
    assert sum("lessons-widget" in o.get("data", {}).get("text/html", "")
               for c in saved.cells for o in c.get("outputs", [])) == len(views)

    page.evaluate(_CLOSE_ALL_JS)
    page.evaluate(_OPEN_JS, notebook)
    wait_for_kernel(page, notebook)
    page.evaluate(_SHUT_DOWN_JS)
    reopened = page.wait_for_function(_REOPENED_JS, arg=len(views), timeout=30_000, polling=200).json_value()
    assert "error" not in reopened, f"{notebook} reopened: {reopened['error']}"
    assert reopened["pictures"] == 0 and min(reopened["inked"]) > 0.01 and not any(reopened["errors"]), (
        f"{notebook} reopened: {reopened}")
    page.wait_for_timeout(1000)
    assert page.evaluate(_DIRTY_JS) is False, f"{notebook}: reopening it left unsaved changes"
    first = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .lessons-widget .cw").first
    first.screenshot(path=str(OUT / f"{notebook.removesuffix('.ipynb')}-reopened.png"))
    hash_js = "(r) => __routes.hash(r.querySelector('canvas.cw-canvas'))"
    before = first.evaluate(hash_js)
    first.locator("input[type=range]").first.focus()
    page.keyboard.press("ArrowRight")
    page.evaluate("() => __routes.frames(3)")
    assert first.evaluate(hash_js) != before, f"{notebook} reopened, no kernel: a key press did not redraw"
    console_clean(page, f"{notebook} saved and reopened")


# --- cell by cell, re-running, restarting ---------------------------------------------------------

_CELL_DONE_JS = """([i, count]) => {
  const p = __routes.panel(), k = __routes.kernel();
  const cell = p.content.widgets[i];
  if (!k || k.status !== 'idle') return false;
  const code = cell.model.type === 'code' && cell.model.sharedModel.getSource().trim();
  if (!code) return p.content.activeCellIndex > i;
  return cell.model.executionCount === count && !cell.promptNode.textContent.includes('*');
}"""


def run_cell_by_cell(page, notebook: str) -> None:
    """Select the first cell and press Shift+Enter through the notebook, each cell finishing first."""
    cells = page.evaluate("""() => { const p = __routes.panel();
      p.content.activeCellIndex = 0; p.content.mode = 'command'; p.content.node.focus();
      return p.content.widgets.map((c) =>
        c.model.type === 'code' && !!c.model.sharedModel.getSource().trim()); }""")
    count = 0
    for i, is_code in enumerate(cells):
        page.keyboard.press("Shift+Enter")
        count += is_code
        try:
            page.wait_for_function(_CELL_DONE_JS, arg=[i, count], timeout=RUN_ALL_TIMEOUT * 1000, polling=20)
        except Exception as exc:  # playwright's TimeoutError
            raise AssertionError(f"{notebook}: cell {i} did not finish after Shift+Enter") from exc
    errors = page.evaluate(RUN_STATE_JS)
    assert errors and not errors["errors"], f"{notebook}: cells raised errors: {errors}"


@pytest.mark.parametrize("notebook", [n for n in LESSONS if n.startswith(("01_", "03_"))])
def test_cell_by_cell_draws_every_widget(page, lab, notebook):
    """Shift+Enter through the lesson: each widget drawn with the state its following cells set."""
    open_notebook(page, lab, notebook)
    log_browser_writes(page)
    run_cell_by_cell(page, notebook)
    views = widget_views(page, notebook, stored_widget_count(notebook))
    ids = [v["modelId"] for v in views]
    check_drawn(page, ids, f"{notebook}, cell by cell")
    assert not browser_writes(page, ids), (
        f"{notebook}: views changed their widgets' state: {browser_writes(page, ids)}"
    )
    console_clean(page, f"{notebook}, cell by cell")


def momentum_lessons() -> list[str]:
    """Lessons 03 (the explorer) and 04 (the rate map): the momentum lessons' controls."""
    names = [n for n in LESSONS if n.startswith(("03_", "04_"))]
    if len(names) != 2:
        pytest.fail(f"expected lessons 03 and 04 with widgets, found {names}", pytrace=False)
    return names


def press_on(page, mid: str, label: str, key: str) -> None:
    page.locator(f'.cw[data-route-model="{mid}"] input[type=range][aria-label="{label}"]').focus()
    page.keyboard.press(key)


def rerun_widget_cells(page, notebook: str, views: list[dict]) -> None:
    """Run every widget cell again in place (Ctrl+Enter): one live, drawn view per output, the new
    widget's; a key press on it reaches the kernel."""
    expected = len(views)
    for v in views:  # every widget cell, run again in place (Ctrl+Enter)
        before = page.evaluate("(i) => __routes.panel().content.widgets[i].model.executionCount", v["cell"])
        page.evaluate(
            """(i) => { const p = __routes.panel(); p.content.activeCellIndex = i;
          p.content.mode = 'command'; p.content.node.focus(); }""",
            v["cell"],
        )
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            """([i, before]) => { const c = __routes.panel().content.widgets[i];
          const k = __routes.kernel();
          return c.model.executionCount > before && k.status === 'idle'
            && !c.promptNode.textContent.includes('*'); }""",
            arg=[v["cell"], before],
            polling=20,
        )
        now = widget_views(page, notebook, expected)
        (again,) = [w for w in now if w["cell"] == v["cell"]]
        assert again["modelId"] != v["modelId"], f"cell {v['cell']} ran again but shows the old widget"
        check_drawn(page, [w["modelId"] for w in now], f"{notebook}, cell {v['cell']} run again")
        # the new view is live: a key press reaches the kernel
        label = {"explorer": "momentum", "rate_map": "momentum β", "spectrum": "momentum β",
                 "sgd": "momentum"}[again["kind"]]
        trait = {"explorer": "momentum", "rate_map": "beta", "spectrum": "beta",
                 "sgd": "momentum"}[again["kind"]]
        old = snapshot(page, [again["modelId"]])[again["modelId"]]["state"][trait]
        press_on(page, again["modelId"], label, "ArrowLeft")
        py = check_drawn(page, [again["modelId"]], f"{notebook}, cell {v['cell']} run again, ArrowLeft")
        assert py[again["modelId"]]["state"][trait] == pytest.approx(old - 0.01), (
            "the key press did not reach Python"
        )


# --- controls in any order, clicks on the plot ------------------------------------------------------

EXPLORER_KEYS = [
    "ArrowRight",
    "ArrowLeft",
    "ArrowUp",
    "ArrowDown",
    "Shift+ArrowRight",
    "Shift+ArrowLeft",
    "PageUp",
    "PageDown",
    "Home",
    "End",
]


def _focus_kept(page, mid: str, label: str, where: str) -> None:
    """After a key press on a slider the slider keeps the focus (the notebook did not take the key)."""
    focused = page.evaluate(
        """([id, label]) => { const a = document.activeElement;
      return !!a && a.getAttribute('aria-label') === label && __routes.root(id).contains(a); }""",
        [mid, label],
    )
    assert focused, f"{where}: the key left the slider {label!r} (JupyterLab took it)"


def click_plot(page, mid: str, rect_key: str, fx: float, fy: float) -> tuple[float, float]:
    """Click at (fx, fy) of a panel of the canvas (fractions of its width and height, from the top left)."""
    rect = page.evaluate("([id, k]) => __routes.root(id).__courseWidget.drawn[k]", [mid, rect_key])
    box = page.locator(f'.cw[data-route-model="{mid}"] canvas.cw-canvas').bounding_box()
    x, y = box["x"] + rect["x"] + fx * rect["w"], box["y"] + rect["y"] + fy * rect["h"]
    page.mouse.click(x, y)
    return rect["x"] + fx * rect["w"], rect["y"] + fy * rect["h"]


# What a reader (or a cell) does to each widget, and how often, relatively.
EXPLORER_ACTIONS = {"surface": 3, "method": 3, "key": 8, "click": 3, "start": 1, "play": 1, "kernel": 2}
RATE_MAP_ACTIONS = {"key": 8, "click": 3, "optimum": 1, "kernel": 2}


def action_sequence(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    """Every kind of action once, in a random order, then ``n`` more drawn with ``weights``."""
    kinds = list(weights)
    rng.shuffle(kinds)
    return kinds + rng.choices(list(weights), weights=list(weights.values()), k=n)


def explorer_action(page, rng: random.Random, mid: str, state: dict, kind: str) -> str:
    """One control change on the explorer, as a reader (or a cell) makes it; returns what it did."""
    root = page.locator(f'.cw[data-route-model="{mid}"]')
    if kind == "surface":
        name = rng.choice(sorted(set(state["surface_specs"]) - {state["surface"]}))
        root.locator('select[aria-label="surface"]').select_option(name)
        return f"surface -> {name}"
    if kind == "method":
        label = rng.choice(["gradient descent", "momentum", "Nesterov"])
        root.get_by_role("checkbox", name=label, exact=True).click()
        return f"toggle {label}"
    if kind == "key":
        label = rng.choice(["lr", "momentum", "steps", "show step"])
        key = rng.choice(EXPLORER_KEYS if label != "steps" else EXPLORER_KEYS[:8])
        press_on(page, mid, label, key)
        _focus_kept(page, mid, label, f"{key} on {label}")
        return f"{key} on {label}"
    if kind == "click":
        root.locator("canvas.cw-canvas").scroll_into_view_if_needed()
        fx, fy = rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)
        click_plot(page, mid, "pathRect", fx, fy)
        return f"click on the contour plot at ({fx:.2f}, {fy:.2f})"
    if kind == "start":
        which = rng.choice(["start x", "start y"])
        value = round(rng.uniform(-2.0, 2.0), 2)
        box = root.locator(f'input[aria-label="{which}"]')
        box.fill(str(value))
        box.press("Enter")
        return f"type {value} in {which}"
    if kind == "play":
        button = root.locator("button.cw-button", has_text=re.compile("Play|Pause"))
        button.click()
        page.wait_for_timeout(rng.randint(100, 500))
        if "Pause" in button.inner_text():  # a short run may have played to its end
            button.click()
        return "Play, then Pause"
    trait, value = rng.choice(
        [
            ("momentum", round(rng.uniform(0.0, 0.99), 3)),
            ("lr", round(rng.uniform(0.0005, 0.5), 4)),
            ("steps", rng.randint(20, 400)),
        ]
    )
    out = kernel(
        page, f"from ipywidgets.widgets.widget import _instances\n_instances[{mid!r}].{trait} = {value!r}"
    )
    assert "ERROR" not in out, out
    return f"a cell sets {trait} = {value}"


def rate_map_action(page, rng: random.Random, mid: str, state: dict, kind: str) -> str:
    root = page.locator(f'.cw[data-route-model="{mid}"]')
    if kind == "key":
        label = rng.choice(["κ", "lr (L = 1)", "momentum β"])
        key = rng.choice(EXPLORER_KEYS[:8])
        press_on(page, mid, label, key)
        _focus_kept(page, mid, label, f"{key} on {label}")
        return f"{key} on {label}"
    if kind == "click":
        root.locator("canvas.cw-canvas").scroll_into_view_if_needed()
        fx, fy = rng.uniform(0.02, 0.98), rng.uniform(0.02, 0.98)
        click_plot(page, mid, "mapRect", fx, fy)
        return f"click on the map at ({fx:.2f}, {fy:.2f})"
    if kind == "optimum":
        root.get_by_role("button", name="go to the optimum").click()
        return "go to the optimum (button)"
    code = rng.choice(
        [
            "optimum_button.click()",
            f"kappa = {rng.choice([5, 20, 100, 400])}",
            f"beta_slider.value = {round(rng.uniform(0, 0.99), 2)}",
        ]
    )
    out = kernel(page, f"from ipywidgets.widgets.widget import _instances\n_instances[{mid!r}].{code}")
    assert "ERROR" not in out, out
    return f"a cell runs rate_widget.{code}"


STRIP = 240  # px of a partly visible figure that show


def check_click_does_not_scroll(page, mid: str, rect_key: str, xlim, ylim, traits, where: str) -> None:
    """A click on a partly visible figure sets the start / the pair to the clicked point and scrolls
    neither the window nor the notebook: with the figure's top STRIP px showing at the bottom of the
    notebook, and with its bottom STRIP px showing at the top (its cell's start scrolled away)."""
    for edge in ("top", "bottom"):
        page.evaluate(
            """([id, edge, strip]) => {
          const c = __routes.canvas(id), s = c.closest('.jp-WindowedPanel-outer');
          const r = c.getBoundingClientRect(), v = s.getBoundingClientRect();
          s.scrollTop += edge === 'top' ? r.top - (v.bottom - strip) : r.bottom - (v.top + strip); }""",
            [mid, edge, STRIP],
        )
        page.evaluate("() => __routes.frames(3)")
        before = page.evaluate("(id) => __routes.scrolls(id)", mid)
        canvas, view = page.evaluate(
            """(id) => { const c = __routes.canvas(id).getBoundingClientRect();
          const s = __routes.canvas(id).closest('.jp-WindowedPanel-outer').getBoundingClientRect();
          return [[c.top, c.bottom], [s.top, s.bottom]]; }""",
            mid,
        )
        # the canvas y (from its top) of the middle of the visible strip
        y_mid = (view[1] - STRIP / 2 - canvas[0]) if edge == "top" else (view[0] + STRIP / 2 - canvas[0])
        shown = canvas[1] > view[1] > canvas[0] if edge == "top" else canvas[0] < view[0] < canvas[1]
        assert shown, f"{where}: the figure is not partly visible at the {edge}: {canvas} in {view}"
        rect = page.evaluate("([id, k]) => __routes.root(id).__courseWidget.drawn[k]", [mid, rect_key])
        fy = min(0.95, max(0.05, (y_mid - rect["y"]) / rect["h"]))
        px, py = click_plot(page, mid, rect_key, 0.3 if edge == "top" else 0.7, fy)
        label = f"{where}, its {edge} {STRIP} px showing"
        py_state = check_drawn(page, [mid], label)[mid]["state"]
        after = page.evaluate("(id) => __routes.scrolls(id)", mid)
        assert after == before, f"{label}: the click scrolled: {before} -> {after}"
        x = xlim[0] + (px - rect["x"]) / rect["w"] * (xlim[1] - xlim[0])
        y = ylim[0] + (rect["y"] + rect["h"] - py) / rect["h"] * (ylim[1] - ylim[0])
        got = [py_state[t] for t in traits]
        tol = [(xlim[1] - xlim[0]) / rect["w"], (ylim[1] - ylim[0]) / rect["h"]]  # a pixel
        assert abs(got[0] - x) <= tol[0] + 1e-3 and abs(got[1] - y) <= tol[1] + 1e-3, (
            f"{label}: the click at data ({x:.3f}, {y:.3f}) set {traits} = {got}"
        )
        assert got == [round(v, 3) for v in got], f"{label}: the clicked point is not rounded: {got}"


def controls_in_any_order(page, views: list[dict], stem: str) -> None:
    """A seeded random sequence of control changes on the first explorer and the first rate map
    that the lesson shows (and of traits set from the kernel, as cells do); after each, the checks of
    check_drawn. A click on each partly visible plot sets the start / the pair and scrolls nothing.
    The actions taken go to ``OUT / f"actions-{stem}.txt"``."""
    explorer = next((v["modelId"] for v in views if v["kind"] == "explorer"), None)
    rate_map = next((v["modelId"] for v in views if v["kind"] == "rate_map"), None)
    assert explorer or rate_map, "the lesson shows neither an explorer nor a rate map"
    rng = random.Random(20261122)
    log: list[str] = []
    for mid, action, kinds in (
        (explorer, explorer_action, action_sequence(rng, EXPLORER_ACTIONS, 25)),
        (rate_map, rate_map_action, action_sequence(rng, RATE_MAP_ACTIONS, 16)),
    ):
        if mid is None:
            continue
        py = check_drawn(page, [mid], "before the first action")
        for i, kind in enumerate(kinds):
            did = action(page, rng, mid, py[mid]["state"], kind)
            log.append(did)
            py = check_drawn(page, [mid], f"action {i + 1} ({did}) after {log[-6:-1]}")
    (OUT / f"actions-{stem}.txt").write_text("\n".join(log) + "\n")  # one file a lesson

    if explorer:
        spec = snapshot(page, [explorer])[explorer]["state"]
        surface = spec["surface_specs"][spec["surface"]]
        check_click_does_not_scroll(
            page,
            explorer,
            "pathRect",
            surface["xlim"],
            surface["ylim"],
            ["start_x", "start_y"],
            "a click on the explorer's contour plot",
        )
    if rate_map:
        check_click_does_not_scroll(
            page, rate_map, "mapRect", [0.0, 4.0], [0.0, 1.0], ["lr", "beta"], "a click on the rate map"
        )


@pytest.mark.parametrize("lesson", ["03", "04"])
def test_momentum_lesson_controls_rerun_and_restart(page, lab, lesson):
    """Lessons 03 and 04 after Run All, one route after the other on the same page:

    * controls in any order on the first explorer (lesson 03) and the first rate map (lesson 04):
      after each change the picture, title, readouts and legend are the state's, pixel-equal to a
      fresh view's;
    * a click on a partly visible plot sets the start / the pair and scrolls nothing;
    * every widget cell run again: one live, drawn view each;
    * Kernel > Restart Kernel and Run All Cells: every widget drawn again.

    The console stays free of errors throughout."""
    notebook = next(n for n in momentum_lessons() if n.startswith(lesson))
    open_notebook(page, lab, notebook)
    log_browser_writes(page)
    run_all(page, notebook)
    views = widget_views(page, notebook, stored_widget_count(notebook))
    ids = [v["modelId"] for v in views]
    check_drawn(page, ids, f"{notebook} after Run All")
    assert not browser_writes(page, ids), "views changed their widgets' state on their own"

    controls_in_any_order(page, views, notebook.removesuffix(".ipynb"))
    assert browser_writes(page, ids), "the kernel's log of the browser's changes stayed empty"
    console_clean(page, f"{notebook}: controls in any order, clicks")

    rerun_widget_cells(page, notebook, views)
    console_clean(page, f"{notebook}: widget cells run again")

    run_all(page, notebook, restart=True)
    views = widget_views(page, notebook, len(views))
    check_drawn(page, [v["modelId"] for v in views], f"{notebook} after Restart Kernel and Run All")
    console_clean(page, f"{notebook}: Restart Kernel and Run All")


# --- benchmarks ------------------------------------------------------------------------------------


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(samples)
    return s[max(0, -(-len(s) * q // 100) - 1)]


def key_to_pixels(page, mid: str, label: str, presses: int = PRESSES) -> dict:
    """ArrowLeft x10, ArrowRight x10, ... on a slider; each sample is measured in the page, from the
    keydown's time stamp to the first animation frame whose canvas pixels differ from before
    (``browser_routes.js``, armKeyProbe). A void sample (the view drew for another reason just
    before the key) is taken again."""
    press_on(page, mid, label, "ArrowLeft")  # focus, and one move not counted
    page.wait_for_timeout(200)
    samples, handler, frames, void = [], [], [], 0
    while len(samples) < presses:
        page.evaluate("(id) => __routes.armKeyProbe(id)", mid)
        page.keyboard.press("ArrowLeft" if len(samples) % 20 < 10 else "ArrowRight")
        s = page.evaluate("() => __routes.sample")
        page.wait_for_timeout(40)  # the kernel's echo comes and goes before the next press
        if s.get("void"):
            void += 1
            assert void <= 10, f"{label!r}: the view keeps drawing without a key press"
            continue
        assert s["ms"] is not None, (
            f"press {len(samples) + 1} on {label!r}: the canvas did not change within 5 s"
        )
        samples.append(s["ms"])
        handler.append(s["fromHandler"])
        frames.append(s["frames"])
    draw = page.evaluate(f"(id) => __routes.root(id).__courseWidget.stats.drawTimes.slice(-{presses})", mid)
    return {
        "p50": round(statistics.median(samples), 2),
        "p95": round(percentile(samples, 95), 2),
        "max": round(max(samples), 2),
        "n": len(samples),
        "slider": label,
        # the change showed at the first animation frame after the key press (the draw is done
        # within the keydown's task): the wait is for the display's next frame, not for the widget
        "shown_at_first_frame": sum(f == 1 for f in frames) / len(frames),
        "keydown_to_handler_to_frame_p50": round(statistics.median(handler), 2),
        "draw_ms_p50": round(statistics.median(draw), 2),
        "draw_ms_p95": round(percentile(draw, 95), 2),
        "canvas": page.evaluate("(id) => [__routes.canvas(id).width, __routes.canvas(id).height]", mid),
    }


def test_benchmarks_in_jupyterlab(page, lab):
    """Key press to pixels (explorer: Rosenbrock, three methods, 300 steps; rate map) over 60 presses,
    and Play's frame rate, in this JupyterLab; written to test-artifacts/browser/jupyterlab/."""
    open_notebook(page, lab, BENCH_NOTEBOOK)
    run_all(page, BENCH_NOTEBOOK)
    views = widget_views(page, BENCH_NOTEBOOK, 2)
    explorer = next(v["modelId"] for v in views if v["kind"] == "explorer")
    rate_map = next(v["modelId"] for v in views if v["kind"] == "rate_map")
    check_drawn(page, [explorer, rate_map], BENCH_NOTEBOOK)
    state = snapshot(page, [explorer])[explorer]["state"]
    assert (state["surface"], state["steps"], state["methods"]) == (
        "rosenbrock",
        300,
        ["gd", "momentum", "nesterov"],
    )

    timing = {
        "explorer": key_to_pixels(page, explorer, "momentum"),
        "rate_map": key_to_pixels(page, rate_map, "momentum β"),
    }
    check_drawn(page, [explorer, rate_map], f"{BENCH_NOTEBOOK} after the presses")

    # Play: distinct pictures per second over about 3 s (300 steps at 25 frames/s take 12 s)
    root = page.locator(f'.cw[data-route-model="{explorer}"]')
    root.scroll_into_view_if_needed()
    page.evaluate("(id) => { __routes.frameCount = __routes.countFrames(id, 3000); }", explorer)
    root.get_by_role("button", name=re.compile("Play")).click()
    counted = page.evaluate("() => __routes.frameCount")
    root.get_by_role("button", name=re.compile("Pause")).click()
    changes, steps = counted["changes"], counted["steps"]
    nominal = state["play_fps"]
    n = len(changes)
    assert n > 10, f"Play drew {n} distinct pictures in 3 s"
    # least squares of the i-th distinct picture's frame time against i: ms per picture, free of the
    # quantisation to display frames that (n - 1) / (last - first) suffers from
    mean_i, mean_t = (n - 1) / 2, sum(changes) / n
    slope = sum((i - mean_i) * (t - mean_t) for i, t in enumerate(changes)) / sum(
        (i - mean_i) ** 2 for i in range(n)
    )
    play = {
        "fps": round(1000.0 / slope, 1),
        "nominal": nominal,
        "pictures": n,
        "seconds": round(changes[-1] / 1000, 3),
        "fps_first_to_last": round((n - 1) / changes[-1] * 1000, 2),
        "steps_skipped": sum(b - a - 1 for a, b in zip(steps, steps[1:], strict=False) if b > a + 1),
    }
    check_drawn(page, [explorer], f"{BENCH_NOTEBOOK} after Play/Pause")
    console_clean(page, BENCH_NOTEBOOK)

    RESULTS["browser_slider_to_pixels_ms_p50"] = {k: v["p50"] for k, v in timing.items()}
    RESULTS["browser_slider_to_pixels_ms_p95"] = {k: v["p95"] for k, v in timing.items()}
    RESULTS["browser_slider_to_pixels"] = timing
    RESULTS["play_fps"] = play["fps"]
    RESULTS["play"] = play
    print(f"\nkey press to pixels: {json.dumps(timing)}\nPlay: {json.dumps(play)}")
    # the goal is the nominal rate (benchmarks/run.py reports it); a test on a shared machine allows 10 %
    assert play["fps"] >= 0.9 * nominal, (
        f"Play drew {play['fps']} distinct pictures per second, nominal {nominal}: {play}"
    )
