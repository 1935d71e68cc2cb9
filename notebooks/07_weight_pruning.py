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
# # Lesson 07: Weight pruning
#
# Most weights of a trained network are small, and setting the smallest ones to exactly
# zero changes the network's answers surprisingly little. This lesson writes magnitude
# pruning from scratch, measures how much each layer tolerates, prunes iteratively with
# fine-tuning, and then spends most of its time on a trap that catches a lot of real code:
# **the momentum buffer (and weight decay) bring pruned weights back to life** unless
# the optimizer is told about the mask. It ends with what `torch.nn.utils.prune` does
# about that, and why its masks alone make a model neither smaller nor faster.
#
# ## Learning goals
#
# After this lesson you can
#
# 1. write a magnitude-pruning mask, layer by layer and globally, with an exact count of
#    pruned weights, and a structured mask that removes whole units by their norm;
# 2. run a sensitivity scan (accuracy against sparsity, one layer at a time) and read it;
# 3. compare one-shot and iterative pruning with fine-tuning by SGD with momentum, at the
#    same training budget;
# 4. show with numbers how a momentum buffer and weight decay revive pruned weights, and
#    write the mask-aware momentum step that prevents it;
# 5. explain what `torch.nn.utils.prune` stores (`weight_orig`, `weight_mask`), what keeps
#    moving under it, and why a mask by itself saves neither memory nor time.
#
# ## Prerequisites
#
# Lesson 03 (momentum in PyTorch's form: $b \leftarrow \beta b + g$, $p \leftarrow p - \eta b$,
# with weight decay $g \leftarrow g + \lambda p$). Lesson 06 is useful but not required. A
# little PyTorch: `nn.Linear`, an optimizer loop. About 60 minutes; the notebook runs in
# about 15 seconds on two CPU cores.

# %%
import copy
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from torch.nn.utils import prune

import lessons_lib
from lessons_lib import checks, pruning
from lessons_lib.compression import float32_size_bytes
from lessons_lib.data import load_digits_split
from lessons_lib.models import count_parameters, mlp
from lessons_lib.training import accuracy, train

lessons_lib.setup()

# %% [markdown]
# ## 1. A trained network to prune
#
# The digits MLP $64 \to 64 \to 32 \to 10$ of lesson 06, trained for 20 epochs with SGD,
# momentum 0.9 and a little weight decay ($\lambda = 5\cdot10^{-4}$). Its three weight matrices
# hold 6,464 of its 6,570 parameters; the biases are not pruned.

# %%
data = load_digits_split(seed=0)
LR, MOMENTUM, WD = 0.1, 0.9, 5e-4
model = mlp(hidden=(64, 32), seed=0)
history = train(model, data, epochs=20, lr=LR, momentum=MOMENTUM, weight_decay=WD, seed=0, progress=False)
dense_acc = accuracy(model, data.X_test, data.y_test)
weights = pruning.prunable_weights(model)
print(f"test accuracy {100 * dense_acc:.2f} %")
for name, w in weights.items():
    print(f"{name}: shape {tuple(w.shape)}, {w.numel():5d} weights, "
          f"median |w| {w.abs().median().item():.3f}, max |w| {w.abs().max().item():.3f}")

# %% [markdown]
# ## 2. Magnitude pruning, layer by layer and globally
#
# Pruning a tensor $W$ with $n$ entries to sparsity $s \in [0, 1)$ keeps a boolean *mask* $M$
# and uses $M \odot W$. Magnitude pruning drops the $k = \operatorname{round}(s\,n)$ entries of
# smallest $|w|$:
#
# $$M_i = \begin{cases} 0 & \text{if } |w_i| \text{ is among the } k \text{ smallest},\\ 1 & \text{otherwise.}\end{cases}$$
#
# Sorting (rather than comparing with a threshold) gives exactly $k$ even when magnitudes
# tie; a stable sort breaks ties by position.

# %%
def magnitude_mask(w, sparsity):
    """Keep-mask of w's shape with the round(sparsity * w.numel()) smallest |w| set to False."""
    flat = w.detach().abs().flatten().numpy()
    k = round(sparsity * flat.size)
    keep = np.ones(flat.size, dtype=bool)
    keep[np.argsort(flat, kind="stable")[:k]] = False
    return torch.from_numpy(keep.reshape(tuple(w.shape)))


for s in (0.0, 0.3, 0.5, 0.9, 0.99):
    for w in weights.values():
        ours, ref = magnitude_mask(w, s), pruning.magnitude_mask(w, s)
        assert torch.equal(ours, ref) and int((~ours).sum()) == round(s * w.numel())
