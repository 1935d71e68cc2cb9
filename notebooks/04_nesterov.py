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
# three forms, proves that PyTorch's odd-looking version is the same method for a constant
# learning rate (and shows that it is not under a schedule), reduces it on a quadratic to a
# heavy ball whose momentum depends on the curvature, and then measures where that helps and
# where it does not.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write Nesterov's update in the look-ahead form (Nesterov 1983; Sutskever et al. 2013) and
#    in PyTorch's form, prove that with a constant learning rate they produce the same points,
#    and show that with a learning-rate schedule they do not;
# 2. write its $2\times2$ matrix on one eigen-component and read it as a heavy ball with momentum
#    $\beta(1-\eta\lambda)$;
# 3. derive its convergence region $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$, narrower than the
#    heavy ball's;
# 4. say, with measurements, where it beats the heavy ball (momentum above a crossover, saddles,
#    damping of oscillations, convergence guarantees beyond quadratics) and where it does not
#    (the best tuning on a quadratic, large steps).
#
# ## Prerequisites
#
# Lesson 03 (the heavy ball, its $2\times2$ matrix, the regimes and the optimal pair). About
# 45 minutes.
#
# Notation as in the whole course: $\eta$ the learning rate, $\beta$ the momentum coefficient,
# $\mu$ and $L$ the smallest and largest eigenvalues of the Hessian, $\kappa = L/\mu$.

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
# $$v_{k+1} = \beta v_k - \eta\,\nabla f(x_k), \qquad x_{k+1} = x_k + v_{k+1}.$$
#
# The step is the momentum part $\beta v_k$, which is decided before the gradient is even looked
# at, plus a gradient step. Nesterov's idea (Y. Nesterov, *A method for solving the convex
# programming problem with convergence rate $O(1/k^2)$*, Soviet Math. Doklady 27, 1983), in the
# form Sutskever, Martens, Dahl and Hinton gave it (ICML 2013, *On the importance of
# initialization and momentum in deep learning*): since the momentum part will be taken anyway,
# evaluate the gradient at the point it leads to,
#
# $$v_{k+1} = \beta v_k - \eta\,\nabla f(x_k + \beta v_k), \qquad x_{k+1} = x_k + v_{k+1}.$$
#
# If the momentum is about to carry the iterate up the far wall of a valley, the look-ahead
# gradient already points back and corrects the step. One step from the same state, drawn on the
# valley $f(x, y) = 0.1x^2 + 2y^2$ (the example of *Dive into Deep Learning*, Zhang, Lipton, Li
# and Smola, section "Momentum" of the chapter "Optimization Algorithms", d2l.ai):

# %%
valley = surfaces.get("quadratic")  # 0.1 x^2 + 2 y^2, from Dive into Deep Learning's momentum section
x_now, v_now, beta_demo, lr_demo = np.array([-5.0, -1.2]), np.array([1.0, 1.8]), 0.9, 0.2
ahead = x_now + beta_demo * v_now
hb_next = ahead - lr_demo * valley.grad(x_now)
nag_next = ahead - lr_demo * valley.grad(ahead)
print(f"state x = {x_now}, velocity v = {v_now}; look-ahead x + beta v = {ahead}")
print(f"heavy ball next point  {hb_next}  (loss {valley.f(hb_next):.3f})")
print(f"Nesterov next point    {nag_next}  (loss {valley.f(nag_next):.3f})")
assert valley.f(nag_next) < valley.f(hb_next)
assert hb_next[1] > 0 > x_now[1] and abs(nag_next[1]) < 0.1 * abs(hb_next[1])  # across the floor vs near it

fig, ax = plt.subplots(figsize=(9, 3.8))
plotting.contour(ax, valley)
arrow = dict(arrowstyle="->", linewidth=1.8)
ax.annotate("", ahead, x_now, arrowprops=dict(arrow, color="0.4"))
for method, target in [("momentum", hb_next), ("nesterov", nag_next)]:
    ax.annotate("", target, ahead, arrowprops=dict(arrow, color=plotting.METHOD_COLORS[method],
                                                   linestyle=plotting.METHOD_LINESTYLES[method]))
ax.plot(*x_now, "ks", markersize=6)
ax.text(x_now[0] - 0.45, x_now[1] - 0.55, "$x_k$")
ax.text(*(x_now + 0.5 * beta_demo * v_now + [-0.75, 0.0]), r"$\beta v_k$", color="0.3")
ax.text(*(ahead + [0.15, 0.2]), r"$x_k + \beta v_k$")
ax.plot(*hb_next, "o", color=plotting.METHOD_COLORS["momentum"], label=r"heavy ball: $-\eta\nabla f(x_k)$")
ax.plot(*nag_next, "D", color=plotting.METHOD_COLORS["nesterov"], label=r"Nesterov: $-\eta\nabla f(x_k+\beta v_k)$")
ax.set_xlim(-7, 1)
ax.set_ylim(-2.5, 3)
ax.set_xlabel("$x$")
ax.set_ylabel("$y$")
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9)
ax.set_title("one step from the same state")
fig.tight_layout()
plt.show()

# %% [markdown]
# The heavy ball's gradient, computed at $x_k$ (low on the wall), is too weak to stop the
# momentum: it crosses the valley floor and ends at $y = 1.38$ on the far wall. Nesterov's,
# computed where the momentum arrives, pulls back harder and ends at $y = 0.084$, near the floor.
# As code, next to Nesterov's own 1983 form (constant $\beta$ here), which
# extrapolates first and then takes a gradient step from the extrapolated point $y_k$:
#
# $$y_k = x_k + \beta(x_k - x_{k-1}), \qquad x_{k+1} = y_k - \eta\nabla f(y_k).$$
#
# With $v_k = x_k - x_{k-1}$ this is the Sutskever form, and $y_k = x_k + \beta v_k$ is the
# look-ahead point. (Nesterov's 1983 scheme for convex functions uses a growing
# $\beta_k = (t_k - 1)/t_{k+1}$ with $t_{k+1} = (1+\sqrt{1+4t_k^2})/2$ and proves an
# $O(1/k^2)$ bound on $f(x_k) - f^\star$; with a constant $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$
# and $\eta = 1/L$ it is the method for strongly convex functions of Nesterov's *Introductory
# Lectures on Convex Optimization*, 2004, section 2.2.1, constant step scheme III.)

# %%
def nesterov_sutskever(grad, x0, lr, beta, steps):
    """v_{k+1} = beta v_k - lr grad(x_k + beta v_k), x_{k+1} = x_k + v_{k+1}. Returns (x_k, look-ahead x_k + beta v_k)."""
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    xs, ahead = [x.copy()], [x.copy()]
    for _ in range(steps):
        v = beta * v - lr * grad(x + beta * v)
        x = x + v
        xs.append(x.copy())
        ahead.append(x + beta * v)
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
lr, beta, steps = 1e-3, 0.9, 500
xs_sut, ahead_sut = nesterov_sutskever(rosen.grad, rosen.start, lr, beta, steps)
xs_1983 = nesterov_1983(rosen.grad, rosen.start, lr, beta, steps)
gap = np.abs(xs_sut - xs_1983).max()
print(f"Sutskever form vs Nesterov's 1983 form, 500 steps on Rosenbrock: largest difference {show_gap(gap)}")

# %% [markdown]
# ## 2. PyTorch's form tracks the look-ahead point
#
# `torch.optim.SGD(momentum=beta, nesterov=True)` does something that looks different: with a
# buffer $b$ of gradients (as for the heavy ball) and $g_k = \nabla f(p_k)$ at its *own* iterate,
#
# $$b_{k+1} = \beta b_k + g_k, \qquad p_{k+1} = p_k - \eta\,(g_k + \beta\, b_{k+1}), \qquad b_0 = 0 .$$

