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
# Lessons 01 to 05 solved the methods exactly on quadratics. This lesson keeps what survives on other
# losses: with curvature at most $L$ a step of $1/L$ goes down; on convex functions whose curvature
# may vanish the rates become $1/k$ and, with Nesterov, $1/k^2$; on non-convex valleys we measure.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. define $L$-smoothness, derive the descent lemma and the guaranteed decrease $|\nabla f|^2/(2L)$ of a step $1/L$;
# 2. compute $L$ for logistic regression and check the guarantee, and that there is none for a step of $2.2/L$;
# 3. state the rates $O(1/k)$ of gradient descent and $O(1/k^2)$ of Nesterov's method on smooth convex
#    functions, and measure them as slopes on a log-log plot;
# 4. implement Nesterov's momentum sequence for convex functions;
# 5. say what the quadratic theory does and does not predict on the Rosenbrock and Beale valleys.
#
# ## Prerequisites
#
# Lessons 01 (gradient descent, $0 < \eta\lambda < 2$), 03 (the heavy ball), 04 (rates, the lower bound)
# and 05 (Nesterov's look-ahead, its region). About 55 minutes.

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
# $|\nabla f(x) - \nabla f(x')| \le L\,|x-x'|$ for all $x, x'$. For a twice differentiable $f$ this says
# every eigenvalue of the Hessian lies in $[-L, L]$; on a quadratic, $L = \max_i|\lambda_i|$ (the largest
# eigenvalue if it is convex). Write $x' - x = \delta$ and integrate the gradient along the segment:
#
# $$f(x') - f(x) - \nabla f(x)\cdot \delta = \int_0^1 \big(\nabla f(x + \vartheta \delta) - \nabla f(x)\big)\cdot \delta\,\mathrm{d}\vartheta
# \le \int_0^1 L\,\vartheta\,|\delta|^2\,\mathrm{d}\vartheta = \frac{L}{2}|\delta|^2 .$$
#
# That is the **descent lemma**: $f(x') \le f(x) + \nabla f(x)\cdot(x'-x) + \tfrac{L}{2}|x'-x|^2$, a
# parabola above $f$ touching it at $x$. Put in a gradient step $x' = x - \eta\nabla f(x)$:
#
# $$f(x - \eta\nabla f(x)) \le f(x) - \eta\Big(1 - \frac{L\eta}{2}\Big)|\nabla f(x)|^2 .$$
#
# Unless $\nabla f(x) = 0$, every $0 < \eta < 2/L$ guarantees a decrease, the largest guarantee is at $\eta = 1/L$:
#
# $$f\big(x - \nabla f(x)/L\big) \le f(x) - \frac{|\nabla f(x)|^2}{2L}.$$
#
# On $f = \tfrac{\lambda}{2}x^2$ the parabola is $f$ itself and $2/L$ is lesson 01's limit $2/\lambda$.
# Nothing here needs convexity or a quadratic.
#
# **A non-quadratic example: logistic regression.** With data rows $z_i \in \mathbb{R}^d$ (the rows of
# $Z$) and labels $\ell_i = \pm 1$, $f(w) = \frac1m\sum_i \phi(\ell_i z_i\cdot w)$ with
# $\phi(\zeta) = \log(1 + e^{-\zeta})$ has the Hessian $\frac1m\sum_i \phi''(\ell_i z_i\cdot w)\, z_i z_i^\top$.
# Since $\phi'' \le \tfrac14$ (reached at $\zeta = 0$),
#
# $$L = \frac{\lambda_{\max}(Z^\top Z)}{4m}.$$
#
# Random data ($m = 200$, $d = 5$) with random labels, so that the minimum lies near $w = 0$, where
# $\phi'' = \tfrac14$ and the curvature reaches $L$:

# %%
rng = np.random.default_rng(0)
m, d = 200, 5
Z = rng.standard_normal((m, d)) * np.array([3.0, 1.5, 1.0, 0.5, 0.2])
ell = rng.choice([-1.0, 1.0], size=m)


def f_log(w):
    return smooth_convex.logistic_loss(w, Z, ell)


def grad_log(w):
    return smooth_convex.logistic_grad(w, Z, ell)


L_log = np.linalg.eigvalsh(Z.T @ Z)[-1] / (4 * m)  # LAPACK
print(f"L = lambda_max(Z^T Z) / (4m) = {L_log:.4f}")

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
# Every step of $1/L$ decreased $f$ by at least the guarantee, at the tightest point by only 3.5 %
# more. With $2.2/L$ the lemma guarantees nothing, and from 126 points $f$ goes up, though from most
# it goes down further than with $1/L$ (figure below): a guarantee, not a prediction. One point where it
# goes up, near the minimum $w^\star$ along the Hessian's top eigenvector $v$:

# %%
w_star = np.zeros(d)
for _ in range(20):  # Newton's method (an algorithm independent of gradient descent)
    p_ = 1 / (1 + np.exp(-(Z @ w_star) * ell))
    H = Z.T @ (Z * (p_ * (1 - p_))[:, None]) / m
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
ax.set_ylabel(r"$\dfrac{f(w) - f(w - \eta\nabla f(w))}{|\nabla f(w)|^2/(2L)}$")
ax.set_title("One gradient step on logistic regression from 4,000 random points")
ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, markerscale=3)  # beside the points
plt.show()

