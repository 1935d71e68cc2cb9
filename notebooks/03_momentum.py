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
# # Lesson 03: Momentum (heavy ball)
#
# Lesson 01 ended with a bill: on a valley with condition number $\kappa$, gradient
# descent needs about $\tfrac{\kappa}{2}\ln(1/\varepsilon)$ steps. Momentum, which adds a
# fraction of the previous step to the current one, replaces $\kappa$ by $\sqrt\kappa$ in the
# rate, and the rate predicts about $\tfrac{\sqrt\kappa}{2}\ln(1/\varepsilon)$ steps. Measured
# (section 8, eigenvalues $1$ and $\kappa$, start $(1, 1)$, $\varepsilon = 10^{-6}$), momentum needs 24 to 44 % more
# than that prediction: 27, 93 and 315 steps for $\kappa$ = 10, 100 and 1000, against 21.8, 69.1
# and 218.4; gradient descent needs 69, 691 and 6,908, so momentum needs 2.6, 7.4 and 21.9 times
# fewer steps. This lesson derives the rate, and everything else about the method on a quadratic,
# from one $2\times2$ matrix, and checks every statement with numbers.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write momentum in its three common forms (Polyak's heavy ball, the Sutskever form,
#    PyTorch's form) and say when they give the same iterates and when they do not;
# 2. read the momentum buffer as an exponentially weighted sum of past gradients;
# 3. write the $2\times2$ iteration matrix of one eigen-component and get the rate from
#    its eigenvalues;
# 4. derive the convergence region $0 < \eta\lambda < 2 + 2\beta$;
# 5. name the four regimes (monotone, ripples, sign-flipping oscillation, divergence), and
#    show that the rate with complex roots is $\sqrt\beta$ (not $2\sqrt\beta$);
# 6. derive critical damping $\beta = (1-\sqrt{\eta\lambda})^2$ and Polyak's optimal pair,
#    whose rate $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ turns $\kappa$ into $\sqrt\kappa$;
# 7. read a map of the rate over $(\eta, \beta)$, and test claims about "too much" momentum.
#
# ## Prerequisites
#
# Lesson 01 (the step-size limit, $\kappa$, the eigenbasis view). Linear algebra: the
# eigenvalues of a $2\times2$ matrix are the roots of $\sigma^2 - \operatorname{tr}\,\sigma + \det = 0$.
# A little PyTorch helps for one cell. About 60 minutes.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap

import lessons_lib
from lessons_lib import checks, optimizers, plotting, surfaces, theory
from lessons_lib.progress import progress
from lessons_lib.widgets import RateMap, TrajectoryExplorer

lessons_lib.setup()

# %% [markdown]
# ## 1. What momentum buys: a first look
#
# The valley $f(x,y) = 0.1x^2 + 2y^2$ (the example of *Dive into Deep Learning*, Zhang, Lipton,
# Li and Smola, section "Momentum" of the chapter "Optimization Algorithms", d2l.ai) has
# eigenvalues $\mu = 0.2$, $L = 4$, so $\kappa = 20$. Gradient descent at its rate-optimal step
# $\eta = 2/(\mu + L)$ zig-zags across the valley (the steep coordinate $y$ changes sign at every
# step) and crawls along it (the flat coordinate $x$ shrinks by only $1 - 0.2\,\eta = 0.905$ per
# step). Momentum at Polyak's rate-optimal pair $(\eta^\star, \beta^\star)$ (derived in section 8; the
# pair that minimises the rate, not always the one that needs the fewest steps, see section 11) gets
# the loss within $10^{-6}$ of the minimum in about a third of the steps:

# %%
valley = surfaces.get("quadratic")
mu, L = 0.2, 4.0
lr_gd, rate_gd = theory.optimal_gd(mu, L)
lr_hb, beta_hb, rate_hb = theory.optimal_momentum(mu, L)
first_look = {
    f"gradient descent, η = {lr_gd:.3f}": optimizers.run(valley, valley.start, "gd", lr_gd, steps=60),
    f"momentum, η = {lr_hb:.3f}, β = {beta_hb:.3f}": optimizers.run(
        valley, valley.start, "momentum", lr_hb, beta_hb, steps=60),
}
fig, _ = plotting.trajectory_figure(valley, first_look, title=r"$0.1x^2 + 2y^2$, $\kappa = 20$")
plt.show()
for label, run in first_look.items():
    print(f"{label:35s} loss after 60 steps: {run.losses[-1]:.2e}")
y_gd = first_look[f"gradient descent, η = {lr_gd:.3f}"].points[:, 1]
sign_changes = np.mean(np.sign(y_gd[1:]) != np.sign(y_gd[:-1]))
n_gd = optimizers.run(valley, valley.start, "gd", lr_gd, steps=300).steps_to(1e-6)
n_hb = optimizers.run(valley, valley.start, "momentum", lr_hb, beta_hb, steps=300).steps_to(1e-6)
print(f"gradient descent: y changes sign on {sign_changes:.0%} of its 60 steps, x shrinks by "
      f"{1 - mu * lr_gd:.3f} per step")
print(f"loss within 1e-6 of the minimum: gradient descent at step {n_gd}, momentum at step {n_hb} "
      f"({n_hb / n_gd:.2f} of the steps)")
assert sign_changes == 1 and abs(1 - mu * lr_gd - 0.905) < 5e-4 and 0.28 < n_hb / n_gd < 0.38

# %% [markdown]
# ### Try it
#
# The explorer below runs gradient descent, momentum and Nesterov (lesson 05) on the same
# valley (here with gradient descent and momentum switched on), at the learning rate 0.1. Drag
# **momentum** (the slider for $\beta$) from 0 upwards and watch the momentum path (vermillion,
# dashed): at 0 it *is* gradient descent; around 0.75 it is fastest (the readout shows the step at
# which the loss first gets within $10^{-6}$ of the minimum: 53 at 0.75, while gradient descent is
# not there within the 150 steps shown; the next cell counts up to 300). From $\beta \approx 0.74$ on
# both eigen-components are in the ripple regime of section 6 (complex roots), where the path
# overshoots and spirals in and the rate is $\sqrt\beta$ whatever the learning rate, as long as both
# ends stay in the ripple regime (where that regime starts depends on $\eta$: at $\eta = 0.1$ from
# $\beta \approx 0.74$): 0.87 at $\beta = 0.75$, 0.97 at $\beta = 0.95$, which needs 190 steps. Drag **lr**
# (the slider for $\eta$) until a path diverges.
# (Without a kernel you see the starting picture.)

# %%
TrajectoryExplorer(surface="quadratic", lr=0.1, momentum=0.8, steps=150, methods=("gd", "momentum"))

# %% [markdown]
# What the readout reports as the slider moves, computed for 99 momenta at once ($\eta = 0.1$):

# %%
momenta = np.linspace(0.0, 0.98, 99)
scan_m = optimizers.run(valley, valley.start, "momentum", 0.1, momenta, steps=300)
reached = np.array([300 if n is None else n for n in scan_m.steps_to(1e-6)])  # None: not within 300 steps
error_m = np.linalg.norm(scan_m.points, axis=-1)
for b in [0.0, 0.4, 0.75, 0.95]:
    n = reached[np.argmin(np.abs(momenta - b))]
    print(f"beta = {b:4}: first within 1e-6 of the minimum at step {n if n < 300 else '> 300'}")
print(f"fastest: beta = {momenta[reached.argmin()]:.2f}, {reached.min()} steps")
both_ripple_m = np.array([all(theory.momentum_regime(0.1, b, lam) == "ripples" for lam in (mu, L)) for b in momenta])
print(f"both ends in the ripple regime from beta = {momenta[both_ripple_m].min():.2f} on the grid "
      f"(the flat end's edge: (1 - sqrt(0.1 * mu))^2 = {(1 - np.sqrt(0.1 * mu)) ** 2:.4f})")
k_m = np.arange(error_m.shape[1])
for b in [0.75, 0.95]:
    e = error_m[np.argmin(np.abs(momenta - b))]
    rate_b = np.exp(np.polyfit(k_m[100:], np.log(e[100:]), 1)[0])  # slope of log error, steps 100-300
    print(f"beta = {b}: rate measured from the run {rate_b:.4f}, sqrt(beta) = {np.sqrt(b):.4f}")
    assert np.isclose(rate_b, np.sqrt(b), rtol=5e-3)
print("the explorer's readout at momentum 0.75:")
print(*TrajectoryExplorer(surface="quadratic", lr=0.1, momentum=0.75, steps=150,
                          methods=("gd", "momentum")).readout_lines(), sep="\n")
assert reached[0] == 300 and abs(momenta[reached.argmin()] - 0.75) < 0.03 and reached.min() == 53
assert reached[np.argmin(np.abs(momenta - 0.95))] == 190
assert np.array_equal(both_ripple_m, momenta > (1 - np.sqrt(0.1 * mu)) ** 2) and round(momenta[both_ripple_m].min(), 2) == 0.74

# %% [markdown]
# ## 2. Three ways to write momentum
#
# Write $g_k = \nabla f(x_k)$. Three forms are in common use.
#
# **Polyak's heavy ball** (Polyak, 1964, *Some methods of speeding up the convergence of
# iteration methods*, USSR Comput. Math. Math. Phys. 4(5)): add a fraction $\beta$ of the
# previous step,
#
# $$x_{k+1} = x_k - \eta_k\, g_k + \beta\,(x_k - x_{k-1}), \qquad x_{-1} = x_0 .$$
#
# **The Sutskever form** (Sutskever, Martens, Dahl, Hinton, ICML 2013, *On the importance of
# initialization and momentum in deep learning*): a velocity that remembers past *steps*,
#
# $$v_{k+1} = \beta\, v_k - \eta_k\, g_k, \qquad x_{k+1} = x_k + v_{k+1}, \qquad v_0 = 0 .$$
#
# **PyTorch's form** (`torch.optim.SGD(momentum=beta)`): a buffer that remembers past
# *gradients*, scaled by the learning rate only when it is used,
#
# $$b_{k+1} = \beta\, b_k + g_k, \qquad x_{k+1} = x_k - \eta_k\, b_{k+1}, \qquad b_0 = 0 .$$
#
# (Sutskever et al. write $\mu$ for the momentum coefficient and PyTorch calls it `momentum`; this
# course writes $\beta$ for it everywhere and keeps $\mu$ for the smallest eigenvalue. PyTorch
# starts the buffer at the first gradient, which is what $b_0 = 0$ gives.) Here they are as code.
# Each takes a constant `lr` or one learning rate per step:

# %%
def per_step(lr, steps):
    """The learning rate of every step: a constant, or a sequence of `steps` values."""
    return np.broadcast_to(np.asarray(lr, dtype=float), (steps,))


def heavy_ball(grad, x0, lr, beta, steps):
    """Polyak: x_{k+1} = x_k - lr_k g_k + beta (x_k - x_{k-1}), with x_{-1} = x_0."""
    lrs = per_step(lr, steps)
    x = np.array(x0, dtype=float)
    previous = x.copy()
    path = [x.copy()]
    for k in range(steps):
        x, previous = x - lrs[k] * grad(x) + beta * (x - previous), x
        path.append(x.copy())
    return np.array(path)


def sutskever(grad, x0, lr, beta, steps):
    """Sutskever et al.: v_{k+1} = beta v_k - lr_k g_k, x_{k+1} = x_k + v_{k+1}, v_0 = 0."""
    lrs = per_step(lr, steps)
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for k in range(steps):
        v = beta * v - lrs[k] * grad(x)
        x = x + v
        path.append(x.copy())
    return np.array(path)


def pytorch_form(grad, x0, lr, beta, steps):
    """PyTorch: b_{k+1} = beta b_k + g_k, x_{k+1} = x_k - lr_k b_{k+1}, b_0 = 0."""
    lrs = per_step(lr, steps)
    x = np.array(x0, dtype=float)
    b = np.zeros_like(x)
    path = [x.copy()]
    for k in range(steps):
        b = beta * b + grad(x)
        x = x - lrs[k] * b
        path.append(x.copy())
    return np.array(path)


# %% [markdown]
# ### With a constant step they are the same method
#
# With $\eta_k = \eta$: in the Sutskever form $v_{k+1} = x_{k+1} - x_k$, so
# $x_{k+1} - x_k = \beta(x_k - x_{k-1}) - \eta g_k$, which is the heavy ball. In PyTorch's form
# $x_{k+1} - x_k = -\eta b_{k+1} = -\eta\beta b_k - \eta g_k = \beta(x_k - x_{k-1}) - \eta g_k$,
# the heavy ball again (the middle step uses $-\eta b_k = x_k - x_{k-1}$, true only because
# the same $\eta$ was used one step earlier). So $v_k = -\eta\, b_k$ and all three produce the
# same iterates.
#
# Check it on the Rosenbrock function for 500 steps, against each other, against the
# course's reference optimizer, and against `torch.optim.SGD` in float64 (fed the same
# gradient formula, so that only the update arithmetic is compared):

