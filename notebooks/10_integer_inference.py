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
# # Lesson 10: Integer inference, measured
#
# Lessons 06 to 08 made the *file* of a network small: fewer bits per weight, fewer weights.
# The network still computed in floating point. This lesson makes it *compute* in integers:
# 8-bit weights **and** activations, products summed in 32-bit integers, and every rescaling
# done by an integer multiplication and a shift, with not one float operation between the
# input and the output. Then it measures, on this machine's CPU, what that and channel
# pruning buy in speed, and where they buy nothing.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. calibrate the range of every activation with an observer (min/max and percentile) on
#    data from the training part, and make 8-bit scales and zero points from it;
# 2. write a real multiplier $M = s_w s_x / s_y$ as an integer $m_0$ and a shift, and bound its error;
# 3. run a network with integers only (int8 × uint8 products accumulated in int32, biases in
#    int32 at scale $s_w s_x$, requantization by $m_0$ and a shift, ReLU as a clamp), bit for bit
#    equal to a reference implementation, and compare its accuracy with float's over five seeds;
# 4. fold BatchNorm into the convolution before it, and say when two linear layers merge into one;
# 5. measure speed honestly (median of repeated runs, with the spread) and explain why an int8
#    product several times as fast as float32 does not make a small network as much faster;
# 6. turn channel pruning into a genuinely smaller dense network, and compare its latency,
#    multiply-accumulates and bytes with the original, and with unstructured sparsity.
#
# ## Prerequisites
#
# Lesson 06 (scale $s$, zero point $z$, code $q$, symmetric per-channel weights), lesson 07
# (structured pruning by the norm of a channel) and lesson 03 (SGD with momentum, used to
# fine-tune). About 60 minutes.

# %%
import copy
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy import stats
from torch import nn
from torch.nn import functional as F

import lessons_lib
from lessons_lib import channel_pruning, checks, folding, integer_inference, observers, pruning
from lessons_lib.compression import float32_size_bytes
from lessons_lib.models import mlp, small_cnn
from lessons_lib.progress import progress
from lessons_lib.splits import load_digits_splits
from lessons_lib.timing import time_call
from lessons_lib.training import accuracy, train

lessons_lib.setup()
torch.set_default_dtype(torch.float64)  # float numbers printed here are the same on every CPU

# %% [markdown]
# ## 1. Three parts of the data, five networks
#
# Every choice in this lesson (an observer, a pruning sparsity) is made on a **validation**
# part carved out of the training images, stratified by class; the **test** part (the same
# 450 images as in lessons 06 to 08) is used only for the figures reported, once per choice
# made. Networks train on the remaining training images alone; the observers calibrate on
# training images too.
#
# The network is the digits MLP of lesson 06 made wider, $64 \to 256 \to 128 \to 10$: its
# layers are large enough that the time of a product can be measured against everything
# else a forward pass does (section 9). Five of them, seeds 0 to 4, trained as in lessons
# 06 to 08 (SGD with $\beta = 0.9$, minibatches of 64): 12 epochs at $\eta = 0.1$, then 3 at $\eta = 0.01$ to
# settle. A figure is the mean over the five with its 95 % interval $\bar x \pm t_{0.975,4}\,\hat\sigma/\sqrt5$
# ($t_{0.975,4} = 2.776$).

# %%
splits = load_digits_splits(validation_size=0.2, seed=0)
fit = (splits.X_train, splits.y_train)
n_train, n_val, n_test = len(splits.y_train), len(splits.y_val), len(splits.y_test)
print(f"training {n_train}, validation {n_val}, test {n_test} images")
print(f"one validation image = {100 / n_val:.2f} points, one test image = {100 / n_test:.2f} points")
class_share = [np.bincount(y.numpy(), minlength=10) / len(y) for y in (splits.y_train, splits.y_val, splits.y_test)]
worst_gap = max(np.abs(class_share[0] - class_share[i]).max() for i in (1, 2))
print(f"largest difference of a class's share between parts: {100 * worst_gap:.2f} points (stratified)")
assert (n_train, n_val, n_test) == (1077, 270, 450) and worst_gap < 0.01
assert len(set(map(tuple, torch.cat([splits.X_train, splits.X_val, splits.X_test]).tolist()))) >= 1790  # disjoint

SEEDS = range(5)
T95 = stats.t.ppf(0.975, len(SEEDS) - 1)


def pm(values, digits=2):
    """'mean ± half-width of the 95 % interval' of values given in points."""
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.{digits}f} ± {T95 * v.std(ddof=1) / np.sqrt(v.size):.{digits}f}"


nets = {}
for seed in progress(SEEDS, desc="five networks"):
    nets[seed] = mlp(hidden=(256, 128), seed=seed)
    train(nets[seed], fit, epochs=12, lr=0.1, momentum=0.9, batch_size=64, seed=seed, progress=False)
    train(nets[seed], fit, epochs=3, lr=0.01, momentum=0.9, batch_size=64, seed=seed, progress=False)
float_test = [100 * accuracy(nets[s], splits.X_test, splits.y_test) for s in SEEDS]
print("float test accuracy, seeds 0..4:", "  ".join(f"{a:.2f}" for a in float_test), f"; mean {pm(float_test)} %")
assert f"{T95:.3f}" == "2.776"

# %% [markdown]
# ## 2. Observers: the range of each activation
#
# To compute with 8-bit activations, each layer's output needs a scale $s$ and zero point $z$
# fixed *before* deployment (static quantization). An **observer** runs the float network on
# calibration inputs and records the range $[r_{\min}, r_{\max}]$ of an activation; the affine
# formulas of lesson 06 then give $s = (r_{\max} - r_{\min})/(2^n - 1)$ and $z = \operatorname{round}(-r_{\min}/s)$.
#
# * **min/max** takes the smallest and largest value seen. Nothing is clipped, but one rare
#   large value stretches the grid for all the others.
# * **percentile** takes the $(100 - P)$-th and $P$-th percentiles: values beyond are clipped to the
#   range, the rest get a finer grid.
#
# After a ReLU every value is $\ge 0$, so $r_{\min} = 0$ and $z = 0$. Both observers, written out, on
# the first hidden layer of seed 0's network, calibrated on 512 training images:

