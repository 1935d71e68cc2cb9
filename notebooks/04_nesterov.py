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
# # Lesson 04: Nesterov momentum
#
# The heavy ball of lesson 03 computes the gradient where it *is* and then coasts on its
# momentum. Nesterov's method first coasts and then computes the gradient where it is
# *about to be*: a look-ahead. The change is one line of code. This lesson writes it in its
# three forms, proves that PyTorch's odd-looking version is the same method, reduces it on a
# quadratic to a heavy ball whose momentum depends on the curvature, and then measures where
# that helps and where it does not.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write Nesterov's update in the look-ahead form (Nesterov 1983; Sutskever et al. 2013) and
#    in PyTorch's form, and prove that they produce the same points;
# 2. write its $2\times2$ matrix on one eigen-component and read it as a heavy ball with momentum
#    $\beta(1-\eta\lambda)$;
# 3. derive its convergence region $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$, narrower than the
#    heavy ball's;
# 4. say, with measurements, where it beats the heavy ball (too much momentum, saddles, damping of
#    oscillations, convergence guarantees beyond quadratics) and where it does not (the best
#    tuning on a quadratic, large steps).
#
# ## Prerequisites
#
# Lesson 03 (the heavy ball, its $2\times2$ matrix, the regimes and the optimal pair). About
# 45 minutes.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import lessons_lib
from lessons_lib import checks, optimizers, plotting, surfaces, theory
from lessons_lib.widgets import TrajectoryExplorer

lessons_lib.setup()

# %% [markdown]
# ## 1. The look-ahead gradient
#
# Heavy ball (lesson 03, Sutskever form), with velocity $v$:
#
# $$v_{k+1} = \mu v_k - \eta\,\nabla f(x_k), \qquad x_{k+1} = x_k + v_{k+1}.$$
#
# The step is the momentum part $\mu v_k$, which is decided before the gradient is even looked
# at, plus a gradient step. Nesterov's idea (Y. Nesterov, *A method for solving the convex
# programming problem with convergence rate $O(1/k^2)$*, Soviet Math. Doklady 27, 1983), in the
# form Sutskever, Martens, Dahl and Hinton gave it (ICML 2013, *On the importance of
# initialization and momentum in deep learning*): since the momentum part will be taken anyway,
# evaluate the gradient at the point it leads to,
#
# $$v_{k+1} = \mu v_k - \eta\,\nabla f(x_k + \mu v_k), \qquad x_{k+1} = x_k + v_{k+1}.$$
#
# If the momentum is about to carry the iterate up the far wall of a valley, the look-ahead
# gradient already points back and corrects the step. One step from the same state, drawn:

# %%
valley = surfaces.get("quadratic")  # 0.1 x^2 + 2 y^2
x_now, v_now, mu_demo, lr_demo = np.array([-5.0, -1.2]), np.array([1.0, 1.8]), 0.9, 0.2
ahead = x_now + mu_demo * v_now
hb_next = ahead - lr_demo * valley.grad(x_now)
nag_next = ahead - lr_demo * valley.grad(ahead)
print(f"state x = {x_now}, velocity v = {v_now}; look-ahead x + mu v = {ahead}")
print(f"heavy ball next point  {hb_next}  (loss {valley.f(hb_next):.3f})")
print(f"Nesterov next point    {nag_next}  (loss {valley.f(nag_next):.3f})")
assert valley.f(nag_next) < valley.f(hb_next)

fig, ax = plt.subplots(figsize=(9, 3.8))
plotting.contour(ax, valley)
arrow = dict(arrowstyle="->", linewidth=1.8)
ax.annotate("", ahead, x_now, arrowprops=dict(arrow, color="0.4"))
ax.annotate("", hb_next, ahead, arrowprops=dict(arrow, color=plotting.METHOD_COLORS["momentum"]))
ax.annotate("", nag_next, ahead, arrowprops=dict(arrow, color=plotting.METHOD_COLORS["nesterov"]))
ax.plot(*x_now, "ks", markersize=6)
ax.text(x_now[0] - 0.45, x_now[1] - 0.55, "$x_k$")
ax.text(*(x_now + 0.5 * mu_demo * v_now + [-0.75, 0.0]), r"$\mu v_k$", color="0.3")
ax.text(*(ahead + [0.15, 0.2]), r"$x_k + \mu v_k$")
ax.plot(*hb_next, "o", color=plotting.METHOD_COLORS["momentum"], label=r"heavy ball: $-\eta\nabla f(x_k)$")
ax.plot(*nag_next, "o", color=plotting.METHOD_COLORS["nesterov"], label=r"Nesterov: $-\eta\nabla f(x_k+\mu v_k)$")
ax.set_xlim(-7, 1)
ax.set_ylim(-2.5, 3)
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9)
ax.set_title("one step from the same state")
fig.tight_layout()
plt.show()

# %% [markdown]
# The heavy ball's gradient, computed at $x_k$ (low on the wall), is too weak to stop the
# momentum and it climbs the far wall; Nesterov's, computed where the momentum arrives, pulls
# back harder. As code, next to Nesterov's own 1983 form (constant $\beta$ here), which
# extrapolates first and then takes a gradient step from the extrapolated point $y_k$:
#
# $$y_k = x_k + \beta(x_k - x_{k-1}), \qquad x_{k+1} = y_k - \eta\nabla f(y_k).$$
#
# With $v_k = x_k - x_{k-1}$ this is the Sutskever form, and $y_k = x_k + \mu v_k$ is the
# look-ahead point. (Nesterov's 1983 scheme for convex functions uses a growing
# $\beta_k = (t_k - 1)/t_{k+1}$ with $t_{k+1} = (1+\sqrt{1+4t_k^2})/2$ and proves an
# $O(1/k^2)$ bound on $f(x_k) - f^\star$; with a constant $\beta$ it is the method for strongly
# convex functions studied here.)