# %%
def torch_sgd(grad, x0, lr, beta, steps, nesterov=False):
    """Iterates of torch.optim.SGD(momentum=beta, nesterov=...) in float64; lr may change per step."""
    lrs = per_step(lr, steps)
    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=float(lrs[0]), momentum=beta, nesterov=nesterov)
    path = [p.detach().numpy().copy()]
    for k in range(steps):
        for group in opt.param_groups:
            group["lr"] = float(lrs[k])
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def show_gap(gap, tol=1e-12):
    """How a difference is printed: the bound it is under, also when it is exactly 0 (whether the
    last bits agree exactly depends on the CPU's vector unit, and the printed output must not)."""
    assert gap < tol
    return f"< {tol:.0e}"


rosen = surfaces.get("rosenbrock")
lr, beta_r, steps = 1e-3, 0.9, 500
implementations = {"heavy ball (Polyak)": heavy_ball, "Sutskever": sutskever, "PyTorch form": pytorch_form,
                   "torch.optim.SGD": torch_sgd}  # torch's first optimizer step takes a few seconds to load
forms = {name: run_form(rosen.grad, rosen.start, lr, beta_r, steps)
         for name, run_form in progress(implementations.items(), desc="the four forms, 500 steps each")}
reference = optimizers.run(rosen, rosen.start, "momentum", lr, beta_r, steps).points
for name, path in forms.items():
    gap = np.abs(path - reference).max()
    print(f"{name:20s} largest difference from optimizers.run over {steps} steps: {show_gap(gap)}")
    assert gap < 1e-12
print(f"point after {steps} steps: ({reference[-1, 0]:.6f}, {reference[-1, 1]:.6f})")

# %% [markdown]
# The differences are rounding (the forms add the same numbers in a different order).
#
# ### With a changing step they are not
#
# The identity $v_k = -\eta\,b_k$ needs the same $\eta$ at every step. Change it, and the
# forms part ways. Take the simplest case, $f(x) = x$ (so $g = 1$ everywhere), $x_0 = 0$,
# $\beta = 0.9$, and a learning rate of 0.1 for the first step and 0.01 for the second:
#
# * step 1 is the same for all: $x_1 = -0.1$ (buffer $b_1 = 1$, velocity $v_1 = -0.1$);
# * **Sutskever and Polyak** keep the old velocity at its old scale:
#   $x_2 = x_1 + (0.9 \cdot (-0.1) - 0.01 \cdot 1) = -0.1 - 0.1 = -0.200$;
# * **PyTorch** rescales the whole buffer by the *new* rate:
#   $x_2 = x_1 - 0.01\,(0.9 \cdot 1 + 1) = -0.1 - 0.019 = -0.119$.

# %%
def slope_grad(x):
    return np.ones_like(x)  # f(x) = x


schedule = [0.1, 0.01]
after_two = {
    "heavy ball (Polyak)": heavy_ball(slope_grad, [0.0], schedule, 0.9, 2)[-1, 0],
    "Sutskever": sutskever(slope_grad, [0.0], schedule, 0.9, 2)[-1, 0],
    "PyTorch form": pytorch_form(slope_grad, [0.0], schedule, 0.9, 2)[-1, 0],
    "torch.optim.SGD": torch_sgd(slope_grad, [0.0], schedule, 0.9, 2)[-1, 0],
}
for name, x2 in after_two.items():
    print(f"{name:20s} x_2 = {x2:+.3f}")
assert np.isclose(after_two["heavy ball (Polyak)"], -0.200) and np.isclose(after_two["Sutskever"], -0.200)
assert np.isclose(after_two["PyTorch form"], -0.119) and np.isclose(after_two["torch.optim.SGD"], -0.119)

# %% [markdown]
# So **Polyak's and Sutskever's forms give $-0.200$; PyTorch's form (and `torch.optim.SGD`)
# gives $-0.119$.** After a learning-rate drop PyTorch's step shrinks at once by the full
# factor, while the Sutskever velocity still carries steps taken at the old rate and forgets
# them over about $1/(1-\beta)$ steps. Measured on the same slope with 100 steps at $\eta = 0.1$,
# then 100 at $\eta = 0.01$ ($\beta = 0.9$): PyTorch's step falls from 1.0 to 0.1 at the drop;
# the Sutskever step's excess over it shrinks by exactly $\beta$ per step, so by a factor $e$
# within 10 steps, and $1/(1-\beta) = 10$.

# %%
drop = [0.1] * 100 + [0.01] * 100
step_pt = -np.diff(pytorch_form(slope_grad, [0.0], drop, 0.9, 200)[:, 0])  # step k uses drop[k]
step_sk = -np.diff(sutskever(slope_grad, [0.0], drop, 0.9, 200)[:, 0])
excess = step_sk[100:] - step_pt[100:]
n_e = int(np.argmax(excess <= excess[0] / np.e))
print(f"PyTorch form: last step at lr 0.1 {step_pt[99]:.4f}, first at lr 0.01 {step_pt[100]:.4f} "
      f"(x{step_pt[100] / step_pt[99]:.4f})")
print(f"Sutskever form: first step at lr 0.01 {step_sk[100]:.4f}; its excess over PyTorch's step shrinks by "
      f"{excess[1] / excess[0]:.4f} per step and by e after {n_e} steps (1/(1-beta) = {1 / (1 - 0.9):.0f})")
assert abs(step_pt[100] / step_pt[99] - 0.1) < 1e-4 and np.allclose(excess[1:] / excess[:-1], 0.9, rtol=1e-9)
assert n_e == 10

# %% [markdown]
# With a schedule that changes the rate often, the "same" hyper-parameters therefore mean
# different optimizers in different libraries: the documentation of `torch.optim.SGD` notes that
# its implementation "subtly differs from Sutskever et al. and implementations in some other
# frameworks".
#
# ## 3. The buffer is an exponentially weighted sum of past gradients
#
# Unrolling $b_{k+1} = \beta b_k + g_k$ from $b_0 = 0$:
#
# $$b_{k} = g_{k-1} + \beta\, g_{k-2} + \beta^2 g_{k-3} + \dots = \sum_{j=0}^{k-1} \beta^j\, g_{k-1-j}.$$
#
# Every past gradient stays in the sum with a weight that shrinks by $\beta$ per step: it is
# not an average of "the last few" gradients. Check with random gradients:

# %%
rng = np.random.default_rng(3)
grads = rng.normal(size=(40, 2))  # g_0, ..., g_39
beta = 0.9
b = np.zeros(2)
for g in grads:
    b = beta * b + g
weights = beta ** np.arange(len(grads))[::-1]  # beta^39 for g_0, ..., beta^0 for g_39
unrolled = weights @ grads
print("buffer after 40 steps:", b, "   unrolled sum:", unrolled)
assert np.allclose(b, unrolled, rtol=1e-12, atol=1e-14)

# %% [markdown]
# Two consequences, both checked below:
#
# * the weights sum to $(1-\beta^k)/(1-\beta) \to 1/(1-\beta)$: along a direction where the gradient
#   stays the same, the step grows to $\eta\,g/(1-\beta)$, **ten times** gradient descent's step
#   for $\beta = 0.9$, a hundred times for $\beta = 0.99$;
# * a weight halves every $\ln 2/\ln(1/\beta)$ steps: 6.6 steps for $\beta = 0.9$. Measured below on
#   the buffer of `torch.optim.SGD` itself, fed one gradient $g_0 = 1$ and zeros afterwards: it shrinks
#   by $\beta$ per step and is at or below half of its first value from step
#   $\lceil \ln 2/\ln(1/\beta)\rceil$ on (7 for $\beta = 0.9$).

# %%
def torch_buffer_response(beta, steps):
    """torch.optim.SGD's momentum buffer (float64) after a gradient 1 at the first step and 0 afterwards."""
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=1.0, momentum=beta)
    buffer = []
    for k in range(steps):
        p.grad = torch.tensor([1.0 if k == 0 else 0.0], dtype=torch.float64)
        opt.step()
        buffer.append(opt.state[p]["momentum_buffer"].item())
    return np.array(buffer)  # buffer[j] = b_{j+1}, the weight of g_0 after j further steps


for beta in [0.5, 0.9, 0.99]:
    steps_const = pytorch_form(slope_grad, [0.0], 1.0, beta, 3000)[:, 0]
    last_step = steps_const[-2] - steps_const[-1]
    half_life = np.log(2) / np.log(1 / beta)
    response = torch_buffer_response(beta, 200)
    k_half = int(np.argmax(response <= response[0] / 2))  # first step at or below half the first weight
    print(f"beta = {beta:4}: step on a constant slope after 3000 steps = {last_step:7.3f} x lr,"
          f"  1/(1-beta) = {1 / (1 - beta):6.1f};  half-life ln 2/ln(1/beta) = {half_life:5.2f} steps, "
          f"torch's buffer at or below half from step {k_half}, shrinking by {response[1] / response[0]:.4f} per step")
    assert np.isclose(last_step, 1 / (1 - beta), rtol=1e-9)
    assert k_half == int(np.ceil(half_life - 1e-9)) and np.allclose(response[1:] / response[:-1], beta, rtol=1e-12)

# %% [markdown]
# ## 4. One eigen-component, one $2\times2$ matrix
#
# On $f(x) = \tfrac12 x^\top H x$ the gradient is $Hx$, and as in lesson 01 each eigen-coordinate
# $\tilde x_i$ evolves on its own. For one of them, with eigenvalue $\lambda$, the heavy ball reads
#
# $$\tilde x_{k+1} = \tilde x_k - \eta\lambda \tilde x_k + \beta(\tilde x_k - \tilde x_{k-1}) = (1 + \beta - \eta\lambda)\, \tilde x_k - \beta\, \tilde x_{k-1}.$$
#
# This is a second-order recurrence: the state is the pair $(\tilde x_k, \tilde x_{k-1})$, and
#
# $$\begin{pmatrix} \tilde x_{k+1}\\ \tilde x_k\end{pmatrix} = M \begin{pmatrix} \tilde x_k\\ \tilde x_{k-1}\end{pmatrix},\qquad
# M = \begin{pmatrix} 1 + \beta - \eta\lambda & -\beta\\ 1 & 0\end{pmatrix},\qquad
# \operatorname{tr} M = 1+\beta-\eta\lambda,\quad \det M = \beta .$$
#
# The eigenvalues of $M$ are the roots $\sigma_1, \sigma_2$ of $\sigma^2 - (1+\beta-\eta\lambda)\,\sigma + \beta = 0$
# (this course writes $\sigma$ for a root and $\tilde x$ for an eigen-coordinate, as in lesson 01), and the
# error shrinks by their largest modulus per step: that modulus, the **spectral radius**, is
# the rate. Everything in the rest of the lesson comes from this quadratic equation. First,
# check the matrix against the optimizer: read its first row off actual iterates (fit
# $\tilde x_{k+1} = a\,\tilde x_k + c\,\tilde x_{k-1}$ by least squares to a run of `optimizers.run`), check that its
# powers reproduce the run, and compare its eigenvalues with NumPy's:

# %%
def momentum_matrix(lr, beta, lam):
    return np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])


def roots(lr, beta, lam):
    """The two roots of sigma^2 - (1 + beta - lr lam) sigma + beta = 0 (complex in general)."""
    t = 1 + beta - lr * lam
    disc = complex(t * t - 4 * beta)
    return np.array([(t + disc**0.5) / 2, (t - disc**0.5) / 2])


