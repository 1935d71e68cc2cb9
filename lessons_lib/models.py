"""Small networks for the 8x8 digits: an MLP and a CNN.

Both take flat inputs ``(n, 64)`` (the CNN also takes images ``(n, 1, 8, 8)``) and
return logits ``(n, 10)``. Initialisation uses PyTorch's defaults and so is fixed by
``torch.manual_seed``; passing ``seed=`` builds the model under that seed without
touching the global random state.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from lessons_lib import _validate

__all__ = ["mlp", "small_cnn", "count_parameters", "ToImage"]


def _build(seed: int | None, make):
    if seed is None:
        return make()
    seed = _validate.integer(seed, "seed", 0, 2**63 - 1)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


def mlp(
    hidden: Sequence[int] = (64, 32),
    n_in: int = 64,
    n_out: int = 10,
    seed: int | None = None,
) -> nn.Sequential:
    """Multilayer perceptron ``Linear -> ReLU -> ... -> Linear``.

    Parameters
    ----------
    hidden : widths of the hidden layers (each an int >= 1; may be empty for a
        linear classifier)
    n_in, n_out : input features and classes
    seed : optional seed for the initial weights (global RNG left untouched)

    Returns
    -------
    ``nn.Sequential`` mapping ``(n, n_in)`` to logits ``(n, n_out)``; the default has
    64*64 + 64 + 64*32 + 32 + 32*10 + 10 = 6,570 parameters.
    """
    if isinstance(hidden, int | str) or not isinstance(hidden, Sequence):
        raise TypeError(f"hidden must be a sequence of layer widths; got {hidden!r}")
    widths = [_validate.integer(h, "hidden", 1, None) for h in hidden]
    n_in = _validate.integer(n_in, "n_in", 1, None)
    n_out = _validate.integer(n_out, "n_out", 1, None)

    def make() -> nn.Sequential:
        layers: list[nn.Module] = []
        prev = n_in
        for h in widths:
            layers += [nn.Linear(prev, h), nn.ReLU()]
            prev = h
        layers.append(nn.Linear(prev, n_out))
        return nn.Sequential(*layers)

    return _build(seed, make)


class ToImage(nn.Module):
    """Reshape flat ``(n, 64)`` input to ``(n, 1, 8, 8)``; images pass unchanged."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(-1, 1, 8, 8)


def small_cnn(channels: Sequence[int] = (8, 16), n_out: int = 10, seed: int | None = None,
              batchnorm: bool = False) -> nn.Sequential:
    """Two 3x3 conv blocks and a linear head for 1x8x8 digits.

    ``(n, 1, 8, 8)`` -> conv(c1) ReLU maxpool -> ``(n, c1, 4, 4)`` -> conv(c2) ReLU
    maxpool -> ``(n, c2, 2, 2)`` -> flatten -> Linear(4*c2, n_out).
    ``batchnorm=True`` puts a BatchNorm2d after each convolution (conv BN ReLU maxpool).
    """
    if isinstance(channels, int | str) or not isinstance(channels, Sequence) or len(channels) != 2:
        raise ValueError(f"channels must be a pair of ints (c1, c2); got {channels!r}")
    c1 = _validate.integer(channels[0], "channels", 1, None)
    c2 = _validate.integer(channels[1], "channels", 1, None)
    n_out = _validate.integer(n_out, "n_out", 1, None)
    if not isinstance(batchnorm, bool):
        raise TypeError(f"batchnorm must be True or False; got {batchnorm!r}")

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        norm: list[nn.Module] = [nn.BatchNorm2d(c_out)] if batchnorm else []
        return [nn.Conv2d(c_in, c_out, 3, padding=1), *norm, nn.ReLU(), nn.MaxPool2d(2)]

    def make() -> nn.Sequential:
        return nn.Sequential(ToImage(), *block(1, c1), *block(c1, c2), nn.Flatten(), nn.Linear(4 * c2, n_out))

    return _build(seed, make)


def count_parameters(model: nn.Module) -> int:
    """Total number of entries in the model's parameters."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters())
