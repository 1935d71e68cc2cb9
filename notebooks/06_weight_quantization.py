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
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 06: Weight quantization
#
# A trained network stores every weight as a 32-bit float. Most of those bits are
# noise as far as the network's answers are concerned: with 8 bits per weight the
# digits classifier of this lesson loses nothing, and with 4 bits it loses little.
# This lesson builds the quantizer that does this from scratch (a scale, a zero point,
# a clamp and a round), measures exactly how much error it adds, applies it to a
# trained network after training, and then trains *through* the quantizer with
# momentum, where a new effect appears: weights that keep jumping between two grid
# points.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write the uniform affine and symmetric quantizers (scale, zero point, clamp, round)
#    and explain why zero must be exactly representable;
# 2. state and check the error bound $|x - \hat x| \le s/2$ inside the range, and the
#    "6 dB per bit" law: each extra bit halves the error;
# 3. compare per-tensor and per-channel quantization on a trained layer;
# 4. quantize a trained network after training (post-training quantization, PTQ) and read
#    its accuracy against the number of bits;
# 5. train with fake quantization and the straight-through estimator (quantization-aware
#    training, QAT) using SGD with momentum, and check that the estimator's gradient is
#    the identity;
# 6. measure how often weights oscillate across a rounding boundary during QAT, with and
#    without momentum, and what that does to accuracy;
# 7. place PyTorch's own quantization tools in the picture.
#
# ## Prerequisites
#
# Lesson 03 (momentum in PyTorch's form: $b \leftarrow \beta b + g$, $p \leftarrow p - \eta b$).
# A little PyTorch: `nn.Linear`, autograd, an optimizer loop. About 60 minutes; the
# notebook itself runs in about 15 seconds on two CPU cores.

# %%
import copy
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

import lessons_lib
from lessons_lib import checks, quantization
from lessons_lib.data import load_digits_split
from lessons_lib.models import mlp
from lessons_lib.training import accuracy, train

lessons_lib.setup()

# %% [markdown]
# ## 1. The uniform affine quantizer
#
# A $b$-bit quantizer replaces a real number $x$ by one of $2^b$ evenly spaced values. Take
# the range $[\alpha, \beta]$ of the data, widened if necessary so that it contains 0
# ($\alpha = \min(\min x, 0)$, $\beta = \max(\max x, 0)$), and cut it into $2^b - 1$ steps:
#
# $$s = \frac{\beta - \alpha}{2^b - 1}, \qquad z = \operatorname{round}\!\left(-\frac{\alpha}{s}\right), \qquad
# q = \operatorname{clamp}\!\Big(\operatorname{round}\!\big(\tfrac{x}{s}\big) + z,\; 0,\; 2^b - 1\Big), \qquad
# \hat x = s\,(q - z).$$
#
# The **scale** $s$ is the step between neighbouring values, the integer **zero point** $z$
# is the code that stands for the real number 0, $q$ is the stored integer code and
# $\hat x$ the value it represents. That is the whole quantizer:

# %%
def quantize_affine(x, bits):
    """Codes q in [0, 2^bits - 1], scale s and integer zero point z of the affine quantizer."""
    x = np.asarray(x, dtype=float)
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    q_max = 2**bits - 1
    scale = (hi - lo) / q_max
    zero_point = np.round(-lo / scale)
    q = np.clip(np.round(x / scale) + zero_point, 0, q_max)
    return q.astype(np.int64), scale, int(zero_point)


def dequantize(q, scale, zero_point=0):
    """The real values that the codes stand for: s * (q - z)."""
    return scale * (q - zero_point)


# %% [markdown]
# A small example by hand: 4 bits on the range $[-1, 2]$ gives $s = 3/15 = 0.2$ and
# $z = \operatorname{round}(1/0.2) = 5$, so code 5 means 0 and code 15 means $0.2\cdot 10 = 2$.

# %%
x_small = np.array([-1.0, -0.33, 0.0, 0.42, 1.05, 2.0])
q_small, s_small, z_small = quantize_affine(x_small, bits=4)
print(f"scale = {s_small:.4f}, zero point = {z_small}")
print("x      ", np.round(x_small, 4))
print("q      ", q_small)
print("x_hat  ", np.round(dequantize(q_small, s_small, z_small), 4))
print("x_hat-x", np.round(dequantize(q_small, s_small, z_small) - x_small, 4))
assert np.isclose(s_small, 0.2) and z_small == 5

# %% [markdown]
# The course library's reference `quantization.quantize` must give the same codes, scales
# and zero points for every bit width on data that is not centred on zero:

# %%
rng = np.random.default_rng(0)
x_test = rng.normal(0.3, 1.0, size=5000)
for bits in range(2, 9):
    q_ours, s_ours, z_ours = quantize_affine(x_test, bits)
    q_ref, s_ref, z_ref = quantization.quantize(x_test, bits, symmetric=False)
    assert np.array_equal(q_ours, q_ref) and z_ours == int(z_ref)
    assert abs(s_ours - float(s_ref)) <= 1e-15 * s_ours
print("bits 2..8: codes and zero points identical to the library's, scales equal to 1e-15")

