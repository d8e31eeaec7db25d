"""Do the physics and temporal metrics order outputs whose truth is known by construction?

For each seed: a suite (all families; the ``demo`` preset's 8 clips x 48 frames at 192x336 by default), the
known-truth ladder of every clip (:mod:`void_eval.suite.ladder`: counterfactual, affected motion delayed 2/4/8
frames, 50/50 ghost, half-time, 30% residual shadow, frozen fill, input), every rung scored with
:func:`void_eval.metrics.score.score_clip`. Printed per metric row and family: the values along the ladder per clip
and whether the order is right, using the metric's direction:

- perfect (the counterfactual) strictly better than every other rung, the input strictly worse than every partial
  rung, each delay strictly better than the next longer one (so no partial rung ties with perfect or worst);
- a rung is left out of a row's checks when it is no partial case for it: ``=`` it is the counterfactual itself in
  this clip (delays and the frozen fill where nothing moves in the counterfactual world); ``-`` it degrades no
  aspect the row measures (the rungs declare ``objects`` and/or ``shadow``; traj_err measures objects only,
  shadow_residual the shadow only); ``.`` it equals the counterfactual in the pixels the row reads (the affected
  region for cf_score, motion_agreement, traj_err; the shadow mask for shadow_residual; frame or remove for ewarp and
  flicker);
- ``n/a`` where the metric is NaN on every rung (its note says why); NaN on some rungs only is a failure;
- a metric's further rows that are diagnostics (``traj_lost``, already counted in ``traj_err``) are shown, not
  judged.

E_warp and flicker are no-reference, so no ladder order is theirs. Their raw rows show the values as measured and
list the rungs that score better than the counterfactual itself (the summary counts the clips where the frozen
fill does: a fill with no motion beating the ground truth). Their ``_diff`` rows are the distance to the
counterfactual's own value (``_cf`` rows; lower is better); checked there: every rung that differs in the region
is strictly farther than 0, except (``~``) a delay (a time shift of the counterfactual) and the residual of a
still shadow (the same offset in every frame): a statistic of frame-to-frame change cannot see either. A summary
gives, per metric row and family, the clips judged correctly over all seeds.

Usage::

    .venv/bin/python benchmarks/physics_ladder.py [--seed 0 --seed 1 ...] [--preset demo] [--clips N]
        [--frames N] [--size HxW] [--suite DIR] [--metrics cf_score,motion_agreement,...] [--work DIR] [--jobs 2]
        [--json results.json]

``--work DIR`` keeps the suites, ladders and scores there and reuses them on the next run (scores are cached in
each ladder folder per metric list; a ladder made by another version is made again); ``--suite DIR`` ladders and
scores an existing suite instead of generating one.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from void_eval.runner.cache import write_atomic

DEFAULT_METRICS = ("cf_score", "motion_agreement", "traj_err", "shadow_residual", "ewarp", "flicker")
SHORT = {"counterfactual": "cf", "ghost": "ghost", "half": "half", "frozen": "frozen", "input": "input"}
#: Relative difference under which two values count as tied.
TIE = 1e-9


def row_spec(metric: str):
    """The MetricSpec that reports result row ``metric`` (direction, aspects, temporal flag: the only place the
    benchmark learns about a metric)."""
    from void_eval.metrics.registry import spec_of_row

    return spec_of_row(metric)


def metric_aspects(metric: str) -> frozenset[str]:
    """What a result row judges, of the ladder's aspects (``objects``: the affected objects' motion; ``shadow``:
    the removed object's shadow); a rung that degrades none of it is no partial case for the row."""
    return frozenset(row_spec(metric).aspects)


def support_region(metric: str, region: str) -> str:
    """The ladder-manifest region whose pixels a result row reads (a rung unchanged there is no partial case)."""
    spec = row_spec(metric)
    if spec.temporal:
        return region
    return "shadow" if spec.aspects == ("shadow",) else "affected"


# -- building ------------------------------------------------------------------------------------------------------
def ensure_suite(folder: Path, *, seed: int, preset: str, clips, frames, size) -> Path:
    """Generate the suite into ``folder`` unless a complete one with these arguments is there."""
    from void_eval.suite import make_suite

    index = folder / "suite.json"
    if index.is_file():
        recorded = json.loads(index.read_text())
        wanted = {"seed": seed, "preset": preset}
        if all(recorded.get(key) == value for key, value in wanted.items()) and (
            (clips is None or len(recorded["clips"]) == clips)
            and (frames is None or recorded["frames"] == frames)
            and (size is None or recorded["size"] == list(size))
        ):
            return folder
    make_suite(folder, preset=preset, seed=seed, clips=clips, frames=frames, size=size, force=True, progress=False)
    return folder


