"""The validation rule of lessons 09 to 11 and the records of their searches."""

from __future__ import annotations

import numpy as np
import pytest

from lessons_lib import selection


def test_choose_takes_the_cheapest_within_tolerance():
    # means (of 100 images): 90.0, 90.4, 91.0, 89.0 points; costs 4, 2, 8, 1
    correct = np.array([[90, 90], [90, 91], [91, 91], [89, 89]])
    assert selection.choose(correct, [4, 2, 8, 1], 100) == 1  # 90.4 >= 91 - 0.5; cost 2 < 4
    assert selection.candidates(correct, 100).tolist() == [1, 2]  # 90.0 < 90.5: not a candidate
    assert selection.candidates(correct, 100, tolerance=1.0).tolist() == [0, 1, 2]
    assert selection.choose(correct, [4, 2, 8, 1], 100, tolerance=0.0) == 2  # only the best
    assert selection.choose(correct, [4, 2, 8, 1], 100, tolerance=2.0) == 3  # 89.0 >= 89.0


def test_choose_breaks_ties_by_mean_then_order():
    correct = np.array([[90, 90], [91, 91], [91, 91]])
    assert selection.choose(correct, [2, 2, 2], 100) == 1  # equal cost: highest mean, first of equals
    assert selection.choose(correct, [2, 3, 2], 100) == 2
    # the boundary: exactly tolerance below the best is a candidate, a hair more is not
    correct = np.array([[1990], [2000]])
    assert selection.choose(correct, [1, 2], 4000, tolerance=0.25) == 0
    assert selection.choose(correct, [1, 2], 4000, tolerance=0.2499) == 1


@pytest.mark.parametrize("kw, match", [
    (dict(correct=[[1, 2]], cost=[1, 2], n_images=3), "cost must hold one number per setting"),
    (dict(correct=[[1, 2]], cost=[-1], n_images=3), "cost must be >= 0"),
    (dict(correct=[[1, 4]], cost=[1], n_images=3), r"correct must hold whole counts in \[0, 3\]"),
    (dict(correct=[[1.5]], cost=[1], n_images=3), "correct must hold whole counts"),
    (dict(correct=[1, 2], cost=[1, 2], n_images=3), "correct must be a 2-D array"),
    (dict(correct=[[1]], cost=[1], n_images=0), "n_images"),
    (dict(correct=[[1]], cost=[1], n_images=3, tolerance=-0.1), "tolerance"),
])
def test_choose_refuses_bad_input(kw, match):
    with pytest.raises(ValueError, match=match):
        selection.choose(**kw)


def _record(**kw):
    base = dict(question="q", rule="r", script="scripts/x.py", seeds=(0, 1), n_images=10,
                settings=({"lr": 0.1}, {"lr": 0.3}), cost=(2.0, 1.0), correct=np.array([[9, 9], [8, 9]]))
    return selection.Record(**(base | kw))


def test_record_round_trip(tmp_path, monkeypatch):
    monkeypatch.setattr(selection, "RECORD_DIR", tmp_path)
    rec = _record()
    path = selection.save_record(rec, "demo_1")
    assert path == tmp_path / "demo_1.json"
    back = selection.load_record("demo_1")
    assert back.settings == rec.settings and back.seeds == rec.seeds and back.cost == rec.cost
    assert np.array_equal(back.correct, rec.correct) and back.correct.dtype == np.int64
    assert back.pick == 0 and np.allclose(back.means, [90.0, 85.0])  # 85 < 90 - 0.5: the cheaper is out
    assert selection.Record(**(vars(rec) | {"tolerance": 5.0})).pick == 1  # within 5 points: the cheaper
    assert back.find(lr=0.3) == 1
    with pytest.raises(ValueError, match="setting must be one of"):
        back.find(lr=1.0)
    with pytest.raises(ValueError, match="name must be one of the records"):
        selection.load_record("missing")
    with pytest.raises(ValueError, match=r"record.correct must be \(settings, seeds\)"):
        selection.save_record(_record(correct=np.array([[9, 9]])), "bad")
    with pytest.raises(ValueError, match="name must be"):
        selection.save_record(rec, "../escape")
    with pytest.raises(TypeError, match="record must be a Record"):
        selection.save_record({}, "x")


