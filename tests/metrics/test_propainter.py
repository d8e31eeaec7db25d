"""The ProPainter-protocol preset against a direct transcription of the classic evaluation steps."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from tests.metrics._fidelity_cases import bigben, check_chunking, chunks, four_level_mask
from void_eval.metrics.propainter import (
    PropainterAccumulator,
    hole_from_quadmask,
    propainter_accumulators,
    propainter_frames,
    propainter_scores,
)


def classic_protocol(output: np.ndarray, truth: np.ndarray, hole: np.ndarray) -> tuple[list[float], list[float]]:
    """Per-frame PSNR and SSIM the way FuseFormer / E2FGVI / ProPainter evaluation computes them."""
    psnrs, ssims = [], []
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for out, gt, mask in zip(output, truth, hole, strict=True):
        out = cv2.resize(out, (432, 240), interpolation=cv2.INTER_LINEAR).astype(np.float64)
        gt = cv2.resize(gt, (432, 240), interpolation=cv2.INTER_LINEAR).astype(np.float64)
        mask = cv2.resize(mask.astype(np.uint8), (432, 240), interpolation=cv2.INTER_NEAREST)
        mask = cv2.dilate(mask, cross, iterations=4)[..., None].astype(np.float64)
        comp = (out * mask + gt * (1 - mask)).astype(np.uint8)
        gt = gt.astype(np.uint8)
        mse = np.mean((comp.astype(np.float64) - gt) ** 2)
        psnrs.append(20 * math.log10(255.0 / math.sqrt(mse)))
        ssims.append(structural_similarity(comp, gt, data_range=255, channel_axis=-1, win_size=65))
    return psnrs, ssims


def test_preset_equals_the_classic_protocol_on_real_frames():
    truth, output, mask = bigben()
    hole = hole_from_quadmask(mask, "not_keep")
    psnrs, ssims = classic_protocol(output, truth, hole)
    scores = propainter_scores(output, truth, hole)
    assert abs(scores["psnr"] - np.mean(psnrs)) < 1e-9
    assert abs(scores["ssim"] - np.mean(ssims)) < 1e-9
    accumulators = propainter_accumulators(reference="counterfactual")
    for chunk in chunks(output, truth, mask, 3):
        for accumulator in accumulators:
            accumulator.update(chunk)
    psnr_value, ssim_value = (accumulator.compute()["frame"] for accumulator in accumulators)
    assert psnr_value.value == scores["psnr"] and ssim_value.value == scores["ssim"]
    assert "432x240" in psnr_value.note and "uniform 65x65" in ssim_value.note
    assert [accumulator.name for accumulator in accumulators] == ["psnr", "ssim"]


def test_composite_keeps_ground_truth_outside_the_dilated_hole():
    truth, output, mask = bigben(1)
    hole = hole_from_quadmask(mask, "remove")
    composited, resized = propainter_frames(output, truth, hole)
    assert composited.shape == (1, 240, 432, 3)
    small = cv2.resize(hole[0].astype(np.uint8), (432, 240), interpolation=cv2.INTER_NEAREST)
    grown = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)), iterations=4).astype(bool)
    assert grown.sum() > small.sum()
    assert np.array_equal(composited[0][~grown], resized[0][~grown])
    assert not np.array_equal(composited[0][grown], resized[0][grown])


def test_hole_choice_changes_what_is_pasted_from_the_ground_truth():
    truth, output, _ = bigben()
    mask = four_level_mask(len(truth), *truth.shape[1:3])
    remove = propainter_scores(output, truth, hole_from_quadmask(mask, "remove"))
    not_keep = propainter_scores(output, truth, hole_from_quadmask(mask, "not_keep"))
    assert remove["psnr"] > not_keep["psnr"]  # a smaller hole pastes more ground truth
    with pytest.raises(ValueError, match="hole"):
        hole_from_quadmask(mask, "everything")


def test_chunking_and_pooling_over_clips_weigh_every_frame_equally():
    truth, output, _ = bigben()
    mask = four_level_mask(len(truth), *truth.shape[1:3])
    for metric in ("psnr", "ssim"):
        check_chunking(lambda m=metric: PropainterAccumulator(m), output, truth, mask)
    # two "videos" of 1 and 3 frames: the pooled mean is over the 4 frames, not the mean of 2 video means
    first, second = PropainterAccumulator("psnr"), PropainterAccumulator("psnr")
    for chunk in chunks(output, truth, mask, 4, stop=1):
        first.update(chunk)
    for chunk in chunks(output, truth, mask, 4, first=1):
        second.update(chunk)
    first.merge(second)
    psnrs, _ = classic_protocol(output, truth, hole_from_quadmask(mask, "not_keep"))
    assert abs(first.compute()["frame"].value - np.mean(psnrs)) < 1e-9
