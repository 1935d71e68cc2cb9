"""Self-checks for lesson 11, the compression pipeline.

The checks name the usual slips: 8 bytes per float, bit-packed codes where the format
stores a byte per code, a float32 codebook, and positions decoded with an off-by-one.
The last exercise is checked by running the student's recipe on five fine-tuning seeds and
writing, reloading and scoring each file, so the size and accuracy are measured, not taken on
trust, and judged over several draws, not one: five fine-tuned networks that are one network (the
same files up to float16 rounding, the same prediction for every test image, or the same floats up to
one factor per tensor: one lucky draw returned for every seed, perhaps scaled or nudged a little per
seed) are refused.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from torch import nn

from .. import compression, model_file
from . import NotYet, as_number, number, passed, run_answer

# blocks of 256 per tensor of the 64-300-100-10 MLP (weights and biases)
_blocks = sum(-(-size // 256) for size in (64 * 300, 300, 300 * 100, 100, 100 * 10, 10))


@functools.cache
def _torch_save_bytes() -> int:
    """Bytes of the torch.save file of a float32 64-300-100-10 MLP (section 1's float32 file)."""
    import torch

    from ..models import mlp

    return model_file.float32_size_bytes(mlp(hidden=(300, 100), seed=0).to(torch.float32))


def _whole_bytes(answer: object, what: str, hint: str, expected: float) -> None:
    """NotYet unless the answer is a whole number (a byte count) in bytes, not in KB or KiB."""
    value = as_number(answer, what, hint)
    for unit, factor in (("KB", 1000), ("KiB", 1024)):
        if 0 < value < expected / 100 and abs(value * factor / expected - 1) < 0.01:
            raise NotYet(f"{value!r} looks like {what} in {unit} ({expected:,.0f} / {factor} = "
                         f"{expected / factor:.3f}): answer in bytes, not {unit}. Hint: {hint}")
    if not float(value).is_integer():
        raise NotYet(f"{value!r} is not {what}: a byte count is a whole number. Hint: {hint}")


def momentum_bytes(answer: object) -> None:
    """Exercise 1: float32 momentum for 50,610 parameters = 202,440 bytes."""
    n = 50_610
    _whole_bytes(answer, "the bytes of the float32 momentum buffer",
                 "one buffer entry per parameter, 4 bytes per float32.", 4.0 * n)
    number(
        answer, 4.0 * n, what="the bytes of the float32 momentum buffer",
        hint="one buffer entry per parameter, 4 bytes per float32.",
        rtol=0.0,
        mistakes={
            "entries": (float(n), "50,610 is the number of entries; each is a float32 of 4 bytes."),
            "no_biases": (4.0 * (n - 410), "that is 4 bytes for each of the 50,200 weights only; the 410 "
                                           "biases are parameters too and have a buffer entry each."),
            "double": (8.0 * n, "that is 8 bytes per parameter: a float64 buffer, or two buffers (Adam's); "
                                "SGD keeps one float32 buffer per parameter."),
            "eight_bit": (float(n + 4 * _blocks), "that is the 8-bit block-wise size; the question asks for "
                                                  "float32."),
            "torch_save": (float(_torch_save_bytes()),
                           "that is the size of section 1's torch.save file of the model's float32 weights, "
                           "pickle structure included; the question asks for the momentum buffer's bytes, "
                           "one float32 entry per parameter and nothing else."),
        },
    )


def layer_bytes(answer: object) -> None:
    """Exercise 2: 1,000 kept weights, gaps < 255, 5-bit codebook: 1000 + 1000 + 64 = 2,064 bytes."""
    _whole_bytes(answer, "the bytes before compression",
                 "one gap byte and one code byte per kept weight, plus the float16 codebook.", 2064.0)
    number(
        answer, 2064.0, what="the bytes before compression",
        hint="one gap byte per kept weight (no escapes needed), one code byte per kept weight, and "
             "2^5 codebook values of 2 bytes each (float16).",
        rtol=0.0,
        mistakes={
            "bit_packed": (1000 + 1000 * 5 / 8 + 64,
                           "that packs one of the two kinds of symbol to 5 bits: the codes (5-bit codes) or "
                           "the gaps (the paper's 5-bit relative indices), the other kept as bytes; the "
                           "format stores each gap and each code in a whole byte, and packing them is what "
                           "the compressor (zlib or LZMA) does later."),
            "float32_book": (2000.0 + 32 * 4, "the codebook is stored as float16, 2 bytes per value."),
            "no_book": (2000.0, "the codebook must be stored too, or the codes cannot be decoded."),
            "no_index": (1064.0, "the positions must be stored too: without them the kept weights "
                                 "cannot be put back in place."),
            "levels": (2000.0 + 5 * 2, "a 5-bit codebook has 2^5 = 32 values, not 5."),
            "all_bit_packed": (1000 * 5 / 8 + 1000 * 5 / 8 + 64,
                               "that packs both the gaps and the codes to 5 bits; the format stores one byte "
                               "per gap and one byte per code (bit packing is left to the compressor)."),
            "byte_book": (2000.0 + 32, "each codebook value is a float16, 2 bytes, not 1."),
            "two_byte_symbols": (1000 * 2 + 1000 + 64,
                                 "that gives one of the two kinds of symbol 2 bytes each; in the format of "
                                 "section 4 a gap below 255 and a 5-bit code each fit in one byte."),
        },
    )


def positions_from_gaps(candidate: Callable[[bytes], object], encoder: object = None) -> None:
    """Exercise 3: decoding relative indices must invert the course's encoder, long gaps included.

    The cases are encoded here with the library's own encoder (:func:`model_file._gaps`, the bytes
    that :func:`model_file.save_compressed` writes), never with a function the caller passes: a
    decoder must read the course's format, not any format of its own. ``encoder`` (the lesson's
    ``relative_indices``) is optional; if given, it must write exactly those bytes.
    """
    if not callable(candidate):
        raise NotYet(f"positions_from_gaps should be a function; got {type(candidate).__name__}.")
    rng = np.random.default_rng(8)
    cases = [
        [0, 1, 2],
        [5, 300, 1000],
        [254, 255 + 254 + 1],
        [255],  # a gap of exactly 255: bytes 255, 0
        [510, 511],  # a gap of exactly 2 * 255
        sorted(rng.choice(5000, size=40, replace=False).tolist()),
        [],
    ]
    for positions in cases:
        data = model_file._gaps(np.asarray(positions, dtype=np.int64))
        if encoder is not None:
            theirs = run_answer(_encoded, encoder, positions, name="the encoder you passed",
                                crashed=f"the encoder you passed fails on {positions}: {{type}}: {{error}}. "
                                "Hint: pass the lesson's relative_indices, or leave the encoder out.")
            if theirs != data:
                raise NotYet(f"the encoder you passed writes {list(theirs)} for {positions}; the course's "
                             f"format is {list(data)}. Hint: the check decodes the format of section 4; pass "
                             "the lesson's relative_indices, or leave the encoder out.")
        got = run_answer(candidate, bytes(data), name="positions_from_gaps",
                         crashed=f"your function fails on the bytes {list(data)} (the positions "
                         f"{positions}): {{type}}: {{error}}. Hint: read the bytes one by one; a byte 255 "
                         "adds 255 zeros and no weight, any other byte g adds g zeros and then one weight.")
        got_list = _int_list(got)
        if got_list != list(positions):
            if len(got_list) == len(positions) and positions and all(
                    g == p - 1 for g, p in zip(got_list, positions, strict=True)):
                raise NotYet(f"for {positions} you return {got_list}: one less everywhere. Hint: a gap g "
                             "means g zeros *and then* the kept weight, so the position advances by g + 1; "
                             "start from position -1.")
            if len(got_list) == len(positions) and positions and all(
                    g == p + 1 for g, p in zip(got_list, positions, strict=True)):
                raise NotYet(f"for {positions} you return {got_list}: one too many everywhere. Hint: "
                             "start from position -1, not 0: the first gap counts the zeros before the "
                             "first kept weight, so a gap 0 means position 0.")
            if len(got_list) != len(positions):
                raise NotYet(f"for the bytes {list(data)} you return {len(got_list)} positions; expected "
                             f"{len(positions)} ({positions}). Hint: a byte 255 adds 255 zeros and no "
                             "weight.")
            raise NotYet(f"for the bytes {list(data)} you return {got_list}; expected {positions}. Hint: "
                         "a byte 255 adds exactly 255 to the position; any other byte g adds g + 1 and "
                         "records a weight.")
    passed(f"your decoder reads the course's relative indices on {len(cases)} cases, gaps of 255 and more "
           "included.")


#: Exercise 4: at least this ratio and at most this drop; a student may ask for more, never less.
MIN_RATIO = 100.0
MAX_DROP_PT = 0.5


@functools.cache
def _dense_seed0() -> nn.Module:
    """Lesson 11's seed-0 dense network, trained here as the lesson trains it: 64-300-100-10, float64,
    20 epochs of SGD with lr 0.1 and momentum 0.9 in batches of 64 shuffled by seed 0, on the 1,077
    images of the training part of ``splits.load_digits_splits(validation_size=0.2, seed=0)``."""
    import torch

    from ..models import mlp
    from ..splits import load_digits_splits
    from ..training import train

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        data = load_digits_splits(validation_size=0.2, seed=0)
        net = mlp(hidden=(300, 100), seed=0)
        train(net, (data.X_train, data.y_train), epochs=20, lr=0.1, momentum=0.9, batch_size=64, seed=0,
              progress=False, evaluate=())
        return net
    finally:
        torch.set_default_dtype(before)


@functools.cache
def dense_accuracy_seed0() -> float:
    """Test accuracy of lesson 11's seed-0 dense network (:func:`_dense_seed0`), on the 450 test images."""
    import torch

    from ..splits import load_digits_splits
    from ..training import accuracy

    data = load_digits_splits(validation_size=0.2, seed=0, dtype=torch.float64)
    return accuracy(_dense_seed0(), data.X_test, data.y_test)


#: Lesson 11's pruning schedule (section 2), the pick of the validation search
#: (``selection.load_record("lesson11_schedule")``, scripts/search_lesson11.py): (sparsity, epochs) of the
#: four rounds, the "earlier" levels with the "half" epochs. Public, for the notebook to assert that it
#: prunes as the check rebuilds; tests/test_checks_compression.py compares it with the record.
LESSON11_SCHEDULE = ((0.75, 2), (0.90, 2), (0.95, 2), (0.97, 4))
#: The fine-tuning of every round of :data:`LESSON11_SCHEDULE` (batches of 64, distilled from the dense
#: network with weight ``alpha`` at ``temperature``): the same pick. Read-only.
LESSON11_FINE_TUNING = MappingProxyType({"lr": 0.1, "momentum": 0.9, "alpha": 0.9, "temperature": 2.0})


@functools.cache
def start_model_seed0() -> nn.Module:
    """Lesson 11's seed-0 97 % model (the exercise's starting ``model``), rebuilt as section 2 builds it:
    the rounds of :data:`LESSON11_SCHEDULE`, pruning to 75, 90, 95 and 97 % with 2, 2, 2 and 4 epochs of
    distilled, mask-aware fine-tuning (:data:`LESSON11_FINE_TUNING`: lr 0.1, momentum 0.9, alpha 0.9,
    temperature 2; batches of 64, round r shuffled by seed r + 1, on the training part), then dead units
    removed."""
    import copy

    import torch

    from .. import pruning
    from ..splits import load_digits_splits
    from ..training import train

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        data = load_digits_splits(validation_size=0.2, seed=0)
        dense = _dense_seed0()
        model = copy.deepcopy(dense)
        for r, (sparsity, epochs) in enumerate(LESSON11_SCHEDULE):
            masks = pruning.global_magnitude_masks(pruning.prunable_weights(model), sparsity)
            train(model, (data.X_train, data.y_train), epochs=epochs, batch_size=64, seed=r + 1, masks=masks,
                  teacher=dense, progress=False, evaluate=(), **LESSON11_FINE_TUNING)
        compression.remove_dead_units(model, masks)
        return model
    finally:
        torch.set_default_dtype(before)


def _same_files(reloaded: list[dict[str, np.ndarray]]) -> bool:
    """True if every reloaded state (name -> float64 array, as decoded from its file) equals the first
    within a relative 1e-3: the same codes and codebooks up to float16 rounding (a float16 value carries
    a relative rounding error of at most 2^-11, about 4.9e-4), pruned entries exactly 0 in both."""
    return all(state.keys() == reloaded[0].keys()
               and all(np.allclose(state[k], reloaded[0][k], rtol=1e-3, atol=1e-12) for k in state)
               for state in reloaded[1:])


def _same_predictions(predictions: list[np.ndarray]) -> bool:
    """True if every reloaded network predicts the same class as the first for every test image. Five
    fine-tuning seeds change a few test predictions each (lesson 11, section 5); five networks that agree
    on all 450 images are one network, whatever their floats (a scaled copy keeps every arg-max)."""
    return all(np.array_equal(p, predictions[0]) for p in predictions[1:])


def _same_networks(states: list[dict[str, np.ndarray]]) -> bool:
    """True if every state (name -> float64 array) equals the first within a relative 1e-6 (bit-identical, or
    perturbed by noise far below what a different fine-tuning seed changes)."""
    return all(state.keys() == states[0].keys()
               and all(np.allclose(state[k], states[0][k], rtol=1e-6, atol=1e-9) for k in state)
               for state in states[1:])


def _same_up_to_scale(states: list[dict[str, np.ndarray]]) -> bool:
    """True if every state (name -> float64 array) equals the first up to one positive factor per tensor,
    within a relative 1e-6: one network scaled per seed, whatever the factors. Its files need not decode
    alike, nor its reloads predict alike: a weight that lies on a boundary between two codebook entries
    (k-means clusters) may take either code, and one code can move a test prediction. Different
    fine-tuning seeds change the floats far beyond 1e-6, whatever the factor."""
    def scaled(a: np.ndarray, b: np.ndarray) -> bool:  # b = c a for some c > 0, within rtol 1e-6
        norm = float(np.dot(a.ravel(), a.ravel()))
        if norm == 0.0:
            return not np.any(b)
        c = float(np.dot(a.ravel(), b.ravel())) / norm  # the least-squares factor
        return c > 0 and np.allclose(b, c * a, rtol=1e-6, atol=1e-9 * c)

    return all(state.keys() == states[0].keys()
               and all(state[k].shape == states[0][k].shape and scaled(states[0][k], state[k]) for k in state)
               for state in states[1:])


def _only_pruned(state: Mapping[str, np.ndarray], masks: Mapping[str, Any] | None) -> bool:
    """True if ``state`` is the starting model up to pruning: every stored entry (kept by ``masks``; every
    entry of a tensor without a mask) equals the starting model's or is 0."""
    start = {k: v.detach().double().numpy() for k, v in start_model_seed0().state_dict().items()}
    for name, value in state.items():
        stored = np.ones(value.shape, dtype=bool)
        if masks is not None and name in masks:
            stored = np.asarray(masks[name].detach().cpu().numpy() if hasattr(masks[name], "detach")
                                else masks[name], dtype=bool)
        same = np.isclose(value, start[name], rtol=1e-6, atol=1e-9) | (value == 0)
        if not np.all(same[stored]):
            return False
    return True


#: Exercise 4: the fine-tuning seeds the check gives the student's recipe (five: one run is one draw).
RECIPE_SEEDS = (0, 1, 2, 3, 4)


def _measure(model: object, masks: Mapping[str, Any] | None, bits: object, bias_bits: object,
             where: str) -> tuple[int, float, int, np.ndarray, dict[str, np.ndarray]]:
    """Write ``model``'s file, reload it into a scrambled float64 template and score it: (bytes, accuracy,
    the float32 file's bytes, the reload's predicted class per test image, the reload's state as float64
    arrays). NotYet for anything that is not the lesson's network or does not reload."""
    import torch

    from ..models import mlp
    from ..splits import load_digits_splits
    from ..training import accuracy

    if not isinstance(model, nn.Module):
        raise NotYet(f"{where}: the model should be your pruned network (an nn.Module); got "
                     f"{type(model).__name__}.")
    state = model.state_dict()
    # the reload is scored in float64, as the dense reference is, whatever dtype the model computes in
    template = mlp(hidden=(300, 100), seed=0).to(torch.float64)
    want = {k: tuple(v.shape) for k, v in template.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items() if torch.is_tensor(v)}
    if got != want or len(got) != len(state):
        raise NotYet(f"{where}: the exercise asks for the lesson's 64-300-100-10 network, with the "
                     f"state_dict of mlp(hidden=(300, 100)): {want}; yours has {got}. Hint: start from "
                     "`model` (or a copy of it) and compress that; a smaller network is a different "
                     "experiment.")
    float32_bytes = model_file.float32_size_bytes(template)
    # the file stores the float32-rounded weights, as every file of lesson 11 does: the codes then do not
    # depend on the last bits of float64 training, which differ between CPU vector units
    stored = model_file.float32_rounded(model)
    with tempfile.TemporaryDirectory() as tmp:
        file = os.path.join(tmp, "exercise.llc")
        try:
            n_bytes = model_file.save_compressed(stored, file, masks, bits, bias_bits=bias_bits)
        except (TypeError, ValueError, AttributeError, KeyError, RuntimeError) as exc:
            raise NotYet(f"{where}: save_compressed refused the arguments: {exc}. Hint: pass masks as the "
                         "dict of boolean tensors from pruning (or None), bits as an int.") from None
        with _scrambled(template):
            try:
                reloaded = model_file.load_compressed(file, template)
            except (ValueError, RuntimeError) as exc:
                raise NotYet(f"{where}: the file written from your model does not reload: {exc}") from None
    data = load_digits_splits(validation_size=0.2, seed=0, dtype=torch.float64)
    acc = accuracy(reloaded, data.X_test, data.y_test)  # the fixed target is judged on the test part
    reloaded.eval()
    with torch.no_grad():
        predictions = reloaded(data.X_test).argmax(dim=1).numpy()
    decoded = {k: v.detach().double().cpu().numpy().copy() for k, v in reloaded.state_dict().items()}
    return n_bytes, acc, float32_bytes, predictions, decoded


def hundredfold(
    recipe: object,
    *,
    min_ratio: object = MIN_RATIO,
    max_drop_pt: object = MAX_DROP_PT,
) -> None:
    """Exercise 4: run the student's recipe for each fine-tuning seed in :data:`RECIPE_SEEDS`, write,
    reload and measure each compressed 64-300-100-10 MLP: every file's ratio >= 100, and the mean accuracy
    drop over the seeds <= 0.5 points against seed 0's dense network.

    ``recipe(seed)`` returns ``(model, masks, bits)`` or ``(model, masks, bits, bias_bits)``, with ``seed``
    the seed of its fine-tuning (its minibatch order). A recipe is judged, not one draw of it: a single
    fine-tuning run lands a few test images either way, and picking the lucky one would tune on the test
    set. Both references are computed here, never taken from the caller: each file is reloaded into a
    fresh float64 ``mlp(hidden=(300, 100))`` (so nothing outside the ``state_dict`` survives, and the score
    does not depend on the dtype the student's model computes in), the float32 baseline is measured on
    that template, and the dense accuracy is that of seed 0's dense network trained as the lesson trains
    it (:func:`dense_accuracy_seed0`). ``min_ratio`` may be raised and ``max_drop_pt`` lowered, never the
    other way. A recipe that passes with one and the same network for every seed is refused unless that
    network is the starting model up to pruning (:func:`start_model_seed0`, rebuilt only then): it is one
    fine-tuning draw, perhaps the lucky one, returned five times. "The same network" is judged mostly on
    what the check measures, not on the floats handed in: five files that decode to the same codes and
    codebooks up to float16 rounding (:func:`_same_files`), five reloads that predict the same class
    for every test image (:func:`_same_predictions`, which also catches most copies scaled or nudged per
    seed); and on the floats: five states equal within 1e-6, or equal up to one positive factor per
    tensor (:func:`_same_up_to_scale`, for a scaled copy one of whose weights lies on a boundary between
    two codebook entries, so that its files differ in a code and its reloads in a test prediction).

    The seeds are fixed (:data:`RECIPE_SEEDS`), so that the check, and the lesson's stored output, are
    the same on every run: a mean over five fine-tuning seeds moves by tenths of a point from one set of
    seeds to another, so seeds drawn at check time could change the verdict on a recipe near the bound.
    The verdict is read on the test images against a target fixed in advance (ratio and drop); the
    student tunes the recipe on the validation images. Two ways of tuning on the test set pass and no
    check can detect them: a recipe that maps the check's seeds to seeds picked for their test score
    (fine-tune on many, keep the best five), which no check on five seeds can tell from luck; and a
    recipe that fine-tunes on the test images themselves (``data.X_test``), whose networks are as
    different per seed as honest ones. The exercise forbids both.

    A recipe that does not fine-tune (the starting model, pruned or stored otherwise) gives one network
    for every seed; it passes, reported as one network measured once, since without randomness there is
    no lucky draw to pick.
    """
    target = as_number(min_ratio, "min_ratio", "the exercise asks for a ratio of at least 100.")
    allowed = as_number(max_drop_pt, "max_drop_pt", "the exercise allows a mean drop of 0.5 points.")
    if target < MIN_RATIO:
        raise NotYet(f"min_ratio = {target:g}: the exercise asks for at least {MIN_RATIO:g}. Hint: leave "
                     "min_ratio out.")
    if allowed > MAX_DROP_PT or allowed < 0:
        raise NotYet(f"max_drop_pt = {allowed:g}: the exercise allows a mean drop of at most {MAX_DROP_PT:g} "
                     "points. Hint: leave max_drop_pt out.")
    if isinstance(recipe, nn.Module) or not callable(recipe):
        raise NotYet(f"pass your recipe, a function of the fine-tuning seed that returns (model, masks, "
                     f"bits) or (model, masks, bits, bias_bits); got {type(recipe).__name__}. Hint: one "
                     "trained network is one draw; the check runs your recipe on seeds "
                     f"{', '.join(map(str, RECIPE_SEEDS))}.")
    dense = dense_accuracy_seed0()
    rows, states, masks_seen, predictions, decoded = [], [], [], [], []
    for seed in RECIPE_SEEDS:
        where = f"seed {seed}"
        result = run_answer(recipe, seed, name="recipe_4",
                            crashed=f"your recipe fails for seed {seed}: {{type}}: {{error}}")
        if not isinstance(result, tuple | list) or len(result) not in (3, 4):
            raise NotYet(f"{where}: the recipe should return (model, masks, bits) or (model, masks, bits, "
                         f"bias_bits); got {type(result).__name__}"
                         + (f" of length {len(result)}" if isinstance(result, tuple | list) else "") + ".")
        model, masks, bits, *rest = result
        bias_bits = rest[0] if rest else None
        n_bytes, acc, float32_bytes, predicted, state = _measure(model, masks, bits, bias_bits, where)
        rows.append((seed, n_bytes, float32_bytes / n_bytes, 100 * (dense - acc), acc))
        predictions.append(predicted)
        decoded.append(state)
        states.append({k: v.detach().double().cpu().numpy() for k, v in model.state_dict().items()})
        masks_seen.append(masks)
    def signed(drop: float) -> str:  # accuracy minus dense, points; a zero difference printed as +0.00
        return f"{(-drop if abs(drop) >= 0.005 else 0.0):+.2f}"

    table = "; ".join(f"seed {seed}: {n:,} bytes, ratio {ratio:.1f}, {100 * acc:.2f} % ({signed(drop)})"
                      for seed, n, ratio, drop, acc in rows)
    low = [(seed, ratio) for seed, _, ratio, _, _ in rows if ratio < target]
    if low:
        seeds = ", ".join(str(s) for s, _ in low)
        raise NotYet(f"the ratio is below {target:g} on seed(s) {seeds} ({table}). Hint: look at the byte "
                     "budget of section 4; which part is largest? Fewer bits, quantized biases (bias_bits) "
                     "or more pruning each take bytes away.")
    mean_drop = float(np.mean([drop for _, _, _, drop, _ in rows]))
    if mean_drop > allowed + 1e-9:
        raise NotYet(f"the ratio is enough on every seed, but the reloaded networks are on average "
                     f"{mean_drop:.2f} points below the dense one ({100 * dense:.2f} %; at most {allowed:g} "
                     f"allowed): {table}. Hint: use one bit more for the weights or the biases, prune a "
                     "little less, or fine-tune longer or with a smaller learning rate.")
    same = ("the same float state" if _same_networks(states)
            else "files that decode to the same codes and codebooks" if _same_files(decoded)
            else "the same prediction for every test image" if _same_predictions(predictions)
            else "the same floats up to a scale factor per tensor" if _same_up_to_scale(states) else None)
    if same is not None and not _only_pruned(states[0], masks_seen[0]):
        raise NotYet(f"your recipe returns one and the same network for all {len(rows)} seeds ({same}), and "
                     "it is not seed 0's 97 % model (up to pruned, zeroed entries): it was trained once, so "
                     f"the five results are one draw, not five ({table}). Hint: fine-tune inside the recipe, "
                     "with `seed` as the minibatch seed, starting from a copy of `model`; or, if the recipe "
                     "does not fine-tune, start from `model` itself. Scaling or nudging one network per seed "
                     "does not make it five draws.")
    gap = (f"{abs(mean_drop):.2f} points below dense" if mean_drop >= 0.005
           else f"{-mean_drop:.2f} points above dense" if mean_drop <= -0.005 else "as accurate as dense")
    if same is not None:  # the starting model up to pruning: no fine-tuning, nothing random, one network
        n, ratio, acc = rows[0][1], rows[0][2], rows[0][4]
        passed(f"your recipe does not depend on the seed: one network, measured once (seeds "
               f"{', '.join(map(str, RECIPE_SEEDS))} all give it): {n:,} bytes, ratio {ratio:.1f} (at least "
               f"{target:g}), {100 * acc:.2f} % against the dense {100 * dense:.2f} % "
               f"({signed(rows[0][3])} points).")
        return
    passed(f"on fine-tuning seeds {', '.join(map(str, RECIPE_SEEDS))}, every file is at least {target:g} "
           f"times smaller than the float32 one, and the reloaded networks are on average {gap} "
           f"({100 * dense:.2f} %): {table}.")


def _encoded(encoder: Callable, positions: list[int]) -> bytes:
    """What a student's encoder writes for ``positions``, as bytes."""
    return bytes(encoder(positions))


def _int_list(got: object) -> list[int]:
    """The decoder's answer as a list of ints, or NotYet if it is not a flat sequence of integers
    (a list or tuple of ints, or a 1-D integer NumPy array or torch tensor)."""
    if hasattr(got, "detach") and hasattr(got, "numpy"):  # a torch tensor
        got = got.detach().cpu().numpy()
    if isinstance(got, Mapping) or not isinstance(got, list | tuple | np.ndarray):
        raise NotYet(f"return the positions as a list of ints; got {type(got).__name__}.")
    if isinstance(got, np.ndarray) and got.ndim != 1:
        raise NotYet(f"return the positions as a flat list of ints; got an array of shape {got.shape}.")
    for p in got:
        if isinstance(p, bool | np.bool_) or not isinstance(p, int | np.integer):
            raise NotYet(f"return the positions as a list of ints; one entry is {p!r} "
                         f"({type(p).__name__}).")
    return [int(p) for p in got]


class _scrambled:
    """Fill a template's parameters with noise, so that nothing survives from it into the reload."""

    def __init__(self, template: nn.Module) -> None:
        self.template = template

    def __enter__(self) -> nn.Module:
        import torch

        gen = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for p in self.template.parameters():
                p.copy_(torch.randn(p.shape, generator=gen))
        return self.template

    def __exit__(self, *exc: object) -> None:
        return None
