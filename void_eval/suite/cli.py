"""``void-eval suite make`` and ``void-eval suite preview``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from void_eval.cli_options import QuietOption

suite_app = typer.Typer(help="Generate the counterfactual physics suite and look at it.", no_args_is_help=True)


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.lower().replace("×", "x").split("x")
    if len(parts) != 2 or not all(part.strip().isdigit() for part in parts):
        raise typer.BadParameter(f"expected HxW such as 192x336, got {text!r}", param_hint="--size")
    return int(parts[0]), int(parts[1])


@suite_app.command("make")
def make(
    out_dir: Annotated[Path, typer.Argument(help="Output folder (empty or absent unless --force).")],
    preset: Annotated[
        str, typer.Option(help="demo (8 clips, 48 frames, 192x336), tiny or full (32 clips, 85 frames, 384x672).")
    ] = "demo",
    count: Annotated[
        int | None, typer.Option("--count", help="Number of clips (default: the preset's).", min=1)
    ] = None,
    seed: Annotated[int, typer.Option(help="Suite seed; same arguments and seed -> identical folders.", min=0)] = 0,
    frames: Annotated[int | None, typer.Option(help="Frames per clip (default: the preset's).", min=2)] = None,
    size: Annotated[str | None, typer.Option(help="Frame size HxW, e.g. 192x336 (default: the preset's).")] = None,
    scenarios: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated families: occlusion,shadow,support,collision,chain,human_kick,human_push,"
            "human_carry, or the groups rigid and human (default all)."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default up to 2).", min=1)] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite earlier suite output in OUT_DIR.")] = False,
    quiet: QuietOption = False,
) -> int:
    """Simulate and render counterfactual clips (pybullet), one folder per clip."""
    from void_eval.errors import VoidEvalError
    from void_eval.suite.make import make_suite

    try:
        paths = make_suite(
            out_dir,
            preset=preset,
            clips=count,
            seed=seed,
            frames=frames,
            size=_parse_size(size),
            scenarios=scenarios,
            force=force,
            progress=not quiet,
            workers=workers,
        )
    except VoidEvalError:
        raise
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    typer.echo(f"wrote {len(paths)} clips to {out_dir}")
    return 0


@suite_app.command("preview")
def preview(
    out_dir: Annotated[Path, typer.Argument(help="A suite folder written by 'suite make'.")],
    to: Annotated[Path | None, typer.Option("--to", help="Folder for the PNGs (default OUT_DIR).")] = None,
    rows: Annotated[int, typer.Option(help="Frames per sheet.", min=1, max=16)] = 4,
) -> int:
    """Write preview_<family>.png per family: factual | counterfactual | quadmask | shadow, a few frames."""
    from void_eval.suite.preview import write_previews

    for path in write_previews(out_dir, out_dir=to, rows=rows):
        typer.echo(f"wrote {path}")
    return 0


def register(app: typer.Typer) -> None:
    """Mount the ``suite`` group on the ``void-eval`` app."""
    app.add_typer(suite_app, name="suite")
