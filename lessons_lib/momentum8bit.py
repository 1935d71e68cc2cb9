"""The momentum buffer stored in 8 bits, block by block (Dettmers et al., ICLR 2022).

SGD with momentum keeps one float32 buffer entry per parameter: as much memory as
the model itself. Block-wise 8-bit storage cuts that by almost 4x:

* flatten the buffer and cut it into blocks of ``block_size`` values (256 here, 2048
  in the paper's GPU kernels); the last block is padded with zeros;
* per block keep ``absmax = max |b|`` as float32 and the normalised values
  ``b / absmax`` in [-1, 1] rounded to the nearest entry of a *code map* of at most 256 values;
* store the index of that entry as a ``uint8``.

Two code maps:

* ``"linear"``: the 255 values ``k / 127``, ``k = -127..127`` (an int8 grid);
* ``"dynamic"``: Dettmers et al.'s *dynamic tree* map of 256 values, as bitsandbytes builds it
  (``bitsandbytes.functional.create_dynamic_map(signed=True)``; Dettmers, "8-bit approximations
  for parallelism in deep learning", ICLR 2016, and Dettmers et al., ICLR 2022, section 2). After
  the sign bit, the number of zeros before the first 1 is a decimal exponent ``-e`` (``e = 0..6``)
  and the bits after that 1 a linear fraction: with ``f = 6 - e`` fraction bits the magnitudes are
  ``10^-e (0.1 + 0.9 (j + 1/2) / 2^f)``, ``j = 0 .. 2^f - 1``; seven zeros give 0, and bitsandbytes
  adds 1.0 as the 256th value. So ``2^f`` values of each sign per decade, from 64 in
  ``[0.1, 1]`` down to 1 in ``[10^-7, 10^-6]``: dense near 0 and sparse near 1, which keeps the
  small entries of a block with one large entry from all rounding to 0. The map is not symmetric:
  its largest value is 1 and its smallest ``-(1 - 0.9/128) = -0.99296875``.

Every block-wise round trip has error at most ``absmax * (half the largest gap of
the map)``; for ``"linear"`` that is ``absmax / 254`` per entry.

State bytes: float32 momentum costs ``4 n`` bytes for ``n`` parameters; 8-bit costs
``n + 4 * ceil(n / block_size)`` per tensor.

:func:`train_many_8bit` trains several same-shaped MLPs with this optimizer side by side (the
forward and backward passes of ``batched_training.train_many``), each as it would train alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import torch
from torch import nn

from lessons_lib import _validate

__all__ = [
    "code_map",
    "quantize_blockwise",
    "dequantize_blockwise",
    "SGD8bitMomentum",
    "optimizer_state_bytes",
    "StateBytes",
    "momentum_state_bytes",
    "train_many_8bit",
]

CODES = ("linear", "dynamic")


@cache
def _code_map(code: str) -> torch.Tensor:
    if code == "linear":
        return torch.arange(-127, 128, dtype=torch.float64).div(127).to(torch.float32)
    # bitsandbytes' create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)
    values = [0.0, 1.0]
    for i in range(7):  # decades 10^-6 .. 10^0, 2^i fractions each, both signs
        edges = torch.linspace(0.1, 1.0, 2**i + 1, dtype=torch.float64)
        means = (edges[:-1] + edges[1:]) / 2 * 10.0 ** (i - 6)
        values += means.tolist() + (-means).tolist()
    return torch.tensor(sorted(values), dtype=torch.float32)


_SHIFT = 12  # the nearest-entry table has one row per 2^12 consecutive float32 values


@cache
def _nearest_table(code: str) -> tuple[torch.Tensor, torch.Tensor]:
    """For a non-linear map: the midpoints between its sorted entries (with +inf appended) and a table
    giving, for each run of 2^12 consecutive float32 values (in the order of their values), the
    number of midpoints below the run's first value. Two midpoints of the dynamic map are at least
    1 % apart, a run spans about 0.05 %, so at most one midpoint falls inside a run."""
    cmap = _code_map(code)
    mids = (cmap[1:] + cmap[:-1]) / 2
    first = (torch.arange(-(2**31 >> _SHIFT), 2**31 >> _SHIFT, dtype=torch.int64) << _SHIFT).to(torch.int32)
    low = (first ^ ((first >> 31) & 0x7FFFFFFF)).view(torch.float32)  # the order key back to float32 bits
    low = torch.where(torch.isfinite(low), low, torch.zeros_like(low))  # NaN runs: never looked up
    return torch.cat([mids, mids.new_tensor([float("inf")])]), torch.bucketize(low, mids).to(torch.int16)


def _nearest_codes(normed: torch.Tensor, code: str) -> torch.Tensor:
    """``torch.bucketize(normed, midpoints)`` of a finite float32 tensor, by table: the run of the
    value gives the count of midpoints below the run; one comparison adds the midpoint inside it."""
    mids, table = _nearest_table(code)
    bits = normed.contiguous().view(torch.int32)
    key = bits ^ ((bits >> 31) & 0x7FFFFFFF)  # float32 bits as integers in the order of the values
    idx = table[(key >> _SHIFT).long() + (2**31 >> _SHIFT)].long()
    return (idx + (mids[idx] < normed)).to(torch.uint8)


def code_map(code: str = "linear") -> torch.Tensor:
    """The sorted values in [-1, 1] that 8-bit codes index: 255 for ``"linear"`` (0 and +-1 among
    them), 256 for ``"dynamic"`` (0 and 1 among them, not -1)."""
    return _code_map(_validate.one_of(code, "code", CODES)).clone()


def _check_block_size(block_size: object) -> int:
    return _validate.integer(block_size, "block_size", 1, 2**20)


def quantize_blockwise(
    x: torch.Tensor, block_size: int = 256, code: str = "linear"
) -> tuple[torch.Tensor, torch.Tensor]:
    """8-bit block-wise codes of a tensor.

    Parameters
    ----------
    x : float tensor of any shape with ``n`` finite entries, n >= 1
    block_size : int in [1, 2^20]
    code : ``"linear"`` or ``"dynamic"``

    Returns
    -------
    codes : uint8 tensor (n,), indices into :func:`code_map`
    absmax : float32 tensor (ceil(n / block_size),), ``max |x|`` of each block
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor; got {type(x).__name__}")
    block_size = _check_block_size(block_size)
    code = _validate.one_of(code, "code", CODES)
    flat = x.detach().reshape(-1).to(torch.float32)
    if flat.numel() == 0:
        raise ValueError("x must not be empty; got an empty tensor")
    return _quantize_flat(flat, block_size, code)


