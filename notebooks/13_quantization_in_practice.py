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
# # Lesson 13: Quantization in practice: trained codebooks, 4-bit groups, the production route and 8-bit optimizer state
#
# Lesson 11 shared weights by k-means and kept the centroids as k-means left them. Deep
# Compression trains them. This lesson does that, and then turns to two things practitioners
# use today: 4-bit weights with one scale per small group, packed two to a byte (the kind of
# format that AWQ and GPTQ produce for large language models' weights); and torchao, the library PyTorch now sends
# quantization users to, tried on this course's network on this CPU. Last, it quantizes what training
# holds besides the model: SGD's momentum buffer, stored block by block in 8 bits as Dettmers et al.'s
# 8-bit optimizers store their state.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. derive the gradient of a shared value (a centroid) from the gradients of the weights that
#    share it, write it with `index_add_`, and check it against autograd and finite differences;
# 2. fine-tune the centroids of a shared network (trained quantization) and compare it with
#    untrained sharing at 2 to 5 bits and with a control that trains the float network as long,
#    paired by seed, saying only what the intervals support;
# 3. quantize a weight matrix to 4-bit codes per group of $g$ weights with a float16 scale and a
#    4-bit zero point, pack two codes in a byte with bit operations, and count its bytes;
# 4. measure the error and the accuracy against the group size, and run a layer with 4-bit
#    weights and float activations;
# 5. say what the installed PyTorch and torchao offer for quantization, checked by code, and
#    quantize this course's network with one call;
# 6. store the momentum buffer block-wise in 8 bits, with a linear code and with Dettmers et al.'s
#    dynamic tree type (ICLR 2022), read that type from its bits, and measure the effect of both on
#    accuracy.
#
# ## Prerequisites
#
# Lesson 09 (scale $s$, zero point $z$, codes $q$, the bound $|w - \hat w| \le s/2$, per-channel
# quantization and its section 12 on `torch.ao.quantization`), lesson 11's section 3 (weight
# sharing by k-means), lesson 11's section 8 (the momentum buffer is as large as the model) and lesson
# 12's sections 1 (a validation part for choices, five seeds, 95 % intervals) and 3 (oneDNN's u8 x s8
# kernels). About 170 minutes: about
# 80 to read and run the five sections (some 5,100 words of prose), about 90 for the five exercises.

# %%
import copy
import logging
import tempfile
import textwrap
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.special import stdtrit  # the Student-t quantile
from torch import nn

import lessons_lib
from lessons_lib import checks, int4_groups, integer_inference, momentum8bit, trained_sharing
from lessons_lib.batched_training import train_many
from lessons_lib.models import count_parameters, mlp
from lessons_lib.plotting import METHOD_COLORS
from lessons_lib.progress import progress
from lessons_lib.splits import load_digits_splits
from lessons_lib.training import accuracy

lessons_lib.setup()
torch.set_default_dtype(torch.float64)  # rounding differences between CPUs stay far below the printed digits
BLUE, VERMILLION, GREEN = METHOD_COLORS["gd"], METHOD_COLORS["momentum"], METHOD_COLORS["nesterov"]
GREY, SKY_BLUE = "#999999", "#56B4E9"  # Okabe-Ito grey and sky blue

# %% [markdown]
# ## 1. Five networks and three parts of the data
#
# The network is lesson 09's $64 \to 64 \to 32 \to 10$ MLP, five copies (seeds 0 to 4), trained
# side by side on the training part of lesson 12's split (SGD, $\eta = 0.1$, $\beta = 0.9$, 20
# epochs of minibatches of 64). Every choice below is made on the 270 validation images; the 450
# test images give the reported figures, as a mean over the five seeds with its 95 % interval
# $\bar x \pm t_{0.975,4}\,\hat\sigma/\sqrt 5$. One test image is $100/450 = 0.22$ points.
# (Section 5 is the exception: it keeps an older protocol, with eight seeds, and says so.)

# %%
splits = load_digits_splits(validation_size=0.2, seed=0)
fit = (splits.X_train, splits.y_train)
SEEDS = list(range(5))
T95 = stdtrit(len(SEEDS) - 1, 0.975)


def mean_ci(values):
    """Mean of values and the half-width t_{0.975, n-1} * s / sqrt(n) of its 95 % interval."""
    v = np.asarray(values, dtype=float)
    return v.mean(), stdtrit(v.size - 1, 0.975) * v.std(ddof=1) / np.sqrt(v.size)


def pm(values, digits=2):
    """'mean ± half-width of the 95 % t-interval' of values in points (a mean that rounds to 0 shown as 0)."""
    m, half = mean_ci(values)
    return f"{0.0 if round(m, digits) == 0 else m:.{digits}f} ± {half:.{digits}f}"


def test_acc(model):
    return 100 * accuracy(model, splits.X_test, splits.y_test)


def val_acc(model):
    return 100 * accuracy(model, splits.X_val, splits.y_val)


nets = [mlp(hidden=(64, 32), seed=s) for s in SEEDS]
train_many(nets, fit, epochs=20, lr=0.1, momentum=0.9, seeds=SEEDS, evaluate=(), progress=True, desc="five networks")
float_test = [test_acc(net) for net in nets]
print(f"training {len(splits.y_train)}, validation {len(splits.y_val)}, test {len(splits.y_test)} images; "
      f"one test image = {100 / len(splits.y_test):.2f} points; t(0.975, 4) = {T95:.3f}")
print("float test accuracy, seeds 0..4:", "  ".join(f"{a:.2f}" for a in float_test), f"; mean {pm(float_test)} %")
assert (len(splits.y_train), len(splits.y_val), len(splits.y_test)) == (1077, 270, 450)
assert f"{T95:.3f}" == "2.776" and pm(float_test) == "96.31 ± 0.84"

# %% [markdown]
# ## 2. Trained quantization: the centroids learn
#
# Weight sharing (lesson 11, section 3) replaces every weight of a layer by one of $k = 2^n$
# shared values, the centroids $C_1, \dots, C_k$ of a 1-D k-means: $W_{ij} = C_{I_{ij}}$, with $I_{ij}$
# the stored $n$-bit index. Han, Mao and Dally (*Deep Compression*, ICLR 2016, section 3.3) then
# train the centroids with the network's loss $L$, the indices fixed. $C_c$ appears in every
# weight of its cluster, so the chain rule sums over them:
#
# $$\frac{\partial L}{\partial C_c} = \sum_{i,j} \frac{\partial L}{\partial W_{ij}}\,\frac{\partial W_{ij}}{\partial C_c}
# = \sum_{(i,j):\; I_{ij} = c} \frac{\partial L}{\partial W_{ij}},$$
#
# since $\partial W_{ij}/\partial C_c$ is 1 where $I_{ij} = c$ and 0 elsewhere. A sum, not a mean: a
# centroid shared by many weights moves as much as all of them together pull it. In code, the
# weights' gradient scattered and added by index, `index_add_` (or `bincount` with weights).
# Check it on seed 0's network shared at 2 bits (`trained_sharing.share_model`, k-means as in
# lesson 11), one minibatch of 64 images, three ways: this sum, autograd through the shared
# layers (`SharedLinear`, whose weight is `C[I]`), and central finite differences of $L$ in each $C_c$.

# %%
shared0 = trained_sharing.share_model(nets[0], bits=2)
xb, yb = splits.X_train[:64], splits.y_train[:64]
linear_at = [i for i, layer in enumerate(shared0) if isinstance(layer, trained_sharing.SharedLinear)]


def loss_with(weights):
    """Cross-entropy of the shared network on the minibatch, its layers' weights given explicitly."""
    h = xb
    for j, i in enumerate(linear_at):
        h = h @ weights[j].T + shared0[i].bias.detach()
        h = torch.relu(h) if j < len(linear_at) - 1 else h
    return nn.functional.cross_entropy(h, yb)


weights = [shared0[i].centroids.detach()[shared0[i].index].requires_grad_() for i in linear_at]  # W = C[I]
loss_with(weights).backward()
by_sum = [torch.zeros(shared0[i].centroids.numel()).index_add_(0, shared0[i].index.flatten(), w.grad.flatten())
          for i, w in zip(linear_at, weights, strict=True)]  # dL/dC_c = sum of dL/dW_ij over cluster c
nn.functional.cross_entropy(shared0(xb), yb).backward()  # autograd through C[I]
by_autograd = [shared0[i].centroids.grad for i in linear_at]
h = 1e-6
by_fd = []
for j, i in enumerate(linear_at):
    c0 = shared0[i].centroids.detach()
    fd = []
    for c in range(c0.numel()):
        step = torch.zeros_like(c0)
        step[c] = h
        with torch.no_grad():
            plus = [shared0[k].centroids.detach()[shared0[k].index] for k in linear_at]
            minus = [p.clone() for p in plus]
            plus[j], minus[j] = (c0 + step)[shared0[i].index], (c0 - step)[shared0[i].index]
            fd.append(float((loss_with(plus) - loss_with(minus)) / (2 * h)))
    by_fd.append(torch.tensor(fd))
for j, i in enumerate(linear_at):
    print(f"layer {i}: dL/dC = {np.array2string(by_sum[j].numpy(), precision=4, floatmode='fixed')}"
          f"  ({shared0[i].index.numel()} weights in {by_sum[j].numel()} clusters)")
gap_autograd = max(float((a - b).abs().max()) for a, b in zip(by_sum, by_autograd, strict=True))
gap_fd = max(float((a - b).abs().max()) for a, b in zip(by_sum, by_fd, strict=True))
scale = max(float(g.abs().max()) for g in by_sum)
print(f"largest difference from autograd {'< 1e-12' if gap_autograd < 1e-12 else gap_autograd}, "
      f"from finite differences {'< 1e-7' if gap_fd < 1e-7 else gap_fd} (gradients up to {scale:.2f})")
assert gap_autograd < 1e-12 and gap_fd < 1e-7
by_mean = by_sum[0] / torch.bincount(shared0[0].index.flatten(), minlength=4)
print(f"the mean instead of the sum (layer 0): {np.array2string(by_mean.numpy(), precision=5, floatmode='fixed')}, "
      f"{float((by_sum[0] / by_mean).min()):.0f} to {float((by_sum[0] / by_mean).max()):.0f} times too small")

# %% [markdown]
# Now the fine-tuning. For each bit width $n = 2, 3, 4, 5$ and each of the five networks: share
# by k-means, then train the centroids for 3 epochs with SGD and momentum $\beta = 0.9$ on the
# training part, minibatches of 64; the indices and the float biases stay fixed. Deep Compression
# shares the weights of a network it has already pruned (its section 2); this network is not pruned,
# a simplification. The learning rate is chosen on the validation part, separately for each bit
# width, from the small grid $\eta \in \{0.003, 0.01\}$. The validation differences behind the
# choices are printed, paired by seed: at most 1.4 validation images a network, and at every bit
# width the interval of the difference between the two rates contains 0 (no difference detected),
# so the choice is within noise; a rate outside this grid may do better. The 40 runs
# (4 widths × 2 rates × 5 seeds) train side by side (`trained_sharing.fine_tune_centroids`, which
# computes the same gradient sum through autograd and steps each network as `torch.optim.SGD` would).

# %%
BITS, RATES, EPOCHS = (2, 3, 4, 5), (0.003, 0.01), 3
untrained = {(n, s): trained_sharing.share_model(nets[s], bits=n) for n in BITS for s in SEEDS}
runs = [(n, lr, s) for n in BITS for lr in RATES for s in SEEDS]
tuned = {run: copy.deepcopy(untrained[run[0], run[2]]) for run in runs}
trained_sharing.fine_tune_centroids([tuned[r] for r in runs], fit, epochs=EPOCHS, lr=[r[1] for r in runs],
                                    momentum=0.9, seeds=[r[2] for r in runs], progress=True)
chosen, gaps_images, rate_zero_inside = {}, [], []
for n in BITS:
    val_by_rate = {lr: np.array([val_acc(tuned[n, lr, s]) for s in SEEDS]) for lr in RATES}
    val_means = {lr: v.mean() for lr, v in val_by_rate.items()}
    chosen[n] = max(RATES, key=lambda lr: val_means[lr])
    d_rate = val_by_rate[RATES[1]] - val_by_rate[RATES[0]]
    gap_images = abs(d_rate.mean()) * len(splits.y_val) / 100
    gaps_images.append(gap_images)
    rate_zero_inside.append(abs(d_rate.mean()) <= T95 * d_rate.std(ddof=1) / np.sqrt(len(SEEDS)))
    print(f"{n} bits: mean validation accuracy " + ", ".join(f"η = {lr}: {v:.2f} %" for lr, v in val_means.items())
          + f" -> η = {chosen[n]}; η = {RATES[1]} - η = {RATES[0]}: {pm(d_rate)} points, paired "
          f"({gap_images:.1f} validation images a network)")
