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
# # Lesson 03: Momentum: why it works
#
# Lesson 01 ended with a bill: on a valley with condition number $\kappa$, gradient descent needs
# about $\tfrac{\kappa}{2}\ln(1/\varepsilon)$ steps. Momentum adds a fraction of the previous step to
# the current one and pays much less. This lesson explains *why*, in three pictures (a heavy ball
# rolling with friction, a leaky average of gradients, an effective learning rate), and then
# derives everything about one eigen-component from one $2\times2$ matrix. Lesson 04 turns that
# matrix into rates and the best possible $(\eta, \beta)$.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write the heavy ball update and read it as a discretised damped oscillator
#    $\ddot x + a\dot x + \nabla f(x) = 0$, with $\eta = h^2$ and $\beta = 1 - ah$;
# 2. explain the momentum buffer as a leaky average that amplifies a steady gradient by $1/(1-\beta)$
#    and damps an alternating one to $1/(1+\beta)$;
# 3. say what the effective learning rate $\eta/(1-\beta)$ explains (the flat directions) and what it
#    does not (stability and oscillation);
# 4. write the $2\times2$ iteration matrix of one eigen-component, derive the convergence region
#    $0 < \eta\lambda < 2 + 2\beta$ and name the four regimes;
# 5. derive critical damping $\beta = (1-\sqrt{\eta\lambda})^2$ and recognise it as the oscillator's.
#
# ## Prerequisites
#
# Lesson 01 (the step-size limit, $\kappa$, the eigenbasis view). Linear algebra: the eigenvalues of a
# $2\times2$ matrix $A$ are the roots of $\sigma^2 - (\operatorname{tr} A)\,\sigma + \det A = 0$. A first
# derivative and a second derivative (velocity and acceleration). About 60 minutes.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

import lessons_lib
from lessons_lib import checks, optimizers, oscillator, plotting, surfaces, theory
from lessons_lib.widgets import TrajectoryExplorer

lessons_lib.setup()

# %% [markdown]
# ## 1. What momentum buys: a first look
#
# The valley $f(x,y) = 0.1x^2 + 2y^2$ (the example of Zhang, Lipton, Li and Smola, *Dive into Deep
# Learning*, Cambridge University Press, 2023, section 12.6 "Momentum") has eigenvalues $\mu = 0.2$,
# $L = 4$, so $\kappa = 20$. Gradient descent at its best step $\eta = 2/(\mu + L)$ zig-zags across the
# valley (the steep coordinate $y$ changes sign at every step) and crawls along it (the flat coordinate
# shrinks by only $1 - \mu\eta = 0.905$ per step). Momentum at Polyak's rate-optimal pair
# $(\eta^\star, \beta^\star)$ (lesson 04 derives it) first overshoots further than gradient descent
# (the loss rises for two steps), then catches up: it gets the loss within $10^{-6}$ of the minimum in
# about a third of the steps:

# %%
valley = surfaces.get("quadratic")
mu, L = np.linalg.eigvalsh(valley.hessian)  # the smallest and the largest eigenvalue
lr_gd, rate_gd = theory.optimal_gd(mu, L)
lr_hb, beta_hb, rate_hb = theory.optimal_momentum(mu, L)
first_look = {
    f"gradient descent, η = {lr_gd:.3f}": optimizers.run(valley, valley.start, "gd", lr_gd, steps=60),
    f"momentum, η = {lr_hb:.3f}, β = {beta_hb:.3f}": optimizers.run(
        valley, valley.start, "momentum", lr_hb, beta_hb, steps=60),
}
fig, (ax_path, _) = plotting.trajectory_figure(valley, first_look, title=r"$0.1x^2 + 2y^2$, $\kappa = 20$")
ax_path.set_ylim(-5.6, 5.6)  # momentum's first swings reach |y| = 5.2
ax_path.legend(loc="lower right")
plt.show()
print(f"eigenvalues of the Hessian: mu = {mu:g}, L = {L:g}, kappa = {L / mu:g}")
for label, run in first_look.items():
    print(f"{label:35s} loss after 60 steps: {run.losses[-1]:.2e}")
gd_pts, hb_run = first_look[f"gradient descent, η = {lr_gd:.3f}"].points, first_look[f"momentum, η = {lr_hb:.3f}, β = {beta_hb:.3f}"]
sign_changes = np.mean(np.sign(gd_pts[1:, 1]) != np.sign(gd_pts[:-1, 1]))
x_ratio = gd_pts[1:, 0] / gd_pts[:-1, 0]  # measured x_{k+1}/x_k
rises = np.flatnonzero(np.diff(hb_run.losses) > 0) + 1  # steps at which momentum's loss went up
n_gd = optimizers.run(valley, valley.start, "gd", lr_gd, steps=300).steps_to(1e-6)
n_hb = optimizers.run(valley, valley.start, "momentum", lr_hb, beta_hb, steps=300).steps_to(1e-6)
print(f"gradient descent: y changes sign on {sign_changes:.0%} of its 60 steps; x_(k+1)/x_k = {x_ratio[0]:.3f} "
      f"at every step (1 - mu*eta = {1 - mu * lr_gd:.3f})")
print(f"momentum: |y| up to {np.abs(hb_run.points[:4, 1]).max():.1f} in its first 3 steps (gradient descent: "
      f"{np.abs(gd_pts[:4, 1]).max():.1f}); its loss rises at steps {rises[rises < 10].tolist()}")
print(f"loss within 1e-6 of the minimum: gradient descent at step {n_gd}, momentum at step {n_hb} "
      f"({n_hb / n_gd:.2f} of the steps)")
assert (mu, L) == (0.2, 4.0) and sign_changes == 1 and np.all(np.abs(x_ratio - (1 - mu * lr_gd)) < 1e-9)
assert round(x_ratio[0], 3) == 0.905 and rises[rises < 10].tolist() == [1, 2] and 0.28 < n_hb / n_gd < 0.38

# %% [markdown]
# ### Try it
#
# The explorer runs gradient descent and momentum on the same valley at $\eta = 0.1$ (the slider
# **η**), opening at $\beta = 0.8$. Drag **β** down to 0: there the momentum path (vermillion, dashed)
# *is* gradient descent. Then drag it up: around 0.75 it is fastest (the readout gives the step at which
# the loss first gets within $10^{-6}$ of the minimum: 53; gradient descent is not there within the 150
# steps shown); at 0.95 it overshoots and spirals, still not there after 150 steps (190 in the section
# "Checks"). Drag **η** until a path diverges. (Without a kernel you see the starting picture; the
# section "Checks" confirms the numbers.)

# %%
TrajectoryExplorer(surface="quadratic", lr=0.1, momentum=0.8, steps=150, methods=("gd", "momentum"))

# %% [markdown]
# ## 2. The heavy ball as a damped oscillator
#
# Write $g_k = \nabla f(x_k)$. **Polyak's heavy ball** (Polyak, 1964, *Some methods of speeding up
# the convergence of iteration methods*, USSR Comput. Math. Math. Phys. 4(5)) adds a fraction $\beta$
# of the previous step:
#
# $$x_{k+1} = x_k - \eta\, g_k + \beta\,(x_k - x_{k-1}), \qquad x_{-1} = x_0 .$$
#
# PyTorch's `torch.optim.SGD(lr=η, momentum=β)` writes the same iterates with a buffer of gradients,
# $b_{k+1} = \beta b_k + g_k$, $x_{k+1} = x_k - \eta\, b_{k+1}$, $b_0 = 0$ (then
# $x_{k+1} - x_k = -\eta b_{k+1}$). Other forms, and how to convert between them, are in lesson 07.
# The course's `optimizers.run` uses PyTorch's form; Polyak's, written out, agrees with it:

