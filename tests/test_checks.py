"""The exercise checks' common parts: what counts as a number, and feedback without a traceback."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import nbformat
import numpy as np
import pytest
import sympy
from nbclient import NotebookClient

from lessons_lib import checks
from lessons_lib.checks import NotYet


@pytest.mark.parametrize(("answer", "message"), [
    (None, "No answer yet"),
    (..., "No answer yet"),
    ("0.5", "not the text '0.5'"),
    (b"0.5", "not the text"),
    (True, "not a boolean"),
    (np.bool_(False), "not a boolean"),
    ([0.5, 0.5], "single number"),
    (float("nan"), "should be finite"),
    (float("inf"), "should be finite"),
])
def test_what_is_not_a_number(answer, message):
    with pytest.raises(NotYet, match=message):
        checks.as_number(answer, "the step")
    with pytest.raises(NotYet, match=message):
        checks.number(answer, 0.5, what="the step", hint="halve it")


@pytest.mark.parametrize("answer", [0.5, np.float64(0.5), np.array(0.5), 1 / 2, Fraction(1, 2),
                                    Decimal("0.5"), sympy.Rational(1, 2), sympy.Float(0.5),
                                    sympy.sqrt(sympy.Rational(1, 4))])
def test_numbers_in_any_numeric_form_are_accepted(answer, capsys):
    checks.number(answer, 0.5, what="the step", hint="halve it")
    assert capsys.readouterr().out.startswith("Correct: the step = 0.5")


@pytest.mark.parametrize(("answer", "message"), [
    (0.49, "too small"), (0.51, "too large"), (2.0, "is not the step: the limit"),
])
def test_wrong_numbers_are_told_apart(answer, message):
    with pytest.raises(NotYet, match=message):
        checks.number(answer, 0.5, what="the step", hint="halve it", mistakes={"limit": (2.0, "the limit.")})


@pytest.mark.parametrize("answer", ["[1, 2]", ["1", "2"], [True, False], np.array(["a", "b"])])
def test_text_or_booleans_are_not_an_array_of_numbers(answer):
    with pytest.raises(NotYet, match="array of real numbers"):
        checks.vector(answer, np.array([1.0, 2.0]), what="the point", hint="look again")


def test_the_feedback_is_the_message_alone():
    err = NotYet("0.3 is too small for the step. Hint: halve the limit.")
    assert err._render_traceback_() == ["\x1b[1;31mNot yet:\x1b[0m 0.3 is too small for the step.",
                                        "\x1b[1mHint:\x1b[0m halve the limit."]
    assert NotYet("no hint here")._render_traceback_() == ["\x1b[1;31mNot yet:\x1b[0m no hint here"]


def test_a_wrong_answer_in_a_notebook_shows_no_traceback_and_no_expected_value():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from lessons_lib import checks\n"
        "checks.number(0.3, 0.123456, what='the step', hint='halve the limit')\n")]
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True).execute()
    (error,) = [o for o in nb.cells[0].outputs if o["output_type"] == "error"]
    shown = "\n".join(error["traceback"])
    assert error["ename"] == "NotYet"
    assert "Not yet:" in shown and "0.3 is too large for the step" in shown and "halve the limit" in shown
    assert "0.123456" not in shown and "Traceback" not in shown and "checks.number(" not in shown


@pytest.mark.parametrize(("answer", "message"), [
    (np.complex128(0.5 + 1j), "should be real"),
    (0.5 + 1j, "should be real"),
    (np.array("0.5"), "not text"),
    (np.array(True), "boolean"),
    (10**400, "made of numbers"),
    (np.array([0.5]), None),
])
def test_more_things_that_are_or_are_not_a_number(answer, message):
    if message is None:
        assert checks.as_number(answer, "the step") == 0.5
    else:
        with pytest.raises(NotYet, match=message):
            checks.as_number(answer, "the step")


def test_tensors_are_numbers_and_ragged_lists_are_not():
    import torch

    assert checks.as_number(torch.tensor(0.5, requires_grad=True), "the step") == 0.5
    with pytest.raises(NotYet, match="boolean"):
        checks.as_number(torch.tensor(True), "the step")
    checks.vector(torch.tensor([1.0, 2.0], requires_grad=True), np.array([1.0, 2.0]),
                  what="the point", hint="")
    for bad in ([[0.3], [-1.2, 0.0]], np.array([0.3 + 1j, -1.2])):
        with pytest.raises(NotYet, match="array of"):
            checks.vector(bad, np.array([1.0, 2.0]), what="the point", hint="look again")


def test_a_function_that_returns_text_or_complex_numbers_gets_a_message():
    for bad in (lambda x: "1.0", lambda x: 1.0 + 0j * x + 1j):
        with pytest.raises(NotYet):
            checks.function(bad, lambda x: 1.0, [(1.0,)], what="f", hint="return a float")


def test_a_function_that_is_a_stub_or_raises_gets_a_message():
    def stub(x):
        raise NotImplementedError()

    with pytest.raises(NotYet, match="^f is not written yet"):
        checks.function(stub, lambda x: 1.0, [(1.0,)], what="f", hint="return a float")
    with pytest.raises(NotYet, match="f raised ZeroDivisionError"):
        checks.function(lambda x: 1 / 0, lambda x: 1.0, [(1.0,)], what="f", hint="return a float")


def test_exact_numbers_in_arrays_and_what_sympy_cannot_make_a_number():
    checks.vector([Fraction(1, 2), Decimal("0.25")], [0.5, 0.25], what="the pair", hint="h")
    with pytest.raises(NotYet, match="made of numbers"):
        checks.as_number(sympy.Symbol("eta"), "the step")
    with pytest.raises(NotYet, match="made of numbers"):
        checks.as_number(sympy.I, "the step")
