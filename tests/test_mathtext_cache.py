"""mathtext_cache.share_mathtext_parses: the pixels of matplotlib's own cache, fewer parses, and an unknown
matplotlib left alone."""

from __future__ import annotations

import functools
import io
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.image
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib import mathtext

from lessons_lib import mathtext_cache, plotting


def own_cache() -> None:
    """Back to matplotlib's own cache (fails with KeyError or AttributeError if the pinned matplotlib no
    longer has the method the sharing replaces)."""
    assert mathtext.MathTextParser.__dict__["_parse_cached"].__wrapped__ is not None
    mathtext_cache.unshare_mathtext_parses()
    assert hasattr(mathtext.MathTextParser.__dict__["_parse_cached"], "cache_info")


@pytest.fixture
def restore(monkeypatch):
    """Put matplotlib's method, the shared layouts and rcParams back after the test."""
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", method)
    monkeypatch.setattr(mathtext_cache, "_MATHTEXT_SHARED", list(mathtext_cache._MATHTEXT_SHARED))
    monkeypatch.setattr(mathtext_cache, "_MATHTEXT_LOCK", mathtext_cache._MATHTEXT_LOCK)
    monkeypatch.setattr(mathtext_cache, "_MATHTEXT_PARSES", type(mathtext_cache._MATHTEXT_PARSES)())
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
    fig.text(0.05, 0.4, r"$wAVAy_k + \mathrm{e}^{y}$ and text")  # AV, VA: kerned pairs
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
    """Settings a parse reads from rcParams, each changed once between two drawings (in this order:
    each still shows after the ones before)."""
    yield "text.kerning_factor", 6  # deprecated in matplotlib 3.11, still read
    yield "mathtext.default", "bf"
    yield "mathtext.fontset", "stix"
    yield "font.size", 24.0
    yield "font.sans-serif", ["DejaVu Serif"]