ties = torch.tensor([0.5, -0.1, 0.1, 0.3, -0.1, 0.2])  # three entries of magnitude 0.1
print("ties, sparsity 0.5: ours", magnitude_mask(ties, 0.5).int().tolist(),
      " library", pruning.magnitude_mask(ties, 0.5).int().tolist())
print("masks identical to pruning.magnitude_mask at 5 sparsities x 3 layers; dropped counts exact")

# %% [markdown]
# **Layer-wise** pruning gives every layer the same sparsity. **Global** pruning ranks all
# weights of all layers together against one threshold, so each layer ends up with its own
# sparsity: the same few lines on the concatenation.

# %%
def global_masks(weights, sparsity):
    """Keep-masks for a dict of tensors, ranked together by magnitude."""
    flat = torch.cat([w.detach().flatten() for w in weights.values()])
    keep, masks, start = magnitude_mask(flat, sparsity), {}, 0
    for name, w in weights.items():
        masks[name] = keep[start:start + w.numel()].reshape(w.shape)
        start += w.numel()
    return masks


g_ours, g_ref = global_masks(weights, 0.9), pruning.global_magnitude_masks(weights, 0.9)
assert all(torch.equal(g_ours[n], g_ref[n]) for n in weights)
print("global masks identical to pruning.global_magnitude_masks")
print("per-layer sparsity under 90 % global pruning:",
      {n: round(1 - m.float().mean().item(), 3) for n, m in g_ours.items()})


def pruned_copy(net, masks):
    return pruning.apply_masks(copy.deepcopy(net), masks)


levels = [0.5, 0.7, 0.8, 0.9, 0.95]
print(" sparsity   layer-wise   global   (no fine-tuning)")
for s in levels:
    acc_l = accuracy(pruned_copy(model, {n: magnitude_mask(w, s) for n, w in weights.items()}),
                     data.X_test, data.y_test)
    acc_g = accuracy(pruned_copy(model, global_masks(weights, s)), data.X_test, data.y_test)
    print(f"{s:9.2f} {100 * acc_l:10.2f} % {100 * acc_g:7.2f} %")

# %% [markdown]
# Global pruning takes more from the large hidden layer and less from the small output
# layer, where every weight matters more; at high sparsity that is clearly better.
#
# ## 3. Structured pruning: whole units by their norm
#
# Zeros scattered through a matrix do not make the matrix smaller. Removing a whole
# output row of a layer (a hidden unit, or a filter of a convolution) does: the row, its
# bias and the matching input column of the next layer disappear, and a smaller dense
# layer remains. Rank the rows by their L2 norm $\|W_{r,:}\|_2$ and drop the smallest:

# %%
def row_mask(w, sparsity):
    """Keep-mask of w's shape removing the round(sparsity * rows) rows of smallest L2 norm."""
    norms = w.detach().norm(dim=1).numpy()
    keep_rows = np.ones(norms.size, dtype=bool)
    keep_rows[np.argsort(norms, kind="stable")[:round(sparsity * norms.size)]] = False
    return torch.from_numpy(keep_rows)[:, None].expand(w.shape).clone()


for s in (0.25, 0.5, 0.75):
    assert torch.equal(row_mask(weights["0.weight"], s), pruning.channel_mask(weights["0.weight"], s, axis=0))
print("row masks identical to pruning.channel_mask(axis=0)")


def shrink_first_layer(net, keep_rows):
    """A genuinely smaller MLP: drop rows of layer 0 (and their biases) and the columns of layer 2."""
    small = copy.deepcopy(net)
    small[0] = nn.Linear(64, int(keep_rows.sum()))
    small[2] = nn.Linear(int(keep_rows.sum()), net[2].out_features)
    with torch.no_grad():
        small[0].weight.copy_(net[0].weight[keep_rows])
        small[0].bias.copy_(net[0].bias[keep_rows])
        small[2].weight.copy_(net[2].weight[:, keep_rows])
        small[2].bias.copy_(net[2].bias)
    return small


mask_rows = row_mask(weights["0.weight"], 0.5)
masked_net = pruned_copy(model, {"0.weight": mask_rows})
with torch.no_grad():
    masked_net[0].bias.mul_(mask_rows[:, 0])  # a removed unit has no bias either
small_net = shrink_first_layer(model, mask_rows[:, 0])
same = torch.allclose(masked_net(data.X_test), small_net(data.X_test), atol=1e-6)
print(f"half of the first layer's units removed: {count_parameters(model)} -> {count_parameters(small_net)} "
      f"parameters, same outputs as the masked model: {same}, "
      f"accuracy {100 * accuracy(small_net, data.X_test, data.y_test):.2f} %")
