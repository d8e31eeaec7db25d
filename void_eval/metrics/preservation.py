"""Keep-region preservation: did the method leave the background alone? PSNR and SSIM of the output against the
**input** where the quadmask says keep (255). No ground truth needed, so it applies to real clips.

The numbers are the same PSNR and SSIM as the full-reference metrics (:mod:`void_eval.metrics.psnr`,
:mod:`void_eval.metrics.ssim`, same region pooling), computed with the input in place of the counterfactual and
reported in rows ``(region="keep", metric="psnr"|"ssim", reference="input")``. A method that only rewrites the
remove region scores PSNR = inf in keep (identical pixels); its SSIM stays just below 1 because SSIM windows
centred on keep pixels next to the hole also see the hole.

Examples
--------
>>> import numpy as np
>>> from void_eval.quadmask import Quadmask
>>> from void_eval.metrics.base import ScoreChunk
>>> frames = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
>>> levels = np.full((2, 64, 64), 255, np.uint8); levels[:, 8:16, 8:16] = 0
>>> output = frames.copy(); output[:, 8:16, 8:16] = 0   # only the remove region changed
>>> accumulator = PreservationAccumulator()
>>> accumulator.update(ScoreChunk(start=0, output=output, input=frames, mask=Quadmask(levels)))
>>> scores = accumulator.compute_metrics()
>>> scores["psnr"]["keep"].value, round(scores["ssim"]["keep"].value, 3)  # SSIM windows near the hole see it
(inf, 0.991)
"""

from __future__ import annotations

from typing import Any

from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk

PRESERVATION_METRICS: tuple[str, ...] = ("psnr", "ssim")


class PreservationAccumulator(Accumulator):
    """PSNR and SSIM of output vs input in region ``keep`` (see the module docstring).

    Parameters
    ----------
    metrics : tuple of str, keyword-only
        Subset of ``("psnr", "ssim")``.
    device : {"cpu", "cuda"}, keyword-only
        Where SSIM runs.
    """

    name = "preservation"
    reference = "input"
    state = ("parts",)

    def __init__(self, *, metrics: tuple[str, ...] = PRESERVATION_METRICS, device: str = "cpu") -> None:
        from void_eval.metrics.psnr import PsnrAccumulator
        from void_eval.metrics.ssim import SsimAccumulator

        unknown = set(metrics) - set(PRESERVATION_METRICS)
        if unknown:
            raise ValueError(f"preservation metrics must be among {PRESERVATION_METRICS}, got {sorted(unknown)}")
        builders = {"psnr": PsnrAccumulator, "ssim": SsimAccumulator}
        self.metrics = tuple(metrics)
        self.parts = {
            name: builders[name](regions=("keep",), reference="input", device=device) for name in self.metrics
        }

    @classmethod
    def from_clip(cls, clip: Any, *, preset: str, device: str, **options: Any) -> PreservationAccumulator:
        return cls(device=device, **options)

    def settings(self) -> tuple:
        return self.metrics

    def update(self, chunk: ScoreChunk) -> None:
        """Feed the chunk to PSNR and SSIM (both with ``reference="input"``; they share the chunk's cells)."""
        for part in self.parts.values():
            part.update(chunk)

    def compute_metrics(self) -> dict[str, dict[str, MetricValue]]:
        """``{"psnr": {"keep": ...}, "ssim": {"keep": ...}}``, each against the input."""
        results = {}
        for name, part in self.parts.items():
            value = part.compute()["keep"]
            note = "output vs input where the quadmask is keep (255)" + (f"; {value.note}" if value.note else "")
            results[name] = {"keep": MetricValue(value.value, note=note, count=value.count)}
        return results

    def compute(self) -> dict[str, MetricValue]:
        """The keep-region value of the first of ``metrics``, ``{"keep": value}``."""
        return self.compute_metrics()[self.metrics[0]]
