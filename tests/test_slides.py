"""Every lesson as reveal.js slides that work offline; the slide-type rule (lessons_lib.slides).

``jupyter nbconvert --to slides`` uses the course's template in the course's environment
(jupyter/nbconvert/templates/lessons_slides: reveal.js and MathJax inlined). The tests build every
lesson's deck, check that none refers to the network, and open lesson 03's deck in Chromium from
disk with every other request refused: a figure fills a slide, LaTeX is typeset, no request
leaves the page and the console stays clean. Screenshots go to test-artifacts/browser/slides/.
"""

from __future__ import annotations

import copy
import pathlib
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from browser_support import ARTIFACTS, ConsoleLog, launched_chromium

from conftest import NOTEBOOKS
from lessons_lib import slides

LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
DECK = "03_momentum"
OUT = ARTIFACTS / "slides"


def md(source: str):
    return nbformat.v4.new_markdown_cell(source)


def code(source: str, outputs=(), **metadata):
    cell = nbformat.v4.new_code_cell(source, metadata=metadata)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


FIGURE = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
          "metadata": {}}
PRINTED = {"output_type": "stream", "name": "stdout", "text": "ok\n"}


@pytest.mark.parametrize(("cell", "first_code", "expected"), [
    (md("# Lesson 03: Momentum"), False, "slide"),
    (md("## 4. One eigen-component"), False, "slide"),
    (md("### Try it\n\nDrag the slider."), False, "subslide"),
    (md("So the rate is the larger root."), False, "subslide"),
    (code("import numpy as np"), True, "skip"),
    (code("answer_1 = 0.5", nbgrader={"solution": True}), False, "skip"),
    (code("checks.momentum.complex_rate(answer_1)", nbgrader={"grade": True}), False, "skip"),
    (code("plt.plot(x)\nplt.show()", [FIGURE]), False, "subslide"),
    (code("x = f(2)\nassert abs(x - 4) < 1e-12\nprint(x)", [PRINTED]), False, "fragment"),
    (code("def f(x):\n    return x * x"), False, "-"),
])
def test_the_rule(cell, first_code, expected):
    assert slides.slide_type(cell, first_code) == expected


def test_a_cell_without_a_type_is_refused():
    with pytest.raises(ValueError, match="cell"):
        slides.slide_type({"source": "x"}, False)


def test_overrides_win_and_must_name_a_cell(monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[md("# Title"), code("import x"), md("Prose")])
    monkeypatch.setitem(slides.OVERRIDES, "demo", {"Prose": "notes"})
    assert [c.metadata["slideshow"]["slide_type"] for c in slides.mark(nb, "demo").cells] == [
        "slide", "skip", "notes"]
    monkeypatch.setitem(slides.OVERRIDES, "demo", {"No such cell": "skip"})
    with pytest.raises(ValueError, match="OVERRIDES"):
        slides.mark(nb, "demo")
    monkeypatch.setitem(slides.OVERRIDES, "demo", {"Prose": "sideways"})
    with pytest.raises(ValueError, match="OVERRIDES"):
        slides.mark(nb, "demo")


def test_every_override_names_a_lesson_and_one_cell():
    for name, table in slides.OVERRIDES.items():
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        for first_line in table:
            assert sum(c.source.split("\n", 1)[0] == first_line for c in nb.cells) == 1, (name, first_line)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_stored_slide_types_are_the_rules(path):
    """The committed notebook carries the slide types the rule gives (rebuild it if not), and its
    twin carries none (jupytext's cell_metadata_filter leaves them out)."""
    nb = nbformat.read(path, as_version=4)
    stored = [c.metadata.get("slideshow", {}).get("slide_type") for c in nb.cells]
    marked = slides.mark(copy.deepcopy(nb), path.stem)
    expected = [c.metadata["slideshow"]["slide_type"] for c in marked.cells]
    assert stored == expected, f"{path.name}: run python scripts/build_notebooks.py {path.stem}"
    assert "slideshow=" not in path.with_suffix(".py").read_text()
    kinds = set(stored)
    assert {"slide", "subslide", "skip"} <= kinds, kinds


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    """Every lesson's deck, written by `jupyter nbconvert --to slides`: two runs side by side (one
    per core when nothing else runs; under the test command the other test worker runs beside them),
    each converting half the lessons (halves of about equal notebook size)."""
    out = tmp_path_factory.mktemp("slides")
    halves: list[list[pathlib.Path]] = [[], []]
    for path in sorted(LESSONS, key=lambda p: p.stat().st_size, reverse=True):
        min(halves, key=lambda h: sum(p.stat().st_size for p in h)).append(path)

    def convert(half: list[pathlib.Path]) -> None:
        subprocess.run([sys.executable, "-m", "nbconvert", "--to", "slides", "--output-dir", str(out),
                        *map(str, half)], check=True, capture_output=True, timeout=900)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(convert, halves))
    return {p.stem: out / f"{p.stem}.slides.html" for p in LESSONS}


