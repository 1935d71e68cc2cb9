"""What the course's in-browser widgets share: the ES module, validated traits, surface specs.

Every widget is an :class:`anywidget.AnyWidget` whose front end is the one ES module
``course_widgets.js`` next to this file (plain JavaScript, no build step). Python holds
the state as traitlets synced with the browser; the browser computes and draws from the
full state on every change. Numbers the browser needs and cannot compute (a surface's
coefficients, the SGD explorer's data and minibatch draws) are sent once as numbers.

Traits are validated when set, from Python or from the browser: a bad value raises
``ValueError`` naming the trait and the allowed range (``lr must be in [1e-05, 3.16228];
got 5``), a non-number ``TypeError``.

Without a kernel (an HTML export, the course's site) the same module draws the figure
from the state saved in the output: see :meth:`CourseWidget.static_html`.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import html
import io
import json
import numbers
import pathlib

import anywidget
import numpy as np
import traitlets as t
from ipywidgets.widgets.widget import _remove_buffers

from .. import _validate, plotting, surfaces

ESM = pathlib.Path(__file__).with_name("course_widgets.js")

# Plain-text formulas for the figures' titles (the canvas has no TeX).
TITLES = {
    "quadratic": "f(x, y) = 0.1 x² + 2 y²",
    "rosenbrock": "f(x, y) = (1 − x)² + 100 (y − x²)²",
    "beale": "f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
    "himmelblau": "f(x, y) = (x² + y − 11)² + (x + y² − 7)²",
    "saddle": "f(x, y) = x² − y²",
    "rastrigin": "f(x, y) = 20 + Σᵢ (zᵢ² − 10 cos 2π zᵢ)",
    "linear_regression": "J(θ) = 1/(2m) Σᵢ (θ₀ + θ₁ xᵢ − yᵢ)²",
}


# --- validated traits ----------------------------------------------------------------

class Real(t.TraitType):
    """A finite float in ``[low, high]`` (ends optionally open); checked with :mod:`lessons_lib._validate`."""

    info_text = "a finite number"

    def __init__(self, default_value: float = 0.0, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, high_open: bool = False, **kwargs) -> None:
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        super().__init__(default_value=default_value, **kwargs)

    def validate(self, obj, value) -> float:
        if isinstance(value, str | bytes | bool) or not isinstance(value, numbers.Real | np.ndarray):
            raise TypeError(f"{self.name} must be a number; got {value!r}")
        arr = _validate.in_range(value, self.name, self.low, self.high,
                                 low_open=self.low_open, high_open=self.high_open)
        if arr.ndim:
            raise ValueError(f"{self.name} must be a single number; got an array of shape {arr.shape}")
        return float(arr)


class Integer(t.TraitType):
    """An int in ``[low, high]``; bools and floats are refused (``TypeError``)."""

    info_text = "an integer"

    def __init__(self, default_value: int = 0, low: int | None = None, high: int | None = None,
                 **kwargs) -> None:
        self.low, self.high = low, high
        super().__init__(default_value=default_value, **kwargs)

    def validate(self, obj, value) -> int:
        return _validate.integer(value, self.name, self.low, self.high)


# --- stand-ins for the ipywidgets controls of the earlier widgets ----------------------

class Control:
    """``.value`` reads and writes one trait of a widget, as the ipywidgets control it replaces did.

    The earlier widgets exposed ``lr_slider``, ``momentum_slider``, ... (ipywidgets controls);
    notebook cells set ``explorer.lr_slider.value = 0.51``. This keeps that working: it is
    the same as ``explorer.lr = 0.51``.
    """

    def __init__(self, widget: t.HasTraits, name: str, options=None) -> None:
        self._widget, self._name, self._options = widget, name, options

    @property
    def value(self):
        return getattr(self._widget, self._name)

    @value.setter
    def value(self, v) -> None:
        setattr(self._widget, self._name, v)

    @property
    def options(self) -> list:
        """The allowed values, for controls that have a list of them (the batch sizes)."""
        if self._options is None:
            raise AttributeError(f"{self._name} has no list of options")
        return list(getattr(self._widget, self._options))

    def __repr__(self) -> str:
        return f"<{self._name} of {type(self._widget).__name__}: {self.value!r}>"


class Action:
    """``.click()`` runs what a button of the figure does (``optimum_button.click()``)."""

    def __init__(self, fn) -> None:
        self._fn = fn

    def click(self) -> None:
        self._fn()


class Readout:
    """``.value``: the readout as HTML lines, as the earlier ``widgets.HTML`` readout held it."""

    def __init__(self, lines) -> None:
        self._lines = lines

    @property
    def value(self) -> str:
        import html

        return "<br>".join(html.escape(line) for line in self._lines())


# --- the base class ----------------------------------------------------------------------

# Run by the page (an HTML export, the course's site) where no kernel runs: finds each course
# widget's output, imports the ES module inlined there (gzip + base64, decompressed once per
# page and module version), builds a model from the saved state that lives in the page, and
# replaces the picture with the live figure. Sanitized viewers (GitHub, JupyterLab for an
# untrusted notebook) drop the scripts and show the picture.
_PAGE_LOADER = """
const modules = (window.__lessonsWidgetModules ||= {});
const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/* An anywidget model without a kernel: set() and save_changes() change the page's state only. */
class PageModel {
  constructor(state) { this.state = state; this.listeners = {}; }
  get(key) { return this.state[key]; }
  set(key, value) {
    const old = this.state[key];
    this.state[key] = value;
    if (old !== value) { this.emit(`change:${key}`, value); this.emit("change", value); }
  }
  emit(event, value) { for (const cb of [...(this.listeners[event] || [])]) cb(this, value); }
  on(event, cb) { (this.listeners[event] ||= new Set()).add(cb); }
  off(event, cb) {
    if (!event) this.listeners = {};
    else if (!cb) delete this.listeners[event];
    else this.listeners[event]?.delete(cb);
  }
  save_changes() {}
  send() {}
}