lam_pair = [0.5, 5.0]
tilted = surfaces.quadratic(lam_pair, angle=np.pi / 6)
eigvals, Q = np.linalg.eigh(tilted.hessian)
lr, beta = 0.3, 0.6
run = optimizers.run(tilted, [-6.0, 3.0], "momentum", lr, beta, steps=40)
z = run.points @ Q  # eigen-coordinates of every iterate, shape (41, 2)
for i, lam in enumerate(eigvals):
    M = momentum_matrix(lr, beta, lam)
    history = np.column_stack([z[1:21, i], z[0:20, i]])  # (z_k, z_{k-1}) for k = 1..20
    first_row = np.linalg.lstsq(history, z[2:22, i], rcond=None)[0]
    print(f"lambda = {lam:3.1f}: first row read off the run ({first_row[0]:.6f}, {first_row[1]:.6f}), "
          f"typed (1 + beta - lr*lambda, -beta) = ({1 + beta - lr * lam:.6f}, {-beta:.6f})")
    assert np.allclose(first_row, M[0], rtol=0, atol=1e-9)
    ours = np.sort_complex(roots(lr, beta, lam))
    numpy_eigs = np.sort_complex(np.linalg.eigvals(M).astype(complex))
    state = np.array([z[0, i], z[0, i]])  # (z_0, z_{-1}) with z_{-1} = z_0
    predicted = [state[0]]
    for _ in range(40):
        state = M @ state
        predicted.append(state[0])
    gap = np.abs(np.array(predicted) - z[:, i]).max()
    radius = np.abs(ours).max()
    print(f"lambda = {lam:3.1f}: roots {np.round(ours, 4)}, spectral radius {radius:.4f} "
          f"(theory.momentum_rate {theory.momentum_rate(lr, beta, [lam]):.4f}); "
          f"max |M^k (start) - iterate| {show_gap(gap)}")
    assert np.allclose(ours, numpy_eigs, atol=1e-12)
    assert np.isclose(theory.momentum_rate(lr, beta, [lam]), np.abs(numpy_eigs).max(), rtol=1e-12)
    assert gap < 1e-12

# %% [markdown]
# ## 5. The convergence region: $0 < \eta\lambda < 2 + 2\beta$
#
# Both roots of $p(\sigma) = \sigma^2 - t \sigma + \beta$ lie inside the unit circle exactly when
# (the Schur–Cohn, or Jury, conditions for a real quadratic)
#
# $$|\beta| < 1, \qquad p(1) = \eta\lambda > 0, \qquad p(-1) = 2 + 2\beta - \eta\lambda > 0 .$$
#
# (If the roots are complex their modulus is $\sqrt\beta < 1$; if they are real, $p$ must be
# positive at both $\pm 1$ with its vertex $t/2$ in between, which the three conditions
# ensure.) So with $0 \le \beta < 1$ the heavy ball converges iff
#
# $$0 < \eta\lambda < 2 + 2\beta ,$$
#
# and over all eigenvalues iff $\eta < (2+2\beta)/L$: momentum allows steps larger than
# gradient descent's $2/L$ by the factor $1+\beta$, which approaches **two** as $\beta \to 1$
# (1.9 at $\beta = 0.9$). Check it by experiment: run $20 \times 450$
# configurations at once on $f = \tfrac12 (x^2 + y^2)$ ($\lambda = 1$) and find, for each
# $\beta$, where the runs stop converging. The grid of $\eta$ runs from 0.005 to 4.495, offset so
# that no grid point sits exactly on the boundary; `optimizers.run` accepts only $\eta > 0$, so
# the left edge ($\eta\lambda = 0$ and below) is run with the `heavy_ball` code of section 2.

# %%
unit = surfaces.quadratic([1.0, 1.0])
betas = np.linspace(0.0, 0.95, 20)
lrs = np.linspace(0.005, 4.495, 450)  # spacing 0.01
B, LR = np.meshgrid(betas, lrs, indexing="ij")
scan = optimizers.run(unit, [1.0, 0.0], "momentum", lr=LR, momentum=B, steps=1000)
err_mid, err_end = np.nan_to_num(np.abs(scan.points[..., [500, -1], 0]), nan=np.inf).transpose(2, 0, 1)
converges = (err_end < 1e-6) | (err_end < err_mid)  # tiny, or still shrinking
n_diverged = int(scan.diverged.sum())
del scan  # 9,000 runs of 1,000 steps: keep only what the check needs
print("beta   largest converging lr   2 + 2*beta   smallest non-converging lr")
for i, b in enumerate(betas):
    last_ok = lrs[converges[i]].max()
    first_bad = lrs[~converges[i]].min()
    if i % 3 == 0:
        print(f"{b:4.2f} {last_ok:18.4f} {2 + 2 * b:16.4f} {first_bad:20.4f}")
    assert converges[i, lrs < 2 + 2 * b].all() and not converges[i, lrs > 2 + 2 * b].any()
print(f"all {converges.size} runs (lr*lambda from {lrs[0]:.3f} to {lrs[-1]:.3f}) agree with lr*lambda < 2 + 2*beta; "
      f"{n_diverged} of them were reported as diverged")
print(f"the limit over gradient descent's 2: factor 1 + beta = {(2 + 2 * 0.9) / 2:.1f} at beta = 0.9")
left_edge = [-0.1, -0.01, 0.0]  # lr*lambda <= 0, with heavy_ball of section 2 on f = x^2/2 (gradient x)
left_converges = []
for h in left_edge:
    for b in betas:
        path = heavy_ball(lambda x: x, [1.0], h, b, 200)[:, 0]
        left_converges.append(abs(path[-1]) < 1e-6 or abs(path[-1]) < abs(path[100]))  # the test used above