# %%
def heavy_ball(grad, x0, lr, beta, steps):
    """Polyak: x_{k+1} = x_k - lr g_k + beta (x_k - x_{k-1}), with x_{-1} = x_0."""
    x = np.array(x0, dtype=float)
    previous = x.copy()
    path = [x.copy()]
    for _ in range(steps):
        x, previous = x - lr * grad(x) + beta * (x - previous), x
        path.append(x.copy())
    return np.array(path)


polyak = heavy_ball(valley.grad, valley.start, 0.1, 0.8, 200)
gap = np.abs(polyak - optimizers.run(valley, valley.start, "momentum", 0.1, 0.8, steps=200).points).max()
print(f"Polyak's form against PyTorch's form (optimizers.run), 200 steps: largest difference below 1e-12: "
      f"{gap < 1e-12}")
assert gap < 1e-12

# %% [markdown]
# **Where the name comes from** (the analogy is worked out by Qian, 1999, *On the momentum term in
# gradient descent learning algorithms*, Neural Networks 12). A ball of unit mass rolling on the surface
# $f$ with friction coefficient $a$ obeys Newton's law
#
# $$\ddot x(t) + a\,\dot x(t) + \nabla f(x(t)) = 0 .$$
#
# Replace time by steps of length $h$, $x_k \approx x(kh)$: the acceleration by the second difference,
# the velocity by the backward difference,
#
# $$\frac{x_{k+1} - 2x_k + x_{k-1}}{h^2} + a\,\frac{x_k - x_{k-1}}{h} + \nabla f(x_k) = 0
# \iff x_{k+1} = x_k - h^2\, g_k + (1 - ah)\,(x_k - x_{k-1}).$$
#
# This is the heavy ball with
#
# $$\eta = h^2, \qquad \beta = 1 - ah .$$
#
# The learning rate is the squared time step, and $1 - \beta$ is the friction lost per step: $\beta$
# near 1 is a ball that keeps its speed. The start $x_{-1} = x_0$ is the ball at rest. As $h \to 0$
# with $a$ fixed, the iterates should follow the ball's path. Below, the valley with $a = 1$: the exact
# solution of the oscillator (`oscillator.solve`, a closed formula per eigen-coordinate) against the
# heavy ball at $h$ = 0.5 and 0.125, and the largest distance between them over $0 \le t \le 10$ for
# five values of $h$:

# %%
friction, t_end = 1.0, 10.0
lam_valley = np.array([mu, L])  # the valley's axes are its eigenvectors
h_list = np.array([0.2, 0.1, 0.05, 0.025, 0.0125])
ode_gap = []
for h in h_list:
    lr_h, beta_h = oscillator.to_momentum(h, friction)  # (h^2, 1 - a h)
    n = int(round(t_end / h))
    iterates = optimizers.run(valley, valley.start, "momentum", lr_h, beta_h, steps=n).points
    ode_gap.append(np.abs(iterates - oscillator.solve(lam_valley, friction, valley.start, h * np.arange(n + 1))).max())
ode_gap = np.array(ode_gap)
order = np.log2(ode_gap[:-1] / ode_gap[1:])  # halving h divides the gap by 2^order
for h, g_, o in zip(h_list, ode_gap, [np.nan, *order], strict=True):
    print(f"h = {h:6.4f}: eta = {h * h:.6f}, beta = {1 - friction * h:.4f}, largest gap over t <= 10: {g_:.4f}"
          + ("" if np.isnan(o) else f", order log2(previous/this) = {o:.2f}"))
assert np.all(np.diff(ode_gap) < 0) and np.all(np.abs(order - 1) < 0.06)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
plotting.contour(ax1, valley)
t_fine = np.linspace(0, 20, 801)
ax1.plot(*oscillator.solve(lam_valley, friction, valley.start, t_fine).T, "k-", linewidth=1.5,
         label=r"oscillator $\ddot x + \dot x + \nabla f = 0$")
for h, style in [(0.5, "o"), (0.125, ".")]:
    lr_h, beta_h = oscillator.to_momentum(h, friction)
    pts = optimizers.run(valley, valley.start, "momentum", lr_h, beta_h, steps=int(20 / h)).points
    ax1.plot(*pts.T, style, color=plotting.METHOD_COLORS["momentum"], markersize=4 if style == "o" else 3,
             label=rf"heavy ball, $h$ = {h} ($\eta$ = {h * h:g}, $\beta$ = {1 - friction * h:g})")
