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
# # Lesson 04: Momentum: rates, many eigenvalues, and the best possible
#
# Lesson 03 took one eigen-component apart; a real problem has many. This lesson finds the best pair
# $(\eta, \beta)$ ($\sqrt\kappa$ where gradient descent pays $\kappa$), watches many components together,
# and shows no gradient method does better on quadratics.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. show that with complex roots the rate is $\sqrt\beta$ (not $2\sqrt\beta$);
# 2. derive Polyak's optimal pair and its rate $(\sqrt\kappa-1)/(\sqrt\kappa+1)$, and count the steps it saves;
# 3. read the map of the rate over $(\eta, \beta)$;
# 4. say which eigen-components settle first and which set the pace, and why stopping early regularises;
# 5. write any gradient method's error on a quadratic as a polynomial, and explain why Chebyshev
#    polynomials make $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ the best possible rate;
# 6. test claims about "too much" momentum.
#
# ## Prerequisites
#
# Lesson 03: the heavy ball $x_{k+1} = x_k - \eta\nabla f(x_k) + \beta(x_k - x_{k-1})$, its matrix
# $M$ per eigen-component (trace $1+\beta-\eta\lambda$, determinant $\beta$; the largest root modulus is the
# rate), the regimes, critical damping. Lesson 01: $\kappa$, the eigenbasis view, gradient
# descent's rate $(\kappa-1)/(\kappa+1)$. About 60 minutes.

# %%
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps

import lessons_lib
from lessons_lib import checks, optimality, optimizers, plotting, surfaces, theory
from lessons_lib.progress import progress
from lessons_lib.widgets import RateMap, SpectrumWidget
from lessons_lib.widgets import spectrum as spectrum_lib

lessons_lib.setup()


def settled_at(values, tol):
    """First step after which |values| stays <= tol (per row): 0 if it always is, the row's length if it never does."""
    above = ~(np.nan_to_num(np.abs(values), nan=np.inf) <= tol)
    n = above.shape[-1]
    return np.where(above.any(axis=-1), n - np.argmax(above[..., ::-1], axis=-1), 0)


def envelope_rate(x, first, last, double_root=False):
    """Rate per step read off a run: exp of the slope of log|x_k| through its peaks (local maxima) over steps
    first..last, or through every step if it has fewer than 3 peaks; with double_root, of log(|x_k| / k)."""
    k = np.arange(first, last + 1)
    seg = np.abs(np.asarray(x)[first:last + 1]) / (k if double_root else 1)
    peak = (seg[1:-1] >= seg[:-2]) & (seg[1:-1] >= seg[2:])
    pick = np.flatnonzero(peak) + 1 if peak.sum() >= 3 else np.arange(len(seg))
    return float(np.exp(np.polyfit(k[pick], np.log(seg[pick]), 1)[0]))


def roots(lr, beta, lam):
    """The two roots of sigma^2 - (1 + beta - lr lam) sigma + beta = 0 (complex in general)."""
    t = 1 + beta - lr * lam
    disc = complex(t * t - 4 * beta)
    return np.array([(t + disc**0.5) / 2, (t - disc**0.5) / 2])


unit = surfaces.quadratic([1.0, 1.0])  # lambda = 1: the first coordinate is one eigen-component

# %% [markdown]
# ## 1. With complex roots the rate is $\sqrt\beta$, not $2\sqrt\beta$
#
# Complex roots of $\sigma^2 - (1+\beta-\eta\lambda)\sigma + \beta = 0$ come as a conjugate pair
# $\sigma, \bar\sigma$, and their product is the constant term: $\sigma\bar\sigma = |\sigma|^2 = \det M = \beta$. So
#
# $$|\sigma| = \sqrt\beta \qquad\text{whenever}\quad (1-\sqrt\beta)^2 < \eta\lambda < (1+\sqrt\beta)^2,$$
#
# whatever $\eta$ and $\lambda$. The interactive article *Why Momentum Really Works* (G. Goh, Distill,
# 2017) prints $2\sqrt\beta$ instead, in a footnote of "The Dynamics of Momentum" and in its "Ripples"
# caption: it drops the $\tfrac12$ of the quadratic formula. Since $2\sqrt\beta > 1$ for $\beta > 1/4$,
# that would make the ripple regime diverge. Measured on runs (the slope of $\ln|\tilde x_k|$ through its peaks,
# steps 50-200):

# %%
print("beta  lr*lambda  |roots|  sqrt(beta)  2*sqrt(beta)  measured")
for b, h in [(0.81, 1.0), (0.5, 0.6), (0.9, 0.3), (0.3, 1.2), (0.3, 0.05)]:
    x = optimizers.run(unit, [1.0, 0.0], "momentum", h, b, steps=200).points[:, 0]
    modulus = np.abs(roots(h, b, 1.0)).max()
    measured = envelope_rate(x, 50, 200)
    print(f"{b:4}  {h:9}  {modulus:7.4f}  {np.sqrt(b):10.4f}  {2 * np.sqrt(b):12.4f}  {measured:8.4f}")
    if (1 + b - h) ** 2 < 4 * b:  # complex roots: the decay exponent ln(rate) within 0.5 %
        assert np.isclose(np.log(measured) / np.log(np.sqrt(b)), 1, rtol=5e-3) and measured < 1 < 2 * np.sqrt(b)
    else:  # real roots (the last row, monotone): the larger root, far above sqrt(beta)
        assert np.isclose(np.log(measured) / np.log(modulus), 1, rtol=1e-6) and measured > np.sqrt(b) + 0.3

# %% [markdown]
# With $\beta = 0.81$ the error shrinks by 0.9 per step, not $2\sqrt\beta = 1.8$. The
# last row, with real roots, decays at the larger root. (Checks: 21 more pairs
# across the ripple band.)
#
# ## 2. All eigenvalues at once: Polyak's optimal pair
#
# With eigenvalues spread over $[\mu, L]$, one $\eta$ and one $\beta$ must serve them all. Inside the
# complex region every eigen-component has the same rate $\sqrt\beta$, so fit the whole spectrum into
# that region with the smallest $\beta$, both ends on its boundary:
# $\eta\mu = (1-\sqrt\beta)^2$ and $\eta L = (1+\sqrt\beta)^2$. Taking square roots, adding and
# subtracting gives $\sqrt\eta(\sqrt\mu + \sqrt L) = 2$ and $\sqrt\eta(\sqrt L - \sqrt\mu) = 2\sqrt\beta$:
#
# $$\eta^\star = \left(\frac{2}{\sqrt\mu + \sqrt L}\right)^2, \qquad
# \beta^\star = \left(\frac{\sqrt L - \sqrt\mu}{\sqrt L + \sqrt\mu}\right)^2, \qquad
# \rho_\star = \sqrt{\beta^\star} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1},$$
#
# against gradient descent's $(\kappa-1)/(\kappa+1)$. That no other constant pair does better is
# Polyak's theorem (B. T. Polyak, 1964, *Some methods of speeding up the convergence of iteration
# methods*); the Checks search a grid. Checked on lesson 03's valley $0.1x^2 + 2y^2$ ($\mu = 0.2$, $L = 4$)
# by NumPy's eigenvalues of $M$ at both ends and by a run:

# %%
valley = surfaces.get("quadratic")
mu, L = 0.2, 4.0
sm, sL = np.sqrt(mu), np.sqrt(L)
lr_star, beta_star, rho_star = (2 / (sm + sL)) ** 2, ((sL - sm) / (sL + sm)) ** 2, (sL - sm) / (sL + sm)
lr_gd, rate_gd = theory.optimal_gd(mu, L)
print(f"lr* = {lr_star:.4f}, beta* = {beta_star:.4f}, rho* = sqrt(beta*) = {rho_star:.4f} "
      f"(2 sqrt(beta*) = {2 * rho_star:.4f}); gradient descent's best rate {rate_gd:.4f}")
radius = [np.abs(np.linalg.eigvals(theory.momentum_matrix(lr_star, beta_star, lam))).max() for lam in (mu, L)]
print(f"spectral radius of M by NumPy: at lambda = mu {radius[0]:.4f}, at lambda = L {radius[1]:.4f}")
path = optimizers.run(valley, valley.start, "momentum", lr_star, beta_star, steps=700).points
k = np.arange(200, 701)
log_err = np.log(np.linalg.norm(path[200:], axis=-1)) - np.log(k)  # both ends sit on double roots: error ~ k rho^k
measured_star = np.exp(np.polyfit(k, log_err, 1)[0])
print(f"rate measured from a run (slope of log(error/k), steps 200-700): {measured_star:.4f}")
assert np.allclose(radius, rho_star, rtol=1e-6) and np.isclose(measured_star, rho_star, rtol=1e-4)

