"""``void-eval ladder``: write the known-truth ladder of a suite, or of one suite clip."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from void_eval.errors import VoidEvalError


def ladder(
    source: Annotated[Path, typer.Argument(help="A suite folder (with suite.json) or one suite clip folder.")],
    out_dir: Annotated[Path, typer.Argument(help="Output folder: one ladder folder per clip (or the clip's ladder).")],
    delays: Annotated[str, typer.Option(help="Comma-separated delays in frames, increasing.")] = "2,4,8",
    force: Annotated[bool, typer.Option("--force", help="Replace existing ladder folders.")] = False,
) -> int:
    """Write outputs of known quality (counterfactual, delays, ghost, half, shadow_30, frozen, input) per clip.

    Each rung is a lossless video that ``void-eval score CLIP RUNG.mp4`` scores; ``ladder.json`` says what each is.
    """
    from void_eval.suite.ladder.make import make_ladder, make_suite_ladders

    try:
        steps = tuple(int(part) for part in delays.split(",") if part.strip())
    except ValueError as err:
        raise typer.BadParameter(f"expected integers such as 2,4,8, got {delays!r}", param_hint="--delays") from err
    try:
        if (source / "suite.json").is_file():
            folders = make_suite_ladders(source, out_dir, delays=steps, force=force)
        else:
            make_ladder(source, out_dir, delays=steps, force=force)
            folders = [out_dir]
    except VoidEvalError:
        raise
    except ValueError as err:  # delays out of order or below 1
        raise typer.BadParameter(str(err), param_hint="--delays") from err
    for folder in folders:
        typer.echo(f"wrote {folder}")
    return 0


def register(app: typer.Typer) -> None:
    """Add the ``ladder`` command to the ``void-eval`` app."""
    app.command("ladder")(ladder)
