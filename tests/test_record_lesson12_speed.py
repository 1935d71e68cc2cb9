"""Lesson 12's speed record is what ``scripts/record_lesson12_speed.py`` makes of the git history and
of the raw text of the uncommitted runs: rebuilt here and compared whole (so an edited number fails).
The rebuild needs the git history: without it (a shallow clone, a downloaded archive) the two tests
that need it are skipped with that reason, and fail instead when ``LESSONS_REQUIRE_HISTORY=1``
(set by ``.ci/run``)."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _script():
    path = ROOT / "scripts" / "record_lesson12_speed.py"
    spec = importlib.util.spec_from_file_location("record_lesson12_speed", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _with_history():
    """The script and the committed record, after checking that the git history holds the record's
    first and last builds (a clear failure in a shallow clone or a download without .git)."""
    script = _script()
    committed = json.loads(script.RECORD.read_text())
    for commit in (script.FIRST, committed["last"]):
        try:
            found = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"],
                                   capture_output=True).returncode == 0
        except FileNotFoundError:  # no git at all
            found = False
        if not found:
            reason = f"the git history does not hold commit {commit}: lesson 12's record needs a full clone"
            if os.environ.get("LESSONS_REQUIRE_HISTORY") == "1":
                pytest.fail(f"LESSONS_REQUIRE_HISTORY=1 but {reason}", pytrace=False)
            pytest.skip(reason)
    return script, committed


def test_the_committed_record_is_what_the_script_makes():
    script, committed = _with_history()
    rebuilt = script.record(committed["last"])
    assert committed == json.loads(json.dumps(rebuilt))


def test_exactly_one_build_came_after_the_record_the_stored_notebook():
    """The lesson says that the run it shows is not in the record and that the record holds every
    build before it: so the stored notebook is the one build after the record's ``last``. A rebuild
    without rewriting the record first fails here once committed (``scripts/build_notebooks.py``
    runs ``scripts/record_lesson12_speed.py`` before it builds the lesson)."""
    script, committed = _with_history()
    after = script.builds_after(committed["last"])
    nb = json.loads((ROOT / script.PATHS[0]).read_text())
    if script.build_key(nb, script.printed(nb)) != script.build_key(*script.stored("HEAD")[1:]):
        after.append("the notebook in the working tree")  # rebuilt and not committed yet
    assert len(after) == 1, (f"builds of lesson 12 after the record's last ({committed['last']}): {after}; "
                             "build it with scripts/build_notebooks.py (which writes the record first), "
                             "then commit both")


def test_the_readme_quotes_the_record():
    """The figures README.md and its benchmark log (benchmarks/README.md) give for lesson 12's runs are the
    record's (they would drift at a rebuild)."""
    record = json.loads((ROOT / "notebooks" / "data" / "timings" / "lesson12_speed.json").read_text())
    seen = {}
    for run in record["runs"]:
        group = seen.setdefault((run["machine"], run["setting"]), {})
        for key, value in run.items():
            if key.endswith("_shares_pct"):
                group.setdefault(key + "_rq", []).append(value[1])
            elif isinstance(value, list):
                group.setdefault(key, []).append(value[0])

    def span(values, fmt="{:.2f}"):
        return f"{fmt.format(min(values))} to {fmt.format(max(values))}"

    xeon, nov, epyc = seen[("Xeon", "default")], seen[("30 Nov", "default")], seen[("EPYC 25/17", "default")]
    count = sum(run["machine"] == "EPYC 25/17" and run["source"].startswith("the stored build")
                for run in record["runs"])  # the EPYC's builds, not its other runs
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
    ordinals = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh",
                8: "eighth"}
    epyc_builds = words.get(count, str(count))  # as the prose writes it
    avx2 = seen[("Xeon", "oneDNN held to AVX2")]
    both = {key: xeon[key] + nov[key] for key in xeon if key in nov}
    nets = both["loop_network_seed0"] + both["loop_network_wide"]
    networks = sorted(both["network_seed0"] + both["network_wide"])
    rq = {key: span(xeon[f"network_{key}_shares_pct_rq"], "{:.0f}") for key in ("seed0", "wide")}
    loop_keys = ("loop_product_b256", "loop_product_b1", "loop_network_seed0", "loop_network_wide")
    loop_outside = [(key, i + 1, value) for key in loop_keys for i, value in enumerate(epyc[key])
                    if not min(both[key]) <= value <= max(both[key])]  # outside the Xeon's and 30 Nov's
    assert len(loop_outside) <= 1 and all(key == "loop_product_b1" for key, _, _ in loop_outside), \
        f"the README's sentence covers one line outside, a product at batch 1; reword it for {loop_outside}"
    inside = (f"(the EPYC 25/17's {epyc_builds} builds inside these ranges)" if not loop_outside else
              f"(the EPYC 25/17's {epyc_builds} builds inside these ranges but for one line, the "
              f"{ordinals[loop_outside[0][1]]}'s product at batch 1, {loop_outside[0][2]:.2f})")
    below = words[sum(v < 1.5 for v in epyc["network_wide"])]
    docs = (ROOT / "README.md", ROOT / "benchmarks" / "README.md")
    readme = " ".join(word for doc in docs for word in doc.read_text().split())
    for phrase in [
        f"at {span(both['loop_product_b256'])} of float32's speed at batch 256 and "
        f"{span(both['loop_product_b1'])} at batch 1, the integer networks at {span(nets)}",
        f"{span(both['loop_product_b1'])} on the reference loop in lesson 12's record",
        f"both {span(nets)} in lesson 12's record",
        f"holds {span(xeon['product_b1'])} for the Xeon",
        f"take {rq['seed0']} % of the small network's integer pass and {rq['wide']} % of the wide one's",
        f"only tied float32 at batch 256 ({span(avx2['product_b256'])}) and lost at batch 1 "
        f"({span(avx2['product_b1'])})",
        f"the integer networks {networks[0]:.2f} to {networks[-2]:.2f} times float32's speed in all but one "
        f"of {len(networks) // 2} builds",
        f"int32 requantization: {span(xeon['network_seed0_int32'])} / {span(xeon['network_wide_int32'])} "
        f"in {len(xeon['network_wide_int32'])} runs",
        f"(int64; with int32 {span(xeon['loop_network_seed0_int32'] + xeon['loop_network_wide_int32'])})",
        f"took {span(xeon['elementwise_int32_over_int64'])} times as long as the same in int32",
        f"the EPYC 25/17 ({epyc_builds} builds)",
        f"the AMD EPYC 25/17's {epyc_builds} builds above every Xeon build",
        f"lesson 12's {epyc_builds} builds on the EPYC 25/17 ran its wide int32 network at "
        f"{span(epyc['network_wide_int32'])} times float32's speed",
        inside,
        f"lesson 12's {epyc_builds} builds on the EPYC 25/17: {span(epyc['network_wide'])}, "
        f"{below} of them under 1.5",
    ]:
        assert phrase in readme, f"README.md or benchmarks/README.md should say: {phrase}"