# %%
def minmax_range(values):
    """[r_min, r_max]: the smallest and largest value, the range widened to contain 0."""
    return min(values.min().item(), 0.0), max(values.max().item(), 0.0)


def percentile_range(values, p):
    """[r_min, r_max]: the (100 - p)-th and p-th percentiles (linear interpolation), widened to contain 0."""
    lo, hi = np.percentile(values.numpy().ravel(), [100 - p, p])
    return min(lo, 0.0), max(hi, 0.0)


def affine_params(r_min, r_max, bits=8):
    """Scale and zero point of bits-bit affine codes [0, 2^bits - 1] for the range [r_min, r_max]."""
    s = (r_max - r_min) / (2**bits - 1)
    return s, round(-r_min / s)


X_cal = splits.X_train[:512]
net0 = nets[0]
with torch.no_grad():
    h1 = torch.relu(net0[0](X_cal))  # the first hidden layer's activations, (512, 256)
for name, (r_min, r_max), observer in [
        ("min/max", minmax_range(h1), observers.MinMaxObserver()),
        ("percentile 99.99", percentile_range(h1, 99.99), observers.PercentileObserver(99.99))]:
    s, z = affine_params(r_min, r_max)
    clipped = (h1 > r_max).double().mean().item()
    print(f"{name:17s}: range [{r_min:.4f}, {r_max:.4f}], s = {s:.6f}, z = {z}, values clipped {100 * clipped:.3f} %")
    s_ref, z_ref = observer.update(h1[:200]).update(h1[200:]).qparams(8)  # the library's, in two batches
    assert abs(s - s_ref) <= 1e-15 * s and z == z_ref == 0
assert h1.numel() == 512 * 256 == 131_072

# %% [markdown]
# Most activations sit near zero and a few are large: the histogram of those 131,072 values
# (512 images × 256 units) on a logarithmic count axis, with both ranges marked.

# %%
BLUE, VERMILLION, GREEN, ORANGE = "#0072B2", "#D55E00", "#009E73", "#E69F00"  # Okabe-Ito
fig, ax = plt.subplots(figsize=(8, 3.2))
counts, edges = np.histogram(h1.numpy().ravel(), bins=120)
ax.stairs(counts, edges, fill=True, color=BLUE)  # one filled outline: quicker to draw than 120 bars
ax.set_yscale("log")
ax.axvline(minmax_range(h1)[1], color=VERMILLION, linestyle="--", label="min/max: $r_{\\max}$")
ax.axvline(percentile_range(h1, 99.99)[1], color=GREEN, linestyle=":", label="percentile 99.99: $r_{\\max}$")
ax.set_xlabel("activation after the first ReLU (seed 0)")
ax.set_ylabel("count")
ax.legend()
plt.show()

# %% [markdown]
# ## 3. The multiplier as an integer and a shift
#
# Take a layer $y = Wx + b$ with symmetric per-channel weights $W_{jk} \approx s_{w,j}\, q_{w,jk}$ (lesson 06),
# input codes $x_k \approx s_x (q_{x,k} - z_x)$ and output codes $y_j \approx s_y (q_{y,j} - z_y)$. Then
#
# $$q_{y,j} = z_y + \frac{s_{w,j}\, s_x}{s_y}\Big(\underbrace{\textstyle\sum_k q_{w,jk}\,(q_{x,k} - z_x) + q_{b,j}}_{\text{an integer: } \mathrm{acc}_j}\Big),
# \qquad q_{b,j} = \operatorname{round}\!\Big(\frac{b_j}{s_{w,j}\, s_x}\Big),$$
#
# so the bias is stored as an int32 at scale $s_w s_x$, and everything is an integer except one
# real number per output channel, the **requantization multiplier** $M_j = s_{w,j}\, s_x / s_y$ (in this
# lesson $M$ is this multiplier, not lesson 07's pruning mask). Integer hardware writes it as
#
# $$M = m_0 \cdot 2^{-\text{shift}}, \qquad 2^{30} \le m_0 < 2^{31},$$
#
# from $M = f\cdot 2^e$ with $f \in [\tfrac12, 1)$: $m_0 = \operatorname{round}(f\, 2^{31})$ and
# $\text{shift} = 31 - e$. Then $\operatorname{round}(\mathrm{acc}\cdot M) = (\mathrm{acc}\cdot m_0 + 2^{\text{shift}-1}) \gg \text{shift}$,
# an int64 product, an addition and a right shift. Because $m_0 \ge 2^{30}$, rounding it
# errs by at most $\tfrac12$ in $2^{30}$: the relative error of $M$ is at most $2^{-31} \approx 4.7\cdot 10^{-10}$.

# %%
def quantize_multiplier(M):
    """m0 in [2^30, 2^31) and shift with M = m0 / 2^shift (to a relative error of at most 2^-31)."""
    f, e = math.frexp(M)  # M = f * 2^e, f in [0.5, 1)
    m0 = round(f * 2**31)
    if m0 == 2**31:  # f rounded up to 1
        m0, e = 2**30, e + 1
    return m0, 31 - e


rng = np.random.default_rng(0)
M_test = 10.0 ** rng.uniform(-6, 0, 10_000)
worst = 0.0
for M in M_test:
    m0, shift = quantize_multiplier(M)
    assert 2**30 <= m0 < 2**31
    worst = max(worst, abs(m0 / 2**shift - M) / M)
m0_ref, shift_ref = integer_inference.quantize_multiplier(M_test)
assert all(quantize_multiplier(M) == (a, b) for M, a, b in zip(M_test, m0_ref, shift_ref, strict=True))
print(f"10,000 multipliers in [1e-6, 1]: largest relative error {worst:.2e} <= 2^-31 = {2.0**-31:.2e}; "
      "identical to the library's")
