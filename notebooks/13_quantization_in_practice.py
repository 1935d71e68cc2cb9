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
# # Lesson 13: Quantization in practice: trained codebooks, 4-bit groups and the production route
#
# Lesson 11 shared weights by k-means and kept the centroids as k-means left them. Deep
# Compression trains them. This lesson does that, and then turns to two things practitioners
# use today: 4-bit weights with one scale per small group, packed two to a byte (the kind of
# format that AWQ and GPTQ produce for large language models' weights); and torchao, the library PyTorch now sends
# quantization users to, tried on this course's network on this CPU.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. derive the gradient of a shared value (a centroid) from the gradients of the weights that
#    share it, write it with `index_add_`, and check it against autograd and finite differences;
# 2. fine-tune the centroids of a shared network (trained quantization) and compare it with
#    untrained sharing at 2 to 5 bits, paired by seed, saying only what the intervals support;
# 3. quantize a weight matrix to 4-bit codes per group of $g$ weights with a float16 scale and a
#    4-bit zero point, pack two codes in a byte with bit operations, and count its bytes;
# 4. measure the error and the accuracy against the group size, and run a layer with 4-bit
#    weights and float activations;
# 5. say what the installed PyTorch and torchao offer for quantization, checked by code, and
#    quantize this course's network with one call.
#
# ## Prerequisites
#
# Lesson 09 (scale $s$, zero point $z$, codes $q$, the bound $|w - \hat w| \le s/2$, per-channel
# quantization and its section 12 on `torch.ao.quantization`), lesson 11's section 3 (weight
# sharing by k-means) and lesson 12's section 1 (a validation part for choices, five seeds,
# 95 % intervals). About 120 minutes: about 45 to read and run the sections (some 2,900 words of
# prose), about 75 for the four exercises.

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
from lessons_lib import checks, int4_groups, integer_inference, trained_sharing
from lessons_lib.batched_training import train_many
from lessons_lib.models import mlp
from lessons_lib.plotting import METHOD_COLORS
from lessons_lib.splits import load_digits_splits
from lessons_lib.training import accuracy

lessons_lib.setup()
torch.set_default_dtype(torch.float64)  # rounding differences between CPUs stay far below the printed digits
BLUE, VERMILLION, GREEN = METHOD_COLORS["gd"], METHOD_COLORS["momentum"], METHOD_COLORS["nesterov"]
GREY = "#999999"  # Okabe-Ito grey

# %% [markdown]
# ## 1. Five networks and three parts of the data
#
# The network is lesson 09's $64 \to 64 \to 32 \to 10$ MLP, five copies (seeds 0 to 4), trained
# side by side on the training part of lesson 12's split (SGD, $\eta = 0.1$, $\beta = 0.9$, 20
# epochs of minibatches of 64). Every choice below is made on the 270 validation images; the 450
# test images give the reported figures, as a mean over the five seeds with its 95 % interval
# $\bar x \pm t_{0.975,4}\,\hat\sigma/\sqrt 5$. One test image is $100/450 = 0.22$ points.

# %%
splits = load_digits_splits(validation_size=0.2, seed=0)
fit = (splits.X_train, splits.y_train)
SEEDS = list(range(5))
T95 = stdtrit(len(SEEDS) - 1, 0.975)


def pm(values, digits=2):
    """'mean ± half-width of the 95 % t-interval' of values in points."""
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.{digits}f} ± {T95 * v.std(ddof=1) / np.sqrt(v.size):.{digits}f}"


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

# %%
fig, (ax, ax_d) = plt.subplots(1, 2, figsize=(11, 3.6), width_ratios=(3, 2))
for offset, (name, color, marker) in zip((-0.06, 0.06), [("untrained", VERMILLION, "s"), ("trained", BLUE, "o")],
                                         strict=True):
    means = [np.mean(acc[name][n]) for n in BITS]
    halves = [T95 * np.std(acc[name][n], ddof=1) / np.sqrt(len(SEEDS)) for n in BITS]
    ax.errorbar(np.array(BITS) + offset, means, yerr=halves, color=color, marker=marker, capsize=4,
                label=f"{name} sharing (mean, 95 % interval)")