# %% [markdown]
# ## 2. Convex but not strongly convex: $O(1/k)$ and $O(1/k^2)$
#
# With $\mu = 0$ (least squares with more unknowns than equations) $\kappa = \infty$ and the per-step
# rates of lessons 01 and 04 are 1. For a convex $L$-smooth $f$ with a minimiser $x^\star$ the
# guarantees are powers of $k$ instead:
#
# * gradient descent with $\eta = 1/L$: $\;f(x_k) - f^\star \le \dfrac{L|x_0-x^\star|^2}{2k}$
#   (Beck and Teboulle, 2009, "A fast iterative shrinkage-thresholding algorithm for linear inverse
#   problems", *SIAM J. Imaging Sciences* 2(1), Theorem 3.1);
# * Nesterov's method for convex functions,
#   $y_k = x_k + \beta_k(x_k - x_{k-1})$, $x_{k+1} = y_k - \tfrac1L\nabla f(y_k)$, $\beta_k = \frac{k-1}{k+2}$,
#   with $x_{-1} = x_0$ (so $\beta_0$ plays no part), the look-ahead of lesson 05 with a momentum that grows towards 1:
#   $\;f(x_k) - f^\star \le \dfrac{2L|x_0-x^\star|^2}{(k+1)^2}$ (Su, Boyd and Candès, 2016, "A
#   differential equation for modeling Nesterov's accelerated gradient method: theory and insights",
#   *JMLR* 17; the order is Nesterov's, 1983, "A method of solving a convex programming problem with
#   convergence rate $O(1/k^2)$", *Soviet Math. Doklady* 27, and Beck and Teboulle, 2009, Theorem 4.4,
#   prove it for the sequence $t_k$ of exercise 3).
#
# No first-order method beats the order $1/k^2$ on this class while $k \le (D-1)/2$ in dimension $D$
# (Nesterov, 2004, *Introductory Lectures on Convex Optimization*, Theorem 2.1.7); in exact
# arithmetic conjugate gradients would solve the problem below in 21 steps, one per distinct non-zero
# eigenvalue (Nocedal and Wright, 2006, *Numerical Optimization*, Theorem 5.4).
#
# **The problem.** $f(x) = \tfrac12|Ax-b|^2$ with 21 equations and 30 unknowns, so 9 zero
# eigenvalues of $A^\top A$, and 21 non-zero ones, $2\cdot10^{-j/2}$ for $j = 0,\dots,20$: two per
# decade from $L = 2$ down to $2\cdot10^{-10}$. To show the bounds' slopes, $b$ gives the error
# $x_0 - x^\star$ the same size along every non-zero eigen-direction, $\tilde x_{0,i} = 1$ (a random $b$
# puts almost all of it on the flattest ones, and gradient descent's slope is far flatter: exercise 4). The system
# is consistent: $f^\star = 0$.

# %%
lams = 2.0 * 10.0 ** (-np.arange(21) / 2)
U, _ = np.linalg.qr(rng.standard_normal((21, 21)))
V, _ = np.linalg.qr(rng.standard_normal((30, 30)))
A = U @ np.diag(np.sqrt(lams)) @ V[:, :21].T  # 21 x 30, singular values sqrt(lams)
x_target = V[:, :21] @ np.ones(21)  # error 1 along each eigen-direction with a non-zero eigenvalue
b = A @ x_target
dim = A.shape[1]  # D, the dimension


def f_ls(x):
    return 0.5 * np.sum((A @ x - b) ** 2)


def grad_ls(x):
    return A.T @ (A @ x - b)


L_ls = np.linalg.eigvalsh(A.T @ A)[-1]
x0 = np.zeros(dim)
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
gap_gd, gap_nag, path_nag = np.empty(steps + 1), np.empty(steps + 1), np.empty((steps + 1, dim))
x_gd, x, x_prev = x0.copy(), x0.copy(), x0.copy()
for k in range(steps + 1):
    gap_gd[k], gap_nag[k], path_nag[k] = f_ls(x_gd), f_ls(x), x  # f* = 0
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
print(f"from k = 10^3 to 10^4 the gap shrinks by {gap_gd[1000] / gap_gd[-1]:.1f} (gradient descent) and "
      f"{gap_nag[1000] / gap_nag[-1]:.0f} (Nesterov)")
print(f"f(x_k) goes up on {rises.size} of Nesterov's 10,000 steps (gradient descent: {np.sum(np.diff(gap_gd) > 0)})")
# f = sum over eigen-components j of lam_j c_j^2 / 2: which component's share grows most at each rise?
energy = 0.5 * lams * ((path_nag - x_star) @ V[:, :21]) ** 2
j_top = np.diff(energy, axis=0)[rises].argmax(axis=1)
print(f"the first rise is at step {rises[0]}; at every rise the largest increase is in a component j = "
      f"{j_top.min()} to {j_top.max()} (lam = {lams[j_top.max()]:.0e} to {lams[j_top.min()]:.0e}), "
      f"with lam_j k^2 / L from {np.min(lams[j_top] * rises**2 / L_ls):.0f} to {np.max(lams[j_top] * rises**2 / L_ls):,.0f}; "
      f"the two flattest components keep {np.min(energy[-1, -2:] / energy[0, -2:]):.1%} of their share at k = 10^4")
