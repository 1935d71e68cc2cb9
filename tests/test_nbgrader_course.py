"""The lessons as an nbgrader course, end to end, with nbgrader as installed from the registry.

``python -m lessons_lib.nbgrader_course`` lays the course out in a temporary folder (its gradebook
and exchange inside it). For every lesson, ``nbgrader generate_assignment`` writes the released
copy, which must hold no solution, no hidden test and only the data files the student copy reads;
then ``nbgrader autograde`` grades two submissions of it:

* ``released``: the released copy unchanged: zero;
* ``wrong``: the instructor's notebook with exercise 1's answer replaced by a common wrong answer
  (one of those the check tables in tests/test_checks_*.py name): exactly that exercise's points lost.

(lesson 00, which has no exercises, only the first) and, for lesson 01, a third: ``source``, the
instructor's notebook itself: full marks.

For lesson 01 the ``wrong`` submission takes the instructor's guide's whole route instead:
``release_assignment``, the student's ``fetch_assignment`` and ``submit``, ``collect``, then
``autograde``, ``generate_feedback``, ``release_feedback`` and the student's ``fetch_feedback``.
A second, small course of lesson 01 alone checks the feedback for hidden tests, with a submission
that passes exercise 3's visible check and fails its hidden tests, and autograde's log.

Autograde runs every notebook twice (lesson 01 three times; about four minutes of kernel time),
so the lessons are split between two course folders graded side by side (one per core when nothing
else runs; under the test command the other test worker runs beside them), each with one
``generate_assignment "*"`` and one ``autograde "*"`` for all its lessons; the seconds each step
took go to test-artifacts/nbgrader/seconds.json.
"""

from __future__ import annotations

import ast
import getpass
import html
import json
import pathlib
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import nbformat
import pytest

from conftest import NOTEBOOKS, ROOT
from lessons_lib import nbgrader_course, students_folder
from two_workers import notebook_seconds

LESSONS = nbgrader_course.lessons()
GRADED = [name for name in LESSONS if not name.startswith("00_")]  # lesson 00 has no exercises
COURSE = nbgrader_course.COURSE_ID
NBGRADER = [sys.executable, "-m", "nbgrader"]
EXCHANGE_LESSON = "01_gradient_descent"
ARTIFACTS = ROOT / "test-artifacts" / "nbgrader"  # seconds.json: the time each step took
STUDENT = getpass.getuser()  # the exchange's submissions are made in the name of this user
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")

# The data files each lesson's student copy reads (paths under notebooks/data/); the other lessons read none.
SEEDS = sorted(f"seeds/{p.name}" for p in (NOTEBOOKS / "data" / "seeds").iterdir())
DATA = {
    "04_momentum_rates": ["seeds/000_a8b9852b0ec674d4.txt", "seeds/002_f70065683ff95f85.txt"],  # cited
    "10_weight_pruning": ["validation/lesson10_finetuning.json"],  # load_record("lesson10_finetuning")
    "11_compression_pipeline": ["validation/lesson11_schedule.json"],  # load_record("lesson11_schedule")
    "12_integer_inference": ["timings/lesson12_speed.json"],  # Path("data/timings/lesson12_speed.json")
    "14_claims_checked": ["seed_claims.csv", *SEEDS],  # DATA / "seed_claims.csv", DATA / "seeds"
}

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


def data_in(folder) -> list[str]:
    """The files in ``folder``'s ``data/``, as paths relative to it, sorted."""
    data = folder / "data"
    return sorted(p.relative_to(data).as_posix() for p in data.rglob("*") if p.is_file())


def hidden_tests(nb) -> list[str]:
    """The non-blank lines of the notebook's hidden tests, markers included, stripped."""
    region = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", re.S)
    blocks = [block for c in nb.cells for block in region.findall(c.source)]
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def page_text(path) -> str:
    """An HTML page's text: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


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


def exercises(name: str) -> list[tuple[int, str, float]]:
    """(K, kind, points) of each exercise of the lesson: the kind from its heading
    "### Exercise K (kind)", the points from its check cell's nbgrader metadata."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    kinds = {int(k): kind for c in nb.cells if c.cell_type == "markdown"
             for k, kind in re.findall(r"(?m)^### Exercise (\d+) \((\w+)\)", c.source)}
    cells = nbgrader_cells(nb)
    return [(k, kind, cells[f"ex{lesson_number(name)}_{k}_check"].metadata["nbgrader"]["points"])
            for k, kind in sorted(kinds.items())]


