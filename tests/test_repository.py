"""The repository's own rules: text twins in step, lint clean, notebooks saved from clean runs."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys

import jupytext
import pytest

from conftest import NARROWEST_OUTPUT_PX, NOTEBOOKS, ROOT, load_file
from two_workers import cell_seconds

NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in NOTEBOOK_FILES]


def test_there_are_notebooks():
    assert len(NOTEBOOK_FILES) >= 2
    assert (NOTEBOOKS / "00_start_here.ipynb") in NOTEBOOK_FILES


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_text_twin_matches_notebook(nb):
    twin = nb.with_suffix(".py")
    assert twin.exists(), f"{nb.name} has no py:percent twin"
    expected = jupytext.writes(jupytext.read(nb), fmt="py:percent")
    assert twin.read_text().strip() == expected.strip(), (
        f"{twin.name} differs from {nb.name}; run: jupytext --sync {nb}")


def test_every_twin_has_a_notebook():
    for twin in NOTEBOOKS.glob("[0-9][0-9]_*.py"):
        assert twin.with_suffix(".ipynb").exists(), f"{twin.name} has no notebook"


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_notebook_saved_from_one_clean_run(nb):
    cells = json.loads(nb.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    for i, c in enumerate(code, 1):
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"cell {i} stores an error"
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r" at 0x[0-9a-f]{6,}", text), f"cell {i} prints a memory address"
            # nothing on stderr at all: warnings, a font cache gone stale, a library's log line
            assert out.get("name") != "stderr", f"cell {i} stores output on stderr: {text[:200]}"


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_notebook_has_the_lesson_structure(nb):
    """Goals and prerequisites first, a summary and at least three exercises at the end."""
    cells = json.loads(nb.read_text())["cells"]
    md = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    first = md[0]
    assert re.search(r"(?im)^#+ .*goals", "\n".join(md[:2])), "no learning goals at the top"
    assert re.search(r"(?i)prerequisite|assumes", "\n".join(md[:2])), "no prerequisites at the top"
    assert first.lstrip().startswith("# "), "the first cell should be the lesson title"
    text = "\n".join(md)
    assert re.search(r"(?im)^#+ .*summary", text), "no summary section"
    if nb.stem != "00_start_here":
        assert len(re.findall(r"(?im)^#+ *exercise \d", text)) >= 3, "fewer than three exercises"


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_setup_is_called_once_in_the_first_code_cell_after_torch(nb):
    """``lessons_lib.setup()`` once (a lesson that needs fresh random numbers later makes a
    generator, CONTRIBUTING.md), in the setup cell (the first code cell), which imports torch
    before it if the lesson uses torch: setup() seeds torch only if imported, and freezes only
    what is loaded (gc.freeze)."""
    code = ["".join(c["source"]) for c in json.loads(nb.read_text())["cells"] if c["cell_type"] == "code"]
    code = [re.sub(r"#[^\n]*", "", source) for source in code]  # comments may name setup() or torch
    calls = [i for i, source in enumerate(code) for _ in re.finditer(r"\blessons_lib\.setup\(", source)]
    assert calls == [0], f"lessons_lib.setup() called in code cells {calls}, not once in the first"
    torch_import = re.compile(r"(?m)^[ \t]*(?:import[ \t][^\n]*\btorch\b|from[ \t]+torch\b)")
    if any(torch_import.search(source) for source in code):
        first = code[0]
        found = torch_import.search(first)
        assert found and found.start() < first.index("lessons_lib.setup("), \
            "the lesson uses torch but its setup cell does not import it before lessons_lib.setup()"


LONG_CELL_SECONDS = 2.0


def _only_imports(source: str) -> bool:
    """True for a cell that only imports (and sets the level of the loggers that would speak while
    importing): its time is the import's, which cannot show a bar."""
    body = ast.parse(source).body
    return bool(body) and all(
        isinstance(node, ast.Import | ast.ImportFrom)
        or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "setLevel")
        for node in body)


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_long_cells_show_progress(nb):
    """A cell that ran longer than about two seconds when the notebook was built shows a progress
    bar (lessons_lib.progress, directly or through train(progress=True)); the bar leaves nothing in
    the saved output, which nbval would compare. The setup cell (the first, imports) and cells that only
    import (lesson 13's torchao, 1.3 to 2.1 s in its builds) are exempt: importing cannot show a bar.
    An exercise's check cell may show the bar of the answer cell before it, whose function it calls."""
    cells = json.loads(nb.read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    timed = [(c, cell_seconds(c)) for c in code]
    assert all(t is not None for _, t in timed), "the notebook was saved without cell timings"
    for i, (cell, seconds) in enumerate(timed):
        source = "".join(cell["source"])
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            # an exercise's check runs the answer cell's code (e.g. its training): the bar is there
            source += "".join(code[i - 1]["source"])
        if seconds > LONG_CELL_SECONDS and i > 0 and not _only_imports(source):
            assert re.search(r"\bprogress\(|progress=True", source), (
                f"cell {cell['execution_count']} ran {seconds:.1f} s without a progress bar:\n{source[:300]}")
        for out in cell.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert "it/s]" not in text and "s/it]" not in text, f"cell {cell['execution_count']} stores a bar"


def test_ruff_is_clean():
    twins = [str(p) for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))]
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "lessons_lib", "tests", "benchmarks", "scripts", "site",
         *twins],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_requirements_pin_the_cpu_torch_and_install_the_library():
    req = (ROOT / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in req
    assert "-e ." in req
    env = (ROOT / "environment.yml").read_text()
    assert "pytorch-cpu" in env and "conda-forge" in env
    assert "pip install --no-deps -e ." in (ROOT / "postBuild").read_text()
    assert sys.version_info >= (3, 11)


def test_no_user_instruction_disables_security():
    """Token-free, root-allowed servers exist only inside the browser test's own configuration."""
    risky = re.compile(r"allow[-_]root|token\s*=\s*(''|\"\")|IdentityProvider\.token|disable_check_xsrf|"
                       r"--ip[= ]0\.0\.0\.0|ServerApp\.ip=0\.0\.0\.0")
    docs = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", NOTEBOOKS / "README.md", ROOT / "postBuild",
            ROOT / "environment.yml", *sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))]
    for path in docs:
        assert not risky.search(path.read_text()), f"{path.name} tells users to weaken the server's security"
    support = (ROOT / "tests" / "browser_support.py").read_text()
    assert "--ServerApp.ip=127.0.0.1" in support and "0.0.0.0" not in support


