"""Self-checks for lesson 13, quantization in practice.

The checks name the usual slips: the bytes of a per-group 4-bit matrix without its scales or its
zero points, with codes one per byte or float32 scales; two codes packed into a byte in the wrong
order (the odd-indexed code in the low half); a centroid gradient that averages its cluster's
gradients instead of summing them, or that writes ``g[index] = ...`` / ``g[index] += ...`` (with
repeated indices only one value per centroid lands); a symmetric per-group quantizer mis-scaled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from . import NotYet, as_number, number, passed

__all__ = ["int4_bytes", "packed_bytes", "centroid_grad", "symmetric_groups"]

#: Exercise 1's matrix: 4096 x 4096 weights in groups of 128.
ROWS, COLS, GROUP = 4096, 4096, 128
#: Exercise 2's codes, two to a byte.
CODES = (3, 12, 7, 0, 15, 9)


def int4_bytes(answer: object) -> None:
    """Exercise 1: bytes of a 4096 x 4096 matrix in per-group int4 (g = 128): packed codes,
    float16 scales, 4-bit zero points two to a byte: ``n/2 + 2n/g + n/(2g)`` = 8,716,288."""
    n = ROWS * COLS
    codes, scales, zeros = n // 2, 2 * n // GROUP, n // (2 * GROUP)
    hint = (
        "three parts: the codes (4 bits, two to a byte), one float16 scale (2 bytes) per group and "
        "one 4-bit zero point per group (two to a byte); a group is 128 weights."
    )
    value = as_number(answer, "the bytes of the matrix", hint)
    if not value.is_integer():
        raise NotYet(f"{value!r} is not a whole number of bytes. Hint: {hint}")
    if value == codes + scales + zeros:
        passed(f"{codes:,d} bytes of codes + {scales:,d} of scales + {zeros:,d} of zero points = "
               f"{codes + scales + zeros:,d} bytes (4.16 bits a weight).")
        return
    number(
        value,
        float(codes + scales + zeros),
        what="the bytes of the 4096 x 4096 matrix in per-group int4",
        hint=hint,
        rtol=0.0,
        mistakes={
            "codes": (
                float(codes),
                "that is the codes alone; each group also stores a scale and a zero point.",
            ),
            "no_zeros": (float(codes + scales), "the zero points are missing (one 4-bit number per group)."),
            "no_scales": (float(codes + zeros), "the float16 scales are missing (2 bytes per group)."),
            "zeros_bytes": (
                float(codes + scales + 2 * zeros),
                "that stores each zero point in a whole byte; they too go two to a byte.",
            ),
            "byte_codes": (
                float(2 * codes + scales + zeros),
                "that stores one code per byte; two 4-bit codes share each byte.",
            ),
            "f32_scales": (
                float(codes + 2 * scales + zeros),
                "that stores the scales in float32; they are float16.",
            ),
            "bits": (float(8 * (codes + scales + zeros)), "that is the number of bits, not bytes."),
            "float16": (float(2 * n), "that is the matrix in float16."),
        },
    )


def packed_bytes(answer: object) -> None:
    """Exercise 2: the codes 3, 12, 7, 0, 15, 9 two to a byte, the even-indexed code in the low four
    bits: ``[3 + 16*12, 7 + 16*0, 15 + 16*9] = [195, 7, 159]``."""
    want = [CODES[i] | CODES[i + 1] << 4 for i in range(0, len(CODES), 2)]
    hint = "byte i = codes[2i] | (codes[2i + 1] << 4), that is codes[2i] + 16 * codes[2i + 1]."
    if answer is None or answer is Ellipsis:
        raise NotYet(f"No answer yet for the three bytes. Hint: {hint}")
    if hasattr(answer, "detach"):
        answer = answer.detach().cpu().numpy()
    if isinstance(answer, str | bytes | bytearray):
        raise NotYet(
            f"give the bytes as a list of three integers, e.g. [1, 2, 3]; got {answer!r}. Hint: {hint}"
        )
    try:
        arr = np.asarray(answer)
    except (TypeError, ValueError):
        raise NotYet(
            f"give the bytes as a list of three integers; got {type(answer).__name__}. Hint: {hint}"
        ) from None
    if arr.dtype.kind not in "iuf" or arr.dtype == bool:
        raise NotYet(f"give the bytes as a list of three integers; got {answer!r}. Hint: {hint}")
    if arr.shape != (3,):
        raise NotYet(
            f"six 4-bit codes fill three bytes: give a list of 3 integers; got shape {arr.shape}. "
            f"Hint: {hint}"
        )
    if not np.all(np.isfinite(arr.astype(float))) or not np.all(arr == np.round(arr)):
        raise NotYet(f"bytes are integers; got {arr.tolist()}. Hint: {hint}")
    got = [int(v) for v in arr]
    if got == want:
        passed(f"the codes {list(CODES)} packed two to a byte are {want}.")
        return
    swapped = [CODES[i + 1] | CODES[i] << 4 for i in range(0, len(CODES), 2)]
    if got == swapped:
        raise NotYet(
            f"{got} puts the odd-indexed code in the low four bits; the first code of each pair "
            f"goes in the low half. Hint: {hint}"
        )
    if any(not 0 <= v <= 255 for v in got):
        raise NotYet(f"a byte holds 0 to 255; got {got}. Hint: {hint}")
    if got == [CODES[i] + CODES[i + 1] for i in range(0, len(CODES), 2)]:
        raise NotYet(
            f"{got} adds the two codes; the second one must move to the high four bits first "
            f"(times 16). Hint: {hint}"
        )
    raise NotYet(f"{got} are not the packed bytes. Hint: {hint}")


def _reference_grad(weight_grad: torch.Tensor, index: torch.Tensor, k: int) -> torch.Tensor:
    """The sum over each cluster, by a plain loop over the entries."""
    out = [0.0] * k
    for g, i in zip(weight_grad.reshape(-1).tolist(), index.reshape(-1).tolist(), strict=True):
        out[i] += g
    return torch.tensor(out, dtype=torch.float64)


def centroid_grad(candidate: Callable[[torch.Tensor, torch.Tensor, int], Any]) -> None:
    """Exercise 3: ``centroid_grad(weight_grad, index, k)`` returns ``g`` of shape ``(k,)`` with
    ``g[c] = sum of weight_grad over the entries whose index is c`` (0 for an empty cluster)."""
    hint = (
        "torch.zeros(k, dtype=weight_grad.dtype).index_add_(0, index.reshape(-1), weight_grad.reshape(-1)), "
        "or torch.bincount(index.reshape(-1), weights=weight_grad.reshape(-1), minlength=k)."
    )
    if not callable(candidate):
        raise NotYet(f"centroid_grad should be a function; got {type(candidate).__name__}. Hint: {hint}")
    gen = torch.Generator().manual_seed(13)
    cases = [(torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64), torch.tensor([[0, 1], [1, 1]]), 2)]
    for shape, k in [((5, 7), 4), ((16, 8), 8), ((3, 4), 6)]:  # the last has empty clusters
        index = torch.randint(0, k if k != 6 else 3, shape, generator=gen)
        cases.append((torch.randn(shape, generator=gen, dtype=torch.float64), index, k))
    for weight_grad, index, k in cases:
        want = _reference_grad(weight_grad, index, k)
        try:
            got = candidate(weight_grad.clone(), index.clone(), k)
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001 - a slip in the student's code becomes a message
            raise NotYet(f"your function raised {type(error).__name__}: {error}. Hint: {hint}") from None
        if got is None:
            raise NotYet(f"your function returned None; return a tensor of {k} numbers. Hint: {hint}")
        if hasattr(got, "detach"):
            got = got.detach().cpu().numpy()
        try:
            got = np.asarray(got, dtype=float)
        except (TypeError, ValueError):
            raise NotYet(f"return a tensor of {k} numbers; got {type(got).__name__}. Hint: {hint}") from None
        if got.shape != (k,):
            raise NotYet(
                f"return one gradient per centroid, shape ({k},); got shape {got.shape} for k = {k}. "
                f"Hint: {hint}"
            )
        w = want.numpy()
        if np.allclose(got, w, rtol=1e-9, atol=1e-12):
            continue
        counts = np.bincount(index.reshape(-1).numpy(), minlength=k)
        mean = np.divide(w, counts, out=np.zeros(k), where=counts > 0)
        if np.allclose(got, mean, rtol=1e-9, atol=1e-12):
            raise NotYet(
                "that is the mean of each cluster's gradients; the loss depends on C_c through every "
                "weight of its cluster, so the chain rule sums them. Hint: " + hint
            )
        last = np.zeros(k)
        for g, i in zip(weight_grad.reshape(-1).tolist(), index.reshape(-1).tolist(), strict=True):
            last[i] = g
        if np.allclose(got, last, rtol=1e-9, atol=1e-12):
            raise NotYet(
                "each centroid got only one of its weights' gradients: g[index] = ... or "
                "g[index] += ... writes each repeated index once, it does not add them up. Hint: " + hint
            )
        if np.allclose(got, w * counts.sum(), rtol=1e-9, atol=1e-12) or np.allclose(
            got, w / counts.sum(), rtol=1e-9, atol=1e-12
        ):
            raise NotYet(
                "the sums are scaled by the number of weights; give the plain sum per cluster. Hint: " + hint
            )
        raise NotYet(
            f"for k = {k} and a {tuple(index.shape)} index your function gives "
            f"{np.array2string(got, precision=4)}; expected {np.array2string(w, precision=4)}. Hint: {hint}"
        )
    passed(f"centroid_grad sums each cluster's gradients ({len(cases)} cases, empty clusters included).")


def _symmetric_dequantized(w: torch.Tensor, g: int) -> torch.Tensor:
    """Symmetric per-group 4-bit round trip: codes in [-7, 7], s = max|w| / 7 per group (float64)."""
    out, inp = w.shape
    g = min(g, inp)  # a row shorter than g is one group
    x = w.detach().to(torch.float64).reshape(out, inp // g, g)
    s = x.abs().amax(dim=2, keepdim=True) / 7
    s = torch.where(s > 0, s, torch.ones_like(s))
    return (torch.clamp(torch.round(x / s), -7, 7) * s).reshape(out, inp)


def symmetric_val_accuracy(nets: Mapping[int, nn.Module] | list, splits: Any, g: int = 32) -> float:
    """Mean validation accuracy (in %) of the networks with every linear weight replaced by its symmetric
    per-group 4-bit round trip (groups of ``g``)."""
    accs = []
    for net in nets.values() if isinstance(nets, Mapping) else nets:
        layers = []
        for layer in net:
            if isinstance(layer, nn.Linear):
                new = nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
                with torch.no_grad():
                    new.weight.copy_(_symmetric_dequantized(layer.weight, g))
                    new.bias.copy_(layer.bias.detach().to(torch.float64))
                layers.append(new)
            else:
                layers.append(layer)
        with torch.no_grad():
            pred = nn.Sequential(*layers)(splits.X_val.to(torch.float64)).argmax(dim=1)
        accs.append(100 * int((pred == splits.y_val).sum()) / len(splits.y_val))
    return float(np.mean(accs))


def symmetric_groups(sym_val: object, better: object, asym_val: float, nets: Any, splits: Any) -> None:
    """Exercise 4: the mean validation accuracy with symmetric per-group 4-bit weights (g = 32), and which
    of "symmetric" / "asymmetric" is better on validation (the lesson's asymmetric mean is ``asym_val``)."""
    hint = (
        "per group of 32: s = max|w| / 7, q = clamp(round(w / s), -7, 7), w_hat = s q; replace every linear "
        "weight of each network by w_hat and average the five validation accuracies (in %)."
    )
    value = as_number(sym_val, "the mean validation accuracy with symmetric codes", hint)
    try:
        want = symmetric_val_accuracy(nets, splits)
    except Exception:  # noqa: BLE001 - wrong arguments become a message
        raise NotYet("pass the lesson's five networks (nets) and its splits to the check.") from None
    if math.isclose(value, want / 100, rel_tol=1e-9):
        raise NotYet(f"{value:.4f} is a fraction; give the accuracy in percent. Hint: {hint}")
    if not math.isclose(value, want, rel_tol=0, abs_tol=1e-9):
        close = [symmetric_val_accuracy(nets, splits, g) for g in (16, 64)]
        if any(math.isclose(value, c, abs_tol=1e-9) for c in close):
            raise NotYet(
                f"{value:.2f} % is the accuracy at another group size; use groups of 32. Hint: {hint}"
            )
        raise NotYet(
            f"{value:.2f} % is not the mean validation accuracy with symmetric codes in [-7, 7] "
            f"(groups of 32). Hint: {hint}"
        )
    if better not in ("symmetric", "asymmetric"):
        raise NotYet(f'better should be "symmetric" or "asymmetric"; got {better!r}.')
    asym = as_number(asym_val, "the lesson's asymmetric validation accuracy")
    if math.isclose(want, asym, abs_tol=1e-9):
        passed(f"symmetric and asymmetric codes give the same mean validation accuracy, {want:.2f} %.")
        return
    right = "symmetric" if want > asym else "asymmetric"
    if better != right:
        raise NotYet(
            f"on validation symmetric gives {want:.2f} % and asymmetric {asym:.2f} %: compare again."
        )
    passed(
        f"symmetric {want:.2f} % against asymmetric {asym:.2f} % on validation (groups of 32): {right} is "
        "better here."
    )
