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
# The heavy ball of lessons 03 and 04 takes the gradient where the iterate *is*, then coasts.
# Nesterov's method coasts first and takes the gradient where it is *about to be*: a look-ahead,
# one line of code. Where does that make it faster, and where not?
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write Nesterov's update in the look-ahead form (Nesterov 1983; Sutskever et al. 2013) and
#    in PyTorch's form, and say why PyTorch's iterates are the look-ahead points (constant $\eta$);
# 2. read its $2\times2$ matrix on one eigen-component as a heavy ball with momentum
#    $\beta(1-\eta\lambda)$, and derive its region $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$;
# 3. read Nesterov's rate map beside the heavy ball's and find where each is faster (at
#    $\kappa = 100$, Nesterov on 4.7 % of the map: a wedge at large momentum);
# 4. say where it beats the heavy ball on a quadratic (large momentum, each at its best step;
#    escaping a saddle) and where it does not (both tuned; large steps), and what Lessard et
#    al.'s example shows about the heavy ball beyond quadratics.
#
# ## Prerequisites
#
# Lesson 03 (the heavy ball, its $2\times2$ matrix, its region and regimes) and lesson 04 (its
# rate map and Polyak's optimal pair). About 45 minutes.
#
# Notation as in lesson 00 ($\mu$, $L$ the extreme eigenvalues, $\kappa = L/\mu$, $\rho$ the rate).

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import FuncNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import lessons_lib
from lessons_lib import checks, optimizers, plotting, surfaces, theory
from lessons_lib.progress import progress
from lessons_lib.widgets import RateMap, TrajectoryExplorer
from lessons_lib.widgets.rate_map import (
    COMPARE_RGB,
    TIE_RTOL,
    VERDICTS,
    compare_colors,
    compare_rates,
    grid_axes,
    rate_image,
    regime_label_positions,
)

lessons_lib.setup()

# %% [markdown]
# ## 1. The look-ahead gradient
#
# The heavy ball in Sutskever's form, with velocity $v$:
#
# $$v_{k+1} = \beta v_k - \eta\,\nabla f(x_k), \qquad x_{k+1} = x_k + v_{k+1}.$$
#
# The momentum part $\beta v_k$ is fixed before the gradient is seen. Nesterov's idea
# (Y. Nesterov, *A method for solving the convex programming problem with convergence rate
# $O(1/k^2)$*, Soviet Math. Doklady 27, 1983), in the form Sutskever, Martens, Dahl and Hinton
# gave it (*On the importance of initialization and momentum in deep learning*, ICML 2013):
# since that part will be taken anyway, evaluate the gradient at the point it leads to,
#
# $$v_{k+1} = \beta v_k - \eta\,\nabla f(x_k + \beta v_k), \qquad x_{k+1} = x_k + v_{k+1}.$$
#
# One step from the same state on the valley $f(x, y) = 0.1x^2 + 2y^2$ (the example of *Dive into
# Deep Learning*, Zhang, Lipton, Li and Smola, section "Momentum"):

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
assert f"{step_hb_y:+.2f}" == "+0.96" and f"{step_nag_y:+.3f}" == "-0.336" and f"{beta_demo * v_now[1]:+.2f}" == "+1.62"
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
# The heavy ball's gradient, taken at $x_k$ on the wall it is leaving ($y = -1.2$), pushes the same
# way as the momentum: $+0.96$ in $y$ on top of $\beta v_y = +1.62$, and it crosses the floor to
# $y = 1.38$. Nesterov's, taken at the look-ahead point already past the floor ($y = 0.42$), points
# back: $-0.336$, and it ends at $y = 0.084$, near the floor. Nesterov's 1983 form extrapolates,
# then takes a gradient step from there,
#
# $$x_{k+1} = x_k + \beta(x_k - x_{k-1}) - \eta\nabla f\big(x_k + \beta(x_k - x_{k-1})\big),$$
#
# the same method: with $v_k = x_k - x_{k-1}$ it is the form above. (His 1983 scheme lets $\beta$
# grow with $k$; with a constant $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$ and $\eta = 1/L$ it is his
# method for strongly convex functions, *Introductory Lectures on Convex Optimization*, 2004,
# section 2.2.1.)
#
# ## 2. PyTorch's form
#
# `torch.optim.SGD(momentum=beta, nesterov=True)` keeps a buffer $b$ of gradients taken at its
# *own* iterate $w_k$:
#
# $$b_{k+1} = \beta b_k + g_k, \qquad w_{k+1} = w_k - \eta\,(g_k + \beta\, b_{k+1}), \qquad g_k = \nabla f(w_k),\ b_0 = 0 .$$
#
# **With a constant $\eta$, PyTorch's $w_k$ are the look-ahead points** $x_k + \beta v_k$, and
# $b_k = -v_k/\eta$. By induction: $g_k$ is then the gradient the Sutskever form uses; its velocity
# update divided by $-\eta$ is PyTorch's buffer update; and
# $w_{k+1} = x_{k+1} + \beta v_{k+1} = w_k + \beta^2 v_k - (1+\beta)\eta g_k$, which is PyTorch's
# step. So PyTorch stores (and evaluates the loss at) the look-ahead point, and its first step is
# $(1+\beta)\eta g_0$, 1.9 times the heavy ball's at $\beta = 0.9$. The proof divides by $\eta$ at
# two different steps: under a schedule the forms part (Checks; lesson 07 compares conventions).

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


def show_gap(gap, tol=1e-12):
    """How a difference is printed: the bound it is under, also when it is exactly 0 (whether the
    last bits agree exactly depends on the CPU's vector unit, and the printed output must not)."""
    assert gap < tol
    return f"< {tol:.0e}"


rosen = surfaces.get("rosenbrock")  # any smooth function will do: here, Rosenbrock's
lr, beta, steps = 1e-3, 0.9, 500
xs_sut, ahead_sut = nesterov_sutskever(rosen.grad, rosen.start, lr, beta, steps)
pytorch_runs = {"our PyTorch form": lambda: nesterov_pytorch(rosen.grad, rosen.start, lr, beta, steps),
                "torch.optim.SGD": lambda: torch_sgd(rosen.grad, rosen.start, lr, beta, steps, nesterov=True)}
computed = {name: make() for name, make in progress(pytorch_runs.items(), desc="PyTorch's form, 500 steps each")}
ours, with_torch = computed["our PyTorch form"], computed["torch.optim.SGD"]  # torch's first step takes a moment
print(f"500 steps on Rosenbrock: torch.optim.SGD(nesterov=True) vs our PyTorch form {show_gap(np.abs(with_torch - ours).max())}; "
      f"vs the Sutskever look-ahead points x_k + beta v_k {show_gap(np.abs(with_torch - ahead_sut).max())}")
first_torch = torch_sgd(rosen.grad, rosen.start, lr, beta, 1, nesterov=True)[1] - rosen.start
first_hb = torch_sgd(rosen.grad, rosen.start, lr, beta, 1, nesterov=False)[1] - rosen.start
print(f"first step, torch Nesterov / torch heavy ball: {first_torch / first_hb}  (1 + beta = {1 + beta})")
assert np.allclose(first_torch / first_hb, 1 + beta, rtol=1e-12)

# %% [markdown]
# ## 3. On a quadratic: a heavy ball with curvature-dependent momentum
#
# On one eigen-component with eigenvalue $\lambda$, the 1983 form is a gradient step from the
# look-ahead point, $x_{k+1} = (1-\eta\lambda)\big((1+\beta)x_k - \beta x_{k-1}\big)$, so
#
# $$\begin{pmatrix} x_{k+1}\\ x_k\end{pmatrix} = N \begin{pmatrix} x_k\\ x_{k-1}\end{pmatrix},\qquad
# N = \begin{pmatrix} (1+\beta)(1-\eta\lambda) & -\beta(1-\eta\lambda)\\ 1 & 0\end{pmatrix},$$
#
# with characteristic polynomial $\sigma^2 - (1+\beta)(1-\eta\lambda)\sigma + \beta(1-\eta\lambda)$
# (PyTorch's $w_k = (1+\beta)x_k - \beta x_{k-1}$ obey the same recurrence). The heavy ball's is
# $\sigma^2 - (1+\beta'-\eta\lambda)\sigma + \beta'$ (lesson 03). With $\beta' = \beta(1-\eta\lambda)$
# the constant terms agree, and $1 + \beta(1-\eta\lambda) - \eta\lambda = (1+\beta)(1-\eta\lambda)$:
# the middle ones too.
#
# **On a quadratic, Nesterov obeys the recurrence of a heavy ball with the same step and momentum
# $\beta(1-\eta\lambda)$ along the eigenvalue $\lambda$** (the same iterates from the same two
# starting points; Sutskever et al., 2013, section 2.1): full momentum in flat
# directions, little in steep ones, none at $\eta\lambda = 1$, negative beyond. Its rate is the
# largest $|\sigma|$ over the eigenvalues, `theory.nesterov_rate`; measured on a tilted quadratic
# (Checks compare $N$ with LAPACK and with that heavy ball):

