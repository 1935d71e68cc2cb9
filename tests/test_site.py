"""The course's website: built by the README's site command, read in Chromium with no network.

The site is built once per session (``scripts/build_site.py``, Sphinx with MyST-NB, timed) into
a temporary folder and served under a sub-path, as a GitHub project page is
(``http://127.0.0.1:PORT/course/``), by a threaded ``http.server`` bound to 127.0.0.1.
Chromium opens every page with every request that is not to that server aborted and recorded,
and the tests check: no console error, no failed request, the LaTeX typeset by MathJax (no
``$`` left in the text), every interactive figure live (drawn by ``course_widgets.js`` where its
picture was, and drawn again when a slider moves), navigation in lesson order, a table of
contents, the reader's choices (download, Binder, the README's commands), and that search
finds a term of lesson 03.

Figures (``benchmarks/run.py`` reports them when measured in one process, ``-n 0``) go to
``test-artifacts/browser/site/results.json``,
screenshots beside it: ``site_first_interactive_ms`` (navigation start to lesson 03's
explorer redrawn after a key on its slider, cold cache), ``site_slider_to_pixels_ms`` (p50 and
p95 over 60 key presses), each page's transferred bytes, and the build's seconds.
Without Chromium the browser tests skip; with LESSONS_REQUIRE_BROWSER=1 (CI) they fail.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import os
import pathlib
import re
import shutil
import threading

import nbformat
import numpy as np
import pytest
from browser_support import (
    ARTIFACTS,
    KEY_TO_PIXELS_PROBE_JS,
    ROOT,
    ConsoleLog,
    chromium_or_skip,
    launched_chromium,
    worker_count,
)

from conftest import load_file, load_script
from lessons_lib.nbgrader_course import student_copy

OUT = ARTIFACTS / "site"
PREFIX = "/course/"
LESSONS = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))]
PAGES = [*LESSONS, "instructors_guide", "index"]
SEARCH_TERM = "damping"  # lesson 03's critical damping (checked to be in its text below)
PRESSES = 60
FIRST_INTERACTIVE_GUARD_MS = 10_000
PAGE_BYTES_GOAL = 5_000_000

RESULTS: dict[str, object] = {}


def course_site():
    return load_file(ROOT / "site" / "course_site.py", "course_site")


def widget_count(lesson: str) -> int:
    """How many live figures a lesson's stored outputs carry."""
    nb = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
    return sum("".join(o.get("data", {}).get("text/html", "")).count('<div class="lessons-widget">')
               for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def write_results() -> None:
    """This session's figures so far (a new session starts the file again: no stale figures)."""
    OUT.mkdir(parents=True, exist_ok=True)
    results = RESULTS | {"test_workers": worker_count()}
    (OUT / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


# --- the build and the server ------------------------------------------------------------

@pytest.fixture(scope="session")
def site(tmp_path_factory) -> pathlib.Path:
    """The site, built once by the README's site command's script into a temporary folder."""
    out = tmp_path_factory.mktemp("site-build") / "site"
    seconds = load_script("build_site").build(out)
    RESULTS["site_build_seconds"] = round(seconds, 1)
    RESULTS["site_bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    write_results()
    return out


# Text that static hosts (GitHub Pages among them) send gzip-compressed to a browser that accepts it.
COMPRESSED_TYPES = ("text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                    "image/svg+xml")


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site's folder under PREFIX only (anything else is 404), quietly; text goes
    gzip-compressed where the browser accepts it, as GitHub Pages sends it."""

    _gzipped: dict[str, bytes] = {}

    def translate_path(self, path: str) -> str:
        if not path.startswith(PREFIX):
            return str(pathlib.Path(self.directory) / "__not_under_the_prefix__")
        return super().translate_path("/" + path[len(PREFIX):])

    def do_GET(self) -> None:
        path = self.translate_path(self.path.split("?", 1)[0].split("#", 1)[0])
        kind = self.guess_type(path)
        if (not os.path.isfile(path) or not kind.startswith(COMPRESSED_TYPES)
                or "gzip" not in self.headers.get("Accept-Encoding", "")):
            return super().do_GET()
        if path not in self._gzipped:
            self._gzipped[path] = gzip.compress(pathlib.Path(path).read_bytes(), 6, mtime=0)
        body = self._gzipped[path]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: pathlib.Path):
    """A threaded HTTP server of ``folder`` at http://127.0.0.1:PORT/course/ for the block."""
    handler = functools.partial(_Handler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{PREFIX}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url(site):
    chromium_or_skip()
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(base_url):
    with launched_chromium(OUT) as b:
        yield b


def open_page(browser, base_url: str, path: str, init_script: str | None = None):
    """``path`` of the site in a new context (cold cache); requests elsewhere are aborted and kept."""
    context = browser.new_context(viewport={"width": 1440, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.console_log = ConsoleLog(page)
    page.outside, page.failed = [], []
    inline = ("data:", "blob:")

    def route(r):
        if r.request.url.startswith(base_url):
            r.continue_()
        else:
            page.outside.append(r.request.url[:200])
            r.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda r: None if r.url.startswith(inline) else page.failed.append(
        f"{r.url[:200]}: {r.failure}"))
    page.on("response", lambda r: page.failed.append(f"{r.url[:200]}: HTTP {r.status}")
            if r.status >= 400 else None)
    if init_script:
        page.add_init_script(init_script)
    page.goto(base_url + path, wait_until="load")
    return page


def assert_offline_and_clean(page) -> None:
    assert not page.outside, f"requests not to the local server: {sorted(set(page.outside))}"
    assert not page.failed, f"failed requests: {page.failed}"
    errors = page.console_log.errors
    assert not errors, "the browser console logged errors:\n" + "\n".join(errors)


# --- in-page probes -----------------------------------------------------------------------

# FNV-1a over the pixels of every canvas of one figure, and the share of dark pixels.
HASH_JS = """(i) => {
  const root = document.querySelectorAll('.cw')[i];
  let h = 2166136261 >>> 0, dark = 0, n = 0;
  for (const c of root.querySelectorAll('canvas')) {
    const words = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
    for (let k = 0; k < words.length; k++) {
      h = Math.imul(h ^ words[k], 16777619) >>> 0;
      if ((words[k] & 0xff) < 200) dark++;
    }
    n += words.length;
  }
  return {hash: h, dark: n ? dark / n : 0, canvases: root.querySelectorAll('canvas').length};
}"""

# Text nodes with a '$' outside code, MathJax's output and the figures' scripts: LaTeX left raw.
RAW_DOLLARS_JS = """() => {
  const out = [];
  const root = document.querySelector('article') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.includes('$')) continue;
    if (n.parentElement.closest('pre, code, script, style, mjx-container, textarea')) continue;
    out.push(n.textContent.trim().slice(0, 160));
  }
  return out;
}"""

# Every formula typeset: each .math element holds MathJax's output and no error.
MATH_DONE_JS = """() => {
  const math = document.querySelectorAll('article .math');
  const done = Array.from(math).filter((m) => m.querySelector('mjx-container'));
  return {math: math.length, done: done.length,
          errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length};
}"""

WIDGETS_LIVE_JS = """(n) => document.querySelectorAll('img.lessons-widget-picture').length === 0
  && Array.from(document.querySelectorAll('.cw'))
       .filter((r) => r.__courseWidget && r.__courseWidget.drawn).length === n"""

KIND_JS = "(i) => document.querySelectorAll('.cw')[i].__courseWidget.model.get('kind')"
WIDTH_JS = "(i) => document.querySelectorAll('.cw')[i].getBoundingClientRect().width"

# Bytes over the wire (transferSize: headers and the compressed body) and after decompression.
PAGE_BYTES_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const sum = (key) => nav[key] + res.reduce((s, r) => s + r[key], 0);
  return {transferred: sum('transferSize'), decoded: sum('decodedBodySize'), requests: res.length + 1};
}"""


FIGURES_SHOWN_JS = """() => ({pictures: document.querySelectorAll('img.lessons-widget-picture').length,
  live: Array.from(document.querySelectorAll('.cw')).filter((r) => r.__courseWidget?.drawn).length})"""
MATH_AT_REST_JS = "() => document.documentElement.dataset.mathTypeset === 'done'"


def check_lesson_navigation_and_choices(page, base_url: str, lesson: str) -> None:
    """Previous/next in lesson order, a table of contents, and the run box: the notebook to
    download (served, the committed bytes), Binder's link from the repository setting, the
    README's two commands opening this lesson."""
    k = LESSONS.index(lesson)
    prev_href = page.locator("a.left-prev").get_attribute("href") if k else None
    next_href = page.locator("a.right-next").get_attribute("href")
    assert prev_href == (f"{LESSONS[k - 1]}.html" if k else None), prev_href
    assert next_href == (f"{LESSONS[k + 1]}.html" if k + 1 < len(LESSONS) else "instructors_guide.html")
    assert page.locator("nav#pst-page-toc-nav a").count() >= 3, f"{lesson}: no table of contents"
    box = page.locator("aside.course-run")
    assert box.count() == 1, f"{lesson}: no run box"
    download = box.locator("a.course-download")
    assert download.get_attribute("download") == f"mine_{lesson}.ipynb"  # as the README says to save it
    body = page.request.get(base_url + download.get_attribute("href")).body()
    committed = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
    download_nb = nbformat.reads(body.decode(), as_version=4)
    assert download_nb == student_copy(committed), f"{lesson}: download differs"
    assert box.locator("a.course-binder").get_attribute("href") == course_site().binder_url(lesson)
    commands = [c.text_content() for c in box.locator("pre.course-run-command").all()]
    readme = course_site().readme_commands()
    assert commands[1] == readme["open-command"].replace("00_start_here", lesson)
    assert commands[2] == readme["test-command"]


def wait_until_live(page, name: str, expected: int) -> None:
    """Wait until the page's ``expected`` figures have replaced their pictures and drawn."""
    try:
        page.wait_for_function(WIDGETS_LIVE_JS, arg=expected, timeout=20_000)
    except Exception as exc:  # playwright's TimeoutError: say what is missing
        found = page.evaluate(FIGURES_SHOWN_JS)
        raise AssertionError(
            f"{name}: {expected} live figures expected; the page shows {found['live']} live and "
            f"{found['pictures']} still pictures; console: {page.console_log.errors}") from exc


def move_first_slider(page, i: int) -> dict:
    """ArrowRight (ArrowLeft at the end) on figure ``i``'s first slider; wait for changed pixels."""
    before = page.evaluate(HASH_JS, i)["hash"]
    slider = page.locator(".cw").nth(i).locator("input[type=range]").first
    label = slider.get_attribute("aria-label")
    at_end = slider.evaluate("(s) => s.valueAsNumber >= Number(s.max)")
    slider.focus()
    page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
    try:
        page.wait_for_function(f"([i, h]) => ({HASH_JS})(i).hash !== h", arg=[i, before], timeout=5_000,
                               polling="raf")
    except Exception as exc:  # playwright's TimeoutError
        raise AssertionError(f"figure {i}: moving its slider {label!r} did not change the picture") from exc
    return {"slider": label}


# --- the build (no browser needed) --------------------------------------------------------

def test_site_has_every_page_at_its_root(site):
    """index.html at the root, a page per lesson and the instructor's guide, search, .nojekyll
    (GitHub Pages serves _static/ as it is); Sphinx's caches stay outside the site."""
    for page in [*PAGES, "search"]:
        assert (site / f"{page}.html").is_file(), page
    assert (site / ".nojekyll").is_file() and (site / "searchindex.js").is_file()
    assert not (site / ".doctrees").exists() and not (site / "jupyter_execute").exists()


def test_each_lessons_download_is_the_students_copy(site):
    """The download is the committed notebook as nbgrader releases it: no solution, no hidden test,
    no check's output; the lesson's other cells and outputs as committed."""
    for lesson in LESSONS:
        committed = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
        download = nbformat.read(site / "_sources" / f"{lesson}.ipynb", as_version=4)
        assert download == student_copy(committed), lesson
        assert len(download.cells) == len(committed.cells), lesson
        text = nbformat.writes(download)
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, lesson


def test_no_page_shows_a_solution_a_hidden_test_or_a_checks_verdict(site):
    for lesson in LESSONS:
        page = (site / f"{lesson}.html").read_text()
        for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "Correct: "):
            assert secret not in page, f"{lesson}.html shows {secret!r}"
        if "_answer" in (ROOT / "notebooks" / f"{lesson}.ipynb").read_text():
            assert "YOUR CODE HERE" in page, lesson


def test_site_references_nothing_outside_itself(site):
    """No page, script or stylesheet names another host for something to load (links to GitHub and
    Binder are links, not loads); MathJax is the course's vendored copy."""
    load = re.compile(r"""<(?:script|img|iframe|link)\b[^>]*\b(?:src|href)=["'](https?:)?//""", re.I)
    for page in site.glob("*.html"):
        text = page.read_text()
        bad = [m.group(0)[:120] for m in load.finditer(text) if "rel=\"canonical\"" not in m.group(0)]
        assert not bad, f"{page.name} loads from the network: {bad}"
        assert "require.js" not in text and "embed-amd" not in text and "unpkg" not in text, page.name
    for css in site.rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css.read_text()), css.name
    cs = course_site()
    assert (site / "_static" / cs.MATHJAX_PATH).read_bytes() == vendored_mathjax()
    start = site / "_static" / cs.MATHJAX_START
    assert f'"{pathlib.PurePosixPath(cs.MATHJAX_PATH).name}"' in start.read_text()
    loads = f'src="_static/{cs.MATHJAX_START}'
    lessons_loading_it = [p for p in LESSONS if loads in (site / f"{p}.html").read_text()]
    assert lessons_loading_it == LESSONS


def vendored_mathjax() -> bytes:
    """The course's one copy of MathJax (the nbconvert template's), decompressed."""
    import base64
    import gzip

    return gzip.decompress(base64.b64decode(course_site().MATHJAX_SOURCE.read_text()))


def test_readmes_binder_link_is_made_from_the_repository_setting():
    """One place for the repository's address (pyproject's [project.urls] Repository): the README's
    Binder link is the one the site makes for lesson 00."""
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", readme)
    assert links and set(links) == {course_site().binder_url("00_start_here")}


def test_site_command_follows_its_marker_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- site-command -->\s*\n```\w*\n([^\n]+)\n```", readme)
    assert block, "README.md has no code block after <!-- site-command -->"
    assert block.group(1).endswith("python scripts/build_site.py")
    commands = course_site().readme_commands()
    assert commands["test-command"].endswith("python -m pytest")
    assert commands["open-command"].endswith("jupyter lab notebooks/00_start_here.ipynb")


def test_pages_workflow_builds_with_the_site_command():
    """The GitHub Pages workflow runs the README's site command as written and deploys _build/site."""
    import subprocess

    import yaml

    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    steps = flow["jobs"]["build"]["steps"]
    script = next(s["run"] for s in steps if "site-command" in s.get("run", ""))
    extract = script.splitlines()[0].removeprefix("cmd=$(").removesuffix(")")
    found = subprocess.run(["bash", "-c", extract], cwd=ROOT, capture_output=True, text=True, check=True)
    readme = (ROOT / "README.md").read_text()
    assert found.stdout.strip() == re.search(r"<!-- site-command -->\s*\n```\w*\n([^\n]+)\n", readme).group(1)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/site"
    names = [s.get("name", s.get("uses", "")) for s in steps]
    address = next(i for i, s in enumerate(steps) if "github.repository" in s.get("run", ""))
    tested = next(i for i, s in enumerate(steps) if "tests/test_site.py" in s.get("run", ""))
    assert address < names.index(next(n for n in names if n.startswith("Build the site"))) < tested
    assert tested < names.index("actions/upload-pages-artifact@v3"), "the site is published untested"


def test_the_workflows_address_step_replaces_the_placeholder(tmp_path):
    """The workflow's step run on a copy of pyproject.toml and the README: the placeholder becomes
    the repository GitHub names, and the site's links follow."""
    import subprocess

    import yaml

    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    step = next(s["run"] for s in flow["jobs"]["build"]["steps"] if "github.repository" in s.get("run", ""))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    assert 'Repository = "https://github.com/OWNER/REPO"' in (tmp_path / "pyproject.toml").read_text()
    script = step.replace("${{ github.repository }}", "course-team/momentum-course")
    subprocess.run(["bash", "-ec", script], cwd=tmp_path, check=True)
    pyproject = (tmp_path / "pyproject.toml").read_text()
    assert 'Repository = "https://github.com/course-team/momentum-course"' in pyproject
    assert "mybinder.org/v2/gh/course-team/momentum-course/HEAD" in (tmp_path / "README.md").read_text()
    assert "OWNER/REPO/" not in (tmp_path / "README.md").read_text()


def test_bad_input_names_the_parameter():
    cs = course_site()
    with pytest.raises(ValueError, match="lesson"):
        cs.binder_url("../etc")
    with pytest.raises(ValueError, match="out"):
        load_script("build_site").build(ROOT)


def test_a_folder_that_is_not_an_earlier_build_is_never_deleted(tmp_path):
    """``--out`` naming the user's own folder (or beside it, ``<out>-src``) is refused, untouched."""
    build = load_script("build_site").build
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "chapter1.tex").write_text("precious")
    with pytest.raises(ValueError, match="out: .*thesis exists and is not an earlier build"):
        build(mine)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes-src").mkdir()
    (tmp_path / "notes-src" / "draft.md").write_text("precious too")
    with pytest.raises(ValueError, match="notes-src exists and is not an earlier build"):
        build(tmp_path / "notes")
    assert (mine / "chapter1.tex").read_text() == "precious"
    assert (tmp_path / "notes-src" / "draft.md").read_text() == "precious too"


# --- every page in Chromium -----------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("name", PAGES)
def test_page_offline(browser, base_url, name):
    """The page loads from the local server alone, typesets its LaTeX, and every figure it stores
    is live: drawn where its picture was, and drawn again when a slider moves. A lesson's page
    also links its neighbours and offers the reader's choices (check_lesson_navigation_and_choices)."""
    page = open_page(browser, base_url, f"{name}.html")
    try:
        expected = widget_count(name) if name in LESSONS else 0
        wait_until_live(page, name, expected)
        try:
            math = page.wait_for_function(
                f"() => {{ const s = ({MATH_DONE_JS})(); return s.done === s.math ? s : null; }}",
                timeout=30_000).json_value()
        except Exception as exc:  # playwright's TimeoutError: say how far MathJax got
            raise AssertionError(f"{name}: formulas not typeset: {page.evaluate(MATH_DONE_JS)}; "
                                 f"requests elsewhere: {page.outside}; failed: {page.failed}") from exc
        assert math["errors"] == 0, f"{name}: MathJax reports {math['errors']} errors"
        if name in LESSONS:
            assert math["math"] > 0, f"{name}: no formula found"
        assert page.evaluate(RAW_DOLLARS_JS) == [], f"{name}: LaTeX left untypeset"
        bytes_ = page.evaluate(PAGE_BYTES_JS)
        figures = []
        for i in range(expected):
            drawn = page.evaluate(HASH_JS, i)
            kind = page.evaluate(KIND_JS, i)
            assert drawn["canvases"] > 0 and drawn["dark"] > 0.01, f"{name}: figure {i} ({kind}) is blank"
            width = page.evaluate(WIDTH_JS, i)
            assert width >= 560, f"{name}: figure {i} is {width:.0f} px wide"
            moved = move_first_slider(page, i)
            figures.append({"kind": kind, **moved})
            page.locator(".cw").nth(i).scroll_into_view_if_needed()
            page.screenshot(path=str(OUT / f"{name}-figure-{i}.png"))
        if name in LESSONS:
            check_lesson_navigation_and_choices(page, base_url, name)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(OUT / f"{name}.png"))
        RESULTS.setdefault("site_page_bytes", {})[name] = bytes_
        RESULTS.setdefault("site_figures", {})[name] = figures
        write_results()
        assert bytes_["transferred"] <= PAGE_BYTES_GOAL, (name, bytes_)
        assert_offline_and_clean(page)
    finally:
        page.context.close()


@pytest.mark.browser
def test_search_finds_a_term_of_lesson_03(browser, base_url):
    lesson = "03_momentum"
    nb = nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
    assert any(SEARCH_TERM in c.source.lower() for c in nb.cells if c.cell_type == "markdown")
    page = open_page(browser, base_url, f"search.html?q={SEARCH_TERM}")
    try:
        results = page.locator("#search-results ul.search li a")
        results.first.wait_for(timeout=20_000)
        page.wait_for_function("() => !document.querySelector('#search-progress') || "
                               "!document.querySelector('#search-progress').textContent.includes('Preparing')")
        hrefs = [a.get_attribute("href") for a in results.all()]
        assert any(h.split("?")[0].split("#")[0].endswith(f"{lesson}.html") for h in hrefs), hrefs
        page.screenshot(path=str(OUT / "search.png"))
        assert_offline_and_clean(page)
    finally:
        page.context.close()


@pytest.mark.browser
def test_play_and_a_click_work_on_lesson_03s_explorer(browser, base_url):
    """Besides the sliders: Play animates the steps (the picture changes, and the animation ends)
    and a click on the contour plot moves the start point."""
    page = open_page(browser, base_url, "03_momentum.html")
    try:
        wait_until_live(page, "03_momentum", widget_count("03_momentum"))
        i = first_explorer(page)
        root = page.locator(".cw").nth(i)
        root.scroll_into_view_if_needed()
        before = page.evaluate(HASH_JS, i)["hash"]
        play = root.get_by_role("button", name=re.compile("Play"))
        play.click()
        page.wait_for_function(f"([i, h]) => ({HASH_JS})(i).hash !== h", arg=[i, before], timeout=5_000)
        root.get_by_role("button", name=re.compile("Play")).wait_for(timeout=30_000)  # the animation ended
        start_x = root.locator("input[aria-label='start x']")
        old = start_x.input_value()
        canvas = root.locator("canvas").first
        box = canvas.bounding_box()
        canvas.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.3})
        page.wait_for_function("([i, old]) => document.querySelectorAll('.cw')[i]"
                               ".querySelector(\"input[aria-label='start x']\").value !== old", arg=[i, old])
        root.screenshot(path=str(OUT / "03_momentum-after-play-and-click.png"))
        assert_offline_and_clean(page)
    finally:
        page.context.close()


