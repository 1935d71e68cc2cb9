"""The course's widgets in a real browser: JupyterLab, headless Chromium, a slider, the picture.

One JupyterLab server (127.0.0.1, a free port, no token, every Jupyter directory in a
temporary folder, root = a temporary copy of notebooks/) serves all tests of this module;
one headless Chromium (Debian's, driven by Playwright) opens a fresh page per test.
Each test runs a notebook's cells in the browser, presses ArrowRight on a slider found
by its description, times each press until its figure's canvas pixels change (an ipympl
canvas, or the canvas a course widget draws with ``course_widgets.js``)
(``browser_slider_to_pixels_ms``, the median), checks that the picture changed and that
the browser console logged no error. Screenshots and timings go to test-artifacts/browser/.

Without Chromium the tests skip; with LESSONS_REQUIRE_BROWSER=1 (CI) they fail instead.
"""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM_ARGS,
    NOTEBOOKS,
    ConsoleLog,
    LabServer,
    chromium_or_skip,
    copy_notebooks,
    open_and_run_all,
    slider_to_pixels,
)

pytestmark = pytest.mark.browser

MIN_CHANGED_PIXELS = 200  # the trajectory/dots must visibly move, not a pixel or two of noise
EXPLORER_SCRATCH = "zz_browser_test_explorer.ipynb"


@pytest.fixture(scope="module")
def chromium_path():
    return chromium_or_skip()


@pytest.fixture(scope="module")
def lab(chromium_path, tmp_path_factory):
    """A JupyterLab server for this module; stopped (process group and kernels) whatever happens."""
    home = tmp_path_factory.mktemp("jupyter-home")
    root = copy_notebooks(tmp_path_factory.mktemp("lab-root") / "notebooks")
    # A scratch notebook of the test's own (only in the temporary copy): the explorer widget alone.
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("import lessons_lib\n"
                                          "from lessons_lib.widgets import TrajectoryExplorer\n\n"
                                          "lessons_lib.setup()\n"
                                          "TrajectoryExplorer()")]
    nbformat.write(nb, root / EXPLORER_SCRATCH)
    server = LabServer(root, home)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if server.log_path.exists():
            shutil.copyfile(server.log_path, ARTIFACTS / "jupyterlab.log")


@pytest.fixture(scope="module")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.console_log = ConsoleLog(pg)
    try:
        yield pg
    finally:
        context.close()


def check_slider_redraws(page, lab, notebook: str, description: str, out_dir) -> dict:
    """Run ``notebook`` in the browser, press ArrowRight on slider ``description``, check the figure."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("before.png", "after.png", "timing.json", "failure-page.png"):
        (out_dir / stale).unlink(missing_ok=True)
    try:
        run = open_and_run_all(page, lab.url, notebook)
        result = slider_to_pixels(page, description, out_dir)
    except Exception as exc:
        page.screenshot(path=str(out_dir / "failure-page.png"), full_page=False)
        errors = page.console_log.errors  # the console usually says why
        raise AssertionError(f"{type(exc).__name__}: {exc}\n"
                             f"page screenshot: {out_dir / 'failure-page.png'}\n"
                             "browser console errors:\n" + ("\n".join(errors) or "(none)")) from exc
    result["notebook"] = notebook
    result["run_all_seconds"] = run["run_all_seconds"]
    result["console_errors_ignored"] = page.console_log.ignored
    (out_dir / "timing.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{notebook} / {description}: {json.dumps(result)}")

    assert result["value_after"] != result["value_before"], (
        f'ArrowRight did not move slider "{description}" (readout stayed {result["value_before"]})')
    assert result["changed_pixels"] >= MIN_CHANGED_PIXELS, (
        f"the figure barely changed: {result['changed_pixels']} pixels differ between "
        f"{out_dir / 'before.png'} and {out_dir / 'after.png'}")
    errors = page.console_log.errors
    if errors:  # an explicit message: pytest's rewrite of `assert not errors` would print them twice
        raise AssertionError("the browser console logged errors:\n" + "\n".join(errors))
    return result


def test_momentum_lesson_slider_redraws_trajectories(page, lab):
    """Lesson 03: the trajectory explorer's momentum slider redraws the paths in the browser."""
    notebook = "03_momentum.ipynb"
    if not (NOTEBOOKS / notebook).exists():
        pytest.fail(f"notebooks/{notebook} does not exist: the browser test of lesson 03 needs it "
                    "(its TrajectoryExplorer's 'momentum' slider)", pytrace=False)
    check_slider_redraws(page, lab, notebook, "momentum", ARTIFACTS)


def test_start_here_widget_check_works_in_browser(page, lab):
    """Lesson 00's widget check: the 'lr' slider moves the dots in a real browser."""
    check_slider_redraws(page, lab, "00_start_here.ipynb", "lr", ARTIFACTS / "00_start_here")


def test_trajectory_explorer_widget_in_browser(page, lab):
    """The library's TrajectoryExplorer alone (a scratch notebook in the temporary copy)."""
    check_slider_redraws(page, lab, EXPLORER_SCRATCH, "momentum", ARTIFACTS / "explorer_widget")