# %% [markdown]
# ### $\sqrt\kappa$ instead of $\kappa$
#
# Shrinking the error by $\varepsilon$ takes about $\ln\varepsilon/\ln\rho$ steps: with
# $\ln\frac{\sqrt\kappa+1}{\sqrt\kappa-1} \approx 2/\sqrt\kappa$, about $\tfrac{\sqrt\kappa}{2}\ln(1/\varepsilon)$
# for momentum against $\tfrac{\kappa}{2}\ln(1/\varepsilon)$ for gradient descent. Measure both at their
# optimal settings on eigenvalues $(1, \kappa)$ from $(1, 1)$: the steps until the error stays below
# $10^{-6}$ of its start. At the optimal pair both extreme eigen-components sit on a double root: the flat
# end at $\sigma = \rho_\star$ (lesson 03's critical damping), the steep end at $\sigma = -\rho_\star$ (the edge
# between ripples and oscillation). Their error is $\sigma^k(1 + (1-\sigma)k)$: it falls like $k\rho_\star^k$, and
# momentum needs more than the estimate. The column "$k\rho^k$" counts the steps this closed form needs.

# %%
eps = 1e-6
counts = {}
print(" kappa |  GD: estimate  measured | momentum: estimate  k rho^k  measured | speed-up")
for kap in [10.0, 100.0, 1000.0]:
    s_kap = surfaces.quadratic([1.0, kap])
    lr_g2, rate_g2 = theory.optimal_gd(1.0, kap)
    lr_m, beta_m, rho_m = theory.optimal_momentum(1.0, kap)
    err_g = np.linalg.norm(optimizers.run(s_kap, [1.0, 1.0], "gd", lr_g2,
                                          steps=int(1.2 * np.log(eps) / np.log(rate_g2))).points, axis=-1)
    err_m = np.linalg.norm(optimizers.run(s_kap, [1.0, 1.0], "momentum", lr_m, beta_m,
                                          steps=int(3 * np.log(eps) / np.log(rho_m))).points, axis=-1)
    gd_steps, hb_steps = (int(settled_at(e / e[0], eps)) for e in (err_g, err_m))
    assert gd_steps < len(err_g) - 1 and hb_steps < len(err_m) - 1  # both runs long enough to settle
    kk = np.arange(20 * int(np.sqrt(kap) * np.log(1 / eps)))
    closed = np.hypot(rho_m**kk * (1 + (1 - rho_m) * kk), rho_m**kk * (1 + (1 + rho_m) * kk)) / np.sqrt(2)
    counts[kap] = (gd_steps, hb_steps, int(settled_at(closed, eps)))
    est_gd, est_hb = kap / 2 * np.log(1 / eps), np.sqrt(kap) / 2 * np.log(1 / eps)
    print(f"{kap:6.0f} | {est_gd:13.1f}  {gd_steps:8d} | {est_hb:18.1f}  {counts[kap][2]:7d}  {hb_steps:8d} "
          f"| {gd_steps / hb_steps:8.1f}")
    assert abs(gd_steps - est_gd) < 1 and hb_steps == counts[kap][2]
extra = [counts[kap][1] / (np.sqrt(kap) / 2 * np.log(1 / eps)) - 1 for kap in counts]
growth = [counts[100.0][1] / counts[10.0][1], counts[1000.0][1] / counts[100.0][1]]
growth_gd = [counts[100.0][0] / counts[10.0][0], counts[1000.0][0] / counts[100.0][0]]
print(f"momentum needs {extra[0]:.0%} to {extra[-1]:.0%} more than its estimate; its count grows by "
      f"{growth[0]:.2f} and {growth[1]:.2f} per decade of kappa (sqrt(10) = {np.sqrt(10):.2f}), "
      f"GD's by {growth_gd[0]:.2f} and {growth_gd[1]:.2f}")
assert [round(e, 2) for e in extra] == [0.24, 0.35, 0.44] and all(3.35 < g < 3.45 for g in growth)
assert all(abs(g - 10) < 0.05 for g in growth_gd)
assert [round(c[0] / c[1], 1) for c in counts.values()] == [2.6, 7.4, 21.9]

# %% [markdown]
# Per decade of $\kappa$ gradient descent's count grows tenfold, momentum's by 3.4, a little more than
# $\sqrt{10}$; the factor $k$ of the double roots costs the 24 to 44 % above the estimate.
#
# ## 3. The rate map
#
# The rate over the $(\eta, \beta)$ plane for $\mu = 0.2$, $L = 4$. Dashed:
# $\eta\mu = (1-\sqrt\beta)^2$, where the flat end's roots turn complex; solid: $\eta L = (1+\sqrt\beta)^2$,
# where the steep end's turn real and negative. Between them both ends ripple and the rate is exactly
# $\sqrt\beta$; the optimum is the wedge's bottom tip. Left of the wedge the flat end creeps (monotone);
# right of it the steep end flips sign; past $\eta L = 2 + 2\beta$ it diverges.

# %%
lr_axis, beta_axis = np.linspace(0.004, 1.0, 250), np.linspace(0.0, 0.995, 250)
LRm, Bm = np.meshgrid(lr_axis, beta_axis)
rate_map = theory.momentum_rate(LRm, Bm, [mu, L])
fig, ax = plt.subplots(figsize=(8.5, 4.6))
im = ax.imshow(np.where(rate_map < 1, rate_map, np.nan), origin="lower", aspect="auto", cmap="viridis_r",
               vmin=rho_star, vmax=1.0, extent=[lr_axis[0], lr_axis[-1], beta_axis[0], beta_axis[-1]])
ax.set_facecolor("0.85")
fig.colorbar(im, ax=ax, label="rate per step (grey: diverges)")
cs = ax.contour(LRm, Bm, rate_map, levels=[0.7, 0.8, 0.9, 0.95], colors="w", linewidths=0.7)
ax.clabel(cs, fontsize=8)
bb = np.linspace(0, 0.99, 300)
ax.plot((1 - np.sqrt(bb)) ** 2 / mu, bb, "k--", linewidth=1, label=r"$\eta\mu = (1-\sqrt{\beta})^2$ (flat end)")
ax.plot((1 + np.sqrt(bb)) ** 2 / L, bb, "k-", linewidth=1, label=r"$\eta L = (1+\sqrt{\beta})^2$ (steep end)")
ax.plot((2 + 2 * bb) / L, bb, "-.", color="#CC79A7", linewidth=2, label=r"$\eta L = 2+2\beta$: divergence")
ax.plot(lr_star, beta_star, "*", color="gold", markeredgecolor="k", markersize=16,
        label=rf"optimum: $\eta^\star$={lr_star:.3f}, $\beta^\star$={beta_star:.3f}, rate {rho_star:.3f}")
ax.plot(lr_gd, 0.0, "o", color=plotting.METHOD_COLORS["gd"], markeredgecolor="k", markersize=9, clip_on=False,
        label=f"best gradient descent: rate {rate_gd:.3f}")
ax.set(xlim=(0, 1), ylim=(0, 0.99), xlabel=r"learning rate $\eta$", ylabel=r"momentum $\beta$",
       title=r"heavy-ball rate over $(\eta,\beta)$ for eigenvalues in $[0.2, 4]$")
ax.text(0.05, 0.25, "flat end\nmonotone:\nslow", fontsize=9, color="w")
ax.text(0.45, 0.715, "ripples at both ends: rate = " + r"$\sqrt{\beta}$", fontsize=9, ha="center", va="center")
ax.text(0.85, 0.12, "diverges", fontsize=10)
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# The widget draws the map for eigenvalues $[1/\kappa, 1]$ (horizontal axis $\eta L$) with a slider for
# $\kappa$; click, or drag **η (L = 1)** and **momentum β**, to see that pair's iterates. Raise $\kappa$ from 20 to
# 1000: the wedge climbs towards $\beta = 1$ ($\beta^\star$ from 0.403 to 0.881). At the optimum both ends
# are double roots: the readout names them
# "monotone" or "ripples" by rounding, and its count $\ln 10^{-6}/\ln\rho$ ignores their factor $k$ (at
# $\kappa = 1000$ it says 219 steps; the 300-step run ends at $1.2\cdot10^{-6}$). Without a kernel you see
# a still, without the edge curves and regime names.

# %%
rate_widget = RateMap(kappa=20, lr=2.0, beta=0.6)
rate_widget