# --- figures for benchmarks/run.py ------------------------------------------------------------

# Installed before the page's own scripts: from navigation start, each animation frame looks for
# the first explorer that has drawn; then a key on its momentum slider and frames until the
# pixels change. performance.now() counts from the navigation's start.
FIRST_INTERACTIVE_JS = """(() => {
  const probe = window.__firstInteractive = {};
  const hash = (root) => {
    let h = 2166136261 >>> 0;
    for (const c of root.querySelectorAll('canvas')) {
      const words = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height).data.buffer);
      for (let k = 0; k < words.length; k++) h = Math.imul(h ^ words[k], 16777619) >>> 0;
    }
    return h;
  };
  const look = () => {
    const root = Array.from(document.querySelectorAll('.cw')).find((r) => r.__courseWidget
      && r.__courseWidget.drawn && r.__courseWidget.model.get('kind') === 'explorer');
    if (!root) return requestAnimationFrame(look);
    probe.drawnMs = performance.now();
    const before = hash(root);
    const input = root.querySelector("input[aria-label='momentum']");
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
    const tick = () => {
      if (hash(root) !== before) probe.movedMs = performance.now();
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(look);
})();"""

FIRST_INTERACTIVE_DONE_JS = "() => window.__firstInteractive.movedMs && window.__firstInteractive"



