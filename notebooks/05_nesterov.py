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
# # Lesson 05: Nesterov momentum
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
# 4. say, with measurements on this lesson's examples and under their conditions, where it beats
#    the heavy ball (on a quadratic with $\kappa = 20$, each at its best step, for momentum above a
#    crossover at $\beta \approx 0.59$, a crossover that grows with $\kappa$; at a saddle, where from six starts
#    it never escapes later; in fewer overshoots on Rosenbrock and Beale)
#    and where it does not (the best tuning on a quadratic; large steps), which comparisons depend
#    on where the runs start, and what its convergence guarantee beyond quadratics does and does not
#    say about the heavy ball.
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
from lessons_lib.progress import progress
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
# The y-parts (across the valley) of the three pieces of the step, signed: + is the direction of travel.
step_hb_y, step_nag_y = [(-lr_demo * valley.grad(x))[1] for x in (x_now, ahead)]
print(f"y-parts: momentum beta v_y = {beta_demo * v_now[1]:+.2f}; gradient step at x_k {step_hb_y:+.2f} (heavy ball), "
      f"at the look-ahead point {step_nag_y:+.3f} (Nesterov)")
assert valley.f(nag_next) < valley.f(hb_next)
assert hb_next[1] > 0 > x_now[1] and abs(nag_next[1]) < 0.1 * abs(hb_next[1])  # across the floor vs near it
assert f"{step_hb_y:+.2f}" == "+0.96" and f"{step_nag_y:+.3f}" == "-0.336"  # the numbers the text quotes
assert f"{hb_next[1]:.2f}" == "1.38" and f"{nag_next[1]:.3f}" == "0.084" and f"{ahead[1]:.2f}" == "0.42"

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
# The heavy ball's gradient is computed at $x_k$, on the wall the iterate is leaving
# ($y = -1.2$). There the slope points back up that wall, so the gradient step pushes *the same
# way as the momentum*: it adds $+0.96$ to $y$ on top of $\beta v_y = +1.62$, and the heavy ball
# crosses the valley floor to $y = 1.38$ on the far wall. Nesterov's gradient is computed at the
# look-ahead point $x_k + \beta v_k$, already past the floor ($y = 0.42$), where the slope points
# back: its gradient step is $-0.336$ in $y$, and it ends at $y = 0.084$, near the floor. The
# heavy ball's gradient is stale (it describes where the iterate was); Nesterov's describes where
# the momentum is taking it. As code, next to Nesterov's own 1983 form (constant $\beta$ here), which
# extrapolates first, to $x_k + \beta(x_k - x_{k-1})$, and then takes a gradient step from that
# extrapolated point (Nesterov names it $y_k$; here $y$ is the valley's second coordinate):
#
# $$x_{k+1} = x_k + \beta(x_k - x_{k-1}) - \eta\nabla f\big(x_k + \beta(x_k - x_{k-1})\big).$$
#
# With $v_k = x_k - x_{k-1}$ this is the Sutskever form, and $x_k + \beta v_k$ is the
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
# buffer $b$ of gradients (as for the heavy ball) and $g_k = \nabla f(w_k)$ at its *own* iterate $w_k$
# (the parameter, PyTorch's `p` in the code below),
#
# $$b_{k+1} = \beta b_k + g_k, \qquad w_{k+1} = w_k - \eta\,(g_k + \beta\, b_{k+1}), \qquad b_0 = 0 .$$

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
# points of the Sutskever form: $w_k = x_k + \beta v_k$, with $b_k = -v_k/\eta$.
#
# **Proof.** Define $w_k = x_k + \beta v_k$ and $b_k = -v_k/\eta$ from the Sutskever iterates. Then
# $w_0 = x_0$ and $b_0 = 0$, and the gradient the Sutskever form uses, $\nabla f(x_k + \beta v_k)$, is
# $g_k = \nabla f(w_k)$. Its velocity update $v_{k+1} = \beta v_k - \eta g_k$, divided by $-\eta$, is
# $b_{k+1} = \beta b_k + g_k$: PyTorch's buffer. And
#
# $$w_{k+1} = x_{k+1} + \beta v_{k+1} = x_k + (1+\beta)\,v_{k+1}
# = w_k - \beta v_k + (1+\beta)(\beta v_k - \eta g_k) = w_k + \beta^2 v_k - (1+\beta)\,\eta g_k ,$$
#
# while PyTorch's step gives $w_k - \eta(g_k + \beta(\beta b_k + g_k)) = w_k + \beta^2 v_k - (1+\beta)\eta g_k$,
# the same. By induction the two sequences agree for every $k$. $\square$
#
# The proof divides by $\eta$ twice, at two different steps ($b_k = -v_k/\eta$ and the velocity
# update): it needs the *same* $\eta$ at every step. So, for a constant learning rate, PyTorch
# stores and reports the look-ahead point; the Sutskever $x_k$ is recovered as
# $x_k = w_k - \beta v_k = w_k + \eta\beta\, b_k$. Check it to $10^{-12}$, against our code, the
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


pytorch_runs = {"our PyTorch form": lambda: nesterov_pytorch(rosen.grad, rosen.start, lr, beta, steps),
                "torch.optim.SGD": lambda: torch_sgd(rosen.grad, rosen.start, lr, beta, steps, nesterov=True)}
computed = {name: make() for name, make in progress(pytorch_runs.items(), desc="PyTorch's form, 500 steps each")}
ours, with_torch = computed["our PyTorch form"], computed["torch.optim.SGD"]  # torch's first step takes a moment
reference = optimizers.run(rosen, rosen.start, "nesterov", lr, beta, steps).points
for name, path in [("Sutskever look-ahead x_k + beta v_k", ahead_sut), ("our PyTorch form", ours),
                   ("torch.optim.SGD(nesterov=True)", with_torch)]:
    gap = np.abs(path - reference).max()
    print(f"{name:35s} vs optimizers.run: largest difference over {steps} steps {show_gap(gap)}")
b_rebuilt = np.zeros(2)
x_rebuilt = [ours[0]]
for k in range(steps):  # replay the buffer to recover the Sutskever x_k = w_k + lr beta b_k
    b_rebuilt = beta * b_rebuilt + rosen.grad(ours[k])
    x_rebuilt.append(ours[k + 1] + lr * beta * b_rebuilt)
gap = np.abs(np.array(x_rebuilt) - xs_sut).max()
print(f"x_k recovered from PyTorch's w_k and b_k vs the Sutskever x_k: {show_gap(gap)}")

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
print(f"distance between PyTorch's w_k and the Sutskever look-ahead point: up to step {drop_at} "
      f"{show_gap(apart[:drop_at + 1].max())}; largest {apart.max():.4f} (step {apart.argmax()}), "
      f"at step 500 {apart[-1]:.4f}")
step_pt, step_sut = (np.linalg.norm(np.diff(path, axis=0), axis=1) for path in (pt_sched, sut_sched))
print(f"step length just before / just after the drop: PyTorch {step_pt[drop_at - 1]:.2e} / {step_pt[drop_at]:.2e} "
      f"(x {step_pt[drop_at] / step_pt[drop_at - 1]:.3f}), Sutskever {step_sut[drop_at - 1]:.2e} / "
      f"{step_sut[drop_at]:.2e} (x {step_sut[drop_at] / step_sut[drop_at - 1]:.3f})")
print(f"loss at step 500: PyTorch's form {rosen.f(pt_sched[-1]):.4f}, Sutskever's {rosen.f(sut_sched[-1]):.4f}")
# The numbers the text quotes, to the precision it quotes them:
assert f"{apart.max():.4f}" == "0.0100" and apart.argmax() == 300 and f"{apart[-1]:.3f}" == "0.009"
assert f"{step_pt[drop_at] / step_pt[drop_at - 1]:.1f}" == "0.1"  # tenfold
assert f"{1 - step_sut[drop_at] / step_sut[drop_at - 1]:.0%}" == "17%"
assert f"{rosen.f(pt_sched[-1]):.4f}" == "0.0138" and f"{rosen.f(sut_sched[-1]):.4f}" == "0.0127"

