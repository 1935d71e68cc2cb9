"""The lessons as an nbgrader course, end to end, with nbgrader as installed from the registry.

``python -m lessons_lib.nbgrader_course`` lays the course out in a temporary folder (its gradebook
and exchange inside it). For every lesson, ``nbgrader generate_assignment`` writes the released
copy, which must hold no solution and no hidden test; then ``nbgrader autograde`` grades three
submissions of it:

* ``source``: the instructor's notebook itself: full marks;
* ``released``: the released copy unchanged: zero;
* ``wrong``: the instructor's notebook with exercise 1's answer replaced by a common wrong answer
  (one of those the check tables in tests/test_checks_*.py name): exactly that exercise's points lost.

For lesson 01 the ``wrong`` submission takes the instructor's guide's whole route instead:
``release_assignment``, the student's ``fetch_assignment`` and ``submit``, ``collect``, then
``autograde``, ``generate_feedback``, ``release_feedback`` and the student's ``fetch_feedback``.

Autograde runs every notebook twice (lesson 01 three times; about four minutes of kernel time),
so the lessons are split between two course folders graded side by side (one per core when nothing
else runs; under the test command the other test worker runs beside them), each with one
``generate_assignment "*"`` and one ``autograde "*"`` for all its lessons; the seconds each step
took go to test-artifacts/nbgrader/seconds.json.
"""

from __future__ import annotations

import ast
import getpass
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import nbformat
import pytest

from conftest import NOTEBOOKS, ROOT
from lessons_lib import nbgrader_course
from two_workers import notebook_seconds

LESSONS = nbgrader_course.lessons()
GRADED = [name for name in LESSONS if not name.startswith("00_")]  # lesson 00 has no exercises
COURSE = nbgrader_course.COURSE_ID
NBGRADER = [sys.executable, "-m", "nbgrader"]
EXCHANGE_LESSON = "01_gradient_descent"
ARTIFACTS = ROOT / "test-artifacts" / "nbgrader"  # seconds.json: the time each step took
STUDENT = getpass.getuser()  # the exchange's submissions are made in the name of this user
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")

# Exercise 1 of each lesson answered with a common wrong answer from its check table.
WRONG = {
    "01_gradient_descent": "answer_1 = 2 / 4.25  # the optimal step, not the stability limit",
    "02_stochastic_gradient_descent": "answer_1 = 0.5  # the standard deviation of the mean",
    "03_momentum": "steady_1, alternating_1 = 2 / (1 + 0.9), 2 / (1 + 0.9)  # 1/(1+beta) for the steady one",
    "04_momentum_rates": "answer_1 = 2 * np.sqrt(0.64)  # the article's 2 sqrt(beta)",
    "05_nesterov": "answer_1 = 0.9  # beta's own coefficient",
    "06_beyond_quadratics": "answer_1 = 3.0**2 / 4.0  # without the factor 1/2",
    "07_momentum_in_practice": "answer_1 = 0.01  # multiplied by 1 - beta instead of divided",
    "08_linear_regression_worked_example": "answer_1 = [1.001, 1.002]  # the seed's number",
    "09_weight_quantization": "scale_1, zero_point_1 = 3 / 16, 5  # 2^4 levels instead of 2^4 - 1 steps",
    "10_weight_pruning": "dropped_1 = 3000  # the kept count",
    "11_compression_pipeline": "buffer_bytes_1 = 404_880  # 8 bytes per parameter",
    "14_claims_checked": "answer_v2 = [-0.0085, -0.0135]  # the seed's number",
    "12_integer_inference": "bias_code_1 = 50  # the weights' scale alone",
    "13_quantization_in_practice": "bytes_1 = 4096 * 4096 // 2  # the codes alone",
}


def nbgrader_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """The notebook's nbgrader cells by grade_id."""
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def lesson_number(name: str) -> str:
    return name[:2]


# --- the notebooks' exercise cells (no nbgrader run) ------------------------------------------


