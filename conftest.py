"""Loaded by pytest for every command run in the repository (``tests/conftest.py`` only for the
tests under ``tests/``): the plugin that shares the tests between two workers, tests/two_workers.py."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "tests"))
pytest_plugins = ["two_workers"]
