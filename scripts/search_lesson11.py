"""Lesson 11's pruning schedule, chosen on the validation part: the search and its record.

Lesson 11 prunes its five dense 64-300-100-10 networks (seeds 0 to 4) in four rounds, each
fine-tuned with momentum and distillation from the dense network (section 2). This script runs
every schedule of a grid fixed before it ran, exactly as the lesson runs one, and counts the
validation images each seed's final (97 %) network classifies correctly. The grid:

* the sparsity levels: the earlier version's (75, 90, 95, 97 %) or Zhu and Gupta's cubic
  schedule s_r = 0.97 (1 - (1 - r/4)^3), r = 1..4 (56.1, 84.9, 95.5, 97 %);
* the epochs of the four rounds: (2, 2, 2, 4), (4, 4, 4, 8) or (8, 8, 8, 16) (the cost: 10, 20 or 40);
* the fine-tuning learning rate: 0.01, 0.03 or 0.1 (momentum 0.9, batches of 64);
* the distillation: none (alpha = 0), or alpha in {0.5, 0.9} with temperature T in {2, 4, 8}.

The course's rule (lessons_lib.selection) picks the cheapest schedule within 0.5 points of the
best mean.

Then exercise 4's solution recipe, from seed 0's 97 % network of the picked schedule (the
exercise's starting ``model``): prune further to 97.6, 97.8, 98.0 or 98.2 % of the weight matrices,
fine-tune 4, 8 or 16 epochs at lr 0.01, 0.03 or 0.1 (momentum 0.9, batches of 64, distilled from
the dense network as the schedule is, fine-tuning seeds 0 to 4 as the exercise's check gives them),
remove dead units and store 4-bit weights and biases. A recipe qualifies only if every seed's file
is at least 100 times smaller than the float32 file (bytes are read without any image); the rule
then picks among those on the validation images of the reloaded files.

Run it from the repository's root (about 7 minutes on two cores; ``exercise4`` as argument runs
only the second search):

    python scripts/search_lesson11.py [exercise4]

It writes notebooks/data/validation/lesson11_schedule.json and lesson11_exercise4.json. Lesson 11
uses both picks: section 2 prunes with the picked schedule (lessons_lib.checks.compression's
LESSON11_SCHEDULE and LESSON11_FINE_TUNING hold it, for the exercise check's rebuild of seed 0's 97 %
model), and exercise 4's solution is the picked recipe.
"""

from __future__ import annotations

import copy
import itertools
import os
import sys
import tempfile
import time

import torch

import lessons_lib
from lessons_lib import compression, model_file, pruning, selection
from lessons_lib.batched_training import train_many
from lessons_lib.models import mlp
from lessons_lib.splits import load_digits_splits

SEEDS = (0, 1, 2, 3, 4)
HIDDEN = (300, 100)
LEVELS = {"earlier": (0.75, 0.90, 0.95, 0.97),
          "cubic": tuple(round(0.97 * (1 - (1 - r / 4) ** 3), 4) for r in range(1, 5))}
EPOCHS = {"half": (2, 2, 2, 4), "kept": (4, 4, 4, 8), "double": (8, 8, 8, 16)}
LRS = (0.01, 0.03, 0.1)
DISTILL = ((0.0, 4.0),) + tuple(itertools.product((0.5, 0.9), (2.0, 4.0, 8.0)))  # (alpha, T)


def dense_networks(data, seeds=SEEDS):
    """Lesson 11's dense networks (section 1's protocol), {seed: network}."""
    nets = [mlp(hidden=HIDDEN, seed=seed) for seed in seeds]
    train_many(nets, (data.X_train, data.y_train), epochs=20, lr=0.1, momentum=0.9, batch_size=64,
               seeds=list(seeds), progress=False, evaluate=())
    return dict(zip(seeds, nets, strict=True))