def _quantize_flat(flat: torch.Tensor, block_size: int, code: str) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`quantize_blockwise` of a non-empty flat float32 tensor, arguments already checked."""
    codes, absmax = _quantize_rows(flat[None], block_size, code, "x must be finite (no NaN or infinity)")
    return codes[0].contiguous(), absmax[0]


def dequantize_blockwise(
    codes: torch.Tensor,
    absmax: torch.Tensor,
    shape: tuple[int, ...] | torch.Size,
    block_size: int = 256,
    code: str = "linear",
) -> torch.Tensor:
    """Float32 tensor of ``shape`` from codes and block maxima: ``code_map[codes] * absmax``."""
    block_size = _check_block_size(block_size)
    cmap = _code_map(_validate.one_of(code, "code", CODES)).to(codes.device)
    n = codes.numel()
    if math.prod(tuple(shape)) != n:
        raise ValueError(f"shape must have {n} entries to match codes; got {tuple(shape)}")
    n_blocks = math.ceil(n / block_size)
    if absmax.numel() != n_blocks:
        raise ValueError(
            f"absmax must have ceil({n} / {block_size}) = {n_blocks} entries; got {absmax.numel()}"
        )
    return _dequantize_flat(codes.reshape(-1), absmax.reshape(-1), block_size, cmap).reshape(tuple(shape))


def _dequantize_flat(
    codes: torch.Tensor, absmax: torch.Tensor, block_size: int, cmap: torch.Tensor
) -> torch.Tensor:
    """Flat float32 ``cmap[codes] * absmax`` of each code's block, arguments already checked."""
    scale = absmax.to(torch.float32).repeat_interleave(block_size)[: codes.numel()]
    return cmap[codes.long()] * scale


