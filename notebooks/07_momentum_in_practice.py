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
# # Lesson 07: Momentum in practice: conventions, and SGD with momentum
#
# Papers and libraries write momentum four ways, with same-named parameters that mean different
# things. This lesson converts between them, then adds gradient noise.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write the heavy ball in Polyak's form, Sutskever's velocity form, PyTorch's buffer form (with
#    and without `dampening`) and the exponential-moving-average (EMA) form, and Nesterov's method
#    in its look-ahead form, its reformulation and PyTorch's `nesterov=True`;
# 2. convert $(\eta, \beta)$ between them so that the iterates agree, and say where a conversion is
#    not exact (PyTorch's undamped first step) or fails (a learning-rate schedule);
# 3. say, with measurements over seeds, when momentum speeds up SGD (the curvature-dominated early
#    phase) and when it does not (near the noise floor, where it acts like SGD with step $\eta/(1-\beta)$
#    if $\eta\lambda \ll 1-\beta$).
#
# ## Prerequisites
#
# Lesson 02 (SGD and its noise floor), lesson 03 (the heavy ball, its buffer, the effective step
# $\eta/(1-\beta)$) and lesson 05 (Nesterov's look-ahead and PyTorch's form of it). About 45 minutes.
#
# Notation as in lesson 00's table ($g_k = \nabla f(x_k)$; $\sigma_\xi$ the noise's standard deviation;
# $w_k$ PyTorch's Nesterov iterate). New here: $\tau$,
# PyTorch's `dampening`; $m_k$, the moving average of the gradients; $\eta'$, the learning rate of
# the form that uses $m_k$.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import lessons_lib
from lessons_lib import checks, conventions, plotting, surfaces
from lessons_lib.progress import progress

lessons_lib.setup()

# %% [markdown]
# ## 1. One heavy ball, four ways to write it
#
# **Polyak's heavy ball** (Polyak, 1964, *Some methods of speeding up the convergence of iteration
# methods*) adds a fraction of the previous step:
# $x_{k+1} = x_k - \eta g_k + \beta(x_k - x_{k-1})$, with $x_{-1} = x_0$.
#
# **Sutskever's velocity** (Sutskever, Martens, Dahl and Hinton, ICML 2013, *On the importance of
# initialization and momentum in deep learning*; also Keras's `SGD`:
# `velocity = momentum * velocity - learning_rate * g`) remembers past *steps*:
#
# $$v_{k+1} = \beta v_k - \eta g_k, \qquad x_{k+1} = x_k + v_{k+1}, \qquad v_0 = 0.$$
#
# **PyTorch's buffer** (`torch.optim.SGD(lr=η, momentum=β, dampening=τ)`) remembers past
# *gradients* and applies today's $\eta$ to all of them:
#
# $$b_1 = g_0, \qquad b_{k+1} = \beta b_k + (1-\tau)\, g_k \ (k \ge 1), \qquad x_{k+1} = x_k - \eta\, b_{k+1}.$$
#
# The default is $\tau = 0$. PyTorch's documentation notes that the buffer starts at the first
# gradient, so "the first momentum value will not be scaled by dampening". optax's `sgd` uses the
# same undamped buffer (`optax.trace`: `trace = decay * trace + t`).
#
# **The EMA form** averages the gradients instead of summing them:
#
# $$m_{k+1} = \beta m_k + (1-\beta)\, g_k, \qquad x_{k+1} = x_k - \eta' m_{k+1}, \qquad m_0 = 0.$$
#
# This is Adam's first moment (Kingma and Ba, ICLR 2015, *Adam: a method for stochastic
# optimization*) without Adam's division by $1-\beta^k$, the "bias correction",
# and `optax.ema(decay, debias=False)` (`ema = decay * ema + (1-decay) * t`; the default
# `debias=True` adds the bias correction).
#
# Unrolled from zero, the undamped buffer is $b_{k+1} = \sum_j \beta^{k-j} g_j$, a *sum* whose
# weights add up to $(1-\beta^{k+1})/(1-\beta) \to 1/(1-\beta)$; the EMA is the same sum times $(1-\beta)$,
# an *average*. So $m_k = (1-\beta)\, b_k$, and the EMA form with $\eta' = \eta/(1-\beta)$ takes
# exactly PyTorch's steps. With a constant $\eta$, $v_k = -\eta b_k$ (lesson 03), so Polyak,
# Sutskever and PyTorch share $(\eta, \beta)$. The names hide the factor: at $\beta = 0.9$ the same
# "learning rate" takes steps $1/(1-\beta) = 10$ times as long in the buffer form as in the EMA form.
#
# ## 2. Nesterov, three ways
#
# **Look-ahead** (Sutskever et al. 2013, lesson 05): the gradient is taken where the momentum leads,
# $v_{k+1} = \beta v_k - \eta\nabla f(x_k + \beta v_k)$, $x_{k+1} = x_k + v_{k+1}$.
#
# **Reformulated** (Bengio, Boulanger-Lewandowski and Pascanu, ICASSP 2013, *Advances in optimizing
# recurrent networks*): store the look-ahead point $w_k = x_k + \beta v_k$ instead, so that the
# gradient is taken at the stored parameters, as a training loop needs:
#
# $$v_{k+1} = \beta v_k - \eta\nabla f(w_k), \qquad w_{k+1} = w_k + \beta v_{k+1} - \eta \nabla f(w_k).$$
#
# (Substitute $w = x + \beta v$ into the look-ahead form.) Keras's `SGD(nesterov=True)`
# documents this update.
#
# **PyTorch's `nesterov=True`**: $b_{k+1} = \beta b_k + g_k$, $w_{k+1} = w_k - \eta(g_k + \beta b_{k+1})$ with
# $g_k = \nabla f(w_k)$: for a constant $\eta$, the reformulated form with $b = -v/\eta$ (lesson 05 proves it).
# Its iterates are the look-ahead points $w_k$, not $x_k$. (PyTorch refuses `nesterov=True` with a non-zero `dampening`.)
#
# ## 3. The conversion table, checked by running both
#
# | form | update | parameters that reproduce `torch.optim.SGD(lr=η, momentum=β)`, for a constant $\eta$ |
# |---|---|---|
# | Polyak | $x_{k+1} = x_k - \eta g_k + \beta(x_k - x_{k-1})$ | $(\eta, \beta)$ |
# | Sutskever (Keras) | $v \leftarrow \beta v - \eta g$, $x \leftarrow x + v$ | $(\eta, \beta)$; $v = -\eta b$ |
# | EMA | $m \leftarrow \beta m + (1-\beta) g$, $x \leftarrow x - \eta' m$ | $(\eta' = \eta/(1-\beta), \beta)$; $m = (1-\beta) b$ |
# | PyTorch, `dampening=τ` | $b \leftarrow \beta b + (1-\tau) g$, $b_1 = g_0$ | undamped with $\eta(1-\tau)$: **not exact** (the first gradient differs) |
# | Nesterov, look-ahead | $v \leftarrow \beta v - \eta \nabla f(x + \beta v)$, $x \leftarrow x + v$ | $(\eta, \beta)$ with `nesterov=True`; PyTorch's $w = x + \beta v$ |
# | Nesterov, reformulated (Keras) | $v \leftarrow \beta v - \eta \nabla f(w)$, then $w \leftarrow w + \beta v - \eta \nabla f(w)$ (the new $v$) | $(\eta, \beta)$ with `nesterov=True` |
#
# Each row is checked below: the form's NumPy loop (`lessons_lib.conventions`) with the converted
# parameters against `torch.optim.SGD` with the original ones (float64, 300 steps, a tilted quadratic
# and Rosenbrock; the largest difference over the largest coordinate).

