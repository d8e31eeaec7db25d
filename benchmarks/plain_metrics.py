"""Plain frame-level references for ``metrics_speed.py``: the textbook computation of each metric, frame by frame.

Nothing here is fast on purpose: scikit-image for PSNR (its MSE) and SSIM, LPIPS of one image at a time through
the network's ``nn.Conv2d`` layers in NCHW (the official formula), E_warp with OpenCV's Farneback flow (its sample
settings) and a numpy transcription of Lai et al.'s warping, occlusion and error; for the whole suite also
preservation (scikit-image against the input over keep), flicker (VBench), cf_score (region MSEs), seam (Sobel) and
motion agreement (the same blurred grey as the toolkit's). Every stream is decoded once.
"""

from __future__ import annotations

import math
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import torch
from skimage.metrics import mean_squared_error, structural_similarity
from torch.nn import functional

from void_eval.clip import Clip
from void_eval.lockstep import lockstep
from void_eval.metrics.lpips import LpipsNetwork
from void_eval.metrics.motion import blurred_grey
from void_eval.metrics.seam import gradient_magnitude, seam_line
from void_eval.video import VideoReader

SSIM = {"data_range": 255, "channel_axis": -1, "gaussian_weights": True, "sigma": 1.5, "use_sample_covariance": False}


@lru_cache(maxsize=1)
def plain_network() -> LpipsNetwork:
    return LpipsNetwork("alex")  # default (NCHW) memory format


def plain_lpips(network: LpipsNetwork, first: np.ndarray, second: np.ndarray) -> float:
    """The textbook per-frame LPIPS: each image through the network's layers alone, NCHW, then the heads."""

    def features(image: np.ndarray) -> list[torch.Tensor]:
        x = (torch.from_numpy(image).permute(2, 0, 1)[None].float() / 127.5 - 1 - network.shift) / network.scale
        taps = []
        for step in network._plan:
            if step[0] == "conv":
                x = torch.relu(network.convs[step[1]](x))
            elif step[0] == "pool":
                x = functional.max_pool2d(x, step[1], step[2])
            else:
                taps.append(x)
        return taps

    with torch.no_grad():
        total = 0.0
        for fa, fb, head in zip(features(first), features(second), network.heads, strict=True):
            fa = fa / (torch.sqrt(torch.sum(fa**2, dim=1, keepdim=True)) + 1e-10)
            fb = fb / (torch.sqrt(torch.sum(fb**2, dim=1, keepdim=True)) + 1e-10)
            total += float(functional.conv2d((fa - fb) ** 2, head).mean())
        return total