assert f"{gap_gd[1000] / gap_gd[-1]:.1f} {gap_nag[1000] / gap_nag[-1]:.0f}" == "10.0 97"
assert rises[0] == 1339 and (j_top.min(), j_top.max()) == (8, 12) and np.allclose(energy.sum(1), gap_nag, rtol=1e-9)
assert np.min(lams[j_top] * rises**2 / L_ls) > 50 and np.min(energy[-1, -2:] / energy[0, -2:]) > 0.9
assert np.all(gap_gd[1:] <= bound_gd[1:]) and np.all(gap_nag[1:] <= bound_nag[1:])
assert abs(slope_gd + 1) < 0.05 and abs(slope_nag + 2) < 0.1  # the tolerances the text states
assert rises.size == 500 and np.sum(np.diff(gap_gd) > 0) == 0
assert f"{slope_gd:.3f} {slope_nag:.3f}" == "-0.999 -1.975"  # the numbers the text quotes
assert f"{gap_gd[-1] / bound_gd[-1]:.2f} {gap_nag[-1] / bound_nag[-1]:.2f}" == "0.02 0.04"

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.8))
shown = np.unique(np.rint(np.geomspace(1, steps, 1500)).astype(int))  # enough points to show the ripples
ax.loglog(k[shown], gap_gd[shown], color=plotting.METHOD_COLORS["gd"], linestyle=plotting.METHOD_LINESTYLES["gd"],
          label=rf"gradient descent, $\eta = 1/L$ (slope {slope_gd:.3f})")
ax.loglog(k[shown], gap_nag[shown], color=plotting.METHOD_COLORS["nesterov"],
          linestyle=plotting.METHOD_LINESTYLES["nesterov"],
          label=rf"Nesterov, $\eta = 1/L$, $\beta_k = (k-1)/(k+2)$ (slope {slope_nag:.3f})")
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
# Both bounds hold at every step, and the slopes over $k \in [100, 10^4]$ are $-0.999$ and $-1.975$. From $k = 10^3$ to $10^4$ gradient
# descent's gap shrinks 10.0-fold, Nesterov's 97-fold. Nesterov's loss rises on 500 steps from step
# 1,339 on (the ripples). At every rise the component gaining most is one of $j = 8$
# to 12 ($\lambda_j k^2/L \ge 56$): components reached earlier that now overshoot. Both methods sit far below their bounds
# (2 % and 4 % at $k = 10^4$): a bound gives the order, the problem the constant.
#
# ## 3. Strongly convex, not quadratic: a guarantee for Nesterov's textbook tuning
#
# If $f$ is also $\mu$-strongly convex (every Hessian eigenvalue $\ge \mu > 0$), Nesterov's method with
# constant $\eta = 1/L$ and $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$ satisfies
#
# $$f(x_k) - f^\star \le \Big(1-\frac{1}{\sqrt\kappa}\Big)^k\Big(f(x_0)-f^\star+\frac{\mu}{2}|x_0-x^\star|^2\Big)$$
#
# on every such function, not only on quadratics (Nesterov, 2004, section 2.2.1, the constant-step
# scheme with $\gamma_0 = \mu$). The heavy ball at Polyak's quadratic-optimal pair has no such
# guarantee: lesson 05 shows Lessard et al.'s function on which, at Polyak's pair for
# $[\mu, L] = [1, 25]$, it cycles from 10.3 % of 20,001 starts at rest in $[-10, 10]$. Check the bound on section 1's logistic loss
# plus $\tfrac{\mu}{2}|w|^2$ with $\kappa = (L_{\log} + \mu)/\mu = 100$, while $f - f^\star > 10^{-12}$
# (below that, rounding):

# %%
mu_r = L_log / 99
L_r = L_log + mu_r


def f_reg(w):
    return f_log(w) + 0.5 * mu_r * np.sum(w * w, axis=-1)


def grad_reg(w):
    return grad_log(w) + mu_r * w


w_opt = np.zeros(d)
for _ in range(30):  # Newton's method for f*
    p_ = 1 / (1 + np.exp(-(Z @ w_opt) * ell))
    w_opt = w_opt - np.linalg.solve(Z.T @ (Z * (p_ * (1 - p_))[:, None]) / m + mu_r * np.eye(d), grad_reg(w_opt))
w0 = np.full(d, 3.0)
path_r = smooth_convex.nesterov_strongly_convex(grad_reg, w0, L_r, mu_r, 150)
gap_r = f_reg(path_r) - f_reg(w_opt)
bound_r = (1 - 0.1) ** np.arange(151) * (f_reg(w0) - f_reg(w_opt) + mu_r / 2 * np.sum((w0 - w_opt) ** 2))
runs_r = {"Nesterov": gap_r}
eta_p, beta_p = 4 / (np.sqrt(L_r) + np.sqrt(mu_r)) ** 2, ((np.sqrt(L_r) - np.sqrt(mu_r)) / (np.sqrt(L_r) + np.sqrt(mu_r))) ** 2
for name, lr_, beta_ in [("heavy ball at Polyak's pair", eta_p, beta_p), ("gradient descent, 1/L", 1 / L_r, 0.0)]:
    w, w_prev, path = w0.copy(), w0.copy(), [w0.copy()]
    for _ in range(150):
        w, w_prev = w - lr_ * grad_reg(w) + beta_ * (w - w_prev), w
        path.append(w)
    runs_r[name] = f_reg(np.array(path)) - f_reg(w_opt)
