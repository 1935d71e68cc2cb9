"""How the test command shares the tests between its two workers (tests/two_workers.py)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
from collections import OrderedDict
from types import SimpleNamespace

import pytest

from conftest import NOTEBOOKS, ROOT
from two_workers import (
    HEAVY_FIRST,
    SPLIT,
    GroupDealer,
    let_idle_threads_sleep,
    make_scheduler_class,
    pytest_collection_modifyitems,
    pytest_configure,
    pytest_runtest_setup,
    pytest_xdist_make_scheduler,
    rank,
)


def test_a_notebooks_cells_and_a_modules_tests_stay_together():
    deal = GroupDealer()
    ids = ["notebooks/05_nesterov.ipynb::Cell 0", "tests/test_nbgrader_course.py::test_a[01]",
           "notebooks/05_nesterov.ipynb::Cell 1", "tests/test_nbgrader_course.py::test_b",
           "notebooks/11_compression_pipeline.ipynb::Cell 0"]
    assert [deal(i) for i in ids] == ["05_nesterov.ipynb", "test_nbgrader_course.py", "05_nesterov.ipynb",
                                      "test_nbgrader_course.py", "11_compression_pipeline.ipynb"]


def test_a_split_module_is_dealt_round_robin_and_each_id_keeps_its_group():
    deal = GroupDealer()
    ids = [f"tests/test_offline.py::test_{k}" for k in range(5)]
    assert [deal(i) for i in ids] == ["test_offline.py:0", "test_offline.py:1", "test_offline.py:2",
                                      "test_offline.py:0", "test_offline.py:1"]
    assert [deal(i) for i in reversed(ids)] == ["test_offline.py:1", "test_offline.py:0", "test_offline.py:2",
                                                "test_offline.py:1", "test_offline.py:0"]  # the same again
    browser = [deal(f"tests/test_browser_routes.py::test_{k}") for k in range(3)]
    assert browser == ["test_browser_routes.py:0", "test_browser_routes.py:1", "test_browser_routes.py:0"]


def test_the_named_modules_exist_and_the_test_command_uses_two_workers():
    assert all((ROOT / "tests" / name).is_file() for name in (*SPLIT, *HEAVY_FIRST))
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # tomllib needs Python 3.11
    addopts = re.search(r'^addopts = "(.*)"$', pyproject, re.MULTILINE).group(1)
    assert addopts.startswith("-n 2 --dist loadgroup "), addopts


# --- the order and the hooks, on stand-ins for pytest's items and config -----------------------


class Item(SimpleNamespace):
    def __init__(self, path: str, name: str = "t", marked: bool = False):
        super().__init__(path=pathlib.Path(path), nodeid=f"{path}::{name}", marked=marked)

    def get_closest_marker(self, name):
        return object() if self.marked and name == "xdist_group" else None


def config(dist: str, **option):
    """A stand-in for pytest's config: ``config("loadgroup")`` the controller's under the test
    command, ``config("no", loadgroup=True)`` an xdist worker's (xdist sets its dist to no)."""
    option = SimpleNamespace(dist=dist, loadscopereorder=True, tx=["popen"] * 2, **option)
    return SimpleNamespace(option=option,
                           getoption=lambda name, default=None: {"dist": dist}.get(name, default),
                           getvalue=lambda name: {"dist": dist, "tx": ["popen"] * 2}[name])


WORKER = {"dist": "no", "loadgroup": True}


def collection() -> list[Item]:
    slow, quick = NOTEBOOKS / "11_compression_pipeline.ipynb", NOTEBOOKS / "00_start_here.ipynb"
    return [Item("tests/test_surfaces.py", "a"), Item(str(quick), "Cell 0"),
            Item("tests/test_offline.py", "p0"), Item(str(slow), "Cell 0"),
            Item("tests/test_nbgrader_course.py"), Item("tests/test_offline.py", "p1"),
            Item(str(quick), "Cell 1"), Item(str(slow), "Cell 1"), Item("tests/test_surfaces.py", "b")]


@pytest.mark.parametrize("where", ["controller", "worker"])
def test_on_two_workers_long_groups_go_first_in_the_order_of_heavy_first_then_slow_notebooks(where):
    items = collection()
    pytest_collection_modifyitems(config("loadgroup") if where == "controller" else config(**WORKER), items)
    order = [f"{i.path.name}::{i.nodeid.split('::')[1]}" for i in items]
    assert order == ["test_nbgrader_course.py::t", "test_offline.py::p0", "test_offline.py::p1",
                     "11_compression_pipeline.ipynb::Cell 0", "11_compression_pipeline.ipynb::Cell 1",
                     "00_start_here.ipynb::Cell 0", "00_start_here.ipynb::Cell 1",
                     "test_surfaces.py::a", "test_surfaces.py::b"]
    seconds = {i.path: 1.0 for i in items if i.path.suffix == ".ipynb"}
    assert rank(items[0], seconds) == (0, 0) and rank(items[-1], seconds) == (2, 0.0)