# %% [markdown]
# ## 2. The symmetric quantizer
#
# For weights, which are spread roughly symmetrically around 0, one usually fixes $z = 0$
# and uses a grid symmetric about zero:
#
# $$s = \frac{\max|x|}{2^{b-1} - 1}, \qquad q = \operatorname{clamp}\!\Big(\operatorname{round}\!\big(\tfrac{x}{s}\big),\;
# -(2^{b-1}-1),\; 2^{b-1}-1\Big), \qquad \hat x = s\,q .$$
#
# The most negative code $-2^{b-1}$ is left unused so that the grid is symmetric (8 bits
# give the codes $-127..127$). With $z = 0$ an integer matrix product needs no
# zero-point correction terms, which is why inference libraries prefer it for weights.
#
# One scale for a whole weight matrix is *per-tensor* quantization; one scale per output
# row (per output channel) is *per-channel*. The `axis` argument below selects the
# latter: the maximum is then taken over every axis but `axis`.

# %%
def quantize_symmetric(x, bits, axis=None):
    """Codes in [-(2^(bits-1) - 1), 2^(bits-1) - 1] and the scale(s); axis=k: one scale per index along k."""
    x = np.asarray(x, dtype=float)
    q_max = 2 ** (bits - 1) - 1
    others = None if axis is None else tuple(i for i in range(x.ndim) if i != axis)
    scale = np.abs(x).max(axis=others, keepdims=axis is not None) / q_max
    q = np.clip(np.round(x / scale), -q_max, q_max)
    return q.astype(np.int64), scale


W_test = rng.normal(0.0, 1.0, size=(16, 40)) * rng.uniform(0.1, 2.0, size=(16, 1))
for bits in range(2, 9):
    for axis in (None, 0):
        q_ours, s_ours = quantize_symmetric(W_test, bits, axis)
        q_ref, s_ref, z_ref = quantization.quantize(W_test, bits, symmetric=True, axis=axis)
        assert np.array_equal(q_ours, q_ref) and np.all(z_ref == 0)
        assert np.allclose(s_ours, s_ref, rtol=1e-15, atol=0)
print("bits 2..8, per tensor and per row: codes and scales identical to the library's")
print("8-bit symmetric codes run from", quantization.code_range(8, symmetric=True)[0],
      "to", quantization.code_range(8, symmetric=True)[1])

# %% [markdown]
# ## 3. Zero must be exactly representable
#
# Because $z$ is rounded to an integer, the real number 0 maps to the code $q = z$ and comes
# back as $s\,(z - z) = 0$, exactly. That matters: zero padding, the zeros a ReLU produces
# and, in the next lessons, *pruned* weights must stay exactly zero. Check it on many
# random ranges, and compare with a tempting variant that puts the grid's first point at
# $\alpha$ (a real-valued zero point $-\alpha/s$, no rounding):

# %%
worst_ours, worst_naive = 0.0, 0.0
for _ in range(200):
    x = rng.normal(rng.uniform(-1, 1), rng.uniform(0.1, 3), size=100)
    x[::10] = 0.0  # some exact zeros, like pruned weights
    for bits in (2, 4, 8):
        q, s, z = quantize_affine(x, bits)
        worst_ours = max(worst_ours, np.abs(dequantize(q, s, z)[x == 0]).max())
        lo = min(x.min(), 0.0)
        naive = lo + s * np.round((x - lo) / s)  # grid anchored at alpha instead of at 0
        worst_naive = max(worst_naive, np.abs(naive[x == 0]).max())
print(f"largest |x_hat| where x == 0: rounded zero point {worst_ours:.1e}, grid anchored at alpha {worst_naive:.3f}")
assert worst_ours == 0.0 and worst_naive > 0.01

# %% [markdown]
# ## 4. The error bound: $|x - \hat x| \le s/2$ inside the range
#
# Between two grid points, rounding picks the nearer one, so the error is at most half a
# step. At the ends, the rounded zero point may shift the grid by up to $s/2$, but the
# grid still spans $\beta - \alpha$, so every $x$ in $[\alpha, \beta]$ is within $s/2$ of a
# grid point:
#
# $$|x - \hat x| \le \frac{s}{2} \qquad \text{for } \alpha \le x \le \beta .$$
#
# Outside the range the clamp takes over and the error grows like the distance to the
# range. Check the bound on 100,000 values for every bit width, both quantizers:

# %%
x_big = rng.standard_t(df=4, size=100_000)  # heavy tails: a few large values set the range
for bits in range(2, 9):
    q, s, z = quantize_affine(x_big, bits)
    ratio_affine = np.abs(dequantize(q, s, z) - x_big).max() / s
    q, s = quantize_symmetric(x_big, bits)
    ratio_sym = np.abs(dequantize(q, s) - x_big).max() / s
    print(f"{bits} bits: max |x - x_hat| / s = {ratio_affine:.6f} (affine), {ratio_sym:.6f} (symmetric)")
    assert ratio_affine <= 0.5 + 1e-9 and ratio_sym <= 0.5 + 1e-9

# %% [markdown]
# The staircase of a 3-bit affine quantizer calibrated on $[-1, 2]$, and its error, which
# saw-tooths between $\pm s/2$ inside the range and grows linearly outside it (here the
# quantizer is applied, with its calibrated $s$ and $z$, to values beyond the range):

