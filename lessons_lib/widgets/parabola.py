"""Lesson 00's check that the widgets work: gradient descent on a parabola, one slider.

On ``f(x) = x^2 / 2`` a gradient step is ``x_{k+1} = x_k - lr x_k = (1 - lr) x_k``, so from
``x_0 = 1`` the iterates are ``x_k = (1 - lr)^k``: they creep toward 0 for ``lr < 1``, land
there at ``lr = 1``, flip sign while shrinking for ``1 < lr < 2`` and grow beyond 2. The
figure shows ``x_0 .. x_10`` for the slider's ``lr`` on a y-axis of +-2.2, widened to
``1.1 max |x_k|`` where the iterates grow (:attr:`ParabolaSlider.y_limit`); the browser
computes and draws them (``course_widgets.js``), as every widget of the course does, so a
reader whose dots move while dragging has a browser that runs the course's widgets.
"""

from __future__ import annotations

import numpy as np
import traitlets as t

from .. import optimizers, plotting, surfaces
from ..optimizers import Trajectory
from ._base import Control, CourseWidget, Readout, Real

LR_RANGE = (0.05, 2.2)


class ParabolaSlider(CourseWidget):
    """Gradient descent on ``x^2 / 2`` from 1 for ten steps, with a learning-rate slider.

    Parameters
    ----------
    lr : learning rate in [0.05, 2.2] (the slider moves in steps of 0.05; with Shift 0.01).

    Trait ``lr`` (synced with the browser). Computed from it: ``run`` (the
    :class:`~lessons_lib.optimizers.Trajectory`, 10 steps) and :meth:`readout_lines`;
    ``lr_slider.value`` and ``readout.value`` as for the other widgets.
    """

    _description = "learning-rate slider on a parabola"
    kind = t.Unicode("parabola").tag(sync=True)
    lr = Real(0.5, *LR_RANGE).tag(sync=True)

    def __init__(self, lr: float = 0.5) -> None:
        super().__init__(lr=lr)
        self.lr_slider = Control(self, "lr")
        self.readout = Readout(self.readout_lines)

    @property
    def run(self) -> Trajectory:
        return optimizers.run(surfaces.quadratic([1.0, 1.0]), [1.0, 0.0], "gd", self.lr, steps=10)

    @property
    def y_limit(self) -> float:
        """Half the height of the figure's y-axis: 2.2, or ``1.1 max |x_k|`` if that is larger."""
        return max(2.2, 1.1 * float(np.abs(self.run.points[:, 0]).max()))

    def readout_lines(self) -> list[str]:
        """One line: the factor ``1 - lr`` each step multiplies x by, and whether x shrinks."""
        factor = 1.0 - self.lr
        verdict = "shrinks" if abs(factor) < 1 else "does not shrink"
        return [f"each step multiplies x by 1 - lr = {factor:+.2f}: the iterate {verdict}"]

    def static_figure(self):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7.0, 2.8), dpi=80)
        ax = fig.add_subplot()
        ax.plot(np.arange(11), self.run.points[:, 0], "o-", color=plotting.METHOD_COLORS["gd"])
        ax.axhline(0.0, color="0.6", linewidth=0.8)
        ax.set_ylim(-self.y_limit, self.y_limit)
        ax.set_xlabel("step $k$")
        ax.set_ylabel("$x_k$")
        ax.set_title(f"$x_k = (1-\\eta)^k$ with $\\eta$ = {self.lr:.2f}")
        fig.tight_layout()
        return fig