for name, gap_ in runs_r.items():
    above = np.flatnonzero(gap_ > 1e-12)
    below = f"below from k = {above.max() + 1:3d} on" if above.max() < 150 else "never below (150 steps)"
    print(f"{name:28s}: f - f* above 1e-12 up to k = {above.max():3d}, {below}; "
          f"largest gap / bound for 1 <= k <= {above.max()}: {np.max(gap_[above[1:]] / bound_r[above[1:]]):.3f}")
ratio_r = {name: np.max((gap_ / bound_r)[1:][gap_[1:] > 1e-12]) for name, gap_ in runs_r.items()}
assert ratio_r["Nesterov"] < 1 and np.flatnonzero(gap_r > 1e-12).max() == 119
assert ratio_r["heavy ball at Polyak's pair"] < 1 and f"{ratio_r['gradient descent, 1/L']:,.0f}" == "3,066"
assert np.flatnonzero(runs_r["heavy ball at Polyak's pair"] > 1e-12).max() + 1 == 83  # Nesterov: 120

# %% [markdown]
# Nesterov stays below its bound while the gap is above rounding (gradient descent exceeds it
# 3,066-fold). The heavy ball at Polyak's pair also stays below it, and is faster (below $10^{-12}$
# from $k = 83$ on, Nesterov from $k = 120$): a guarantee covers every function of the class; it does
# not rank methods on one.

# %% [markdown]
# ## 4. Non-convex valleys: Rosenbrock and Beale
#
# Rosenbrock's valley (Rosenbrock, 1960, "An automatic method for finding the greatest or least value
# of a function", *The Computer Journal* 3(3)), on the plane with coordinates $(u, v)$, has $f^\star = 0$
# at $(1, 1)$ and $\kappa \approx 2500$ there. It is not convex, and not $L$-smooth on the plane: its
# Hessian entry $\partial^2 f/\partial u^2 = 1200u^2 - 400v + 2$ is unbounded. On the set $f \le f(x_0)$ of the start $x_0 = (-1.5, 2)$ its largest
# eigenvalue is about $1.67\cdot10^4$ (far along the valley). For an $L$-smooth non-convex $f$, summing
# section 1's guarantee over $k+1$ steps of $1/L$ leaves only
# $\min_{j\le k}|\nabla f(x_j)|^2 \le 2L(f(x_0)-f^\star)/(k+1)$: a small gradient, not a small gap.
# Steps of $1/L$ with this $L$ stay inside the set (checked along each), so the lemma applies to them
# and the bound holds, loosely: $\min_j|\nabla f|^2$ reaches at most 0.116 of it. The rest we measure.

# %%
rosen = surfaces.get("rosenbrock")


def rosen_hessian(u, v):
    """The Hessian of (1 - u)^2 + 100 (v - u^2)^2, by hand."""
    return np.array([[2 - 400 * (v - u**2) + 800 * u**2, -400 * u], [-400 * u, 200.0]])


def fd_hessian(grad, p, h=1e-5):
    """The Hessian by central differences of the gradient, column by column."""
    return np.column_stack([(grad(p + h * e) - grad(p - h * e)) / (2 * h) for e in np.eye(2)])


x_line = np.linspace(1 - np.sqrt(12.5), 1 + np.sqrt(12.5), 200_001)  # f <= f(x0) = 12.5 needs |1 - x| <= sqrt(12.5)
top_set, x_top = 0.0, None
for side in (-1, 1):  # on the set's two edges y = x^2 +- its half-width (the largest eigenvalue is largest there)
    y_line = x_line**2 + side * np.sqrt(np.maximum(12.5 - (1 - x_line) ** 2, 0) / 100)
    h11, h12 = 2 - 400 * (y_line - x_line**2) + 800 * x_line**2, -400 * x_line  # the Hessian; h22 = 200
    top_edge = (h11 + 200) / 2 + np.sqrt(((h11 - 200) / 2) ** 2 + h12**2)
    if top_edge.max() > top_set:
        top_set, x_top = top_edge.max(), x_line[top_edge.argmax()]
gd_run = optimizers.run(rosen, rosen.start, "gd", 1 / top_set, 0.0, steps=1000)  # steps of 1/L with that L
min_grad2 = np.minimum.accumulate(np.sum(rosen.grad(gd_run.points) ** 2, axis=-1))
bound_grad = 2 * top_set * rosen.f(rosen.start) / (np.arange(1001) + 1)
pts = gd_run.points  # every step's segment stays in f <= f(x0), where the Hessian is bounded by top_set:
on_segments = pts[:-1, None] + np.linspace(0, 1, 11)[None, :, None] * np.diff(pts, axis=0)[:, None]
inside = rosen.f(on_segments).max() <= rosen.f(rosen.start)
print(f"every step's segment stays in f <= f(x0): {inside}; the largest min_j |grad f|^2 / bound is "
      f"{np.max(min_grad2 / bound_grad):.3f} (at k = {np.argmax(min_grad2 / bound_grad)})")