class SGD8bitMomentum(torch.optim.Optimizer):
    """SGD with momentum (PyTorch's form) whose buffer lives in 8-bit block-wise codes.

    Each step, with ``beta`` the momentum coefficient (the keyword ``momentum``)::

        g = grad + weight_decay * p
        b = beta * dequantize(state) + g          (b = g on the first step)
        state = quantize_blockwise(b)             # uint8 codes + float32 absmax
        p -= lr * b            (nesterov: p -= lr * (g + beta * b))

    ``g``, ``b`` and the update are computed in the parameter's own dtype, as
    ``torch.optim.SGD`` computes them; only the buffer carried to the next step is
    rounded (to its 8-bit codes, whose scales are float32). So a run differs from
    ``torch.optim.SGD`` with the same arguments only by that rounding: the first step
    is identical. With ``momentum = 0`` no state is kept at all.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        block_size: int = 256,
        code: str = "linear",
    ) -> None:
        _validate.in_range(lr, "lr", 0.0, None)
        _validate.in_range(momentum, "momentum", 0.0, 1.0, high_open=True)
        _validate.in_range(weight_decay, "weight_decay", 0.0, None)
        defaults = dict(
            lr=float(lr),
            momentum=float(momentum),
            weight_decay=float(weight_decay),
            nesterov=bool(nesterov),
            block_size=_check_block_size(block_size),
            code=_validate.one_of(code, "code", CODES),
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, beta, wd = group["lr"], group["momentum"], group["weight_decay"]
            bs, code = group["block_size"], group["code"]
            cmap = _code_map(code)
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if wd != 0.0:
                    g = g.add(p, alpha=wd)
                if beta == 0.0:
                    p.add_(g, alpha=-lr)
                    continue
                state = self.state[p]
                if "codes" in state:
                    b = _dequantize_flat(state["codes"], state["absmax"], bs, cmap).view(p.shape).to(p.dtype)
                    b = b.mul_(beta).add_(g)
                else:
                    b = g.clone()
                flat = b.detach().reshape(-1).to(torch.float32)
                state["codes"], state["absmax"] = _quantize_flat(flat, bs, code)
                d = g.add(b, alpha=beta) if group["nesterov"] else b
                p.add_(d, alpha=-lr)
        return loss


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    """Bytes held by the tensors in ``optimizer.state`` (momentum buffers, codes, scales)."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer; got {type(optimizer).__name__}")
    total = 0
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                total += value.numel() * value.element_size()
    return total


@dataclass(frozen=True)
class StateBytes:
    """Momentum-buffer memory for a set of parameters.

    ``float32``: 4 bytes per entry. ``eight_bit``: 1 byte per entry plus a float32
    ``absmax`` per block. ``ratio = float32 / eight_bit``.
    """

    n_parameters: int
    float32: int
    eight_bit: int

    @property
    def ratio(self) -> float:
        return self.float32 / self.eight_bit


def momentum_state_bytes(
    model_or_params: nn.Module | Iterable[torch.Tensor], block_size: int = 256
) -> StateBytes:
    """Bytes of the momentum buffer in float32 and in 8-bit block-wise storage."""
    block_size = _check_block_size(block_size)
    if isinstance(model_or_params, nn.Module):
        params = list(model_or_params.parameters())
    else:
        params = list(model_or_params)
    if not params or not all(isinstance(p, torch.Tensor) for p in params):
        raise ValueError("model_or_params must be a module or a non-empty iterable of tensors")
    n = sum(p.numel() for p in params)
    eight = sum(p.numel() + 4 * math.ceil(p.numel() / block_size) for p in params)
    return StateBytes(n_parameters=n, float32=4 * n, eight_bit=eight)


