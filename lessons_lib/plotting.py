"""Plotting helpers: contours, paths and loss curves in one consistent style.

Each method has one colour and one line style everywhere in the course, in the static
figures and in the in-browser widgets alike (:data:`METHOD_COLORS`, :data:`METHOD_LINESTYLES`:
the Okabe-Ito palette, readable with every common colour-vision deficiency, and a dash
pattern, so that the methods differ without colour too).
Loss curves show the gap ``f(x_k) - f_min`` on a log scale, where a linear rate
``rho`` appears as a straight line of slope ``log10(rho)`` per step.
"""

from __future__ import annotations

import contextlib
import functools
import struct
import sys
import zlib
from collections.abc import Iterator, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from .mathtext_cache import share_mathtext_parses
from .optimizers import Trajectory
from .surfaces import Surface

# Okabe-Ito blue, vermillion and bluish green, as course_widgets.js's METHOD_STYLE.
METHOD_COLORS = {"gd": "#0072B2", "momentum": "#D55E00", "nesterov": "#009E73"}
METHOD_LINESTYLES = {"gd": "-", "momentum": (0, (8, 4)), "nesterov": (0, (8, 3, 2, 3))}
METHOD_LABELS = {"gd": "gradient descent", "momentum": "momentum", "nesterov": "Nesterov"}
# zlib level 3 rather than Pillow's default 6: probes of 1 December (outputs not kept) wrote the
# course's figures 16 to 34 ms sooner each; bytes: lesson 01's five figures and widget picture 11 %
# fewer, other plots from 26 % fewer to 49 % more (a contourf), so a figure can grow.
PNG_OPTIONS = {"compress_level": 3}
STYLE = {
    "figure.dpi": 80,
    "figure.figsize": (9.0, 3.8),
    "axes.grid": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
}


def use_style() -> None:
    """Apply the course's matplotlib style (called by :func:`lessons_lib.setup`).

    In a notebook, figures are also stored at twice their displayed size ("retina" PNGs, shown
    at ``figure.dpi``), sharp on high-density screens, compressed with :data:`PNG_OPTIONS`, each
    with its smallest text recorded: IPython's PNG formatter for figures is :func:`retina_png`.
    Mathtext layouts are shared between renderers
    (:func:`lessons_lib.mathtext_cache.share_mathtext_parses`)."""
    plt.rcParams.update(STYLE)
    share_mathtext_parses()
    ipython = sys.modules.get("IPython")
    if ipython is not None and ipython.get_ipython() is not None and "inline" in plt.get_backend():
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina", pil_kwargs=PNG_OPTIONS)
        ipython.get_ipython().display_formatter.formatters["image/png"].for_type(Figure, retina_png)


#: The PNG text keys (``tEXt`` chunks) under which every course picture records its smallest drawn
#: text: the font size of its smallest text, and its smallest glyph (smaller where mathtext sets a
#: sub- or superscript), in CSS pixels when the picture is shown at full size. tests/test_repository.py
#: reads them back from the stored notebooks; tests/test_figure_text.py tests the recording.
SMALLEST_TEXT_KEY = "Smallest text (CSS px)"
SMALLEST_GLYPH_KEY = "Smallest glyph (CSS px)"


@functools.cache
def _mathtext_paths():
    """matplotlib's mathtext parser for vector output (glyphs with their sizes), made on first use."""
    from matplotlib.mathtext import MathTextParser

    return MathTextParser("path")


def smallest_glyph_pt(text: Text) -> float:
    """The size in points of the smallest glyph of ``text`` as matplotlib lays it out: its font
    size, or less where a mathtext line sets sub- or superscripts (70 % of the size they sit on,
    49 % for a script's script), read from matplotlib's own mathtext layout. TeX-rendered text
    (``usetex``) counts at its font size."""
    size = float(text.get_fontsize())
    if text.get_usetex() or not text.get_parse_math():
        return size
    from matplotlib import cbook

    smallest = size
    for line in text.get_text().split("\n"):
        if cbook.is_math_text(line):
            glyphs = _mathtext_paths().parse(line, 72, text.get_fontproperties()).glyphs
            smallest = min([smallest, *(float(glyph[1]) for glyph in glyphs)])
    return smallest


