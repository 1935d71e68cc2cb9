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
def chromium():
    with launched_chromium(OUT) as browser:
        yield browser


@pytest.fixture(scope="module")
def deck_page(decks, chromium):
    """Lesson 03's deck in Chromium, opened from disk, every other request refused and recorded."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
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
    _open(page, decks[DECK])
    page.wait_for_function("document.querySelectorAll('mjx-container svg').length > 20")
    yield page
    context.close()


def _open(page, deck: pathlib.Path, hash_: str = "") -> None:
    """Open a deck and wait until its long slides are cut (paginate.js)."""
    page.goto(deck.as_uri() + hash_)
    page.wait_for_function("typeof Reveal !== 'undefined' && Reveal.isReady()")
    page.wait_for_function("document.documentElement.dataset.lessonsPaginated !== undefined")


# Every leaf slide (a section holding cells), shown while it is measured as paginate.js does: its
# content height, its height, how many units it holds (a cell, or a block or list item of a markdown
# cell) and its first words.
MEASURE = """() => {
    const out = [];
    document.querySelectorAll('.reveal .slides section').forEach((s) => {
        if (s.querySelector('section')) return;
        const shown = [s, s.parentNode], saved = shown.map((e) => e.style.display);
        shown.forEach((e) => { e.style.display = 'block'; });
        let units = 0, solid = 0, headings = 0;  // solid: neither a heading nor a check (fragment)
        for (const cell of s.children) {
            const md = cell.classList.contains('jp-MarkdownCell')
                && cell.querySelector('.jp-RenderedMarkdown');
            if (!md) {
                units += 1;
                solid += cell.classList.contains('fragment') ? 0 : 1;
                continue;
            }
            for (const b of md.children) {
                const n = (b.tagName === 'OL' || b.tagName === 'UL') ? b.children.length : 1;
                const heading = /^H[1-6]$/.test(b.tagName);
                units += n;
                solid += heading ? 0 : n;
                headings += heading ? 1 : 0;
            }
        }
        const zooms = [...s.children].map((c) => c.style.zoom).filter((z) => z).map(Number);
        let fitsAt75 = false;  // a slide that scrolls: would a zoom of 0.75 have fitted it?
        if (s.scrollHeight > s.clientHeight + 1) {
            const parts = [...s.children], saved = parts.map((c) => [c.style.zoom, c.style.transition]);
            parts.forEach((c) => { c.style.transition = 'none'; c.style.zoom = '0.75'; });
            fitsAt75 = s.scrollHeight <= s.clientHeight + 1;
            parts.forEach((c, i) => { c.style.zoom = saved[i][0]; c.style.transition = saved[i][1]; });
        }
        out.push({content: s.scrollHeight, height: s.clientHeight, units, solid, headings, zooms, fitsAt75,
                  opensWithCheck: !!s.firstElementChild?.classList.contains('fragment'),
                  continued: s.classList.contains('lessons-continued'),
                  text: s.innerText.trim().slice(0, 60)});
        shown.forEach((e, i) => { e.style.display = saved[i]; });
    });
    return out; }"""

BLOCKS = ("p", "li", "h1", "h2", "h3", "h4", "table", "img", "pre", "details")


def _blocks_in_page(page) -> dict:
    return page.evaluate("""(tags) => {
        const slides = document.querySelector('.reveal .slides'), counts = {};
        for (const t of tags) {
            counts[t] = slides.querySelectorAll(t === 'img' ? '.jp-RenderedImage > img' : t).length;
        }
        counts.headings = [...slides.querySelectorAll('h1, h2, h3, h4')].map((h) => h.id);
        return counts; }""", list(BLOCKS))


def _blocks_in_file(deck: pathlib.Path) -> dict:
    """The same counts and heading order from the deck's HTML as nbconvert wrote it (figures: the
    images of image outputs; a widget's picture gives way to the live widget)."""
    from html.parser import HTMLParser

    class Counter(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth, self.counts, self.parent = 0, {t: 0 for t in BLOCKS}, ""
            self.counts["headings"] = []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "div" and attrs.get("class") == "slides":
                self.depth = 1
            elif self.depth and tag == "div":
                self.depth += 1
            in_figure = tag != "img" or "jp-RenderedImage" in self.parent.split()
            self.parent = attrs.get("class") or "" if tag == "div" else self.parent
            if self.depth and tag in BLOCKS and in_figure:
                self.counts[tag] += 1
                if tag in ("h1", "h2", "h3", "h4"):
                    self.counts["headings"].append(attrs.get("id"))

        def handle_endtag(self, tag):
            if self.depth and tag == "div":
                self.depth -= 1

    counter = Counter()
    counter.feed(deck.read_text())
    return counter.counts


def _too_tall(measured: list[dict]) -> list[dict]:
    return [m for m in measured if m["content"] > m["height"] + 1]


def _cut_well(measured: list[dict]) -> list[str]:
    """What is wrong with a deck's cut: a slide that scrolls though it holds more than one unit that
    could go elsewhere (units other than a heading before it and checks after it), a slide that scrolls
    though a zoom of 0.75 fits it, a slide that opens with a hidden check (a blank slide until the next
    key press), a slide of headings alone, a zoom below 0.75."""
    wrong = []
    for i, m in enumerate(measured):
        if m["content"] > m["height"] + 1 and m["solid"] > 1:
            wrong.append(f"slide {i} scrolls with {m['solid']} units: {m['text']!r}")
        if m["fitsAt75"]:
            wrong.append(f"slide {i} scrolls though a zoom of 0.75 fits it: {m['text']!r}")
        if m["opensWithCheck"]:
            wrong.append(f"slide {i} opens blank (a hidden check first): {m['text']!r}")
        if m["units"] and m["headings"] == m["units"]:
            wrong.append(f"slide {i} holds headings alone: {m['text']!r}")
        if any(z < 0.75 for z in m["zooms"]):
            wrong.append(f"slide {i} is zoomed to {min(m['zooms'])}: {m['text']!r}")
    return wrong


# Every numbered list that continues one cut before it starts one past the end of that one.
LIST_NUMBERS = """() => {
    const lists = [...document.querySelectorAll('.reveal .slides ol')], wrong = [];
    lists.forEach((ol, i) => {
        if (!('lessonsContinues' in ol.dataset)) return;
        const before = lists[i - 1];
        const next = before ? before.start + before.querySelectorAll(':scope > li').length : null;
        if (ol.start !== next) wrong.push([ol.start, next, ol.innerText.slice(0, 60)]);
    });
    return {continued: lists.filter((ol) => 'lessonsContinues' in ol.dataset).length, wrong}; }"""


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


@pytest.mark.browser
def test_a_cell_too_long_for_a_slide_continues_below_it(deck_page, decks):
    """Lesson 03's deck: its long cells are cut onto the slides below them, every slide fits, and
    nothing is lost, repeated or reordered (the blocks and headings nbconvert wrote, in order)."""
    page = deck_page
    measured = page.evaluate(MEASURE)
    continued = [m for m in measured if m["continued"]]
    assert len(continued) >= 5, measured  # the title, the summary and other long cells are cut
    assert int(page.evaluate("document.documentElement.dataset.lessonsPaginated")) == len(continued)
    assert _cut_well(measured) == []
    assert _blocks_in_page(page) == _blocks_in_file(decks[DECK])
    numbers = page.evaluate(LIST_NUMBERS)
    assert numbers["continued"] >= 1 and numbers["wrong"] == [], numbers
    # the second slide of the title's stack starts where the first one stops: the goals' list goes on
    page.evaluate("Reveal.slide(0, 1)")
    page.wait_for_timeout(1000)
    current = page.evaluate("""() => { const s = Reveal.getCurrentSlide(), ol = s.querySelector('ol');
        return {continued: s.classList.contains('lessons-continued'), start: ol ? ol.start : null,
                hash: location.hash, text: s.innerText.trim().slice(0, 80)}; }""")
    assert current["continued"] and current["start"] and current["start"] > 1, current
    page.screenshot(path=str(OUT / "continued-slide.png"))
    assert not page.console_log.errors, page.console_log.errors


@pytest.mark.browser
def test_the_cut_is_the_same_at_every_window_size_and_a_slide_address_reloads(decks, chromium):
    """The deck is cut in the slide's own pixels: at 1024 x 700, 1440 x 900 and a phone's 375 x 667 (no
    scroll view) the same slides as at 1280 x 800, so the address of a continuation slide (#/0/1) opens
    that slide when loaded afresh."""
    seen = []
    for width, height in ((1280, 800), (1024, 700), (1440, 900), (375, 667)):
        page = chromium.new_context(viewport={"width": width, "height": height}).new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                   else route.abort())
        _open(page, decks[DECK], "#/0/1")
        seen.append(page.evaluate("""() => ({total: Reveal.getTotalSlides(), at: Reveal.getIndices(),
            text: Reveal.getCurrentSlide().innerText.trim().slice(0, 80)})"""))
        page.context.close()
    assert seen[0]["at"]["h"] == 0 and seen[0]["at"]["v"] == 1, seen
    assert all(s == seen[0] for s in seen), seen


