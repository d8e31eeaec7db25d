"""SSIM: equals scikit-image (Gaussian and uniform windows) on random and real frames, region maps, chunking."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from tests.metrics._fidelity_cases import bigben, check_chunking, four_level_mask
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.regions import ROW_REGION_TO_QUADMASK
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


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_the_torch_path_of_cuda_equals_skimage_on_cpu_tensors(precision):
    import torch

    from void_eval.metrics.regions import REGION_CELLS, chunk_cells
    from void_eval.metrics.ssim_maps import SsimWindow, torch_ssim_maps

    reference, output, mask = bigben(3)
    tolerance = 1e-6 if precision == "float32" else 1e-10
    for window, options in [("gaussian", {**GAUSSIAN, "use_sample_covariance": False}), ("uniform", {})]:
        spec = SsimWindow.build(window, win_size=None, sigma=1.5, sample_covariance=None)
        skimage_options = options or {"data_range": 255, "channel_axis": -1, "win_size": spec.size}
        maps = torch_ssim_maps(
            torch.from_numpy(output), torch.from_numpy(reference), spec, data_range=255.0, precision=precision
        ).numpy()
        for frame_map, a, b in zip(maps, output, reference, strict=True):
            mean, full = structural_similarity(a, b, full=True, **skimage_options)
            assert abs(frame_map.mean(dtype=np.float64) - mean) < tolerance  # as the CPU path's frame values
            if precision == "float64":  # every pixel
                assert np.abs(frame_map - full.mean(axis=-1)[spec.pad : -spec.pad, spec.pad : -spec.pad]).max() < 1e-10
    # the region sums the CUDA path takes from those maps equal the CPU path's
    accumulator = SsimAccumulator(reference="counterfactual", precision=precision)
    chunk = ScoreChunk(0, output, output, mask, reference)
    groups = {region: REGION_CELLS[region] for region in accumulator.regions}
    cpu = list(accumulator.records(output, reference, chunk_cells(chunk), groups))
    from void_eval.metrics import ssim_maps as module

    on_torch = module.torch_records(  # what a CUDA accumulator runs, here on CPU tensors
        torch.from_numpy(output), torch.from_numpy(reference), chunk_cells(chunk), tuple(groups), groups,
        accumulator.window, "cpu", data_range=255.0, precision=precision,
    )  # fmt: skip
    for ours, theirs in zip(on_torch, cpu, strict=True):
        for region, (total, count) in theirs.items():
            assert ours[region][1] == count and ours[region][0] == pytest.approx(total, rel=1e-6, abs=1e-9)


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
    from void_eval.metrics import ssim_maps as ssim_module

    reference, output, mask = bigben(2)  # 360 x 544: many 40-row bands (Gaussian), 3 bands of 256 rows (65x65)
    monkeypatch.setattr(ssim_module, "_BAND_PIXELS", 1 << 30)
    whole = ssim_map(output, reference, **options)
    whole_mean = ssim(output, reference, mask=mask.region("keep"), **options)
    monkeypatch.setattr(ssim_module, "_BAND_PIXELS", 1)  # smallest bands: 8 pad rows
    spec = ssim_module.SsimWindow.build(
        options.get("window", "gaussian"), win_size=options.get("win_size"), sigma=1.5, sample_covariance=None
    )
    ranges = ssim_module._band_ranges(360, 544, spec)
    assert ranges[0][1] - ranges[0][0] == 8 * spec.pad < whole.shape[1]
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
    from void_eval.metrics import ssim_maps as ssim_module

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
        region = np.ones(mask.levels.shape, bool) if name == "frame" else mask.region(ROW_REGION_TO_QUADMASK[name])
        inside = region[:, 5:-5, 5:-5]
        assert results[1][name].count == results[0][name].count
        assert results[1][name].value == pytest.approx(results[0][name].value, rel=1e-14, abs=0)  # sums by band
        assert abs(results[1][name].value - full[inside].mean(dtype=np.float64)) < 1e-7


def test_region_sums_do_not_depend_on_the_number_of_threads(monkeypatch):
    import cv2

    from void_eval.metrics import ssim_maps as ssim_module

    reference, output, _ = bigben(3)
    mask = four_level_mask(3, *reference.shape[1:3])
    monkeypatch.setattr(ssim_module, "_BAND_PIXELS", 1)  # many small bands: many tasks for the threads
    threads, results = cv2.getNumThreads(), []
    try:
        for count in (1, 4):
            cv2.setNumThreads(count)
            accumulator = SsimAccumulator(reference="counterfactual")
            accumulator.update(ScoreChunk(0, output, output, mask, reference))
            results.append({name: (value.value, value.count) for name, value in accumulator.compute().items()})
    finally:
        cv2.setNumThreads(threads)
    assert results[0] == results[1]  # the same bits: band sums are added in frame and band order