# %%
def torch_sgd(grad, x0, lrs, beta, dampening=0.0, nesterov=False):
    """Iterates of torch.optim.SGD in float64, learning rate lrs[k] at step k, fed the gradient formula."""
    p = torch.tensor(np.array(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=float(lrs[0]), momentum=beta, dampening=dampening, nesterov=nesterov)
    path = [p.detach().numpy().copy()]
    for lr_k in lrs:
        opt.param_groups[0]["lr"] = float(lr_k)
        p.grad = torch.from_numpy(grad(p.detach().numpy().copy()))
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def relative_gap(path, reference):
    return float(np.abs(path - reference).max() / np.abs(reference).max())


def shown(gap, tol=1e-12):
    """A gap below tol is printed as the bound (its last digits depend on the CPU); a larger one as itself."""
    return f"< {tol:.0e}" if gap < tol else f"{gap:.3f}"


problems = {"quadratic": (surfaces.quadratic([0.5, 4.0], angle=0.4), 0.1),
            "Rosenbrock": (surfaces.get("rosenbrock"), 1e-3)}
beta, tau, steps = 0.9, 0.5, 300
C = conventions
rows = {  # form: (our loop with converted parameters, torch's arguments)
    "Polyak (lr, beta)": (lambda s, lr: C.heavy_ball(s.grad, s.start, lr, beta, steps), {}),
    "Sutskever (lr, beta)": (lambda s, lr: C.sutskever(s.grad, s.start, lr, beta, steps), {}),
    "EMA (lr/(1-beta), beta)": (lambda s, lr: C.ema(s.grad, s.start, C.convert(lr, beta, "pytorch", "ema")[0],
                                                    beta, steps), {}),
    "our PyTorch loop, dampening 0.5": (lambda s, lr: C.pytorch(s.grad, s.start, lr, beta, steps, dampening=tau),
                                        {"dampening": tau}),
    "undamped lr (1 - 0.5) vs dampening 0.5": (
        lambda s, lr: C.pytorch(s.grad, s.start, C.undamped_lr(lr, tau), beta, steps), {"dampening": tau}),
    "Nesterov look-ahead x + beta v": (
        lambda s, lr: C.nesterov_lookahead(s.grad, s.start, lr, beta, steps, points="lookahead"), {"nesterov": True}),
    "Nesterov reformulated (Bengio)": (
        lambda s, lr: C.nesterov_reformulated(s.grad, s.start, lr, beta, steps), {"nesterov": True}),
}
gaps, damp_along = {}, {}
for (form, (ours, torch_args)), (pname, (surface, lr)) in progress(
        [(r, p) for r in rows.items() for p in problems.items()], desc="each form against torch.optim.SGD"):
    reference = torch_sgd(surface.grad, surface.start, np.full(steps, lr), beta, **torch_args)
    path = ours(surface, lr)
    gaps[form, pname] = relative_gap(path, reference)
    if form.startswith("undamped"):  # the gap at each step, over the largest coordinate of the path
        damp_along[pname] = np.abs(path - reference).max(axis=1) / np.abs(reference).max()
print(f"{'form, against torch.optim.SGD (float64, 300 steps)':42s} {'quadratic':>10s} {'Rosenbrock':>10s}")
for form in rows:
    print(f"{form:42s} {shown(gaps[form, 'quadratic']):>10s} {shown(gaps[form, 'Rosenbrock']):>10s}")
exact = [form for form in rows if not form.startswith("undamped")]
assert all(gaps[form, p] < 1e-12 for form in exact for p in problems)
damp_gaps = [gaps["undamped lr (1 - 0.5) vs dampening 0.5", p] for p in problems]
assert all(g > 0.05 for g in damp_gaps)
worst_step = {p: int(np.argmax(damp_along[p])) for p in problems}
print(f"the dampening row's largest gap along the path: {damp_gaps[0]:.0%} (quadratic, step {worst_step['quadratic']}) "
      f"and {damp_gaps[1]:.0%} (Rosenbrock, step {worst_step['Rosenbrock']}) of the largest coordinate; "
      f"at step 300: {damp_along['quadratic'][-1]:.0e} and {damp_along['Rosenbrock'][-1]:.2f}")
assert [f"{g:.0%}" for g in damp_gaps] == ["13%", "13%"] and (worst_step["quadratic"], worst_step["Rosenbrock"]) == (10, 259)
assert damp_along["quadratic"][-1] < 1e-5 < 0.01 < damp_along["Rosenbrock"][-1]

fig, ax = plt.subplots(figsize=(8, 3.0))
for pname, style in [("quadratic", "-"), ("Rosenbrock", "--")]:
    ax.plot(np.arange(steps + 1), damp_along[pname], style, color=plotting.METHOD_COLORS["gd"],
            label=rf"{pname}, $\eta = {problems[pname][1]:g}$")
ax.set_yscale("log")
ax.set_xlabel("step $k$")
ax.set_ylabel(r"$\max_i |x_{k,i} - x'_{k,i}| \,/\, \max |x|$")
ax.set_title(r"PyTorch with dampening $\tau = 0.5$ ($x_k$) against undamped with $\eta(1-\tau)$ ($x'_k$), $\beta = 0.9$")
ax.legend()
fig.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.9)  # fixed margins: faster than tight_layout
plt.show()

# %% [markdown]
# Every exact row agrees to rounding. The dampening row does not: undamped with $\eta(1-\tau)$ weights
# the first gradient by $1-\tau$, PyTorch by 1. The extra $\tau g_0$ fades as $\beta^k$; on $f(x) = x$ it adds
# up to a displacement of exactly $\eta\tau(1-\beta^K)/(1-\beta)$ after $K$ steps (Checks section). The
# largest gap is 13 % of the largest coordinate on both problems, by coincidence (step 10 on the
# quadratic, 259 on Rosenbrock; figure). The EMA form starts
# from $m_0 = 0$, so PyTorch with `dampening=β` is *not* the EMA form.
#
# ## 4. With a changing learning rate
#
# The identity $v_k = -\eta b_k$ needs the same $\eta$ at every step. Take $f(x) = x$ ($g = 1$
# everywhere), $x_0 = 0$, $\beta = 0.9$, and $\eta = 0.1$ for the first step, $0.01$ for the second.
# Step 1 gives $x_1 = -0.1$ in all forms. Then Sutskever's velocity keeps the old step's scale,
# $x_2 = -0.1 + (0.9 \cdot (-0.1) - 0.01) = -0.200$, while PyTorch rescales the whole buffer by
# the new rate, $x_2 = -0.1 - 0.01\,(0.9 + 1) = -0.119$. The EMA form, fed $\eta_k/(1-\beta)$ at every step,
# still matches PyTorch: $m_k = (1-\beta)b_k$ does not involve $\eta$. Polyak's form follows Sutskever's
# under any schedule, because $x_{k+1} - x_k = v_{k+1}$ holds whatever $\eta_k$ is.