@pytest.mark.parametrize("name", [p.stem for p in LESSONS])
def test_every_lesson_has_a_deck_that_loads_nothing_from_the_network(decks, name):
    html = decks[name].read_text()
    assert "Reveal.initialize" in html and "lessons-mathjax" in html
    loads = re.findall(r"""<(?:script|link|img|iframe)[^>]*(?:src|href)=["']?(https?:|//)""", html, re.I)
    assert not loads, f"{name}: the deck loads {loads}"
    assert "import mermaid" not in html and "require.js" not in html and "unpkg.com" not in html
    assert html.count("<section") >= 10, f"{name}: fewer than ten slides"


@pytest.fixture(scope="module")
def deck_page(decks):
    """Lesson 03's deck in Chromium, opened from disk, every other request refused and recorded."""
    with launched_chromium(OUT) as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.console_log = ConsoleLog(page)
        page.network = []
        page.failed = []
        local = ("file:", "blob:", "data:")
        page.on("request", lambda r: None if r.url.startswith(local) else page.network.append(r.url))
        page.on("requestfailed", lambda r: page.failed.append(r.url[:200]))
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        page.goto(decks[DECK].as_uri())
        page.wait_for_function("typeof Reveal !== 'undefined' && Reveal.isReady()")
        page.wait_for_function("document.querySelectorAll('mjx-container svg').length > 20")
        yield page
        context.close()


def _go_to_first_slide_with(page, selector: str) -> dict:
    """Navigate to the first slide (horizontal, vertical) that holds ``selector``; its indices."""
    where = page.evaluate("""(sel) => {
        for (const s of document.querySelectorAll('.reveal .slides section')) {
            if (s.querySelector('section')) continue;  // a stack of vertical slides: look inside
            if (s.querySelector(sel)) return Reveal.getIndices(s);
        }
        return null; }""", selector)
    assert where is not None, f"no slide holds {selector}"
    page.evaluate("([h, v]) => Reveal.slide(h, v, 99)", [where["h"], where["v"] or 0])
    page.wait_for_timeout(1000)  # the slide transition
    return where


def _visible_in_viewport(page, selector: str) -> dict:
    return page.evaluate("""(sel) => {
        const el = Reveal.getCurrentSlide().querySelector(sel);
        const r = el.getBoundingClientRect(), style = getComputedStyle(el);
        return {w: r.width, h: r.height, left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                vw: innerWidth, vh: innerHeight,
                visible: style.visibility === 'visible' && style.opacity !== '0',
                natural: el.naturalWidth || 0}; }""", selector)


@pytest.mark.browser
def test_a_figure_fills_a_slide_offline(deck_page):
    page = deck_page
    _go_to_first_slide_with(page, ".jp-OutputArea-output img")
    box = _visible_in_viewport(page, ".jp-OutputArea-output img")
    assert box["visible"] and box["natural"] > 0, box
    assert 0 <= box["left"] and box["right"] <= box["vw"], box
    assert 0 <= box["top"] and box["bottom"] <= box["vh"], box
    assert box["w"] >= 0.6 * box["vw"], f"the figure is not full size: {box}"
    page.screenshot(path=str(OUT / "figure-slide.png"))
    assert not page.network and not page.failed, (page.network, page.failed)
    assert not page.console_log.errors, page.console_log.errors


@pytest.mark.browser
def test_latex_is_typeset_on_a_slide_offline(deck_page):
    page = deck_page
    _go_to_first_slide_with(page, ".jp-RenderedMarkdown mjx-container")
    box = _visible_in_viewport(page, "mjx-container svg")
    assert box["visible"] and box["w"] > 5 and box["h"] > 5, box
    current = page.evaluate("() => Reveal.getCurrentSlide().innerText")
    assert "\\eta" not in current and "\\beta" not in current and "$" not in current, current[:500]
    assert page.locator("mjx-merror, [data-mjx-error]").count() == 0
    page.screenshot(path=str(OUT / "latex-slide.png"))
    assert not page.network and not page.failed, (page.network, page.failed)
    assert not page.console_log.errors, page.console_log.errors