print(f"lr*lambda in {left_edge}: {int(np.sum(left_converges))} of {len(left_converges)} runs converge")
assert not np.any(left_converges)

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.4))
ax.pcolormesh(lrs, betas, converges, cmap=ListedColormap(["0.85", "#74c476"]), vmin=-0.5, vmax=1.5, shading="nearest")
ax.plot(2 + 2 * betas, betas, "k--", linewidth=1.5, label=r"theory: $\eta\lambda = 2 + 2\beta$")
ax.axvline(2.0, color=plotting.METHOD_COLORS["gd"], linewidth=1.2, label=r"gradient descent's limit $\eta\lambda = 2$")
ax.text(1.2, 0.45, "converges", fontsize=11)
ax.text(4.0, 0.2, "diverges", fontsize=11)
ax.set_xlabel(r"$\eta\lambda$")
ax.set_ylabel(r"momentum $\beta$")
ax.set_title(f"measured: {converges.size:,} runs of 1,000 steps (green = converges, grey = does not)")
ax.legend(loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Four regimes
#
# Inside the region the roots can be real or complex. The discriminant
# $(1+\beta-\eta\lambda)^2 - 4\beta$ is negative, so the roots are complex, exactly when
#
# $$(1-\sqrt\beta)^2 < \eta\lambda < (1+\sqrt\beta)^2 .$$
#
# That splits the region into the regimes that `theory.momentum_regime` names:
#
# | regime | where | what the iterate does |
# |---|---|---|
# | monotone | $\eta\lambda \le (1-\sqrt\beta)^2$ | two positive real roots: creeps to 0 without crossing it |
# | ripples | $(1-\sqrt\beta)^2 < \eta\lambda < (1+\sqrt\beta)^2$ | complex roots: overshoots and spirals in, rate $\sqrt\beta$ |
# | oscillation | $(1+\sqrt\beta)^2 \le \eta\lambda < 2+2\beta$ | a negative real root dominates: flips sign every step |
# | divergence | $\eta\lambda \ge 2 + 2\beta$ | a root of modulus $\ge 1$ |
#
# Check that the library's regime names agree with these inequalities on a fine grid, and
# that one run in each regime behaves as the table says:

# %%
h_grid = np.linspace(0.005, 4.2, 421)
b_grid = np.linspace(0.0, 0.98, 99)
Hg, Bg = np.meshgrid(h_grid, b_grid)
regime = theory.momentum_regime(Hg, Bg, 1.0)
by_formula = np.select(
    [Hg >= 2 + 2 * Bg, Hg <= (1 - np.sqrt(Bg)) ** 2, Hg < (1 + np.sqrt(Bg)) ** 2],
    ["divergence", "monotone", "ripples"], default="oscillation")
print(f"regime names agree with the inequalities at {np.mean(regime == by_formula):.1%} of {regime.size} grid points")
assert np.array_equal(regime, by_formula)

examples = {"monotone": (0.05, 0.3), "ripples": (0.5, 0.8), "oscillation": (2.5, 0.3), "divergence": (3.0, 0.3)}
example_runs = {}
for name, (h, b) in examples.items():
    r = optimizers.run(unit, [1.0, 0.0], "momentum", h, b, steps=60)
    x = r.points[:, 0]
    finite = x[np.isfinite(x)]
    flips = np.mean(np.sign(finite[21:]) != np.sign(finite[20:-1])) if len(finite) > 22 else np.nan
    example_runs[name] = x
    behaviour = (f"diverged at step {r.diverged_at}" if r.diverged
                 else f"sign changes on {flips:.0%} of steps 20-60")
    print(f"{name:11s} lr*lambda = {h:4}, beta = {b}: regime '{theory.momentum_regime(h, b, 1.0)}', {behaviour}")
    assert theory.momentum_regime(h, b, 1.0) == name
    if name == "monotone":
        assert flips == 0 and not r.diverged
    elif name == "ripples":
        assert 0 < flips < 0.5 and not r.diverged
    elif name == "oscillation":
        assert flips == 1 and not r.diverged
    else:
        assert r.diverged

# %%
fig = plt.figure(figsize=(11, 4.2))
grid = fig.add_gridspec(2, 3, width_ratios=[1.5, 1, 1])
ax = fig.add_subplot(grid[:, 0])
codes = {"monotone": 0, "ripples": 1, "oscillation": 2, "divergence": 3}
colors = ["#a6dba0", "#92c5de", "#fdb863", "#bdbdbd"]
ax.pcolormesh(h_grid, b_grid, np.vectorize(codes.get)(regime), cmap=ListedColormap(colors),
              vmin=-0.5, vmax=3.5, shading="nearest")
bb = np.linspace(0, 0.98, 200)
ax.plot((1 - np.sqrt(bb)) ** 2, bb, "k-", linewidth=0.8)
ax.plot((1 + np.sqrt(bb)) ** 2, bb, "k-", linewidth=0.8)
ax.plot(2 + 2 * bb, bb, "k-", linewidth=1.5)
for name, (tx, ty) in zip(examples, [(0.08, 0.08), (1.0, 0.6), (1.25, 0.015), (3.2, 0.35)], strict=True):
    ax.plot(*examples[name], "o", color="k", markersize=5)
    ax.text(tx, ty, name, fontsize=9.5)
ax.set_xlabel(r"$\eta\lambda$")
ax.set_ylabel(r"$\beta$")
ax.set_title("the regimes of one eigen-component")
for k, (name, x) in enumerate(example_runs.items()):
    axk = fig.add_subplot(grid[k // 2, 1 + k % 2])
    axk.plot(np.clip(x, -2, 2), ".-", color=colors[codes[name]], markeredgecolor="k", markeredgewidth=0.3,
             markersize=4, linewidth=0.8)
    axk.axhline(0, color="0.6", linewidth=0.6)
    axk.set_ylim(-2.1, 2.1)
    clipped = " (clipped at $\\pm 2$)" if name == "divergence" else ""
    axk.set_title(f"{name}: " + r"$\eta\lambda$" + f"={examples[name][0]}, " + r"$\beta$" + f"={examples[name][1]}"
                  + clipped, fontsize=9)
    axk.set_ylabel(r"$\tilde x_k$")
    if k >= 2:
        axk.set_xlabel("step $k$")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 7. With complex roots the rate is $\sqrt\beta$, not $2\sqrt\beta$
#
# Complex roots come as a conjugate pair $\sigma, \bar\sigma$, and their product is the constant term
# of the quadratic: $\sigma\bar\sigma = |\sigma|^2 = \det M = \beta$. Hence
#
# $$|\sigma| = \sqrt\beta \qquad\text{whenever}\quad (1-\sqrt\beta)^2 < \eta\lambda < (1+\sqrt\beta)^2,$$
#
# independent of $\eta$ and $\lambda$. An exact identity shows why: the quantity
# $E_k = \tilde x_k^2 - t\, \tilde x_k \tilde x_{k-1} + \beta \tilde x_{k-1}^2$ (with $t = 1+\beta-\eta\lambda$) satisfies
# $E_{k+1} = \beta E_k$ for every run, in every regime (substitute the recurrence; it is
# $\det M = \beta$ again). Only in the complex regime is $E$ a positive-definite quadratic form of
# $(\tilde x_k, \tilde x_{k-1})$, a squared length that shrinks by exactly $\beta$, so that the length shrinks by
# $\sqrt\beta$ per step. The identity alone therefore cannot tell $\sqrt\beta$ from another rate (its
# column, "E identity", reads $\sqrt\beta$ by construction); the column "measured" is a measurement
# of the run: the largest $|\tilde x_k|$ over steps 150 to 200 divided by that over steps 50 to 100, to the
# power $1/100$. The last row has real roots (monotone regime): there $E$ is not a length (its
# column is left empty; in floating point it is lost to cancellation), and the measured rate is the
# larger real root, not $\sqrt\beta$.

# %%
print("beta  lr*lambda  discriminant  |roots|   sqrt(beta)  2*sqrt(beta)  E identity (E_100/E_0)^(1/200)  measured")
for b, h in [(0.81, 1.0), (0.5, 0.6), (0.9, 0.3), (0.3, 1.2), (0.97, 2.0), (0.3, 0.05)]:
    t = 1 + b - h
    x = optimizers.run(unit, [1.0, 0.0], "momentum", h, b, steps=200).points[:, 0]  # the eigen-coordinate (lambda = 1)
    modulus = np.abs(roots(h, b, 1.0)).max()
    envelope_rate = (np.abs(x[150:]).max() / np.abs(x[50:101]).max()) ** (1 / 100)  # measured from the run
    if t * t < 4 * b:  # complex roots: E is a squared length
        pairs = np.concatenate([[x[0]], x])  # (z_{-1}, z_0, z_1, ...) with z_{-1} = z_0
        E = pairs[1:] ** 2 - t * pairs[1:] * pairs[:-1] + b * pairs[:-1] ** 2
        identity = f"{(E[100] / E[0]) ** (1 / 200):.6f}"
        assert np.allclose(E[1:101] / E[:100], b, rtol=1e-9) and np.isclose(modulus, np.sqrt(b), rtol=1e-12)
        assert np.isclose(envelope_rate, np.sqrt(b), rtol=5e-3)
    else:  # real roots: the measured rate is the larger root, well above sqrt(beta)
        identity = ""
        assert np.isclose(envelope_rate, modulus, rtol=1e-6) and envelope_rate > np.sqrt(b) + 0.3
    print(f"{b:4}  {h:9}  {t * t - 4 * b:12.3f}  {modulus:7.4f}  {np.sqrt(b):10.4f}  {2 * np.sqrt(b):12.4f}  "
          f"{identity:>30s}  {envelope_rate:8.4f}")

# %% [markdown]
# The well-known interactive article *Why Momentum Really Works* (G. Goh, Distill, 2017)
# prints, in its footnote on the rate in the section "The Dynamics of Momentum" (quoted from its
# source, file `public/index.html` of the repository `distillpub/post--momentum`; the article
# writes $\alpha$ for the learning rate),
#
# $$|\sigma_{1}|=|\sigma_{2}| =\sqrt{(1-\alpha\lambda+\beta)^{2}+|(-\alpha\lambda+\beta+1)^{2}-4\beta|}=2\sqrt{\beta}$$
#
# The square root does equal $2\sqrt\beta$, but the roots are
# $\sigma = \tfrac12\big(t \pm i\sqrt{4\beta - t^2}\big)$, and the factor $\tfrac12$ was dropped:
# $|\sigma| = \tfrac12\cdot 2\sqrt\beta = \sqrt\beta$. The column "measured" of the table above shows it:
# with $\beta = 0.81$ the error shrinks by 0.9 per step, while $2\sqrt\beta = 1.8$ would mean it *grows*. Indeed
# $2\sqrt\beta > 1$ for every $\beta > 1/4$, so the printed formula would make the whole ripple
# regime diverge for $\beta > 1/4$, which the scan of section 5 contradicts. The cell below
# measures it once more on runs of its own: 21 pairs across the ripple band ($\beta$ = 0.3 to 0.9, at a
# quarter, half and three quarters of the way from $\eta\lambda = (1-\sqrt\beta)^2$ to
# $(1+\sqrt\beta)^2$): the largest $|x_k|$ over steps 150 to 200 divided by that over steps 50 to
# 100 is about $\text{rate}^{100}$, and its 100th root should be $\sqrt\beta$ (within the 1 % that the
# ripples' phase allows), below 1, and not $2\sqrt\beta > 1$.
#
# The same value appears a second time in the article: the caption of its "Ripples" panel (the
# first of the five panels in the figure that follows that footnote) reads "Surprisingly, the
# convergence rate $2\sqrt\beta$ is independent of $\alpha$ and $\lambda_i$" (the caption's text is
# in the same repository, file `public/assets/momentum.js`). The article's optimal pair and its momentum rate
# $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ (subsection "Optimal parameters") are right, and that rate is
# $\sqrt{\beta^\star}$, not $2\sqrt{\beta^\star}$ (section 8 checks both).

# %%
ripple_betas = np.round(np.arange(0.3, 0.95, 0.1), 1)
edge_lo, edge_hi = (1 - np.sqrt(ripple_betas)) ** 2, (1 + np.sqrt(ripple_betas)) ** 2
fractions = np.array([0.25, 0.5, 0.75])
H7 = edge_lo[:, None] + fractions[None, :] * (edge_hi - edge_lo)[:, None]  # 7 x 3 pairs inside the band
B7 = np.broadcast_to(ripple_betas[:, None], H7.shape)
x7 = np.abs(optimizers.run(unit, [1.0, 0.0], "momentum", H7, B7, steps=200).points[..., 0])
envelope = x7[..., 150:].max(axis=-1) / x7[..., 50:101].max(axis=-1)
rate_env = envelope ** (1 / 100)  # the rate per step that this envelope ratio implies
gap_env = np.abs(rate_env / np.sqrt(B7) - 1)
print(f"{H7.size} pairs in the ripple regime, beta from {ripple_betas[0]} to {ripple_betas[-1]}: the rate "
      f"(max|x| over steps 150-200 / over steps 50-100)^(1/100) lies within {gap_env.max():.1%} of sqrt(beta); "
      f"largest {rate_env.max():.4f}, while 2 sqrt(beta) >= {2 * np.sqrt(ripple_betas[0]):.4f}")
print(f"beta = 0.81, lr*lambda = 1 (the table's first row): sqrt(beta)^100 = {0.9 ** 100:.2e}, "
      f"(2 sqrt(beta))^100 = {1.8 ** 100:.2e}")
assert np.all(theory.momentum_regime(H7, B7, 1.0) == "ripples")
assert gap_env.max() < 0.01 and rate_env.max() < 1 < 2 * np.sqrt(ripple_betas[0])

# %% [markdown]
# ## 8. Critical damping and the optimal pair
#
# ### One eigen-component: critical damping
#
# For a fixed $h = \eta\lambda \le 1$, which $\beta$ is fastest? Below the complex region the
# larger real root shrinks as $\beta$ grows; inside it the rate $\sqrt\beta$ grows with $\beta$.
# The best is the boundary, where the discriminant vanishes and the two roots coincide:
#
# $$(1+\beta-h)^2 = 4\beta \iff \beta_c = (1-\sqrt{h})^2, \qquad \sigma_1 = \sigma_2 = \sqrt{\beta_c} = 1 - \sqrt{h} .$$
#
# This is **critical damping**, as for a damped spring. Its rate $1-\sqrt h$ against gradient
# descent's $1-h$ is the square-root improvement: for $h = 0.04$, 0.8 instead of 0.96. With a
# double root the iterate is $\tilde x_k = (1-\sqrt h)^k\,(1 + \sqrt h\, k)\, \tilde x_0$ (from $\tilde x_{-1} = \tilde x_0$),
# which never changes sign. Check all of it:

# %%
h = 0.04
beta_c = theory.critical_momentum(h, 1.0)
t = 1 + beta_c - h
print(f"h = {h}: rate 1 - sqrt(h) = {1 - np.sqrt(h):.2f} at critical damping, against gradient descent's 1 - h = {1 - h:.2f}")
print(f"h = {h}: beta_c = (1 - sqrt h)^2 = {beta_c:.4f}; discriminant (1 + beta_c - h)^2 - 4 beta_c "
      f"{show_gap(abs(t * t - 4 * beta_c), 1e-14)}; double root t/2 = {t / 2:.4f}, 1 - sqrt(h) = {1 - np.sqrt(h):.4f}")
assert abs(t * t - 4 * beta_c) < 1e-14 and np.isclose(t / 2, 1 - np.sqrt(h), rtol=1e-12)

fine = np.linspace(0.0, 0.99, 99_001)
rate_of_beta = theory.momentum_rate(h, fine, [1.0])
print(f"scan of the rate over beta: smallest {rate_of_beta.min():.6f} at beta = {fine[rate_of_beta.argmin()]:.5f}")
assert abs(fine[rate_of_beta.argmin()] - beta_c) < 2e-5 and np.isclose(rate_of_beta.min(), 1 - np.sqrt(h), atol=1e-5)

k = np.arange(301)
x = optimizers.run(unit, [1.0, 0.0], "momentum", h, beta_c, steps=300).points[:, 0]
closed = (1 - np.sqrt(h)) ** k * (1 + np.sqrt(h) * k)
print(f"max |x_k - (1-sqrt h)^k (1 + sqrt(h) k)| {show_gap(np.abs(x - closed).max(), 1e-14)}; "
      f"sign changes: {np.sum(np.sign(x[1:]) != np.sign(x[:-1]))}")
assert np.allclose(x, closed, rtol=1e-10, atol=1e-15) and np.all(x > 0)

# %% [markdown]
# Critical damping gives the smallest *rate*. At a finite tolerance there is a nuance: the
# double root carries a factor $k$, and a slightly larger $\beta$ that allows a few small ripples
# can settle a little sooner. Measure the step after which $|\tilde x_k|$ stays below $10^{-6}$, for
# 951 values of $\beta$ in one batched run:

# %%
def settled_at(values, tol):
    """First step after which |values| stays <= tol (per row); a never-settled row gets len."""
    above = ~(np.nan_to_num(np.abs(values), nan=np.inf) <= tol)
    n = above.shape[-1]
    return np.where(above[..., -1], n, n - np.argmax(above[..., ::-1], axis=-1))


b_scan = np.linspace(0.0, 0.95, 951)
xs = optimizers.run(unit, [1.0, 0.0], "momentum", h, b_scan, steps=1500).points[..., 0]
settle = settled_at(xs, 1e-6)
monotone = np.all(np.sign(xs[:, 1:]) == np.sign(xs[:, :-1]), axis=1)
best_mono = b_scan[monotone][settle[monotone].argmin()]
print(f"GD (beta = 0): {settle[0]} steps; fastest monotone run: beta = {best_mono:.3f} "
      f"with {settle[monotone].min()} steps ({settle[0] / settle[monotone].min():.2f} times fewer); "
      f"fastest of all: beta = {b_scan[settle.argmin()]:.3f} with {settle.min()} steps")
assert abs(best_mono - beta_c) < 1e-3 and b_scan[monotone].max() < beta_c + 1e-3
assert (settle[0], settle[monotone].min(), settle.min()) == (339, 75, 61)
assert abs(b_scan[settle.argmin()] - 0.647) < 5e-4 and round(settle[0] / settle[monotone].min(), 1) == 4.5

# %% [markdown]
# So $\beta_c$ is the fastest choice that never overshoots, 4.5 times faster than gradient
# descent here (75 steps against 339); accepting tiny ripples buys a little more (61 steps at
# $\beta = 0.647$).
#
# ### All eigenvalues at once: Polyak's optimal pair
#
# With eigenvalues spread over $[\mu, L]$ one $\beta$ and one $\eta$ must serve them all. In the
# complex region every eigen-component has the same rate $\sqrt\beta$, so the best plan is to fit
# the whole spectrum into that region, with the two ends on its boundary:
#
# $$\eta\mu = (1-\sqrt\beta)^2, \qquad \eta L = (1+\sqrt\beta)^2 .$$
#
# Adding and subtracting the square roots gives $\sqrt\eta(\sqrt\mu + \sqrt L) = 2$ and
# $\sqrt\eta(\sqrt L - \sqrt\mu) = 2\sqrt\beta$, so
#
# $$\eta^\star = \left(\frac{2}{\sqrt\mu + \sqrt L}\right)^2, \qquad
# \beta^\star = \left(\frac{\sqrt L - \sqrt\mu}{\sqrt L + \sqrt\mu}\right)^2, \qquad
# \rho^\star = \sqrt{\beta^\star} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1},$$
#
# against gradient descent's $(\kappa-1)/(\kappa+1)$. (That no other pair does better is
# Polyak's theorem, 1964, cited here, not proved; the grid search below covers a finite grid.)
# Check the formulas for the valley ($\mu = 0.2$, $L = 4$): $\rho^\star$ against the spectral radius
# of the matrices $M$ of section 4 at $(\eta^\star, \beta^\star)$ for $\lambda = \mu$ and $\lambda = L$
# (NumPy's eigenvalues; not $2\sqrt{\beta^\star}$), against a grid search of the rate over
# $991 \times 991$ = 982,081 $(\eta, \beta)$ pairs, and against rates measured from runs.

# %%
sm, sL = np.sqrt(mu), np.sqrt(L)
lr_star, beta_star, rho_star = (2 / (sm + sL)) ** 2, ((sL - sm) / (sL + sm)) ** 2, (sL - sm) / (sL + sm)
kappa = L / mu
print(f"formulas: lr* = {lr_star:.6f}, beta* = {beta_star:.6f}, sqrt(beta*) = {np.sqrt(beta_star):.6f}, "
      f"(sqrt(kappa)-1)/(sqrt(kappa)+1) = {(np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1):.6f}, "
      f"2 sqrt(beta*) = {2 * np.sqrt(beta_star):.6f}")
radius_star = [np.abs(np.linalg.eigvals(momentum_matrix(lr_star, beta_star, lam))).max() for lam in (mu, L)]
print(f"spectral radius of M at (lr*, beta*) by NumPy: lambda = mu {radius_star[0]:.6f}, "
      f"lambda = L {radius_star[1]:.6f}")
assert np.allclose(radius_star, (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rtol=1e-6)  # double roots: ~1e-8

lr_axis = np.linspace(0.01, 1.0, 991)
beta_axis = np.linspace(0.0, 0.99, 991)
LRm, Bm = np.meshgrid(lr_axis, beta_axis)
rate_map = theory.momentum_rate(LRm, Bm, [mu, L])
i_best, j_best = np.unravel_index(rate_map.argmin(), rate_map.shape)
print(f"grid search over {rate_map.size:,} pairs: best lr = {lr_axis[j_best]:.3f}, beta = {beta_axis[i_best]:.3f}, "
      f"rate {rate_map.min():.6f}")
assert abs(lr_axis[j_best] - lr_star) < 1e-3 and abs(beta_axis[i_best] - beta_star) < 1e-3 and rate_map.min() >= rho_star - 1e-12

probe_lr = np.array([lr_star, 0.3, 0.5, 0.6, 0.2])
probe_b = np.array([beta_star, 0.5, 0.3, 0.8, 0.1])
runs = optimizers.run(valley, valley.start, "momentum", probe_lr, probe_b, steps=700)
k = np.arange(200, 701)
log_err = np.log(np.hypot(runs.points[:, 200:, 0], runs.points[:, 200:, 1]))
log_err[0] -= np.log(k)  # at the optimum both ends are double roots: error ~ k rate^k
measured = np.exp([np.polyfit(k, row, 1)[0] for row in log_err])  # slope of log(error) over steps 200-700
for a, b_, m_, th in zip(probe_lr, probe_b, measured, theory.momentum_rate(probe_lr, probe_b, [mu, L]),
                         strict=True):
    print(f"  lr = {a:.3f}, beta = {b_:.3f}: measured rate {m_:.5f}, theory {th:.5f}")
assert np.allclose(measured, theory.momentum_rate(probe_lr, probe_b, [mu, L]), rtol=1e-4)
assert measured[0] == measured.min() and np.isclose(measured[0], rho_star, rtol=1e-4)

# %% [markdown]
# ### $\sqrt\kappa$ instead of $\kappa$
#
# To shrink the error by $\varepsilon$ takes about $\ln\varepsilon/\ln\rho$ steps; with
# $\ln\frac{\sqrt\kappa+1}{\sqrt\kappa-1} \approx 2/\sqrt\kappa$ that is about
# $\tfrac{\sqrt\kappa}{2}\ln(1/\varepsilon)$ for momentum against $\tfrac{\kappa}{2}\ln(1/\varepsilon)$
# for gradient descent. Measure both, each at its optimal setting, from $x_0 = (1, 1)$ on
# eigenvalues $(1, \kappa)$, counting the steps until the error stays below $10^{-6}$ of its start.
#
# Momentum will need more than its estimate, and the reason can be computed too. At the optimal
# pair both extreme eigen-components sit on a double root $r$ of their quadratic ($r = \rho$ for
# $\lambda = 1$, $r = -\rho$ for $\lambda = \kappa$), and with $\tilde x_{-1} = \tilde x_0$ a double root gives
# $\tilde x_k = r^k\,(1 + (1-r)k)\,\tilde x_0$ (section 8's critical-damping formula, with $r = 1-\sqrt h$): the
# error decays like $k\rho^k$, not $\rho^k$. In the table, "estimate" is
# $\tfrac{\kappa}{2}\ln(1/\varepsilon)$ for gradient descent and $\tfrac{\sqrt\kappa}{2}\ln(1/\varepsilon)$
# for momentum, and the column
# "$k\rho^k$ formula" counts the steps this closed form needs; the runs are independent of it.

# %%
eps = 1e-6
counts = {}
print("        gradient descent   | momentum")
print(" kappa | estimate  measured | estimate  ln(eps)/ln(rho)  k rho^k formula  measured  measured/estimate"
      " | speed-up")
for kap in [10.0, 100.0, 1000.0]:
    gd_steps, hb_steps = checks.momentum.measured_steps(kap, eps)  # the runs, as in the cell below
    rho_m = theory.optimal_momentum(1.0, kap)[2]
    k = np.arange(20 * int(np.sqrt(kap) * np.log(1 / eps)))
    closed_err = np.hypot(rho_m**k * (1 + (1 - rho_m) * k), rho_m**k * (1 + (1 + rho_m) * k)) / np.sqrt(2)
    closed_steps = int(settled_at(closed_err, eps))
    counts[kap] = (gd_steps, hb_steps, closed_steps)
    est_gd, est_hb = kap / 2 * np.log(1 / eps), np.sqrt(kap) / 2 * np.log(1 / eps)
    print(f"{kap:6.0f} | {est_gd:8.1f}  {gd_steps:8d} | {est_hb:8.1f}  {np.log(eps) / np.log(rho_m):15.1f}  "
          f"{closed_steps:15d}  {hb_steps:8d}  {hb_steps / est_hb:17.2f} | {gd_steps / hb_steps:8.1f}")
    assert abs(gd_steps - est_gd) < 1 and hb_steps == closed_steps
ratios = [counts[kap][1] / (np.sqrt(kap) / 2 * np.log(1 / eps)) for kap in counts]
assert [round(r, 2) for r in ratios] == [1.24, 1.35, 1.44]
assert [round(c[0] / c[1], 1) for c in counts.values()] == [2.6, 7.4, 21.9]
growth = {m: [counts[100.0][i] / counts[10.0][i], counts[1000.0][i] / counts[100.0][i]] for i, m in enumerate(["GD", "momentum"])}
print(f"per decade of kappa the step count grows x{growth['GD'][0]:.1f}, x{growth['GD'][1]:.1f} for GD and "
      f"x{growth['momentum'][0]:.2f}, x{growth['momentum'][1]:.2f} for momentum (sqrt(10) = {np.sqrt(10):.2f})")
assert all(abs(g - 10) < 0.05 for g in growth["GD"]) and all(3.35 < g < 3.45 for g in growth["momentum"])

# %% [markdown]
# The library function used above is short; here it is written out for $\kappa = 100$, to
# show exactly what was counted:

# %%
s100 = surfaces.quadratic([1.0, 100.0])
lr_g, _ = theory.optimal_gd(1.0, 100.0)
lr_m, beta_m, _ = theory.optimal_momentum(1.0, 100.0)
for method, a, b_ in [("gd", lr_g, 0.0), ("momentum", lr_m, beta_m)]:
    err = np.linalg.norm(optimizers.run(s100, [1.0, 1.0], method, a, b_, steps=1500).points, axis=-1)
    n = int(settled_at(err / np.sqrt(2), eps))
    print(f"{method:8s}: error stays below 1e-6 of its start from step {n}")
    assert n == counts[100.0][0 if method == "gd" else 1]

# %% [markdown]
# From $\kappa = 10$ to 100 and from 100 to 1000, gradient descent's count grows tenfold, momentum's
# by 3.4, a little more than $\sqrt{10} = 3.16$. Momentum needs 24 to 44 % more steps than the estimate
# $\tfrac{\sqrt\kappa}{2}\ln(1/\varepsilon)$, and exactly as many as the $k\rho^k$ formula of the
# double root predicts: the factor $k$ costs the extra steps.
#
# ## 9. The rate map
#
# Put it together in one picture: the rate $\max_{\lambda\in[\mu,L]}$ (spectral radius) over the
# $(\eta, \beta)$ plane, for the valley's $\mu = 0.2$, $L = 4$. The black lines are the regime
# boundaries of the two extreme eigen-components (section 6): dashed, $\eta\mu = (1-\sqrt\beta)^2$,
# where the flat end's roots turn complex; dotted, $\eta L = (1-\sqrt\beta)^2$, where the steep
# end's do; solid, $\eta L = (1+\sqrt\beta)^2$, where the steep end's turn real and negative.
# Between the dashed and the solid line *both* ends are in the ripple regime and the rate is
# exactly $\sqrt\beta$; the optimum sits at the bottom tip of that wedge, where the two lines meet.
# Left of the dashed line the flat direction is monotone and slow (where that side also lies
# right of the dotted line and left of the solid one, the steep end already ripples, but the flat
# end sets the rate, which is above $\sqrt\beta$); right of the solid line the steep direction
# flips sign every step; past the dash-dotted (pink) line $\eta = (2+2\beta)/L$ it diverges. Which
# regime each end is in is section 6's table applied to $\lambda = \mu$ and $\lambda = L$ (section 6
# checked the table against the library on a grid; with $\mu < L$, "both ends ripple" is the same as
# "right of the dashed and left of the solid line"). What is new is the rate: the cell after the
# figure checks, on every third point of the map's grid each way, that the rate (the larger spectral
# radius of the matrices $M$ of section 4 for $\lambda = \mu$ and $\lambda = L$, from NumPy's
# eigenvalues, not from the library's formula, which returns $\sqrt{\det M}$ for complex roots by
# construction) equals $\sqrt\beta$ to within $10^{-9}$ at the points between the dashed and the solid
# line and nowhere else (elsewhere it is larger; it cannot be smaller, since the two roots' product
# is $\beta$), leaving out the few grid points within $10^{-9}$ of a line, and it finds the lowest row
# of the wedge on the whole grid.

# %%
fig, ax = plt.subplots(figsize=(8.5, 4.6))
shown = np.where(rate_map < 1, rate_map, np.nan)[::2, ::2]  # every second grid point each way: enough to draw
im = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis_r", vmin=rho_star, vmax=1.0,
               extent=[lr_axis[0], lr_axis[-1], beta_axis[0], beta_axis[-1]])
ax.set_facecolor("0.85")
fig.colorbar(im, ax=ax, label="rate per step (grey: diverges)")
cs = ax.contour(LRm[::3, ::3], Bm[::3, ::3], rate_map[::3, ::3], levels=[0.7, 0.8, 0.9, 0.95], colors="w",
                linewidths=0.7)
ax.clabel(cs, fontsize=8)
bb = np.linspace(0, 0.99, 300)
ax.plot((1 - np.sqrt(bb)) ** 2 / mu, bb, "k--", linewidth=1, label=r"$\eta\mu = (1-\sqrt{\beta})^2$ (flat end)")
ax.plot((1 - np.sqrt(bb)) ** 2 / L, bb, "k:", linewidth=1, label=r"$\eta L = (1-\sqrt{\beta})^2$ (steep end)")
ax.plot((1 + np.sqrt(bb)) ** 2 / L, bb, "k-", linewidth=1, label=r"$\eta L = (1+\sqrt{\beta})^2$")
ax.plot((2 + 2 * bb) / L, bb, "-.", color="#CC79A7", linewidth=2, label=r"$\eta L = 2+2\beta$: divergence")
ax.plot(lr_star, beta_star, "*", color="gold", markeredgecolor="k", markersize=16,
        label=rf"optimum: $\eta^\star$={lr_star:.3f}, $\beta^\star$={beta_star:.3f}, rate {rho_star:.3f}")
ax.plot(lr_gd, 0.0, "o", color=plotting.METHOD_COLORS["gd"], markeredgecolor="k", markersize=9, clip_on=False,
        label=f"best gradient descent: rate {rate_gd:.3f}")
ax.set_xlim(lr_axis[0], lr_axis[-1])
ax.set_ylim(0, 0.99)
ax.set_xlabel(r"learning rate $\eta$")
ax.set_ylabel(r"momentum $\beta$")
ax.text(0.05, 0.25, "flat end\nmonotone:\nslow", fontsize=9, color="w")
ax.text(0.45, 0.715, "ripples at both ends: rate = " + r"$\sqrt{\beta}$", fontsize=9, ha="center", va="center")
ax.annotate("steep end\nflips sign", xy=(0.42, 0.04), xytext=(0.6, 0.12), fontsize=9,
            arrowprops=dict(arrowstyle="->"))
ax.text(0.85, 0.12, "diverges", fontsize=10)
ax.set_title(r"heavy-ball rate over $(\eta,\beta)$ for eigenvalues in $[0.2, 4]$")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8)
fig.tight_layout()
plt.show()
print(f"on the map: rate at the optimum {theory.momentum_rate(lr_star, beta_star, [mu, L]):.4f}, "
      f"best on the beta = 0 axis {theory.momentum_rate(lr_axis, 0.0, [mu, L]).min():.4f} (gradient descent)")

# %%
tip = beta_axis[((LRm > (1 - np.sqrt(Bm)) ** 2 / mu) & (LRm < (1 + np.sqrt(Bm)) ** 2 / L)).any(axis=1)].min()
LRc, Bc, rate_c = LRm[::3, ::3], Bm[::3, ::3], rate_map[::3, ::3]  # every third grid point each way
sb = np.sqrt(Bc)
dashed, dotted, solid, dashdot = (1 - sb) ** 2 / mu, (1 - sb) ** 2 / L, (1 + sb) ** 2 / L, (2 + 2 * Bc) / L
off_lines = np.min(np.abs(np.stack([dashed, dotted, solid, dashdot]) - LRc), axis=0) > 1e-9


def radius_by_numpy(lr, beta, lam):
    """Spectral radius of section 4's matrix M, one per entry of the arrays lr and beta, by np.linalg.eigvals."""
    M = np.zeros(np.shape(lr) + (2, 2))  # a stack of momentum_matrix(lr, beta, lam)
    M[..., 0, 0], M[..., 0, 1], M[..., 1, 0] = 1 + beta - lr * lam, -beta, 1.0
    assert np.array_equal(M.reshape(-1, 2, 2)[-1], momentum_matrix(np.ravel(lr)[-1], np.ravel(beta)[-1], lam))
    return np.abs(np.linalg.eigvals(M)).max(axis=-1)


rate_np = np.maximum(radius_by_numpy(LRc, Bc, mu), radius_by_numpy(LRc, Bc, L))
rate_is_sqrt_beta = np.abs(rate_np - sb) < 1e-9  # the rate from NumPy's eigenvalues of M at mu and at L
wedge = (LRc > dashed) & (LRc < solid)  # between the dashed and the solid line
print(f"grid points off the lines: {int(off_lines.sum())}; the rate (NumPy's eigenvalues) equals sqrt(beta) within "
      f"1e-9 at {int(rate_is_sqrt_beta[off_lines].sum())} of them, between the dashed and the solid line: "
      f"{int(wedge[off_lines].sum())}, at the same points: {np.array_equal(rate_is_sqrt_beta[off_lines], wedge[off_lines])}")
print(f"largest |rate - sqrt(beta)| inside the wedge {show_gap(np.abs(rate_np - sb)[off_lines & wedge].max(), 1e-12)}; "
      f"smallest outside it {np.abs(rate_np - sb)[off_lines & ~wedge].min():.1e}")
assert np.allclose(rate_np[off_lines], rate_c[off_lines], rtol=1e-9, atol=0)  # NumPy and the library's formula agree
print(f"lowest row of the wedge on the grid: beta = {tip:.3f} (beta* = {beta_star:.4f})")
assert np.array_equal(rate_is_sqrt_beta[off_lines], wedge[off_lines])
assert abs(tip - beta_star) < 2e-3

# %% [markdown]
# ### The map, interactive
#
# The widget below draws the same map for eigenvalues $[1/\kappa, 1]$ (so $L = 1$ and the
# horizontal axis is $\eta L$; divide by 4 to read it on the valley above), with a slider for the
# condition number. Click on the map, or drag **lr** (the slider for $\eta$) and **momentum β**, and
# the iterates of that pair appear on the right, with the error against the line $\rho^k\|x_0\|$ that theory predicts.
# Things to try: put the point in each of the four regions; find the optimum for $\kappa = 20$, then
# raise $\kappa$ to 1000 and watch the wedge of ripples move up towards $\beta = 1$ (its tip, the
# optimum, moves from $\beta^\star = 0.403$ to $0.881$); pick $\beta = 0.99$ and see that no learning
# rate gives a rate below $\sqrt{0.99}$ (none can: the two roots' product is $\beta$).

# %%
rate_widget = RateMap(kappa=20, lr=2.0, beta=0.6)
rate_widget

# %% [markdown]
# The widget's problem is the valley rescaled: eigenvalues $[0.05, 1]$ at $\eta = 2$ give the same
# products $\eta\lambda$ (0.1 and 2) as $[0.2, 4]$ at $\eta = 0.5$, hence the same iterates, and its
# optimum is at $4\eta^\star$. What the readout says, checked against a run on the valley (the rate
# measured from the iterates) and against the grid search of section 8. The number of steps the
# readout gives beside the optimum is the estimate $\lceil \ln\varepsilon/\ln\rho\rceil$ with
# $\varepsilon = 10^{-6}$ (31 for $\kappa = 20$), not a count from a run: at the optimum both extreme
# eigen-components sit on double roots (section 8), and a run at the widget's optimum needs 38 steps
# from the widget's start and 39 from $(1, 1)$ until its error stays below $10^{-6}$ of its start.

# %%
print(*rate_widget.readout_lines(), sep="\n")
on_valley = optimizers.run(valley, rate_widget.start, "momentum", 0.5, 0.6, steps=rate_widget.steps).points
k = np.arange(len(on_valley))
measured_rate = np.exp(np.polyfit(k[20:], np.log(np.linalg.norm(on_valley[20:], axis=-1)), 1)[0])
print(f"largest difference between the widget's run and the valley's run at lr = 0.5: "
      f"{show_gap(np.abs(rate_widget.run.points - on_valley).max())}")
print(f"rate measured from the valley's run {measured_rate:.4f}; widget {rate_widget.rate:.4f}")
print(f"widget optimum lr*L = {rate_widget.optimum[0]:.4f}, beta = {rate_widget.optimum[1]:.4f}; "
      f"grid search of section 8 times 4: lr = {4 * lr_axis[j_best]:.3f}, beta = {beta_axis[i_best]:.3f}")
print("optimal beta for kappa = 20 and 1000:", [round(RateMap(kappa=kap).optimum[1], 3) for kap in (20, 1000)])
assert np.isclose(measured_rate, rate_widget.rate, rtol=1e-3)
assert abs(rate_widget.optimum[0] - 4 * lr_axis[j_best]) < 4e-3 and abs(rate_widget.optimum[1] - beta_axis[i_best]) < 1e-3
assert [round(RateMap(kappa=kap).optimum[1], 3) for kap in (20, 1000)] == [0.403, 0.881]
rho_20 = theory.optimal_momentum(1 / 20, 1.0)[2]
estimate_20 = int(np.ceil(np.log(1e-6) / np.log(rho_20)))
s20 = surfaces.quadratic([1 / 20, 1.0])
runs_20 = {}
for name, x0 in [("the widget's start", rate_widget.start), ("(1, 1)", np.array([1.0, 1.0]))]:
    path = optimizers.run(s20, x0, "momentum", rate_widget.optimum[0], rate_widget.optimum[1], steps=200).points
    runs_20[name] = int(settled_at(np.linalg.norm(path, axis=-1) / np.linalg.norm(x0), 1e-6))
print(f"kappa = 20 at the widget's optimum: estimate ceil(ln 1e-6 / ln rho) = {estimate_20} steps; runs: "
      + ", ".join(f"{n} steps from {name}" for name, n in runs_20.items()))
assert estimate_20 == 31 and list(runs_20.values()) == [38, 39]

# %% [markdown]
# ## 10. Beyond quadratics: the Rosenbrock valley
#
# On Rosenbrock's curved valley ($\kappa \approx 2500$ at the minimum) gradient descent
# crawls (lesson 01). Momentum takes longer steps, at the price of overshooting: its loss goes up
# on some steps. Try $\beta$ = 0, 0.5, 0.9, 0.97 with the learning rate
# fixed, then raise the learning rate until the momentum path diverges, and compare with the limit
# $(2+2\beta)/L_{\text{local}}$ of section 5, with $L_{\text{local}} \approx 1001.6$ the largest
# eigenvalue of the Hessian at the minimum. (That limit describes the quadratic near the minimum
# only: the cells below find where the runs from the explorer's start actually diverge.)

# %%
TrajectoryExplorer(surface="rosenbrock", lr=1e-3, momentum=0.9, steps=600, methods=("gd", "momentum"))

# %% [markdown]
# The same comparison as numbers, for the explorer's starting setting:

# %%
def rosen_hessian(x, y):
    """The Hessian of (1 - x)^2 + 100 (y - x^2)^2, by hand."""
    return np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])


