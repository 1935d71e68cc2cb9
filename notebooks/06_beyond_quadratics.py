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
# # Lesson 06: Beyond quadratics
#
# Lessons 01 to 05 solved gradient descent, the heavy ball and Nesterov exactly on quadratics. Real
# losses are not quadratic. This lesson keeps what survives: a bound on the curvature alone (the
# constant $L$) still guarantees that a step of $1/L$ goes down; on convex functions whose curvature
# may vanish the rates become powers of $k$ instead of geometric factors, and Nesterov's method
# turns gradient descent's $1/k$ into $1/k^2$; on non-convex valleys we can only measure.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. define $L$-smoothness, derive the descent lemma and the guaranteed decrease $|\nabla f|^2/(2L)$ of a step $1/L$;
# 2. compute $L$ for logistic regression and check the guarantee, and its failure for a step of $2.2/L$;
# 3. state the rates $O(1/k)$ of gradient descent and $O(1/k^2)$ of Nesterov's method on smooth convex
#    functions, and measure them as slopes on a log-log plot;
# 4. implement Nesterov's momentum sequence for convex functions;
# 5. say what the quadratic theory does and does not predict on the Rosenbrock and Beale valleys.
#
# ## Prerequisites
#
# Lessons 01 (gradient descent, $0 < \eta\lambda < 2$), 03 (the heavy ball) and 05 (Nesterov's
# look-ahead, its region). About 50 minutes.

# %%
import matplotlib.pyplot as plt
import numpy as np

import lessons_lib
from lessons_lib import checks, optimizers, plotting, smooth_convex, surfaces
from lessons_lib.progress import progress
from lessons_lib.widgets import TrajectoryExplorer

lessons_lib.setup()

# %% [markdown]
# ## 1. Smoothness and the descent lemma
#
# A differentiable $f$ is **$L$-smooth** if its gradient cannot change faster than $L$:
# $|\nabla f(x) - \nabla f(y)| \le L\,|x-y|$ for all $x, y$. For a twice differentiable $f$ this says
# every eigenvalue of the Hessian lies in $[-L, L]$; on a quadratic, $L$ is the largest eigenvalue.
# Write $y - x = d$ and integrate the gradient along the segment:
#
# $$f(y) - f(x) - \nabla f(x)\cdot d = \int_0^1 \big(\nabla f(x + t d) - \nabla f(x)\big)\cdot d\,\mathrm{d}t
# \le \int_0^1 L\,t\,|d|^2\,\mathrm{d}t = \frac{L}{2}|d|^2 .$$
#
# That is the **descent lemma**: $f(y) \le f(x) + \nabla f(x)\cdot(y-x) + \tfrac{L}{2}|y-x|^2$, a
# parabola above $f$ touching it at $x$. Put in a gradient step $y = x - \eta\nabla f(x)$:
#
# $$f(x - \eta\nabla f(x)) \le f(x) - \eta\Big(1 - \frac{L\eta}{2}\Big)|\nabla f(x)|^2 .$$
#
# Every $0 < \eta < 2/L$ guarantees a decrease, the largest guarantee is at $\eta = 1/L$:
#
# $$f\big(x - \nabla f(x)/L\big) \le f(x) - \frac{|\nabla f(x)|^2}{2L}.$$
#
# On $f = \tfrac{\lambda}{2}x^2$ the parabola is $f$ itself and $2/L$ is lesson 01's limit $2/\lambda$.
# Nothing here needs convexity or a quadratic.
#
# **A non-quadratic example: logistic regression.** With data rows $x_i \in \mathbb{R}^d$ and labels
# $y_i = \pm 1$, $f(w) = \frac1m\sum_i \log(1 + e^{-y_i x_i\cdot w})$ has the Hessian
# $\frac1m X^\top \mathrm{diag}(s_i(1-s_i)) X$, with $s_i$ a sigmoid. Since $s(1-s) \le \tfrac14$,
#
# $$L = \frac{\lambda_{\max}(X^\top X)}{4m}.$$
#
# Random data ($m = 200$, $d = 5$) with random labels, so that the minimum lies near $w = 0$, where
# $s(1-s) = \tfrac14$ and the curvature reaches $L$:

# %%
rng = np.random.default_rng(0)
m, d = 200, 5
X = rng.standard_normal((m, d)) * np.array([3.0, 1.5, 1.0, 0.5, 0.2])
y = rng.choice([-1.0, 1.0], size=m)


def f_log(w):
    return smooth_convex.logistic_loss(w, X, y)


def grad_log(w):
    return smooth_convex.logistic_grad(w, X, y)


L_log = np.linalg.eigvalsh(X.T @ X)[-1] / (4 * m)  # LAPACK
print(f"L = lambda_max(X^T X) / (4m) = {L_log:.4f}")

# A step of 1/L from 4,000 random points: the decrease against the guarantee |grad f|^2 / (2L).
W = rng.standard_normal((4000, d)) * np.geomspace(0.05, 2.0, 4000)[:, None]
G = grad_log(W)
guarantee = np.sum(G**2, axis=-1) / (2 * L_log)
decrease = {c: f_log(W) - f_log(W - c * G / L_log) for c in (1.0, 2.2)}
print(f"step 1/L:   decrease / guarantee is at least {np.min(decrease[1.0] / guarantee):.3f} over 4,000 points")
print(f"step 2.2/L: f goes up at {np.sum(decrease[2.2] < 0):,} of the 4,000 points, and goes down further than "
      f"with 1/L at {np.sum(decrease[2.2] > decrease[1.0]):,}")
