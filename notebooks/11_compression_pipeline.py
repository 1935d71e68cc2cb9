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
# # Lesson 11: The compression pipeline
#
# Lessons 09 and 10 made weights coarse and made most of them zero. Neither, on its own,
# makes a file smaller: a float32 matrix full of zeros or of 4-bit values is still a
# float32 matrix. This lesson builds a pipeline modelled on Deep Compression (Han, Mao and
# Dally, ICLR 2016): **prune, then share weights by k-means, then store** only what is
# needed, packed by a general-purpose lossless compressor. Its subject is a classifier of
# 8x8 handwritten digits with the hidden layers of LeNet-300-100 (LeCun, Bottou, Bengio and
# Haffner, "Gradient-based learning applied to document recognition", Proc. IEEE 1998), the
# fully connected network of Deep Compression's first experiment (its section 5.1). It is a
# simplified pipeline, and it differs from theirs in several ways (section 7 lists them),
# chiefly: the paper fine-tunes the shared values after clustering (its *trained
# quantization*), ours keeps the k-means centroids as they are; and the paper Huffman-codes
# the stored symbols, ours compresses the whole file with zlib or LZMA. The pruning differs
# too (one global threshold, distillation and the removal of dead units here), and so do the
# bit widths. The size is measured honestly, as the bytes of a file that loads back into a
# working network, with the positions of the weights and the codebooks included, and it is
# compared with small dense networks trained from scratch, at equal bytes and at equal accuracy, and
# at equal accuracy again with the small networks given the pruned ones' extra fine-tuning. Last, it
# counts the optimizer's own memory: the momentum buffer is as large as the model (lesson 13 stores it
# in 8 bits).
#
# ## Learning goals
#
# After this lesson you can
#
# 1. state what an honest model size counts, and measure it as the bytes of a file that
#    reloads to the accuracy you report;
# 2. run prune, fine-tune with momentum, k-means weight sharing and storage in sequence,
#    explain what each step saves, and say where this pipeline differs from Deep Compression;
# 3. write 1-D k-means for weight sharing and the relative-index encoding of sparse
#    positions, and read a file's byte budget (indices, codes, codebooks, biases, header);
# 4. read accuracy against size, against the large network and against the smallest dense
#    network of the same accuracy, and compare it with the published Deep Compression
#    figures, knowing why they are not directly comparable;
# 5. show that SGD's momentum buffer costs as much memory as the model during training.
#
# ## Prerequisites
#
# Lessons 09 (weight quantization) and 10 (weight pruning, the mask-aware momentum step). About 210
# minutes: about 135 to read and run the eight sections (some 8,400 words of prose and many
# printed tables), about 75 for the four exercises; the notebook runs in under a minute on two CPU
# cores (it runs the pipeline for five seeds).

# %%
import copy
import functools
import heapq
import lzma
import os
import tempfile
import textwrap
import zlib

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.special import stdtrit  # the Student-t quantile (what scipy.stats.t.ppf computes)

import lessons_lib
from lessons_lib import (
    baselines,
    checks,
    compression,
    model_file,
    momentum8bit,
    pruning,
    selection,
    weight_sharing,
)
from lessons_lib.batched_training import train_many
from lessons_lib.models import count_parameters, mlp
from lessons_lib.progress import progress
from lessons_lib.splits import load_digits_splits
from lessons_lib.training import accuracy, train

lessons_lib.setup()
torch.set_default_dtype(torch.float64)  # every printed number the same on every CPU: see section 1
workdir = tempfile.TemporaryDirectory()  # the files this lesson writes; removed with the kernel
# Okabe-Ito colours (readable with every common colour-vision deficiency); lines also differ by dashes
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "green": "#009E73",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999"}


def path(name):
    return os.path.join(workdir.name, name)


# %% [markdown]
# ## 1. What counts as the size of a model
#
# A claim like "the model is 50x smaller" needs two sizes. Here both are **files on
# disk**:
#
# * the baseline is what `torch.save` writes for the model's `state_dict` in float32
#   (`model_file.float32_size_bytes`): every parameter in 4 bytes, plus a little pickle
#   structure;
# * the compressed size is the file that `model_file.save_compressed` writes, and it
#   counts only if `model_file.load_compressed` turns it back into a network with the
#   accuracy we report. Everything needed to do that is in the file: the positions of
#   the surviving weights, their codes, the codebooks, the biases, names and shapes.
#
# The figures this lesson must produce (the course's goals are in brackets):
#
# * `compression_ratio` = float32 file bytes / compressed file bytes ($\ge 50$), and
#   `compression_ratio_vs_right_sized`, the same against the smallest dense network of the same
#   accuracy (section 6; $\ge 10$);
# * `compression_acc_drop_pt` = dense test accuracy minus the reloaded compressed model's,
#   in percentage points ($\le 0.5$).
#
# (Another of the course's compression figures, `momentum_state_8bit_acc_drop_pt`, the cost of an
# 8-bit momentum buffer, is lesson 13's, section 5.)
#
# Each comes from training runs, and one run is one draw from a noisy process (the initial
# weights and the order of the minibatches are random). So each figure is measured over
# several seeds and reported per seed and as a mean with a 95 % interval,
# $\bar x \pm t_{0.975,\,n-1}\,s/\sqrt n$ ($s$ the sample standard deviation of the $n$
# values, $t$ the Student-$t$ quantile: $t_{0.975,4} = 2.776$ for five seeds). Seed $k$ fixes
# the initial weights and every shuffle of its run; the data stay split the same way. Two
# methods are compared **paired**: on the same seeds and the same images, by the mean of the
# per-seed differences with its 95 % interval; an interval that contains 0 means "no difference
# detected, at this precision", not "no difference".
#
# The lesson computes in float64 (the setup cell makes it torch's default type) so that its
# printed numbers are the same on every CPU: float32 sums round differently with AVX-512,
# AVX2 or no vector unit and with the thread count, and training carries such differences
# forward from step to step. float64 makes the accuracies and the printed numbers the same, but not
# by construction: the trained weights still differ in their last bits between CPU paths (by up to
# about 1e-15), and a weight that sits on the border between two k-means clusters could then get the
# other code and change a file by a byte or so (it did, at 7 and 8 bits, before the next measure). So
# every file of this lesson stores the **float32-rounded** weights: a deployed model is stored in
# float32, where bytes are counted the float32 size is what counts, and rounding to float32 erases
# differences of 1e-15. The network in the float32 file is checked to score exactly what the float64
# one does, on every seed; and every file size the lesson prints is asserted to lie clear of its
# rounding boundary, so that a byte moving on some other machine would fail here first (the course's
# tests rerun the notebook with torch held to no vector instructions, `ATEN_CPU_CAPABILITY=default`,
# and two threads, and compare every printed output; see the README).
#
# The data are the 1,797 handwritten digits of 8x8 pixels that ship with scikit-learn, a copy
# of the test set of the UCI *Optical Recognition of Handwritten Digits* data (E. Alpaydin
# and C. Kaynak, 1998). The network has LeNet-300-100's hidden layers on their 64 pixels:
# $64 \to 300 \to 100 \to 10$.
#
# The images are split once, stratified by class (every class keeps its share in each part), into
# three parts, the same in lessons 09 to 13: **1,077 training** images, the only ones any network of
# this lesson trains on; **270 validation** images, on which the pruning schedule (section 2), the bit
# width (section 5), the right-sized dense network and the equal-bytes partners (section 6) are chosen,
# each by a rule stated before its validation numbers (the bit rule after an earlier version's test-read
# choice of 4 bits; section 6's rules first applied to the test images in earlier versions), and the 97 % is checked (section 5, by a rule added after an
# earlier version's numbers had been seen); and **450 test** images, read for the reported figures,
# after the choices. What is not chosen on validation is kept from an earlier version of this lesson and
# said so where it is used (the dense training protocols; section 6's small-network candidates, the
# two-layer ones added with lesson 09's numbers for 64-64-32-10 seen, and its selection rules; the bit widths in exercise 4's solution). Keep the
# units in mind: one validation image is $100/270 = 0.37$ points of accuracy, one test image
# $100/450 = 0.22$ points, the smallest difference an accuracy can show.
#
# Train the network densely with SGD and momentum, $\eta = 0.1$ and $\beta = 0.9$, for 20 epochs in
# minibatches of 64 (a protocol kept from an earlier version of the lesson, not tuned here); seed 0 is the network that
# sections 2 to 4 take apart, the other seeds join in section 5:

# %%
data = load_digits_splits(validation_size=0.2, seed=0)  # fixed once; the seeds vary initialisation and data order
fit = (data.X_train, data.y_train)  # what every network of this lesson trains on: the training part alone
HIDDEN = (300, 100)
T95 = {5: stdtrit(4, 0.975)}  # the Student-t quantile for 5 seeds


def mean_ci(values):
    """Mean of values and the half-width t_{0.975, n-1} * s / sqrt(n) of its 95 % interval."""
    v = np.asarray(values, dtype=float)
    return v.mean(), stdtrit(v.size - 1, 0.975) * v.std(ddof=1) / np.sqrt(v.size)


def images(acc):
    """An accuracy in [0, 1] as the number of test images it counts (an exact integer)."""
    return round(acc * len(data.y_test))


def train_dense(seeds, show_progress=False):
    """The dense 64-300-100-10 networks, {seed: network}: initial weights and minibatch order fixed by
    the seed. They train side by side (stacked weights), each exactly as train(..., seed=seed) trains it
    alone."""
    nets = [mlp(hidden=HIDDEN, seed=seed) for seed in seeds]
    train_many(nets, fit, epochs=20, lr=0.1, momentum=0.9, batch_size=64, seeds=list(seeds),
               progress=show_progress, evaluate=())  # evaluate=(): no accuracies after every epoch (none is used)
    return dict(zip(seeds, nets, strict=True))


def float32_weights(net):
    """A copy of net with every weight rounded to float32: the network its float32 file holds."""
    net = copy.deepcopy(net)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.float())
    return net


dense_by_seed = train_dense(range(5), show_progress=True)  # the five seeds of section 5
dense = dense_by_seed[0]  # seed 0: the network of sections 1 to 4

# %%
dense_acc = accuracy(dense, data.X_test, data.y_test)
n_params = count_parameters(dense)
float32_bytes = model_file.float32_size_bytes(dense)
dense32 = float32_weights(dense)
print(f"parameters: {n_params:,}   4 bytes each (float32): {4 * n_params:,} bytes")
print(f"torch.save file in float32: {float32_bytes:,} bytes "
      f"(pickle structure: {float32_bytes - 4 * n_params:,} bytes)")
print(f"dense test accuracy (seed 0): {100 * dense_acc:.2f} %, its float32 copy: "
      f"{100 * accuracy(dense32, data.X_test, data.y_test):.2f} %  "
      f"(one test image = 100/{len(data.y_test)} = {100 / len(data.y_test):.2f} points)")
n_train, n_val, n_test = len(data.y_train), len(data.y_val), len(data.y_test)
print(f"parts: {n_train:,} training, {n_val} validation, {n_test} test images; one validation image = "
      f"100/{n_val} = {100 / n_val:.2f} points, one test image = 100/{n_test} = {100 / n_test:.2f} points")
class_share = [np.bincount(y.numpy(), minlength=10) / len(y) for y in (data.y_train, data.y_val, data.y_test)]
worst_gap = max(np.abs(class_share[0] - class_share[i]).max() for i in (1, 2))
print(f"largest difference of a class's share between two parts: {100 * worst_gap:.2f} points (stratified)")
assert (n_train, n_val, n_test) == (1077, 270, 450) and worst_gap < 0.01
assert (f"{100 / n_val:.2f}", f"{100 / n_test:.2f}") == ("0.37", "0.22")
print(f"95 % intervals use t_0.975,4 = {T95[5]:.3f} (5 seeds)")
assert 0 < float32_bytes - 4 * n_params < 0.02 * float32_bytes
assert accuracy(dense32, data.X_test, data.y_test) == dense_acc

# %% [markdown]
# ## 2. Prune, with fine-tuning and momentum
#
# Iterative global magnitude pruning as in lesson 10: 75 %, 90 %, 95 %, then 97 % of the
# weight matrices' entries, fine-tuning after each round with the mask-aware momentum step
# (`train(..., masks=...)` uses `MaskedSGD`, with $\beta = 0.9$ and batches of 64). Every round's
# fine-tuning also *distils* from the dense network (Hinton, Vinyals and Dean, "Distilling the
# Knowledge in a Neural Network", 2015): the loss is
# $(1-\alpha)\,\mathrm{CE}(z, y) + \alpha T^2\,\mathrm{KL}(\mathrm{softmax}(\tilde z/T)\,\|\,\mathrm{softmax}(z/T))$
# with the student's logits $z$ and the dense teacher's logits $\tilde z$. A copy is kept after
# each round for the size-accuracy plot of section 6. Round $r = 0, 1, 2, 3$ of seed $k$ shuffles its
# minibatches with seed $10k + r + 1$.
#
# The rest of the schedule is **chosen on the validation images**, by the course's rule
# (`lessons_lib.selection`, the one lessons 09 and 10 use, fixed before this search ran): among the
# settings whose mean validation accuracy over the five seeds is within 0.5 points of the best mean,
# the cheapest (fewest fine-tuning epochs), then the highest mean, then the first in the grid's order.
# The grid, also fixed before it ran: the sparsity levels (the four above, or Zhu and Gupta's cubic
# schedule $s_j = 0.97\,(1 - (1 - j/4)^3)$ for rounds $j = 1, \dots, 4$: 56.1, 84.9, 95.5, 97 %); the epochs of the four rounds
# (2, 2, 2, 4 or twice or four times that: 10, 20 or 40 epochs in all); the fine-tuning rate
# $\eta \in \{0.01, 0.03, 0.1\}$; and the distillation (none, or $\alpha \in \{0.5, 0.9\}$ with
# $T \in \{2, 4, 8\}$): 126 schedules. The objective is what each seed's final 97 % network (before
# weight sharing) gets right of the 270 validation images. The 126 schedules on five seeds take
# minutes, longer than this lesson's budget, so `scripts/search_lesson11.py` ran them once, exactly as
# the next cells prune, and left a record (`notebooks/data/validation/lesson11_schedule.json`: each
# schedule's count per seed). The next cell loads it, applies the rule and sets the schedule; section 5
# checks that the lesson's own run of the pick counts the same validation images, seed by seed.
# The 97 % itself is the grid's last level, not searched; section 5 checks it on validation. An earlier
# version of this lesson had chosen its schedule (4, 4, 4, 8 epochs at $\eta = 0.03$, $\alpha = 0.9$,
# $T = 4$) while looking at the test images; it is one of the 126, and its count is printed below.

# %%
search = selection.load_record("lesson11_schedule")
assert search.seeds == (0, 1, 2, 3, 4) and search.n_images == len(data.y_val) and search.tolerance == 0.5
pick_i = selection.choose(search.correct, search.cost, search.n_images, search.tolerance)
candidates_i = selection.candidates(search.correct, search.n_images, search.tolerance)
SCHEDULE = [(0.75, 2), (0.90, 2), (0.95, 2), (0.97, 4)]  # (sparsity, epochs): the pick (asserted below)
FT_LR, ALPHA, TEMPERATURE = 0.1, 0.9, 2.0  # the pick's fine-tuning learning rate and distillation
assert search.settings[pick_i] == {"levels": "earlier", "epochs": "half", "lr": FT_LR, "alpha": ALPHA,
                                   "temperature": TEMPERATURE}
assert (tuple(SCHEDULE), FT_LR, ALPHA, TEMPERATURE) == (
    checks.compression.LESSON11_SCHEDULE, *(checks.compression.LESSON11_FINE_TUNING[k] for k in
                                           ("lr", "alpha", "temperature")))  # the exercise check's copy


def setting_text(st):
    return (f"levels {st['levels']:7s} epochs {st['epochs']:6s} η {st['lr']:<4} "
            + (f"α {st['alpha']} T {st['temperature']:g}" if st["alpha"] else "no distillation"))


best_i = int(np.argmax(search.means))
earlier_i = search.find(levels="earlier", epochs="kept", lr=0.03, alpha=0.9, temperature=4.0)
cost = np.asarray(search.cost)
print(f"{len(search.settings)} schedules, validation images right of {5 * search.n_images:,} (5 seeds); "
      f"{len(candidates_i)} lie within {search.tolerance} points of the best mean, "
      f"{int((cost[candidates_i] == cost.min()).sum())} of them with the fewest epochs ({cost.min():.0f}):")
for label, i in [("pick", pick_i), ("best mean", best_i), ("earlier version's", earlier_i)]:
    print(f"  {label:18s} {setting_text(search.settings[i])}: {cost[i]:2.0f} epochs, "
          f"{search.correct[i].sum():,} ({search.means[i]:.2f} %), seeds {search.correct[i].tolist()}")
totals = search.correct.sum(axis=1)
print(f"all 126: {totals.min():,} to {totals.max():,} images; the cheapest candidates: " + ", ".join(
    f"{setting_text(search.settings[i])} {totals[i]:,}" for i in candidates_i if cost[i] == cost.min()))
at_best = np.flatnonzero(totals == totals.max())
print(f"{len(at_best)} schedules share the best total, {totals.max():,}; candidates by cost: " + ", ".join(
    f"{c:.0f} epochs {int((cost[candidates_i] == c).sum())}" for c in sorted(set(cost[candidates_i]))))
assert (len(candidates_i), totals[pick_i], totals[best_i], totals[earlier_i]) == (47, 1309, 1312, 1307)
assert len(at_best) == 4 and [int((cost[candidates_i] == c).sum()) for c in (10, 20, 40)] == [3, 14, 30]
print("the 47 candidates (η, then α/T, or 'plain' without distillation: validation images of 1,350):")
for c in (10, 20, 40):
    for levels in ("earlier", "cubic"):
        group = [i for i in candidates_i if cost[i] == c and search.settings[i]["levels"] == levels]
        if group:
            print(textwrap.fill(f"{c:.0f} epochs, {levels} levels: " + ", ".join(
                f"{search.settings[i]['lr']}/"
                + (f"{search.settings[i]['alpha']}/{search.settings[i]['temperature']:g}"
                   if search.settings[i]["alpha"] else "plain") + f" {totals[i]:,}" for i in group),
                width=110, initial_indent="  ", subsequent_indent="    "))
assert earlier_i in candidates_i and cost[earlier_i] == 2 * cost[pick_i]  # within the bar, twice the epochs
assert (totals.min(), totals.max()) == (1276, 1312) and int((cost[candidates_i] == cost.min()).sum()) == 3

# %% [markdown]
# The landscape is flat: 47 of the 126 schedules lie within half a point of the best mean, and all
# 126 within 36 validation images of 1,350 (2.7 points). Three candidates cost the fewest epochs (10),
# and the rule takes the one with the highest mean: **2, 2, 2 and 4 epochs at $\eta = 0.1$, distilled
# with $\alpha = 0.9$ and $T = 2$**, 1,309 images (96.96 %), three short of the best total, 1,312, which
# four schedules share (printed above, the first of them in the grid's order: 4, 4, 4, 8 epochs at
# $\eta = 0.1$, $T = 4$). The earlier
# version's schedule is within the bar too (1,307) but costs twice the epochs. The pick sits at the
# grid's edge in four of its five choices (the fewest epochs, which the rule prefers by design; the
# largest $\eta$; the largest $\alpha$; the smallest $T$), so a setting beyond the grid might do as
# well with less; the lesson chooses within the grid fixed before the search. The same 270 validation
# images then check the 97 % and choose the bits (section 5): having picked the schedule, they flatter
# it a little, so those later margins are somewhat optimistic. The five seeds' networks are pruned side by side, each with its own dense network as
# teacher (`train_many(..., masks=..., teacher=...)`, each exactly as `train` would fine-tune it alone):