ax1.set_xlim(-9, 1)
ax1.set_ylim(-2, 3.5)
ax1.set_title(r"the valley, friction $a = 1$, $0 \leq t \leq 20$")
ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=10)  # below: the paths fill the panel
ax2.loglog(h_list, ode_gap, "o-", color=plotting.METHOD_COLORS["momentum"], label="measured")
ax2.loglog(h_list, ode_gap[0] * h_list / h_list[0], "k--", linewidth=1, label=r"slope 1: gap $\propto h$")
ax2.set_xticks(h_list, [f"{h:g}" for h in h_list], minor=False)
ax2.set_xticks([], minor=True)
ax2.set_xlabel("time step $h$")
ax2.set_ylabel(r"largest $|x_k - x(kh)|$, $t \leq 10$")
ax2.legend(fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# The gap halves with $h$ (order 1): the backward difference for the velocity is accurate to
# $O(h)$. So momentum is a discretised heavy ball with friction (time step $h = \sqrt\eta$); it follows
# the ball when $h\sqrt\lambda$ is small.
#
# **The oscillator's critical damping.** Along one eigenvector, $\ddot x + a\dot x + \lambda x = 0$ has
# solutions $e^{rt}$ with $r^2 + ar + \lambda = 0$, $r = -\tfrac a2 \pm \sqrt{a^2/4 - \lambda}$. Too little
# friction ($a < 2\sqrt\lambda$, complex $r$): the ball overshoots and rings. Too much ($a > 2\sqrt\lambda$):
# it creeps, held back by friction. At **critical damping** $a = 2\sqrt\lambda$ the roots coincide,
# $x(t) = x_0\, e^{-\sqrt\lambda t}(1 + \sqrt\lambda\, t)$: the fastest return without overshoot (the
# section "Checks" confirms it over 201 frictions). Section 8 finds the same in the heavy ball. Check
# with the eigenvalues of the first-order system $\tfrac{d}{dt}(x, \dot x) = (\dot x, -\lambda x - a\dot x)$
# ($\lambda = 1$):

# %%
lam1 = 1.0
a_crit = oscillator.critical_damping(lam1)
for a_ in [0.9 * a_crit, a_crit, 1.1 * a_crit]:
    r_ = np.linalg.eigvals(np.array([[0.0, 1.0], [-lam1, -a_]]))
    path_1d = oscillator.solve([lam1], a_, [1.0], np.linspace(0, 30, 3001))[:, 0]
    print(f"a = {a_:.2f}: roots r = {np.round(r_, 4)}, x(t) changes sign: {bool(np.any(path_1d < 0))}")
    assert (np.abs(r_.imag).max() > 0.1) == (a_ < a_crit - 1e-9) and bool(np.any(path_1d < 0)) == (a_ < a_crit - 1e-9)
assert np.isclose(a_crit, 2.0)

# %% [markdown]
# ## 3. The leaky average, both ways
#
# Unroll PyTorch's buffer from $b_0 = 0$:
#
# $$b_k = g_{k-1} + \beta\, g_{k-2} + \beta^2 g_{k-3} + \dots = \sum_{j=0}^{k-1} \beta^j\, g_{k-1-j}.$$
#
# Every past gradient stays in the sum with a weight that shrinks by $\beta$ per step: a *leaky*
# average, not an average of "the last few" gradients. Two cases show what it does:
#
# * a **steady** gradient $g$ (the floor of a long valley): $b_k \to g\sum_j \beta^j = \dfrac{g}{1-\beta}$,
#   **amplified** ten times for $\beta = 0.9$;
# * an **alternating** gradient $\pm g$ (gradient descent's zig-zag across a steep valley):
#   $|b_k| \to g\,\bigl|\sum_j (-\beta)^j\bigr| = \dfrac{g}{1+\beta}$, **damped** to about half.
#
# So momentum speeds up along directions where the gradient keeps its sign and calms the directions
# where it flips. Check the sum with random gradients, and both factors by running the buffer:

# %%
rng = np.random.default_rng(3)
grads = rng.normal(size=(40, 2))  # g_0, ..., g_39
b = np.zeros(2)
for g in grads:
    b = 0.9 * b + g
unrolled = (0.9 ** np.arange(40)[::-1]) @ grads  # beta^39 for g_0, ..., beta^0 for g_39
print(f"buffer after 40 random gradients equals the unrolled sum: {np.allclose(b, unrolled, rtol=1e-12, atol=1e-14)}")
assert np.allclose(b, unrolled, rtol=1e-12, atol=1e-14)


def buffer_run(beta, gradients):
    """PyTorch's buffer b_{k+1} = beta b_k + g_k from b_0 = 0: returns b_1, b_2, ..."""
    out, b = [], 0.0
    for g in gradients:
        b = beta * b + g
        out.append(b)
    return np.array(out)


steps_b = 3000
steady = np.ones(steps_b)
alternating = (-1.0) ** np.arange(steps_b)
print(" beta   steady |b| after 3000 steps   1/(1-beta)   alternating |b|   1/(1+beta)")
for beta in [0.5, 0.9, 0.99]:
    amp, damp = abs(buffer_run(beta, steady)[-1]), abs(buffer_run(beta, alternating)[-1])
    print(f"{beta:5}  {amp:24.4f}  {1 / (1 - beta):11.4f}  {damp:16.4f}  {1 / (1 + beta):11.4f}")
    assert np.isclose(amp, 1 / (1 - beta), rtol=1e-9) and np.isclose(damp, 1 / (1 + beta), rtol=1e-9)

# %%
fig, ax = plt.subplots(figsize=(8, 3.3))
k60 = np.arange(1, 61)
ax.plot(k60, buffer_run(0.9, steady[:60]), "o-", markersize=3, color=plotting.METHOD_COLORS["momentum"],
        label=r"steady gradient $g = 1$")
ax.plot(k60, buffer_run(0.9, alternating[:60]), "s-", markersize=3, color=plotting.METHOD_COLORS["gd"],
        label=r"alternating gradient $\pm 1$")
ax.axhline(1 / (1 - 0.9), color="k", linestyle="--", linewidth=1, label=r"$1/(1-\beta) = 10$")
for sign in (1, -1):
    ax.axhline(sign / (1 + 0.9), color="0.4", linestyle=":", linewidth=1.2,
               label=r"$\pm 1/(1+\beta) = \pm 0.53$" if sign == 1 else None)
ax.set_xlabel("step $k$")
ax.set_ylabel("buffer $b_k$")
ax.set_title(r"the buffer with $\beta = 0.9$: a steady gradient amplified, an alternating one damped")
ax.legend(loc="center right", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 4. The effective learning rate $\eta/(1-\beta)$
#
# With a steady gradient the step is $\eta\, b_k \to \eta g/(1-\beta)$: along a flat direction, where the
# gradient barely changes from step to step, momentum should behave like gradient descent with the
# **effective learning rate** $\eta/(1-\beta)$ (section 5 derives it from the iteration matrix).
#
# Test it on $f = \tfrac12(0.001\,x^2 + 3\,y^2)$ with $\eta = 0.1$, $\beta = 0.9$ (effective rate 1),
# against gradient descent at $\eta = 1$ and at $\eta = 0.1$, from $(1, 1)$:

# %%
flat_stiff = surfaces.quadratic([0.001, 3.0])
lr4, beta4 = 0.1, 0.9
lr_eff = lr4 / (1 - beta4)
hb4 = optimizers.run(flat_stiff, [1.0, 1.0], "momentum", lr4, beta4, steps=600)
gd_eff = optimizers.run(flat_stiff, [1.0, 1.0], "gd", lr_eff, steps=600)  # diverges: lr_eff * 3 > 2
gd_eff_flat = optimizers.run(flat_stiff, [1.0, 0.0], "gd", lr_eff, steps=600).points[:, 0]  # flat part alone
gd_same = optimizers.run(flat_stiff, [1.0, 1.0], "gd", lr4, steps=600)
k4 = np.arange(601)
rate_flat = np.exp(np.polyfit(k4[200:], np.log(hb4.points[200:, 0]), 1)[0])  # slope of log x_k, steps 200-600
print(f"flat direction (lambda = 0.001): momentum's x shrinks by {rate_flat:.6f} per step, an e-fold every "
      f"{1 / (1 - rate_flat):.0f} steps; gradient descent at lr/(1-beta) = {lr_eff:g}: {1 - lr_eff * 0.001:.6f}, "
      f"every {1 / (lr_eff * 0.001):.0f} ({(1 - rate_flat) / (lr_eff * 0.001) - 1:.1%} apart); "
      f"at lr = {lr4:g}: every {1 / (lr4 * 0.001):.0f}")
print(f"after 600 steps x = {hb4.points[-1, 0]:.3f} (momentum), {gd_eff_flat[-1]:.3f} (GD at {lr_eff:g}), "
      f"{gd_same.points[-1, 0]:.3f} (GD at {lr4:g})")
y_flips = np.mean(np.sign(hb4.points[1:61, 1]) != np.sign(hb4.points[:60, 1]))
print(f"stiff direction (lambda = 3): momentum's y changes sign on {y_flips:.0%} of its first 60 steps and "
      f"|y| = {abs(hb4.points[-1, 1]):.1e} after 600; gradient descent at {lr_eff:g} diverged: {gd_eff.diverged} "
      f"(at step {gd_eff.diverged_at})")
assert abs((1 - rate_flat) / (lr_eff * 0.001) - 1) < 0.01 and not hb4.diverged and gd_eff.diverged
assert abs(hb4.points[-1, 1]) < 1e-10 and 0.1 < y_flips < 0.4

# %% [markdown]
# In the flat direction the effective rate is right to 1 %: momentum with $\eta = 0.1$ moves like
# gradient descent with $\eta = 1$, ten times faster than gradient descent with its own $\eta$. In the
# stiff direction it is wrong: gradient descent at $\eta = 1$ diverges there ($\eta\lambda = 3 > 2$) while
# momentum converges. Gradient descent at the effective rate is stable only for
# $\tfrac{\eta}{1-\beta}\lambda < 2$, i.e. $\eta\lambda < 2(1-\beta)$; section 6 derives the heavy ball's
# true limit $\eta\lambda < 2+2\beta$, here $(1+\beta)/(1-\beta) = 19$ times larger. Runs just below and above
# it on $\lambda = 3$ (the section "Checks" scans 2,000 learning rates):

# %%
lr_limit, eff_limit = (2 + 2 * beta4) / 3, 2 * (1 - beta4) / 3  # lambda = 3
edge = optimizers.run(flat_stiff, [0.0, 1.0], "momentum", np.array([0.99, 1.01]) * lr_limit, beta4, steps=600)
y_edge = np.nan_to_num(np.abs(edge.points[:, -1, 1]), nan=np.inf)
print(f"limit (2 + 2 beta)/lambda = {lr_limit:.4f}, {lr_limit / eff_limit:.0f} times the effective-rate picture's "
      f"2 (1 - beta)/lambda = {eff_limit:.4f}; |y| after 600 steps at 0.99 times the limit {y_edge[0]:.1e}, "
      f"at 1.01 times diverged: {bool(edge.diverged[1])} (at step {edge.diverged_at[1]})")
assert y_edge[0] < 1e-6 and not edge.diverged[0] and edge.diverged[1]

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4))
ax1.plot(k4, hb4.points[:, 0], "-", color=plotting.METHOD_COLORS["momentum"], label=r"momentum $\eta = 0.1$, $\beta = 0.9$")
ax1.plot(k4, gd_eff_flat, "k:", linewidth=2, label=r"GD $\eta = 1$ (effective rate)")
ax1.plot(k4, gd_same.points[:, 0], "--", color=plotting.METHOD_COLORS["gd"], label=r"GD $\eta = 0.1$")
ax1.set_title(r"flat direction $\lambda = 0.001$: the effective rate explains it")
ax1.set_xlabel("step $k$")
ax1.set_ylabel("$x_k$")
ax1.legend(fontsize=10)
ax2.plot(k4[:60], hb4.points[:60, 1], ".-", color=plotting.METHOD_COLORS["momentum"], label=r"momentum $\eta = 0.1$, $\beta = 0.9$")
ax2.plot(k4[:8], gd_eff.points[:8, 1], "ko:", markersize=3, label=r"GD $\eta = 1$: $\times(-2)$ per step")
ax2.set_ylim(-3, 3)
ax2.set_title(r"stiff direction $\lambda = 3$: it does not")
ax2.set_xlabel("step $k$")
ax2.set_ylabel("$y_k$")
ax2.legend(fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# And the stiff coordinate spirals in, changing sign every few steps: gradient descent does that at no
# learning rate (its factor $1-\eta\lambda$ keeps the sign, or flips it at every step). Stability and
# oscillation need the full dynamics, next.
#
# ## 5. One eigen-component, one $2\times2$ matrix
#
# On $f(x) = \tfrac12 x^\top H x$ the gradient is $Hx$, and as in lesson 01 each eigen-coordinate
# $\tilde x$ evolves on its own. With eigenvalue $\lambda$ the heavy ball reads
# $\tilde x_{k+1} = (1 + \beta - \eta\lambda)\, \tilde x_k - \beta\, \tilde x_{k-1}$, a second-order
# recurrence with state $(\tilde x_k, \tilde x_{k-1})$:
#
# $$\begin{pmatrix} \tilde x_{k+1}\\ \tilde x_k\end{pmatrix} = M \begin{pmatrix} \tilde x_k\\ \tilde x_{k-1}\end{pmatrix},\qquad
# M = \begin{pmatrix} 1 + \beta - \eta\lambda & -\beta\\ 1 & 0\end{pmatrix},\qquad
# \operatorname{tr} M = 1+\beta-\eta\lambda,\quad \det M = \beta .$$
#
# Its eigenvalues are the roots $\sigma_1, \sigma_2$ of $\sigma^2 - (\operatorname{tr} M)\,\sigma + \beta = 0$,
# and in the long run the error shrinks by their largest modulus per step, the **spectral radius** (the
# rate $\rho$ of lesson 00's table).
#
# **The effective rate, derived.** Along a flat direction the slow root is near 1, $\sigma = 1-\delta$.
# Putting it into the equation gives $\delta(1-\beta) = \eta\lambda + \delta^2 - \delta\eta\lambda$, so for
# $\eta\lambda \ll (1-\beta)^2$, $\sigma \approx 1 - \tfrac{\eta}{1-\beta}\lambda$: gradient descent's factor at the
# effective rate of section 4.
#
# Check the matrix against a run on a tilted quadratic (its powers, and its roots against NumPy's
# eigenvalues), and the slow root against the flat direction's run of section 4:

# %%
def momentum_matrix(lr, beta, lam):
    return np.array([[1 + beta - lr * lam, -beta], [1.0, 0.0]])


def roots(lr, beta, lam):
    """The two roots of sigma^2 - (1 + beta - lr lam) sigma + beta = 0 (complex in general)."""
    t = 1 + beta - lr * lam
    disc = complex(t * t - 4 * beta)
    return np.array([(t + disc**0.5) / 2, (t - disc**0.5) / 2])


tilted = surfaces.quadratic([0.5, 5.0], angle=np.pi / 6)
eigvals, Q = np.linalg.eigh(tilted.hessian)
lr, beta = 0.3, 0.6
z = optimizers.run(tilted, [-6.0, 3.0], "momentum", lr, beta, steps=40).points @ Q  # eigen-coordinates, (41, 2)
for i, lam in enumerate(eigvals):
    M = momentum_matrix(lr, beta, lam)
    state, predicted = np.array([z[0, i], z[0, i]]), [z[0, i]]  # (z_0, z_{-1}) with z_{-1} = z_0
    for _ in range(40):
        state = M @ state
        predicted.append(state[0])
    ours = np.sort_complex(roots(lr, beta, lam))
    gap_m = np.abs(np.array(predicted) - z[:, i]).max()
    print(f"lambda = {lam:3.1f}: M^k reproduces the run's 40 steps (gap below 1e-12: {gap_m < 1e-12}); "
          f"roots {np.round(ours, 4)}, spectral radius {np.abs(ours).max():.4f}")
    assert gap_m < 1e-12
    assert np.allclose(ours, np.sort_complex(np.linalg.eigvals(M).astype(complex)), atol=1e-12)
    assert np.isclose(theory.momentum_rate(lr, beta, [lam]), np.abs(ours).max(), rtol=1e-12)
sigma_flat = np.linalg.eigvals(momentum_matrix(lr4, beta4, 0.001)).real.max()
print(f"section 4's flat direction (lr = {lr4:g}, beta = {beta4:g}, lambda = 0.001): slow root (NumPy) {sigma_flat:.6f}, "
      f"1 - lr lambda/(1 - beta) = {1 - lr_eff * 0.001:.6f}, measured from the run {rate_flat:.6f}")
assert abs(sigma_flat - rate_flat) < 1e-8 and abs((1 - sigma_flat) / (lr_eff * 0.001) - 1) < 0.011

# %% [markdown]
# ## 6. The convergence region: $0 < \eta\lambda < 2 + 2\beta$
#
# Both roots of $q(\sigma) = \sigma^2 - (\operatorname{tr} M)\, \sigma + \beta$ lie inside the unit circle exactly
# when (the Schur–Cohn, or Jury, conditions for a real quadratic; Jury, 1964, *Theory and Application
# of the z-Transform Method*, Wiley)
#
# $$|\beta| < 1, \qquad q(1) = \eta\lambda > 0, \qquad q(-1) = 2 + 2\beta - \eta\lambda > 0 .$$
#
# (Complex roots have modulus $\sqrt{\det M} = \sqrt\beta < 1$; real ones need $q > 0$ at both $\pm 1$
# with the vertex $\operatorname{tr} M/2$ between them, which the three conditions ensure.) So with $0 \le \beta < 1$ the
# heavy ball converges iff
#
# $$0 < \eta\lambda < 2 + 2\beta ,$$
#
# and on all eigenvalues iff $\eta < (2+2\beta)/L$: up to $1+\beta$ times gradient descent's $2/L$,
# almost **twice** as $\beta \to 1$. Section 3's picture shows why: a component that flips sign at every
# step, $\tilde x \to -\tilde x$, sees an alternating gradient, which the buffer damps to $1/(1+\beta)$; the step
# $\eta\lambda|\tilde x|/(1+\beta)$ is the $2|\tilde x|$ that sustains the flip exactly when $\eta\lambda = 2+2\beta$. Checked by 4,500 runs of 600 steps
# on $\lambda = 1$ (green: converges):

# %%
unit = surfaces.quadratic([1.0, 1.0])
betas = np.linspace(0.0, 0.95, 20)
lrs = np.linspace(0.01, 4.49, 225)  # spacing 0.02, odd hundredths: no grid point on a boundary 2 + 2*beta
B, LR = np.meshgrid(betas, lrs, indexing="ij")
scan = optimizers.run(unit, [1.0, 0.0], "momentum", lr=LR, momentum=B, steps=600)
err_mid, err_end = np.nan_to_num(np.abs(scan.points[..., [300, -1], 0]), nan=np.inf).transpose(2, 0, 1)
converges = (err_end < 1e-6) | (err_end < err_mid)  # tiny, or still shrinking
del scan
agree = all(converges[i, lrs < 2 + 2 * b].all() and not converges[i, lrs > 2 + 2 * b].any() for i, b in enumerate(betas))
print(f"all {converges.size} runs agree with lr*lambda < 2 + 2*beta: {agree}; "
      f"the limit over gradient descent's 2 at beta = 0.9: {(2 + 2 * 0.9) / 2:.1f}")
assert agree

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.4))
ax.pcolormesh(lrs, betas, converges, cmap=ListedColormap(["0.85", "#74c476"]), vmin=-0.5, vmax=1.5, shading="nearest")
ax.plot(2 + 2 * betas, betas, "k--", linewidth=1.5, label=r"theory: $\eta\lambda = 2 + 2\beta$")
ax.axvline(2.0, color=plotting.METHOD_COLORS["gd"], linewidth=1.2, label=r"gradient descent's limit $\eta\lambda = 2$")
ax.text(1.2, 0.45, "converges", fontsize=11)
ax.text(4.0, 0.2, "diverges", fontsize=11)
ax.set_xlabel(r"$\eta\lambda$")
ax.set_ylabel(r"momentum $\beta$")
ax.set_title(f"measured: {converges.size:,} runs of 600 steps (green = converges, grey = does not)")
ax.legend(loc="upper left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 7. Four regimes
#
# Inside the region the roots are complex exactly when the discriminant $(1+\beta-\eta\lambda)^2 - 4\beta$ is
# negative, that is when $(1-\sqrt\beta)^2 < \eta\lambda < (1+\sqrt\beta)^2$. That splits the region into
# the regimes that `theory.momentum_regime` names:
#
# | regime | where | what the iterate does |
# |---|---|---|
# | monotone | $\eta\lambda \le (1-\sqrt\beta)^2$ | two positive real roots: from rest, creeps to 0 without crossing it |
# | ripples | $(1-\sqrt\beta)^2 < \eta\lambda < (1+\sqrt\beta)^2$ | complex roots: overshoots and spirals in (the underdamped ball) |
# | oscillation | $(1+\sqrt\beta)^2 \le \eta\lambda < 2+2\beta$ | a negative real root dominates: eventually flips sign every step |
# | divergence | $\eta\lambda \ge 2 + 2\beta$ | a root of modulus $\ge 1$ (at $\eta\lambda = 2+2\beta$: a persistent $\pm$flip, no convergence) |
#
# Monotone and ripples are the overdamped and underdamped ball of section 2; sign-flipping oscillation
# has no counterpart in the oscillator: it needs $\eta\lambda \ge (1+\sqrt\beta)^2 \ge 1$, a time step
# $h \ge 1/\sqrt\lambda$, too coarse to follow the ball. One run in each regime (the section "Checks"
# tests a whole grid):

# %%
examples = {"monotone": (0.05, 0.3), "ripples": (0.5, 0.8), "oscillation": (2.5, 0.3), "divergence": (3.0, 0.3)}
example_runs = {}
for name, (eta_lam, b_) in examples.items():
    r = optimizers.run(unit, [1.0, 0.0], "momentum", eta_lam, b_, steps=60)
    x = r.points[:, 0]
    finite = x[np.isfinite(x)]
    flips = np.mean(np.sign(finite[21:]) != np.sign(finite[20:-1])) if len(finite) > 22 else np.nan
    example_runs[name] = x
    behaviour = f"diverged at step {r.diverged_at}" if r.diverged else f"sign changes on {flips:.0%} of steps 20-60"
    print(f"{name:11s} lr*lambda = {eta_lam:4}, beta = {b_}: regime '{theory.momentum_regime(eta_lam, b_, 1.0)}', "
          f"{behaviour}")
    assert theory.momentum_regime(eta_lam, b_, 1.0) == name
    assert {"monotone": flips == 0, "ripples": 0 < flips < 0.5, "oscillation": flips == 1,
            "divergence": r.diverged}[name] and (r.diverged == (name == "divergence"))

# %%
eta_lam_grid = np.linspace(0.005, 4.2, 421)
b_grid = np.linspace(0.0, 0.98, 99)
EL, Bg = np.meshgrid(eta_lam_grid, b_grid)
regime = theory.momentum_regime(EL, Bg, 1.0)
fig = plt.figure(figsize=(10.5, 4.2))
grid = fig.add_gridspec(2, 3, width_ratios=[1.5, 1, 1])
ax = fig.add_subplot(grid[:, 0])
codes = {"monotone": 0, "ripples": 1, "oscillation": 2, "divergence": 3}
colors = ["#a6dba0", "#92c5de", "#fdb863", "#bdbdbd"]
ax.pcolormesh(eta_lam_grid, b_grid, np.vectorize(codes.get)(regime), cmap=ListedColormap(colors),
              vmin=-0.5, vmax=3.5, shading="nearest")
bb = np.linspace(0, 0.98, 200)
ax.plot((1 - np.sqrt(bb)) ** 2, bb, "k-", linewidth=0.8)
ax.plot((1 + np.sqrt(bb)) ** 2, bb, "k-", linewidth=0.8)
ax.plot(2 + 2 * bb, bb, "k-", linewidth=1.5)
for name in examples:  # the four examples at the right
    ax.plot(*examples[name], "o", color="k", markersize=5)
ax.legend(handles=[Patch(color=colors[code], label=name) for name, code in codes.items()], loc="upper center",
          bbox_to_anchor=(0.5, -0.17), ncols=4, fontsize=10, handlelength=1.2, columnspacing=1.0)  # the strips
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
                  + clipped, fontsize=10)
    axk.set_ylabel(r"$\tilde x_k$")
    if k >= 2:
        axk.set_xlabel("step $k$")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 8. Critical damping of one component
