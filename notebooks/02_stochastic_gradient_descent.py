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
# # Lesson 02: Stochastic gradient descent
#
# A loss that is an average over many samples has a gradient that is an average too.
# Computing it exactly costs one pass over the data per step; **stochastic gradient
# descent** (SGD) instead averages over a small random *minibatch* and takes many cheap,
# noisy steps. This lesson measures that noise, shows what it does to the iterates, and
# the three standard cures: smaller steps over time, averaging the iterates, and larger
# batches.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. show that a minibatch gradient is an unbiased estimate of the full gradient, with a
#    variance that falls like $1/B$ (and by the factor $(m-B)/(m-1)$ more when the batch
#    is drawn without replacement);
# 2. write SGD for least squares and run it;
# 3. derive the stationary spread $\eta s^2/(\lambda(2-\eta\lambda))$ of constant-step SGD
#    on a quadratic and explain why the iterate never settles;
# 4. choose a decaying step $\eta_k = a/(b+k)$ that reaches the minimum, and say why $a$
#    must not be too small;
# 5. use iterate averaging (Polyak-Ruppert) to remove most of the noise;
# 6. reason about the batch size as a trade-off between gradient evaluations and steps, and
#    predict how momentum changes the noise.
#
# ## Prerequisites
#
# Lesson 01 (gradient descent on quadratics, eigenvalues, the rate $|1-\eta\lambda|$), and
# the rules for the mean and variance of a sum of random variables. About 60 minutes.

# %%
import itertools

import matplotlib.pyplot as plt
import numpy as np

import lessons_lib
from lessons_lib import checks, optimizers, plotting, surfaces

lessons_lib.setup()

# %% [markdown]
# ## 1. A loss made of many samples
#
# Take $m = 2000$ points $(x_i, y_i)$ scattered around the line $y = 1 + 2x$, and fit a
# line $h_\theta(x) = \theta_0 + \theta_1 x$ by least squares. Writing $a_i = (1, x_i)$,
# the loss is the average of one term per sample,
#
# $$J(\theta) = \frac{1}{m}\sum_{i=1}^m \ell_i(\theta), \qquad
# \ell_i(\theta) = \tfrac12 (a_i^\top\theta - y_i)^2, \qquad
# g_i(\theta) = \nabla\ell_i(\theta) = (a_i^\top\theta - y_i)\,a_i ,$$
#
# and its gradient is the average of the per-sample gradients,
# $\nabla J(\theta) = \frac1m \sum_i g_i(\theta)$. (Lesson 05 works through this model
# by hand.) The library's `surfaces.linear_regression(x, y)` is the same loss over
# $(\theta_0, \theta_1)$; the per-sample gradients we write ourselves:

# %%
m = 2000
x, y = surfaces.regression_data(m=m, seed=1, intercept=1.0, slope=2.0, noise=0.5)
loss = surfaces.linear_regression(x, y)
A = loss.hessian  # (1/m) sum a_i a_i^T, the Hessian of J
theta_star = loss.minima[0]


def per_sample_gradients(theta, x, y):
    """g_i(theta) = (theta0 + theta1 x_i - y_i) * (1, x_i) for every sample; shape (m, 2)."""
    residual = theta[0] + theta[1] * x - y
    return np.column_stack([residual, residual * x])


theta_a = np.array([0.0, 0.0])  # a point far from the minimum
G = per_sample_gradients(theta_a, x, y)
lstsq = np.linalg.lstsq(np.column_stack([np.ones(m), x]), y, rcond=None)[0]
print("mean of the per-sample gradients:", G.mean(axis=0), "  surface.grad:", loss.grad(theta_a))
print("least-squares solution:", lstsq, "  surface minimum:", theta_star)
print("Hessian eigenvalues:", np.linalg.eigvalsh(A), f" kappa = {np.linalg.cond(A):.1f}")
assert np.allclose(G.mean(axis=0), loss.grad(theta_a), rtol=1e-12)
assert np.allclose(lstsq, theta_star, rtol=1e-10)

# %% [markdown]
# ## 2. Minibatch gradients: unbiased, with variance $1/B$
#
# A minibatch gradient averages $B$ of the per-sample gradients,
# $\hat g_B = \frac1B \sum_{j=1}^B g_{i_j}$, at indices $i_j$ drawn at random. There are
# two common ways to draw them:
#
# * **with replacement**: $B$ independent uniform draws (an index may repeat);
# * **without replacement**: $B$ distinct indices, a uniformly random subset (what a
#   shuffled pass through the data gives).
#
# Either way every index is equally likely, so $\mathbb{E}\,\hat g_B = \nabla J$: **the
# minibatch gradient is unbiased**. Its noise is measured by the per-sample covariance
# $\Sigma = \frac1m\sum_i (g_i - \nabla J)(g_i - \nabla J)^\top$ and, as one number,
# by $\operatorname{tr}\Sigma = \mathbb{E}\|g_i - \nabla J\|^2$.
#
# *With replacement* the $B$ terms are independent, so
# $\operatorname{Cov}\hat g_B = \Sigma / B$.
#
# *Without replacement* two distinct draws are negatively correlated: the $m$ deviations
# $g_i - \nabla J$ sum to zero, so the covariance of two different ones is
# $-\Sigma/(m-1)$. The variance of the sum of $B$ draws is then
# $B\Sigma - B(B-1)\Sigma/(m-1)$, and dividing by $B^2$,
#
# $$\operatorname{Cov}\hat g_B = \frac{\Sigma}{B}\cdot\frac{m-B}{m-1}
# \qquad\text{(the finite-population correction; zero for } B = m).$$
#
# **Exact check.** On the first 8 samples we can list every possible minibatch of size 3:
# all $8^3$ ordered draws with replacement, and all $\binom83 = 56$ subsets.

# %%
small = G[:8]
m_small, B_small = len(small), 3
full_small = small.mean(axis=0)
Sigma_small = np.cov(small.T, bias=True)  # (1/m) sum of outer products of the deviations

with_repl = np.array([small[list(idx)].mean(axis=0)
                      for idx in itertools.product(range(m_small), repeat=B_small)])
without = np.array([small[list(idx)].mean(axis=0)
                    for idx in itertools.combinations(range(m_small), B_small)])
for name, batch_means, factor in [
    ("with replacement   ", with_repl, 1.0),
    ("without replacement", without, (m_small - B_small) / (m_small - 1)),
]:
    cov = np.cov(batch_means.T, bias=True)
    predicted = Sigma_small / B_small * factor
    print(f"{name}: {len(batch_means):3d} batches, |mean - full gradient| < 1e-13: "
          f"{bool(np.abs(batch_means.mean(axis=0) - full_small).max() < 1e-13)}, "
          f"tr Cov = {np.trace(cov):.6f}, formula {np.trace(predicted):.6f}")
    assert np.allclose(batch_means.mean(axis=0), full_small, atol=1e-13)
    assert np.allclose(cov, predicted, rtol=1e-10)