# %% [markdown]
# Up to the drop the two agree to rounding (a constant learning rate so far). At the drop
# PyTorch's step shrinks tenfold at once while the Sutskever step only loses 17 %; from there the
# two part, up to 0.0100 apart at step 300 and 0.009 apart at step 500, and end at different
# losses (0.0138 for PyTorch's form, 0.0127 for Sutskever's). Neither is wrong; they are
# different methods with the same constant-rate limit. (The same is true of the heavy ball's forms, lesson 03.)
#
# ## 3. On a quadratic: a heavy ball with curvature-dependent momentum
#
# On one eigen-component with eigenvalue $\lambda$, write $h = \eta\lambda$. In the 1983 form,
# $x_{k+1} = (1-h)\big((1+\beta)x_k - \beta x_{k-1}\big)$ (a gradient step from the look-ahead point), so
#
# $$x_{k+1} = (1+\beta)(1-h)\,x_k - \beta(1-h)\,x_{k-1},\qquad
# N = \begin{pmatrix} (1+\beta)(1-h) & -\beta(1-h)\\ 1 & 0\end{pmatrix},$$
#
# and the look-ahead points, PyTorch's $w_k = (1+\beta)x_k - \beta x_{k-1}$ (section 2), obey the same
# recurrence (apply $w_{k+1} = (1+\beta)x_{k+1} - \beta x_k$ to it). The characteristic polynomial is
# $\sigma^2 - (1+\beta)(1-h)\sigma + \beta(1-h)$ (roots written $\sigma$, as in lesson 03). Compare the heavy ball's $\sigma^2 - (1+\beta'-h)\sigma + \beta'$:
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


def heavy_ball_from(x0, x1, lr, beta, lam, steps):
    """Polyak's heavy ball x_{k+1} = x_k - lr lam x_k + beta (x_k - x_{k-1}) on f = lam x^2 / 2, from (x_0, x_1)."""
    xs = [x0, x1]
    for _ in range(steps - 1):
        xs.append(xs[-1] - lr * lam * xs[-1] + beta * (xs[-1] - xs[-2]))
    return np.array(xs)


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
    sigma = roots((1 + beta) * (1 - h), beta * (1 - h))
    lapack = np.linalg.eigvals(N).astype(complex)
    assert np.allclose(np.sort_complex(sigma), np.sort_complex(lapack), atol=1e-12)
    hb = heavy_ball_from(p[0, i], p[1, i], lr, beta * (1 - h), lam, 60)
    hb_gap = np.abs(hb - p[:, i]).max()
    print(f"lambda = {lam:3.1f}: (w_(k+1), w_k) = N (w_k, w_(k-1)) for k >= 1, error {show_gap(residual)}; "
          f"|eigenvalues of N| = {np.round(np.abs(lapack), 4)}, theory.nesterov_rate {theory.nesterov_rate(lr, beta, [lam]):.4f}; "
          f"a heavy ball with beta' = beta(1 - h) = {beta * (1 - h):.3f} from (w_0, w_1) reproduces w_k: {show_gap(hb_gap)}")
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
# dominates, measuring the slope of $\log|w_k|$:

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
# The Jury conditions for $\chi(\sigma) = \sigma^2 - (1+\beta)(1-h)\sigma + \beta(1-h)$ (lesson 03, section 5):
#
# * $\chi(1) = 1 - (1+\beta)(1-h) + \beta(1-h) = h > 0$;
# * $\chi(-1) = 1 + (1+\beta)(1-h) + \beta(1-h) = 1 + (1+2\beta)(1-h) > 0 \iff h < 1 + \frac{1}{1+2\beta} = \frac{2+2\beta}{1+2\beta}$;
# * $|\det| = \beta|1-h| < 1$, i.e. $h < 1 + 1/\beta$, which is implied by the previous line.
#
# So PyTorch's (and Sutskever's) Nesterov converges on a quadratic iff
#
# $$0 < \eta\lambda < \frac{2+2\beta}{1+2\beta},$$
#
# which is 2 at $\beta = 0$ and *falls* to $4/3$ as $\beta \to 1$, while the heavy ball's
# $2+2\beta$ rises to 4. In the equivalent heavy ball the momentum $\beta(1-h)$ turns negative for
# $h > 1$, and negative momentum shrinks the stable range. The derivation is checked by
# experiment, the same batched scan as in lesson 03: 9,000 runs of 1,000 steps per method on
# $f = \tfrac12(x^2 + y^2)$, with $\eta\lambda$ from 0.0033 to 4.4933 in steps of 0.01 (offset so
# that no point sits on a boundary); and, for the left end $0 < \eta\lambda$, the same methods
# at $\lambda = 0$ and on $f = -\tfrac12(x^2+y^2)$ ($\lambda = -1$, so $\eta\lambda$ from $-0.4967$
# to $-0.0067$).

# %%
def converges_on(surface, lr, beta):
    """Per (lr, beta): does |x_k| shrink? (below 1e-6 at step 1000, or smaller there than at step 500)"""
    converges = {}
    for method in ["momentum", "nesterov"]:
        scan = optimizers.run(surface, [1.0, 0.0], method, lr=lr, momentum=beta, steps=1000)
        err = np.nan_to_num(np.abs(scan.points[..., [500, -1], 0]), nan=np.inf)
        err_mid, err_end = err[..., 0], err[..., 1]
        converges[method] = (err_end < 1e-6) | (err_end < err_mid)
        del scan  # 9,000 runs of 1,000 steps: free them before the next method
    return converges


betas = np.linspace(0.0, 0.95, 20)
lrs = np.linspace(0.0033, 4.4933, 450)  # eta * lambda on f = (x^2 + y^2)/2; spacing 0.01, off every boundary
B, LR = np.meshgrid(betas, lrs, indexing="ij")
lrs_neg = np.linspace(0.0067, 0.4967, 50)  # on lambda = -1: eta * lambda = -lrs_neg
B_neg, LR_neg = np.meshgrid(betas, lrs_neg, indexing="ij")
scans = {"lambda = 1": (surfaces.quadratic([1.0, 1.0]), LR, B),
         "lambda = -1": (surfaces.quadratic([-1.0, -1.0]), LR_neg, B_neg),
         "lambda = 0": (surfaces.quadratic([0.0, 0.0]), 0.1, betas)}  # lambda = 0: the gradient is 0, x_k stays at 1
found = {key: converges_on(*args) for key, args in progress(scans.items(), desc="two methods, 10,020 runs each")}
converges, at_negative, at_zero = found["lambda = 1"], found["lambda = -1"], found["lambda = 0"]
limit_nag = (2 + 2 * betas) / (1 + 2 * betas)
print("beta   Nesterov: largest converging lr  (2+2b)/(1+2b)  smallest failing | heavy ball: largest  2+2b")
for i, b in enumerate(betas):
    ok_n, ok_h = converges["nesterov"][i], converges["momentum"][i]
    if i % 3 == 0:
        print(f"{b:4.2f} {lrs[ok_n].max():28.4f} {limit_nag[i]:14.4f} {lrs[~ok_n].min():16.4f} | "
              f"{lrs[ok_h].max():19.4f} {2 + 2 * b:5.2f}")
    assert ok_n[lrs < limit_nag[i]].all() and not ok_n[lrs > limit_nag[i]].any()
    assert ok_h[lrs < 2 + 2 * b].all() and not ok_h[lrs > 2 + 2 * b].any()