# %%
def nesterov_sutskever(grad, x0, lr, mu, steps):
    """v_{k+1} = mu v_k - lr grad(x_k + mu v_k), x_{k+1} = x_k + v_{k+1}. Returns (x_k, look-ahead x_k + mu v_k)."""
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    xs, ahead = [x.copy()], [x.copy()]
    for _ in range(steps):
        v = mu * v - lr * grad(x + mu * v)
        x = x + v
        xs.append(x.copy())
        ahead.append(x + mu * v)
    return np.array(xs), np.array(ahead)


def nesterov_1983(grad, x0, lr, beta, steps):
    """y_k = x_k + beta (x_k - x_{k-1}), x_{k+1} = y_k - lr grad(y_k), x_{-1} = x_0."""
    x = np.array(x0, dtype=float)
    previous = x.copy()
    xs = [x.copy()]
    for _ in range(steps):
        y = x + beta * (x - previous)
        x, previous = y - lr * grad(y), x
        xs.append(x.copy())
    return np.array(xs)


def show_gap(gap, tol=1e-12):
    """How a difference is printed: the bound it is under, also when it is exactly 0 (whether the
    last bits agree exactly depends on the CPU's vector unit, and the printed output must not)."""
    assert gap < tol
    return f"< {tol:.0e}"


rosen = surfaces.get("rosenbrock")
lr, mu, steps = 1e-3, 0.9, 500
xs_sut, ahead_sut = nesterov_sutskever(rosen.grad, rosen.start, lr, mu, steps)
xs_1983 = nesterov_1983(rosen.grad, rosen.start, lr, mu, steps)
gap = np.abs(xs_sut - xs_1983).max()
print(f"Sutskever form vs Nesterov's 1983 form, 500 steps on Rosenbrock: largest difference {show_gap(gap)}")
assert gap < 1e-12

# %% [markdown]
# ## 2. PyTorch's form tracks the look-ahead point
#
# `torch.optim.SGD(momentum=mu, nesterov=True)` does something that looks different: with a
# buffer $b$ of gradients (as for the heavy ball) and $g_k = \nabla f(p_k)$ at its *own* iterate,
#
# $$b_{k+1} = \mu b_k + g_k, \qquad p_{k+1} = p_k - \eta\,(g_k + \mu\, b_{k+1}), \qquad b_0 = 0 .$$

# %%
def nesterov_pytorch(grad, x0, lr, mu, steps):
    """PyTorch's Nesterov step: b = mu b + g; p -= lr (g + mu b), with g = grad(p)."""
    p = np.array(x0, dtype=float)
    b = np.zeros_like(p)
    path = [p.copy()]
    for _ in range(steps):
        g = grad(p)
        b = mu * b + g
        p = p - lr * (g + mu * b)
        path.append(p.copy())
    return np.array(path)


# %% [markdown]
# **Claim.** With a constant $\eta$ and the same start, PyTorch's iterates are the look-ahead
# points of the Sutskever form: $p_k = x_k + \mu v_k$, with $b_k = -v_k/\eta$.
#
# **Proof.** Define $p_k = x_k + \mu v_k$ and $b_k = -v_k/\eta$ from the Sutskever iterates. Then
# $p_0 = x_0$ and $b_0 = 0$, and the gradient the Sutskever form uses, $\nabla f(x_k + \mu v_k)$, is
# $g_k = \nabla f(p_k)$. Its velocity update $v_{k+1} = \mu v_k - \eta g_k$, divided by $-\eta$, is
# $b_{k+1} = \mu b_k + g_k$: PyTorch's buffer. And
#
# $$p_{k+1} = x_{k+1} + \mu v_{k+1} = x_k + (1+\mu)\,v_{k+1}
# = p_k - \mu v_k + (1+\mu)(\mu v_k - \eta g_k) = p_k + \mu^2 v_k - (1+\mu)\,\eta g_k ,$$
#
# while PyTorch's step gives $p_k - \eta(g_k + \mu(\mu b_k + g_k)) = p_k + \mu^2 v_k - (1+\mu)\eta g_k$,
# the same. By induction the two sequences agree for every $k$. $\square$
#
# So PyTorch stores and reports the look-ahead point; the Sutskever $x_k$ is recovered as
# $x_k = p_k - \mu v_k = p_k + \eta\mu\, b_k$. Check it to $10^{-12}$, against our code, the
# course's reference optimizer, and `torch.optim.SGD(nesterov=True)` in float64 (fed the same
# gradient formula):

# %%
def torch_sgd(grad, x0, lr, mu, steps, nesterov=False):
    """Iterates of torch.optim.SGD(momentum=mu, nesterov=...) in float64."""
    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=mu, nesterov=nesterov)
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


ours = nesterov_pytorch(rosen.grad, rosen.start, lr, mu, steps)
with_torch = torch_sgd(rosen.grad, rosen.start, lr, mu, steps, nesterov=True)
reference = optimizers.run(rosen, rosen.start, "nesterov", lr, mu, steps).points
for name, path in [("Sutskever look-ahead x_k + mu v_k", ahead_sut), ("our PyTorch form", ours),
                   ("torch.optim.SGD(nesterov=True)", with_torch)]:
    gap = np.abs(path - reference).max()
    print(f"{name:34s} vs optimizers.run: largest difference over {steps} steps {show_gap(gap)}")
    assert gap < 1e-12
