"""The course's speed and size figures, measured in one run.

    python benchmarks/run.py          # a readable table with each goal
    python benchmarks/run.py --json   # one JSON object of named figures
    python benchmarks/run.py --only rate_map_ms batched_steps_per_s
    python benchmarks/run.py --only notebook_seconds_total --notebook-rounds 5   # default 3 rounds

Each figure is the median of several repetitions where it is cheap to repeat.
Figures come from this machine at the time of the run; the README quotes a run
on the course's reference machine (two CPU cores). That machine has not always
been the same processor (the course's notes name an AMD EPYC on one day and an
Intel Xeon on another), so every run also reports ``machine``: the processor, its
cores and the time of the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

from lessons_lib import _validate, optimizers, surfaces, theory  # noqa: E402
from lessons_lib.intervals import t_half_width  # noqa: E402


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- optimization core (issue: foundation) ----------------------------------

def rate_map_ms() -> float:
    """Momentum rate over a 400 x 400 grid of (lr, beta), eigenvalues in [mu, L] (theory)."""
    mu, L = 0.1, 10.0
    lr = np.linspace(1e-3, 4.0 / L, 400)[None, :]
    beta = np.linspace(0.0, 0.999, 400)[:, None]
    theory.momentum_rate(lr, beta, [mu, L])  # warm-up
    return 1e3 * _median_seconds(lambda: theory.momentum_rate(lr, beta, [mu, L]), repeat=21)


GRID_LR = np.logspace(-5, -2.5, 100)[:, None]
GRID_BETA = np.linspace(0.0, 0.99, 100)[None, :]
GRID_STEPS = 1000


def _batched_seconds() -> float:
    rosen = surfaces.get("rosenbrock")
    return _median_seconds(
        lambda: optimizers.run(rosen, rosen.start, "momentum", GRID_LR, GRID_BETA, GRID_STEPS), repeat=3)


def batched_steps_per_s() -> float:
    """Steps per second of optimizers.run on a 100 x 100 grid of (lr, momentum), 1,000 steps, Rosenbrock."""
    return GRID_LR.size * GRID_BETA.size * GRID_STEPS / _batched_seconds()


def batched_speedup_vs_torch_loop() -> float:
    """The same grid as a Python loop over torch.optim.SGD, one configuration at a time.

    A sample of 12 configurations is timed and scaled to the 10,000 of the grid.
    """
    import torch

    torch.set_num_threads(1)
    rosen_start = surfaces.get("rosenbrock").start
    rng = np.random.default_rng(0)
    sample = [(float(GRID_LR[i, 0]), float(GRID_BETA[0, j]))
              for i, j in zip(rng.integers(0, 100, 12), rng.integers(0, 100, 12), strict=True)]

    def torch_loop():
        for lr, beta in sample:
            p = torch.tensor(rosen_start, dtype=torch.float64, requires_grad=True)
            opt = torch.optim.SGD([p], lr=lr, momentum=beta)
            for _ in range(GRID_STEPS):
                opt.zero_grad()
                loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
                loss.backward()
                opt.step()

    per_config = _median_seconds(torch_loop, repeat=1) / len(sample)
    return per_config * GRID_LR.size * GRID_BETA.size / _batched_seconds()


# --- widgets (issue: optimization lessons) ----------------------------------

WIDGET_RESULTS = ROOT / "test-artifacts" / "browser" / "widgets" / "results.json"


def _browser_results(path: pathlib.Path) -> dict | None:
    """The figures a browser test last wrote to ``path``; None if it has not run on this checkout,
    or unless it ran in one process (``test_workers`` 1; the test command runs two workers, and the
    goals are for a browser with the machine to itself). Measure them with
    ``python -m pytest -n 0 -m browser``. A file without the count is not reported: 0854138's runs
    on two workers wrote none."""
    if not path.exists():
        return None
    results = json.loads(path.read_text(encoding="utf-8"))
    return results if results.get("test_workers") == 1 else None


def widget_update_ms() -> float | None:
    """Median time to draw the explorer after a slider move, in Chromium.

    Trajectory explorer on Rosenbrock, GD, momentum and Nesterov, 300 steps each; the
    momentum slider is moved 60 times with the arrow keys. The widget computes the three
    runs and draws them in the browser (``course_widgets.js``), so this is the browser's
    time, read from ``test-artifacts/browser/widgets/results.json``, which
    ``tests/test_widgets_browser.py`` writes; None if that test has not run on this checkout
    or its run had more than one worker or no count (``_browser_results``).
    """
    results = _browser_results(WIDGET_RESULTS)
    if results is None or "slider_redraw" not in results:
        return None
    return float(results["slider_redraw"]["e"]["draw_ms_p50"])


def spectrum_slider_to_pixels_ms_p95() -> float | None:
    """95th percentile, key press to changed pixels, the spectrum widget (issue 13), in Chromium.

    ``SpectrumWidget()`` (n = 8 eigenvalues, 300 steps, 16 curves and two losses), 60 presses on
    each of its beta and eta sliders, each timed from the keydown's time stamp to the first
    animation frame whose canvas differs, presses spread over the frame's phase; the larger of
    the two sliders' figures. Read from ``test-artifacts/browser/widgets/results.json``, which
    ``tests/test_widgets_browser.py`` writes; None if that test has not run on this checkout
    or its run had more than one worker or no count (``_browser_results``).
    """
    results = _browser_results(WIDGET_RESULTS)
    if results is None or "spectrum_slider_to_pixels_ms" not in results:
        return None
    return float(results["spectrum_slider_to_pixels_ms"]["p95"])


STATIC_HTML_RESULTS = ROOT / "test-artifacts" / "browser" / "static_html" / "results.json"


def static_html_slider_to_pixels_ms_p95() -> float | None:
    """95th percentile, key press to changed pixels in nbconvert's HTML with no kernel, in Chromium.

    The explorer (Rosenbrock, three methods, 300 steps) drawn by ``course_widgets.js`` from the
    state saved in the output; 60 presses on its momentum slider, each timed from the keydown to
    the first animation frame whose canvas differs. Read from
    ``test-artifacts/browser/static_html/results.json``, which ``tests/test_static_html_browser.py``
    writes; None if that test has not run on this checkout
    or its run had more than one worker or no count (``_browser_results``).
    """
    results = _browser_results(STATIC_HTML_RESULTS)
    return None if results is None else float(results["static_html_slider_to_pixels_ms"]["p95"])


JUPYTERLAB_RESULTS = ROOT / "test-artifacts" / "browser" / "jupyterlab" / "results.json"


def _jupyterlab_result(name: str) -> object | None:
    """A figure measured in Chromium against a real JupyterLab 4.6 by the last run of
    ``tests/test_browser_routes.py``, read from ``test-artifacts/browser/jupyterlab/results.json``;
    None if that test has not run on this checkout
    or its run had more than one worker or no count (``_browser_results``)."""
    results = _browser_results(JUPYTERLAB_RESULTS)
    return None if results is None else results.get(name)


def browser_slider_to_pixels_ms_p50() -> dict[str, float] | None:
    """Median key press to changed pixels in JupyterLab, per widget, over 60 presses.

    The explorer (Rosenbrock, three methods, 300 steps; its momentum slider) and the rate map
    (its beta slider), each press timed inside the page from the keydown's time stamp to the
    first animation frame whose canvas pixels differ (performance.now, requestAnimationFrame).
    """
    return _jupyterlab_result("browser_slider_to_pixels_ms_p50")


def browser_slider_to_pixels_ms_p95() -> dict[str, float] | None:
    """95th percentile of the same (nearest rank over the 60 presses)."""
    return _jupyterlab_result("browser_slider_to_pixels_ms_p95")


def play_fps() -> float | None:
    """Distinct pictures per second while the explorer plays (about 3 s; nominal rate 25/s)."""
    return _jupyterlab_result("play_fps")


def _play_nominal() -> float:
    play = _jupyterlab_result("play")
    return float(play["nominal"]) if play else 25.0


def first_figure_ms() -> float | None:
    """Run All Cells (the Run menu) on lesson 00 to the parabola widget's first drawn figure."""
    return _jupyterlab_result("first_figure_ms")


