"""Self-checks for lesson 08, the compression pipeline.

The checks name the usual slips: 8 bytes per float, bit-packed codes where the format
stores a byte per code, a float32 codebook, and positions decoded with an off-by-one.
The last exercise is checked by writing the student's file and reloading it, so the
size and accuracy are measured, not taken on trust.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from torch import nn

from .. import compression
from . import NotYet, as_number, number, passed

# blocks of 256 per tensor of the 64-300-100-10 MLP (weights and biases)
_blocks = sum(-(-size // 256) for size in (64 * 300, 300, 300 * 100, 100, 100 * 10, 10))


def _whole_bytes(answer: object, what: str, hint: str) -> None:
    """NotYet unless the answer is a whole number (a byte count)."""
    value = as_number(answer, what, hint)
    if not float(value).is_integer():
        raise NotYet(f"{value!r} is not {what}: a byte count is a whole number. Hint: {hint}")


def momentum_bytes(answer: object) -> None:
    """Exercise 1: float32 momentum for 50,610 parameters = 202,440 bytes."""
    n = 50_610
    _whole_bytes(answer, "the bytes of the float32 momentum buffer",
                 "one buffer entry per parameter, 4 bytes per float32.")
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
        },
    )


def layer_bytes(answer: object) -> None:
    """Exercise 2: 1,000 kept weights, gaps < 255, 5-bit codebook: 1000 + 1000 + 64 = 2,064 bytes."""
    _whole_bytes(answer, "the bytes before compression",
                 "one gap byte and one code byte per kept weight, plus the float16 codebook.")
    number(
        answer, 2064.0, what="the bytes before compression",
        hint="one gap byte per kept weight (no escapes needed), one code byte per kept weight, and "
             "2^5 codebook values of 2 bytes each (float16).",
        rtol=0.0,
        mistakes={
            "bit_packed": (1000 + 1000 * 5 / 8 + 64,
                           "the format stores each code in a whole byte; packing to about 5 bits is what "
                           "the compressor (zlib or LZMA) achieves later."),
            "float32_book": (2000.0 + 32 * 4, "the codebook is stored as float16, 2 bytes per value."),
            "no_book": (2000.0, "the codebook must be stored too, or the codes cannot be decoded."),
            "no_index": (1064.0, "the positions must be stored too: without them the kept weights "
                                 "cannot be put back in place."),
            "levels": (2000.0 + 5 * 2, "a 5-bit codebook has 2^5 = 32 values, not 5."),
            "all_bit_packed": (1000 * 5 / 8 + 1000 * 5 / 8 + 64,
                               "that packs both the gaps and the codes to 5 bits; the format stores one byte "
                               "per gap and one byte per code (bit packing is left to the compressor)."),
            "byte_book": (2000.0 + 32, "each codebook value is a float16, 2 bytes, not 1."),
        },
    )


def positions_from_gaps(candidate: Callable[[bytes], object], encoder: object = None) -> None:
    """Exercise 3: decoding relative indices must invert the course's encoder, long gaps included.

    The cases are encoded here with the library's own encoder (:func:`compression._gaps`, the bytes
    that :func:`compression.save_compressed` writes), never with a function the caller passes: a
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
        data = compression._gaps(np.asarray(positions, dtype=np.int64))
        if encoder is not None:
            try:
                theirs = bytes(encoder(positions))
            except NotImplementedError:
                raise
            except Exception as exc:  # any failure of the student's code is feedback
                raise NotYet(f"the encoder you passed fails on {positions}: {type(exc).__name__}: {exc}. "
                             "Hint: pass the lesson's relative_indices, or leave the encoder out.") from None
            if theirs != data:
                raise NotYet(f"the encoder you passed writes {list(theirs)} for {positions}; the course's "
                             f"format is {list(data)}. Hint: the check decodes the format of section 4; pass "
                             "the lesson's relative_indices, or leave the encoder out.")
        try:
            got = candidate(bytes(data))
        except NotImplementedError:  # a student copy's stub: let it stop the notebook
            raise
        except Exception as exc:  # any failure of the student's code is feedback
            raise NotYet(f"your function fails on the bytes {list(data)} (the positions {positions}): "
                         f"{type(exc).__name__}: {exc}. Hint: read the bytes one by one; a byte 255 "
                         "adds 255 zeros and no weight, any other byte g adds g zeros and then one "
                         "weight.") from None
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
def dense_accuracy_seed0() -> float:
    """Test accuracy of lesson 08's seed-0 dense network, trained here as the lesson trains it:
    64-300-100-10, float64, 20 epochs of SGD with lr 0.1 and momentum 0.9 in batches of 64 shuffled
    by seed 0."""
    import torch

    from ..data import load_digits_split
    from ..models import mlp
    from ..training import accuracy, train

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        data = load_digits_split(seed=0)
        net = mlp(hidden=(300, 100), seed=0)
        train(net, data, epochs=20, lr=0.1, momentum=0.9, batch_size=64, seed=0, progress=False)
        return accuracy(net, data.X_test, data.y_test)
    finally:
        torch.set_default_dtype(before)


