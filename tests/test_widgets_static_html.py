"""The course widgets without a kernel: the HTML in each widget's output, and stored notebooks.

A course widget's display bundle carries, besides anywidget's widget view, a ``text/html``
entry (``CourseWidget.static_html``): a PNG of the current state as an ``<img>`` (what GitHub
and sanitized viewers show), the synced state, the ES module (gzip, base64) and a module
script that swaps the picture for the live figure where the page runs scripts (nbconvert's
HTML, the course site). tests/test_static_html_browser.py checks that page in Chromium.

nbval compares ``text/html``, so it must be the same bytes for the same state, in any
process. The stored notebooks keep it and drop the widget view (scripts/build_notebooks.py);
``test_committed_notebooks_store_no_widget_views`` checks the committed ones.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html.parser
import importlib.util
import json
import re

import nbformat
import pytest
from nbval.plugin import get_sanitize_patterns

from conftest import NOTEBOOKS, ROOT
from lessons_lib.saved_notebooks import WIDGET_VIEW
from lessons_lib.widgets import (
    ParabolaSlider,
    RateMap,
    SGDExplorer,
    SpectrumWidget,
    TrajectoryExplorer,
    _base,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def load_build_script():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Parts(html.parser.HTMLParser):
    """The elements of a widget's HTML: tag, attributes and text of each (up to its first child)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict, str]] = []
        self.in_text = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs), ""))
        self.in_text = tag != "img"

    def handle_endtag(self, tag):
        self.in_text = False

    def handle_data(self, data):
        if self.in_text:
            tag, attrs, text = self.elements[-1]
            self.elements[-1] = (tag, attrs, text + data)

    def one(self, tag: str, cls: str | None = None) -> tuple[dict, str]:
        found = [(a, t) for g, a, t in self.elements if g == tag and (cls is None or a.get("class") == cls)]
        assert len(found) == 1, (tag, cls, len(found))
        return found[0]


def widgets():
    yield TrajectoryExplorer("rosenbrock", steps=300)
    yield RateMap(grid=60)
    yield SGDExplorer(steps=200)
    yield ParabolaSlider(0.7)
    yield SpectrumWidget(n=6, steps=200)


@pytest.fixture(scope="module", params=["explorer", "rate_map", "sgd", "parabola", "spectrum"])
def shown(request):
    """A widget and its display bundle."""
    widget = {w.kind: w for w in widgets()}[request.param]
    data, _ = widget._repr_mimebundle_()
    return widget, data


def test_bundle_has_the_widget_html_png_and_text(shown):
    widget, data = shown
    assert set(data) == {WIDGET_VIEW, "text/html", "image/png", "text/plain"}
    parts = Parts(data["text/html"])
    assert parts.elements[0] == ("div", {"class": "lessons-widget"}, "\n")
    img, _ = parts.one("img")
    assert img["class"] == "lessons-widget-picture"
    assert img["src"] == "data:image/png;base64," + data["image/png"]
    assert base64.b64decode(data["image/png"]).startswith(PNG_SIGNATURE)
    assert widget._description in img["alt"] and "max-width:100%" in img["style"]
    scripts = [(a, t) for g, a, t in parts.elements if g == "script"]
    assert [a.get("type") for a, _ in scripts] == ["application/json", "text/plain", "module"]
    code = scripts[2][1]
    assert code == _base._PAGE_LOADER and "DecompressionStream" in code and "import(" in code


def test_inlined_module_is_course_widgets_js(shown):
    _, data = shown
    attrs, payload = Parts(data["text/html"]).one("script", "lessons-widget-module")
    source = _base.ESM.read_bytes()
    assert gzip.decompress(base64.b64decode(payload)) == source
    assert attrs["data-sha256"] == hashlib.sha256(source).hexdigest()


