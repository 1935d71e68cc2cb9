"""Interleaved A/B of the course's library against an earlier commit's, on fresh kernels.

Each lesson runs on a fresh kernel as ``benchmarks/run.py`` runs it, once with the working tree's
``lessons_lib`` ("with": the change since the commit) and once with ``lessons_lib`` as it was at the
commit ("without": exported by ``git archive`` into a temporary folder that goes first on the kernel's
``PYTHONPATH``), the two orders alternating from repeat to repeat. The notebooks are the working
tree's in both, so the commit should be one whose notebooks are the same. Whole runs are timed
(kernel start, cells, shutdown). The output is saved to ``benchmarks/results/``.

    python benchmarks/library_ab.py 81f652d 09_weight_quantization 12_integer_inference
"""

from __future__ import annotations

import argparse
import io
import os
import pathlib
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import run  # noqa: E402 - benchmarks/run.py, beside this file

REPEATS = 3


def export_library(commit: str, folder: pathlib.Path) -> pathlib.Path:
    """``lessons_lib`` as it was at ``commit``, written under ``folder``; returns ``folder``."""
    archive = subprocess.run(["git", "-C", str(run.ROOT), "archive", "--format=tar", commit, "lessons_lib"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def imported_from(pythonpath: str | None) -> str:
    """Where a fresh Python started from notebooks/ with this ``PYTHONPATH`` imports ``lessons_lib``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run([sys.executable, "-c", "import lessons_lib; print(lessons_lib.__file__)"],
                          cwd=run.NOTEBOOKS, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def seconds_of(name: str, pythonpath: str | None) -> float:
    """One whole run of lesson ``name`` on a fresh kernel, with ``PYTHONPATH`` set (or unset)."""
    before = os.environ.pop("PYTHONPATH", None)
    if pythonpath:
        os.environ["PYTHONPATH"] = pythonpath
    try:
        return run.run_notebook(run.NOTEBOOKS / f"{name}.ipynb").seconds
    finally:
        os.environ.pop("PYTHONPATH", None)
        if before is not None:
            os.environ["PYTHONPATH"] = before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier commit whose lessons_lib is the 'without' side")
    parser.add_argument("lessons", nargs="+", help="notebook names, e.g. 09_weight_quantization")
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help=f"interleaved repeats (default {REPEATS})")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be an integer >= 1; got {args.repeats}")
    commit = run.commit_measured()
    with tempfile.TemporaryDirectory() as tmp:
        old = str(export_library(args.commit, pathlib.Path(tmp)))
        now_file, old_file = imported_from(None), imported_from(old)
        if not old_file.startswith(old) or now_file.startswith(old):
            raise SystemExit(f"the kernels would not import the libraries compared: {now_file}, {old_file}")
        side = {"with": None, "without": old}
        seconds: dict[str, dict[str, list[float]]] = {f"{n:32s}": {"with": [], "without": []}
                                                      for n in args.lessons}
        for r in range(args.repeats):
            for name in args.lessons:
                for variant in run.ab_order(r):
                    seconds[f"{name:32s}"][variant].append(seconds_of(name, side[variant]))
    lines = [run.machine_line(),
             f"lessons_lib of the working tree (with) against lessons_lib at {args.commit} (without), "
             f"the same notebooks; whole runs, seconds: median [min, max] of {args.repeats} interleaved "
             "repeats",
             *run.ab_report(seconds)]
    text = "\n".join(lines)
    print(text)
    program = (f"python benchmarks/library_ab.py {args.commit} {' '.join(args.lessons)} "
               f"--repeats {args.repeats}")
    print("saved", run.save(text, ["library_ab"], "txt", commit=commit, program=program))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