# %% [markdown]
# ## 4. Many eigenvalues
#
# Take the quadratic $f = \tfrac12\sum_i \lambda_i \tilde x_i^2$ with $\lambda_i = 2^{-i}$, $i = 0, \dots, 7$
# ($L = 1$, $\mu = 2^{-7}$, $\kappa = 128$), every eigen-component starting at error 1. Gradient descent at
# $\eta = 1$ multiplies
# component $i$ by $1 - 2^{-i}$ per step: the stiff components settle first, and the flattest, shrinking by only $0.992$, **sets the pace**. The heavy ball at $\eta = 1$, $\beta = 0.8$
# puts components 0 to 6 in the ripple band: they share the rate $\sqrt{0.8} = 0.894$ and settle together,
# in no order of stiffness. Component 7, with $\eta\lambda = 0.0078$ below $(1-\sqrt\beta)^2 = 0.0111$, is
# monotone and slower: it sets the pace. At Polyak's pair for $[2^{-7}, 1]$ all eight share $\sqrt{\beta^\star}$;
# the two ends, on double roots, carry the factor $k$ and settle last (the stiffest first grows about fourfold).

# %%
lams8 = spectrum_lib.eigenvalues(8)
lr8, beta8, rho8 = theory.optimal_momentum(lams8[-1], 1.0)
settings = {"gradient descent, η = 1": (1.0, 0.0), "heavy ball, η = 1, β = 0.8": (1.0, 0.8),
            f"heavy ball, Polyak's pair: η = {lr8:.3f}, β = {beta8:.3f}": (lr8, beta8)}
fig, axes = plt.subplots(3, 1, figsize=(7.0, 7.6), sharex=True, sharey=True)  # stacked: fits a 560-px output area
colors8 = [colormaps["viridis"](0.9 * i / 7) for i in range(8)]
settle8, fit_gap = {}, {}
for ax, (name, (a, b)) in zip(axes, settings.items(), strict=True):
    err = spectrum_lib.component_errors(a, b, lams8, 2000)
    rates = spectrum_lib.component_rates("gd" if b == 0 else "momentum", a, b, lams8)
    for i in range(8):
        ax.semilogy(np.abs(err[i, :301]), color=colors8[i], linewidth=1.2, label=rf"$\lambda = 2^{{-{i}}}$")
    ax.set(ylim=(1e-10, 10))
    ax.set_title(name, fontsize=10)
    settle8[name] = settled_at(err, 1e-6).tolist()
    # each curve's own rate, read off steps 100-300 (the double roots of Polyak's pair divided by k)
    fitted8 = [envelope_rate(err[i], 100, 300, double_root=(b == beta8 and i in (0, 7))) if rates[i] > 0 else 0.0
               for i in range(8)]
    live8 = rates > 0
    fit_gap[name] = np.abs(np.log(np.array(fitted8)[live8]) / np.log(rates[live8]) - 1).max()
    pace = spectrum_lib.pace_setters(rates)
    print(f"{name}\n  rate of each component (theory): {np.round(rates, 4)}; measured: {np.round(fitted8, 4)}"
          f"\n  slowest: {'all' if len(pace) == 8 else pace}; steps until |error| stays <= 1e-6: {settle8[name]}")
print(f"heavy ball, component 7: lr*lambda = {2.0**-7:.4f} < (1 - sqrt(0.8))^2 = {(1 - np.sqrt(0.8)) ** 2:.4f}: monotone")
axes[1].set_ylabel(r"$|\tilde x_{k,i}|$, error of component $i$")
axes[2].set_xlabel("step $k$")
axes[2].legend(fontsize=8.5, ncol=2, loc="center right")  # Polyak's pair leaves the right half empty
fig.tight_layout()
plt.show()
assert max(fit_gap.values()) < 1e-2  # measured ln(rate) within 1 % of theory's, every component
gd_settle, hb_settle, opt_settle = settle8.values()
assert gd_settle == [1, 20, 49, 104, 215, 436, 878, 1762]  # stiff first, in order
assert hb_settle == [123, 125, 122, 124, 122, 117, 120, 280]  # 0-6 together, in no order; 7 lags
assert opt_settle == [108, 79, 77, 77, 76, 76, 79, 94]  # the double-root ends last
peak0 = np.abs(spectrum_lib.component_errors(lr8, beta8, lams8, 20)[0])  # the stiffest, at Polyak's pair
print(f"Polyak's pair, component 0: largest |error| {peak0.max():.2f} at step {peak0.argmax()} "
      "(its double root -rho* carries the factor 1 + (1 + rho*) k)")
assert round(peak0.max(), 1) == 4.2 and peak0.argmax() == 5 and 4 <= peak0.max() < 4.5
rates_hb = spectrum_lib.component_rates("momentum", 1.0, 0.8, lams8)
assert spectrum_lib.pace_setters(spectrum_lib.component_rates("gd", 1.0, 0.0, lams8)) == [7]
assert spectrum_lib.pace_setters(rates_hb) == [7] and rates_hb[7] > np.sqrt(0.8) + 0.05
regimes8 = theory.momentum_regime(lams8, 0.8, 1.0)  # eta * lambda_i with eta = 1
assert np.all(regimes8[:7] == "ripples") and regimes8[7] == "monotone" and 2.0**-7 < (1 - np.sqrt(0.8)) ** 2
assert len(spectrum_lib.pace_setters(spectrum_lib.component_rates("momentum", lr8, beta8, lams8))) == 8

# %% [markdown]
# Drag **η** and **momentum β** below and every curve moves at once; the readout names each method's
# pace-setter, and the button jumps to Polyak's pair. Its count $\ln 10^{-6}/\ln\rho$ (78 there)
# leaves out the double roots' factor $k$: the ends need 108 and 94 steps. (Checks: the curves and these
# counts against a run on a rotated $8\times8$ matrix.)

# %%
spectrum_widget = SpectrumWidget(n=8, lr=1.0, beta=0.8, steps=300)
spectrum_widget

# %% [markdown]
# ### Early stopping as a regulariser
#
# Stopping early can help. Fit least squares to noisy targets,
# $y = X\theta^\star + \text{noise}$, with $m = 32$ samples of $d = 10$ features, built so that the Hessian
# $X^\top X/m$ has eigenvalues $2^{-i}$, $i = 0, \dots, 9$; $\theta^\star$ has coordinate 1 along every
# eigenvector, and the noise has standard deviation 1. Gradient descent from $\theta = 0$ with $\eta = 1$ moves
# eigen-coordinate $i$ towards the least-squares answer $\hat\theta_i$ by the fraction $1 - (1-\eta\lambda_i)^k$:
# the curves above. But $\hat\theta_i$ is $\theta^\star_i$ plus noise of variance $1/(m\lambda_i)$: the flat components,
# fitted last, carry the most noise. Stopping early leaves them near 0. The test error, on 2,000 fresh
# inputs with noise-free targets, against the step, for 20 noise seeds:

# %%
d, n_samples, seeds = 10, 32, 20
lams_ls = 2.0 ** -np.arange(d)
rng = np.random.default_rng(0)
Q = np.linalg.qr(rng.standard_normal((d, d)))[0]  # eigenvectors of the Hessian
U = np.linalg.qr(rng.standard_normal((n_samples, d)))[0]
X = np.sqrt(n_samples) * (U * np.sqrt(lams_ls)) @ Q.T  # X^T X / n = Q diag(lams) Q^T
w_true = Q @ np.ones(d)
Y = X @ w_true + rng.standard_normal((seeds, n_samples))  # one row of targets per noise seed
X_test = (rng.standard_normal((2000, d)) * np.sqrt(lams_ls)) @ Q.T  # fresh inputs, the same distribution
w_ls = np.linalg.lstsq(X, Y.T, rcond=None)[0].T  # (seeds, d): where gradient descent converges
k_ls = np.arange(20_001)
fitted = 1 - (1 - lams_ls) ** k_ls[:, None]  # (steps, d): fraction of eigen-coordinate i fitted after k steps
W = np.einsum("kd,sd,ed->kse", fitted, w_ls @ Q, Q)  # w_k for every step and seed
C_test = X_test.T @ X_test / len(X_test)  # mean of (x^T v)^2 over the test inputs is v^T C_test v
test_error = np.einsum("ksd,de,kse->ks", W - w_true, C_test, W - w_true)  # (steps, seeds)
test_ls = np.einsum("sd,de,se->s", w_ls - w_true, C_test, w_ls - w_true)
best = test_error.argmin(axis=0)
ratio = test_error.min(axis=0) / test_ls
noise_sq = ((w_ls @ Q - 1) ** 2).mean(axis=0)  # squared noise in each eigen-coordinate, over the seeds
print(f"best step per seed: {sorted(best.tolist())}")
print(f"test error at the best step / at convergence (least squares): median {np.median(ratio):.2f}, "
      f"from {ratio.min():.2f} to {ratio.max():.2f} over {seeds} seeds")