# --- the course's website (issue: the course as a static website) --------------------------

SITE_RESULTS = ROOT / "test-artifacts" / "browser" / "site" / "results.json"
_SITE_BUILD: dict[str, float] = {}


def _site_result(name: str) -> object | None:
    """A figure measured in Chromium on the built site, served from 127.0.0.1 under a sub-path, by
    the last run of ``tests/test_site.py`` (``test-artifacts/browser/site/results.json``); None if
    that test has not run on this checkout
    or its run had more than one worker or no count (``_browser_results``)."""
    results = _browser_results(SITE_RESULTS)
    return None if results is None else results.get(name)


def _site_build() -> dict[str, float]:
    """Build the site once with ``scripts/build_site.py`` into a temporary folder: seconds and bytes."""
    if not _SITE_BUILD:
        import importlib.util
        import tempfile

        spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
        build_site = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(build_site)
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp) / "site"
            seconds = build_site.build(out)
            size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        _SITE_BUILD.update(seconds=seconds, bytes=float(size))
    return _SITE_BUILD


def site_build_seconds() -> float:
    """Seconds for ``python scripts/build_site.py`` (Sphinx, MyST-NB; nothing executed), a fresh build."""
    return _site_build()["seconds"]


def site_bytes() -> float:
    """The built site's size in bytes (pages, images, the notebooks to download, theme, MathJax)."""
    return _site_build()["bytes"]


def site_first_interactive_ms() -> float | None:
    """Navigation start to lesson 03's first explorer drawn again after a key on its momentum
    slider: cold cache (a new browser context), local server, median of three loads."""
    value = _site_result("site_first_interactive_ms")
    return None if value is None else float(value)


def site_slider_to_pixels_ms_p95() -> float | None:
    """95th percentile, key press to changed pixels on the site (lesson 03's explorer, momentum
    slider, 60 presses, the page at rest), measured as ``static_html_slider_to_pixels_ms_p95``."""
    value = _site_result("site_slider_to_pixels_ms")
    return None if value is None else float(value["p95"])


def site_page_bytes() -> dict[str, float] | None:
    """Bytes each page transfers with a cold cache (HTML, scripts, styles, images; text gzip-compressed
    as GitHub Pages sends it), per page."""
    pages = _site_result("site_page_bytes")
    return None if pages is None else {k: float(v["transferred"]) for k, v in pages.items()}


# --- compression (issue: compression lessons) --------------------------------

_COMPRESSION: dict[str, object] = {}  # "ratio", "drop" (mean, interval, extremes) and the "runs"
COMPRESSION_SEEDS = range(5)


def _mean_and_interval(values: list[float]) -> dict[str, float]:
    """Mean, the half-width of its 95 % t-interval, and the extremes of ``values``."""
    x = np.asarray(values, dtype=float)
    return {"mean": float(x.mean()), "ci95": t_half_width(x), "min": float(x.min()), "max": float(x.max())}


def _compression_figures() -> dict[str, object]:
    """The whole pipeline (``compression.compression_experiment``: 30 dense epochs, five rounds of
    pruning with 10 fine-tuning epochs each, 5-bit sharing, the file saved and reloaded; trained on
    the training part of ``splits.load_digits_splits(seed=seed)`` and measured on its test part),
    seeds 0..4: mean, 95 % interval, extremes."""
    if not _COMPRESSION:
        import torch

        from lessons_lib.compression import compression_experiment

        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float64)  # as the lessons compute: the same on every CPU
        runs = [compression_experiment(seed=s, progress=False) for s in COMPRESSION_SEEDS]
        _COMPRESSION.update(ratio=_mean_and_interval([r.ratio for r in runs]),
                            drop=_mean_and_interval([r.accuracy_drop for r in runs]),
                            runs=runs)
    return _COMPRESSION


def compression_ratio() -> dict[str, float]:
    """Bytes of the float32 model file over bytes of the compressed file that loads back."""
    return _compression_figures()["ratio"]


# dense candidates: 64 -> h -> 10 and 64 -> h -> h/2 -> 10
RIGHT_SIZED_HIDDEN = [(16,), (32,), (64,), (128,), (256,), (512,), (32, 16), (64, 32), (128, 64), (256, 128)]


def _widths(hidden: tuple[int, ...]) -> tuple[float, float]:
    """(h1, h2) of a candidate, h2 = 0 for one hidden layer."""
    return float(hidden[0]), float(hidden[1] if len(hidden) > 1 else 0)


def _distilled_sweep(sweep: list, splits: dict) -> list:
    """The ``sweep``'s networks given what ``compression_experiment`` gives the pruned ones after the dense
    training: for each seed, its five rounds of 10 epochs (lr 0.05, momentum 0.9, batches of 32, data
    order seed ``s + 1 + r``), distilled from that seed's dense 64-300-100-10 (the pipeline's own,
    ``CompressionResult.dense``; alpha 0.9, T = 4, as ``training.train`` defaults), without masks.
    Returns new ``DenseBaseline``s."""
    import copy

    from lessons_lib import baselines
    from lessons_lib.training import accuracy, train

    runs = _compression_figures()["runs"]
    kw = dict(lr=0.05, momentum=0.9, batch_size=32, progress=False, evaluate=())
    teachers = {s: run.dense for s, run in zip(COMPRESSION_SEEDS, runs, strict=True)}
    out = []
    for b in sweep:
        nets = []
        for s, net in zip(b.seeds, b.networks, strict=True):
            net = copy.deepcopy(net)
            for r in range(5):
                train(net, (splits[s].X_train, splits[s].y_train), epochs=10, seed=s + 1 + r,
                      teacher=teachers[s], **kw)
            nets.append(net)
        pairs = list(zip(b.seeds, nets, strict=True))
        out.append(baselines.DenseBaseline(
            hidden=b.hidden, seeds=b.seeds, n_parameters=b.n_parameters, float32_bytes=b.float32_bytes,
            val_accuracies=tuple(accuracy(n, splits[s].X_val, splits[s].y_val) for s, n in pairs),
            test_accuracies=tuple(accuracy(n, splits[s].X_test, splits[s].y_test) for s, n in pairs),
            networks=tuple(nets)))
    return out


