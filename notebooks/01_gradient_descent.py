# ---
# jupyter:
#   jupytext:
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
# # Lesson 01: Gradient descent
#
# Gradient descent is the first optimizer every course teaches and the one every
# later method modifies. On a quadratic it can be solved exactly, and that exact
# solution explains almost everything we will see later: why a step can be too
# large, why some problems are slow, and what momentum has to fix.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write the gradient-descent update and run it;
# 2. derive the step-size condition $0 < \eta\lambda < 2$ and check it numerically;
# 3. define the condition number $\kappa = L/\mu$ and explain why it sets the speed;
# 4. derive the optimal constant step $\eta^\star = 2/(\mu+L)$ and its rate $(\kappa-1)/(\kappa+1)$;
# 5. read gradient descent in the eigenbasis of the Hessian, one independent scalar per direction;
# 6. recognise the zig-zag of an ill-conditioned valley and predict how many steps it costs.
#
# ## Prerequisites
#
# Lesson 00. This lesson assumes derivatives and gradients, and that a symmetric
# matrix $H$ can be written $H = Q\,\mathrm{diag}(\lambda_1,\lambda_2)\,Q^\top$ with
# orthonormal eigenvectors in the columns of $Q$. About 45 minutes.

# %%
import matplotlib.pyplot as plt
import numpy as np

import lessons_lib
from lessons_lib import checks, optimizers, plotting, surfaces, theory

lessons_lib.setup()

# %% [markdown]
# ## 1. The update rule
#
# To minimise a differentiable $f:\mathbb{R}^n\to\mathbb{R}$, step against the
# gradient, the direction of steepest ascent:
#
# $$x_{k+1} = x_k - \eta\,\nabla f(x_k),$$
#
# with a learning rate (step size) $\eta > 0$. That is the whole algorithm:

# %%
def gradient_descent(grad, x0, lr, steps):
    """Iterates x_0, ..., x_steps of gradient descent; returns an array (steps + 1, n)."""
    x = np.array(x0, dtype=float)
    path = [x.copy()]
    for _ in range(steps):
        x = x - lr * grad(x)
        path.append(x.copy())
    return np.array(path)


# %% [markdown]
# The course's reference optimizer `optimizers.run` computes the same thing (batched
# over many learning rates at once, and equal to `torch.optim.SGD`). Our ten lines
# and the reference agree on the Rosenbrock function to the last bit:

# %%
rosen = surfaces.get("rosenbrock")
ours = gradient_descent(rosen.grad, rosen.start, lr=1e-3, steps=500)
reference = optimizers.run(rosen, rosen.start, "gd", lr=1e-3, steps=500)
print("largest difference over 500 steps:", np.abs(ours - reference.points).max())
assert np.array_equal(ours, reference.points)

# %% [markdown]
# ## 2. One dimension: how large may a step be?
#
# Take $f(x) = \tfrac{\lambda}{2}x^2$ with curvature $\lambda > 0$, so $f'(x) = \lambda x$.
# One step gives
#
# $$x_{k+1} = x_k - \eta\lambda x_k = (1-\eta\lambda)\,x_k
# \qquad\Longrightarrow\qquad x_k = (1-\eta\lambda)^k\,x_0 .$$
#
# The error is multiplied by the same factor $1-\eta\lambda$ at every step. Check the
# closed form against the iteration for a few values of $\eta\lambda$:

# %%
lam, x0 = 2.0, 1.0
k = np.arange(21)
for h in [0.3, 1.0, 1.7, 2.1]:
    path = gradient_descent(lambda x: lam * x, [x0], lr=h / lam, steps=20)[:, 0]
    closed = (1 - h) ** k * x0
    print(f"lr*lambda = {h:3.1f}: factor {1 - h:+.1f}, |x_20| = {abs(path[-1]):9.2e}, "
          f"max |iterate - closed form| = {np.abs(path - closed).max():.1e}")
    assert np.allclose(path, closed, rtol=1e-12, atol=1e-15)

# %% [markdown]
# The factor tells the whole story:
#
# * $0 < \eta\lambda < 1$: factor in $(0,1)$, the iterate creeps monotonically to 0;
# * $\eta\lambda = 1$: factor 0, the minimum in one step;
# * $1 < \eta\lambda < 2$: factor in $(-1,0)$, the iterate flips sign every step while shrinking;
# * $\eta\lambda > 2$: factor below $-1$, the iterate flips sign and **grows**.
#
# So gradient descent on this function converges exactly when
#
# $$|1-\eta\lambda| < 1 \iff 0 < \eta\lambda < 2 \iff \eta < 2/\lambda .$$

