"""Every "write a function" exercise: the student copy's stub gets the check's message, not a traceback.

nbgrader's student copy replaces a solution by ``raise NotImplementedError()``. For an exercise whose
answer is a function, the check calls it, and the stub raises there, inside the check: the check must
say "Not yet: <name> is not written yet" (a :class:`lessons_lib.checks.NotYet`, shown without a
traceback, whose lines would show the check's source) rather than let the NotImplementedError through.
The exercises are found in the lessons themselves: an answer cell that defines a function, followed by
a check cell that passes it.
"""

from __future__ import annotations

import pathlib
import re

import pytest

from lessons_lib import checks

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"


def _function_exercises() -> list[tuple[str, str, str]]:
    """(lesson, function name, check call) for every answer cell defining a function whose check
    cell's first line passes that function."""
    found = []
    for twin in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        cells = re.split(r"^# %%.*$", twin.read_text(encoding="utf-8"), flags=re.M)
        for cell, after in zip(cells, cells[1:], strict=False):
            if "### BEGIN SOLUTION" not in cell:
                continue
            call = after.strip().splitlines()[0]
            for name in re.findall(r"^def (\w+)\(", cell, flags=re.M):
                if re.match(rf"checks\.\w+\.\w+\((.*, )?{name}[,)]", call):
                    found.append((twin.stem, name, call))
    return found


EXERCISES = _function_exercises()


def test_every_function_exercise_is_found():
    """The parse finds the course's function exercises (a lesson's exercises renamed or moved would
    otherwise leave this file testing nothing)."""
    names = [name for _, name, _ in EXERCISES]
    some = {"steps_needed", "hb_rate", "quantize_affine_per_channel", "clipped_rms", "recipe_4",
            "fold_linear_bn", "centroid_grad", "symmetric_round_trip"}
    assert len(names) == 16 and some <= set(names)


def _stub(*args, **kwargs):
    raise NotImplementedError()  # what nbgrader's ClearSolutions writes into a student copy


@pytest.mark.parametrize(("lesson", "name", "call"), EXERCISES,
                         ids=[f"{les[:2]}-{n}" for les, n, _ in EXERCISES])
def test_a_stub_gets_a_message_naming_the_function(lesson, name, call):
    module, function = re.match(r"checks\.(\w+)\.(\w+)\(", call).groups()
    check = getattr(getattr(checks, module), function)
    given = [a.strip() for a in re.match(r"checks\.\w+\.\w+\((.*)\)$", call).group(1).split(",")]
    # the function as the stub; an answer before it (lesson 09's best_c) as a valid fraction; the rest is
    # not reached
    args = [_stub if a == name else (1.0 if i < given.index(name) else None) for i, a in enumerate(given)]
    with pytest.raises(checks.NotYet, match=rf"^{name} is not written yet"):
        check(*args)


def test_a_check_run_before_its_answer_says_so_in_a_kernel():
    """A value exercise's check run before its answer cell has assigned the answer (a student copy's
    stub raises first): "Not yet: answer_1 is not defined yet ...", not a NameError traceback; any
    other NameError keeps IPython's traceback; the cell still fails (nbgrader scores it 0)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in (
        "import lessons_lib\nfrom lessons_lib import checks\nlessons_lib.setup()",
        "checks.gradient_descent.stability_limit(answer_1)",
        "not_a_check = undefined_name + 1",
        "answer_1 = 2 / 4.0\nchecks.gradient_descent.stability_limit(answer_1)",
        "def f():\n    return missing_inside\nchecks.gradient_descent.stability_limit(f())",
        "%tb",
    )]
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120).execute()
    errors = [[o for o in cell.outputs if o.output_type == "error"] for cell in nb.cells]
    assert errors[0] == [] and errors[3] == []
    (inside,) = errors[4]  # raised inside a function called on the check's line: IPython's traceback
    assert "Not yet" not in "".join(inside.traceback) and "missing_inside" in inside.traceback[-1]
    assert "missing_inside" in "".join(errors[5][0].traceback)  # %tb shows the last error, as without
    (unanswered,), (other,) = errors[1], errors[2]
    assert unanswered.ename == "NameError" and len(unanswered.traceback) == 1
    assert "Not yet:" in unanswered.traceback[0] and "answer_1 is not defined yet" in unanswered.traceback[0]
    assert "Not yet" not in "".join(other.traceback) and "undefined_name" in other.traceback[-1]
    assert "Correct:" in "".join(o.get("text", "") for o in nb.cells[3].outputs)