# %%
def prune_and_finetune(seeds, show_progress=False):
    """Iterative pruning of copies of the dense networks of these seeds, side by side; returns
    {seed: (model, masks, {sparsity: (snapshot, masks)})}."""
    teachers = [dense_by_seed[seed] for seed in seeds]
    models, snaps = [copy.deepcopy(t) for t in teachers], [{} for _ in seeds]
    for r, (sparsity, epochs) in enumerate(SCHEDULE):
        masks = [pruning.global_magnitude_masks(pruning.prunable_weights(m), sparsity) for m in models]
        train_many(models, fit, epochs=epochs, lr=FT_LR, momentum=0.9, batch_size=64,
                   seeds=[10 * seed + r + 1 for seed in seeds], masks=masks, teacher=teachers,
                   alpha=ALPHA, temperature=TEMPERATURE,
                   progress=show_progress, evaluate=(), desc=f"pruning to {sparsity:.0%}, {len(seeds)} seeds")
        for m, model_masks, snap in zip(models, masks, snaps, strict=True):
            assert pruning.count_revived(m, model_masks) == 0
            snap[sparsity] = (copy.deepcopy(m), model_masks)
    return {seed: (m, snap[SCHEDULE[-1][0]][1], snap) for seed, m, snap in zip(seeds, models, snaps, strict=True)}


pruned_by_seed = prune_and_finetune(list(range(5)), show_progress=True)
model, masks, snapshots = pruned_by_seed[0]
alone = copy.deepcopy(dense)  # seed 0's first round once more, by train() alone: the same network
train(alone, fit, epochs=SCHEDULE[0][1], lr=FT_LR, momentum=0.9, batch_size=64, seed=1, masks=snapshots[0.75][1],
      teacher=dense, alpha=ALPHA, temperature=TEMPERATURE, progress=False, evaluate=())
gap_alone = max((a - b).abs().max().item() for a, b in zip(alone.parameters(), snapshots[0.75][0].parameters(),
                                                             strict=True))
# bit for bit with one thread (as the lessons run); with more, a single model's matrix products may split
# their sums differently from the batched ones, which moves the last bits only
assert gap_alone == 0 if torch.get_num_threads() == 1 else gap_alone < 1e-12
for sparsity, (net, net_masks) in snapshots.items():
    print(f"seed 0, sparsity {sparsity:.2f}: {sum(int(m.sum()) for m in net_masks.values()):6,d} weights kept, "
          f"test accuracy {100 * accuracy(net, data.X_test, data.y_test):.2f} %")

# %% [markdown]
# At 97 % a hidden unit may have lost all of its outgoing weights. It can then no longer
# affect the output, so its incoming weights are dropped from the masks and its bias is
# set to 0 (the file still stores it, as a zero).
# `compression.remove_dead_units` finds such units and prunes them too, which changes no
# output:

# %%
before = model(data.X_test).detach()
kept_before_dead = sum(int(m.sum()) for m in masks.values())
masks = compression.remove_dead_units(model, masks)
assert torch.equal(model(data.X_test).detach(), before)
kept = {name: int(m.sum()) for name, m in masks.items()}
dead = {name: int((~m.any(dim=1)).sum()) for name, m in masks.items() if name != "4.weight"}
pruned_acc = accuracy(model, data.X_test, data.y_test)
print("seed 0, weights kept per layer:", kept, f"(total {sum(kept.values()):,} of {n_params - 410:,})")
print("hidden units with no incoming weight left:", dead)
print(f"weights removed with dead units: {kept_before_dead:,} - {sum(kept.values()):,} = "
      f"{kept_before_dead - sum(kept.values()):,}")
assert kept_before_dead > sum(kept.values())
print(f"pruned model: test accuracy {100 * pruned_acc:.2f} %, outputs unchanged by removing dead units")

# %% [markdown]
# ## 3. Weight sharing by k-means
#
# The surviving weights still take 32 bits each in a float32 file. Deep Compression
# replaces them by a few shared values per layer: cluster the layer's kept weights into
# $2^n$ groups with 1-D k-means, store each weight as the $n$-bit index of its cluster, and
# store the $2^n$ centroids once (the *codebook*). Lloyd's algorithm alternates two steps
# until nothing changes: assign each weight to its nearest centroid; move each centroid to
# the mean of its weights. Centroids start evenly spaced between the smallest and largest
# weight (of the three initialisations the paper compares, the one it found best, because it
# keeps the rare large weights represented). After pruning there are few small weights, so a
# centroid that starts in the gap around 0 can be nobody's nearest (in seed 0's first layer none
# happens to, printed below; on other layers and seeds it can); such an empty centroid is moved onto
# the weight that is worst served.
#
# Deep Compression then goes a step further, which this lesson leaves out: it fine-tunes the
# shared values with the training loss (the gradients of all weights in a cluster are summed
# and applied to its centroid), the *trained* in its "trained quantization". Here the k-means
# centroids are used as they are (lesson 13 teaches trained quantization).
#
# The pipeline stores **3 bits** per weight ($n = 3$: 8 shared values per layer). That width is a
# choice, and section 5 makes it on the validation images, by a rule stated there before its numbers
# (the fewest bits whose files stay within half a point of the unshared networks); sections 3 and 4
# use its answer. The table below compares 2 to 5 bits on one layer.

# %%
def nearest(x, centroids):
    """Index of the nearest centroid for every value (ties go to the smaller centroid)."""
    order = np.argsort(centroids, kind="stable")
    mids = (centroids[order][1:] + centroids[order][:-1]) / 2
    return order[np.searchsorted(mids, x, side="left")]


def kmeans_1d(x, k, iters=50):
    """Lloyd's k-means on the values x with k centroids, linear initialisation."""
    centroids = np.linspace(x.min(), x.max(), k)
    labels = nearest(x, centroids)
    for _ in range(iters):
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=x, minlength=k)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled]  # each centroid to the mean of its cluster
        empty = np.flatnonzero(~filled)
        if empty.size:  # an empty centroid jumps onto the worst-served value
            err = (x - centroids[labels]) ** 2
            worst = np.argsort(-err, kind="stable")[:empty.size]
            worst = worst[err[worst] > 0]
            centroids[empty[:worst.size]] = x[worst]
        new = nearest(x, centroids)
        if np.array_equal(new, labels):
            break
        labels = new
    return centroids, labels


BITS = 3  # the width section 5 chooses on validation (asserted there)
w1 = model[0].weight.detach().double().numpy()[masks["0.weight"].numpy()]  # the first layer's kept weights
ours_c, ours_l = kmeans_1d(w1, 2**BITS)
ref_c, ref_l = weight_sharing.kmeans_1d(w1, 2**BITS)
start = np.linspace(w1.min(), w1.max(), 2**BITS)  # the evenly spaced start, before the first step
empty_at_start = sorted(set(range(2**BITS)) - set(nearest(w1, start).tolist()))
print(f"first layer: kept weights from {w1.min():+.3f} to {w1.max():+.3f}, none in "
      f"({w1[w1 < 0].max():+.3f}, {w1[w1 > 0].min():+.3f}); starting centroids with no member: "
      + (", ".join(f"{start[j]:+.3f}" for j in empty_at_start) or "none"))
assert empty_at_start == []  # "none happens to"
assert np.array_equal(ours_c, ref_c) and np.array_equal(ours_l, ref_l)
assert np.allclose([w1[ours_l == j].mean() for j in range(2**BITS)], ours_c)  # a fixed point of Lloyd's step
print(f"first layer: {w1.size} kept weights, {2**BITS} clusters, all used: {np.unique(ours_l).size == 2**BITS}")
print("centroids identical to weight_sharing.kmeans_1d; each centroid is the mean of its cluster")


def linear_codebook(x, k):
    """The uniform alternative: k evenly spaced values from min to max."""
    return np.linspace(x.min(), x.max(), k)


mse = {}
for bits in (2, 3, 4, 5):
    centroids, labels = kmeans_1d(w1, 2**bits)
    # what makes the result k-means: every weight sits at its nearest centroid (found by comparing
    # with all of them, not by the midpoints nearest() uses) and every centroid is its cluster's mean
    distance = np.abs(w1[:, None] - centroids[None, :])
    assert np.array_equal(distance[np.arange(w1.size), labels], distance.min(axis=1))
    assert np.allclose([w1[labels == j].mean() for j in range(2**bits)], centroids, rtol=1e-12, atol=0)
    evenly = linear_codebook(w1, 2**bits)
    mse[bits] = (np.mean((w1 - centroids[labels]) ** 2), np.mean((w1 - evenly[nearest(w1, evenly)]) ** 2))
    print(f"{bits} bits: mean squared error k-means {mse[bits][0]:.2e}, evenly spaced {mse[bits][1]:.2e} "
          f"({mse[bits][1] / mse[bits][0]:.1f}x)")
gains = [mse[bits][1] / mse[bits][0] for bits in mse]
assert (round(min(gains), 1), round(max(gains), 1)) == (1.7, 3.9)  # as the text below says
assert max(mse, key=lambda bits: mse[bits][1] / mse[bits][0]) == 2  # the largest gain at 2 bits

# %%
fig, ax = plt.subplots(figsize=(9, 3.4))
ax.hist(w1, bins=150, color=OKABE_ITO["grey"])
for c in ours_c:
    ax.axvline(c, color=OKABE_ITO["vermillion"], linewidth=1, linestyle=(0, (4, 2)))
for c in linear_codebook(w1, 2**BITS):
    ax.plot(c, -4, "^", color=OKABE_ITO["blue"], markersize=6, clip_on=False)
ax.plot([], [], color=OKABE_ITO["vermillion"], linestyle=(0, (4, 2)), label=f"k-means centroids ({2**BITS})")
ax.plot([], [], "^", color=OKABE_ITO["blue"], label="evenly spaced values")
ax.set_xlabel("weight value")
ax.set_ylabel("number of weights (150 bins)")
ax.set_title("seed 0, first layer after 97 % pruning: few weights near 0, centroids follow the two humps")
ax.legend()
plt.show()

# %% [markdown]
# k-means puts its values where the weights are. That it beats the evenly spaced codebook is
# no discovery: Lloyd's algorithm starts from the evenly spaced values and neither of its steps
# can increase the squared error, so it ends at most where it started. What the table
# measures is *how much* better: 1.7 to 3.9 times less squared error on this layer, the most at
# 2 bits. `weight_sharing.quantize_pruned` applies the sharing to every layer and returns the
# network exactly as a file will reload it (the codebooks are stored as float16):

# %%
model32 = float32_weights(model)  # what is stored: the float32-rounded weights (section 1)
shared = weight_sharing.quantize_pruned(model32, masks, bits=BITS)
shared_acc = accuracy(shared, data.X_test, data.y_test)
distinct = {name: torch.unique(p[p != 0]).numel() for name, p in shared.named_parameters() if p.dim() == 2}
print(f"{BITS}-bit shared weights: test accuracy {100 * shared_acc:.2f} % (pruned, not shared: "
      f"{100 * pruned_acc:.2f} %); distinct nonzero values per layer: {distinct}")
assert all(v == 2**BITS for v in distinct.values())  # every layer uses all 2^BITS = 8 shared values

# %% [markdown]
# ## 4. Storing it: positions, codes, codebooks
#
# Per weight matrix the file holds
#
# * the **positions** of the kept weights as *relative indices*: for each kept weight, the
#   number of zeros skipped since the previous one (row-major order), one byte each; a gap
#   of 255 or more is written as a run of bytes 255 ("255 more zeros, continue") and the
#   rest (Deep Compression, its section 2, stores 8-bit gaps in conv layers and 5-bit gaps in
#   fully connected layers and bridges a longer gap with a filler zero weight; our escape
#   byte does that job without a code);
# * one **code** per kept weight, the index into the codebook (one byte each, before
#   compression);
# * the **codebook**, $2^n$ float16 values for $n$-bit codes;
#
# then the biases as float16, and a header with names and shapes. The whole body is then
# compressed losslessly by a general-purpose compressor, zlib or LZMA, whichever gives fewer
# bytes. This is where our pipeline departs from the paper's. Deep Compression Huffman-codes
# the codes and the gaps (its section 4): a prefix code for each kind of symbol, built from how
# often each symbol occurs. zlib (DEFLATE, RFC 1951) replaces repeated byte strings by
# back-references and then Huffman-codes the result; LZMA also finds repeated strings, and codes them with an adaptive
# range coder rather than a Huffman code. Both treat the file as one byte stream; how they
# compare with the paper's coder is measured below. The relative indices, written out:

# %%
def relative_indices(positions):
    """Bytes of the gaps before each kept position; a byte 255 means '255 more zeros'."""
    out, previous = bytearray(), -1
    for pos in positions:
        gap = pos - previous - 1
        out += bytes([255]) * (gap // 255) + bytes([gap % 255])
        previous = pos
    return bytes(out)


print("positions [0, 3, 4, 300, 1000] ->", list(relative_indices([0, 3, 4, 300, 1000])))
file_path = path("digits_mlp.llc")
compressed_bytes = model_file.save_compressed(model32, file_path, masks, bits=BITS)

# %% [markdown]
# Open the file and account for every byte. Its layout is a 4-byte magic `LLC1`, one byte
# naming the codec (1 zlib, 2 LZMA) and the compressed body; the body is the header
# (which holds the codebooks), then all relative indices, all codes, and the raw tensors
# (the biases):

# %%
with open(file_path, "rb") as fh:
    raw = fh.read()
codec = {1: "zlib", 2: "LZMA"}[raw[4]]
if raw[4] == 1:
    body = zlib.decompress(raw[5:])
else:
    body = lzma.decompress(raw[5:], format=lzma.FORMAT_RAW,
                           filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])
units = weight_sharing.compress_state(model32, masks, bits=BITS)
index_bytes = b"".join(relative_indices(u.positions) for u in units.values()
                       if isinstance(u, weight_sharing.CompressedTensor))
code_bytes = b"".join(u.codes.tobytes() for u in units.values() if isinstance(u, weight_sharing.CompressedTensor))
codebook_bytes = b"".join(u.codebook.astype("<f2").tobytes() for u in units.values()
                          if isinstance(u, weight_sharing.CompressedTensor))
bias_bytes = b"".join(u.values.astype("<f2").tobytes() for u in units.values()
                      if isinstance(u, weight_sharing.RawTensor))
tail = index_bytes + code_bytes + bias_bytes  # rebuilt here from the units, not read from the file
assert body.endswith(tail)  # the body ends with the indices, codes and biases, in that order ...
head = body[:len(body) - len(tail)]  # ... and what comes before them is the header
assert all(name.encode() in head for name in units)  # every tensor's name is in it
assert all(u.codebook.astype("<f2").tobytes() in head for u in units.values()
           if isinstance(u, weight_sharing.CompressedTensor))  # and so is every codebook


@functools.cache  # each part is packed once: LZMA's extreme preset takes a moment per call
def packed(part):
    """Bytes of the byte string `part` compressed on its own (the better of zlib and LZMA)."""
    return min(len(zlib.compress(part, 9)), len(lzma.compress(part, format=lzma.FORMAT_RAW,
               filters=[{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}])))


parts = {
    "relative indices (1 byte per kept weight)": index_bytes,
    f"codes ({BITS}-bit indices, 1 byte each)": code_bytes,
    f"biases ({len(bias_bytes) // 2} float16)": bias_bytes,
    "header: names, shapes, counts, codebooks": head,
}
print(f"{'part':44s} {'raw bytes':>10s} {'compressed alone':>17s}")
for label, part in parts.items():
    print(f"{label:44s} {len(part):10,d} {packed(part):17,d}")
n_books = sum(isinstance(u, weight_sharing.CompressedTensor) for u in units.values())
print(f"{f'  of which codebooks ({n_books} x {2**BITS} float16)':44s} {len(codebook_bytes):10,d}")
print(f"{'body':44s} {len(body):10,d} {sum(packed(p) for p in parts.values()):17,d} (sum of the parts)")
print(f"file: 5 bytes (magic + codec) + body compressed by {codec} = {len(raw):,} bytes")


