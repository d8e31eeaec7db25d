"""Detection figures: per-frame pixel metrics and per-video scores of block probabilities, and their summaries.

Per frame (see :mod:`.localisation`): pixel AUC, F1 at 0.5, F1-best, IoU and MCC of the 8-bit heatmap exactly as
``void-eval detect`` writes it, each also under TruFor's ignore band (``band_*``), ``max(F1, F1 inverted)``, the
share of untouched pixels at or above 0.5, and whether the frame is *flagged* (calibrated frame score >= 0.5).
Per video: the raw and calibrated video score and whether it is flagged. :func:`summarise` averages frame metrics
over frames that have filled pixels (each frame counts once) and gives video AUC, balanced accuracy at the flag
threshold, the share of each generator's videos flagged (``detected``) and of untouched videos and frames flagged.
:func:`pool_generators` pools per-generator rows: frame-weighted means of the pixel metrics, plain means of the
video figures (each generator's videos against the untouched videos scored by the same models).

Examples
--------
>>> import pandas as pd
>>> rows = [{"generator": "telea", "frames": 30, "pixel_auc": 0.9, "video_auc": 0.8},
...         {"generator": "patch", "frames": 10, "pixel_auc": 0.5, "video_auc": 0.6}]
>>> pooled = pool_generators(pd.DataFrame(rows))
>>> round(pooled["pixel_auc"], 3), round(pooled["video_auc"], 3)
(0.8, 0.7)
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from forensics.detectors.dataset import UNTOUCHED, Example
from forensics.detectors.localisation import balanced_accuracy, binary_auc, frame_metrics
from forensics.detectors.scoring import FLAG_AT, VideoScores, heatmap_frame

PIXEL_METRICS: tuple[str, ...] = ("auc", "f1", "f1_best", "iou", "mcc", "f1_inverted_max")
FRAME_COLUMNS: tuple[str, ...] = (
    "pixel_auc",
    "f1",
    "f1_best",
    "iou",
    "mcc",
    "f1_inverted_max",
    "band_pixel_auc",
    "band_f1",
    "band_f1_best",
    "band_iou",
    "band_mcc",
    "band_f1_inverted_max",
)
VIDEO_COLUMNS: tuple[str, ...] = ("video_auc", "video_balanced_accuracy", "detected")


def _metric_columns(metrics, prefix: str = "") -> dict[str, float]:
    return {f"{prefix}{'pixel_auc' if key == 'auc' else key}": getattr(metrics, key) for key in PIXEL_METRICS}


def example_rows(
    example: Example, probabilities: np.ndarray, scores: VideoScores, *, label: str
) -> tuple[list[dict], dict]:
    """Frame rows and the video row of one example scored by model ``label``."""
    base = {"model": label, "clip": example.clip, "generator": example.generator, "degradation": example.degradation}
    truth = example.truth
    height, width = truth.shape[1:]
    frames = []
    for index, block_map in enumerate(probabilities):
        heatmap = heatmap_frame(block_map, height, width, example.block)
        plain = frame_metrics(heatmap, truth[index])
        row = {**base, "frame": index, "positives": plain.positives, "false_positive_rate": plain.false_positive_rate}
        row.update(_metric_columns(plain))
        if plain.positives:
            row.update(_metric_columns(frame_metrics(heatmap, truth[index], ignore_band=True), "band_"))
        else:
            row.update(dict.fromkeys((f"band_{name}" for name in FRAME_COLUMNS[:6]), math.nan))
        row.update({"frame_score": scores.frames[index], "flagged": scores.frames[index] >= FLAG_AT})
        frames.append(row)
    video = {
        **base,
        "group": example.group,
        "processed": example.processed,
        "raw_score": scores.raw_video,
        "video_score": scores.video,
        "flagged": scores.video >= FLAG_AT,
        "frames_flagged": float(np.mean([score >= FLAG_AT for score in scores.frames])),
    }
    return frames, video


def _video_figures(videos: pd.DataFrame, generator: str | None) -> dict[str, float | int]:
    untouched = videos[~videos["processed"].astype(bool)]
    processed = videos[videos["processed"].astype(bool)]
    if generator is not None:
        processed = processed[processed["generator"] == generator]
    chosen = pd.concat([untouched, processed])
    # the counts behind the AUC: videos on each side and the distinct clips (scenes) they come from
    counts = {
        "videos": len(chosen),
        "processed_videos": len(processed),
        "untouched_videos": len(untouched),
        "clips": int(chosen["clip"].nunique()) if len(chosen) else 0,
    }
    if chosen.empty or processed.empty:
        return {"video_auc": math.nan, "video_balanced_accuracy": math.nan, "detected": math.nan, **counts}
    scores = chosen["video_score"].to_numpy(np.float64)
    labels = chosen["processed"].to_numpy(bool)
    return {
        "video_auc": binary_auc(scores, labels),
        "video_balanced_accuracy": balanced_accuracy(scores, labels, threshold=FLAG_AT),
        "detected": float(processed["flagged"].mean()),
        **counts,
    }


def summarise(frames: pd.DataFrame, videos: pd.DataFrame) -> pd.DataFrame:
    """Per generator and degradation (plus ``all`` rows for each) the figures described in the module notes."""
    rows = []
    generators = sorted(set(videos["generator"]) - {UNTOUCHED})
    for generator in [*generators, "all"]:
        for degradation in [*sorted(set(videos["degradation"])), "all"]:
            chosen_frames = frames if degradation == "all" else frames[frames["degradation"] == degradation]
            chosen_videos = videos if degradation == "all" else videos[videos["degradation"] == degradation]
            positive = chosen_frames[(chosen_frames["positives"] > 0) & (chosen_frames["generator"] != UNTOUCHED)]
            if generator != "all":
                positive = positive[positive["generator"] == generator]
            untouched = chosen_frames[chosen_frames["generator"] == UNTOUCHED]
            untouched_videos = chosen_videos[chosen_videos["generator"] == UNTOUCHED]
            row = {"generator": generator, "degradation": degradation, "frames": len(positive)}
            for column in FRAME_COLUMNS:
                values = positive[column].dropna()
                row[column] = float(values.mean()) if len(values) else math.nan
            row["untouched_fpr"] = float(untouched["false_positive_rate"].mean()) if len(untouched) else math.nan
            row["untouched_frames_flagged"] = float(untouched["flagged"].mean()) if len(untouched) else math.nan
            row["untouched_flagged"] = float(untouched_videos["flagged"].mean()) if len(untouched_videos) else math.nan
            row.update(_video_figures(chosen_videos, None if generator == "all" else generator))
            rows.append(row)
    return pd.DataFrame(rows)


def pool_generators(rows: pd.DataFrame) -> dict[str, float]:
    """One row pooling per-generator rows (see the module notes); ``frames`` and ``videos`` are summed."""
    pooled: dict[str, float] = {"frames": float(rows["frames"].sum())}
    weights = rows["frames"].to_numpy(np.float64)
    for column in rows.columns:
        if column in ("generator", "held_out_generator", "degradation", "frames", "source"):
            continue
        values = rows[column].to_numpy(np.float64)
        finite = np.isfinite(values)
        if column in FRAME_COLUMNS and (weights[finite] > 0).any():
            pooled[column] = float(np.average(values[finite], weights=weights[finite]))
        elif column == "videos":
            pooled[column] = float(values.sum())
        else:
            pooled[column] = float(values[finite].mean()) if finite.any() else math.nan
    return pooled
