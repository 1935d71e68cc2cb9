"""plotting.share_mathtext_parses: the pixels of matplotlib's own cache, fewer parses, and an unknown
matplotlib left alone."""

from __future__ import annotations

import functools
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import mathtext

from lessons_lib import plotting


def own_cache() -> object:
    """matplotlib's own cache, as matplotlib defines it (one lru_cache(50) on the method, keyed with the
    parser). Fails (KeyError, AttributeError) if the pinned matplotlib no longer has the method."""
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    return functools.lru_cache(50)(method.__wrapped__)


@pytest.fixture
def restore(monkeypatch):
    """Put matplotlib's method, the shared layouts and rcParams back after the test."""
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", method)
    monkeypatch.setattr(plotting, "_MATHTEXT_PARSES", type(plotting._MATHTEXT_PARSES)())
    with matplotlib.rc_context():
        yield


def decoded(buf: io.BytesIO) -> np.ndarray:
    buf.seek(0)
    return matplotlib.image.imread(buf)


def figure_png(dpi_factor: float = 2.0) -> np.ndarray:
    """A figure with log-scale (mathtext) ticks, mathtext labels at two sizes and a legend, saved as the
    inline backend saves it (tight bounding box); decoded to an RGBA array."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3))
    k = np.arange(1, 200)
    ax1.semilogy(k, 0.9**k, label=r"$|1-\eta\lambda|^k$")
    ax1.set_xlabel(r"step $k$")
    ax1.legend()
    ax2.loglog(k, 1 / k, label=r"$\frac{1}{k}$")
    ax2.set_title(r"$\tilde x_{1}$ and $\alpha = 0.25/\mu$")
    ax2.text(2, 0.02, r"$\tilde x_{1}$ and $\alpha = 0.25/\mu$", fontsize=16)  # the title's string, larger
    buf = io.BytesIO()
    fig.canvas.print_figure(buf, format="png", dpi=dpi_factor * fig.dpi, bbox_inches="tight")
    plt.close(fig)
    return decoded(buf)


def label_png() -> np.ndarray:
    """One mathtext label in the default font settings, drawn at its own size."""
    fig = plt.figure(figsize=(3, 1))
    fig.text(0.05, 0.4, r"$wwwmmm\ x_k + \mathrm{e}^{y}$ and text")
    buf = io.BytesIO()
    fig.canvas.print_figure(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return decoded(buf)


def math_image() -> np.ndarray:
    """mathtext.math_to_image (no font properties given: it reads font.size and font.family)."""
    buf = io.BytesIO()
    mathtext.math_to_image(r"$y_k = \sum_i x_i$", buf, dpi=100, format="png")
    return decoded(buf)


def rc_changes():
    """Settings a parse reads from rcParams, each changed once between two drawings."""
    yield "mathtext.default", "bf"
    yield "mathtext.fontset", "stix"
    yield "font.size", 24.0
    yield "font.sans-serif", ["DejaVu Serif"]


def drawings_under_changes() -> list[np.ndarray]:
    """Every drawing below, in order: the figure at two dpis, then the label and the math image before
    and after each rcParams change."""
    out = [figure_png(2.0), figure_png(1.0), figure_png(2.0)]
    for key, value in rc_changes():
        out += [label_png(), math_image()]
        matplotlib.rcParams[key] = value
        out += [label_png(), math_image()]
    return out


def test_shared_parses_draw_what_matplotlib_draws(restore, monkeypatch):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", own_cache())
    with matplotlib.rc_context():
        alone = drawings_under_changes()
    assert plotting.share_mathtext_parses() is True
    with matplotlib.rc_context():
        shared = drawings_under_changes()
    assert len(shared) == len(alone) == 3 + 4 * len(list(rc_changes()))
    for i, (a, b) in enumerate(zip(alone, shared, strict=True)):
        assert a.shape == b.shape and np.array_equal(a, b), f"drawing {i} differs"
    # each change shows in matplotlib's own drawings, so the comparison above would see a stale layout
    for j, (key, _) in enumerate(rc_changes()):
        before, after = alone[3 + 4 * j: 5 + 4 * j], alone[5 + 4 * j: 7 + 4 * j]
        differs = [a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(before, after, strict=True)]
        assert any(differs), key


def test_a_second_figure_parses_nothing_new(restore, monkeypatch):
    parse = own_cache().__wrapped__
    calls = []

    def counted(self, s, dpi, prop, antialiased, load_glyph_flags):
        calls.append(s)
        return parse(self, s, dpi, prop, antialiased, load_glyph_flags)

    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", functools.lru_cache(50)(counted))
    figure_png()
    own = len(calls)  # matplotlib's own cache: a new renderer for each draw parses every string again
    calls.clear()
    assert plotting.share_mathtext_parses() is True
    figure_png()
    first = len(calls)
    assert first > 5 and own > first
    assert len(set(calls)) < first  # the title's string at two sizes: parsed twice, once per size
    figure_png()
    assert len(calls) == first  # the same labels in a new figure: no parse at all
    matplotlib.rcParams["mathtext.default"] = "bf"
    figure_png()
    assert len(calls) == 2 * first  # a changed setting: every label parsed again


def test_idempotent_and_bounded_least_recently_used_first(restore, monkeypatch):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", own_cache())
    assert plotting.share_mathtext_parses() is True
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    assert plotting.share_mathtext_parses() is True
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is method
    monkeypatch.setattr(plotting, "_MATHTEXT_PARSES_MAX", 3)
    figure_png()
    assert len(plotting._MATHTEXT_PARSES) == 3
    newest = list(plotting._MATHTEXT_PARSES)[-1]
    parser = mathtext.MathTextParser("agg")
    parser.parse(r"$\beta$", dpi=100)  # a new string pushes out the least recently used one
    assert len(plotting._MATHTEXT_PARSES) == 3 and newest in plotting._MATHTEXT_PARSES


UNKNOWN = [lambda self, s: None, functools.lru_cache(50)(lambda self, s, dpi: None),
           lambda self, s, dpi, prop, antialiased, load_glyph_flags: None]


@pytest.mark.parametrize("replacement", UNKNOWN, ids=["no cache", "other arguments", "not an lru_cache"])
def test_an_unknown_method_is_left_alone(restore, monkeypatch, replacement):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", replacement)
    assert plotting.share_mathtext_parses() is False
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is replacement


def test_another_matplotlib_version_is_left_alone(restore, monkeypatch):
    own = own_cache()
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", own)
    monkeypatch.setattr(matplotlib, "__version__", "3.12.0")
    assert plotting.share_mathtext_parses() is False
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is own


def test_the_course_style_turns_it_on(restore, monkeypatch):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", own_cache())
    plotting.use_style()
    assert getattr(mathtext.MathTextParser.__dict__["_parse_cached"], "_lessons_shared", False)