def varint_len(n):
    """Bytes of n as a LEB128 varint (7 bits per byte)."""
    return max(1, (n.bit_length() + 6) // 7)


# the header, counted from the format's description: tensor count, then per tensor its name,
# shape, kind byte and, for a shared tensor, bits byte, count of kept weights and codebook
expected_head = varint_len(len(units)) + sum(
    varint_len(len(name)) + len(name) + varint_len(len(u.shape)) + sum(varint_len(d) for d in u.shape) + 1
    + (1 + varint_len(u.positions.size) + 2 * u.codebook.size
       if isinstance(u, weight_sharing.CompressedTensor) else 0)
    for name, u in units.items())
print(f"header: {len(head)} bytes, {expected_head} counted from the format")
assert len(head) == expected_head and len(raw) == compressed_bytes
assert len(code_bytes) == sum(kept.values())
assert len(raw) - 5 < sum(packed(p) for p in parts.values())  # the whole body packs better than its parts
n_kept = sum(kept.values())
print(f"kept weights {n_kept:,}; escape bytes for gaps of 255 or more: {len(index_bytes) - n_kept}; "
      f"before compression, gaps and codes take {(len(index_bytes) + len(code_bytes)) / n_kept:.2f} bytes "
      "per kept weight")
assert f"{(len(index_bytes) + len(code_bytes)) / n_kept:.2f}" == "2.04"  # "about two bytes"
print(f"the biases packed on their own: {packed(bias_bytes):,} bytes, "
      f"{100 * packed(bias_bytes) / len(raw):.0f} % of the file's size")
assert f"{100 * packed(bias_bytes) / len(raw):.0f}" == "24"  # "nearly a quarter (24 %)"
# what the biases, the header and the 5 bytes of magic and codec add to the file: the file's size minus
# the weights' gaps and codes packed without them
weights_only = packed(index_bytes + code_bytes)
fixed_share = 1 - weights_only / len(raw)
print(f"gaps and codes packed without the rest: {weights_only:,} bytes; the biases, header, magic and "
      f"codec byte add {len(raw) - weights_only:,} bytes, {100 * fixed_share:.0f} % of the {len(raw):,}-byte file")
assert round(100 * fixed_share) == 29 and len(raw) - weights_only == 645  # quoted below and in section 6
n_kept = sum(kept.values())
print(f"packed alone, bits per kept weight: codes {8 * packed(code_bytes) / n_kept:.1f}, "
      f"gaps {8 * packed(index_bytes) / n_kept:.1f}")
assert (f"{8 * packed(code_bytes) / n_kept:.1f}", f"{8 * packed(index_bytes) / n_kept:.1f}") == ("3.4", "5.7")


def huffman_bits(symbols):
    """Total bits of the Huffman code built for these symbols (the code table itself not counted): each
    merge of the two rarest groups adds one bit to every symbol in them, so the total is the sum of the
    merged counts."""
    heap = sorted(np.unique(np.frombuffer(symbols, dtype=np.uint8), return_counts=True)[1].tolist())
    heapq.heapify(heap)
    total = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        total += merged
        heapq.heappush(heap, merged)
    return total


layers = [u for u in units.values() if isinstance(u, weight_sharing.CompressedTensor)]
huffman = {"codes": sum(huffman_bits(u.codes.tobytes()) for u in layers),  # one code per layer and kind
           "gaps": sum(huffman_bits(relative_indices(u.positions)) for u in layers)}
# a decoder also needs each code's table: here 4 bits per possible symbol (a code length of 0 to 15),
# for the 2^BITS codes and the 256 possible gap bytes, per layer
table_bits = {"codes": 4 * 2**BITS * len(layers), "gaps": 4 * 256 * len(layers)}
print(f"Huffman-coded instead (the paper's kind of coder, one code per layer), bits per kept weight: codes "
      f"{huffman['codes'] / n_kept:.1f}, gaps {huffman['gaps'] / n_kept:.1f} without the code tables; "
      f"{(huffman['codes'] + table_bits['codes']) / n_kept:.1f} and "
      f"{(huffman['gaps'] + table_bits['gaps']) / n_kept:.1f} with tables of 4 bits per possible symbol")
assert (f"{huffman['codes'] / n_kept:.1f}", f"{huffman['gaps'] / n_kept:.1f}") == ("2.7", "4.9")
assert huffman["codes"] + table_bits["codes"] < 8 * packed(code_bytes)  # codes: Huffman smaller, table and all
assert huffman["gaps"] < 8 * packed(index_bytes) < huffman["gaps"] + table_bits["gaps"]  # gaps: it depends
assert (f"{(huffman['codes'] + table_bits['codes']) / n_kept:.1f}",
        f"{(huffman['gaps'] + table_bits['gaps']) / n_kept:.1f}") == ("2.7", "7.0")  # as the text says


def entropy_bits(symbols):
    """Empirical entropy H of the byte string's symbols, in bits per symbol."""
    p = np.unique(np.frombuffer(symbols, dtype=np.uint8), return_counts=True)[1] / len(symbols)
    return float(-(p * np.log2(p)).sum())


# an independent check of huffman_bits: an optimal prefix code spends between H and H + 1 bits per symbol
print("per layer, Huffman bits per symbol against the entropy H (an optimal prefix code lies in [H, H + 1)):")
for name, u in zip((n for n, v in units.items() if isinstance(v, weight_sharing.CompressedTensor)), layers,
                   strict=True):
    for kind, symbols in (("codes", u.codes.tobytes()), ("gaps", relative_indices(u.positions))):
        H, per_symbol = entropy_bits(symbols), huffman_bits(symbols) / len(symbols)
        print(f"  {name:9s} {kind:5s}: {len(symbols):5,d} symbols, H = {H:.3f}, Huffman {per_symbol:.3f}")
        assert H - 1e-12 <= per_symbol < H + 1

# %% [markdown]
# Before compression each kept weight costs about two bytes (2.04: its gap and its code, plus
# an escape byte for the occasional long gap); each packed on its own, the codes come to a little more
# than their $n = 3$ bits (3.4 here) and the gaps to about 5.7 bits each. A Huffman code built for these
# very symbols (here one per layer and kind of symbol) takes 2.7 bits per code and 4.9 per
# gap before its code tables are stored. For the codes it is the smaller, tables included
# (2.7 bits with a table of 8 code lengths per layer); for the gaps the tables decide: with 4
# bits for each of the 256 possible gap bytes per layer, 7.0 bits, more than the compressor's 5.7, and
# a more compact table format would land in between. zlib and LZMA are what Python ships, and
# they compress the whole file, header and biases included, without a format of our own.
# Compressing the whole body at once does a little better than the parts one by one.
# Note the biases: 410 float16 values, packed on their own, come to nearly a quarter (24 %) of the
# file's size once the weights are this sparse (exercise 4 suggests quantizing them too). With
# the header and the 5 bytes in front they account for 645 bytes, 29 % of the file: its size
# minus that of the gaps and codes packed without them.
#
# ## 5. Load it back and measure
#
# The size counts only with the accuracy of the network that comes back from the file.
# Load it into a fresh, untrained network of the same shape:

# %%
reloaded = model_file.load_compressed(file_path, mlp(hidden=HIDDEN))
compressed_acc = accuracy(reloaded, data.X_test, data.y_test)
same_weights = all(torch.equal(back, kept) for back, kept in zip(reloaded.state_dict().values(),
                                                               shared.state_dict().values(), strict=True))
print(f"reloaded weights identical to the shared-weight model: {same_weights}")
print(f"seed 0: dense float32 file {float32_bytes:9,d} bytes   test accuracy {100 * dense_acc:.2f} %")
print(f"        compressed file    {compressed_bytes:9,d} bytes   test accuracy {100 * compressed_acc:.2f} %")
print(f"        ratio {float32_bytes / compressed_bytes:.1f} (against 4 bytes x parameters: "
      f"{4 * n_params / compressed_bytes:.1f}), accuracy drop {100 * (dense_acc - compressed_acc):.2f} points "
      f"({images(dense_acc) - images(compressed_acc)} test images)")
assert same_weights and float32_bytes / compressed_bytes >= 50

# %% [markdown]
# That is one network. Run the whole pipeline (dense training, the four pruning rounds,
# dead units, 3-bit sharing, the file) for seeds 1 to 4 as well, and measure each file the
# same way. For section 6, every seed also stores its dense network (shared, not pruned) and
# each pruning round's snapshot with 2 to 8 bits per weight. Those 175 files are not written to
# disk: `baselines.stored_bytes_and_network` encodes each in memory (the bytes `save_compressed`
# would write) and builds the network from the same storage units, which is the network
# `load_compressed` reads back, bit for bit (checked below on seed 0's 97 % files, written and
# reloaded, and in the library's tests).

# %%
def file_size_and_accuracy(net32, net_masks, bits):
    """Bytes of the file storing net32 (float32-rounded weights, section 1; pruned by net_masks, its dead
    units removed; None: not pruned) with `bits` per weight, and the test and validation accuracies of the
    network loaded back from that file: the file's bytes are encoded in memory and the network built from the same
    storage units, once for both (baselines.stored_bytes_and_network; checked below against files written
    and reloaded)."""
    n_bytes, back = baselines.stored_bytes_and_network(net32, net_masks, bits)
    return n_bytes, accuracy(back, data.X_test, data.y_test), accuracy(back, data.X_val, data.y_val)


SWEEP_BITS = range(2, 9)


def pipeline_figures(dense, model, masks, snapshots):
    """One seed's figures; model and masks are the pruned network after remove_dead_units, snapshots
    the copies kept after each pruning round. "sweep": {curve: [(bytes, test accuracy) for 2 to 8 bits]},
    "sweep val": {curve: [validation accuracy for 2 to 8 bits]}."""
    kept_w = model[0].weight.detach().numpy()[masks["0.weight"].numpy()]  # first layer's kept weights
    mse_gain = []  # evenly spaced over k-means mean squared error, 2 to 5 bits
    for bits in (2, 3, 4, 5):
        centroids, labels = kmeans_1d(kept_w, 2**bits)
        evenly = linear_codebook(kept_w, 2**bits)
        mse_gain.append(np.mean((kept_w - evenly[nearest(kept_w, evenly)]) ** 2)
                        / np.mean((kept_w - centroids[labels]) ** 2))
    inputs = {"dense, shared weights only": (dense, None)}
    inputs.update({f"pruned {100 * sparsity:.0f} %": snapshot for sparsity, snapshot in snapshots.items()})
    sweep, sweep_val = {}, {}
    for label, (net, net_masks) in inputs.items():
        net = float32_weights(net)  # a copy with float32-rounded weights: what every file stores
        if net_masks is not None:  # dead units removed once per network, from the copy (snapshots stay as they are)
            net_masks = compression.remove_dead_units(net, net_masks)
        files = [file_size_and_accuracy(net, net_masks, bits) for bits in SWEEP_BITS]
        sweep[label] = [(n, test) for n, test, _ in files]
        sweep_val[label] = [val for _, _, val in files]
    return {
        "float32 bytes": model_file.float32_size_bytes(dense),
        "dense": accuracy(dense, data.X_test, data.y_test),
        "dense, float32 file": accuracy(float32_weights(dense), data.X_test, data.y_test),
        "pruned": accuracy(model, data.X_test, data.y_test),
        "pruned val": accuracy(model, data.X_val, data.y_val),
        "dense val": accuracy(dense, data.X_val, data.y_val),
        "kept": sum(int(m.sum()) for m in masks.values()),
        "file": sweep["pruned 97 %"][BITS - 2],  # the 97 % snapshot, dead units removed, BITS bits
        "k-means gain": min(mse_gain),
        "sweep": sweep,
        "sweep val": sweep_val,
    }


SEEDS = range(5)
runs = {}
for seed in progress(SEEDS, desc="pipeline and files, 5 seeds"):
    if seed == 0:  # the network of sections 1 to 4
        seed_dense, seed_model, seed_masks, seed_snapshots = dense, model, masks, snapshots
    else:
        seed_dense = dense_by_seed[seed]  # trained in section 1
        seed_model, seed_masks, seed_snapshots = pruned_by_seed[seed]  # pruned in section 2
        seed_masks = compression.remove_dead_units(seed_model, seed_masks)
    runs[seed] = pipeline_figures(seed_dense, seed_model, seed_masks, seed_snapshots)
# the shortcut, checked once: seed 0's 97 % snapshot at every bit width written to a file and reloaded
net_97, masks_97 = copy.deepcopy(snapshots[0.97][0]), snapshots[0.97][1]
masks_97 = compression.remove_dead_units(net_97, masks_97)
for bits, (n_bytes, acc) in zip(SWEEP_BITS, runs[0]["sweep"]["pruned 97 %"], strict=True):
    assert n_bytes == model_file.save_compressed(float32_weights(net_97), path("sweep.llc"), masks_97, bits=bits)
    assert acc == accuracy(model_file.load_compressed(path("sweep.llc"), mlp(hidden=HIDDEN)), data.X_test, data.y_test)
assert runs[0]["file"] == (compressed_bytes, compressed_acc)  # section 4's file, written and reloaded

# %% [markdown]
# **The sparsity, checked on validation.** The 97 % that sections 2 to 4 prune to is the last level
# of the schedule's grid (section 2), which the search did not vary. Do the validation images support pruning
# that far? The rule is lesson 10's, taken over unchanged (lesson 10 fixed it before its numbers, for
# the same question): *the highest sparsity whose pruned networks, before weight sharing, have a mean
# validation accuracy over the five seeds at most 1 point below that of the dense networks*. The
# candidates are the schedule's four levels, 75, 90, 95 and 97 % (the snapshots kept after each
# round; no level beyond 97 % was trained, so the check can only lower the sparsity, not show that
# 97 % is the highest that would pass). Unlike the other rules of this lesson, this check was added
# after its numbers had been seen, so passing it means "consistent with the rule", not "chosen by
# it"; the cell also prints what a stricter margin of half a point would have picked, and the paired
# intervals. (Lesson 10 applies the same rule to its own networks and pruning schedules.)

# %%
LEVELS = [sparsity for sparsity, _ in SCHEDULE]  # 0.75, 0.90, 0.95, 0.97
level_val_img = {sparsity: [round(accuracy(pruned_by_seed[seed][2][sparsity][0], data.X_val, data.y_val)
                                  * len(data.y_val)) for seed in SEEDS] for sparsity in LEVELS}
dense_val_img = sum(round(r["dense val"] * len(data.y_val)) for r in runs.values())
n_val_all = len(SEEDS) * len(data.y_val)  # 1,350 validation images over the five seeds
print(f"dense networks: {dense_val_img:,} of {n_val_all:,} validation images ({100 * dense_val_img / n_val_all:.2f} %)")
print(f"{'sparsity':>8s} {'validation images, seeds 0..4':>31s} {'total':>6s} {'below dense, points':>20s}")
for sparsity in LEVELS:
    total = sum(level_val_img[sparsity])
    print(f"{100 * sparsity:7.0f} % {'  '.join(f'{v:3d}' for v in level_val_img[sparsity]):>31s} {total:6,d} "
          f"{100 * (dense_val_img - total) / n_val_all:20.2f}")


def highest_within(points):
    """The highest level whose five-seed validation total is at most `points` below dense (whole images)."""
    needed = int(np.ceil(dense_val_img - points / 100 * n_val_all - 1e-9))
    passing = [sparsity for sparsity in LEVELS if sum(level_val_img[sparsity]) >= needed]
    return (max(passing) if passing else None), needed


chosen_sparsity, needed_1 = highest_within(1.0)
strict_sparsity, needed_half = highest_within(0.5)
print(f"rule (within 1 point, at least {needed_1:,} images): {100 * chosen_sparsity:.0f} %, "
      f"{sum(level_val_img[chosen_sparsity]) - needed_1} images to spare")
print(f"a margin of half a point (at least {needed_half:,} images) would also pick {100 * strict_sparsity:.0f} %, "
      f"with {sum(level_val_img[strict_sparsity]) - needed_half} images to spare")
assert chosen_sparsity == SCHEDULE[-1][0] == 0.97  # passes: the sparsity every later section stores
assert (dense_val_img, [sum(level_val_img[sp]) for sp in LEVELS]) == (1315, [1313, 1308, 1293, 1309])
assert (needed_1, needed_half, strict_sparsity) == (1302, 1309, 0.97)
# this run of the pick counts exactly what the search recorded for it, seed by seed (section 2)
assert level_val_img[0.97] == search.correct[pick_i].tolist()
# the same rule in lesson 10's form, on mean accuracies (fractions), gives the same level
dense_val_mean = np.mean([r["dense val"] for r in runs.values()])
level_val_mean = {sp: np.mean([accuracy(pruned_by_seed[seed][2][sp][0], data.X_val, data.y_val) for seed in SEEDS])
                  for sp in LEVELS}
assert max(sp for sp in LEVELS if level_val_mean[sp] >= dense_val_mean - 0.01 - 1e-12) == chosen_sparsity
assert max(sp for sp in LEVELS if level_val_mean[sp] >= dense_val_mean - 0.005 - 1e-12) == strict_sparsity == 0.97
# paired by seed: dense minus each level, in validation images and points (mean ± 95 % interval, 5 seeds)
dense_val_seed = np.array([round(runs[seed]["dense val"] * len(data.y_val)) for seed in SEEDS])
paired_level = {}
for sparsity in LEVELS:
    d_img = dense_val_seed - np.array(level_val_img[sparsity])
    paired_level[sparsity] = mean_ci(100 * d_img / len(data.y_val))
    m, h = paired_level[sparsity]
    print(f"paired, dense minus {100 * sparsity:.0f} %: images per seed {d_img.tolist()}, {m:.2f} ± {h:.2f} points "
          f"(interval up to {m + h:.2f})")
assert dense_val_seed.tolist() == [264, 262, 264, 260, 265]
assert (dense_val_seed - np.array(level_val_img[0.97])).tolist() == [2, -1, 4, -1, 2]
assert [f"{sum(paired_level[sp]):.2f}" for sp in LEVELS] == ["0.56", "1.58", "2.95", "1.44"]
assert "{:.2f} ± {:.2f}".format(*paired_level[0.97]) == "0.44 ± 1.00"  # as the text quotes it
assert [sp for sp in LEVELS if sum(paired_level[sp]) <= 1.0] == [0.75]  # a paired version of the rule
# the final networks (dead units removed, section 5) predict exactly as the 97 % snapshots on validation
assert all(torch.equal(pruned_by_seed[seed][0](data.X_val).argmax(1),
                       pruned_by_seed[seed][2][0.97][0](data.X_val).argmax(1)) for seed in SEEDS)

# %% [markdown]
# So 97 % passes the one-point rule on the mean with seven validation images to spare (0.44 points
# below dense), and a half-point margin too, with none to spare; 95 % scores lower than 97 % on
# validation (1,293 images against 1,309). The check is still weak: paired by seed, dense minus 97 %
# is $0.44 \pm 1.00$ points, an interval reaching 1.44, so a paired version of the rule (upper end at
# most 1 point) would pass only 75 %. Against the course's goal of at most half a point of accuracy
# lost, the validation means: pruning alone 0.44 points, the 3-bit files 0.81 (next cell). Paired by
# seed, pruning alone detects no cost (interval $[-0.55, +1.44]$); the 3-bit files do ($[+0.43, +1.20]$).
# The lesson keeps 97 %, with all of that on record.
#
# **The bit width, chosen on validation.** Sections 3 and 4 used 3 bits per weight; this is where
# that width is chosen, by a rule written before any validation number was seen, though after an
# earlier version of this lesson had chosen 4 bits on the test images (which the rule first confirmed): *the fewest bits (2 to 8) whose 97 % files have a mean validation
# accuracy over the five seeds at most 0.5 points below that of the same pruned networks before weight
# sharing* (sharing should cost at most half a point; the pruning's own cost on validation is the
# check just above). The validation accuracies of the 97 % files
# (mean of five seeds, points):

# %%
val_97 = 100 * np.array([runs[seed]["sweep val"]["pruned 97 %"] for seed in SEEDS])  # (seed, bits)
pruned_val = 100 * np.mean([r["pruned val"] for r in runs.values()])
print(f"pruned 97 % networks before sharing: mean validation accuracy {pruned_val:.2f} %")
print("97 % files, mean validation accuracy: " + ", ".join(
    f"{bits} bits {val_97[:, j].mean():.2f} %" for j, bits in enumerate(SWEEP_BITS)))
chosen_bits = next(bits for j, bits in enumerate(SWEEP_BITS) if val_97[:, j].mean() >= pruned_val - 0.5 - 1e-9)
print(f"the fewest bits within 0.5 points: {chosen_bits}")
assert chosen_bits == BITS == 3  # the width sections 3 and 4 used, and every later section stores
# how close the pick is, in validation images over the five seeds (1,350)
val_97_img = np.array([[round(a * len(data.y_val)) for a in runs[seed]["sweep val"]["pruned 97 %"]] for seed in SEEDS])
pruned_val_img = sum(round(r["pruned val"] * len(data.y_val)) for r in runs.values())
needed = int(np.ceil(pruned_val_img - 0.005 * 5 * len(data.y_val) - 1e-9))  # 0.5 points of 1,350 images
spare = val_97_img[:, BITS - SWEEP_BITS[0]].sum() - needed  # the pick's margin
print(f"in validation images of {5 * len(data.y_val):,}: the unshared networks {pruned_val_img}, the rule needs at "
      f"least {needed}; " + ", ".join(f"{bits} bits {val_97_img[:, bits - SWEEP_BITS[0]].sum()}" for bits in (2, 3, 4))
      + f": {BITS} bits pass with {spare} image to spare")
assert (pruned_val_img, needed, spare) == (1309, 1303, 1)  # 3 bits pass by one validation image
assert [val_97_img[:, j].sum() for j in (0, 2)] == [1276, 1306]  # 2 bits miss by 27; 4 bits would pass too
files_gap = dense_val_img - val_97_img[:, BITS - SWEEP_BITS[0]].sum()  # dense networks minus the 3-bit files
print(f"the {BITS}-bit 97 % files against the dense networks on validation: {files_gap} images of {n_val_all:,} "
      f"fewer ({100 * files_gap / n_val_all:.2f} points)")
files_paired = mean_ci(100 * (dense_val_seed - val_97_img[:, BITS - SWEEP_BITS[0]]) / len(data.y_val))
print("paired by seed, dense minus the {}-bit files: {:.2f} ± {:.2f} points, [{:+.2f}, {:+.2f}]".format(
    BITS, *files_paired, files_paired[0] - files_paired[1], sum(files_paired)))
assert (files_gap, f"{100 * files_gap / n_val_all:.2f}") == (11, "0.81")
assert "{:.2f} ± {:.2f}".format(*files_paired) == "0.81 ± 0.38" and files_paired[0] - files_paired[1] > 0
assert (f"{files_paired[0] - files_paired[1]:+.2f}", f"{sum(files_paired):+.2f}") == ("+0.43", "+1.20")
assert (f"{paired_level[0.97][0] - paired_level[0.97][1]:+.2f}", f"{sum(paired_level[0.97]):+.2f}") == ("-0.55", "+1.44")
# what the rule does not ask: each width's files against the DENSE networks (the goal's comparison), on validation
below_dense = {bits: 100 * (dense_val_img - val_97_img[:, j].sum()) / n_val_all for j, bits in enumerate(SWEEP_BITS)}
width_ratio = {bits: np.mean([r["float32 bytes"] / r["sweep"]["pruned 97 %"][j][0] for r in runs.values()])
               for j, bits in enumerate(SWEEP_BITS)}  # file sizes only: no accuracy read
width_paired = {bits: mean_ci(100 * (dense_val_seed - val_97_img[:, j]) / len(data.y_val))
                for j, bits in enumerate(SWEEP_BITS)}  # paired by seed, dense minus files
print("97 % files below the dense networks on validation, points: mean (mean ratio), paired 95 % interval")
for bits in SWEEP_BITS:
    m, h = width_paired[bits]
    print(f"  {bits} bits {below_dense[bits]:5.2f} ({width_ratio[bits]:3.0f}x)   [{m - h:+.2f}, {m + h:+.2f}]")
assert [bits for bits in SWEEP_BITS if below_dense[bits] <= 0.5] == [5, 6, 7, 8]
assert (f"{below_dense[5]:.2f}", f"{width_ratio[5]:.0f}") == ("0.30", "76")
assert all(width_paired[b][0] - width_paired[b][1] < 0 for b in (5, 6, 7, 8))  # no cost detected from 5 bits up ...
assert [f"{sum(width_paired[b]):.2f}" for b in (5, 6, 7, 8)] == ["1.29", "1.50", "1.50", "1.44"]  # ... none shown < 0.5

# %%
ratios = np.array([r["float32 bytes"] / r["file"][0] for r in runs.values()])
drop_images = np.array([images(r["dense"]) - images(r["file"][1]) for r in runs.values()])
drops = 100 * drop_images / len(data.y_test)  # points: exact multiples of 100/450
print(f"{'seed':>4s} {'dense %':>8s} {'pruned %':>9s} {'file %':>7s} {'drop, points (images)':>22s} "
      f"{'file bytes':>11s} {'ratio':>6s} {'k-means gain':>13s}")
for seed, r in runs.items():
    print(f"{seed:4d} {100 * r['dense']:8.2f} {100 * r['pruned']:9.2f} {100 * r['file'][1]:7.2f} "
          f"{drops[seed]:+14.2f} ({drop_images[seed]:+d})   {r['file'][0]:11,d} {ratios[seed]:6.1f} "
          f"{r['k-means gain']:12.2f}x")
for label, values, digits in [("dense accuracy, %", [100 * r["dense"] for r in runs.values()], 2),
                              ("file accuracy, %", [100 * r["file"][1] for r in runs.values()], 2),
                              ("compression_acc_drop_pt", drops, 2), ("compression_ratio", ratios, 1)]:
    m, h = mean_ci(values)
    print(f"{label:24s} mean {m:6.{digits}f} ± {h:.{digits}f} (95 % interval), "
          f"seeds from {min(values):.{digits}f} to {max(values):.{digits}f}")
compression_ratio, compression_acc_drop_pt = ratios.mean(), drops.mean()
assert all(r["dense, float32 file"] == r["dense"] for r in runs.values())  # the float32 baseline scores alike
assert ratios.min() >= 50  # the ratio goal holds for every seed
assert (round(ratios.min()), round(ratios.max()), round(ratios.mean())) == (91, 92, 92)  # as the summary says
assert np.all(np.abs(ratios / ratios.mean() - 1) < 0.05)  # every seed within 5 % of the mean ratio
assert drop_images.tolist() == [3, 2, 4, 5, 1]  # from one test image lost to five
assert compression_acc_drop_pt > 0.5  # the drop goal is missed on the mean ...
assert np.flatnonzero(drops > 0.5).tolist() == [0, 2, 3]  # ... and on three seeds of five
drop_m, drop_h = mean_ci(drops)
assert (f"{drop_m:.2f}", f"{drop_m - drop_h:+.2f}", f"{drop_m + drop_h:+.2f}") == ("0.67", "+0.23", "+1.10")
assert drop_m - drop_h > 0  # the interval excludes 0: a cost is detected
assert f"{min(r['k-means gain'] for r in runs.values()):.2f}" == "1.50"  # "at least 1.50 on every seed"

# %% [markdown]
# The rule bounds what weight sharing costs against the *pruned* networks; the course's goal bounds
# the total against the dense ones, and the rule was not written to aim at it. Measured that way on
# validation (the last lines printed by the bit-width cell), the files from 5 bits up are within half a
# point of dense on the mean (5 bits: 0.30 points, at about 76x); paired by seed no cost is detected
# there, but the intervals reach 1.29 to 1.50 points, so validation cannot show that they meet the goal
# either. The rule, fixed before these numbers, stays as it is, and the lesson reports its pick.
#
# The ratio is a property of the pipeline: every seed lands within 5 % of the mean. The
# accuracy drop is a difference of a few test images, from one image lost (seed 4) to five (seed 3).
# The mean drop, 0.67 points, **misses** the goal of at most 0.5 points, and so do three of the five
# seeds (0, 2 and 3); the 95 % interval, $[+0.23, +1.10]$ points, excludes 0: five seeds detect a cost,
# of between a quarter of a point and about a point. The miss is on the mean: the interval also contains
# 0.5, so five seeds do not establish it either. The validation images had said as much before the test
# images were read: there the 3-bit files are 0.81 points below dense, paired $[+0.43, +1.20]$. (The
# last column is the smallest factor, over 2 to 5 bits, by which k-means has less squared error than
# the evenly spaced codebook on the first layer's kept weights: at least 1.50 on every seed. That it
# is at least 1 holds by construction, section 3.)
#
# What these figures rest on: the pruning schedule (section 2) and the bit width (above) were chosen
# on the validation images by rules stated before their numbers, and the 97 % passes lesson 10's
# one-point rule there (a check added after an earlier version's numbers had been seen). The dense
# training protocol (section 1) is kept from an earlier version of this lesson that chose it while
# looking at these same 450 test images. The test images were read for these figures only (test
# accuracies of seed 0's networks were shown in sections 2 to 5 before the checks; no choice made in this version reads a test number). The library's `compression.compression_experiment`, which the
# benchmark script runs, is a variant of this pipeline with its own protocol and schedule
# (30 dense epochs; five pruning rounds with 10 epochs of distilled fine-tuning each; $\eta = 0.05$,
# batches of 32; 5 bits per weight); it trains on the training part of
# `load_digits_splits(seed=seed)` (each seed its own parts) and reports test accuracy. Its figures
# are in the README, not here.
#
# ## 6. Accuracy against size
#
# Every seed's pruning-round snapshots, stored with 2 to 8 bits per weight, and its dense
# network stored the same way (k-means sharing without pruning). A single seed's accuracies
# move by a few test images from seed to seed (section 5), so the figures show the mean of the
# five seeds with its 95 % interval; the sizes vary between seeds by up to 7 % of their mean
# (printed below) and are drawn at their mean. Sizes are printed to 10 bytes, asserted clear of the
# rounding boundary (section 1); five means too close to it (within 2 bytes at 8 bits, 0.4 bytes at
# 3 and 4 bits: dense and 90 % and 95 % at 8 bits, 75 % at 3 bits, 97 % at 4 bits) are printed to 100
# bytes instead. The first figure below, (a), draws them; the second, (b), with the same limits, sets
# the 97 % curve beside small dense networks trained from scratch (trained just before the figures).

# %%
curve_labels = list(runs[0]["sweep"])
sweep_kb = {label: np.array([[n for n, _ in runs[seed]["sweep"][label]] for seed in SEEDS]) / 1000
            for label in curve_labels}  # (seed, bits)
sweep_img = {label: np.array([[images(acc) for _, acc in runs[seed]["sweep"][label]] for seed in SEEDS])
             for label in curve_labels}  # correct test images, (seed, bits)
sweep_pct = {label: 100 * sweep_img[label] / len(data.y_test) for label in curve_labels}
def kb_text(mean_bytes, bits):
    """A mean file size (bytes, mean of five seeds) as printed, to 10 bytes, asserted clear of its rounding
    boundary: by at least 2 bytes for 7 and 8 bits (where, before the float32 rounding of section 1, one
    seed's file moved by up to 7 bytes between CPUs: 1.4 bytes of the mean) and 0.4 bytes (2 bytes of one
    seed's file) for fewer bits. A mean too close at 10 bytes is printed to 100 bytes."""
    guard = 2.0 if bits >= 7 else 0.4
    for unit in (10, 100):
        if abs(mean_bytes % unit - unit / 2) >= guard - 1e-6:  # means of 5 seeds: multiples of 0.2 bytes
            return f"{mean_bytes / 1000:.{2 if unit == 10 else 1}f}"
    raise AssertionError(f"{mean_bytes} bytes ({bits} bits) lies within {guard} bytes of a rounding boundary")


print("mean of 5 seeds, size and accuracy ± 95 % interval")
print(" " * 27 + "".join(f"{bits:>13d} bits" for bits in SWEEP_BITS))
for label in curve_labels:
    # sizes through kb_text: to 10 bytes, asserted clear of the rounding boundary (see section 1)
    cells = [f"{kb_text(1000 * sweep_kb[label][:, j].mean(), bits)}KB {mean_ci(sweep_pct[label][:, j])[0]:4.1f}"
             f"±{mean_ci(sweep_pct[label][:, j])[1]:3.1f}" for j, bits in enumerate(SWEEP_BITS)]
    print(f"{label:27s}" + "".join(f"{c:>18s}" for c in cells))
    assert np.all(np.diff(sweep_kb[label], axis=1) > 0)  # on every seed, fewer bits, fewer bytes
coarse = [(label, bits) for label in curve_labels for j, bits in enumerate(SWEEP_BITS)
          if len(kb_text(1000 * sweep_kb[label][:, j].mean(), bits).split(".")[1]) == 1]  # printed to 100 bytes
assert sorted(coarse) == [("dense, shared weights only", 8), ("pruned 75 %", 3), ("pruned 90 %", 8),
                          ("pruned 95 %", 8), ("pruned 97 %", 4)]  # "five means", as the text lists them
size_spread = {(label, bits): np.ptp(sweep_kb[label][:, j]) / sweep_kb[label][:, j].mean()
               for label in curve_labels for j, bits in enumerate(SWEEP_BITS)}
widest = max(size_spread, key=size_spread.get)
print(f"file sizes between seeds: (largest - smallest) / mean is at most {100 * size_spread[widest]:.1f} % "
      f"({widest[0]}, {widest[1]} bits)")
assert 0.06 < size_spread[widest] <= 0.07  # "by up to 7 % of their mean"
col = {bits: j for j, bits in enumerate(SWEEP_BITS)}
two_bit_loss = np.stack([sweep_img[label][:, col[4]] - sweep_img[label][:, col[2]] for label in curve_labels])
three_bit_loss = np.stack([sweep_img[label][:, col[4]] - sweep_img[label][:, col[3]] for label in curve_labels])
spread_4_to_8 = np.stack([np.ptp(sweep_img[label][:, col[4]:], axis=1) for label in curve_labels])
print(f"over all curves and seeds, against 4 bits: 2 bits cost {two_bit_loss.min()} to {two_bit_loss.max()} "
      f"test images, 3 bits {three_bit_loss.min()} to {three_bit_loss.max()}; from 4 to 8 bits a curve "
      f"of one seed spans {spread_4_to_8.min()} to {spread_4_to_8.max()} test images")
print(f"2 bits cost at least one image on {int((two_bit_loss > 0).sum())} of {two_bit_loss.size} curves; "
      f"3 bits on {int((three_bit_loss > 0).sum())} of {three_bit_loss.size}")
# how far the five-seed mean of a curve moves from its value at 4 bits when more bits are used, in images
mean_shift = max(abs(sweep_img[label][:, col[bits]].mean() - sweep_img[label][:, col[4]].mean())
                 for label in curve_labels for bits in range(5, 9))
print(f"from 4 to 8 bits the mean of five seeds moves by at most {mean_shift:.1f} test images on any curve")
assert (two_bit_loss.min(), two_bit_loss.max()) == (2, 19) and (two_bit_loss > 0).all()  # every curve, every seed
assert (three_bit_loss.min(), three_bit_loss.max()) == (-2, 6) and int((three_bit_loss > 0).sum()) == 20
assert spread_4_to_8.max() == 4 and f"{mean_shift:.1f}" == "1.2"

# %% [markdown]
# Before drawing these curves, a second baseline. The 64-300-100-10 network is much larger than
# the task needs (section 7 returns to this), so a ratio against its float32 file partly measures
# that oversizing. The fair question is Zhu and Gupta's (*To prune, or not to prune: exploring the
# efficacy of pruning for model compression*, ICLR workshop 2018): **does pruning a large network
# beat training a small one, at equal bytes?** Train small dense networks $64 \to h \to 10$ with
# $h = 24, 32, 40, 48, 64, 96, 128$ and $64 \to h \to h/2 \to 10$ with $h = 32, 64, 128$ by section 1's
# protocol (20 epochs, $\eta = 0.1$, $\beta = 0.9$,
# batches of 64) on the same five seeds and the same training part, store each as a float32 file, and
# also with k-means sharing (`save_compressed` without masks: no pruning) at the same bit widths as
# the pruned files, 2 to 8, reload and score them on the validation part (on which the baselines
# below are chosen) and on the test part (which reports them). The one-layer candidates (these seven
# widths and the 64-300-100-10 itself) and the three selection rules below are kept from earlier versions of
# this lesson, which applied them to these same test images (one of them had also tried 64-16-10 there,
# and a later one dropped it). The three two-layer networks joined in this version, after a review
# pointed out that the candidates left out 64-64-32-10, the network lessons 09 and 10 use: they are the
# two-layer shapes of the benchmark `compression_ratio_vs_right_sized` below the large network's size,
# taken as that family (none tried and dropped); the rules are unchanged. They did not join blind:
# 64-64-32-10 is lesson 09's network, trained there exactly as here (the same split, seeds and protocol;
# its per-seed accuracies, asserted below, are the ones lesson 09 prints), so its validation and test
# accuracies on these images had been printed before it joined. With the seven earlier candidates all
# three rules picked the 64-300-100-10 itself (91.8x, and the goal of 10 was "not established"); this
# addition is what moves the mean and paired rules' picks. The comparison below is against the 97 % files
# at every width of the sweep, 2 to 8 bits (an earlier version compared a range of 2 to 5 bits that it
# had chosen looking at the test curves; comparing them all leaves no range to choose, and sets the
# number of comparisons, seven, that a correction divides by). A small file larger than the
# largest of them cannot enter it, so each network's bit widths stop at the first one past that
# size (sizes grow with the bits, asserted above). `baselines.train_dense_sweep` trains the five
# networks of a shape side by side (`train_many`, each as `train` would train it alone, checked
# below for one of them):

# %%
SMALL_SHAPES = [(24,), (32,), (40,), (48,), (64,), (96,), (128,),  # 64 -> h -> 10
                (32, 16), (64, 32), (128, 64)]  # 64 -> h -> h/2 -> 10: the benchmark's, below 64-300-100-10's size


def net_name(hidden):
    """'64-32-16-10' for hidden = (32, 16): the layer widths from input to output."""
    return "-".join(map(str, (64, *hidden, 10)))


EQUAL_BYTES_BITS = SWEEP_BITS  # the 97 % files compared at equal bytes: every width of the sweep, 2 to 8
largest_pruned = sweep_kb["pruned 97 %"][:, col[EQUAL_BYTES_BITS[-1]]].mean() * 1000  # mean bytes, 97 % at 8 bits
small, small_files, small_files_val = [], {}, {}  # [(hidden, bits)]: [(bytes, test / validation accuracy) per seed]
for hidden in progress(SMALL_SHAPES, desc="small dense networks, 5 seeds each, and their files"):
    b, = baselines.train_dense_sweep([hidden], data, list(SEEDS), epochs=20, lr=0.1, momentum=0.9, batch_size=64)
    small.append(b)
    for bits in SWEEP_BITS:  # 2 to 8 bits, until a file is larger than every pruned file compared
        files = baselines.quantized_files(b, data, bits, float32=True)  # per seed (bytes, validation, test acc.)
        small_files[hidden, bits] = [(n, test) for n, _, test in files]
        small_files_val[hidden, bits] = [(n, val) for n, val, _ in files]
        if np.mean([n for n, _, _ in files]) > largest_pruned:
            break
big = baselines.DenseBaseline(hidden=HIDDEN, seeds=tuple(SEEDS), n_parameters=n_params,
                              float32_bytes=runs[0]["float32 bytes"],
                              val_accuracies=tuple(r["dense val"] for r in runs.values()),
                              test_accuracies=tuple(r["dense"] for r in runs.values()),
                              networks=tuple(dense_by_seed[seed] for seed in SEEDS))  # the large network
assert all(r["float32 bytes"] == big.float32_bytes for r in runs.values())
alone = mlp(hidden=(24,), seed=3)  # one of them trained on its own, by train(), on the training part
train(alone, fit, epochs=20, lr=0.1, momentum=0.9, batch_size=64, seed=3, progress=False, evaluate=())
assert max((a - b).abs().max().item() for a, b in zip(alone.parameters(), small[0].networks[3].parameters(),
                                                       strict=True)) < 1e-12
print(f"{'network':>13s} {'parameters':>10s} {'float32 file':>13s} {'validation %':>13s} {'test %, 5 seeds':>20s}   "
      "shared-weight files: bits KB validation % test %")
for b in small:
    widths = (64, *b.hidden, 10)
    assert b.n_parameters == sum(n_in * n_out + n_out for n_in, n_out in zip(widths[:-1], widths[1:], strict=True))
    assert all(accuracy(float32_weights(net), data.X_test, data.y_test) == acc  # the float32 file's network
               for net, acc in zip(b.networks, b.test_accuracies, strict=True))
    m, half = mean_ci([100 * a for a in b.test_accuracies])
    cells = "; ".join(f"{bits} {kb_text(np.mean([n for n, _ in small_files[b.hidden, bits]]), bits)} "
                      f"{np.mean([100 * a for _, a in small_files_val[b.hidden, bits]]):.2f} "
                      f"{np.mean([100 * a for _, a in small_files[b.hidden, bits]]):.2f}"
                      for bits in SWEEP_BITS if (b.hidden, bits) in small_files)
    print(f"{net_name(b.hidden):>13s} {b.n_parameters:10,d} {b.float32_bytes / 1000:10.2f} KB "
          f"{100 * b.mean_val_accuracy:13.2f} {m:13.2f} ± {half:4.2f}   {cells}")
big_mean = mean_ci([100 * a for a in big.test_accuracies])
print(f"{'64-300-100-10':>13s} {n_params:10,d} {big.float32_bytes / 1000:10.2f} KB "
      f"{100 * big.mean_val_accuracy:13.2f} {big_mean[0]:13.2f} ± {big_mean[1]:4.2f}")
print(f"{len(small_files)} small shared-weight files per seed; the largest pruned 97 % file compared: "
      f"{largest_pruned / 1000:.2f} KB")

# %%
curve_style = {  # Okabe-Ito colours, each curve its own dash pattern and marker
    "dense, shared weights only": (OKABE_ITO["black"], (0, (1, 1.5)), "o"),
    "pruned 75 %": (OKABE_ITO["orange"], (0, (6, 2)), "s"),
    "pruned 90 %": (OKABE_ITO["sky blue"], (0, (6, 2, 1, 2)), "D"),
    "pruned 95 %": (OKABE_ITO["green"], (0, (3, 1.5)), "^"),
    "pruned 97 %": (OKABE_ITO["vermillion"], "-", "v"),
}
TEXT = "0.15"  # annotations in near-black: the pale curve colours are too faint for 8-point text
CLEAR = {"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none"}  # no line crosses a label
curves = {}  # label -> (mean KB per bit width, mean %, 95 % half-width), over the five seeds
for label in curve_labels:
    m, h = np.array([mean_ci(sweep_pct[label][:, j]) for j in range(len(SWEEP_BITS))]).T
    curves[label] = (sweep_kb[label].mean(axis=0), m, h)
dense_ci = mean_ci([100 * r["dense"] for r in runs.values()])
f32_kb = np.mean([r["float32 bytes"] for r in runs.values()]) / 1000
pick_kb = sweep_kb["pruned 97 %"][:, col[BITS]].mean()
pick_pct = sweep_pct["pruned 97 %"][:, col[BITS]].mean()
file_test_mean = np.mean([r["file"][1] for r in runs.values()])
small_ci = np.array([mean_ci([100 * a for a in b.test_accuracies]) for b in small])
# the small shared-weight files that no smaller small file beats on VALIDATION (whole images), drawn at
# their test accuracy, from a mean validation accuracy of 95 % up: selected and cut on validation, so the
# test points are not optimistic
small_pts = sorted((np.mean([n for n, _ in f]) / 1000, *mean_ci([100 * a for _, a in f]),
                    sum(round(a * len(data.y_val)) for _, a in small_files_val[key]), key)
                   for key, f in small_files.items())
front, best_so_far = [], -1
for kb, m, h, val_count, key in small_pts:
    if val_count > best_so_far:
        best_so_far = val_count
        if 100 * val_count / (len(SEEDS) * len(data.y_val)) >= 95:  # the display cutoff, on validation
            front.append((kb, m, h, key))
# both figures with the same limits, so that a point of one can be read against the other
lowest = [(m - h).min() for _, m, h in curves.values()] + list(small_ci[:, 0] - small_ci[:, 1])
lowest += [m - h for _, m, h, _ in front]
xs = [kb for kb, *_ in front] + [b.float32_bytes / 1000 for b in small] + [f32_kb]
xs += [x for kb, _, _ in curves.values() for x in kb]
ylim, xlim = (np.floor(min(lowest)) - 0.5, 99), (0.8 * min(xs), 1.4 * max(xs))


def kb_to_ratio(kb):
    return f32_kb / np.maximum(kb, 1e-9)  # the axis machinery also asks about kb = 0


def size_axes(title, legend_height):
    """Axes of accuracy against file size with the limits above, the ratio on top, the files' mean and
    our pick drawn, and a row for the legend under them (heights in the ratio 3.4 : ``legend_height``,
    the figure 4.5 + ``legend_height`` inches high); returns both.
    Drawn for a notebook column 592 px wide (JupyterLab at 1024 px with its file browser open): 8.4 in
    at 80 dpi is 672 px, displayed about 575 px wide once the inline backend crops the margins; no
    text under 8 points."""
    _, (ax, legend_row) = plt.subplots(2, 1, figsize=(8.4, 4.5 + legend_height), height_ratios=(3.4, legend_height))
    legend_row.axis("off")
    ax.set(xscale="log", xlim=xlim, ylim=ylim, xlabel="file size (KB, mean of five seeds, log scale)",
           ylabel="test accuracy of the reloaded file (%)")
    ax.set_title(f"{title}\nmean of five seeds, 95 % interval (one test image = 0.22 points)", loc="left")
    ax.axhline(100 * file_test_mean, color=OKABE_ITO["grey"], linewidth=1, linestyle=":",
               label=f"the 97 %, {BITS}-bit files' mean test accuracy, {100 * file_test_mean:.2f} %")
    ax.plot(pick_kb, pick_pct, "o", markersize=14, markerfacecolor="none", markeredgecolor=OKABE_ITO["black"],
            markeredgewidth=1.5, label=f"our pick: 97 %, {BITS} bits, {compression_ratio:.0f}x")
    ax.secondary_xaxis("top", functions=(kb_to_ratio, kb_to_ratio)).set_xlabel(  # the map is its own inverse
        "compression ratio against the float32 file")
    return ax, legend_row


def draw_curve(ax, label, shown_as, drop=10):
    """One curve of the sweep (``curve_labels``) as ``shown_as``, its smallest width labelled ``drop`` points
    under its error bar."""
    color, dashes, marker = curve_style[label]
    kb, m, h = curves[label]
    ax.errorbar(kb, m, yerr=h, color=color, linestyle=dashes, marker=marker, markersize=4, capsize=2,
                linewidth=1.3, label=shown_as)
    ax.annotate(f"{SWEEP_BITS[0]} bits", (kb[0], m[0] - h[0]), textcoords="offset points", xytext=(0, -drop),
                ha="center", fontsize=8, color=TEXT, bbox=CLEAR)


def draw_float32_star(ax):
    ax.errorbar(f32_kb, dense_ci[0], yerr=dense_ci[1], fmt="*", color=OKABE_ITO["black"], markersize=11,
                capsize=3, label="dense 64-300-100-10, float32 file (torch.save)")


def legend_under(ax, legend_row, order):
    """The legend in its own row, entries in the order of the labels that ``order`` starts with."""
    handles, labels = ax.get_legend_handles_labels()
    rank = [next(i for i, start in enumerate(order) if text.startswith(start)) for text in labels]
    ranked = sorted(zip(rank, handles, labels, strict=True), key=lambda entry: entry[0])
    legend_row.legend([h for _, h, _ in ranked], [t for _, _, t in ranked], loc="lower center", ncols=2,
                      fontsize=8, labelspacing=0.9)


ax, legend_row = size_axes("(a) the files of this lesson: every width from 2 to 8 bits", 1.3)
draw_float32_star(ax)
for label in curve_labels:
    draw_curve(ax, label, label)
legend_under(ax, legend_row, ["dense 64", "dense, shared", "pruned", "the 97 %", "our pick"])
plt.show()

# %%
ax, legend_row = size_axes("(b) against small networks trained from scratch, the limits of (a)", 2.0)
draw_curve(ax, "pruned 97 %", "pruned 97 %, as in (a)")
draw_float32_star(ax)
for depth, marker, dashes, what in ((1, "P", "-", "small dense 64-h-10, float32 file (h above)"),
                                    (2, "h", (0, (4, 1.5)), "small dense 64-h-h/2-10, float32 file (h-h/2 below)")):
    these = [i for i, b in enumerate(small) if len(b.hidden) == depth]
    ax.errorbar([small[i].float32_bytes / 1000 for i in these], small_ci[these, 0], yerr=small_ci[these, 1],
                color=OKABE_ITO["blue"], linestyle=dashes, marker=marker, markersize=6, capsize=2, linewidth=1.3,
                label=what)
for i, (b, m, h) in enumerate(zip(small, small_ci[:, 0], small_ci[:, 1], strict=True)):
    one = len(b.hidden) == 1  # 64-h-10: h above its bar ("h=" on the first); 64-h-h/2-10: "h-h/2" below
    text = f"h={b.hidden[0]}" if i == 0 else str(b.hidden[0])
    if not one:
        text = "-".join(map(str, b.hidden))
    crowded = not one and any(1 < c.float32_bytes / b.float32_bytes < 1.05 for c in small)  # a bar close right:
    ax.annotate(text, (b.float32_bytes / 1000, m + h if one else m - h), textcoords="offset points",  # end here
                xytext=(0, 3) if one else (2 if crowded else 0, -10), ha="right" if crowded else "center",
                fontsize=8, color=OKABE_ITO["blue"], bbox=CLEAR)
# the choices of the next cells, all made on validation, marked here on the test accuracies they report
file_val = np.array([runs[seed]["sweep val"]["pruned 97 %"][col[BITS]] for seed in SEEDS])  # per seed
target = file_val.mean()  # the compressed files' mean VALIDATION accuracy: the right-sized network's target
right_rule = baselines.smallest_matching([*small, big], target)  # the rule "mean >= target" on validation
ax.plot(right_rule.float32_bytes / 1000, 100 * right_rule.mean_test_accuracy, "s", markersize=14,
        markerfacecolor="none", markeredgecolor=OKABE_ITO["blue"], markeredgewidth=1.5,
        label=f"mean rule's pick (validation): {net_name(right_rule.hidden)}")
fk, fm, fh, _ = map(list, zip(*front, strict=True))
ax.errorbar(fk, fm, yerr=fh, color=OKABE_ITO["purple"], linestyle=(0, (2, 1)), marker="X", markersize=6,
            capsize=2, linewidth=1.3, label="small networks, shared weights:\nbest at its size on validation")
pick_bytes = 1000 * pick_kb
partner_key = baselines.most_accurate_within(small_files_val, pick_bytes)  # chosen on validation (next cells)
partner = small_files[partner_key]
for i, (kb, m, h, (hidden, bits)) in enumerate(front):  # too close together to label under their bars:
    if (hidden, bits) == partner_key:  # in two rows in the empty band below, each on a line to its bar
        continue  # the ring's network: the legend names it
    ax.annotate(f"{'-'.join(map(str, hidden))}/{bits}b", (kb, m - h), xytext=(kb, 0.27 - 0.07 * (i % 2)),
                textcoords=("data", "axes fraction"), ha="center", va="top", fontsize=8, color=TEXT,
                arrowprops={"arrowstyle": "-", "color": "0.6", "linewidth": 0.6, "shrinkA": 0, "shrinkB": 0})
# the closest miss of the mean rule on validation (next cells): the most accurate smaller network
miss = max((b for b in small if b.float32_bytes < right_rule.float32_bytes),  # most correct validation images
           key=lambda b: (sum(round(a * len(data.y_val)) for a in b.val_accuracies), -b.float32_bytes))
ax.plot(miss.float32_bytes / 1000, 100 * miss.mean_test_accuracy, "D", markersize=12, markerfacecolor="none",
        markeredgecolor=OKABE_ITO["blue"], markeredgewidth=1.2,
        label=f"closest miss on validation: {net_name(miss.hidden)}")
ax.plot(np.mean([n for n, _ in partner]) / 1000, np.mean([100 * a for _, a in partner]), "o", markersize=12,
        markerfacecolor="none", markeredgecolor=OKABE_ITO["purple"], markeredgewidth=1.2,
        label=f"equal-bytes partner of our pick:\n{net_name(partner_key[0])}, {partner_key[1]} bits")
legend_under(ax, legend_row, ["small dense 64-h-10", "small dense 64-h-h", "dense 64", "small networks",
                              "pruned", "the 97 %", "our pick", "mean rule", "closest", "equal-bytes"])
plt.show()
print("figure (b)'s purple points (hidden widths/bits): "
      + ", ".join(f"{net_name(key[0])} at {key[1]} bits" for *_, key in front)
      + f"; the ringed one, {net_name(partner_key[0])} at {partner_key[1]} bits, unlabelled: the legend names it")

# %%
table = {"dense shared, 3 bits": ("dense, shared weights only", BITS), "dense shared, 2 bits":
         ("dense, shared weights only", 2), "pruned 97 %, 3 bits": ("pruned 97 %", BITS),
         "pruned 97 %, 2 bits": ("pruned 97 %", 2)}
print(f"{'seed':>4s}" + "".join(f"{key:>22s}" for key in table) + f"{'97 % smaller by':>17s}")
point = {key: {seed: runs[seed]["sweep"][label][col[bits]] for seed in SEEDS} for key, (label, bits) in table.items()}
for seed, r in runs.items():
    print(f"{seed:4d}" + "".join(f"{r['float32 bytes'] / point[key][seed][0]:11.1f}x "
                                 f"{100 * point[key][seed][1]:6.2f} %" for key in table)
          + f"{point['dense shared, 3 bits'][seed][0] / r['file'][0]:10.1f}x of {n_params - 410:,} / "
          f"{r['kept']:,} = {(n_params - 410) / r['kept']:.0f}x")
ratio_of = {key: [runs[seed]["float32 bytes"] / point[key][seed][0] for seed in SEEDS] for key in table}
for key in table:
    print(f"{key:22s}: ratio from {min(ratio_of[key]):.1f}x to {max(ratio_of[key]):.1f}x")
assert all(8 < point["dense shared, 3 bits"][seed][0] / runs[seed]["file"][0] < 9 for seed in SEEDS)
assert all(round((n_params - 410) / r["kept"]) == 34 for r in runs.values())
assert all(10.5 < ratio < 11.5 for ratio in ratio_of["dense shared, 3 bits"])
assert all(14 < ratio < 17 for ratio in ratio_of["dense shared, 2 bits"])

# %% [markdown]
# Pruning moves a curve to the left, though by less than the fraction of weights removed:
# every kept weight also needs its position (on every seed the 97 % file at 3 bits is 8 to
# 9 times smaller than the dense shared one, while it keeps 34 times fewer weights),
# and the biases and header, 29 % of seed 0's 97 % file (section 4), do not shrink with
# pruning: the file stores all 410 biases at every sparsity (those of dead units as zeros).
#
# Fewer bits move each curve further left. At 2 bits accuracy falls on every curve of every
# seed, by 2 to 19 test images against 4 bits (the reference of these counts: the width an earlier
# version used, kept so that 2 and 3 bits are measured against a wider code); at 3 bits it falls on 20 of the 25 curves
# (from two images gained to six lost). From 4 to 8 bits the five-seed mean
# of each curve moves by at most 1.2 test images, and a single seed's curve by at most four. Sharing weights without pruning reaches
# about 11x at 3 bits (14 to 15x at 2 bits) on every seed: every weight still needs its code.
# These curves are test accuracies, a reported figure drawn for every candidate; no choice is read
# off them (the 3 bits and the 97 % were chosen or checked on validation in section 5).
#
# The bars are each point's own 95 % interval over the seeds (unpaired). The comparisons below are
# paired, seed by seed, which removes the variation two networks of the same seed share: overlapping
# bars do not mean "no difference", and the verdicts are those of the paired intervals.
#
# ### Against the smallest dense network of the same accuracy
#
# The headline ratio divides the large network's float32 file by the compressed one. The second
# baseline is the **smallest dense float32 file of the same accuracy**, and which network that is
# is a choice, so it is made on the validation images. Among the dense networks trained above (the
# ten small ones and the 64-300-100-10 itself), with $B_{32}(d)$ the
# bytes of $d$'s float32 file, $\bar v(d)$ its mean *validation* accuracy over the five seeds and
# $\bar v_{\text{file}}$ that of the five compressed files (97 %, 3 bits), the rule of
# `baselines.smallest_matching` is
#
# $$d^* = \arg\min\{B_{32}(d) : \bar v(d) \ge \bar v_{\text{file}}\},\qquad
#   r_s = B_{32}(d^*) / B_{\text{file},s}.$$
#
# "Mean at least mean" hangs on single validation images (one is 0.37 points), so the cell also
# applies a paired non-inferiority rule (`baselines.smallest_non_inferior`), on validation too: with
# $\delta_s(d) = v_s(d) - v_{\text{file},s}$ on the same seeds and $\bar\delta \pm h_\delta$ its mean
# with the half-width of its 95 % interval,
#
# $$d_{0.5} = \arg\min\{B_{32}(d) : \bar\delta(d) - h_\delta(d) \ge -0.5 \text{ points}\}:$$
#
# the smallest network whose interval clears the margin of half a point (the course's accuracy goal).
# Taken this way, as the smallest of eleven tests made without correction for their number, it is
# not a proof of anything; the procedure that needs no correction tests from the largest network
# down and stops at the first failure (a fixed sequence); the cell reports both, and a Bonferroni
# correction over the eleven. Then, for each pick and only then, the test part: its ratio, and its
# test accuracy against the compressed files' paired by seed (dense minus compressed). The cell
# counts correct images (whole numbers) to apply the rules:

# %%
def val_images(acc):
    """An accuracy in [0, 1] as the number of validation images it counts (an exact integer)."""
    return round(acc * len(data.y_val))


file_val_img = np.array([val_images(a) for a in file_val])  # correct validation images, five compressed files
print(f"target: the compressed files' mean validation accuracy, {100 * target:.2f} % ({file_val_img.sum()} of "
      f"{5 * len(data.y_val)} validation images over the five seeds)")
reaching, non_inferior, paired = [], [], {}
print("validation, per candidate: mean, images per seed against the target, paired interval (points)")
for b in [*small, big]:
    delta = np.array([val_images(a) for a in b.val_accuracies]) - file_val_img  # per seed, dense minus compressed
    dm, dh = mean_ci(100 * delta / len(data.y_val))
    paired[b.hidden] = (dm, dh)
    print(f"  {net_name(b.hidden)}: {b.float32_bytes:7,d} bytes, validation {100 * b.mean_val_accuracy:.2f} %, "
          f"{delta.mean():+.1f} images per seed, paired {dm:+.2f} ± {dh:.2f} points")
    if delta.sum() >= 0:
        reaching.append(b)
    if dm - dh >= -0.5 - 1e-9:
        non_inferior.append(b)
right = min(reaching, key=lambda b: b.float32_bytes)
low = min(non_inferior, key=lambda b: b.float32_bytes)
assert right is right_rule and right is baselines.smallest_matching([*small, big], target)
assert low is baselines.smallest_non_inferior([*small, big], list(file_val), margin=0.005)
sequence = None  # rule 2 as a fixed sequence: from the largest network down, stop at the first failure
for b in sorted([*small, big], key=lambda b: b.float32_bytes, reverse=True):
    if b not in non_inferior:
        break
    sequence = b
print(f"chosen on validation: mean rule {net_name(right.hidden)}; paired rule's smallest passer "
      f"{net_name(low.hidden)}; paired rule as a fixed sequence {net_name(sequence.hidden)}")
t_all = stdtrit(4, 1 - 0.025 / len(paired))  # Bonferroni over all the candidates (eleven)
bonferroni_pass = [h for h, (dm, dh) in paired.items() if dm - dh * t_all / T95[5] >= -0.5 - 1e-9]
print(f"paired rule with a Bonferroni correction over the {len(paired)} candidates (t = {t_all:.2f}): "
      f"{len(bonferroni_pass)} pass: " + ", ".join(net_name(h) for h in bonferroni_pass))

# then, once, the test part: the picks' ratios and their test accuracy against the compressed files'
file_bytes = np.array([r["file"][0] for r in runs.values()])
file_img = np.array([images(r["file"][1]) for r in runs.values()])  # correct test images, five compressed files
print(f"test: compression ratio against the large float32 file {mean_ci(ratios)[0]:5.1f} ± {mean_ci(ratios)[1]:.1f}")
picks = {"mean rule": right, "paired rule, smallest passer": low, "paired rule, fixed sequence": sequence}
report = {}
for rule, b in picks.items():
    r_s = b.float32_bytes / file_bytes
    d_img = np.array([images(a) for a in b.test_accuracies]) - file_img  # per seed, dense minus compressed
    report[rule] = (mean_ci(r_s), mean_ci(100 * d_img / len(data.y_test)), d_img, r_s)
    (rm_, rh_), (tm_, th_) = report[rule][:2]
    print(f"  {rule:29s} {net_name(b.hidden)} ({b.float32_bytes:,} bytes): ratio {rm_:5.1f} ± {rh_:.1f} "
          f"({r_s.min():.1f} to {r_s.max():.1f}); test {100 * b.mean_test_accuracy:.2f} %, dense minus compressed "
          f"{tm_:+.2f} ± {th_:.2f} points [{tm_ - th_:+.2f}, {tm_ + th_:+.2f}], per seed (images) {d_img.tolist()}")
(rm, rh), (right_dm, right_dh), right_d, right_ratios = report["mean rule"]
(lm, lh), (low_dm, low_dh), low_d, low_ratios = report["paired rule, smallest passer"]
runner = max((b for b in [*small, big] if b not in reaching),  # the most correct validation images, then fewest bytes
             key=lambda b: (sum(val_images(a) for a in b.val_accuracies), -b.float32_bytes))
print(f"closest miss of the mean rule on validation: {net_name(runner.hidden)}, "
      f"{file_val_img.mean() - np.mean([val_images(a) for a in runner.val_accuracies]):.1f} validation images "
      f"per seed short, ratio "
      f"{mean_ci(runner.float32_bytes / file_bytes)[0]:.1f}   (± intervals of ratios: file sizes only, not the choice)")
assert f"{100 * target:.2f}" == "96.59" and file_val_img.sum() == 1304  # as the text says
assert right.hidden == (64, 32) and low.hidden == sequence.hidden == (128, 64)  # the three picks, as the text says
# 64-64-32-10 is lesson 09's network (the same split, seeds and protocol): its per-seed validation and test
# accuracies are those lesson 09 prints (96.30, 97.78, 96.30, 96.30, 96.30 % and 96.89, 97.11, 95.56, 95.78, 96.22 %)
assert [val_images(a) for a in right.val_accuracies] == [260, 264, 260, 260, 260]
assert [images(a) for a in right.test_accuracies] == [436, 437, 430, 431, 433]
assert [f"{b.float32_bytes / 1000:.1f}" for b in (right, runner)] == ["28.9", "9.5"]
assert runner is miss  # figure (b)'s closest miss (the best smaller network) is this one (the best that misses)
assert [b.hidden for b in reaching] == [(64, 32), (128, 64), HIDDEN] and sum(
    val_images(a) for a in right.val_accuracies) == 1304  # 64-64-32-10 reaches the target exactly, no margin
assert [b.hidden for b in non_inferior] == [(128, 64), HIDDEN]
one_layer = [b for b in small if len(b.hidden) == 1]
assert [f"{100 * b.mean_val_accuracy:.2f}" for b in (min(one_layer, key=lambda b: b.mean_val_accuracy),
                                                      max(one_layer, key=lambda b: b.mean_val_accuracy))] == ["96.00", "96.44"]
assert f"{100 * big.mean_val_accuracy:.2f}" == "97.41" and bonferroni_pass == [big.hidden]
assert (f"{rm:.1f}", f"{rh:.1f}") == ("12.9", "0.1") and (f"{lm:.1f}", f"{lh:.1f}") == ("32.0", "0.2")
assert f"{mean_ci(ratios)[0]:.1f}" == "91.8"  # the headline, the Bonferroni rule's pick
assert (f"{right_dm:+.2f}", f"{right_dh:.2f}") == ("-0.67", "0.80") and right_dm - right_dh < 0 < right_dm + right_dh
assert (f"{low_dm:+.2f}", f"{low_dh:.2f}") == ("+0.84", "0.36") and low_dm - low_dh > 0  # a cost detected
assert runner.hidden == (24,) and f"{mean_ci(runner.float32_bytes / file_bytes)[0]:.1f}" == "4.2"
assert f"{file_val_img.mean() - np.mean([val_images(a) for a in runner.val_accuracies]):.1f}" == "0.4"
# what validation can tell: every small network's paired interval against the files contains 0
undetected = [b.hidden for b in small if paired[b.hidden][0] - paired[b.hidden][1] < 0 < sum(paired[b.hidden])]
print(f"small networks whose paired validation interval contains 0 (no difference detected): {len(undetected)} of "
      f"{len(small)}; half-widths {min(dh for h, (_, dh) in paired.items() if h in undetected):.2f} to "
      f"{max(dh for h, (_, dh) in paired.items() if h in undetected):.2f} points")
small_ratio = {b.hidden: mean_ci(b.float32_bytes / file_bytes)[0] for b in small}
print("if the right-sized network were a small one, the ratio would be: " + ", ".join(
    f"{net_name(h)} {r:.1f}x" for h, r in small_ratio.items()))
short_img = {b.hidden: file_val_img.mean() - np.mean([val_images(a) for a in b.val_accuracies]) for b in small}
small_val_img = {b.hidden: sum(val_images(a) for a in b.val_accuracies) for b in one_layer}
assert len(undetected) == len(small) == 10  # none of the ten differs detectably from the files on validation
assert (f"{min(short_img[b.hidden] for b in one_layer):.1f}", f"{max(short_img[b.hidden] for b in one_layer):.1f}",
        f"{short_img[32, 16]:.1f}", f"{short_img[64, 32]:.1f}", f"{short_img[128, 64]:.1f}") == (
    "0.4", "1.6", "0.6", "0.0", "-1.8")  # validation images per seed short of the target (negative: above it)
assert min(small_val_img, key=small_val_img.get) == (64,)  # 64-64-10 lowest of the one-layer networks ...
assert small_val_img[(24,)] == small_val_img[(96,)] == small_val_img[(128,)] == max(small_val_img.values())  # alike
assert [h for h, r in small_ratio.items() if r >= 10] == [(96,), (128,), (64, 32), (128, 64)]  # the goal's side
assert [f"{small_ratio[h]:.1f}" for h in ((96,), (128,), (32, 16), (64,))] == ["13.9", "18.2", "6.2", "9.6"]
assert (f"{100 * right.mean_test_accuracy:.2f}", f"{100 * low.mean_test_accuracy:.2f}",
        f"{100 * file_img.mean() / len(data.y_test):.2f}") == ("96.31", "97.82", "96.98")
assert [f"{f(paired[b.hidden][1] for b in small):.2f}" for f in (min, max)] == ["0.68", "2.31"]  # "± 0.68 to 2.31"
assert [f"{paired[h][0]:+.2f} ± {paired[h][1]:.2f}" for h in ((64, 32), (128, 64))] == ["+0.00 ± 1.08", "+0.67 ± 0.68"]

# %% [markdown]
# **At equal bytes**, the fair partner of a pruned file is not one small network picked by eye
# but the best small file that is no larger, and "best" is again a choice made on validation. For
# each pruned 97 % file $p$ (every width of the sweep, 2 to 8 bits), with $\bar B$ the mean bytes over the five seeds and
# $\bar v$ the mean validation accuracy, the cell takes (`baselines.most_accurate_within`)
#
# $$q^*(p) = \arg\max\{\bar v(q) : q \text{ a small shared-weight file},\ \bar B(q) \le \bar B(p)\}$$
#
# (ties to the fewer bytes) and then compares the two on the test images, seed by seed (paired):

# %%
equal_bytes, near, near_result, pick_count = {}, {}, {}, {}
print(f"{'pruned 97 % file':>22s} {'partner chosen on validation':>34s}   test: pruned minus partner, per seed (images)"
      "; mean ± 95 % interval, points")
for bits in EQUAL_BYTES_BITS:
    p_bytes = sweep_kb["pruned 97 %"][:, col[bits]].mean() * 1000
    q = baselines.most_accurate_within(small_files_val, p_bytes)  # the choice, on validation
    fitting = {key: f for key, f in small_files_val.items() if np.mean([n for n, _ in f]) <= p_bytes}
    count = {key: sum(val_images(a) for _, a in f) for key, f in fitting.items()}  # whole validation images
    q_best = max(fitting, key=lambda key: (count[key], -sum(n for n, _ in fitting[key])))  # integers only
    assert q == q_best  # the library's rule, against a direct search in whole images and bytes
    pick_count[bits] = count[q]
    # the files within one validation image (of 1,350) of the pick: ties first, then one image fewer
    near[bits] = sorted((key for key in fitting if count[key] >= count[q] - 1 and key != q),
                        key=lambda key: (-count[key], str(key)))
    q_img = np.array([images(a) for _, a in small_files[q]])  # then its test accuracy, once
    d = sweep_img["pruned 97 %"][:, col[bits]] - q_img
    dm, dh = mean_ci(100 * d / len(data.y_test))
    verdict = "no difference detected" if dm - dh <= 0 <= dm + dh else ("pruned better" if dm > 0 else "small better")
    equal_bytes[bits] = (q, d, dm, dh, verdict)
    print(f"{bits} bits, {kb_text(p_bytes, bits):>5s} KB {mean_ci(sweep_pct['pruned 97 %'][:, col[bits]])[0]:6.2f} %"
          f"   {net_name(q[0])} at {q[1]} bits, {kb_text(np.mean([n for n, _ in small_files[q]]), q[1]):>5s} KB "
          f"{100 * q_img.mean() / len(data.y_test):6.2f} %   {d.tolist()}; {dm:+.2f} ± {dh:.2f} "
          f"[{dm - dh:+.2f}, {dm + dh:+.2f}] {verdict}")
    for key in near[bits]:  # the rule (fewer bytes, or one more image) decided between these and the pick
        d_near = sweep_img["pruned 97 %"][:, col[bits]] - np.array([images(a) for _, a in small_files[key]])
        tm, th = mean_ci(100 * d_near / len(data.y_test))
        near_result[bits, key] = (tm, th, count[key])
        what = "tie" if count[key] == count[q] else "one image fewer"
        print(f"     {what} on validation ({count[key]} images of {5 * len(data.y_val):,}) with {net_name(key[0])} at "
              f"{key[1]} bits, {kb_text(np.mean([n for n, _ in small_files[key]]), key[1])} KB; against that one: "
              f"{tm:+.2f} ± {th:.2f}" + (" no difference detected" if tm - th <= 0 <= tm + th else ""))
n_fit = sum(np.mean([n for n, _ in f]) <= largest_pruned for f in small_files.values())
print(f"small files of at most the largest budget ({largest_pruned / 1000:.2f} KB): {n_fit}")
t_bonferroni = stdtrit(4, 1 - 0.025 / len(EQUAL_BYTES_BITS))  # seven comparisons, each at 0.05 / 7
print(f"Bonferroni over the {len(EQUAL_BYTES_BITS)} comparisons (t = {t_bonferroni:.3f}): " + "; ".join(
    f"{bits} bits [{dm - dh * t_bonferroni / T95[5]:+.2f}, {dm + dh * t_bonferroni / T95[5]:+.2f}]"
    for bits, (_, _, dm, dh, _) in equal_bytes.items()) + " points")
assert partner_key == equal_bytes[BITS][0]  # figure (b)'s partner
contains_0 = {k: tm - th <= 0 <= tm + th for k, (tm, th, _) in near_result.items()}
assert {bits: len(keys) for bits, keys in near.items()} == {2: 4, 3: 4, 4: 4, 5: 3, 6: 3, 7: 2, 8: 3}
assert [near_result[bits, key][2] for bits in (2, 3, 4) for key in near[bits][:2]] == [1302] * 6  # the ties
assert [pick_count[bits] for bits in EQUAL_BYTES_BITS] == [1302, 1302, 1302, 1303, 1303, 1304, 1304]
assert [near[bits][:2] for bits in (2, 3, 4)] == [[((24,), 7), ((32,), 6)]] * 3 and near[8][0] == ((96,), 5)
assert all(contains_0[bits, key] for bits in (3, 4, 7, 8) for key in near[bits])  # each detection: none against these
assert [(bits, key) for bits in (5, 6) for key in near[bits] if not contains_0[bits, key]] == [
    (5, ((32, 16), 5)), (6, ((32, 16), 5))]  # ... and the other way at 5 and 6 bits
shown = {k: f"{tm:+.2f} ± {th:.2f}" for k, (tm, th, _) in near_result.items()}
assert [shown[3, ((24,), 7)], shown[3, ((32,), 6)], shown[7, ((96,), 4)], shown[5, ((32, 16), 5)]] == [
    "+0.49 ± 1.22", "+0.31 ± 0.69", "-0.13 ± 0.75", "+1.02 ± 0.54"]
assert [f"{100 * np.mean([a for _, a in small_files[(96,), 4]]):.2f}",
        f"{mean_ci(sweep_pct['pruned 97 %'][:, col[7]])[0]:.2f}"] == ["97.24", "97.11"]
assert n_fit == 51
assert [q for q, *_ in equal_bytes.values()] == [((32, 16), 5)] * 3 + [((32,), 7)] * 2 + [((64, 32), 4)] * 2
assert [v for *_, v in equal_bytes.values()] == ["no difference detected", "pruned better", "pruned better",
                                                 "no difference detected", "no difference detected",
                                                 "pruned better", "pruned better"]
assert [(f"{m:+.2f}", f"{h:.2f}") for _, _, m, h, _ in equal_bytes.values()] == [
    ("-0.62", "0.69"), ("+0.80", "0.42"), ("+0.93", "0.84"), ("+0.84", "0.90"), ("+0.80", "0.97"),
    ("+0.76", "0.64"), ("+0.80", "0.66")]
assert (f"{equal_bytes[BITS][2] - equal_bytes[BITS][3]:+.2f}", f"{sum(equal_bytes[BITS][2:4]):+.2f}") == (
    "+0.38", "+1.22")  # at the pick
assert f"{t_bonferroni:.3f}" == "5.068"
survives = [bits for bits, (_, _, dm, dh, _) in equal_bytes.items() if dm - dh * t_bonferroni / T95[5] > 0]
assert survives == [3]  # the one detection left after the correction
assert [kb_text(1000 * sweep_kb["pruned 97 %"][:, col[bits]].mean(), bits) for bits in EQUAL_BYTES_BITS] == [
    "2.14", "2.24", "2.4", "2.71", "3.13", "3.69", "4.56"]  # as printed (4 bits: to 100 bytes, section 6)
assert [kb_text(np.mean([n for n, _ in small_files[k]]), k[1]) for k in (
    ((32, 16), 5), ((32,), 6), ((24,), 7), ((32,), 7), ((64, 32), 4), ((96,), 5))] == [
    "1.84", "2.00", "2.14", "2.63", "3.2", "4.04"]

# %% [markdown]
# What these numbers say, with their conditions (five seeds, one split into three parts, section 1's
# protocol for the small networks except in the second bullet; one validation image is 0.37 points,
# one test image 0.22):
#
# * **At equal accuracy**, chosen on validation: the compressed files score 96.59 % on the validation
#   images (1,304 of 1,350). None of the seven one-layer networks reaches that mean (96.00 % to 96.44 %,
#   0.4 to 1.6 images per seed short), nor does 64-32-16-10 (0.6 short); 64-64-32-10, lesson 09's
#   network (its numbers seen there), reaches it exactly (1,304 images: no margin at all), so **the mean rule picks
#   64-64-32-10 (28.9 KB): ratio $12.9 \pm 0.1$**. On the test images it scores 96.31 % against the
#   files' 96.98 %: dense minus compressed $-0.67 \pm 0.80$ points, no difference detected. The paired
#   rule (half a point) passes 64-128-64-10 ($+0.67 \pm 0.68$ points on validation), as the smallest
#   passer and as a fixed sequence: ratio $32.0 \pm 0.2$; on the test images it is more accurate than
#   the files, $+0.84 \pm 0.36$ points (97.82 %): there compression has a cost detected. The
#   Bonferroni-corrected rule passes only the 64-300-100-10 itself, against which the ratio is the
#   headline's, $91.8 \pm 0.6$ (a cost detected too, section 5). But no small network differs detectably
#   from the files on validation: all ten paired intervals contain 0 (half-widths from 0.68 to 2.31
#   points), and the closest miss of the mean rule, 64-24-10 (9.5 KB, 1,302 images where the files have
#   1,304, 0.4 per seed), would give a ratio of 4.2; accuracy is not even monotone in size (on
#   validation 64-24-10, 64-96-10 and 64-128-10 score alike, 64-64-10 lowest of the one-layer
#   networks). So with the small networks as trained here the three rules give 12.9x, 32.0x and
#   91.8x, each at least the course's goal of 10,
#   but **at this precision the right-sized network is not determined**: validation does not tell the
#   files' accuracy from that of any small network, including ones that would give 4.2x (64-24-10), 6.2x
#   (64-32-16-10) or 9.6x (64-64-10);
#   none smaller than 64-24-10 is among the candidates (an earlier, test-read version tried 64-16-10),
#   so the lower end could be lower. The goal of at least 10 is met by each rule's pick (small
#   networks as trained) and **not established** beyond the rules. The $\pm$ of a ratio covers only the spread of the compressed
#   files' sizes, not the choice of baseline, which dominates.
# * **With the pruned networks' 10 epochs given to the small ones** (with or without a teacher; the
#   cell below; one draw of the data order, seven candidates), the mean rule picks 64-32-16-10 (6.2x),
#   under the goal of 10; the paired rule's smallest passer gives 7.4x without the teacher and 12.9x
#   with it, the fixed sequence started at 64-64-32-10 12.9x, the corrected rule at least 13.9x.
# * **At equal bytes**, every width of the sweep is compared, so no range is chosen. The partner chosen
#   on validation for the 97 % files of 2 to 4 bits (2.14 to 2.4 KB) is 64-32-16-10 stored with 5 bits
#   (1.84 KB); for 5 and 6 bits (2.71 and 3.13 KB) 64-32-10 with 7 bits (2.63 KB); for 7 and 8 bits
#   (3.69 and 4.56 KB) 64-64-32-10 with 4 bits (3.2 KB). On the test images the paired differences
#   (pruned minus small) are, from 2 to 8 bits, $-0.62 \pm 0.69$, $+0.80 \pm 0.42$ (at the pick, 3 bits:
#   $[+0.38, +1.22]$), $+0.93 \pm 0.84$, $+0.84 \pm 0.90$, $+0.80 \pm 0.97$, $+0.76 \pm 0.64$ and
#   $+0.80 \pm 0.66$ points: the pruned files are better at 3, 4, 7 and 8 bits, and with the Bonferroni
#   correction over the seven ($t = 5.068$ in place of 2.776, printed above) at 3 bits only. These
#   detections hang on one validation image: each partner is chosen over other files that fit the same
#   budget by a margin of at most one image of 1,350, and the verdict moves with that choice. At 2, 3 and
#   4 bits the partner tied with 64-24-10 at 7 bits and 64-32-10 at 6 bits (1,302 images each) and led
#   two more files by one image; at 7 bits it led 64-32-10 at 7 bits and 64-96-10 at 4 bits by one
#   image; at 8 bits it tied with 64-96-10 at 5 bits and led those two. Against every one of these
#   files, at 3, 4, 7 and 8 bits, no difference is detected (at 3 bits $+0.49 \pm 1.22$ and
#   $+0.31 \pm 0.69$ against the two ties; at 7 bits $-0.13 \pm 0.75$ against 64-96-10 at 4 bits, whose
#   test accuracy, 97.24 %, is above the pruned file's 97.11 %); and at 5 and 6 bits, where the pick
#   shows no difference, 64-32-16-10 at 5 bits, one image behind it, would show the pruned files better
#   ($+1.02 \pm 0.54$ at 5 bits). So at equal bytes no detected difference survives the choice of partner; what
#   these data show is the direction of the means. Six of the seven favour the pruned files (Zhu and
#   Gupta's answer: the best large sparse model beats small dense ones of the same memory, on their
#   much larger models), one (2 bits) the small file; the intervals are $\pm 0.42$ to $\pm 0.97$ points
#   wide, so a difference of half a point is not reliably detected.
#
# The comparison is not quite even: the pruned networks had 10 more epochs of fine-tuning and a
# teacher (distillation), the small ones neither. The next cell gives each small network no larger
# than the mean rule's pick those 10 epochs, in the pruned networks' four rounds (2, 2, 2 and 4
# epochs, a fresh momentum buffer each round, data order seed $10s + r + 1$ in round $r = 0, \dots, 3$, as
# section 2; $\eta = 0.1$,
# momentum 0.9, batches of 64), without masks, two ways: **without a teacher**, and **distilled** from
# its seed's dense network ($\alpha$ and $T$ of section 2). The schedule was chosen on validation for
# the pruned networks, not for the small ones. Then the rules are applied again on validation, to
# these seven only: the larger candidates were not fine-tuned, so the fixed sequence starts at
# 64-64-32-10, and the Bonferroni correction keeps section 6's $t$ for eleven candidates; each pick is
# then measured once on the test images.

# %%
ROUNDS = [epochs for _, epochs in SCHEDULE]  # the pruned networks' four rounds: 2, 2, 2 and 4 epochs (10)


def file_images(nets, X, y):
    """Correct images per seed of the networks' float32 files."""
    return np.array([round(accuracy(float32_weights(net), X, y) * len(y)) for net in nets])


given = [b for b in small if b.float32_bytes <= right.float32_bytes]  # the mean rule's pick and every smaller one
for b in given:  # their validation counts above are those of their float32 files too
    assert file_images(b.networks, data.X_val, data.y_val).tolist() == [val_images(a) for a in b.val_accuracies]
ARMS = {"10 more epochs": None, "10 more epochs, distilled": [dense_by_seed[seed] for seed in SEEDS]}
longer = {arm: {} for arm in ARMS}  # arm -> hidden -> the five networks
for b in progress(given, desc=f"{len(given)} small networks, 5 seeds, two ways"):
    for arm, teachers in ARMS.items():
        nets = [copy.deepcopy(net) for net in b.networks]
        for r, epochs in enumerate(ROUNDS):  # as prune_and_finetune runs its rounds, without the masks
            train_many(nets, fit, epochs=epochs, lr=FT_LR, momentum=0.9, batch_size=64,
                       seeds=[10 * seed + r + 1 for seed in SEEDS], teacher=teachers, alpha=ALPHA,
                       temperature=TEMPERATURE, progress=False, evaluate=())
        longer[arm][b.hidden] = nets



as_trained = {b.hidden: np.array([val_images(a) for a in b.val_accuracies]) for b in given}
val_img = {arm: {h: file_images(nets, data.X_val, data.y_val) for h, nets in by.items()} for arm, by in longer.items()}
print(f"validation images of {5 * len(data.y_val):,} (the files: {file_val_img.sum()}); in brackets, minus as "
      "trained, paired by seed (points)")
print(f"{'network':>12s} {'bytes':>7s} {'as trained':>10s}   " + "   ".join(f"{arm:>30s}" for arm in ARMS))
gain = {}
for b in given:
    cells = []
    for arm in ARMS:
        gain[arm, b.hidden] = mean_ci(100 * (val_img[arm][b.hidden] - as_trained[b.hidden]) / len(data.y_val))
        cells.append(f"{val_img[arm][b.hidden].sum():5d} [{gain[arm, b.hidden][0]:+.2f} ± {gain[arm, b.hidden][1]:.2f}]")
    print(f"{net_name(b.hidden):>12s} {b.float32_bytes:7,d} {as_trained[b.hidden].sum():10d}   "
          + "   ".join(f"{c:>30s}" for c in cells))
picks_longer, shown = {}, {}  # (arm, rule) -> the pick (None: none of the seven) / (ratio, test mean, half-width)
t_seven = stdtrit(4, 1 - 0.025 / len(given))  # a Bonferroni correction over these seven only, for comparison
vs_files_by_arm = {}
for arm in ARMS:
    vs_files = {b.hidden: mean_ci(100 * (val_img[arm][b.hidden] - file_val_img) / len(data.y_val)) for b in given}
    passes = [b for b in given if vs_files[b.hidden][0] - vs_files[b.hidden][1] >= -0.5 - 1e-9]
    seq = None  # the fixed sequence, from the largest of the seven down
    for b in sorted(given, key=lambda b: b.float32_bytes, reverse=True):
        if b not in passes:
            break
        seq = b
    picks_longer[arm, "mean rule"] = min((b for b in given if val_img[arm][b.hidden].sum() >= file_val_img.sum()),
                                         key=lambda b: b.float32_bytes, default=None)
    picks_longer[arm, "paired rule, smallest passer"] = min(passes, key=lambda b: b.float32_bytes, default=None)
    picks_longer[arm, "paired rule, fixed sequence"] = seq
    bonf = [b for b in given if vs_files[b.hidden][0] - vs_files[b.hidden][1] * t_all / T95[5] >= -0.5 - 1e-9]
    bonf_7 = [b for b in given if vs_files[b.hidden][0] - vs_files[b.hidden][1] * t_seven / T95[5] >= -0.5 - 1e-9]
    vs_files_by_arm[arm] = vs_files
    print(f"{arm}: {sum(gain[arm, h][0] > 0 for h in as_trained)} of the seven gain on the mean; Bonferroni-corrected "
          f"paired rule (t = {t_all:.2f}, eleven candidates) passes {len(bonf)} of the seven; with t = {t_seven:.2f} "
          f"(seven): {', '.join(net_name(b.hidden) for b in bonf_7) or 'none'}")
    picks_longer[arm, "Bonferroni over seven"] = min(bonf_7, key=lambda b: b.float32_bytes, default=None)
    picks_longer[arm, "Bonferroni"] = min(bonf, key=lambda b: b.float32_bytes, default=None)
    for rule in ("mean rule", "paired rule, smallest passer", "paired rule, fixed sequence"):
        b = picks_longer[arm, rule]
        if b is None:
            print(f"  {rule:29s} none of the seven")
            continue
        d_img = file_images(longer[arm][b.hidden], data.X_test, data.y_test) - file_img  # test, dense minus compressed
        (r_m, r_h), (t_m, t_h) = mean_ci(b.float32_bytes / file_bytes), mean_ci(100 * d_img / len(data.y_test))
        shown[arm, rule] = (r_m, t_m, t_h)
        print(f"  {rule:29s} {net_name(b.hidden)} ({b.float32_bytes:,} bytes): ratio {r_m:.1f} ± {r_h:.1f}; test, dense "
              f"minus compressed {t_m:+.2f} ± {t_h:.2f} [{t_m - t_h:+.3f}, {t_m + t_h:+.3f}] points, per seed (images) "
              f"{d_img.tolist()}")
excess = val_img["10 more epochs"][32, 16] - file_val_img  # the mean rule's pick without a teacher, per seed
lower_48 = vs_files_by_arm["10 more epochs"][(48,)][0] - vs_files_by_arm["10 more epochs"][(48,)][1]
print(f"64-32-16-10 without a teacher, validation images per seed over the files: {excess.tolist()}; 64-48-10 "
      f"without a teacher clears the paired rule's -0.5 points by {lower_48 + 0.5:.3f} (lower end {lower_48:+.3f})")


hs = [b.hidden for b in given]
assert hs == [(24,), (32,), (40,), (48,), (64,), (32, 16), (64, 32)]
assert [int(val_img["10 more epochs"][h].sum()) for h in hs] == [1299, 1303, 1294, 1301, 1303, 1312, 1316]
assert [int(val_img["10 more epochs, distilled"][h].sum()) for h in hs] == [1300, 1303, 1303, 1304, 1309, 1309, 1314]
detected = {arm: [h for h in hs if gain[arm, h][0] - gain[arm, h][1] > 0] for arm in ARMS}
assert detected == {"10 more epochs": [(64, 32)], "10 more epochs, distilled": [(64,), (64, 32)]}
assert [f"{gain[arm, h][0]:+.2f} ± {gain[arm, h][1]:.2f}" for arm, h in (
    ("10 more epochs", (64, 32)), ("10 more epochs, distilled", (64,)), ("10 more epochs, distilled", (64, 32)))] == [
    "+0.89 ± 0.52", "+0.96 ± 0.84", "+0.74 ± 0.56"]


def picked(arm, rule):
    return None if picks_longer[arm, rule] is None else picks_longer[arm, rule].hidden


assert [picked(arm, "mean rule") for arm in ARMS] == [(32, 16), (32, 16)]  # 64-32-16-10 either way
assert [picked(arm, "paired rule, smallest passer") for arm in ARMS] == [(48,), (64, 32)]
assert [picked(arm, "paired rule, fixed sequence") for arm in ARMS] == [(64, 32), (64, 32)]
assert [picked(arm, "Bonferroni") for arm in ARMS] == [None, None]  # so that rule stays with the large network
assert [f"{shown[arm, 'mean rule'][0]:.1f}" for arm in ARMS] == ["6.2", "6.2"]
assert f"{shown['10 more epochs', 'paired rule, smallest passer'][0]:.1f}" == "7.4"
assert {f"{shown[key][0]:.1f}" for key in shown if picked(*key) == (64, 32)} == {"12.9"}
assert all(t_m - t_h < 0 < t_m + t_h for _, t_m, t_h in shown.values())  # on test no pick differs detectably
assert max(shown[arm, "mean rule"][0] for arm in ARMS) < 10 < rm  # the mean rule: under 10 given the epochs
assert [sum(gain[arm, h][0] > 0 for h in hs) for arm in ARMS] == [5, 6]  # how many gain on the mean
assert excess.tolist() == [0, 0, 0, 7, 1] and f"{lower_48:+.3f}" == "-0.474"  # one seed carries it; a thin margin
closest = max(shown, key=lambda key: shown[key][1] - shown[key][2])  # the pick whose interval comes nearest to excluding 0
assert closest == ("10 more epochs", "paired rule, smallest passer") and f"{shown[closest][1]:+.2f} ± {shown[closest][2]:.2f}" == (
    "+0.31 ± 0.31")
assert [picked(arm, "Bonferroni over seven") for arm in ARMS] == [(64, 32), None]  # with t for seven only
assert f"{vs_files_by_arm['10 more epochs'][64, 32][0]:+.2f} ± {vs_files_by_arm['10 more epochs'][64, 32][1]:.2f}" == (
    "+0.89 ± 0.70")  # detectably above the files on validation, uncorrected
assert f"{picks_longer['10 more epochs', 'mean rule'].float32_bytes / 1000:.1f}" == "13.8"

# %% [markdown]
# **Given the pruned networks' 10 epochs**, five of the seven small networks gain on validation on
# the mean without a teacher and six with one, but the gain is detected (its paired interval
# excluding 0) only for 64-64-32-10 without a teacher ($+0.89 \pm 0.52$ points) and for 64-64-10 and
# 64-64-32-10 with one ($+0.96 \pm 0.84$, $+0.74 \pm 0.56$). In this one draw of the data order:
#
# * **the mean rule picks 64-32-16-10 (13.8 KB) either way: ratio 6.2**, under the course's goal of
#   10; without a teacher one seed carries it (validation images over the files per seed: 0, 0, 0, 7
#   and 1);
# * the paired rule's smallest passer is 64-48-10 without a teacher (7.4x; it clears the margin by
#   0.026 points) and 64-64-32-10 with one (12.9x);
# * the fixed sequence, started at 64-64-32-10 because the larger candidates were not fine-tuned,
#   gives 12.9x either way (over all eleven it would stop at 64-64-32-10 or a larger network, so at
#   least 12.9x);
# * the Bonferroni-corrected rule (section 6's $t$ for eleven candidates) passes none of the seven,
#   so its pick is one of the three larger candidates, at least 13.9x (91.8x if, fine-tuned, none of
#   them passed either); with $t$ for these seven only, 64-64-32-10 without a teacher would pass
#   (12.9x): without a teacher it is detectably more accurate than the files on validation,
#   uncorrected ($+0.89 \pm 0.70$ points).
#
# On the test images no pick among the seven differs detectably from the files (the nearest,
# 64-48-10 without a teacher: dense minus compressed $+0.31 \pm 0.31$ points, interval from $-0.003$).
# Here the 10 epochs, not the teacher, moved the mean rule's pick. Whether this holds for other data
# orders is not measured, and the picks hang on few images (one validation image is 0.37 points). So
# whether the goal of 10 is met depends on how the small networks are trained and on the rule: **it
# is not established**. Not measured either: the equal-bytes comparison with these small networks.
#
# The benchmark `compression_ratio_vs_right_sized`
# (`benchmarks/run.py`) applies the same rules, on validation, to the library's variant of the
# pipeline (section 5), on its own parts and protocol, with two-layer networks
# $64 \to h \to h/2 \to 10$ among the candidates; its figures differ from these (README).
#
# ## 7. Compared with the published figures
#
# Han, Mao and Dally, *Deep Compression: Compressing Deep Neural Networks with Pruning,
# Trained Quantization and Huffman Coding*, ICLR 2016, report (sizes count indices and
# codebooks, as ours do):
#
# | network | data | before | after | ratio | error before → after |
# | --- | --- | --- | --- | --- | --- |
# | LeNet-300-100 | MNIST | 1,070 KB | 27 KB | 40x | 1.64 % → 1.58 % |
# | AlexNet | ImageNet | 240 MB | 6.9 MB | 35x | no loss of accuracy |
# | VGG-16 | ImageNet | 552 MB | 11.3 MB | 49x | no loss of accuracy |
#
# and ours, on the 8x8 digits:

# %%
lenet_params = 784 * 300 + 300 + 300 * 100 + 100 + 100 * 10 + 10
print(f"LeNet-300-100 on MNIST: {lenet_params:,} parameters x 4 bytes = {4 * lenet_params / 1000:,.0f} KB "
      f"(published 1,070 KB); 1,070 / 27 = {1070 / 27:.1f}")
file_kb = [r["file"][0] / 1000 for r in runs.values()]
dense_err = mean_ci([100 - 100 * r["dense"] for r in runs.values()])
file_err = mean_ci([100 - 100 * r["file"][1] for r in runs.values()])
print(f"ours, 64-300-100-10 on 8x8 digits, mean of 5 seeds: {n_params:,} parameters, "
      f"{float32_bytes / 1000:.0f} KB -> {np.mean(file_kb):.2f} KB = {compression_ratio:.0f}x "
      f"({ratios.min():.0f}x to {ratios.max():.0f}x); error {dense_err[0]:.2f} ± {dense_err[1]:.2f} % -> "
      f"{file_err[0]:.2f} ± {file_err[1]:.2f} %")
small_params = count_parameters(mlp(seed=0))  # lessons 09 and 10's 64-64-32-10
print(f"LeNet-300-100 has {lenet_params / n_params:.1f} times the parameters of ours; lessons 09 and 10's "
      f"64-64-32-10 has {small_params:,}, 1/{n_params / small_params:.1f} of ours")
assert f"{lenet_params / n_params:.1f}" == "5.3" and small_params == 6_570 and f"{n_params / small_params:.1f}" == "7.7"
assert lenet_params == 266_610 and round(4 * lenet_params / 1000) == 1_066  # "about 4 bytes per parameter"
kept_share = np.array([r["kept"] / (n_params - 410) for r in runs.values()])
print(f"weights kept (after dead units): {100 * kept_share.min():.1f} % to {100 * kept_share.max():.1f} % "
      f"over the five seeds; seed 0 per layer: "
      + ", ".join(f"{name} {100 * kept[name] / masks[name].numel():.1f} %" for name in kept))
assert ratios.min() > 49  # above all three published ratios on every seed
assert (f"{100 * kept_share.min():.1f}", f"{100 * kept_share.max():.1f}") == ("2.9", "3.0")  # as the list below says

fig, ax = plt.subplots(figsize=(7.5, 3.2))
names = ["LeNet-300-100\n(MNIST)", "AlexNet\n(ImageNet)", "VGG-16\n(ImageNet)", "ours, 64-300-100-10\n(8x8 digits)"]
bars = [40, 35, 49, compression_ratio]
ax.bar(names, bars, color=[OKABE_ITO["grey"]] * 3 + [OKABE_ITO["vermillion"]])
ax.errorbar(3, compression_ratio, yerr=[[compression_ratio - ratios.min()], [ratios.max() - compression_ratio]],
            fmt="none", color="k", capsize=4)  # ours: mean of five seeds, whiskers from the smallest to the largest
for i, ratio in enumerate(bars):  # the label inside its bar, clear of the goal line and the whiskers
    ax.text(i, 0.3 * ratio, f"{ratio:.0f}x", ha="center", va="center", color="white" if i == 3 else "black")
ax.axhline(50, color="k", linestyle="--", linewidth=1, label="the course's goal, 50x")
ax.set_ylim(0, 1.2 * max(bars))
ax.set_ylabel("compression ratio")
ax.set_title("Deep Compression (Han et al. 2016) and this lesson")
ax.legend(loc="upper left")
plt.show()

# %% [markdown]
# Our ratio (the mean of five seeds; the whiskers span the seeds) is higher than the
# paper's on every seed, and that says little about the method: the two set-ups differ in
# ways that all matter.
#
# * **The data.** MNIST has 60,000 training images of 28x28 pixels; the digits here are
#   1,077 training images of 8x8 (and 270 for validation). Our first layer has 64 inputs instead of 784, so LeNet-300-100 has
#   5.3 times as many parameters, and our test error is measured on 450 images (steps of 0.22 points)
#   instead of 10,000.
# * **The pruning.** Deep Compression prunes as Han, Pool, Tran and Dally do (*Learning both
#   Weights and Connections for Efficient Neural Networks*, NIPS 2015): each layer with its
#   own threshold, set from that layer's sensitivity to pruning (a quality parameter times
#   the standard deviation of the layer's weights), and keeps 8 %, 9 % and 26 % of
#   LeNet-300-100's three weight matrices, 8 % in all (Deep Compression, Table 2). We use one
#   global magnitude threshold for all layers, four rounds, distillation from the dense model,
#   and the removal of dead units, and keep 2.9 % to 3.0 % of the weights (printed above, with seed
#   0's very uneven split between the layers).
# * **The bit widths.** The paper stores LeNet-300-100's weights with 6 bits and its relative
#   indices with 5 bits (Table 2), and bridges a gap longer than 5 bits can count with a filler
#   zero weight; we use 3-bit codes and one byte per gap, with the escape byte 255 for the
#   long gaps (section 4), both packed further by the compressor.
# * **The baseline.** Our float32 baseline is a `torch.save` file (the pickle structure
#   printed in section 1, under 2 % of it, on top of the raw floats); the paper's 1,070 KB is
#   about 4 bytes per parameter (4 x 266,610 bytes = 1,066 KB against the published 1,070,
#   printed above).
# * **The baseline network.** 64-300-100-10 is much larger than lessons 09 and 10 needed on
#   the same data (they train 64-64-32-10, with 6,570 parameters, 1/7.7 of ours). On validation
#   64-64-32-10 reaches the compressed files' mean exactly, and against it the ratio is 12.9x instead
#   of 92x; but no small network of section 6 (as trained) differs detectably from the files, and the closest miss,
#   64-24-10, 0.4 validation images per seed short, would give 4.2x (none smaller is among this
#   version's candidates, so the ratio against a right-sized one could be lower still). Given the
#   pruned networks' 10 epochs of fine-tuning, with or without the teacher, 64-32-16-10 reaches that
#   mean (6.2x; one draw of the data order, section 6). The right-sized
#   ratio is not determined at this precision, so five seeds on 270 validation images cannot say how
#   much of our ratio measures the large network's redundancy rather than the method (section 6). The
#   paper's ratios are against LeNet-300-100 and the ImageNet networks as
#   trained, not against right-sized networks either.
# * **The shared values.** The paper fine-tunes its centroids after clustering (trained
#   quantization); ours are the k-means centroids as they are (section 3; lesson 13 teaches it).
# * **The coder.** The paper Huffman-codes the indices and codes; our file is packed as a
#   whole by zlib or LZMA (section 4 prints what a Huffman code of the same symbols would
#   take).
#
# ## 8. The optimizer's memory: the momentum buffer
#
# SGD with momentum keeps one buffer entry per parameter, in the parameter's own type:
# during training the optimizer state is **as large as the model**. Check it on the digits
# network (in this lesson's float64 both take 8 bytes per parameter; trained in float32, as
# models usually are, both take 4):

# %%
opt = torch.optim.SGD(dense.parameters(), lr=0.0, momentum=0.9)  # lr 0: the weights stay as they are
dense.zero_grad()
torch.nn.functional.cross_entropy(dense(data.X_train), data.y_train).backward()
opt.step()
state_bytes = momentum8bit.optimizer_state_bytes(opt)
model_bytes = sum(p.numel() * p.element_size() for p in dense.parameters())
print(f"float64 here: model parameters {model_bytes:,} bytes; momentum buffers {state_bytes:,} bytes")
dense_f32 = copy.deepcopy(dense).float()  # the same network in float32, as it would usually be trained
opt_f32 = torch.optim.SGD(dense_f32.parameters(), lr=0.0, momentum=0.9)
torch.nn.functional.cross_entropy(dense_f32(data.X_train.float()), data.y_train).backward()
opt_f32.step()
state_bytes_f32 = momentum8bit.optimizer_state_bytes(opt_f32)  # counted from the buffers torch allocated
print(f"in float32:   model parameters {sum(p.numel() * p.element_size() for p in dense_f32.parameters()):,} "
      f"bytes; momentum buffers {state_bytes_f32:,} bytes (momentum_state_bytes: "
      f"{momentum8bit.momentum_state_bytes(dense).float32:,})")
assert state_bytes == model_bytes == 8 * n_params
assert state_bytes_f32 == momentum8bit.momentum_state_bytes(dense).float32 == 4 * n_params
state_8bit = momentum8bit.momentum_state_bytes(dense).eight_bit  # 1 byte an entry, 4 per block of 256
print(f"stored in 8 bits, block by block (lesson 13, section 5): {state_8bit:,} bytes, "
      f"{state_bytes_f32 / state_8bit:.2f} times less than float32")
assert state_8bit == n_params + 4 * sum(-(-p.numel() // 256) for p in dense.parameters())
assert f"{state_bytes_f32 / state_8bit:.2f}" == "3.94"

# %% [markdown]
# During training that is a second copy of the model's size, beside the model itself and its
# gradients; Adam keeps two such buffers. Dettmers, Lewis, Shleifer and Zettlemoyer (*8-bit
# Optimizers via Block-wise Quantization*, ICLR 2022) store optimizer state in 8 bits, block by
# block (blocks of 2,048 in the paper). With one byte an entry and a float32 scale for each block of
# 256 entries, the variant lesson 13 measures first, that is 3.94 times less than float32 here (the
# last line above). Lesson 13 (section 5) writes that code, with a linear grid and with the paper's
# dynamic tree type, and measures what it costs in accuracy.

# %% [markdown]
# ## The figures of this lesson

# %%
for name, values, digits, goal, n_seeds in [
        ("compression_ratio", ratios, 1, "goal >= 50", 5),
        ("compression_acc_drop_pt", drops, 2, "goal <= 0.5", 5)]:
    m, h = mean_ci(values)
    bound = float(goal.split()[-1])
    goal += ": met" if (m >= bound if ">=" in goal else m <= bound) else ": NOT met"
    print(f"{name:56s} = {m:5.{digits}f} ± {h:.{digits}f}   {goal}   (mean ± 95 % interval, {n_seeds} seeds; "
          f"single seeds {min(values):.{digits}f} to {max(values):.{digits}f})")
print(f"{'ratio_vs_right_sized':56s} = {rm:5.1f} ± {rh:.1f} (mean rule), {lm:.1f} ± {lh:.1f} (paired rule), "
      f"{mean_ci(ratios)[0]:.1f} (Bonferroni)\n{'':56s}   goal >= 10: met by each rule's pick with the small networks as "
      f"trained; NOT established beyond the rules:\n  {mean_ci(runner.float32_bytes / file_bytes)[0]:.1f} against the "
      f"closest miss, {net_name(runner.hidden)}; given the pruned networks' 10 epochs, the mean rule picks "
      f"{net_name(picks_longer['10 more epochs', 'mean rule'].hidden)}: {shown['10 more epochs', 'mean rule'][0]:.1f}. "
      "No small network differs detectably from the files on validation;\n  paired validation intervals, small minus "
      "files (points):\n  " + ",\n  ".join(", ".join(
          f"{net_name(b.hidden)} {paired[b.hidden][0]:+.2f} ± {paired[b.hidden][1]:.2f}" for b in small[i:i + 4])
          for i in range(0, len(small), 4)) + f": all {len(small)} contain 0")
assert all(dm - dh < 0 < dm + dh for dm, dh in (paired[b.hidden] for b in small))  # all ten contain 0
assert min(rm, lm, mean_ci(ratios)[0]) >= 10 > mean_ci(runner.float32_bytes / file_bytes)[0]  # "met by each rule's pick"
assert max(shown[arm, "mean rule"][0] for arm in ARMS) < 10  # ... with the small networks as trained only
print(textwrap.fill(
    "test accuracies; goals judged on the mean. On the 270 validation images, by rules stated before their "
    "validation numbers (the bit rule after a test-read 4-bit choice; section 6's rules first applied to the test "
    "images): chosen, "
    f"the pruning schedule, the {BITS} bits, the right-sized network and the equal-bytes partners; checked, "
    f"afterwards, by lesson 10's one-point rule, the 97 %, whose {BITS}-bit files are "
    f"{100 * files_gap / n_val_all:.2f} points below dense there on the mean (paired {files_paired[0]:.2f} ± "
    f"{files_paired[1]:.2f}). Kept from earlier versions of the lesson that read these 450 test images: the dense "
    "training protocols, section 6's small-network candidates (the two-layer ones added with lesson 09's numbers for 64-64-32-10 seen) and rules and the bit widths in exercise 4's solution. The benchmark compression_ratio_vs_right_sized runs the library's variant on its "
    "own parts: its figures are in the README.", width=110))

# %% [markdown]
# ## Summary
#
# * An honest size is the byte count of a file that reloads to the reported accuracy:
#   positions, codes, codebooks, biases and header included.
# * Every setting the lesson searched was chosen on 270 validation images by a rule stated before its
#   validation numbers (the bit rule after a test-read 4-bit choice; section 6's rules first applied to
#   the test images in earlier versions): the
#   pruning schedule (126 searched, spanning 2.7 points; 47 within half a point of the best), the
#   3 bits (the fewest within half a point of the unshared networks, by one validation image), the
#   right-sized network and the equal-bytes partners. The grid was built around an earlier, test-read
#   schedule, and the 97 % is its fixed last level. The final 97 % passes lesson 10's one-point rule
#   on the mean (a check added after an earlier version's numbers had been seen; seven images to
#   spare) and a half-point margin (none to spare), but not its paired version. Kept from earlier
#   versions that read the 450 test images: the dense training protocol, section 6's small-network
#   candidates (the two-layer ones added with lesson 09's numbers for 64-64-32-10 seen) and rules and
#   the bit widths in exercise 4's solution. The
#   networks trained on 1,077 images; the test images give the reported figures (one test image is
#   0.22 points).
# * Pruning (97 %, iterative, mask-aware momentum and distillation, 10 epochs in four rounds), then
#   k-means weight sharing of the float32-rounded weights (3 bits; centroids not fine-tuned), then
#   relative-index storage packed by zlib or LZMA (not the paper's Huffman code), shrinks the
#   64-300-100-10 network's file 91 to 92 times (92 in the mean), far above the goal of 50 on every
#   seed. At the 3 bits the rule picks, the accuracy drop **misses** the goal of 0.5 points: 0.67
#   points on the mean of five seeds (one to five test images a seed), with a 95 % interval
#   $[+0.23, +1.10]$ that excludes 0 (and contains 0.5: the miss is on the mean). The validation images
#   showed the same before the test was read
#   (0.81 points, paired $[+0.43, +1.20]$). The bit rule bounds what sharing costs against the pruned
#   networks, not the total the goal bounds: on validation, 5 to 8 bits were within half a point of
#   dense on the mean (5 bits 0.30 points, at about 76x), but their paired intervals reach 1.29 to 1.50
#   points, so validation does not show that any width meets the goal.
# * Against a dense network of the same accuracy, chosen on validation among ten small networks
#   (seven with one hidden layer, three with two) and the large one (trained by the same protocol on
#   the same seeds): the mean rule picks 64-64-32-10, lesson 09's network (added to the candidates in
#   this version, its numbers already seen there), which reaches
#   the compressed files' validation mean (96.59 %) exactly: ratio 12.9x, and on the test images no
#   difference detected ($-0.67 \pm 0.80$ points, dense minus compressed). The paired rule picks
#   64-128-64-10 (32.0x; on test $+0.84 \pm 0.36$ points more accurate than the files), the
#   Bonferroni-corrected one the large network itself (91.8x). With the small networks as trained,
#   each pick is at least the goal of 10,
#   but no small network differs detectably from the files on validation (all ten paired intervals
#   contain 0, half-widths 0.68 to 2.31 points), and the closest miss, 64-24-10, would give 4.2x (none
#   smaller is among the candidates, so the lower end could be lower): the right-sized ratio is **not
#   determined** at this precision, and the goal of 10 is not established beyond the rules. Given
#   the pruned networks' 10 epochs of fine-tuning (in its four rounds, with or without the teacher),
#   the mean rule picks 64-32-16-10, 6.2x, under the goal (on test, dense minus compressed, no
#   difference detected); the paired rule's smallest passer gives 7.4x without the teacher and
#   12.9x with it, the fixed sequence (started at 64-64-32-10, the larger ones not fine-tuned) 12.9x,
#   the corrected rule at least 13.9x: one draw of the data order, seven candidates, the picks
#   hanging on few validation images. At
#   equal bytes, against the small shared-weight file of at most its size chosen on validation, the
#   pruned 97 % files are better at 3, 4, 7 and 8 bits (at the pick, 3 bits, $+0.80 \pm 0.42$ points,
#   interval $[+0.38, +1.22]$; after a correction for the seven comparisons at 3 bits only), but each
#   partner won its place by at most one validation image, and against the files it beat so narrowly
#   no difference is detected at those widths, while at 5 and 6 bits one of them would show the pruned
#   files better: no detected difference survives the choice of partner; six of the seven means favour
#   the pruned files.
# * k-means puts the shared values where the weights are: on the first layer's kept weights,
#   at least 1.50 times less squared error than an evenly spaced codebook, at 2 to 5 bits on
#   every seed (it cannot do worse, by construction). Sharing without pruning reaches only
#   about 11x at 3 bits.
# * Deep Compression reported 40x for LeNet-300-100 on MNIST (1,070 KB to 27 KB, error
#   1.64 % to 1.58 %), 35x for AlexNet and 49x for VGG-16; data, network, baseline, pruning,
#   bit widths, the treatment of the shared values and the coder differ from ours, so the
#   ratios are not a contest.
# * The momentum buffer of SGD is as large as the model, held during training beside the model
#   itself; stored in 8 bits with a scale per block of 256 it takes 3.94 times less than in float32
#   (lesson 13 builds that code and measures its cost in accuracy).
# * One run is one draw: a conclusion about a training method needs several seeds, paired
#   where two methods are compared, and a mean with its interval in units of test images; a
#   choice needs images of its own (validation), so that the test images still measure it.
#
# ## Exercises
#
# ### Exercise 1 (recall)
#
# How many bytes does the float32 momentum buffer of SGD take for the 64-300-100-10
# network (50,610 parameters)? (A whole number of bytes, exactly.)

# %% nbgrader={"grade": false, "grade_id": "ex11_1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
buffer_bytes_1 = 4 * 50_610
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex11_1_check", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
checks.compression.momentum_bytes(buffer_bytes_1)

# %% [markdown]
# ### Exercise 2 (apply)
#
# A weight matrix keeps 1,000 weights, no kept weight more than 254 zeros after the previous
# one (or after the start of the matrix), shared
# through a 5-bit codebook of float16 values. In the format of section 4, how many bytes
# do its relative indices, codes and codebook take **before** compression by zlib or LZMA?
# (A whole number of bytes, exactly.)

# %% nbgrader={"grade": false, "grade_id": "ex11_2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
raw_bytes_2 = 1000 * 1 + 1000 * 1 + 2**5 * 2
### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex11_2_check", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
checks.compression.layer_bytes(raw_bytes_2)


# %% [markdown]
# ### Exercise 3 (implement)
#
# Write the inverse of `relative_indices`: `positions_from_gaps(data)` takes the bytes and
# returns the kept positions as a list of ints (a tuple, or a 1-D integer NumPy array or torch
# tensor, is fine too). A byte 255 adds 255 zeros and no weight; any other byte $g$ adds $g$
# zeros and then one kept weight. The check encodes 7 lists of positions (long gaps included)
# with the library's own encoder, the bytes `save_compressed` writes, and wants each one back
# exactly.

# %% nbgrader={"grade": false, "grade_id": "ex11_3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def positions_from_gaps(data):
    ### BEGIN SOLUTION
    positions, pos = [], -1
    for byte in data:
        if byte == 255:
            pos += 255
        else:
            pos += byte + 1
            positions.append(pos)
    return positions
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex11_3_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.compression.positions_from_gaps(positions_from_gaps)
### BEGIN HIDDEN TESTS
_rng = np.random.default_rng(8)
for _n in (1, 10, 200):
    _positions, _gaps, _previous = np.sort(_rng.choice(20_000, size=_n, replace=False)), [], -1
    for _pos in _positions:  # the encoding: a gap g as g // 255 bytes of 255, then g % 255
        _gap = int(_pos - _previous - 1)
        _gaps += [255] * (_gap // 255) + [_gap % 255]
        _previous = _pos
    assert [int(p) for p in positions_from_gaps(bytes(_gaps))] == _positions.tolist()
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 4 (explore)
#
# Reach a compression ratio of **at least 100** with an accuracy drop of **at most 0.5
# points** against seed 0's dense network, measured honestly and over several fine-tuning
# runs. One fine-tuning run is one draw: as section 5 showed, a run lands a few test images
# either way, and keeping the lucky draw would tune on the test set. The target (stated here, in
# advance) is checked on the test images; **tune your recipe on the validation images**
# (`data.X_val`, `data.y_val`: compare its mean over a few seeds with the dense network's
# validation accuracy), and run the check once you are done. So write a *recipe*:
# a function `recipe_4(seed)` that starts from seed 0's final `model` and its `masks` (or a
# snapshot; work on a copy), compresses it, fine-tuning with `seed` as its minibatch seed if
# it fine-tunes, and returns `(model, masks, bits)` or `(model, masks, bits, bias_bits)`.
# Ideas: fewer bits, quantizing the biases as well (`save_compressed(..., bias_bits=...)`),
# pruning further with more fine-tuning. The check runs the recipe for the seeds 0, 1, 2, 3
# and 4, writes each file (of the float32-rounded weights, as section 1 says), reloads it
# into a fresh network and measures size and accuracy itself, against references it
# computes itself: the float32 file of a 64-300-100-10
# network and the test accuracy of seed 0's dense network, which it trains as section 1
# does; it scores the reloaded networks in float64. It asks for a ratio of at least 100 on
# every seed and a mean drop of at most 0.5 points over the five (at most 2.25 test images
# on average). Fine-tune on the training part only (`train(model, fit, ...)`, as section 2 does):
# the validation images shape the recipe, the test images judge it once. A recipe
# that returns one and the same fine-tuned network for every seed is still one draw, and so
# is that network scaled or nudged a little per seed: the check rebuilds seed 0's 97 %
# `model` and refuses five networks that differ from it other than by pruned (zeroed)
# entries and are one network, judged by what it measures: files that decode to the same
# codes and codebooks (up to float16 rounding), reloads that predict the same class for
# every test image, or weights equal up to one scale factor per tensor. The seeds are fixed so that
# the check gives the same verdict on every run; choosing which fine-tuning seeds to return for them
# by their test score would again tune on the test set. (In the version with solutions, the answer cell
# also shows how its recipe was chosen on the validation images and what it scores there.)

# %% nbgrader={"grade": false, "grade_id": "ex11_4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
# The solution prunes seed 0's 97 % model further, to 97.8 %, fine-tunes it 4 epochs at lr 0.03 (momentum
# 0.9, distilled as in section 2) and stores 4-bit weights and biases. It was chosen on the validation
# images: `scripts/search_lesson11.py exercise4` tried 36 recipes (97.6 to 98.2 %; 4, 8 or 16 epochs; lr
# 0.01, 0.03 or 0.1; all of them at least 100 times smaller on every seed), and the course's rule took the
# cheapest within half a point of the best validation mean (record lesson11_exercise4.json). That rule
# does not ask for the exercise's target. The 4-bit widths were not searched, and the sparsity grid was
# centred on an earlier recipe's 97.8 %: both come from that recipe, chosen while looking at the test images.
def recipe_4(seed):
    model_4 = copy.deepcopy(model)  # seed 0's 97 % model, pruned further and fine-tuned again
    masks_4 = pruning.global_magnitude_masks(pruning.prunable_weights(model_4), 0.978)
    train(model_4, fit, epochs=4, lr=0.03, momentum=0.9, batch_size=64, seed=seed, masks=masks_4,
          teacher=dense, alpha=ALPHA, temperature=TEMPERATURE, progress=True,
          evaluate=())  # evaluate=(): no accuracies during training
    masks_4 = compression.remove_dead_units(model_4, masks_4)
    return model_4, masks_4, 4, 4  # 4-bit weights, 4-bit biases


recipes = selection.load_record("lesson11_exercise4")
assert recipes.settings[recipes.pick] == {"sparsity": 0.978, "epochs": 4, "lr": 0.03}  # the recipe above
assert len(recipes.settings) == 36 and recipes.question.endswith("Recipes left out for their size: none")
assert [sorted({st[k] for st in recipes.settings}) for k in ("sparsity", "epochs", "lr")] == [
    [0.976, 0.978, 0.98, 0.982], [4, 8, 16], [0.01, 0.03, 0.1]]  # the grid the comment above describes
recipe_cost, recipe_total = np.asarray(recipes.cost), recipes.correct.sum(axis=1)
recipe_cands = selection.candidates(recipes.correct, recipes.n_images, recipes.tolerance)
print(f"36 recipes; best validation total {recipe_total.max():,} of {5 * len(data.y_val):,}; the rule's "
      f"{len(recipe_cands)} candidates by cost (sparsity/epochs/lr total):")
for c in sorted(set(recipe_cost[recipe_cands])):
    print(f"  {c:.0f} epochs: " + ", ".join(
        f"{recipes.settings[i]['sparsity']}/{recipes.settings[i]['epochs']}/{recipes.settings[i]['lr']} "
        f"{recipe_total[i]:,}" for i in recipe_cands if recipe_cost[i] == c))
assert (len(recipe_cands), recipe_total.max(), recipe_total[recipes.pick]) == (11, 1314, 1311)


def below_dense_ci(i):
    """Mean and 95 % interval, over the five fine-tuning seeds, of seed 0's dense network minus the recipe
    on validation (points)."""
    return mean_ci(100 * (dense_val_seed[0] - recipes.correct[i]) / len(data.y_val))


m4, h4 = below_dense_ci(recipes.pick)
print(f"the solution on validation: {recipes.correct[recipes.pick].tolist()} of {len(data.y_val)} per fine-tuning "
      f"seed against seed 0's dense {dense_val_seed[0]}: {m4:.2f} ± {h4:.2f} points below, [{m4 - h4:+.2f}, "
      f"{m4 + h4:+.2f}]; the target is at most 0.5")
meeting = [i for i in range(len(recipes.settings)) if below_dense_ci(i)[0] <= 0.5 + 1e-9]
print("recipes within the target on the mean: " + "; ".join(
    f"{recipes.settings[i]} ({below_dense_ci(i)[0]:.2f}, [{below_dense_ci(i)[0] - below_dense_ci(i)[1]:+.2f}, "
    f"{sum(below_dense_ci(i)):+.2f}])" for i in meeting))
own_val = []  # this lesson's own run of the recipe counts exactly the record's validation images, seed by seed
for seed in checks.compression.RECIPE_SEEDS:  # the check's fine-tuning seeds
    net_4, masks_4, bits_4, bias_bits_4 = recipe_4(seed)
    model_file.save_compressed(float32_weights(net_4), path("recipe_4.llc"), masks_4, bits_4, bias_bits=bias_bits_4)
    own_val.append(val_images(accuracy(model_file.load_compressed(path("recipe_4.llc"), mlp(hidden=HIDDEN)),
                                       data.X_val, data.y_val)))
assert own_val == recipes.correct[recipes.pick].tolist()
assert (f"{m4:.2f}", f"{m4 - h4:+.2f}", f"{m4 + h4:+.2f}") == ("0.67", "+0.07", "+1.27")
assert [recipes.settings[i]["epochs"] for i in meeting] == [16, 16]
assert [(f"{below_dense_ci(i)[0] - below_dense_ci(i)[1]:+.2f}", f"{sum(below_dense_ci(i)):+.2f}")
        for i in meeting] == [("+0.06", "+0.83"), ("-0.16", "+1.04")]
# So on the mean, validation predicts a miss of the target (0.67 points below dense against at most 0.5;
# over the five fine-tuning seeds [+0.07, +1.27], so not established either), and the check below scores
# the test images. Two recipes meet the target on validation on the mean, both with 16 epochs (their
# intervals reach 0.83 and 1.04 points); a rule that required the target would have picked one of them,
# but it was not the rule stated before the search, and the lesson does not change its rule after
# reading the record.
### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex11_4_check", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
checks.compression.hundredfold(recipe_4)

# %% [markdown]
# The check scores the test images once. In the version with solutions, the answer cell above also
# prints how its recipe was chosen on the validation images and what it scores there.