assert same

# %% [markdown]
# ## 4. Sensitivity scans
#
# Layers differ in how much pruning they tolerate. A *sensitivity scan* prunes one layer
# at a time to increasing sparsity, leaves the others dense, and records the accuracy (no
# fine-tuning). Structured removal of first-layer units is on the same plot, at the
# sparsity of the weights it removes.

# %%
scan_levels = np.array([0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98])
scan = {name: [accuracy(pruned_copy(model, {name: magnitude_mask(w, s)}), data.X_test, data.y_test)
               for s in scan_levels] for name, w in weights.items()}
scan["global"] = [accuracy(pruned_copy(model, global_masks(weights, s)), data.X_test, data.y_test)
                  for s in scan_levels]
structured = []
for s in scan_levels:
    rows = row_mask(weights["0.weight"], s)[:, 0]
    structured.append(accuracy(shrink_first_layer(model, rows), data.X_test, data.y_test))

fig, ax = plt.subplots(figsize=(8, 3.8))
labels = {"0.weight": "layer 1 (64 x 64)", "2.weight": "layer 2 (32 x 64)", "4.weight": "layer 3 (10 x 32)",
          "global": "all layers, global"}
for name, accs in scan.items():
    ax.plot(scan_levels, 100 * np.array(accs), "o-", label=labels[name],
            linewidth=2.5 if name == "global" else 1.5)
ax.plot(scan_levels, 100 * np.array(structured), "x--", color="0.3", label="layer 1, whole units (structured)")
ax.set_xlabel("sparsity of the pruned layer(s)")
ax.set_ylabel("test accuracy (%)")
ax.set_title("sensitivity scan, no fine-tuning")
ax.legend(loc="lower left")
plt.show()
print(" sparsity   layer 1   layer 2   layer 3    global   layer 1 units (structured)")
for i, s in enumerate(scan_levels):
    print(f"{s:9.2f}  " + "  ".join(f"{100 * scan[n][i]:7.1f}%" for n in scan) + f"   {100 * structured[i]:8.1f}%")
assert scan["2.weight"][5] > scan["4.weight"][5]  # at 90 %, the middle layer is more robust than the output layer

# %% [markdown]
# The middle layer alone can lose 90 % of its weights and the network still classifies
# 95 % of the test images; the output layer (only 320 weights, each one connects a feature
# to a class) drops to about 72 % at the same sparsity, and the first layer lies between.
# Pruning all layers at once costs more than any one of them, which is why the global
# curve falls first. Structured removal of units hurts far earlier than removing the same number
# of individual weights: the price of a layer that is really smaller.
#
# ## 5. One-shot against iterative pruning, with fine-tuning
#
# Pruning costs accuracy; training the remaining weights for a while (*fine-tuning*)
# recovers much of it. During fine-tuning the pruned weights must stay zero: here the
# library's `MaskedSGD` does that (section 6 shows why a plain optimizer does not, and
# writes the step out). Two schedules at the **same training budget**:
#
# * **iterative**: prune to 50 %, fine-tune 2 epochs, prune to 75 %, fine-tune 2 epochs, ...
#   through 98 %, each mask recomputed from the current weights;
# * **one-shot**: prune the dense model straight to the target and fine-tune as many
#   epochs as the iterative schedule spent to get there ($2k$ epochs for the $k$-th level).

# %%
schedule = [0.5, 0.75, 0.9, 0.95, 0.97, 0.98]
EPOCHS_PER_LEVEL, FT_LR = 2, 0.05

iterative_net, iterative_acc = copy.deepcopy(model), []
for k, s in enumerate(schedule):
    masks = pruning.global_magnitude_masks(pruning.prunable_weights(iterative_net), s)
    train(iterative_net, data, epochs=EPOCHS_PER_LEVEL, lr=FT_LR, momentum=MOMENTUM, weight_decay=WD,
          masks=masks, seed=k + 1, progress=False)
    assert pruning.count_revived(iterative_net, masks) == 0
    iterative_acc.append(accuracy(iterative_net, data.X_test, data.y_test))

oneshot_acc, no_ft_acc = [], []
for k, s in enumerate(schedule):
    net = copy.deepcopy(model)
    masks = pruning.global_magnitude_masks(pruning.prunable_weights(net), s)
    no_ft_acc.append(accuracy(pruned_copy(net, masks), data.X_test, data.y_test))
    train(net, data, epochs=EPOCHS_PER_LEVEL * (k + 1), lr=FT_LR, momentum=MOMENTUM, weight_decay=WD,
          masks=masks, seed=k + 1, progress=False)
    oneshot_acc.append(accuracy(net, data.X_test, data.y_test))

