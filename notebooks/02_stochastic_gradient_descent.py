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
# # Lesson 02: Stochastic gradient descent
#
# **Stochastic gradient descent** (SGD) replaces the gradient of a loss averaged over many samples
# by the average over a small random *minibatch*: cheap, noisy steps. This lesson measures the
# noise, what it does to the iterates, and three cures: decaying steps, averaging, larger batches.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. show that a minibatch gradient is an unbiased estimate of the full gradient, with a variance
#    that falls like $1/B$ (times $(m-B)/(m-1)$ when drawn without replacement);
# 2. write SGD for least squares and run it;
# 3. derive the stationary spread $\eta \sigma_\xi^2/(\lambda(2-\eta\lambda))$ of constant-step SGD
#    on a quadratic;
# 4. choose a decaying step $\eta_k = \alpha/(t_0+k)$ that reaches the minimum;
# 5. average the iterates (Polyak-Ruppert), and say what is proved about it;
# 6. weigh the batch size: gradient evaluations against steps.
#
# ## Prerequisites
#
# Lesson 01 (gradient descent on quadratics, eigenvalues, the rate $|1-\eta\lambda|$) and the rules
# for the mean and variance of a sum of random variables. About 60 minutes. Verification you need
# not read is in **Checks**, after the Summary ("Checks 2a").

# %%
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np

import lessons_lib
from lessons_lib import checks, optimizers, plotting, sgd_least_squares, surfaces
from lessons_lib.progress import progress

lessons_lib.setup()

# %% [markdown]
# ## 1. A loss made of many samples
#
# Fit $h_\theta(x) = \theta_0 + \theta_1 x$ to $m = 2000$ points around $y = 1 + 2x$ by least
# squares. With $a_i = (1, x_i)$,
#
# $$J(\theta) = \frac{1}{m}\sum_{i=1}^m \ell_i(\theta), \qquad
# \ell_i(\theta) = \tfrac12 (a_i^\top\theta - y_i)^2, \qquad
# g_i(\theta) = \nabla\ell_i(\theta) = (a_i^\top\theta - y_i)\,a_i ,$$
#
# and $\nabla J = \frac1m \sum_i g_i$. (Lesson 08 works through this model.)

# %%
m = 2000
x, y = surfaces.regression_data(m=m, seed=1, intercept=1.0, slope=2.0, noise=0.5)
loss = surfaces.linear_regression(x, y)  # the same loss over (theta0, theta1), from the library
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
# A minibatch gradient averages $B$ per-sample gradients, $\hat g_B = \frac1B \sum_{j=1}^B g_{i_j}$,
# at random indices drawn **with replacement** ($B$ independent uniform draws) or **without**
# ($B$ distinct indices, as a shuffled pass through the data gives). Either way every index is
# equally likely, so $\mathbb{E}\,\hat g_B = \nabla J$: **the minibatch gradient is unbiased**. Its
# noise is measured by the per-sample covariance
# $\Sigma = \frac1m\sum_i (g_i - \nabla J)(g_i - \nabla J)^\top$, or in one number by
# $\operatorname{tr}\Sigma = \mathbb{E}\|g_i - \nabla J\|^2$. With replacement the $B$ terms are
# independent, so $\operatorname{Cov}\hat g_B = \Sigma / B$. Without, two distinct draws have
# covariance $-\Sigma/(m-1)$ (the $m$ deviations sum to zero), the sum of $B$ draws has variance
# $B\Sigma - B(B-1)\Sigma/(m-1)$, and
#
# $$\operatorname{Cov}\hat g_B = \frac{\Sigma}{B}\cdot\frac{m-B}{m-1}
# \qquad\text{(the finite-population correction; zero for } B = m).$$
#
# Listing every minibatch of 3 of 8 samples checks both exactly (Checks 2a). On all 2000 samples,
# 4000 minibatches of each size both ways (without replacement: shuffled passes cut into batches):


# %%
def shuffled_batches(rng, m, B, n):
    """n minibatches of size B (without replacement) from successive shuffled passes; shape (n, B)."""
    per_pass = m // B
    passes = -(-n // per_pass)  # ceiling division
    return np.concatenate([rng.permutation(m)[: per_pass * B].reshape(per_pass, B)
                           for _ in range(passes)])[:n]


def predicted_variance(kind, B):
    """tr Cov of the minibatch gradient: tr Sigma / B, times (m - B)/(m - 1) without replacement."""
    return tr_Sigma / B * (1.0 if kind == "with" else (m - B) / (m - 1))


rng = np.random.default_rng(2)
full = G.mean(axis=0)
tr_Sigma = np.trace(np.cov(G.T, bias=True))
G0, G1 = G[:, 0].copy(), G[:, 1].copy()  # the two components, gathered separately (faster)
batch_sizes = [1, 4, 16, 64, 256, 1024, 2000]
n_draws = 4000
mc = {}  # (kind, B): mean of the draws, its standard error, mean of |g_B - grad J|^2, its standard error
for B in progress(batch_sizes, desc="4000 minibatches of each size, both ways"):
    for kind in ["with", "without"]:
        idx = rng.integers(0, m, size=(n_draws, B)) if kind == "with" else shuffled_batches(rng, m, B, n_draws)
        means = np.column_stack([G0[idx].mean(axis=1), G1[idx].mean(axis=1)])  # n_draws minibatch gradients
        sq = np.sum((means - full) ** 2, axis=1)  # |g_B - grad J|^2 per draw; its mean is tr Cov
        mc[kind, B] = (means.mean(axis=0), means.std(axis=0) / np.sqrt(n_draws),
                       sq.mean(), sq.std() / np.sqrt(n_draws))
print("    B   measured tr Cov / formula:   with replacement   without")
for B in batch_sizes:
    vw, vo = mc["with", B][2], mc["without", B][2]
    without = f"{vo / predicted_variance('without', B):9.3f}" if B < m else "  0 (< 1e-20; formula 0)"
    print(f"{B:5d}   {vw / predicted_variance('with', B):40.3f} {without}")

# %%
# Okabe-Ito colours for the batch sizes and settings of this lesson (gradient descent keeps
# its course colour, plotting.METHOD_COLORS["gd"]); each series also has its own marker or dash.
OKABE = {"orange": "#E69F00", "sky": "#56B4E9", "purple": "#CC79A7", "black": "#000000",
         "vermillion": "#D55E00", "green": "#009E73", "blue": "#0072B2"}
measured = {kind: [mc[kind, B][2] for B in batch_sizes] for kind in ("with", "without")}
stderrs = {kind: [mc[kind, B][3] for B in batch_sizes] for kind in ("with", "without")}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.0), gridspec_kw={"width_ratios": [1, 1.15]})
for B, color, marker in zip([1, 16, 256], [OKABE["orange"], OKABE["sky"], OKABE["purple"]], ".+x", strict=True):
    means = G[rng.integers(0, m, size=(300, B))].mean(axis=1)
    ax1.plot(means[:, 0], means[:, 1], marker, color=color, markersize=3, alpha=0.6,
             label=f"300 minibatch gradients, B = {B}")
ax1.plot(*full, "*", color="#F0E442", markeredgecolor="k", markersize=14, label=r"full gradient $\nabla J$")
ax1.set_xlabel(r"$\hat g_B$, $\theta_0$ component")
ax1.set_ylabel(r"$\hat g_B$, $\theta_1$ component")
ax1.set_title(r"minibatch gradients at $\theta = (0, 0)$")
ax1.legend(loc="lower right", fontsize=9.5)
b_line = np.array(batch_sizes, dtype=float)
ax2.loglog(b_line, tr_Sigma / b_line, "-", color=OKABE["black"], label=r"with replacement: $\mathrm{tr}\,\Sigma/B$")
ax2.errorbar(b_line, measured["with"], yerr=2 * np.array(stderrs["with"]), fmt="o", color=OKABE["black"],
             markersize=4, capsize=2, label="measured with replacement, ± 2 s.e.")
ax2.loglog(b_line[:-1], (tr_Sigma / b_line * (m - b_line) / (m - 1))[:-1], "--", color=OKABE["vermillion"],
           label="without: $\\times\\,(m-B)/(m-1)$\n(0 at $B = m$: not drawable on a log axis)")
ax2.errorbar(b_line[:-1], measured["without"][:-1], yerr=2 * np.array(stderrs["without"][:-1]), fmt="s",
             color=OKABE["vermillion"], markerfacecolor="none", markersize=5, capsize=2,
             label="measured without, ± 2 s.e.")
ax2.set_xlabel("batch size $B$")
ax2.set_ylabel(r"$\mathbb{E}\,\|\hat g_B - \nabla J\|^2$")
ax2.set_title("variance of the minibatch gradient")
ax2.legend(fontsize=9.5)
fig.subplots_adjust(left=0.08, right=0.99, bottom=0.13, top=0.92, wspace=0.26)  # fixed margins: faster than tight_layout
plt.show()

# %% [markdown]
# The variances follow both formulas within three standard errors, the means lie within four of
# the full gradient (Checks 2b). The noise differs between directions (left), and depends on
# $\theta$: at the minimum $\nabla J = 0$, but $g_i(\theta^\star) = r_i a_i$, with residuals
# $r_i = a_i^\top\theta^\star - y_i$. From here on we draw **with replacement**: independent
# minibatches with covariance exactly $\Sigma(\theta)/B$.
#
# ## 3. SGD, written out
#
# $$\theta^{(k+1)} = \theta^{(k)} - \eta_k\,\hat g_{B,k}(\theta^{(k)}),
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
# `sgd_runs` (`lessons_lib.sgd_least_squares`) is the same loop for many runs at once, recording
# each run's loss gap $J(\theta^{(k)}) - J^\star$ (and the running average's, section 6); one run
# draws the same minibatches as `sgd` (Checks 3a). `mean_and_halfwidth` gives a mean over
# runs with its 95 % interval; `compare` scores it against an exact expectation.


# %%
sgd_runs = sgd_least_squares.sgd_runs


def mean_and_halfwidth(values):
    """Mean over the runs (axis 0) and the half-width of its 95 % interval, 1.96 sd / sqrt(n)."""
    values = np.asarray(values, dtype=float)
    return values.mean(axis=0), 1.96 * values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])


comparisons = []  # (what, score) for every mean of runs compared with its exact expectation


def compare(mean, half, exact, what):
    """score = (mean - exact) / standard error; recorded, and |score| < 3.3 asserted (1 in 1000 for a
    normal score)."""
    score = (mean - exact) / (half / 1.96)
    comparisons.append((what, score))
    assert abs(score) < 3.3, (what, score)
    return score


# %% [markdown]
# Gradient descent and SGD, same step $\eta = 0.2$, same start:

# %%
rng = np.random.default_rng(3)
lr_demo, steps_demo = 0.2, 400
paths = {
    "SGD, B = 1": sgd(x, y, loss.start, lr_demo, steps_demo, 1, rng),
    "SGD, B = 32": sgd(x, y, loss.start, lr_demo, steps_demo, 32, rng),
    "gradient descent (full batch)": sgd(x, y, loss.start, lr_demo, steps_demo, None, rng),
}
colors = {"gradient descent (full batch)": plotting.METHOD_COLORS["gd"], "SGD, B = 32": OKABE["purple"],
          "SGD, B = 1": OKABE["orange"]}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 1.2]})
plotting.contour(ax1, loss)
dashes = {"gradient descent (full batch)": "-", "SGD, B = 32": "--", "SGD, B = 1": ":"}
for label, p in paths.items():  # the noisiest first, so that the others stay visible on top
    line = plotting.path(ax1, p, label=label, color=colors[label], markersize=1.5)
    line.set_alpha(0.55 if label == "SGD, B = 1" else 1.0)
    plotting.loss_curve(ax2, loss.f(p), loss.f_min, label=label, color=colors[label]).set_linestyle(dashes[label])
