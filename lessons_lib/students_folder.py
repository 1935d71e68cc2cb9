"""Every lesson as a student receives it, in one folder: what the course's Binder links open.

    python -m lessons_lib.students_folder OUT_DIR [--notebooks DIR]

writes ::

    OUT_DIR/README.md          what the folder is, for the student
    OUT_DIR/<NN_name>.ipynb    each lesson's students' copy (:func:`nbgrader_course.student_copy`):
                               nbgrader's clearing of the answers and hidden tests and its cell locks,
                               no check's verdict; unlike nbgrader's release, every other output kept
                               as stored (as on the website), and no checksums
    OUT_DIR/data/              the files those copies read, only those
                               (:func:`nbgrader_course.copy_data_files`)

Binder's ``postBuild`` writes it to ``students/`` at the repository's root, and the README's and the
website's Binder links open the lessons there, so a student who follows them meets the exercises
unanswered. The instructor notebooks stay in ``notebooks/`` of the same session: the repository is
public (the instructor's guide, "What the checks cannot stop"). A lesson reads its files from
``data/`` beside it, so a copy runs in ``students/`` as the lesson does in ``notebooks/`` (up to its
first exercise, whose answer cell raises ``NotImplementedError`` until it is answered).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import sys
import tempfile

import nbformat

from lessons_lib.nbgrader_course import NOTEBOOKS, copy_data_files, lessons, student_copy

README = """# The lessons as a student receives them

These notebooks are the course's lessons with the exercises unanswered: replace `# YOUR CODE HERE`
and `raise NotImplementedError()` in an answer cell with your answer, then run the check below
it. They were made from the course's instructor notebooks by `python -m lessons_lib.students_folder`.

On Binder, nothing you change is kept: the session is discarded when it has been idle for a
while. Download the notebooks you changed (right-click a file, Download).
"""


def write(out_dir: str | os.PathLike, *, notebooks: str | os.PathLike = NOTEBOOKS) -> list[pathlib.Path]:
    """Write the students' folder ``out_dir``; return the notebooks written, in lesson order.

    Parameters
    ----------
    out_dir : the folder; it must be missing or empty, nothing in it at all (``ValueError``): a folder
        with anything in it may hold a student's answers, and nothing here overwrites or deletes them.
        Everything is written into a new folder beside it first and moved into place at the end, so
        a run that fails leaves ``out_dir`` as it was.
    notebooks : the folder holding the instructor notebooks (``NN_name.ipynb``) and their ``data/``;
        ``ValueError`` naming a notebook that cannot be read.
    """
    for name, value in (("out_dir", out_dir), ("notebooks", notebooks)):
        if not isinstance(value, str | os.PathLike):
            raise TypeError(f"{name} must be a str or a path; got {type(value).__name__}")
    out, source = pathlib.Path(out_dir), pathlib.Path(notebooks)
    if not source.is_dir():
        raise ValueError(f"notebooks: {source} is not a folder")
    names = lessons(source)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"out_dir: {out} must be a new or empty folder (one with anything in it may hold "
                         "a student's answers, which this would overwrite); remove it yourself or choose "
                         "another")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    partial.chmod(0o777 & ~umask)  # as mkdir would make it (mkdtemp makes it private)
    try:
        (partial / "README.md").write_text(README)
        for name in names:
            try:
                nb = nbformat.read(source / f"{name}.ipynb", as_version=4)
            except (OSError, ValueError) as exc:  # nbformat's errors for a file that is not a notebook
                raise ValueError(f"notebooks: {source / f'{name}.ipynb'} cannot be read as a notebook: "
                                 f"{exc}") from None
            nbformat.write(student_copy(nb), partial / f"{name}.ipynb")
            copy_data_files(nb, source, partial)
        if out.exists():
            out.rmdir()  # empty, as checked above
        partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return [out / f"{name}.ipynb" for name in names]


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m lessons_lib.students_folder OUT_DIR [--notebooks DIR]``. Returns 0,
    or 2 with an ``error:`` line when the folder cannot be written; ``argv``: a list of arguments
    (None: the command line's)."""
    if argv is not None and (isinstance(argv, str | bytes) or not isinstance(argv, list | tuple)):
        raise TypeError(f"argv must be a list of str or None; got {type(argv).__name__}")
    parser = argparse.ArgumentParser(prog="python -m lessons_lib.students_folder",
                                     description="Write every lesson's students' copy, and the data the "
                                                 "copies read, into one new folder.")
    parser.add_argument("out_dir", help="the folder to write, new or empty")
    parser.add_argument("--notebooks", default=str(NOTEBOOKS), help="the instructor notebooks' folder")
    args = parser.parse_args(argv)
    try:
        written = write(args.out_dir, notebooks=args.notebooks)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    data = pathlib.Path(args.out_dir) / "data"
    n_data = sum(1 for p in data.rglob("*") if p.is_file()) if data.is_dir() else 0
    print(f"wrote {len(written)} students' copies and {n_data} data files to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