def fd_hessian(grad, p, h=1e-5):
    """The Hessian by central differences of the gradient, column by column."""
    return np.column_stack([(grad(p + h * e) - grad(p - h * e)) / (2 * h) for e in np.eye(2)])


eig_min = np.linalg.eigvalsh(rosen_hessian(1.0, 1.0))
eig_start = np.linalg.eigvalsh(rosen_hessian(*rosen.start))
print(f"Hessian at the minimum: eigenvalues {eig_min[0]:.4f} and {eig_min[1]:.1f}, kappa = {eig_min[1] / eig_min[0]:.0f}; "
      f"at the start ({rosen.start[0]:g}, {rosen.start[1]:g}): largest eigenvalue {eig_start[1]:.0f}")
assert np.allclose(fd_hessian(rosen.grad, np.array([1.0, 1.0])), rosen_hessian(1.0, 1.0), rtol=1e-6)
assert np.allclose(fd_hessian(rosen.grad, rosen.start), rosen_hessian(*rosen.start), rtol=1e-6)
assert round(eig_min[1], 1) == 1001.6 and 2450 < eig_min[1] / eig_min[0] < 2550

losses_600, median_steps = [], []
for beta in [0.0, 0.5, 0.9, 0.97]:
    method = "gd" if beta == 0 else "momentum"
    r = optimizers.run(rosen, rosen.start, method, 1e-3, beta, steps=600)
    reached = r.steps_to(1e-6)
    losses_600.append(r.losses[-1])
    median_steps.append(np.median(np.linalg.norm(np.diff(r.points[20:301], axis=0), axis=-1)))
    print(f"beta = {beta:4}: loss after 600 steps {r.losses[-1]:.2e}; "
          f"first within 1e-6 of the minimum at step {reached if reached is not None else '-'}; "
          f"the loss rises on {int(np.sum(np.diff(r.losses) > 0))} of the 600 steps; median step over steps "
          f"20-300 {median_steps[-1]:.4f} ({median_steps[-1] / median_steps[0]:.1f} x GD's); "
          f"largest x {r.points[:, 0].max():+.2f}")
    assert (np.sum(np.diff(r.losses) > 0) == 0) == (beta == 0)  # only gradient descent never overshoots here
    assert (r.points[:, 0].max() > 1) == (beta == 0.97)  # only beta = 0.97 runs past the minimum's x = 1
    assert beta != 0.97 or round(r.points[:, 0].max(), 2) == 1.43
