"""plotting.share_mathtext_parses: the same pixels, fewer parses, and hands off an unknown matplotlib."""

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
    """matplotlib's own per-parser cache, as matplotlib defines it (lru_cache(50) on the method).
    Fails (AttributeError) if the pinned matplotlib no longer has the method the sharing replaces."""
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    return functools.lru_cache(50)(method.__wrapped__)


def figure_png() -> np.ndarray:
    """A figure with log-scale (mathtext) ticks, mathtext labels and a legend, saved as the inline
    backend saves it (twice the dpi, tight bounding box); decoded to an RGBA array."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3))
    k = np.arange(1, 200)
    ax1.semilogy(k, 0.9**k, label=r"$|1-\eta\lambda|^k$")
    ax1.set_xlabel(r"step $k$")
    ax1.legend()
    ax2.loglog(k, 1 / k, label=r"$\frac{1}{k}$")
    ax2.set_title(r"$\tilde x_{1}$ and $\alpha = 0.25/\mu$")
    buf = io.BytesIO()
    fig.canvas.print_figure(buf, format="png", dpi=2 * fig.dpi, bbox_inches="tight")
    plt.close(fig)
    buf.seek(0)
    return matplotlib.image.imread(buf)


@pytest.fixture
def restore(monkeypatch):
    """Put matplotlib's method back after the test, whatever the test did to it."""
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", method)
    monkeypatch.setattr(plotting, "_MATHTEXT_PARSES", {})


def test_shared_parses_draw_the_same_pixels(restore, monkeypatch):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", own_cache())
    alone = figure_png()
    assert plotting.share_mathtext_parses() is True
    shared = figure_png()
    assert shared.shape == alone.shape and np.array_equal(shared, alone)


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
    assert first > 5 and len(set(calls)) == first and own > first  # each string parsed once for both draws
    figure_png()
    assert len(calls) == first  # the same labels in a new figure: no parse at all


def test_idempotent_and_bounded(restore, monkeypatch):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", own_cache())
    assert plotting.share_mathtext_parses() is True
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    assert plotting.share_mathtext_parses() is True
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is method
    monkeypatch.setattr(plotting, "_MATHTEXT_PARSES_MAX", 3)
    figure_png()
    assert 0 < len(plotting._MATHTEXT_PARSES) <= 3


UNKNOWN = [lambda self, s: None, functools.lru_cache(50)(lambda self, s, dpi: None)]


@pytest.mark.parametrize("replacement", UNKNOWN, ids=["no cache", "other arguments"])
def test_an_unknown_matplotlib_is_left_alone(restore, monkeypatch, replacement):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", replacement)
    assert plotting.share_mathtext_parses() is False
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is replacement


def test_the_course_style_turns_it_on(restore, monkeypatch):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", own_cache())
    plotting.use_style()
    assert getattr(mathtext.MathTextParser.__dict__["_parse_cached"], "_lessons_shared", False)
