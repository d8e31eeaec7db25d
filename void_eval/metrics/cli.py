"""``void-eval score``: every metric of one output video against its clip.

Mounted by :mod:`void_eval.cli` through ``register(app)``; heavy imports happen inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from void_eval.cli_options import QuietOption, json_option, json_safe


def score_to_json(table, clip: Path, output: Path) -> dict[str, Any]:
    """The ``--json`` document of a :func:`~void_eval.metrics.score.score_clip` table."""
    from void_eval.metrics.score import ROW_COLUMNS

    rows = [{name: row[name] for name in ROW_COLUMNS} for row in table.to_dict(orient="records")]
    return json_safe({"clip": str(clip), "output": str(output), "rows": rows, "meta": table.attrs.get("meta", {})})


def register(app: typer.Typer) -> None:
    """Add ``void-eval score`` to ``app``."""

    @app.command("score")
    def score(
        clip_dir: Annotated[Path, typer.Argument(help="Clip folder the output was made from.", show_default=False)],
        output_video: Annotated[Path, typer.Argument(help="The method's output video.", show_default=False)],
        as_json: Annotated[
            bool,
            json_option('{"clip", "output", "rows", "meta"}, a row per value (NaN null, infinities "inf")'),
        ] = False,
        preset: Annotated[
            str, typer.Option(help="default, or propainter (classic 432x240 composited PSNR/SSIM protocol).")
        ] = "default",
        device: Annotated[str, typer.Option(help="cpu or cuda (SSIM and LPIPS).")] = "cpu",
        trim_to_input: Annotated[
            bool, typer.Option("--trim-to-input", help="Score only the first N frames of a longer output.")
        ] = False,
        resize_to_input: Annotated[
            bool,
            typer.Option(
                "--resize-to-input", help="Resize an output of another size (INTER_AREA down, INTER_LINEAR up)."
            ),
        ] = False,
        chunk_size: Annotated[int, typer.Option(help="Frames decoded per chunk (memory bound).", min=1)] = 16,
        metrics: Annotated[
            str | None,
            typer.Option(help="Comma-separated metric names, e.g. psnr,lpips (default: every built-in metric)."),
        ] = None,
        quiet: QuietOption = False,
    ) -> int:
        """Score OUTPUT_VIDEO against CLIP_DIR: fidelity per quadmask region, temporal, physics, no-reference.

        Exit 0 on success, 1 on bad input (mismatched length/size without --trim-to-input/--resize-to-input).
        """
        import json

        from void_eval.metrics.score import score_clip

        names = _checked_options(preset, device, metrics)
        with _FramesBar(clip_dir, enabled=not quiet) as bar:
            table = score_clip(
                clip_dir,
                output_video,
                preset=preset,  # type: ignore[arg-type]
                device=device,
                trim_to_input=trim_to_input,
                resize_to_input=resize_to_input,
                chunk_size=chunk_size,
                metrics=names,
                on_chunk=bar.update,
            )
        if as_json:
            typer.echo(json.dumps(score_to_json(table, clip_dir, output_video), indent=2, allow_nan=False))
            return 0
        _print_table(table, clip_dir, output_video)
        return 0


def _checked_options(preset: str, device: str, metrics: str | None) -> list[str] | None:
    """The ``--metrics`` names (None: every built-in), after checking ``--preset`` and ``--device``.

    Raises
    ------
    typer.BadParameter
        On an unknown preset, device or metric name, or a ``--metrics`` that names none.
    """
    from void_eval.metrics.registry import get_spec
    from void_eval.metrics.score import PRESETS

    if preset not in PRESETS:
        raise typer.BadParameter(f"must be one of {', '.join(PRESETS)}", param_hint="--preset")
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise typer.BadParameter("must be cpu or cuda", param_hint="--device")
    names = None if metrics is None else [name.strip() for name in metrics.split(",") if name.strip()]
    for name in names or ():
        try:
            get_spec(name)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--metrics") from err
    if names == []:
        raise typer.BadParameter("names no metric", param_hint="--metrics")
    return names


class _FramesBar:
    """A tqdm bar over the clip's frames on stderr, opened by the first ``update(n)`` (an error found before any
    frame is scored stays the only line), its total read from the input video's header."""

    def __init__(self, clip_dir: Path, *, enabled: bool) -> None:
        self.clip_dir, self.enabled, self.bar = clip_dir, enabled, None

    def __enter__(self) -> _FramesBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, frames: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm.auto import tqdm

            from void_eval.video import VideoReader

            try:
                total = VideoReader(self.clip_dir / "input_video.mp4").info.frames
            except Exception:  # score_clip reports a bad clip with its own message; the bar just has no total
                total = None
            self.bar = tqdm(total=total, desc="score", unit="frame")
        self.bar.update(frames)


def _print_table(table, clip: Path, output: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    meta = table.attrs.get("meta", {})
    view = Table(title=f"score {clip} <- {output}")
    for column in ("metric", "region", "reference", "value", "note"):
        view.add_column(column, overflow="fold")
    for row in table.itertuples(index=False):
        value = "NaN" if row.value != row.value else f"{row.value:.6g}"
        arrow = "↑" if row.higher_is_better else "↓"  # the metric's direction, from its MetricSpec
        view.add_row(f"{row.metric} {arrow}", row.region, row.reference, value, row.note)
    console = Console(width=160)
    console.print(view)
    done = []
    if meta.get("trimmed"):
        done.append(f"trimmed {meta['trimmed']['from_frames']} -> {meta['trimmed']['to_frames']} frames (first kept)")
    if meta.get("resized"):
        resized = meta["resized"]
        done.append(f"resized {resized['from_size']} -> {resized['to_size']} ({resized['interpolation']})")
    summary = f"{meta.get('frames', '?')} frames, chunk {meta.get('chunk_size', '?')}"
    console.print("; ".join([summary, *done]))
