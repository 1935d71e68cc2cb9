"""Table tests for lessons_lib.checks.compression (lesson 11): right answers pass, the wrong ones of
the review fail with a message (NotYet), never a traceback."""

from __future__ import annotations

import copy
import json
import pickle

import numpy as np
import pytest
import torch
from check_tables import fails, passes
from torch import nn

from conftest import load_script
from lessons_lib import compression, model_file, pruning, selection
from lessons_lib.checks import NotYet
from lessons_lib.checks import compression as check
from lessons_lib.models import mlp
from lessons_lib.splits import load_digits_splits
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


@pytest.mark.parametrize(("answer", "message"), [
    (50_610, "number of entries"),
    (404_880, "8 bytes per parameter"),
    (200_800, "410 biases"),  # 4 x 50,200: the biases forgotten
    (51_414, "8-bit block-wise size"),
    (202_441, "too large"),
    (205_181, "torch.save file"),  # section 1's float32 file, pickle structure included
    ("202440", "remove the quotes"),
    (202.44, "in bytes, not KB"),  # 202,440 / 1000
    (202.4, "in bytes, not KB"),
    (202, "in bytes, not KB"),
    (197.7, "in bytes, not KiB"),  # 202,440 / 1024
    (197.695, "in bytes, not KiB"),
])
def test_momentum_bytes_messages(answer, message):
    with pytest.raises(NotYet, match=message):
        check.momentum_bytes(answer)


@pytest.mark.parametrize("answer", [2064, 2064.0, np.int32(2064)])
def test_layer_bytes_right(answer):
    check.layer_bytes(answer)


@pytest.mark.parametrize("answer", [1000 + 625 + 64, 2128, 2000, 1064, 2010, 1314, 2032, 2063.5, 2065, "2064",
                                    None, False])
def test_layer_bytes_wrong(answer):
    with pytest.raises(NotYet):
        check.layer_bytes(answer)


@pytest.mark.parametrize(("answer", "message"), [
    (1000 + 625 + 64, "the codes \\(5-bit codes\\) or the gaps \\(the paper's 5-bit relative indices\\)"),
    (1689, "each gap and each code in a whole byte"),  # either kind packed to 5 bits, the other as bytes
    (1314, "packs both the gaps and the codes to 5 bits"),  # 625 + 625 + 64
    (2032, "2 bytes, not 1"),  # a 1-byte codebook
    (2128, "float16"),
    (2000, "codebook must be stored"),
    (1064, "positions must be stored"),
    (2010, "2\\^5 = 32 values"),
    (3064, "2 bytes each"),  # one kind of symbol (the codes or the gaps) in 2 bytes
    (2063.5, "whole number"),
    (2.064, "in bytes, not KB"),
    (2.016, "in bytes, not KiB"),  # 2,064 / 1024
])
def test_layer_bytes_messages(answer, message):
    with pytest.raises(NotYet, match=message):
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
    return model_file._gaps(np.asarray(positions, dtype=np.int64))


@pytest.mark.parametrize("decoder", [_decode, lambda d: tuple(_decode(d)),
                                     lambda d: np.asarray(_decode(d), dtype=np.int64),
                                     lambda d: np.asarray(_decode(d), dtype=np.int32),
                                     lambda d: torch.tensor(_decode(d), dtype=torch.int64),
                                     lambda d: torch.tensor(_decode(d), dtype=torch.int32)])
def test_positions_right(decoder, capsys):
    check.positions_from_gaps(decoder)
    check.positions_from_gaps(decoder, _encode)  # the library's encoder passed along: the same bytes
    assert capsys.readouterr().out.count("Correct:") == 2


# the review's cases: an encoder-decoder pair of the student's own passes only if the check encodes with the
# student's encoder; the check encodes with the course's format, so these decoders must fail
_OWN_FORMATS = {
    "pickle": (pickle.loads, pickle.dumps),
    "json": (lambda d: json.loads(d.decode()), lambda p: json.dumps(p).encode()),
    "int64 bytes": (lambda d: np.frombuffer(d, dtype=np.int64).tolist(),
                    lambda p: np.asarray(p, dtype=np.int64).tobytes()),
}