@pytest.mark.parametrize("name, error", [(7, TypeError), (None, TypeError), ("../escape", ValueError),
                                         ("a b", ValueError), ("", ValueError), ("dir/x", ValueError),
                                         ("x\u00b2", ValueError)])
def test_saving_and_loading_check_the_records_name_alike(tmp_path, monkeypatch, name, error):
    """One check for both: a wrong type is a TypeError, a name that is not letters, digits and
    underscores a ValueError; nothing is written."""
    monkeypatch.setattr(selection, "RECORD_DIR", tmp_path)
    for call in (lambda: selection.save_record(_record(), name), lambda: selection.load_record(name)):
        with pytest.raises(error, match="name must be"):
            call()
    assert list(tmp_path.iterdir()) == []


def test_a_record_next_to_the_notebook_is_found_first(tmp_path, monkeypatch):
    """A released assignment (nbgrader_course copies the records its notebook reads into its ``data/``)
    run with a non-editable install, whose RECORD_DIR does not exist: the record is read from
    ``data/validation/`` in the notebook's folder, and wins over the checkout's."""
    installed = tmp_path / "site-packages" / "notebooks" / "data" / "validation"  # no such folder
    monkeypatch.setattr(selection, "RECORD_DIR", installed)
    assignment = tmp_path / "release" / "10_weight_pruning"
    (assignment / "data" / "validation").mkdir(parents=True)
    monkeypatch.chdir(assignment)
    with pytest.raises(ValueError, match=r"one of the records \[\] \(looked in .*data/validation"):
        selection.load_record("demo_2")
    monkeypatch.setattr(selection, "RECORD_DIR", assignment / "data" / "validation")
    selection.save_record(_record(), "demo_2")
    monkeypatch.setattr(selection, "RECORD_DIR", tmp_path / "checkout")
    selection.RECORD_DIR.mkdir()
    selection.save_record(_record(seeds=(5, 6)), "demo_2")
    assert selection.record_dirs() == [assignment.resolve() / "data" / "validation", tmp_path / "checkout"]
    assert selection.load_record("demo_2").seeds == (0, 1)  # the one next to the notebook
    (assignment / "data" / "validation" / "demo_2.json").unlink()
    assert selection.load_record("demo_2").seeds == (5, 6)  # then the checkout's


def test_in_the_lessons_folder_the_record_folder_is_searched_once_and_a_folder_can_be_named(tmp_path,
                                                                                              monkeypatch):
    """From ``notebooks/`` (the lessons' folder) ``data/validation`` is RECORD_DIR itself: one folder; a
    named ``folder`` is the only one read (the search scripts read back what they wrote so); with no
    record folder at all the message says so rather than blame the name."""
    notebooks = tmp_path / "notebooks"
    monkeypatch.setattr(selection, "RECORD_DIR", (notebooks / "data" / "validation").resolve())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"no record folder exists \(looked in .*\); got name 'demo_3'"):
        selection.load_record("demo_3")
    selection.save_record(_record(), "demo_3")
    monkeypatch.chdir(notebooks)
    assert selection.record_dirs() == [selection.RECORD_DIR]
    (notebooks / "elsewhere").mkdir()
    with pytest.raises(ValueError, match=r"one of the records \[\] \(looked in .*elsewhere\)"):
        selection.load_record("demo_3", notebooks / "elsewhere")
    assert selection.load_record("demo_3", selection.RECORD_DIR).seeds == (0, 1)


def test_every_stored_record_loads_and_is_consistent():
    names = sorted(p.stem for p in selection.RECORD_DIR.glob("*.json"))
    assert names  # the lessons load them
    root = selection.RECORD_DIR.parents[2]
    for name in names:
        rec = selection.load_record(name, selection.RECORD_DIR)
        assert rec.correct.shape == (len(rec.settings), len(rec.seeds)) and len(rec.cost) == len(rec.settings)
        assert rec.script.startswith("scripts/") and (root / rec.script).is_file()
        assert 0 <= rec.pick < len(rec.settings)
