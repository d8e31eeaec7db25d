"""The classic video-inpainting protocol (FuseFormer -> E2FGVI -> ProPainter) as a preset.

Steps, per frame (``core/metrics.py`` / ``scripts/evaluate_propainter.py`` of those projects):

1. output and ground truth resized to 432x240 with ``cv2.resize(..., INTER_LINEAR)``; the hole mask resized with
   ``INTER_NEAREST`` and dilated ``cv2.dilate(m, MORPH_CROSS 3x3, iterations=4)``;
2. composite ``out * M + gt * (1 - M)`` (pixels outside the dilated hole are taken from the ground truth);
3. PSNR ``20 log10(255 / sqrt(MSE))`` of the whole composited frame against the ground truth, and SSIM
   ``structural_similarity(comp, gt, data_range=255, channel_axis=-1, win_size=65)`` (uniform 65x65 window,
   sample covariance);
4. both averaged over all frames (pooled over videos when accumulators are merged: every frame weighs the same).

The hole M comes from the quadmask: ``hole="not_keep"`` (default) = every pixel the quadmask lets the method
rewrite (levels 0, 63, 127: the object and what it affected); ``hole="remove"`` = the object only (0 and 63), the
classic object-mask reading. A frame whose composite equals the ground truth has infinite PSNR: the reference code
divides by zero there; here the mean becomes ``inf`` and the note counts such frames.

Notes
-----
To match a paper: numbers are comparable with FuseFormer / E2FGVI / ProPainter tables only on their data sets
(DAVIS, YouTube-VOS) and masks; this preset reproduces the arithmetic, not their data.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> truth = rng.integers(0, 256, (2, 120, 216, 3), dtype=np.uint8)
>>> hole = np.zeros((2, 120, 216), bool)
>>> hole[:, 40:80, 80:140] = True
>>> output = truth.copy()
>>> output[hole] = 128
>>> scores = propainter_scores(output, truth, hole)
>>> sorted(scores), 10 < scores["psnr"] < 30, 0 < scores["ssim"] < 1
(['psnr', 'ssim'], True, True)
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np

from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.metrics.psnr import PsnrAccumulator, psnr
from void_eval.metrics.regions import check_frames, check_pair, check_reference, reference_frames
from void_eval.metrics.ssim import SsimAccumulator, ssim
from void_eval.quadmask import QuadLevel, Quadmask

Hole = Literal["not_keep", "remove"]
HOLES: tuple[str, ...] = ("not_keep", "remove")
#: ``(height, width)`` of the protocol.
PROPAINTER_SIZE: tuple[int, int] = (240, 432)
PROPAINTER_SSIM_WINDOW = 65
PROPAINTER_DILATION_ITERATIONS = 4
PROTOCOL_NOTE = "propainter protocol: 432x240, hole cross-dilated 3x3 x4, composited, mean over frames"


def hole_from_quadmask(mask: Quadmask, hole: Hole = "not_keep") -> np.ndarray:
    """Boolean ``(T, H, W)`` hole: ``not_keep`` = levels 0/63/127, ``remove`` = levels 0/63."""
    if hole == "not_keep":
        return mask.levels != QuadLevel.KEEP
    if hole == "remove":
        return mask.region("remove_any")
    raise ValueError(f"hole must be one of {HOLES}, got {hole!r}")


def propainter_frames(output: np.ndarray, reference: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Resize, dilate and composite as the protocol does.

    Parameters
    ----------
    output, reference : np.ndarray
        ``(T, H, W, 3)`` uint8 RGB at any size.
    hole : np.ndarray
        Boolean ``(T, H, W)``: pixels the method had to fill.

    Returns
    -------
    (composited, reference) : tuple of np.ndarray
        Both ``(T, 240, 432, 3)`` uint8.
    """
    output, reference = check_pair(output, reference)
    hole = np.asarray(hole)
    if hole.dtype != bool or hole.shape != output.shape[:3]:
        raise ValueError(f"hole must be boolean {output.shape[:3]}, got {hole.dtype} {hole.shape}")
    height, width = PROPAINTER_SIZE
    kernel = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    composited = np.empty((len(output), height, width, 3), np.uint8)
    resized_reference = np.empty_like(composited)
    for index in range(len(output)):
        out = cv2.resize(output[index], (width, height), interpolation=cv2.INTER_LINEAR)
        truth = cv2.resize(reference[index], (width, height), interpolation=cv2.INTER_LINEAR)
        mask = cv2.resize(hole[index].astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST)
        mask = cv2.dilate(mask, kernel, iterations=PROPAINTER_DILATION_ITERATIONS).astype(bool)
        composited[index] = np.where(mask[..., None], out, truth)
        resized_reference[index] = truth
    return composited, resized_reference


