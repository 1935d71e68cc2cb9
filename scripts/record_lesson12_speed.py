"""Write lesson 12's record of speed runs, ``notebooks/data/timings/lesson12_speed.json``.

Lesson 12 times ``torch._int_mm``, its integer-only networks and channel pruning against float32,
and its text quotes the runs seen on more than one machine; it reads those numbers from this record
and asserts them. The record holds:

* every stored build of the lesson in git from ``FIRST`` (the first build that timed the two sides
  interleaved, with 7-bit activation codes) to the last one committed when the record is written
  (its commit is the record's ``last``): the ratio lines its cells printed, parsed
  from the committed ``.ipynb`` (``notebooks/10_integer_inference.ipynb`` before the lessons were
  renumbered). A commit whose stored lesson was not executed again (its first cell's execution time
  unchanged: it changed prose, or only the message a cell prints) is not a build (without that
  metadata, a commit whose printed lines repeat the previous one's is not). The
  machine is the one named by the processor line the build prints (from
  a1b2342 on), and for earlier builds told by the time the build ran (the notebook's own execution
  metadata): before ``XEON_FROM`` the course's machine of 30 November, after it the Intel Xeon;
* the builds before ``FIRST``, listed as excluded with the reason (they timed each side separately,
  with 8-bit codes, and a load that fell on one side), with their wide-network ratio;
* the runs that were not committed, from the raw text in ``lesson12_uncommitted_runs.txt``.

    python scripts/record_lesson12_speed.py           # rewrite the record (needs the git history)

Run it before rebuilding the notebook: the build then reads a record of every build committed
before it (its own is the next one). ``tests/test_record_lesson12_speed.py`` rebuilds the record up
to its ``last`` and compares it with the committed one.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMINGS = ROOT / "notebooks" / "data" / "timings"
RECORD = TIMINGS / "lesson12_speed.json"
RAW = TIMINGS / "lesson12_uncommitted_runs.txt"
PATHS = ("notebooks/12_integer_inference.ipynb", "notebooks/10_integer_inference.ipynb")
FIRST = "698a9b8"  # 2026-11-30: interleaved timing and 7-bit activation codes
XEON_FROM = "2026-12-01T09:40"  # the course's machine was an Intel Xeon from about then

MACHINES = {
    "Xeon": "Intel(R) Xeon(R) Processor (GenuineIntel, family/model 6/207), AVX-512 VNNI, 2 cores: the "
            "course's machine from 2026-12-01 about 09:40 UTC to 2026-12-02 (its last build 08:08 UTC; "
            "builds attributed by the time they ran; from a1b2342 on, the build prints this line itself)",
    "30 Nov": "the course's machine on 2026-11-30, AVX-512 VNNI (its processor was not recorded with the "
              "runs; that week's notes name an AMD EPYC)",
    "EPYC 25/17": "AMD EPYC (AuthenticAMD, family/model 25/17), AVX-512 VNNI, 2 cores: a course machine of 2 "
                  "and 3 December 2026 (the build prints this line itself)",
}
SETTINGS = {
    "default": "the notebook as it runs: one thread, every library at its default",
    "oneDNN held to AVX2": "ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN's int8 kernel without VNNI, a configuration "
                           "no real CPU runs); float32 keeps MKL's AVX-512",
    "MKL and oneDNN held to AVX2": "ONEDNN_MAX_CPU_ISA=AVX2 and MKL_ENABLE_INSTRUCTIONS=AVX2 (float32 on "
                                   "MKL's AVX2 kernels too)",
}
LINES = [  # (key, the start of the printed line)
    ("product_b256", "batch 256: int8 over float32"),
    ("product_b1", "batch   1: int8 over float32"),
    ("network_seed0", "network, seed 0: integer over float32"),
    ("network_wide", "network, wide: integer over float32"),
    ("elementwise_int32_over_int64", "multiply-add on 256 x 512: int32 over int64"),
    ("network_seed0_int32", "network, seed 0, int32 requantization: integer over float32"),
    ("network_wide_int32", "network, wide, int32 requantization: integer over float32"),
    ("loop_product_b256", "product, batch 256, the path of a CPU without AVX-512 VNNI: int8 over float32"),
    ("loop_product_b1", "product, batch 1, the path of a CPU without AVX-512 VNNI: int8 over float32"),
    ("loop_network_seed0", "network, seed 0, the path of a CPU without AVX-512 VNNI: int8 over float32"),
    ("loop_network_wide", "network, wide, the path of a CPU without AVX-512 VNNI: int8 over float32"),
    ("loop_network_seed0_int32",
     "network, seed 0, int32, the path of a CPU without AVX-512 VNNI: int8 over float32"),
    ("loop_network_wide_int32",
     "network, wide, int32, the path of a CPU without AVX-512 VNNI: int8 over float32"),
    ("channel_pruned", "channel-pruned             : over dense float32"),
    ("unstructured_dense", "unstructured, dense kernel : over dense float32"),
    ("unstructured_csr", "unstructured, CSR          : over dense float32"),
]
RATIO = re.compile(r" ([\d.]+) \[([\d.]+), ([\d.]+)\] \((\d+) interleaved runs\)")
SHARES = re.compile(r"products (\d+) %, requantizations (\d+) %")
OVER_INT64 = "    over the same network with int64"  # the line after an int32 network's


def parse(text: str) -> dict[str, list]:
    """The ratios in printed lines: key -> [median, q1, q3, runs]; ``*_shares_pct`` -> [products %,
    requantizations %] of the integer pass (the line after a network's); ``*_int32_over_int64`` ->
    the int32-requantization pass over the int64 one (the line after an int32 network's)."""
    out: dict[str, list] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        for key, start in LINES:
            match = RATIO.match(line[len(start):]) if line.startswith(start) else None
            if match:
                out[key] = [float(match[1]), float(match[2]), float(match[3]), int(match[4])]
                after = lines[i + 1] if i + 1 < len(lines) else ""
                shares = SHARES.search(after)
                if key in ("network_seed0", "network_wide") and shares:
                    out[f"{key}_shares_pct"] = [int(shares[1]), int(shares[2])]
                over64 = RATIO.match(after[len(OVER_INT64):]) if after.startswith(OVER_INT64) else None
                if key in ("network_seed0_int32", "network_wide_int32") and over64:
                    out[f"{key}_over_int64"] = [float(over64[1]), float(over64[2]), float(over64[3]),
                                                int(over64[4])]
    return out


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def last_build() -> str:
    """The commit (7 hex digits) of the newest stored build of the lesson in git."""
    return _git("log", "-1", "--format=%H", "HEAD", "--", *PATHS).strip()[:7]


def machine_of(text: str, ran_utc: str) -> str:
    """The record's name for the machine a build ran on: from the processor line the build prints
    (``this run: <describe_machine()>; ...``, since a1b2342), else from the time it ran. A processor
    the record does not know is an error: add it to ``MACHINES`` first."""
    line = re.search(r"^this run: (.+?); timed on one thread", text, flags=re.M)
    if line is None:
        return "Xeon" if ran_utc >= XEON_FROM else "30 Nov"
    processor = line[1].split("), ")[0] + ")"
    for name, description in MACHINES.items():
        if description.startswith(processor):
            return name
    raise ValueError(f"a build ran on a processor the record does not know: {line[1]}; add it to MACHINES")


def stored(commit: str) -> tuple[str, dict, str]:
    """``(path, notebook, printed lines)``: the lesson as stored in ``commit`` and the text outputs
    of its code cells."""
    for path in PATHS:
        shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{path}"],
                               capture_output=True, text=True)
        if shown.returncode == 0:
            nb = json.loads(shown.stdout)
            return path, nb, printed(nb)
    raise ValueError(f"commit {commit} holds no build of lesson 12")


def printed(nb: dict) -> str:
    """The text outputs of a notebook's code cells (``nb`` as JSON), one string."""
    return "\n".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                     for o in c.get("outputs", []))


