"""How the test command shares its tests between two workers (a pytest plugin).

pyproject's addopts run the tests on two workers (pytest-xdist, ``-n 2 --dist loadgroup``). Each
group of tests goes whole to one worker, the next group to whichever worker is ready for more, in the
order of the items after :func:`pytest_collection_modifyitems`. The groups (:class:`GroupDealer`):

* a notebook's nbval cells are one group: they share its kernel, in order;
* any other test module is one group: its module fixtures (a JupyterLab server, a graded nbgrader
  course) are made once;
* except the modules named in ``SPLIT``, whose tests are dealt round-robin into that many groups
  (each group makes the module's fixtures once, on its worker).

Groups known to be long go first (``HEAVY_FIRST``, then the notebooks, slowest first by the seconds
stored with them), so that no long group starts last and runs alone on one worker. xdist's workers
collect and sort; the controller hands the groups out in the workers' order.

The root ``conftest.py`` loads this plugin, so that it applies to every command run in the
repository: ``python -m pytest notebooks`` loads no ``tests/conftest.py``, and without the plugin
xdist would deal one notebook's cells to both workers.

The groups come from the test ids, in the scheduler below: pytest-xdist 3.8's own loadgroup reads
``xdist_group`` marks and appends the group to ``item._nodeid``, which pytest 9.2 no longer reads
(``Node.nodeid`` is computed), so with the pinned versions the marks would group nothing; a test
carrying one errors at setup (:func:`pytest_runtest_setup`). ``--dist load`` and ``worksteal`` would deal a
notebook's cells to both workers and are refused (:func:`pytest_configure`); ``loadfile`` and
``loadscope`` keep a notebook whole but ignore the order and the shares.

Idle OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE`` unless set, when this module is imported:
before ``tests/conftest.py`` imports torch in the process that loads it, and before xdist starts
the workers, which inherit it): a process computing on two threads spins its waiting thread on the
core the other worker needs. Measured on the AMD EPYC 25/17 (2 December, output not kept): lesson 12 on two
threads alone 10.3 s; two such runs side by side 118.7 and 119.4 s spinning, 11.0 and 11.5 s
sleeping.
"""

from __future__ import annotations

import json
import os
import pathlib
from datetime import datetime

import pytest

SPLIT = {"test_browser_routes.py": 2, "test_offline.py": 3}
HEAVY_FIRST = ("test_nbgrader_course.py", "test_offline.py", "test_browser_routes.py", "test_slides.py",
               "test_site.py", "test_compression.py", "test_training.py")
IDLE_THREADS = ("OMP_WAIT_POLICY", "PASSIVE")


def cell_seconds(cell: dict) -> float | None:
    """Wall time of a stored code cell from nbclient's timing metadata, or None if not recorded."""
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    return (datetime.fromisoformat(end.replace("Z", "+00:00"))
            - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()


def notebook_seconds(path: pathlib.Path) -> float:
    """Seconds a stored notebook's cells took when it was built (the sum of :func:`cell_seconds`)."""
    cells = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))["cells"]
    return sum(seconds for cell in cells if (seconds := cell_seconds(cell)) is not None)


def rank(item: pytest.Item, seconds: dict[pathlib.Path, float]) -> tuple[int, float]:
    """An item's place: HEAVY_FIRST's files in their order, then notebooks slowest first (their
    stored ``seconds``), then the rest; ties keep the collection's order (a stable sort)."""
    name = item.path.name
    if name in HEAVY_FIRST:
        return 0, HEAVY_FIRST.index(name)
    if item.path in seconds:
        return 1, -seconds[item.path]
    return 2, 0.0


class GroupDealer:
    """A test id's group: its file's name, or for a file in SPLIT the share ``name:k``, the file's
    tests dealt round-robin in the order they are first asked for."""

    def __init__(self) -> None:
        self.groups: dict[str, str] = {}  # test id -> group
        self.dealt: dict[str, int] = {}  # file -> tests dealt so far

    def __call__(self, nodeid: str) -> str:
        """The group of the test ``nodeid`` (``path::name``), the same on every call."""
        if nodeid not in self.groups:
            name = nodeid.split("::")[0].rsplit("/", 1)[-1]
            index = self.dealt.get(name, 0)
            self.dealt[name] = index + 1
            self.groups[nodeid] = f"{name}:{index % SPLIT[name]}" if name in SPLIT else name
        return self.groups[nodeid]


def group_file(group: str) -> str:
    """The file a group comes from (``test_offline.py:1`` -> ``test_offline.py``)."""
    return group.partition(":")[0]


def sharing(config: pytest.Config) -> bool:
    """Whether this run shares its tests out as this module does: ``--dist loadgroup`` in the
    controller; in an xdist worker, whose ``dist`` xdist sets to ``no``, its ``loadgroup`` flag.
    (``-n 0`` makes ``dist`` ``no``.)"""
    return (config.getoption("dist", default="no") == "loadgroup"
            or bool(getattr(config.option, "loadgroup", False)))


def let_idle_threads_sleep() -> None:
    """``OMP_WAIT_POLICY=PASSIVE`` in this process's environment, unless it is set."""
    os.environ.setdefault(*IDLE_THREADS)


let_idle_threads_sleep()


def pytest_configure(config: pytest.Config) -> None:
    """Refuse the distribution modes that would deal a notebook's cells to both workers."""
    if config.getoption("dist", default="no") in ("load", "worksteal"):
        raise pytest.UsageError("--dist load and worksteal deal a notebook's cells to both workers: "
                                "use the test command's --dist loadgroup, or -n 0 (tests/two_workers.py)")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test with an ``xdist_group`` mark errors at setup, saying why."""
    if item.get_closest_marker("xdist_group"):
        pytest.fail("xdist_group marks group nothing under pytest 9.2; tests/two_workers.py groups by "
                    "file (add the file to SPLIT or HEAVY_FIRST there)", pytrace=False)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On two workers, put long groups first (see the module's docstring); in one process
    (``-n 0``) the collection's order stays."""
    if not sharing(config):
        return
    notebooks = {item.path for item in items if item.path.suffix == ".ipynb"}
    seconds = {path: notebook_seconds(path) for path in notebooks}
    items.sort(key=lambda item: rank(item, seconds))


def make_scheduler_class():
    """pytest-xdist's scope scheduler on GroupDealer's groups, taken in the queue's order, with
    one change: while another group is queued, a worker is not handed a second share of a split
    module while it still has one to run (with nothing else queued, it is). A worker runs a test
    only once it knows the next one, so xdist gives a worker with two or fewer tests left another
    group: without the change a worker given one of test_offline.py's small shares (of one or two
    tests) would be given the next share at once."""
    from xdist.scheduler import LoadScopeScheduling

    class FileGroups(LoadScopeScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            self._split_scope = GroupDealer()

        def _assign_work_unit(self, node) -> None:
            held = {group_file(group) for group, tests in self.assigned_work.get(node, {}).items()
                    if not all(tests.values())}
            for group in self.workqueue:
                if group_file(group) not in held:
                    self.workqueue.move_to_end(group, last=False)
                    break
            super()._assign_work_unit(node)

    return FileGroups


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With ``--dist loadgroup``: the scheduler of :func:`make_scheduler_class`, in the order of
    the collection (not xdist's largest group first)."""
    if not sharing(config):
        return None
    config.option.loadscopereorder = False
    return make_scheduler_class()(config, log)
