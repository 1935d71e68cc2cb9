"""Lay out the lessons as an nbgrader course, ready for ``nbgrader generate_assignment``.

    python -m lessons_lib.nbgrader_course OUT_DIR [--course-id ID] [--notebooks DIR] [LESSON ...]

writes ::

    OUT_DIR/nbgrader_config.py                      course id, gradebook, exchange, timeouts, feedback
    OUT_DIR/source/<NN_name>/<NN_name>.ipynb        the instructor's notebook (solutions, hidden tests)
    OUT_DIR/source/<NN_name>/data/                  the data files the student's copy reads (data_files)
    OUT_DIR/exchange/                               nbgrader's exchange, for a course on one machine

One assignment per lesson, named as the notebook. The exercises are nbgrader cells already
(``tests/test_nbgrader_course.py``): each answer cell is a solution cell (``grade_id``
``exNN_K_answer``), each check after it a graded test cell (``exNN_K_check``, with points) holding
the check a student sees and, where a lucky guess could pass that, hidden tests. The config keeps
everything inside OUT_DIR: the gradebook ``gradebook.db`` and the exchange folder ``exchange/``
(for ``release_assignment``, ``collect`` and ``release_feedback`` on one machine; a JupyterHub
sets its shared folder there instead), and makes ``generate_feedback`` remove the hidden tests
(:class:`ClearHiddenTestsFromFeedback`). An existing ``nbgrader_config.py`` is kept, so re-laying
out the notebooks after a ``git pull`` does not undo an instructor's edits to it.

nbgrader's ``generate_assignment`` releases every file in an assignment's source folder, so
only the data files the student's copy reads go there (:func:`data_files`): the whole of
``notebooks/data/`` would release ``validation/lesson11_exercise4.json``, the record of how the
solution of lesson 11's exercise 4 was chosen.
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import re
import shutil
import sys

import nbformat
from jupyter_core.paths import jupyter_path
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, LockCells
from traitlets import List

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
COURSE_ID = "momentum-compression"
# The slowest cell of any lesson takes about 15 s on two cores (lesson 11's training runs);
# a marking machine under load may be several times slower.
CELL_TIMEOUT_S = 600

CONFIG = '''\
"""nbgrader's settings for this course, written by `python -m lessons_lib.nbgrader_course`.

