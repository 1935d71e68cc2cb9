"""matplotlib's mathtext layouts shared between renderers: plumbing for the course's figures.

:func:`share_mathtext_parses` (called by :func:`lessons_lib.plotting.use_style`) and
:func:`unshare_mathtext_parses`, which undoes it.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
from collections import OrderedDict

_MATHTEXT_PARSES: OrderedDict[tuple, object] = OrderedDict()  # least recently used first
_MATHTEXT_PARSES_MAX = 1024
_MATHTEXT_LOCK = threading.Lock()
_MATHTEXT_SHARED: list = []  # the function share_mathtext_parses installed, while it is installed


# what a mathtext parse reads from rcParams besides its arguments: the mathtext fonts and default
# style, the font families and size (a parse without font properties), hinting and kerning
_MATHTEXT_RC_PREFIXES = ("mathtext.", "font.", "text.")
_MATHTEXT_CHECKED_WITH = "3.11.2"  # the matplotlib whose parse the sharing was checked against


def _after_fork_in_child() -> None:
    """A forked child starts with a fresh lock (the parent's may have been held by another thread)
    and no layouts (they hold the parent's FreeType fonts, which matplotlib drops in a child)."""
    global _MATHTEXT_LOCK
    _MATHTEXT_LOCK = threading.Lock()
    _MATHTEXT_PARSES.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def share_mathtext_parses() -> bool:
    """Let every Agg renderer reuse the mathtext layouts that any renderer has computed.

    matplotlib 3.11 caches mathtext layouts (``$10^{-2}$``, ``$\\eta$``) in one ``lru_cache(50)``
    whose key includes the parser, and each Agg renderer makes its own parser. A notebook figure is
    drawn by two new Agg renderers (the inline backend saves it with a tight bounding box: one draw
    to measure it, one at the measured size), so every label with mathtext was parsed twice a figure
    and again in every later figure (log-scale tick labels are mathtext). The shared cache keys on
    matplotlib's key without the parser (output type, string, dpi, font properties, antialiasing,
    glyph flags) and with everything else the parse reads: every ``mathtext.*``, ``font.*`` and
    ``text.*`` rcParam (change one and the labels are parsed again), the fonts matplotlib knows
    (``fontManager.addfont`` makes a new key), and the process and thread (a layout holds FreeType
    fonts, which matplotlib keeps per thread and drops in a forked child). Tests
    (tests/test_mathtext_cache.py) compare its pixels with matplotlib's own cache across sizes,
    dpis, rcParams changes, an added font and ``mathtext.math_to_image``. Writing the 28 figures of
    five lessons took 9.2 s with it and 11.3 s without (``benchmarks/figures_ab.py``, medians of five
    interleaved repeats; lesson 09 least changed); whole lessons on fresh kernels (``benchmarks/setup_ab.py
    mathtext``) spread more than that difference. Parsing speed is matplotlib's open issue #20821.

    At most 1,024 layouts are kept (least recently used go first; 5 to 9 kB each). Idempotent;
    :func:`unshare_mathtext_parses` undoes it. Returns whether the sharing is on: only with the
    matplotlib it was checked against (3.11.2), whose private ``MathTextParser._parse_cached`` it
    replaces; with any other version, or if that method is not the ``lru_cache`` expected, matplotlib
    is left as it is and this returns False."""
    import matplotlib
    from matplotlib import font_manager, mathtext

    method = mathtext.MathTextParser.__dict__.get("_parse_cached")
    if _MATHTEXT_SHARED and method is _MATHTEXT_SHARED[0]:
        return True
    parse = getattr(method, "__wrapped__", None)  # the function under functools.lru_cache
    if matplotlib.__version__ != _MATHTEXT_CHECKED_WITH or not hasattr(method, "cache_info") or parse is None:
        return False
    try:
        names = list(inspect.signature(parse).parameters)
    except (TypeError, ValueError):
        return False
    if names != ["self", "s", "dpi", "prop", "antialiased", "load_glyph_flags"]:
        return False
    rc = matplotlib.rcParams
    rc_keys = sorted(k for k in rc if k.startswith(_MATHTEXT_RC_PREFIXES))

    def shared(self, s, dpi, prop, antialiased, load_glyph_flags):
        fonts = font_manager.fontManager
        key = (self._output_type, s, dpi, prop, antialiased, load_glyph_flags,
               tuple(repr(rc[k]) for k in rc_keys),
               id(fonts), id(fonts.ttflist), len(fonts.ttflist), id(fonts.afmlist), len(fonts.afmlist),
               os.getpid(), threading.get_ident())
        with _MATHTEXT_LOCK:
            layout = _MATHTEXT_PARSES.get(key)
            if layout is not None:
                _MATHTEXT_PARSES.move_to_end(key)
                return layout
        layout = parse(self, s, dpi, prop, antialiased, load_glyph_flags)
        with _MATHTEXT_LOCK:
            _MATHTEXT_PARSES[key] = layout
            while len(_MATHTEXT_PARSES) > _MATHTEXT_PARSES_MAX:
                _MATHTEXT_PARSES.popitem(last=False)
        return layout

    shared.__wrapped__ = parse
    mathtext.MathTextParser._parse_cached = shared
    _MATHTEXT_SHARED[:] = [shared]
    return True


def unshare_mathtext_parses() -> None:
    """Put back matplotlib's own mathtext cache (a fresh ``lru_cache(50)`` on its parse, as
    matplotlib defines it) and drop the shared layouts; nothing to do if the sharing is off."""
    from matplotlib import mathtext

    method = mathtext.MathTextParser.__dict__.get("_parse_cached")
    if _MATHTEXT_SHARED and method is _MATHTEXT_SHARED[0]:
        mathtext.MathTextParser._parse_cached = functools.lru_cache(50)(method.__wrapped__)
    _MATHTEXT_SHARED.clear()
    with _MATHTEXT_LOCK:
        _MATHTEXT_PARSES.clear()