# %% [markdown]
# **Monte Carlo check on all 2000 samples.** Draw 4000 minibatches of each size both
# ways. Without replacement we do what a training loop does: shuffle the 2000 indices, cut
# them into $\lfloor m/B\rfloor$ batches, and repeat with a new shuffle. The batches of one
# pass are not independent of each other, but each is a uniformly random subset, which is
# all the formulas need. Compare the sample mean with the full gradient (within four
# standard errors) and the variance with the two formulas.


# %%
def shuffled_batches(rng, m, B, n):
    """n minibatches of size B (without replacement) from successive shuffled passes; shape (n, B)."""
    per_pass = m // B
    passes = -(-n // per_pass)  # ceiling division
    return np.concatenate([rng.permutation(m)[: per_pass * B].reshape(per_pass, B)
                           for _ in range(passes)])[:n]


rng = np.random.default_rng(2)
full = G.mean(axis=0)
tr_Sigma = np.trace(np.cov(G.T, bias=True))
batch_sizes = [1, 4, 16, 64, 256, 1024, 2000]
n_draws = 4000
measured = {"with": [], "without": []}
print("    B   tr Cov (with)  Sigma/B    ratio | tr Cov (without)  x(m-B)/(m-1)  ratio")
for B in batch_sizes:
    row = []
    for kind in ["with", "without"]:
        idx = rng.integers(0, m, size=(n_draws, B)) if kind == "with" else shuffled_batches(rng, m, B, n_draws)
        means = G[idx].mean(axis=1)  # n_draws minibatch gradients, shape (n_draws, 2)
        stderr = means.std(axis=0) / np.sqrt(n_draws)
        assert np.all(np.abs(means.mean(axis=0) - full) <= 4 * stderr + 1e-12), (kind, B)
        var = np.mean(np.sum((means - full) ** 2, axis=1))  # E |g_B - grad J|^2 = tr Cov
        predicted = tr_Sigma / B * (1.0 if kind == "with" else (m - B) / (m - 1))
        measured[kind].append(var)
        row.append((var, predicted))
    (vw, pw), (vo, po) = row
    cols_without = f"{vo:14.3e} {po:13.3e}  {vo / po:6.3f}" if po > 0 else f"{'0 (< 1e-20)':>14s} {0.0:13.3e}"
    print(f"{B:5d}   {vw:11.3e} {pw:10.3e}  {vw / pw:6.3f} | {cols_without}")
    assert abs(vw / pw - 1) < 0.06
    assert (abs(vo / po - 1) < 0.06) if po > 0 else vo < 1e-20

# %% [markdown]
# Every mean agreed with the full gradient within four standard errors (for the shuffled
# passes it is exact whenever $B$ divides $m$: a whole pass averages every sample once), and
# every variance with its formula within 6 % (the Monte Carlo error of 4000 draws is a few
# per cent).
# For a batch of the whole data set drawn without replacement the "minibatch" *is* the full
# gradient and the variance is exactly zero, while $B = m$ draws with replacement still
# carry the noise $\Sigma/m$.
#
# **In the rest of this lesson we draw with replacement**: each step's minibatch is then
# independent of the others and its covariance is exactly $\Sigma(\theta)/B$, which keeps
# the analysis clean. For $B \ll m$ the two ways differ by the factor
# $(m-B)/(m-1) \approx 1$.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.0), gridspec_kw={"width_ratios": [1, 1.15]})
for B, color in zip([1, 16, 256], ["#ff7f0e", "#9467bd", "#2ca02c"], strict=True):
    means = G[rng.integers(0, m, size=(300, B))].mean(axis=1)
    ax1.plot(means[:, 0], means[:, 1], ".", color=color, markersize=3, alpha=0.6,
             label=f"300 minibatch gradients, B = {B}")
ax1.plot(*full, "*", color="gold", markeredgecolor="k", markersize=14, label=r"full gradient $\nabla J$")
ax1.set_xlabel(r"$\partial J/\partial\theta_0$")
ax1.set_ylabel(r"$\partial J/\partial\theta_1$")
ax1.set_title(r"minibatch gradients at $\theta = (0, 0)$")
ax1.legend(loc="upper left", fontsize=8)
b_line = np.array(batch_sizes, dtype=float)
ax2.loglog(b_line, tr_Sigma / b_line, "-", color="#1f77b4", label=r"with replacement: $\mathrm{tr}\,\Sigma/B$")
ax2.loglog(b_line, measured["with"], "o", color="#1f77b4")
ax2.loglog(b_line[:-1], (tr_Sigma / b_line * (m - b_line) / (m - 1))[:-1], "--", color="#d62728",
           label=r"without: $\times\,(m-B)/(m-1)$")
ax2.loglog(b_line[:-1], measured["without"][:-1], "s", color="#d62728", markerfacecolor="none")
ax2.set_xlabel("batch size $B$")
ax2.set_ylabel(r"$\mathbb{E}\,\|\hat g_B - \nabla J\|^2$")
ax2.set_title("variance of the minibatch gradient (points: measured)")
ax2.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# (The last point of the without-replacement curve, $B = m$, is zero and cannot be drawn
# on a log scale.) Note also what the left panel shows: the noise is not the same in every
# direction, and it depends on $\theta$. At the minimum the full gradient is zero, but the
# per-sample gradients are not: $g_i(\theta^\star) = r_i a_i$ with the residuals
# $r_i = a_i^\top\theta^\star - y_i$. That leftover noise is what the next sections are
# about.
#
# ## 3. SGD, written out
#
# $$\theta_{k+1} = \theta_k - \eta_k\,\hat g_{B,k}(\theta_k),
# \qquad \hat g_{B,k} = \frac1B\sum_{j=1}^B g_{i_{k,j}}, \quad i_{k,j}\ \text{uniform on}\ \{1..m\}.$$


# %%
def sgd(x, y, theta0, lr, steps, batch, rng):
    """SGD on the least-squares loss; returns the iterates, shape (steps + 1, 2).

    lr is a number or a schedule lr(k); batch is the minibatch size (drawn with
    replacement), or None for the full gradient (then this is gradient descent).
    """
    schedule = lr if callable(lr) else (lambda k: lr)
    theta = np.array(theta0, dtype=float)
    path = [theta.copy()]
    for k in range(steps):
        if batch is None:
            xb, yb = x, y
        else:
            idx = rng.integers(0, len(x), size=batch)
            xb, yb = x[idx], y[idx]
        residual = theta[0] + theta[1] * xb - yb
        grad = np.array([residual.mean(), (residual * xb).mean()])
        theta = theta - schedule(k) * grad
        path.append(theta.copy())
    return np.array(path)


# %% [markdown]
# With the full gradient this must be gradient descent, and the reference optimizer agrees:

# %%
ours = sgd(x, y, loss.start, lr=0.3, steps=200, batch=None, rng=None)
reference = optimizers.run(loss, loss.start, "gd", lr=0.3, steps=200)
print(f"full-batch SGD vs optimizers.run: max difference below 1e-12: "
      f"{bool(np.abs(ours - reference.points).max() < 1e-12)}")
assert np.allclose(ours, reference.points, atol=1e-12)

# %% [markdown]
# For statistics we need many independent runs. The same loop, vectorised over `runs`
# copies (each with its own minibatches), records the average loss gap
# $\mathbb{E}\,J(\theta_k) - J^\star$ over the runs, and optionally the gap of the running
# average of the iterates from step `average_from` on (section 6):


# %%
def sgd_runs(x, y, theta0, lr, steps, batch, runs, rng, average_from=None):
    """Mean over `runs` independent SGD runs of J(theta_k) - J*, shape (steps + 1,).

    With average_from = k0 also returns the mean gap of the average of theta_k0..theta_k
    (NaN before k0); otherwise None. The final iterates are returned last, shape (runs, 2).
    """
    schedule = lr if callable(lr) else (lambda k: lr)
    theta = np.tile(np.asarray(theta0, dtype=float), (runs, 1))
    gaps = np.empty(steps + 1)
    gaps[0] = loss.f(theta).mean() - loss.f_min
    avg_gaps = None if average_from is None else np.full(steps + 1, np.nan)
    average, n_avg = np.zeros_like(theta), 0
    for k in range(steps):
        idx = rng.integers(0, len(x), size=(runs, batch))
        xb, yb = x[idx], y[idx]
        residual = theta[:, :1] + theta[:, 1:] * xb - yb
        grad = np.column_stack([residual.mean(axis=1), (residual * xb).mean(axis=1)])
        theta = theta - schedule(k) * grad
        gaps[k + 1] = loss.f(theta).mean() - loss.f_min
        if average_from is not None and k + 1 >= average_from:
            n_avg += 1
            average += (theta - average) / n_avg  # running mean of the iterates
            avg_gaps[k + 1] = loss.f(average).mean() - loss.f_min
    return gaps, avg_gaps, theta


# One run of the vectorised loop draws the same minibatches as sgd() with the same seed:
single = sgd(x, y, loss.start, 0.2, 50, 4, np.random.default_rng(7))
_, _, last = sgd_runs(x, y, loss.start, 0.2, 50, 4, 1, np.random.default_rng(7))
print(f"sgd vs sgd_runs(runs=1), same seed: difference below 1e-12: {bool(np.abs(single[-1] - last[0]).max() < 1e-12)}")
assert np.allclose(single[-1], last[0], atol=1e-12)

# %% [markdown]
# Now run gradient descent and SGD with the same step $\eta = 0.2$ from the same start:

# %%
rng = np.random.default_rng(3)
lr_demo, steps_demo = 0.2, 400
paths = {
    "SGD, B = 1": sgd(x, y, loss.start, lr_demo, steps_demo, 1, rng),
    "SGD, B = 32": sgd(x, y, loss.start, lr_demo, steps_demo, 32, rng),
    "gradient descent (full batch)": sgd(x, y, loss.start, lr_demo, steps_demo, None, rng),
}
colors = {"gradient descent (full batch)": plotting.METHOD_COLORS["gd"], "SGD, B = 32": "#9467bd",
          "SGD, B = 1": "#ff7f0e"}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.2]})