print(" sparsity   epochs   no fine-tuning   one-shot   iterative")
for k, s in enumerate(schedule):
    print(f"{s:9.2f} {EPOCHS_PER_LEVEL * (k + 1):8d} {100 * no_ft_acc[k]:13.2f} % {100 * oneshot_acc[k]:8.2f} % "
          f"{100 * iterative_acc[k]:8.2f} %")
assert iterative_acc[-1] > oneshot_acc[-1] and iterative_acc[-2] > oneshot_acc[-2]

# %%
fig, ax = plt.subplots(figsize=(8, 3.8))
ax.axhline(100 * dense_acc, color="0.4", linestyle="--", label="dense")
ax.plot(schedule, 100 * np.array(no_ft_acc), "x:", color="0.5", label="pruned, no fine-tuning")
ax.plot(schedule, 100 * np.array(oneshot_acc), "o-", label="one-shot + fine-tuning")
ax.plot(schedule, 100 * np.array(iterative_acc), "s-", label="iterative prune + fine-tune")
ax.set_xlabel("global sparsity")
ax.set_ylabel("test accuracy (%)")
ax.set_title("same epochs of SGD with momentum 0.9 for both schedules")
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# Up to 95 % the two schedules end within a point of each other (one-shot spends all its
# epochs on the final mask, iterative spreads them over the rounds). At 97 and 98 %, where only a few hundred weights are
# left, iterative pruning keeps several points more: removing weights in steps lets the
# network move what it needs into the weights that will survive. (Other seeds give the
# same picture.)
#
# ## 6. The pitfall: momentum and weight decay revive pruned weights
#
# A common way to prune in the middle of training is to zero the small weights once and
# carry on with the same optimizer. Recall PyTorch's SGD step with weight decay:
#
# $$g = \nabla L(w) + \lambda w, \qquad b \leftarrow \beta b + g, \qquad w \leftarrow w - \eta\, b.$$
#
# At a pruned position $w = 0$, but neither $\nabla L$ nor $b$ is zero there: the buffer still
# remembers the gradients of the steps before pruning. Even if the gradient is masked,
# the buffer keeps pushing, and the pruned weight drifts by
#
# $$\Delta w = -\eta \sum_{k\ge1} \beta^k b_0 = -\eta\,\frac{\beta}{1-\beta}\,b_0,$$
#
# ten times the last step's size for $\beta = 0.9$. Once it is nonzero, weight decay feeds
# $\lambda w$ back into the buffer. Check the drift formula on one scalar first:

# %%
b0, eta, beta = 0.02, 0.1, 0.9
w_s, b_s = 0.0, b0  # pruned weight; the buffer as it was when the weight was zeroed
for _ in range(300):
    g_s = 0.0  # masked gradient, and no weight decay
    b_s = beta * b_s + g_s
    w_s = w_s - eta * b_s
print(f"drift after 300 steps {w_s:.6f}, formula -eta*beta/(1-beta)*b0 = {-eta * beta / (1 - beta) * b0:.6f}")
assert abs(w_s - (-eta * beta / (1 - beta) * b0)) < 1e-9

# %% [markdown]
# Now the real thing. Take the trained model *and its optimizer* (with its momentum
# buffers), prune 90 % of the weights globally, and continue training for 5 epochs in four
# ways:
#
# 1. **zero the weights once** and carry on;
# 2. **zero the weights and mask the gradients** at every step (a common half-fix, e.g.
#    with gradient hooks), same optimizer;
# 3. the same with a **fresh optimizer** (empty buffers);
# 4. the **mask-aware step**: mask the gradient, the buffer *and* the weight at every step.
#
# The mask-aware step, written out (PyTorch's form; on kept weights it is exactly
# `torch.optim.SGD`):

# %%
@torch.no_grad()
def masked_sgd_step(params, masks, buffers, lr, momentum, weight_decay):
    """One SGD step with momentum and weight decay that keeps pruned weights and their buffers at 0."""
    for name, p in params.items():
        mask = masks.get(name, torch.ones_like(p, dtype=torch.bool))
        g = (p.grad + weight_decay * p) * mask
        buf = g.clone() if name not in buffers else momentum * buffers[name] + g
        buffers[name] = buf * mask
        p.sub_(lr * buffers[name])
        p.mul_(mask)


# %% [markdown]
# It must agree with the library's `MaskedSGD` (a `torch.optim.SGD` that masks around its
# step) and, tensor by tensor, with `pruning.masked_momentum_step`:

# %%
prune_masks = pruning.global_magnitude_masks(weights, 0.9)
n_pruned = sum(int((~m).sum()) for m in prune_masks.values())
net_a, net_b = pruned_copy(model, prune_masks), pruned_copy(model, prune_masks)
opt_b = pruning.MaskedSGD(net_b, prune_masks, lr=LR, momentum=MOMENTUM, weight_decay=WD)
bufs_a, bufs_c = {}, {}
p_c = {n: p.detach().clone() for n, p in net_a.named_parameters()}
gen = torch.Generator().manual_seed(3)
for _ in range(30):
    idx = torch.randint(0, len(data.y_train), (64,), generator=gen)
    for net in (net_a, net_b):
        net.zero_grad()
        nn.functional.cross_entropy(net(data.X_train[idx]), data.y_train[idx]).backward()
    grads = {n: p.grad.clone() for n, p in net_a.named_parameters()}
    masked_sgd_step(dict(net_a.named_parameters()), prune_masks, bufs_a, LR, MOMENTUM, WD)
    opt_b.step()
    for n in p_c:  # the library's functional step, fed the same gradients
        p_c[n], bufs_c[n] = pruning.masked_momentum_step(
            p_c[n], grads[n], bufs_c.get(n), prune_masks.get(n, torch.ones_like(p_c[n], dtype=torch.bool)),
            LR, MOMENTUM, WD)
gap_b = max((a - b).abs().max().item() for a, b in zip(net_a.parameters(), net_b.parameters(), strict=True))
gap_c = max((p - p_c[n]).abs().max().item() for n, p in net_a.named_parameters())
print(f"30 steps: largest difference to MaskedSGD {gap_b:.1e}, to masked_momentum_step {gap_c:.1e}")
assert gap_b < 1e-6 and gap_c < 1e-6

# %% [markdown]
# Now the four variants, each continuing from the trained model and (except variant 3)
# the optimizer state it ended with. After every step count the pruned positions whose
# weight is not zero (`pruning.count_revived`):

# %%
def continue_training(variant, epochs=5, seed=5, batch_size=64):
    net = pruned_copy(model, prune_masks)
    params = dict(net.named_parameters())
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
    if variant != "fresh optimizer, gradients masked":
        opt.load_state_dict(history.optimizer.state_dict())  # the buffers of the 20 training epochs
    buffers = {n: opt.state[p]["momentum_buffer"].clone() for n, p in params.items() if p in opt.state}
    gen, revived, rms_pruned, n = torch.Generator().manual_seed(seed), [], [], len(data.y_train)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            net.zero_grad()
            nn.functional.cross_entropy(net(data.X_train[idx]), data.y_train[idx]).backward()
            if variant == "mask-aware step":
                masked_sgd_step(params, prune_masks, buffers, LR, MOMENTUM, WD)
            else:
                if variant != "weights zeroed once":
                    for name, mask in prune_masks.items():
                        params[name].grad.mul_(mask)
                opt.step()
            revived.append(pruning.count_revived(net, prune_masks))
            with torch.no_grad():
                at_zero = torch.cat([params[name][~mask] for name, mask in prune_masks.items()])
                rms_pruned.append(at_zero.square().mean().sqrt().item())
    pruned_w = torch.cat([params[n][~m] for n, m in prune_masks.items()]).detach()
    if variant == "mask-aware step":
        buf_pruned = torch.cat([buffers[n][~m] for n, m in prune_masks.items()])
    else:
        buf_pruned = torch.cat([opt.state[params[n]]["momentum_buffer"][~m] for n, m in prune_masks.items()])
    return dict(net=net, revived=np.array(revived), rms=np.array(rms_pruned), max_pruned=pruned_w.abs().max().item(),
                buf_nonzero=int((buf_pruned != 0).sum()), acc=accuracy(net, data.X_test, data.y_test),
                acc_remasked=accuracy(pruned_copy(net, prune_masks), data.X_test, data.y_test))


variants = ["weights zeroed once", "gradients masked", "fresh optimizer, gradients masked", "mask-aware step"]
results = {v: continue_training(v) for v in variants}
print(f"{n_pruned} of {sum(w.numel() for w in weights.values())} weights pruned (90 %); "
      f"accuracy right after pruning {100 * accuracy(pruned_copy(model, prune_masks), data.X_test, data.y_test):.2f} %")
print(f"{'variant':34s} revived after 1 step / 10 steps / 5 epochs   max |w| pruned   "
      f"buffer != 0 there   acc   acc re-masked")