runs_left = at_negative["nesterov"].size + at_zero["nesterov"].size
print(f"eta*lambda <= 0 ({runs_left} runs per method): Nesterov converges in {sum(c['nesterov'].sum() for c in (at_negative, at_zero))}, "
      f"the heavy ball in {sum(c['momentum'].sum() for c in (at_negative, at_zero))}")
assert not any(c[m].any() for c in (at_negative, at_zero) for m in c)
print(f"all {converges['nesterov'].size + runs_left:,} Nesterov runs agree with 0 < lr*lambda < (2+2 beta)/(1+2 beta)")

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
ax.set_title("measured convergence regions (2 x 9,000 runs)")
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
# interval for both methods; the cell checks that on 2,001 eigenvalues in $[\mu, L]$ for a
# sample of 750 of the grid's 198,000 pairs, every 40th $\eta$ and every 7th $\beta$.)

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
print(f"the ends of [mu, L] give the spectral radius (to 1e-12, both methods) at {LRg[sample].size} of the grid's "
      f"{LRg.size:,} pairs, checked on 2,001 eigenvalues")
best_hb, best_nag = rate_hb.min(axis=0), rate_nag.min(axis=0)
beta_star = theory.optimal_momentum(mu_v, L_v)[1]
cross = beta_axis[np.argmax(best_nag < best_hb)]
print(f"heavy ball's optimum beta* = {beta_star:.3f}; on this grid Nesterov's best rate is first lower at "
      f"beta = {cross:.2f} (the crossover is located by bisection, and the grid checked against it, below)")
for b in [0.2, 0.4, 0.6, 0.8, 0.9, 0.95]:
    j = np.argmin(np.abs(beta_axis - b))
    print(f"  beta = {b:4}: best heavy ball {best_hb[j]:.4f} (sqrt(beta) = {np.sqrt(b):.4f}), best Nesterov {best_nag[j]:.4f}")
above, below = beta_axis >= beta_star + 0.01, (beta_axis > 0) & (beta_axis <= beta_star - 0.01)
# That the floor sqrt(beta) is reached, from LAPACK's eigenvalues of the heavy ball's matrix at mu and at L
# (theory.momentum_rate returns sqrt(beta) itself whenever the roots are complex):
M_best, lr_b = np.zeros((2, beta_axis.size, 2, 2)), lr_axis[rate_hb.argmin(axis=0)]
for e, lam in enumerate([mu_v, L_v]):
    M_best[e, :, 0, 0], M_best[e, :, 0, 1], M_best[e, :, 1, 0] = 1 + beta_axis - lr_b * lam, -beta_axis, 1.0
best_hb_lapack = np.abs(np.linalg.eigvals(M_best)).max(axis=-1).max(axis=0)
print(f"heavy ball's best rate on the grid minus sqrt(beta), from LAPACK's eigenvalues: "
      f"{show_gap(np.abs(best_hb_lapack[above] - np.sqrt(beta_axis[above])).max())} for the {above.sum()} momenta above beta* + 0.01, "
      f"at least {(best_hb_lapack[below] - np.sqrt(beta_axis[below])).min():.3f} for the {below.sum()} in (0, beta* - 0.01]")
assert np.allclose(best_hb_lapack, best_hb, rtol=1e-9)  # LAPACK against the library's formula
assert np.allclose(best_hb_lapack[above], np.sqrt(beta_axis[above]), rtol=1e-9)  # the floor sqrt(beta) is reached
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
# while the heavy ball's $\sqrt\beta$ falls. A bound explains part of where it sits. Nesterov's
# rate on this valley is never below its best over all pairs, $1 - 2/\sqrt{3\kappa+1} = 0.744$
# (section 6(a)), while the heavy ball's rate is exactly $\sqrt\beta < 0.744$ for
# $\beta^\star \le \beta < 0.744^2 = 0.553$: so there is no crossover in $[0.403, 0.553)$. The
# bound says nothing below $\beta^\star$ (there the heavy ball's rate is above $\sqrt\beta$). At
# the upper end, Nesterov at its best momentum $\beta_N = 0.592$ is faster ($0.744$ against
# $\sqrt{0.592} = 0.770$); but that the two curves cross only once, which makes 0.592 an upper
# bound for the crossover, is something only the grid above shows. The cell finds the crossover
# without the grid, by bisection on $\beta$ with the best step searched on 100,000 values of $\eta$, and
# then checks the grid against it: Nesterov's best rate is higher at every grid $\beta > 0$
# below it and lower at every grid $\beta$ above it.

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
print(f"closed forms at kappa = {kappa_v:g} (arithmetic, printed, not measured): rho_N = 1 - 2/sqrt(3 kappa + 1) = "
      f"{rho_n:.3f}, rho_N^2 = {rho_n**2:.3f}, beta_N = {beta_n:.3f}, sqrt(beta_N) = {np.sqrt(beta_n):.3f}")
assert rho_n**2 < beta_cross < beta_n and f"{beta_cross:.3f}" == "0.588"
assert np.isclose(best_nag_at(beta_n), rho_n, atol=1e-4)  # Nesterov's best rate at beta_N is the bound (on 100,000 lrs)
# The grid (2,000 learning rates, above) against the bisection (100,000 learning rates): one crossing here.
lower, higher = (beta_axis > 0) & (beta_axis < beta_cross), beta_axis > beta_cross
assert np.all(best_nag[lower] > best_hb[lower]) and np.all(best_nag[higher] < best_hb[higher])
assert abs(best_nag[0] - best_hb[0]) < 1e-12  # beta = 0: both are gradient descent
print(f"the grid's {lower.sum()} momenta in (0, {beta_cross:.4f}): Nesterov's best rate higher at all; "
      f"{higher.sum()} above: lower at all (at beta = 0 both are gradient descent)")

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
    assert below_b < b < above_b  # kappa_b is where beta* passes b (kappa_b itself is arithmetic, printed)

# %% [markdown]
# So $\beta = 0.9$ is more than the heavy ball's optimum only when $\kappa < 1{,}442$, and
# $\beta = 0.99$ only when $\kappa < 158{,}402$. Being above $\beta^\star$ is not enough for Nesterov
# to win, though: the crossover of (a), 0.588 at $\kappa = 20$, moves with $\kappa$ too. The cell
# finds it for several $\kappa$ by the same bisection ($\mu = 1$, $L = \kappa$; Nesterov's best step
# searched on 20,000 values of $\eta$ up to its limit $(2+2\beta)/((1+2\beta)L)$; above $\beta^\star$
# the heavy ball's best rate is $\sqrt\beta$), then, by bisection on $\kappa$, where the crossover
# reaches 0.9 and 0.99, and compares the two methods at $\kappa = 700$, $\beta = 0.9$:

# %%
def best_nag_rate(b, kappa, n=20_000):
    """Nesterov's best rate over lr on [1, kappa] at momentum b: lr on n points up to its stability limit."""
    lrs = np.linspace(1e-7, 1.0, n) * (2 + 2 * b) / ((1 + 2 * b) * kappa)
    return theory.nesterov_rate(lrs, b, [1.0, kappa]).min()


def crossover_at(kappa):
    """The momentum at which Nesterov's best rate equals the heavy ball's floor sqrt(beta), by bisection."""
    lo, hi = theory.optimal_momentum(1.0, kappa)[1], 0.9999  # from beta*: the heavy ball's best is sqrt(beta)
    assert best_nag_rate(lo, kappa) > np.sqrt(lo) and best_nag_rate(hi, kappa) < np.sqrt(hi)
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if best_nag_rate(mid, kappa) > np.sqrt(mid) else (lo, mid)
    return (lo + hi) / 2


kappas = [20, 100, 1_000, 10_000]
cross_k = {kap: crossover_at(kap) for kap in progress(kappas, desc="crossover at four condition numbers")}
for kap, c in cross_k.items():
    print(f"kappa = {kap:6,}: heavy ball's optimum beta* = {theory.optimal_momentum(1.0, kap)[1]:.4f}, crossover {c:.4f}")
