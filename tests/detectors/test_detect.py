"""Detection end to end on a real-footage telea fill: scores, heatmap video, strip, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from forensics.detectors.detect import detect_video
from forensics.detectors.fusion import load_model
from forensics.detectors.scoring import heatmap_frame, score_probabilities
from void_eval.cli import main
from void_eval.clip import Clip
from void_eval.methods.base import hole_masks
from void_eval.quadmask import Quadmask
from void_eval.video import probe, read_video, write_video


@pytest.fixture(scope="module")
def detection(telea_fill, tmp_path_factory):
    _, output = telea_fill
    return detect_video(output, out_dir=tmp_path_factory.mktemp("detect"), keep_blocks=True)


def test_heatmap_video_matches_block_probabilities(detection, telea_fill):
    _, output = telea_fill
    info, heat_info = probe(output), probe(detection.heatmap)
    assert (heat_info.frames, heat_info.height, heat_info.width) == (info.frames, info.height, info.width)
    heat = read_video(detection.heatmap)
    assert (heat[..., 0] == heat[..., 2]).all()  # grey, lossless
    model = load_model()
    block = model.extra["block"]
    for index in (0, info.frames - 1):
        expected = heatmap_frame(detection.block_probabilities[index], info.height, info.width, block)
        np.testing.assert_array_equal(heat[index, ..., 0], expected)
    scores = score_probabilities(detection.block_probabilities, model.extra["video_model"], model.extra["calibration"])
    assert detection.frame_scores == scores.frames and detection.video_score == scores.video  # calibrated
    assert detection.raw_video_score == scores.raw_video and detection.threshold == 0.5
    assert 0.0 <= detection.video_score <= 1.0 and all(0.0 <= score <= 1.0 for score in detection.frame_scores)
    assert detection.strip.is_file() and detection.strip.stat().st_size > 1000


def test_fill_scores_higher_inside_than_outside(detection, telea_fill):
    clip_path, _ = telea_fill
    clip = Clip.load(clip_path)
    hole = hole_masks(Quadmask.concatenate(list(clip.iter_masks(32))), dilation=4)
    heat = read_video(detection.heatmap)[..., 0].astype(np.float64)
    inside, outside = heat[hole].mean(), heat[~hole].mean()
    assert inside > outside + 20, (inside, outside)


def test_untouched_input_scores_lower_than_its_fill(detection, telea_fill):
    clip_path, _ = telea_fill
    plain = detect_video(clip_path / "input_video.mp4")
    assert plain.video_score < detection.video_score  # the shipped video model, as detect and check use it


def test_detect_cli_json_and_errors(telea_fill, tmp_path, capsys):
    _, output = telea_fill
    assert main(["detect", str(output), "--json", "--out", str(tmp_path)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload[0]["file"] == str(output)
    assert set(payload[0]) == {"file", "video_score", "frame_scores", "heatmap", "strip", "threshold"}
    assert payload[0]["heatmap"] == str(tmp_path / "telea_heatmap.mp4")
    assert (tmp_path / "telea_strip.png").is_file()
    assert main(["detect", str(tmp_path / "missing.mp4")]) == 1
    assert "error:" in capsys.readouterr().err


def test_heatmap_of_an_odd_sized_video_covers_every_pixel(tmp_path):
    frames = np.random.default_rng(3).integers(0, 256, (9, 67, 101, 3), dtype=np.uint8)  # partial edge blocks
    source = write_video(tmp_path / "odd.mp4", frames, 12.0, kind="lossless")
    detection = detect_video(source, out_dir=tmp_path / "out", keep_blocks=True)
    heat_info = probe(detection.heatmap)
    assert (heat_info.frames, heat_info.height, heat_info.width) == (9, 67, 101)
    heat = read_video(detection.heatmap)
    block = load_model().extra["block"]
    for index in (0, 8):
        expected = heatmap_frame(detection.block_probabilities[index], 67, 101, block)
        np.testing.assert_array_equal(heat[index, ..., 0], expected)
        np.testing.assert_array_equal(heat[index, ..., 1], expected)


def test_detect_names_two_outputs_of_one_name_by_their_folders(telea_fill, tmp_path, capsys):
    _, output = telea_fill
    videos = []
    for method in ("telea", "copy"):
        folder = tmp_path / "run" / "cells" / method / "clip"
        folder.mkdir(parents=True)
        videos.append(folder / "output.mp4")
        videos[-1].write_bytes(output.read_bytes())
    heatmaps = tmp_path / "heatmaps"
    assert main(["detect", *map(str, videos), "--out", str(heatmaps), "--json", "--quiet"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [Path(item["heatmap"]).name for item in payload] == [
        "telea_clip_output_heatmap.mp4",
        "copy_clip_output_heatmap.mp4",
    ]
    assert payload[0]["video_score"] == payload[1]["video_score"]  # the same bytes, the same score
    assert sorted(path.name for path in heatmaps.glob("*_strip.png")) == [
        "copy_clip_output_strip.png",
        "telea_clip_output_strip.png",
    ]


def test_trees_walking_beside_the_features_give_the_values_of_one_after_the_other(tmp_path):
    from forensics.detectors.detect import block_maps
    from forensics.detectors.features import BlockFeatureExtractor

    frames = np.random.default_rng(5).integers(0, 256, (5, 48, 80, 3), dtype=np.uint8)
    model = load_model()
    pipelined = list(block_maps(iter(frames), BlockFeatureExtractor(block=16), model))
    extractor, expected = BlockFeatureExtractor(block=16), []
    for frame in frames:
        features = extractor.update(frame).features
        expected.append(model.predict_proba(features.reshape(-1, features.shape[-1])).reshape(features.shape[:2]))
    assert all(np.array_equal(frame, original) for (frame, _), original in zip(pipelined, frames, strict=True))
    for (_, got), want in zip(pipelined, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    # Decoded in chunks of 2 (the last one partial), every frame still gets its heatmap frame.
    source = write_video(tmp_path / "five.mp4", frames, 12.0, kind="lossless")
    detection = detect_video(source, out_dir=tmp_path / "out", chunk_size=2, keep_blocks=True)
    assert probe(detection.heatmap).frames == 5 and len(detection.frame_scores) == 5