@pytest.mark.parametrize("name", GRADED)
def test_every_exercise_is_an_answer_cell_and_a_graded_check(name):
    """After each "### Exercise N (level)" heading: the answer cell (solution, grade_id exNN_N_answer),
    then the graded test cell (grade_id exNN_N_check, points) that calls the lesson's check."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    headings = [(i, int(m.group(1))) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
                for m in re.finditer(r"(?m)^### Exercise (\d+) \(", c.source)]
    assert len(headings) >= 3, f"{name}: fewer than three exercises"
    for i, k in headings:
        answer, check = nb.cells[i + 1], nb.cells[i + 2]
        gid = f"ex{lesson_number(name)}_{k}"
        assert answer.metadata.get("nbgrader") == {
            "grade": False, "grade_id": f"{gid}_answer", "locked": False, "schema_version": 3,
            "solution": True, "task": False}, f"{name}: exercise {k}'s answer cell"
        assert "### BEGIN SOLUTION" in answer.source and "### END SOLUTION" in answer.source
        meta = dict(check.metadata.get("nbgrader", {}))
        assert meta.pop("points", 0) > 0, f"{name}: exercise {k}'s check has no points"
        assert meta == {"grade": True, "grade_id": f"{gid}_check", "locked": True, "schema_version": 3,
                        "solution": False, "task": False}, f"{name}: exercise {k}'s check cell"
        visible = check.source.split("### BEGIN HIDDEN TESTS")[0]
        assert re.search(r"^checks\.\w+\.\w+\(", visible, re.M), f"{name}: exercise {k}'s check call"
    cells = nbgrader_cells(nb)
    assert len(cells) == 2 * len(headings), f"{name}: nbgrader cells outside the exercises"
    for c in nb.cells:
        solution = c.metadata.get("nbgrader", {}).get("solution", False)
        grade = c.metadata.get("nbgrader", {}).get("grade", False)
        assert solution or "SOLUTION" not in c.source, f"{name}: solution markers outside an answer cell"
        assert grade or "HIDDEN TESTS" not in c.source, f"{name}: hidden tests outside a check cell"


def _top_level_names(source: str) -> set[str]:
    """Names a cell's code binds at module level (assignments, imports, functions, classes, loops)."""
    tree = ast.parse(source)
    bound = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    bound.add(sub.id)
    return bound


