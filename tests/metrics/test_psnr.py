"""PSNR: equals scikit-image per frame, pooled definition per region, exact chunking, NaN/inf handling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from tests.metrics._fidelity_cases import bigben, check_chunking, chunks, four_level_mask
from void_eval.metrics.base import ScoreChunk
from void_eval.metrics.psnr import PsnrAccumulator, psnr
from void_eval.quadmask import Quadmask


def test_frame_psnr_equals_skimage_on_random_and_real_frames():
    rng = np.random.default_rng(3)
    random_a = rng.integers(0, 256, (3, 37, 53, 3), dtype=np.uint8)
    random_b = rng.integers(0, 256, random_a.shape, dtype=np.uint8)
    reference, output, _ = bigben()
    for first, second in [(random_a, random_b), (output, reference)]:
        for a, b in zip(first, second, strict=True):
            expected = peak_signal_noise_ratio(b, a, data_range=255)
            assert abs(psnr(a, b) - expected) < 1e-6
        per_frame = [peak_signal_noise_ratio(b, a, data_range=255) for a, b in zip(first, second, strict=True)]
        assert abs(psnr(first, second, pooling="frames") - np.mean(per_frame)) < 1e-6


def test_region_psnr_pools_squared_error_over_all_region_pixels_of_all_frames():
    reference, output, mask = bigben()
    accumulator = PsnrAccumulator(reference="counterfactual")
    for chunk in chunks(output, reference, mask, 2):
        accumulator.update(chunk)
    result = accumulator.compute()
    error = (output.astype(np.float64) - reference) ** 2
    for region, pixels in [("remove", mask.region("remove_any")), ("keep", mask.region("keep"))]:
        expected = 10 * math.log10(255**2 / error[pixels].mean())
        assert abs(result[region].value - expected) < 1e-9
        assert result[region].count == int(pixels.any(axis=(1, 2)).sum())
    whole = 10 * math.log10(255**2 / error.mean())
    assert abs(result["frame"].value - whole) < 1e-9
    # BigBen has no OVERLAP: 'affected' (63 | 127) is the AFFECTED pixels only
    affected = mask.region("affected")
    assert abs(result["affected"].value - 10 * math.log10(255**2 / error[affected].mean())) < 1e-9


def test_frame_pooling_averages_per_frame_region_psnr_over_frames_with_the_region():
    reference, output, _ = bigben()
    mask = four_level_mask(len(reference), *reference.shape[1:3])
    pixels = mask.region("remove_any")
    pixels[1] = False  # one frame without the region: skipped, not counted as 0
    accumulator = PsnrAccumulator(regions=("remove",), reference="input", pooling="frames")
    levels = mask.levels.copy()
    levels[1][levels[1] <= 63] = 255
    accumulator.update(ScoreChunk(0, output, reference, Quadmask(levels)))
    error = (output.astype(np.float64) - reference) ** 2
    expected = np.mean([10 * math.log10(255**2 / error[t][pixels[t]].mean()) for t in (0, 2, 3)])
    value = accumulator.compute()["remove"]
    assert abs(value.value - expected) < 1e-9 and value.count == 3


def test_every_accumulator_split_gives_identical_results():
    reference, output, _ = bigben()
    mask = four_level_mask(len(reference), *reference.shape[1:3])
    for pooling in ("pixels", "frames"):
        result = check_chunking(lambda p=pooling: PsnrAccumulator(pooling=p), output, reference, mask)
        assert all(math.isfinite(value.value) for value in result.values())


def test_identical_frames_give_inf_and_empty_regions_nan_with_reason():
    frames = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    keep_only = Quadmask(np.full((2, 16, 16), 255, np.uint8))
    accumulator = PsnrAccumulator(reference="input")
    accumulator.update(ScoreChunk(0, frames, frames, keep_only))
    result = accumulator.compute()
    assert math.isinf(result["frame"].value) and "identical" in result["frame"].note
    for region in ("remove", "affected", "boundary"):
        assert math.isnan(result[region].value) and "empty in every frame" in result[region].note
    assert math.isnan(PsnrAccumulator().compute()["frame"].value)
    assert PsnrAccumulator().compute()["frame"].note == "no frames were scored"


def test_bad_inputs_raise_clear_errors():
    frames = np.zeros((1, 8, 8, 3), np.uint8)
    mask = Quadmask(np.full((1, 8, 8), 255, np.uint8))
    with pytest.raises(ValueError, match="no counterfactual"):
        PsnrAccumulator().update(ScoreChunk(0, frames, frames, mask))
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(frames, np.zeros((1, 8, 9, 3), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        psnr(frames.astype(np.float32), frames)
    with pytest.raises(ValueError, match="data_range"):
        psnr(frames, frames, data_range=0)
    with pytest.raises(ValueError, match="unknown region"):
        PsnrAccumulator(regions=("frame", "hole"))
    with pytest.raises(ValueError, match="pooling"):
        PsnrAccumulator(pooling="videos")
    with pytest.raises(ValueError, match="different settings"):
        PsnrAccumulator(pooling="frames").merge(PsnrAccumulator())