def test_every_run_names_a_known_machine_and_setting_and_holds_ratios():
    record = json.loads((ROOT / "notebooks" / "data" / "timings" / "lesson12_speed.json").read_text())
    assert record["runs"] and len(record["excluded"]) == 3
    for run in record["runs"]:
        assert run["machine"] in record["machines"] and run["setting"] in record["settings"]
        ratios = {k: v for k, v in run.items() if isinstance(v, list) and not k.endswith("_pct")}
        assert ratios and all(0 < v[0] < 100 for v in ratios.values())
        assert all(len(v) == 4 and v[1] <= v[0] <= v[2] for v in ratios.values() if len(v) > 1)


def test_parse_reads_a_ratio_line_and_the_shares_after_it():
    script = _script()
    text = ("network, wide: integer over float32 0.96 [0.92, 1.06] (21 interleaved runs)\n"
            "    integer pass: products 26 %, requantizations 66 %, the rest 8 %\n"
            "unstructured, CSR          : over dense float32 0.69 [0.62, 0.76] (21 interleaved runs)\n"
            "batch 256: int8 over float32 3.3 (a line in another form is not read)\n")
    assert script.parse(text) == {"network_wide": [0.96, 0.92, 1.06, 21], "network_wide_shares_pct": [26, 66],
                                  "unstructured_csr": [0.69, 0.62, 0.76, 21]}
    text = ("network, seed 0, int32 requantization: integer over float32 1.25 [1.15, 1.47] "
            "(21 interleaved runs)\n"
            "    over the same network with int64 2.34 [2.25, 2.52] (21 interleaved runs)\n"
            "network, wide: integer over float32 0.96 [0.92, 1.06] (21 interleaved runs)\n"
            "    over the same network with int64 2.0 [1.9, 2.1] (21 interleaved runs)\n")  # not after int32
    assert script.parse(text) == {"network_seed0_int32": [1.25, 1.15, 1.47, 21],
                                  "network_seed0_int32_over_int64": [2.34, 2.25, 2.52, 21],
                                  "network_wide": [0.96, 0.92, 1.06, 21]}


def test_a_build_is_a_new_execution_not_new_text():
    """A commit that edits what a cell printed (a check's message), or runs one cell below the first
    again, is not a build; executing the notebook from the top is, whatever it prints; a notebook
    stored without execution metadata is told from the previous one by its printed lines."""
    script = _script()

    def nb(first, later, text):
        def code(ran):
            meta = {"execution": {"iopub.execute_input": ran}} if ran else {}
            return {"cell_type": "code", "outputs": [{"text": text}], "metadata": meta}

        return {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "x"}, code(first), code(later)]}

    def key(first, later, text):
        return script.build_key(nb(first, later, text), text)

    built = key("2026-12-01T10:00:00Z", "2026-12-01T10:00:09Z", "int8 product 3.1x")
    assert key("2026-12-01T10:00:00Z", "2026-12-01T10:00:09Z", "another message") == built
    assert key("2026-12-01T10:00:00Z", "2026-12-01T11:30:00Z", "int8 product 3.1x") == built  # one cell again
    assert key("2026-12-02T07:00:00Z", "2026-12-02T07:00:09Z", "int8 product 3.1x") != built  # rebuilt
    stripped = key(None, None, "int8 product 3.1x")
    assert stripped != built and key(None, None, "int8 product 3.2x") != stripped  # no metadata: the text
    assert key(None, None, "int8 product 3.1x") == stripped
