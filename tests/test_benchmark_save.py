"""benchmarks/run.py --save: the raw output of a run is kept with the commit it measured."""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import pytest

from conftest import load_benchmark, require_git_history

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _run():
    return load_benchmark("run")


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


def test_save_shortens_a_long_list_of_figures_in_the_file_name(tmp_path):
    """Nine of issue 12's figures joined made a name past 255 bytes (OSError after a whole run)."""
    run = _run()
    names = ["compression_ratio", "compression_ratio_vs_right_sized", "compression_acc_drop_pt",
             "momentum_state_8bit_acc_drop_pt", "int8_matmul_speedup_b256", "int8_matmul_speedup_b1",
             "int8_model_speedup_b256", "channel_pruning_speedup_b256", "channel_pruning_acc_drop_pt"]
    path = run.save("text", names, "txt", folder=tmp_path, commit="abc1234")
    assert path.name.endswith("_compression_ratio-and-8-more.txt") and path.read_text().endswith("text\n")
    short = run.save("text", names[:2], "txt", folder=tmp_path, commit="abc1234")
    assert short.name.endswith("_compression_ratio-compression_ratio_vs_right_sized.txt")


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

    require_git_history()
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
    require_git_history()
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "benchmarks/results"], capture_output=True,
                             text=True, check=True).stdout.split()
    missing = sorted(cited - set(tracked))
    assert not missing, f"README or the benchmark log cites outputs that are not committed: {missing}"


def test_the_readme_table_has_a_row_for_every_figure():
    """README's section *Speed and size* shows every figure benchmarks/run.py measures, one table row each
    that starts with the figure's name and gives a value and a goal."""
    import re

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Speed and size", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1].split(":")[0])}
    missing = sorted(set(_run().FIGURES) - named)
    assert not missing, f"README's table has no row for {missing}"
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split(" | ")]
        assert len(cells) == 3, f"a row without three cells: {row[:80]}"
        assert re.search(r"\d", cells[1]), f"a row without a value: {row[:80]}"
        assert re.search(r"<=|>=|reported", cells[2]), f"a row without a goal: {row[:80]}"


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
    """notebook_seconds_total: each round's total and their median; per round the probes' median and range,
    the load's and the steal's medians; over the run the probes' median, the total over it, and the
    correlations of each notebook run's relative seconds with its probe and its steal. Medians, not means
    (the data are skewed); states of rounds or notebooks not in the figures are left out."""
    import math

    run = _run()

    def nb(seconds):
        return run.NotebookRun(seconds=seconds, start=0.5, cells=seconds - 1.0, shutdown=0.5, peak_mb=100.0)

    monkeypatch.setattr(run, "_NOTEBOOK_CACHE", {"00_a": [nb(2.0), nb(6.0), nb(2.5)],
                                                 "01_b": [nb(2.0), nb(9.0), nb(2.5)],
                                                 "02_c": [nb(1.0), nb(3.0), nb(2.0)]})
    state = run.MachineState
    monkeypatch.setattr(run, "_MACHINE", [
        state(0, "00_a", 0.5, 0.1, 1.0), state(0, "01_b", 0.6, 0.2, 2.0),
        state(0, "02_c", 1.4, 3.0, math.nan),
        state(1, "00_a", 1.5, 2.0, 9.0), state(1, "01_b", 1.1, 1.0, 8.0), state(1, "02_c", 1.3, 1.2, 7.0),
        state(2, "00_a", 1.0, 0.3, 1.0), state(2, "01_b", 0.9, 0.5, 3.0), state(2, "02_c", 0.2, 0.4, 2.0),
        state(3, "00_a", 99.0, 99.0, 99.0), state(0, "gone", 99.0, 99.0, 99.0)])
    out = run.notebook_seconds_total()
    assert [out[f"round_{r}"] for r in (1, 2, 3)] == [5.0, 18.0, 7.0] and out["median"] == 7.0
    assert [out[f"probe_s_round_{r}_median"] for r in (1, 2, 3)] == [0.6, 1.3, 0.9]
    assert [(out[f"probe_s_round_{r}_min"], out[f"probe_s_round_{r}_max"]) for r in (1, 2, 3)] == [
        (0.5, 1.4), (1.1, 1.5), (0.2, 1.0)]
    assert [out[f"load_1min_round_{r}_median"] for r in (1, 2, 3)] == [0.2, 1.2, 0.4]
    assert [out[f"steal_pct_round_{r}_median"] for r in (1, 2, 3)] == [1.5, 8.0, 2.0]
    assert out["probe_s_median"] == 1.0 and out["median_over_probe_median"] == 7.0
    assert "steal_vs_notebook_r" not in out  # a NaN steal: undefined, left out
    relative = [0.8, 0.8, 0.5, 2.4, 3.6, 1.5, 1.0, 1.0, 1.0]  # each run over its notebook's median
    probes = [0.5, 0.6, 1.4, 1.5, 1.1, 1.3, 1.0, 0.9, 0.2]
    assert out["probe_vs_notebook_r"] == round(float(np.corrcoef(probes, relative)[0, 1]), 2)