plotting.contour(ax1, loss)
for label, p in paths.items():  # the noisiest first, so that the others stay visible on top
    line = plotting.path(ax1, p, label=label, color=colors[label], markersize=1.5)
    line.set_alpha(0.55 if label == "SGD, B = 1" else 1.0)
    plotting.loss_curve(ax2, loss.f(p), loss.f_min, label=label, color=colors[label])
ax1.set_xlabel(r"$\theta_0$")
ax1.set_ylabel(r"$\theta_1$")
ax1.legend(loc="lower left", fontsize=8)
ax1.set_title(r"least squares, $\eta = 0.2$")
ax2.set_ylim(1e-12, 30)
ax2.set_title("loss gap (log scale): SGD stops improving")
ax2.legend(loc="lower left")
fig.tight_layout()
plt.show()
for label, p in paths.items():
    gap = loss.f(p[-200:]) - loss.f_min
    print(f"{label:30s}: loss gap over the last 200 steps between {gap.min():.1e} and {gap.max():.1e}")
assert (loss.f(paths["gradient descent (full batch)"][-1]) - loss.f_min) < 1e-10
assert (loss.f(paths["SGD, B = 1"][-200:]) - loss.f_min).min() > 1e-5

# %% [markdown]
# Gradient descent converges linearly (a straight line on the log scale) to machine
# precision. SGD makes the same progress at first, while the gradient is large compared
# with its noise, and then stalls at a *floor*, jittering around the minimum; the bigger
# batch has the lower floor.
#
# ## 4. Why a constant step does not settle
#
# **A model that can be solved.** Take one eigen-direction of a quadratic, curvature
# $\lambda$, with a gradient that carries independent noise $\xi_k$ of mean 0 and variance
# $s^2$:
#
# $$x_{k+1} = x_k - \eta(\lambda x_k + \xi_k) = \rho\,x_k - \eta\,\xi_k,
# \qquad \rho = 1 - \eta\lambda .$$
#
# The mean obeys $\mathbb{E}x_{k+1} = \rho\,\mathbb{E}x_k$, so it decays exactly as in
# gradient descent. For the variance $v_k = \operatorname{Var} x_k$, the noise $\xi_k$ is
# independent of $x_k$, so the two variances add:
#
# $$v_{k+1} = \rho^2 v_k + \eta^2 s^2 .$$
#
# For $|\rho| < 1$ this converges to the fixed point $v_\infty = \eta^2 s^2/(1-\rho^2)$,
# and with $1 - \rho^2 = \eta\lambda(2 - \eta\lambda)$,
#
# $$\boxed{\;v_\infty = \frac{\eta\, s^2}{\lambda\,(2 - \eta\lambda)}\;}
# \qquad\text{and, from a fixed start } x_0,\qquad
# \mathbb{E}x_k^2 = \rho^{2k}x_0^2 + v_\infty\,(1-\rho^{2k}) .$$
#
# The iterate keeps a spread of order $\sqrt{\eta}$ forever: every step adds fresh noise
# $\eta\xi_k$ and the contraction $\rho$ removes only a fraction of what is there. Check
# both formulas with 10,000 independent runs (seeds) for several $(\eta, \lambda, s)$:

# %%
rng = np.random.default_rng(4)
n_seeds = 10_000
print("  lr  lambda   s   steps   measured Var   formula    rel. error   max rel. error of E x_k^2")
for lr, lam, s in [(0.1, 1.0, 1.0), (0.5, 2.0, 0.5), (0.9, 2.0, 1.0), (0.02, 0.5, 2.0)]:
    rho = 1 - lr * lam
    steps = int(12 / (lr * lam)) + 50
    v_inf = lr * s**2 / (lam * (2 - lr * lam))
    xs = np.full(n_seeds, 1.0)
    second_moment = [1.0]
    for _ in range(steps):
        xs = rho * xs - lr * s * rng.standard_normal(n_seeds)
        second_moment.append(np.mean(xs**2))
    k = np.arange(steps + 1)
    transient = rho ** (2 * k) + v_inf * (1 - rho ** (2 * k))
    worst = np.max(np.abs(np.array(second_moment) / transient - 1))
    print(f"{lr:4.2f} {lam:6.1f} {s:5.1f} {steps:6d}   {xs.var():12.5f} {v_inf:10.5f} "
          f"{xs.var() / v_inf - 1:+10.3f}   {worst:10.3f}")
    assert abs(xs.var() / v_inf - 1) < 0.05 and worst < 0.06

# %%
fig, ax = plt.subplots(figsize=(8, 3.6))
lam, s = 1.0, 1.0
for lr, color in zip([0.4, 0.1, 0.025], ["#d62728", "#ff7f0e", "#1f77b4"], strict=True):
    k = np.arange(600)
    rho = 1 - lr * lam
    v_inf = lr * s**2 / (lam * (2 - lr * lam))
    ax.semilogy(k, rho ** (2 * k) + v_inf * (1 - rho ** (2 * k)), color=color,
                label=rf"$\eta = {lr}$: $\mathbb{{E}}x_k^2$")
    ax.axhline(v_inf, color=color, linestyle=":", linewidth=1)
    ax.text(600, v_inf, f" floor {v_inf:.3f}", color=color, va="center", fontsize=8)
ax.set_xlabel("step $k$")
ax.set_ylabel(r"$\mathbb{E}\,x_k^2$ (log scale)")
ax.set_title(r"noisy 1-D quadratic, $\lambda = 1$, $s = 1$, $x_0 = 1$: a smaller step "
             "gives a lower floor, later")
ax.legend(loc="lower left")
ax.set_xlim(0, 680)
plt.show()

# %% [markdown]
# This is the basic trade-off of a constant step: the floor is proportional to $\eta$
# (for $\eta\lambda \ll 1$, $v_\infty \approx \eta s^2/(2\lambda)$), but the time to reach
# it, about $1/(\eta\lambda)$ steps, is proportional to $1/\eta$.
#
# **Back to least squares.** In the eigenbasis $q_i$ of the Hessian $A$, the error
# $\theta - \theta^\star$ has one such coordinate per eigenvalue $\lambda_i$, with noise
# variance $s_i^2 = q_i^\top S q_i/B$, where $S$ is the per-sample covariance at the
# minimum (the $\Sigma$ of section 2 at $\theta^\star$). The loss gap is
# $\tfrac12\sum_i\lambda_i z_i^2$, so if the noise were the same at every $\theta$,
#
# $$\mathbb{E}\,J - J^\star \to \sum_i \frac{\lambda_i}{2}\cdot\frac{\eta s_i^2}{\lambda_i(2-\eta\lambda_i)}
# = \sum_i \frac{\eta\, s_i^2}{2(2-\eta\lambda_i)} \;\approx\; \frac{\eta}{4B}\operatorname{tr}S
# \quad (\eta\lambda_i \ll 1):$$
#
# **the floor of the loss is proportional to $\eta/B$**, and does not depend on the
# curvature at all for small steps.
#
# The noise is not quite the same at every $\theta$, though. The per-sample gradient is
# $g_i = a_ia_i^\top(\theta-\theta^\star) + r_ia_i$: a minibatch samples the *curvature*
# $a_ia_i^\top$ as well as the residuals, and that extra noise grows with the error. It
# adds a term proportional to the covariance $C$ of the error itself, and the exact
# stationary covariance solves the linear equation
#
# $$C = (I-\eta A)\,C\,(I-\eta A) + \frac{\eta^2}{B}\Big(\frac1m\sum_i a_ia_i^\top C\,a_ia_i^\top - ACA\Big)
# + \frac{\eta^2}{B}\,S ,$$
#
# four unknowns, solved below with Kronecker products
# ($\operatorname{vec}(PCQ) = (P\otimes Q^\top)\operatorname{vec}C$ for row-major vec).
# Compare both predictions with 600 runs of SGD started at $\theta^\star$:

# %%
a_rows = np.column_stack([np.ones(m), x])
residual_star = a_rows @ theta_star - y
S = np.cov(residual_star[:, None] * a_rows, rowvar=False, bias=True)  # per-sample covariance at theta*
lam_A, Q_A = np.linalg.eigh(A)
S_eig = np.diag(Q_A.T @ S @ Q_A)  # q_i^T S q_i
curvature_4x4 = np.mean([np.kron(np.outer(a, a), np.outer(a, a)) for a in a_rows], axis=0)


def floor_additive(lr, B):
    """sum_i lr s_i^2 / (2 (2 - lr lam_i)): the loss floor if the noise did not depend on theta."""
    return float(np.sum(lr * S_eig / B / (2 * (2 - lr * lam_A))))


def floor_exact(lr, B):
    """0.5 tr(A C) with C the exact stationary covariance of the error (curvature noise included)."""
    M = np.eye(2) - lr * A
    op = np.kron(M, M) + lr**2 / B * (curvature_4x4 - np.kron(A, A))
    C = np.linalg.solve(np.eye(4) - op, (lr**2 / B * S).reshape(-1)).reshape(2, 2)
    return 0.5 * float(np.trace(A @ C))


rng = np.random.default_rng(5)
print(f"tr S = {np.trace(S):.4f}")
print("   lr    B   measured    additive (ratio)    exact (ratio)   lr tr S/(4B)")
floors = {}
for lr, B in [(0.05, 1), (0.05, 4), (0.2, 1), (0.5, 1), (0.5, 4)]:
    burn = int(8 / (lr * lam_A[0]))
    gaps, _, _ = sgd_runs(x, y, theta_star, lr, burn + 1500, B, 600, rng)
    meas = floors[lr, B] = gaps[burn:].mean()
    add, ex = floor_additive(lr, B), floor_exact(lr, B)
    print(f"{lr:5.2f} {B:4d}  {meas:9.2e}   {add:9.2e} ({meas / add:5.3f})   {ex:9.2e} ({meas / ex:5.3f})"
          f"   {lr * np.trace(S) / (4 * B):9.2e}")
    assert abs(meas / ex - 1) < 0.03
    if lr <= 0.05:
        assert abs(meas / add - 1) < 0.05
assert floor_exact(0.5, 1) > 1.5 * floor_additive(0.5, 1)
print(f"floor(lr = 0.05, B = 1) / floor(lr = 0.05, B = 4) = {floors[0.05, 1] / floors[0.05, 4]:.2f}")
assert abs(floors[0.05, 1] / floors[0.05, 4] / 4 - 1) < 0.1