def prune_schedule(dense, data, levels, epochs, lrs, alpha, temperature, seeds=SEEDS):
    """Section 2's iterative pruning of copies of ``dense`` for every (lr, seed), side by side.

    Returns {(lr, seed): the final pruned network}. Round r of seed k shuffles with seed 10k + r + 1,
    as in the lesson; each network is fine-tuned exactly as train(..., masks=..., teacher=...) would."""
    keys = [(lr, seed) for lr in lrs for seed in seeds]
    teachers = [dense[seed] for _, seed in keys]
    models = [copy.deepcopy(t) for t in teachers]
    for r, (sparsity, n_epochs) in enumerate(zip(levels, epochs, strict=True)):
        masks = [pruning.global_magnitude_masks(pruning.prunable_weights(m), sparsity) for m in models]
        train_many(models, (data.X_train, data.y_train), epochs=n_epochs, lr=[lr for lr, _ in keys],
                   momentum=0.9, batch_size=64, seeds=[10 * seed + r + 1 for _, seed in keys], masks=masks,
                   teacher=teachers, alpha=alpha, temperature=temperature, progress=False, evaluate=())
    return dict(zip(keys, models, strict=True))


def validation_correct(net, data):
    """The number of validation images ``net`` classifies correctly."""
    with torch.no_grad():
        return int((net(data.X_val).argmax(dim=1) == data.y_val).sum())


RECIPE_SPARSITY = (0.976, 0.978, 0.980, 0.982)
RECIPE_EPOCHS = (4, 8, 16)
RECIPE_SEEDS = (0, 1, 2, 3, 4)


def file_bytes_and_correct(net, masks, data, bits=4):
    """Store ``net`` (its float32-rounded weights) at ``bits`` for weights and biases, reload it and count
    the validation images it classifies correctly: (file bytes, correct)."""
    template = mlp(hidden=HIDDEN, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "recipe.llc")
        stored = model_file.float32_rounded(net)  # as every file of lesson 11 stores it
        n_bytes = model_file.save_compressed(stored, path, masks, bits, bias_bits=bits)
        reloaded = model_file.load_compressed(path, template)
    return n_bytes, validation_correct(reloaded, data)


def exercise4_start(data, dense):
    """Seed 0's 97 % network of the schedule lesson11_schedule.json picks, dead units removed (the
    exercise's starting ``model``), and that schedule's setting."""
    schedule = selection.load_record("lesson11_schedule", selection.RECORD_DIR)
    tuning = schedule.settings[schedule.pick]
    levels, epochs = LEVELS[tuning["levels"]], EPOCHS[tuning["epochs"]]
    start_nets = prune_schedule(dense, data, levels, epochs, (tuning["lr"],), tuning["alpha"],
                                tuning["temperature"], seeds=(0,))
    start = start_nets[tuning["lr"], 0]
    masks = pruning.global_magnitude_masks(pruning.prunable_weights(start), levels[-1])
    compression.remove_dead_units(start, masks)
    return start, tuning


def recipe_rows(data, dense, start, tuning, sparsity, epochs, lrs=LRS):
    """One recipe per learning rate in ``lrs``, fine-tuning seeds RECIPE_SEEDS side by side:
    {lr: (validation images correct per seed, the smallest compression ratio over the seeds)}."""
    float32_bytes = model_file.float32_size_bytes(dense[0])
    keys = [(lr, seed) for lr in lrs for seed in RECIPE_SEEDS]
    nets = [copy.deepcopy(start) for _ in keys]
    masks = [pruning.global_magnitude_masks(pruning.prunable_weights(n), sparsity) for n in nets]
    train_many(nets, (data.X_train, data.y_train), epochs=epochs, lr=[lr for lr, _ in keys], momentum=0.9,
               batch_size=64, seeds=[seed for _, seed in keys], masks=masks, teacher=dense[0],
               alpha=tuning["alpha"], temperature=tuning["temperature"], progress=False, evaluate=())
    rows = {lr: ([], []) for lr in lrs}
    for (lr, _), net, net_masks in zip(keys, nets, masks, strict=True):
        n_bytes, c = file_bytes_and_correct(net, compression.remove_dead_units(net, net_masks), data)
        rows[lr][0].append(c)
        rows[lr][1].append(float32_bytes / n_bytes)
    return {lr: (row, min(ratio)) for lr, (row, ratio) in rows.items()}