def test_saved_state_round_trips(shown):
    """The JSON in the page, with its buffers put back, is the widget's synced state as
    ipywidgets sends it; set on a new widget it gives the same figure and the same HTML."""
    widget, data = shown
    _, text = Parts(data["text/html"]).one("script", "lessons-widget-state")
    saved = json.loads(text)
    state = saved["state"]
    for path, b64 in zip(saved["buffer_paths"], saved["buffers"], strict=True):
        obj = state
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = base64.b64decode(b64)
    expected = {k: v for k, v in widget.get_state().items() if k not in {"_esm", "_css", "layout"}}
    expected["_dom_classes"] = list(expected["_dom_classes"])  # a tuple, sent as a JSON list
    assert state == expected
    if widget.kind == "sgd":  # bytes arrive in the browser as a DataView of the draws
        assert saved["buffer_paths"] == [["draws"]] and state["draws"] == widget.draws
    other = type(widget)()
    other.set_state(state)
    assert other.readout_lines() == widget.readout_lines()
    assert other.static_html(b"") == widget.static_html(b"")


def test_html_is_the_same_bytes_every_time():
    """Twice in one process and for two widgets of one state (another model id, as in nbval's
    second run): the same bytes; no model id and no reference to another model inside."""
    for a, b in zip(widgets(), widgets(), strict=True):
        first = a._repr_mimebundle_()[0]["text/html"]
        assert first == a._repr_mimebundle_()[0]["text/html"]
        assert first == b._repr_mimebundle_()[0]["text/html"]
        assert a.model_id not in first and b.model_id not in first and "IPY_MODEL_" not in first
    # the saved state's JSON is sorted and cannot close its script element
    html_text = SGDExplorer().static_html(b"")
    _, text = Parts(html_text).one("script", "lessons-widget-state")
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")).replace("<", "\\u003c")
    assert html_text.count("</script>") == 3


def test_html_follows_the_state():
    w = TrajectoryExplorer("quadratic", lr=0.3)
    before = w.static_html(b"")
    w.momentum = 0.5
    after = w.static_html(b"")
    assert before != after and '"momentum":0.5' in after


def test_nbval_sanitizer_hides_only_the_machine_dependent_bytes():
    """The PNG (fonts, zlib of matplotlib's writer) and the gzip stream (the machine's zlib)
    inside a widget's HTML are replaced; the module's SHA-256 and the state still count."""
    patterns = get_sanitize_patterns((ROOT / "tests" / "nbval_sanitize.cfg").read_text())
    data, _ = TrajectoryExplorer(steps=50)._repr_mimebundle_()

    def sanitize(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    clean = sanitize(data["text/html"])
    assert data["image/png"] not in clean and "data:image/png;base64,...\"" in clean
    _, payload = Parts(data["text/html"]).one("script", "lessons-widget-module")
    assert payload not in clean and 'type="text/plain">...</script>' in clean
    assert hashlib.sha256(_base.ESM.read_bytes()).hexdigest() in clean
    assert '"lr":0.001' in clean
    # other base64 images (a plain HTML output) are compared as they are
    other = '<img src="data:image/png;base64,iVBORw0KGgo=">'
    assert sanitize(other) == other


def test_build_script_drops_widget_views_and_writes_labs_kernelspec():
    build = load_build_script()
    spec = build.kernelspec()
    from jupyter_client.kernelspec import KernelSpecManager

    lab = KernelSpecManager().get_kernel_spec("python3")
    assert spec == {"display_name": lab.display_name, "language": lab.language, "name": "python3"}
    nb = nbformat.v4.new_notebook()
    data, _ = ParabolaSlider()._repr_mimebundle_()
    nb.cells = [nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output("display_data", data=data)])]
    build.drop_widget_views(nb)
    assert set(nb.cells[0].outputs[0].data) == {"text/html", "image/png", "text/plain"}


# --- the committed notebooks (pass once they are rebuilt with scripts/build_notebooks.py) --------

COMMITTED = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_notebooks_store_no_widget_views(path):
    """No widget state in the metadata and no widget view in any output: nbconvert's HTML then
    shows each widget's text/html (the live figure), JupyterLab the picture until the cell runs.
    Fix: python scripts/build_notebooks.py"""
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state; rebuild it"
    views = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             for o in c.get("outputs", []) if WIDGET_VIEW in o.get("data", {})]
    assert not views, f"{path.name}: cells {views} store a widget view; rebuild it"


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_notebooks_store_jupyterlabs_kernelspec(path):
    """The kernelspec JupyterLab writes, so that opening a notebook does not change it.
    Fix: python scripts/build_notebooks.py"""
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("kernelspec") == load_build_script().kernelspec()