@pytest.mark.parametrize("name", sorted(_OWN_FORMATS))
def test_own_format_pairs_fail(name):
    decoder, encoder = _OWN_FORMATS[name]
    with pytest.raises(NotYet, match="fails on the bytes|you return"):
        check.positions_from_gaps(decoder)
    with pytest.raises(NotYet, match="the encoder you passed|fails on the bytes|you return"):
        check.positions_from_gaps(decoder, encoder)


def test_an_encoder_other_than_the_format_is_refused():
    with pytest.raises(NotYet, match="the encoder you passed writes"):
        check.positions_from_gaps(_decode, lambda p: bytes(len(p)))
    with pytest.raises(NotYet, match="the encoder you passed fails"):
        check.positions_from_gaps(_decode, lambda p: 1 / 0)


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
    lambda d: torch.tensor(_decode(d), dtype=torch.float64),
    lambda d: torch.tensor([_decode(d)]),
    lambda d: 1 / 0,
    lambda d: [p for p in _decode(d) if p != 255],
    "not a function",
])
def test_positions_wrong(decoder):
    with pytest.raises(NotYet):
        check.positions_from_gaps(decoder)


def test_positions_off_by_one_hint():
    with pytest.raises(NotYet, match="start from position -1, not 0"):
        check.positions_from_gaps(lambda d: [p + 1 for p in _decode(d)])
    with pytest.raises(NotYet, match="one less everywhere"):
        check.positions_from_gaps(lambda d: [p - 1 for p in _decode(d)])
    with pytest.raises(NotYet, match="a byte 255 adds 255 zeros and no weight"):
        check.positions_from_gaps(_escape_as_gap)


def _escape_as_gap(data):
    """A decoder that reads a byte 255 as an ordinary gap of 255 followed by a weight."""
    positions, pos = [], -1
    for byte in data:
        pos += byte + 1
        positions.append(pos)
    return positions


# ---------------------------------------------------------------- exercise 4

SEEDS = check.RECIPE_SEEDS
#: exercise 4's solution recipe (lesson11_exercise4.json's pick), fine-tuned with the schedule's distillation
SOLUTION = {"sparsity": 0.978, "epochs": 4, "lr": 0.03}


def test_the_schedule_constants_are_the_records_picks():
    """The check's LESSON11_SCHEDULE and LESSON11_FINE_TUNING (which start_model_seed0 uses and the lesson
    asserts it uses) are the pick of lesson11_schedule.json: the "earlier" levels 75, 90, 95, 97 % and the
    "half" epochs 2, 2, 2, 4 of scripts/search_lesson11.py, lr 0.1, alpha 0.9, T = 2 (momentum 0.9 in every
    setting of the grid); and the solution recipe this file fine-tunes is lesson11_exercise4.json's pick."""
    script = load_script("search_lesson11")
    record = selection.load_record("lesson11_schedule", selection.RECORD_DIR)
    pick = record.settings[record.pick]
    assert (pick["levels"], pick["epochs"]) == ("earlier", "half")
    assert check.LESSON11_SCHEDULE == tuple(zip(script.LEVELS["earlier"], script.EPOCHS["half"], strict=True))
    assert check.LESSON11_FINE_TUNING == {"lr": pick["lr"], "momentum": 0.9, "alpha": pick["alpha"],
                                          "temperature": pick["temperature"]}
    exercise4 = selection.load_record("lesson11_exercise4", selection.RECORD_DIR)
    assert exercise4.settings[exercise4.pick] == SOLUTION