def test_in_one_process_the_collection_keeps_its_order():
    items = collection()
    before = list(items)
    pytest_collection_modifyitems(config("no"), items)
    assert items == before


def test_an_xdist_group_mark_fails_its_test_and_load_and_worksteal_are_refused():
    with pytest.raises(pytest.fail.Exception, match="xdist_group marks group nothing"):
        pytest_runtest_setup(Item("tests/test_x.py", marked=True))
    pytest_runtest_setup(Item("tests/test_x.py"))  # unmarked: nothing
    for dist in ("load", "worksteal"):
        with pytest.raises(pytest.UsageError, match="loadgroup, or -n 0"):
            pytest_configure(config(dist))
    for dist in ("loadgroup", "loadfile", "no"):
        pytest_configure(config(dist))


def test_the_scheduler_is_ours_only_with_loadgroup_and_keeps_the_collections_order():
    assert pytest_xdist_make_scheduler(config("load"), log=None) is None
    assert pytest_xdist_make_scheduler(config("no"), log=None) is None
    conf = config("loadgroup")
    scheduler = pytest_xdist_make_scheduler(conf, log=None)
    assert isinstance(scheduler, make_scheduler_class().__mro__[1])  # xdist's LoadScopeScheduling
    assert isinstance(scheduler._split_scope, GroupDealer)
    assert conf.option.loadscopereorder is False


class Worker:
    """A stand-in for xdist's WorkerController: records what it is sent."""

    def __init__(self, name: str):
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices):
        self.sent.extend(indices)

    def shutdown(self):
        self.shutting_down = True


def run_schedule(ids: list[str]):
    """Two workers on ``ids``; each runs its tests in order, one at a time, and (as xdist's worker
    does) starts a test only once it holds the next or is told to stop. Returns each worker's ids,
    and what each had been sent when its first test ended."""
    conf = config("loadgroup")
    conf.option.loadscopereorder = False  # as pytest_xdist_make_scheduler sets it
    scheduler = make_scheduler_class()(conf)
    workers = [Worker("gw0"), Worker("gw1")]
    for w in workers:
        scheduler.add_node(w)
    for w in workers:
        scheduler.add_node_collection(w, ids)
    scheduler.schedule()
    done = {w: 0 for w in workers}
    first_sent = {}
    while not scheduler.tests_finished or any(done[w] < len(w.sent) for w in workers):
        runnable = [w for w in workers
                    if len(w.sent) - done[w] >= 2 or (w.shutting_down and done[w] < len(w.sent))]
        assert runnable, "neither worker can run"
        w = runnable[0] if done[runnable[0]] <= done[runnable[-1]] else runnable[-1]
        scheduler.mark_test_complete(w, w.sent[done[w]])
        done[w] += 1
        first_sent.setdefault(w.gateway.id, [ids[i] for i in w.sent])
    return {w.gateway.id: [ids[i] for i in w.sent] for w in workers}, first_sent


def test_each_group_runs_whole_on_one_worker_and_every_test_runs_once():
    ids = ([f"notebooks/0{n}_x.ipynb::Cell {c}" for n in range(4) for c in range(5)]
           + [f"tests/test_offline.py::test[{p}]" for p in range(3)]
           + [f"tests/test_m{k}.py::t{j}" for k in range(3) for j in range(4)])
    ran, _ = run_schedule(ids)
    assert sorted(ran["gw0"] + ran["gw1"]) == sorted(ids)
    deal = GroupDealer()
    for group in {deal(i) for i in ids}:
        holders = {w for w, got in ran.items() if any(deal(i) == group for i in got)}
        assert len(holders) == 1, (group, ran)


def handed(held: dict[str, bool], queue: list[str]) -> list[str]:
    """What _assign_work_unit sends a worker that holds the groups ``held`` (group -> its one test
    done?) with ``queue`` waiting (one test a group): the ids sent."""
    scheduler = make_scheduler_class()(config("loadgroup"))
    worker = Worker("gw0")
    ids = [f"{group}-id" for group in [*held, *queue]]
    scheduler.assigned_work[worker] = {group: {f"{group}-id": done} for group, done in held.items()}
    scheduler.registered_collections[worker] = ids
    scheduler.workqueue = OrderedDict((group, {f"{group}-id": False}) for group in queue)
    scheduler._assign_work_unit(worker)
    return [ids[i] for i in worker.sent]


def test_a_held_share_is_skipped_a_finished_one_is_not_and_with_nothing_else_queued_it_is_handed():
    queue = ["test_offline.py:2", "test_m.py"]
    assert handed({"test_offline.py:0": False}, queue) == ["test_m.py-id"]  # still to run: skipped
    assert handed({"test_offline.py:0": True}, queue) == ["test_offline.py:2-id"]  # done: the queue's order
    assert handed({"test_offline.py:0": False}, queue[:1]) == ["test_offline.py:2-id"]  # nothing else