converged_gap = np.abs(test_error[-1] / test_ls - 1).max()  # rounding error only; its digits vary with the CPU
print(f"after 20,000 steps the test error equals least squares' within 1e-12 (relative): {converged_gap < 1e-12}")
print("mean squared noise in eigen-coordinate i over the seeds:", np.round(noise_sq, 2),
      "\n  against 1/(m lambda_i):                                ", np.round(1 / (n_samples * lams_ls), 2))
assert (best.min(), best.max()) == (3, 76) and np.all(ratio < 0.97) and round(np.median(ratio), 2) == 0.55
assert converged_gap < 1e-12 and noise_sq[-3:].mean() > 20 * noise_sq[:3].mean()
var_theory = np.diag(Q.T @ np.linalg.inv(X.T @ X) @ Q)  # least squares' noise variance per eigen-coordinate
pooled = (noise_sq * n_samples * lams_ls).mean()  # mean of 200 squared standard normals if the variance is right
print(f"variance of the noise in eigen-coordinate i from (X^T X)^-1, times m lambda_i: "
      f"{np.round(n_samples * lams_ls * var_theory, 6)}; measured noise^2 times m lambda_i, pooled over "
      f"i and the seeds: {pooled:.2f} (1 +- {np.sqrt(2 / (d * seeds)):.2f} expected)")
assert np.allclose(n_samples * lams_ls * var_theory, 1, rtol=1e-9)
assert abs(pooled - 1) < 3 * np.sqrt(2 / (d * seeds))

# %%
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7.0, 6.8), sharex=True)  # stacked: fits a 560-px output area
shown = np.unique(np.geomspace(1, k_ls[-1], 400).astype(int))  # 400 steps on a log scale are enough to draw
z0 = fitted[shown] * (w_ls[0] @ Q)  # seed 0: eigen-coordinates of w_k
colors10 = [colormaps["viridis"](0.9 * i / 9) for i in range(d)]
for i in range(d):
    ax1.semilogx(shown, z0[:, i], color=colors10[i], linewidth=1.2, label=rf"$2^{{-{i}}}$")
ax1.axhline(1.0, color="k", linestyle=":", linewidth=1, label=r"$\theta^\star_i = 1$")
ax1.set(ylabel=r"eigen-coordinate $i$ of $\theta^{(k)}$", title="seed 0: each component heads for 1 + its noise")
ax1.legend(fontsize=8.5, ncol=3, loc="lower left", title=r"$\lambda_i$", title_fontsize=8.5)
ax2.loglog(shown, test_error[shown], color=plotting.METHOD_COLORS["gd"], linewidth=0.7, alpha=0.6)
ax2.plot(best, test_error.min(axis=0), "o", color=plotting.METHOD_COLORS["momentum"], markersize=4,
         label="best step of each seed")
ax2.set(xlabel="step $k$", ylabel="test error", title=f"{seeds} noise seeds: a minimum before convergence")
ax2.legend(fontsize=8.5)
fig.tight_layout()
plt.show()

# %% [markdown]
# In every seed the test error has its minimum before convergence, after 3 to 76 steps, when the stiff
# components are fitted and the flat, noisy ones not yet: stopping acts like a penalty on flat directions.
#
# ## 5. The best possible: Chebyshev and Nesterov's lower bound
#
# Gradient descent, the heavy ball, Nesterov's method and conjugate gradients all make each new point
# $x_0$ plus a combination of the gradients computed so far. On a quadratic $\nabla f(x) = H(x - x^\star)$,
# so by induction
#
# $$x_k - x^\star = p_k(H)\,(x_0 - x^\star), \qquad p_k \text{ a polynomial of degree} \le k,\quad p_k(0) = 1 .$$
#
# Eigen-component $i$ is multiplied by $p_k(\lambda_i)$. Gradient descent's polynomial is $(1-\eta\lambda)^k$;
# the heavy ball's follows $p_{k+1}(\lambda) = (1+\beta-\eta\lambda)p_k(\lambda) - \beta p_{k-1}(\lambda)$ from
# $p_0 = 1$, $p_1 = 1-\eta\lambda$. Over
# every quadratic with spectrum in $[\mu, L]$ the guarantee is $\max_{\lambda\in[\mu,L]}|p_k(\lambda)|$, and
# the smallest possible is Chebyshev's (Y. Saad, *Iterative Methods for Sparse Linear Systems*, 2003,
# section 6.11):
#
# $$\min_{p_k(0)=1}\ \max_{\lambda\in[\mu,L]} |p_k(\lambda)| = \frac{1}{T_k\!\left(\frac{L+\mu}{L-\mu}\right)}
# = \frac{2\rho_\star^k}{1+\rho_\star^{2k}}, \qquad \rho_\star = \frac{\sqrt\kappa-1}{\sqrt\kappa+1},$$
#
# reached by $T_k\big(\frac{L+\mu-2\lambda}{L-\mu}\big)/T_k\big(\frac{L+\mu}{L-\mu}\big)$, where $T_k$ is the Chebyshev
# polynomial of degree $k$ ($T_k(\cos\phi) = \cos k\phi$).
# Per step, no polynomial beats $\rho_\star$: the heavy ball's optimal rate. A method that adapts its
# polynomial to the problem, such as conjugate gradients, is not covered by this min-max; Nesterov's lower
# bound is (Y. Nesterov, *Introductory Lectures on Convex Optimization*, 2004, Theorem 2.1.13): one
# quadratic with spectrum in $[\mu, L]$ (in infinitely many coordinates) forces
# $\|x_k - x^\star\| \ge \rho_\star^k\|x_0 - x^\star\|$ on every such method.
#
# Take 100 eigenvalues spread geometrically over $[0.01, 1]$ ($\kappa = 100$), every eigen-component starting
# at 1: gradient descent and the heavy ball at their optimal settings, the bound, and conjugate gradients,
# in the norm $\|e\|_H = \sqrt{e^\top H e}$, which conjugate gradients minimises.

# %%
def conjugate_gradients(hess_vec, b, x0, steps):
    """CG for H x = b (H symmetric positive definite, given as a function x -> H x); all iterates."""
    x, r = x0.copy(), b - hess_vec(x0)
    p, out = r.copy(), [x0.copy()]
    for _ in range(steps):
        Hp = hess_vec(p)
        alpha = (r @ r) / (p @ Hp)
        x = x + alpha * p
        r_new = r - alpha * Hp
        p = r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
        out.append(x.copy())
    return np.array(out)


kappa, K = 100.0, 200
lam = np.geomspace(1 / kappa, 1.0, 100)  # H = diag(lam), x* = 0
e0 = np.ones_like(lam)
lr_g, rate_g = theory.optimal_gd(1 / kappa, 1.0)
lr_h, beta_h, _ = theory.optimal_momentum(1 / kappa, 1.0)
gd_e, hb_e, prev, cur = [e0], [e0], e0, e0
for _ in range(K):  # the two iterations on the error vector
    gd_e.append(gd_e[-1] - lr_g * lam * gd_e[-1])
    cur, prev = cur - lr_h * lam * cur + beta_h * (cur - prev), cur
    hb_e.append(cur)
cg_e = conjugate_gradients(lambda v: lam * v, np.zeros_like(lam), e0, 120)


def h_norm(e):
    return np.sqrt(np.sum(lam * e * e, axis=-1)) / np.sqrt(np.sum(lam))  # relative to the start


k = np.arange(K + 1)
errors = {"gd": h_norm(np.array(gd_e)), "heavy ball": h_norm(np.array(hb_e)), "cg": h_norm(cg_e)}
rho_cheb = optimality.chebyshev_rate(1 / kappa, 1.0)  # (sqrt(kappa) - 1) / (sqrt(kappa) + 1)
bound = optimality.chebyshev_bound(1 / kappa, 1.0, k)  # 2 rho*^k / (1 + rho*^2k)
hb_rate = envelope_rate(errors["heavy ball"], 100, 200)
hb_rate_k = envelope_rate(errors["heavy ball"], 100, 200, double_root=True)
gd_rate_measured = envelope_rate(errors["gd"], 100, 200)
print(f"rho* = {rho_cheb:.4f}; heavy ball's rate measured over steps 100-200: {hb_rate:.4f} "
      f"({hb_rate_k:.4f} after dividing the error by k)")
print(f"gradient descent: measured {gd_rate_measured:.4f}, (kappa-1)/(kappa+1) = {rate_g:.4f}")
reach = {name: int(settled_at(e, 1e-6)) for name, e in [("bound", bound), *errors.items()]}
print("steps until the error stays below 1e-6:",
      ", ".join(f"{name} {n if n < len(e) else '> ' + str(len(e) - 1)}"
                for (name, n), e in zip(reach.items(), [bound, *errors.values()], strict=True)))
