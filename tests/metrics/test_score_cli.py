"""``void-eval score``: JSON document, NaN as null, mismatch errors without a traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.metrics._scenes import write_physics_clip
from void_eval.cli import main
from void_eval.video import read_video, write_video


@pytest.fixture(scope="module")
def clip_and_output(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    folder = write_physics_clip(root / "push", frames=6, height=48, width=64)
    output = root / "out.mp4"
    frames = read_video(folder / "counterfactual.mp4")
    write_video(output, np.concatenate([frames, frames[::-1][:3]]), 12, kind="lossless")
    return folder, output


def test_json_document(clip_and_output, capsys, monkeypatch) -> None:
    import void_eval.metrics.score as score

    folder, output = clip_and_output
    own = ("ewarp", "flicker", "cf_score", "motion_agreement", "traj_err", "shadow_residual", "seam")
    monkeypatch.setattr(score, "DEFAULT_METRICS", own)
    code = main(["score", str(folder), str(output), "--json", "--trim-to-input"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(document) == {"clip", "output", "rows", "meta"}
    assert document["clip"] == str(folder) and document["output"] == str(output)
    assert all(
        set(row) == {"region", "metric", "reference", "value", "higher_is_better", "note"} for row in document["rows"]
    )
    by_key = {(row["metric"], row["region"]): row for row in document["rows"]}
    assert by_key[("cf_score", "affected")]["value"] == 1.0
    assert document["meta"]["trimmed"]["to_frames"] == 6
    assert document["meta"]["preset"] == "default" and document["meta"]["device"] == "cpu"


def test_nan_is_printed_as_null() -> None:
    from void_eval.cli_options import json_safe as _json_safe

    assert _json_safe({"a": [float("nan"), float("inf"), np.float32(0.5)]}) == {"a": [None, "inf", 0.5]}


def test_length_mismatch_is_a_one_line_error(clip_and_output, capsys) -> None:
    folder, output = clip_and_output
    code = main(["score", str(folder), str(output), "--json"])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("error: ") and "--trim-to-input" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_bad_preset_device_or_metric_list_is_a_usage_error(clip_and_output, capsys) -> None:
    folder, output = clip_and_output
    assert main(["score", str(folder), str(output), "--preset", "classic"]) == 2
    assert main(["score", str(folder), str(output), "--device", "tpu"]) == 2
    assert main(["score", str(folder), str(output), "--metrics", " , "]) == 2
    err = capsys.readouterr().err
    assert "--preset" in err and "--device" in err and "names no metric" in err


def test_metrics_option_selects_metrics(clip_and_output, capsys) -> None:
    folder, output = clip_and_output
    args = ["score", str(folder), str(output), "--json", "--trim-to-input", "--metrics", "flicker, cf_score"]
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert {row["metric"] for row in document["rows"]} == {"flicker", "flicker_cf", "flicker_diff", "cf_score"}
    assert document["meta"]["metrics"] == ["flicker", "cf_score"]
    assert main(["score", str(folder), str(output), "--metrics", "flickr"]) == 2
    assert "did you mean 'flicker'" in capsys.readouterr().err


def test_table_output(clip_and_output, capsys, monkeypatch) -> None:
    import void_eval.metrics.score as score

    folder, output = clip_and_output
    monkeypatch.setattr(score, "DEFAULT_METRICS", ("flicker", "cf_score"))
    assert main(["score", str(folder), str(output), "--trim-to-input"]) == 0
    printed = capsys.readouterr().out
    assert "cf_score" in printed and "flicker" in printed and "trimmed 9 -> 6 frames" in printed
