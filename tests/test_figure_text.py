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


def _drawn_sizes(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with plotting.drawn_text_sizes() as sizes:
        fig.canvas.draw()
    return sizes


def test_the_smallest_drawn_text_is_the_legend():
    fig, _ = _figure()
    assert min(_drawn_sizes(fig)) == 8.5


@pytest.mark.parametrize("hide", ["invisible", "empty", "axis off"])
def test_text_that_is_not_drawn_is_not_recorded(hide):
    fig, ax = _figure()
    tiny = ax.text(0.5, 0.5, "tiny", fontsize=3)
    if hide == "invisible":
        tiny.set_visible(False)
    elif hide == "empty":
        tiny.set_text("   ")
    else:  # an axes turned off draws neither its texts' ticks nor its tick labels
        tiny.remove()
        key = fig.add_axes((0.7, 0.7, 0.2, 0.2))
        key.tick_params(labelsize=3)
        key.axis("off")
    assert min(_drawn_sizes(fig)) == 8.5


def test_mathtext_counts():
    fig, ax = _figure()
    ax.set_xlabel(r"$\eta L$", fontsize=6)
    assert min(_drawn_sizes(fig)) == 6


def test_the_recording_ends_with_the_block():
    from matplotlib.backends.backend_agg import RendererAgg

    before = RendererAgg.draw_text
    with pytest.raises(RuntimeError), plotting.drawn_text_sizes():
        raise RuntimeError("a failing figure")
    assert RendererAgg.draw_text is before


def test_retina_png_records_the_smallest_text_in_css_px():
    fig, _ = _figure()
    data, metadata = plotting.retina_png(fig)
    png = base64.b64decode(data)
    image = Image.open(io.BytesIO(png))
    assert image.text[plotting.SMALLEST_TEXT_KEY] == f"{8.5 * 80 / 72:.3f}"
    assert plotting.png_texts(png)[plotting.SMALLEST_TEXT_KEY] == f"{8.5 * 80 / 72:.3f}"  # every CRC checked
    assert (image.size[0] // 2, image.size[1] // 2) == (metadata["width"], metadata["height"])


def test_an_empty_figure_gives_no_picture():
    assert plotting.retina_png(Figure()) is None


def test_with_png_text_keeps_a_valid_png_and_refuses_other_bytes():
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
    with pytest.raises(ValueError, match="PNG signature"):
        plotting.png_texts(b"GIF89a" + again[6:])
    with pytest.raises(ValueError, match="png must be the bytes of a whole PNG file"):
        plotting.with_png_text(png[:-1], "k", "v")
    with pytest.raises(ValueError, match="png must be the bytes of a whole PNG file"):
        plotting.with_png_text(b"GIF89a" + png[6:], "k", "v")


def test_a_widget_picture_records_its_smallest_text():
    from lessons_lib.widgets import TrajectoryExplorer

    png = TrajectoryExplorer(surface="quadratic", steps=20).png()
    recorded = float(plotting.png_texts(png)[plotting.SMALLEST_TEXT_KEY])
    assert recorded == pytest.approx(9 * 80 / 72, abs=1e-3)  # the legend, 9 pt at 80 dpi