live = bound[:len(cg_e)] > 1e-12
print(f"conjugate gradients / bound over steps 1-20: {(errors['cg'][1:21] / bound[1:21]).min():.2f} to "
      f"{(errors['cg'][1:21] / bound[1:21]).max():.2f}; below the bound at every step: "
      f"{bool(np.all(errors['cg'][live] <= bound[:len(cg_e)][live]))}")
assert np.isclose(np.log(hb_rate_k) / np.log(rho_cheb), 1, rtol=1e-2) and hb_rate > rho_cheb
assert np.isclose(np.log(gd_rate_measured) / np.log(rate_g), 1, rtol=1e-2)
assert (reach["bound"], reach["heavy ball"], reach["cg"]) == (73, 87, 55) and reach["gd"] == K + 1
assert np.all(errors["cg"][live] <= bound[:len(cg_e)][live])

# %%
fig, ax = plt.subplots(figsize=(8, 4))
ax.semilogy(k, errors["gd"], color=plotting.METHOD_COLORS["gd"], label="gradient descent, optimal η")
ax.semilogy(k, errors["heavy ball"], color=plotting.METHOD_COLORS["momentum"],
            linestyle=plotting.METHOD_LINESTYLES["momentum"], label="heavy ball, Polyak's pair")
ax.semilogy(k, bound, "k-", linewidth=2, alpha=0.5,
            label=r"best worst case (Chebyshev) $2\rho_\star^k/(1+\rho_\star^{2k})$")
ax.semilogy(k, rate_g**k, ":", color=plotting.METHOD_COLORS["gd"], label=r"GD's guarantee $((\kappa-1)/(\kappa+1))^k$")
ax.semilogy(np.arange(len(cg_e))[live], errors["cg"][live], "-", color="#009E73", label="conjugate gradients")
ax.set(xlabel="step $k$", ylabel=r"$\|x_k - x^\star\|_H / \|x_0 - x^\star\|_H$", ylim=(1e-14, 2),
       title=r"100 eigenvalues in $[0.01, 1]$, $\kappa = 100$")
ax.legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# The error stays below $10^{-6}$ from step 73 for the bound, 87 for the heavy ball, 55 for conjugate
# gradients, and not within 200 steps for gradient descent.
# The heavy ball follows the bound's slope, off by the factor $k$ of its double roots. Conjugate
# gradients stays below the bound: it adapts its polynomial to this spectrum and start, and the bound is a
# worst case over all spectra in $[\mu, L]$. (Checks: a linear program finds the min-max polynomial and
# matches the formula; the heavy ball's polynomial reproduces a run on a rotated matrix.)
#
# Nesterov's worst case is concrete: $f(x) = \frac{L-\mu}{8}\big(x^\top A x - 2x_1\big) + \frac{\mu}{2}\|x\|^2$
# with $A$ tridiagonal ($2$ on the diagonal, $-1$ beside it). Its minimiser has $x^\star_i = \rho_\star^i$. From
# $x_0 = 0$ the first gradient touches only coordinate 1, and each product with $A$ adds one more: after $k$
# steps at most $k$ coordinates are nonzero, so $\|x_k - x^\star\|^2 \ge \sum_{i>k}(x^\star_i)^2 = \rho_\star^{2k}\|x^\star\|^2$.
# Conjugate gradients, the best Krylov method in the $H$-norm, on 200 coordinates:

# %%
n_dim = 200
mu_w, L_w = 1 / kappa, 1.0
H_w, b_w = optimality.nesterov_worst_quadratic(mu_w, L_w, n_dim)  # H = (L - mu)/4 A + mu I, b = (L - mu)/4 e_1
x_star = np.linalg.solve(H_w, b_w)
iters = conjugate_gradients(lambda v: H_w @ v, b_w, np.zeros(n_dim), 60)
nonzero = [int(np.flatnonzero(x).max()) + 1 if x.any() else 0 for x in iters]
err_w = np.linalg.norm(iters - x_star, axis=-1)
ratio_w = err_w / (rho_cheb ** np.arange(61) * np.linalg.norm(x_star))
eig_w = np.linalg.eigvalsh(H_w)
print(f"Hessian's eigenvalues in [{eig_w.min():.4f}, {eig_w.max():.4f}]; "
      f"x*_i / rho*^i - 1 for i <= 30: at most {np.abs(x_star[:30] / rho_cheb ** np.arange(1, 31) - 1).max():.0e}")
print(f"nonzero coordinates of x_k for k = 0..6: {nonzero[:7]}, k = 60: {nonzero[60]}")
print(f"||x_k - x*|| / (rho*^k ||x*||) at k = 0, 10, 30, 60: {np.round(ratio_w[[0, 10, 30, 60]], 3)}")
assert eig_w.min() > mu_w and eig_w.max() < L_w and nonzero == list(range(61)) and np.all(ratio_w >= 1 - 1e-9)
assert np.abs(x_star[:30] / rho_cheb ** np.arange(1, 31) - 1).max() < 1e-10

# %% [markdown]
# Even conjugate gradients never gets below $\rho_\star^k\|x_0 - x^\star\|$ here. So on quadratics $(\sqrt\kappa-1)/(\sqrt\kappa+1)$ is the best rate any gradient method can
# guarantee, and Polyak's heavy ball attains it.
#
# ## 6. Two claims about "too much" momentum
#
# Two of the course's seed texts (in Chinese; translations the course's, $[\beta]$ for their $\gamma$):
#
# 1. Seed 002 (`data/seeds/002_f70065683ff95f85.txt`, section 3.4, line 161): *"if the momentum coefficient
#    [$\beta$] is too large, the momentum may gradually vanish ..., so that the Momentum optimizer
#    degenerates into traditional gradient descent."*
# 2. Seed 000 (`data/seeds/000_a8b9852b0ec674d4.txt`, section 2, line 11): *"too large a momentum value may
#    make the model converge too slowly, too small a momentum value may make it converge too fast."*
#
# Test the first on the valley at $\eta = 0.1$: how far the heavy ball's path strays from gradient
# descent's. Test the second on eigenvalues $\{1, 100\}$: for each $\beta$, the best rate over $\eta$ (past
# $\beta^\star$ on the whole interval $(1-\sqrt\beta)^2/\mu \le \eta \le (1+\sqrt\beta)^2/L$, checked by LAPACK
# at every $\eta$), measured by a run, and the fewest steps to $10^{-6}$ from $(1, 1)$ over 20,000 geometrically
# spaced $\eta$ from $10^{-5}$ to the divergence edge, refined near the best.

# %%
gd_path = optimizers.run(valley, valley.start, "gd", 0.1, steps=100).points
gaps = [np.linalg.norm(optimizers.run(valley, valley.start, "momentum", 0.1, b, steps=100).points - gd_path,
                       axis=-1).max() for b in [0.0, 0.1, 0.5, 0.9, 0.99]]
print("beta = 0, 0.1, 0.5, 0.9, 0.99: largest distance from gradient descent's path over 100 steps",
      np.round(gaps, 3))
assert gaps[0] == 0 and np.all(np.diff(gaps) > 0)

lam2 = np.array([1.0, 100.0])
s2 = surfaces.quadratic(lam2)
lr_o, beta_o, _ = theory.optimal_momentum(*lam2)
beta_list = [0.0, 0.5, beta_o, 0.68, 0.8, 0.9, 0.95, 0.99]


def fewest_steps(beta, steps, lr_scan):
    """Heavy ball (beta = 0: gradient descent) from (1, 1) at every lr of lr_scan: the steps until
    |x_k| stays <= 1e-6 |x_0| (steps + 1 if not within the run), and the index of the lr with the fewest."""
    x = prev = np.ones((2, len(lr_scan)))
    last = np.zeros(len(lr_scan), dtype=int)
    h = lam2[:, None] * lr_scan
    with np.errstate(over="ignore", invalid="ignore"):  # the large lr diverge
        for step in range(1, steps + 1):
            x, prev = x - h * x + beta * (x - prev), x
            last[~(x[0] ** 2 + x[1] ** 2 <= 2e-12)] = step
    return int(last.min()) + 1, int(last.argmin())