def _quantize_rows(
    rows: torch.Tensor, block_size: int, code: str,
    not_finite: str = "the momentum buffer must stay finite (no NaN or infinity); lower lr",
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`quantize_blockwise` of each row of a float32 ``(K, n)`` tensor on its own: codes
    ``(K, n)`` and absmax ``(K, ceil(n / block_size))``. Each block is divided by its largest
    magnitude (the last block padded with zeros, which change no block's max, and given no codes)
    and each value coded as the nearest map entry. ``not_finite``: the ValueError's message if a
    block holds NaN or infinity."""
    k, n = rows.shape
    n_blocks = -(-n // block_size)
    if n_blocks * block_size != n:
        rows = torch.nn.functional.pad(rows, (0, n_blocks * block_size - n))
    blocks = rows.view(k, n_blocks, block_size)
    absmax = blocks.abs().amax(dim=2)
    if not bool(torch.isfinite(absmax).all()):  # NaN and infinity propagate into absmax
        raise ValueError(not_finite)
    safe = torch.where(absmax > 0, absmax, torch.ones_like(absmax))
    normed = (blocks / safe[:, :, None]).clamp_(-1.0, 1.0).reshape(k, -1)[:, :n]  # no codes for the padding
    if code == "linear":  # the map is k / 127: the nearest entry is a rounding
        codes = normed.mul_(127).round_().add_(127).to(torch.uint8)
    else:  # the nearest map entry: torch.bucketize(normed, midpoints), computed by table
        codes = _nearest_codes(normed, code)
    return codes, absmax


def train_many_8bit(
    models: Sequence[nn.Sequential],
    data: Any,
    *,
    epochs: int = 30,
    lr: float = 0.1,
    momentum: float = 0.9,
    batch_size: int = 128,
    seeds: Sequence[int],
    block_size: int = 256,
    code: str = "linear",
    progress: bool = False,
    desc: str = "train, 8-bit momentum",
) -> list[int]:
    """Train ``K`` same-shaped MLPs together with :class:`SGD8bitMomentum`, each as it trains alone.

    The batched counterpart of ``training.train(model, data, epochs, lr, momentum, batch_size,
    seed=seeds[k])`` with ``SGD8bitMomentum(block_size=block_size, code=code)`` as the optimizer:
    the forward and backward passes are those of :func:`lessons_lib.batched_training.train_many`
    (stacked weights ``(K, out, in)``, each model's own minibatches from ``seeds[k]``), and each
    step does, per parameter tensor and model,

        b = beta * dequantize(codes, absmax) + g      (b = g at the first step)
        codes, absmax = quantize_blockwise(b)         # per model: its tensor's own blocks
        p -= lr * b

    element by element as the optimizer does, so with one thread every model's weights come out
    bit for bit as in its own run (the tests compare them).

    Parameters
    ----------
    models : sequence of K >= 1 ``nn.Sequential`` MLPs of ``nn.Linear`` / ``nn.ReLU`` layers with
        the same shapes (trained in place)
    data : a ``DigitsSplit`` or ``(X, y)``, as for ``training.train``
    epochs : int >= 1; lr : > 0; momentum : in (0, 1); batch_size : int >= 1
    seeds : one int >= 0 per model (its data order)
    block_size : int in [1, 2^20]; code : ``"linear"`` or ``"dynamic"``

    Returns
    -------
    Per model, the bytes of its optimizer state after training (uint8 codes and float32 block
    maxima, as :func:`optimizer_state_bytes` counts them for ``SGD8bitMomentum``).
    """
    from lessons_lib.batched_training import StackedMLP, _layers, mean_cross_entropy_grad
    from lessons_lib.progress import progress as progress_bar
    from lessons_lib.training import _unpack

    models, kinds = _layers(models)
    k = len(models)
    X, y, _, _ = _unpack(data)
    epochs = _validate.integer(epochs, "epochs", 1, None)
    batch_size = _validate.integer(batch_size, "batch_size", 1, None)
    lr = float(_validate.in_range(lr, "lr", 0.0, None, low_open=True))
    beta = float(_validate.in_range(momentum, "momentum", 0.0, 1.0, low_open=True, high_open=True))
    block_size = _check_block_size(block_size)
    code = _validate.one_of(code, "code", CODES)
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | range) or len(seeds) != k:
        raise ValueError(f"seeds must be a sequence of one int per model ({k}); got {seeds!r}")
    seeds = [_validate.integer(s, "seeds", 0, 2**63 - 1) for s in seeds]
    first = next(models[0].parameters())
    if X.dim() != 2 or not X.is_floating_point() or X.dtype != first.dtype:
        raise ValueError(f"data must have X of shape (n, features) in the models' dtype {first.dtype}; "
                         f"got shape {tuple(X.shape)} and dtype {X.dtype}")
    cmap = _code_map(code)

    net = StackedMLP(models, kinds)  # forward and backward as train_many's
    stacked = net.parameters

    state: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * len(stacked)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    n = X.shape[0]
    with torch.no_grad():
        for _ in progress_bar(range(epochs), desc=desc) if progress else range(epochs):
            perms = torch.stack([torch.randperm(n, generator=g) for g in gens])
            for start in range(0, n, batch_size):
                idx = perms[:, start : start + batch_size]
                inputs: list[torch.Tensor] = []
                logits = net.forward(X[idx], inputs)
                inputs.append(logits)
                grads = net.backward(mean_cross_entropy_grad(logits, y[idx].unsqueeze(2))[1], inputs)
                for i, (p, g) in enumerate(zip(stacked, grads, strict=True)):
                    if state[i] is None:
                        b = g.clone()
                    else:
                        codes, absmax = state[i]
                        scale = absmax.repeat_interleave(block_size, dim=1)[:, : codes.shape[1]]
                        b = (cmap[codes.long()] * scale).view(p.shape).to(p.dtype)
                        b = b.mul_(beta).add_(g)
                    state[i] = _quantize_rows(b.reshape(k, -1).to(torch.float32), block_size, code)
                    p.add_(b, alpha=-lr)
    net.write_back(models)
    return [sum(codes.shape[1] + 4 * absmax.shape[1] for codes, absmax in state) for _ in models]