ax1.set_xlabel(r"$\theta_0$")
ax1.set_ylabel(r"$\theta_1$")
ax1.legend(loc="lower left", fontsize=9.5)
ax1.set_title(r"least squares, $\eta = 0.2$")
ax2.set_ylabel(r"$J(\theta^{(k)}) - J^\star$")
ax2.set_ylim(1e-12, 30)
ax2.set_title("loss gap (log scale), one run each: SGD stops improving")
ax2.legend(loc="lower left", fontsize=9.5)
fig.subplots_adjust(left=0.07, right=0.99, bottom=0.12, top=0.92, wspace=0.22)  # fixed margins: faster than tight_layout
plt.show()
for label, p in paths.items():
    gap = loss.f(p[-200:]) - loss.f_min
    print(f"{label:30s}: loss gap over the last 200 steps between {gap.min():.1e} and {gap.max():.1e}")
assert (loss.f(paths["gradient descent (full batch)"][-1]) - loss.f_min) < 1e-10
assert (loss.f(paths["SGD, B = 1"][-200:]) - loss.f_min).min() > 1e-5

# %% [markdown]
# Gradient descent converges linearly (below $10^{-10}$ after 400 steps). SGD keeps up while the
# gradient is large compared with its noise (over 20 steps, within 2 % for $B = 32$ and 1.1 to 1.5
# times gradient descent's gap for $B = 1$), then stalls at a *floor*, lower for the bigger batch:
# in each of eight sets of ten runs, every $B = 32$ run's mean gap over its last 200 steps is below
# every $B = 1$ run's, by a factor 20 to 27 (Checks 3b); the exact floors differ by 36 (section 4).
#
# ## 4. Why a constant step does not settle
#
# **A model that can be solved.** One eigen-direction of a quadratic, curvature $\lambda$, with
# independent gradient noise $\xi_k$ of mean 0 and variance $\sigma_\xi^2$ ($x_k$ is now the error
# along it, not an input $x_i$):
#
# $$x_{k+1} = x_k - \eta(\lambda x_k + \xi_k) = \phi\,x_k - \eta\,\xi_k,
# \qquad \phi = 1 - \eta\lambda .$$
#
# The mean decays exactly as in gradient descent. The noise is independent of $x_k$, so the
# variances add, $\mathcal V_{k+1} = \phi^2 \mathcal V_k + \eta^2 \sigma_\xi^2$, and for
# $|\phi| < 1$, with $1 - \phi^2 = \eta\lambda(2 - \eta\lambda)$, the fixed point is
#
# $$\boxed{\;\mathcal V_\infty = \frac{\eta\, \sigma_\xi^2}{\lambda\,(2 - \eta\lambda)}\;}
# \qquad\text{and, from } x_0,\qquad
# \mathbb{E}x_k^2 = \phi^{2k}x_0^2 + \mathcal V_\infty\,(1-\phi^{2k})$$
#
# (Checks 4a). The iterate keeps a spread of order $\sqrt{\eta}$ forever: each step adds fresh
# noise, and the contraction removes only a fraction of what is there.

# %%
fig, ax = plt.subplots(figsize=(8, 3.6))
lam, s = 1.0, 1.0
for lr, color, ls in zip([0.4, 0.1, 0.025], [OKABE["vermillion"], OKABE["orange"], OKABE["blue"]],
                         ["-", "--", "-."], strict=True):
    k = np.arange(600)
    phi = 1 - lr * lam
    v_inf = lr * s**2 / (lam * (2 - lr * lam))
    ax.semilogy(k, phi ** (2 * k) + v_inf * (1 - phi ** (2 * k)), color=color, linestyle=ls,
                label=rf"$\eta = {lr}$: $\mathbb{{E}}x_k^2$")
    ax.hlines(v_inf, 0, 600, color=color, linestyle=":", linewidth=1)  # the floor, up to the label
    ax.text(602, v_inf, f"floor {v_inf:.3f}", color=color, va="center", fontsize=8)
ax.set_xlabel("step $k$")
ax.set_ylabel(r"$\mathbb{E}\,x_k^2$ (log scale)")
ax.set_title(r"noisy 1-D quadratic, $\lambda = 1$, $\sigma_\xi = 1$, $x_0 = 1$: a smaller step "
             "gives a lower floor, later")
ax.legend(loc="lower left")
ax.set_xlim(0, 680)
plt.show()

# %% [markdown]
# The trade-off: the floor is proportional to $\eta$ ($\approx \eta \sigma_\xi^2/(2\lambda)$ for
# $\eta\lambda \ll 1$), but the excess above it shrinks only by $\phi^2$ per step: by a factor $e$
# every $\approx 1/(2\eta\lambda)$ steps (from the formula; not measured separately).
#
# **Back to least squares.** In the eigenbasis $u_i$ of the Hessian $A$, each coordinate
# $\tilde x_i = u_i^\top(\theta - \theta^\star)$ of the error is such a model, with
# $\sigma_{\xi,i}^2 = u_i^\top S u_i/B$, $S$ the $\Sigma$ of section 2 at $\theta^\star$. The loss gap
# is $\tfrac12\sum_i\lambda_i \tilde x_i^2$, so if the noise did not depend on $\theta$,
#
# $$\mathbb{E}\,J - J^\star \to \sum_i \frac{\eta\, \sigma_{\xi,i}^2}{2(2-\eta\lambda_i)}
# \;\approx\; \frac{\eta}{4B}\operatorname{tr}S \quad (\eta\lambda_i \ll 1):$$
#
# **the loss floor is proportional to $\eta/B$**. And $S = \frac1m\sum_i r_i^2\,a_ia_i^\top \approx \sigma_r^2 A$
# when the residuals (variance $\sigma_r^2$) are independent of the inputs, so the floor
# $\approx \eta\sigma_r^2\operatorname{tr}A/(4B)$ **grows with the curvature** (inputs rescaled
# $x_i \to cx_i$, $c = 0.5$ and 2: $\operatorname{tr}A$ times 0.57 and 2.72, measured floor times 0.57
# and 2.81; Checks 4b). The noise also grows with the error, since
# $g_i = a_ia_i^\top(\theta-\theta^\star) + r_ia_i$ samples the *curvature* $a_ia_i^\top$ too; the
# exact stationary covariance $C$ of the error solves
#
# $$C = (I-\eta A)\,C\,(I-\eta A) + \frac{\eta^2}{B}\Big(\frac1m\sum_i a_ia_i^\top C\,a_ia_i^\top - ACA\Big)
# + \frac{\eta^2}{B}\,S ,$$
#
# four unknowns, solved with $\operatorname{vec}(PCQ) = (P\otimes Q^\top)\operatorname{vec}C$
# (row-major vec). Both predictions against 600 runs started at $\theta^\star$:

# %%
a_rows = np.column_stack([np.ones(m), x])
residual_star = a_rows @ theta_star - y
S = np.cov(residual_star[:, None] * a_rows, rowvar=False, bias=True)  # per-sample covariance at theta*
lam_A, Q_A = np.linalg.eigh(A)
S_eig = np.diag(Q_A.T @ S @ Q_A)  # u_i^T S u_i
curvature_4x4 = np.mean([np.kron(np.outer(a, a), np.outer(a, a)) for a in a_rows], axis=0)


def floor_additive(lr, B):
    """sum_i lr s_i^2 / (2 (2 - lr lam_i)): the loss floor if the noise did not depend on theta."""
    return float(np.sum(lr * S_eig / B / (2 * (2 - lr * lam_A))))


def second_moment_operator(lr, B, A=A, curvature_4x4=curvature_4x4):
    """The linear map C -> (I - lr A) C (I - lr A) + lr^2/B ((1/m) sum a a^T C a a^T - A C A), on vec(C)."""
    M = np.eye(2) - lr * A
    return np.kron(M, M) + lr**2 / B * (curvature_4x4 - np.kron(A, A))


def stationary_covariance(lr, B, A=A, S=S, curvature_4x4=curvature_4x4):
    """The exact stationary covariance C of the error (the fixed point of the equation above)."""
    op = second_moment_operator(lr, B, A, curvature_4x4)
    return np.linalg.solve(np.eye(4) - op, (lr**2 / B * S).reshape(-1)).reshape(2, 2)


def floor_exact(lr, B):
    """0.5 tr(A C) with C the exact stationary covariance of the error (curvature noise included)."""
    return 0.5 * float(np.trace(A @ stationary_covariance(lr, B)))


rng = np.random.default_rng(5)
print(f"tr S = {np.trace(S):.4f}")
print("   lr    B   measured (95 % interval)   additive (ratio)    exact (ratio)   lr tr S/(4B)")
floors, halves = {}, {}
for lr, B in progress([(0.05, 1), (0.05, 4), (0.2, 1), (0.5, 1), (0.5, 4)], desc="600 runs per setting"):
    burn = int(8 / (lr * lam_A[0]))
    gaps, _, _ = sgd_runs(x, y, theta_star, lr, burn + 1500, B, 600, rng)
    meas, half = mean_and_halfwidth(gaps[:, burn:].mean(axis=1))  # each run's mean over 1500 steps
    floors[lr, B], halves[lr, B] = meas, half
    add, ex = floor_additive(lr, B), floor_exact(lr, B)
    print(f"{lr:5.2f} {B:4d}  {meas:9.2e} (± {100 * half / meas:3.1f} %)   {add:9.2e} ({meas / add:5.3f})   "
          f"{ex:9.2e} ({meas / ex:5.3f})   {lr * np.trace(S) / (4 * B):9.2e}")
    compare(meas, half, ex, f"floor, lr = {lr}, B = {B}")
    if lr <= 0.05:
        assert abs(meas / add - 1) < 0.025  # "within about 2 %"
assert 1.8 < floors[0.5, 1] / floor_additive(0.5, 1) < 2.2  # "doubles"
batch_ratio = floors[0.05, 1] / floors[0.05, 4]
batch_ratio_exact = floor_exact(0.05, 1) / floor_exact(0.05, 4)
# the ratio's 95 % half-width from those of the two floors (independent runs; relative errors add in quadrature)
batch_ratio_half = batch_ratio * np.hypot(*(halves[0.05, B] / floors[0.05, B] for B in (1, 4)))
print(f"lr = 0.05: floor(B = 1) / floor(B = 4) measured {batch_ratio:.2f} (± {batch_ratio_half:.2f}), "
      f"exact {batch_ratio_exact:.2f}")
assert abs(batch_ratio / 4 - 1) < 0.1  # "proportional to 1/B at a fixed step"
assert (round(batch_ratio, 2), round(batch_ratio_exact, 2)) == (4.04, 4.07)  # the prose's numbers
compare(batch_ratio, batch_ratio_half, batch_ratio_exact, "floor(B = 1) / floor(B = 4), lr = 0.05")
floor_ratio_b32 = floor_exact(0.2, 1) / floor_exact(0.2, 32)
print(f"section 3's setting, lr = 0.2: exact floor(B = 1) = {floor_exact(0.2, 1):.4f}, floor(B = 32) = "
      f"{floor_exact(0.2, 32):.5f}, ratio {floor_ratio_b32:.1f}")
assert round(floor_ratio_b32) == 36
# The eta half: the measured floors at B = 1 for lr = 0.05 and 0.2 (4 times the step), and the exact floors
# (the linear solve) for lr = 0.0125 against 0.05, where eta * lambda_max is small.
lr_ratio_measured = floors[0.2, 1] / floors[0.05, 1]
lr_ratio_small = floor_exact(0.05, 1) / floor_exact(0.0125, 1)
print(f"B = 1: floor(lr = 0.2) / floor(lr = 0.05) measured {lr_ratio_measured:.2f};  exact floor(lr = 0.05) / "
      f"floor(lr = 0.0125) = {lr_ratio_small:.3f};  eta * lambda_max = {0.05 * lam_A[1]:.3f} and {0.2 * lam_A[1]:.3f}")
assert 4 < lr_ratio_small < lr_ratio_measured  # above 4, and further above it at the larger steps
assert (round(lr_ratio_small, 2), round(lr_ratio_measured, 2)) == (4.24, 5.30)  # the prose's numbers
assert (round(0.05 * lam_A[1], 2), round(0.2 * lam_A[1], 2)) == (0.11, 0.44)

