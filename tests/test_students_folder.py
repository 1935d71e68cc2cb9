"""The students' folder that Binder opens (lessons_lib.students_folder, run by postBuild): every lesson's
student copy and the data those copies read, and the refusals. That its notebooks are the ones nbgrader
releases is checked against real releases in tests/test_nbgrader_course.py."""

from __future__ import annotations

import pathlib

import nbformat
import pytest

from conftest import NOTEBOOKS, ROOT
from lessons_lib import nbgrader_course, students_folder

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("binder") / "students"
    written = students_folder.write(out)
    assert written == [out / f"{name}.ipynb" for name in nbgrader_course.lessons()]
    return out


def files_under(folder: pathlib.Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_every_lesson_is_there_as_the_student_copy(folder):
    for name in nbgrader_course.lessons():
        source = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        mine = nbformat.read(folder / f"{name}.ipynb", as_version=4)
        assert mine.cells == nbgrader_course.student_copy(source).cells, name
        text = "\n".join(cell.source for cell in mine.cells)
        assert not any(marker in text for marker in MARKERS), name
        answers = [c for c in mine.cells if c.metadata.get("nbgrader", {}).get("solution")]
        if name != "00_start_here":
            assert answers, name  # every lesson after 00 has exercises
        assert all("raise NotImplementedError()" in c.source and not c.get("outputs") for c in answers
                   if c.cell_type == "code"), name


#: What the lessons read, listed by hand (not by data_files, which write uses): lesson 10's and 11's
#: records (selection.load_record), lesson 12's timings, lesson 14's claims table and the five seed
#: articles. Not lesson11_exercise4.json: only exercise 4's solution reads it.
SEEDS = ("000_a8b9852b0ec674d4", "001_04060fa427d0e035", "002_f70065683ff95f85", "003_1a295d6097d7f279",
         "004_a9d70ec8c2de469d")
READ = ["seed_claims.csv", *[f"seeds/{name}.txt" for name in SEEDS], "timings/lesson12_speed.json",
        "validation/lesson10_finetuning.json", "validation/lesson11_schedule.json"]


def test_the_data_are_what_the_copies_read_and_nothing_else(folder):
    got = [f.removeprefix("data/") for f in files_under(folder) if f.startswith("data/")]
    assert got == sorted(READ)
    assert all((folder / "data" / f).read_bytes() == (NOTEBOOKS / "data" / f).read_bytes() for f in got)
    expected = ["README.md", *[f"{name}.ipynb" for name in nbgrader_course.lessons()]]
    assert [f for f in files_under(folder) if not f.startswith("data/")] == sorted(expected)
    assert "YOUR CODE HERE" in (folder / "README.md").read_text()


def contents(folder: pathlib.Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in files_under(folder)}


def test_a_folder_with_files_is_refused_and_left_as_it_is(folder, tmp_path):
    before = contents(folder)
    with pytest.raises(ValueError, match="out_dir: .* must be a new or empty folder"):
        students_folder.write(folder)
    assert contents(folder) == before and sorted(p.name for p in folder.parent.iterdir()) == ["students"]
    checkpoints = tmp_path / "only_checkpoints" / ".ipynb_checkpoints"
    checkpoints.mkdir(parents=True)  # nothing but an empty folder in it: refused too (the docstring says so)
    with pytest.raises(ValueError, match="out_dir"):
        students_folder.write(checkpoints.parent)
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    with pytest.raises(ValueError, match="out_dir"):
        students_folder.write(a_file)
    assert a_file.read_text() == "mine"


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"out_dir": 3}, TypeError, "out_dir"),
    ({"out_dir": "x", "notebooks": None}, TypeError, "notebooks"),
    ({"out_dir": "x", "notebooks": "/nonexistent/folder"}, ValueError, "^notebooks: "),
    ({"out_dir": "x", "notebooks": str(ROOT / "tests")}, ValueError, "^notebooks: "),  # no lessons in it
])
def test_bad_input_names_the_parameter(tmp_path, monkeypatch, kwargs, error, name):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error, match=name):
        students_folder.write(**kwargs)
    assert not (tmp_path / "x").exists()


def test_a_run_that_fails_leaves_the_folder_as_it_was(tmp_path):
    """A notebook that cannot be read: ValueError naming it, out_dir not created, no partial folder left."""
    source = tmp_path / "notebooks"
    source.mkdir()
    (source / "00_fine.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    (source / "01_broken.ipynb").write_text("{not a notebook")
    with pytest.raises(ValueError, match=r"^notebooks: .*01_broken\.ipynb cannot be read as a notebook"):
        students_folder.write(tmp_path / "out", notebooks=source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notebooks"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="01_broken"):
        students_folder.write(tmp_path / "empty", notebooks=source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "notebooks"]
    assert not any((tmp_path / "empty").iterdir())


def test_the_command_line_writes_an_empty_folder_and_refuses_one_with_files(folder, tmp_path, capsys):
    out = tmp_path / "students"
    out.mkdir()  # an empty folder is taken
    assert students_folder.main([str(out), "--notebooks", str(NOTEBOOKS)]) == 0
    assert f"wrote {len(nbgrader_course.lessons())} students' copies" in capsys.readouterr().out
    assert files_under(out) == files_under(folder)
    assert students_folder.main([str(out)]) == 2
    assert "error: out_dir" in capsys.readouterr().err
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    assert students_folder.main([str(a_file / "students")]) == 2  # a parent that is a file: the OS refuses
    assert capsys.readouterr().err.startswith("error: ") and a_file.read_text() == "mine"
    with pytest.raises(TypeError, match="argv"):
        students_folder.main(str(out))