assert worst <= 2.0**-31
print("M = 0.0072:", quantize_multiplier(0.0072))

# %% [markdown]
# ## 4. One layer in integers
#
# The product of uint8 activation codes by int8 weight codes, summed in int32, is
# `torch._int_mm` (it runs on the CPU in the installed PyTorch). A sum of at most 256
# products of magnitude at most $255 \cdot 127$ stays below $2^{24}$, far from the int32 limit, and far
# below $2^{53}$: a float64 product of the same codes is exact too, which gives an independent check.
# Then the requantization, written out: multiply, add the rounding term, shift, add $z_y$, clamp.
# The clamp at $z_y$ (the code of the real 0) *is* the ReLU.

# %%
def requantize(acc, m0, shift, z_y, q_min, q_max):
    """Output codes from int32 accumulators: round(acc * m0 / 2^shift) + z_y, clamped, in int64."""
    y = (acc.to(torch.int64) * m0 + (1 << (shift - 1))) >> shift
    return (y + z_y).clamp(q_min, q_max)


inet0 = integer_inference.convert(net0, X_cal, observer="minmax")
layer = inet0.layers[0]
x_q = inet0.quantize_input(splits.X_val)  # uint8 codes of the validation images
acc = torch._int_mm(x_q, layer.w_q.t()) + layer.b_q  # uint8 x int8 -> int32, plus the int32 bias
exact = x_q.double() @ layer.w_q.double().t() + layer.b_q.double()  # the same sum in float64, exact
assert 256 * 255 * 127 < 2**24 and max(L.w_q.shape[1] for L in inet0.layers) == 256
assert acc.dtype == torch.int32 and torch.equal(acc.double(), exact)
m0s, shifts = layer.m0.tolist(), layer.shift.tolist()
codes = torch.stack([requantize(acc[:, j], m0s[j], shifts[j], layer.zero_point, layer.q_min, layer.q_max)
                     for j in range(acc.shape[1])], dim=1)
M_real = (layer.scale_w * layer.scale_in / layer.scale_out).numpy()
ideal = torch.clamp(torch.round(acc.double() * torch.from_numpy(M_real)) + layer.zero_point, 0, 255)
differ = int((codes.double() != ideal).sum())
print(f"first layer, {acc.numel():,} outputs: int32 sums equal to the exact float64 ones; codes from m0 and "
      f"the shift differ from round(acc * M) in {differ} (at most one code each: "
      f"{int((codes.double() - ideal).abs().max())})")
assert differ <= 5 and (codes.double() - ideal).abs().max() <= 1
assert torch.equal(codes.to(torch.uint8), layer(x_q))  # the library's layer: the same codes

# %% [markdown]
# ## 5. The integer-only forward pass
#
# The whole network: quantize the input once (the pixels $k/16$ to uint8 codes), then for each
# layer one integer product and one requantization, and at the end uint8 codes of the ten
# logits, whose largest is the class. Written out for the MLP, and checked **bit for bit**
# against the library's reference (`integer_inference.IntegerNetwork.forward_codes`), for all
# five networks on the validation and test images:

# %%
def integer_forward(inet, x_q):
    """Codes of the logits from uint8 input codes, with integers only."""
    a = x_q
    for L in inet.layers:
        acc = torch._int_mm(a, L.w_q.t()) + L.b_q  # int32
        y = (acc.to(torch.int64) * L.m0 + (torch.ones_like(L.shift) << (L.shift - 1))) >> L.shift
        a = (y + L.zero_point).clamp(L.q_min, L.q_max).to(torch.uint8)  # ReLU = clamp at z_y
    return a


def observer_accuracies(name, X, y):
    """Accuracy (points) of each seed's integer network calibrated with observer `name`, checked bit for bit."""
    accs = []
    for seed in SEEDS:
        inet = integer_inference.convert(nets[seed], X_cal, observer=name, percentile=99.99)
        out = integer_forward(inet, inet.quantize_input(X))
        assert torch.equal(out, inet.forward_codes(inet.quantize_input(X)))
        accs.append(100 * (out.argmax(dim=1) == y).double().mean().item())
    return accs


float_val = [100 * accuracy(nets[s], splits.X_val, splits.y_val) for s in SEEDS]
val = {name: observer_accuracies(name, splits.X_val, splits.y_val) for name in observers.OBSERVERS}
print("validation accuracy, seeds 0..4 (points)")
print("  float      ", "  ".join(f"{a:.2f}" for a in float_val))
for name, accs in val.items():
    print(f"  {name:11s}", "  ".join(f"{a:.2f}" for a in accs), f"  mean {np.mean(accs):.2f}")
chosen = max(observers.OBSERVERS, key=lambda name: (np.mean(val[name]), name == "minmax"))
print(f"chosen on validation: {chosen}")
int_test = observer_accuracies(chosen, splits.X_test, splits.y_test)
drop_int = np.array(float_test) - np.array(int_test)
print(f"test accuracy, integer ({chosen}): {pm(int_test)} %; float: {pm(float_test)} %")
print("drop from float to integer per seed (points):", "  ".join(f"{d:+.2f}" for d in drop_int),
      f"; mean {pm(drop_int)}")
print(f"bit for bit equal to the library's forward pass: every seed, {n_val + n_test} images each")
assert val["minmax"] == val["percentile"] == float_val and chosen == "minmax"
assert int_test == float_test  # the integer networks answer like the float ones on every test image count

# %% [markdown]
# At 8 bits the two observers give the same validation accuracy on every seed, equal to float's
# (a tie goes to min/max, the simpler), and the integer-only networks reach exactly the float networks'
# test accuracy on every seed: a drop of 0.00 points. Quantization error is there (the codes are
# not the float activations), but too small to move an answer among these 450 images. Exercise 4
# shows where the observer starts to matter.

