"""The compressed model file: storage units as bytes on disk, and back.

The format follows Deep Compression (Han, Mao and Dally, ICLR 2016): for every
weight tensor only the kept entries are stored, as

* their positions, as *relative indices*: the number of zeros skipped before each
  kept entry (row-major order), one byte each; a gap of 255 or more is written as
  ``255, 255, ..., rest`` (a byte 255 means "255 more zeros, and continue");
* a ``bits``-bit code per kept entry (one byte each before compression) indexing a
  per-tensor codebook of ``2^bits`` float16 values (:mod:`lessons_lib.weight_sharing`).

Biases (and any tensor of one dimension) are stored as float16 by default, or
through the same codebook path with ``bias_bits``. Tensors are stored in
``state_dict`` order, each with its name and shape.

The file is ``b"LLC1"``, one codec byte and the body compressed by zlib or LZMA
(the smaller one; DEFLATE's Huffman stage plays the role of Deep Compression's
Huffman coding). Its size on disk is the honest size: indices, codebooks, names
and shapes included. :func:`float32_size_bytes` is the baseline it is compared with:
the ``torch.save`` file of the model's ``state_dict`` in float32.
"""

from __future__ import annotations

import copy
import io
import lzma
import os
import tempfile
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from lessons_lib.weight_sharing import CompressedTensor, RawTensor, _check_model, _load_units, compress_state

__all__ = ["encode", "decode", "save_compressed", "load_compressed", "float32_size_bytes", "float32_rounded"]

MAGIC = b"LLC1"
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


def float32_rounded(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every floating parameter and buffer rounded to float32 (kept in its own
    dtype): the network a float32 file holds. Clustering these weights instead of float64 ones makes the
    stored codes independent of the last bits of float64 training, which differ between CPU vector
    units (lesson 11, section 1)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    model = copy.deepcopy(model)
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            if t.is_floating_point():
                t.copy_(t.float())
    return model