print(" beta   best rate  LAPACK's best  measured  sqrt(beta)  fewest steps   at lr")
fewest = []
for b in progress(beta_list, desc="20,000 learning rates for each beta"):
    lr_scan = np.geomspace(1e-5, (2 + 2 * b) / lam2[1], 20_000)  # every stable lr down to 1e-5
    lr_rates = theory.momentum_rate(lr_scan, b, lam2)
    lr_best = lr_o if b == beta_o else ((1 - np.sqrt(b)) ** 2 / lam2[0] + (1 + np.sqrt(b)) ** 2 / lam2[1]) / 2 \
        if b > beta_o else lr_scan[lr_rates.argmin()]  # the middle of the interval past beta*
    best_rate = min(lr_rates.min(), float(theory.momentum_rate(lr_best, b, lam2)))
    steps = int(1.2 * np.log(eps) / np.log(best_rate)) + 100
    x_run = optimizers.run(s2, [1.0, 1.0], "gd" if b == 0 else "momentum", lr_best, b, steps=max(steps, 800)).points
    measured = max(envelope_rate(x_run[:, i], 100, max(steps, 800), double_root=(b == beta_o)) for i in (0, 1))
    n_coarse, i_fewest = fewest_steps(b, steps, lr_scan)
    lr_near = np.geomspace(0.97 * lr_scan[i_fewest], 1.03 * lr_scan[i_fewest], 1000)  # refined: +-3 %
    n_fewest, j_fewest = fewest_steps(b, steps, lr_near)
    fewest.append(n_fewest)
    lapack = "-"
    if b > beta_o + 1e-9:  # past beta*: LAPACK's eigenvalues at every lr; no lr beats sqrt(beta)
        M2 = np.zeros((2, len(lr_scan), 2, 2))  # the 2x2 matrix at lambda = 1 and 100 for every lr
        M2[..., 0, 0], M2[..., 0, 1], M2[..., 1, 0] = 1 + b - lam2[:, None] * lr_scan, -b, 1.0
        rate_lapack = np.abs(np.linalg.eigvals(M2)).max(axis=(0, 2))  # each lr's rate
        lo, hi = (1 - np.sqrt(b)) ** 2 / lam2[0], (1 + np.sqrt(b)) ** 2 / lam2[1]
        assert np.isclose(rate_lapack.min(), np.sqrt(b), rtol=1e-9) and lo <= lr_scan[rate_lapack.argmin()] <= hi
        assert np.all(rate_lapack >= np.sqrt(b) * (1 - 1e-9)) and np.isclose(best_rate, rate_lapack.min(), rtol=1e-9)
        lapack = f"{rate_lapack.min():.4f}"
    print(f"{b:5.3f}  {best_rate:9.4f}  {lapack:>13}  {measured:8.4f}  {np.sqrt(b):10.4f}  "
          f"{n_fewest:12d}  {lr_near[j_fewest]:.2e}")
    assert n_fewest <= n_coarse <= steps and np.isclose(np.log(measured) / np.log(best_rate), 1, rtol=1e-2)
    assert 0 < i_fewest < len(lr_scan) - 1  # the fewest steps inside the scanned range, not at its edge
assert fewest == [675, 207, 81, 74, 119, 252, 518, 2644]

# %% [markdown]
# Verdicts:
#
# * **Claim 1 is backwards.** Momentum *is* gradient descent at $\beta = 0$, and its path strays further
#   from gradient descent's with every larger $\beta$ measured.
# * **"Too large slows convergence" holds** on this problem: past $\beta^\star$ the best rate is
#   $\sqrt\beta \to 1$ (no learning rate beats it, the roots' product being $\beta$), and the fewest steps
#   grow from 119 at $\beta = 0.8$ to 2,644 at $0.99$. A nuance: $\beta = 0.68$ settles in 74 steps, fewer
#   than the 81 at $\beta^\star$, because $\beta^\star$ minimises the rate, not the steps at a finite tolerance.
# * **"Too small converges too fast" does not hold**: smaller $\beta$ is closer to gradient descent,
#   which is slower here (675 steps at $\beta = 0$, 207 at $0.5$).
#
# ## Summary
#
# * With complex roots the heavy ball's rate is exactly $\sqrt\beta$, not the $2\sqrt\beta$ printed in *Why
#   Momentum Really Works*.
# * Polyak's pair puts the whole spectrum in the ripple band or on its edges, with rate
#   $(\sqrt\kappa-1)/(\sqrt\kappa+1)$. On eigenvalues $(1, \kappa)$ it needs 2.6, 7.4 and 21.9 times fewer steps
#   than gradient descent for $\kappa$ = 10, 100, 1000, 24 to 44 % more than $\tfrac{\sqrt\kappa}{2}\ln(1/\varepsilon)$
#   (the double roots at the ends).
# * On eigenvalues $2^{-i}$, gradient descent ($\eta = 1$) settles the stiff components first and the flattest
#   sets the pace. The heavy ball ($\eta = 1$, $\beta = 0.8$) settles the seven rippling ones together, at
#   $\sqrt\beta$, in no order of stiffness; the monotone flattest lags. At Polyak's pair all share one rate.
# * On noisy least squares (gradient descent, $\eta = 1$, from $\theta = 0$; $m = 32$, $d = 10$, eigenvalues
#   $2^{-i}$, noise sd 1, 20 seeds) the test error has its minimum before convergence in every
#   seed, at a median of 0.55 of the converged error.
# * Any gradient method's error on a quadratic is $p_k(H)(x_0 - x^\star)$; Chebyshev polynomials give the
#   best worst case, and Nesterov's lower bound (cited; shown with conjugate gradients) makes $\rho_\star$ the
#   best rate. At $\kappa = 100$ the heavy ball's measured rate is $\rho_\star$ (after its factor $k$),
#   gradient descent's $0.980$.
# * Too much momentum does not turn into gradient descent (on the valley at $\eta = 0.1$); on eigenvalues
#   $\{1, 100\}$ past $\beta^\star$ the best rate is $\sqrt\beta$ and the fewest steps over $\eta$ grow, to
#   2,644 at $\beta = 0.99$.
#
# ## Checks
#
# What the story stated without showing all its evidence. First, the rate $\sqrt\beta$ on 21 pairs across
# the ripple band ($\beta$ = 0.3 to 0.9, at a quarter, half and three quarters of the way from
# $\eta\lambda = (1-\sqrt\beta)^2$ to $(1+\sqrt\beta)^2$):

# %%
ripple_betas = np.round(np.arange(0.3, 0.95, 0.1), 1)
edge_lo, edge_hi = (1 - np.sqrt(ripple_betas)) ** 2, (1 + np.sqrt(ripple_betas)) ** 2
H7 = edge_lo[:, None] + np.array([0.25, 0.5, 0.75])[None, :] * (edge_hi - edge_lo)[:, None]
B7 = np.broadcast_to(ripple_betas[:, None], H7.shape)
x7 = optimizers.run(unit, [1.0, 0.0], "momentum", H7, B7, steps=200).points[..., 0]
rate_env = np.array([[envelope_rate(x7[i, j], 50, 200) for j in range(3)] for i in range(len(ripple_betas))])
gap_env = np.abs(np.log(rate_env) / np.log(np.sqrt(B7)) - 1)
print(f"{H7.size} pairs in the ripple regime: ln(measured rate) within {gap_env.max():.2%} of ln(sqrt(beta)); "
      f"largest rate {rate_env.max():.4f}, while 2 sqrt(beta) >= {2 * np.sqrt(ripple_betas[0]):.4f}")
assert np.all(theory.momentum_regime(H7, B7, 1.0) == "ripples") and gap_env.max() < 1e-3 and rate_env.max() < 1

# %% [markdown]
# Polyak's pair against a grid search of the rate over 991,000 pairs, and the map's wedge: at
# every grid point more than $10^{-9}$ from a line, the rate from NumPy's eigenvalues of $M$ equals
# $\sqrt\beta$ exactly where both ends ripple:

# %%
lr_fine_axis, beta_fine_axis = np.linspace(0.001, 1.0, 1000), np.linspace(0.0, 0.99, 991)
rate_fine = theory.momentum_rate(*np.meshgrid(lr_fine_axis, beta_fine_axis), [mu, L])
i_best, j_best = np.unravel_index(rate_fine.argmin(), rate_fine.shape)
print(f"grid search over {rate_fine.size:,} pairs: best lr = {lr_fine_axis[j_best]:.3f}, "
      f"beta = {beta_fine_axis[i_best]:.3f}, rate {rate_fine.min():.4f} "
      f"(formulas: {lr_star:.3f}, {beta_star:.3f}, {rho_star:.4f})")
assert abs(lr_fine_axis[j_best] - lr_star) < 1e-3 and abs(beta_fine_axis[i_best] - beta_star) < 1e-3
assert rate_fine.min() >= rho_star - 1e-12 and rate_map.min() >= rho_star - 1e-12


def radius_by_numpy(lr, beta, lam):
    """Spectral radius of M = [[1 + beta - lr lam, -beta], [1, 0]] for arrays lr, beta, by np.linalg.eigvals."""
    M = np.zeros(np.shape(lr) + (2, 2))
    M[..., 0, 0], M[..., 0, 1], M[..., 1, 0] = 1 + beta - lr * lam, -beta, 1.0
    return np.abs(np.linalg.eigvals(M)).max(axis=-1)


