# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -slideshow
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 08: Linear regression, worked by hand
#
# Many momentum introductions end with two momentum iterations on a linear-regression loss,
# every number written out. One such example (seed article `002_f70065683ff95f85.txt`, section
# 4.7, a Chinese article on momentum) starts this lesson: a good idea with
# wrong arithmetic. We redo it by hand, in NumPy and with `torch.optim.SGD`, find each error and
# how to catch it, then look at the problem with the earlier lessons' tools:
# condition number, closed form, rates, minibatch noise.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. derive the gradient of the least-squares loss of a line and check it with finite
#    differences;
# 2. carry out momentum iterations by hand, with every intermediate number;
# 3. catch errors in a worked example by recomputing, checking dimensions, signs and
#    magnitudes;
# 4. show that the "$v_k = \beta v_{k-1} + \eta\nabla J$" form of momentum and
#    `torch.optim.SGD(momentum=...)` give the same iterates when the learning rate is constant
#    (and different ones when it changes);
# 5. compute the least-squares solution in closed form and predict from the Hessian's
#    eigenvalues how fast gradient descent and momentum reach it.
#
# ## Prerequisites
#
# Lessons 01 and 02; for sections 5 to 6 and exercise 5, lessons 03 to 05 (rates, optimal
# pair, Nesterov) and 07 (conventions). Partial derivatives, a little linear algebra.
# About 55 minutes.

# %%
import dataclasses
from itertools import combinations

import matplotlib.pyplot as plt
import numpy as np
import torch

import lessons_lib
from lessons_lib import checks, optimizers, plotting, surfaces, theory
from lessons_lib.progress import progress
from lessons_lib.widgets import TrajectoryExplorer

lessons_lib.setup()

# %% [markdown]
# ## 1. The model, the loss and its gradient
#
# We fit a line $h_\theta(x) = \theta_0 + \theta_1 x$ to $m$ points $(x^{(i)}, y^{(i)})$
# by minimising
#
# $$J(\theta_0, \theta_1) = \frac{1}{2m}\sum_{i=1}^m \big(h_\theta(x^{(i)}) - y^{(i)}\big)^2 .$$
#
# With the residual $e^{(i)} = h_\theta(x^{(i)}) - y^{(i)}$ and the chain rule,
# $\partial e^{(i)}/\partial\theta_0 = 1$ and $\partial e^{(i)}/\partial\theta_1 = x^{(i)}$,
# so
#
# $$\frac{\partial J}{\partial\theta_0} = \frac1m\sum_{i=1}^m e^{(i)}, \qquad
# \frac{\partial J}{\partial\theta_1} = \frac1m\sum_{i=1}^m e^{(i)}x^{(i)},
# \qquad \nabla J = \Big(\frac{\partial J}{\partial\theta_0}, \frac{\partial J}{\partial\theta_1}\Big).$$
#
# Both carry a **plus** sign (the $\tfrac12$ cancels the 2 from the square), and the factor
# $x^{(i)}$ belongs to $\theta_1$, the coefficient of $x$. The seed gives no data, so we choose four points, few enough to do by hand.

# %%
x = np.array([0.0, 1.0, 2.0, 3.0])
y = np.array([-0.2, 1.2, 2.6, 2.8])
m = len(x)


def loss_J(theta):
    """J(theta) = 1/(2m) sum (theta0 + theta1 x_i - y_i)^2."""
    e = theta[0] + theta[1] * x - y
    return np.sum(e**2) / (2 * m)


def gradient(theta):
    """(dJ/dtheta0, dJ/dtheta1) = (mean of e_i, mean of e_i * x_i)."""
    e = theta[0] + theta[1] * x - y
    return np.array([e.mean(), (e * x).mean()])


# %% [markdown]
# Check the gradient three ways: central finite differences
# $(J(\theta + \delta u) - J(\theta - \delta u))/(2\delta)$ along unit vectors $u$
# ($\delta = 10^{-6}$), the library's `surfaces.linear_regression(x, y)`, and PyTorch's autograd.

# %%
surface = surfaces.linear_regression(x, y)
delta = 1e-6  # the finite-difference step (h is the model)
for theta in [np.array([0.0, 1.0]), np.array([0.5, -2.0]), np.array([-1.3, 0.7])]:
    fd = np.array([(loss_J(theta + delta * u) - loss_J(theta - delta * u)) / (2 * delta) for u in np.eye(2)])
    t = torch.tensor(theta, requires_grad=True)
    (((t[0] + t[1] * torch.tensor(x) - torch.tensor(y)) ** 2).sum() / (2 * m)).backward()
    print(f"theta = {theta}: formula {gradient(theta)}, finite differences {fd}, "
          f"surface.grad {surface.grad(theta)}, autograd {t.grad.numpy()}")
    assert np.allclose(gradient(theta), fd, atol=1e-8)
    assert np.allclose(gradient(theta), surface.grad(theta), atol=1e-14)
    assert np.allclose(gradient(theta), t.grad.numpy(), atol=1e-14)

# %% [markdown]
# The data were chosen so that at the seed's start $\theta = (\theta_0, \theta_1) = (0, 1)$
# the gradient is exactly the seed's first "assumed" gradient $[-0.1, -0.2]$: the first
# iterations coincide, and the second shows what changes when the gradient is computed.

# %%
print("gradient at (0, 1):", gradient(np.array([0.0, 1.0])))
assert np.allclose(gradient(np.array([0.0, 1.0])), [-0.1, -0.2], atol=1e-15)

fig, ax = plt.subplots(figsize=(6.5, 3.6))
xs_line = np.linspace(-0.3, 3.3, 2)
ax.plot(x, y, "o", color="k", markersize=7, label="data $(x^{(i)}, y^{(i)})$", zorder=5)
ax.plot(xs_line, 0 + 1 * xs_line, color="#7f7f7f", label=r"start: $\theta = (0, 1)$, $h(x) = x$")
for xi, yi in zip(x, y, strict=True):
    ax.plot([xi, xi], [yi, xi], color="#E69F00", linewidth=1.5)
ax.plot([], [], color="#E69F00", linewidth=1.5, label=r"residuals $e^{(i)} = h(x^{(i)}) - y^{(i)}$")
ax.set_xlabel("$x$")
ax.set_ylabel("$y$")
ax.set_title("four points and the starting line")
ax.legend(loc="upper left")
plt.show()

# %% [markdown]
# ## 2. The worked example as the seed writes it
#
# The seed uses momentum in the form
#
# $$v_k = \beta\,v_{k-1} + \eta\,\nabla J(\theta^{(k-1)}), \qquad \theta^{(k)} = \theta^{(k-1)} - v_k,
# \qquad v_0 = 0,$$
#
# with $\beta = 0.9$, $\eta = 0.01$, $\theta_0 = 0$, $\theta_1 = 1$. $\theta^{(k)}$ is the vector
# $(\theta_0, \theta_1)$ after $k$ iterations; subscripts 0 and 1 name intercept and slope. (The
# seed's $\gamma$ is our $\beta$.) The seed's $v$ is *subtracted* from $\theta$; the course's
# velocity (lesson 00's notation, lesson 07's conventions) is *added*,
# $v_k = \beta v_{k-1} - \eta\nabla J$, so the seed's $v$ is **minus** the course's, with the same
# iterates (section 5 runs both). Here $v$ is the seed's, and $g_k$ is the gradient used in
# iteration $k$, at $\theta^{(k-1)}$ (lesson 00's $g_{k-1}$).
#
# Translated, the seed's section 4.7 reads:
#
# > **Iteration 1.** Compute the gradient:
# > $\nabla J(\theta) = [-\frac1m\sum(h_\theta(x^{(i)}) - y^{(i)})\,x^{(i)},\
# > -\frac1m\sum(h_\theta(x^{(i)}) - y^{(i)})]$.
# > Suppose the computed gradient is $[-0.1, -0.2]$. Update the momentum:
# > $v_1 = \gamma v_0 + \eta\nabla J(\theta) = 0 + 0.01\times[-0.1, -0.2] = [-0.001, -0.002]$.
# > Update the parameters: $\theta_1 = \theta_1 - v_1 = 1 - [-0.001, -0.002] = [1.001, 1.002]$.
# >
# > **Iteration 2.** Compute the gradient (same formula). Suppose the computed gradient is
# > $[-0.05, -0.1]$. Update the momentum:
# > $v_2 = \gamma v_1 + \eta\nabla J(\theta) = 0.9\times[-0.001, -0.002] + 0.01\times[-0.05, -0.1]
# > = [-0.0085, -0.0135]$.
# > Update the parameters:
# > $\theta_1 = \theta_1 - v_2 = [1.001, 1.002] - [-0.0085, -0.0135] = [1.0095, 1.0155]$.
#
# Both gradients are *assumed*, not computed (section 3 shows that no data give both one
# correct step $-v_1$ apart; at the seed's own wrong iterate they can, Checks 3a). Take
# them as given and redo the arithmetic, with $\theta = (\theta_0, \theta_1) = (0, 1)$ and the
# gradients read in that order:

# %%
beta, eta = 0.9, 0.01  # the seed's gamma and eta
seed_gradients = [np.array([-0.1, -0.2]), np.array([-0.05, -0.1])]
seed_printed = {"v1": [-0.001, -0.002], "theta1": [1.001, 1.002],
                "v2": [-0.0085, -0.0135], "theta2": [1.0095, 1.0155]}