# %%
xs = np.linspace(-1.6, 2.6, 2001)
_, s3, z3 = quantize_affine(np.array([-1.0, 2.0]), bits=3)
q3 = np.clip(np.round(xs / s3) + z3, 0, 7)
xh = dequantize(q3, s3, z3)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
ax1.plot(xs, xs, color="0.7", linewidth=1, label=r"$\hat x = x$")
ax1.plot(xs, xh, color="#1f77b4", label=r"$\hat x$, 3 bits")
ax1.plot(dequantize(np.arange(8), s3, z3), dequantize(np.arange(8), s3, z3), "o", color="#1f77b4",
         markersize=4)
ax1.set_xlabel("$x$")
ax1.set_title(rf"3-bit affine, range $[-1, 2]$: $s = {s3:.3f}$, $z = {z3}$")
ax1.legend(loc="upper left")
ax2.plot(xs, xh - xs, color="#d62728")
for y in (-s3 / 2, s3 / 2):
    ax2.axhline(y, color="0.5", linestyle="--", linewidth=1)
ax2.axvspan(-1, 2, color="0.93", zorder=0, label="calibrated range")
ax2.set_xlabel("$x$")
ax2.set_title(r"error $\hat x - x$: within $\pm s/2$ inside, clamping outside")
ax2.legend(loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 5. A trained network to quantize
#
# The subject of the rest of the lesson is a small multilayer perceptron
# $64 \to 64 \to 32 \to 10$ (6,570 parameters) trained on the handwritten digits that ship
# with scikit-learn (8x8 images, 1,347 for training, 450 for testing), with SGD and
# momentum 0.9 for 20 epochs:

# %%
data = load_digits_split(seed=0)
model = mlp(hidden=(64, 32), seed=0)
history = train(model, data, epochs=20, lr=0.1, momentum=0.9, seed=0, progress=False)
float_acc = accuracy(model, data.X_test, data.y_test)
print(model)
print(f"test accuracy in float32: {100 * float_acc:.2f} %")
W1 = model[0].weight.detach().numpy().astype(np.float64)  # the first layer, 64 x 64
print(f"first layer: shape {W1.shape}, weights in [{W1.min():.3f}, {W1.max():.3f}]")

# %% [markdown]
# ## 6. Error against bits: the 6 dB per bit law
#
# Inside the range the rounding error is spread roughly evenly over $[-s/2, s/2]$ (once
# there are enough levels for the weights' distribution to look flat within a step).
# A uniform error on an interval of width $s$ has root-mean-square value
#
# $$\text{RMS error} \approx \frac{s}{\sqrt{12}},$$
#
# and $s$ is inversely proportional to $2^b - 1$ (or $2^{b-1} - 1$): **each extra bit halves
# the error**. In signal-to-noise terms, $\mathrm{SQNR} = 10\log_{10}\frac{E[x^2]}{E[(x-\hat x)^2]}$
# rises by $20\log_{10}2 = 6.02$ dB per bit. Check both statements on the first layer:

# %%
def rms(a):
    return float(np.sqrt(np.mean(np.square(a))))


bit_range = np.arange(2, 13)
rows = []
for bits in bit_range:
    err_t = dequantize(*quantize_symmetric(W1, bits)) - W1
    err_c = dequantize(*quantize_symmetric(W1, bits, axis=0)) - W1
    s_t = quantize_symmetric(W1, bits)[1]
    rows.append((rms(err_t), rms(err_c), s_t / np.sqrt(12)))
rms_tensor, rms_channel, predicted = map(np.array, zip(*rows, strict=True))
sqnr = 10 * np.log10(np.mean(W1**2) / rms_tensor**2)
print(" bits   RMS error   s/sqrt(12)   SQNR (dB)   gain per bit (dB)")
for i, bits in enumerate(bit_range):
    gain = f"{sqnr[i] - sqnr[i - 1]:8.2f}" if i else "       -"
    print(f"{bits:5d} {rms_tensor[i]:11.2e} {predicted[i]:12.2e} {sqnr[i]:11.2f} {gain:>14}")
mean_gain = (sqnr[-1] - sqnr[4]) / (bit_range[-1] - bit_range[4])
print(f"mean gain per bit from 6 to 12 bits: {mean_gain:.3f} dB (20 log10 2 = {20 * np.log10(2):.3f} dB)")
assert abs(mean_gain - 20 * np.log10(2)) < 0.1
assert np.allclose(rms_tensor[4:], predicted[4:], rtol=0.05)  # the uniform-error model, 6 bits and up
assert np.all(rms_tensor[3:] / rms_tensor[2:-1] < 0.6)  # from 4 bits on, each bit about halves the error

# %% [markdown]
# From about 6 bits on the law holds to a few hundredths of a dB. At 2 and 3 bits it does
# not: the step is then so coarse that most weights round to 0, the error is nearly the
# weights themselves, and the "evenly spread within a step" picture fails.

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.semilogy(bit_range, rms_tensor, "o-", label="per-tensor, measured")
ax.semilogy(bit_range, rms_channel, "s-", label="per-channel, measured")
ax.semilogy(bit_range, predicted, "k--", linewidth=1, label=r"per-tensor, $s/\sqrt{12}$")
ax.set_xlabel("bits $b$")
ax.set_ylabel("RMS error of the first layer's weights")
ax.set_title("each extra bit halves the error (a factor 2 = 6.02 dB)")
ax.legend()
plt.show()

# %% [markdown]
# ## 7. Per-tensor against per-channel
#
# With one scale for the whole matrix, the row with the largest weight sets the step for
# every row. In this layer the rows' largest magnitudes differ by more than a factor of
# ten, so most rows use only a few of the available levels. Giving each output row its
# own scale costs one extra float per row (64 numbers next to 4,096 weights):

# %%
row_max = np.abs(W1).max(axis=1)
print(f"largest |w| per row: from {row_max.min():.3f} to {row_max.max():.3f} "
      f"(ratio {row_max.max() / row_max.min():.1f})")
print(" bits   RMS per-tensor   RMS per-channel   ratio")
for bits in (2, 3, 4, 8):
    e_t = quantization.quantization_error(W1, bits, symmetric=True)
    e_c = quantization.quantization_error(W1, bits, symmetric=True, axis=0)
    print(f"{bits:5d} {e_t:16.2e} {e_c:17.2e} {e_t / e_c:7.2f}")
    assert np.isclose(e_t, rms_tensor[bits - 2]) and np.isclose(e_c, rms_channel[bits - 2])
    assert e_c < e_t

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
order = np.argsort(row_max)
ax1.bar(np.arange(64), row_max[order], color="#1f77b4", label="per-channel range: each row's max |w|")
ax1.axhline(row_max.max(), color="#d62728", label="per-tensor range: one max |w| for all")
ax1.set_xlabel("output row (sorted)")
ax1.set_ylabel("max |w| in the row")
ax1.set_ylim(0, 2.1)
ax1.legend(loc="upper left")
levels_used = [np.unique(quantize_symmetric(W1[r], 4)[0]).size for r in range(64)]
levels_used_t = [np.unique(quantize_symmetric(W1, 4)[0][r]).size for r in range(64)]
ax2.plot(np.sort(levels_used_t), "o", markersize=3, color="#d62728", label="per-tensor")
ax2.plot(np.sort(levels_used), "s", markersize=3, color="#1f77b4", label="per-channel")
ax2.set_xlabel("output row (sorted)")
ax2.set_ylabel("distinct 4-bit codes used")
ax2.set_title("of the 15 codes, how many each row uses")
ax2.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 8. The weights before and after
#
# Quantization replaces the continuous histogram of the weights by at most $2^b - 1$
# spikes. With per-tensor 3-bit codes the first layer has 7 possible values; most weights
# are small and land on the three values around 0:

# %%
q3_t, s3_t = quantize_symmetric(W1, 3)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4), sharex=True)
ax1.hist(W1.ravel(), bins=120, color="0.5")
for v in dequantize(np.arange(-3, 4), s3_t):
    ax1.axvline(v, color="#d62728", linewidth=0.8)