@pytest.fixture(scope="module")
def solved():
    """Lesson 11's seed-0 pipeline and its exercise-4 recipe, rebuilt here as the lesson builds them:
    the dense 64-300-100-10 network (20 epochs), four pruning rounds to 97 % with the schedule picked on
    validation (lesson11_schedule.json: 2, 2, 2 and 4 epochs at lr 0.1, distilled with alpha 0.9 and
    T = 2); the solution (lesson11_exercise4.json's pick) prunes to 97.8 %, fine-tunes 4 epochs at lr 0.03
    with the recipe's seed (distilled with alpha 0.9 and T = 2, as the schedule) and stores 4-bit weights
    and biases. Its results for the check's seeds are computed once (a few seconds on one thread). Also
    the earlier, selected solution as it was defined (98 %, 8 epochs at lr 0.03, train's default
    distillation alpha 0.9 and T = 4, 4 bits, float16 biases), now from this start model, for the same
    seeds and seed 5, and 98 % masks without fine-tuning."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        splits = load_digits_splits(validation_size=0.2, seed=0)
        data = (splits.X_train, splits.y_train)  # the training part alone, as the lesson trains
        net = mlp(hidden=(300, 100), seed=0)
        train(net, data, epochs=20, lr=0.1, momentum=0.9, batch_size=64, seed=0, progress=False)
        dense_acc = accuracy(net, splits.X_test, splits.y_test)
        pruned = copy.deepcopy(net)
        for r, (sparsity, epochs) in enumerate([(0.75, 2), (0.90, 2), (0.95, 2), (0.97, 4)]):
            masks = pruning.global_magnitude_masks(pruning.prunable_weights(pruned), sparsity)
            train(pruned, data, epochs=epochs, lr=0.1, momentum=0.9, batch_size=64, seed=r + 1, masks=masks,
                  teacher=net, alpha=0.9, temperature=2.0, progress=False)
        masks = compression.remove_dead_units(pruned, masks)

        def fine_tuned(sparsity, epochs, lr, seed, temperature):
            model = copy.deepcopy(pruned)
            m = pruning.global_magnitude_masks(pruning.prunable_weights(model), sparsity)
            train(model, data, epochs=epochs, lr=lr, momentum=0.9, batch_size=64, seed=seed, masks=m,
                  teacher=net, alpha=0.9, temperature=temperature, progress=False)
            return model, compression.remove_dead_units(model, m)

        solution = {seed: fine_tuned(SOLUTION["sparsity"], SOLUTION["epochs"], SOLUTION["lr"], seed, 2.0)
                    for seed in SEEDS}
        earlier = {seed: fine_tuned(0.98, 8, 0.03, seed, 4.0) for seed in (*SEEDS, 5)}
        unfinetuned = pruning.apply_masks(copy.deepcopy(pruned), pruning.global_magnitude_masks(
            pruning.prunable_weights(pruned), 0.98))
        yield {"dense": net, "dense_acc": dense_acc, "pruned": pruned, "masks": masks, "solution": solution,
               "earlier": earlier, "unfinetuned": unfinetuned,
               "raw_masks": pruning.global_magnitude_masks(pruning.prunable_weights(unfinetuned), 0.98)}
    finally:
        torch.set_default_dtype(old)
        torch.set_num_threads(threads)


def _recipe(s, bits=4, bias_bits=4):
    """The lesson's solution as a recipe (its results for the check's seeds computed once)."""
    return lambda seed: (*s["solution"][seed], bits, bias_bits)


def _fixed(model, masks, bits, bias_bits=None):
    """A recipe that returns the same network whatever the seed."""
    return lambda seed: (model, masks, bits, bias_bits)


def test_the_check_computes_seed_0s_dense_accuracy(solved):
    """The check's own reference equals the dense accuracy trained here (and the lesson's 97.78 %)."""
    assert check.dense_accuracy_seed0() == solved["dense_acc"] == 440 / 450


def test_hundredfold_right(solved, capsys):
    out = passes(check.hundredfold, _recipe(solved), capsys=capsys)
    assert "on average 0.18 points below dense (97.78 %)" in out
    assert all(f"seed {seed}:" in out for seed in SEEDS)
    assert "seed 0: 1,786 bytes, ratio 114.9, 97.56 % (-0.22)" in out
    assert "seed 4: 1,783 bytes, ratio 115.1, 98.00 % (+0.22)" in out
    passes(lambda r: check.hundredfold(r, min_ratio=100, max_drop_pt=0.5), _recipe(solved), capsys=capsys)
    passes(lambda r: check.hundredfold(r, min_ratio=np.float64(110)), _recipe(solved), capsys=capsys)
    # a list instead of a tuple; three items (float16 biases: ratio 102.4 to 103.4, 0.22 points below)
    passes(check.hundredfold, lambda seed: list(_recipe(solved)(seed)), capsys=capsys)
    out = passes(check.hundredfold, lambda seed: (*solved["solution"][seed], 4), capsys=capsys)
    assert "on average 0.22 points below" in out and "ratio 102.4" in out
    # the 97 % model with 4-bit weights and biases and no fine-tuning: as accurate as dense, but ratio 95.4
    fails(check.hundredfold, _fixed(solved["pruned"], solved["masks"], 4, 4),
          match="the ratio is below 100 on seed\\(s\\) 0, 1, 2, 3, 4 \\(seed 0: 2,150 bytes, ratio 95.4, "
                "97.78 % \\(\\+0.00\\)")


def test_a_recipe_without_fine_tuning_is_one_network(solved, capsys):
    """A recipe that does not fine-tune passes (no draw to pick) and is reported as one network measured
    once. The earlier start model passed with its 97 % model at 3-bit weights and biases; this one's does
    not (1,875 bytes, ratio 109.4, but 0.67 points below dense), so the case is now the 97 % model pruned
    further to 97.15 % without fine-tuning, at 3-bit weights and biases (found for this test by trying
    sparsities on the test images: not a recipe to teach)."""
    fails(check.hundredfold, lambda seed: (copy.deepcopy(solved["pruned"]), solved["masks"], 3, 3),
          match="on average 0.67 points below the dense one .* seed 0: 1,875 bytes, ratio 109.4")
    model = copy.deepcopy(solved["pruned"])
    masks = pruning.global_magnitude_masks(pruning.prunable_weights(model), 0.9715)
    pruning.apply_masks(model, masks)
    out = passes(check.hundredfold, lambda seed: (copy.deepcopy(model), masks, 3, 3), capsys=capsys)
    assert "does not depend on the seed: one network, measured once" in out
    assert "1,856 bytes, ratio 110.6" in out and "97.33 % against the dense 97.78 % (-0.44 points)" in out
    assert "seed 1:" not in out and "-0.00" not in out


def test_the_earlier_selected_solution_is_judged_as_a_recipe(solved, capsys):
    """The review's case: 98 %, 8 epochs at lr 0.03 (train's default distillation, alpha 0.9 and T = 4),
    4 bits, float16 biases, once selected on its seed 5. Kept as it was defined, except that it now starts
    from the 97 % model of the schedule picked on validation. Trained on the training part (1,077 images)
    it passes as a recipe over the check's seeds (0.27 points below dense on average); its seed-5 draw
    (1,875 bytes, ratio 109.4, 0.44 points below: within the bound) returned for every seed is still
    refused as one draw."""
    earlier = solved["earlier"]
    out = passes(check.hundredfold, lambda seed: (*earlier[seed], 4), capsys=capsys)
    assert "on average 0.27 points below dense (97.78 %)" in out and "seed 0: 1,863 bytes, ratio 110.1" in out
    # the selected draw returned for every seed passes ratio and drop, but it is one draw returned five times
    fails(check.hundredfold, lambda seed: (*earlier[5], 4),
          match="one and the same network for all 5 seeds .*seed 0: 1,875 bytes, ratio 109.4, "
                "97.33 % \\(-0.44\\)")
    fails(check.hundredfold, lambda seed: (*earlier[5], 4, 4), match="one and the same network")
    # ... and so is the same draw with a little noise per seed (far below what a fine-tuning seed changes)
    fails(check.hundredfold, lambda seed: (_nudged(earlier[5][0], seed), earlier[5][1], 4),
          match="one and the same network")


@pytest.mark.parametrize(("factor", "rule"), [(1e-5, "scale factor"), (1e-3, "scale factor"),
                                              (1e-2, "same prediction")])
def test_a_scaled_lucky_draw_is_one_draw(solved, factor, rule):
    """Review 4, finding 1(a): the lucky seed-5 network with 4-bit weights and biases, every parameter
    multiplied by 1 + factor * (seed + 1), passes ratio and drop (0.27 to 0.36 points below dense) as five
    networks. From the earlier start model its files decoded to the same codes and its reloads predicted
    alike. From this one, one first-layer weight lies on a boundary between two codebook entries: scaled
    by 1e-5 or 1e-3, the files differ in that code and the reloads in one test prediction, so neither rule
    sees one network; the floats, equal up to one factor per tensor, do (:func:`check._same_up_to_scale`).
    Scaled by 1e-2, its reloads predict alike."""
    lucky, masks = solved["earlier"][5]
    fails(check.hundredfold, lambda seed: (_scaled(lucky, 1 + factor * (seed + 1)), masks, 4, 4),
          match=f"one and the same network for all 5 seeds \\([^)]*{rule}")


def test_measure_stores_the_float32_rounded_weights(solved, monkeypatch):
    """Review 11v round 2, finding 4: exercise 4's file stores the float32-rounded weights, as every file of
    lesson 11 does, and the student's model is left as it was."""
    model, masks = solved["solution"][0]
    before = {k: v.clone() for k, v in model.state_dict().items()}
    seen = []
    save = check.model_file.save_compressed

    def spy(net, *args, **kwargs):
        seen.append({k: v.detach().clone() for k, v in net.state_dict().items()})
        return save(net, *args, **kwargs)

    monkeypatch.setattr(check.model_file, "save_compressed", spy)
    n_bytes, *_ = check._measure(model, masks, 4, 4, "test")
    stored, = seen
    assert all(v.dtype == torch.float64 and torch.equal(v, v.float().double()) for v in stored.values())
    assert any(not torch.equal(v, v.float().double()) for v in before.values())  # the model itself is not
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # left unchanged
    assert n_bytes == check._measure(model_file.float32_rounded(model), masks, 4, 4, "test")[0]


