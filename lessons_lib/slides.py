"""Slide types for the lessons: one rule, applied when a notebook is built.

``jupyter nbconvert --to slides`` (and RISE-like slideshow tools) read each cell's
``metadata.slideshow.slide_type``. ``scripts/build_notebooks.py`` sets it on every cell of a
lesson with :func:`mark`, from this rule (the first that applies):

* a markdown cell opening with ``#`` or ``##`` (the title, a section) starts a new **slide**;
* any other markdown cell starts a **subslide** (one idea a slide: the lessons' markdown cells
  each carry one step of the argument, and the code after one belongs to it);
* the setup cell (the first code cell) and the exercises' answer and check cells (nbgrader
  cells: no solutions on a lecture slide) are **skip**;
* a code cell that shows a figure (a PNG, or a course widget) starts a **subslide**, so the
  figure gets a slide of its own at full size (the slides template folds long code away);
* a code cell that verifies a formula (it ``assert``\\s) is a **fragment**: it appears on the next
  key press, after the claim it checks;
* any other code cell continues the slide (``-``).

:data:`OVERRIDES` names the cells where a lesson wants otherwise, by the first line of the
cell's source. The twins (``notebooks/NN_name.py``) do not carry the slide types: jupytext's
``cell_metadata_filter`` leaves them out, so the rule is the one place they come from.
"""

from __future__ import annotations

from collections.abc import Mapping

import nbformat

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")

# {lesson name: {first line of a cell: slide type}}; tests/test_slides.py checks that each
# names exactly one cell and a slide type nbconvert knows.
OVERRIDES: dict[str, dict[str, str]] = {}

_FIGURE_MIMETYPES = ("image/png", "image/svg+xml", "image/jpeg")


def _shows_figure(cell: nbformat.NotebookNode) -> bool:
    for output in cell.get("outputs", []):
        data = output.get("data", {}) if isinstance(output, Mapping) else {}
        if any(m in data for m in _FIGURE_MIMETYPES):
            return True
    return False


def slide_type(cell: nbformat.NotebookNode, first_code: bool) -> str:
    """The slide type the rule gives ``cell``; ``first_code`` says whether it is the setup cell."""
    if cell.get("cell_type") not in ("markdown", "code", "raw"):
        raise ValueError(f"cell: a notebook cell with a cell_type; got {cell.get('cell_type')!r}")
    source = cell.get("source", "")
    if cell["cell_type"] == "markdown":
        head = source.lstrip()
        return "slide" if head.startswith("# ") or head.startswith("## ") else "subslide"
    if cell["cell_type"] == "raw" or first_code or "nbgrader" in cell.get("metadata", {}):
        return "skip"
    if _shows_figure(cell):
        return "subslide"
    if any(line.lstrip().startswith("assert ") for line in source.splitlines()):
        return "fragment"
    return "-"


def mark(nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """Set ``metadata.slideshow.slide_type`` on every cell of ``nb`` (lesson ``name``), in place.

    The rule above, then :data:`OVERRIDES` for ``name``. Raises ``ValueError`` if an override
    names no cell or an unknown slide type.
    """
    overrides = dict(OVERRIDES.get(name, {}))
    bad = {k: v for k, v in overrides.items() if v not in SLIDE_TYPES}
    if bad:
        raise ValueError(f"OVERRIDES[{name!r}]: slide types must be one of {SLIDE_TYPES}; got {bad}")
    first_code_seen = False
    used = set()
    for cell in nb.cells:
        first_code = cell.cell_type == "code" and not first_code_seen
        first_code_seen = first_code_seen or cell.cell_type == "code"
        kind = slide_type(cell, first_code)
        first_line = cell.source.split("\n", 1)[0]
        if first_line in overrides:
            kind = overrides[first_line]
            used.add(first_line)
        cell.metadata["slideshow"] = {"slide_type": kind}
    unused = sorted(set(overrides) - used)
    if unused:
        raise ValueError(f"OVERRIDES[{name!r}]: no cell starts with {unused}")
    return nb