def ensure_ladders(suite: Path, folder: Path) -> list[tuple[Path, Path]]:
    """``(clip, ladder)`` folders of every suite clip, making those not there yet or made by another version."""
    from void_eval.suite.ladder.make import LADDER_FILE, LADDER_VERSION, make_ladder

    names = json.loads((suite / "suite.json").read_text())["clips"]
    pairs = []
    for name in names:
        ladder = folder / name
        manifest = ladder / LADDER_FILE
        if not manifest.is_file() or json.loads(manifest.read_text()).get("version") != LADDER_VERSION:
            make_ladder(suite / name, ladder, force=True)
        pairs.append((suite / name, ladder))
    return pairs


def _score_rung(task: tuple[str, str, str, tuple[str, ...]]) -> list[dict]:
    from void_eval.metrics.score import score_clip

    clip, ladder, rung, metrics = task
    table = score_clip(clip, Path(ladder) / f"{rung}.mp4", metrics=list(metrics))
    return [{"rung": rung, **row} for row in table[["metric", "region", "value", "note"]].to_dict("records")]


def _cache_file(ladder: Path, metrics: Sequence[str]) -> Path:
    """Scores of a ladder, kept in its folder (a rebuilt ladder drops them with the folder)."""
    return ladder / f"scores.{'-'.join(metrics)}.csv"


def score_ladders(pairs, metrics: Sequence[str], jobs: int) -> pd.DataFrame:
    """Scores of every rung of every ladder: columns clip, family, rung, metric, region, value, note."""
    frames, tasks = [], []
    for clip, ladder in pairs:
        cached = _cache_file(ladder, metrics)
        if cached.is_file():
            frames.append(pd.read_csv(cached, keep_default_na=False, na_values=["nan", "NaN", ""]))
            continue
        manifest = json.loads((ladder / "ladder.json").read_text())
        tasks.extend((str(clip), str(ladder), rung["name"], tuple(metrics)) for rung in manifest["rungs"])
    if tasks:
        import multiprocessing

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) if jobs > 1 else _Serial() as pool:
            results = list(pool.map(_score_rung, tasks))
        by_ladder: dict[str, list[dict]] = defaultdict(list)
        for task, rows in zip(tasks, results, strict=True):
            by_ladder[task[1]].extend(rows)
        for ladder, rows in by_ladder.items():
            table = pd.DataFrame(rows)
            table.insert(0, "clip", Path(ladder).name)
            write_atomic(_cache_file(Path(ladder), metrics), lambda temp, table=table: table.to_csv(temp, index=False))
            frames.append(table)
    table = pd.concat(frames, ignore_index=True)
    table["note"] = table["note"].fillna("")
    table.insert(1, "family", table["clip"].str.split("_", n=1).str[1])
    return table


class _Serial:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def map(self, function, items):
        return map(function, items)


# -- checking ------------------------------------------------------------------------------------------------------
def excluded_rungs(manifest: dict, region: str, aspects: frozenset[str]) -> dict[str, str]:
    """Rungs that are no partial case for a row reading ``region`` and measuring ``aspects``: ``=`` the
    counterfactual itself, ``-`` degrades none of the aspects, ``.`` identical to the counterfactual in ``region``."""
    out = {}
    for rung in manifest["rungs"]:
        if rung["truth"] == "perfect":
            continue
        if rung["equals_counterfactual"]:
            out[rung["name"]] = "="
        elif not aspects & set(rung["changes"]):
            out[rung["name"]] = "-"
        elif rung["differs_from_counterfactual"][region] == 0:
            out[rung["name"]] = "."
    return out


def check_order(
    values: dict[str, float], higher: bool, skip: dict[str, str], manifest: dict, ties: frozenset = frozenset()
) -> tuple[str, list[str]]:
    """``("ok" | "FAIL" | "n/a", problems)`` for one row's values along one clip's ladder, ``skip`` left out;
    the ``(better, worse)`` pairs in ``ties`` may tie but not reverse."""
    nan = [name for name, value in values.items() if math.isnan(value)]
    if len(nan) == len(values):
        return "n/a", []
    if nan:
        return "FAIL", [f"NaN on {', '.join(nan)}"]
    problems = []
    for better, worse in manifest["order"]:
        if better in skip or worse in skip:
            continue
        a, b = values[better], values[worse]
        if abs(a - b) <= TIE * max(1.0, abs(a), abs(b)):
            if (better, worse) not in ties:
                problems.append(f"{worse} ties {better} ({b:.4g})")
        elif (a > b) != higher:
            problems.append(f"{worse} beats {better} ({b:.4g} vs {a:.4g})")
    return ("FAIL" if problems else "ok"), problems


