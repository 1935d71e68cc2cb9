"""Uniform weight quantization: affine and symmetric, per tensor and per channel.

A ``bits``-bit uniform quantizer maps a real ``x`` to an integer code ``q`` and back::

    q      = clamp(round(x / scale) + zero_point, q_min, q_max)
    x_hat  = (q - zero_point) * scale

* **affine** (asymmetric): codes in ``[0, 2^bits - 1]``. The range ``[lo, hi]`` is
  the data range widened to contain 0, ``scale = (hi - lo) / (2^bits - 1)`` and the
  integer ``zero_point = round(-lo / scale)``, so 0.0 is a grid point and comes back
  exactly.
* **symmetric**: codes in ``[-(2^(bits-1) - 1), 2^(bits-1) - 1]`` (the most negative
  code is left unused, so the grid is symmetric about 0), ``zero_point = 0`` and
  ``scale = max|x| / (2^(bits-1) - 1)``.

For every ``x`` inside the range the round trip error is at most ``scale / 2``.
A range of zero width (an all-zero tensor) gets ``scale = 1`` so no division by zero
happens; ``scale > 0`` always.

With ``axis=k`` the parameters are computed per slice along axis ``k`` (per output
channel for ``axis=0`` of a ``(out, in)`` weight) and are returned with the shape of
``x`` reduced to length 1 along every other axis (``keepdims``), so they broadcast
against ``x``. With ``axis=None`` they are 0-d arrays.

NumPy input gives NumPy output (codes ``int32``, float64 parameters); a torch tensor
gives torch tensors (codes ``torch.int32``; ``scale`` in the tensor's float dtype,
float32 unless the input is float64).

For training, :func:`fake_quantize` applies ``dequantize(quantize(w))`` in the forward
pass and lets the gradient through unchanged (straight-through estimator), and
:class:`QuantLinear` is an ``nn.Linear`` that does so for its weight.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from lessons_lib import _validate

__all__ = [
    "quantize",
    "dequantize",
    "quantization_error",
    "code_range",
    "fake_quantize",
    "QuantLinear",
    "quantize_model_weights",
    "to_quant_linear",
]


def _as_numpy(x: Any, name: str) -> np.ndarray:
    """Float64 copy of a NumPy array, array-like or (CPU or not, grad or not) tensor."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().to(torch.float64).numpy()
    return _validate.finite(x, name)


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__} {value!r}")
    return bool(value)


def _check_axis(axis: object, ndim: int) -> int | None:
    """``axis`` must be None or an integer in ``[-ndim, ndim - 1]``; returns it normalised."""
    if axis is None:
        return None
    if ndim == 0:
        raise ValueError(f"axis must be None for a 0-d (scalar) x; got {axis!r}")
    axis = _validate.integer(axis, "axis")
    if not -ndim <= axis <= ndim - 1:
        raise ValueError(f"axis must be None or an integer in [{-ndim}, {ndim - 1}]; got {axis}")
    return axis % ndim


def code_range(bits: int, symmetric: bool = False) -> tuple[int, int]:
    """Smallest and largest integer code: ``(0, 2^b - 1)`` or ``(-(2^(b-1) - 1), 2^(b-1) - 1)``."""
    bits = _validate.integer(bits, "bits", 2, 16)
    symmetric = _check_bool(symmetric, "symmetric")
    if symmetric:
        top = 2 ** (bits - 1) - 1
        return -top, top
    return 0, 2**bits - 1


def _torch_float_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def quantize(x: Any, bits: int, symmetric: bool = False, axis: int | None = None):
    """Quantize ``x`` to ``bits``-bit integer codes.

    Parameters
    ----------
    x : array or torch.Tensor, any shape, finite, non-empty
    bits : int in [2, 16]
    symmetric : bool
        False for affine codes in ``[0, 2^bits - 1]``, True for symmetric codes in
        ``[-(2^(bits-1) - 1), 2^(bits-1) - 1]`` with ``zero_point = 0``.
    axis : int or None
        None for one ``(scale, zero_point)`` for the whole tensor, ``k`` for one pair
        per index along axis ``k`` (per channel).

    Returns
    -------
    q : integer array/tensor of the shape of ``x`` (int32)
    scale : float array/tensor, > 0; shape ``()`` or ``x.shape`` with every axis but
        ``axis`` reduced to 1
    zero_point : integer array/tensor (int32) of the same shape as ``scale``
    """
    is_torch = isinstance(x, torch.Tensor)
    arr = _as_numpy(x, "x")
    bits = _validate.integer(bits, "bits", 2, 16)
    symmetric = _check_bool(symmetric, "symmetric")
    axis = _check_axis(axis, arr.ndim)
    q_min, q_max = code_range(bits, symmetric)

    reduce = None if axis is None else tuple(i for i in range(arr.ndim) if i != axis)
    keep = axis is not None
    if symmetric:
        hi = np.max(np.abs(arr), axis=reduce, keepdims=keep)
        scale = hi / q_max
        zero_width = hi == 0.0
    else:
        lo = np.minimum(np.min(arr, axis=reduce, keepdims=keep), 0.0)
        hi = np.maximum(np.max(arr, axis=reduce, keepdims=keep), 0.0)
        scale = hi / q_max - lo / q_max  # never overflows, unlike (hi - lo) / q_max
        zero_width = (hi == 0.0) & (lo == 0.0)
    scale = np.asarray(scale, dtype=np.float64)
    out_dtype = _torch_float_dtype(x) if is_torch else None
    store = np.float32 if out_dtype == torch.float32 else np.float64
    tiny = np.finfo(store).tiny
    scale = np.where(zero_width, 1.0, np.maximum(scale, tiny))
    if store is np.float32:
        # The scale is stored in float32: round it up so the range stays covered.
        s32 = scale.astype(np.float32)
        s32 = np.where(s32.astype(np.float64) < scale, np.nextafter(s32, np.float32(np.inf)), s32)
        scale = s32.astype(np.float64)
    if symmetric:
        zero_point = np.zeros_like(scale)
    else:
        zero_point = np.clip(np.round(-lo / scale), q_min, q_max)
    q = np.clip(np.round(arr / scale) + zero_point, q_min, q_max)

    q = np.asarray(q).astype(np.int32)
    zero_point = np.asarray(zero_point).astype(np.int32)
    if is_torch:
        dev = x.device
        return (
            torch.from_numpy(q).to(dev),
            torch.from_numpy(scale).to(device=dev, dtype=out_dtype),
            torch.from_numpy(zero_point).to(dev),
        )
    return q, scale, zero_point