# %%
lam_pair = [0.5, 5.0]
tilted = surfaces.quadratic(lam_pair, angle=np.pi / 6)
lr, beta = 0.15, 0.8
run = optimizers.run(tilted, [-6.0, 3.0], "nesterov", lr, beta, steps=400)
k = np.arange(100, 401)
err = np.hypot(run.points[100:, 0], run.points[100:, 1])
measured = np.exp(np.polyfit(k, np.log(err), 1)[0])
predicted = theory.nesterov_rate(lr, beta, lam_pair)
print(f"eigenvalues {lam_pair}, lr = {lr}, beta = {beta}: rate measured over steps 100-400 {measured:.5f}, "
      f"theory.nesterov_rate {predicted:.5f}")
assert np.isclose(measured, predicted, rtol=1e-4)

# %% [markdown]
# ## 4. Its region: $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$
#
# The Jury conditions for $\chi(\sigma) = \sigma^2 - (1+\beta)(1-\eta\lambda)\sigma + \beta(1-\eta\lambda)$
# (lesson 03): $\chi(1) = \eta\lambda > 0$; $\chi(-1) = 1 + (1+2\beta)(1-\eta\lambda) > 0$, i.e.
# $\eta\lambda < (2+2\beta)/(1+2\beta)$; and $\beta|1-\eta\lambda| < 1$, which follows. So Nesterov
# converges on a quadratic iff
#
# $$0 < \eta\lambda < \frac{2+2\beta}{1+2\beta},$$
#
# which is 2 at $\beta = 0$ and *falls* to $4/3$ as $\beta \to 1$, while the heavy ball's $2+2\beta$
# rises to 4: for $\eta\lambda > 1$ the equivalent momentum $\beta(1-\eta\lambda)$ is negative, and negative momentum
# shrinks the stable range. Measured with 9,000 runs of 1,000 steps per method on
# $f = \tfrac12(x^2+y^2)$, and at $\lambda = 0$ and $\lambda = -1$ for the left end:

# %%
def converges_on(lam, lr, beta):
    """Per (lr, beta): does |x_k| shrink on f = lam (x^2 + y^2)/2 from (1, 0)? (below 1e-6 at step 1000, or
    smaller there than at step 500). Both methods in PyTorch's form, every (lr, beta) at once; y stays 0."""
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(beta, dtype=float))
    converges = {}
    with np.errstate(over="ignore", invalid="ignore"):  # diverging runs overflow; inf and nan do not converge
        for method in ["momentum", "nesterov"]:
            x, b, err = np.ones(lr.shape), np.zeros(lr.shape), {}
            for k in range(1, 1001):
                g = lam * x
                b = beta * b + g  # b <- beta b + g
                x = x - lr * (g + beta * b if method == "nesterov" else b)  # Nesterov steps along g + beta b
                if k in (500, 1000):
                    err[k] = np.nan_to_num(np.abs(x), nan=np.inf)
            converges[method] = (err[1000] < 1e-6) | (err[1000] < err[500])
    return converges


betas = np.linspace(0.0, 0.95, 20)
lrs = np.linspace(0.0033, 4.4933, 450)  # eta * lambda on f = (x^2 + y^2)/2; spacing 0.01, off every boundary
B, LR = np.meshgrid(betas, lrs, indexing="ij")
lrs_neg = np.linspace(0.0067, 0.4967, 50)  # on lambda = -1: eta * lambda = -lrs_neg
B_neg, LR_neg = np.meshgrid(betas, lrs_neg, indexing="ij")
scans = {"lambda = 1": (1.0, LR, B), "lambda = -1": (-1.0, LR_neg, B_neg),
         "lambda = 0": (0.0, 0.1, betas)}  # lambda = 0: the gradient is 0, x_k stays at 1
found = {key: converges_on(*args) for key, args in progress(scans.items(), desc="two methods, 10,020 runs each")}
converges, at_negative, at_zero = found["lambda = 1"], found["lambda = -1"], found["lambda = 0"]
for method in ["momentum", "nesterov"]:  # one row of the scan again with the course's optimizers.run
    row = optimizers.run(surfaces.quadratic([1.0, 1.0]), [1.0, 0.0], method, lr=lrs, momentum=betas[10], steps=1000)
    err = np.nan_to_num(np.abs(row.points[..., [500, -1], 0]), nan=np.inf)
    assert np.array_equal(converges[method][10], (err[:, 1] < 1e-6) | (err[:, 1] < err[:, 0]))
limit_nag = (2 + 2 * betas) / (1 + 2 * betas)
agree = [np.array_equal(converges["nesterov"][i], lrs < limit_nag[i]) for i in range(betas.size)]
runs_left = at_negative["nesterov"].size + at_zero["nesterov"].size
left_ok = not any(c[m].any() for c in (at_negative, at_zero) for m in c)
print(f"all {converges['nesterov'].size + runs_left:,} Nesterov runs agree with 0 < lr*lambda < (2+2 beta)/(1+2 beta): "
      f"{all(agree) and left_ok}")
assert all(agree) and left_ok

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
# ## 5. The two rate maps side by side
#
# Lesson 04 drew the heavy ball's rate over $(\eta, \beta)$ for eigenvalues in $[1/\kappa, 1]$ (so
# $L = 1$ and the axis $\eta L$ is $\eta$). Below, at $\kappa = 100$: that map, Nesterov's on the same
# axes with the same four regimes, and which of the two has the smaller rate at each pair (best
# pairs: star, heavy ball; plus, Nesterov).

# %%
kappa_m = 100.0
mu_m, L_m = 1 / kappa_m, 1.0
lr_m, beta_m = grid_axes(300)  # the widget's grid: cell centres, lr*L in (0, 4], beta in (0, 1)
LRm, Bm = np.meshgrid(lr_m, beta_m)  # rows are beta
code_m, ratio_m = compare_rates(LRm, Bm, mu_m, L_m)
share = {verdict: np.mean(code_m == i) for i, verdict in enumerate(VERDICTS)}
rate_h_m, rate_n_m = theory.momentum_rate(LRm, Bm, [mu_m, L_m]), theory.nesterov_rate(LRm, Bm, [mu_m, L_m])
hb_only = np.mean((rate_h_m < 1) & (rate_n_m >= 1))
both = (rate_h_m < 1) & (rate_n_m < 1)
hb_saves = 1 - np.median(ratio_m[both & (code_m == 0)])
best = {"momentum": theory.optimal_momentum(mu_m, L_m), "nesterov": theory.optimal_nesterov(mu_m, L_m)}
print(f"kappa = {kappa_m:g}, {code_m.size:,} pairs: " + ", ".join(f"{v} {s:.1%}" for v, s in share.items()))
print(f"only the heavy ball converges on {hb_only:.1%}; where both converge the heavy ball is faster at "
      f"{np.mean(code_m[both] == 0):.0%} of the pairs, median {hb_saves:.1%} fewer steps")
for method, (lr_o, beta_o, rho_o) in best.items():
    print(f"best pair, {method:8s}: lr*L = {lr_o:.4f}, beta = {beta_o:.4f}, rate {rho_o:.4f}")
assert [f"{share[v]:.1%}" for v in VERDICTS] == ["70.2%", "4.7%", "0.1%", "25.0%"]
assert f"{hb_only:.1%}" == "36.3%" and f"{np.mean(code_m[both] == 0):.0%}" == "88%" and f"{hb_saves:.1%}" == "0.4%"
assert [f"{best[m][2]:.4f}" for m in best] == ["0.8182", "0.8847"]
tie = code_m == 2
print(f"the {tie.sum()} ties: the two rates agree to a relative {TIE_RTOL:g}, all at lr*L <= {LRm[tie].max():.3f} "
      f"and beta <= {Bm[tie].max():.3f}")
assert LRm[tie].max() < 0.08 and Bm[tie].max() < 0.16

# two rows, to fit a 560-px output area: the two rate maps and their colour bar, then the comparison and its key
fig, axd = plt.subplot_mosaic([["hb", "nag", "bar"], ["cmp", "key", "."]], figsize=(7.0, 6.6),
                              width_ratios=(1, 1, 0.06))
axes = [axd["hb"], axd["nag"], axd["cmp"]]
norm = FuncNorm((lambda r: -np.log10(1.0 - np.clip(r, 0.0, 0.999)), lambda v: 1.0 - 10.0 ** (-v)), vmin=0.0, vmax=0.999)
cmap = plt.get_cmap("viridis_r").with_extremes(bad="#c8c8c8")
edge_b = np.linspace(0.0, 0.999, 200)
edges = {"momentum": 2 + 2 * edge_b, "nesterov": theory.nesterov_edge(edge_b)}
for ax, method, who in progress([(axes[0], "momentum", "heavy ball"), (axes[1], "nesterov", "Nesterov")],
                               desc="two rate maps"):
    image = ax.imshow(rate_image(lr_m, beta_m, mu_m, L_m, method), origin="lower", extent=(0, 4, 0, 1), aspect="auto",
                      interpolation="nearest", cmap=cmap, norm=norm)
    for name, spot in regime_label_positions(mu_m, L_m, method=method).items():
        if spot is not None:
            point, text = spot
            ax.annotate(name, point, text, ha="center", va="center", fontsize=8, color="k",
                        arrowprops=None if point == text else dict(arrowstyle="-", color="k", linewidth=0.8))
    ax.plot(edges[method], edge_b, "k", linestyle={"momentum": "-", "nesterov": "--"}[method], linewidth=1.2)
    ax.plot(*best[method][:2], {"momentum": "*", "nesterov": "P"}[method], color="gold", markeredgecolor="k",
            markersize=12)
    ax.set_title(f"{who}: rate (grey: diverges)", fontsize=10)