theta, v = np.array([0.0, 1.0]), np.zeros(2)
redone = {}
for t, g in enumerate(seed_gradients, start=1):
    print(f"iteration {t}: beta * v  = {beta} * {v} = {beta * v}")
    print(f"             eta * g   = {eta} * {g} = {eta * g}")
    v = beta * v + eta * g
    print(f"             v_{t} = {v}")
    print(f"             theta^({t}) = {theta} - {v} = {theta - v}")
    theta = theta - v
    redone[f"v{t}"], redone[f"theta{t}"] = v, theta
assert np.allclose(redone["v1"], seed_printed["v1"])  # the one step the seed gets right
assert np.allclose(redone["theta1"], [0.001, 1.002]) and not np.allclose(redone["theta1"], seed_printed["theta1"])
assert np.allclose(redone["v2"], [-0.0014, -0.0028]) and not np.allclose(redone["v2"], seed_printed["v2"])
assert np.allclose(redone["theta2"], [0.0024, 1.0048])

# The other possible reading: the seed's formula lists the theta1 component first.
v1_by_seed_order = eta * seed_gradients[0]  # [for theta1, for theta0]
theta_seed_order = np.array([0.0 - v1_by_seed_order[1], 1.0 - v1_by_seed_order[0]])
print(f"read in the seed's order (theta1, theta0): theta0 = {theta_seed_order[0]:.4f}, "
      f"theta1 = {theta_seed_order[1]:.4f}")
assert np.allclose(theta_seed_order, [0.002, 1.001])

# %% [markdown]
# ## 3. The real computation, by hand
#
# Now every gradient is computed at the current $\theta$. The cell prints what you would write
# on paper: a row per data point, the means, the momentum, the new parameters.


# %%
def by_hand(theta0, theta1, v0, v1, t):
    """One momentum iteration written out; returns the new (theta0, theta1, v0, v1)."""
    print(f"--- iteration {t}: theta = ({theta0:.6g}, {theta1:.6g}), v = ({v0:.6g}, {v1:.6g})")
    print("  i   x_i    y_i   h_i = theta0 + theta1*x_i   e_i = h_i - y_i    e_i * x_i")
    sum_e = sum_ex = 0.0
    for i in range(m):
        h_i = theta0 + theta1 * x[i]
        e_i = h_i - y[i]
        sum_e += e_i
        sum_ex += e_i * x[i]
        print(f"  {i + 1}  {x[i]:4.1f}  {y[i]:5.1f}   {h_i:22.6f}   {e_i:15.6f}  {e_i * x[i]:11.6f}")
    g0, g1 = sum_e / m, sum_ex / m
    print(f"  sums: {sum_e:.6f} and {sum_ex:.6f};  gradient = sums / {m} = ({g0:.7g}, {g1:.7g})")
    v0, v1 = beta * v0 + eta * g0, beta * v1 + eta * g1
    print(f"  v = {beta} * v + {eta} * gradient = ({v0:.7g}, {v1:.7g})")
    theta0, theta1 = theta0 - v0, theta1 - v1
    print(f"  theta = theta - v = ({theta0:.7g}, {theta1:.7g})")
    return theta0, theta1, v0, v1


state = (0.0, 1.0, 0.0, 0.0)
hand = []
for t in (1, 2):
    state = by_hand(*state, t)
    hand.append(state)
assert np.allclose(hand[0], [0.001, 1.002, -0.001, -0.002], atol=1e-15)
assert np.allclose(hand[1], [0.00286, 1.005715, -0.00186, -0.003715], atol=1e-15)
assert np.allclose(gradient(np.array(hand[0][:2])), [-0.096, -0.1915], rtol=0, atol=1e-15)  # g2, quoted below

# %% [markdown]
# The first iteration is the corrected seed's: $\theta^{(1)} = (0.001, 1.002)$. In the
# second, the gradient at $\theta^{(1)}$ is $(-0.096, -0.1915)$, not the seed's assumed
# $[-0.05, -0.1]$.
#
# **Could any data give the seed's second gradient?** Our points prove nothing about the seed,
# but the seed fixes enough to answer without data. $J$ is a quadratic with the constant Hessian
# $H = \frac1m X^\top X = \begin{pmatrix} 1 & \bar x\\ \bar x & \overline{x^2}\end{pmatrix}$
# for any data ($\bar x$, $\overline{x^2}$ the means of $x^{(i)}$ and $(x^{(i)})^2$), so
# $g_2 - g_1 = H\,(\theta^{(1)} - \theta^{(0)})$: two equations for $\bar x$ and $\overline{x^2}$.
# With the correct step $-v_1 = (0.001, 0.002)$ and the seed's $g_2 - g_1 = (0.05, 0.1)$:
#
# $$0.05 = 0.001 + 0.002\,\bar x \;\Rightarrow\; \bar x = 24.5, \qquad
# 0.1 = 0.001\,\bar x + 0.002\,\overline{x^2} \;\Rightarrow\; \overline{x^2} = 37.75 .$$
#
# A mean of squares is never below the squared mean (their difference is a variance), and
# $37.75 < 24.5^2 = 600.25$: **no data set gives the seed's second gradient one correct step
# after its first.** The cell first tests the method on our data ($\bar x = 1.5$,
# $\overline{x^2} = 3.5$); Checks 3a tries the other readings and the seed's own iterate.


# %%
def moments_from(step, change):
    """(mean x, mean x^2) that make change = H step with H = [[1, mean x], [mean x, mean x^2]]."""
    xbar = (change[0] - step[0]) / step[1]
    x2bar = (change[1] - xbar * step[0]) / step[1]
    return xbar, x2bar


ours = moments_from(np.array(hand[0][:2]) - [0.0, 1.0],
                    gradient(np.array(hand[0][:2])) - gradient(np.array([0.0, 1.0])))
print(f"our data, from the gradients alone: mean x = {ours[0]:.6f}, mean x^2 = {ours[1]:.6f}  "
      f"(the data: {x.mean():.6f}, {(x**2).mean():.6f})")
assert np.allclose(ours, [x.mean(), (x**2).mean()], rtol=0, atol=1e-9)

seed_reading = moments_from(-(eta * seed_gradients[0]), seed_gradients[1] - seed_gradients[0])
print(f"the seed's gradients after the step -v_1: mean x = {seed_reading[0]:.2f}, mean x^2 = {seed_reading[1]:.2f}, "
      f"(mean x)^2 = {seed_reading[0] ** 2:.2f}; data possible: {seed_reading[1] >= seed_reading[0] ** 2}")
assert np.allclose(seed_reading, [24.5, 37.75]) and seed_reading[1] < seed_reading[0] ** 2


# %% [markdown]
# ## 4. The seed's numbers against the correct ones
#
# The seed's printed values, the same steps redone with its assumed gradients, and the real
# computation on our four points.

# %%
rows = [
    ("gradient formula", "[-mean(e x), -mean(e)]", "[+mean(e), +mean(e x)]", "[+mean(e), +mean(e x)]"),
    ("g1 (assumed)", "[-0.1, -0.2]", "[-0.1, -0.2]", np.round(gradient(np.array([0.0, 1.0])), 7)),
    ("v1", seed_printed["v1"], redone["v1"], hand[0][2:]),
    ("theta after iteration 1", seed_printed["theta1"], redone["theta1"], hand[0][:2]),
    ("g2 (assumed)", "[-0.05, -0.1]", "[-0.05, -0.1]", np.round(gradient(np.array(hand[0][:2])), 7)),
    ("v2", seed_printed["v2"], redone["v2"], hand[1][2:]),
    ("theta after iteration 2", seed_printed["theta2"], redone["theta2"], hand[1][:2]),
]


def cell(value):
    if isinstance(value, str):
        return value
    return "[" + ", ".join(f"{float(c):.7g}" for c in value) + "]"


print(f"{'':24s} {'seed prints':24s} {'correct, seed gradients':26s} {'correct, our data':24s}")
for name, *values in rows:
    print(f"{name:24s} " + " ".join(f"{cell(val):25s}" for val in values))

# %% [markdown]
# | step | seed | correct (seed's gradients) | what is wrong | how a reader can tell |
# | --- | --- | --- | --- | --- |
# | gradient formula | $[-\frac1m\sum e\,x,\ -\frac1m\sum e]$ | $[+\frac1m\sum e,\ +\frac1m\sum e\,x]$ | sign flipped, components in the order $(\theta_1, \theta_0)$ | **sign test**: if every prediction is too high ($e^{(i)} > 0$), raising $\theta_0$ raises the loss, so $\partial J/\partial\theta_0 > 0$; the formula says $< 0$; **order test**: the $x$-weighted sum belongs to the coefficient of $x$ |
# | $g_1$, $g_2$ | assumed | $g_1$ cannot be checked; $g_2$ is impossible one step $-v_1$ after $g_1$ | no data; $g_2$ is not at $\theta^{(0)} - v_1$ | the pair needs $\overline{x^2} < \bar x^2$ (section 3) |
# | $v_1$ | $[-0.001, -0.002]$ | $[-0.001, -0.002]$ | correct | recompute |
# | $\theta$ after 1 | $1 - [-0.001, -0.002] = [1.001, 1.002]$ | $[0.001, 1.002]$ (in the formula's order $(\theta_1, \theta_0)$: $\theta_0 = 0.002$, $\theta_1 = 1.001$; neither is the seed's) | the vector $\theta = (0, 1)$ replaced by the scalar $1$; $\theta_1$ names both the slope and the iterate | **dimensions**: the left side $\theta_1$ is one number, the right side a vector; **start**: $\theta_0$ started at 0 and moved by $0.001$ |
# | $v_2$ | $[-0.0085, -0.0135]$ | $[-0.0014, -0.0028]$ | arithmetic | **recompute**: $0.9\cdot(-0.001) + 0.01\cdot(-0.05) = -0.0014$; **magnitude**: componentwise $\lvert v_2\rvert \le 0.9\lvert v_1\rvert + 0.01\lvert g_2\rvert \le 0.0028$ |
# | $\theta$ after 2 | $[1.0095, 1.0155]$ | $[0.0024, 1.0048]$ | inherits both errors | **consistency**: $\theta^{(2)} - \theta^{(1)} = -v_2$, and $\theta_0$ must stay near 0 |
#
# The sign test and the magnitude bound are quick to do in code too:

