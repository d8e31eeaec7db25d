"""Score one output video against its clip: every metric, one streaming pass, tidy rows.

:func:`score_clip` decodes the output and the clip's input, quadmask and (when present) counterfactual once, in
aligned chunks, and feeds every chunk to every metric's accumulator; memory stays bounded by the chunk size, not
the clip length. The result is a :class:`pandas.DataFrame` with one row per (metric, region): columns ``region``,
``metric``, ``reference`` (``counterfactual``, ``input`` or ``output`` for no-reference metrics), ``value`` (NaN
with the reason in ``note`` when a metric cannot be computed) and ``note``; ``df.attrs["meta"]`` records what was
done (frames, sizes, trimming, resizing, chunking, flow, versions, seconds per metric).

Examples
--------
>>> from void_eval.metrics.score import score_clip
>>> table = score_clip("clips/ball", "outputs/ball.mp4", metrics=["flicker", "seam"])  # doctest: +SKIP
>>> table.set_index(["metric", "region"])["value"]  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.heap import RELEASE_HEAP_MIN_PIXELS, release_free_heap
from void_eval.lockstep import lockstep
from void_eval.metrics.base import MetricValue, ScoreChunk
from void_eval.video import VideoReader, probe

Preset = Literal["default", "propainter"]
PRESETS: tuple[str, ...] = ("default", "propainter")
ROW_COLUMNS: tuple[str, ...] = ("region", "metric", "reference", "value", "note")
#: Metrics run when ``metrics=None``, in row order.
DEFAULT_METRICS: tuple[str, ...] = (
    "psnr",
    "ssim",
    "lpips",
    "ewarp",
    "flicker",
    "cf_score",
    "motion_iou",
    "traj_err",
    "shadow_residual",
    "preservation",
    "seam",
)
FIDELITY_REGIONS: tuple[str, ...] = ("frame", "remove", "affected", "keep", "boundary")
#: Built-in metrics that need ``counterfactual.mp4``: name -> the (metric, region) rows they would report.
NEEDS_COUNTERFACTUAL: dict[str, tuple[tuple[str, str], ...]] = {
    "psnr": tuple(("psnr", region) for region in FIDELITY_REGIONS),
    "ssim": tuple(("ssim", region) for region in FIDELITY_REGIONS),
    "lpips": tuple(("lpips", region) for region in FIDELITY_REGIONS),
    "cf_score": (("cf_score", "affected"),),
    "motion_iou": (("motion_iou", "affected"), ("motion_iou_st", "affected"), ("motion_iou_weighted", "affected")),
    "traj_err": (("traj_err", "affected"),),
    "shadow_residual": (("shadow_residual", "affected"),),
}
#: Largest number of pixels (frames x height x width) decoded per chunk: 1 frame of 4K, 4 of 1080p, 9 of 720p.
CHUNK_PIXEL_BUDGET = 2**23


def _build_builtin(name: str, clip: Clip, preset: Preset, device: str, options: dict[str, Any]) -> Any:
    """Construct a built-in accumulator with the clip-specific settings it needs (``options`` override)."""
    if name in ("psnr", "ssim") and preset == "propainter":
        from void_eval.metrics.propainter import PropainterAccumulator

        return PropainterAccumulator(name, **{"device": device, **options})
    # one import per metric: LPIPS imports torch (~180 MB resident), which PSNR and SSIM on the CPU do not need
    if name == "psnr":
        from void_eval.metrics.psnr import PsnrAccumulator

        return PsnrAccumulator(**{"device": device, **options})
    if name == "ssim":
        from void_eval.metrics.ssim import SsimAccumulator

        return SsimAccumulator(**{"device": device, **options})
    if name == "lpips":
        from void_eval.metrics.lpips import LpipsAccumulator

        return LpipsAccumulator(**{"device": device, **options})
    if name == "ewarp":
        from void_eval.metrics.ewarp import EwarpAccumulator

        return EwarpAccumulator(**options)
    if name == "flicker":
        from void_eval.metrics.flicker import FlickerAccumulator

        return FlickerAccumulator(**options)
    if name == "cf_score":
        from void_eval.metrics.cf_score import CfScoreAccumulator

        return CfScoreAccumulator(**options)
    if name == "motion_iou":
        from void_eval.metrics.motion_iou import MotionIouAccumulator

        return MotionIouAccumulator(**options)
    if name == "traj_err":
        from void_eval.metrics.trajectory import TrajectoryAccumulator

        objects = clip.meta.get("objects", [])
        if not isinstance(objects, list):
            raise InputError(clip.path / "meta.json", '"objects" must be a list')
        return TrajectoryAccumulator(objects, **options)
    if name == "shadow_residual":
        from void_eval.metrics.shadow import ShadowResidualAccumulator, find_shadow_mask

        # unknown options reach the constructor and raise TypeError, like every other metric's
        return ShadowResidualAccumulator(**{"shadow_mask": find_shadow_mask(clip.path, clip.meta), **options})
    if name == "preservation":
        from void_eval.metrics.preservation import PreservationAccumulator

        return PreservationAccumulator(**options)
    if name == "seam":
        from void_eval.metrics.seam import SeamAccumulator

        return SeamAccumulator(**options)
    return None


def build_accumulator(
    name: str, clip: Clip, *, preset: Preset = "default", device: str = "cpu", options: dict[str, Any] | None = None
) -> Any:
    """The accumulator of metric ``name`` for ``clip``: built-in, or from :data:`void_eval.metrics.registry.METRICS`.

    ``options`` are keyword arguments for the accumulator's constructor (e.g. ``{"flow_source": "input"}`` for
    ``ewarp``); a plugin gets them through ``from_clip(clip, preset=..., device=..., **options)`` or its
    constructor.
    """
    options = dict(options or {})
    accumulator = _build_builtin(name, clip, preset, device, options)
    if accumulator is not None:
        return accumulator
    from void_eval.metrics.registry import METRICS

    try:
        factory = METRICS.get(name)
    except KeyError as err:
        raise ValueError(str(err.args[0])) from err
    from_clip: Callable[..., Any] | None = getattr(factory, "from_clip", None)
    if from_clip is not None:
        return from_clip(clip, preset=preset, device=device, **options)
    return factory(**options)


def _results(accumulator: Any) -> dict[str, dict[str, MetricValue]]:
    compute_metrics = getattr(accumulator, "compute_metrics", None)
    if compute_metrics is not None:
        return compute_metrics()
    return {accumulator.info.name: accumulator.compute()}


def _note(accumulator: Any, value: MetricValue) -> str:
    describe = getattr(accumulator, "describe", None)
    if describe is not None and value.value == value.value:  # ewarp's provenance is already in its NaN reasons
        return value.note if describe() in value.note else f"{describe()}; {value.note}"
    return value.note


def _plan_output(
    clip: Clip, output: Path, trim_to_input: bool, resize_to_input: bool
) -> tuple[VideoReader, dict[str, Any]]:
    info = probe(output)
    plan: dict[str, Any] = {
        "output_frames": info.frames,
        "output_size": [info.height, info.width],
        "output_fps": info.fps,
        "trimmed": None,
        "resized": None,
        "fps_mismatch": None,
    }
    if abs(info.fps - clip.fps) > 1e-3 * max(abs(clip.fps), abs(info.fps)):
        plan["fps_mismatch"] = {
            "output_fps": info.fps,
            "input_fps": clip.fps,
            "paired_by": "frame index",
            "note": f"output fps {info.fps:.6g} differs from input fps {clip.fps:.6g}; frames paired by index",
        }
    if info.frames < clip.frames:
        raise InputError(output, f"has {info.frames} frames but the clip's input has {clip.frames}")
    if info.frames > clip.frames:
        if not trim_to_input:
            raise InputError(
                output,
                f"has {info.frames} frames but the clip's input has {clip.frames} "
                "(pass --trim-to-input / trim_to_input=True to score the first frames only)",
            )
        plan["trimmed"] = {"from_frames": info.frames, "to_frames": clip.frames, "kept": "first frames"}
    size = None
    interpolation = "area"
    if (info.height, info.width) != (clip.height, clip.width):
        if not resize_to_input:
            raise InputError(
                output,
                f"is {info.width}x{info.height} but the clip's input is {clip.width}x{clip.height} "
                "(pass --resize-to-input / resize_to_input=True to resize it)",
            )
        size = (clip.height, clip.width)
        shrinks = info.height * info.width >= clip.height * clip.width
        interpolation = "area" if shrinks else "linear"
        plan["resized"] = {
            "from_size": [info.height, info.width],
            "to_size": [clip.height, clip.width],
            "interpolation": "INTER_AREA" if shrinks else "INTER_LINEAR",
        }
    return VideoReader(output, size=size, interpolation=interpolation), plan


def score_clip(
    clip: Clip | str | Path,
    output: str | Path,
    *,
    preset: Preset = "default",
    device: str = "cpu",
    trim_to_input: bool = False,
    resize_to_input: bool = False,
    chunk_size: int = 16,
    metrics: Sequence[str] | None = None,
    metric_options: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Score an output video against its clip with every metric in one streaming pass.

    Parameters
    ----------
    clip : Clip or str or Path
        The clip (folder) the output was made from.
    output : str or Path
        The method's output video.
    preset : {"default", "propainter"}, keyword-only
        ``propainter`` computes PSNR and SSIM with the classic video-completion protocol
        (:mod:`void_eval.metrics.propainter`: 432x240, dilated hole, composited, region ``frame`` only); LPIPS
        and the other metrics are unchanged (the protocol has no LPIPS).
    device : {"cpu", "cuda"}, keyword-only
        Where LPIPS runs.
    trim_to_input : bool, keyword-only
        Accept an output longer than the input and score its first ``N`` frames (upstream VOID pads clips with a
        reversed tail); otherwise a length mismatch is an :class:`~void_eval.errors.InputError`.
    resize_to_input : bool, keyword-only
        Accept an output of another size and resize it to the input's (INTER_AREA when it has at least as many
        pixels, INTER_LINEAR otherwise); otherwise a size mismatch is an error.
    chunk_size : int, keyword-only
        Frames per decoded chunk (>= 1); lowered so a chunk holds at most :data:`CHUNK_PIXEL_BUDGET` pixels.
    metrics : sequence of str, optional, keyword-only
        Metric names (default :data:`DEFAULT_METRICS`); see :data:`~void_eval.metrics.registry.METRICS`.
    metric_options : dict, optional, keyword-only
        Per metric, keyword arguments for its accumulator, e.g. ``{"ewarp": {"flow_source": "input",
        "flow": "farneback"}, "lpips": {"net": "vgg"}}``; recorded in ``meta["metric_options"]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``region, metric, reference, value, note``; ``attrs["meta"]`` describes the run. Metrics that
        need the counterfactual are reported as NaN rows with a note when the clip has none.

    Raises
    ------
    InputError
        Unreadable clip or output, or an output whose length/size differs without trim/resize permission.
    """
    from void_eval import __version__

    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if not isinstance(clip, Clip):
        clip = Clip.load(clip)
    output = Path(output)
    names = list(DEFAULT_METRICS if metrics is None else metrics)
    if len(set(names)) != len(names):
        raise ValueError(f"metrics listed twice: {names}")
    metric_options = dict(metric_options or {})
    unused = set(metric_options) - set(names)
    if unused:
        raise ValueError(f"metric_options given for metrics not being run: {sorted(unused)}")
    reader, plan = _plan_output(clip, output, trim_to_input, resize_to_input)
    has_counterfactual = clip.counterfactual_path is not None

    rows: list[dict[str, Any]] = []
    accumulators: dict[str, Any] = {}
    skipped: list[str] = []
    for name in names:
        if not has_counterfactual and name in NEEDS_COUNTERFACTUAL:
            skipped.append(name)
            continue
        accumulator = build_accumulator(name, clip, preset=preset, device=device, options=metric_options.get(name))
        if not has_counterfactual and accumulator.info.needs_ground_truth:
            skipped.append(name)
            continue
        accumulators[name] = accumulator

    effective_chunk = max(1, min(chunk_size, CHUNK_PIXEL_BUDGET // (clip.height * clip.width)))
    seconds = dict.fromkeys(accumulators, 0.0)
    decode_started = time.perf_counter()
    decode_seconds = 0.0
    frames_scored = 0
    output_chunks = reader.chunks(effective_chunk, stop=clip.frames)
    # lockstep, not zip: zip's result tuple would keep the previous chunks alive while the next ones decode
    for clip_chunk, output_frames in lockstep(clip.iter_aligned(effective_chunk), output_chunks):
        chunk = ScoreChunk(
            start=clip_chunk.start,
            output=output_frames,
            input=clip_chunk.frames,
            mask=clip_chunk.mask,
            counterfactual=clip_chunk.counterfactual,
        )
        decode_seconds += time.perf_counter() - decode_started
        large = output_frames.shape[1] * output_frames.shape[2] >= RELEASE_HEAP_MIN_PIXELS
        for name, accumulator in accumulators.items():
            started = time.perf_counter()
            if large:  # what the last metric freed, back to the system before the next one allocates (void_eval.heap)
                release_free_heap()
            accumulator.update(chunk)
            seconds[name] += time.perf_counter() - started
        frames_scored += len(output_frames)
        # drop this chunk before the next one is decoded (the loop variables would keep it alive meanwhile: at 4K
        # one chunk of output, input, counterfactual and quadmask holds ~90 MB; ``lockstep`` holds none of it)
        del chunk, clip_chunk, output_frames
        decode_started = time.perf_counter()

    for name in names:
        if name in skipped:
            expected = NEEDS_COUNTERFACTUAL.get(name, ((name, "frame"),))
            if preset == "propainter" and name in ("psnr", "ssim"):
                expected = ((name, "frame"),)
            for metric, region in expected:
                rows.append(
                    {
                        "region": region,
                        "metric": metric,
                        "reference": "counterfactual",
                        "value": np.nan,
                        "note": "skipped: the clip has no counterfactual.mp4",
                    }
                )
            continue
        accumulator = accumulators[name]
        started = time.perf_counter()
        results = _results(accumulator)
        seconds[name] += time.perf_counter() - started
        for metric, by_region in results.items():
            for region, value in by_region.items():
                rows.append(
                    {
                        "region": region,
                        "metric": metric,
                        "reference": accumulator.info.reference,
                        "value": float(value.value),
                        "note": _note(accumulator, value),
                    }
                )

    if plan["fps_mismatch"] is not None:
        fps_note = plan["fps_mismatch"]["note"]
        for row in rows:
            row["note"] = f"{row['note']}; {fps_note}" if row["note"] else fps_note
    table = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    table.attrs["meta"] = {
        "clip": clip.name,
        "clip_path": str(clip.path),
        "output": str(output),
        "preset": preset,
        "device": device,
        "frames": frames_scored,
        "input_size": [clip.height, clip.width],
        "input_fps": clip.fps,
        **plan,
        "chunk_size": effective_chunk,
        "chunk_size_requested": chunk_size,
        "counterfactual": has_counterfactual,
        "metrics": names,
        "metric_options": {
            name: {key: str(value) for key, value in options.items()} for name, options in metric_options.items()
        },
        "skipped": skipped,
        "flow": accumulators["ewarp"].describe() if "ewarp" in accumulators else None,
        "seconds": {"decode": round(decode_seconds, 4), **{name: round(value, 4) for name, value in seconds.items()}},
        "clip_warnings": list(clip.warnings),
        "void_eval_version": __version__,
    }
    return table