def search_exercise4(data, dense):
    """Exercise 4's recipe on validation; writes lesson11_exercise4.json."""
    start, tuning = exercise4_start(data, dense)
    settings, cost, correct, ratios = [], [], [], []
    for sparsity, epochs in itertools.product(RECIPE_SPARSITY, RECIPE_EPOCHS):
        for lr, (row, smallest_ratio) in recipe_rows(data, dense, start, tuning, sparsity, epochs).items():
            ratios.append(smallest_ratio)
            settings.append({"sparsity": sparsity, "epochs": epochs, "lr": lr})
            cost.append(float(epochs))
            correct.append(row)
        print(f"{settings[-1]} ratios >= {ratios[-3:]}, correct {[sum(c) for c in correct[-3:]]}",
              file=sys.stderr, flush=True)
    feasible = [i for i, r in enumerate(ratios) if r >= 100]
    record = selection.Record(
        question=("Lesson 11, exercise 4: which recipe (further sparsity, fine-tuning epochs and "
                  "learning rate; 4-bit weights and biases) to give as the solution; only recipes whose "
                  "file is at least 100 times smaller than the float32 file on every seed are candidates "
                  "(the settings listed); "
                  "objective: the validation images classified correctly by the reloaded files, fine-tuning "
                  "seeds 0 to 4; cost: epochs. Recipes left out for their size: "
                  + ("; ".join(f"{settings[i]} (smallest ratio {ratios[i]:.1f})"
                               for i in range(len(settings)) if i not in feasible) or "none")),
        rule=selection.RULE.format(tolerance=0.5), script="scripts/search_lesson11.py", seeds=RECIPE_SEEDS,
        n_images=len(data.y_val), settings=tuple(settings[i] for i in feasible),
        cost=tuple(cost[i] for i in feasible), correct=torch.tensor([correct[i] for i in feasible]).numpy())
    selection.save_record(record, "lesson11_exercise4")
    rec = selection.load_record("lesson11_exercise4", selection.RECORD_DIR)
    print(f"exercise 4 pick: {rec.settings[rec.pick]} ({rec.means[rec.pick]:.2f} %, "
          f"best {rec.means.max():.2f} %)")


def main():
    lessons_lib.setup()
    torch.set_default_dtype(torch.float64)  # as the lesson computes
    data = load_digits_splits(validation_size=0.2, seed=0)
    dense = dense_networks(data)
    if sys.argv[1:] == ["exercise4"]:
        return search_exercise4(data, dense)
    settings, cost, correct = [], [], []
    start = time.perf_counter()
    for (lv_name, levels), (ep_name, epochs), (alpha, temperature) in itertools.product(
            LEVELS.items(), EPOCHS.items(), DISTILL):
        nets = prune_schedule(dense, data, levels, epochs, LRS, alpha, temperature)
        for lr in LRS:
            settings.append({"levels": lv_name, "epochs": ep_name, "lr": lr, "alpha": alpha,
                             "temperature": temperature})
            cost.append(float(sum(epochs)))
            correct.append([validation_correct(nets[lr, seed], data) for seed in SEEDS])
        print(f"{len(settings):3d} settings, {time.perf_counter() - start:5.0f} s: {settings[-1]} "
              f"{[sum(c) for c in correct[-3:]]}", file=sys.stderr, flush=True)
    record = selection.Record(
        question=("Lesson 11, section 2: which iterative pruning schedule (sparsity levels, epochs per "
                  "round, fine-tuning learning rate, distillation alpha and temperature) to use; "
                  "objective: the validation images classified correctly by each seed's final 97 % "
                  "pruned float64 network (before weight sharing), seeds 0 to 4; cost: fine-tuning epochs"),
        rule=selection.RULE.format(tolerance=0.5),
        script="scripts/search_lesson11.py", seeds=SEEDS, n_images=len(data.y_val),
        settings=tuple(settings), cost=tuple(cost), correct=torch.tensor(correct).numpy())
    path = selection.save_record(record, "lesson11_schedule")
    rec = selection.load_record("lesson11_schedule", selection.RECORD_DIR)
    print(f"wrote {path}; pick: {rec.settings[rec.pick]} ({rec.means[rec.pick]:.2f} %, best "
          f"{rec.means.max():.2f} %)")
    search_exercise4(data, dense)


if __name__ == "__main__":
    main()