#: Rows that measure motion alone (how the affected region or objects move), not appearance.
MOTION_ROWS = ("motion_agreement", "traj_err")


def motion_ties(manifest: dict, metric: str) -> frozenset[tuple[str, str]]:
    """Pairs a row of motion alone may tie: the frozen fill and the input where nothing the row sees moves in the
    input either (both show no motion; the manifest's frozen rung says ``input_still``)."""
    if metric not in MOTION_ROWS:
        return frozenset()
    still = [rung["name"] for rung in manifest["rungs"] if rung["params"].get("input_still") is True]
    return frozenset((name, "input") for name in still)


def temporal_exemptions(manifest: dict) -> dict[str, str]:
    """Rungs a statistic of frame-to-frame change cannot see: ``~`` a time shift (delays) or a time-constant
    change (the residual of a still shadow); see the manifest's ``temporal`` field."""
    return {rung["name"]: "~" for rung in manifest["rungs"] if rung.get("temporal") in ("shift", "constant")}


def check_separation(values: dict[str, float], skip: dict[str, str]) -> tuple[str, list[str]]:
    """A ``_diff`` row: every rung not in ``skip`` must be strictly farther from the counterfactual's own value than
    the counterfactual itself (0)."""
    if all(math.isnan(value) for value in values.values()):
        return "n/a", []
    problems = []
    for name, value in values.items():
        if name == "counterfactual" or name in skip:
            continue
        if math.isnan(value):
            problems.append(f"NaN on {name}")
        elif value <= TIE * max(1.0, abs(values["counterfactual"])):
            problems.append(f"{name} ties counterfactual")
    return ("FAIL" if problems else "ok"), problems


def beats_truth(values: dict[str, float], higher: bool, skip: dict[str, str]) -> tuple[str, list[str]]:
    """A raw temporal row: the rungs that score strictly better than the counterfactual itself (information)."""
    own = values["counterfactual"]
    if math.isnan(own):
        return "n/a", []
    better = [
        f"{name} beats counterfactual ({value:.4g} vs {own:.4g})"
        for name, value in values.items()
        if name != "counterfactual" and name not in skip and abs(value - own) > TIE and (value > own) == higher
    ]
    return "info", better


def _judge(metric: str, values: dict[str, float], manifest: dict, region: str) -> tuple:
    """``(direction, excluded rungs, (status, problems))`` of one row along one clip's ladder."""
    spec = row_spec(metric)
    higher = spec.row(metric).higher_is_better
    skip = excluded_rungs(manifest, support_region(metric, region), metric_aspects(metric))
    if not spec.temporal and metric != spec.rows[0].metric:  # a diagnostic row (traj_lost): shown, not judged
        return higher, skip, ("n/a" if all(math.isnan(value) for value in values.values()) else "diagnostic", [])
    if not spec.temporal:
        return higher, skip, check_order(values, higher, skip, manifest, motion_ties(manifest, metric))
    if metric.endswith("_diff"):
        skip = {**temporal_exemptions(manifest), **skip}
        return higher, skip, check_separation(values, skip)
    return higher, skip, beats_truth(values, higher, skip)


def judged_rows(table: pd.DataFrame, ladders: dict[str, dict]) -> pd.DataFrame:
    """One record per (clip, row): values per rung, verdict and problems (a temporal metric's ``_cf`` row, the
    counterfactual's own value, is the same on every rung and is not judged)."""
    records = []
    for (clip, metric, region), group in table.groupby(["clip", "metric", "region"], sort=False):
        if metric.endswith("_cf"):
            continue
        manifest = ladders[clip]
        values = dict(zip(group["rung"], group["value"].astype(float), strict=True))
        notes = [note for note in group["note"] if note]
        higher, shown, (status, problems) = _judge(metric, values, manifest, region)
        records.append(
            {
                "clip": clip,
                "family": manifest["scenario"],
                "row": f"{metric} [{region}]",
                "higher_is_better": higher,
                "values": values,
                "excluded": shown,
                "status": status,
                "problems": problems,
                "note": notes[0] if status == "n/a" and notes else "",
            }
        )
    return pd.DataFrame(records)


# -- printing ------------------------------------------------------------------------------------------------------
def _short(rung: str) -> str:
    return SHORT.get(rung, rung.replace("delay_", "d").replace("shadow_", "sh"))


