"""Metrics on real suite clips (pybullet counterfactual renders): known answers for oracle and copy outputs, and
every metric of score_clip unchanged by the chunk size."""

from __future__ import annotations

import math

import pytest

from void_eval.metrics.score import score_clip

PHYSICS = ["cf_score", "motion_agreement", "traj_err", "shadow_residual"]


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    from void_eval.suite import make_suite

    root = tmp_path_factory.mktemp("suite")
    folders = make_suite(
        root / "tiny", preset="tiny", clips=2, frames=12, scenarios=["collision", "shadow"], progress=False, workers=1
    )
    return {folder.name.split("_", 1)[1]: folder for folder in folders}


def values(table):
    return {(row.metric, row.region): row.value for row in table.itertuples()}


@pytest.mark.parametrize("scenario", ["collision", "shadow"])
def test_counterfactual_scores_one_and_input_scores_zero(suite, scenario) -> None:
    folder = suite[scenario]
    oracle = values(score_clip(folder, folder / "counterfactual.mp4", metrics=PHYSICS))
    copy = values(score_clip(folder, folder / "input_video.mp4", metrics=PHYSICS))
    assert oracle[("cf_score", "affected")] == 1.0
    assert copy[("cf_score", "affected")] == 0.0
    assert oracle[("motion_agreement", "affected")] == 1.0
    assert copy[("motion_agreement", "affected")] == 0.0
    assert oracle[("shadow_residual", "affected")] == 0.0
    assert copy[("shadow_residual", "affected")] == pytest.approx(1.0)
    if scenario == "collision":  # the pushed ball ends elsewhere when the pusher is left in
        assert oracle[("traj_err", "affected")] < 0.5 and oracle[("traj_lost", "affected")] == 0.0
        assert copy[("traj_err", "affected")] > 2.0
    else:  # nothing is affected in a shadow clip
        assert math.isnan(oracle[("traj_err", "affected")])


def test_every_metric_is_independent_of_the_chunk_size(suite) -> None:
    folder = suite["collision"]
    output = folder / "input_video.mp4"
    whole = score_clip(folder, output, chunk_size=16)
    chunked = score_clip(folder, output, chunk_size=5)
    assert set(whole.metric) >= {"psnr", "ssim", "lpips", "ewarp", "flicker", "seam", *PHYSICS}
    assert list(whole.metric) == list(chunked.metric) and list(whole.region) == list(chunked.region)
    for row, other in zip(whole.itertuples(), chunked.itertuples(), strict=True):
        same = row.value == other.value or (math.isnan(row.value) and math.isnan(other.value))
        assert same, (row.metric, row.region, row.value, other.value)
    keep = whole[(whole.reference == "input") & (whole.region == "keep")]
    assert set(keep.metric) == {"psnr", "ssim"}
    assert keep.set_index("metric").value["psnr"] == math.inf  # the copy leaves the background untouched