# %% [markdown]
# For small steps the simple formula is right within about 2 %, and the floor is proportional to
# $1/B$ (at $\eta = 0.05$, from $B = 1$ to 4: 4.04 measured, 4.07 exact). It is proportional to
# $\eta$ only as $\eta\lambda_i \to 0$: the factor $1/(2-\eta\lambda_i)$ and the curvature noise both
# grow with the step ($\eta\lambda_{\max} = 0.11$ at $\eta = 0.05$, 0.44 at 0.2), so four times the
# step gives 4.24 times the exact floor from $\eta = 0.0125$ to 0.05 and 5.30 times the measured one
# from 0.05 to 0.2. At $\eta = 0.5$, $B = 1$ the curvature noise doubles the floor; the exact
# equation accounts for it.
#
# **The whole curve, without sampling.** The mean $\bar e_k$ and second moment $C_k$ of the error
# $\theta^{(k)}-\theta^\star$ obey
#
# $$\bar e_{k+1} = (I-\eta_kA)\,\bar e_k,\qquad
# C_{k+1} = (I-\eta_kA)\,C_k\,(I-\eta_kA) + \frac{\eta_k^2}{B}\Big(\frac1m\sum_i a_ia_i^\top C_k\,a_ia_i^\top
# - AC_kA + \frac2m\sum_i r_i\,(a_i^\top\bar e_k)\,a_ia_i^\top + S\Big),$$
#
# and $\mathbb{E}\,J(\theta^{(k)}) - J^\star = \tfrac12\operatorname{tr}(AC_k)$. For the running
# average we also need $\mathbb{E}\,e_ke_j^\top = (I-\eta A)^{k-j}C_j$, $k \ge j$. `expected_gaps`
# runs them as written; the long experiments below use `fast_gaps`, the library's faster version
# (one $15\times15$ matrix per step; equal within $10^{-10}$, Checks 4c).

# %%
def expected_gaps(theta0, lr, steps, batch, average_from=None):
    """E J(theta_k) - J* for k = 0..steps by the recursion above (lr a number or a schedule lr(k));
    with average_from = k0 also for the running average of theta_k0..theta_k (NaN before k0), else None."""
    schedule = lr if callable(lr) else (lambda k: lr)
    e_bar = np.asarray(theta0, dtype=float) - theta_star
    C = np.outer(e_bar, e_bar)
    P, T, n = np.zeros((2, 2)), np.zeros((2, 2)), 0  # P_k = sum_j (I - eta A)^(k-j) C_j, T = sum (C + P + P^T)
    gaps, avg_gaps = [0.5 * np.trace(A @ C)], [np.nan]
    for k in range(steps):
        Phi = np.eye(2) - schedule(k) * A
        # (1/m) sum_i [a_i^T C a_i + 2 r_i a_i^T e_bar + r_i^2] a_i a_i^T: the fourth-moment, cross and S terms
        weight = np.einsum("ni,ij,nj->n", a_rows, C, a_rows) + 2 * residual_star * (a_rows @ e_bar) + residual_star**2
        noise = (a_rows.T * weight) @ a_rows / m - A @ C @ A
        if average_from is not None and k >= average_from:
            P = Phi @ (P + C)
        C = Phi @ C @ Phi + schedule(k) ** 2 / batch * noise
        e_bar = Phi @ e_bar
        gaps.append(0.5 * np.trace(A @ C))
        if average_from is not None and k + 1 >= average_from:
            n += 1
            T = T + C + P + P.T
        avg_gaps.append(0.5 * np.trace(A @ T) / n**2 if n else np.nan)
    return np.array(gaps), None if average_from is None else np.array(avg_gaps)


def fast_gaps(theta0, lr, steps, batch, average_from=None, curvature_noise=True):
    """The same, from the library (one 15 x 15 matrix per step); curvature_noise=False keeps only S/B."""
    return sgd_least_squares.expected_gaps(x, y, theta0, lr, steps, batch, average_from, curvature_noise)


# %% [markdown]
# ## 5. Decaying steps reach the minimum
#
# To get below every floor the step must shrink, but not so fast that the iterate stops early.
# Robbins and Monro (1951, "A stochastic approximation method", *Annals of Mathematical
# Statistics* 22(3)) asked for $\sum_k \eta_k = \infty$ (enough total movement) and
# $\sum_k\eta_k^2 < \infty$ (finite total noise); the standard choice is $\eta_k = \alpha/(t_0+k)$.
# In the 1-D model $\mathbb{E}x_{k+1}^2 = (1-\eta_k\lambda)^2\,\mathbb{E}x_k^2 + \eta_k^2 \sigma_\xi^2$.
# Trying $\mathbb{E}x_k^2 \approx D/k$ with $\eta_k \approx \alpha/k$ and keeping the terms of order
# $1/k^2$: $-D = -2\alpha\lambda D + \alpha^2 \sigma_\xi^2$, so
#
# $$\mathbb{E}x_k^2 \approx \frac{\alpha^2 \sigma_\xi^2}{(2\alpha\lambda - 1)\,k}\quad\text{if } \alpha\lambda > \tfrac12,
# \qquad\text{smallest at } \alpha = 1/\lambda \text{ where it is } \frac{\sigma_\xi^2}{\lambda^2 k}.$$
#
# If $\alpha\lambda < \tfrac12$ the contraction $\prod(1-\eta_j\lambda) \sim k^{-\alpha\lambda}$ is too
# weak, and $\mathbb{E}x_k^2$ falls only like $k^{-2\alpha\lambda}$: the classic way to make SGD crawl
# (Checks 5a). On least squares ($\mu$, $L$ the extreme eigenvalues of $A$) the condition binds in
# the **flattest** direction, $\alpha\mu > \tfrac12$, while the first step must be stable in the
# steepest, $\alpha/t_0 < 2/L$. We take $\alpha = 1/\mu$, $t_0 = \alpha L$, against a too-small $\alpha = 0.25/\mu$ and
# the constant step $\eta = 0.1$ (also averaged from step 1000, for section 6); 200 runs each, $B = 1$:

# %%
rng = np.random.default_rng(8)
K, runs = 10_000, 200
a_good, a_small = 1 / lam_A[0], 0.25 / lam_A[0]
settings = {  # name: (step or schedule, average from step, the slope theory predicts)
    "alpha = 1/mu": (lambda k: a_good / (a_good * lam_A[1] + k), None, -1.0),
    "alpha = 0.25/mu": (lambda k: a_small / (a_small * lam_A[1] + k), None, -0.5),
    "constant lr = 0.1": (0.1, 1000, 0.0),
}
sim, exact_gaps = {}, {}
for name, (lr, avg_from, _) in progress(settings.items(), desc="200 SGD runs and the exact recursion"):
    sim[name] = sgd_runs(x, y, loss.start, lr, K, 1, runs, rng, average_from=avg_from)[:2]
    exact_gaps[name] = fast_gaps(loss.start, lr, K, 1, average_from=avg_from)


def around(gaps, k):
    """Mean of gaps (last axis = step) over steps 0.9k..1.1k: smooths the step-to-step noise."""
    return gaps[..., int(0.9 * k): int(1.1 * k) + 1].mean(axis=-1)


print(f"mu = lambda_min = {lam_A[0]:.4f}, L = lambda_max = {lam_A[1]:.4f}: alpha = {a_good:.2f}, "
      f"t_0 = {a_good * lam_A[1]:.2f}")
print("                     gap around k = 1e3          gap around k = 1e4          slope per decade")
print("                     200 runs (95 %)    exact    200 runs (95 %)    exact    runs   exact  theory")
for name, (_, _, expected) in settings.items():
    g, e = sim[name][0], exact_gaps[name][0]
    (m3, h3), (m4, h4) = mean_and_halfwidth(around(g, 1000)), mean_and_halfwidth(around(g, 10_000))
    e3, e4 = around(e, 1000), around(e, 10_000)
    slope_runs, slope_exact = np.log10(m4 / m3), np.log10(e4 / e3)
    print(f"{name:18s}  {m3:.2e} (± {100 * h3 / m3:2.0f} %) {e3:.2e}   {m4:.2e} (± {100 * h4 / m4:2.0f} %) {e4:.2e}"
          f"   {slope_runs:+.2f}  {slope_exact:+.2f}   {expected:+.1f}")
    compare(m3, h3, e3, f"{name}, around 1e3")
    compare(m4, h4, e4, f"{name}, around 1e4")
    assert abs(slope_exact - expected) < 0.1 and abs(slope_runs - expected) < 0.15

# %% [markdown]
# The runs agree with the exact expectation, and the slopes are the 1-D predictions: $-1$, then
# $-2\alpha\mu = -0.5$ for the too-small $\alpha$, and flat for the constant step (the level of the $1/k$ law:
# Checks 5b; figure in section 6).

# %% [markdown]
# ## 6. Averaging the iterates (Polyak-Ruppert)
#
# A constant step leaves the iterate wandering around the minimum, but *centred* on it. So
# average: $\bar x_N = \frac1N\sum_{k=1}^N x_k$. In the stationary 1-D model
# $\operatorname{Cov}(x_k, x_{k+j}) = \mathcal V_\infty\phi^{|j|}$, and
#
# $$\operatorname{Var}\bar x_N = \frac{\mathcal V_\infty}{N^2}\Big(N + 2\sum_{j=1}^{N-1}(N-j)\phi^j\Big)
# \;\approx\; \frac{\mathcal V_\infty}{N}\cdot\frac{1+\phi}{1-\phi}
# = \frac{\eta \sigma_\xi^2}{\lambda(2-\eta\lambda)}\cdot\frac{2-\eta\lambda}{\eta\lambda N}
# = \frac{\sigma_\xi^2}{\lambda^2 N}.$$
#
# **The step cancels** from the leading term: for every stable $\eta$ the average has the variance
# of the best decaying step ($\alpha = 1/\lambda$), without knowing $\lambda$ (Checks 6a).
#
# What is proved: Ruppert (1988, "Efficient estimations from a slowly convergent
# Robbins-Monro process", Cornell ORIE technical report 781) and Polyak and Juditsky (1992,
# "Acceleration of stochastic approximation by averaging", *SIAM J. Control and Optimization*
# 30(4)) proved that the average attains the optimal covariance $A^{-1}SA^{-1}/(BN)$ for steps
# that **decrease more slowly than** $1/k$, not for a constant step. With a constant step it works
# on least squares, whose gradient is linear in $\theta$ (Bach and
# Moulines, 2013, "Non-strongly-convex smooth stochastic approximation with convergence rate
# O(1/n)", NeurIPS); on other losses the iterates and their average are centred a distance of
# order $\eta$ from $\theta^\star$ (Dieuleveut, Durmus and Bach, 2020, "Bridging the
# gap between constant step size stochastic gradient descent and Markov chains", *Annals of
# Statistics* 48(3)).
#
# On least squares, per direction,
# $\mathbb{E}J(\bar\theta_N) - J^\star \approx \operatorname{tr}(A^{-1}S)/(2BN)$. Section 5's runs,
# averaged from step 1000 ($N$ = steps since then):

# %%
gap_const, gap_avg = sim["constant lr = 0.1"]
fig, ax = plt.subplots(figsize=(8.5, 4.2))
k = np.unique(np.geomspace(1, K, 500).astype(int))  # log-spaced steps keep the plot light
curves = [  # label, per-run gaps, colour, line style
    (r"constant $\eta = 0.1$, last iterate", gap_const, OKABE["orange"], "-"),
    (r"constant $\eta = 0.1$, averaged from step 1000", gap_avg, OKABE["green"], "--"),
    (r"$\eta_k = \alpha/(t_0+k)$, $\alpha = 1/\mu$", sim["alpha = 1/mu"][0], OKABE["blue"], "-."),
    (r"$\eta_k = \alpha/(t_0+k)$, $\alpha = 0.25/\mu$ (too small)", sim["alpha = 0.25/mu"][0], OKABE["purple"],
     (0, (1, 1))),
]
for label, g, color, ls in curves:
    ks = k if not label.startswith(r"constant $\eta = 0.1$, av") else k[k >= 1000]
    mean, half = mean_and_halfwidth(g[:, ks])
    ax.fill_between(ks, mean - half, mean + half, color=color, alpha=0.25, linewidth=0)
    ax.loglog(ks, mean, color=color, linestyle=ls, label=label)
k_avg = k[k >= 1000]
ax.loglog(k_avg, np.trace(np.linalg.solve(A, S)) / (2 * (k_avg - 999)), "k:", linewidth=1,
          label=r"$\mathrm{tr}(A^{-1}S)/(2N)$")
