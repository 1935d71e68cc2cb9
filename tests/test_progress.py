"""The progress bar of long cells: shown while a loop runs, nothing left in saved output."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from lessons_lib.progress import in_kernel, progress


def test_outside_a_kernel_it_yields_every_item_and_draws_on_stderr(capsys):
    assert not in_kernel()
    assert list(progress(range(5), desc="count")) == [0, 1, 2, 3, 4]
    captured = capsys.readouterr()
    assert captured.out == "" and "count" in captured.err
    assert list(progress(iter("abc"), total=3)) == ["a", "b", "c"]


def test_bad_arguments():
    with pytest.raises(TypeError, match="desc must be a str"):
        list(progress(range(3), desc=3))


def test_in_a_kernel_the_bar_leaves_an_empty_display_and_the_prints_around_it():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from lessons_lib.progress import progress, in_kernel\n"
        "print('kernel:', in_kernel())\n"
        "total = sum(progress(range(50), desc='sum'))\n"
        "print('total:', total)\n")]
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert text == "kernel: True\ntotal: 1225\n"
    displays = [o for o in outputs if o["output_type"] == "display_data"]
    assert len(displays) == 1 and displays[0]["data"] == {}  # the bar was there, and nothing of it is saved
    assert not any(o.get("name") == "stderr" for o in outputs)


def test_nbval_accepts_the_saved_notebook_again(tmp_path):
    """nbval compares each output as the kernel first sent it (it ignores display updates): the
    bar must not carry a text form that the saved, emptied display lacks."""
    import subprocess
    import sys

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from lessons_lib.progress import progress\n"
        "print(sum(progress(range(20), desc='sum')))\n")]
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    path = tmp_path / "bar.ipynb"
    nbformat.write(nb, path)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                             "--nbval", "--nbval-current-env", str(path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]
