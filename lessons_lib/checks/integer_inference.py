"""Self-checks for lesson 12, integer inference.

The checks name the usual slips: a bias stored at the weight's or the input's scale alone
instead of ``s_w s_x``; a multiplier not normalised to ``m0 >= 2^30`` or a shift of the wrong
sign; a BatchNorm folded without ``eps``, with the variance where its square root belongs, or
without subtracting the running mean, or without BatchNorm's scale (gamma) or shift (beta).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import folding, integer_inference, observers
from ..intervals import t_half_width
from . import NotYet, as_number, number, passed, run_answer


def bias_code(answer: object) -> None:
    """Exercise 1: ``b = 0.5``, ``s_w = 0.01``, ``s_x = 1/255``: ``round(b / (s_w s_x)) = 12750``."""
    hint = (
        "the int32 bias is added to sums of q_w * q_x, whose scale is s_w * s_x: q_b = round(b / (s_w s_x))."
    )
    value = as_number(answer, "the int32 bias code", hint)
    if not value.is_integer():
        raise NotYet(f"{value!r} is not an integer; the bias is stored as an int32 code. Hint: {hint}")
    number(
        value,
        12750.0,
        what="the int32 bias code",
        hint=hint,
        rtol=0.0,
        mistakes={
            "weight_scale": (
                50.0,
                "that is b / s_w, the bias at the weights' scale alone; the sums it is "
                "added to have the scale s_w * s_x.",
            ),
            "input_scale": (
                128.0,
                "that is b / s_x rounded, the bias at the input's scale alone; the sums "
                "it is added to have the scale s_w * s_x.",
            ),
            "input_scale_exact": (
                127.0,
                "that is b / s_x rounded down, the bias at the input's scale alone.",
            ),
            "times": (
                0.5 * 0.01 / 255,
                "that multiplies by the scales; a code is the value divided by its scale.",
            ),
            "float_code": (0.5 * 255 / 0.01 / 255, "that divides by s_w only (and multiplies by 255 twice)."),
        },
    )


def multiplier(m0: object, shift: object) -> None:
    """Exercise 2: ``M = 0.0123`` as ``m0 / 2^shift`` with ``m0`` in ``[2^30, 2^31)``."""
    M = 0.0123
    want_m0, want_shift = (int(v) for v in integer_inference.quantize_multiplier(M))
    hint = (
        "M = f * 2^e with f in [0.5, 1) (math.frexp(M)); m0 = round(f * 2^31), shift = 31 - e; "
        "check: m0 / 2**shift is M."
    )
    a = as_number(m0, "m0", hint)
    b = as_number(shift, "the shift", hint)
    if not (a.is_integer() and b.is_integer()):
        raise NotYet(f"m0 and the shift must be integers; got {a!r} and {b!r}. Hint: {hint}")
    a, b = int(a), int(b)
    if a == want_m0 and b == want_shift:
        passed(
            f"M = 0.0123 = {want_m0} / 2^{want_shift} (relative error "
            f"{abs(want_m0 / 2**want_shift - M) / M:.1e})."
        )
        return
    if b == -want_shift and a == want_m0:
        raise NotYet(
            f"the shift has the wrong sign: M = m0 * 2^-shift is small, so shift = {want_shift} > 0 "
            f"divides. Hint: {hint}"
        )
    if a == round(M * 2**31) and b == 31:
        raise NotYet(
            f"{a} / 2^31 is M, but m0 = {a} is below 2^30 and keeps only about "
            f"{a.bit_length()} significant bits; normalise it into [2^30, 2^31) with a larger "
            f"shift. Hint: {hint}"
        )
    if not 2**30 <= a < 2**31:
        raise NotYet(f"m0 = {a} is outside [2^30, 2^31) = [{2**30}, {2**31}). Hint: {hint}")
    if not 0 <= b <= 63:  # 2.0**b would overflow for a huge shift
        raise NotYet(f"a shift of {b} is outside 0 to 63, the shifts of a 64-bit integer: M = m0 / 2^shift "
                     f"with m0 in [2^30, 2^31) and M = 0.0123 needs one inside. Hint: {hint}")
    value = a / 2.0**b
    if abs(value - M) / M > 2.0**-30:
        raise NotYet(f"{a} / 2^{b} = {value:.6g}, not M = {M}. Hint: {hint}")
    raise NotYet(
        f"{a} / 2^{b} is close to M but m0 is not round(f * 2^31) = {want_m0}: round to the "
        f"nearest integer. Hint: {hint}"
    )


def _random_pair(
    gen: torch.Generator, n_in: int, n_out: int, dtype: torch.dtype
) -> tuple[nn.Linear, nn.BatchNorm1d]:
    linear = nn.Linear(n_in, n_out, dtype=dtype)
    bn = nn.BatchNorm1d(n_out, eps=1e-3, dtype=dtype)
    with torch.no_grad():
        for p in (linear.weight, linear.bias, bn.weight, bn.bias, bn.running_mean):
            p.copy_(torch.randn(p.shape, generator=gen, dtype=dtype))
        bn.running_var.copy_(torch.rand(n_out, generator=gen, dtype=dtype) * 3 + 0.01)
    return linear, bn.eval()


def fold_linear_bn(candidate: Callable[[nn.Linear, nn.BatchNorm1d], Any]) -> None:
    """Exercise 3: a folded ``nn.Linear`` equal to ``bn(linear(x))`` on random layers (eps = 1e-3)."""
    if not callable(candidate):
        raise NotYet(f"fold_linear_bn should be a function; got {type(candidate).__name__}.")
    hint = (
        "factor = gamma / sqrt(running_var + eps); W' = W * factor[:, None]; "
        "b' = (b - running_mean) * factor + beta."
    )
    gen = torch.Generator().manual_seed(10)
    for n_in, n_out in [(5, 3), (64, 16), (7, 1)]:
        linear, bn = _random_pair(gen, n_in, n_out, torch.float64)
        x = torch.randn(20, n_in, generator=gen, dtype=torch.float64)
        with torch.no_grad():
            want = bn(linear(x))  # before the candidate runs: it may change the layers in place
        given_linear, given_bn = copy.deepcopy(linear), copy.deepcopy(bn)
        folded = run_answer(candidate, given_linear, given_bn, name="fold_linear_bn", hint=hint,
                            forbid=folding, crashed=f"your function raised {{type}}: {{error}}. Hint: {hint}")
        given = [*given_linear.state_dict().values(), *given_bn.state_dict().values()]
        original = [*linear.state_dict().values(), *bn.state_dict().values()]
        if any(not torch.equal(a, b) for a, b in zip(given, original, strict=True)):
            raise NotYet("your function changed the layers it was given: the exercise asks for a new "
                         "nn.Linear, and a network that still uses the old layers would then apply "
                         "BatchNorm twice. Build the folded layer as a copy (copy.deepcopy(linear), then "
                         f"change the copy's weight and bias under torch.no_grad()). Hint: {hint}")
        if not isinstance(folded, nn.Linear):
            raise NotYet(f"return an nn.Linear; got {type(folded).__name__}. Hint: {hint}")
        for name, p in (("weight", folded.weight), ("bias", folded.bias)):
            if p is not None and p.dtype != linear.weight.dtype:
                raise NotYet(f"the folded layer's {name} is {p.dtype}; the layers given are "
                             f"{linear.weight.dtype}: keep their dtype (build it with "
                             f"dtype=linear.weight.dtype, or copy the layer). Hint: {hint}")
        with torch.no_grad():
            try:
                got = folded(x)
            except Exception as error:  # noqa: BLE001 - e.g. a layer of the wrong shape
                raise NotYet(f"the folded layer cannot take the layer's input (20 x {n_in}): "
                             f"{type(error).__name__}: {error}. Hint: {hint}") from None
            if got.shape != want.shape:
                raise NotYet(
                    f"the folded layer gives shape {tuple(got.shape)}; expected {tuple(want.shape)}."
                )
            if torch.allclose(got, want, rtol=1e-9, atol=1e-9):
                continue
            factor = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            no_eps = bn.weight / torch.sqrt(bn.running_var)
            variants = {
                "eps": (no_eps, linear.bias - bn.running_mean, "eps is missing under the square root."),
                "var": (
                    bn.weight / (bn.running_var + bn.eps),
                    linear.bias - bn.running_mean,
                    "divide by the standard deviation sqrt(var + eps), not by the variance.",
                ),
                "mean": (
                    factor,
                    linear.bias,
                    "the running mean must be subtracted from the bias before scaling.",
                ),
                "gamma": (
                    1 / torch.sqrt(bn.running_var + bn.eps),
                    linear.bias - bn.running_mean,
                    "BatchNorm's scale gamma (bn.weight) is missing from the factor.",
                ),
            }
            for f, shifted, message in variants.values():
                wrong = x @ (linear.weight * f[:, None]).t() + shifted * f + bn.bias
                if torch.allclose(got, wrong, rtol=1e-9, atol=1e-9):
                    raise NotYet(f"not yet equal to bn(linear(x)): {message} Hint: {hint}")
            no_beta = x @ (linear.weight * factor[:, None]).t() + (linear.bias - bn.running_mean) * factor
            if torch.allclose(got, no_beta, rtol=1e-9, atol=1e-9):
                raise NotYet(
                    f"not yet equal to bn(linear(x)): BatchNorm's shift beta (bn.bias) must be added "
                    f"to the folded bias. Hint: {hint}"
                )
            worst = (got - want).abs().max().item()
            raise NotYet(
                f"the folded layer differs from bn(linear(x)) by up to {worst:.3g} on a "
                f"{n_in} -> {n_out} layer. Hint: {hint}"
            )
    passed("fold_linear_bn(linear, bn) equals bn(linear(x)) on 3 random layers (eps = 1e-3).")


def observer_for_4_bits(
    answer: object, nets: Mapping[int, nn.Module], X_cal: torch.Tensor, splits: Any, means: object = None
) -> None:
    """Exercise 4: the observer with the higher mean validation accuracy at 4-bit activations (P = 99).

    ``means`` (the student's ``val_4``), if given, must map each observer's name to its mean validation
    accuracy, all as fractions in [0, 1] or all in percent, to 0.01 of a point (a mean over five
    networks of 270 images moves in steps of 0.074 points)."""
    hint = (
        "convert each network with bits=4 and observer='minmax', then 'percentile' (percentile=99.0); "
        "compare the mean validation accuracies (never the test part)."
    )
    if answer is None or answer is Ellipsis:
        raise NotYet(f"No answer yet. Hint: {hint}")
    if not isinstance(answer, str) or answer not in observers.OBSERVERS:
        raise NotYet(f"answer with one of {list(observers.OBSERVERS)}; got {answer!r}. Hint: {hint}")
    if not isinstance(nets, Mapping) or len(nets) != 5:
        raise NotYet("pass the lesson's five networks, nets (seeds 0 to 4), as the check's second argument.")
    states = [[p.detach() for p in net.parameters()] if isinstance(net, nn.Module) else None
              for net in nets.values()]
    if any(s is None for s in states):
        raise NotYet("pass the lesson's five networks, nets (seeds 0 to 4): its values must be torch "
                     "networks.")
    if any(
        len(a) == len(b) and all(x.shape == y.shape and torch.equal(x, y) for x, y in zip(a, b, strict=True))
        for i, a in enumerate(states) for b in states[i + 1:]
    ):
        raise NotYet("pass the lesson's five networks, nets (seeds 0 to 4): five different trained networks, "
                     "not copies of one.")
    if not (
        isinstance(X_cal, torch.Tensor)
        and X_cal.shape == (512, 64)
        and torch.equal(X_cal, splits.X_train[:512])
        and len(splits.y_val) == 270
    ):
        raise NotYet(
            "pass the lesson's calibration images, X_cal = splits.X_train[:512], and its splits "
            "(270 validation images)."
        )
    per_net = {
        name: np.array(
            [
                integer_inference.convert(net, X_cal, observer=name, percentile=99.0, bits=4).accuracy(
                    splits.X_val, splits.y_val
                )
                for net in nets.values()
            ]
        )
        for name in observers.OBSERVERS
    }
    mean = {name: float(np.mean(acc)) for name, acc in per_net.items()}
    if not all(math.isfinite(v) for v in mean.values()):
        raise NotYet(
            "the accuracies could not be computed from these arguments; pass the lesson's nets, X_cal "
            "and splits."
        )
    if means is not None:
        _check_means(means, mean, hint)
    best = max(mean, key=mean.get)
    shown = ", ".join(f"{k} {100 * v:.2f} %" for k, v in mean.items())
    if math.isclose(mean["minmax"], mean["percentile"]):
        passed(f"both observers give the same mean validation accuracy ({shown}).")
        return
    if answer != best:
        raise NotYet(f"{answer!r} does not have the higher mean validation accuracy. Hint: {hint}")
    other = next(name for name in mean if name != best)
    interval = paired_interval(100 * (per_net[best] - per_net[other]), best, other)
    passed(f"{best!r} has the higher mean at 4 bits on validation: {shown}; {interval}.")


def paired_interval(d: Any, best: str, other: str) -> str:
    """``"best - other = m ± h points (paired by network, 95 % interval), so ..."``: ``d`` holds the
    paired differences (points, ``best`` minus ``other``, one per network), ``h`` the half-width
    ``t_{0.975, n-1} s / sqrt(n)`` of the t-interval; the verdict says whether it contains 0, and
    which one is better if not."""
    d = np.asarray(d, dtype=float)
    half = t_half_width(d)
    if abs(d.mean()) <= half:
        verdict = f"the interval contains 0: no difference detected over these {d.size} networks"
    else:
        verdict = f"the interval excludes 0: {best if d.mean() > 0 else other} is better here"
    return (f"{best} - {other} = {d.mean():+.2f} ± {half:.2f} points (paired by network, 95 % interval), "
            f"so {verdict}")


def _check_means(means: object, mean: dict[str, float], hint: str) -> None:
    """The student's val_4 against the recomputed means (fractions): one unit for all, to 0.01 of a point."""
    if not isinstance(means, Mapping) or set(means) != set(mean):
        raise NotYet(f"val_4 must be a dict with the keys {sorted(mean)}; got {means!r:.80}. Hint: {hint}")
    values = {}
    for name, value in means.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise NotYet(f"val_4[{name!r}] must be a number (a mean accuracy); got {value!r:.60}")
        values[name] = float(value)
    for scale in (1.0, 100.0):  # fractions, or percent; one mean moves in steps of 100/1350 of a point
        if all(abs(values[k] * 100 / scale - 100 * mean[k]) <= 0.01 for k in mean):
            return
    raise NotYet(
        "val_4 does not hold the mean validation accuracies of the five networks (all as fractions in "
        f"[0, 1] or all in percent). Hint: {hint}"
    )
