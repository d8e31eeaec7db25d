"""``void-eval void run``: VOID on one clip folder, from local weights only.

Mounted by ``void_eval/cli.py`` through ``COMMAND_MODULES``; heavy imports happen inside the command.

Example::

    void-eval void run clips/BigBen --base CogVideoX-Fun-V1.5-5b-InP --pass1 void_pass1.safetensors \\
        --pass2 void_pass2.safetensors --out out/BigBen-void.mp4 --memory-mode model-offload

``--tiny-random`` swaps in tiny random-weight components (no weights needed) to smoke-test the path on a CPU;
its output is NOT a VOID result and says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

void_app = typer.Typer(help="Run Netflix VOID (diffusers pipeline, local weights only).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``void`` command group to the root app."""
    app.add_typer(void_app, name="void")


def _parse_size(text: str) -> tuple[int, int]:
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError as err:
        raise typer.BadParameter(f"size must be HEIGHTxWIDTH like 384x672, got {text!r}") from err
    return height, width


@void_app.command("run")
def run(
    clip_dir: Annotated[Path, typer.Argument(help="Clip folder (input_video.mp4, quadmask_0.mp4, prompt.json).")],
    out: Annotated[Path, typer.Option("--out", help="Output .mp4, or a folder for <clip>-void-passN.mp4.")],
    base: Annotated[Path | None, typer.Option(help="Local CogVideoX-Fun-V1.5-5b-InP folder.")] = None,
    pass1: Annotated[Path | None, typer.Option(help="void_pass1.safetensors.")] = None,
    pass2: Annotated[Path | None, typer.Option(help="void_pass2.safetensors: also run the refinement pass.")] = None,
    two_pass: Annotated[
        bool, typer.Option("--two-pass", help="With --tiny-random: run pass 1 and pass 2 (no weights needed).")
    ] = False,
    memory_mode: Annotated[str, typer.Option(help="gpu | model-offload | sequential-offload.")] = "model-offload",
    fp8: Annotated[bool, typer.Option("--fp8", help="Store transformer weights in float8.")] = False,
    device: Annotated[str, typer.Option(help="Torch device.")] = "cuda",
    dtype: Annotated[str, typer.Option(help="bfloat16 | float16 | float32.")] = "bfloat16",
    size: Annotated[str, typer.Option(help="Working size HEIGHTxWIDTH (upstream 384x672).")] = "384x672",
    steps: Annotated[int, typer.Option(help="Pass-1 steps (upstream 30).")] = 30,
    steps2: Annotated[int, typer.Option(help="Pass-2 steps (upstream 50).")] = 50,
    seed: Annotated[int, typer.Option(help="Seed (upstream 42).")] = 42,
    window_frames: Annotated[int, typer.Option(help="Temporal window, 4k+1 with k odd (upstream 85).")] = 85,
    tiny_random: Annotated[
        bool, typer.Option("--tiny-random", help="Tiny random weights: smoke test only, NOT a VOID result.")
    ] = False,
) -> int:
    """Run VOID pass 1 (and pass 2 with --pass2) on one clip; write the output trimmed to the input's length,
    resized back to its size, at its fps, plus a JSON record of what was done next to it."""
    from void_eval.clip import Clip
    from void_eval.errors import InputError
    from void_eval.void.method import VoidPass1Method, VoidPass2Method
    from void_eval.void.tiny import TINY_LABEL

    height, width = _parse_size(size)
    clip = Clip.load(clip_dir)
    options = dict(
        base=base,
        pass1=pass1,
        size=(height, width),
        steps=steps,
        seed=seed,
        dtype=dtype,
        device=device,
        memory_mode=memory_mode,
        fp8=fp8,
        window_frames=window_frames,
        tiny_random=tiny_random,
    )
    try:
        if pass2 is not None or (tiny_random and two_pass):
            method = VoidPass2Method(pass2=pass2, steps2=steps2, **options)
        else:
            method = VoidPass1Method(**options)
    except InputError:
        raise
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    label = "-TINY-RANDOM-NOT-VOID" if tiny_random else ""
    target = out / f"{clip.name}-{method.name}{label}.mp4" if out.suffix.lower() != ".mp4" else out
    target.parent.mkdir(parents=True, exist_ok=True)
    if tiny_random:
        typer.echo(f"WARNING: {TINY_LABEL}")
    method.run(clip, target)
    record = {"params": method.params, "weights_sha256": method.weights_sha256, **method.last_run}
    sidecar = target.with_suffix(".json")
    temporary = sidecar.with_name(sidecar.name + ".tmp")
    temporary.write_text(json.dumps(record, indent=2, default=str))
    temporary.replace(sidecar)
    typer.echo(f"{method.name} {clip.name}: {clip.frames} frames -> {target} ({method.last_run['seconds']} s)")
    typer.echo(f"record: {sidecar}")
    if tiny_random:
        typer.echo(f"WARNING: {TINY_LABEL}")
    return 0
