"""Interactive widgets of the course, computed and drawn in the browser (anywidget).

* :class:`~lessons_lib.widgets.explorer.TrajectoryExplorer`: GD, momentum and Nesterov
  on a 2-D surface, with sliders, a start point, Play, a loss panel and a readout.
* :class:`~lessons_lib.widgets.rate_map.RateMap`: heavy-ball momentum's rate over
  (lr, beta) for eigenvalues in [1/kappa, 1], with a selected pair's iterates; with
  ``method="nesterov"`` Nesterov's map on the same axes, with ``"compare"`` where each is faster.
* :class:`~lessons_lib.widgets.spectrum.SpectrumWidget`: many eigenvalues ``2^-i``, each
  eigen-component's error against the step for gradient descent and the heavy ball.
* :class:`~lessons_lib.widgets.sgd.SGDExplorer`: minibatch SGD on the least-squares loss
  beside gradient descent, with batch-size, seed and averaging controls.
* :class:`~lessons_lib.widgets.parabola.ParabolaSlider`: lesson 00's check that widgets
  work, gradient descent on x^2/2 with one slider.

Each is an :class:`anywidget.AnyWidget`: Python holds the state as traitlets (set them
from a cell and the figure follows) and the reference numbers (:mod:`lessons_lib.optimizers`,
:mod:`lessons_lib.theory`) behind ``readout_lines()``; the front end, the ES module
``course_widgets.js``, computes the same numbers in the browser and draws them on a
canvas, within one display frame of a slider move. See :mod:`lessons_lib.widgets._base`.
"""

from .explorer import TrajectoryExplorer
from .parabola import ParabolaSlider
from .rate_map import RateMap
from .sgd import SGDExplorer
from .spectrum import SpectrumWidget

__all__ = ["ParabolaSlider", "RateMap", "SGDExplorer", "SpectrumWidget", "TrajectoryExplorer"]
