"""lessons_lib: the plumbing and reference implementations behind the course notebooks.

Modules, one topic each:

* :mod:`~lessons_lib.surfaces`   2-D loss surfaces with analytic gradients
* :mod:`~lessons_lib.optimizers` GD, momentum and Nesterov (PyTorch forms), batched
* :mod:`~lessons_lib.theory`     rates, optimal hyperparameters, 2x2 iteration matrices
* :mod:`~lessons_lib.plotting`   contours, paths and loss curves in one style
* :mod:`~lessons_lib.checks`     self-checks for the exercises

:func:`setup` is the first call of every notebook: it seeds the random
generators and applies the plotting style, so that a notebook prints the same
numbers on every run. The printed numbers do not depend on the thread count or the
CPU's vector unit (the lessons compute what they print in float64, and the tests run
them a second time under another PyTorch CPU capability and thread count);
``LESSONS_THREADS`` sets torch's thread count for such a run.
"""

from __future__ import annotations

import gc
import os
import random
import sys

__version__ = "0.1.0"

SEED = 0


def setup(seed: int = SEED, threads: int | None = None) -> None:
    """Seed Python, NumPy (legacy global state) and PyTorch (if the notebook has imported it),
    set torch's thread count, apply the course's plotting style, and move the objects alive now
    into the garbage collector's permanent generation.

    ``threads`` is torch's intra-op thread count: the environment variable ``LESSONS_THREADS``
    if set, else 1. The course's networks are tiny, so more threads only add waiting (three to
    four times slower on two busy cores). Outputs do not depend on it: the tests run every
    notebook a second time with another count.

    Test hook: ``LESSONS_MKLDNN_OFF=1`` sets ``torch.backends.mkldnn.enabled = False``, which
    reproduces for ``torch._int_mm`` a CPU without AVX-512 VNNI (torch's exact reference loop).

    The permanent generation (:func:`gc.freeze`): the libraries a notebook imports before this
    call stay alive for the whole session (torch, NumPy and matplotlib: about 210,000 objects), yet every
    full collection of the cyclic garbage collector, and the one the kernel makes when it shuts
    down, would traverse them all again. Frozen, they are skipped; they are still freed by
    reference counting. Garbage is collected first, so no unreachable cycle is frozen. Measured
    over the fifteen notebooks: kernel shutdowns 13-16 s -> 5 s in all, execution about 2 s less."""
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
    gc.collect()
    gc.freeze()