bar = fig.colorbar(image, cax=axd["bar"], ticks=[0.0, 0.5, 0.8, 0.9, 0.95, 0.99])
bar.ax.set_title(r"$\rho$", fontsize=10)
axes[2].imshow(compare_colors(code_m, ratio_m), origin="lower", extent=(0, 4, 0, 1), aspect="auto",
               interpolation="nearest")
for method, style, marker in [("momentum", "-", "*"), ("nesterov", "--", "P")]:
    axes[2].plot(edges[method], edge_b, "k", linestyle=style, linewidth=1.2)
    axes[2].plot(*best[method][:2], marker, color="gold", markeredgecolor="k", markersize=12)
axes[2].axhline(0.0, color=np.array(COMPARE_RGB[2]) / 255, linewidth=4)  # beta = 0: both are gradient descent
best_marks = [Line2D([], [], linestyle="none", marker=m, color="gold", markeredgecolor="k", markersize=10, label=label)
              for m, label in [("*", "best pair, heavy ball"), ("P", "best pair, Nesterov")]]
edge_lines = [Line2D([], [], color="k", linestyle=style, linewidth=1.2, label=label)
              for style, label in [("-", "divergence edge, heavy ball"), ("--", "divergence edge, Nesterov")]]
axd["key"].legend(handles=[Patch(color=np.array(COMPARE_RGB[i]) / 255, label=VERDICTS[i]) for i in range(4)]
                  + best_marks + edge_lines,
                  loc="center left", title="the map at left, its markers and edges", fontsize=9, title_fontsize=9)
axd["key"].axis("off")
axes[2].set_title("which is faster (pale: by little)", fontsize=10)
for ax in axes:
    ax.set(xlim=(0, 4), xlabel=r"$\eta L$")
axes[0].set_ylabel(r"momentum $\beta$")
axes[2].set_ylabel(r"momentum $\beta$")
axes[1].tick_params(labelleft=False)
fig.tight_layout()
plt.show()

# %% [markdown]
# Nesterov's map is the heavy ball's squeezed to the left: its divergence edge is
# $(2+2\beta)/(1+2\beta) \le 2$, so on 36.3 % of the map only the heavy ball converges.
# Nesterov's best pair (Lessard, Recht and Packard, *Analysis and design of optimization
# algorithms via integral quadratic constraints*, SIAM J. Optim. 26(1), 2016),
# $\eta = 4/(3L+\mu)$, $\beta = (\sqrt{3\kappa+1}-2)/(\sqrt{3\kappa+1}+2)$, has rate
# $1 - 2/\sqrt{3\kappa+1} = 0.8847$, slower than Polyak's 0.8182. And Nesterov is faster only
# in a green wedge at large momentum, 4.7 % of the map; the heavy ball on 70.2 % (where both
# converge: 88 % of the pairs, mostly by little, a median 0.4 % fewer steps). Ties (0.1 %) lie at
# tiny steps and momenta.
#
# Why a wedge? Above its critical-damping curves the heavy ball's roots are complex on both
# components and its rate is stuck at $\sqrt\beta$ (lesson 04). Nesterov's roots multiply to
# $\beta(1-\eta\lambda) < \beta$, a lower floor, which it reaches once its flat component ripples:
# the wedge's left edge lies just left of the curve $\eta\mu = \big((1-\beta)/(1+\beta)\big)^2$ where
# that starts (exercise 5). On the right, Nesterov's steep component has a negative root ($\eta L > 1$),
# which reaches $\sqrt\beta$ at $\eta L = 1 + \sqrt\beta/(1+\sqrt\beta+\beta)$: just below $4/3$ on
# every row at $\kappa = 100$ (1.332 to 1.333), lower at small $\kappa$, whose wedge reaches smaller
# momenta (1.30 at $\kappa = 5$). The wedge narrows as $\kappa$ grows:

# %%
def win_edges(beta, mu, L=1.0):
    """The lr*L interval (left, right) of one row beta where Nesterov's rate is below the heavy ball's,
    each end by bisection on the difference of the two rates (from a scan of 20,001 lrs)."""
    def gap(lr):
        return theory.nesterov_rate(lr, beta, [mu, L]) - theory.momentum_rate(lr, beta, [mu, L])
    scan = np.linspace(1e-4, 2.0, 20_001)
    wins = scan[gap(scan) < 0]
    ends = []
    for lo, hi in [(wins.min() - 1e-4, wins.min()), (wins.max(), wins.max() + 1e-4)]:
        sign_lo = gap(lo) < 0
        for _ in range(50):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if (gap(mid) < 0) == sign_lo else (lo, mid)
        ends.append((lo + hi) / 2)
    return tuple(ends)


edge_rows = {b: win_edges(b, mu_m) for b in [0.85, 0.9, 0.95]}
for b, (left, right) in edge_rows.items():
    print(f"beta = {b}: Nesterov faster for lr*L in ({left:.4f}, {right:.4f}); ((1-beta)/(1+beta))^2/mu = "
          f"{((1 - b) / (1 + b)) ** 2 / mu_m:.4f}, 1 + sqrt(beta)/(1 + sqrt(beta) + beta) = "
          f"{1 + np.sqrt(b) / (1 + np.sqrt(b) + b):.4f}")
    assert abs(right - (1 + np.sqrt(b) / (1 + np.sqrt(b) + b))) < 1e-9 and right < 4 / 3
    assert left < ((1 - b) / (1 + b)) ** 2 / mu_m < 1.01 * left  # just left of the curve, within 1 %
wedge_rows = beta_m[(code_m == 1).any(axis=1)]
right_ends = 1 + np.sqrt(wedge_rows) / (1 + np.sqrt(wedge_rows) + wedge_rows)
print(f"right end 1 + sqrt(beta)/(1 + sqrt(beta) + beta) on the wedge's {wedge_rows.size} rows: "
      f"{right_ends.min():.4f} (lowest row) to {right_ends.max():.4f}")
assert f"{right_ends.min():.3f}" == "1.332" and f"{right_ends.max():.3f}" == "1.333" and right_ends.max() < 4 / 3
code_5, _ = compare_rates(LRm, Bm, 1 / 5, 1.0)  # a small kappa: the wedge reaches far lower momenta
low_5 = beta_m[(code_5 == 1).any(axis=1)].min()
right_5 = 1 + np.sqrt(low_5) / (1 + np.sqrt(low_5) + low_5)
print(f"at kappa = 5 the wedge reaches down to beta = {low_5:.3f}, where its right end is lr*L = {right_5:.2f}")
assert low_5 < 0.35 and f"{right_5:.2f}" == "1.30"
wedge = {}
for kap in [20, 100, 1000]:
    code_k, _ = compare_rates(LRm, Bm, 1 / kap, 1.0)
    wedge[kap] = np.mean(code_k == 1)
print("Nesterov faster on", ", ".join(f"{w:.1%} of the map at kappa = {kap}" for kap, w in wedge.items()))
assert [f"{w:.1%}" for w in wedge.values()] == ["9.7%", "4.7%", "1.6%"]

# %% [markdown]
# Nesterov's map, then the compare map with both runs, at η (L = 1) = 1.0 and momentum β = 0.9,
# inside the wedge. Move η to 1.5, past Nesterov's edge; find the plus (Nesterov's best pair) near
# the wedge's tip; raise κ to 1000 and watch the wedge shrink.

# %%
nesterov_map = RateMap(kappa=100, lr=1.0, beta=0.9, method="nesterov")
nesterov_map

# %%
compare_map = RateMap(kappa=100, lr=1.0, beta=0.9, method="compare")
compare_map

# %% [markdown]
# ## 6. Where it beats the heavy ball on a quadratic, and where it does not
#
# ### (a) Large momentum, each at its best step
#
# Give each method, row by row of the map, its best $\eta$. The heavy ball's best is $\sqrt\beta$
# for every $\beta$ above its optimum $\beta^\star$. Nesterov's is lower above a crossover
# $\beta_\times$, which is not $\beta^\star$ (Nesterov reaches its own floor $\sqrt{\beta(1-\eta\mu)}$ only
# once its flat component ripples) and grows with $\kappa$. The cell finds $\beta_\times$ by bisection,
# then the $\kappa$ where it reaches 0.9 and 0.99:

# %%
def best_nag_rate(b, kappa, n=20_000):
    """Nesterov's best rate over lr on [1, kappa] at momentum b: lr on n points up to its stability limit."""
    lrs = np.linspace(1e-7, 1.0, n) * (2 + 2 * b) / ((1 + 2 * b) * kappa)
    return theory.nesterov_rate(lrs, b, [1.0, kappa]).min()