# %%
def nesterov_pytorch(grad, x0, lr, beta, steps):
    """PyTorch's Nesterov step: b = beta b + g; p -= lr (g + beta b), with g = grad(p)."""
    p = np.array(x0, dtype=float)
    b = np.zeros_like(p)
    path = [p.copy()]
    for _ in range(steps):
        g = grad(p)
        b = beta * b + g
        p = p - lr * (g + beta * b)
        path.append(p.copy())
    return np.array(path)


# %% [markdown]
# **Claim.** With a constant $\eta$ and the same start, PyTorch's iterates are the look-ahead
# points of the Sutskever form: $p_k = x_k + \beta v_k$, with $b_k = -v_k/\eta$.
#
# **Proof.** Define $p_k = x_k + \beta v_k$ and $b_k = -v_k/\eta$ from the Sutskever iterates. Then
# $p_0 = x_0$ and $b_0 = 0$, and the gradient the Sutskever form uses, $\nabla f(x_k + \beta v_k)$, is
# $g_k = \nabla f(p_k)$. Its velocity update $v_{k+1} = \beta v_k - \eta g_k$, divided by $-\eta$, is
# $b_{k+1} = \beta b_k + g_k$: PyTorch's buffer. And
#
# $$p_{k+1} = x_{k+1} + \beta v_{k+1} = x_k + (1+\beta)\,v_{k+1}
# = p_k - \beta v_k + (1+\beta)(\beta v_k - \eta g_k) = p_k + \beta^2 v_k - (1+\beta)\,\eta g_k ,$$
#
# while PyTorch's step gives $p_k - \eta(g_k + \beta(\beta b_k + g_k)) = p_k + \beta^2 v_k - (1+\beta)\eta g_k$,
# the same. By induction the two sequences agree for every $k$. $\square$
#
# The proof divides by $\eta$ twice, at two different steps ($b_k = -v_k/\eta$ and the velocity
# update): it needs the *same* $\eta$ at every step. So, for a constant learning rate, PyTorch
# stores and reports the look-ahead point; the Sutskever $x_k$ is recovered as
# $x_k = p_k - \beta v_k = p_k + \eta\beta\, b_k$. Check it to $10^{-12}$, against our code, the
# course's reference optimizer, and `torch.optim.SGD(nesterov=True)` in float64 (fed the same
# gradient formula):

# %%
def torch_sgd(grad, x0, lr, beta, steps, nesterov=False, lr_factor=None):
    """Iterates of torch.optim.SGD(momentum=beta, nesterov=...) in float64; lr_factor(k), if given,
    multiplies the learning rate of step k (through torch's LambdaLR scheduler)."""
    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr, momentum=beta, nesterov=nesterov)
    schedule = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor) if lr_factor else None
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        if schedule:
            schedule.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


ours = nesterov_pytorch(rosen.grad, rosen.start, lr, beta, steps)
with_torch = torch_sgd(rosen.grad, rosen.start, lr, beta, steps, nesterov=True)
reference = optimizers.run(rosen, rosen.start, "nesterov", lr, beta, steps).points
for name, path in [("Sutskever look-ahead x_k + beta v_k", ahead_sut), ("our PyTorch form", ours),
                   ("torch.optim.SGD(nesterov=True)", with_torch)]:
    gap = np.abs(path - reference).max()
    print(f"{name:35s} vs optimizers.run: largest difference over {steps} steps {show_gap(gap)}")
b_rebuilt = np.zeros(2)
x_rebuilt = [ours[0]]
for k in range(steps):  # replay the buffer to recover the Sutskever x_k = p_k + lr beta b_k
    b_rebuilt = beta * b_rebuilt + rosen.grad(ours[k])
    x_rebuilt.append(ours[k + 1] + lr * beta * b_rebuilt)
gap = np.abs(np.array(x_rebuilt) - xs_sut).max()
print(f"x_k recovered from PyTorch's p_k and b_k vs the Sutskever x_k: {show_gap(gap)}")

# %% [markdown]
# Two practical consequences, for a constant learning rate. The point PyTorch hands back (and
# evaluates the loss at) is the look-ahead point. And PyTorch's *first* step is $\eta(1+\beta)g_0$, $1.9$ times the heavy
# ball's $\eta g_0$ at $\beta = 0.9$, because it already includes the look-ahead extrapolation:

# %%
first = nesterov_pytorch(rosen.grad, rosen.start, lr, beta, 1)[1] - rosen.start
first_torch = torch_sgd(rosen.grad, rosen.start, lr, beta, 1, nesterov=True)[1] - rosen.start
first_hb = torch_sgd(rosen.grad, rosen.start, lr, beta, 1, nesterov=False)[1] - rosen.start
g0 = rosen.grad(rosen.start)
print(f"first step / (-lr g_0): ours {first / (-lr * g0)}, torch Nesterov {first_torch / (-lr * g0)}, "
      f"torch heavy ball {first_hb / (-lr * g0)}   (1 + beta = {1 + beta})")
assert np.allclose(first_torch, -lr * (1 + beta) * g0, rtol=1e-12) and np.allclose(first, first_torch, rtol=1e-12)
assert np.allclose(first_torch / first_hb, 1 + beta, rtol=1e-12)

# %% [markdown]
# ### With a learning-rate schedule the two forms part
#
# Training usually lowers $\eta$ as it goes. Then the proof above fails, and the two forms are
# two different methods: the Sutskever velocity $v$ is a sum of past *steps*, each already
# multiplied by the learning rate of its own time, while PyTorch's buffer $b$ is a sum of past
# *gradients*, all multiplied by today's learning rate. When $\eta$ drops, PyTorch's whole step,
# momentum included, shrinks at once; the Sutskever form keeps coasting on its old velocity.
# Run both on Rosenbrock with $\beta = 0.9$ and $\eta = 10^{-3}$ for 250 steps, then $10^{-4}$ for
# 250 (`torch.optim.SGD` with a `LambdaLR` scheduler gives PyTorch's form):

# %%
def nesterov_sutskever_schedule(grad, x0, lrs, beta):
    """The Sutskever form with learning rate lrs[k] at step k; returns the look-ahead points x_k + beta v_k."""
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    ahead = [x.copy()]
    for lr_k in lrs:
        v = beta * v - lr_k * grad(x + beta * v)
        x = x + v
        ahead.append(x + beta * v)
    return np.array(ahead)


def nesterov_pytorch_schedule(grad, x0, lrs, beta):
    """PyTorch's form with learning rate lrs[k] at step k."""
    p = np.array(x0, dtype=float)
    b = np.zeros_like(p)
    path = [p.copy()]
    for lr_k in lrs:
        g = grad(p)
        b = beta * b + g
        p = p - lr_k * (g + beta * b)
        path.append(p.copy())
    return np.array(path)


drop_at = 250
lrs = np.where(np.arange(500) < drop_at, 1e-3, 1e-4)
sut_sched = nesterov_sutskever_schedule(rosen.grad, rosen.start, lrs, beta)
pt_sched = nesterov_pytorch_schedule(rosen.grad, rosen.start, lrs, beta)
torch_sched = torch_sgd(rosen.grad, rosen.start, 1e-3, beta, 500, nesterov=True,
                        lr_factor=lambda k: 1.0 if k < drop_at else 0.1)
