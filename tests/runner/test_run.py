"""The runner: plan, cache keys, resume, force, bad clips, results tables and provenance."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.runner.conftest import FAST_METRICS
from void_eval.clip import Clip
from void_eval.errors import InputError
from void_eval.hashing import cache_key
from void_eval.methods.registry import get_method
from void_eval.runner.cache import CellStore, output_key_parts
from void_eval.runner.cell import RESULT_COLUMNS, RunOptions
from void_eval.runner.plan import discover_clips, make_plan, parse_method_specs
from void_eval.runner.results import MIN_CLIPS_FOR_CI, aggregate, bootstrap_mean_ci, read_aggregates, read_results
from void_eval.runner.run import run_benchmark


def _options(**changes) -> RunOptions:
    return RunOptions(metrics=FAST_METRICS, **changes)


def test_parse_specs_and_plan(clips_root, tmp_path_factory):
    specs = parse_method_specs(["copy,wide=telea", "flowprop"], ["wide.radius=7", "wide.dilation=2"])
    assert [(s.label, s.name, s.params) for s in specs] == [
        ("copy", "copy", {}),
        ("wide", "telea", {"radius": 7, "dilation": 2}),
        ("flowprop", "flowprop", {}),
    ]
    with pytest.raises(ValueError, match="given twice"):
        parse_method_specs("copy,copy")
    with pytest.raises(ValueError, match="not in the run"):
        parse_method_specs("copy", ["telea.radius=3"])
    with pytest.raises(ValueError, match=r"label\.key=value"):
        parse_method_specs("copy", ["radius=3"])
    root = clips_root(2)
    clips = discover_clips(root)
    assert [c.name for c in clips] == ["c0", "c1"]
    assert discover_clips(root / "c1") == [root / "c1"]
    with pytest.raises(InputError, match="holds no clip folders"):
        discover_clips(tmp_path_factory.mktemp("empty"))
    plan = make_plan(clips, specs)
    assert [(c.method.label, c.clip_name) for c in plan][:3] == [("copy", "c0"), ("copy", "c1"), ("wide", "c0")]


def test_cache_key_covers_what_determines_the_output(clips_root):
    clip = Clip.load(clips_root(1) / "c0")
    base = output_key_parts("telea", get_method("telea"), clip)
    assert {"method_class", "version", "params", "weights_sha256", "seed", "input_sha256", "mask_sha256"} <= set(base)
    assert base["input_sha256"] and list(base["mask_sha256"]) == ["quadmask_0.mp4"]
    assert cache_key(base) != cache_key(output_key_parts("telea", get_method("telea", radius=4), clip))
    assert cache_key(base) != cache_key({**base, "version": "999"})
    assert cache_key(base) != cache_key({**base, "weights_sha256": "ab" * 32})
    assert cache_key(base) != cache_key({**base, "seed": 1})
    assert cache_key(base) != cache_key(output_key_parts("other", get_method("telea"), clip))


def test_run_resume_force_and_tables(clips_root, tmp_path_factory):
    root = clips_root(2)
    specs = parse_method_specs("copy,oracle,telea")
    run_dir = tmp_path_factory.mktemp("run")
    first = run_benchmark(root, specs, run_dir, options=_options(), progress=False)
    assert first.ok and not any(c.output_cached for c in first.cells)
    results = read_results(run_dir)
    assert list(results.columns) == list(RESULT_COLUMNS)
    assert set(results["method"]) == {"copy", "oracle", "telea"} and set(results["clip"]) == {"c0", "c1"}
    psnr = results[(results.metric == "psnr") & (results.region == "remove")].set_index(["method", "clip"])["value"]
    assert psnr["oracle"].eq(np.inf).all() and (psnr["telea"] > psnr["copy"]).all()
    parquet_bytes = (run_dir / "results.parquet").read_bytes()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["toolkit"]["version"] and "commit" in record["toolkit"]
    assert record["libraries"]["numpy"] and record["device"] == "cpu"
    assert record["config"]["methods"][2] == {"label": "telea", "name": "telea", "params": {}}
    assert record["methods"]["telea"]["params"]["radius"] == 3
    assert record["metric_info"]["psnr"]["higher_is_better"] is True
    assert all(cell["run_s"] is not None and cell["output_sha256"] for cell in record["cells"])
    assert (run_dir / "run.log").read_text().count("ran ") == 6
    aggregates = read_aggregates(run_dir)
    assert set(aggregates.metric) == {"psnr", "cf_score", "flicker", "flicker_cf", "flicker_diff"}
    directions = dict(zip(aggregates.metric, aggregates.higher_is_better, strict=False))
    assert all(directions[name] for name in ("psnr", "cf_score", "flicker")) and not directions["flicker_diff"]
    assert record["metric_info"]["flicker_diff"]["temporal"] is True
    assert aggregates.higher_is_better.dtype == bool

    second = run_benchmark(root, specs, run_dir, options=_options(), progress=False)
    assert all(c.output_cached and c.scores_cached for c in second.cells)
    assert (run_dir / "results.parquet").read_bytes() == parquet_bytes

    forced = run_benchmark(root, specs, run_dir, options=_options(force=True), progress=False)
    assert not any(c.output_cached or c.scores_cached for c in forced.cells)
    pd.testing.assert_frame_equal(read_results(run_dir), results)

    # a damaged output is detected (sha256 recorded beside it) and recomputed
    store = CellStore(run_dir)
    store.output_path("telea", "c0").write_bytes(b"not a video")
    third = run_benchmark(root, specs, run_dir, options=_options(), progress=False)
    redone = {(c.method, c.clip) for c in third.cells if not c.output_cached}
    assert redone == {("telea", "c0")}
    pd.testing.assert_frame_equal(read_results(run_dir), results)


def test_bad_clip_and_failing_cell_are_reported_and_skipped(make_clip, tmp_path, tmp_path_factory, capsys):
    make_clip("good")
    make_clip("nogt", counterfactual=False)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "input_video.mp4").write_bytes(b"\x00garbage")
    run_dir = tmp_path_factory.mktemp("run")
    from void_eval.cli import main

    args = ["run", "--clips", str(tmp_path), "--methods", "copy,oracle", "--out", str(run_dir)]
    args += ["--metrics", ",".join(FAST_METRICS), "--quiet"]
    code = main(args)
    printed = capsys.readouterr()
    assert code == 3, printed
    assert "skipped clip" in printed.err and "broken" in printed.err
    assert "failed: oracle on nogt (run)" in printed.err
    record = json.loads((run_dir / "run.json").read_text())
    assert list(record["skipped_clips"]) == [str(broken)]
    results = read_results(run_dir)
    assert set(zip(results["method"], results["clip"], strict=True)) == {
        ("copy", "good"),
        ("copy", "nogt"),
        ("oracle", "good"),
    }
    nogt = results[(results["clip"] == "nogt") & (results["metric"] == "psnr")]
    assert len(nogt) == 5
    assert nogt["value"].isna().all() and nogt["note"].str.contains("no counterfactual").all()
    assert "Traceback" in (run_dir / "run.log").read_text()


def test_unknown_method_is_an_input_error(clips_root, tmp_path_factory):
    from void_eval.cli import main

    root = clips_root(1)
    code = main(["run", "--clips", str(root), "--methods", "tela", "--out", str(tmp_path_factory.mktemp("r"))])
    assert code == 1


def test_unknown_metric_is_refused_before_any_method_runs(clips_root, tmp_path_factory, capsys):
    from void_eval.cli import main

    root, out = clips_root(1), tmp_path_factory.mktemp("r") / "run"
    code = main(["run", "--clips", str(root), "--methods", "copy", "--metrics", "psnr,motion_iou", "--out", str(out)])
    assert code == 2 and "unknown metric 'motion_iou'" in capsys.readouterr().err and not out.exists()


def test_bootstrap_ci_matches_scipy():
    rng = np.random.default_rng(7)
    values = rng.gamma(2.0, 3.0, size=40)
    mean, low, high = bootstrap_mean_ci(values, n_boot=20000, seed=1)
    reference = stats.bootstrap(
        (values,), np.mean, n_resamples=20000, method="percentile", confidence_level=0.95, random_state=2
    ).confidence_interval
    assert mean == pytest.approx(values.mean())
    width = reference.high - reference.low
    assert low == pytest.approx(reference.low, abs=0.03 * width)
    assert high == pytest.approx(reference.high, abs=0.03 * width)


def test_aggregate_counts_nan_and_keeps_groups_independent():
    rows = pd.DataFrame(
        {
            "method": ["a", "a", "a", "b", "b", "b"],
            "clip": ["x", "y", "z"] * 2,
            "scenario": ["s"] * 6,
            "region": ["remove"] * 6,
            "metric": ["psnr"] * 6,
            "reference": ["counterfactual"] * 6,
            "value": [10.0, np.nan, 20.0, 1.0, 2.0, 3.0],
            "higher_is_better": [True] * 6,
            "note": ["", "empty region", "", "", "", ""],
        }
    )
    table = aggregate(rows, n_boot=500, seed=3, min_clips=1).set_index("method")
    assert table.loc["a", "mean"] == 15.0 and table.loc["a", "n_clips"] == 2 and table.loc["a", "n_nan"] == 1
    only_b = aggregate(rows[rows.method == "b"], n_boot=500, seed=3, min_clips=1).set_index("method")
    assert only_b.loc["b", "ci_low"] == table.loc["b", "ci_low"]
    # each group carries its rows' direction, for the report's arrows; rows that disagree are an error
    lower = rows.assign(metric="lpips", higher_is_better=False)
    assert list(aggregate(pd.concat([rows, lower]), n_boot=500).higher_is_better) == [False, True, False, True]
    with pytest.raises(ValueError, match="disagree on higher_is_better"):
        aggregate(rows.assign(higher_is_better=[True, False] * 3), n_boot=500)


def test_a_mean_over_too_few_clips_has_no_ci():
    values = np.arange(6.0)
    rows = pd.DataFrame(
        {
            "method": ["few"] * 4 + ["enough"] * 5,
            "clip": [f"c{i}" for i in range(4)] + [f"c{i}" for i in range(5)],
            "scenario": "s",
            "region": "remove",
            "metric": "psnr",
            "reference": "counterfactual",
            "value": [*values[:4], *values[:5]],
            "higher_is_better": True,
            "note": "",
        }
    )
    table = aggregate(rows, n_boot=500, seed=0).set_index("method")
    assert MIN_CLIPS_FOR_CI == 5
    assert table.loc["few", "mean"] == 1.5 and np.isnan(table.loc["few", ["ci_low", "ci_high"]].astype(float)).all()
    assert table.loc["enough", "ci_low"] < 2.0 < table.loc["enough", "ci_high"]


def _ping_pong(frames: np.ndarray, length: int) -> np.ndarray:
    """Upstream's temporal padding: the clip, then played backwards, forwards, ... until ``length`` frames."""
    out, backwards = list(frames), True
    while len(out) < length:
        out.extend((frames[::-1] if backwards else frames)[1:])
        backwards = not backwards
    return np.stack(out[:length])