def best_hb_rate(b, kappa, n=20_000):
    """The heavy ball's best rate over lr on [1, kappa] at momentum b: lr on n geometric points up to its limit."""
    lrs = np.geomspace(1e-6, 1.0, n) * (2 + 2 * b) / kappa
    return theory.momentum_rate(lrs, b, [1.0, kappa]).min()


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
assert [f"{c:.3f}" for c in cross_k.values()] == ["0.588", "0.793", "0.930", "0.977"]
lowest_row = beta_m[(code_m == 1).any(axis=1)].min()  # the lowest beta of the wedge on the map of section 5
print(f"the wedge's lowest row on the map at kappa = 100: beta = {lowest_row:.4f} (cells 1/300 apart)")
assert abs(lowest_row - cross_k[100]) < 1 / 300
assert np.all(np.diff(list(cross_k.values())) > 0)  # the crossover grows with kappa
kappa_cross = {}
for b, (lo, hi) in progress([(0.9, (100.0, 1e4)), (0.99, (1e4, 1e6))], desc="kappa where the crossover is 0.9, 0.99"):
    # Nesterov faster than the heavy ball's floor sqrt(b) at lo; at hi (beyond the kappa where b = beta*),
    # slower than the heavy ball's best over lr. In between, b > beta*: the heavy ball's best is sqrt(b).
    assert best_nag_rate(b, lo) < np.sqrt(b) and best_nag_rate(b, hi) > best_hb_rate(b, hi)
    for _ in range(30):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if best_nag_rate(b, mid) < np.sqrt(b) else (lo, mid)
    kappa_cross[b] = float(f"{np.sqrt(lo * hi):.3g}")  # three significant digits
    print(f"the crossover is {b} at kappa = {kappa_cross[b]:,.0f}: beta = {b} beats the heavy ball (each at its best "
          f"step) only for smaller kappa")
assert kappa_cross == {0.9: 482, 0.99: 52_800}  # the prose's numbers

# %% [markdown]
# So $\beta = 0.9$ beats the heavy ball, each at its best step, only for $\kappa < 482$, and
# $\beta = 0.99$ only for $\kappa < 52{,}800$. At $\kappa = 20$ the crossover is 0.588; at 100 it is
# 0.793, the lowest point of the wedge in section 5. Being above $\beta^\star$ is not enough: for
# $482 < \kappa < 1{,}442$, $\beta = 0.9$ exceeds $\beta^\star$ and Nesterov is still slower (best rates
# 0.9758 against 0.9487 at $\kappa = 700$).
#
# ### (b) Escaping a saddle
#
# On $f = x^2 - y^2$ the $y$ direction has $\lambda = -2$, so $\eta\lambda = -2\eta < 0$ and the
# effective momentum is $\beta(1+2\eta) > \beta$. The heavy ball's growing root $\sigma > 1$ increases
# with the momentum: from $\sigma^2 - (1+\beta+2\eta)\sigma + \beta = 0$ follows
# $d\sigma/d\beta = (\sigma-1)/\sqrt{(1+\beta+2\eta)^2-4\beta} > 0$. So Nesterov's grows faster for every
# $\eta$ and $\beta > 0$ (checked with LAPACK on a grid). Steps until the loss falls below $-1$, from the
# course's start $(-2.5, 0.01)$ and five more, 40 × 49 settings each:

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
# From all six starts Nesterov never escapes later; it is sooner in 49 % to 95 % of the settings
# that escape (91 % of the 1,539 from the course's start; in the other 9 % both cross $-1$ on the
# same step, as steps are whole numbers). Watch it in the explorer: the saddle at $\beta = 0.9$.

# %%
explorer = TrajectoryExplorer(surface="saddle", lr=0.01, momentum=0.9, steps=60)
explorer

# %% [markdown]
# ### (c) Where it does not: both tuned, and large steps
#
# Tuned over both $\eta$ and $\beta$, the heavy ball's $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ is the best
# rate on a quadratic (lesson 04); Nesterov's $1 - 2/\sqrt{3\kappa+1}$ is worse. Polyak's pair is
# also a large step: $\eta L = 4/(1+1/\sqrt\kappa)^2$, outside Nesterov's region once $\kappa$ is
# large enough. On the valley of section 1 ($\kappa = 20$):

# %%
mu_v, L_v = 0.2, 4.0  # the valley 0.1 x^2 + 2 y^2
kappa_v = L_v / mu_v
lr_nag = 4 / (3 * L_v + mu_v)
beta_nag = (np.sqrt(3 * kappa_v + 1) - 2) / (np.sqrt(3 * kappa_v + 1) + 2)
rho_nag = 1 - 2 / np.sqrt(3 * kappa_v + 1)
lr_hb_v, beta_hb_v, rho_hb_v = theory.optimal_momentum(mu_v, L_v)
print(f"best pairs at kappa = {kappa_v:g}: Nesterov lr = {lr_nag:.3f}, beta = {beta_nag:.3f}, rate {rho_nag:.3f}; "
      f"heavy ball (Polyak) lr = {lr_hb_v:.3f}, beta = {beta_hb_v:.3f}, rate {rho_hb_v:.3f}")
print(f"at Polyak's pair lr*L = {lr_hb_v * L_v:.2f}; Nesterov's limit there (2+2b)/(1+2b) = "
      f"{theory.nesterov_edge(beta_hb_v):.2f}")
steps_cmp = {m: optimizers.run(valley, valley.start, m, lr_hb_v, beta_hb_v, steps=100) for m in ["momentum", "nesterov"]}
for method, r in steps_cmp.items():
    print(f"  {method:8s} at Polyak's pair: " + (f"diverged at step {r.diverged_at}" if r.diverged
                                                 else f"loss after 100 steps {r.losses[-1]:.1e}"))
assert steps_cmp["nesterov"].diverged and not steps_cmp["momentum"].diverged
assert [f"{v:.3f}" for v in (rho_nag, rho_hb_v)] == ["0.744", "0.635"] and f"{lr_hb_v * L_v:.2f}" == "2.67"
assert f"{theory.nesterov_edge(beta_hb_v):.2f}" == "1.55" and lr_hb_v * L_v > theory.nesterov_edge(beta_hb_v)


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
assert outcome == {0.99: False, 1.01: True} and f"{kappa_div:.2f}" == "4.21"

# %% [markdown]
# Nesterov's best rate is 0.744 against the heavy ball's 0.635, and at the heavy ball's optimum
# ($\eta L = 2.67$, beyond Nesterov's limit 1.55) Nesterov diverges, as it does at Polyak's pair
# for every $\kappa > 4.21$. Rosenbrock, Beale and Nesterov's guarantee beyond quadratics are lesson 06's.
#
# ## 7. The heavy ball beyond a quadratic: Lessard et al.'s example
#
# Lessard, Recht and Packard (2016) give a function that is not a quadratic but has curvature
# between $\mu = 1$ and $L = 25$ everywhere (it is 1-strongly convex and 25-smooth):
#
# $$f(x) = \begin{cases} \tfrac{25}{2}x^2 & x < 1\\ \tfrac12 x^2 + 24x - 12 & 1 \le x < 2\\ \tfrac{25}{2}x^2 - 24x + 36 & x \ge 2.\end{cases}$$
#
# Their condition: the heavy ball with Polyak's optimal pair for $[1, 25]$, $\eta = 1/9$,
# $\beta = 4/9$ (which converges on *every quadratic* with curvature in $[1, 25]$), started at
# rest at $x_0 = 3.3$. It falls into a cycle of period 3 and never converges. Nesterov with its
# textbook tuning for $[1, 25]$, $\eta = 1/L = 1/25$ and $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1) = 2/3$,
# converges:

# %%
def lessard_grad(x):
    return np.where(x < 1, 25 * x, np.where(x < 2, x + 24, 25 * x - 24))


def heavy_ball_1d(x0, lr, beta, steps, keep=None):
    """Polyak's heavy ball on Lessard et al.'s function from rest (x_{-1} = x_0); x0 may be an array of
    starts. Returns the iterates x_0 .. x_steps, or only the last `keep` of them."""
    x = np.array(x0, dtype=float)
    prev, path = x.copy(), [x.copy()]
    for k in range(steps):
        x, prev = x - lr * lessard_grad(x) + beta * (x - prev), x
        if keep is None or k >= steps - keep:
            path.append(x)
    return np.array(path[-keep:] if keep else path)


lr_hb, beta_hb, _ = theory.optimal_momentum(1.0, 25.0)
print(f"Polyak's pair for [1, 25]: lr = {lr_hb:.4f} = 1/9, beta = {beta_hb:.4f} = 4/9")
hb_path = heavy_ball_1d(3.3, lr_hb, beta_hb, 300)
nag_path = nesterov_pytorch(lessard_grad, [3.3], 1 / 25, 2 / 3, 300)[:, 0]
print("heavy ball from 3.3, last six iterates:", np.round(hb_path[-6:], 4))
print(f"Nesterov (lr = 1/25, beta = 2/3) from 3.3: |x_300| = {abs(nag_path[-1]):.1e}")
assert np.allclose(hb_path[-3:], hb_path[-6:-3], atol=1e-9) and min(abs(hb_path[-3:])) > 0.5
assert abs(nag_path[-1]) < 1e-12
quad = [3.3, 3.3]
for _ in range(300):  # the same heavy ball on the quadratic 12.5 x^2 (curvature 25) converges
    quad.append(quad[-1] - lr_hb * 25 * quad[-1] + beta_hb * (quad[-1] - quad[-2]))
print(f"the same heavy ball on the quadratic 12.5 x^2: |x_300| = {abs(quad[-1]):.1e}")
assert abs(quad[-1]) < 1e-12