#
# For a fixed $\eta\lambda \le 1$, which $\beta$ gives the smallest rate $\rho$? Below the complex region
# the larger real root shrinks as $\beta$ grows; inside it both roots have modulus $\sqrt\beta$ (their
# product is $\det M = \beta$), which grows with $\beta$. The smallest rate is at the boundary, where the
# discriminant vanishes and the roots coincide: for $0 \le \beta < 1$,
#
# $$(1+\beta-\eta\lambda)^2 = 4\beta \iff \beta_c = (1-\sqrt{\eta\lambda})^2, \qquad \sigma_1 = \sigma_2 = 1 - \sqrt{\eta\lambda}$$
#
# (the equation's other root, $(1+\sqrt{\eta\lambda})^2$, is above 1). This is **critical damping**. Its rate
# $1-\sqrt{\eta\lambda}$ against gradient descent's $1-\eta\lambda$ is the square-root improvement: for
# $\eta\lambda = 0.04$, 0.8 instead of 0.96. With a double root the iterate is
# $\tilde x_k = (1-\sqrt{\eta\lambda})^k\,(1 + \sqrt{\eta\lambda}\, k)\, \tilde x_0$, which never changes sign. Check
# all of it, and count the steps until $|\tilde x_k|$ stays below $10^{-6}$ (the section "Checks" scans
# 951 values of $\beta$):