print(f"our PyTorch form with the schedule vs torch.optim.SGD + LambdaLR: {show_gap(np.abs(pt_sched - torch_sched).max())}")
apart = np.linalg.norm(pt_sched - sut_sched, axis=1)
print(f"distance between PyTorch's p_k and the Sutskever look-ahead point: up to step {drop_at} "
      f"{show_gap(apart[:drop_at + 1].max())}; largest {apart.max():.4f} (step {apart.argmax()}), "
      f"at step 500 {apart[-1]:.4f}")
step_pt, step_sut = (np.linalg.norm(np.diff(path, axis=0), axis=1) for path in (pt_sched, sut_sched))
print(f"step length just before / just after the drop: PyTorch {step_pt[drop_at - 1]:.2e} / {step_pt[drop_at]:.2e} "
      f"(x {step_pt[drop_at] / step_pt[drop_at - 1]:.3f}), Sutskever {step_sut[drop_at - 1]:.2e} / "
      f"{step_sut[drop_at]:.2e} (x {step_sut[drop_at] / step_sut[drop_at - 1]:.3f})")
print(f"loss at step 500: PyTorch's form {rosen.f(pt_sched[-1]):.4f}, Sutskever's {rosen.f(sut_sched[-1]):.4f}")
assert 0.009 < apart.max() < 0.011 and apart.argmax() == 300 and apart[-1] > 1e-3  # far above rounding
assert 0.09 < step_pt[drop_at] / step_pt[drop_at - 1] < 0.11 and 0.82 < step_sut[drop_at] / step_sut[drop_at - 1] < 0.84
assert abs(rosen.f(pt_sched[-1]) - rosen.f(sut_sched[-1])) > 5e-4

# %% [markdown]
# Up to the drop the two agree to rounding (a constant learning rate so far). At the drop
# PyTorch's step shrinks tenfold at once while the Sutskever step only loses 17 %; from there the
# two part, up to 0.0100 apart at step 300, and end at different losses (0.0138 for PyTorch's
# form, 0.0127 for Sutskever's). Neither is wrong; they are different methods with the same
# constant-rate limit. (The same is true of the heavy ball's forms, lesson 03.)
#
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
# Check each piece against something computed another way: `theory.nesterov_matrix` against the
# matrix of one step of the 1983 code (applied to the states $(1, 0)$ and $(0, 1)$); the
# quadratic formula's roots against LAPACK's eigenvalues; the matrix against iterates of the
# PyTorch form on a tilted quadratic; and the equivalence by running a heavy ball with momentum
# $\beta(1-\eta\lambda)$ on each eigen-component and comparing its iterates with Nesterov's:

# %%
def one_step_matrix(lr, beta, lam):
    """The matrix of one step of nesterov_1983's update on f = lam x^2 / 2, acting on (x_k, x_{k-1}):
    its columns are the step applied to the states (1, 0) and (0, 1)."""
    columns = []
    for x, previous in [(1.0, 0.0), (0.0, 1.0)]:
        y = x + beta * (x - previous)
        columns.append([y - lr * lam * y, x])
    return np.array(columns).T


def roots(trace, det):
    disc = complex(trace * trace - 4 * det)
    return np.array([(trace + disc**0.5) / 2, (trace - disc**0.5) / 2])


def heavy_ball_from(z0, z1, lr, beta, lam, steps):
    """Polyak's heavy ball z_{k+1} = z_k - lr lam z_k + beta (z_k - z_{k-1}) on f = lam z^2 / 2, from (z_0, z_1)."""
    z = [z0, z1]
    for _ in range(steps - 1):
        z.append(z[-1] - lr * lam * z[-1] + beta * (z[-1] - z[-2]))
    return np.array(z)


lam_pair = [0.5, 5.0]
tilted = surfaces.quadratic(lam_pair, angle=np.pi / 6)
eigvals, Q = np.linalg.eigh(tilted.hessian)
lr, beta = 0.15, 0.8
p = optimizers.run(tilted, [-6.0, 3.0], "nesterov", lr, beta, steps=60).points @ Q  # eigen-coordinates
for i, lam in enumerate(eigvals):
    h = lr * lam
    N = theory.nesterov_matrix(lr, beta, lam)
    assert np.allclose(N, one_step_matrix(lr, beta, lam), rtol=1e-14, atol=1e-15)
    predicted = np.array([(N @ [p[k, i], p[k - 1, i]])[0] for k in range(1, 60)])  # p_(k+1) from (p_k, p_(k-1))
    residual = np.abs(predicted - p[2:61, i]).max()
    z = roots((1 + beta) * (1 - h), beta * (1 - h))
    lapack = np.linalg.eigvals(N).astype(complex)
    assert np.allclose(np.sort_complex(z), np.sort_complex(lapack), atol=1e-12)
    hb = heavy_ball_from(p[0, i], p[1, i], lr, beta * (1 - h), lam, 60)
    hb_gap = np.abs(hb - p[:, i]).max()
    print(f"lambda = {lam:3.1f}: (p_(k+1), p_k) = N (p_k, p_(k-1)) for k >= 1, error {show_gap(residual)}; "
          f"|eigenvalues of N| = {np.round(np.abs(lapack), 4)}, theory.nesterov_rate {theory.nesterov_rate(lr, beta, [lam]):.4f}; "
          f"a heavy ball with beta' = beta(1 - h) = {beta * (1 - h):.3f} from (p_0, p_1) reproduces p_k: {show_gap(hb_gap)}")
    assert residual < 1e-12 and hb_gap < 1e-12
    assert np.isclose(np.abs(lapack).max(), theory.nesterov_rate(lr, beta, [lam]), rtol=1e-9)

# The equivalence on a grid: Nesterov (PyTorch form, the reference optimizer) on f = x^2/2 for every
# (h, beta), against the heavy-ball recurrence with momentum beta (1 - h), including h > 1 (negative momentum).
H, Bq = np.meshgrid(np.linspace(0.005, 1.3, 260), np.linspace(0.0, 0.99, 100), indexing="ij")
nag_grid = optimizers.run(surfaces.quadratic([1.0, 1.0]), [1.0, 0.0], "nesterov", H, Bq, steps=60).points[..., 0]
z_prev, z_now, worst = nag_grid[..., 0], nag_grid[..., 1], 0.0
for k in range(1, 60):
    z_prev, z_now = z_now, z_now - H * z_now + Bq * (1 - H) * (z_now - z_prev)
    worst = max(worst, np.abs(z_now - nag_grid[..., k + 1]).max())
print(f"over {H.size:,} pairs (h, beta), 0 < h <= 1.3: Nesterov's iterates vs the heavy ball with beta (1 - h): {show_gap(worst)}")

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
# $h > 1$, and negative momentum shrinks the stable range. The derivation is checked by
# experiment, the same batched scan as in lesson 03: 8,000 runs of 1,000 steps per method on
# $f = \tfrac12(x^2 + y^2)$, on a grid of $\eta\lambda$ offset so that no point sits on a boundary.

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
ax.pcolormesh(lrs, betas, region, cmap="Greys", vmin=-0.3, vmax=4.0, shading="nearest")
ax.plot(2 + 2 * betas, betas, color=plotting.METHOD_COLORS["momentum"], linestyle=plotting.METHOD_LINESTYLES["momentum"],
        linewidth=1.8, label=r"heavy ball: $2+2\beta$")