# %%
seed_formula = lambda theta: np.array([-(gradient(theta)[1]), -(gradient(theta)[0])])  # noqa: E731
too_high = np.array([3.0, 1.0])  # the line 3 + x lies above all four points
e_high = too_high[0] + too_high[1] * x - y
fd_theta0 = (loss_J(too_high + [delta, 0]) - loss_J(too_high - [delta, 0])) / (2 * delta)  # no formula used
print(f"at theta = {too_high}: all residuals > 0: {bool(np.all(e_high > 0))}; "
      f"dJ/dtheta0 by finite differences {fd_theta0:+.4f}, "
      f"the seed's formula gives {seed_formula(too_high)[1]:+.4f} for theta0")
assert np.all(e_high > 0) and fd_theta0 > 0 > seed_formula(too_high)[1]

bound_v2 = beta * np.abs(redone["v1"]) + eta * np.abs(seed_gradients[1])
print(f"|v2| can be at most {bound_v2} componentwise; the seed prints {seed_printed['v2']}")
assert np.allclose(bound_v2, [0.0014, 0.0028]) and np.all(np.abs(seed_printed["v2"]) > bound_v2)
needed_g2 = (np.array(seed_printed["v2"]) - beta * redone["v1"]) / eta
print(f"gradients that would give the seed's v2: {needed_g2}")
assert np.allclose(needed_g2, [-0.76, -1.17])

# %% [markdown]
# The printed $v_2$ would need the gradient $[-0.76, -1.17]$, not $[-0.05, -0.1]$. And the wrong
# formula makes the loss grow when used in the update, read by position or by name (where it
# is exactly $-\nabla J$):

# %%
def momentum_with(grad_fn, steps, theta=(0.0, 1.0)):
    theta, v = np.array(theta), np.zeros(2)
    for _ in range(steps):
        v = beta * v + eta * grad_fn(theta)
        theta = theta - v
    return theta


swap = np.array([[0.0, 1.0], [1.0, 0.0]])
for name, fn in [("correct gradient", gradient),
                 ("seed's formula, by position", seed_formula),
                 ("seed's formula, by name", lambda th: swap @ seed_formula(th))]:
    print(f"{name:28s}: J after 0, 20, 200 steps = "
          + ", ".join(f"{loss_J(momentum_with(fn, k)):.4g}" for k in (0, 20, 200)))
assert loss_J(momentum_with(gradient, 200)) < loss_J(np.array([0.0, 1.0]))
assert loss_J(momentum_with(seed_formula, 200)) > 10 * loss_J(np.array([0.0, 1.0]))
assert loss_J(momentum_with(lambda th: swap @ seed_formula(th), 200)) > 10 * loss_J(np.array([0.0, 1.0]))

# %% [markdown]
# ## 5. The same in vectorised NumPy, and in PyTorch
#
# With the design matrix $X$ (columns of ones and $x$) the gradient is
# $\frac1m X^\top(X\theta - y)$. PyTorch's `torch.optim.SGD(params, lr, momentum)` keeps a buffer
# $b$ and does, with $\eta$ = `lr`, $\beta$ = `momentum` (PyTorch's documentation writes $\mu$;
# ours is the smallest eigenvalue),
#
# $$b_k = \beta\,b_{k-1} + g_k\ (b_1 = g_1), \qquad \theta^{(k)} = \theta^{(k-1)} - \eta\, b_k .$$
#
# Multiplied by $\eta$, with $v_k = \eta\, b_k$, this is the seed's form
# $v_k = \beta v_{k-1} + \eta\, g_k$, $\theta^{(k)} = \theta^{(k-1)} - v_k$, *if $\eta$ is the same
# at every step*: then the iterates agree and the seed's $v$ is $\eta$ times PyTorch's buffer
# (lesson 07 sets all the forms side by side). Section 3's two iterations again, in NumPy and
# PyTorch; Checks 5a compares 100 steps with `optimizers.run` and the course's velocity form:

# %%
X = np.column_stack([np.ones(m), x])


def momentum_numpy(theta, steps):
    """The seed's form, vectorised: v = beta v + eta X^T (X theta - y) / m; theta -= v."""
    theta, v = np.array(theta, dtype=float), np.zeros(2)
    history = []
    for _ in range(steps):
        v = beta * v + eta * X.T @ (X @ theta - y) / m
        theta = theta - v
        history.append((theta.copy(), v.copy()))
    return history


def momentum_torch(theta, steps):
    """torch.optim.SGD(lr=eta, momentum=beta) on the same loss; returns (theta, lr * buffer) per step."""
    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=eta, momentum=beta)
    xt, yt = torch.tensor(x), torch.tensor(y)
    history = []
    for _ in progress(range(steps), desc="torch.optim.SGD"):  # its first steps can take a few seconds
        opt.zero_grad()
        loss = ((p[0] + p[1] * xt - yt) ** 2).sum() / (2 * m)
        loss.backward()
        opt.step()
        buffer = opt.state[p]["momentum_buffer"]
        history.append((p.detach().numpy().copy(), eta * buffer.numpy().copy()))
    return history


numpy_run = momentum_numpy([0.0, 1.0], 100)
torch_run = momentum_torch([0.0, 1.0], 100)
for t in (1, 2):
    print(f"iteration {t}: by hand theta = {np.array(hand[t - 1][:2])}, v = {np.array(hand[t - 1][2:])}")
    print(f"             NumPy   theta = {numpy_run[t - 1][0]}, v = {numpy_run[t - 1][1]}")
    print(f"             PyTorch theta = {torch_run[t - 1][0]}, lr * buffer = {torch_run[t - 1][1]}")
    assert np.allclose(np.concatenate(torch_run[t - 1]), hand[t - 1], rtol=0, atol=1e-12)
    assert np.allclose(np.concatenate(numpy_run[t - 1]), hand[t - 1], rtol=0, atol=1e-12)

# %% [markdown]
# When the learning rate changes they part: a new $\eta$ rescales PyTorch's whole buffer of raw
# gradients, while the seed's $v$ keeps the old step sizes. Two steps, $\eta = 0.01$ then $0.001$:

# %%
theta_seed, v_seed = np.array([0.0, 1.0]), np.zeros(2)
p = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
opt = torch.optim.SGD([p], lr=0.01, momentum=beta)
for lr_t in (0.01, 0.001):
    v_seed = beta * v_seed + lr_t * gradient(theta_seed)
    theta_seed = theta_seed - v_seed
    opt.param_groups[0]["lr"] = lr_t
    opt.zero_grad()
    (((p[0] + p[1] * torch.tensor(x) - torch.tensor(y)) ** 2).sum() / (2 * m)).backward()
    opt.step()
schedule_gap = theta_seed - p.detach().numpy()
by_hand_gap = -beta * (0.01 - 0.001) * gradient(np.array([0.0, 1.0]))  # the seed keeps 0.01 * b_1, PyTorch 0.001 * b_1
print(f"after eta = 0.01, 0.001: the seed's form theta = {np.round(theta_seed, 7)}, "
      f"torch.optim.SGD theta = {np.round(p.detach().numpy(), 7)}")
print(f"difference {np.round(schedule_gap, 7)}; by hand -beta (0.01 - 0.001) g_1 = {np.round(by_hand_gap, 7)}")
assert np.allclose(schedule_gap, by_hand_gap, rtol=0, atol=1e-15) and np.abs(schedule_gap).min() > 1e-4

# %% [markdown]
# ## 6. The answer in closed form, and how fast the methods reach it
#
# $J$ is a quadratic in $\theta$: $J = \frac{1}{2m}\|X\theta - y\|^2$. Its gradient
# $\frac1m X^\top(X\theta - y)$ vanishes at the solution of the **normal equations**
# $X^\top X\,\theta^\star = X^\top y$. For a line they have the familiar solution
# $\theta_1^\star = \sum(x^{(i)} - \bar x)(y^{(i)} - \bar y)/\sum(x^{(i)} - \bar x)^2$,
# $\theta_0^\star = \bar y - \theta_1^\star\bar x$. Four ways to the same numbers:

# %%
normal = np.linalg.solve(X.T @ X, X.T @ y)
lstsq = np.linalg.lstsq(X, y, rcond=None)[0]
slope = np.sum((x - x.mean()) * (y - y.mean())) / np.sum((x - x.mean()) ** 2)
by_formula = np.array([y.mean() - slope * x.mean(), slope])
print(f"normal equations {normal}, lstsq {lstsq}, formula {by_formula}, surface.minima {surface.minima[0]}")
print(f"minimum loss J* = {loss_J(normal):.6f}, gradient there below 1e-14: "
      f"{bool(np.abs(gradient(normal)).max() < 1e-14)}")
for other in (lstsq, by_formula, surface.minima[0]):
    assert np.allclose(normal, other, atol=1e-12)
assert np.allclose(normal, [0.04, 1.04]) and np.allclose(gradient(normal), 0, atol=1e-14)
theta_star = normal

# %% [markdown]
# **The Hessian and its condition number.** The Hessian of $J$ is constant,
# $H = \frac1m X^\top X = \begin{pmatrix} 1 & \bar x\\ \bar x & \overline{x^2}\end{pmatrix}$
# $= \begin{pmatrix} 1 & 1.5\\ 1.5 & 3.5\end{pmatrix}$ here. Lessons 01, 03 and 04 turn its
# eigenvalues $\mu \le L$ into rates: gradient descent at best $(\kappa-1)/(\kappa+1)$, momentum
# at best $(\sqrt\kappa-1)/(\sqrt\kappa+1)$; at the seed's $\eta = 0.01$, $\beta = 0.9$, gradient
# descent $1 - \eta\mu$ and momentum $\sqrt{\beta}$ (complex roots for both eigenvalues:
# $\beta > (1 - \sqrt{\eta\lambda})^2$).

# %%
H = X.T @ X / m
mu, L = np.linalg.eigvalsh(H)
kappa = L / mu
print(f"H = {H.tolist()}, eigenvalues mu = {mu:.6f}, L = {L:.6f}, kappa = {kappa:.4f}")
assert np.allclose(H, surface.hessian) and np.allclose(H, [[1, 1.5], [1.5, 3.5]])

lr_gd, rate_gd = theory.optimal_gd(mu, L)
lr_mom, beta_mom, rate_mom = theory.optimal_momentum(mu, L)
settings = {  # name: (method, lr, beta, predicted rate)
    "GD, seed's eta = 0.01": ("gd", eta, 0.0, theory.gd_rate(eta, [mu, L])),
    "momentum, seed's (0.01, 0.9)": ("momentum", eta, beta, theory.momentum_rate(eta, beta, [mu, L])),
    "Nesterov, seed's (0.01, 0.9)": ("nesterov", eta, beta, theory.nesterov_rate(eta, beta, [mu, L])),
    f"GD, optimal eta = {lr_gd:.4f}": ("gd", lr_gd, 0.0, rate_gd),
    f"momentum, optimal ({lr_mom:.4f}, {beta_mom:.4f})": ("momentum", lr_mom, beta_mom, rate_mom),
}
print(f"checks: 1 - eta*mu = {1 - eta * mu:.6f}, sqrt(beta) = {np.sqrt(beta):.6f}, "
      f"(kappa-1)/(kappa+1) = {(kappa - 1) / (kappa + 1):.6f}, "
      f"(sqrt(kappa)-1)/(sqrt(kappa)+1) = {(np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1):.6f}")
assert np.isclose(settings["GD, seed's eta = 0.01"][3], 1 - eta * mu)
critical = {name: (1 - np.sqrt(eta * lam)) ** 2 for name, lam in [("mu", mu), ("L", L)]}
print(f"complex roots need beta > (1 - sqrt(eta lambda))^2: {critical['mu']:.4f} for mu, {critical['L']:.4f} for L")
assert beta > max(critical.values())

# %% [markdown]
# Now measure: the rate $(d_{k_2}/d_{k_1})^{1/(k_2-k_1)}$ of the distance $d_k$ to $\theta^\star$
# (at the optimal momentum pair, a double root, $d_k$ behaves like $k\rho^k$ and we divide $k$
# out), and the steps to $d_k < 10^{-8}$ against $\ln(10^{-8}/d_0)/\ln\rho$, which assumes
# $d_k = d_0\rho^k$.

# %%
d0 = np.linalg.norm(np.array([0.0, 1.0]) - theta_star)
windows = {"gd": (1000, 3000), "momentum": (50, 250), "nesterov": (50, 250)}
runs, step_counts, predicted_counts = {}, {}, {}
print(f"{'':42s} predicted rate  measured rate  steps to 1e-8 (predicted)")
for name, (method, lr, beta_k, rate) in settings.items():
    run = optimizers.run(surface, [0.0, 1.0], method, lr=lr, momentum=beta_k, steps=5000)
    runs[name] = run
    d = np.linalg.norm(run.points - theta_star, axis=1)
    k1, k2 = windows[method] if lr == eta else (10, 40)
    double_root = method == "momentum" and lr != eta
    measured = ((d[k2] / (k2 if double_root else 1)) / (d[k1] / (k1 if double_root else 1))) ** (1 / (k2 - k1))
    steps = step_counts[name] = int(np.argmax(d < 1e-8))
    predicted_steps = predicted_counts[name] = np.log(1e-8 / d0) / np.log(rate)
    print(f"{name:42s} {rate:12.6f} {measured:14.6f} {steps:10d} ({predicted_steps:6.0f})")
    assert abs(np.log(measured) / np.log(rate) - 1) < 0.05  # within 5 % in ln(rho), about 5 % in steps
    assert double_root or abs(steps / predicted_steps - 1) < 0.1
seed_gd, seed_mom = "GD, seed's eta = 0.01", "momentum, seed's (0.01, 0.9)"
opt_gd, opt_mom = list(settings)[3:]
loss_per_step = {name: 1 - settings[name][3] for name in (seed_gd, seed_mom)}
predicted_ratio = np.log(settings[seed_mom][3]) / np.log(settings[seed_gd][3])
measured_ratio = step_counts[seed_gd] / step_counts[seed_mom]
print(f"distance lost per step at the seed's settings: GD {100 * loss_per_step[seed_gd]:.1f} %, "
      f"momentum {100 * loss_per_step[seed_mom]:.1f} %")
print(f"momentum against GD at the seed's settings: ln(rate_momentum)/ln(rate_GD) = {predicted_ratio:.1f}, "
      f"ratio of the measured step counts {measured_ratio:.1f}")
print(f"eta * mu = {eta * mu:.6f}")
gain_gd, gain_mom = step_counts[seed_gd] / step_counts[opt_gd], step_counts[seed_mom] / step_counts[opt_mom]
print(f"tuning: GD {step_counts[seed_gd]} -> {step_counts[opt_gd]} steps ({gain_gd:.0f}x), "
      f"momentum {step_counts[seed_mom]} -> {step_counts[opt_mom]} steps ({gain_mom:.1f}x)")
off = {name: step_counts[name] / predicted_counts[name] - 1 for name in settings}
print("steps measured / predicted - 1: " + ", ".join(f"{name} {100 * o:+.0f} %" for name, o in off.items()))

# %% [markdown]
# At the seed's settings gradient descent loses 0.3 % of its distance per step (the flat
# direction, $\eta\mu = 0.003$), momentum 5.1 %: 17 times fewer steps, within 10 % of the ratio
# of the logarithms of the rates (17.7). The optimal constants help gradient descent most: 110
# steps instead of 4,858 (44 times fewer), momentum 36 instead of 285 (7.9 times) (Checks 6b).
# The step count formula holds within 10 % for four runs; for gradient descent it overestimates,
# because not all of $d_0$ lies along the flat direction (Checks 6a). At momentum's optimal pair
# it fails: 36 steps, not 28.5. There both eigenvalues give a double root $\sigma$, so each
# eigen-component is $(c_0 + c_1k)\,\sigma^k$, not $c_0 \sigma^k$; this closed form, evaluated
# without a run, gives the 36 steps (Checks 6c).
#
# **Nesterov needs its own constants.** Its look-ahead changes the 2x2 iteration matrix
# (lesson 05): at the heavy-ball optimum $(\eta, \beta) = (0.594, 0.336)$ its spectral radius
# is above 1. Its best pair, which a grid scan confirms (Checks 6d), is $\eta = 4/(3L+\mu)$,
# $\beta = (\sqrt{3\kappa+1}-2)/(\sqrt{3\kappa+1}+2)$, rate $1 - 2/\sqrt{3\kappa+1}$
# (L. Lessard, B. Recht and A. Packard, *Analysis and design of optimization algorithms via
# integral quadratic constraints*, SIAM J. Optim. 26(1), 2016, Proposition 1):

# %%
print(f"heavy-ball optimum (lr, beta) = ({lr_mom:.3f}, {beta_mom:.3f}); "
      f"Nesterov's rate there: {theory.nesterov_rate(lr_mom, beta_mom, [mu, L]):.3f}")
assert (round(lr_mom, 3), round(beta_mom, 3)) == (0.594, 0.336)
assert theory.nesterov_rate(lr_mom, beta_mom, [mu, L]) > 1
assert optimizers.run(surface, [0.0, 1.0], "nesterov", lr=lr_mom, momentum=beta_mom, steps=200).diverged
root = np.sqrt(3 * kappa + 1)
lr_nes, beta_nes, rate_nes = 4 / (3 * L + mu), (root - 2) / (root + 2), 1 - 2 / root  # Lessard et al.
print(f"Nesterov's best (lr, beta) = ({lr_nes:.3f}, {beta_nes:.3f}), rate {rate_nes:.3f}; "
      f"heavy ball's best rate {rate_mom:.3f}, gradient descent's {rate_gd:.3f}")