def compression_ratio_vs_right_sized() -> dict[str, float]:
    """Compressed file bytes against the smallest dense float32 file as accurate, chosen on validation.

    The same five runs as ``compression_ratio`` (seeds 0..4, each with its own parts
    ``load_digits_splits(seed=seed)``). Dense ``64 -> h -> 10`` and ``64 -> h -> h/2 -> 10`` networks
    (``RIGHT_SIZED_HIDDEN``) are trained with the dense protocol of ``compression_experiment``
    (30 epochs, lr 0.05, momentum 0.9, batch 32) on the same seeds and training parts. The right-sized
    network is CHOSEN on the validation parts (270 images a seed) and then REPORTED on the test parts:

    * ``mean``/``ci95``/``min``/``max``: the rule "mean >= mean" (``baselines.smallest_matching``): the
      fewest float32 bytes whose mean validation accuracy over the five seeds is at least the
      compressed files' mean validation accuracy (the 64-300-100-10 itself if none is); per seed its
      bytes over that seed's compressed bytes. ``dense_h1``/``dense_h2`` (0: one hidden layer),
      ``dense_bytes`` describe it; ``test_diff_pt``/``test_diff_ci95``: its test accuracy minus the
      compressed file's, paired by seed, mean and 95 % interval (points): how the choice fares on
      images it did not see. ``closest_miss_*``: of the smaller candidates (all of which miss the
      target on validation) the most accurate on validation; by how many validation images per seed
      it misses, the mean ratio against it, and (``closest_miss_val_diff_pt``/``_ci95``) its validation
      accuracy minus the compressed files', paired by seed: an interval containing 0 means that
      validation does not tell it from the files.
    * ``noninferior_*``: the paired rule of ``baselines.smallest_non_inferior`` on validation (margin
      0.5 points), the smallest of ``n_candidates`` tests made without correction for their number;
      ``sequence_*``: the same test as a fixed sequence, which needs no correction: from the most
      bytes down, the last candidate before the first failure.
    * ``distilled_*`` / ``distilled_noninferior_*``: the mean rule and the paired rule again, with every
      candidate given what the pipeline gives the pruned networks (``_distilled_sweep``: 50 epochs of
      fine-tuning distilled from the seed's dense network); the pick's widths, mean ratio and test
      accuracy minus the compressed files' (paired, points). Reported: the goal reads the rule above.

    The ``ci95`` covers only the spread of the compressed files' sizes, not the choice of baseline.
    """
    import torch

    from lessons_lib import baselines
    from lessons_lib.splits import load_digits_splits

    runs = _compression_figures()["runs"]  # sets one thread and float64, as the lessons compute
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    splits = {s: load_digits_splits(seed=s) for s in COMPRESSION_SEEDS}
    sweep = baselines.train_dense_sweep(RIGHT_SIZED_HIDDEN, splits, list(COMPRESSION_SEEDS), epochs=30,
                                        lr=0.05, momentum=0.9, batch_size=32)
    val_per_seed = [r.compressed_val_accuracy for r in runs]
    test_per_seed = np.array([r.compressed_accuracy for r in runs])
    target = float(np.mean(val_per_seed))
    sizes = [r.compressed_bytes for r in runs]
    right = baselines.smallest_matching(sweep, target)
    right_bytes = runs[0].float32_bytes if right is None else right.float32_bytes
    figures = _mean_and_interval(list(baselines.right_sized_ratios(right_bytes, sizes)))
    h1, h2 = (300.0, 100.0) if right is None else _widths(right.hidden)
    right_test = (np.array([r.dense_accuracy for r in runs]) if right is None
                  else np.asarray(right.test_accuracies, dtype=float))
    diff = _mean_and_interval(list(100 * (right_test - test_per_seed)))
    figures.update(dense_h1=h1, dense_h2=h2, dense_bytes=float(right_bytes),
                   dense_test_acc_pct=100 * float(right_test.mean()),
                   compressed_test_acc_pct=100 * float(test_per_seed.mean()),
                   test_diff_pt=diff["mean"], test_diff_ci95=diff["ci95"])
    n_val = len(splits[COMPRESSION_SEEDS[0]].y_val)
    missing = [b for b in sweep if b.mean_val_accuracy < target and b.float32_bytes < right_bytes]
    if missing:
        runner = max(missing, key=lambda b: (b.mean_val_accuracy, -b.float32_bytes))  # the closest miss
        c1, c2 = _widths(runner.hidden)
        figures.update(closest_miss_h1=c1, closest_miss_h2=c2,
                       closest_miss_val_images_short=float((target - runner.mean_val_accuracy) * n_val),
                       closest_miss_ratio=float(np.mean(baselines.right_sized_ratios(runner.float32_bytes,
                                                                                      sizes))))
        miss_val = np.asarray(runner.val_accuracies) - np.asarray(val_per_seed)  # paired by seed
        miss_diff = _mean_and_interval(list(100 * miss_val))
        figures.update(closest_miss_val_diff_pt=miss_diff["mean"],
                       closest_miss_val_diff_ci95=miss_diff["ci95"])
    low = baselines.smallest_non_inferior(sweep, val_per_seed, margin=0.005)
    figures.update(n_candidates=float(len(sweep)))
    sequence = None
    for b in sorted(sweep, key=lambda b: b.float32_bytes, reverse=True):
        if baselines.smallest_non_inferior([b], val_per_seed, margin=0.005) is None:
            break
        sequence = b
    if sequence is not None:
        s1, s2 = _widths(sequence.hidden)
        figures.update(sequence_h1=s1, sequence_h2=s2,
                       sequence_ratio=float(np.mean(baselines.right_sized_ratios(sequence.float32_bytes,
                                                                                 sizes))))
    if low is not None:
        n1, n2 = _widths(low.hidden)
        figures.update(noninferior_h1=n1, noninferior_h2=n2, noninferior_bytes=float(low.float32_bytes),
                       noninferior_ratio=float(np.mean(baselines.right_sized_ratios(low.float32_bytes,
                                                                                     sizes))))
    distilled = _distilled_sweep(sweep, splits)  # the candidates given the pruned networks' fine-tuning
    for rule, pick in (("distilled", baselines.smallest_matching(distilled, target)),
                       ("distilled_noninferior", baselines.smallest_non_inferior(distilled, val_per_seed,
                                                                                 margin=0.005))):
        if pick is None:
            continue
        p1, p2 = _widths(pick.hidden)
        p_diff = _mean_and_interval(list(100 * (np.asarray(pick.test_accuracies) - test_per_seed)))
        figures.update({f"{rule}_h1": p1, f"{rule}_h2": p2,
                        f"{rule}_ratio": float(np.mean(baselines.right_sized_ratios(pick.float32_bytes,
                                                                                    sizes))),
                        f"{rule}_test_diff_pt": p_diff["mean"], f"{rule}_test_diff_ci95": p_diff["ci95"]})
    return figures