# %%
def slope(x):
    return np.ones_like(x)  # the gradient of f(x) = x


two = {"Polyak": C.heavy_ball(slope, [0.0], [0.1, 0.01], 0.9, 2)[-1, 0],
       "Sutskever": C.sutskever(slope, [0.0], [0.1, 0.01], 0.9, 2)[-1, 0],
       "EMA, lr_k/(1-beta)": C.ema(slope, [0.0], [1.0, 0.1], 0.9, 2)[-1, 0],
       "torch.optim.SGD": torch_sgd(slope, [0.0], [0.1, 0.01], 0.9)[-1, 0]}
print("x_2 after lr 0.1 then 0.01:  " + ",  ".join(f"{name} {x2:+.3f}" for name, x2 in two.items()))
assert np.isclose(two["Polyak"], -0.2) and np.isclose(two["Sutskever"], -0.2)
assert np.isclose(two["torch.optim.SGD"], -0.119) and np.isclose(two["EMA, lr_k/(1-beta)"], -0.119)

drop = np.r_[np.full(100, 0.1), np.full(100, 0.01)]  # 100 steps at 0.1, then 100 at 0.01
step_torch = -np.diff(torch_sgd(slope, [0.0], drop, 0.9)[:, 0])
step_ema = -np.diff(C.ema(slope, [0.0], drop / (1 - 0.9), 0.9, 200)[:, 0])
step_sut = -np.diff(C.sutskever(slope, [0.0], drop, 0.9, 200)[:, 0])
gap_polyak = relative_gap(C.heavy_ball(slope, [0.0], drop, 0.9, 200), C.sutskever(slope, [0.0], drop, 0.9, 200))
print(f"Polyak vs Sutskever under the drop, all 200 steps: {shown(gap_polyak)}")
assert gap_polyak < 1e-12
excess = step_sut[100:] - step_torch[100:]
print(f"EMA with lr_k/(1-beta) vs torch.optim.SGD under the drop: {shown(relative_gap(step_ema, step_torch))}")
print(f"step at the drop: PyTorch {step_torch[99]:.3f} -> {step_torch[100]:.3f}; Sutskever {step_sut[99]:.3f} -> "
      f"{step_sut[100]:.3f}, its excess over PyTorch's shrinking by {excess[1] / excess[0]:.3f} per step")
n_e = int(np.argmax(excess <= excess[0] / np.e))
print(f"the excess falls by a factor e within {n_e} steps (1/(1 - beta) = {1 / (1 - 0.9):.0f})")
assert relative_gap(step_ema, step_torch) < 1e-12 and np.allclose(excess[1:] / excess[:-1], 0.9, rtol=1e-9)
assert n_e == 10
assert f"{step_torch[100]:.3f}" == "0.100" and f"{step_sut[100]:.3f}" == "0.910"

fig, ax = plt.subplots(figsize=(8, 3.2))
k = np.arange(1, 201)
ax.plot(k, step_sut, color=plotting.METHOD_COLORS["momentum"], label="Sutskever / Polyak (velocity)")
ax.plot(k, step_torch, "--", color=plotting.METHOD_COLORS["gd"], label="torch.optim.SGD = EMA with $\\eta_k/(1-\\beta)$")
ax.axvline(100.5, color="0.6", linewidth=0.8)
ax.set_yscale("log")
ax.set_xlabel("step $k$")
ax.set_ylabel(r"$|x_k - x_{k-1}|$ on $f(x) = x$")
ax.set_title(r"$\eta$ drops from 0.1 to 0.01 after step 100, $\beta = 0.9$")
ax.legend()
fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9)
plt.show()

# %% [markdown]
# At the drop PyTorch's step falls tenfold at once, from 1.000 to 0.100; Sutskever's falls only to
# 0.910, and its excess then shrinks by $\beta$ per step (a factor $e$ within 10 steps, $1/(1-\beta)$). Under
# a schedule the "same" $(\eta, \beta)$ are two optimizers; PyTorch's documentation warns that its SGD
# "subtly differs from Sutskever et al. and implementations in some other frameworks". The EMA
# conversion survives any schedule. PyTorch's `nesterov=True` departs from the look-ahead form too (on the
# tilted quadratic, $\beta = 0.8$, $\eta$ falling linearly from 0.2 to 0.02 over 80 steps: by up to 1.1 % of
# the largest coordinate, at step 9; $2\cdot10^{-5}$ at step 80; Checks section); Bengio et al.'s
# reformulation does not.
#
# ## 5. SGD with momentum: where it helps
#
# Now the gradients are noisy: $\hat g_k = \nabla f(x_k) + \xi_k$, with $\xi_k$ independent,
# mean zero, standard deviation $\sigma_\xi = 0.01$ in each coordinate (lesson 02's model). Take a
# quadratic $f(x) = \tfrac12\sum_i \lambda_i x_i^2$ with ten eigenvalues spread evenly on a log scale from
# $1$ down to $0.01$ ($\kappa = 100$), starting with loss $\tfrac12$ in every component. Far from the
# minimum the curvature limits progress: the flat components shrink by only $1 - \eta\lambda_i$ per step.
# Run SGD and momentum at $\eta = 1$, SGD at its best step, and momentum at $\eta = 0.1$ (effective step
# $\eta/(1-\beta) = 1$), each with five seeds, and count the steps until the loss is below $0.05$, 1 % of
# the start:

# %%
lam = np.logspace(0, -2, 10)
sigma, seeds, n_steps = 0.01, 5, 3000
noise = sigma * np.stack([np.random.default_rng(seed).standard_normal((n_steps, lam.size)) for seed in range(seeds)],
                         axis=1)  # (step, seed, component): the same noise for every method


def noisy_heavy_ball(lr, beta, n=n_steps, noise=noise):
    """Losses (seed, step) of the heavy ball on the noisy quadratic, n steps; beta = 0 is plain SGD."""
    x = np.tile(1 / np.sqrt(lam), (noise.shape[1], 1))
    previous, losses = x.copy(), [0.5 * (lam * x * x).sum(-1)]
    for xi in noise[:n]:
        x, previous = x - lr * (lam * x + xi) + beta * (x - previous), x
        losses.append(0.5 * (lam * x * x).sum(-1))
    return np.array(losses).T


def floor_loss(lr, beta):
    """Closed-form stationary loss, sum_i lambda_i V_i / 2, with V_i the heavy ball's stationary variance (section 6)."""
    v = lr * sigma**2 * (1 + beta) / (lam * (1 - beta) * (2 * (1 + beta) - lr * lam))
    return float((lam * v).sum() / 2)


