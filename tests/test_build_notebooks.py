"""scripts/build_notebooks.py refuses a notebook whose run wrote to stderr (and writes nothing)."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "scripts" / "build_notebooks.py"


def _script():
    spec = importlib.util.spec_from_file_location("build_notebooks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("cell, refused", [
    ('import sys\nsys.stderr.write("a warning")\n', True),
    ('import warnings\nwarnings.warn("deprecated")\n', True),
    ('print("fine")\n', False),
])
def test_a_run_with_output_on_stderr_is_refused_and_not_written(tmp_path, cell, refused):
    twin = tmp_path / "99_probe.py"
    twin.write_text("# %%\n" + cell)
    build = _script().build
    if refused:
        with pytest.raises(RuntimeError, match="output on stderr"):
            build(twin, timeout=60)
        assert not twin.with_suffix(".ipynb").exists()
    else:
        assert build(twin, timeout=60) > 0
        assert twin.with_suffix(".ipynb").exists()