ax1.set_title("float32 weights and the 3-bit per-tensor grid")
values, counts = np.unique(dequantize(q3_t, s3_t), return_counts=True)
ax2.bar(values, counts, width=0.6 * s3_t, color="#d62728")
ax2.set_title("after 3-bit quantization: 7 values")
ax2.set_xlabel("weight value")
ax1.set_xlabel("weight value")
fig.tight_layout()
plt.show()
print("weights per 3-bit value:", dict(zip(np.round(values, 3).tolist(), counts.tolist(), strict=True)))
assert values.size <= 7

# %% [markdown]
# ## 9. Post-training quantization (PTQ)
#
# The simplest use: take the trained network and replace every weight matrix by its
# quantized value (biases stay in floating point; they are few). Our own version, with
# the quantizer of section 2, and the library's `quantize_model_weights` must give the
# same network:

# %%
def ptq(net, bits, per_channel=True):
    """A copy of net whose weight matrices are symmetric-quantized (per output row if per_channel)."""
    net = copy.deepcopy(net)
    with torch.no_grad():
        for layer in net:
            if isinstance(layer, nn.Linear):
                q, s = quantize_symmetric(layer.weight.numpy(), bits, axis=0 if per_channel else None)
                layer.weight.copy_(torch.from_numpy(dequantize(q, s)))
    return net


for bits in (2, 4, 8):
    ours, ref = ptq(model, bits), quantization.quantize_model_weights(model, bits)
    gap = max((a - b).abs().max().item() for a, b in zip(ours.parameters(), ref.parameters(), strict=True))
    same = accuracy(ours, data.X_test, data.y_test) == accuracy(ref, data.X_test, data.y_test)
    print(f"{bits} bits: largest weight difference ours vs library {gap:.1e}, same accuracy: {same}")
    assert gap < 1e-6 and same

# %% [markdown]
# (The tiny differences come from the library storing each scale in float32, rounded up so
# that the range stays covered.) Now the accuracy against the number of bits:

# %%
ptq_bits = np.arange(2, 9)
ptq_acc = {pc: np.array([accuracy(quantization.quantize_model_weights(model, int(b), per_channel=pc),
                                   data.X_test, data.y_test) for b in ptq_bits])
           for pc in (False, True)}
print(f"float32: {100 * float_acc:.2f} %")
print(" bits   per-tensor   per-channel")
for i, b in enumerate(ptq_bits):
    print(f"{b:5d} {100 * ptq_acc[False][i]:10.2f} % {100 * ptq_acc[True][i]:10.2f} %")
assert ptq_acc[True][-1] >= float_acc - 0.005  # 8 bits cost at most about two test images
assert ptq_acc[True][0] < 0.7  # 2 bits break the network