target = 0.01 * 0.5 * lam.size  # 1 % of the starting loss
# SGD's best step: a grid below its limit 2 / L = 2, the steps to reach the target counted over 400 steps
grid = [1.0, 1.25, 1.5, 1.75, 1.9, 1.95, 1.98]
grid_reach = {lr: np.argmax(noisy_heavy_ball(lr, 0.0, 400) <= target, axis=1)
              for lr in progress(grid, desc="SGD: 7 learning rates x 5 seeds x 400 steps")}
lr_best = min(grid, key=lambda lr: grid_reach[lr].mean())
print("SGD, steps to the target by lr: " + ", ".join(f"{lr:g}: {r.mean():.1f}" for lr, r in grid_reach.items()))
assert all((r > 0).all() for r in grid_reach.values()) and lr_best == 1.95

settings = {"SGD, lr 1": (1.0, 0.0), f"SGD, lr {lr_best:g} (best)": (lr_best, 0.0),
            "momentum, lr 1, beta 0.9": (1.0, 0.9), "momentum, lr 0.1, beta 0.9": (0.1, 0.9)}
runs = {name: noisy_heavy_ball(*s) for name, s in progress(settings.items(), desc="4 settings x 5 seeds x 3,000 steps")}
sgd, sgd_best, hb, hb_eff = settings  # the four names
reach, floor = {}, {}
# Near SGD's limit the stiff component's floor fluctuates more: at its best step, SGD's floor comes from
# 20 more seeds x 10,000 steps (the mean over steps 1,000 to 10,000)
long_noise = sigma * np.random.default_rng(99).standard_normal((10_000, 20, lam.size))
long_best = noisy_heavy_ball(lr_best, 0.0, 10_000, long_noise)  # (seed, step), also drawn in the figure
floor[sgd_best] = long_best[:, 1000:].mean(axis=1)
for name, losses in runs.items():
    reach[name] = np.argmax(losses <= target, axis=1)
    if name != sgd_best:
        floor[name] = losses[:, 1000:].mean(axis=1)  # the stationary loss, averaged over steps 1000 to 3000
    assert (losses[:, 1000:].min(axis=1) < target).all() and (reach[name] > 0).all()
    print(f"{name:27s} steps to loss {target:.2f}: {reach[name].mean():5.1f} (seeds: {reach[name].min()} to "
          f"{reach[name].max()});  floor {floor[name].mean():.5f} ± {floor[name].std(ddof=1):.5f} "
          f"(closed form {floor_loss(*settings[name]):.5f})" + ("  [floor: 20 seeds x 10,000 steps]" if name == sgd_best else ""))
    assert abs(floor[name].mean() / floor_loss(*settings[name]) - 1) < 0.05
speedup, speedup_best = reach[sgd] / reach[hb], reach[sgd_best] / reach[hb]
floor_same, floor_eff = floor[hb].mean() / floor[sgd].mean(), floor[hb_eff].mean() / floor[sgd].mean()
print(f"momentum (1, 0.9) reaches the level {speedup.mean():.1f} times sooner than SGD at lr 1 (seeds: {speedup.min():.1f} "
      f"to {speedup.max():.1f}), {speedup_best.mean():.1f} times sooner than SGD at lr {lr_best:g} (seeds: "
      f"{speedup_best.min():.1f} to {speedup_best.max():.1f})")
print(f"floors over SGD's at lr 1: momentum (1, 0.9) {floor_same:.1f} (closed form "
      f"{floor_loss(1.0, 0.9) / floor_loss(1.0, 0.0):.1f}); momentum (0.1, 0.9), the same effective step, "
      f"{floor_eff:.2f} (closed form {floor_loss(0.1, 0.9) / floor_loss(1.0, 0.0):.2f})")
assert speedup.min() > 2.5 and speedup_best.min() > 1.4 and target > 10 * floor[hb].max()
assert abs(reach[hb_eff].mean() / reach[sgd].mean() - 1) < 0.1
assert f"{reach[sgd].mean():.0f}" == "125" and f"{reach[hb].mean():.0f}" == "37" and f"{reach[sgd_best].mean():.0f}" == "65"
assert f"{speedup.mean():.1f}" == "3.3" and (f"{speedup.min():.1f}", f"{speedup.max():.1f}") == ("3.1", "3.5")
assert f"{speedup_best.mean():.1f}" == "1.7" and (f"{speedup_best.min():.1f}", f"{speedup_best.max():.1f}") == ("1.6", "1.8")
assert f"{floor_same:.1f}" == "9.3" and f"{floor_loss(1.0, 0.9) / floor_loss(1.0, 0.0):.1f}" == "9.0"
assert f"{floor_eff:.2f}" == "0.83" and f"{floor_loss(0.1, 0.9) / floor_loss(1.0, 0.0):.2f}" == "0.84"
floor_tuned, floor_19 = floor[hb].mean() / floor[sgd_best].mean(), floor[hb].mean() / floor_loss(1.9, 0.0)
print(f"momentum (1, 0.9)'s floor over SGD's at lr {lr_best:g}: {floor_tuned:.2f} (closed form "
      f"{floor_loss(1.0, 0.9) / floor_loss(lr_best, 0.0):.2f}); over SGD's closed-form floor at lr 1.9 "
      f"({grid_reach[1.9].mean():.0f} steps to the level): {floor_19:.1f}")
assert abs(floor_tuned - floor_loss(1.0, 0.9) / floor_loss(lr_best, 0.0)) < 0.05
assert f"{floor_tuned:.2f}" == "1.06" and f"{floor_19:.1f}" == "1.8" and f"{grid_reach[1.9].mean():.0f}" == "66"
assert f"{floor_loss(1.0, 0.9) / floor_loss(lr_best, 0.0):.2f}" == "1.07"
# Without noise: plain SGD diverges just above its limit lr = 2 and at momentum's effective step 10; momentum does not.
start = 1 / np.sqrt(lam)
x_hb, x_prev = start.copy(), start.copy()
for _ in range(150):
    x_hb, x_prev = x_hb - 1.0 * lam * x_hb + 0.9 * (x_hb - x_prev), x_hb
noiseless_sgd = {lr: 0.5 * (lam * ((1 - lr * lam) ** 150 * start) ** 2).sum() for lr in (2.05, 10.0)}
print(f"noiseless, 150 steps from loss {0.5 * lam.size:.0f}: SGD at lr 2.05 loss {noiseless_sgd[2.05]:.1e}, at lr 10 {noiseless_sgd[10.0]:.1e}; "
      f"momentum (1, 0.9) {0.5 * (lam * x_hb**2).sum():.1e}")