assert f"{cross_k[20]:.3f}" == "0.588"  # the valley's crossover of (a), found again at mu = 1, L = 20
assert np.all(np.diff(list(cross_k.values())) > 0)  # the crossover grows with kappa
kappa_cross = {}
for b, (lo, hi) in progress([(0.9, (100.0, 1e4)), (0.99, (1e4, 1e6))], desc="kappa where the crossover is 0.9, 0.99"):
    assert best_nag_rate(b, lo) < np.sqrt(b) < best_nag_rate(b, hi)  # Nesterov faster at lo, slower at hi
    for _ in range(30):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if best_nag_rate(b, mid) < np.sqrt(b) else (lo, mid)
    kappa_cross[b] = float(f"{np.sqrt(lo * hi):.3g}")  # three significant digits
    print(f"the crossover is {b} at kappa = {kappa_cross[b]:,.0f}: beta = {b} beats the heavy ball (each at its best "
          f"step) only for smaller kappa")
assert kappa_cross == {0.9: 482, 0.99: 52_800}  # the prose's numbers
nag_700, hb_700 = best_nag_rate(0.9, 700), theory.momentum_rate(np.linspace(1e-7, 3.8 / 700, 20_000), 0.9, [1.0, 700]).min()
print(f"kappa = 700, beta = 0.9 (beta* = {theory.optimal_momentum(1.0, 700)[1]:.3f}): best rate Nesterov {nag_700:.4f}, "
      f"heavy ball {hb_700:.4f}")
assert theory.optimal_momentum(1.0, 700)[1] < 0.9 and hb_700 < nag_700
assert [f"{v:.4f}" for v in (nag_700, hb_700)] == ["0.9758", "0.9487"]

# %% [markdown]
# So $\beta = 0.9$ is above the crossover, where Nesterov at its best step beats the heavy ball at
# its best, only for $\kappa < 482$, and $\beta = 0.99$ only for $\kappa < 52{,}800$. Between 482
# and 1,442, $\beta = 0.9$ is above the heavy ball's optimum and Nesterov is still slower (at
# $\kappa = 700$: 0.9758 against 0.9487). On the valley above ($\kappa = 20$) both momenta are
# above the crossover. Sutskever et al. (2013, section 2.1) describe the effect from the geometry
# of the look-ahead: NAG is "more tolerant of large values" of the momentum than the heavy ball.
# Measured by the best rates on a quadratic, that holds above the crossover only, that is, for
# $\kappa$ below these bounds.
#
# ### (b) Escaping a saddle
#
# On $f = x^2 - y^2$ the $y$ direction has curvature $-2$, i.e. $h = -2\eta < 0$, and the effective
# momentum there is $\beta(1+2\eta) > \beta$. The growing root of the heavy ball's polynomial,
# $\tfrac12\big(1+\beta+|h| + \sqrt{(1+\beta+|h|)^2 - 4\beta}\big)$, increases with the momentum
# (its derivative in $\beta$ is $\tfrac12\big(1 + (\beta + |h| - 1)/\sqrt{\cdot}\big) > 0$, since
# the square root exceeds $|\beta+|h|-1|$), so Nesterov's growing root is larger than the heavy
# ball's for every $\eta$ and every $\beta > 0$. The cell checks that with LAPACK's eigenvalues
# of the two matrices on a grid, then measures the steps until the loss falls below $-1$, from
# the course's start $(-2.5, 0.01)$ and five more (an escape count, like the counts of (c),
# depends on where the runs start):

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
saddle_starts = [(-2.5, 0.01), (-2.5, 1e-4), (-2.5, 0.5), (-3.0, 0.2), (-5.0, 0.01), (-10.0, 0.1)]
assert saddle_starts[0] == tuple(saddle.start)  # the course's start first
shares = {}
print("start: configurations that escape within 300 steps; Nesterov escapes sooner, on the same step, later")
for start in saddle_starts:
    escape = {}
    for method in ["momentum", "nesterov"]:
        r = optimizers.run(saddle, start, method, LRs, Bs, steps=300)
        below = np.nan_to_num(r.losses, nan=-np.inf) <= -1.0
        escape[method] = np.where(below.any(axis=-1), below.argmax(axis=-1), 10**6)
    some = (escape["momentum"] < 10**6) | (escape["nesterov"] < 10**6)
    sooner = np.mean(escape["nesterov"][some] < escape["momentum"][some])
    same = np.mean(escape["nesterov"][some] == escape["momentum"][some])
    later = np.sum(escape["nesterov"][some] > escape["momentum"][some])
    shares[start] = (some.sum(), sooner, same, later)
    print(f"  ({start[0]:5.1f}, {start[1]:g}): {some.sum()} of {some.size}; sooner in {sooner:.0%}, same step in "
          f"{same:.0%}, later in {later}")
sooner_all = [share[1] for share in shares.values()]
print(f"over the six starts: later in {sum(share[3] for share in shares.values())} configurations; sooner in "
      f"{min(sooner_all):.0%} to {max(sooner_all):.0%} of those that escape")
assert all(share[3] == 0 for share in shares.values())  # never later, from every start
n0, sooner0, same0, _ = shares[saddle_starts[0]]
assert n0 == 1539 and f"{sooner0:.0%}" == "91%" and f"{same0:.0%}" == "9%"  # the course's start, quoted below
assert f"{min(sooner_all):.0%}" == "49%" and f"{max(sooner_all):.0%}" == "95%"

# %% [markdown]
# A larger growth factor does not always show as an earlier escape step: the steps are counted in
# whole numbers, and both can cross $-1$ on the same step (from the course's start, in 9 % of the
# 1,539 settings that escape; Nesterov is sooner in the other 91 %). How often Nesterov is sooner
# depends on the start: 49 % to 95 % of the settings that escape, over the six starts. That it
# never escapes later holds from all six.
#
# ### (c) Damping: fewer overshoots on Rosenbrock and Beale
#
# In steep directions Nesterov's momentum is small, so it rings less. Count the steps on which the
# loss goes *up* in 1,000 steps, for the same $(\eta, \beta)$ on a grid (40 learning rates by 34
# momenta), wherever both methods stay bounded and $\beta \ge 0.5$. A count on a non-convex
# surface depends on where the runs start, so each surface is run from six starts: on Rosenbrock
# the course's start $(-1.5, 2)$, the classic $(-1.2, 1)$ of H. H. Rosenbrock (*An automatic
# method for finding the greatest or least value of a function*, The Computer Journal 3(3),
# 1960) and four more around the curved
# valley; on Beale's function (E. M. L. Beale, *On an iterative method for finding a local minimum
# of a function of more than one variable*, Technical Report 25, Statistical Techniques Research
# Group, Princeton University, 1958) the course's start $(1, 1.5)$ and five more around the minimum
# $(3, 0.5)$. The
# same runs serve section 6(b).

# %%
def loss_increases(losses):
    """Steps on which the loss went up (a diverged run's NaNs count as a huge constant loss)."""
    return np.sum(np.diff(np.nan_to_num(losses, nan=1e300), axis=-1) > 0, axis=-1)


def settled_at(gap, tol):
    """First step after which gap stays <= tol (per configuration); len(gap) if it never does."""
    above = ~(np.nan_to_num(gap, nan=np.inf) <= tol)
    n = above.shape[-1]
    return np.where(above[..., -1], n, n - np.argmax(above[..., ::-1], axis=-1))


grid_starts = {"rosenbrock": [(-1.5, 2.0), (-1.2, 1.0), (0.0, 2.0), (-1.0, -0.5), (1.8, 2.5), (-0.5, 2.5)],
               "beale": [(1.0, 1.5), (0.0, 0.0), (2.0, 0.0), (4.0, 1.0), (2.0, -1.0), (1.0, 1.0)]}