def test_stored_widget_outputs_carry_the_committed_widget_module():
    """Each widget output embeds course_widgets.js for readers without a kernel; its SHA-256 must be
    the module's in the repository (else: rebuild the notebooks after changing the module)."""
    import hashlib

    digest = hashlib.sha256((ROOT / "lessons_lib" / "widgets" / "course_widgets.js").read_bytes()).hexdigest()
    seen = 0
    for nb in NOTEBOOK_FILES:
        for cell in json.loads(nb.read_text())["cells"]:
            for out in cell.get("outputs", []):
                html = "".join(out.get("data", {}).get("text/html", ""))
                for stored in re.findall(r'data-sha256="([0-9a-f]{64})"', html):
                    seen += 1
                    assert stored == digest, f"{nb.name} stores another widget module; rebuild it"
    assert seen >= 7  # lessons 00-08 show at least seven widgets


def shared_data() -> dict[str, str]:
    """pyproject's ``shared-data`` table: repository path -> path under the environment's prefix."""
    text = (ROOT / "pyproject.toml").read_text()
    table = text.split("[tool.hatch.build.targets.wheel.shared-data]", 1)[1].split("\n[", 1)[0]
    return dict(re.findall(r'^"([^"]+)" = "([^"]+)"$', table, flags=re.M))


def test_the_environment_holds_the_course_jupyter_files_as_committed():
    """``pip install -e .`` copies jupyter/ into the environment (hatchling's shared data); a copy
    older than the repository's files means `pip install -e .` must run again."""
    from pathlib import Path

    pairs = shared_data()
    assert set(pairs) == {"jupyter/etc/jupyter_nbconvert_config.json",
                          "jupyter/etc/jupyter_server_config.d/lessons_lib.json",
                          "jupyter/nbconvert/templates/lessons",
                          "jupyter/nbconvert/templates/lessons_slides",
                          "jupyter/nbconvert/templates/lessons_feedback"}
    for source, target in pairs.items():
        folder = (ROOT / source).is_dir()
        files = [p for p in sorted((ROOT / source).rglob("*")) if p.is_file()] if folder else [ROOT / source]
        assert files, source
        for f in files:
            installed = Path(sys.prefix) / target
            if folder:
                installed = installed / f.relative_to(ROOT / source)
            assert installed.is_file() and installed.read_bytes() == f.read_bytes(), \
                f"{installed} is not {f.relative_to(ROOT)}: run `pip install -e .` again"