Run nbgrader from this folder. Everything it writes stays in this folder: the gradebook
(gradebook.db) and the exchange (exchange/). On a JupyterHub, point Exchange.root at the
folder shared by the instructor and the students (nbgrader's default, which a student's
nbgrader uses when no config of theirs sets one: /usr/local/share/nbgrader/exchange).
"""

import pathlib

import nbgrader
from jupyter_core.paths import jupyter_path
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from lessons_lib.nbgrader_course import ClearHiddenTestsFromFeedback

HERE = pathlib.Path(__file__).resolve().parent

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.db_url = f"sqlite:///{{HERE / 'gradebook.db'}}"
c.Exchange.root = str(HERE / "exchange")
# autograde runs each notebook top to bottom: give the slowest lesson cell room
c.Execute.timeout = {timeout}
c.Execute.startup_timeout = 120
# generate_feedback: nbgrader's two preprocessors, then the course's, without which the feedback
# shows each check cell's hidden tests (autograde puts them back to run them)
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTestsFromFeedback]
# ... and its page typesets formulas with the course's inlined MathJax, not MathJax 2 from a CDN:
# the course's feedback/mathjax.html.j2 (installed by `pip install -e .`) first, then nbgrader's
# templates, which nbgrader adds itself only when this is not set
# (Jupyter's data folders, as nbconvert searches them: sys.prefix, a --user install, /usr/local ...)
c.HTMLExporter.extra_template_basedirs = [
    *[p for p in jupyter_path("nbconvert", "templates", "lessons_feedback") if pathlib.Path(p).is_dir()][:1],
    str(pathlib.Path(nbgrader.__file__).parent / "server_extensions" / "formgrader" / "templates"),
]
'''

_COURSE_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def lessons(notebooks: str | pathlib.Path = NOTEBOOKS) -> list[str]:
    """The lesson names (``NN_name``) of the notebooks in ``notebooks``, in order."""
    folder = pathlib.Path(notebooks)
    names = [p.stem for p in sorted(folder.glob("[0-9][0-9]_*.ipynb"))]
    if not names:
        raise ValueError(f"notebooks: no lesson notebooks (NN_name.ipynb) in {folder}")
    return names


def lay_out(out_dir: str | pathlib.Path, names: list[str] | None = None, *,
            notebooks: str | pathlib.Path = NOTEBOOKS, course_id: str = COURSE_ID) -> list[pathlib.Path]:
    """Write the nbgrader course folder ``out_dir``; returns the source notebooks written.

    Parameters
    ----------
    out_dir : the course folder (created if missing; an existing file there is refused).
    names : lessons to lay out, e.g. ``["03_momentum"]`` (default: every lesson).
    notebooks : the folder holding the instructor notebooks and ``data/``.
    course_id : nbgrader's course id: letters, digits, ``_`` and ``-``.

    Each assignment folder gets the notebook and, in ``data/``, the files :func:`data_files`
    finds for it (none: no ``data/``); an assignment's ``data/`` from an earlier run is removed
    first, so a file no longer read is not released.
    """
    out = pathlib.Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir: {out} exists and is not a folder")
    if not isinstance(course_id, str) or not _COURSE_ID_RE.match(course_id):
        raise ValueError(f"course_id: letters, digits, '_' and '-' only; got {course_id!r}")
    available = lessons(notebooks)
    names = available if names is None else list(names)
    unknown = sorted(set(names) - set(available))
    if unknown or not names:
        raise ValueError(f"names: {unknown or 'none given'}; the lessons are {', '.join(available)}")
    notebooks = pathlib.Path(notebooks)
    out.mkdir(parents=True, exist_ok=True)
    (out / "exchange").mkdir(exist_ok=True)  # nbgrader refuses an exchange folder that is not there
    config = out / "nbgrader_config.py"
    if not config.exists():
        config.write_text(CONFIG.format(course_id=course_id, timeout=CELL_TIMEOUT_S))
    written = []
    for name in names:
        folder = out / "source" / name
        folder.mkdir(parents=True, exist_ok=True)
        nb = nbformat.read(notebooks / f"{name}.ipynb", as_version=4)
        nbformat.write(nb, folder / f"{name}.ipynb")
        if (folder / "data").is_dir():  # rewritten: a file no longer read must not stay and be released
            shutil.rmtree(folder / "data")
        copy_data_files(nb, notebooks, folder)
        written.append(folder / f"{name}.ipynb")
    return written


def data_files(nb: nbformat.NotebookNode, data: str | pathlib.Path) -> list[str]:
    """The files in the folder ``data`` that the student's copy of ``nb`` reads, as paths relative
    to ``data`` (``"timings/lesson12_speed.json"``), sorted.

    The rule: a file is read when a string literal in a code cell of :func:`student_copy` of
    ``nb`` is the file's name (``"seed_claims.csv"``), its name without the extension
    (``"lesson10_finetuning"``, as ``selection.load_record`` takes it) or its path under ``data``,
    with or without ``data/`` in front (``"data/timings/lesson12_speed.json"``); a string that
    names a folder in ``data`` so (``"seeds"``) brings every file in it; so does a path ``data/...``
    that a markdown cell's text cites (``data/seeds/002_f70065683ff95f85.txt``). Solutions and hidden
    tests are not in the student's copy, so what only they name is not read. A path the code builds
    from pieces (``f"lesson{n}.json"``) is not seen.

    Raises ``ValueError`` naming ``data`` when it is not a folder, ``nb`` when a code cell (its
    IPython ``%``/``!`` lines left out) is not Python, and ``TypeError`` when ``nb`` is not a notebook.
    """
    folder = pathlib.Path(data)
    if not folder.is_dir():
        raise ValueError(f"data: {folder} is not a folder")
    strings = set()
    for index, cell in enumerate(student_copy(nb).cells):
        if cell.cell_type == "markdown":  # a path the text cites, for the reader to open
            strings |= set(re.findall(r"data/[\w./-]*\w", cell.source))
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError as error:
            raise ValueError(f"nb: code cell {index} is not Python ({error})") from None
        strings |= {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is str}
    found = set()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if {path.name, path.stem, relative, f"data/{relative}"} & strings:
            below = sorted(path.rglob("*")) if path.is_dir() else [path]
            found |= {p.relative_to(folder).as_posix() for p in below if p.is_file()}
    return sorted(found)


def copy_data_files(nb: nbformat.NotebookNode, notebooks: pathlib.Path, folder: pathlib.Path) -> None:
    """Copy into ``folder/data/`` the files of ``notebooks/data/`` that the student's copy of ``nb`` reads
    (:func:`data_files`), keeping their paths under ``data/``; nothing when ``notebooks`` has no ``data/``."""
    if (notebooks / "data").is_dir():
        for relative in data_files(nb, notebooks / "data"):
            (folder / "data" / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(notebooks / "data" / relative, folder / "data" / relative)


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student's copy of an instructor notebook, as the website and Binder's ``students/`` show it.

    A new notebook (``nb`` is not changed) in which every solution region (between ``### BEGIN
    SOLUTION`` and ``### END SOLUTION``) is nbgrader's stub (``# YOUR CODE HERE`` and ``raise
    NotImplementedError()``), every hidden test (``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN
    TESTS``) is gone, the cells are locked as nbgrader locks them (the checks not editable, no check or
    answer cell deletable: ``LockCells`` with nbgrader's defaults, not an instructor's
    ``nbgrader_config.py``), and the answer and check cells hold no outputs (a check's "Correct: ..."
    would give the answer away): nbgrader's own preprocessors (``ClearSolutions``,
    ``ClearHiddenTests``, ``LockCells``) do this as ``nbgrader generate_assignment`` does, so the cells
    are those nbgrader releases. Unlike its release, every other output is kept as stored and no
    checksums are added; jupytext's pairing (``metadata.jupytext``) is dropped, so that saving the copy
    writes no ``.py`` beside it."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be a notebook (nbformat.NotebookNode); got {type(nb).__name__}")
    copy = nbformat.reads(nbformat.writes(nbformat.from_dict(nb)), as_version=4)
    copy, resources = ClearSolutions().preprocess(copy, {})
    copy, resources = ClearHiddenTests().preprocess(copy, resources)
    copy, _ = LockCells().preprocess(copy, resources)
    copy.metadata.pop("jupytext", None)
    for cell in copy.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and grade_id.startswith("ex"):
            cell.outputs, cell.execution_count = [], None
    return copy


_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of IPython's tracebacks


class ClearHiddenTestsFromFeedback(ClearHiddenTests):
    """``nbgrader generate_feedback``'s last preprocessor (the course's ``nbgrader_config.py``).

    ``autograde`` puts each check cell's hidden tests back to run them, so nbgrader's feedback
    would show them. In each check cell (a graded cell that is not a solution: the only cells that
    hold hidden tests) this removes the hidden tests and their markers from the source, as nbgrader's
    ``ClearHiddenTests`` does for ``generate_assignment``; an error output whose traceback quotes a
    hidden-test line (a failed hidden test, or a failure next to one: IPython prints the lines
    around the failing one) becomes one line, "A hidden test failed (<exception>).", without the
    hidden test's message (it may name the hidden inputs and expected values); and a line of a
    stream output that quotes a hidden-test line (a warning prints its source line) is dropped.
    Other cells, the student's answers included, are left as they are: a student's own text may
    hold the markers. Scores come from the gradebook and are not changed."""

    # HTMLExporter configures it for every preprocessor; as in nbgrader's GetGrades, configurable
    # here, so that nbgrader does not warn "Config option `display_data_priority` not recognized"
    display_data_priority = List(["text/html", "application/pdf", "text/latex", "image/svg+xml",
                                  "image/png", "image/jpeg", "text/plain"]).tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        """Remove a check cell's hidden tests from its source and outputs; leave other cells alone."""
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        hidden, inside = [], False
        for line in cell.source.splitlines():
            inside = inside or self.begin_test_delimeter in line
            if inside and line.strip():
                hidden.append(line.strip())
            inside = inside and self.end_test_delimeter not in line
        cell, resources = super().preprocess_cell(cell, resources, cell_index)

        def quotes_hidden(text: str) -> bool:
            return any(line in _ANSI.sub("", text) for line in hidden)

        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and quotes_hidden("\n".join(output.get("traceback", []))):
                output.evalue = ""
                output.traceback = [f"A hidden test failed ({output.ename})."]
            elif output.get("output_type") == "stream":
                output.text = "".join(line for line in output.text.splitlines(keepends=True)
                                      if not quotes_hidden(line))
        return cell, resources


