"""How the test command shares the tests between its two workers (tests/conftest.py)."""

from __future__ import annotations

import tomllib

from conftest import HEAVY_FIRST, ROOT, SPLIT, GroupDealer


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
    addopts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "-n 2 --dist loadgroup" in addopts