assert np.all(decrease[1.0] >= guarantee) and f"{np.min(decrease[1.0] / guarantee):.3f}" == "1.035"
assert np.sum(decrease[2.2] < 0) == 126 and np.sum(decrease[2.2] > decrease[1.0]) == 2308  # 2,308 > 2,000: most

# %% [markdown]
# Every step of $1/L$ decreased $f$ by at least the guarantee, and at the tightest point by only
# 3.5 % more: the bound is nearly reached. With $2.2/L$ the lemma guarantees nothing
# ($1 - 2.2/2 < 0$), and from 126 of the points $f$ goes up, although from most it goes down further
# than with $1/L$ (the figure below): the lemma is a guarantee, not a prediction. One point where it
# goes up, near the minimum $w^\star$ along the Hessian's top eigenvector $v$, where the curvature is
# close to $L$:

# %%
w_star = np.zeros(d)
for _ in range(20):  # Newton's method (an algorithm independent of gradient descent)
    s = 1 / (1 + np.exp(-(X @ w_star) * y))
    H = X.T @ (X * (s * (1 - s))[:, None]) / m
    w_star = w_star - np.linalg.solve(H, grad_log(w_star))
curv, vecs = np.linalg.eigh(H)
w_show = w_star + 0.1 * vecs[:, -1]
g_show = grad_log(w_show)
f_show = {c: f_log(w_show - c * g_show / L_log) for c in (1.0, 2.2)}
print(f"|grad f(w*)| below 1e-12: {np.linalg.norm(grad_log(w_star)) < 1e-12}; top curvature at w*: {curv[-1] / L_log:.3f} L")
print(f"at w* + 0.1 v: f = {f_log(w_show):.5f}; after a step 1/L: {f_show[1.0]:.5f}; after a step 2.2/L: {f_show[2.2]:.5f}")
assert np.linalg.norm(grad_log(w_star)) < 1e-12 and 0.9 < curv[-1] / L_log < 1
assert f_show[1.0] < f_log(w_show) - np.sum(g_show**2) / (2 * L_log) and f_show[2.2] > f_log(w_show)

# %%
fig, ax = plt.subplots(figsize=(9, 3.4))
grad_norm = np.sqrt(2 * L_log * guarantee)
for c, marker, color, label in [(1.0, "o", "#0072B2", r"step $1/L$"), (2.2, "^", "#D55E00", r"step $2.2/L$")]:
    ax.plot(grad_norm, decrease[c] / guarantee, marker, color=color, markersize=2, alpha=0.5, linestyle="none",
            label=label)
ax.axhline(1, color="k", linewidth=1, label=r"the guarantee $|\nabla f|^2/(2L)$")
ax.axhline(0, color="0.6", linewidth=0.8, linestyle="--", label="no decrease")
ax.set_xscale("log")
ax.set_xlabel(r"$|\nabla f(w)|$ at the random point $w$")
ax.set_ylabel(r"$\dfrac{f(w) - f(w^+)}{|\nabla f(w)|^2/(2L)}$")
ax.set_title("One gradient step on logistic regression from 4,000 random points")
ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, markerscale=3)  # beside the points
plt.show()

# %% [markdown]
# ## 2. Convex but not strongly convex: $O(1/k)$ and $O(1/k^2)$
#
# Lessons 01 and 04 measured rates per step, $(\kappa-1)/(\kappa+1)$ and $(\sqrt\kappa-1)/(\sqrt\kappa+1)$.
# If the smallest curvature is $\mu = 0$ then $\kappa = \infty$ and both rates are 1: they say
# nothing. Such problems are common: a least-squares problem with more unknowns than equations has
# a Hessian with zero eigenvalues. For a convex $L$-smooth $f$ with a minimiser $x^\star$ the
# guarantees are powers of $k$ instead:
#
# * gradient descent with $\eta = 1/L$: $\;f(x_k) - f^\star \le \dfrac{L|x_0-x^\star|^2}{2k}$
#   (Beck and Teboulle, 2009, "A fast iterative shrinkage-thresholding algorithm for linear inverse
#   problems", *SIAM J. Imaging Sciences* 2(1), Theorem 3.1);
# * Nesterov's method for convex functions,
#   $$y_k = x_k + \beta_k(x_k - x_{k-1}),\qquad x_{k+1} = y_k - \tfrac1L\nabla f(y_k),\qquad \beta_k = \frac{k-1}{k+2},$$
#   the look-ahead of lesson 05 with a momentum that grows towards 1:
#   $\;f(x_k) - f^\star \le \dfrac{2L|x_0-x^\star|^2}{(k+1)^2}$ (Nesterov, 1983, "A method of solving a
#   convex programming problem with convergence rate $O(1/k^2)$", *Soviet Math. Doklady* 27; Beck and
#   Teboulle, 2009, Theorem 4.4, for the sequence $t_k$ of exercise 3).
#
# No first-order method can beat the order $1/k^2$ on this class (Nesterov, 2004, *Introductory
# Lectures on Convex Optimization*, Theorem 2.1.7, by a "worst function in the world" of the kind
# behind lesson 04's lower bound for strongly convex quadratics).
#
# **The problem.** $f(x) = \tfrac12|Ax-b|^2$ with 21 equations and 30 unknowns, so 9 zero
# eigenvalues of $A^\top A$, and 21 non-zero ones, $2\cdot10^{-j/2}$ for $j = 0,\dots,20$: two per
# decade from $L = 2$ down to $2\cdot10^{-10}$. A bound is a worst case over problems; to see its
# slope, $b$ is chosen so that the error $x_0 - x^\star$ has the same size along every non-zero
# eigen-direction (a random $b$ puts almost all of it on the flattest ones, see the cell). The system
# is consistent, so $f^\star = 0$.