ax.plot(limit_nag, betas, color=plotting.METHOD_COLORS["nesterov"], linestyle=plotting.METHOD_LINESTYLES["nesterov"],
        linewidth=1.8, label=r"Nesterov: $(2+2\beta)/(1+2\beta)$")
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
# ### (a) With momentum above a crossover
#
# The heavy ball's two roots on each eigen-component multiply to $\beta$ (the determinant of its
# matrix), so its rate is at least $\sqrt\beta$ for *every* step and every $\beta$. For
# $\beta \ge \beta^\star$, its optimum, there are steps at which every component ripples and the rate
# is exactly $\sqrt\beta$ (lesson 03); more momentum then only makes it slower. Nesterov's roots
# multiply to $\beta(1-\eta\lambda)$, which is smaller than $\beta$, so its floor is lower. Compare
# the best rate over $\eta$, for each $\beta$, on the valley of section 1 ($\mu = 0.2$, $L = 4$,
# $\kappa = 20$). (The largest spectral radius over $[\mu, L]$ is reached at an end of the
# interval for both methods; the cell checks that on a fine grid of eigenvalues.)

# %%
mu_v, L_v = 0.2, 4.0
beta_axis = np.linspace(0.0, 0.98, 99)
lr_axis = np.linspace(1e-3, 1.0, 2000)
LRg, Bg = np.meshgrid(lr_axis, beta_axis, indexing="ij")
rate_hb = theory.momentum_rate(LRg, Bg, [mu_v, L_v])
rate_nag = theory.nesterov_rate(LRg, Bg, [mu_v, L_v])
sample = (slice(None, None, 40), slice(None, None, 7))
for rate_fn, rates in [(theory.momentum_rate, rate_hb), (theory.nesterov_rate, rate_nag)]:
    fine = rate_fn(LRg[sample], Bg[sample], np.linspace(mu_v, L_v, 2001))
    assert np.allclose(fine, rates[sample], rtol=1e-12)  # the ends of [mu, L] suffice
best_hb, best_nag = rate_hb.min(axis=0), rate_nag.min(axis=0)
beta_star = theory.optimal_momentum(mu_v, L_v)[1]
cross = beta_axis[np.argmax(best_nag < best_hb)]
print(f"heavy ball's optimum beta* = {beta_star:.3f}; on this grid Nesterov's best rate is lower for every "
      f"beta >= {cross:.2f}, and not lower for any beta < {cross:.2f}")
for b in [0.2, 0.4, 0.6, 0.8, 0.9, 0.95]:
    j = np.argmin(np.abs(beta_axis - b))
    print(f"  beta = {b:4}: best heavy ball {best_hb[j]:.4f} (sqrt(beta) = {np.sqrt(b):.4f}), best Nesterov {best_nag[j]:.4f}")
assert np.all(best_nag[beta_axis >= cross] < best_hb[beta_axis >= cross])
assert np.all(best_nag[beta_axis < cross] >= best_hb[beta_axis < cross])
above, below = beta_axis >= beta_star + 0.01, (beta_axis > 0) & (beta_axis <= beta_star - 0.01)
assert np.allclose(best_hb[above], np.sqrt(beta_axis[above]), rtol=1e-9)  # the floor sqrt(beta) is reached
assert np.all(best_hb[below] > np.sqrt(beta_axis[below]) + 1e-3)  # and below beta* it is not

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
# The crossover is not at $\beta^\star = 0.403$ but at 0.588 (0.59 on the grid): for $\beta$ between the two the
# heavy ball, at its floor $\sqrt\beta$, is still faster. Why there? Nesterov reaches *its* floor
# $\sqrt{\beta(1-\eta\mu)}$ (the square root of the flat direction's determinant) only when the flat direction
# ripples, i.e. its roots are complex. With less momentum the flat direction is overdamped, its
# two real roots make the rate larger than the floor, and the rate climbs fast as $\beta$ falls,
# while the heavy ball's $\sqrt\beta$ falls. A bound pins the crossover down: Nesterov's rate
# on this valley is never below its best over all pairs, $1 - 2/\sqrt{3\kappa+1} = 0.744$ (section
# 6(a)), attained at $\beta_N = 0.592$, while the heavy ball's $\sqrt\beta$ is below 0.744 for every
# $\beta < 0.744^2 = 0.553$. So the crossover lies between 0.553 and 0.592. The cell finds it
# without the grid, by bisection on $\beta$ with the best step searched on 100,000 values of $\eta$:

# %%
lr_fine = np.linspace(1e-5, 1.0, 100_000)
best_nag_at = lambda b: theory.nesterov_rate(lr_fine, b, [mu_v, L_v]).min()  # noqa: E731
lo, hi = 0.45, 0.70  # Nesterov slower at 0.45, faster at 0.70 (checked next)
assert best_nag_at(lo) > np.sqrt(lo) and best_nag_at(hi) < np.sqrt(hi)
for _ in range(40):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if best_nag_at(mid) > np.sqrt(mid) else (lo, mid)
beta_cross = (lo + hi) / 2
kappa_v = L_v / mu_v
rho_n = 1 - 2 / np.sqrt(3 * kappa_v + 1)
beta_n = (np.sqrt(3 * kappa_v + 1) - 2) / (np.sqrt(3 * kappa_v + 1) + 2)
print(f"crossover: best Nesterov rate = sqrt(beta) at beta = {beta_cross:.4f}; "
      f"bounds rho_N^2 = {rho_n**2:.4f} and beta_N = {beta_n:.4f}")
assert rho_n**2 < beta_cross < beta_n and abs(beta_cross - cross) < 0.01

# The mechanism, at each beta of the grid: Nesterov's best rate against its floor sqrt(beta (1 - lr mu)),
# and the discriminant of its flat direction (< 0: complex roots, the component ripples).
a_best = lr_axis[rate_nag.argmin(axis=0)]
c_flat = 1 - a_best * mu_v
floor = np.sqrt(beta_axis * c_flat)
disc_flat = ((1 + beta_axis) * c_flat) ** 2 - 4 * beta_axis * c_flat
for b in [0.4, 0.55, 0.59, 0.6, 0.9]:
    j = np.argmin(np.abs(beta_axis - b))
    print(f"  beta = {b:4}: best Nesterov {best_nag[j]:.4f} at lr = {a_best[j]:.3f}, floor sqrt(beta(1 - lr mu)) "
          f"{floor[j]:.4f}, flat direction {'ripples' if disc_flat[j] < 0 else 'overdamped (real roots)'}")
ripple = beta_axis >= 0.595
assert np.all(disc_flat[ripple] < 0) and np.allclose(best_nag[ripple], floor[ripple], rtol=1e-4)  # to the grid's resolution
assert np.all(disc_flat[~ripple] > 0) and np.all(best_nag[~ripple] > floor[~ripple] + 0.01)

# %% [markdown]
# Whether the $\beta = 0.9$ or $0.99$ common in practice is above a problem's $\beta^\star$
# depends on $\kappa$: $\beta^\star = \big((\sqrt\kappa-1)/(\sqrt\kappa+1)\big)^2$ grows towards 1
# with $\kappa$, and passes 0.9 and 0.99 at

# %%
for b in [0.9, 0.99]:
    kappa_b = ((1 + np.sqrt(b)) / (1 - np.sqrt(b))) ** 2  # solve beta* = b for kappa
    below_b, above_b = theory.optimal_momentum(1.0, 0.999 * kappa_b)[1], theory.optimal_momentum(1.0, 1.001 * kappa_b)[1]
    print(f"beta* = {b}: kappa = {kappa_b:,.0f} (beta* = {below_b:.7f} at 0.999 kappa, {above_b:.7f} at 1.001 kappa)")
    assert below_b < b < above_b