def test_precomputed_outputs_through_the_runner(clips_root, tmp_path_factory):
    """Upstream VOID outputs (padded, other size) are aligned, recorded in run.json, and keyed by their sha256."""
    import cv2

    from void_eval.video import read_video, write_video

    root = clips_root(1, frames=8)
    frames = read_video(root / "c0" / "input_video.mp4")
    big = np.stack([cv2.resize(f, (128, 96), interpolation=cv2.INTER_NEAREST) for f in frames])
    outputs = tmp_path_factory.mktemp("void_outputs")
    write_video(outputs / "c0-fg=-1-0001.mp4", _ping_pong(big, 85), 12, kind="lossless")  # upstream pads 8 to 85
    specs = parse_method_specs("void=precomputed", [f"void.folder={outputs}"])
    run_dir = tmp_path_factory.mktemp("run")
    first = run_benchmark(root, specs, run_dir, options=_options(), progress=False)
    assert first.ok
    cell = json.loads((run_dir / "run.json").read_text())["cells"][0]
    assert cell["method_run"]["trimmed_frames"] == 77 and cell["method_run"]["resized_from"] == [96, 128]
    psnr = read_results(run_dir).query("metric == 'psnr' and region == 'keep'")["value"].iloc[0]
    assert psnr > 40  # the input, resized up and back down, is nearly the input
    again = run_benchmark(root, specs, run_dir, options=_options(), progress=False)
    assert again.cells[0].output_cached
    write_video(outputs / "c0-fg=-1-0001.mp4", _ping_pong(big[::-1], 85), 12, kind="lossless")
    changed = run_benchmark(root, specs, run_dir, options=_options(), progress=False)
    assert not changed.cells[0].output_cached  # new source file, new key