def dequantize(q: Any, scale: Any, zero_point: Any):
    """Map integer codes back to reals: ``(q - zero_point) * scale``.

    Parameters
    ----------
    q : integer-valued array/tensor
    scale : positive finite array/tensor broadcastable to ``q.shape``
    zero_point : integer-valued array/tensor broadcastable to ``q.shape``

    Returns
    -------
    Array of ``q.shape``: float64 NumPy for NumPy ``q``; a torch tensor for a torch
    ``q`` (dtype of ``scale`` if that is a floating tensor, else float32).
    """
    is_torch = isinstance(q, torch.Tensor)
    q_arr = _as_numpy(q, "q")
    s_arr = _as_numpy(scale, "scale")
    z_arr = _as_numpy(zero_point, "zero_point")
    if np.any(q_arr != np.round(q_arr)):
        raise ValueError("q must hold integer codes; got non-integer values")
    if np.any(z_arr != np.round(z_arr)):
        raise ValueError("zero_point must hold integers; got non-integer values")
    if np.any(s_arr <= 0):
        raise ValueError("scale must be > 0 everywhere; got a value <= 0")
    for name, a in (("scale", s_arr), ("zero_point", z_arr)):
        try:
            shape = np.broadcast_shapes(q_arr.shape, a.shape)
        except ValueError:
            shape = None
        if shape != q_arr.shape:
            raise ValueError(f"{name} must broadcast to the shape of q {q_arr.shape}; got shape {a.shape}")
    out = (q_arr - z_arr) * s_arr
    if is_torch:
        if isinstance(scale, torch.Tensor) and scale.is_floating_point():
            dtype = _torch_float_dtype(scale)
        else:
            dtype = torch.float32
        return torch.from_numpy(out).to(device=q.device, dtype=dtype)
    return out


def quantization_error(x: Any, bits: int, symmetric: bool = False, axis: int | None = None):
    """Root-mean-square error of ``dequantize(quantize(x))`` against ``x`` (a float)."""
    arr = _as_numpy(x, "x")
    x_hat = dequantize(*quantize(arr, bits, symmetric, axis))
    return float(np.sqrt(np.mean((x_hat - arr) ** 2)))


def fake_quantize(
    w: torch.Tensor, bits: int, symmetric: bool = False, axis: int | None = None
) -> torch.Tensor:
    """Straight-through fake quantization of a torch tensor.

    Forward value ``dequantize(quantize(w))``; backward the identity, because the
    result is written ``w + (w_q - w).detach()``: ``d out / d w = 1``.
    Returns a tensor of ``w``'s shape and dtype.
    """
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"w must be a torch.Tensor; got {type(w).__name__}")
    x = w.detach().to(torch.float64)
    if not bool(torch.isfinite(x).all()) or x.numel() == 0:
        quantize(w, bits, symmetric, axis)  # raises the ValueError that names the problem
    bits = _validate.integer(bits, "bits", 2, 16)
    symmetric = _check_bool(symmetric, "symmetric")
    axis = _check_axis(axis, x.ndim)
    # quantize and dequantize above, step for step in torch float64 (the same IEEE operations, so the
    # same bits as the NumPy path, tested), without the round trips through NumPy in every forward pass
    q_min, q_max = code_range(bits, symmetric)
    dims = [i for i in range(x.ndim) if i != axis] if axis is not None else list(range(x.ndim))

    def reduce(t: torch.Tensor, op: str) -> torch.Tensor:
        if not dims:
            return t
        keep = axis is not None
        return t.amax(dim=dims, keepdim=keep) if op == "max" else t.amin(dim=dims, keepdim=keep)

    if symmetric:
        hi = reduce(x.abs(), "max")
        scale = hi / q_max
        zero_width = hi == 0.0
    else:
        lo = reduce(x, "min").clamp(max=0.0)
        hi = reduce(x, "max").clamp(min=0.0)
        scale = hi / q_max - lo / q_max
        zero_width = (hi == 0.0) & (lo == 0.0)
    store32 = _torch_float_dtype(w) == torch.float32
    tiny = float(np.finfo(np.float32 if store32 else np.float64).tiny)
    scale = torch.where(zero_width, torch.ones_like(scale), scale.clamp(min=tiny))
    if store32:  # the scale is stored in float32, rounded up so the range stays covered
        s32 = scale.to(torch.float32)
        up = torch.nextafter(s32, torch.full_like(s32, torch.inf))
        s32 = torch.where(s32.to(torch.float64) < scale, up, s32)
        scale = s32.to(torch.float64)
    zero_point = torch.zeros_like(scale) if symmetric else torch.round(-lo / scale).clamp(q_min, q_max)
    q = (torch.round(x / scale) + zero_point).clamp(q_min, q_max)
    wq = ((q - zero_point) * scale).to(_torch_float_dtype(w)).to(w.dtype)
    return w + (wq - w).detach()


