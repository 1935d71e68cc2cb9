"""Table tests for lessons_lib.checks.compression (lesson 08): right answers pass, the wrong ones of
the review fail with a message (NotYet), never a traceback."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from lessons_lib import compression, pruning
from lessons_lib.checks import NotYet
from lessons_lib.checks import compression as check
from lessons_lib.data import load_digits_split
from lessons_lib.models import mlp
from lessons_lib.training import accuracy, train

# ---------------------------------------------------------------- exercises 1 and 2


@pytest.mark.parametrize("answer", [202_440, 202_440.0, np.int64(202_440), 4 * 50_610])
def test_momentum_bytes_right(answer):
    check.momentum_bytes(answer)


@pytest.mark.parametrize("answer", [50_610, 404_880, 202_439.9999, 202_440.5, "202440", None, True,
                                    [202_440, 1]])
def test_momentum_bytes_wrong(answer):
    with pytest.raises(NotYet):
        check.momentum_bytes(answer)


@pytest.mark.parametrize("answer", [2064, 2064.0, np.int32(2064)])
def test_layer_bytes_right(answer):
    check.layer_bytes(answer)


@pytest.mark.parametrize("answer", [1000 + 625 + 64, 2128, 2000, 1064, 2010, 2063.5, "2064", None, False])
def test_layer_bytes_wrong(answer):
    with pytest.raises(NotYet):
        check.layer_bytes(answer)


# ---------------------------------------------------------------- exercise 3


def _decode(data):
    positions, pos = [], -1
    for byte in data:
        if byte == 255:
            pos += 255
        else:
            pos += byte + 1
            positions.append(pos)
    return positions


def _encode(positions):
    """The lesson's encoder (the library's _gaps)."""
    return compression._gaps(np.asarray(positions, dtype=np.int64))


@pytest.mark.parametrize("decoder", [_decode, lambda d: tuple(_decode(d)),
                                     lambda d: np.asarray(_decode(d), dtype=np.int64)])
def test_positions_right(decoder):
    check.positions_from_gaps(decoder, _encode)


@pytest.mark.parametrize("decoder", [
    lambda d: [str(p) for p in _decode(d)],
    lambda d: [p + 0.5 for p in _decode(d)],
    lambda d: {p: p for p in _decode(d)},
    lambda d: str(_decode(d)),
    lambda d: [p + 1 for p in _decode(d)],
    lambda d: [p - 1 for p in _decode(d)],
    lambda d: [bool(p) for p in _decode(d)],
    lambda d: None,
    lambda d: [float(p) for p in _decode(d)],
    "not a function",
])
def test_positions_wrong(decoder):
    with pytest.raises(NotYet):
        check.positions_from_gaps(decoder, _encode)


def test_positions_off_by_one_hint():
    with pytest.raises(NotYet, match="start from position -1, not 0"):
        check.positions_from_gaps(lambda d: [p + 1 for p in _decode(d)], _encode)


# ---------------------------------------------------------------- exercise 4


@pytest.fixture(scope="module")
def solved():
    """A 64-300-100-10 network pruned to 98 % whose 4-bit file passes (a few seconds, one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        data = load_digits_split(seed=0)
        net = mlp(hidden=(300, 100), seed=0)
        train(net, data, epochs=6, lr=0.1, momentum=0.9, batch_size=64, seed=0, progress=False)
        dense_acc = accuracy(net, data.X_test, data.y_test)
        masks = pruning.global_magnitude_masks(pruning.prunable_weights(net), 0.98)
        pruned = copy.deepcopy(net)
        train(pruned, data, epochs=4, lr=0.03, momentum=0.9, batch_size=64, seed=1, masks=masks,
              progress=False)
        masks = compression.remove_dead_units(pruned, masks)
        # the "dense" reference for the table: the pruned network's own float64 accuracy
        ref = accuracy(pruned, data.X_test, data.y_test)
        yield {"dense": net, "model": pruned, "masks": masks, "dense_acc": dense_acc, "ref": ref,
               "f32": compression.float32_size_bytes(net)}
    finally:
        torch.set_default_dtype(old)
        torch.set_num_threads(threads)


def _kw(s, **over):
    kw = {"dense_accuracy": s["ref"], "float32_bytes": s["f32"]}
    kw.update(over)
    return kw


def test_hundredfold_right(solved, capsys):
    check.hundredfold(solved["model"], solved["masks"], bits=4, **_kw(solved))
    assert "bytes on disk" in capsys.readouterr().out
    check.hundredfold(solved["model"], solved["masks"], bits=np.int64(4), **_kw(solved, float32_bytes=None))


class _Cheat(nn.Module):
    """The dense network as an unregistered attribute, one 2x2 parameter in the state_dict."""

    def __init__(self, net):
        super().__init__()
        object.__setattr__(self, "net", net)
        self.w = nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))

    def forward(self, x):
        return self.net(x)


