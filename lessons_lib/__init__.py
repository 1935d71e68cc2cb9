"""lessons_lib: the plumbing and reference implementations behind the course notebooks.

Modules, one topic each:

* :mod:`~lessons_lib.surfaces`   2-D loss surfaces with analytic gradients
* :mod:`~lessons_lib.optimizers` GD, momentum and Nesterov (PyTorch forms), batched
* :mod:`~lessons_lib.theory`     rates, optimal hyperparameters, 2x2 iteration matrices
* :mod:`~lessons_lib.plotting`   contours, paths and loss curves in one style
* :mod:`~lessons_lib.checks`     self-checks for the exercises

:func:`setup` is the first call of every notebook: it seeds the random
generators, fixes the thread count and applies the plotting style, so that a
notebook prints the same numbers on every run.
"""

from __future__ import annotations

import os
import random
import sys

__version__ = "0.1.0"

SEED = 0


def setup(seed: int = SEED, threads: int = 2) -> None:
    """Seed Python, NumPy (legacy global state) and PyTorch (if the notebook has imported it),
    set thread counts, and apply the course's plotting style."""
    import numpy as np

    from . import _validate, plotting

    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    threads = _validate.integer(threads, "threads", 1, 256)
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - seeds the legacy global state on purpose
    np.set_printoptions(precision=6, suppress=True)
    torch = sys.modules.get("torch")  # seeded only if the notebook imported it (import it first)
    if torch is not None:
        torch.manual_seed(seed)
        torch.set_num_threads(threads)
    plotting.use_style()
