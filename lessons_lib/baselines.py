"""Right-sized dense baselines: is a pruned large network smaller than a small dense one?

A compression ratio measured against an oversized network says as much about the oversizing
as about the method. The honest second baseline is the **smallest dense network that is as
accurate** as the compressed one (Zhu and Gupta, *To prune, or not to prune: exploring the
efficacy of pruning for model compression*, ICLR workshop 2018, compare pruned large models
with dense small ones of the same memory). This module trains a sweep of small dense MLPs
``64 -> hidden -> 10`` on the training part of the same seeds and splits as the compressed
models (:class:`lessons_lib.splits.DigitsSplits`: train, validation, test), measures each one's
float32 file (:func:`lessons_lib.model_file.float32_size_bytes`) and its accuracy on the
validation part and on the test part, and picks the smallest that matches a target on
*validation*:

    smallest_matching(sweep, a) = argmin { float32_bytes(d) : d in sweep, mean_s val_s(d) >= a }

with ``mean_s`` the mean over the seeds and ``a`` the compressed models' mean validation
accuracy. The choice is made on the validation part only; the test accuracies of the pick
(``test_accuracies``) are then the reported figures, read once, on images the choice did not
see. Its answer still moves with the noise of the means (one validation image of 270 is 0.37
points).

:func:`right_sized_ratios` is then, per seed ``s``, ``float32_bytes(d*) / compressed_bytes_s``.

"Mean >= mean" hangs on single validation images, so :func:`smallest_non_inferior` gives the other
end of the plausible range, a paired rule with a margin ``m``: with ``delta_s = val_s(d) - target_s``
on the same seeds (``target_s`` the compressed model's validation accuracy on seed ``s``),

    smallest_non_inferior(sweep, target, m)
        = argmin { float32_bytes(d) : mean(delta) - t * s(delta) / sqrt(n) >= -m }

(``t`` the 0.975 Student-t quantile with ``n - 1`` degrees of freedom): the smallest network whose
95 % interval excludes being worse than the target by more than ``m``. At equal bytes,
:func:`most_accurate_within` picks, among
stored files ``f`` (each measured on the same seeds), the most accurate of at most a byte budget:

    most_accurate_within(files, B) = argmax { mean_s acc_s(f) : mean_s bytes_s(f) <= B }

(ties go to the fewer mean bytes, then to the first given); callers pass the files' *validation*
accuracies (:func:`quantized_files` measures both parts), so that this choice too is made on
validation and the paired comparison with the pick is made on test.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from torch import nn

from lessons_lib import _validate
from lessons_lib.intervals import t_half_width

#: Means of the same image counts summed in another order can differ in their last bit; closer than
#: this they are equal (the choices below must not hang on rounding).
ROUNDING = 1e-12

__all__ = ["DenseBaseline", "train_dense_sweep", "quantized_files", "smallest_matching",
           "stored_bytes_and_network",
           "smallest_non_inferior",
           "most_accurate_within", "right_sized_ratios"]


@dataclass(frozen=True)
class DenseBaseline:
    """One dense shape trained on several seeds.

    ``networks[i]``, ``val_accuracies[i]`` (accuracy on the validation part, in [0, 1]: what
    choices look at) and ``test_accuracies[i]`` (on the test part: what is reported) belong to
    ``seeds[i]``; ``float32_bytes`` is the size of its ``torch.save`` float32 file (the same for
    every seed).
    """

    hidden: tuple[int, ...]
    seeds: tuple[int, ...]
    n_parameters: int
    float32_bytes: int
    val_accuracies: tuple[float, ...]
    test_accuracies: tuple[float, ...]
    networks: tuple[nn.Sequential, ...]

    @property
    def mean_val_accuracy(self) -> float:
        """Mean validation accuracy over the seeds, in [0, 1] (what the choices look at)."""
        return float(np.mean(self.val_accuracies))

    @property
    def mean_test_accuracy(self) -> float:
        """Mean test accuracy over the seeds, in [0, 1] (the reported figure)."""
        return float(np.mean(self.test_accuracies))


def _check_hiddens(hiddens: object) -> list[tuple[int, ...]]:
    if isinstance(hiddens, str | bytes) or not isinstance(hiddens, Sequence) or not hiddens:
        raise TypeError(f"hiddens must be a non-empty sequence of hidden-layer tuples; got {hiddens!r}")
    out = []
    for h in hiddens:
        if isinstance(h, str | bytes) or not isinstance(h, Sequence):
            raise TypeError(f"hiddens must hold sequences of layer widths such as (32,); got {h!r}")
        out.append(tuple(_validate.integer(w, "hiddens", 1, None) for w in h))
    return out


def _check_seeds(seeds: object) -> list[int]:
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | range) or len(seeds) < 1:
        raise ValueError(f"seeds must be a non-empty sequence of ints >= 0; got {seeds!r}")
    return [_validate.integer(s, "seeds", 0, 2**32 - 1) for s in seeds]


def train_dense_sweep(
    hiddens: Sequence[Sequence[int]],
    data: Any,
    seeds: Sequence[int],
    *,
    epochs: int = 20,
    lr: float = 0.1,
    momentum: float = 0.9,
    batch_size: int = 64,
    progress: bool = False,
) -> list[DenseBaseline]:
    """Train ``models.mlp(hidden, seed=s)`` for every hidden shape and seed; measure each.

    Parameters
    ----------
    hiddens : shapes of the hidden layers, e.g. ``[(16,), (32,), (64,)]`` (widths >= 1)
    data : one :class:`lessons_lib.splits.DigitsSplits` (train, validation and test parts) for
        every seed, or a mapping ``{seed: DigitsSplits}`` (each seed trained and measured on its own
        parts, as ``compression.compression_experiment`` does); the networks train on the training
        part alone and are measured on the validation and the test part
    seeds : ints >= 0; seed ``s`` fixes the initial weights and the data order
    epochs, lr, momentum, batch_size : the SGD protocol (``training.train``'s meaning)

    Each network is made by ``mlp`` in torch's default dtype (and cast to the data's dtype if
    that differs). The networks of one shape (and one split) train side by side with
    :func:`lessons_lib.batched_training.train_many`, each bit for bit as ``training.train``
    would train it alone. Returns one :class:`DenseBaseline` per shape, in the order given.
    """
    from lessons_lib.batched_training import train_many
    from lessons_lib.model_file import float32_size_bytes
    from lessons_lib.models import count_parameters, mlp
    from lessons_lib.training import accuracy

    shapes = _check_hiddens(hiddens)
    seeds = _check_seeds(seeds)
    if isinstance(data, Mapping):
        missing = [s for s in seeds if s not in data]
        if missing:
            raise ValueError(f"data must hold a split for every seed; missing seeds {missing}")
        split_of = {s: data[s] for s in seeds}
    else:
        split_of = {s: data for s in seeds}
    for split in split_of.values():
        if not all(hasattr(split, a) for a in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")):
            raise TypeError("data must be a DigitsSplits (X_train, X_val, X_test and their labels: "
                            "splits.load_digits_splits) or a mapping {seed: DigitsSplits}")
    groups: dict[int, list[int]] = {}  # id of a split -> its seeds, in order
    for s in seeds:
        groups.setdefault(id(split_of[s]), []).append(s)
    out = []
    for hidden in shapes:
        nets = {s: mlp(hidden=hidden, seed=s).to(split_of[s].X_train.dtype) for s in seeds}
        for group in groups.values():
            split = split_of[group[0]]
            train_many([nets[s] for s in group], (split.X_train, split.y_train), epochs=epochs, lr=lr,
                       momentum=momentum, batch_size=batch_size, seeds=group, evaluate=(),
                       progress=progress, desc=f"dense {hidden}")
        out.append(DenseBaseline(
            hidden=hidden,
            seeds=tuple(seeds),
            n_parameters=count_parameters(nets[seeds[0]]),
            float32_bytes=float32_size_bytes(nets[seeds[0]]),
            val_accuracies=tuple(accuracy(nets[s], split_of[s].X_val, split_of[s].y_val) for s in seeds),
            test_accuracies=tuple(accuracy(nets[s], split_of[s].X_test, split_of[s].y_test) for s in seeds),
            networks=tuple(nets[s] for s in seeds),
        ))
    return out


def stored_bytes_and_network(
    model: nn.Module, masks: Mapping[str, Any] | None, bits: int, *, float32: bool = False
) -> tuple[int, nn.Module]:
    """``(bytes, network)`` of ``model`` (pruned by ``masks``, or None) stored with k-means weight sharing
    at ``bits`` (2..8), without writing a file: the bytes are ``len(model_file.encode(units))``, the size
    ``model_file.save_compressed`` writes, and the network holds the weights of the units, which is what
    ``model_file.load_compressed`` reads back from that file (equal bit for bit; tests/test_baselines.py).
    The storage units (k-means included) are computed once for both. ``float32=True`` stores
    :func:`lessons_lib.model_file.float32_rounded` ``(model)`` instead (what ``save_compressed``
    writes for that copy).
    """
    from lessons_lib.model_file import encode, float32_rounded
    from lessons_lib.weight_sharing import _load_units, compress_state

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    bits = _validate.integer(bits, "bits", 2, 8)
    if float32:
        model = float32_rounded(model)
    units = compress_state(model, masks, bits)
    return len(encode(units)), _load_units(model, units)


def quantized_files(baseline: DenseBaseline, data: Any, bits: int, *,
                    float32: bool = False) -> list[tuple[int, float, float]]:
    """Each network of ``baseline`` stored with k-means weight sharing at ``bits`` (no pruning):
    ``[(file bytes, validation accuracy, test accuracy)]`` of the network loaded back from the file,
    one per seed, computed by :func:`stored_bytes_and_network` (the same bytes and network as writing
    and reloading the file). Choose on the validation accuracies (``most_accurate_within`` with
    ``[(bytes, val) ...]``), report the test ones.

    ``data``: the ``DigitsSplits`` (or ``{seed: DigitsSplits}``) the networks were trained on;
    ``bits`` in 2..8; ``float32=True``: each network's float32-rounded copy is stored
    (:func:`stored_bytes_and_network`).
    """
    from lessons_lib.training import accuracy

    if not isinstance(baseline, DenseBaseline):
        raise TypeError(f"baseline must be a DenseBaseline; got {type(baseline).__name__}")
    bits = _validate.integer(bits, "bits", 2, 8)
    out = []
    for seed, net in zip(baseline.seeds, baseline.networks, strict=True):
        split = data[seed] if isinstance(data, Mapping) else data
        n_bytes, back = stored_bytes_and_network(net, None, bits, float32=float32)
        out.append((n_bytes, accuracy(back, split.X_val, split.y_val),
                    accuracy(back, split.X_test, split.y_test)))
    return out


def _check_baselines(baselines: object) -> None:
    if isinstance(baselines, str | bytes) or not isinstance(baselines, Sequence):
        raise TypeError("baselines must be a sequence of DenseBaseline")
    if not all(isinstance(b, DenseBaseline) for b in baselines):
        raise TypeError("baselines must hold only DenseBaseline objects")


def smallest_matching(baselines: Sequence[DenseBaseline], target_accuracy: float) -> DenseBaseline | None:
    """The baseline with the fewest float32 bytes whose mean VALIDATION accuracy over its seeds is at
    least ``target_accuracy`` (in [0, 1]: the compressed models' mean validation accuracy); None if
    none reaches it. Ties in bytes go to the first. Test accuracies play no part.

    "At least" allows ``ROUNDING`` (1e-12) of floating-point rounding: two means of the same image
    counts summed in another order (1,316 of 1,350 images as 0.9748148148148147 and
    0.9748148148148148) are equal."""
    target = float(_validate.in_range(target_accuracy, "target_accuracy", 0.0, 1.0))
    _check_baselines(baselines)
    best = None
    for b in baselines:
        reaches = b.mean_val_accuracy >= target - ROUNDING
        if reaches and (best is None or b.float32_bytes < best.float32_bytes):
            best = b
    return best


def _check_accuracies(values: object, name: str) -> np.ndarray:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence of accuracies in [0, 1]")
    return np.asarray([float(_validate.in_range(v, name, 0.0, 1.0)) for v in values], dtype=float)


def smallest_non_inferior(baselines: Sequence[DenseBaseline], target_accuracies: Sequence[float],
                          margin: float = 0.005) -> DenseBaseline | None:
    """The baseline with the fewest float32 bytes that is, seed for seed, not worse than the target
    by more than ``margin`` (in [0, 1]; 0.005 = half a point) on VALIDATION: ``target_accuracies[i]``
    (in [0, 1], the compressed model's validation accuracy) belongs to ``seeds[i]`` of every baseline
    (at least 2 seeds); with ``delta = val_accuracies - target_accuracies``, the lower end of the
    95 % t-interval of ``mean(delta)`` is ``>= -margin``. None if no baseline qualifies. Test
    accuracies play no part."""

    target = _check_accuracies(target_accuracies, "target_accuracies")
    m = float(_validate.in_range(margin, "margin", 0.0, 1.0))
    if target.size < 2:
        raise ValueError(f"target_accuracies must hold at least 2 seeds; got {target.size}")
    _check_baselines(baselines)
    best = None
    for b in baselines:
        if len(b.val_accuracies) != target.size:
            raise ValueError(f"target_accuracies must hold one accuracy per seed of each baseline "
                             f"({len(b.val_accuracies)}); got {target.size}")
        delta = np.asarray(b.val_accuracies, dtype=float) - target
        lower = delta.mean() - t_half_width(delta)
        if lower >= -m - ROUNDING and (best is None or b.float32_bytes < best.float32_bytes):
            best = b
    return best


def most_accurate_within(files: Mapping[Any, Sequence[tuple[int, float]]], max_bytes: float) -> Any | None:
    """The key of ``files`` (``{key: [(bytes, accuracy) per seed]}``, the same seeds for every key)
    whose mean accuracy is highest among those whose mean bytes are at most ``max_bytes`` (> 0);
    ties go to the fewer mean bytes, then to the first key. None if no file fits. Pass validation
    accuracies: this is a choice.

    Equal means are equal up to ``ROUNDING``, as in :func:`smallest_matching`: two files with the same image
    counts per seed, summed in another order, can differ in the last bit of their float means, and the
    tie rule (fewer bytes) must decide, not that rounding."""
    budget = float(_validate.in_range(max_bytes, "max_bytes", 0.0, None, low_open=True))
    if not isinstance(files, Mapping):
        raise TypeError(f"files must be a mapping {{key: [(bytes, accuracy), ...]}}; "
                        f"got {type(files).__name__}")
    best, best_key = None, None
    for key, rows in files.items():
        if isinstance(rows, str | bytes) or not isinstance(rows, Sequence) or not rows:
            raise TypeError(f"files[{key!r}] must be a non-empty sequence of (bytes, accuracy)")
        sizes = np.mean([float(n) for n, _ in rows])
        acc = float(np.mean(_check_accuracies([a for _, a in rows], "files accuracies")))
        if sizes <= budget and (best is None or acc > best[0] + ROUNDING
                                or (abs(acc - best[0]) <= ROUNDING and -sizes > best[1])):
            best, best_key = (acc, -sizes), key
    return best_key


def right_sized_ratios(baseline_bytes: int, compressed_bytes: Sequence[int]) -> np.ndarray:
    """Per seed, ``baseline_bytes / compressed_bytes[s]``: the compressed file against the
    right-sized dense float32 file (``baseline_bytes > 0``, every compressed size > 0)."""
    base = _validate.integer(baseline_bytes, "baseline_bytes", 1, None)
    sizes = np.asarray([_validate.integer(c, "compressed_bytes", 1, None) for c in compressed_bytes],
                       dtype=float)
    if sizes.size == 0 or not math.isfinite(base):
        raise ValueError("compressed_bytes must hold at least one size")
    return base / sizes