# %%
def settled_at(values, tol):
    """First step after which |values| stays <= tol (per row); a never-settled row gets len."""
    above = ~(np.nan_to_num(np.abs(values), nan=np.inf) <= tol)
    n = above.shape[-1]
    return np.where(above[..., -1], n, n - np.argmax(above[..., ::-1], axis=-1))


eta_lam = 0.04
beta_c = theory.critical_momentum(eta_lam, 1.0)
sigma_c = np.linalg.eigvals(momentum_matrix(eta_lam, beta_c, 1.0))  # NumPy's roots at beta_c
print(f"eta*lambda = {eta_lam}: beta_c = {beta_c:.4f}, NumPy's roots there {np.round(sigma_c.real, 6)} "
      f"(imaginary parts below 1e-7: {np.abs(sigma_c.imag).max() < 1e-7}); gradient descent's factor {1 - eta_lam:.2f}")
assert np.allclose(sigma_c, 1 - np.sqrt(eta_lam), atol=1e-7) and np.isclose(1 - np.sqrt(eta_lam), 0.8)

k = np.arange(301)
x = optimizers.run(unit, [1.0, 0.0], "momentum", eta_lam, beta_c, steps=300).points[:, 0]
closed = (1 - np.sqrt(eta_lam)) ** k * (1 + np.sqrt(eta_lam) * k)
print(f"the run equals (1 - sqrt(eta lambda))^k (1 + sqrt(eta lambda) k) and stays positive: "
      f"{np.allclose(x, closed, rtol=1e-10, atol=1e-15) and bool(np.all(x > 0))}")