def compression_acc_drop_pt() -> dict[str, float]:
    """Dense test accuracy minus that of the reloaded compressed model, percentage points."""
    return _compression_figures()["drop"]


def momentum_state_8bit_acc_drop_pt() -> dict[str, float]:
    """Test accuracy with a full-precision momentum buffer minus that with a block-wise 8-bit one.

    The 8-bit buffer is ``momentum8bit``'s linear code with blocks of 256 (``paired_accuracies``'
    ``"sgd8bit"``). The digits MLP, 30 epochs in batches of 128 (a settled protocol: with 20 epochs
    in batches of 64 single seeds swing by two points), seeds 0..7, paired: same seed,
    initialisation, data order and budget for both optimizers, on ``load_digits_split(seed=0)``'s
    training part. Lesson 13 runs the same comparison on its own split (the training part of
    ``load_digits_splits``) and prints its own figures, so they differ from this one's. Mean of the
    eight differences in points, the half-width of its 95 % t-interval, and the extremes.
    """
    import torch

    from lessons_lib.data import load_digits_split
    from lessons_lib.training import paired_accuracies

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)  # as lesson 13 computes it
    acc, _ = paired_accuracies(load_digits_split(seed=0), ("sgd", "sgd8bit"), seeds=range(8),
                               epochs=30, batch_size=128)
    return _mean_and_interval(list(100.0 * (np.array(acc["sgd"]) - np.array(acc["sgd8bit"]))))


# --- integer inference and channel pruning (issue 12, lesson 12) ------------

def _ratio(r: object) -> dict[str, float]:
    """A :class:`lessons_lib.timing.Speedup` as its median per-run ratio and quartiles."""
    return {"median": r.median, "q1": r.q1, "q3": r.q3}


def _int_mm_path() -> dict[str, float]:
    """Which path ``torch._int_mm`` takes here (1.0 yes, 0.0 no): torch >= 2.6 calls oneDNN for it on
    the CPU only when the CPU has AVX-512 VNNI and mkldnn is enabled (pytorch/pytorch#136942), and
    otherwise runs an exact int32 reference loop, far slower than float32. The int8 speed goals
    assume the oneDNN path."""
    import torch

    vnni, enabled = bool(torch.cpu._is_vnni_supported()), bool(torch.backends.mkldnn.enabled)
    return {"avx512_vnni": float(vnni), "mkldnn_enabled": float(enabled),
            "onednn_path": float(vnni and enabled)}


def _int8_matmul_speedup(batch: int) -> dict[str, float]:
    import torch

    from lessons_lib.timing import speedup

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    a7 = torch.randint(0, 128, (batch, 512), generator=gen, dtype=torch.uint8)  # 7-bit codes, as lesson 12
    b8 = torch.randint(-127, 128, (512, 512), generator=gen, dtype=torch.int8)
    a32, b32 = a7.float(), b8.float()
    return {**_ratio(speedup(lambda: torch._int_mm(a7, b8), lambda: a32 @ b32, repeat=101)), **_int_mm_path()}


def int8_matmul_speedup_b256() -> dict[str, float]:
    """float32 time over int8 time (7-bit uint8 codes by int8, int32 sums, ``torch._int_mm``),
    256x512 by 512x512, one thread: median and quartiles of the per-run ratio over 101 interleaved
    runs (:func:`lessons_lib.timing.speedup`), and the path measured (:func:`_int_mm_path`): the goal
    (>= 2) assumes oneDNN, that is a CPU with AVX-512 VNNI; elsewhere torch's reference loop is slower
    than float32 (about 0.03 on lesson 12's machine with mkldnn off)."""
    return _int8_matmul_speedup(256)


def int8_matmul_speedup_b1() -> dict[str, float]:
    """The same product at batch 1 (1x512 by 512x512)."""
    return _int8_matmul_speedup(1)


def int8_model_speedup_b256() -> dict[str, float]:
    """The integer-only network (``integer_inference.convert``, 7-bit activations, min/max observers on
    512 training images) over its float32 twin, batch 256 of test images, one thread, median and
    quartiles of the per-run ratio over 101 interleaved runs; for lesson 12's network 64-256-128-10 and
    the wide 64-512-512-10 of its section 10, each with the 31-bit multiplier in int64 (``int64``) and
    with the int32 requantization (``int32``: the window clamp and a narrower multiplier, lesson 12's
    section 10). Speed does not depend on the values of the weights, so both are freshly initialised
    (seed 0). The path measured as :func:`_int_mm_path` reports it; the goal assumes oneDNN (a CPU
    with AVX-512 VNNI). It is read on the wide network twice, with equal weight: with the library's
    default (int64) requantization, on which it was set, and with the int32 option, added in 7c84df1
    after the default tied on the Xeon."""
    import copy

    import torch

    from lessons_lib import integer_inference
    from lessons_lib.models import mlp
    from lessons_lib.splits import load_digits_splits
    from lessons_lib.timing import speedup

    torch.set_num_threads(1)
    splits = load_digits_splits(seed=0, dtype=torch.float64)
    out = {}
    for name, hidden in (("lesson_64_256_128_10", (256, 128)), ("wide_64_512_512_10", (512, 512))):
        net = mlp(hidden=hidden, seed=0).double()
        f32 = copy.deepcopy(net).float().eval()
        x32 = splits.X_test[:256].float()
        for requantization in ("int64", "int32"):
            inet = integer_inference.convert(net, splits.X_train[:512], bits=7, requantization=requantization)
            x_q = inet.quantize_input(splits.X_test[:256])
            with torch.inference_mode():
                r = speedup(lambda inet=inet, x_q=x_q: inet.forward_codes(x_q),
                            lambda f32=f32, x32=x32: f32(x32), repeat=101)
            out.update({f"{name}_{requantization}_{k}": v for k, v in _ratio(r).items()})
    return {**out, **_int_mm_path()}


_CHANNEL: dict[str, object] = {}
CHANNEL_SEEDS = range(5)