# %% [markdown]
# ## 6. Convolution, and BatchNorm folded into it
#
# A convolution is the same integer product over patches: each output position multiplies a
# $c \times 3 \times 3$ patch of codes by the filter's codes (im2col). Padding must hold the code
# of the real 0, that is $z_x$. Max pooling needs no arithmetic at all: the map from values to
# codes is increasing, so the largest code belongs to the largest value.
#
# The small CNN of the course, with a **BatchNorm** after each convolution, trained on seed 0
# for 8 epochs. In evaluation mode BatchNorm is an affine map per channel,
# $\gamma_j (x_j - \mu_j)/\sqrt{\sigma_j^2 + \epsilon} + \beta_j$ ($\mu_j$, $\sigma_j^2$ its running mean and
# variance; $\beta_j$ here is BatchNorm's shift, not the momentum coefficient). Following a
# convolution $x_j = W_j * a + b_j$, it folds into the convolution's weights and bias:
#
# $$W'_j = \frac{\gamma_j}{\sqrt{\sigma_j^2 + \epsilon}}\, W_j, \qquad b'_j = \frac{\gamma_j\,(b_j - \mu_j)}{\sqrt{\sigma_j^2 + \epsilon}} + \beta_j .$$
#
# This is what "merging" layers means when a network is deployed: one layer where there were
# two, and the same outputs.

# %%
def fold_bn(conv, bn):
    """A copy of conv with the evaluation-mode BatchNorm bn after it folded into its weights and bias."""
    factor = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    folded = copy.deepcopy(conv)
    with torch.no_grad():
        folded.weight.copy_(conv.weight * factor[:, None, None, None])
        folded.bias.copy_((conv.bias - bn.running_mean) * factor + bn.bias)
    return folded


cnn = small_cnn(channels=(8, 16), seed=0, batchnorm=True)
train(cnn, fit, epochs=8, lr=0.05, momentum=0.9, batch_size=64, seed=0, progress=True, desc="CNN")
cnn.eval()
folded = nn.Sequential(cnn[0], fold_bn(cnn[1], cnn[2]), cnn[3], cnn[4], fold_bn(cnn[5], cnn[6]), *cnn[7:])
with torch.no_grad():
    gap = (cnn(splits.X_val) - folded(splits.X_val)).abs().max().item()
    gap_lib = (folding.fold_batchnorms(cnn)(splits.X_val) - folded(splits.X_val)).abs().max().item()
print(f"{len(cnn)} modules folded to {len(folded)}; largest logit difference before/after folding: "
      f"{'< 1e-12' if gap < 1e-12 else f'{gap:.1e}'}; against the library's fold_batchnorms: "
      f"{'< 1e-12' if gap_lib < 1e-12 else f'{gap_lib:.1e}'}")
assert gap < 1e-12 and gap_lib < 1e-12
# the BatchNorm is not the identity: leaving it out changes the answers
with torch.no_grad():
    unfolded = nn.Sequential(*[m for m in cnn if not isinstance(m, nn.BatchNorm2d)])
    bn_matters = (unfolded(splits.X_val) - cnn(splits.X_val)).abs().max().item()
print(f"dropping the BatchNorms instead changes the logits by up to {bn_matters:.1f}")
assert bn_matters > 1.0

# %% [markdown]
# The folded CNN in integers: the library's `conv2d_int` on codes equals a float64 convolution
# of the same codes exactly, and the whole network runs as in section 5 (seed 0 only, an
# illustration, not a comparison).

# %%
icnn = integer_inference.convert(folded, X_cal, observer="minmax")
conv_layer = icnn.layers[0]
img_q = icnn.quantize_input(splits.X_val).reshape(-1, 1, 8, 8)
acc_conv = integer_inference.conv2d_int(img_q, conv_layer.w_q, conv_layer.b_q, padding=1,
                                        pad_value=icnn.input_zero_point)
exact_conv = F.conv2d(img_q.double() - icnn.input_zero_point, conv_layer.w_q.double(), padding=1) \
    + conv_layer.b_q.double()[:, None, None] + icnn.input_zero_point * conv_layer.w_q.double().sum(dim=(1, 2, 3))[:, None, None]
assert torch.equal(acc_conv.double(), exact_conv)
print(f"first convolution, {acc_conv.numel():,} int32 sums: equal to float64 convolution of the codes")
cnn_float = 100 * accuracy(folded, splits.X_val, splits.y_val)
cnn_int = 100 * icnn.accuracy(splits.X_val, splits.y_val)
print(f"seed 0 CNN, validation accuracy: float {cnn_float:.2f} %, integer {cnn_int:.2f} %")

# %% [markdown]
# ## 7. Merging two linear layers, and why it rarely applies
#
# Two linear layers with **nothing** between them are one:
# $W_2(W_1 x + b_1) + b_2 = (W_2 W_1)\,x + (W_2 b_1 + b_2)$. A network almost never has that: a
# ReLU (or another non-linearity) sits between layers precisely because without it the two
# would collapse into one and the network would be no more expressive than a single layer.
# Where it does occur, in a layer factored into two thin ones (a low-rank layer), merging
# undoes the factoring: $64 \to 8 \to 10$ holds $64\cdot8 + 8\cdot10 = 592$ weights, merged $64 \cdot 10 = 640$.

# %%
torch.manual_seed(0)
first, second = nn.Linear(64, 8), nn.Linear(8, 10)
merged = folding.merge_linear(first, second)
with torch.no_grad():
    W = second.weight @ first.weight
    b = second.weight @ first.bias + second.bias
    x = splits.X_val
    gap_merge = (second(first(x)) - (x @ W.t() + b)).abs().max().item()
    gap_lib = (merged(x) - (x @ W.t() + b)).abs().max().item()
    gap_relu = (second(torch.relu(first(x))) - merged(x)).abs().max().item()
