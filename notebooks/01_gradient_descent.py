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
# The course's reference optimizer `optimizers.run` computes the same thing, batched over
# many learning rates at once (lesson 03 compares it with PyTorch's `torch.optim.SGD`).
# Our eight lines and the reference agree on the Rosenbrock function (Rosenbrock, 1960,
# "An automatic method for finding the greatest or least value of a function", *The
# Computer Journal* 3(3)) to the last bit:

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
# Okabe-Ito colours (readable with every common colour-vision deficiency) and a marker each.
STYLES = [("#E69F00", "o", "-"), ("#56B4E9", "s", "--"), ("#CC79A7", "^", "-."), ("#000000", "D", ":")]
fig, ax = plt.subplots(figsize=(9, 3.2))
for h, (color, marker, ls) in zip([0.3, 1.0, 1.7, 2.1], STYLES, strict=True):
    path = gradient_descent(lambda x: lam * x, [x0], lr=h / lam, steps=12)[:, 0]
    ax.plot(path, marker=marker, linestyle=ls, color=color, markersize=4, label=rf"$\eta\lambda = {h}$")
ax.axhline(0, color="0.6", linewidth=0.8)
ax.set_xlabel("step $k$")
ax.set_ylabel("$x_k$")
ax.set_ylim(-3.5, 3.5)  # |x_12| = 1.1^12 = 3.14 for eta*lambda = 2.1
ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))  # beside the axes: no point hidden
ax.set_title(r"$x_k = (1-\eta\lambda)^k x_0$ on $f(x)=\frac{\lambda}{2}x^2$")
plt.show()

# %% [markdown]
# **Check the threshold by experiment.** Run 401 learning rates at once (the reference
# optimizer is batched, here on a grid of spacing 0.0025) and find the largest grid value
# that still shrinks the iterate in 200 steps and the smallest that does not. Theory says
# the threshold is $2/\lambda = 1$ for $\lambda = 2$, and that the threshold itself does not
# converge (the factor is $-1$: the iterate flips sign at constant size).

# %%
line = surfaces.quadratic([lam, lam])  # curvature lambda in every direction
lrs = np.linspace(0.5, 1.5, 401)
runs = optimizers.run(line, [1.0, 0.0], "gd", lr=lrs, steps=200)
shrinks = np.abs(runs.points[:, -1, 0]) < 1.0
largest, smallest_not = lrs[shrinks].max(), lrs[~shrinks].min()
print(f"largest grid lr that shrinks |x|: {largest:.4f}, smallest that does not: {smallest_not:.4f}, "
      f"theory 2/lambda = {2 / lam:.4f}")
at_threshold = runs.points[np.argmin(np.abs(lrs - 2 / lam)), :, 0]
print(f"at lr = 2/lambda: |x_k| = 1 for every k: {bool(np.all(np.abs(at_threshold) == 1.0))}")
print(f"runs reported as diverged: {runs.diverged.sum()} (all with lr > {2 / lam:.1f}: "
      f"{bool(np.all(lrs[runs.diverged] > 2 / lam))})")
assert largest < 2 / lam == smallest_not and np.all(np.abs(at_threshold) == 1.0)