grid_axes = {name: np.meshgrid(np.geomspace(1e-4, lr_hi, 40), np.linspace(0.0, 0.98, 34), indexing="ij")
             for name, lr_hi in [("rosenbrock", 4e-3), ("beale", 3e-2)]}
jobs = [(name, start) for name, starts in grid_starts.items() for start in starts]
grid_stats = {}  # (surface, start) -> per method: loss increases, diverged, settled step (arrays of shape 40 x 34)
for name, start in progress(jobs, desc="2 x 12 grids of 1,360 runs"):
    s = surfaces.get(name)
    LRr, Br = grid_axes[name]
    runs = {m: optimizers.run(s, start, m, LRr, Br, steps=1000) for m in ["momentum", "nesterov"]}
    grid_stats[name, start] = {m: {"up": loss_increases(r.losses), "diverged": r.diverged,
                                   "done": settled_at(r.losses - s.f_min, 1e-8)} for m, r in runs.items()}
    del runs  # 2 x 1,360 runs of 1,000 steps: keep only the counts

damping = {}
for name, starts in grid_starts.items():
    print(f"{name}: start, settings where both stay bounded with beta >= 0.5; Nesterov's loss rises fewer / more / "
          "as many times as the heavy ball's (of which both never)")
    for start in starts:
        hb, nag = grid_stats[name, start]["momentum"], grid_stats[name, start]["nesterov"]
        both = ~hb["diverged"] & ~nag["diverged"] & (grid_axes[name][1] >= 0.5)
        up_hb, up_nag = hb["up"][both], nag["up"][both]
        damping[name, start] = (np.mean(up_nag < up_hb), np.mean(up_nag > up_hb), np.mean(up_nag == up_hb),
                                np.mean((up_nag == 0) & (up_hb == 0)), both.sum())
        fewer, more, tie, never, n = damping[name, start]
        print(f"  ({start[0]:4.1f}, {start[1]:4.1f}) {n:4d}:  {fewer:4.0%}  {more:4.0%}  {tie:4.0%}  ({never:.0%})")
    spread = np.array([damping[name, start][:3] for start in starts])
    print(f"  over the six starts: fewer {spread[:, 0].min():.0%}-{spread[:, 0].max():.0%}, more "
          f"{spread[:, 1].min():.0%}-{spread[:, 1].max():.0%}, as many {spread[:, 2].min():.0%}-{spread[:, 2].max():.0%}; "
          f"fewer / more at least {np.min(spread[:, 0] / spread[:, 1]):.1f}")
    assert np.all(spread[:, 0] > 3 * spread[:, 1])  # from every start: fewer far more often than more
# The numbers the text quotes:
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
# From the course's start, Nesterov's loss rises fewer times in 93 % of the 460 Rosenbrock
# settings (more often in 4 %, as often in 2 %); on Beale, where most runs of both never go up,
# it rises fewer times in 25 % of 557, more often in 1 %, and as often in 74 % (in 73 % neither
# goes up; from every Beale start, more than 85 % of the ties are runs that never go up). The
# share depends on the start: over the six starts it is 63-99 % fewer and 1-19 % more on
# Rosenbrock, 12-81 % fewer, 1-4 % more and 14-84 % as many on Beale. What holds from every one of the twelve starts is the direction: Nesterov's loss rises
# fewer times in more than three times as many settings as it rises more times.
#
# ### (d) A guarantee beyond quadratics, for its textbook tuning
#
# Nesterov's method with $\eta = 1/L$ and $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$ converges on
# every $L$-smooth, $\mu$-strongly convex function, with $f(x_k) - f^\star$ shrinking at least like
# $(1 - 1/\sqrt\kappa)^k$ (Nesterov,
# *Introductory Lectures on Convex Optimization*, 2004, section 2.2.1). The heavy ball has no such
# guarantee with its quadratic-optimal tuning. Lessard, Recht and Packard (*Analysis and design of
# optimization algorithms via integral quadratic constraints*, SIAM J. Optim. 26(1), 2016)
# give a one-dimensional function with curvature between $\mu = 1$
# and $L = 25$,
#
# $$f(x) = \begin{cases} \tfrac{25}{2}x^2 & x < 1\\ \tfrac12 x^2 + 24x - 12 & 1 \le x < 2\\ \tfrac{25}{2}x^2 - 24x + 36 & x \ge 2,\end{cases}$$
#
# on which the heavy ball with Polyak's optimal pair for $[1, 25]$ ($\eta = 1/9$, $\beta = 4/9$),
# started at rest at $x_0 = 3.3$, falls into a cycle of period 3 and never converges. Reproduce
# it. Nesterov's method has a shortcut here: once a look-ahead point $w_k$ (PyTorch's iterate) is in $x < 1$, where
# $f'' = L$, its gradient step $1/L$ lands exactly on the minimum, $x_{k+1} = 0$. The next
# look-ahead point is then $w_{k+1} = x_{k+1} + \beta(x_{k+1} - x_k) = -\beta x_k$; if that is below 1
# too (that is, if $x_k > -1/\beta = -1.5$) the next step lands on 0 as well and the method stays
# there, so PyTorch's iterate (the look-ahead point) is exactly 0 two steps after entering
# $x < 1$. The cell checks the condition on the run it shows:

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
enter = np.argmax(nag_path < 1)
x_1983 = nesterov_1983(lessard_grad, [from_start], 1 / 25, (sk - 1) / (sk + 1), 300)[:, 0]  # the x_k of the same run
print(f"Nesterov (lr = 1/25, beta = 2/3): first look-ahead point below 1 at step {enter} ({nag_path[enter]:.4f}); "
      f"there x_k = {x_1983[enter]:.4f} > -1.5, so |x_(k+1)| {show_gap(abs(x_1983[enter + 1]))} and the next look-ahead point -beta x_k = "
      f"{nag_path[enter + 1]:.4f} < 1; exactly 0 from step {np.argmax(nag_path == 0)} on")
assert np.allclose(hb_path[-3:], hb_path[-6:-3], atol=1e-9) and min(abs(hb_path[-3:])) > 0.5
assert x_1983[enter] > -1.5 and np.isclose(nag_path[enter + 1], -2 / 3 * x_1983[enter], rtol=1e-12)
assert np.all(nag_path[np.argmax(nag_path == 0):] == 0) and np.argmax(nag_path == 0) == enter + 2
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
around_start = [f"[{a:.3f}, {b:.3f}]" for a, b in intervals if a <= 3.3 <= b]
assert f"{cycling.mean():.1%}" == "10.3%" and len(intervals) == 12 and around_start == ["[3.062, 3.463]"]
assert np.abs(nag_ends).max() < 1e-12


def heavy_ball_ends(lr, beta, steps=600):
    """The heavy ball from rest at every start, on Lessard et al.'s function: x after `steps` steps."""
    x, prev = starts.copy(), starts.copy()
    for _ in range(steps):
        x, prev = x - lr * lessard_grad(x) + beta * (x - prev), x
    return x


swapped = {}  # each method at the other's tuning, and the heavy ball with less momentum
for lr_t, beta_t in [(1 / 25, 2 / 3), (1 / 25, 0.5)]:
    swapped["heavy ball", lr_t, beta_t] = np.abs(heavy_ball_ends(lr_t, beta_t))
p_nag, buffer = starts.copy(), np.zeros_like(starts)
with np.errstate(over="ignore", invalid="ignore"):  # it diverges: let the numbers overflow
    for _ in range(600):  # Nesterov (PyTorch's form) at Polyak's pair (1/9, 4/9)
        g = lessard_grad(p_nag)
        buffer = beta_hb * buffer + g
        p_nag = p_nag - lr_hb * (g + beta_hb * buffer)