# %%
lams = 2.0 * 10.0 ** (-np.arange(21) / 2)
U, _ = np.linalg.qr(rng.standard_normal((21, 21)))
V, _ = np.linalg.qr(rng.standard_normal((30, 30)))
A = U @ np.diag(np.sqrt(lams)) @ V[:, :21].T  # 21 x 30, singular values sqrt(lams)
x_target = V[:, :21] @ np.ones(21)  # error 1 along each eigen-direction with a non-zero eigenvalue
b = A @ x_target
n = A.shape[1]


def f_ls(x):
    return 0.5 * np.sum((A @ x - b) ** 2)


def grad_ls(x):
    return A.T @ (A @ x - b)


L_ls = np.linalg.eigvalsh(A.T @ A)[-1]
x0 = np.zeros(n)
x_star = np.linalg.lstsq(A, b, rcond=None)[0]  # the minimiser nearest x0 = 0 (minimum norm)
R2 = np.sum((x0 - x_star) ** 2)
eigs = np.linalg.eigvalsh(A.T @ A)
print(f"L = {L_ls:.6f}; eigenvalues below 1e-14: {np.sum(eigs < 1e-14)}; smallest above: {eigs[eigs >= 1e-14].min():.2e}")
print(f"f* = f(x*) below 1e-25: {f_ls(x_star) < 1e-25}; |x0 - x*|^2 = {R2:.6f}")
assert np.isclose(L_ls, 2.0, rtol=1e-12) and np.sum(eigs < 1e-14) == 9 and np.isclose(R2, 21.0, rtol=1e-9)
assert f_ls(x_star) < 1e-25
share_flat = []
for seed in range(1, 6):  # a random b instead, five of them
    x_random = np.linalg.lstsq(A, np.random.default_rng(seed).standard_normal(21), rcond=None)[0]
    c_random = V[:, :21].T @ x_random  # its error along each eigen-direction (x0 = 0)
    share_flat.append(np.sum(c_random[-4:] ** 2) / np.sum(c_random**2))
print(f"with a random b (5 seeds), the four flattest of the 21 eigen-directions would hold "
      f"{min(share_flat):.1%} to {max(share_flat):.1%} of |x0 - x*|^2")
assert min(share_flat) > 0.95

# %% [markdown]
# Both methods, $10^4$ steps from $x_0 = 0$, written out:

# %%
steps = 10_000
gap_gd, gap_nag = np.empty(steps + 1), np.empty(steps + 1)
x_gd, x, x_prev = x0.copy(), x0.copy(), x0.copy()
for k in range(steps + 1):
    gap_gd[k], gap_nag[k] = f_ls(x_gd), f_ls(x)  # f* = 0
    x_gd = x_gd - grad_ls(x_gd) / L_ls  # gradient descent, lr = 1/L
    beta_k = (k - 1) / (k + 2) if k >= 1 else 0.0
    y_k = x + beta_k * (x - x_prev)  # Nesterov: the look-ahead point ...
    x_prev, x = x, y_k - grad_ls(y_k) / L_ls  # ... and a gradient step from it

k = np.arange(steps + 1)
bound_gd = L_ls * R2 / (2 * np.maximum(k, 1))
bound_nag = 2 * L_ls * R2 / (k + 1) ** 2
slope_gd = smooth_convex.loglog_slope(k, gap_gd, 100, steps)
slope_nag = smooth_convex.loglog_slope(k, gap_nag, 100, steps)
rises = np.flatnonzero(np.diff(gap_nag) > 0)
print(f"bounds hold at every k = 1..10,000: gradient descent {np.all(gap_gd[1:] <= bound_gd[1:])}, "
      f"Nesterov {np.all(gap_nag[1:] <= bound_nag[1:])}")
print(f"slopes of log(f - f*) against log k, least squares over 50 log-spaced k in [100, 10^4]: "
      f"gradient descent {slope_gd:.3f}, Nesterov {slope_nag:.3f}")
print(f"at k = 10^4: gradient descent {gap_gd[-1]:.2e} ({gap_gd[-1] / bound_gd[-1]:.3f} of its bound), "
      f"Nesterov {gap_nag[-1]:.2e} ({gap_nag[-1] / bound_nag[-1]:.3f} of its bound)")
print(f"f(x_k) goes up on {rises.size} of Nesterov's 10,000 steps (gradient descent: {np.sum(np.diff(gap_gd) > 0)})")
assert np.all(gap_gd[1:] <= bound_gd[1:]) and np.all(gap_nag[1:] <= bound_nag[1:])
assert abs(slope_gd + 1) < 0.05 and abs(slope_nag + 2) < 0.1  # the tolerances the text states
assert rises.size == 500 and np.sum(np.diff(gap_gd) > 0) == 0
assert f"{slope_gd:.3f} {slope_nag:.3f}" == "-0.999 -1.975"  # the numbers the text quotes
assert f"{gap_gd[-1] / bound_gd[-1]:.2f} {gap_nag[-1] / bound_nag[-1]:.2f}" == "0.02 0.04"

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.8))
shown = np.unique(np.rint(np.geomspace(1, steps, 1500)).astype(int))  # enough points to show the ripples
ax.loglog(k[shown], gap_gd[shown], color=plotting.METHOD_COLORS["gd"], linestyle=plotting.METHOD_LINESTYLES["gd"],
          label=f"gradient descent (slope {slope_gd:.3f})")
