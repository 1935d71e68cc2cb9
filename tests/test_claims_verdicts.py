"""Lesson 14's verdicts are computed, and the claims table says what the notebook prints.

* Every ``ledger.settle`` in the lesson gets its verdict from a computation: no verdict string and
  no ``claims.judge(literal=..., core=...)`` finding is typed in as a constant.
* Every number in the evidence of a computed claim (a decimal, a number of two or more digits, a
  percentage) appears in the notebook's stored outputs or its source, unless it is a year or one of
  the literature's numbers listed here; a stale number in the table fails this test.
* No assert in lessons 08 and 14 compares an expression with itself.
"""

from __future__ import annotations

import ast
import json
import re

import pytest

from conftest import NOTEBOOKS
from lessons_lib import claims

LESSON = NOTEBOOKS / "14_claims_checked"
# numbers in the evidence that come from the cited literature, not from the notebook
LITERATURE = {
    "1139", "1147",  # PMLR 28(3):1139-1147, Sutskever et al.
    "1,070", "1.64", "1.58",  # Deep Compression, LeNet-300-100 (Han, Mao, Dally, ICLR 2016)
}
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*\.\d+"  # decimals
                    r"|(?<![\w.,])\d{1,3}(?:,\d{3})+(?!\d)"  # thousands with commas
                    r"|(?<![\w.,])\d{2,}(?![\w.,]\d)"  # integers of two digits or more
                    r"|(?<![\w.])\d+(?:\.\d+)?%")  # percentages


def _notebook_text() -> str:
    nb = json.loads(LESSON.with_suffix(".ipynb").read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        parts.append("".join(cell["source"]))
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts).replace(",", "")


def test_every_number_of_a_computed_claim_is_in_the_notebook():
    text = _notebook_text()
    missing = []
    for c in claims.load_claims():
        if c.check == claims.CITATION:
            continue
        for token in NUMBER.findall(c.evidence):
            plain = token.rstrip("%").replace(",", "")
            if token in LITERATURE or re.fullmatch(r"(19|20)\d\d", plain):
                continue
            if plain not in text:
                missing.append(f"{c.id} ({c.check}): {token}")
    assert not missing, "numbers in the table's evidence that lesson 14 never prints:\n" + "\n".join(missing)


def _calls(tree: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)
            and (getattr(n.func, "attr", None) == name or getattr(n.func, "id", None) == name)]


def test_no_verdict_is_typed_in():
    tree = ast.parse(LESSON.with_suffix(".py").read_text(encoding="utf-8"))
    settles = [c for c in _calls(tree, "settle") if getattr(c.func.value, "id", "") == "ledger"]
    assert len(settles) >= 40
    typed = []
    for call in settles:
        verdict = call.args[1]
        if isinstance(verdict, ast.Constant):
            typed.append(f"line {call.lineno}: ledger.settle(..., {verdict.value!r})")
    for call in _calls(tree, "judge"):
        findings = list(call.args) + [k.value for k in call.keywords]
        if any(isinstance(f, ast.Constant) for f in findings):
            typed.append(f"line {call.lineno}: {ast.unparse(call)}")
    assert not typed, "verdicts or findings typed in instead of computed:\n" + "\n".join(typed)


def test_the_check_catches_a_typed_verdict():
    source = 'ledger.settle("x", claims.judge(literal=False, core=True))\nledger.settle("y", "holds")\n'
    tree = ast.parse(source)
    judged = [c for c in _calls(tree, "judge")
              if any(isinstance(f, ast.Constant) for f in [k.value for k in c.keywords])]
    settled = [c for c in _calls(tree, "settle") if isinstance(c.args[1], ast.Constant)]
    assert len(judged) == 1 and len(settled) == 1


@pytest.mark.parametrize("lesson", ["08_linear_regression_worked_example", "14_claims_checked"])
def test_no_assert_compares_a_thing_with_itself(lesson):
    tree = ast.parse((NOTEBOOKS / f"{lesson}.py").read_text(encoding="utf-8"))
    same = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            for sub in ast.walk(node.test):
                if isinstance(sub, ast.Compare):
                    sides = [sub.left, *sub.comparators]
                    dumps = [ast.dump(s) for s in sides]
                    if len(set(dumps)) < len(dumps):
                        same.append(f"line {node.lineno}: {ast.unparse(node.test)}")
                if isinstance(sub, ast.Call) and getattr(sub.func, "attr", "") in {"allclose", "isclose",
                                                                                   "array_equal", "equal"}:
                    args = [ast.dump(a) for a in sub.args[:2]]
                    if len(args) == 2 and args[0] == args[1]:
                        same.append(f"line {node.lineno}: {ast.unparse(node.test)}")
    assert not same, "asserts that compare an expression with itself:\n" + "\n".join(same)


def _conjuncts(node: ast.AST) -> list[ast.AST]:
    """The terms of ``a and b and ...`` (the node itself when it is not an ``and``)."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [t for v in node.values for t in _conjuncts(v)]
    return [node]


def _forced_findings(source: str) -> list[str]:
    """Findings passed to ``claims.judge`` that an earlier ``assert`` of the notebook already fixes: a term
    of the finding that is, or is the negation of, a term an assert above it requires to be true.
    (Asserts after the verdict, such as those of what the summary says, are not counted.)"""
    tree = ast.parse(source)
    asserts = [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    forced = []
    for call in _calls(tree, "judge"):
        asserted = {ast.dump(t) for n in asserts if n.lineno < call.lineno for t in _conjuncts(n.test)}
        for finding in list(call.args) + [k.value for k in call.keywords]:
            for term in _conjuncts(finding):
                negated = isinstance(term, ast.UnaryOp) and isinstance(term.op, ast.Not)
                inner = term.operand if negated else term
                if ast.dump(inner) in asserted:
                    forced.append(f"line {call.lineno}: {ast.unparse(term)} is fixed by an assert")
    return forced


def test_no_verdict_is_forced_by_an_assert():
    forced = _forced_findings(LESSON.with_suffix(".py").read_text(encoding="utf-8"))
    assert not forced, "findings that an assert fixes before the verdict is computed:\n" + "\n".join(forced)


def test_the_forced_verdict_check_catches_the_pattern():
    source = ("assert gap < 1e-12\nledger.settle('x', claims.judge(literal=not gap < 1e-12))\n"
              "assert same and other\nledger.settle('y', claims.judge(literal=not same and ok))\n"
              "ledger.settle('z', claims.judge(literal=free))\n")
    assert len(_forced_findings(source)) == 2