@pytest.mark.parametrize("name", GRADED)
def test_no_ordinary_cell_uses_what_only_an_answer_cell_defines(name):
    """In the student's copy an answer cell holds the student's code (or nbgrader's stub), so an ordinary
    cell that uses a name only an answer cell defines would run the student's code or raise a NameError
    (lesson 11 once reran the student's recipe_4 after its check). Only the exercise's own check cell
    may use them."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    answer_names, ordinary_names = set(), set()
    for c in code:
        meta = c.metadata.get("nbgrader", {})
        source = "\n".join(line for line in c.source.splitlines() if not line.lstrip().startswith("%"))
        if meta.get("solution"):
            answer_names |= _top_level_names(source)
        elif not meta:
            ordinary_names |= _top_level_names(source)
    only_answers = answer_names - ordinary_names
    for c in code:
        if c.metadata.get("nbgrader"):
            continue
        source = "\n".join(line for line in c.source.splitlines() if not line.lstrip().startswith("%"))
        tree = ast.parse(source)
        local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        local |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
                  for a in (*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg) if a is not None}
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        used -= local
        assert not used & only_answers, f"{name}: an ordinary cell uses {sorted(used & only_answers)}"


def test_the_wrong_answers_go_into_answer_cells_that_exist():
    assert sorted(WRONG) == GRADED
    for name in GRADED:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        answer = nbgrader_cells(nb)[f"ex{lesson_number(name)}_1_answer"]
        variable = WRONG[name].split(" = ")[0]
        assert variable.split(",")[0] in answer.source, f"{name}: exercise 1 does not assign {variable}"


# --- the layout ----------------------------------------------------------------------------------


def test_the_layout_has_config_sources_data_and_exchange(tmp_path):
    written = nbgrader_course.lay_out(tmp_path / "course")
    root = tmp_path / "course"
    assert written == [root / "source" / n / f"{n}.ipynb" for n in LESSONS]
    for name in LESSONS:
        assert (root / "source" / name / "data" / "seed_claims.csv").is_file()
        source = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
        assert source == nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert (root / "exchange").is_dir()
    config = (root / "nbgrader_config.py").read_text()
    assert f"course_id = {COURSE!r}" in config and "gradebook.db" in config and "c.Execute.timeout" in config
    # an instructor's edits to the config survive laying the notebooks out again
    (root / "nbgrader_config.py").write_text(config + "c.Execute.timeout = 900\n")
    nbgrader_course.lay_out(root, ["03_momentum"])
    assert (root / "nbgrader_config.py").read_text().endswith("c.Execute.timeout = 900\n")


@pytest.mark.parametrize(("kwargs", "parameter"), [
    ({"names": ["99_nothing"]}, "names"), ({"names": []}, "names"),
    ({"course_id": "a course"}, "course_id"), ({"notebooks": "/nonexistent"}, "notebooks"),
])
def test_bad_input_names_the_parameter(tmp_path, kwargs, parameter):
    with pytest.raises(ValueError, match=parameter):
        nbgrader_course.lay_out(tmp_path / "course", **kwargs)


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "course").write_text("")
    with pytest.raises(ValueError, match="out_dir"):
        nbgrader_course.lay_out(tmp_path / "course")


def test_the_command_line_lays_out_a_lesson(tmp_path):
    out = subprocess.run([sys.executable, "-m", "lessons_lib.nbgrader_course", str(tmp_path), "03_momentum"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    assert (tmp_path / "source" / "03_momentum" / "03_momentum.ipynb").is_file()
    assert "nbgrader generate_assignment 03_momentum" in out


# --- nbgrader, end to end ----------------------------------------------------------------------


def run(args: list[str], cwd, timeout: float = 1800) -> str:
    """Run nbgrader (``args`` after the command) in ``cwd``; its log, or a failure showing it."""
    result = subprocess.run([*NBGRADER, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{log[-3000:]}"
    return log


def _cost(name: str) -> float:
    """Seconds grading the lesson takes, roughly: each grading runs the lesson on a fresh kernel
    (its cells' stored seconds plus about 2 s of start-up); lesson 01 is graded three times and
    its exchange route starts nbgrader six more times (about 2.5 s each)."""
    exchange = name == EXCHANGE_LESSON
    lesson = notebook_seconds(NOTEBOOKS / f"{name}.ipynb")
    return (3 if exchange else 2) * (lesson + 2.0) + (15.0 if exchange else 0.0)


def _wrong_submission(source, name: str):
    nb = nbformat.read(source, as_version=4)
    nbgrader_cells(nb)[f"ex{lesson_number(name)}_1_answer"].source = WRONG[name]
    return nb


def _grade_course(root, names: list[str], student_home) -> dict[str, float]:
    """generate_assignment, the submissions, autograde (and lesson 01's exchange route).

    Each lesson is graded for two students: "released" (the released copy, unchanged) and "wrong"
    (the instructor's notebook with exercise 1's answer replaced by a common wrong answer, so every
    other exercise is graded on its solution). Lesson 01 also grades "source" (the instructor's
    notebook as it is) and sends its wrong answer through the exchange. Each grading runs the whole
    lesson, so a third student per lesson would cost a third more.

    ``generate_assignment`` and ``autograde`` are given the assignment ``"*"`` (nbgrader globs the
    source and submitted folders and handles every lesson found, each as its own assignment), so
    the course folder's lessons cost one start of nbgrader (about 2.5 s of CPU) each, not one per
    lesson. Returns the seconds of each step."""
    seconds = {}
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    start = time.perf_counter()
    run(["generate_assignment", "*"], root)
    for name in names:
        assert (root / "release" / name / f"{name}.ipynb").is_file(), f"{name} was not released"
    seconds["generate_assignment"] = time.perf_counter() - start
    for name in names:
        released = root / "release" / name
        for student in ("source", "released", "wrong") if name == EXCHANGE_LESSON else ("released", "wrong"):
            folder = root / "submitted" / student / name
            shutil.copytree(released, folder)
            # as `nbgrader collect` (or zip_collect) leaves it; release_feedback needs it
            (folder / "timestamp.txt").write_text(stamp)
        if name == EXCHANGE_LESSON:
            nbformat.write(nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4),
                           root / "submitted" / "source" / name / f"{name}.ipynb")
        wrong_nb = root / "submitted" / "wrong" / name / f"{name}.ipynb"
        if name in WRONG:
            nbformat.write(_wrong_submission(root / "source" / name / f"{name}.ipynb", name), wrong_nb)
        else:
            shutil.rmtree(wrong_nb.parent)
    student = [f"--course={COURSE}", f"--Exchange.root={root / 'exchange'}"]
    if EXCHANGE_LESSON in names:  # the wrong answer goes through the exchange instead
        start = time.perf_counter()
        name = EXCHANGE_LESSON
        shutil.rmtree(root / "submitted" / "wrong" / name)
        run(["release_assignment", name], root)
        run(["fetch_assignment", name, *student], student_home)
        nbformat.write(_wrong_submission(root / "source" / name / f"{name}.ipynb", name),
                       student_home / name / f"{name}.ipynb")
        run(["submit", name, *student], student_home)
        run(["collect", name], root)
        seconds["exchange"] = time.perf_counter() - start
    start = time.perf_counter()
    run(["autograde", "*"], root)
    seconds["autograde"] = time.perf_counter() - start
    if EXCHANGE_LESSON in names:
        start = time.perf_counter()
        name = EXCHANGE_LESSON
        run(["generate_feedback", name], root)
        run(["release_feedback", name, f"--student={STUDENT}"], root)  # the one who used the exchange
        run(["fetch_feedback", name, *student], student_home)
        seconds["feedback"] = time.perf_counter() - start
    return seconds


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Every lesson laid out, released and graded; {lesson: course folder}, and the seconds taken."""
    base = tmp_path_factory.mktemp("nbgrader")
    groups: list[list[str]] = [[], []]
    cost = {name: _cost(name) for name in LESSONS}
    for name in sorted(LESSONS, key=cost.__getitem__, reverse=True):  # two halves of about equal run time
        min(groups, key=lambda g: sum(map(cost.__getitem__, g))).append(name)
    roots = [base / f"course{i}" for i in range(len(groups))]
    homes = [base / f"student{i}" for i in range(len(groups))]
    for root, home, names in zip(roots, homes, groups, strict=True):
        nbgrader_course.lay_out(root, sorted(names))
        home.mkdir()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        timings = list(pool.map(lambda args: _grade_course(*args), zip(roots, groups, homes, strict=True)))
    seconds = {f"course{i}": {"lessons": sorted(names), **t}
               for i, (names, t) in enumerate(zip(groups, timings, strict=True))}
    seconds["total"] = time.perf_counter() - start
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "seconds.json").write_text(json.dumps(seconds, indent=1) + "\n")
    where = {name: (root, home) for root, home, names in zip(roots, homes, groups, strict=True)
             for name in names}
    return where, seconds


def scores(root, name: str, student: str) -> dict[str, float]:
    """{grade_id: score} of a graded submission, read from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(name, name, student)
        return {grade.name: grade.score for grade in submission.grades}


def max_scores(root, name: str) -> dict[str, float]:
    nb = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
    return {gid: c.metadata["nbgrader"]["points"] for gid, c in nbgrader_cells(nb).items()
            if c.metadata["nbgrader"]["grade"]}


@pytest.mark.parametrize("name", LESSONS)
def test_the_released_copy_holds_no_solution_and_no_hidden_test(graded, name):
    root, _ = graded[0][name]
    released = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
    source = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
    text = "\n".join(c.source for c in released.cells)
    assert not any(marker in text for marker in MARKERS)
    assert all(not c.get("outputs") for c in released.cells if c.cell_type == "code")
    for gid, cell in nbgrader_cells(source).items():
        copy = nbgrader_cells(released)[gid]
        if cell.metadata["nbgrader"]["solution"]:
            solution = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0].strip()
            assert solution not in copy.source and "raise NotImplementedError()" in copy.source, gid
        else:  # the check a student sees is there; its hidden tests are not
            assert copy.source.rstrip() == cell.source.split("\n### BEGIN HIDDEN TESTS")[0].rstrip(), gid
    assert (root / "release" / name / "data" / "seed_claims.csv").is_file()


def test_the_source_notebook_gets_full_marks(graded):
    """Lesson 01's instructor notebook, as it is, scores every point (in every other lesson each
    exercise but the first is graded on its solution in the "wrong" submission, below)."""
    root, _ = graded[0][EXCHANGE_LESSON]
    assert scores(root, EXCHANGE_LESSON, "source") == max_scores(root, EXCHANGE_LESSON)


@pytest.mark.parametrize("name", LESSONS)
def test_the_released_copy_unchanged_gets_zero(graded, name):
    root, _ = graded[0][name]
    assert scores(root, name, "released") == {gid: 0.0 for gid in max_scores(root, name)}


@pytest.mark.parametrize("name", GRADED)
def test_a_common_wrong_answer_loses_exactly_that_exercises_points(graded, name):
    root, _ = graded[0][name]
    student = STUDENT if name == EXCHANGE_LESSON else "wrong"
    expected = max_scores(root, name)  # every other exercise, graded on its solution, full marks
    expected[f"ex{lesson_number(name)}_1_check"] = 0.0
    assert scores(root, name, student) == expected


def test_the_student_fetches_feedback_through_the_exchange(graded):
    """Lesson 01's wrong answer went out and back through the exchange; the feedback the student
    fetched shows the check's message and the score."""
    root, home = graded[0][EXCHANGE_LESSON]
    feedback = list((home / EXCHANGE_LESSON / "feedback").glob(f"*/{EXCHANGE_LESSON}.html"))
    assert len(feedback) == 1, feedback
    html = feedback[0].read_text()
    total = sum(max_scores(root, EXCHANGE_LESSON).values())
    assert re.search(rf"Score:\s*{total - 1:g}(\.0)?\s*/\s*{total:g}", html), "no score in the feedback"
    assert "Not yet:</span> 0.470588 is not the threshold 2/L: 2/(mu + L) is the optimal step" in html


