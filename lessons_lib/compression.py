"""Store a pruned, quantized model in a small file and load it back.

The format follows Deep Compression (Han, Mao and Dally, ICLR 2016): for every
weight tensor only the kept entries are stored, as

* their positions, as *relative indices*: the number of zeros skipped before each
  kept entry (row-major order), one byte each; a gap of 255 or more is written as
  ``255, 255, ..., rest`` (a byte 255 means "255 more zeros, and continue");
* a ``bits``-bit code per kept entry (one byte each before compression) indexing a
  per-tensor codebook of ``2^bits`` float16 values: the centroids of a 1-D k-means
  on the kept weights ("weight sharing", ``method="kmeans"``) or a uniform affine
  grid (``method="linear"``).

Biases (and any tensor of one dimension) are stored as float16 by default, or
through the same codebook path with ``bias_bits``. Tensors are stored in
``state_dict`` order, each with its name and shape.

The file is ``b"LLC1"``, one codec byte and the body compressed by zlib or LZMA
(the smaller one; DEFLATE's Huffman stage plays the role of Deep Compression's
Huffman coding). Its size on disk is the honest size: indices, codebooks, names
and shapes included.

:func:`quantize_pruned` gives the model whose weights are exactly those a saved
file reloads to, so ``load_compressed(save...)`` equals it bit for bit.
"""

from __future__ import annotations

import copy
import io
import lzma
import os
import tempfile
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lessons_lib import _validate

__all__ = [
    "CompressedTensor",
    "RawTensor",
    "kmeans_1d",
    "share_weights",
    "compress_state",
    "quantize_pruned",
    "encode",
    "decode",
    "save_compressed",
    "load_compressed",
    "float32_size_bytes",
    "remove_dead_units",
    "CompressionResult",
    "compression_experiment",
]

MAGIC = b"LLC1"
METHODS = ("kmeans", "linear")
_CODECS = {1: "zlib", 2: "lzma"}
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]


