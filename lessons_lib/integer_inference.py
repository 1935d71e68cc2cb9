"""Integer-only inference: int8 weights and activations, int32 accumulators, fixed-point requantization.

Static post-training quantization of a whole network (Jacob et al., CVPR 2018; gemmlowp). Each
activation tensor has an affine ``n``-bit code ``q`` with scale ``s`` and zero point ``z``
(``x ~ s (q - z)``, codes in ``[0, 2^n - 1]``, stored as uint8), fixed beforehand by an
observer (:mod:`lessons_lib.observers`); weights are symmetric int8 per output channel
(``w ~ s_w[j] q_w``, lesson 09). A layer ``y = W x + b`` becomes, in integers only::

    acc[j] = sum_k q_w[j, k] * q_x[k]  +  b_q[j]                       (int8 x uint8 -> int32)
    b_q[j] = round(b[j] / (s_w[j] s_x))  -  z_x * sum_k q_w[j, k]       (int32, at scale s_w[j] s_x)
    q_y[j] = clamp(round(acc[j] * M[j]) + z_y, q_min, 2^n - 1),   M[j] = s_w[j] s_x / s_y

The real multiplier ``M`` is stored as an integer ``m0`` in ``[2^30, 2^31)`` and a right
shift: ``M ~ m0 / 2^shift`` (:func:`quantize_multiplier`), and ``round(acc * M)`` is computed
as ``(acc * m0 + 2^(shift - 1)) >> shift`` in int64 (:func:`requantize`; rounding half up).
``convert(..., requantization="int32")`` computes the same formula in int32 instead: each
accumulator is first clamped to the *window* of values whose code does not saturate (one more on
each side), so ``|acc * M|`` stays below about ``2^bits``, and ``m0`` gets as many bits as keep
every product inside int32 (:func:`int32_multiplier`; 11 to 15 bits in lesson 12's networks,
against 31): the codes differ from the 31-bit multiplier's only where ``acc * M`` lies within
the coarser multiplier's error of a half.
A ReLU costs nothing: it is the clamp at ``q_min = z_y`` (the code of the real 0). Max
pooling commutes with the increasing map from values to codes, so it runs on the codes.

:func:`convert` turns a float ``nn.Sequential`` of Linear, Conv2d (stride 1), ReLU,
MaxPool2d, Flatten and :class:`lessons_lib.models.ToImage` into an :class:`IntegerNetwork`
whose :meth:`IntegerNetwork.forward_codes` is the integer-only reference that the lesson's own
code is checked against, bit for bit. BatchNorm must be folded first
(:func:`lessons_lib.folding.fold_batchnorms`).

The int8 matrix product is ``torch._int_mm`` (uint8 or int8 by int8, int32 result). On the CPU
the pinned torch 2.13 (as every torch since 2.6) runs it through oneDNN only when the CPU has
AVX-512 VNNI and mkldnn is enabled, and otherwise through an exact int32 reference loop
(pytorch/pytorch issue #136746, "torch._int_mm accuracy issue on AMD CPU", fixed by pull request
#136942, "Use oneDNN for torch._int_mm CPU only when avx512_vnni is supported", 2024). The
oneDNN path needs row-major operands (see :func:`_dense`). The convolution is the same product
over im2col patches (``torch.nn.functional.unfold`` is not implemented for uint8 in torch 2.13).

**7-bit activation codes** (``bits=7``, the default: PyTorch's ``reduce_range`` for FBGEMM/x86).
Without VNNI (AVX-512 VNNI or AVX-VNNI), oneDNN's own u8 x s8 kernels multiply adjacent pairs
of bytes and add each pair in *saturating int16* (``vpmaddubsw``) before widening to int32:
``q_x[2i] q_w[2i] + q_x[2i+1] q_w[2i+1]`` is clipped to ``[-32768, 32767]``
(:func:`pair_sums_saturating` emulates it in NumPy; oneDNN's developer guide, "Nuances of int8
computations"; PyTorch's quantized ``onednn`` qconfig without ``reduce_range`` saturates on such
CPUs, pytorch/pytorch issue #103646, 2023, which is why the x86/FBGEMM qconfigs set
``reduce_range=True``). ``torch._int_mm`` meets these kernels only in a forced configuration:
oneDNN held below AVX-512 VNNI (e.g. ``ONEDNN_MAX_CPU_ISA=AVX2``, as the course's test run does)
on a CPU whose torch still sees AVX-512 VNNI; on a real CPU without AVX-512 VNNI it takes the exact
reference loop. So on the pinned torch 8-bit codes in one ``torch._int_mm`` would be exact on every
real CPU; the 7-bit default and the split below pay off in that forced configuration and in the
deployed int8 kernels (FBGEMM, oneDNN's quantized operators), which do saturate without VNNI.
With 8-bit codes a pair reaches ``2 * 255 * 127 = 64770`` and, where the kernel saturates,
the int32 sums come out wrong; with codes in ``[0, 127]`` a pair is at most
``2 * 127 * 128 = 32512 < 32767`` in magnitude, so nothing saturates in any configuration.
Signed int8 left operands are shifted by +128 in such kernels and saturate too.
:func:`int_matmul` is therefore exact for every input on every path: a left operand outside
``[0, 127]`` is split into 7-bit parts (``a = l + 128 h``), two saturation-free products.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lessons_lib import _validate, quantization
from lessons_lib.models import ToImage
from lessons_lib.observers import make_observer

__all__ = [
    "quantize_multiplier",
    "requantize",
    "int32_multiplier",
    "int_matmul",
    "pair_sums_saturating",
    "int_mm_saturates_here",
    "SATURATION_FREE_BITS",
    "linear_int",
    "conv2d_int",
    "IntegerLayer",
    "IntegerNetwork",
    "convert",
]

INT32_MAX = 2**31 - 1
INT16_MIN, INT16_MAX = -(2**15), 2**15 - 1
SATURATION_FREE_BITS = 7  # 2 * (2^7 - 1) * 128 = 32512 <= 32767: no int16 pair sum can saturate


def quantize_multiplier(M: Any) -> tuple[np.ndarray, np.ndarray]:
    """Write each real ``M`` in ``[2^-31, 2^30)`` as ``m0 / 2^shift``, ``m0`` an integer in ``[2^30, 2^31)``.

    ``M = f * 2^e`` with ``f`` in ``[0.5, 1)`` (``math.frexp``); ``m0 = round(f * 2^31)``
    (``2^31`` is renormalised to ``2^30``, one shift less) and ``shift = 31 - e``, from 1 to 61
    (a smaller ``M`` would need shifts past what int64 arithmetic can apply).
    The relative error ``|m0 / 2^shift - M| / M`` is at most ``2^-31``.

    Returns int64 arrays ``(m0, shift)`` of ``M``'s shape.
    """
    arr = _validate.in_range(M, "M", 2.0**-31, 2.0**30, high_open=True)  # [2^-31, 2^30): shifts 1 to 61
    m0 = np.empty(arr.shape, dtype=np.int64)
    shift = np.empty(arr.shape, dtype=np.int64)
    for i, value in np.ndenumerate(arr):
        m0[i], shift[i] = _fixed_point(float(value), 31)
    return m0, shift


def _fixed_point(value: float, bits: int) -> tuple[int, int]:
    """``(m, shift)`` with ``m / 2^shift ~ value``, ``m`` an integer of ``bits`` bits (``2^bits`` is
    renormalised to ``2^(bits-1)``, one shift less)."""
    f, e = math.frexp(value)
    m = round(f * 2**bits)
    if m == 2**bits:
        m, e = 2 ** (bits - 1), e + 1
    return m, bits - e


def _code_window(m: int, shift: int, zero_point: int, q_min: int, q_max: int) -> tuple[int, int]:
    """The accumulators ``v`` whose code ``((v m + 2^(shift-1)) >> shift) + zero_point`` lies in
    ``[q_min, q_max]`` form an interval ``[v_min, v_max]`` (the code never decreases in ``v``);
    returns ``(v_min - 1, v_max + 1)``, exact integers."""
    half = 1 << (shift - 1)
    v_min = -((half - ((q_min - zero_point) << shift)) // m)  # ceil(((q_min - z) 2^s - 2^(s-1)) / m)
    v_max = (((q_max - zero_point + 1) << shift) - half - 1) // m
    return v_min - 1, v_max + 1


def int32_multiplier(
    M: Any, zero_point: int, q_min: int, q_max: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The most precise ``m / 2^shift ~ M`` whose requantization runs in int32, and its window.

    For each ``M`` (in ``(0, 2^30)``), ``m = round(f 2^B)`` and ``shift = B - e`` (``M = f 2^e``,
    ``f`` in ``[0.5, 1)``) with the largest ``B <= 31`` such that, for every accumulator ``v`` in
    the window ``[lo, hi]`` (:func:`_code_window`: the accumulators whose code lies in
    ``[q_min, q_max]``, and one more on each side), ``|v m| + 2^(shift - 1) < 2^31``. Clamping the
    accumulators to ``[lo, hi]`` first changes no code (the codes outside saturate, and so do those
    of ``lo`` and ``hi``), and then ``(v m + 2^(shift - 1)) >> shift`` never leaves int32. Since
    ``|v M|`` is at most about ``q_max - q_min + 1`` in the window, ``B`` is about
    ``31 - log2(q_max - q_min + 1) + log2(M)``: the relative error of ``M`` is at most ``2^-B``, so
    ``acc * M`` errs by at most about ``(q_max - q_min + 1) 2^-B`` where the code is not clamped.

    Returns int64 arrays ``(m, shift, lo, hi)`` of ``M``'s shape. Raises ``ValueError`` if ``M``
    is so small that ``2^B < q_max - q_min + 1`` (fewer bits than the codes): a code could then
    move by more than one.
    """
    arr = _validate.in_range(M, "M", 0.0, 2.0**30, low_open=True, high_open=True)
    q_min = _validate.integer(q_min, "q_min", 0, 255)
    q_max = _validate.integer(q_max, "q_max", q_min, 255)
    zero_point = _validate.integer(zero_point, "zero_point", 0, 255)
    out = [np.empty(arr.shape, dtype=np.int64) for _ in range(4)]
    for i, value in np.ndenumerate(arr):
        for B in range(31, max(1, (q_max - q_min).bit_length()) - 1, -1):
            m, shift = _fixed_point(float(value), B)
            if shift < 1:
                continue
            lo, hi = _code_window(m, shift, zero_point, q_min, q_max)
            if max(abs(lo), abs(hi)) * m + (1 << (shift - 1)) <= INT32_MAX:
                break
        else:
            raise ValueError(
                f"M must be large enough for an int32 multiplier of at least {(q_max - q_min).bit_length()} "
                f"bits (about 2^-17 or more for 7-bit codes); got {value}"
            )
        for a, v in zip(out, (m, shift, lo, hi), strict=True):
            a[i] = v
    return out[0], out[1], out[2], out[3]


