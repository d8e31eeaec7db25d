"""detect-eval on tiny real-footage clips: the tables exist, agree with each other, and the CLI runs."""

from __future__ import annotations

import contextlib
import io
import json
import math

import numpy as np
import pandas as pd
import pytest

from forensics.detectors.cli import small_sample_notes
from forensics.detectors.localisation import binary_auc
from forensics.evaluate import MIN_CLIPS_FOR_AUC
from void_eval.cli import main


@pytest.fixture(scope="module")
def evaluation(tiny_footage, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            [
                "detect-eval",
                "--clips",
                ",".join(str(path) for path in tiny_footage),  # the clip folders themselves, comma-separated
                "--methods",
                "telea,patch",
                "--out",
                str(out),
                "--degradations",
                "lossless",
                "--test-share",
                "0.34",
                "--json",
                "--quiet",
            ]
        )
    assert code == 0
    (out / "printed.json").write_text(printed.getvalue())
    return out


def test_tables_are_consistent(evaluation):
    frames = pd.read_csv(evaluation / "frames.csv")
    videos = pd.read_csv(evaluation / "videos.csv")
    summary = pd.read_csv(evaluation / "summary.csv")
    logo = pd.read_csv(evaluation / "logo.csv")
    seen = summary[(summary["model"] == "seen") & (summary["degradation"] == "all")].set_index("generator")
    chosen = frames[(frames["model"] == "seen") & (frames["generator"] == "telea") & (frames["positives"] > 0)]
    assert seen.loc["telea", "frames"] == len(chosen)
    assert seen.loc["telea", "pixel_auc"] == pytest.approx(chosen["pixel_auc"].mean())
    seen_videos = videos[videos["model"] == "seen"]
    pair = seen_videos[seen_videos["generator"].isin(["telea", "untouched"])]
    expected = binary_auc(pair["video_score"].to_numpy(), pair["processed"].to_numpy(bool))
    assert seen.loc["telea", "video_auc"] == pytest.approx(expected) or math.isnan(expected)
    assert set(logo["held_out_generator"]) == {"telea", "patch"}
    assert set(frames["model"]) >= {"seen", "without-telea", "without-patch"}
    without = videos[videos["model"] == "without-patch"]
    assert set(without["generator"]) == {"untouched", "patch"}  # each left-out model scores only its generator
    assert set(videos["flagged"]) <= {True, False} and (videos["flagged"] == (videos["video_score"] >= 0.5)).all()
    assert np.isfinite(frames.loc[frames["positives"] > 0, "pixel_auc"]).all()
    assert (evaluation / "detection_summary.png").stat().st_size > 5000
    from matplotlib.image import imread

    height = imread(evaluation / "detection_summary.png").shape[0]
    assert height > 4 * 110 + 0.13 * 110  # the panels (4 in at 110 dpi) and the headline caption beneath them
    # every clip here is cut from footage the shipped model was trained on: it must not be scored as unseen
    assert "shipped" not in set(frames["model"]) and "shipped" not in set(summary["model"])
    run = json.loads((evaluation / "run.json").read_text())  # and run.json says why it is not there
    assert run["shipped_model"] is False
    assert "trained on the footage of every held-out clip" in run["shipped_model_note"]


def test_a_shipped_model_path_that_is_no_file_fails_before_any_work(tiny_footage, tmp_path):
    from forensics.evaluate import run_detect_eval
    from void_eval.errors import InputError

    with pytest.raises(InputError, match="no such model file"):
        run_detect_eval(tiny_footage, ("telea",), tmp_path / "out", shipped_model=tmp_path / "model.jsn")
    assert not (tmp_path / "out").exists()


def test_bad_arguments_fail_cleanly(tiny_footage, tmp_path, capsys):
    root = str(tiny_footage[0].parent)
    assert main(["detect-eval", "--clips", root, "--methods", "teleaa", "--out", str(tmp_path)]) == 1
    assert "teleaa" in capsys.readouterr().err
    assert main(["detect-eval", "--clips", str(tmp_path / "nope"), "--methods", "telea", "--out", str(tmp_path)]) == 1
    assert (
        main(["detect-eval", "--clips", root, "--methods", "telea", "--out", str(tmp_path), "--degradations", "x"]) == 1
    )


def test_every_auc_comes_with_its_counts_and_a_warning_when_too_few(evaluation):
    videos = pd.read_csv(evaluation / "videos.csv")
    summary = pd.read_csv(evaluation / "summary.csv")
    seen_videos = videos[videos["model"] == "seen"]
    row = summary[(summary["model"] == "seen") & (summary["degradation"] == "all") & (summary["generator"] == "telea")]
    row = row.iloc[0]
    assert row["processed_videos"] == (seen_videos["generator"] == "telea").sum()
    assert row["untouched_videos"] == (~seen_videos["processed"]).sum()
    assert row["clips"] == seen_videos["clip"].nunique() < MIN_CLIPS_FOR_AUC
    printed = json.loads((evaluation / "printed.json").read_text())  # --json: the one document on stdout
    assert {"clips", "processed_videos", "untouched_videos", "frames"} <= set(printed["summary"][0])
    assert printed["notes"] and "held-out clip(s) behind its AUCs" in printed["notes"][0]
    assert set(printed["files"]) >= {"summary", "plot", "headline"}
    # the headline: pooled over the left-out generators, each figure with its bootstrap interval over the clips
    headline = printed["headline"]
    assert headline == json.loads((evaluation / "headline.json").read_text())
    logo = pd.read_csv(evaluation / "logo.csv")
    assert headline["figures"]["video_auc"]["value"] == pytest.approx(logo["video_auc"].mean())
    weights = logo["frames"]
    pixel = (logo["pixel_auc"] * weights).sum() / weights.sum()
    assert headline["figures"]["pixel_auc"]["value"] == pytest.approx(pixel)
    assert headline["unit"] == "clip" and headline["units"] == seen_videos["clip"].nunique() < 5
    assert headline["note"] == "fewer than 5 clips: no intervals"  # too few held-out clips for any interval
    assert all(figure["interval"] is None for figure in headline["figures"].values())


def test_small_sample_notes_only_below_the_minimum():
    summary = pd.DataFrame(
        {"model": ["seen", "seen", "shipped"], "degradation": ["all", "crf18", "all"], "clips": [7, 1, 2]}
    )
    notes = small_sample_notes(summary)
    assert len(notes) == 1 and notes[0].startswith("shipped: only 2 held-out clip(s)")
