"""Interactive widgets of the course (ipywidgets controls, ipympl figures).

* :class:`~lessons_lib.widgets.explorer.TrajectoryExplorer`: GD, momentum and Nesterov
  on a 2-D surface, with sliders, a start point, Play, a loss panel and a readout.
* :class:`~lessons_lib.widgets.sgd.SGDExplorer`: minibatch SGD on the least-squares loss
  beside gradient descent, with batch-size, seed and averaging controls.

Widgets are thin: numbers come from :mod:`lessons_lib.optimizers` and
:mod:`lessons_lib.theory`; redraws update artists and blit (see :mod:`lessons_lib.live`).
"""

from .explorer import TrajectoryExplorer
from .rate_map import RateMap
from .sgd import SGDExplorer

__all__ = ["RateMap", "SGDExplorer", "TrajectoryExplorer"]