# %% [markdown]
# So $\beta = 0.9$ is more than the heavy ball's optimum only when $\kappa < 1{,}442$, and
# $\beta = 0.99$ only when $\kappa < 158{,}402$; on the valley above ($\kappa = 20$) both are, and
# both are above the crossover. Sutskever et al. (2013, section 2.1) describe the same effect
# from the geometry of the look-ahead: NAG is "more tolerant of large values" of the momentum
# than the heavy ball.
#
# ### (b) Escaping a saddle
#
# On $f = x^2 - y^2$ the $y$ direction has curvature $-2$, i.e. $h = -2\eta < 0$, and the effective
# momentum there is $\beta(1+2\eta) > \beta$. The growing root of the heavy ball's polynomial,
# $\tfrac12\big(1+\beta+|h| + \sqrt{(1+\beta+|h|)^2 - 4\beta}\big)$, increases with the momentum
# (its derivative in $\beta$ is $\tfrac12\big(1 + (\beta + |h| - 1)/\sqrt{\cdot}\big) > 0$, since
# the square root exceeds $|\beta+|h|-1|$), so Nesterov's growing root is larger than the heavy
# ball's for every $\eta$ and every $\beta > 0$. The cell checks that with LAPACK's eigenvalues
# of the two matrices on a grid, then measures the steps until the loss falls below $-1$ from
# the start $(-2.5, 0.01)$:

# %%
saddle = surfaces.get("saddle")
lr_s = np.geomspace(1e-3, 0.3, 40)
b_s = np.linspace(0.02, 0.98, 49)
LRs, Bs = np.meshgrid(lr_s, b_s, indexing="ij")
c_up = 1 + 2 * LRs  # 1 - lr * lambda with lambda = -2
M_hb = np.stack([np.stack([1 + Bs + 2 * LRs, -Bs], -1), np.stack([np.ones_like(Bs), np.zeros_like(Bs)], -1)], -2)
M_nag = np.stack([np.stack([(1 + Bs) * c_up, -Bs * c_up], -1), np.stack([np.ones_like(Bs), np.zeros_like(Bs)], -1)], -2)
grow_hb, grow_nag = (np.abs(np.linalg.eigvals(M)).max(axis=-1) for M in (M_hb, M_nag))
print(f"growth factor along y per step: Nesterov's larger at {np.mean(grow_nag > grow_hb):.0%} of the "
      f"{grow_hb.size} pairs (Nesterov's / the heavy ball's = 1 + {(grow_nag / grow_hb).min() - 1:.1e} to "
      f"{(grow_nag / grow_hb).max():.3f})")
assert np.all(grow_nag > grow_hb)
escape = {}
for method in ["momentum", "nesterov"]:
    r = optimizers.run(saddle, saddle.start, method, LRs, Bs, steps=300)
    below = np.nan_to_num(r.losses, nan=-np.inf) <= -1.0
    escape[method] = np.where(below.any(axis=-1), below.argmax(axis=-1), 10**6)
some = (escape["momentum"] < 10**6) | (escape["nesterov"] < 10**6)
sooner = np.mean(escape["nesterov"][some] < escape["momentum"][some])
same = np.mean(escape["nesterov"][some] == escape["momentum"][some])
later = np.sum(escape["nesterov"][some] > escape["momentum"][some])
print(f"{some.sum()} of {some.size} configurations escape within 300 steps; Nesterov escapes sooner in "
      f"{sooner:.0%} of them, at the same step in {same:.0%}, later in {later}")
assert later == 0 and 0.85 < sooner < 0.95 and np.isclose(sooner + same, 1.0)

# %% [markdown]
# A larger growth factor does not always show as an earlier escape step: the steps are counted in
# whole numbers, and in 9 % of the settings both cross $-1$ on the same step. Nesterov never
# escapes later.
#
# ### (c) Damping: fewer overshoots on Rosenbrock and Beale
#
# In steep directions Nesterov's momentum is small, so it rings less. Count the steps on which the
# loss goes *up* in 1,000 steps, for the same $(\eta, \beta)$ on a grid (40 learning rates by 34
# momenta), wherever both methods stay bounded and $\beta \ge 0.5$:

# %%
def loss_increases(losses):
    """Steps on which the loss went up (a diverged run's NaNs count as a huge constant loss)."""
    return np.sum(np.diff(np.nan_to_num(losses, nan=1e300), axis=-1) > 0, axis=-1)


grid_runs, damping = {}, {}
for name, lr_lo, lr_hi in [("rosenbrock", 1e-4, 4e-3), ("beale", 1e-4, 3e-2)]:
    s = surfaces.get(name)
    LRr, Br = np.meshgrid(np.geomspace(lr_lo, lr_hi, 40), np.linspace(0.0, 0.98, 34), indexing="ij")
    runs = {m: optimizers.run(s, s.start, m, LRr, Br, steps=1000) for m in ["momentum", "nesterov"]}
    grid_runs[name] = (LRr, Br, runs)
    both = ~runs["momentum"].diverged & ~runs["nesterov"].diverged & (Br >= 0.5)
    up_hb, up_nag = loss_increases(runs["momentum"].losses)[both], loss_increases(runs["nesterov"].losses)[both]
    damping[name] = (np.mean(up_nag < up_hb), np.mean(up_nag > up_hb))
    print(f"{name:10s}: {both.sum()} configurations; loss increases in 1000 steps, median heavy ball "
          f"{np.median(up_hb):.0f}, Nesterov {np.median(up_nag):.0f}; Nesterov fewer in {damping[name][0]:.0%}, "
          f"more in {damping[name][1]:.0%}, as many in {1 - sum(damping[name]):.0%}")
    assert damping[name][0] > 5 * damping[name][1]
assert damping["rosenbrock"][0] > 0.9 and damping["beale"][0] < 0.3

# %% [markdown]
# On Rosenbrock Nesterov's loss rises fewer times in 93 % of the settings (more often in 4 %);
# on Beale, where most runs of both never go up, it rises fewer times in 25 % and more often in
# 1 %.
#
# ### (d) A guarantee beyond quadratics
#
# Nesterov's method with $\eta = 1/L$ and $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$ converges on
# every $L$-smooth, $\mu$-strongly convex function, with $f(x_k) - f^\star$ shrinking at least like
# $(1 - 1/\sqrt\kappa)^k$ (Nesterov,
# *Introductory Lectures on Convex Optimization*, 2004, section 2.2.1). The heavy ball has no such
# guarantee with its quadratic-optimal tuning. Lessard, Recht and Packard (*Analysis and design of
# optimization algorithms via integral quadratic constraints*, SIAM J. Optim. 26(1), 2016,
# section 4.6, equation (4.11)) give a one-dimensional function with curvature between $\mu = 1$
# and $L = 25$,
#
# $$f(x) = \begin{cases} \tfrac{25}{2}x^2 & x < 1\\ \tfrac12 x^2 + 24x - 12 & 1 \le x < 2\\ \tfrac{25}{2}x^2 - 24x + 36 & x \ge 2,\end{cases}$$
#
# on which the heavy ball with Polyak's optimal pair for $[1, 25]$ ($\eta = 1/9$, $\beta = 4/9$),
# started at rest at $x_0 = 3.3$ (their start, appendix B), falls into a cycle of period 3 and
# never converges. Reproduce it (once a look-ahead point of Nesterov's method is in $x < 1$, where
# $f'' = L$, its gradient step $1/L$ lands exactly on the minimum; two steps later PyTorch's
# iterate is there too):

# %%
def lessard_grad(x):
    return np.where(x < 1, 25 * x, np.where(x < 2, x + 24, 25 * x - 24))