def test_report_command(clips_root, tmp_path_factory, capsys):
    from void_eval.cli import main

    run_dir = tmp_path_factory.mktemp("run")
    run_benchmark(clips_root(1), parse_method_specs("copy,telea"), run_dir, options=_options(), progress=False)
    assert main(["report", str(run_dir)]) == 0
    printed = capsys.readouterr().out
    assert "leaderboard" in printed and "telea" in printed and str(run_dir / "report" / "index.html") in printed
    assert main(["report", str(tmp_path_factory.mktemp("empty"))]) == 1


def test_two_clip_bench_prints_means_without_intervals_and_says_why(clips_root, tmp_path_factory, capsys):
    from void_eval.cli import main

    run_dir = tmp_path_factory.mktemp("bench")
    args = ["bench", "--clips", str(clips_root(2, frames=6)), "--methods", "copy,telea", "--out", str(run_dir)]
    assert main([*args, "--metrics", ",".join(FAST_METRICS), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "note: means over fewer than 5 clips have no CI" in printed and "copy 2, telea 2" in printed
    rows = [line for line in printed.splitlines() if line.startswith("│ copy") or line.startswith("│ telea")]
    assert len(rows) == 2 and not any("[" in row for row in rows)  # no "mean [low, high]" cell
    aggregates = pd.read_csv(run_dir / "aggregates.csv")
    assert aggregates["ci_low"].isna().all() and (aggregates["n_clips"] <= 2).all()
    assert json.loads((run_dir / "run.json").read_text())["seeds"]["bootstrap_min_clips"] == 5