b_rebuilt = np.zeros(2)
x_rebuilt = [ours[0]]
for k in range(steps):  # replay the buffer to recover the Sutskever x_k = p_k + lr mu b_k
    b_rebuilt = mu * b_rebuilt + rosen.grad(ours[k])
    x_rebuilt.append(ours[k + 1] + lr * mu * b_rebuilt)
gap = np.abs(np.array(x_rebuilt) - xs_sut).max()
print(f"x_k recovered from PyTorch's p_k and b_k vs the Sutskever x_k: {show_gap(gap)}")
assert gap < 1e-12

# %% [markdown]
# Two practical consequences. The point PyTorch hands back (and evaluates the loss at) is the
# look-ahead point. And PyTorch's *first* step is $\eta(1+\mu)g_0$, almost twice the heavy
# ball's $\eta g_0$, because it already includes the look-ahead extrapolation:

# %%
first = nesterov_pytorch(rosen.grad, rosen.start, lr, mu, 1)[1] - rosen.start
g0 = rosen.grad(rosen.start)
print(f"first step / (-lr g_0) = {first / (-lr * g0)}   (1 + mu = {1 + mu})")
assert np.allclose(first, -lr * (1 + mu) * g0, rtol=1e-12)

# %% [markdown]
# ## 3. On a quadratic: a heavy ball with curvature-dependent momentum
#
# On one eigen-component with eigenvalue $\lambda$, write $h = \eta\lambda$. In the 1983 form,
# $x_{k+1} = (1-h)\,y_k$ and $y_k = (1+\beta)x_k - \beta x_{k-1}$, so
#
# $$x_{k+1} = (1+\beta)(1-h)\,x_k - \beta(1-h)\,x_{k-1},\qquad
# N = \begin{pmatrix} (1+\beta)(1-h) & -\beta(1-h)\\ 1 & 0\end{pmatrix},$$
#
# and the look-ahead points $y_k$ (PyTorch's $p_k$) obey the same recurrence (apply
# $y_{k+1} = (1+\beta)x_{k+1} - \beta x_k$ to it). The characteristic polynomial is
# $z^2 - (1+\beta)(1-h)z + \beta(1-h)$. Compare the heavy ball's $z^2 - (1+\beta'-h)z + \beta'$:
# with $\beta' = \beta(1-h)$ the constant terms agree, and
# $1 + \beta(1-h) - h = (1+\beta)(1-h)$, so the middle terms agree too.
#
# **On a quadratic, Nesterov is a heavy ball with the same step and momentum $\beta(1-\eta\lambda)$ in
# the direction of eigenvalue $\lambda$** (Sutskever et al., 2013, section 2.1): full momentum in
# flat directions, little in steep ones, none at $\eta\lambda = 1$, and negative beyond.
#
# Check the matrix against `theory.nesterov_matrix`, its eigenvalues against iterates of the
# PyTorch form, and the equivalence against `theory.momentum_rate`:

# %%
def roots(trace, det):
    disc = complex(trace * trace - 4 * det)
    return np.array([(trace + disc**0.5) / 2, (trace - disc**0.5) / 2])


lam_pair = [0.5, 5.0]
tilted = surfaces.quadratic(lam_pair, angle=np.pi / 6)
eigvals, Q = np.linalg.eigh(tilted.hessian)
lr, beta = 0.15, 0.8
p = optimizers.run(tilted, [-6.0, 3.0], "nesterov", lr, beta, steps=60).points @ Q  # eigen-coordinates
for i, lam in enumerate(eigvals):
    h = lr * lam
    N = np.array([[(1 + beta) * (1 - h), -beta * (1 - h)], [1.0, 0.0]])
    assert np.allclose(N, theory.nesterov_matrix(lr, beta, lam), rtol=1e-15)
    predicted = np.array([(N @ [p[k, i], p[k - 1, i]])[0] for k in range(1, 60)])  # p_(k+1) from (p_k, p_(k-1))
    residual = np.abs(predicted - p[2:61, i]).max()
    z = roots((1 + beta) * (1 - h), beta * (1 - h))
    assert np.allclose(np.sort_complex(z), np.sort_complex(np.linalg.eigvals(N).astype(complex)), atol=1e-12)
    print(f"lambda = {lam:3.1f}: (p_(k+1), p_k) = N (p_k, p_(k-1)) for k >= 1, error {show_gap(residual)}; "
          f"|roots| = {np.round(np.abs(z), 4)}, theory.nesterov_rate {theory.nesterov_rate(lr, beta, [lam]):.4f}; "
          f"heavy ball with beta' = beta(1 - h) = {beta * (1 - h):.3f}: {theory.momentum_rate(lr, beta * (1 - h), [lam]):.4f}")
    assert residual < 1e-12
    assert np.isclose(np.abs(z).max(), theory.nesterov_rate(lr, beta, [lam]), rtol=1e-12)
    assert np.isclose(theory.nesterov_rate(lr, beta, [lam]), theory.momentum_rate(lr, beta * (1 - h), [lam]), rtol=1e-12)

hs = np.linspace(0.001, 0.999, 500)[:, None]
bs = np.linspace(0.0, 0.99, 100)[None, :]
gap = np.abs(theory.nesterov_rate(hs, bs, [1.0]) - theory.momentum_rate(hs, bs * (1 - hs), [1.0])).max()
print(f"over 50,000 (h, beta) pairs with 0 < h < 1: |nesterov_rate - momentum_rate(beta (1 - h))| {show_gap(gap)}")
assert gap < 1e-12

# %% [markdown]
# The rate of the iterates follows the spectral radius; check it on a run whose slow component
# dominates, measuring the slope of $\log|p_k|$:

# %%
lr, beta = 0.15, 0.8
run = optimizers.run(tilted, [-6.0, 3.0], "nesterov", lr, beta, steps=400)
k = np.arange(100, 401)
err = np.hypot(run.points[100:, 0], run.points[100:, 1])
measured = np.exp(np.polyfit(k, np.log(err), 1)[0])
predicted = theory.nesterov_rate(lr, beta, lam_pair)
print(f"measured rate {measured:.5f}, theory.nesterov_rate {predicted:.5f}")
assert np.isclose(measured, predicted, rtol=1e-4)

# %% [markdown]
# ## 4. The convergence region: $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$
#
# The Jury conditions for $p(z) = z^2 - (1+\beta)(1-h)z + \beta(1-h)$ (lesson 03, section 5):
#
# * $p(1) = 1 - (1+\beta)(1-h) + \beta(1-h) = h > 0$;
# * $p(-1) = 1 + (1+\beta)(1-h) + \beta(1-h) = 1 + (1+2\beta)(1-h) > 0 \iff h < 1 + \frac{1}{1+2\beta} = \frac{2+2\beta}{1+2\beta}$;
# * $|\det| = \beta|1-h| < 1$, i.e. $h < 1 + 1/\beta$, which is implied by the previous line.
#
# So PyTorch's (and Sutskever's) Nesterov converges on a quadratic iff
#
# $$0 < \eta\lambda < \frac{2+2\beta}{1+2\beta},$$
#
# which is 2 at $\beta = 0$ and *falls* to $4/3$ as $\beta \to 1$, while the heavy ball's
# $2+2\beta$ rises to 4. In the equivalent heavy ball the momentum $\beta(1-h)$ turns negative for
# $h > 1$, and negative momentum shrinks the stable range. First the scan, then the statement
# was written: the same batched experiment as in lesson 03.

# %%
unit = surfaces.quadratic([1.0, 1.0])
betas = np.linspace(0.0, 0.95, 20)
lrs = np.linspace(0.5033, 4.4933, 400)  # spacing 0.01, offset so that no point sits on a boundary
B, LR = np.meshgrid(betas, lrs, indexing="ij")
converges = {}
for method in ["momentum", "nesterov"]:
    scan = optimizers.run(unit, [1.0, 0.0], method, lr=LR, momentum=B, steps=1000)
    err_mid, err_end = np.nan_to_num(np.abs(scan.points[..., [500, -1], 0]), nan=np.inf).transpose(2, 0, 1)
    converges[method] = (err_end < 1e-6) | (err_end < err_mid)
    del scan  # 8,000 runs of 1,000 steps: free them before the next method
limit_nag = (2 + 2 * betas) / (1 + 2 * betas)
print("beta   Nesterov: largest converging lr  (2+2b)/(1+2b)  smallest failing | heavy ball: largest  2+2b")
for i, b in enumerate(betas):
    ok_n, ok_h = converges["nesterov"][i], converges["momentum"][i]
    if i % 3 == 0:
        print(f"{b:4.2f} {lrs[ok_n].max():28.4f} {limit_nag[i]:14.4f} {lrs[~ok_n].min():16.4f} | "
              f"{lrs[ok_h].max():19.4f} {2 + 2 * b:5.2f}")
    assert ok_n[lrs < limit_nag[i]].all() and not ok_n[lrs > limit_nag[i]].any()
    assert ok_h[lrs < 2 + 2 * b].all() and not ok_h[lrs > 2 + 2 * b].any()
print(f"all {converges['nesterov'].size} Nesterov runs agree with 0 < lr*lambda < (2+2 beta)/(1+2 beta)")

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.4))
region = converges["momentum"].astype(int) + converges["nesterov"].astype(int)
ax.pcolormesh(lrs, betas, region, cmap="Greens", vmin=-0.5, vmax=2.6, shading="nearest")
ax.plot(2 + 2 * betas, betas, "--", color=plotting.METHOD_COLORS["momentum"], label=r"heavy ball: $2+2\beta$")
ax.plot(limit_nag, betas, "k--", linewidth=1.5, label=r"Nesterov: $(2+2\beta)/(1+2\beta)$")
ax.text(0.7, 0.45, "both converge", fontsize=10)
ax.text(2.2, 0.75, "heavy ball\nonly", fontsize=10)
ax.text(4.0, 0.55, "neither", fontsize=10)
ax.set_xlabel(r"$\eta\lambda$")
ax.set_ylabel(r"momentum $\beta$")
ax.set_title("measured convergence regions (2 x 8,000 runs)")
ax.legend(loc="lower right", fontsize=8, frameon=True)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Where Nesterov beats the heavy ball
#
# ### (a) With more momentum than the optimum
#
# For $\beta$ above the heavy ball's optimum $\beta^\star$, the heavy ball's rate can never drop
# below $\sqrt\beta$ (lesson 03): whatever the step, some component ripples with modulus
# $\sqrt\beta$. Nesterov's effective momentum $\beta(1-\eta\lambda)$ is smaller than $\beta$ in
# every direction, so it can. Compare the best rate over $\eta$, for each $\beta$, on the valley
# $\mu = 0.2$, $L = 4$. (The largest spectral radius over $[\mu, L]$ is reached at an end of the
# interval for both methods; the cell checks that on a fine grid of eigenvalues.)