def points_table() -> str:
    """The instructor's guide's table of every exercise's kind and points, from the notebooks."""
    width = max(len(exercises(name)) for name in GRADED)
    lines = ["| lesson | " + " | ".join(f"ex. {k}" for k in range(1, width + 1)) + " | points |",
             "|---" * (width + 2) + "|"]
    for name in GRADED:
        row = [f"{kind} {points:g}" for _, kind, points in exercises(name)]
        total = sum(points for _, _, points in exercises(name))
        cells = row + [""] * (width - len(row))
        lines.append(f"| {lesson_number(name)} | " + " | ".join(cells) + f" | {total:g} |")
    return "\n".join(lines) + "\n"


def test_the_guides_points_are_the_notebooks():
    """notebooks/README.md's table gives every exercise's kind and points as the notebooks do, and
    its sentence the points each kind takes; CONTRIBUTING.md's example is lesson 03's exercise 2 as
    it is in the twin."""
    guide = (NOTEBOOKS / "README.md").read_text()
    assert points_table() in guide, "notebooks/README.md's points table should be:\n" + points_table()
    taken = {}
    for name in GRADED:
        for _, kind, points in exercises(name):
            taken.setdefault(kind, set()).add(points)
    sentence = ", ".join(f"{kind} {' or '.join(f'{p:g}' for p in sorted(taken[kind]))}"
                         for kind in ("recall", "apply", "implement", "explore"))
    assert sorted(taken) == ["apply", "explore", "implement", "recall"]
    assert sentence in re.sub(r"\s+", " ", guide), sentence
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    example = re.search(r"exercise 2 of lesson 03 \(a (\w+) exercise: (\d+) points?[^`]*```python\n(.*?)```",
                        contributing, re.S)
    assert example, "CONTRIBUTING.md has no example of lesson 03's exercise 2"
    assert (example[1], float(example[2])) == exercises("03_momentum")[1][1:]
    code = re.sub(r"(?m)^  ", "", example[3])
    assert code in (NOTEBOOKS / "03_momentum.py").read_text()


# --- the layout ----------------------------------------------------------------------------------


def test_the_layout_has_config_sources_data_and_exchange(tmp_path):
    written = nbgrader_course.lay_out(tmp_path / "course")
    root = tmp_path / "course"
    assert written == [root / "source" / n / f"{n}.ipynb" for n in LESSONS]
    for name in LESSONS:  # each lesson gets the data its student copy reads, and nothing else
        assert data_in(root / "source" / name) == DATA.get(name, []), name
        source = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
        assert source == nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert (root / "exchange").is_dir()
    config = (root / "nbgrader_config.py").read_text()
    assert f"course_id = {COURSE!r}" in config and "gradebook.db" in config and "c.Execute.timeout" in config
    assert "preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, ClearHiddenTestsFromFeedback]" in config
    # an instructor's edits to the config survive laying the notebooks out again; a data file
    # the lesson no longer reads does not
    (root / "nbgrader_config.py").write_text(config + "c.Execute.timeout = 900\n")
    (root / "source" / "14_claims_checked" / "data" / "old.json").write_text("{}")
    nbgrader_course.lay_out(root, ["14_claims_checked"])
    assert (root / "nbgrader_config.py").read_text().endswith("c.Execute.timeout = 900\n")
    assert data_in(root / "source" / "14_claims_checked") == DATA["14_claims_checked"]