def requantize(
    acc: torch.Tensor, m0: Any, shift: Any, zero_point: int, q_min: int, q_max: int
) -> torch.Tensor:
    """``clamp((acc * m0 + 2^(shift - 1)) >> shift + zero_point, q_min, q_max)`` in int64.

    Parameters
    ----------
    acc : integer tensor (int32 accumulators), any shape ``(..., channels)``
    m0, shift : integers (or int64 tensors/arrays of shape ``(channels,)``) from
        :func:`quantize_multiplier`
    zero_point, q_min, q_max : ints, ``q_min <= q_max``

    Returns an int64 tensor of ``acc``'s shape.
    """
    if not isinstance(acc, torch.Tensor) or acc.is_floating_point() or acc.is_complex():
        raise TypeError(f"acc must be an integer torch tensor; got {type(acc).__name__}")
    m0 = torch.as_tensor(np.asarray(m0, dtype=np.int64))
    shift = torch.as_tensor(np.asarray(shift, dtype=np.int64))
    if torch.any(shift < 1) or torch.any(shift > 61):
        bad = shift.min().item() if torch.any(shift < 1) else shift.max().item()
        raise ValueError(f"shift must be an integer in [1, 61] (int64 arithmetic); got {bad}")
    if torch.any((m0 <= 0) | (m0 > INT32_MAX)):
        raise ValueError("m0 must hold integers in [1, 2^31 - 1]")
    q_min = _validate.integer(q_min, "q_min")
    q_max = _validate.integer(q_max, "q_max", q_min)
    zero_point = _validate.integer(zero_point, "zero_point")
    y = acc.to(torch.int64) * m0 + (torch.ones_like(shift) << (shift - 1))
    return ((y >> shift) + zero_point).clamp(q_min, q_max)