def _lzma_filters_for(size: int) -> list[dict]:
    """LZMA2 at preset 9-extreme with a dictionary just large enough for ``size`` bytes.

    A dictionary at least as long as the input gives the encoder the same matches as preset 9's
    64 MiB one, so a raw stream is byte for byte the same (tested), and far quicker to write:
    the big dictionary's set-up dominates for these kilobyte files. The decoder keeps
    :data:`_LZMA_FILTERS` (its dictionary covers every distance a smaller one can produce).
    """
    dict_size = min(1 << 26, max(1 << 12, 1 << max(size - 1, 1).bit_length()))
    return [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": dict_size}]


# ----------------------------------------------------------------------------- storage units


@dataclass(frozen=True)
class CompressedTensor:
    """One weight tensor as positions, codes and a codebook.

    shape : the tensor's shape
    positions : int64 (m,), sorted row-major flat indices of the stored entries
    codes : uint8 (m,), index into ``codebook`` of each stored entry
    codebook : float16 (2^bits,), the shared values

    The tensor is ``codebook[codes]`` at ``positions`` and 0 elsewhere.
    """

    shape: tuple[int, ...]
    positions: np.ndarray
    codes: np.ndarray
    codebook: np.ndarray

    @property
    def bits(self) -> int:
        return int(np.log2(self.codebook.size))

    def dense(self) -> np.ndarray:
        """The float32 array this unit stands for, of shape ``shape``."""
        out = np.zeros(int(np.prod(self.shape)), dtype=np.float32)
        out[self.positions] = self.codebook.astype(np.float32)[self.codes]
        return out.reshape(self.shape)


@dataclass(frozen=True)
class RawTensor:
    """A tensor stored entry by entry (float16, float32 or int64 values)."""

    shape: tuple[int, ...]
    values: np.ndarray

    def dense(self) -> np.ndarray:
        return self.values.reshape(self.shape)


# ----------------------------------------------------------------------------- quantizers


def kmeans_1d(values: Any, k: int, iters: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means on a 1-D sample with linear initialisation.

    Centroids start evenly spaced between ``min`` and ``max`` (the initialisation
    Deep Compression found best: it keeps a few large weights represented). Each
    iteration assigns each value to its nearest centroid and moves every non-empty
    cluster's centroid to its mean. A cluster left empty (after pruning there are
    no small weights, so the centroids near 0 start empty) is moved onto the value
    worst served by its centroid, so all ``k`` codes get used. Stops when no
    assignment changes or after ``iters`` iterations. Deterministic.

    Returns ``(centroids (k,), labels (n,))`` with ``labels`` int64 in ``[0, k)``.
    """
    x = _validate.finite(values, "values").ravel()
    k = _validate.integer(k, "k", 1, 256)
    iters = _validate.integer(iters, "iters", 0, None)
    # The values never move: sort them once, and each assignment is a search of the k - 1
    # midpoints among the sorted values (the same labels as _nearest, in O(k log n + n)).
    x_order = np.argsort(x, kind="stable")
    x_sorted = x[x_order]

    def assign(centroids: np.ndarray) -> np.ndarray:
        order = np.argsort(centroids, kind="stable")
        c = centroids[order]
        mids = (c[1:] + c[:-1]) / 2  # non-decreasing, as c is
        # values <= mids[j] and > mids[j-1] go to the j-th smallest centroid (ties: the lower one)
        counts = np.diff(np.searchsorted(x_sorted, mids, side="right"), prepend=0, append=x.size)
        labels = np.empty(x.size, dtype=np.int64)
        labels[x_order] = np.repeat(order.astype(np.int64), counts)
        return labels

    centroids = np.linspace(x.min(), x.max(), k)
    labels = assign(centroids)
    for _ in range(iters):
        counts = np.bincount(labels, minlength=k)
        sums = np.bincount(labels, weights=x, minlength=k)
        nonempty = counts > 0
        centroids = centroids.copy()
        centroids[nonempty] = sums[nonempty] / counts[nonempty]
        empty = np.flatnonzero(~nonempty)
        if empty.size:
            err = (x - centroids[labels]) ** 2
            worst = np.argsort(-err, kind="stable")[: empty.size]
            worst = worst[err[worst] > 0]
            centroids[empty[: worst.size]] = x[worst]
        new = assign(centroids)
        if np.array_equal(new, labels):
            break
        labels = new
    return centroids, labels


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid for each value (ties: the lower index)."""
    order = np.argsort(centroids, kind="stable")
    c = centroids[order]
    mids = (c[1:] + c[:-1]) / 2
    return order[np.searchsorted(mids, x, side="left")].astype(np.int64)


def _check_bits(bits: object, name: str = "bits") -> int:
    return _validate.integer(bits, name, 2, 8)


def share_weights(w: Any, keep: Any | None, bits: int, method: str = "kmeans") -> CompressedTensor:
    """Codebook quantization of the kept entries of one tensor.

    Parameters
    ----------
    w : array/tensor, finite, any shape
    keep : boolean keep-mask of ``w``'s shape, or None to keep every nonzero entry
    bits : int in [2, 8], codebook of ``2^bits`` values
    method : ``"kmeans"`` (shared weights) or ``"linear"`` (uniform affine grid)

    Each kept entry becomes the codebook value (as float16) nearest to it (k-means:
    the centroid of its cluster).
    """
    if isinstance(w, torch.Tensor):
        w = w.detach().cpu().to(torch.float64).numpy()
    arr = _validate.finite(w, "w")
    bits = _check_bits(bits)
    method = _validate.one_of(method, "method", METHODS)
    if keep is None:
        keep_arr = arr != 0
    else:
        keep_arr = keep.detach().cpu().numpy() if isinstance(keep, torch.Tensor) else np.asarray(keep)
        if keep_arr.shape != arr.shape:
            raise ValueError(f"keep must have the shape of w {arr.shape}; got {keep_arr.shape}")
        keep_arr = keep_arr.astype(bool)
    positions = np.flatnonzero(keep_arr.ravel()).astype(np.int64)
    values = arr.ravel()[positions]
    k = 2**bits
    if values.size == 0:
        codebook = np.zeros(k)
    elif method == "kmeans":
        codebook, _ = kmeans_1d(values, k)
    else:
        lo, hi = min(values.min(), 0.0), max(values.max(), 0.0)
        step = (hi - lo) / (k - 1) if hi > lo else 1.0
        zero_point = np.round(-lo / step)
        codebook = (np.arange(k) - zero_point) * step
    codebook16 = codebook.astype(np.float16)
    codes = _nearest(values, codebook16.astype(np.float64)).astype(np.uint8)
    return CompressedTensor(tuple(arr.shape), positions, codes, codebook16)


# ----------------------------------------------------------------------------- model level


def _check_model(model: object, name: str = "model") -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module; got {type(model).__name__}")
    return model


def _check_masks(model: nn.Module, masks: Mapping[str, Any] | None) -> dict[str, Any]:
    if masks is None:
        return {}
    if not isinstance(masks, Mapping):
        raise TypeError(f"masks must be a dict of name -> keep-mask; got {type(masks).__name__}")
    state = model.state_dict()
    for name, mask in masks.items():
        if name not in state:
            raise ValueError(f"masks has an unknown name {name!r}; known names are {list(state)}")
        if tuple(mask.shape) != tuple(state[name].shape):
            raise ValueError(
                f"masks[{name!r}] must have shape {tuple(state[name].shape)}; got {tuple(mask.shape)}"
            )
    return dict(masks)


def compress_state(
    model: nn.Module,
    masks: Mapping[str, Any] | None = None,
    bits: int = 4,
    *,
    bias_bits: int | None = None,
    method: str = "kmeans",
) -> dict[str, CompressedTensor | RawTensor]:
    """The storage units of every ``state_dict`` entry, in ``state_dict`` order.

    Floating tensors with two or more dimensions go through :func:`share_weights`
    with ``bits`` (kept entries: the mask's True entries if ``masks`` names the
    tensor, else its nonzero entries). One-dimensional floating tensors (biases) are
    float16, or shared weights with ``bias_bits`` if given. Other tensors are raw.
    """
    model = _check_model(model)
    masks = _check_masks(model, masks)
    bits = _check_bits(bits)
    if bias_bits is not None:
        bias_bits = _check_bits(bias_bits, "bias_bits")
    method = _validate.one_of(method, "method", METHODS)
    units: dict[str, CompressedTensor | RawTensor] = {}
    for name, t in model.state_dict().items():
        t = t.detach().cpu()
        if t.is_floating_point() and t.dim() >= 2:
            units[name] = share_weights(t, masks.get(name), bits, method)
        elif t.is_floating_point() and bias_bits is not None and t.numel() > 0:
            units[name] = share_weights(t, masks.get(name), bias_bits, method)
        elif t.is_floating_point():
            vals = t.numpy().astype(np.float16)
            if name in masks:
                vals = vals * _np_mask(masks[name])
            units[name] = RawTensor(tuple(t.shape), vals.ravel())
        else:
            units[name] = RawTensor(tuple(t.shape), t.numpy().astype(np.int64).ravel())
    return units


def _np_mask(mask: Any) -> np.ndarray:
    return (mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)).astype(bool)