def test_each_notebook_run_gets_its_machine_state_before_it(monkeypatch, tmp_path):
    """The collection probes the machine just before each notebook, reads the steal around it, tags each
    state with its round, and starts from an empty record."""
    run = _run()
    for name in ("00_a", "01_b"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    events = []
    jiffies = iter([(0, 100), (5, 200), (5, 300), (5, 400), (10, 500), (30, 600), (30, 700), (30, 800)])

    def fake_run(path):
        events.append(("run", path.stem))
        return run.NotebookRun(seconds=1.0, start=0.1, cells=0.8, shutdown=0.1, peak_mb=1.0)

    def fake_probe():
        events.append(("probe", None))
        return 0.5 + 0.1 * len(events)

    monkeypatch.setattr(run, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(run, "NOTEBOOK_ROUNDS", 2)
    monkeypatch.setattr(run, "_NOTEBOOK_CACHE", {})
    monkeypatch.setattr(run, "_MACHINE", [run.MachineState(7, "stale", 1.0, 1.0, 1.0)])
    monkeypatch.setattr(run, "run_notebook", fake_run)
    monkeypatch.setattr(run, "speed_probe", fake_probe)
    monkeypatch.setattr(run, "_cpu_jiffies", lambda: next(jiffies))
    monkeypatch.setattr(run.os, "getloadavg", lambda: (0.25, 0.0, 0.0))
    run._notebook_figures()
    assert events == [("probe", None), ("run", "00_a"), ("probe", None), ("run", "01_b")] * 2
    assert [(m.round, m.notebook) for m in run._MACHINE] == [(0, "00_a"), (0, "01_b"),
                                                              (1, "00_a"), (1, "01_b")]
    assert [round(m.probe_s, 2) for m in run._MACHINE] == [0.6, 0.8, 1.0, 1.2]
    assert [m.steal_pct for m in run._MACHINE] == [5.0, 0.0, 20.0, 0.0]
    assert all(m.load_1min == 0.25 for m in run._MACHINE)


def test_the_speed_probe_is_the_median_of_its_runs_and_leaves_settings_alone(monkeypatch):
    """speed_probe times only its work (built and warmed once, then cached), returns the median of
    ``repeat`` runs, rejects a repeat below 1, and changes neither torch's thread count nor matplotlib's
    backend."""
    import matplotlib
    import torch

    run = _run()
    backend, threads = matplotlib.get_backend(), torch.get_num_threads()
    work = run._probe_work()
    assert run._probe_work() is work and run._PROBE_WORK == [work]
    assert (matplotlib.get_backend(), torch.get_num_threads()) == (backend, threads)
    clock = iter([0.0, 1.0, 10.0, 13.0, 20.0, 20.5])  # runs of 1, 3 and 0.5 s
    monkeypatch.setattr(run, "_PROBE_WORK", [lambda: None])
    monkeypatch.setattr(run.time, "perf_counter", lambda: next(clock))
    assert run.speed_probe(repeat=3) == 1.0
    for bad, error in ((0, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="repeat"):
            run.speed_probe(repeat=bad)


def test_library_ab_puts_the_earlier_library_first_for_the_kernel(tmp_path):
    """benchmarks/library_ab.py exports lessons_lib at a commit, and a Python started as the kernels are
    (from notebooks/, that folder first on PYTHONPATH) imports it instead of the working tree's."""
    require_git_history()  # it exports the library from git
    module = load_benchmark("library_ab")
    folder = module.export_library("HEAD", tmp_path)
    assert (folder / "lessons_lib" / "__init__.py").is_file()
    assert module.imported_from(str(folder)) == str(folder / "lessons_lib" / "__init__.py")
    assert not module.imported_from(None).startswith(str(folder))


def test_the_two_core_total_hands_out_whole_notebooks_in_lesson_order(monkeypatch, tmp_path):
    """notebook_seconds_total_two_cores: the workers are up before the clock; every notebook runs once a
    round, handed out one at a time in lesson order to whichever of the two workers is free; each round's
    wall time is the makespan of that hand-out; medians are medians; the memory figure sums only notebooks
    that overlapped, over every round. Real threads and real (short) waits: in rounds 1 to 3 the durations
    are (0.25, 0.1, 0.1, 0.1, 0.3) s times 1, 2 and 1.4, so on two workers in lesson order the makespans
    are 0.55, 1.1 and 0.77 s (on one worker 0.85 s times the factor, on three 0.4 s times it)."""
    import statistics
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    run = _run()
    names = ["00_a", "01_b", "02_c", "03_d", "04_e"]
    base = dict(zip(names, (0.25, 0.1, 0.1, 0.1, 0.3), strict=True))
    factor, offset = (1.0, 2.0, 1.4), (0.0, 10.0, 100.0)
    # overlapping: a with b, c, d; d with e. Round 2's peaks make a+c the largest such pair (300); adjacent
    # pairs only would give 260 (d+e), every pair 450 (c+e)
    peaks = ({"00_a": 100.0, "01_b": 10.0, "02_c": 20.0, "03_d": 30.0, "04_e": 200.0},
             {"00_a": 100.0, "01_b": 10.0, "02_c": 200.0, "03_d": 10.0, "04_e": 250.0},
             {"00_a": 1.0, "01_b": 1.0, "02_c": 1.0, "03_d": 1.0, "04_e": 1.0})
    for name in names:
        (tmp_path / f"{name}.ipynb").write_text("{}")
    events, lock, rounds_seen, chunks = [], threading.Lock(), {name: 0 for name in names}, []
    real_worker_id = run._worker_id

    def worker_id(i):
        with lock:
            events.append("warm")
        return real_worker_id(i)

    def fake_run(path):
        with lock:
            events.append(path.stem)
            r = rounds_seen[path.stem]
            rounds_seen[path.stem] += 1
        time.sleep(base[path.stem] * factor[r])
        return run.NotebookRun(seconds=base[path.stem] + offset[r], start=0.0, cells=0.0, shutdown=0.0,
                               peak_mb=peaks[r][path.stem])

    class Pool(ThreadPoolExecutor):
        def map(self, fn, *iterables, **kwargs):
            chunks.append(kwargs.get("chunksize", 1))
            return super().map(fn, *iterables, **kwargs)

    jiffies = iter([(0, 100), (4, 200), (4, 300), (4, 400), (10, 500), (10, 600)])
    monkeypatch.setattr(run, "NOTEBOOKS", tmp_path)
    monkeypatch.setattr(run, "NOTEBOOK_ROUNDS", 3)
    monkeypatch.setattr(run, "run_notebook", fake_run)
    monkeypatch.setattr(run, "_worker_id", worker_id)
    monkeypatch.setattr(run, "_notebook_pool", lambda: Pool(max_workers=run.NOTEBOOK_WORKERS))
    monkeypatch.setattr(run, "_cpu_jiffies", lambda: next(jiffies))
    out = run.notebook_seconds_total_two_cores()
    assert [e for e in events if e != "warm"] == names * 3
    assert events.index(names[0]) > max(i for i, e in enumerate(events) if e == "warm")  # warm-up first
    assert set(chunks) == {1}  # one notebook at a time to a free worker
    walls = [out[f"round_{r}"] for r in (1, 2, 3)]
    for wall, expected in zip(walls, (0.55, 1.1, 0.77), strict=True):
        assert expected - 0.02 <= wall < expected + 0.12, walls
    assert out["median"] == statistics.median(walls)
    assert [out[f"steal_pct_round_{r}"] for r in (1, 2, 3)] == [4.0, 0.0, 0.0]
    assert out["notebook_seconds_summed_median"] == 50.85  # rounds sum to 0.85, 50.85, 500.85
    assert out["lesson_04_seconds"] == 10.3 and out["lesson_00_seconds"] == 10.25  # medians over the rounds
    assert out["overlapping_pair_peak_mb_max"] == 300.0
    assert out["workers"] == 2


def test_the_warm_up_waits_for_every_worker_and_gives_up_in_time(monkeypatch):
    """_start_workers hands out waits until it has seen NOTEBOOK_WORKERS distinct workers, and raises when
    it has not within its timeout."""
    run = _run()

    class OneWorkerFirst:  # one worker answers the first three hand-outs, then the second joins
        def __init__(self, joins_at):
            self.calls, self.joins_at = 0, joins_at

        def map(self, fn, items):
            self.calls += 1
            ids = [(1, 1)] * len(list(items))
            if self.calls >= self.joins_at:
                ids[-1] = (2, 1)
            return ids

    pool = OneWorkerFirst(joins_at=4)
    run._start_workers(pool, timeout=10.0)
    assert pool.calls == 4
    with pytest.raises(RuntimeError, match="only 1 of 2 notebook workers started"):
        run._start_workers(OneWorkerFirst(joins_at=10**9), timeout=0.05)


def test_the_two_core_pool_spawns_two_workers_that_load_this_file():
    """The real pool, used as `python benchmarks/run.py` uses it: two spawned processes, neither of them this
    one, both up after the warm-up, each able to load benchmarks/run.py again by its module name."""
    import subprocess

    code = ("import os, sys; sys.path.insert(0, 'benchmarks'); import run\n"
            "with run._notebook_pool() as pool:\n"
            "    run._start_workers(pool)\n"
            "    ids = set(pool.map(run._worker_id, range(6)))\n"
            "    print(pool._mp_context.get_start_method(), len({pid for pid, _ in ids}), "
            "os.getpid() in {pid for pid, _ in ids})\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["spawn", "2", "False"]


def test_browser_figures_are_read_only_from_a_run_in_one_process(tmp_path, monkeypatch):
    """The test command runs two workers; a browser figure measured beside the other one is not
    reported (its goal is for a browser with the machine to itself)."""
    run = _run()
    path = tmp_path / "results.json"
    monkeypatch.setattr(run, "JUPYTERLAB_RESULTS", path)
    assert run.play_fps() is None  # no run yet
    path.write_text(json.dumps({"play_fps": 24.0, "test_workers": 2}))
    assert run.play_fps() is None
    path.write_text(json.dumps({"play_fps": 24.0, "test_workers": 1}))
    assert run.play_fps() == 24.0
    path.write_text(json.dumps({"play_fps": 23.0}))  # no count: 0854138's two-worker runs wrote none
    assert run.play_fps() is None
