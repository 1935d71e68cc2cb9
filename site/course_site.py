"""The course's own additions to the Sphinx site (a Sphinx extension, loaded by ``conf.py``).

* **The repository's address** is one setting, ``[project.urls] Repository`` in
  ``pyproject.toml``; the Binder and clone links of every page are made from it
  (:func:`repository_url`, :func:`binder_url`). ``tests/test_site.py`` checks that the
  README's Binder link is :func:`binder_url` of lesson 00, so the two cannot drift apart.
* **"Run this lesson yourself"** under each lesson's title: download the notebook (the
  copy Sphinx keeps in ``_sources/``), open it on Binder, and the README's two commands
  (:func:`readme_commands`, read from the README at build time).
* **The ``course-commands`` directive** shows the same two commands on any page (the home page).
* **MathJax** is the course's vendored copy (``jupyter/nbconvert/templates/lessons/
  mathjax-tex-svg-full.js.gz.b64``, npm's ``mathjax@3.2.2``), decompressed into the built
  site's ``_static/`` (:data:`MATHJAX_PATH`): no second copy in the repository and no CDN.
  Pages load ``_static/mathjax/start.js`` (:data:`MATHJAX_START`), which loads it once the
  page's live figures have started.
"""

from __future__ import annotations

import base64
import gzip
import html
import pathlib
import re

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PYPROJECT = ROOT / "pyproject.toml"
MATHJAX_SOURCE = ROOT / "jupyter" / "nbconvert" / "templates" / "lessons" / "mathjax-tex-svg-full.js.gz.b64"
MATHJAX_PATH = "mathjax/tex-svg-full.js"  # under the site's _static/
MATHJAX_START = "mathjax/start.js"  # site/_static/mathjax/start.js: loads MATHJAX_PATH, typesets
LESSON = re.compile(r"^\d\d_[a-z0-9_]+$")
BINDER = "https://mybinder.org/v2/gh"
COMMAND_MARKERS = ("open-command", "test-command")


def repository_url() -> str:
    """The course's GitHub address, ``[project.urls] Repository`` in ``pyproject.toml``."""
    table = PYPROJECT.read_text().partition("\n[project.urls]\n")[2].partition("\n[")[0]
    found = re.search(r'^Repository = "([^"]*)"$', table, flags=re.M)
    url = found.group(1) if found else ""
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"pyproject.toml [project.urls] Repository must be https://github.com/OWNER/REPO; "
                         f"got {url!r}")
    return url


REPOSITORY_URL = repository_url()


def binder_url(lesson: str) -> str:
    """Binder's address that opens ``students/<lesson>.ipynb``, the students' copy that Binder's
    ``postBuild`` writes (:mod:`lessons_lib.students_folder`), in JupyterLab (as the README's link)."""
    if not isinstance(lesson, str) or not LESSON.match(lesson):
        raise ValueError(f"lesson must be a lesson's name such as '03_momentum'; got {lesson!r}")
    owner_repo = REPOSITORY_URL.removeprefix("https://github.com/")
    return f"{BINDER}/{owner_repo}/HEAD?urlpath=lab/tree/students/{lesson}.ipynb"


def readme_commands(readme: pathlib.Path = README) -> dict[str, str]:
    """The README's commands: the first line of the code block after each ``<!-- name -->`` marker
    (``open-command``: install and open the course; ``test-command``: install and run every test)."""
    text = readme.read_text()
    commands = {}
    for name in COMMAND_MARKERS:
        found = re.search(rf"<!-- {name} -->\s*\n```\w*\n([^\n]+)\n", text)
        if not found:
            raise ValueError(f"readme has no code block after <!-- {name} -->: {readme}")
        commands[name] = found.group(1).strip()
    return commands


def _commands_html(lesson: str | None) -> str:
    commands = readme_commands()
    opened = commands["open-command"]
    if lesson is not None:  # open this lesson rather than lesson 00
        opened = re.sub(r"notebooks/\d\d_[a-z0-9_]+\.ipynb", f"notebooks/{lesson}.ipynb", opened)
    clone = f"git clone {REPOSITORY_URL} && cd {REPOSITORY_URL.rsplit('/', 1)[1]}"
    rows = [("Get the course", clone), ("1. Install everything and open the lesson" if lesson else
                                        "1. Install everything and open the course", opened),
            ("2. Install everything and run every test", commands["test-command"])]
    return "".join(f'<p class="course-run-label">{html.escape(label)}</p>'
                   f'<pre class="course-run-command"><code>{html.escape(cmd)}</code></pre>'
                   for label, cmd in rows)


def run_box_html(lesson: str, depth: int = 0) -> str:
    """The "run this lesson yourself" box of a lesson page ``depth`` folders below the site's root."""
    binder = binder_url(lesson)
    up = "../" * depth
    return (
        '<aside class="course-run" aria-label="Run this lesson yourself">'
        '<p class="course-run-title">Run this lesson yourself</p>'
        '<ul class="course-run-choices">'
        f'<li><a class="course-download" href="{up}_sources/{lesson}.ipynb" download="mine_{lesson}.ipynb">'
        'Download the notebook</a> (with its outputs and empty answer cells; it imports the course\'s '
        'helper library, which the commands below install; save it in the course\'s <code>notebooks/</code> '
        f'folder as <code>mine_{lesson}.ipynb</code>: some lessons read files from '
        '<code>notebooks/data/</code>, and the course\'s tests leave <code>mine_</code> files alone)</li>'
        f'<li><a class="course-binder" href="{html.escape(binder)}">Open it on Binder</a> '
        '(a temporary JupyterLab in the cloud with the students\' copies of the lessons, built from '
        'the repository\'s latest version; it takes a few minutes to start)</li>'
        '</ul>'
        '<details class="course-run-local"><summary>Run it on your computer (Python 3.11 or newer)</summary>'
        f'{_commands_html(lesson)}</details>'
        '</aside>'
    )


class CourseCommands(SphinxDirective):
    """``course-commands``: the README's two commands (and the clone), as HTML."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(README))
        return [nodes.raw("", f'<div class="course-commands">{_commands_html(None)}</div>', format="html")]


def add_run_box(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Put the run box right under a lesson page's title."""
    name = docname.rsplit("/", 1)[-1]
    if not LESSON.match(name):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        raise ValueError(f"{docname}: a lesson must start with a title")
    box = nodes.raw("", run_box_html(name, depth=docname.count("/")), format="html")
    section.insert(1, box)


def write_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Decompress the vendored MathJax into the built site's ``_static/`` (after a good build)."""
    if exception is not None or app.builder.format != "html":
        return
    target = pathlib.Path(app.outdir) / "_static" / MATHJAX_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(gzip.decompress(base64.b64decode(MATHJAX_SOURCE.read_text())))


def setup(app: Sphinx) -> dict:
    app.add_directive("course-commands", CourseCommands)
    app.connect("doctree-resolved", add_run_box)
    app.connect("build-finished", write_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