def test_same_files_and_same_predictions_rules(solved):
    """The rules behind the refusal: the solution's five reloads differ in their files and in their test
    predictions, and their floats are not one network scaled; copies of the solution's seed-0 draw scaled
    below float16 rounding decode alike; a 1 % scaled copy decodes differently but predicts alike. The
    lucky seed-5 draw has a weight on a codebook boundary: scaled by 1e-5, its files and predictions
    differ, and only its floats, equal up to one factor per tensor, show one network."""
    data = load_digits_splits(validation_size=0.2, seed=0, dtype=torch.float64)
    draw, masks = solved["solution"][0]
    lucky, lucky_masks = solved["earlier"][5]

    def measured(model, m):
        _, _, _, predicted, decoded = check._measure(model, m, 4, 4, "test")
        return predicted, decoded

    def state(net):
        return {k: v.detach().double().numpy() for k, v in net.state_dict().items()}

    solution = [measured(*solved["solution"][seed]) for seed in SEEDS]
    assert not check._same_files([d for _, d in solution])
    assert not check._same_predictions([p for p, _ in solution])
    assert not check._same_up_to_scale([state(solved["solution"][seed][0]) for seed in SEEDS])
    tiny = [measured(_scaled(draw, 1 + 1e-5 * (seed + 1)), masks) for seed in SEEDS]
    assert check._same_files([d for _, d in tiny]) and check._same_predictions([p for p, _ in tiny])
    scaled = [measured(_scaled(draw, 1 + 1e-2 * (seed + 1)), masks) for seed in SEEDS]
    assert not check._same_files([d for _, d in scaled])
    assert check._same_predictions([p for p, _ in scaled])
    lucky_tiny = [_scaled(lucky, 1 + 1e-5 * (seed + 1)) for seed in SEEDS]
    reloads = [measured(net, lucky_masks) for net in lucky_tiny]
    assert not check._same_files([d for _, d in reloads])
    assert not check._same_predictions([p for p, _ in reloads])
    assert check._same_up_to_scale([state(net) for net in lucky_tiny])
    assert not check._same_networks([state(net) for net in lucky_tiny])
    # the predictions are the reload's, on the test split
    assert np.mean(solution[0][0] == data.y_test.numpy()) == pytest.approx(
        accuracy(compression_reload(*solved["solution"][0]), data.X_test, data.y_test))


