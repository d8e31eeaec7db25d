"""Time to generate the counterfactual suite's demo preset, against the bare renderer (the reference), in one run.

Measures ``make_suite(preset="demo")`` (8 clips x 48 frames at 192x336 by default: simulate both worlds, render
factual, counterfactual and behind views with shadows, derive masks, encode six videos per clip) in wall-clock
and CPU seconds, and prints clip frames per second. The reference is pybullet's TinyRenderer alone rendering the
same scene size the same number of times in this process (one factual + one counterfactual render per clip
frame), so the ratio shows the suite's overhead over its unavoidable rendering cost; CPU seconds do not depend on
how busy a shared machine is, wall time does.

Target (issue 3): the demo preset in <= 20 s on 2 cores.

Usage::

    .venv/bin/python benchmarks/suite_speed.py [--preset demo] [--workers 2] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from void_eval.suite.make import PRESETS, make_suite

    preset = PRESETS[args.preset]
    with tempfile.TemporaryDirectory() as workdir:
        cpu_start, wall_start = _cpu_seconds(), time.perf_counter()
        paths = make_suite(
            Path(workdir) / "suite", preset=args.preset, seed=args.seed, progress=False, workers=args.workers
        )
        wall = time.perf_counter() - wall_start
        cpu = _cpu_seconds() - cpu_start
    frames = len(paths) * preset.frames
    renders = 2 * frames
    reference = reference_render_seconds(renders, preset.size)
    workers = args.workers or min(2, os.cpu_count() or 1)
    print(
        f"suite preset {args.preset}: {len(paths)} clips x {preset.frames} frames at {preset.size[0]}x{preset.size[1]}"
    )
    print(f"  wall {wall:.1f} s ({workers} workers, {os.cpu_count()} cpus), cpu {cpu:.1f} s")
    print(f"  {frames / wall:.1f} clip frames/s wall, {frames / cpu:.1f} clip frames per cpu-second")
    print(f"  reference: {renders} bare renders in {reference:.1f} cpu s ({1000 * reference / renders:.1f} ms each)")
    print(f"  ratio suite cpu / reference: {cpu / reference:.2f}")
    print(f"  estimated wall on 2 idle cores: {cpu / 2:.1f} s (target <= 20 s)")


if __name__ == "__main__":
    main()