ax.axhline(floor_exact(0.1, 1), color=OKABE["orange"], linestyle=":", linewidth=1)
ax.text(1.2, floor_exact(0.1, 1) * 1.3, "constant-step floor (section 4)", color=OKABE["orange"], fontsize=8)
ax.set_xlabel("step $k$ (log scale)")
ax.set_ylabel(r"$\mathbb{E}\,J(\theta^{(k)}) - J^\star$: mean of 200 runs")
ax.set_title("SGD with B = 1 on least squares: three ways past the floor (bands: 95 % intervals)")
ax.set_ylim(1e-6, 30)
ax.legend(loc="lower left", fontsize=8)
plt.show()

# %% [markdown]
# At step $10^4$ the average's exact expected loss is 1.07 times the formula (200 runs:
# 1.10 ± 0.15) and 3.5 times below the decaying step's (2.2 to 3.9 in five groups of 40 runs): one
# $\alpha$ serves every direction, and $\alpha = 1/\mu$ gives the steep one $\alpha\lambda \approx 14$, which
# multiplies its $1/k$ term by 7.5. Averaging from step 1, or a larger step (more curvature noise),
# costs more (all in Checks 6b).
#
# ## 7. Batch size: gradient evaluations against steps
#
# On parallel hardware a batch's $B$ gradients are computed at once: **steps** cost time,
# **sample gradients** are the work. The floor depends on $\eta/B$: grow the step with the
# batch (the *linear scaling rule*; Goyal et al., 2017, "Accurate, large minibatch SGD: training
# ImageNet in 1 hour", arXiv:1706.02677): the floor stays, up to the factor $1/(2-\eta\lambda_i)$
# of section 4 (1.20 times higher at $B = 64$, $\eta = 0.16$ than at $B = 1$, $\eta = 0.0025$;
# curvature noise adds 0.1 %), and the step stays stable (capped at 0.3; $0.3L = 0.66 < 2$).
# With $\eta = 0.0025\,B$: steps and sample gradients to an expected gap of $10^{-3}$, exact and
# mean of 100 runs.

# %%
rng = np.random.default_rng(10)
target, lr_per_sample, lr_cap = 1e-3, 0.0025, 0.3
tradeoff = {}
for B in progress([1, 4, 16, 64, 256, 1024], desc="100 runs per batch size and the exact recursion"):
    lr = min(lr_per_sample * B, lr_cap)
    budget = max(int(11_000 / min(B, lr_cap / lr_per_sample)), 100)  # enough steps to cross the target
    runs_mean = sgd_runs(x, y, loss.start, lr, budget, B, 100, rng)[0].mean(axis=0)
    exact_curve, _ = fast_gaps(loss.start, lr, budget, B)
    steps_exact, steps_runs = int(np.argmax(exact_curve <= target)), int(np.argmax(runs_mean <= target))
    assert exact_curve[steps_exact] <= target and runs_mean[steps_runs] <= target
    tradeoff[B] = (lr, steps_exact, steps_runs, exact_curve)
print("     B     lr   steps: exact  mean of 100 runs   sample gradients (exact)   floor (exact)")
for B, (lr, steps_exact, steps_runs, _) in tradeoff.items():
    print(f"{B:6d}  {lr:6.4f} {steps_exact:12d} {steps_runs:17d} {steps_exact * B:20d}   {floor_exact(lr, B):18.2e}")
    assert abs(steps_runs / steps_exact - 1) < 0.02
samples = {B: v[1] * B for B, v in tradeoff.items()}
small_batches = [samples[B] for B in (1, 4, 16, 64)]
step_ratios = [tradeoff[B][1] / tradeoff[4 * B][1] for B in (1, 4, 16)]
print(f"B = 1..64: largest / smallest number of sample gradients = {max(small_batches) / min(small_batches):.3f}; "
      f"steps(B) / steps(4B) = {', '.join(f'{r:.2f}' for r in step_ratios)}; "
      f"floor(B = 64) / floor(B = 1) = {floor_exact(0.16, 64) / floor_exact(0.0025, 1):.2f}")
curvature_share = {(lr, B): floor_exact(lr, B) / floor_additive(lr, B) - 1 for lr, B in [(0.0025, 1), (0.16, 64)]}
print(f"without curvature noise (additive): {floor_additive(0.16, 64) / floor_additive(0.0025, 1):.2f}; curvature "
      f"noise adds {', '.join(f'{100 * v:.2f} %' for v in curvature_share.values())} (B = 1, B = 64)")
assert round(floor_additive(0.16, 64) / floor_additive(0.0025, 1), 2) == 1.20
assert all(0 < v < 0.002 and round(100 * v, 1) == 0.1 for v in curvature_share.values())  # "adds 0.1 %"
assert max(small_batches) / min(small_batches) < 1.01  # linear scaling: the same work within 1 %, ...
assert all(abs(r / 4 - 1) < 0.01 for r in step_ratios)  # ... a quarter of the steps per quadrupling
assert round(floor_exact(0.16, 64) / floor_exact(0.0025, 1), 2) == 1.20 and round(lr_cap * lam_A[1], 2) == 0.66
print(f"mean of 100 runs against the exact count: {', '.join(f'{t[2] / t[1]:.3f}' for t in tradeoff.values())}")
assert samples[256] > 1.5 * samples[64] and samples[1024] > 3 * samples[256]  # past the cap: more work
assert tradeoff[1024][1] > 0.8 * tradeoff[256][1]  # ... and hardly fewer steps

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.0))
palette = [OKABE["orange"], OKABE["sky"], OKABE["green"], OKABE["purple"], OKABE["vermillion"], OKABE["black"]]
for (B, (lr, _, _, curve)), color, ls in zip(tradeoff.items(), palette, ["-", "--", "-.", ":", "-", "--"],
                                             strict=True):
    k = np.unique(np.geomspace(1, len(curve) - 1, 300).astype(int))
    ax1.loglog(k * B, curve[k], color=color, linestyle=ls, label=rf"$B = {B}$, $\eta = {lr:g}$")
ax1.axhline(target, color="k", linestyle=":", linewidth=1)
ax1.set_xlabel("sample gradients computed (log scale)")
ax1.set_ylabel(r"$\mathbb{E}\,J - J^\star$ (exact)")
ax1.set_title("same work for small B; waste for large B")
ax1.legend(fontsize=10)
bs = np.array(list(tradeoff))
ax2.loglog(bs, [samples[B] for B in bs], "o-", color="k", label="sample gradients to reach 1e-3")
ax2.loglog(bs, [tradeoff[B][1] for B in bs], "s--", color=OKABE["vermillion"], label="steps to reach 1e-3")
ax2.axvline(lr_cap / lr_per_sample, color="0.6", linewidth=1)
ax2.text(lr_cap / lr_per_sample, 0.6, r" $\eta$ reaches its cap", color="0.4", fontsize=10, va="top",
         transform=ax2.get_xaxis_transform())  # x in data, y in axes units: between the two curves
ax2.set_xlabel("batch size $B$")
ax2.set_ylabel("count (exact expectation)")
ax2.set_title("the batch-size trade-off")
ax2.legend(fontsize=10)
fig.subplots_adjust(left=0.07, right=0.99, bottom=0.13, top=0.92, wspace=0.25)  # fixed margins: faster than tight_layout
plt.show()

# %% [markdown]
# Up to the cap, quadrupling the batch cuts the steps by four at the same work (within 1 %); past
# it the steps stop falling and the extra samples are wasted. (For neural networks McCandlish et
# al., 2018, "An empirical model of large-batch training", arXiv:1812.06162, predict the knee from
# a "gradient noise scale".)
#
# **Try it** ($m = 40$ points, gradient descent in grey; Checks 7 has the numbers). The explorer's
# $\beta$ (momentum) slider belongs to lesson 07: leave it at 0 here.
#
# * batch size 1 to 32: the stationary distance falls a little faster than $1/\sqrt B$; at 40
#   (the explorer then takes every sample once, no sampling) SGD *is* gradient descent;
# * the running average: for $B = 1$ it ends closer to $\theta^\star$ than the last iterate in 9
#   of 10 seeds, though farther at step 50 in all 10;
# * the learning rate $\eta$: for $B = 1$ the mean square grows without bound from
#   $\eta \approx 0.62$, below gradient descent's $2/L \approx 0.85$; at $\eta = 0.8$, 9 of 10 seeds
#   diverge within 1,000 steps (a single run need not: Checks 7).

# %%
from lessons_lib.widgets import SGDExplorer

sgd_explorer = SGDExplorer(lr=0.3, batch_size=1, steps=1000, momentum=0.0)
sgd_explorer

# %% [markdown]
# The readout for $B = 8$ with the average, then $B = 1$ at $\eta = 0.8$ (gradient descent converges).
# For $B = 8$ the average from step 1 is the farther: it still carries the start (the average of
# steps 500 to 1000 wins in all 10 runs; Checks 7).


# %%
def distance_to_star(point):
    return np.linalg.norm(point - sgd_explorer.theta_star)


sgd_explorer.batch_size = 8
sgd_explorer.show_average = True
print(*sgd_explorer.readout_lines(), sep="\n")
assert sgd_explorer.momentum == 0.0 and sgd_explorer.diverged_at is None and not sgd_explorer.gd.diverged
assert distance_to_star(sgd_explorer.points[-1]) < distance_to_star(sgd_explorer.average[-1])  # the last iterate
assert distance_to_star(sgd_explorer.gd.points[-1]) < 1e-12                                    # GD converges
sgd_explorer.batch_size = 1
sgd_explorer.lr = 0.8
print(*sgd_explorer.readout_lines(), sep="\n")
assert sgd_explorer.diverged_at is not None and not sgd_explorer.gd.diverged  # SGD diverges, GD does not
assert distance_to_star(sgd_explorer.gd.points[-1]) < 1e-12
sgd_explorer.lr = 0.3
sgd_explorer.show_average = False

# %% [markdown]
# SGD with momentum: lesson 07.
#
# ## Summary
#
# * A minibatch gradient is unbiased, with covariance $\Sigma/B$ (with replacement) or
#   $\frac{\Sigma}{B}\frac{m-B}{m-1}$ (without).
# * A constant step does not converge: with additive noise the iterate keeps the variance
#   $\eta \sigma_\xi^2/(\lambda(2-\eta\lambda))$ per direction; on least squares the loss floor is
#   about $\eta\operatorname{tr}S/(4B) \approx \eta\sigma_r^2\operatorname{tr}A/(4B)$ for small steps, plus
#   curvature noise at large ones.
# * Exact recursions give SGD's expected loss on least squares: in all 20 comparisons (some from
#   the same runs) the exact value fell inside the runs' 95 % interval (Checks 6c).
# * A decaying step $\alpha/(t_0+k)$ with $\alpha\mu > \tfrac12$ reaches the rate $1/k$; with $\alpha$ too
#   small, only $k^{-2\alpha\mu}$.
# * Averaging a constant step: the leading term $\sigma_\xi^2/(\lambda^2N)$ does not depend on the step
#   when the noise is additive. Here ($B = 1$, $\eta = 0.1$, from step 1000) the exact expected loss
#   at step $10^4$ was 1.07 times $\operatorname{tr}(A^{-1}S)/(2BN)$, 3.5 times below the decaying
#   step $\alpha = 1/\mu$'s.
#   The theorem is for steps decaying more slowly than $1/k$ (Polyak and Juditsky, 1992); with a
#   constant step the average converges on least squares (Bach and Moulines, 2013), not on every loss.
# * With $\eta = 0.0025B$, batches of 1 to 64 needed the same sample gradients within 1 % and a
#   quarter of the steps per quadrupling; past the step's cap the work grew.

