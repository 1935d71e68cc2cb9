"""A progress bar for long notebook cells that leaves nothing in the saved output.

:func:`progress` wraps an iterable. In a Jupyter kernel it shows tqdm's notebook bar
(an ipywidgets progress bar) in a display of its own and, when the loop ends, replaces
that display with an empty one: the reader sees the bar while the cell runs, and the
saved notebook (what nbval compares and what a reader without a kernel sees) holds
nothing of it. Elsewhere (a terminal, a script) it is tqdm's text bar on stderr,
removed when the loop ends.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

__all__ = ["progress", "in_kernel"]


def in_kernel() -> bool:
    """True inside a Jupyter (IPython) kernel, where widgets can be shown."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    """Yield the items of ``iterable`` while a progress bar counts them.

    Parameters
    ----------
    iterable : what the loop runs over
    total : number of items, if ``len(iterable)`` does not give it
    desc : label shown before the bar

    The bar disappears when the loop finishes (or is left early); it never prints
    into the cell's saved output.
    """
    if not isinstance(desc, str):
        raise TypeError(f"desc must be a str; got {type(desc).__name__}")
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if not in_kernel():
        from tqdm.std import tqdm

        yield from tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr)
        return

    from IPython.display import display
    from tqdm.notebook import tqdm as tqdm_notebook

    bar = tqdm_notebook(iterable, total=total, desc=desc, leave=False, display=False)
    # The widget alone, without its text form: nbval compares each output as the kernel first
    # sent it (it ignores the later update to an empty display), and skips widget views.
    bundle = {k: v for k, v in bar.container._repr_mimebundle_().items() if k != "text/plain"}
    handle = display(bundle, raw=True, display_id=True)
    try:
        yield from bar
    finally:
        bar.close()
        if handle is not None:
            handle.update({}, raw=True)  # the output becomes an empty display: nothing is saved