assert all(a > b for a, b in zip(losses_600, losses_600[1:], strict=False))
assert [round(m / median_steps[0], 1) for m in median_steps[1:]] == [2.0, 7.4, 5.0]

lr_try = np.round(np.arange(1e-3, 4e-3, 1e-5), 5)
diverged_r = np.asarray(optimizers.run(rosen, rosen.start, "momentum", lr_try, 0.9, steps=600).diverged)
first_div, last_conv = lr_try[diverged_r].min(), lr_try[~diverged_r].max()
mixed = (lr_try >= first_div) & (lr_try <= last_conv)
limit, limit_start = (2 + 2 * 0.9) / eig_min[1], (2 + 2 * 0.9) / eig_start[1]
print(f"beta = 0.9, 600 steps from the start, lr on a grid of step 1e-5 from {lr_try[0]:.5f} to {lr_try[-1]:.5f}:")
print(f"  every lr up to {lr_try[lr_try < first_div].max():.5f} stays bounded; the first to diverge is {first_div:.5f} "
      f"({first_div / limit:.0%} of (2 + 2 beta)/L_local = {limit:.5f})")
print(f"  from {first_div:.5f} to {last_conv:.5f}: {int((~diverged_r[mixed]).sum())} of {int(mixed.sum())} stay bounded, "
      f"the others diverge; the last to stay bounded is {last_conv:.5f} ({last_conv / limit:.0%}); all above diverge")