def propainter_scores(output: np.ndarray, reference: np.ndarray, hole: np.ndarray) -> dict[str, float]:
    """Protocol PSNR and SSIM of one clip: ``{"psnr": mean per-frame dB, "ssim": mean per-frame SSIM}``."""
    composited, truth = propainter_frames(check_frames("output", output), check_frames("reference", reference), hole)
    return {
        "psnr": psnr(composited, truth, pooling="frames"),
        "ssim": ssim(
            composited,
            truth,
            window="uniform",
            win_size=PROPAINTER_SSIM_WINDOW,
            sample_covariance=True,
            precision="float64",
        ),
    }


class PropainterAccumulator(Accumulator):
    """Protocol PSNR or SSIM as a streaming accumulator (region ``frame`` only).

    Parameters
    ----------
    metric : {"psnr", "ssim"}
        Which protocol number.
    reference : {"counterfactual", "input"}, keyword-only
        Ground-truth stream.
    hole : {"not_keep", "remove"}, keyword-only
        Hole taken from the quadmask (module docstring).
    device : {"cpu", "cuda"}, keyword-only
        Where SSIM runs.
    """

    state = ("_inner",)

    def __init__(
        self, metric: str, *, reference: str = "counterfactual", hole: Hole = "not_keep", device: str = "cpu"
    ) -> None:
        if hole not in HOLES:
            raise ValueError(f"hole must be one of {HOLES}, got {hole!r}")
        self.name = metric
        self.reference = check_reference(reference)  # type: ignore[assignment]
        self.needs_ground_truth = reference == "counterfactual"
        self.hole = hole
        self._inner: PsnrAccumulator | SsimAccumulator
        if metric == "psnr":
            self._inner = PsnrAccumulator(regions=("frame",), reference="input", pooling="frames", device=device)
        elif metric == "ssim":
            self._inner = SsimAccumulator(
                regions=("frame",),
                reference="input",
                window="uniform",
                win_size=PROPAINTER_SSIM_WINDOW,
                sample_covariance=True,
                precision="float64",
                device=device,
            )
        else:
            raise ValueError(f"metric must be 'psnr' or 'ssim', got {metric!r}")

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> PropainterAccumulator:
        return cls(device=device, **options)

    def settings(self) -> tuple:
        return (self.name, self.reference, self.hole)

    def update(self, chunk: ScoreChunk) -> None:
        """Resize, dilate, composite one chunk and add its per-frame values."""
        truth = reference_frames(chunk, self.reference, f"propainter {self.name}")
        composited, truth = propainter_frames(chunk.output, truth, hole_from_quadmask(chunk.mask, self.hole))
        keep = Quadmask(np.full(truth.shape[:3], QuadLevel.KEEP, np.uint8))
        self._inner.update(ScoreChunk(start=chunk.start, output=composited, input=truth, mask=keep))

    def compute(self) -> dict[str, MetricValue]:
        """``{"frame": value}`` with the protocol in the note."""
        value = self._inner.compute()["frame"]
        note = f"{PROTOCOL_NOTE}; hole={self.hole}" + (f"; {value.note}" if value.note else "")
        return {"frame": MetricValue(value.value, note=note, count=value.count)}


class PropainterPsnr(PropainterAccumulator):
    """The protocol's PSNR, what ``score_clip(preset="propainter")`` runs for metric ``psnr``."""

    def __init__(self, **options: Any) -> None:
        super().__init__("psnr", **options)


class PropainterSsim(PropainterAccumulator):
    """The protocol's SSIM, what ``score_clip(preset="propainter")`` runs for metric ``ssim``."""

    def __init__(self, **options: Any) -> None:
        super().__init__("ssim", **options)


def propainter_accumulators(
    *, reference: str = "counterfactual", hole: Hole = "not_keep", device: str = "cpu"
) -> list[Accumulator]:
    """The preset: ``[PropainterAccumulator("psnr"), PropainterAccumulator("ssim")]`` with shared options."""
    return [
        PropainterAccumulator("psnr", reference=reference, hole=hole, device=device),
        PropainterAccumulator("ssim", reference=reference, hole=hole, device=device),
    ]


__all__ = [
    "PROPAINTER_SIZE",
    "PropainterAccumulator",
    "hole_from_quadmask",
    "propainter_accumulators",
    "propainter_frames",
    "propainter_scores",
]