def heavy_ball_1d(x0, lr, beta, steps):
    """Polyak's heavy ball on Lessard et al.'s function from rest (x_{-1} = x_0)."""
    x = np.array(x0, dtype=float)
    prev, path = x.copy(), [x.copy()]
    for _ in range(steps):
        x, prev = x - lr * lessard_grad(x) + beta * (x - prev), x
        path.append(x.copy())
    return np.array(path)


lr_hb, beta_hb, _ = theory.optimal_momentum(1.0, 25.0)
print(f"Polyak's pair for [1, 25]: lr = {lr_hb:.4f} = 1/9, beta = {beta_hb:.4f} = 4/9")
from_start = 3.3
hb_path = heavy_ball_1d(from_start, lr_hb, beta_hb, 300)
sk = 5.0
nag_path = nesterov_pytorch(lessard_grad, [from_start], 1 / 25, (sk - 1) / (sk + 1), 300)[:, 0]
print("heavy ball, last six iterates:", np.round(hb_path[-6:], 4))
print(f"Nesterov (lr = 1/25, beta = 2/3): first look-ahead point below 1 at step {np.argmax(nag_path < 1)}; "
      f"exactly 0 from step {np.argmax(nag_path == 0)} on")
assert np.allclose(hb_path[-3:], hb_path[-6:-3], atol=1e-9) and min(abs(hb_path[-3:])) > 0.5
assert np.all(nag_path[np.argmax(nag_path == 0):] == 0) and np.argmax(nag_path == 0) == np.argmax(nag_path < 1) + 2
quad = [from_start, from_start]
for _ in range(300):  # the same heavy ball on the quadratic 12.5 x^2 (curvature 25) converges
    quad.append(quad[-1] - lr_hb * 25 * quad[-1] + beta_hb * (quad[-1] - quad[-2]))
print(f"the same heavy ball on 12.5 x^2 alone: |x_300| = {abs(quad[-1]):.1e}")
assert abs(quad[-1]) < 1e-12

# %% [markdown]
# The cycle is not what happens from every start. From rest at each of 20,001 starts in
# $[-10, 10]$ (spacing 0.001), after 600 steps:

# %%
starts = np.linspace(-10.0, 10.0, 20_001)
x, prev, tail = starts.copy(), starts.copy(), []
for k in range(606):  # the heavy ball from rest at every start; keep the last six iterates
    x, prev = x - lr_hb * lessard_grad(x) + beta_hb * (x - prev), x
    if k >= 600:
        tail.append(x)
tail = np.array(tail)
converged = np.abs(tail).max(axis=0) < 1e-9
cycling = ~converged & (np.abs(tail[3:] - tail[:3]).max(axis=0) < 1e-9)
cycle_points = np.sort(tail[:3, cycling], axis=0)
edges = np.flatnonzero(np.diff(cycling.astype(int)))
intervals = list(zip(starts[edges[::2] + 1], starts[edges[1::2]], strict=True))
print(f"converge to 0: {converged.sum():,} starts; end in the 3-cycle: {cycling.sum():,} ({cycling.mean():.1%}); "
      f"anything else: {(~converged & ~cycling).sum()}")
print(f"every cycling start ends on the same three points {np.round(cycle_points[:, 0], 4)}: "
      f"{np.ptp(cycle_points, axis=1).max() < 1e-9}")
print(f"the cycling starts form {len(intervals)} intervals:", ", ".join(f"[{a:.3f}, {b:.3f}]" for a, b in intervals))
p, b = starts.copy(), np.zeros_like(starts)
for _ in range(600):  # Nesterov, PyTorch's form, from the same starts
    g = lessard_grad(p)
    b = 2 / 3 * b + g
    p = p - (g + 2 / 3 * b) / 25
nag_ends = p
print(f"Nesterov (lr = 1/25, beta = 2/3) from the same starts: largest |x_600| = {np.abs(nag_ends).max():.1e}")
assert (~converged & ~cycling).sum() == 0 and np.ptp(cycle_points, axis=1).max() < 1e-9
assert 0.09 < cycling.mean() < 0.11 and len(intervals) == 12 and any(3.06 < a <= 3.3 <= b < 3.47 for a, b in intervals)
assert np.abs(nag_ends).max() < 1e-12

# %% [markdown]
# So the heavy ball's failure is real but depends on the start: from these starts it cycles from
# about one in ten (every one of them on the same three points), in twelve intervals, among them
# $[3.062, 3.463]$ around Lessard et al.'s $3.3$, and converges from all the others. Nesterov with
# the textbook tuning converges from every one of them.

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
ax2.plot(np.abs(hb_path), color=plotting.METHOD_COLORS["momentum"], linestyle=plotting.METHOD_LINESTYLES["momentum"],
         label=r"heavy ball, $\eta = 1/9$, $\beta = 4/9$")
ax2.plot(np.maximum(np.abs(nag_path), 1e-300), color=plotting.METHOD_COLORS["nesterov"],
         linestyle=plotting.METHOD_LINESTYLES["nesterov"], label=r"Nesterov, $\eta = 1/25$, $\beta = 2/3$")
ax2.set_yscale("log")
ax2.set_ylim(1e-17, 1e2)
ax2.set_xlabel("step $k$")
ax2.set_ylabel("$|x_k|$ (from $x_0 = 3.3$)")
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
# $1 - 2/\sqrt{3\kappa+1}$ (Lessard, Recht, Packard, 2016, section 4.5). Check by grid search, the
# coarse grid of section 5(a) and a fine one around the formula's pair:

# %%
kappa = L_v / mu_v
i, j = np.unravel_index(rate_nag.argmin(), rate_nag.shape)
lr_nag = 4 / (3 * L_v + mu_v)
beta_nag = (np.sqrt(3 * kappa + 1) - 2) / (np.sqrt(3 * kappa + 1) + 2)
rho_nag = 1 - 2 / np.sqrt(3 * kappa + 1)
LRf, Bf = np.meshgrid(np.linspace(lr_nag - 0.02, lr_nag + 0.02, 801), np.linspace(beta_nag - 0.02, beta_nag + 0.02, 801),
                      indexing="ij")
rate_fine = theory.nesterov_rate(LRf, Bf, [mu_v, L_v])
lr_hb_v, beta_hb_v, rho_hb_v = theory.optimal_momentum(mu_v, L_v)
print(f"Nesterov, grid search over 198,000 pairs: lr = {lr_axis[i]:.3f}, beta = {beta_axis[j]:.2f}, rate {rate_nag.min():.4f}")
print(f"Nesterov, fine grid of 641,601 pairs (spacing 5e-5) around the formula: best rate {rate_fine.min():.5f}")
print(f"Nesterov, formula: lr = {lr_nag:.3f}, beta = {beta_nag:.3f}, rate {rho_nag:.5f}")
print(f"heavy ball, Polyak's pair: lr = {lr_hb_v:.3f}, beta = {beta_hb_v:.3f}, rate {rho_hb_v:.4f}")
assert rho_nag <= rate_fine.min() + 1e-12 and rate_fine.min() < rho_nag + 2e-4
assert rho_nag <= rate_nag.min() + 1e-12 and rate_nag.min() < rho_nag + 5e-3
assert rho_hb_v < rho_nag

# %% [markdown]
# And Polyak's pair uses $\eta L = 4/(1+1/\sqrt\kappa)^2 \approx 2.67$ here, far outside Nesterov's
# region $\eta L < (2+2\beta)/(1+2\beta) \approx 1.55$: run Nesterov there and it diverges.