assert noiseless_sgd[2.05] > 1e6 and noiseless_sgd[10.0] > 1e100 and 0.5 * (lam * x_hb**2).sum() < 1e-3
# The gradient against the noise while momentum (1, 0.9) heads for the level: |grad f| / (sigma_xi sqrt(10))
x_n, prev_n, grad_to_noise = np.tile(start, (seeds, 1)), np.tile(start, (seeds, 1)), []
for xi in noise[:reach[hb].max()]:
    grad_to_noise.append(np.linalg.norm(lam * x_n, axis=1) / (sigma * np.sqrt(lam.size)))
    x_n, prev_n = x_n - 1.0 * (lam * x_n + xi) + 0.9 * (x_n - prev_n), x_n
grad_to_noise = np.array(grad_to_noise).T  # (seed, step)
lowest = min(grad_to_noise[seed, :reach[hb][seed]].min() for seed in range(seeds))
print(f"gradient norm over the noise's: {grad_to_noise[0, 0]:.0f} at the start, at least {lowest:.2f} until "
      f"momentum (1, 0.9) reaches the level (all seeds)")
assert f"{grad_to_noise[0, 0]:.0f}" == "50" and 3 < lowest < 4


def log_smoothed(losses):
    """The mean of each row over the last tenth of the steps so far (steps k - k // 10 to k), for a log axis."""
    k = np.arange(losses.shape[1])
    total = np.concatenate([np.zeros((losses.shape[0], 1)), np.cumsum(losses, axis=1)], axis=1)
    return (total[:, k + 1] - total[:, k - k // 10]) / (k // 10 + 1)


fig, ax = plt.subplots(figsize=(8.5, 3.8))
styles = {sgd: ("gd", "-", r"SGD, $\eta = 1$", "bottom"), sgd_best: ("gd", "--", rf"SGD, $\eta = {lr_best:g}$ (best; 20 seeds)", "top"),
          hb: ("momentum", "-", r"momentum, $\eta = 1$, $\beta = 0.9$", "bottom"),
          hb_eff: ("momentum", "-.", r"momentum, $\eta = 0.1$, $\beta = 0.9$", "top")}
steps_axis = np.arange(1, n_steps + 1)
long_runs = runs | {sgd_best: long_best[:, :n_steps + 1]}  # SGD at its best step: the 20 seeds of its floor
for name, losses in long_runs.items():
    color, style, label, where = styles[name]
    color = plotting.METHOD_COLORS[color]
    smooth = log_smoothed(losses)[:, 1:]
    ax.fill_between(steps_axis, smooth.min(0), smooth.max(0), color=color, alpha=0.2, linewidth=0)
    ax.plot(steps_axis, np.median(smooth, 0), linestyle=style, color=color, label=label)
    level = floor_loss(*settings[name])
    ax.hlines(level, 1000, n_steps, color="k", linewidth=0.8, linestyle=(0, (1, 2)))
    ax.text(n_steps * 1.05, level, f"{level:.5f}", fontsize=8, color=color, va=where)
ax.axhline(target, color="0.3", linewidth=0.8)
ax.text(1.2, target * 1.3, "loss 0.05", fontsize=8)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlim(1, n_steps)
ax.set_xlabel("step $k$")
ax.set_ylabel("$f(x_k)$, mean over steps $0.9k$ to $k$")
ax.set_title(r"noisy quadratic, $\kappa = 100$, $\sigma_\xi = 0.01$; black dotted: closed-form floors (values at right)")
ax.legend(fontsize=8, loc="lower left", title="median of 5 seeds (band: min to max)", title_fontsize=8)
fig.subplots_adjust(left=0.09, right=0.88, bottom=0.13, top=0.92)
plt.show()

# %% [markdown]
# At $\eta = 1$ momentum reaches the level in 37 steps, SGD in 125 (five-seed means): 3.3 times sooner
# (3.1 to 3.5 by seed). SGD's best grid step below its limit $2/L = 2$ is $\eta = 1.95$ (65 steps; 66 at
# 1.9): momentum is still 1.7 times sooner (1.6 to 1.8). Momentum at $\eta = 0.1$, SGD's effective step,
# is as fast as SGD at $\eta = 1$ (within 10 %), with a floor 0.83 times SGD's (closed form 0.84): the head
# start is the larger effective step. At $\eta = 1$, $\beta = 0.9$ momentum is stable
# ($\eta\lambda \le 1 < 2 + 2\beta = 3.8$, lesson 03) with effective step $\eta/(1-\beta) = 10$; SGD
# diverges above $\eta = 2$ (checked without noise at 2.05 and 10). The price, against SGD at the same $\eta$: a floor 9.3 times
# higher (closed form 9.0; section 6). Against SGD steps as fast as the best ($\eta = 1.9$ to $1.95$),
# momentum's floor was 1.06 to 1.8 times SGD's (closed form 1.07 at 1.95).
#
# Sutskever et al. (2013) make the same distinction for deep networks: momentum's acceleration
# matters in the early "transient phase", and lowering $\beta$ for the last updates, when noise
# dominates, improved their results. Kidambi, Netrapalli, Jain and Kakade (ICLR 2018, *On the
# insufficiency of existing momentum schemes for stochastic optimization*) show least-squares problems
# where the stochastic heavy ball and Nesterov cannot beat SGD's best setting. Their noise, from
# sampling single examples, scales with the iterate; here it is additive and small (the gradient's norm is 50 times the noise's at the start, over 3 times until
# momentum reaches the level), so the early phase is almost deterministic.
#
# ## 6. Near the noise floor: momentum is SGD with step $\eta/(1-\beta)$ (for $\eta\lambda \ll 1-\beta$)
#
# One component, $\lambda$, noise $\sigma_\xi$: the heavy ball is $x_{k+1} = (1 - \eta\lambda + \beta)x_k - \beta x_{k-1} - \eta\xi_k$.
# Write $\mathcal V = \operatorname{Var} x_k$ and $\mathcal U = \operatorname{Cov}(x_k, x_{k-1})$ in the stationary
# state. Multiplying the update by $x_k$ and taking expectations gives $\mathcal U(1+\beta) = (1-\eta\lambda+\beta)\mathcal V$;
# squaring it and eliminating $\mathcal U$ gives
#
# $$\mathcal V_\infty(\eta, \beta) = \frac{\eta\,\sigma_\xi^2 (1+\beta)}{\lambda(1-\beta)\big(2(1+\beta) - \eta\lambda\big)}
# \;\approx\; \frac{\eta}{1-\beta}\cdot\frac{\sigma_\xi^2}{2\lambda} \quad (\eta\lambda \ll 2(1+\beta)),$$
#
# and at $\beta = 0$, lesson 02's SGD floor $\eta\sigma_\xi^2/(\lambda(2 - \eta\lambda))$. The small-step form's
# relative error is $\eta\lambda/(2(1+\beta))$. It is also SGD's floor at the effective step
# $\eta/(1-\beta)$ to first order, which needs $\eta\lambda/(1-\beta)$ small as well. The exact ratio of the two is
#
# $$\frac{\mathcal V_\infty(\eta, \beta)}{\mathcal V_\infty\big(\tfrac{\eta}{1-\beta}, 0\big)}
# = \frac{(1+\beta)\big(2 - \eta\lambda/(1-\beta)\big)}{2(1+\beta) - \eta\lambda}
# \;\approx\; 1 - \frac{\beta\,\eta\lambda}{1-\beta^2} \le 1 ,$$
#
# the approximation to first order in $\eta\lambda$: 1 at $\beta = 0$, where the methods coincide.
#
# Measure it ($\lambda = \sigma_\xi = 1$, $\eta = 0.01$, $\beta = 0.5$ and $0.9$, against SGD at $\eta$ and at
# $\eta/(1-\beta)$): five seeds of 2,000 runs of 1,500 steps from $x_0 = 0$, the mean square over runs and
# steps 1,000 to 1,500 (within a seed all settings see the same noise):

# %%
def momentum_floor(lr, beta, lam_1=1.0, s=1.0):
    return lr * s**2 * (1 + beta) / (lam_1 * (1 - beta) * (2 * (1 + beta) - lr * lam_1))


def floor_ratio(lr, beta, lam_1=1.0):
    """Momentum's floor over SGD's at the effective step lr / (1 - beta), written out."""
    return (1 + beta) * (2 - lr * lam_1 / (1 - beta)) / (2 * (1 + beta) - lr * lam_1)


lr0, chains, n_steps_1d = 0.01, 2000, 1500
configs = {"SGD, lr 0.01": (0.01, 0.0), "SGD, lr 0.02": (0.02, 0.0), "SGD, lr 0.1": (0.1, 0.0),
           "momentum, lr 0.01, beta 0.5": (0.01, 0.5), "momentum, lr 0.01, beta 0.9": (0.01, 0.9)}
lrs_1d = np.array([c[0] for c in configs.values()])[:, None]
betas_1d = np.array([c[1] for c in configs.values()])[:, None]
rngs = [np.random.default_rng(100 + seed) for seed in range(seeds)]  # one noise stream per seed
x = np.zeros((len(configs), seeds, chains))  # (setting, seed, run): all seeds at once
previous, second_moment = x.copy(), np.zeros((len(configs), seeds))
for step in progress(range(n_steps_1d), desc="5 seeds x 2,000 runs x 1,500 steps"):
    xi = np.stack([rng.standard_normal(chains) for rng in rngs])
    x, previous = x - lrs_1d[:, None] * (x + xi) + betas_1d[:, None] * (x - previous), x
    if step >= 1000:
        second_moment += (x * x).mean(axis=2)
variance = second_moment / (n_steps_1d - 1000)
V = dict(zip(configs, variance, strict=True))
print(f"{'':28s} {'measured (5 seeds)':>22s} {'closed form':>12s} {'small-lr form':>14s}")
for name, (lr_c, b_c) in configs.items():
    print(f"{name:28s} {V[name].mean():12.5f} ± {V[name].std(ddof=1):.5f} {momentum_floor(lr_c, b_c):12.5f} "
          f"{lr_c / (1 - b_c) / 2:14.5f}")
    assert abs(V[name].mean() / momentum_floor(lr_c, b_c) - 1) < 0.05
for b_c, sgd_eff in [(0.5, "SGD, lr 0.02"), (0.9, "SGD, lr 0.1")]:
    ratio = V[f"momentum, lr 0.01, beta {b_c}"] / V[sgd_eff]
    same_lr = V[f"momentum, lr 0.01, beta {b_c}"] / V["SGD, lr 0.01"]
    print(f"beta = {b_c}: momentum / SGD at lr/(1-beta) = {ratio.mean():.4f} ± {ratio.std(ddof=1):.4f} "
          f"(closed form {floor_ratio(lr0, b_c):.4f});  momentum / SGD at the same lr = {same_lr.mean():.2f} ± "
          f"{same_lr.std(ddof=1):.2f} (1/(1-beta) = {1 / (1 - b_c):.0f})")
    assert abs(ratio.mean() - floor_ratio(lr0, b_c)) < 4 * ratio.std(ddof=1)
    assert abs(same_lr.mean() * (1 - b_c) - 1) < 0.08
    assert f"{ratio.mean():.2f}" == {0.5: "0.99", 0.9: "0.95"}[b_c] and round(same_lr.mean()) == round(1 / (1 - b_c))
assert f"{floor_ratio(lr0, 0.5):.3f}" == "0.993" and f"{floor_ratio(lr0, 0.9):.3f}" == "0.953"
for b_c in (0.5, 0.9):  # the first-order expansion against the exact ratio
    first_order = 1 - b_c * lr0 / (1 - b_c**2)
    print(f"beta = {b_c}: floor ratio {floor_ratio(lr0, b_c):.5f}, first order 1 - beta lr lambda / (1 - beta^2) "
          f"= {first_order:.5f}")
    assert abs(first_order - floor_ratio(lr0, b_c)) < 0.01 * (1 - floor_ratio(lr0, b_c))
for b_c in (0.5, 0.9):  # the two relative errors, written out, against the table's columns
    small_err, eff_err = lr0 / (2 * (1 + b_c)), 1 / floor_ratio(lr0, b_c) - 1
    small_form, sgd_at_eff = lr0 / (1 - b_c) / 2, momentum_floor(lr0 / (1 - b_c), 0.0)
    exact = momentum_floor(lr0, b_c)
    print(f"beta = {b_c}: relative error of the small-step form {small_err:.4f} (lr lambda / (2(1 + beta))), "
          f"of SGD's floor at lr/(1-beta) {eff_err:.4f} (lr lambda / (1 - beta) = {lr0 / (1 - b_c):.2f})")
    assert np.isclose(abs(small_form / exact - 1), small_err) and np.isclose(sgd_at_eff / exact - 1, eff_err)

# %% [markdown]
# At a fixed effective step the floors agree: momentum's is 0.99 times SGD's at $\beta = 0.5$ and
# 0.95 times at $\beta = 0.9$, as the closed form says, within the spread over seeds. At the same $\eta$
# it is $1/(1-\beta)$ times higher (2 and 10). So momentum does not replace a decaying or averaged step
# near the floor: only a smaller $\eta/(1-\beta)$ lowers it. (As $\eta/(1-\beta)$ approaches $2/\lambda$
# the ratio falls; beyond it SGD has no floor: Checks section.)
#
# **Try it** with lesson 02's SGD explorer (least squares, batch 1; its $\beta$ is PyTorch's buffer
# momentum). At $\eta = 0.03$, compare $\beta = 0$ with $0.9$: the cloud of iterates around
# $\theta^\star$ spreads, its mean square distance 7 to 16 times SGD's (five seeds; $1/(1-\beta) = 10$).
# Then lower $\eta$ to $\eta(1-\beta) = 0.003$: the cloud shrinks back to SGD's at $\eta = 0.03$ (0.96 to 1.03
# times; Checks section).

# %%
from lessons_lib.widgets import SGDExplorer
from lessons_lib.widgets.sgd import minibatch_draws

explorer = SGDExplorer(lr=0.03, batch_size=1, steps=2000, momentum=0.9)
explorer

# %% [markdown]
# ## Summary
#
# * Polyak's heavy ball, Sutskever's velocity (Keras) and PyTorch's buffer give the same iterates with
#   the same $(\eta, \beta)$ for a constant $\eta$; the EMA form needs $\eta/(1-\beta)$. Checked against `torch.optim.SGD` to $10^{-12}$.
# * For a constant $\eta$, Nesterov's look-ahead, Bengio et al.'s reformulation and PyTorch's
#   `nesterov=True` share $(\eta, \beta)$; PyTorch stores the look-ahead point.
# * PyTorch's `dampening` $\tau$ is not a learning rate $\eta(1-\tau)$: the first gradient is not damped;
#   at $\tau = 0.5$, $\beta = 0.9$ the largest gap along the path was 13 % of its scale on both problems.
# * Under a learning-rate schedule the Sutskever form and PyTorch's differ (after a tenfold drop: a step
#   of 0.910 against 0.100), and so do PyTorch's `nesterov=True` and the look-ahead form; the EMA
#   conversion still holds.
# * With noisy gradients ($\sigma_\xi = 0.01$) on a quadratic with ten eigenvalues from 1 to 0.01, momentum
#   at $\eta = 1$, $\beta = 0.9$ reached a loss of 0.05 (1 % of the start) 3.3 times sooner than SGD at the
#   same $\eta$ (five seeds, 3.1 to 3.5) and 1.7 times sooner than SGD at its best grid step, 1.95 (1.6 to 1.8). Its floor was 9.3 times SGD's at the same $\eta$; against SGD steps as
#   fast as the best ($\eta = 1.9$ to $1.95$), 1.06 to 1.8 times SGD's. At the same effective step
#   ($\eta = 0.1$) it was about as fast, with a floor 0.83 times SGD's.
# * With one noisy component ($\eta\lambda = 0.01$), momentum's stationary variance was SGD's at
#   $\eta/(1-\beta)$ (0.99 times for $\beta = 0.5$, 0.95 for $\beta = 0.9$) and $1/(1-\beta)$ times SGD's at $\eta$.
#
# ## Checks
#
# The first-order expansion of the floor ratio, $1 - \beta\eta\lambda/(1-\beta^2)$, against the exact
# ratio on a grid of $\beta$ (its error is second order: halving $\eta\lambda$ divides it by about four); the
# closed form $\mathcal V_\infty$ against the stationary solution of the $2\times2$ covariance recursion solved
# as a linear system, and the floor ratio, from those solutions, falling as $\eta/(1-\beta)$ grows towards
# $2/\lambda$; SGD without a floor beyond it (simulated); the reformulated Nesterov's $w_k$ and
# `torch.optim.SGD(nesterov=True)` against the look-ahead form's $x_k + \beta v_k$ under a schedule; the
# displacement from PyTorch's undamped first step on $f(x) = x$; `torch.optim.SGD` with
# `dampening=β` against the EMA form; and the explorer's mean square distance to $\theta^\star$ over steps
# 1,000 to 2,000 at the three settings of section 6's "Try it", five seeds, from our own loop (seed 0 checked
# against the path the explorer shows).

# %%
grid_beta = np.linspace(0.0, 0.95, 20)
expansion_error = {h: np.abs(floor_ratio(h, grid_beta) - (1 - grid_beta * h / (1 - grid_beta**2))).max()
                   for h in (0.02, 0.01)}
print(f"expansion error at lr lambda = 0.02 and 0.01: {expansion_error[0.02]:.2e}, {expansion_error[0.01]:.2e} "
      f"(ratio {expansion_error[0.02] / expansion_error[0.01]:.2f})")
assert 3.8 < expansion_error[0.02] / expansion_error[0.01] < 4.2


def lyapunov_floor(lr, b):
    """Var x_k of the heavy ball on lambda = sigma_xi = 1: the stationary covariance S of the state
    s = (x_k, x_{k-1}), s' = A s + e xi, solved from S = A S A^T + e e^T as a linear system."""
    A = np.array([[1 - lr + b, -b], [1.0, 0.0]])
    e = np.array([[-lr], [0.0]])
    return np.linalg.solve(np.eye(4) - np.kron(A, A), (e @ e.T).ravel())[0]


for lr_c, b_c in [(0.01, 0.5), (0.3, 0.9), (1.5, 0.2)]:
    assert np.isclose(lyapunov_floor(lr_c, b_c), momentum_floor(lr_c, b_c), rtol=1e-10)
print("closed-form floor = the Lyapunov equation's solution at three (lr, beta): ok")
eff_steps = np.linspace(0.05, 1.95, 20)  # the effective step lr / (1 - beta), below SGD's limit 2 / lambda = 2
for b_c in (0.5, 0.9):
    ratio_eff = [lyapunov_floor(h * (1 - b_c), b_c) / lyapunov_floor(h, 0.0) for h in eff_steps]
    assert np.all(np.diff(ratio_eff) < 0) and ratio_eff[0] < 1
print(f"floor ratio from the covariance equation, beta 0.9: {ratio_eff[0]:.3f} at lr/(1-beta) = 0.05, "
      f"{ratio_eff[-1]:.3f} at 1.95 (falling)")
chains_div = np.zeros(1000)  # SGD at lr = 2.05 > 2 / lambda, 1,000 noisy runs from 0: the spread keeps growing
spread = []
rng_div = np.random.default_rng(5)
for _ in range(300):
    chains_div = chains_div - 2.05 * (chains_div + rng_div.standard_normal(1000))
    spread.append(np.mean(chains_div**2))
print(f"SGD at lr 2.05 on lambda = 1 with noise: mean square {spread[99]:.1e} after 100 steps, {spread[-1]:.1e} after 300")
assert spread[-1] > 1e3 * spread[99] > 1e3

schedule_q = np.linspace(0.2, 0.02, 80)
quad = problems["quadratic"][0]
lookahead_q = C.nesterov_lookahead(quad.grad, quad.start, schedule_q, 0.8, 80, points="lookahead")
gap_nesterov = relative_gap(C.nesterov_reformulated(quad.grad, quad.start, schedule_q, 0.8, 80), lookahead_q)
torch_nesterov_q = torch_sgd(quad.grad, quad.start, schedule_q, 0.8, nesterov=True)
gap_torch_nesterov = relative_gap(torch_nesterov_q, lookahead_q)
nesterov_along = np.abs(torch_nesterov_q - lookahead_q).max(axis=1) / np.abs(lookahead_q).max()
print(f"under the schedule 0.2 -> 0.02 (80 steps, beta 0.8), against the look-ahead x_k + beta v_k: Bengio's w_k "
      f"{shown(gap_nesterov)}; torch.optim.SGD(nesterov=True) up to {gap_torch_nesterov:.1%} of the largest "
      f"coordinate (step {np.argmax(nesterov_along)}), {nesterov_along[-1]:.0e} at step 80")
assert gap_nesterov < 1e-12 and f"{gap_torch_nesterov:.1%}" == "1.1%" and np.argmax(nesterov_along) == 9
assert f"{nesterov_along[-1]:.0e}" == "2e-05"

# Dampening on f(x) = x: the damped run is ahead of the undamped run at lr (1 - tau) by exactly
# lr tau (1 - beta^K) / (1 - beta) after K steps (the undamped first gradient, fading as beta^k).
lr_c, b_c, t_c, K = 0.1, 0.9, 0.5, 50
ahead_by = (C.pytorch(slope, [0.0], lr_c, b_c, K, dampening=t_c)[-1, 0]
            - C.pytorch(slope, [0.0], C.undamped_lr(lr_c, t_c), b_c, K)[-1, 0])
want = -lr_c * t_c * (1 - b_c**K) / (1 - b_c)
print(f"dampening's first step on f(x) = x: displacement {ahead_by:.6f}, formula {want:.6f}")
assert abs(ahead_by - want) < 1e-12
# torch.optim.SGD with dampening = beta is not the EMA form (same lr): they differ from the first step on.
gap_ema = relative_gap(torch_sgd(quad.grad, quad.start, np.full(50, 0.5), 0.9, dampening=0.9),
                       C.ema(quad.grad, quad.start, 0.5, 0.9, 50))
print(f"torch.optim.SGD with dampening = beta vs the EMA form, same lr: {gap_ema:.3f} of the largest coordinate")
assert gap_ema > 0.05

# The explorer (section 6): SGD with PyTorch's momentum on its 40 points, batch 1, five seeds of its minibatch
# draws, at (lr, beta) = (0.03, 0), (0.03, 0.9) and (0.003, 0.9), all 15 runs at once; seed 0 at (0.03, 0.9)
# must be the path the explorer shows
try_lr = np.repeat([0.03, 0.03, 0.003], 5)[:, None]
try_beta = np.repeat([0.0, 0.9, 0.9], 5)[:, None]
rows_x = np.tile([minibatch_draws(explorer.m, 1, 2000, seed)[:, 0] for seed in range(5)], (3, 1))  # (run, step)
theta_x, buffer_x = np.tile(explorer.start, (15, 1)), np.zeros((15, 2))
paths_x = [theta_x]
for k in range(2000):
    xb, yb = explorer.x[rows_x[:, k]], explorer.y[rows_x[:, k]]
    r = theta_x[:, 0] + theta_x[:, 1] * xb - yb
    buffer_x = try_beta * buffer_x + np.stack([r, r * xb], axis=1)
    theta_x = theta_x - try_lr * buffer_x
    paths_x.append(theta_x)
paths_x = np.array(paths_x)  # (step, run, 2)
assert (explorer.lr, explorer.momentum, explorer.steps, explorer.seed) == (0.03, 0.9, 2000, 0)
assert explorer.diverged_at is None and np.allclose(paths_x[:, 5], explorer.points, rtol=1e-12, atol=1e-12)
print(*explorer.readout_lines(), sep="\n")
spread_x = np.mean(np.sum((paths_x[1000:] - explorer.theta_star) ** 2, axis=2), axis=0).reshape(3, 5)
grow, back = spread_x[1] / spread_x[0], spread_x[2] / spread_x[0]
print(f"explorer, mean square distance to theta* over SGD's at lr 0.03 (5 seeds): beta 0.9 at lr 0.03 "
      f"{grow.min():.0f} to {grow.max():.0f} (1/(1 - beta) = 10); at lr 0.003 {back.min():.2f} to {back.max():.2f}")
assert (f"{grow.min():.0f}", f"{grow.max():.0f}") == ("7", "16")
assert (f"{back.min():.2f}", f"{back.max():.2f}") == ("0.96", "1.03")

# %% [markdown]
# ## Exercises
#
# ### Exercise 1 (apply)
#
# A PyTorch script uses `torch.optim.SGD(params, lr=0.1, momentum=0.9)`. You port it to a library
# whose momentum is the EMA form $m \leftarrow \beta m + (1-\beta)g$, $x \leftarrow x - \eta' m$, with $\beta = 0.9$.
# Which $\eta'$ gives the same iterates? (Within 0.1 %.)

# %% nbgrader={"grade": false, "grade_id": "ex07_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = 0.1 / (1 - 0.9)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex07_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.momentum_in_practice.ema_learning_rate(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# A run uses `torch.optim.SGD(params, lr=0.5, momentum=0.9, dampening=0.8)`. Which `lr` of an undamped
# `torch.optim.SGD(params, lr=?, momentum=0.9)` weights every gradient *after the first* exactly as
# the damped run does? (Within 0.1 %. Then say in a sentence why the two runs still differ.)

# %% nbgrader={"grade": false, "grade_id": "ex07_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_2 = 0.5 * (1 - 0.8)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex07_2_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.momentum_in_practice.undamped_learning_rate(answer_2)

# %% [markdown]
# ### Exercise 3 (implement)
#
# Write Sutskever's update with a learning-rate schedule: `sutskever(grad, x0, lrs, beta)` runs
# `len(lrs)` steps, step $k$ with learning rate `lrs[k]`, and returns every iterate, start included, as
# an array of shape `(len(lrs) + 1, len(x0))` in float64. The check runs it with schedules, where
# PyTorch's form gives different iterates, and compares every iterate to a relative $10^{-9}$. Do not
# call `conventions`: the check refuses an answer that does.

# %% nbgrader={"grade": false, "grade_id": "ex07_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sutskever(grad, x0, lrs, beta):
    ### BEGIN SOLUTION
    x = np.array(x0, dtype=float)
    v = np.zeros_like(x)
    path = [x.copy()]
    for lr_k in lrs:
        v = beta * v - lr_k * grad(x)
        x = x + v
        path.append(x.copy())
    return np.array(path)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex07_3_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.momentum_in_practice.sutskever_update(sutskever)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(7)
for _ in range(5):
    _s = surfaces.quadratic(_rng.uniform(0.1, 3.0, 2), angle=_rng.uniform(0, np.pi))
    _lrs, _beta, _x0 = _rng.uniform(0.01, 0.3, 40), _rng.uniform(0.0, 0.95), _rng.normal(size=2)
    assert np.allclose(sutskever(_s.grad, _x0, _lrs, _beta),
                       conventions.sutskever(_s.grad, _x0, _lrs, _beta, 40), rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (explore)
#
# In the setting of section 6 but with noise $\sigma_\xi = 2$ ($\lambda = 1$), give the closed-form stationary
# variance of the heavy ball at $\eta = 0.1$, $\beta = 0.9$ (within 0.1 %). Compare it with SGD's floor at the effective step
# $\eta/(1-\beta) = 1$ and with the small-step form $\tfrac{\eta}{1-\beta}\tfrac{\sigma_\xi^2}{2\lambda}$, using the
# two relative errors of section 6 (they do not depend on $\sigma_\xi$): why does it match the small-step form (to about 3 %) but not SGD at
# $\eta/(1-\beta)$? (Optional: measure it as section 6 does.)

# %% nbgrader={"grade": false, "grade_id": "ex07_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_4 = 0.1 * 2**2 * 1.9 / (0.1 * (2 * 1.9 - 0.1))
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex07_4_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.momentum_in_practice.stationary_variance(answer_4)