def test_a_worker_is_not_handed_a_second_share_of_a_split_module_while_it_holds_one():
    offline = [f"tests/test_offline.py::test[{p}]" for p in range(3)]
    ids = ["tests/test_nbgrader_course.py::t0", "tests/test_nbgrader_course.py::t1",
           "tests/test_nbgrader_course.py::t2", *offline,
           *[f"tests/test_m{k}.py::t{j}" for k in range(2) for j in range(4)]]
    _, first = run_schedule(ids)
    # xdist's own scheduler would send the worker holding test[0] test[1] too before test[0] ends
    for got in first.values():
        assert sum(i in offline for i in got) <= 1, first


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a nested pytest: without the outer run's PYTEST_* variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")} | extra


def test_xdists_own_loadgroup_still_splits_a_marked_group(tmp_path):
    """The reason for the scheduler (module docstring), checked on xdist itself, outside the
    repository: four tests in two files marked as one xdist_group, on two workers. When this fails,
    xdist's own loadgroup groups again and tests/two_workers.py's scheduler may go."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    for name in ("a", "b"):
        (tmp_path / f"test_{name}.py").write_text(
            "import pytest\n\n"
            + "".join(f"@pytest.mark.xdist_group('g')\ndef test_{k}():\n    pass\n\n" for k in range(2)))
    result = subprocess.run([sys.executable, "-m", "pytest", "-v", "-n", "2", "--dist", "loadgroup",
                             "-p", "no:cacheprovider"], cwd=tmp_path, env=clean_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    workers = set(re.findall(r"\[(gw\d)\][^\n]*? PASSED test_[ab]\.py::test_\d", result.stdout))
    assert len(re.findall(r"PASSED test_[ab]\.py", result.stdout)) == 4, result.stdout[-3000:]
    assert workers == {"gw0", "gw1"}, (
        "xdist's own loadgroup kept the marked group on one worker: it groups again under this "
        f"pytest, and tests/two_workers.py's scheduler may be dropped\n{result.stdout[-3000:]}")


def test_without_xdist_the_plugin_loads():
    """``optionalhook``: pytest validates hooks, and xdist's is unknown without xdist."""
    test = "tests/test_two_workers.py::test_in_one_process_the_collection_keeps_its_order"
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
                             "-o", "addopts=", test],
                            cwd=ROOT, env=clean_env(), capture_output=True, text=True, timeout=300)
    report = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0 and "1 passed" in result.stdout, report


PROBE = """
import json, os, pathlib, sys

AT_IMPORT = {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"), "torch loaded": "torch" in sys.modules}

def pytest_collection_finish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        out = pathlib.Path(os.environ["PROBE_OUT"], worker + ".json")
        out.write_text(json.dumps({"order": [item.nodeid for item in session.items], **AT_IMPORT}))
"""


def test_given_only_notebooks_each_notebooks_cells_run_on_one_worker_in_the_sorted_order(tmp_path):
    """``python -m pytest notebooks/...`` loads no tests/conftest.py: the root conftest.py must bring the
    plugin, or xdist deals one notebook's cells to both workers (their kernels then lack each other's
    variables). Two short lessons and a unit test, with the README's options and -v; a probe plugin
    records the order each real worker sorted its collection into (the controller hands the groups
    out in it): the slower lesson (01, by its stored seconds) first, the unit test last; and that
    each worker, started from an environment without OMP_WAIT_POLICY, has it as PASSIVE before
    anything loads torch (the probe records it when it is imported, before the conftests)."""
    (tmp_path / "probe.py").write_text(PROBE)
    unit = "tests/test_two_workers.py::test_a_notebooks_cells_and_a_modules_tests_stay_together"
    notebooks = ["notebooks/00_start_here.ipynb", "notebooks/01_gradient_descent.ipynb"]
    env = clean_env(PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
                    PROBE_OUT=str(tmp_path))
    env.pop("OMP_WAIT_POLICY", None)
    result = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "probe", unit, *notebooks], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600)
    report = result.stdout[-3000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    # -v's report lines read notebooks/00_start_here::ipynb::Cell 0 (the ids are .ipynb::Cell 0)
    ran = re.findall(r"\[(gw\d)\][^\n]*? PASSED (notebooks/[^:\s]+?)(?:\.ipynb|::ipynb)::Cell", result.stdout)
    assert len(ran) >= 10, report
    workers = {}
    for worker, notebook in ran:
        workers.setdefault(f"{notebook}.ipynb", set()).add(worker)
    assert sorted(workers) == notebooks and all(len(w) == 1 for w in workers.values()), workers
    for worker in ("gw0", "gw1"):
        probe = json.loads((tmp_path / f"{worker}.json").read_text())
        assert probe["OMP_WAIT_POLICY"] == "PASSIVE" and not probe["torch loaded"], probe
        order = probe["order"]
        files = [i.split("::")[0].removesuffix("::ipynb").removesuffix(".ipynb") for i in order]
        firsts = list(dict.fromkeys(files))
        expected = ["notebooks/01_gradient_descent", "notebooks/00_start_here", "tests/test_two_workers.py"]
        assert firsts == expected, order


def test_idle_threads_sleep_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    let_idle_threads_sleep()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    let_idle_threads_sleep()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