LRc, Bc = LRm[::3, ::3], Bm[::3, ::3]
sb = np.sqrt(Bc)
dashed, solid = (1 - sb) ** 2 / mu, (1 + sb) ** 2 / L
off_lines = np.min(np.abs(np.stack([dashed, solid, (1 - sb) ** 2 / L, (2 + 2 * Bc) / L]) - LRc), axis=0) > 1e-9
rate_np = np.maximum(radius_by_numpy(LRc, Bc, mu), radius_by_numpy(LRc, Bc, L))
is_sqrt_beta = np.abs(rate_np - sb) < 1e-9
wedge = (LRc > dashed) & (LRc < solid)
print(f"{int(off_lines.sum())} grid points: rate = sqrt(beta) at {int(is_sqrt_beta[off_lines].sum())}, inside "
      f"the wedge {int(wedge[off_lines].sum())}, the same points: {np.array_equal(is_sqrt_beta[off_lines], wedge[off_lines])}")
assert np.array_equal(is_sqrt_beta[off_lines], wedge[off_lines])
assert np.allclose(rate_np[off_lines], rate_map[::3, ::3][off_lines], rtol=1e-9, atol=0)

# %% [markdown]
# The rate-map widget's numbers: its problem is the valley rescaled (eigenvalues $[0.05, 1]$ at $\eta = 2$
# give the same $\eta\lambda$ as $[0.2, 4]$ at $\eta = 0.5$), so its run equals the valley's; at its optimum
# both ends are double roots (NumPy's two eigenvalues of $M$ coincide). And its readout at the optimum for
# $\kappa = 1000$:

# %%
print(*rate_widget.readout_lines(), sep="\n")
on_valley = optimizers.run(valley, rate_widget.start, "momentum", 0.5, 0.6, steps=rate_widget.steps).points
measured_rate = envelope_rate(np.linalg.norm(on_valley, axis=-1), 20, rate_widget.steps)
print(f"widget's run against the valley's: largest difference {np.abs(rate_widget.run.points - on_valley).max():.1e}; "
      f"rate measured {measured_rate:.4f}, widget {rate_widget.rate:.4f}")
print("optimal beta for kappa = 20 and 1000:", [round(RateMap(kappa=kap).optimum[1], 3) for kap in (20, 1000)])
assert np.abs(rate_widget.run.points - on_valley).max() < 1e-12
assert np.isclose(np.log(measured_rate) / np.log(rate_widget.rate), 1, rtol=1e-2)
roots_opt = [np.linalg.eigvals(theory.momentum_matrix(*rate_widget.optimum[:2], lam_end)) for lam_end in (0.05, 1.0)]
print("at the widget's optimum, NumPy's eigenvalues of M at lambda = 0.05 and 1:", np.round(np.real(roots_opt), 6))
assert all(abs(r[0] - r[1]) < 1e-6 for r in roots_opt)  # two double roots
assert [round(RateMap(kappa=kap).optimum[1], 3) for kap in (20, 1000)] == [0.403, 0.881]
rate_1000 = RateMap(kappa=1000)
rate_1000.select_optimum()
lines_1000 = rate_1000.readout_lines()
print(*lines_1000[1:4], sep="\n")
final_1000 = np.linalg.norm(rate_1000.run.points[-1]) / np.linalg.norm(rate_1000.run.points[0])
assert "219" in lines_1000[2] and rate_1000.run.steps == 300 and round(final_1000, 7) == 1.2e-6
assert "μ = 0.001: monotone" in lines_1000[1] and "L = 1: ripples" in lines_1000[1]  # two double roots, named by rounding

# %% [markdown]
# The spectrum's curves against an independent computation: PyTorch-form updates ($\beta = 0$ for gradient
# descent) on the full matrix $H = Q\,\mathrm{diag}(\lambda)\,Q^\top$ (a random rotation $Q$), read back in the
# eigenbasis, at the widget's start and at Polyak's pair (the settling steps and rates of section 4); and the
# readout at both:

# %%
errs_widget = spectrum_widget.errors
Q8 = np.linalg.qr(np.random.default_rng(8).standard_normal((8, 8)))[0]
H8 = Q8 @ np.diag(lams8) @ Q8.T
gap8, runs8 = {}, {}
for method, lr_run, beta_run in [("gd", 1.0, 0.0), ("momentum", 1.0, 0.8), ("polyak", lr8, beta8)]:
    x, buf, path8 = Q8 @ np.ones(8), np.zeros(8), []
    for _ in range(301):
        path8.append(Q8.T @ x)
        buf = beta_run * buf + H8 @ x  # torch.optim.SGD's buffer
        x = x - lr_run * buf
    runs8[method] = np.array(path8).T  # (8, 301): eigen-coordinates of the run
    if method in errs_widget:
        gap8[method] = np.abs(runs8[method] - errs_widget[method]).max()
print(f"the widget's curves and the run on the full matrix agree within 1e-12, for gradient descent "
      f"and heavy ball: {max(gap8.values()) < 1e-12}")  # rounding error only
assert max(gap8.values()) < 1e-12
settle_run = settled_at(runs8["polyak"], 1e-6).tolist()
rates_run = [envelope_rate(runs8["polyak"][i], 100, 300, double_root=i in (0, 7)) for i in range(8)]
print(f"Polyak's pair on the full matrix: steps until |error| stays <= 1e-6 {settle_run}; rates measured "
      f"{np.round(rates_run, 4)} (rho* = {rho8:.4f}); largest |error| of component 0 {np.abs(runs8['polyak'][0]).max():.2f}")
assert settle_run == opt_settle and np.abs(np.log(rates_run) / np.log(rho8) - 1).max() < 1e-2  # as section 4's fit
assert round(np.abs(runs8["polyak"][0]).max(), 1) == 4.2
print(*spectrum_widget.readout_lines()[1:3], sep="\n")
spectrum_polyak = SpectrumWidget(n=8, lr=1.0, beta=0.8, steps=300)
spectrum_polyak.select_optimum()
print(spectrum_polyak.readout_lines()[2])
assert "78 steps" in spectrum_polyak.readout_lines()[2] and max(opt_settle) == 108

# %% [markdown]
# The early-stopping curves: the closed form $1 - (1-\eta\lambda_i)^k$ against gradient descent run on
# $X$ itself (300 steps, every seed), and the test-set error against its exact value $\sum_i \lambda_i (\theta^{(k)}_i - \theta^\star_i)^2$:

# %%
W_run = np.zeros((seeds, d))
for _ in range(300):
    W_run = W_run - (W_run @ X.T - Y) @ X / n_samples  # the gradient of the mean of squared residuals / 2
exact_test = np.einsum("ksd,d->ks", ((W - w_true) @ Q) ** 2, lams_ls)
W_best = W[best, np.arange(seeds)]  # (seeds, d): each seed's w at its best step
direct = np.mean(((W_best - w_true) @ X_test.T) ** 2, axis=-1)  # the mean over the 2,000 test inputs itself
assert np.allclose(direct, test_error.min(axis=0), rtol=1e-10)
print(f"closed form against the run at step 300: {np.abs(W_run - W[300]).max():.1e}; "
      f"test set against exact: within {np.abs(test_error / exact_test - 1).max():.1%}")
assert np.abs(W_run - W[300]).max() < 1e-10 and np.abs(test_error / exact_test - 1).max() < 0.15

# %% [markdown]
# The Chebyshev min-max, found without Chebyshev's formula: minimise $t$ subject to $|p(\lambda_j)| \le t$ on
# 2,001 points of $[0.01, 1]$ and $p(0) = 1$, a linear program in the coefficients of $p$
# (`optimality.minmax_polynomial`). And $x_k - x^\star = p_k(H)(x_0 - x^\star)$: the heavy ball's polynomial, by its
# recurrence (`optimality.residual_polynomials`), against PyTorch-form updates on $H = Q\,\mathrm{diag}(\lambda)\,Q^\top$
# (section 5's 100 eigenvalues, a random rotation $Q$, random $x_0$ and $x^\star$), read in the eigenbasis.

# %%
lp_values = [optimality.minmax_polynomial(1 / kappa, 1.0, deg)[0] for deg in [1, 2, 4, 8, 12]]
for deg, value in zip([1, 2, 4, 8, 12], lp_values, strict=True):
    print(f"k = {deg:2d}: linear program {value:.6f}, Chebyshev 2 rho*^k/(1 + rho*^2k) = {bound[deg]:.6f}")