ax.loglog(k[shown], gap_nag[shown], color=plotting.METHOD_COLORS["nesterov"],
          linestyle=plotting.METHOD_LINESTYLES["nesterov"], label=f"Nesterov (slope {slope_nag:.3f})")
ax.loglog(k[shown], bound_gd[shown], color=plotting.METHOD_COLORS["gd"], linestyle=":", linewidth=1,
          label=r"bound $L|x_0-x^\star|^2/(2k)$")
ax.loglog(k[shown], bound_nag[shown], color=plotting.METHOD_COLORS["nesterov"], linestyle=":", linewidth=1,
          label=r"bound $2L|x_0-x^\star|^2/(k+1)^2$")
ax.axvspan(100, steps, color="0.93", zorder=0)
ax.set_xlabel("step $k$")
ax.set_ylabel(r"$f(x_k) - f^\star$")
ax.set_title(r"Least squares with 9 zero eigenvalues ($\mu = 0$); slopes fitted on the shaded range")
ax.legend(loc="lower left", fontsize=8)
plt.show()

# %% [markdown]
# Both bounds hold at every one of the $10^4$ steps, and the measured slopes over $k \in [100, 10^4]$
# are $-0.999$ and $-1.975$ (asserted within $\pm0.05$ of $-1$ and $\pm0.1$ of $-2$). Ten times more
# steps buy gradient descent a factor 10, Nesterov a factor 100. Nesterov pays with a loss that is not
# monotone: it goes up on 500 of its steps, the ripples on the curve, as its momentum
# $\beta_k \to 1$ lets the flat components ring. Why slopes and not the constants: on this problem both
# methods sit far below their bounds (2 % and 4 % at $k = 10^4$); a bound gives the order, the
# problem the constant.
#
# ## 3. Strongly convex, not quadratic: a guarantee for Nesterov's textbook tuning
#
# If $f$ is also $\mu$-strongly convex (every Hessian eigenvalue $\ge \mu > 0$), Nesterov's method with
# constant $\eta = 1/L$ and $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$ satisfies
#
# $$f(x_k) - f^\star \le \Big(1-\frac{1}{\sqrt\kappa}\Big)^k\Big(f(x_0)-f^\star+\frac{\mu}{2}|x_0-x^\star|^2\Big)$$
#
# on every such function, not only on quadratics (Nesterov, 2004, section 2.2.1, the constant-step
# scheme with $\gamma_0 = \mu$). The heavy ball's
# quadratic-optimal pair has no such guarantee: lesson 05 shows Lessard et al.'s function on which
# it cycles. Check the bound on section 1's logistic loss plus $\tfrac{\mu}{2}|w|^2$, with $\mu$ chosen
# so that $\kappa = (L_{\log} + \mu)/\mu = 100$:

# %%
mu_r = L_log / 99
L_r = L_log + mu_r


def f_reg(w):
    return f_log(w) + 0.5 * mu_r * np.sum(w * w, axis=-1)


def grad_reg(w):
    return grad_log(w) + mu_r * w


w_opt = np.zeros(d)
for _ in range(30):  # Newton's method for f*
    s = 1 / (1 + np.exp(-(X @ w_opt) * y))
    w_opt = w_opt - np.linalg.solve(X.T @ (X * (s * (1 - s))[:, None]) / m + mu_r * np.eye(d), grad_reg(w_opt))
w0 = np.full(d, 3.0)
path_r = smooth_convex.nesterov_strongly_convex(grad_reg, w0, L_r, mu_r, 150)
gap_r = f_reg(path_r) - f_reg(w_opt)
bound_r = (1 - 0.1) ** np.arange(151) * (f_reg(w0) - f_reg(w_opt) + mu_r / 2 * np.sum((w0 - w_opt) ** 2))
print(f"kappa = {L_r / mu_r:.0f}; the bound holds at every k = 0..150: {np.all(gap_r <= bound_r)}; "
      f"largest gap / bound for k >= 1: {np.max(gap_r[1:] / bound_r[1:]):.3f}; f - f* at k = 100: {gap_r[100]:.1e}")
assert np.isclose(L_r / mu_r, 100.0) and np.all(gap_r <= bound_r)

# %% [markdown]
# ## 4. Non-convex valleys: Rosenbrock and Beale
#
# On a non-convex $f$ there is no $f^\star$ to bound against and the quadratic theory holds only near a
# minimum, so this section measures. Rosenbrock's valley (Rosenbrock, 1960, *The Computer Journal*
# 3(3)) has $\kappa \approx 2500$ at its minimum $(1, 1)$. In the explorer, try $\beta$ = 0, 0.5,
# 0.9, 0.97 at fixed $\eta$, then raise $\eta$ until a path diverges.

# %%
rosen = surfaces.get("rosenbrock")
TrajectoryExplorer(surface="rosenbrock", lr=1e-3, momentum=0.9, steps=600)