# %% [markdown]
# ## 3. Two dimensions: the condition number
#
# Now $f(x) = \tfrac12 x^\top H x$ with $H = Q\,\mathrm{diag}(\mu, L)\,Q^\top$,
# $0 < \mu \le L$. The gradient is $Hx$, so
#
# $$x_{k+1} = (I - \eta H)\,x_k .$$
#
# **The eigenbasis view.** Write $\tilde x = Q^\top x$ (coordinates along the eigenvectors).
# Since $Q^\top (I-\eta H) Q = I - \eta\,\mathrm{diag}(\mu, L)$, the two coordinates
# do not interact:
#
# $$\tilde x_{i,k+1} = (1-\eta\lambda_i)\,\tilde x_{i,k} \qquad\Longrightarrow\qquad \tilde x_{i,k} = (1-\eta\lambda_i)^k \tilde x_{i,0}.$$
#
# A 2-D problem is two copies of section 2, one per eigenvalue. Check it on a valley
# rotated by 30 degrees (the eigenvectors from `numpy.linalg.eigh`, the iterates from the
# reference optimizer, the prediction from the formula):

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
print("max |x~_k - (1 - lr*lambda)^k x~_0| (eigen-coordinates) =", f"{np.abs(z - predicted).max():.1e}")
assert np.allclose(z, predicted, atol=1e-12)

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
plotting.contour(ax1, valley)
plotting.path(ax1, run.points, "gd", label=rf"gradient descent, $\eta$ = {lr}")
for i, (color, marker, ls) in enumerate([("#E69F00", "o", "-"), ("#CC79A7", "s", "--")]):
    ax1.annotate("", xy=3 * Q[:, i], xytext=(0, 0),
                 arrowprops=dict(arrowstyle="->", color=color, linewidth=2))
    ax1.text(*(3.6 * Q[:, i]), rf"$\tilde x_{i + 1}$", color=color, fontsize=12, ha="center", va="center")
    ax2.semilogy(k, np.abs(z[:, i]), marker, color=color, markersize=3,
                 label=rf"$|\tilde x_{i + 1}|$ (run), $\lambda = {eigvals[i]:g}$")
    ax2.semilogy(k, np.abs(predicted[:, i]), ls, color=color, linewidth=1,
                 label=rf"$|1-\eta\lambda|^k |\tilde x_{{{i + 1},0}}|$ (formula)")
ax1.legend(loc="upper right")
ax1.set_title("iterates and the eigenvectors of $H$")
ax2.set_xlabel("step $k$")
ax2.set_ylabel(r"eigen-coordinate $|\tilde x_{i,k}|$ (log scale)")
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
# $0 < \eta < 2/L$: **the steepest direction sets the threshold**.
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
kappa = L / mu
lr_star, rate_star = 2 / (mu + L), (kappa - 1) / (kappa + 1)  # the formulas, written out
print(f"kappa = {kappa:g}:  eta* = 2/(mu+L) = {lr_star:.6f},  rho* = (kappa-1)/(kappa+1) = {rate_star:.6f}")
assert np.allclose(theory.optimal_gd(mu, L), (lr_star, rate_star), rtol=1e-12)  # the library agrees

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
assert worst < 5e-4  # "0.04 % or better"; near the optimum the second direction still adds a little

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.plot(scan, np.abs(1 - scan * mu), "--", color="#E69F00", label=r"$|1-\eta\mu|$ (flat direction)")
ax.plot(scan, np.abs(1 - scan * L), ":", color="#CC79A7", linewidth=2, label=r"$|1-\eta L|$ (steep direction)")
ax.plot(scan, rates, color="k", linewidth=2, label=r"rate $\rho(\eta)$, the larger of the two")
ax.plot(trial[::3], measured[::3], "o", color=plotting.METHOD_COLORS["gd"], markersize=4,
        label="measured from runs")
ax.plot(lr_star, rate_star, "*", color="#F0E442", markeredgecolor="k", markersize=15,
        label=rf"$\eta^\star = 2/(\mu+L)$, $\rho^\star = {rate_star:.3f}$")
ax.axvline(2 / L, color="#D55E00", linewidth=1)
ax.text(2 / L, 0.05, " $2/L$: threshold", color="#D55E00")
ax.set_xlabel(r"learning rate $\eta$")
ax.set_ylabel("rate per step")
ax.set_ylim(0, 1.05)
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ## 4. Zig-zag in an ill-conditioned valley
#
# The course's standard valley is $f(x,y) = 0.1x^2 + 2y^2$, borrowed from *Dive into Deep
# Learning* (Zhang, Lipton, Li and Smola, d2l.ai), chapter "Optimization Algorithms",
# section "Momentum", where it is the ill-conditioned example. Its eigenvalues are
# $\mu = 0.2$ and $L = 4$, so $\kappa = 20$. At the optimal step the factor of the steep direction is
# $1-\eta^\star L = -(\kappa-1)/(\kappa+1) < 0$: the iterate **crosses the valley
# floor at every step**, while it crawls along the floor with factor
# $1 - \eta^\star\mu = +(\kappa-1)/(\kappa+1)$. That is the zig-zag.