# %%
mu_v, L_v = 0.2, 4.0
beta_axis = np.linspace(0.0, 0.98, 99)
lr_axis = np.linspace(1e-3, 1.0, 2000)
LRg, Bg = np.meshgrid(lr_axis, beta_axis, indexing="ij")
rate_hb = theory.momentum_rate(LRg, Bg, [mu_v, L_v])
rate_nag = theory.nesterov_rate(LRg, Bg, [mu_v, L_v])
sample = (slice(None, None, 40), slice(None, None, 7))
fine = theory.nesterov_rate(LRg[sample], Bg[sample], np.linspace(mu_v, L_v, 2001))
assert np.allclose(fine, rate_nag[sample], rtol=1e-12)  # the ends of [mu, L] suffice
best_hb, best_nag = rate_hb.min(axis=0), rate_nag.min(axis=0)
beta_star = theory.optimal_momentum(mu_v, L_v)[1]
cross = beta_axis[np.argmax(best_nag < best_hb)]
print(f"heavy ball's optimum beta* = {beta_star:.3f}; Nesterov's best rate is lower for every beta >= {cross:.2f}")
for b in [0.2, 0.4, 0.6, 0.8, 0.9, 0.95]:
    j = np.argmin(np.abs(beta_axis - b))
    print(f"  beta = {b:4}: best heavy ball {best_hb[j]:.4f} (sqrt(beta) = {np.sqrt(b):.4f}), best Nesterov {best_nag[j]:.4f}")
assert np.all(best_nag[beta_axis >= cross] < best_hb[beta_axis >= cross])
assert np.all(best_hb[beta_axis >= beta_star] >= np.sqrt(beta_axis[beta_axis >= beta_star]) - 1e-12)

# Measured: beta = 0.9, each method at its own best lr, on the valley.
j = np.argmin(np.abs(beta_axis - 0.9))
for method, rates in [("momentum", rate_hb), ("nesterov", rate_nag)]:
    a = np.median(lr_axis[rates[:, j] <= rates[:, j].min() + 1e-12])  # the middle of the best lrs
    r = optimizers.run(valley, valley.start, method, a, 0.9, steps=400)
    err = np.hypot(r.points[100:, 0], r.points[100:, 1])
    slope = np.exp(np.polyfit(np.arange(100, 401), np.log(err), 1)[0])
    print(f"  beta = 0.9, {method:8s} at lr = {a:.3f}: measured rate {slope:.4f}, theory {rates[:, j].min():.4f}, "
          f"loss after 400 steps {r.losses[-1]:.1e}")
    assert np.isclose(slope, rates[:, j].min(), rtol=2e-3)

# %% [markdown]
# The crossover sits above $\beta^\star$: with *less* momentum than about 0.6 here the heavy ball
# is better, with more, Nesterov. In practice $\beta = 0.9$ or $0.99$ is usually more than a
# problem's optimum, and this is one reason Nesterov has a reputation for robustness.
#
# ### (b) Escaping a saddle
#
# On $f = x^2 - y^2$ the $y$ direction has curvature $-2$, i.e. $h = -2\eta < 0$, and the effective
# momentum there is $\beta(1+2\eta) > \beta$. The growing root of the heavy ball's polynomial,
# $\tfrac12\big(1+\beta+|h| + \sqrt{(1+\beta+|h|)^2 - 4\beta}\big)$, increases with the momentum
# (its derivative in $\beta$ is $\tfrac12\big(1 + (\beta + |h| - 1)/\sqrt{\cdot}\big) > 0$, since
# the square root exceeds $|\beta+|h|-1|$), so Nesterov moves away from the saddle faster, for every
# $\eta$ and every $\beta > 0$. Measure the steps until the loss falls below $-1$ over a grid:

# %%
saddle = surfaces.get("saddle")
lr_s = np.geomspace(1e-3, 0.3, 40)
b_s = np.linspace(0.02, 0.98, 49)
LRs, Bs = np.meshgrid(lr_s, b_s, indexing="ij")
escape = {}
for method in ["momentum", "nesterov"]:
    r = optimizers.run(saddle, saddle.start, method, LRs, Bs, steps=300)
    below = np.nan_to_num(r.losses, nan=-np.inf) <= -1.0
    escape[method] = np.where(below.any(axis=-1), below.argmax(axis=-1), 10**6)
some = (escape["momentum"] < 10**6) | (escape["nesterov"] < 10**6)
sooner = np.mean(escape["nesterov"][some] < escape["momentum"][some])
later = np.sum(escape["nesterov"][some] > escape["momentum"][some])
print(f"{some.sum()} of {some.size} configurations escape within 300 steps; Nesterov escapes sooner in "
      f"{sooner:.0%} of them, at the same step in the rest, later in {later}")
assert later == 0 and sooner > 0.8

# %% [markdown]
# ### (c) Damping: fewer overshoots on Rosenbrock and Beale
#
# In steep directions Nesterov's momentum is small, so it rings less. Count the steps on which the
# loss goes *up*, for the same $(\eta, \beta)$ on a grid, wherever both methods stay bounded and
# $\beta \ge 0.5$:

# %%
def loss_increases(losses):
    """Steps on which the loss went up (a diverged run's NaNs count as a huge constant loss)."""
    return np.sum(np.diff(np.nan_to_num(losses, nan=1e300), axis=-1) > 0, axis=-1)


grid_runs = {}
for name, lr_lo, lr_hi in [("rosenbrock", 1e-4, 4e-3), ("beale", 1e-4, 3e-2)]:
    s = surfaces.get(name)
    LRr, Br = np.meshgrid(np.geomspace(lr_lo, lr_hi, 40), np.linspace(0.0, 0.98, 34), indexing="ij")
    runs = {m: optimizers.run(s, s.start, m, LRr, Br, steps=1000) for m in ["momentum", "nesterov"]}
    grid_runs[name] = (LRr, Br, runs)
    both = ~runs["momentum"].diverged & ~runs["nesterov"].diverged & (Br >= 0.5)
    up_hb, up_nag = loss_increases(runs["momentum"].losses)[both], loss_increases(runs["nesterov"].losses)[both]
    print(f"{name:10s}: {both.sum()} configurations; loss increases in 1000 steps, median heavy ball "
          f"{np.median(up_hb):.0f}, Nesterov {np.median(up_nag):.0f}; Nesterov fewer in {np.mean(up_nag < up_hb):.0%}, "
          f"more in {np.mean(up_nag > up_hb):.0%}")
    assert np.mean(up_nag < up_hb) > 5 * np.mean(up_nag > up_hb)

