"""Lay out the lessons as an nbgrader course, ready for ``nbgrader generate_assignment``.

    python -m lessons_lib.nbgrader_course OUT_DIR [--course-id ID] [--notebooks DIR] [LESSON ...]

writes ::

    OUT_DIR/nbgrader_config.py                      course id, gradebook, exchange, timeouts
    OUT_DIR/source/<NN_name>/<NN_name>.ipynb        the instructor's notebook (solutions, hidden tests)
    OUT_DIR/source/<NN_name>/data/                  the course's data folder, which lessons read as data/
    OUT_DIR/exchange/                               nbgrader's exchange, for a course on one machine

One assignment per lesson, named as the notebook. The exercises are nbgrader cells already
(``tests/test_nbgrader_course.py``): each answer cell is a solution cell (``grade_id``
``exNN_K_answer``), each check after it a graded test cell (``exNN_K_check``, with points) holding
the check a student sees and, where a lucky guess could pass that, hidden tests. The config keeps
everything inside OUT_DIR: the gradebook ``gradebook.db`` and the exchange folder ``exchange/``
(for ``release_assignment``, ``collect`` and ``release_feedback`` on one machine; a JupyterHub
sets its shared folder there instead). An existing ``nbgrader_config.py`` is kept, so re-laying
out the notebooks after a ``git pull`` does not undo an instructor's edits to it.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import shutil

import nbformat

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
COURSE_ID = "momentum-compression"
# The slowest cell of any lesson takes about 15 s on two cores (lesson 11's training runs);
# a marking machine under load may be several times slower.
CELL_TIMEOUT_S = 600

CONFIG = '''\
"""nbgrader's settings for this course, written by `python -m lessons_lib.nbgrader_course`.

Run nbgrader from this folder. Everything it writes stays in this folder: the gradebook
(gradebook.db) and the exchange (exchange/). On a JupyterHub, point Exchange.root at the
folder shared by the instructor and the students (nbgrader's default: /srv/nbgrader/exchange).
"""

import pathlib

HERE = pathlib.Path(__file__).resolve().parent

c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = str(HERE)
c.CourseDirectory.db_url = f"sqlite:///{{HERE / 'gradebook.db'}}"
c.Exchange.root = str(HERE / "exchange")
# autograde runs each notebook top to bottom: give the slowest lesson cell room
c.Execute.timeout = {timeout}
c.Execute.startup_timeout = 120
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
        if (notebooks / "data").is_dir():
            shutil.copytree(notebooks / "data", folder / "data", dirs_exist_ok=True)
        written.append(folder / f"{name}.ipynb")
    return written


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student's copy of an instructor notebook: what ``nbgrader generate_assignment`` releases.

    A new notebook (``nb`` is not changed) in which every solution region (between ``### BEGIN
    SOLUTION`` and ``### END SOLUTION``) is nbgrader's stub (``# YOUR CODE HERE`` and ``raise
    NotImplementedError()``), every hidden test (``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN
    TESTS``) is gone, and the answer and check cells hold no outputs (a check's "Correct: ..." would
    give the answer away). Everything else, outputs included, is as stored. nbgrader's own
    preprocessors do the clearing, so the copy is the one nbgrader would release."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise TypeError(f"nb must be a notebook (nbformat.NotebookNode); got {type(nb).__name__}")
    copy = nbformat.reads(nbformat.writes(nbformat.from_dict(nb)), as_version=4)
    copy, resources = ClearSolutions().preprocess(copy, {})
    copy, _ = ClearHiddenTests().preprocess(copy, resources)
    for cell in copy.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and grade_id.startswith("ex"):
            cell.outputs, cell.execution_count = [], None
    return copy


def main(argv: list[str] | None = None) -> int:
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
    print(f"next: cd {args.out_dir} && nbgrader generate_assignment {written[0].parent.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