# %% [markdown]
# ## Checks
#
# Verification that a student need not read, in the order of the sections it checks. A mean of
# random runs is compared with its exact value by its **score**, the difference in standard errors;
# a normal score lies beyond $\pm3$ about once in 370 draws, beyond $\pm3.3$ about once in a
# thousand (both checked below against draws of a normal generator).
#
# ### Checks for section 2: minibatch gradients
#
# **2a, exact.** On the first 8 samples, every possible minibatch of size 3: all $8^3$ ordered draws
# with replacement and all $\binom83 = 56$ subsets. Their mean is the full gradient and their
# covariance the formula, to rounding.

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
# **2b, Monte Carlo on all 2000 samples** (the 4000 minibatches of each size of section 2). Without
# replacement the batches of one shuffled pass are not independent of each other, but each is a
# uniformly random subset, which is all the formulas need. Each random mean must lie within four
# standard errors of the full gradient and each random variance within three of its formula. Some
# values are exact by construction, not tests: for the shuffled passes with $B$ = 1, 4, 16 and 2000
# the 4000 batches make whole passes, and a whole pass averages every sample once (the mean is the
# full gradient to $10^{-12}$); $B = 1$ in whole passes draws every $g_i$ equally often, so its
# variance is $\operatorname{tr}\Sigma$ itself; and a batch of the whole data set drawn without
# replacement *is* the full gradient (variance zero), while $B = m$ with replacement still carries
# the noise $\Sigma/m$.