def _check_codes(x: object, name: str, dtypes: tuple[torch.dtype, ...]) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dtype not in dtypes:
        names = " or ".join(str(d).replace("torch.", "") for d in dtypes)
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a torch tensor of dtype {names}; got {got}")
    return x


def _dense(t: torch.Tensor) -> torch.Tensor:
    """``t`` itself if its strides are the row-major ones, else a row-major copy.

    ``torch._int_mm`` on the CPU's oneDNN path (torch 2.13 takes it only with AVX-512 VNNI) reads a
    matrix with a dimension of size 1 by its strides and gets it wrong when they are not the
    row-major ones: an ``(n, 1)`` weight transposed to ``(1, n)`` has strides ``(1, 1)``, counts
    as contiguous, and gives wrong sums. Lesson 12 shows it.
    """
    rows, cols = t.shape
    if t.stride() == (cols, 1) or (t.stride() == (1, rows) and rows > 1 and cols > 1):
        return t  # row-major, or a plain transpose of a row-major matrix (handled correctly)
    return torch.empty((rows, cols), dtype=t.dtype).copy_(t)


def pair_sums_saturating(a: Any, b: Any) -> np.ndarray:
    """``a @ b`` as a u8 x s8 kernel without VNNI (oneDNN's ``vpmaddubsw`` path) computes it for uint8
    ``a``: products of adjacent pairs along ``k`` added in saturating int16, then summed in int32
    (a NumPy emulation, int64 result).

    ``a`` ``(m, k)`` integers in [0, 255], ``b`` ``(k, n)`` integers in [-128, 127].
    """
    a = np.asarray(a.numpy() if isinstance(a, torch.Tensor) else a).astype(np.int64)
    b = np.asarray(b.numpy() if isinstance(b, torch.Tensor) else b).astype(np.int64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"a and b must be matrices (m, k) and (k, n); got {a.shape} and {b.shape}")
    if a.size and (a.min() < 0 or a.max() > 255):
        raise ValueError("a must hold integers in [0, 255]")
    if b.size and (b.min() < -128 or b.max() > 127):
        raise ValueError("b must hold integers in [-128, 127]")
    if a.shape[1] % 2:
        a, b = np.pad(a, ((0, 0), (0, 1))), np.pad(b, ((0, 1), (0, 0)))
    pairs = a[:, 0::2, None] * b[None, 0::2, :] + a[:, 1::2, None] * b[None, 1::2, :]
    return np.clip(pairs, INT16_MIN, INT16_MAX).sum(axis=1)