# %% [markdown]
# For small steps the simple formula is right to a few per cent, and the floor is
# proportional to $\eta/B$ (compare $\eta = 0.05$ with $B = 1$ and $B = 4$). For large
# steps with small batches the curvature noise doubles the floor; the exact equation
# accounts for it.
#
# ## 5. Decaying steps reach the minimum
#
# To get below every floor the step must shrink, but not so fast that the iterate stops
# before it arrives. Robbins and Monro (1951) asked for $\sum_k \eta_k = \infty$ (enough
# total movement) and $\sum_k\eta_k^2 < \infty$ (finite total noise); the standard choice
# is $\eta_k = a/(b+k)$. In the 1-D model the second moment still obeys an exact
# recursion, now with a varying step:
#
# $$\mathbb{E}x_{k+1}^2 = (1-\eta_k\lambda)^2\,\mathbb{E}x_k^2 + \eta_k^2 s^2 .$$
#
# Trying $\mathbb{E}x_k^2 \approx c/k$ with $\eta_k \approx a/k$ and keeping the terms of
# order $1/k^2$: $-c = -2a\lambda c + a^2 s^2$, so
#
# $$\mathbb{E}x_k^2 \approx \frac{a^2 s^2}{(2a\lambda - 1)\,k}\quad\text{if } a\lambda > \tfrac12,
# \qquad\text{smallest at } a = 1/\lambda \text{ where it is } \frac{s^2}{\lambda^2 k}.$$
#
# If $a\lambda < \tfrac12$ the contraction $\prod(1-\eta_j\lambda) \sim k^{-a\lambda}$ is
# too weak, and $\mathbb{E}x_k^2$ falls only like $k^{-2a\lambda}$: a step that decays
# too fast (or starts too small) is the classic way to make SGD crawl. Check: simulations
# against the recursion, then the recursion against the asymptotic law.


# %%
def second_moment_decaying(a, b, lam, s, steps, x0=1.0):
    """E x_k^2 for k = 0..steps under the step a/(b+k) (exact recursion of the 1-D model)."""
    v = np.empty(steps + 1)
    v[0] = x0**2
    for k in range(steps):
        lr = a / (b + k)
        v[k + 1] = (1 - lr * lam) ** 2 * v[k] + lr**2 * s**2
    return v


rng = np.random.default_rng(6)
lam, s = 1.0, 1.0
xs = np.ones(n_seeds)
for k in range(2000):
    xs = xs - 1.0 / (2.0 + k) * (lam * xs + s * rng.standard_normal(n_seeds))
exact_2000 = second_moment_decaying(1.0, 2.0, lam, s, 2000)[-1]
print(f"a = 1, b = 2, k = 2000: simulated E x^2 = {np.mean(xs**2):.3e}, recursion {exact_2000:.3e}")
assert abs(np.mean(xs**2) / exact_2000 - 1) < 0.05

