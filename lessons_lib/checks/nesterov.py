"""Self-checks for lesson 04, Nesterov momentum.

The checks recognise the lesson's common wrong answers: the heavy ball's limit
``(2+2*beta)/L`` given for Nesterov's ``(2+2*beta)/((1+2*beta) L)``, ``beta*lr*lambda``
for the effective momentum ``beta*(1 - lr*lambda)``, weight decay left out, put only
into the buffer or decoupled in PyTorch's Nesterov step, and the heavy ball's or
gradient descent's rate given for Nesterov's.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import surfaces, theory
from . import NotYet, _fmt, as_number, number, passed


def effective_momentum(answer: object) -> None:
    """Exercise 1: Nesterov on one eigen-component equals heavy ball with momentum beta (1 - lr lambda)."""
    beta, h = 0.9, 0.2
    number(
        answer, beta * (1 - h),
        what="the heavy-ball momentum equivalent to Nesterov at beta = 0.9, lr*lambda = 0.2",
        hint="compare z^2 - (1+beta)(1-h) z + beta(1-h) with the heavy ball's z^2 - (1+b'-h) z + b': "
             "the constant terms give b' = beta(1-h).",
        mistakes={
            "beta": (beta, "that is Nesterov's own coefficient; on this eigen-component it acts like less."),
            "beta_h": (beta * h, "beta*lr*lambda has the factor the wrong way round: it is "
                                 "beta*(1 - lr*lambda), smaller in steep directions (large lr*lambda)."),
            "one_minus_h": (1 - h, "1 - lr*lambda is gradient descent's factor; multiply by beta."),
            "plus": (beta * (1 + h), "beta*(1 + lr*lambda) is the effective momentum along a direction of "
                                     "negative curvature -lambda (a saddle), not here."),
        },
    )


def stability_limit(answer: object) -> None:
    """Exercise 2: the largest stable lr of Nesterov (PyTorch form), beta = 0.9, eigenvalues in [0.5, 10]."""
    beta, L = 0.9, 10.0
    expected = (2 + 2 * beta) / ((1 + 2 * beta) * L)
    number(
        answer, expected, what="Nesterov's largest stable learning rate with beta = 0.9",
        hint="the Jury condition p(-1) > 0 for p(z) = z^2 - (1+beta)(1-h) z + beta(1-h) gives "
             "h = lr*lambda < (2+2*beta)/(1+2*beta); the largest eigenvalue binds.",
        mistakes={
            "heavy_ball": ((2 + 2 * beta) / L, "(2+2*beta)/L is the heavy ball's limit; Nesterov's is "
                                               "smaller, (2+2*beta)/((1+2*beta) L)."),
            "gd": (2 / L, "2/L is gradient descent's limit; with momentum Nesterov's limit is below it."),
            "no_L": ((2 + 2 * beta) / (1 + 2 * beta), "that is the limit on lr*lambda; divide by L = 10."),
            "four_thirds": (4 / (3 * L), "4/(3L) is the limit as beta -> 1; put beta = 0.9 in."),
        },
    )


def _torch_reference(grad, x0, lr, mu, wd, steps):
    """torch.optim.SGD(nesterov=True, weight_decay=wd) in float64, fed ``grad``."""
    import torch

    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=mu, nesterov=True, weight_decay=wd)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def _variant(grad, x0, lr, mu, wd, steps, kind):
    """Common wrong versions of the step with weight decay."""
    x = np.array(x0, dtype=float)
    b = np.zeros_like(x)
    path = [x.copy()]
    for _ in range(steps):
        g = grad(x)
        if kind == "no_decay":
            b = mu * b + g
            x = x - lr * (g + mu * b)
        elif kind == "decay_in_buffer_only":
            b = mu * b + g + wd * x
            x = x - lr * (g + mu * b)
        elif kind == "decoupled":
            b = mu * b + g
            x = x - lr * (g + mu * b) - lr * wd * x
        elif kind == "heavy_ball":
            g = g + wd * x
            b = mu * b + g
            x = x - lr * b
        path.append(x.copy())
    return np.array(path)


_VARIANT_MESSAGES = {
    "no_decay": "the weight decay is missing: PyTorch adds wd*p to the gradient before anything else.",
    "decay_in_buffer_only": "the decay went into the buffer but not into the g of the step: add it to g "
                            "first, and use that g both in b = mu*b + g and in p -= lr*(g + mu*b).",
    "decoupled": "you decoupled the decay (p -= lr*wd*p on its own, as AdamW does); torch.optim.SGD adds "
                 "wd*p to the gradient, so it also enters the momentum buffer.",
    "heavy_ball": "these are heavy-ball iterates (p -= lr*b); the Nesterov step is p -= lr*(g + mu*b).",
}


def weight_decay_step(candidate: Callable) -> None:
    """Exercise 3: ``nesterov_wd(grad, x0, lr, mu, wd, steps)`` must equal
    ``torch.optim.SGD(nesterov=True, weight_decay=wd)``."""
    if not callable(candidate):
        raise NotYet(f"nesterov_wd should be a function; got {type(candidate).__name__}.")
    hint = ("per step: g = grad(p) + wd*p; b = mu*b + g; p = p - lr*(g + mu*b), with b starting at zero; "
            "return all iterates, shape (steps + 1, 2).")
    cases = [("rosenbrock", 1e-3, 0.9, 0.01, 200), ("beale", 5e-3, 0.8, 0.1, 150),
             ("quadratic", 0.1, 0.5, 0.5, 50)]
    for name, lr, mu, wd, steps in cases:
        s = surfaces.get(name)
        try:
            got = np.asarray(candidate(s.grad, s.start.copy(), lr, mu, wd, steps), dtype=float)
        except NotImplementedError:
            raise NotYet(f"nesterov_wd is not written yet. Hint: {hint}") from None
        want = _torch_reference(s.grad, s.start, lr, mu, wd, steps)
        if got.shape != want.shape:
            raise NotYet(f"on {name} with {steps} steps your function returned shape {got.shape}; expected "
                         f"{want.shape} (the start and every iterate). Hint: {hint}")
        if np.allclose(got, want, rtol=1e-9, atol=1e-12):
            continue
        where = f"on {name} (lr = {lr:g}, mu = {mu:g}, wd = {wd:g})"
        for kind, message in _VARIANT_MESSAGES.items():
            if np.allclose(got, _variant(s.grad, s.start, lr, mu, wd, steps, kind), rtol=1e-9, atol=1e-12):
                raise NotYet(f"{where}: {message}")
        k = int(np.argmax(np.any(~np.isclose(got, want, rtol=1e-9, atol=1e-12), axis=-1)))
        raise NotYet(f"{where} your iterate {k} is {_fmt(got[k])}; torch.optim.SGD gives {_fmt(want[k])}. "
                     f"Hint: {hint}")
    passed(f"nesterov_wd matches torch.optim.SGD(nesterov=True, weight_decay=wd) on {len(cases)} surfaces.")


def textbook_rate(answer: object) -> None:
    """Exercise 4: the measured rate of Nesterov at lr = 1/L, beta = (sqrt(k)-1)/(sqrt(k)+1), kappa = 100."""
    mu, L = 1.0, 100.0
    kappa = L / mu
    sk = math.sqrt(kappa)
    expected = float(theory.nesterov_rate(1 / L, (sk - 1) / (sk + 1), [mu, L]))
    if answer is None or answer is Ellipsis:
        raise NotYet("No answer yet. Hint: run optimizers.run on surfaces.quadratic([1, 100]) and take "
                     "(error_k2 / error_k1) ** (1 / (k2 - k1)) over a long window.")
    value = as_number(answer, "the measured rate")
    if math.isclose(value, (sk - 1) / (sk + 1), rel_tol=1e-3):
        raise NotYet(f"{value:.4g} = (sqrt(kappa)-1)/(sqrt(kappa)+1) is beta here (and the heavy ball's "
                     "optimal rate), not a measurement of these iterates. Hint: run the method and measure.")
    if math.isclose(value, (kappa - 1) / (kappa + 1), rel_tol=1e-3):
        raise NotYet(f"{value:.4g} is gradient descent's optimal rate; measure Nesterov's from its iterates.")
    if not math.isclose(value, expected, rel_tol=0.01):
        raise NotYet(f"{value:.4g} is not the rate of these iterates. Hint: measure over a long window, "
                     "after the first few dozen steps; the flat direction sits on a double root, so the "
                     "ratio approaches the rate slowly.")
    passed(f"measured {value:.4f}; theory gives {expected:.4f} = 1 - 1/sqrt(kappa): the flat direction is "
           "critically damped and the steep one is killed in one step (lr*L = 1).")
