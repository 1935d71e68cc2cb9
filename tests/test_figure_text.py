"""The smallest text a course picture draws, recorded in its PNG (lessons_lib.plotting): what is
recorded, that the PNG stays valid, and that the lessons' figures and the widgets' pictures carry it."""

from __future__ import annotations

import base64
import io

import matplotlib
import pytest
from matplotlib.figure import Figure
from PIL import Image

from lessons_lib import plotting

matplotlib.use("Agg")


def _figure():
    fig = Figure(figsize=(4, 3), dpi=80)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="line")
    ax.set_title("title", fontsize=12)
    ax.legend(fontsize=8.5)
    ax.tick_params(labelsize=10)
    return fig, ax


def _drawn(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with plotting.drawn_text_sizes() as drawn:
        fig.canvas.draw()
    return min(size for size, _ in drawn), min(glyph for _, glyph in drawn)


def test_the_smallest_drawn_text_is_the_legend():
    fig, _ = _figure()
    assert _drawn(fig) == (8.5, 8.5)


@pytest.mark.parametrize("hide", ["invisible", "empty", "axis off"])
def test_text_that_is_not_drawn_is_not_recorded(hide):
    fig, ax = _figure()
    tiny = ax.text(0.5, 0.5, "tiny", fontsize=3)
    if hide == "invisible":
        tiny.set_visible(False)
    elif hide == "empty":
        tiny.set_text("   ")
    else:  # an axes turned off draws neither its ticks nor its tick labels
        tiny.remove()
        key = fig.add_axes((0.7, 0.7, 0.2, 0.2))
        key.tick_params(labelsize=3)
        key.axis("off")
    assert _drawn(fig) == (8.5, 8.5)


def test_a_superscript_is_a_smaller_glyph():
    """mathtext sets a superscript at 70 % of its base, a superscript's superscript at 49 %."""
    fig, ax = _figure()
    ax.set_xlabel(r"$\eta L$", fontsize=9)
    assert _drawn(fig) == (8.5, 8.5)
    ax.set_xlabel(r"$10^{-6}$", fontsize=10)
    assert _drawn(fig) == (8.5, pytest.approx(7.0))
    ax.set_xlabel("plain\n" + r"$x^{2^k}$", fontsize=10)  # the second line's nested script
    assert _drawn(fig) == (8.5, pytest.approx(4.9))
    ax.set_xlabel(r"a price of \$10^2", fontsize=10)  # an escaped dollar: no mathtext, no script
    assert _drawn(fig) == (8.5, 8.5)


def test_text_drawn_with_path_effects_counts():
    from matplotlib import patheffects

    fig, ax = _figure()
    outline = [patheffects.withStroke(linewidth=2, foreground="w")]  # drawn as paths, not by draw_text
    ax.text(0.2, 0.2, "outlined", fontsize=4, path_effects=outline)
    assert _drawn(fig) == (4, 4)


def test_the_recording_ends_with_the_block():
    from matplotlib.text import Text

    before = Text.draw
    with pytest.raises(RuntimeError), plotting.drawn_text_sizes():
        raise RuntimeError("a failing figure")
    assert Text.draw is before


def test_retina_png_records_the_smallest_text_and_glyph_in_css_px():
    fig, ax = _figure()
    ax.set_yscale("log")
    ax.set_ylim(1e-3, 1)  # tick labels 10^{-3} to 10^0: exponents at 7 pt
    data, metadata = plotting.retina_png(fig)
    png = base64.b64decode(data)
    texts = plotting.png_texts(png)  # every CRC checked
    assert texts[plotting.SMALLEST_TEXT_KEY] == f"{8.5 * 80 / 72:.3f}"
    assert texts[plotting.SMALLEST_GLYPH_KEY] == f"{7.0 * 80 / 72:.3f}"
    image = Image.open(io.BytesIO(png))
    assert image.text[plotting.SMALLEST_TEXT_KEY] == texts[plotting.SMALLEST_TEXT_KEY]
    assert (image.size[0] // 2, image.size[1] // 2) == (metadata["width"], metadata["height"])


def test_an_empty_figure_gives_no_picture_and_a_figure_without_text_says_none():
    assert plotting.retina_png(Figure()) is None
    fig = Figure(figsize=(2, 2), dpi=80)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.plot([0, 1], [0, 1])
    ax.axis("off")
    texts = plotting.png_texts(base64.b64decode(plotting.retina_png(fig)[0]))
    assert texts[plotting.SMALLEST_TEXT_KEY] == texts[plotting.SMALLEST_GLYPH_KEY] == "none"


def test_use_style_makes_retina_png_ipythons_formatter_for_figures(monkeypatch):
    """In a kernel with the inline backend, use_style registers retina_png for matplotlib figures."""
    import sys

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    ipython = sys.modules["IPython"]
    monkeypatch.setattr(ipython, "get_ipython", lambda: shell)
    monkeypatch.setattr(plotting.plt, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    with matplotlib.rc_context():
        plotting.use_style()
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        assert formatter.lookup(Figure()) is plotting.retina_png
    finally:
        formatter.pop(Figure, None)
        InteractiveShell.clear_instance()


def test_with_png_text_keeps_a_valid_png_and_refuses_other_input():
    fig, _ = _figure()
    png = base64.b64decode(plotting.retina_png(fig)[0])
    again = plotting.with_png_text(png, "Another", "value é")
    image = Image.open(io.BytesIO(again))
    image.load()  # decodes: the image data is intact
    assert image.text["Another"] == "value é" and plotting.png_texts(again)["Another"] == "value é"
    broken = bytearray(again)
    broken[-13] ^= 0xFF  # the last byte of the inserted chunk's CRC
    with pytest.raises(ValueError, match="fails its CRC"):
        plotting.png_texts(bytes(broken))
    for bad in (png[:-12], png[:-1], b"GIF89a" + png[6:], png + b"\x00"):  # no IEND, cut, not a PNG, trailing
        with pytest.raises(ValueError, match="png must be the bytes of a whole PNG file"):
            plotting.png_texts(bad)
        with pytest.raises(ValueError, match="png must be the bytes of a whole PNG file"):
            plotting.with_png_text(bad, "k", "v")
    with pytest.raises(TypeError, match="png must be bytes"):
        plotting.png_texts("not bytes")
    with pytest.raises(TypeError, match="png must be bytes"):
        plotting.with_png_text(bytearray(png), "k", "v")
    # a last chunk of another kind whose data ends in what looks like an IEND chunk: no IEND parsed
    import struct
    import zlib

    fake_body = b"prIv" + b"\x00\x00\x00\x00IEND"
    fake = png[:-12] + struct.pack(">I", 8) + fake_body + struct.pack(">I", zlib.crc32(fake_body))
    with pytest.raises(ValueError, match="no IEND chunk"):
        plotting.png_texts(fake)
    assert plotting.png_texts(plotting.with_png_text(png, "soft\xadhyphen é", "v"))["soft\xadhyphen é"] == "v"
    for key in ("", "x" * 80, "a\x00b", "tab\t", "Ω", " lead", "trail ", "two  spaces"):
        with pytest.raises(ValueError, match="key must be 1 to 79 printable Latin-1 characters"):
            plotting.with_png_text(png, key, "v")
    with pytest.raises(ValueError, match="value must be Latin-1 without NUL"):
        plotting.with_png_text(png, "k", "a\x00b")


def test_a_widget_picture_records_its_smallest_text_and_glyph():
    from lessons_lib.widgets import TrajectoryExplorer

    texts = plotting.png_texts(TrajectoryExplorer(surface="quadratic", steps=20).png())
    # the key and the contour panel's title, the surface's formula, at 9.5 pt; the formula's scripts at 70 %
    assert float(texts[plotting.SMALLEST_TEXT_KEY]) == pytest.approx(9.5 * 80 / 72, abs=1e-3)
    assert float(texts[plotting.SMALLEST_GLYPH_KEY]) == pytest.approx(0.7 * 9.5 * 80 / 72, abs=1e-3)