print(f"merged: largest difference {'< 1e-12' if max(gap_merge, gap_lib) < 1e-12 else gap_merge}; "
      f"with a ReLU between, the merged layer is off by up to {gap_relu:.2f}")
print(f"weights: {first.weight.numel() + second.weight.numel()} as two layers, {merged.weight.numel()} merged")
assert max(gap_merge, gap_lib) < 1e-12 and gap_relu > 0.1
assert (first.weight.numel() + second.weight.numel(), merged.weight.numel()) == (592, 640)

# %% [markdown]
# ## 8. What `torch._int_mm` accepts on this CPU
#
# Checked by code, not assumed: the installed PyTorch's `torch._int_mm` on the CPU takes a
# uint8 or int8 left matrix and an int8 right matrix and returns int32; the other way round,
# or with wider integers, it refuses. Small and odd shapes work (on GPUs it has had minimum
# sizes). One trap, found by these checks: a right-hand matrix with a single row made by
# transposing a column (the weight of a layer with one input, `w.t()` of shape $1 \times n$) has the
# strides $(1, 1)$; PyTorch calls it contiguous, and `torch._int_mm` returns wrong sums for it. A
# fresh row-major copy is right, which is what the library passes (`integer_inference._dense`).
# And `torch.nn.functional.unfold`, the usual im2col, is not implemented for uint8,
# which is why the library's convolution gathers its patches by slicing.

# %%
def int_mm_accepts(a_dtype, b_dtype, m=5, k=7, n=3):
    a = torch.randint(0, 100, (m, k)).to(a_dtype)
    b = torch.randint(-100, 100, (k, n)).to(b_dtype)
    try:
        out = torch._int_mm(a, b)
    except RuntimeError:
        return "refused"
    ok = torch.equal(out.long(), a.long() @ b.long())
    return f"{str(out.dtype).replace('torch.', '')}, exact: {ok}"


support = {f"{str(a).replace('torch.', '')} x {str(b).replace('torch.', '')}": int_mm_accepts(a, b)
           for a, b in [(torch.uint8, torch.int8), (torch.int8, torch.int8), (torch.int8, torch.uint8),
                        (torch.int32, torch.int8), (torch.int16, torch.int16)]}
for case, verdict in support.items():
    print(f"torch._int_mm {case:14s}: {verdict}")
shapes = [int_mm_accepts(torch.int8, torch.int8, m, k, n) for m, k, n in [(1, 1, 1), (1, 512, 512), (3, 17, 5)]]
print("shapes 1x1x1, 1x512x512, 3x17x5:", shapes)
gen = torch.Generator().manual_seed(0)
a_col = torch.randint(0, 100, (5, 1), generator=gen).to(torch.uint8)
w_col = torch.randint(-100, 100, (3, 1), generator=gen).to(torch.int8)  # a layer with one input, three outputs
b_row = w_col.t()  # 1 x 3, strides (1, 1)
b_copy = torch.empty(1, 3, dtype=torch.int8).copy_(b_row)  # the same numbers, strides (3, 1)
right = a_col.long() @ b_row.long()
print(f"1 x 3 right-hand side with strides {b_row.stride()} (contiguous: {b_row.is_contiguous()}): exact "
      f"{torch.equal(torch._int_mm(a_col, b_row).long(), right)}; as a row-major copy, strides {b_copy.stride()}: "
      f"exact {torch.equal(torch._int_mm(a_col, b_copy).long(), right)}; library: "
      f"exact {torch.equal(integer_inference.int_matmul(a_col, b_row).long(), right)}")
assert not torch.equal(torch._int_mm(a_col, b_row).long(), right)
assert torch.equal(torch._int_mm(a_col, b_copy).long(), right)
try:
    F.unfold(torch.zeros(1, 1, 4, 4, dtype=torch.uint8), 3)
    unfold_uint8 = "works"
except RuntimeError:
    unfold_uint8 = "not implemented"
print(f"unfold on uint8: {unfold_uint8}")
assert support["uint8 x int8"] == support["int8 x int8"] == "int32, exact: True"
assert support["int8 x uint8"] == support["int32 x int8"] == support["int16 x int16"] == "refused"
assert shapes == ["int32, exact: True"] * 3 and unfold_uint8 == "not implemented"

# %% [markdown]
# ## 9. Speed on this CPU, measured
#
# A latency is the **median** of many runs (51 here, after warm-up calls), with its spread, the
# interquartile range; one thread, as the course runs. Absolute times belong to this machine
# and this moment, so the timing cells below are marked for the notebook tests to ignore their
# output (`NBVAL_IGNORE_OUTPUT`): what you see is what *your* run measured. The text quotes the
# ratios of the machine that built the notebook, rounded.
#
# First the bare product, $256 \times 512$ by $512 \times 512$, int8 (int32 sums) against float32, at
# batch 256 and batch 1:

# %%
# NBVAL_IGNORE_OUTPUT
def product_timings(batch):
    gen = torch.Generator().manual_seed(batch)
    a8 = torch.randint(-127, 128, (batch, 512), generator=gen, dtype=torch.int8)
    b8 = torch.randint(-127, 128, (512, 512), generator=gen, dtype=torch.int8)
    a32, b32 = a8.float(), b8.float()
    return time_call(lambda: torch._int_mm(a8, b8)), time_call(lambda: a32 @ b32)


speed = {}
for batch in progress([256, 1], desc="products"):
    t_int, t_float = product_timings(batch)
    speed[f"matmul b{batch}"] = t_int.speedup_over(t_float)
    print(f"batch {batch:3d}: int8 {t_int}\n           float32 {t_float}\n"
          f"           int8 is {t_int.speedup_over(t_float):.1f} times as fast")

# %% [markdown]
# The integer *network* is another matter. Its float32 twin (the same network, cast to float32)
# against the integer-only pass, at batch 256; and the integer pass taken apart: how much of
# its time is the products, how much the requantizations (int64 multiply, add, shift, clamp,
# cast), for seed 0's network and for a wide one, $64 \to 512 \to 512 \to 10$ (freshly
# initialised: the time of a dense product does not depend on the values in it).