def _channel_pruning_figures() -> dict[str, object]:
    """Lesson 12's protocol, section 10: 64-256-128-10 trained on the training part (12 epochs at
    lr 0.1, then 3 at 0.01; momentum 0.9, batches of 64), half of each hidden layer's units removed
    by the norm of their incoming weights (p = 0.5, the lesson's choice on the validation part), 4
    epochs of fine-tuning at lr 0.02; seeds 0..4, test drop paired by seed. Latency: float32,
    batch 256, one thread, seed 0's dense and pruned networks, median and quartiles of the per-run ratio
    over 101 interleaved runs."""
    if not _CHANNEL:
        import copy

        import torch

        from lessons_lib.channel_pruning import prune_channels
        from lessons_lib.models import mlp
        from lessons_lib.splits import load_digits_splits
        from lessons_lib.timing import speedup
        from lessons_lib.training import accuracy, train

        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float64)  # as the lesson computes: the same on every CPU
        s = load_digits_splits(seed=0)
        fit = (s.X_train, s.y_train)
        drops, pair = [], None
        for seed in CHANNEL_SEEDS:
            net = mlp(hidden=(256, 128), seed=seed)
            train(net, fit, epochs=12, lr=0.1, momentum=0.9, batch_size=64, seed=seed, progress=False)
            train(net, fit, epochs=3, lr=0.01, momentum=0.9, batch_size=64, seed=seed, progress=False)
            small = prune_channels(net, 0.5)
            train(small, fit, epochs=4, lr=0.02, momentum=0.9, batch_size=64, seed=seed, progress=False)
            drops.append(100 * (accuracy(net, s.X_test, s.y_test) - accuracy(small, s.X_test, s.y_test)))
            pair = pair or (net, small)
        x32 = s.X_test[:256].float()
        dense32, small32 = (copy.deepcopy(m).float().eval() for m in pair)
        with torch.inference_mode():
            r = speedup(lambda: small32(x32), lambda: dense32(x32), repeat=101)
        _CHANNEL.update(speedup=_ratio(r), drop=_mean_and_interval(drops))
    return _CHANNEL


def channel_pruning_speedup_b256() -> dict[str, float]:
    """Dense float32 latency over that of the channel-pruned (smaller dense) network, batch 256:
    median and quartiles of the per-run ratio."""
    return _channel_pruning_figures()["speedup"]


def channel_pruning_acc_drop_pt() -> dict[str, float]:
    """Test accuracy of the dense network minus that of the pruned and fine-tuned one, points, five
    seeds: mean, 95 % interval half-width, extremes."""
    return _channel_pruning_figures()["drop"]


# --- notebooks (issues: foundation, reliability) ----------------------------

# VmHWM is the peak resident set of the kernel process itself (getrusage's ru_maxrss would
# carry over the high-water mark of the process that forked the kernel).
_PEAK_RSS_CELL = (
    "import sys as _s\n"
    "_hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "print('__PEAK_RSS_KB__', _hwm, file=_s.stderr)"
)


@dataclasses.dataclass(frozen=True)
class NotebookRun:
    """One notebook executed on a fresh kernel: ``seconds`` in all, split at nbclient's hooks into
    ``start`` (kernel manager, kernel launch, until its client is ready: ``on_notebook_start``),
    ``cells`` (until the last cell's reply, ``on_cell_executed``; it includes the kernel_info round
    trip and this benchmark's own peak-memory cell) and ``shutdown`` (the rest: mostly nbclient's
    graceful shutdown, which waits for the kernel process to exit, polling every 0.1 s); ``peak_mb``:
    the kernel's peak resident memory."""

    seconds: float
    start: float
    cells: float
    shutdown: float
    peak_mb: float


def run_notebook(path: pathlib.Path) -> NotebookRun:
    """Execute ``path`` on a fresh kernel, as ``nbconvert --execute`` and nbgrader's autograde do."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PEAK_RSS_CELL))
    marks: dict[str, float] = {}

    def on_ready(**_):
        marks["ready"] = time.perf_counter()

    def on_cell_executed(**_):
        marks["cells"] = time.perf_counter()

    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", on_notebook_start=on_ready,
                   on_cell_executed=on_cell_executed,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    end = time.perf_counter()
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    kb = float(text.split("__PEAK_RSS_KB__")[1].split()[0])
    ready, cells = marks["ready"], marks["cells"]
    return NotebookRun(seconds=end - start, start=ready - start, cells=cells - ready, shutdown=end - cells,
                        peak_mb=kb / 1024.0)


NOTEBOOK_ROUNDS = 3  # --notebook-rounds: how many times the whole collection runs (odd: a median is one run)
_NOTEBOOK_CACHE: dict[str, list[NotebookRun]] = {}


@dataclasses.dataclass(frozen=True)
class MachineState:
    """The machine around one notebook's run: :func:`speed_probe`'s seconds just before it, the one-minute
    load average read then, and the share of the CPU time the hypervisor gave to other guests while the
    notebook ran (steal, from ``/proc/stat``; NaN where there is no such file)."""

    round: int
    notebook: str
    probe_s: float
    load_1min: float
    steal_pct: float


_MACHINE: list[MachineState] = []  # one per notebook run, filled with _NOTEBOOK_CACHE
_PROBE_WORK: list[Callable[[], None]] = []  # the probe's work, built and run once untimed (first call)


def _probe_work() -> Callable[[], None]:
    """The fixed work :func:`speed_probe` times, built once a process and run once untimed. It changes
    no global setting: torch's thread count is put back after each run, and the figure is drawn on
    matplotlib's Agg canvas directly (no pyplot, no backend switch)."""
    if not _PROBE_WORK:
        import io

        import torch
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        rng = np.random.default_rng(0)
        a = rng.standard_normal((64, 64))
        net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
        net = net.double()
        x, y = torch.randn(64, 64, dtype=torch.float64), torch.arange(64) % 10
        walk = rng.standard_normal(2_000).cumsum()

        def work() -> None:
            total = 0
            for i in range(1_000_000):
                total += i * i % 7
            b = a
            for _ in range(6_000):
                b = np.tanh(a @ b)
            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                for _ in range(1_000):
                    net.zero_grad()
                    torch.nn.functional.cross_entropy(net(x), y).backward()
            finally:
                torch.set_num_threads(threads)
            fig = Figure(figsize=(8, 3.5))
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
            ax.plot(walk)
            ax.set_xlabel(r"step $k$")
            ax.set_yscale("symlog")
            fig.savefig(io.BytesIO(), format="png", dpi=160, bbox_inches="tight")

        work()
        _PROBE_WORK.append(work)
    return _PROBE_WORK[0]