def main(argv: list[str] | None = None) -> int:
    """The command line (the module's docstring): lay the course out, print the notebooks written,
    and warn when a kept ``nbgrader_config.py`` lacks the feedback's preprocessors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="the course folder to write")
    parser.add_argument("lessons", nargs="*", help="lesson names, e.g. 03_momentum (default: all)")
    parser.add_argument("--course-id", default=COURSE_ID, help=f"nbgrader course id (default {COURSE_ID})")
    parser.add_argument("--notebooks", default=str(NOTEBOOKS), help="folder of the instructor notebooks")
    args = parser.parse_args(argv)
    try:
        written = lay_out(args.out_dir, args.lessons or None, notebooks=args.notebooks,
                          course_id=args.course_id)
    except ValueError as error:
        parser.error(str(error))
    for path in written:
        print(path)
    config = pathlib.Path(args.out_dir) / "nbgrader_config.py"
    if "ClearHiddenTestsFromFeedback" not in config.read_text():
        print(f"warning: {config} (kept as it was) does not set GenerateFeedback.preprocessors, so "
              "nbgrader generate_feedback would show the hidden tests: copy that line and its imports "
              "from CONFIG in lessons_lib/nbgrader_course.py", file=sys.stderr)
    if not any(pathlib.Path(p).is_dir() for p in jupyter_path("nbconvert", "templates", "lessons_feedback")):
        print("warning: the course's feedback template (nbconvert/templates/lessons_feedback) is in none of "
              "Jupyter's data folders, so nbgrader's feedback pages would load MathJax from a CDN: run "
              "`pip install -e .` in this environment", file=sys.stderr)
    if "lessons_feedback" not in config.read_text():
        print(f"warning: {config} (kept as it was) does not set HTMLExporter.extra_template_basedirs, so "
              "nbgrader's feedback pages would load MathJax from a CDN (formulas show as LaTeX source "
              "offline): copy that setting and its imports from CONFIG in lessons_lib/nbgrader_course.py",
              file=sys.stderr)
    for path in written:
        if (pathlib.Path(args.out_dir) / "release" / path.parent.name).is_dir():
            print(f"warning: release/{path.parent.name} exists: nbgrader generate_assignment skips an "
                  "assignment already released, so run it with --force to release what was just laid out "
                  "(an older layout may have put other data files there)", file=sys.stderr)
    print(f"next: cd {args.out_dir} && nbgrader generate_assignment {written[0].parent.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