# %%
# NBVAL_IGNORE_OUTPUT
def network_timings(net, inet, X):
    f32 = copy.deepcopy(net).float().eval()
    x32, x_q = X.float(), inet.quantize_input(X)
    with torch.inference_mode():
        t_float = time_call(lambda: f32(x32))
        t_int = time_call(lambda: inet.forward_codes(x_q))
        acts = [x_q]  # each layer's input codes, to time the products alone
        for L in inet.layers[:-1]:
            acts.append(L(acts[-1]))
        t_mm = time_call(lambda: [torch._int_mm(a, L.w_q.t()) for a, L in zip(acts, inet.layers, strict=True)])
    return t_float, t_int, t_mm


X256 = splits.X_test[:256]
wide = mlp(hidden=(512, 512), seed=0)
inet_wide = integer_inference.convert(wide, X_cal)
for label, net, inet in progress([("seed 0, 64-256-128-10", net0, inet0), ("wide, 64-512-512-10", wide, inet_wide)],
                                 desc="networks"):
    t_float, t_int, t_mm = network_timings(net, inet, X256)
    speed[label] = t_int.speedup_over(t_float)
    print(f"{label}: float32 {t_float}\n    integer {t_int}; of which int8 products {t_mm}\n"
          f"    integer is {t_int.speedup_over(t_float):.2f} times as fast as float32; products "
          f"{100 * t_mm.median / t_int.median:.0f} % of its time")

# %% [markdown]
# On the machine that built this notebook, the int8 product was several times as fast as
# float32 at batch 256, and faster at batch 1 too. But seed 0's integer network was about as fast as its
# float32 twin, no more: its products take a minority of its time, and the requantizations, four
# or five passes over int64 tensors per layer, which a float network does not need at all,
# take the rest. In the wide network the products weigh more, and there the integer
# pass wins clearly (the README quotes the benchmark's figures). Integer
# inference pays where the products are large: deployed int8 kernels fuse the requantization
# into the product so that it costs almost nothing, which a chain of separate PyTorch calls cannot.
#
# The figure shows the medians and quartiles of your run.

# %%
fig, ax = plt.subplots(figsize=(8, 2.8))
labels = list(speed)
ax.barh(labels, [speed[k] for k in labels], color=[BLUE, BLUE, ORANGE, ORANGE])
ax.axvline(1.0, color="0.3", linestyle="--", linewidth=1)
ax.set_xlabel("speed-up of int8 over float32 (this run; > 1 is faster)")
ax.invert_yaxis()
plt.show()

# %% [markdown]
# ## 10. Channel pruning: a smaller dense network
#
# Lesson 07 showed that a mask makes a network neither smaller nor faster. Removing whole
# hidden units does: drop the units of smallest incoming-weight norm from each hidden layer
# (a fraction $p$ of them), and with them the matching columns of the next layer. What remains
# is a narrower **dense** network, equal to the original with those units' weights and biases
# zeroed. Written out for the MLP, and checked against the masked network and the library:

# %%
def prune_units(net, p):
    """A narrower copy of an MLP Linear-ReLU-Linear-ReLU-Linear without the fraction p of each hidden
    layer's units whose incoming weights have the smallest L2 norm."""
    linears = [m for m in net if isinstance(m, nn.Linear)]
    layers, keep_in = [], None
    for i, lin in enumerate(linears):
        W, b = lin.weight.detach(), lin.bias.detach()
        if keep_in is not None:
            W = W[:, keep_in]
        if i < len(linears) - 1:
            n_drop = round(p * W.shape[0])
            keep = torch.ones(W.shape[0], dtype=torch.bool)
            keep[torch.from_numpy(np.argsort(lin.weight.detach().norm(dim=1).numpy(), kind="stable")[:n_drop])] = False
            W, b, keep_in = W[keep], b[keep], keep
        new = nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            new.weight.copy_(W)
            new.bias.copy_(b)
        layers += [new, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


small0 = prune_units(net0, 0.5)
masked0 = copy.deepcopy(net0)
with torch.no_grad():
    for lin in (masked0[0], masked0[2]):
        rows = pruning.channel_mask(lin.weight, 0.5, axis=0)[:, 0]
        lin.weight[~rows] = 0.0
        lin.bias[~rows] = 0.0
    gap_mask = (small0(splits.X_val) - masked0(splits.X_val)).abs().max().item()
    gap_lib = (small0(splits.X_val) - channel_pruning.prune_channels(net0, 0.5)(splits.X_val)).abs().max().item()
print(f"p = 0.5: widths {channel_pruning.channel_widths(net0)} -> {channel_pruning.channel_widths(small0)}; "
      f"against the masked network {'< 1e-12' if gap_mask < 1e-12 else gap_mask}, against the library "
      f"{'< 1e-12' if gap_lib < 1e-12 else gap_lib}")
assert gap_mask < 1e-12 and gap_lib < 1e-12

# %% [markdown]
# The sparsity is a choice, so it is made on the validation part: for $p = 0.5$ and $p = 0.75$,
# prune each of the five networks, fine-tune it for 4 epochs (SGD, $\eta = 0.02$, $\beta = 0.9$, the
# training part only), and keep the largest $p$ whose validation drop stays within one point
# with 95 % confidence (the upper end of its interval $\le 1$). The drop is *paired*: the same
# seed's network before and after, on the same images.

# %%
def pruned_and_tuned(p, seed):
    small = prune_units(nets[seed], p)
    train(small, fit, epochs=4, lr=0.02, momentum=0.9, batch_size=64, seed=seed, progress=False)
    return small


def upper95(values):
    v = np.asarray(values, dtype=float)
    return v.mean() + T95 * v.std(ddof=1) / np.sqrt(v.size)


candidates, tuned = (0.5, 0.75), {}
val_drop = {}
for p, seed in progress([(p, s) for p in candidates for s in SEEDS], desc="prune and fine-tune"):
    tuned[p, seed] = pruned_and_tuned(p, seed)
for p in candidates:
    val_drop[p] = [float_val[s] - 100 * accuracy(tuned[p, s], splits.X_val, splits.y_val) for s in SEEDS]
    print(f"p = {p}: validation drop per seed", "  ".join(f"{d:+.2f}" for d in val_drop[p]),
          f"; mean {pm(val_drop[p])} points, upper end {upper95(val_drop[p]):+.2f}")
p_chosen = max(p for p in candidates if upper95(val_drop[p]) <= 1.0)
print(f"chosen on validation: p = {p_chosen}")
test_drop = [float_test[s] - 100 * accuracy(tuned[p_chosen, s], splits.X_test, splits.y_test) for s in SEEDS]
paired = stats.ttest_rel(float_test, [f - d for f, d in zip(float_test, test_drop, strict=True)])
print(f"test: float {pm(float_test)} %, pruned {pm([f - d for f, d in zip(float_test, test_drop, strict=True)])} %")
print("test drop per seed:", "  ".join(f"{d:+.2f}" for d in test_drop),
      f"; mean {pm(test_drop)} points (paired t-test p-value {paired.pvalue:.2f})")
assert p_chosen == 0.5 and f"{upper95(val_drop[0.5]):.2f}" == "0.90" and f"{upper95(val_drop[0.75]):.2f}" == "1.35"
assert pm(test_drop) == "0.36 ± 0.31" and f"{paired.pvalue:.2f}" == "0.03"
assert f"{np.mean(test_drop) * n_test / 100:.1f}" == "1.6"

# %% [markdown]
# The validation part picks $p = 0.5$ (upper end 0.90 points; $p = 0.75$ reaches 1.35). On the test
# images, pruned and fine-tuned networks lose 0.36 ± 0.31 points against their dense originals,
# 1.6 test images on average: a real loss (the paired interval excludes 0; the paired t-test gives
# $p = 0.03$, where $p$ is the test's p-value, not the sparsity), and one whose interval stays
# below one point.

# %% [markdown]
# Multiply-accumulates and bytes are properties of the shapes and are the same on every
# machine; latency is measured. Beside them, **unstructured** sparsity at the same fraction of
# weights: the magnitude-pruned dense network (zeros in a dense matrix cost what any other
# number costs) and the same pruned matrices stored as sparse CSR tensors.

# %%
small_c = tuned[p_chosen, 0]
macs = {"dense": channel_pruning.count_macs(net0), f"channel-pruned p = {p_chosen}": channel_pruning.count_macs(small_c)}
nbytes = {"dense": float32_size_bytes(net0), f"channel-pruned p = {p_chosen}": float32_size_bytes(small_c)}
for name in macs:
    print(f"{name:24s}: {macs[name]:7,d} multiply-accumulates per image, float32 file {nbytes[name]:7,d} bytes")
mac_ratio = macs["dense"] / macs[f"channel-pruned p = {p_chosen}"]
assert f"{mac_ratio:.2f}" == "2.96" and int_test == float_test and pm(float_test) == "98.04 ± 0.49"
print(f"{mac_ratio:.2f} times fewer multiply-accumulates, {nbytes['dense'] / nbytes[f'channel-pruned p = {p_chosen}']:.2f} "
      "times fewer bytes")
assert macs["dense"] == 64 * 256 + 256 * 128 + 128 * 10
unstructured_sparsity = 1 - sum(m.weight.numel() for m in small_c if isinstance(m, nn.Linear)) / sum(
    m.weight.numel() for m in net0 if isinstance(m, nn.Linear))
print(f"the same fraction of weights removed without structure: p = {unstructured_sparsity:.3f}")

# %%
# NBVAL_IGNORE_OUTPUT
masks_u = pruning.global_magnitude_masks(pruning.prunable_weights(net0), unstructured_sparsity)
sparse_net = copy.deepcopy(net0)
pruning.apply_masks(sparse_net, masks_u)
f32 = {"dense": copy.deepcopy(net0).float().eval(), "channel-pruned": copy.deepcopy(small_c).float().eval(),
       "unstructured, dense kernel": copy.deepcopy(sparse_net).float().eval()}
with warnings.catch_warnings():  # PyTorch flags its CSR tensors as beta at their creation; that is known
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta", category=UserWarning)
    csr = [(m.weight.detach().float().to_sparse_csr(), m.bias.detach().float())
           for m in sparse_net if isinstance(m, nn.Linear)]


def csr_forward(x):
    for i, (W, b) in enumerate(csr):
        x = (W @ x.t()).t() + b
        x = torch.relu(x) if i < len(csr) - 1 else x
    return x


x32 = X256.float()
with torch.inference_mode():
    lat = {name: time_call(lambda m=m: m(x32)) for name, m in progress(list(f32.items()), desc="latency")}
    lat["unstructured, CSR"] = time_call(lambda: csr_forward(x32))
for name, t in lat.items():
    print(f"{name:27s}: {t}; {lat['dense'].median / t.median:.2f} times as fast as dense")

# %% [markdown]
# On the machine that built this notebook the channel-pruned network was faster than the dense
# one at batch 256 by a little less than the factor by which its multiply-accumulates shrink
# (printed above), while unstructured sparsity at the same
# fraction of weights was no faster on the dense kernel, and slower as CSR: at these densities
# and sizes, sparse kernels lose to dense ones, which is the honest answer to "does pruning
# make it faster?": only when the pruning has structure the kernel can use.
#
# ## The figures of this lesson
#
# The accuracy figures, means over five seeds with their 95 % intervals (the speed figures
# are measured by `benchmarks/run.py`, which the README quotes):

# %%
print(f"float test accuracy                  {pm(float_test)} %")
print(f"integer-only test accuracy ({chosen})  {pm(int_test)} %")
print(f"drop float -> integer                {pm(drop_int)} points")
print(f"channel_pruning_acc_drop_pt (p={p_chosen})  {pm(test_drop)} points")

# %% [markdown]
# ## Summary
#
# * Static post-training quantization fixes every activation's scale and zero point before
#   deployment with observers run on training images; after a ReLU the zero point is 0.
# * A layer in integers is an int8 × uint8 product summed in int32, an int32 bias at scale
#   $s_w s_x$, and one requantization by $M = s_w s_x / s_y$ written as an integer $m_0 \in [2^{30}, 2^{31})$ and
#   a shift (relative error at most $2^{-31}$); a ReLU is the clamp at the output's zero point.
#   Checked bit for bit against the library's reference, the integer-only $64 \to 256 \to 128 \to 10$
#   networks reach exactly their float accuracy on the test images, 98.04 ± 0.49 % over five seeds,
#   with either observer at 8 bits.
# * BatchNorm folds exactly into the convolution before it; two linear layers merge only with
#   nothing between them, which a working network rarely has.
# * Speed is measured as a median with its spread, and speaks for this machine only. The int8
#   product is several times faster than float32, but a small network's time goes to everything
#   around the products; channel pruning makes a network genuinely smaller and faster, unstructured
#   sparsity does not. Removing half of each hidden layer's units (chosen on validation), then
#   fine-tuning, costs 0.36 ± 0.31 test points for about three times fewer multiply-accumulates and bytes.
#
# ## Exercises
#
# ### Exercise 1 (recall)
#
# A layer has weight scale $s_w = 0.01$ (for one output channel) and input scale $s_x = 1/255$.
# Its bias for that channel is $b = 0.5$. Which int32 does the integer layer store for it?

# %% nbgrader={"grade": false, "grade_id": "ex10_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
bias_code_1 = round(0.5 / (0.01 * (1 / 255)))
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex10_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.integer_inference.bias_code(bias_code_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# Write $M = 0.0123$ as $m_0 \cdot 2^{-\text{shift}}$ with $2^{30} \le m_0 < 2^{31}$. Give `m0_2` and `shift_2` as integers.

# %% nbgrader={"grade": false, "grade_id": "ex10_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
m0_2, shift_2 = quantize_multiplier(0.0123)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex10_2_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.integer_inference.multiplier(m0_2, shift_2)


# %% [markdown]
# ### Exercise 3 (implement)
#
# Write `fold_linear_bn(linear, bn)`: a new `nn.Linear` equal to `bn(linear(x))` for a
# `BatchNorm1d` in evaluation mode (use `bn.running_mean`, `bn.running_var`, `bn.eps`,
# `bn.weight`, `bn.bias`). The check compares it with the unfolded pair on random layers.

# %% nbgrader={"grade": false, "grade_id": "ex10_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fold_linear_bn(linear, bn):
    ### BEGIN SOLUTION
    factor = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    out = nn.Linear(linear.in_features, linear.out_features, dtype=linear.weight.dtype)
    with torch.no_grad():
        out.weight.copy_(linear.weight * factor[:, None])
        out.bias.copy_((linear.bias - bn.running_mean) * factor + bn.bias)
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex10_3_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.integer_inference.fold_linear_bn(fold_linear_bn)
### BEGIN HIDDEN TESTS
_g = torch.Generator().manual_seed(103)
for _n_in, _n_out in [(3, 2), (7, 5), (16, 1)]:
    _lin = nn.Linear(_n_in, _n_out, dtype=torch.float64)
    _bn = nn.BatchNorm1d(_n_out, dtype=torch.float64).eval()
    with torch.no_grad():
        for _t, _low in [(_lin.weight, -1.0), (_lin.bias, -1.0), (_bn.running_mean, -1.0), (_bn.running_var, 0.1),
                         (_bn.weight, -2.0), (_bn.bias, -1.0)]:
            _t.copy_(_low + 2.0 * torch.rand(_t.shape, generator=_g, dtype=torch.float64))
        _x = torch.randn(11, _n_in, generator=_g, dtype=torch.float64)
        assert torch.allclose(fold_linear_bn(_lin, _bn)(_x), _bn(_lin(_x)), rtol=1e-9, atol=1e-12)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (explore)
#
# With **4-bit** activations (`integer_inference.convert(..., bits=4)`) the grid is 16 times
# coarser, and the observer matters more. Which gives the higher mean *validation* accuracy over
# the five networks: `"minmax"` or `"percentile"` with $P = 99$? Compute both means into a dict
# `val_4` (observer name to mean accuracy), then pass the better name as `observer_4`. The check
# recomputes both from `nets`, `X_cal` and `splits`.

# %% nbgrader={"grade": false, "grade_id": "ex10_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
val_4 = {name: np.mean([integer_inference.convert(nets[s], X_cal, observer=name, percentile=99.0, bits=4)
                        .accuracy(splits.X_val, splits.y_val) for s in SEEDS]) for name in observers.OBSERVERS}
observer_4 = max(val_4, key=val_4.get)
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex10_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.integer_inference.observer_for_4_bits(observer_4, nets, X_cal, splits)
### BEGIN HIDDEN TESTS
assert isinstance(val_4, dict) and set(val_4) == set(observers.OBSERVERS), "val_4: {observer: mean accuracy}"
for _name in observers.OBSERVERS:
    _acc = np.mean([integer_inference.convert(nets[_s], X_cal, observer=_name, percentile=99.0, bits=4)
                    .accuracy(splits.X_val, splits.y_val) for _s in SEEDS])
    assert np.isclose(val_4[_name], _acc, rtol=0.0, atol=1e-12), f"val_4[{_name!r}] is not the mean validation accuracy"
assert observer_4 == max(val_4, key=val_4.get), "observer_4 is not the observer with the higher mean in val_4"
### END HIDDEN TESTS