assert inside and f"{np.max(min_grad2 / bound_grad):.3f}" == "0.116"
print(f"f(x0) = {rosen.f(rosen.start):.1f}; largest Hessian eigenvalue on f <= f(x0): {top_set:,.0f} (at u = {x_top:.2f}); gradient "
      f"descent at 1/L, 1,000 steps: min_j |grad f|^2 below its bound at every k: {np.all(min_grad2 <= bound_grad)}")
assert rosen.f(rosen.start) == 12.5 and round(top_set, -2) == 16_700 and np.all(min_grad2 <= bound_grad)
assert x_top > 4.5 and np.isclose(top_set, np.linalg.eigvalsh(fd_hessian(rosen.grad, np.array([x_top, x_top**2 - np.sqrt(
    (12.5 - (1 - x_top) ** 2) / 100)])))[-1], rtol=1e-4)  # the edge point, by finite differences

# %% [markdown]
# **The explorer: heavy ball against Nesterov.** Rosenbrock with $\eta = 10^{-3}$ and $\beta = 0.9$,
# 600 steps; blue is gradient descent, vermillion (dashed) the heavy ball (the explorer's
# "momentum"), green (dash-dotted) Nesterov in PyTorch's form.

# %%
explorer = TrajectoryExplorer(surface="rosenbrock", lr=1e-3, momentum=0.9, steps=600)
hb_run, nag_run = explorer.runs["momentum"], explorer.runs["nesterov"]
behind = hb_run.losses > nag_run.losses
ratio = hb_run.losses / nag_run.losses
print(f"Nesterov's loss at step 3: {nag_run.losses[3]:.0f} (heavy ball {hb_run.losses[3]:.1f}); the heavy ball's loss is "
      f"above Nesterov's at every step from {np.flatnonzero(~behind).max() + 1} to 600")
first = np.linalg.norm(nag_run.points[1] - nag_run.points[0]) / np.linalg.norm(hb_run.points[1] - hb_run.points[0])
print(f"Nesterov's first step / the heavy ball's: {first:.2f}")
print(f"heavy ball / Nesterov loss: at step 100 {ratio[100]:.0f} (the largest from step 8 on), at step 600 {ratio[600]:.1f}")
assert np.isclose(first, 1.9)
assert np.flatnonzero(~behind).max() + 1 == 8 and behind[8:].all() and f"{nag_run.losses[3]:.0f}" == "281"
assert ratio[8:].argmax() + 8 == 100 and f"{ratio[100]:.0f}" == "22" and f"{ratio[600]:.1f}" == "2.6"
explorer

# %% [markdown]
# Nesterov's first steps jump across the valley: PyTorch's first step is $1+\beta = 1.9$ times the
# heavy ball's, and its loss climbs to 281 at step 3. From step 8 on it stays below the heavy ball's,
# 22 times below at step 100 and still 2.6 times at step 600. Try $\beta$ = 0, 0.5, 0.9, 0.97, raise
# $\eta$ until a path diverges (Nesterov first, below), or switch to Beale with the dropdown.
#
# **The heavy ball, 600 steps, $\eta = 10^{-3}$.** The final loss falls as $\beta$ grows from 0 to
# 0.97; the steps are longer than gradient descent's (median over steps 20 to 300: 2.0, 7.4 and 5.0
# times) and overshoot: the loss rises on some steps (never for gradient descent), and with
# $\beta = 0.97$ the path runs past the minimum to $u = 1.43$.

# %%
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
          f"largest u {r.points[:, 0].max():+.2f}")
    assert (np.sum(np.diff(r.losses) > 0) == 0) == (beta == 0)  # only gradient descent never overshoots here
    assert (r.points[:, 0].max() > 1) == (beta == 0.97)  # only beta = 0.97 runs past the minimum's x = 1
    assert beta != 0.97 or round(r.points[:, 0].max(), 2) == 1.43
assert all(a > b for a, b in zip(losses_600, losses_600[1:], strict=False))
assert [round(m_ / median_steps[0], 1) for m_ in median_steps[1:]] == [2.0, 7.4, 5.0]