starts = np.linspace(-10.0, 10.0, 20_001)  # from rest at each, 600 steps
tail = heavy_ball_1d(starts, lr_hb, beta_hb, 606, keep=6)
converged = np.abs(tail).max(axis=0) < 1e-9
cycling = ~converged & (np.abs(tail[3:] - tail[:3]).max(axis=0) < 1e-9)
print(f"heavy ball at Polyak's pair from {starts.size:,} starts in [-10, 10]: converges from {converged.sum():,}, "
      f"ends in a 3-cycle from {cycling.sum():,} ({cycling.mean():.1%}), anything else {(~converged & ~cycling).sum()}")
assert (~converged & ~cycling).sum() == 0 and f"{cycling.mean():.1%}" == "10.3%"
swapped = {("heavy ball", 1 / 25, 2 / 3): np.abs(heavy_ball_1d(starts, 1 / 25, 2 / 3, 600, keep=1)[-1]),
           ("heavy ball", 1 / 25, 0.5): np.abs(heavy_ball_1d(starts, 1 / 25, 0.5, 600, keep=1)[-1])}
with np.errstate(over="ignore", invalid="ignore"):  # Nesterov at Polyak's pair diverges: let it overflow
    for lr_t, beta_t in progress([(1 / 25, 2 / 3), (lr_hb, beta_hb)], desc="Nesterov from 20,001 starts"):
        p, buffer = starts.copy(), np.zeros_like(starts)
        for _ in range(600):  # Nesterov, PyTorch's form, from every start at once
            g = lessard_grad(p)
            buffer = beta_t * buffer + g
            p = p - lr_t * (g + beta_t * buffer)
        swapped["Nesterov", lr_t, beta_t] = np.nan_to_num(np.abs(p), nan=np.inf)
for (name, lr_t, beta_t), ends in swapped.items():
    print(f"{name:10s} at (lr, beta) = ({lr_t:.4f}, {beta_t:.4f}): converges (|x_600| < 1e-9) from "
          f"{int(np.sum(ends < 1e-9)):,} of {starts.size:,} starts")
assert all(np.all(swapped[key] < 1e-12) for key in swapped if key[2] != beta_hb)
nag_polyak_ok = swapped["Nesterov", lr_hb, beta_hb] < 1e-9
assert nag_polyak_ok.sum() == 1 and starts[nag_polyak_ok][0] == 0.0  # only the start at the minimum itself
nag_polyak_far = swapped["Nesterov", lr_hb, beta_hb][starts != 0] > 1e100  # inf (overflow) counts as far
print(f"Nesterov at Polyak's pair: |x_600| > 1e100 (or overflowed) from {nag_polyak_far.sum():,} of the "
      f"{nag_polyak_far.size:,} starts other than 0")
assert nag_polyak_far.all()

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
ax1.legend(loc="upper center", fontsize=9)
shown = slice(0, 31)  # the first 30 steps: the heavy ball settles into its cycle, Nesterov reaches 0 at once
ax2.plot(np.abs(hb_path[shown]), marker="o", color=plotting.METHOD_COLORS["momentum"], markersize=3,
         linestyle=plotting.METHOD_LINESTYLES["momentum"], label=r"heavy ball $|x_k|$, $\eta = 1/9$, $\beta = 4/9$")
zero_at = int(np.argmax(nag_path == 0))
assert np.all(nag_path[zero_at:] == 0) and np.all(nag_path[:zero_at] != 0)  # nonzero, then exactly 0 for good
assert 0 < zero_at < shown.stop  # the zeros start inside the steps drawn
ax2.plot(np.abs(nag_path[:zero_at]), marker="D", color=plotting.METHOD_COLORS["nesterov"], markersize=3,
         linestyle=plotting.METHOD_LINESTYLES["nesterov"],
         label=r"Nesterov $|w_k|$ (PyTorch's), $\eta = 1/25$, $\beta = 2/3$")
bottom = 1e-17  # a log axis has no 0: the exact zeros are drawn on its bottom edge
ax2.plot(range(zero_at, shown.stop), [bottom] * (shown.stop - zero_at), "v", color=plotting.METHOD_COLORS["nesterov"],
         markersize=4, clip_on=False)
ax2.set_yscale("log")
ax2.set_ylim(bottom, 1e2)
exponents = range(-17, 2, 3)  # the bottom tick is where the zeros are drawn: labelled 0
ax2.set_yticks([10.0**e for e in exponents], ["0" if e == -17 else f"$10^{{{e}}}$" for e in exponents])
ax2.minorticks_off()
for y in (0.07, 0.1):  # a break in the axis between 0 and 10^-14: the scale does not run down to 0
    ax2.plot([-0.012, 0.012], [y - 0.012, y + 0.012], transform=ax2.transAxes, color="black", linewidth=1,
             clip_on=False)
ax2.set_xlim(0, 30)
ax2.annotate(f"Nesterov: exactly 0 from step {zero_at}\n(drawn on the axis: a log\nscale has no 0)", (zero_at, bottom),
             (zero_at + 3, 1e-13), fontsize=9, color=plotting.METHOD_COLORS["nesterov"],
             arrowprops=dict(arrowstyle="->", color="0.3"))
ax2.set_xlabel("step $k$")
ax2.set_ylabel("distance from the minimum 0\n(from $x_0 = 3.3$)")
ax2.legend(loc="center right", fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# The failure depends on the start: from 20,001 starts at rest in $[-10, 10]$ the heavy ball
# cycles from 10.3 % and converges from the rest; Nesterov from all.
# This example separates *tunings*: the heavy ball at Nesterov's setting $(1/25, 2/3)$, or at
# $(1/25, 0.5)$, converges from all 20,001 starts, and Nesterov at Polyak's pair diverges from
# every start but $x_0 = 0$. (Its plunge to exactly 0 is special to this $f$ at $\eta = 1/L$;
# see Checks.) What sets
# Nesterov apart is a theorem: with $\eta = 1/L$, $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$ it
# converges at an accelerated rate on every $L$-smooth, $\mu$-strongly convex function (Nesterov,
# 2004, section 2.2.1). No heavy-ball tuning does: Goujaud, Taylor and Dieuleveut (*Provable
# non-accelerations of the heavy-ball method*, 2023) prove that each is either not accelerated on
# quadratics or fails to converge on some such function (both cited, not checked).
#
# ## Summary
#
# * Nesterov takes the gradient at the look-ahead point $x_k + \beta v_k$. With a constant $\eta$,
#   PyTorch's form gives exactly those points (checked against `torch.optim.SGD(nesterov=True)`
#   to $10^{-12}$); under a schedule it is a different method.
# * On a quadratic it follows a heavy ball's recurrence with momentum $\beta(1-\eta\lambda)$ per
#   eigen-direction, and converges iff $0 < \eta\lambda < (2+2\beta)/(1+2\beta)$: between $4/3$
#   and 2, against the heavy ball's $2+2\beta$ (9,000 runs per method).
# * The two rate maps at $\kappa = 100$: Nesterov is faster on 4.7 % of the $(\eta, \beta)$ map
#   (9.7 % at $\kappa = 20$, 1.6 % at 1,000), a wedge at large momentum ending just below
#   $\eta L = 4/3$; the heavy ball on 70.2 %, and only it converges on 36.3 %.
# * Each at its best step, Nesterov wins above a crossover momentum (0.588 at $\kappa = 20$,
#   0.793 at 100): $\beta = 0.9$ only for $\kappa < 482$. At the saddle $x^2 - y^2$, from six starts,
#   it never escapes later. Both tuned, it loses ($1 - 2/\sqrt{3\kappa+1}$ against
#   $(\sqrt\kappa-1)/(\sqrt\kappa+1)$), and it diverges at Polyak's pair once $\kappa > 4.21$.
# * On Lessard et al.'s 1-strongly convex, 25-smooth function, the heavy ball with Polyak's pair for
#   $[1, 25]$ cycles from 10.3 % of 20,001 starts, and converges from all at Nesterov's tuning: the
#   example separates tunings (that no heavy-ball tuning is accelerated on the class is cited).

# %% [markdown]
# ## Checks
#
# The verification behind the numbers above, for the curious reader and for the reviewer; a
# student can skip to the exercises. Each cell asserts the numbers the story quotes.
#
# **The three forms (sections 1 and 2).** The Sutskever form against Nesterov's 1983 form, and
# the PyTorch forms against the course's reference optimizer, on Rosenbrock; the Sutskever
# $x_k$ recovered from PyTorch's $w_k$ and $b_k$ as $x_k = w_k + \eta\beta\,b_k$:

# %%
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


lr, beta, steps = 1e-3, 0.9, 500
xs_1983 = nesterov_1983(rosen.grad, rosen.start, lr, beta, steps)
print(f"Sutskever form vs Nesterov's 1983 form, 500 steps on Rosenbrock: largest difference {show_gap(np.abs(xs_sut - xs_1983).max())}")
reference = optimizers.run(rosen, rosen.start, "nesterov", lr, beta, steps).points
for name, path in [("Sutskever look-ahead x_k + beta v_k", ahead_sut), ("our PyTorch form", ours),
                   ("torch.optim.SGD(nesterov=True)", with_torch)]:
    print(f"{name:35s} vs optimizers.run: largest difference over {steps} steps {show_gap(np.abs(path - reference).max())}")
b_rebuilt = np.zeros(2)
x_rebuilt = [ours[0]]
for k in range(steps):  # replay the buffer to recover the Sutskever x_k = w_k + lr beta b_k
    b_rebuilt = beta * b_rebuilt + rosen.grad(ours[k])
    x_rebuilt.append(ours[k + 1] + lr * beta * b_rebuilt)
print(f"x_k recovered from PyTorch's w_k and b_k vs the Sutskever x_k: {show_gap(np.abs(np.array(x_rebuilt) - xs_sut).max())}")
first = nesterov_pytorch(rosen.grad, rosen.start, lr, beta, 1)[1] - rosen.start
g0 = rosen.grad(rosen.start)
assert np.allclose(first_torch, -lr * (1 + beta) * g0, rtol=1e-12) and np.allclose(first, first_torch, rtol=1e-12)

# %% [markdown]
# **Under a schedule the forms part.** Rosenbrock, $\beta = 0.9$, $\eta = 10^{-3}$ for 250 steps
# and $10^{-4}$ for 250 (`torch.optim.SGD` with a `LambdaLR` scheduler gives PyTorch's form). The
# Sutskever velocity is a sum of past *steps*, each scaled by its own time's $\eta$; PyTorch's
# buffer a sum of past *gradients*, all scaled by today's. At the drop PyTorch's step shrinks
# tenfold at once, the Sutskever step by 17 %; the paths part, up to 0.0100 apart at step 300,
# 0.009 at step 500, and end at losses 0.0138 (PyTorch's form) and 0.0127 (Sutskever's).

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
lr_schedule = np.where(np.arange(500) < drop_at, 1e-3, 1e-4)
sut_sched = nesterov_sutskever_schedule(rosen.grad, rosen.start, lr_schedule, beta)
pt_sched = nesterov_pytorch_schedule(rosen.grad, rosen.start, lr_schedule, beta)
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
# **The matrix (section 3).** `theory.nesterov_matrix` against one step of the 1983 code; the
# quadratic formula's roots against LAPACK's eigenvalues; the matrix against iterates of the
# PyTorch form on the tilted quadratic; a heavy ball with momentum $\beta(1-\eta\lambda)$ against
# Nesterov, per eigen-component and on a grid of 26,000 pairs $(\eta\lambda, \beta)$, $\eta\lambda$ up to 1.3
# (negative momentum included):

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


eigvals, Q = np.linalg.eigh(tilted.hessian)
lr, beta = 0.15, 0.8
p = optimizers.run(tilted, [-6.0, 3.0], "nesterov", lr, beta, steps=60).points @ Q  # eigen-coordinates
for i, lam in enumerate(eigvals):
    h = lr * lam  # lr*lambda
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
          f"a heavy ball with beta' = beta(1 - lr*lambda) = {beta * (1 - h):.3f} from (w_0, w_1) reproduces w_k: {show_gap(hb_gap)}")
    assert residual < 1e-12 and hb_gap < 1e-12
    assert np.isclose(np.abs(lapack).max(), theory.nesterov_rate(lr, beta, [lam]), rtol=1e-9)