assert np.allclose(x, closed, rtol=1e-10, atol=1e-15) and np.all(x > 0)

three = optimizers.run(unit, [1.0, 0.0], "momentum", eta_lam, np.array([0.0, beta_c, 0.647]), steps=1500).points[..., 0]
n3 = settled_at(three, 1e-6)
crosses = np.any(np.sign(three[:, 1:]) != np.sign(three[:, :-1]), axis=1)
print(f"steps until |x| stays below 1e-6: gradient descent (beta = 0) {n3[0]}, beta_c {n3[1]} ({n3[0] / n3[1]:.1f} "
      f"times fewer), beta = 0.647 {n3[2]}; changes sign: {crosses.tolist()}")
assert n3.tolist() == [339, 75, 61] and crosses.tolist() == [False, False, True] and round(n3[0] / n3[1], 1) == 4.5

# %% [markdown]
# So $\beta_c$ is the fastest choice that never overshoots; accepting small ripples saves a few steps more
# (61 at $\beta = 0.647$): the double root's factor $k$ costs steps at a finite tolerance.
#
# **It is the oscillator's critical damping.** With $\eta = h^2$ the oscillator's critical friction
# $a = 2\sqrt\lambda$ of section 2 gives $\beta = 1 - ah = 1 - 2\sqrt{\eta\lambda}$, while the heavy ball's own is
# $\beta_c = (1-\sqrt{\eta\lambda})^2 = 1 - 2\sqrt{\eta\lambda} + \eta\lambda$. They differ by $\eta\lambda = h^2\lambda$, so
# $(1-\beta_c)/(1-\beta) = 1 - \tfrac{h\sqrt\lambda}{2} \to 1$, and the double root per unit time,
# $(1-h\sqrt\lambda)^{1/h}$, tends to the oscillator's $e^{-\sqrt\lambda}$. Measured for $\lambda = 1$, $h = 0.01$: the
# heavy ball's critical $\beta$ as a zero of the discriminant (`np.roots`), the double root as the modulus
# of NumPy's eigenvalues of $M$ there (the section "Checks": $h$ from 0.2 to 0.01):

# %%
h_ = 0.01
eta_h = h_ * h_
beta_zeros = np.roots([1.0, -2 * (1 + eta_h), (1 - eta_h) ** 2])  # (1 + beta - eta)^2 - 4 beta = 0, in beta
beta_c1 = beta_zeros[beta_zeros < 1].item()
beta_ode = oscillator.to_momentum(h_, oscillator.critical_damping(1.0))[1]
per_unit_time = np.abs(np.linalg.eigvals(momentum_matrix(eta_h, beta_c1, 1.0))).max() ** (1 / h_)
print(f"h = {h_}: beta from a = 2 sqrt(lambda) {beta_ode:.4f}, heavy ball's beta_c {beta_c1:.4f}, (1 - beta_c)/(1 - beta) "
      f"= {(1 - beta_c1) / (1 - beta_ode):.4f}; double root per unit time {per_unit_time:.4f}, e^-1 = {np.exp(-1):.4f}")
assert abs((1 - beta_c1) / (1 - beta_ode) - (1 - h_ / 2)) < 1e-9 and abs(per_unit_time / np.exp(-1) - 1) < 0.01

# %%
fig, ax = plt.subplots(figsize=(8, 3.2))
t_c = np.linspace(0, 8, 400)
ax.plot(t_c, oscillator.solve([1.0], 2.0, [1.0], t_c)[:, 0], "k-", label=r"oscillator, $a = 2\sqrt{\lambda}$: $e^{-t}(1+t)$")
for h_, style in [(0.5, "o"), (0.2, ".")]:
    n_c = int(8 / h_)
    x_c = optimizers.run(unit, [1.0, 0.0], "momentum", h_ * h_, (1 - h_) ** 2, steps=n_c).points[:, 0]
    ax.plot(h_ * np.arange(n_c + 1), x_c, style, color=plotting.METHOD_COLORS["momentum"],
            label=rf"heavy ball at $\beta_c$, $h = {h_}$ ($\eta = {h_ * h_:g}$, $\beta_c = {(1 - h_) ** 2:g}$)")
