"""lessons_lib.saved_notebooks: a saved notebook keeps a widget's fallbacks, not its dangling model id."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import nbformat
import pytest

from lessons_lib import saved_notebooks
from lessons_lib.saved_notebooks import WIDGET_STATE, WIDGET_VIEW, drop_widget_views, pre_save_hook
from lessons_lib.widgets import ParabolaSlider


def notebook_with(*bundles, saved_ids=()) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output("display_data", data=b)])
                for b in bundles]
    if saved_ids:
        nb.metadata["widgets"] = {WIDGET_STATE: {"state": {i: {"state": {}} for i in saved_ids},
                                                 "version_major": 2, "version_minor": 0}}
    return json.loads(nbformat.writes(nb))  # as the server's contents manager hands it over: plain JSON


def view(model_id: str) -> dict:
    return {WIDGET_VIEW: {"model_id": model_id, "version_major": 2, "version_minor": 0}, "text/plain": "w"}


def test_a_course_widgets_output_keeps_its_fallbacks():
    data, _ = ParabolaSlider()._repr_mimebundle_()
    nb = notebook_with(data)
    assert drop_widget_views(nb) == 1
    assert set(nb["cells"][0]["outputs"][0]["data"]) == {"text/html", "image/png", "text/plain"}


def test_only_views_whose_model_the_notebook_does_not_save_are_dropped():
    nb = notebook_with(view("a"), view("b"), {"text/plain": "1"}, saved_ids=("b",))
    assert drop_widget_views(nb) == 1
    outputs = [c["outputs"][0]["data"] for c in nb["cells"]]
    assert WIDGET_VIEW not in outputs[0] and "".join(outputs[0]["text/plain"]) == "w"
    assert outputs[1][WIDGET_VIEW]["model_id"] == "b"
    assert outputs[2] == {"text/plain": ["1"]}
    assert drop_widget_views(nb) == 0  # nothing left to drop


def test_the_pre_save_hook_changes_notebooks_only():
    nb = notebook_with(view("a"))
    pre_save_hook({"type": "notebook", "content": nb}, path="x.ipynb", contents_manager=None)
    assert WIDGET_VIEW not in nb["cells"][0]["outputs"][0]["data"]
    text = {"type": "file", "content": json.dumps(notebook_with(view("a")))}
    before = dict(text)
    pre_save_hook(text, path="x.json")
    assert text == before


@pytest.mark.parametrize("bad", [None, [], "notebook", {"cells": "x"}])
def test_what_is_not_a_notebook_is_refused(bad):
    with pytest.raises(TypeError, match="nb must be a notebook"):
        drop_widget_views(bad)


def test_the_server_loads_it_as_an_extension():
    """The file `pip install -e .` installs names this module, which gives the server its hook."""
    root = pathlib.Path(__file__).resolve().parents[1]
    config = json.loads((root / "jupyter/etc/jupyter_server_config.d/lessons_lib.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"lessons_lib.saved_notebooks": True}}}
    assert saved_notebooks._jupyter_server_extension_points() == [{"module": "lessons_lib.saved_notebooks"}]
    out = subprocess.run([sys.executable, "-m", "jupyter", "server", "extension", "list"],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    listing = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)  # without colour codes
    assert re.search(r"lessons_lib\.saved_notebooks enabled", listing), listing
    assert re.search(r"lessons_lib\.saved_notebooks\s+OK", listing), listing

    class Contents:
        hooks = []

        def register_pre_save_hook(self, hook):
            self.hooks.append(hook)

    class Log:
        def info(self, *args):
            pass

    class Server:
        contents_manager = Contents()
        log = Log()

    saved_notebooks._load_jupyter_server_extension(Server())
    assert Server.contents_manager.hooks == [pre_save_hook]


def test_malformed_parts_are_passed_over_and_a_view_alone_leaves_a_line_of_text():
    nb = {"metadata": None, "cells": [
        "not a cell",
        {"outputs": None},
        {"outputs": [None, {"data": None}, {"data": {WIDGET_VIEW: "not a dict", "text/plain": "w"}},
                     {"data": {WIDGET_VIEW: {"model_id": "a"}}}]},
    ]}
    assert drop_widget_views(nb) == 2
    outputs = nb["cells"][2]["outputs"]
    assert outputs[2]["data"] == {"text/plain": "w"}
    assert outputs[3]["data"] == {"text/plain": "(a widget: run the cell to show it)"}
    nb = {"metadata": {"widgets": None}, "cells": [{"outputs": [{"data": {WIDGET_VIEW: {"model_id": "b"}}}]}]}
    assert drop_widget_views(nb) == 1


def test_html_and_slides_use_the_course_templates_and_webpdf_its_own():
    """The course's config sets the offline templates of HTML and slides (tests/test_slides.py
    tests the slides'), and leaves webpdf's."""
    root = pathlib.Path(__file__).resolve().parents[1]
    config = json.loads((root / "jupyter/etc/jupyter_nbconvert_config.json").read_text())
    assert config == {"HTMLExporter": {"template_name": "lessons"},
                      "SlidesExporter": {"template_name": "lessons_slides"},
                      "WebPDFExporter": {"template_name": "webpdf"}}