swapped["Nesterov", lr_hb, beta_hb] = np.nan_to_num(np.abs(p_nag), nan=np.inf)
for (name, lr_t, beta_t), ends in swapped.items():
    print(f"{name} at (lr, beta) = ({lr_t:.4f}, {beta_t:.4f}): converge (|x_600| < 1e-9) from "
          f"{int(np.sum(ends < 1e-9)):,} of {starts.size:,} starts; largest |x_600| "
          + (f"{ends.max():.0e}" if np.isfinite(ends.max()) else "overflow (diverged)"))
assert all(swapped["heavy ball", 1 / 25, bt].max() < 1e-40 for bt in (2 / 3, 0.5))
assert f"{swapped['heavy ball', 1 / 25, 2 / 3].max():.0e}" == "7e-53"  # the prose's number
nag_polyak_ok = swapped["Nesterov", lr_hb, beta_hb] < 1e-9
assert nag_polyak_ok.sum() == 1 and starts[nag_polyak_ok][0] == 0.0  # only the start at the minimum itself

# %% [markdown]
# So the heavy ball's failure is real but depends on the start: from these starts it cycles from
# about one in ten (every one of them on the same three points), in twelve intervals, among them
# $[3.062, 3.463]$ around the start $3.3$ used above, and converges from all the others. Nesterov with
# the textbook tuning converges from every one of them.
#
# Is that the method or the tuning? Swap them: the heavy ball at Nesterov's setting
# $(\eta, \beta) = (1/25, 2/3)$ converges from all 20,001 starts too (largest $|x_{600}|$
# $7\cdot10^{-53}$), and so does it at $(1/25, 0.5)$; Nesterov at Polyak's pair $(1/9, 4/9)$ diverges from
# every start but the minimum $x_0 = 0$ (its region on a quadratic is narrower, section 4). So the
# example shows the heavy ball's *quadratic-optimal tuning* failing beyond quadratics, not Nesterov's
# method beating the heavy ball at equal settings. What sets Nesterov apart here is the theorem: its
# textbook tuning converges on every smooth strongly convex function (Nesterov, 2004, cited above),
# while these runs cover one function and these starts.

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
# $1 - 2/\sqrt{3\kappa+1}$ (Lessard, Recht, Packard, 2016, Proposition 1). Check by grid search, the
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
hb_lapack = max(np.abs(np.linalg.eigvals([[1 + beta_hb_v - lr_hb_v * lam, -beta_hb_v], [1.0, 0.0]])).max()
                for lam in (mu_v, L_v))
print(f"heavy ball, grid search over the same 198,000 pairs: best rate {rate_hb.min():.4f}; "
      f"LAPACK's spectral radius at Polyak's pair {hb_lapack:.4f}")
assert rho_nag <= rate_fine.min() + 1e-12 and rate_fine.min() < rho_nag + 2e-4
assert rho_nag <= rate_nag.min() + 1e-12 and rate_nag.min() < rho_nag + 5e-3
assert np.isclose(hb_lapack, rho_hb_v, rtol=1e-6)  # (a double root at both ends: LAPACK is exact only to ~1e-8)
assert rate_hb.min() < rate_fine.min()  # the heavy ball's best on the coarse grid beats Nesterov's on the fine one

# %% [markdown]
# And Polyak's pair uses $\eta L = 4/(1+1/\sqrt\kappa)^2 \approx 2.67$ here, far outside Nesterov's
# region $\eta L < (2+2\beta)/(1+2\beta) \approx 1.55$: run Nesterov there and it diverges. That
# needs a large enough $\kappa$: as $\kappa$ falls to 1, Polyak's $\eta L$ falls to 1 and his
# $\beta^\star$ to 0, where Nesterov's limit is 2. The two cross once, and from then on Polyak's pair
# stays outside: Polyak's $\eta L = 4/(1+1/\sqrt\kappa)^2$ rises with $\kappa$, and so does his
# $\beta^\star = \big((\sqrt\kappa-1)/(\sqrt\kappa+1)\big)^2$, which makes Nesterov's limit
# $(2+2\beta)/(1+2\beta) = 1 + 1/(1+2\beta)$ fall. The cell finds the crossing $\kappa$ (bisection),
# checks it by running Nesterov at Polyak's pair on $\tfrac12(x^2 + \kappa y^2)$ for 1 % less and 1 %
# more, and checks the "from then on" on 400 values of $\kappa$ from 1.001 to $10^6$: the two
# monotonicities, and a run of Nesterov at Polyak's pair on the steep eigen-component ($\eta L$ on
# $f = \tfrac12 x^2$) for each $\kappa$, which shrinks below the crossing and grows above it:

# %%
print(f"at Polyak's pair: lr*L = {lr_hb_v * L_v:.3f} (4/(1 + 1/sqrt(kappa))^2 = {4 / (1 + 1 / np.sqrt(kappa)) ** 2:.3f}), "
      f"Nesterov's limit (2+2b)/(1+2b) = {(2 + 2 * beta_hb_v) / (1 + 2 * beta_hb_v):.3f}; "
      f"nesterov_rate = {theory.nesterov_rate(lr_hb_v, beta_hb_v, [mu_v, L_v]):.3f}")
steps_cmp = {}
for method in ["momentum", "nesterov"]:
    r = optimizers.run(valley, valley.start, method, lr_hb_v, beta_hb_v, steps=100)
    steps_cmp[method] = r
    print(f"  {method:8s}: " + (f"diverged at step {r.diverged_at}" if r.diverged else f"loss after 100 steps {r.losses[-1]:.1e}"))
assert steps_cmp["nesterov"].diverged and not steps_cmp["momentum"].diverged


def polyak_lr_above_nesterov_limit(kappa):
    """Polyak's eta L minus Nesterov's limit (2 + 2 beta)/(1 + 2 beta) at Polyak's beta, for condition number kappa."""
    sk = np.sqrt(kappa)
    beta_p = ((sk - 1) / (sk + 1)) ** 2
    return 4 * kappa / (sk + 1) ** 2 - (2 + 2 * beta_p) / (1 + 2 * beta_p)


lo, hi = 1.5, 20.0  # below at 1.5, above at 20
assert polyak_lr_above_nesterov_limit(lo) < 0 < polyak_lr_above_nesterov_limit(hi)
for _ in range(60):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if polyak_lr_above_nesterov_limit(mid) < 0 else (lo, mid)
kappa_div = (lo + hi) / 2
outcome = {}
for factor in [0.99, 1.01]:
    lr_p, beta_p, _ = theory.optimal_momentum(1.0, factor * kappa_div)
    r = optimizers.run(surfaces.quadratic([1.0, factor * kappa_div]), [1.0, 1.0], "nesterov", lr_p, beta_p, steps=3000)
    outcome[factor] = r.diverged
    print(f"kappa = {factor} x {kappa_div:.2f}: Nesterov at Polyak's pair " +
          (f"diverges (step {r.diverged_at})" if r.diverged else f"converges (loss after 3000 steps {r.losses[-1]:.0e})"))
print(f"Nesterov diverges at Polyak's pair when kappa > {kappa_div:.2f}")
assert outcome == {0.99: False, 1.01: True} and f"{kappa_div:.2f}" == "4.21"