def _load_units(template: nn.Module, units: Mapping[str, CompressedTensor | RawTensor]) -> nn.Module:
    """A deep copy of ``template`` holding the values of ``units``."""
    model = copy.deepcopy(template)
    state = model.state_dict()
    if list(units) != list(state):
        raise ValueError(f"model_template must have the state_dict entries {list(units)}; got {list(state)}")
    new_state = {}
    for name, unit in units.items():
        if tuple(unit.shape) != tuple(state[name].shape):
            raise ValueError(
                f"model_template entry {name!r} must have shape {unit.shape}; got {tuple(state[name].shape)}"
            )
        new_state[name] = torch.from_numpy(np.array(unit.dense())).to(state[name].dtype)
    model.load_state_dict(new_state)
    return model


def quantize_pruned(
    model: nn.Module,
    masks: Mapping[str, Any] | None = None,
    bits: int = 4,
    *,
    bias_bits: int | None = None,
    method: str = "kmeans",
) -> nn.Module:
    """A copy of ``model`` with exactly the weights :func:`save_compressed` stores."""
    units = compress_state(model, masks, bits, bias_bits=bias_bits, method=method)
    return _load_units(model, units)


# ----------------------------------------------------------------------------- byte format


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: io.BytesIO) -> int:
    shift = result = 0
    while True:
        (byte,) = buf.read(1)
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result
        shift += 7