# %% [markdown]
# Eight bits cost nothing, four bits very little, and below that the network falls apart,
# per-tensor first. Two bits with symmetric codes leave three values per row,
# $\{-s, 0, s\}$ (a *ternary* network): after training in float the network has no reason
# to work with those.
#
# ## 10. Quantization-aware training: fake quantization and the straight-through estimator
#
# To make a network work *with* its quantized weights, train it with them in the forward
# pass. Keep float ("latent") weights $w$ that the optimizer updates, and compute the
# layer with $\hat w = Q(w)$, the dequantized quantized weights (*fake* quantization:
# the arithmetic is still float). The snag is the backward pass: $Q$ is a staircase, its
# derivative is 0 almost everywhere, so the gradient with respect to $w$ would vanish.
# The **straight-through estimator** (STE; Bengio, Leonard and Courville 2013) pretends
# that $Q$ is the identity in the backward pass:
#
# $$\text{forward: } \hat w = Q(w), \qquad \text{backward: } \frac{\partial L}{\partial w} := \frac{\partial L}{\partial \hat w}.$$
#
# In PyTorch this is one line, `w + (Q(w) - w).detach()`: its value is $Q(w)$ and, since
# the detached part has no gradient, its derivative is 1.

# %%
def fake_quant_ste(w, bits):
    """Per-channel symmetric fake quantization with the straight-through gradient."""
    q_max = 2 ** (bits - 1) - 1
    scale = w.detach().abs().amax(dim=1, keepdim=True) / q_max
    w_q = torch.clamp(torch.round(w.detach() / scale), -q_max, q_max) * scale
    return w + (w_q - w).detach()


w = model[2].weight.detach().clone().requires_grad_(True)
upstream = torch.randn(w.shape, generator=torch.Generator().manual_seed(1))  # some dL/dw_hat
(upstream * fake_quant_ste(w, 3)).sum().backward()
ste_grad = w.grad.clone()

w.grad = None
(upstream * quantization.fake_quantize(w, 3, symmetric=True, axis=0)).sum().backward()
lib_grad = w.grad.clone()

w.grad = None
(upstream * torch.round(w * 10) / 10).sum().backward()  # the true derivative of a staircase
print("STE gradient equals the upstream gradient (identity):", torch.equal(ste_grad, upstream))
print("library's fake_quantize has the same gradient:       ", torch.equal(lib_grad, upstream))
print("forward values agree with the library's:             ",
      torch.allclose(fake_quant_ste(w, 3), quantization.fake_quantize(w, 3, True, 0), rtol=0, atol=1e-6))
print("true gradient through round(): all zeros:            ", bool((w.grad == 0).all()))
assert torch.equal(ste_grad, upstream) and torch.equal(lib_grad, upstream) and bool((w.grad == 0).all())

# %% [markdown]
# The library's `to_quant_linear` swaps every `nn.Linear` for a `QuantLinear` that does
# exactly this in its forward pass. Start from the trained float network and fine-tune it
# at 2 and 3 bits per weight (per-channel, symmetric) with SGD and momentum 0.9, then read
# the deployed weights with `quantize_model_weights`:

# %%
qat_acc = {}
for bits in (2, 3):
    qat_model = quantization.to_quant_linear(model, bits=bits)
    train(qat_model, data, epochs=5, lr=0.005, momentum=0.9, seed=1, progress=False)
    deployed = quantization.quantize_model_weights(qat_model, bits)
    qat_acc[bits] = accuracy(deployed, data.X_test, data.y_test)
    assert qat_acc[bits] == accuracy(qat_model, data.X_test, data.y_test)  # what was trained is what ships
print(" bits   float32   PTQ (per-channel)   QAT, 5 epochs")
for bits in (2, 3):
    print(f"{bits:5d} {100 * float_acc:8.2f} % {100 * ptq_acc[True][bits - 2]:14.2f} % "
          f"{100 * qat_acc[bits]:12.2f} %")
assert qat_acc[2] > ptq_acc[True][0] + 0.3

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.axhline(100 * float_acc, color="0.4", linestyle="--", label="float32")
ax.plot(ptq_bits, 100 * ptq_acc[False], "o-", label="PTQ, per-tensor")
ax.plot(ptq_bits, 100 * ptq_acc[True], "s-", label="PTQ, per-channel")
ax.plot(list(qat_acc), [100 * a for a in qat_acc.values()], "*", markersize=14, color="#2ca02c",
        label="QAT, per-channel (5 epochs, momentum 0.9)")
ax.set_xlabel("bits per weight")
ax.set_ylabel("test accuracy (%)")
ax.set_ylim(0, 100)
ax.legend(loc="lower right")
ax.set_title("digits MLP: accuracy against bits")
plt.show()

# %% [markdown]
# ## 11. Weights that oscillate across a rounding boundary
#
# QAT has a side effect that Nagel, Fournarakis, Bondarenko and Blankevoort studied
# ("Overcoming Oscillations in Quantization-Aware Training", ICML 2022). Suppose the best
# value for a weight is $w^\star = 0.3$ on a grid with step 1. Through the STE the latent
# weight feels the gradient of $\tfrac12(Q(w) - w^\star)^2$, namely $Q(w) - w^\star$:
# while $Q(w) = 0$ it is pushed up, as soon as it crosses the rounding boundary $0.5$ and
# $Q(w) = 1$ it is pushed down again. It never settles: it **oscillates** across the
# boundary, and the deployed weight is whichever grid point it happens to sit on when
# training stops.
#
# A toy run, plain SGD against momentum 0.9 at the same *effective* step
# $\eta/(1-\beta)$ (a constant gradient moves both equally fast):