def test_the_vendored_mathjax_is_the_one_named():
    """The inlined MathJax is es5/tex-svg-full.js of npm's mathjax@3.2.2 (that file's sha256)."""
    import base64
    import gzip
    import hashlib

    folder = ROOT / "jupyter" / "nbconvert" / "templates" / "lessons"
    js = gzip.decompress(base64.b64decode((folder / "mathjax-tex-svg-full.js.gz.b64").read_text()))
    digest = "a4354ff94fd868aea0cc6eaaa79a57fda0588646fc46ee3700a349ee0a11cbe6"
    assert hashlib.sha256(js).hexdigest() == digest
    assert b"</script" not in js.lower()  # it is inlined into a page


def test_the_vendored_reveal_js_is_the_one_named():
    """The slides template inlines npm's reveal.js@5.2.1: dist/reveal.js and dist/reveal.css as they
    are (their sha256), and dist/theme/white.css less its one @import of web fonts."""
    import hashlib

    folder = ROOT / "jupyter" / "nbconvert" / "templates" / "lessons_slides"
    digests = {"reveal.js": "46538b52db48724192f59bf46f5e851a18e302777c46f4a34c32709d010d6a29",
               "reveal.css": "68f915a11ebf7203c0446576b7e952ff61c5dd02134a8a226ffaf62ed42136d2"}
    for name, digest in digests.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    theme = (folder / "theme-white.css").read_text()
    lines = theme.split("\n")
    lines.insert(5, "@import url(./fonts/source-sans-pro/source-sans-pro.css);")
    white = "\n".join(lines).rstrip("\n")  # npm's file has no newline at its end
    assert hashlib.sha256(white.encode()).hexdigest() == (
        "97f64970ffd6c745ffab96ad26c504950f665e18fa851ac8864fc1851ce99780")
    for name in ("reveal.js", "reveal.css", "theme-white.css"):
        text = (folder / name).read_text()
        assert "@import" not in text, name
        assert "</script" not in text.lower() and "</style" not in text.lower(), name
        if name.endswith(".css"):
            assert not re.search(r"url\((?!data:)", text), f"{name} refers to another file"
    assert "MIT" in (folder / "REVEAL-LICENSE").read_text()


MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_markdown_never_holds_nbgrader_markers(nb):
    """nbgrader reads its markers in markdown cells too (and fails on prose that quotes them)."""
    for cell in json.loads(nb.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            assert not any(m in text for m in MARKERS), f"{nb.name}: a marker in markdown:\n{text[:300]}"


_SAME_SIDES_CALLS = {"allclose", "isclose", "equal", "array_equal", "assert_allclose", "assert_array_equal",
                     "assert_equal", "close"}


def _self_comparisons(source: str) -> list[tuple[int, str]]:
    """Asserts (and closeness calls inside asserts) whose two sides are the same expression."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for sub in ast.walk(node.test):
            if isinstance(sub, ast.Compare):
                sides = [sub.left, *sub.comparators]
                if any(ast.dump(a) == ast.dump(b) for a, b in zip(sides[:-1], sides[1:], strict=True)):
                    found.append((sub.lineno, ast.unparse(sub)))
            elif isinstance(sub, ast.Call) and len(sub.args) >= 2:
                name = sub.func.attr if isinstance(sub.func, ast.Attribute) else getattr(sub.func, "id", "")
                if name in _SAME_SIDES_CALLS and ast.dump(sub.args[0]) == ast.dump(sub.args[1]):
                    found.append((sub.lineno, ast.unparse(sub)))
    return found


def test_the_self_comparison_finder_finds_them():
    src = ("assert x == x\nassert np.allclose(a[0], a[0])\nassert 0 < y < y\n"
           "assert x == y\nassert np.allclose(a, b)\nassert torch.equal(f(1), f(2))\n")
    assert [line for line, _ in _self_comparisons(src)] == [1, 2, 3]


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_no_assert_compares_an_expression_with_itself(nb):
    """An assert whose two sides are the same expression cannot fail (issue: every check can fail)."""
    found = _self_comparisons(nb.with_suffix(".py").read_text())
    assert not found, f"{nb.stem}: asserts that cannot fail: {found}"


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_figures_are_stored_at_twice_their_displayed_size(nb):
    """matplotlib figures ("retina" PNGs, lessons_lib.plotting.use_style): pixel width = 2 x shown width.
    A widget's fallback picture (an output that also holds text/html) is the widget's own."""
    import base64
    import struct

    for cell in json.loads(nb.read_text())["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" not in data or "text/html" in data:
                continue
            png = base64.b64decode(data["image/png"])
            width = struct.unpack(">I", png[16:20])[0]
            shown = out.get("metadata", {}).get("image/png", {}).get("width")
            assert shown and abs(width - 2 * shown) <= 1, (
                f"{nb.stem}: a figure of {width} px shown at {shown}; rebuild the notebook")


# CSS px once a picture is scaled into the narrowest output area: 7 px for text, about four fifths
# of the 8-pt text (8.9 px) the course's figures use at full size (the course's own rule, not a
# published standard); 4.9 px for a glyph, the size of a sub- or superscript (70 %) of 7-px text.
SMALLEST_TEXT_PX, SMALLEST_GLYPH_PX = 7.0, 4.9


@pytest.mark.parametrize("nb", NOTEBOOK_FILES, ids=IDS)
def test_every_picture_keeps_its_text_legible_in_the_narrowest_output_area(nb):
    """Every stored picture (the figures, and the widgets' pictures for readers without JavaScript)
    records its smallest text and its smallest glyph, a mathtext sub- or superscript
    (lessons_lib.plotting, CSS px at full size; Unicode sub- and superscripts count at their font's
    size). JupyterLab scales a picture wider than the output area down to it: in the narrowest the
    course is designed for (conftest.NARROWEST_OUTPUT_PX), the text is still at least 7 CSS px and
    every mathtext script at least 4.9 (a wide figure needs larger text, or a narrower layout). A
    picture without text records "none"."""
    import base64

    from lessons_lib.plotting import SMALLEST_GLYPH_KEY, SMALLEST_TEXT_KEY, png_texts

    small, unrecorded = [], []
    for index, cell in enumerate(json.loads(nb.read_text())["cells"]):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" not in data:
                continue
            png = base64.b64decode(data["image/png"])
            texts = png_texts(png)
            if SMALLEST_TEXT_KEY not in texts or SMALLEST_GLYPH_KEY not in texts:
                unrecorded.append(index)
                continue
            shown = out.get("metadata", {}).get("image/png", {}).get("width")
            shown = shown or int.from_bytes(png[16:20], "big") // 2  # a retina PNG: twice the shown width
            if (texts[SMALLEST_TEXT_KEY], texts[SMALLEST_GLYPH_KEY]) == ("none", "none"):
                continue  # no text drawn
            if "none" in (texts[SMALLEST_TEXT_KEY], texts[SMALLEST_GLYPH_KEY]):
                small.append(f"cell {index}: one size recorded as none")
                continue
            scale = min(1.0, NARROWEST_OUTPUT_PX / shown)
            text, glyph = (float(texts[key]) * scale for key in (SMALLEST_TEXT_KEY, SMALLEST_GLYPH_KEY))
            if text < SMALLEST_TEXT_PX or glyph < SMALLEST_GLYPH_PX:
                small.append(f"cell {index}: {shown} px wide, text {text:.2f} px, glyph {glyph:.2f} px")
    assert not unrecorded, f"{nb.stem}: pictures without their smallest text, cells {unrecorded}; rebuild it"
    assert not small, (
        f"{nb.stem}: in a {NARROWEST_OUTPUT_PX}-px output area, text under {SMALLEST_TEXT_PX} px or a glyph "
        f"under {SMALLEST_GLYPH_PX} px: {small}")


def _notebook_minutes(nb) -> int:
    """The time a lesson gives itself: "About N minutes" in its Prerequisites cell."""
    cells = json.loads(nb.read_text())["cells"]
    text = next("".join(c["source"]) for c in cells
                if c["cell_type"] == "markdown" and "## Prerequisites" in "".join(c["source"]))
    text = text.split("## Prerequisites", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"About\s+(\d+)\s+minutes", text)
    assert len(found) == 1, f"{nb.stem}: its Prerequisites should say 'About N minutes' once; found {found}"
    return int(found[0])


def _table_minutes(path) -> dict[str, int]:
    """Lesson number -> minutes, from a markdown table whose rows start "| NN |" and end "| N min |"."""
    rows = re.findall(r"^\| (\d\d) \|.*\| (\d+) min \|$", path.read_text(), flags=re.M)
    return {n: int(m) for n, m in rows}


def test_the_guides_lesson_times_are_the_notebooks_own():
    own = {nb.stem[:2]: _notebook_minutes(nb) for nb in NOTEBOOK_FILES}
    for guide in (ROOT / "README.md", NOTEBOOKS / "README.md"):
        assert _table_minutes(guide) == own, f"{guide.relative_to(ROOT)}: times differ from the notebooks'"


#: The optimization lessons (01-08) fit their hour: at most about 2,000 words of story (issue 13).
STORY_WORDS_MAX = 2200
OPTIMIZATION_LESSONS = [nb for nb in NOTEBOOK_FILES if "01" <= nb.stem[:2] <= "08"]


def story_words(nb) -> int:
    """Words of markdown prose a student reads: the lesson's cells up to its exercises, without a
    closing "Checks" section (verification a student need not read). A formula counts as one word."""
    words, skipping = 0, False
    for cell in json.loads(nb.read_text())["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for block in re.split(r"(?m)^(?=## )", "".join(cell["source"])):
            head = block.splitlines()[0] if block.strip() else ""
            if re.match(r"## +(Checks|Exercises)\b", head):
                skipping = True
            elif head.startswith("## "):
                skipping = False
            if not skipping:
                prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " X ", block, flags=re.S)
                words += len(re.findall(r"\w+", prose))
    return words


def test_story_words_counts_prose_and_skips_checks_and_exercises(tmp_path):
    cells = [{"cell_type": "markdown", "source": "# Title\n\nOne two $x^2 + y$ three.\n"},
             {"cell_type": "code", "source": "many words in code do not count"},
             {"cell_type": "markdown", "source": "## Summary\nfour five\n## Checks\nsix seven\n"},
             {"cell_type": "markdown", "source": "## Exercises\neight\n"}]
    path = tmp_path / "01_x.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    assert story_words(path) == 8  # Title One two X three, Summary four five


@pytest.mark.parametrize("nb", OPTIMIZATION_LESSONS, ids=[p.stem for p in OPTIMIZATION_LESSONS])
def test_an_optimization_lesson_fits_its_hour(nb):
    """About 2,000 words of story and at most 60 minutes stated; verification goes to "Checks"."""
    assert _notebook_minutes(nb) <= 60
    words = story_words(nb)
    assert words <= STORY_WORDS_MAX, f"{nb.stem}: {words} words of story (at most {STORY_WORDS_MAX})"


def test_every_page_asks_for_the_python_the_project_requires():
    """The README, the guides and the website's pages promise the Python version pyproject.toml requires
    (the pinned numpy, scikit-learn, matplotlib and nbgrader need 3.11), and Binder's environment and
    the Pages workflow install it: no page may promise an older one, and each of the four must name it."""
    pyproject = (ROOT / "pyproject.toml").read_text()
    required = re.search(r'requires-python = ">=(\d+\.\d+)"', pyproject).group(1)
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", NOTEBOOKS / "README.md",
             ROOT / "jupyter" / "README.md", ROOT / "site" / "index.md", ROOT / "site" / "course_site.py",
             *sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))]
    # a promise: "Python 3.11 or newer", "Python 3.11+", "Python >= 3.11", "python 3.11 or later"
    promise = (r"[Pp]ython\s*(?:(?:>=|≥)\s*(\d+\.\d+)"
               r"|(\d+\.\d+)(?:\+| or newer| or later| or higher|\s*(?=[,;)]|$)))")
    promised = {(path.name, a or b) for path in pages
                for a, b in re.findall(promise, path.read_text(), flags=re.M)}
    assert {"README.md", "course_site.py", "index.md"} <= {name for name, _ in promised}, sorted(promised)
    assert {v for _, v in promised} == {required}, sorted(promised)
    conda = re.findall(r"^\s*-\s*python\s*=+\s*(\d+\.\d+)", (ROOT / "environment.yml").read_text(),
                       flags=re.M)
    workflow = re.findall(r"python-version:\s*[\"'\[]*(\d+\.\d+)",
                          (ROOT / ".github" / "workflows" / "pages.yml").read_text())
    assert conda == [required] and workflow == [required], (conda, workflow)


def test_a_students_mine_copy_is_left_alone(tmp_path, monkeypatch):
    """The README and the site tell a student to save a downloaded lesson as notebooks/mine_NN_name.ipynb:
    pytest does not collect it (the root conftest.py), git ignores it, and neither the nbgrader layout nor
    the site takes it for a lesson."""
    import fnmatch

    from lessons_lib import nbgrader_course

    root_conftest = load_file(ROOT / "conftest.py", "root_conftest_probe")
    assert any(fnmatch.fnmatch("notebooks/mine_03_momentum.ipynb", pattern)
               for pattern in root_conftest.collect_ignore_glob)
    assert "notebooks/mine_*" in (ROOT / ".gitignore").read_text().splitlines()
    for name in ("03_momentum.ipynb", "mine_03_momentum.ipynb"):
        (tmp_path / name).write_text("{}")
    assert nbgrader_course.lessons(tmp_path) == ["03_momentum"]
    build_site = load_file(ROOT / "scripts" / "build_site.py", "build_site_probe")
    monkeypatch.setattr(build_site, "NOTEBOOKS", tmp_path)
    assert [p.name for p in build_site.lessons()] == ["03_momentum.ipynb"]
