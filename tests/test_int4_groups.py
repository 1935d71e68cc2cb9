"""Tests of lessons_lib.int4_groups: packing, per-group codes, the 4-bit layer, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lessons_lib.int4_groups import (
    GroupQuantized,
    Int4Linear,
    load_network,
    pack_nibbles,
    quantize_groups,
    save_network,
    unpack_nibbles,
)


@given(st.lists(st.integers(0, 15), min_size=2, max_size=64).filter(lambda c: len(c) % 2 == 0))
@settings(max_examples=200, deadline=None)
def test_pack_then_unpack_is_the_identity(codes):
    c = torch.tensor(codes, dtype=torch.uint8)
    packed = pack_nibbles(c)
    assert packed.dtype == torch.uint8 and packed.numel() == len(codes) // 2
    assert torch.equal(unpack_nibbles(packed), c)
    # the byte is low nibble = even-indexed code, high nibble = odd-indexed code
    assert [int(b) for b in packed] == [codes[2 * i] + 16 * codes[2 * i + 1] for i in range(len(codes) // 2)]


def _reference(w: np.ndarray, g: int) -> np.ndarray:
    """Per-group affine 4-bit round trip written directly, group by group, in float64 with the
    float16 scale the format stores."""
    out = np.empty_like(w)
    for r in range(w.shape[0]):
        for start in range(0, w.shape[1], g):
            x = w[r, start : start + g]
            lo, hi = min(0.0, x.min()), max(0.0, x.max())
            s = np.float16((hi - lo) / 15)
            if float(s) < (hi - lo) / 15:
                s = np.nextafter(s, np.float16(np.inf))
            s = float(s)
            z = min(max(round(-lo / s), 0), 15)
            q = np.clip(np.round(x / s) + z, 0, 15)
            out[r, start : start + g] = s * (q - z)
    return out


@pytest.mark.parametrize("g", [2, 8, 32, 64])
def test_per_group_round_trip_matches_a_direct_computation_and_its_bound(g):
    gen = torch.Generator().manual_seed(g)
    w = torch.randn(6, 128, generator=gen) * torch.linspace(0.01, 3, 128)
    packed = quantize_groups(w, g)
    back = packed.dequantize()
    assert back.dtype == torch.float32 and back.shape == w.shape
    ref = _reference(w.double().numpy(), g)
    assert np.allclose(back.double().numpy(), ref, rtol=1e-6, atol=1e-7)
    s = packed.scales.to(torch.float64).repeat_interleave(g, dim=1)
    assert torch.all((back.double() - w.double()).abs() <= s / 2 * (1 + 1e-6) + 1e-7)


def test_smaller_groups_err_less_and_cost_more_bytes():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(64, 512, generator=gen)
    w[:, ::97] *= 20  # outliers: a small group confines each one's damage
    errors, sizes = [], []
    for g in (512, 128, 32, 8):
        packed = quantize_groups(w, g)
        errors.append(float((packed.dequantize() - w).pow(2).mean().sqrt()))
        sizes.append(packed.nbytes)
    assert errors == sorted(errors, reverse=True) and sizes == sorted(sizes)
    n = w.numel()
    assert quantize_groups(w, 32).nbytes == n // 2 + 2 * n // 32 + n // 64


def test_odd_group_count_keeps_one_zero_point_per_byte():
    w = torch.randn(3, 6)
    packed = quantize_groups(w, 2)  # three groups per row
    assert packed.zero_points.shape == (3, 3)
    assert packed.nbytes == 9 + 3 * 3 * 2 + 9
    reference = torch.tensor(_reference(w.double().numpy(), 2)).float()
    assert torch.allclose(packed.dequantize(), reference, atol=1e-6)


def test_int4_linear_is_its_dequantized_float_layer_and_keeps_only_bytes():
    torch.manual_seed(0)
    layer = torch.nn.Linear(128, 16)
    q = Int4Linear.from_linear(layer, 32)
    x = torch.randn(5, 128)
    expected = x @ quantize_groups(layer.weight, 32).dequantize().T + layer.bias
    assert torch.allclose(q(x), expected, atol=1e-5)
    assert not list(q.parameters())
    assert q.nbytes == 128 * 16 // 2 + 2 * 64 + 32 + 16 * 4
    assert isinstance(q.packed(), GroupQuantized)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: pack_nibbles(torch.tensor([1, 2, 3])), ValueError, "even last dimension"),
        (lambda: pack_nibbles(torch.tensor([0, 16])), ValueError, r"\[0, 15\]"),
        (lambda: pack_nibbles(torch.tensor([0.0, 1.0])), TypeError, "integer tensor"),
        (lambda: pack_nibbles([0, 1]), TypeError, "codes must be a torch.Tensor"),
        (lambda: unpack_nibbles(torch.tensor([1, 2])), ValueError, "uint8"),
        (lambda: quantize_groups(torch.randn(4, 10), 4), ValueError, "group_size must be even and divide"),
        (lambda: quantize_groups(torch.randn(4, 10), 3), ValueError, "group_size"),
        (lambda: quantize_groups(torch.randn(4, 8), 0), ValueError, "group_size"),
        (lambda: quantize_groups(torch.randn(8), 4), ValueError, "2-D float"),
        (lambda: quantize_groups(torch.tensor([[float("nan"), 0.0]]), 2), ValueError, "finite"),
        (lambda: quantize_groups(np.zeros((2, 2)), 2), TypeError, "w must be a torch.Tensor"),
        (lambda: Int4Linear.from_linear(torch.nn.Conv1d(1, 1, 1), 2), TypeError, "nn.Linear"),
        (
            lambda: Int4Linear.from_linear(torch.nn.Linear(8, 2), 4)(torch.randn(3, 7)),
            ValueError,
            "8 features",
        ),
    ],
)
def test_bad_input_names_the_parameter(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_save_then_load_gives_the_same_network(tmp_path):
    torch.manual_seed(0)
    float_net = torch.nn.Sequential(
        torch.nn.Linear(64, 32),
        torch.nn.ReLU(),
        torch.nn.Linear(32, 10),
        torch.nn.ReLU(),
        torch.nn.Linear(32 - 22, 6, bias=False),
    )
    layers = [
        Int4Linear.from_linear(float_net[0], 32),
        torch.nn.ReLU(),
        Int4Linear.from_linear(float_net[2], 16),
        torch.nn.ReLU(),  # 2 groups a row: packed zero points
        Int4Linear.from_linear(float_net[4], 10),
    ]  # 1 group a row: one zero point per byte
    model = torch.nn.Sequential(*layers)
    path = tmp_path / "net.i4g"
    written = save_network(model, path)
    header = 6 + 7 * 3
    expected = header + sum(m.nbytes for m in layers if isinstance(m, Int4Linear))
    assert written == path.stat().st_size == expected
    # the bytes, counted by hand: codes + float16 scales + zero points + float32 bias
    assert expected == header + (32 * 32 + 2 * 32 * 2 + 32 + 4 * 32) + (
        10 * 16 + 2 * 10 * 2 + 10 + 4 * 10
    ) + (6 * 5 + 2 * 6 + 6)
    loaded = load_network(path)
    assert [type(m) for m in loaded] == [type(m) for m in model]
    for a, b in zip(model, loaded, strict=True):
        for name, buf in a.named_buffers():
            other = dict(b.named_buffers())[name]
            assert (buf is None and other is None) or (buf.dtype == other.dtype and torch.equal(buf, other))
    x = torch.randn(7, 64)
    assert torch.equal(model(x), loaded(x))


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"nope")
    with pytest.raises(ValueError, match="path"):
        load_network(path)
    model = torch.nn.Sequential(Int4Linear.from_linear(torch.nn.Linear(4, 2), 4))
    save_network(model, path)
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        load_network(path)
    with pytest.raises(ValueError, match="Int4Linear"):
        save_network(torch.nn.Sequential(torch.nn.Linear(4, 2)), path)
    with pytest.raises(TypeError, match="Sequential"):
        save_network(torch.nn.Linear(4, 2), path)


@pytest.mark.parametrize(("out", "inp", "g"), [(2, 8, 0), (2, 8, 3), (2, 8, 6), (0, 8, 4), (2, 8, 1)])
def test_load_rejects_bad_group_sizes(tmp_path, out, inp, g):
    import struct

    path = tmp_path / "bad.i4g"
    path.write_bytes(b"I4G1" + struct.pack("<H", 1) + struct.pack("<HHHB", out, inp, g, 0) + bytes(64))
    with pytest.raises(ValueError, match="path must describe layers"):
        load_network(path)


def test_save_rejects_layers_wider_than_uint16(tmp_path):
    wide = Int4Linear.from_linear(torch.nn.Linear(2, 65_536), 2)
    with pytest.raises(ValueError, match="model must have layers of at most 65,535"):
        save_network(torch.nn.Sequential(wide), tmp_path / "wide.i4g")


def test_range_beyond_float16_scale_is_refused():
    w = torch.tensor([[0.0, 1e6]], dtype=torch.float64)
    with pytest.raises(ValueError, match="float16 scale"):
        quantize_groups(w, 2)
    quantize_groups(torch.tensor([[0.0, 9e5]], dtype=torch.float64), 2)  # 9e5 / 15 < 65504: fine