kappa_grid = np.geomspace(1.001, 1e6, 400)
polyak = [theory.optimal_momentum(1.0, kap) for kap in kappa_grid]
polyak_h = np.array([lr_k * kap for (lr_k, _, _), kap in zip(polyak, kappa_grid, strict=True)])  # Polyak's lr*L
polyak_beta = np.array([beta_k for _, beta_k, _ in polyak])
nag_limit = (2 + 2 * polyak_beta) / (1 + 2 * polyak_beta)
steep = optimizers.run(surfaces.quadratic([1.0, 1.0]), [1.0, 0.0], "nesterov", polyak_h, polyak_beta, steps=2000)
size = np.nan_to_num(np.abs(steep.points[:, [1000, 2000], 0]), nan=np.inf)
grows = steep.diverged | (size[:, 1] > size[:, 0])
print(f"{kappa_grid.size} values of kappa from {kappa_grid[0]} to {kappa_grid[-1]:.0e}: Polyak's lr*L rises at every step "
      f"of the grid: {bool(np.all(np.diff(polyak_h) > 0))}; Nesterov's limit at Polyak's beta falls at every step: "
      f"{bool(np.all(np.diff(nag_limit) < 0))}; Nesterov at Polyak's pair grows on the steep component exactly "
      f"for the {int(grows.sum())} values above {kappa_div:.2f}: {bool(np.array_equal(grows, kappa_grid > kappa_div))}")
assert np.all(np.diff(polyak_h) > 0) and np.all(np.diff(nag_limit) < 0)
assert np.array_equal(grows, kappa_grid > kappa_div)

# %% [markdown]
# ### (b) Large steps on Rosenbrock and Beale; speed depends on the start
#
# The narrower region matters beyond quadratics. On the Rosenbrock and Beale grids of section 5(c),
# from the same six starts per surface, count the settings at which each method diverges; those
# that reach $f - f^\star \le 10^{-8}$ within 1000 steps (and stay there), and the fewest steps
# either method needs; and, where both get there, who is faster at the same $(\eta, \beta)$:

# %%
reach = {}
for name, starts in grid_starts.items():
    LRr, Br = grid_axes[name]
    print(f"{name} ({LRr.size} settings): start | diverge: heavy ball, Nesterov | reach 1e-8: heavy ball, Nesterov | "
          "fewest steps | where both reach it: Nesterov sooner, later, same step, median Nesterov minus heavy ball")
    for start in starts:
        hb, nag = grid_stats[name, start]["momentum"], grid_stats[name, start]["nesterov"]
        ok_hb, ok_nag = hb["done"] <= 1000, nag["done"] <= 1000
        both = ok_hb & ok_nag
        diff = nag["done"][both] - hb["done"][both]
        reach[name, start] = {"diverged": (hb["diverged"].sum(), nag["diverged"].sum()), "ok": (ok_hb.sum(), ok_nag.sum()),
                              "fewest": (hb["done"].min(), nag["done"].min()), "diff": diff}
        median = f"{np.median(diff):+6.1f}" if diff.size else "     -"
        print(f"  ({start[0]:4.1f}, {start[1]:4.1f}) | {hb['diverged'].sum():4d} {nag['diverged'].sum():4d} | "
              f"{ok_hb.sum():4d} {ok_nag.sum():4d} | {hb['done'].min():4d} {nag['done'].min():4d} | "
              f"{np.sum(diff < 0):3d} {np.sum(diff > 0):3d} {np.sum(diff == 0):3d} {median}")
    ratios = [reach[name, st]["diverged"][1] / reach[name, st]["diverged"][0] for st in starts]
    print(f"  Nesterov diverges at {min(ratios):.2f} to {max(ratios):.2f} times as many settings as the heavy ball")
    assert all(reach[name, st]["diverged"][1] > reach[name, st]["diverged"][0] for st in starts)  # from every start
    assert f"{min(ratios):.2f} to {max(ratios):.2f}" == {"rosenbrock": "1.17 to 2.03", "beale": "1.04 to 3.38"}[name]

# The course's Rosenbrock start, in detail: the learning rates that get there.
LRr, Br = grid_axes["rosenbrock"]
hb, nag = grid_stats["rosenbrock", (-1.5, 2.0)]["momentum"], grid_stats["rosenbrock", (-1.5, 2.0)]["nesterov"]
fastest = np.unravel_index(hb["done"].argmin(), LRr.shape)
lr_top = LRr[hb["done"] <= 1000].max(), LRr[nag["done"] <= 1000].max()
print(f"rosenbrock from (-1.5, 2): largest lr that reaches 1e-8, heavy ball {lr_top[0]:.2e}, Nesterov {lr_top[1]:.2e}; "
      f"at the heavy ball's fastest setting (lr {LRr[fastest]:.2e}, beta {Br[fastest]:.2f}) Nesterov "
      f"{'diverges' if nag['diverged'][fastest] else 'does not diverge'}")

# The numbers the text quotes.
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
# One thing holds from all twelve starts: Nesterov diverges at more of the grid's settings than
# the heavy ball (1.17 to 2.03 times as many on Rosenbrock, 1.04 to 3.38 on Beale), as its
# narrower region on a quadratic suggests. From the course's Rosenbrock start it also reaches the
# tolerance at fewer settings (7 against 19 of 1,360), and only with learning rates up to about
# half the largest that works for the heavy ball (1.06e-3 against 2.06e-3); at the heavy ball's
# fastest setting it diverges, and tuned it is slower (478 steps against 398).
#
# That part does not survive a change of start. On Rosenbrock the heavy ball reaches the
# tolerance at more settings from 3 of the 6 starts and needs fewer steps, tuned, from 2 of them.
# At equal settings, where both get there (18 settings over the six starts, none from
# $(-1, -0.5)$), Nesterov is sooner in 13 and later in 5; from the course's start alone it is
# sooner in 2 of 5 (by 23 and 399 steps) and later in 3 (by 1, 1 and 130). On Beale the heavy
# ball reaches the tolerance at more settings from 5 of the 6 starts but needs fewer steps, tuned,
# from only 3; at equal settings it is faster more often than Nesterov from 5 of the 6 starts
# (median difference in steps, Nesterov minus heavy ball, +2 to +8; from the course's start it is
# faster in 103 of 138 settings and Nesterov in 26), while from $(4, 1)$ Nesterov is faster more
# often (median difference $-14$). On these two surfaces, then: from every start the heavy ball
# diverges at fewer settings; which of the two is faster depends on the start and the setting.
#
# ## 7. Compare them yourself
#
# Rosenbrock with $\eta = 10^{-3}$ and $\beta = 0.9$, 600 steps (the explorer also shows gradient
# descent, blue and solid). Nesterov's first steps (green, dash-dotted) jump across the valley:
# PyTorch's first step is $1+\beta = 1.9$ times the heavy ball's (section 2), and Nesterov's loss
# climbs to 281 at step 3. From step 8 on it stays below the heavy ball's (vermillion, dashed;
# the explorer labels it "momentum") for the rest of the run. The heavy ball's loss goes up at
# 23 steps, all in its first 51; at
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
assert hb_rises.size == 23 and hb_rises[-1] == 50 and f"{nag_run.losses[3]:.0f}" == "281"
assert ratio[8:].argmax() + 8 == 100 and f"{ratio[100]:.0f}" == "22" and f"{ratio[600]:.1f}" == "2.6"
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
        label = {"momentum": "heavy ball", "nesterov": "Nesterov"}[method]
        plotting.loss_curve(ax, r.losses, s.f_min, method, label=label)
        print(f"{name:10s} lr = {lr_c:g}, beta = {beta_c}: {label:10s} loss increases {final[name, method][0]:4d}, "
              f"final f - f* {final[name, method][1]:.2e}")
    ax.set_title(rf"{name}, $\eta$ = {lr_c:g}, $\beta$ = {beta_c}")
    ax.legend(loc="upper right")
ratio_beale = final["beale", "nesterov"][1] / final["beale", "momentum"][1]
print(f"beale: Nesterov's final f - f* / the heavy ball's = {ratio_beale:.1f}")
assert final["rosenbrock", "nesterov"][1] < final["rosenbrock", "momentum"][1]  # still ahead at step 1000
assert (final["beale", "nesterov"][0], final["beale", "momentum"][0]) == (60, 109)  # fewer overshoots ...
assert f"{ratio_beale:.0f}" == "9"  # ... and about nine times higher at the end
fig.tight_layout()
plt.show()