K = 100_000
print("   a   a*lambda   slope over k in [1e4, 1e5]   k * E x_k^2 at 1e5   a^2 s^2/(2 a lambda - 1)")
for a in [0.25, 0.5, 1.0, 2.0]:
    v = second_moment_decaying(a, 2.0 * a * lam, lam, s, K)
    slope = np.log10(v[K] / v[K // 10])
    limit = a**2 * s**2 / (2 * a * lam - 1) if 2 * a * lam > 1 else float("nan")
    print(f"{a:5.2f} {a * lam:8.2f}   {slope:14.3f}   {K * v[K]:22.3f}   {limit:14.3f}")
    if a * lam > 0.5:
        assert abs(slope + 1) < 0.01 and abs(K * v[K] / limit - 1) < 0.01
    elif a * lam < 0.5:
        assert abs(slope + 2 * a * lam) < 0.01
    else:  # the borderline a * lambda = 1/2: log(k)/k, a slope just above -1
        assert -1 < slope < -0.85
a_grid = np.linspace(0.55, 3.0, 246)
print(f"best a on a grid (lambda = 1): {a_grid[np.argmin(a_grid**2 / (2 * a_grid - 1))]:.2f}")
assert np.isclose(a_grid[np.argmin(a_grid**2 / (2 * a_grid - 1))], 1 / lam)

# %% [markdown]
# ($a\lambda = \tfrac12$ exactly is the borderline: there the decay is $\log k / k$, slope
# just above $-1$.) On least squares the constraint binds in the **flattest** direction:
# $a\lambda_{\min} > \tfrac12$. At the same time the first step $a/b$ must be stable in
# the steepest direction, $a/b < 2/\lambda_{\max}$. We take $a = 1/\lambda_{\min}$ and
# $b = a\lambda_{\max}$ (first step $1/\lambda_{\max}$), and compare with a too-small
# $a = 0.25/\lambda_{\min}$ and with the constant step $\eta = 0.1$, 200 runs each,
# $B = 1$. The figure comes in section 6, together with averaging.

# %%
rng = np.random.default_rng(8)
K, runs = 10_000, 200
a_good = 1 / lam_A[0]
a_small = 0.25 / lam_A[0]
gap_const, gap_avg, _ = sgd_runs(x, y, loss.start, 0.1, K, 1, runs, rng, average_from=1000)
gap_decay, _, _ = sgd_runs(x, y, loss.start, lambda k: a_good / (a_good * lam_A[1] + k), K, 1, runs, rng)
gap_slow, _, _ = sgd_runs(x, y, loss.start, lambda k: a_small / (a_small * lam_A[1] + k), K, 1, runs, rng)


def around(gaps, k):
    """Average of the mean gap over steps 0.9k..1.1k (smooths the run-to-run noise)."""
    return gaps[int(0.9 * k): int(1.1 * k) + 1].mean()


print(f"lambda_min = {lam_A[0]:.4f}, lambda_max = {lam_A[1]:.4f}: a = {a_good:.2f}, b = {a_good * lam_A[1]:.2f}")
for name, g, expected in [("a = 1/lambda_min", gap_decay, -1.0),
                          ("a = 0.25/lambda_min", gap_slow, -0.5),
                          ("constant lr = 0.1", gap_const, 0.0)]:
    slope = np.log10(around(g, 10_000) / around(g, 1000))
    print(f"{name:20s}: gap at k = 1e3 {around(g, 1000):.2e}, at 1e4 {around(g, 10_000):.2e}, "
          f"slope {slope:+.2f} (theory {expected:+.1f})")
    assert abs(slope - expected) < 0.15

# %% [markdown]
# The slopes are the 1-D predictions: $-1$ for $a\lambda_{\min} > \tfrac12$, and
# $-2a\lambda_{\min} = -0.5$ for the too-small $a$, while the constant step is flat (its
# floor). The level of the $1/k$ law also follows from section 5, one term per
# eigen-direction: $\mathbb{E}J - J^\star \approx \sum_i \frac{\lambda_i}{2}\cdot
# \frac{a^2 s_i^2}{(2a\lambda_i-1)k}$ with $s_i^2 = q_i^\top S q_i$ ($B = 1$):

# %%
predicted_decay = 0.5 * np.sum(lam_A * a_good**2 * S_eig / (2 * a_good * lam_A - 1)) / K
print(f"step 1e4: measured {gap_decay[K]:.3e}, predicted {predicted_decay:.3e}")
assert abs(gap_decay[K] / predicted_decay - 1) < 0.15

# %% [markdown]
# ## 6. Averaging the iterates (Polyak-Ruppert)
#
# A constant step leaves the iterate wandering around the minimum, but *centred* on it.
# So average the iterates: $\bar x_N = \frac1N\sum_{k=1}^N x_k$. In the 1-D model, once
# stationary, $\operatorname{Cov}(x_k, x_{k+j}) = v_\infty\rho^{|j|}$, and
#
# $$\operatorname{Var}\bar x_N = \frac{v_\infty}{N^2}\Big(N + 2\sum_{j=1}^{N-1}(N-j)\rho^j\Big)
# \;\approx\; \frac{v_\infty}{N}\cdot\frac{1+\rho}{1-\rho}
# = \frac{\eta s^2}{\lambda(2-\eta\lambda)}\cdot\frac{2-\eta\lambda}{\eta\lambda N}
# = \frac{s^2}{\lambda^2 N}.$$
#
# **The step size cancels**: the averaged iterate reaches the $s^2/(\lambda^2N)$ of the
# best decaying step ($a = 1/\lambda$ in section 5) without knowing $\lambda$. (Ruppert,
# 1988, and Polyak and Juditsky, 1992, showed that the average attains the asymptotically
# optimal covariance in general.) Check, starting each run from the stationary
# distribution:

# %%
rng = np.random.default_rng(9)
lr, lam, s = 0.2, 1.0, 1.0
rho = 1 - lr * lam
v_inf = lr * s**2 / (lam * (2 - lr * lam))
print("    N   measured Var(mean)   exact finite-N   s^2/(lambda^2 N)")
for N in [10, 100, 1000]:
    xs = np.sqrt(v_inf) * rng.standard_normal(n_seeds)
    total = np.zeros(n_seeds)
    for _ in range(N):
        total += xs
        xs = rho * xs - lr * s * rng.standard_normal(n_seeds)
    j = np.arange(1, N)
    exact = v_inf / N**2 * (N + 2 * np.sum((N - j) * rho**j))
    print(f"{N:5d}   {np.var(total / N):16.3e}   {exact:14.3e}   {s**2 / (lam**2 * N):14.3e}")
    assert abs(np.var(total / N) / exact - 1) < 0.05
    if N >= 100:
        assert abs(exact * lam**2 * N / s**2 - 1) < 0.05

# %% [markdown]
# On least squares the same argument per direction gives
# $\mathbb{E}J(\bar\theta_N) - J^\star \approx \sum_i \frac{\lambda_i}{2}\cdot\frac{s_i^2}{\lambda_i^2 N}
# = \frac{\operatorname{tr}(A^{-1}S)}{2BN}$. The runs of section 5 averaged the constant-step
# iterates from step 1000 on ($N$ = steps since then):

# %%
N_avg = K - 1000 + 1
predicted_avg = np.trace(np.linalg.solve(A, S)) / (2 * N_avg)
print(f"averaged iterate at step 1e4: measured {gap_avg[K]:.3e}, predicted tr(A^-1 S)/(2N) = {predicted_avg:.3e}")
print(f"last iterate (constant lr): {around(gap_const, K):.3e}   decaying step: {gap_decay[K]:.3e}")
assert abs(gap_avg[K] / predicted_avg - 1) < 0.15
assert gap_avg[K] < gap_decay[K] < around(gap_const, K) / 10
print(f"decaying step / averaged iterate: {gap_decay[K] / gap_avg[K]:.1f}")
assert 3 < gap_decay[K] / gap_avg[K] < 5

# %%
fig, ax = plt.subplots(figsize=(8.5, 4.2))
k = np.unique(np.geomspace(1, K, 500).astype(int))  # log-spaced steps keep the plot light
ax.loglog(k, gap_const[k], color="#ff7f0e", label=r"constant $\eta = 0.1$, last iterate")
ax.loglog(k, gap_avg[k], color="#2ca02c", label=r"constant $\eta = 0.1$, averaged from step 1000")
ax.loglog(k, gap_decay[k], color="#1f77b4", label=r"$\eta_k = a/(b+k)$, $a = 1/\lambda_{\min}$")
ax.loglog(k, gap_slow[k], color="#7f7f7f", label=r"$\eta_k = a/(b+k)$, $a = 0.25/\lambda_{\min}$ (too small)")
k_avg = k[k >= 1000]
ax.loglog(k_avg, np.trace(np.linalg.solve(A, S)) / (2 * (k_avg - 999)), "k:", linewidth=1,
          label=r"$\mathrm{tr}(A^{-1}S)/(2N)$")
ax.axhline(floor_exact(0.1, 1), color="#ff7f0e", linestyle=":", linewidth=1)
ax.text(1.2, floor_exact(0.1, 1) * 1.3, "constant-step floor (section 4)", color="#ff7f0e", fontsize=8)
ax.set_xlabel("step $k$ (log scale)")
ax.set_ylabel(r"$\mathbb{E}\,J(\theta_k) - J^\star$ over 200 runs")
ax.set_title("SGD with B = 1 on least squares: three ways past the floor")
ax.set_ylim(1e-6, 30)
ax.legend(loc="lower left", fontsize=8)
plt.show()

# %% [markdown]
# Averaging wins here by a factor of about four over the decaying step. With one $a$ for
# all directions, the decaying step is tuned for the flattest direction and is too large
# for the steep one, which it leaves noisy; the average needs no tuning. In practice
# averaging is often combined with a decaying step, and deep-learning code uses the same
# idea as an exponential moving average of the weights.
#
# ## 7. Batch size: gradient evaluations against steps
#
# A minibatch of $B$ costs $B$ per-sample gradients; on parallel hardware those are
# computed at once, so what costs wall-clock time is the number of **steps**, while the
# number of **sample gradients** is the total work. Section 4 says the floor depends on
# $\eta/B$. So if the batch grows by a factor, let the step grow by the same factor
# (the *linear scaling rule*, Goyal et al., 2017): the floor stays where it is, and each
# step does the work of that many small ones. That can only go on while the step is
# stable, $\eta < 2/\lambda_{\max}$ (here we cap it at $0.3$, $0.3\lambda_{\max} = 0.66$).
#
# Experiment: $\eta = 0.0025\,B$ (capped at 0.3), 100 runs per batch size; count the steps
# and the sample gradients until the mean loss gap first falls below $10^{-3}$.

# %%
rng = np.random.default_rng(10)
target, lr_per_sample, lr_cap = 1e-3, 0.0025, 0.3
tradeoff = {}
for B in [1, 4, 16, 64, 256, 1024]:
    lr = min(lr_per_sample * B, lr_cap)
    budget = max(int(11_000 / min(B, lr_cap / lr_per_sample)), 100)  # enough steps to cross the target
    gaps, _, _ = sgd_runs(x, y, loss.start, lr, budget, B, 100, rng)
    steps_needed = int(np.argmax(gaps <= target))
    assert gaps[steps_needed] <= target
    tradeoff[B] = (lr, steps_needed, gaps)
print("     B     lr    steps   sample gradients   floor (exact)")
for B, (lr, steps_needed, _) in tradeoff.items():
    print(f"{B:6d}  {lr:6.4f} {steps_needed:7d} {steps_needed * B:12d}      {floor_exact(lr, B):10.2e}")
samples = {B: v[1] * B for B, v in tradeoff.items()}
small_batches = [samples[B] for B in (1, 4, 16, 64)]
assert max(small_batches) / min(small_batches) < 1.1  # linear scaling: same work, fewer steps
assert samples[256] > 1.5 * samples[64] and samples[1024] > 3 * samples[256]  # past the cap: more work
assert tradeoff[1024][1] > 0.8 * tradeoff[256][1]  # ... and hardly fewer steps

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.0))
palette = ["#ff7f0e", "#bcbd22", "#2ca02c", "#17becf", "#1f77b4", "#9467bd"]
for (B, (lr, _, gaps)), color in zip(tradeoff.items(), palette, strict=True):
    k = np.unique(np.geomspace(1, len(gaps) - 1, 300).astype(int))
    ax1.loglog(k * B, gaps[k], color=color, label=f"B = {B}, lr = {lr:g}")