def first_explorer(page) -> int:
    kinds = page.evaluate("() => Array.from(document.querySelectorAll('.cw')).map((r) => "
                          "r.__courseWidget.model.get('kind'))")
    assert "explorer" in kinds, kinds
    return kinds.index("explorer")


@pytest.mark.browser
def test_site_first_interactive(browser, base_url):
    """Navigation start to lesson 03's explorer drawn again after a key on its momentum slider,
    cold cache (a new browser context), local server."""
    samples = []
    for _ in range(3):
        page = open_page(browser, base_url, "03_momentum.html", init_script=FIRST_INTERACTIVE_JS)
        try:
            probe = page.wait_for_function(FIRST_INTERACTIVE_DONE_JS, timeout=30_000)
            samples.append(probe.json_value())
            assert_offline_and_clean(page)
        finally:
            page.context.close()
    moved = sorted(s["movedMs"] for s in samples)
    RESULTS["site_first_interactive_ms"] = round(float(np.median(moved)), 1)
    RESULTS["site_first_interactive_samples_ms"] = [round(s["movedMs"], 1) for s in samples]
    RESULTS["site_first_drawn_ms"] = round(float(np.median([s["drawnMs"] for s in samples])), 1)
    write_results()
    # a guard against a regression on a busy machine; the goal (2,000 ms) is judged in benchmarks/run.py
    assert RESULTS["site_first_interactive_ms"] <= FIRST_INTERACTIVE_GUARD_MS, RESULTS