def print_rows(judged: pd.DataFrame, rungs: Sequence[str]) -> None:
    """Per row and family: each clip's values along the ladder (``=``/``.`` after a value: left out) and verdict."""
    header = " ".join(f"{_short(rung):>9}" for rung in rungs)
    for row, by_row in judged.groupby("row", sort=False):
        arrow = "higher" if by_row["higher_is_better"].iloc[0] else "lower"
        print(f"\n{row}  ({arrow} is better)")
        print(f"  {'clip':<16}{header}  verdict")
        for _, record in by_row.iterrows():
            cells = []
            for rung in rungs:
                value = record["values"].get(rung, math.nan)
                cells.append(f"{value:>8.4g}{record['excluded'].get(rung, ' ')}")
            verdict = record["status"] if record["status"] != "n/a" else f"n/a: {record['note'][:60]}"
            print(f"  {record['clip']:<16}{' '.join(cells)}  {verdict}")
            for problem in record["problems"]:
                print(f"  {'':<16}  - {problem}")


def summary(judged: pd.DataFrame) -> pd.DataFrame:
    """Per row and family: ``ok k/n`` (clips ordered correctly / clips with values), ``FAIL k/n`` or ``n/a``; raw
    temporal rows: ``frozen>cf k/n``, the clips where the frozen fill scores better than the ground truth; a
    metric's diagnostic rows (not its first, e.g. ``traj_lost``): ``shown``."""

    def cell(group: pd.DataFrame) -> str:
        scored = group[group["status"] != "n/a"]
        if scored.empty:
            return "n/a"
        if (scored["status"] == "diagnostic").all():
            return "shown"
        if (scored["status"] == "info").all():
            frozen = sum(any(p.startswith("frozen ") for p in problems) for problems in scored["problems"])
            return f"frozen>cf {frozen}/{len(scored)}"
        good = int((scored["status"] == "ok").sum())
        return f"{'ok' if good == len(scored) else 'FAIL'} {good}/{len(scored)}"

    rows = judged["row"].drop_duplicates().tolist()
    families = judged["family"].drop_duplicates().tolist()
    out = judged.groupby(["row", "family"], sort=False).apply(cell, include_groups=False).unstack("family")
    return out.reindex(index=rows, columns=families)


# -- main ----------------------------------------------------------------------------------------------------------
def _size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    height, width = text.lower().split("x")
    return int(height), int(width)


def run_seed(args, seed: int | None, work: Path) -> pd.DataFrame:
    """Suite, ladders, scores and judgement of one seed (or of ``--suite``)."""
    started = time.perf_counter()
    if args.suite is not None:
        suite = Path(args.suite)
    else:
        suite = ensure_suite(
            work / "suite", seed=seed, preset=args.preset, clips=args.clips, frames=args.frames, size=_size(args.size)
        )
    pairs = ensure_ladders(suite, work / "ladder")
    built = time.perf_counter()
    table = score_ladders(pairs, args.metrics, args.jobs)
    ladders = {clip.name: json.loads((ladder / "ladder.json").read_text()) for clip, ladder in pairs}
    judged = judged_rows(table, ladders)
    judged.insert(0, "seed", seed)
    print(
        f"\n=== seed {seed}: {suite} ({len(pairs)} clips; suite+ladders {built - started:.0f} s, "
        f"scores {time.perf_counter() - built:.0f} s) ==="
    )
    rungs = [rung["name"] for rung in next(iter(ladders.values()))["rungs"]]
    print_rows(judged, rungs)
    return judged


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, action="append", help="suite seed (repeat for several; default 0)")
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--clips", type=int)
    parser.add_argument("--frames", type=int)
    parser.add_argument("--size", help="HxW, e.g. 192x336")
    parser.add_argument("--suite", help="ladder and score this existing suite folder instead of generating one")
    parser.add_argument("--metrics", default=",".join(DEFAULT_METRICS))
    parser.add_argument("--work", help="keep suites, ladders and scores here (reused by later runs)")
    parser.add_argument("--jobs", type=int, default=1, help="scoring processes")
    parser.add_argument("--json", help="write every judged row here")
    args = parser.parse_args(argv)
    args.metrics = tuple(name.strip() for name in args.metrics.split(",") if name.strip())
    seeds = [None] if args.suite is not None else (args.seed or [0])
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="physics-ladder-"))
    judged = pd.concat(
        [run_seed(args, seed, work / ("suite" if seed is None else f"seed_{seed}")) for seed in seeds],
        ignore_index=True,
    )
    table = summary(judged)
    print("\n=== clips ordered correctly, per row and family (all seeds) ===")
    print(table.to_string())
    if args.json:
        Path(args.json).write_text(judged.to_json(orient="records", indent=1))
    print(f"\nwork folder: {work}")
    return 0 if (judged["status"] != "FAIL").all() else 1


if __name__ == "__main__":
    sys.exit(main())
