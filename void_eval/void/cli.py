"""``void-eval void run``: VOID on one clip folder, from local weights only.

Mounted by ``void_eval/cli.py`` through ``COMMAND_MODULES``; heavy imports happen inside the command.

Example::

    void-eval void run clips/BigBen --base CogVideoX-Fun-V1.5-5b-InP --pass1 void_pass1.safetensors \\
        --pass2 void_pass2.safetensors --raft-weights raft_large.pth --out out/BigBen-void.mp4

``--tiny-random`` swaps in tiny random-weight components and tiny defaults (32x48, 2 steps, float32) to smoke-test
the whole path on a CPU in seconds; its output is NOT a VOID result and says so. Every option is checked before
any work: a size the transformer cannot take, a bad window or a CUDA device on a machine without one is one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

void_app = typer.Typer(help="Run Netflix VOID (diffusers pipeline, local weights only).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``void`` command group to the root app."""
    app.add_typer(void_app, name="void")


def _parse_size(option: str, text: str | None) -> tuple[int, int] | None:
    from void_eval.errors import InputError

    if text is None:
        return None
    try:
        height, width = (int(part) for part in text.lower().split("x"))
    except ValueError as err:
        raise InputError(option, f"must be HEIGHTxWIDTH like 384x672, got {text!r}") from err
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
    memory_mode: Annotated[
        str, typer.Option(help="auto | gpu | model-offload | sequential-offload (auto: offload on CUDA).")
    ] = "auto",
    fp8: Annotated[bool, typer.Option("--fp8", help="Store transformer weights in float8.")] = False,
    device: Annotated[str, typer.Option(help="auto (CUDA when present, else CPU) or a torch device.")] = "auto",
    dtype: Annotated[str | None, typer.Option(help="bfloat16 (default) | float16 | float32.")] = None,
    size: Annotated[str | None, typer.Option(help="Working size HEIGHTxWIDTH (upstream 384x672).")] = None,
    steps: Annotated[int | None, typer.Option(help="Pass-1 steps (upstream 30).")] = None,
    steps2: Annotated[int | None, typer.Option(help="Pass-2 steps (upstream 50).")] = None,
    seed: Annotated[int, typer.Option(help="Seed (upstream 42).")] = 42,
    window_frames: Annotated[int | None, typer.Option(help="Temporal window, 4k+1 with k odd (upstream 85).")] = None,
    pass2_noise: Annotated[
        str, typer.Option(help="upstream (Go-with-the-Flow on upstream's path) | gaussian (ablation).")
    ] = "upstream",
    raft_weights: Annotated[
        Path | None, typer.Option(help="Local torchvision raft_large weights for pass 2's flow (else DIS).")
    ] = None,
    warp_scale: Annotated[int | None, typer.Option(help="Warp grid = flow grid x this (upstream 8).")] = None,
    seeding: Annotated[str, typer.Option(help="upstream (one generator per run) | per-clip.")] = "upstream",
    noise_aug: Annotated[
        str, typer.Option(help="Video noise augmentation from: upstream (its global stream) | generator.")
    ] = "upstream",
    tiny_random: Annotated[
        bool, typer.Option("--tiny-random", help="Tiny random weights and sizes: smoke test only, NOT a VOID result.")
    ] = False,
) -> int:
    """Run VOID pass 1 (and pass 2 with --pass2) on one clip; write the output trimmed to the input's length,
    resized back to its size, at its fps, plus a JSON record of what was done next to it."""
    from void_eval.atomic import atomic_path, write_json_atomic
    from void_eval.clip import Clip
    from void_eval.errors import InputError
    from void_eval.void.passes import VoidPass1Method, VoidPass2Method
    from void_eval.void.tiny import TINY_LABEL

    options = dict(
        base=base,
        pass1=pass1,
        size=_parse_size("--size", size),
        steps=steps,
        seed=seed,
        seeding=seeding,
        noise_aug=noise_aug,
        dtype=dtype,
        device=device,
        memory_mode=memory_mode,
        fp8=fp8,
        window_frames=window_frames,
        tiny_random=tiny_random,
    )
    try:
        if pass2 is not None or (tiny_random and two_pass):
            extra = dict(pass2=pass2, steps2=steps2, pass2_noise=pass2_noise, raft_weights=raft_weights)
            method = VoidPass2Method(warp_scale=warp_scale, **extra, **options)
        else:
            method = VoidPass1Method(**options)
    except InputError:
        raise
    except ValueError as err:
        raise InputError("void run", str(err)) from err
    clip = Clip.load(clip_dir)
    label = "-TINY-RANDOM-NOT-VOID" if tiny_random else ""
    target = out / f"{clip.name}-{method.name}{label}.mp4" if out.suffix.lower() != ".mp4" else out
    target.parent.mkdir(parents=True, exist_ok=True)
    if tiny_random:
        typer.echo(f"WARNING: {TINY_LABEL}")
    settings = method.params
    typer.echo(
        f"{method.name} on {method.device} ({settings['memory_mode']}, {settings['dtype']}): "
        f"{method.size[0]}x{method.size[1]}, {method.steps} steps"
        + (f" + {settings['steps2']} ({settings['pass2_noise']} noise)" if "steps2" in settings else "")
    )
    with atomic_path(target) as temporary:  # no half-written video if the run fails
        method.run(clip, temporary)
    record = {"params": method.params, "weights_sha256": method.weights_sha256, **method.last_run}
    sidecar = write_json_atomic(target.with_suffix(".json"), record, default=str)
    typer.echo(f"{method.name} {clip.name}: {clip.frames} frames -> {target} ({method.last_run['seconds']} s)")
    typer.echo(f"record: {sidecar}")
    if tiny_random:
        typer.echo(f"WARNING: {TINY_LABEL}")
    return 0
