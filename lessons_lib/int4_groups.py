"""Per-group 4-bit weights, two codes to a byte: the weight-only format of large language models.

A weight matrix ``W`` of shape ``(out, in)`` is cut along its input axis into groups of
``group_size`` consecutive weights (``in`` must be a multiple of it). Each group ``g`` of row ``r``
gets its own affine quantizer (lesson 09's rule, zero exactly representable)::

    lo = min(0, min W[r, g]),  hi = max(0, max W[r, g])
    s  = (hi - lo) / 15                      stored as float16, rounded up so the range stays covered
    z  = round(-lo / s)                      an integer in [0, 15]
    q  = clip(round(W / s) + z, 0, 15)       4-bit codes
    W ~ s (q - z)

Bytes are real: the codes go two to a byte (:func:`pack_nibbles`: the even-indexed code in the low
four bits, the odd-indexed one in the high four), the zero points likewise, the scales as float16.
A matrix of ``n`` weights in groups of ``g`` (an even number of groups per row) takes
``n/2 + 2 n/g + n/(2g)`` bytes, against ``4n`` in float32: 6.9x smaller at ``g = 32``, 7.7x at
``g = 128``. (An odd number of groups per row keeps one zero point per byte.)

:class:`Int4Linear` keeps only those bytes and unpacks the weights on every forward pass into
float32 for a float32 matrix product with float activations: what "4-bit weights, 16-bit
activations" layers do (the GPU kernels fuse the unpacking into the product; here it is explicit).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lessons_lib import _validate

__all__ = [
    "pack_nibbles",
    "unpack_nibbles",
    "GroupQuantized",
    "quantize_groups",
    "Int4Linear",
    "save_network",
    "load_network",
]

LEVELS = 15  # codes 0..15


def pack_nibbles(codes: torch.Tensor) -> torch.Tensor:
    """Two 4-bit codes to a byte.

    Parameters
    ----------
    codes : integer tensor of shape ``(..., 2m)`` with values in [0, 15]

    Returns
    -------
    uint8 tensor ``(..., m)``: ``codes[..., 2i] | codes[..., 2i + 1] << 4``
    """
    if not isinstance(codes, torch.Tensor):
        raise TypeError(f"codes must be a torch.Tensor; got {type(codes).__name__}")
    if codes.dtype.is_floating_point or codes.dtype == torch.bool or codes.is_complex():
        raise TypeError(f"codes must be an integer tensor; got {codes.dtype}")
    if codes.ndim == 0 or codes.shape[-1] % 2:
        raise ValueError(f"codes must have an even last dimension; got shape {tuple(codes.shape)}")
    if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) > LEVELS):
        raise ValueError(f"codes must lie in [0, 15]; got [{int(codes.min())}, {int(codes.max())}]")
    c = codes.to(torch.uint8)
    return c[..., 0::2] | (c[..., 1::2] << 4)


def unpack_nibbles(packed: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`pack_nibbles`: uint8 ``(..., m)`` to uint8 codes ``(..., 2m)``."""
    if not isinstance(packed, torch.Tensor):
        raise TypeError(f"packed must be a torch.Tensor; got {type(packed).__name__}")
    if packed.dtype != torch.uint8 or packed.ndim == 0:
        raise ValueError(
            f"packed must be a uint8 tensor with at least one axis; got {packed.dtype}, "
            f"shape {tuple(packed.shape)}"
        )
    low, high = packed & 0x0F, packed >> 4
    return torch.stack((low, high), dim=-1).reshape(*packed.shape[:-1], 2 * packed.shape[-1])