def _warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Bilinear backward warp with the taps clamped to the frame (float64)."""
    height, width = flow.shape[:2]
    x = np.arange(width)[None, :] + flow[..., 0].astype(np.float64)
    y = np.arange(height)[:, None] + flow[..., 1].astype(np.float64)
    x0, y0 = np.floor(x), np.floor(y)
    ax, ay = x - x0, y - y0
    x0, y0 = x0.astype(int), y0.astype(int)
    xs = [np.clip(x0, 0, width - 1), np.clip(x0 + 1, 0, width - 1)]
    ys = [np.clip(y0, 0, height - 1), np.clip(y0 + 1, 0, height - 1)]
    if image.ndim == 3:
        ax, ay = ax[..., None], ay[..., None]
    top = (1 - ax) * image[ys[0], xs[0]] + ax * image[ys[0], xs[1]]
    return (1 - ay) * top + ay * ((1 - ax) * image[ys[1], xs[0]] + ax * image[ys[1], xs[1]])


def plain_pair_warping_error(current, following, forward, backward) -> float:
    """E_warp of one pair written plainly after Lai et al.'s reference (the occlusion mask on frame t's grid)."""
    backward_warped = _warp(backward, forward)  # detect_occlusion(bw_flow, fw_flow) as the reference calls it
    occ1 = (
        np.sum((backward_warped + forward) ** 2, -1)
        > 0.01 * (np.sum(backward_warped**2, -1) + np.sum(forward**2, -1)) + 0.5
    )
    du, dv = np.zeros_like(forward), np.zeros_like(forward)
    du[:, :-1] = forward[:, :-1] - forward[:, 1:]
    dv[:-1, :] = forward[:-1, :] - forward[1:, :]
    occ2 = np.sum(du**2, -1) + np.sum(dv**2, -1) > 0.01 * np.sum(forward**2, -1) + 0.002
    visible = ~(occ1 | occ2)
    error = np.sum((_warp(following / 255.0, forward) - current / 255.0) ** 2, -1)
    return float(error[visible].sum() / visible.sum()) if visible.any() else math.nan


def farneback(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    grey = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in (first, second)]
    return cv2.calcOpticalFlowFarneback(grey[0], grey[1], None, 0.5, 3, 15, 3, 5, 1.2, 0)


def _region_mse(a: np.ndarray, b: np.ndarray, region: np.ndarray) -> float:
    return float(((a[region].astype(np.float64) - b[region]) ** 2).mean())


class PlainScorer:
    """The plain reference over one clip: :meth:`run` returns the values (frame rows, plus a few suite ones)."""

    def __init__(self, clip: str | Path, output: str | Path) -> None:
        self.clip = Clip.load(clip)
        self.output = Path(output)
        self.network = plain_network()
        self.series: dict[str, list] = defaultdict(list)
        self._last: dict[str, np.ndarray] = {}

    def run(self, *, whole: bool) -> dict[str, float]:
        streams = [VideoReader(self.output).chunks(16, stop=self.clip.frames), self.clip.iter_counterfactual(16)]
        if whole:
            streams += [self.clip.iter_frames(16), self.clip.iter_masks(16)]
        for parts in lockstep(*streams):
            for index in range(len(parts[0])):
                self.fidelity(parts[0][index], parts[1][index])
                if whole:
                    self.suite(parts[0][index], parts[1][index], parts[2][index], parts[3][index : index + 1])
        return self.values()

    def fidelity(self, output: np.ndarray, truth: np.ndarray) -> None:
        self.series["mse"].append(mean_squared_error(truth, output))
        self.series["ssim"].append(structural_similarity(output, truth, **SSIM))
        self.series["lpips"].append(plain_lpips(self.network, output, truth))
        previous = self._last.get("output")
        if previous is not None:
            flows = farneback(previous, output), farneback(output, previous)
            self.series["ewarp"].append(plain_pair_warping_error(previous, output, *flows))
        self._last["output"] = output

    def suite(self, output: np.ndarray, truth: np.ndarray, factual: np.ndarray, mask) -> None:
        keep = mask.region("keep")[0]
        self.series["keep_sse"].append(float(((output[keep].astype(np.float64) - factual[keep]) ** 2).sum()))
        self.series["keep_values"].append(3 * int(keep.sum()))
        _, full = structural_similarity(output, factual, full=True, **SSIM)
        inside = keep[5:-5, 5:-5]
        self.series["keep_ssim"].append((full.mean(axis=-1)[5:-5, 5:-5][inside].sum(), int(inside.sum())))
        previous = self._last.get("flicker")
        if previous is not None:
            self.series["flicker"].append(float(cv2.absdiff(previous, output).mean()))
        self._last["flicker"] = output
        affected = mask.region("affected_any")[0]
        if affected.any() and _region_mse(factual, truth, affected) >= 9:
            to_input, to_truth = _region_mse(output, factual, affected), _region_mse(output, truth, affected)
            self.series["cf_score"].append(to_input / (to_input + to_truth))
        gradient = gradient_magnitude(output)
        line, kept = seam_line(mask.region("remove_any")[0]), keep & ~mask.region("boundary")[0]
        self.series["seam"].append((gradient[line].sum(), line.sum(), gradient[kept].sum(), kept.sum()))
        greys = [blurred_grey(frame) for frame in (output, truth, factual)]
        motion = self._last.get("motion")
        if motion is None:  # cumulative motion per video, distances of the output's to the two others
            zeros = [np.zeros(greys[0].shape, np.float64) for _ in range(5)]
            self._last["motion"] = {
                "previous": greys,
                "cumulative": zeros[:3],
                "distance": zeros[3:],
                "region": affected,
            }
        else:
            for index, grey in enumerate(greys):
                motion["cumulative"][index] += np.abs(grey - motion["previous"][index])
            motion["previous"], cumulative = greys, motion["cumulative"]
            motion["distance"][0] += np.abs(cumulative[0] - cumulative[1])
            motion["distance"][1] += np.abs(cumulative[0] - cumulative[2])
            motion["region"] = motion["region"] | affected

    def values(self) -> dict[str, float]:
        series = self.series
        values = {
            "psnr": 10 * math.log10(255**2 / np.mean(series["mse"])),
            "ssim": float(np.mean(series["ssim"])),
            "lpips": float(np.mean(series["lpips"])),
            "ewarp": float(np.nanmean(series["ewarp"])),
        }
        if series["keep_sse"]:
            ssim_sums = np.array(series["keep_ssim"], dtype=np.float64).sum(axis=0)
            seam = np.array(series["seam"], dtype=np.float64).sum(axis=0)
            values |= {
                "keep psnr": 10
                * math.log10(255**2 * sum(series["keep_values"]) / max(sum(series["keep_sse"]), 1e-300)),
                "keep ssim": ssim_sums[0] / ssim_sums[1],
                "flicker": (255 - float(np.mean(series["flicker"]))) / 255,
                "cf_score": float(np.mean(series["cf_score"])) if series["cf_score"] else math.nan,
                "seam": (seam[0] / seam[1]) / (seam[2] / seam[3]),
            }
            motion = self._last["motion"]
            to_truth, to_input = (distance[motion["region"]].sum() for distance in motion["distance"])
            values["motion_agreement"] = to_input / (to_input + to_truth) if to_input + to_truth else math.nan
        return values