# The equivalence on a grid: Nesterov (PyTorch form, the reference optimizer) on f = x^2/2 for every
# (lr*lambda, beta), against the heavy-ball recurrence with momentum beta (1 - lr*lambda), including lr*lambda > 1
# (negative momentum); H holds lr*lambda.
H, Bq = np.meshgrid(np.linspace(0.005, 1.3, 260), np.linspace(0.0, 0.99, 100), indexing="ij")
nag_grid = optimizers.run(surfaces.quadratic([1.0, 1.0]), [1.0, 0.0], "nesterov", H, Bq, steps=60).points[..., 0]
z_prev, z_now, worst = nag_grid[..., 0], nag_grid[..., 1], 0.0
for k in range(1, 60):
    z_prev, z_now = z_now, z_now - H * z_now + Bq * (1 - H) * (z_now - z_prev)
    worst = max(worst, np.abs(z_now - nag_grid[..., k + 1]).max())
print(f"over {H.size:,} pairs (lr*lambda, beta), 0 < lr*lambda <= 1.3: Nesterov's iterates vs the heavy ball with "
      f"beta (1 - lr*lambda): {show_gap(worst)}")

# %% [markdown]
# **The region (section 4)**, row by row: the largest $\eta\lambda$ that converged against the
# formula, for both methods (every third $\beta$ printed, every one asserted).

# %%
print("beta   Nesterov: largest converging lr  (2+2b)/(1+2b)  smallest failing | heavy ball: largest  2+2b")
for i, b in enumerate(betas):
    ok_n, ok_h = converges["nesterov"][i], converges["momentum"][i]
    if i % 3 == 0:
        print(f"{b:4.2f} {lrs[ok_n].max():28.4f} {limit_nag[i]:14.4f} {lrs[~ok_n].min():16.4f} | "
              f"{lrs[ok_h].max():19.4f} {2 + 2 * b:5.2f}")
    assert ok_n[lrs < limit_nag[i]].all() and not ok_n[lrs > limit_nag[i]].any()
    assert ok_h[lrs < 2 + 2 * b].all() and not ok_h[lrs > 2 + 2 * b].any()
print(f"eta*lambda <= 0 ({runs_left} runs per method): Nesterov converges in "
      f"{sum(c['nesterov'].sum() for c in (at_negative, at_zero))}, the heavy ball in "
      f"{sum(c['momentum'].sum() for c in (at_negative, at_zero))}")

# %% [markdown]
# **The maps (section 5).** Nesterov's best pair at $\kappa = 100$ from `theory.optimal_nesterov`
# (a grid search) against the closed form $1 - 2/\sqrt{301}$; against LAPACK's eigenvalues of $N$
# at both eigenvalues (at $\mu$ the two roots coincide, and LAPACK splits a double root by about
# $\sqrt{\varepsilon_{\text{machine}}} \approx 10^{-8}$, so there the product of the roots, which it
# keeps exact, is compared); and against rates measured from runs, one per eigen-component
# (steps 1,000 to 2,000; on the double root $|x_k| \propto k\rho^k$ measures $\rho\cdot 2^{1/1000}$):

# %%
lr_o, beta_o, rho_o = theory.optimal_nesterov(0.01, 1.0)
rho_closed = 1 - 2 / np.sqrt(301)
print(f"optimal_nesterov(0.01, 1): lr = {lr_o:.6f} (4/(3L + mu) = {4 / 3.01:.6f}), beta = {beta_o:.6f}, "
      f"rate {rho_o:.10f}; 1 - 2/sqrt(301) = {rho_closed:.10f}")
assert abs(rho_o - rho_closed) < 1e-9 and abs(lr_o - 4 / 3.01) < 1e-9
lapack = {lam: np.linalg.eigvals(theory.nesterov_matrix(lr_o, beta_o, lam)) for lam in (0.01, 1.0)}
moduli = {lam: ", ".join(f"{m:.6f}" for m in sorted(np.abs(e))) for lam, e in lapack.items()}  # 6 digits: see above
print(f"LAPACK at L = 1: |sigma| = {moduli[1.0]}; at mu = 0.01: |sigma| = {moduli[0.01]}, "
      f"sqrt|sigma_1 sigma_2| = {np.sqrt(np.abs(np.prod(lapack[0.01]))):.10f}")
assert abs(np.abs(lapack[1.0]).max() - rho_closed) < 1e-9  # the steep component: distinct real roots
assert abs(np.sqrt(np.abs(np.prod(lapack[0.01]))) - rho_closed) < 1e-9  # the flat one: a double root
assert abs(np.abs(lapack[0.01]).max() - rho_closed) < 1e-7
for lam in (0.01, 1.0):
    z = optimizers.run(surfaces.quadratic([lam, lam]), [1.0, 0.0], "nesterov", lr_o, beta_o, steps=2000).points[:, 0]
    measured_o = (abs(z[2000]) / abs(z[1000])) ** (1 / 1000)
    expected_o = rho_closed * (2 ** (1 / 1000) if lam == 0.01 else 1.0)
    print(f"  run on lambda = {lam}: measured {measured_o:.8f}, expected {expected_o:.8f}")
    assert abs(measured_o - expected_o) < (1e-5 if lam == 0.01 else 1e-9)  # k rho^k: 2^(1/1000) only roughly

# %% [markdown]
# The wedge's edges against runs: on each side of each edge found above (at $0.99\times$ and
# $1.1\times$ the left one, $\pm 0.01$ around the right one), and on the curve
# $\eta\mu = \big((1-\beta)/(1+\beta)\big)^2$ itself (rows 0.85 and 0.9; on the row 0.95 the two rates
# there differ by $3\cdot10^{-4}$, less than a double root's factor $k$ shifts a measurement), both
# methods run for 3,000 steps from $(1, 1)$ and their rates measured from the slope of $\log|x_k|$
# over steps 1,000 to 3,000. The order (which is faster) must be the one theory gives: on the curve
# Nesterov, at $0.99\times$ the left end the heavy ball. Each measurement lies within $5\cdot10^{-4}$
# of theory ($10^{-3}$ on the curve, where Nesterov's double root makes $|x_k|$ fall like $k\rho^k$). Then the shares of the map on a grid four times finer, and the widget's readout
# against theory and its own runs:

# %%
surface_m = surfaces.quadratic([mu_m, L_m])
curve_rows = [0.85, 0.9]  # the curve ((1-beta)/(1+beta))^2/mu itself, just right of the left end
probe_lr = np.array([lr_e for b, (left, right) in edge_rows.items() for lr_e in
                     [0.99 * left, 1.1 * left, right - 0.01, right + 0.01]]
                    + [((1 - b) / (1 + b)) ** 2 / mu_m for b in curve_rows])
