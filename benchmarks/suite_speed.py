"""Time to generate counterfactual suite clips: one clip per family at the demo size, and the whole demo preset.

Part 1, per clip (what issue 17 asks of the human families): clips of every family at the demo size (48 frames,
192x336: accept the scene, simulate both worlds, render factual, counterfactual and behind views with shadows,
derive masks, encode six videos, write meta.json), generated one at a time in this process, interleaved family by
family over ``--repeat`` rounds so that load from other processes falls on every family alike. It prints the
median CPU and wall seconds per clip of each family and the ratio of each human family to the ``collision``
family (the reference, measured in the same run). One clip uses one core, so a clip's CPU seconds are its time
on an idle core; two cores generate two clips at once.

Part 2, the demo preset (``make_suite(preset="demo")``, 8 clips with two workers), against the bare renderer
(TinyRenderer alone rendering the same scene size the same number of times in this process) as before.

Targets: a human clip at the demo size in under 10 s on 2 cores (issue 17); the demo preset in <= 20 s on 2 cores
(issue 3).

Usage::

    .venv/bin/python benchmarks/suite_speed.py [--repeat 3] [--preset demo] [--workers 2] [--seed 0] [--skip-preset]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

REFERENCE_FAMILY = "collision"


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def reference_render_seconds(renders: int, size: tuple[int, int]) -> float:
    """CPU seconds for ``renders`` bare TinyRenderer renders (shadows on) of a suite scene, one process."""
    from void_eval.suite.physics import simulate
    from void_eval.suite.render import SceneRenderer
    from void_eval.suite.scenarios import build_scene

    spec = build_scene("collision", 0)
    states = simulate(spec, include_removed=True, frames=48, fps=12.0)
    with tempfile.TemporaryDirectory() as texture_dir:
        with SceneRenderer(spec, include_removed=True, size=size, texture_dir=texture_dir) as renderer:
            start = time.process_time()
            for index in range(renders):
                frame = index % states.frames
                renderer.render(states.positions[frame], states.orientations[frame])
            return time.process_time() - start


def clip_times(families: list[str], *, repeat: int, seed: int) -> dict[str, list[tuple[float, float]]]:
    """(CPU s, wall s) of one demo-size clip per family and round, generated in this process, interleaved."""
    from void_eval.suite.make import PRESETS, ClipJob, generate_clip

    preset = PRESETS["demo"]
    times: dict[str, list[tuple[float, float]]] = {family: [] for family in families}
    with tempfile.TemporaryDirectory() as workdir:
        for round_ in range(repeat):
            for index, family in enumerate(families):
                job = ClipJob(
                    index=round_ * len(families) + index,
                    scenario=family,
                    suite_seed=seed,
                    frames=preset.frames,
                    size=preset.size,
                    fps=preset.fps,
                    threshold=8,
                    dilation=1,
                    folder=str(Path(workdir) / f"{round_:03d}_{family}"),
                )
                cpu, wall = time.process_time(), time.perf_counter()
                generate_clip(job)
                times[family].append((time.process_time() - cpu, time.perf_counter() - wall))
    return times


def report_clips(times: dict[str, list[tuple[float, float]]]) -> None:
    reference = statistics.median(cpu for cpu, _ in times[REFERENCE_FAMILY])
    print(f"per clip at the demo size (48 frames, 192x336), median of {len(times[REFERENCE_FAMILY])} rounds:")
    for family, samples in times.items():
        cpu = statistics.median(value for value, _ in samples)
        wall = statistics.median(value for _, value in samples)
        ratio = "reference" if family == REFERENCE_FAMILY else f"{cpu / reference:.2f}x {REFERENCE_FAMILY}"
        print(f"  {family:12s} cpu {cpu:5.2f} s  wall {wall:5.2f} s  ({ratio})")
    human = [value for family, samples in times.items() if family.startswith("human_") for value, _ in samples]
    if human:
        print(
            f"  human clip: median {statistics.median(human):.2f} s, max {max(human):.2f} s on one core "
            f"(two cores make two at once; target < 10 s per clip)"
        )


def report_preset(preset_name: str, *, workers: int | None, seed: int) -> None:
    from void_eval.suite.make import PRESETS, make_suite

    preset = PRESETS[preset_name]
    with tempfile.TemporaryDirectory() as workdir:
        cpu_start, wall_start = _cpu_seconds(), time.perf_counter()
        paths = make_suite(Path(workdir) / "suite", preset=preset_name, seed=seed, progress=False, workers=workers)
        wall = time.perf_counter() - wall_start
        cpu = _cpu_seconds() - cpu_start
    frames = len(paths) * preset.frames
    renders = 2 * frames
    reference = reference_render_seconds(renders, preset.size)
    used = workers or min(2, os.cpu_count() or 1)
    print(
        f"suite preset {preset_name}: {len(paths)} clips x {preset.frames} frames at {preset.size[0]}x{preset.size[1]}"
    )
    print(f"  wall {wall:.1f} s ({used} workers, {os.cpu_count()} cpus), cpu {cpu:.1f} s")
    print(f"  {frames / wall:.1f} clip frames/s wall, {frames / cpu:.1f} clip frames per cpu-second")
    print(f"  reference: {renders} bare renders in {reference:.1f} cpu s ({1000 * reference / renders:.1f} ms each)")
    print(f"  ratio suite cpu / reference: {cpu / reference:.2f}")
    print(f"  estimated wall on 2 idle cores: {cpu / 2:.1f} s (target <= 20 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the per-clip timing (median shown)")
    parser.add_argument("--skip-preset", action="store_true", help="only the per-clip timing")
    args = parser.parse_args()

    from void_eval.suite.make import FAMILIES

    families = [REFERENCE_FAMILY, *(family for family in FAMILIES if family.startswith("human_"))]
    report_clips(clip_times(families, repeat=args.repeat, seed=args.seed))
    if not args.skip_preset:
        report_preset(args.preset, workers=args.workers, seed=args.seed)


if __name__ == "__main__":
    main()