# %% [markdown]
# **The loss surface:** left, each method with its best constants from a far start; right,
# the seed's settings from $(0, 1)$.

# %%
far_start = surface.start
far = {
    "gd": optimizers.run(surface, far_start, "gd", lr=lr_gd, steps=60),
    "momentum": optimizers.run(surface, far_start, "momentum", lr=lr_mom, momentum=beta_mom, steps=60),
    "nesterov": optimizers.run(surface, far_start, "nesterov", lr=lr_nes, momentum=beta_nes, steps=60),
}
near = {method: optimizers.run(surface, [0.0, 1.0], method, lr=eta,
                               momentum=0.0 if method == "gd" else beta, steps=300)
        for method in ("gd", "momentum", "nesterov")}
zoom = dataclasses.replace(surface, xlim=(-0.02, 0.08), ylim=(0.99, 1.075))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.6))
plotting.contour(ax1, surface)
far_labels = {"gd": rf"gradient descent, $\eta$ = {lr_gd:.3f}",
              "momentum": rf"momentum, $(\eta, \beta)$ = ({lr_mom:.3f}, {beta_mom:.3f})",
              "nesterov": rf"Nesterov, $(\eta, \beta)$ = ({lr_nes:.3f}, {beta_nes:.3f})"}
for method, run in far.items():
    plotting.path(ax1, run.points, method, label=far_labels[method], markersize=2)
ax1.set_title(rf"best constants per method, far start, 60 steps; $\kappa$ = {kappa:.1f}", fontsize=9.5)
plotting.contour(ax2, zoom)
for method, run in near.items():
    plotting.path(ax2, run.points, method, markersize=1.5)
ax2.set_title(r"the seed's $\eta = 0.01$, $\beta = 0.9$ from $(0, 1)$, 300 steps", fontsize=9.5)
for ax in (ax1, ax2):
    ax.set_xlabel(r"$\theta_0$")
    ax.set_ylabel(r"$\theta_1$")
    ax.legend(loc="upper right", fontsize=9.5)
fig.tight_layout()
plt.show()

# %%
fig, ax = plt.subplots(figsize=(8, 3.8))
k = np.arange(1001)
labels = {"GD, seed's eta = 0.01": r"gradient descent, $\eta = 0.01$",
          "momentum, seed's (0.01, 0.9)": r"momentum, $\eta = 0.01$, $\beta = 0.9$",
          "Nesterov, seed's (0.01, 0.9)": r"Nesterov, $\eta = 0.01$, $\beta = 0.9$"}
for name, label in labels.items():
    method, _, _, rate = settings[name]
    d = np.linalg.norm(runs[name].points[:1001] - theta_star, axis=1)
    ax.semilogy(k, d, color=plotting.METHOD_COLORS[method], linestyle=plotting.METHOD_LINESTYLES[method],
                label=label)
    ax.semilogy(k, d0 * rate**k, ":", color=plotting.METHOD_COLORS[method], linewidth=1)
ax.plot([], [], "k:", linewidth=1, label=r"$d_0\,\rho^k$ with the predicted rate $\rho$")
ax.set_ylim(1e-16, 1)
ax.set_xlabel("step $k$")
ax.set_ylabel(r"$\|\theta^{(k)} - \theta^\star\|$ (log scale)")
ax.set_title("distance to the least-squares solution")
ax.legend(loc="center right", fontsize=8)
plt.show()

# %% [markdown]
# ## 7. Minibatch noise on this problem
#
# A minibatch gradient (lesson 02) uses some of the four terms. Drawn uniformly it is unbiased:
# averaged over all minibatches of a size it is the full gradient, for any data by symmetry
# (Checks 7b tests `minibatch_gradient` so). A "minibatch" of all four points drawn without
# replacement is the full gradient: no noise. But at $\theta^\star$ the single-point
# gradients $e^{(i)}(1, x^{(i)})$ are not zero, so SGD with a constant step keeps jittering.

# %%
def minibatch_gradient(theta, idx):
    e = theta[0] + theta[1] * x[idx] - y[idx]
    return np.array([e.mean(), (e * x[idx]).mean()])


per_point = np.array([minibatch_gradient(theta_star, [i]) for i in range(m)])
print("single-point gradients at theta*:\n", per_point)
assert np.all(np.abs(per_point).max(axis=1) > 0.1)

# %%
lr_sgd, steps_sgd = 0.05, 3000


def sgd_path(gen):
    """SGD with one point per step (B = 1), constant eta, from (0, 1); the points drawn by ``gen``."""
    theta, path = np.array([0.0, 1.0]), [np.array([0.0, 1.0])]
    for _ in range(steps_sgd):
        theta = theta - lr_sgd * minibatch_gradient(theta, gen.integers(0, m, size=1))
        path.append(theta)
    return np.array(path)


rng = np.random.default_rng(0)
paths_sgd = [sgd_path(rng)] + [sgd_path(np.random.default_rng(seed)) for seed in range(1, 5)]
path_sgd = paths_sgd[0]  # drawn below
path_gd = optimizers.run(surface, [0.0, 1.0], "gd", lr=lr_sgd, steps=steps_sgd).points
d_gd = np.linalg.norm(path_gd - theta_star, axis=1)
print(f"GD, eta = {lr_sgd}: final distance below 1e-8: {bool(d_gd[-1] < 1e-8)}")
print("SGD, B = 1, eta = 0.05; distances to theta* (medians over steps 1001-2000 and 2001-3000):")
print("seed   median, 1001-2000   median, 2001-3000   average of iterates 2001-3000   median / average's")
tail = []
for seed, path in enumerate(paths_sgd):
    d = np.linalg.norm(path - theta_star, axis=1)
    d_avg = np.linalg.norm(path[-1000:].mean(axis=0) - theta_star)
    tail.append((np.median(d[1001:2001]), np.median(d[-1000:]), d_avg))
    print(f"{seed:4d}   {tail[-1][0]:17.3f}   {tail[-1][1]:17.3f}   {d_avg:29.3f}   {tail[-1][1] / d_avg:18.1f}")
tail = np.array(tail)
d_sgd = np.linalg.norm(path_sgd - theta_star, axis=1)
tail_average = path_sgd[-1000:].mean(axis=0)
assert d_gd[-1] < 1e-8 and np.all(tail[:, 1] > 0.05)  # GD converges; SGD's typical distance stays above 0.05
assert np.all(np.abs(tail[:, 1] / tail[:, 0] - 1) < 0.25)  # and does not shrink from one 1000 steps to the next
assert np.all(tail[:, 1] / tail[:, 2] > 2)  # on every seed the average is more than twice as close

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.0), gridspec_kw={"width_ratios": [1.4, 1]})
noise_zoom = dataclasses.replace(surface, xlim=(-0.2, 0.28), ylim=(0.86, 1.22))
plotting.contour(ax1, noise_zoom)
ax1.plot(path_sgd[:, 0], path_sgd[:, 1], "-", color="#CC79A7", linewidth=0.4, alpha=0.6,
         label=rf"SGD, $B$ = 1, $\eta$ = {lr_sgd} (seed 0)")
plotting.path(ax1, path_gd, "gd", label=rf"gradient descent, $\eta$ = {lr_sgd}", markersize=1)
ax1.plot(*tail_average, "D", color="#E69F00", markeredgecolor="k", label="average of the last 1000 SGD iterates")
ax1.set_xlabel(r"$\theta_0$")
ax1.set_ylabel(r"$\theta_1$")
ax1.set_title("SGD keeps jittering around the minimum")
ax2.semilogy(d_sgd, color="#CC79A7", linewidth=0.6, alpha=0.5, label="SGD, $B$ = 1 (seed 0)")
d_seeds = np.array([np.linalg.norm(path - theta_star, axis=1) for path in paths_sgd])
running = np.median(np.lib.stride_tricks.sliding_window_view(d_seeds, 100, axis=1), axis=-1)  # per seed, 100 steps
band = ax2.fill_between(np.arange(running.shape[1]) + 50, running.min(axis=0), running.max(axis=0),
                        color="#882255", alpha=0.45, linewidth=0)
ax2.semilogy(d_gd, color=plotting.METHOD_COLORS["gd"], linestyle=plotting.METHOD_LINESTYLES["gd"],
             label="gradient descent")
ax2.set_ylim(1e-12, 2)
ax2.set_xlabel("step $k$")
ax2.set_ylabel(r"$\|\theta^{(k)} - \theta^\star\|$")
ax2.set_title(r"distance to $\theta^\star$: gradient descent converges, SGD does not")
# one key under both panels (the cloud fills the left one): the left panel's entries, then the band
handles, labels = ax1.get_legend_handles_labels()
handles.append(band)
labels.append(f"SGD, median over 100 steps:\nrange over the {len(paths_sgd)} seeds (right)")
key = fig.legend(handles, labels, loc="lower center", ncols=3, fontsize=10)
for handle, text in zip(key.legend_handles, key.get_texts(), strict=True):
    if text.get_text().startswith("SGD, $B$"):
        handle.set(linewidth=1.5, alpha=1.0)  # the SGD path's line, visible in the key