@contextlib.contextmanager
def drawn_text_sizes() -> Iterator[list[tuple[float, float]]]:
    """Within the block, record ``(font size, smallest glyph)`` in points (:func:`smallest_glyph_pt`)
    for every text artist that draws with something to show: titles, axis and tick labels, legends,
    annotations, colour-bar labels, whatever the renderer (Agg, paths for path effects, TeX). Text
    that is hidden, empty, or on an axes turned off does not draw and is not recorded. It swaps
    ``Text.draw`` for the whole process while the block runs: for one thread at a time (figures
    are drawn on the kernel's main thread)."""
    drawn: list[tuple[float, float]] = []
    original = Text.draw

    @functools.wraps(original)  # keeps matplotlib's rasterization flag
    def draw(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn.append((float(self.get_fontsize()), smallest_glyph_pt(self)))
        return original(self, renderer)

    Text.draw = draw
    try:
        yield drawn
    finally:
        Text.draw = original


def _check_png(png: bytes) -> None:
    if not isinstance(png, bytes):
        raise TypeError(f"png must be bytes, not {type(png).__name__}")
    if not png.startswith(b"\x89PNG\r\n\x1a\n") or png[-12:-4] != b"\x00\x00\x00\x00IEND":
        raise ValueError("png must be the bytes of a whole PNG file (its signature first, IEND last)")


def with_png_text(png: bytes, key: str, value: str) -> bytes:
    """``png`` with a ``tEXt`` chunk ``key``/``value`` inserted before its ``IEND``. ``key``: 1 to 79
    printable Latin-1 characters (codes 32-126 and 161-255), no leading, trailing or double space
    (the PNG rule); ``value``: Latin-1 without NUL."""
    _check_png(png)
    if not (1 <= len(key) <= 79 and all(32 <= ord(c) <= 126 or 161 <= ord(c) <= 255 for c in key)
            and key == key.strip() and "  " not in key):
        raise ValueError(f"key must be 1 to 79 printable Latin-1 characters without leading, trailing or "
                         f"double spaces, got {key!r}")
    if "\x00" in value or any(ord(c) > 255 for c in value):
        raise ValueError(f"value must be Latin-1 without NUL, got {value!r}")
    body = b"tEXt" + key.encode("latin-1") + b"\x00" + value.encode("latin-1")
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    return png[:-12] + chunk + png[-12:]


def png_texts(png: bytes) -> dict[str, str]:
    """The ``tEXt`` chunks of a PNG file as ``{key: value}`` (the last of a repeated key), every
    chunk's CRC checked (a ``ValueError`` for bytes that are not a whole, intact PNG file: signature,
    chunks, IEND last)."""
    _check_png(png)
    out, at, ended = {}, 8, False
    while at < len(png):
        if at + 12 > len(png):
            raise ValueError(f"png ends inside a chunk header at byte {at}")
        length, kind = struct.unpack(">I4s", png[at:at + 8])
        body = png[at + 4:at + 8 + length]
        end = at + 8 + length
        if end + 4 > len(png) or struct.unpack(">I", png[end:end + 4])[0] != zlib.crc32(body):
            raise ValueError(f"png's {kind!r} chunk at byte {at} is cut short or fails its CRC")
        if kind == b"tEXt":
            key, _, value = body[4:].partition(b"\x00")
            out[key.decode("latin-1")] = value.decode("latin-1")
        at = end + 4
        if kind == b"IEND":
            if at != len(png):
                raise ValueError(f"png has {len(png) - at} bytes after its IEND chunk")
            ended = True
    if not ended:
        raise ValueError("png has no IEND chunk")
    return out


def with_smallest_text(png: bytes, drawn: Sequence[tuple[float, float]], dpi: float) -> bytes:
    """``png`` with the smallest font size and the smallest glyph of ``drawn`` (points, as
    :func:`drawn_text_sizes` records them) under :data:`SMALLEST_TEXT_KEY` and
    :data:`SMALLEST_GLYPH_KEY`, in CSS px at the figure's ``dpi`` (``points * dpi / 72``); both
    ``"none"`` when no text was drawn."""
    if not drawn:
        return with_png_text(with_png_text(png, SMALLEST_TEXT_KEY, "none"), SMALLEST_GLYPH_KEY, "none")
    png = with_png_text(png, SMALLEST_TEXT_KEY, f"{min(size for size, _ in drawn) * dpi / 72:.3f}")
    return with_png_text(png, SMALLEST_GLYPH_KEY, f"{min(glyph for _, glyph in drawn) * dpi / 72:.3f}")


def retina_png(fig: Figure) -> tuple[str, dict] | None:
    """IPython's PNG formatter for the course's figures (installed by :func:`use_style`): IPython's
    own ``retina_figure`` (PNG at twice the shown size, tight bounding box, :data:`PNG_OPTIONS`),
    with its smallest text and glyph recorded (:func:`with_smallest_text`). Returns
    ``(base64 PNG, {"width", "height"})``, or None for a figure without axes or lines."""
    import base64

    from IPython.core.pylabtools import retina_figure

    with drawn_text_sizes() as drawn:
        out = retina_figure(fig, base64=False, pil_kwargs=PNG_OPTIONS)
    if out is None:
        return None
    png, metadata = out
    return base64.b64encode(with_smallest_text(png, drawn, fig.dpi)).decode("ascii"), metadata


def contour_levels(surface: Surface, n: int = 25, grid: int = 200) -> np.ndarray:
    """Levels spaced evenly in ``log(f - f_min)`` over the plot range (linear if unbounded)."""
    _, _, Z = surface.grid(grid)
    if surface.f_min is None:
        return np.linspace(Z.min(), Z.max(), n)
    gap = Z - surface.f_min
    low = max(np.quantile(gap, 0.002), 1e-3 * gap.max(), 1e-12)
    return surface.f_min + np.geomspace(low, gap.max(), n)


def contour(ax: Axes, surface: Surface, n_levels: int = 25, grid: int = 200):
    """Draw filled-free contour lines of ``surface`` and mark its minima; returns the ContourSet."""
    X, Y, Z = surface.grid(grid)
    cs = ax.contour(X, Y, Z, levels=contour_levels(surface, n_levels, grid), cmap="Greys_r",
                    linewidths=0.6, alpha=0.8)
    if len(surface.minima):
        ax.plot(*surface.minima.T, "*", color="gold", markeredgecolor="k", markersize=12,
                zorder=5, label="minimum")
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$y$")
    ax.set_aspect("equal", adjustable="box")
    return cs


def replace_contour(ax: Axes, surface: Surface, previous=None, n_levels: int = 25, grid: int = 200):
    """Remove ``previous`` (a ContourSet from :func:`contour`) and its minimum markers, draw ``surface``.

    What a widget does when its surface changes; returns the new ContourSet.
    """
    if previous is not None:
        previous.remove()
    for artist in list(ax.lines):
        if artist.get_label() == "minimum":
            artist.remove()
    return contour(ax, surface, n_levels, grid)


def path(ax: Axes, points: np.ndarray, method: str = "gd", label: str | None = None,
         color: str | None = None, markersize: float = 3.0) -> Line2D:
    """Draw a trajectory ``points`` of shape ``(steps + 1, 2)``; NaN rows (after divergence) are gaps."""
    color = color or METHOD_COLORS.get(method, "k")
    label = METHOD_LABELS.get(method, method) if label is None else label
    (line,) = ax.plot(points[:, 0], points[:, 1], marker="o", color=color, markersize=markersize,
                      linestyle=METHOD_LINESTYLES.get(method, "-"), linewidth=1.2, label=label)
    ax.plot(*points[0], "s", color=color, markersize=6)
    return line


def loss_gap(losses: np.ndarray, f_min: float | None) -> np.ndarray:
    """``losses - f_min`` floored at 1e-300 so it can go on a log axis (raw losses if no minimum)."""
    if f_min is None:
        return np.asarray(losses, dtype=float)
    return np.maximum(np.asarray(losses, dtype=float) - f_min, 1e-300)


def loss_curve(ax: Axes, losses: np.ndarray, f_min: float | None, method: str = "gd",
               label: str | None = None, color: str | None = None) -> Line2D:
    """Plot loss against step; on a log scale of ``f - f_min`` when the minimum is known."""
    color = color or METHOD_COLORS.get(method, "k")
    label = METHOD_LABELS.get(method, method) if label is None else label
    (line,) = ax.plot(np.arange(len(losses)), loss_gap(losses, f_min), color=color,
                      linestyle=METHOD_LINESTYLES.get(method, "-"), linewidth=1.5, label=label)
    ax.set_xlabel("step $k$")
    if f_min is None:
        ax.set_ylabel("$f(x_k)$")
    else:
        ax.set_yscale("log")
        ax.set_ylabel(r"$f(x_k) - f^\star$")
    return line


def trajectory_figure(
    surface: Surface,
    trajectories: Mapping[str, Trajectory] | Sequence[Trajectory],
    title: str | None = None,
) -> tuple[Figure, tuple[Axes, Axes]]:
    """Contours with the paths on the left, the loss curves on the right.

    ``trajectories`` maps labels to unbatched :class:`Trajectory` objects (or is a
    list of them, labelled by method).
    """
    items = (trajectories.items() if isinstance(trajectories, Mapping)
             else [(METHOD_LABELS.get(t.method, t.method), t) for t in trajectories])
    fig, (ax_c, ax_l) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [1.2, 1]})
    contour(ax_c, surface)
    for label, traj in items:
        if traj.points.ndim != 2:
            raise ValueError("trajectories must be single runs (points of shape (steps + 1, 2))")
        path(ax_c, traj.points, traj.method, label=label)
        loss_curve(ax_l, traj.losses, surface.f_min, traj.method, label=label)
    ax_c.legend(loc="upper right")
    ax_l.legend(loc="upper right")
    ax_c.set_title(title or surface.formula)
    ax_l.set_title("loss against step")
    fig.tight_layout()
    return fig, (ax_c, ax_l)