# %%
def toy_qat(lr, momentum, steps=120, w_star=0.3):
    """Latent weight of SGD (PyTorch's momentum form) on (Q(w) - w_star)^2 / 2 with the STE."""
    w, buf, path = 0.0, None, []
    for _ in range(steps):
        g = np.round(w) - w_star  # STE: dL/dw := dL/dQ(w)
        buf = g if buf is None else momentum * buf + g
        w -= lr * buf
        path.append(w)
    return np.array(path)


toy = {"plain SGD, lr = 0.1": toy_qat(0.1, 0.0), "momentum 0.9, lr = 0.01": toy_qat(0.01, 0.9)}
fig, ax = plt.subplots(figsize=(9, 3.4))
for (label, path), color in zip(toy.items(), ["#1f77b4", "#d62728"], strict=True):
    ax.plot(path, color=color, linewidth=1, label=label)
    q_path = np.round(path)
    late = q_path[40:]
    print(f"{label}: grid point changes on {100 * np.mean(late[1:] != late[:-1]):.0f} % of steps "
          f"after step 40, mean of Q(w) = {late.mean():.3f} (w* = 0.3)")
ax.axhline(0.5, color="k", linestyle="--", linewidth=1, label="rounding boundary")
ax.set_xlabel("step")
ax.set_ylabel("latent weight $w$")
ax.set_title(r"toy QAT: $w$ hovers at the boundary; $Q(w)$ jumps between 0 and 1")
ax.legend(loc="lower right")
plt.show()
assert all(np.mean(np.diff(np.round(p[40:])) != 0) > 0.1 for p in toy.values())

# %% [markdown]
# The time average of $Q(w)$ is about right, but a network ships one snapshot. How much of
# this happens in the real QAT run? Record the integer codes of all 6,464 weights after
# every step of 2-bit QAT and count the fraction that changed. The loop is written out so
# that the optimizer's step is visible; the codes are those the deployed model would use.

# %%
def weight_codes(net, bits):
    return torch.cat([quantization.quantize(m.weight, bits, symmetric=True, axis=0)[0].flatten()
                      for m in net if isinstance(m, nn.Linear)])


def qat_with_flips(lr, momentum, bits=2, epochs=4, seed=0, batch_size=64):
    """QAT from the float model: per step the fraction of codes that changed and the test accuracy;
    over the last epoch the number of code changes of every weight, and which weights ended the
    epoch on the code they started it with."""
    net = quantization.to_quant_linear(model, bits=bits)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    gen = torch.Generator().manual_seed(seed)
    codes, flips, test_acc, n = weight_codes(net, bits), [], [], len(data.y_train)
    for epoch in range(epochs):
        if epoch == epochs - 1:
            epoch_start, changes = codes.clone(), torch.zeros_like(codes)
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad()
            nn.functional.cross_entropy(net(data.X_train[idx]), data.y_train[idx]).backward()
            opt.step()  # b = momentum * b + g;  w = w - lr * b
            new = weight_codes(net, bits)
            flips.append((new != codes).float().mean().item())
            if epoch == epochs - 1:
                changes += new != codes
            codes = new
            test_acc.append(accuracy(net, data.X_test, data.y_test))
    return np.array(flips), np.array(test_acc), changes, codes == epoch_start