def _gaps(positions: np.ndarray) -> bytes:
    """Zeros skipped before each position, as bytes with 255 meaning "255 more"."""
    gaps = np.diff(np.concatenate([[-1], positions])) - 1
    full, rest = np.divmod(gaps, 255)
    out = np.full(int(full.sum() + gaps.size), 255, dtype=np.uint8)
    ends = np.cumsum(full + 1) - 1
    out[ends] = rest
    return out.tobytes()


def _positions(data: bytes, count: int) -> np.ndarray:
    raw = np.frombuffer(data, dtype=np.uint8).astype(np.int64)
    ends = np.flatnonzero(raw != 255)[:count]
    if ends.size != count:
        raise ValueError("file is corrupt: too few relative indices")
    # Each kept entry advances by (its gap + 1); a 255 byte adds 255 without an entry.
    steps = raw[: (ends[-1] + 1 if count else 0)]
    cum = np.cumsum(np.where(steps == 255, 255, steps + 1))
    return cum[ends] - 1


_KIND_SHARED, _KIND_F16, _KIND_F32, _KIND_I64 = 0, 1, 2, 3
_RAW_KINDS = {np.dtype(np.float16): _KIND_F16, np.dtype(np.float32): _KIND_F32, np.dtype(np.int64): _KIND_I64}
_KIND_DTYPES = {v: k for k, v in _RAW_KINDS.items()}


def encode(units: Mapping[str, CompressedTensor | RawTensor]) -> bytes:
    """The file bytes for some storage units (see the module docstring for the layout).

    Body: per tensor its name, shape and kind (then bits, count and float16
    codebook for shared tensors); then every tensor's relative-index bytes, then
    every tensor's code bytes, then the raw tensors' bytes. The body is compressed
    with zlib and LZMA and the smaller result kept.
    """
    head, gaps, codes, raw = bytearray(), bytearray(), bytearray(), bytearray()
    head += _varint(len(units))
    for name, unit in units.items():
        key = name.encode()
        head += _varint(len(key)) + key + _varint(len(unit.shape))
        for d in unit.shape:
            head += _varint(d)
        if isinstance(unit, CompressedTensor):
            head += bytes([_KIND_SHARED, unit.bits]) + _varint(unit.positions.size)
            head += unit.codebook.astype("<f2").tobytes()
            gaps += _gaps(unit.positions)
            codes += unit.codes.astype(np.uint8).tobytes()
        else:
            kind = _RAW_KINDS[unit.values.dtype]
            head += bytes([kind])
            raw += unit.values.astype(unit.values.dtype.newbyteorder("<")).tobytes()
    body = bytes(head + gaps + codes + raw)
    packed = {
        1: zlib.compress(body, 9),
        2: lzma.compress(body, format=lzma.FORMAT_RAW, filters=_lzma_filters_for(len(body))),
    }
    codec = min(packed, key=lambda c: len(packed[c]))
    return MAGIC + bytes([codec]) + packed[codec]


