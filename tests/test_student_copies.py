"""Student copies: solutions become stubs; each copy runs up to its first stub and stops there."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import NOTEBOOKS
from lessons_lib import student_copies

LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
STUB = f'raise NotImplementedError("{student_copies.STUB_MESSAGE}")'


def test_strip_solutions_keeps_indentation_and_code_around():
    src = "x = 1\ndef f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION\ncheck(f)"
    assert student_copies.strip_solutions(src) == f"x = 1\ndef f():\n    {STUB}\ncheck(f)"


@pytest.mark.parametrize("src", ["### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION",
                                 "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unbalanced_markers_are_refused(src):
    with pytest.raises(ValueError, match="source"):
        student_copies.strip_solutions(src)


@pytest.fixture(scope="module")
def copies(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    return {p.name: p for p in student_copies.write_student_copies(out)}


def test_a_copy_per_lesson_without_solutions_or_outputs(copies):
    assert sorted(copies) == [p.name for p in LESSONS]
    for name, path in copies.items():
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), name
        text = "\n".join(c.source for c in code)
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, name
        if not name.startswith("00_"):
            instructor = nbformat.read(NOTEBOOKS / name, as_version=4)
            blocks = sum(c.source.count("### BEGIN SOLUTION") for c in instructor.cells)
            assert blocks >= 3, f"{name} has {blocks} exercises with solutions; at least 3 are required"
            assert text.count(STUB) == blocks, name


@pytest.mark.parametrize("name", [p.name for p in LESSONS])
def test_student_copy_runs_to_its_first_stub_and_stops_there(copies, name):
    nb = nbformat.read(copies[name], as_version=4)
    first_stub = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code" and STUB in c.source), None)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(copies[name].parent)}})
    if first_stub is None:  # no exercises (the start-here page): the copy runs through
        client.execute()
        return
    with pytest.raises(CellExecutionError) as failure:
        client.execute()
    assert failure.value.ename == "NotImplementedError"
    assert student_copies.STUB_MESSAGE in failure.value.evalue
    executed = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.execution_count]
    assert max(executed) == first_stub, "the copy stopped somewhere else than its first stub"