for v, r in results.items():
    rv = r["revived"]
    print(f"{v:34s} {rv[0]:13d} {rv[9]:9d} {rv[-1]:9d} {r['max_pruned']:16.4f} {r['buf_nonzero']:17d} "
          f"{100 * r['acc']:7.2f} % {100 * r['acc_remasked']:6.2f} %")
assert results["weights zeroed once"]["revived"][0] == n_pruned
assert results["gradients masked"]["revived"][-1] == n_pruned
assert results["mask-aware step"]["revived"].max() == 0 and results["mask-aware step"]["buf_nonzero"] == 0
assert results["gradients masked"]["acc_remasked"] < results["gradients masked"]["acc"]

# %% [markdown]
# Read the table row by row:
#
# * **Zeroing the weights once** is undone by the very first step: every one of the
#   pruned weights is nonzero again, pushed by its gradient and its buffer. After 5 epochs
#   the "90 % sparse" model is dense. Re-applying the mask at the end (the last column)
#   cuts weights the network has learnt to use again.
# * **Masking the gradient is not enough**: the old buffer still moves every pruned weight
#   on the first step, and weight decay then keeps feeding $\lambda w$ into the buffer. The
#   revived weights are small, but not zero: the model is not sparse.
# * **A fresh optimizer with masked gradients** happens to work: its buffer starts at 0 on
#   the pruned positions and $g = 0 + \lambda\cdot 0$ keeps it there. It silently breaks as
#   soon as the buffer is not empty, e.g. when pruning again in the next round of an
#   iterative schedule with the same optimizer, or after loading a checkpoint.
# * **The mask-aware step** keeps weights *and* buffers at exactly zero, whatever state it
#   starts from. This is what Distiller does ("re-apply the masks after every step") and
#   what the library's `MaskedSGD` does.
#
# (That all four reach the same test accuracy, 437 of 450 images, is a coincidence of this
# seed: their weights differ, as the columns before and after show.)

# %%
fig, ax = plt.subplots(figsize=(8, 3.6))
for v, color in [("weights zeroed once", "#d62728"), ("gradients masked", "#ff7f0e")]:
    ax.semilogy(np.arange(1, len(results[v]["rms"]) + 1), results[v]["rms"], color=color,
                label=f"{v}: {results[v]['revived'][-1]} of {n_pruned} nonzero")
for v in ("fresh optimizer, gradients masked", "mask-aware step"):
    assert np.all(results[v]["rms"] == 0)
    ax.plot([], [], " ", label=f"{v}: exactly 0 at every step (no point on a log axis)")
ax.set_xlabel("step after pruning")
ax.set_ylabel("RMS of the pruned weights")
ax.set_title("pruned weights coming back, 90 % pruned, SGD momentum 0.9, weight decay 5e-4")
ax.legend(loc="lower right")
plt.show()

# %% [markdown]
# ## 7. How `torch.nn.utils.prune` does it
#
# PyTorch's pruning utilities take a different route: they **reparametrise** the layer.
# `prune.custom_from_mask(layer, "weight", mask)` (or `l1_unstructured`, ...) renames the
# parameter `weight` to `weight_orig`, stores the mask as a buffer `weight_mask`, and
# recomputes `weight = weight_orig * weight_mask` in a forward pre-hook before every call.
# The optimizer keeps updating `weight_orig` (the same `Parameter` object as before, so it
# keeps its momentum buffer). Apply the same 90 % masks and continue training 5 epochs with
# the old optimizer, as in variant 1:

# %%
tp_net = copy.deepcopy(model)
tp_opt = torch.optim.SGD(tp_net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WD)
tp_opt.load_state_dict(history.optimizer.state_dict())
layers = {"0.weight": tp_net[0], "2.weight": tp_net[2], "4.weight": tp_net[4]}
for name, layer in layers.items():
    prune.custom_from_mask(layer, "weight", prune_masks[name])
print("parameters:", [n for n, _ in tp_net.named_parameters()])
print("buffers:   ", [n for n, _ in tp_net.named_buffers()])
orig_before = {n: layer.weight_orig.detach().clone() for n, layer in layers.items()}

gen, n = torch.Generator().manual_seed(5), len(data.y_train)
for _ in range(5):
    perm = torch.randperm(n, generator=gen)
    for start in range(0, n, 64):
        idx = perm[start:start + 64]
        tp_opt.zero_grad()
        nn.functional.cross_entropy(tp_net(data.X_train[idx]), data.y_train[idx]).backward()
        tp_opt.step()


def at_pruned(get):
    return torch.cat([get(n, layer)[~prune_masks[n]] for n, layer in layers.items()]).detach()