# %%
fig, ax = plt.subplots(figsize=(8, 3.2))
for h, color in zip([0.3, 1.0, 1.7, 2.1], ["#1f77b4", "#2ca02c", "#ff7f0e", "#d62728"], strict=True):
    path = gradient_descent(lambda x: lam * x, [x0], lr=h / lam, steps=12)[:, 0]
    ax.plot(path, "o-", color=color, markersize=4, label=rf"$\eta\lambda = {h}$")
ax.axhline(0, color="0.6", linewidth=0.8)
ax.set_xlabel("step $k$")
ax.set_ylabel("$x_k$")
ax.set_ylim(-3, 3)
ax.legend(ncol=4, loc="upper center")
ax.set_title(r"$x_k = (1-\eta\lambda)^k x_0$ on $f(x)=\frac{\lambda}{2}x^2$")
plt.show()

# %% [markdown]
# **Check the limit by experiment.** Run 400 learning rates at once (the reference
# optimizer is batched) and find the largest one that still shrinks the iterate after
# 200 steps. Theory says $2/\lambda = 1$ for $\lambda = 2$.

# %%
line = surfaces.quadratic([lam, lam])  # curvature lambda in every direction
lrs = np.linspace(0.5, 1.5, 401)
runs = optimizers.run(line, [1.0, 0.0], "gd", lr=lrs, steps=200)
shrinks = np.abs(runs.points[:, -1, 0]) < 1.0
largest = lrs[shrinks].max()
print(f"largest lr that converges on the grid: {largest:.4f}   theory 2/lambda = {2 / lam:.4f}")
print(f"runs reported as diverged: {runs.diverged.sum()} (all with lr > {2 / lam:.1f}: "
      f"{bool(np.all(lrs[runs.diverged] > 2 / lam))})")
assert largest < 2 / lam <= lrs[~shrinks].min()

# %% [markdown]
# ## 3. Two dimensions: the condition number
#
# Now $f(x) = \tfrac12 x^\top H x$ with $H = Q\,\mathrm{diag}(\mu, L)\,Q^\top$,
# $0 < \mu \le L$. The gradient is $Hx$, so
#
# $$x_{k+1} = (I - \eta H)\,x_k .$$
#
# **The eigenbasis view.** Write $z = Q^\top x$ (coordinates along the eigenvectors).
# Since $Q^\top (I-\eta H) Q = I - \eta\,\mathrm{diag}(\mu, L)$, the two coordinates
# do not interact:
#
# $$z_{i,k+1} = (1-\eta\lambda_i)\,z_{i,k} \qquad\Longrightarrow\qquad z_{i,k} = (1-\eta\lambda_i)^k z_{i,0}.$$
#
# A 2-D problem is two copies of section 2, one per eigenvalue. Check it on a valley
# rotated by 30 degrees:

# %%
mu, L = 0.5, 5.0
valley = surfaces.quadratic([mu, L], angle=np.pi / 6)
eigvals, Q = np.linalg.eigh(valley.hessian)
print("eigenvalues of H:", eigvals)

lr = 0.3
run = optimizers.run(valley, [-6.0, 3.0], "gd", lr=lr, steps=40)
z = run.points @ Q  # eigen-coordinates of every iterate, shape (41, 2)
k = np.arange(41)
predicted = (1 - lr * eigvals) ** k[:, None] * z[0]
print("max |z_k - (1 - lr*lambda)^k z_0| =", f"{np.abs(z - predicted).max():.1e}")
assert np.allclose(z, predicted, atol=1e-12)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
plotting.contour(ax1, valley)
plotting.path(ax1, run.points, "gd", label=f"gradient descent, lr = {lr}")
for i, color in enumerate(["#9467bd", "#8c564b"]):
    ax1.annotate("", xy=3 * Q[:, i], xytext=(0, 0),
                 arrowprops=dict(arrowstyle="->", color=color, linewidth=2))
    ax2.semilogy(k, np.abs(z[:, i]), "o", color=color, markersize=3,
                 label=rf"$|z_{i + 1}|$, $\lambda = {eigvals[i]:g}$")
    ax2.semilogy(k, np.abs(predicted[:, i]), "-", color=color, linewidth=1,
                 label=rf"$|1-\eta\lambda|^k |z_{{{i + 1},0}}|$")