# %% [markdown]
# **The heavy ball, 600 steps from the explorer's start $(-1.5, 2)$, $\eta = 10^{-3}$.** The loss
# after 600 steps falls as $\beta$ grows from 0 to 0.97; momentum takes longer steps than gradient
# descent (2.0, 7.4 and 5.0 times its median step over steps 20 to 300) and overshoots: its loss
# rises on some steps, and with $\beta = 0.97$ the path runs past the minimum to $x = 1.43$.
# Gradient descent's loss never rises.

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
assert [round(m_ / median_steps[0], 1) for m_ in median_steps[1:]] == [2.0, 7.4, 5.0]

# %% [markdown]
# **The quadratic limit does not carry over.** Near the minimum the heavy ball's limit is
# $\eta < (2+2\beta)/L_{\text{local}}$ (lesson 03) with $L_{\text{local}} \approx 1001.6$. With
# $\beta = 0.9$, from the start, the first learning rate that diverges is 0.00208, 55 % of that limit;
# from there to 0.00239 diverging and bounded rates alternate (11 of 32 stay bounded); all bounded
# runs converge when continued to 5,000 steps. The curvature at the start (largest eigenvalue about
# 2,100) does not give the threshold either: its limit 0.001816 is passed by converging runs.

# %%
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
# **Nesterov against the heavy ball, on grids.** Both methods at the same $(\eta, \beta)$ on a grid
# of 40 learning rates by 34 momenta, 1,000 steps, from six starts per surface (on Rosenbrock the
# explorer's start, the classic $(-1.2, 1)$ and four more around the valley; on Beale's function, E. M.
# L. Beale, 1958, Princeton technical report 25, its start $(1, 1.5)$ and five more around the minimum
# $(3, 0.5)$). Counted: the steps on which the loss goes up, the settings that diverge, and the
# settings that reach $f - f^\star \le 10^{-8}$ and stay there.

# %%
def loss_increases(losses):
    """Steps on which the loss went up (a diverged run's NaNs count as a huge constant loss)."""
    return np.sum(np.diff(np.nan_to_num(losses, nan=1e300), axis=-1) > 0, axis=-1)


def settled_at(gap, tol):
    """First step after which gap stays <= tol (per configuration); len(gap) if it never does."""
    above = ~(np.nan_to_num(gap, nan=np.inf) <= tol)
    n_ = above.shape[-1]
    return np.where(above[..., -1], n_, n_ - np.argmax(above[..., ::-1], axis=-1))


grid_starts = {"rosenbrock": [(-1.5, 2.0), (-1.2, 1.0), (0.0, 2.0), (-1.0, -0.5), (1.8, 2.5), (-0.5, 2.5)],
               "beale": [(1.0, 1.5), (0.0, 0.0), (2.0, 0.0), (4.0, 1.0), (2.0, -1.0), (1.0, 1.0)]}
grid_axes = {name: np.meshgrid(np.geomspace(1e-4, lr_hi, 40), np.linspace(0.0, 0.98, 34), indexing="ij")
             for name, lr_hi in [("rosenbrock", 4e-3), ("beale", 3e-2)]}
jobs = [(name, start) for name, starts in grid_starts.items() for start in starts]
grid_stats = {}  # (surface, start) -> per method: loss increases, diverged, settled step (arrays of shape 40 x 34)
for name, start in progress(jobs, desc="2 x 12 grids of 1,360 runs"):
    s = surfaces.get(name)
    LRr, Br = grid_axes[name]
    runs = {m_: optimizers.run(s, start, m_, LRr, Br, steps=1000) for m_ in ["momentum", "nesterov"]}
    grid_stats[name, start] = {m_: {"up": loss_increases(r.losses), "diverged": r.diverged,
                                    "done": settled_at(r.losses - s.f_min, 1e-8)} for m_, r in runs.items()}
    del runs  # 2 x 1,360 runs of 1,000 steps: keep only the counts

damping, reach = {}, {}
for name, starts in grid_starts.items():
    for start in starts:
        hb, nag = grid_stats[name, start]["momentum"], grid_stats[name, start]["nesterov"]
        both = ~hb["diverged"] & ~nag["diverged"] & (grid_axes[name][1] >= 0.5)
        up_hb, up_nag = hb["up"][both], nag["up"][both]
        damping[name, start] = (np.mean(up_nag < up_hb), np.mean(up_nag > up_hb), np.mean(up_nag == up_hb),
                                np.mean((up_nag == 0) & (up_hb == 0)), both.sum())
        ok_hb, ok_nag = hb["done"] <= 1000, nag["done"] <= 1000
        reach[name, start] = {"diverged": (hb["diverged"].sum(), nag["diverged"].sum()),
                              "ok": (ok_hb.sum(), ok_nag.sum()), "fewest": (hb["done"].min(), nag["done"].min()),
                              "diff": nag["done"][ok_hb & ok_nag] - hb["done"][ok_hb & ok_nag]}
    spread = np.array([damping[name, start][:2] for start in starts])
    ratios = [reach[name, st]["diverged"][1] / reach[name, st]["diverged"][0] for st in starts]
    print(f"{name}, over its six starts: where both stay bounded and beta >= 0.5, Nesterov's loss rises fewer times "
          f"than the heavy ball's in {spread[:, 0].min():.0%}-{spread[:, 0].max():.0%} of the settings, more times "
          f"in {spread[:, 1].min():.0%}-{spread[:, 1].max():.0%}; Nesterov diverges at {min(ratios):.2f} to "
          f"{max(ratios):.2f} times as many settings")
    assert np.all(spread[:, 0] > 3 * spread[:, 1])  # from every start: fewer far more often than more
    assert all(reach[name, st]["diverged"][1] > reach[name, st]["diverged"][0] for st in starts)
    assert f"{min(ratios):.2f} to {max(ratios):.2f}" == {"rosenbrock": "1.17 to 2.03", "beale": "1.04 to 3.38"}[name]