def compression_reload(model, masks):
    """``model`` written with 4-bit weights and biases and read back into a fresh network."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        file = f"{tmp}/m.llc"
        model_file.save_compressed(model, file, masks, 4, bias_bits=4)
        return model_file.load_compressed(file, mlp(hidden=(300, 100), seed=0).to(torch.float64))


def _scaled(model, factor):
    """A copy of ``model`` with every parameter multiplied by ``factor``."""
    model = copy.deepcopy(model)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(factor)
    return model


def _nudged(model, seed):
    """A copy of ``model`` with its last bias moved by seed * 1e-12."""
    model = copy.deepcopy(model)
    with torch.no_grad():
        model[-1].bias.add_(seed * 1e-12)
    return model


def test_the_check_rebuilds_the_starting_model(solved):
    """The check's seed-0 97 % model is the lesson's (rebuilt here the same way)."""
    start = check.start_model_seed0().state_dict()
    assert all(torch.equal(start[k], v) for k, v in solved["pruned"].state_dict().items())


def test_only_pruned_copies_of_the_start_count_as_unchanged(solved):
    """Identical networks are allowed when they are the starting model up to pruned (zeroed) entries."""
    def state(net):
        return {k: v.detach().double().numpy() for k, v in net.state_dict().items()}

    assert check._only_pruned(state(solved["pruned"]), solved["masks"])
    assert check._only_pruned(state(solved["unfinetuned"]), solved["raw_masks"])
    assert check._only_pruned(state(solved["unfinetuned"]), None)
    assert not check._only_pruned(state(solved["earlier"][5][0]), solved["earlier"][5][1])
    assert not check._only_pruned(state(solved["solution"][0][0]), solved["solution"][0][1])
    assert check._same_networks([state(solved["pruned"])] * 5)
    assert not check._same_networks([state(solved["solution"][seed][0]) for seed in SEEDS])


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
    m0, k0 = s["solution"][0]
    masks_list = {k: v.tolist() for k, v in k0.items()}
    dense, un, raw = s["dense"], s["unfinetuned"], s["raw_masks"]
    return {
        # the first review's cases: the references are the check's own, none can be passed in
        "98 % without fine-tuning, dense_accuracy=0.70": (
            lambda r: check.hundredfold(r, dense_accuracy=0.70), _fixed(un, raw, 4), "unexpected keyword"),
        "unpruned dense, float32_bytes=10**7": (
            lambda r: check.hundredfold(r, float32_bytes=10**7), _fixed(dense, None, 2),
            "unexpected keyword"),
        "unpruned dense": (check.hundredfold, _fixed(dense, None, 2), "below 100"),
        "min_ratio lowered to 5": (lambda r: check.hundredfold(r, min_ratio=5), _recipe(s), "at least 100"),
        "max_drop_pt raised to 50": (lambda r: check.hundredfold(r, max_drop_pt=50), _fixed(un, raw, 4),
                                     "at most 0.5"),
        "min_ratio as text": (lambda r: check.hundredfold(r, min_ratio="100"), _recipe(s), "text"),
        "98 % without fine-tuning": (check.hundredfold, _fixed(un, raw, 4), "on average .* points below"),
        # the second review's case: one network instead of a recipe
        "one model, not a recipe": (check.hundredfold, m0, "pass your recipe"),
        "a tuple, not a recipe": (check.hundredfold, (m0, k0, 4, 4), "pass your recipe"),
        "model None": (check.hundredfold, None, "pass your recipe"),
        "recipe returns a model": (check.hundredfold, lambda seed: m0,
                                   "should return \\(model, masks, bits\\)"),
        "recipe returns two items": (check.hundredfold, lambda seed: (m0, k0), "of length 2"),
        "recipe returns a state_dict": (check.hundredfold, lambda seed: (m0.state_dict(), k0, 4),
                                        "nn.Module"),
        "recipe raises": (check.hundredfold, lambda seed: 1 / 0,
                          "recipe fails for seed 0: ZeroDivisionError"),
        "recipe fails on seed 3": (check.hundredfold, lambda seed: _recipe(s)(seed) if seed < 3 else 1 / 0,
                                   "recipe fails for seed 3"),
        "unregistered dense": (check.hundredfold, _fixed(_Cheat(dense), None, 2), "64-300-100-10"),
        "non-persistent buffers": (check.hundredfold, _fixed(_Cheat2(dense), None, 2), "64-300-100-10"),
        "hidden network": (check.hundredfold, _fixed(_Hidden(dense), None, 2), "below 100"),
        "other architecture": (check.hundredfold, _fixed(small, None, 5, 5), "64-300-100-10"),
        "float32 model, 1 bit": (check.hundredfold, _fixed(copy.deepcopy(m0).float(), k0, 1), "refused"),
        "masks as lists": (check.hundredfold, _fixed(m0, masks_list, 4, 4), "refused"),
        "masks as a list": (check.hundredfold, _fixed(m0, list(k0.values()), 4, 4), "refused"),
        "masks transposed": (check.hundredfold, _fixed(m0, {"0.weight": k0["0.weight"].T}, 4), "refused"),
        "bits text": (check.hundredfold, _fixed(m0, k0, "4"), "refused"),
        "bits None": (check.hundredfold, _fixed(m0, k0, None), "refused"),
        "1 bit": (check.hundredfold, _fixed(m0, k0, 1), "refused"),
        "2-bit weights": (check.hundredfold, _recipe(s, bits=2), "on average .* points below"),
        "8-bit weights and biases": (check.hundredfold, _recipe(s, bits=8, bias_bits=8),
                                     "below 100 on seed\\(s\\) 0, 1, 2, 3, 4"),
    }


CASES = ["98 % without fine-tuning, dense_accuracy=0.70", "unpruned dense, float32_bytes=10**7",
         "unpruned dense", "min_ratio lowered to 5", "max_drop_pt raised to 50", "min_ratio as text",
         "98 % without fine-tuning",
         "one model, not a recipe", "a tuple, not a recipe", "model None", "recipe returns a model",
         "recipe returns two items", "recipe returns a state_dict", "recipe raises", "recipe fails on seed 3",
         "unregistered dense", "non-persistent buffers", "hidden network", "other architecture",
         "float32 model, 1 bit", "masks as lists", "masks as a list", "masks transposed", "bits text",
         "bits None", "1 bit", "2-bit weights", "8-bit weights and biases"]


def test_every_case_is_listed(solved):
    assert sorted(CASES) == sorted(_cases(solved))


@pytest.mark.parametrize("case", CASES)
def test_hundredfold_wrong(solved, case):
    run, recipe, message = _cases(solved)[case]
    if "unexpected keyword" in message:  # the old reference arguments are gone: a TypeError, not a pass
        with pytest.raises(TypeError, match=message):
            run(recipe)
        return
    fails(run, recipe, match=message)


def test_float32_model_is_measured_in_float64(solved, capsys, monkeypatch):
    """A float32 copy is reloaded and scored in float64, as the dense reference is (no dtype traceback)."""
    import lessons_lib.training as training

    seen = []
    real = training.accuracy

    def spy(net, X, y):
        seen.append((next(net.parameters()).dtype, X.dtype))
        return real(net, X, y)

    check.dense_accuracy_seed0()  # cached before the spy goes in
    monkeypatch.setattr(training, "accuracy", spy)
    recipe = _recipe(solved)
    passes(check.hundredfold, lambda seed: (copy.deepcopy(recipe(seed)[0]).float(), *recipe(seed)[1:]),
           capsys=capsys)
    assert seen == [(torch.float64, torch.float64)] * len(SEEDS)