effective = at_pruned(lambda n, layer: layer.weight)
orig = at_pruned(lambda n, layer: layer.weight_orig)
moved = at_pruned(lambda n, layer: layer.weight_orig - orig_before[n])
grad = at_pruned(lambda n, layer: layer.weight_orig.grad)
buf = at_pruned(lambda n, layer: tp_opt.state[layer.weight_orig]["momentum_buffer"])
print(f"effective weights (weight = weight_orig * mask) nonzero at pruned positions: {int((effective != 0).sum())}")
print(f"weight_orig at pruned positions: {int((moved != 0).sum())} of {n_pruned} changed during training, "
      f"max |weight_orig| there {orig.abs().max().item():.4f}")
print(f"gradient of weight_orig there: all zero: {bool((grad == 0).all())};  momentum buffer there: "
      f"{int((buf != 0).sum())} nonzero")
print(f"test accuracy {100 * accuracy(tp_net, data.X_test, data.y_test):.2f} %")
assert int((effective != 0).sum()) == 0 and bool((grad == 0).all())
assert int((moved != 0).sum()) == n_pruned and int((buf != 0).sum()) == n_pruned

# %% [markdown]
# Both facts at once: the **effective weights stay zero** (the mask multiplies them in
# every forward pass, and the gradient reaching `weight_orig` is masked too), while
# **`weight_orig` and its momentum buffer keep moving** at the pruned positions, driven by
# the old buffer and by weight decay ($\lambda\,w_{\text{orig}}$ is not masked). That is harmless
# for the forward pass, but it is state you pay for, and if the mask is ever relaxed (or
# recomputed from `weight_orig`), values that were never trained as part of the network
# come back.
#
# ### A mask makes a model neither smaller nor faster
#
# What is stored? `weight_orig` is exactly as large as `weight` was, and the mask is a
# float tensor of the same shape. `prune.remove` makes the pruning permanent (writes
# `weight_orig * mask` into a plain `weight` and drops the rest), which brings the model
# back to a dense matrix that happens to hold zeros:

# %%
removed = copy.deepcopy(tp_net)
for layer in (removed[0], removed[2], removed[4]):
    prune.remove(layer, "weight")
sizes = {
    "dense": (model, float32_size_bytes(model)),
    "torch prune (reparametrised)": (tp_net, float32_size_bytes(tp_net)),
    "after prune.remove": (removed, float32_size_bytes(removed)),
}
print(f"{'model':30s} parameters   stored tensor entries   torch.save bytes   zeros in weights")
for label, (net, n_bytes) in sizes.items():
    entries = sum(t.numel() for t in net.state_dict().values())
    zeros = pruning.zero_fraction({k: v for k, v in net.state_dict().items()
                                   if k.endswith("weight") or k.endswith("weight_orig")})
    print(f"{label:30s} {count_parameters(net):10d} {entries:23d} {n_bytes:18,d} {100 * zeros:15.1f} %")
assert sizes["torch prune (reparametrised)"][1] > 1.8 * sizes["dense"][1]
assert abs(sizes["after prune.remove"][1] - sizes["dense"][1]) < 200

# %% [markdown]
# The trainable parameter count does not change (`weight_orig` replaces `weight`), but the
# stored entries and the file nearly double. After `prune.remove` the file is as large as
# the dense one: 90 % zeros cost as much as any other float32 values. Lesson 08 stores
# only the nonzero weights and their positions, which is what makes a file small.
#
# And the time: a masked layer does the full dense matrix product *plus* a multiplication
# by the mask. Time a larger layer (512 x 512, a batch of 256) in three forms: dense,
# reparametrised with a 90 % mask, and structurally halved (256 output units). The
# measurement alternates the three and keeps each one's fastest run (on one thread); the
# timings themselves depend on the machine and are not printed, only the comparisons:

# %%
torch.manual_seed(0)
x_big = torch.randn(256, 512)
dense_layer = nn.Linear(512, 512)
masked_layer = copy.deepcopy(dense_layer)
prune.l1_unstructured(masked_layer, "weight", amount=0.9)
half_layer = nn.Linear(512, 256)
candidates = {"dense": dense_layer, "masked 90 %": masked_layer, "half the units": half_layer}
best = dict.fromkeys(candidates, float("inf"))
torch.set_num_threads(1)  # one thread: steadier timings when the machine is busy
with torch.no_grad():
    for _ in range(60):
        for label, layer in candidates.items():
            start = time.perf_counter()
            layer(x_big)
            best[label] = min(best[label], time.perf_counter() - start)
torch.set_num_threads(2)  # back to the course's setting (lessons_lib.setup)
print("masked 90 % layer faster than the dense one:", best["masked 90 %"] < 0.9 * best["dense"])
print("layer with half the units faster than the dense one:", best["half the units"] < 0.8 * best["dense"])
assert best["masked 90 %"] >= 0.9 * best["dense"] and best["half the units"] < 0.8 * best["dense"]