# %%
print(f"at Polyak's pair: lr*L = {lr_hb_v * L_v:.3f} (4/(1 + 1/sqrt(kappa))^2 = {4 / (1 + 1 / np.sqrt(kappa)) ** 2:.3f}), "
      f"Nesterov's limit (2+2b)/(1+2b) = {(2 + 2 * beta_hb_v) / (1 + 2 * beta_hb_v):.3f}; "
      f"nesterov_rate = {theory.nesterov_rate(lr_hb_v, beta_hb_v, [mu_v, L_v]):.3f}")
assert np.isclose(lr_hb_v * L_v, 4 / (1 + 1 / np.sqrt(kappa)) ** 2, rtol=1e-12)
steps_cmp = {}
for method in ["momentum", "nesterov"]:
    r = optimizers.run(valley, valley.start, method, lr_hb_v, beta_hb_v, steps=100)
    steps_cmp[method] = r
    print(f"  {method:8s}: " + (f"diverged at step {r.diverged_at}" if r.diverged else f"loss after 100 steps {r.losses[-1]:.1e}"))
assert steps_cmp["nesterov"].diverged and not steps_cmp["momentum"].diverged

# %% [markdown]
# ### (b) Large steps on Rosenbrock, and speed at equal settings
#
# The narrower region matters beyond quadratics. On the Rosenbrock and Beale grids of section 5(c),
# count the configurations that reach $f - f^\star \le 10^{-8}$ within 1000 steps (and stay there),
# and the fewest steps either method needs; and, where both get there, who is faster at the same
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
    diff = done["nesterov"][both] - done["momentum"][both]
    fastest = np.unravel_index(done["momentum"].argmin(), LRr.shape)
    print(f"{name:10s}: reach 1e-8 in {ok_hb.sum()} (heavy ball) and {ok_nag.sum()} (Nesterov) of {ok_hb.size} "
          f"configurations; fewest steps {done['momentum'].min()} vs {done['nesterov'].min()}")
    print(f"{'':12s}largest lr that reaches it: heavy ball {LRr[ok_hb].max():.2e}, Nesterov {LRr[ok_nag].max():.2e}; "
          f"at the heavy ball's fastest setting (lr {LRr[fastest]:.2e}, beta {Br[fastest]:.2f}) Nesterov "
          f"{'diverges' if runs['nesterov'].diverged[fastest] else 'does not diverge'}")
    print(f"{'':12s}where both reach it ({both.sum()} settings), Nesterov minus heavy-ball steps: ", end="")
    if both.sum() <= 10:
        print(", ".join(f"{d:+d} (lr {a:.2e}, beta {b:.2f})" for d, a, b in zip(diff, LRr[both], Br[both], strict=True)))
    else:
        print(f"median {np.median(diff):+.0f}, 10th to 90th percentile {np.percentile(diff, 10):+.0f} to "
              f"{np.percentile(diff, 90):+.0f}; Nesterov sooner in {np.mean(diff < 0):.0%}, later in {np.mean(diff > 0):.0%}")
    if name == "rosenbrock":
        assert ok_hb.sum() > 2 * ok_nag.sum() and done["momentum"].min() < done["nesterov"].min()
        assert 1.8 < LRr[ok_hb].max() / LRr[ok_nag].max() < 2.2 and runs["nesterov"].diverged[fastest]
        assert sorted(diff) == [-399, -23, 1, 1, 130]  # no consistent winner
    else:
        assert 4 <= np.median(diff) <= 6 and 0.7 < np.mean(diff > 0) < 0.8 and np.mean(diff < 0) < 0.25
        assert runs["nesterov"].diverged[fastest]

# %% [markdown]
# On Rosenbrock the heavy ball gets there for more than twice as many settings (19 against 7 of
# 1,360) and, tuned, sooner (398 steps against 478): it reaches the tolerance with learning
# rates up to about twice the largest that works for Nesterov, and at its fastest setting Nesterov
# diverges (on Beale too). At equal settings neither is consistently faster on Rosenbrock: only 5
# settings get there with both, Nesterov is sooner in 2 (by 23 and 399 steps) and later in 3 (by
# 1, 1 and 130). On Beale, over 138 settings, the heavy ball is faster in three out of four, by a
# median of 5 steps. Nesterov's advantages are the ones in section 5: momentum above the
# crossover, saddles, damping, guarantees.
#
# ## 7. Compare them yourself
#
# Rosenbrock with $\eta = 10^{-3}$ and $\beta = 0.9$, 600 steps (the explorer also shows gradient
# descent, blue and solid). Nesterov's first steps (green, dash-dotted) jump across the valley:
# PyTorch's first step is $1+\beta = 1.9$ times the heavy ball's (section 2), and Nesterov's loss
# climbs to 281 at step 3. From step 8 on it stays below the heavy ball's (vermillion, dashed)
# for the rest of the run. The heavy ball's loss goes up at 23 steps, all in its first 51; at
# step 100 it is 22 times Nesterov's, the widest gap after Nesterov's first steps. The gap then
# narrows, as the heavy ball's loss falls slightly faster per step over the last 300 steps, but
# at step 600 the heavy ball's loss is still 2.6 times Nesterov's: it has not caught up. Raise
# **lr** and watch Nesterov diverge first; raise **momentum** towards 0.99 and compare the
# oscillations. Switch the surface to `saddle` or `beale` with the dropdown.

# %%
explorer = TrajectoryExplorer(surface="rosenbrock", lr=1e-3, momentum=0.9, steps=600)
hb_run, nag_run = explorer.runs["momentum"], explorer.runs["nesterov"]
behind = hb_run.losses > nag_run.losses
ratio = hb_run.losses / nag_run.losses
tail_rates = [np.exp(np.polyfit(np.arange(300, 601), np.log(r.losses[300:]), 1)[0]) for r in (hb_run, nag_run)]
hb_rises = np.flatnonzero(np.diff(hb_run.losses) > 0)
print(f"Nesterov's loss at step 3: {nag_run.losses[3]:.0f} (heavy ball {hb_run.losses[3]:.1f}); the heavy ball's loss is "
      f"above Nesterov's at every step from {np.flatnonzero(~behind).max() + 1} to 600")
print(f"the heavy ball's loss rises at {hb_rises.size} steps, the last from step {hb_rises[-1]} to {hb_rises[-1] + 1}")
print(f"heavy ball / Nesterov loss: largest from step 8 on {ratio[8:].max():.1f} (step {ratio[8:].argmax() + 8}: "
      f"{hb_run.losses[100]:.2f} against {nag_run.losses[100]:.2f}); at step 600 {ratio[600]:.1f} "
      f"({hb_run.losses[600]:.1e} against {nag_run.losses[600]:.1e})")
print(f"loss factor per step over steps 300-600: heavy ball {tail_rates[0]:.4f}, Nesterov {tail_rates[1]:.4f}")
assert np.flatnonzero(~behind).max() + 1 == 8 and behind[8:].all()
assert hb_rises.size == 23 and hb_rises[-1] == 50 and 250 < nag_run.losses[3] < 300
assert ratio[8:].argmax() + 8 == 100 and 20 < ratio[100] < 25 and 2 < ratio[600] < 3
assert tail_rates[0] < tail_rates[1]

lr_scan = np.geomspace(1e-4, 1e-2, 401)
first_diverging = {}
for method in ["momentum", "nesterov"]:
    scan = optimizers.run(rosen, rosen.start, method, lr_scan, np.full_like(lr_scan, 0.9), steps=600)
    first_diverging[method] = lr_scan[np.argmax(scan.diverged)]
print(f"beta = 0.9, 600 steps, 401 learning rates from 1e-4 to 1e-2: the smallest that diverges is "
      f"{first_diverging['nesterov']:.2e} for Nesterov, {first_diverging['momentum']:.2e} for the heavy ball")