# %% [markdown]
# In steep directions Nesterov's effective momentum $\beta(1-\eta\lambda)$ is smaller (lesson 05),
# so it rings less: from every one of the twelve starts its loss rises fewer times than the heavy
# ball's in more than three times as many settings as it rises more times (63-99 % against 1-19 % on
# Rosenbrock, 12-81 % against 1-4 % on Beale, where most other settings are runs in which neither
# loss ever rises). Its narrower region on a quadratic (lesson 05) shows too: from every start it
# diverges at more settings (1.17 to 2.03 times as many on Rosenbrock, 1.04 to 3.38 on Beale). Which
# of the two is faster depends on the start and the setting: at equal settings where both reach
# $10^{-8}$, Nesterov is sooner in 13 of 18 Rosenbrock settings, while on Beale the heavy ball is
# faster more often from 5 of the 6 starts. The per-start numbers are in the checks below.
#
# ## Summary
#
# * An $L$-smooth $f$ lies below the parabola $f(x) + \nabla f(x)\cdot(y-x) + \tfrac L2|y-x|^2$; so
#   any step $0 < \eta < 2/L$ decreases it, a step $1/L$ by at least $|\nabla f|^2/(2L)$. On
#   logistic regression ($L = \lambda_{\max}(X^\top X)/(4m)$) every one of 4,000 random points
#   obeyed this, with only 3.5 % to spare at the tightest; a step $2.2/L$ increased $f$ at 126 of them.
# * Convex with $\mu = 0$: gradient descent at $\eta = 1/L$ has $f(x_k)-f^\star \le L|x_0-x^\star|^2/(2k)$,
#   Nesterov with $\beta_k = (k-1)/(k+2)$ has $2L|x_0-x^\star|^2/(k+1)^2$. On a least-squares problem
#   with 9 zero eigenvalues and a spectrum over ten decades both held at every step up to $10^4$, and
#   the measured log-log slopes were $-0.999$ and $-1.975$. Nesterov's loss rose on 500 of its steps.
# * Strongly convex but not quadratic: Nesterov's textbook tuning kept below its guaranteed
#   $(1-1/\sqrt\kappa)^k$ bound on regularised logistic regression ($\kappa = 100$, 150 steps).
# * On Rosenbrock and Beale only measurements speak, and they depend on the start: the quadratic
#   divergence limit at the minimum does not predict where the heavy ball diverges; Nesterov
#   overshoots less often and diverges at more settings from every one of twelve starts; which
#   method is faster varies.
#
# ## Checks
#
# The per-start numbers behind section 4's summary, and the checks of section 1's $L$ by an
# independent computation. A student may skip this section.
#
# **$L$ of the logistic loss** by central differences of the gradient: the Hessian's largest
# eigenvalue at $w = 0$ equals $L$, and at 300 random points it stays below $L$; the descent
# lemma's parabola lies above $f$ at 4,000 random pairs of points.

# %%
h, E = 1e-5, np.eye(d)
W_h = rng.standard_normal((300, d))
H_fd = np.stack([(grad_log(W_h + h * e) - grad_log(W_h - h * e)) / (2 * h) for e in E], axis=-1)
top = np.linalg.eigvalsh((H_fd + np.swapaxes(H_fd, -1, -2)) / 2)[:, -1]
top0 = np.linalg.eigvalsh(np.column_stack([(grad_log(h * e) - grad_log(-h * e)) / (2 * h) for e in E]))[-1]
Xa, Ya = rng.standard_normal((2, 4000, d)) * 2
gap_lemma = f_log(Ya) - (f_log(Xa) + np.sum(grad_log(Xa) * (Ya - Xa), -1) + L_log / 2 * np.sum((Ya - Xa) ** 2, -1))
print(f"top Hessian eigenvalue at w = 0: {top0:.6f} (L = {L_log:.6f}); at 300 random points at most "
      f"{top.max() / L_log:.3f} L; parabola minus f at 4,000 pairs at least {-gap_lemma.max():.2e}")
assert np.isclose(top0, L_log, rtol=1e-6) and np.all(top <= L_log * (1 + 1e-6)) and np.all(gap_lemma <= 1e-12)

# %% [markdown]
# **Gradient descent's gaps by a closed form.** On $\tfrac12|Ax-b|^2$ each eigen-component of the error
# shrinks by $1-\lambda_i/L$ per step, so $f(x_k) = \tfrac12\sum_i \lambda_i(1-\lambda_i/L)^{2k}\tilde x_{0,i}^2$,
# with $\tilde x_{0,i}$ the error's coordinates along the eigenvectors, here all 1; the simulation agrees:

# %%
closed = 0.5 * np.sum(lams[None, :] * (1 - lams[None, :] / L_ls) ** (2 * k[:, None]), axis=1)
print(f"the run and the closed form agree to a relative 1e-8 at every k: {np.allclose(gap_gd, closed, rtol=1e-8)}")
assert np.allclose(gap_gd, closed, rtol=1e-8)