f_mean, f_half = np.mean(float_test), T95 * np.std(float_test, ddof=1) / np.sqrt(len(SEEDS))
ax.axhspan(f_mean - f_half, f_mean + f_half, color=GREY, alpha=0.3, label="float, 95 % interval")
ax.axhline(f_mean, color="black", linestyle=":", label="float (mean)")
ax.set_xticks(BITS)
ax.set_xlabel("bits n per weight index ($k = 2^n$ shared values per layer)")
ax.set_ylabel("test accuracy (%)")
ax.set_title("k-means sharing, untrained and fine-tuned (5 seeds)")
ax.legend(loc="lower right")
ax_d.errorbar(BITS, [np.mean(diff[n]) for n in BITS],
              yerr=[T95 * np.std(diff[n], ddof=1) / np.sqrt(len(SEEDS)) for n in BITS],
              color=BLUE, marker="o", capsize=4, label="trained - untrained (mean, 95 % interval)")
ax_d.axhline(0, color="black", linestyle=":", label="no difference")
ax_d.set_xticks(BITS)
ax_d.set_xlabel("bits n per weight index")
ax_d.set_ylabel("difference in test accuracy (points)")
ax_d.set_title("trained - untrained, paired by seed")
ax_d.legend(loc="upper right")
fig.tight_layout()
plt.show()

# %% [markdown]
# What the paired intervals (right panel) support, on these five seeds and 450 images (the unpaired
# intervals of the left panel overlap at 3 bits; the pairing by seed removes the spread between
# networks): at 2 bits, untrained sharing loses 4.76 ± 2.20 points against float, and fine-tuning the
# centroids recovers 2.36 ± 2.10 of them (10.6 test images a network); at 3 bits it gains
# 0.98 ± 0.54 points. These are four comparisons at 95 % each, not corrected for multiplicity: the
# 2-bit interval barely excludes 0 (its lower end is 0.26 points), and the 3-bit result is the firm
# one. At 4 and 5 bits no difference between untrained sharing and float is detected (0.04 ± 0.30 and
# 0.22 ± 0.39 points), and the gains of fine-tuning (0.71 ± 0.96, 0.40 ± 0.60) have intervals that
# contain 0: no effect is shown there. Trained sharing at 4 and 5 bits even sits above float on
# average, within intervals that contain 0; part of any such gain may be the extra epochs rather than
# the codebook, which this comparison does not separate. Only the centroids and the indices need
# storing (with the float biases), as in lesson 11.
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
#
# ## Summary
#
# * Trained quantization (Han et al., 2016, section 3.3): the gradient of a shared value is the
#   **sum** of its weights' gradients, $\partial L/\partial C_c = \sum_{I_{ij}=c} \partial L/\partial W_{ij}$, checked against
#   autograd (to 1e-12) and finite differences (to 1e-7). Fine-tuning the centroids for 3 epochs,
#   the rate chosen on validation, gained over untrained k-means sharing 2.36 ± 2.10 test points
#   at 2 bits (an interval that barely excludes 0, one of four uncorrected comparisons) and
#   0.98 ± 0.54 at 3 bits (five seeds, paired); at 4 and 5 bits the intervals contain 0.
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
#   with float on at least 449 of 450 test images. Its stable `Int4WeightOnlyConfig` refuses on this CPU
#   in every packing format and `IntxWeightOnlyConfig` stores one code per byte; the prototype
#   `PrototypeInt4WeightOnlyConfig` packs two codes a byte (float32 scale and zero) on the two layers
#   with a multiple of 16 outputs and refuses the 10-output layer.
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
# tensors of one shape). A centroid with no weights gets 0.

# %% nbgrader={"grade": false, "grade_id": "ex13_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def centroid_grad(weight_grad, index, k):
    ### BEGIN SOLUTION
    return torch.zeros(k, dtype=weight_grad.dtype).index_add_(0, index.reshape(-1), weight_grad.reshape(-1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex13_3_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.quantization_practice.centroid_grad(centroid_grad)

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
