"""SSIM: equals scikit-image (Gaussian and uniform windows) on random and real frames, region maps, chunking."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from tests.metrics._fidelity_cases import bigben, check_chunking, four_level_mask
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.ssim import SsimAccumulator, ssim, ssim_map
from void_eval.quadmask import Quadmask

GAUSSIAN = {"data_range": 255, "channel_axis": -1, "gaussian_weights": True, "sigma": 1.5}


def skimage_ssim(a: np.ndarray, b: np.ndarray, **options) -> float:
    return structural_similarity(a, b, **(options or {**GAUSSIAN, "use_sample_covariance": False}))


def random_pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (2, 41, 67, 3), dtype=np.uint8)
    noisy = np.clip(a + rng.normal(0, 25, a.shape), 0, 255).astype(np.uint8)
    return [(a, rng.integers(0, 256, a.shape, dtype=np.uint8)), (noisy, a)]


def test_frame_ssim_equals_skimage_gaussian_on_random_and_real_frames():
    reference, output, _ = bigben()
    for first, second in [*random_pairs(), (output[:3], reference[:3])]:
        expected = [skimage_ssim(a, b) for a, b in zip(first, second, strict=True)]
        for precision, tolerance in [("float32", 1e-6), ("float64", 1e-10)]:
            ours = ssim_map(first, second, precision=precision).mean(axis=(1, 2), dtype=np.float64)
            assert np.abs(ours - expected).max() < tolerance
            assert abs(ssim(first, second, precision=precision) - np.mean(expected)) < tolerance


def test_uniform_window_equals_skimage_win_size_with_sample_covariance():
    reference, output, _ = bigben()
    for first, second in [*random_pairs(), (output[:2], reference[:2])]:
        for size in (7, 21):
            expected = np.mean(
                [
                    structural_similarity(a, b, data_range=255, channel_axis=-1, win_size=size)
                    for a, b in zip(first, second, strict=True)
                ]
            )
            ours = ssim(first, second, window="uniform", win_size=size, precision="float64")
            assert abs(ours - expected) < 1e-10


def test_region_ssim_averages_the_skimage_map_over_region_pixels_inside_the_border():
    reference, output, mask = bigben(4)
    _, full = structural_similarity(output[0], reference[0], full=True, use_sample_covariance=False, **GAUSSIAN)
    interior = np.zeros(full.shape[:2], bool)
    interior[5:-5, 5:-5] = True
    per_pixel = full.mean(axis=-1)
    region = mask.region("keep")[0]
    assert abs(ssim(output[0], reference[0], mask=region) - per_pixel[region & interior].mean()) < 1e-6
    frame_map = ssim_map(output[:1], reference[:1], precision="float64")[0]
    assert np.abs(frame_map - per_pixel[5:-5, 5:-5]).max() < 1e-10


def test_every_accumulator_split_gives_identical_results():
    reference, output, _ = bigben()
    reference, output = reference[:, 100:220, 150:330], output[:, 100:220, 150:330]
    mask = four_level_mask(len(reference), *reference.shape[1:3])
    result = check_chunking(lambda: SsimAccumulator(reference="counterfactual"), output, reference, mask)
    assert all(-1 <= value.value <= 1 for value in result.values())
    assert result["remove"].value < result["keep"].value or result["keep"].value < 1


def test_region_only_in_the_border_band_is_nan_with_reason():
    frames = np.random.default_rng(0).integers(0, 256, (2, 30, 30, 3), dtype=np.uint8)
    levels = np.full((2, 30, 30), 255, np.uint8)
    levels[:, :3, :] = 0  # REMOVE only in the top 3 rows: inside the 5-px border SSIM cannot evaluate
    accumulator = SsimAccumulator(regions=("frame", "remove", "affected"), reference="input")
    accumulator.update(ScoreChunk(0, frames, frames, Quadmask(levels)))
    result = accumulator.compute()
    assert result["frame"].value == pytest.approx(1.0, abs=1e-6)
    assert math.isnan(result["remove"].value) and "5-px border" in result["remove"].note
    assert math.isnan(result["affected"].value)


def test_bad_options_and_inputs_raise():
    frames = np.zeros((1, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="smaller than"):
        ssim(frames, frames)
    with pytest.raises(ValueError, match="disagrees with sigma"):
        SsimAccumulator(win_size=7)
    with pytest.raises(ValueError, match="odd integer"):
        SsimAccumulator(window="uniform", win_size=8)
    with pytest.raises(ValueError, match="window"):
        SsimAccumulator(window="box")
    with pytest.raises(ValueError, match="precision"):
        SsimAccumulator(precision="float16")
    with pytest.raises(ValueError, match="different settings"):
        SsimAccumulator().merge(SsimAccumulator(precision="float64"))


def test_torch_filter_used_on_cuda_equals_the_opencv_filter():
    import torch

    from void_eval.metrics.ssim import SsimWindow, _filter_valid_cpu, _filter_valid_torch, _ssim_formula

    planes = np.random.default_rng(1).normal(0, 50, (4, 40, 52))
    for window in (
        SsimWindow.build("gaussian", win_size=None, sigma=1.5, sample_covariance=None),
        SsimWindow.build("uniform", win_size=9, sigma=1.5, sample_covariance=None),
    ):
        expected = _filter_valid_cpu(planes, window.kernel(), window.pad)
        ours = _filter_valid_torch(torch.from_numpy(planes), window.kernel()).numpy()
        assert np.abs(ours - expected).max() < 1e-9
    # the SSIM formula runs on numpy arrays (CPU) and torch tensors (CUDA) alike
    moments = np.abs(np.random.default_rng(2).normal(100, 30, (5, 20, 30)))
    from_numpy = _ssim_formula(moments.copy(), 3.0, scale=1.0, c1=6.5, c2=58.5)
    from_torch = _ssim_formula(torch.from_numpy(moments.copy()), 3.0, scale=1.0, c1=6.5, c2=58.5).numpy()
    assert np.abs(from_numpy - from_torch).max() < 1e-12


def test_cuda_equals_cpu():
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    reference, output, _ = bigben(2)
    assert abs(ssim(output, reference, device="cuda") - ssim(output, reference)) < 1e-6


@pytest.mark.parametrize(
    "options",
    [{}, {"window": "uniform", "win_size": 65}, {"precision": "float64"}],
    ids=["gaussian", "uniform65", "gaussian-float64"],
)
def test_row_bands_change_no_value(monkeypatch, options):
    from void_eval.metrics import ssim as ssim_module

    reference, output, mask = bigben(2)  # 360 x 544: many 40-row bands (Gaussian), 3 bands of 256 rows (65x65)
    monkeypatch.setattr(ssim_module, "_BAND_PIXELS", 1 << 30)
    whole = ssim_map(output, reference, **options)
    whole_mean = ssim(output, reference, mask=mask.region("keep"), **options)
    monkeypatch.setattr(ssim_module, "_BAND_PIXELS", 1)  # smallest bands: 8 pad rows
    spec = ssim_module.SsimWindow.build(
        options.get("window", "gaussian"), win_size=options.get("win_size"), sigma=1.5, sample_covariance=None
    )
    assert ssim_module._band_rows(spec, 544) == 8 * spec.pad < whole.shape[1]
    banded = ssim_map(output, reference, **options)
    np.testing.assert_array_equal(banded, whole)  # bit-identical, as the module docstring says
    assert ssim(output, reference, mask=mask.region("keep"), **options) == pytest.approx(whole_mean, rel=1e-14, abs=0)
    if options.get("window") == "uniform":
        expected = [
            structural_similarity(a, b, data_range=255, channel_axis=-1, win_size=65)
            for a, b in zip(output, reference, strict=True)
        ]
    else:
        expected = [skimage_ssim(a, b) for a, b in zip(output, reference, strict=True)]
    assert np.abs(banded.mean(axis=(1, 2), dtype=np.float64) - expected).max() < 1e-6


def test_accumulator_region_sums_in_bands_equal_the_whole_map(monkeypatch):
    from void_eval.metrics import ssim as ssim_module

    reference, output, _ = bigben(3)
    mask = four_level_mask(3, *reference.shape[1:3])
    monkeypatch.setattr(ssim_module, "_BAND_PIXELS", 1 << 30)
    full = ssim_map(output, reference, precision="float32")  # one band per frame: the whole map
    results = []
    for band_pixels in (1 << 30, 1):
        monkeypatch.setattr(ssim_module, "_BAND_PIXELS", band_pixels)
        accumulator = SsimAccumulator(reference="counterfactual")
        accumulator.update(ScoreChunk(0, output, output, mask, reference))
        results.append(accumulator.compute())
    for name in ("frame", "remove", "affected", "keep", "boundary"):
        region = np.ones(mask.levels.shape, bool) if name == "frame" else ssim_module.region_masks(mask, (name,))[name]
        inside = region[:, 5:-5, 5:-5]
        assert results[1][name].count == results[0][name].count
        assert results[1][name].value == pytest.approx(results[0][name].value, rel=1e-14, abs=0)  # sums by band
        assert abs(results[1][name].value - full[inside].mean(dtype=np.float64)) < 1e-7


def _score_with_thread_counts(monkeypatch, frames: int, counts: tuple[int, ...]) -> tuple[dict, list, list]:
    """SSIM of ``frames`` BigBen frames at each OpenCV thread count: (results per count, pool sizes, band tops)."""
    import cv2

    import void_eval.metrics.ssim as module

    reference, output, _ = bigben(frames)
    mask = four_level_mask(frames, *reference.shape[1:3])
    pools, tops = [], []
    pool_class, band_map = module.ThreadPoolExecutor, module._ssim_band_map
    monkeypatch.setattr(module, "ThreadPoolExecutor", lambda **options: pools.append(options) or pool_class(**options))
    monkeypatch.setattr(
        module, "_ssim_band_map", lambda *args, **options: tops.append(args[2]) or band_map(*args, **options)
    )
    threads = cv2.getNumThreads()
    results = {}
    try:
        for count in counts:
            cv2.setNumThreads(count)
            accumulator = SsimAccumulator(reference="input")
            accumulator.update(ScoreChunk(0, output, reference, mask))
            results[count] = {name: value.value for name, value in accumulator.compute().items()}
    finally:
        cv2.setNumThreads(threads)
    return results, [options["max_workers"] for options in pools], tops


def test_frames_on_several_threads_give_the_single_thread_result(monkeypatch):
    results, pools, _ = _score_with_thread_counts(monkeypatch, 4, (1, 3))
    assert pools == [3]  # one thread: no pool; three: a pool of three
    assert results[1] == results[3]  # bands summed in frame and band order: exactly the same


def test_a_one_frame_chunk_is_split_into_bands_across_threads(monkeypatch):
    results, pools, tops = _score_with_thread_counts(monkeypatch, 1, (1, 2))  # 544 x 360: two bands of the map
    assert sorted(tops) == [0, 0, 240, 240]  # each run computed both bands (band tops 0 and 240)
    assert pools == [2]  # two threads: the frame's two bands in a pool
    assert results[1] == results[2]
