"""Lesson 12's speed record is what ``scripts/record_lesson12_speed.py`` makes of the git history and
of the raw text of the uncommitted runs: rebuilt here and compared whole (so an edited number fails).
The rebuild needs the git history: without it (a shallow clone, a downloaded archive) the two tests
that need it are skipped with that reason, and fail instead when ``LESSONS_REQUIRE_HISTORY=1``
(set by ``.ci/run``)."""

import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import require_git_history

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
            require_git_history(f"the git history does not hold commit {commit}: lesson 12's record needs a "
                                "full clone")
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
    record's: each sentence below is rebuilt from the record (the EPYC 25/17's by its first four builds, and
    by what holds for all its builds, checked here, since its builds grow at every rebuild there)."""
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
    avx2 = seen[("Xeon", "oneDNN held to AVX2")]
    mkl_avx2 = seen[("Xeon", "MKL and oneDNN held to AVX2")]
    xeon_int32 = [run["ran_utc"] for run in record["runs"]
                  if run["machine"] == "Xeon" and "network_wide_int32" in run]
    words = {6: "six", 9: "nine", 11: "eleven"}  # as the sentences spell the counts
    wide_nov = sorted(nov["network_wide"])
    assert f"{wide_nov[0]:.2f} to {wide_nov[-2]:.2f}" == "1.53 to 1.77" and wide_nov[-1] > 1.77  # ten of them
    both = {key: xeon[key] + nov[key] for key in xeon if key in nov}
    nets = both["loop_network_seed0"] + both["loop_network_wide"]
    networks = sorted(both["network_seed0"] + both["network_wide"])
    rq = {key: span(xeon[f"network_{key}_shares_pct_rq"], "{:.0f}") for key in ("seed0", "wide")}
    first4 = {key: values[:4] for key, values in epyc.items()}  # the EPYC's first four builds (3 December)
    ratios4 = ("product_b256", "product_b1", "network_seed0", "network_wide")
    assert all(min(epyc[key]) > max(xeon[key]) for key in ratios4), "README.md says: every EPYC build above"
    quoted = {"loop_product_b256": both["loop_product_b256"], "loop_product_b1": both["loop_product_b1"],
              "loop_network_seed0": nets, "loop_network_wide": nets}  # the ranges the sentence quotes
    assert all(min(quoted[key]) <= v <= max(quoted[key]) for key in quoted for v in first4[key]), \
        "benchmarks/README.md says: the EPYC's first four builds inside these ranges"
    assert any(not min(quoted[key]) <= v <= max(quoted[key]) for key in quoted for v in epyc[key][4:]), \
        "benchmarks/README.md says: not every later EPYC build inside these ranges"
    assert 1.46 in epyc["network_wide"][4:], "benchmarks/README.md says: a later one at 1.46"
    epyc_runs = [run for run in record["runs"] if run["machine"] == "EPYC 25/17"]  # as the notebook runs, all
    assert min(run["ran_utc"] for run in epyc_runs).startswith("2026-12-03")  # "builds from 3 December on"
    assert {run[key][3] for run in epyc_runs for key in ratios4} == {21}  # "medians of 21 runs"
    xeon_shares = {net: [run[f"network_{net}_shares_pct"] for run in record["runs"]
                         if (run["machine"], run["setting"]) == ("Xeon", "default")
                         and f"network_{net}_shares_pct" in run] for net in ("seed0", "wide")}
    over_100 = [sum(s) for net in ("seed0", "wide") for s in xeon_shares[net] if sum(s) > 100]
    rq_within = {net: span([s[1] for s in shares if sum(s) <= 100], "{:.0f}")
                 for net, shares in xeon_shares.items()}
    avx2_runs = [run["source"] for run in record["runs"] if run["setting"] == "oneDNN held to AVX2"]
    archive = "## The README's section *Speed and size* until"  # the old text, last in benchmarks/README.md
    log = (ROOT / "benchmarks" / "README.md").read_text().split(archive)[0]  # the archive stays as it was
    texts = [(ROOT / "README.md").read_text(), log]
    readme = " ".join(word for text in texts for word in text.split())
    for phrase in [
        f"at {span(both['loop_product_b256'])} of float32's speed at batch 256 and "
        f"{span(both['loop_product_b1'])} at batch 1, the integer networks at {span(nets)}",
        f"{span(both['loop_product_b1'])} on the reference loop in lesson 12's record",
        f"both {span(nets)} in lesson 12's record",
        f"take {rq['seed0']} % of the small network's integer pass and {rq['wide']} % of the wide one's",
        f"only tied float32 at batch 256 ({span(avx2['product_b256'])}) and lost at batch 1 "
        f"({span(avx2['product_b1'])})",
        f"the integer networks {networks[0]:.2f} to {networks[-2]:.2f} times float32's speed in all but one "
        f"of {len(networks) // 2} builds",
        f"int32 requantization: {span(xeon['network_seed0_int32'])} / {span(xeon['network_wide_int32'])} "
        f"in {len(xeon['network_wide_int32'])} runs",
        f"(int64; with int32 {span(xeon['loop_network_seed0_int32'] + xeon['loop_network_wide_int32'])})",
        f"took {span(xeon['elementwise_int32_over_int64'])} times as long as the same in int32",
        "the EPYC 25/17 (its builds from 3 December on)",
        "every AMD EPYC 25/17 build above every Xeon build on the product (both batches) and both networks;",
        f"lesson 12's first four builds on the EPYC 25/17 ran its wide int32 network at "
        f"{span(first4['network_wide_int32'])} times float32's speed",
        "(the EPYC 25/17's first four builds inside these ranges, not every later one: "
        "lesson 12 prints them)",
        f"lesson 12's builds on the EPYC 25/17, medians of 21 runs: the first four "
        f"{span(first4['network_wide'])}, at least one later one under 1.5 (1.46)",
        f"the int8 product {min(both['product_b256']):.1f} to {max(both['product_b256']):.1f} times faster "
        "at batch 256 (the tops from builds under load)",
        f"(on the Xeon {span(xeon['network_seed0'])} and {span(xeon['network_wide'])}: slower or about tied)",
        f"builds started between 1 December {min(xeon_int32)[11:]} and 2 December {max(xeon_int32)[11:]} UTC",
        f"with MKL held to AVX2 as well, {span(mkl_avx2['loop_product_b1'])} at batch 1",
        f"in {words[len(avx2['product_b256'])]} runs of lesson 12's section 10 code",
        f"lesson 12's record: {span(xeon['network_wide'])} in {len(xeon['network_wide'])} builds",
        f"{wide_nov[0]:.2f} to {wide_nov[-2]:.2f} in ten of {words[len(nov['network_wide'])]} builds",
        f"add up to more than 100 % ({', '.join(map(str, over_100[:-1]))} and {over_100[-1]} %) "
        f"{rq_within['seed0']} % and {rq_within['wide']} %",
        f"({words[sum('two processes' in s for s in avx2_runs)]} of them as two processes at once on the two "
        "cores",
    ]:
        assert phrase in readme, f"README.md or benchmarks/README.md should say: {phrase}"
        # every sentence of the same form, its numbers aside, says the same: an edited copy elsewhere fails
        form = re.sub(r"\d+(?:\\\.\d+)?", r"[\\d.]+", re.escape(phrase))
        assert set(re.findall(form, readme)) == {phrase}, f"a README sentence like '{phrase}' says otherwise"


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


def test_a_build_on_the_reference_loop_is_refused(monkeypatch):
    """A build that printed onednn_path False (no VNNI, or oneDNN switched off) repeats its main runs as its
    loop lines: the record refuses it rather than hold them twice; a build on the oneDNN path is read."""
    script = _script()
    line = "batch 256: int8 over float32 0.03 [0.02, 0.04] (5 interleaved runs)\n"
    ran = {"execution": {"iopub.execute_input": "2026-12-04T00:00"}}
    nb = {"cells": [{"cell_type": "code", "metadata": ran}]}
    monkeypatch.setattr(script, "_git", lambda *args: "")  # no commit before FIRST
    monkeypatch.setattr(script, "machine_of", lambda text, ran: "EPYC 25/17")
    for path_flag, refused in (("True", False), ("False", True)):
        text = f"so torch._int_mm runs oneDNN (onednn_path): {path_flag}\n" + line
        monkeypatch.setattr(script, "distinct_builds",
                            lambda last, text=text: iter([("f" * 40, "2026-12-04T00:00", "p", nb, text)]))
        if refused:
            with pytest.raises(ValueError, match="reference loop"):
                script.stored_builds("HEAD")
        else:
            builds, _ = script.stored_builds("HEAD")
            assert builds[0]["product_b256"] == [0.03, 0.02, 0.04, 5]