# %% [markdown]
# Unstructured zeros save time only with sparse kernels, and on CPUs and GPUs those beat a
# dense product only at very high sparsity and on suitable shapes; structured pruning
# (section 3) gives a smaller dense layer that is faster everywhere, at a higher price in
# accuracy.
#
# ## Summary
#
# * Magnitude pruning keeps a boolean mask dropping the $\operatorname{round}(s\,n)$ smallest
#   $|w|$; global ranking across layers beats a uniform per-layer sparsity at high sparsity.
#   Structured pruning removes whole units by norm and really shrinks the layer.
# * Sensitivity differs by layer: here the middle layer tolerates 90 % sparsity alone, the
#   output layer does not.
# * With fine-tuning by SGD with momentum at the same budget, one-shot and iterative
#   pruning end within a point of each other up to 95 %; beyond that iterative pruning
#   keeps far more accuracy.
# * Zeroing weights once does not prune a model that keeps training: gradients revive them
#   at the first step, and even with masked gradients the **momentum buffer** moves them
#   (by $\eta\beta b_0/(1-\beta)$) and **weight decay** keeps them alive. The mask-aware step masks
#   gradient, buffer and weight every step: zero revived, buffer zero.
# * `torch.nn.utils.prune` reparametrises `weight = weight_orig * weight_mask`: the
#   effective weights stay zero, but `weight_orig` and its buffer keep moving, the stored
#   model nearly doubles, and the forward pass gets slower, not faster.
#
# ## Exercises
#
# ### Exercise 1 (recall)
#
# How many weights does magnitude pruning at sparsity 0.9 set to zero in a $300\times100$
# weight matrix?

# %%
### BEGIN SOLUTION
dropped_1 = round(0.9 * 300 * 100)
### END SOLUTION
checks.pruning.dropped_count(dropped_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# A weight is pruned (set to 0) right after a step at which its momentum buffer was
# $b_0 = 0.02$. From then on its gradient is masked to 0 and there is no weight decay, but
# the buffer is not masked: each step does $b \leftarrow 0.9\,b$ and $w \leftarrow w - 0.1\,b$.
# Where does the weight end up (its limit as the number of steps grows)?

# %%
### BEGIN SOLUTION
limit_2 = -0.1 * 0.02 * 0.9 / (1 - 0.9)
### END SOLUTION
checks.pruning.drift_limit(limit_2)

# %% [markdown]
# ### Exercise 3 (implement)
#
# Write the mask-aware step for PyTorch's **Nesterov** form on NumPy arrays:
# `masked_nesterov_step(param, grad, buf, mask, lr, momentum, weight_decay)` returns the
# new `(param, buf)`. PyTorch's Nesterov step is $g = \nabla L + \lambda w$, $b \leftarrow \beta b + g$
# ($b = g$ on the first step, when `buf` is `None`), $w \leftarrow w - \eta\,(g + \beta b)$. Pruned
# entries of the weight and of the buffer must stay exactly 0.

# %%
def masked_nesterov_step(param, grad, buf, mask, lr, momentum, weight_decay):
    ### BEGIN SOLUTION
    g = (grad + weight_decay * param) * mask
    buf = g.copy() if buf is None else (momentum * buf + g) * mask
    return (param - lr * (g + momentum * buf)) * mask, buf
    ### END SOLUTION


checks.pruning.nesterov_step(masked_nesterov_step)

# %% [markdown]
# ### Exercise 4 (explore)
#
# Prune the trained `model` to **at least 90 %** global sparsity and fine-tune it so that
# its test accuracy is within **1.5 percentage points** of the dense model's, using as few
# epochs as you can (then try 95 %: how close can you get?). Pass your model and masks to the check; it verifies the sparsity,
# that no pruned weight is nonzero, and the accuracy. (Section 5 has all the pieces; try
# more or fewer pruning rounds, epochs and learning rates.)

# %%
### BEGIN SOLUTION
net_4 = copy.deepcopy(model)
for k, s in enumerate([0.75, 0.9]):
    masks_4 = pruning.global_magnitude_masks(pruning.prunable_weights(net_4), s)
    train(net_4, data, epochs=3, lr=0.05, momentum=0.9, weight_decay=WD, masks=masks_4, seed=10 + k,
          progress=False)
### END SOLUTION
checks.pruning.sparse_and_accurate(net_4, masks_4, dense_acc, min_sparsity=0.9, max_drop_pt=1.5)