# %%
quad = surfaces.get("quadratic")
mu_q, L_q = 0.2, 4.0
lr_q, rate_q = theory.optimal_gd(mu_q, L_q)
choices = {
    r"small step, $\eta$ = 0.1": 0.1,
    rf"optimal step, $\eta$ = {lr_q:.3f}": lr_q,
    r"near the threshold, $\eta$ = 0.49": 0.49,
}
trajs = {label: optimizers.run(quad, quad.start, "gd", lr=v, steps=60) for label, v in choices.items()}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1.4, 1]})
plotting.contour(ax1, quad)
for (label, t), (color, _, ls) in zip(trajs.items(), STYLES, strict=False):
    line = plotting.path(ax1, t.points, label=label, color=color, markersize=2.5)
    line.set_linestyle(ls)
    plotting.loss_curve(ax2, t.losses, quad.f_min, label=label, color=color).set_linestyle(ls)
ax1.legend(loc="lower right", fontsize=10)
ax1.set_title(r"$0.1x^2 + 2y^2$, $\kappa = 20$")
ax2.set_title("loss gap on a log scale")
fig.tight_layout()
plt.show()

# %%
y_opt = trajs[rf"optimal step, $\eta$ = {lr_q:.3f}"].points[:, 1]
flips = np.mean(np.sign(y_opt[1:]) != np.sign(y_opt[:-1]))
print(f"fraction of steps on which y changes sign at the optimal step: {flips:.2f}")
# A start just off the x-axis, (-8, 0.001): the small steep component is multiplied by -rho* at every step.
near_axis = optimizers.run(quad, [-8.0, 1e-3], "gd", lr=lr_q, steps=60).points[:, 1]
factors = near_axis[1:] / near_axis[:-1]
print(f"from (-8, 0.001): y_(k+1) / y_k from {factors.min():.6f} to {factors.max():.6f} over 60 steps "
      f"(-rho* = {-rate_q:.6f}); largest |y_k| after the start {np.abs(near_axis[1:]).max():.1e}")
assert flips == 1.0 and np.allclose(factors, -rate_q, rtol=1e-9, atol=0)

# %% [markdown]
# On the log-scale loss plot the curves become straight lines: a linear rate. Because
# the loss is quadratic in the error, the loss gap falls by $\rho^2$ per step once the
# direction that shrinks slowest dominates; at the optimal step both directions shrink by
# $\rho^\star$, so the gap falls by $\rho^{\star2}$ from the first step on. Check the
# slope of the optimal-step curve over its 60 steps:

# %%
losses = trajs[rf"optimal step, $\eta$ = {lr_q:.3f}"].losses
slope = (losses[60] / losses[0]) ** (1 / 60)
print(f"loss ratio per step over steps 0..60: {slope:.6f}   rho*^2 = {rate_q**2:.6f}")
assert abs(slope - rate_q**2) < 1e-6

# %% [markdown]
# ### Try it: the trajectory explorer
#
# Drag the learning rate up from 0.1: past $1/L = 0.25$ the steep factor $1-\eta L$ turns
# negative and the zig-zag appears, the rate is smallest at $\eta^\star = 0.476$, and past
# the threshold $2/L = 0.5$ it blows up. Click on the contour plot to start elsewhere: the
# zig-zag has the size of the start's steep component $y_0$, which is multiplied by
# $-\rho^\star$ at every step (checked above from $(-8, 10^{-3})$), so a start on the
# $x$-axis ($y_0 = 0$) shows none.
# Tick *momentum* for a preview of lesson 03. The readout below the figure says how many
# steps each run needs to get the loss within $10^{-6}$ of the minimum, or that the run
# diverges (and at which step it left the plotted region, if it did).

# %%
from lessons_lib.widgets import TrajectoryExplorer

explorer = TrajectoryExplorer("quadratic", lr=lr_q, steps=100, methods=("gd",))
explorer

# %% [markdown]
# What the explorer shows for the optimal step and just past the threshold. At the
# optimal step both eigen-factors have modulus $\rho^\star$, so the loss gap falls by
# exactly $\rho^{\star 2}$ per step, and the step count of the readout can be computed by hand:
# the smallest $k$ with $\rho^{\star 2k}\,(f(x_0) - f^\star) \le 10^{-6}$. The smallest rate
# is not quite the smallest count, though: the count depends on the start, and from this one
# a slightly smaller step needs fewer steps (scan at the end of the cell; exercise 4 asks you
# to find the fewest by such a scan).