ax1.legend(loc="upper right")
ax1.set_title("iterates and the eigenvectors of $H$")
ax2.set_xlabel("step $k$")
ax2.set_title("each eigen-coordinate decays on its own")
ax2.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The steep direction ($\lambda = L$) is done in a few steps; the flat one
# ($\lambda = \mu$) lingers. The error shrinks, overall, by the worse of the two factors,
# the **rate**
#
# $$\rho(\eta) = \max\big(|1-\eta\mu|,\ |1-\eta L|\big),$$
#
# and the iteration converges for every start exactly when $\rho < 1$, that is when
# $0 < \eta < 2/L$: **the steepest direction sets the largest step**.
#
# ### The optimal step
#
# $|1-\eta\mu|$ falls with $\eta$ while $|1-\eta L|$ rises once $\eta > 1/L$, so the
# maximum is smallest where the two are equal: $1 - \eta\mu = \eta L - 1$, that is
#
# $$\eta^\star = \frac{2}{\mu + L}, \qquad
# \rho^\star = \frac{L-\mu}{L+\mu} = \frac{\kappa - 1}{\kappa + 1}, \qquad \kappa = \frac{L}{\mu}.$$
#
# $\kappa$, the **condition number**, is the only thing the best rate depends on. Check
# both formulas two ways: against a fine scan of the theory, and against rates measured
# from actual runs.

# %%
lr_star, rate_star = theory.optimal_gd(mu, L)
kappa = L / mu
print(f"kappa = {kappa:g}:  eta* = 2/(mu+L) = {lr_star:.6f},  rho* = (kappa-1)/(kappa+1) = {rate_star:.6f}")

scan = np.linspace(0.01, 2 / L, 200_001)  # steps of 2e-6
rates = theory.gd_rate(scan, [mu, L])
print(f"scan of max|1 - lr*lambda|: best lr = {scan[rates.argmin()]:.6f}, best rate = {rates.min():.6f}")
assert abs(scan[rates.argmin()] - lr_star) < 2e-6 and abs(rates.min() - rate_star) < 1e-5

# Measured: the error's decay over 200 steps, for 60 learning rates in one batched run.
trial = np.linspace(0.05, 0.39, 60)
batch = optimizers.run(valley, [-6.0, 3.0], "gd", lr=trial, steps=200)
err = np.linalg.norm(batch.points, axis=-1)
measured = (err[:, 200] / err[:, 100]) ** (1 / 100)
worst = np.abs(measured / theory.gd_rate(trial, [mu, L]) - 1).max()
print(f"measured rates agree with max|1 - lr*lambda| to {100 * worst:.2f} % or better")
assert worst < 1e-3  # near the optimum the second direction still adds a little

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.plot(scan, np.abs(1 - scan * mu), "--", color="#9467bd", label=r"$|1-\eta\mu|$ (flat direction)")
ax.plot(scan, np.abs(1 - scan * L), "--", color="#8c564b", label=r"$|1-\eta L|$ (steep direction)")
ax.plot(scan, rates, color="k", linewidth=2, label=r"rate $\rho(\eta)$, the larger of the two")
ax.plot(trial[::3], measured[::3], "o", color=plotting.METHOD_COLORS["gd"], markersize=4,
        label="measured from runs")
ax.plot(lr_star, rate_star, "*", color="gold", markeredgecolor="k", markersize=15,
        label=rf"$\eta^\star = 2/(\mu+L)$, $\rho^\star = {rate_star:.3f}$")
ax.axvline(2 / L, color="#d62728", linewidth=1)
ax.text(2 / L, 0.05, " $2/L$: limit", color="#d62728")
ax.set_xlabel(r"learning rate $\eta$")
ax.set_ylabel("rate per step")
ax.set_ylim(0, 1.05)
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ## 4. Zig-zag in an ill-conditioned valley
#
# The course's standard valley is $f(x,y) = 0.1x^2 + 2y^2$: eigenvalues $\mu = 0.2$ and
# $L = 4$, so $\kappa = 20$. At the optimal step the factor of the steep direction is
# $1-\eta^\star L = -(\kappa-1)/(\kappa+1) < 0$: the iterate **crosses the valley
# floor at every step**, while it crawls along the floor with factor
# $1 - \eta^\star\mu = +(\kappa-1)/(\kappa+1)$. That is the zig-zag.

# %%
quad = surfaces.get("quadratic")
mu_q, L_q = 0.2, 4.0
lr_q, rate_q = theory.optimal_gd(mu_q, L_q)
choices = {
    "small step, lr = 0.1": 0.1,
    f"optimal step, lr = {lr_q:.3f}": lr_q,
    "near the limit, lr = 0.49": 0.49,
}
trajs = {label: optimizers.run(quad, quad.start, "gd", lr=v, steps=60) for label, v in choices.items()}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.4, 1]})
plotting.contour(ax1, quad)
for (label, t), color in zip(trajs.items(), ["#17becf", "#1f77b4", "#d62728"], strict=True):
    plotting.path(ax1, t.points, label=label, color=color, markersize=2.5)
    plotting.loss_curve(ax2, t.losses, quad.f_min, label=label, color=color)