bounded = lr_try[~diverged_r]  # did not diverge in 600 steps; do they converge? Run them 5,000 steps
long_runs = optimizers.run(rosen, rosen.start, "momentum", bounded, 0.9, steps=5000)
final_loss = np.asarray(long_runs.losses)[:, -1]  # f - f* (f* = 0)
print(f"  the {bounded.size} bounded runs continued to 5,000 steps: {int(np.sum(long_runs.diverged))} diverge; "
      f"final loss at most {final_loss.max():.1e} (at lr = {bounded[final_loss.argmax()]:.5f}), "
      f"below 1e-28 for every lr from 0.00182 on: {bool(np.all(final_loss[bounded >= 0.00182 - 1e-12] < 1e-28))}")
assert not np.any(long_runs.diverged) and final_loss.max() < 1e-18
assert np.all(final_loss[bounded >= 0.00182 - 1e-12] < 1e-28)
passed_start = (lr_try > limit_start) & (lr_try < first_div)
print(f"  the limit from the start's curvature, (2 + 2 beta)/{eig_start[1]:.0f} = {limit_start:.6f}, is passed by "
      f"{int(passed_start.sum())} converging runs, lr = {lr_try[passed_start].min():.5f} to {lr_try[passed_start].max():.5f}")
assert (first_div, last_conv) == (0.00208, 0.00239) and int((~diverged_r[mixed]).sum()) == 11
assert round(first_div / limit, 2) == 0.55 and round(last_conv / limit, 2) == 0.63
assert round(eig_start[1], -2) == 2100 and 1.9 < eig_start[1] / eig_min[1] < 2.2
assert round(limit_start, 6) == 0.001816 and passed_start.sum() > 0

# %% [markdown]
# So the loss after 600 steps falls as $\beta$ grows from 0 to 0.97 here; every momentum run takes
# longer steps than gradient descent (2.0, 7.4 and 5.0 times its median step over steps 20 to 300) and
# overshoots (its loss rises on some steps; with $\beta = 0.97$ the path runs past the minimum to
# $x = 1.43$), while gradient descent's loss never rises. The divergence limit of the minimum does not
# carry over to the whole path, and here divergence is not even monotone in $\eta$: with $\beta = 0.9$
# every $\eta$ up to 0.00207 stays bounded for 600 steps, 0.00208 (55 % of $(2+2\beta)/L_{\text{local}}$)
# diverges, from there to 0.00239 (63 %) diverging and bounded learning rates alternate (11 of the 32
# stay bounded), and from 0.00240 on all diverge. Bounded is not yet converged (at $\eta = 0.001$ the
# loss after 600 steps is still $1.8\cdot 10^{-3}$), so the cell runs the 119 bounded ones on to 5,000
# steps: none diverges, every final loss is below $10^{-18}$ (the largest, $2.0\cdot 10^{-19}$, at
# $\eta = 0.001$), and below $10^{-28}$ from $\eta = 0.00182$ on: they converge. The curvature at the start
# does not give the threshold either: the Hessian's largest eigenvalue there is about 2,100, twice its
# value at the minimum, and its limit $(2+2\beta)/2092 = 0.001816$ is passed by every learning rate of
# the grid from 0.00182 to 0.00207, and all of them converge.
#
# ## 11. Two claims about "too much" momentum, tested
#
# Articles about momentum say, for instance (two of the course's seed texts, in Chinese; the
# translations are the course's, and "[$\beta$]" stands for the seed's $\gamma$):
#
# 1. Seed 002 (`data/seeds/002_f70065683ff95f85.txt`, section 3.4 "动量的消失问题", the vanishing of
#    momentum, line 161), translated: *"In extreme cases, if the momentum coefficient [$\beta$] is too
#    large, the momentum may gradually vanish at every iteration, so that the Momentum optimizer
#    degenerates into traditional gradient descent."*
# 2. Seed 000 (`data/seeds/000_a8b9852b0ec674d4.txt`, section 2 "核心概念与联系", core concepts,
#    line 11), translated: *"too large a momentum value may make the model converge too slowly, too
#    small a momentum value may make it converge too fast."*
#
# The theory above says what large $\beta$ does: past gradients keep their weight longer
# (weight $\beta^j$, amplification $1/(1-\beta)$), and the rate in the ripple regime is
# $\sqrt\beta \to 1$. Gradient descent is the other end, $\beta = 0$. Test both claims on
# eigenvalues $\{1, 100\}$ ($\kappa = 100$), each $\beta$ with the learning rates that minimise the
# rate. Up to $\beta^\star$ that is one learning rate (a grid search with spacing $10^{-6}$; at
# $\beta = 0$ the formula's $2/(\mu + L)$ and at $\beta^\star$ the formula's $\eta^\star$, as in section 8). Past $\beta^\star$ the best rate, $\sqrt\beta$, is reached on a
# whole interval, the learning rates for which both ends ripple (section 9's wedge):
# $(1-\sqrt\beta)^2/\mu \le \eta \le (1+\sqrt\beta)^2/L$, checked against the grid's minimisers (their
# rates from NumPy's eigenvalues of $M$ at $\lambda = 1$ and $\lambda = 100$). Run
# 101 learning rates across each interval from the start $(1, 1)$, and measure the steps until the
# error stays below $10^{-6}$ of its start (fewest to most over the interval), and the rate in the
# middle of the interval (the slope of $\log\|x_k\|$ from step 100 on, until the error reaches
# $10^{-250}$).

# %%
lam2 = [1.0, 100.0]
s2 = surfaces.quadratic(lam2)
lr_opt2, beta_opt2, _ = theory.optimal_momentum(*lam2)
beta_list = np.array([0.0, 0.2, 0.5, beta_opt2, 0.68, 0.75, 0.8, 0.9, 0.95, 0.99])
past = beta_list > beta_opt2 + 1e-9  # more momentum than the optimum
lr_fine = np.linspace(1e-6, 0.04, 40_000)  # spacing 1e-6
rates_fine = theory.momentum_rate(lr_fine[None, :], beta_list[:, None], lam2)
# the learning rates that minimise the rate: one point up to beta*, from beta* on the interval
# where both ends ripple, (1 - sqrt(beta))^2/mu <= lr <= (1 + sqrt(beta))^2/L (section 9's wedge)
lo = np.where(past, (1 - np.sqrt(beta_list)) ** 2 / lam2[0], lr_fine[rates_fine.argmin(axis=1)])
hi = np.where(past, (1 + np.sqrt(beta_list)) ** 2 / lam2[1], lo)
lo[3] = hi[3] = lr_opt2  # at beta* the interval is the single point lr*
lo[0] = hi[0] = theory.optimal_gd(*lam2)[0]  # at beta = 0 gradient descent's 2/(mu + L), as in section 8
for i in np.flatnonzero(past):  # the formula's interval against the grid's set of minimisers
    rate_np_i = np.maximum(*(radius_by_numpy(lr_fine, np.full_like(lr_fine, beta_list[i]), lam) for lam in lam2))
    ties = lr_fine[rate_np_i <= np.sqrt(beta_list[i]) * (1 + 1e-9)]  # NumPy's eigenvalues, not theory's formula
    assert abs(ties.min() - max(lo[i], lr_fine[0])) < 2e-6 and abs(ties.max() - hi[i]) < 2e-6
assert abs(lr_fine[rates_fine[3].argmin()] - lr_opt2) < 2e-6
lr_grid = lo[:, None] + np.linspace(0, 1, 101)[None, :] * (hi - lo)[:, None]  # 101 lr's per beta
error = np.array([np.linalg.norm(optimizers.run(s2, [1.0, 1.0], "momentum", lr_grid[i], beta_list[i], steps=4600).points,
                                 axis=-1) for i in progress(range(len(beta_list)), desc="10 momenta x 101 learning rates")])
steps_needed = settled_at(error / np.sqrt(2), 1e-6)  # error: shape (10, 101, 4601); steps_needed: (10, 101)
k = np.arange(error.shape[-1])
log_mid = np.log(np.maximum(error[:, 50], 1e-300))  # the middle of each interval
log_mid[3] -= np.log(np.maximum(k, 1))  # at (lr*, beta*) both ends are double roots: error ~ k rate^k (section 8)
measured_rate = np.array([np.exp(np.polyfit(k[(k >= 100) & (e > -575)], e[(k >= 100) & (e > -575)], 1)[0])
                          for e in log_mid])  # slope of log(error) from step 100 until the error reaches 1e-250
best_rate = theory.momentum_rate(lr_grid[:, 50], beta_list, lam2)
fewest, most = steps_needed.min(axis=1), steps_needed.max(axis=1)
print(" beta   lr minimising the rate   rate (theory)  rate (measured)  sqrt(beta)  steps to 1e-6 over those lr")
for b, a, a_hi, r_, m_, n1, n2 in zip(beta_list, lo, hi, best_rate, measured_rate, fewest, most, strict=True):
    lr_text = f"{a:.5f}" if a == a_hi else f"{a:.5f} to {a_hi:.5f}"
    steps_text = f"{n1}" if n1 == n2 else f"{n1} to {n2}"
    print(f"{b:5.3f}  {lr_text:>22s}  {r_:13.4f}  {m_:15.4f}  {np.sqrt(b):10.4f}  {steps_text:>14s}")
print(f"beta = 0.68: fewest steps {fewest[4]} at lr = {lr_grid[4, steps_needed[4].argmin()]:.4f}, "
      f"against {fewest[3]} at (lr*, beta*)")
refined = {}
for i in (5, 6):  # beta = 0.75 and 0.8, the closest to the optimum's count: 4,001 learning rates across the interval
    lr_dense = np.linspace(lo[i], hi[i], 4001)
    err_dense = np.linalg.norm(optimizers.run(s2, [1.0, 1.0], "momentum", lr_dense, beta_list[i], steps=400).points, axis=-1)
    n_dense = settled_at(err_dense / np.sqrt(2), 1e-6)
    refined[beta_list[i]] = (int(n_dense.min()), lr_dense[n_dense.argmin()])
    assert np.all(n_dense < err_dense.shape[-1])
    print(f"beta = {beta_list[i]}: best of 4,001 learning rates {n_dense.min()} steps (lr = {lr_dense[n_dense.argmin()]:.5f}), "
          f"best of 101 {fewest[i]}; at (lr*, beta*) {fewest[3]}: {n_dense.min() - fewest[3]} more")
assert np.all(steps_needed < error.shape[-1])  # every run settled within the budget
assert np.allclose(measured_rate, best_rate, rtol=1e-3)
assert np.allclose(measured_rate[past], np.sqrt(beta_list[past]), rtol=1e-3)  # past the optimum: sqrt(beta)
assert np.all(measured_rate[:3] > np.sqrt(beta_list[:3]) + 0.2)  # below it: the flat end's real root, far above
assert np.all(np.diff(fewest[:4]) < 0) and np.all(np.diff(fewest[4:]) > 0)
assert fewest[4] < fewest[3] < fewest[5] and round(lr_grid[4, steps_needed[4].argmin()], 4) == 0.0319
assert fewest[4] == 74 and list(fewest[5:]) == [96, 122, 255, 521, 2705]
assert (fewest[0], fewest[1], fewest[2], fewest[3]) == (691, 463, 224, 93) and fewest[0] == counts[100.0][0]
assert refined[0.75][0] == 94 and round(refined[0.75][1], 5) == 0.02116 and refined[0.8][0] == 119
assert all(n > fewest[3] for n, _ in refined.values())

# %% [markdown]
# Below the optimum the table has four values of $\beta$. Between them, a denser scan: 68 values of
# $\beta$ from 0 to $\beta^\star$ (spacing about 0.01), each with the learning rate that minimises the
# rate (the same grid of spacing $10^{-6}$; at $\beta = 0$ and $\beta^\star$ the formulas' learning rates), run from $(1, 1)$
# and counted in the same way:

# %%
beta_below = np.linspace(0.0, beta_opt2, 68)
lr_below = lr_fine[theory.momentum_rate(lr_fine[None, :], beta_below[:, None], lam2).argmin(axis=1)]
lr_below[0], lr_below[-1] = lo[0], lr_opt2  # at beta = 0 the formula's 2/(mu + L), at beta* the formula's lr*
err_below = np.linalg.norm(optimizers.run(s2, [1.0, 1.0], "momentum", lr_below, beta_below, steps=800).points, axis=-1)
steps_below = settled_at(err_below / np.sqrt(2), 1e-6)
print(f"{beta_below.size} values of beta from 0 to beta* = {beta_opt2:.4f}: steps to 1e-6 from {steps_below[0]} to "
      f"{steps_below[-1]}; the count falls with every increase of beta: {bool(np.all(np.diff(steps_below) < 0))}")
print("every 7th:", ", ".join(f"beta = {b:.3f}: {n}" for b, n in zip(beta_below[::7], steps_below[::7], strict=True)))
assert np.all(steps_below < err_below.shape[-1]) and np.all(np.diff(steps_below) < 0)
assert (steps_below[0], steps_below[-1]) == (691, 93)  # the printed ends (the table's runs at beta = 0 and beta*)

