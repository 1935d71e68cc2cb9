"""lessons_lib: the plumbing and reference implementations behind the course notebooks.

Modules, one topic each:

* :mod:`~lessons_lib.surfaces`   2-D loss surfaces with analytic gradients
* :mod:`~lessons_lib.optimizers` GD, momentum and Nesterov (PyTorch forms), batched
* :mod:`~lessons_lib.theory`     rates, optimal hyperparameters, 2x2 iteration matrices
* :mod:`~lessons_lib.plotting`   contours, paths and loss curves in one style
* :mod:`~lessons_lib.checks`     self-checks for the exercises

:func:`setup` is the first call of every notebook, after its imports: it seeds the random
generators and applies the plotting style, so that a notebook prints the same
numbers on every run, and (once a process) freezes the imported libraries out of the
garbage collector's way. The printed numbers do not depend on the thread count or the
CPU's vector unit (the lessons compute what they print in float64, and the tests run
them a second time under another PyTorch CPU capability and thread count);
``LESSONS_THREADS`` sets torch's thread count for such a run.
"""

from __future__ import annotations

import atexit
import gc
import os
import random
import sys

__version__ = "0.1.0"

SEED = 0


def setup(seed: int = SEED, threads: int | None = None) -> None:
    """Seed Python, NumPy (legacy global state) and PyTorch (if the notebook has imported it),
    set torch's thread count and apply the course's plotting style (:func:`plotting.use_style`, which
    also lets matplotlib's renderers share mathtext layouts); in IPython, make a check cell run before
    its answer say so (:func:`checks.explain_unanswered`); in a process with nothing
    frozen yet (the first call), also move the objects alive into the garbage collector's
    permanent generation (below).

    ``threads`` is torch's intra-op thread count: the environment variable ``LESSONS_THREADS``
    if set, else 1. The course's networks are tiny, so more threads only add waiting (three to
    four times slower on two busy cores). Outputs do not depend on it: the tests run every
    notebook a second time with another count.

    Test hook: ``LESSONS_MKLDNN_OFF=1`` sets ``torch.backends.mkldnn.enabled = False``, which
    reproduces for ``torch._int_mm`` a CPU without AVX-512 VNNI (torch's exact reference loop).

    Garbage collection: the first call in a process (one with nothing frozen yet, so that a reloaded
    ``lessons_lib`` does not freeze twice) collects garbage, then freezes every object still alive
    (:func:`gc.freeze`), which at the top of a notebook means the libraries imported before it. The
    cyclic garbage collector no longer traverses them, and the collections the interpreter makes at
    exit skip them, so the kernel shuts down sooner (its memory goes back to the operating system at
    once). The same call registers :func:`gc.freeze` to run at exit (:mod:`atexit`, before IPython's
    own exit handlers), so that the interpreter's last collections also skip what the lesson made
    after setup (a ``torch._dynamo`` imported later, the lesson's tensors and figures): 0.1 to 0.4 s
    less shutdown a lesson (benchmarks/setup_ab.py exit-freeze, four lessons: 2.1 s without it, 1.0 s with
    it). The price: objects in reference cycles are not finalized at exit. Their ``__del__`` methods
    and weakref callbacks do not run, a buffered file held in such a cycle is not flushed, a
    ``NamedTemporaryFile`` held in one is not deleted; ``with`` blocks, objects freed by reference
    counting (no cycle) and :class:`weakref.finalize` (hence ``tempfile.TemporaryDirectory``) are
    unaffected, and the memory goes back to the operating system as before. Lessons write files in
    ``with`` blocks (CONTRIBUTING). Frozen objects that sit in reference cycles (modules, classes,
    functions) are never freed; acyclic ones still are, by reference counting. Later calls only
    seed, set threads and restyle: they freeze nothing, so a figure or a tensor made between two
    calls is collected as usual. Import what the lesson needs before the first call: a module
    imported later (``torch._dynamo``, which the first ``torch.optim`` optimizer imports) works as
    usual but is not frozen."""
    import numpy as np

    from . import _validate, plotting

    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    if threads is None:
        text = os.environ.get("LESSONS_THREADS") or "1"
        if not text.isdigit():
            raise ValueError(f"LESSONS_THREADS must be an integer in [1, 256]; got {text!r}")
        threads = int(text)
    threads = _validate.integer(threads, "threads", 1, 256)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global state on purpose
    np.set_printoptions(precision=6, suppress=True)
    torch = sys.modules.get("torch")  # seeded only if the notebook imported it (import it first)
    if torch is not None:
        torch.manual_seed(seed)
        torch.set_num_threads(threads)
        if os.environ.get("LESSONS_MKLDNN_OFF") == "1":
            # A test hook (tests/test_offline.py): with mkldnn disabled torch._int_mm takes the exact
            # int32 reference loop that torch >= 2.6 runs on a CPU without AVX-512 VNNI.
            torch.backends.mkldnn.enabled = False
    plotting.use_style()
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:  # a check cell run before its answer: "Not yet", not a NameError traceback
        from .checks import explain_unanswered

        explain_unanswered(shell)
    if gc.get_freeze_count() == 0:  # once a process: nothing frozen yet, by an earlier call or anyone
        gc.collect()
        gc.freeze()
        atexit.register(gc.freeze)  # at exit: the interpreter's final collections skip everything