assert np.allclose(lp_values, bound[[1, 2, 4, 8, 12]], rtol=1e-5)
p_hb = optimality.residual_polynomials(lam, K, lr_h, beta_h)  # (K + 1, 100): p_k at each eigenvalue
rng_p = np.random.default_rng(5)
Q100 = np.linalg.qr(rng_p.standard_normal((100, 100)))[0]
H100 = Q100 @ np.diag(lam) @ Q100.T
x_star100, x100 = rng_p.standard_normal(100), rng_p.standard_normal(100)
buf, e_rot = np.zeros(100), [Q100.T @ (x100 - x_star100)]
for _ in range(K):
    buf = beta_h * buf + H100 @ (x100 - x_star100)  # torch.optim.SGD's buffer, gradient H (x - x*)
    x100 = x100 - lr_h * buf
    e_rot.append(Q100.T @ (x100 - x_star100))
gap_p = np.abs(p_hb * e_rot[0] - np.array(e_rot)).max() / np.abs(e_rot[0]).max()
print(f"heavy ball on the rotated matrix: Q^T(x_k - x*) against p_k(lambda) * Q^T(x_0 - x*), k = 0..{K}: "
      f"agree within 1e-12 of the start: {gap_p < 1e-12}")  # rounding error only
assert gap_p < 1e-12

# %% [markdown]
# Cited rather than computed: Polyak's theorem that no constant pair beats his (a grid search covers a
# grid only), Chebyshev's min-max theorem (the linear program checks five degrees on a grid), Nesterov's
# lower bound for every method (shown here for conjugate gradients on his function), and the quotations
# from the Distill article and the seeds.
#
# ## Exercises
#
# Each exercise ends with a check that says whether your answer is right and, if not, what to
# look at. The solution is the marked part of the exercise's cell (a student copy has a stub there).
#
# ### Exercise 1 (recall)
#
# Heavy ball with $\beta = 0.64$ on an eigen-component with $\eta\lambda = 1$: by what factor does
# the error shrink per step (the spectral radius)? The check accepts answers within 0.1 % of the
# exact value.

# %% nbgrader={"grade": false, "grade_id": "ex04_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
answer_1 = np.sqrt(0.64)  # discriminant (1 + 0.64 - 1)^2 - 4*0.64 < 0: complex roots, |sigma| = sqrt(beta)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex04_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.momentum_rates.complex_rate(answer_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# For eigenvalues $\mu = 0.1$ and $L = 10$, give Polyak's optimal learning rate and momentum, and the
# rate they achieve, by the formulas of section 2 (not by `theory.optimal_momentum`). The check accepts
# each number within 0.05 % of the exact value: give four significant digits (three are enough for the
# rate, 0.818, but not for the learning rate, 0.331 being 0.13 % off, or the momentum, 0.669 being 0.06 % off).

# %% nbgrader={"grade": false, "grade_id": "ex04_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
sm2, sL2 = np.sqrt(0.1), np.sqrt(10.0)
lr_2 = (2 / (sm2 + sL2)) ** 2
beta_2 = ((sL2 - sm2) / (sL2 + sm2)) ** 2
rate_2 = (sL2 - sm2) / (sL2 + sm2)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex04_2_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.momentum_rates.optimal_pair(lr_2, beta_2, rate_2)

# %% [markdown]
# ### Exercise 3 (apply)
#
# For $\kappa = 100$, how many steps does each guarantee need to shrink the worst-case error below
# $10^{-8}$ of its start? Give the smallest whole $k$ with $\big((\kappa-1)/(\kappa+1)\big)^k \le 10^{-8}$
# (gradient descent at its best step size $\eta = 2/(\mu+L)$) and the smallest with $2\rho_\star^k/(1+\rho_\star^{2k}) \le 10^{-8}$
# (the Chebyshev bound, the best any gradient method can guarantee). Exact whole numbers are checked.

# %% nbgrader={"grade": false, "grade_id": "ex04_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
kk3 = np.arange(1, 2000)
q_gd3, q_cheb3 = 99 / 101, (10 - 1) / (10 + 1)
gd_bound_steps = int(kk3[np.argmax(q_gd3**kk3 <= 1e-8)])
cheb_bound_steps = int(kk3[np.argmax(2 * q_cheb3**kk3 / (1 + q_cheb3 ** (2 * kk3)) <= 1e-8)])
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex04_3_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.momentum_rates.bound_steps(gd_bound_steps, cheb_bound_steps)

# %% [markdown]
# ### Exercise 4 (explore)
#
# For $\kappa = 400$ (eigenvalues 1 and 400, start $(1, 1)$), run gradient descent at its optimal
# step and the heavy ball at Polyak's optimal pair, count for each the steps until the error norm
# stays below $10^{-6}$ of its start, and report the speed-up `gd_steps / hb_steps`. Is it closer
# to $\kappa$ or to $\sqrt\kappa$? Use `optimizers.run` as section 2 does (and `settled_at`, defined at the
# top). The check counts the steps itself and accepts a ratio within 0.25 % of its own, so give two
# decimals (a heavy-ball count one step off moves the ratio by 0.5 %).

# %% nbgrader={"grade": false, "grade_id": "ex04_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
s400 = surfaces.quadratic([1.0, 400.0])
lr_g4, _ = theory.optimal_gd(1.0, 400.0)
lr_m4, beta_m4, _ = theory.optimal_momentum(1.0, 400.0)
err_gd4 = np.linalg.norm(optimizers.run(s400, [1.0, 1.0], "gd", lr_g4, steps=3500).points, axis=-1)
err_hb4 = np.linalg.norm(optimizers.run(s400, [1.0, 1.0], "momentum", lr_m4, beta_m4, steps=3500).points, axis=-1)
answer_4 = int(settled_at(err_gd4 / err_gd4[0], 1e-6)) / int(settled_at(err_hb4 / err_hb4[0], 1e-6))
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex04_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.momentum_rates.speedup(answer_4)

# %% [markdown]
# ### Exercise 5 (explore)
#
# In the spectrum widget of section 4 ($n = 8$ eigenvalues $2^{-i}$), keep $\eta = 1$ and move **momentum β**. Find
# the $\beta$ that makes the heavy ball's slowest component as fast as possible, and that component's
# rate. Read them off the widget (its readout gives the pace-setter's rate; dragging moves $\beta$ by 0.01,
# too coarse here: click the slider and use Shift+arrow keys, which move it by 0.001), or compute them with
# `spectrum_lib.component_rates("momentum", 1.0, beta, lams8)` over a grid of $\beta$, or from lesson 03.
# The check judges $\beta$ by its pace: it accepts a $\beta$ at which the slowest component's rate is within
# 0.2 % of the best possible (below the best $\beta$ that rate climbs steeply, above it slowly), and a rate
# from the best pace (rounded to four digits) to 0.2 % above it.

# %% nbgrader={"grade": false, "grade_id": "ex04_5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
beta_5 = (1 - np.sqrt(2.0**-7)) ** 2  # critical damping of the flattest component, eta*lambda = 2^-7
rate_5 = 1 - np.sqrt(2.0**-7)  # its double root; every other component ripples at sqrt(beta_5), the same
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex04_5_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.momentum_rates.spectrum_pace(beta_5, rate_5)

# %% [markdown]
# ### Exercise 6 (apply)
#
# Early stopping, on average over the noise. In the least-squares problem of section 4 ($\lambda_i = 2^{-i}$,
# $i = 0, \dots, 9$, $m = 32$ samples, $\theta^\star_i = 1$, noise standard deviation 1, $\eta = 1$, from
# $\theta = 0$), eigen-coordinate $i$ of $\theta^{(k)} - \theta^\star$ is
# $-(1-\eta\lambda_i)^k\,\theta^\star_i + \big(1 - (1-\eta\lambda_i)^k\big)\,\xi_i$, where $\xi_i$, the noise of
# $\hat\theta_i$ (not lesson 02's gradient noise $\sigma_\xi$), has mean 0 and variance $1/(m\lambda_i)$. Write the expected test error
# $E(k) = \mathbb{E}\sum_i \lambda_i\big(\theta^{(k)}_i - \theta^\star_i\big)^2$, and give the step $k$ that
# minimises it and the ratio $E(k)/E(\infty)$ there. Compare with the 20 seeds of section 4. The check wants
# the exact whole $k$ and the ratio within 0.1 %.

# %% nbgrader={"grade": false, "grade_id": "ex04_6_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
lam6 = 2.0 ** -np.arange(10)
q6 = (1 - lam6) ** np.arange(2001)[:, None]  # (steps, 10): the unfitted fraction of each eigen-coordinate
E6 = (lam6 * (q6**2 + (1 - q6) ** 2 / (32 * lam6))).sum(axis=1)  # bias^2 + fitted noise, weighted by lambda
best_step_6 = int(E6.argmin())
ratio_6 = E6.min() / (10 / 32)  # E(infinity) = sum_i lambda_i / (m lambda_i) = d / m
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex04_6_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.momentum_rates.early_stopping(best_step_6, ratio_6)