fig.tight_layout(rect=(0, 0.16, 1, 1))
plt.show()

# %% [markdown]
# The cloud is about 1.7 times longer along the *steep* eigenvector, not along the flat valley:
# the single-point gradients vary 36 times more along the steep one, which outweighs its 14
# times larger curvature (Checks 7a). As in lesson 02, the average of the iterates lands more
# than twice as close to $\theta^\star$ as the median iterate, on all five seeds.
#
# ## 8. Explore
#
# The explorer's surface is 40 points (`surfaces.regression_data()`), a bowl like
# ours ($\kappa$ = 15.4 against 14.1); its $f$ is our $J$, its $x_k$ our $\theta^{(k)}$. Try the
# seed's $\eta = 0.01$, $\beta = 0.9$; then, at $\beta = 0$, find the $\eta$ where gradient descent
# stops converging and compare with $2/L$, gradient descent's stability limit
# (lesson 01; at $2/L$ itself the steep component flips sign for ever, Checks 8a).

# %%
explorer_surface = surfaces.linear_regression()
mu40, L40 = np.linalg.eigvalsh(explorer_surface.hessian)
print(f"explorer's surface: mu = {mu40:.4f}, L = {L40:.4f}, kappa = {L40 / mu40:.1f}, 2/L = {2 / L40:.4f}")
assert round(L40 / mu40, 1) == 15.4 and round(kappa, 1) == 14.1

# %%
TrajectoryExplorer(surface="linear_regression", lr=0.01, momentum=0.9, steps=300)

# %% [markdown]
# ## Summary
#
# * For $J = \frac{1}{2m}\sum(\theta_0 + \theta_1x^{(i)} - y^{(i)})^2$ the gradient is
#   $\big(\frac1m\sum e^{(i)},\ \frac1m\sum e^{(i)}x^{(i)}\big)$ with a plus sign, checked
#   against finite differences, the library and autograd.
# * In the seed's example $v_1$ is right despite a sign-flipped, reordered gradient formula
#   (the gradient is assumed); then a scalar stands where the vector $\theta$ belongs
#   ($[1.001, 1.002]$ should be $[0.001, 1.002]$), and an arithmetic slip in $v_2$
#   ($[-0.0085, -0.0135]$ should be $[-0.0014, -0.0028]$), so $\theta^{(2)}$ should be
#   $[0.0024, 1.0048]$, not $[1.0095, 1.0155]$.
# * Recomputing, checking dimensions, a sign test and a magnitude bound
#   ($|v_k| \le \beta|v_{k-1}| + \eta|g_k|$) catch each error. The two assumed gradients,
#   one step $-v_1$ apart, would need a mean of $(x^{(i)})^2$ below the squared mean of $x^{(i)}$.
# * With a constant learning rate the seed's form, `torch.optim.SGD`, `optimizers.run` and the
#   course's velocity form agree to $10^{-12}$ over 100 steps (Checks 5a); the seed's $v$ is
#   $\eta$ times PyTorch's buffer and minus the course's velocity. With $\eta$ = 0.01, then
#   0.001, they part.
# * The normal equations give $\theta^\star = (0.04, 1.04)$; the Hessian's eigenvalues
#   ($\kappa \approx 14$) predict the rates measured from $(0, 1)$: $1-\eta\mu$ for
#   gradient descent and $\sqrt\beta$ for momentum at the seed's settings, where momentum
#   needs 17 times fewer steps to reach $10^{-8}$. The step count $\ln(10^{-8}/d_0)/\ln\rho$
#   is within 10 % of the measured one for four of the five runs; at momentum's optimal pair
#   (a double root) the run needs 26 % more (36 steps, not 28.5), as the closed form
#   $(c_0 + c_1k)\,\sigma^k$ predicts (Checks 6c).
# * Minibatch gradients are unbiased, but with a constant step (B = 1, $\eta = 0.05$) SGD
#   keeps jittering around $\theta^\star$ on every one of five seeds; the average of its
#   last 1000 iterates is more than twice as close as the median iterate.

# %% [markdown]
# ## Checks
#
# Verification a student need not read, in the order of the sections it checks.
#
# ### Checks for section 3: every reading of the seed's gradients
#
# **3a.** The same two equations for every way of reading the seed's vectors: in the order
# $(\theta_0, \theta_1)$ or, as its formula lists them, $(\theta_1, \theta_0)$; as the gradient
# or, as its formula's sign says, minus the gradient. None is possible one correct step after
# $g_1$. The seed itself takes its second gradient at its own printed $\theta^{(1)} = [1.001,
# 1.002]$ (wrong, section 4), a step of $(1.001, 0.002)$, and there data *can* give it (last
# line: $\bar x = -475.5$, $\overline{x^2} = 238{,}037.75 \ge \bar x^2 = 226{,}100.25$). So the
# seed's second gradient fits only its own wrong iterate.

# %%
flip = np.array([[0.0, 1.0], [1.0, 0.0]])  # (theta1, theta0) -> (theta0, theta1)
readings = {}
for order, P in [("(theta0, theta1)", np.eye(2)), ("(theta1, theta0)", flip)]:
    for sign, s_ in [("the gradient", 1.0), ("minus the gradient", -1.0)]:
        step = P @ -(eta * seed_gradients[0])  # theta^(1) - theta^(0) = -v_1
        change = s_ * P @ (seed_gradients[1] - seed_gradients[0])  # the change of the gradient
        readings[f"order {order}, {sign}"] = moments_from(step, change)
readings["seed's printed theta^(1) = [1.001, 1.002]"] = moments_from(
    np.array([1.001, 1.002]) - [0.0, 1.0], seed_gradients[1] - seed_gradients[0])
print(f"{'reading of the seed':42s} {'mean x':>9s} {'mean x^2':>11s} {'(mean x)^2':>11s}  data possible")
for name, (xbar, x2bar) in readings.items():
    print(f"{name:42s} {xbar:9.2f} {x2bar:11.2f} {xbar**2:11.2f}  {x2bar >= xbar**2}")
possible = {name: x2bar >= xbar**2 for name, (xbar, x2bar) in readings.items()}
assert np.allclose(readings["order (theta0, theta1), the gradient"], [24.5, 37.75])
assert not any(list(possible.values())[:4]) and possible["seed's printed theta^(1) = [1.001, 1.002]"]
assert np.allclose(readings["seed's printed theta^(1) = [1.001, 1.002]"], [-475.5, 238_037.75])

# %% [markdown]
# ### Checks for section 5: 100 steps in four implementations
#
# **5a.** The seed's form in NumPy against `torch.optim.SGD`, `optimizers.run` and the course's
# velocity form $v_k = \beta v_{k-1} - \eta g_k$, $\theta^{(k)} = \theta^{(k-1)} + v_k$, over
# 100 steps: the iterates agree to $10^{-12}$, and the seed's $v$ is minus the course's.

# %%
library_run = optimizers.run(surface, [0.0, 1.0], "momentum", lr=eta, momentum=beta, steps=100)
diff_hand = max(np.abs(np.array(hand[t - 1]) - np.concatenate(numpy_run[t - 1])).max() for t in (1, 2))
diff_torch = max(np.abs(np.concatenate(a) - np.concatenate(b)).max() for a, b in zip(numpy_run, torch_run, strict=True))
diff_lib = np.abs(np.array([s[0] for s in numpy_run]) - library_run.points[1:]).max()

theta_c, v_c, course_run = np.array([0.0, 1.0]), np.zeros(2), []  # the course's velocity: added to theta
for _ in range(100):
    v_c = beta * v_c - eta * gradient(theta_c)
    theta_c = theta_c + v_c
    course_run.append((theta_c, v_c))
diff_course = max(np.abs(a[0] - c[0]).max() for a, c in zip(numpy_run, course_run, strict=True))
sum_v = max(np.abs(a[1] + c[1]).max() for a, c in zip(numpy_run, course_run, strict=True))  # seed's v + course's v
print(f"largest differences below 1e-12: hand vs NumPy (2 steps) {diff_hand < 1e-12}, "
      f"NumPy vs PyTorch (100 steps) {diff_torch < 1e-12}, NumPy vs optimizers.run (100 steps) {diff_lib < 1e-12}, "
      f"NumPy vs the course's velocity form (100 steps) {diff_course < 1e-12}")
print(f"the seed's v plus the course's v, largest over 100 steps, below 1e-12: {sum_v < 1e-12} "
      f"(after 20 steps: the seed's v = {np.round(numpy_run[19][1], 6)}, "
      f"the course's {np.round(course_run[19][1], 6)})")
assert diff_hand < 1e-12 and diff_torch < 1e-12 and diff_lib < 1e-12 and diff_course < 1e-12 and sum_v < 1e-12
assert np.abs(numpy_run[19][1]).min() > 1e-3  # v is not zero, so "minus" says something

# %% [markdown]
# ### Checks for section 6: step counts, the double root, Nesterov's constants
#
# **6a.** At the seed's $\eta$ the formula $\ln(10^{-8}/d_0)/\ln\rho$ overestimates gradient
# descent's step count a little, because not all of $d_0$ lies along the slowest direction:
# with only the start's component along the flat eigenvector in place of $d_0$ it predicts the
# count to within a step.