# %% [markdown]
# ### (d) A guarantee beyond quadratics
#
# Nesterov's method with $\eta = 1/L$ and $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$ converges on
# every smooth strongly convex function (Nesterov's theorem). The heavy ball has no such
# guarantee with its quadratic-optimal tuning. Lessard, Recht and Packard (*Analysis and design of
# optimization algorithms via integral quadratic constraints*, SIAM J. Optim. 26(1), 2016,
# section 4.6) give a one-dimensional function with curvature between $\mu = 1$ and $L = 25$,
#
# $$f(x) = \begin{cases} \tfrac{25}{2}x^2 & x < 1\\ \tfrac12 x^2 + 24x - 12 & 1 \le x < 2\\ \tfrac{25}{2}x^2 - 24x + 36 & x \ge 2,\end{cases}$$
#
# on which the heavy ball with Polyak's optimal pair for $[1, 25]$ ($\eta = 1/9$, $\beta = 4/9$) falls into
# a cycle of period 3 and never converges. Reproduce it (Nesterov's iterate lands exactly on the
# minimum once it enters $x < 1$, where $f'' = L$ and the step $1/L$ is exact):

# %%
def lessard_grad(x):
    return np.where(x < 1, 25 * x, np.where(x < 2, x + 24, 25 * x - 24))


lr_hb, beta_hb, _ = theory.optimal_momentum(1.0, 25.0)
print(f"Polyak's pair for [1, 25]: lr = {lr_hb:.4f} = 1/9, beta = {beta_hb:.4f} = 4/9")
from_start = 3.3
x, prev, hb_path = from_start, from_start, [from_start]
for _ in range(300):  # the heavy ball, Polyak's form
    x, prev = x - lr_hb * lessard_grad(x) + beta_hb * (x - prev), x
    hb_path.append(float(x))
sk = 5.0
nag_path = nesterov_pytorch(lambda p: lessard_grad(p), [from_start], 1 / 25, (sk - 1) / (sk + 1), 300)[:, 0]
print("heavy ball, last six iterates:", np.round(hb_path[-6:], 4))
print(f"Nesterov (lr = 1/25, beta = 2/3): |x_300| = {abs(nag_path[-1]):.1e}")
assert np.allclose(hb_path[-3:], hb_path[-6:-3], atol=1e-9) and min(abs(np.array(hb_path[-3:]))) > 0.5
assert abs(nag_path[-1]) < 1e-12
quad_check = [from_start, from_start]
for _ in range(300):  # the same heavy ball on the quadratic 12.5 x^2 (curvature 25) converges
    quad_check.append(quad_check[-1] - lr_hb * 25 * quad_check[-1] + beta_hb * (quad_check[-1] - quad_check[-2]))
print(f"the same heavy ball on 12.5 x^2 alone: |x_300| = {abs(quad_check[-1]):.1e}")
assert abs(quad_check[-1]) < 1e-12

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
xx = np.linspace(-2.5, 3.5, 400)
fx = np.where(xx < 1, 12.5 * xx**2, np.where(xx < 2, 0.5 * xx**2 + 24 * xx - 12, 12.5 * xx**2 - 24 * xx + 36))
ax1.plot(xx, fx, "k-", linewidth=1)
cycle = np.array(hb_path[-3:])
fc = np.where(cycle < 1, 12.5 * cycle**2, np.where(cycle < 2, 0.5 * cycle**2 + 24 * cycle - 12, 12.5 * cycle**2 - 24 * cycle + 36))
ax1.plot(cycle, fc, "o", color=plotting.METHOD_COLORS["momentum"], markersize=8, label="the heavy ball's 3-cycle")
ax1.set_xlabel("$x$")
ax1.set_ylabel("$f(x)$")
ax1.set_title(r"Lessard et al.'s function ($1 \leq f'' \leq 25$)")
ax1.legend(loc="upper center", fontsize=8)
ax2.plot(np.abs(hb_path), color=plotting.METHOD_COLORS["momentum"], label=r"heavy ball, $\eta = 1/9$, $\beta = 4/9$")
ax2.plot(np.maximum(np.abs(nag_path), 1e-300), color=plotting.METHOD_COLORS["nesterov"],
         label=r"Nesterov, $\eta = 1/25$, $\beta = 2/3$")
