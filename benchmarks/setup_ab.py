"""Interleaved A/B of one of ``lessons_lib.setup()``'s speed choices, on fresh kernels.

Each lesson runs on a fresh kernel as ``benchmarks/run.py`` runs it, once as committed ("with") and
once with a cell right after its setup cell that undoes the choice ("without"), the two orders
alternating from repeat to repeat. The output is saved to ``benchmarks/results/``.

    python benchmarks/setup_ab.py exit-freeze   # setup()'s gc.freeze at exit: the kernel's shutdown
    python benchmarks/setup_ab.py mathtext      # use_style()'s shared mathtext parses: the whole run

The shutdown is ``run.py``'s split (from the last cell's reply to the kernel's exit, which nbclient
polls every 0.1 s); the whole run is kernel start, cells and shutdown.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run  # noqa: E402 - benchmarks/run.py, beside this file

# choice -> (the cell that undoes it, the part of a run it changes, the lessons timed)
CHOICES = {
    "exit-freeze": ("import atexit, gc\natexit.unregister(gc.freeze)", "shutdown",
                    ("05_nesterov", "10_weight_pruning", "11_compression_pipeline", "14_claims_checked")),
    "mathtext": ("from lessons_lib import mathtext_cache\nmathtext_cache.unshare_mathtext_parses()",
                 "seconds",
                 ("01_gradient_descent", "03_momentum", "04_momentum_rates", "09_weight_quantization",
                  "14_claims_checked")),
}
REPEATS = 3


def seconds_of(name: str, variant: str, undo: str, part: str) -> float:
    """One run of lesson ``name``, "with" the choice (as committed) or "without" it: ``part`` of the run."""
    nb = nbformat.read(run.NOTEBOOKS / f"{name}.ipynb", as_version=4)
    if variant == "without":
        setup_cell = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(setup_cell + 1, nbformat.v4.new_code_cell(undo))
    path = run.NOTEBOOKS / f"_setup_ab_{name}.ipynb"
    nbformat.write(nb, path)
    try:
        return getattr(run.run_notebook(path), part)
    finally:
        path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("choice", choices=sorted(CHOICES))
    choice = parser.parse_args(argv).choice
    undo, part, lessons = CHOICES[choice]
    commit = run.commit_measured()
    seconds: dict[str, dict[str, list[float]]] = {f"{n:32s}": {"with": [], "without": []} for n in lessons}
    for r in range(REPEATS):
        for name in lessons:
            for variant in run.ab_order(r):
                seconds[f"{name:32s}"][variant].append(seconds_of(name, variant, undo, part))
    what = {"shutdown": "kernel shutdown", "seconds": "whole run (kernel start, cells, shutdown)"}[part]
    lines = [run.machine_line(),
             f"{choice}: {what}, seconds: median [min, max] of {REPEATS} interleaved repeats",
             *run.ab_report(seconds)]
    text = "\n".join(lines)
    print(text)
    print("saved", run.save(text, [f"{choice.replace('-', '_')}_ab"], "txt", commit=commit,
                            program=f"python benchmarks/setup_ab.py {choice}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