# %%
worst = (0.0, 0.0, None)  # largest |ratio - 1|, its score, and where
relative_se, whole_passes = [], []  # standard error / variance of each random measurement; B with exact means
random_means, random_variances, exact_variances = 0, 0, []  # how many tests are random, which are exact
print("    B   tr Cov (with)  Sigma/B    ratio score | tr Cov (without)  x(m-B)/(m-1)  ratio score")
for B in batch_sizes:
    row = []
    for kind in ["with", "without"]:
        mean_b, mean_se, var, var_se = mc[kind, B]
        whole = kind == "without" and m % B == 0 and n_draws % (m // B) == 0  # whole shuffled passes
        if whole:  # every sample once per pass: the mean is the full gradient by construction, not a test
            assert np.abs(mean_b - full).max() < 1e-12
            whole_passes.append(B)
        else:
            assert np.all(np.abs(mean_b - full) <= 4 * mean_se), (kind, B)
            random_means += 1
        predicted = predicted_variance(kind, B)
        if whole and B in (1, m):  # by construction: each g_i once per pass (B = 1), or the full gradient (B = m)
            assert abs(var - predicted) <= 1e-12 * tr_Sigma
            exact_variances.append(B)
            score = None
        else:
            score = (var - predicted) / var_se  # the difference in standard errors
            assert abs(score) < 3, (kind, B, score)  # within three standard errors of the measurement
            random_variances += 1
            relative_se.append(var_se / var)
            if abs(var / predicted - 1) > worst[0]:
                worst = (abs(var / predicted - 1), score, f"B = {B}, {kind} replacement")
        row.append((var, predicted, score))
    (vw, pw, zw), (vo, po, zo) = row
    cols_without = (f"{vo:14.3e} {po:13.3e}  {vo / po:6.3f} {zo:+5.1f}" if zo is not None and po > 0
                    else f"{vo:14.3e} {po:13.3e}  {vo / po:6.3f} exact" if po > 0
                    else f"{'0 (< 1e-20)':>14s} {0.0:13.3e}          exact")
    print(f"{B:5d}   {vw:11.3e} {pw:10.3e}  {vw / pw:6.3f} {zw:+5.1f} | {cols_without}")
assert mc["without", m][2] < 1e-20
print(f"largest deviation from the formula: {100 * worst[0]:.1f} % ({worst[2]}), score = {worst[1]:+.1f}")
print(f"random measurements: {random_means} means within 4 s.e. of the full gradient, {random_variances} variances "
      f"within 3 s.e. of the formula (each s.e. {100 * min(relative_se):.1f} to {100 * max(relative_se):.1f} % of "
      f"the variance)")
print(f"exact by construction, without replacement: the means for B = {whole_passes} (whole shuffled passes, "
      f"to 1e-12) and the variances for B = {exact_variances}")
assert (random_means, random_variances, whole_passes, exact_variances) == (10, 12, [1, 4, 16, 2000], [1, 2000])
assert (round(100 * min(relative_se), 1), round(100 * max(relative_se), 1)) == (1.6, 2.3)

# How often a normal score lies beyond +-3: erfc(3/sqrt 2), and a million standard normal draws.
p_beyond_3 = math.erfc(3 / math.sqrt(2))
frequency = np.mean(np.abs(np.random.default_rng(15).standard_normal(1_000_000)) > 3)
print(f"P(|score| > 3) = {p_beyond_3:.5f} = 1 in {1 / p_beyond_3:.0f}; in 1,000,000 draws: {frequency:.5f} "
      f"= 1 in {1 / frequency:.0f}")
assert abs(frequency - p_beyond_3) < 4 * np.sqrt(p_beyond_3 / 1e6) and abs(1 / frequency / 370 - 1) < 0.05

# %% [markdown]
# ### Checks for section 3: SGD
#
# **3a, the loops.** With the full gradient `sgd` must be gradient descent (the library's
# `optimizers.run` agrees), and one run of `sgd_runs` draws the same minibatches as `sgd` with the
# same seed.

# %%
ours = sgd(x, y, loss.start, lr=0.3, steps=200, batch=None, rng=None)
reference = optimizers.run(loss, loss.start, "gd", lr=0.3, steps=200)
print(f"full-batch SGD vs optimizers.run: max difference below 1e-12: "
      f"{bool(np.abs(ours - reference.points).max() < 1e-12)}")
assert np.allclose(ours, reference.points, atol=1e-12)
single = sgd(x, y, loss.start, 0.2, 50, 4, np.random.default_rng(7))
gaps_1, _, last = sgd_runs(x, y, loss.start, 0.2, 50, 4, 1, np.random.default_rng(7))
print(f"sgd vs sgd_runs(runs=1), same seed: difference below 1e-12: {bool(np.abs(single[-1] - last[0]).max() < 1e-12)}")
assert np.allclose(single[-1], last[0], atol=1e-12)
# sgd_runs' loss gap (1/2) e^T A e against the library's J(theta) - J*, at every step of that run:
assert np.allclose(gaps_1[0], loss.f(single) - loss.f_min, rtol=1e-9, atol=1e-15)

# %% [markdown]
# **3b, the figure's runs are one run each.** Eight sets of ten more runs of each batch size
# (independent minibatches, set $j$ from generators seeded $B + 100j$): the mean loss gap of each
# run over its last 200 steps, and per set the smallest $B = 1$ value over the largest $B = 32$
# value. Over all 80 runs of each size together that ratio is smaller, and per step the two sizes
# overlap (the figure's printout): the separation holds set by set, for the mean over 200 steps.
# Then the first 20 steps: the mean gap of 1000 runs of each size against gradient descent's.

# %%
tail_ratios = []
all_tails = {1: [], 32: []}  # every run's mean gap over its last 200 steps, all sets together
for j in range(8):
    tail = {}
    for B in (1, 32):
        g, _, _ = sgd_runs(x, y, loss.start, lr_demo, steps_demo, B, 10, np.random.default_rng(B + 100 * j))
        tail[B] = g[:, -200:].mean(axis=1)
        all_tails[B].extend(tail[B])
        if j == 0:
            print(f"B = {B:2d}, 10 runs (set 0): mean gap over steps 201..400 from {tail[B].min():.1e} "
                  f"to {tail[B].max():.1e}")
    tail_ratios.append(tail[1].min() / tail[32].max())
    assert tail[1].min() > 1e-3
print("smallest B = 1 value / largest B = 32 value, in each of 8 sets of 10 runs per size: "
      + ", ".join(f"{r:.1f}" for r in tail_ratios))
assert (round(min(tail_ratios)), round(max(tail_ratios))) == (20, 27)  # the range the text quotes
all_ratio = min(all_tails[1]) / max(all_tails[32])
print(f"over all 80 runs of each size: smallest B = 1 value / largest B = 32 value = {all_ratio:.1f}")
assert 1 < all_ratio < min(tail_ratios)

gd_gap = loss.f(paths["gradient descent (full batch)"][:21]) - loss.f_min
early = {B: sgd_runs(x, y, loss.start, lr_demo, 20, B, 1000, np.random.default_rng(16))[0].mean(axis=0)[1:]
         / gd_gap[1:] for B in (1, 32)}
print(f"steps 1-20: gradient descent's gap falls from {gd_gap[0]:.2f} to {gd_gap[20]:.2f}; mean SGD gap / GD gap "
      f"{early[1].min():.2f} to {early[1].max():.2f} (B = 1), {early[32].min():.3f} to {early[32].max():.3f} (B = 32)")
assert 1.1 < early[1].min() and early[1].max() < 1.5 and np.all(np.abs(early[32] - 1) < 0.02)

# %% [markdown]
# ### Checks for section 4: the noise floor
#
# **4a, the 1-D model.** The stationary variance and the curve $\mathbb{E}x_k^2$ against 10,000
# independent runs (seeds) for four $(\eta, \lambda, \sigma_\xi)$: the variance within 5 %, the
# curve within 6 % at every step.

# %%
rng = np.random.default_rng(4)
n_seeds = 10_000
print("  lr  lambda  s_xi steps   measured Var   formula    rel. error   max rel. error of E x_k^2")
for lr, lam, s in [(0.1, 1.0, 1.0), (0.5, 2.0, 0.5), (0.9, 2.0, 1.0), (0.02, 0.5, 2.0)]:
    phi = 1 - lr * lam
    steps = int(12 / (lr * lam)) + 50
    v_inf = lr * s**2 / (lam * (2 - lr * lam))
    xs = np.full(n_seeds, 1.0)
    second_moment = [1.0]
    for _ in range(steps):
        xs = phi * xs - lr * s * rng.standard_normal(n_seeds)
        second_moment.append(np.mean(xs**2))
    k = np.arange(steps + 1)
    transient = phi ** (2 * k) + v_inf * (1 - phi ** (2 * k))
    worst = np.max(np.abs(np.array(second_moment) / transient - 1))
    print(f"{lr:4.2f} {lam:6.1f} {s:5.1f} {steps:6d}   {xs.var():12.5f} {v_inf:10.5f} "
          f"{xs.var() / v_inf - 1:+10.3f}   {worst:10.3f}")
    assert abs(xs.var() / v_inf - 1) < 0.05 and worst < 0.06

# %% [markdown]
# **4b, the floor and the curvature.** How close is $S$ to $\sigma_r^2A$ here, with $\sigma_r^2$ the
# mean squared residual? Then the same data with the inputs scaled by $c = 0.5, 1, 2$ (the
# curvature $\operatorname{tr}A$ changes, the residuals do not), a small step $\eta = 0.01$,
# $B = 1$, 600 runs from $\theta^\star$ each.

# %%
sigma2 = np.mean(residual_star**2)
S_vs_A = np.abs(S - sigma2 * A).max() / np.abs(S).max()
print(f"sigma_r^2 = {sigma2:.4f};  max |S - sigma_r^2 A| / max |S| = {S_vs_A:.3f}")
assert round(S_vs_A, 3) == 0.025
rng = np.random.default_rng(13)
lr_c = 0.01
print("   c   tr A    measured floor (95 %)   lr sigma_r^2 tr A / 4   ratio   floor / floor(c = 1)   tr A / tr A(c = 1)")
by_scale = {}
for c in progress([0.5, 1.0, 2.0], desc="600 runs per scale"):
    scaled = surfaces.linear_regression(c * x, y)
    trace_A, lam_min = np.trace(scaled.hessian), np.linalg.eigvalsh(scaled.hessian)[0]
    burn = int(3 / (lr_c * lam_min))
    gaps, _, _ = sgd_runs(c * x, y, scaled.minima[0], lr_c, burn + 3000, 1, 600, rng)
    meas, half = mean_and_halfwidth(gaps[:, burn:].mean(axis=1))
    by_scale[c] = (trace_A, meas, lr_c * sigma2 * trace_A / 4, half)
for c, (trace_A, meas, formula, half) in by_scale.items():
    print(f"{c:4.1f} {trace_A:6.3f}   {meas:9.3e} (± {100 * half / meas:3.1f} %)   {formula:16.3e}   "
          f"{meas / formula:6.3f}   {meas / by_scale[1.0][1]:12.2f}   {trace_A / by_scale[1.0][0]:16.2f}")
    assert abs(meas / formula - 1) < 0.05
    # the floor follows tr A (it is not independent of the curvature):
    assert abs((meas / by_scale[1.0][1]) / (trace_A / by_scale[1.0][0]) - 1) < 0.05
scale_factors = [round(v, 2) for c in (0.5, 2.0)
                 for v in (by_scale[c][0] / by_scale[1.0][0], by_scale[c][1] / by_scale[1.0][1])]
assert scale_factors == [0.57, 0.57, 2.72, 2.81]  # the factors the text quotes

# %% [markdown]
# $S$ differs from $\sigma_r^2A$ by 2.5 % of its largest entry (the residuals of 2000 samples are not
# exactly independent of the inputs), and the floor follows $\eta\sigma_r^2\operatorname{tr}A/(4B)$
# within 5 % at each scale.
#
# **4c, the exact recursions.** Started at $\theta^\star$, the library's recursion must reach
# `floor_exact` (a linear solve). The story's `expected_gaps`, which takes every sum over the samples
# directly, must agree with the library's $15\times15$ version: from the usual start with averaging
# from step 200 ($\eta = 0.3$, $B = 2$), and on section 5's schedule $\alpha = 1/\mu$ over 2000 steps.
# Both must agree with 10,000 simulated runs, with and without averaging.

# %%
from_star, _ = fast_gaps(theta_star, 0.2, 3000, 1)
print(f"from theta*, lr = 0.2, B = 1: step 3000 {from_star[-1]:.4e}, floor_exact {floor_exact(0.2, 1):.4e}")
assert abs(from_star[-1] / floor_exact(0.2, 1) - 1) < 1e-6

rng = np.random.default_rng(14)
exact_check, exact_check_avg = fast_gaps(loss.start, 0.3, 600, 2, average_from=200)
plain, plain_avg = expected_gaps(loss.start, 0.3, 600, 2, average_from=200)
schedule_5 = settings["alpha = 1/mu"][0]
schedule_fast, schedule_plain = fast_gaps(loss.start, schedule_5, 2000, 1)[0], expected_gaps(loss.start, schedule_5, 2000, 1)[0]
agree_constant = np.allclose(exact_check, plain, rtol=1e-10, atol=0) and np.allclose(
    exact_check_avg, plain_avg, rtol=1e-10, atol=0, equal_nan=True)
agree_schedule = np.allclose(schedule_fast, schedule_plain, rtol=1e-10, atol=0)
print(f"library (15 x 15) against the story's expected_gaps, every step within a relative 1e-10: {agree_constant} "
      f"(lr = 0.3, B = 2, with the average from step 200), {agree_schedule} (section 5's schedule, 2000 steps)")
assert agree_constant and agree_schedule
for _ in progress(range(1), desc="10,000 SGD runs of 600 steps"):  # one long call: the bar shows it runs
    sim_check, sim_check_avg, _ = sgd_runs(x, y, loss.start, 0.3, 600, 2, 10_000, rng, average_from=200)
print("   k   simulated mean (95 %)      exact   | averaged from 200: simulated (95 %)     exact")
for k in [10, 100, 300, 600]:
    mcs, half = mean_and_halfwidth(sim_check[:, k])
    compare(mcs, half, exact_check[k], f"lr = 0.3, B = 2, step {k}")
    averaged = "   (not started)"
    if k >= 200:
        mca, halfa = mean_and_halfwidth(sim_check_avg[:, k])
        averaged = f"      {mca:9.3e} (± {100 * halfa / mca:3.1f} %)   {exact_check_avg[k]:9.3e}"
        compare(mca, halfa, exact_check_avg[k], f"lr = 0.3, B = 2, average at step {k}")
    print(f"{k:4d}   {mcs:9.3e} (± {100 * half / mcs:3.1f} %)   {exact_check[k]:9.3e} |{averaged}")
del sim_check, sim_check_avg

# %% [markdown]
# ### Checks for section 5: decaying steps
#
# **5a, the 1-D laws.** The simulation (10,000 seeds, $\alpha = 1$, $t_0 = 2$) against the exact
# recursion of section 5, then the recursion over $10^5$ steps against the asymptotic laws: slope
# $-1$ per decade and the level $\alpha^2\sigma_\xi^2/(2\alpha\lambda-1)$ for $\alpha\lambda > \tfrac12$,
# slope $-2\alpha\lambda$ below. The best $\alpha$ is read off the recursion itself: the smallest
# $k\,\mathbb{E}x_k^2$ at $k = 10^5$ on a grid of $\alpha$ ($t_0 = 2\alpha\lambda$, $\lambda = \sigma_\xi = 1$).
# At the borderline $\alpha\lambda = \tfrac12$ the decay is $\log k/k$: over
# $k = 10^4..10^5$ that law predicts the slope $-0.903$ per decade and the recursion gives $-0.921$
# (the next term, of order $1/k$ without the logarithm, still weighs at $k = 10^5$).


# %%
def second_moment_decaying(alpha, t0, lam, s, steps, x0=1.0):
    """E x_k^2 for k = 0..steps under the step alpha/(t0+k) (exact recursion of the 1-D model); alpha and
    t0 may be arrays of the same shape (one recursion each): the result then has shape (steps + 1, *shape)."""
    alpha, t0 = np.asarray(alpha, dtype=float), np.asarray(t0, dtype=float)
    k = np.arange(steps).reshape(-1, *[1] * alpha.ndim)
    lr = alpha / (t0 + k)  # the steps of all k at once, (steps, *shape)
    contract, noise = (1 - lr * lam) ** 2, lr**2 * s**2  # v_{k+1} = contract_k v_k + noise_k
    v = np.empty((steps + 1, *alpha.shape))
    v[0] = x0**2
    for k in range(steps):
        v[k + 1] = contract[k] * v[k] + noise[k]
    return v


rng = np.random.default_rng(6)
lam, s = 1.0, 1.0
xs = np.ones(n_seeds)
for k in range(2000):
    xs = xs - 1.0 / (2.0 + k) * (lam * xs + s * rng.standard_normal(n_seeds))
exact_2000 = second_moment_decaying(1.0, 2.0, lam, s, 2000)[-1]
print(f"alpha = 1, t_0 = 2, k = 2000: simulated E x^2 = {np.mean(xs**2):.3e}, recursion {exact_2000:.3e}")
assert abs(np.mean(xs**2) / exact_2000 - 1) < 0.05

K_1d = 100_000
alphas_laws = np.array([0.25, 0.5, 1.0, 2.0])
alpha_grid = np.round(np.arange(0.6, 3.0001, 0.05), 2)  # for the best alpha
all_alphas = np.concatenate([alphas_laws, alpha_grid])
for _ in progress(range(1), desc="the recursion, 1e5 steps, 53 values of alpha at once"):
    v_all = second_moment_decaying(all_alphas, 2.0 * all_alphas * lam, lam, s, K_1d)
print("   alpha  alpha*lambda   slope over k in [1e4, 1e5]   k * E x_k^2 at 1e5   alpha^2 s_xi^2/(2 alpha lambda - 1)")
for i, a in enumerate(alphas_laws):
    v = v_all[:, i]
    slope = np.log10(v[K_1d] / v[K_1d // 10])
    limit = a**2 * s**2 / (2 * a * lam - 1) if 2 * a * lam > 1 else float("nan")
    print(f"{a:8.2f} {a * lam:10.2f}   {slope:14.3f}   {K_1d * v[K_1d]:22.3f}   {limit:14.3f}")
    if a * lam > 0.5:
        assert abs(slope + 1) < 0.01 and abs(K_1d * v[K_1d] / limit - 1) < 0.01
    elif a * lam < 0.5:
        assert abs(slope + 2 * a * lam) < 0.01
    else:  # the borderline alpha * lambda = 1/2: log(k)/k
        log_law = np.log10((np.log(K_1d) / K_1d) / (np.log(K_1d // 10) / (K_1d // 10)))
        print(f"      (log k)/k predicts the slope {log_law:.3f} over [1e4, 1e5]; the recursion gives {slope:.3f}")
        assert abs(slope - log_law) < 0.03 and (round(log_law, 3), round(slope, 3)) == (-0.903, -0.921)
level = K_1d * v_all[K_1d, len(alphas_laws):]  # k E x_k^2 at k = 1e5 over the grid
best = alpha_grid[np.argmin(level)]
at = dict(zip(alpha_grid, level, strict=True))
print(f"k E x_k^2 at k = 1e5 (lambda = 1): smallest at alpha = {best:.2f} ({level.min():.3f}); "
      f"{at[0.8]:.3f} at alpha = 0.8, {at[1.25]:.3f} at 1.25")
assert best == 1 / lam and (round(at[0.8], 3), round(at[1.25], 3)) == (1.066, 1.042)

# %% [markdown]
# **5b, the level of the $1/k$ law on least squares**, one term of section 5's law per
# eigen-direction:
# $\mathbb{E}J - J^\star \approx \sum_i \frac{\lambda_i}{2}\cdot\frac{\alpha^2 \sigma_{\xi,i}^2}{(2\alpha\lambda_i-1)k}$
# with $\sigma_{\xi,i}^2 = u_i^\top S u_i$ ($B = 1$), against the exact recursion and the 200 runs.

# %%
predicted_decay = 0.5 * np.sum(lam_A * a_good**2 * S_eig / (2 * a_good * lam_A - 1)) / K
decay_runs, decay_half = mean_and_halfwidth(sim["alpha = 1/mu"][0][:, K])
print(f"step 1e4: 200 runs {decay_runs:.3e} (± {100 * decay_half / decay_runs:.0f} %), "
      f"exact {exact_gaps['alpha = 1/mu'][0][K]:.3e}, asymptotic formula {predicted_decay:.3e}")
assert abs(exact_gaps["alpha = 1/mu"][0][K] / predicted_decay - 1) < 0.05
_ = compare(decay_runs, decay_half, exact_gaps["alpha = 1/mu"][0][K], "alpha = 1/mu, step 1e4")

# %% [markdown]
# ### Checks for section 6: averaging
#
# **6a, the 1-D model.** 10,000 runs, each started from the stationary distribution, at three
# steps: $\eta = 0.02$, $0.2$ and $1.5$ with $\lambda = \sigma_\xi = 1$ ($\phi = 0.98$, $0.8$ and
# $-0.5$, the last oscillating), for the averages of the first $N$ iterates of each run: each
# against the finite-$N$ formula within 5 %, and at the largest $N$ (4000 for $\phi = 0.98$, where
# the finite-$N$ formula is 1.24 % below the leading term, against 4.95 % at $N = 1000$; 1000 for the
# others) $N\lambda^2\operatorname{Var}\bar x_N/\sigma_\xi^2$ within 5 % of 1 at each step. The last
# column is the finite-$N$ formula over the leading term $\sigma_\xi^2/(\lambda^2N)$, minus 1.

# %%
rng = np.random.default_rng(9)
lam, s = 1.0, 1.0
print("   lr    phi      N   measured Var(mean)   exact finite-N   s_xi^2/(lambda^2 N)   N lambda^2 Var(mean) / s_xi^2"
      "   finite-N / leading - 1")
finite_n = {}  # (lr, N): the exact finite-N variance over the leading term, minus 1
for lr, N_checked in progress([(0.02, [10, 100, 1000, 4000]), (0.2, [10, 100, 1000]), (1.5, [10, 100, 1000])],
                             desc="10,000 runs per step"):
    phi = 1 - lr * lam
    v_inf = lr * s**2 / (lam * (2 - lr * lam))
    xs = np.sqrt(v_inf) * rng.standard_normal(n_seeds)
    total = np.zeros(n_seeds)
    for N in range(1, N_checked[-1] + 1):
        total += xs
        xs *= phi
        xs -= lr * s * rng.standard_normal(n_seeds)
        if N not in N_checked:
            continue
        j = np.arange(1, N)
        exact = v_inf / N**2 * (N + 2 * np.sum((N - j) * phi**j))
        var_mean = np.var(total / N)
        finite_n[lr, N] = exact / (s**2 / (lam**2 * N)) - 1
        print(f"{lr:5.2f} {phi:+6.2f} {N:6d}   {var_mean:16.3e}   {exact:14.3e}   {s**2 / (lam**2 * N):14.3e}   "
              f"{N * lam**2 * var_mean / s**2:20.3f}   {100 * finite_n[lr, N]:+18.2f} %")
        assert abs(var_mean / exact - 1) < 0.05  # the runs against the finite-N formula
    assert abs(N * lam**2 * var_mean / s**2 - 1) < 0.05  # at the largest N the step has cancelled, at each lr
# phi = 0.98: the finite-N terms are 1.24 % of the leading one at N = 4000 (below 1.3 %), 4.95 % at N = 1000
assert abs(finite_n[0.02, 4000]) < 0.013 < abs(finite_n[0.02, 1000]) < 0.05
assert (round(100 * finite_n[0.02, 4000], 2), round(100 * finite_n[0.02, 1000], 2)) == (-1.24, -4.95)

# %% [markdown]
# **6b, the numbers of section 6.** The averaged iterate at step $10^4$ against
# $\operatorname{tr}(A^{-1}S)/(2BN)$ (exact and the 200 runs); the decaying step against it (exact,
# and in five groups of 40 runs); why, per eigen-direction; and what the two choices cost. Averaging
# from step 1 keeps the start in the average (in theory, not measured here: its contribution to the
# mean of the average is $\frac1N\sum_k(I-\eta A)^k(\theta^{(0)}-\theta^\star)$, a bias that decays
# like $1/N$ and adds a loss of order $1/N^2$): 2.2 times the formula (with $N = 10^4$), an expected
# loss 1.88 times that of the average from step 1000 (whose formula has $N = 9001$). And the step does not cancel entirely on least squares: with the curvature noise left
# out of the recursion (additive noise, as in the 1-D model) the average at $\eta$ = 0.1 and 0.3 is
# within 1 % of the formula, but SGD as it is samples the curvature too, a noise that grows with the
# step, and ends 1.07 times above the formula at $\eta = 0.1$ and 1.35 times at $\eta = 0.3$ (1.26
# times the average at $\eta = 0.1$). Averaging can also be combined with a decaying step, the
# setting of Polyak and Juditsky's theorem.

# %%
N_avg = K - 1000 + 1
predicted_avg = np.trace(np.linalg.solve(A, S)) / (2 * N_avg)
exact_const, exact_avg = exact_gaps["constant lr = 0.1"]
exact_decay = exact_gaps["alpha = 1/mu"][0]
avg_runs, avg_half = mean_and_halfwidth(gap_avg[:, K])
print(f"averaged iterate at step 1e4: 200 runs {avg_runs:.3e} (± {100 * avg_half / avg_runs:.0f} %), "
      f"exact {exact_avg[K]:.3e}, tr(A^-1 S)/(2N) = {predicted_avg:.3e} (exact / formula = "
      f"{exact_avg[K] / predicted_avg:.2f}, runs / formula = {avg_runs / predicted_avg:.2f} "
      f"± {avg_half / predicted_avg:.2f})")
print(f"last iterate (constant lr), exact: {exact_const[K]:.3e};  decaying step alpha = 1/mu, exact: {exact_decay[K]:.3e}")
compare(avg_runs, avg_half, exact_avg[K], "lr = 0.1, average at step 1e4")
assert round(exact_avg[K] / predicted_avg, 2) == 1.07
assert (round(avg_runs / predicted_avg, 2), round(avg_half / predicted_avg, 2)) == (1.10, 0.15)
assert exact_avg[K] < exact_decay[K] < exact_const[K] / 10
groups = np.arange(runs) % 5  # five groups of 40 independent runs
ratios = [sim["alpha = 1/mu"][0][groups == i, K].mean() / gap_avg[groups == i, K].mean() for i in range(5)]
print(f"decaying step / averaged iterate at step 1e4: exact {exact_decay[K] / exact_avg[K]:.2f}; "
      f"in five groups of 40 runs {', '.join(f'{r:.1f}' for r in ratios)}")
assert round(exact_decay[K] / exact_avg[K], 1) == 3.5 and (round(min(ratios), 1), round(max(ratios), 1)) == (2.2, 3.9)

# Why: per eigen-direction, the 1/k law of the decaying step against the average's 1/N law.
print("direction  lambda    alpha*lambda   decaying step: (alpha lambda)^2/(2 alpha lambda - 1) x the average's")
for lam_i, s_i in zip(lam_A, S_eig, strict=True):
    print(f"    {lam_i:10.4f} {a_good * lam_i:9.2f}   {(a_good * lam_i) ** 2 / (2 * a_good * lam_i - 1):12.2f}   "
          f"(terms at k = N = 1e4: {0.5 * lam_i * a_good**2 * s_i / (2 * a_good * lam_i - 1) / K:.2e} "
          f"against {s_i / (2 * lam_i * K):.2e})")
steep = a_good * lam_A[1]
assert round(steep) == 14 and round(steep**2 / (2 * steep - 1), 1) == 7.5  # the numbers the text quotes

# The two choices: averaging from step 1 instead of 1000, and other constant steps (exact), for SGD
# as it is and with the curvature noise left out (additive noise only, as in the 1-D model).
print("exact E J(average) - J* at step 1e4, in units of tr(A^-1 S)/(2N):   SGD    additive noise only")
cost = {(0.1, 1000, True): exact_avg[K]}  # computed above
for lr_c, k0, noise in [(0.1, 1000, False), (0.1, 1, True), (0.3, 1000, True), (0.3, 1000, False)]:
    cost[lr_c, k0, noise] = fast_gaps(loss.start, lr_c, K, 1, average_from=k0, curvature_noise=noise)[1][K]
for lr_c, k0 in [(0.1, 1000), (0.1, 1), (0.3, 1000)]:
    unit = np.trace(np.linalg.solve(A, S)) / (2 * (K - k0 + 1))
    cost[lr_c, k0] = [cost.get((lr_c, k0, noise), np.nan) / unit for noise in (True, False)]
    additive = f"{cost[lr_c, k0][1]:10.2f}" if np.isfinite(cost[lr_c, k0][1]) else ""
    print(f"  lr = {lr_c:4.2f}, averaging from step {k0:4d}: {cost[lr_c, k0][0]:37.2f} {additive}")
assert round(cost[0.1, 1][0], 1) == 2.2 and round(cost[0.3, 1000][0], 2) == 1.35  # the start, a large step
assert round(cost[0.1, 1000][0], 2) == 1.07  # curvature noise at lr = 0.1
assert abs(cost[0.1, 1000][1] - 1) < 0.01 and abs(cost[0.3, 1000][1] - 1) < 0.01  # additive noise: no cost
# The expected losses themselves (not in units whose N differs): against averaging from step 1000 at lr = 0.1
from_start = cost[0.1, 1, True] / cost[0.1, 1000, True]
larger_step = cost[0.3, 1000, True] / cost[0.1, 1000, True]
print(f"exact E J(average) - J* at step 1e4: averaging from step 1 {cost[0.1, 1, True]:.3e}, from step 1000 "
      f"{cost[0.1, 1000, True]:.3e} (ratio {from_start:.2f}); lr = 0.3 from step 1000 {cost[0.3, 1000, True]:.3e} "
      f"(ratio {larger_step:.2f})")
assert round(from_start, 2) == 1.88 and round(larger_step, 2) == 1.26

# %% [markdown]
# **6c, all twenty comparisons.** Sections 4 and 5 and these checks compared a measurement from runs
# with its exact expectation twenty times (`compare`). The twenty are not independent: some come from
# the same runs (an iterate and its running average, the gap at step $10^4$ and the gap averaged
# over steps 9000 to $10^4$, or two floors and their ratio). A 95 % interval misses its value 5 % of
# the time, so over twenty
# comparisons a miss or two would be no alarm: `compare` asserts the looser $|\text{score}| < 3.3$,
# and here we count how many fell inside their 95 % interval.

# %%
scores = np.array([score for _, score in comparisons])
inside = int(np.sum(np.abs(scores) < 1.96))
print(f"{len(comparisons)} comparisons of a measurement from runs with the exact expectation (some from the same runs): "
      f"{inside} inside the 95 % interval (|score| < 1.96), largest |score| = {np.abs(scores).max():.2f} "
      f"({comparisons[int(np.abs(scores).argmax())][0]}); every one within |score| < 3.3")
assert len(comparisons) == 20 and inside == 20  # the count the summary quotes
# How often a normal score lies beyond 3.3: erfc(3.3/sqrt 2), and ten million standard normal draws.
p_beyond_33 = math.erfc(3.3 / math.sqrt(2))
beyond_33 = sum(int(np.sum(np.abs(np.random.default_rng(28 + i).standard_normal(1_000_000)) > 3.3)) for i in range(10))
print(f"P(|score| > 3.3) for a normal score: {p_beyond_33:.6f}; in 10,000,000 draws: {beyond_33 / 1e7:.6f} "
      f"(1 in {1e7 / beyond_33:,.0f})")
assert abs(beyond_33 / 1e7 - p_beyond_33) < 4 * np.sqrt(p_beyond_33 / 1e7) and 900 < 1e7 / beyond_33 < 1100

# %% [markdown]
# ### Checks for section 7: the explorer's numbers
#
# What the explorer shows for other seeds ("new noise" steps through them), and what the equations
# of section 4 say for its 40 points: the root-mean-square distance to $\theta^\star$ in the
# stationary state, $\sqrt{\operatorname{tr}C}$, against $B$; and the largest step for which the
# second moment of SGD stays bounded, the spectral radius of `second_moment_operator` below 1,
# against gradient descent's $2/L$. The runs use the explorer's own reference code,
# `lessons_lib.widgets.sgd`. For $B = 8$ the last iterate is the closer one in 6 of 10 runs, because
# the average from step 1 still carries the first steps: the average of steps 500 to 1000 alone beats
# the last iterate in all 10. The mean-square threshold is not a threshold for a single run: at
# $\eta = 0.66$, where the second moment grows by a factor 1.18 per step, none of the ten runs
# diverges within 1000 steps, as at $\eta = 0.58$ (factor 0.89). The second moment grows through
# rare large excursions (heavy tails; Gürbüzbalaban, Şimşekli and Zhu, 2021, "The heavy-tail
# phenomenon in SGD", ICML), which ten runs do not show. Last, exercise 7's near miss: the step at
# which the exact floor of section 7's data at $B = 64$ equals that of $B = 1$, $\eta = 0.0025$
# (bisection on `floor_exact`) is 0.138, below the small-step formula's 0.16.

# %%
from lessons_lib.widgets.sgd import running_average, sgd_path

x40, y40 = sgd_explorer.x, sgd_explorer.y
a40 = np.column_stack([np.ones(x40.size), x40])
A40 = a40.T @ a40 / x40.size
star40 = np.linalg.solve(A40, a40.T @ y40 / x40.size)
r40 = a40 @ star40 - y40
S40 = (r40[:, None] * a40).T @ (r40[:, None] * a40) / x40.size
kron40 = np.mean([np.kron(np.outer(v, v), np.outer(v, v)) for v in a40], axis=0)
rms = {B: np.sqrt(np.trace(stationary_covariance(0.3, B, A40, S40, kron40))) for B in [1, 2, 4, 8, 16, 32]}
print("lr = 0.3:  B   rms distance (exact)   drop from B = 1   sqrt(B)")
for B, d in rms.items():
    print(f"          {B:2d}   {d:20.4f}   {rms[1] / d:15.2f}   {np.sqrt(B):7.2f}")
assert all(np.sqrt(B) <= rms[1] / d < 1.2 * np.sqrt(B) for B, d in rms.items())

lr_grid = np.linspace(0.3, 2 / np.linalg.eigvalsh(A40)[1], 4001)
operators = np.array([second_moment_operator(lr, 1, A40, kron40) for lr in lr_grid])
radius = np.abs(np.linalg.eigvals(operators)).max(axis=1)  # one LAPACK call for the stack of 4 x 4 maps
ms_threshold = lr_grid[np.argmax(radius >= 1)]
print(f"B = 1: second moment bounded for lr < {ms_threshold:.3f}; gradient descent: lr < 2/L = {lr_grid[-1]:.3f}")
assert 0.6 < ms_threshold < 0.8 < lr_grid[-1] and (round(ms_threshold, 2), round(lr_grid[-1], 2)) == (0.62, 0.85)

seeds = range(10)
distances = {}  # per seed: last iterate, running average from step 1, average of steps 500..1000, at step 50
print("lr = 0.3, 10 runs (seeds 0-9)   at step 1000, closer to theta* than the iterate:   at step 50:")
print("                                 average from step 1   average of steps 500-1000     average farther")
for B in progress((1, 8), desc="ten explorer runs per batch size"):
    d = []
    for seed in seeds:
        p, _ = sgd_path(x40, y40, sgd_explorer.start, 0.3, B, 1000, seed)
        avg = running_average(p)
        d.append([np.linalg.norm(v - star40) for v in (p[-1], avg[-1], p[500:].mean(axis=0), avg[50], p[50])])
    distances[B] = d = np.array(d)
    print(f"  B = {B}  {np.sum(d[:, 1] < d[:, 0]):28d} {np.sum(d[:, 2] < d[:, 0]):25d} {np.sum(d[:, 3] > d[:, 4]):22d}"
          f"      (median distance at step 1000: iterate {np.median(d[:, 0]):.3f}, average {np.median(d[:, 1]):.3f})")
diverged = [sgd_path(x40, y40, sgd_explorer.start, 0.8, 1, 1000, seed)[1] for seed in seeds]
print(f"lr = 0.8, B = 1, seeds 0-9: diverged within 1000 steps in {sum(d is not None for d in diverged)} of 10")
# On either side of the mean-square threshold: the factor by which the second moment changes per step
# (the spectral radius) and what ten runs do.
near_threshold = {}
for lr_t in (0.58, 0.66):
    factor = np.abs(np.linalg.eigvals(second_moment_operator(lr_t, 1, A40, kron40))).max()
    n_div = sum(sgd_path(x40, y40, sgd_explorer.start, lr_t, 1, 1000, seed)[1] is not None for seed in seeds)
    near_threshold[lr_t] = (round(factor, 2), n_div)
    print(f"lr = {lr_t}, B = 1: second moment multiplied by {factor:.2f} per step in the long run; "
          f"seeds 0-9 diverged within 1000 steps in {n_div} of 10")
assert near_threshold == {0.58: (0.89, 0), 0.66: (1.18, 0)}
d1, d8 = distances[1], distances[8]
# the counts the text quotes: 9 of 10, 6 of 10 (the average closer in 4), all 10, every run, 9 of 10
assert (np.sum(d1[:, 1] < d1[:, 0]), np.sum(d8[:, 1] < d8[:, 0]), np.sum(d8[:, 2] < d8[:, 0])) == (9, 4, 10)
assert np.all(d1[:, 3] > d1[:, 4]) and sum(d is not None for d in diverged) == 9

ex7_low, ex7_high = 0.0025, 0.16  # the exact floor at B = 64 rises with the step: bisect for the B = 1 floor
floor_b1 = floor_exact(0.0025, 1)
for _ in range(60):
    ex7_mid = (ex7_low + ex7_high) / 2
    ex7_low, ex7_high = (ex7_low, ex7_mid) if floor_exact(ex7_mid, 64) > floor_b1 else (ex7_mid, ex7_high)
print(f"exact floor at B = 64 equal to that of B = 1, lr = 0.0025: lr = {ex7_low:.4f} (small-step formula: 0.16)")
assert round(ex7_low, 4) == checks.sgd.EX7_EXACT_STEP and round(ex7_low, 3) == 0.138

# %% [markdown]
# ### Checks for exercise 5: why 10,000 seeds
#
# The variance of $n$ independent normal samples has a relative standard error of about
# $\sqrt{2/(n-1)}$: checked against the spread of 200 such variances. Exercise 5 accepts a measured
# variance within 5 % of the formula; how often does a correct measurement miss that? The variance
# of $n$ normal samples is exactly $\chi^2_{n-1}/(n-1)$ times the true one: ten million such
# variances per $n$ give the miss rate without the normal approximation.

# %%
rel_se = np.sqrt(2 / (n_seeds - 1))  # relative standard error of a variance from n normal samples
spread = np.random.default_rng(18).standard_normal((200, n_seeds)).var(axis=1, ddof=1).std()
print(f"relative standard error of a variance of n = {n_seeds:,} normal samples: {100 * rel_se:.2f} % "
      f"(sqrt(2/(n-1))); spread of 200 such variances: {100 * spread:.2f} %")
assert abs(spread / rel_se - 1) < 0.15
miss_rate = {}
for n_ex in progress([800, 10_000], desc="ten million variances per n"):
    se_ex = np.sqrt(2 / (n_ex - 1))
    p_miss = math.erfc(0.05 / se_ex / math.sqrt(2))
    v_ex = np.random.default_rng({800: 38, 10_000: 39}[n_ex]).chisquare(n_ex - 1, 10_000_000) / (n_ex - 1)
    miss_rate[n_ex] = float(np.mean(np.abs(v_ex - 1) > 0.05))
    print(f"n = {n_ex:6,}: relative standard error {100 * se_ex:.2f} %, 5 % = {0.05 / se_ex:.2f} of them, "
          f"missed with probability {p_miss:.4g} (1 in {1 / p_miss:,.0f}); in 10,000,000 simulated "
          f"variances: {miss_rate[n_ex]:.4g} (1 in {1 / miss_rate[n_ex]:,.0f})")
    assert abs(miss_rate[n_ex] / p_miss - 1) < 0.05
del v_ex
assert 2.5 < 1 / miss_rate[800] < 3.5 and 2250 < 1 / miss_rate[10_000] < 2750  # "one in three", "once in 2,500"

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a check that tells you whether your answer is right and, if
# not, what to look at. The solution is the marked part of the exercise's cell (a
# student copy has a stub there).
#
# ### Exercise 1 (recall)
#
# The checks of exercises 1 to 3, 6 and 7 accept an answer within 0.25 % of the right value, so
# three significant figures are enough.
#
# A per-sample gradient component has variance $4.0$. What is the variance of its average
# over a minibatch of $B = 16$ samples drawn *with* replacement?

# %% nbgrader={"grade": false, "grade_id": "ex02_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = 4.0 / 16
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex02_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.sgd.minibatch_variance(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# SGD with the constant step $\eta = 0.1$ runs on $f(x) = \tfrac{\lambda}{2}x^2$ with
# $\lambda = 3$, and each gradient carries independent noise of variance $\sigma_\xi^2 = 5$. What
# is the stationary variance of the iterate $x_k$ (not the loss)?

# %% nbgrader={"grade": false, "grade_id": "ex02_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_2 = 0.1 * 5.0 / (3.0 * (2 - 0.1 * 3.0))
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex02_2_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.sgd.stationary_variance(answer_2)

# %% [markdown]
# ### Exercise 3 (apply)
#
# On the same kind of problem with curvature $\lambda = 0.2$, you use the step
# $\eta_k = \alpha/(t_0+k)$. Which $\alpha$ gives the smallest mean-square error for large $k$?

# %% nbgrader={"grade": false, "grade_id": "ex02_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_3 = 1 / 0.2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex02_3_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.sgd.best_decay_constant(answer_3)


# %% [markdown]
# ### Exercise 4 (implement)
#
# Write `minibatch_sgd(x, y, theta0, lr, batches)`: SGD with the constant step `lr` on the
# least-squares loss $\frac{1}{2m}\sum_i(\theta_0+\theta_1x_i-y_i)^2$, one step per entry
# of `batches` (each an array of sample indices), starting from `theta0`. Return the final
# $\theta$ as an array of shape `(2,)`. Use the *mean* over the batch. Indices may repeat (drawn
# with replacement): a repeated index counts twice. The check compares
# your result with its own on four data sets, to a relative $10^{-9}$.

# %% nbgrader={"grade": false, "grade_id": "ex02_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def minibatch_sgd(x, y, theta0, lr, batches):
    ### BEGIN SOLUTION
    theta = np.array(theta0, dtype=float)
    for idx in batches:
        residual = theta[0] + theta[1] * x[idx] - y[idx]
        theta = theta - lr * np.array([residual.mean(), (residual * x[idx]).mean()])
    return theta
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex02_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.sgd.minibatch_sgd(minibatch_sgd)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(2024)
_x, _theta = _rng.uniform(-2.0, 2.0, 40), np.array([0.5, -0.5])
_y = 1.0 + 0.5 * _x + 0.1 * _rng.standard_normal(40)
_batches = [_rng.integers(0, 40, size=8) for _ in range(30)]
for _idx in _batches:  # the same steps in matrix form: theta - lr X^T (X theta - y) / B
    _X = np.stack([np.ones(len(_idx)), _x[_idx]], axis=1)
    _theta = _theta - 0.1 * _X.T @ (_X @ _theta - _y[_idx]) / len(_idx)
assert np.allclose(minibatch_sgd(_x, _y, np.array([0.5, -0.5]), 0.1, _batches), _theta, rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5 (explore)
#
# Measure, do not compute: run the noisy 1-D model $x_{k+1} = x_k - \eta(\lambda x_k + \xi_k)$
# with $\eta = 0.3$, $\lambda = 4$, normal noise of standard deviation $0.5$
# (`0.5 * rng.standard_normal(n)`, a new draw per seed and step), from $x_0 = 1$, for at least
# 10,000 independent seeds at once (one NumPy array) and
# at least 20 steps, so that the start is forgotten ($|1-\eta\lambda|^{20} = 0.2^{20} \approx 10^{-14}$).
# Independent means that no two runs share noise (or its negative) at any step: draw a new array
# of noise, one number per seed, at every step. Keep every iterate and pass the array of shape
# (steps + 1, seeds), row $k$ holding $x_k$ of every seed. The check makes sure these are
# independent runs of the model (row 0 is the start; at every step at least 10,000 runs have noise
# of their own; what is left after the fitted factor is uncorrelated from step to step; fitted by
# least squares over all steps, $x_{k+1}$ is $(1-\eta\lambda)x_k$ within 0.02 plus noise whose
# variance is within 3 % of $(0.5\eta)^2$, with a mean within five standard errors of 0 and a
# correlation below 0.02 from one step to the next), so that samples drawn from the formula's
# distribution cannot pass for a measurement. It then computes the variance of the last row
# and accepts it within 5 % of the formula of section 4.
#
# Why 10,000 seeds? The variance of $n$ independent normal samples has a relative standard
# error of about $\sqrt{2/(n-1)}$ (checked in Checks, exercise 5). With 800 seeds that is 5 %: one
# standard error, and a correct measurement would miss the 5 % about one time in three. With
# 10,000 seeds it is 1.4 %, and 5 % is 3.5 standard errors: a correct measurement misses
# about once in 2,500 tries (both printed in Checks, exercise 5).

# %% nbgrader={"grade": false, "grade_id": "ex02_5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
explore_rng = np.random.default_rng(12)
runs_5 = np.empty((101, 20_000))  # 100 steps of 20,000 seeds, row k = x_k
runs_5[0] = 1.0
for k in range(100):
    runs_5[k + 1] = runs_5[k] - 0.3 * (4.0 * runs_5[k] + 0.5 * explore_rng.standard_normal(runs_5.shape[1]))
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex02_5_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.sgd.measured_stationary_variance(runs_5)


# %% [markdown]
# ### Exercise 6 (apply)
#
# Constant-step SGD with $\eta = 0.1$ on $f(x) = \tfrac{\lambda}{2}x^2$, $\lambda = 5$, gradient noise of
# variance $\sigma_\xi^2 = 3$, has reached its stationary spread. You average $N = 5000$ consecutive
# iterates. What is the variance of the average, to leading order in $1/N$ (section 6)?

# %% nbgrader={"grade": false, "grade_id": "ex02_6_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_6 = 3.0 / (5.0**2 * 5000)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex02_6_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.sgd.averaged_variance(answer_6)

# %% [markdown]
# ### Exercise 7 (apply)
#
# With $B = 1$ and $\eta = 0.0025$ SGD on least squares settles at a loss floor. For small steps the
# floor is about $\eta\operatorname{tr}S/(4B)$ (section 4). According to this small-step formula,
# which step $\eta$ keeps the floor with batches of $B = 64$?

# %% nbgrader={"grade": false, "grade_id": "ex02_7_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_7 = 0.0025 * 64
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex02_7_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.sgd.scaled_step(answer_7)