class QuantLinear(nn.Linear):
    """``nn.Linear`` whose weight is fake-quantized in every forward pass.

    The float ("latent") weight is what the optimizer updates; the layer computes
    ``x @ fake_quantize(W).T + b``. ``per_channel=True`` gives one scale per output
    row (``axis=0``). The bias stays in floating point.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        bits: int = 8,
        symmetric: bool = True,
        per_channel: bool = True,
    ) -> None:
        super().__init__(in_features, out_features, bias=bias)
        self.bits = _validate.integer(bits, "bits", 2, 16)
        self.symmetric = _check_bool(symmetric, "symmetric")
        self.per_channel = _check_bool(per_channel, "per_channel")

    def quantized_weight(self) -> torch.Tensor:
        """The weight the forward pass uses (STE-wrapped), shape ``(out, in)``."""
        axis = 0 if self.per_channel else None
        return fake_quantize(self.weight, self.bits, self.symmetric, axis)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.quantized_weight(), self.bias)

    def extra_repr(self) -> str:
        return (
            f"{super().extra_repr()}, bits={self.bits}, symmetric={self.symmetric}, "
            f"per_channel={self.per_channel}"
        )

    @classmethod
    def from_linear(
        cls, linear: nn.Linear, bits: int = 8, symmetric: bool = True, per_channel: bool = True
    ) -> QuantLinear:
        """A ``QuantLinear`` with a copy of ``linear``'s weight and bias."""
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"linear must be an nn.Linear; got {type(linear).__name__}")
        layer = cls(
            linear.in_features,
            linear.out_features,
            bias=linear.bias is not None,
            bits=bits,
            symmetric=symmetric,
            per_channel=per_channel,
        )
        with torch.no_grad():
            layer.weight.copy_(linear.weight)
            if linear.bias is not None:
                layer.bias.copy_(linear.bias)
        return layer


def _check_module(model: object) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return model


def to_quant_linear(
    model: nn.Module, bits: int = 8, symmetric: bool = True, per_channel: bool = True
) -> nn.Module:
    """A deep copy of ``model`` with every ``nn.Linear`` replaced by a :class:`QuantLinear`.

    Use it for quantization-aware training: train the copy as usual (its latent
    weights are float), then read the deployed weights with
    :func:`quantize_model_weights`.
    """
    model = copy.deepcopy(_check_module(model))
    _validate.integer(bits, "bits", 2, 16)

    def swap(module: nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, nn.Linear) and not isinstance(child, QuantLinear):
                setattr(module, name, QuantLinear.from_linear(child, bits, symmetric, per_channel))
            else:
                swap(child)

    swap(model)
    return model


def quantize_model_weights(
    model: nn.Module, bits: int, symmetric: bool = True, per_channel: bool = True
) -> nn.Module:
    """Post-training quantization: a deep copy whose weight matrices are ``dequantize(quantize(W))``.

    Every parameter with two or more dimensions (Linear and Conv weights) is replaced
    by its quantized value (per output channel, ``axis=0``, if ``per_channel``);
    biases are left in floating point. A :class:`QuantLinear` comes back as a plain
    ``nn.Linear`` holding its quantized weight.
    """
    model = copy.deepcopy(_check_module(model))
    bits = _validate.integer(bits, "bits", 2, 16)
    axis = 0 if _check_bool(per_channel, "per_channel") else None

    def unwrap(module: nn.Module) -> None:
        for name, child in module.named_children():
            if isinstance(child, QuantLinear):
                plain = nn.Linear(child.in_features, child.out_features, child.bias is not None)
                plain.load_state_dict(child.state_dict())
                setattr(module, name, plain)
            else:
                unwrap(child)

    unwrap(model)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() >= 2:
                p.copy_(dequantize(*quantize(p, bits, symmetric, axis)).to(p.dtype))
    return model