# %%
flat_part = abs(np.linalg.eigh(H)[1][:, 0] @ (np.array([0.0, 1.0]) - theta_star))
flat_prediction = np.log(1e-8 / flat_part) / np.log(settings[seed_gd][3])
print(f"GD at the seed's eta, from the start's flat component {flat_part:.4f} (of d0 = {d0:.4f}): "
      f"{flat_prediction:.0f} steps predicted, {step_counts[seed_gd]} measured")
assert abs(flat_prediction - step_counts[seed_gd]) <= 1

# %% [markdown]
# **6b.** The numbers section 6 quotes from its measurement: the distance lost per step, the
# ratio of step counts, the gains from tuning and how far each step count is from the formula.

# %%
assert round(100 * loss_per_step[seed_gd], 1) == 0.3 and round(100 * loss_per_step[seed_mom], 1) == 5.1
assert round(measured_ratio) == 17 and abs(predicted_ratio / measured_ratio - 1) < 0.1
assert round(predicted_ratio, 1) == 17.7 and round(eta * mu, 3) == 0.003
assert step_counts[seed_gd] < predicted_counts[seed_gd]  # the formula overestimates for GD (6a: why)
assert (step_counts[opt_gd], step_counts[opt_mom]) == (110, 36) and step_counts[opt_mom] > predicted_counts[opt_mom]
assert (step_counts[seed_gd], step_counts[seed_mom]) == (4858, 285)
assert round(gain_gd) == 44 and round(gain_mom, 1) == 7.9  # "gradient descent most"
assert all(abs(o) < 0.1 for name, o in off.items() if name != opt_mom) and round(100 * off[opt_mom]) == 26
print("section 6's quoted numbers: all asserted")

# %% [markdown]
# **6c.** The double root in closed form, without a run: along an eigenvector of $H$
# (eigenvalue $\lambda$) the heavy ball's eigen-coordinate $\tilde x_k$ obeys
# $\tilde x_{k+1} = (1 + \beta - \eta\lambda)\tilde x_k - \beta\tilde x_{k-1}$; with the double
# root $\sigma = (1 + \beta - \eta\lambda)/2$ its solution is $(c_0 + c_1k)\,\sigma^k$ with
# $c_0 = \tilde x_0$, and $\tilde x_1 = (1 - \eta\lambda)\tilde x_0$ ($v_0 = 0$) fixes
# $c_1 = c_0((1 - \eta\lambda)/\sigma - 1)$. It gives the 36 measured steps.

# %%
lam_H, Q_H = np.linalg.eigh(H)
xt0 = Q_H.T @ (np.array([0.0, 1.0]) - theta_star)
sigma_double = (1 + beta_mom - lr_mom * lam_H) / 2
assert np.allclose((1 + beta_mom - lr_mom * lam_H) ** 2, 4 * beta_mom)  # a double root for both eigenvalues
B_double = xt0 * ((1 - lr_mom * lam_H) / sigma_double - 1)
k_all = np.arange(200)
d_closed = np.linalg.norm((xt0[:, None] + B_double[:, None] * k_all) * sigma_double[:, None] ** k_all, axis=0)
closed_steps = int(np.argmax(d_closed < 1e-8))
print(f"optimal momentum pair: roots {np.round(sigma_double, 6)} (|sigma| = rho = {rate_mom:.6f}); steps to 1e-8 from "
      f"(c_0 + c_1 k) sigma^k: {closed_steps}, measured {step_counts[opt_mom]}, d_0 rho^k: {predicted_counts[opt_mom]:.1f}")
assert closed_steps == step_counts[opt_mom]
assert round(predicted_counts[opt_mom], 1) == 28.5

# %% [markdown]
# **6d.** Nesterov's best constants: a grid scan of `theory.nesterov_rate` (the worse rate over
# $\mu$ and $L$, the spectral radius of its 2x2 matrix) against Lessard et al.'s closed form.

# %%
lr_grid = np.linspace(0.01, 0.5, 491)[:, None]
beta_grid = np.linspace(0.0, 0.95, 381)[None, :]
nesterov_rates = theory.nesterov_rate(lr_grid, beta_grid, [mu, L])  # H has just these two
i, j = np.unravel_index(nesterov_rates.argmin(), nesterov_rates.shape)
lr_scan, beta_scan, rate_scan = lr_grid[i, 0], beta_grid[0, j], nesterov_rates[i, j]
print(f"grid optimum: lr = {lr_scan:.3f}, beta = {beta_scan:.3f}, rate {rate_scan:.4f};  closed form: "
      f"lr = {lr_nes:.4f}, beta = {beta_nes:.4f}, rate {rate_nes:.4f}")
assert abs(lr_scan - lr_nes) < 2e-3 and abs(beta_scan - beta_nes) < 3e-3
assert abs(rate_scan - rate_nes) < 2e-3 and rate_mom < rate_nes < rate_gd
assert (round(lr_nes, 3), round(beta_nes, 3), round(rate_nes, 3)) == (0.310, 0.534, 0.696)

# %% [markdown]
# ### Checks for section 7: which way the cloud points
#
# **7a.** Lesson 02's 1-D model gives the spread along each
# eigenvector $u_i$ of $H$: about $\eta \sigma_{\xi,i}^2/(\lambda_i(2 - \eta\lambda_i))$, where
# $\sigma_{\xi,i}^2$ is the variance of the single-point gradients along $u_i$ (the gradient noise's
# variance, lesson 02's $\sigma_\xi^2$, in that direction). A small curvature
# widens the spread, but so does a large noise. By that formula the cloud lies along the flat
# eigenvector only if the noise ratio $\sigma_{\xi,2}^2/\sigma_{\xi,1}^2$ (steep over flat) is below
# $\lambda_2(2-\eta\lambda_2)/(\lambda_1(2-\eta\lambda_1))$, a little less than the curvature
# ratio. Here the noise wins: along the steep eigenvector the single-point gradients vary 36
# times more than along the flat one, which outweighs the 14 times larger curvature. Measure
# the spread with 4000 independent runs, and compare with that formula and with lesson 02's exact one (which adds the noise from
# sampling the curvature, $a_ia_i^\top$, as well):

# %%
lam_H, Q_H = np.linalg.eigh(H)
Q_H = Q_H * np.sign(Q_H[0])  # fix the eigenvectors' signs: first component positive
residual_star = X @ theta_star - y
S_star = (residual_star[:, None] * X).T @ (residual_star[:, None] * X) / m  # covariance at theta*
s2 = np.diag(Q_H.T @ S_star @ Q_H)
additive = lr_sgd * s2 / (lam_H * (2 - lr_sgd * lam_H))
M = np.eye(2) - lr_sgd * H
curvature = np.mean([np.kron(np.outer(a, a), np.outer(a, a)) for a in X], axis=0)
C = np.linalg.solve(np.eye(4) - np.kron(M, M) - lr_sgd**2 * (curvature - np.kron(H, H)),
                    (lr_sgd**2 * S_star).reshape(-1)).reshape(2, 2)
exact = np.diag(Q_H.T @ C @ Q_H)

thetas = np.tile(theta_star, (4000, 1))
for _ in range(800):  # 800 steps: 8 / (eta * mu) would be 538
    i = rng.integers(0, m, size=len(thetas))
    e = thetas[:, 0] + thetas[:, 1] * x[i] - y[i]
    thetas = thetas - lr_sgd * np.column_stack([e, e * x[i]])
measured = ((thetas - theta_star) @ Q_H).var(axis=0)
for k, name in enumerate(["flat ", "steep"]):
    print(f"{name} eigenvector {Q_H[:, k]}, lambda = {lam_H[k]:.4f}, sigma_xi^2 = {s2[k]:.4f}: variance measured "
          f"{measured[k]:.5f}, 1-D formula {additive[k]:.5f}, exact {exact[k]:.5f}")
    assert abs(measured[k] / exact[k] - 1) < 0.08 and abs(measured[k] / additive[k] - 1) < 0.25
along_flat_below = lam_H[1] * (2 - lr_sgd * lam_H[1]) / (lam_H[0] * (2 - lr_sgd * lam_H[0]))
print(f"noise ratio sigma_xi^2 steep/flat = {s2[1] / s2[0]:.1f}, curvature ratio = {lam_H[1] / lam_H[0]:.1f}; "
      f"the 1-D formula puts the cloud along the flat eigenvector only for a noise ratio below {along_flat_below:.1f}")
print(f"the cloud is {np.sqrt(measured[1] / measured[0]):.2f} times longer along the steep eigenvector "
      f"(exact: {np.sqrt(exact[1] / exact[0]):.2f})")
assert round(s2[1] / s2[0]) == 36 and round(lam_H[1] / lam_H[0]) == 14 and f"{along_flat_below:.1f}" == "12.7"
assert s2[1] / s2[0] > along_flat_below and measured[1] > measured[0]  # so the cloud lies along the steep one
assert round(np.sqrt(measured[1] / measured[0]), 1) == round(np.sqrt(exact[1] / exact[0]), 1) == 1.7

# %% [markdown]
# So the cloud is about 1.7 times longer along the *steep* eigenvector: the picture of
# "noise spreads out along the flat valley" needs the noise ratio to be smaller than about the
# curvature ratio (below 12.7 here; it is 36). Equal noise in every direction is not needed,
# but per-sample gradients can be far from it, as here.