def speed_probe(repeat: int = 1) -> float:
    """Seconds for a fixed piece of work of the kind the lessons do, run in this process (about 0.7 s on
    the Xeon): a Python loop, small NumPy products, a small float64 PyTorch network's forward and backward
    passes (one thread), a matplotlib figure written as a PNG; the median of ``repeat`` runs (an integer
    >= 1), each with the garbage collector off (collected before). Whether its spread is the machine's or
    its own is not established: see :func:`notebook_seconds_total`'s correlations."""
    import gc

    repeat = _validate.integer(repeat, "repeat", 1, None)
    work = _probe_work()
    times = []
    for _ in range(repeat):
        gc.collect()
        enabled = gc.isenabled()
        gc.disable()
        try:
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        finally:
            if enabled:
                gc.enable()
    return statistics.median(times)


def _cpu_jiffies() -> tuple[int, int] | None:
    """(steal, total) CPU time since boot from ``/proc/stat``'s first line, in clock ticks; None where
    there is no such file."""
    try:
        fields = pathlib.Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    values = [int(v) for v in fields[1:]]
    return (values[7] if len(values) > 7 else 0), sum(values[:8])


def _steal_pct(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float:
    """The hypervisor's steal between two :func:`_cpu_jiffies` readings, in % of the CPU time; NaN where
    either is missing or no time passed."""
    if before is None or after is None or after[1] == before[1]:
        return float("nan")
    return 100.0 * (after[0] - before[0]) / (after[1] - before[1])


def _notebook_figures() -> dict[str, list[NotebookRun]]:
    """{notebook: [one run per round]}: the whole collection runs NOTEBOOK_ROUNDS times,
    round after round (not one notebook three times in a row), so that a slow spell of this shared
    machine falls on whichever notebooks ran during it and the medians see past it. Each run's
    :class:`MachineState` goes to ``_MACHINE``."""
    if not _NOTEBOOK_CACHE:
        _MACHINE.clear()
        paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
        for r in range(NOTEBOOK_ROUNDS):
            for path in paths:
                probe, load = speed_probe(), os.getloadavg()[0]
                before = _cpu_jiffies()
                _NOTEBOOK_CACHE.setdefault(path.stem, []).append(run_notebook(path))
                _MACHINE.append(MachineState(r, path.stem, probe, load, _steal_pct(before, _cpu_jiffies())))
    return _NOTEBOOK_CACHE


def notebook_seconds() -> dict[str, float]:
    """Seconds to execute each notebook from a fresh kernel (kernel start and shutdown included):
    the median over the rounds."""
    return {k: round(statistics.median(r.seconds for r in v), 2) for k, v in _notebook_figures().items()}


def notebook_peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of each notebook's kernel, in MB: the largest over the rounds."""
    return {k: round(max(r.peak_mb for r in v), 1) for k, v in _notebook_figures().items()}


def _correlation(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r of two equally long samples, or None when it is undefined (fewer than three pairs, a
    constant sample, a NaN)."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    if x.size < 3 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))) or x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def notebook_seconds_total() -> dict[str, float]:
    """Seconds to execute all notebooks one after the other, each on a fresh kernel: every round's
    total, their median (the figure held to the goal), the sum of the per-notebook medians, and
    the rounds' median of each part summed over the notebooks: kernel starts, cells, shutdowns.

    With them, the machine around each notebook's run (:class:`MachineState`): per round the probes'
    median and range, the load's median and the steal over the round's notebooks; over the run the
    probes' median and the median total over it (a figure in probe units, recorded but not validated:
    whether the probe tracks what slows the notebooks is what the correlations test); Pearson's r over
    every notebook run between its seconds relative to that notebook's median over the rounds and (a) the
    probe just before it, (b) the steal during it. Keys are left out where there is nothing to report."""
    figures = _notebook_figures()
    rounds = len(next(iter(figures.values())))  # the rounds actually run (every notebook ran in each)
    totals = [sum(v[r].seconds for v in figures.values()) for r in range(rounds)]
    out = {f"round_{r + 1}": round(t, 2) for r, t in enumerate(totals)}
    out["median"] = round(statistics.median(totals), 2)
    out["sum_of_medians"] = round(sum(statistics.median(r.seconds for r in v) for v in figures.values()), 2)
    for part in ("start", "cells", "shutdown"):
        out[f"{part}_median"] = round(statistics.median(
            sum(getattr(v[r], part) for v in figures.values()) for r in range(rounds)), 2)
    states = [m for m in _MACHINE if m.round < rounds and m.notebook in figures]
    for r in range(rounds):
        mine = [m for m in states if m.round == r]
        if mine:
            probes = [m.probe_s for m in mine]
            out[f"probe_s_round_{r + 1}_median"] = round(statistics.median(probes), 3)
            out[f"probe_s_round_{r + 1}_min"] = round(min(probes), 3)
            out[f"probe_s_round_{r + 1}_max"] = round(max(probes), 3)
            out[f"load_1min_round_{r + 1}_median"] = round(statistics.median(m.load_1min for m in mine), 2)
            steal = [m.steal_pct for m in mine if np.isfinite(m.steal_pct)]
            if steal:
                out[f"steal_pct_round_{r + 1}_median"] = round(statistics.median(steal), 2)
    if states:
        probe_median = statistics.median(m.probe_s for m in states)
        out["probe_s_median"] = round(probe_median, 3)
        out["median_over_probe_median"] = round(statistics.median(totals) / probe_median, 1)
        medians = {name: statistics.median(x.seconds for x in runs) for name, runs in figures.items()}
        relative = [figures[m.notebook][m.round].seconds / medians[m.notebook] for m in states]
        for name, xs in (("probe", [m.probe_s for m in states]), ("steal", [m.steal_pct for m in states])):
            r_value = _correlation(xs, relative)
            if r_value is not None:
                out[f"{name}_vs_notebook_r"] = round(r_value, 2)
    return out


NOTEBOOK_WORKERS = 2  # the reference machine's cores


def _notebook_pool():
    """The executor that runs notebooks side by side: NOTEBOOK_WORKERS fresh processes (spawned, so that
    nothing of this process's state is shared with them; a spawned worker imports this file again by its
    module name, so the pool works when the file runs as a script, not when it is loaded under another
    name)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=NOTEBOOK_WORKERS, mp_context=multiprocessing.get_context("spawn"))


def _worker_id(_: int) -> tuple[int, int]:
    """The calling worker (process and thread), after a short wait that lets the other workers take tasks."""
    import threading

    time.sleep(0.2)
    return os.getpid(), threading.get_ident()


def _start_workers(pool, timeout: float = 60.0) -> None:
    """Hand out waits until every one of the pool's NOTEBOOK_WORKERS workers has taken one, so that all are up
    before a clock starts; RuntimeError if they are not all seen within ``timeout`` seconds."""
    seen: set[tuple[int, int]] = set()
    deadline = time.monotonic() + timeout
    while len(seen) < NOTEBOOK_WORKERS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(seen)} of {NOTEBOOK_WORKERS} notebook workers started in "
                               f"{timeout:g} s")
        seen.update(pool.map(_worker_id, range(NOTEBOOK_WORKERS)))


def _run_stamped(path: pathlib.Path) -> tuple[float, float, NotebookRun]:
    """:func:`run_notebook` with its start and end on ``time.monotonic`` (one clock for all processes)."""
    start = time.monotonic()
    result = run_notebook(path)
    return start, time.monotonic(), result


def notebook_seconds_total_two_cores() -> dict[str, float]:
    """Seconds to execute all notebooks with two of them running at a time (the machine has two cores): two
    worker processes, each taking the next notebook in lesson order when its last one ends, every notebook on
    a fresh kernel as :func:`run_notebook` runs it. Reported beside :func:`notebook_seconds_total` (one
    notebook after the other, the figure the 120-s budget is held to): the budget's text, "at most 120 s on
    two cores", can be read either way, and which one holds is the owner's call.

    The collection runs NOTEBOOK_ROUNDS times (after the one-after-the-other rounds when both are measured in
    FIGURES' order, the default), the workers started before the first round's clock: each round's wall time
    (first notebook handed out to last one ended) and the hypervisor's steal over the whole round
    (``/proc/stat``), their median; the rounds' median of the notebooks' summed seconds; each notebook's
    median seconds (``lesson_NN_seconds``: how much running beside another slows it); and, over the rounds,
    the largest sum of the peak memories of two notebooks that ran at the same time (an upper bound on what
    they held together: their peaks need not coincide). ``cores``: the CPUs this process may run on."""
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    out: dict[str, float] = {}
    walls, work, pair_mb = [], [], 0.0
    seconds: dict[str, list[float]] = {path.stem: [] for path in paths}
    with _notebook_pool() as pool:
        _start_workers(pool)
        for r in range(NOTEBOOK_ROUNDS):
            before = _cpu_jiffies()
            start = time.monotonic()
            stamped = list(pool.map(_run_stamped, paths))
            walls.append(time.monotonic() - start)
            steal = _steal_pct(before, _cpu_jiffies())
            work.append(sum(run.seconds for _, _, run in stamped))
            for path, (_, _, run) in zip(paths, stamped, strict=True):
                seconds[path.stem].append(run.seconds)
            pair_mb = max([pair_mb] + [a[2].peak_mb + b[2].peak_mb for i, a in enumerate(stamped)
                                       for b in stamped[i + 1:] if a[0] < b[1] and b[0] < a[1]])
            out[f"round_{r + 1}"] = round(walls[-1], 2)
            if np.isfinite(steal):
                out[f"steal_pct_round_{r + 1}"] = round(steal, 2)
    out["median"] = round(statistics.median(walls), 2)
    out["notebook_seconds_summed_median"] = round(statistics.median(work), 2)
    out.update({f"lesson_{stem[:2]}_seconds": round(statistics.median(v), 2) for stem, v in seconds.items()})
    out["overlapping_pair_peak_mb_max"] = round(pair_mb, 1)
    out["workers"] = NOTEBOOK_WORKERS
    out["cores"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)
    return out


CI_SECONDS = ROOT / ".ci" / "last_ci_seconds"


def ci_seconds() -> float | None:
    """Wall time of the last full ``.ci/run`` on this checkout (written by ``.ci/run``), if any."""
    if not CI_SECONDS.exists():
        return None
    return float(CI_SECONDS.read_text().strip().split("=")[-1])


# --- the table ---------------------------------------------------------------

# name -> (function, goal as text, predicate on the figure)
FIGURES: dict[str, tuple[Callable[[], object], str, Callable[[object], bool]]] = {
    "rate_map_ms": (rate_map_ms, "<= 20", lambda v: v <= 20),
    "batched_steps_per_s": (batched_steps_per_s, ">= 2e7", lambda v: v >= 2e7),
    "batched_speedup_vs_torch_loop": (batched_speedup_vs_torch_loop, ">= 300", lambda v: v >= 300),
    "widget_update_ms": (widget_update_ms, "<= 16.7", lambda v: v is not None and v <= 16.7),
    "browser_slider_to_pixels_ms_p50": (browser_slider_to_pixels_ms_p50, "each <= 16.7",
                                        lambda v: v is not None and all(x <= 16.7 for x in v.values())),
    "browser_slider_to_pixels_ms_p95": (browser_slider_to_pixels_ms_p95, "each <= 16.7",
                                        lambda v: v is not None and all(x <= 16.7 for x in v.values())),
    "play_fps": (play_fps, ">= nominal", lambda v: v is not None and v >= _play_nominal()),
    "first_figure_ms": (first_figure_ms, "reported", lambda v: v is not None),
    "static_html_slider_to_pixels_ms_p95": (static_html_slider_to_pixels_ms_p95, "<= 16.7",
                                            lambda v: v is not None and v <= 16.7),
    "site_build_seconds": (site_build_seconds, "<= 120", lambda v: v <= 120),
    "site_bytes": (site_bytes, "reported", lambda v: v > 0),
    "site_page_bytes": (site_page_bytes, "each <= 5e6",
                        lambda v: v is not None and all(x <= 5e6 for x in v.values())),
    "site_first_interactive_ms": (site_first_interactive_ms, "<= 2000",
                                  lambda v: v is not None and v <= 2000),
    "site_slider_to_pixels_ms_p95": (site_slider_to_pixels_ms_p95, "<= 16.7",
                                     lambda v: v is not None and v <= 16.7),
    "spectrum_slider_to_pixels_ms_p95": (spectrum_slider_to_pixels_ms_p95, "<= 16.7",
                                         lambda v: v is not None and v <= 16.7),
    "compression_ratio": (compression_ratio, "mean >= 50", lambda v: v["mean"] >= 50),
    "compression_ratio_vs_right_sized": (compression_ratio_vs_right_sized, "mean rule >= 10",
                                         lambda v: v["mean"] >= 10),
    "compression_acc_drop_pt": (compression_acc_drop_pt, "mean <= 0.5", lambda v: v["mean"] <= 0.5),
    "momentum_state_8bit_acc_drop_pt": (momentum_state_8bit_acc_drop_pt, "mean <= 0.5",
                                        lambda v: v["mean"] <= 0.5),
    "int8_matmul_speedup_b256": (int8_matmul_speedup_b256, "median >= 2 (oneDNN/VNNI path)",
                                 lambda v: v["median"] >= 2),
    "int8_matmul_speedup_b1": (int8_matmul_speedup_b1, "reported", lambda v: v is not None),
    "int8_model_speedup_b256": (int8_model_speedup_b256, "wide >= 1.5",
                                lambda v: {"default int64": v["wide_64_512_512_10_int64_median"] >= 1.5,
                                           "int32 option": v["wide_64_512_512_10_int32_median"] >= 1.5}),
    "channel_pruning_speedup_b256": (channel_pruning_speedup_b256, "median >= 2",
                                     lambda v: v["median"] >= 2),
    "channel_pruning_acc_drop_pt": (channel_pruning_acc_drop_pt, "upper <= 1",
                                    lambda v: v["mean"] + v["ci95"] <= 1),
    "notebook_seconds": (notebook_seconds, "each <= 30",
                         lambda v: all(x <= 30 for x in v.values())),
    "notebook_peak_rss_mb": (notebook_peak_rss_mb, "each <= 1024",
                             lambda v: all(x <= 1024 for x in v.values())),
    "notebook_seconds_total": (notebook_seconds_total, "median <= 120", lambda v: v["median"] <= 120),
    "notebook_seconds_total_two_cores": (notebook_seconds_total_two_cores, "reported",
                                         lambda v: v["median"] > 0),
    "ci_seconds": (ci_seconds, "<= 900", lambda v: v is not None and v <= 900),
}


def measure(names: list[str]) -> dict[str, object]:
    results = {}
    for name in names:
        value = FIGURES[name][0]()
        if isinstance(value, dict):
            value = {k: round(v, 3) if isinstance(v, float) else v for k, v in value.items()}
        results[name] = round(value, 3) if isinstance(value, float) else value
    return results


def _verdict(met: bool | dict[str, bool]) -> str:
    """'yes' / 'NO', or one such word per reading of a figure read two ways."""
    if isinstance(met, dict):
        return ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in met.items())
    return "yes" if met else "NO"


def table(results: dict[str, object]) -> str:
    rows = [f"{'figure':36s} {'value':>14s}  {'goal':12s} met"]
    for name, value in results.items():
        _, goal, ok = FIGURES[name]
        if isinstance(value, dict):
            rows.append(f"{name:36s} {'':>14s}  {goal:12s} {_verdict(ok(value))}")
            rows += [f"  {k:34s} {v:14.6g}" for k, v in value.items()]
        elif value is None:
            rows.append(f"{name:36s} {'not measured':>14s}  {goal:12s} -")
        else:
            rows.append(f"{name:36s} {value:14.6g}  {goal:12s} {'yes' if ok(value) else 'NO'}")
    return "\n".join(rows)


RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def commit_measured(root: pathlib.Path = ROOT) -> str:
    """The commit of the checkout at ``root`` (short hash), with ``+ uncommitted changes`` when anything
    outside ``benchmarks/results/`` differs from it (a changed or an untracked file: a new notebook is
    measured too; a result saved earlier and not yet committed is not). Read before measuring: the
    figures measure the code as it was when the run started."""
    import subprocess

    def git(*args: str) -> str | None:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", ".", ":(exclude)benchmarks/results"):
        commit += " + uncommitted changes"
    return commit


SAVE_NAME_MAX = 120  # characters of figure names in a saved output's file name


def save(text: str, only: list[str] | None, suffix: str, *, commit: str, folder: pathlib.Path | None = None,
         program: str = "python benchmarks/run.py") -> pathlib.Path:
    """Write one run's output to ``folder/<UTC second>_<figures>.<suffix>`` (``RESULTS`` if not given;
    never over an earlier one), headed by the commit measured (``commit``, as :func:`commit_measured`
    read it when the run started) and the ``program`` that measured it, so that a figure quoted in
    README.md can be traced to its raw output. ``<figures>`` joins the names measured, or, past
    ``SAVE_NAME_MAX`` characters (file names stop at 255 bytes), gives the first and how many more
    (the output lists them all)."""
    import datetime

    folder = RESULTS if folder is None else folder
    utc = datetime.datetime.now(datetime.UTC)
    folder.mkdir(parents=True, exist_ok=True)
    names = "-".join(only) if only else "all"
    if len(names) > SAVE_NAME_MAX:
        names = f"{only[0]}-and-{len(only) - 1}-more"
    stem = f"{utc:%Y-%m-%dT%H%M%S}_{names}"
    path, n = folder / f"{stem}.{suffix}", 1
    while path.exists():  # never overwrite a kept run
        n += 1
        path = folder / f"{stem}_{n}.{suffix}"
    if suffix == "json":
        text = json.dumps({"program": program, "commit": commit, **json.loads(text)}, indent=2)
    else:
        text = f"# {program}, commit {commit}\n{text}"
    path.write_text(text + "\n")
    return path


def ab_order(repeat: int) -> tuple[str, str]:
    """The order of an A/B's two variants in a repeat: alternated, so that neither always runs first."""
    return ("with", "without") if repeat % 2 == 0 else ("without", "with")


def ab_report(seconds: dict[str, dict[str, list[float]]]) -> list[str]:
    """An A/B's lines: per row (its label, then ``{"with": [...], "without": [...]}`` seconds), each
    variant's median [min, max], then the sum of the medians of each variant."""
    total = {"without": 0.0, "with": 0.0}
    lines = []
    for label, by_variant in seconds.items():
        parts = []
        for variant in total:
            v = by_variant[variant]
            total[variant] += statistics.median(v)
            parts.append(f"{variant} {statistics.median(v):.2f} [{min(v):.2f}, {max(v):.2f}]")
        lines.append(f"{label} " + "   ".join(parts))
    lines.append(f"sum of the medians: without {total['without']:.2f}, with {total['with']:.2f}")
    return lines


def machine_line() -> str:
    """The first line of a run's output: the processor, its vector units and cores, the versions, the time."""
    from lessons_lib.timing import machine

    return "machine: " + ", ".join(f"{k} {v}" for k, v in machine().items())


def main(argv: list[str] | None = None) -> int:
    global NOTEBOOK_ROUNDS
    parser = argparse.ArgumentParser(description="Measure the course's speed and size figures.")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--only", nargs="+", choices=list(FIGURES), help="measure only these")
    parser.add_argument("--save", action="store_true",
                        help=f"also write the output, with the commit measured, to {RESULTS.name}/")
    parser.add_argument("--notebook-rounds", type=int, default=NOTEBOOK_ROUNDS, metavar="N",
                        help=f"run the whole collection N times for the notebook figures "
                             f"(default {NOTEBOOK_ROUNDS})")
    args = parser.parse_args(argv)
    if args.notebook_rounds < 1 or args.notebook_rounds % 2 == 0:
        parser.error(f"--notebook-rounds must be an odd integer >= 1 (a median is then one round); "
                     f"got {args.notebook_rounds}")
    NOTEBOOK_ROUNDS = args.notebook_rounds
    commit = commit_measured()  # before measuring: a commit made during a long run is not the one measured
    results = measure(args.only or list(FIGURES))
    from lessons_lib.timing import machine

    if args.json:
        text = json.dumps({"machine": machine(), **results}, indent=2)
    else:
        text = machine_line() + "\n" + table(results)
    print(text)
    if args.save:
        print(f"saved {save(text, args.only, 'json' if args.json else 'txt', commit=commit)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
