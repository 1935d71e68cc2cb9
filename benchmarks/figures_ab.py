"""Interleaved A/B of ``mathtext_cache.share_mathtext_parses``, figures only, in one process.

Each lesson runs once as a script (matplotlib's Agg backend, figures kept open); then every one of its
figures is written as the notebook's inline backend writes it (IPython's ``print_figure`` in
"retina", with a tight bounding box and ``plotting.PNG_OPTIONS``), once with matplotlib's own mathtext
cache ("without", a fresh one each time) and once with the shared one ("with", emptied each time, so
every lesson starts cold as on a fresh kernel), the two orders alternating from repeat to repeat.
Timing only the figures keeps out the lessons' computing and the kernels, whose spread on a shared
machine is larger than this difference. The output is saved to ``benchmarks/results/``.

    python benchmarks/figures_ab.py
"""

from __future__ import annotations

import contextlib
import io
import os
import pathlib
import runpy
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run  # noqa: E402 - benchmarks/run.py, beside this file

LESSONS = ("01_gradient_descent", "02_stochastic_gradient_descent", "03_momentum", "04_momentum_rates",
           "09_weight_quantization")
REPEATS = 5


def lesson_figures(name: str) -> list:
    """The figures lesson ``name`` leaves open when run as a script (its output discarded)."""
    import matplotlib.pyplot as plt

    plt.close("all")
    here = os.getcwd()
    os.chdir(run.NOTEBOOKS)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            runpy.run_path(str(run.NOTEBOOKS / f"{name}.py"), run_name="__main__")
    finally:
        os.chdir(here)
    return [plt.figure(n) for n in plt.get_fignums()]


def write_all(figures: list, variant: str) -> float:
    """Seconds to write every figure as the inline backend does, ``variant`` "with" or "without" sharing."""
    from IPython.core.pylabtools import print_figure

    from lessons_lib import mathtext_cache, plotting

    mathtext_cache.unshare_mathtext_parses()  # matplotlib's own cache, fresh; the shared one emptied
    if variant == "with":
        assert mathtext_cache.share_mathtext_parses()
    start = time.perf_counter()
    for fig in figures:
        print_figure(fig, "retina", pil_kwargs=plotting.PNG_OPTIONS)
    return time.perf_counter() - start


def main() -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.show = lambda *args, **kwargs: None  # the figures stay open for timing
    commit = run.commit_measured()
    lines = [run.machine_line(), f"writing every figure of a lesson, seconds: median [min, max] of {REPEATS} "
             "interleaved repeats (each lesson's figures written once before, untimed)"]
    seconds: dict[str, dict[str, list[float]]] = {}
    for name in LESSONS:
        figures = lesson_figures(name)
        write_all(figures, "without")
        row = seconds[f"{name:32s} {len(figures):2d} figures  "] = {"with": [], "without": []}
        for r in range(REPEATS):
            for variant in run.ab_order(r):
                row[variant].append(write_all(figures, variant))
        plt.close("all")
    lines += run.ab_report(seconds)
    text = "\n".join(lines)
    print(text)
    saved = run.save(text, ["figures_ab"], "txt", commit=commit, program="python benchmarks/figures_ab.py")
    print("saved", saved)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