ax.set_xlabel("time $t = kh$")
ax.set_ylabel(r"$\tilde x$")
ax.set_title(r"critical damping, $\lambda = 1$: the heavy ball's approaches the oscillator's")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# * Momentum (Polyak, 1964): $x_{k+1} = x_k - \eta g_k + \beta(x_k - x_{k-1})$, the same iterates as
#   PyTorch's buffer form with a constant $\eta$ (other forms: lesson 07).
# * It is a **heavy ball with friction**, $\ddot x + a\dot x + \nabla f = 0$ discretised with step $h$:
#   $\eta = h^2$, $\beta = 1-ah$. On the valley with $a = 1$ the iterates approach the ball's path with
#   order 1 in $h$.
# * The buffer is a **leaky average** $\sum_j \beta^j g_{k-1-j}$: a steady gradient is amplified by
#   $1/(1-\beta)$, an alternating one damped to $1/(1+\beta)$.
# * The **effective learning rate** $\eta/(1-\beta)$ explains flat directions ($\lambda = 0.001$,
#   $\eta = 0.1$, $\beta = 0.9$: within 1 % of gradient descent at $\eta = 1$) but not stability: the heavy ball
#   converges iff $0 < \eta\lambda < 2+2\beta$ (for $0 \le \beta < 1$), not $2(1-\beta)$.
# * Each eigen-component follows a $2\times2$ matrix with trace $1+\beta-\eta\lambda$ and determinant $\beta$;
#   its regimes are monotone, ripples (complex roots), sign-flipping oscillation and divergence.
# * **Critical damping** $\beta_c = (1-\sqrt{\eta\lambda})^2$ gives the double root $1-\sqrt{\eta\lambda}$, the
#   fastest run without overshoot (75 steps against gradient descent's 339 at $\eta\lambda = 0.04$); as
#   $h \to 0$ it becomes the oscillator's $a = 2\sqrt\lambda$.
#
# Cited, not computed: the historical attribution (Polyak, 1964) and the Jury conditions (Jury, 1964;
# the scan of section 6 confirms what they give). Lesson 04 turns the matrix into rates: $\sqrt\beta$
# with complex roots, Polyak's optimal pair and $\sqrt\kappa$.
#
# ## Checks
#
# Verification that a student need not read: the numbers quoted in "Try it" (the same valley and
# learning rate as the explorer, 99 momenta in one batched run, and the explorer's own readout); the
# oscillator's critical friction as the fastest without overshoot (201 frictions, section 2); the first
# row of $M$ read off a run by least squares (section 5); the regime names against the inequalities and
# against NumPy's eigenvalues on a grid, and the monotone runs from rest never below 0 (section 7); the
# left edge of the region ($\eta\lambda \le 0$, which `optimizers.run` does not accept, run with
# `heavy_ball` of section 2 on $f = x^2/2$) and its right edge $\eta\lambda = 2+2\beta$ (a persistent flip of bounded size, section 7); the heavy ball's
# limit on $\lambda = 3$, $\beta = 0.9$, by a scan of 2,000 learning rates, and its ratio 19 to the
# effective-rate picture's (section 4); the steps to settle for 951 values of $\beta$ at $\eta\lambda = 0.04$:
# $\beta_c$ the fastest that never changes sign, $\beta = 0.647$ the fastest of all (section 8); and the heavy
# ball's critical damping against the oscillator's for five time steps (section 8).

# %%
momenta = np.linspace(0.0, 0.98, 99)
scan_m = optimizers.run(valley, valley.start, "momentum", 0.1, momenta, steps=300)
reached = np.array([300 if n is None else n for n in scan_m.steps_to(1e-6)])  # None: not within 300 steps
for b_ in [0.0, 0.75, 0.95]:
    n = reached[np.argmin(np.abs(momenta - b_))]
    print(f"beta = {b_:4}: loss first within 1e-6 of the minimum at step {n if n < 300 else '> 300'}")
print(f"fastest: beta = {momenta[reached.argmin()]:.2f}, {reached.min()} steps")
print("the explorer's readout at beta = 0.75:")
print(*TrajectoryExplorer(surface="quadratic", lr=0.1, momentum=0.75, steps=150,
                          methods=("gd", "momentum")).readout_lines(), sep="\n")
assert reached[0] == 300 and abs(momenta[reached.argmin()] - 0.75) < 0.03 and reached.min() == 53
assert reached[np.argmin(np.abs(momenta - 0.95))] == 190

# %%
a_scan = np.linspace(1.0, 3.0, 201)  # frictions, spacing 0.01, lambda = 1
t_fine1 = np.linspace(0, 60, 12001)
paths = np.array([oscillator.solve([lam1], a_, [1.0], t_fine1)[:, 0] for a_ in a_scan])
no_overshoot = np.all(paths >= 0, axis=1)
settle_t = t_fine1[np.array([np.flatnonzero(np.abs(p) > 1e-6)[-1] + 1 for p in paths])]  # |x| <= 1e-6 from then on
print(f"friction 1 to 3: the ball never overshoots from a = {a_scan[no_overshoot].min():.2f} on; of those runs the "
      f"fastest to stay within 1e-6 is a = {a_scan[no_overshoot][settle_t[no_overshoot].argmin()]:.2f} "
      f"(t = {settle_t[no_overshoot].min():.2f})")
assert np.isclose(a_scan[no_overshoot].min(), 2.0) and np.isclose(a_scan[no_overshoot][settle_t[no_overshoot].argmin()], 2.0)

for i, lam in enumerate(eigvals):  # section 5's run on the tilted quadratic, (lr, beta) = (0.3, 0.6)
    first_row = np.linalg.lstsq(np.column_stack([z[1:21, i], z[0:20, i]]), z[2:22, i], rcond=None)[0]
    print(f"lambda = {lam:3.1f}: first row of M read off the run ({first_row[0]:.6f}, {first_row[1]:.6f}), typed "
          f"({1 + beta - lr * lam:.6f}, {-beta:.6f})")
    assert np.allclose(first_row, momentum_matrix(lr, beta, lam)[0], rtol=0, atol=1e-9)

# %%
by_formula = np.select(
    [EL >= 2 + 2 * Bg, EL <= (1 - np.sqrt(Bg)) ** 2, EL < (1 + np.sqrt(Bg)) ** 2],
    ["divergence", "monotone", "ripples"], default="oscillation")
M_grid = np.stack([np.stack([1 + Bg - EL, -Bg], -1), np.stack([np.ones_like(Bg), np.zeros_like(Bg)], -1)], -2)
sig = np.linalg.eigvals(M_grid)  # (99, 421, 2), LAPACK
dominant = np.take_along_axis(sig, np.abs(sig).argmax(-1)[..., None], -1)[..., 0]
by_eigvals = np.select(
    [np.abs(sig).max(-1) >= 1, np.abs(sig.imag).max(-1) > 0, dominant.real > 0],
    ["divergence", "ripples", "monotone"], default="oscillation")
print(f"regime names agree with the inequalities at {np.mean(regime == by_formula):.1%} and with NumPy's eigenvalues "
      f"(modulus >= 1, complex, sign of the dominant root) at {np.mean(regime == by_eigvals):.1%} of {regime.size} "
      "grid points")
assert np.array_equal(regime, by_formula) and np.array_equal(regime, by_eigvals)
x_grid = x_grid_prev = np.ones_like(EL)  # every grid point from rest, x_{-1} = x_0 = 1, 300 steps
crossed = np.zeros(EL.shape, dtype=bool)
flips = np.ones(EL.shape, dtype=bool)  # sign flips at every one of the last 50 steps
with np.errstate(over="ignore", invalid="ignore"):
    for k in range(300):
        x_grid, x_grid_prev = (1 + Bg - EL) * x_grid - Bg * x_grid_prev, x_grid
        scale = np.maximum(np.abs(x_grid), np.abs(x_grid_prev))  # linear recursion: rescaling keeps the
        x_grid, x_grid_prev = x_grid / scale, x_grid_prev / scale  # signs and stops fast runs underflowing to 0
        crossed |= x_grid < 0
        if k >= 250:
            flips &= x_grid * x_grid_prev < 0
print(f"from rest, no run in the monotone regime goes below 0 within 300 steps: {not crossed[regime == 'monotone'].any()} "
      f"({np.sum(regime == 'monotone')} grid points)")
print(f"every run in the oscillation regime flips sign at each of steps 251-300: {flips[regime == 'oscillation'].all()} "
      f"({np.sum(regime == 'oscillation')} grid points)")
assert not crossed[regime == "monotone"].any() and crossed[regime == "ripples"].all()
assert flips[regime == "oscillation"].all()

left_converges = []
for el_ in [-0.1, -0.01, 0.0]:  # lr*lambda <= 0, on f = x^2/2 (gradient x)
    for b_ in betas:
        path = heavy_ball(lambda x: x, [1.0], el_, b_, 200)[:, 0]
        left_converges.append(abs(path[-1]) < 1e-6 or abs(path[-1]) < abs(path[100]))  # the test of section 6