# %% [markdown]
# **Damping, per start** (section 4): the share of settings (both bounded, $\beta \ge 0.5$) in which
# Nesterov's loss rises fewer, more or as many times as the heavy ball's, and in which neither rises:

# %%
for name, starts in grid_starts.items():
    print(f"{name}: start, settings | fewer | more | as many | (both never)")
    for start in starts:
        fewer, more, tie, never, n_set = damping[name, start]
        print(f"  ({start[0]:4.1f}, {start[1]:4.1f}) {n_set:4d} | {fewer:4.0%} | {more:4.0%} | {tie:4.0%} | ({never:.0%})")
assert damping["rosenbrock", (-1.5, 2.0)][4] == 460 and damping["beale", (1.0, 1.5)][4] == 557
assert [f"{v:.0%}" for v in damping["rosenbrock", (-1.5, 2.0)][:3]] == ["93%", "4%", "2%"]
assert [f"{v:.0%}" for v in damping["beale", (1.0, 1.5)][:4]] == ["25%", "1%", "74%", "73%"]
assert all(damping["beale", st][3] > 0.85 * damping["beale", st][2] for st in grid_starts["beale"])  # ties: mostly never
ranges = {name: np.array([damping[name, start][:3] for start in grid_starts[name]]) for name in grid_starts}
assert [f"{f(ranges['rosenbrock'][:, i]):.0%}" for i in range(3) for f in (np.min, np.max)] == \
    ["63%", "99%", "1%", "19%", "0%", "19%"]
assert [f"{f(ranges['beale'][:, i]):.0%}" for i in range(3) for f in (np.min, np.max)] == \
    ["12%", "81%", "1%", "4%", "14%", "84%"]

# %% [markdown]
# **Large steps and speed, per start** (section 4): settings that diverge and that reach
# $f - f^\star \le 10^{-8}$ within 1,000 steps (of 1,360), the fewest steps, and where both reach it,
# in how many settings Nesterov is sooner, later or at the same step, with the median difference
# (Nesterov minus heavy ball). From the explorer's Rosenbrock start, Nesterov reaches the tolerance at
# 7 settings against 19, only with learning rates up to about half the heavy ball's largest, and
# tuned it is slower (478 steps against 398); from other starts this changes.

# %%
for name, starts in grid_starts.items():
    print(f"{name}: start | diverge: heavy ball, Nesterov | reach 1e-8: heavy ball, Nesterov | fewest steps | "
          "Nesterov sooner, later, same, median difference")
    for start in starts:
        rr = reach[name, start]
        median = f"{np.median(rr['diff']):+6.1f}" if rr["diff"].size else "     -"
        print(f"  ({start[0]:4.1f}, {start[1]:4.1f}) | {rr['diverged'][0]:4d} {rr['diverged'][1]:4d} | "
              f"{rr['ok'][0]:4d} {rr['ok'][1]:4d} | {rr['fewest'][0]:4d} {rr['fewest'][1]:4d} | "
              f"{np.sum(rr['diff'] < 0):3d} {np.sum(rr['diff'] > 0):3d} {np.sum(rr['diff'] == 0):3d} {median}")
LRr, Br = grid_axes["rosenbrock"]
hb, nag = grid_stats["rosenbrock", (-1.5, 2.0)]["momentum"], grid_stats["rosenbrock", (-1.5, 2.0)]["nesterov"]
fastest = np.unravel_index(hb["done"].argmin(), LRr.shape)
lr_top = LRr[hb["done"] <= 1000].max(), LRr[nag["done"] <= 1000].max()
print(f"rosenbrock from (-1.5, 2): largest lr that reaches 1e-8, heavy ball {lr_top[0]:.2e}, Nesterov {lr_top[1]:.2e}; "
      f"at the heavy ball's fastest setting (lr {LRr[fastest]:.2e}, beta {Br[fastest]:.2f}) Nesterov "
      f"{'diverges' if nag['diverged'][fastest] else 'does not diverge'}")
ros, bea = grid_starts["rosenbrock"], grid_starts["beale"]
r0 = reach["rosenbrock", (-1.5, 2.0)]
assert r0["ok"] == (19, 7) and tuple(r0["fewest"]) == (398, 478) and sorted(r0["diff"]) == [-399, -23, 1, 1, 130]
assert f"{lr_top[0] / lr_top[1]:.1f}" == "1.9" and nag["diverged"][fastest]
assert sum(reach["rosenbrock", st]["ok"][0] > reach["rosenbrock", st]["ok"][1] for st in ros) == 3  # 3 starts of 6
assert sum(reach["rosenbrock", st]["fewest"][0] < reach["rosenbrock", st]["fewest"][1] for st in ros) == 2
diff_ros = np.concatenate([reach["rosenbrock", st]["diff"] for st in ros])
assert (diff_ros.size, np.sum(diff_ros < 0), np.sum(diff_ros > 0)) == (18, 13, 5)
assert reach["rosenbrock", (-1.0, -0.5)]["diff"].size == 0
assert sum(reach["beale", st]["ok"][0] > reach["beale", st]["ok"][1] for st in bea) == 5
assert sum(reach["beale", st]["fewest"][0] < reach["beale", st]["fewest"][1] for st in bea) == 3
hb_faster = [st for st in bea if np.sum(reach["beale", st]["diff"] > 0) > np.sum(reach["beale", st]["diff"] < 0)]
assert hb_faster == [st for st in bea if st != (4.0, 1.0)]  # the heavy ball faster more often from 5 of 6 starts
assert [np.median(reach["beale", st]["diff"]) for st in bea] == [5, 8, 5, -14, 2, 4]
r0b = reach["beale", (1.0, 1.5)]
assert r0b["diff"].size == 138 and np.sum(r0b["diff"] > 0) == 103 and np.sum(r0b["diff"] < 0) == 26

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a check that says whether your answer is right and, if not, what to
# look at. The solution is the marked part of the exercise's cell.
#
# ### Exercise 1 (recall)
#
# $f$ is $L$-smooth with $L = 4$, and at the point $x$ the gradient has norm $|\nabla f(x)| = 3$. By
# at least how much does one gradient step with $\eta = 1/L$ decrease $f$? (Within 0.1 %.)

