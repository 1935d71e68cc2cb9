"""Interleaved A/B of ``lessons_lib.setup()``'s freeze at exit: the kernel's shutdown time.

Each lesson runs on a fresh kernel as ``benchmarks/run.py`` runs it, once as committed ("with") and
once with a cell right after its setup cell that unregisters the freeze ("without"), the two orders
alternating from repeat to repeat; the shutdown is ``run.py``'s split (from the last cell's reply to
the kernel's exit, which nbclient polls every 0.1 s). The output is saved to ``benchmarks/results/``.

    python benchmarks/exit_freeze_ab.py
"""

from __future__ import annotations

import pathlib
import statistics
import sys

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run  # noqa: E402 - benchmarks/run.py, beside this file

LESSONS = ("05_nesterov", "10_weight_pruning", "11_compression_pipeline", "14_claims_checked")
REPEATS = 3
UNREGISTER = "import atexit, gc\natexit.unregister(gc.freeze)"


def shutdown_seconds(name: str, variant: str) -> float:
    """One run of lesson ``name``; ``variant`` "with" (as committed) or "without" the freeze at exit."""
    nb = nbformat.read(run.NOTEBOOKS / f"{name}.ipynb", as_version=4)
    if variant == "without":
        setup_cell = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        nb.cells.insert(setup_cell + 1, nbformat.v4.new_code_cell(UNREGISTER))
    path = run.NOTEBOOKS / f"_exit_freeze_ab_{name}.ipynb"
    nbformat.write(nb, path)
    try:
        return run._run_notebook(path).shutdown
    finally:
        path.unlink()


def main() -> int:
    commit = run.commit_measured()
    seconds: dict[tuple[str, str], list[float]] = {}
    for r in range(REPEATS):
        for name in LESSONS:
            for variant in ("with", "without") if r % 2 == 0 else ("without", "with"):
                seconds.setdefault((name, variant), []).append(shutdown_seconds(name, variant))
    lines = [run.machine_line(),
             f"kernel shutdown, seconds: median [min, max] of {REPEATS} interleaved repeats"]
    total = dict.fromkeys(("without", "with"), 0.0)
    for name in LESSONS:
        parts = []
        for variant in total:
            v = seconds[name, variant]
            total[variant] += statistics.median(v)
            parts.append(f"{variant} {statistics.median(v):.2f} [{min(v):.2f}, {max(v):.2f}]")
        lines.append(f"{name:32s} " + "   ".join(parts))
    lines.append(f"sum of the medians: without {total['without']:.2f}, with {total['with']:.2f}")
    text = "\n".join(lines)
    print(text)
    print("saved", run.save(text, ["exit_freeze_ab"], "txt", commit=commit,
                            program="python benchmarks/exit_freeze_ab.py"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