def test_no_assignment_gets_a_data_file_that_only_solutions_or_hidden_tests_name(tmp_path):
    """A data file named (by its name, stem or path under data/) in a solution or a hidden test and
    nowhere in the student copy's code is in no assignment: nbgrader would release it. Lesson 11's
    exercise 4 solution reads lesson11_exercise4.json, the record of how that solution was chosen."""
    nbgrader_course.lay_out(tmp_path / "course")
    files = data_in(NOTEBOOKS)
    for name in LESSONS:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        regions = r"### BEGIN (SOLUTION|HIDDEN TESTS)(.*?)### END \1"
        instructor_only = "\n".join(m[2] for c in nb.cells for m in re.finditer(regions, c.source, re.S))
        student = nbgrader_course.student_copy(nb)
        student_code = "\n".join(c.source for c in student.cells if c.cell_type == "code")

        def named(relative, text):
            path = pathlib.PurePosixPath(relative)
            return any(n in text for n in (path.name, path.stem, relative))

        secret = {f for f in files if named(f, instructor_only) and not named(f, student_code)}
        assert not secret & set(data_in(tmp_path / "course" / "source" / name)), name
        if name == "11_compression_pipeline":
            assert secret == {"validation/lesson11_exercise4.json"}


def test_data_files_refuses_bad_input(tmp_path):
    nb = nbformat.read(NOTEBOOKS / "14_claims_checked.ipynb", as_version=4)
    with pytest.raises(ValueError, match="data"):
        nbgrader_course.data_files(nb, tmp_path / "missing")
    with pytest.raises(TypeError, match="nb must be a notebook"):
        nbgrader_course.data_files(["cells"], NOTEBOOKS / "data")
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\ndef (")])
    with pytest.raises(ValueError, match="nb: code cell 0 is not Python"):
        nbgrader_course.data_files(broken, NOTEBOOKS / "data")
    magic = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%time open('data/seed_claims.csv')")])
    assert nbgrader_course.data_files(magic, NOTEBOOKS / "data") == []  # an IPython line is not read


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


def test_the_command_line_warns_of_a_kept_config_that_shows_hidden_tests(tmp_path, capsys):
    """A config written before the feedback's preprocessors were in CONFIG is kept: say so."""
    nbgrader_course.main([str(tmp_path), "03_momentum"])
    assert "warning" not in capsys.readouterr().err
    config = tmp_path / "nbgrader_config.py"
    lines = config.read_text().splitlines()  # as CONFIG was before: neither the class nor the setting
    config.write_text("\n".join(line for line in lines if "Feedback" not in line))
    nbgrader_course.main([str(tmp_path), "03_momentum"])
    assert "does not set GenerateFeedback.preprocessors" in capsys.readouterr().err


def test_the_command_line_warns_that_an_assignment_is_released_already(tmp_path, capsys):
    """nbgrader skips an assignment whose release folder exists, so a new layout (its data files) would
    not be released without --force (review, session 25: an older layout's solution record stayed)."""
    nbgrader_course.main([str(tmp_path), "03_momentum"])
    assert "--force" not in capsys.readouterr().err
    (tmp_path / "release" / "03_momentum").mkdir(parents=True)
    nbgrader_course.main([str(tmp_path), "03_momentum"])
    assert "release/03_momentum exists" in capsys.readouterr().err


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
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
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
    # the data files the student copy reads, no other (lesson 11's: not lesson11_exercise4.json)
    assert data_in(root / "release" / name) == DATA.get(name, [])


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
    source = nbformat.read(root / "source" / EXCHANGE_LESSON / f"{EXCHANGE_LESSON}.ipynb", as_version=4)
    assert not [line for line in hidden_tests(source) if line in page_text(feedback[0])]


def _cells(nb) -> list[tuple]:
    """Each cell's kind, source and nbgrader's locks (editable, deletable)."""
    return [(c.cell_type, c.source, c.metadata.get("editable"), c.metadata.get("deletable"))
            for c in nb.cells]


def test_the_students_folder_holds_nbgraders_released_cells(graded, tmp_path):
    """Binder's students/ (lessons_lib.students_folder, which postBuild runs): each lesson's cells are those
    of nbgrader's released copy (kinds, sources and locks; the students' folder keeps the stored outputs
    outside the exercises, as the website does, where nbgrader clears them all), and its one data/ folder
    holds every file the released assignments carry, byte for byte, and no other."""
    out = tmp_path / "students"
    students_folder.write(out)
    carried = {}
    for name in LESSONS:
        root, _ = graded[0][name]
        released = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        mine = nbformat.read(out / f"{name}.ipynb", as_version=4)
        assert _cells(mine) == _cells(released), name
        assert any(c.metadata.get("editable") is False for c in mine.cells) == (name in GRADED), name
        for relative in data_in(root / "release" / name):
            carried[relative] = (root / "release" / name / "data" / relative).read_bytes()
    assert data_in(out) == sorted(carried)
    assert all((out / "data" / relative).read_bytes() == body for relative, body in carried.items())


def test_the_students_copy_clears_solutions_hidden_tests_and_verdicts():
    """``student_copy`` (the site's pages and downloads, Binder's students/): nbgrader's stub in every
    answer cell, no hidden test, no check output, the checks locked, no jupytext pairing; the
    instructor's notebook is not changed."""
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
    checks = [c for c in graded if c.metadata["nbgrader"]["grade_id"].endswith("_check")]
    assert checks and all(c.metadata.get("editable") is False and c.metadata.get("deletable") is False
                          for c in checks)  # nbgrader's LockCells, as in its release
    assert all(c.metadata.get("editable") is not False for c in answers)
    assert "jupytext" in nb.metadata and "jupytext" not in copy.metadata  # saving it writes no .py


def test_the_students_copy_refuses_what_is_not_a_notebook():
    with pytest.raises(TypeError, match="nb must be a notebook"):
        nbgrader_course.student_copy(["cells"])


# --- the feedback, in a small course of lesson 01 ---------------------------------------------

FEEDBACK_LESSON = "01_gradient_descent"
# Exercise 3's function as a table of the visible check's six cases: the check passes, the hidden tests
# (other cases) raise KeyError.
TABLE_ANSWER = """import math

_known = {(k, e): max(0, math.ceil(math.log(e) / math.log((k - 1) / (k + 1))))
          for k, e in [(10.0, 1e-6), (100.0, 1e-3), (2.0, 1e-10), (1000.0, 1e-8), (1.5, 0.5), (3.0, 0.25)]}


def steps_needed(kappa, eps):
    return _known[(kappa, eps)]
"""
# The same table, with -1e4 (a float64) elsewhere: a hidden test's assert overflows, and its warning
# prints that hidden line on stderr (review, session 25)
WARNING_ANSWER = TABLE_ANSWER.replace("return _known[(kappa, eps)]",
                                      "return _known.get((kappa, eps), np.float64(-1e4))")
# A student's note quoting the marker, in an answer cell: it stopped generate_feedback (review, session 25)
MARKER_NOTE = "# my notes: the instructor's copy has ### BEGIN HIDDEN TESTS in the check below\n"


@pytest.fixture(scope="module")
def feedback_course(tmp_path_factory):
    """Lesson 01 laid out alone, released, and four submissions autograded (each on its own, its log
    kept) and given feedback: "released", the released copy unchanged; "table", "warning" and
    "marker", the instructor's notebook with exercise 3 answered by TABLE_ANSWER, by WARNING_ANSWER,
    and with MARKER_NOTE at the top of exercise 3's answer. Returns the course folder and the logs."""
    root, name = tmp_path_factory.mktemp("feedback") / "course", FEEDBACK_LESSON
    nbgrader_course.lay_out(root, [name])
    run(["generate_assignment", name], root)
    students = ("released", "table", "warning", "marker")
    for student in students:
        shutil.copytree(root / "release" / name, root / "submitted" / student / name)
    for student, edit in (("table", lambda src: TABLE_ANSWER), ("warning", lambda src: WARNING_ANSWER),
                          ("marker", lambda src: MARKER_NOTE + src)):
        nb = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
        cell = nbgrader_cells(nb)["ex01_3_answer"]
        cell.source = edit(cell.source)
        nbformat.write(nb, root / "submitted" / student / name / f"{name}.ipynb")
    logs = {s: run(["autograde", name, f"--student={s}"], root) for s in students}
    run(["generate_feedback", name], root)
    return root, logs


def test_the_feedback_shows_the_scores_and_no_hidden_test(feedback_course):
    """autograde puts the hidden tests back to run them; the course's nbgrader_config.py takes them out of
    the feedback again: out of the check cell's source, out of a failed hidden test's error (one line,
    "A hidden test failed (<exception>).", without its message, which names the hidden inputs) and out
    of a warning's stream output; a student's answer quoting the marker does not stop the feedback."""
    root, _ = feedback_course
    name = FEEDBACK_LESSON
    hidden = hidden_tests(nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4))
    assert len(hidden) >= 4 and "### BEGIN HIDDEN TESTS" in hidden
    most = max_scores(root, name)
    assert scores(root, name, "table") == {**most, "ex01_3_check": 0.0}  # the hidden tests did run
    for student in ("released", "table", "warning", "marker"):
        text = page_text(root / "feedback" / student / name / f"{name}.html")
        if student == "marker":  # its own note quotes the marker, and stays
            text = text.replace(MARKER_NOTE.strip(), "")
        assert not [line for line in hidden if line in text], student
        got = scores(root, name, student)
        for gid, points in most.items():  # each check's score, then the total
            assert re.search(rf"{gid}\s*Score: {got[gid]:g}(\.0)? / {points:g}", text), gid
        total = sum(got.values())
        assert re.search(rf"Score:\s*{total:g}(\.0)?\s*/\s*{sum(most.values()):g}", text), student
    text = page_text(root / "feedback" / "table" / name / f"{name}.html")
    assert "A hidden test failed (KeyError)." in text and "(4.0, 0.001)" not in text
    text = page_text(root / "feedback" / "warning" / name / f"{name}.html")
    assert "A hidden test failed (AssertionError)." in text and "RuntimeWarning: overflow" in text
    assert "is not the smallest k" not in text  # the hidden test's own message
    assert scores(root, name, "warning")["ex01_3_check"] == 0.0
    marker_page = page_text(root / "feedback" / "marker" / name / f"{name}.html")
    assert "my notes: the instructor's copy has" in marker_page


