"""Bad input to every public function: a clear ValueError or TypeError naming the parameter.

One table, one parametrised test. Each case must raise ValueError or TypeError whose
message names the parameter and says what is allowed ("must ..."); no other exception,
no warning, no hang.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

from lessons_lib import (
    channel_pruning,
    data,
    folding,
    integer_inference,
    intervals,
    model_file,
    models,
    observers,
    optimality,
    optimizers,
    pruning,
    quantization,
    selection,
    splits,
    surfaces,
    theory,
    timing,
    training,
    weight_sharing,
)
from lessons_lib.widgets import RateMap, SpectrumWidget, TrajectoryExplorer

nan, inf = float("nan"), float("inf")
Q = surfaces.get("quadratic")
W = np.arange(12.0).reshape(3, 4) - 5.5
DIGITS = data.load_digits_split(seed=0)
_STUDENT = models.mlp(seed=0)  # a teacher must not be the model it teaches
MLP = models.mlp(seed=0)
ACC = torch.zeros(2, 3, dtype=torch.int32)
U8 = torch.zeros(2, 4, dtype=torch.uint8)
I8 = torch.zeros(4, 3, dtype=torch.int8)
X_CAL = DIGITS.X_train[:50]


def run(**kw):
    args = dict(surface="quadratic", x0=[1.0, 1.0], method="momentum", lr=0.1, momentum=0.5, steps=10)
    args.update(kw)
    return lambda: optimizers.run(**args)


# (id, call, parameter named in the message)
CASES = [
    # surfaces
    ("get-unknown", lambda: surfaces.get("parabola"), "name"),
    ("get-not-a-string", lambda: surfaces.get(None), "name"),
    ("quadratic-three-eigenvalues", lambda: surfaces.quadratic([1, 2, 3]), "eigenvalues"),
    ("quadratic-nan-eigenvalue", lambda: surfaces.quadratic([1, nan]), "eigenvalues"),
    ("quadratic-inf-eigenvalue", lambda: surfaces.quadratic([inf, 1]), "eigenvalues"),
    ("quadratic-empty", lambda: surfaces.quadratic([]), "eigenvalues"),
    ("quadratic-string", lambda: surfaces.quadratic("1, 2"), "eigenvalues"),
    ("quadratic-nan-angle", lambda: surfaces.quadratic([1, 2], angle=nan), "angle"),
    ("f-wrong-shape", lambda: Q.f(np.zeros((4, 3))), "xy"),
    ("f-scalar", lambda: Q.f(1.0), "xy"),
    ("grad-nan", lambda: Q.grad([nan, 0.0]), "xy"),
    ("grad-inf", lambda: Q.grad([0.0, -inf]), "xy"),
    ("grad-empty", lambda: Q.grad(np.zeros((0, 2))), "xy"),
    ("grad-object", lambda: Q.grad(object()), "xy"),
    ("grid-n-zero", lambda: Q.grid(0), "n"),
    ("grid-n-float", lambda: Q.grid(10.5), "n"),
    ("regression-data-m-one", lambda: surfaces.regression_data(m=1), "m"),
    ("regression-data-negative-noise", lambda: surfaces.regression_data(noise=-1.0), "noise"),
    ("regression-data-negative-seed", lambda: surfaces.regression_data(seed=-3), "seed"),
    ("linear-regression-lengths", lambda: surfaces.linear_regression([1.0, 2.0], [1.0]), "x and y"),
    ("linear-regression-nan", lambda: surfaces.linear_regression([1.0, nan], [1.0, 2.0]), "x"),
    ("linear-regression-constant-x", lambda: surfaces.linear_regression([2.0, 2.0], [1.0, 3.0]), "x"),
    ("least-squares-terms-lengths", lambda: surfaces.least_squares_terms([1.0, 2.0], [1.0]), "x and y"),
    ("least-squares-terms-inf", lambda: surfaces.least_squares_terms([1.0, 2.0], [1.0, inf]), "y"),
    # optimizers.run
    ("run-negative-lr", run(lr=-0.1), "lr"),
    ("run-zero-lr", run(lr=0.0), "lr"),
    ("run-nan-lr", run(lr=nan), "lr"),
    ("run-inf-lr", run(lr=inf), "lr"),
    ("run-string-lr", run(lr="fast"), "lr"),
    ("run-none-lr", run(lr=None), "lr"),
    ("run-lr-array-with-a-nan", run(lr=np.array([0.1, nan])), "lr"),
    ("run-momentum-one", run(momentum=1.0), "momentum"),
    ("run-momentum-negative", run(momentum=-0.01), "momentum"),
    ("run-momentum-nan", run(momentum=nan), "momentum"),
    ("run-momentum-above-one", run(momentum=1.5), "momentum"),
    ("run-gd-with-momentum", run(method="gd", momentum=0.9), "momentum"),
    ("run-unknown-method", run(method="adam"), "method"),
    ("run-method-case", run(method="GD"), "method"),
    ("run-steps-negative", run(steps=-5), "steps"),
    ("run-steps-float", run(steps=10.0), "steps"),
    ("run-steps-bool", run(steps=True), "steps"),
    ("run-steps-huge", run(steps=10**9), "steps"),
    ("run-x0-three", run(x0=[1.0, 2.0, 3.0]), "x0"),
    ("run-x0-nan", run(x0=[nan, 1.0]), "x0"),
    ("run-x0-inf", run(x0=[1.0, inf]), "x0"),
    ("run-x0-empty", run(x0=[]), "x0"),
    ("run-x0-batch", run(x0=np.zeros((3, 2))), "x0"),
    ("run-shapes-do-not-broadcast", run(lr=np.ones(3) * 0.1, momentum=np.ones(2) * 0.5), "lr and momentum"),
    ("run-unknown-surface", run(surface="parabola"), "name"),
    ("run-surface-wrong-type", run(surface=3.14), "surface"),
    ("steps-to-negative-tol", lambda: optimizers.run(Q, [1, 1], "gd", 0.1).steps_to(-1.0), "tol"),
    ("steps-to-no-minimum",
     lambda: optimizers.run(surfaces.get("saddle"), [1, 1], "gd", 0.1).steps_to(1e-6), "tol"),
    # theory
    ("gd-rate-negative-lr", lambda: theory.gd_rate(-0.1, [1.0]), "lr"),
    ("gd-rate-zero-eigenvalue", lambda: theory.gd_rate(0.1, [0.0, 1.0]), "eigenvalues"),
    ("gd-rate-nan-eigenvalue", lambda: theory.gd_rate(0.1, [nan]), "eigenvalues"),
    ("gd-rate-2d-eigenvalues", lambda: theory.gd_rate(0.1, [[1.0, 2.0]]), "eigenvalues"),
    ("gd-rate-empty-eigenvalues", lambda: theory.gd_rate(0.1, []), "eigenvalues"),
    ("momentum-rate-beta-one", lambda: theory.momentum_rate(0.1, 1.0, [1.0]), "beta"),
    ("momentum-rate-beta-negative", lambda: theory.momentum_rate(0.1, -0.5, [1.0]), "beta"),
    ("momentum-rate-lr-inf", lambda: theory.momentum_rate(inf, 0.5, [1.0]), "lr"),
    ("momentum-rate-shapes", lambda: theory.momentum_rate(np.ones(3), np.zeros(4), [1.0]), "lr and beta"),
    ("nesterov-rate-beta-nan", lambda: theory.nesterov_rate(0.1, nan, [1.0]), "beta"),
    ("momentum-matrix-array-lr", lambda: theory.momentum_matrix(np.ones(2), 0.5, 1.0), "lr and beta"),
    ("momentum-matrix-negative-eigenvalue", lambda: theory.momentum_matrix(0.1, 0.5, -1.0), "eigenvalue"),
    ("nesterov-matrix-beta-one", lambda: theory.nesterov_matrix(0.1, 1.0, 1.0), "beta"),
    ("optimal-gd-mu-zero", lambda: theory.optimal_gd(0.0, 1.0), "mu"),
    ("optimal-gd-L-below-mu", lambda: theory.optimal_gd(2.0, 1.0), "L"),
    ("optimal-gd-L-nan", lambda: theory.optimal_gd(1.0, nan), "L"),
    ("optimal-momentum-mu-negative", lambda: theory.optimal_momentum(-1.0, 1.0), "mu"),
    ("optimal-momentum-L-inf", lambda: theory.optimal_momentum(1.0, inf), "L"),
    ("critical-momentum-past-one", lambda: theory.critical_momentum(2.0, 1.0), "lr \\* eigenvalue"),
    ("critical-momentum-zero-lr", lambda: theory.critical_momentum(0.0, 1.0), "lr"),
    ("regime-beta-one", lambda: theory.momentum_regime(0.1, 1.0, 1.0), "beta"),
    # widgets
    ("explorer-unknown-surface", lambda: TrajectoryExplorer("parabola"), "surface"),
    ("explorer-negative-lr", lambda: TrajectoryExplorer("quadratic", lr=-1.0), "lr"),
    ("explorer-momentum-one", lambda: TrajectoryExplorer("quadratic", momentum=1.0), "momentum"),
    ("explorer-steps-zero", lambda: TrajectoryExplorer("quadratic", steps=0), "steps"),
    ("explorer-unknown-method", lambda: TrajectoryExplorer("quadratic", methods=("adam",)), "methods"),
    ("explorer-nan-start", lambda: TrajectoryExplorer("quadratic", start=[nan, 0.0]), "start"),
    ("explorer-zero-tol", lambda: TrajectoryExplorer("quadratic", tol=0.0), "tol"),
    ("rate-map-kappa-below-one", lambda: RateMap(kappa=0.5), "kappa"),
    ("rate-map-kappa-nan", lambda: RateMap(kappa=nan), "kappa"),
    ("rate-map-beta-one", lambda: RateMap(beta=1.0), "beta"),
    ("rate-map-negative-lr", lambda: RateMap(lr=-0.1), "lr"),
    ("rate-map-unknown-method", lambda: RateMap(method="adam"), "method"),
    ("spectrum-n-one", lambda: SpectrumWidget(n=1), "n"),
    ("spectrum-n-seventeen", lambda: SpectrumWidget(n=17), "n"),
    ("spectrum-lr-above-four", lambda: SpectrumWidget(lr=4.5), "lr"),
    ("spectrum-beta-one", lambda: SpectrumWidget(beta=1.0), "beta"),
    ("spectrum-steps-five", lambda: SpectrumWidget(steps=5), "steps"),
    ("nesterov-regime-beta-one", lambda: theory.nesterov_regime(0.1, 1.0, 1.0), "beta"),
    ("nesterov-edge-beta-nan", lambda: theory.nesterov_edge(nan), "beta"),
    ("nesterov-critical-past-one", lambda: theory.nesterov_critical_momentum(2.0, 1.0), "lr \\* eigenvalue"),
    ("optimal-nesterov-mu-zero", lambda: theory.optimal_nesterov(0.0, 1.0), "mu"),
    ("optimal-nesterov-L-below-mu", lambda: theory.optimal_nesterov(2.0, 1.0), "L"),
    # quantization
    ("quantize-bits-one", lambda: quantization.quantize(W, bits=1), "bits"),
    ("quantize-bits-seventeen", lambda: quantization.quantize(W, bits=17), "bits"),
    ("quantize-bits-float", lambda: quantization.quantize(W, bits=8.0), "bits"),
    ("quantize-nan-weights", lambda: quantization.quantize(np.array([1.0, nan]), bits=8), "x"),
    ("quantize-inf-weights", lambda: quantization.quantize(torch.tensor([1.0, inf]), bits=8), "x"),
    ("quantize-empty", lambda: quantization.quantize(np.array([]), bits=8), "x"),
    ("quantize-axis-out-of-range", lambda: quantization.quantize(W, bits=8, axis=2), "axis"),
    ("quantize-strings", lambda: quantization.quantize(["a", "b"], bits=8), "x"),
    ("quantize-symmetric-not-bool", lambda: quantization.quantize(W, bits=8, symmetric="yes"), "symmetric"),
    ("dequantize-nan-scale", lambda: quantization.dequantize(np.zeros(3), nan, 0), "scale"),
    ("dequantize-zero-scale", lambda: quantization.dequantize(np.zeros(3), 0.0, 0), "scale"),
    ("fake-quantize-bits-zero", lambda: quantization.fake_quantize(torch.ones(3), bits=0), "bits"),
    # pruning
    ("mask-sparsity-one", lambda: pruning.magnitude_mask(W, 1.0), "sparsity"),
    ("mask-sparsity-negative", lambda: pruning.magnitude_mask(W, -0.1), "sparsity"),
    ("mask-sparsity-nan", lambda: pruning.magnitude_mask(W, nan), "sparsity"),
    ("mask-sparsity-string", lambda: pruning.magnitude_mask(W, "half"), "sparsity"),
    ("mask-nan-weights", lambda: pruning.magnitude_mask(np.array([nan, 1.0]), 0.5), "w"),
    ("mask-empty-weights", lambda: pruning.magnitude_mask(np.array([]), 0.5), "w"),
    ("global-masks-not-a-dict", lambda: pruning.global_magnitude_masks([W], 0.5), "weights"),
    ("global-masks-empty-dict", lambda: pruning.global_magnitude_masks({}, 0.5), "weights"),
    ("global-masks-sparsity-above-one", lambda: pruning.global_magnitude_masks({"w": W}, 1.5), "sparsity"),
    ("channel-mask-bad-axis", lambda: pruning.channel_mask(W, 0.5, axis=3), "axis"),
    ("masks-like-not-a-dict", lambda: pruning.masks_like({"w": W}, [W != 0]), "masks"),
    ("masks-like-unknown-name", lambda: pruning.masks_like({"w": W}, {"v": W != 0}), "masks"),
    ("masks-like-wrong-shape", lambda: pruning.masks_like({"w": W}, {"w": (W != 0)[:1]}), "masks"),
    ("eigenvalue-range-L-below-mu", lambda: theory.optimal_gd(2.0, 1.0), "L"),
    ("eigenvalue-range-L-equal-mu-strict", lambda: optimality.chebyshev_rate(1.0, 1.0), "L"),
    # data, models, training, compression
    ("digits-test-size-one", lambda: data.load_digits_split(test_size=1.0), "test_size"),
    ("digits-negative-seed", lambda: data.load_digits_split(seed=-1), "seed"),
    ("mlp-zero-width", lambda: models.mlp(hidden=(0,)), "hidden"),
    ("train-zero-epochs",
     lambda: training.train(models.mlp(seed=0), DIGITS, epochs=0, progress=False), "epochs"),
    ("train-momentum-one",
     lambda: training.train(models.mlp(seed=0), DIGITS, epochs=1, momentum=1.0, progress=False), "momentum"),
    ("train-negative-lr",
     lambda: training.train(models.mlp(seed=0), DIGITS, epochs=1, lr=-1.0, progress=False), "lr"),
    ("train-unknown-optimizer",
     lambda: training.train(models.mlp(seed=0), DIGITS, epochs=1, optimizer="adam", progress=False),
     "optimizer"),
    ("train-not-a-model", lambda: training.train("mlp", DIGITS, epochs=1, progress=False), "model"),
    ("train-teacher-is-the-model",
     lambda: training.train(_STUDENT, DIGITS, epochs=1, teacher=_STUDENT, progress=False),
     "teacher must be a fixed network"),
    ("save-compressed-bits-one",
     lambda: model_file.save_compressed(models.mlp(seed=0), "unused.bin", None, 1), "bits"),
    ("kmeans-k-zero", lambda: weight_sharing.kmeans_1d(np.arange(10.0), 0), "k"),
    ("small-cnn-batchnorm-string", lambda: models.small_cnn(batchnorm="yes"), "batchnorm"),
    # splits, observers, integer inference, folding, channel pruning, timing (lesson 12)
    ("splits-validation-size-zero",
     lambda: splits.load_digits_splits(validation_size=0.0), "validation_size"),
    ("splits-validation-size-one", lambda: splits.load_digits_splits(validation_size=1.0), "validation_size"),
    ("splits-negative-seed", lambda: splits.load_digits_splits(seed=-1), "seed"),
    ("percentile-fifty", lambda: observers.PercentileObserver(50.0), "percentile"),
    ("percentile-above-100", lambda: observers.PercentileObserver(100.5), "percentile"),
    ("observer-nan-batch", lambda: observers.MinMaxObserver().update([1.0, nan]), "x"),
    ("observer-empty-batch", lambda: observers.MinMaxObserver().update([]), "x"),
    ("observer-unknown-name", lambda: observers.make_observer("mean"), "observer"),
    ("affine-qparams-reversed", lambda: observers.affine_qparams(1.0, 0.0), "r_max"),
    ("affine-qparams-bits-one", lambda: observers.affine_qparams(0.0, 1.0, bits=1), "bits"),
    ("affine-qparams-inf", lambda: observers.affine_qparams(-inf, 1.0), "r_min"),
    ("multiplier-zero", lambda: integer_inference.quantize_multiplier(0.0), "M"),
    ("multiplier-negative", lambda: integer_inference.quantize_multiplier([0.1, -0.1]), "M"),
    ("multiplier-huge", lambda: integer_inference.quantize_multiplier(2.0**31), "M"),
    ("multiplier-nan", lambda: integer_inference.quantize_multiplier(nan), "M"),
    ("multiplier-tiny", lambda: integer_inference.quantize_multiplier(1e-300), "M"),  # a shift past int64's
    ("requantize-shift-zero", lambda: integer_inference.requantize(ACC, 2**30, 0, 0, 0, 255), "shift"),
    ("requantize-shift-past-int64", lambda: integer_inference.requantize(ACC, 2**30, 62, 0, 0, 255), "shift"),
    ("requantize-m0-too-large", lambda: integer_inference.requantize(ACC, 2**31, 31, 0, 0, 255), "m0"),
    ("requantize-q-max-below-q-min", lambda: integer_inference.requantize(ACC, 2**30, 31, 0, 10, 5), "q_max"),
    ("requantize-float-acc", lambda: integer_inference.requantize(ACC.float(), 2**30, 31, 0, 0, 255), "acc"),
    ("int32-multiplier-tiny", lambda: integer_inference.int32_multiplier(2.0**-30, 0, 0, 255), "M"),
    ("int32-multiplier-zero", lambda: integer_inference.int32_multiplier(0.0, 0, 0, 255), "M"),
    ("int32-multiplier-fewer-bits-than-codes",
     lambda: integer_inference.int32_multiplier(2.0**-18, 0, 0, 127), "M"),
    ("int32-multiplier-q-max", lambda: integer_inference.int32_multiplier(0.01, 0, 0, 256), "q_max"),
    ("int32-multiplier-zero-point",
     lambda: integer_inference.int32_multiplier(0.01, -1, 0, 255), "zero_point"),
    ("int-matmul-float", lambda: integer_inference.int_matmul(U8.float(), I8), "a"),
    ("int-matmul-uint8-right", lambda: integer_inference.int_matmul(U8, I8.to(torch.uint8)), "b"),
    ("int-matmul-shapes", lambda: integer_inference.int_matmul(U8, I8[:3]), "a and b"),
    ("linear-int-bias-dtype", lambda: integer_inference.linear_int(U8, I8.t(), torch.zeros(3)), "b_q"),
    ("linear-int-bias-shape",
     lambda: integer_inference.linear_int(U8, I8.t(), torch.zeros(4, dtype=torch.int32)), "b_q"),
    ("conv-int-float-input",
     lambda: integer_inference.conv2d_int(torch.zeros(1, 1, 4, 4), torch.zeros(2, 1, 3, 3, dtype=torch.int8),
                                          torch.zeros(2, dtype=torch.int32)), "x_q"),
    ("conv-int-negative-padding",
     lambda: integer_inference.conv2d_int(torch.zeros(1, 1, 4, 4, dtype=torch.uint8),
                                          torch.zeros(2, 1, 3, 3, dtype=torch.int8),
                                          torch.zeros(2, dtype=torch.int32), padding=-1), "padding"),
    ("convert-unknown-observer", lambda: integer_inference.convert(MLP, X_CAL, "mean"), "observer"),
    ("convert-bits-nine", lambda: integer_inference.convert(models.mlp(seed=0), X_CAL, bits=9), "bits"),
    ("convert-weight-bits-one",
     lambda: integer_inference.convert(models.mlp(seed=0), X_CAL, weight_bits=1), "weight_bits"),
    ("convert-percentile-low",
     lambda: integer_inference.convert(MLP, X_CAL, "percentile", percentile=10.0), "percentile"),
    ("convert-nan-calibration",
     lambda: integer_inference.convert(models.mlp(seed=0), X_CAL * nan), "X_calibration"),
    ("convert-not-sequential", lambda: integer_inference.convert(torch.nn.Linear(64, 10), X_CAL), "model"),
    ("convert-calibration-features",
     lambda: integer_inference.convert(MLP, torch.rand(4, 10)), "X_calibration"),
    ("convert-calibration-empty", lambda: integer_inference.convert(MLP, X_CAL[:0]), "X_calibration"),
    ("convert-calibration-1d", lambda: integer_inference.convert(MLP, X_CAL[0]), "X_calibration"),
    ("convert-batchnorm", lambda: integer_inference.convert(models.small_cnn(seed=0, batchnorm=True), X_CAL),
     "model"),
    ("fold-wrong-batchnorm",
     lambda: folding.fold_batchnorm(torch.nn.Linear(3, 2), torch.nn.BatchNorm2d(2)), "bn"),
    ("fold-batchnorm-width",
     lambda: folding.fold_batchnorm(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(5)), "bn"),
    ("fold-not-a-layer", lambda: folding.fold_batchnorm(torch.nn.ReLU(), torch.nn.BatchNorm1d(2)), "layer"),
    ("merge-mismatched",
     lambda: folding.merge_linear(torch.nn.Linear(3, 4), torch.nn.Linear(5, 2)), "second"),
    ("merge-not-linear",
     lambda: folding.merge_linear(torch.nn.Conv2d(1, 1, 1), torch.nn.Linear(1, 2)), "first"),
    ("prune-channels-sparsity-one", lambda: channel_pruning.prune_channels(MLP, 1.0), "sparsity"),
    ("prune-channels-sparsity-nan", lambda: channel_pruning.prune_channels(MLP, nan), "sparsity"),
    ("prune-channels-batchnorm",
     lambda: channel_pruning.prune_channels(models.small_cnn(seed=0, batchnorm=True), 0.5), "model"),
    ("count-macs-zero-shape", lambda: channel_pruning.count_macs(models.mlp(seed=0), (0,)), "input_shape"),
    ("time-call-repeat-one", lambda: timing.time_call(lambda: None, repeat=1), "repeat"),
    ("time-call-not-callable", lambda: timing.time_call(None), "fn"),
    ("right-sized-target-above-one",
     lambda: __import__("lessons_lib.baselines", fromlist=["_"]).smallest_matching([], 1.5),
     "target_accuracy"),
    ("right-sized-ratio-zero-bytes",
     lambda: __import__("lessons_lib.baselines", fromlist=["_"]).right_sized_ratios(0, [1]),
     "baseline_bytes"),
    ("dense-sweep-width-zero",
     lambda: __import__("lessons_lib.baselines", fromlist=["_"]).train_dense_sweep([(0,)], DIGITS, [0]),
     "hiddens"),
    ("quantized-files-not-a-baseline",
     lambda: __import__("lessons_lib.baselines", fromlist=["_"]).quantized_files(MLP, DIGITS, 4), "baseline"),
    ("non-inferior-one-seed",
     lambda: __import__("lessons_lib.baselines", fromlist=["_"]).smallest_non_inferior([], [0.5]),
     "target_accuracies"),
    ("non-inferior-negative-margin",
     lambda: __import__("lessons_lib.baselines", fromlist=["_"]).smallest_non_inferior([], [0.5, 0.5],
                                                                                        margin=-1),
     "margin"),
    ("most-accurate-within-zero-bytes",
     lambda: __import__("lessons_lib.baselines", fromlist=["_"]).most_accurate_within({"a": [(1, 0.5)]}, 0),
     "max_bytes"),
    ("train-many-8bit-unknown-code",
     lambda: __import__("lessons_lib.momentum8bit", fromlist=["_"]).train_many_8bit(
         [models.mlp(seed=0)], DIGITS, seeds=[0], code="log"), "code"),
    ("train-many-8bit-momentum-zero",
     lambda: __import__("lessons_lib.momentum8bit", fromlist=["_"]).train_many_8bit(
         [models.mlp(seed=0)], DIGITS, seeds=[0], momentum=0.0), "momentum"),
    # trained sharing and per-group int4 (lesson 13)
    ("share-model-bits",
     lambda: __import__("lessons_lib.trained_sharing", fromlist=["_"]).share_model(
         models.mlp(seed=0), 0), "bits"),
    ("share-model-mask-name",
     lambda: __import__("lessons_lib.trained_sharing", fromlist=["_"]).share_model(
         models.mlp(seed=0), 2, {"9.weight": 1}), "masks"),
    ("centroid-gradient-k",
     lambda: __import__("lessons_lib.trained_sharing", fromlist=["_"]).centroid_gradient(
         torch.ones(2, 2), torch.zeros(2, 2, dtype=torch.int64), torch.ones(2, 2), 0), "k"),
    ("centroid-gradient-shapes",
     lambda: __import__("lessons_lib.trained_sharing", fromlist=["_"]).centroid_gradient(
         torch.ones(2, 2), torch.zeros(3, dtype=torch.int64), torch.ones(2, 2), 2), "weight_grad"),
    ("fine-tune-centroids-epochs",
     lambda: (lambda ts: ts.fine_tune_centroids(
         [ts.share_model(models.mlp(seed=0), 2)], (DIGITS.X_train, DIGITS.y_train), epochs=0, lr=0.1,
         seeds=[0]))(__import__("lessons_lib.trained_sharing", fromlist=["_"])), "epochs"),
    ("fine-tune-centroids-lr",
     lambda: (lambda ts: ts.fine_tune_centroids(
         [ts.share_model(models.mlp(seed=0), 2)], (DIGITS.X_train, DIGITS.y_train), epochs=1, lr=-1.0,
         seeds=[0]))(__import__("lessons_lib.trained_sharing", fromlist=["_"])), "lr"),
    ("fine-tune-centroids-seeds",
     lambda: (lambda ts: ts.fine_tune_centroids(
         [ts.share_model(models.mlp(seed=0), 2)], (DIGITS.X_train, DIGITS.y_train), epochs=1, lr=0.1,
         seeds=[0, 1]))(__import__("lessons_lib.trained_sharing", fromlist=["_"])), "seeds"),
    ("pack-nibbles-odd",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).pack_nibbles(
         torch.tensor([1, 2, 3])), "codes"),
    ("pack-nibbles-range",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).pack_nibbles(
         torch.tensor([0, 16])), "codes"),
    ("unpack-nibbles-dtype",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).unpack_nibbles(
         torch.tensor([1, 2])), "packed"),
    ("quantize-groups-size",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).quantize_groups(
         torch.randn(4, 10), 4), "group_size"),
    ("quantize-groups-nan",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).quantize_groups(
         torch.tensor([[nan, 0.0]]), 2), "w"),
    ("int4-linear-features",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).Int4Linear.from_linear(
         torch.nn.Linear(8, 2), 4)(torch.randn(3, 7)), "x"),
    ("quantize-groups-float16-range",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).quantize_groups(
         torch.tensor([[0.0, 1e6]]), 2), "w"),
    ("save-int4-network-type",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).save_network(
         torch.nn.Linear(4, 2), "/tmp/unused.i4g"), "model"),
    ("load-int4-network-magic",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).load_network(__file__), "path"),
    ("save-int4-network-uint16",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).save_network(torch.nn.Sequential(
         __import__("lessons_lib.int4_groups", fromlist=["_"]).Int4Linear.from_linear(
             torch.nn.Linear(2, 65_536), 2)), "/tmp/unused.i4g"), "model"),
    ("load-int4-network-group-size",
     lambda: __import__("lessons_lib.int4_groups", fromlist=["_"]).load_network(
         __import__("pathlib").Path("/tmp/bad_group_size.i4g").write_bytes(
             b"I4G1\x01\x00\x02\x00\x08\x00\x03\x00\x00" + bytes(64)) and "/tmp/bad_group_size.i4g"), "path"),
    ("selection-n-images-zero",
     lambda: selection.choose([[1, 2]], [1.0], 0), "n_images"),
    ("selection-cost-shape",
     lambda: selection.choose([[1, 2], [3, 4]], [1.0], 10), "cost"),
    ("selection-load-record-name-escapes", lambda: selection.load_record("../lesson10_finetuning"), "name"),
    ("selection-load-record-folder-number",
     lambda: selection.load_record("lesson10_finetuning", 123), "folder"),
    ("selection-load-record-folder-empty",
     lambda: selection.load_record("lesson10_finetuning", ""), "folder"),
    ("selection-load-record-folder-missing",
     lambda: selection.load_record("lesson10_finetuning", "/nonexistent/v"), "folder"),
    ("selection-tolerance-negative",
     lambda: selection.candidates([[1]], 10, tolerance=-1),
     "tolerance"),
    # intervals (the t-interval of the compression lessons' checks, baselines and benchmark)
    ("t-half-width-one-value", lambda: intervals.t_half_width([1.0]), "values"),
    ("t-half-width-two-dimensional", lambda: intervals.t_half_width([[1.0, 2.0], [3.0, 4.0]]), "values"),
    ("t-half-width-nan", lambda: intervals.t_half_width([1.0, nan]), "values"),
    ("t-half-width-text", lambda: intervals.t_half_width("12"), "values"),
    ("t-half-width-alpha-zero", lambda: intervals.t_half_width([1.0, 2.0], alpha=0.0), "alpha"),
    ("t-half-width-empty", lambda: intervals.t_half_width([]), "values"),
    ("t-half-width-booleans", lambda: intervals.t_half_width([True, False, True]), "values"),
    ("t-half-width-alpha-array", lambda: intervals.t_half_width([1.0, 2.0], alpha=[0.05, 0.01]), "alpha"),
    ("t-half-width-alpha-nan", lambda: intervals.t_half_width([1.0, 2.0], alpha=nan), "alpha"),
    ("t-half-width-alpha-negative", lambda: intervals.t_half_width([1.0, 2.0], alpha=-0.05), "alpha"),
    ("t-half-width-alpha-one", lambda: intervals.t_half_width([1.0, 2.0], alpha=1.0), "alpha"),
    ("qat-flips-many-bits",
     lambda: __import__("lessons_lib.qat_batched", fromlist=["_"]).qat_with_flips_many(
         [MLP], DIGITS, 0.1, 0.9, [0], bits=1), "bits"),
]


def test_the_table_is_large_enough():
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("call, param", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(call, param):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((ValueError, TypeError)) as info:
            call()
    message = str(info.value)
    assert re.search(param, message), f"{message!r} does not name {param!r}"
    assert "must" in message, f"{message!r} does not say what is allowed"