# %%
print(*explorer.readout_lines())
gap_0 = quad.f(quad.start) - quad.f_min
by_hand = int(np.ceil(np.log(1e-6 / gap_0) / (2 * np.log(rate_q))))
print(f"by hand: ceil(ln(1e-6 / {gap_0:.2f}) / (2 ln {rate_q:.4f})) = {by_hand}")
assert explorer.runs["gd"].steps_to(1e-6) == by_hand
explorer.lr = 0.51
print(*explorer.readout_lines())
explorer.lr = lr_q

# The readout's count for 2,500 learning rates between 1/L and 2/L (spacing 1e-4), from the same start:
lr_scan = np.linspace(0.25, 0.5, 2501)[:-1]
counts = np.array([c if c is not None else 10**9
                   for c in optimizers.run(quad, quad.start, "gd", lr=lr_scan, steps=200).steps_to(1e-6)])
fastest = lr_scan[counts == counts.min()]
print(f"fewest steps to 1e-6 from ({quad.start[0]:g}, {quad.start[1]:g}): {counts.min()}, for lr from {fastest.min():.4f} "
      f"to {fastest.max():.4f}; at eta* = {lr_q:.4f}: {by_hand}")
assert counts.min() < by_hand and fastest.max() < lr_q
assert (counts.min(), by_hand, round(fastest.min(), 3), round(fastest.max(), 3)) == (80, 85, 0.467, 0.473)

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
# the condition number.**
#
# At the optimal step *both* factors have modulus $\rho^\star$ ($1-\eta^\star\mu = +\rho^\star$,
# $1-\eta^\star L = -\rho^\star$), so from any start the whole error shrinks by exactly
# $\rho^\star$ per step. Check the count with runs of the reference optimizer from random
# starts, on valleys rotated by one radian, counting the steps until
# $\|x_k\| \le \varepsilon\|x_0\|$; the formula uses $\rho = (\kappa-1)/(\kappa+1)$ written out:

# %%
eps = 1e-6
start_rng = np.random.default_rng(0)
print(" kappa   formula   measured   (kappa/2) ln(1/eps)   approximation / formula")
for kap in [10.0, 100.0, 1000.0]:
    rate_k = (kap - 1) / (kap + 1)
    predicted_steps = int(np.ceil(np.log(eps) / np.log(rate_k)))
    start = start_rng.standard_normal(2)
    t = optimizers.run(surfaces.quadratic([1.0, kap], angle=1.0), start, "gd", lr=2 / (1 + kap),
                       steps=predicted_steps + 5)
    shrink = np.linalg.norm(t.points, axis=1) / np.linalg.norm(start)
    measured_steps = int(np.argmax(shrink <= eps))
    approx = kap / 2 * np.log(1 / eps)
    print(f"{kap:6.0f} {predicted_steps:9d} {measured_steps:10d} {approx:14.1f} {approx / predicted_steps:20.4f}")
    assert measured_steps == predicted_steps and abs(approx / predicted_steps - 1) < 0.01
assert 6500 <= predicted_steps < 7500  # kappa = 1000: "about seven thousand steps"
# A looser eps needs fewer steps, and rounding up to a whole step weighs more:
shortfall, unrounded_at = {}, {}
for eps_loose in [1e-1, 1e-3]:
    unrounded = np.log(eps_loose) / np.log(9 / 11)
    unrounded_at[eps_loose] = unrounded
    shortfall[eps_loose] = 1 - 10 / 2 * np.log(1 / eps_loose) / np.ceil(unrounded)
    print(f"kappa = 10, eps = {eps_loose:g}: ln(eps)/ln(rho) = {unrounded:.2f}, formula {np.ceil(unrounded):.0f}, "
          f"(kappa/2) ln(1/eps) = {10 / 2 * np.log(1 / eps_loose):.2f}, approximation / formula = "
          f"{1 - shortfall[eps_loose]:.3f}")
assert round(shortfall[1e-1], 2) == 0.04 and round(shortfall[1e-3], 3) == 0.013
assert round(unrounded_at[1e-1], 2) == 11.47 and np.ceil(unrounded_at[1e-1]) == 12
# Before rounding the approximation is never short: ln((kappa+1)/(kappa-1)) = 2 artanh(1/kappa) >= 2/kappa.
assert all(10 / 2 * np.log(1 / e) > u for e, u in unrounded_at.items()) and round(10 / 2 * np.log(10), 2) == 11.51

