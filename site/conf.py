"""Sphinx configuration of the course's website (``python scripts/build_site.py``).

Sphinx with MyST-NB reads the committed notebooks as they are, outputs included, and runs
none of them; sphinx-book-theme lays the pages out (navigation in lesson order, a table of
contents per page, search). Nothing is loaded from the network: MathJax is the course's
vendored copy (see ``course_site.py``), the theme's fonts and icons come with the theme,
and no ipywidgets manager or require.js is added (the course's widgets carry their own
ES module in their HTML output and start themselves).
"""

from __future__ import annotations

import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import course_site  # noqa: E402

project = "Gradient descent, momentum and Nesterov, and compressing neural networks"
author = "the course's authors"
copyright = "the course's authors"  # noqa: A001 - Sphinx's name

extensions = ["myst_nb", "sphinx.ext.githubpages", "course_site"]

root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# --- notebooks: shown as committed, never executed ---------------------------------------
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no require.js and no widget manager from a CDN
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- MathJax: the course's vendored copy, served from _static (course_site writes it) -------
# _static/mathjax/start.js loads it once the live figures have started, and typesets in slices.
mathjax_path = course_site.MATHJAX_START

# --- HTML ----------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "Momentum and compression: an interactive course"
html_static_path = ["_static"]
templates_path = ["_templates"]  # layout.html: the theme's page without fontawesome.js
html_css_files = ["course.css"]
html_sourcelink_suffix = ""  # _sources/NN_name.ipynb is the notebook itself, for download
html_last_updated_fmt = None
html_context = {"default_mode": "light"}  # the figures are drawn for a light page
html_theme_options = {
    "repository_url": course_site.REPOSITORY_URL,
    "use_repository_button": True,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
mathjax3_config = {"svg": {"fontCache": "global"}}  # MathJax 3.2.2's TeX-to-SVG: no font files