# %% [markdown]
# **What the quadratic theory predicts, and what not.** Near the minimum it predicts the rate: at
# $\eta = 10^{-3}$, $\beta = 0.9$, the heavy ball's loss shrinks by 0.99172
# per step over steps 2,000 to 2,500, and lesson 03's $2\times2$ matrix with the minimum's smallest
# eigenvalue $\lambda = 0.3994$ gives $\max|\sigma|^2 = 0.99172$. Its limit
# $\eta < (2+2\beta)/L_{\text{local}}$ (lesson 03, $L_{\text{local}} \approx 1001.6$) is necessary: every
# learning rate above 0.00239 (63 % of it) diverges ($\beta = 0.9$, this start, 600 steps, a grid of step
# $10^{-5}$ up to 0.00399). It does not say where divergence starts: first at 0.00208 (55 % of the
# limit); up to 0.00239
# diverging and bounded rates alternate (11 of 32 stay bounded; all converge when continued to 5,000
# steps). The start's curvature (about 2,100) does not give it either: its limit 0.001816 is passed
# by converging runs. Nesterov diverges first, from 0.00113.

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
diverged_n = np.asarray(optimizers.run(rosen, rosen.start, "nesterov", lr_try, 0.9, steps=600).diverged)
print(f"  Nesterov on the same grid: the first lr to diverge is {lr_try[diverged_n].min():.5f}")
assert lr_try[diverged_n].min() == 0.00113
long_hb = optimizers.run(rosen, rosen.start, "momentum", 1e-3, 0.9, steps=2500)
measured = np.exp(np.polyfit(np.arange(2000, 2501), np.log(long_hb.losses[2000:]), 1)[0])
M_min = np.array([[1 + 0.9 - 1e-3 * eig_min[0], -0.9], [1.0, 0.0]])  # lesson 03's matrix, smallest lambda
predicted = np.max(np.abs(np.linalg.eigvals(M_min))) ** 2  # the loss shrinks as the error squared
print(f"lr = 1e-3, beta = 0.9: loss factor per step over steps 2,000-2,500 {measured:.5f}; the 2x2 matrix at "
      f"lambda = {eig_min[0]:.4f} predicts {predicted:.5f}")
assert f"{measured:.5f} {predicted:.5f} {eig_min[0]:.4f}" == "0.99172 0.99172 0.3994"

# %% [markdown]
# **Nesterov against the heavy ball, on grids.** Both methods at the same $(\eta, \beta)$ on a grid
# of 40 learning rates by 34 momenta, 1,000 steps, from six starts per surface (on Rosenbrock the
# explorer's start, the classic $(-1.2, 1)$ and four more around the valley; on Beale's function, E. M.
# L. Beale, 1958, "On an iterative method for finding a local minimum of a function of more than one
# variable", Princeton technical report 25, its start $(1, 1.5)$ and five more around the minimum
# $(3, 0.5)$). Counted: the steps on which the loss goes up, the settings that diverge (leave the box
# $\max(|u|, |v|) \le 1000$ within the steps), and the settings that reach $f - f^\star \le 10^{-8}$ and
# stay there. Nesterov's loss is taken at PyTorch's stored look-ahead point.

# %%
def loss_increases(losses):
    """Steps on which the loss went up (a diverged run's NaNs count as a huge constant loss)."""
    return np.sum(np.diff(np.nan_to_num(losses, nan=1e300), axis=-1) > 0, axis=-1)


def settled_at(gap, tol):
    """First step after which gap stays <= tol (per configuration); 0 if it is from the start, len(gap) if it
    never is."""
    above = ~(np.nan_to_num(gap, nan=np.inf) <= tol)
    n_ = above.shape[-1]
    last_above = n_ - np.argmax(above[..., ::-1], axis=-1)  # one past the last step above tol
    return np.where(above[..., -1], n_, np.where(above.any(axis=-1), last_above, 0))


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
diff_ros = np.concatenate([reach["rosenbrock", st]["diff"] for st in grid_starts["rosenbrock"]])
hb_faster = [st for st in grid_starts["beale"]
             if np.sum(reach["beale", st]["diff"] > 0) > np.sum(reach["beale", st]["diff"] < 0)]
print(f"rosenbrock: both reach 1e-8 at {diff_ros.size} of the 6 x 1,360 = 8,160 settings; Nesterov is sooner at "
      f"{np.sum(diff_ros < 0)}, later at {np.sum(diff_ros > 0)}")
print(f"beale: the heavy ball is faster at more of the settings where both reach 1e-8 from {len(hb_faster)} of 6 starts")
assert (diff_ros.size, np.sum(diff_ros < 0), np.sum(diff_ros > 0)) == (18, 13, 5) and len(hb_faster) == 5

# %% [markdown]
# Consistent with lesson 05's explanation (in steep directions Nesterov's effective momentum
# $\beta(1-\eta\lambda)$ is smaller, so it rings less), from every start, where both stay bounded and $\beta \ge 0.5$, its loss rises fewer
# times than the heavy ball's in more than three times as many settings as more times (63-99 % against
# 1-19 % on Rosenbrock, 12-81 % against 1-4 % on Beale, where most others are ties with no rise). Its narrower region on a quadratic (lesson 05) shows too: from every start it
# diverges at more settings (1.17 to 2.03 times as many on Rosenbrock, 1.04 to 3.38 on Beale). Which
# is faster depends on the start and setting: both reach $10^{-8}$ at only 18 of the
# 8,160 Rosenbrock settings, and Nesterov is sooner at 13 of them, while on Beale the heavy ball is
# faster at more of the common settings from 5 of the 6 starts. And fewer
# overshoots are not a faster run:

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
final = {}
for ax, (name, lr_c, beta_c) in zip(axes, [("rosenbrock", 1e-3, 0.9), ("beale", 1e-3, 0.95)], strict=True):
    s = surfaces.get(name)
    for method in ["momentum", "nesterov"]:
        r = optimizers.run(s, s.start, method, lr_c, beta_c, steps=1000)
        final[name, method] = (loss_increases(r.losses), r.losses[-1] - s.f_min)
        label = {"momentum": "heavy ball", "nesterov": "Nesterov"}[method]
        plotting.loss_curve(ax, r.losses, s.f_min, method, label=label)
        print(f"{name:10s} lr = {lr_c:g}, beta = {beta_c}: {label:10s} loss increases {final[name, method][0]:4d}, "
              f"final f - f* {final[name, method][1]:.2e}")
    ax.set_title(rf"{name.capitalize()}, $\eta$ = {lr_c:g}, $\beta$ = {beta_c}, from ({s.start[0]:g}, {s.start[1]:g})")
    ax.legend(loc="upper right")