ax1.legend(loc="lower right", fontsize=8)
ax1.set_title(r"$0.1x^2 + 2y^2$, $\kappa = 20$")
ax2.set_title("loss gap on a log scale")
fig.tight_layout()
plt.show()

# %%
y_opt = trajs[f"optimal step, lr = {lr_q:.3f}"].points[:, 1]
flips = np.mean(np.sign(y_opt[1:]) != np.sign(y_opt[:-1]))
print(f"fraction of steps on which y changes sign at the optimal step: {flips:.2f}")
assert flips == 1.0

# %% [markdown]
# On the log-scale loss plot the curves become straight lines: a linear rate. Because
# the loss is quadratic in the error, the loss gap falls by $\rho^2$ per step once the
# slow direction dominates. Check the slope of the optimal-step curve:

# %%
losses = trajs[f"optimal step, lr = {lr_q:.3f}"].losses
slope = (losses[60] / losses[40]) ** (1 / 20)
print(f"loss ratio per step: {slope:.6f}   rho*^2 = {rate_q**2:.6f}")
assert abs(slope - rate_q**2) < 1e-6

# %% [markdown]
# ### Try it: the trajectory explorer
#
# Drag the learning rate across $\eta^\star = 0.476$ and the limit $2/L = 0.5$ and watch
# the zig-zag appear, tighten and blow up; click on the contour plot to start elsewhere
# (a start on the $x$-axis has no steep component and so no zig-zag). Tick *momentum*
# for a preview of lesson 03. The readout below the figure says how many steps each run
# needs to get within $10^{-6}$ of the minimum, or at which step it diverged.

# %%
from lessons_lib.widgets import TrajectoryExplorer

explorer = TrajectoryExplorer("quadratic", lr=lr_q, steps=100, methods=("gd",))
explorer

# %% [markdown]
# What the explorer shows for the optimal step and just past the limit:

# %%
print(*explorer.readout_lines())
explorer.lr_slider.value = 0.51
print(*explorer.readout_lines())
explorer.lr_slider.value = lr_q

# %% [markdown]
# ## 5. How many steps does it take?
#
# The error in the slowest direction after $k$ steps is $\rho^k$ times its start. To
# shrink it by a factor $\varepsilon$ we need $\rho^k \le \varepsilon$:
#
# $$k = \left\lceil \frac{\ln \varepsilon}{\ln \rho} \right\rceil
# \approx \frac{\kappa}{2}\,\ln\frac{1}{\varepsilon}\quad(\kappa \gg 1),$$
#
# since $\ln\frac{\kappa+1}{\kappa-1} \approx 2/\kappa$. **The cost grows linearly with
# the condition number.** Check the exact count with runs that start on the flat
# eigenvector (where the error shrinks by exactly $\rho$ per step):

# %%
eps = 1e-6
print(" kappa   formula   measured   (kappa/2) ln(1/eps)")
for kap in [10.0, 100.0, 1000.0]:
    mu_k, L_k = 1.0, kap
    lr_k, rate_k = theory.optimal_gd(mu_k, L_k)
    predicted_steps = int(np.ceil(np.log(eps) / np.log(rate_k)))
    t = optimizers.run(surfaces.quadratic([mu_k, L_k]), [1.0, 0.0], "gd", lr=lr_k,
                       steps=predicted_steps + 5)
    measured_steps = int(np.argmax(np.abs(t.points[:, 0]) <= eps))
    print(f"{kap:6.0f} {predicted_steps:9d} {measured_steps:10d} {kap / 2 * np.log(1 / eps):14.0f}")
    assert measured_steps == predicted_steps

# %% [markdown]
# A thousand-fold condition number costs about seven thousand steps for six digits.
# Lesson 03 shows that momentum turns $\kappa$ into $\sqrt{\kappa}$ here.
#
# ## 6. Beyond quadratics
#
# Near a minimum $x^\star$ every smooth function looks like the quadratic
# $\tfrac12 (x-x^\star)^\top H (x-x^\star)$ with $H = \nabla^2 f(x^\star)$, so the same
# limit applies locally: $\eta < 2/L_{\text{local}}$. At the Rosenbrock minimum $(1,1)$
# the Hessian is $\begin{pmatrix} 802 & -400\\ -400 & 200\end{pmatrix}$:

# %%
H_min = np.array([[802.0, -400.0], [-400.0, 200.0]])
local = np.linalg.eigvalsh(H_min)
print(f"local eigenvalues {local[0]:.4f} and {local[1]:.2f}: kappa = {local[1] / local[0]:.0f}, "
      f"step limit 2/L = {2 / local[1]:.6f}")
for lr_r in [0.00199, 0.00201]:
    t = optimizers.run(rosen, [1.01, 1.0], "gd", lr=lr_r, steps=3000)
    print(f"lr = {lr_r}: loss after 3000 steps {t.losses[-1]:.1e}")

# %% [markdown]
# Just below the local limit the iterate settles; just above, it cannot: it bounces
# across the narrow valley forever (here on a stable two-step cycle, since the
# function is not quadratic further out). And with $\kappa \approx 2500$ at the
# minimum, even the stable step is painfully slow along the curved valley floor:

# %%
t = optimizers.run(rosen, rosen.start, "gd", lr=1.5e-3, steps=3000)
fig, _ = plotting.trajectory_figure(rosen, {"gradient descent, lr = 1.5e-3": t})
plt.show()
print(f"after 3000 steps: point ({t.points[-1, 0]:.3f}, {t.points[-1, 1]:.3f}), loss {t.losses[-1]:.2e}")

# %% [markdown]
# ## Summary
#
# * Gradient descent $x_{k+1} = x_k - \eta\nabla f(x_k)$ on a quadratic multiplies each
#   eigen-coordinate by $1-\eta\lambda_i$ per step: the eigenbasis view.
# * It converges iff $0 < \eta\lambda_i < 2$ for all $i$, i.e. $\eta < 2/L$; the steepest
#   direction sets the largest step.
# * The rate is $\max_i|1-\eta\lambda_i|$; the best constant step $\eta^\star = 2/(\mu+L)$
#   gives $(\kappa-1)/(\kappa+1)$, and the steps needed grow like $\tfrac{\kappa}{2}\ln(1/\varepsilon)$.
# * Ill-conditioning shows as a zig-zag: the steep direction overshoots while the flat one crawls.
# * Near any minimum the same limits hold with the local Hessian.
#
# Every one of these statements was checked above by a computation.
#
# ## Exercises
#
# Each exercise ends with a check that tells you whether your answer is right and,
# if not, what to look at. The solution is the marked part of the exercise's cell (a
# student copy has a stub there).
#
# ### Exercise 1 (recall)
#
# What is the largest learning rate for which gradient descent converges on
# $f(x,y) = \tfrac12(4x^2 + 0.25y^2)$ from every starting point?

# %%
### BEGIN SOLUTION
answer_1 = 2 / 4.0
### END SOLUTION
checks.gradient_descent.stability_limit(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# For a quadratic with eigenvalues $\mu = 0.5$ and $L = 8$, give the optimal constant
# learning rate and the rate of convergence it achieves.

# %%
### BEGIN SOLUTION
lr_2 = 2 / (0.5 + 8.0)
rate_2 = (8.0 - 0.5) / (8.0 + 0.5)
### END SOLUTION
checks.gradient_descent.optimal_step_and_rate(lr_2, rate_2)

# %% [markdown]
# ### Exercise 3 (implement)
#
# Write `steps_needed(kappa, eps)`: the number of gradient-descent steps at the optimal
# step that shrink the slowest error component by the factor `eps`, for condition
# number `kappa` (return a Python `int`).

# %%
import math


def steps_needed(kappa, eps):
    ### BEGIN SOLUTION
    rate = (kappa - 1) / (kappa + 1)
    return max(0, math.ceil(math.log(eps) / math.log(rate)))
    ### END SOLUTION


checks.gradient_descent.steps_needed(steps_needed)

# %% [markdown]
# ### Exercise 4 (explore)
#
# Without using the formula, find the best learning rate for the valley
# `surfaces.quadratic([0.3, 6.0], angle=0.4)` by experiment: run gradient descent for a
# grid of learning rates (one batched call), count the steps each needs to bring the
# loss below `1e-10`, and report the learning rate with the fewest steps. The check
# compares it with $2/(\mu+L)$.

# %%
### BEGIN SOLUTION
explore = surfaces.quadratic([0.3, 6.0], angle=0.4)
grid = np.linspace(0.05, 0.33, 561)
scan_runs = optimizers.run(explore, [3.0, 2.0], "gd", lr=grid, steps=600)
counts = np.array([s if s is not None else 10**9 for s in scan_runs.steps_to(1e-10)])
best_lr = grid[counts.argmin()]
### END SOLUTION
checks.gradient_descent.best_lr_on_valley(best_lr, 0.3, 6.0)
