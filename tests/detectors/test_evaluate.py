"""detect-eval on tiny real-footage clips: the tables exist, agree with each other, and the CLI runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forensics.detectors.localisation import binary_auc
from void_eval.cli import main


@pytest.fixture(scope="module")
def evaluation(tiny_footage, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    code = main(
        [
            "detect-eval",
            "--clips",
            str(tiny_footage[0].parent),
            "--methods",
            "telea,patch",
            "--out",
            str(out),
            "--degradations",
            "lossless",
            "--test-share",
            "0.34",
        ]
    )
    assert code == 0
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
    # every clip here is cut from footage the shipped model was trained on: it must not be scored as unseen
    assert "shipped" not in set(frames["model"]) and "shipped" not in set(summary["model"])


def test_bad_arguments_fail_cleanly(tiny_footage, tmp_path, capsys):
    root = str(tiny_footage[0].parent)
    assert main(["detect-eval", "--clips", root, "--methods", "teleaa", "--out", str(tmp_path)]) == 1
    assert "teleaa" in capsys.readouterr().err
    assert main(["detect-eval", "--clips", str(tmp_path / "nope"), "--methods", "telea", "--out", str(tmp_path)]) == 1
    assert (
        main(["detect-eval", "--clips", root, "--methods", "telea", "--out", str(tmp_path), "--degradations", "x"]) == 1
    )