# %% [markdown]
# **7b.** `minibatch_gradient` averaged over all minibatches of each size $B$ is the full gradient.

# %%
theta = np.array([0.0, 1.0])
for B in (1, 2, 3, 4):
    avg = np.mean([minibatch_gradient(theta, list(c)) for c in combinations(range(m), B)], axis=0)
    print(f"B = {B}: average over all {len(list(combinations(range(m), B)))} minibatches {avg}, "
          f"full gradient {gradient(theta)}")
    assert np.allclose(avg, gradient(theta), atol=1e-15)  # B = 4: the one minibatch is the full gradient

# %% [markdown]
# ### Checks for section 8: gradient descent at 2/L
#
# **8a.** On the explorer's surface, gradient descent at $0.99\cdot 2/L$ converges, at $2/L$ the
# steep component flips sign for ever (the loss stays put), at $1.01\cdot 2/L$ it diverges.

# %%
stable = optimizers.run(explorer_surface, explorer_surface.start, "gd", lr=np.array([0.99, 1.0, 1.01]) * 2 / L40,
                        steps=3000)
gap = stable.losses[:, -1] - explorer_surface.f_min
stalled = stable.losses[1, 2000] - explorer_surface.f_min
print(f"GD after 3000 steps: at 0.99 * 2/L the loss is within 1e-10 of the minimum: {bool(abs(gap[0]) < 1e-10)}; "
      f"at 2/L it stays {gap[1]:.5f} above it (after 2000 steps: {stalled:.5f}), the steep component flipping "
      f"sign for ever; at 1.01 * 2/L it diverged: {bool(stable.diverged[2])}")
assert abs(gap[0]) < 1e-10 and gap[1] > 1e-3 and abs(gap[1] / stalled - 1) < 1e-9 and stable.diverged[2]

# %% [markdown]
# ## Exercises
#
# The data are the four points of section 1 with $\beta = 0.9$, $\eta = 0.01$. Each
# exercise ends with a check; the solution is the marked part of the exercise's cell (a student copy
# has a stub there).
# Vector answers are accepted when every component is within $10^{-6}$ of the exact value,
# so numbers worked out by hand and written to six decimals pass.
#
# ### Exercise 1 (recall)
#
# Start from $\theta = (\theta_0, \theta_1) = (0, 1)$ and $v_1 = [-0.001, -0.002]$. What is
# $\theta$ after the first iteration, as `[theta0, theta1]`?

# %% nbgrader={"grade": false, "grade_id": "ex08_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = [0.0 - (-0.001), 1.0 - (-0.002)]
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex08_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.linear_regression.theta_after_first_iteration(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# Do the **third** iteration by hand on the four points, continuing from
# $\theta^{(2)} = (0.00286, 1.005715)$ and $v_2 = (-0.00186, -0.003715)$: compute the
# residuals, the gradient $g_3$, then $v_3$ and $\theta^{(3)}$ (to at least six decimals).

# %% nbgrader={"grade": false, "grade_id": "ex08_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
theta2, v2 = np.array([0.00286, 1.005715]), np.array([-0.00186, -0.003715])
e3 = theta2[0] + theta2[1] * x - y
g3 = np.array([e3.mean(), (e3 * x).mean()])
v3 = beta * v2 + eta * g3
theta3 = theta2 - v3
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex08_2_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.linear_regression.third_iteration(v3, theta3)

# %% [markdown]
# ### Exercise 3 (apply)
#
# Find the error. With $\beta = 0.9$, $\eta = 0.1$, $\theta^{(0)} = (1, 0)$ and the
# assumed gradients $g_1 = [0.4, -0.2]$, $g_2 = [0.3, -0.1]$, a student writes:
#
# 1. $v_1 = 0.9\cdot[0, 0] + 0.1\cdot[0.4, -0.2] = [0.04, -0.02]$
# 2. $\theta^{(1)} = [1, 0] - [0.04, -0.02] = [0.96, 0.02]$
# 3. $v_2 = 0.9\cdot[0.04, -0.02] + 0.1\cdot[0.3, -0.1] = [0.066, -0.008]$
# 4. $\theta^{(2)} = [0.96, 0.02] - [0.066, -0.008] = [0.894, 0.028]$
#
# Which line is the first wrong one, and what is the correct $\theta^{(2)}$?

# %% nbgrader={"grade": false, "grade_id": "ex08_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
first_wrong_line = 3
v2_ex = 0.9 * np.array([0.04, -0.02]) + 0.1 * np.array([0.3, -0.1])
correct_theta2 = np.array([0.96, 0.02]) - v2_ex
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex08_3_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.linear_regression.find_the_error(first_wrong_line, correct_theta2)


# %% [markdown]
# ### Exercise 4 (implement)
#
# Write `grad_J(theta, x, y)` returning $(\partial J/\partial\theta_0, \partial J/\partial\theta_1)$
# as an array of shape `(2,)` for any data arrays `x`, `y` of one length. The check calls it on
# the lesson's four points and on three random data sets (3, 10 and 50 points) and accepts
# it when every component is within $10^{-9}$ relative (plus $10^{-12}$ absolute: rounding only)
# of the exact gradient.

# %% nbgrader={"grade": false, "grade_id": "ex08_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def grad_J(theta, x, y):
    ### BEGIN SOLUTION
    e = theta[0] + theta[1] * x - y
    return np.array([e.mean(), (e * x).mean()])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex08_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.linear_regression.gradient(grad_J)
### BEGIN HIDDEN TESTS
def _loss(theta, x, y):
    return 0.5 * np.mean((theta[0] + theta[1] * x - y) ** 2)


_rng = np.random.default_rng(5)
for _m in (3, 17, 100):  # central differences are exact for a quadratic, up to rounding
    _x, _y, _theta = _rng.normal(size=_m), _rng.normal(size=_m), _rng.normal(size=2)
    _fd = [(_loss(_theta + _d, _x, _y) - _loss(_theta - _d, _x, _y)) / 2e-5 for _d in np.eye(2) * 1e-5]
    assert np.allclose(grad_J(_theta, _x, _y), _fd, rtol=1e-6, atol=1e-9)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5 (explore)
#
# Keep $\eta = 0.01$ and vary the momentum. Which $\beta$ makes the distance
# $\|\theta^{(k)} - \theta^\star\|$ from $(0, 1)$ shrink fastest in the long run, that is, has
# the smallest rate $\rho$ per step? Scan a grid of $\beta$ with one batched
# `optimizers.run` call and measure each run's rate, as in section 6 (the distance ripples
# when the roots are complex: compare its largest values over a few steps at two times).
# The check computes the rate of your $\beta$ from the heavy ball's 2x2 matrix (lesson 03; its
# rates are lesson 04's "rate $\sqrt\beta$ with complex roots") and accepts it if it
# needs at most 5 % more steps than the best rate $\rho^\star$ in the long run,
# $\ln\rho^\star/\ln\rho(\beta) \le 1.05$. Give $\beta$ to three decimals.

# %% nbgrader={"grade": false, "grade_id": "ex08_5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
betas = np.linspace(0.8, 0.98, 181)
scan = optimizers.run(surface, [0.0, 1.0], "momentum", lr=0.01, momentum=betas, steps=400)
dist = np.linalg.norm(scan.points - theta_star, axis=-1)
envelope = {k: dist[:, k - 20:k + 1].max(axis=1) for k in (200, 400)}  # largest distance in 20 steps
rates = (envelope[400] / envelope[200]) ** (1 / 200)
best_beta = betas[rates.argmin()]
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex08_5_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.linear_regression.best_momentum(best_beta)

# %% [markdown]
# ### Exercise 6 (apply)
#
# A learning-rate schedule: from $\theta^{(0)} = (0, 1)$, $v_0 = 0$ (PyTorch: $b_1 = g_1$, section 5) with
# $\beta = 0.9$, do the first iteration with $\eta = 0.02$ and the second with $\eta = 0.01$, in
# the seed's form and in `torch.optim.SGD`'s. Give $\theta^{(2)}$ of each, as
# `[theta0, theta1]` (by hand, or with NumPy; `torch.optim.SGD` may check your second answer).

# %% nbgrader={"grade": false, "grade_id": "ex08_6_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
g1 = gradient(np.array([0.0, 1.0]))
theta1_sched = np.array([0.0, 1.0]) - 0.02 * g1  # the same first step in both forms
g2 = gradient(theta1_sched)
theta_seed_form = theta1_sched - (beta * 0.02 * g1 + 0.01 * g2)  # v_2 = beta v_1 + eta_2 g_2
theta_torch_form = theta1_sched - 0.01 * (beta * g1 + g2)  # b_2 = beta b_1 + g_2, theta -= eta_2 b_2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex08_6_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.linear_regression.learning_rate_change(theta_seed_form, theta_torch_form)

# %% [markdown]
# ### Exercise 7 (apply)
#
# Change the last data point to $y^{(4)} = 3.2$ (the other three stay). Compute the
# least-squares solution $\theta^\star$ in closed form (section 6), as `[theta0, theta1]`.

# %% nbgrader={"grade": false, "grade_id": "ex08_7_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
y_changed = np.array([-0.2, 1.2, 2.6, 3.2])
theta_star_changed = np.linalg.solve(X.T @ X, X.T @ y_changed)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex08_7_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.linear_regression.normal_equations(theta_star_changed)
