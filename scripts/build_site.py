"""Build the course's website into ``_build/site/`` (``index.html`` at its root).

    python scripts/build_site.py            # the README's site command
    python scripts/build_site.py --out DIR  # elsewhere (the tests build into a temporary folder)

Sphinx with MyST-NB and sphinx-book-theme (configuration in ``site/conf.py``) reads the
committed notebooks with their stored outputs; nothing is executed and nothing is downloaded.
The sources are gathered first into ``<out>-src/``: the pages of ``site/`` (``*.md``; its
``conf.py`` and ``_static/`` are used from there), the student's copy of each lesson
``notebooks/NN_name.ipynb`` (``lessons_lib.nbgrader_course.student_copy``: the exercises'
solutions and hidden tests removed, as nbgrader releases them) and the instructor's guide
``notebooks/README.md`` (as ``instructors_guide.md``). The output folder is replaced as a whole,
so no page of an
earlier build lingers; Sphinx's cache goes to ``<out>-src/.doctrees`` and MyST-NB's copies of
the stored images to ``jupyter_execute/`` beside ``<out>`` (a path MyST-NB fixes), both outside
the site.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import sys
import time
import warnings

import nbformat

from lessons_lib.nbgrader_course import student_copy

ROOT = pathlib.Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "_build" / "site"
GUIDE = "instructors_guide.md"


def lessons() -> list[pathlib.Path]:
    """The committed lessons, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _refuse_foreign(folder: pathlib.Path, *signs: str) -> None:
    """A folder about to be replaced must be empty, missing, or an earlier build's (it holds every
    file in ``signs``): anything else may be the user's own, and is refused, never deleted."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        if not all((folder / sign).exists() for sign in signs):
            raise ValueError(f"out: {folder} exists and is not an earlier build of the site "
                             f"(no {' and '.join(signs)}); choose a new folder or remove it yourself")


def gather_sources(src: pathlib.Path) -> pathlib.Path:
    """Fill ``src`` (emptied first) with the site's pages, the lessons and the instructor's guide."""
    _refuse_foreign(src, GUIDE, "index.md")
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for page in SITE.glob("*.md"):
        shutil.copy2(page, src / page.name)
    for notebook in lessons():  # the student's copy: no solutions, no hidden tests
        nbformat.write(student_copy(nbformat.read(notebook, as_version=4)), src / notebook.name)
    shutil.copy2(NOTEBOOKS / "README.md", src / GUIDE)
    return src


def build(out: pathlib.Path = OUT, *, quiet: bool = True) -> float:
    """Build the site into ``out`` (replaced); return the seconds it took. Sphinx warnings are errors."""
    from sphinx.cmd.build import build_main

    out = pathlib.Path(out).resolve()
    if out == ROOT or ROOT.is_relative_to(out):
        raise ValueError(f"out must be a folder of its own inside or outside the repository; got {out}")
    _refuse_foreign(out, "index.html", "searchindex.js")
    start = time.perf_counter()
    src = gather_sources(out.with_name(out.name + "-src"))
    for stale in (out, out.parent / "jupyter_execute"):
        if stale.exists():
            shutil.rmtree(stale)
    args = ["-b", "html", "-c", str(SITE), "-d", str(src / ".doctrees"), "-W", "--keep-going",
            *(["-q"] if quiet else []), str(src), str(out)]
    with warnings.catch_warnings():  # sphinx-book-theme 1.4.0 uses an API Sphinx 11 will remove
        warnings.filterwarnings("ignore", message=".*sphinx_book_theme.*is deprecated")
        status = build_main(args)
    if status != 0:
        raise RuntimeError(f"sphinx-build failed with status {status} (see the messages above)")
    if not (out / "index.html").is_file():
        raise RuntimeError(f"the build wrote no {out / 'index.html'}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the course's website (Sphinx, MyST-NB).")
    parser.add_argument("--out", type=pathlib.Path, default=OUT, help=f"output folder (default {OUT})")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress")
    args = parser.parse_args(argv)
    seconds = build(args.out, quiet=not args.verbose)
    print(f"built {args.out.resolve() / 'index.html'} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