settings = [(0.9, 0.01), (0.0, 0.1), (0.0, 0.01), (0.9, 0.002), (0.0, 0.02)]
runs = {(beta, lr): qat_with_flips(lr, beta) for beta, lr in settings}
steps_per_epoch = -(-len(data.y_train) // 64)
print("momentum     lr   lr/(1-beta)   codes changed per step   test acc at end   min..max over last epoch")
for (beta, lr), (flips, accs, _, _) in runs.items():
    last = slice(-steps_per_epoch, None)
    print(f"{beta:8.1f} {lr:6.3f} {lr / (1 - beta):13.3f} {100 * flips[last].mean():20.3f} % "
          f"{100 * accs[-1]:14.2f} % {100 * accs[last].min():11.2f} .. {100 * accs[last].max():.2f} %")
print("\nlast epoch: weights that changed code | changes per such weight | of them, back on their starting code")
for (beta, lr), (_, _, changes, same_code) in runs.items():
    moved = changes > 0
    print(f"  momentum {beta:.1f}, lr {lr:5.3f}: {100 * moved.float().mean().item():9.2f} % "
          f"{changes[moved].float().mean().item():14.1f} {100 * same_code[moved].float().mean().item():26.0f} %")
per_weight = {key: changes[changes > 0].float().mean().item() for key, (_, _, changes, _) in runs.items()}
assert all(per_weight[(0.0, lr)] > 2 * per_weight[(0.9, lr_m)] for lr, lr_m in [(0.1, 0.01), (0.01, 0.01), (0.02, 0.002)])
flip_rate = {key: flips[-steps_per_epoch:].mean() for key, (flips, *_) in runs.items()}
for with_momentum, plain in [((0.9, 0.01), (0.0, 0.1)), ((0.9, 0.002), (0.0, 0.02))]:  # matched lr/(1-beta)
    assert flip_rate[with_momentum] < 0.5 * flip_rate[plain]
assert 0.5 < flip_rate[(0.9, 0.01)] / flip_rate[(0.0, 0.01)] < 2  # same lr: about the same
print(f"same effective step: plain SGD changes {flip_rate[(0.0, 0.1)] / flip_rate[(0.9, 0.01)]:.1f}x as many "
      f"codes as momentum at 0.1, {flip_rate[(0.0, 0.02)] / flip_rate[(0.9, 0.002)]:.1f}x at 0.02; "
      f"same lr 0.01: momentum/plain = {flip_rate[(0.9, 0.01)] / flip_rate[(0.0, 0.01)]:.2f}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
kernel = np.ones(5) / 5
for key, color in [((0.9, 0.01), "#d62728"), ((0.0, 0.1), "#1f77b4"), ((0.0, 0.01), "#17becf")]:
    flips, accs, _, _ = runs[key]
    label = f"momentum {key[0]}, lr {key[1]}"
    ax1.plot(100 * np.convolve(flips, kernel, mode="valid"), color=color, label=label)
    ax2.plot(100 * accs, color=color, linewidth=1, label=label)
ax1.set_xlabel("step")
ax1.set_ylabel("% of weight codes changed (5-step mean)")
ax1.set_title("2-bit QAT: weights keep changing grid point")
ax1.legend()
ax2.axhline(100 * float_acc, color="0.4", linestyle="--", linewidth=1, label="float32")
ax2.set_xlabel("step")
ax2.set_ylabel("test accuracy of the deployed weights (%)")
ax2.set_ylim(60, 100)
ax2.set_title("the snapshot you ship depends on the step you stop at")
ax2.legend(loc="lower right")
fig.tight_layout()
plt.show()

# %% [markdown]
# What the numbers say:
#
# * **Weights keep crossing boundaries until the end.** Even after four epochs a fraction of
#   a percent of the codes change at *every* step.
# * **Without momentum the changes are oscillations.** Over the last epoch only a fraction
#   of a percent of the weights change code at all, but each of those changes it three to six
#   times, and about half end the epoch on the code they started it with: a few weights
#   bouncing across their rounding boundaries.
# * **With momentum the changes are mostly moves.** At the same learning rate about as many
#   codes change per step as without momentum (compare the rows with $\eta = 0.01$), but they
#   are spread over more weights, each changing only about 1.5 times, and most do not come
#   back. At the same *effective* step $\eta/(1-\beta)$ momentum changes several times fewer
#   codes (the ratios printed under the tables). The buffer averages the noisy minibatch
#   gradients, so a weight sitting at a boundary is not kicked back and forth by each batch.
#   It damps the oscillation; it does not remove it. (Other seeds give the same picture at
#   2 bits; at 3 bits there are far fewer changes and the differences are smaller.)
# * **Accuracy pays for it**: at 2 bits the deployed network's test accuracy swings by
#   several points from one step to the next in the last epoch, with or without momentum;
#   where training stops decides what ships.
#
# The remedies of Nagel et al. are to freeze a weight once it oscillates (fix it to the
# grid point it visits most) or to add a term that pulls latent weights towards their grid
# points; a decaying learning rate at the end also damps the flipping. Exercise 5 tries
# the last one.
#
# ## 12. Where PyTorch's own tools fit
#
# Everything above is plain arithmetic on float tensors, which is the point: it shows what
# quantization *is*. Deploying a quantized network for speed needs integer kernels, and
# that is what libraries provide. **Production route, for orientation only:** PyTorch
# 2.13 still ships `torch.ao.quantization` (eager mode: `quantize_dynamic`, and `prepare_qat`
# with `FakeQuantize` modules that use the same straight-through estimator, with the
# gradient cut to 0 outside the clamp range), but its eager APIs are deprecated
# in favour of **torchao** (`torchao.quantization.quantize_` with configurations such as
# int8 weight-only or int4 weight-only). torchao is not installed here, and nothing in this
# course depends on either. A minimal look at the old route, with its deprecation warnings
# silenced on purpose:

# %%
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # torch.ao.quantization and quantized tensors are deprecated
    from torch.ao.quantization import quantize_dynamic

    int8_model = quantize_dynamic(copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8)
    int8_acc = accuracy(int8_model, data.X_test, data.y_test)
    packed = int8_model[0].weight()  # a quantized tensor: int8 codes plus a scale and zero point
    codes_int8, scale_int8 = packed.int_repr(), packed.q_scale()
    err_int8 = (packed.dequantize() - model[0].weight.detach()).abs().max().item()
print(f"{type(int8_model[0]).__module__}.{type(int8_model[0]).__name__} with {codes_int8.dtype} weights")
print(f"test accuracy: int8 dynamic (PyTorch) {100 * int8_acc:.2f} %, our 8-bit PTQ "
      f"{100 * ptq_acc[True][-1]:.2f} %, float32 {100 * float_acc:.2f} %")
print(f"PyTorch's first layer: max |w - w_hat| / scale = {err_int8 / scale_int8:.3f} (the bound is 0.5)")
assert err_int8 <= scale_int8 / 2 + 1e-7

# %% [markdown]
# PyTorch's int8 quantizer obeys the same half-step bound (it picks its own range, per
# tensor, and also quantizes the activations on the fly).
#
# ## Summary
#
# * A uniform quantizer is a scale, a zero point, a round and a clamp:
#   $q = \operatorname{clamp}(\operatorname{round}(x/s) + z)$, $\hat x = s(q - z)$. Rounding $z$ to an integer makes
#   0 exactly representable, which pruned weights and padding need.
# * Inside the range the error is at most $s/2$; its RMS is about $s/\sqrt{12}$, so each
#   bit halves it: 6.02 dB per bit.
# * Per-channel scales follow each row's own range and cut the error of a trained layer
#   by a factor of two here, for one extra number per row.
# * Post-training quantization of the digits MLP costs nothing at 8 bits and little at 4;
#   at 2 bits it breaks the network. Quantization-aware training with fake quantization
#   and the straight-through estimator (gradient = identity, checked) recovers most of it.
# * During QAT, latent weights oscillate across rounding boundaries until the end. Momentum
#   damps this (fewer changes at a matched effective step, and changes that are moves rather
#   than back-and-forth) but does not stop it, and the shipped accuracy depends on where
#   training stops.
# * `torch.ao.quantization` is the deprecated production route, torchao the current one.
#
# ## Exercises
#
# ### Exercise 1 (recall)
#
# A tensor's values lie in $[-1, 2]$ and are quantized with 4-bit affine codes. Give the
# scale and the zero point.

# %%
### BEGIN SOLUTION
scale_1 = (2.0 - (-1.0)) / (2**4 - 1)
zero_point_1 = round(1.0 / scale_1)
### END SOLUTION
checks.quantization.scale_and_zero_point(scale_1, zero_point_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# A weight matrix has $\max|w| = 0.635$ and is quantized with 8-bit symmetric per-tensor
# codes. What is the largest round-trip error $|w - \hat w|$ any of its weights can have?

# %%
### BEGIN SOLUTION
max_error_2 = 0.635 / (2**7 - 1) / 2
### END SOLUTION
checks.quantization.max_error(max_error_2)

# %% [markdown]
# ### Exercise 3 (implement)
#
# Write `quantize_affine_per_channel(x, bits)` for a 2-D array `x`: affine codes with one
# scale and one zero point per row (axis 0). Return `(q, scale, zero_point)` with `scale`
# and `zero_point` of shape `(rows, 1)`. Each row's range must contain 0.

# %%
def quantize_affine_per_channel(x, bits):
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    lo = np.minimum(x.min(axis=1, keepdims=True), 0.0)
    hi = np.maximum(x.max(axis=1, keepdims=True), 0.0)
    q_max = 2**bits - 1
    scale = (hi - lo) / q_max
    zero_point = np.round(-lo / scale)
    q = np.clip(np.round(x / scale) + zero_point, 0, q_max)
    return q.astype(np.int64), scale, zero_point.astype(np.int64)
    ### END SOLUTION


checks.quantization.affine_per_channel(quantize_affine_per_channel)

# %% [markdown]
# ### Exercise 4 (explore)
#
# With few bits, spending levels on a handful of large weights is wasteful. *Clip* the
# range instead: quantize the first layer `W1` with 3-bit symmetric per-tensor codes whose
# scale comes from $t = c\cdot\max|w|$ instead of $\max|w|$ (weights beyond $t$ are clamped).
# Find the fraction $c \in (0, 1]$ with the smallest RMS error. Hint: a grid of $c$ values
# and your `dequantize` plus `np.clip` are enough.

# %%
### BEGIN SOLUTION
def clipped_rms(w, bits, c):
    q_max = 2 ** (bits - 1) - 1
    s = c * np.abs(w).max() / q_max
    return rms(s * np.clip(np.round(w / s), -q_max, q_max) - w)


grid_c = np.linspace(0.05, 1.0, 400)
best_c = grid_c[np.argmin([clipped_rms(W1, 3, c) for c in grid_c])]
### END SOLUTION
checks.quantization.clipping(best_c, W1, bits=3)

# %% [markdown]
# ### Exercise 5 (explore)
#
# Section 11 left the learning rate constant. Write a variant of `qat_with_flips` whose
# learning rate decays linearly to 0 over the run (a `torch.optim.lr_scheduler.LambdaLR`
# stepped after every optimizer step, or set `opt.param_groups[0]["lr"]` yourself), run it
# with momentum 0.9 and start lr 0.01 for 4 epochs at 2 bits, and pass the fraction of
# codes changed per step over the last epoch to the check, together with the same figure
# for the constant-lr run `runs[(0.9, 0.01)]`.

# %%
### BEGIN SOLUTION
def qat_with_flips_decay(lr, momentum, bits=2, epochs=4, seed=0, batch_size=64):
    net = quantization.to_quant_linear(model, bits=bits)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    n = len(data.y_train)
    total = epochs * (-(-n // batch_size))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 1 - k / total)
    gen = torch.Generator().manual_seed(seed)
    codes, flips = weight_codes(net, bits), []
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            opt.zero_grad()
            nn.functional.cross_entropy(net(data.X_train[idx]), data.y_train[idx]).backward()
            opt.step()
            sched.step()
            new = weight_codes(net, bits)
            flips.append((new != codes).float().mean().item())
            codes = new
    return np.array(flips)


decayed_flips = qat_with_flips_decay(0.01, 0.9)[-steps_per_epoch:].mean()
constant_flips = runs[(0.9, 0.01)][0][-steps_per_epoch:].mean()
### END SOLUTION
checks.quantization.decayed_lr_flips(decayed_flips, constant_flips)