ax2.set_yscale("log")
ax2.set_ylim(1e-17, 1e2)
ax2.set_xlabel("step $k$")
ax2.set_ylabel("$|x_k|$")
ax2.legend(loc="lower left", fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Where it does not
#
# ### (a) The best tuning on a quadratic
#
# Tuned over both $\eta$ and $\beta$, the heavy ball's $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ is the best
# rate any pair can give on a quadratic (Polyak), and Nesterov's best is worse. Its optimum on
# $[\mu, L]$ is $\eta = 4/(3L+\mu)$, $\beta = \frac{\sqrt{3\kappa+1}-2}{\sqrt{3\kappa+1}+2}$ with rate
# $1 - 2/\sqrt{3\kappa+1}$ (Lessard, Recht, Packard, 2016, section 4.5). Check by grid search:

# %%
kappa = L_v / mu_v
i, j = np.unravel_index(rate_nag.argmin(), rate_nag.shape)
lr_nag = 4 / (3 * L_v + mu_v)
beta_nag = (np.sqrt(3 * kappa + 1) - 2) / (np.sqrt(3 * kappa + 1) + 2)
rho_nag = 1 - 2 / np.sqrt(3 * kappa + 1)
lr_hb_v, beta_hb_v, rho_hb_v = theory.optimal_momentum(mu_v, L_v)
print(f"Nesterov, grid search over 198,000 pairs: lr = {lr_axis[i]:.3f}, beta = {beta_axis[j]:.2f}, rate {rate_nag.min():.4f}")
print(f"Nesterov, formula: lr = {lr_nag:.3f}, beta = {beta_nag:.3f}, rate {rho_nag:.4f} "
      f"(theory.nesterov_rate there: {theory.nesterov_rate(lr_nag, beta_nag, [mu_v, L_v]):.4f})")
print(f"heavy ball, Polyak's pair: lr = {lr_hb_v:.3f}, beta = {beta_hb_v:.3f}, rate {rho_hb_v:.4f}")
assert np.isclose(theory.nesterov_rate(lr_nag, beta_nag, [mu_v, L_v]), rho_nag, rtol=1e-12)
assert rho_nag <= rate_nag.min() + 1e-12 and rate_nag.min() < rho_nag + 5e-3
assert rho_hb_v < rho_nag

# %% [markdown]
# And Polyak's pair uses $\eta L = 4/(1+1/\sqrt\kappa)^2 \approx 2.67$ here, far outside Nesterov's
# region $\eta L < (2+2\beta)/(1+2\beta) \approx 1.55$: run Nesterov there and it diverges.

# %%
print(f"at Polyak's pair: lr*L = {lr_hb_v * L_v:.3f}, Nesterov's limit (2+2b)/(1+2b) = "
      f"{(2 + 2 * beta_hb_v) / (1 + 2 * beta_hb_v):.3f}; nesterov_rate = {theory.nesterov_rate(lr_hb_v, beta_hb_v, [mu_v, L_v]):.3f}")
steps_cmp = {}
for method in ["momentum", "nesterov"]:
    r = optimizers.run(valley, valley.start, method, lr_hb_v, beta_hb_v, steps=100)
    steps_cmp[method] = r
    print(f"  {method:8s}: " + (f"diverged at step {r.diverged_at}" if r.diverged else f"loss after 100 steps {r.losses[-1]:.1e}"))
assert steps_cmp["nesterov"].diverged and not steps_cmp["momentum"].diverged

# %% [markdown]
# ### (b) Large steps on Rosenbrock, and speed at equal settings
#
# The narrower region matters beyond quadratics. On the Rosenbrock grid of section 5(c), count the
# configurations that reach $f - f^\star \le 10^{-8}$ within 1000 steps (and stay there), and the
# fewest steps either method needs; and, where both get there, who is faster at the same
# $(\eta, \beta)$:

# %%
def settled_at(gap, tol):
    """First step after which gap stays <= tol (per configuration); len(gap) if it never does."""
    above = ~(np.nan_to_num(gap, nan=np.inf) <= tol)
    n = above.shape[-1]
    return np.where(above[..., -1], n, n - np.argmax(above[..., ::-1], axis=-1))


for name in ["rosenbrock", "beale"]:
    LRr, Br, runs = grid_runs[name]
    f_min = surfaces.get(name).f_min
    done = {m: settled_at(runs[m].losses - f_min, 1e-8) for m in runs}
    ok_hb, ok_nag = done["momentum"] <= 1000, done["nesterov"] <= 1000
    both = ok_hb & ok_nag
    ratio = np.median(done["nesterov"][both] / done["momentum"][both])
    print(f"{name:10s}: reach 1e-8 in {ok_hb.sum()} (heavy ball) and {ok_nag.sum()} (Nesterov) of {ok_hb.size} "
          f"configurations; fewest steps {done['momentum'].min()} vs {done['nesterov'].min()}; where both reach it, "
          f"median Nesterov/heavy-ball steps = {ratio:.3f}, Nesterov sooner in {np.mean(done['nesterov'][both] < done['momentum'][both]):.0%}")
    if name == "rosenbrock":
        assert ok_hb.sum() > 1.5 * ok_nag.sum() and done["momentum"].min() < done["nesterov"].min()
    assert 0.97 < ratio < 1.03

# %% [markdown]
# On Rosenbrock the heavy ball gets there for more than twice as many settings (19 against 7 of
# 1,360) and, tuned, sooner (398 steps against 478): its best settings use steps that Nesterov
# cannot take. At the same settings the two are a draw on both surfaces (the median ratio of steps
# is within 1% of 1; on Beale the heavy ball is a step or two faster in most settings). Nesterov's advantages are the ones in section 5: robustness to
# too much momentum, damping, saddles, guarantees.
#
# ## 7. Compare them yourself
#
# Rosenbrock with $\beta = 0.9$. Nesterov's first steps (green, dash-dotted) jump across the valley:
# PyTorch's first step is $1+\mu = 1.9$ times the heavy ball's (section 2). After that its loss
# curve falls smoothly, while the heavy ball's (vermillion, dashed) stalls and wobbles around step
# 100 and stays above Nesterov's for the rest of the 600 steps (the cell below checks it).
# Raise **lr** and watch Nesterov diverge first; raise **momentum** towards 0.99 and compare the
# oscillations. Switch the surface to `saddle` or `beale` with the dropdown.

# %%
explorer = TrajectoryExplorer(surface="rosenbrock", lr=1e-3, momentum=0.9, steps=600)
hb_run, nag_run = explorer.runs["momentum"], explorer.runs["nesterov"]
print(f"loss at step 100: heavy ball {hb_run.losses[100]:.2f}, Nesterov {nag_run.losses[100]:.2f}; "
      f"at step 600: {hb_run.losses[600]:.1e} against {nag_run.losses[600]:.1e}")
assert np.all(hb_run.losses[100:] > nag_run.losses[100:])  # from step 100 on, the heavy ball stays behind
hb_rises = np.flatnonzero(np.diff(hb_run.losses) > 0)
print(f"the heavy ball's loss rises at {hb_rises.size} steps, the last from step {hb_rises[-1]} to {hb_rises[-1] + 1}")
assert hb_rises.size > 5 and hb_rises[-1] <= 50  # it wobbles in its first 50 steps only
explorer

# %% [markdown]
# The same runs as numbers, and the loss curves at a high momentum:

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
for ax, (name, lr_c, beta_c) in zip(axes, [("rosenbrock", 1e-3, 0.9), ("beale", 1e-3, 0.95)], strict=True):
    s = surfaces.get(name)
    for method in ["momentum", "nesterov"]:
        r = optimizers.run(s, s.start, method, lr_c, beta_c, steps=1000)
        plotting.loss_curve(ax, r.losses, s.f_min, method)
        print(f"{name:10s} lr = {lr_c:g}, beta = {beta_c}: {method:8s} loss increases {loss_increases(r.losses):4d}, "
              f"final loss {r.losses[-1]:.2e}")
    ax.set_title(rf"{name}, $\eta$ = {lr_c:g}, $\beta$ = {beta_c}")
    ax.legend(loc="upper right")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# * Nesterov's method takes the gradient at the look-ahead point $x_k + \mu v_k$ (Nesterov 1983;
#   Sutskever et al. 2013). PyTorch's form $b = \mu b + g$, $p \mathrel{-}= \eta(g + \mu b)$ is the same
#   method: its $p_k$ is the look-ahead point and its $b_k = -v_k/\eta$ (checked to $10^{-12}$
#   against `torch.optim.SGD(nesterov=True)`).
# * On a quadratic it is a heavy ball with momentum $\beta(1-\eta\lambda)$ per eigen-direction; its
#   matrix has trace $(1+\beta)(1-\eta\lambda)$ and determinant $\beta(1-\eta\lambda)$.
# * It converges iff $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$: between $4/3$ and 2, against the
#   heavy ball's $2+2\beta$.
# * It beats the heavy ball with more momentum than the optimum (the heavy ball is stuck at
#   $\sqrt\beta$), at saddles (it escapes sooner at every setting), in damping (far fewer loss
#   increases on Rosenbrock), and in guarantees (the heavy ball's optimal tuning cycles on a
#   strongly convex function; Nesterov converges).
# * It loses when both are tuned on a quadratic ($1 - 2/\sqrt{3\kappa+1}$ against
#   $(\sqrt\kappa-1)/(\sqrt\kappa+1)$), diverges at the heavy ball's optimal pair, and converges for
#   fewer large-step settings on Rosenbrock; at equal settings the two are a draw there and on Beale.
#
# ## Exercises
#
# ### Exercise 1 (recall)
#
# On an eigen-component with $\eta\lambda = 0.2$, Nesterov with $\beta = 0.9$ behaves exactly like
# a heavy ball with the same step and which momentum?

# %%
### BEGIN SOLUTION
answer_1 = 0.9 * (1 - 0.2)
### END SOLUTION
checks.nesterov.effective_momentum(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# A quadratic has eigenvalues in $[0.5, 10]$. With $\beta = 0.9$, what is the largest learning rate
# for which PyTorch's Nesterov converges from every start? (Compare with the heavy ball's.)

# %%
### BEGIN SOLUTION
answer_2 = (2 + 2 * 0.9) / ((1 + 2 * 0.9) * 10.0)
### END SOLUTION
checks.nesterov.stability_limit(answer_2)

# %% [markdown]
# ### Exercise 3 (implement)
#
# `torch.optim.SGD(..., nesterov=True, weight_decay=wd)` adds weight decay. Extend
# `nesterov_pytorch` into `nesterov_wd(grad, x0, lr, mu, wd, steps)` so that its iterates equal
# PyTorch's. (PyTorch's documentation of `SGD` spells out the algorithm; or reason it out: weight
# decay is the gradient of $\tfrac{wd}{2}\|p\|^2$, added to the loss's gradient.) The check runs
# `torch.optim.SGD` itself.

# %%
def nesterov_wd(grad, x0, lr, mu, wd, steps):
    ### BEGIN SOLUTION
    p = np.array(x0, dtype=float)
    b = np.zeros_like(p)
    path = [p.copy()]
    for _ in range(steps):
        g = grad(p) + wd * p
        b = mu * b + g
        p = p - lr * (g + mu * b)
        path.append(p.copy())
    return np.array(path)
    ### END SOLUTION


checks.nesterov.weight_decay_step(nesterov_wd)

# %% [markdown]
# ### Exercise 4 (explore)
#
# The textbook setting for Nesterov on a strongly convex problem is $\eta = 1/L$,
# $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$. On `surfaces.quadratic([1.0, 100.0])` from $(1, 1)$,
# run it for a few hundred steps and **measure** its rate from the iterates (the slope of
# $\log\|p_k\|$, or a ratio over a long window). Then explain the number with the $2\times2$ matrix:
# what happens to the steep component, and where does the flat one sit?

# %%
### BEGIN SOLUTION
s100 = surfaces.quadratic([1.0, 100.0])
run_4 = optimizers.run(s100, [1.0, 1.0], "nesterov", 1 / 100.0, 9 / 11, steps=400)
err_4 = np.hypot(run_4.points[:, 0], run_4.points[:, 1])
answer_4 = (err_4[400] / err_4[200]) ** (1 / 200)
### END SOLUTION
checks.nesterov.textbook_rate(answer_4)
