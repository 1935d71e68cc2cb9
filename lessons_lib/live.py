"""Live figures for widgets: an ipympl canvas without switching the pyplot backend,
shown together with a static picture for readers without a kernel.

``figure()`` makes a matplotlib :class:`~matplotlib.figure.Figure` whose canvas is
an ipympl widget, so the rest of the notebook keeps the inline backend. A widget
redraws by updating its artists (``line.set_data``), never by plotting again;
:class:`Blitter` then re-renders only those artists over a cached background,
which keeps a slider's redraw within a few milliseconds.

``show(widget, fig)`` displays one output with two representations: the live
widget, which JupyterLab renders when a kernel runs it, and a PNG of the figure's
current (default) state, which GitHub, nbviewer and static pages render instead.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from IPython.display import display
from matplotlib.figure import Figure


def figure(figsize: tuple[float, float] = (9.0, 3.8), dpi: int = 80) -> Figure:
    """A figure drawn on an ipympl canvas widget (``fig.canvas`` is the widget)."""
    from ipympl.backend_nbagg import Canvas, FigureManager

    fig = Figure(figsize=figsize, dpi=dpi)
    canvas = Canvas(fig)
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    FigureManager(canvas, 0)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as it looks now (animated artists included), as PNG bytes."""
    from PIL import Image

    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="png")
    return buf.getvalue()


class Blitter:
    """Redraw only the artists that change, over a cached picture of everything else.

    The artists are marked animated, so a full draw leaves them out of the cached
    background; :meth:`update` restores the background, draws the artists and sends
    the new frame. A full ``fig.canvas.draw()`` (after axes limits change, say)
    refreshes the background automatically.
    """

    def __init__(self, fig: Figure, artists: list) -> None:
        self.fig = fig
        self.artists = list(artists)
        for artist in self.artists:
            artist.set_animated(True)
        self._background = None
        fig.canvas.mpl_connect("draw_event", self._on_draw)

    def _on_draw(self, event) -> None:
        self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)
        self._draw_artists()

    def _draw_artists(self) -> None:
        for artist in self.artists:
            self.fig.draw_artist(artist)

    def update(self) -> None:
        """Show the artists' current data: a blit, or a full draw the first time."""
        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw()
            return
        canvas.restore_region(self._background)
        self._draw_artists()
        canvas.blit(self.fig.bbox)


def show(widget, fig: Figure, description: str = "interactive figure") -> None:
    """Display ``widget`` live, with a static PNG of ``fig`` as the fallback representation."""
    bundle = widget._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    bundle = dict(bundle)
    bundle["image/png"] = base64.b64encode(png_bytes(fig)).decode("ascii")
    bundle["text/plain"] = f"<{description}: run the notebook to use the controls>"
    display(bundle, raw=True)