def test_the_students_copy_clears_solutions_hidden_tests_and_verdicts():
    """``student_copy`` (the site's pages and downloads): nbgrader's stub in every answer cell, no
    hidden test, no check output; the instructor's notebook is not changed."""
    nb = nbformat.read(NOTEBOOKS / "12_integer_inference.ipynb", as_version=4)
    before = nbformat.writes(nb)
    assert "BEGIN HIDDEN TESTS" in before and "BEGIN SOLUTION" in before
    copy = nbgrader_course.student_copy(nb)
    assert nbformat.writes(nb) == before
    text = nbformat.writes(copy)
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    graded = [c for c in copy.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("ex")]
    assert graded and all(not c.outputs for c in graded)
    answers = [c for c in graded if c.metadata["nbgrader"]["grade_id"].endswith("_answer")]
    assert all("raise NotImplementedError()" in c.source for c in answers)
    pairs = zip(nb.cells, copy.cells, strict=True)
    others = [(a.source, a.get("outputs")) for a, b in pairs if b not in graded]
    assert others == [(b.source, b.get("outputs")) for b in copy.cells if b not in graded]


def test_the_students_copy_refuses_what_is_not_a_notebook():
    with pytest.raises(TypeError, match="nb must be a notebook"):
        nbgrader_course.student_copy(["cells"])