def test_the_feedback_page_carries_its_mathjax(feedback_course):
    """nbgrader's feedback template loads MathJax 2 from cdnjs.cloudflare.com; the course's config puts
    its own feedback/mathjax.html.j2 first, so the page holds the course's inlined MathJax and refers to
    no network address for a script or style."""
    root, _ = feedback_course
    html = (root / "feedback" / "table" / FEEDBACK_LESSON / f"{FEEDBACK_LESSON}.html").read_text()
    assert 'id="lessons-mathjax"' in html and "cdnjs" not in html
    loads = re.findall(r"""<(?:script|link)[^>]*(?:src|href)=["']?(https?:|//)""", html, re.I)
    assert not loads, loads


def test_formgraders_feedback_button_also_gets_the_course_mathjax(feedback_course, tmp_path):
    """formgrader's "generate feedback" goes through NbGraderAPI.generate_feedback, which sets
    HTMLExporter.template_name to "feedback" itself; the course's template path still applies."""
    root, _ = feedback_course
    course = tmp_path / "course"
    shutil.copytree(root, course)
    page = course / "feedback" / "table" / FEEDBACK_LESSON / f"{FEEDBACK_LESSON}.html"
    page.unlink()
    script = ("from nbgrader.apps import NbGraderAPI\n"
              "from nbgrader.apps.baseapp import NbGrader\n"
              "app = NbGrader()\n"
              "app.load_config_file()\n"
              "api = NbGraderAPI(config=app.config)\n"
              f"result = api.generate_feedback({FEEDBACK_LESSON!r}, 'table', force=True)\n"
              "assert result['success'], result\n")
    subprocess.run([sys.executable, "-c", script], cwd=course, check=True, capture_output=True, timeout=600)
    html = page.read_text()
    assert 'id="lessons-mathjax"' in html and "cdnjs" not in html


def test_autograde_warns_of_a_changed_checksum_once_per_check_with_hidden_tests(feedback_course):
    """nbgrader's own behaviour (jupyter/nbgrader#1961), which notebooks/README.md explains: the
    checksum in the gradebook is taken before the hidden tests are removed, so each check cell that has
    them differs in every submission made from the released copy, and autograde puts the original
    back. The instructor's notebook, hidden tests in place, raises no warning."""
    root, logs = feedback_course
    source = nbformat.read(root / "source" / FEEDBACK_LESSON / f"{FEEDBACK_LESSON}.ipynb", as_version=4)
    with_hidden = sorted(gid for gid, c in nbgrader_cells(source).items() if "BEGIN HIDDEN TESTS" in c.source)
    assert with_hidden == ["ex01_3_check"]
    assert re.findall(r"Attribute 'checksum' for cell (\S+) has changed", logs["released"]) == with_hidden
    assert "has changed" not in logs["table"]