probe_beta = np.array(np.repeat(list(edge_rows), 4).tolist() + curve_rows)
inside = np.array([edge_rows[b][0] < lr_e < edge_rows[b][1] for lr_e, b in zip(probe_lr, probe_beta, strict=True)])
on_curve = np.arange(probe_lr.size) >= 4 * len(edge_rows)
k_fit = np.arange(1000, 3001)
measured_p = {}
for method in progress(["momentum", "nesterov"], desc="fourteen probes, 3,000 steps each"):  # all at once
    e = np.hypot(*np.moveaxis(optimizers.run(surface_m, [1.0, 1.0], method, probe_lr, probe_beta, steps=3000).points[
        ..., 1000:, :], -1, 0))
    measured_p[method] = np.exp(np.polyfit(k_fit, np.log(e.reshape(-1, k_fit.size)).T, 1)[0]).reshape(probe_lr.shape)
theory_p = {"momentum": theory.momentum_rate(probe_lr, probe_beta, [mu_m, L_m]),
            "nesterov": theory.nesterov_rate(probe_lr, probe_beta, [mu_m, L_m])}
for i, lr_e in enumerate(probe_lr):
    m_h, m_n = measured_p["momentum"][i], measured_p["nesterov"][i]
    print(f"beta = {probe_beta[i]}, lr*L = {lr_e:.4f}{' (the curve)' if on_curve[i] else ''}: measured heavy ball "
          f"{m_h:.5f}, Nesterov {m_n:.5f} (theory {theory_p['momentum'][i]:.5f}, {theory_p['nesterov'][i]:.5f}): "
          f"{'Nesterov' if m_n < m_h else 'heavy ball'} faster")
assert np.array_equal(measured_p["nesterov"] < measured_p["momentum"], inside)
assert np.array_equal(theory_p["nesterov"] < theory_p["momentum"], inside) and inside[on_curve].all()
assert all(np.abs(measured_p[m] - theory_p[m])[~on_curve].max() < 5e-4 for m in measured_p)
assert all(np.abs(measured_p[m] - theory_p[m])[on_curve].max() < 1e-3 for m in measured_p)  # a double root: k rho^k
curve_95 = ((1 - 0.95) / 1.95) ** 2 / mu_m
gap_95 = float(theory.momentum_rate(curve_95, 0.95, [mu_m, L_m]) - theory.nesterov_rate(curve_95, 0.95, [mu_m, L_m]))
print(f"beta = 0.95 on the curve: theory's heavy ball minus Nesterov = {gap_95:.1e} (not probed)")
assert 2.5e-4 < gap_95 < 3.5e-4
lr_f, beta_f = grid_axes(1200)
code_f, _ = compare_rates(lr_f[None, :], beta_f[:, None], mu_m, L_m)
print("on a 1200 x 1200 grid:", ", ".join(f"{v} {np.mean(code_f == i):.1%}" for i, v in enumerate(VERDICTS)))
assert all(abs(np.mean(code_f == i) - share[v]) < 1e-3 for i, v in enumerate(VERDICTS))
print(*compare_map.readout_lines(), sep="\n")
for method, run_w in compare_map.runs.items():
    e = np.hypot(*run_w.points.T)
    slope_w = np.exp(np.polyfit(np.arange(100, 301), np.log(e[100:]), 1)[0])
    print(f"  {method}: rate measured from the widget's run (steps 100-300) {slope_w:.4f}, widget {compare_map.rate_of(method):.4f}")
    assert abs(slope_w - compare_map.rate_of(method)) < 2e-3
assert compare_map.rate_of("nesterov") < compare_map.rate_of("momentum")  # (1, 0.9) is inside the wedge
e_n = np.hypot(*nesterov_map.runs["nesterov"].points.T)  # Nesterov's map: its own run against its readout
slope_n = np.exp(np.polyfit(np.arange(100, 301), np.log(e_n[100:]), 1)[0])
print(f"Nesterov's map at (1.0, 0.9): rate measured from its run (steps 100-300) {slope_n:.4f}, widget "
      f"{nesterov_map.rate:.4f}")
assert abs(slope_n - nesterov_map.rate) < 2e-3
# The text's other points on the compare map: (1.5, 0.9) is past Nesterov's edge (it diverges there, the
# heavy ball converges), and the plus (Nesterov's best pair) is within two cells of the wedge's lowest cell.
tip_row = np.flatnonzero((code_m == 1).any(axis=1))[0]
tip_lr = lr_m[code_m[tip_row] == 1]
print(f"at (1.5, 0.9): rates heavy ball {theory.momentum_rate(1.5, 0.9, [mu_m, L_m]):.4f}, Nesterov "
      f"{theory.nesterov_rate(1.5, 0.9, [mu_m, L_m]):.4f}; the wedge's lowest cells: beta = {beta_m[tip_row]:.4f}, "
      f"lr*L {tip_lr.min():.4f} to {tip_lr.max():.4f}; the plus at ({best['nesterov'][0]:.4f}, {best['nesterov'][1]:.4f})")
assert theory.nesterov_rate(1.5, 0.9, [mu_m, L_m]) > 1 > theory.momentum_rate(1.5, 0.9, [mu_m, L_m])
assert abs(best["nesterov"][1] - beta_m[tip_row]) < 2 / 300 and abs(best["nesterov"][0] - tip_lr.max()) < 2 * 4 / 300

# %% [markdown]
# **The crossover (section 6(a)).** On the valley ($\mu = 0.2$, $L = 4$), each method's best rate
# over 2,000 learning rates for each of 99 momenta (the largest spectral radius over $[\mu, L]$ is
# reached at an end of the interval; checked on 2,001 eigenvalues for a sample of pairs), the
# heavy ball's best against $\sqrt\beta$ from LAPACK, the crossover again by bisection with the best
# step searched on 100,000 values of $\eta$, and the mechanism: Nesterov's best rate reaches its
# floor $\sqrt{\beta(1-\eta\mu)}$ exactly where its flat component ripples. Then the $\kappa$ where
# $\beta^\star$ passes 0.9 (against the heavy ball's best rate from LAPACK), that $\beta = 0.9$ and 0.99
# beat the heavy ball for small $\kappa$ only (both best rates on 31 values of $\kappa$ up to $10^7$),
# and the best rates at $\kappa = 700$.

# %%
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


lr_fine = np.linspace(1e-5, 1.0, 100_000)
best_nag_at = lambda b: theory.nesterov_rate(lr_fine, b, [mu_v, L_v]).min()  # noqa: E731
lo, hi = 0.45, 0.70  # Nesterov slower at 0.45, faster at 0.70 (checked next)
assert best_nag_at(lo) > np.sqrt(lo) and best_nag_at(hi) < np.sqrt(hi)
for _ in range(40):
    mid = (lo + hi) / 2
    lo, hi = (mid, hi) if best_nag_at(mid) > np.sqrt(mid) else (lo, mid)
beta_cross = (lo + hi) / 2
print(f"crossover at kappa = 20: best Nesterov rate (on 100,000 lrs) = sqrt(beta) at beta = {beta_cross:.4f}")
assert f"{beta_cross:.3f}" == "0.588" and abs(beta_cross - cross_k[20]) < 1e-3  # the two bisections agree
assert np.isclose(best_nag_at(beta_nag), rho_nag, atol=1e-4)  # Nesterov's best rate at its best beta: 0.744
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

# Section 6(a)'s "for 482 < kappa < 1,442": beta* passes 0.9 at kappa = 1,442, from Polyak's formula solved
# for kappa; checked independently: at beta = 0.9 the heavy ball's best rate over 20,000 geometric lrs, from
# LAPACK's eigenvalues, is sqrt(0.9) (beta >= beta*) at 0.99 kappa_b and above it at 1.01 kappa_b.
kappa_b = ((1 + np.sqrt(0.9)) / (1 - np.sqrt(0.9))) ** 2


def hb_best_lapack(b, kappa, n=20_000):
    """The heavy ball's best rate over lr on [1, kappa] at momentum b, from LAPACK's eigenvalues of its matrix."""
    lrs_b = np.geomspace(1e-6, (2 + 2 * b) / kappa, n)
    worst = np.zeros(n)
    for lam in (1.0, kappa):
        M = np.zeros((n, 2, 2))
        M[:, 0, 0], M[:, 0, 1], M[:, 1, 0] = 1 + b - lrs_b * lam, -b, 1.0
        worst = np.maximum(worst, np.abs(np.linalg.eigvals(M)).max(axis=-1))
    return worst.min()


near_b = {f: hb_best_lapack(0.9, f * kappa_b) for f in (0.99, 1.01)}
print(f"kappa_b = {kappa_b:,.0f}; heavy ball's best rate at beta = 0.9 (LAPACK): at 0.99 kappa_b {near_b[0.99]:.6f}, "
      f"at 1.01 kappa_b {near_b[1.01]:.6f} (sqrt(0.9) = {np.sqrt(0.9):.6f})")
assert abs(near_b[0.99] - np.sqrt(0.9)) < 1e-9 < near_b[1.01] - np.sqrt(0.9) - 1e-3 and f"{kappa_b:,.0f}" == "1,442"