def drawings_under_changes() -> list[np.ndarray]:
    """Every drawing below, in order: the figure at two dpis, then the label and the math image before
    and after each rcParams change."""
    out = [figure_png(2.0), figure_png(1.0), figure_png(2.0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", matplotlib.MatplotlibDeprecationWarning)  # text.kerning_factor
        for key, value in rc_changes():
            out += [label_png(), math_image()]
            matplotlib.rcParams[key] = value
            out += [label_png(), math_image()]
    return out


def test_shared_parses_draw_what_matplotlib_draws(restore, monkeypatch):
    own_cache()
    with matplotlib.rc_context():
        alone = drawings_under_changes()
    assert mathtext_cache.share_mathtext_parses() is True
    with matplotlib.rc_context():
        shared = drawings_under_changes()
    for i, (a, b) in enumerate(zip(alone, shared, strict=True)):
        assert a.shape == b.shape and np.array_equal(a, b), f"drawing {i} differs"
    # each change shows in matplotlib's own drawings, so the comparison above would see a stale layout
    for j, (key, _) in enumerate(rc_changes()):
        before, after = alone[3 + 4 * j: 5 + 4 * j], alone[5 + 4 * j: 7 + 4 * j]
        differs = [a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(before, after, strict=True)]
        assert any(differs), key


def test_a_second_figure_parses_nothing_new(restore, monkeypatch):
    own_cache()
    parse = mathtext.MathTextParser.__dict__["_parse_cached"].__wrapped__
    calls = []

    def counted(self, s, dpi, prop, antialiased, load_glyph_flags):
        calls.append(s)
        return parse(self, s, dpi, prop, antialiased, load_glyph_flags)

    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", functools.lru_cache(50)(counted))
    figure_png()
    own = len(calls)  # matplotlib's own cache: a new renderer for each draw parses every string again
    calls.clear()
    assert mathtext_cache.share_mathtext_parses() is True
    figure_png()
    first = len(calls)
    assert first > 5 and own > first
    assert len(set(calls)) < first  # the title's string at two sizes: parsed twice, once per size
    figure_png()
    assert len(calls) == first  # the same labels in a new figure: no parse at all
    matplotlib.rcParams["mathtext.default"] = "bf"
    figure_png()
    assert len(calls) == 2 * first  # a changed setting: every label parsed again
    monkeypatch.setattr(mathtext_cache.os, "getpid", lambda: -1)
    figure_png()
    assert len(calls) == 3 * first  # another process (a forked child): parsed again, its own fonts


def test_an_added_font_is_used(restore, monkeypatch):
    """A label in a family matplotlib lacks falls back; once fontManager.addfont adds the family, the
    next figure uses it, with the shared parses as with matplotlib's own."""
    from matplotlib import font_manager

    fonts = font_manager.fontManager
    path = next(e.fname for e in fonts.ttflist
                if e.name == "DejaVu Serif" and e.style == "normal" and e.weight == 400)

    def label() -> np.ndarray:
        fig = plt.figure(figsize=(3, 1))
        fig.text(0.05, 0.4, r"$x_k$ and text", family="DejaVu Serif")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
        return decoded(buf)

    def before_and_after() -> tuple[np.ndarray, np.ndarray]:
        monkeypatch.setattr(fonts, "ttflist", [e for e in fonts.ttflist if e.name != "DejaVu Serif"])
        fonts._findfont_cached.cache_clear()
        before = label()
        fonts.addfont(path)
        return before, label()

    own_cache()
    own_before, own_after = before_and_after()
    assert not np.array_equal(own_before, own_after)  # the added font shows
    assert mathtext_cache.share_mathtext_parses() is True
    before, after = before_and_after()
    assert np.array_equal(before, own_before) and np.array_equal(after, own_after)
    fonts._findfont_cached.cache_clear()


def test_raster_and_vector_layouts_are_kept_apart(restore):
    own_cache()
    assert mathtext_cache.share_mathtext_parses() is True
    matplotlib.rcParams["text.hinting"] = "none"  # the same glyph flags for both: only the output differs
    raster = mathtext.MathTextParser("agg").parse(r"$\gamma_k$", dpi=100)
    vector = mathtext.MathTextParser("path").parse(r"$\gamma_k$", dpi=100)
    assert type(raster) is not type(vector)


def test_antialiasing_and_threads_get_their_own_layouts(restore):
    import threading

    own_cache()
    parser = mathtext.MathTextParser("agg")
    own = [parser.parse(r"$\gamma_k$", dpi=100, antialiased=a).image for a in (True, False)]
    assert not np.array_equal(np.asarray(own[0]), np.asarray(own[1]))
    assert mathtext_cache.share_mathtext_parses() is True
    shared = [parser.parse(r"$\gamma_k$", dpi=100, antialiased=a).image for a in (True, False)]
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(own, shared, strict=True))
    before = len(mathtext_cache._MATHTEXT_PARSES)
    other = threading.Thread(target=parser.parse, args=(r"$\gamma_k$",), kwargs={"dpi": 100})
    other.start()
    other.join()
    assert len(mathtext_cache._MATHTEXT_PARSES) == before + 1  # another thread: its own layout


def test_a_forked_child_starts_empty_with_a_free_lock(restore):
    own_cache()
    assert mathtext_cache.share_mathtext_parses() is True
    mathtext.MathTextParser("agg").parse("$q$", dpi=100)
    assert len(mathtext_cache._MATHTEXT_PARSES) == 1
    held = mathtext_cache._MATHTEXT_LOCK
    assert held.acquire()  # as if another thread held it at the fork
    try:
        mathtext_cache._after_fork_in_child()  # what os.register_at_fork runs in the child
        assert len(mathtext_cache._MATHTEXT_PARSES) == 0
        assert mathtext_cache._MATHTEXT_LOCK is not held and mathtext_cache._MATHTEXT_LOCK.acquire(timeout=1)
        mathtext_cache._MATHTEXT_LOCK.release()
    finally:
        held.release()  # the fixture puts this lock back


def test_idempotent_and_bounded_least_recently_used_first(restore, monkeypatch):
    own_cache()
    assert mathtext_cache.share_mathtext_parses() is True
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    assert mathtext_cache.share_mathtext_parses() is True
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is method
    monkeypatch.setattr(mathtext_cache, "_MATHTEXT_PARSES_MAX", 3)
    parser = mathtext.MathTextParser("agg")

    def held() -> list[str]:
        return [key[1] for key in mathtext_cache._MATHTEXT_PARSES]

    for s in ("$a$", "$b$", "$c$"):
        parser.parse(s, dpi=100)
    assert held() == ["$a$", "$b$", "$c$"]
    parser.parse("$a$", dpi=100)  # used again: now the most recently used
    parser.parse("$d$", dpi=100)  # a fourth pushes out the least recently used, $b$
    assert held() == ["$c$", "$a$", "$d$"]
    figure_png()
    assert len(mathtext_cache._MATHTEXT_PARSES) == 3


def parse_like(self, s, dpi, prop, antialiased, load_glyph_flags):
    return None


def not_cached(self, s, dpi, prop, antialiased, load_glyph_flags):
    return parse_like(self, s, dpi, prop, antialiased, load_glyph_flags)


not_cached.__wrapped__ = parse_like  # looks like a decorated parse, but is not an lru_cache


UNKNOWN = [lambda self, s: None, functools.lru_cache(50)(lambda self, s, dpi: None), not_cached]


@pytest.mark.parametrize("replacement", UNKNOWN, ids=["no cache", "other arguments", "not an lru_cache"])
def test_an_unknown_method_is_left_alone(restore, monkeypatch, replacement):
    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", replacement)
    assert mathtext_cache.share_mathtext_parses() is False
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is replacement


@pytest.mark.parametrize("version", ["3.11.3", "3.12.0"])
def test_another_matplotlib_version_is_left_alone(restore, monkeypatch, version):
    own_cache()
    own = mathtext.MathTextParser.__dict__["_parse_cached"]
    monkeypatch.setattr(matplotlib, "__version__", version)
    assert mathtext_cache.share_mathtext_parses() is False
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is own


def test_unshare_puts_matplotlib_back(restore):
    own_cache()
    assert mathtext_cache.share_mathtext_parses() is True
    mathtext.MathTextParser("agg").parse("$z$", dpi=100)
    shared = mathtext.MathTextParser.__dict__["_parse_cached"]
    assert shared is mathtext_cache._MATHTEXT_SHARED[0]
    mathtext_cache.unshare_mathtext_parses()
    method = mathtext.MathTextParser.__dict__["_parse_cached"]
    assert hasattr(method, "cache_info") and method is not shared and not mathtext_cache._MATHTEXT_SHARED
    assert len(mathtext_cache._MATHTEXT_PARSES) == 0


def test_the_course_style_turns_it_on(restore, monkeypatch):
    own_cache()
    plotting.use_style()
    assert mathtext.MathTextParser.__dict__["_parse_cached"] is mathtext_cache._MATHTEXT_SHARED[0]
