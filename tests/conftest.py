"""Shared test settings: hypothesis profile, the repository root, and what notebooks cost to run."""

from __future__ import annotations

import gc
import json
import pathlib
from datetime import datetime

import pytest
import torch
from hypothesis import settings

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

settings.register_profile("course", max_examples=60, deadline=None, derandomize=True)
settings.load_profile("course")


@pytest.fixture(scope="session", autouse=True)
def _no_freezing_in_the_test_process():
    """lessons_lib.setup() freezes a process's live objects on its first call (gc.freeze); a test
    or fixture that calls it in the pytest process would freeze the test run's own objects. For the
    whole session (before any module fixture) gc.freeze does nothing here; tests/test_setup.py
    tests the freezing in a fresh interpreter."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gc, "freeze", lambda: None)
        yield


def load_script(name: str):
    """The module ``scripts/<name>.py`` (the search scripts are not a package), freshly executed."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def notebook_seconds(path: pathlib.Path) -> float:
    """Seconds a stored notebook's cells took when it was built (nbclient's timing metadata);
    used to split notebooks into groups of about equal run time."""
    total = 0.0
    for cell in json.loads(pathlib.Path(path).read_text())["cells"]:
        timing = cell.get("metadata", {}).get("execution", {})
        if timing.get("iopub.execute_input") and timing.get("shell.execute_reply"):
            total += (datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
                      - datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
                      ).total_seconds()
    return total


@pytest.fixture(scope="module")
def one_thread():
    """One thread for a test module, as the notebooks run (small tensors; a shared machine).

    Use it with ``pytestmark = pytest.mark.usefixtures("one_thread")``; module-scoped, so the
    module's other module-scoped fixtures (trained networks) are made under it too."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def one_thread_float64(one_thread):
    """One thread and float64 as torch's default dtype, as the compression lessons compute."""
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(dtype)


# --- two workers --------------------------------------------------------------------------------
# pyproject's addopts run the tests on two workers (pytest-xdist, ``-n 2 --dist loadgroup``). Each
# group of tests goes whole to one worker, the next group to whichever worker is free, in the order of
# the items after the hook below. A notebook's nbval cells are one group (they share its kernel, in
# order); any other test module is one group (its module fixtures, a JupyterLab server or a graded
# nbgrader course, are made once), except the modules named in SPLIT, whose tests are dealt
# round-robin into that many groups (each group makes the module's fixtures once). Groups known to be
# long go first (HEAVY_FIRST, then the notebooks, slowest first by the seconds stored with them), so
# that no long group starts last and runs alone on one worker.
#
# The groups come from the test ids, in the scheduler below: pytest-xdist 3.8's own loadgroup reads
# ``xdist_group`` marks and appends the group to ``item._nodeid``, which pytest 9.2 no longer reads
# (``Node.nodeid`` is computed), so with the pinned versions the marks would group nothing.
SPLIT = {"test_browser_routes.py": 2, "test_offline.py": 3}
HEAVY_FIRST = ("test_nbgrader_course.py", "test_offline.py", "test_browser_routes.py", "test_slides.py",
               "test_site.py", "test_compression.py", "test_training.py")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Put long groups first (see the comment above); the order within a file stays the collection's."""
    notebooks = {item.path for item in items if item.path.suffix == ".ipynb"}
    seconds = {path: notebook_seconds(path) for path in notebooks}

    def rank(item: pytest.Item) -> tuple[int, float]:
        name = item.path.name
        if name in HEAVY_FIRST:
            return 0, HEAVY_FIRST.index(name)
        if item.path in seconds:
            return 1, -seconds[item.path]
        return 2, 0.0

    items.sort(key=rank)  # a stable sort


class GroupDealer:
    """A test id's group (see the comment above): its file's name, or for a file in SPLIT the share
    ``name:k``, the file's tests dealt round-robin in the order they are first asked for."""

    def __init__(self) -> None:
        self.groups: dict[str, str] = {}  # test id -> group
        self.dealt: dict[str, int] = {}  # file -> tests dealt so far

    def __call__(self, nodeid: str) -> str:
        if nodeid not in self.groups:
            name = nodeid.split("::")[0].rsplit("/", 1)[-1]
            index = self.dealt.get(name, 0)
            self.dealt[name] = index + 1
            self.groups[nodeid] = f"{name}:{index % SPLIT[name]}" if name in SPLIT else name
        return self.groups[nodeid]


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadgroup``: pytest-xdist's scope scheduler on the groups of GroupDealer, in the
    order of the collection (pytest_collection_modifyitems above)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileGroups(LoadScopeScheduling):
        def __init__(self, config, log):
            super().__init__(config, log)
            self._split_scope = GroupDealer()

    config.option.loadscopereorder = False  # keep the collection's order, not the largest group first
    return FileGroups(config, log)