print(f"intervals containing 0: {sum(rate_zero_inside)} of {len(BITS)}")
assert max(gaps_images) < 1.5 and all(rate_zero_inside)
acc = {"untrained": {n: [test_acc(untrained[n, s]) for s in SEEDS] for n in BITS},
       "trained": {n: [test_acc(tuned[n, chosen[n], s]) for s in SEEDS] for n in BITS}}
print("\ntest accuracy (%), mean ± 95 % interval over seeds 0..4; differences paired by seed (points)")
print(f"{'bits':>4}  {'untrained':>13}  {'trained':>13}  {'trained - untrained':>19}  {'untrained - float':>17}  "
      f"{'trained - float':>15}")
diff, diff_float, diff_untrained = {}, {}, {}
for n in BITS:
    diff[n] = np.subtract(acc["trained"][n], acc["untrained"][n])
    diff_float[n] = np.subtract(acc["trained"][n], float_test)
    diff_untrained[n] = np.subtract(acc["untrained"][n], float_test)
    print(f"{n:4d}  {pm(acc['untrained'][n]):>13}  {pm(acc['trained'][n]):>13}  {pm(diff[n]):>19}  "
          f"{pm(diff_untrained[n]):>17}  {pm(diff_float[n]):>15}")
print(f"float {pm(float_test)} %; one test image = 0.22 points: trained - untrained at 2 bits is "
      f"{np.mean(diff[2]) * len(splits.y_test) / 100:.1f} test images a network, at 3 bits "
      f"{np.mean(diff[3]) * len(splits.y_test) / 100:.1f}")
for r in runs:  # only the centroids moved: every layer's index and bias as k-means left them
    new, old = tuned[r].state_dict(), untrained[r[0], r[2]].state_dict()
    assert all(torch.equal(new[k], old[k]) for k in old if k.endswith(("index", "bias")))
margins = []
for model in list(untrained.values()) + [tuned[n, chosen[n], s] for n in BITS for s in SEEDS]:
    with torch.no_grad():
        top2 = model(splits.X_test).topk(2, dim=1).values
    margins.append(float((top2[:, 0] - top2[:, 1]).min()))
print(f"smallest top-2 logit gap of the 40 shared networks on the test images: "
      f"{'> 1e-6' if min(margins) > 1e-6 else min(margins)} (no prediction hangs on the last bits)")
assert min(margins) > 1e-6
assert [pm(diff[n]) for n in BITS] == ["2.36 ± 2.10", "0.98 ± 0.54", "0.71 ± 0.96", "0.40 ± 0.60"]
assert pm(acc["untrained"][2]) == "91.56 ± 2.06" and pm(acc["trained"][2]) == "93.91 ± 2.35"
assert [pm(diff_float[n]) for n in (4, 5)] == ["0.76 ± 0.84", "0.62 ± 0.79"]
assert [pm(diff_untrained[n]) for n in BITS] == ["-4.76 ± 2.20", "-0.93 ± 1.27", "0.04 ± 0.30", "0.22 ± 0.39"]
assert f"{np.mean(diff[2]) * len(splits.y_test) / 100:.1f}" == "10.6"

# %% [markdown]
# The fine-tuned networks trained for 3 epochs more than the untrained ones. Is the gain the codebook's,
# or would 3 more epochs of ordinary training before sharing do as well? A control tries to separate
# the two: train copies of the five float networks 3 more epochs by their own protocol (SGD,
# $\eta = 0.1$, $\beta = 0.9$, minibatches of 64), then share them by k-means untrained, and compare,
# paired by seed, with the fine-tuned centroids and with untrained sharing. The two arms are not
# symmetric in every respect: the centroids' rate was chosen on validation for each width, the
# control's rate is the networks' own, with no choice; the control's momentum starts again from zero;
# both arms draw their minibatches in the same order (each seed's generator starts afresh).

# %%
longer = [copy.deepcopy(net) for net in nets]
train_many(longer, fit, epochs=EPOCHS, lr=0.1, momentum=0.9, seeds=SEEDS, evaluate=(), progress=False)
acc["3 more epochs, then shared"] = {n: [test_acc(trained_sharing.share_model(longer[s], bits=n)) for s in SEEDS]
                                     for n in BITS}
diff_control = {n: np.subtract(acc["trained"][n], acc["3 more epochs, then shared"][n]) for n in BITS}
longer_test = [test_acc(net) for net in longer]
print(f"float after 3 more epochs: {pm(longer_test)} % (before: {pm(float_test)} %; paired difference "
      f"{pm(np.subtract(longer_test, float_test))} points)")
control_gain = {n: np.subtract(acc["3 more epochs, then shared"][n], acc["untrained"][n]) for n in BITS}


def verdict(d):
    m, half = mean_ci(d)
    return "excludes 0" if abs(m) > half else "contains 0"


print(f"{'bits':>4}  {'3 more epochs, then shared':>26}  {'trained - control':>17}  {'':10}  "
      f"{'control - untrained':>19}")
for n in BITS:
    print(f"{n:4d}  {pm(acc['3 more epochs, then shared'][n]):>26}  {pm(diff_control[n]):>17}  "
          f"{verdict(diff_control[n]):10}  {pm(control_gain[n]):>19}  {verdict(control_gain[n])}")
assert pm(np.subtract(longer_test, float_test)) == "0.67 ± 0.55"
assert [pm(control_gain[n]) for n in BITS] == ["-1.42 ± 3.29", "0.67 ± 1.67", "0.62 ± 0.41", "0.40 ± 0.36"]
assert [verdict(control_gain[n]) for n in BITS] == ["contains 0", "contains 0", "excludes 0", "excludes 0"]
assert [verdict(diff[n]) for n in BITS] == ["excludes 0", "excludes 0", "contains 0", "contains 0"]
assert pm(longer_test) == "96.98 ± 0.57"
assert [pm(diff_control[n]) for n in BITS] == ["3.78 ± 4.23", "0.31 ± 1.45", "0.09 ± 1.21", "0.00 ± 0.28"]
assert all(abs(mean_ci(diff_control[n])[0]) <= mean_ci(diff_control[n])[1] for n in BITS)  # all contain 0
assert [pm(acc["3 more epochs, then shared"][n]) for n in (2, 3)] == ["90.13 ± 3.53", "96.04 ± 1.14"]

# %%
fig, (ax, ax_d) = plt.subplots(1, 2, figsize=(10, 4), width_ratios=(3, 2))
for offset, (name, color, marker, label) in zip((-0.08, 0.0, 0.08), [
        ("untrained", VERMILLION, "s", "untrained sharing"), ("trained", BLUE, "o", "trained sharing"),
        ("3 more epochs, then shared", GREEN, "^", "control: 3 more float epochs, then untrained")], strict=True):
    means = [np.mean(acc[name][n]) for n in BITS]
    halves = [T95 * np.std(acc[name][n], ddof=1) / np.sqrt(len(SEEDS)) for n in BITS]
    ax.errorbar(np.array(BITS) + offset, means, yerr=halves, color=color, marker=marker, capsize=4,
                label=label)
f_mean, f_half = np.mean(float_test), T95 * np.std(float_test, ddof=1) / np.sqrt(len(SEEDS))
ax.axhspan(f_mean - f_half, f_mean + f_half, color=GREY, alpha=0.3, label="float, 95 % interval")
ax.axhline(f_mean, color="black", linestyle=":", label="float (mean)")
ax.set_xticks(BITS)
ax.set_xlabel("bits n per weight index ($k = 2^n$ shared values per layer)")
ax.set_ylabel("test accuracy (%)")
ax.set_title("k-means sharing (5 seeds: mean, 95 % interval)", fontsize=10)
ax.legend(loc="lower right")
for offset, (d, color, marker, label) in zip((-0.05, 0.05), [
        (diff, BLUE, "o", "trained - untrained"), (diff_control, GREEN, "^", "trained - control")], strict=True):
    ax_d.errorbar(np.array(BITS) + offset, [np.mean(d[n]) for n in BITS],
                  yerr=[T95 * np.std(d[n], ddof=1) / np.sqrt(len(SEEDS)) for n in BITS],
                  color=color, marker=marker, capsize=4, label=label)
ax_d.axhline(0, color="black", linestyle=":", label="no difference")
ax_d.set_xticks(BITS)
ax_d.set_xlabel("bits n per weight index")
ax_d.set_ylabel("difference in test accuracy (points)")
ax_d.set_title("differences, paired by seed (mean, 95 % interval)", fontsize=10)
ax_d.legend(loc="upper right")
fig.tight_layout()
plt.show()

# %% [markdown]
# What the paired intervals (right panel) support, on these five seeds and 450 images (the unpaired
# intervals of the left panel overlap at 3 bits; the pairing by seed removes the spread between
# networks): at 2 bits, untrained sharing loses 4.76 ± 2.20 points against float, and fine-tuning the
# centroids recovers 2.36 ± 2.10 of them (10.6 test images a network); at 3 bits it gains
# 0.98 ± 0.54 points over untrained sharing. These are four comparisons at 95 % each, not corrected
# for multiplicity, and the 2-bit interval barely excludes 0 (its lower end is 0.26 points). At 4 and
# 5 bits no difference between untrained sharing and float is detected (0.04 ± 0.30 and 0.22 ± 0.39
# points), and the gains of fine-tuning (0.71 ± 0.96, 0.40 ± 0.60) have intervals that contain 0.
#
# At 2 to 4 bits the control is too noisy to separate the two. Three more epochs of ordinary training raise the float
# networks by 0.67 ± 0.55 points (paired; 96.31 to 96.98 % on the mean). Sharing *those* networks
# untrained shows no gain over untrained sharing at 2 and 3 bits ($-1.42 \pm 3.29$ and
# $0.67 \pm 1.67$ points), where fine-tuning the centroids did show one, and a gain at 4 and 5 bits
# ($0.62 \pm 0.41$, $0.40 \pm 0.36$), where fine-tuning the centroids did not show one. Trained sharing minus
# the control is $3.78 \pm 4.23$ points at 2 bits, $0.31 \pm 1.45$ at 3, $0.09 \pm 1.21$ at 4 and
# $0.00 \pm 0.28$ at 5: every interval contains 0, which does not make the two equal; the intervals are
# wide at 2 to 4 bits (at 2 bits the control's own spread, 90.13 ± 3.53 %, is the largest), and only at 5
# bits do they put the two within 0.28 points of each other. Like the first table's, these are
# comparisons at 95 % each, not corrected for their number. So these five seeds show
# that fine-tuning the centroids beats untrained sharing at 2 and 3 bits, and do not show whether
# spending the 3 epochs on the codebook beats spending them on the float weights. Only the centroids
# and the indices need storing (with the float biases), as in lesson 11.
#
# ## 3. Per-group int4: one scale per group of weights
#
# When a large language model's weights are quantized to 4 bits by AWQ (or GPTQ with grouping),
# they get one scale per **group** of $g$ consecutive weights of a row, not one per row: a row has thousands of weights, and
# one outlier would coarsen the grid for all of them. QLoRA's NF4 uses blocks of 64 (Dettmers et al.,
# *QLoRA*, NeurIPS 2023, section 3, "Double Quantization"), though NF4 is a different code: 16
# non-uniform levels at quantiles of a normal distribution, an absmax scale and no zero point. AWQ's code quantizes with groups of
# 128 (Lin et al., *AWQ*, MLSys 2024; `--q_group_size 128` in its examples); GPTQ (Frantar et al.,
# ICLR 2023) fills the same kind of format, choosing the codes to keep the layer's output rather
# than rounding each weight; torchao's `Int4WeightOnlyConfig` defaults to 128 (printed in section 4).
# Here each group gets lesson 09's affine quantizer (uniform levels and a zero point) with 4 bits, zero exactly representable:
#
# $$s = \frac{\max(0, \max_{\text{group}} w) - \min(0, \min_{\text{group}} w)}{15}, \quad
# z = \operatorname{round}\!\Big(\frac{-\min(0, \min w)}{s}\Big), \quad
# q = \operatorname{clamp}\!\big(\operatorname{round}(w/s) + z,\, 0,\, 15\big), \quad \hat w = s\,(q - z).$$
#
# Here $s$ is stored as float16 (rounded **up**, so that the range stays covered) and $z \in [0, 15]$ in
# 4 bits. Two 4-bit codes share a byte: the first in the low four bits, the second in the high four,
# $\text{byte} = q_0 \,|\, (q_1 \ll 4)$; unpacking is $q_0 = \text{byte} \,\&\, 15$ and $q_1 = \text{byte} \gg 4$.
# Written out here and checked against the library (`int4_groups`), on seed 0's first layer, $g = 32$:

# %%
def quantize_group_int4(w, g):
    """Per-group affine 4-bit codes of w (out, in): codes (out, in) in [0, 15], float16 scales and
    zero points (out, in/g)."""
    out, inp = w.shape
    x = w.detach().reshape(out, inp // g, g)
    lo, hi = x.amin(dim=2).clamp(max=0.0), x.amax(dim=2).clamp(min=0.0)
    s16 = ((hi - lo) / 15).to(torch.float16)
    s16 = torch.where(s16.double() < (hi - lo) / 15, torch.nextafter(s16, torch.tensor(torch.inf, dtype=torch.float16)),
                      s16)  # rounded up
    s = s16.double()[..., None]
    z = torch.round(-lo[..., None] / s).clamp(0, 15)
    q = (torch.round(x / s) + z).clamp(0, 15)
    return q.reshape(out, inp).to(torch.uint8), s16, z[..., 0].to(torch.uint8)


def pack(codes):
    """Two 4-bit codes a byte: the even-indexed code in the low four bits, the odd-indexed one in the high."""
    return codes[..., 0::2] | (codes[..., 1::2] << 4)


def unpack(packed):
    return torch.stack((packed & 0x0F, packed >> 4), dim=-1).flatten(-2)


W0 = nets[0][0].weight.detach()  # (64, 64)
q0, s0, z0 = quantize_group_int4(W0, 32)
lib = int4_groups.quantize_groups(W0, 32)
packed0 = pack(q0)
print(f"codes {tuple(q0.shape)} -> packed {tuple(packed0.shape)} {packed0.dtype}; scales {tuple(s0.shape)} "
      f"{s0.dtype}; zero points {z0.flatten()[:6].tolist()}...")
print("first bytes:", packed0[0, :4].tolist(), "= codes", q0[0, :8].tolist(), "two by two (low + 16 high)")
assert torch.equal(packed0.int(), q0[:, 0::2].int() + 16 * q0[:, 1::2].int())  # the same bytes by arithmetic
assert torch.equal(packed0, int4_groups.pack_nibbles(q0)) and torch.equal(packed0, lib.codes)
assert torch.equal(unpack(packed0), q0) and torch.equal(int4_groups.unpack_nibbles(packed0), q0)  # exact round trip
assert torch.equal(s0, lib.scales) and torch.equal(z0, lib.zero_point_codes())
w_hat0 = ((q0.double().reshape(64, 2, 32) - z0.double()[..., None]) * s0.double()[..., None]).reshape(64, 64)
assert torch.equal(w_hat0, lib.dequantize().double())
print("the lesson's codes, bytes, scales, zero points and dequantized weights equal the library's; "
      "unpack(pack(q)) = q exactly")

# %% [markdown]
# The bytes, counted from the tensors themselves: $n$ weights in groups of $g$ take $n/2$ bytes of
# codes, $2n/g$ of float16 scales and $n/(2g)$ of zero points, that is $4 + 20/g$ bits per weight
# against 32 in float32 and 16 in float16 (a row with an odd number of groups keeps its zero points
# one to a byte). For the whole network's three weight matrices (6,464 weights; a "row" group is a
# whole row, 64 or 32 weights):

# %%
GROUPS = (8, 16, 32, "row")
weight_layers = [0, 2, 4]


def group_of(g, layer):
    return layer.in_features if g == "row" else g


n_weights = sum(nets[0][i].weight.numel() for i in weight_layers)
print(f"{'g':>4}  {'codes':>6}  {'scales':>6}  {'zeros':>6}  {'total':>6}  {'bits/weight':>11}  "
      f"{'vs float32':>10}  {'vs float16':>10}")
size = {}
for g in GROUPS:
    parts = [int4_groups.quantize_groups(nets[0][i].weight, group_of(g, nets[0][i])) for i in weight_layers]
    counted = [sum(t.numel() * t.element_size() for t in (p.codes,)) for p in parts], \
        [p.scales.numel() * p.scales.element_size() for p in parts], \
        [p.zero_points.numel() * p.zero_points.element_size() for p in parts]
    codes_b, scales_b, zeros_b = (sum(c) for c in counted)
    size[g] = codes_b + scales_b + zeros_b
    formula = 0
    for i in weight_layers:
        rows, cols = nets[0][i].weight.shape
        groups = cols // group_of(g, nets[0][i])  # per row
        formula += rows * (cols // 2 + 2 * groups + (groups // 2 if groups % 2 == 0 else groups))
    assert size[g] == formula == sum(p.nbytes for p in parts)
    print(f"{g!s:>4}  {codes_b:6,d}  {scales_b:6,d}  {zeros_b:6,d}  {size[g]:6,d}  {8 * size[g] / n_weights:11.2f}  "
          f"{4 * n_weights / size[g]:9.2f}x  {2 * n_weights / size[g]:9.2f}x")
assert (size[8], size[32]) == (5252, 3742) and f"{4 * n_weights / size[32]:.2f}" == "6.91"

# %% [markdown]
# The table counts the weight tensors only. The network also has 106 biases, kept in float32, and a
# file must say the layers' shapes and group size to be read back. So the whole network at $g = 32$,
# written to a file as bytes (`int4_groups.save_network`: a 6-byte header, 7 bytes of shapes and
# flags per layer, then each layer's packed codes, float16 scales, packed zero points and float32
# bias) and read back (`int4_groups.load_network`, which unpacks nothing until a forward pass: the
# model stays at 4 bits in memory, at the cost of unpacking each layer on every call, where unpacking
# once at load would need the float weights' memory):

# %%
n_biases = sum(nets[0][i].bias.numel() for i in weight_layers)
float32_bytes = 4 * (n_weights + n_biases)
int4_seed0 = nn.Sequential(*[int4_groups.Int4Linear.from_linear(layer, 32) if isinstance(layer, nn.Linear)
                             else layer for layer in nets[0]])
in_memory = sum(m.nbytes for m in int4_seed0 if isinstance(m, int4_groups.Int4Linear))
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "seed0_g32.i4g"
    written = int4_groups.save_network(int4_seed0, path)
    file_bytes = path.stat().st_size
    reloaded = int4_groups.load_network(path)
print(f"g = 32, seed 0: weights {size[32]:,d} + biases {4 * n_biases:,d} = {in_memory:,d} bytes in memory against "
      f"{float32_bytes:,d} in float32 ({float32_bytes / in_memory:.2f}x smaller); the file: {file_bytes:,d} bytes "
      f"({float32_bytes / file_bytes:.2f}x)")
same_buffers = all(torch.equal(a, b) and a.dtype == b.dtype for m, r in zip(int4_seed0, reloaded, strict=True)
                   for a, b in zip(m.buffers(), r.buffers(), strict=True))
with torch.no_grad():
    same_out = torch.equal(reloaded(splits.X_test.float()), int4_seed0(splits.X_test.float()))
print(f"read back: the same codes, scales, zero points and biases: {same_buffers}; the same outputs on the 450 "
      f"test images, bit for bit: {same_out}")
assert in_memory == size[32] + 4 * n_biases == 4166 and float32_bytes == 26280
assert file_bytes == written == in_memory + 6 + 7 * len(weight_layers)
assert f"{float32_bytes / in_memory:.2f}" == "6.31" and same_buffers and same_out

# %% [markdown]
# Smaller groups cost bytes and buy accuracy of the weights. The error of every weight of the five
# networks' first two layers against $g$ (the third layer's rows have only 32 weights), and the
# bound: each weight is within half its group's step, $|w - \hat w| \le s/2$ (lesson 09), checked
# group by group.

# %%
G_ERR = (8, 16, 32, 64)  # 64: a whole row of these layers, the "row" of the table
rms, worst, half_step, half_step_max = {}, {}, {}, {}
for g in G_ERR:
    errors, halves = [], []
    for net in nets:
        for i in (0, 2):
            w = net[i].weight.detach()
            gq = int4_groups.quantize_groups(w, g)
            err = (gq.dequantize().double() - w).reshape(w.shape[0], -1, g)
            s_half = gq.scales.double()[..., None] / 2
            assert torch.all(err.abs() <= s_half * (1 + 1e-12)), "the bound |w - w_hat| <= s/2 fails"
            errors.append(err.flatten())
            halves.append(s_half.expand_as(err).flatten())
    e = torch.cat(errors)
    rms[g], worst[g] = float(e.pow(2).mean().sqrt()), float(e.abs().max())
    half_step[g], half_step_max[g] = float(torch.cat(halves).mean()), float(torch.cat(halves).max())
    print(f"g = {g:2d}: RMS error {rms[g]:.5f} (mean s/2 {half_step[g]:.5f}), largest {worst[g]:.5f} "
          f"(largest s/2 {half_step_max[g]:.5f})")
assert all(rms[a] < rms[b] for a, b in zip(G_ERR, G_ERR[1:], strict=False))  # grows with g
print(f"RMS error at g = 64 (a whole row) / g = 8: {rms[64] / rms[8]:.2f}")
assert f"{rms[64] / rms[8]:.2f}" == "1.78"

# %% [markdown]
# A layer with 4-bit weights and float activations, `int4_groups.Int4Linear`, keeps only the packed
# bytes and unpacks them on every call into a float32 matrix for an ordinary product (GPU kernels
# fuse the unpacking into the product; here it is explicit). Checked against the product with the
# lesson's own dequantized weights, in float64; then the whole network with every layer in int4, for
# each group size, on the test images. Its accuracy is computed with a float64 twin holding the
# dequantized weights (the same values: $s(q - z)$ is exact in float32), and the float32 `Int4Linear`
# network is checked to predict the same class for every test image.

# %%
layer0 = int4_groups.Int4Linear.from_linear(copy.deepcopy(nets[0][0]).float(), 32)
with torch.no_grad():
    y_int4 = layer0(splits.X_test.float())
    y_ref = splits.X_test @ w_hat0.T + nets[0][0].bias.detach().float().double()
print(f"Int4Linear: {layer0.nbytes:,d} bytes (codes, scales, zero points, float32 bias) against "
      f"{4 * (64 * 64 + 64):,d} in float32; output {y_int4.dtype}, within 1e-5 of the float64 product: "
      f"{torch.allclose(y_int4.double(), y_ref, rtol=0, atol=1e-5)}")
assert torch.allclose(y_int4.double(), y_ref, rtol=0, atol=1e-5) and not list(layer0.parameters())


def int4_network(net, g):
    """(float32 network of Int4Linear layers, its float64 twin with the dequantized weights)."""
    int4, twin = [], copy.deepcopy(net)
    for i, layer in enumerate(net):
        if isinstance(layer, nn.Linear):
            int4.append(int4_groups.Int4Linear.from_linear(copy.deepcopy(layer).float(), group_of(g, layer)))
            with torch.no_grad():
                twin[i].weight.copy_(int4[-1].packed().dequantize().double())
        else:
            int4.append(layer)
    return nn.Sequential(*int4), twin


int4_test, int4_val, smallest_gap = {}, {}, np.inf
for g in GROUPS:
    int4_test[g], int4_val[g] = [], []
    for net in nets:
        int4_net, twin = int4_network(net, g)
        with torch.no_grad():
            logits = twin(splits.X_test)
            same = torch.equal(int4_net(splits.X_test.float()).argmax(1), logits.argmax(1))
        top2 = logits.topk(2, dim=1).values
        smallest_gap = min(smallest_gap, float((top2[:, 0] - top2[:, 1]).min()))
        assert same
        int4_test[g].append(test_acc(twin))
        int4_val[g].append(val_acc(twin))
    drop = np.subtract(float_test, int4_test[g])
    print(f"every layer int4, g = {g!s:>3}: test {pm(int4_test[g])} %, drop from float {pm(drop)} points "
          f"(validation {np.mean(int4_val[g]):.2f} %)")
print(f"float32 Int4Linear networks and float64 twins: the same class for all 450 test images, every seed and g; "
      f"smallest top-2 logit gap {'> 1e-4' if smallest_gap > 1e-4 else smallest_gap}")
assert smallest_gap > 1e-4
drops = {g: np.subtract(float_test, int4_test[g]) for g in GROUPS}
assert max(d.mean() for d in drops.values()) < 0.32  # at most 1.4 test images on average
assert all(abs(d.mean()) <= T95 * d.std(ddof=1) / np.sqrt(len(SEEDS)) for d in drops.values())  # 0 inside

# %%
fig, (ax_e, ax_a) = plt.subplots(1, 2, figsize=(10, 3.6))
ax_e.plot(G_ERR, [rms[g] for g in G_ERR], "o-", color=BLUE, label="RMS error")
ax_e.plot(G_ERR, [worst[g] for g in G_ERR], "s--", color=VERMILLION, label="largest error")
ax_e.plot(G_ERR, [half_step_max[g] for g in G_ERR], "v-.", color=VERMILLION, alpha=0.5, label="largest s/2 (bounds it)")
ax_e.plot(G_ERR, [half_step[g] for g in G_ERR], "^:", color=GREEN, label="mean s/2")
ax_e.set_xscale("log", base=2)
ax_e.set_xticks(G_ERR, [str(g) if g < 64 else "row (64)" for g in G_ERR])
ax_e.set_xlabel("group size g (weights per scale)")
ax_e.set_ylabel("|w - w_hat| (weight units)")
ax_e.set_title("first two layers, five seeds")
ax_e.legend()
ax_a.errorbar(G_ERR, [np.mean(drops[g]) for g in GROUPS],
              yerr=[T95 * np.std(drops[g], ddof=1) / np.sqrt(len(SEEDS)) for g in GROUPS],
              color=BLUE, marker="o", capsize=4, label="float - every layer int4\n(mean, 95 % interval)")
ax_a.axhline(0, color="black", linestyle=":", label="no drop")
ax_a.set_xscale("log", base=2)
ax_a.set_xticks(G_ERR, [f"{g if g != 'row' else 'row'}\n{8 * size[g] / n_weights:.2f}" for g in GROUPS])
ax_a.set_xlabel("group size g, and bits per weight (weight tensors only)")
ax_a.set_ylabel("drop in test accuracy (points)")
ax_a.set_title("the network with 4-bit weights, paired by seed")
ax_a.set_ylim(top=1.7)
ax_a.legend(loc="upper center", ncols=2)
plt.show()

# %% [markdown]
# On these small layers the RMS error grows with the group, 1.78 times from $g = 8$ to a whole row,
# and every error stays within its group's $s/2$. The network's accuracy does not show it: at every
# group size the mean drop from float is at most 0.31 points (1.4 test images) and its interval
# contains 0. The rows here are short (64 weights); a language model's rows hold thousands, and
# small groups are there to keep a few outliers from coarsening a whole row, which this network
# cannot show. The byte cost of small groups (6.5 bits a weight at $g = 8$) shows in any case.
#
# ## 4. The production route today
#
# Lesson 09 (section 12) ran PyTorch's own int8 route, `torch.ao.quantization`, and printed its
# deprecation warning in full. Captured again from the installed torch, its first lines:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    torch.ao.quantization.quantize_dynamic(copy.deepcopy(nets[0]).float(), {nn.Linear}, dtype=torch.qint8)
ao_text = next(str(w.message) for w in caught if "torch.ao.quantization is deprecated" in str(w.message))
print(f"torch {torch.__version__.split('+')[0]}: {ao_text.splitlines()[0].strip()}")
for line in ao_text.splitlines()[2:4]:
    print(textwrap.fill(line.strip(), width=100, initial_indent="    ", subsequent_indent="      "))
print("    details: https://github.com/pytorch/ao/issues/2259")
assert "will be removed in 2.10" in ao_text and "quantize_ API" in ao_text and "prepare_pt2e" in ao_text
assert "pytorch/ao/issues/2259" in ao_text
assert torch.__version__.split("+")[0] == "2.13.0"  # pinned in requirements.txt: the warning ships past 2.10

# %% [markdown]
# So eager users go to torchao's `quantize_(model, config)`, graph users to its PT2E export
# quantization (`prepare_pt2e`, `convert_pt2e`), and quantization-aware training lives there too
# (torchao's README and API reference, docs.pytorch.org/ao). What the installed torchao actually
# exposes, checked by import. Importing it logs two lines about CUDA kernels this CPU build cannot
# load and a torch notice about a type it registers; neither concerns this lesson, so their loggers
# are quietened first.

# %%
logging.getLogger("torchao").setLevel(logging.ERROR)  # "Failed to load ... .so": CUDA-only kernels
logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)  # a notice about an Enum torchao registers
import torchao  # noqa: E402 - imported here, where the lesson turns to it
import torchao.quantization as taq  # noqa: E402
from torchao.prototype.quantization.int4 import PrototypeInt4WeightOnlyConfig  # noqa: E402
from torchao.quantization import qat as taq_qat  # noqa: E402
from torchao.quantization.pt2e import quantize_pt2e  # noqa: E402
from torchao.quantization.quantize_.workflows import Int4PackingFormat  # noqa: E402

# %%
exposed = {"quantize_": taq, "Int8WeightOnlyConfig": taq, "Int8DynamicActivationInt8WeightConfig": taq,
           "Int4WeightOnlyConfig": taq, "IntxWeightOnlyConfig": taq, "QATConfig": taq_qat,
           "prepare_pt2e": quantize_pt2e, "convert_pt2e": quantize_pt2e, "prepare_qat_pt2e": quantize_pt2e}
print(f"torchao {torchao.__version__}:", ", ".join(f"{name} {'yes' if hasattr(mod, name) else 'NO'}"
                                                 for name, mod in exposed.items()))
assert all(hasattr(mod, name) for name, mod in exposed.items()) and torchao.__version__ == "0.18.0"  # pinned

# %% [markdown]
# One call quantizes seed 0's network (a float32 copy: torchao's CPU kernels take float32) with int8
# weights and activations quantized on the fly. The linear layers' weights become torchao tensor
# subclasses holding int8 codes and one scale per row. The codes are checked against lesson 09's
# symmetric quantizer computed here, with the two details torchao uses (read from its output, then
# required for all 6,464 weights): $s = \max|w| / 127.5$ per row and $q = \operatorname{round}(w \cdot (1/s))$.

# %%
net32 = copy.deepcopy(nets[0]).float().eval()
int8_net = copy.deepcopy(net32)
taq.quantize_(int8_net, taq.Int8DynamicActivationInt8WeightConfig())
same_codes = 0
for i in weight_layers:
    wq, w = int8_net[i].weight, net32[i].weight.detach()
    s = w.abs().amax(dim=1, keepdim=True) / 127.5
    assert torch.equal(wq.scale, s)
    same_codes += int((wq.qdata == torch.round(w * (1 / s)).clamp(-128, 127).to(torch.int8)).sum())
    print(f"layer {i}: {type(wq).__name__}, codes {wq.qdata.dtype} {tuple(wq.qdata.shape)}, scales "
          f"{wq.scale.dtype} {tuple(wq.scale.shape)}")
print(f"codes equal to round(w * (1/s)), s = max|w|/127.5 per row: {same_codes:,d} of {n_weights:,d}")
assert same_codes == n_weights

# %% [markdown]
# Its forward pass quantizes each layer's input per row the same way (8-bit codes, $s_x = \max|x|/127.5$),
# multiplies the codes with `torch._int_mm` and rescales by $s_x s_w$. Lesson 12 (section 3) met
# oneDNN's u8 × s8 kernels, which on CPUs without VNNI add byte pairs in saturating int16 (oneDNN's
# developer guide, "Nuances of int8 computations"). The pinned torch does not send `_int_mm` there:
# since pull request #136942 ("Use oneDNN for `torch._int_mm` CPU only when avx512_vnni is
# supported", 2024, fixing pytorch/pytorch issue #136746) it calls oneDNN only on a CPU with
# AVX-512 VNNI and otherwise runs an exact int32 reference loop. So the integer sums are exact at
# default settings on any CPU. The forward pass emulated in integers (exact sums), for the five
# networks, compared with the float networks' predictions:

# %%
def int8_dynamic_logits(qnet, X, saturate=False):
    """torchao's int8 dynamic forward pass emulated: per-row 8-bit activation codes, integer sums
    (exact, or with oneDNN's int16 pair saturation on the codes shifted by +128), then the rescaling
    by s_x s_w and the bias."""
    h = X
    for layer in qnet:
        if not isinstance(layer, nn.Linear):
            h = torch.relu(h)
            continue
        wq, ws = layer.weight.qdata.long(), layer.weight.scale.double()
        s_x = (h.abs().amax(dim=1, keepdim=True) / 127.5).clamp(min=torch.finfo(torch.float32).eps)
        qx = torch.round(h / s_x).clamp(-128, 127).long()
        if saturate:
            acc = torch.from_numpy(integer_inference.pair_sums_saturating(qx + 128, wq.T)) - 128 * wq.sum(dim=1)
        else:
            acc = qx @ wq.T
        h = acc.double() * s_x * ws.T + layer.bias.detach().double()
    return h


int8_nets, agree, int8_acc, exact_logits = [], [], [], []
for net in nets:
    int8_nets.append(copy.deepcopy(net).float().eval())
    taq.quantize_(int8_nets[-1], taq.Int8DynamicActivationInt8WeightConfig())
    with torch.no_grad():
        float_pred = net(splits.X_test).argmax(1)
    exact_logits.append(int8_dynamic_logits(int8_nets[-1], splits.X_test))
    pred = exact_logits[-1].argmax(1)
    agree.append(int((pred == float_pred).sum()))
    int8_acc.append(100 * float((pred == splits.y_test).double().mean()))
drop_int8 = np.subtract(float_test, int8_acc)
print(f"int8 weights and activations, exact int32 sums: agree with float on {min(agree)} to {max(agree)} of 450 "
      f"test images; test accuracy {pm(int8_acc)} %, drop from float {pm(drop_int8)} points (paired by seed)")
assert min(agree) >= 449
assert abs(drop_int8.mean()) <= T95 * drop_int8.std(ddof=1) / np.sqrt(len(SEEDS)) + 1e-12  # 0 inside

# %% [markdown]
# The course's test run holds oneDNN to AVX2 (`ONEDNN_MAX_CPU_ISA=AVX2`) on a machine whose torch still
# sees AVX-512 VNNI: a forced configuration, not what any real CPU computes through `_int_mm`, in which
# oneDNN's AVX2 kernel does saturate. Which of the two the current process computes, and that
# torchao's own output is the matching emulation (to float32 rounding); this output depends on the
# configuration and is not compared by the tests:

# %%
# NBVAL_IGNORE_OUTPUT
saturates = integer_inference.int_mm_saturates_here()
with torch.no_grad():
    real = [q(splits.X_test.float()).double() for q in int8_nets]
emulated = [int8_dynamic_logits(q, splits.X_test, True) for q in int8_nets] if saturates else exact_logits
gaps = [float((r - e).abs().max()) for r, e in zip(real, emulated, strict=True)]
same_argmax = all(torch.equal(r.argmax(1), e.argmax(1)) for r, e in zip(real, emulated, strict=True))
print(f"torch._int_mm saturates in this process: {saturates}; torchao's logits minus the matching emulation: "
      f"at most {max(gaps):.1e}; the same predictions: {same_argmax}")
assert max(gaps) < 1e-3 and same_argmax

# %% [markdown]
# A CPU without AVX-512 VNNI runs `_int_mm`'s exact reference loop. The same loop runs on any CPU with
# oneDNN switched off (`torch.backends.mkldnn.enabled = False`, the guard's other condition), so the
# claim can be checked here: torchao's logits on that path against the exact emulation (their
# difference far below the emulation's smallest gap between a network's two top logits, so the
# predictions must match):

# %%
mkldnn_before = torch.backends.mkldnn.enabled
torch.backends.mkldnn.enabled = False
try:
    with torch.no_grad():
        loop_logits = [q(splits.X_test.float()).double() for q in int8_nets]
finally:
    torch.backends.mkldnn.enabled = mkldnn_before
gap_loop = max(float((r - e).abs().max()) for r, e in zip(loop_logits, exact_logits, strict=True))
top2_gap = min(float((lambda t: t[:, 0] - t[:, 1])(e.topk(2, dim=1).values).min()) for e in exact_logits)
same_loop = all(torch.equal(r.argmax(1), e.argmax(1)) for r, e in zip(loop_logits, exact_logits, strict=True))
print(f"oneDNN off: torchao's logits within 1e-4 of the exact emulation: {gap_loop < 1e-4} (the emulation's "
      f"smallest top-2 gap is above 2e-4: {top2_gap > 2e-4}); the same predictions on all 450 test images of "
      f"the five networks: {same_loop}")
assert gap_loop < 1e-4 and top2_gap > 2e-4 and same_loop

# %% [markdown]
# So on this torch and torchao, `Int8DynamicActivationInt8WeightConfig` predicts as the float network
# does on all but at most one test image per network. `Int8WeightOnlyConfig`, whose activations stay
# float, has no integer product at all; it agrees with the float network on at least 449 of the 450
# test images on every CPU path the tests run (the count itself is not printed: torchao computes in
# float32, whose rounding differs between CPU paths, and the tests compare printed output):

# %%
weight_only = copy.deepcopy(net32)
taq.quantize_(weight_only, taq.Int8WeightOnlyConfig())
with torch.no_grad():
    agree_w8 = int((weight_only(splits.X_test.float()).argmax(1) == nets[0](splits.X_test).argmax(1)).sum())
print(f"Int8WeightOnlyConfig, seed 0: {type(weight_only[0].weight).__name__} weights; agrees with float on at "
      f"least 449 of 450 test images: {agree_w8 >= 449}")
assert agree_w8 >= 449

# %% [markdown]
# And 4 bits? `Int4WeightOnlyConfig` is torchao's per-group int4 route. With its default group size
# of 128 it leaves these layers alone (their rows are 64 or 32 weights long, not a multiple of 128,
# and torchao skips them with a log message only). With groups of 32 it refuses on this CPU, in each
# of its packing formats (tried below, with bfloat16 weights where a format asks for them): two need
# the `mslk` kernel package, one has no CPU implementation, one needs CUDA. This lesson does not
# show that installing `mslk` would make any of them run on a CPU. `IntxWeightOnlyConfig` with 4-bit
# codes per group does run, but keeps each code in a byte of its own, "unpacked to int8", so it
# stores no less than int8 (its agreement with float is given as a bound, for the float32 reason above):

# %%
print("Int4WeightOnlyConfig default group size:", taq.Int4WeightOnlyConfig().group_size)
skipped = copy.deepcopy(net32)
taq.quantize_(skipped, taq.Int4WeightOnlyConfig())
print("  with it, weights left as float tensors:", all(type(skipped[i].weight) is nn.Parameter for i in weight_layers))
assert all(type(skipped[i].weight) is nn.Parameter and torch.equal(skipped[i].weight, net32[i].weight)
           for i in weight_layers)
int4_reason = {}
for packing in Int4PackingFormat:
    for dtype in (torch.float32, torch.bfloat16):
        try:
            taq.quantize_(copy.deepcopy(net32).to(dtype),
                          taq.Int4WeightOnlyConfig(group_size=32, int4_packing_format=packing))
            int4_reason[packing.value] = None
            break
        except Exception as error:  # noqa: BLE001 - the reason is what the lesson shows
            int4_reason[packing.value] = f"{type(error).__name__}: {error}"
            if "bfloat16" not in str(error):
                break
    print(f"  with group_size=32, packing {packing.value!r} ({str(dtype).split('.')[1]}): {int4_reason[packing.value]}")
assert all(reason is not None for reason in int4_reason.values())  # no packed int4 on this CPU
assert "mslk" in int4_reason["plain"]
intx_net = copy.deepcopy(net32)
taq.quantize_(intx_net, taq.IntxWeightOnlyConfig(weight_dtype=torch.int4, granularity=taq.PerGroup(32)))
wx = intx_net[0].weight
codes_range = (int(wx.qdata.min()), int(wx.qdata.max()))
print(f"IntxWeightOnlyConfig(int4, PerGroup(32)): {type(wx).__name__}, codes {wx.qdata.dtype} "
      f"{tuple(wx.qdata.shape)} in [-8, 7], one per byte: {wx.qdata.numel() * wx.qdata.element_size():,d} bytes "
      f"for layer 0's codes against {lib.codes.numel():,d} packed two to a byte (section 3)")
assert wx.qdata.dtype == torch.int8 and wx.qdata.shape == (64, 64) and -8 <= codes_range[0] <= codes_range[1] <= 7
with torch.no_grad():
    agree_intx = int((intx_net(splits.X_test.float()).argmax(1) == net32(splits.X_test.float()).argmax(1)).sum())
print(f"that model and the float model agree on at least 440 of 450 test images: {agree_intx >= 440}")
assert agree_intx >= 440

# %% [markdown]
# torchao 0.18 also ships a **prototype** int4 configuration,
# `torchao.prototype.quantization.int4.PrototypeInt4WeightOnlyConfig`, whose weights
# (`Int4OpaqueTensor`) go through torch's own CPU int4 kernels (`_convert_weight_to_int4pack_for_cpu`,
# `_weight_int4pack_mm_for_cpu`). Those want a layer's number of outputs to be a multiple of 16, so a
# `filter_fn` leaves the 10-output layer in float; without the filter the call refuses. Which layers
# it packs, what it stores, its bytes against section 3's format (seed 0, $g = 32$), and the refusal:

# %%
proto = copy.deepcopy(net32)
taq.quantize_(proto, PrototypeInt4WeightOnlyConfig(group_size=32),
              filter_fn=lambda m, _: isinstance(m, nn.Linear) and m.out_features % 16 == 0)
proto_bytes, ours_bytes = {}, {}
for i in weight_layers:
    w = proto[i].weight
    if type(w) is nn.Parameter:
        print(f"layer {i}: left in float ({w.shape[0]} outputs, not a multiple of 16)")
        continue
    ours = int4_seed0[i]
    proto_bytes[i] = w.qdata.nbytes + w.scale_and_zero.nbytes
    ours_bytes[i] = ours.codes.nbytes + ours.scales.nbytes + ours.zero_points.nbytes
    print(f"layer {i}: {type(w).__name__}, codes {w.qdata.dtype} {tuple(w.qdata.shape)} (two a byte), scale and "
          f"zero {w.scale_and_zero.dtype} {tuple(w.scale_and_zero.shape)}: {w.qdata.nbytes:,d} + "
          f"{w.scale_and_zero.nbytes:,d} = {proto_bytes[i]:,d} bytes; section 3: {ours.codes.nbytes:,d} + "
          f"{ours.scales.nbytes:,d} + {ours.zero_points.nbytes:,d} = {ours_bytes[i]:,d}")
try:
    taq.quantize_(copy.deepcopy(net32), PrototypeInt4WeightOnlyConfig(group_size=32))
    proto_refusal = None
except RuntimeError as error:
    proto_refusal = str(error)
print(f"without the filter: RuntimeError: {proto_refusal}")
with torch.no_grad():
    agree_proto = int((proto(splits.X_test.float()).argmax(1) == net32(splits.X_test.float()).argmax(1)).sum())
print(f"the packed model and the float model agree on at least 440 of 450 test images: {agree_proto >= 440}")
assert sorted(proto_bytes) == [0, 2] and type(proto[4].weight) is nn.Parameter
assert (proto_bytes[0], ours_bytes[0], proto_bytes[2], ours_bytes[2]) == (3072, 2368, 1536, 1184)
assert proto[0].weight.qdata.dtype == torch.uint8 and proto[0].weight.qdata.shape == (64, 32)
assert proto_refusal is not None and "dividable by 16" in proto_refusal and agree_proto >= 440

# %% [markdown]
# The route for a deployed model today is therefore torchao, not `torch.ao.quantization`; on this
# CPU its int8 configurations work in one call. Of its 4-bit routes, the stable `Int4WeightOnlyConfig`
# refuses in every packing format, `IntxWeightOnlyConfig` stores a code a byte, and the prototype
# `PrototypeInt4WeightOnlyConfig` packs two codes a byte on the layers whose outputs are a multiple
# of 16, with a float32 scale and a float32 zero per group: 3,072 bytes for layer 0 against section 3's
# 2,368 (float16 scale, 4-bit zero point). Section 3's own per-group code shows what such a format
# holds; a production kernel adds speed, which this lesson does not measure.

# %% [markdown]
# ## 5. The optimizer's memory: the momentum buffer in 8 bits
#
# Training holds more than the model. SGD with momentum keeps one buffer entry per parameter, in the
# parameter's own type, so its state is **as large as the model** (lesson 11, section 8, counts it:
# 202,440 bytes in float32 for the 64-300-100-10 network); Adam keeps two such buffers. The course
# measures what storing it in 8 bits costs by the figure `momentum_state_8bit_acc_drop_pt`: test
# accuracy with a full-precision buffer minus that with an 8-bit one, same seeds, initialisation, data
# order and budget, in points (the course's goal: at most 0.5 on the mean).
#
# The buffer to work on first is lesson 11's: its 64-300-100-10 network, seed 0, trained here by
# lesson 11's protocol (SGD, $\eta = 0.1$, $\beta = 0.9$, 20 epochs of minibatches of 64 on the
# training part; bit for bit lesson 11's network with one thread, as the lessons run: its test
# accuracy, 97.78 %, is the one lesson 11 prints), then given one full-batch step with learning rate
# 0, so that the weights stay as they are and the buffer holds the full-batch gradient:

# %%
big = mlp(hidden=(300, 100), seed=0)  # lesson 11's network, seed 0, trained as lesson 11 trains it
train_many([big], fit, epochs=20, lr=0.1, momentum=0.9, batch_size=64, seeds=[0], evaluate=(), progress=False)
opt = torch.optim.SGD(big.parameters(), lr=0.0, momentum=0.9)  # lr 0: the weights stay as they are
big.zero_grad()
torch.nn.functional.cross_entropy(big(splits.X_train), splits.y_train).backward()
opt.step()
n_big = count_parameters(big)
state_bytes = momentum8bit.optimizer_state_bytes(opt)  # counted from the buffers torch allocated
print(f"64-300-100-10: {n_big:,} parameters, test accuracy {test_acc(big):.2f} %; momentum buffers "
      f"{state_bytes:,} bytes in this lesson's float64, {momentum8bit.momentum_state_bytes(big).float32:,} in float32")
assert state_bytes == 8 * n_big == 2 * momentum8bit.momentum_state_bytes(big).float32
assert f"{test_acc(big):.2f}" == "97.78"  # lesson 11's seed 0 (its section 1 prints the same)
buffer = opt.state[big[0].weight]["momentum_buffer"]  # the first layer's buffer, 300 x 64

# %% [markdown]
# Dettmers, Lewis, Shleifer and Zettlemoyer (*8-bit Optimizers via Block-wise
# Quantization*, ICLR 2022, section 2) store such state in 8 bits with **block-wise dynamic
# quantization**: the state is cut into blocks of 2,048 values, each block is divided by its
# largest magnitude, and each value is stored as the index of the nearest entry of a fixed
# *non-linear* code map of 256 values, the *dynamic tree* type (dense near 0, sparse near
# $\pm1$), so that small entries in a block with a large one keep a few significant digits.
# Start with the simpler **linear** variant, and come to the paper's map after it: blocks of
# **256**, and a linear code, the 255 evenly spaced values $k/127$ (an int8 grid; the library's
# `code="linear"`). Cut the flattened buffer into blocks of 256 values, keep each block's
# $\mathrm{absmax} = \max|b|$ as a float32, and store $\operatorname{round}(127\, b / \mathrm{absmax})$
# as one byte (offset by 127 to fit a `uint8`). Within a block the error is at most half a step:
#
# $$|b - \hat b| \le \frac{\mathrm{absmax}}{2\cdot 127} = \frac{\mathrm{absmax}}{254}.$$
#
# Blocks keep one large value from coarsening the grid of the whole tensor. Written out:

# %%
def blockwise_8bit(b, block=256):
    """uint8 codes (n,) and float32 absmax per block of a float tensor b."""
    flat = b.detach().reshape(-1).float()
    n_blocks = -(-flat.numel() // block)
    padded = torch.zeros(n_blocks * block, dtype=torch.float32)
    padded[:flat.numel()] = flat
    blocks = padded.view(n_blocks, block)
    absmax = blocks.abs().amax(dim=1)
    safe = torch.where(absmax > 0, absmax, torch.ones_like(absmax))
    codes = torch.round((blocks / safe[:, None]).clamp(-1, 1) * 127) + 127
    return codes.to(torch.uint8).reshape(-1)[:flat.numel()], absmax


def blockwise_8bit_back(codes, absmax, shape, block=256):
    values = (codes.float() - 127) / 127
    padded = torch.zeros(absmax.numel() * block, dtype=torch.float32)
    padded[:codes.numel()] = values
    return (padded.view(-1, block) * absmax[:, None]).reshape(-1)[:codes.numel()].reshape(shape)


codes, absmax = blockwise_8bit(buffer)
ref_codes, ref_absmax = momentum8bit.quantize_blockwise(buffer)
assert torch.equal(codes, ref_codes) and torch.equal(absmax, ref_absmax)
back = blockwise_8bit_back(codes, absmax, buffer.shape)
ref_back = momentum8bit.dequantize_blockwise(ref_codes, ref_absmax, buffer.shape)
per_block_bound = absmax.repeat_interleave(256)[:buffer.numel()].reshape(buffer.shape) / 254
print("codes and block maxima identical to momentum8bit.quantize_blockwise; round trips agree to "
      f"{(back - ref_back).abs().max().item():.0e}")
print("max |b - b_hat| / (absmax / 254) over all entries: "
      f"{((back - buffer).abs() / per_block_bound).max().item():.5f}")
assert ((back - buffer).abs() <= per_block_bound * (1 + 1e-5) + 1e-12).all()

# one absmax for the whole tensor instead of one per block of 256
whole_codes, whole_absmax = blockwise_8bit(buffer, block=buffer.numel())
whole_back = blockwise_8bit_back(whole_codes, whole_absmax, buffer.shape, block=buffer.numel())
rms_block = (back - buffer).square().mean().sqrt().item()
rms_whole = (whole_back - buffer).square().mean().sqrt().item()
print(f"RMS round-trip error: blocks of 256 {rms_block:.2e}, one block for the tensor {rms_whole:.2e} "
      f"({rms_whole / rms_block:.1f}x)")
assert rms_whole / rms_block > 2


# %% [markdown]
# ### The dynamic tree type
#
# The linear grid has one weakness: a block's largest value sets the step, and every entry below
# half a step comes back as 0. Dettmers' *dynamic tree* type (Dettmers, *8-bit Approximations for
# Parallelism in Deep Learning*, ICLR 2016; the 8-bit optimizers' paper cited above, section 1.3
# "Dynamic Tree Quantization" and section 2.2 "Dynamic Quantization") spends its 8 bits differently. Read a byte from the left:
#
# * the first bit is the sign $s$;
# * in the 7 bits after it, a run of $e$ zeros ($e = 0, \dots, 6$) is a decimal exponent $10^{-e}$;
# * the first 1 ends the run (the *indicator* bit);
# * the $f = 6 - e$ bits after it are a fraction $j = 0, \dots, 2^f - 1$ that splits the decade
#   $[0.1, 1]$ linearly. bitsandbytes' implementation (`create_dynamic_map`) takes the middle of
#   each interval of `linspace(0.1, 1, 2^f + 1)`,
#
# $$x = (-1)^s\, 10^{-e}\left(0.1 + 0.9\,\frac{j + 1/2}{2^f}\right),$$
#
#   and this lesson follows it, since its map is what 8-bit optimizers run. The paper's Figure 2
#   reads the fraction bits differently, as an integer over its largest value (for example
#   $9/15$); bitsandbytes issue #406 ("Question about dynamic tree quantization", 2023) asks about
#   that difference.
#
# Seven zeros after the sign give 0. The one pattern left, the sign bit with seven zeros, would be
# a second zero; bitsandbytes' map (`create_dynamic_map(signed=True)`) has $+1$ as its 256th value
# instead, so that a block's largest positive entry is stored exactly (the code below puts it at
# that pattern). A decade closer to 0 costs one more zero bit and keeps one fraction
# bit fewer: 64 values of each sign in $[0.1, 1]$, 32 in $[0.01, 0.1]$, ..., 1 in
# $[10^{-7}, 10^{-6}]$. The codes index the 256 values in sorted order (so a stored code is not
# the bit pattern of its value). Decode every bit pattern and compare with the library's map
# (`momentum8bit.code_map("dynamic")`, built decade by decade from `linspace` as bitsandbytes
# builds it, but in float64 and then rounded to float32; bitsandbytes computes in float32, so the
# two maps agree to within one float32 step, not bit for bit):

# %%
def dynamic_tree_value(byte):
    """The value of one byte of Dettmers' dynamic tree type, read bit by bit."""
    sign, rest = byte >> 7, byte & 0b111_1111
    if rest == 0:
        return 1.0 if sign else 0.0  # seven zeros: 0; with the sign bit set: +1 (bitsandbytes' choice)
    e = 7 - rest.bit_length()  # the run of zeros before the indicator bit
    f = 6 - e  # fraction bits after it
    j = rest & (2**f - 1)
    x = 10.0**-e * (0.1 + 0.9 * (j + 0.5) / 2**f)
    return -x if sign else x


tree = np.sort(np.array([dynamic_tree_value(byte) for byte in range(256)]))
cmap = momentum8bit.code_map("dynamic").numpy()
ulps = np.abs(tree.astype(np.float32).view(np.int32) - cmap.view(np.int32))  # float32 steps apart
print(f"256 values decoded from their bits; against code_map('dynamic'): {int((ulps == 0).sum())} identical "
      "after rounding to float32")
assert tree.size == cmap.size == 256 and ulps.max() == 0
per_decade = [int(((tree > 10.0 ** (-e - 1)) & (tree < 10.0**-e)).sum()) for e in range(7)]
print("positive values per decade [0.1, 1], [0.01, 0.1], ..., [1e-7, 1e-6]:", per_decade)
assert per_decade == [64, 32, 16, 8, 4, 2, 1]
gaps_dyn = np.diff(cmap.astype(np.float64))
print(f"smallest positive value {cmap[cmap > 0].min():.2e}; largest {cmap.max():.0f}, smallest {cmap.min():.6f}; "
      f"largest gap {gaps_dyn.max():.7f} (linear code: 1/127 = {1 / 127:.7f})")
assert cmap.max() == 1 and cmap.min() == -(1 - 0.9 / 128) and np.isclose(gaps_dyn.max(), 0.9 / 64)
lin_top = momentum8bit.code_map("linear").numpy()
lin_top = int(((lin_top >= 0.1) & (lin_top <= 1)).sum())
print(f"positive values in [0.1, 1]: dynamic tree {per_decade[0]}, linear code {lin_top}")
assert lin_top == 115

# %% [markdown]
# Its worst case is worse than the linear grid's: in $[0.1, 1]$ it has 64 values per sign where the
# linear grid has 115, so the error bound is $\mathrm{absmax}\cdot 0.9/128 = 0.00703\,\mathrm{absmax}$
# against $\mathrm{absmax}/254 = 0.00394\,\mathrm{absmax}$. What it buys is relative precision near 0.
# Quantize the first layer's buffer with the paper's scheme (blocks of 2,048, the dynamic map),
# written out with a brute-force nearest entry (every value against all 256), and compare with the
# library, with the bound, and with the linear variant:

# %%
def blockwise_nearest(b, cmap, block):
    """uint8 codes: the index of the nearest map entry to each b / absmax of its block (brute force)."""
    flat = b.detach().reshape(-1).float()
    padded = torch.zeros(-(-flat.numel() // block) * block, dtype=torch.float32)
    padded[:flat.numel()] = flat
    blocks = padded.view(-1, block)
    absmax = blocks.abs().amax(dim=1)
    normed = (blocks / torch.where(absmax > 0, absmax, torch.ones_like(absmax))[:, None]).clamp(-1, 1)
    codes = (normed[..., None] - torch.as_tensor(cmap)).abs().argmin(dim=-1)  # ties: the smaller entry
    return codes.to(torch.uint8).reshape(-1)[:flat.numel()], absmax


dyn_codes, dyn_absmax = blockwise_nearest(buffer, cmap, 2048)
ref_codes, ref_absmax = momentum8bit.quantize_blockwise(buffer, 2048, "dynamic")
assert torch.equal(dyn_codes, ref_codes) and torch.equal(dyn_absmax, ref_absmax)
dyn_back = momentum8bit.dequantize_blockwise(ref_codes, ref_absmax, buffer.shape, 2048, "dynamic")
dyn_bound = dyn_absmax.repeat_interleave(2048)[:buffer.numel()].reshape(buffer.shape) * (0.9 / 128)
print("codes and block maxima identical to momentum8bit.quantize_blockwise(buffer, 2048, 'dynamic'); "
      f"max |b - b_hat| / (0.00703 absmax): {((dyn_back - buffer).abs() / dyn_bound).max().item():.4f}")
assert ((dyn_back - buffer).abs() <= dyn_bound * (1 + 1e-4) + 1e-12).all()  # float32 rounding aside

nonzero = buffer != 0
print("entries of the buffer != 0 that come back as 0, RMS round-trip error, and bytes per entry "
      "(codes plus 4-byte block maxima, counted from quantize_blockwise's outputs):")
zero_share, rms_code, backs, per_entry = {}, {}, {}, {}
for code, block in (("linear", 256), ("linear", 2048), ("dynamic", 256), ("dynamic", 2048)):
    q_codes, q_absmax = momentum8bit.quantize_blockwise(buffer, block, code)
    per_entry[code, block] = (q_codes.numel() + 4 * q_absmax.numel()) / buffer.numel()
    backs[code, block] = momentum8bit.dequantize_blockwise(q_codes, q_absmax, buffer.shape, block, code)
    zero_share[code, block] = (backs[code, block][nonzero] == 0).double().mean().item()
    rms_code[code, block] = (backs[code, block] - buffer).square().mean().sqrt().item()
    print(f"  code {code:8s} blocks of {block:5d}: {100 * zero_share[code, block]:4.1f} % to 0, "
          f"RMS {rms_code[code, block]:.2e}, {per_entry[code, block]:.4f} bytes per entry")
assert torch.equal(backs["dynamic", 2048], dyn_back)
assert {key: f"{100 * share:.1f}" for key, share in zero_share.items()} == {  # as the text below says
    ("linear", 256): "19.2", ("linear", 2048): "23.5", ("dynamic", 256): "0.3", ("dynamic", 2048): "0.4"}
assert rms_code["linear", 256] < rms_code["linear", 2048] < rms_code["dynamic", 2048]
assert rms_code["dynamic", 256] > rms_code["linear", 256]
assert (buffer.numel(), f"{per_entry['linear', 256]:.4f}", f"{per_entry['linear', 2048]:.4f}") == (
    19_200, "1.0156", "1.0021")  # 75 blocks of 256; 10 blocks of 2,048, the last one padded

# %%
fig, ax1 = plt.subplots(figsize=(9, 2.2))
linear_map = momentum8bit.code_map("linear").numpy()
for row, (label, values, color) in enumerate([("linear, k/127", linear_map, BLUE),
                                              ("dynamic tree", cmap, VERMILLION)]):
    positive = values[values > 0]
    ax1.plot(positive, np.full(positive.size, row), "|", color=color, markersize=14,
             label=f"{label}: {positive.size} positive values")
ax1.set_xscale("log")
ax1.set_xlim(1e-7, 1.5)
ax1.set_ylim(-0.8, 2.2)
ax1.set_yticks([0, 1], ["linear", "dynamic"])
ax1.set_xlabel("value of a code (fraction of the block's absmax, log scale)")
ax1.set_title("where the positive codes of the two maps sit")
ax1.legend(loc="upper left", fontsize=8, ncols=2)
plt.show()

# %%
fig, ax2 = plt.subplots(figsize=(7, 3.4))
shown = nonzero.reshape(-1).nonzero().squeeze(1)[::10]  # every tenth nonzero entry, enough to see the pattern
magnitude = buffer.reshape(-1)[shown].abs().numpy()
for (code, block), color in ((("linear", 256), BLUE), (("dynamic", 2048), VERMILLION)):
    err = (backs[code, block] - buffer).reshape(-1)[shown].abs().numpy()
    ax2.plot(magnitude, np.maximum(err, 1e-12), ".", color=color, markersize=1.5, alpha=0.4, linestyle="none")
    ax2.plot([], [], "o", color=color, label=f"{code}, blocks of {block}: {100 * zero_share[code, block]:.1f} % to 0")
ax2.plot([magnitude.min(), magnitude.max()], [magnitude.min(), magnitude.max()], color="k", linewidth=0.8,
         linestyle="--", label="error = |b| (rounded to 0)")
ax2.set_xscale("log")
ax2.set_yscale("log")
ax2.set_ylim(1e-9, None)
ax2.set_xlim(1e-9, None)
ax2.set_xlabel("|b|, an entry of the first layer's buffer (every tenth)")
ax2.set_ylabel("round-trip error |b - b_hat|")
ax2.set_title("error per entry (errors below 1e-9 at the bottom edge)", fontsize=10)
ax2.legend(loc="upper left", fontsize=8)
plt.show()

# %% [markdown]
# The two variants trade differently. In this buffer the linear code with blocks of 256 sends
# 19.2 % of the nonzero entries to exactly 0 (23.5 % with blocks of 2,048): every entry below half
# a step rounds to 0, and in the error plot these lie on the dashed line. The dynamic tree type with the
# paper's blocks of 2,048 sends 0.4 % to 0 (0.3 % with blocks of 256) and keeps the error of small
# entries roughly in proportion to them. In RMS error, which the largest entries dominate, it is
# worse than the linear code with the same block size, with blocks of 2,048 as with blocks of 256,
# since it keeps fewer levels near $\pm\mathrm{absmax}$. The bytes differ little: 1 byte per entry plus 4 per
# block, 1.0156 bytes per entry with blocks of 256 and 1.0021 with 2,048 (the last block of the
# 19,200 entries is padded), against 4 in float32. These shares and errors are one buffer's: seed 0's
# trained 64-300-100-10, first layer, after one full-batch step with learning rate 0 (so the buffer
# is that layer's full-batch gradient); a buffer met during training may differ.
#
# %% [markdown]
# `momentum8bit.SGD8bitMomentum` is SGD with momentum in PyTorch's form whose buffer lives
# in these codes between steps. It computes the gradient, the buffer and the step in the
# parameters' own type (float64 here), exactly as `torch.optim.SGD` does, and rounds only
# the buffer it carries to the next step (to its codes, computed like `blockwise_8bit` above
# in float32, where every operation on the way is exactly rounded, so no CPU computes other
# codes from the same gradients; `block_size` and `code` choose the variant, blocks of 256 and
# the linear code by default). So a run with it differs from one with `torch.optim.SGD`
# only by that rounding. Check it on two steps from the same start (a 64-64-32-10 MLP, seed 0) and
# the same batch (the first 128 training images): the
# first step, whose buffer is the gradient itself, must come out identical; the second must
# differ by exactly $\eta\beta\,(\hat b_1 - b_1)$, with $b_1$ the first step's buffer and
# $\hat b_1$ its 8-bit round trip:

# %%
pair_nets = {name: mlp(seed=0) for name in ("torch.optim.SGD", "SGD8bitMomentum")}
pair_opts = {"torch.optim.SGD": torch.optim.SGD(pair_nets["torch.optim.SGD"].parameters(), lr=0.1, momentum=0.9),
             "SGD8bitMomentum": momentum8bit.SGD8bitMomentum(pair_nets["SGD8bitMomentum"].parameters(), lr=0.1,
                                                             momentum=0.9)}
after = {name: [] for name in pair_nets}
for step in range(2):
    for name, net in pair_nets.items():
        pair_opts[name].zero_grad()
        torch.nn.functional.cross_entropy(net(splits.X_train[:128]), splits.y_train[:128]).backward()
        if step == 0:
            first_grads = [p.grad.clone() for p in net.parameters()]
        pair_opts[name].step()
        after[name].append([p.detach().clone() for p in net.parameters()])
same_first = all(torch.equal(a, b) for a, b in zip(*(after[name][0] for name in pair_nets), strict=True))
predicted = [0.1 * 0.9 * (momentum8bit.dequantize_blockwise(*momentum8bit.quantize_blockwise(g), g.shape).double()
                          - g) for g in first_grads]  # eta * beta * (rounded b_1 - b_1)
gap = max((full - eight - pred).abs().max().item() for full, eight, pred in
          zip(after["torch.optim.SGD"][1], after["SGD8bitMomentum"][1], predicted, strict=True))
largest_shift = max(pred.abs().max().item() for pred in predicted)
print(f"first step identical: {same_first}; second step: largest difference of the parameters "
      f"{largest_shift:.2e}, its deviation from eta * beta * (b1_hat - b1) {'< 1e-15' if gap < 1e-15 else f'{gap:.1e}'}")
assert same_first and largest_shift > 1e-6 and gap < 1e-15

# %% [markdown]
# Does it cost accuracy? Train this lesson's network, the $64 \to 64 \to 32 \to 10$ MLP of section 1
# (and of lessons 09 and 10), afresh for seeds 0 to 7, three ways: with a full-precision buffer; with the 8-bit buffer in the linear variant, blocks
# of 256 (the one the figure `momentum_state_8bit_acc_drop_pt` and `benchmarks/run.py` use); and
# with the paper's variant, the dynamic tree type in blocks of 2,048. Each run has **the same seed,
# initialisation, data order and budget** (30 epochs, batches of 128, $\eta = 0.1$, $\beta = 0.9$),
# for eight seeds, on the training part (not section 1's protocol: this one is older, so the
# full-precision accuracies below differ from section 1's). This protocol
# (and the two variants) is kept from an earlier version of lesson 11, where this section was, which
# reported on these same test images; it is not re-tuned here, and the test images are read once, for
# the accuracies below. The full-precision
# buffer is float64 here, like everything the lesson trains.
# The eight networks of each kind train side by side: `train_many` for the full-precision ones,
# `momentum8bit.train_many_8bit` for the 8-bit ones, each network bit for bit as a run of
# `train` with `SGD8bitMomentum` would train it alone (the library's tests compare the two). A
# single seed's difference is noisy: accuracies move in steps of one test image (0.22 points), and
# two runs that differ only in the rounding of the buffer drift apart and can end a few images
# apart. So each figure is the mean of the paired differences, with its 95 % interval
# ($t_{0.975,7} = 2.365$ for eight seeds):

# %%
def images(acc):
    """An accuracy in [0, 1] as the number of test images it counts (an exact integer)."""
    return round(acc * len(splits.y_test))


MOMENTUM_SEEDS = range(8)
# full precision: the eight networks side by side, each exactly as training.paired_accuracies trains
# mlp(seed=seed) with torch.optim.SGD
full_nets = [mlp(seed=seed) for seed in MOMENTUM_SEEDS]
full_histories = train_many(full_nets, fit, epochs=30, lr=0.1, momentum=0.9, batch_size=128,
                            seeds=list(MOMENTUM_SEEDS), evaluate=(), progress=False)  # well under a second
acc_full = [accuracy(net, splits.X_test, splits.y_test) for net in full_nets]
state = {"sgd": momentum8bit.optimizer_state_bytes(full_histories[-1].optimizer)}
VARIANTS = {"linear": 256, "dynamic": 2048}  # code: block size
acc_8bit_by = {}
for code, block in progress(VARIANTS.items(), desc="8-bit momentum, two variants, 8 seeds each"):
    nets_8bit = [mlp(seed=seed) for seed in MOMENTUM_SEEDS]
    state[code] = momentum8bit.train_many_8bit(nets_8bit, fit, epochs=30, lr=0.1, momentum=0.9, batch_size=128,
                                               seeds=list(MOMENTUM_SEEDS), block_size=block, code=code)[0]
    acc_8bit_by[code] = [accuracy(net, splits.X_test, splits.y_test) for net in nets_8bit]
acc_8bit = acc_8bit_by["linear"]

# %%
diff_by = {}
for code in VARIANTS:
    diff_images_code = np.array([images(full) - images(eight)
                                 for full, eight in zip(acc_full, acc_8bit_by[code], strict=True)])
    diff_by[code] = (diff_images_code, 100 * diff_images_code / len(splits.y_test))  # points, multiples of 100/450
diff_images, mom_diff = diff_by["linear"]
print(f"{'seed':>4s} {'full precision %':>17s} {'linear/256 %':>13s} {'difference':>11s} "
      f"{'dynamic/2048 %':>15s} {'difference':>11s}   (points, test images)")
for seed in MOMENTUM_SEEDS:
    print(f"{seed:4d} {100 * acc_full[seed]:17.2f} {100 * acc_8bit[seed]:13.2f} "
          f"{mom_diff[seed]:+6.2f} ({diff_images[seed]:+d}) {100 * acc_8bit_by['dynamic'][seed]:15.2f} "
          f"{diff_by['dynamic'][1][seed]:+6.2f} ({diff_by['dynamic'][0][seed]:+d})")
d_mean, d_half = mean_ci(mom_diff)
momentum_state_8bit_acc_drop_pt = d_mean
print(f"momentum_state_8bit_acc_drop_pt = {d_mean:+.2f} ± {d_half:.2f} points (linear, blocks of 256; mean ± 95 % "
      f"interval, interval [{d_mean - d_half:+.2f}, {d_mean + d_half:+.2f}]); single seeds from {mom_diff.min():+.2f} "
      f"to {mom_diff.max():+.2f}")
dyn_diff_images, dyn_diff = diff_by["dynamic"]
y_mean, y_half = mean_ci(dyn_diff)
print(f"the paper's variant (dynamic, blocks of 2048): {y_mean:+.2f} ± {y_half:.2f} points (interval "
      f"[{y_mean - y_half:+.2f}, {y_mean + y_half:+.2f}]); single seeds from {dyn_diff.min():+.2f} to "
      f"{dyn_diff.max():+.2f}")
between_images = dyn_diff_images - diff_images  # linear minus dynamic accuracy, paired by seed
b_mean, b_half = mean_ci(100 * between_images / len(splits.y_test))
print(f"accuracy with linear/256 minus with dynamic/2048, paired by seed: {b_mean:+.2f} ± {b_half:.2f} points "
      f"(interval [{b_mean - b_half:+.2f}, {b_mean + b_half:+.2f}])")
expected = momentum8bit.momentum_state_bytes(mlp(seed=0))
state32, state8 = expected.float32, state["linear"]
state8_paper = momentum8bit.momentum_state_bytes(mlp(seed=0), block_size=2048).eight_bit
print(f"optimizer state: float32 {state32:,} bytes (float64 here: {state['sgd']:,}), 8-bit {state8:,} bytes "
      f"with blocks of 256 ({state32 / state8:.2f}x smaller than float32), {state8_paper:,} with blocks of 2048")
assert state["sgd"] == 2 * state32 and state8 == expected.eight_bit and f"{state32 / state8:.2f}" == "3.93"
assert state["dynamic"] == state8_paper
assert d_mean - d_half < 0 < d_mean + d_half  # no difference detectable with eight seeds ...
assert d_mean + d_half < 0.5  # ... and the interval rules out a cost of half a point
assert (f"{d_mean - d_half:+.2f}", f"{d_mean + d_half:+.2f}") == ("-0.27", "+0.16")  # as the summary quotes
assert abs(d_mean) < 100 / len(splits.y_test)  # the mean difference is less than one test image
assert (diff_images.min(), diff_images.max()) == (-2, 1)  # single seeds: 2 images one way, 1 the other
assert y_mean - y_half < 0 < y_mean + y_half and y_mean + y_half < 0.5  # the paper's variant: none either
assert (f"{y_mean - y_half:+.2f}", f"{y_mean + y_half:+.2f}") == ("-0.69", "+0.30")
assert (dyn_diff_images.min(), dyn_diff_images.max()) == (-5, 3)
assert b_mean - b_half < 0 < b_mean + b_half  # no difference between the two variants detectable
assert (f"{y_mean:+.2f}", f"{y_half:.2f}", f"{b_mean:+.2f}", f"{b_half:.2f}") == ("-0.19", "0.49", "-0.14", "0.36")
for_big = momentum8bit.momentum_state_bytes(big)
print(f"for the 64-300-100-10 network: float32 {for_big.float32:,} bytes, 8-bit {for_big.eight_bit:,} bytes "
      "(lesson 11, section 8, counts the same)")
assert (for_big.float32, for_big.eight_bit) == (202_440, 51_414)

# %% [markdown]
# The 8-bit buffer takes about a quarter of the memory of a float32 one *between steps*.
# During a step `SGD8bitMomentum` rebuilds one tensor's buffer at a time at full precision
# (it dequantizes, updates and quantizes again), so its peak holds one such tensor as well;
# Dettmers et al.'s kernels dequantize and update block by block instead. The figure
# `momentum_state_8bit_acc_drop_pt` is the linear variant's (blocks of 256). Its cost in
# accuracy is too small to see with eight seeds: the mean difference is a fraction of a
# test image, and its 95 % interval, $[-0.27, +0.16]$ points, contains 0 and stays below the
# goal of 0.5 points. Single seeds, though, range from two test images in favour of the 8-bit
# buffer to one in favour of the full-precision one, so one pair of runs could have "shown" a
# cost or a gain of an image or two. The paper's variant (dynamic tree type, blocks of 2,048) shows
# no detectable cost either: $-0.19 \pm 0.49$ points, interval $[-0.69, +0.30]$, single seeds from
# five images in its favour to three against it. Nor can eight seeds tell the two variants apart:
# the paired difference between linear/256 and dynamic/2048 is $-0.14 \pm 0.36$ points, an interval
# that contains 0 (three comparisons on the same runs, each uncorrected). The comparison changes the code and the block size together, and the shares of
# entries sent to 0 above were measured on another network's buffer, so it says nothing about
# the map alone; whether fewer entries lost to 0 matter where small state entries carry more of
# the update, as Adam's second moments do in the paper, is not measured here. A half-point comparison needs paired runs
# and several seeds.
#
# Why bother, for a network this small? Not for its sake: the argument is Dettmers et al.'s,
# for large models. Optimizer state "uses memory that might otherwise be allocated to model
# parameters, thereby limiting the maximum size of models trained in practice" (their
# abstract). At 4 bytes per parameter for a float32 momentum buffer (8 for Adam's two), a
# model of a billion parameters carries gigabytes of optimizer state.

# %%
fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7.0, 6.6), height_ratios=(1, 1.4))  # stacked: fits a 560-px output area
ax1.bar(["model\nfloat32", "buffer\nfloat32", "buffer 8-bit\nblocks 256", "buffer 8-bit\nblocks 2048"],
        [4 * count_parameters(mlp(seed=0)), state32, state8, state8_paper],
        color=[GREY, SKY_BLUE, BLUE, VERMILLION])
ax1.set_ylabel(f"bytes (digits MLP, {count_parameters(mlp(seed=0)):,} parameters)")
ax1.set_title("training memory")
for (code, block), shift, color in (((c, VARIANTS[c]), sh, col) for c, sh, col in
                                    (("linear", -0.15, BLUE), ("dynamic", 0.15, VERMILLION))):
    ax2.plot(np.array(MOMENTUM_SEEDS) + shift, diff_by[code][1], "o", color=color,
             label=f"{code}, blocks of {block}: one seed")
    ax2.errorbar(len(MOMENTUM_SEEDS) + 0.5 + shift, *mean_ci(diff_by[code][1]), fmt="s", color=color, capsize=4,
                 markeredgecolor="k", label=f"{code}: mean, 95 % interval")
ax2.axhline(0.5, color="k", linestyle="--", linewidth=1, label="goal: mean difference <= 0.5")
ax2.axhline(0, color="0.6", linewidth=0.8)
ax2.set_xticks([*MOMENTUM_SEEDS, len(MOMENTUM_SEEDS) + 0.5])
ax2.set_xticklabels([*(str(s) for s in MOMENTUM_SEEDS), "mean"])
ax2.set_xlabel("seed")
ax2.set_ylabel("full precision minus 8-bit (points)")
ax2.set_title("test accuracy difference, paired by seed (one image = 0.22 points)")
low = min(min(diff_by[c][1].min(), sum(mean_ci(diff_by[c][1])) - 2 * mean_ci(diff_by[c][1])[1]) for c in VARIANTS)
ax2.set_ylim(low - 0.15, max(max(diff_by[c][1].max() for c in VARIANTS), 0.5) + 0.9)  # room for the legend
ax2.legend(loc="upper right", fontsize=8.5, ncols=2)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
#
# * Trained quantization (Han et al., 2016, section 3.3): the gradient of a shared value is the
#   **sum** of its weights' gradients, $\partial L/\partial C_c = \sum_{I_{ij}=c} \partial L/\partial W_{ij}$, checked against
#   autograd (to 1e-12) and finite differences (to 1e-7). Fine-tuning the centroids for 3 epochs,
#   the rate chosen on validation, gained over untrained k-means sharing 2.36 ± 2.10 test points
#   at 2 bits (an interval that barely excludes 0, one of four uncorrected comparisons) and
#   0.98 ± 0.54 at 3 bits (five seeds, paired); at 4 and 5 bits the intervals contain 0. Against
#   a control that spends the same 3 epochs training the float networks and then shares them
#   untrained, no difference is detected at any width (3 bits: 0.31 ± 1.45 points): these seeds do
#   not separate training the codebook from training longer.
# * Per-group int4: codes and zero points 4 bits each, two to a byte (low half first), a float16
#   scale per group: $4 + 20/g$ bits per weight, counted from the tensors; at $g = 32$ this network with
#   its float32 biases takes 4,166 bytes against 26,280 in float32 (6.31 times smaller), and written to
#   a file with its shapes and read back it is 4,193 bytes and computes bit for bit the same outputs. Every weight stays within $s/2$ of its group; the RMS error
#   grows with $g$ (1.78 times from 8 to a 64-weight row), while the network's test accuracy with every
#   layer in int4 drops by at most 0.31 points on average at every $g$ tried, each interval containing 0.
#   A layer with 4-bit weights and float activations unpacks and multiplies in float32.
# * `torch.ao.quantization` in torch 2.13 warns that it is deprecated with removal announced for 2.10,
#   and points to torchao. torchao 0.18 installed here exposes `quantize_` with its configurations, QAT
#   and PT2E. Its int8 configurations quantize the course's network in one call (codes equal to a
#   symmetric per-row quantizer with $s = \max|w|/127.5$). With activations quantized too, torch 2.13's
#   `_int_mm` gives exact integer sums on any CPU at default settings (oneDNN only with AVX-512 VNNI,
#   else an exact loop; PR #136942; checked here with oneDNN switched off), and the five networks agree
#   with float on at least 449 of 450 test images. Its stable `Int4WeightOnlyConfig` refuses here in
#   every packing format (two need the `mslk` package, one has no CPU kernel, one needs CUDA) and `IntxWeightOnlyConfig` stores one code per byte; the prototype
#   `PrototypeInt4WeightOnlyConfig` packs two codes a byte (float32 scale and zero) on the two layers
#   with a multiple of 16 outputs and refuses the 10-output layer.
# * SGD's momentum buffer is as large as the model. Stored in 8 bits, block-wise, it takes about a
#   quarter of a float32 buffer (3.93 times less for the 64-64-32-10 MLP with blocks of 256). The
#   linear code with blocks of 256 (the variant behind `momentum_state_8bit_acc_drop_pt`) sent 19.2 % of one
#   buffer's nonzero entries to 0 (lesson 11's 64-300-100-10, seed 0, first layer, after one full-batch
#   step with learning rate 0: its gradient); Dettmers' dynamic tree type (a sign bit, a run of zeros for
#   the decimal exponent, a linear fraction; blocks of 2,048 as in the paper) sent 0.4 %.
#   Training the 64-64-32-10 MLP with either showed no detectable cost: over eight paired seeds, both runs
#   computing in float64 and differing only in the rounding of the carried buffer, the 95 %
#   intervals of the mean difference are [-0.27, +0.16] (linear, below 0.5) and [-0.69, +0.30]
#   points (dynamic); single seeds differ by up to five images, and the two variants
#   (linear/256 against dynamic/2048: code and block size changed together) could not be told
#   apart. That protocol is kept from an earlier version of lesson 11 that read these test images.
#
# ## Exercises
#
# ### Exercise 1 (recall)
#
# A 4096 × 4096 weight matrix of a language model is stored in per-group int4 with groups of 128:
# packed 4-bit codes, a float16 scale and a 4-bit zero point (two to a byte) per group. How many
# bytes does it take? Give `bytes_1` as an integer.

# %% nbgrader={"grade": false, "grade_id": "ex13_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
n_1 = 4096 * 4096
bytes_1 = n_1 // 2 + 2 * n_1 // 128 + n_1 // (2 * 128)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex13_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.quantization_practice.int4_bytes(bytes_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# Pack the six 4-bit codes `3, 12, 7, 0, 15, 9` two to a byte, as section 3 does. Give `bytes_2` as a
# list of three integers.

# %% nbgrader={"grade": false, "grade_id": "ex13_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
bytes_2 = pack(torch.tensor([3, 12, 7, 0, 15, 9], dtype=torch.uint8)).tolist()
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex13_2_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.quantization_practice.packed_bytes(bytes_2)

# %% [markdown]
# ### Exercise 3 (implement)
#
# Write `centroid_grad(weight_grad, index, k)`: the gradient of each of the `k` centroids, a tensor of
# shape `(k,)`, from the gradient of the weights `weight_grad` and their cluster indices `index` (two
# tensors of one shape). A centroid with no weights gets 0. Do not call `trained_sharing`: the check
# refuses an answer that does.

# %% nbgrader={"grade": false, "grade_id": "ex13_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def centroid_grad(weight_grad, index, k):
    ### BEGIN SOLUTION
    return torch.zeros(k, dtype=weight_grad.dtype).index_add_(0, index.reshape(-1), weight_grad.reshape(-1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex13_3_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.quantization_practice.centroid_grad(centroid_grad)
### BEGIN HIDDEN TESTS
_g = torch.Generator().manual_seed(131)
for _shape, _k in [((300,), 7), ((4, 9, 3), 16), ((64, 32), 32), ((5,), 9)]:  # the last: empty clusters
    _index = torch.randint(0, _k, _shape, generator=_g)
    _wg = torch.randn(_shape, generator=_g, dtype=torch.float64)
    _want, _size = torch.zeros(_k, dtype=torch.float64), torch.zeros(_k, dtype=torch.float64)
    for _c, _w in zip(_index.flatten().tolist(), _wg.flatten().tolist(), strict=True):
        _want[_c] += _w
        _size[_c] += abs(_w)
    _got = centroid_grad(_wg.clone(), _index.clone(), _k)
    assert isinstance(_got, torch.Tensor) and _got.shape == (_k,), "centroid_grad: a tensor of shape (k,)"
    assert bool(((_got.double() - _want).abs() <= 1e-6 * _size + 1e-12).all()), "centroid_grad: the sums by cluster"
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (explore)
#
# A **symmetric** per-group code needs no zero point: per group, $s = \max|w|/7$, stored as float16,
# to the nearest value (`.to(torch.float16).double()`; section 3 rounds up, here round to nearest: the
# clamp covers a scale rounded down), $q = \operatorname{clamp}(\operatorname{round}(w/s), -7, 7)$, $\hat w = s q$; a
# group of zeros stays zero (15 levels instead of 16, and no zero point to store). Write
# `symmetric_round_trip(w, g)`, returning $\hat w$ with the shape of `w` (groups of `g` along each
# row). Replace every weight matrix of the five networks by its round trip with groups of 32, and give
# the five networks' **validation** accuracies in percent, seeds 0 to 4, as the list `sym_val_4`.
# Compare them with the asymmetric codes' validation accuracies `int4_val[32]` (section 3, whose
# scales are rounded up rather than to nearest: a difference of at most one float16 step), paired by
# seed: the difference symmetric − asymmetric with its 95 % interval (`pm`). Set `verdict_4` to
# `"symmetric"`, `"asymmetric"` or `"no difference detected"` (the interval contains 0).

# %% nbgrader={"grade": false, "grade_id": "ex13_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
def symmetric_round_trip(w, g):
    x = w.detach().reshape(w.shape[0], -1, g)
    s = (x.abs().amax(dim=2, keepdim=True) / 7).to(torch.float16).double()
    s = torch.where(s > 0, s, torch.ones_like(s))  # an all-zero group: every code 0
    return (torch.clamp(torch.round(x / s), -7, 7) * s).reshape(w.shape)


sym_val_4 = []
for net in nets:
    sym = copy.deepcopy(net)
    with torch.no_grad():
        for i in weight_layers:
            sym[i].weight.copy_(symmetric_round_trip(net[i].weight, 32))
    sym_val_4.append(val_acc(sym))
d_4 = np.subtract(sym_val_4, int4_val[32])
print(f"symmetric - asymmetric on validation: {pm(d_4)} points (paired by seed)")
half_4 = T95 * d_4.std(ddof=1) / np.sqrt(len(SEEDS))
verdict_4 = "no difference detected" if abs(d_4.mean()) <= half_4 else ("symmetric" if d_4.mean() > 0 else "asymmetric")
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex13_4_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.quantization_practice.symmetric_groups(symmetric_round_trip, sym_val_4, verdict_4, int4_val[32], nets, splits)

# %% [markdown]
# ### Exercise 5 (apply)
#
# In Dettmers' dynamic tree type (section 5), which value, as a fraction of its block's absmax,
# does the bit pattern `1001 0110` of the type stand for (the pattern itself, not a stored code,
# which indexes the sorted map)? Work it out by hand from the bits (sign, run of zeros, indicator
# bit, fraction) and give the number as `tree_value_5` (e.g. `-0.5`) to at least 4 significant
# figures, not code that calls the library or section 5's `dynamic_tree_value` (use that only to
# check your hand result afterwards).

# %% nbgrader={"grade": false, "grade_id": "ex13_5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
tree_value_5 = -(10**-2) * (0.1 + 0.9 * (0b0110 + 0.5) / 2**4)  # sign 1; e = 2 zeros; indicator; f = 4 bits j = 6
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex13_5_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.quantization_practice.dynamic_tree_value(tree_value_5)
