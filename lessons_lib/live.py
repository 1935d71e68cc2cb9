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
import functools
import io

import numpy as np
from IPython.display import display
from matplotlib.figure import Figure


def _import_ipympl():
    """ipympl's backend module, imported without switching pyplot's backend.

    Importing ipympl makes it pyplot's backend (``matplotlib.use``), which would turn
    every later plain figure of the notebook into a widget; the course keeps inline
    figures for the static plots and uses ipympl canvases only where it asks for them.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    previous = matplotlib.get_backend()
    # Load the current backend fully first: the inline backend hooks itself into IPython's
    # display only when it is loaded while it is the configured backend.
    plt.switch_backend(previous)
    from ipympl import backend_nbagg

    if matplotlib.get_backend() != previous:
        matplotlib.use(previous)
    return backend_nbagg


@functools.cache
def _canvas_class():
    """ipympl's canvas widget, with its saved picture stored as a valid data URL.

    Without a browser attached (while a notebook is executed for saving, say), ipympl
    keeps the last frame in the synced ``_data_url`` trait so that a reopened notebook
    can show it, but it stores the bare base64 text without the ``data:image/png;base64,``
    prefix (matplotlib/ipympl#472). JupyterLab then fails to load that picture and never
    draws the figure. This subclass adds the prefix.
    """
    Canvas = _import_ipympl().Canvas

    class CourseCanvas(Canvas):
        def send_binary(self, data):
            super().send_binary(data)
            url = self._data_url
            if isinstance(url, str) and url and not url.startswith("data:"):
                self._data_url = "data:image/png;base64," + url

    return CourseCanvas


def figure(figsize: tuple[float, float] = (9.0, 3.8), dpi: int = 80) -> Figure:
    """A figure drawn on an ipympl canvas widget (``fig.canvas`` is the widget)."""
    FigureManager = _import_ipympl().FigureManager

    fig = Figure(figsize=figsize, dpi=dpi)
    canvas = _canvas_class()(fig)
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    FigureManager(canvas, 0)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as it looks now (animated artists included), as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    # Render with Agg only: an ipympl canvas's own draw() would also send a frame to a
    # browser that is not showing the figure yet.
    FigureCanvasAgg.draw(fig.canvas)
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

    def freeze_layout(self) -> None:
        """Lay the figure out once (its layout engine, e.g. constrained), then keep the axes
        where they are: later full draws are faster and the blitted artists never move.

        The layout is computed without rendering, so no frame is sent before the figure is
        on screen; the draw event that this fires carries no picture, so the cached
        background is dropped and the next :meth:`update` draws in full.
        """
        self.fig.draw_without_rendering()
        self.fig.set_layout_engine("none")
        self._background = None

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
