"""What the physics metrics cost next to a default ``score``: their share of the time, in one run.

Workload: suite clips (default: the ``demo`` preset's first 5 clips, one per rigid family, 48 frames at 192x336)
scored with their input as the output (every physics metric has work to do there). Per clip and repeat, two calls
of :func:`void_eval.metrics.score.score_clip`, interleaved so machine load hits both alike: every default metric,
and the physics metrics alone (``cf_score``, ``motion_agreement``, ``traj_err``, ``shadow_residual``). Printed:
seconds of each per clip, the physics metrics' own seconds inside the default run (``meta["seconds"]``), and both
ratios. Target (issue 16): physics < 20% of the default score.

Usage::

    .venv/bin/python benchmarks/physics_cost.py [--clips 5] [--repeats 2] [--suite DIR] [--work DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

PHYSICS = ("cf_score", "motion_agreement", "traj_err", "shadow_residual")


def timed(clip: Path, metrics: list[str] | None) -> tuple[float, dict[str, float]]:
    from void_eval.metrics.score import score_clip

    started = time.perf_counter()
    table = score_clip(clip, clip / "input_video.mp4", metrics=metrics)
    return time.perf_counter() - started, table.attrs["meta"]["seconds"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--suite", help="an existing suite folder (default: make the demo suite in --work)")
    parser.add_argument("--work", help="where to make the suite (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.suite:
        folders = sorted(path for path in Path(args.suite).iterdir() if (path / "meta.json").is_file())
    else:
        from void_eval.suite import make_suite

        work = Path(args.work or tempfile.mkdtemp(prefix="physics-cost-"))
        folders = make_suite(work / "suite", preset="demo", clips=args.clips, progress=False, force=True)
    folders = folders[: args.clips]
    timed(folders[0], list(PHYSICS))  # imports and first-call set-up outside the timings
    default_total = physics_total = inside_total = 0.0
    print(f"{'clip':<16}{'default s':>10}{'physics s':>10}{'inside s':>10}")
    for _ in range(args.repeats):
        for clip in folders:
            default, seconds = timed(clip, None)
            physics, _ = timed(clip, list(PHYSICS))
            inside = sum(seconds.get(name, 0.0) for name in PHYSICS)
            default_total, physics_total, inside_total = (
                default_total + default,
                physics_total + physics,
                inside_total + inside,
            )
            print(f"{clip.name:<16}{default:>10.2f}{physics:>10.2f}{inside:>10.2f}")
    print(
        f"\ndefault score {default_total:.1f} s, physics metrics alone {physics_total:.1f} s "
        f"({physics_total / default_total:.1%} of it; their own seconds inside the default run: "
        f"{inside_total / default_total:.1%}); target < 20%"
    )
    return 0 if physics_total / default_total < 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())
