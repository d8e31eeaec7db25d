"""Score one output video against its clip: every metric, one streaming pass, tidy rows.

:func:`score_clip` decodes the output and the clip's input, quadmask and (when present) counterfactual once, in
aligned chunks, and feeds every chunk to every metric's accumulator; memory stays bounded by the chunk size, not
the clip length. Which metrics exist, what they report and in which direction is read from their
:class:`~void_eval.metrics.spec.MetricSpec` (:data:`~void_eval.metrics.registry.METRICS`). The result is a
:class:`pandas.DataFrame` with one row per (metric, region): columns ``region``, ``metric``, ``reference``
(``counterfactual``, ``input`` or ``output`` for no-reference metrics), ``value`` (NaN with the reason in ``note``
when a metric cannot be computed), ``higher_is_better`` and ``note``; ``df.attrs["meta"]`` records what was done
(frames, sizes, trimming, resizing, chunking, flow, versions, seconds per metric).

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
from void_eval.lockstep import lockstep
from void_eval.metrics.base import Accumulator, MetricValue, ScoreChunk
from void_eval.metrics.registry import DEFAULT_METRICS, get_spec
from void_eval.metrics.spec import MetricSpec
from void_eval.video import VideoReader, probe

Preset = Literal["default", "propainter"]
PRESETS: tuple[str, ...] = ("default", "propainter")
ROW_COLUMNS: tuple[str, ...] = ("region", "metric", "reference", "value", "higher_is_better", "note")
#: Largest number of pixels (frames x height x width) decoded per chunk: 1 frame of 4K, 4 of 1080p, 9 of 720p.
CHUNK_PIXEL_BUDGET = 2**23
NO_COUNTERFACTUAL = "skipped: the clip has no counterfactual.mp4"

__all__ = ["DEFAULT_METRICS", "PRESETS", "ROW_COLUMNS", "score_clip"]


def _note(accumulator: Accumulator, value: MetricValue) -> str:
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
    }
    plan |= dict.fromkeys(("trimmed", "resized", "fps_mismatch"))
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


def _check_arguments(
    preset: str, chunk_size: int, metrics: Sequence[str] | None, metric_options: dict | None
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    names = list(DEFAULT_METRICS if metrics is None else metrics)
    if len(set(names)) != len(names):
        raise ValueError(f"metrics listed twice: {names}")
    options = {name: dict(values) for name, values in (metric_options or {}).items()}
    unused = set(options) - set(names)
    if unused:
        raise ValueError(f"metric_options given for metrics not being run: {sorted(unused)}")
    return names, options


def _build(
    specs: list[MetricSpec], clip: Clip, options: dict[str, dict[str, Any]], **settings: str
) -> tuple[dict[str, Accumulator], dict[str, str]]:
    """The accumulators to run, and per metric left out, why (no counterfactual, another scenario family)."""
    accumulators: dict[str, Accumulator] = {}
    skipped: dict[str, str] = {}
    has_counterfactual = clip.counterfactual_path is not None
    for spec in specs:
        if not spec.applies_to(clip.scenario):
            families = ", ".join(spec.families or ())
            skipped[spec.name] = (
                f"not applicable: {spec.name} applies to scenario families {families}; this clip is {clip.scenario!r}"
            )
            continue
        if spec.needs_ground_truth and not has_counterfactual:
            skipped[spec.name] = NO_COUNTERFACTUAL
            continue
        accumulator = spec.build(clip, options=options.get(spec.name, {}), **settings)
        if accumulator.needs_ground_truth and not has_counterfactual:
            skipped[spec.name] = NO_COUNTERFACTUAL
            continue
        accumulators[spec.name] = accumulator
    return accumulators, skipped


def _stream(
    clip: Clip,
    reader: VideoReader,
    accumulators: dict[str, Accumulator],
    chunk_size: int,
    on_chunk: Callable[[int], None] | None = None,
) -> dict:
    """Feed every aligned chunk to every accumulator: frames scored and seconds per step; ``on_chunk(frames)``
    after each chunk."""
    seconds = {"decode": 0.0, **dict.fromkeys(accumulators, 0.0)}
    frames = 0
    started = time.perf_counter()
    output_chunks = reader.chunks(chunk_size, stop=clip.frames)
    # lockstep, not zip: zip's result tuple would keep the previous chunks alive while the next ones decode
    for clip_chunk, output in lockstep(clip.iter_aligned(chunk_size), output_chunks):
        chunk = ScoreChunk(clip_chunk.start, output, clip_chunk.frames, clip_chunk.mask, clip_chunk.counterfactual)
        seconds["decode"] += time.perf_counter() - started
        for name, accumulator in accumulators.items():
            started = time.perf_counter()
            accumulator.update(chunk)
            seconds[name] += time.perf_counter() - started
        frames += len(output)
        if on_chunk is not None:
            on_chunk(len(output))
        # drop this chunk before the next one decodes (at 4K a chunk of every stream holds ~90 MB)
        del chunk, clip_chunk, output
        started = time.perf_counter()
    return {"frames": frames, "seconds": seconds}


def _rows(
    specs: list[MetricSpec],
    accumulators: dict[str, Accumulator],
    skipped: dict[str, str],
    seconds: dict[str, float],
    preset: str,
    options: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """One row per (metric row, region), in the order of ``specs``; NaN with the reason for skipped metrics."""
    rows: list[dict[str, Any]] = []
    for spec in specs:
        directions = {row.metric: row.higher_is_better for row in spec.rows}
        if spec.name in skipped:
            for metric, region in spec.expected_rows(preset, options.get(spec.name, {})):
                rows.append(_row(region, metric, spec.reference, np.nan, directions[metric], skipped[spec.name]))
            continue
        accumulator = accumulators[spec.name]
        started = time.perf_counter()
        results = accumulator.compute_metrics()
        seconds[spec.name] += time.perf_counter() - started
        for metric, by_region in results.items():
            if metric not in directions:
                raise ValueError(f"metric {spec.name!r} reported a row {metric!r} that its spec does not declare")
            for region, value in by_region.items():
                note = _note(accumulator, value)
                rows.append(_row(region, metric, accumulator.reference, value.value, directions[metric], note))
    return rows


def _row(region: str, metric: str, reference: str, value: float, higher: bool, note: str) -> dict[str, Any]:
    return dict(zip(ROW_COLUMNS, (region, metric, reference, float(value), higher, note), strict=True))


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
    on_chunk: Callable[[int], None] | None = None,
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
        Where LPIPS and SSIM run.
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
    on_chunk : callable, optional, keyword-only
        Called with the number of frames of each chunk once every metric has taken it (progress bars).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ROW_COLUMNS`; ``attrs["meta"]`` describes the run. Metrics that need the counterfactual
        are NaN rows with a note when the clip has none, and so are metrics outside their scenario families.

    Raises
    ------
    InputError
        Unreadable clip or output, or an output whose length/size differs without trim/resize permission.
    ValueError
        Unknown metric or preset, bad options.
    """
    names, options = _check_arguments(preset, chunk_size, metrics, metric_options)
    specs = [get_spec(name) for name in names]
    if not isinstance(clip, Clip):
        clip = Clip.load(clip)
    reader, plan = _plan_output(clip, Path(output), trim_to_input, resize_to_input)
    accumulators, skipped = _build(specs, clip, options, preset=preset, device=device)
    effective_chunk = max(1, min(chunk_size, CHUNK_PIXEL_BUDGET // (clip.height * clip.width)))
    streamed = _stream(clip, reader, accumulators, effective_chunk, on_chunk)
    rows = _rows(specs, accumulators, skipped, streamed["seconds"], preset, options)
    if plan["fps_mismatch"] is not None:
        fps_note = plan["fps_mismatch"]["note"]
        for row in rows:
            row["note"] = f"{row['note']}; {fps_note}" if row["note"] else fps_note
    table = pd.DataFrame(rows, columns=list(ROW_COLUMNS))
    table.attrs["meta"] = _meta(
        clip, Path(output), plan, streamed=streamed, accumulators=accumulators, skipped=skipped, names=names,
        options=options, preset=preset, device=device, chunk=(effective_chunk, chunk_size),
    )  # fmt: skip
    return table


def _meta(clip: Clip, output: Path, plan: dict, **run: Any) -> dict[str, Any]:
    """``attrs["meta"]``: what was scored, how, and how long each step took."""
    from void_eval import __version__

    streamed, accumulators, skipped, options = run["streamed"], run["accumulators"], run["skipped"], run["options"]
    preset, device, names, chunk = run["preset"], run["device"], run["names"], run["chunk"]

    return {
        "clip": clip.name,
        "clip_path": str(clip.path),
        "output": str(output),
        "preset": preset,
        "device": device,
        "frames": streamed["frames"],
        "input_size": [clip.height, clip.width],
        "input_fps": clip.fps,
        **plan,
        "chunk_size": chunk[0],
        "chunk_size_requested": chunk[1],
        "counterfactual": clip.counterfactual_path is not None,
        "metrics": names,
        "metric_options": {
            name: {key: str(value) for key, value in values.items()} for name, values in options.items()
        },
        "skipped": list(skipped),
        "skip_reasons": skipped,
        "flow": accumulators["ewarp"].describe() if "ewarp" in accumulators else None,  # type: ignore[attr-defined]
        "seconds": {name: round(value, 4) for name, value in streamed["seconds"].items()},
        "clip_warnings": list(clip.warnings),
        "void_eval_version": __version__,
    }