function importModule(data) {
  return (modules[data.dataset.sha256] ||= (async () => {
    const gz = new Blob([bytes(data.textContent)]).stream();
    const js = await new Response(gz.pipeThrough(new DecompressionStream("gzip"))).blob();
    const url = URL.createObjectURL(new Blob([js], { type: "text/javascript" }));
    try { return await import(url); } finally { URL.revokeObjectURL(url); }
  })());
}

async function start(box) {
  const saved = JSON.parse(box.querySelector("script.lessons-widget-state").textContent);
  const state = saved.state;
  saved.buffer_paths.forEach((path, i) => {  /* bytes arrive as DataViews, as from a kernel */
    let obj = state;
    for (const key of path.slice(0, -1)) obj = obj[key];
    obj[path[path.length - 1]] = new DataView(bytes(saved.buffers[i]).buffer);
  });
  const module = await importModule(box.querySelector("script.lessons-widget-module"));
  const picture = box.querySelector("img.lessons-widget-picture");
  const el = document.createElement("div");
  picture.before(el);
  try { await module.default.render({ model: new PageModel(state), el }); }
  catch (err) { el.remove(); throw err; }
  picture.remove();
}

if (typeof DecompressionStream === "function") {  /* older browsers keep the picture */
  for (const box of document.querySelectorAll("div.lessons-widget:not([data-started])")) {
    box.dataset.started = "";
    start(box).catch((err) => console.error("course widget: the picture stays;", err));
  }
}
"""

# Synced traits the page model does not get: the module itself (inlined once, compressed)
# and the layout, a reference to another widget model by its id, meaningless without a kernel.
_NOT_SAVED = frozenset({"_esm", "_css", "layout"})


@functools.lru_cache(maxsize=4)
def _module_payload(source: str) -> tuple[str, str]:
    """``(sha256 of the source, base64 of its gzip)``; gzip with mtime 0, so the same bytes every time."""
    data = source.encode("utf-8")
    gz = gzip.compress(data, compresslevel=9, mtime=0)
    return hashlib.sha256(data).hexdigest(), base64.b64encode(gz).decode("ascii")


class CourseWidget(anywidget.AnyWidget):
    """An in-browser figure of the course: the ES module and a ``kind`` that picks the figure.

    Displayed, it is the live widget, with fallbacks in the same output: HTML that shows a
    PNG of the current state and, where the page runs scripts but no kernel, replaces it with
    the live figure (:meth:`static_html`); the PNG alone; and a line of text.
    """

    _esm = ESM
    kind = t.Unicode("").tag(sync=True)
    _description = "interactive figure"

    def static_figure(self):
        """A matplotlib figure of the current state (the picture for readers without JavaScript)."""
        raise NotImplementedError

    def png(self) -> bytes:
        """The static picture as PNG bytes at twice its shown size ("retina": the figure's own
        ``dpi`` sets the shown width, the PNG holds 2x the pixels; matplotlib's Agg, not pyplot,
        so no figure is left open), its smallest text recorded as the lessons' figures record it
        (:func:`lessons_lib.plotting.retina_png`)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = self.static_figure()
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        with plotting.drawn_text_sizes() as drawn:
            fig.savefig(buf, format="png", dpi=2 * fig.dpi, pil_kwargs=plotting.PNG_OPTIONS)
        return plotting.with_smallest_text(buf.getvalue(), drawn, fig.dpi)

    @staticmethod
    def shown_width(png: bytes) -> int:
        """The width in CSS pixels at which a picture from :meth:`png` is shown: half its pixels."""
        return int.from_bytes(png[16:20], "big") // 2

    def saved_state(self) -> dict:
        """The synced state as the browser's model receives it, for a page without a kernel.

        ``{"state": ..., "buffer_paths": ..., "buffers": ...}``: the traits through the widget's
        own serializers (``get_state``), bytes split off as ipywidgets sends them (buffers, here
        base64) and put back at ``buffer_paths`` as DataViews by the page.
        """
        state = {k: v for k, v in self.get_state().items() if k not in _NOT_SAVED}
        state, paths, buffers = _remove_buffers(state)
        return {"state": state, "buffer_paths": paths,
                "buffers": [base64.b64encode(bytes(b)).decode("ascii") for b in buffers]}

    def static_html(self, png: bytes | None = None) -> str:
        """HTML of the current state: the picture, and the live figure where scripts run.

        An ``<img>`` of :meth:`png`, then the saved state (JSON), the ES module (gzip, base64,
        with its SHA-256) and a module script (``_PAGE_LOADER``) that swaps the picture for the
        figure. The same state gives the same bytes: sorted JSON, no ids, gzip without a time.
        """
        png = self.png() if png is None else png
        width = self.shown_width(png)
        png = base64.b64encode(png).decode("ascii")
        digest, module = _module_payload(self._esm)
        state = json.dumps(self.saved_state(), sort_keys=True, separators=(",", ":"), allow_nan=False)
        state = state.replace("<", "\\u003c")  # no "</script>" inside the script element
        alt = html.escape(f"{self._description}: a picture of the figure as saved; "
                          "the controls work where the notebook runs")
        return (
            '<div class="lessons-widget">\n'
            f'<img class="lessons-widget-picture" src="data:image/png;base64,{png}" alt="{alt}" '
            f'width="{width}" style="max-width:100%;height:auto">\n'
            f'<script class="lessons-widget-state" type="application/json">{state}</script>\n'
            f'<script class="lessons-widget-module" data-sha256="{digest}" type="text/plain">'
            f'{module}</script>\n'
            f'<script type="module">{_PAGE_LOADER}</script>\n'
            "</div>"
        )

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        png = self.png()
        data = dict(data)
        data["text/html"] = self.static_html(png)
        data["image/png"] = base64.b64encode(png).decode("ascii")
        metadata = dict(metadata)
        metadata["image/png"] = {"width": self.shown_width(png)}
        data["text/plain"] = f"<{self._description}: run the notebook to use the controls>"
        return data, metadata

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._description}>"