assert first_diverging["nesterov"] < first_diverging["momentum"]
explorer

# %% [markdown]
# The same two methods over 1,000 steps, on Rosenbrock as above and on Beale at a higher momentum:

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.3))
final = {}
for ax, (name, lr_c, beta_c) in zip(axes, [("rosenbrock", 1e-3, 0.9), ("beale", 1e-3, 0.95)], strict=True):
    s = surfaces.get(name)
    for method in ["momentum", "nesterov"]:
        r = optimizers.run(s, s.start, method, lr_c, beta_c, steps=1000)
        final[name, method] = (loss_increases(r.losses), r.losses[-1] - s.f_min)
        plotting.loss_curve(ax, r.losses, s.f_min, method)
        print(f"{name:10s} lr = {lr_c:g}, beta = {beta_c}: {method:8s} loss increases {final[name, method][0]:4d}, "
              f"final f - f* {final[name, method][1]:.2e}")
    ax.set_title(rf"{name}, $\eta$ = {lr_c:g}, $\beta$ = {beta_c}")
    ax.legend(loc="upper right")
assert final["rosenbrock", "nesterov"][1] < final["rosenbrock", "momentum"][1]  # still ahead at step 1000
assert final["beale", "nesterov"][0] < final["beale", "momentum"][0]  # fewer overshoots ...
assert 8 < final["beale", "nesterov"][1] / final["beale", "momentum"][1] < 10  # ... and still behind
fig.tight_layout()
plt.show()

# %% [markdown]
# On Rosenbrock Nesterov is still ahead at step 1,000. On Beale at $\beta = 0.95$ its loss goes
# up at fewer steps (60 against 109) but ends about nine times higher: fewer overshoots are not the
# same as a faster run.
#
# ## Summary
#
# * Nesterov's method takes the gradient at the look-ahead point $x_k + \beta v_k$ (Nesterov 1983;
#   Sutskever et al. 2013). With a constant learning rate, PyTorch's form $b = \beta b + g$,
#   $p \mathrel{-}= \eta(g + \beta b)$ is the same method: its $p_k$ is the look-ahead point and its
#   $b_k = -v_k/\eta$ (checked to $10^{-12}$ against `torch.optim.SGD(nesterov=True)`). With a
#   schedule it is not: with $\eta$ dropping from $10^{-3}$ to $10^{-4}$ at step 250 on
#   Rosenbrock the two paths end 0.009 apart.
# * On a quadratic it is a heavy ball with momentum $\beta(1-\eta\lambda)$ per eigen-direction; its
#   matrix has trace $(1+\beta)(1-\eta\lambda)$ and determinant $\beta(1-\eta\lambda)$.
# * It converges iff $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$: between $4/3$ and 2, against the
#   heavy ball's $2+2\beta$.
# * Measured on this lesson's examples, it beats the heavy ball: on the valley ($\kappa = 20$), each
#   at its best step, for momentum above a crossover at $\beta = 0.588$ (not at the heavy ball's
#   optimum 0.403: the heavy ball's rate cannot go below $\sqrt\beta$, and Nesterov reaches its
#   lower floor $\sqrt{\beta(1-\eta\mu)}$ only once its flat direction ripples; $\beta = 0.9$ is
#   above the heavy ball's optimum only for $\kappa < 1{,}442$); at the saddle $x^2 - y^2$ (never
#   later, and sooner in 91 % of the 1,539 settings that escape within 300 steps); in damping
#   (fewer loss increases in 93 % of 460 settings on Rosenbrock, 25 % of 557 on Beale); and in
#   guarantees (the heavy ball's optimal tuning cycles on Lessard et al.'s function from about one
#   start in ten of 20,001 starts at rest in $[-10, 10]$; Nesterov converges from all of them).
# * It loses when both are tuned on a quadratic ($1 - 2/\sqrt{3\kappa+1}$ against
#   $(\sqrt\kappa-1)/(\sqrt\kappa+1)$), diverges at the heavy ball's optimal pair, and on the
#   Rosenbrock grid reaches the tolerance for fewer settings (7 against 19 of 1,360; the heavy ball
#   gets there with learning rates up to twice as large). At equal settings there is no consistent
#   winner on Rosenbrock (5 settings), and on Beale the heavy ball is faster in three settings out
#   of four (a median of 5 steps).
#
# ## Exercises
#
# ### Exercise 1 (recall)
#
# On an eigen-component with $\eta\lambda = 0.2$, Nesterov with $\beta = 0.9$ behaves exactly like
# a heavy ball with the same step and which momentum? (The check accepts answers within 0.1 %.)

# %%
### BEGIN SOLUTION
answer_1 = 0.9 * (1 - 0.2)
### END SOLUTION
checks.nesterov.effective_momentum(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# A quadratic has eigenvalues in $[0.5, 10]$. With $\beta = 0.9$, PyTorch's Nesterov converges from
# every start if and only if $\eta$ is below a threshold $\bar\eta$. What is $\bar\eta$? (Compare
# with the heavy ball's.) Give it to four significant digits; the check accepts answers within
# 0.05 %.

# %%
### BEGIN SOLUTION
answer_2 = (2 + 2 * 0.9) / ((1 + 2 * 0.9) * 10.0)
### END SOLUTION
checks.nesterov.stability_limit(answer_2)

# %% [markdown]
# ### Exercise 3 (implement)
#
# `torch.optim.SGD(..., nesterov=True, weight_decay=wd)` adds weight decay $\omega$ (PyTorch's
# `weight_decay`). Extend `nesterov_pytorch` into `nesterov_wd(grad, x0, lr, beta, wd, steps)` so
# that its iterates equal PyTorch's. (PyTorch's documentation of `SGD` spells out the algorithm;
# or reason it out: weight decay is the gradient of $\tfrac{\omega}{2}\|p\|^2$, added to the
# loss's gradient.) The check runs `torch.optim.SGD` itself on three surfaces and compares every
# iterate, to a relative $10^{-9}$.

# %%
def nesterov_wd(grad, x0, lr, beta, wd, steps):
    ### BEGIN SOLUTION
    p = np.array(x0, dtype=float)
    b = np.zeros_like(p)
    path = [p.copy()]
    for _ in range(steps):
        g = grad(p) + wd * p
        b = beta * b + g
        p = p - lr * (g + beta * b)
        path.append(p.copy())
    return np.array(path)
    ### END SOLUTION


checks.nesterov.weight_decay_step(nesterov_wd)

# %% [markdown]
# ### Exercise 4 (explore)
#
# The textbook setting for Nesterov on a strongly convex problem is $\eta = 1/L$,
# $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$. On `surfaces.quadratic([1.0, 100.0])` from $(1, 1)$,
# run it (`optimizers.run`, method `"nesterov"`) for 2,000 steps and **measure** its rate from the
# iterates over steps 1,000 to 2,000: $(\|p_{2000}\| / \|p_{1000}\|)^{1/1000}$. The check accepts
# answers within 0.001 of that measurement. Then explain the number with the $2\times2$ matrix:
# what happens to the steep component, where does the flat one sit, and why is a measurement over
# an early or short window (say steps 100 to 300) noticeably higher?

# %%
### BEGIN SOLUTION
s100 = surfaces.quadratic([1.0, 100.0])
run_4 = optimizers.run(s100, [1.0, 1.0], "nesterov", 1 / 100.0, 9 / 11, steps=2000)
err_4 = np.hypot(run_4.points[:, 0], run_4.points[:, 1])
answer_4 = (err_4[2000] / err_4[1000]) ** (1 / 1000)
### END SOLUTION
checks.nesterov.textbook_rate(answer_4)