# Section 6(a)'s "only for kappa < 482 (52,800)": on 31 kappa from 10 to 10^7, each method's best rate over lr at
# beta = 0.9 and 0.99 (the heavy ball's from theory.momentum_rate on a grid, not sqrt(beta)): one switch each.
kappa_scan = np.geomspace(10, 1e7, 31)
for b, printed in [(0.9, 482), (0.99, 52_800)]:
    nag_faster = np.array([best_nag_rate(b, kap) < best_hb_rate(b, kap) for kap in kappa_scan])
    switch = np.flatnonzero(np.diff(nag_faster))
    print(f"beta = {b}: Nesterov's best rate below the heavy ball's at {nag_faster.sum()} of {kappa_scan.size} kappa "
          f"from 10 to 1e7, switching once, between kappa = {kappa_scan[switch[0]]:,.0f} and "
          f"{kappa_scan[switch[0] + 1]:,.0f}")
    assert switch.size == 1 and nag_faster[0] and kappa_scan[switch[0]] < printed < kappa_scan[switch[0] + 1]

nag_700, hb_700 = best_nag_rate(0.9, 700), best_hb_rate(0.9, 700)
print(f"kappa = 700, beta = 0.9 (beta* = {theory.optimal_momentum(1.0, 700)[1]:.3f}): best rate Nesterov {nag_700:.4f}, "
      f"heavy ball {hb_700:.4f}")
assert theory.optimal_momentum(1.0, 700)[1] < 0.9 and hb_700 < nag_700
assert [f"{v:.4f}" for v in (nag_700, hb_700)] == ["0.9758", "0.9487"]

# %% [markdown]
# **Both tuned (section 6(c)).** Nesterov's best pair by grid search (the 198,000 pairs above, and
# 641,601 around the formula), Polyak's pair by LAPACK; and, on 400 values of $\kappa$ from 1.001 to
# $10^6$, that Polyak's $\eta L$ rises, Nesterov's limit at Polyak's $\beta$ falls, and Nesterov at
# Polyak's pair grows on the steep component exactly for $\kappa > 4.21$.

# %%
i, j = np.unravel_index(rate_nag.argmin(), rate_nag.shape)
LRf, Bf = np.meshgrid(np.linspace(lr_nag - 0.02, lr_nag + 0.02, 801), np.linspace(beta_nag - 0.02, beta_nag + 0.02, 801),
                      indexing="ij")
rate_fine = theory.nesterov_rate(LRf, Bf, [mu_v, L_v])
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
# **The saddle (section 6(b)).** The heavy ball's $d\sigma/d\beta = (\sigma-1)/\sqrt{(1+\beta+2\eta)^2-4\beta}$
# against a central difference of LAPACK's growing root, on the 1,960 pairs of the saddle's grid:

# %%
def growing_root(lr, b):
    """LAPACK's largest |eigenvalue| of the heavy ball's matrix on lambda = -2 (lr*lambda = -2 lr)."""
    M = np.stack([np.stack([1 + b + 2 * lr, -b], -1), np.stack([np.ones_like(b), np.zeros_like(b)], -1)], -2)
    return np.abs(np.linalg.eigvals(M)).max(axis=-1)


delta = 1e-6
slope_fd = (growing_root(LRs, Bs + delta) - growing_root(LRs, Bs - delta)) / (2 * delta)
T_s = 1 + Bs + 2 * LRs  # the trace 1 + beta - lr*lambda, with lambda = -2
slope_formula = (grow_hb - 1) / np.sqrt(T_s**2 - 4 * Bs)
print(f"d sigma/d beta: formula against central differences, largest relative gap "
      f"{show_gap(np.abs(slope_fd / slope_formula - 1).max(), 1e-5)}; smallest slope {slope_formula.min():.3f} > 0")
assert slope_formula.min() > 0

# %% [markdown]
# **Lessard et al.'s example (section 7).** Every cycling start ends on the same three points, and
# the cycling starts form 12 intervals, among them $[3.062, 3.463]$ around 3.3; the heavy ball at
# Nesterov's setting ends within $10^{-40}$ of 0 from every start. Nesterov has a shortcut here:
# once a look-ahead point $w_k$ is in $x < 1$, where $f'' = L$, its step $1/L$ lands exactly on the
# minimum, $x_{k+1} = 0$; the next look-ahead point is $-\beta x_k$, also below 1 if
# $x_k > -1/\beta = -1.5$, and then PyTorch's iterate is exactly 0 from two steps after entering.

# %%
cycle_points = np.sort(tail[:3, cycling], axis=0)
edges_c = np.flatnonzero(np.diff(cycling.astype(int)))
intervals = list(zip(starts[edges_c[::2] + 1], starts[edges_c[1::2]], strict=True))
print(f"every cycling start ends on the same three points {np.round(cycle_points[:, 0], 4)}: "
      f"{np.ptp(cycle_points, axis=1).max() < 1e-9}")
print(f"the cycling starts form {len(intervals)} intervals:", ", ".join(f"[{a:.3f}, {b:.3f}]" for a, b in intervals))
around_start = [f"[{a:.3f}, {b:.3f}]" for a, b in intervals if a <= 3.3 <= b]
assert np.ptp(cycle_points, axis=1).max() < 1e-9 and len(intervals) == 12 and around_start == ["[3.062, 3.463]"]
print(f"heavy ball at (1/25, 2/3): largest |x_600| {swapped['heavy ball', 1 / 25, 2 / 3].max():.0e}")
assert all(swapped["heavy ball", 1 / 25, bt].max() < 1e-40 for bt in (2 / 3, 0.5))
assert f"{swapped['heavy ball', 1 / 25, 2 / 3].max():.0e}" == "7e-53"
enter = np.argmax(nag_path < 1)
x_1983 = nesterov_1983(lessard_grad, [3.3], 1 / 25, 2 / 3, 300)[:, 0]  # the x_k of the same run
print(f"Nesterov from 3.3: first look-ahead point below 1 at step {enter} ({nag_path[enter]:.4f}); there x_k = "
      f"{x_1983[enter]:.4f} > -1.5, |x_(k+1)| {show_gap(abs(x_1983[enter + 1]))}, next look-ahead point -beta x_k = "
      f"{nag_path[enter + 1]:.4f} < 1; exactly 0 from step {np.argmax(nag_path == 0)} on")
assert x_1983[enter] > -1.5 and np.isclose(nag_path[enter + 1], -2 / 3 * x_1983[enter], rtol=1e-12)
assert np.all(nag_path[np.argmax(nag_path == 0):] == 0) and np.argmax(nag_path == 0) == enter + 2

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 (recall)
#
# On an eigen-component with $\eta\lambda = 0.2$, Nesterov with $\beta = 0.9$ obeys the same
# recurrence as a heavy ball with the same step (the same iterates from the same two starting
# points) and which momentum? (The check accepts answers within 0.1 %.)

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
# run it (`optimizers.run`, method `"nesterov"`, with $\beta = 9/11$ exactly, not rounded) for 2,000
# steps and **measure** its rate from the iterates over steps 1,000 to 2,000:
# $(\|w_{2000}\| / \|w_{1000}\|)^{1/1000}$ ($w_k$ the iterates `optimizers.run` returns, PyTorch's).
# The check accepts answers within 0.0002 of that measurement, so give four decimals (a rate read
# off the matrix instead of measured lies outside). Then explain the number with the $2\times2$
# matrix: what happens to the steep component, where does the flat one sit, and why is a
# measurement over an early or short window (say steps 100 to 300) noticeably higher?

# %% nbgrader={"grade": false, "grade_id": "ex05_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
s100 = surfaces.quadratic([1.0, 100.0])
run_4 = optimizers.run(s100, [1.0, 1.0], "nesterov", 1 / 100.0, 9 / 11, steps=2000)
err_4 = np.hypot(run_4.points[:, 0], run_4.points[:, 1])
answer_4 = (err_4[2000] / err_4[1000]) ** (1 / 1000)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex05_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.nesterov.textbook_rate(answer_4)

# %% [markdown]
# ### Exercise 5 (explore)
#
# On the compare map at $\kappa = 100$ (the widget of section 5), along the row $\beta = 0.8$,
# Nesterov is faster for $\eta L$ in an interval. Find its **left** end to four decimals (the check
# accepts answers within $10^{-4}$, finer than the map's cells), for instance by bisection with
# `theory.momentum_rate` and `theory.nesterov_rate` (eigenvalues `[0.01, 1.0]`). Then explain: which
# component of which method sets each rate at that end, and why does it lie just left of the curve
# $\eta\mu = \big((1-\beta)/(1+\beta)\big)^2$ of section 5?

# %% nbgrader={"grade": false, "grade_id": "ex05_5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
def rate_gap_5(lr):
    return theory.nesterov_rate(lr, 0.8, [0.01, 1.0]) - theory.momentum_rate(lr, 0.8, [0.01, 1.0])


lo_5, hi_5 = 1.15, 1.3  # the heavy ball faster at 1.15, Nesterov at 1.3
for _ in range(50):
    mid_5 = (lo_5 + hi_5) / 2
    lo_5, hi_5 = (mid_5, hi_5) if rate_gap_5(mid_5) > 0 else (lo_5, mid_5)
answer_5 = (lo_5 + hi_5) / 2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex05_5_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.nesterov.wedge_edge(answer_5)