# %% [markdown]
# A thousand-fold condition number costs about seven thousand steps for six digits, and
# for $\varepsilon = 10^{-6}$ and $\kappa$ = 10, 100 and 1000 the approximation
# $\tfrac{\kappa}{2}\ln\tfrac1\varepsilon$ is within 1 % of the exact count. For fewer
# digits it is rougher when $\kappa$ is small: at $\kappa = 10$ it is 4 % short for
# $\varepsilon = 0.1$ and 1.3 % short for $\varepsilon = 10^{-3}$, entirely because the
# count is rounded up to a whole step (12 steps where $\ln\varepsilon/\ln\rho = 11.47$):
# before rounding the approximation is never short, since
# $\ln\frac{\kappa+1}{\kappa-1} = 2\,\mathrm{artanh}(1/\kappa) \ge 2/\kappa$ (11.51 against 11.47).
# Lesson 03 shows that momentum, at its best pair, replaces the rate
# $(\kappa-1)/(\kappa+1)$ by $(\sqrt\kappa-1)/(\sqrt\kappa+1)$.
#
# ## 6. Beyond quadratics
#
# Near a minimum $x^\star$ every smooth function looks like the quadratic
# $\tfrac12 (x-x^\star)^\top H (x-x^\star)$ with $H = \nabla^2 f(x^\star)$, so the same
# threshold applies locally: $\eta < 2/L_{\text{local}}$. For
# $f(x,y) = (1-x)^2 + 100(y-x^2)^2$ the second derivatives at the minimum $(1,1)$ are, by
# hand, $f_{xx} = 2 - 400(y - x^2) + 800x^2 = 802$, $f_{xy} = -400x = -400$ and
# $f_{yy} = 200$. Check them against central differences of the library's gradient, then
# run just below and just above the local threshold from a start near the minimum:

# %%
H_min = np.array([[802.0, -400.0], [-400.0, 200.0]])  # by hand
h = 1e-6
H_numeric = np.array([(rosen.grad(np.array([1.0, 1.0]) + h * e) - rosen.grad(np.array([1.0, 1.0]) - h * e))
                      / (2 * h) for e in np.eye(2)])
print(f"max |hand - central differences of rosen.grad| < 1e-5: {bool(np.abs(H_min - H_numeric).max() < 1e-5)}")
assert np.allclose(H_min, H_numeric, atol=1e-5)
local = np.linalg.eigvalsh(H_min)
print(f"local eigenvalues {local[0]:.4f} and {local[1]:.2f}: kappa = {local[1] / local[0]:.0f}, "
      f"threshold 2/L = {2 / local[1]:.6f}")
assert abs(local[1] / local[0] - 2500) < 50 and 0.00199 < 2 / local[1] < 0.00201
near = [optimizers.run(rosen, [1.01, 1.0], "gd", lr=lr_r, steps=60_000) for lr_r in (0.00199, 0.00201)]
for i, lr_r in enumerate([0.00199, 0.00201]):
    p, f_k = near[i].points, near[i].losses
    final = f"{f_k[-1]:.1e}" if f_k[-1] >= 1e-20 else "< 1e-20"
    two, one = (np.abs(p[-1] - p[-j]).max() for j in (3, 2))
    print(f"lr = {lr_r}: loss at step 1000 {f_k[1000]:.1e}, at 3000 {f_k[3000]:.1e}, at 60,000 {final}; "
          f"there |x_k - x_(k-2)| {'< 1e-12' if two < 1e-12 else f'= {two:.1e}'}, "
          f"|x_k - x_(k-1)| {'< 1e-12' if one < 1e-12 else f'= {one:.1e}'}")
below, above = near[0].losses, near[1].losses
stops = 1000 + int(np.argmax(np.diff(below[1000:]) >= 0))  # the first step from 1000 on where it does not fall
off = np.abs(near[0].points[stops:] - 1).max()
print(f"lr = 0.00199: the loss falls at every step from 1000 until step {round(stops, -3):,} or so, and from "
      f"there on it stays below 1e-26 (round-off), the iterate within 1e-12 of (1, 1): "
      f"{bool(below[stops:].max() < 1e-26 and off < 1e-12)}")