@pytest.mark.browser
def test_site_slider_to_pixels(browser, base_url):
    """60 key presses on lesson 03's explorer's momentum slider, spread over the display frame's
    phase: keydown to the first animation frame whose canvas differs."""
    page = open_page(browser, base_url, "03_momentum.html")
    try:
        wait_until_live(page, "03_momentum", widget_count("03_momentum"))
        # the page at rest: every formula typeset (start.js typesets after the figures have started)
        page.wait_for_function(MATH_AT_REST_JS, timeout=60_000)
        i = first_explorer(page)
        page.locator(".cw").nth(i).scroll_into_view_if_needed()
        page.evaluate(KEY_TO_PIXELS_PROBE_JS, i)
        page.locator(".cw").nth(i).locator("input[aria-label='momentum']").focus()
        for k in range(PRESSES):
            page.evaluate("(ms) => window.__probe.arm(ms)", (7 * k) % 17)
            page.keyboard.press("ArrowLeft" if k % 20 < 10 else "ArrowRight")
            page.wait_for_function("(n) => window.__probe.samples.length === n", arg=k + 1, timeout=10_000)
        samples = page.evaluate("() => window.__probe.samples")
        RESULTS["site_slider_to_pixels_ms"] = {
            "p50": round(float(np.percentile(samples, 50)), 2),
            "p95": round(float(np.percentile(samples, 95)), 2),
            "max": round(max(samples), 2), "presses": len(samples),
            "widget": "lesson 03's first trajectory explorer", "slider": "momentum"}
        write_results()
        page.screenshot(path=str(OUT / "03_momentum-after-presses.png"))
        assert len(samples) == PRESSES
        assert RESULTS["site_slider_to_pixels_ms"]["p50"] <= 50, RESULTS  # a guard; the goal is in benchmarks
        assert_offline_and_clean(page)
    finally:
        page.context.close()