ratio_beale = final["beale", "nesterov"][1] / final["beale", "momentum"][1]
print(f"beale: Nesterov's final f - f* / the heavy ball's = {ratio_beale:.1f}")
assert final["rosenbrock", "nesterov"][1] < final["rosenbrock", "momentum"][1]  # still ahead at step 1000
assert (final["beale", "nesterov"][0], final["beale", "momentum"][0]) == (60, 109)  # fewer overshoots ...
assert f"{ratio_beale:.0f}" == "9"  # ... and about nine times higher at the end
fig.tight_layout()
plt.show()

# %% [markdown]
# On Rosenbrock Nesterov is still ahead at step 1,000. On Beale at $\eta = 10^{-3}$, $\beta = 0.95$,
# 1,000 steps from $(1, 1.5)$, its loss goes up at fewer steps (60 against 109) but ends about nine
# times higher.
#
# ## Summary
#
# * An $L$-smooth $f$ lies below the parabola $f(x) + \nabla f(x)\cdot(x'-x) + \tfrac L2|x'-x|^2$; a
#   step $1/L$ decreases it by at least $|\nabla f|^2/(2L)$. On logistic regression
#   ($L = \lambda_{\max}(Z^\top Z)/(4m)$) 4,000 random points obeyed this, the tightest with 3.5 % to
#   spare; a step $2.2/L$ increased $f$ at 126 of them.
# * Convex with $\mu = 0$: gradient descent at $\eta = 1/L$ has $f(x_k)-f^\star \le L|x_0-x^\star|^2/(2k)$,
#   Nesterov with $\beta_k = (k-1)/(k+2)$ has $2L|x_0-x^\star|^2/(k+1)^2$. On least squares with 9 zero
#   eigenvalues and a spectrum over ten decades, with the same error along every eigen-direction, both
#   held up to $10^4$ steps, with log-log slopes $-0.999$ and $-1.975$ (with the same share of $f$ per
#   direction instead, gradient descent's is far flatter: exercise 4).
# * Strongly convex but not quadratic: Nesterov's textbook tuning kept below its guaranteed
#   $(1-1/\sqrt\kappa)^k$ bound on regularised logistic regression ($\kappa = 100$) while
#   $f - f^\star > 10^{-12}$, over 150 steps from $w_0 = (3, \dots, 3)$; so did the heavy ball at
#   Polyak's pair, which has no such guarantee.
# * Rosenbrock is not $L$-smooth on the plane. At its minimum the $2\times2$ matrix predicted the heavy
#   ball's rate at $\eta = 10^{-3}$, $\beta = 0.9$ over steps 2,000 to 2,500 (0.99172 per step), but at
#   $\beta = 0.9$, from one start, over 600 steps, divergence began at 55 % of the quadratic limit. On
#   grids of $(\eta, \beta)$, 1,000 steps, twelve starts, where both stay bounded and $\beta \ge 0.5$:
#   Nesterov's loss rose fewer times than the heavy ball's over three times as often as more times; it
#   diverged at more settings; which is faster varied; fewer rises did not mean a faster run.
#
# ## Checks
#
# The per-start numbers behind section 4's summary, and the checks of section 1's $L$ by an
# independent computation. A student may skip this section.
#
# **$L$ of the logistic loss** by central differences of the gradient: the Hessian's largest
# eigenvalue at $w = 0$ equals $L$, and at 300 random points it stays below $L$; the descent
# lemma's parabola lies above $f$ at 4,000 random pairs of close points near $w = 0$ (where the
# curvature is $L$: with $0.95L$ in place of $L$ it fails at some of them).

# %%
h, E = 1e-5, np.eye(d)
W_h = rng.standard_normal((300, d))
H_fd = np.stack([(grad_log(W_h + h * e) - grad_log(W_h - h * e)) / (2 * h) for e in E], axis=-1)
top = np.linalg.eigvalsh((H_fd + np.swapaxes(H_fd, -1, -2)) / 2)[:, -1]
top0 = np.linalg.eigvalsh(np.column_stack([(grad_log(h * e) - grad_log(-h * e)) / (2 * h) for e in E]))[-1]
Xa, Ya = rng.standard_normal((2, 4000, d)) * 0.05