@pytest.mark.browser
def test_every_deck_is_cut_so_that_only_a_single_tall_block_scrolls(decks, chromium):
    """Every lesson's deck at 1280 x 800: a slide taller than the deck holds a single unit that cannot
    be cut (a paragraph, a table or a cell), with at most the heading before it and the checks after
    it; no slide opens blank or holds headings alone; numbered lists continue their numbers; no block
    is lost."""
    scrolling = {}
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else route.abort())
    for name, deck in decks.items():
        _open(page, deck)
        measured = page.evaluate(MEASURE)
        assert _cut_well(measured) == [], name
        assert _blocks_in_page(page) == _blocks_in_file(deck), name
        assert page.evaluate(LIST_NUMBERS)["wrong"] == [], name
        scrolling[name] = len(_too_tall(measured))
    page.context.close()
    print("slides that scroll, by deck:", scrolling)


@pytest.mark.browser
def test_a_reader_who_moves_before_the_cut_stays_and_a_reloaded_slide_hides_its_checks(decks, chromium):
    """MathJax held back by 3 s (the cut waits for it): a reader who opens #/1 and presses the right
    arrow and the down arrow twice at once is on the same slide after the cut, not pulled back to 1, and
    Reveal's indices and the address are that slide's in the cut deck. And a continuation slide holding
    a check, loaded by its address, shows the check only on the next key press."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script("""(() => { const blob = Response.prototype.blob;
        Response.prototype.blob = function () {
            return new Promise((ok) => setTimeout(ok, 3000)).then(() => blob.call(this)); }; })()""")
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else route.abort())
    page.goto(decks[DECK].as_uri() + "#/1")
    page.wait_for_function("typeof Reveal !== 'undefined' && Reveal.isReady()")
    assert page.evaluate("document.documentElement.dataset.lessonsPaginated") is None  # before the cut
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")  # down the stack that the cut will lengthen
    page.keyboard.press("ArrowDown")
    seen = page.evaluate("Reveal.getCurrentSlide().innerText.trim().slice(0, 80)")
    assert page.evaluate("document.documentElement.dataset.lessonsPaginated") is None
    page.wait_for_function("document.documentElement.dataset.lessonsPaginated !== undefined")
    after = page.evaluate("""() => { const s = Reveal.getCurrentSlide(), at = Reveal.getIndices(),
        own = Reveal.getIndices(s);
        return {text: s.innerText.trim().slice(0, 80), h: at.h, v: at.v, ownH: own.h, ownV: own.v,
                hash: location.hash}; }""")
    assert after["h"] == 2 and after["text"] == seen, after  # the same slide, not pulled back
    assert (after["v"], after["h"]) == (after["ownV"], after["ownH"]), after  # Reveal's indices are its own
    assert after["hash"].startswith(f"#/2/{after['v']}") if after["v"] else after["hash"] in ("#/2", "#/2/0")
    where = page.evaluate("""() => { for (const s of document.querySelectorAll('section.lessons-continued')) {
        if (s.querySelector('.fragment')) return Reveal.getIndices(s); } return null; }""")
    assert where is not None
    context.close()
    page = chromium.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
               else route.abort())
    _open(page, decks[DECK], f"#/{where['h']}/{where['v']}")
    shown = page.evaluate("""() => ({at: Reveal.getIndices(),
        visible: Reveal.getCurrentSlide().querySelectorAll('.fragment.visible').length,
        checks: Reveal.getCurrentSlide().querySelectorAll('.fragment').length})""")
    assert (shown["at"]["h"], shown["at"]["v"]) == (where["h"], where["v"]), shown
    assert shown["checks"] >= 1 and shown["visible"] == 0, shown
    page.context.close()
