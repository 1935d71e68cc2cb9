"""benchmarks/run.py --save: the raw output of a run is kept with the commit it measured."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run():
    spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_save_writes_the_text_with_the_commit(tmp_path):
    run = _run()
    path = run.save("machine: x\nfigure  value", ["ci_seconds"], "txt", folder=tmp_path, commit="abc1234")
    assert path.parent == tmp_path and path.name.endswith("_ci_seconds.txt")
    head, *rest = path.read_text().splitlines()
    prefix = "# python benchmarks/run.py, commit "
    assert head.startswith(prefix) and len(head) > len(prefix)
    assert rest == ["machine: x", "figure  value"]


def test_save_puts_the_commit_into_json(tmp_path):
    run = _run()
    path = run.save(json.dumps({"machine": {"cores": 2}, "ci_seconds": 900.0}), None, "json", folder=tmp_path,
                    commit="abc1234")
    assert path.name.endswith("_all.json")
    data = json.loads(path.read_text())
    assert data["ci_seconds"] == 900.0 and data["machine"] == {"cores": 2} and data["commit"]


def test_save_never_overwrites(tmp_path):
    run = _run()
    first = run.save("one", ["x"], "txt", folder=tmp_path, commit="abc1234")
    second = run.save("two", ["x"], "txt", folder=tmp_path, commit="abc1234")
    assert first != second and first.read_text().endswith("one\n") and second.read_text().endswith("two\n")


def test_main_saves_the_commit_read_before_measuring(tmp_path, monkeypatch, capsys):
    """main() reads the commit before measuring and passes it to save(): a commit made during a long
    run is not the one the figures measured."""
    run = _run()
    checkout = {"commit": "before"}

    def measure(names):
        checkout["commit"] = "after"  # a commit made while the figures were being measured
        return {"ci_seconds": 900.0}

    monkeypatch.setattr(run, "commit_measured", lambda: checkout["commit"])
    monkeypatch.setattr(run, "measure", measure)
    monkeypatch.setattr(run, "RESULTS", tmp_path)
    assert run.main(["--only", "ci_seconds", "--save"]) == 0
    (path,) = tmp_path.iterdir()
    assert path.read_text().splitlines()[0] == "# python benchmarks/run.py, commit before"
    assert "saved" in capsys.readouterr().out


def test_save_names_the_program_in_json(tmp_path):
    run = _run()
    path = run.save(json.dumps({"ci_seconds": 900.0}), None, "json", folder=tmp_path, commit="abc1234",
                    program="python benchmarks/setup_ab.py exit-freeze")
    data = json.loads(path.read_text())
    assert (data["program"], data["commit"]) == ("python benchmarks/setup_ab.py exit-freeze", "abc1234")


def test_commit_measured_names_this_checkout():
    import subprocess

    run = _run()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    assert run.commit_measured().split(" ")[0] == head


def test_every_saved_output_readme_cites_is_in_the_repository():
    """README's figures and the benchmark log (benchmarks/README.md) name the raw outputs they came from
    in benchmarks/results/: each must be committed (a clean clone has it), not only on the machine that
    measured it. Either document may name them benchmarks/results/... or results/..., any extension."""
    import re
    import subprocess

    readme = (ROOT / "README.md").read_text()
    log = (ROOT / "benchmarks" / "README.md").read_text()
    path = r"(?<![\w./-])(?:\./)?(?:benchmarks/)?results/([^`\s)\]]+)"  # any extension, either form
    in_readme = {"benchmarks/results/" + name for name in re.findall(path, readme)}
    in_log = {"benchmarks/results/" + name for name in re.findall(path, log)}
    assert in_readme, "README cites no saved output"
    assert in_log, "the benchmark log cites no saved output"
    cited = in_readme | in_log
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "benchmarks/results"], capture_output=True,
                             text=True, check=True).stdout.split()
    missing = sorted(cited - set(tracked))
    assert not missing, f"README or the benchmark log cites outputs that are not committed: {missing}"


def test_commit_measured_marks_changes_outside_the_results(tmp_path):
    """A changed or untracked file marks the run '+ uncommitted changes'; a result saved in
    benchmarks/results/ and not yet committed does not."""
    import subprocess

    run = _run()

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "lesson.py").write_text("a = 1\n")
    git("add", "lesson.py")
    git("commit", "-q", "-m", "one")
    assert not run.commit_measured(tmp_path).endswith("uncommitted changes")
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "benchmarks" / "results" / "run.txt").write_text("saved\n")
    assert not run.commit_measured(tmp_path).endswith("uncommitted changes")
    (tmp_path / "new_lesson.py").write_text("b = 2\n")
    assert run.commit_measured(tmp_path).endswith(" + uncommitted changes")
    (tmp_path / "new_lesson.py").unlink()
    (tmp_path / "lesson.py").write_text("a = 2\n")
    assert run.commit_measured(tmp_path).endswith(" + uncommitted changes")


def test_ab_report_gives_medians_ranges_and_sums():
    """The A/B scripts' shared report (setup_ab.py, figures_ab.py): variants alternate their order,
    each row gives median [min, max] per variant, and the last line sums the medians."""
    run = _run()
    first, second = ("with", "without"), ("without", "with")
    assert [run.ab_order(r) for r in range(3)] == [first, second, first]
    lines = run.ab_report({"a": {"with": [1.0, 5.0, 2.0], "without": [4.0, 3.0, 9.0]},
                           "b": {"with": [0.5], "without": [0.25]}})
    assert lines == ["a without 4.00 [3.00, 9.00]   with 2.00 [1.00, 5.00]",
                     "b without 0.25 [0.25, 0.25]   with 0.50 [0.50, 0.50]",
                     "sum of the medians: without 4.25, with 2.50"]


def test_notebook_total_reports_the_machine_state_of_each_round(monkeypatch):
    """notebook_seconds_total gives each round's total, the probes' median and range and the load's median
    in each round (a probe before every notebook), and the median total over the median of all probes."""
    run = _run()
    one = run.NotebookRun(seconds=2.0, start=0.5, cells=1.0, shutdown=0.5, peak_mb=100.0)
    slow = run.NotebookRun(seconds=6.0, start=0.5, cells=5.0, shutdown=0.5, peak_mb=100.0)
    monkeypatch.setattr(run, "_NOTEBOOK_CACHE", {"00_a": [one, slow, one], "01_b": [one, slow, slow]})
    monkeypatch.setattr(run, "_PROBES", [(0, 0.5, 0.1), (0, 0.7, 0.3), (1, 1.5, 2.0), (1, 1.1, 1.0),
                                         (2, 1.0, 0.3), (2, 0.9, 0.5)])
    out = run.notebook_seconds_total()
    assert [out[f"round_{r}"] for r in (1, 2, 3)] == [4.0, 12.0, 8.0] and out["median"] == 8.0
    assert [out[f"probe_s_round_{r}_median"] for r in (1, 2, 3)] == [0.6, 1.3, 0.95]
    assert [(out[f"probe_s_round_{r}_min"], out[f"probe_s_round_{r}_max"]) for r in (1, 2, 3)] == [
        (0.5, 0.7), (1.1, 1.5), (0.9, 1.0)]
    assert [out[f"load_1min_round_{r}_median"] for r in (1, 2, 3)] == [0.2, 1.5, 0.4]
    assert out["probe_s_median"] == 0.95 and out["median_over_probe_median"] == 8.4


def test_the_speed_probe_times_its_work():
    run = _run()
    seconds = run.speed_probe(repeat=2)
    assert 0.01 < seconds < 60 and len(run._PROBE_WORK) == 1