def lemma_gap(L_try):
    """f(x') minus the parabola f(x) + grad f(x).(x' - x) + L_try/2 |x' - x|^2 at the 4,000 pairs."""
    return f_log(Ya) - (f_log(Xa) + np.sum(grad_log(Xa) * (Ya - Xa), -1) + L_try / 2 * np.sum((Ya - Xa) ** 2, -1))


print(f"top Hessian eigenvalue at w = 0: {top0:.6f} (L = {L_log:.6f}); at 300 random points at most "
      f"{top.max() / L_log:.3f} L; the parabola lies above f at every pair: with L {np.all(lemma_gap(L_log) <= 1e-12)}, "
      f"with 0.95 L {np.all(lemma_gap(0.95 * L_log) <= 1e-12)}, with 0.9 L {np.all(lemma_gap(0.9 * L_log) <= 1e-12)}")
assert np.isclose(top0, L_log, rtol=1e-6) and np.all(top <= L_log * (1 + 1e-6)) and np.all(lemma_gap(L_log) <= 1e-12)
assert not np.all(lemma_gap(0.95 * L_log) <= 1e-12)

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
assert reach["rosenbrock", (-1.0, -0.5)]["diff"].size == 0
assert sum(reach["beale", st]["ok"][0] > reach["beale", st]["ok"][1] for st in bea) == 5
assert sum(reach["beale", st]["fewest"][0] < reach["beale", st]["fewest"][1] for st in bea) == 3
assert hb_faster == [st for st in bea if st != (4.0, 1.0)]  # the heavy ball faster more often from 5 of 6 starts
assert [np.median(reach["beale", st]["diff"]) for st in bea] == [5, 8, 5, -14, 2, 4]
r0b = reach["beale", (1.0, 1.5)]
assert r0b["diff"].size == 138 and np.sum(r0b["diff"] > 0) == 103 and np.sum(r0b["diff"] < 0) == 26

# %% [markdown]
# ## Exercises
#
# Each exercise ends with a check that says whether your answer is right and, if not, what to
# look at. The solution is the marked part of the exercise's cell (a student copy has a stub there).
#
# ### Exercise 1 (recall)
#
# $f$ is $L$-smooth with $L = 5$, and at the point $x$ the gradient has norm $|\nabla f(x)| = 3$. By
# at least how much does one gradient step with $\eta = 1/L$ decrease $f$? (Within 0.1 %.)

# %% nbgrader={"grade": false, "grade_id": "ex06_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = 3.0**2 / (2 * 5.0)
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
# `(steps + 1, len(x0))`) of $y_k = x_k + \beta_k(x_k - x_{k-1})$, $x_{k+1} = y_k - \nabla f(y_k)/L$. The check
# compares every iterate with a reference on three problems, to a relative $10^{-9}$. Do not call
# `smooth_convex.nesterov_convex` or `smooth_convex.momentum_sequence`: the check refuses an answer that does.

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
# A random $b$ instead gives every eigen-direction, on average, the same share of $f(x_0)$, that is
# $\lambda_i \tilde x_{0,i}^2$ the same for all $i$. Take section 2's eigenvalues `lams` with $\tilde x_{0,i} = 1/\sqrt{\lambda_i}$ and
# gradient descent with $\eta = 1/L$: in the eigenbasis
# $f(x_k) - f^\star = \tfrac12\sum_i \lambda_i(1-\lambda_i/L)^{2k}\tilde x_{0,i}^2$. Compute it for $k = 0, \dots, 10^4$,
# **measure** its log-log slope over $[100, 10^4]$ with `smooth_convex.loglog_slope` (four decimals;
# the check accepts answers within 0.0005 of its own measurement), and explain the number. Does the
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


# %% [markdown]
# ### Exercise 5 (apply)
#
# Logistic regression on the data rows of `Z_5` below (50 rows, 3 columns). Compute `L_5`, the
# smoothness constant $L$ of section 1 for this data, with NumPy. (Within 0.1 %.)

# %% nbgrader={"grade": false, "grade_id": "ex06_5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
Z_5 = np.random.default_rng(5).standard_normal((50, 3)) * np.array([2.0, 1.0, 0.5])
### BEGIN SOLUTION
L_5 = np.linalg.eigvalsh(Z_5.T @ Z_5)[-1] / (4 * Z_5.shape[0])
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex06_5_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.beyond_quadratics.logistic_L(L_5)


# %% [markdown]
# ### Exercise 6 (apply)
#
# Near Rosenbrock's minimum the Hessian's eigenvalues are `eig_min` (section 4: 0.3994 and 1001.6).
# With lesson 03's $2\times2$ matrix for one eigen-component, predict `rate_6`: the factor by which the
# heavy ball's **loss** shrinks per step in the long run at $\eta = 2\cdot10^{-3}$, $\beta = 0.8$ near the
# minimum. (Within 0.001 %.) Section 4 checked the same prediction at $\eta = 10^{-3}$, $\beta = 0.9$.

# %% nbgrader={"grade": false, "grade_id": "ex06_6_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
rate_6 = max(np.max(np.abs(np.linalg.eigvals(np.array([[1 + 0.8 - 2e-3 * lam, -0.8], [1.0, 0.0]])))) ** 2
             for lam in eig_min)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex06_6_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.beyond_quadratics.rosenbrock_rate(rate_6)