def int_mm_saturates_here() -> bool:
    """A probe: does ``torch._int_mm``, as called now, add u8 x s8 pairs in saturating int16?

    It describes this configuration (torch's path and oneDNN's ISA), not the CPU alone.

    True only where torch hands the product to oneDNN (torch >= 2.6: a CPU with AVX-512 VNNI and
    mkldnn enabled) and oneDNN runs a kernel without VNNI, that is, oneDNN held below VNNI by
    ``ONEDNN_MAX_CPU_ISA`` (e.g. ``AVX2``, as in the course's test run). False on a real CPU without
    AVX-512 VNNI, where torch runs its exact reference loop, and with VNNI.
    ``[255, 255] @ [127, 127]`` is 64770 exactly and 32767 where the pair saturates.
    """
    a = torch.full((1, 2), 255, dtype=torch.uint8)
    b = torch.full((2, 1), 127, dtype=torch.int8)
    return int(torch._int_mm(a, b)) != 2 * 255 * 127


def int_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a @ b`` with int32 sums: ``a`` uint8 or int8 ``(m, k)``, ``b`` int8 ``(k, n)`` -> int32 ``(m, n)``.

    Exact on every CPU and oneDNN setting (while ``k * 255 * 128 < 2^31``): ``torch._int_mm``
    directly when ``a`` is uint8 in ``[0, 127]`` (no int16 pair sum can saturate, even in oneDNN's
    kernels without VNNI, see the module docstring); otherwise ``a``
    (int8 shifted by +128 to uint8) is split into ``l + 128 h`` with ``l`` in ``[0, 127]`` and
    ``h`` in ``{0, 1}``, and the two products are combined in int32.
    """
    a = _check_codes(a, "a", (torch.uint8, torch.int8))
    b = _check_codes(b, "b", (torch.int8,))
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(
            f"a and b must be matrices (m, k) and (k, n); got {tuple(a.shape)} and {tuple(b.shape)}"
        )
    b = _dense(b)
    if a.dtype == torch.uint8 and (a.numel() == 0 or int(a.max()) <= 127):
        return torch._int_mm(_dense(a), b)
    if a.dtype == torch.int8:
        u = (a.to(torch.int16) + 128).to(torch.uint8)
        offset = 128 * b.to(torch.int32).sum(dim=0, dtype=torch.int32)
    else:
        u, offset = a, None
    low = torch.empty(u.shape, dtype=torch.uint8).copy_(u & 127)
    high = torch.empty(u.shape, dtype=torch.uint8).copy_(u >> 7)
    out = torch._int_mm(low, b) + 128 * torch._int_mm(high, b)
    return out if offset is None else out - offset


def linear_int(x_q: torch.Tensor, w_q: torch.Tensor, b_q: torch.Tensor) -> torch.Tensor:
    """int32 accumulators ``x_q @ w_q.T + b_q``.

    ``x_q`` uint8 ``(n, in)``, ``w_q`` int8 ``(out, in)``, ``b_q`` int32 ``(out,)``;
    returns int32 ``(n, out)``.
    """
    x_q = _check_codes(x_q, "x_q", (torch.uint8, torch.int8))
    w_q = _check_codes(w_q, "w_q", (torch.int8,))
    b_q = _check_codes(b_q, "b_q", (torch.int32,))
    if x_q.dim() != 2 or w_q.dim() != 2 or x_q.shape[1] != w_q.shape[1]:
        raise ValueError(
            f"x_q and w_q must be (n, in) and (out, in); got {tuple(x_q.shape)} and {tuple(w_q.shape)}"
        )
    acc = int_matmul(x_q, w_q.t())
    if b_q.shape != (acc.shape[1],):
        raise ValueError(f"b_q must have shape ({acc.shape[1]},); got {tuple(b_q.shape)}")
    return acc + b_q


def _im2col(x_q: torch.Tensor, kh: int, kw: int, padding: int, pad_value: int) -> torch.Tensor:
    """Patches ``(n * h_out * w_out, c * kh * kw)`` of ``x_q`` ``(n, c, h, w)``, stride 1."""
    n, c, h, w = x_q.shape
    xp = F.pad(x_q, (padding,) * 4, value=pad_value) if padding else x_q
    h_out, w_out = h + 2 * padding - kh + 1, w + 2 * padding - kw + 1
    patches = torch.stack(
        [xp[:, :, i : i + h_out, j : j + w_out] for i in range(kh) for j in range(kw)], dim=2
    )
    return patches.permute(0, 3, 4, 1, 2).reshape(n * h_out * w_out, c * kh * kw)


def conv2d_int(
    x_q: torch.Tensor, w_q: torch.Tensor, b_q: torch.Tensor, padding: int = 0, pad_value: int = 0
) -> torch.Tensor:
    """int32 accumulators of a stride-1 convolution: ``x_q`` uint8 ``(n, c, h, w)``, ``w_q`` int8
    ``(o, c, kh, kw)``, ``b_q`` int32 ``(o,)``; the border is padded with the code ``pad_value``
    (the input's zero point: the code of the real 0). Returns int32 ``(n, o, h_out, w_out)``."""
    x_q = _check_codes(x_q, "x_q", (torch.uint8,))
    w_q = _check_codes(w_q, "w_q", (torch.int8,))
    b_q = _check_codes(b_q, "b_q", (torch.int32,))
    if x_q.dim() != 4 or w_q.dim() != 4 or x_q.shape[1] != w_q.shape[1]:
        raise ValueError(
            f"x_q and w_q must be (n, c, h, w) and (o, c, kh, kw) with the same c; "
            f"got {tuple(x_q.shape)} and {tuple(w_q.shape)}"
        )
    padding = _validate.integer(padding, "padding", 0, 16)
    pad_value = _validate.integer(pad_value, "pad_value", 0, 255)
    o, _, kh, kw = w_q.shape
    n, _, h, w = x_q.shape
    h_out, w_out = h + 2 * padding - kh + 1, w + 2 * padding - kw + 1
    if h_out < 1 or w_out < 1:
        raise ValueError(
            f"x_q must be at least as large as the kernel; got {tuple(x_q.shape)} and {tuple(w_q.shape)}"
        )
    if b_q.shape != (o,):
        raise ValueError(f"b_q must have shape ({o},); got {tuple(b_q.shape)}")
    patches = _im2col(x_q, kh, kw, padding, pad_value)
    acc = int_matmul(patches, w_q.reshape(o, -1).t()) + b_q
    return acc.reshape(n, h_out, w_out, o).permute(0, 3, 1, 2)


@dataclass
class IntegerLayer:
    """One Linear or Conv2d layer in integers, with its requantization (and ReLU as a clamp).

    Attributes
    ----------
    kind : "linear" or "conv"
    w_q : int8 weight codes ``(out, in)`` or ``(out, c, kh, kw)``
    b_q : int32 ``(out,)``, the bias at scale ``s_w s_x`` minus ``z_x * sum(w_q)`` per channel
    m0, shift : int64 ``(out,)``, ``M = s_w s_x / s_y ~ m0 / 2^shift``
    zero_point : ``z_y``; q_min, q_max : the clamp (``q_min = z_y`` when a ReLU follows)
    padding, pad_value : for a convolution (``pad_value = z_x``)
    in_max : the largest input code (``2^bits - 1``); at most 127 the product needs no split
    scale_w : float64 ``(out,)``; scale_in, scale_out : ``s_x``, ``s_y``
    lo, hi : int64 ``(out,)`` or None; if given (:func:`int32_multiplier`'s window for ``m0`` and
        ``shift``), the requantization runs in int32: ``acc`` clamped to ``[lo - b_q, hi - b_q]``
        (saturated to int32), plus ``b_q``, times ``m0``, plus ``2^(shift-1)``, shifted; the same
        codes as the int64 formula with this ``m0`` and ``shift`` for every int32 ``acc`` and
        ``b_q`` (the bias is added after the clamp, so the sum cannot leave int32)
    """

    kind: str
    w_q: torch.Tensor
    b_q: torch.Tensor
    m0: torch.Tensor
    shift: torch.Tensor
    zero_point: int
    q_min: int
    q_max: int
    scale_w: torch.Tensor
    scale_in: float
    scale_out: float
    padding: int = 0
    pad_value: int = 0
    in_max: int = 255
    lo: torch.Tensor | None = None
    hi: torch.Tensor | None = None
    _w_t: torch.Tensor = field(init=False, repr=False)
    _bias_term: torch.Tensor = field(init=False, repr=False)
    _int32: tuple[torch.Tensor, ...] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._w_t = _dense(self.w_q.reshape(self.w_q.shape[0], -1).t())
        rounding = torch.ones_like(self.shift) << (self.shift - 1)
        self._bias_term = self.b_q.to(torch.int64) * self.m0 + rounding  # folded: (acc + b) m0 + r
        self._int32 = None
        if (self.lo is None) != (self.hi is None):
            raise ValueError("lo and hi must be given together (int32 requantization) or not at all")
        if self.lo is not None:
            window = torch.stack([self.lo, self.hi]).abs().amax(dim=0)
            if torch.any(window * self.m0 + rounding > INT32_MAX):
                raise ValueError("lo, hi, m0 and shift must keep |v m0| + 2^(shift-1) within int32")
            # the window for acc *without* the bias, saturated to int32: clamping acc to it and then
            # adding b_q gives clamp(acc + b_q, lo, hi) with no int32 overflow, whatever b_q is
            b = self.b_q.to(torch.int64)
            lo_acc, hi_acc = ((w - b).clamp(-(2**31), INT32_MAX) for w in (self.lo, self.hi))
            self._int32 = tuple(
                v.to(torch.int32) for v in (self.b_q, lo_acc, hi_acc, self.m0, rounding, self.shift)
            )

    @property
    def requantization(self) -> str:
        """``"int32"`` (clamped to the window, a narrower ``m0``) or ``"int64"`` (31-bit ``m0``)."""
        return "int64" if self._int32 is None else "int32"

    def accumulate(self, x_q: torch.Tensor) -> torch.Tensor:
        """int32 accumulators (bias included), ``(n, out)`` or ``(n, out, h, w)``."""
        if self.kind == "linear":
            return linear_int(x_q, self.w_q, self.b_q)
        return conv2d_int(x_q, self.w_q, self.b_q, self.padding, self.pad_value)

    def requantize(self, acc: torch.Tensor, overwrite: bool = False) -> torch.Tensor:
        """uint8 codes ``clamp(((acc + b_q) m0 + 2^(shift-1)) >> shift + z_y)`` from int32 products
        ``acc`` ``(rows, out)`` *without* the bias (the step that follows the product).
        ``overwrite=True`` lets the int32 requantization compute in ``acc``'s own memory."""
        if self._int32 is None:
            y = torch.addcmul(self._bias_term, acc.to(torch.int64), self.m0).bitwise_right_shift_(self.shift)
        else:
            b, lo_acc, hi_acc, m0, rounding, shift = self._int32
            y = (acc.clamp_(lo_acc, hi_acc) if overwrite else acc.clamp(lo_acc, hi_acc)).add_(b)
            y.mul_(m0).add_(rounding).bitwise_right_shift_(shift)
        if self.zero_point:
            y.add_(self.zero_point)
        return y.clamp_(self.q_min, self.q_max).to(torch.uint8)

    def __call__(self, x_q: torch.Tensor) -> torch.Tensor:
        """Output codes (uint8) for input codes ``x_q`` (uint8): product, requantization, clamp."""
        if self.kind == "linear":
            cols = x_q
        else:
            n, _, h, w = x_q.shape
            kh, kw = self.w_q.shape[2:]
            cols = _im2col(x_q, kh, kw, self.padding, self.pad_value)
        if self.in_max <= 2**SATURATION_FREE_BITS - 1:  # no int16 pair sum can saturate: one product
            acc = torch._int_mm(_dense(cols), self._w_t)
        else:
            acc = int_matmul(cols, self._w_t)
        out = self.requantize(acc, overwrite=True)  # acc is this call's own
        if self.kind == "conv":
            h_out = h + 2 * self.padding - kh + 1
            w_out = w + 2 * self.padding - kw + 1
            out = out.reshape(n, h_out, w_out, -1).permute(0, 3, 1, 2).contiguous()
        return out


@dataclass
class IntegerNetwork:
    """A network that computes with integers only, between one quantization of its input and
    one dequantization of its output.

    ``steps`` holds :class:`IntegerLayer` objects and the shape steps ``("image",)``,
    ``("flatten",)`` and ``("maxpool", k)``. Activation codes are uint8 in ``[0, 2^bits - 1]``.
    """

    input_scale: float
    input_zero_point: int
    steps: list[Any]
    bits: int = 7

    @property
    def layers(self) -> list[IntegerLayer]:
        return [s for s in self.steps if isinstance(s, IntegerLayer)]

    @property
    def output_scale(self) -> float:
        return self.layers[-1].scale_out

    @property
    def output_zero_point(self) -> int:
        return self.layers[-1].zero_point

    def quantize_input(self, X: torch.Tensor) -> torch.Tensor:
        """``clamp(round(X / s_x) + z_x, 0, 2^bits - 1)`` as uint8 (the one float step at the entrance)."""
        if not isinstance(X, torch.Tensor) or not X.is_floating_point():
            raise TypeError(f"X must be a floating torch tensor; got {type(X).__name__}")
        q = torch.round(X.to(torch.float64) / self.input_scale) + self.input_zero_point
        return q.clamp(0, 2**self.bits - 1).to(torch.uint8)

    def forward_codes(self, x_q: torch.Tensor) -> torch.Tensor:
        """Output codes (uint8 ``(n, classes)``) from input codes: integers only."""
        a = _check_codes(x_q, "x_q", (torch.uint8,))
        for step in self.steps:
            if isinstance(step, IntegerLayer):
                a = step(a)
            elif step[0] == "image":
                a = a.reshape(-1, 1, 8, 8)
            elif step[0] == "flatten":
                a = a.reshape(a.shape[0], -1)
            else:
                a = F.max_pool2d(a, step[1])
        return a

    def logits(self, X: torch.Tensor) -> torch.Tensor:
        """Dequantized output ``s_y (q_y - z_y)`` (float64) for float input ``X``."""
        codes = self.forward_codes(self.quantize_input(X))
        return self.output_scale * (codes.to(torch.float64) - self.output_zero_point)

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """Class of the largest output code (ties: the first), int64 ``(n,)``."""
        return self.forward_codes(self.quantize_input(X)).argmax(dim=1)

    def accuracy(self, X: torch.Tensor, y: torch.Tensor) -> float:
        """Fraction of rows whose predicted class is ``y``."""
        return int((self.predict(X) == y).sum()) / len(y)

    def nbytes(self) -> int:
        """Bytes of the integer parameters: int8 weights, int32 biases, int32 m0 and one byte per shift
        (and, for int32 requantization, the int32 window ``lo``, ``hi``)."""
        return sum(
            L.w_q.numel() + 4 * L.b_q.numel() + (13 if L.lo is not None else 5) * L.m0.numel()
            for L in self.layers
        )


def _integer_layer(
    module: nn.Module,
    s_x: float,
    z_x: int,
    s_y: float,
    z_y: int,
    relu: bool,
    bits: int,
    weight_bits: int,
    requantization: str,
) -> IntegerLayer:
    w = module.weight.detach().to(torch.float64)
    w_q, s_w, _ = quantization.quantize(w, weight_bits, symmetric=True, axis=0)
    s_w = s_w.reshape(-1)
    b = (
        module.bias.detach().to(torch.float64)
        if module.bias is not None
        else torch.zeros(w.shape[0], dtype=torch.float64)
    )
    b_q = torch.round(b / (s_w * s_x)).to(torch.int64) - z_x * w_q.reshape(w.shape[0], -1).sum(dim=1).to(
        torch.int64
    )
    if torch.any(b_q.abs() > INT32_MAX):
        raise ValueError(
            "model has a bias too large for int32 at scale s_w * s_x; its layers must be calibrated"
        )
    M = (s_w * s_x / s_y).numpy()
    q_min, q_max = (z_y if relu else 0), 2**bits - 1
    window: dict[str, torch.Tensor] = {}
    if requantization == "int32":
        m0, shift, lo, hi = int32_multiplier(M, z_y, q_min, q_max)
        window = {"lo": torch.from_numpy(lo), "hi": torch.from_numpy(hi)}
    else:
        m0, shift = quantize_multiplier(M)
    conv = isinstance(module, nn.Conv2d)
    return IntegerLayer(
        kind="conv" if conv else "linear",
        w_q=w_q.to(torch.int8),
        b_q=b_q.to(torch.int32),
        m0=torch.from_numpy(m0),
        shift=torch.from_numpy(shift),
        zero_point=z_y,
        q_min=q_min,
        q_max=q_max,
        scale_w=s_w,
        scale_in=s_x,
        scale_out=s_y,
        padding=int(module.padding[0]) if conv else 0,
        pad_value=z_x if conv else 0,
        in_max=2**bits - 1,
        **window,
    )


def _check_conv(m: nn.Conv2d) -> None:
    if (
        m.stride != (1, 1)
        or m.dilation != (1, 1)
        or m.groups != 1
        or m.padding_mode != "zeros"
        or isinstance(m.padding, str)
        or m.padding[0] != m.padding[1]
    ):
        raise ValueError(
            "model must hold Conv2d layers with stride 1, dilation 1, groups 1 and equal "
            f"zero padding on every side; got {m}"
        )


@torch.no_grad()
def convert(
    model: nn.Module,
    X_calibration: torch.Tensor,
    observer: str = "minmax",
    percentile: float = 99.99,
    bits: int = 7,
    weight_bits: int = 8,
    requantization: str = "int64",
) -> IntegerNetwork:
    """Static post-training quantization of ``model`` into an :class:`IntegerNetwork`.

    Parameters
    ----------
    model : ``nn.Sequential`` of Linear, Conv2d (stride 1), ReLU (after a Linear or Conv2d),
        MaxPool2d (kernel = stride, no padding), Flatten and ToImage; no BatchNorm (fold it first)
    X_calibration : float tensor ``(n, features)``, ``n >= 1``, of inputs from the training part (the
        model's input: 64 pixels for the course's networks); every activation's range is observed on it
        (the network runs in float64)
    observer : ``"minmax"`` or ``"percentile"`` (:mod:`lessons_lib.observers`)
    percentile : float in (50, 100], for the percentile observer
    bits : int in [2, 8], bits of the activation codes (stored as uint8); 7 by default, so that
        no int16 pair sum can saturate in a u8 x s8 kernel without VNNI (PyTorch's
        ``reduce_range``; ``torch._int_mm`` reaches such a kernel only with oneDNN held to AVX2,
        see the module docstring); 8 is exact too, at the price of two products per layer
        (:func:`int_matmul`)
    weight_bits : int in [2, 8], bits of the symmetric per-channel weight codes (int8)
    requantization : ``"int64"`` (``m0`` of 31 bits, :func:`quantize_multiplier`, the product in
        int64) or ``"int32"`` (the window clamp and the most precise ``m0`` that keeps every step in
        int32, :func:`int32_multiplier`)
    """
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be an nn.Sequential; got {type(model).__name__}")
    if not isinstance(X_calibration, torch.Tensor) or not X_calibration.is_floating_point():
        raise TypeError(f"X_calibration must be a floating torch tensor; got {type(X_calibration).__name__}")
    if X_calibration.ndim != 2 or X_calibration.shape[0] == 0:
        raise ValueError("X_calibration must have shape (n, features) with n >= 1; got "
                         f"{tuple(X_calibration.shape)}")
    _validate.finite(X_calibration.detach().cpu().to(torch.float64).numpy(), "X_calibration")
    bits = _validate.integer(bits, "bits", 2, 8)
    weight_bits = _validate.integer(weight_bits, "weight_bits", 2, 8)
    if requantization not in ("int64", "int32"):
        raise ValueError(f'requantization must be "int64" or "int32"; got {requantization!r}')
    make_observer(observer, percentile)  # validates both
    net = copy.deepcopy(model).to(torch.float64).eval()
    mods = list(net)
    x = X_calibration.detach().to(torch.float64)
    features = None  # what the first layer takes, where it says
    if mods and isinstance(mods[0], nn.Linear):
        features = mods[0].in_features
    elif mods and isinstance(mods[0], ToImage):
        features = 64
    if features is not None and x.shape[1] != features:
        raise ValueError(f"X_calibration must have {features} features, as the model's first layer takes; "
                         f"got shape {tuple(x.shape)}")
    s_x, z_x = make_observer(observer, percentile).update(x).qparams(bits)
    network = IntegerNetwork(s_x, z_x, [], bits)
    i = 0
    while i < len(mods):
        m = mods[i]
        if isinstance(m, ToImage):
            network.steps.append(("image",))
        elif isinstance(m, nn.Flatten):
            network.steps.append(("flatten",))
        elif isinstance(m, nn.MaxPool2d):
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            stride = m.stride if isinstance(m.stride, int) else m.stride[0]
            if stride != k or m.padding not in (0, (0, 0)) or m.dilation not in (1, (1, 1)):
                raise ValueError(f"model must hold MaxPool2d with stride = kernel and no padding; got {m}")
            network.steps.append(("maxpool", k))
        elif isinstance(m, nn.Linear | nn.Conv2d):
            if isinstance(m, nn.Conv2d):
                _check_conv(m)
            y = m(x)
            relu = i + 1 < len(mods) and isinstance(mods[i + 1], nn.ReLU)
            if relu:
                y = mods[i + 1](y)
            s_y, z_y = make_observer(observer, percentile).update(y).qparams(bits)
            network.steps.append(
                _integer_layer(m, s_x, z_x, s_y, z_y, relu, bits, weight_bits, requantization)
            )
            x, s_x, z_x = y, s_y, z_y
            i += 2 if relu else 1
            continue
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            raise ValueError(
                "model must have its BatchNorm folded first: lessons_lib.folding.fold_batchnorms(model)"
            )
        else:
            raise ValueError(
                f"model must hold only Linear, Conv2d, ReLU after them, MaxPool2d, Flatten and "
                f"ToImage; got {type(m).__name__} at position {i}"
            )
        x = m(x)
        i += 1
    if not network.layers:
        raise ValueError("model must hold at least one Linear or Conv2d layer")
    return network
