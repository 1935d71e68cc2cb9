"""What the course's in-browser widgets share: the ES module, validated traits, surface specs.

Every widget is an :class:`anywidget.AnyWidget` whose front end is the one ES module
``course_widgets.js`` next to this file (plain JavaScript, no build step). Python holds
the state as traitlets synced with the browser; the browser computes and draws from the
full state on every change. Numbers the browser needs and cannot compute (a surface's
coefficients, the SGD explorer's data and minibatch draws) are sent once as numbers.

Traits are validated when set, from Python or from the browser: a bad value raises
``ValueError`` naming the trait and the allowed range (``lr must be in [1e-05, 3.16228];
got 5``), a non-number ``TypeError``.
"""

from __future__ import annotations

import base64
import io
import numbers
import pathlib

import anywidget
import numpy as np
import traitlets as t

from .. import _validate, surfaces

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

class CourseWidget(anywidget.AnyWidget):
    """An in-browser figure of the course: the ES module and a ``kind`` that picks the figure.

    Displayed, it is the live widget, with two fallbacks in the same output: a PNG of the
    current state (what GitHub and other pages without JavaScript show) and a line of text.
    """

    _esm = ESM
    kind = t.Unicode("").tag(sync=True)
    _description = "interactive figure"

    def static_figure(self):
        """A matplotlib figure of the current state (the picture for readers without JavaScript)."""
        raise NotImplementedError

    def png(self) -> bytes:
        """The static picture as PNG bytes (matplotlib's Agg, not pyplot: no figure is left open)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = self.static_figure()
        canvas = FigureCanvasAgg(fig)
        buf = io.BytesIO()
        canvas.print_png(buf)
        return buf.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data)
        data["image/png"] = base64.b64encode(self.png()).decode("ascii")
        data["text/plain"] = f"<{self._description}: run the notebook to use the controls>"
        return data, metadata

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._description}>"


# --- surfaces as numbers for the browser ---------------------------------------------------

def lsq_coefficients(x: object, y: object) -> dict[str, float]:
    """The least-squares loss as numbers: ``J = 0.5 t^T A t - b^T t + c``.

    Computed exactly as :func:`lessons_lib.surfaces.linear_regression` computes them
    (``A = [[1, mean x], [mean x, mean x^2]]``, ``b = [mean y, mean xy]``, ``c = mean(y^2) / 2``),
    so the browser's loss and gradient equal the Python surface's bit for bit.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    A = np.array([[1.0, x.mean()], [x.mean(), (x * x).mean()]])
    b = np.array([y.mean(), (x * y).mean()])
    c = 0.5 * (y * y).mean()
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
    }