class _Cheat2(nn.Module):
    """The dense network's weights as non-persistent buffers."""

    def __init__(self, net):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))
        for i, p in enumerate(net.parameters()):
            self.register_buffer(f"b{i}", p.detach().clone(), persistent=False)

    def forward(self, x):
        h = torch.relu(x @ self.b0.T + self.b1)
        h = torch.relu(h @ self.b2.T + self.b3)
        return h @ self.b4.T + self.b5


class _Hidden(nn.Module):
    """The 64-300-100-10 parameters (noise) in the state_dict, the real network hidden beside them."""

    def __init__(self, net):
        super().__init__()
        self.body = mlp(hidden=(300, 100), seed=3).to(torch.float64)
        object.__setattr__(self, "net", net)

    def state_dict(self, *args, **kwargs):
        return self.body.state_dict(*args, **kwargs)

    def forward(self, x):
        return self.net(x)


def _cases(s):
    small = mlp(hidden=(40,), seed=0).to(torch.float64)
    masks_list = {k: v.tolist() for k, v in s["masks"].items()}
    return {
        "unregistered dense": (_Cheat(s["dense"]), None, {"bits": 2}),
        "non-persistent buffers": (_Cheat2(s["dense"]), None, {"bits": 2}),
        "hidden network": (_Hidden(s["dense"]), None, {"bits": 2}),
        "other architecture": (small, None, {"bits": 5, "bias_bits": 5}),
        "float32 model, 1 bit": (copy.deepcopy(s["model"]).float(), s["masks"], {"bits": 1}),
        "dense accuracy in %": (s["model"], s["masks"], {"bits": 4, "dense_accuracy": 98.0}),
        "dense accuracy None": (s["model"], s["masks"], {"bits": 4, "dense_accuracy": None}),
        "dense accuracy text": (s["model"], s["masks"], {"bits": 4, "dense_accuracy": "0.98"}),
        "float32 bytes inflated, dense 2 bits": (s["dense"], None, {"bits": 2, "float32_bytes": 10**9}),
        "masks as lists": (s["model"], masks_list, {"bits": 4}),
        "masks as a list": (s["model"], list(s["masks"].values()), {"bits": 4}),
        "masks transposed": (s["model"], {"0.weight": s["masks"]["0.weight"].T}, {"bits": 4}),
        "bits text": (s["model"], s["masks"], {"bits": "4"}),
        "bits None": (s["model"], s["masks"], {"bits": None}),
        "1 bit": (s["model"], s["masks"], {"bits": 1}),
        "model None": (None, s["masks"], {"bits": 4}),
        "state_dict": (s["model"].state_dict(), s["masks"], {"bits": 4}),
    }


CASES = ["unregistered dense", "non-persistent buffers", "hidden network", "other architecture",
         "float32 model, 1 bit", "dense accuracy in %", "dense accuracy None", "dense accuracy text",
         "float32 bytes inflated, dense 2 bits", "masks as lists", "masks as a list", "masks transposed",
         "bits text", "bits None", "1 bit", "model None", "state_dict"]


@pytest.mark.parametrize("case", CASES)
def test_hundredfold_wrong(solved, case):
    model, masks, over = _cases(solved)[case]
    with pytest.raises(NotYet):
        check.hundredfold(model, masks, **_kw(solved, **over))


def test_float32_model_is_measured(solved, capsys):
    """A float32 copy is evaluated with float32 data (no dtype traceback)."""
    check.hundredfold(copy.deepcopy(solved["model"]).float(), solved["masks"], bits=4, **_kw(solved))