# %% [markdown]
# From these starts and at these settings: on Rosenbrock Nesterov is still ahead at step 1,000. On
# Beale at $\beta = 0.95$ its loss goes up at fewer steps (60 against 109) but ends about nine
# times higher: fewer overshoots are not the same as a faster run.
#
# ## Summary
#
# * Nesterov's method takes the gradient at the look-ahead point $x_k + \beta v_k$ (Nesterov 1983;
#   Sutskever et al. 2013). With a constant learning rate, PyTorch's form $b = \beta b + g$,
#   $w \mathrel{-}= \eta(g + \beta b)$ produces the same points: its $w_k$ is the look-ahead point and
#   its $b_k = -v_k/\eta$ (checked to $10^{-12}$ against `torch.optim.SGD(nesterov=True)`). With a
#   schedule the two forms are different methods: with $\eta$ dropping from $10^{-3}$ to $10^{-4}$
#   at step 250 on Rosenbrock their paths end 0.009 apart.
# * On a quadratic it is a heavy ball with momentum $\beta(1-\eta\lambda)$ per eigen-direction; its
#   matrix has trace $(1+\beta)(1-\eta\lambda)$ and determinant $\beta(1-\eta\lambda)$.
# * It converges iff $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$: between $4/3$ and 2, against the
#   heavy ball's $2+2\beta$.
# * Measured on this lesson's examples, it beats the heavy ball: on the valley ($\kappa = 20$), each
#   at its best step, for momentum above a crossover at $\beta = 0.588$ (not at the heavy ball's
#   optimum 0.403: the heavy ball's rate cannot go below $\sqrt\beta$, and Nesterov reaches its
#   lower floor $\sqrt{\beta(1-\eta\mu)}$ only once its flat direction ripples; the crossover grows
#   with $\kappa$, and $\beta = 0.9$ is above it only for $\kappa < 482$, $\beta = 0.99$ only for
#   $\kappa < 52{,}800$); at the saddle $x^2 - y^2$ (from six starts, 40 x 49 settings each: never
#   later, and sooner in 49 % to 95 % of the settings that escape within 300 steps, 91 % from the
#   course's start); in damping (over six starts per surface, at the same $(\eta, \beta)$ on a grid
#   of 40 learning rates by 34 momenta, counted over 1,000 steps where $\beta \ge 0.5$ and both stay
#   bounded: its loss rises fewer times than the heavy ball's in 63-99 % of the settings on
#   Rosenbrock and 12-81 % on Beale, more times in 1-19 % and 1-4 %; on Beale most of the rest are
#   runs where neither rises).
# * Beyond quadratics, Nesterov's textbook tuning ($\eta = 1/L$, $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$)
#   converges on every smooth strongly convex function (Nesterov, 2004; cited, not checked). The heavy
#   ball's quadratic-optimal pair has no such guarantee: on Lessard et al.'s function it cycles from
#   10.3 % of 20,001 starts at rest in $[-10, 10]$. The example separates the tunings, not the methods:
#   at Nesterov's setting $(1/25, 2/3)$, and at $(1/25, 0.5)$, the heavy ball converges from all 20,001
#   starts, as Nesterov does, and Nesterov at Polyak's pair diverges from all but $x_0 = 0$.
# * It loses when both are tuned on a quadratic ($1 - 2/\sqrt{3\kappa+1}$ against
#   $(\sqrt\kappa-1)/(\sqrt\kappa+1)$), diverges at the heavy ball's optimal pair once
#   $\kappa > 4.21$ (here $\kappa = 20$), and diverges at more settings of the Rosenbrock and Beale
#   grids than the heavy ball, from every one of the twelve starts. Which of the two reaches
#   $f - f^\star \le 10^{-8}$ at more settings, which is faster tuned, and which is faster at equal
#   settings depends on the start (on Beale the heavy ball is faster at equal settings more often
#   from 5 of 6 starts).
#
# ## Exercises
#
# ### Exercise 1 (recall)
#
# On an eigen-component with $\eta\lambda = 0.2$, Nesterov with $\beta = 0.9$ behaves exactly like
# a heavy ball with the same step and which momentum? (The check accepts answers within 0.1 %.)

# %% nbgrader={"grade": false, "grade_id": "ex05_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = 0.9 * (1 - 0.2)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex05_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.nesterov.effective_momentum(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# A quadratic has eigenvalues in $[0.5, 10]$. With $\beta = 0.9$, PyTorch's Nesterov converges from
# every start if and only if $0 < \eta < \bar\eta$. What is the threshold $\bar\eta$? (Compare
# with the heavy ball's.) Give it to four significant digits; the check accepts answers within
# 0.05 %.

# %% nbgrader={"grade": false, "grade_id": "ex05_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_2 = (2 + 2 * 0.9) / ((1 + 2 * 0.9) * 10.0)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex05_2_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.nesterov.stability_limit(answer_2)


# %% [markdown]
# ### Exercise 3 (implement)
#
# `torch.optim.SGD(..., nesterov=True, weight_decay=wd)` adds weight decay $\omega$ (PyTorch's
# `weight_decay`). Extend `nesterov_pytorch` into `nesterov_wd(grad, x0, lr, beta, wd, steps)` so
# that its iterates equal PyTorch's. (PyTorch's documentation of `SGD` spells out the algorithm;
# or reason it out: weight decay is the gradient of $\tfrac{\omega}{2}\|w\|^2$, added to the
# loss's gradient.) The check runs `torch.optim.SGD` itself on three surfaces and compares every
# iterate, to a relative $10^{-9}$.

# %% nbgrader={"grade": false, "grade_id": "ex05_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
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


# %% nbgrader={"grade": true, "grade_id": "ex05_3_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.nesterov.weight_decay_step(nesterov_wd)
### BEGIN HIDDEN TESTS
_s = surfaces.quadratic([0.5, 4.0], angle=0.3)
_shifted = surfaces.quadratic([0.5 + 0.2, 4.0 + 0.2], angle=0.3)  # weight decay 0.2 adds 0.2 to each eigenvalue
_want = optimizers.run(_shifted, [1.0, -2.0], "nesterov", 0.05, 0.85, steps=60).points
assert np.allclose(nesterov_wd(_s.grad, [1.0, -2.0], 0.05, 0.85, 0.2, 60), _want, rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (explore)
#
# The textbook setting for Nesterov on a strongly convex problem is $\eta = 1/L$,
# $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$. On `surfaces.quadratic([1.0, 100.0])` from $(1, 1)$,
# run it (`optimizers.run`, method `"nesterov"`) for 2,000 steps and **measure** its rate from the
# iterates over steps 1,000 to 2,000: $(\|w_{2000}\| / \|w_{1000}\|)^{1/1000}$ ($w_k$ the iterates
# `optimizers.run` returns, PyTorch's). The check accepts
# answers within 0.0002 of that measurement, so give four decimals (a rate read off the matrix
# instead of measured lies outside). Then explain the number with the $2\times2$ matrix:
# what happens to the steep component, where does the flat one sit, and why is a measurement over
# an early or short window (say steps 100 to 300) noticeably higher?

# %% nbgrader={"grade": false, "grade_id": "ex05_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
s100 = surfaces.quadratic([1.0, 100.0])
run_4 = optimizers.run(s100, [1.0, 1.0], "nesterov", 1 / 100.0, 9 / 11, steps=2000)
err_4 = np.hypot(run_4.points[:, 0], run_4.points[:, 1])
answer_4 = (err_4[2000] / err_4[1000]) ** (1 / 1000)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex05_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.nesterov.textbook_rate(answer_4)
