"""Shared test settings: hypothesis profile, the repository root, one thread for torch.

How the tests are shared between the two workers is ``tests/two_workers.py``'s (loaded by the root
``conftest.py``, so that it applies to ``python -m pytest notebooks`` too)."""

from __future__ import annotations

import gc
import pathlib

import pytest
import torch
from hypothesis import settings

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
# The narrowest output area the course is designed for (CSS px; DESIGN.md: "Figures fit the output
# area from 560 px wide up"; the widgets' MIN_WIDTH). JupyterLab in a 1024x700 window with the file
# browser open gives 592, and test_browser_routes.py checks that it gives at least this;
# test_repository.py keeps every stored picture's text legible at this width.
NARROWEST_OUTPUT_PX = 560

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


def require_git_history(reason: str | None = None) -> None:
    """For a test that reads git: fail when the repository is a git checkout that git cannot read (its
    message says why); skip when it is no checkout of its own (a downloaded archive, perhaps unpacked
    inside another repository) or, when ``reason`` names what is missing, a checkout without it (a
    shallow clone), or fail then instead when ``LESSONS_REQUIRE_HISTORY=1`` (as in CI)."""
    import os
    import subprocess

    try:
        found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--show-toplevel"],
                               capture_output=True, text=True)
    except FileNotFoundError:  # no git at all
        found = None
    ours = (found is not None and found.returncode == 0
            and pathlib.Path(found.stdout.strip()).resolve() == ROOT)
    if (ROOT / ".git").exists() and not ours:
        error = "git is not installed" if found is None else (found.stderr.strip() or found.stdout.strip())
        pytest.fail(f"the repository is a git checkout but git cannot read it: {error}", pytrace=False)
    if ours and reason is None:
        return
    if reason is None:
        reason = "the repository is no git checkout of its own (a downloaded archive?): this test reads git"
    if os.environ.get("LESSONS_REQUIRE_HISTORY") == "1":
        pytest.fail(f"LESSONS_REQUIRE_HISTORY=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def load_file(path: pathlib.Path, module_name: str, *, register: bool = False):
    """The Python file ``path`` (scripts, benchmarks, the site builder: not a package), freshly executed
    as the module ``module_name``; ``register`` puts it in ``sys.modules`` first (a file whose
    dataclasses look their module up there)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_script(name: str):
    """The module ``scripts/<name>.py``, freshly executed."""
    return load_file(ROOT / "scripts" / f"{name}.py", name)


def load_benchmark(name: str):
    """The module ``benchmarks/<name>.py``, freshly executed and registered as ``benchmarks_<name>``."""
    return load_file(ROOT / "benchmarks" / f"{name}.py", f"benchmarks_{name}", register=True)


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