assert below[3000] < 1e-8 and np.all(np.diff(below[1000:stops]) < 0)  # settles, monotonically ...
assert below[stops:].max() < 1e-26 and off < 1e-12  # ... until round-off (rounding errors of the gradient)
assert round(stops, -3) == 29_000
print(f"lr = 0.00201: the losses of the last two iterates {above[-2]:.2e} and {above[-1]:.2e}")
assert abs(above[1000] - 2.5e-5) < 0.05e-5 and above[3000] > 1e-2  # down, and up again
assert np.abs(near[1].points[-1] - near[1].points[-3]).max() < 1e-12 < 1e-3 < np.abs(
    near[1].points[-1] - near[1].points[-2]).max()  # ... and ends on a two-step cycle
assert np.all(np.abs(above[-2:] / 5e-3 - 1) < 0.1)  # of loss about 5e-3

# %% [markdown]
# Just below the local threshold the iterate settles, its loss falling at every step from
# step 1000 until it reaches round-off, after about 29,000 steps (a loss below $10^{-26}$,
# the iterate within $10^{-12}$ of $(1, 1)$). Just above, it does not: its loss is
# $2.5\times10^{-5}$ at step 1000 and back above $10^{-2}$ at step 3000, and after 60,000
# steps it alternates between two points across the narrow valley, a two-step cycle with a
# loss of about $5\times10^{-3}$ (the function is not quadratic further out, so the
# iterate does not run away). And with $\kappa \approx 2500$ at the minimum, even a stable
# step is slow along the curved valley floor: from the usual start $(-1.5, 2)$, 3000 steps
# of $\eta = 1.5\times10^{-3}$ do not reach the minimum:

# %%
t = optimizers.run(rosen, rosen.start, "gd", lr=1.5e-3, steps=3000)
fig, _ = plotting.trajectory_figure(rosen, {r"gradient descent, $\eta$ = 1.5e-3": t})
plt.show()
print(f"after 3000 steps: point ({t.points[-1, 0]:.3f}, {t.points[-1, 1]:.3f}), loss {t.losses[-1]:.2e}, "
      f"distance to (1, 1) {np.linalg.norm(t.points[-1] - 1):.2f}")
assert t.losses[-1] > 1e-3 and np.linalg.norm(t.points[-1] - 1) > 0.1

# %% [markdown]
# ## Summary
#
# * Gradient descent $x_{k+1} = x_k - \eta\nabla f(x_k)$ on a quadratic multiplies each
#   eigen-coordinate by $1-\eta\lambda_i$ per step: the eigenbasis view (checked on a
#   valley rotated by 30 degrees).
# * With a constant step it converges from every start iff $0 < \eta\lambda_i < 2$ for all
#   $i$, i.e. $\eta < 2/L$: the steepest direction sets the threshold, and at the threshold
#   itself it does not converge (checked on a grid of 401 learning rates for $\lambda = 2$).
# * The rate is $\max_i|1-\eta\lambda_i|$; the best constant step $\eta^\star = 2/(\mu+L)$
#   gives $(\kappa-1)/(\kappa+1)$ (checked by a scan and by measured rates for $\kappa = 10$),
#   and the steps to shrink the error by $\varepsilon$ are $\lceil\ln\varepsilon/\ln\rho^\star\rceil
#   \approx \tfrac{\kappa}{2}\ln(1/\varepsilon)$ (within 1 % for $\varepsilon = 10^{-6}$ and
#   $\kappa$ = 10, 100, 1000; 4 % short for $\varepsilon = 0.1$, $\kappa = 10$). The smallest
#   rate is not always the fewest steps from a given start: from $(-8, 3)$ on $0.1x^2 + 2y^2$,
#   $\eta$ between 0.467 and 0.473 reach a loss gap of $10^{-6}$ in 80 steps, $\eta^\star$ in 85.
# * Ill-conditioning shows as a zig-zag: at the optimal step the steep coordinate changes
#   sign at every step while the flat one crawls (on $0.1x^2 + 2y^2$, $\kappa = 20$).
# * Near a minimum the threshold is $2/L$ of the local Hessian: near the Rosenbrock minimum,
#   from $(1.01, 1)$, $\eta = 0.00199$ settles and $\eta = 0.00201$ ends on a two-step cycle.
# * The valley $0.1x^2 + 2y^2$ is *Dive into Deep Learning*'s (section "Momentum"); the
#   curved valley is Rosenbrock's (1960).
#
# ## Exercises
#
# Each exercise ends with a check that tells you whether your answer is right and,
# if not, what to look at. The solution is the marked part of the exercise's cell (a
# student copy has a stub there).
#
# Numbers you work out by hand are accepted to three significant figures (a relative
# error up to 0.25 %).
#
# ### Exercise 1 (recall)
#
# Gradient descent with a constant learning rate $\eta$ runs on
# $f(x,y) = \tfrac12(4x^2 + 0.25y^2)$. It converges from every starting point exactly when
# $0 < \eta < \eta_{\max}$. What is the threshold $\eta_{\max}$?

