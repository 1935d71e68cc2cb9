"""Loaded by pytest for every command run in the repository (``tests/conftest.py`` only for the
tests under ``tests/``): the plugin that shares the tests between two workers, tests/two_workers.py."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "tests"))
pytest_plugins = ["two_workers"]

# A student's own copy of a lesson (the README: a download from the website saved beside the lessons as
# notebooks/mine_NN_name.ipynb) has empty answer cells: it is not part of the course's tests.
collect_ignore_glob = ["notebooks/mine_*"]