# %% [markdown]
# And the distance from gradient descent: run both with the same learning rate and compare the
# iterates. If large $\beta$ "degenerated into gradient descent", the gap would shrink as
# $\beta \to 1$:

# %%
gd_path = optimizers.run(valley, valley.start, "gd", 0.1, steps=100).points
print(" beta   max distance from the GD path over 100 steps   step on a constant slope (x lr)")
gaps = []
for b in [0.0, 0.01, 0.1, 0.5, 0.9, 0.99]:
    hb_path = optimizers.run(valley, valley.start, "momentum", 0.1, b, steps=100).points
    gaps.append(np.linalg.norm(hb_path - gd_path, axis=-1).max())
    print(f"{b:5}  {gaps[-1]:26.3f}  {1 / (1 - b):36.1f}")
print(f"beta = 0.99: the ripple modulus sqrt(beta) = {np.sqrt(0.99):.3f}")
assert gaps[0] == 0 and all(g1 < g2 for g1, g2 in zip(gaps, gaps[1:], strict=False))

# %% [markdown]
# Verdicts:
#
# * **Claim 1 does not hold; it is backwards.** Momentum *is* gradient descent at $\beta = 0$ and, on
#   the valley at $\eta = 0.1$, departs from it further at each of the six $\beta$ measured; with
#   $\beta = 0.99$ the buffer multiplies a steady gradient by 100 and the iterate rings with modulus
#   $\sqrt{0.99} = 0.995$.
# * **"Too large slows convergence" holds** on this problem, for the rate: no learning rate gives a
#   rate below $\sqrt\beta$ (the two roots' product is $\beta$), and past the optimum the best learning
#   rates reach exactly that (the rates measured for $\beta$ = 0.68 to 0.99 agree with $\sqrt\beta$ to
#   0.1 %). In steps to $10^{-6}$ there is a nuance just past the optimum: $\beta = 0.68$ with
#   $\eta = 0.0319$ settles in 74 steps, fewer than the 93 of $(\eta^\star, \beta^\star)$, as in section 8,
#   where a $\beta$ a little above critical damping settled in 61 steps against 75. From $\beta = 0.75$ on, even
#   the best of the 101 learning rates run across the interval needs more steps than $(\eta^\star, \beta^\star)$,
#   and the fewest steps grow with $\beta$: 96, 122, 255, 521 and 2,705 at $\beta$ = 0.75, 0.8, 0.9, 0.95, 0.99.
#   The margin is smallest at $\beta = 0.75$: with 4,001 learning rates across its interval the best needs
#   94 steps ($\eta = 0.02116$), one more than the 93 of $(\eta^\star, \beta^\star)$ (at 0.8: 119).
# * **"Too small makes it converge too fast" does not hold**: a small $\beta$ approaches gradient
#   descent, which is *slower* here (691 steps at $\beta = 0$, as in section 8, 463 at $\beta = 0.2$, 224 at 0.5, 93 at
#   $\beta^\star$; on the scan of 68 values of $\beta$ from 0 to $\beta^\star$, fewer steps with each
#   increase of $\beta$). None of these runs, each
#   $\beta$ with its best constant learning rates, converges "too fast".

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.5))
bb = np.linspace(0, 0.995, 400)
rate_curve = [theory.momentum_rate(lr_fine[::10], b, lam2).min() for b in bb]  # lr spacing 1e-5 for the curve
ax.plot(bb, rate_curve, "k-", label=r"best rate for each $\beta$ (theory)")
ax.plot(bb, np.sqrt(bb), "--", color="0.5", label=r"$\sqrt{\beta}$")
ax.plot(beta_list[1:], measured_rate[1:], "o", color=plotting.METHOD_COLORS["momentum"],
        label="momentum: rate measured from the runs above")
ax.plot(0, measured_rate[0], "s", color=plotting.METHOD_COLORS["gd"], markersize=8,
        label=r"$\beta = 0$ (gradient descent): measured")
for i, (b, r_, n1, n2) in enumerate(zip(beta_list, measured_rate, fewest, most, strict=True)):
    offset = {3: (4, -12), 5: (4, -12), 8: (2, -13), 9: (-44, 6)}.get(i, (-14, 6))  # keep the labels apart
    ax.annotate(f"{n1}" if n1 == n2 else f"{n1}-{n2}", (b, r_), textcoords="offset points",
                xytext=offset, fontsize=8)
ax.set_xlabel(r"momentum $\beta$")
ax.set_ylabel("rate per step")
ax.set_title(r"eigenvalues $\{1, 100\}$: numbers are measured steps to $10^{-6}$ (fewest-most over the best $\eta$)",
             fontsize=10)
ax.legend(loc="lower left", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# * Momentum adds a fraction of the previous step: $x_{k+1} = x_k - \eta g_k + \beta(x_k - x_{k-1})$
#   (Polyak, 1964). The Sutskever form and PyTorch's form give identical iterates with a constant
#   learning rate and different ones when it changes ($\eta$ = 0.1 then 0.01 on a unit slope:
#   $-0.200$ for Polyak and Sutskever, $-0.119$ for PyTorch; after a drop PyTorch's step shrinks at
#   once, while Sutskever's excess over it fades by the factor $\beta$ per step).
# * PyTorch's buffer is $\sum_j \beta^j g_{k-1-j}$: all past gradients, weights decaying by $\beta$,
#   a steady gradient amplified by $1/(1-\beta)$.
# * On a quadratic each eigen-component follows a $2\times2$ matrix with trace $1+\beta-\eta\lambda$ and
#   determinant $\beta$; the rate is its spectral radius.
# * With $0 \le \beta < 1$ it converges iff $0 < \eta\lambda < 2+2\beta$; the regimes are monotone, ripples (complex roots,
#   rate exactly $\sqrt\beta$, not $2\sqrt\beta$), sign-flipping oscillation, divergence.
# * Critical damping $\beta = (1-\sqrt{\eta\lambda})^2$ gives the double root $1-\sqrt{\eta\lambda}$;
#   Polyak's pair $\eta = 4/(\sqrt\mu+\sqrt L)^2$, $\beta = \big(\tfrac{\sqrt L-\sqrt\mu}{\sqrt L+\sqrt\mu}\big)^2$
#   gives the rate $(\sqrt\kappa-1)/(\sqrt\kappa+1)$. Measured on eigenvalues $(1, \kappa)$ from $(1, 1)$
#   to $\varepsilon = 10^{-6}$, for $\kappa$ = 10, 100 and 1000: the steps grow by 3.4 per decade of $\kappa$
#   against 10 for gradient descent at its best step, and are 24 to 44 % above $\tfrac{\sqrt\kappa}{2}\ln(1/\varepsilon)$, as the double roots
#   of the extreme eigen-components (error $\propto k\rho^k$) predict.
# * Too much momentum does not turn into gradient descent: on the valley (at $\eta = 0.1$, six values
#   of $\beta$) the path moves further from gradient descent's as $\beta$ grows. On eigenvalues
#   $\{1, 100\}$, with the constant learning rates that minimise the rate for each $\beta$, the rate past
#   the optimum is $\sqrt\beta \to 1$; the steps to $10^{-6}$ from $(1, 1)$ are fewest just past the optimum (74 at
#   $\beta = 0.68$, 93 at $\beta^\star$) and, from $\beta = 0.75$ on, grow to 2,705 at $\beta = 0.99$.
#
# Every measured number and comparison in this lesson is computed and asserted by the notebook, under
# the conditions stated with it; the few that are plain arithmetic on constants (such as $1 - 0.04 = 0.96$
# or $\sqrt{0.99} = 0.995$) are printed by it. Cited rather than computed: Polyak's theorem that no other constant pair
# beats his (the grid search covers 982,081 pairs only), and the quotations from the Distill article
# and from PyTorch's documentation.
#
# ## Exercises
#
# Each exercise ends with a check that says whether your answer is right and, if not, what to
# look at. The solution is the marked part of the exercise's cell.
#
# ### Exercise 1 (recall)
#
# Heavy ball with $\beta = 0.64$ on an eigen-component with $\eta\lambda = 1$: by what factor does
# the error shrink per step (the spectral radius)? The check accepts answers within 0.1 % of the
# exact value.

# %% nbgrader={"grade": false, "grade_id": "ex03_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = np.sqrt(0.64)  # discriminant (1 + 0.64 - 1)^2 - 4*0.64 < 0: complex roots, |sigma| = sqrt(beta)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex03_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.momentum.complex_rate(answer_1)

# %% [markdown]
# ### Exercise 2 (recall)
#
# A quadratic has eigenvalues in $[0.5, 10]$, both ends included. With momentum $\beta = 0.9$, the
# heavy ball converges from every start for every learning rate $0 < \eta < \bar\eta$, and not
# at $\bar\eta$ or above it. What is $\bar\eta$? The check accepts answers within 0.01 % of the exact
# value (give at least four significant digits if you round).

# %% nbgrader={"grade": false, "grade_id": "ex03_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_2 = (2 + 2 * 0.9) / 10.0
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex03_2_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.momentum.stability_limit(answer_2)

# %% [markdown]
# ### Exercise 3 (apply)
#
# For eigenvalues $\mu = 0.1$ and $L = 10$, give Polyak's optimal learning rate and momentum, and the
# rate they achieve, to four significant digits. The check accepts each number within 0.05 % of
# the exact value (three digits are not enough: 0.331 lies 0.13 % from the exact learning rate).

# %% nbgrader={"grade": false, "grade_id": "ex03_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
sm3, sL3 = np.sqrt(0.1), np.sqrt(10.0)
lr_3 = (2 / (sm3 + sL3)) ** 2
beta_3 = ((sL3 - sm3) / (sL3 + sm3)) ** 2
rate_3 = (sL3 - sm3) / (sL3 + sm3)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex03_3_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.momentum.optimal_pair(lr_3, beta_3, rate_3)


# %% [markdown]
# ### Exercise 4 (implement)
#
# Write `hb_rate(lr, beta, lam)`: the spectral radius of the heavy-ball matrix of one
# eigen-component, valid in every regime (including divergence, where it is $\ge 1$). Do not
# call `theory`; the check compares with it on one case per regime, to a relative tolerance of
# $10^{-6}$.

# %% nbgrader={"grade": false, "grade_id": "ex03_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def hb_rate(lr, beta, lam):
    ### BEGIN SOLUTION
    t = 1 + beta - lr * lam
    disc = t * t - 4 * beta
    if disc < 0:
        return float(np.sqrt(beta))
    return float((abs(t) + np.sqrt(disc)) / 2)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex03_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.momentum.rate_function(hb_rate)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(3)
for _lr, _beta, _lam in _rng.uniform([0.0, 0.0, 0.1], [1.5, 0.99, 5.0], size=(60, 3)):
    _want = float(theory.momentum_rate(_lr, _beta, [_lam]))
    assert np.isclose(hb_rate(_lr, _beta, _lam), _want, rtol=1e-6), f"hb_rate({_lr}, {_beta}, {_lam}) != {_want}"
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5 (explore)
#
# For $\kappa = 400$ (eigenvalues 1 and 400, start $(1, 1)$), run gradient descent at its optimal
# step and the heavy ball at Polyak's optimal pair, count for each the steps until the error norm
# stays below $10^{-6}$ of its start, and report the speed-up `gd_steps / hb_steps`. Is it closer
# to $\kappa$ or to $\sqrt\kappa$? Use `optimizers.run` (and `settled_at` from section 8 if you like).
# The check counts the steps itself and accepts a ratio within 0.25 % of its own, so give two
# decimals (a heavy-ball count one step off moves the ratio by 0.5 %, a gradient-descent count one
# step off by 0.04 %).

# %% nbgrader={"grade": false, "grade_id": "ex03_5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
s400 = surfaces.quadratic([1.0, 400.0])
lr_g5, _ = theory.optimal_gd(1.0, 400.0)
lr_m5, beta_m5, _ = theory.optimal_momentum(1.0, 400.0)
err_gd = np.linalg.norm(optimizers.run(s400, [1.0, 1.0], "gd", lr_g5, steps=3500).points, axis=-1)
err_hb = np.linalg.norm(optimizers.run(s400, [1.0, 1.0], "momentum", lr_m5, beta_m5, steps=3500).points, axis=-1)
gd_steps = int(settled_at(err_gd / err_gd[0], 1e-6))
hb_steps = int(settled_at(err_hb / err_hb[0], 1e-6))
answer_5 = gd_steps / hb_steps
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex03_5_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.momentum.speedup(answer_5)
