"""Rebuild the course notebooks from their text twins and execute them.

For each ``notebooks/NN_name.py`` (jupytext py:percent) given, or all of them:
convert to ``.ipynb``, execute it top to bottom on a fresh kernel in
``notebooks/`` (as a reader would), save the notebook with its outputs, and
rewrite the twin from the notebook so that the two are identical.

Widgets are stored without their kernel-side identity: no widget state in the
notebook's metadata and no widget-view entry in the outputs (its model id means
nothing without the kernel; ``lessons_lib.saved_notebooks``, which JupyterLab's
server also applies when a reader saves). What remains of a course widget's output is its
HTML (a picture that the page replaces with the live figure where scripts run,
see ``lessons_lib.widgets._base``), its PNG and a line of text; running the cell
makes the live widget again. The kernelspec is the one JupyterLab writes for the
kernel, so opening a notebook there does not change it.

Every cell gets its slide type for `jupyter nbconvert --to slides` from one rule after the
run (``lessons_lib.slides``: it looks at the outputs too); the twin leaves the slide types out
(jupytext's ``cell_metadata_filter``), so the rule stays the one place they come from.

    python scripts/build_notebooks.py                 # every notebook
    python scripts/build_notebooks.py 01_gradient_descent
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

import jupytext
import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from lessons_lib import slides
from lessons_lib.saved_notebooks import drop_widget_views

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
KERNEL = "python3"
JUPYTEXT = {"cell_metadata_filter": "-slideshow", "formats": "ipynb,py:percent"}


def kernelspec(name: str = KERNEL) -> dict[str, str]:
    """The notebook metadata JupyterLab writes for kernel ``name`` (e.g. "Python 3 (ipykernel)")."""
    spec = KernelSpecManager().get_kernel_spec(name)
    return {"display_name": spec.display_name, "language": spec.language, "name": name}


#: Lessons whose text reads a record of earlier builds: the script that writes the record runs first,
#: so the build reads every build committed before it (lesson 12's speed runs).
RECORDS = {"12_integer_inference": pathlib.Path(__file__).with_name("record_lesson12_speed.py")}


def build(twin: pathlib.Path, timeout: int = 300) -> float:
    """Execute ``twin`` (in its folder) into its ``.ipynb``; returns seconds taken."""
    if twin.stem in RECORDS:
        subprocess.run([sys.executable, str(RECORDS[twin.stem])], check=True)
    nb = jupytext.read(twin)
    nb.metadata["jupytext"] = dict(JUPYTEXT)
    nb.metadata["kernelspec"] = kernelspec()
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name=KERNEL, store_widget_state=False,
                   resources={"metadata": {"path": str(twin.parent)}}).execute()
    seconds = time.perf_counter() - start
    drop_widget_views(nb)
    slides.mark(nb, twin.stem)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    if errors:  # e.g. a figure that failed to render after its cell ran
        raise RuntimeError(f"{twin.name}: {len(errors)} error output(s), first: {errors[0].get('ename')}: "
                           f"{errors[0].get('evalue')}")
    stderr = ["".join(o.get("text", "")) for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("name") == "stderr"]
    if stderr:  # a warning, or e.g. matplotlib's font cache pointing at a deleted environment
        raise RuntimeError(f"{twin.name}: output on stderr, first: {stderr[0][:300]}")
    ipynb = twin.with_suffix(".ipynb")
    nbformat.write(nb, ipynb)
    jupytext.write(jupytext.read(ipynb), twin, fmt="py:percent")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook names without suffix (default: all)")
    args = parser.parse_args(argv)
    twins = ([NOTEBOOKS / f"{n.removesuffix('.py').removesuffix('.ipynb')}.py" for n in args.names]
             or sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")))
    for twin in twins:
        if not twin.exists():
            print(f"no such twin: {twin}", file=sys.stderr)
            return 2
        print(f"{twin.stem}: {build(twin):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