ax1.axhline(target, color="k", linestyle=":", linewidth=1)
ax1.set_xlabel("sample gradients computed (log scale)")
ax1.set_ylabel(r"$\mathbb{E}\,J - J^\star$")
ax1.set_title("same work for small B; waste for large B")
ax1.legend(fontsize=8)
bs = np.array(list(tradeoff))
ax2.loglog(bs, [samples[B] for B in bs], "o-", color="k", label="sample gradients to reach 1e-3")
ax2.loglog(bs, [tradeoff[B][1] for B in bs], "s--", color="#d62728", label="steps to reach 1e-3")
ax2.axvline(lr_cap / lr_per_sample, color="0.6", linewidth=1)
ax2.text(lr_cap / lr_per_sample, 30, " lr reaches its cap", color="0.4", fontsize=8)
ax2.set_xlabel("batch size $B$")
ax2.set_title("the batch-size trade-off")
ax2.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Up to the cap, quadrupling the batch cuts the steps by four at the same total work:
# perfect scaling. Past the cap the step cannot grow, the number of steps stops falling,
# and every extra sample in the batch is spent on a precision the iterate does not need
# yet. (Where that knee lies depends on the ratio of noise to signal in the gradient, and
# changes during training.)
#
# **Try it.** The explorer below runs SGD on a small least-squares problem ($m = 40$
# points around $y = 1 + 2x$, the library's default data) from a fixed start, with
# full-batch gradient descent at the same learning rate in grey. Things to try:
#
# * drag the batch size from 1 to the last position (the full batch, where SGD *is*
#   gradient descent) and watch the cloud around $\theta^\star$ shrink and the distance
#   floor on the right drop, by about $\sqrt{B}$ (section 4: variance $\propto \eta/B$);
# * tick the running average: for $B = 1$ it ends much closer to $\theta^\star$ than the
#   last iterate (section 6), though early on it lags behind, dragged by the start;
# * lower the learning rate: a lower floor, reached later; raise it until SGD diverges,
#   which for $B = 1$ happens at a smaller step than for gradient descent;
# * press "new noise" for other minibatches, and add momentum (section 8).
#
# (Before you run the cell, and on GitHub, you see a picture of the starting setting.)

# %%
from lessons_lib.widgets import SGDExplorer

sgd_explorer = SGDExplorer(lr=0.3, batch_size=1, steps=1000)
sgd_explorer

# %% [markdown]
# What the readout says for a batch of 8 with the average ticked (here the last iterate
# beats the average, which still carries the first steps from the start: averaging pays
# off when the noise, not the start, dominates the error), and then for $B = 1$ at a step
# too large for single samples though not for gradient descent:

# %%
sgd_explorer.batch_slider.value = 8
sgd_explorer.average_box.value = True
print(*sgd_explorer.readout_lines(), sep="\n")
sgd_explorer.batch_slider.value = 1
sgd_explorer.lr_slider.value = 0.8
print(*sgd_explorer.readout_lines(), sep="\n")
sgd_explorer.lr_slider.value = 0.3
sgd_explorer.average_box.value = False

# %% [markdown]
# ## 8. SGD with momentum: the noise is amplified too
#
# Lesson 03 treats momentum properly. Here only its effect on the noise: heavy ball in
# the 1-D model,
#
# $$x_{k+1} = x_k - \eta(\lambda x_k + \xi_k) + \beta(x_k - x_{k-1}),$$
#
# (PyTorch's form gives the same iterates for a constant step). Write
# $c = 1 + \beta - \eta\lambda$, $\gamma_0 = \operatorname{Var}x_k$ and
# $\gamma_1 = \operatorname{Cov}(x_k, x_{k-1})$ in the stationary state. Multiplying the
# update by $x_k$ and taking expectations gives $\gamma_1 = c\gamma_0 - \beta\gamma_1$;
# squaring it gives $\gamma_0 = c^2\gamma_0 + \beta^2\gamma_0 - 2c\beta\gamma_1 + \eta^2s^2$.
# Eliminating $\gamma_1 = c\gamma_0/(1+\beta)$ and using
# $(1+\beta)^2 - c^2 = \eta\lambda\,(2(1+\beta) - \eta\lambda)$:
#
# $$v_\infty = \frac{\eta\, s^2\,(1+\beta)}{\lambda\,(1-\beta)\,\big(2(1+\beta) - \eta\lambda\big)}
# \;\approx\; \frac{\eta}{1-\beta}\cdot\frac{s^2}{2\lambda}\quad(\eta\lambda\ll 1).$$
#
# To first order this is the floor of plain SGD with the **effective step**
# $\eta/(1-\beta)$: momentum with $\beta = 0.9$ and an unchanged $\eta$ raises the noise
# floor about tenfold, and momentum at $(\eta, \beta)$ is about as noisy as SGD at
# $\eta/(1-\beta)$. Check with 10,000 seeds:

# %%
rng = np.random.default_rng(11)
lam, s = 1.0, 1.0


def momentum_floor(lr, beta):
    return lr * s**2 * (1 + beta) / (lam * (1 - beta) * (2 * (1 + beta) - lr * lam))


def sgd_floor(lr):
    return lr * s**2 / (lam * (2 - lr * lam))