# %% nbgrader={"grade": false, "grade_id": "ex01_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = 2 / 4.0
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex01_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.gradient_descent.stability_limit(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# For a quadratic with eigenvalues $\mu = 0.5$ and $L = 8$, give the optimal constant
# learning rate and the rate of convergence it achieves (to three significant figures).

# %% nbgrader={"grade": false, "grade_id": "ex01_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
lr_2 = 2 / (0.5 + 8.0)
rate_2 = (8.0 - 0.5) / (8.0 + 0.5)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex01_2_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.gradient_descent.optimal_step_and_rate(lr_2, rate_2)

# %% [markdown]
# ### Exercise 3 (implement)
#
# Write `steps_needed(kappa, eps)`: the smallest number of gradient-descent steps at the
# optimal step that shrink the error by the factor `eps` (at least), for condition number
# `kappa`. Return a whole number; the check wants the exact count on six cases.

# %% nbgrader={"grade": false, "grade_id": "ex01_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
import math


def steps_needed(kappa, eps):
    ### BEGIN SOLUTION
    rate = (kappa - 1) / (kappa + 1)
    return max(0, math.ceil(math.log(eps) / math.log(rate)))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01_3_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.gradient_descent.steps_needed(steps_needed)
### BEGIN HIDDEN TESTS
for _kappa, _eps in [(4.0, 1e-3), (50.0, 1e-5), (7.5, 0.1), (30.0, 1e-12), (1.2, 1e-4)]:
    _rate, _k = (_kappa - 1) / (_kappa + 1), steps_needed(_kappa, _eps)
    assert _rate**_k <= _eps < _rate ** (_k - 1), f"steps_needed({_kappa}, {_eps}) = {_k} is not the smallest k"
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (explore)
#
# Without using the formula, find the best learning rate for the valley
# `surfaces.quadratic([0.3, 6.0], angle=0.4)` by experiment: from the start $(3, 2)$, run
# gradient descent for a grid of at least ten learning rates (one batched call), count the
# steps each needs to bring the loss gap to `1e-10` or below (`steps_to`; a run that does not
# get there in the steps you ran counts as `None`, or as any number from $10^6$ up), and pass
# the grid, the counts and the learning rate with the fewest steps to the check. The check
# recounts every step count from the closed form $\tilde x_{i,k} = (1-\eta\lambda_i)^k \tilde x_{i,0}$ (they
# must be exact), and accepts your learning rate only if it needs the fewest steps any
# learning rate needs from this start (no slack: $2/(\mu+L)$ needs one step more than the
# fewest, and a grid too coarse to find the fewest is told to refine; a grid value typed
# rounded is accepted if the rounded value itself needs the fewest); it also tells you how
# many steps $2/(\mu+L)$ needs.

# %% nbgrader={"grade": false, "grade_id": "ex01_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
explore = surfaces.quadratic([0.3, 6.0], angle=0.4)
grid = np.linspace(0.05, 0.33, 561)
scan_runs = optimizers.run(explore, [3.0, 2.0], "gd", lr=grid, steps=600)
counts = np.array([s if s is not None else 10**9 for s in scan_runs.steps_to(1e-10)])
best_lr = grid[counts.argmin()]
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex01_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.gradient_descent.best_lr_on_valley(grid, counts, best_lr)