# --- surfaces as numbers for the browser ---------------------------------------------------

def lsq_coefficients(x: object, y: object) -> dict[str, float]:
    """The least-squares loss as numbers, ``J = 0.5 t^T A t - b^T t + c``: the terms of
    :func:`lessons_lib.surfaces.least_squares_terms`, so the browser's loss and gradient equal
    the Python surface's bit for bit."""
    A, b, c = surfaces.least_squares_terms(x, y)
    return {"a00": float(A[0, 0]), "a01": float(A[0, 1]), "a11": float(A[1, 1]),
            "b0": float(b[0]), "b1": float(b[1]), "c": float(c)}


def surface_spec(surface: surfaces.Surface, *, data: tuple | None = None,
                 default_lr: float | None = None) -> dict:
    """What the browser needs to compute and draw ``surface``: its kind and coefficients,
    ranges, minima, ``f_min`` (None if unbounded), escape radius, start and a title.

    ``kind`` is the surface's name for the named surfaces (their formulas are in the ES
    module), ``"quadratic"`` with the Hessian's entries ``a, b, d`` for a quadratic, or
    ``"lsq"`` with the coefficients of :func:`lsq_coefficients` for the least-squares loss
    of ``data = (x, y)``.
    """
    name = surface.name
    if name == "linear_regression":
        if data is None:
            data = surfaces.regression_data()
        kind, coef = "lsq", lsq_coefficients(*data)
    elif surface.hessian is not None and name == "quadratic":
        H = surface.hessian
        kind, coef = "quadratic", {"a": float(H[0, 0]), "b": float(H[0, 1]), "d": float(H[1, 1])}
    elif name in surfaces.names():
        kind, coef = name, {}
    else:
        raise ValueError(f"surface {name!r} has no counterpart in the browser")
    return {
        "name": name, "kind": kind, "coef": coef,
        "xlim": [float(v) for v in surface.xlim], "ylim": [float(v) for v in surface.ylim],
        "minima": surface.minima.tolist(), "f_min": None if surface.f_min is None else float(surface.f_min),
        "escape_radius": float(surface.escape_radius), "start": [float(v) for v in surface.start],
        "title": TITLES.get(name, name), "default_lr": default_lr,
        # the parameters' names on the axes: a line's intercept and slope for least squares
        "axes": ["\u03b8\u2080", "\u03b8\u2081"] if kind == "lsq" else ["x", "y"],
    }