# %% nbgrader={"grade": false, "grade_id": "ex06_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = 3.0**2 / (2 * 4.0)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex06_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.beyond_quadratics.guaranteed_decrease(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# A method's $f(x_k) - f^\star$ is $4.0\cdot10^{-3}$ at $k = 250$ and $2.5\cdot10^{-4}$ at $k = 1{,}000$.
# Give `slope_2`, the slope of the line through these two points on log-log axes, and
# `gap_2`, the value of $f(x_k) - f^\star$ at $k = 8{,}000$ if the line continues. (Within 1 %.)

# %% nbgrader={"grade": false, "grade_id": "ex06_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
slope_2 = np.log(2.5e-4 / 4.0e-3) / np.log(1000 / 250)
gap_2 = 2.5e-4 * (8000 / 1000) ** slope_2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex06_2_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.beyond_quadratics.slope_reading(slope_2, gap_2)


# %% [markdown]
# ### Exercise 3 (implement)
#
# Beck and Teboulle's FISTA (2009) uses another momentum sequence: $t_1 = 1$,
# $t_{k+1} = \big(1 + \sqrt{1 + 4t_k^2}\big)/2$ and $\beta_k = (t_k - 1)/t_{k+1}$ for $k \ge 1$
# ($\beta_0 = 0$; it also has the bound $2L|x_0-x^\star|^2/(k+1)^2$). Write
# `fista(grad, x0, L, steps)` returning the array of $x_0, \dots, x_{\text{steps}}$ (shape
# `(steps + 1, n)`) of $y_k = x_k + \beta_k(x_k - x_{k-1})$, $x_{k+1} = y_k - \nabla f(y_k)/L$. The check
# compares every iterate with a reference on three problems, to a relative $10^{-9}$.

# %% nbgrader={"grade": false, "grade_id": "ex06_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fista(grad, x0, L, steps):
    ### BEGIN SOLUTION
    x = np.array(x0, dtype=float)
    x_prev, t, path = x.copy(), 1.0, [x.copy()]  # t = t_1
    for k in range(steps):
        beta = 0.0
        if k >= 1:
            t_next = (1 + np.sqrt(1 + 4 * t**2)) / 2
            beta, t = (t - 1) / t_next, t_next
        y_k = x + beta * (x - x_prev)
        x_prev, x = x, y_k - grad(y_k) / L
        path.append(x.copy())
    return np.array(path)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex06_3_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.beyond_quadratics.fista_iterates(fista)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(6)
for _ in range(5):  # random under-determined least-squares problems
    _A, _b, _x0 = _rng.standard_normal((8, 12)), _rng.standard_normal(8), _rng.standard_normal(12)
    _L = np.linalg.eigvalsh(_A.T @ _A)[-1]

    def _grad(x, _A=_A, _b=_b):
        return _A.T @ (_A @ x - _b)

    _want = smooth_convex.nesterov_convex(_grad, _x0, _L, 40, sequence="fista")
    assert np.allclose(fista(_grad, _x0, _L, 40), _want, rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS


# %% [markdown]
# ### Exercise 4 (explore)
#
# Section 2 chose $b$ so that the error had the same size along every eigen-direction ($\tilde x_{0,i} = 1$).
# A random $b$ instead gives every eigen-direction about the same share of $f(x_0)$, that is
# $\lambda_i \tilde x_{0,i}^2$ the same for all $i$. Take section 2's eigenvalues `lams` with $\tilde x_{0,i} = 1/\sqrt{\lambda_i}$ and
# gradient descent with $\eta = 1/L$: in the eigenbasis
# $f(x_k) - f^\star = \tfrac12\sum_i \lambda_i(1-\lambda_i/L)^{2k}\tilde x_{0,i}^2$. Compute it for $k = 0, \dots, 10^4$,
# **measure** its log-log slope over $[100, 10^4]$ with `smooth_convex.loglog_slope` (four decimals;
# the check accepts answers within 0.005 of its own measurement), and explain the number. Does the
# bound $L|x_0-x^\star|^2/(2k)$ still hold? Is it of any use here?

# %% nbgrader={"grade": false, "grade_id": "ex06_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
gap_4 = 0.5 * np.sum(lams * (1 - lams / L_ls) ** (2 * k[:, None]) / lams, axis=1)
answer_4 = smooth_convex.loglog_slope(k, gap_4, 100, steps)
print(f"slope {answer_4:.4f}; the bound holds at every k >= 1: "
      f"{np.all(gap_4[1:] <= L_ls * np.sum(1 / lams) / (2 * k[1:]))}")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex06_4_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.beyond_quadratics.flat_slope(answer_4)