betas = [0.0, 0.5, 0.8, 0.9, 0.95]
print("   lr   beta   measured   formula  ratio | floor/floor(beta=0)  1/(1-beta) | SGD at lr/(1-beta)")
measured_floor = {}
for lr in [0.01, 0.1]:
    for beta in betas:
        xs, prev = np.zeros(n_seeds), np.zeros(n_seeds)
        for _ in range(900 if lr == 0.01 else 400):
            xs, prev = xs - lr * (lam * xs + s * rng.standard_normal(n_seeds)) + beta * (xs - prev), xs
        measured_floor[lr, beta] = xs.var()
        pred = momentum_floor(lr, beta)
        eff = lr / (1 - beta)
        sgd_eff = f"{sgd_floor(eff):9.5f}" if eff * lam < 1.999 else " unstable"  # needs lr*lambda < 2
        print(f"{lr:5.2f} {beta:5.2f}  {xs.var():9.5f} {pred:9.5f} {xs.var() / pred:6.3f} | "
              f"{pred / momentum_floor(lr, 0.0):12.2f} {1 / (1 - beta):12.1f} | {sgd_eff}")
        assert abs(xs.var() / pred - 1) < 0.05
# first order: for a small lr the amplification is 1/(1-beta), and SGD at lr/(1-beta) matches
for beta in betas:
    assert abs(momentum_floor(1e-5, beta) / momentum_floor(1e-5, 0.0) * (1 - beta) - 1) < 1e-3
    assert abs(momentum_floor(1e-5, beta) / sgd_floor(1e-5 / (1 - beta)) - 1) < 1e-3

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.8))
beta_line = np.linspace(0, 0.96, 200)
for lr, color in [(0.01, "#1f77b4"), (0.1, "#d62728")]:
    ax.semilogy(beta_line, momentum_floor(lr, beta_line), color=color, label=rf"formula, $\eta = {lr}$")
    ax.semilogy(betas, [measured_floor[lr, b] for b in betas], "o", color=color,
                label=rf"measured, $\eta = {lr}$")
    ax.semilogy(beta_line, sgd_floor(lr) / (1 - beta_line), ":", color=color,
                label=rf"$v_\infty(\beta{{=}}0)/(1-\beta)$, $\eta = {lr}$")
ax.set_xlabel(r"momentum $\beta$")
ax.set_ylabel(r"stationary variance $v_\infty$ (log scale)")
ax.set_title(r"noisy 1-D quadratic, $\lambda = 1$, $s = 1$")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# For $\eta\lambda$ small the $1/(1-\beta)$ law holds almost exactly; for $\eta = 0.1$ and
# large $\beta$ the effective step $\eta/(1-\beta)$ approaches the stability limit and the
# exact formula departs from it (and from SGD at the effective step, which at
# $\beta = 0.95$ sits exactly on its stability limit $\eta\lambda = 2$). What momentum
# buys is speed on ill-conditioned problems (lesson 03), not less noise: **at equal
# effective step it has about the same floor**, which is why momentum and a decaying (or
# averaged) step are used together.
#
# ## Summary
#
# * A minibatch gradient is an unbiased estimate of the full gradient, with covariance
#   $\Sigma/B$ (with replacement) or $\frac{\Sigma}{B}\frac{m-B}{m-1}$ (without): checked
#   exactly by enumeration and by Monte Carlo.
# * With a constant step, SGD does not converge: on a quadratic the iterate keeps the
#   stationary variance $\eta s^2/(\lambda(2-\eta\lambda))$ per direction, and the loss
#   floor is about $\eta\operatorname{tr}S/(4B)$ (plus curvature noise at large steps).
# * A decaying step $a/(b+k)$ with $a\lambda_{\min} > \tfrac12$ reaches the minimum at the
#   rate $1/k$; with $a$ too small the rate is only $k^{-2a\lambda_{\min}}$.
# * Averaging the iterates of a constant step gives the optimal $\operatorname{tr}(A^{-1}S)/(2BN)$
#   without tuning, better here than the decaying step.
# * Larger batches lower the noise; with the step scaled like $B$ they save steps at equal
#   work until the step hits its stability limit, after which they waste work.
# * Momentum multiplies the noise floor by about $1/(1-\beta)$: at equal effective step
#   $\eta/(1-\beta)$ it is as noisy as plain SGD.
#
# ## Exercises
#
# Each exercise ends with a check that tells you whether your answer is right and, if
# not, what to look at. The solution is the marked part of the exercise's cell (a
# student copy has a stub there).
#
# ### Exercise 1 (recall)
#
# A per-sample gradient component has variance $4.0$. What is the variance of its average
# over a minibatch of $B = 16$ samples drawn *with* replacement?

# %%
### BEGIN SOLUTION
answer_1 = 4.0 / 16
### END SOLUTION
checks.sgd.minibatch_variance(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# SGD with the constant step $\eta = 0.1$ runs on $f(x) = \tfrac{\lambda}{2}x^2$ with
# $\lambda = 2$, and each gradient carries independent noise of variance $s^2 = 1$. What
# is the stationary variance of the iterate?

# %%
### BEGIN SOLUTION
answer_2 = 0.1 * 1.0 / (2.0 * (2 - 0.1 * 2.0))
### END SOLUTION
checks.sgd.stationary_variance(answer_2)

# %% [markdown]
# ### Exercise 3 (apply)
#
# On the same kind of problem with curvature $\lambda = 0.25$, you use the step
# $\eta_k = a/(b+k)$. Which $a$ gives the smallest mean-square error for large $k$?

# %%
### BEGIN SOLUTION
answer_3 = 1 / 0.25
### END SOLUTION
checks.sgd.best_decay_constant(answer_3)

# %% [markdown]
# ### Exercise 4 (implement)
#
# Write `minibatch_sgd(x, y, theta0, lr, batches)`: SGD with the constant step `lr` on the
# least-squares loss $\frac{1}{2m}\sum_i(\theta_0+\theta_1x_i-y_i)^2$, one step per entry
# of `batches` (each an array of sample indices), starting from `theta0`. Return the final
# $\theta$ as an array of shape `(2,)`. Use the *mean* over the batch.

# %%
def minibatch_sgd(x, y, theta0, lr, batches):
    ### BEGIN SOLUTION
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        residual = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([residual.mean(), (residual * x[idx]).mean()])
    return theta
    ### END SOLUTION


checks.sgd.minibatch_sgd(minibatch_sgd)

# %% [markdown]
# ### Exercise 5 (explore)
#
# Measure, do not compute: run the noisy 1-D model $x_{k+1} = x_k - \eta(\lambda x_k + \xi_k)$
# with $\eta = 0.3$, $\lambda = 4$, noise standard deviation $0.5$, for many independent
# seeds at once, long enough to forget the start, and report the variance of the iterate
# across the seeds. The check compares it with the formula of section 4 (5 % tolerance).
# How many seeds do you need for that accuracy?

# %%
### BEGIN SOLUTION
explore_rng = np.random.default_rng(12)
xs = np.zeros(20_000)
for _ in range(100):
    xs = xs - 0.3 * (4.0 * xs + 0.5 * explore_rng.standard_normal(xs.size))
answer_5 = xs.var()
### END SOLUTION
checks.sgd.measured_stationary_variance(answer_5)