@dataclass(frozen=True)
class GroupQuantized:
    """A weight matrix in per-group 4-bit codes (see the module's docstring).

    ``codes``: uint8 ``(out, in/2)`` packed codes; ``scales``: float16 ``(out, in/g)``;
    ``zero_points``: uint8 ``(out, in/(2g))`` packed zero points (``in/g`` even) or uint8
    ``(out, in/g)`` one per byte when ``in/g`` is odd; ``shape``: ``(out, in)``; ``group_size``: g.
    """

    codes: torch.Tensor
    scales: torch.Tensor
    zero_points: torch.Tensor
    shape: tuple[int, int]
    group_size: int

    @property
    def nbytes(self) -> int:
        """Bytes stored: packed codes, float16 scales and the zero points."""
        return sum(t.numel() * t.element_size() for t in (self.codes, self.scales, self.zero_points))

    def zero_point_codes(self) -> torch.Tensor:
        """uint8 ``(out, in/g)``: each group's zero point."""
        groups = self.shape[1] // self.group_size
        if self.zero_points.shape[-1] == groups:
            return self.zero_points
        return unpack_nibbles(self.zero_points)

    def dequantize(self) -> torch.Tensor:
        """float32 ``(out, in)``: ``s (q - z)`` group by group."""
        out, inp = self.shape
        q = unpack_nibbles(self.codes).to(torch.float32).view(out, inp // self.group_size, self.group_size)
        z = self.zero_point_codes().to(torch.float32)[..., None]
        s = self.scales.to(torch.float32)[..., None]
        return ((q - z) * s).view(out, inp)


def _float16_up(scale: np.ndarray) -> np.ndarray:
    """float16 values >= ``scale`` (the nearest, or the next one up), at least the smallest normal."""
    s16 = np.maximum(scale, np.finfo(np.float16).tiny).astype(np.float16)
    below = s16.astype(np.float64) < scale
    return np.where(below, np.nextafter(s16, np.float16(np.inf)), s16)


def quantize_groups(w: torch.Tensor, group_size: int) -> GroupQuantized:
    """Per-group affine 4-bit codes of a weight matrix.

    Parameters
    ----------
    w : float tensor ``(out, in)``, finite; ``in`` a multiple of ``group_size``
    group_size : int in [2, in], even (two codes share a byte)

    Returns
    -------
    :class:`GroupQuantized`, whose ``dequantize()`` is within ``s/2`` of ``w`` entry by entry
    (``s`` the entry's group scale).
    """
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"w must be a torch.Tensor; got {type(w).__name__}")
    if w.ndim != 2 or not w.dtype.is_floating_point:
        raise ValueError(f"w must be a 2-D float tensor (out, in); got {w.dtype}, shape {tuple(w.shape)}")
    out, inp = w.shape
    group_size = _validate.integer(group_size, "group_size", 2, max(2, inp))
    if group_size % 2 or inp % group_size:
        raise ValueError(f"group_size must be even and divide in = {inp}; got {group_size}")
    arr = w.detach().to(torch.float64).cpu().numpy().reshape(out, inp // group_size, group_size)
    if not np.isfinite(arr).all():
        raise ValueError("w must be finite (no NaN or infinity)")
    lo = np.minimum(arr.min(axis=2), 0.0)
    hi = np.maximum(arr.max(axis=2), 0.0)
    width = hi - lo
    if width.size and float(width.max()) / LEVELS > float(np.finfo(np.float16).max):
        raise ValueError(
            f"w must have every group's range max - min at most 15 * 65504 = 982560; got "
            f"{float(width.max()):.4g}: that range exceeds float16 scale"
        )
    scale = _float16_up(np.where(width > 0, width / LEVELS, 1.0))
    s = scale.astype(np.float64)
    zero = np.clip(np.round(-lo / s), 0, LEVELS)
    q = np.clip(np.round(arr / s[..., None]) + zero[..., None], 0, LEVELS)
    codes = pack_nibbles(torch.from_numpy(q.reshape(out, inp).astype(np.uint8)))
    zero_t = torch.from_numpy(zero.astype(np.uint8))
    if zero_t.shape[-1] % 2 == 0:
        zero_t = pack_nibbles(zero_t)
    return GroupQuantized(codes, torch.from_numpy(scale), zero_t, (out, inp), group_size)


class Int4Linear(nn.Module):
    """A linear layer that stores its weights as per-group 4-bit codes and computes in float32.

    ``y = x W_hat^T + b`` with ``W_hat`` unpacked from :class:`GroupQuantized` on every call;
    ``x``: float ``(..., in)``, ``y``: float32 ``(..., out)``. Only the packed bytes (and the float32
    bias) are kept: ``nbytes``."""

    def __init__(self, weight: GroupQuantized, bias: torch.Tensor | None = None) -> None:
        super().__init__()
        if not isinstance(weight, GroupQuantized):
            raise TypeError(f"weight must be a GroupQuantized; got {type(weight).__name__}")
        self.shape, self.group_size = weight.shape, weight.group_size
        self.register_buffer("codes", weight.codes)
        self.register_buffer("scales", weight.scales)
        self.register_buffer("zero_points", weight.zero_points)
        self.register_buffer("bias", None if bias is None else bias.detach().to(torch.float32).clone())

    @classmethod
    def from_linear(cls, layer: nn.Linear, group_size: int) -> Int4Linear:
        """The layer's weights in per-group 4-bit codes, its bias as it is (float32)."""
        if not isinstance(layer, nn.Linear):
            raise TypeError(f"layer must be a torch.nn.Linear; got {type(layer).__name__}")
        return cls(quantize_groups(layer.weight, group_size), layer.bias)

    def packed(self) -> GroupQuantized:
        return GroupQuantized(self.codes, self.scales, self.zero_points, self.shape, self.group_size)

    @property
    def nbytes(self) -> int:
        bias = 0 if self.bias is None else self.bias.numel() * 4
        return self.packed().nbytes + bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.shape[1]:
            raise ValueError(f"x must have {self.shape[1]} features in its last axis; got {tuple(x.shape)}")
        return F.linear(x.to(torch.float32), self.packed().dequantize(), self.bias)


#: File header: the magic bytes and the number of layers (uint16, little-endian).
MAGIC = b"I4G1"
_LAYER = struct.Struct("<HHHB")  # out, in, group size, flags (bit 0: bias stored, bit 1: ReLU after)


_UINT16_MAX = 65_535


def save_network(model: nn.Sequential, path: str | Path) -> int:
    """Write a network of :class:`Int4Linear` layers (each optionally followed by ``nn.ReLU``) to a file.

    Layout, little-endian: ``MAGIC``, uint16 layer count, then per layer a 7-byte record
    (uint16 out, uint16 in, uint16 group size, uint8 flags) followed by its packed codes
    (``out * in / 2`` bytes), float16 scales (``2 out in / g``), zero points (``out in / (2g)`` bytes,
    or ``out in / g`` for an odd number of groups per row) and the float32 bias (``4 out``, if stored).

    Returns the number of bytes written: ``6 + sum(7 + layer.nbytes)``. Raises ``ValueError`` (naming
    ``model``) for a layer wider than a uint16 holds; :func:`load_network` raises ``ValueError`` (naming
    ``path``) for a record whose group size is not an even divisor (>= 2) of the layer's inputs.
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential; got {type(model).__name__}")
    layers = list(model)
    if not layers or not isinstance(layers[0], Int4Linear):
        raise ValueError("model must start with an Int4Linear layer and hold only Int4Linear and ReLU layers")
    records: list[bytes] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if not isinstance(layer, Int4Linear):
            raise ValueError(
                f"model must hold only Int4Linear layers, each optionally followed by one ReLU; "
                f"got {type(layer).__name__} at position {i}"
            )
        relu = i + 1 < len(layers) and isinstance(layers[i + 1], nn.ReLU)
        out, inp = layer.shape
        if max(out, inp, layer.group_size) > _UINT16_MAX:
            raise ValueError(
                f"model must have layers of at most {_UINT16_MAX:,d} outputs and inputs (the file stores "
                f"them as uint16); layer {i} is {out} x {inp} with groups of {layer.group_size}"
            )
        flags = (layer.bias is not None) | (relu << 1)
        parts = [
            _LAYER.pack(out, inp, layer.group_size, flags),
            layer.codes.numpy().tobytes(),
            layer.scales.numpy().astype("<f2").tobytes(),
            layer.zero_points.numpy().tobytes(),
        ]
        if layer.bias is not None:
            parts.append(layer.bias.numpy().astype("<f4").tobytes())
        records.append(b"".join(parts))
        i += 2 if relu else 1
    if len(records) > _UINT16_MAX:
        raise ValueError(f"model must have at most {_UINT16_MAX:,d} Int4Linear layers; got {len(records):,d}")
    data = MAGIC + struct.pack("<H", len(records)) + b"".join(records)
    Path(path).write_bytes(data)
    return len(data)


def load_network(path: str | Path) -> nn.Sequential:
    """Read a file written by :func:`save_network`: the same :class:`Int4Linear` and ReLU layers, the
    stored bytes unpacked into the layers' buffers (bit for bit the saved ones)."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"path must be a per-group int4 network file; {path} has no {MAGIC!r} header")
    (count,) = struct.unpack_from("<H", data, 4)
    at, layers = 6, []

    def take(n: int, dtype: str, shape: tuple[int, ...]) -> torch.Tensor:
        nonlocal at
        if at + n > len(data):
            raise ValueError(f"path must hold whole layers; {path} is truncated")
        arr = np.frombuffer(data, dtype=dtype, count=n // np.dtype(dtype).itemsize, offset=at).reshape(shape)
        at += n
        return torch.from_numpy(arr.astype(arr.dtype.newbyteorder("=")))

    for _ in range(count):
        if at + _LAYER.size > len(data):
            raise ValueError(f"path must hold whole layers; {path} is truncated")
        out, inp, g, flags = _LAYER.unpack_from(data, at)
        at += _LAYER.size
        if out < 1 or inp < 2 or g < 2 or g % 2 or inp % g:
            raise ValueError(
                f"path must describe layers with out >= 1 and an even group size g >= 2 dividing in; "
                f"{path} has a layer {out} x {inp} with g = {g}"
            )
        groups = inp // g
        zero_cols = groups // 2 if groups % 2 == 0 else groups
        codes = take(out * inp // 2, "u1", (out, inp // 2))
        scales = take(2 * out * groups, "<f2", (out, groups))
        zeros = take(out * zero_cols, "u1", (out, zero_cols))
        bias = take(4 * out, "<f4", (out,)) if flags & 1 else None
        layers.append(Int4Linear(GroupQuantized(codes, scales, zeros, (out, inp), g), bias))
        if flags & 2:
            layers.append(nn.ReLU())
    if at != len(data):
        raise ValueError(f"path must end after its last layer; {path} has {len(data) - at} more bytes")
    return nn.Sequential(*layers)