print(f"lr*lambda in [-0.1, -0.01, 0]: {int(np.sum(left_converges))} of {len(left_converges)} runs converge")
assert not np.any(left_converges)
on_edge = np.array([heavy_ball(lambda x: x, [1.0], 2 + 2 * b_, b_, 400)[:, 0] for b_ in betas])  # lr*lambda = 2 + 2 beta
tail = np.abs(on_edge[:, 300:])
steady_size = np.all(np.ptp(tail, axis=1) < 1e-6 * tail.mean(axis=1))  # neither shrinks nor grows
flips_all = bool(np.all(on_edge[:, 301:] * on_edge[:, 300:-1] < 0))
print(f"on the edge lr*lambda = 2 + 2 beta, {len(betas)} betas: over steps 300-400 |x| keeps its size "
      f"({tail.min():.2f} to {tail.max():.2f} by beta): {steady_size}; the sign flips at every step: {flips_all}")
assert steady_size and flips_all and tail.min() >= 1 - 1e-9

# %%
lr_scan = np.linspace(0.0005, 2.0, 2000)
scan4 = optimizers.run(flat_stiff, [0.0, 1.0], "momentum", lr_scan, beta4, steps=2000)
y_end = np.nan_to_num(np.abs(scan4.points[:, -1, 1]), nan=np.inf)
largest_ok = lr_scan[y_end < 1e-3].max()
eff_limit = 2 * (1 - beta4) / 3
print(f"largest converging lr on the grid {largest_ok:.4f}; heavy ball's limit (2 + 2 beta)/lambda = "
      f"{(2 + 2 * beta4) / 3:.4f}; the effective-rate picture's 2 (1 - beta)/lambda = {eff_limit:.4f}; "
      f"measured ratio {largest_ok / eff_limit:.1f}")
assert np.all(y_end[lr_scan < (2 + 2 * beta4) / 3 - 0.002] < 1e-3) and np.all(y_end[lr_scan > (2 + 2 * beta4) / 3] > 1)
assert abs(largest_ok - (2 + 2 * beta4) / 3) < 1e-3 and round(largest_ok / eff_limit) == 19

# %%
b_scan = np.linspace(0.0, 0.95, 951)
xs = optimizers.run(unit, [1.0, 0.0], "momentum", eta_lam, b_scan, steps=1500).points[..., 0]
settle = settled_at(xs, 1e-6)
monotone = np.all(np.sign(xs[:, 1:]) == np.sign(xs[:, :-1]), axis=1)
best_mono = b_scan[monotone][settle[monotone].argmin()]
print(f"gradient descent (beta = 0): {settle[0]} steps; fastest run that never overshoots: beta = {best_mono:.3f}, "
      f"{settle[monotone].min()} steps ({settle[0] / settle[monotone].min():.1f} times fewer); fastest of all: "
      f"beta = {b_scan[settle.argmin()]:.3f}, {settle.min()} steps")
assert abs(best_mono - beta_c) < 1e-3 and b_scan[monotone].max() < beta_c + 1e-3
assert (settle[0], settle[monotone].min(), settle.min()) == (339, 75, 61) and abs(b_scan[settle.argmin()] - 0.647) < 5e-4
assert round(settle[0] / settle[monotone].min(), 1) == 4.5

# %%
def complex_edge(lr, lam, lo=0.0, hi=1.0, iters=60):
    """The smallest beta at which NumPy's eigenvalues of M(lr, beta, lam) turn complex (bisection)."""
    for _ in range(iters):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if np.abs(np.linalg.eigvals(momentum_matrix(lr, mid, lam)).imag).max() > 0 else (mid, hi)
    return hi


print("   h   beta from a = 2 sqrt(lambda)   heavy ball's critical beta   (1-beta_c)/(1-beta)   "
      "double root^(1/h)   e^-1")
ratios, per_time = [], []
for h_ in [0.2, 0.1, 0.05, 0.02, 0.01]:
    beta_ode = oscillator.to_momentum(h_, oscillator.critical_damping(1.0))[1]
    beta_edge = complex_edge(h_ * h_, 1.0)
    ratios.append((1 - beta_edge) / (1 - beta_ode))
    per_time.append(np.abs(np.linalg.eigvals(momentum_matrix(h_ * h_, beta_edge, 1.0))).max() ** (1 / h_))
    print(f"{h_:5}  {beta_ode:25.4f}  {beta_edge:27.4f}  {ratios[-1]:20.4f}  {per_time[-1]:18.4f}  {np.exp(-1):.4f}")
    assert abs(beta_edge - (1 - h_) ** 2) < 1e-9 and abs(ratios[-1] - (1 - h_ / 2)) < 1e-6
gap_e = np.abs(np.array(per_time) - np.exp(-1))
assert np.all(np.diff(ratios) > 0) and ratios[-1] > 0.99 and np.all(np.diff(gap_e) < 0) and gap_e[-1] < 0.01 * np.exp(-1)

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a check that says whether your answer is right and, if not, what to
# look at. The solution is the marked part of the exercise's cell (a student copy has a stub there).
#
# ### Exercise 1 (recall)
#
# PyTorch's buffer $b_{k+1} = \beta b_k + g_k$ with $\beta = 0.9$, from $b_0 = 0$. (a) The gradient is the
# constant $g = 2$ at every step: what value does the buffer approach? (b) The gradient alternates,
# $+2, -2, +2, \dots$: what value does $|b_k|$ approach? The check accepts answers within 0.1 %.

# %% nbgrader={"grade": false, "grade_id": "ex03_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
steady_1 = 2 / (1 - 0.9)
alternating_1 = 2 / (1 + 0.9)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex03_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.momentum.leaky_factors(steady_1, alternating_1)

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
# One eigen-component with $\lambda = 9$ is a ball on a spring, $\ddot x + a\dot x + 9x = 0$. (a) Which friction
# $a$ damps it critically? (b) Discretise that oscillator with time step $h = 0.05$: which momentum
# $\beta$ does the heavy ball get? (c) What is the heavy ball's own critical momentum $\beta_c$ at
# $\eta = h^2$ on this component? The check accepts each within 0.01 %.

# %% nbgrader={"grade": false, "grade_id": "ex03_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
friction_3 = 2 * np.sqrt(9.0)
beta_ode_3 = 1 - friction_3 * 0.05
beta_c_3 = (1 - np.sqrt(0.05**2 * 9.0)) ** 2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex03_3_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.momentum.oscillator_critical(friction_3, beta_ode_3, beta_c_3)

# %% [markdown]
# ### Exercise 4 (implement)
#
# Write `hb_rate(lr, beta, lam)`: the spectral radius of the heavy-ball matrix of one
# eigen-component, valid in every regime (including divergence, where it is $\ge 1$). Do not
# call `theory`; the check compares with it on seven cases (one per regime, the double root and two
# with $\beta = 0$), to a relative tolerance of $10^{-6}$.

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
for _lr, _lam in [(0.1, 1.0), (1.5, 1.0), (0.5, 3.0), (1.0, 3.0)]:  # beta = 0: gradient descent's |1 - lr lam|
    assert np.isclose(hb_rate(_lr, 0.0, _lam), abs(1 - _lr * _lam), rtol=1e-6), f"hb_rate({_lr}, 0, {_lam})"
### END HIDDEN TESTS


# %% [markdown]
# ### Exercise 5 (apply)
#
# Momentum with $\eta = 0.01$ and $\beta = 0.95$ follows a flat direction with $\lambda = 10^{-4}$ (flat:
# $\eta\lambda \ll (1-\beta)^2$). Which learning rate must gradient descent use to move along that direction
# at the same pace? The check accepts answers within 0.1 %.

# %% nbgrader={"grade": false, "grade_id": "ex03_5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_5 = 0.01 / (1 - 0.95)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex03_5_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.momentum.effective_rate(answer_5)
