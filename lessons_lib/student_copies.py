"""Write student copies of the notebooks: solutions replaced by stubs, outputs cleared.

    python -m lessons_lib.student_copies OUT_DIR [--notebooks DIR]

In every code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION``
(inclusive) become one line, at the same indentation::

    raise NotImplementedError("Exercise: replace this line with your solution")

so a student copy runs up to its first exercise and stops there with that
message. All outputs and execution counts are cleared; ``notebooks/data`` is copied
along because lessons read from it.
"""

from __future__ import annotations

import argparse
import pathlib
import re
import shutil

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB_MESSAGE = "Exercise: replace this line with your solution"
_BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")
_END_RE = re.compile(r"^[ \t]*### END SOLUTION\s*$")

DEFAULT_NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


def strip_solutions(source: str) -> str:
    """Replace each solution block of a cell's ``source`` by a stub.

    Raises ``ValueError`` if a block is opened and not closed, or closed without opening.
    """
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        begin = _BEGIN_RE.match(line)
        if begin:
            if inside:
                raise ValueError(f"source: nested '{BEGIN}' without '{END}'")
            inside = True
            out.append(f'{begin.group("indent")}raise NotImplementedError("{STUB_MESSAGE}")')
        elif _END_RE.match(line):
            if not inside:
                raise ValueError(f"source: '{END}' without '{BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"source: '{BEGIN}' without '{END}'")
    return "\n".join(out)


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` with solutions stubbed and outputs cleared."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source)
        cell.outputs = []
        cell.execution_count = None
    nb.metadata.pop("widgets", None)
    return nb


def write_student_copies(out_dir: str | pathlib.Path,
                         notebooks: str | pathlib.Path = DEFAULT_NOTEBOOKS) -> list[pathlib.Path]:
    """Write a student copy of every ``NN_*.ipynb`` in ``notebooks`` to ``out_dir``; returns the paths."""
    out_dir = pathlib.Path(out_dir)
    notebooks = pathlib.Path(notebooks)
    sources = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise ValueError(f"notebooks: no lesson notebooks (NN_*.ipynb) in {notebooks}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sources:
        target = out_dir / path.name
        nbformat.write(student_notebook(nbformat.read(path, as_version=4)), target)
        written.append(target)
    if (notebooks / "data").is_dir():
        shutil.copytree(notebooks / "data", out_dir / "data", dirs_exist_ok=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write student copies of the course notebooks.")
    parser.add_argument("out_dir", help="folder to write the student copies to")
    parser.add_argument("--notebooks", default=str(DEFAULT_NOTEBOOKS),
                        help="folder of the instructor notebooks")
    args = parser.parse_args(argv)
    for path in write_student_copies(args.out_dir, args.notebooks):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
