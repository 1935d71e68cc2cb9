"""Live figures for widgets: an ipympl canvas without switching the pyplot backend,
shown together with a static picture for readers without a kernel.

``figure()`` makes a matplotlib :class:`~matplotlib.figure.Figure` whose canvas is
an ipympl widget, so the rest of the notebook keeps the inline backend. A widget
redraws by updating its artists (``line.set_data``) and calling
``fig.canvas.draw_idle()``, never by plotting again.

``show(widget, fig)`` displays one output with two representations: the live
widget, which JupyterLab renders when a kernel runs it, and a PNG of the figure's
current (default) state, which GitHub, nbviewer and static pages render instead.
"""

from __future__ import annotations

import base64
import io

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
    """The figure as it looks now, as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return buf.getvalue()


def show(widget, fig: Figure, description: str = "interactive figure") -> None:
    """Display ``widget`` live, with a static PNG of ``fig`` as the fallback representation."""
    bundle = widget._repr_mimebundle_()
    bundle = bundle[0] if isinstance(bundle, tuple) else bundle
    bundle = dict(bundle)
    bundle["image/png"] = base64.b64encode(png_bytes(fig)).decode("ascii")
    bundle["text/plain"] = f"<{description}: run the notebook to use the controls>"
    display(bundle, raw=True)