def hundredfold(
    model: object,
    masks: Mapping[str, Any] | None,
    bits: int,
    bias_bits: int | None = None,
    *,
    dense_accuracy: object = None,
    float32_bytes: object = None,
    min_ratio: object = MIN_RATIO,
    max_drop_pt: object = MAX_DROP_PT,
) -> None:
    """Exercise 4: write, reload and measure a compressed 64-300-100-10 MLP: ratio >= 100 and an accuracy
    drop <= 0.5 points against seed 0's dense network.

    Both references are computed here, never taken from the caller: the file is reloaded into a
    fresh float64 ``mlp(hidden=(300, 100))`` (so nothing outside the ``state_dict`` survives, and the
    score does not depend on the dtype the student's model computes in), the float32
    baseline is measured on that template, and the dense accuracy is that of seed 0's dense network
    trained as the lesson trains it (:func:`dense_accuracy_seed0`). ``dense_accuracy`` and
    ``float32_bytes`` are accepted for older calls and ignored; ``min_ratio`` may be raised and
    ``max_drop_pt`` lowered, never the other way.
    """
    import torch

    from ..data import load_digits_split
    from ..models import mlp
    from ..training import accuracy

    del dense_accuracy, float32_bytes  # the references are computed below
    target = as_number(min_ratio, "min_ratio", "the exercise asks for a ratio of at least 100.")
    allowed = as_number(max_drop_pt, "max_drop_pt", "the exercise allows a drop of 0.5 points.")
    if target < MIN_RATIO:
        raise NotYet(f"min_ratio = {target:g}: the exercise asks for at least {MIN_RATIO:g}. Hint: leave "
                     "min_ratio out.")
    if allowed > MAX_DROP_PT or allowed < 0:
        raise NotYet(f"max_drop_pt = {allowed:g}: the exercise allows a drop of at most {MAX_DROP_PT:g} "
                     "points. Hint: leave max_drop_pt out.")
    if not isinstance(model, nn.Module):
        raise NotYet(f"pass your pruned model (an nn.Module); got {type(model).__name__}.")
    state = model.state_dict()
    # the reload is scored in float64, as the dense reference is, whatever dtype the model computes in
    template = mlp(hidden=(300, 100), seed=0).to(torch.float64)
    want = {k: tuple(v.shape) for k, v in template.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items() if torch.is_tensor(v)}
    if got != want or len(got) != len(state):
        raise NotYet("the exercise asks for the lesson's 64-300-100-10 network, with the state_dict of "
                     f"mlp(hidden=(300, 100)): {want}; yours has {got}. Hint: start from `model` (or a "
                     "copy of it) and compress that; a smaller network is a different experiment.")
    float32_bytes = compression.float32_size_bytes(template)
    with tempfile.TemporaryDirectory() as tmp:
        file = os.path.join(tmp, "exercise.llc")
        try:
            n_bytes = compression.save_compressed(model, file, masks, bits, bias_bits=bias_bits)
        except (TypeError, ValueError, AttributeError, KeyError, RuntimeError) as exc:
            raise NotYet(f"save_compressed refused the arguments: {exc}. Hint: pass masks as the dict "
                         "of boolean tensors from pruning (or None), bits as an int.") from None
        with _scrambled(template):
            try:
                reloaded = compression.load_compressed(file, template)
            except (ValueError, RuntimeError) as exc:
                raise NotYet(f"the file written from your model does not reload: {exc}") from None
    data = load_digits_split(seed=0, dtype=torch.float64)
    acc = accuracy(reloaded, data.X_test, data.y_test)
    dense = dense_accuracy_seed0()
    ratio = float32_bytes / n_bytes
    drop = 100 * (dense - acc)
    if ratio < target:
        raise NotYet(f"the file has {n_bytes:,} bytes: ratio {ratio:.1f}, below {target:g}. Hint: look "
                     "at the byte budget of section 4; which part is largest? Fewer bits, quantized "
                     "biases (bias_bits) or more pruning each take bytes away.")
    if drop > allowed + 1e-9:
        raise NotYet(f"ratio {ratio:.1f} is enough, but the reloaded network's accuracy is "
                     f"{100 * acc:.2f} %, {drop:.2f} points below the dense one ({100 * dense:.2f} %; at "
                     f"most {allowed:g} allowed). Hint: use one bit more for the weights or the biases, or "
                     "fine-tune longer after pruning.")
    gap = f"{drop:.2f} points below dense" if drop >= 0 else f"{-drop:.2f} points above dense"
    passed(f"{n_bytes:,} bytes on disk, ratio {ratio:.1f} (against the {float32_bytes:,}-byte float32 file); "
           f"the reloaded network scores {100 * acc:.2f} % ({gap}, {100 * dense:.2f} %).")


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