def decode(data: bytes) -> dict[str, CompressedTensor | RawTensor]:
    """Storage units from file bytes written by :func:`encode`; ``ValueError`` if corrupt."""
    if data[:4] != MAGIC or len(data) < 5 or data[4] not in _CODECS:
        raise ValueError("data must start with the LLC1 header of a compressed model file")
    try:
        return _decode_body(data)
    except (IndexError, KeyError, UnicodeDecodeError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise ValueError(f"data must be a complete compressed model file; it is corrupt ({exc})") from None


def _decode_body(data: bytes) -> dict[str, CompressedTensor | RawTensor]:
    if data[4] == 1:
        body = zlib.decompress(data[5:])
    else:
        body = lzma.decompress(data[5:], format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
    buf = io.BytesIO(body)
    specs = []
    for _ in range(_read_varint(buf)):
        name = buf.read(_read_varint(buf)).decode()
        shape = tuple(_read_varint(buf) for _ in range(_read_varint(buf)))
        kind = buf.read(1)[0]
        if kind == _KIND_SHARED:
            bits = buf.read(1)[0]
            count = _read_varint(buf)
            codebook = np.frombuffer(buf.read(2 * 2**bits), dtype="<f2").astype(np.float16)
            specs.append((name, shape, kind, count, codebook))
        else:
            specs.append((name, shape, kind, None, None))
    rest = buf.read()
    # Relative indices: one non-255 byte ends each entry, so walk tensor by tensor.
    offset, positions = 0, {}
    raw_bytes = np.frombuffer(rest, dtype=np.uint8)
    for name, _shape, kind, count, _ in specs:
        if kind != _KIND_SHARED:
            continue
        ends = np.flatnonzero(raw_bytes[offset:] != 255)
        length = int(ends[count - 1]) + 1 if count else 0
        positions[name] = _positions(rest[offset : offset + length], count)
        offset += length
    units: dict[str, CompressedTensor | RawTensor] = {}
    for name, shape, kind, count, codebook in specs:
        if kind == _KIND_SHARED:
            codes = np.frombuffer(rest[offset : offset + count], dtype=np.uint8).copy()
            offset += count
            units[name] = CompressedTensor(shape, positions[name], codes, codebook)
    for name, shape, kind, _, _ in specs:
        if kind != _KIND_SHARED:
            dtype = _KIND_DTYPES[kind]
            n = int(np.prod(shape)) * dtype.itemsize
            values = np.frombuffer(rest[offset : offset + n], dtype=dtype.newbyteorder("<"))
            offset += n
            units[name] = RawTensor(shape, values.astype(dtype))
    if offset != len(rest):
        raise ValueError("data has trailing bytes; the file is corrupt")
    return {name: units[name] for name, *_ in specs}


def save_compressed(
    model: nn.Module,
    path: str | os.PathLike,
    masks: Mapping[str, Any] | None = None,
    bits: int = 4,
    *,
    bias_bits: int | None = None,
    method: str = "kmeans",
) -> int:
    """Write ``model`` pruned by ``masks`` and quantized to ``bits`` to ``path``.

    Returns the number of bytes written (the file's size).
    """
    units = compress_state(model, masks, bits, bias_bits=bias_bits, method=method)
    data = encode(units)
    with open(path, "wb") as fh:
        fh.write(data)
    return len(data)


def load_compressed(path: str | os.PathLike, model_template: nn.Module) -> nn.Module:
    """A copy of ``model_template`` holding the weights stored at ``path``.

    The template supplies the architecture; its ``state_dict`` names and shapes must
    match the file's (else ``ValueError``).
    """
    _check_model(model_template, "model_template")
    with open(path, "rb") as fh:
        data = fh.read()
    return _load_units(model_template, decode(data))


def float32_size_bytes(model: nn.Module) -> int:
    """Bytes of the model's ``state_dict`` in float32, saved by ``torch.save`` (the baseline).

    Floating tensors are stored as float32 whatever dtype the model computes in (the
    lessons train in float64 so that their numbers do not depend on the CPU; a model
    ships in float32).
    """
    _check_model(model)
    state = model.state_dict()
    metadata = getattr(state, "_metadata", None)  # saved too, as torch.save(model.state_dict()) does
    state = type(state)((k, v.to(torch.float32) if v.is_floating_point() else v) for k, v in state.items())
    if metadata is not None:
        state._metadata = metadata
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.pt")
        torch.save(state, path)
        return os.path.getsize(path)


# ----------------------------------------------------------------------------- pipeline


def remove_dead_units(model: nn.Sequential, masks: Mapping[str, Any]) -> dict[str, Any]:
    """Prune what no longer matters in an MLP ``Linear -> ReLU -> ... -> Linear``.

    A hidden unit whose outgoing weights are all pruned cannot affect the output:
    its incoming row and its bias are pruned too (set to zero here, and the row
    dropped from the returned masks). Exact: the model's outputs do not change.
    Returns the updated masks (torch bool tensors); changes ``model`` in place.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential MLP; got {type(model).__name__}")
    masks = _check_masks(model, masks)
    linears = [(i, m) for i, m in enumerate(model) if isinstance(m, nn.Linear)]
    new = {
        k: (v.clone() if isinstance(v, torch.Tensor) else torch.from_numpy(_np_mask(v)))
        for k, v in masks.items()
    }
    with torch.no_grad():
        for (i, layer), (j, nxt) in zip(linears[-2::-1], linears[:0:-1], strict=True):
            out_mask = new.get(f"{j}.weight", nxt.weight != 0)
            dead = ~(out_mask & (nxt.weight != 0)).any(dim=0)
            name = f"{i}.weight"
            keep = new.get(name, torch.ones_like(layer.weight, dtype=torch.bool))
            keep = keep & ~dead[:, None]
            new[name] = keep
            layer.weight.mul_(keep)
            if layer.bias is not None:
                layer.bias.masked_fill_(dead, 0.0)
    return new


@dataclass(frozen=True)
class CompressionResult:
    """Numbers of one run of :func:`compression_experiment` (accuracies in [0, 1])."""

    dense_accuracy: float
    pruned_accuracy: float
    compressed_accuracy: float
    float32_bytes: int
    compressed_bytes: int
    sparsity: float
    bits: int
    seconds: float

    @property
    def ratio(self) -> float:
        return self.float32_bytes / self.compressed_bytes

    @property
    def accuracy_drop(self) -> float:
        """Dense minus compressed accuracy, in percentage points."""
        return 100.0 * (self.dense_accuracy - self.compressed_accuracy)


def compression_experiment(
    seed: int = 0,
    progress: bool = False,
    *,
    hidden: tuple[int, ...] = (300, 100),
    schedule: tuple[float, ...] = (0.5, 0.75, 0.875, 0.94, 0.96),
    bits: int = 5,
    dense_epochs: int = 30,
    finetune_epochs: int = 10,
    bias_bits: int | None = None,
    distill: bool = True,
    path: str | os.PathLike | None = None,
) -> CompressionResult:
    """Prune, fine-tune, quantize and store a digits MLP; report sizes and accuracies.

    1. train a dense MLP ``64 -> hidden -> 10`` (LeNet-300-100's shape by default)
       with SGD and momentum;
    2. for each sparsity in ``schedule``: global magnitude pruning of the weight
       matrices, then fine-tuning with :class:`~lessons_lib.pruning.MaskedSGD`,
       distilling from the dense model (``distill=True``; alpha 0.9, T = 4);
    3. drop dead hidden units, k-means weight sharing with ``bits`` per weight;
    4. save the compressed file, load it back into a fresh model and measure it.
    """
    from lessons_lib.data import load_digits_split
    from lessons_lib.models import mlp
    from lessons_lib.pruning import global_magnitude_masks, prunable_weights
    from lessons_lib.training import accuracy, train

    seed = _validate.integer(seed, "seed", 0, 2**32 - 1)
    bits = _check_bits(bits)
    for s in schedule:
        _validate.in_range(s, "schedule", 0.0, 1.0, high_open=True)
    start = time.perf_counter()
    data = load_digits_split(seed=seed)
    model = mlp(hidden, seed=seed)
    kw = dict(lr=0.05, momentum=0.9, batch_size=32, progress=progress, evaluate=())
    train(model, data, epochs=dense_epochs, seed=seed, desc="dense", **kw)
    dense_acc = accuracy(model, data.X_test, data.y_test)
    f32 = float32_size_bytes(model)

    teacher = copy.deepcopy(model)
    masks: dict[str, Any] = {}
    for r, s in enumerate(schedule):
        masks = global_magnitude_masks(prunable_weights(model), s)
        train(
            model,
            data,
            epochs=finetune_epochs,
            seed=seed + 1 + r,
            masks=masks,
            teacher=teacher if distill else None,
            desc=f"prune {s:.3f}",
            **kw,
        )
    masks = remove_dead_units(model, masks)
    pruned_acc = accuracy(model, data.X_test, data.y_test)

    with tempfile.TemporaryDirectory() as tmp:
        file = path if path is not None else os.path.join(tmp, "model.llc")
        n_bytes = save_compressed(model, file, masks, bits, bias_bits=bias_bits)
        reloaded = load_compressed(file, mlp(hidden))
    comp_acc = accuracy(reloaded, data.X_test, data.y_test)
    kept = sum(int(m.sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    return CompressionResult(
        dense_accuracy=dense_acc,
        pruned_accuracy=pruned_acc,
        compressed_accuracy=comp_acc,
        float32_bytes=f32,
        compressed_bytes=n_bytes,
        sparsity=1.0 - kept / total,
        bits=bits,
        seconds=time.perf_counter() - start,
    )