def executed(nb: dict) -> str | None:
    """When the stored notebook's first code cell ran (``nb`` as JSON; its execution metadata), or None
    where that is not recorded. A build executes the notebook from the top
    (``scripts/build_notebooks.py``) and changes it; a commit that edits prose or the text one cell
    prints does not, nor does running one cell below the first again."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            return cell["metadata"].get("execution", {}).get("iopub.execute_input") or None
    return None


def build_key(nb: dict, text: str) -> tuple[str, str]:
    """What tells one build from the next: the time the notebook was executed, or, for a notebook
    stored without that metadata, its printed lines."""
    ran = executed(nb)
    return ("executed", ran) if ran else ("printed", text)


def distinct_builds(revisions: str, previous: tuple[dict, str] | None = None):
    """Yield ``(commit, committed_utc, path, notebook, printed lines)`` for each commit of
    ``revisions`` (a ``git log`` range, oldest first) whose stored lesson is a new build
    (:func:`build_key` differs from the commit's before it; ``previous``: the notebook and its printed
    lines before the range): a commit that changed only prose or a message is not a build."""
    log = _git("log", "--reverse", "--format=%H %cI", revisions, "--", *PATHS).split("\n")
    before = None if previous is None else build_key(*previous)
    for line in filter(None, log):
        full, committed = line.split()
        path, nb, text = stored(full)
        key = build_key(nb, text)
        if key != before:
            yield full, committed, path, nb, text
        before = key


def builds_after(last: str) -> list[str]:
    """The builds after ``last`` (up to HEAD): the ones not in a record ending at ``last``."""
    return [full[:7] for full, *_ in distinct_builds(f"{last}..HEAD", stored(last)[1:])]


def _refuse_the_loop(text: str, which: str) -> None:
    """ValueError if the printed ``text`` of a build says ``onednn_path`` False: such a build times the
    reference loop in its main lines and prints them again as its loop_* lines (5 runs each), which the
    record would hold twice."""
    if "(onednn_path): False" in text:
        raise ValueError(f"{which} ran torch._int_mm on the reference loop (onednn_path False): the record "
                         "must learn to read such a build first (CONTRIBUTING.md, Rebuilding lesson 12)")


def stored_builds(last: str) -> tuple[list[dict], list[dict]]:
    """(the builds from FIRST to ``last``, the builds before FIRST) from git, oldest first."""
    before = set(_git("rev-list", f"{FIRST}~1").split())  # the commits before FIRST
    builds, excluded = [], []
    for full, committed, path, nb, text in distinct_builds(last):
        short = full[:7]
        before_first = full in before
        ran = [c["metadata"]["execution"]["iopub.execute_input"] for c in nb["cells"]
               if c["cell_type"] == "code" and "iopub.execute_input" in c["metadata"].get("execution", {})]
        entry = {"source": f"the stored build committed in {short} ({path})",
                 "ran_utc": (ran[0] if ran else "")[:16], "committed_utc": committed[:16]}
        if before_first:
            wide = re.search(r"wide, 64-512-512-10: [^\n]*\n(?:[^\n]*\n)*? +"
                             r"integer is ([\d.]+) times as fast", text)
            if wide:  # a build of the timing cells as they were then
                excluded.append({**entry, "network_wide_ratio": float(wide[1]),
                                 "why": "before interleaved timing: each side timed separately (a ratio of "
                                        "two medians of 51 runs), 8-bit activation codes, and a load that "
                                        "fell on one side"})
            continue
        ratios = parse(text)
        if not ratios:
            continue
        _refuse_the_loop(text, f"the build committed in {short}")
        builds.append({"machine": machine_of(text, entry["ran_utc"] or entry["committed_utc"]),
                       "setting": "default", **entry, **ratios})
    return builds, excluded


def uncommitted_runs() -> list[dict]:
    """The runs in ``RAW``: one entry a build block, one entry a repetition of a run block."""
    entries = []
    for block in RAW.read_text().split("\n## ")[1:]:
        head, _, body = block.partition("\n")
        kind, machine, setting, utc, what = (part.strip() for part in head.split("|"))
        base = {"machine": machine, "setting": setting, "ran_utc": utc.replace(" ", "T")}
        if kind in ("build", "cells"):
            source = "an uncommitted build" if kind == "build" else "some cells of an uncommitted build"
            _refuse_the_loop(body, f"{source} ({what})")
            entries.append({**base, "source": f"{source}: {what}", **parse(body)})
            continue
        for line in filter(None, body.splitlines()):
            b256, b1, seed0, wide = (float(v) for v in re.fullmatch(
                r"b256 ([\d.]+) \| b1 ([\d.]+) \| seed0-shape ([\d.]+) \| wide ([\d.]+)", line).groups())
            entries.append({**base, "source": f"a run of section 10's code (fresh networks): {what}",
                            "product_b256": [b256], "product_b1": [b1], "network_seed0": [seed0],
                            "network_wide": [wide]})
    return entries


def record(last: str) -> dict:
    """The record of every stored build from FIRST to ``last`` and of the uncommitted runs."""
    builds, excluded = stored_builds(last)
    return {
        "what": "Lesson 12's speed ratios, one entry per build of the notebook or per run: int8 (or "
                "integer) over float32, and channel-pruned or unstructured over dense float32; "
                "*int32_over_int64: "
                "the int32 form over the int64 one (a multiply-add, or the integer pass with int32 "
                "requantization over the same network with int64); one thread, "
                "batch 256 unless a key says b1. A ratio is [median, q1, q3, runs] of per-run ratios of "
                "interleaved runs (21 runs; 5 for the loop_* keys), or [median] for the runs of section 10's "
                "code alone. *_shares_pct: [products, requantizations] in % of the integer pass. The load of "
                "the machine was not measured. ran_utc: when the build ran (the notebook's execution "
                "metadata: its first cell; for uncommitted runs the minute their output was written).",
        "covers": f"every stored build from {FIRST} to {last} (git), and the uncommitted runs of {RAW.name}",
        "last": last,
        "machines": MACHINES,
        "settings": SETTINGS,
        "keys": {**{key: start for key, start in LINES},
                 **{f"{key}_over_int64": f"the line after '{start}'" for key, start in LINES
                    if key in ("network_seed0_int32", "network_wide_int32")}},
        "excluded": excluded,
        "runs": sorted(builds + uncommitted_runs(), key=lambda run: run["ran_utc"]),  # in the order they ran
    }


if __name__ == "__main__":
    RECORD.write_text(json.dumps(record(last_build()), indent=1) + "\n")
    print(f"wrote {RECORD.relative_to(ROOT)}")
